//! `hookline dlq`: the dead-letter queue one message at a time. `list` names each message,
//! `show` prints one whole, `drop` deletes exactly one for good; `redrive` moves them all back.
//!
//! SQS cannot read a queue without receiving from it, and a received message is hidden from
//! every other receiver. So each verb receives until the queue answers empty (or the wanted
//! message turns up), holding what it received hidden so that no message is read twice, then
//! makes every held message visible again at once, whatever happened on the way: the enricher's
//! redrive and the next `hookline` run find the queue as it was, minus a dropped message.
//! Should the run die, what it held becomes visible again after [`HOLD_SECONDS`].
//!
//! On a FIFO queue SQS hands out no more of a message group while some of it is held, so a
//! group with more than the 10 messages of one receive is seen only in part.

use crate::confirm::{Action, Confirmation, Yes};
use crate::failure::Failure;
use crate::resources::{Resource, ResourceArgs};
use crate::stack::short;
use aws_sdk_sqs::types::ChangeMessageVisibilityBatchRequestEntry;
use hookline::clock::rfc3339;
use hookline::ops::queues::{receive, refusal};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::future::Future;
use std::process::ExitCode;

pub const EXAMPLES: &str = "\
Examples:
  hookline dlq list --stack hookline
  hookline dlq show --stack hookline 5fea7756-0ea4-451a-a703-a558b933e274
  hookline dlq drop --stack hookline 5fea7756-0ea4-451a-a703-a558b933e274 --dry-run
  hookline dlq drop --dlq-url \"$DLQ\" 5fea7756-0ea4-451a-a703-a558b933e274 --yes --json";

#[derive(clap::Args, Debug)]
pub struct DlqArgs {
    #[command(subcommand)]
    pub command: DlqCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum DlqCommand {
    /// One line per message: its id, when it was first sent, its receives, its event.
    List(ListArgs),
    /// One message whole: its event's body, attributes and counts (the payload, on stdout).
    Show(OneArgs),
    /// Delete one message for good, by its message id; the others stay as they were.
    Drop(DropArgs),
}

#[derive(clap::Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    pub resources: ResourceArgs,
    /// List at most N messages.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: Option<u64>,
    #[command(flatten)]
    pub output: crate::output::Output,
}

#[derive(clap::Args, Debug)]
pub struct OneArgs {
    #[command(flatten)]
    pub resources: ResourceArgs,
    /// The message's id, as `hookline dlq list` prints it.
    #[arg(value_name = "MESSAGE_ID")]
    pub message_id: String,
    #[command(flatten)]
    pub output: crate::output::Output,
}

#[derive(clap::Args, Debug)]
pub struct DropArgs {
    #[command(flatten)]
    pub one: OneArgs,
    /// Find the message and say what would be dropped; delete nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub yes: Yes,
}

/// How long a received message stays hidden if the run never makes it visible again.
pub const HOLD_SECONDS: i32 = 60;

/// A dead-letter message as received: what an operator is shown, and the handle to act on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
    /// The message attributes the webhook functions set (`provider`, `event_type`, ...).
    pub attributes: BTreeMap<String, String>,
    /// When the message was first sent to the events queue, Unix milliseconds.
    pub sent_at_ms: Option<i64>,
    /// How many times it was received, counting the enricher's tries and this one.
    pub receives: Option<u64>,
    /// Its FIFO message group.
    pub group: Option<String>,
}

impl DeadLetter {
    /// The event id the message carries in its body (the queue message contract's `event_id`).
    pub fn event_id(&self) -> Option<String> {
        let body: Value = serde_json::from_str(&self.body).ok()?;
        body.get("event_id")?.as_str().map(String::from)
    }

    fn attribute(&self, name: &str) -> &str {
        self.attributes.get(name).map_or("", String::as_str)
    }

    /// What a person is told about it: never the payload.
    fn summary(&self) -> String {
        format!(
            "{} ({} {}, event {})",
            self.message_id,
            self.attribute("provider"),
            self.attribute("event_type"),
            self.event_id().unwrap_or_else(|| "unknown".into())
        )
    }

