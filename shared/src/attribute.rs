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

/// `"<action> failed: <the error in one line>"` (`aws_error::one_line`).
pub fn failed(action: &str, err: impl std::error::Error + ProvideErrorMetadata) -> String {
    format!("{action} failed: {}", crate::aws_error::one_line(&err))
}
