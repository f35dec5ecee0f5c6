//! The AWS limits a delivery's values flow into, and how each value is kept inside them.
//!
//! A value a provider controls must never make an AWS call fail: the provider would be answered
//! 5xx, retry, and be refused again, for days. So every such value is either mapped
//! deterministically to one that fits (the same delivery maps the same way on every retry), or
//! refused with a 4xx before any call. RELIABILITY.md has the table, limit by limit.

use crate::digest::sha256_hex;
use crate::json_text::PayloadError;
use std::borrow::Cow;

/// DynamoDB's item limit (names and values, UTF-8): "400 KB", read as 400,000 bytes, the
/// stricter reading (the emulator's too).
pub const DYNAMODB_ITEM_BYTES: usize = 400_000;
/// SQS's message limit (body and attributes) since August 2025; the template sets the events
/// queue's `MaximumMessageSize` to it.
pub const SQS_MESSAGE_BYTES: usize = 1024 * 1024;

/// Dedup keys longer than this become a readable prefix and a digest ([`bounded`]). DynamoDB
/// allows 2,048 bytes of partition key; event ids stay far below it, with room for the
/// `<provider>#` and `enriched#` prefixes.
pub const MAX_KEY_BYTES: usize = 256;
/// Event types longer than this are mapped the same way (no known type comes near it).
pub const MAX_EVENT_TYPE_BYTES: usize = 128;
/// What an empty event type becomes: SQS refuses an empty message attribute value. Flagged
/// unrecognized.
pub const UNKNOWN_EVENT_TYPE: &str = "unknown";
/// A resource id (what the enricher fetches) longer than this is refused: no provider's ids
/// come near it, and it travels in the envelope, the record and the FIFO group.
pub const MAX_RESOURCE_ID_BYTES: usize = 256;
/// The same for a resource path a payload gives (Baack's `v1.url`).
pub const MAX_RESOURCE_URL_BYTES: usize = 512;
/// A provider timestamp that cannot be normalised is passed on as given up to this length.
pub const MAX_RAW_TIMESTAMP_BYTES: usize = 64;
/// The readable part kept in front of the digest of a mapped value.
const PREFIX_BYTES: usize = 64;
/// What marks a mapped value: `<prefix>~sha256:<hex of the whole value>`.
pub const DIGEST_MARK: &str = "~sha256:";

/// An upper bound of an envelope less its payload: every field is bounded above (event id,
/// event type, resource id and URL, timestamps), doubled for JSON escaping, plus the names.
pub const ENVELOPE_OVERHEAD_BYTES: usize = 4 * 1024;
/// An upper bound of a dedup record less its message: key, names, hashes, numbers.
pub const RECORD_OVERHEAD_BYTES: usize = 4 * 1024;

/// The largest `MAX_BODY_BYTES` whose every delivery still fits: the record keeps the message
/// (envelope and payload) until it is queued, and the message must fit in SQS.
pub const fn max_body_bytes_that_fit() -> usize {
    let item = DYNAMODB_ITEM_BYTES - RECORD_OVERHEAD_BYTES - ENVELOPE_OVERHEAD_BYTES;
    let message = SQS_MESSAGE_BYTES - ENVELOPE_OVERHEAD_BYTES;
    if item < message {
        item
    } else {
        message
    }
}

/// Characters every store and queue carries as they are: not a control character, and inside
/// SQS's allowed set (which leaves out U+FFFE and U+FFFF).
pub fn is_plain(c: char) -> bool {
    !c.is_control() && !matches!(c, '\u{FFFE}' | '\u{FFFF}')
}

/// `text` itself when it is at most `max` bytes of plain characters; otherwise its first
/// plain characters (up to 64 bytes) followed by `~sha256:` and the hex SHA-256 of the whole
/// text. Deterministic, so every retry of a delivery maps to the same value, and distinct
/// texts stay distinct.
pub fn bounded(text: &str, max: usize) -> Cow<'_, str> {
    if text.len() <= max && text.chars().all(is_plain) {
        return Cow::Borrowed(text);
    }
    let mut prefix = String::with_capacity(PREFIX_BYTES);
    for c in text.chars().take_while(|c| is_plain(*c)) {
        if prefix.len() + c.len_utf8() > PREFIX_BYTES {
            break;
        }
        prefix.push(c);
    }
    Cow::Owned(format!(
        "{prefix}{DIGEST_MARK}{}",
        sha256_hex(text.as_bytes())
    ))
}

