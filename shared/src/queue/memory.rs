//! An in-memory [`EventQueue`] for unit tests of the pipeline and for benchmarks.

use super::{EventQueue, QueueError};
use crate::envelope::QueueMessage;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

#[derive(Default)]
pub struct MemoryEventQueue {
    messages: Mutex<Vec<QueueMessage>>,
    /// How many of the next sends fail, to exercise the store-then-send protocol.
    failures_left: AtomicUsize,
}

impl MemoryEventQueue {
    pub fn messages(&self) -> Vec<QueueMessage> {
        self.messages.lock().unwrap().clone()
    }

    pub fn fail_next(&self, sends: usize) {
        self.failures_left.store(sends, Ordering::SeqCst);
    }
}

impl EventQueue for MemoryEventQueue {
    async fn send(&self, message: &QueueMessage) -> Result<(), QueueError> {
        let failing = self
            .failures_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failing {
            return Err(QueueError::other("injected failure"));
        }
        self.messages.lock().unwrap().push(message.clone());
        Ok(())
    }
}
