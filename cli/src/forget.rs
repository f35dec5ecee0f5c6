//! `hookline forget`: erases one identity's data everywhere hookline keeps it, and tells
//! downstream systems (`hookline::ops::forget`, which decides what is erased and how each item
//! is told); this verb wires it to DynamoDB, SQS and EventBridge and prints.

use crate::confirm::{Action, Confirmation, Yes};
use crate::failure::Failure;
use crate::identities::IdentityArgs;
use crate::resources::{Resource, ResourceArgs};
use hookline::clock::unix_now;
use hookline::history::DynamoDbHistory;
use hookline::identity::{DynamoDbIdentities, EventBridgePublisher, IdentityKey};
use hookline::ops::forget::{
    closing_line, forget, item_json, item_line, summary_json, Bus, DynamoDbRecords, Ports,
};
use hookline::ops::queues::SqsQueues;
use std::process::ExitCode;

pub const EXAMPLES: &str = "\
Examples:
  hookline forget --stack hookline argyle 0187c66e-f13b-31e4-6b2c-6a0dd4f67e43 --dry-run
  hookline forget --stack hookline argyle 0187c66e-f13b-31e4-6b2c-6a0dd4f67e43 --yes
  hookline forget --stack hookline midbound evt_2Qk9 --yes --json

Erase the identity at the provider first: a notification still queued, or sent later, is
enriched normally and fetches the identity again while the provider has it.";

#[derive(clap::Args, Debug)]
pub struct ForgetArgs {
    #[command(flatten)]
    pub identity: IdentityArgs,
    /// Erase nothing: list what would be erased.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub yes: Yes,
    #[command(flatten)]
    pub resources: ResourceArgs,
    #[command(flatten)]
    pub output: crate::output::Output,
}

/// What forget is about to do, as it asks and refuses.
fn erasing(key: &IdentityKey) -> Action {
    Action {
        what: format!(
            "forget erases {} {}'s data for good (the identity record, its history and its \
             events' records) and sends a forgotten change event",
            key.provider, key.resource_id
        ),
        go_ahead: "erase it",
        instead: "see what it would erase",
        untouched: "erased",
    }
}

pub async fn run(args: &ForgetArgs) -> Result<ExitCode, Failure> {
    let key = args.identity.key();
    let confirmation = Confirmation::new(args.yes, args.dry_run);
    confirmation.nobody_to_ask(|| erasing(&key))?;
    let mut wanted = vec![
        Resource::IdentitiesTable,
        Resource::HistoryTable,
        Resource::EventsTable,
        Resource::EventsQueue,
        Resource::DeadLetterQueue,
    ];
    if !args.dry_run {
        wanted.push(Resource::EventBus);
    }
    let located = args.resources.locate(&wanted).await?;
    if !args.dry_run {
        located.announce("forget").await;
    }
    // Asked once the stack and its resources are told.
    confirmation.ask(&erasing(&key))?;
    let dynamodb = aws_sdk_dynamodb::Client::new(&located.config);
    let identities =
        DynamoDbIdentities::new(dynamodb.clone(), located.get(Resource::IdentitiesTable));
    let history = DynamoDbHistory::new(dynamodb.clone(), located.get(Resource::HistoryTable));
    let records = DynamoDbRecords::new(dynamodb, located.get(Resource::EventsTable));
    let queues = SqsQueues::new(
        aws_sdk_sqs::Client::new(&located.config),
        located.get(Resource::EventsQueue),
        located.get(Resource::DeadLetterQueue),
    );
    let publisher = Bus((!args.dry_run).then(|| {
        EventBridgePublisher::new(
            aws_sdk_eventbridge::Client::new(&located.config),
            located.get(Resource::EventBus),
            false,
        )
    }));
    let ports = Ports {
        identities: &identities,
        history: &history,
        records: &records,
        queues: &queues,
        publisher: &publisher,
    };
    let tally = forget(&ports, &key, args.dry_run, unix_now(), |item| {
        if args.output.json {
            println!("{}", item_json(item, args.dry_run));
        } else {
            println!("{}", item_line(item, args.dry_run));
        }
    })
    .await;
    if args.output.json {
        println!("{}", summary_json(&key, &tally, args.dry_run));
    } else {
        println!("{}", closing_line(&key, &tally, args.dry_run));
    }
    if tally.failed > 0 {
        return Err(Failure::Failed(format!(
            "{} of forget's steps failed (above): run it again for what is left",
            tally.failed
        )));
    }
    Ok(ExitCode::SUCCESS)
}
