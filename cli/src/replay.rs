//! `hookline replay`: sends kept messages to the events queue again (`hookline::ops::replay`,
//! which plans, paces, sends and marks); this verb wires it to DynamoDB and SQS, shows its
//! progress and prints what it did.

use crate::confirm::{Action, Confirmation, Yes};
use crate::events::{not_kept, summary_json, RangeArgs};
use crate::failure::Failure;
use crate::resources::{Resource, ResourceArgs};
use hookline::clock::unix_now;
use hookline::history::DynamoDbHistory;
use hookline::ops::replay::{new_replay_id, plan, send, Chosen, Outcome, Plan, ReplayError};
use hookline::queue::SqsEventQueue;
use std::process::ExitCode;

pub const EXAMPLES: &str = "\
Examples:
  hookline replay --stack hookline 'argyle#evt_123'
  hookline replay --stack hookline --provider clearid --since 2026-12-01T09:00:00Z --until 2h \\
      --type identity.updated --dry-run
  hookline replay --stack hookline --provider argyle --since 1d --rate 5 --yes
  hookline replay --stack hookline --provider argyle --since 1d --rate 5 --yes \\
      --replay-id replay-20261202T011500Z-3fa2    # resumes an interrupted replay";

pub const USAGE: &str = "\
hookline replay [OPTIONS] <EVENT_ID>...
       hookline replay [OPTIONS] --provider <PROVIDER> --since <TIME> [--until <TIME>]";

#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["event_ids", "provider"])))]
pub struct ReplayArgs {
    /// Event ids to replay (each one's latest kept occurrence); or select a range instead.
    #[arg(value_name = "EVENT_ID", conflicts_with = "RangeArgs")]
    pub event_ids: Vec<String>,
    #[command(flatten)]
    pub range: Option<RangeArgs>,
    /// Name the replay (to resume one: what it already sent is skipped); default: a new one.
    #[arg(long, value_name = "ID", value_parser = replay_id)]
    pub replay_id: Option<String>,
    /// Send nothing: list what would be sent.
    #[arg(long)]
    pub dry_run: bool,
    /// At most this many messages per second.
    #[arg(long, value_name = "N", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub rate: u32,
    /// Send at most this many in this run (run again with the same --replay-id for the rest).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: Option<u64>,
    #[command(flatten)]
    pub yes: Yes,
    #[command(flatten)]
    pub resources: ResourceArgs,
    #[command(flatten)]
    pub output: crate::output::Output,
}

/// A replay id goes into message attributes and logs: short and plain.
fn replay_id(text: &str) -> Result<String, String> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_.:".contains(c);
    if text.is_empty() || text.len() > 100 || !text.chars().all(plain) {
        return Err("a replay id is 1 to 100 letters, digits and - _ . :".into());
    }
    Ok(text.to_string())
}

/// What a replay of a range is about to do, as it asks and refuses: `what` says how much.
fn sending(what: String) -> Action {
    Action {
        what,
        go_ahead: "send them",
        instead: "list them",
        untouched: "sent",
    }
}

