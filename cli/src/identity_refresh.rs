//! `hookline identities refresh`: identities read again from their provider's API through the
//! normal enrichment path (`hookline::ops::refresh`): named one by one, or a provider's changed
//! before a time (a scan, as `identities list`). This verb confirms, sends at a bounded rate with
//! a progress bar and prints the closing count.

use crate::choices::ProviderName;
use crate::confirm::{Action, Confirmation, Yes};
use crate::failure::Failure;
use crate::resources::{Resource, ResourceArgs};
use crate::when::When;
use hookline::clock::unix_now;
use hookline::history::DynamoDbHistory;
use hookline::identity::IdentityKey;
use hookline::ops::identity_export::{scan_identities, DynamoDbIdentityScan, Pace, Selection};
use hookline::ops::refresh::{plan, refresh_id, send, Planned};
use hookline::queue::SqsEventQueue;
use std::process::ExitCode;

pub const EXAMPLES: &str = "\
Examples:
  hookline identities refresh --stack hookline argyle 0187c66e-f13b-31e4-6b2c-6a0dd4f67e43
  hookline identities refresh --stack hookline --provider clearid --changed-before 2026-12-01 --dry-run
  hookline identities refresh --stack hookline --provider baack --changed-before 7d --rate 5 --yes --json";

pub const USAGE: &str = "\
hookline identities refresh [OPTIONS] <PROVIDER> <RESOURCE_ID>...
       hookline identities refresh [OPTIONS] --provider <PROVIDER> --changed-before <TIME>";

#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["named", "provider"])))]
pub struct RefreshArgs {
    /// The provider, then the provider's ids of the identities to read again.
    #[arg(value_name = "PROVIDER RESOURCE_ID", num_args = 2.., conflicts_with_all = ["provider", "changed_before"])]
    pub named: Vec<String>,
    /// Or every identity of this provider last changed before --changed-before.
    #[arg(long, value_enum, requires = "changed_before")]
    pub provider: Option<ProviderName>,
    /// Changed before: RFC 3339, a date (UTC midnight) or a duration ago (90s, 30m, 2h, 7d).
    #[arg(long, value_name = "TIME", requires = "provider")]
    pub changed_before: Option<When>,
    /// At most this many refreshes queued a second (each is one read of the provider's API).
    #[arg(long, value_name = "N", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub rate: u32,
    /// Queue nothing: say what would be refreshed.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub yes: Yes,
    #[command(flatten)]
    pub resources: ResourceArgs,
    #[command(flatten)]
    pub output: crate::output::Output,
}

fn queueing(what: String) -> Action {
    Action {
        what,
        go_ahead: "queue them",
        instead: "see what it would queue",
        untouched: "queued",
    }
}

pub async fn run(args: &RefreshArgs) -> Result<ExitCode, Failure> {
    let now = unix_now();
    let named = named_keys(&args.named)?;
    let confirmation = Confirmation::new(args.yes, args.dry_run);
    confirmation.nobody_to_ask(|| {
        queueing(
            "identities refresh has the enricher read identities again from their provider".into(),
        )
    })?;
    let mut wanted = vec![Resource::HistoryTable];
    if named.is_empty() {
        wanted.push(Resource::IdentitiesTable);
    }
    if !args.dry_run {
        wanted.push(Resource::EventsQueue);
    }
    let located = args.resources.locate(&wanted).await?;
    let keys = match (named.is_empty(), args.provider, args.changed_before) {
        (false, _, _) => named,
        (true, Some(provider), Some(before)) => {
            changed_before(&located, provider.as_str(), before.at(now), now).await?
        }
        _ => {
            return Err(Failure::Usage(
                "say what to refresh: a provider and ids, or --provider and --changed-before"
                    .into(),
            ))
        }
    };
    let id = refresh_id(now);
    let history = DynamoDbHistory::new(
        aws_sdk_dynamodb::Client::new(&located.config),
        located.get(Resource::HistoryTable),
    );
    let planned = plan(
        &keys,
        |provider| hookline::providers::find(provider).map(|p| p.refresh),
        &history,
        now,
    )
    .await
    .map_err(|e| Failure::Failed(e.to_string()))?;
    let ready = planned.iter().filter(|p| p.payload.is_ok()).count();
    if args.dry_run {
        report(args, &id, &planned, None);
        return Ok(ExitCode::SUCCESS);
    }
    located.announce("identities refresh").await;
    confirmation.ask(&queueing(format!(
        "{id} queues {ready} identit{} for the enricher to read again from the provider, \
         {} a second at most",
        if ready == 1 { "y" } else { "ies" },
        args.rate
    )))?;
    let queue = SqsEventQueue::new(
        aws_sdk_sqs::Client::new(&located.config),
        located.get(Resource::EventsQueue),
    );
    let bar = crate::progress::bar(ready as u64, "{bar:30} {pos}/{len} queued for refresh");
    let sent = send(&queue, &planned, &id, args.rate, now, |count| {
        crate::progress::advance(&bar, count)
    })
    .await;
    bar.finish_and_clear();
    report(args, &id, &planned, Some(&sent));
    match &sent.failed {
        Some((key, reason)) => Err(Failure::Failed(format!(
            "{id} stopped at {} {}: {reason} ({} queued before)",
            key.provider, key.resource_id, sent.queued
        ))),
        None => Ok(ExitCode::SUCCESS),
    }
}