    /// The object `list --json` prints per message: no payload.
    fn listed(&self) -> Value {
        json!({
            "message_id": self.message_id,
            "sent_at": self.sent_at_ms.map(|ms| rfc3339(ms / 1000)),
            "receives": self.receives,
            "provider": self.attributes.get("provider"),
            "event_type": self.attributes.get("event_type"),
            "event_id": self.event_id(),
            "group": self.group,
        })
    }

    /// The object `show --json` prints: the listing and the whole message.
    fn shown(&self) -> Value {
        let mut object = self.listed();
        object["attributes"] = json!(self.attributes);
        object["body"] =
            serde_json::from_str(&self.body).unwrap_or_else(|_| Value::String(self.body.clone()));
        object
    }
}

/// The dead-letter queue as these verbs use it.
pub trait DeadLetterQueue {
    /// Up to 10 visible messages, each hidden for [`HOLD_SECONDS`]; none when the queue is empty.
    fn receive(&self) -> impl Future<Output = Result<Vec<DeadLetter>, String>>;
    /// Deletes the message received with `receipt_handle`.
    fn delete(&self, receipt_handle: &str) -> impl Future<Output = Result<(), String>>;
    /// Makes the held messages visible again now; the error names how many stay hidden.
    fn release(&self, held: &[DeadLetter]) -> impl Future<Output = Result<(), String>>;
}

/// Receives into `held` until the queue answers empty, `limit` messages are held, or one is
/// `wanted`; that one's index in `held`.
async fn receive_until<Q: DeadLetterQueue>(
    queue: &Q,
    held: &mut Vec<DeadLetter>,
    limit: usize,
    wanted: Option<&str>,
) -> Result<Option<usize>, String> {
    while held.len() < limit {
        let received = queue.receive().await?;
        if received.is_empty() {
            break;
        }
        let start = held.len();
        held.extend(received);
        if let Some(id) = wanted {
            if let Some(found) = held[start..].iter().position(|m| m.message_id == id) {
                return Ok(Some(start + found));
            }
        }
    }
    Ok(None)
}

/// Releases `held` after `result`. A failed release fails the run, its message after what
/// `done` says the run did (a message dropped must not go unsaid) and after `result`'s error.
async fn released<Q: DeadLetterQueue, T>(
    queue: &Q,
    held: &[DeadLetter],
    result: Result<T, Failure>,
    done: impl FnOnce(&T) -> Option<String>,
) -> Result<T, Failure> {
    let release = if held.is_empty() {
        Ok(())
    } else {
        queue.release(held).await
    };
    let Err(e) = release else {
        return result;
    };
    let hidden = format!("{e}: they are visible again after {HOLD_SECONDS} s");
    Err(match result {
        Ok(value) => Failure::Failed(match done(&value) {
            Some(done) => format!("{done}; {hidden}"),
            None => hidden,
        }),
        Err(Failure::Failed(first)) => Failure::Failed(format!("{first}; {hidden}")),
        Err(Failure::Usage(first)) => Failure::Usage(format!("{first}; {hidden}")),
    })
}

/// Every message in the queue (at most `limit`), in the order received; all visible again after.
pub async fn list<Q: DeadLetterQueue>(queue: &Q, limit: usize) -> Result<Vec<DeadLetter>, Failure> {
    let mut held = Vec::new();
    let result = receive_until(queue, &mut held, limit, None)
        .await
        .map_err(Failure::Failed);
    released(queue, &held, result, |_| None).await?;
    Ok(held.iter().take(limit).map(without_handle).collect())
}

/// The message `message_id`; the whole queue is visible again after. Exit 1 if it is not there.
pub async fn show<Q: DeadLetterQueue>(queue: &Q, message_id: &str) -> Result<DeadLetter, Failure> {
    let mut held = Vec::new();
    let found = match receive_until(queue, &mut held, usize::MAX, Some(message_id)).await {
        Ok(Some(index)) => Ok(without_handle(&held[index])),
        Ok(None) => Err(not_found(message_id, held.len())),
        Err(e) => Err(Failure::Failed(e)),
    };
    released(queue, &held, found, |_| None).await
}

