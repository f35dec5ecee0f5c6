//! Erasure: one identity's data, everywhere hookline keeps it, item by item: the identity
//! record, the history's occurrences about it, the dedup records of their events (and the
//! `enriched#` items older versions wrote); then what the queues may still hold, and a
//! `forgotten` change event (without data) so that downstream systems erase their copies.
//!
//! What is erased, in what order, and what is counted is decided in [`forget`], plain Rust over
//! ports ([`IdentityStore`], [`HistoryStore`], [`EventRecords`], [`QueueDepths`],
//! [`ChangePublisher`]); [`DynamoDbRecords`] and [`Bus`] are the adapters this module adds to
//! the library's own. What a person or a program is told of each item is said here too
//! ([`item_line`], [`item_json`], [`closing_line`], [`summary_json`]): the CLI prints it.
//!
//! A deletion that fails is reported and the rest carried on with: running forget again erases
//! what is left (what leads to it is kept until then). The change event is not sent while the
//! identity record is still stored.

use super::listing::listed;
use super::queues::{Depth, Queue, QueueDepths};
use crate::clock::rfc3339;
use crate::history::{EventSummary, HistoryStore, OccurrenceKey, Selection};
use crate::identity::change::fields_of;
use crate::identity::{
    Change, ChangeKind, ChangePublisher, Deletion, EventBridgePublisher, Identity, IdentityKey,
    IdentityStore, PublishError,
};
use crate::store::{ForgottenRecord, RecordStatus, StoreError};
use std::collections::BTreeSet;
use std::future::Future;

/// The key prefix of the items older versions wrote in the events table, one per event.
const LEGACY_PREFIX: &str = "enriched#";

/// The events table's items about one event: its dedup record (key: the event id) and the
/// `enriched#<event id>` item older versions wrote.
pub trait EventRecords: Send + Sync {
    /// The dedup record, read.
    fn dedup(
        &self,
        event_id: &str,
    ) -> impl Future<Output = Result<Option<ForgottenRecord>, StoreError>> + Send;

    /// Deletes the dedup record, returning what it was.
    fn forget_dedup(
        &self,
        event_id: &str,
    ) -> impl Future<Output = Result<Option<ForgottenRecord>, StoreError>> + Send;

    /// Whether the legacy `enriched#` item is there.
    fn legacy(&self, event_id: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Deletes the legacy item; `false` when there was none.
    fn forget_legacy(
        &self,
        event_id: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// The stores a forget works on.
pub struct Ports<'a, I, H, E, Q, P> {
    pub identities: &'a I,
    pub history: &'a H,
    pub records: &'a E,
    pub queues: &'a Q,
    /// Not called in a dry run.
    pub publisher: &'a P,
}

/// One thing a forget looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    IdentityRecord,
    /// Reading which history items are about the identity.
    HistoryLookup,
    HistoryItem(OccurrenceKey),
    DedupRecord(String),
    /// `enriched#<event id>`.
    LegacyItem(String),
    Queue(Queue),
    ChangeEvent,
}

/// What became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Done {
    /// Deleted (a dry run: found, and would be deleted); a note on what it was.
    Erased(Option<String>),
    /// Nothing stored there.
    Absent,
    /// A queue's counts.
    Counted(Depth),
    /// The change event was sent (a dry run: would be); its detail type and revision.
    Sent {
        detail_type: String,
        revision: u64,
    },
    /// The change event was not sent, and why.
    Held(String),
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub target: Target,
    pub done: Done,
}

/// What a forget erased (a dry run: would erase).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub identity_records: usize,
    pub history_items: usize,
    pub dedup_records: usize,
    pub legacy_items: usize,
    pub change_event_sent: bool,
    pub failed: usize,
}

impl Tally {
    fn add(&mut self, item: &Item) {
        match (&item.target, &item.done) {
            (_, Done::Failed(_)) => self.failed += 1,
            (Target::IdentityRecord, Done::Erased(_)) => self.identity_records += 1,
            (Target::HistoryItem(_), Done::Erased(_)) => self.history_items += 1,
            (Target::DedupRecord(_), Done::Erased(_)) => self.dedup_records += 1,
            (Target::LegacyItem(_), Done::Erased(_)) => self.legacy_items += 1,
            (Target::ChangeEvent, Done::Sent { .. }) => self.change_event_sent = true,
            _ => {}
        }
    }
}

/// The event ids whose records may hold the identity: those of its history items, the one
/// that last fetched it (and of its unsent change), and for Midbound, whose events name no
/// resource, the identity's own key (the enricher keys a Midbound identity by its event).
fn event_ids(
    key: &IdentityKey,
    identity: Option<&Identity>,
    occurrences: &[EventSummary],
) -> BTreeSet<String> {
    let mut ids: BTreeSet<String> = occurrences.iter().map(|s| s.event_id.clone()).collect();
    if let Some(identity) = identity {
        ids.insert(identity.event_id.clone());
        if let Some(id) = identity.pending.as_ref().and_then(|c| c.event_id.clone()) {
            ids.insert(id);
        }
    }
    if names_no_resource(key) {
        ids.insert(key.text());
    }
    ids.retain(|id| !id.is_empty());
    ids
}

