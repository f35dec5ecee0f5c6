//! `hookline sign --check --url` through the built binary against each provider's real
//! pipeline on the emulator (a template stack's table and queue, scripts/test), served as a
//! function URL on this machine, then the enricher as deployed with no API credentials at all:
//! the check is accepted and queued like any delivery, and once enriched leaves no identity, no
//! history, no change event and nothing in either queue. And `--event-type` against a ClearID
//! URL that already says `?event=`.

mod support;

use hookline::enrich::config::credential_names;
use hookline::provider::Sample as _;
use hookline::providers::ClearId;
use hookline::Provider as _;
use integration_tests::changes::ChangeWatcher;
use integration_tests::enricher::enricher_with;
use integration_tests::{Harness, Resources, Sample};
use serde_json::Value;
use std::process::Output;
use support::{command, function_url, stderr, stdout};

/// `hookline sign ARGS...` off the test's runtime threads (the server answers on them).
async fn sign(secret: &str, args: Vec<String>) -> Output {
    let secret = secret.to_string();
    tokio::task::spawn_blocking(move || {
        command()
            .arg("sign")
            .args(args)
            .env("HOOKLINE_SECRET", secret)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|a| a.to_string()).collect()
}

/// A check of provider `S` sent with `hookline sign --check`, enriched with no credentials:
/// answered 200, queued once, taken by the enricher without failing, nothing left anywhere.
async fn a_check_leaves_nothing<S: Sample>(provider: &str, options: &[&str]) {
    let harness = Harness::<S>::new().await;
    let resources = &harness.resources;
    let changes = ChangeWatcher::on(resources).await;
    let url = function_url::serve(harness.pipeline).await;
    let url = match S::QUERY {
        [] => url,
        query => format!(
            "{url}?{}",
            query
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("&")
        ),
    };
    let output = sign(
        S::SECRETS[1],
        args(
            &[
                &["--provider", provider, "--check", "--url", &url][..],
                options,
            ]
            .concat(),
        ),
    )
    .await;
    assert!(
        output.status.success(),
        "{provider}: {}{}",
        stdout(&output),
        stderr(&output)
    );
    assert!(
        stdout(&output).starts_with("200 "),
        "{provider}: {}",
        stdout(&output)
    );
    // The function handled it as any delivery: its claim stored, one message queued.
    assert_eq!(resources.item_count().await, 1, "{provider}: claimed once");
    let event = resources.receive_event(30).await;
    assert_eq!(event.records.len(), 1, "{provider}: queued once");
    let body: Value = serde_json::from_str(event.records[0].body.as_deref().unwrap()).unwrap();
    let event_id = body["event_id"].as_str().unwrap();

    // No provider's API credentials, as right after a deploy (an empty value is none).
    let none: Vec<(&str, String)> = credential_names()
        .into_iter()
        .map(|name| (name, String::new()))
        .collect();
    let enricher = enricher_with(resources, "http://127.0.0.1:9", &none).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let response = enricher.handle_batch(&event, deadline).await;
    assert!(
        response.batch_item_failures.is_empty(),
        "{provider}: the check failed enrichment"
    );
    resources.settle(&event, &response).await;

    assert!(
        resources.messages().await.is_empty(),
        "{provider}: deleted, not retried"
    );
    assert!(
        resources.messages_of(&resources.dlq_url).await.is_empty(),
        "{provider}: nothing dead-lettered"
    );
    assert!(
        resources.identity_items().await.is_empty(),
        "{provider}: no identity"
    );
    assert!(
        resources.history_items(event_id).await.is_empty(),
        "{provider}: no history"
    );
    assert!(
        changes.take().await.is_empty(),
        "{provider}: no change event"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registration_check_of_every_provider_leaves_nothing_behind() {
    hookline::for_each_provider!(|P| {
        let flags = support::option_flags::<P>();
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        a_check_leaves_nothing::<P>(P::NAME, &flags).await
    });
}

/// The event type of the one message a ClearID delivery queued, taken off the queue.
async fn queued_event_type(resources: &Resources) -> String {
    let queued = resources.messages().await;
    assert_eq!(queued.len(), 1);
    let body: &Value = &queued[0].body;
    body["event_type"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clearid_event_type_against_a_url_that_says_another_is_refused() {
    let Harness {
        resources,
        pipeline,
    } = Harness::<ClearId>::new().await;
    let url = function_url::serve(pipeline).await;
    let secret = ClearId::SECRETS[1];
    let deleted = format!("{url}?event=identity.deleted");
    let check = |url: &str, event_type: &str| {
        args(&[
            "--provider",
            "clearid",
            "--check",
            "--url",
            url,
            "--event-type",
            event_type,
        ])
    };

    let refused = sign(secret, check(&deleted, "identity.updated")).await;
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert_eq!(
        stderr(&refused),
        "hookline: the URL says event=identity.deleted, which the function reads, not \
         identity.updated: send to that event type's URL (hookline urls) or leave --event-type out\n"
    );
    assert_eq!(resources.item_count().await, 0, "nothing sent");

    // The same type (as the function reads it) is sent once, as the URL says.
    let agreed = sign(secret, check(&deleted, "Identity.Deleted")).await;
    assert!(agreed.status.success(), "{}", stderr(&agreed));
    assert_eq!(queued_event_type(&resources).await, "identity.deleted");

    // A URL without a type takes the one given.
    let given = sign(secret, check(&url, "identity.updated")).await;
    assert!(given.status.success(), "{}", stderr(&given));
    assert_eq!(queued_event_type(&resources).await, "identity.updated");
}
