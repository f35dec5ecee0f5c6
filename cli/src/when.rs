//! The times `--since` and `--until` take: an RFC 3339 time, a date (UTC midnight), or a
//! duration ago (`90s`, `30m`, `2h`, `7d`). A duration is kept as such until the verb runs, so
//! that `--since 2h` means two hours before the one clock reading the whole command uses.

use crate::failure::Failure;
use hookline::clock::{parse_rfc3339, rfc3339};

/// A `--since` / `--until` value as given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// Unix seconds.
    At(i64),
    /// Seconds before now.
    Ago(i64),
}

impl When {
    /// Unix seconds, durations counted back from `now`.
    pub fn at(self, now: i64) -> i64 {
        match self {
            Self::At(at) => at,
            Self::Ago(seconds) => now.saturating_sub(seconds),
        }
    }
}

impl std::str::FromStr for When {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if let Some(at) = parse_rfc3339(text) {
            return Ok(Self::At(at));
        }
        if let Some(at) = parse_date(text) {
            return Ok(Self::At(at));
        }
        if let Some(seconds) = duration_seconds(text) {
            return Ok(Self::Ago(seconds));
        }
        Err(format!(
            "{text:?} is not a time: give RFC 3339 (2026-12-01T09:30:00Z), a date (2026-12-01, \
             UTC midnight) or a duration ago (90s, 30m, 2h, 7d)"
        ))
    }
}

/// `YYYY-MM-DD` as UTC midnight.
fn parse_date(text: &str) -> Option<i64> {
    let mut parts = text.splitn(3, '-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    if year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return None;
    }
    let digits = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let month = time::Month::try_from(digits(month)? as u8).ok()?;
    let date = time::Date::from_calendar_date(digits(year)?, month, digits(day)? as u8).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp())
}

/// `<whole number><s|m|h|d>` (`90s`, `30m`, `2h`, `7d`) in seconds.
pub fn duration_seconds(text: &str) -> Option<i64> {
    let unit = match text.bytes().last()? {
        b's' => 1,
        b'm' => 60,
        b'h' => 3_600,
        b'd' => 86_400,
        _ => return None,
    };
    let count = &text[..text.len() - 1];
    if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    count.parse::<i64>().ok()?.checked_mul(unit)
}

/// The range `since..=until` in Unix seconds; `until` defaults to `now`. A range that ends
/// before it starts is a usage error (it would silently select nothing).
pub fn range(since: When, until: Option<When>, now: i64) -> Result<(i64, i64), Failure> {
    let since = since.at(now);
    let until = until.map_or(now, |until| until.at(now));
    if since > until {
        return Err(Failure::Usage(format!(
            "--since {} is after --until {}: the range would select nothing",
            rfc3339(since),
            rfc3339(until)
        )));
    }
    Ok((since, until))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_796_173_200; // 2026-12-02T01:00:00Z

    fn when(text: &str) -> When {
        text.parse().unwrap()
    }

    #[test]
    fn rfc3339_times_with_any_offset() {
        assert_eq!(when("2026-12-02T01:00:00Z"), When::At(NOW));
        assert_eq!(when("2026-12-02T02:00:00+01:00"), When::At(NOW));
    }

    #[test]
    fn a_date_is_utc_midnight() {
        assert_eq!(when("2026-12-02"), When::At(NOW - 3_600));
        assert_eq!(when("2024-02-29").at(0), 1_709_164_800);
        for bad in [
            "2026-02-30",
            "2026-13-01",
            "2026-1-01",
            "26-12-01",
            "2026-12-+1",
        ] {
            assert!(bad.parse::<When>().is_err(), "{bad}");
        }
    }

    #[test]
    fn durations_count_back_from_now() {
        assert_eq!(when("90s").at(NOW), NOW - 90);
        assert_eq!(when("30m").at(NOW), NOW - 1_800);
        assert_eq!(when("2h").at(NOW), NOW - 7_200);
        assert_eq!(when("7d").at(NOW), NOW - 604_800);
        for bad in ["h", "2w", "-2h", "1.5h", "2 h", "", "99999999999999999999d"] {
            assert!(bad.parse::<When>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_error_says_what_is_accepted() {
        let message = "yesterday".parse::<When>().unwrap_err();
        assert!(message.contains("\"yesterday\""), "{message}");
        assert!(
            message.contains("RFC 3339") && message.contains("7d"),
            "{message}"
        );
    }

    #[test]
    fn until_defaults_to_now_and_since_after_until_is_a_usage_error() {
        assert_eq!(range(when("1h"), None, NOW).unwrap(), (NOW - 3_600, NOW));
        assert_eq!(
            range(when("2026-12-02"), Some(when("2026-12-02")), NOW).unwrap(),
            (NOW - 3_600, NOW - 3_600)
        );
        match range(when("1h"), Some(when("2h")), NOW) {
            Err(Failure::Usage(message)) => {
                assert!(message.contains("is after --until"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }
}
