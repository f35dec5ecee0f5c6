//! Every identity of a provider, read from the identities table a page at a time: what
//! `identities list` shows and `identities export` writes for a new consumer to start from.
//!
//! The table has one key, `<provider>#<resource id>`, and no index, so a provider's identities
//! are a scan of the whole table filtered by provider (and state and change time). An index by
//! provider would make that a query, at one more write unit on every identity write for as long
//! as the stack runs; a listing is an operator's rare act, whose scan costs a read unit per
//! 8 KB of table (CAPACITY.md, "Listing and exporting the identities"). The scan is paced to a
//! number of read units a second, so the enricher's own reads are not starved, and resumable
//! from the key after the last identity it handed over.

use crate::attribute::{n, s, text};
use crate::identity::{dynamodb_error, identity_of, Identity, IdentityError};
use aws_sdk_dynamodb::types::ReturnConsumedCapacity;
use aws_sdk_dynamodb::Client;
use std::future::Future;
use std::time::Duration;

/// Which identities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub provider: String,
    /// `Some(true)`: tombstones only; `Some(false)`: present ones only.
    pub tombstones: Option<bool>,
    /// Changed at or after (Unix seconds).
    pub changed_since: Option<i64>,
    /// Changed before (Unix seconds).
    pub changed_before: Option<i64>,
}

impl Selection {
    pub fn matches(&self, identity: &Identity) -> bool {
        identity.key.provider == self.provider
            && self
                .tombstones
                .is_none_or(|tombstones| identity.is_tombstone() == tombstones)
            && self
                .changed_since
                .is_none_or(|since| identity.changed_at >= since)
            && self
                .changed_before
                .is_none_or(|before| identity.changed_at < before)
    }
}

/// One page of a scan: what it found, where the next one starts (none after the last), and
/// the read units it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanPage {
    pub identities: Vec<Identity>,
    pub next: Option<String>,
    pub read_units: f64,
}

/// The identities table, read in key order a page at a time.
pub trait IdentityScan: Send + Sync {
    /// Up to `limit` items read after `after` (a table key), those of `selection` returned.
    fn page(
        &self,
        selection: &Selection,
        after: Option<&str>,
        limit: usize,
    ) -> impl Future<Output = Result<ScanPage, IdentityError>> + Send;
}

/// How a run goes: how many items a page reads, at most how many read units a second, at
/// most how many identities it hands over before it stops (`None`: all).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pace {
    pub page_items: usize,
    pub read_units_per_second: f64,
    pub most: Option<u64>,
}

/// Where a run stopped: how many it handed over, and the key to resume after (none when the
/// table was read to its end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stopped {
    pub handed_over: u64,
    pub resume_after: Option<String>,
}

/// Hands every identity of `selection` to `each_page` a page at a time, from after `resume`,
/// at `pace`; `each_page` hears a page's identities and the key to resume after once it has
/// them (a page is handed over whole, so a resume after a page is exact). A page that would
/// pass `pace.most` is cut, and the run stops after its last identity handed over.
pub async fn scan_identities<E>(
    table: &impl IdentityScan,
    selection: &Selection,
    resume: Option<String>,
    pace: Pace,
    mut each_page: impl FnMut(&[Identity], Option<&str>) -> Result<(), E>,
) -> Result<Stopped, ScanError<E>> {
    let mut after = resume;
    let mut handed_over = 0u64;
    loop {
        let started = std::time::Instant::now();
        let mut page = table
            .page(selection, after.as_deref(), pace.page_items)
            .await
            .map_err(ScanError::Read)?;
        let room = pace
            .most
            .map(|most| most.saturating_sub(handed_over) as usize);
        if let Some(room) = room.filter(|room| *room < page.identities.len()) {
            // Stop after the last one handed over: the resume key is its own.
            page.identities.truncate(room);
            let last = page
                .identities
                .last()
                .map(|i| i.key.text())
                .or(after.clone());
            each_page(&page.identities, last.as_deref()).map_err(ScanError::Sink)?;
            handed_over += room as u64;
            return Ok(Stopped {
                handed_over,
                resume_after: last,
            });
        }
        each_page(&page.identities, page.next.as_deref()).map_err(ScanError::Sink)?;
        handed_over += page.identities.len() as u64;
        after = page.next;
        if after.is_none() || pace.most.is_some_and(|most| handed_over >= most) {
            return Ok(Stopped {
                handed_over,
                resume_after: after,
            });
        }
        // The pace: this page's read units spread over as many seconds as the rate asks.
        let due = Duration::from_secs_f64(page.read_units / pace.read_units_per_second.max(0.1));
        if let Some(wait) = due.checked_sub(started.elapsed()) {
            tokio::time::sleep(wait).await;
        }
    }
}

