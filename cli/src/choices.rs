//! The closed choices of the command line, listed by `--help`, and how each maps onto the
//! product's own configuration (the environment variables the functions read).

use clap::ValueEnum;
use hookline::config::AuthOptions;
use hookline::lambda_event::EventSource;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProviderName {
    Baack,
    #[value(name = "clearid")]
    ClearId,
    Argyle,
    Midbound,
}

/// Runs the generic function `$f::<P>(args...)` (awaited, with a trailing `.await`) for the
/// provider chosen at run time.
macro_rules! with_provider {
    ($provider:expr, $f:ident($($arg:expr),*)) => {
        match $provider {
            $crate::choices::ProviderName::Baack => $f::<hookline::providers::Baack>($($arg),*),
            $crate::choices::ProviderName::ClearId => $f::<hookline::providers::ClearId>($($arg),*),
            $crate::choices::ProviderName::Argyle => $f::<hookline::providers::Argyle>($($arg),*),
            $crate::choices::ProviderName::Midbound => $f::<hookline::providers::Midbound>($($arg),*),
        }
    };
    ($provider:expr, $f:ident($($arg:expr),*).await) => {
        match $provider {
            $crate::choices::ProviderName::Baack => $f::<hookline::providers::Baack>($($arg),*).await,
            $crate::choices::ProviderName::ClearId => $f::<hookline::providers::ClearId>($($arg),*).await,
            $crate::choices::ProviderName::Argyle => $f::<hookline::providers::Argyle>($($arg),*).await,
            $crate::choices::ProviderName::Midbound => $f::<hookline::providers::Midbound>($($arg),*).await,
        }
    };
}
pub(crate) use with_provider;

/// Baack's `WEBHOOK_AUTH_MODE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthMode {
    /// `Authorization: Bearer <token>`.
    Bearer,
    /// `Authorization: Basic`, the secret being `client_id:secret`.
    Basic,
}

/// Midbound's `WEBHOOK_SECRET_ENCODING`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyEncoding {
    /// Base64 after `whsec_`, as the Standard Webhooks spec says.
    Spec,
    /// The characters after `whsec_` as they are (Midbound's Node example).
    Raw,
    /// Either: spec when the secret decodes, and raw.
    Auto,
}

impl KeyEncoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Spec => "spec",
            Self::Raw => "raw",
            Self::Auto => "auto",
        }
    }
}

/// The invocation event's shape (`--event-out`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Source {
    /// API Gateway HTTP API, payload format 2.0.
    HttpApi,
    /// API Gateway REST API, payload format 1.0.
    RestApi,
    /// Lambda function URL.
    FunctionUrl,
}

impl From<Source> for EventSource {
    fn from(source: Source) -> Self {
        match source {
            Source::HttpApi => EventSource::HttpApi,
            Source::RestApi => EventSource::RestApi,
            Source::FunctionUrl => EventSource::FunctionUrl,
        }
    }
}

/// The provider options of `sign` and `verify`, as the functions' environment sets them.
#[derive(Debug, Clone, clap::Args)]
pub struct ProviderOptions {
    /// ClearID: the header carrying the shared secret (WEBHOOK_SECRET_HEADER; default
    /// X-Webhook-Token).
    #[arg(long)]
    pub header: Option<String>,
    /// Baack: how the secret is sent (WEBHOOK_AUTH_MODE; default bearer).
    #[arg(long, value_enum)]
    pub auth_mode: Option<AuthMode>,
    /// Midbound: how the secret becomes the HMAC key (WEBHOOK_SECRET_ENCODING; default auto).
    #[arg(long, value_enum)]
    pub encoding: Option<KeyEncoding>,
}

impl ProviderOptions {
    pub fn auth_options(&self, tolerance_seconds: Option<i64>) -> AuthOptions {
        AuthOptions {
            secret_header: self.header.clone(),
            secret_encoding: self.encoding.map(|e| e.as_str().to_string()),
            auth_mode: self.auth_mode.map(|mode| {
                match mode {
                    AuthMode::Bearer => "bearer",
                    AuthMode::Basic => "basic",
                }
                .to_string()
            }),
            tolerance_seconds,
        }
    }
}
