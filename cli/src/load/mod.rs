//! `hookline load`: correctly signed deliveries for one provider sent to a URL at a target rate,
//! for a count or a duration, a share of them repeats; then the rate reached, the answer times
//! (p50/p90/p99/max) and every status seen. A run fails (exit 1) on any answer a provider would
//! not count as delivered, or when a new event is not accepted exactly once.

mod deliveries;
mod tally;

use crate::choices::{with_provider, with_provider_arms, ProviderName, ProviderOptions};
use crate::failure::{read, Failure};
use crate::sign::{json_post, sign, with_query};
use deliveries::{payload, Plan, Run, MILLION};
use hookline::config::AuthConfig;
use hookline::request::WebhookRequest;
use hookline::secrets::Secrets;
use hookline::Provider;
use serde_json::Value;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tally::{Answer, Delivered, Tally};
use tokio::time::Instant;

pub const EXAMPLES: &str = "\
Examples:
  hookline load --provider argyle --secret \"$S\" --url http://127.0.0.1:9001/ --count 200
  hookline load --provider midbound --url https://<api>/webhooks/midbound --rate 100 \\
      --duration 2m --duplicates 0.1 --concurrency 50 --yes --json

Every delivery is real: the stack verifies, stores, queues and enriches it (the enricher calls
the provider's API for each new event). Load a staging stack, not production.";

/// Attempts per delivery at most: the first, then retries of 503 and 429 answers.
const ATTEMPTS: usize = 10;

#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("bound").required(true).args(["count", "duration"])))]
pub struct LoadArgs {
    #[arg(long, value_enum)]
    pub provider: ProviderName,
    /// The secret the stack verifies with (a bearer token, shared secret, signing secret or
    /// whsec_ key).
    #[arg(long, env = "HOOKLINE_SECRET", hide_env_values = true)]
    pub secret: String,
    /// The provider's webhook URL (`hookline urls` lists a stack's).
    #[arg(long)]
    pub url: String,
    /// Send this many deliveries.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
    /// Send for this long (90s, 5m, 1h): rate × duration deliveries.
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub duration: Option<Duration>,
    /// Deliveries started per second, at most; `max`: as fast as --concurrency allows.
    #[arg(long, value_name = "PER_SECOND", default_value = "10", value_parser = rate)]
    pub rate: f64,
    /// Deliveries waiting for an answer at once, at most.
    #[arg(long, value_name = "N", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub concurrency: u32,
    /// The share of deliveries that repeat an earlier one, as a provider's retries do (0.1 or
    /// 10%); half of them follow their original at once.
    #[arg(long, value_name = "SHARE", default_value = "0", value_parser = share)]
    pub duplicates: u64,
    /// The payload each event is made from (default: the provider's sample); the field that
    /// makes the provider's deduplication key is set per event.
    #[arg(long)]
    pub payload: Option<PathBuf>,
    /// Make the payload (or, for ClearID, the query string) carry this event type.
    #[arg(long)]
    pub event_type: Option<String>,
    /// Give up on an attempt after this long.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = duration)]
    pub timeout: Duration,
    #[command(flatten)]
    pub options: ProviderOptions,
    /// Send to a URL that is not this machine's.
    #[arg(long)]
    pub yes: bool,
    #[command(flatten)]
    pub output: crate::output::Output,
}

fn duration(text: &str) -> Result<Duration, String> {
    match crate::when::duration_seconds(text) {
        Some(seconds) if seconds > 0 => Ok(Duration::from_secs(seconds.unsigned_abs())),
        _ => Err(format!("{text:?} is not a duration: give 90s, 5m or 1h")),
    }
}

fn rate(text: &str) -> Result<f64, String> {
    if text == "max" {
        return Ok(f64::INFINITY);
    }
    match text.parse::<f64>() {
        Ok(rate) if rate.is_finite() && (0.01..=1_000_000.0).contains(&rate) => Ok(rate),
        _ => Err(format!(
            "{text:?}: give deliveries per second, 0.01 to 1000000"
        )),
    }
}

/// A share below one, as `0.1` or `10%`, in parts per million.
fn share(text: &str) -> Result<u64, String> {
    let (number, scale) = match text.strip_suffix('%') {
        Some(percent) => (percent, 100.0),
        None => (text, 1.0),
    };
    match number.trim().parse::<f64>() {
        Ok(value) if (0.0..1.0).contains(&(value / scale)) => {
            Ok((value / scale * MILLION as f64).round() as u64)
        }
        _ => Err(format!(
            "{text:?}: give a share of repeats from 0 to below 1 (0.1, or 10%)"
        )),
    }
}

pub async fn run(args: &LoadArgs) -> Result<ExitCode, Failure> {
    let planned = match (args.count, args.duration) {
        (Some(count), _) => count,
        (None, Some(_)) if args.rate.is_infinite() => {
            return Err(Failure::Usage(
                "--rate max sends as fast as answers come: bound it with --count".into(),
            ))
        }
        (None, Some(duration)) => (args.rate * duration.as_secs_f64()).ceil().max(1.0) as u64,
        (None, None) => unreachable!("clap requires one bound"),
    };
    let url = reqwest::Url::parse(&args.url)
        .map_err(|e| Failure::Usage(format!("--url {:?}: {e}", args.url)))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Failure::Usage(format!("--url {url}: not http or https")));
    }
    if !is_this_machine(&url) && !args.yes {
        return Err(Failure::Usage(format!(
            "{planned} deliveries to {}, which is not this machine: each is real (stored, queued \
             and enriched); pass --yes to send them",
            url.host_str().unwrap_or_default()
        )));
    }
    with_provider!(args.provider, load(args, planned).await)
}

