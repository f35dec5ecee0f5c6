//! The stack's two queues, the events queue and its dead-letter queue: which is meant, how many
//! messages each holds as SQS counts them (approximately: what `redrive` moves and what
//! `forget` reports it cannot edit), and the pair on SQS, whose moves `redrive` adds.

use super::sdk_error::short;
use aws_sdk_sqs::types::QueueAttributeName;
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

/// The stack's two queues on SQS, by URL: their depths here, `redrive`'s moves in
/// [`super::redrive`].
pub struct SqsQueues {
    pub(super) client: aws_sdk_sqs::Client,
    pub(super) events: String,
    pub(super) dead_letter: String,
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
