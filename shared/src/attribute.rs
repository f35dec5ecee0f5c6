//! What the DynamoDB adapters (`store`, `history`) share: attribute values as they write them,
//! and a failed call as one line.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::AttributeValue;

pub fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_string())
}

pub fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// `"<action> failed: <code>: <message>"` when DynamoDB answered, else the chain of causes (a
/// timeout, no connection, no credentials), each said once: one line for a log or an
/// operator, without the SDK's debug dump of the response.
pub fn failed(action: &str, err: impl std::error::Error + ProvideErrorMetadata) -> String {
    if let (Some(code), Some(message)) = (err.code(), err.message()) {
        return format!("{action} failed: {code}: {message}");
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
    format!("{action} failed: {}", causes.join(": "))
}
