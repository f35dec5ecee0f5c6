//! The dedup record and its state machine, and the port to whatever stores it.
//!
//! ```text
//!            claim (absent | expired | CONSUMED | RECEIVED with lapsed lease, same payload)
//!   (none) ──────────────────────────────────────────────▶ RECEIVED ──send ok──▶ ENQUEUED
//!                                                            │  ▲                  │
//!                                       send failed: release │  │ a retry claims   │ enricher
//!                                       (lease ends now)     ▼  │ it again         │ takes it
//!                                                          RECEIVED, lease lapsed  ▼ (content-
//!                                                                               CONSUMED keyed)
//! ```
//! A record counts as absent once `expires_at` has passed, whatever TTL has deleted yet. A RECEIVED
//! record whose lease lapsed with nobody retrying is found by the sweeper, which takes it over
//! and completes the handoff with the message kept on the record.
//!
//! CONSUMED exists for content-keyed events (`Delivery::keyed_by_content`: Argyle, ClearID
//! without an ordinal), whose notifications only say "fetch resource X" and whose repeats are
//! byte-identical whether they are retries or new changes. The enricher marks the record
//! CONSUMED *before* it reads the resource (from RECEIVED or ENQUEUED, for this occurrence
//! only): a repeat that arrived before that mark is covered by the read that follows it, and a
//! repeat after it is claimed as a new occurrence and read again. So a repeat is collapsed only
//! while no read has started, and no change is ever merged into an earlier read.

mod dynamodb;
mod memory;
mod pending;

pub use dynamodb::{forget, peek, reopen, ForgottenRecord, PENDING_INDEX};
pub use pending::{pending_key, pending_shard, swept_keys, LEGACY_PENDING_KEY, PENDING_SHARDS};

pub use dynamodb::DynamoDbEventStore;
pub use memory::MemoryEventStore;

use crate::envelope::QueueMessage;
use std::future::Future;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordStatus {
    /// Claimed by an attempt that has not yet confirmed the queue send.
    Received,
    /// Durably in the queue.
    Enqueued,
    /// A content-keyed event the enricher has taken: the next identical notification is a new
    /// occurrence of the event.
    Consumed,
}

impl RecordStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordStatus::Received => "RECEIVED",
            RecordStatus::Enqueued => "ENQUEUED",
            RecordStatus::Consumed => "CONSUMED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "RECEIVED" => Some(RecordStatus::Received),
            "ENQUEUED" => Some(RecordStatus::Enqueued),
            "CONSUMED" => Some(RecordStatus::Consumed),
            _ => None,
        }
    }
}

/// What the pipeline needs to know of an existing record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DedupRecord {
    pub status: RecordStatus,
    pub payload_sha256: String,
    /// Until when the attempt holding a RECEIVED record may still finish (epoch seconds).
    pub lease_expires_at: i64,
    /// When the record stops counting (epoch seconds; also the TTL attribute).
    pub expires_at: i64,
    /// The attempt holding a RECEIVED record.
    pub claim_id: Option<String>,
}

/// One attempt's request to own an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The message to hand off. Kept on the record while it is RECEIVED, so that the sweeper can
    /// complete the handoff of an attempt that died after the claim.
    pub message: QueueMessage,
    pub payload_sha256: String,
    /// Identifies the attempt (the Lambda request id), so only it can release its lease.
    pub claim_id: String,
    pub now: i64,
    pub lease_expires_at: i64,
    pub expires_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// This attempt owns the event and must send it.
    Claimed,
    /// Already durably queued with the same payload.
    Duplicate,
    /// Another attempt holds a live lease on the same payload.
    InProgress { retry_after_seconds: u64 },
    /// The key is taken by a different payload.
    Conflict,
}

/// The one place the claim rule is written down. DynamoDB evaluates the same rule as a
/// condition expression (see `dynamodb.rs`); this decides for the in-memory store and explains a
/// failed condition from the old item DynamoDB returns.
pub fn decide(existing: Option<&DedupRecord>, claim: &Claim) -> ClaimOutcome {
    let Some(record) = existing else {
        return ClaimOutcome::Claimed;
    };
    if record.expires_at <= claim.now {
        return ClaimOutcome::Claimed;
    }
    if record.payload_sha256 != claim.payload_sha256 {
        return ClaimOutcome::Conflict;
    }
    match record.status {
        RecordStatus::Consumed => ClaimOutcome::Claimed,
        RecordStatus::Enqueued => ClaimOutcome::Duplicate,
        RecordStatus::Received if record.lease_expires_at <= claim.now => ClaimOutcome::Claimed,
        // Our own earlier write (an SDK retry of a put whose answer was lost) is ours.
        RecordStatus::Received if record.claim_id.as_deref() == Some(claim.claim_id.as_str()) => {
            ClaimOutcome::Claimed
        }
        RecordStatus::Received => ClaimOutcome::InProgress {
            retry_after_seconds: (record.lease_expires_at - claim.now).max(1) as u64,
        },
    }
}

