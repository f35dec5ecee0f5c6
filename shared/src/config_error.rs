//! Why a function refuses to start: its own module, below the configuration and the secrets
//! that both return it.

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
