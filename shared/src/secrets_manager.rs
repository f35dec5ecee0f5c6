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
            parse_secret_string(&secret_string(arn, aws).await?)
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
