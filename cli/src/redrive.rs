//! `hookline redrive`: moves the dead-letter queue's messages back to the events queue, so the
//! enricher tries them again (after an API outage, a fixed credential).
//!
//! The move is done by hand (receive, send, delete) rather than with SQS's
//! `StartMessageMoveTask`: that task is asynchronous and reports no count of its own, its
//! documentation long said FIFO queues were not supported (and a FIFO message needs a fresh
//! deduplication id, which the task cannot give), the emulator the tests run on does not
//! implement it, and it needs `sqs:StartMessageMoveTask`, which the stack's OperatorPolicy does not
//! grant. By hand, the CLI knows exactly which message was sent and deletes only those.

use crate::failure::Failure;
use crate::resources::{Resource, ResourceArgs};
use crate::stack::short;
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, Message, MessageAttributeValue, MessageSystemAttributeName,
    SendMessageBatchRequestEntry,
};
use hookline::ops::depth::{Depth, Queue, QueueDepths, SqsQueues};
use std::ops::Range;
use std::process::ExitCode;

pub const EXAMPLES: &str = "\
Examples:
  hookline redrive --stack hookline --dry-run
  hookline redrive --stack hookline
  hookline redrive --dlq-url \"$DLQ\" --queue-url \"$QUEUE\" --limit 100 --json";

#[derive(clap::Args, Debug)]
pub struct RedriveArgs {
    #[command(flatten)]
    pub resources: ResourceArgs,
    /// Count the dead-letter queue's messages (SQS's approximate count) and move none.
    #[arg(long)]
    pub dry_run: bool,
    /// Move at most N messages.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: Option<u64>,
    /// Print a JSON object instead of a sentence.
    #[arg(long)]
    pub json: bool,
}

/// How long a received message stays hidden in the dead-letter queue: one whose send failed is
/// visible there again after this, and not received twice by one run.
const VISIBILITY_SECONDS: i32 = 120;

/// SQS's limit on one SendMessageBatch: the bodies and message attributes of all its entries.
const BATCH_BYTES: usize = 1_048_576;

pub async fn run(args: &RedriveArgs) -> Result<ExitCode, Failure> {
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
    let sqs = aws_sdk_sqs::Client::new(&located.config);
    let waiting = waiting(&sqs, &queues.dead_letter).await?;
    let movable = args.limit.unwrap_or(u64::MAX).min(waiting.waiting);
    if args.dry_run {
        print_dry_run(args.json, movable, &waiting, &queues);
        return Ok(ExitCode::SUCCESS);
    }

    let bar = progress(movable);
    let mut tally = Tally::default();
    // Set when the events queue refused a whole call: the run stops there.
    let mut refused = false;
    while !refused {
        let wanted = match args.limit {
            Some(limit) => limit.saturating_sub(tally.handled()).min(10),
            None => 10,
        };
        if wanted == 0 {
            break;
        }
        let received = receive(&sqs, &queues.dead_letter, wanted as i32).await?;
        if received.is_empty() {
            break;
        }
        let sizes: Vec<usize> = received.iter().map(message_bytes).collect();
        for range in batches_by_size(&sizes, BATCH_BYTES) {
            let batch = &received[range];
            if refused {
                // The events queue refused a whole batch: the rest stays in the dead-letter
                // queue as well, untouched.
                tally.failed += batch.len() as u64;
                continue;
            }
            match move_batch(&sqs, &queues, batch).await {
                Ok(outcome) => tally.add(outcome),
                Err(reason) => {
                    tally.add(BatchOutcome {
                        failed: batch.len() as u64,
                        reason: Some(reason),
                        ..BatchOutcome::default()
                    });
                    refused = true;
                }
            }
            bar.set_position(tally.handled());
            if bar.length().is_some_and(|length| length < bar.position()) {
                // More arrived while moving (the approximate count was low).
                bar.set_length(bar.position());
            }
        }
    }
    bar.finish_and_clear();

    print_moved(args.json, &tally, &queues);
    match tally.problem() {
        Some(problem) => Err(Failure::Failed(problem)),
        None => Ok(ExitCode::SUCCESS),
    }
}

