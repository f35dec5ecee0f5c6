//! `hookline redrive`: moves the dead-letter queue's messages back to the events queue, so the
//! enricher tries them again (`hookline::ops::redrive`, which batches, sends and deletes); this
//! verb checks the two queue URLs, wires them to SQS, shows the progress and prints the count.

use crate::confirm::{Action, Confirmation, Yes};
use crate::failure::Failure;
use crate::resources::{Resource, ResourceArgs};
use hookline::ops::queues::{Depth, Queue, QueueDepths, SqsQueues};
use hookline::ops::redrive::{messages, redrive, SqsPair, Tally};
use std::process::ExitCode;

pub const EXAMPLES: &str = "\
Examples:
  hookline redrive --stack hookline --dry-run
  hookline redrive --stack hookline
  hookline redrive --dlq-url \"$DLQ\" --queue-url \"$QUEUE\" --limit 100 --yes --json
  hookline redrive --stack hookline --dlq-url \"$RETAINED_QUEUE\"   # after an upgrade: a retained queue, standard or FIFO";

#[derive(clap::Args, Debug)]
pub struct RedriveArgs {
    #[command(flatten)]
    pub resources: ResourceArgs,
    /// Count the dead-letter queue's messages (SQS's approximate count) and move none.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub yes: Yes,
    /// Move at most N messages.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: Option<u64>,
    #[command(flatten)]
    pub output: crate::output::Output,
}

/// What redrive is about to do, as it asks and refuses: `what` says how many, from where to
/// where.
fn moving(what: String) -> Action {
    Action {
        what,
        go_ahead: "move them",
        instead: "count them",
        untouched: "moved",
    }
}

pub async fn run(args: &RedriveArgs) -> Result<ExitCode, Failure> {
    let confirmation = Confirmation::new(args.yes, args.dry_run);
    confirmation.nobody_to_ask(|| {
        moving("redrive moves the dead-letter queue's messages to the events queue".into())
    })?;
    let located = args
        .resources
        .locate(&[Resource::DeadLetterQueue, Resource::EventsQueue])
        .await?;
    let queues = Queues::new(
        located.get(Resource::DeadLetterQueue),
        located.get(Resource::EventsQueue),
    )?;
    if !args.dry_run {
        located.announce("redrive").await;
    }
    let pair = SqsPair(SqsQueues::new(
        aws_sdk_sqs::Client::new(&located.config),
        &queues.events,
        &queues.dead_letter,
    ));
    let waiting = pair.0.depth(Queue::DeadLetter).await.map_err(|e| {
        Failure::Failed(format!(
            "cannot read the dead-letter queue {}: {}",
            e.url, e.reason
        ))
    })?;
    let movable = args.limit.unwrap_or(u64::MAX).min(waiting.waiting);
    if args.dry_run {
        print_dry_run(args.output.json, movable, &waiting, &queues);
        return Ok(ExitCode::SUCCESS);
    }

    // Sized from SQS's approximate count.
    confirmation.ask(&moving(format!(
        "redrive moves {} (SQS's approximate count) from the dead-letter queue {} to the \
         events queue {}",
        messages(movable),
        queues.dead_letter,
        queues.events
    )))?;
    let bar = crate::progress::bar(
        movable,
        "{spinner} redriving {bar:30} {pos}/{len} messages ({elapsed})",
    );
    let tally = redrive(&pair, args.limit, |handled| {
        crate::progress::advance(&bar, handled)
    })
    .await
    .map_err(Failure::Failed)?;
    bar.finish_and_clear();

    print_moved(args.output.json, &tally, &queues);
    match tally.problem() {
        Some(problem) => Err(Failure::Failed(problem)),
        None => Ok(ExitCode::SUCCESS),
    }
}

/// The two queues of a move, checked before any call.
struct Queues {
    dead_letter: String,
    events: String,
}

impl Queues {
    fn new(dead_letter: &str, events: &str) -> Result<Self, Failure> {
        check_queue_url("dead-letter queue", "--dlq-url", dead_letter)?;
        check_queue_url("events queue", "--queue-url", events)?;
        if dead_letter == events {
            return Err(Failure::Usage(format!(
                "the dead-letter queue and the events queue are the same queue ({dead_letter})"
            )));
        }
        Ok(Self {
            dead_letter: dead_letter.to_string(),
            events: events.to_string(),
        })
    }
}