/// Whether the provider's events name no resource, so that the enricher keys each of its
/// identities by the event itself (`midbound#<webhook-id>`).
fn names_no_resource(key: &IdentityKey) -> bool {
    crate::providers::find(&key.provider).is_some_and(|provider| !provider.names_resource)
}

/// The history's occurrences about `key`: by its resource index, and those kept under its own
/// key as event id (Midbound's), each once, oldest first.
async fn occurrences_about(
    history: &impl HistoryStore,
    key: &IdentityKey,
) -> Result<Vec<EventSummary>, String> {
    let selection = Selection {
        provider: key.provider.clone(),
        since: 0,
        // 9999-12-31T23:59:59Z: every occurrence kept.
        until: 253_402_300_799,
        event_type: None,
        resource_id: Some(key.resource_id.clone()),
    };
    let mut found = listed(history, &selection, |_| {})
        .await
        .map_err(|e| e.to_string())?;
    // Only a provider whose events name no resource (Midbound) keys an identity by its event:
    // for the others an id shaped like an event key would reach another event's history.
    if names_no_resource(key) {
        let own = history
            .occurrences(&key.text())
            .await
            .map_err(|e| e.to_string())?;
        found.extend(own.into_iter().map(|entry| entry.summary));
    }
    found.sort_by(|a, b| (a.received_at, &a.event_id).cmp(&(b.received_at, &b.event_id)));
    found.dedup_by(|a, b| a.key() == b.key());
    Ok(found)
}

fn dedup_note(record: &ForgottenRecord) -> Option<String> {
    let status = record.status.map(RecordStatus::as_str);
    match (status, record.held_message) {
        (Some(status), true) => Some(format!("{status}, held its queue message")),
        (Some(status), false) => Some(status.to_string()),
        (None, true) => Some("held its queue message".into()),
        (None, false) => None,
    }
}

/// The `forgotten` change for an identity whose erased state was `erased`.
pub fn forgotten_change(key: &IdentityKey, erased: Option<&Identity>, now: i64) -> Change {
    let data = erased.and_then(Identity::data_value);
    Change {
        provider: key.provider.clone(),
        resource_id: key.resource_id.clone(),
        change: ChangeKind::Forgotten,
        changed_fields: data.as_ref().map(fields_of).unwrap_or_default(),
        revision: erased.map_or(1, |identity| identity.revision + 1),
        event_id: None,
        event_type: None,
        changed_at: rfc3339(now),
        source_updated_at: None,
        had_data_before: data.is_some(),
    }
}