/// The two queues of a move, checked before any call.
struct Queues {
    dead_letter: String,
    events: String,
    fifo: bool,
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
        // SQS requires a FIFO queue's name to end in `.fifo`, as the product's queue adapter
        // also relies on.
        let fifo = dead_letter.ends_with(".fifo");
        if fifo != events.ends_with(".fifo") {
            return Err(Failure::Usage(format!(
                "the dead-letter queue is {} and the events queue is {}: a FIFO queue's \
                 dead-letter queue is FIFO too",
                kind(fifo),
                kind(!fifo)
            )));
        }
        Ok(Self {
            dead_letter: dead_letter.to_string(),
            events: events.to_string(),
            fifo,
        })
    }
}

fn kind(fifo: bool) -> &'static str {
    if fifo {
        "FIFO"
    } else {
        "standard"
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

/// What the dead-letter queue holds.
async fn waiting(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> Result<Depth, Failure> {
    SqsQueues::new(sqs.clone(), "", queue_url)
        .depth(Queue::DeadLetter)
        .await
        .map_err(|e| {
            Failure::Failed(format!(
                "cannot read the dead-letter queue {queue_url}: {}",
                e.reason
            ))
        })
}

/// Up to `count` messages with every message attribute and, for a FIFO queue, the group and
/// deduplication ids. Long polling (1 s) asks every SQS server, so an empty answer means empty.
async fn receive(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    count: i32,
) -> Result<Vec<Message>, Failure> {
    let received = sqs
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(count)
        .visibility_timeout(VISIBILITY_SECONDS)
        .wait_time_seconds(1)
        .message_attribute_names("All")
        .message_system_attribute_names(MessageSystemAttributeName::MessageGroupId)
        .message_system_attribute_names(MessageSystemAttributeName::MessageDeduplicationId)
        .send()
        .await
        .map_err(|e| {
            Failure::Failed(format!(
                "cannot receive from the dead-letter queue {queue_url}: {}",
                short(&e)
            ))
        })?;
    Ok(received.messages.unwrap_or_default())
}

/// What became of one batch.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct BatchOutcome {
    /// Sent to the events queue and deleted from the dead-letter queue.
    moved: u64,
    /// Refused by the events queue: still in the dead-letter queue.
    failed: u64,
    /// Sent, but still in the dead-letter queue too (its delete failed).
    not_deleted: u64,
    /// Why the first refused message was refused (SQS's code and message).
    reason: Option<String>,
    /// Why the first delete failed.
    delete_reason: Option<String>,
}

/// Sends `batch` to the events queue and deletes from the dead-letter queue what the send
/// accepted. `Err` when the events queue refused the whole call (no such queue, access denied):
/// nothing of the batch was sent.
async fn move_batch(
    sqs: &aws_sdk_sqs::Client,
    queues: &Queues,
    batch: &[Message],
) -> Result<BatchOutcome, String> {
    let mut send = sqs.send_message_batch().queue_url(&queues.events);
    for (index, message) in batch.iter().enumerate() {
        send = send.entries(resent(index, message, queues.fifo));
    }
    let sent = send.send().await.map_err(|e| {
        format!(
            "the events queue {} refused the messages: {}",
            queues.events,
            short(&e)
        )
    })?;
    let mut outcome = BatchOutcome {
        failed: sent.failed().len() as u64,
        reason: sent
            .failed()
            .first()
            .map(|f| format!("{}: {}", f.code(), f.message().unwrap_or_default())),
        ..BatchOutcome::default()
    };
    let accepted: Vec<DeleteMessageBatchRequestEntry> = sent
        .successful()
        .iter()
        .filter_map(|entry| {
            let message = batch.get(entry.id().parse::<usize>().ok()?)?;
            DeleteMessageBatchRequestEntry::builder()
                .id(entry.id())
                .receipt_handle(message.receipt_handle()?)
                .build()
                .ok()
        })
        .collect();
    if accepted.is_empty() {
        return Ok(outcome);
    }
    let count = accepted.len() as u64;
    match sqs
        .delete_message_batch()
        .queue_url(&queues.dead_letter)
        .set_entries(Some(accepted))
        .send()
        .await
    {
        Ok(deleted) => {
            outcome.not_deleted = deleted.failed().len() as u64;
            outcome.moved = count - outcome.not_deleted;
            outcome.delete_reason = deleted
                .failed()
                .first()
                .map(|f| format!("{}: {}", f.code(), f.message().unwrap_or_default()));
        }
        Err(e) => {
            outcome.not_deleted = count;
            outcome.delete_reason = Some(short(&e));
        }
    }
    Ok(outcome)
}

/// The events-queue entry for a dead-letter message: the same body and message attributes; on
/// a FIFO queue the same group and a deduplication id of its own (the original's would make SQS
/// drop it as a repeat within 5 minutes of the first send). The id is derived from the original
/// and the dead-letter message's id, so a run that sent it but failed to delete it and is run
/// again within 5 minutes does not send it twice, while the message's next trip through the
/// dead-letter queue (a new message id) is sent again.
fn resent(index: usize, message: &Message, fifo: bool) -> SendMessageBatchRequestEntry {
    let system = message.attributes();
    let system = |name: &MessageSystemAttributeName| system.and_then(|s| s.get(name));
    let mut entry = SendMessageBatchRequestEntry::builder()
        .id(index.to_string())
        .message_body(message.body().unwrap_or_default())
        .set_message_attributes(message.message_attributes().cloned());
    if fifo {
        let message_id = message.message_id().unwrap_or_default();
        entry = entry
            .set_message_group_id(system(&MessageSystemAttributeName::MessageGroupId).cloned())
            .message_deduplication_id(redriven_deduplication_id(
                system(&MessageSystemAttributeName::MessageDeduplicationId).map(String::as_str),
                message_id,
            ));
    }
    entry.build().expect("id and body are set")
}

fn redriven_deduplication_id(original: Option<&str>, dead_letter_message_id: &str) -> String {
    hookline::digest::sha256_hex(
        format!(
            "{}#redrive:{dead_letter_message_id}",
            original.unwrap_or(dead_letter_message_id)
        )
        .as_bytes(),
    )
}

/// A message's size as SQS counts it against a batch's limit: the body and each message
/// attribute's name, type and value.
fn message_bytes(message: &Message) -> usize {
    let attributes: usize = message
        .message_attributes()
        .into_iter()
        .flatten()
        .map(|(name, value)| name.len() + attribute_bytes(value))
        .sum();
    message.body().map_or(0, str::len) + attributes
}

fn attribute_bytes(value: &MessageAttributeValue) -> usize {
    value.data_type().len()
        + value.string_value().map_or(0, str::len)
        + value.binary_value().map_or(0, |b| b.as_ref().len())
        + value
            .string_list_values()
            .iter()
            .map(String::len)
            .sum::<usize>()
        + value
            .binary_list_values()
            .iter()
            .map(|b| b.as_ref().len())
            .sum::<usize>()
}

/// Consecutive runs of messages whose sizes add up to at most `limit` bytes (a message larger
/// than the limit alone in its run: SQS then refuses it, and says why).
fn batches_by_size(sizes: &[usize], limit: usize) -> Vec<Range<usize>> {
    let mut batches = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (index, size) in sizes.iter().enumerate() {
        if index > start && bytes + size > limit {
            batches.push(start..index);
            (start, bytes) = (index, 0);
        }
        bytes += size;
    }
    if start < sizes.len() {
        batches.push(start..sizes.len());
    }
    batches
}

/// The run's counts: its batches' outcomes added up, the first reason kept.
type Tally = BatchOutcome;

impl Tally {
    fn add(&mut self, batch: BatchOutcome) {
        self.moved += batch.moved;
        self.failed += batch.failed;
        self.not_deleted += batch.not_deleted;
        self.reason = self.reason.take().or(batch.reason);
        self.delete_reason = self.delete_reason.take().or(batch.delete_reason);
    }

    /// Messages this run took out of the dead-letter queue's way: moved, refused or sent twice.
    fn handled(&self) -> u64 {
        self.moved + self.failed + self.not_deleted
    }

    /// Why the run exits 1, if it does.
    fn problem(&self) -> Option<String> {
        let mut problems = Vec::new();
        if self.failed > 0 {
            problems.push(format!(
                "{} could not be sent and {} in the dead-letter queue (visible again in \
                 {VISIBILITY_SECONDS} s){}",
                messages(self.failed),
                if self.failed == 1 { "stays" } else { "stay" },
                self.reason
                    .as_ref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            ));
        }
        if self.not_deleted > 0 {
            problems.push(format!(
                "{} sent to the events queue could not be deleted from the dead-letter queue, \
                 so a later redrive sends {} again{}",
                messages(self.not_deleted),
                if self.not_deleted == 1 { "it" } else { "them" },
                self.delete_reason
                    .as_ref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            ));
        }
        (!problems.is_empty()).then(|| problems.join("; "))
    }
}

/// `1 message`, `3 messages`.
fn messages(count: u64) -> String {
    format!("{count} message{}", if count == 1 { "" } else { "s" })
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

/// The bar on stderr (drawn only on a terminal), sized from SQS's approximate count.
fn progress(length: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(length);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} redriving {bar:30} {pos}/{len} messages ({elapsed})",
        )
        .expect("a valid template"),
    );
    bar
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
        let queues = Queues::new(DLQ, QUEUE).unwrap_or_else(|_| panic!("refused"));
        assert!(!queues.fifo);
        let local = "http://127.0.0.1:5000/123456789012/q.fifo";
        let fifo = Queues::new(local, &format!("{QUEUE}.fifo"));
        assert!(fifo.unwrap_or_else(|_| panic!("refused")).fifo);

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
        let mixed = usage(Queues::new(&format!("{DLQ}.fifo"), QUEUE));
        assert!(
            mixed.contains("dead-letter queue is FIFO and the events queue is standard"),
            "{mixed}"
        );
    }

    #[test]
    fn a_redriven_message_gets_a_deduplication_id_of_its_own_per_trip() {
        let first = redriven_deduplication_id(Some("d-1"), "m-1");
        assert_ne!(first, "d-1");
        assert_eq!(first.len(), 64, "within SQS's 128 characters");
        // The same dead-letter message again (its delete failed): the same id, dropped by SQS.
        assert_eq!(first, redriven_deduplication_id(Some("d-1"), "m-1"));
        // Its next trip through the dead-letter queue is another message.
        assert_ne!(first, redriven_deduplication_id(Some("d-1"), "m-2"));
        assert_ne!(first, redriven_deduplication_id(Some("d-2"), "m-1"));
    }

    #[test]
    fn batches_stay_within_the_byte_limit_in_order() {
        assert_eq!(batches_by_size(&[], 10), Vec::<Range<usize>>::new());
        assert_eq!(batches_by_size(&[3, 3, 3], 10), vec![0..3]);
        assert_eq!(batches_by_size(&[4, 4, 4, 4], 10), vec![0..2, 2..4]);
        assert_eq!(batches_by_size(&[10, 1], 10), vec![0..1, 1..2]);
        // Too large alone: sent alone, for SQS to refuse with its reason.
        assert_eq!(batches_by_size(&[1, 12, 1], 10), vec![0..1, 1..2, 2..3]);
    }

    #[test]
    fn a_message_counts_its_body_and_attributes() {
        let attribute = MessageAttributeValue::builder()
            .data_type("String")
            .string_value("argyle")
            .build()
            .unwrap();
        let message = Message::builder()
            .body("{\"a\":1}")
            .message_attributes("provider", attribute)
            .build();
        assert_eq!(message_bytes(&message), 7 + "provider".len() + 6 + 6);
    }

    #[test]
    fn what_went_wrong_is_counted_and_said() {
        assert_eq!(Tally::default().problem(), None);
        let mut tally = Tally::default();
        tally.add(BatchOutcome {
            moved: 8,
            failed: 1,
            not_deleted: 1,
            reason: Some("InvalidParameterValue: too long".into()),
            delete_reason: Some("ReceiptHandleIsInvalid: gone".into()),
        });
        tally.add(BatchOutcome {
            moved: 2,
            failed: 2,
            reason: Some("AccessDenied: no".into()),
            ..BatchOutcome::default()
        });
        assert_eq!((tally.moved, tally.failed, tally.not_deleted), (10, 3, 1));
        assert_eq!(tally.handled(), 14, "what counts against --limit");
        assert_eq!(
            tally.problem().unwrap(),
            "3 messages could not be sent and stay in the dead-letter queue (visible again in \
             120 s): InvalidParameterValue: too long; 1 message sent to the events queue could \
             not be deleted from the dead-letter queue, so a later redrive sends it again: \
             ReceiptHandleIsInvalid: gone"
        );
        let one = Tally {
            failed: 1,
            ..Tally::default()
        };
        assert_eq!(
            one.problem().unwrap(),
            "1 message could not be sent and stays in the dead-letter queue (visible again in \
             120 s)"
        );
    }
}
