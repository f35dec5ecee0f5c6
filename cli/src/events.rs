//! `hookline events get|list`: what the history keeps. `get` shows every kept occurrence of one
//! event id, message included; `list` a provider's events in a time range, read from the index
//! page by page (never a scan of the table), oldest first.

use crate::choices::ProviderName;
use crate::failure::Failure;
use crate::resources::{Resource, ResourceArgs};
use crate::when::When;
use hookline::clock::{rfc3339, unix_now};
use hookline::history::{
    DynamoDbHistory, EventSummary, HistoryEntry, HistoryError, HistoryStore, Selection,
};
use hookline::ops::listing::listed;
use std::process::ExitCode;

pub const EXAMPLES: &str = "\
Examples:
  hookline events list --stack hookline --provider argyle --since 2h
  hookline events get --stack hookline 'argyle#evt_123'";

pub const GET_EXAMPLES: &str = "\
Examples:
  hookline events get --stack hookline 'argyle#evt_123'
  hookline events get --table hookline-HistoryTable-X1 'argyle#evt_123' --json | jq .message.payload";

pub const LIST_EXAMPLES: &str = "\
Examples:
  hookline events list --stack hookline --provider argyle --since 2h
  hookline events list --stack hookline --provider clearid --since 2026-12-01 --until 2026-12-02 \\
      --type identity.updated
  hookline events list --stack hookline --provider argyle --since 7d --resource idn_42 --json";

#[derive(clap::Args, Debug)]
pub struct EventsArgs {
    #[command(subcommand)]
    pub command: EventsCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum EventsCommand {
    /// Show every kept occurrence of an event id, its message included.
    #[command(after_help = GET_EXAMPLES)]
    Get(GetArgs),
    /// List a provider's kept events received in a time range, oldest first.
    #[command(after_help = LIST_EXAMPLES)]
    List(ListArgs),
}

#[derive(clap::Args, Debug)]
pub struct GetArgs {
    /// The event id, as the envelope's `event_id` (e.g. `argyle#evt_123`).
    pub event_id: String,
    #[command(flatten)]
    pub resources: ResourceArgs,
    #[command(flatten)]
    pub output: crate::output::Output,
}

#[derive(clap::Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    pub range: RangeArgs,
    #[command(flatten)]
    pub resources: ResourceArgs,
    #[command(flatten)]
    pub output: crate::output::Output,
}

/// Which kept events a listing or a replay covers.
#[derive(clap::Args, Debug, Clone)]
pub struct RangeArgs {
    /// The provider whose events to take.
    #[arg(long, value_enum)]
    pub provider: ProviderName,
    /// Received at or after: RFC 3339, a date (UTC midnight) or a duration ago (90s, 30m, 2h, 7d).
    #[arg(long, value_name = "TIME")]
    pub since: When,
    /// Received at or before (default: now); the same forms as --since.
    #[arg(long, value_name = "TIME")]
    pub until: Option<When>,
    /// Only this event type (the range is still read: the index is by time, not type).
    #[arg(long = "type", value_name = "EVENT_TYPE")]
    pub event_type: Option<String>,
    /// Only events about this resource (an identity or request id); read from its own index.
    #[arg(long, value_name = "ID")]
    pub resource: Option<String>,
}

impl RangeArgs {
    pub fn selection(&self, now: i64) -> Result<Selection, Failure> {
        let (since, until) = crate::when::range(self.since, self.until, now)?;
        Ok(Selection {
            provider: self.provider.as_str().to_string(),
            since,
            until,
            event_type: self.event_type.clone(),
            resource_id: self.resource.clone(),
        })
    }
}

pub fn history_failure(error: HistoryError) -> Failure {
    Failure::Failed(error.to_string())
}

pub async fn run(args: &EventsArgs) -> Result<ExitCode, Failure> {
    match &args.command {
        EventsCommand::Get(args) => get(args).await,
        EventsCommand::List(args) => list(args).await,
    }
}

async fn history(resources: &ResourceArgs) -> Result<DynamoDbHistory, Failure> {
    let located = resources.locate(&[Resource::HistoryTable]).await?;
    Ok(DynamoDbHistory::new(
        aws_sdk_dynamodb::Client::new(&located.config),
        located.get(Resource::HistoryTable),
    ))
}

