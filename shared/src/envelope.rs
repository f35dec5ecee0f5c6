//! The SQS message body: the contract between ingestion and its consumers (docs/contracts.md).

use crate::digest::sha256_hex;
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
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub keyed_by_content: bool,
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
    /// True when the event id is the body's hash: the enricher reopens the key before it
    /// reads the resource (see `store`).
    #[serde(default)]
    pub keyed_by_content: bool,
    /// Present when `hookline replay` sent this message again from the history.
    #[serde(default)]
    pub replay: Option<Replay>,
    pub payload: serde_json::Value,
}

/// The envelope's `replay` field: which replay sent the message, and when.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Replay {
    pub id: String,
    /// RFC 3339 UTC.
    pub at: String,
}

/// A kept message body marked as sent again by replay `replay_id` at `now` (Unix seconds): the
/// `replay` field goes in before `payload`, which stays the provider's bytes. The envelope's
/// own fields are escaped JSON strings, so the first `,"payload":` is the one that starts the
/// payload field.
pub fn mark_replay(body: &str, replay_id: &str, now: i64) -> String {
    let replay = Replay {
        id: replay_id.to_string(),
        at: crate::clock::rfc3339(now),
    };
    // A struct of two strings: serialization cannot fail.
    let field = serde_json::to_string(&replay).expect("the replay field serializes");
    match body.find(",\"payload\":") {
        Some(at) => format!("{},\"replay\":{field}{}", &body[..at], &body[at..]),
        // Not one of ours (no payload field): the field leads the object instead.
        None => match body.strip_prefix('{') {
            Some(rest) => format!("{{\"replay\":{field},{rest}"),
            None => body.to_string(),
        },
    }
}

fn recognized_by_default() -> bool {
    true
}