/// localhost, `*.localhost` and loopback addresses.
fn is_this_machine(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return ip.is_loopback();
    }
    let name = host.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

async fn load<P: Provider + 'static>(args: &LoadArgs, planned: u64) -> Result<ExitCode, Failure> {
    let usage = |e: &dyn std::fmt::Display| Failure::Usage(e.to_string());
    let auth = AuthConfig::new(
        Secrets::parse(&args.secret),
        args.options.auth_options(None),
    )
    .map_err(|e| usage(&e))?;
    let provider = P::from_config(&auth).map_err(|e| usage(&e))?;
    let mut base = json_post(match &args.payload {
        Some(path) => read(path)?,
        None => args
            .provider
            .registered()
            .update_sample()
            .as_bytes()
            .to_vec(),
    });
    if let Some(event_type) = &args.event_type {
        P::set_event_type(&mut base, event_type).map_err(|e| usage(&e))?;
    }
    let base_payload: Value = serde_json::from_slice(&base.body)
        .map_err(|e| Failure::Usage(format!("the payload is not JSON: {e}")))?;
    let client = reqwest::Client::builder()
        .timeout(args.timeout)
        .pool_max_idle_per_host(args.concurrency as usize)
        .build()
        .map_err(|e| Failure::Failed(format!("HTTP client: {e}")))?;
    let url = with_query(&args.url, &base)?;
    let run = Run::random();
    let mut plan = Plan::new(args.duplicates);
    let tally = Arc::new(Mutex::new(Tally::default()));
    // The live line on stderr (drawn only on a terminal).
    let bar = crate::progress::bar(
        planned,
        "{bar:30} {pos}/{len} delivered, {per_sec}, {elapsed} · {msg}",
    );
    let connections = Arc::new(tokio::sync::Semaphore::new(args.concurrency as usize));
    let mut sending = tokio::task::JoinSet::new();
    let interval = Duration::from_secs_f64(1.0 / args.rate); // zero when unpaced
    let started = Instant::now();
    let end = args.duration.map(|d| started + d);
    for index in 0..planned {
        let due = started + interval.mul_f64(index as f64);
        if end.is_some_and(|end| due >= end || Instant::now() >= end) {
            break;
        }
        tokio::time::sleep_until(due).await;
        let permit = connections
            .clone()
            .acquire_owned()
            .await
            .expect("never closed");
        if args.rate.is_finite() {
            let lateness = Instant::now() - due;
            tally.lock().expect("not poisoned").started(lateness);
        }
        let delivery = plan.next();
        let mut request = json_post(payload(args.provider, &base_payload, &run, delivery.event));
        request.query = base.query.clone();
        // A provider whose key is a header (Midbound's webhook-id) takes it from the payload
        // that `payload` made unique.
        sign(
            &provider,
            &args.secret,
            &mut request,
            None,
            hookline::clock::unix_now(),
        )?;
        let (client, url, tally, bar) = (client.clone(), url.clone(), tally.clone(), bar.clone());
        sending.spawn(async move {
            let attempts = deliver(&client, &url, &request).await;
            drop(permit);
            let mut tally = tally.lock().expect("not poisoned");
            tally.add(Delivered {
                event: delivery.event,
                repeat: delivery.repeat,
                attempts,
            });
            bar.set_message(tally.progress());
            bar.inc(1);
        });
        while sending.try_join_next().is_some() {}
    }
    while sending.join_next().await.is_some() {}
    let elapsed = started.elapsed();
    bar.finish_and_clear();
    let tally = tally.lock().expect("not poisoned");
    let summary = tally.summary(elapsed, args.rate);
    if args.output.json {
        println!("{}", summary.json());
    } else {
        print!("{}", summary.table());
    }
    if summary.failures.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(Failure::Failed(summary.failures.join("; ")))
    }
}