/// An SQS queue URL is `https://<endpoint>/<account>/<queue name>`; anything else (an ARN, a
/// bare name, a typo) is refused before any call, naming the flag.
pub fn check_queue_url(what: &str, flag: &str, url: &str) -> Result<(), Failure> {
    let shape = "https://sqs.<region>.amazonaws.com/<account>/<queue name>";
    let refuse = |why: &str| {
        Failure::Usage(format!(
            "the {what} URL {url:?} {why}: pass a queue URL ({shape}) with {flag}, or --stack"
        ))
    };
    if url.starts_with("arn:") {
        return Err(refuse("is an ARN, not a URL"));
    }
    let parsed = reqwest::Url::parse(url).map_err(|_| refuse("is not a URL"))?;
    if !matches!(parsed.scheme(), "https" | "http") || parsed.host_str().is_none() {
        return Err(refuse("is not an http(s) URL"));
    }
    let segments: Vec<&str> = parsed
        .path_segments()
        .map(|s| s.filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    if segments.len() != 2 || parsed.query().is_some() {
        return Err(refuse("does not end in /<account>/<queue name>"));
    }
    Ok(())
}

fn print_moved(json: bool, tally: &Tally, queues: &Queues) {
    if json {
        let object = serde_json::json!({
            "moved": tally.moved,
            "failed": tally.failed,
            "not_deleted": tally.not_deleted,
            "dead_letter_queue": queues.dead_letter,
            "events_queue": queues.events,
            "dry_run": false,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&object).expect("JSON serializes")
        );
    } else {
        println!(
            "moved {} from the dead-letter queue to the events queue",
            messages(tally.moved)
        );
    }
}

fn print_dry_run(json: bool, would_move: u64, waiting: &Depth, queues: &Queues) {
    if json {
        let object = serde_json::json!({
            "would_move": would_move,
            "in_flight": waiting.in_flight,
            "dead_letter_queue": queues.dead_letter,
            "events_queue": queues.events,
            "dry_run": true,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&object).expect("JSON serializes")
        );
    } else {
        let in_flight = if waiting.in_flight > 0 {
            format!(
                "; {} more in flight (received and not yet visible again)",
                waiting.in_flight
            )
        } else {
            String::new()
        };
        println!(
            "would move {} from the dead-letter queue to the events queue (dry run; SQS's \
             approximate count{in_flight})",
            messages(would_move)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(result: Result<Queues, Failure>) -> String {
        match result {
            Err(Failure::Usage(message)) => message,
            Err(Failure::Failed(message)) => panic!("exit 1, not 2: {message}"),
            Ok(_) => panic!("accepted"),
        }
    }

    const DLQ: &str = "https://sqs.eu-west-1.amazonaws.com/123456789012/hookline-events-dlq";
    const QUEUE: &str = "https://sqs.eu-west-1.amazonaws.com/123456789012/hookline-events";

    #[test]
    fn queue_urls_are_checked_before_any_call() {
        assert!(Queues::new(DLQ, QUEUE).is_ok());
        let local = "http://127.0.0.1:5000/123456789012/q.fifo";
        assert!(Queues::new(local, &format!("{QUEUE}.fifo")).is_ok());

        let arn = usage(Queues::new("arn:aws:sqs:eu-west-1:1:q", QUEUE));
        assert!(arn.contains("is an ARN, not a URL"), "{arn}");
        assert!(arn.contains("--dlq-url"), "{arn}");
        let name = usage(Queues::new(DLQ, "hookline-events"));
        assert!(name.contains("\"hookline-events\" is not a URL"), "{name}");
        assert!(name.contains("--queue-url"), "{name}");
        let short_path = usage(Queues::new("https://sqs.eu-west-1.amazonaws.com/q", QUEUE));
        assert!(short_path.contains("does not end in /<account>/<queue name>"));
        assert!(usage(Queues::new("ftp://host/1/q", QUEUE)).contains("not an http(s) URL"));
        assert!(usage(Queues::new(QUEUE, QUEUE)).contains("are the same queue"));
        // A retained queue of the other type, after a change of QueueType.
        assert!(Queues::new(&format!("{DLQ}.fifo"), QUEUE).is_ok());
        assert!(Queues::new(DLQ, &format!("{QUEUE}.fifo")).is_ok());
    }
}
