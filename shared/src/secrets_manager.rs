//! The Secrets Manager adapter: webhook secrets read once per cold start.

use crate::config::{ConfigError, SecretSource};
use crate::secrets::{Secret, Secrets};
use aws_sdk_secretsmanager::error::DisplayErrorContext;

/// The secrets a function verifies with: inline, or fetched from Secrets Manager.
pub async fn resolve(
    source: &SecretSource,
    aws: &aws_config::SdkConfig,
) -> Result<Secrets, ConfigError> {
    match source {
        SecretSource::Inline(secrets) => Ok(secrets.clone()),
        SecretSource::SecretsManager { arn } => {
            Ok(parse_secret_string(&secret_string(arn, aws).await?))
        }
    }
}

/// The `SecretString` of a secret; errors name the ARN, never a value.
pub async fn secret_string(arn: &str, aws: &aws_config::SdkConfig) -> Result<String, ConfigError> {
    let unavailable = |reason: String| ConfigError::SecretUnavailable {
        arn: arn.to_string(),
        reason,
    };
    let output = aws_sdk_secretsmanager::Client::new(aws)
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| unavailable(DisplayErrorContext(e).to_string()))?;
    output
        .secret_string()
        .map(str::to_string)
        .ok_or_else(|| unavailable("the secret has no SecretString".into()))
}

/// A JSON array of strings (`["old", "new"]`), or the same comma-separated list as
/// `WEBHOOK_SECRETS`.
pub fn parse_secret_string(text: &str) -> Secrets {
    match serde_json::from_str::<Vec<String>>(text) {
        Ok(list) => list
            .into_iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .map(Secret::new)
            .collect(),
        Err(_) => Secrets::parse(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_array_or_comma_list() {
        assert_eq!(
            parse_secret_string(r#"["old", " new ", ""]"#),
            Secrets::parse("old,new")
        );
        assert_eq!(parse_secret_string("old, new"), Secrets::parse("old,new"));
        // A token that merely contains a comma-free JSON-looking value stays one secret.
        assert_eq!(parse_secret_string("{token}"), Secrets::parse("{token}"));
    }
}