/// What `drop` did with the message it found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dropped {
    Deleted(DeadLetter),
    /// A dry run: found, kept.
    WouldDelete(DeadLetter),
}

/// Finds `message_id`, asks `confirm` about it (`Ok(false)`: a dry run, keep it), deletes it,
/// and makes every other message it received visible again. Nothing is deleted when it is not
/// found, or when `confirm` refuses.
pub async fn drop_one<Q: DeadLetterQueue>(
    queue: &Q,
    message_id: &str,
    confirm: impl FnOnce(&DeadLetter) -> Result<bool, Failure>,
) -> Result<Dropped, Failure> {
    let mut held = Vec::new();
    let outcome = match receive_until(queue, &mut held, usize::MAX, Some(message_id)).await {
        Err(e) => Err(Failure::Failed(e)),
        Ok(None) => Err(not_found(message_id, held.len())),
        Ok(Some(index)) => match confirm(&held[index]) {
            Err(refused) => Err(refused),
            Ok(false) => Ok(Dropped::WouldDelete(without_handle(&held[index]))),
            Ok(true) => {
                let message = held.remove(index);
                match queue.delete(&message.receipt_handle).await {
                    Ok(()) => Ok(Dropped::Deleted(without_handle(&message))),
                    Err(e) => {
                        // Not deleted: it goes back with the others.
                        held.push(message);
                        Err(Failure::Failed(format!(
                            "cannot delete message {message_id}: {e}"
                        )))
                    }
                }
            }
        },
    };
    released(queue, &held, outcome, |dropped| match dropped {
        Dropped::Deleted(message) => Some(format!("dropped message {}", message.summary())),
        Dropped::WouldDelete(_) => None,
    })
    .await
}

fn not_found(message_id: &str, looked_at: usize) -> Failure {
    Failure::Failed(format!(
        "no message {message_id} in the dead-letter queue (looked at {looked_at}; nothing was \
         deleted): `hookline dlq list` names the messages"
    ))
}

/// A receipt handle is good only for the receive that gave it: not kept past the run.
fn without_handle(message: &DeadLetter) -> DeadLetter {
    DeadLetter {
        receipt_handle: String::new(),
        ..message.clone()
    }
}

/// The dead-letter queue on SQS.
pub struct SqsDeadLetters {
    sqs: aws_sdk_sqs::Client,
    url: String,
}

impl DeadLetterQueue for SqsDeadLetters {
    async fn receive(&self) -> Result<Vec<DeadLetter>, String> {
        let received = receive(&self.sqs, &self.url, 10, HOLD_SECONDS).await?;
        Ok(received
            .into_iter()
            .map(|message| DeadLetter {
                message_id: message.message_id,
                receipt_handle: message.receipt_handle,
                body: message.body,
                attributes: message
                    .attributes
                    .into_iter()
                    .filter_map(|(name, value)| Some((name, value.string_value()?.to_string())))
                    .collect(),
                sent_at_ms: message.sent_at_ms,
                receives: message.receives,
                group: message.group,
            })
            .collect())
    }

    async fn delete(&self, receipt_handle: &str) -> Result<(), String> {
        self.sqs
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| short(&e))
    }

    async fn release(&self, held: &[DeadLetter]) -> Result<(), String> {
        let mut hidden = 0;
        let mut reason = None;
        for chunk in held.chunks(10) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(index, message)| {
                    ChangeMessageVisibilityBatchRequestEntry::builder()
                        .id(index.to_string())
                        .receipt_handle(&message.receipt_handle)
                        .visibility_timeout(0)
                        .build()
                        .expect("id and receipt handle are set")
                })
                .collect();
            match self
                .sqs
                .change_message_visibility_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
            {
                Ok(answer) => {
                    hidden += answer.failed().len();
                    reason = reason.or_else(|| answer.failed().first().map(refusal));
                }
                Err(e) => {
                    hidden += chunk.len();
                    reason = reason.or_else(|| Some(short(&e)));
                }
            }
        }
        match reason {
            None => Ok(()),
            Some(reason) => Err(format!(
                "{hidden} of the {} messages received could not be made visible again ({reason})",
                held.len()
            )),
        }
    }
}

