//! The event history: every accepted event's queue message, kept for the retention period in a
//! table of its own, and what the operator reads and replays from it (`hookline events`,
//! `hookline replay`).
//!
//! The enricher keeps each message as it takes it from the queue, before it enriches it, so the
//! webhook functions make no call for the history (3 calls per new event, 1 per duplicate, as
//! before). The dedup record could not be the history: its lifetime is the provider's dedup
//! window, and a content-keyed event's next occurrence is claimed on the same item, which would
//! overwrite the earlier one. A history write that is throttled or fails delays the enricher,
//! which retries the message, and never a webhook's answer.
//!
//! One item per occurrence: key `event_id` + `received_at` (the envelope's, in Unix seconds).
//! Two sends of one occurrence (an SQS redelivery, the sweeper's re-send) are the same bytes and
//! the same item; so are two occurrences of a content-keyed event accepted within the same second
//! (the same payload at the same time makes the same envelope). A replayed message is never kept
//! again.

mod dynamodb;
mod memory;

pub use dynamodb::{DynamoDbHistory, BY_PROVIDER_INDEX, BY_RESOURCE_INDEX};
pub use memory::MemoryHistory;

use crate::envelope::{QueueMessage, ReceivedEnvelope};
use std::future::Future;

/// The default for `HISTORY_RETENTION_DAYS` (and the template's `HistoryRetentionDays`).
pub const DEFAULT_RETENTION_DAYS: u64 = 30;

/// One kept occurrence of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub summary: EventSummary,
    /// The queue message body exactly as the webhook function sent it.
    pub body: String,
    /// When the enricher kept it (Unix seconds).
    pub recorded_at: i64,
    /// When the history lets it go (Unix seconds; the table's TTL attribute).
    pub expires_at: i64,
    /// The replays that have sent it again, by replay id.
    pub replays: Vec<String>,
}

/// What a listing shows of an occurrence (the index holds no message bodies).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSummary {
    pub event_id: String,
    pub provider: String,
    pub event_type: String,
    pub resource_id: Option<String>,
    /// When the webhook function received it (Unix seconds).
    pub received_at: i64,
}

impl EventSummary {
    pub fn key(&self) -> OccurrenceKey {
        OccurrenceKey {
            event_id: self.event_id.clone(),
            received_at: self.received_at,
        }
    }
}

/// Names one occurrence: the history item's key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OccurrenceKey {
    pub event_id: String,
    pub received_at: i64,
}

impl HistoryEntry {
    /// The entry for a queue message as the enricher received it; `None` for a replay (the
    /// original is kept already) or a body that is not an envelope with a readable time.
    pub fn of_message(
        body: &str,
        envelope: &ReceivedEnvelope,
        now: i64,
        retention_seconds: u64,
    ) -> Option<Self> {
        if envelope.replay.is_some() {
            return None;
        }
        let received_at = crate::clock::parse_rfc3339(&envelope.received_at)?;
        Some(Self {
            summary: EventSummary {
                event_id: envelope.event_id.clone(),
                provider: envelope.provider.clone(),
                event_type: envelope.event_type.clone(),
                resource_id: envelope.resource.as_ref().map(|r| r.id.clone()),
                received_at,
            },
            body: body.to_string(),
            recorded_at: now,
            // Counted from the receipt, so a backlog does not make an event live longer.
            expires_at: received_at.saturating_add_unsigned(retention_seconds),
            replays: Vec::new(),
        })
    }

    /// The message that sends this occurrence again as part of replay `replay_id`, marked in the
    /// envelope (`replay`) and by the `replay_id` message attribute. On a FIFO queue it keeps the
    /// event's group and gets a deduplication id of its own, so SQS does not drop it as a repeat.
    pub fn replay_message(&self, replay_id: &str, now: i64) -> QueueMessage {
        let summary = &self.summary;
        QueueMessage {
            event_id: summary.event_id.clone(),
            provider: summary.provider.clone(),
            event_type: summary.event_type.clone(),
            group: summary
                .resource_id
                .clone()
                .unwrap_or_else(|| summary.provider.clone()),
            deduplication_id: crate::digest::sha256_hex(
                format!(
                    "{}@{}#replay:{replay_id}",
                    summary.event_id, summary.received_at
                )
                .as_bytes(),
            ),
            body: crate::envelope::mark_replay(&self.body, replay_id, now),
            replay_id: Some(replay_id.to_string()),
        }
    }
}

/// Which occurrences a listing or a replay covers: one provider's, received in
/// `since..=until` (Unix seconds), optionally of one event type or one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub provider: String,
    pub since: i64,
    pub until: i64,
    pub event_type: Option<String>,
    pub resource_id: Option<String>,
}

