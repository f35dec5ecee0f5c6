// Shared by the fuzz targets: turns fuzzer bytes into a request.

use hookline::request::WebhookRequest;
use http::{HeaderMap, HeaderName, HeaderValue};

/// Splits `data` at NUL bytes: the first `headers.len()` parts become those headers' values (when
/// HTTP allows them), the rest is the body.
pub fn request(data: &[u8], headers: &[&'static str]) -> WebhookRequest {
    let mut parts = data.splitn(headers.len() + 1, |b| *b == 0);
    let mut map = HeaderMap::new();
    for name in headers {
        if let Some(value) = parts.next().and_then(|v| HeaderValue::from_bytes(v).ok()) {
            map.append(HeaderName::from_static(name), value);
        }
    }
    WebhookRequest::post(map, parts.next().unwrap_or_default().to_vec())
}
