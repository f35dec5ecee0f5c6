//! Midbound: Standard Webhooks, key = `webhook-id`; the data comes in full with the event, so
//! nothing is read again.

mod api;
mod ingest;
mod sample;

pub use api::Pushed;
pub use ingest::{Midbound, Notification};
