//! `hookline sign`: a delivery signed with the product's own signing code (each verifier's
//! scheme run the other way), printed as headers, written as an invocation event, or POSTed.
//! `--check` sends a registration check (`hookline::registration_check`): the provider's sample
//! about an identity no provider issues, which the enricher acknowledges without a trace.

use crate::choices::{with_provider, with_provider_arms, ProviderName, ProviderOptions, Source};
use crate::failure::{read, Failure};
use hookline::config::AuthConfig;
use hookline::lambda_event::encode_request;
use hookline::request::WebhookRequest;
use hookline::secrets::Secrets;
use hookline::verify::standard_webhooks::ID_HEADER;
use hookline::Provider;
use std::path::PathBuf;
use std::process::ExitCode;

pub const EXAMPLES: &str = "\
Examples:
  hookline sign --provider argyle --check --url https://<api>/webhooks/argyle
  hookline sign --provider argyle --secret \"$S\" --file events/payloads/argyle/identities.added.json
  HOOKLINE_SECRET=whsec_... hookline sign --provider midbound --file p.json \\
      --url https://<api>/webhooks/midbound
  hookline sign --provider clearid --secret \"$S\" --file p.json --event-type identity.deleted \\
      --event-out /tmp/event.json --source rest-api";

#[derive(clap::Args, Debug)]
pub struct SignArgs {
    #[arg(long, value_enum)]
    pub provider: ProviderName,
    /// The secret to sign with (a bearer token, shared secret, signing secret or whsec_ key).
    #[arg(long, env = "HOOKLINE_SECRET", hide_env_values = true)]
    pub secret: String,
    /// The JSON payload to send, byte for byte.
    #[arg(long, required_unless_present = "check")]
    pub file: Option<PathBuf>,
    /// Send a registration check instead of a file: the provider's sample about a new identity
    /// in a namespace no provider issues (hookline-check-...). The function verifies, stores and
    /// queues it like any delivery; the enricher then drops it, fetching, storing and announcing
    /// nothing.
    #[arg(long, conflicts_with_all = ["file", "id"])]
    pub check: bool,
    /// Rewrite the payload (or, for ClearID, the query string) to carry this event type. With a
    /// ClearID --url that has `?event=`, the URL's type is the one the function reads: a
    /// different one here is refused.
    #[arg(long)]
    pub event_type: Option<String>,
    /// Midbound: the webhook-id (default: derived from the body).
    #[arg(long)]
    pub id: Option<String>,
    /// Signing time, Unix seconds (default: now).
    #[arg(long)]
    pub timestamp: Option<i64>,
    #[command(flatten)]
    pub options: ProviderOptions,
    /// POST the signed delivery to this URL and print the answer's status and body.
    #[arg(long, conflicts_with = "event_out")]
    pub url: Option<String>,
    /// Write an invocation event to this file instead of printing headers.
    #[arg(long)]
    pub event_out: Option<PathBuf>,
    /// The invocation event's source (with --event-out).
    #[arg(long, value_enum, default_value = "http-api")]
    pub source: Source,
    /// The invocation event's path (with --event-out).
    #[arg(long, default_value = "/webhooks")]
    pub path: String,
}

