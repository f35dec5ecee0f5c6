//! The one wall clock: Unix seconds, for timestamps, replay windows, leases and expiry; Unix
//! milliseconds, for Lambda deadlines and metric timestamps.

use std::time::{SystemTime, UNIX_EPOCH};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

pub fn unix_now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Unix seconds as RFC 3339 UTC (`2026-12-02T01:00:00Z`), as the envelope writes times; the
/// epoch for a time RFC 3339 cannot write.
pub fn rfc3339(unix_seconds: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix_seconds)
        .ok()
        .and_then(format_rfc3339)
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}

/// [`rfc3339`] without its `-` and `:` (`20261202T010000Z`): for the ids the operations name
/// their runs by (a replay, a refresh, an EventBridge replay), which allow letters and digits.
pub fn rfc3339_compact(unix_seconds: i64) -> String {
    rfc3339(unix_seconds)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

/// RFC 3339 in UTC; `None` for a year RFC 3339 cannot write (before 0 or after 9999: `time`
/// parses offsets that push a valid local date over either edge).
pub fn format_rfc3339(at: OffsetDateTime) -> Option<String> {
    // `to_offset` panics when the result leaves `time`'s own range; this one says so.
    let at = at.checked_to_offset(time::UtcOffset::UTC)?;
    if !(0..=9999).contains(&at.year()) {
        return None;
    }
    at.format(&Rfc3339).ok()
}

/// An RFC 3339 time as Unix seconds.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .map(OffsetDateTime::unix_timestamp)
}