/// `PROVIDER ID...` as keys; a provider that is not one, refused.
fn named_keys(named: &[String]) -> Result<Vec<IdentityKey>, Failure> {
    let Some((provider, ids)) = named.split_first() else {
        return Ok(Vec::new());
    };
    if hookline::providers::find(provider).is_none() {
        return Err(Failure::Usage(format!(
            "{provider:?} is not a provider: one of {}",
            hookline::providers::names().collect::<Vec<_>>().join(", ")
        )));
    }
    Ok(ids
        .iter()
        .map(|id| IdentityKey::new(provider, id))
        .collect())
}

/// Every identity of `provider` last changed before `before`, by a paced scan.
async fn changed_before(
    located: &crate::resources::Located,
    provider: &str,
    before: i64,
    now: i64,
) -> Result<Vec<IdentityKey>, Failure> {
    if before > now {
        return Err(Failure::Usage("--changed-before is in the future".into()));
    }
    let table = DynamoDbIdentityScan::new(
        aws_sdk_dynamodb::Client::new(&located.config),
        located.get(Resource::IdentitiesTable),
    );
    let selection = Selection {
        provider: provider.to_string(),
        tombstones: None,
        changed_since: None,
        changed_before: Some(before),
    };
    let pace = Pace {
        page_items: 100,
        read_units_per_second: 50.0,
        most: None,
    };
    let spinner = crate::progress::spinner("the identities table");
    let mut keys = Vec::new();
    scan_identities(&table, &selection, None, pace, |page, _| {
        keys.extend(page.iter().map(|identity| identity.key.clone()));
        spinner.set_message(format!("{} found", keys.len()));
        spinner.tick();
        Ok::<_, std::convert::Infallible>(())
    })
    .await
    .map_err(|e| Failure::Failed(e.to_string()))?;
    spinner.finish_and_clear();
    Ok(keys)
}

fn report(
    args: &RefreshArgs,
    id: &str,
    planned: &[Planned],
    sent: Option<&hookline::ops::refresh::Sent>,
) {
    let skipped: Vec<(&IdentityKey, &String)> = planned
        .iter()
        .filter_map(|p| p.payload.as_ref().err().map(|why| (&p.key, why)))
        .collect();
    let ready = planned.len() - skipped.len();
    if args.output.json {
        let mut object = serde_json::json!({
            "refresh": id,
            "dry_run": args.dry_run,
            "identities": planned.len(),
            "skipped": skipped
                .iter()
                .map(|(key, why)| serde_json::json!({
                    "provider": key.provider, "resource_id": key.resource_id, "why": why}))
                .collect::<Vec<_>>(),
        });
        match sent {
            Some(sent) => object["queued"] = sent.queued.into(),
            None => object["would_queue"] = ready.into(),
        }
        println!("{object}");
        return;
    }
    for (key, why) in &skipped {
        eprintln!("skipped {} {}: {why}", key.provider, key.resource_id);
    }
    let of = |count: usize| {
        format!(
            "{count} {}",
            if count == 1 { "identity" } else { "identities" }
        )
    };
    match sent {
        None => println!(
            "{id} would queue {ready} of {} (dry run: nothing queued)",
            of(planned.len())
        ),
        Some(sent) => println!(
            "{id}: queued {} of {}; the enricher reads each again: one whose data changed sends \
             a change event, one unchanged none",
            sent.queued,
            of(planned.len())
        ),
    }
}