/// A value the enricher must use exactly as given (an id, a path), so it cannot be mapped:
/// refused, naming its field, when it is longer than `max` or has unplain characters. The
/// provider is answered 400, which no retry would change.
pub fn fitting<'a>(field: &str, value: &'a str, max: usize) -> Result<&'a str, PayloadError> {
    if value.len() > max {
        return Err(PayloadError {
            field: field.into(),
            message: format!("longer than {max} bytes"),
        });
    }
    if !value.chars().all(is_plain) {
        return Err(PayloadError {
            field: field.into(),
            message: "contains control characters".into(),
        });
    }
    Ok(value)
}

/// JSON text with U+FFFE and U+FFFF, which SQS refuses, written as `\uFFFE` / `\uFFFF`. In
/// valid JSON they can only stand inside strings, where the escape means the same character,
/// so the document's value is unchanged. Every other byte is kept.
pub fn sqs_safe_json(text: &str) -> Cow<'_, str> {
    // In UTF-8 both are EF BF BE / EF BF BF: a SIMD search for EF BF keeps the cost of the
    // common case (neither present) far below the HMAC's on the hot path.
    let refused = memchr::memmem::find_iter(text.as_bytes(), b"\xEF\xBF")
        .any(|at| matches!(text.as_bytes().get(at + 2), Some(0xBE | 0xBF)));
    if !refused {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.replace('\u{FFFE}', "\\uFFFE")
            .replace('\u{FFFF}', "\\uFFFF"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_plain_text_is_kept() {
        assert_eq!(
            bounded("urn:baack:trigger:7d1f", MAX_KEY_BYTES),
            "urn:baack:trigger:7d1f"
        );
        let exactly = "é".repeat(MAX_KEY_BYTES / 2);
        assert_eq!(bounded(&exactly, MAX_KEY_BYTES), exactly.as_str());
    }

    #[test]
    fn long_text_maps_to_a_stable_digest_with_a_readable_prefix() {
        let long = format!("evt_{}", "x".repeat(3000));
        let mapped = bounded(&long, MAX_KEY_BYTES);
        assert_eq!(mapped.len(), PREFIX_BYTES + DIGEST_MARK.len() + 64);
        assert!(mapped.starts_with("evt_xxx"));
        assert!(mapped.ends_with(&sha256_hex(long.as_bytes())));
        assert_eq!(mapped, bounded(&long, MAX_KEY_BYTES));
        let other = format!("evt_{}y", "x".repeat(2999));
        assert_ne!(mapped, bounded(&other, MAX_KEY_BYTES));
    }

    #[test]
    fn prefixes_end_at_a_character_boundary_and_before_unplain_characters() {
        let euros = "€".repeat(100);
        let mapped = bounded(&euros, 10);
        let prefix = mapped.split(DIGEST_MARK).next().unwrap();
        assert_eq!(prefix, "€".repeat(21));
        let mapped = bounded("ab\u{0}cd", MAX_KEY_BYTES);
        assert!(mapped.starts_with("ab~sha256:"), "{mapped}");
        assert!(bounded("a\u{FFFF}", MAX_KEY_BYTES).starts_with("a~sha256:"));
    }

    #[test]
    fn sqs_refused_characters_are_escaped_inside_json_strings() {
        let text = "{\"a\":\"x\u{FFFF}y\u{FFFE}\"}";
        let safe = sqs_safe_json(text);
        assert_eq!(safe, r#"{"a":"x\uFFFFy\uFFFE"}"#);
        let before: serde_json::Value = serde_json::from_str(text).unwrap();
        let after: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(before, after);
        assert!(matches!(sqs_safe_json("{\"a\":1}"), Cow::Borrowed(_)));
    }

    #[test]
    fn ids_that_cannot_be_mapped_are_refused_by_field() {
        assert_eq!(fitting("data.identity", "abc", 3), Ok("abc"));
        let error = fitting("data.identity", "abcd", 3).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid payload at data.identity: longer than 3 bytes"
        );
        assert_eq!(fitting("v1.url", "/a\n", 10).unwrap_err().field, "v1.url");
    }

    #[test]
    fn the_default_body_limit_fits() {
        assert!(crate::config::DEFAULT_MAX_BODY_BYTES <= max_body_bytes_that_fit());
        assert_eq!(max_body_bytes_that_fit(), 391_808);
    }
}