/// Erases `key` (a dry run: reads what would be erased), telling `on_item` each item in turn:
/// each event's dedup record and legacy item (a legacy item only when there is one), the
/// history items, the identity record, the two queues' counts, the change event. What leads to
/// an event whose records could not be deleted (its history items, the identity record naming
/// it) is kept, so that running forget again finds them; the change event waits for the
/// identity record to be gone.
pub async fn forget<I, H, E, Q, P>(
    ports: &Ports<'_, I, H, E, Q, P>,
    key: &IdentityKey,
    dry_run: bool,
    now: i64,
    mut on_item: impl FnMut(&Item),
) -> Tally
where
    I: IdentityStore,
    H: HistoryStore,
    E: EventRecords,
    Q: QueueDepths,
    P: ChangePublisher,
{
    let mut tally = Tally::default();
    let mut tell = |target: Target, done: Done| {
        let item = Item { target, done };
        tally.add(&item);
        on_item(&item);
    };

    // Read first and deleted last: the record names the event that last fetched the
    // identity, whose dedup record is looked for with the history's.
    let (stored, unreadable) = match ports.identities.get(key).await {
        Ok(stored) => (stored, None),
        Err(error) => (None, Some(error.to_string())),
    };
    let occurrences = match occurrences_about(ports.history, key).await {
        Ok(found) => found,
        Err(error) => {
            tell(Target::HistoryLookup, Done::Failed(error));
            Vec::new()
        }
    };

    // The events' records before the history items and the identity record that lead to
    // them: what could not be deleted is still found when forget is run again.
    let mut unfinished = BTreeSet::new();
    for event_id in event_ids(key, stored.as_ref(), &occurrences) {
        let dedup = if dry_run {
            ports.records.dedup(&event_id).await
        } else {
            ports.records.forget_dedup(&event_id).await
        };
        let done = match dedup {
            Ok(Some(record)) => Done::Erased(dedup_note(&record)),
            Ok(None) => Done::Absent,
            Err(error) => {
                unfinished.insert(event_id.clone());
                Done::Failed(error.to_string())
            }
        };
        tell(Target::DedupRecord(event_id.clone()), done);
        let legacy = if dry_run {
            ports.records.legacy(&event_id).await
        } else {
            ports.records.forget_legacy(&event_id).await
        };
        match legacy {
            Ok(true) => tell(Target::LegacyItem(event_id), Done::Erased(None)),
            Ok(false) => {}
            Err(error) => {
                unfinished.insert(event_id.clone());
                tell(
                    Target::LegacyItem(event_id),
                    Done::Failed(error.to_string()),
                );
            }
        }
    }
    let kept_for_rerun = |event_id: &str| {
        Done::Held(format!(
            "kept until {event_id}'s records are deleted, so that forget run again finds them"
        ))
    };

    for summary in &occurrences {
        let occurrence = summary.key();
        let done = if unfinished.contains(&summary.event_id) {
            kept_for_rerun(&summary.event_id)
        } else if dry_run {
            Done::Erased(None)
        } else {
            match ports.history.delete(&occurrence).await {
                Ok(true) => Done::Erased(None),
                // Expired since it was listed.
                Ok(false) => Done::Absent,
                Err(error) => Done::Failed(error.to_string()),
            }
        };
        tell(Target::HistoryItem(occurrence), done);
    }

    let erased = match (&stored, unreadable) {
        (Some(identity), _) if unfinished.contains(&identity.event_id) => {
            Err(kept_for_rerun(&identity.event_id))
        }
        (_, Some(error)) => Err(Done::Failed(error)),
        (_, None) if dry_run => Ok(stored.clone()),
        (_, None) => match ports
            .identities
            .delete(key, stored.as_ref().map(|identity| identity.version))
            .await
        {
            Ok(Deletion::Deleted(identity)) => Ok(Some(*identity)),
            Ok(Deletion::Absent) => Ok(None),
            Ok(Deletion::Changed) => Err(Done::Failed(
                "written by the enricher while forget ran (a newer event): kept; run forget again"
                    .into(),
            )),
            Err(e) => Err(Done::Failed(e.to_string())),
        },
    };
    let identity_stays = erased.is_err();
    let erased = match erased {
        Ok(Some(identity)) => {
            let state = if identity.is_tombstone() {
                "a tombstone"
            } else {
                "with data"
            };
            let note = format!("revision {}, {state}", identity.revision);
            tell(Target::IdentityRecord, Done::Erased(Some(note)));
            Some(identity)
        }
        Ok(None) => {
            tell(Target::IdentityRecord, Done::Absent);
            None
        }
        Err(done) => {
            tell(Target::IdentityRecord, done);
            None
        }
    };

    for queue in [Queue::Events, Queue::DeadLetter] {
        let done = match ports.queues.depth(queue).await {
            Ok(depth) => Done::Counted(depth),
            Err(error) => Done::Failed(error.to_string()),
        };
        tell(Target::Queue(queue), done);
    }

    let change = forgotten_change(key, erased.as_ref(), now);
    let sent = || Done::Sent {
        detail_type: change.detail_type(),
        revision: change.revision,
    };
    let done = if identity_stays {
        Done::Held("the identity record is still stored: run forget again".into())
    } else if dry_run {
        sent()
    } else {
        match ports.publisher.publish(&change, None).await {
            Ok(()) => sent(),
            Err(error) => Done::Failed(error.to_string()),
        }
    };
    tell(Target::ChangeEvent, done);
    tally
}

/// The DynamoDB adapter of [`EventRecords`]: a deletion is the store's own
/// ([`crate::store::forget`], which also deletes a legacy item by its key); the dry run's read
/// is this module's.
pub struct DynamoDbRecords {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoDbRecords {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// What a deletion of `key` would return, read without deleting (a dry run).
    async fn read(&self, key: &str) -> Result<Option<ForgottenRecord>, StoreError> {
        crate::store::peek(&self.client, &self.table, key).await
    }
}

/// The key of the item older versions wrote beside an event's dedup record.
fn legacy_key(event_id: &str) -> String {
    format!("{LEGACY_PREFIX}{event_id}")
}

impl EventRecords for DynamoDbRecords {
    async fn dedup(&self, event_id: &str) -> Result<Option<ForgottenRecord>, StoreError> {
        self.read(event_id).await
    }

    async fn forget_dedup(&self, event_id: &str) -> Result<Option<ForgottenRecord>, StoreError> {
        crate::store::forget(&self.client, &self.table, event_id).await
    }

    async fn legacy(&self, event_id: &str) -> Result<bool, StoreError> {
        Ok(self.read(&legacy_key(event_id)).await?.is_some())
    }

