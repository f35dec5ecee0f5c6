//! The enricher's configuration: where to write, where each provider's API is, and its
//! credentials (from Secrets Manager, or from the environment for local runs).

use crate::config::ConfigError;
pub use crate::provider_api::{Credentials, Settings};
use std::collections::HashMap;
use std::time::Duration;

/// Every provider's credential names, as environment variables and as keys of the Secrets
/// Manager JSON.
pub fn credential_names() -> Vec<&'static str> {
    crate::providers::ALL
        .iter()
        .flat_map(|provider| provider.credentials)
        .copied()
        .collect()
}

#[derive(Debug, Clone)]
pub struct EnricherConfig {
    /// `EVENTS_TABLE`: the dedup records, of which the enricher marks content-keyed ones read.
    pub table: String,
    /// `IDENTITIES_TABLE`: each identity's current state (`identity`).
    pub identities_table: String,
    /// `IDENTITY_RETENTION_DAYS` and `TOMBSTONE_RETENTION_DAYS`: how long a record lives after
    /// its last fetch.
    pub identity_retention: crate::identity::Retention,
    /// `EVENT_BUS_NAME`: the EventBridge bus (name or ARN) that change events go to.
    pub event_bus: String,
    /// `CHANGE_EVENTS_INCLUDE_DATA` (`true`/`false`, default false): whether a change event
    /// carries the identity's data, not only the changed fields' names.
    pub change_events_include_data: bool,
    /// `HISTORY_TABLE`: every message taken from the queue is kept there first (`history`).
    pub history_table: String,
    /// `HISTORY_RETENTION_DAYS` (default 30), in seconds: how long the history keeps an event.
    pub history_retention_seconds: u64,
    pub credentials: CredentialSource,
    /// Each provider's API settings ([`crate::provider_api::Enrichment::SETTINGS`]): its API's
    /// base URL and the like, URLs checked.
    pub api_settings: Settings,
    /// `HTTP_TIMEOUT_SECONDS` per request, default 5.
    pub http_timeout: Duration,
    /// `HTTP_MAX_ATTEMPTS` per call, default 4.
    pub http_max_attempts: u32,
    /// `SECRETS_CACHE_SECONDS`: how long credentials from `ENRICHER_SECRETS_ARN` are used
    /// before the next batch reads them again (as the webhook functions' secrets).
    pub secrets_cache_seconds: u64,
}

#[derive(Debug, Clone)]
pub enum CredentialSource {
    /// The variables named by [`credential_names`].
    Inline(Credentials),
    /// `ENRICHER_SECRETS_ARN`: a JSON object with those names as keys.
    SecretsManager { arn: String },
}

/// Reads the JSON object stored in Secrets Manager; unknown keys are ignored.
pub fn credentials_from_json(text: &str) -> Option<Credentials> {
    let map: HashMap<String, String> = serde_json::from_str(text).ok()?;
    Some(Credentials::from_pairs(map, &credential_names()))
}

impl EnricherConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let missing: Vec<&'static str> = [
            "EVENTS_TABLE",
            "HISTORY_TABLE",
            "IDENTITIES_TABLE",
            "EVENT_BUS_NAME",
        ]
        .into_iter()
        .filter(|name| get(name).is_none())
        .collect();
        if !missing.is_empty() {
            return Err(ConfigError::Missing(missing));
        }
        let table = get("EVENTS_TABLE").unwrap_or_default();
        let history_table = get("HISTORY_TABLE").unwrap_or_default();
        let include_data = match get("CHANGE_EVENTS_INCLUDE_DATA").as_deref().map(str::trim) {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "CHANGE_EVENTS_INCLUDE_DATA",
                    reason: format!("{other:?} is neither true nor false"),
                })
            }
        };
        let credentials = match get("ENRICHER_SECRETS_ARN") {
            Some(arn) => CredentialSource::SecretsManager { arn },
            None => {
                let names = credential_names();
                CredentialSource::Inline(Credentials::from_pairs(
                    names
                        .iter()
                        .filter_map(|name| Some((name.to_string(), get(name)?))),
                    &names,
                ))
            }
        };
        let mut api_settings = Vec::new();
        for setting in crate::providers::ALL.iter().flat_map(|p| p.settings) {
            if let Some(value) = get(setting.name) {
                let value = if setting.is_url {
                    api_url(setting.name, value)?
                } else {
                    value
                };
                api_settings.push((setting.name, value));
            }
        }
        let number = |name: &'static str, default: u64| -> Result<u64, ConfigError> {
            match get(name) {
                None => Ok(default),
                Some(raw) => {
                    raw.trim()
                        .parse()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or(ConfigError::Invalid {
                            name,
                            reason: format!("{raw:?} is not a positive whole number"),
                        })
                }
            }
        };
        Ok(Self {
            table,
            history_table,
            identities_table: get("IDENTITIES_TABLE").unwrap_or_default(),
            identity_retention: crate::identity::Retention::from_lookup(&get)?,
            event_bus: get("EVENT_BUS_NAME").unwrap_or_default(),
            change_events_include_data: include_data,
            history_retention_seconds: crate::history::retention_seconds(&get)?,
            credentials,
            api_settings: Settings::new(api_settings),
            http_timeout: Duration::from_secs(number("HTTP_TIMEOUT_SECONDS", 5)?),
            http_max_attempts: number("HTTP_MAX_ATTEMPTS", 4)? as u32,
            secrets_cache_seconds: crate::config::secrets_cache_seconds(&get)?,
        })
    }
}

