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

impl Rejection {
    /// A short, fixed name for metrics (the `Reason` dimension) and dashboards: a forged
    /// signature and a stale replay window are told apart, values never appear.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::MethodNotAllowed(_) => "method_not_allowed",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::MalformedBase64 => "malformed_base64",
            Self::UnsupportedEvent(_) => "unsupported_event",
            Self::Unauthorized(failure) => match failure {
                AuthFailure::MissingHeader(_) => "missing_credential",
                AuthFailure::MalformedHeader(_) => "malformed_credential",
                AuthFailure::NoMatch => "bad_signature",
                AuthFailure::TimestampTooOld { .. } | AuthFailure::TimestampInFuture { .. } => {
                    "outside_replay_window"
                }
            },
            Self::InvalidPayload(_) => "invalid_payload",
        }
    }
}
