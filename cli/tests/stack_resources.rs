//! An explicit stack wins over a shell's leftovers, through the built
//! binary against two stacks created from template.yaml on the emulator (scripts/test): "prod",
//! named by `--stack`, and "local", whose resources a shell left over from a local run still
//! names in `HISTORY_TABLE`, `EVENTS_QUEUE_URL` and the rest. `forget` and `replay` act on prod
//! alone and say so on stderr before they act (the stack, account, region and each resource);
//! a resource flag that contradicts the stack is refused before anything is sent.

mod support;

use hookline::clock::{rfc3339, unix_now};
use hookline::envelope::ReceivedEnvelope;
use hookline::history::{DynamoDbHistory, HistoryEntry, HistoryStore};
use integration_tests::Resources;
use serde_json::Value;
use std::process::Output;
use support::{json_lines, stderr, stdout};

/// The identity both stacks keep an event about.
const IDENTITY: &str = "idn_stale_shell";

/// Keeps one Argyle event about [`IDENTITY`] in `resources`' history; its event id.
async fn keep_one(resources: &Resources, name: &str) -> String {
    let event_id = format!("argyle#evt_{name}");
    let received_at = unix_now() - 60;
    let body = format!(
        r#"{{"version":1,"event_id":"{event_id}","provider":"argyle","event_type":"identities.added","recognized":true,"received_at":"{}","resource":{{"id":"{IDENTITY}"}},"payload":{{"n":1}}}}"#,
        rfc3339(received_at)
    );
    let envelope = ReceivedEnvelope::parse(&body).expect("an envelope");
    let entry =
        HistoryEntry::of_message(&body, &envelope, received_at + 1, 30 * 86_400).expect("kept");
    DynamoDbHistory::new(resources.dynamodb.clone(), &resources.history_table)
        .keep(&entry)
        .await
        .expect("keep");
    event_id
}

/// The binary with `args`, in a shell whose resource variables all name `local`'s resources.
fn in_stale_shell(local: &Resources, args: &[&str]) -> Output {
    support::command()
        .args(args)
        .env("HISTORY_TABLE", &local.history_table)
        .env("EVENTS_QUEUE_URL", &local.queue_url)
        .env("EVENTS_DLQ_URL", &local.dlq_url)
        .env("IDENTITIES_TABLE", &local.identities_table)
        .env("EVENTS_TABLE", &local.table)
        .env("EVENT_BUS_NAME", &local.event_bus)
        .output()
        .expect("run hookline")
}

/// Asserts stderr holds the resolved block for `verb` on `prod`, naming each of `resources`
/// with the stack output it came from, and none of `local`'s.
fn assert_block(text: &str, verb: &str, prod: &Resources, local: &Resources, resources: &[&str]) {
    let block: Vec<&str> = text
        .lines()
        .skip_while(|line| *line != format!("hookline {verb} acts on:"))
        .collect();
    assert!(!block.is_empty(), "no block for {verb}: {text}");
    let row = |label: &str| {
        block
            .iter()
            .find(|line| line.trim_start().starts_with(label))
            .unwrap_or_else(|| panic!("no {label} row: {text}"))
            .to_string()
    };
    assert!(row("stack").ends_with(&prod.stack_name), "{text}");
    // moto's account, as STS GetCallerIdentity answers it.
    assert!(row("account").ends_with("123456789012"), "{text}");
    let region = prod.sdk.region().expect("a region").to_string();
    assert!(row("region").ends_with(&region), "{text}");
    for resource in resources {
        let _ = row(resource);
    }
    for name in [
        &local.history_table,
        &local.queue_url,
        &local.identities_table,
        &local.table,
        &local.event_bus,
    ] {
        assert!(!text.contains(name.as_str()), "{text}");
    }
}

