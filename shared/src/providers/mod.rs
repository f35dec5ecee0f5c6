//! One file per provider: its authentication, payload model, event types and dedup key.

pub mod argyle;
pub mod baack;
pub mod clearid;
pub mod midbound;

pub use argyle::Argyle;
pub use baack::Baack;
pub use clearid::ClearId;
pub use midbound::Midbound;

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, PrimitiveDateTime};

/// Normalises a provider timestamp to RFC 3339 UTC. Zone-less values are UTC (Baack, ClearID);
/// anything unparseable is passed on as given rather than failing a genuine delivery.
pub(crate) fn normalise_timestamp(raw: &str) -> String {
    if let Ok(at) = OffsetDateTime::parse(raw, &Rfc3339) {
        return rfc3339(at.to_offset(time::UtcOffset::UTC));
    }
    let zoneless = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    match PrimitiveDateTime::parse(raw, zoneless) {
        Ok(at) => rfc3339(at.assume_utc()),
        Err(_) => raw.to_string(),
    }
}

pub(crate) fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).expect("a UTC date in range formats")
}

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
}
