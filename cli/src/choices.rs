//! The closed choices of the command line, listed by `--help`, and how each maps onto the
//! product's own configuration (the environment variables the functions read).

use clap::ValueEnum;
use hookline::config::AuthOptions;
use hookline::lambda_event::EventSource;

macro_rules! provider_names {
    ([$($module:ident::$provider:ident),*]) => {
        /// A provider, as `--provider` names it: one per entry of the library's registry.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
        pub enum ProviderName {
            $(
                #[value(name = <hookline::providers::$provider as hookline::Provider>::NAME)]
                $provider,
            )*
        }

        impl ProviderName {
            /// The provider's name, as every event id, attribute and table key has it.
            pub fn as_str(self) -> &'static str {
                use hookline::Provider;
                match self {
                    $(Self::$provider => hookline::providers::$provider::NAME,)*
                }
            }
        }
    };
}
hookline::for_each_provider!(provider_names);

impl ProviderName {
    /// The library's entry for this provider.
    pub fn registered(self) -> &'static hookline::providers::Registered {
        hookline::providers::find(self.as_str()).expect("every choice is a registered provider")
    }
}

/// Runs the generic function `$f::<P>(args...)` (awaited, with a trailing `.await`) for the
/// provider chosen at run time.
macro_rules! with_provider {
    ($provider:expr, $($call:tt)*) => {
        hookline::for_each_provider!(with_provider_arms, $provider, $($call)*)
    };
}
pub(crate) use with_provider;

/// [`with_provider`]'s match, one arm per provider of the registry.
macro_rules! with_provider_arms {
    ([$($module:ident::$type:ident),*], $provider:expr, $f:ident $args:tt .await) => {
        match $provider {
            $($crate::choices::ProviderName::$type => {
                $f::<hookline::providers::$type> $args.await
            })*
        }
    };
    ([$($module:ident::$type:ident),*], $provider:expr, $f:ident $args:tt) => {
        match $provider {
            $($crate::choices::ProviderName::$type => $f::<hookline::providers::$type> $args,)*
        }
    };
}
pub(crate) use with_provider_arms;

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
