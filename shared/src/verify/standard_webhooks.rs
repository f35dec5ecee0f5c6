//! Midbound: Standard Webhooks (v1.0.0) symmetric signatures.
//!
//! `webhook-signature` holds space-separated `v1,<base64 HMAC-SHA256>` entries over
//! `{webhook-id}.{webhook-timestamp}.{raw body}`; any entry that matches any key is enough.
//! The timestamp is signed as the header's text, never as a re-formatted number: the signature
//! covers exactly the bytes received, so no second spelling of one time (`+1700000000`,
//! `01700000000`) can verify with another spelling's signature.

use super::{key_order::KeyOrder, set_header, AuthFailure, SignError, Verifier};
use crate::request::WebhookRequest;
use crate::secrets::Secrets;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use http::HeaderName;
use sha2::Sha256;
use subtle::{Choice, ConstantTimeEq};

type HmacSha256 = Hmac<Sha256>;

pub const ID_HEADER: &str = "webhook-id";
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
pub const SIGNATURE_HEADER: &str = "webhook-signature";

// The same names parsed once, for the lookups of every delivery: a lookup by `&str` parses
// and hashes the name each time (four such lookups were 0.4 µs of a Midbound delivery).
pub(crate) const ID: HeaderName = HeaderName::from_static(ID_HEADER);
const TIMESTAMP: HeaderName = HeaderName::from_static(TIMESTAMP_HEADER);
const SIGNATURE: HeaderName = HeaderName::from_static(SIGNATURE_HEADER);

const SECRET_PREFIX: &str = "whsec_";

/// How a configured secret turns into HMAC key bytes.
///
/// The spec base64-decodes what follows `whsec_`; Midbound's own Node example uses those
/// characters as raw UTF-8 instead. Which one Midbound signs with is unconfirmed, so `Auto`
/// (the default) accepts a signature made with either key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyEncoding {
    Spec,
    Raw,
    Auto,
}

impl std::str::FromStr for KeyEncoding {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "spec" => Ok(Self::Spec),
            "raw" => Ok(Self::Raw),
            "auto" => Ok(Self::Auto),
            other => Err(format!(
                "unknown key encoding {other:?}: use spec, raw or auto"
            )),
        }
    }
}

/// Why configured secrets cannot be used; names the secret by position, never by value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("secret #{position} is not valid base64 after the whsec_ prefix (key encoding spec)")]
pub struct InvalidSecret {
    pub position: usize,
}

pub struct StandardWebhooks {
    /// In `Auto` mode each secret gives two keys: its spec reading first, then its raw one.
    keys: Vec<Vec<u8>>,
    /// Per secret, the length of the shortest key it gives (both readings count in `Auto`).
    strengths: Vec<usize>,
    order: KeyOrder,
    encoding: KeyEncoding,
    tolerance_seconds: i64,
}

impl StandardWebhooks {
    pub fn new(
        secrets: &Secrets,
        encoding: KeyEncoding,
        tolerance_seconds: i64,
    ) -> Result<Self, InvalidSecret> {
        let mut keys = Vec::new();
        let mut strengths = Vec::new();
        for (index, secret) in secrets.iter().enumerate() {
            let text = secret.expose();
            let text = text.strip_prefix(SECRET_PREFIX).unwrap_or(text);
            let decoded = STANDARD.decode(text).ok();
            let first = keys.len();
            match (encoding, decoded) {
                (KeyEncoding::Spec, None) => {
                    return Err(InvalidSecret {
                        position: index + 1,
                    })
                }
                (KeyEncoding::Spec, Some(key)) => keys.push(key),
                (KeyEncoding::Raw, _) => keys.push(text.as_bytes().to_vec()),
                (KeyEncoding::Auto, decoded) => {
                    keys.extend(decoded);
                    keys.push(text.as_bytes().to_vec());
                }
            }
            // A forger needs only one of the keys a secret gives: the shortest one is its
            // strength (in Auto, the decoded key when the text happens to be base64).
            strengths.push(keys[first..].iter().map(Vec::len).min().unwrap_or(0));
        }
        Ok(Self {
            keys,
            strengths,
            order: KeyOrder::default(),
            encoding,
            tolerance_seconds,
        })
    }

