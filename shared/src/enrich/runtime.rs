//! What the enricher binary runs: configuration, clients, then the SQS batch loop.

use super::config::{CredentialSource, Credentials, EnricherConfig};
use super::EnrichError;
use super::Keeping;
use super::{DynamoDbReopen, EnrichOutcome, Enricher, Output, Reopen, Sources};
use crate::config::ConfigError;
use crate::history::{DynamoDbHistory, HistoryStore};
use crate::identity::{ChangePublisher, DynamoDbIdentities, EventBridgePublisher, IdentityStore};
use crate::provider_api::http::ApiClient;
use crate::provider_api::ApiConfig;
use crate::secrets::{Refresh, Refreshing};
use crate::secrets_manager::{SecretsManagerReader, REFRESH_TIMEOUT};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use lambda_runtime::{service_fn, LambdaEvent};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::Instrument;

/// Kept back from the Lambda deadline so a batch always answers before it is killed.
const DEADLINE_MARGIN: Duration = Duration::from_secs(1);

pub async fn run() -> Result<(), lambda_runtime::Error> {
    crate::logging::init();
    let enricher = async {
        let config = EnricherConfig::from_env()?;
        let aws = crate::runtime::sdk_config().await;
        LiveEnricher::start(&config, &aws, crate::clock::unix_now()).await
    }
    .await
    .inspect_err(|e| tracing::error!(error = %e, "invalid configuration, not starting"))?;
    let enricher = &enricher;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let deadline = instant_of(event.context.deadline);
        let enricher = enricher.current(crate::clock::unix_now()).await;
        Ok::<_, Infallible>(enricher.handle_batch(&event.payload, deadline).await)
    }))
    .await
}

type Build = Box<dyn Fn(&str) -> Result<Enricher, ConfigError> + Send + Sync>;

/// The enricher as it runs: rebuilt when the credentials in `ENRICHER_SECRETS_ARN` changed,
/// read again at the first batch after `SECRETS_CACHE_SECONDS`; a failed re-read keeps the
/// clients that were serving (`secrets::Refreshing`). Unchanged credentials keep the clients,
/// with ClearID's cached token and any provider's `Retry-After` pause.
pub struct LiveEnricher {
    enrichers: Refreshing<Enricher, SecretsManagerReader, Build>,
}

impl LiveEnricher {
    pub async fn start(
        config: &EnricherConfig,
        aws: &aws_config::SdkConfig,
        now: i64,
    ) -> Result<Self, ConfigError> {
        let enrichers = match &config.credentials {
            CredentialSource::Inline(credentials) => {
                let enricher = enricher_from_credentials(config, credentials, aws);
                Refreshing::fixed(enricher, build(config, aws, String::new()))
            }
            CredentialSource::SecretsManager { arn } => {
                let text = crate::secrets_manager::secret_string(arn, aws).await?;
                let reader = SecretsManagerReader::new(arn, aws).with_timeout(REFRESH_TIMEOUT);
                let build = build(config, aws, arn.clone());
                Refreshing::new(reader, build, config.secrets_cache_seconds, text, now)?
            }
        };
        Ok(Self { enrichers })
    }

    /// The enricher for a batch at `now` (Unix seconds), after a re-read if due.
    pub async fn current(&self, now: i64) -> Arc<Enricher> {
        self.enrichers.get(now).await
    }

    /// As [`Self::current`], saying whether the credentials were read again.
    pub async fn current_with(&self, now: i64) -> (Arc<Enricher>, Refresh) {
        self.enrichers.get_with(now).await
    }
}

fn build(config: &EnricherConfig, aws: &aws_config::SdkConfig, arn: String) -> Build {
    let (config, aws) = (config.clone(), aws.clone());
    Box::new(move |text| {
        let credentials = credentials_from_json(&arn, text)?;
        Ok(enricher_from_credentials(&config, &credentials, &aws))
    })
}

fn credentials_from_json(arn: &str, text: &str) -> Result<Credentials, ConfigError> {
    super::config::credentials_from_json(text).ok_or_else(|| ConfigError::SecretUnavailable {
        arn: arn.to_string(),
        reason: "the secret is not a JSON object of strings".into(),
    })
}

/// Builds the enricher: each provider's API client when its credentials are present.
pub async fn enricher_from_config(
    config: &EnricherConfig,
    aws: &aws_config::SdkConfig,
) -> Result<Enricher, ConfigError> {
    let credentials = match &config.credentials {
        CredentialSource::Inline(credentials) => credentials.clone(),
        CredentialSource::SecretsManager { arn } => {
            let text = crate::secrets_manager::secret_string(arn, aws).await?;
            credentials_from_json(arn, &text)?
        }
    };
    Ok(enricher_from_credentials(config, &credentials, aws))
}