impl ReceivedEnvelope {
    /// Reads a message body; only version 1 is understood.
    pub fn parse(body: &str) -> Result<Self, crate::json_text::PayloadError> {
        let envelope: Self = crate::json_text::parse_json(body.as_bytes())?;
        if envelope.version != ENVELOPE_VERSION {
            return Err(crate::json_text::PayloadError {
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
    /// FIFO `MessageDeduplicationId`, hex SHA-256, so any event id fits SQS's 128 characters.
    /// Of the event id alone, so that every send of one event within SQS's five minutes is
    /// one message; for a content-keyed event, of the event id and the attempt that claimed
    /// this occurrence, since the same id comes back as a new event once consumed (the
    /// sweeper re-sends the id the record kept).
    pub deduplication_id: String,
    pub body: String,
    /// Set when `hookline replay` sends a kept message again (the `replay_id` attribute).
    pub replay_id: Option<String>,
}

impl QueueMessage {
    /// Builds the message for a parsed delivery; `payload` is the provider's JSON exactly as
    /// received, embedded as the `payload` field, never re-serialized. `attempt_id` names the
    /// attempt that builds it (the Lambda request id).
    pub fn new(
        provider: &str,
        event_id: &str,
        delivery: &Delivery,
        payload: JsonText<'_>,
        received_at: i64,
        attempt_id: &str,
    ) -> Self {
        let envelope = Envelope {
            version: ENVELOPE_VERSION,
            event_id,
            provider,
            event_type: &delivery.event_type,
            recognized: delivery.recognized,
            // `received_at` is the function's own clock, always a date RFC 3339 can write.
            received_at: crate::clock::rfc3339(received_at),
            occurred_at: delivery.occurred_at.as_deref(),
            resource: delivery.resource.as_ref(),
            keyed_by_content: delivery.keyed_by_content,
        };
        // Strings, a bool and a number: serialization cannot fail.
        let fields = serde_json::to_string(&envelope).expect("the envelope serializes");
        // `{...}` becomes `{...,"payload":<payload>}`: the payload was proven to be one JSON
        // document when it was parsed, so it goes in as text, without a second parse (only the
        // two characters SQS refuses are escaped, which leaves the JSON value as it was).
        let payload = crate::limits::sqs_safe_json(payload.as_str());
        let mut body = String::with_capacity(fields.len() + payload.len() + 12);
        body.push_str(&fields[..fields.len() - 1]);
        body.push_str(",\"payload\":");
        body.push_str(&payload);
        body.push('}');
        let deduplication_id = if delivery.keyed_by_content {
            sha256_hex(format!("{event_id}@{attempt_id}").as_bytes())
        } else {
            sha256_hex(event_id.as_bytes())
        };
        Self {
            event_id: event_id.to_string(),
            provider: provider.to_string(),
            event_type: delivery.event_type.clone(),
            group: delivery
                .resource
                .as_ref()
                .map_or_else(|| provider.to_string(), |r| r.id.clone()),
            deduplication_id,
            body,
            replay_id: None,
        }
    }

    /// FIFO `MessageGroupId`: [`fifo_group_id`] of its group.
    pub fn group_id(&self) -> String {
        fifo_group_id(&self.group)
    }
}

/// A FIFO `MessageGroupId` for `group` (the resource's id, else the provider's name): the group
/// as is when SQS accepts it (1 to 128 printable ASCII characters), else its SHA-256 hex.
pub fn fifo_group_id(group: &str) -> String {
    let valid =
        !group.is_empty() && group.len() <= 128 && group.bytes().all(|b| b.is_ascii_graphic());
    if valid {
        group.to_string()
    } else {
        sha256_hex(group.as_bytes())
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
            keyed_by_content: false,
            subscription: None,
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
            "r1",
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
            "r1",
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
            "r1",
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
        let resource = Resource {
            id: format!("urn with spaces {long}"),
            url: None,
        };
        let at = |received_at| {
            QueueMessage::new(
                "baack",
                &format!("baack#{long}"),
                &delivery(Some(resource.clone())),
                json(b"{}"),
                received_at,
                "r1",
            )
        };
        let m = at(1_800_000_000);
        assert_eq!(m.deduplication_id.len(), 64);
        assert_eq!(m.group_id().len(), 64);
        // The same event sent again by another attempt is one FIFO message.
        let again = QueueMessage::new(
            "baack",
            &format!("baack#{long}"),
            &delivery(Some(resource.clone())),
            json(b"{}"),
            1_800_000_100,
            "r2",
        );
        assert_eq!(m.deduplication_id, again.deduplication_id);
    }

    #[test]
    fn a_content_keyed_event_is_a_new_fifo_message_at_each_occurrence() {
        let mut keyed = delivery(None);
        keyed.keyed_by_content = true;
        let by = |attempt| QueueMessage::new("argyle", "argyle#k", &keyed, json(b"{}"), 0, attempt);
        // Two occurrences in the same second are still two messages.
        assert_ne!(by("r1").deduplication_id, by("r2").deduplication_id);
        assert_eq!(by("r1").deduplication_id, by("r1").deduplication_id);
        assert!(
            ReceivedEnvelope::parse(&by("r1").body)
                .unwrap()
                .keyed_by_content
        );
        let plain = QueueMessage::new("argyle", "argyle#k", &delivery(None), json(b"{}"), 0, "r2");
        assert!(!plain.body.contains("keyed_by_content"));
        assert!(
            !ReceivedEnvelope::parse(&plain.body)
                .unwrap()
                .keyed_by_content
        );
    }

    #[test]
    fn characters_sqs_refuses_are_escaped_in_the_payload() {
        let body = "{\"name\":\"a\u{FFFF}b\"}";
        let m = QueueMessage::new(
            "argyle",
            "argyle#k",
            &delivery(None),
            json(body.as_bytes()),
            0,
            "r1",
        );
        assert!(
            m.body.ends_with(r#""payload":{"name":"a\uFFFFb"}}"#),
            "{}",
            m.body
        );
        let read = ReceivedEnvelope::parse(&m.body).unwrap();
        assert_eq!(read.payload["name"], "a\u{FFFF}b");
    }
}
