//! The SQS message body: the contract between ingestion and its consumers (see README).

use crate::json_text::JsonText;
use crate::provider::{Delivery, Resource};
use serde::Serialize;

pub const ENVELOPE_VERSION: u8 = 1;

/// Every field but the payload, which `QueueMessage::new` appends as the last one.
#[derive(Serialize)]
struct Envelope<'a> {
    pub version: u8,
    pub event_id: &'a str,
    pub provider: &'a str,
    pub event_type: &'a str,
    pub recognized: bool,
    pub received_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub occurred_at: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<&'a Resource>,
}

/// A queue message as a consumer reads it (the same contract, owned).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct ReceivedEnvelope {
    pub version: u8,
    pub event_id: String,
    pub provider: String,
    pub event_type: String,
    #[serde(default = "recognized_by_default")]
    pub recognized: bool,
    pub received_at: String,
    #[serde(default)]
    pub occurred_at: Option<String>,
    #[serde(default)]
    pub resource: Option<Resource>,
    pub payload: serde_json::Value,
}

fn recognized_by_default() -> bool {
    true
}

impl ReceivedEnvelope {
    /// Reads a message body; only version 1 is understood.
    pub fn parse(body: &str) -> Result<Self, crate::provider::PayloadError> {
        let envelope: Self = crate::provider::parse_json(body.as_bytes())?;
        if envelope.version != ENVELOPE_VERSION {
            return Err(crate::provider::PayloadError {
                field: "version".into(),
                message: format!("unsupported envelope version {}", envelope.version),
            });
        }
        Ok(envelope)
    }
}

/// What the queue adapter sends: the serialized envelope plus what SQS wants beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueMessage {
    pub event_id: String,
    pub provider: String,
    pub event_type: String,
    /// FIFO ordering scope: the resource when there is one, else the provider.
    pub group: String,
    pub body: String,
}

impl QueueMessage {
    /// Builds the message for a parsed delivery; `payload` is the provider's JSON exactly as
    /// received, embedded as the `payload` field, never re-serialized.
    pub fn new(
        provider: &str,
        event_id: &str,
        delivery: &Delivery,
        payload: JsonText<'_>,
        received_at: i64,
    ) -> Self {
        let envelope = Envelope {
            version: ENVELOPE_VERSION,
            event_id,
            provider,
            event_type: &delivery.event_type,
            recognized: delivery.recognized,
            received_at: crate::providers::rfc3339(
                time::OffsetDateTime::from_unix_timestamp(received_at)
                    .unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
            ),
            occurred_at: delivery.occurred_at.as_deref(),
            resource: delivery.resource.as_ref(),
        };
        // Strings, a bool and a number: serialization cannot fail.
        let fields = serde_json::to_string(&envelope).expect("the envelope serializes");
        // `{...}` becomes `{...,"payload":<payload>}`: the payload was proven to be one JSON
        // document when it was parsed, so it goes in as text, without a second parse.
        let mut body = String::with_capacity(fields.len() + payload.as_str().len() + 12);
        body.push_str(&fields[..fields.len() - 1]);
        body.push_str(",\"payload\":");
        body.push_str(payload.as_str());
        body.push('}');
        Self {
            event_id: event_id.to_string(),
            provider: provider.to_string(),
            event_type: delivery.event_type.clone(),
            group: delivery
                .resource
                .as_ref()
                .map_or_else(|| provider.to_string(), |r| r.id.clone()),
            body,
        }
    }

    /// FIFO `MessageDeduplicationId`: SHA-256 hex of the event id, so any event id (urns, long
    /// keys) maps to a valid, stable value within SQS's 128 characters.
    pub fn deduplication_id(&self) -> String {
        crate::provider::sha256_hex(self.event_id.as_bytes())
    }

    /// FIFO `MessageGroupId`: the group as is when SQS accepts it, else its SHA-256 hex.
    pub fn group_id(&self) -> String {
        let valid = !self.group.is_empty()
            && self.group.len() <= 128
            && self.group.bytes().all(|b| b.is_ascii_graphic());
        if valid {
            self.group.clone()
        } else {
            crate::provider::sha256_hex(self.group.as_bytes())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json<'a>(body: &'a [u8]) -> JsonText<'a> {
        JsonText::parse::<serde::de::IgnoredAny>(body).unwrap().1
    }

    fn delivery(resource: Option<Resource>) -> Delivery {
        Delivery {
            dedup_key: "k".into(),
            event_type: "identities.added".into(),
            recognized: true,
            occurred_at: None,
            resource,
        }
    }

    #[test]
    fn body_embeds_the_payload_verbatim() {
        let body = br#" { "b" : 1,  "a":[1, 2] }
"#;
        let m = QueueMessage::new(
            "argyle",
            "argyle#k",
            &delivery(None),
            json(body),
            1_763_884_800,
        );
        assert_eq!(
            m.body,
            r#"{"version":1,"event_id":"argyle#k","provider":"argyle","event_type":"identities.added","recognized":true,"received_at":"2025-11-23T08:00:00Z","payload":{ "b" : 1,  "a":[1, 2] }}"#
        );
        assert_eq!(m.group, "argyle");
    }

    #[test]
    fn resource_sets_the_group_and_appears_in_the_body() {
        let resource = Resource {
            id: "id-1".into(),
            url: Some("/v2/identities/id-1".into()),
        };
        let m = QueueMessage::new(
            "argyle",
            "argyle#k",
            &delivery(Some(resource)),
            json(b"{}"),
            0,
        );
        assert_eq!(m.group_id(), "id-1");
        let value: serde_json::Value = serde_json::from_str(&m.body).unwrap();
        assert_eq!(value["resource"]["url"], "/v2/identities/id-1");
    }

    #[test]
    fn a_consumer_reads_back_what_was_sent() {
        let resource = Resource {
            id: "id-1".into(),
            url: None,
        };
        let m = QueueMessage::new(
            "argyle",
            "argyle#k",
            &delivery(Some(resource.clone())),
            json(br#"{"a":1}"#),
            0,
        );
        let read = ReceivedEnvelope::parse(&m.body).unwrap();
        assert_eq!(read.event_id, "argyle#k");
        assert_eq!(read.resource, Some(resource));
        assert_eq!(read.payload, serde_json::json!({"a": 1}));
        assert!(
            ReceivedEnvelope::parse(&m.body.replace("\"version\":1", "\"version\":2")).is_err()
        );
        assert_eq!(ReceivedEnvelope::parse("{}").unwrap_err().field, "body");
    }

    #[test]
    fn fifo_ids_are_valid_for_any_event_id() {
        let long = "x".repeat(300);
        let m = QueueMessage {
            event_id: format!("baack#{long}"),
            provider: "baack".into(),
            event_type: "t".into(),
            group: format!("urn with spaces {long}"),
            body: String::new(),
        };
        assert_eq!(m.deduplication_id().len(), 64);
        assert_eq!(m.group_id().len(), 64);
        assert_eq!(m.deduplication_id(), m.clone().deduplication_id());
    }
}
