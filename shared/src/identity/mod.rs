//! The current state of each provider identity: one record per provider and resource id in a
//! table of its own (which the webhook functions have no right to), holding the newest data the
//! provider returned or a tombstone, and the change events its changes send downstream.
//!
//! What the enricher does with a fetch is decided here, in plain Rust ([`decide`]): the stored
//! record is read, the newer of the two wins (the provider's update time when both have one,
//! else the read that started later), and the write is conditional on the record being the one
//! read, so two enrichers racing on one identity each see the other's write and a change is
//! counted once. A change is stored on the record (`pending`) in the same write and sent after
//! it; the record forgets it only once the bus accepted it. A failed send fails the message, and
//! its retry (or the identity's next fetch) sends it: change events are at least once, never
//! lost, and a change that could not be sent is coalesced with the next one rather than piling
//! up on the record.

pub mod change;
mod dynamodb;
pub mod eventbridge;
mod memory;
pub mod publish;

pub use change::{Change, ChangeKind};
pub use dynamodb::DynamoDbIdentities;
pub(crate) use dynamodb::{error as dynamodb_error, identity_of};
pub use eventbridge::EventBridgePublisher;
pub use memory::MemoryIdentities;
pub use publish::{ChangePublisher, MemoryPublisher, PublishError};

use std::future::Future;

/// The default for `IDENTITY_RETENTION_DAYS` (template `IdentityRetentionDays`).
pub const DEFAULT_RETENTION_DAYS: u64 = 365;
/// The default for `TOMBSTONE_RETENTION_DAYS` (template `TombstoneRetentionDays`).
pub const DEFAULT_TOMBSTONE_RETENTION_DAYS: u64 = 90;

/// What the provider says about the event's resource.
#[derive(Debug, Clone, PartialEq)]
pub enum Fetched {
    Found {
        data: serde_json::Value,
        /// The provider's own update time (RFC 3339), when it gives one: newest data wins.
        updated_at: Option<String>,
    },
    /// Deleted at the provider: recorded as a tombstone.
    Gone,
}

/// Names one identity: the provider and the provider's id for it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdentityKey {
    pub provider: String,
    pub resource_id: String,
}

impl IdentityKey {
    pub fn new(provider: impl Into<String>, resource_id: impl Into<String>) -> Self {
        Self {
            provider: provider.into(),
            resource_id: resource_id.into(),
        }
    }

    /// The identity an event is about: the resource it names, or for a provider that names
    /// none (Midbound, whose events carry their data in full) the event itself.
    pub fn about(envelope: &crate::envelope::ReceivedEnvelope) -> Self {
        let id = match &envelope.resource {
            Some(resource) => resource.id.clone(),
            None => envelope
                .event_id
                .strip_prefix(&format!("{}#", envelope.provider))
                .unwrap_or(&envelope.event_id)
                .to_string(),
        };
        Self::new(&envelope.provider, id)
    }

    /// `<provider>#<resource id>`: the table's key, as the history's `resource_key`.
    pub fn text(&self) -> String {
        format!("{}#{}", self.provider, self.resource_id)
    }
}

/// One identity's stored state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub key: IdentityKey,
    /// The provider's data as JSON text; `None` is a tombstone.
    pub data: Option<String>,
    pub source_updated_at: Option<String>,
    /// When the read that produced this state began (Unix milliseconds): what orders two reads
    /// when the provider gives no update time.
    pub read_started_ms: i64,
    /// When it was fetched (Unix seconds).
    pub fetched_at: i64,
    /// The event whose enrichment fetched it.
    pub event_id: String,
    pub event_type: String,
    /// How many changes it has seen (the change events' `revision`).
    pub revision: u64,
    /// When the state last changed (Unix seconds).
    pub changed_at: i64,
    /// Every write's count: what a conditional write compares.
    pub version: u64,
    /// When the table's TTL lets it go (Unix seconds).
    pub expires_at: i64,
    /// A change stored but not yet accepted by the bus.
    pub pending: Option<Change>,
}

impl Identity {
    pub fn is_tombstone(&self) -> bool {
        self.data.is_none()
    }

    /// The bytes of the stored item's values that come from outside: the data, the pending
    /// change (which names the data's fields), the ids and the provider's update time. The rest
    /// (names, numbers) fits in `limits::RECORD_OVERHEAD_BYTES`.
    pub fn stored_bytes(&self) -> usize {
        let pending = self
            .pending
            .as_ref()
            .map_or(0, |c| serde_json::to_string(c).map_or(0, |json| json.len()));
        let text = |t: &Option<String>| t.as_ref().map_or(0, String::len);
        text(&self.data)
            + pending
            + text(&self.source_updated_at)
            + 2 * (self.key.provider.len() + self.key.resource_id.len())
            + self.event_id.len()
            + self.event_type.len()
    }

