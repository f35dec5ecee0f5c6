//! The port change events leave by, and an in-memory one for tests.

use super::Change;
use std::future::Future;
use std::sync::Mutex;

/// The most a change event's entry may hold (EventBridge's PutEvents limit as documented; the
/// newer 1 MiB limit is not relied on).
pub const EVENT_ENTRY_BYTES: usize = 256 * 1024;

crate::port_error::port_error!(PublishError, "change events");

/// Where change events go (an EventBridge bus in production).
pub trait ChangePublisher: Send + Sync {
    /// Sends one change; `data` is the identity's data as now stored, which the publisher
    /// includes only when it was configured to (`CHANGE_EVENTS_INCLUDE_DATA`).
    fn publish(
        &self,
        change: &Change,
        data: Option<&serde_json::Value>,
    ) -> impl Future<Output = Result<(), PublishError>> + Send;
}

/// One event as it would be put on the bus: `detail-type` and `detail`.
#[derive(Debug, Clone, PartialEq)]
pub struct SentEvent {
    pub detail_type: String,
    pub detail: serde_json::Value,
}

/// The detail to send: with the data when asked for and when it fits in one entry, else
/// without it and marked `data_omitted` (a consumer then reads `hookline identities get`).
pub fn event_of(
    change: &Change,
    data: Option<&serde_json::Value>,
    include_data: bool,
) -> SentEvent {
    let detail_type = change.detail_type();
    let mut detail = change.detail(data.filter(|_| include_data));
    let room = EVENT_ENTRY_BYTES - super::change::SOURCE.len() - detail_type.len() - 64;
    if detail.get("data").is_some() && detail.to_string().len() > room {
        detail = change.detail(None);
        detail["data_omitted"] = serde_json::Value::Bool(true);
    }
    if detail.to_string().len() > room {
        // Only a payload of tens of thousands of top-level fields gets here: name none rather
        // than fail every send (the consumer reads the identity for what changed).
        detail["changed_fields"] = serde_json::json!([]);
        detail["changed_fields_omitted"] = serde_json::Value::Bool(true);
    }
    SentEvent {
        detail_type,
        detail,
    }
}

/// Keeps what it was sent; fails every send while `failing` is set.
#[derive(Default)]
pub struct MemoryPublisher {
    pub include_data: bool,
    sent: Mutex<Vec<SentEvent>>,
    failing: std::sync::atomic::AtomicBool,
}

impl MemoryPublisher {
    pub fn sent(&self) -> Vec<SentEvent> {
        self.sent.lock().unwrap().clone()
    }

    pub fn set_failing(&self, failing: bool) {
        self.failing
            .store(failing, std::sync::atomic::Ordering::SeqCst);
    }
}

impl ChangePublisher for MemoryPublisher {
    async fn publish(
        &self,
        change: &Change,
        data: Option<&serde_json::Value>,
    ) -> Result<(), PublishError> {
        if self.failing.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(PublishError::other("the bus is unavailable"));
        }
        let event = event_of(change, data, self.include_data);
        self.sent.lock().unwrap().push(event);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::ChangeKind;
    use serde_json::json;

    fn change() -> Change {
        Change {
            provider: "midbound".into(),
            resource_id: "evt_1".into(),
            change: ChangeKind::Created,
            changed_fields: vec!["identity".into()],
            revision: 1,
            event_id: Some("midbound#evt_1".into()),
            event_type: Some("identity.resolved".into()),
            changed_at: "2026-12-02T10:00:00Z".into(),
            source_updated_at: None,
            had_data_before: false,
        }
    }

    #[test]
    fn data_is_sent_only_when_included_and_only_when_it_fits() {
        let data = json!({"identity": {"emails": ["ann@example.com"]}});
        assert!(event_of(&change(), Some(&data), false)
            .detail
            .get("data")
            .is_none());
        let with = event_of(&change(), Some(&data), true);
        assert_eq!(with.detail["data"], data);
        assert_eq!(with.detail_type, "midbound.identity.created");
        let big = json!({"identity": "x".repeat(EVENT_ENTRY_BYTES)});
        let without = event_of(&change(), Some(&big), true);
        assert!(without.detail.get("data").is_none());
        assert_eq!(without.detail["data_omitted"], true);
        let mut wide = change();
        wide.changed_fields = (0..40_000).map(|i| format!("field_{i}")).collect();
        let named_none = event_of(&wide, None, false);
        assert_eq!(named_none.detail["changed_fields"], json!([]));
        assert_eq!(named_none.detail["changed_fields_omitted"], true);
    }
}
