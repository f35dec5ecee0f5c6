//! `hookline load` through the built binary against each provider's real pipeline on the
//! emulator (a template stack's table and queue, scripts/test), served as a function URL on
//! this machine: every delivery answered, each new event accepted once and queued, the
//! repeats answered as duplicates; a refusing stack fails the run; a URL elsewhere needs --yes.

mod support;
use hookline::provider::Sample as _;
use hookline::providers::Argyle;
use hookline::Provider as _;
use integration_tests::{Harness, Sample};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::process::Output;
use support::{command, function_url, stderr, stdout};

/// `hookline load ARGS...` off the test's runtime threads (the server answers on them).
async fn load(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || command().arg("load").args(args).output().unwrap())
        .await
        .unwrap()
}

fn args(provider: &str, secret: &str, url: &str, rest: &[&str]) -> Vec<String> {
    [
        &["--provider", provider, "--secret", secret, "--url", url][..],
        rest,
    ]
    .concat()
    .into_iter()
    .map(String::from)
    .collect()
}

fn report(output: &Output) -> Value {
    serde_json::from_str(stdout(output).trim())
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(output), stderr(output)))
}

/// The run against `S`'s pipeline: exit 0, the exact counts, one queued message per new event
/// and as many stored events.
async fn deliveries_are_counted_and_stored_once<S: Sample>(
    provider: &str,
    options: &[&str],
    count: u64,
) {
    let harness = Harness::<S>::new().await;
    let url = function_url::serve(harness.pipeline).await;
    let repeats = count / 10;
    let count_text = count.to_string();
    let rest = [
        &[
            "--count",
            &count_text,
            "--duplicates",
            "0.1",
            "--rate",
            "200",
        ][..],
        &["--concurrency", "4", "--json"],
        options,
    ]
    .concat();
    let output = load(args(provider, S::SECRETS[1], &url, &rest)).await;
    assert!(output.status.success(), "{provider}: {}", stderr(&output));
    let report = report(&output);
    assert_eq!(report["deliveries"], count, "{provider}");
    assert_eq!(report["new_events"], count - repeats, "{provider}");
    assert_eq!(report["repeats"], repeats, "{provider}");
    assert_eq!(
        report["answers"],
        json!([{"status": "200", "answer": "accepted", "deliveries": count - repeats},
               {"status": "200", "answer": "duplicate", "deliveries": repeats}]),
        "{provider}"
    );
    assert_eq!(report["failures"], json!([]));
    for quantile in ["p50", "p90", "p99", "max"] {
        assert!(
            report["latency_ms"][quantile].as_f64().unwrap() > 0.0,
            "{quantile}"
        );
    }
    // Anything retried was a repeat racing its original ("in progress"), nothing else.
    for retried in report["retried"].as_array().unwrap() {
        assert_eq!(retried["status"], "503", "{retried}");
        assert_eq!(retried["answer"], "in_progress", "{retried}");
    }
    // Every new event queued, no other: the queue is at least once (an SDK retry of a send
    // the emulator answered too slowly queues a second copy, docs/contracts.md "What happens to a
    // delivery"), so copies are allowed, a missing or foreign event is not.
    let messages = harness.resources.messages().await;
    let events: HashSet<&str> = messages
        .iter()
        .map(|m| m.body["event_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        events.len() as u64,
        count - repeats,
        "{provider}: events queued"
    );
    assert!(messages.len() >= events.len());
    assert_eq!(
        harness.resources.item_count().await as u64,
        count - repeats,
        "{provider}: stored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn argyle_load_is_delivered_once_per_event() {
    deliveries_are_counted_and_stored_once::<Argyle>("argyle", &[], 200).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_provider_s_deliveries_are_signed_and_keyed_per_event() {
    hookline::for_each_provider!(|P| {
        // The event type a provider's URL names (ClearID's `?event=`), given as load's flag.
        let mut flags = support::option_flags::<P>();
        for (_, event_type) in P::QUERY.iter().filter(|(name, _)| *name == "event") {
            flags.extend(["--event-type".to_string(), event_type.to_string()]);
        }
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        deliveries_are_counted_and_stored_once::<P>(P::NAME, &flags, 40).await
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_deliveries_fail_the_run_and_store_nothing() {
    let harness = Harness::<Argyle>::new().await;
    let url = function_url::serve(harness.pipeline).await;
    let output = load(args(
        "argyle",
        "not-the-secret",
        &url,
        &["--count", "12", "--json"],
    ))
    .await;
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = report(&output);
    assert_eq!(
        report["answers"],
        json!([{"status": "401", "answer": "rejected", "deliveries": 12}])
    );
    assert!(
        stderr(&output).contains("12 deliveries not answered 200 accepted/duplicate"),
        "{}",
        stderr(&output)
    );
    assert!(!stderr(&output).contains("not-the-secret"));
    assert_eq!(harness.resources.item_count().await, 0, "stored");
    assert!(harness.resources.messages().await.is_empty(), "queued");
}

#[tokio::test]
async fn a_url_elsewhere_needs_yes_and_a_run_needs_a_bound() {
    let elsewhere = "https://abc.execute-api.us-east-1.amazonaws.com/webhooks/argyle";
    let output = load(args("argyle", "s", elsewhere, &["--count", "5"])).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains(
            "5 deliveries to abc.execute-api.us-east-1.amazonaws.com, which is not this machine"
        ) && stderr(&output).contains("--yes"),
        "{}",
        stderr(&output)
    );
    let output = load(args("argyle", "s", "http://127.0.0.1:9/", &[])).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--count"), "{}", stderr(&output));
    let output = load(args(
        "argyle",
        "s",
        "http://127.0.0.1:9/",
        &["--count", "1", "--duplicates", "1"],
    ))
    .await;
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    // Nothing listens on port 9: no answer is a failure of the run, named in a word.
    let output = load(args(
        "argyle",
        "s",
        "http://127.0.0.1:9/",
        &["--count", "2"],
    ))
    .await;
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).contains("connection failed"),
        "{}",
        stdout(&output)
    );
}
