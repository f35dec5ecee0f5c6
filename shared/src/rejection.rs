//! Why a delivery was refused before it could be identified. Mapped to HTTP in `response.rs`.

use crate::provider::PayloadError;
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