    /// The `v1,<base64>` signature a sender puts in `webhook-signature`, for a timestamp sent
    /// in its usual decimal form.
    pub fn signature(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
        Self::signature_of_text(key, id, &timestamp.to_string(), body)
    }

    /// The signature for a `webhook-timestamp` header of exactly `timestamp` (tests of odd forms).
    pub fn signature_of_text(key: &[u8], id: &str, timestamp: &str, body: &[u8]) -> String {
        format!("v1,{}", STANDARD.encode(tag(key, id, timestamp, body)))
    }

    /// The key bytes the spec derives from a `whsec_` secret (for signing tools and tests).
    pub fn spec_key(secret: &str) -> Option<Vec<u8>> {
        STANDARD
            .decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret))
            .ok()
    }

    fn check_timestamp(&self, timestamp: i64, now: i64) -> Result<(), AuthFailure> {
        let age = now.saturating_sub(timestamp);
        if age > self.tolerance_seconds {
            return Err(AuthFailure::TimestampTooOld {
                age_seconds: age,
                tolerance_seconds: self.tolerance_seconds,
            });
        }
        let ahead = age.saturating_neg();
        if ahead > self.tolerance_seconds {
            return Err(AuthFailure::TimestampInFuture {
                ahead_seconds: ahead,
                tolerance_seconds: self.tolerance_seconds,
            });
        }
        Ok(())
    }
}

/// `timestamp` is the header's text as sent (less surrounding whitespace), not a number.
fn tag(key: &[u8], id: &str, timestamp: &str, body: &[u8]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().into()
}

/// The `webhook-timestamp` header: its text and the Unix seconds it says. Only ASCII digits
/// are accepted (the spec's "integer seconds"; every reference library sends plain digits):
/// no sign, no fraction, no exponent, no inner spaces. Leading zeros are digits, so they are
/// accepted, and signed as sent. The surrounding spaces and tabs are optional whitespace in
/// HTTP (RFC 9110, 5.5), not part of the value, so they are neither checked nor signed.
fn timestamp(request: &WebhookRequest) -> Result<(&str, i64), AuthFailure> {
    let malformed = || AuthFailure::MalformedHeader(TIMESTAMP_HEADER.into());
    let text = required(request, &TIMESTAMP)?.trim_matches([' ', '\t']);
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed());
    }
    // Digits only, so this fails only on overflow.
    let seconds = text.parse().map_err(|_| malformed())?;
    Ok((text, seconds))
}

fn required<'a>(request: &'a WebhookRequest, name: &HeaderName) -> Result<&'a str, AuthFailure> {
    request
        .single_header(name)
        .ok_or_else(|| AuthFailure::MissingHeader(name.as_str().into()))
}

impl Verifier for StandardWebhooks {
    fn verify(&self, request: &WebhookRequest, now: i64) -> Result<(), AuthFailure> {
        let id = required(request, &ID)?;
        let (timestamp_text, timestamp) = timestamp(request)?;
        let signatures = required(request, &SIGNATURE)?;
        self.check_timestamp(timestamp, now)?;

        // Entries with another version tag (v1a: asymmetric) or undecodable base64 are skipped,
        // not fatal: a sender may list signatures we cannot check beside one we can.
        let presented: Vec<Vec<u8>> = signatures
            .split_ascii_whitespace()
            .filter_map(|entry| entry.strip_prefix("v1,"))
            .filter_map(|b64| STANDARD.decode(b64).ok())
            .collect();
        if presented.is_empty() {
            return Err(AuthFailure::NoMatch);
        }
        let matched = self.order.find(self.keys.len(), |index| {
            let expected = tag(&self.keys[index], id, timestamp_text, &request.body);
            let any = presented.iter().fold(Choice::from(0), |acc, signature| {
                acc | expected.as_slice().ct_eq(signature)
            });
            bool::from(any)
        });
        if matched {
            Ok(())
        } else {
            Err(AuthFailure::NoMatch)
        }
    }

