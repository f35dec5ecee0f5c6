//! Change events onto an EventBridge bus: one `PutEvents` entry per change, source `hookline`.

use super::publish::{event_of, ChangePublisher, PublishError};
use super::Change;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_sdk_eventbridge::Client;

pub struct EventBridgePublisher {
    client: Client,
    bus: String,
    include_data: bool,
}

impl EventBridgePublisher {
    /// `bus`: the bus's name or ARN (`EVENT_BUS_NAME`).
    pub fn new(client: Client, bus: impl Into<String>, include_data: bool) -> Self {
        Self {
            client,
            bus: bus.into(),
            include_data,
        }
    }
}

impl ChangePublisher for EventBridgePublisher {
    async fn publish(
        &self,
        change: &Change,
        data: Option<&serde_json::Value>,
    ) -> Result<(), PublishError> {
        let event = event_of(change, data, self.include_data);
        let entry = PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(super::change::SOURCE)
            .detail_type(event.detail_type)
            .detail(event.detail.to_string())
            .build();
        let output = self
            .client
            .put_events()
            .entries(entry)
            .send()
            .await
            .map_err(|e| {
                PublishError::new(
                    crate::aws_error::kind(&e),
                    format!("PutEvents failed: {}", crate::aws_error::one_line(&e)),
                )
            })?;
        // PutEvents answers 200 with the entries it refused counted and each one's reason.
        if output.failed_entry_count() > 0 {
            let refused = output.entries().iter().find(|e| e.error_code().is_some());
            let kind = crate::port_error::ErrorKind::of_code(refused.and_then(|e| e.error_code()));
            let reason = refused
                .and_then(|e| {
                    e.error_code()
                        .map(|code| format!("{code}: {}", e.error_message().unwrap_or_default()))
                })
                .unwrap_or_else(|| "no reason given".into());
            return Err(PublishError::new(
                kind,
                format!("PutEvents refused the event ({reason})"),
            ));
        }
        Ok(())
    }
}
