//! Delivery authentication: one trait, one implementation per scheme.
//!
//! Every comparison of a credential against a secret runs in constant time, and every configured
//! secret is tried (rotation): all of them for a forged credential, and for a genuine signature
//! until one matches (`key_order`). A failure carries the reason for the log line, never a secret.

pub mod hmac_hex;
pub mod key_order;
pub mod standard_webhooks;
pub mod token;

pub use hmac_hex::HexHmacSha512;
pub use standard_webhooks::{KeyEncoding, StandardWebhooks};
pub use token::{TokenScheme, TokenVerifier};

use crate::request::WebhookRequest;

/// Checks that a delivery really comes from the provider.
pub trait Verifier: Send + Sync {
    /// `now` is the current Unix time in seconds, for schemes with a replay window.
    fn verify(&self, request: &WebhookRequest, now: i64) -> Result<(), AuthFailure>;

    /// Adds the headers a sender attaches to `request.body` when its secret is `secret`. The one
    /// implementation of each scheme that the signing tool, the fixtures and the tests share.
    fn sign(&self, secret: &str, request: &mut WebhookRequest, now: i64) -> Result<(), SignError>;

    /// For each configured secret, in configuration order, how many bytes of it an attacker
    /// must guess: the shortest key it gives (a signing secret decoded as the scheme decodes
    /// it), less any part that is not secret (a Basic client id). Start-up refuses short ones.
    fn secret_strengths(&self) -> Vec<usize>;

    /// How far a signed timestamp may be from now, past or future, for schemes that sign one:
    /// dedup records must outlive this window, or a replay inside it would be handled again.
    fn replay_tolerance_seconds(&self) -> Option<i64> {
        None
    }
}

/// A credential that cannot travel in an HTTP header (control characters, say).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the {0} header cannot hold this value")]
pub struct SignError(pub String);

/// Sets one header, refusing values HTTP cannot carry.
pub fn set_header(
    request: &mut WebhookRequest,
    name: http::HeaderName,
    value: &str,
) -> Result<(), SignError> {
    let value =
        http::HeaderValue::from_str(value).map_err(|_| SignError(name.as_str().to_string()))?;
    request.headers.insert(name, value);
    Ok(())
}

/// Why a delivery was refused. Shown in logs only; the caller gets a terse 401.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    #[error("missing or repeated header {0}")]
    MissingHeader(String),
    #[error("header {0} is malformed")]
    MalformedHeader(String),
    #[error("credential matches none of the configured secrets")]
    NoMatch,
    #[error("timestamp {age_seconds} s old is outside the {tolerance_seconds} s tolerance")]
    TimestampTooOld {
        age_seconds: i64,
        tolerance_seconds: i64,
    },
    #[error(
        "timestamp {ahead_seconds} s in the future is outside the {tolerance_seconds} s tolerance"
    )]
    TimestampInFuture {
        ahead_seconds: i64,
        tolerance_seconds: i64,
    },
}
