//! Argyle: hex HMAC-SHA512 of the raw body; the identity read again from `GET /v2/identities`.

mod api;
mod ingest;
mod sample;

pub use api::ArgyleApi;
pub use ingest::{Argyle, Notification};
