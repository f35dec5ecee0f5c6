#![no_main]
// What the enricher reads from a provider's answer or from a payload never panics, and what it
// accepts is safe to use: a Retry-After or a token lifetime never overflows the clock, and an id
// that makes a path cannot add a segment, a dot segment, a query or a fragment.
//
// The input is split at NUL bytes: the first part is the Retry-After value and the first id
// (Argyle identity, Baack urn, ClearID account), the second the Baack `v1.url` and the ClearID
// identity. The whole input, when it is JSON, is an `expires_in` value.

use hookline::provider_api::http::{retry_after, segment, token_lifetime, wake_at, MAX_TOKEN_LIFETIME};
use hookline::providers::{argyle::ArgyleApi, baack::BaackApi, clearid::ClearIdApi};
use hookline::provider::Resource;
use libfuzzer_sys::fuzz_target;
use std::time::{Duration, Instant};

const CLEARID_TEMPLATE: &str = "/api/v2/accounts/{account_id}/identities/{identity_id}";

fuzz_target!(|data: &[u8]| {
    let now = Instant::now();
    let deadline = now + Duration::from_secs(900);
    let first = data.split(|b| *b == 0).next().unwrap_or_default();
    if let Some(wait) = retry_after(first) {
        if let Some(at) = wake_at(now, wait, deadline) {
            assert!(at >= now && at < deadline);
        }
    }

    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        let lifetime = token_lifetime(Some(&value));
        assert!(lifetime <= MAX_TOKEN_LIFETIME);
        assert!(now.checked_add(lifetime).is_some());
    }

    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.split('\0');
    let first = parts.next().unwrap_or_default();
    let second = parts.next();

    let encoded = segment(first);
    assert!(encoded.is_ascii() && !encoded.contains(['/', '?', '#', '\\']));
    assert!(well_encoded(&encoded), "{encoded}");

    if let Ok(path) = ArgyleApi::identity_path(first) {
        assert_safe(&path, 3);
    }
    let resource = Resource {
        id: first.to_string(),
        url: second.map(String::from),
    };
    if let Ok(path) = BaackApi::resource_path(&resource) {
        assert_safe(&path, 4);
        assert!(path.starts_with("/n/v1/") && path.ends_with(first));
    }
    if let Ok(path) = ClearIdApi::identity_path(CLEARID_TEMPLATE, first, second.unwrap_or("")) {
        assert_safe(&path, 6);
    }
});

/// Every `%` starts an escape of two hex digits.
fn well_encoded(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if !bytes
                .get(i + 1..i + 3)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
            {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    true
}

/// An absolute path of exactly `segments` non-empty segments, none of them a dot segment, with
/// nothing a URL parser would read as anything but path.
fn assert_safe(path: &str, segments: usize) {
    assert!(path.is_ascii() && path.starts_with('/'), "{path}");
    assert!(!path.contains(['?', '#', '%', '\\', ' ']), "{path}");
    let parts: Vec<&str> = path[1..].split('/').collect();
    assert_eq!(parts.len(), segments, "{path}");
    for part in parts {
        assert!(!part.is_empty() && !part.contains(".."), "{path}");
        assert_ne!(part, ".", "{path}");
    }
}
