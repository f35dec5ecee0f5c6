//! An in-memory [`EventStore`] for unit tests of the pipeline and for benchmarks.

use super::{decide, Claim, ClaimOutcome, DedupRecord, EventStore, RecordStatus, StoreError};
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct MemoryEventStore {
    records: Mutex<HashMap<String, (DedupRecord, String)>>,
}

impl MemoryEventStore {
    pub fn record(&self, event_id: &str) -> Option<DedupRecord> {
        self.records
            .lock()
            .unwrap()
            .get(event_id)
            .map(|(record, _)| record.clone())
    }

    pub fn len(&self) -> usize {
        self.records.lock().unwrap().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl EventStore for MemoryEventStore {
    async fn claim(&self, claim: &Claim) -> Result<ClaimOutcome, StoreError> {
        let mut records = self.records.lock().unwrap();
        let outcome = decide(records.get(&claim.event_id).map(|(r, _)| r), claim);
        if outcome == ClaimOutcome::Claimed {
            let record = DedupRecord {
                status: RecordStatus::Received,
                payload_sha256: claim.payload_sha256.clone(),
                lease_expires_at: claim.lease_expires_at,
                expires_at: claim.expires_at,
            };
            records.insert(claim.event_id.clone(), (record, claim.claim_id.clone()));
        }
        Ok(outcome)
    }

    async fn mark_enqueued(&self, event_id: &str, _now: i64) -> Result<(), StoreError> {
        match self.records.lock().unwrap().get_mut(event_id) {
            Some((record, _)) => {
                record.status = RecordStatus::Enqueued;
                Ok(())
            }
            None => Err(StoreError(format!("no record {event_id}"))),
        }
    }

    async fn release(&self, event_id: &str, claim_id: &str) -> Result<(), StoreError> {
        if let Some((record, owner)) = self.records.lock().unwrap().get_mut(event_id) {
            if owner == claim_id && record.status == RecordStatus::Received {
                record.lease_expires_at = 0;
            }
        }
        Ok(())
    }
}
