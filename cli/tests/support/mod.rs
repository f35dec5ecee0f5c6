//! What the CLI's integration tests share: the built binary, run with none of the variables that
//! would name a stack, table or queue for it (each test names its own), and its output as text.

#![allow(dead_code, reason = "each test file uses its own part")]

pub mod function_url;

use serde_json::Value;
use std::process::{Command, Output};

pub const BIN: &str = env!("CARGO_BIN_EXE_hookline");

/// The flags that configure `hookline sign` and `load` as provider `P`'s sample configures its
/// function (each function variable has its flag).
pub fn option_flags<P: hookline::provider::Sample>() -> Vec<String> {
    P::OPTIONS
        .iter()
        .flat_map(|(variable, value)| {
            let flag = match *variable {
                "WEBHOOK_SECRET_HEADER" => "--header",
                "WEBHOOK_SECRET_ENCODING" => "--encoding",
                "WEBHOOK_AUTH_MODE" => "--auth-mode",
                other => panic!("{other}: no hookline flag sets it"),
            };
            [flag.to_string(), value.to_string()]
        })
        .collect()
}

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
        "CHANGE_ARCHIVE",
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

/// A message as a webhook function sends it for the Argyle event `event_id`, its payload
/// numbered `index`, about the resource `group` (its message group, as the function gives it).
pub fn argyle_message(
    event_id: String,
    index: usize,
    group: String,
    replay_id: Option<String>,
) -> hookline::envelope::QueueMessage {
    hookline::envelope::QueueMessage {
        body: format!(
            r#"{{"version":1,"event_id":"{event_id}","provider":"argyle","event_type":"identities.added","received_at":"2026-12-06T10:00:00Z","resource":{{"id":"{group}"}},"payload":{{"n":{index}}}}}"#
        ),
        deduplication_id: hookline::digest::sha256_hex(event_id.as_bytes()),
        event_id,
        provider: "argyle".into(),
        event_type: "identities.added".into(),
        group,
        replay_id,
    }
}

/// An identity record as the enricher stores it, written straight to the table by a test:
/// `data` (`None`: a tombstone), fetched and changed at `changed_at`, revision 1.
pub fn stored_identity(
    provider: &str,
    id: &str,
    data: Option<String>,
    changed_at: i64,
) -> hookline::identity::Identity {
    hookline::identity::Identity {
        key: hookline::identity::IdentityKey::new(provider, id),
        data,
        source_updated_at: None,
        read_started_ms: changed_at * 1000,
        fetched_at: changed_at,
        event_id: format!("{provider}#evt-{id}"),
        event_type: "identities.added".into(),
        revision: 1,
        changed_at,
        version: 1,
        expires_at: 4_000_000_000,
        pending: None,
    }
}