    /// Signs with the spec key (or the raw one in `Raw` mode, or when the secret is not base64).
    /// Keeps a `webhook-id` already on the request; otherwise derives one from the body.
    fn sign(&self, secret: &str, request: &mut WebhookRequest, now: i64) -> Result<(), SignError> {
        let text = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
        let key = match self.encoding {
            KeyEncoding::Raw => text.as_bytes().to_vec(),
            KeyEncoding::Spec | KeyEncoding::Auto => STANDARD
                .decode(text)
                .unwrap_or_else(|_| text.as_bytes().to_vec()),
        };
        let id = match request.single_header(ID_HEADER) {
            Some(id) => id.to_string(),
            None => format!("msg_{}", &crate::digest::sha256_hex(&request.body)[..24]),
        };
        // One text for the header and the signature: what is sent is what is signed.
        let timestamp = now.to_string();
        let signature = Self::signature_of_text(&key, &id, &timestamp, &request.body);
        set_header(request, HeaderName::from_static(ID_HEADER), &id)?;
        set_header(
            request,
            HeaderName::from_static(TIMESTAMP_HEADER),
            &timestamp,
        )?;
        set_header(
            request,
            HeaderName::from_static(SIGNATURE_HEADER),
            &signature,
        )
    }

    fn secret_strengths(&self) -> Vec<usize> {
        self.strengths.clone()
    }

