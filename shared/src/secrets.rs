//! Webhook secrets as configured: never printed, never compared in variable time.

use std::fmt;

/// One configured secret (a bearer token, a shared header value or a signing key).
///
/// `Debug` is redacted so that a secret cannot reach a log line through `{:?}`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret's bytes, for the verifiers only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Every secret currently accepted. Several at once let a provider's secret rotate with no
/// downtime: add the new one, switch the provider, then remove the old one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Secrets(Vec<Secret>);

impl Secrets {
    /// Parses a comma-separated list; blanks around entries and empty entries are ignored.
    pub fn parse(list: &str) -> Self {
        Self(
            list.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(Secret::new)
                .collect(),
        )
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Secret> {
        self.0.iter()
    }

    pub fn as_slice(&self) -> &[Secret] {
        &self.0
    }
}

impl FromIterator<Secret> for Secrets {
    fn from_iter<I: IntoIterator<Item = Secret>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_trims_and_skips_empty_entries() {
        let secrets = Secrets::parse(" old ,, new,");
        let values: Vec<&str> = secrets.iter().map(Secret::expose).collect();
        assert_eq!(values, ["old", "new"]);
    }

    #[test]
    fn debug_never_shows_the_value() {
        let secrets = Secrets::parse("hunter2");
        let printed = format!("{secrets:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("redacted"));
    }
}
