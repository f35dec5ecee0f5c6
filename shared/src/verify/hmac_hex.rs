//! Argyle: `X-Argyle-Signature` is the hex HMAC-SHA512 of the raw body.

use super::{key_order::KeyOrder, set_header, AuthFailure, SignError, Verifier};
use crate::request::WebhookRequest;
use crate::secrets::Secrets;
use hmac::{Hmac, Mac};
use sha2::Sha512;

type HmacSha512 = Hmac<Sha512>;

pub const ARGYLE_SIGNATURE_HEADER: &str = "x-argyle-signature";
/// Parsed once: a lookup by `&str` parses and hashes the name on every delivery.
const SIGNATURE: http::HeaderName = http::HeaderName::from_static(ARGYLE_SIGNATURE_HEADER);

pub struct HexHmacSha512 {
    secrets: Secrets,
    order: KeyOrder,
}

impl HexHmacSha512 {
    pub fn new(secrets: Secrets) -> Self {
        Self {
            secrets,
            order: KeyOrder::default(),
        }
    }

    /// The signature a sender computes for `body` with `secret` (lowercase hex).
    pub fn signature(secret: &str, body: &[u8]) -> String {
        hex::encode(mac(secret, body).finalize().into_bytes())
    }
}

fn mac(secret: &str, body: &[u8]) -> HmacSha512 {
    let mut mac = HmacSha512::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    mac
}

impl Verifier for HexHmacSha512 {
    fn verify(&self, request: &WebhookRequest, _now: i64) -> Result<(), AuthFailure> {
        let header = request
            .single_header(&SIGNATURE)
            .ok_or_else(|| AuthFailure::MissingHeader(ARGYLE_SIGNATURE_HEADER.into()))?;
        // hex::decode accepts both cases: senders' libraries differ in the case they print.
        let presented = hex::decode(header.trim())
            .map_err(|_| AuthFailure::MalformedHeader(ARGYLE_SIGNATURE_HEADER.into()))?;
        // verify_slice compares in constant time.
        let secrets = self.secrets.as_slice();
        let matched = self.order.find(secrets.len(), |index| {
            mac(secrets[index].expose(), &request.body)
                .verify_slice(&presented)
                .is_ok()
        });
        if matched {
            Ok(())
        } else {
            Err(AuthFailure::NoMatch)
        }
    }

    fn sign(&self, secret: &str, request: &mut WebhookRequest, _now: i64) -> Result<(), SignError> {
        let signature = Self::signature(secret, &request.body);
        set_header(
            request,
            http::HeaderName::from_static(ARGYLE_SIGNATURE_HEADER),
            &signature,
        )
    }

    /// The HMAC key is the secret's UTF-8 bytes, all of them.
    fn secret_strengths(&self) -> Vec<usize> {
        self.secrets.iter().map(|s| s.expose().len()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, HeaderValue};

    const BODY: &[u8] = br#"{"event":"identities.added"}"#;
    // Computed independently: python3 -c "import hmac,hashlib; print(hmac.new(b'argyle-secret',
    //   b'{\"event\":\"identities.added\"}', hashlib.sha512).hexdigest())"
    const EXPECTED: &str = "8118f06d2c98dc097f45a46d55b8521f75761718d499c3af5ef657d793bab6a6\
                            267ba87f8f3ad9d137f88a2bf0d710b6e2b36237776384187d7cfc7ec43f82b2";

    fn signed(signature: &str, body: &[u8]) -> WebhookRequest {
        let mut headers = HeaderMap::new();
        headers.insert(
            ARGYLE_SIGNATURE_HEADER,
            HeaderValue::from_str(signature).unwrap(),
        );
        WebhookRequest::post(headers, body)
    }

    #[test]
    fn sign_matches_an_independent_implementation() {
        assert_eq!(HexHmacSha512::signature("argyle-secret", BODY), EXPECTED);
        let v = HexHmacSha512::new(Secrets::parse("argyle-secret"));
        let mut req = WebhookRequest::post(HeaderMap::new(), BODY);
        v.sign("argyle-secret", &mut req, 0).unwrap();
        assert_eq!(req.single_header(ARGYLE_SIGNATURE_HEADER), Some(EXPECTED));
    }

    #[test]
    fn accepts_either_case_and_a_rotated_secret() {
        let v = HexHmacSha512::new(Secrets::parse("older,argyle-secret"));
        assert_eq!(v.verify(&signed(EXPECTED, BODY), 0), Ok(()));
        assert_eq!(v.verify(&signed(&EXPECTED.to_uppercase(), BODY), 0), Ok(()));
    }

    #[test]
    fn strengths_are_the_key_lengths() {
        let v = HexHmacSha512::new(Secrets::parse("argyle-secret, s ,é"));
        assert_eq!(v.secret_strengths(), [13, 1, 2]);
        assert_eq!(v.replay_tolerance_seconds(), None);
    }

    #[test]
    fn rejects_tampered_body_wrong_secret_and_garbage() {
        let v = HexHmacSha512::new(Secrets::parse("argyle-secret"));
        assert_eq!(
            v.verify(&signed(EXPECTED, br#"{"event":"identities.updated"}"#), 0),
            Err(AuthFailure::NoMatch)
        );
        let other = HexHmacSha512::new(Secrets::parse("another"));
        assert_eq!(
            other.verify(&signed(EXPECTED, BODY), 0),
            Err(AuthFailure::NoMatch)
        );
        assert_eq!(
            v.verify(&signed("not-hex", BODY), 0),
            Err(AuthFailure::MalformedHeader(ARGYLE_SIGNATURE_HEADER.into()))
        );
        assert_eq!(
            v.verify(&signed(&EXPECTED[..64], BODY), 0),
            Err(AuthFailure::NoMatch)
        );
        assert_eq!(
            v.verify(&WebhookRequest::post(HeaderMap::new(), BODY), 0),
            Err(AuthFailure::MissingHeader(ARGYLE_SIGNATURE_HEADER.into()))
        );
    }
}
