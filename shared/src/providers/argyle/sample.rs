//! Argyle's samples: an identity added (tests) and updated (load, checks).

use super::Argyle;
use crate::digest::sha256_hex;
use crate::json_text::PayloadError;
use crate::provider::sample::put;
use crate::provider::{set_string, Sample, Unique};
use serde_json::{json, Value};

impl Sample for Argyle {
    const PAYLOAD: &'static str =
        include_str!("../../../../events/payloads/argyle/identities.added.json");
    const UPDATE: &'static str =
        include_str!("../../../../events/payloads/argyle/identities.updated.json");
    const SECRETS: [&'static str; 2] = ["argyle-secret-old", "argyle-secret-new"];

    fn unknown_event_payload() -> String {
        Self::payload().replace("identities.added", "identities.removed")
    }
    fn missing_field_payload() -> (String, &'static str) {
        (r#"{"name":"s","data":{"identity":"i"}}"#.into(), "body")
    }
    fn event_id(body: &str) -> String {
        format!("argyle#{}", sha256_hex(body.as_bytes()))
    }
    fn event_type() -> &'static str {
        "identities.added"
    }
    fn resource() -> Value {
        json!({"id": "0187c66e-f13b-31e4-6b2c-6a0dd4f67e43",
               "url": "/v2/identities/0187c66e-f13b-31e4-6b2c-6a0dd4f67e43"})
    }
    fn occurred_at() -> Value {
        Value::Null
    }

    /// The key is the body's SHA-256; the webhook's name is free text.
    fn make_unique(payload: &mut Value, unique: &Unique) {
        put(payload, &["name"], Value::String(unique.text()));
    }

    /// The identity; the dedup key is the body's hash, which the id makes unique.
    fn about(payload: &mut Value, id: &str) -> Result<(), PayloadError> {
        set_string(payload, &["data", "identity"], id)
    }
}
