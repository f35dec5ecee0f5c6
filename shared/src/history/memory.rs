//! The history in memory, for unit tests of what reads and replays it.

use super::{
    EventSummary, HistoryEntry, HistoryError, HistoryStore, OccurrenceKey, Page, Selection,
};
use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct MemoryHistory {
    entries: Mutex<BTreeMap<OccurrenceKey, HistoryEntry>>,
}

impl MemoryHistory {
    pub fn all(&self) -> Vec<HistoryEntry> {
        self.entries.lock().unwrap().values().cloned().collect()
    }
}

/// Listing order: oldest first, then by event id.
fn order(summary: &EventSummary) -> (i64, &str) {
    (summary.received_at, summary.event_id.as_str())
}

impl HistoryStore for MemoryHistory {
    async fn keep(&self, entry: &HistoryEntry) -> Result<(), HistoryError> {
        let mut entries = self.entries.lock().unwrap();
        let replays = entries
            .get(&entry.summary.key())
            .map(|e| e.replays.clone())
            .unwrap_or_default();
        let mut entry = entry.clone();
        entry.replays = replays;
        entries.insert(entry.summary.key(), entry);
        Ok(())
    }

    async fn delete(&self, key: &OccurrenceKey) -> Result<bool, HistoryError> {
        Ok(self.entries.lock().unwrap().remove(key).is_some())
    }

    async fn occurrences(&self, event_id: &str) -> Result<Vec<HistoryEntry>, HistoryError> {
        Ok(self
            .all()
            .into_iter()
            .filter(|e| e.summary.event_id == event_id)
            .collect())
    }

    async fn list(
        &self,
        selection: &Selection,
        after: Option<&OccurrenceKey>,
        limit: usize,
    ) -> Result<Page, HistoryError> {
        let mut events: Vec<EventSummary> = self
            .all()
            .into_iter()
            .map(|e| e.summary)
            .filter(|s| selection.covers(s))
            .collect();
        events.sort_by(|a, b| order(a).cmp(&order(b)));
        if let Some(after) = after {
            let after = (after.received_at, after.event_id.as_str());
            events.retain(|s| order(s) > after);
        }
        let limit = limit.max(1);
        let next = (events.len() > limit).then(|| events[limit - 1].key());
        events.truncate(limit);
        Ok(Page { events, next })
    }

    async fn entries(&self, keys: &[OccurrenceKey]) -> Result<Vec<HistoryEntry>, HistoryError> {
        let entries = self.entries.lock().unwrap();
        Ok(keys
            .iter()
            .filter_map(|k| entries.get(k).cloned())
            .collect())
    }

    async fn mark_replayed(
        &self,
        key: &OccurrenceKey,
        replay_id: &str,
    ) -> Result<(), HistoryError> {
        if let Some(entry) = self.entries.lock().unwrap().get_mut(key) {
            if !entry.replays.iter().any(|r| r == replay_id) {
                entry.replays.push(replay_id.to_string());
                entry.replays.sort();
            }
        }
        Ok(())
    }
}
