//! The dedup record and its state machine, and the port to whatever stores it.
//!
//! ```text
//!            claim (absent | expired | RECEIVED with lapsed lease, same payload)
//!   (none) ──────────────────────────────────────────────▶ RECEIVED ──send ok──▶ ENQUEUED
//!                                                            │  ▲
//!                                       send failed: release │  │ a retry claims it again
//!                                       (lease ends now)     ▼  │
//!                                                          RECEIVED, lease lapsed
//! ```
//! A record counts as absent once `expires_at` has passed, whatever TTL has deleted yet. A RECEIVED
//! record whose lease lapsed with nobody retrying is found by the sweeper, which takes it over
//! and completes the handoff with the message kept on the record.

mod dynamodb;
mod memory;

pub use dynamodb::PENDING_INDEX;

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
}

impl RecordStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordStatus::Received => "RECEIVED",
            RecordStatus::Enqueued => "ENQUEUED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "RECEIVED" => Some(RecordStatus::Received),
            "ENQUEUED" => Some(RecordStatus::Enqueued),
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

/// The store failed or could not be reached; the delivery must be retried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event store: {0}")]
pub struct StoreError(pub String);

/// Where dedup records live (DynamoDB in production).
pub trait EventStore: Send + Sync {
    /// Creates or takes over the record for `claim.event_id` if [`decide`] allows it, atomically.
    fn claim(&self, claim: &Claim)
        -> impl Future<Output = Result<ClaimOutcome, StoreError>> + Send;

    /// Records that the event is in the queue.
    fn mark_enqueued(
        &self,
        event_id: &str,
        now: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Ends this attempt's lease at once so that the provider's next retry can claim the event.
    /// Does nothing when another attempt owns the record by now.
    fn release(
        &self,
        event_id: &str,
        claim_id: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Up to `limit` RECEIVED records whose lease lapsed by `now` (the sweeper's work list).
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
                body: "{}".into(),
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
    }
}