    /// The data as JSON (a tombstone, or text that is not JSON, has none).
    pub fn data_value(&self) -> Option<serde_json::Value> {
        serde_json::from_str(self.data.as_deref()?).ok()
    }
}

/// How long records live after their last fetch (seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub data_seconds: u64,
    pub tombstone_seconds: u64,
}

impl Retention {
    /// `IDENTITY_RETENTION_DAYS` (default 365) and `TOMBSTONE_RETENTION_DAYS` (default 90).
    pub fn from_lookup(
        get: &impl Fn(&str) -> Option<String>,
    ) -> Result<Self, crate::config::ConfigError> {
        Ok(Self {
            data_seconds: crate::config::days_in_seconds(
                get,
                "IDENTITY_RETENTION_DAYS",
                DEFAULT_RETENTION_DAYS,
            )?,
            tombstone_seconds: crate::config::days_in_seconds(
                get,
                "TOMBSTONE_RETENTION_DAYS",
                DEFAULT_TOMBSTONE_RETENTION_DAYS,
            )?,
        })
    }
}

/// One fetch, as the enricher made it.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub key: IdentityKey,
    pub event_id: String,
    pub event_type: String,
    pub fetched: Fetched,
    pub read_started_ms: i64,
    /// Unix seconds.
    pub now: i64,
}

/// What a fetch does to the stored state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Newer data is stored: nothing to write (a change still pending is still to be sent).
    Stale,
    /// The state to write; its `pending` is the change to send, if any.
    Write(Box<Identity>),
}

/// The state after `observation`, given the stored one (`None` when there is none).
pub fn decide(
    stored: Option<&Identity>,
    observation: Observation,
    retention: Retention,
) -> Decision {
    let (data, updated_at) = match &observation.fetched {
        Fetched::Found { data, updated_at } => (Some(data), updated_at.clone()),
        Fetched::Gone => (None, None),
    };
    if let Some(stored) = stored {
        // The provider's times decide when both are times and differ; otherwise (no time on a
        // side, one the provider wrote in no form we read, the same time) the later read wins.
        let instant = |t: &Option<String>| t.as_deref().and_then(crate::timestamp::unix_nanos);
        let stale = match (instant(&updated_at), instant(&stored.source_updated_at)) {
            (Some(new), Some(old)) if new != old => new < old,
            _ => observation.read_started_ms < stored.read_started_ms,
        };
        if stale {
            return Decision::Stale;
        }
    }
    let before = stored.and_then(Identity::data_value);
    let had_data_before = before.is_some();
    let kind_and_fields = match (&before, data) {
        (None, Some(after)) => Some((ChangeKind::Created, change::fields_of(after))),
        (Some(before), Some(after)) => {
            (before != after).then(|| (ChangeKind::Updated, change::changed_fields(before, after)))
        }
        (Some(before), None) => Some((ChangeKind::Deleted, change::fields_of(before))),
        // Gone without a record: still a tombstone worth telling, unless one is stored already.
        (None, None) => stored
            .is_none_or(|s| !s.is_tombstone())
            .then(|| (ChangeKind::Deleted, Vec::new())),
    };
    let revision = stored.map_or(0, |s| s.revision) + u64::from(kind_and_fields.is_some());
    let changed_at = match kind_and_fields {
        Some(_) => observation.now,
        None => stored.map_or(observation.now, |s| s.changed_at),
    };
    let change = kind_and_fields.map(|(kind, fields)| Change {
        provider: observation.key.provider.clone(),
        resource_id: observation.key.resource_id.clone(),
        change: kind,
        changed_fields: fields,
        revision,
        event_id: Some(observation.event_id.clone()),
        event_type: Some(observation.event_type.clone()),
        changed_at: crate::clock::rfc3339(observation.now),
        source_updated_at: updated_at.clone(),
        had_data_before,
    });
    let mut pending = match (stored.and_then(|s| s.pending.clone()), change) {
        (Some(earlier), Some(change)) => earlier.then(change),
        (earlier, change) => change.or(earlier),
    };
    if let (Some(change), Some(data)) = (pending.as_mut(), data) {
        if change.change == ChangeKind::Created {
            // Created, for whoever hears of it: every field it has now, not those it once had.
            change.changed_fields = change::fields_of(data);
        }
    }
    let keep_for = if data.is_some() {
        retention.data_seconds
    } else {
        retention.tombstone_seconds
    };
    Decision::Write(Box::new(Identity {
        key: observation.key,
        data: data.map(|d| d.to_string()),
        source_updated_at: updated_at,
        // Never backwards: a newer update time read by an earlier read must not let a read that
        // began in between look newer than the state it would overwrite.
        read_started_ms: stored.map_or(observation.read_started_ms, |s| {
            s.read_started_ms.max(observation.read_started_ms)
        }),
        fetched_at: observation.now,
        event_id: observation.event_id,
        event_type: observation.event_type,
        revision,
        changed_at,
        version: stored.map_or(0, |s| s.version) + 1,
        expires_at: observation.now.saturating_add_unsigned(keep_for),
        pending,
    }))
}

