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
    /// `WEBHOOK_SECRETS` or `WEBHOOK_SECRETS_ARN`.
    pub secrets: SecretSource,
    /// How deliveries are authenticated, less the secrets (known once the source is read).
    pub auth: AuthOptions,
    /// `DEDUP_RETENTION_SECONDS`: how long a delivery is remembered; provider default if unset.
    pub retention_seconds: Option<u64>,
    /// `DEDUP_LEASE_SECONDS`: how long an unfinished first attempt blocks a retry.
    pub lease_seconds: u64,
    /// `MAX_BODY_BYTES`: larger bodies get 413.
    pub max_body_bytes: usize,
}

/// Where the webhook secrets come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// `WEBHOOK_SECRETS`: comma-separated; several at once during a rotation.
    Inline(Secrets),
    /// `WEBHOOK_SECRETS_ARN`: an AWS Secrets Manager secret holding the same list (or a JSON
    /// array of strings), read once per cold start. Takes precedence over `WEBHOOK_SECRETS`.
    SecretsManager { arn: String },
}

impl SecretSource {
    /// The secrets when they are inline (tests and local runs); empty for Secrets Manager.
    pub fn inline(&self) -> Secrets {
        match self {
            SecretSource::Inline(secrets) => secrets.clone(),
            SecretSource::SecretsManager { .. } => Secrets::parse(""),
        }
    }
}

/// Provider authentication options, each read by the providers that use it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthOptions {
    /// `WEBHOOK_SECRET_HEADER`: the header carrying ClearID's shared secret.
    pub secret_header: Option<String>,
    /// `WEBHOOK_SECRET_ENCODING`: Midbound key encoding, `spec`, `raw` or `auto`.
    pub secret_encoding: Option<String>,
    /// `WEBHOOK_AUTH_MODE`: Baack's `bearer` (default) or `basic`.
    pub auth_mode: Option<String>,
    /// `WEBHOOK_TOLERANCE_SECONDS`: allowed clock skew for signed timestamps, both ways.
    pub tolerance_seconds: Option<i64>,
}

/// Everything a provider needs to authenticate deliveries (and to sign them, in tools).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    pub secrets: Secrets,
    pub options: AuthOptions,
}

impl AuthConfig {
    /// Fails closed: no secret, no authentication, no start.
    pub fn new(secrets: Secrets, options: AuthOptions) -> Result<Self, ConfigError> {
        if secrets.is_empty() {
            return Err(ConfigError::NoSecrets);
        }
        Ok(Self { secrets, options })
    }

    pub fn tolerance_seconds(&self) -> i64 {
        self.options
            .tolerance_seconds
            .unwrap_or(DEFAULT_TOLERANCE_SECONDS)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("missing required environment variables: {}", .0.join(", "))]
    Missing(Vec<&'static str>),
    #[error("no webhook secret configured: refusing to start unauthenticated (fail closed)")]
    NoSecrets,
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
    /// Only the ARN and the service's error are shown: never the secret's value.
    #[error("cannot read the webhook secrets from Secrets Manager ({arn}): {reason}")]
    SecretUnavailable { arn: String, reason: String },
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
        let secrets = match (get("WEBHOOK_SECRETS_ARN"), get("WEBHOOK_SECRETS")) {
            (Some(arn), _) => SecretSource::SecretsManager { arn },
            (None, Some(list)) => SecretSource::Inline(Secrets::parse(&list)),
            (None, None) => {
                missing.push("WEBHOOK_SECRETS (or WEBHOOK_SECRETS_ARN)");
                SecretSource::Inline(Secrets::parse(""))
            }
        };
        if !missing.is_empty() {
            return Err(ConfigError::Missing(missing));
        }
        if secrets == SecretSource::Inline(Secrets::parse("")) {
            return Err(ConfigError::NoSecrets);
        }
        Ok(Self {
            table,
            queue_url,
            secrets,
            auth: AuthOptions {
                secret_header: get("WEBHOOK_SECRET_HEADER"),
                secret_encoding: get("WEBHOOK_SECRET_ENCODING"),
                auth_mode: get("WEBHOOK_AUTH_MODE"),
                tolerance_seconds: number(&get, "WEBHOOK_TOLERANCE_SECONDS")?,
            },
            retention_seconds: positive(&get, "DEDUP_RETENTION_SECONDS")?,
            lease_seconds: positive(&get, "DEDUP_LEASE_SECONDS")?.unwrap_or(DEFAULT_LEASE_SECONDS),
            max_body_bytes: positive(&get, "MAX_BODY_BYTES")?.unwrap_or(DEFAULT_MAX_BODY_BYTES),
        })
    }
}

/// Default options with the given secrets, for unit tests of the providers.
#[cfg(test)]
pub(crate) fn test_config(secrets: &str) -> AuthConfig {
    AuthConfig::new(Secrets::parse(secrets), AuthOptions::default()).expect("a secret")
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
        assert_eq!(c.secrets, SecretSource::Inline(Secrets::parse("a,b")));
        assert_eq!(c.max_body_bytes, 256 * 1024);
        assert_eq!(c.auth, AuthOptions::default());
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
        let err = config(&BASE[..2]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing required environment variables: WEBHOOK_SECRETS (or WEBHOOK_SECRETS_ARN)"
        );
    }

    #[test]
    fn secrets_manager_arn_takes_precedence() {
        let mut vars = BASE.to_vec();
        vars.push((
            "WEBHOOK_SECRETS_ARN",
            "arn:aws:secretsmanager:us-east-1:1:secret:x",
        ));
        assert_eq!(
            config(&vars).unwrap().secrets,
            SecretSource::SecretsManager {
                arn: "arn:aws:secretsmanager:us-east-1:1:secret:x".into()
            }
        );
    }

    #[test]
    fn no_secret_fails_closed() {
        let mut vars = BASE.to_vec();
        vars[2] = ("WEBHOOK_SECRETS", " , ,");
        assert_eq!(config(&vars).unwrap_err(), ConfigError::NoSecrets);
        assert_eq!(
            AuthConfig::new(Secrets::parse(""), AuthOptions::default()).unwrap_err(),
            ConfigError::NoSecrets
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
