//! Refresh: identities read again from their provider's API through the normal enrichment path,
//! no webhook needed: how an operator recovers from a webhook the provider never sent, or an
//! outage of its API. One queue message per identity names it (event type
//! [`REFRESH_EVENT_TYPE`]); the enricher fetches it and records what it finds by the usual rules,
//! so a real change sends a change event and an unchanged identity sends none.
//!
//! [`plan`] decides what each identity's message carries (its provider's [`Refresh`]), [`send`]
//! sends them at a bounded rate over the queue port.

use crate::envelope::{QueueMessage, ReceivedEnvelope, ENVELOPE_VERSION};
use crate::history::{HistoryStore, Selection};
use crate::identity::IdentityKey;
use crate::provider_api::Refresh;
use crate::queue::EventQueue;
#[cfg(test)]
use serde_json::Value;
use std::time::Duration;

/// The event type of a refresh's messages: in the history, on the identity record and in the
/// change events it causes.
pub const REFRESH_EVENT_TYPE: &str = "hookline.refresh";

/// A refresh's id: `refresh-<time>-<random hex>`, in each message's event id.
pub fn refresh_id(now: i64) -> String {
    let stamp = crate::clock::rfc3339_compact(now);
    format!("refresh-{stamp}-{:06x}", fastrand::u32(..0x100_0000))
}

/// The message that has the enricher read `key` again: it names the resource, and carries
/// `payload` (JSON text) where the API needs more than the id.
pub fn refresh_message(
    key: &IdentityKey,
    payload: &str,
    refresh_id: &str,
    now: i64,
) -> QueueMessage {
    let event_id = format!("{}#{refresh_id}:{}", key.provider, key.resource_id);
    let fields = serde_json::json!({
        "version": ENVELOPE_VERSION,
        "event_id": event_id,
        "provider": key.provider,
        "event_type": REFRESH_EVENT_TYPE,
        "recognized": true,
        "received_at": crate::clock::rfc3339(now),
        "resource": {"id": key.resource_id},
    })
    .to_string();
    let payload = crate::limits::sqs_safe_json(payload);
    let body = format!("{},\"payload\":{payload}}}", &fields[..fields.len() - 1]);
    QueueMessage {
        deduplication_id: crate::digest::sha256_hex(event_id.as_bytes()),
        event_id,
        provider: key.provider.clone(),
        event_type: REFRESH_EVENT_TYPE.to_string(),
        group: key.resource_id.clone(),
        body,
        replay_id: None,
    }
}

/// One identity's planned refresh: its message's payload, or why it cannot be refreshed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub key: IdentityKey,
    pub payload: Result<String, String>,
}

/// What each of `keys` is refreshed with: by its provider's `refresh` rule (`None`: an unknown
/// provider). `WithLatestEvent` reads the identity's latest kept event in the history.
pub async fn plan(
    keys: &[IdentityKey],
    refresh: impl Fn(&str) -> Option<Refresh>,
    history: &impl HistoryStore,
    now: i64,
) -> Result<Vec<Planned>, crate::history::HistoryError> {
    let mut planned = Vec::with_capacity(keys.len());
    for key in keys {
        let payload = match refresh(&key.provider) {
            None => Err(format!(
                "{} is not a provider of this version",
                key.provider
            )),
            Some(Refresh::Never(why)) => Err(why.to_string()),
            Some(Refresh::ById) => Ok("{}".to_string()),
            Some(Refresh::WithLatestEvent) => latest_payload(history, key, now).await?,
        };
        planned.push(Planned {
            key: key.clone(),
            payload,
        });
    }
    Ok(planned)
}

/// The payload of the newest event the history keeps about `key`, or why there is none.
async fn latest_payload(
    history: &impl HistoryStore,
    key: &IdentityKey,
    now: i64,
) -> Result<Result<String, String>, crate::history::HistoryError> {
    let selection = Selection {
        provider: key.provider.clone(),
        since: 0,
        until: now,
        event_type: None,
        resource_id: Some(key.resource_id.clone()),
    };
    let events = super::listing::listed(history, &selection, |_| {}).await?;
    let Some(latest) = events
        .iter()
        .rev()
        .find(|e| e.event_type != REFRESH_EVENT_TYPE)
    else {
        return Ok(Err(format!(
            "{} needs what its events carry beside the id, and the history keeps no event about \
             {} (HistoryRetentionDays)",
            key.provider, key.resource_id
        )));
    };
    // Oldest first: the last occurrence is the newest.
    let kept = history.occurrences(&latest.event_id).await?;
    let body = kept.last().map(|entry| entry.body.clone());
    Ok(match body.as_deref().map(ReceivedEnvelope::parse) {
        Some(Ok(envelope)) => Ok(envelope.payload.to_string()),
        _ => Err(format!(
            "the latest kept event about {} cannot be read",
            key.resource_id
        )),
    })
}

/// What a refresh sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sent {
    pub queued: u64,
    /// Each with why.
    pub skipped: Vec<(IdentityKey, String)>,
    /// The first send failure, after which nothing more was sent.
    pub failed: Option<(IdentityKey, String)>,
}

