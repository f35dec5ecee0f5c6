//! ClearID's samples: an identity deleted (tests) and updated (load, checks).

use super::ClearId;
use crate::json_text::PayloadError;
use crate::provider::sample::put;
use crate::provider::{set_string, Sample, Unique};
use serde_json::{json, Value};

impl Sample for ClearId {
    const PAYLOAD: &'static str =
        include_str!("../../../../events/payloads/clearid/identity.deleted.json");
    const UPDATE: &'static str =
        include_str!("../../../../events/payloads/clearid/identity.updated.json");
    const SECRETS: [&'static str; 2] = ["clearid-shared-old", "clearid-shared-new"];
    const OPTIONS: &'static [(&'static str, &'static str)] =
        &[("WEBHOOK_SECRET_HEADER", "X-Webhook-Token")];
    const QUERY: &'static [(&'static str, &'static str)] = &[("event", "identity.deleted")];

    fn unknown_event_payload() -> String {
        Self::payload()
    }
    fn unknown_event_query() -> &'static [(&'static str, &'static str)] {
        &[("event", "badge.printed")]
    }
    fn missing_field_payload() -> (String, &'static str) {
        (r#"{"IdentityId":"x","Ordinal":1}"#.into(), "body")
    }
    fn event_id(_body: &str) -> String {
        "clearid#identity.deleted#3f1c2a6e-0d3b-4a51-9d0e-2b7c1f9e8a10#a7d4e2c9-5b61-4f0a-8e3d-6c2b9f1e7d20#1042".into()
    }
    fn event_type() -> &'static str {
        "identity.deleted"
    }
    fn resource() -> Value {
        json!({"id": "a7d4e2c9-5b61-4f0a-8e3d-6c2b9f1e7d20",
               "url": "/api/v2/accounts/3f1c2a6e-0d3b-4a51-9d0e-2b7c1f9e8a10/identities/a7d4e2c9-5b61-4f0a-8e3d-6c2b9f1e7d20"})
    }
    fn occurred_at() -> Value {
        json!("2026-11-20T08:00:00Z")
    }

    /// The key is the event type, account, identity and commit ordinal (a number): a new
    /// ordinal is a new event.
    fn make_unique(payload: &mut Value, unique: &Unique) {
        put(payload, &["Ordinal"], Value::from(unique.number()));
    }

    /// The identity, which is also part of the dedup key (with the account and the ordinal).
    fn about(payload: &mut Value, id: &str) -> Result<(), PayloadError> {
        set_string(payload, &["IdentityId"], id)
    }
}
