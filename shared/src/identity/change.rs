//! A change of an identity's stored state, as downstream systems hear of it: the change event's
//! detail is a contract (docs/contracts.md: Change events), so its fields are written out here, once.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The event's `source`.
pub const SOURCE: &str = "hookline";

/// What happened to the identity, as the stored state saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// Data where there was none (a first fetch, or the identity back after a tombstone).
    Created,
    /// Different data from the provider.
    Updated,
    /// The provider says the identity is gone: a tombstone replaced the data.
    Deleted,
    /// An operator erased the identity (`hookline forget`): downstream copies should go too.
    Forgotten,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Created => "created",
            ChangeKind::Updated => "updated",
            ChangeKind::Deleted => "deleted",
            ChangeKind::Forgotten => "forgotten",
        }
    }
}

/// One change event's detail (without the data, which is attached when it is sent, if at all).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub provider: String,
    pub resource_id: String,
    pub change: ChangeKind,
    /// The top-level fields that differ from the state before (added, removed or changed), in
    /// order; every field of the data for `created`, `deleted` and `forgotten`.
    pub changed_fields: Vec<String>,
    /// Counts the identity's changes: one more for each, so a consumer can order them and drop
    /// a repeat. It skips when changes were coalesced while the bus could not be reached.
    pub revision: u64,
    /// The event that caused the change (the history's key; none for `forgotten`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// RFC 3339 UTC.
    pub changed_at: String,
    /// The provider's own update time of the data, when it gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_updated_at: Option<String>,
    /// Whether the identity had data before this change: what a coalesced change is measured
    /// from. Stored, not sent.
    #[serde(default, skip_serializing)]
    pub had_data_before: bool,
}

impl Change {
    /// The event's `detail-type`: one per provider and change, e.g. `argyle.identity.updated`.
    pub fn detail_type(&self) -> String {
        format!("{}.identity.{}", self.provider, self.change.as_str())
    }

    /// The event's `detail`: this change, with the identity's data when it is included.
    pub fn detail(&self, data: Option<&serde_json::Value>) -> serde_json::Value {
        let mut detail = serde_json::json!({ "version": 1 });
        let object = detail.as_object_mut().expect("an object");
        if let serde_json::Value::Object(fields) =
            serde_json::to_value(self).expect("a change serializes")
        {
            object.extend(fields);
        }
        if let Some(data) = data {
            object.insert("data".into(), data.clone());
        }
        detail
    }

    /// This change and a later one as a single change, for when this one was never sent: the
    /// kind is measured from the state before this one, the fields are both's; none when the two
    /// cancel out for whoever hears of them (no data before, none after).
    pub fn then(self, later: Change) -> Option<Change> {
        let has_data_now = matches!(later.change, ChangeKind::Created | ChangeKind::Updated);
        let change = match (self.had_data_before, has_data_now) {
            (false, true) => ChangeKind::Created,
            (true, true) => ChangeKind::Updated,
            (true, false) => later.change,
            (false, false) => return None,
        };
        let fields: BTreeSet<String> = self
            .changed_fields
            .into_iter()
            .chain(later.changed_fields)
            .collect();
        Some(Change {
            change,
            changed_fields: fields.into_iter().collect(),
            had_data_before: self.had_data_before,
            ..later
        })
    }
}

/// The top-level fields whose values differ between two JSON values, in order: every field of
/// the one that is an object when the other is not; none when neither is an object.
pub fn changed_fields(before: &serde_json::Value, after: &serde_json::Value) -> Vec<String> {
    let empty = serde_json::Map::new();
    let (before, after) = match (before.as_object(), after.as_object()) {
        (None, None) => return Vec::new(),
        (b, a) => (b.unwrap_or(&empty), a.unwrap_or(&empty)),
    };
    let names: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    names
        .into_iter()
        .filter(|name| before.get(*name) != after.get(*name))
        .cloned()
        .collect()
}

/// Every top-level field of a JSON value, in order (none when it is not an object).
pub fn fields_of(data: &serde_json::Value) -> Vec<String> {
    changed_fields(&serde_json::Value::Null, data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn change(kind: ChangeKind, fields: &[&str], revision: u64, had_data_before: bool) -> Change {
        Change {
            provider: "argyle".into(),
            resource_id: "i-1".into(),
            change: kind,
            changed_fields: fields.iter().map(|f| f.to_string()).collect(),
            revision,
            event_id: Some(format!("argyle#e{revision}")),
            event_type: Some("identities.updated".into()),
            changed_at: "2026-12-02T10:00:00Z".into(),
            source_updated_at: None,
            had_data_before,
        }
    }

    #[test]
    fn changed_fields_are_added_removed_and_different_values_in_order() {
        let before = json!({"a": 1, "b": {"x": 1}, "c": "same", "gone": true});
        let after = json!({"a": 2, "b": {"x": 1}, "c": "same", "new": null});
        assert_eq!(changed_fields(&before, &after), ["a", "gone", "new"]);
        assert!(changed_fields(&after, &after.clone()).is_empty());
        // Key order is not a change.
        assert!(changed_fields(&json!({"a": 1, "b": 2}), &json!({"b": 2, "a": 1})).is_empty());
        assert_eq!(fields_of(&json!({"z": 1, "a": 2})), ["a", "z"]);
        assert!(fields_of(&json!([1, 2])).is_empty());
    }

    #[test]
    fn the_detail_is_the_contract_and_carries_data_only_when_asked() {
        let c = change(ChangeKind::Updated, &["first_name"], 3, true);
        assert_eq!(c.detail_type(), "argyle.identity.updated");
        let detail = c.detail(None);
        assert_eq!(
            detail,
            json!({
                "version": 1,
                "provider": "argyle",
                "resource_id": "i-1",
                "change": "updated",
                "changed_fields": ["first_name"],
                "revision": 3,
                "event_id": "argyle#e3",
                "event_type": "identities.updated",
                "changed_at": "2026-12-02T10:00:00Z"
            })
        );
        let with_data = c.detail(Some(&json!({"first_name": "Ann"})));
        assert_eq!(with_data["data"]["first_name"], "Ann");
    }

    #[test]
    fn unsent_changes_coalesce_into_the_change_from_the_state_before_the_first() {
        let created = change(ChangeKind::Created, &["a", "b"], 1, false);
        let updated = change(ChangeKind::Updated, &["c"], 2, true);
        let both = created.clone().then(updated.clone()).unwrap();
        assert_eq!(both.change, ChangeKind::Created);
        assert_eq!(both.changed_fields, ["a", "b", "c"]);
        assert_eq!(both.revision, 2);
        assert_eq!(both.event_id.as_deref(), Some("argyle#e2"));
        assert!(!both.had_data_before);

        let deleted = change(ChangeKind::Deleted, &["a", "b", "c"], 3, true);
        assert_eq!(
            updated.clone().then(deleted.clone()).unwrap().change,
            ChangeKind::Deleted
        );
        // Gone and back before anyone heard: for them it is an update.
        let back = change(ChangeKind::Created, &["a"], 4, false);
        let round_trip = updated.then(deleted).unwrap().then(back.clone()).unwrap();
        assert_eq!(round_trip.change, ChangeKind::Updated);
        assert_eq!(round_trip.revision, 4);
        // Back and gone again before anyone heard: nothing happened, for them.
        let gone = change(ChangeKind::Deleted, &["a"], 5, true);
        assert_eq!(back.then(gone), None);
    }
}
