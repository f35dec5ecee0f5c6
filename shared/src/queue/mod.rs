//! The port to the queue that hands events to enrichment.

mod memory;
mod sqs;

pub use memory::MemoryEventQueue;
pub use sqs::SqsEventQueue;

use crate::envelope::QueueMessage;
use std::future::Future;

crate::port_error::port_error!(
    /// The queue refused or could not be reached; the message may not be in it.
    QueueError,
    "event queue"
);

pub trait EventQueue: Send + Sync {
    /// Returns only once the queue has durably accepted the message.
    fn send(&self, message: &QueueMessage) -> impl Future<Output = Result<(), QueueError>> + Send;
}
