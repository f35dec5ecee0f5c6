//! `hookline changes replay` through the built binary, against a stack created from
//! template.yaml on the emulator (scripts/test): change events put on the stack's bus are kept
//! by the stack's archive, and a replay sends them again to one consumer's rule, created after
//! they were sent (so that all it receives is the replay).
//!
//! What the emulator does not do: moto's replay sends every archived event, whatever the window,
//! to every rule of the bus, whatever the filter, at once (AWS sends the window's events, a
//! minute at a time, to the rules named only). So the window and the rule are checked as the
//! replay records them (DescribeReplay), and the delivery by the one rule the test watches.

mod support;

use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use integration_tests::changes::ChangeWatcher;
use integration_tests::Resources;
use serde_json::{json, Value};
use support::{hookline, stderr, stdout};

fn changes(args: &[&str]) -> std::process::Output {
    hookline(&[&["changes", "replay"], args].concat())
}

/// Puts one change event about `resource` on the stack's bus, as the enricher does.
async fn put_change(resources: &Resources, resource: &str, revision: u64) -> Value {
    let detail = json!({
        "provider": "argyle",
        "resource_id": resource,
        "change": "updated",
        "changed_fields": ["first_name"],
        "revision": revision,
        "changed_at": "2026-12-06T10:00:00Z",
    });
    let answer = aws_sdk_eventbridge::Client::new(&resources.sdk)
        .put_events()
        .entries(
            PutEventsRequestEntry::builder()
                .event_bus_name(&resources.event_bus)
                .source("hookline")
                .detail_type("argyle.identity.updated")
                .detail(detail.to_string())
                .build(),
        )
        .send()
        .await
        .expect("put events");
    assert_eq!(answer.failed_entry_count, 0);
    detail
}

#[tokio::test]
async fn a_window_of_change_events_is_sent_again_to_one_rule() {
    let resources = Resources::create(false).await;
    let sent = [
        put_change(&resources, "idn_1", 1).await,
        put_change(&resources, "idn_2", 4).await,
    ];
    let watcher = ChangeWatcher::on(&resources).await;

    // A dry run says what it would do and starts nothing.
    let dry = changes(&[
        "--stack",
        &resources.stack_name,
        "--since",
        "1h",
        "--rule",
        &watcher.rule,
        "--dry-run",
        "--json",
    ]);
    assert_eq!(dry.status.code(), Some(0), "{}", stderr(&dry));
    let report: Value = serde_json::from_slice(&dry.stdout).unwrap();
    assert_eq!(report["dry_run"], true);
    assert!(report["archive_events"].as_i64().unwrap() >= 2, "{report}");
    assert!(report.get("state").is_none());
    assert!(watcher.take().await.is_empty(), "nothing sent by a dry run");

    let output = changes(&[
        "--stack",
        &resources.stack_name,
        "--since",
        "1h",
        "--rule",
        &watcher.rule,
        "--yes",
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["state"], "COMPLETED", "{report}");
    let rule_arn = report["rules"][0]
        .as_str()
        .expect("the rule's ARN")
        .to_string();
    assert!(
        rule_arn.ends_with(&format!("/{}", watcher.rule)),
        "{rule_arn}"
    );

    // The replay as EventBridge recorded it: the window asked for, for that rule only.
    let described = aws_sdk_eventbridge::Client::new(&resources.sdk)
        .describe_replay()
        .replay_name(report["replay"].as_str().unwrap())
        .send()
        .await
        .expect("describe replay");
    let destination = described.destination().expect("a destination");
    assert_eq!(destination.filter_arns(), [rule_arn]);
    assert!(destination
        .arn()
        .ends_with(&format!("event-bus/{}", resources.event_bus)));
    let (since, until) = (
        described.event_start_time().unwrap().secs(),
        described.event_end_time().unwrap().secs(),
    );
    assert_eq!(until - since, 3600, "--since 1h, until now");

    // The rule received them again, as they were sent.
    let mut received: Vec<Value> = watcher
        .take()
        .await
        .into_iter()
        .filter(|event| event.detail_type == "argyle.identity.updated")
        .map(|event| event.detail)
        .collect();
    received.sort_by_key(|detail| detail["revision"].as_u64());
    received.dedup();
    assert_eq!(received, sent);

    // Text for people.
    let text = changes(&[
        "--stack",
        &resources.stack_name,
        "--since",
        "1h",
        "--rule",
        &watcher.rule,
        "--yes",
    ]);
    assert_eq!(text.status.code(), Some(0), "{}", stderr(&text));
    let line = stdout(&text);
    assert!(line.starts_with("replay hookline-"), "{line}");
    assert!(
        line.contains(": COMPLETED (the change events of "),
        "{line}"
    );
    assert!(
        line.contains(&format!("to rule {}", watcher.rule)),
        "{line}"
    );
}

#[tokio::test]
async fn a_window_or_a_rule_that_cannot_be_replayed_is_refused_before_anything_starts() {
    let resources = Resources::create(false).await;
    let future = changes(&[
        "--stack",
        &resources.stack_name,
        "--since",
        "1h",
        "--until",
        "2099-01-01",
        "--yes",
    ]);
    assert_eq!(future.status.code(), Some(2), "{}", stderr(&future));
    assert!(stderr(&future).contains("--until is in the future"));

    let unknown = changes(&[
        "--stack",
        &resources.stack_name,
        "--since",
        "1h",
        "--rule",
        "no-such-rule",
        "--yes",
    ]);
    assert_eq!(unknown.status.code(), Some(1), "{}", stderr(&unknown));
    assert!(
        stderr(&unknown).contains("DescribeRule"),
        "{}",
        stderr(&unknown)
    );

    // No --yes and no terminal: refused before any call.
    let unasked = changes(&["--stack", &resources.stack_name, "--since", "1h"]);
    assert_eq!(unasked.status.code(), Some(2), "{}", stderr(&unasked));
    assert!(
        stderr(&unasked).contains("pass --yes"),
        "{}",
        stderr(&unasked)
    );

    let replays = aws_sdk_eventbridge::Client::new(&resources.sdk)
        .list_replays()
        .send()
        .await
        .expect("list replays");
    assert!(
        !replays.replays().iter().any(|r| r
            .event_source_arn()
            .is_some_and(|arn| arn.contains(&resources.stack_name))),
        "no replay started"
    );
}
