//! Replay: kept messages sent to the events queue again, marked as replay `ID` (in the
//! envelope's `replay` field and the `replay_id` message attribute), at a bounded rate.
//!
//! Each message is sent first and marked in the history (`replays`) after: a crash between the
//! two sends that one message again when the replay is resumed, and never loses one. Resuming
//! is running the same replay id again: what that replay has marked is skipped.
//!
//! [`plan`] reads what a run would send, [`send`] sends it; both are plain Rust over
//! [`HistoryStore`] and [`EventQueue`], timed by the library's one clock ([`crate::clock`]) and
//! paced by tokio's timer.

use super::listing::listed;
use crate::history::{EventSummary, HistoryError, HistoryStore, Selection};
use crate::queue::EventQueue;
use std::time::{Duration, Instant};

/// How many entries one history read takes (BatchGetItem's most).
const BATCH: usize = 100;

/// A new replay id: when it started, and four hex digits so that two started in the same
/// second differ.
pub fn new_replay_id(unix_now: i64) -> String {
    let compact = crate::clock::rfc3339_compact(unix_now);
    format!("replay-{compact}-{:04x}", fastrand::u16(..))
}

/// What a replay covers.
#[derive(Debug, Clone)]
pub enum Chosen {
    /// Each id's latest kept occurrence.
    Ids(Vec<String>),
    Range(Selection),
}

/// What a run of a replay is going to send.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Oldest first, at most the run's limit.
    pub to_send: Vec<EventSummary>,
    /// Covered and sent by this replay before (a resumed replay).
    pub already_sent: usize,
    /// Listed but expired before they could be read.
    pub gone: usize,
    /// Left for a later run by the limit.
    pub left: usize,
}

/// How a run ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    pub sent: usize,
    pub already_sent: usize,
    pub gone: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("no event {0:?} in the history")]
    Unknown(String),
    #[error(transparent)]
    History(#[from] HistoryError),
    /// Some were sent (and marked) before the failure; the same replay id resumes.
    #[error("{error} (after sending {sent})")]
    Interrupted { sent: usize, error: String },
}

/// Reads what replay `replay_id` would send of `chosen`: everything covered, less what it
/// already sent, at most `limit`. An unknown id fails here, before anything is sent.
pub async fn plan(
    store: &impl HistoryStore,
    chosen: &Chosen,
    replay_id: &str,
    limit: Option<usize>,
    mut on_read: impl FnMut(usize),
) -> Result<Plan, ReplayError> {
    let mut plan = Plan::default();
    let mut covered = Vec::new();
    match chosen {
        Chosen::Ids(ids) => {
            let mut seen = std::collections::BTreeSet::new();
            for id in ids.iter().filter(|id| seen.insert(id.as_str())) {
                let latest = store
                    .occurrences(id)
                    .await?
                    .into_iter()
                    .max_by_key(|e| e.summary.received_at)
                    .ok_or_else(|| ReplayError::Unknown(id.clone()))?;
                covered.push(latest);
                on_read(covered.len());
            }
        }
        Chosen::Range(selection) => {
            let listed = listed(store, selection, &mut on_read).await?;
            for chunk in listed.chunks(BATCH) {
                let keys: Vec<_> = chunk.iter().map(EventSummary::key).collect();
                let entries = store.entries(&keys).await?;
                plan.gone += chunk.len() - entries.len();
                covered.extend(entries);
            }
        }
    }
    for entry in covered {
        if entry.replays.iter().any(|r| r == replay_id) {
            plan.already_sent += 1;
        } else {
            plan.to_send.push(entry.summary);
        }
    }
    plan.to_send
        .sort_by(|a, b| (a.received_at, &a.event_id).cmp(&(b.received_at, &b.event_id)));
    if let Some(limit) = limit {
        plan.left = plan.to_send.len().saturating_sub(limit);
        plan.to_send.truncate(limit);
    }
    Ok(plan)
}

/// Spaces sends at least `1/rate` s apart (rounded up, so no second ever holds more than
/// `rate`), on time measured since the run started.
struct Pacer {
    interval: Duration,
    next: Option<Duration>,
}

impl Pacer {
    fn new(rate: u32) -> Self {
        Self {
            interval: Duration::from_nanos(1_000_000_000_u64.div_ceil(u64::from(rate.max(1)))),
            next: None,
        }
    }

    /// How long to wait at `now` before the next send.
    fn wait_at(&self, now: Duration) -> Duration {
        self.next
            .map_or(Duration::ZERO, |next| next.saturating_sub(now))
    }

    /// A send is going at `now` (read after the wait: a sleep may overrun, never shorten).
    fn sending_at(&mut self, now: Duration) {
        self.next = Some(now + self.interval);
    }
}