/// The dead-letter queue located; `changing`, the verb that will change it, is told where first.
async fn queue(
    resources: &ResourceArgs,
    changing: Option<&str>,
) -> Result<SqsDeadLetters, Failure> {
    let located = resources.locate(&[Resource::DeadLetterQueue]).await?;
    let url = located.get(Resource::DeadLetterQueue);
    crate::redrive::check_queue_url("dead-letter queue", "--dlq-url", url)?;
    if let Some(verb) = changing {
        located.announce(verb).await;
    }
    Ok(SqsDeadLetters {
        sqs: aws_sdk_sqs::Client::new(&located.config),
        url: url.to_string(),
    })
}

pub async fn run(args: &DlqArgs) -> Result<ExitCode, Failure> {
    match &args.command {
        DlqCommand::List(args) => {
            let limit = args.limit.map_or(usize::MAX, |n| n as usize);
            let messages = list(&queue(&args.resources, None).await?, limit).await?;
            print_list(args.output.json, &messages);
        }
        DlqCommand::Show(args) => {
            let message = show(&queue(&args.resources, None).await?, &args.message_id).await?;
            print_shown(args.output.json, &message);
        }
        DlqCommand::Drop(args) => {
            let message_id = &args.one.message_id;
            let confirmation = Confirmation::new(args.yes, args.dry_run);
            confirmation.nobody_to_ask(|| dropping(message_id))?;
            let queue = queue(&args.one.resources, (!args.dry_run).then_some("dlq drop")).await?;
            // Before the first receive: the hold is measured from no later than its start.
            let started = std::time::Instant::now();
            let dropped = drop_one(&queue, message_id, |message| {
                // An answer once the hold may have ended is refused: another reader may have
                // received the message since, and SQS then need not delete it for this run's
                // receipt handle, while answering that it did.
                let within = HOLD_SECONDS as u64 - 5;
                let action = dropping(&message.summary());
                confirmation.ask_before(&action, started, within)?;
                Ok(!args.dry_run)
            })
            .await?;
            print_dropped(args.one.output.json, &dropped);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What drop is about to do, as it asks and refuses: `message` names the message.
fn dropping(message: &str) -> Action {
    Action {
        what: format!("drop deletes dead-letter message {message} for good"),
        go_ahead: "delete it",
        instead: "see what it is",
        untouched: "deleted",
    }
}

fn print_list(json: bool, messages: &[DeadLetter]) {
    if json {
        for message in messages {
            println!("{}", message.listed());
        }
        return;
    }
    let rows: Vec<[String; 6]> = messages
        .iter()
        .map(|m| {
            [
                m.message_id.clone(),
                m.sent_at_ms
                    .map_or_else(String::new, |ms| rfc3339(ms / 1000)),
                m.receives.map_or_else(String::new, |n| n.to_string()),
                m.attribute("provider").to_string(),
                m.attribute("event_type").to_string(),
                m.event_id().unwrap_or_default(),
            ]
        })
        .collect();
    crate::table::print(
        [
            "MESSAGE ID",
            "SENT",
            "RECEIVES",
            "PROVIDER",
            "EVENT TYPE",
            "EVENT ID",
        ],
        &rows,
    );
}

fn print_shown(json: bool, message: &DeadLetter) {
    let shown = message.shown();
    if json {
        println!("{shown}");
        return;
    }
    let fields: Vec<[String; 2]> = [
        "message_id",
        "sent_at",
        "receives",
        "provider",
        "event_type",
        "event_id",
        "group",
    ]
    .iter()
    .filter(|name| !shown[**name].is_null())
    .map(|name| {
        let value = &shown[*name];
        let text = value
            .as_str()
            .map_or_else(|| value.to_string(), String::from);
        [name.to_string(), text]
    })
    .collect();
    crate::table::print(["FIELD", "VALUE"], &fields);
    println!(
        "{}",
        serde_json::to_string_pretty(&shown["body"]).expect("JSON serializes")
    );
}

fn print_dropped(json: bool, dropped: &Dropped) {
    let (message, deleted) = match dropped {
        Dropped::Deleted(message) => (message, true),
        Dropped::WouldDelete(message) => (message, false),
    };
    if json {
        let mut object = message.listed();
        object["dropped"] = deleted.into();
        object["dry_run"] = (!deleted).into();
        println!("{object}");
    } else if deleted {
        println!("dropped message {}", message.summary());
    } else {
        println!(
            "would drop message {} (dry run; it stays in the dead-letter queue)",
            message.summary()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// A queue in memory: visible messages, held ones, and what was deleted; `fail_delete`
    /// makes every delete fail.
    #[derive(Default)]
    struct Memory {
        visible: RefCell<Vec<DeadLetter>>,
        held: RefCell<Vec<DeadLetter>>,
        deleted: RefCell<Vec<String>>,
        receives: RefCell<usize>,
        fail_delete: bool,
        fail_release: bool,
    }

    fn message(index: usize) -> DeadLetter {
        DeadLetter {
            message_id: format!("m-{index}"),
            receipt_handle: format!("r-{index}"),
            body: format!(r#"{{"event_id":"argyle#{index}","payload":{{"secret":"x"}}}}"#),
            attributes: BTreeMap::from([
                ("provider".into(), "argyle".into()),
                ("event_type".into(), "identities.added".into()),
            ]),
            sent_at_ms: Some(1_700_000_000_000),
            receives: Some(5),
            group: None,
        }
    }

    fn with(count: usize) -> Memory {
        let memory = Memory::default();
        memory.visible.replace((0..count).map(message).collect());
        memory
    }

    impl DeadLetterQueue for Memory {
        async fn receive(&self) -> Result<Vec<DeadLetter>, String> {
            *self.receives.borrow_mut() += 1;
            let mut visible = self.visible.borrow_mut();
            let count = visible.len().min(10);
            let taken: Vec<DeadLetter> = visible.drain(..count).collect();
            self.held.borrow_mut().extend(taken.clone());
            Ok(taken)
        }
        async fn delete(&self, receipt_handle: &str) -> Result<(), String> {
            if self.fail_delete {
                return Err("AccessDenied: no".into());
            }
            let mut held = self.held.borrow_mut();
            let index = held
                .iter()
                .position(|m| m.receipt_handle == receipt_handle)
                .expect("a held message");
            self.deleted
                .borrow_mut()
                .push(held.remove(index).message_id);
            Ok(())
        }
        async fn release(&self, released: &[DeadLetter]) -> Result<(), String> {
            if self.fail_release {
                return Err(format!(
                    "{} could not be made visible again",
                    released.len()
                ));
            }
            let mut held = self.held.borrow_mut();
            for message in released {
                let index = held
                    .iter()
                    .position(|m| m.receipt_handle == message.receipt_handle)
                    .expect("released once, while held");
                self.visible.borrow_mut().push(held.remove(index));
            }
            Ok(())
        }
    }

    fn ids(messages: &[DeadLetter]) -> Vec<&str> {
        messages.iter().map(|m| m.message_id.as_str()).collect()
    }

    fn visible(memory: &Memory) -> Vec<String> {
        let mut ids: Vec<String> = ids(&memory.visible.borrow())
            .into_iter()
            .map(String::from)
            .collect();
        ids.sort();
        ids
    }

    fn all_but(count: usize, dropped: usize) -> Vec<String> {
        let mut ids: Vec<String> = (0..count)
            .filter(|i| *i != dropped)
            .map(|i| format!("m-{i}"))
            .collect();
        ids.sort();
        ids
    }

    #[tokio::test]
    async fn a_list_reads_each_message_once_and_leaves_all_visible() {
        let memory = with(23);
        let listed = list(&memory, usize::MAX).await.unwrap();
        assert_eq!(listed.len(), 23);
        assert_eq!(ids(&listed)[..3], ["m-0", "m-1", "m-2"]);
        assert_eq!(
            *memory.receives.borrow(),
            4,
            "three full receives and an empty one"
        );
        assert_eq!(visible(&memory), all_but(23, usize::MAX));
        assert!(memory.held.borrow().is_empty());

        let limited = with(23);
        assert_eq!(ids(&list(&limited, 12).await.unwrap()), ids(&listed[..12]));
        assert_eq!(visible(&limited), all_but(23, usize::MAX));
    }

    #[tokio::test]
    async fn drop_deletes_exactly_the_one_and_releases_the_rest() {
        let memory = with(23);
        let dropped = drop_one(&memory, "m-14", |_| Ok(true)).await.unwrap();
        assert!(matches!(&dropped, Dropped::Deleted(m) if m.message_id == "m-14"));
        assert_eq!(*memory.deleted.borrow(), ["m-14"]);
        assert_eq!(*memory.receives.borrow(), 2, "stops receiving once found");
        assert_eq!(visible(&memory), all_but(23, 14));
        assert!(memory.held.borrow().is_empty());
    }

    #[tokio::test]
    async fn a_dry_run_a_refusal_or_a_wrong_id_deletes_nothing() {
        let memory = with(5);
        let kept = drop_one(&memory, "m-3", |_| Ok(false)).await.unwrap();
        assert!(matches!(kept, Dropped::WouldDelete(_)));

        let refused = drop_one(&memory, "m-3", |_| Err(Failure::Usage("refused".into()))).await;
        assert!(matches!(refused, Err(Failure::Usage(_))));

        match drop_one(&memory, "m-99", |_| panic!("nothing to confirm")).await {
            Err(Failure::Failed(message)) => {
                assert!(message.contains("no message m-99"), "{message}");
                assert!(message.contains("looked at 5"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        assert!(memory.deleted.borrow().is_empty());
        assert_eq!(visible(&memory), all_but(5, usize::MAX));
    }

    #[tokio::test]
    async fn a_failed_delete_puts_the_message_back_with_the_others() {
        let memory = Memory {
            fail_delete: true,
            ..with(3)
        };
        match drop_one(&memory, "m-1", |_| Ok(true)).await {
            Err(Failure::Failed(message)) => {
                assert_eq!(message, "cannot delete message m-1: AccessDenied: no")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(visible(&memory), all_but(3, usize::MAX));
    }

    #[tokio::test]
    async fn a_failed_release_fails_the_run_and_still_says_what_was_dropped() {
        let memory = Memory {
            fail_release: true,
            ..with(3)
        };
        match drop_one(&memory, "m-1", |_| Ok(true)).await {
            Err(Failure::Failed(message)) => assert_eq!(
                message,
                "dropped message m-1 (argyle identities.added, event argyle#1); 2 could not be \
                 made visible again: they are visible again after 60 s"
            ),
            other => panic!("{other:?}"),
        }
        assert_eq!(*memory.deleted.borrow(), ["m-1"]);
        let listing = Memory {
            fail_release: true,
            ..with(3)
        };
        match list(&listing, usize::MAX).await {
            Err(Failure::Failed(message)) => assert_eq!(
                message,
                "3 could not be made visible again: they are visible again after 60 s"
            ),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn show_finds_one_and_keeps_its_body() {
        let memory = with(12);
        let shown = show(&memory, "m-11").await.unwrap();
        assert_eq!(shown.event_id().as_deref(), Some("argyle#11"));
        assert_eq!(shown.receipt_handle, "", "no handle kept");
        assert_eq!(shown.shown()["body"]["payload"]["secret"], "x");
        assert_eq!(visible(&memory), all_but(12, usize::MAX));
    }

    #[test]
    fn what_a_person_is_told_names_the_event_not_the_payload() {
        let summary = message(7).summary();
        assert_eq!(summary, "m-7 (argyle identities.added, event argyle#7)");
        let listed = message(7).listed().to_string();
        assert!(!listed.contains("secret"), "{listed}");
        assert_eq!(message(7).listed()["sent_at"], "2023-11-14T22:13:20Z");
    }
}
