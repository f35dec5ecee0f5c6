//! `hookline verify`: would the function accept this captured delivery? The request goes through
//! the function's own pipeline (its configuration checks, method and size checks, verifier and
//! payload parser) with an in-memory store and queue, so the answer and the reason are the ones
//! the function would give and log.

use crate::captured::{self, query_pairs};
use crate::choices::{
    with_provider, with_provider_arms, AuthMode, KeyEncoding, ProviderName, ProviderOptions,
};
use crate::failure::{read, Failure};
use hookline::config::{AuthConfig, Config, ConfigError};
use hookline::queue::MemoryEventQueue;
use hookline::rejection::Rejection;
use hookline::request::WebhookRequest;
use hookline::response::respond;
use hookline::store::MemoryEventStore;
use hookline::verify::AuthFailure;
use hookline::{Handled, Pipeline, Provider, Settings};
use std::path::PathBuf;
use std::process::ExitCode;

pub const EXAMPLES: &str = "\
Exit status: 0 the function would accept the delivery, 1 it would not (the reason is printed),
2 the command line or its files cannot be used.

Examples:
  hookline sign --provider argyle --secret \"$S\" --file body.json > headers.txt
  hookline verify --provider argyle --secret \"$S\" --headers headers.txt --body body.json
  curl -sD headers.txt ...; hookline verify --provider midbound --headers headers.txt \\
      --body body.json --now 1764633600        # HOOKLINE_SECRET holds the secret";

#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    #[arg(long, value_enum)]
    pub provider: ProviderName,
    /// The function's secrets, comma-separated as in WEBHOOK_SECRETS. Never printed.
    #[arg(long, env = "HOOKLINE_SECRET", hide_env_values = true)]
    pub secret: String,
    /// The request's headers: `Name: value` lines (HTTP status line and CRLF tolerated).
    #[arg(long)]
    pub headers: PathBuf,
    /// The request's raw body, byte for byte.
    #[arg(long)]
    pub body: PathBuf,
    /// The query string (`event=identity.deleted` for ClearID); default: from the headers file.
    #[arg(long)]
    pub query: Option<String>,
    /// Verify as at this time, Unix seconds (default: now).
    #[arg(long)]
    pub now: Option<i64>,
    /// Midbound: the replay window in seconds, past and future (WEBHOOK_TOLERANCE_SECONDS).
    #[arg(long)]
    pub tolerance: Option<i64>,
    /// Accept secrets under 16 bytes, as WEBHOOK_ALLOW_SHORT_SECRETS=true does.
    #[arg(long)]
    pub allow_short_secrets: bool,
    #[command(flatten)]
    pub options: ProviderOptions,
}

