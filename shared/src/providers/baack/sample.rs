//! Baack's samples: an identity's client identifier created (tests) and updated (load, checks).

use super::Baack;
use crate::json_text::PayloadError;
use crate::provider::sample::put;
use crate::provider::{set_string, Sample, Unique};
use serde_json::{json, Value};

impl Sample for Baack {
    const PAYLOAD: &'static str =
        include_str!("../../../../events/payloads/baack/IDENTITY_CLIENT_IDENTIFIER.CREATE.json");
    const UPDATE: &'static str =
        include_str!("../../../../events/payloads/baack/IDENTITY_CLIENT_IDENTIFIER.UPDATE.json");
    const SECRETS: [&'static str; 2] = ["baack-token-2025", "baack-token-2026"];

    fn unknown_event_payload() -> String {
        Self::payload().replace(
            "\"subject\":\"IDENTITY_CLIENT_IDENTIFIER\",\"event\":\"CREATE\"",
            "\"subject\":\"COMPANY\",\"event\":\"CREATE\"",
        )
    }
    fn missing_field_payload() -> (String, &'static str) {
        (
            r#"{"trigger":{"urn":"t","subject":"IDENTITY","event":"CREATE"}}"#.into(),
            "body",
        )
    }
    fn event_id(_body: &str) -> String {
        "baack#urn:baack:webhooksubscription:41f2#urn:baack:trigger:5b0e4c1e-8f1a-4a8e-9a57-1f3f3c1d2e01".into()
    }
    fn event_type() -> &'static str {
        "IDENTITY_CLIENT_IDENTIFIER.CREATE"
    }
    fn resource() -> Value {
        json!({"id": "urn:baack:clientidentifier:7c2d",
               "url": "/n/v1/clientidentifier/urn:baack:clientidentifier:7c2d"})
    }
    fn occurred_at() -> Value {
        json!("2026-05-29T13:45:32Z")
    }

    /// The key is the subscription urn and the trigger urn: a new trigger is a new event.
    fn make_unique(payload: &mut Value, unique: &Unique) {
        let urn = format!("urn:baack:trigger:{}", unique.text());
        put(payload, &["trigger", "urn"], Value::String(urn));
    }

    /// The resource (`v1`, `trigger.targetUrn`) and the trigger, whose urn is half the dedup
    /// key. The subscription's expiry is left out: the function would report it as the
    /// subscription's hours left, and the sample's date has passed, which the expiry alarm reads
    /// as a lapsed subscription.
    fn about(payload: &mut Value, id: &str) -> Result<(), PayloadError> {
        set_string(payload, &["trigger", "urn"], id)?;
        set_string(payload, &["trigger", "targetUrn"], id)?;
        set_string(payload, &["v1", "urn"], id)?;
        set_string(
            payload,
            &["v1", "url"],
            &format!("/n/v1/clientidentifier/{id}"),
        )?;
        if let Some(subscription) = payload
            .get_mut("subscription")
            .and_then(Value::as_object_mut)
        {
            subscription.remove("expirationTimestamp");
        }
        Ok(())
    }
}
