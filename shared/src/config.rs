//! Function configuration from environment variables: the same names in every function.

pub use crate::config_error::ConfigError;
use crate::secrets::Secrets;

pub const DEFAULT_MAX_BODY_BYTES: usize = 256 * 1024;
pub const DEFAULT_TOLERANCE_SECONDS: i64 = 300;
/// The largest `WEBHOOK_TOLERANCE_SECONDS`. Each retry is signed anew with a fresh timestamp
/// (Standard Webhooks), so the window only has to absorb clock skew and transit time; the
/// reference libraries use 300 s. An hour tolerates a sender clock twelve times as far off while
/// a captured delivery can still be replayed for an hour at most: beyond that the window no
/// longer works as a replay defence.
pub const MAX_TOLERANCE_SECONDS: i64 = 3600;
/// The shortest secret accepted unless `WEBHOOK_ALLOW_SHORT_SECRETS` is set: 128 bits when
/// random, the usual floor for an HMAC key or a bearer token (Standard Webhooks asks for 24 to
/// 64 bytes). Anything shorter is far more often a mistake (a comma that split one secret in
/// two, a bare `whsec_`) than a provider's choice.
pub const MIN_SECRET_BYTES: usize = 16;
/// How long a secret read from Secrets Manager is used before it is read again
/// (`SECRETS_CACHE_SECONDS`): a rotation reaches running instances within this time.
pub const DEFAULT_SECRETS_CACHE_SECONDS: u64 = 300;
/// The longest `SECRETS_CACHE_SECONDS`: beyond an hour an instance could verify with a removed
/// secret for longer than a rotation's overlap is usually kept.
pub const MAX_SECRETS_CACHE_SECONDS: u64 = 3600;
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
    /// `SECRETS_CACHE_SECONDS`: how long secrets from `WEBHOOK_SECRETS_ARN` are used before
    /// the next delivery reads them again (0: at every delivery).
    pub secrets_cache_seconds: u64,
    /// `WEBHOOK_ALLOW_SHORT_SECRETS`: accept secrets under [`MIN_SECRET_BYTES`] (a provider
    /// that issues shorter ones). An empty key is refused all the same.
    pub allow_short_secrets: bool,
}

