//! The port to the queue that hands events to enrichment.

mod memory;
mod sqs;

pub use memory::MemoryEventQueue;
pub use sqs::SqsEventQueue;

use crate::envelope::QueueMessage;
use std::future::Future;

/// The queue refused or could not be reached; the message may not be in it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event queue: {0}")]
pub struct QueueError(pub String);

pub trait EventQueue: Send + Sync {
    /// Returns only once the queue has durably accepted the message.
    fn send(&self, message: &QueueMessage) -> impl Future<Output = Result<(), QueueError>> + Send;
}
