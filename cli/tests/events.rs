//! `hookline events list|get` through the built binary, against a stack created from
//! template.yaml on the emulator (scripts/test), its history filled with the product's own
//! adapter: a listing returns exactly the occurrences in range, bounds included.

mod support;

use hookline::clock::{rfc3339, unix_now};
use hookline::envelope::ReceivedEnvelope;
use hookline::history::{DynamoDbHistory, HistoryEntry, HistoryStore};
use integration_tests::Resources;
use serde_json::Value;
use std::process::Output;
use support::{hookline, stderr, stdout};

const RETENTION: u64 = 30 * 86_400;

/// A message body as a webhook function writes it (envelope fields in its order, the
/// provider's payload last), kept as the enricher keeps it.
fn entry(
    provider: &str,
    event_id: &str,
    event_type: &str,
    resource: &str,
    received_at: i64,
) -> HistoryEntry {
    let body = format!(
        r#"{{"version":1,"event_id":"{event_id}","provider":"{provider}","event_type":"{event_type}","recognized":true,"received_at":"{}","resource":{{"id":"{resource}"}},"payload":{{"event":"{event_type}","data":{{"id":"{resource}"}}}}}}"#,
        rfc3339(received_at)
    );
    let envelope = ReceivedEnvelope::parse(&body).expect("an envelope");
    HistoryEntry::of_message(&body, &envelope, received_at + 2, RETENTION).expect("kept")
}

async fn keep(resources: &Resources, entries: &[HistoryEntry]) {
    let history = DynamoDbHistory::new(resources.dynamodb.clone(), &resources.history_table);
    for entry in entries {
        history.keep(entry).await.expect("keep");
    }
}

fn json_lines(output: &Output) -> Vec<Value> {
    support::json_lines(&stdout(output))
}