/// The enricher for these credentials: each provider's API client when its are present.
pub fn enricher_from_credentials(
    config: &EnricherConfig,
    credentials: &Credentials,
    aws: &aws_config::SdkConfig,
) -> Enricher {
    // One connection pool; each provider gets its own pause, so one provider's `Retry-After`
    // does not hold back the others.
    let client = ApiClient::new(config.http_timeout, config.http_max_attempts);
    let sources = Sources::from_config(&ApiConfig {
        settings: &config.api_settings,
        credentials,
        client: &client,
    });
    log_readiness(&sources);
    let dynamodb = aws_sdk_dynamodb::Client::new(aws);
    let events = DynamoDbReopen::new(dynamodb.clone(), &config.table);
    let output = Output {
        identities: DynamoDbIdentities::new(dynamodb.clone(), &config.identities_table),
        publisher: EventBridgePublisher::new(
            aws_sdk_eventbridge::Client::new(aws),
            &config.event_bus,
            config.change_events_include_data,
        ),
        retention: config.identity_retention,
    };
    let keeping = Keeping {
        history: DynamoDbHistory::new(dynamodb, &config.history_table),
        retention_seconds: config.history_retention_seconds,
    };
    Enricher::new(sources, events, output, keeping)
}

/// One start-up line naming the providers the enricher can fetch for. A provider without API
/// credentials is a warning: each of its events fails every receive and ends in the dead-letter
/// queue, so the operator should see it before the first one does.
fn log_readiness(sources: &Sources) {
    // A provider whose API takes no credentials (its events carry the data) is always ready and
    // goes unnamed.
    let (ready, missing): (Vec<_>, Vec<_>) = crate::providers::ALL
        .iter()
        .filter(|provider| !provider.credentials.is_empty())
        .map(|provider| (provider.name, sources.has(provider.name)))
        .partition(|(_, has)| *has);
    let names = |list: Vec<(&str, bool)>| {
        list.into_iter()
            .map(|(name, _)| name)
            .collect::<Vec<_>>()
            .join(", ")
    };
    if missing.is_empty() {
        tracing::info!(
            fetches_for = %names(ready),
            version = crate::build::VERSION,
            commit = crate::build::COMMIT,
            "enricher ready: API credentials for every provider it fetches from"
        );
    } else {
        tracing::warn!(
            fetches_for = %names(ready),
            no_credentials_for = %names(missing),
            version = crate::build::VERSION,
            commit = crate::build::COMMIT,
            "enricher ready without API credentials for some providers: their events fail to the dead-letter queue until the enricher's secret holds them (docs/deploy.md: The enricher's credentials)"
        );
    }
}

impl<S: Reopen, I: IdentityStore, P: ChangePublisher, H: HistoryStore> Enricher<S, I, P, H> {
    /// One SQS batch: every message enriched or reported as failed, one log line each (ids and
    /// outcomes only: the data is personal).
    pub async fn handle_batch(&self, event: &SqsEvent, deadline: Instant) -> SqsBatchResponse {
        tracing::info!(
            messages = event.records.len(),
            remaining_ms = deadline
                .saturating_duration_since(Instant::now())
                .as_millis() as u64,
            "batch received"
        );
        super::batch::process_batch(&event.records, |record| {
            let message_id = record.message_id.as_deref().unwrap_or_default();
            let provider = record
                .message_attributes
                .get("provider")
                .and_then(|a| a.string_value.as_deref())
                .unwrap_or("unknown");
            // Every line about this message names it; `enrich` adds the event id once read, and
            // the provider's fetch the resource id once it has the provider's id shape (so no
            // hostile id, and never a URL path, reaches a log line).
            let span = tracing::info_span!(
                "message",
                message_id,
                event_id = tracing::field::Empty,
                resource_id = tracing::field::Empty
            );
            self.handle_message(record, message_id, provider, deadline)
                .instrument(span)
        })
        .await
    }

    /// One message: enriched, counted, logged.
    async fn handle_message(
        &self,
        record: &SqsMessage,
        message_id: &str,
        provider: &str,
        deadline: Instant,
    ) -> Result<(), EnrichError> {
        let body = record.body.as_deref().unwrap_or_default();
        let result = self.enrich(body, deadline).await;
        let now_ms = crate::clock::unix_now_ms();
        if let Some(counted) = super::counted(&result) {
            crate::metrics::emit(&crate::metrics::enrichment(provider, counted, now_ms));
        }
        let outcome = match result {
            Ok(EnrichOutcome::Enriched) => "enriched",
            Ok(EnrichOutcome::Tombstone) => "tombstone",
            Ok(EnrichOutcome::Stale) => "stale",
            Ok(EnrichOutcome::RegistrationCheck) => {
                // The span names the event; the payload is the sample's, and stays unlogged.
                tracing::info!(message_id, provider, "registration check acknowledged");
                return Ok(());
            }
            Err(error) => {
                tracing::warn!(message_id, provider, outcome = "failed", error = %error, "message not enriched");
                return Err(error);
            }
        };
        tracing::info!(message_id, provider, outcome, "message enriched");
        Ok(())
    }
}

