//! An in-memory [`EventStore`] for unit tests of the pipeline and for benchmarks.

use super::{
    decide, Claim, ClaimOutcome, DedupRecord, EventStore, RecordStatus, StoreError, Stranded,
};
use crate::envelope::QueueMessage;
use std::collections::HashMap;
use std::sync::Mutex;

/// A record, the attempt holding it, and the message kept for the sweeper.
type Entry = (DedupRecord, String, QueueMessage);

#[derive(Default)]
pub struct MemoryEventStore {
    records: Mutex<HashMap<String, Entry>>,
}

impl MemoryEventStore {
    pub fn record(&self, event_id: &str) -> Option<DedupRecord> {
        self.records
            .lock()
            .unwrap()
            .get(event_id)
            .map(|(record, _, _)| record.clone())
    }

    pub fn len(&self) -> usize {
        self.records.lock().unwrap().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What the enricher does to a content-keyed event before it reads the resource
    /// (`dynamodb::reopen` in production).
    pub fn consume(&self, event_id: &str) {
        if let Some((record, _, _)) = self.records.lock().unwrap().get_mut(event_id) {
            record.status = RecordStatus::Consumed;
        }
    }
}

impl EventStore for MemoryEventStore {
    async fn claim(&self, claim: &Claim) -> Result<ClaimOutcome, StoreError> {
        let mut records = self.records.lock().unwrap();
        let outcome = decide(records.get(claim.event_id()).map(|(r, _, _)| r), claim);
        if outcome == ClaimOutcome::Claimed {
            let record = DedupRecord {
                status: RecordStatus::Received,
                payload_sha256: claim.payload_sha256.clone(),
                lease_expires_at: claim.lease_expires_at,
                expires_at: claim.expires_at,
                claim_id: Some(claim.claim_id.clone()),
            };
            records.insert(
                claim.event_id().to_string(),
                (record, claim.claim_id.clone(), claim.message.clone()),
            );
        }
        Ok(outcome)
    }

    async fn mark_enqueued(
        &self,
        event_id: &str,
        claim_id: &str,
        _now: i64,
    ) -> Result<(), StoreError> {
        // As DynamoDB's condition: only the attempt holding a RECEIVED record marks it.
        if let Some((record, owner, _)) = self.records.lock().unwrap().get_mut(event_id) {
            if record.status == RecordStatus::Received && owner == claim_id {
                record.status = RecordStatus::Enqueued;
            }
        }
        Ok(())
    }

    async fn release(&self, event_id: &str, claim_id: &str) -> Result<(), StoreError> {
        if let Some((record, owner, _)) = self.records.lock().unwrap().get_mut(event_id) {
            if owner == claim_id && record.status == RecordStatus::Received {
                record.lease_expires_at = 0;
            }
        }
        Ok(())
    }

    async fn stranded(&self, now: i64, limit: usize) -> Result<Vec<Stranded>, StoreError> {
        let records = self.records.lock().unwrap();
        let mut stranded: Vec<(i64, Stranded)> = records
            .values()
            .filter(|(r, _, _)| r.status == RecordStatus::Received && r.lease_expires_at <= now)
            .map(|(r, _, message)| {
                (
                    r.lease_expires_at,
                    Stranded {
                        message: message.clone(),
                    },
                )
            })
            .collect();
        stranded.sort_by_key(|(lease, _)| *lease);
        Ok(stranded.into_iter().take(limit).map(|(_, s)| s).collect())
    }

    async fn take_over(
        &self,
        event_id: &str,
        claim_id: &str,
        now: i64,
        lease_expires_at: i64,
    ) -> Result<bool, StoreError> {
        let mut records = self.records.lock().unwrap();
        match records.get_mut(event_id) {
            Some((record, owner, _))
                if record.status == RecordStatus::Received && record.lease_expires_at <= now =>
            {
                record.lease_expires_at = lease_expires_at;
                record.claim_id = Some(claim_id.to_string());
                *owner = claim_id.to_string();
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}
