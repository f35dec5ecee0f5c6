//! Redrive: the dead-letter queue's messages moved back to the events queue, so the enricher
//! tries them again (after an API outage, a fixed credential).
//!
//! The move is done by hand (receive, send, delete) rather than with SQS's
//! `StartMessageMoveTask`: that task is asynchronous and reports no count of its own, its
//! documentation long said FIFO queues were not supported (and a FIFO message needs a fresh
//! deduplication id, which the task cannot give), the emulator the tests run on does not
//! implement it, and it needs `sqs:StartMessageMoveTask`, which the stack's OperatorPolicy does
//! not grant. By hand, the run knows exactly which message was sent and deletes only those.
//!
//! [`redrive`] decides what goes in which batch, with which deduplication id, and what is
//! deleted, over the port [`QueuePair`], whose SQS adapter is [`SqsPair`].

use super::queues::{is_fifo, receive, refusal, DeadLetter, Queue, SqsQueues};
use super::sdk_error::short;
use crate::envelope::{fifo_group_id, ReceivedEnvelope};
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, MessageAttributeValue, SendMessageBatchRequestEntry,
};
use std::collections::HashMap;
use std::future::Future;
use std::ops::Range;

/// How long a received message stays hidden in the dead-letter queue: one whose send failed is
/// visible there again after this, and not received twice by one run.
pub const VISIBILITY_SECONDS: i32 = 120;

/// SQS's limit on one SendMessageBatch: the bodies and message attributes of all its entries.
const BATCH_BYTES: usize = 1_048_576;

/// SQS's most messages in one receive, and entries in one batch.
const MOST: u64 = 10;

impl DeadLetter {
    /// Its size as SQS counts it against a batch's limit: the body and each message
    /// attribute's name, type and value.
    fn bytes(&self) -> usize {
        let attributes: usize = self
            .attributes
            .iter()
            .map(|(name, value)| name.len() + attribute_bytes(value))
            .sum();
        self.body.len() + attributes
    }
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

/// A dead-letter message as the events queue is sent it.
#[derive(Debug, Clone, PartialEq)]
pub struct Resend {
    pub body: String,
    pub attributes: HashMap<String, MessageAttributeValue>,
    /// FIFO only: the original's group.
    pub group: Option<String>,
    /// FIFO only: an id of its own ([`redriven_deduplication_id`]).
    pub deduplication_id: Option<String>,
}

/// A batch call's answer, entry by entry: each entry by its index in the batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answer {
    pub succeeded: Vec<usize>,
    /// Each with SQS's code and message.
    pub failed: Vec<(usize, String)>,
}

/// The dead-letter queue and the events queue it is moved back to; or, after an upgrade, a
/// retained queue and the stack's new events queue, which may be of the other type.
pub trait QueuePair: Send + Sync {
    /// Whether the events queue, where the messages go, is a FIFO queue.
    fn fifo(&self) -> bool;

    /// Up to `count` (at most 10) dead-letter messages, each hidden for
    /// [`VISIBILITY_SECONDS`]; none when the queue is empty. The error says which queue.
    fn receive(&self, count: u64) -> impl Future<Output = Result<Vec<DeadLetter>, String>> + Send;

    /// Sends `batch` (at most 10) to the events queue. `Err` when the whole call was refused
    /// (no such queue, access denied): nothing of the batch was sent.
    fn send(&self, batch: &[Resend]) -> impl Future<Output = Result<Answer, String>> + Send;

    /// Deletes received messages from the dead-letter queue by their receipt handles (at most
    /// 10). `Err` when the whole call failed: none was deleted.
    fn delete(
        &self,
        receipt_handles: &[&str],
    ) -> impl Future<Output = Result<Answer, String>> + Send;
}

/// What a run, or one batch of it, did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    /// Sent to the events queue and deleted from the dead-letter queue.
    pub moved: u64,
    /// Refused by the events queue: still in the dead-letter queue.
    pub failed: u64,
    /// Sent, but still in the dead-letter queue too (its delete failed).
    pub not_deleted: u64,
    /// Why the first refused message was refused (SQS's code and message).
    pub reason: Option<String>,
    /// Why the first delete failed.
    pub delete_reason: Option<String>,
}