impl Selection {
    pub fn covers(&self, summary: &EventSummary) -> bool {
        summary.provider == self.provider
            && (self.since..=self.until).contains(&summary.received_at)
            && self
                .event_type
                .as_ref()
                .is_none_or(|t| *t == summary.event_type)
            && self
                .resource_id
                .as_ref()
                .is_none_or(|r| summary.resource_id.as_ref() == Some(r))
    }
}

/// One page of a listing, oldest first, and where the next one starts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Page {
    pub events: Vec<EventSummary>,
    pub next: Option<OccurrenceKey>,
}

crate::port_error::port_error!(
    /// The history table failed or could not be reached.
    HistoryError,
    "history"
);

/// Where the history lives (a DynamoDB table in production).
pub trait HistoryStore: Send + Sync {
    /// Keeps an occurrence; keeping the same one again changes nothing that matters (same body,
    /// same expiry) and does not forget its replays.
    fn keep(&self, entry: &HistoryEntry) -> impl Future<Output = Result<(), HistoryError>> + Send;

    /// Every kept occurrence of an event, oldest first (empty when none is kept).
    fn occurrences(
        &self,
        event_id: &str,
    ) -> impl Future<Output = Result<Vec<HistoryEntry>, HistoryError>> + Send;

    /// Up to `limit` occurrences in `selection`, oldest first, after `after` (the previous
    /// page's `next`). Reads an index, never the whole history.
    fn list(
        &self,
        selection: &Selection,
        after: Option<&OccurrenceKey>,
        limit: usize,
    ) -> impl Future<Output = Result<Page, HistoryError>> + Send;

    /// The entries for these keys (bodies included), in the order given; a key no longer kept
    /// (expired meanwhile) is left out.
    fn entries(
        &self,
        keys: &[OccurrenceKey],
    ) -> impl Future<Output = Result<Vec<HistoryEntry>, HistoryError>> + Send;

    /// Deletes an occurrence (`hookline forget`); `Ok(false)` when it was not kept.
    fn delete(
        &self,
        key: &OccurrenceKey,
    ) -> impl Future<Output = Result<bool, HistoryError>> + Send;

    /// Records that replay `replay_id` has sent this occurrence again.
    fn mark_replayed(
        &self,
        key: &OccurrenceKey,
        replay_id: &str,
    ) -> impl Future<Output = Result<(), HistoryError>> + Send;
}

/// Reads `HISTORY_RETENTION_DAYS` (default 30), in seconds.
pub fn retention_seconds(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<u64, crate::config::ConfigError> {
    crate::config::days_in_seconds(get, "HISTORY_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = r#"{"version":1,"event_id":"argyle#k","provider":"argyle","event_type":"identities.added","recognized":true,"received_at":"2026-11-30T10:00:00Z","resource":{"id":"i-1"},"payload":{"a":1}}"#;

    fn entry() -> HistoryEntry {
        let envelope = ReceivedEnvelope::parse(BODY).unwrap();
        HistoryEntry::of_message(BODY, &envelope, 1_796_040_000, 86_400).unwrap()
    }

    #[test]
    fn an_entry_keeps_the_body_and_expires_after_the_retention_counted_from_receipt() {
        let entry = entry();
        assert_eq!(entry.body, BODY);
        assert_eq!(entry.summary.received_at, 1_796_032_800);
        assert_eq!(entry.expires_at, 1_796_032_800 + 86_400);
        assert_eq!(entry.summary.resource_id.as_deref(), Some("i-1"));
    }

    #[test]
    fn a_replay_is_marked_and_never_kept_again() {
        let message = entry().replay_message("r-1", 1_764_600_000);
        assert_eq!(message.replay_id.as_deref(), Some("r-1"));
        assert_eq!(message.group, "i-1");
        let envelope = ReceivedEnvelope::parse(&message.body).unwrap();
        let replay = envelope.replay.clone().unwrap();
        assert_eq!(replay.id, "r-1");
        assert_eq!(replay.at, "2025-12-01T14:40:00Z");
        // The rest of the envelope is the original's, the payload byte for byte.
        assert_eq!(envelope.event_id, "argyle#k");
        assert!(message.body.ends_with(r#","payload":{"a":1}}"#));
        assert!(HistoryEntry::of_message(&message.body, &envelope, 0, 1).is_none());
        // Another replay of the same occurrence is another message for a FIFO queue.
        assert_ne!(
            message.deduplication_id,
            entry().replay_message("r-2", 0).deduplication_id
        );
    }

    #[test]
    fn retention_in_days() {
        let days = |v: &str| retention_seconds(&|_: &str| Some(v.to_string()));
        assert_eq!(retention_seconds(&|_: &str| None).unwrap(), 30 * 86_400);
        assert_eq!(days("7").unwrap(), 7 * 86_400);
        assert!(days("0").is_err());
        assert!(days("ten").is_err());
        assert!(days("4000").is_err());
    }
}
