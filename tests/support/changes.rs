//! The change events the enricher sends, caught from the emulator's EventBridge: an SQS queue
//! of the test's own, the target of a rule on the stack's bus that matches `source: hookline`
//! (moto delivers a rule's SQS target during PutEvents, the whole event as the message body:
//! `detail-type`, `source`, `detail` as JSON, ...).

use crate::aws::{messages_in, Resources};
use aws_sdk_eventbridge::types::Target;
use serde_json::Value;
use std::sync::atomic::{AtomicU32, Ordering};

/// One change event as the bus delivered it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeEvent {
    pub source: String,
    pub detail_type: String,
    pub detail: Value,
}

/// Everything a rule on a bus delivers, from its creation on.
pub struct ChangeWatcher {
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    /// The rule's name on the bus.
    pub rule: String,
}

impl ChangeWatcher {
    /// A watcher on the stack's bus (`resources.event_bus`).
    pub async fn on(resources: &Resources) -> Self {
        Self::on_bus(resources, &resources.event_bus).await
    }

    /// A watcher on the bus named `bus`.
    pub async fn on_bus(resources: &Resources, bus: &str) -> Self {
        static WATCHERS: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "{}-changes-{}",
            resources.stack_name,
            WATCHERS.fetch_add(1, Ordering::SeqCst)
        );
        let queue_url = resources
            .sqs
            .create_queue()
            .queue_name(&name)
            .send()
            .await
            .expect("create the watcher's queue")
            .queue_url
            .expect("queue url");
        let queue_arn = resources.queue_arn_of(&queue_url).await;
        let events = aws_sdk_eventbridge::Client::new(&resources.sdk);
        events
            .put_rule()
            .name(&name)
            .event_bus_name(bus)
            .event_pattern(r#"{"source":["hookline"]}"#)
            .send()
            .await
            .expect("put rule");
        events
            .put_targets()
            .rule(&name)
            .event_bus_name(bus)
            .targets(
                Target::builder()
                    .id("watcher")
                    .arn(queue_arn)
                    .build()
                    .expect("target"),
            )
            .send()
            .await
            .expect("put targets");
        Self {
            sqs: resources.sqs.clone(),
            queue_url,
            rule: name,
        }
    }

    /// The events delivered since the last call, in the order they came.
    pub async fn take(&self) -> Vec<ChangeEvent> {
        messages_in(&self.sqs, &self.queue_url)
            .await
            .into_iter()
            .map(|message| ChangeEvent {
                source: message.body["source"]
                    .as_str()
                    .expect("an event's source")
                    .to_string(),
                detail_type: message.body["detail-type"]
                    .as_str()
                    .expect("an event's detail-type")
                    .to_string(),
                detail: message.body["detail"].clone(),
            })
            .collect()
    }
}
