//! `hookline dlq list|show|drop` against stacks created from template.yaml on the emulator
//! (scripts/test): messages put in the stack's dead-letter queue by the product's own queue
//! adapter, looked at and dropped one by one by the built binary.

mod support;

use aws_sdk_sqs::types::QueueAttributeName;
use hookline::envelope::QueueMessage;
use hookline::queue::{EventQueue, SqsEventQueue};
use integration_tests::Resources;
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Command, Output, Stdio};
use support::{json_lines, stderr, stdout};

fn dlq(args: &[&str]) -> Output {
    support::hookline(&[&["dlq"], args].concat())
}

/// A message as a webhook function sends it, to the dead-letter queue.
async fn send(resources: &Resources, count: usize) -> Vec<QueueMessage> {
    let queue = SqsEventQueue::new(resources.sqs.clone(), &resources.dlq_url);
    let mut sent = Vec::new();
    for index in 0..count {
        let message = support::argyle_message(
            format!("argyle#dlq-{index}"),
            index,
            format!("identity-{index}"),
            None,
        );
        queue.send(&message).await.expect("send");
        sent.push(message);
    }
    sent
}

/// The dead-letter queue's visible and in-flight counts (exact on the emulator): every message
/// a verb received must be visible again when it ends.
async fn counts(resources: &Resources) -> (u64, u64) {
    let count = |name| async move {
        resources
            .queue_attribute(&resources.dlq_url, name)
            .await
            .expect("a count")
            .parse::<u64>()
            .unwrap()
    };
    (
        count(QueueAttributeName::ApproximateNumberOfMessages).await,
        count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible).await,
    )
}

