//! The sweeper: completes handoffs whose attempt died between the claim and the send (a Lambda
//! timeout or crash) when the provider does not retry. Runs on a schedule.

mod runtime;

pub use runtime::{run, SweeperConfig};

use crate::queue::EventQueue;
use crate::store::EventStore;

/// How many stranded records one run takes on at most; the next run takes the rest. The store
/// shares it over the index's keys (64 shards and the legacy key: at least one record each
/// that has any, see `store::pending`), so one crowded shard cannot hold the others back.
pub const BATCH: usize = 100;

#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SweepReport {
    /// RECEIVED records with a lapsed lease.
    pub found: usize,
    /// Handed to the queue and marked ENQUEUED.
    pub sent: usize,
    /// Taken by someone else between the query and the take-over (a provider retry, or the
    /// enricher consuming a content-keyed event whose message did reach the queue).
    pub skipped: usize,
    /// Left for the next run (queue or store failure); their lease lapses again.
    pub failed: usize,
}

/// One pass. Each stranded record is taken over with a fresh lease (so a concurrent retry of
/// the provider gets `in_progress`, not a second send), sent, then marked ENQUEUED.
pub async fn sweep<S: EventStore, Q: EventQueue>(
    store: &S,
    queue: &Q,
    sweep_id: &str,
    now: i64,
    lease_seconds: u64,
) -> Result<SweepReport, crate::store::StoreError> {
    let stranded = store.stranded(now, BATCH).await?;
    let mut report = SweepReport {
        found: stranded.len(),
        ..SweepReport::default()
    };
    for item in stranded {
        let event_id = item.message.event_id.as_str();
        let lease = now.saturating_add_unsigned(lease_seconds);
        match store.take_over(event_id, sweep_id, now, lease).await {
            Ok(true) => {}
            Ok(false) => {
                report.skipped += 1;
                continue;
            }
            Err(e) => {
                tracing::warn!(event_id, error = %e, "sweeper could not take the record over");
                report.failed += 1;
                continue;
            }
        }
        if let Err(e) = queue.send(&item.message).await {
            tracing::warn!(event_id, error = %e, "sweeper could not send; next run retries");
            report.failed += 1;
            continue;
        }
        if let Err(e) = store.mark_enqueued(event_id, sweep_id, now).await {
            tracing::warn!(event_id, error = %e, "sent by the sweeper but not marked ENQUEUED");
        }
        tracing::info!(event_id, outcome = "swept", "stranded event handed off");
        report.sent += 1;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::QueueMessage;
    use crate::queue::MemoryEventQueue;
    use crate::store::{Claim, MemoryEventStore, RecordStatus};

    fn claim(id: &str, now: i64, lease: i64) -> Claim {
        Claim {
            message: QueueMessage {
                event_id: id.into(),
                provider: "argyle".into(),
                event_type: "identities.added".into(),
                group: "argyle".into(),
                deduplication_id: format!("dedup-{id}"),
                body: format!("{{\"event_id\":\"{id}\"}}"),
                replay_id: None,
            },
            payload_sha256: "sha".into(),
            claim_id: "dead-attempt".into(),
            now,
            lease_expires_at: lease,
            expires_at: now + 600,
        }
    }

    #[tokio::test]
    async fn only_lapsed_received_records_are_sent_once() {
        let (store, queue) = (MemoryEventStore::default(), MemoryEventQueue::default());
        store.claim(&claim("a#lapsed", 100, 130)).await.unwrap();
        store.claim(&claim("a#live", 100, 200)).await.unwrap();
        store.claim(&claim("a#done", 100, 130)).await.unwrap();
        store
            .mark_enqueued("a#done", "dead-attempt", 101)
            .await
            .unwrap();

        let report = sweep(&store, &queue, "sweep-1", 150, 30).await.unwrap();
        assert_eq!(
            report,
            SweepReport {
                found: 1,
                sent: 1,
                skipped: 0,
                failed: 0
            }
        );
        let sent: Vec<String> = queue.messages().into_iter().map(|m| m.event_id).collect();
        assert_eq!(sent, ["a#lapsed"]);
        assert_eq!(
            store.record("a#lapsed").unwrap().status,
            RecordStatus::Enqueued
        );
        assert_eq!(
            store.record("a#live").unwrap().status,
            RecordStatus::Received
        );

        let again = sweep(&store, &queue, "sweep-2", 150, 30).await.unwrap();
        assert_eq!(again.found, 0);
        assert_eq!(queue.messages().len(), 1);
    }

    #[tokio::test]
    async fn a_failed_send_is_left_for_the_next_run() {
        let (store, queue) = (MemoryEventStore::default(), MemoryEventQueue::default());
        store.claim(&claim("a#x", 100, 130)).await.unwrap();
        queue.fail_next(1);
        let report = sweep(&store, &queue, "sweep-1", 150, 30).await.unwrap();
        assert_eq!(report.failed, 1);
        assert_eq!(store.record("a#x").unwrap().status, RecordStatus::Received);
        // Its new lease (150 + 30) must lapse before the next run takes it.
        assert_eq!(
            sweep(&store, &queue, "sweep-2", 170, 30)
                .await
                .unwrap()
                .found,
            0
        );
        let report = sweep(&store, &queue, "sweep-3", 180, 30).await.unwrap();
        assert_eq!(report.sent, 1);
        assert_eq!(queue.messages().len(), 1);
    }
}
