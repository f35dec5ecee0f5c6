//! A webhook delivery as the pipeline sees it: plain HTTP parts, no AWS types.

use http::{HeaderMap, Method};
use std::collections::HashMap;
use std::sync::OnceLock;

#[derive(Clone, Debug)]
pub struct WebhookRequest {
    pub method: Method,
    pub headers: HeaderMap,
    /// First value of each query-string parameter.
    pub query: HashMap<String, String>,
    /// The body exactly as the provider sent it (already base64-decoded when API Gateway encoded
    /// it). Signatures are computed over these bytes, so they are never re-serialized.
    pub body: Vec<u8>,
    /// The body's SHA-256, computed on first use: the pipeline's payload check and the providers
    /// keyed on the body (Argyle, ClearID without an ordinal) share one pass over the bytes.
    /// Code that replaces `body` afterwards must reset it (see `provider::edit_json`).
    pub(crate) body_sha256: OnceLock<String>,
}

impl WebhookRequest {
    /// A POST with the given headers and body, as tests and the signing tools build them.
    pub fn post(headers: HeaderMap, body: impl Into<Vec<u8>>) -> Self {
        Self {
            method: Method::POST,
            headers,
            query: HashMap::new(),
            body: body.into(),
            body_sha256: OnceLock::new(),
        }
    }

    /// Lowercase hex SHA-256 of the body, computed once per request.
    pub fn body_sha256(&self) -> &str {
        self.body_sha256
            .get_or_init(|| crate::digest::sha256_hex(&self.body))
    }

    /// The single value of a header. A header that is absent, repeated or not visible ASCII
    /// counts as missing: a credential must never be chosen among several candidates.
    pub fn single_header(&self, name: impl http::header::AsHeaderName) -> Option<&str> {
        let mut values = self.headers.get_all(name).iter();
        let first = values.next()?;
        if values.next().is_some() {
            return None;
        }
        first.to_str().ok()
    }
}
