//! Change events sent again as they were: a window of the stack's EventBridge archive replayed
//! onto its bus for one consumer's rule, with EventBridge's own replay (each event keeps its
//! id, detail and time; the bus adds `replay-name`), watched until it ends.
//!
//! [`replay_changes`] checks the window, starts the replay and polls it to its end over the
//! port [`ChangeArchive`], whose EventBridge adapter is [`EventBridgeArchive`].

use super::sdk_error::short;
use crate::port_error::ErrorKind;
use aws_sdk_eventbridge::config::http::HttpResponse;
use aws_sdk_eventbridge::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_eventbridge::primitives::DateTime;
use aws_sdk_eventbridge::types::{ReplayDestination, ReplayState as SdkState};
use aws_sdk_eventbridge::Client;
use std::future::Future;
use std::time::Duration;

crate::port_error::port_error!(
    /// The archive could not start or describe a replay.
    ChangeReplayError,
    "change replay"
);

/// One replay: the archive's events sent between `since` and `until` (Unix seconds), sent
/// again to the bus for `rules` only (every rule of the bus when empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayRequest {
    /// 1 to 64 of `A-Za-z0-9._-`, unique in the account and Region ([`replay_name`]).
    pub name: String,
    pub archive_arn: String,
    pub bus_arn: String,
    pub rule_arns: Vec<String>,
    pub since: i64,
    pub until: i64,
}

/// Where a replay is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayState {
    Starting,
    Running,
    Cancelling,
    Completed,
    Cancelled,
    /// With EventBridge's reason.
    Failed(String),
}

impl ReplayState {
    pub fn is_over(&self) -> bool {
        matches!(self, Self::Completed | Self::Cancelled | Self::Failed(_))
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Starting => "STARTING",
            Self::Running => "RUNNING",
            Self::Cancelling => "CANCELLING",
            Self::Completed => "COMPLETED",
            Self::Cancelled => "CANCELLED",
            Self::Failed(_) => "FAILED",
        }
    }
}

/// A replay's state and how far into its window it has sent (Unix seconds), when it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayProgress {
    pub state: ReplayState,
    pub last_replayed: Option<i64>,
}

/// The archive as EventBridge describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveFacts {
    pub arn: String,
    /// The bus whose events it keeps, where a replay sends them again.
    pub bus_arn: String,
    /// Every event it holds (EventBridge counts no window).
    pub event_count: i64,
    /// 0: for ever.
    pub retention_days: i32,
}

/// The stack's archive of change events.
pub trait ChangeArchive: Send + Sync {
    /// The archive named `name`.
    fn archive(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<ArchiveFacts, ChangeReplayError>> + Send;

    /// The ARN of rule `rule` of the bus `bus_arn`.
    fn rule_arn(
        &self,
        bus_arn: &str,
        rule: &str,
    ) -> impl Future<Output = Result<String, ChangeReplayError>> + Send;

    /// Starts `request`; `Err` when EventBridge refused it (nothing is sent then).
    fn start(
        &self,
        request: &ReplayRequest,
    ) -> impl Future<Output = Result<(), ChangeReplayError>> + Send;

    /// Where replay `name` is.
    fn progress(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<ReplayProgress, ChangeReplayError>> + Send;
}

/// How often a running replay is asked where it is.
pub const POLL: Duration = Duration::from_secs(2);

/// A window EventBridge would refuse, said before anything is started.
pub fn check_window(since: i64, until: i64, now: i64) -> Result<(), String> {
    if since >= until {
        return Err("--since must be before --until".into());
    }
    if until > now {
        return Err("--until is in the future: the archive holds only what was sent".into());
    }
    Ok(())
}

/// A replay's name: `hookline-<until as yyyymmddThhmmss>-<random hex>`, within EventBridge's
/// 64 characters, so that two runs never collide.
pub fn replay_name(now: i64) -> String {
    let stamp = crate::clock::rfc3339_compact(now);
    format!("hookline-{stamp}-{:08x}", fastrand::u32(..))
}

/// The replay of `archive_name`'s window `since..until` for `rule` (every rule of the bus when
/// `None`), named for `now`, and what the archive said of itself.
pub async fn prepare(
    archive: &impl ChangeArchive,
    archive_name: &str,
    rule: Option<&str>,
    (since, until): (i64, i64),
    now: i64,
) -> Result<(ReplayRequest, ArchiveFacts), ChangeReplayError> {
    let facts = archive.archive(archive_name).await?;
    let rule_arns = match rule {
        Some(rule) => vec![archive.rule_arn(&facts.bus_arn, rule).await?],
        None => Vec::new(),
    };
    let request = ReplayRequest {
        name: replay_name(now),
        archive_arn: facts.arn.clone(),
        bus_arn: facts.bus_arn.clone(),
        rule_arns,
        since,
        until,
    };
    Ok((request, facts))
}

/// Starts `request` and polls it every `poll` until it ends; `on_progress` hears each answer.
/// `Ok` with the last state (completed, cancelled or failed); `Err` when a call failed.
pub async fn replay_changes(
    archive: &impl ChangeArchive,
    request: &ReplayRequest,
    poll: Duration,
    mut on_progress: impl FnMut(&ReplayProgress),
) -> Result<ReplayProgress, ChangeReplayError> {
    archive.start(request).await?;
    loop {
        let progress = archive.progress(&request.name).await?;
        on_progress(&progress);
        if progress.state.is_over() {
            return Ok(progress);
        }
        tokio::time::sleep(poll).await;
    }
}

/// The stack's archive on EventBridge: `StartReplay` and `DescribeReplay`, which the
/// operator policy grants on the stack's archive and on replays.
pub struct EventBridgeArchive(pub Client);

fn error<E>(action: &str, err: &SdkError<E, HttpResponse>) -> ChangeReplayError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    ChangeReplayError::new(
        ErrorKind::of_code(err.code()),
        format!("{action}: {}", short(err)),
    )
}

/// The bus's name in its ARN (`...:event-bus/<name>`).
fn bus_name(bus_arn: &str) -> &str {
    bus_arn
        .rsplit_once("event-bus/")
        .map_or(bus_arn, |(_, name)| name)
}

impl ChangeArchive for EventBridgeArchive {
    async fn archive(&self, name: &str) -> Result<ArchiveFacts, ChangeReplayError> {
        let described = self
            .0
            .describe_archive()
            .archive_name(name)
            .send()
            .await
            .map_err(|e| error("DescribeArchive", &e))?;
        let missing =
            |what: &str| ChangeReplayError::other(format!("archive {name} has no {what}"));
        Ok(ArchiveFacts {
            arn: described
                .archive_arn()
                .ok_or_else(|| missing("ARN"))?
                .to_string(),
            bus_arn: described
                .event_source_arn()
                .ok_or_else(|| missing("event source"))?
                .to_string(),
            event_count: described.event_count(),
            retention_days: described.retention_days().unwrap_or(0),
        })
    }

