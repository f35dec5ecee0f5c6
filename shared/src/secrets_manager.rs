//! The Secrets Manager adapter: secrets read at start-up and re-read once older than their
//! lifetime (`secrets::Refreshing`).

use crate::config::{ConfigError, SecretSource};
use crate::secrets::{Secret, SecretReader, Secrets};
use aws_sdk_secretsmanager::error::DisplayErrorContext;
use std::time::Duration;

/// A re-read happens inside a delivery (or a batch): it may take this long, against the SDK's
/// 3 s operation budget, so that a slow Secrets Manager leaves the delivery its time.
pub const REFRESH_TIMEOUT: Duration = Duration::from_millis(1000);

/// One secret, by ARN (or name), read through one client.
#[derive(Clone, Debug)]
pub struct SecretsManagerReader {
    client: aws_sdk_secretsmanager::Client,
    arn: String,
    timeout: Option<Duration>,
}

impl SecretsManagerReader {
    /// A reader bounded by the SDK's own timeouts: for the start-up read.
    pub fn new(arn: &str, aws: &aws_config::SdkConfig) -> Self {
        Self {
            client: aws_sdk_secretsmanager::Client::new(aws),
            arn: arn.to_string(),
            timeout: None,
        }
    }

    /// The same reader, each read cut off after `timeout`.
    pub fn with_timeout(self, timeout: Duration) -> Self {
        Self {
            timeout: Some(timeout),
            ..self
        }
    }

    pub fn arn(&self) -> &str {
        &self.arn
    }

    async fn get(&self) -> Result<String, ConfigError> {
        let unavailable = |reason: String| ConfigError::SecretUnavailable {
            arn: self.arn.clone(),
            reason,
        };
        let call = self.client.get_secret_value().secret_id(&self.arn).send();
        let result = match self.timeout {
            None => call.await,
            Some(limit) => tokio::time::timeout(limit, call)
                .await
                .map_err(|_| unavailable(format!("no answer within {} ms", limit.as_millis())))?,
        };
        let output = result.map_err(|e| unavailable(DisplayErrorContext(e).to_string()))?;
        output
            .secret_string()
            .map(str::to_string)
            .ok_or_else(|| unavailable("the secret has no SecretString".into()))
    }
}

impl SecretReader for SecretsManagerReader {
    async fn read(&self) -> Result<String, ConfigError> {
        self.get().await
    }
}

/// The secrets a function verifies with: inline, or fetched from Secrets Manager.
pub async fn resolve(
    source: &SecretSource,
    aws: &aws_config::SdkConfig,
) -> Result<Secrets, ConfigError> {
    match source {
        SecretSource::Inline(secrets) => Ok(secrets.clone()),
        SecretSource::SecretsManager { arn } => {
            parse_secret_string(&secret_string(arn, aws).await?)
        }
    }
}

/// The `SecretString` of a secret; errors name the ARN, never a value.
pub async fn secret_string(arn: &str, aws: &aws_config::SdkConfig) -> Result<String, ConfigError> {
    SecretsManagerReader::new(arn, aws).get().await
}

/// A JSON array of strings (`["old", "new"]`, the form to prefer: a comma stays inside its
/// secret), or the same comma-separated list as `WEBHOOK_SECRETS`. A value that opens like an
/// array but is not one is refused: read as a comma list, a typo in the JSON would give secrets
/// with brackets and quotes in them, which match no delivery (or split one secret in pieces).
pub fn parse_secret_string(text: &str) -> Result<Secrets, ConfigError> {
    match serde_json::from_str::<Vec<String>>(text) {
        Ok(list) => Ok(list
            .into_iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .map(Secret::new)
            .collect()),
        // serde's message is left out: it can quote part of the secret.
        Err(_) if text.trim_start().starts_with('[') => Err(ConfigError::Invalid {
            name: "WEBHOOK_SECRETS_ARN",
            reason: "the secret starts with [ but is not a JSON array of strings".into(),
        }),
        Err(_) => Ok(Secrets::parse(text)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_array_or_comma_list() {
        assert_eq!(
            parse_secret_string(r#"["old", " new ", ""]"#),
            Ok(Secrets::parse("old,new"))
        );
        assert_eq!(
            parse_secret_string("old, new"),
            Ok(Secrets::parse("old,new"))
        );
        // A token that merely contains a comma-free JSON-looking value stays one secret.
        assert_eq!(
            parse_secret_string("{token}"),
            Ok(Secrets::parse("{token}"))
        );
        // In an array a comma belongs to its secret.
        let kept = parse_secret_string(r#"["a,b,c"]"#).unwrap();
        assert_eq!(
            kept.iter().map(Secret::expose).collect::<Vec<_>>(),
            ["a,b,c"]
        );
    }

    #[test]
    fn a_broken_json_array_is_refused_not_split() {
        for text in [
            r#"["first-secret-0001", "second-secret-002",]"#,
            r#" ["first-secret-0001" "second-secret-002"]"#,
            r#"["first-secret-0001", 2]"#,
            "[",
        ] {
            let error = parse_secret_string(text).unwrap_err().to_string();
            assert_eq!(
                error,
                "WEBHOOK_SECRETS_ARN is invalid: the secret starts with [ but is not a JSON \
                 array of strings",
                "{text}"
            );
        }
    }
}
