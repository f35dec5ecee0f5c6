//! The SQS adapter: standard queues, and FIFO queues when the URL ends in `.fifo`.

use super::{EventQueue, QueueError};
use crate::envelope::QueueMessage;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::MessageAttributeValue;
use aws_sdk_sqs::Client;

pub struct SqsEventQueue {
    client: Client,
    queue_url: String,
    fifo: bool,
}

impl SqsEventQueue {
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        let queue_url = queue_url.into();
        Self {
            client,
            fifo: queue_url.ends_with(".fifo"),
            queue_url,
        }
    }
}

fn attribute(value: &str) -> Result<MessageAttributeValue, QueueError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|e| QueueError::other(e.to_string()))
}

impl EventQueue for SqsEventQueue {
    async fn send(&self, message: &QueueMessage) -> Result<(), QueueError> {
        let mut request = self
            .client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(&message.body)
            .message_attributes("provider", attribute(&message.provider)?)
            .message_attributes("event_type", attribute(&message.event_type)?);
        if let Some(replay_id) = &message.replay_id {
            request = request.message_attributes("replay_id", attribute(replay_id)?);
        }
        if self.fifo {
            request = request
                .message_group_id(message.group_id())
                .message_deduplication_id(&message.deduplication_id);
        }
        request.send().await.map_err(|e| {
            let kind = crate::aws_error::kind(&e);
            QueueError::new(
                kind,
                format!("SendMessage failed: {}", DisplayErrorContext(e)),
            )
        })?;
        Ok(())
    }
}
