//! Baack: bearer (or Basic) auth, key = subscription + trigger urn; the resource read again from
//! Baack's API with an API client's token.

mod api;
mod ingest;
mod sample;

pub use api::BaackApi;
pub use ingest::{Baack, Notification};
