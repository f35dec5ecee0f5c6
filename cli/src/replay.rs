//! `hookline replay`: sends kept messages to the events queue again, marked as replay `ID` (in
//! the envelope's `replay` field and the `replay_id` message attribute), at a bounded rate.
//!
//! Each message is sent first and marked in the history (`replays`) after: a crash between the
//! two sends that one message again when the replay is resumed, and never loses one. Resuming
//! is running the same command with the same `--replay-id`: what that replay has marked is
//! skipped.
//!
//! The replay itself ([`plan`], [`send`]) is plain Rust over [`HistoryStore`], [`EventQueue`]
//! and [`Clock`]; [`run`] wires it to DynamoDB, SQS, the wall clock and the terminal.

use crate::events::{not_kept, summary_json, RangeArgs};
use crate::failure::Failure;
use crate::resources::{Resource, ResourceArgs};
use hookline::history::{DynamoDbHistory, EventSummary, HistoryError, HistoryStore, Selection};
use hookline::ops::listing::listed;
use hookline::queue::{EventQueue, QueueError, SqsEventQueue};
use std::future::Future;
use std::process::ExitCode;
use std::time::Duration;

pub const EXAMPLES: &str = "\
Examples:
  hookline replay --stack hookline 'argyle#evt_123'
  hookline replay --stack hookline --provider clearid --since 2026-12-01T09:00:00Z --until 2h \\
      --type identity.updated --dry-run
  hookline replay --stack hookline --provider argyle --since 1d --rate 5 --yes
  hookline replay --stack hookline --provider argyle --since 1d --rate 5 --yes \\
      --replay-id replay-20261202T011500Z-3fa2    # resumes an interrupted replay";

/// More than this many messages in one run needs `--yes`.
pub const CONFIRM_ABOVE: usize = 500;
/// How many entries one history read takes (BatchGetItem's most).
const BATCH: usize = 100;

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
    /// Send more than 500 messages.
    #[arg(long)]
    pub yes: bool,
    #[command(flatten)]
    pub resources: ResourceArgs,
    /// Print the outcome as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// A replay id goes into message attributes and logs: short and plain.
fn replay_id(text: &str) -> Result<String, String> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_.:".contains(c);
    if text.is_empty() || text.len() > 100 || !text.chars().all(plain) {
        return Err("a replay id is 1 to 100 letters, digits and - _ . :".into());
    }
    Ok(text.to_string())
}

/// A new replay id: when it started, and four hex digits so that two started in the same
/// second differ.
pub fn new_replay_id(unix_now: i64) -> String {
    let compact: String = hookline::clock::rfc3339(unix_now)
        .chars()
        .filter(|c| !matches!(c, '-' | ':'))
        .collect();
    format!("replay-{compact}-{:04x}", fastrand::u16(..))
}

/// The wall clock and a way to wait, so that tests can run a replay on simulated time.
pub trait Clock: Send + Sync {
    /// Unix seconds, for the envelope's `replay.at`.
    fn unix_now(&self) -> i64;
    /// Time since an arbitrary fixed start, for pacing.
    fn elapsed(&self) -> Duration;
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send;
}

/// The real clock.
pub struct SystemClock(std::time::Instant);

impl SystemClock {
    pub fn new() -> Self {
        Self(std::time::Instant::now())
    }
}

impl Clock for SystemClock {
    fn unix_now(&self) -> i64 {
        hookline::clock::unix_now()
    }

    fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }

    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(duration)
    }
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

/// A bulk replay must be confirmed; the answer says how many and how to narrow it.
pub fn confirmed(plan: &Plan, yes: bool) -> Result<(), Failure> {
    let count = plan.to_send.len();
    if count > CONFIRM_ABOVE && !yes {
        return Err(Failure::Usage(format!(
            "{count} messages to send (more than {CONFIRM_ABOVE}): pass --yes to send them, or \
             narrow the range (--until, --type, --resource) or send part with --limit (nothing \
             was sent)"
        )));
    }
    Ok(())
}

/// Spaces sends at least `1/rate` s apart (rounded up, so no second ever holds more than
/// `rate`).
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

    async fn wait(&mut self, clock: &impl Clock) {
        let now = clock.elapsed();
        if let Some(next) = self.next.filter(|next| *next > now) {
            clock.sleep(next - now).await;
        }
        self.next = Some(clock.elapsed() + self.interval);
    }
}