/// Where the webhook secrets come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// `WEBHOOK_SECRETS`: comma-separated; several at once during a rotation.
    Inline(Secrets),
    /// `WEBHOOK_SECRETS_ARN`: an AWS Secrets Manager secret holding the same list (or a JSON
    /// array of strings), read at start-up and again once older than `SECRETS_CACHE_SECONDS`.
    /// Takes precedence over `WEBHOOK_SECRETS`.
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

    /// The variable the secrets were configured with, for error messages.
    pub fn variable(&self) -> &'static str {
        match self {
            SecretSource::Inline(_) => "WEBHOOK_SECRETS",
            SecretSource::SecretsManager { .. } => "WEBHOOK_SECRETS_ARN",
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
        let tolerance_seconds = positive(&get, "WEBHOOK_TOLERANCE_SECONDS")?;
        if let Some(tolerance) = tolerance_seconds.filter(|t| *t > MAX_TOLERANCE_SECONDS) {
            return Err(ConfigError::Invalid {
                name: "WEBHOOK_TOLERANCE_SECONDS",
                reason: format!(
                    "{tolerance} is above {MAX_TOLERANCE_SECONDS}: a wider window lets a captured \
                     delivery be replayed for that long (retries are signed anew, so skew and \
                     transit are all it must cover)"
                ),
            });
        }
        let max_body_bytes = positive(&get, "MAX_BODY_BYTES")?.unwrap_or(DEFAULT_MAX_BODY_BYTES);
        let ceiling = crate::limits::max_body_bytes_that_fit();
        if max_body_bytes > ceiling {
            // Such a body would be accepted and then fail to be stored or queued on every retry.
            return Err(ConfigError::Invalid {
                name: "MAX_BODY_BYTES",
                reason: format!(
                    "{max_body_bytes} is above {ceiling}, the largest body whose dedup record \
                     (a DynamoDB item) and queue message (SQS) still fit"
                ),
            });
        }
        Ok(Self {
            table,
            queue_url,
            secrets,
            auth: AuthOptions {
                secret_header: get("WEBHOOK_SECRET_HEADER"),
                secret_encoding: get("WEBHOOK_SECRET_ENCODING"),
                auth_mode: get("WEBHOOK_AUTH_MODE"),
                tolerance_seconds,
            },
            retention_seconds: positive(&get, "DEDUP_RETENTION_SECONDS")?,
            lease_seconds: positive(&get, "DEDUP_LEASE_SECONDS")?.unwrap_or(DEFAULT_LEASE_SECONDS),
            max_body_bytes,
            secrets_cache_seconds: secrets_cache_seconds(&get)?,
            allow_short_secrets: flag(&get, "WEBHOOK_ALLOW_SHORT_SECRETS")?.unwrap_or(false),
        })
    }

    /// Refuses secrets a forger could guess. `strengths` holds, per configured secret, the bytes
    /// that must be guessed ([`crate::verify::Verifier::secret_strengths`]): known only once the
    /// secrets are read and the provider has derived its keys, so every function's start-up
    /// runs this after building its provider (`runtime::live_pipeline`). Errors name the
    /// variable and the entry's position, never a value. Returns how many short secrets
    /// `WEBHOOK_ALLOW_SHORT_SECRETS` let through, for a start-up warning.
    pub fn check_secret_strengths(&self, strengths: &[usize]) -> Result<usize, ConfigError> {
        let name = self.secrets.variable();
        let total = strengths.len();
        let mut allowed = 0;
        for (index, &bytes) in strengths.iter().enumerate() {
            let entry = format!("entry {} of {total}", index + 1);
            if bytes == 0 {
                return Err(ConfigError::Invalid {
                    name,
                    reason: format!(
                        "{entry} gives an empty key (a bare whsec_, or nothing after a Basic \
                         client id's colon), which anyone can sign with; refused even with \
                         WEBHOOK_ALLOW_SHORT_SECRETS"
                    ),
                });
            }
            if bytes >= MIN_SECRET_BYTES {
                continue;
            }
            if self.allow_short_secrets {
                allowed += 1;
                continue;
            }
            let split = match self.secrets {
                SecretSource::Inline(_) => {
                    "entries are split at commas: keep a secret that contains a comma in \
                     Secrets Manager (WEBHOOK_SECRETS_ARN) as a JSON array of strings"
                }
                SecretSource::SecretsManager { .. } => {
                    "a plain-text secret is split at commas: store the list as a JSON array of \
                     strings, [\"first\", \"second\"], so that a comma stays inside its secret"
                }
            };
            return Err(ConfigError::Invalid {
                name,
                reason: format!(
                    "{entry} is shorter than {MIN_SECRET_BYTES} bytes (for a signing secret, the \
                     key it gives); {split}; if the provider issues shorter secrets, set \
                     WEBHOOK_ALLOW_SHORT_SECRETS=true"
                ),
            });
        }
        Ok(allowed)
    }

    /// How long dedup records last: `DEDUP_RETENTION_SECONDS`, else the provider's
    /// `default_seconds`. With a replay window (`replay_tolerance`, from the verifier) a record
    /// must outlive every moment the window still accepts its delivery, or a replay would be
    /// handled as new. A delivery passes while now is within the tolerance of its timestamp on
    /// either side, so its first copy may arrive `tolerance` before the timestamp and a replay
    /// `tolerance` after it: the record must last more than twice the tolerance.
    pub fn retention_for(
        &self,
        default_seconds: u64,
        replay_tolerance: Option<i64>,
    ) -> Result<u64, ConfigError> {
        let retention = self.retention_seconds.unwrap_or(default_seconds);
        let Some(tolerance) = replay_tolerance else {
            return Ok(retention);
        };
        let window = 2 * u64::try_from(tolerance).unwrap_or(0);
        if retention > window {
            return Ok(retention);
        }
        let what = match self.retention_seconds {
            Some(_) => format!("{retention} s"),
            None => format!("the provider's default of {retention} s"),
        };
        Err(ConfigError::Invalid {
            name: "DEDUP_RETENTION_SECONDS",
            reason: format!(
                "{what} is not more than twice the {tolerance} s replay tolerance \
                 (WEBHOOK_TOLERANCE_SECONDS, past and future): a replay still inside the \
                 window after its record expired would be handled again; use at least {}",
                window + 1
            ),
        })
    }
}

/// Default options with the given secrets, for unit tests of the providers.
#[cfg(test)]
pub(crate) fn test_config(secrets: &str) -> AuthConfig {
    AuthConfig::new(Secrets::parse(secrets), AuthOptions::default()).expect("a secret")
}

