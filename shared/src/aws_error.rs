//! An AWS SDK error as one line, for a log line or an operator: the service's code and message
//! when it answered, else the chain of causes (a timeout, no connection, no credentials), each
//! said once, never the SDK's debug dump of the response.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;

/// The kind of failure the service's error code says.
pub fn kind(err: &impl ProvideErrorMetadata) -> crate::port_error::ErrorKind {
    crate::port_error::ErrorKind::of_code(err.code())
}

pub fn one_line(err: &(impl std::error::Error + ProvideErrorMetadata)) -> String {
    if let (Some(code), Some(message)) = (err.code(), err.message()) {
        return format!("{code}: {message}");
    }
    let mut causes: Vec<String> = vec![err.to_string()];
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !causes.iter().any(|c| c.contains(&text)) {
            causes.push(text);
        }
        source = cause.source();
    }
    causes.join(": ")
}