fn event_ids(lines: &[Value]) -> Vec<&str> {
    lines
        .iter()
        .map(|l| l["event_id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_listing_returns_exactly_the_providers_events_in_range() {
    let resources = Resources::create(false).await;
    let base = unix_now() - 3_600;
    keep(
        &resources,
        &[
            entry(
                "argyle",
                "argyle#before",
                "identities.added",
                "idn_a",
                base - 1,
            ),
            entry("argyle", "argyle#first", "identities.added", "idn_a", base),
            entry(
                "argyle",
                "argyle#second",
                "identities.updated",
                "idn_b",
                base + 60,
            ),
            entry(
                "clearid",
                "clearid#other",
                "identity.updated",
                "idn_a",
                base + 60,
            ),
            entry(
                "argyle",
                "argyle#third",
                "identities.updated",
                "idn_a",
                base + 120,
            ),
            entry(
                "argyle",
                "argyle#last",
                "identities.added",
                "idn_b",
                base + 180,
            ),
            entry(
                "argyle",
                "argyle#after",
                "identities.added",
                "idn_a",
                base + 181,
            ),
        ],
    )
    .await;
    let (since, until) = (rfc3339(base), rfc3339(base + 180));
    let stack = resources.stack_name.as_str();
    let list = |extra: &[&str]| {
        let mut args = vec!["events", "list", "--stack", stack, "--provider", "argyle"];
        args.extend(["--since", &since, "--until", &until, "--json"]);
        args.extend(extra);
        let output = hookline(&args);
        assert!(output.status.success(), "{}", stderr(&output));
        json_lines(&output)
    };

    let all = list(&[]);
    assert_eq!(
        event_ids(&all),
        [
            "argyle#first",
            "argyle#second",
            "argyle#third",
            "argyle#last"
        ]
    );
    assert_eq!(all[0]["received_at"], rfc3339(base));
    assert_eq!(all[0]["event_type"], "identities.added");
    assert_eq!(all[0]["resource_id"], "idn_a");
    assert_eq!(
        event_ids(&list(&["--type", "identities.updated"])),
        ["argyle#second", "argyle#third"]
    );
    assert_eq!(
        event_ids(&list(&["--resource", "idn_a"])),
        ["argyle#first", "argyle#third"]
    );
    assert_eq!(
        event_ids(&list(&[
            "--resource",
            "idn_b",
            "--type",
            "identities.added"
        ])),
        ["argyle#last"]
    );

    // The table, and the same range named by the table instead of the stack.
    let output = hookline(&[
        "events",
        "list",
        "--table",
        &resources.history_table,
        "--provider",
        "argyle",
        "--since",
        &since,
        "--until",
        &until,
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 6, "{text}");
    assert!(lines[0].starts_with("RECEIVED AT"), "{text}");
    assert!(
        lines[1].starts_with(&format!("{since}  argyle#first ")),
        "{text}"
    );
    assert_eq!(
        lines[5],
        format!("4 argyle events received {since} to {until}")
    );
}

#[tokio::test]
async fn get_shows_every_occurrence_and_an_unknown_id_is_a_failure() {
    let resources = Resources::create(false).await;
    let base = unix_now() - 600;
    let first = entry("argyle", "argyle#twice", "identities.added", "idn_a", base);
    let second = entry(
        "argyle",
        "argyle#twice",
        "identities.added",
        "idn_a",
        base + 30,
    );
    keep(&resources, &[first.clone(), second]).await;
    let stack = resources.stack_name.as_str();

    let output = hookline(&["events", "get", "--stack", stack, "argyle#twice", "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lines = json_lines(&output);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["received_at"], rfc3339(base));
    assert_eq!(lines[1]["received_at"], rfc3339(base + 30));
    assert_eq!(lines[0]["kept_at"], rfc3339(base + 2));
    assert_eq!(lines[0]["expires_at"], rfc3339(base + RETENTION as i64));
    assert_eq!(lines[0]["replays"], Value::Array(vec![]));
    let body: Value = serde_json::from_str(&first.body).unwrap();
    assert_eq!(lines[0]["message"], body);

    let output = hookline(&["events", "get", "--stack", stack, "argyle#twice"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert_eq!(
        text.matches("event     argyle#twice\n").count(),
        2,
        "{text}"
    );
    assert!(text.contains("replays   (none)\n"), "{text}");
    // The message as kept, byte for byte (what a replay sends), not re-serialized.
    assert!(text.contains(&format!("\n{}\n", first.body)), "{text}");
    let raw = stdout(&hookline(&[
        "events",
        "get",
        "--stack",
        stack,
        "argyle#twice",
        "--json",
    ]));
    assert!(
        raw.lines()
            .next()
            .unwrap()
            .ends_with(&format!(",\"message\":{}}}", first.body)),
        "{raw}"
    );

    // Output into a pipe its reader has closed (`| head -1`): no panic, no message.
    let mut child = support::command()
        .args(["events", "get", "--stack", stack, "argyle#twice"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let closed = child.wait_with_output().unwrap();
    assert!(stderr(&closed).is_empty(), "{}", stderr(&closed));

    let output = hookline(&["events", "get", "--stack", stack, "argyle#never"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output).trim_end(),
        "hookline: no event \"argyle#never\" in the history (it expired after the retention, \
         or was never accepted)"
    );
    assert!(stdout(&output).is_empty());
}

#[test]
fn without_a_table_or_a_stack_it_is_a_usage_error_naming_both() {
    let output = hookline(&["events", "get", "argyle#x", "--region", "us-east-1"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("--table (or set HISTORY_TABLE)"),
        "{message}"
    );
    assert!(
        message.contains("--stack (or set HOOKLINE_STACK)"),
        "{message}"
    );

    let args = ["events", "list", "--table", "t", "--provider", "argyle"];
    let output = hookline(&[&args[..], &["--since", "1h", "--until", "2h"]].concat());
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("is after --until"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn an_unreachable_endpoint_is_one_line_without_the_sdks_debug_dump() {
    let output = support::command()
        .args(["events", "list", "--provider", "argyle", "--since", "1h"])
        .args(["--table", "hookline-history", "--region", "us-east-1"])
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_ACCESS_KEY_ID", "x")
        .env("AWS_SECRET_ACCESS_KEY", "y")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(
        message.starts_with("hookline: history: Query (range) failed: dispatch failure"),
        "{message}"
    );
    assert!(message.contains("Connection refused"), "{message}");
    assert!(!message.contains("DispatchFailure("), "{message}");
}
