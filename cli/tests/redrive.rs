//! `hookline redrive` against stacks created from template.yaml on the emulator (scripts/test):
//! messages in the stack's dead-letter queue, sent there by the product's own queue adapter or
//! pushed there by the events queue's redrive policy, moved back by the built binary.

mod support;

use aws_sdk_sqs::types::QueueAttributeName;
use hookline::envelope::QueueMessage;
use hookline::queue::{EventQueue, SqsEventQueue};
use integration_tests::{Message, Resources};
use std::collections::BTreeMap;
use std::process::Output;
use support::{stderr, stdout};

fn redrive(args: &[&str]) -> Output {
    support::hookline(&[&["redrive"], args].concat())
}

/// Standard error after the block a moving redrive starts with (where it acts), which must be
/// there: the rest is what the move itself said.
fn after_block(output: &Output) -> String {
    let text = stderr(output);
    let rest = text
        .strip_prefix("hookline redrive acts on:\n")
        .unwrap_or_else(|| panic!("no block first: {text}"));
    rest.lines()
        .skip_while(|line| line.starts_with("  "))
        .map(|line| format!("{line}\n"))
        .collect()
}

/// A message as a webhook function sends it: `provider` and `event_type` attributes, a
/// `replay_id` for every third one, in one of two FIFO groups.
fn message(index: usize) -> QueueMessage {
    support::argyle_message(
        format!("argyle#redrive-{index}"),
        index,
        format!("identity-{}", index % 2),
        (index % 3 == 0).then(|| format!("replay-{index}")),
    )
}

/// Sends `count` messages straight to `queue_url` with the product's adapter.
async fn send(resources: &Resources, queue_url: &str, count: usize) -> Vec<QueueMessage> {
    let queue = SqsEventQueue::new(resources.sqs.clone(), queue_url);
    let mut sent = Vec::new();
    for index in 0..count {
        let message = message(index);
        queue.send(&message).await.expect("send");
        sent.push(message);
    }
    sent
}

/// The string attributes SQS should carry for a sent message.
fn attributes_of(message: &QueueMessage) -> BTreeMap<String, String> {
    let mut attributes = BTreeMap::from([
        ("provider".to_string(), message.provider.clone()),
        ("event_type".to_string(), message.event_type.clone()),
    ]);
    if let Some(replay_id) = &message.replay_id {
        attributes.insert("replay_id".into(), replay_id.clone());
    }
    attributes
}

/// Received messages by event id.
fn by_event_id(received: Vec<Message>) -> BTreeMap<String, Message> {
    received
        .into_iter()
        .map(|m| (m.body["event_id"].as_str().unwrap().to_string(), m))
        .collect()
}

/// The queue's visible and in-flight counts (exact on the emulator).
async fn counts(resources: &Resources, queue_url: &str) -> (u64, u64) {
    let attributes = resources
        .sqs
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .expect("queue attributes")
        .attributes
        .unwrap_or_default();
    let count = |name| attributes[&name].parse().unwrap();
    (
        count(QueueAttributeName::ApproximateNumberOfMessages),
        count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
    )
}

/// Asserts the events queue holds exactly `sent`, body and attributes each, and returns what it
/// holds.
async fn assert_moved(resources: &Resources, sent: &[QueueMessage]) -> BTreeMap<String, Message> {
    let moved = by_event_id(resources.messages().await);
    assert_eq!(
        moved.keys().collect::<Vec<_>>(),
        {
            let mut ids: Vec<_> = sent.iter().map(|m| &m.event_id).collect();
            ids.sort();
            ids
        },
        "exactly the dead-letter queue's messages, each once"
    );
    for original in sent {
        let moved = &moved[&original.event_id];
        let body: serde_json::Value = serde_json::from_str(&original.body).unwrap();
        assert_eq!(moved.body, body, "the same body");
        let attributes: BTreeMap<String, String> = moved.attributes.clone().into_iter().collect();
        assert_eq!(attributes, attributes_of(original), "the same attributes");
    }
    moved
}