async fn get(args: &GetArgs) -> Result<ExitCode, Failure> {
    let store = history(&args.resources).await?;
    let entries = store
        .occurrences(&args.event_id)
        .await
        .map_err(history_failure)?;
    if entries.is_empty() {
        return Err(not_kept(&args.event_id));
    }
    for (index, entry) in entries.iter().enumerate() {
        if args.output.json {
            println!("{}", occurrence_json(entry));
        } else {
            if index > 0 {
                println!();
            }
            print!("{}", occurrence_block(entry));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The answer for an id the history does not hold.
pub fn not_kept(event_id: &str) -> Failure {
    Failure::Failed(format!(
        "no event {event_id:?} in the history (it expired after the retention, or was never \
         accepted)"
    ))
}

/// The kept body as a JSON value's text, unchanged: what a replay sends, byte for byte (parsing
/// it would reorder keys and rewrite numbers). One that is not JSON is shown as a string.
fn message_json(body: &str) -> String {
    match serde_json::from_str::<&serde_json::value::RawValue>(body) {
        Ok(_) => body.to_string(),
        Err(_) => serde_json::Value::String(body.to_string()).to_string(),
    }
}

fn occurrence_block(entry: &HistoryEntry) -> String {
    let summary = &entry.summary;
    let replays = if entry.replays.is_empty() {
        "(none)".to_string()
    } else {
        entry.replays.join(", ")
    };
    format!(
        "event     {}\nprovider  {}\ntype      {}\nresource  {}\nreceived  {}\nkept      {}\n\
         expires   {}\nreplays   {replays}\nmessage   (as kept, byte for byte; --json | jq .message \
         to read it)\n{}\n",
        summary.event_id,
        summary.provider,
        summary.event_type,
        summary.resource_id.as_deref().unwrap_or("(none)"),
        rfc3339(summary.received_at),
        rfc3339(entry.recorded_at),
        rfc3339(entry.expires_at),
        message_json(&entry.body),
    )
}

/// One occurrence as a JSON object, its `message` the kept body's own text.
fn occurrence_json(entry: &HistoryEntry) -> String {
    let mut object = summary_json(&entry.summary);
    object["kept_at"] = rfc3339(entry.recorded_at).into();
    object["expires_at"] = rfc3339(entry.expires_at).into();
    object["replays"] = entry.replays.clone().into();
    // An object of strings and arrays: its text ends with the closing brace.
    let fields = object.to_string();
    format!(
        "{},\"message\":{}}}",
        &fields[..fields.len() - 1],
        message_json(&entry.body)
    )
}

pub fn summary_json(summary: &EventSummary) -> serde_json::Value {
    serde_json::json!({
        "event_id": summary.event_id,
        "provider": summary.provider,
        "event_type": summary.event_type,
        "resource_id": summary.resource_id,
        "received_at": rfc3339(summary.received_at),
    })
}

async fn list(args: &ListArgs) -> Result<ExitCode, Failure> {
    let selection = args.range.selection(unix_now())?;
    let store = history(&args.resources).await?;
    let spinner = crate::progress::spinner("the history");
    let events = listed(&store, &selection, |count| {
        spinner.set_message(format!("read {count} events"));
        spinner.tick();
    })
    .await
    .map_err(history_failure)?;
    spinner.finish_and_clear();
    if args.output.json {
        for summary in &events {
            println!("{}", summary_json(summary));
        }
    } else {
        print_summaries(&events);
        println!("{}", counted(events.len(), &selection));
    }
    Ok(ExitCode::SUCCESS)
}

/// The table of a listing: received at, event id, type, resource.
pub fn print_summaries(events: &[EventSummary]) {
    let rows: Vec<[String; 4]> = events
        .iter()
        .map(|s| {
            [
                rfc3339(s.received_at),
                s.event_id.clone(),
                s.event_type.clone(),
                s.resource_id.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    if !rows.is_empty() {
        crate::table::print(["RECEIVED AT", "EVENT ID", "TYPE", "RESOURCE"], &rows);
    }
}

fn counted(count: usize, selection: &Selection) -> String {
    let noun = if count == 1 { "event" } else { "events" };
    format!(
        "{count} {} {noun} received {} to {}",
        selection.provider,
        rfc3339(selection.since),
        rfc3339(selection.until)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(event_id: &str, received_at: i64) -> HistoryEntry {
        HistoryEntry {
            summary: EventSummary {
                event_id: event_id.into(),
                provider: "argyle".into(),
                event_type: "identities.added".into(),
                resource_id: Some("idn_1".into()),
                received_at,
            },
            body: format!(r#"{{"version":1,"event_id":"{event_id}","payload":{{"a":1}}}}"#),
            recorded_at: received_at + 1,
            expires_at: received_at + 86_400,
            replays: vec!["r-1".into()],
        }
    }

    #[test]
    fn an_occurrence_shows_its_times_replays_and_message() {
        let block = occurrence_block(&entry("argyle#e1", 1_796_173_200));
        assert!(
            block.contains("received  2026-12-02T01:00:00Z\n"),
            "{block}"
        );
        assert!(
            block.contains("kept      2026-12-02T01:00:01Z\n"),
            "{block}"
        );
        assert!(block.contains("replays   r-1\n"), "{block}");
        let kept = entry("argyle#e1", 1_796_173_200);
        assert!(block.ends_with(&format!("\n{}\n", kept.body)), "{block}");
        let text = occurrence_json(&kept);
        assert!(
            text.ends_with(&format!(",\"message\":{}}}", kept.body)),
            "{text}"
        );
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["message"]["payload"]["a"], 1);
        assert_eq!(json["expires_at"], "2026-12-03T01:00:00Z");
        assert_eq!(json["resource_id"], "idn_1");
    }
}