pub async fn run(args: &ReplayArgs) -> Result<ExitCode, Failure> {
    let now = unix_now();
    let chosen = match (&args.range, args.event_ids.is_empty()) {
        (Some(range), true) => Chosen::Range(range.selection(now)?),
        (None, false) => Chosen::Ids(args.event_ids.clone()),
        _ => {
            return Err(Failure::Usage(
                "say what to replay: event ids, or --provider and --since".into(),
            ))
        }
    };
    let replay_id = args.replay_id.clone().unwrap_or_else(|| new_replay_id(now));
    // A range is bulk; event ids named one by one were each chosen already, and are not asked
    // about.
    let confirmation =
        matches!(chosen, Chosen::Range(_)).then(|| Confirmation::new(args.yes, args.dry_run));
    if let Some(confirmation) = confirmation {
        confirmation.nobody_to_ask(|| {
            sending(format!(
                "replay {replay_id} sends every kept event in the range to the events queue again"
            ))
        })?;
    }
    let wanted: &[Resource] = if args.dry_run {
        &[Resource::HistoryTable]
    } else {
        &[Resource::HistoryTable, Resource::EventsQueue]
    };
    let located = args.resources.locate(wanted).await?;
    if !args.dry_run {
        located.announce("replay").await;
    }
    if args.dry_run {
        eprintln!("replay {replay_id} (dry run: nothing is sent)");
    } else {
        eprintln!(
            "replay {replay_id} (if it is interrupted, run the same command with --replay-id \
             {replay_id}: what it sent is skipped)"
        );
    }
    let store = DynamoDbHistory::new(
        aws_sdk_dynamodb::Client::new(&located.config),
        located.get(Resource::HistoryTable),
    );
    let spinner = crate::progress::spinner("the history");
    let limit = args.limit.map(|n| usize::try_from(n).unwrap_or(usize::MAX));
    let plan = plan(&store, &chosen, &replay_id, limit, |count| {
        spinner.set_message(format!("read {count} events"));
        spinner.tick();
    })
    .await
    .map_err(|e| match e {
        ReplayError::Unknown(id) => not_kept(&id),
        other => Failure::Failed(other.to_string()),
    })?;
    spinner.finish_and_clear();
    if args.dry_run {
        report(args, &replay_id, &plan, None);
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(confirmation) = confirmation {
        let count = plan.to_send.len();
        confirmation.ask(&sending(format!(
            "replay {replay_id} sends {count} kept event{} to the events queue {} again, {} a \
             second at most",
            if count == 1 { "" } else { "s" },
            located.get(Resource::EventsQueue),
            args.rate
        )))?;
    }
    let queue = SqsEventQueue::new(
        aws_sdk_sqs::Client::new(&located.config),
        located.get(Resource::EventsQueue),
    );
    let bar = crate::progress::bar(
        plan.to_send.len() as u64,
        "{bar:40} {pos}/{len} sent, {per_sec}, {eta} left",
    );
    let outcome = send(&store, &queue, &plan, &replay_id, args.rate, |_| bar.inc(1))
        .await
        .map_err(|e| match e {
            ReplayError::Interrupted { sent, error } => Failure::Failed(format!(
                "replay {replay_id} stopped after sending {sent}: {error}; run the same command \
                 with --replay-id {replay_id} to send the rest"
            )),
            other => Failure::Failed(other.to_string()),
        })?;
    bar.finish_and_clear();
    report(args, &replay_id, &plan, Some(&outcome));
    Ok(ExitCode::SUCCESS)
}

/// The closing lines: what a dry run would send, or what the run did.
fn report(args: &ReplayArgs, replay_id: &str, plan: &Plan, outcome: Option<&Outcome>) {
    let (verb, count, already_sent, gone) = match outcome {
        Some(o) => ("sent", o.sent, o.already_sent, o.gone),
        None => (
            "would send",
            plan.to_send.len(),
            plan.already_sent,
            plan.gone,
        ),
    };
    if args.output.json {
        let mut object = serde_json::json!({
            "replay_id": replay_id,
            "dry_run": outcome.is_none(),
            "sent": outcome.map_or(0, |o| o.sent),
            "already_sent": already_sent,
            "no_longer_kept": gone,
            "left_by_limit": plan.left,
        });
        if outcome.is_none() {
            object["would_send"] = plan.to_send.iter().map(summary_json).collect();
        }
        println!("{object}");
        return;
    }
    if outcome.is_none() {
        crate::events::print_summaries(&plan.to_send);
    }
    let mut line = format!(
        "replay {replay_id}: {verb} {count}, already sent {already_sent}, no longer kept {gone}"
    );
    if plan.left > 0 {
        line.push_str(&format!(
            " ({} more left by --limit: run again with --replay-id {replay_id})",
            plan.left
        ));
    }
    println!("{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_ids() {
        let id = new_replay_id(1_796_174_100);
        assert!(replay_id(&id).is_ok());
        for bad in ["", "a b", "r\n1", &"r".repeat(101)] {
            assert!(replay_id(bad).is_err(), "{bad:?}");
        }
    }
}
