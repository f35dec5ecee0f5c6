//! `hookline replay` through the built binary, against a stack created from template.yaml on
//! the emulator (scripts/test), its history filled with the product's own adapter: what lands
//! in the events queue, once each, and what the history records of it.

mod support;

use hookline::clock::{rfc3339, unix_now};
use hookline::envelope::ReceivedEnvelope;
use hookline::history::{DynamoDbHistory, HistoryEntry, HistoryStore};
use integration_tests::{Message, Resources};
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Output;
use support::{stderr, stdout};

/// `hookline replay ARGS...`.
fn hookline(args: &[&str]) -> Output {
    support::hookline(&[&["replay"], args].concat())
}

/// The provider's payload of event `index`: spacing, escapes and a decimal that a re-serialized
/// copy would not keep.
fn payload(index: usize) -> String {
    format!(r#"{{ "event": "identities.added", "n": {index}.50, "name": "Ren\u00e9e" }}"#)
}

/// Argyle event `index`, received at `received_at`, kept as the enricher keeps it.
fn entry(index: usize, received_at: i64) -> HistoryEntry {
    let body = format!(
        r#"{{"version":1,"event_id":"argyle#evt_{index:03}","provider":"argyle","event_type":"identities.added","recognized":true,"received_at":"{}","resource":{{"id":"idn_{}"}},"payload":{}}}"#,
        rfc3339(received_at),
        index % 3,
        payload(index)
    );
    let envelope = ReceivedEnvelope::parse(&body).expect("an envelope");
    HistoryEntry::of_message(&body, &envelope, received_at + 1, 30 * 86_400).expect("kept")
}

/// Keeps `count` events a second apart from `base`, and returns them.
async fn keep(resources: &Resources, base: i64, count: usize) -> Vec<HistoryEntry> {
    let history = DynamoDbHistory::new(resources.dynamodb.clone(), &resources.history_table);
    let mut entries = Vec::new();
    for index in 0..count {
        let entry = entry(index, base + index as i64);
        history.keep(&entry).await.expect("keep");
        entries.push(entry);
    }
    entries
}

fn event_id(message: &Message) -> String {
    message.body["event_id"].as_str().unwrap().to_string()
}

/// The replays the history records for an event's one occurrence.
async fn replays(resources: &Resources, event_id: &str) -> Vec<String> {
    let items = resources.history_items(event_id).await;
    assert_eq!(items.len(), 1, "{event_id}");
    let mut replays = items[0]
        .get("replays")
        .and_then(|v| v.as_ss().ok())
        .cloned()
        .unwrap_or_default();
    replays.sort();
    replays
}

/// `--provider argyle` from `since` to `until`, as replay arguments.
fn range(since: i64, until: i64) -> Vec<String> {
    [
        "--provider",
        "argyle",
        "--since",
        &rfc3339(since),
        "--until",
        &rfc3339(until),
    ]
    .map(String::from)
    .to_vec()
}

fn args<'a>(fixed: &[&'a str], range: &'a [String]) -> Vec<&'a str> {
    let mut args = fixed.to_vec();
    args.extend(range.iter().map(String::as_str));
    args
}

#[tokio::test]
async fn a_range_is_sent_once_each_marked_as_the_replay_payload_untouched() {
    let resources = Resources::create(true).await;
    let base = unix_now() - 3_600;
    let entries = keep(&resources, base, 7).await;
    // The last one is outside the range.
    let range = range(base, base + 5);
    let stack = resources.stack_name.as_str();
    let output = hookline(&args(
        &[
            "--stack",
            stack,
            "--replay-id",
            "r-range",
            "--rate",
            "50",
            "--yes",
            "--json",
        ],
        &range,
    ));
    assert!(output.status.success(), "{}", stderr(&output));
    let outcome: Value = serde_json::from_str(stdout(&output).trim()).expect("one JSON object");
    assert_eq!(outcome["sent"], 6);
    assert_eq!(outcome["already_sent"], 0);
    assert_eq!(outcome["no_longer_kept"], 0);
    assert!(
        stderr(&output).contains("replay r-range "),
        "{}",
        stderr(&output)
    );

    let messages = resources.messages().await;
    let mut sent: BTreeMap<String, &Message> = BTreeMap::new();
    for message in &messages {
        assert!(
            sent.insert(event_id(message), message).is_none(),
            "sent twice"
        );
    }
    assert_eq!(sent.len(), 6);
    for (index, entry) in entries.iter().enumerate().take(6) {
        let message = sent[&entry.summary.event_id];
        assert_eq!(message.attributes["replay_id"], "r-range");
        assert_eq!(message.attributes["provider"], "argyle");
        assert_eq!(message.attributes["event_type"], "identities.added");
        let envelope = ReceivedEnvelope::parse(&message.text).expect("an envelope");
        assert_eq!(envelope.replay.expect("marked").id, "r-range");
        assert_eq!(envelope.received_at, rfc3339(base + index as i64));
        assert!(
            message
                .text
                .ends_with(&format!(",\"payload\":{}}}", payload(index))),
            "{}",
            message.text
        );
        assert_eq!(
            replays(&resources, &entry.summary.event_id).await,
            ["r-range"]
        );
    }
    assert!(replays(&resources, "argyle#evt_006").await.is_empty());
}