    async fn rule_arn(&self, bus_arn: &str, rule: &str) -> Result<String, ChangeReplayError> {
        let described = self
            .0
            .describe_rule()
            .name(rule)
            .event_bus_name(bus_name(bus_arn))
            .send()
            .await
            .map_err(|e| error("DescribeRule", &e))?;
        described
            .arn()
            .map(String::from)
            .ok_or_else(|| ChangeReplayError::other(format!("rule {rule} has no ARN")))
    }

    async fn start(&self, request: &ReplayRequest) -> Result<(), ChangeReplayError> {
        let destination = ReplayDestination::builder()
            .arn(&request.bus_arn)
            .set_filter_arns((!request.rule_arns.is_empty()).then(|| request.rule_arns.clone()))
            .build()
            .map_err(|e| ChangeReplayError::other(e.to_string()))?;
        self.0
            .start_replay()
            .replay_name(&request.name)
            .description("hookline changes replay")
            .event_source_arn(&request.archive_arn)
            .event_start_time(DateTime::from_secs(request.since))
            .event_end_time(DateTime::from_secs(request.until))
            .destination(destination)
            .send()
            .await
            .map_err(|e| error("StartReplay", &e))?;
        Ok(())
    }

    async fn progress(&self, name: &str) -> Result<ReplayProgress, ChangeReplayError> {
        let described = self
            .0
            .describe_replay()
            .replay_name(name)
            .send()
            .await
            .map_err(|e| error("DescribeReplay", &e))?;
        let reason = || {
            described
                .state_reason()
                .unwrap_or("no reason given")
                .to_string()
        };
        let state = match described.state() {
            Some(SdkState::Starting) | None => ReplayState::Starting,
            Some(SdkState::Running) => ReplayState::Running,
            Some(SdkState::Cancelling) => ReplayState::Cancelling,
            Some(SdkState::Completed) => ReplayState::Completed,
            Some(SdkState::Cancelled) => ReplayState::Cancelled,
            Some(SdkState::Failed) => ReplayState::Failed(reason()),
            Some(other) => ReplayState::Failed(format!("unknown state {}", other.as_str())),
        };
        Ok(ReplayProgress {
            state,
            last_replayed: described.event_last_replayed_time().map(|t| t.secs()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// An archive whose replays go through the states given, one per poll.
    #[derive(Default)]
    struct MemoryArchive {
        started: Mutex<Vec<ReplayRequest>>,
        states: Mutex<Vec<ReplayProgress>>,
        refuse: Option<ChangeReplayError>,
    }

    impl ChangeArchive for MemoryArchive {
        async fn archive(&self, name: &str) -> Result<ArchiveFacts, ChangeReplayError> {
            if name != "hookline-changes" {
                return Err(ChangeReplayError::new(ErrorKind::NotFound, name));
            }
            Ok(ArchiveFacts {
                arn: request().archive_arn,
                bus_arn: request().bus_arn,
                event_count: 42,
                retention_days: 30,
            })
        }

        async fn rule_arn(&self, bus_arn: &str, rule: &str) -> Result<String, ChangeReplayError> {
            assert_eq!(bus_name(bus_arn), "hookline-identities");
            match rule {
                "crm" => Ok(request().rule_arns[0].clone()),
                other => Err(ChangeReplayError::new(ErrorKind::NotFound, other)),
            }
        }

        async fn start(&self, request: &ReplayRequest) -> Result<(), ChangeReplayError> {
            if let Some(refusal) = &self.refuse {
                return Err(refusal.clone());
            }
            self.started.lock().unwrap().push(request.clone());
            Ok(())
        }

        async fn progress(&self, name: &str) -> Result<ReplayProgress, ChangeReplayError> {
            assert_eq!(self.started.lock().unwrap()[0].name, name);
            Ok(self.states.lock().unwrap().remove(0))
        }
    }

    fn request() -> ReplayRequest {
        ReplayRequest {
            name: replay_name(1_765_000_000),
            archive_arn: "arn:aws:events:eu-west-1:123456789012:archive/hookline-changes".into(),
            bus_arn: "arn:aws:events:eu-west-1:123456789012:event-bus/hookline-identities".into(),
            rule_arns: vec![
                "arn:aws:events:eu-west-1:123456789012:rule/hookline-identities/crm".into(),
            ],
            since: 1_764_990_000,
            until: 1_765_000_000,
        }
    }

    fn at(state: ReplayState, last_replayed: Option<i64>) -> ReplayProgress {
        ReplayProgress {
            state,
            last_replayed,
        }
    }

    #[tokio::test]
    async fn a_replay_is_started_once_and_followed_to_its_end() {
        let archive = MemoryArchive::default();
        *archive.states.lock().unwrap() = vec![
            at(ReplayState::Starting, None),
            at(ReplayState::Running, Some(1_764_995_000)),
            at(ReplayState::Completed, Some(1_765_000_000)),
        ];
        let mut heard = Vec::new();
        let request = request();
        let last = replay_changes(&archive, &request, Duration::ZERO, |p| {
            heard.push(p.state.as_str())
        })
        .await
        .unwrap();
        assert_eq!(last.state, ReplayState::Completed);
        assert_eq!(heard, ["STARTING", "RUNNING", "COMPLETED"]);
        assert_eq!(*archive.started.lock().unwrap(), [request]);
    }

    #[tokio::test]
    async fn a_failed_replay_ends_the_watch_with_its_reason() {
        let archive = MemoryArchive::default();
        *archive.states.lock().unwrap() =
            vec![at(ReplayState::Failed("the rule was deleted".into()), None)];
        let last = replay_changes(&archive, &request(), Duration::ZERO, |_| {})
            .await
            .unwrap();
        assert_eq!(
            last.state,
            ReplayState::Failed("the rule was deleted".into())
        );
    }

    #[tokio::test]
    async fn a_refused_start_polls_nothing() {
        let archive = MemoryArchive {
            refuse: Some(ChangeReplayError::new(ErrorKind::Refused, "AccessDenied")),
            ..MemoryArchive::default()
        };
        let error = replay_changes(&archive, &request(), Duration::ZERO, |_| {
            panic!("nothing to hear")
        })
        .await
        .unwrap_err();
        assert_eq!(error.kind, ErrorKind::Refused);
    }

    #[tokio::test]
    async fn the_replay_names_the_archives_bus_and_the_rules_arn() {
        let archive = MemoryArchive::default();
        let window = (1_764_990_000, 1_765_000_000);
        let (request, facts) = prepare(
            &archive,
            "hookline-changes",
            Some("crm"),
            window,
            1_765_000_000,
        )
        .await
        .unwrap();
        assert_eq!(facts.event_count, 42);
        assert_eq!(request.bus_arn, facts.bus_arn);
        assert_eq!(request.rule_arns, self::request().rule_arns);
        assert_eq!((request.since, request.until), window);
        let every_rule = prepare(&archive, "hookline-changes", None, window, 1_765_000_000)
            .await
            .unwrap()
            .0;
        assert!(every_rule.rule_arns.is_empty());
        let unknown = prepare(
            &archive,
            "hookline-changes",
            Some("nope"),
            window,
            1_765_000_000,
        )
        .await
        .unwrap_err();
        assert_eq!(unknown.kind, ErrorKind::NotFound);
        assert!(
            archive.started.lock().unwrap().is_empty(),
            "nothing started"
        );
    }

    #[test]
    fn a_window_is_checked_before_anything_starts() {
        assert_eq!(check_window(10, 20, 30), Ok(()));
        assert_eq!(check_window(10, 30, 30), Ok(()));
        assert!(check_window(20, 20, 30)
            .unwrap_err()
            .contains("before --until"));
        assert!(check_window(10, 31, 30).unwrap_err().contains("future"));
    }

    #[test]
    fn replay_names_fit_eventbridge_and_differ() {
        let (a, b) = (replay_name(1_765_000_000), replay_name(1_765_000_000));
        assert_ne!(a, b);
        for name in [a, b] {
            assert!(name.starts_with("hookline-20251206T"), "{name}");
            assert!(name.len() <= 64);
            assert!(name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)));
        }
    }
}