pub async fn run(args: &VerifyArgs) -> Result<ExitCode, Failure> {
    let headers = read(&args.headers)?;
    let captured = captured::parse(&headers)
        .map_err(|e| Failure::Usage(format!("{}: {e}", args.headers.display())))?;
    let mut request = WebhookRequest::post(captured.headers, read(&args.body)?);
    if let Some(query) = args.query.as_ref().or(captured.query.as_ref()) {
        request.query = query_pairs(query.trim_start_matches('?'));
    }
    let now = args.now.unwrap_or_else(hookline::clock::unix_now);
    let verdict = with_provider!(
        args.provider,
        handle(args, &args.options, &request, now).await
    );
    match verdict {
        Ok(handled) => {
            let flag = if handled.recognized {
                ""
            } else {
                ", an unrecognized type: accepted and flagged"
            };
            println!(
                "verified: the function would accept it as {} ({}{flag})",
                handled.event_id, handled.event_type
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(Refused::Config(e)) => Err(Failure::Failed(format!(
            "the function would not start with this secret and these options: {e}"
        ))),
        Err(Refused::Rejected(rejection)) => {
            let status = respond(&Err(rejection.clone())).status;
            let mut message = format!(
                "not verified: the function would answer {status} ({}): {rejection}",
                rejection.reason()
            );
            if let Some(hint) = hint(args, &request, now, &rejection).await {
                message.push_str(&format!("\nhookline: {hint}"));
            }
            Err(Failure::Failed(message))
        }
    }
}

enum Refused {
    Config(ConfigError),
    Rejected(Rejection),
}

/// The function's configuration from the options, read as it reads its environment.
fn config(args: &VerifyArgs, options: &ProviderOptions) -> Result<Config, ConfigError> {
    let auth = options.auth_options(args.tolerance);
    let tolerance = args.tolerance.map(|t| t.to_string());
    Config::from_lookup(|name| match name {
        // Not used: the store and the queue are in memory.
        "EVENTS_TABLE" | "EVENTS_QUEUE_URL" => Some("hookline-verify".into()),
        "WEBHOOK_SECRETS" => Some(args.secret.clone()),
        "WEBHOOK_SECRET_HEADER" => auth.secret_header.clone(),
        "WEBHOOK_SECRET_ENCODING" => auth.secret_encoding.clone(),
        "WEBHOOK_AUTH_MODE" => auth.auth_mode.clone(),
        "WEBHOOK_TOLERANCE_SECONDS" => tolerance.clone(),
        "WEBHOOK_ALLOW_SHORT_SECRETS" => Some(args.allow_short_secrets.to_string()),
        _ => None,
    })
}

/// The function's pipeline for `P` (the start-up checks of `runtime::live_pipeline`), on
/// memory adapters, handling `request` at `now`.
async fn handle<P: Provider>(
    args: &VerifyArgs,
    options: &ProviderOptions,
    request: &WebhookRequest,
    now: i64,
) -> Result<Handled, Refused> {
    let config = config(args, options).map_err(Refused::Config)?;
    let auth =
        AuthConfig::new(config.secrets.inline(), config.auth.clone()).map_err(Refused::Config)?;
    let provider = P::from_config(&auth).map_err(Refused::Config)?;
    let verifier = provider.verifier();
    config
        .check_secret_strengths(&verifier.secret_strengths())
        .map_err(Refused::Config)?;
    let settings = Settings {
        max_body_bytes: config.max_body_bytes,
        retention_seconds: config
            .retention_for(
                P::DEFAULT_RETENTION_SECONDS,
                verifier.replay_tolerance_seconds(),
            )
            .map_err(Refused::Config)?,
        lease_seconds: config.lease_seconds,
    };
    let pipeline = Pipeline::new(
        provider,
        MemoryEventStore::default(),
        MemoryEventQueue::default(),
        settings,
    );
    pipeline
        .handle(request, "hookline-verify", now)
        .await
        .map_err(Refused::Rejected)
}

/// When the credential matched no secret, whether the other setting of the option that decides
/// how the secret is read would have verified it (Baack's auth mode, Midbound's key encoding).
async fn hint(
    args: &VerifyArgs,
    request: &WebhookRequest,
    now: i64,
    rejection: &Rejection,
) -> Option<String> {
    let Rejection::Unauthorized(AuthFailure::NoMatch | AuthFailure::MalformedHeader(_)) = rejection
    else {
        return None;
    };
    // Each option is read by one provider only (the auth mode by Baack, the key encoding by
    // Midbound); another provider ignores it and refuses the delivery again: no hint.
    let mut tries = Vec::new();
    for mode in [AuthMode::Bearer, AuthMode::Basic] {
        if args.options.auth_mode.unwrap_or(AuthMode::Bearer) != mode {
            let flag = format!("--auth-mode {mode:?}").to_lowercase();
            let options = ProviderOptions {
                auth_mode: Some(mode),
                ..args.options.clone()
            };
            tries.push((flag, options));
        }
    }
    // `auto` (the default) already tries both readings of the secret.
    let other = match args.options.encoding {
        Some(KeyEncoding::Spec) => Some(KeyEncoding::Raw),
        Some(KeyEncoding::Raw) => Some(KeyEncoding::Spec),
        Some(KeyEncoding::Auto) | None => None,
    };
    if let Some(encoding) = other {
        let options = ProviderOptions {
            encoding: Some(encoding),
            ..args.options.clone()
        };
        tries.push((format!("--encoding {}", encoding.as_str()), options));
    }
    for (flag, options) in tries {
        if with_provider!(args.provider, handle(args, &options, request, now).await).is_ok() {
            return Some(format!(
                "it verifies with {flag}: the secret is right, the function's option is not"
            ));
        }
    }
    None
}