/// Sends each planned message, at most `rate` a second; `on_sent` hears the count so far. A send
/// that fails stops the run (the rest would fail alike): what was queued stays queued.
pub async fn send(
    queue: &impl EventQueue,
    planned: &[Planned],
    refresh_id: &str,
    rate: u32,
    now: i64,
    mut on_sent: impl FnMut(u64),
) -> Sent {
    let mut sent = Sent::default();
    let gap = Duration::from_secs_f64(1.0 / f64::from(rate.max(1)));
    for planned in planned {
        let payload = match &planned.payload {
            Ok(payload) => payload,
            Err(why) => {
                sent.skipped.push((planned.key.clone(), why.clone()));
                continue;
            }
        };
        if sent.queued > 0 {
            tokio::time::sleep(gap).await;
        }
        let message = refresh_message(&planned.key, payload, refresh_id, now);
        if let Err(error) = queue.send(&message).await {
            sent.failed = Some((planned.key.clone(), error.to_string()));
            return sent;
        }
        sent.queued += 1;
        on_sent(sent.queued);
    }
    sent
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{HistoryEntry, MemoryHistory};
    use crate::queue::QueueError;
    use std::sync::Mutex;

    #[derive(Default)]
    struct MemoryQueue {
        sent: Mutex<Vec<QueueMessage>>,
        refuse_after: Option<usize>,
    }

    impl EventQueue for MemoryQueue {
        async fn send(&self, message: &QueueMessage) -> Result<(), QueueError> {
            let mut sent = self.sent.lock().unwrap();
            if self.refuse_after.is_some_and(|n| sent.len() >= n) {
                return Err(QueueError::other("AccessDenied"));
            }
            sent.push(message.clone());
            Ok(())
        }
    }

    fn rule(provider: &str) -> Option<Refresh> {
        match provider {
            "argyle" => Some(Refresh::ById),
            "clearid" => Some(Refresh::WithLatestEvent),
            "midbound" => Some(Refresh::Never("nothing to read")),
            _ => None,
        }
    }

    async fn kept(
        history: &MemoryHistory,
        event_id: &str,
        id: &str,
        received_at: i64,
        account: &str,
    ) {
        let body = format!(
            r#"{{"version":1,"event_id":"{event_id}","provider":"clearid","event_type":"identity.updated","received_at":"{}","resource":{{"id":"{id}"}},"payload":{{"AccountId":"{account}","IdentityId":"{id}"}}}}"#,
            crate::clock::rfc3339(received_at)
        );
        let envelope = ReceivedEnvelope::parse(&body).unwrap();
        let entry = HistoryEntry::of_message(&body, &envelope, received_at, 86_400).unwrap();
        history.keep(&entry).await.unwrap();
    }

    #[tokio::test]
    async fn each_provider_is_refreshed_by_its_rule() {
        let history = MemoryHistory::default();
        kept(&history, "clearid#a", "id-7", 1_000, "acc-old").await;
        kept(&history, "clearid#b", "id-7", 2_000, "acc-new").await;
        let keys = [
            IdentityKey::new("argyle", "idn_1"),
            IdentityKey::new("clearid", "id-7"),
            IdentityKey::new("clearid", "id-never-kept"),
            IdentityKey::new("midbound", "evt_1"),
            IdentityKey::new("acme", "x"),
        ];
        let planned = plan(&keys, rule, &history, 3_000).await.unwrap();
        assert_eq!(planned[0].payload, Ok("{}".into()));
        let clearid: Value = serde_json::from_str(planned[1].payload.as_ref().unwrap()).unwrap();
        assert_eq!(clearid["AccountId"], "acc-new", "the newest kept event's");
        assert!(planned[2]
            .payload
            .as_ref()
            .unwrap_err()
            .contains("keeps no event"));
        assert_eq!(planned[3].payload, Err("nothing to read".into()));
        assert!(planned[4]
            .payload
            .as_ref()
            .unwrap_err()
            .contains("not a provider"));
    }

    #[tokio::test]
    async fn the_message_names_the_resource_and_is_one_the_enricher_reads() {
        let key = IdentityKey::new("clearid", "id-7");
        let message = refresh_message(&key, r#"{"AccountId":"acc-1"}"#, "refresh-x", 1_765_000_000);
        let envelope = ReceivedEnvelope::parse(&message.body).unwrap();
        assert_eq!(envelope.event_type, REFRESH_EVENT_TYPE);
        assert_eq!(envelope.event_id, "clearid#refresh-x:id-7");
        assert_eq!(envelope.resource.unwrap().id, "id-7");
        assert_eq!(envelope.payload["AccountId"], "acc-1");
        assert_eq!(message.group, "id-7");
        assert_eq!(
            crate::identity::IdentityKey::about(&ReceivedEnvelope::parse(&message.body).unwrap()),
            key
        );
    }

    #[tokio::test]
    async fn sending_skips_what_cannot_be_refreshed_and_stops_at_a_refusal() {
        let planned: Vec<Planned> = ["a", "b", "c"]
            .iter()
            .map(|id| Planned {
                key: IdentityKey::new("argyle", *id),
                payload: if *id == "b" {
                    Err("why".into())
                } else {
                    Ok("{}".into())
                },
            })
            .collect();
        let queue = MemoryQueue::default();
        let mut heard = Vec::new();
        let sent = send(&queue, &planned, "refresh-x", 1000, 0, |n| heard.push(n)).await;
        assert_eq!(sent.queued, 2);
        assert_eq!(
            sent.skipped,
            [(IdentityKey::new("argyle", "b"), "why".to_string())]
        );
        assert_eq!(heard, [1, 2]);
        let refusing = MemoryQueue {
            refuse_after: Some(1),
            ..MemoryQueue::default()
        };
        let sent = send(&refusing, &planned, "refresh-x", 1000, 0, |_| {}).await;
        assert_eq!(sent.queued, 1);
        assert_eq!(sent.failed.unwrap().0, IdentityKey::new("argyle", "c"));
    }
}