/// Sends `request` until its answer is one a provider would not retry (or `ATTEMPTS` ran out),
/// a short jittered pause between attempts: the receiver asks for seconds, a load run keeps
/// its pace.
async fn deliver(
    client: &reqwest::Client,
    url: &str,
    request: &WebhookRequest,
) -> Vec<(Answer, Duration)> {
    let mut attempts = Vec::with_capacity(1);
    loop {
        let started = Instant::now();
        let answer = match client
            .post(url)
            .headers(request.headers.clone())
            .body(request.body.clone())
            .send()
            .await
        {
            Ok(response) => {
                let status = response.status().as_u16();
                match response.bytes().await {
                    Ok(body) => Answer::http(status, &body),
                    Err(e) => Answer::Failed(failed(&e)),
                }
            }
            Err(e) => Answer::Failed(failed(&e)),
        };
        let retry = answer.is_retried() && attempts.len() + 1 < ATTEMPTS;
        attempts.push((answer, started.elapsed()));
        if !retry {
            return attempts;
        }
        tokio::time::sleep(Duration::from_millis(100 + fastrand::u64(..200))).await;
    }
}

/// Why no answer came, in a word (reqwest's message names the URL, which the table has).
fn failed(error: &reqwest::Error) -> &'static str {
    if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else {
        "no answer"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_exact_parts_per_million() {
        assert_eq!(share("0.1"), Ok(100_000));
        assert_eq!(share("10%"), Ok(100_000));
        assert_eq!(share("0"), Ok(0));
        assert_eq!(share("0.333333"), Ok(333_333));
        for bad in ["1", "100%", "-0.1", "x", "NaN"] {
            assert!(share(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_loopback_and_localhost_are_this_machine() {
        let local = |u: &str| is_this_machine(&reqwest::Url::parse(u).unwrap());
        for url in [
            "http://127.0.0.1:9000/",
            "http://127.8.0.1/",
            "http://[::1]:80/x",
            "http://localhost/",
            "http://LOCALHOST./",
            "http://api.localhost:3000/",
        ] {
            assert!(local(url), "{url}");
        }
        for url in [
            "https://abc.execute-api.us-east-1.amazonaws.com/webhooks/argyle",
            "http://10.0.0.1/",
            "http://localhost.example.com/",
            "http://[::2]/",
        ] {
            assert!(!local(url), "{url}");
        }
    }
}
