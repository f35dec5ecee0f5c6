//! `hookline changes replay`: the stack's change events of a window sent again, as they were,
//! to one consumer's rule (`hookline::ops::change_replay`, EventBridge's own replay from the
//! stack's archive); this verb checks the window, confirms, shows the replay's progress through
//! its window and prints how it ended.

use crate::confirm::{Action, Confirmation, Yes};
use crate::failure::Failure;
use crate::resources::{Resource, ResourceArgs};
use crate::when::When;
use hookline::clock::{rfc3339, unix_now};
use hookline::ops::change_replay::{
    check_window, prepare, replay_changes, ArchiveFacts, EventBridgeArchive, ReplayRequest,
    ReplayState, POLL,
};
use std::process::ExitCode;

pub const EXAMPLES: &str = "\
Examples:
  hookline changes replay --stack hookline --since 2026-12-01T09:00:00Z --until 2h --rule crm-sync --dry-run
  hookline changes replay --stack hookline --since 1d --rule crm-sync --yes --json";

#[derive(clap::Args, Debug)]
pub struct ChangesArgs {
    #[command(subcommand)]
    pub command: ChangesCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum ChangesCommand {
    /// Send the change events of a window again, as they were sent, to one rule of the bus
    /// (EventBridge's replay from the stack's archive).
    #[command(after_help = EXAMPLES)]
    Replay(ReplayArgs),
}

#[derive(clap::Args, Debug)]
pub struct ReplayArgs {
    /// Sent at or after: RFC 3339, a date (UTC midnight) or a duration ago (90s, 30m, 2h, 7d).
    #[arg(long, value_name = "TIME")]
    pub since: When,
    /// Sent before (default: now); the same forms as --since.
    #[arg(long, value_name = "TIME")]
    pub until: Option<When>,
    /// The consumer's rule on the stack's bus that receives them (default: every rule of the
    /// bus, so every consumer receives them again).
    #[arg(long, value_name = "NAME")]
    pub rule: Option<String>,
    /// Start nothing: say what would be replayed.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub yes: Yes,
    #[command(flatten)]
    pub resources: ResourceArgs,
    #[command(flatten)]
    pub output: crate::output::Output,
}

pub async fn run(args: &ChangesArgs) -> Result<ExitCode, Failure> {
    match &args.command {
        ChangesCommand::Replay(args) => replay(args).await,
    }
}

fn sending(what: String) -> Action {
    Action {
        what,
        go_ahead: "send them",
        instead: "see what it would send",
        untouched: "sent",
    }
}

/// Who receives the replayed events, in words.
fn receivers(rule: Option<&str>) -> String {
    match rule {
        Some(rule) => format!("rule {rule}"),
        None => "every rule of the bus".into(),
    }
}

async fn replay(args: &ReplayArgs) -> Result<ExitCode, Failure> {
    let now = unix_now();
    let (since, until) = crate::when::range(args.since, args.until, now)?;
    check_window(since, until, now).map_err(Failure::Usage)?;
    let rule = args.rule.as_deref();
    let confirmation = Confirmation::new(args.yes, args.dry_run);
    confirmation.nobody_to_ask(|| {
        sending(format!(
            "changes replay sends the change events of {} to {} again",
            window(since, until),
            receivers(rule)
        ))
    })?;
    let located = args.resources.locate(&[Resource::ChangeArchive]).await?;
    if !args.dry_run {
        located.announce("changes replay").await;
    }
    let archive = EventBridgeArchive(aws_sdk_eventbridge::Client::new(&located.config));
    let (request, facts) = prepare(
        &archive,
        located.get(Resource::ChangeArchive),
        rule,
        (since, until),
        now,
    )
    .await
    .map_err(|e| Failure::Failed(e.to_string()))?;
    if args.dry_run {
        report(args, &request, &facts, None);
        return Ok(ExitCode::SUCCESS);
    }
    confirmation.ask(&sending(format!(
        "changes replay {} sends the change events of {} from archive {} to {} again",
        request.name,
        window(since, until),
        located.get(Resource::ChangeArchive),
        receivers(rule)
    )))?;
    // The bar runs through the window: EventBridge says how far it has sent, not how many.
    let bar = crate::progress::bar(
        (until - since).max(1) as u64,
        "{spinner} replaying the window {bar:30} {percent}% {msg}",
    );
    let last = replay_changes(&archive, &request, POLL, |progress| {
        bar.set_message(progress.state.as_str());
        if let Some(at) = progress.last_replayed {
            crate::progress::advance(&bar, (at - since).clamp(0, until - since) as u64);
        }
        bar.tick();
    })
    .await
    .map_err(|e| Failure::Failed(e.to_string()))?;
    bar.finish_and_clear();
    report(args, &request, &facts, Some(&last.state));
    match last.state {
        ReplayState::Completed => Ok(ExitCode::SUCCESS),
        ReplayState::Failed(reason) => Err(Failure::Failed(format!(
            "replay {} failed: {reason}",
            request.name
        ))),
        other => Err(Failure::Failed(format!(
            "replay {} ended {}",
            request.name,
            other.as_str()
        ))),
    }
}

fn window(since: i64, until: i64) -> String {
    format!("{} to {}", rfc3339(since), rfc3339(until))
}

/// What was (or, with no `state`, would be) replayed: a line for people, an object for
/// programs.
fn report(
    args: &ReplayArgs,
    request: &ReplayRequest,
    facts: &ArchiveFacts,
    state: Option<&ReplayState>,
) {
    if args.output.json {
        let mut object = serde_json::json!({
            "replay": request.name,
            "dry_run": args.dry_run,
            "archive": facts.arn,
            "archive_events": facts.event_count,
            "bus": request.bus_arn,
            "rules": request.rule_arns,
            "since": rfc3339(request.since),
            "until": rfc3339(request.until),
        });
        if let Some(state) = state {
            object["state"] = state.as_str().into();
            if let ReplayState::Failed(reason) = state {
                object["reason"] = reason.as_str().into();
            }
        }
        println!("{object}");
        return;
    }
    let to = receivers(args.rule.as_deref());
    match state {
        None => println!(
            "would replay the change events of {} to {to}, from an archive of {} events in all \
             (EventBridge counts no window; dry run: nothing started)",
            window(request.since, request.until),
            facts.event_count
        ),
        Some(state) => println!(
            "replay {}: {} (the change events of {} to {to})",
            request.name,
            state.as_str(),
            window(request.since, request.until)
        ),
    }
}