pub async fn run(args: &SignArgs) -> Result<ExitCode, Failure> {
    let request = with_provider!(args.provider, signed(args))?;
    if let Some(url) = &args.url {
        return post(&with_query(url, &request)?, &request).await;
    }
    if let Some(out) = &args.event_out {
        let event = encode_request(&request, args.source.into(), &args.path, false);
        let text = serde_json::to_string_pretty(&event).expect("an event serializes") + "\n";
        std::fs::write(out, text)
            .map_err(|e| Failure::Usage(format!("cannot write {}: {e}", out.display())))?;
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
fn signed<P: Provider>(args: &SignArgs) -> Result<WebhookRequest, Failure> {
    let usage = |e: &dyn std::fmt::Display| Failure::Usage(e.to_string());
    let body = match &args.file {
        Some(file) => read(file)?,
        None => check_payload::<P>()?,
    };
    let options = args.options.auth_options(None);
    let auth = AuthConfig::new(Secrets::parse(&args.secret), options).map_err(|e| usage(&e))?;
    let provider = P::from_config(&auth).map_err(|e| usage(&e))?;
    let mut request = json_post(body);
    if let Some(event_type) = &args.event_type {
        P::set_event_type(&mut request, event_type).map_err(|e| usage(&e))?;
    }
    let now = args.timestamp.unwrap_or_else(hookline::clock::unix_now);
    sign(
        &provider,
        &args.secret,
        &mut request,
        args.id.as_deref(),
        now,
    )?;
    Ok(request)
}

/// A registration check's payload for provider `P`, about a new check identity.
fn check_payload<P: Provider>() -> Result<Vec<u8>, Failure> {
    hookline::registration_check::payload(P::NAME, &hookline::registration_check::new_id())
        .ok_or_else(|| Failure::Usage(format!("no registration check for {}", P::NAME)))
}

/// A POST of the JSON `body`, unsigned.
pub fn json_post(body: Vec<u8>) -> WebhookRequest {
    let mut request = WebhookRequest::post(http::HeaderMap::new(), body);
    request.headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    request
}

/// Signs `request` as the provider does at `now`; `id` is Midbound's `webhook-id` (derived from
/// the body when absent).
pub fn sign<P: Provider>(
    provider: &P,
    secret: &str,
    request: &mut WebhookRequest,
    id: Option<&str>,
    now: i64,
) -> Result<(), Failure> {
    let usage = |e: &dyn std::fmt::Display| Failure::Usage(e.to_string());
    if let Some(id) = id {
        let value =
            http::HeaderValue::from_str(id).map_err(|_| usage(&"--id cannot be a header value"))?;
        request.headers.insert(ID_HEADER, value);
    }
    provider.sign(secret, request, now).map_err(|e| usage(&e))
}

/// The query string, parameters sorted (the same text every run).
pub fn query_string(request: &WebhookRequest) -> String {
    let mut pairs: Vec<String> = request
        .query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    pairs.sort();
    pairs.join("&")
}

/// `url` with the request's query parameters added, those it already carries left as they are.
/// One it carries with another value is refused: the function reads the first, so the delivery
/// would silently be another event type than the one asked for (a ClearID URL carries its
/// webhook's `?event=`; `--event-type` puts one in the request's query).
pub fn with_query(url: &str, request: &WebhookRequest) -> Result<String, Failure> {
    let parsed =
        reqwest::Url::parse(url).map_err(|e| Failure::Usage(format!("--url {url:?}: {e}")))?;
    let mut added: Vec<String> = Vec::new();
    for (name, value) in &request.query {
        let in_url = parsed.query_pairs().find(|(n, _)| n == name.as_str());
        match in_url {
            None => added.push(format!("{name}={value}")),
            // The function trims and lowercases the type it reads.
            Some((_, given)) if given.trim().eq_ignore_ascii_case(value.trim()) => {}
            Some((_, given)) => {
                return Err(Failure::Usage(format!(
                    "the URL says {name}={given}, which the function reads, not {value}: send \
                     to that event type's URL (hookline urls) or leave --event-type out"
                )))
            }
        }
    }
    added.sort();
    let mut url = url.to_string();
    if !added.is_empty() {
        url.push(if parsed.query().is_some() { '&' } else { '?' });
        url.push_str(&added.join("&"));
    }
    Ok(url)
}

async fn post(url: &str, request: &WebhookRequest) -> Result<ExitCode, Failure> {
    let response = reqwest::Client::new()
        .post(url)
        .headers(request.headers.clone())
        .body(request.body.clone())
        .send()
        .await
        .map_err(|e| Failure::Failed(format!("POST {url}: {e}")))?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    println!("{} {body}", status.as_u16());
    Ok(if status.is_success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_event(event_type: &str) -> WebhookRequest {
        let mut request = json_post(b"{}".to_vec());
        request.query.insert("event".into(), event_type.into());
        request
    }

    #[test]
    fn a_type_the_url_already_says_is_not_added_again_and_another_is_refused() {
        let url = "https://api.example/webhooks/clearid?event=identity.deleted";
        assert_eq!(
            with_query(url, &with_event("identity.deleted")).unwrap(),
            url
        );
        assert_eq!(
            with_query(url, &with_event(" Identity.Deleted")).unwrap(),
            url
        );
        let Err(Failure::Usage(refused)) = with_query(url, &with_event("identity.updated")) else {
            panic!("a type the URL contradicts must be refused")
        };
        assert!(
            refused.starts_with("the URL says event=identity.deleted"),
            "{refused}"
        );
    }

    #[test]
    fn a_url_without_the_parameter_gets_it() {
        let request = with_event("identity.updated");
        assert_eq!(
            with_query("https://api.example/webhooks/clearid", &request).unwrap(),
            "https://api.example/webhooks/clearid?event=identity.updated"
        );
        assert_eq!(
            with_query("https://api.example/webhooks/clearid?stage=1", &request).unwrap(),
            "https://api.example/webhooks/clearid?stage=1&event=identity.updated"
        );
        let plain = json_post(b"{}".to_vec());
        assert_eq!(
            with_query("https://api.example/webhooks/clearid", &plain).unwrap(),
            "https://api.example/webhooks/clearid"
        );
        assert!(matches!(
            with_query("not a url", &plain),
            Err(Failure::Usage(_))
        ));
    }

    #[test]
    fn every_check_is_a_new_payload() {
        let mut pairs = Vec::new();
        hookline::for_each_provider!(|P| pairs.push((check_payload::<P>(), check_payload::<P>())));
        for (first, second) in pairs {
            let (first, second) = (first.unwrap(), second.unwrap());
            assert_ne!(first, second);
            let text = String::from_utf8(first).unwrap();
            assert!(text.contains("\"hookline-check-"), "{text}");
        }
    }
}