/// Sends `plan` again as replay `replay_id`, at most `rate` a second, marking each after it
/// is sent; `on_sent` hears each send. An entry that expired, or that another run of the same
/// replay sent meanwhile, is counted and skipped.
pub async fn send(
    store: &impl HistoryStore,
    queue: &impl EventQueue,
    clock: &impl Clock,
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
            pacer.wait(clock).await;
            let message = entry.replay_message(replay_id, clock.unix_now());
            queue
                .send(&message)
                .await
                .map_err(|QueueError(e)| interrupted(outcome.sent, format!("event queue: {e}")))?;
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

pub async fn run(args: &ReplayArgs) -> Result<ExitCode, Failure> {
    let clock = SystemClock::new();
    let chosen = match (&args.range, args.event_ids.is_empty()) {
        (Some(range), true) => Chosen::Range(range.selection(clock.unix_now())?),
        (None, false) => Chosen::Ids(args.event_ids.clone()),
        _ => {
            return Err(Failure::Usage(
                "say what to replay: event ids, or --provider and --since".into(),
            ))
        }
    };
    let replay_id = args
        .replay_id
        .clone()
        .unwrap_or_else(|| new_replay_id(clock.unix_now()));
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
    let spinner = crate::events::reading_spinner("the history");
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
    confirmed(&plan, args.yes)?;
    let queue = SqsEventQueue::new(
        aws_sdk_sqs::Client::new(&located.config),
        located.get(Resource::EventsQueue),
    );
    let bar = indicatif::ProgressBar::new(plan.to_send.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} sent, {per_sec}, {eta} left")
            .expect("the template is valid"),
    );
    let outcome = send(&store, &queue, &clock, &plan, &replay_id, args.rate, |_| {
        bar.inc(1)
    })
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
    if args.json {
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
    use hookline::history::{HistoryEntry, MemoryHistory};
    use hookline::queue::MemoryEventQueue;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;

    const START: i64 = 1_796_173_200; // 2026-12-02T01:00:00Z

    /// Simulated time: sleeping moves it on at once.
    #[derive(Default)]
    struct FakeClock(Mutex<Duration>);

    impl Clock for FakeClock {
        fn unix_now(&self) -> i64 {
            START + self.elapsed().as_secs() as i64
        }
        fn elapsed(&self) -> Duration {
            *self.0.lock().unwrap()
        }
        fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send {
            *self.0.lock().unwrap() += duration;
            std::future::ready(())
        }
    }

    /// A queue that notes the simulated time of each send, and fails the sends after the
    /// first `fail_after`.
    struct TimedQueue<'a> {
        clock: &'a FakeClock,
        inner: MemoryEventQueue,
        times: Mutex<Vec<Duration>>,
        fail_after: AtomicUsize,
    }

    impl<'a> TimedQueue<'a> {
        fn new(clock: &'a FakeClock) -> Self {
            Self {
                clock,
                inner: MemoryEventQueue::default(),
                times: Mutex::default(),
                fail_after: AtomicUsize::new(usize::MAX),
            }
        }
    }

    impl EventQueue for TimedQueue<'_> {
        async fn send(&self, message: &hookline::envelope::QueueMessage) -> Result<(), QueueError> {
            if self.times.lock().unwrap().len() >= self.fail_after.load(Ordering::SeqCst) {
                return Err(QueueError("refused".into()));
            }
            self.times.lock().unwrap().push(self.clock.elapsed());
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
                hookline::clock::rfc3339(received_at)
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

    fn ids(queue: &TimedQueue<'_>) -> Vec<String> {
        queue
            .inner
            .messages()
            .into_iter()
            .map(|m| m.event_id)
            .collect()
    }

    #[tokio::test]
    async fn no_second_holds_more_than_the_rate_and_full_seconds_hold_it_all() {
        for rate in [1, 3, 10] {
            let store = history(25).await;
            let clock = FakeClock::default();
            let queue = TimedQueue::new(&clock);
            let plan = plan(&store, &everything(), "r", None, |_| {})
                .await
                .unwrap();
            let outcome = send(&store, &queue, &clock, &plan, "r", rate, |_| {})
                .await
                .unwrap();
            assert_eq!(outcome.sent, 25);
            let times = queue.times.lock().unwrap().clone();
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

    #[tokio::test]
    async fn a_limited_run_then_the_same_replay_id_sends_the_rest_and_nothing_twice() {
        let store = history(25).await;
        let clock = FakeClock::default();
        let queue = TimedQueue::new(&clock);
        let first = plan(&store, &everything(), "r-1", Some(10), |_| {})
            .await
            .unwrap();
        assert_eq!((first.to_send.len(), first.left), (10, 15));
        send(&store, &queue, &clock, &first, "r-1", 100, |_| {})
            .await
            .unwrap();
        assert_eq!(ids(&queue).len(), 10);

        let rest = plan(&store, &everything(), "r-1", None, |_| {})
            .await
            .unwrap();
        assert_eq!((rest.to_send.len(), rest.already_sent), (15, 10));
        let outcome = send(&store, &queue, &clock, &rest, "r-1", 100, |_| {})
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
        let clock = FakeClock::default();
        let queue = TimedQueue::new(&clock);
        queue.fail_after.store(5, Ordering::SeqCst);
        let first = plan(&store, &everything(), "r", None, |_| {})
            .await
            .unwrap();
        match send(&store, &queue, &clock, &first, "r", 100, |_| {}).await {
            Err(ReplayError::Interrupted { sent: 5, error }) => {
                assert!(error.contains("refused"), "{error}")
            }
            other => panic!("{other:?}"),
        }
        queue.fail_after.store(usize::MAX, Ordering::SeqCst);
        let rest = plan(&store, &everything(), "r", None, |_| {})
            .await
            .unwrap();
        let outcome = send(&store, &queue, &clock, &rest, "r", 100, |_| {})
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
    async fn more_than_500_to_send_needs_yes_and_says_how_to_narrow() {
        let store = history(CONFIRM_ABOVE + 1).await;
        let all = plan(&store, &everything(), "r", None, |_| {})
            .await
            .unwrap();
        match confirmed(&all, false) {
            Err(Failure::Usage(message)) => {
                assert!(message.starts_with("501 messages to send"), "{message}");
                assert!(
                    message.contains("--yes") && message.contains("--limit"),
                    "{message}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(confirmed(&all, true).is_ok());
        let limited = plan(&store, &everything(), "r", Some(CONFIRM_ABOVE), |_| {})
            .await
            .unwrap();
        assert!(confirmed(&limited, false).is_ok());
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
    fn replay_ids() {
        let id = new_replay_id(START + 900);
        assert!(id.starts_with("replay-20261202T011500Z-"), "{id}");
        assert_eq!(id.len(), "replay-20261202T011500Z-3fa2".len());
        assert!(replay_id(&id).is_ok());
        for bad in ["", "a b", "r\n1", &"r".repeat(101)] {
            assert!(replay_id(bad).is_err(), "{bad:?}");
        }
    }
}
