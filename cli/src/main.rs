//! `hookline`: signs a payload exactly as a provider does, with the product's own signing code,
//! then prints the headers, writes an invocation event, or POSTs it.
//!
//! ```text
//! hookline --provider argyle --secret S --file events/payloads/argyle/identities.added.json
//! hookline --provider midbound --secret whsec_... --file p.json --url https://.../webhooks/midbound
//! hookline --provider clearid --secret S --file p.json --event-type identity.deleted \
//!          --event-out events/clearid-identity.deleted.json
//! ```

use clap::Parser;
use hookline::config::{AuthConfig, AuthOptions};
use hookline::lambda_event::{encode_request, EventSource};
use hookline::providers::{Argyle, Baack, ClearId, Midbound};
use hookline::request::WebhookRequest;
use hookline::secrets::Secrets;
use hookline::verify::standard_webhooks::ID_HEADER;
use hookline::Provider;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Parser, Debug)]
#[command(name = "hookline", version, about)]
struct Args {
    /// baack, clearid, argyle or midbound.
    #[arg(long)]
    provider: String,
    /// The secret to sign with (a bearer token, shared secret, signing secret or whsec_ key).
    #[arg(long, env = "HOOKLINE_SECRET", hide_env_values = true)]
    secret: String,
    /// The JSON payload to send, byte for byte.
    #[arg(long)]
    file: PathBuf,
    /// Rewrite the payload (or, for ClearID, the query string) to carry this event type.
    #[arg(long)]
    event_type: Option<String>,
    /// Midbound: the webhook-id (default: the payload's `id`).
    #[arg(long)]
    id: Option<String>,
    /// Signing time, Unix seconds (default: now).
    #[arg(long)]
    timestamp: Option<i64>,
    /// ClearID: the header carrying the shared secret (default X-Webhook-Token).
    #[arg(long)]
    header: Option<String>,
    /// Baack: bearer (default) or basic (the secret is then `client_id:secret`).
    #[arg(long)]
    auth_mode: Option<String>,
    /// Midbound: key encoding, spec, raw or auto (default auto: spec when the key decodes).
    #[arg(long)]
    encoding: Option<String>,
    /// POST the signed delivery to this URL and print the answer.
    #[arg(long, conflicts_with = "event_out")]
    url: Option<String>,
    /// Write an invocation event to this file instead of printing headers.
    #[arg(long)]
    event_out: Option<PathBuf>,
    /// The event's source: http-api (default), rest-api or function-url.
    #[arg(long, default_value = "http-api")]
    source: EventSource,
    /// The event's path.
    #[arg(long, default_value = "/webhooks")]
    path: String,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args).await {
        Ok(code) => code,
        Err(message) => {
            eprintln!("hookline: {message}");
            ExitCode::from(2)
        }
    }
}

async fn run(args: &Args) -> Result<ExitCode, String> {
    let request = match args.provider.as_str() {
        "baack" => signed::<Baack>(args)?,
        "clearid" => signed::<ClearId>(args)?,
        "argyle" => signed::<Argyle>(args)?,
        "midbound" => signed::<Midbound>(args)?,
        other => return Err(format!("unknown provider {other:?}")),
    };
    if let Some(url) = &args.url {
        return post(url, &request).await;
    }
    if let Some(out) = &args.event_out {
        let event = encode_request(&request, args.source, &args.path, false);
        let text = serde_json::to_string_pretty(&event).expect("an event serializes") + "\n";
        std::fs::write(out, text).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
        return Ok(ExitCode::SUCCESS);
    }
    for (name, value) in &request.headers {
        println!("{name}: {}", value.to_str().unwrap_or_default());
    }
    if !request.query.is_empty() {
        println!("# query: {}", query_string(&request));
    }
    Ok(ExitCode::SUCCESS)
}

/// Builds and signs the delivery with provider `P`'s own code.
fn signed<P: Provider>(args: &Args) -> Result<WebhookRequest, String> {
    let body = std::fs::read(&args.file)
        .map_err(|e| format!("cannot read {}: {e}", args.file.display()))?;
    let options = AuthOptions {
        secret_header: args.header.clone(),
        secret_encoding: args.encoding.clone(),
        auth_mode: args.auth_mode.clone(),
        tolerance_seconds: None,
    };
    let auth = AuthConfig::new(Secrets::parse(&args.secret), options).map_err(|e| e.to_string())?;
    let provider = P::from_config(&auth).map_err(|e| e.to_string())?;
    let mut request = WebhookRequest::post(http::HeaderMap::new(), body);
    request.headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    if let Some(event_type) = &args.event_type {
        P::set_event_type(&mut request, event_type).map_err(|e| e.to_string())?;
    }
    if let Some(id) = &args.id {
        let value = http::HeaderValue::from_str(id).map_err(|_| "invalid --id".to_string())?;
        request.headers.insert(ID_HEADER, value);
    }
    let now = args.timestamp.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)
    });
    provider
        .sign(&args.secret, &mut request, now)
        .map_err(|e| e.to_string())?;
    Ok(request)
}

fn query_string(request: &WebhookRequest) -> String {
    let mut pairs: Vec<String> = request
        .query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    pairs.sort();
    pairs.join("&")
}

async fn post(url: &str, request: &WebhookRequest) -> Result<ExitCode, String> {
    let mut url = url.to_string();
    if !request.query.is_empty() {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&query_string(request));
    }
    let response = reqwest::Client::new()
        .post(&url)
        .headers(request.headers.clone())
        .body(request.body.clone())
        .send()
        .await
        .map_err(|e| format!("POST {url}: {e}"))?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    println!("{} {body}", status.as_u16());
    Ok(if status.is_success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
