//! The stack's two queues, the events queue and its dead-letter queue: which is meant, how many
//! messages each holds as SQS counts them (approximately: what `redrive` moves and what
//! `forget` reports it cannot edit), and the pair on SQS, whose moves `redrive` adds.

use super::sdk_error::short;
use aws_sdk_sqs::types::{
    BatchResultErrorEntry, MessageAttributeValue, MessageSystemAttributeName as System,
    QueueAttributeName,
};
use std::collections::HashMap;
use std::future::Future;

/// SQS's approximate counts of a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Depth {
    /// Visible: waiting to be received.
    pub waiting: u64,
    /// Received and not yet deleted or visible again.
    pub in_flight: u64,
}

/// One of the stack's two queues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    Events,
    DeadLetter,
}

/// A queue's counts could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot read {url}: {reason}")]
pub struct DepthError {
    pub url: String,
    /// The SDK's error, in one line.
    pub reason: String,
}

/// How many messages the queues hold (they cannot be searched or edited).
pub trait QueueDepths: Send + Sync {
    fn depth(&self, queue: Queue) -> impl Future<Output = Result<Depth, DepthError>> + Send;
}

/// Whether the queue at `url` is FIFO: SQS requires a FIFO queue's name to end in `.fifo`, as
/// the product's queue adapter also relies on.
pub fn is_fifo(url: &str) -> bool {
    url.ends_with(".fifo")
}

/// The stack's two queues on SQS, by URL.
pub struct SqsQueues {
    client: aws_sdk_sqs::Client,
    events: String,
    dead_letter: String,
}

impl SqsQueues {
    pub fn new(
        client: aws_sdk_sqs::Client,
        events: impl Into<String>,
        dead_letter: impl Into<String>,
    ) -> Self {
        Self {
            client,
            events: events.into(),
            dead_letter: dead_letter.into(),
        }
    }

    pub fn client(&self) -> &aws_sdk_sqs::Client {
        &self.client
    }

    pub fn url(&self, queue: Queue) -> &str {
        match queue {
            Queue::Events => &self.events,
            Queue::DeadLetter => &self.dead_letter,
        }
    }
}

impl QueueDepths for SqsQueues {
    async fn depth(&self, queue: Queue) -> Result<Depth, DepthError> {
        let url = self.url(queue);
        let attributes = self
            .client
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .map_err(|e| DepthError {
                url: url.to_string(),
                reason: short(&e),
            })?
            .attributes
            .unwrap_or_default();
        let count = |name: QueueAttributeName| {
            attributes
                .get(&name)
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        Ok(Depth {
            waiting: count(QueueAttributeName::ApproximateNumberOfMessages),
            in_flight: count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        })
    }
}

/// A message received from the dead-letter queue: what it carries, and the handle to act on it
/// by (good only for the receive that gave it).
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
    /// Its message attributes as SQS gave them (the webhook functions set `provider`,
    /// `event_type`, ...): sent again as they are, whatever their type.
    pub attributes: HashMap<String, MessageAttributeValue>,
    /// Its FIFO message group.
    pub group: Option<String>,
    /// Its FIFO deduplication id.
    pub deduplication_id: Option<String>,
    /// When it was first sent to the events queue, Unix milliseconds.
    pub sent_at_ms: Option<i64>,
    /// How many times it was received, counting the enricher's tries and this one.
    pub receives: Option<u64>,
}

/// Up to `count` (at most 10) messages of the dead-letter queue at `url`, each hidden for
/// `hidden_for` seconds, with every message attribute and the system attributes a verb shows or
/// sends on; none when the queue is empty. Long polling (1 s) asks every SQS server, so an
/// empty answer means empty.
pub async fn receive(
    client: &aws_sdk_sqs::Client,
    url: &str,
    count: u64,
    hidden_for: i32,
) -> Result<Vec<DeadLetter>, String> {
    let received = client
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(count.min(10) as i32)
        .visibility_timeout(hidden_for)
        .wait_time_seconds(1)
        .message_attribute_names("All")
        .message_system_attribute_names(System::SentTimestamp)
        .message_system_attribute_names(System::ApproximateReceiveCount)
        .message_system_attribute_names(System::MessageGroupId)
        .message_system_attribute_names(System::MessageDeduplicationId)
        .send()
        .await
        .map_err(|e| {
            format!(
                "cannot receive from the dead-letter queue {url}: {}",
                short(&e)
            )
        })?;
    Ok(received
        .messages
        .unwrap_or_default()
        .into_iter()
        .map(|message| {
            let system = |name: System| message.attributes().and_then(|a| a.get(&name)).cloned();
            DeadLetter {
                message_id: message.message_id().unwrap_or_default().into(),
                receipt_handle: message.receipt_handle().unwrap_or_default().into(),
                body: message.body().unwrap_or_default().into(),
                attributes: message.message_attributes().cloned().unwrap_or_default(),
                group: system(System::MessageGroupId),
                deduplication_id: system(System::MessageDeduplicationId),
                sent_at_ms: system(System::SentTimestamp).and_then(|v| v.parse().ok()),
                receives: system(System::ApproximateReceiveCount).and_then(|v| v.parse().ok()),
            }
        })
        .collect())
}

/// Why SQS refused one entry of a batch call: its code and message.
pub fn refusal(entry: &BatchResultErrorEntry) -> String {
    format!("{}: {}", entry.code(), entry.message().unwrap_or_default())
}
