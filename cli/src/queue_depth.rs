//! How many messages a queue holds, as SQS counts them (approximately): what `redrive` moves
//! and what `forget` reports it cannot edit.

use crate::stack::short;
use aws_sdk_sqs::types::QueueAttributeName;

/// SQS's approximate counts of a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Depth {
    /// Visible: waiting to be received.
    pub waiting: u64,
    /// Received and not yet deleted or visible again.
    pub in_flight: u64,
}

/// The queue's counts; the error is the SDK's, in one line.
pub async fn depth(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> Result<Depth, String> {
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .map_err(|e| short(&e))?
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