/// A scan stopped by the table or by what the pages were handed to.
#[derive(Debug, thiserror::Error)]
pub enum ScanError<E> {
    #[error("{0}")]
    Read(IdentityError),
    #[error("{0}")]
    Sink(E),
}

/// The identities table on DynamoDB, scanned: the adapter of [`IdentityScan`]. Its calls are
/// authorized as `dynamodb:Scan` on the table, which the operator policy grants.
pub struct DynamoDbIdentityScan {
    client: Client,
    table: String,
}

impl DynamoDbIdentityScan {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

/// A page of `limit` items read (the filter keeps the selection's; the read units are those
/// of the items read, not only of those returned).
impl IdentityScan for DynamoDbIdentityScan {
    async fn page(
        &self,
        selection: &Selection,
        after: Option<&str>,
        limit: usize,
    ) -> Result<ScanPage, IdentityError> {
        let mut filter = vec!["provider = :provider".to_string()];
        let mut request = self
            .client
            .scan()
            .table_name(&self.table)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .expression_attribute_values(":provider", s(&selection.provider));
        if let Some(tombstones) = selection.tombstones {
            filter.push("#state = :state".into());
            request = request
                .expression_attribute_names("#state", "state")
                .expression_attribute_values(
                    ":state",
                    s(if tombstones { "TOMBSTONE" } else { "PRESENT" }),
                );
        }
        if let Some(since) = selection.changed_since {
            filter.push("changed_at >= :since".into());
            request = request.expression_attribute_values(":since", n(since));
        }
        if let Some(before) = selection.changed_before {
            filter.push("changed_at < :before".into());
            request = request.expression_attribute_values(":before", n(before));
        }
        if let Some(after) = after {
            request = request.exclusive_start_key("resource_key", s(after));
        }
        let output = request
            .filter_expression(filter.join(" AND "))
            .send()
            .await
            .map_err(|e| dynamodb_error("Scan", e))?;
        let identities = output
            .items()
            .iter()
            .map(|item| {
                identity_of(item).ok_or_else(|| {
                    IdentityError::other(format!(
                        "an item under {} is not an identity record hookline can read",
                        text(item, "resource_key").unwrap_or_default()
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ScanPage {
            identities,
            next: output
                .last_evaluated_key()
                .and_then(|key| text(key, "resource_key")),
            read_units: output
                .consumed_capacity()
                .and_then(|c| c.capacity_units())
                .unwrap_or(limit as f64),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::IdentityKey;
    use std::sync::Mutex;

    /// A table in key order, read `limit` items at a time, each item costing one read unit.
    struct MemoryTable {
        identities: Vec<Identity>,
        reads: Mutex<Vec<Option<String>>>,
    }

    impl MemoryTable {
        fn new(count: usize) -> Self {
            let mut identities: Vec<Identity> = (0..count)
                .map(|i| {
                    let provider = if i % 3 == 2 { "baack" } else { "argyle" };
                    identity(provider, &format!("idn_{i:03}"), i as i64, i % 4 == 3)
                })
                .collect();
            identities.sort_by_key(|i| i.key.text());
            Self {
                identities,
                reads: Mutex::new(Vec::new()),
            }
        }
    }

    fn identity(provider: &str, id: &str, changed_at: i64, tombstone: bool) -> Identity {
        Identity {
            key: IdentityKey::new(provider, id),
            data: (!tombstone).then(|| format!(r#"{{"id":"{id}"}}"#)),
            source_updated_at: None,
            read_started_ms: 0,
            fetched_at: changed_at,
            event_id: format!("{provider}#{id}"),
            event_type: "identities.added".into(),
            revision: 1,
            changed_at,
            version: 1,
            expires_at: 1_000_000,
            pending: None,
        }
    }

    impl IdentityScan for MemoryTable {
        async fn page(
            &self,
            selection: &Selection,
            after: Option<&str>,
            limit: usize,
        ) -> Result<ScanPage, IdentityError> {
            self.reads.lock().unwrap().push(after.map(String::from));
            let start = after.map_or(0, |after| {
                self.identities
                    .iter()
                    .position(|i| i.key.text().as_str() > after)
                    .unwrap_or(self.identities.len())
            });
            let read = &self.identities[start..(start + limit).min(self.identities.len())];
            let next = (start + read.len() < self.identities.len())
                .then(|| read.last().map(|i| i.key.text()))
                .flatten();
            Ok(ScanPage {
                identities: read
                    .iter()
                    .filter(|i| selection.matches(i))
                    .cloned()
                    .collect(),
                next,
                read_units: read.len() as f64,
            })
        }
    }

    fn argyle() -> Selection {
        Selection {
            provider: "argyle".into(),
            tombstones: None,
            changed_since: None,
            changed_before: None,
        }
    }

    fn pace(most: Option<u64>) -> Pace {
        Pace {
            page_items: 7,
            read_units_per_second: 1e9,
            most,
        }
    }

    async fn collect(
        table: &MemoryTable,
        selection: &Selection,
        resume: Option<String>,
        most: Option<u64>,
    ) -> (Vec<String>, Stopped) {
        let mut seen = Vec::new();
        let stopped = scan_identities(table, selection, resume, pace(most), |page, _| {
            seen.extend(page.iter().map(|i| i.key.resource_id.clone()));
            Ok::<_, std::convert::Infallible>(())
        })
        .await
        .unwrap();
        (seen, stopped)
    }

    #[tokio::test]
    async fn every_identity_of_the_provider_once_across_pages() {
        let table = MemoryTable::new(40);
        let (seen, stopped) = collect(&table, &argyle(), None, None).await;
        let expected: Vec<String> = table
            .identities
            .iter()
            .filter(|i| i.key.provider == "argyle")
            .map(|i| i.key.resource_id.clone())
            .collect();
        assert_eq!(seen, expected);
        assert_eq!(stopped.handed_over, expected.len() as u64);
        assert_eq!(stopped.resume_after, None);
        assert_eq!(table.reads.lock().unwrap().len(), 40usize.div_ceil(7));
    }

    #[tokio::test]
    async fn runs_cut_short_and_resumed_hand_over_each_identity_once() {
        let table = MemoryTable::new(40);
        let (all, _) = collect(&table, &argyle(), None, None).await;
        let mut seen = Vec::new();
        let mut resume = None;
        for _ in 0..20 {
            let (part, stopped) = collect(&table, &argyle(), resume.clone(), Some(4)).await;
            seen.extend(part);
            resume = stopped.resume_after;
            if resume.is_none() {
                break;
            }
        }
        assert_eq!(seen, all);
    }

    #[tokio::test]
    async fn state_and_change_time_narrow_the_selection() {
        let table = MemoryTable::new(40);
        let selection = Selection {
            tombstones: Some(true),
            changed_since: Some(20),
            changed_before: Some(36),
            ..argyle()
        };
        let (seen, _) = collect(&table, &selection, None, None).await;
        assert!(!seen.is_empty());
        for id in &seen {
            let identity = table
                .identities
                .iter()
                .find(|i| &i.key.resource_id == id)
                .unwrap();
            assert!(
                identity.is_tombstone() && (20..36).contains(&identity.changed_at),
                "{id}"
            );
        }
    }

    #[tokio::test]
    async fn a_failing_sink_stops_the_scan_at_its_page() {
        let table = MemoryTable::new(40);
        let mut pages = 0;
        let error = scan_identities(&table, &argyle(), None, pace(None), |_, _| {
            pages += 1;
            if pages == 2 {
                Err("disk full")
            } else {
                Ok(())
            }
        })
        .await
        .unwrap_err();
        assert!(matches!(error, ScanError::Sink("disk full")));
        assert_eq!(table.reads.lock().unwrap().len(), 2);
    }
}