    fn replay_tolerance_seconds(&self) -> Option<i64> {
        Some(self.tolerance_seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, HeaderValue};

    struct Vector {
        secret: &'static str,
        id: &'static str,
        timestamp: i64,
        body: &'static str,
        signature: &'static str,
    }

    /// From the Standard Webhooks reference libraries' tests (Rust and Go).
    const OFFICIAL: [Vector; 2] = [
        Vector {
            secret: "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            id: "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            timestamp: 1649367553,
            body: r#"{"email":"test@example.com","username":"test_user"}"#,
            signature: "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=",
        },
        Vector {
            secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
            timestamp: 1614265330,
            body: r#"{"test": 2432232314}"#,
            signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        },
    ];
    /// The Python library's negative vector: vector 2 with its last signature byte changed.
    const NEGATIVE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=";
    /// Vector 1 signed with the raw-string key (`whsec_` stripped, rest used as UTF-8).
    const RAW_KEY_SIGNATURE: &str = "v1,h4qX9FKaAseJeepyR4bu2aQDOFPAVQpYe6yuWRsWhwE=";

    fn request(id: &str, timestamp: &str, signature: &str, body: &str) -> WebhookRequest {
        let mut headers = HeaderMap::new();
        headers.insert(ID_HEADER, HeaderValue::from_str(id).unwrap());
        headers.insert(TIMESTAMP_HEADER, HeaderValue::from_str(timestamp).unwrap());
        headers.insert(SIGNATURE_HEADER, HeaderValue::from_str(signature).unwrap());
        WebhookRequest::post(headers, body)
    }

    fn of(v: &Vector, signature: &str) -> WebhookRequest {
        request(v.id, &v.timestamp.to_string(), signature, v.body)
    }

    fn verifier(secret: &str, encoding: KeyEncoding) -> StandardWebhooks {
        StandardWebhooks::new(&Secrets::parse(secret), encoding, 300).unwrap()
    }

    #[test]
    fn official_vectors_verify_and_sign() {
        for v in &OFFICIAL {
            let key = StandardWebhooks::spec_key(v.secret).unwrap();
            assert_eq!(
                StandardWebhooks::signature(&key, v.id, v.timestamp, v.body.as_bytes()),
                v.signature
            );
            for encoding in [KeyEncoding::Spec, KeyEncoding::Auto] {
                assert_eq!(
                    verifier(v.secret, encoding).verify(&of(v, v.signature), v.timestamp),
                    Ok(()),
                    "{} with {encoding:?}",
                    v.id
                );
            }
        }
    }

    #[test]
    fn signed_requests_verify_with_each_encoding() {
        let secret = OFFICIAL[0].secret;
        for encoding in [KeyEncoding::Spec, KeyEncoding::Raw, KeyEncoding::Auto] {
            let v = verifier(secret, encoding);
            let mut req = WebhookRequest::post(HeaderMap::new(), OFFICIAL[0].body);
            v.sign(secret, &mut req, 1_700_000_000).unwrap();
            assert!(req.single_header(ID_HEADER).unwrap().starts_with("msg_"));
            assert_eq!(v.verify(&req, 1_700_000_000), Ok(()), "{encoding:?}");
        }
        // An id already on the request is kept: the official vector comes out exactly.
        let v = verifier(secret, KeyEncoding::Spec);
        let mut req = of(&OFFICIAL[0], "placeholder");
        v.sign(secret, &mut req, OFFICIAL[0].timestamp).unwrap();
        assert_eq!(
            req.single_header(SIGNATURE_HEADER),
            Some(OFFICIAL[0].signature)
        );
    }

    #[test]
    fn official_negative_vector_fails() {
        let v = &OFFICIAL[1];
        assert_eq!(
            verifier(v.secret, KeyEncoding::Auto).verify(&of(v, NEGATIVE), v.timestamp),
            Err(AuthFailure::NoMatch)
        );
    }

    #[test]
    fn raw_string_key_is_accepted_in_raw_and_auto_modes_only() {
        let v = &OFFICIAL[0];
        let req = of(v, RAW_KEY_SIGNATURE);
        assert_eq!(
            verifier(v.secret, KeyEncoding::Raw).verify(&req, v.timestamp),
            Ok(())
        );
        assert_eq!(
            verifier(v.secret, KeyEncoding::Auto).verify(&req, v.timestamp),
            Ok(())
        );
        assert_eq!(
            verifier(v.secret, KeyEncoding::Spec).verify(&req, v.timestamp),
            Err(AuthFailure::NoMatch)
        );
        assert_eq!(
            verifier(v.secret, KeyEncoding::Raw).verify(&of(v, v.signature), v.timestamp),
            Err(AuthFailure::NoMatch)
        );
    }

    #[test]
    fn valid_signature_among_others_passes_only_when_present() {
        let v = &OFFICIAL[0];
        let verifier = verifier(v.secret, KeyEncoding::Spec);
        let others =
            "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,abc v1a,xyz v1,!!notbase64";
        let with_valid = format!("{others} {}", v.signature);
        assert_eq!(verifier.verify(&of(v, &with_valid), v.timestamp), Ok(()));
        assert_eq!(
            verifier.verify(&of(v, others), v.timestamp),
            Err(AuthFailure::NoMatch)
        );
    }

    #[test]
    fn rotated_secrets_are_all_tried() {
        let v = &OFFICIAL[1];
        let secrets = format!("whsec_{},{}", STANDARD.encode([7u8; 32]), v.secret);
        assert_eq!(
            verifier(&secrets, KeyEncoding::Spec).verify(&of(v, v.signature), v.timestamp),
            Ok(())
        );
    }

    #[test]
    fn tampered_body_or_id_fails() {
        let v = &OFFICIAL[0];
        let verifier = verifier(v.secret, KeyEncoding::Auto);
        let tampered = request(
            v.id,
            &v.timestamp.to_string(),
            v.signature,
            r#"{"email":"x"}"#,
        );
        assert_eq!(
            verifier.verify(&tampered, v.timestamp),
            Err(AuthFailure::NoMatch)
        );
        let other_id = request("msg_other", &v.timestamp.to_string(), v.signature, v.body);
        assert_eq!(
            verifier.verify(&other_id, v.timestamp),
            Err(AuthFailure::NoMatch)
        );
    }

    #[test]
    fn timestamp_window_is_checked_both_ways() {
        let v = &OFFICIAL[0];
        let verifier = verifier(v.secret, KeyEncoding::Spec);
        let req = of(v, v.signature);
        assert_eq!(verifier.verify(&req, v.timestamp + 300), Ok(()));
        assert_eq!(verifier.verify(&req, v.timestamp - 300), Ok(()));
        assert_eq!(
            verifier.verify(&req, v.timestamp + 301),
            Err(AuthFailure::TimestampTooOld {
                age_seconds: 301,
                tolerance_seconds: 300
            })
        );
        assert_eq!(
            verifier.verify(&req, v.timestamp - 301),
            Err(AuthFailure::TimestampInFuture {
                ahead_seconds: 301,
                tolerance_seconds: 300
            })
        );
    }

    #[test]
    fn malformed_or_missing_headers() {
        let v = &OFFICIAL[0];
        let verifier = verifier(v.secret, KeyEncoding::Spec);
        assert_eq!(
            verifier.verify(&request(v.id, "soon", v.signature, v.body), v.timestamp),
            Err(AuthFailure::MalformedHeader(TIMESTAMP_HEADER.into()))
        );
        assert_eq!(
            verifier.verify(
                &request(v.id, "99999999999999999999999", v.signature, v.body),
                v.timestamp
            ),
            Err(AuthFailure::MalformedHeader(TIMESTAMP_HEADER.into()))
        );
        let mut req = of(v, v.signature);
        req.headers.remove(ID_HEADER);
        assert_eq!(
            verifier.verify(&req, v.timestamp),
            Err(AuthFailure::MissingHeader(ID_HEADER.into()))
        );
    }

    #[test]
    fn the_timestamp_is_signed_as_sent() {
        let v = &OFFICIAL[0];
        let key = StandardWebhooks::spec_key(v.secret).unwrap();
        let verifier = verifier(v.secret, KeyEncoding::Spec);
        let canonical = v.timestamp.to_string();
        // Optional whitespace around the value is not part of it (RFC 9110).
        for text in [format!(" {canonical}"), format!("{canonical}\t ")] {
            assert_eq!(
                verifier.verify(&request(v.id, &text, v.signature, v.body), v.timestamp),
                Ok(()),
                "{text:?}"
            );
        }
        // Leading zeros are digits: they verify only against a signature over that very text,
        // never against the official signature of the same number written without them.
        let zeros = format!("0{canonical}");
        assert_eq!(
            verifier.verify(&request(v.id, &zeros, v.signature, v.body), v.timestamp),
            Err(AuthFailure::NoMatch)
        );
        let own = StandardWebhooks::signature_of_text(&key, v.id, &zeros, v.body.as_bytes());
        assert_ne!(own, v.signature);
        assert_eq!(
            verifier.verify(&request(v.id, &zeros, &own, v.body), v.timestamp),
            Ok(())
        );
        // Anything but digits is refused before any key is tried, even when its signature is
        // computed over exactly that text.
        for text in [
            format!("+{canonical}"),
            format!("-{canonical}"),
            format!("{canonical}.0"),
            format!("{canonical}e0"),
            "1649 367553".to_string(),
            "0x6250ab01".to_string(),
            String::new(),
            " ".to_string(),
        ] {
            let signed = StandardWebhooks::signature_of_text(&key, v.id, &text, v.body.as_bytes());
            let mut req = request(v.id, "0", &signed, v.body);
            req.headers.insert(
                TIMESTAMP_HEADER,
                HeaderValue::from_bytes(text.as_bytes()).unwrap(),
            );
            assert_eq!(
                verifier.verify(&req, v.timestamp),
                Err(AuthFailure::MalformedHeader(TIMESTAMP_HEADER.into())),
                "{text:?}"
            );
        }
    }

    #[test]
    fn strengths_are_the_shortest_key_of_each_secret() {
        let strengths = |secrets: &str, encoding| {
            StandardWebhooks::new(&Secrets::parse(secrets), encoding, 300)
                .unwrap()
                .secret_strengths()
        };
        // 32 base64 characters decode to 24 bytes; "whsec_" alone gives an empty key.
        let secrets = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw,whsec_";
        assert_eq!(strengths(secrets, KeyEncoding::Spec), [24, 0]);
        assert_eq!(strengths(secrets, KeyEncoding::Raw), [32, 0]);
        assert_eq!(strengths(secrets, KeyEncoding::Auto), [24, 0]);
        // In Auto a text that is not base64 gives its raw key only.
        assert_eq!(
            strengths("whsec_not base64 but long", KeyEncoding::Auto),
            [19]
        );
        assert_eq!(
            verifier(OFFICIAL[0].secret, KeyEncoding::Auto).replay_tolerance_seconds(),
            Some(300)
        );
    }

    #[test]
    fn spec_encoding_refuses_a_secret_that_is_not_base64() {
        let result = StandardWebhooks::new(
            &Secrets::parse("whsec_b2s=,not base64!"),
            KeyEncoding::Spec,
            300,
        );
        assert_eq!(result.err(), Some(InvalidSecret { position: 2 }));
    }
}