impl Claim {
    pub fn event_id(&self) -> &str {
        &self.message.event_id
    }
}

/// A RECEIVED record whose lease lapsed: its attempt died between the claim and the send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stranded {
    pub message: QueueMessage,
}

crate::port_error::port_error!(
    /// The store failed or could not be reached; the delivery must be retried.
    StoreError,
    "event store"
);

/// Where dedup records live (DynamoDB in production).
pub trait EventStore: Send + Sync {
    /// Creates or takes over the record for `claim.event_id` if [`decide`] allows it, atomically.
    fn claim(&self, claim: &Claim)
        -> impl Future<Output = Result<ClaimOutcome, StoreError>> + Send;

    /// Records that the event is in the queue, if the attempt `claim_id` still holds it. The
    /// record may have moved on meanwhile: the enricher may consume a content-keyed event before
    /// its sender marks it, and the next occurrence may already be claimed by another attempt,
    /// whose handoff this mark must not end.
    fn mark_enqueued(
        &self,
        event_id: &str,
        claim_id: &str,
        now: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Ends this attempt's lease at once so that the provider's next retry can claim the event.
    /// Does nothing when another attempt owns the record by now.
    fn release(
        &self,
        event_id: &str,
        claim_id: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Up to `limit` RECEIVED records whose lease lapsed by `now`, oldest lease first (the
    /// sweeper's work list). DynamoDB reads every key of its index and shares `limit` fairly
    /// between them (`pending::take_fairly`).
    fn stranded(
        &self,
        now: i64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Stranded>, StoreError>> + Send;

    /// Takes a lapsed lease over (for the sweeper), atomically; `false` when someone else did.
    fn take_over(
        &self,
        event_id: &str,
        claim_id: &str,
        now: i64,
        lease_expires_at: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(sha: &str, now: i64) -> Claim {
        Claim {
            message: QueueMessage {
                event_id: "p#k".into(),
                provider: "p".into(),
                event_type: "t".into(),
                group: "p".into(),
                deduplication_id: "d".into(),
                body: "{}".into(),
                replay_id: None,
            },
            payload_sha256: sha.into(),
            claim_id: "req".into(),
            now,
            lease_expires_at: now + 30,
            expires_at: now + 600,
        }
    }

    fn record(status: RecordStatus, lease: i64, expires: i64) -> DedupRecord {
        DedupRecord {
            status,
            payload_sha256: "a".into(),
            lease_expires_at: lease,
            expires_at: expires,
            claim_id: Some("another attempt".into()),
        }
    }

    #[test]
    fn every_transition() {
        use ClaimOutcome::*;
        use RecordStatus::*;
        let now = 1000;
        assert_eq!(decide(None, &claim("a", now)), Claimed);
        assert_eq!(
            decide(Some(&record(Enqueued, 0, now + 1)), &claim("a", now)),
            Duplicate
        );
        assert_eq!(
            decide(Some(&record(Enqueued, 0, now + 1)), &claim("b", now)),
            Conflict
        );
        assert_eq!(
            decide(Some(&record(Enqueued, 0, now)), &claim("b", now)),
            Claimed
        );
        assert_eq!(
            decide(
                Some(&record(Received, now + 7, now + 600)),
                &claim("a", now)
            ),
            InProgress {
                retry_after_seconds: 7
            }
        );
        assert_eq!(
            decide(Some(&record(Received, now, now + 600)), &claim("a", now)),
            Claimed
        );
        assert_eq!(
            decide(Some(&record(Received, now, now + 600)), &claim("b", now)),
            Conflict
        );
        assert_eq!(
            decide(Some(&record(Received, now + 7, now)), &claim("b", now)),
            Claimed
        );
        // Consumed: the enricher has taken the earlier occurrence, this one is new.
        assert_eq!(
            decide(Some(&record(Consumed, 0, now + 600)), &claim("a", now)),
            Claimed
        );
    }
}