/// A Lambda deadline (Unix milliseconds) as an `Instant`, less a safety margin.
fn instant_of(deadline_ms: u64) -> Instant {
    let now = Instant::now();
    let remaining = remaining_of(deadline_ms, crate::clock::unix_now_ms() as u64);
    // `remaining` is at most 15 minutes, so this cannot fail; if it did, no time is left.
    now.checked_add(remaining).unwrap_or(now)
}

/// The time left before `deadline_ms`, less the margin, at most Lambda's longest invocation.
///
/// `cargo lambda watch` sends the timeout itself (e.g. 600000) rather than a point in time; a
/// value that cannot be a Unix time in milliseconds (before September 2001) is read as that.
/// The cap keeps a nonsensical deadline from reaching `Instant` arithmetic.
fn remaining_of(deadline_ms: u64, now_ms: u64) -> Duration {
    const EARLIEST_EPOCH_MS: u64 = 1_000_000_000_000;
    const LONGEST_INVOCATION: Duration = Duration::from_secs(15 * 60);
    let remaining_ms = if deadline_ms < EARLIEST_EPOCH_MS {
        deadline_ms
    } else {
        deadline_ms.saturating_sub(now_ms)
    };
    Duration::from_millis(remaining_ms)
        .min(LONGEST_INVOCATION)
        .saturating_sub(DEADLINE_MARGIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remaining(deadline_ms: u64) -> Duration {
        instant_of(deadline_ms).saturating_duration_since(Instant::now())
    }

    #[test]
    fn deadlines_as_epoch_or_as_duration() {
        let now_ms = crate::clock::unix_now_ms() as u64;
        let epoch = remaining(now_ms + 30_000);
        assert!(
            epoch > Duration::from_secs(28) && epoch <= Duration::from_secs(29),
            "{epoch:?}"
        );
        assert_eq!(remaining(now_ms - 5_000), Duration::ZERO);
        let relative = remaining(600_000);
        assert!(relative > Duration::from_secs(598) && relative <= Duration::from_secs(599));
        // Nonsense deadlines are capped instead of overflowing `Instant` arithmetic.
        assert!(remaining(u64::MAX) <= Duration::from_secs(899));
        assert!(remaining(EARLIEST - 1) <= Duration::from_secs(899));
    }

    const EARLIEST: u64 = 1_000_000_000_000;

    #[test]
    fn start_up_names_the_providers_it_can_and_cannot_fetch_for() {
        use crate::logging::{subscriber, Capture};
        let capture = Capture::default();
        let _guard =
            tracing::subscriber::set_default(subscriber(tracing::Level::INFO, capture.clone()));
        let config = EnricherConfig::from_lookup(|name| {
            [
                ("EVENTS_TABLE", "events"),
                ("HISTORY_TABLE", "history"),
                ("IDENTITIES_TABLE", "identities"),
                ("EVENT_BUS_NAME", "bus"),
                ("ARGYLE_API_KEY_ID", "argyle-key-id"),
                ("ARGYLE_API_KEY_SECRET", "argyle-key-secret"),
            ]
            .into_iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
        })
        .unwrap();
        let CredentialSource::Inline(credentials) = &config.credentials else {
            panic!("inline credentials expected")
        };
        let aws = aws_config::SdkConfig::builder().build();
        let _enricher = enricher_from_credentials(&config, credentials, &aws);
        let lines = capture.lines();
        let line = lines
            .iter()
            .find(|l| {
                l["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("enricher ready"))
            })
            .expect("a readiness line");
        assert_eq!(line["level"], "WARN");
        assert_eq!(line["version"], crate::build::VERSION);
        assert_eq!(line["commit"], crate::build::COMMIT);
        assert_eq!(line["fetches_for"], "argyle");
        assert_eq!(line["no_credentials_for"], "baack, clearid");
        assert!(!capture.text().contains("argyle-key-secret"));
    }

    #[test]
    fn remaining_time_is_capped_and_never_negative() {
        let now = 1_800_000_000_000;
        let secs = Duration::from_secs;
        assert_eq!(remaining_of(now + 30_000, now), secs(29));
        assert_eq!(remaining_of(now + 500, now), Duration::ZERO);
        assert_eq!(remaining_of(now - 5_000, now), Duration::ZERO);
        assert_eq!(remaining_of(u64::MAX, now), secs(899));
        assert_eq!(remaining_of(600_000, now), secs(599));
        assert_eq!(remaining_of(EARLIEST - 1, now), secs(899));
        assert_eq!(remaining_of(0, now), Duration::ZERO);
    }
}