#[tokio::test]
async fn a_standard_dead_letter_queue_is_emptied_into_the_events_queue() {
    let resources = Resources::create(false).await;
    // More than one receive's worth (10).
    let sent = send(&resources, &resources.dlq_url, 13).await;

    let output = redrive(&["--yes", "--stack", &resources.stack_name]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "moved 13 messages from the dead-letter queue to the events queue\n"
    );
    assert_eq!(after_block(&output), "", "no bar or message off a terminal");
    assert!(resources.messages_of(&resources.dlq_url).await.is_empty());
    assert_moved(&resources, &sent).await;
}

#[tokio::test]
async fn a_fifo_message_keeps_its_group_and_gets_a_fresh_deduplication_id() {
    let resources = Resources::create(true).await;
    let sent = send(&resources, &resources.queue_url, 4).await;
    // The enricher fails each message as often as the redrive policy allows (each receive
    // returns it at once): a later receive finds it moved to the dead-letter queue.
    let allowed = resources.max_receive_count().await as usize;
    let mut receives = 0;
    while counts(&resources, &resources.dlq_url).await.0 < 4 {
        assert!(receives < 4 * (allowed + 1), "not in the dead-letter queue");
        resources.receive_event(0).await;
        receives += 1;
    }
    assert_eq!(counts(&resources, &resources.dlq_url).await, (4, 0));

    let output = redrive(&["--yes", "--stack", &resources.stack_name, "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["moved"], 4);
    assert_eq!(report["failed"], 0);
    assert_eq!(report["dry_run"], false);
    assert_eq!(report["dead_letter_queue"], resources.dlq_url.as_str());
    assert_eq!(report["events_queue"], resources.queue_url.as_str());

    assert_eq!(counts(&resources, &resources.dlq_url).await, (0, 0));
    let moved = assert_moved(&resources, &sent).await;
    for original in &sent {
        let moved = &moved[&original.event_id];
        assert_eq!(moved.group_id.as_deref(), Some(original.group.as_str()));
        // The original id would be a repeat to SQS within 5 minutes of the first send.
        let deduplication_id = moved.deduplication_id.as_deref().unwrap();
        assert_ne!(deduplication_id, original.deduplication_id);
        assert_eq!(deduplication_id.len(), 64);
    }
}

/// After a change of `QueueType` the old events queue is retained beside the new one of the
/// other type: its messages move into it, each in the group the webhook function would give it.
#[tokio::test]
async fn a_retained_standard_queue_is_emptied_into_a_fifo_events_queue_and_back() {
    let (standard, fifo) = tokio::join!(Resources::create(false), Resources::create(true));
    let sent = send(&standard, &standard.queue_url, 5).await;

    let output = redrive(&[
        "--yes",
        "--dlq-url",
        &standard.queue_url,
        "--queue-url",
        &fifo.queue_url,
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "moved 5 messages from the dead-letter queue to the events queue\n"
    );
    assert_eq!(counts(&standard, &standard.queue_url).await, (0, 0));
    let moved = assert_moved(&fifo, &sent).await;
    for original in &sent {
        let moved = &moved[&original.event_id];
        assert_eq!(moved.group_id.as_deref(), Some(original.group.as_str()));
        assert_eq!(moved.deduplication_id.as_deref().map(str::len), Some(64));
    }

    // And back, between the two (empty) dead-letter queues: a FIFO queue's messages into a
    // standard one, which takes no group.
    let back = send(&fifo, &fifo.dlq_url, 3).await;
    let output = redrive(&[
        "--yes",
        "--dlq-url",
        &fifo.dlq_url,
        "--queue-url",
        &standard.dlq_url,
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(counts(&fifo, &fifo.dlq_url).await, (0, 0));
    let moved = by_event_id(standard.messages_of(&standard.dlq_url).await);
    assert_eq!(moved.len(), 3);
    for original in &back {
        let moved = &moved[&original.event_id];
        let body: serde_json::Value = serde_json::from_str(&original.body).unwrap();
        assert_eq!(moved.body, body);
        assert_eq!(moved.group_id, None);
    }
}

#[tokio::test]
async fn a_dry_run_counts_and_moves_nothing() {
    let resources = Resources::create(false).await;
    send(&resources, &resources.dlq_url, 3).await;

    let output = redrive(&["--stack", &resources.stack_name, "--dry-run"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "would move 3 messages from the dead-letter queue to the events queue (dry run; SQS's \
         approximate count)\n"
    );
    let json = redrive(&["--stack", &resources.stack_name, "--dry-run", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["would_move"], 3);
    assert_eq!(report["dry_run"], true);

    // Not even received: all three visible, none in flight, the events queue empty.
    assert_eq!(counts(&resources, &resources.dlq_url).await, (3, 0));
    assert!(resources.messages().await.is_empty());
}

#[tokio::test]
async fn a_limit_moves_that_many_and_leaves_the_rest() {
    let resources = Resources::create(false).await;
    send(&resources, &resources.dlq_url, 5).await;

    let output = redrive(&["--yes", "--stack", &resources.stack_name, "--limit", "2"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "moved 2 messages from the dead-letter queue to the events queue\n"
    );
    assert_eq!(resources.messages().await.len(), 2);
    assert_eq!(counts(&resources, &resources.dlq_url).await, (3, 0));
}

#[tokio::test]
async fn a_message_the_events_queue_refuses_stays_in_the_dead_letter_queue() {
    let resources = Resources::create(true).await;
    // Ten messages then one larger than the destination takes: the first receive's batch is
    // sent, the second is refused.
    let sent = send(&resources, &resources.dlq_url, 10).await;
    let mut large = message(10);
    large.body = format!(
        r#"{{"event_id":"argyle#large","pad":"{}"}}"#,
        "x".repeat(2000)
    );
    SqsEventQueue::new(resources.sqs.clone(), &resources.dlq_url)
        .send(&large)
        .await
        .expect("send");
    let small = resources
        .sqs
        .create_queue()
        .queue_name(format!("{}-small.fifo", resources.stack_name))
        .attributes(QueueAttributeName::FifoQueue, "true")
        .attributes(QueueAttributeName::MaximumMessageSize, "1024")
        .send()
        .await
        .expect("create queue")
        .queue_url
        .unwrap();

    // Named outright: with --stack, a --queue-url other than the stack's is refused.
    let output = redrive(&[
        "--yes",
        "--dlq-url",
        &resources.dlq_url,
        "--queue-url",
        &small,
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "moved 10 messages from the dead-letter queue to the events queue\n"
    );
    let message = after_block(&output);
    assert!(
        message.starts_with(&format!(
            "hookline: 1 message could not be sent and stays in the dead-letter queue (visible \
             again in 120 s): the events queue {small} refused the messages: "
        )),
        "{message}"
    );
    assert!(!message.contains("xxxx"), "no payload in the message");
    // Received, not deleted: in flight until its visibility timeout ends.
    assert_eq!(counts(&resources, &resources.dlq_url).await, (0, 1));
    let moved = by_event_id(resources.messages_of(&small).await);
    let mut expected: Vec<&String> = sent.iter().map(|m| &m.event_id).collect();
    expected.sort();
    assert_eq!(moved.keys().collect::<Vec<_>>(), expected);
}

#[test]
fn a_malformed_queue_url_is_a_usage_error() {
    let output = redrive(&[
        "--yes",
        "--dlq-url",
        "arn:aws:sqs:us-east-1:123456789012:dlq",
        "--queue-url",
        "https://sqs.us-east-1.amazonaws.com/123456789012/q",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "hookline: the dead-letter queue URL \"arn:aws:sqs:us-east-1:123456789012:dlq\" is an \
         ARN, not a URL: pass a queue URL (https://sqs.<region>.amazonaws.com/<account>/<queue \
         name>) with --dlq-url, or --stack\n"
    );
}

#[test]
fn no_queue_and_no_stack_is_a_usage_error() {
    let output = redrive(&[
        "--yes",
        "--queue-url",
        "https://sqs.us-east-1.amazonaws.com/1/q",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.starts_with("hookline: no dead-letter queue URL: pass --dlq-url"),
        "{message}"
    );
}

#[test]
fn a_queue_that_does_not_exist_exits_1() {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("run with scripts/test");
    let dlq = format!("{endpoint}/123456789012/hookline-no-such-dlq");
    let output = redrive(&[
        "--yes",
        "--dlq-url",
        &dlq,
        "--queue-url",
        &format!("{endpoint}/123456789012/hookline-no-such-queue"),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let message = after_block(&output);
    assert!(
        message.starts_with(&format!(
            "hookline: cannot read the dead-letter queue {dlq}: "
        )),
        "{message}"
    );
}