    async fn forget_legacy(&self, event_id: &str) -> Result<bool, StoreError> {
        let deleted = crate::store::forget(&self.client, &self.table, &legacy_key(event_id)).await;
        Ok(deleted?.is_some())
    }
}

/// The bus, or none in a dry run (which sends nothing, and needs no bus named).
pub struct Bus(pub Option<EventBridgePublisher>);

impl ChangePublisher for Bus {
    async fn publish(
        &self,
        change: &Change,
        data: Option<&serde_json::Value>,
    ) -> Result<(), PublishError> {
        match &self.0 {
            Some(bus) => bus.publish(change, data).await,
            None => Err(PublishError::other("no bus in a dry run")),
        }
    }
}

fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// What each queue's count means for the erasure.
fn queue_says(queue: Queue, depth: Depth) -> String {
    let counts = format!(
        "{} waiting, {} in flight (approximate; queued messages cannot be searched or edited)",
        depth.waiting, depth.in_flight
    );
    match queue {
        Queue::Events => format!(
            "{counts}: each is enriched normally, which fetches the identity from the provider \
             and stores it again if the provider still has it: erase it at the provider first, \
             and run forget again once the queue has drained"
        ),
        Queue::DeadLetter => format!(
            "{counts}: they are kept up to 14 days with their payloads; redrive them (after \
             erasing at the provider) or purge them"
        ),
    }
}

pub fn item_line(item: &Item, dry_run: bool) -> String {
    let (label, subject) = match &item.target {
        Target::IdentityRecord => ("identity record", String::new()),
        Target::HistoryLookup => ("history", "its items".to_string()),
        Target::HistoryItem(key) => (
            "history item",
            format!("{} received {}", key.event_id, rfc3339(key.received_at)),
        ),
        Target::DedupRecord(event_id) => ("dedup record", event_id.clone()),
        Target::LegacyItem(event_id) => ("enriched record", legacy_key(event_id)),
        Target::Queue(Queue::Events) => ("events queue", String::new()),
        Target::Queue(Queue::DeadLetter) => ("dead-letter queue", String::new()),
        Target::ChangeEvent => ("change event", String::new()),
    };
    let erased = if dry_run { "would delete" } else { "deleted" };
    let said = match &item.done {
        Done::Erased(None) => erased.to_string(),
        Done::Erased(Some(note)) => format!("{erased} ({note})"),
        Done::Absent => "not stored".to_string(),
        Done::Counted(depth) => match item.target {
            Target::Queue(queue) => queue_says(queue, *depth),
            _ => format!("{} waiting, {} in flight", depth.waiting, depth.in_flight),
        },
        Done::Sent {
            detail_type,
            revision,
        } => format!(
            "{} {detail_type}, revision {revision}, without data",
            if dry_run { "would send" } else { "sent" }
        ),
        Done::Held(why) if item.target == Target::ChangeEvent => format!("not sent: {why}"),
        Done::Held(why) => format!("kept: {why}"),
        Done::Failed(error) => format!("FAILED: {error}"),
    };
    if subject.is_empty() {
        format!("{label:<17}  {said}")
    } else {
        format!("{label:<17}  {subject}: {said}")
    }
}

pub fn item_json(item: &Item, dry_run: bool) -> serde_json::Value {
    let mut object = match &item.target {
        Target::IdentityRecord => serde_json::json!({"item": "identity_record"}),
        Target::HistoryLookup => serde_json::json!({"item": "history_lookup"}),
        Target::HistoryItem(key) => serde_json::json!({
            "item": "history_item",
            "event_id": key.event_id,
            "received_at": rfc3339(key.received_at),
        }),
        Target::DedupRecord(event_id) => {
            serde_json::json!({"item": "dedup_record", "event_id": event_id})
        }
        Target::LegacyItem(event_id) => serde_json::json!({
            "item": "legacy_enriched_record",
            "event_id": event_id,
            "key": legacy_key(event_id),
        }),
        Target::Queue(Queue::Events) => serde_json::json!({"item": "events_queue"}),
        Target::Queue(Queue::DeadLetter) => serde_json::json!({"item": "dead_letter_queue"}),
        Target::ChangeEvent => serde_json::json!({"item": "change_event"}),
    };
    let result = match &item.done {
        Done::Erased(note) => {
            if let Some(note) = note {
                object["note"] = note.clone().into();
            }
            if dry_run {
                "would_delete"
            } else {
                "deleted"
            }
        }
        Done::Absent => "not_stored",
        Done::Counted(depth) => {
            object["waiting"] = depth.waiting.into();
            object["in_flight"] = depth.in_flight.into();
            "counted"
        }
        Done::Sent {
            detail_type,
            revision,
        } => {
            object["detail_type"] = detail_type.clone().into();
            object["revision"] = (*revision).into();
            if dry_run {
                "would_send"
            } else {
                "sent"
            }
        }
        Done::Held(why) => {
            object["reason"] = why.clone().into();
            if item.target == Target::ChangeEvent {
                "not_sent"
            } else {
                "kept"
            }
        }
        Done::Failed(error) => {
            object["error"] = error.clone().into();
            "failed"
        }
    };
    object["result"] = result.into();
    object
}

pub fn summary_json(key: &IdentityKey, tally: &Tally, dry_run: bool) -> serde_json::Value {
    serde_json::json!({
        "summary": true,
        "dry_run": dry_run,
        "provider": key.provider,
        "resource_id": key.resource_id,
        "identity_records": tally.identity_records,
        "history_items": tally.history_items,
        "dedup_records": tally.dedup_records,
        "legacy_enriched_records": tally.legacy_items,
        "change_event_sent": tally.change_event_sent && !dry_run,
        "failed": tally.failed,
    })
}

pub fn closing_line(key: &IdentityKey, tally: &Tally, dry_run: bool) -> String {
    let mut counts = vec![
        plural(
            tally.identity_records,
            "identity record",
            "identity records",
        ),
        plural(tally.history_items, "history item", "history items"),
        plural(tally.dedup_records, "dedup record", "dedup records"),
    ];
    if tally.legacy_items > 0 {
        counts.push(plural(
            tally.legacy_items,
            "legacy enriched record",
            "legacy enriched records",
        ));
    }
    let what = format!(
        "{} {}: {}",
        key.provider,
        key.resource_id,
        counts.join(", ")
    );
    if dry_run {
        return format!("would forget {what} (dry run: nothing was erased or sent)");
    }
    let mut line = format!("forgot {what}; a later notification for it is handled as new");
    if tally.failed > 0 {
        line.push_str(&format!(
            "; {} failed (above): run forget again",
            plural(tally.failed, "step", "steps")
        ));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{HistoryEntry, MemoryHistory};
    use crate::identity::{IdentityError, MemoryIdentities, MemoryPublisher};
    use serde_json::json;
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    const NOW: i64 = 1_796_173_200;

    /// The events table in memory; a deletion of an id in `failing` fails.
    #[derive(Default)]
    struct MemoryRecords {
        dedup: Mutex<BTreeMap<String, ForgottenRecord>>,
        legacy: Mutex<BTreeSet<String>>,
        failing: Mutex<BTreeSet<String>>,
    }

    impl MemoryRecords {
        fn with(dedup: &[&str], legacy: &[&str]) -> Self {
            let records = Self::default();
            for id in dedup {
                records.dedup.lock().unwrap().insert(
                    id.to_string(),
                    ForgottenRecord {
                        status: Some(RecordStatus::Enqueued),
                        held_message: false,
                    },
                );
            }
            for id in legacy {
                records.legacy.lock().unwrap().insert(id.to_string());
            }
            records
        }

        /// Deletions of `event_id`'s records fail from now on.
        fn fail(&self, event_id: &str) {
            self.failing.lock().unwrap().insert(event_id.into());
        }

        fn refuse(&self, event_id: &str) -> Result<(), StoreError> {
            if self.failing.lock().unwrap().contains(event_id) {
                return Err(StoreError::new(
                    crate::port_error::ErrorKind::Throttled,
                    "throttled",
                ));
            }
            Ok(())
        }
    }

    impl EventRecords for MemoryRecords {
        async fn dedup(&self, event_id: &str) -> Result<Option<ForgottenRecord>, StoreError> {
            Ok(self.dedup.lock().unwrap().get(event_id).cloned())
        }

        async fn forget_dedup(
            &self,
            event_id: &str,
        ) -> Result<Option<ForgottenRecord>, StoreError> {
            self.refuse(event_id)?;
            Ok(self.dedup.lock().unwrap().remove(event_id))
        }

        async fn legacy(&self, event_id: &str) -> Result<bool, StoreError> {
            Ok(self.legacy.lock().unwrap().contains(event_id))
        }

        async fn forget_legacy(&self, event_id: &str) -> Result<bool, StoreError> {
            self.refuse(event_id)?;
            Ok(self.legacy.lock().unwrap().remove(event_id))
        }
    }

    struct FixedDepths;

    impl QueueDepths for FixedDepths {
        async fn depth(&self, queue: Queue) -> Result<Depth, super::super::queues::DepthError> {
            Ok(match queue {
                Queue::Events => Depth {
                    waiting: 2,
                    in_flight: 1,
                },
                Queue::DeadLetter => Depth::default(),
            })
        }
    }

    fn identity(provider: &str, resource_id: &str, event_id: &str) -> Identity {
        Identity {
            key: IdentityKey::new(provider, resource_id),
            data: Some(r#"{"name":"Ann","email":"ann@example.com"}"#.into()),
            source_updated_at: None,
            read_started_ms: 1,
            fetched_at: NOW - 60,
            event_id: event_id.into(),
            event_type: "identities.updated".into(),
            revision: 3,
            changed_at: NOW - 60,
            version: 1,
            expires_at: NOW + 86_400,
            pending: None,
        }
    }

    fn occurrence(provider: &str, event_id: &str, resource: Option<&str>, at: i64) -> HistoryEntry {
        HistoryEntry {
            summary: EventSummary {
                event_id: event_id.into(),
                provider: provider.into(),
                event_type: "identities.updated".into(),
                resource_id: resource.map(str::to_string),
                received_at: at,
            },
            body: r#"{"payload":{"email":"ann@example.com"}}"#.into(),
            recorded_at: at,
            expires_at: at + 86_400,
            replays: Vec::new(),
        }
    }

    struct World {
        identities: MemoryIdentities,
        history: MemoryHistory,
        records: MemoryRecords,
        publisher: MemoryPublisher,
    }

    /// Ann (argyle idn_ann: two events, three occurrences, one legacy item) and Bob (argyle
    /// idn_bob, one event), each stored.
    async fn world() -> World {
        let identities = MemoryIdentities::default();
        assert!(identities
            .put(&identity("argyle", "idn_ann", "argyle#e2"))
            .await
            .unwrap());
        assert!(identities
            .put(&identity("argyle", "idn_bob", "argyle#b1"))
            .await
            .unwrap());
        let history = MemoryHistory::default();
        for entry in [
            occurrence("argyle", "argyle#e1", Some("idn_ann"), NOW - 300),
            occurrence("argyle", "argyle#e1", Some("idn_ann"), NOW - 200),
            occurrence("argyle", "argyle#e2", Some("idn_ann"), NOW - 100),
            occurrence("argyle", "argyle#b1", Some("idn_bob"), NOW - 100),
        ] {
            history.keep(&entry).await.unwrap();
        }
        World {
            identities,
            history,
            records: MemoryRecords::with(&["argyle#e1", "argyle#e2", "argyle#b1"], &["argyle#e1"]),
            publisher: MemoryPublisher::default(),
        }
    }

    async fn run_forget(world: &World, key: &IdentityKey, dry_run: bool) -> (Tally, Vec<Item>) {
        run_forget_on(&world.identities, world, key, dry_run).await
    }

    /// The same with an identity store of the test's own in front of the world's records.
    async fn run_forget_on(
        identities: &impl IdentityStore,
        world: &World,
        key: &IdentityKey,
        dry_run: bool,
    ) -> (Tally, Vec<Item>) {
        let ports = Ports {
            identities,
            history: &world.history,
            records: &world.records,
            queues: &FixedDepths,
            publisher: &world.publisher,
        };
        let mut items = Vec::new();
        let tally = forget(&ports, key, dry_run, NOW, |item| items.push(item.clone())).await;
        (tally, items)
    }

    fn ann() -> IdentityKey {
        IdentityKey::new("argyle", "idn_ann")
    }

    #[tokio::test]
    async fn forget_erases_the_identity_its_history_and_records_in_order_and_tells_downstream() {
        let world = world().await;
        let (tally, items) = run_forget(&world, &ann(), false).await;
        assert_eq!(
            tally,
            Tally {
                identity_records: 1,
                history_items: 3,
                dedup_records: 2,
                legacy_items: 1,
                change_event_sent: true,
                failed: 0,
            }
        );
        let targets: Vec<&Target> = items.iter().map(|i| &i.target).collect();
        let history = |id: &str, at: i64| {
            Target::HistoryItem(OccurrenceKey {
                event_id: id.into(),
                received_at: at,
            })
        };
        assert_eq!(
            targets,
            [
                &Target::DedupRecord("argyle#e1".into()),
                &Target::LegacyItem("argyle#e1".into()),
                &Target::DedupRecord("argyle#e2".into()),
                &history("argyle#e1", NOW - 300),
                &history("argyle#e1", NOW - 200),
                &history("argyle#e2", NOW - 100),
                &Target::IdentityRecord,
                &Target::Queue(Queue::Events),
                &Target::Queue(Queue::DeadLetter),
                &Target::ChangeEvent,
            ]
        );
        assert_eq!(
            items[6].done,
            Done::Erased(Some("revision 3, with data".into()))
        );

        // Bob is untouched.
        let left: Vec<String> = world
            .identities
            .all()
            .iter()
            .map(|i| i.key.text())
            .collect();
        assert_eq!(left, ["argyle#idn_bob"]);
        let kept: Vec<String> = world
            .history
            .all()
            .iter()
            .map(|e| e.summary.event_id.clone())
            .collect();
        assert_eq!(kept, ["argyle#b1"]);
        let dedup: Vec<String> = world
            .records
            .dedup
            .lock()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(dedup, ["argyle#b1"]);
        assert!(world.records.legacy.lock().unwrap().is_empty());

        // One forgotten event, naming the erased fields, the revision after the erased one, no
        // data and no event.
        let sent = world.publisher.sent();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].detail_type, "argyle.identity.forgotten");
        assert_eq!(
            sent[0].detail,
            json!({
                "version": 1,
                "provider": "argyle",
                "resource_id": "idn_ann",
                "change": "forgotten",
                "changed_fields": ["email", "name"],
                "revision": 4,
                "changed_at": "2026-12-02T01:00:00Z",
            })
        );
        let line = closing_line(&ann(), &tally, false);
        assert_eq!(
            line,
            "forgot argyle idn_ann: 1 identity record, 3 history items, 2 dedup records, 1 \
             legacy enriched record; a later notification for it is handled as new"
        );
    }

    #[tokio::test]
    async fn a_dry_run_reads_the_same_items_and_changes_nothing() {
        let world = world().await;
        let identities_before = world.identities.all();
        let history_before = world.history.all();
        let (dry, dry_items) = run_forget(&world, &ann(), true).await;
        assert_eq!(world.identities.all(), identities_before);
        assert_eq!(world.history.all(), history_before);
        assert_eq!(world.records.dedup.lock().unwrap().len(), 3);
        assert_eq!(world.records.legacy.lock().unwrap().len(), 1);
        assert!(world.publisher.sent().is_empty());
        assert_eq!(
            closing_line(&ann(), &dry, true),
            "would forget argyle idn_ann: 1 identity record, 3 history items, 2 dedup records, \
             1 legacy enriched record (dry run: nothing was erased or sent)"
        );
        assert_eq!(
            item_line(&dry_items[6], true),
            "identity record    would delete (revision 3, with data)"
        );

        // The real run erases what the dry run said, item for item.
        let (real, real_items) = run_forget(&world, &ann(), false).await;
        assert_eq!(real, dry);
        assert_eq!(real_items, dry_items);
    }

    #[tokio::test]
    async fn a_failed_deletion_is_reported_the_rest_carried_on_and_a_second_run_finishes() {
        let world = world().await;
        world.records.fail("argyle#e1");
        let (tally, items) = run_forget(&world, &ann(), false).await;
        assert_eq!(tally.failed, 2, "{items:?}");
        // e1's history items are kept (they lead to its records); e2's and the identity
        // record (which names e2) are deleted, and downstream is told.
        assert_eq!(
            (
                tally.dedup_records,
                tally.history_items,
                tally.identity_records
            ),
            (1, 1, 1)
        );
        assert!(tally.change_event_sent);
        let lines: Vec<String> = items
            .iter()
            .filter(|i| matches!(i.done, Done::Failed(_) | Done::Held(_)))
            .map(|i| item_line(i, false))
            .collect();
        let kept = "kept: kept until argyle#e1's records are deleted, so that forget run again \
                    finds them";
        assert_eq!(
            lines,
            [
                "dedup record       argyle#e1: FAILED: event store: throttled".to_string(),
                "enriched record    enriched#argyle#e1: FAILED: event store: throttled".into(),
                format!("history item       argyle#e1 received 2026-12-02T00:55:00Z: {kept}"),
                format!("history item       argyle#e1 received 2026-12-02T00:56:40Z: {kept}"),
            ]
        );
        assert!(closing_line(&ann(), &tally, false)
            .ends_with("; 2 steps failed (above): run forget again"));

        // Run again once the table answers: e1 is found by its history items, and finished.
        world.records.failing.lock().unwrap().clear();
        let (again, _) = run_forget(&world, &ann(), false).await;
        assert_eq!(
            again,
            Tally {
                identity_records: 0,
                history_items: 2,
                dedup_records: 1,
                legacy_items: 1,
                change_event_sent: true,
                failed: 0,
            }
        );
        assert!(world
            .history
            .all()
            .iter()
            .all(|e| e.summary.event_id == "argyle#b1"));
        assert_eq!(world.records.dedup.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn the_identity_record_naming_an_unfinished_event_is_kept_and_nothing_sent() {
        let world = world().await;
        world.records.fail("argyle#e2");
        let (tally, items) = run_forget(&world, &ann(), false).await;
        assert_eq!(tally.identity_records, 0);
        assert!(!tally.change_event_sent);
        assert!(world.publisher.sent().is_empty());
        assert_eq!(world.identities.all().len(), 2);
        assert_eq!(
            item_line(items.last().unwrap(), false),
            "change event       not sent: the identity record is still stored: run forget again"
        );
    }

    #[tokio::test]
    async fn the_change_event_waits_while_the_identity_record_stays() {
        struct Stuck;
        impl IdentityStore for Stuck {
            async fn get(&self, _: &IdentityKey) -> Result<Option<Identity>, IdentityError> {
                Ok(None)
            }
            async fn put(&self, _: &Identity) -> Result<bool, IdentityError> {
                Ok(false)
            }
            async fn sent(&self, _: &IdentityKey, _: u64) -> Result<(), IdentityError> {
                Ok(())
            }
            async fn delete(
                &self,
                _: &IdentityKey,
                _: Option<u64>,
            ) -> Result<Deletion, IdentityError> {
                Err(IdentityError::new(
                    crate::port_error::ErrorKind::Throttled,
                    "DeleteItem failed: throttled",
                ))
            }
        }
        let world = world().await;
        let (tally, items) = run_forget_on(&Stuck, &world, &ann(), false).await;
        assert_eq!(tally.failed, 1);
        assert!(!tally.change_event_sent);
        assert!(world.publisher.sent().is_empty());
        assert!(matches!(items.last().unwrap().done, Done::Held(_)));
    }

    /// An enricher writes Ann's record between forget's read and its delete (a newer event,
    /// whose records this run did not look for): the record is kept, the run fails and sends
    /// nothing, and the next run erases it.
    #[tokio::test]
    async fn a_record_written_while_forget_runs_is_kept_for_the_next_run() {
        struct Racing<'a>(&'a MemoryIdentities);
        impl IdentityStore for Racing<'_> {
            async fn get(&self, key: &IdentityKey) -> Result<Option<Identity>, IdentityError> {
                let read = self.0.get(key).await?;
                if let Some(read) = &read {
                    let newer = Identity {
                        event_id: "argyle#e3".into(),
                        version: read.version + 1,
                        ..read.clone()
                    };
                    assert!(self.0.put(&newer).await?);
                }
                Ok(read)
            }
            async fn put(&self, identity: &Identity) -> Result<bool, IdentityError> {
                self.0.put(identity).await
            }
            async fn sent(&self, key: &IdentityKey, version: u64) -> Result<(), IdentityError> {
                self.0.sent(key, version).await
            }
            async fn delete(
                &self,
                key: &IdentityKey,
                read: Option<u64>,
            ) -> Result<Deletion, IdentityError> {
                self.0.delete(key, read).await
            }
        }
        let world = world().await;
        let (tally, items) = run_forget_on(&Racing(&world.identities), &world, &ann(), false).await;
        assert_eq!((tally.identity_records, tally.failed), (0, 1));
        assert!(!tally.change_event_sent);
        assert!(world.publisher.sent().is_empty());
        let record = items
            .iter()
            .find(|item| item.target == Target::IdentityRecord)
            .unwrap();
        assert_eq!(
            record.done,
            Done::Failed(
                "written by the enricher while forget ran (a newer event): kept; run forget again"
                    .into()
            )
        );
        let kept = world.identities.get(&ann()).await.unwrap().expect("kept");
        assert_eq!((kept.event_id.as_str(), kept.version), ("argyle#e3", 2));

        let (tally, _) = run_forget(&world, &ann(), false).await;
        assert_eq!((tally.identity_records, tally.failed), (1, 0));
        assert!(tally.change_event_sent);
        assert!(world.identities.get(&ann()).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_refused_change_event_fails_the_run() {
        let world = world().await;
        world.publisher.set_failing(true);
        let (tally, items) = run_forget(&world, &ann(), false).await;
        assert_eq!(tally.failed, 1);
        assert!(!tally.change_event_sent);
        assert_eq!(
            item_line(items.last().unwrap(), false),
            "change event       FAILED: change events: the bus is unavailable"
        );
    }

    #[tokio::test]
    async fn a_midbound_identity_is_found_by_its_own_event() {
        let world = world().await;
        let key = IdentityKey::new("midbound", "evt_1");
        world
            .history
            .keep(&occurrence("midbound", "midbound#evt_1", None, NOW - 10))
            .await
            .unwrap();
        // Only the dedup record is left when the identity and its history are gone already.
        world.records.dedup.lock().unwrap().insert(
            "midbound#evt_1".into(),
            ForgottenRecord {
                status: Some(RecordStatus::Received),
                held_message: true,
            },
        );
        let (tally, items) = run_forget(&world, &key, false).await;
        assert_eq!(
            (
                tally.identity_records,
                tally.history_items,
                tally.dedup_records
            ),
            (0, 1, 1)
        );
        let dedup = items
            .iter()
            .find(|i| i.target == Target::DedupRecord("midbound#evt_1".into()))
            .unwrap();
        assert_eq!(
            item_line(dedup, false),
            "dedup record       midbound#evt_1: deleted (RECEIVED, held its queue message)"
        );
        // Nothing was stored: the forgotten event is the first revision, naming no field.
        let sent = world.publisher.sent();
        assert_eq!(sent[0].detail["revision"], 1);
        assert_eq!(sent[0].detail["changed_fields"], json!([]));
    }

    #[test]
    fn the_queues_say_what_happens_to_their_messages() {
        let events = Item {
            target: Target::Queue(Queue::Events),
            done: Done::Counted(Depth {
                waiting: 2,
                in_flight: 1,
            }),
        };
        let line = item_line(&events, false);
        assert!(
            line.starts_with("events queue       2 waiting, 1 in flight"),
            "{line}"
        );
        assert!(line.contains("erase it at the provider first"), "{line}");
        let json = item_json(&events, false);
        assert_eq!(
            json,
            json!({"item": "events_queue", "waiting": 2, "in_flight": 1, "result": "counted"})
        );
        let dead = item_line(
            &Item {
                target: Target::Queue(Queue::DeadLetter),
                done: Done::Counted(Depth::default()),
            },
            false,
        );
        assert!(dead.contains("14 days") && dead.contains("purge"), "{dead}");
    }
}
