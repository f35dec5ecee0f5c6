//! What the CLI's integration tests share: the built binary, run with none of the variables that
//! would name a stack, table or queue for it (each test names its own), and its output as text.

#![allow(dead_code, reason = "each test file uses its own part")]

use integration_tests::Resources;
use serde_json::Value;
use std::process::{Command, Output};

pub const BIN: &str = env!("CARGO_BIN_EXE_hookline");

/// `hookline ARGS...`, its environment naming no stack or resource.
pub fn hookline(args: &[&str]) -> Output {
    command().args(args).output().unwrap()
}

/// The binary as [`hookline`] runs it, for a test that sets more (credentials, pipes).
pub fn command() -> Command {
    let mut command = Command::new(BIN);
    for name in [
        "HOOKLINE_STACK",
        "HISTORY_TABLE",
        "EVENTS_QUEUE_URL",
        "EVENTS_DLQ_URL",
        "IDENTITIES_TABLE",
        "EVENTS_TABLE",
        "EVENT_BUS_NAME",
    ] {
        command.env_remove(name);
    }
    command
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// One JSON value per line of `text` (a `--json` listing).
pub fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

/// What reaches the stack's change event bus from its creation on: an SQS queue of the test's
/// own, the target of a rule on `resources.event_bus` matching `{"source":["hookline"]}` (moto
/// delivers a rule's SQS target during PutEvents, the whole event as the body).
pub struct BusWatcher {
    queue_url: String,
}

impl BusWatcher {
    pub async fn on(resources: &Resources) -> Self {
        let name = format!("{}-bus-watcher", resources.stack_name);
        let queue_url = resources
            .sqs
            .create_queue()
            .queue_name(&name)
            .send()
            .await
            .expect("create the watcher's queue")
            .queue_url
            .expect("queue url");
        let queue_arn = resources.queue_arn_of(&queue_url).await;
        let events = aws_sdk_eventbridge::Client::new(&resources.sdk);
        events
            .put_rule()
            .name(&name)
            .event_bus_name(&resources.event_bus)
            .event_pattern(r#"{"source":["hookline"]}"#)
            .send()
            .await
            .expect("put rule");
        events
            .put_targets()
            .rule(&name)
            .event_bus_name(&resources.event_bus)
            .targets(
                aws_sdk_eventbridge::types::Target::builder()
                    .id("watcher")
                    .arn(queue_arn)
                    .build()
                    .expect("a target"),
            )
            .send()
            .await
            .expect("put targets");
        Self { queue_url }
    }

    /// The events delivered since the last call (each whole: `source`, `detail-type`,
    /// `detail`, ...).
    pub async fn take(&self, resources: &Resources) -> Vec<Value> {
        resources
            .messages_of(&self.queue_url)
            .await
            .into_iter()
            .map(|message| message.body)
            .collect()
    }
}