/// `SECRETS_CACHE_SECONDS`, 0 to [`MAX_SECRETS_CACHE_SECONDS`], default
/// [`DEFAULT_SECRETS_CACHE_SECONDS`]; the webhook functions and the enricher read it alike.
pub fn secrets_cache_seconds(get: &impl Fn(&str) -> Option<String>) -> Result<u64, ConfigError> {
    let name = "SECRETS_CACHE_SECONDS";
    let seconds = number::<u64>(get, name)?.unwrap_or(DEFAULT_SECRETS_CACHE_SECONDS);
    if seconds > MAX_SECRETS_CACHE_SECONDS {
        return Err(ConfigError::Invalid {
            name,
            reason: format!(
                "{seconds} is above {MAX_SECRETS_CACHE_SECONDS}: a removed secret would still be \
                 accepted that long after a rotation"
            ),
        });
    }
    Ok(seconds)
}

/// A retention in days (1 to 3650, `default` when unset), in seconds: the history's and the
/// identities' (`HISTORY_RETENTION_DAYS`, `IDENTITY_RETENTION_DAYS`, `TOMBSTONE_RETENTION_DAYS`).
pub fn days_in_seconds(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: u64,
) -> Result<u64, ConfigError> {
    let Some(raw) = get(name) else {
        return Ok(default * 86_400);
    };
    raw.trim()
        .parse::<u64>()
        .ok()
        .filter(|days| (1..=3650).contains(days))
        .map(|days| days * 86_400)
        .ok_or(ConfigError::Invalid {
            name,
            reason: format!("{raw:?} is not a whole number of days from 1 to 3650"),
        })
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

/// `true` or `false`, in any case; anything else is refused rather than guessed.
fn flag(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Option<bool>, ConfigError> {
    get(name)
        .map(|raw| match raw.trim().to_ascii_lowercase().as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(ConfigError::Invalid {
                name,
                reason: format!("{raw:?} is not true or false"),
            }),
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
        assert!(!c.allow_short_secrets);
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

    fn with(extra: &[(&'static str, &'static str)]) -> Result<Config, ConfigError> {
        let mut vars = BASE.to_vec();
        vars.extend_from_slice(extra);
        config(&vars)
    }

    fn invalid(error: ConfigError) -> (&'static str, String) {
        match error {
            ConfigError::Invalid { name, reason } => (name, reason),
            other => panic!("not an Invalid error: {other}"),
        }
    }

    #[test]
    fn tolerance_is_bounded_both_ways() {
        let tolerance = |value| with(&[("WEBHOOK_TOLERANCE_SECONDS", value)]);
        assert_eq!(
            tolerance("3600").unwrap().auth.tolerance_seconds,
            Some(MAX_TOLERANCE_SECONDS)
        );
        assert_eq!(
            tolerance("3601").unwrap_err().to_string(),
            "WEBHOOK_TOLERANCE_SECONDS is invalid: 3601 is above 3600: a wider window lets a \
             captured delivery be replayed for that long (retries are signed anew, so skew and \
             transit are all it must cover)"
        );
        // Zero or less would refuse every delivery (or none would fit the window).
        for value in ["0", "-300"] {
            assert_eq!(
                tolerance(value).unwrap_err().to_string(),
                "WEBHOOK_TOLERANCE_SECONDS is invalid: must be greater than zero"
            );
        }
    }

    #[test]
    fn a_body_limit_that_cannot_fit_is_refused() {
        let ceiling = crate::limits::max_body_bytes_that_fit();
        let at = ceiling.to_string();
        let above = (ceiling + 1).to_string();
        let limit = |value: &str| {
            let mut vars = BASE.to_vec();
            vars.push(("MAX_BODY_BYTES", value));
            config(&vars)
        };
        assert_eq!(limit(&at).unwrap().max_body_bytes, ceiling);
        assert_eq!(
            limit(&above).unwrap_err().to_string(),
            format!(
                "MAX_BODY_BYTES is invalid: {above} is above {ceiling}, the largest body whose \
                 dedup record (a DynamoDB item) and queue message (SQS) still fit"
            )
        );
    }

    #[test]
    fn the_secrets_cache_lifetime_is_bounded() {
        let cache = |value| with(&[("SECRETS_CACHE_SECONDS", value)]);
        assert_eq!(config(&BASE).unwrap().secrets_cache_seconds, 300);
        assert_eq!(cache("0").unwrap().secrets_cache_seconds, 0);
        assert_eq!(cache("3600").unwrap().secrets_cache_seconds, 3600);
        assert_eq!(
            cache("3601").unwrap_err().to_string(),
            "SECRETS_CACHE_SECONDS is invalid: 3601 is above 3600: a removed secret would still \
             be accepted that long after a rotation"
        );
        assert_eq!(
            cache("-1").unwrap_err().to_string(),
            "SECRETS_CACHE_SECONDS is invalid: \"-1\" is not a whole number"
        );
    }

    #[test]
    fn the_short_secret_opt_out_is_a_strict_flag() {
        assert!(!config(&BASE).unwrap().allow_short_secrets);
        let flag = |value| with(&[("WEBHOOK_ALLOW_SHORT_SECRETS", value)]);
        assert!(flag("TRUE").unwrap().allow_short_secrets);
        assert!(!flag("false").unwrap().allow_short_secrets);
        assert_eq!(
            flag("yes").unwrap_err().to_string(),
            "WEBHOOK_ALLOW_SHORT_SECRETS is invalid: \"yes\" is not true or false"
        );
    }

    #[test]
    fn short_secrets_are_refused_by_position_with_the_fix() {
        let inline = config(&BASE).unwrap();
        assert_eq!(inline.check_secret_strengths(&[16, 64, 24]), Ok(0));
        let (name, reason) = invalid(inline.check_secret_strengths(&[16, 1, 24]).unwrap_err());
        assert_eq!(name, "WEBHOOK_SECRETS");
        assert_eq!(
            reason,
            "entry 2 of 3 is shorter than 16 bytes (for a signing secret, the key it gives); \
             entries are split at commas: keep a secret that contains a comma in Secrets \
             Manager (WEBHOOK_SECRETS_ARN) as a JSON array of strings; if the provider issues \
             shorter secrets, set WEBHOOK_ALLOW_SHORT_SECRETS=true"
        );
        let stored = with(&[("WEBHOOK_SECRETS_ARN", "arn:aws:secretsmanager:x")]).unwrap();
        let (name, reason) = invalid(stored.check_secret_strengths(&[15]).unwrap_err());
        assert_eq!(name, "WEBHOOK_SECRETS_ARN");
        assert_eq!(
            reason,
            "entry 1 of 1 is shorter than 16 bytes (for a signing secret, the key it gives); a \
             plain-text secret is split at commas: store the list as a JSON array of strings, \
             [\"first\", \"second\"], so that a comma stays inside its secret; if the \
             provider issues shorter secrets, set WEBHOOK_ALLOW_SHORT_SECRETS=true"
        );
    }

    #[test]
    fn the_opt_out_admits_short_secrets_but_never_an_empty_key() {
        let lenient = with(&[("WEBHOOK_ALLOW_SHORT_SECRETS", "true")]).unwrap();
        assert_eq!(lenient.check_secret_strengths(&[1, 32, 8]), Ok(2));
        let empty = "entry 2 of 2 gives an empty key (a bare whsec_, or nothing after a Basic \
                     client id's colon), which anyone can sign with; refused even with \
                     WEBHOOK_ALLOW_SHORT_SECRETS";
        for c in [lenient, config(&BASE).unwrap()] {
            let (name, reason) = invalid(c.check_secret_strengths(&[32, 0]).unwrap_err());
            assert_eq!((name, reason.as_str()), ("WEBHOOK_SECRETS", empty));
        }
    }

    #[test]
    fn retention_must_outlive_the_replay_window() {
        let default = config(&BASE).unwrap();
        // No replay window (token and Argyle schemes): any positive retention will do.
        assert_eq!(default.retention_for(600, None), Ok(600));
        assert_eq!(default.retention_for(7 * 86400, Some(300)), Ok(7 * 86400));
        let set = with(&[("DEDUP_RETENTION_SECONDS", "601")]).unwrap();
        assert_eq!(set.retention_for(7 * 86400, Some(300)), Ok(601));
        let short = with(&[("DEDUP_RETENTION_SECONDS", "600")]).unwrap();
        assert_eq!(short.retention_for(7 * 86400, None), Ok(600));
        assert_eq!(
            short
                .retention_for(7 * 86400, Some(300))
                .unwrap_err()
                .to_string(),
            "DEDUP_RETENTION_SECONDS is invalid: 600 s is not more than twice the 300 s replay \
             tolerance (WEBHOOK_TOLERANCE_SECONDS, past and future): a replay still inside the \
             window after its record expired would be handled again; use at least 601"
        );
        assert_eq!(
            default
                .retention_for(3600, Some(3600))
                .unwrap_err()
                .to_string(),
            "DEDUP_RETENTION_SECONDS is invalid: the provider's default of 3600 s is not more \
             than twice the 3600 s replay tolerance (WEBHOOK_TOLERANCE_SECONDS, past and \
             future): a replay still inside the window after its record expired would be \
             handled again; use at least 7201"
        );
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
