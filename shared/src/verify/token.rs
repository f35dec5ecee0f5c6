//! Shared-token authentication: Baack's bearer tokens and Basic credentials, ClearID's header.

use super::{set_header, AuthFailure, SignError, Verifier};
use crate::request::WebhookRequest;
use crate::secrets::Secrets;
use base64::Engine;
use http::HeaderName;
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

/// How the token is carried in its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenScheme {
    /// `Authorization: Bearer <token>`.
    Bearer,
    /// `Authorization: Basic base64(<client id>:<secret>)`; configured secrets are `id:secret`.
    Basic,
    /// The header's whole value is the token.
    Raw,
}

/// Compares a token from one header with every configured secret.
///
/// Both sides are hashed first: SHA-256 digests have a fixed length, so neither the comparison
/// time nor an early length check tells an attacker how long a secret is.
pub struct TokenVerifier {
    header: HeaderName,
    scheme: TokenScheme,
    digests: Vec<[u8; 32]>,
    /// The bytes of each secret an attacker must guess (see [`Verifier::secret_strengths`]).
    strengths: Vec<usize>,
}

impl TokenVerifier {
    pub fn new(header: HeaderName, scheme: TokenScheme, secrets: &Secrets) -> Self {
        let digests = secrets
            .iter()
            .map(|s| digest(s.expose().as_bytes()))
            .collect();
        let strengths = secrets
            .iter()
            .map(|s| secret_part(scheme, s.expose()).len())
            .collect();
        Self {
            header,
            scheme,
            digests,
            strengths,
        }
    }

    fn credential(&self, value: &str) -> Result<Vec<u8>, AuthFailure> {
        let malformed = AuthFailure::MalformedHeader(self.header.to_string());
        match self.scheme {
            TokenScheme::Raw => Ok(value.trim().as_bytes().to_vec()),
            TokenScheme::Bearer => strip_scheme(value, "Bearer")
                .map(|token| token.as_bytes().to_vec())
                .ok_or(malformed),
            TokenScheme::Basic => strip_scheme(value, "Basic")
                .and_then(|encoded| {
                    base64::engine::general_purpose::STANDARD
                        .decode(encoded)
                        .ok()
                })
                .ok_or(malformed),
        }
    }
}

impl Verifier for TokenVerifier {
    fn verify(&self, request: &WebhookRequest, _now: i64) -> Result<(), AuthFailure> {
        let value = request
            .single_header(&self.header)
            .ok_or_else(|| AuthFailure::MissingHeader(self.header.to_string()))?;
        let presented = digest(&self.credential(value)?);
        // No early exit: every secret is compared whichever matches.
        let matched = self.digests.iter().fold(Choice::from(0), |acc, secret| {
            acc | secret.ct_eq(&presented)
        });
        if bool::from(matched) {
            Ok(())
        } else {
            Err(AuthFailure::NoMatch)
        }
    }

    fn sign(&self, secret: &str, request: &mut WebhookRequest, _now: i64) -> Result<(), SignError> {
        let value = match self.scheme {
            TokenScheme::Raw => secret.to_string(),
            TokenScheme::Bearer => format!("Bearer {secret}"),
            TokenScheme::Basic => format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(secret)
            ),
        };
        set_header(request, self.header.clone(), &value)
    }

    fn secret_strengths(&self) -> Vec<usize> {
        self.strengths.clone()
    }
}

/// The part of a configured secret that is secret. A Basic client id is an identifier that
/// appears in consoles and requests, so only what follows the first colon counts; a Basic
/// secret without a colon is all secret (and matches no well-formed credential anyway).
fn secret_part(scheme: TokenScheme, secret: &str) -> &str {
    match (scheme, secret.split_once(':')) {
        (TokenScheme::Basic, Some((_client_id, password))) => password,
        _ => secret,
    }
}