#[tokio::test]
async fn forget_and_replay_act_on_the_stack_named_not_on_the_shells_leftovers() {
    let prod = Resources::create(false).await;
    let local = Resources::create(false).await;
    let prod_event = keep_one(&prod, "prod").await;
    let local_event = keep_one(&local, "local").await;

    // replay: prod's event to prod's queue; local's queue and history untouched.
    let replayed = in_stale_shell(
        &local,
        &[
            "replay",
            "--stack",
            &prod.stack_name,
            &prod_event,
            "--replay-id",
            "stale-shell",
            "--json",
        ],
    );
    let text = stderr(&replayed);
    assert_eq!(replayed.status.code(), Some(0), "{text}");
    let report: Value = serde_json::from_str(&stdout(&replayed)).expect("stdout: one JSON object");
    assert_eq!(report["sent"], 1, "{report}");
    let sent: Vec<String> = prod
        .messages()
        .await
        .iter()
        .map(|m| m.body["event_id"].as_str().expect("event_id").to_string())
        .collect();
    assert_eq!(sent, std::slice::from_ref(&prod_event));
    assert!(
        local.messages().await.is_empty(),
        "sent to the shell's queue"
    );
    assert!(
        text.contains("ignoring HISTORY_TABLE, EVENTS_QUEUE_URL from the environment"),
        "{text}"
    );
    assert_block(
        &text,
        "replay",
        &prod,
        &local,
        &["history table", "events queue URL"],
    );
    let block_at = text.find("hookline replay acts on:").expect("the block");
    let sending_at = text.find("replay stale-shell").expect("the replay's line");
    assert!(block_at < sending_at, "the block comes first: {text}");

    // forget: prod's history item erased, local's kept; the JSON on stdout alone.
    let forgot = in_stale_shell(
        &local,
        &[
            "forget",
            "--stack",
            &prod.stack_name,
            "argyle",
            IDENTITY,
            "--yes",
            "--json",
        ],
    );
    let text = stderr(&forgot);
    assert_eq!(forgot.status.code(), Some(0), "{text}");
    let summary = json_lines(&stdout(&forgot)).pop().expect("a summary line");
    assert_eq!(summary["history_items"], 1, "{summary}");
    assert!(
        prod.history_items(&prod_event).await.is_empty(),
        "prod's kept"
    );
    assert_eq!(
        local.history_items(&local_event).await.len(),
        1,
        "local's erased"
    );
    assert!(
        text.contains(
            "ignoring IDENTITIES_TABLE, HISTORY_TABLE, EVENTS_TABLE, EVENTS_QUEUE_URL, \
             EVENTS_DLQ_URL, EVENT_BUS_NAME from the environment"
        ),
        "{text}"
    );
    assert_block(
        &text,
        "forget",
        &prod,
        &local,
        &[
            "identities table",
            "history table",
            "events table",
            "events queue URL",
            "dead-letter queue URL",
            "change event bus",
        ],
    );
}

#[tokio::test]
async fn a_queue_url_that_contradicts_the_stack_is_refused_and_nothing_is_sent() {
    let prod = Resources::create(false).await;
    let local = Resources::create(false).await;
    let prod_event = keep_one(&prod, "prod").await;

    let refused = support::hookline(&[
        "replay",
        "--stack",
        &prod.stack_name,
        "--queue-url",
        &local.queue_url,
        &prod_event,
        "--replay-id",
        "contradicted",
    ]);
    let text = stderr(&refused);
    assert_eq!(refused.status.code(), Some(2), "{text}");
    assert!(
        text.starts_with(&format!(
            "hookline: --queue-url {} is not stack",
            local.queue_url
        )) && text.contains(&prod.queue_url)
            && text.contains("nothing was done")
            && text.lines().count() == 1,
        "{text}"
    );
    assert_eq!(stdout(&refused), "");
    assert!(prod.messages().await.is_empty());
    assert!(local.messages().await.is_empty());
    let items = prod.history_items(&prod_event).await;
    assert!(!items[0].contains_key("replays"), "{items:?}");

    // The same URL as the stack's own is no contradiction.
    let agreeing = support::hookline(&[
        "replay",
        "--stack",
        &prod.stack_name,
        "--queue-url",
        &prod.queue_url,
        &prod_event,
        "--replay-id",
        "agreeing",
    ]);
    assert_eq!(agreeing.status.code(), Some(0), "{}", stderr(&agreeing));
    assert_eq!(prod.messages().await.len(), 1);
    assert!(local.messages().await.is_empty());
}