/// `url` if it is `https://`, or plain `http://` to a loopback host (`127.0.0.1` and the rest of
/// 127/8, `::1`, `localhost`): the local stand-ins of the tests and the rehearsal. The calls
/// carry our API credentials and bring back personal data, so a plain-HTTP provider URL is
/// refused at start-up rather than trusted to the template's patterns alone. The error names
/// the variable, never the value (a URL may hold a user and password).
fn api_url(name: &'static str, url: String) -> Result<String, ConfigError> {
    let invalid = |reason: &str| ConfigError::Invalid {
        name,
        reason: reason.to_string(),
    };
    let parsed = reqwest::Url::parse(url.trim()).map_err(|_| invalid("not an absolute URL"))?;
    // An IPv6 host comes bracketed (`[::1]`); the URL parser has already lower-cased a name.
    let host = parsed.host_str().unwrap_or_default();
    let loopback = host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" if !host.is_empty() => Ok(url.trim().to_string()),
        "http" if loopback => Ok(url.trim().to_string()),
        "http" => Err(invalid(
            "plain http:// is refused (credentials and personal data would cross the network \
             unencrypted); use https://, or http:// to 127.0.0.1, ::1 or localhost for a local \
             stand-in",
        )),
        _ => Err(invalid("not an https:// URL")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_from_env_or_json_never_print() {
        let config = EnricherConfig::from_lookup(|name| match name {
            "EVENTS_TABLE" => Some("events".into()),
            "HISTORY_TABLE" => Some("history".into()),
            "IDENTITIES_TABLE" => Some("identities".into()),
            "EVENT_BUS_NAME" => Some("bus".into()),
            "ARGYLE_API_KEY_ID" => Some("key-id".into()),
            "ARGYLE_API_KEY_SECRET" => Some("very-secret".into()),
            _ => None,
        })
        .unwrap();
        let CredentialSource::Inline(credentials) = &config.credentials else {
            panic!("inline expected")
        };
        assert_eq!(
            credentials.get("ARGYLE_API_KEY_ID").unwrap().expose(),
            "key-id"
        );
        assert!(credentials.get("BAACK_API_TOKEN").is_none());
        assert!(!format!("{config:?}").contains("very-secret"));
        assert_eq!(
            setting(&config, "ARGYLE_API_BASE"),
            "https://api.argyle.com"
        );

        let json = credentials_from_json(r#"{"BAACK_API_TOKEN":"t","other":"x"}"#).unwrap();
        assert_eq!(json.get("BAACK_API_TOKEN").unwrap().expose(), "t");
        assert!(json.get("other").is_none());
    }

    #[test]
    fn tables_are_required_and_numbers_checked() {
        assert!(matches!(
            EnricherConfig::from_lookup(|_| None),
            Err(ConfigError::Missing(names))
                if names == ["EVENTS_TABLE", "HISTORY_TABLE", "IDENTITIES_TABLE", "EVENT_BUS_NAME"]
        ));
        let bad = EnricherConfig::from_lookup(|name| match name {
            "EVENTS_TABLE" => Some("events".into()),
            "HISTORY_TABLE" => Some("history".into()),
            "IDENTITIES_TABLE" => Some("identities".into()),
            "EVENT_BUS_NAME" => Some("bus".into()),
            "HTTP_MAX_ATTEMPTS" => Some("0".into()),
            _ => None,
        });
        assert!(bad.is_err());
        let cache = |value: &'static str| {
            EnricherConfig::from_lookup(move |name| match name {
                "EVENTS_TABLE" => Some("events".into()),
                "HISTORY_TABLE" => Some("history".into()),
                "IDENTITIES_TABLE" => Some("identities".into()),
                "EVENT_BUS_NAME" => Some("bus".into()),
                "SECRETS_CACHE_SECONDS" => Some(value.into()),
                _ => None,
            })
        };
        assert_eq!(cache("").unwrap().secrets_cache_seconds, 300);
        assert_eq!(cache("0").unwrap().secrets_cache_seconds, 0);
        assert!(cache("3601").is_err());
        let with = |name: &'static str, value: &'static str| {
            EnricherConfig::from_lookup(move |n| match n {
                "EVENTS_TABLE" | "HISTORY_TABLE" | "IDENTITIES_TABLE" | "EVENT_BUS_NAME" => {
                    Some("x".into())
                }
                _ if n == name => Some(value.into()),
                _ => None,
            })
        };
        assert!(
            !with("CHANGE_EVENTS_INCLUDE_DATA", "")
                .unwrap()
                .change_events_include_data
        );
        assert!(
            with("CHANGE_EVENTS_INCLUDE_DATA", "true")
                .unwrap()
                .change_events_include_data
        );
        assert!(with("CHANGE_EVENTS_INCLUDE_DATA", "yes").is_err());
        let retention = with("IDENTITY_RETENTION_DAYS", "30")
            .unwrap()
            .identity_retention;
        assert_eq!(retention.data_seconds, 30 * 86_400);
        assert_eq!(retention.tombstone_seconds, 90 * 86_400);
        assert!(with("TOMBSTONE_RETENTION_DAYS", "0").is_err());
    }

    /// The enricher's configuration with `name` set to `value`, the required tables given.
    fn with_url(name: &'static str, value: &'static str) -> Result<EnricherConfig, ConfigError> {
        EnricherConfig::from_lookup(move |n| match n {
            "EVENTS_TABLE" | "HISTORY_TABLE" | "IDENTITIES_TABLE" | "EVENT_BUS_NAME" => {
                Some("x".into())
            }
            _ if n == name => Some(value.into()),
            _ => None,
        })
    }

    /// The value `config` gives the provider setting called `name`.
    fn setting(config: &EnricherConfig, name: &str) -> String {
        let setting = crate::providers::ALL
            .iter()
            .flat_map(|p| p.settings)
            .find(|s| s.name == name)
            .expect("a provider's setting");
        config.api_settings.get(setting)
    }

    /// Every provider's URL settings.
    fn url_variables() -> Vec<&'static str> {
        let names: Vec<_> = crate::providers::ALL
            .iter()
            .flat_map(|p| p.settings)
            .filter(|s| s.is_url)
            .map(|s| s.name)
            .collect();
        assert!(names.len() >= 4, "{names:?}");
        names
    }

    #[test]
    fn plain_http_provider_urls_are_refused_naming_the_variable_only() {
        for name in url_variables() {
            for refused in [
                "http://api.example.com",
                "http://user:hunter2@api.example.com/connect/token",
                "http://10.0.0.7:8080",
                "http://[fd00::1]",
                "http://localhost.example.com",
                "HTTP://api.example.com",
                "ftp://api.example.com",
                "api.example.com",
                "https://",
            ] {
                let error = with_url(name, refused).unwrap_err();
                assert!(
                    matches!(&error, ConfigError::Invalid { name: n, .. } if *n == name),
                    "{name}={refused}: {error:?}"
                );
                let text = error.to_string();
                assert!(text.starts_with(&format!("{name} is invalid")), "{text}");
                assert!(
                    !text.contains("hunter2") && !text.contains("example"),
                    "{text}"
                );
            }
        }
    }

    #[test]
    fn https_and_loopback_http_provider_urls_are_accepted() {
        for name in url_variables() {
            for accepted in [
                "https://api.example.com",
                "https://sts-demo.clearid.io/connect/token",
                "http://127.0.0.1:8080",
                "http://127.0.0.1:8080/connect/token",
                "http://127.1.2.3",
                "http://[::1]:9000",
                "http://localhost:9000",
                "http://LOCALHOST",
            ] {
                assert!(with_url(name, accepted).is_ok(), "{name}={accepted}");
            }
        }
        let defaults = with_url("", "").unwrap();
        assert_eq!(setting(&defaults, "BAACK_API_BASE"), "https://api.baack.co");
        assert_eq!(
            setting(&defaults, "CLEARID_TOKEN_URL"),
            "https://sts.clearid.io/connect/token"
        );
        let local = with_url("CLEARID_TOKEN_URL", "http://127.0.0.1:1/connect/token").unwrap();
        assert_eq!(
            setting(&local, "CLEARID_TOKEN_URL"),
            "http://127.0.0.1:1/connect/token"
        );
    }
}