crate::port_error::port_error!(IdentityError, "identities");

/// Where identities live (a DynamoDB table in production).
pub trait IdentityStore: Send + Sync {
    /// The stored state, read consistently.
    fn get(
        &self,
        key: &IdentityKey,
    ) -> impl Future<Output = Result<Option<Identity>, IdentityError>> + Send;

    /// Writes `identity` if the stored state is still the one it was decided from (none, or
    /// the one at `identity.version - 1`); `Ok(false)` when another write came first.
    fn put(&self, identity: &Identity) -> impl Future<Output = Result<bool, IdentityError>> + Send;

    /// Forgets the pending change of the state at `version` once it was sent; a later write
    /// carries it on (and sends it again), so a moved-on record is left alone.
    fn sent(
        &self,
        key: &IdentityKey,
        version: u64,
    ) -> impl Future<Output = Result<(), IdentityError>> + Send;

    /// Deletes the record (`hookline forget`) if it is still the one read: `read` is its
    /// version then, `None` when nothing was stored. A record written since is kept: an
    /// enricher fetched the identity for a newer event, whose history and dedup record this
    /// run did not erase, so the erasure must not be reported complete.
    fn delete(
        &self,
        key: &IdentityKey,
        read: Option<u64>,
    ) -> impl Future<Output = Result<Deletion, IdentityError>> + Send;
}