/// `"<Scheme> <rest>"` with a case-insensitive scheme, as RFC 9110 says.
fn strip_scheme<'a>(value: &'a str, scheme: &str) -> Option<&'a str> {
    let (given, rest) = value.trim().split_once(' ')?;
    let rest = rest.trim();
    (given.eq_ignore_ascii_case(scheme) && !rest.is_empty()).then_some(rest)
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, HeaderValue};

    fn request(header: &str, value: &str) -> WebhookRequest {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::HeaderName::from_bytes(header.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
        WebhookRequest::post(headers, "{}")
    }

    fn bearer() -> TokenVerifier {
        TokenVerifier::new(
            http::header::AUTHORIZATION,
            TokenScheme::Bearer,
            &Secrets::parse("old-token,new-token"),
        )
    }

    #[test]
    fn bearer_accepts_every_configured_token_and_any_scheme_case() {
        let v = bearer();
        assert_eq!(
            v.verify(&request("authorization", "Bearer old-token"), 0),
            Ok(())
        );
        assert_eq!(
            v.verify(&request("Authorization", "bearer new-token"), 0),
            Ok(())
        );
    }

    #[test]
    fn bearer_rejects_wrong_missing_and_malformed_tokens() {
        let v = bearer();
        assert_eq!(
            v.verify(&request("authorization", "Bearer new-token2"), 0),
            Err(AuthFailure::NoMatch)
        );
        assert_eq!(
            v.verify(&request("authorization", "new-token"), 0),
            Err(AuthFailure::MalformedHeader("authorization".into()))
        );
        assert_eq!(
            v.verify(&request("x-other", "Bearer new-token"), 0),
            Err(AuthFailure::MissingHeader("authorization".into()))
        );
    }

    #[test]
    fn repeated_header_is_refused() {
        let v = bearer();
        let mut req = request("authorization", "Bearer wrong");
        req.headers.append(
            "authorization",
            HeaderValue::from_static("Bearer new-token"),
        );
        assert_eq!(
            v.verify(&req, 0),
            Err(AuthFailure::MissingHeader("authorization".into()))
        );
    }

    #[test]
    fn basic_compares_client_id_and_secret() {
        let v = TokenVerifier::new(
            http::header::AUTHORIZATION,
            TokenScheme::Basic,
            &Secrets::parse("client-1:s3cret"),
        );
        // base64("client-1:s3cret")
        assert_eq!(
            v.verify(&request("authorization", "Basic Y2xpZW50LTE6czNjcmV0"), 0),
            Ok(())
        );
        // base64("client-1:wrong")
        assert_eq!(
            v.verify(&request("authorization", "Basic Y2xpZW50LTE6d3Jvbmc="), 0),
            Err(AuthFailure::NoMatch)
        );
        assert_eq!(
            v.verify(&request("authorization", "Basic !!!"), 0),
            Err(AuthFailure::MalformedHeader("authorization".into()))
        );
    }

    #[test]
    fn signed_requests_verify_in_every_scheme() {
        let secrets = Secrets::parse("client-1:s3cret");
        for scheme in [TokenScheme::Bearer, TokenScheme::Basic, TokenScheme::Raw] {
            let v = TokenVerifier::new(http::header::AUTHORIZATION, scheme, &secrets);
            let mut req = WebhookRequest::post(HeaderMap::new(), "{}");
            v.sign("client-1:s3cret", &mut req, 0).unwrap();
            assert_eq!(v.verify(&req, 0), Ok(()), "{scheme:?}");
        }
        let mut req = WebhookRequest::post(HeaderMap::new(), "{}");
        assert!(bearer().sign("line\nbreak", &mut req, 0).is_err());
    }

    #[test]
    fn strengths_count_only_the_secret_part() {
        let secrets = Secrets::parse("client-1:s3cret,no-colon,a-client:");
        let strength = |scheme| {
            TokenVerifier::new(http::header::AUTHORIZATION, scheme, &secrets).secret_strengths()
        };
        assert_eq!(strength(TokenScheme::Basic), [6, 8, 0]);
        assert_eq!(strength(TokenScheme::Bearer), [15, 8, 9]);
        assert_eq!(strength(TokenScheme::Raw), [15, 8, 9]);
        assert_eq!(bearer().replay_tolerance_seconds(), None);
    }

    #[test]
    fn raw_header_token() {
        let v = TokenVerifier::new(
            HeaderName::from_static("x-webhook-token"),
            TokenScheme::Raw,
            &Secrets::parse("abc"),
        );
        assert_eq!(v.verify(&request("X-Webhook-Token", "abc"), 0), Ok(()));
        assert_eq!(
            v.verify(&request("X-Webhook-Token", "abd"), 0),
            Err(AuthFailure::NoMatch)
        );
    }
}