/// Sends `plan` again as replay `replay_id`, at most `rate` a second, marking each after it
/// is sent; `on_sent` hears each send. An entry that expired, or that another run of the same
/// replay sent meanwhile, is counted and skipped.
pub async fn send(
    store: &impl HistoryStore,
    queue: &impl EventQueue,
    plan: &Plan,
    replay_id: &str,
    rate: u32,
    mut on_sent: impl FnMut(&EventSummary),
) -> Result<Outcome, ReplayError> {
    let mut outcome = Outcome {
        already_sent: plan.already_sent,
        gone: plan.gone,
        ..Outcome::default()
    };
    let mut pacer = Pacer::new(rate);
    let started = Instant::now();
    let interrupted = |sent: usize, error: String| ReplayError::Interrupted { sent, error };
    for chunk in plan.to_send.chunks(BATCH) {
        let keys: Vec<_> = chunk.iter().map(EventSummary::key).collect();
        let entries = store
            .entries(&keys)
            .await
            .map_err(|e| interrupted(outcome.sent, e.to_string()))?;
        outcome.gone += chunk.len() - entries.len();
        for entry in entries {
            if entry.replays.iter().any(|r| r == replay_id) {
                outcome.already_sent += 1;
                continue;
            }
            let wait = pacer.wait_at(started.elapsed());
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            pacer.sending_at(started.elapsed());
            let message = entry.replay_message(replay_id, crate::clock::unix_now());
            queue
                .send(&message)
                .await
                .map_err(|e| interrupted(outcome.sent, e.to_string()))?;
            outcome.sent += 1;
            store
                .mark_replayed(&entry.summary.key(), replay_id)
                .await
                .map_err(|e| interrupted(outcome.sent, e.to_string()))?;
            on_sent(&entry.summary);
        }
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{HistoryEntry, MemoryHistory};
    use crate::queue::MemoryEventQueue;
    use crate::queue::QueueError;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const START: i64 = 1_796_173_200; // 2026-12-02T01:00:00Z
    /// Fast enough that a test's sends take milliseconds.
    const QUICK: u32 = 1_000;

    /// A queue that refuses the sends after the first `fail_after`.
    struct FailingQueue {
        inner: MemoryEventQueue,
        fail_after: AtomicUsize,
    }

    impl FailingQueue {
        fn new() -> Self {
            Self {
                inner: MemoryEventQueue::default(),
                fail_after: AtomicUsize::new(usize::MAX),
            }
        }
    }

    impl EventQueue for FailingQueue {
        async fn send(&self, message: &crate::envelope::QueueMessage) -> Result<(), QueueError> {
            if self.inner.messages().len() >= self.fail_after.load(Ordering::SeqCst) {
                return Err(QueueError::other("refused"));
            }
            self.inner.send(message).await
        }
    }

    fn entry(index: usize, received_at: i64) -> HistoryEntry {
        let event_id = format!("argyle#evt_{index:04}");
        HistoryEntry {
            summary: EventSummary {
                event_id: event_id.clone(),
                provider: "argyle".into(),
                event_type: "identities.added".into(),
                resource_id: Some(format!("idn_{index}")),
                received_at,
            },
            body: format!(
                r#"{{"version":1,"event_id":"{event_id}","provider":"argyle","event_type":"identities.added","recognized":true,"received_at":"{}","payload":{{"n":{index}}}}}"#,
                crate::clock::rfc3339(received_at)
            ),
            recorded_at: received_at,
            expires_at: received_at + 86_400,
            replays: Vec::new(),
        }
    }

    async fn history(count: usize) -> MemoryHistory {
        let store = MemoryHistory::default();
        for index in 0..count {
            store
                .keep(&entry(index, START - 3_600 + index as i64))
                .await
                .unwrap();
        }
        store
    }

    fn everything() -> Chosen {
        Chosen::Range(Selection {
            provider: "argyle".into(),
            since: START - 86_400,
            until: START,
            event_type: None,
            resource_id: None,
        })
    }

    fn ids(queue: &FailingQueue) -> Vec<String> {
        queue
            .inner
            .messages()
            .into_iter()
            .map(|m| m.event_id)
            .collect()
    }

    /// When `count` sends go at `rate`, each wait slept longer than asked by `overrun`.
    fn paced(rate: u32, count: usize, overrun: Duration) -> Vec<Duration> {
        let mut pacer = Pacer::new(rate);
        let mut now = Duration::ZERO;
        let mut times = Vec::new();
        for _ in 0..count {
            let wait = pacer.wait_at(now);
            if !wait.is_zero() {
                now += wait + overrun;
            }
            pacer.sending_at(now);
            times.push(now);
        }
        times
    }

    #[test]
    fn no_second_holds_more_than_the_rate_and_full_seconds_hold_it_all() {
        for rate in [1, 3, 10] {
            let times = paced(rate, 25, Duration::ZERO);
            let rate = rate as usize;
            // Any window of one second: the send `rate` later is a second or more after.
            for pair in times.windows(rate + 1) {
                assert!(
                    pair[rate] - pair[0] >= Duration::from_secs(1),
                    "rate {rate}: {times:?}"
                );
            }
            let mut per_second = std::collections::BTreeMap::<u64, usize>::new();
            for at in &times {
                *per_second.entry(at.as_secs()).or_default() += 1;
            }
            let last = *per_second.keys().last().unwrap();
            for (second, count) in per_second {
                assert!(count <= rate, "rate {rate}: {count} in second {second}");
                if second < last {
                    assert_eq!(count, rate, "rate {rate}: second {second} under-used");
                }
            }
        }
    }

    #[test]
    fn a_sleep_that_overruns_never_brings_two_sends_closer() {
        let times = paced(10, 30, Duration::from_millis(7));
        for pair in times.windows(2) {
            assert!(pair[1] - pair[0] >= Duration::from_millis(100), "{times:?}");
        }
    }

    #[tokio::test]
    async fn a_limited_run_then_the_same_replay_id_sends_the_rest_and_nothing_twice() {
        let store = history(25).await;
        let queue = FailingQueue::new();
        let first = plan(&store, &everything(), "r-1", Some(10), |_| {})
            .await
            .unwrap();
        assert_eq!((first.to_send.len(), first.left), (10, 15));
        send(&store, &queue, &first, "r-1", QUICK, |_| {})
            .await
            .unwrap();
        assert_eq!(ids(&queue).len(), 10);

        let rest = plan(&store, &everything(), "r-1", None, |_| {})
            .await
            .unwrap();
        assert_eq!((rest.to_send.len(), rest.already_sent), (15, 10));
        let outcome = send(&store, &queue, &rest, "r-1", QUICK, |_| {})
            .await
            .unwrap();
        assert_eq!(
            outcome,
            Outcome {
                sent: 15,
                already_sent: 10,
                gone: 0
            }
        );
        let mut sent = ids(&queue);
        sent.sort();
        sent.dedup();
        assert_eq!(sent.len(), 25);
        assert!(queue
            .inner
            .messages()
            .iter()
            .all(|m| m.replay_id.as_deref() == Some("r-1")));
        assert!(store.all().iter().all(|e| e.replays == ["r-1"]));

        // Another replay id is another replay: everything again.
        let other = plan(&store, &everything(), "r-2", None, |_| {})
            .await
            .unwrap();
        assert_eq!((other.to_send.len(), other.already_sent), (25, 0));
    }

    #[tokio::test]
    async fn a_queue_failure_stops_the_run_and_the_resume_sends_only_the_rest() {
        let store = history(12).await;
        let queue = FailingQueue::new();
        queue.fail_after.store(5, Ordering::SeqCst);
        let first = plan(&store, &everything(), "r", None, |_| {})
            .await
            .unwrap();
        match send(&store, &queue, &first, "r", QUICK, |_| {}).await {
            Err(ReplayError::Interrupted { sent: 5, error }) => {
                assert!(error.contains("refused"), "{error}")
            }
            other => panic!("{other:?}"),
        }
        queue.fail_after.store(usize::MAX, Ordering::SeqCst);
        let rest = plan(&store, &everything(), "r", None, |_| {})
            .await
            .unwrap();
        let outcome = send(&store, &queue, &rest, "r", QUICK, |_| {})
            .await
            .unwrap();
        assert_eq!((outcome.sent, outcome.already_sent), (7, 5));
        let sent = ids(&queue);
        let expected: Vec<String> = (0..12).map(|i| format!("argyle#evt_{i:04}")).collect();
        assert_eq!(sent, expected, "oldest first, each once");
    }

    #[tokio::test]
    async fn planning_alone_sends_and_marks_nothing() {
        let store = history(8).await;
        let before = store.all();
        let plan = plan(&store, &everything(), "r", None, |_| {})
            .await
            .unwrap();
        assert_eq!(plan.to_send.len(), 8);
        assert_eq!(store.all(), before);
    }

    #[tokio::test]
    async fn ids_take_their_latest_occurrence_and_an_unknown_one_fails_first() {
        let store = history(3).await;
        let mut again = entry(1, START - 60);
        again.body = again.body.replace("\"n\":1", "\"n\":\"again\"");
        store.keep(&again).await.unwrap();
        let chosen = Chosen::Ids(vec!["argyle#evt_0001".into(), "argyle#evt_0001".into()]);
        let plan_ = plan(&store, &chosen, "r", None, |_| {}).await.unwrap();
        assert_eq!(plan_.to_send.len(), 1);
        assert_eq!(plan_.to_send[0].received_at, START - 60);

        let chosen = Chosen::Ids(vec!["argyle#evt_0000".into(), "argyle#nope".into()]);
        match plan(&store, &chosen, "r", None, |_| {}).await {
            Err(ReplayError::Unknown(id)) => assert_eq!(id, "argyle#nope"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_new_replay_id_says_when_it_started() {
        let id = new_replay_id(START + 900);
        assert!(id.starts_with("replay-20261202T011500Z-"), "{id}");
        assert_eq!(id.len(), "replay-20261202T011500Z-3fa2".len());
    }
}
