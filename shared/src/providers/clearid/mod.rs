//! Genetec ClearID: a shared secret in a header; the identity read again with an OAuth2 client's
//! token.

mod api;
mod ingest;
mod sample;

pub use api::ClearIdApi;
pub use ingest::{ClearId, IdentityCallback};
