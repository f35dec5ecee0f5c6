//! Why a delivery was refused before it could be identified. Mapped to HTTP in `response.rs`.

use crate::json_text::PayloadError;
use crate::verify::AuthFailure;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("method {0} not allowed")]
    MethodNotAllowed(String),
    #[error("body exceeds the {limit} byte limit")]
    PayloadTooLarge { limit: usize },
    #[error("body is marked base64 but is not valid base64")]
    MalformedBase64,
    #[error("not an API Gateway or function URL event: {0}")]
    UnsupportedEvent(String),
    #[error("authentication failed: {0}")]
    Unauthorized(AuthFailure),
    #[error(transparent)]
    InvalidPayload(PayloadError),
}

/// `Rejection::reason` and `Rejection::REASONS` written from one list: every name `reason` can
/// return is in `REASONS` (which the runbook's list and the tests are checked against), and the
/// match stays exhaustive, so a new kind of rejection does not compile without its name.
macro_rules! reasons {
    ($($kind:pat => $name:literal,)+) => {
        impl Rejection {
            /// Every value of [`Rejection::reason`], each once.
            pub const REASONS: &'static [&'static str] = &[$($name),+];

            /// A short, fixed name for metrics (the `Reason` dimension) and dashboards: a forged
            /// signature and a stale replay window are told apart, values never appear.
            pub fn reason(&self) -> &'static str {
                match self {
                    $($kind => $name,)+
                }
            }
        }
    };
}

reasons! {
    Rejection::MethodNotAllowed(_) => "method_not_allowed",
    Rejection::PayloadTooLarge { .. } => "payload_too_large",
    Rejection::MalformedBase64 => "malformed_base64",
    Rejection::UnsupportedEvent(_) => "unsupported_event",
    Rejection::Unauthorized(AuthFailure::MissingHeader(_)) => "missing_credential",
    Rejection::Unauthorized(AuthFailure::MalformedHeader(_)) => "malformed_credential",
    Rejection::Unauthorized(AuthFailure::NoMatch) => "bad_signature",
    Rejection::Unauthorized(
        AuthFailure::TimestampTooOld { .. } | AuthFailure::TimestampInFuture { .. }
    ) => "outside_replay_window",
    Rejection::InvalidPayload(_) => "invalid_payload",
}

#[cfg(test)]
mod tests {
    use super::Rejection;
    use std::collections::BTreeSet;

    #[test]
    fn each_reason_is_listed_once() {
        let distinct: BTreeSet<&str> = Rejection::REASONS.iter().copied().collect();
        assert_eq!(
            distinct.len(),
            Rejection::REASONS.len(),
            "{:?}",
            Rejection::REASONS
        );
    }
}
