//! Function configuration from environment variables: the same names in every function.

use crate::secrets::Secrets;

pub const DEFAULT_MAX_BODY_BYTES: usize = 256 * 1024;
pub const DEFAULT_TOLERANCE_SECONDS: i64 = 300;
/// Longer than any function timeout we deploy with, so a live first attempt is never overtaken.
pub const DEFAULT_LEASE_SECONDS: u64 = 30;

#[derive(Debug, Clone)]
pub struct Config {
    /// `EVENTS_TABLE`: the DynamoDB table of dedup records.
    pub table: String,
    /// `EVENTS_QUEUE_URL`: the SQS queue events are handed to (FIFO when it ends in `.fifo`).
    pub queue_url: String,
    /// `WEBHOOK_SECRETS`: comma-separated; several at once during a rotation.
    pub secrets: Secrets,
    /// `WEBHOOK_SECRET_HEADER`: the header carrying ClearID's shared secret.
    pub secret_header: Option<String>,
    /// `WEBHOOK_SECRET_ENCODING`: Midbound key encoding, `spec`, `raw` or `auto`.
    pub secret_encoding: Option<String>,
    /// `WEBHOOK_AUTH_MODE`: Baack's `bearer` (default) or `basic`.
    pub auth_mode: Option<String>,
    /// `WEBHOOK_TOLERANCE_SECONDS`: allowed clock skew for signed timestamps, both ways.
    pub tolerance_seconds: i64,
    /// `DEDUP_RETENTION_SECONDS`: how long a delivery is remembered; provider default if unset.
    pub retention_seconds: Option<u64>,
    /// `DEDUP_LEASE_SECONDS`: how long an unfinished first attempt blocks a retry.
    pub lease_seconds: u64,
    /// `MAX_BODY_BYTES`: larger bodies get 413.
    pub max_body_bytes: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("missing required environment variables: {}", .0.join(", "))]
    Missing(Vec<&'static str>),
    #[error("WEBHOOK_SECRETS has no secret: refusing to start unauthenticated (fail closed)")]
    NoSecrets,
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads every variable through `lookup`; blank values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let mut missing = Vec::new();
        let mut required = |name: &'static str| {
            get(name).unwrap_or_else(|| {
                missing.push(name);
                String::new()
            })
        };
        let table = required("EVENTS_TABLE");
        let queue_url = required("EVENTS_QUEUE_URL");
        let secrets = required("WEBHOOK_SECRETS");
        if !missing.is_empty() {
            return Err(ConfigError::Missing(missing));
        }
        let secrets = Secrets::parse(&secrets);
        if secrets.is_empty() {
            return Err(ConfigError::NoSecrets);
        }
        Ok(Self {
            table,
            queue_url,
            secrets,
            secret_header: get("WEBHOOK_SECRET_HEADER"),
            secret_encoding: get("WEBHOOK_SECRET_ENCODING"),
            auth_mode: get("WEBHOOK_AUTH_MODE"),
            tolerance_seconds: number(&get, "WEBHOOK_TOLERANCE_SECONDS")?
                .unwrap_or(DEFAULT_TOLERANCE_SECONDS),
            retention_seconds: positive(&get, "DEDUP_RETENTION_SECONDS")?,
            lease_seconds: positive(&get, "DEDUP_LEASE_SECONDS")?.unwrap_or(DEFAULT_LEASE_SECONDS),
            max_body_bytes: positive(&get, "MAX_BODY_BYTES")?.unwrap_or(DEFAULT_MAX_BODY_BYTES),
        })
    }
}

/// A valid configuration with the given secrets, for unit tests of the providers.
#[cfg(test)]
pub(crate) fn test_config(secrets: &str) -> Config {
    Config::from_lookup(|name| match name {
        "EVENTS_TABLE" => Some("events".into()),
        "EVENTS_QUEUE_URL" => Some("http://queue".into()),
        "WEBHOOK_SECRETS" => Some(secrets.into()),
        _ => None,
    })
    .expect("complete test configuration")
}

fn number<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Option<T>, ConfigError> {
    get(name)
        .map(|raw| {
            raw.trim().parse().map_err(|_| ConfigError::Invalid {
                name,
                reason: format!("{raw:?} is not a whole number"),
            })
        })
        .transpose()
}

fn positive<T: std::str::FromStr + PartialOrd + Default>(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Option<T>, ConfigError> {
    match number::<T>(get, name)? {
        Some(value) if value <= T::default() => Err(ConfigError::Invalid {
            name,
            reason: "must be greater than zero".into(),
        }),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    const BASE: [(&str, &str); 3] = [
        ("EVENTS_TABLE", "events"),
        ("EVENTS_QUEUE_URL", "http://queue"),
        ("WEBHOOK_SECRETS", "a,b"),
    ];

    #[test]
    fn defaults_apply() {
        let c = config(&BASE).unwrap();
        assert_eq!(c.secrets.len(), 2);
        assert_eq!(c.max_body_bytes, 256 * 1024);
        assert_eq!(c.tolerance_seconds, 300);
        assert_eq!(c.lease_seconds, 30);
        assert_eq!(c.retention_seconds, None);
    }

    #[test]
    fn missing_variables_are_all_named() {
        let err = config(&[("WEBHOOK_SECRETS", "a")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing required environment variables: EVENTS_TABLE, EVENTS_QUEUE_URL"
        );
    }

    #[test]
    fn no_secret_fails_closed() {
        let mut vars = BASE.to_vec();
        vars[2] = ("WEBHOOK_SECRETS", " , ,");
        assert_eq!(config(&vars).unwrap_err(), ConfigError::NoSecrets);
        vars[2] = ("WEBHOOK_SECRETS", "");
        assert_eq!(
            config(&vars).unwrap_err(),
            ConfigError::Missing(vec!["WEBHOOK_SECRETS"])
        );
    }

    #[test]
    fn numbers_are_validated() {
        let mut vars = BASE.to_vec();
        vars.push(("MAX_BODY_BYTES", "lots"));
        assert!(matches!(
            config(&vars).unwrap_err(),
            ConfigError::Invalid {
                name: "MAX_BODY_BYTES",
                ..
            }
        ));
        vars.pop();
        vars.push(("DEDUP_RETENTION_SECONDS", "0"));
        assert!(matches!(
            config(&vars).unwrap_err(),
            ConfigError::Invalid {
                name: "DEDUP_RETENTION_SECONDS",
                ..
            }
        ));
        vars.pop();
        vars.push(("DEDUP_RETENTION_SECONDS", "600"));
        assert_eq!(config(&vars).unwrap().retention_seconds, Some(600));
    }

    #[test]
    fn errors_never_contain_secrets() {
        let c = config(&[
            ("EVENTS_TABLE", "t"),
            ("EVENTS_QUEUE_URL", "q"),
            ("WEBHOOK_SECRETS", "supersecret"),
        ])
        .unwrap();
        assert!(!format!("{c:?}").contains("supersecret"));
    }
}