impl Tally {
    /// Adds a batch's outcome, keeping the first reasons.
    fn add(&mut self, batch: Tally) {
        self.moved += batch.moved;
        self.failed += batch.failed;
        self.not_deleted += batch.not_deleted;
        self.reason = self.reason.take().or(batch.reason);
        self.delete_reason = self.delete_reason.take().or(batch.delete_reason);
    }

    /// Messages this run took out of the dead-letter queue's way: moved, refused or sent twice.
    pub fn handled(&self) -> u64 {
        self.moved + self.failed + self.not_deleted
    }

    /// Why the run failed, if it did.
    pub fn problem(&self) -> Option<String> {
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
pub fn messages(count: u64) -> String {
    format!("{count} message{}", if count == 1 { "" } else { "s" })
}

/// Moves at most `limit` messages (all, without one) from the dead-letter queue to the events
/// queue; `on_progress` hears how many were handled after each batch. A receive that fails ends
/// the run with its error; once the events queue refuses a whole call, the run stops there and
/// what it had received stays in the dead-letter queue.
pub async fn redrive(
    pair: &impl QueuePair,
    limit: Option<u64>,
    mut on_progress: impl FnMut(u64),
) -> Result<Tally, String> {
    let mut tally = Tally::default();
    let mut refused = false;
    while !refused {
        let wanted = match limit {
            Some(limit) => limit.saturating_sub(tally.handled()).min(MOST),
            None => MOST,
        };
        if wanted == 0 {
            break;
        }
        let received = pair.receive(wanted).await?;
        if received.is_empty() {
            break;
        }
        let sizes: Vec<usize> = received.iter().map(DeadLetter::bytes).collect();
        for range in batches_by_size(&sizes, BATCH_BYTES) {
            let batch = &received[range];
            if refused {
                // The events queue refused a whole batch: the rest stays in the dead-letter
                // queue as well, untouched.
                tally.failed += batch.len() as u64;
                continue;
            }
            match move_batch(pair, batch).await {
                Ok(outcome) => tally.add(outcome),
                Err(reason) => {
                    tally.add(Tally {
                        failed: batch.len() as u64,
                        reason: Some(reason),
                        ..Tally::default()
                    });
                    refused = true;
                }
            }
            on_progress(tally.handled());
        }
    }
    Ok(tally)
}

/// Sends `batch` to the events queue and deletes from the dead-letter queue what the send
/// accepted. `Err` when the events queue refused the whole call: nothing of the batch was sent.
async fn move_batch(pair: &impl QueuePair, batch: &[DeadLetter]) -> Result<Tally, String> {
    let fifo = pair.fifo();
    let entries: Vec<Resend> = batch.iter().map(|m| resent(m, fifo)).collect();
    let sent = pair.send(&entries).await?;
    let mut outcome = Tally {
        failed: sent.failed.len() as u64,
        reason: sent.failed.first().map(|(_, reason)| reason.clone()),
        ..Tally::default()
    };
    let accepted: Vec<&str> = sent
        .succeeded
        .iter()
        .filter_map(|&index| batch.get(index))
        .map(|message| message.receipt_handle.as_str())
        .collect();
    if accepted.is_empty() {
        return Ok(outcome);
    }
    let count = accepted.len() as u64;
    match pair.delete(&accepted).await {
        Ok(deleted) => {
            outcome.not_deleted = deleted.failed.len() as u64;
            outcome.moved = count - outcome.not_deleted;
            outcome.delete_reason = deleted.failed.first().map(|(_, reason)| reason.clone());
        }
        Err(reason) => {
            outcome.not_deleted = count;
            outcome.delete_reason = Some(reason);
        }
    }
    Ok(outcome)
}

/// The events-queue entry for a dead-letter message: the same body and message attributes; on
/// a FIFO queue the same group and a deduplication id of its own. A message from a standard
/// queue has no group: it gets the one the webhook function would have given it.
fn resent(message: &DeadLetter, fifo: bool) -> Resend {
    Resend {
        body: message.body.clone(),
        attributes: message.attributes.clone(),
        group: fifo.then(|| {
            message
                .group
                .clone()
                .unwrap_or_else(|| group_of_body(&message.body))
        }),
        deduplication_id: fifo.then(|| {
            redriven_deduplication_id(message.deduplication_id.as_deref(), &message.message_id)
        }),
    }
}

/// The FIFO group a webhook function gives the message with this body: its resource's id, else
/// its provider (`QueueMessage::group_id`). A body that is not one of ours goes to one group of
/// its own, where it stays in order with the others like it.
fn group_of_body(body: &str) -> String {
    let group = match ReceivedEnvelope::parse(body) {
        Ok(envelope) => envelope.resource.map_or(envelope.provider, |r| r.id),
        Err(_) => "unreadable".to_string(),
    };
    fifo_group_id(&group)
}

/// The original's id would make SQS drop the message as a repeat within 5 minutes of the first
/// send. This one is derived from the original and the dead-letter message's id, so a run that
/// sent it but failed to delete it and is run again within 5 minutes does not send it twice,
/// while the message's next trip through the dead-letter queue (a new message id) is sent
/// again.
pub fn redriven_deduplication_id(original: Option<&str>, dead_letter_message_id: &str) -> String {
    crate::digest::sha256_hex(
        format!(
            "{}#redrive:{dead_letter_message_id}",
            original.unwrap_or(dead_letter_message_id)
        )
        .as_bytes(),
    )
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

/// The queue pair on SQS: the adapter of [`QueuePair`]. Its batch calls are authorized by IAM
/// as `sqs:SendMessage` and `sqs:DeleteMessage`, which the operator policy grants.
pub struct SqsPair(pub SqsQueues);

/// SQS's answer to a batch call, as an [`Answer`]: entry ids are indexes in the batch.
fn answer<'a>(
    succeeded: impl Iterator<Item = &'a str>,
    failed: impl Iterator<Item = (&'a str, String)>,
) -> Answer {
    Answer {
        succeeded: succeeded.filter_map(|id| id.parse().ok()).collect(),
        failed: failed
            .filter_map(|(id, reason)| Some((id.parse().ok()?, reason)))
            .collect(),
    }
}

impl QueuePair for SqsPair {
    fn fifo(&self) -> bool {
        is_fifo(self.0.url(Queue::Events))
    }

    async fn receive(&self, count: u64) -> Result<Vec<DeadLetter>, String> {
        receive(
            self.0.client(),
            self.0.url(Queue::DeadLetter),
            count,
            VISIBILITY_SECONDS,
        )
        .await
    }

    async fn send(&self, batch: &[Resend]) -> Result<Answer, String> {
        let mut send = self
            .0
            .client()
            .send_message_batch()
            .queue_url(self.0.url(Queue::Events));
        for (index, message) in batch.iter().enumerate() {
            let entry = SendMessageBatchRequestEntry::builder()
                .id(index.to_string())
                .message_body(&message.body)
                .set_message_attributes(
                    (!message.attributes.is_empty()).then(|| message.attributes.clone()),
                )
                .set_message_group_id(message.group.clone())
                .set_message_deduplication_id(message.deduplication_id.clone())
                .build()
                .expect("id and body are set");
            send = send.entries(entry);
        }
        let sent = send.send().await.map_err(|e| {
            format!(
                "the events queue {} refused the messages: {}",
                self.0.url(Queue::Events),
                short(&e)
            )
        })?;
        Ok(answer(
            sent.successful().iter().map(|entry| entry.id()),
            sent.failed().iter().map(|f| (f.id(), refusal(f))),
        ))
    }

    async fn delete(&self, receipt_handles: &[&str]) -> Result<Answer, String> {
        let entries = receipt_handles
            .iter()
            .enumerate()
            .map(|(index, handle)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(index.to_string())
                    .receipt_handle(*handle)
                    .build()
                    .expect("id and receipt handle are set")
            })
            .collect();
        let deleted = self
            .0
            .client()
            .delete_message_batch()
            .queue_url(self.0.url(Queue::DeadLetter))
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| short(&e))?;
        Ok(answer(
            deleted.successful().iter().map(|entry| entry.id()),
            deleted.failed().iter().map(|f| (f.id(), refusal(f))),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Mutex;

    /// The two queues in memory. A received message is hidden until [`MemoryPair::visible_again`]
    /// (its visibility timeout's end, here by hand); the FIFO events queue drops a message whose
    /// deduplication id it has taken before, as SQS does within 5 minutes.
    #[derive(Default)]
    struct MemoryPair {
        fifo: bool,
        dead_letter: Mutex<Vec<DeadLetter>>,
        hidden: Mutex<Vec<DeadLetter>>,
        events: Mutex<Vec<Resend>>,
        taken_ids: Mutex<BTreeSet<String>>,
        /// How many each receive asked for.
        receives: Mutex<Vec<u64>>,
        /// How many entries each send carried.
        batches: Mutex<Vec<usize>>,
        /// Bodies the events queue refuses, entry by entry.
        refused_bodies: Mutex<BTreeSet<String>>,
        refuse_calls: AtomicBool,
        fail_deletes: AtomicBool,
        handles: AtomicUsize,
    }

    impl MemoryPair {
        fn with(fifo: bool, messages: impl IntoIterator<Item = DeadLetter>) -> Self {
            let pair = Self {
                fifo,
                ..Self::default()
            };
            pair.dead_letter.lock().unwrap().extend(messages);
            pair
        }

        fn visible_again(&self) {
            let hidden = std::mem::take(&mut *self.hidden.lock().unwrap());
            let mut queue = self.dead_letter.lock().unwrap();
            queue.splice(0..0, hidden);
        }

        fn bodies(&self) -> Vec<String> {
            let events = self.events.lock().unwrap();
            events.iter().map(|m| m.body.clone()).collect()
        }

        fn left(&self) -> usize {
            self.dead_letter.lock().unwrap().len() + self.hidden.lock().unwrap().len()
        }
    }

    impl QueuePair for MemoryPair {
        fn fifo(&self) -> bool {
            self.fifo
        }

        async fn receive(&self, count: u64) -> Result<Vec<DeadLetter>, String> {
            self.receives.lock().unwrap().push(count);
            let mut queue = self.dead_letter.lock().unwrap();
            let end = queue.len().min(count as usize);
            let taken: Vec<DeadLetter> = queue
                .drain(..end)
                .map(|message| DeadLetter {
                    receipt_handle: format!("h{}", self.handles.fetch_add(1, Ordering::SeqCst)),
                    ..message
                })
                .collect();
            self.hidden.lock().unwrap().extend(taken.iter().cloned());
            Ok(taken)
        }

        async fn send(&self, batch: &[Resend]) -> Result<Answer, String> {
            if self.refuse_calls.load(Ordering::SeqCst) {
                return Err("the events queue refused the messages: AccessDenied: no".into());
            }
            self.batches.lock().unwrap().push(batch.len());
            let mut answer = Answer::default();
            for (index, message) in batch.iter().enumerate() {
                if self.refused_bodies.lock().unwrap().contains(&message.body) {
                    answer
                        .failed
                        .push((index, "InvalidParameterValue: refused".into()));
                    continue;
                }
                let repeat = message
                    .deduplication_id
                    .as_ref()
                    .is_some_and(|id| !self.taken_ids.lock().unwrap().insert(id.clone()));
                if !repeat {
                    self.events.lock().unwrap().push(message.clone());
                }
                answer.succeeded.push(index);
            }
            Ok(answer)
        }

        async fn delete(&self, receipt_handles: &[&str]) -> Result<Answer, String> {
            if self.fail_deletes.load(Ordering::SeqCst) {
                return Err("ThrottlingException: slow down".into());
            }
            let mut hidden = self.hidden.lock().unwrap();
            let mut answer = Answer::default();
            for (index, handle) in receipt_handles.iter().enumerate() {
                match hidden.iter().position(|m| m.receipt_handle == *handle) {
                    Some(at) => {
                        hidden.remove(at);
                        answer.succeeded.push(index);
                    }
                    None => answer
                        .failed
                        .push((index, "ReceiptHandleIsInvalid: gone".into())),
                }
            }
            Ok(answer)
        }
    }

    fn text(value: &str) -> MessageAttributeValue {
        MessageAttributeValue::builder()
            .data_type("String")
            .string_value(value)
            .build()
            .unwrap()
    }

    fn dead_letter(index: usize) -> DeadLetter {
        DeadLetter {
            message_id: format!("m-{index}"),
            receipt_handle: String::new(),
            body: format!("{{\"n\":{index}}}"),
            attributes: HashMap::from([("provider".to_string(), text("argyle"))]),
            group: Some(format!("idn_{index}")),
            deduplication_id: Some(format!("d-{index}")),
            sent_at_ms: None,
            receives: None,
        }
    }

    fn dead_letters(count: usize) -> Vec<DeadLetter> {
        (0..count).map(dead_letter).collect()
    }

    #[tokio::test]
    async fn every_message_is_moved_in_receives_of_ten_with_its_attributes_and_deleted() {
        let pair = MemoryPair::with(false, dead_letters(23));
        let mut heard = Vec::new();
        let tally = redrive(&pair, None, |handled| heard.push(handled))
            .await
            .unwrap();
        assert_eq!((tally.moved, tally.failed, tally.not_deleted), (23, 0, 0));
        assert_eq!(tally.problem(), None);
        assert_eq!(heard, [10, 20, 23]);
        assert_eq!(*pair.receives.lock().unwrap(), [10, 10, 10, 10]);
        let expected: Vec<String> = dead_letters(23).into_iter().map(|m| m.body).collect();
        assert_eq!(pair.bodies(), expected, "in the order received");
        assert_eq!(pair.left(), 0);
        let events = pair.events.lock().unwrap();
        assert!(events
            .iter()
            .all(|m| m.attributes["provider"] == text("argyle")));
        // A standard queue takes neither a group nor a deduplication id.
        assert!(events
            .iter()
            .all(|m| m.group.is_none() && m.deduplication_id.is_none()));
    }

    #[tokio::test]
    async fn a_limit_moves_that_many_and_receives_no_more() {
        let pair = MemoryPair::with(false, dead_letters(23));
        let tally = redrive(&pair, Some(13), |_| {}).await.unwrap();
        assert_eq!(tally.moved, 13);
        assert_eq!(*pair.receives.lock().unwrap(), [10, 3]);
        assert_eq!(pair.left(), 10);
    }

    #[tokio::test]
    async fn batches_stay_under_sqs_byte_limit() {
        let large: Vec<DeadLetter> = (0..10)
            .map(|index| DeadLetter {
                body: format!("{index}{}", "x".repeat(300 * 1024)),
                ..dead_letter(index)
            })
            .collect();
        let pair = MemoryPair::with(false, large);
        let tally = redrive(&pair, None, |_| {}).await.unwrap();
        assert_eq!(tally.moved, 10);
        assert_eq!(*pair.batches.lock().unwrap(), [3, 3, 3, 1]);
    }

    #[tokio::test]
    async fn a_message_the_events_queue_refuses_stays_and_the_reason_is_kept() {
        let pair = MemoryPair::with(false, dead_letters(12));
        pair.refused_bodies
            .lock()
            .unwrap()
            .insert(dead_letter(3).body);
        let tally = redrive(&pair, None, |_| {}).await.unwrap();
        assert_eq!((tally.moved, tally.failed), (11, 1));
        assert_eq!(
            tally.reason.as_deref(),
            Some("InvalidParameterValue: refused")
        );
        pair.visible_again();
        let left = pair.dead_letter.lock().unwrap().clone();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].message_id, "m-3");
    }

    #[tokio::test]
    async fn a_refused_call_stops_the_run_and_leaves_what_it_received() {
        let pair = MemoryPair::with(false, dead_letters(23));
        pair.refuse_calls.store(true, Ordering::SeqCst);
        let tally = redrive(&pair, None, |_| {}).await.unwrap();
        assert_eq!((tally.moved, tally.failed), (0, 10));
        assert!(tally.reason.unwrap().contains("AccessDenied"));
        assert_eq!(*pair.receives.lock().unwrap(), [10], "no receive after");
        assert_eq!(pair.left(), 23);
        assert!(pair.bodies().is_empty());
    }

    /// A message of a standard queue, as a webhook function sent it: no group, no
    /// deduplication id, the envelope in its body.
    fn standard_message(index: usize, resource: Option<&str>) -> DeadLetter {
        let resource = resource.map_or(String::new(), |id| {
            format!(r#","resource":{{"id":"{id}"}}"#)
        });
        DeadLetter {
            body: format!(
                r#"{{"version":1,"event_id":"midbound#m-{index}","provider":"midbound","event_type":"identity.resolved","received_at":"2026-12-06T10:00:00Z"{resource},"payload":{{}}}}"#
            ),
            group: None,
            deduplication_id: None,
            ..dead_letter(index)
        }
    }

    #[tokio::test]
    async fn a_standard_queues_messages_go_to_a_fifo_queue_in_the_groups_the_functions_give() {
        let long = "r".repeat(129);
        let messages = vec![
            standard_message(0, Some("idn-7")),
            standard_message(1, None),
            standard_message(2, Some(&long)),
            DeadLetter {
                body: "not an envelope".into(),
                ..standard_message(3, None)
            },
        ];
        let pair = MemoryPair::with(true, messages);
        let tally = redrive(&pair, None, |_| {}).await.unwrap();
        assert_eq!((tally.moved, tally.failed), (4, 0));
        let events = pair.events.lock().unwrap();
        let groups: Vec<&str> = events.iter().map(|m| m.group.as_deref().unwrap()).collect();
        let hashed = crate::digest::sha256_hex(long.as_bytes());
        let unreadable = "unreadable".to_string();
        assert_eq!(
            groups,
            ["idn-7", "midbound", hashed.as_str(), unreadable.as_str()]
        );
        for (index, message) in events.iter().enumerate() {
            assert_eq!(
                message.deduplication_id,
                Some(redriven_deduplication_id(None, &format!("m-{index}")))
            );
        }
    }

    #[tokio::test]
    async fn fifo_messages_keep_their_group_and_a_rerun_after_failed_deletes_sends_none_twice() {
        let pair = MemoryPair::with(true, dead_letters(3));
        pair.fail_deletes.store(true, Ordering::SeqCst);
        let tally = redrive(&pair, None, |_| {}).await.unwrap();
        assert_eq!((tally.moved, tally.not_deleted), (0, 3));
        assert_eq!(
            tally.delete_reason.as_deref(),
            Some("ThrottlingException: slow down")
        );
        {
            let events = pair.events.lock().unwrap();
            assert_eq!(events.len(), 3);
            assert_eq!(events[1].group.as_deref(), Some("idn_1"));
            assert_eq!(
                events[1].deduplication_id,
                Some(redriven_deduplication_id(Some("d-1"), "m-1"))
            );
        }

        // Visible again in the dead-letter queue: the next run sends the same ids, which the
        // events queue drops, and deletes them.
        pair.visible_again();
        pair.fail_deletes.store(false, Ordering::SeqCst);
        let again = redrive(&pair, None, |_| {}).await.unwrap();
        assert_eq!(again.moved, 3);
        assert_eq!(pair.events.lock().unwrap().len(), 3);
        assert_eq!(pair.left(), 0);
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
        let message = DeadLetter {
            body: "{\"a\":1}".into(),
            ..dead_letter(0)
        };
        assert_eq!(message.bytes(), 7 + "provider".len() + 6 + 6);
    }

    #[test]
    fn what_went_wrong_is_counted_and_said() {
        assert_eq!(Tally::default().problem(), None);
        let mut tally = Tally::default();
        tally.add(Tally {
            moved: 8,
            failed: 1,
            not_deleted: 1,
            reason: Some("InvalidParameterValue: too long".into()),
            delete_reason: Some("ReceiptHandleIsInvalid: gone".into()),
        });
        tally.add(Tally {
            moved: 2,
            failed: 2,
            reason: Some("AccessDenied: no".into()),
            ..Tally::default()
        });
        assert_eq!((tally.moved, tally.failed, tally.not_deleted), (10, 3, 1));
        assert_eq!(tally.handled(), 14, "what counts against a limit");
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
