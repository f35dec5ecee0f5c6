//! Provider timestamps: read in the shapes providers send them, written as RFC 3339 UTC.

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, PrimitiveDateTime};

/// Normalises a provider timestamp to RFC 3339 UTC. Zone-less values are UTC (Baack, ClearID);
/// anything unparseable, or outside the years 0-9999 once in UTC (RFC 3339 cannot write it), is
/// passed on as given rather than failing a genuine delivery.
pub fn normalise_timestamp(raw: &str) -> String {
    parse_timestamp(raw)
        .and_then(rfc3339)
        .unwrap_or_else(|| raw.to_string())
}

/// RFC 3339, or zone-less ISO 8601 read as UTC.
fn parse_timestamp(raw: &str) -> Option<OffsetDateTime> {
    if let Ok(at) = OffsetDateTime::parse(raw, &Rfc3339) {
        return Some(at);
    }
    let zoneless = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    PrimitiveDateTime::parse(raw, zoneless)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

/// A delivery's `occurred_at`: the normalised time, or the provider's own text when it is
/// short and plain enough to travel in the envelope and the record (`limits`), else none.
pub fn occurred_at(raw: &str) -> Option<String> {
    let text = normalise_timestamp(raw);
    (text.len() <= crate::limits::MAX_RAW_TIMESTAMP_BYTES
        && text.chars().all(crate::limits::is_plain))
    .then_some(text)
}

/// A provider timestamp (RFC 3339, or zone-less UTC) as Unix nanoseconds: what orders two
/// update times (their texts do not: `…:21Z` sorts after `…:21.5Z`).
pub fn unix_nanos(raw: &str) -> Option<i128> {
    parse_timestamp(raw).map(OffsetDateTime::unix_timestamp_nanos)
}

/// A provider timestamp (RFC 3339, or zone-less UTC) as Unix seconds.
pub fn unix_seconds(raw: &str) -> Option<i64> {
    parse_timestamp(raw).map(OffsetDateTime::unix_timestamp)
}

pub use crate::clock::format_rfc3339 as rfc3339;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_normalise_to_utc() {
        assert_eq!(
            normalise_timestamp("2026-05-29T13:45:32"),
            "2026-05-29T13:45:32Z"
        );
        assert_eq!(
            normalise_timestamp("2026-05-29T13:45:32.250"),
            "2026-05-29T13:45:32.25Z"
        );
        assert_eq!(
            normalise_timestamp("2026-05-29T15:45:32+02:00"),
            "2026-05-29T13:45:32Z"
        );
        assert_eq!(normalise_timestamp("yesterday"), "yesterday");
    }

    #[test]
    fn dates_outside_rfc3339_years_are_kept_as_given_not_a_panic() {
        for raw in [
            "0000-01-01T00:00:00+00:01",
            "9999-12-31T23:59:59-00:01",
            "-0001-01-01T00:00:00Z",
        ] {
            assert_eq!(normalise_timestamp(raw), raw);
            assert_eq!(occurred_at(raw).as_deref(), Some(raw));
        }
        assert_eq!(occurred_at(&"9".repeat(65)), None);
        assert_eq!(occurred_at("2026-05-29\u{0}"), None);
        let min = OffsetDateTime::from_unix_timestamp(-62_167_219_200).unwrap();
        assert_eq!(rfc3339(min).as_deref(), Some("0000-01-01T00:00:00Z"));
        assert_eq!(rfc3339(min - time::Duration::SECOND), None);
    }
}