/// What [`IdentityStore::delete`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deletion {
    /// The record read, now deleted.
    Deleted(Box<Identity>),
    /// Nothing stored (as read, or gone since).
    Absent,
    /// Not the record read: written since, and kept.
    Changed,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const RETENTION: Retention = Retention {
        data_seconds: 1000,
        tombstone_seconds: 10,
    };

    fn observe(fetched: Fetched, read_started_ms: i64, now: i64) -> Observation {
        Observation {
            key: IdentityKey::new("argyle", "i-1"),
            event_id: format!("argyle#e{now}"),
            event_type: "identities.updated".into(),
            fetched,
            read_started_ms,
            now,
        }
    }

    fn found(data: serde_json::Value, updated_at: Option<&str>) -> Fetched {
        Fetched::Found {
            data,
            updated_at: updated_at.map(str::to_string),
        }
    }

    fn write(stored: Option<&Identity>, observation: Observation) -> Identity {
        match decide(stored, observation, RETENTION) {
            Decision::Write(identity) => *identity,
            Decision::Stale => panic!("a write expected"),
        }
    }

    /// Stored as the store would after the bus took the pending change.
    fn sent(mut identity: Identity) -> Identity {
        identity.pending = None;
        identity
    }

    #[test]
    fn a_first_fetch_creates_with_every_field_and_expires_after_the_data_retention() {
        let first = write(None, observe(found(json!({"b": 1, "a": 2}), None), 100, 50));
        let change = first.pending.clone().unwrap();
        assert_eq!(change.change, ChangeKind::Created);
        assert_eq!(change.changed_fields, ["a", "b"]);
        assert_eq!((first.revision, first.version), (1, 1));
        assert_eq!(first.expires_at, 1050);
        assert_eq!(first.changed_at, 50);
        assert_eq!(first.data.as_deref(), Some(r#"{"a":2,"b":1}"#));
    }

    #[test]
    fn the_same_data_again_refreshes_the_record_without_a_change() {
        let first = sent(write(None, observe(found(json!({"a": 1}), None), 100, 50)));
        let again = write(Some(&first), observe(found(json!({"a": 1}), None), 200, 60));
        assert_eq!(again.pending, None);
        assert_eq!((again.revision, again.version), (1, 2));
        assert_eq!(again.changed_at, 50);
        assert_eq!(again.fetched_at, 60);
        assert_eq!(again.expires_at, 1060);
    }

    #[test]
    fn different_data_is_an_update_naming_the_fields() {
        let first = sent(write(
            None,
            observe(found(json!({"a": 1, "b": 1}), None), 100, 50),
        ));
        let next = write(
            Some(&first),
            observe(found(json!({"a": 1, "b": 2}), None), 200, 60),
        );
        let change = next.pending.unwrap();
        assert_eq!(change.change, ChangeKind::Updated);
        assert_eq!(change.changed_fields, ["b"]);
        assert_eq!(change.revision, 2);
    }

    #[test]
    fn an_older_read_or_an_older_update_time_is_stale() {
        let first = sent(write(None, observe(found(json!({"a": 1}), None), 200, 50)));
        let late = decide(
            Some(&first),
            observe(found(json!({"a": 0}), None), 100, 60),
            RETENTION,
        );
        assert_eq!(late, Decision::Stale);
        let dated = sent(write(
            None,
            observe(
                found(json!({"a": 1}), Some("2026-12-02T10:00:00Z")),
                100,
                50,
            ),
        ));
        // The provider's time wins over the read's when both have one.
        let older = observe(
            found(json!({"a": 0}), Some("2026-12-01T10:00:00Z")),
            900,
            60,
        );
        assert_eq!(decide(Some(&dated), older, RETENTION), Decision::Stale);
        // The same time: the later read decides (an earlier one is stale).
        let same = observe(found(json!({"a": 1}), Some("2026-12-02T10:00:00Z")), 50, 60);
        assert_eq!(decide(Some(&dated), same, RETENTION), Decision::Stale);
        let same_later = observe(
            found(json!({"a": 1}), Some("2026-12-02T10:00:00Z")),
            150,
            60,
        );
        assert!(matches!(
            decide(Some(&dated), same_later, RETENTION),
            Decision::Write(i) if i.pending.is_none()
        ));
        // Times compare as times, not as text: `…:00.5Z` is after `…:00Z`, though it sorts first.
        let fraction = observe(
            found(json!({"a": 2}), Some("2026-12-02T10:00:00.5Z")),
            40,
            60,
        );
        assert!(matches!(
            decide(Some(&dated), fraction, RETENTION),
            Decision::Write(i) if i.read_started_ms == 100
        ));
        // A time in no form we read decides nothing: the reads do.
        let odd = observe(found(json!({"a": 3}), Some("last tuesday")), 40, 60);
        assert_eq!(decide(Some(&dated), odd, RETENTION), Decision::Stale);
    }

    #[test]
    fn gone_is_a_tombstone_once_and_back_is_created() {
        let first = sent(write(None, observe(found(json!({"a": 1}), None), 100, 50)));
        let gone = write(Some(&first), observe(Fetched::Gone, 200, 60));
        assert!(gone.is_tombstone());
        assert_eq!(gone.expires_at, 70);
        let change = gone.pending.clone().unwrap();
        assert_eq!(
            (change.change, change.changed_fields.as_slice()),
            (ChangeKind::Deleted, &["a".to_string()][..])
        );
        let gone = sent(gone);
        let still = write(Some(&gone), observe(Fetched::Gone, 300, 70));
        assert_eq!(still.pending, None);
        let back = write(Some(&still), observe(found(json!({"a": 2}), None), 400, 80));
        assert_eq!(back.pending.unwrap().change, ChangeKind::Created);
        // Gone when nothing was stored: downstream may hold a copy from before hookline.
        let unknown = write(None, observe(Fetched::Gone, 100, 50));
        assert_eq!(unknown.pending.unwrap().change, ChangeKind::Deleted);
    }

    #[test]
    fn a_change_not_yet_sent_is_carried_on_and_coalesced() {
        let first = write(None, observe(found(json!({"a": 1}), None), 100, 50));
        // The bus refused the created event: a refetch of the same data still owes it.
        let again = write(Some(&first), observe(found(json!({"a": 1}), None), 200, 60));
        assert_eq!(again.pending, first.pending);
        let stale = decide(
            Some(&again),
            observe(found(json!({"a": 0}), None), 150, 70),
            RETENTION,
        );
        assert_eq!(stale, Decision::Stale);
        let updated = write(
            Some(&again),
            observe(found(json!({"a": 1, "b": 1}), None), 300, 80),
        );
        let change = updated.pending.clone().unwrap();
        assert_eq!(change.change, ChangeKind::Created);
        assert_eq!(change.changed_fields, ["a", "b"]);
        assert_eq!(change.revision, 2);
        // Still unsent, a field removed: created names the fields the data has now.
        let narrowed = write(
            Some(&updated),
            observe(found(json!({"b": 1}), None), 400, 90),
        );
        assert_eq!(narrowed.pending.unwrap().changed_fields, ["b"]);
    }

    #[test]
    fn back_and_gone_again_before_anyone_heard_owes_nothing() {
        let gone = sent(write(None, observe(Fetched::Gone, 100, 50)));
        let back = write(Some(&gone), observe(found(json!({"a": 1}), None), 200, 60));
        assert_eq!(
            back.pending.as_ref().map(|c| c.change),
            Some(ChangeKind::Created)
        );
        // The bus refused the created event; the identity is gone again before a retry.
        let again = write(Some(&back), observe(Fetched::Gone, 300, 70));
        assert_eq!(again.pending, None);
        assert_eq!(again.revision, 3);
    }
}