/// `dlq list --json`: each message's line, by event id.
fn listed(resources: &Resources) -> Vec<Value> {
    let output = dlq(&["list", "--stack", &resources.stack_name, "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    json_lines(&stdout(&output))
}

fn event_ids(lines: &[Value]) -> BTreeSet<String> {
    lines
        .iter()
        .map(|line| line["event_id"].as_str().expect("an event id").to_string())
        .collect()
}

fn sent_ids(sent: &[QueueMessage]) -> BTreeSet<String> {
    sent.iter().map(|m| m.event_id.clone()).collect()
}

/// The message id `list` gives the message of `event_id`.
fn message_id_of(lines: &[Value], event_id: &str) -> String {
    lines
        .iter()
        .find(|line| line["event_id"] == event_id)
        .and_then(|line| line["message_id"].as_str())
        .expect("listed")
        .to_string()
}

#[tokio::test]
async fn list_names_every_message_once_and_leaves_them_all_visible() {
    let resources = Resources::create(false).await;
    // More than one receive's worth (10).
    let sent = send(&resources, 13).await;

    let lines = listed(&resources);
    assert_eq!(lines.len(), 13, "each message once");
    assert_eq!(event_ids(&lines), sent_ids(&sent));
    for line in &lines {
        assert_eq!(line["provider"], "argyle", "{line}");
        assert_eq!(line["event_type"], "identities.added", "{line}");
        assert_eq!(line["receives"], 1, "this list's own receive: {line}");
        assert!(line["sent_at"].as_str().unwrap().ends_with('Z'), "{line}");
        assert!(
            line.get("body").is_none(),
            "no payload in a listing: {line}"
        );
    }
    assert_eq!(counts(&resources).await, (13, 0), "all visible again");

    let table = dlq(&["list", "--stack", &resources.stack_name]);
    assert_eq!(table.status.code(), Some(0), "{}", stderr(&table));
    let text = stdout(&table);
    assert!(text.starts_with("MESSAGE ID "), "{text}");
    assert_eq!(text.lines().count(), 14, "a heading and 13 rows: {text}");
    assert!(!text.contains("payload"), "{text}");

    let limited = dlq(&[
        "list",
        "--stack",
        &resources.stack_name,
        "--json",
        "--limit",
        "3",
    ]);
    assert_eq!(json_lines(&stdout(&limited)).len(), 3);
    assert_eq!(counts(&resources).await, (13, 0));
}

#[tokio::test]
async fn show_prints_one_message_whole() {
    let resources = Resources::create(false).await;
    let sent = send(&resources, 4).await;
    let id = message_id_of(&listed(&resources), &sent[2].event_id);

    let output = dlq(&["show", "--stack", &resources.stack_name, &id, "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let shown: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(shown["message_id"], id.as_str());
    assert_eq!(
        shown["body"],
        serde_json::from_str::<Value>(&sent[2].body).unwrap(),
        "the message's body, whole"
    );
    assert_eq!(shown["attributes"]["provider"], "argyle");
    assert_eq!(shown["attributes"]["event_type"], "identities.added");

    let text = dlq(&["show", "--stack", &resources.stack_name, &id]);
    assert_eq!(text.status.code(), Some(0), "{}", stderr(&text));
    let text = stdout(&text);
    assert!(
        text.contains(&format!("event_id    {}", sent[2].event_id)),
        "{text}"
    );
    assert!(text.contains("\"n\": 2"), "the body pretty-printed: {text}");
    assert_eq!(counts(&resources).await, (4, 0), "nothing taken");

    let missing = dlq(&["show", "--stack", &resources.stack_name, "no-such-id"]);
    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(stdout(&missing), "");
    assert_eq!(counts(&resources).await, (4, 0));
}

#[tokio::test]
async fn drop_deletes_exactly_one_message_and_leaves_the_others_visible() {
    let resources = Resources::create(false).await;
    let sent = send(&resources, 12).await;
    let dropped = &sent[7];
    let id = message_id_of(&listed(&resources), &dropped.event_id);

    // A dry run finds it and keeps it.
    let dry = dlq(&["drop", "--stack", &resources.stack_name, &id, "--dry-run"]);
    assert_eq!(dry.status.code(), Some(0), "{}", stderr(&dry));
    assert_eq!(
        stdout(&dry),
        format!(
            "would drop message {id} (argyle identities.added, event {}) (dry run; it stays in \
             the dead-letter queue)\n",
            dropped.event_id
        )
    );
    assert_eq!(counts(&resources).await, (12, 0));

    // Not at a terminal and no --yes: refused before anything is received.
    let unconfirmed = dlq(&["drop", "--stack", &resources.stack_name, &id]);
    assert_eq!(unconfirmed.status.code(), Some(2));
    assert!(
        stderr(&unconfirmed).contains("pass --yes"),
        "{}",
        stderr(&unconfirmed)
    );
    assert_eq!(counts(&resources).await, (12, 0));

    let output = dlq(&[
        "drop",
        "--stack",
        &resources.stack_name,
        &id,
        "--yes",
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["message_id"], id.as_str());
    assert_eq!(report["event_id"], dropped.event_id.as_str());
    assert_eq!(
        (&report["dropped"], &report["dry_run"]),
        (&true.into(), &false.into())
    );

    // The other eleven, each once, visible at once (not after the receive's timeout).
    assert_eq!(counts(&resources).await, (11, 0));
    let mut others = sent_ids(&sent);
    others.remove(&dropped.event_id);
    assert_eq!(event_ids(&listed(&resources)), others);
}

#[tokio::test]
async fn a_wrong_id_exits_1_and_deletes_nothing() {
    let resources = Resources::create(false).await;
    let sent = send(&resources, 3).await;

    let output = dlq(&[
        "drop",
        "--stack",
        &resources.stack_name,
        "no-such-id",
        "--yes",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), "");
    // Where the drop would act, then why it did not.
    let text = stderr(&output);
    assert!(
        text.starts_with("hookline dlq drop acts on:\n")
            && text.ends_with(
                "\nhookline: no message no-such-id in the dead-letter queue (looked at 3; \
                 nothing was deleted): `hookline dlq list` names the messages\n"
            ),
        "{text}"
    );
    assert_eq!(counts(&resources).await, (3, 0));
    assert_eq!(event_ids(&listed(&resources)), sent_ids(&sent));
}

/// `hookline ARGS...` at a terminal (util-linux `script` gives it one) that types `answer`;
/// the terminal's text, prompts and echo included, is the output's stdout.
fn at_a_terminal(args: &[&str], answer: &str) -> Output {
    let hookline = support::command();
    let mut script = Command::new("script");
    for (name, value) in hookline.get_envs() {
        match value {
            Some(value) => script.env(name, value),
            None => script.env_remove(name),
        };
    }
    let line = [&[support::BIN], args].concat().join(" ");
    let mut child = script
        .args(["-qec", &line, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script from util-linux");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(answer.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn at_a_terminal_drop_asks_and_only_yes_deletes() {
    let resources = Resources::create(false).await;
    let sent = send(&resources, 3).await;
    let id = message_id_of(&listed(&resources), &sent[1].event_id);
    let drop = ["dlq", "drop", "--stack", &resources.stack_name, &id];
    let prompt = format!(
        "drop deletes dead-letter message {id} (argyle identities.added, event {}) for good. \
         Go ahead? [y/N, within 55 s]",
        sent[1].event_id
    );

    let no = at_a_terminal(&drop, "n\n");
    let text = stdout(&no);
    assert_eq!(no.status.code(), Some(2), "{text}");
    assert!(text.contains(&prompt), "{text}");
    assert!(text.contains("nothing was deleted"), "{text}");
    assert_eq!(counts(&resources).await, (3, 0));

    let yes = at_a_terminal(&drop, "y\n");
    let text = stdout(&yes);
    assert_eq!(yes.status.code(), Some(0), "{text}");
    assert!(text.contains(&prompt), "{text}");
    assert!(text.contains(&format!("dropped message {id} ")), "{text}");
    assert_eq!(counts(&resources).await, (2, 0));
    let mut others = sent_ids(&sent);
    others.remove(&sent[1].event_id);
    assert_eq!(event_ids(&listed(&resources)), others);
}

#[tokio::test]
async fn a_fifo_dead_letter_queue_is_listed_and_dropped_from_alike() {
    let resources = Resources::create(true).await;
    // One message group each (one resource each), more than one receive's worth.
    let sent = send(&resources, 12).await;

    let lines = listed(&resources);
    assert_eq!(event_ids(&lines), sent_ids(&sent));
    for line in &lines {
        let index = line["event_id"]
            .as_str()
            .unwrap()
            .trim_start_matches("argyle#dlq-");
        assert_eq!(line["group"], format!("identity-{index}"), "{line}");
    }
    assert_eq!(counts(&resources).await, (12, 0));

    let id = message_id_of(&lines, &sent[11].event_id);
    let output = dlq(&["drop", "--stack", &resources.stack_name, &id, "--yes"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(counts(&resources).await, (11, 0));
    let mut others = sent_ids(&sent);
    others.remove(&sent[11].event_id);
    assert_eq!(event_ids(&listed(&resources)), others);
}

#[test]
fn a_queue_arn_is_refused_before_any_call() {
    let output = dlq(&[
        "list",
        "--dlq-url",
        "arn:aws:sqs:eu-west-1:123456789012:dlq",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("is an ARN, not a URL"),
        "{}",
        stderr(&output)
    );
}