#[tokio::test]
async fn a_limited_run_resumed_with_its_replay_id_sends_the_rest_and_nothing_twice() {
    let resources = Resources::create(false).await;
    let base = unix_now() - 3_600;
    keep(&resources, base, 8).await;
    let range = range(base, base + 7);
    let stack = resources.stack_name.as_str();
    let run = |extra: &[&str]| {
        let mut fixed = vec![
            "--stack",
            stack,
            "--replay-id",
            "r-half",
            "--rate",
            "50",
            "--yes",
        ];
        fixed.extend(extra);
        let output = hookline(&args(&fixed, &range));
        assert!(output.status.success(), "{}", stderr(&output));
        stdout(&output)
    };

    assert_eq!(
        run(&["--limit", "4"]).trim_end(),
        "replay r-half: sent 4, already sent 0, no longer kept 0 (4 more left by --limit: run \
         again with --replay-id r-half)"
    );
    let first: Vec<String> = resources.messages().await.iter().map(event_id).collect();
    let expected: Vec<String> = (0..8).map(|i| format!("argyle#evt_{i:03}")).collect();
    assert_eq!(sorted(first.clone()), expected[..4], "oldest first");

    assert_eq!(
        run(&[]).trim_end(),
        "replay r-half: sent 4, already sent 4, no longer kept 0"
    );
    let rest: Vec<String> = resources.messages().await.iter().map(event_id).collect();
    assert_eq!(sorted(rest), expected[4..]);

    assert_eq!(
        run(&[]).trim_end(),
        "replay r-half: sent 0, already sent 8, no longer kept 0"
    );
    assert!(resources.messages().await.is_empty());
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

#[tokio::test]
async fn a_dry_run_lists_what_would_be_sent_and_sends_nothing() {
    let resources = Resources::create(false).await;
    let base = unix_now() - 3_600;
    keep(&resources, base, 3).await;
    let range = range(base, base + 10);
    let output = hookline(&args(
        &[
            "--stack",
            &resources.stack_name,
            "--replay-id",
            "r-dry",
            "--dry-run",
        ],
        &range,
    ));
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert!(lines[1].contains("argyle#evt_000"), "{text}");
    assert_eq!(
        lines[4],
        "replay r-dry: would send 3, already sent 0, no longer kept 0"
    );
    assert!(resources.messages().await.is_empty());
    assert!(replays(&resources, "argyle#evt_000").await.is_empty());
}

#[tokio::test]
async fn a_range_without_yes_off_a_terminal_is_refused_before_anything_is_sent() {
    let resources = Resources::create(false).await;
    let base = unix_now() - 3_600;
    keep(&resources, base, 501).await;
    let range = range(base, base + 600);
    let output = hookline(&args(&["--stack", &resources.stack_name], &range));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(
            "sends every kept event in the range to the events queue \
                                  again: pass --yes"
        ),
        "{}",
        stderr(&output)
    );
    assert!(resources.messages().await.is_empty());
    assert!(replays(&resources, "argyle#evt_000").await.is_empty());
}

#[tokio::test]
async fn ids_by_table_and_queue_url_and_an_unknown_id_fails_before_any_send() {
    let resources = Resources::create(false).await;
    let base = unix_now() - 3_600;
    let history = DynamoDbHistory::new(resources.dynamodb.clone(), &resources.history_table);
    keep(&resources, base, 2).await;
    // A later occurrence of the first event: the one an id replays.
    let later = entry(0, base + 300);
    history.keep(&later).await.expect("keep");
    let named = [
        "--table",
        resources.history_table.as_str(),
        "--queue-url",
        resources.queue_url.as_str(),
        "--region",
        "us-east-1",
    ];

    let output = hookline(&[&named[..], &["argyle#evt_000", "argyle#nope"]].concat());
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("no event \"argyle#nope\" in the history"),
        "{}",
        stderr(&output)
    );
    assert!(resources.messages().await.is_empty());

    let output = hookline(&[&named[..], &["argyle#evt_000", "argyle#evt_001"]].concat());
    assert!(output.status.success(), "{}", stderr(&output));
    let replay_id = stdout(&output)
        .strip_prefix("replay ")
        .and_then(|rest| rest.split_once(':'))
        .map(|(id, _)| id.to_string())
        .expect("the closing line names the replay");
    assert!(replay_id.starts_with("replay-"), "{replay_id}");
    assert!(
        stdout(&output).ends_with(": sent 2, already sent 0, no longer kept 0\n"),
        "{}",
        stdout(&output)
    );
    let messages = resources.messages().await;
    assert_eq!(messages.len(), 2);
    let first = messages
        .iter()
        .find(|m| event_id(m) == "argyle#evt_000")
        .expect("sent");
    let envelope = ReceivedEnvelope::parse(&first.text).unwrap();
    assert_eq!(
        envelope.received_at,
        rfc3339(base + 300),
        "the latest occurrence"
    );
    assert_eq!(first.attributes["replay_id"], replay_id);
}
