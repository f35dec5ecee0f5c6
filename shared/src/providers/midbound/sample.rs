//! Midbound's sample: an identity validated (tests, load, checks).

use super::Midbound;
use crate::json_text::PayloadError;
use crate::provider::sample::put;
use crate::provider::{set_string, Sample, Unique};
use serde_json::{json, Value};

impl Sample for Midbound {
    const PAYLOAD: &'static str =
        include_str!("../../../../events/payloads/midbound/identity.validated.json");
    const UPDATE: &'static str = Self::PAYLOAD;
    const SECRETS: [&'static str; 2] = [
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
    ];
    const OPTIONS: &'static [(&'static str, &'static str)] = &[("WEBHOOK_SECRET_ENCODING", "spec")];

    fn unknown_event_payload() -> String {
        Self::payload().replace("identity.validated", "identity.merged")
    }
    fn missing_field_payload() -> (String, &'static str) {
        (r#"{"id":"evt_1","data":{}}"#.into(), "body")
    }
    /// Midbound signs with its payload's `id` as `webhook-id`, the key.
    fn event_id(body: &str) -> String {
        let payload: Value = serde_json::from_str(body).expect("JSON payload");
        format!("midbound#{}", payload["id"].as_str().expect("payload id"))
    }
    fn event_type() -> &'static str {
        "identity.validated"
    }
    fn resource() -> Value {
        Value::Null
    }
    fn occurred_at() -> Value {
        json!("2026-05-28T13:45:32Z")
    }

    /// The key is the `webhook-id` header, which Midbound (and `sign`) set to the payload's id.
    fn make_unique(payload: &mut Value, unique: &Unique) {
        let id = format!("evt_load_{}_{}", unique.run, unique.event);
        put(payload, &["id"], Value::String(id));
    }

    /// The payload's id, which Midbound signs with as its `webhook-id`: the dedup key, and the
    /// identity of an event that names no resource.
    fn about(payload: &mut Value, id: &str) -> Result<(), PayloadError> {
        set_string(payload, &["id"], id)
    }
}
