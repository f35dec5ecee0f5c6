//! What the DynamoDB adapters (`store`, `history`) share: attribute values as they write them,
//! and a failed call as one line.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

/// An item as the SDK reads and writes it.
pub type Item = HashMap<String, AttributeValue>;

pub fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_string())
}

pub fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// A string attribute, if the item has one by that name.
pub fn text(item: &Item, name: &str) -> Option<String> {
    item.get(name)?.as_s().ok().cloned()
}

/// A number attribute that fits an `i64`.
pub fn number(item: &Item, name: &str) -> Option<i64> {
    item.get(name)?.as_n().ok()?.parse().ok()
}

/// `"<action> failed: <the error in one line>"` (`aws_error::one_line`).
pub fn failed(action: &str, err: impl std::error::Error + ProvideErrorMetadata) -> String {
    format!("{action} failed: {}", crate::aws_error::one_line(&err))
}
