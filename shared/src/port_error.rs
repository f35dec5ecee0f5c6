//! Why a call through a port failed, in the terms a caller decides on: whether to slow down,
//! to read again and decide again, to stop looking, to fix a permission, or to retry later.
//! Every port's error type carries one [`ErrorKind`] beside its one-line message.

/// What kind of failure a port's call met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The service asked to slow down (throughput exceeded, throttled): a later retry helps.
    Throttled,
    /// A condition on the write did not hold: the item changed under the caller.
    ConditionFailed,
    /// What the call named does not exist (a table, queue, bus or secret).
    NotFound,
    /// The caller may not: access denied, a key it cannot use, credentials refused.
    Refused,
    /// Anything else: a timeout, no connection, an answer that could not be read.
    Other,
}

impl ErrorKind {
    /// The kind an AWS service's error code says (DynamoDB, SQS, EventBridge, Secrets Manager,
    /// KMS through them); no code (the call never got an answer) is [`ErrorKind::Other`].
    pub fn of_code(code: Option<&str>) -> Self {
        let Some(code) = code else {
            return Self::Other;
        };
        let code = code.strip_prefix("KMS.").unwrap_or(code);
        match code {
            "ProvisionedThroughputExceededException"
            | "ThrottlingException"
            | "Throttling"
            | "ThrottledException"
            | "RequestLimitExceeded"
            | "RequestThrottled"
            | "TooManyRequestsException" => Self::Throttled,
            "ConditionalCheckFailedException" => Self::ConditionFailed,
            "ResourceNotFoundException"
            | "NotFoundException"
            | "QueueDoesNotExist"
            | "AWS.SimpleQueueService.NonExistentQueue" => Self::NotFound,
            "AccessDeniedException"
            | "AccessDenied"
            | "UnrecognizedClientException"
            | "InvalidClientTokenId"
            | "ExpiredTokenException"
            | "DisabledException"
            | "KmsAccessDeniedException"
            | "KmsDisabledException"
            | "InvalidKeyUsageException" => Self::Refused,
            _ => Self::Other,
        }
    }
}

/// Declares a port's error type: a kind and a message, shown as `<what>: <message>`.
macro_rules! port_error {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
        #[error("{}: {message}", $what)]
        pub struct $name {
            pub kind: $crate::port_error::ErrorKind,
            pub message: String,
        }

        impl $name {
            pub fn new(kind: $crate::port_error::ErrorKind, message: impl Into<String>) -> Self {
                Self {
                    kind,
                    message: message.into(),
                }
            }

            /// A failure of no kind a caller decides on ([`ErrorKind::Other`]).
            ///
            /// [`ErrorKind::Other`]: $crate::port_error::ErrorKind::Other
            pub fn other(message: impl Into<String>) -> Self {
                Self::new($crate::port_error::ErrorKind::Other, message)
            }
        }
    };
}
pub(crate) use port_error;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_say_their_kind() {
        let kind = |code| ErrorKind::of_code(Some(code));
        assert_eq!(
            kind("ProvisionedThroughputExceededException"),
            ErrorKind::Throttled
        );
        assert_eq!(kind("ThrottlingException"), ErrorKind::Throttled);
        assert_eq!(kind("KMS.ThrottlingException"), ErrorKind::Throttled);
        assert_eq!(
            kind("ConditionalCheckFailedException"),
            ErrorKind::ConditionFailed
        );
        assert_eq!(kind("ResourceNotFoundException"), ErrorKind::NotFound);
        assert_eq!(
            kind("AWS.SimpleQueueService.NonExistentQueue"),
            ErrorKind::NotFound
        );
        assert_eq!(kind("AccessDeniedException"), ErrorKind::Refused);
        assert_eq!(kind("KMS.DisabledException"), ErrorKind::Refused);
        assert_eq!(kind("InternalServerError"), ErrorKind::Other);
        assert_eq!(ErrorKind::of_code(None), ErrorKind::Other);
    }

    port_error!(ExampleError, "example");

    #[test]
    fn a_port_error_shows_what_failed_and_keeps_its_kind() {
        let error = ExampleError::new(ErrorKind::Throttled, "PutItem failed: slow down");
        assert_eq!(error.to_string(), "example: PutItem failed: slow down");
        assert_eq!(error.kind, ErrorKind::Throttled);
        assert_eq!(ExampleError::other("x").kind, ErrorKind::Other);
    }
}
