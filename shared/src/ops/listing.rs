//! A provider's kept events in a time range, read from the history's index a page at a time
//! (never a scan): what `events list` shows, `replay` sends and `forget` erases.

use crate::history::{EventSummary, HistoryError, HistoryStore, Selection};

/// How many occurrences one index query asks for.
const PAGE_SIZE: usize = 200;

/// Every occurrence in `selection`, oldest first, a page at a time; `on_page` hears the count
/// so far after each page.
pub async fn listed(
    store: &impl HistoryStore,
    selection: &Selection,
    mut on_page: impl FnMut(usize),
) -> Result<Vec<EventSummary>, HistoryError> {
    let mut events = Vec::new();
    let mut after = None;
    loop {
        let page = store.list(selection, after.as_ref(), PAGE_SIZE).await?;
        events.extend(page.events);
        on_page(events.len());
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(events),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{HistoryEntry, MemoryHistory};

    #[tokio::test]
    async fn listing_reads_every_page_oldest_first() {
        let store = MemoryHistory::default();
        for index in 0..(2 * PAGE_SIZE as i64 + 5) {
            let summary = EventSummary {
                event_id: format!("e{index:04}"),
                provider: "argyle".into(),
                event_type: "identities.added".into(),
                resource_id: None,
                received_at: 1_000 + index,
            };
            let kept = HistoryEntry {
                summary,
                body: "{}".into(),
                recorded_at: 1_000 + index,
                expires_at: 100_000,
                replays: Vec::new(),
            };
            store.keep(&kept).await.unwrap();
        }
        let selection = Selection {
            provider: "argyle".into(),
            since: 1_003,
            until: 1_000 + 2 * PAGE_SIZE as i64 + 2,
            event_type: None,
            resource_id: None,
        };
        let mut pages = 0;
        let events = listed(&store, &selection, |_| pages += 1).await.unwrap();
        assert_eq!(events.len(), 2 * PAGE_SIZE);
        assert_eq!(events[0].received_at, 1_003);
        assert!(events
            .windows(2)
            .all(|w| w[0].received_at < w[1].received_at));
        assert_eq!(pages, 2);
    }
}
