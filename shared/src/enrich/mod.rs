//! Enrichment: the asynchronous half. Webhooks carry a notification; this reads each queued
//! event, fetches the full data from the provider's API (Midbound pushes it in full), and
//! records it as the identity's current state (or a tombstone when the identity is gone),
//! sending a change event when that state changed (`identity`).

pub mod batch;
pub mod config;
mod reopen;
mod runtime;

pub use crate::provider_api::{FetchError, Fetched};
pub use config::EnricherConfig;
pub use reopen::{DynamoDbReopen, Reopen};
pub use runtime::{enricher_from_config, enricher_from_credentials, run, LiveEnricher};

use crate::envelope::ReceivedEnvelope;
use crate::history::{DynamoDbHistory, HistoryEntry, HistoryStore};
use crate::identity::{
    decide, ChangePublisher, Decision, DynamoDbIdentities, EventBridgePublisher, Identity,
    IdentityKey, IdentityStore, Observation, Retention,
};
use crate::limits::{DYNAMODB_ITEM_BYTES, RECORD_OVERHEAD_BYTES};
use crate::provider_api::ProviderApi;
use std::collections::BTreeMap;
use std::time::Instant;

/// The most provider data an identity record holds: the item less its other attributes.
pub const MAX_DATA_BYTES: usize = DYNAMODB_ITEM_BYTES - RECORD_OVERHEAD_BYTES;

/// How often a write that lost a race with another enricher on the same identity is decided
/// again from the newer state before the message is failed (and retried by SQS).
const WRITE_ATTEMPTS: usize = 5;

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnrichOutcome {
    Enriched,
    Tombstone,
    /// Newer provider data was already recorded; nothing written.
    Stale,
    /// A registration check (`registration_check`): acknowledged, nothing fetched, written,
    /// kept or sent.
    RegistrationCheck,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnrichError {
    #[error("malformed envelope: {0}")]
    Malformed(String),
    #[error("{provider}: {error}")]
    Fetch { provider: String, error: FetchError },
    #[error("no API credentials configured for {0}")]
    NotConfigured(String),
    #[error("store: {0}")]
    Store(String),
    /// The identity's state is stored, its change event not yet sent: the retry sends it.
    #[error("{0}")]
    Publish(String),
}

/// The providers' APIs by provider name, each present when its credentials are configured.
#[derive(Default)]
pub struct Sources(BTreeMap<&'static str, Box<dyn ProviderApi>>);

impl Sources {
    /// Every provider's API that `config` can build ([`crate::providers::ALL`]).
    pub fn from_config(config: &crate::provider_api::ApiConfig<'_>) -> Self {
        Self(
            crate::providers::ALL
                .iter()
                .filter_map(|provider| Some((provider.name, provider.api(config)?)))
                .collect(),
        )
    }

    /// These sources, with `api` as provider `name`'s.
    pub fn with(mut self, name: &'static str, api: impl ProviderApi + 'static) -> Self {
        self.0.insert(name, Box::new(api));
        self
    }

    /// Whether provider `name`'s API is here.
    pub fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }
}

/// Where the enricher keeps each message it takes (`history`), and for how long.
pub struct Keeping<H> {
    pub history: H,
    pub retention_seconds: u64,
}

/// Where the enricher's results go: each identity's current state, kept for `retention`, and
/// the change events its changes send.
pub struct Output<I, P> {
    pub identities: I,
    pub publisher: P,
    pub retention: Retention,
}

pub struct Enricher<
    S = DynamoDbReopen,
    I = DynamoDbIdentities,
    P = EventBridgePublisher,
    H = DynamoDbHistory,
> {
    sources: Sources,
    events: S,
    output: Output<I, P>,
    keeping: Keeping<H>,
}

impl<S: Reopen, I: IdentityStore, P: ChangePublisher, H: HistoryStore> Enricher<S, I, P, H> {
    pub fn new(sources: Sources, events: S, output: Output<I, P>, keeping: Keeping<H>) -> Self {
        Self {
            sources,
            events,
            output,
            keeping,
        }
    }

    pub fn identities(&self) -> &I {
        &self.output.identities
    }

    pub fn publisher(&self) -> &P {
        &self.output.publisher
    }

    pub fn history(&self) -> &H {
        &self.keeping.history
    }

    /// Enriches one message body. `deadline` bounds every call and retry.
    pub async fn enrich(
        &self,
        body: &str,
        deadline: Instant,
    ) -> Result<EnrichOutcome, EnrichError> {
        let envelope =
            ReceivedEnvelope::parse(body).map_err(|e| EnrichError::Malformed(e.to_string()))?;
        tracing::Span::current().record("event_id", envelope.event_id.as_str());
        // Before the history: a check proves the way in and must leave nothing behind, and it
        // needs none of the provider's credentials.
        if crate::registration_check::is_check(&envelope) {
            return Ok(EnrichOutcome::RegistrationCheck);
        }
        // Kept before anything can fail, so that a message the enricher cannot handle yet is
        // still in the history; a replay is the original sent again and is not kept twice.
        let now = crate::clock::unix_now();
        if let Some(entry) =
            HistoryEntry::of_message(body, &envelope, now, self.keeping.retention_seconds)
        {
            self.keeping
                .history
                .keep(&entry)
                .await
                .map_err(|e| EnrichError::Store(e.to_string()))?;
        }
        if envelope.keyed_by_content {
            // Before the read, never after: a notification that lands while the read is in
            // flight must count as new, or the change it announces could be missed.
            self.events
                .reopen(&envelope.event_id, crate::clock::unix_now())
                .await
                .map_err(|e| EnrichError::Store(e.to_string()))?;
        }
        let read_started_ms = crate::clock::unix_now_ms();
        let fetched = self
            .fetch(&envelope, deadline)
            .await
            .map_err(|error| match error {
                FetchFailure::NotConfigured => {
                    EnrichError::NotConfigured(envelope.provider.clone())
                }
                FetchFailure::Failed(error) => EnrichError::Fetch {
                    provider: envelope.provider.clone(),
                    error,
                },
            })?;
        let observation = Observation {
            key: IdentityKey::about(&envelope),
            event_id: envelope.event_id.clone(),
            event_type: envelope.event_type.clone(),
            fetched,
            read_started_ms,
            now: crate::clock::unix_now(),
        };
        self.record(observation, &envelope.provider).await
    }

    /// Stores what a fetch found as the identity's state unless newer is stored, then sends the
    /// change it made (or one an earlier attempt stored and could not send).
    async fn record(
        &self,
        observation: Observation,
        provider: &str,
    ) -> Result<EnrichOutcome, EnrichError> {
        let identities = &self.output.identities;
        let store_error = |e: crate::identity::IdentityError| EnrichError::Store(e.to_string());
        for _ in 0..WRITE_ATTEMPTS {
            let stored = identities
                .get(&observation.key)
                .await
                .map_err(store_error)?;
            let decision = decide(stored.as_ref(), observation.clone(), self.output.retention);
            let identity = match decision {
                Decision::Write(identity) => *identity,
                Decision::Stale => {
                    if let Some(stored) = &stored {
                        self.send(stored).await?;
                    }
                    return Ok(EnrichOutcome::Stale);
                }
            };
            let size = identity.stored_bytes();
            if size > MAX_DATA_BYTES {
                // DynamoDB would refuse the item: fail before the write, saying why, and let the
                // redrive policy move the message to the dead-letter queue after its receives. A
                // change an earlier fetch stored is still owed to downstream: sent first.
                if let Some(stored) = &stored {
                    self.send(stored).await?;
                }
                return Err(EnrichError::Fetch {
                    provider: provider.to_string(),
                    error: FetchError::Permanent(format!(
                        "the provider's data with the record's ids ({size} bytes) does not fit in \
                         one DynamoDB item"
                    )),
                });
            }
            if !identities.put(&identity).await.map_err(store_error)? {
                // Another enricher wrote this identity since the read: decide again from its state.
                continue;
            }
            self.send(&identity).await?;
            return Ok(if identity.is_tombstone() {
                EnrichOutcome::Tombstone
            } else {
                EnrichOutcome::Enriched
            });
        }
        Err(EnrichError::Store(format!(
            "the identity changed under {WRITE_ATTEMPTS} writes in a row"
        )))
    }

    /// Sends the identity's pending change, if one is owed, then lets the record forget it.
    async fn send(&self, identity: &Identity) -> Result<(), EnrichError> {
        let Some(change) = &identity.pending else {
            return Ok(());
        };
        self.output
            .publisher
            .publish(change, identity.data_value().as_ref())
            .await
            .map_err(|e| EnrichError::Publish(e.to_string()))?;
        tracing::info!(
            change = change.change.as_str(),
            revision = change.revision,
            "change event sent"
        );
        self.output
            .identities
            .sent(&identity.key, identity.version)
            .await
            .map_err(|e| EnrichError::Store(e.to_string()))
    }

    async fn fetch(
        &self,
        envelope: &ReceivedEnvelope,
        deadline: Instant,
    ) -> Result<Fetched, FetchFailure> {
        let provider = envelope.provider.as_str();
        match self.sources.0.get(provider) {
            Some(api) => api
                .fetch(envelope, deadline)
                .await
                .map_err(FetchFailure::Failed),
            None if crate::providers::find(provider).is_some() => Err(FetchFailure::NotConfigured),
            None => Err(FetchFailure::Failed(FetchError::Permanent(format!(
                "unknown provider {provider:?}"
            )))),
        }
    }
}

/// How a message's outcome is counted; a registration check, which is no provider's event, is
/// not (its log line says it was acknowledged).
fn counted(result: &Result<EnrichOutcome, EnrichError>) -> Option<crate::metrics::Enrichment> {
    use crate::metrics::Enrichment;
    Some(match result {
        Ok(EnrichOutcome::Enriched) => Enrichment::Enriched,
        Ok(EnrichOutcome::Tombstone) => Enrichment::Tombstoned,
        Ok(EnrichOutcome::Stale) => Enrichment::Stale,
        Ok(EnrichOutcome::RegistrationCheck) => return None,
        Err(error) => Enrichment::Failed {
            reason: error.reason(),
        },
    })
}

impl EnrichError {
    /// The `Reason` a failure is counted under.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "malformed_envelope",
            Self::Fetch {
                error: FetchError::Retryable(_),
                ..
            } => "api_retryable",
            Self::Fetch {
                error: FetchError::Permanent(_),
                ..
            } => "api_permanent",
            Self::NotConfigured(_) => "not_configured",
            Self::Store(_) => "store",
            Self::Publish(_) => "change_events",
        }
    }
}

enum FetchFailure {
    NotConfigured,
    Failed(FetchError),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::MemoryHistory;
    use crate::identity::ChangeKind;
    use crate::identity::{MemoryIdentities, MemoryPublisher};
    use crate::provider_api::stand_in;
    use crate::store::StoreError;
    use std::time::Duration;

    struct NoReopen;

    impl Reopen for NoReopen {
        async fn reopen(&self, _: &str, _: i64) -> Result<bool, StoreError> {
            Ok(false)
        }
    }

    type TestEnricher = Enricher<NoReopen, MemoryIdentities, MemoryPublisher, MemoryHistory>;

    /// As right after a deploy: no provider's API credentials, so only the APIs that need
    /// none (Midbound's data comes with its events).
    fn enricher() -> TestEnricher {
        let client = crate::provider_api::http::ApiClient::new(Duration::from_secs(2), 1);
        enricher_with(Sources::from_config(&crate::provider_api::ApiConfig {
            settings: &Default::default(),
            credentials: &Default::default(),
            client: &client,
        }))
    }

    fn enricher_with(sources: Sources) -> TestEnricher {
        Enricher::new(
            sources,
            NoReopen,
            Output {
                identities: MemoryIdentities::default(),
                publisher: MemoryPublisher::default(),
                retention: Retention {
                    data_seconds: 3600,
                    tombstone_seconds: 60,
                },
            },
            Keeping {
                history: MemoryHistory::default(),
                retention_seconds: 3600,
            },
        )
    }

    /// A Midbound message (its data is pushed in full: no API is called).
    fn midbound(id: &str, created: &str, data: &str) -> String {
        format!(
            r#"{{"version":1,"event_id":"midbound#{id}","provider":"midbound","event_type":"identity.resolved","recognized":true,"received_at":"2026-12-02T10:00:00Z","occurred_at":"{created}","payload":{{"id":"{id}","data":{data}}}}}"#
        )
    }

    /// The detail types of the change events sent so far, in order.
    fn detail_types(enricher: &TestEnricher) -> Vec<String> {
        enricher
            .publisher()
            .sent()
            .into_iter()
            .map(|e| e.detail_type)
            .collect()
    }

    fn deadline() -> Instant {
        Instant::now() + Duration::from_secs(5)
    }

    #[tokio::test]
    async fn a_new_identity_is_stored_and_announced_once() {
        let enricher = enricher();
        let body = midbound(
            "evt_1",
            "2026-12-02T10:00:00Z",
            r#"{"identity":{"city":"Denver"}}"#,
        );
        assert_eq!(
            enricher.enrich(&body, deadline()).await,
            Ok(EnrichOutcome::Enriched)
        );
        let stored = enricher.identities().all();
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].key, IdentityKey::new("midbound", "evt_1"));
        assert_eq!(stored[0].pending, None, "sent, so forgotten");
        let sent = enricher.publisher().sent();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].detail_type, "midbound.identity.created");
        assert_eq!(
            sent[0].detail["changed_fields"],
            serde_json::json!(["identity"])
        );
        assert!(
            sent[0].detail.get("data").is_none(),
            "no personal data by default"
        );
        // The same message again (an SQS redelivery): the same data, no second event.
        assert_eq!(
            enricher.enrich(&body, deadline()).await,
            Ok(EnrichOutcome::Enriched)
        );
        assert_eq!(enricher.publisher().sent().len(), 1);
    }

    /// A registration check's queue message for provider `P`, as its function sends it.
    fn check<P: crate::Provider>() -> crate::envelope::QueueMessage {
        let id = crate::registration_check::new_id();
        let body = crate::registration_check::payload(P::NAME, &id).unwrap();
        crate::registration_check::queued::<P>(body).1
    }

    fn checks() -> Vec<crate::envelope::QueueMessage> {
        macro_rules! each {
            ([$($module:ident::$provider:ident),*]) => {
                vec![$(check::<crate::providers::$provider>()),*]
            };
        }
        crate::for_each_provider!(each)
    }

    #[tokio::test]
    async fn a_registration_check_leaves_nothing_even_without_credentials() {
        // No provider's API credentials, as right after a deploy.
        let enricher = enricher();
        for message in checks() {
            assert_eq!(
                enricher.enrich(&message.body, deadline()).await,
                Ok(EnrichOutcome::RegistrationCheck),
                "{}",
                message.provider
            );
        }
        assert!(enricher.identities().all().is_empty(), "no identity");
        assert!(enricher.publisher().sent().is_empty(), "no change event");
        assert!(enricher.history().all().is_empty(), "no history");
        // The provider's own sample is a real event: without credentials it still fails.
        let sample = crate::registration_check::payload("argyle", "0187c66e").unwrap();
        let real = crate::registration_check::queued::<crate::providers::Argyle>(sample).1;
        assert_eq!(
            enricher.enrich(&real.body, deadline()).await,
            Err(EnrichError::NotConfigured("argyle".into()))
        );
    }

    #[tokio::test]
    async fn a_registration_check_is_one_log_line_and_no_metric() {
        use crate::logging::{subscriber, Capture};
        use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage, SqsMessageAttribute};
        let capture = Capture::default();
        let _guard =
            tracing::subscriber::set_default(subscriber(tracing::Level::INFO, capture.clone()));
        let checks = checks();
        // Beside them, a real event of a provider without credentials: its failure is counted.
        let sample = crate::registration_check::payload("argyle", "0187c66e").unwrap();
        let real = crate::registration_check::queued::<crate::providers::Argyle>(sample).1;
        let mut event = SqsEvent::default();
        event.records = checks
            .iter()
            .chain([&real])
            .enumerate()
            .map(|(i, message)| {
                let mut record = SqsMessage::default();
                record.message_id = Some(format!("m{i}"));
                record.body = Some(message.body.clone());
                let mut provider = SqsMessageAttribute::default();
                provider.string_value = Some(message.provider.clone());
                record
                    .message_attributes
                    .insert("provider".into(), provider);
                record
            })
            .collect();
        let response = enricher().handle_batch(&event, deadline()).await;
        let failed: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(failed, ["m4"], "the real event only");
        let lines = capture.lines();
        let acknowledged: Vec<_> = lines
            .iter()
            .filter(|l| l["message"] == "registration check acknowledged")
            .collect();
        assert_eq!(acknowledged.len(), checks.len(), "{lines:?}");
        for (line, message) in acknowledged.iter().zip(&checks) {
            assert_eq!(line["provider"], message.provider.as_str());
            assert_eq!(line["event_id"], message.event_id.as_str());
        }
        let metrics: Vec<_> = lines.iter().filter(|l| l.get("_aws").is_some()).collect();
        assert_eq!(metrics.len(), 1, "no metric for a check: {metrics:?}");
        assert_eq!(metrics[0]["EnrichmentFailed"], 1);
        assert!(
            !capture.text().contains("ann.example@example.com"),
            "nothing of the payload"
        );
    }

    #[test]
    fn outcomes_are_counted_by_kind_and_failures_by_reason() {
        use crate::metrics::Enrichment;
        assert_eq!(
            counted(&Ok(EnrichOutcome::Tombstone)),
            Some(Enrichment::Tombstoned)
        );
        let failed = Err(EnrichError::Fetch {
            provider: "baack".into(),
            error: FetchError::Retryable("503".into()),
        });
        assert_eq!(
            counted(&failed),
            Some(Enrichment::Failed {
                reason: "api_retryable"
            })
        );
        assert_eq!(counted(&Ok(EnrichOutcome::RegistrationCheck)), None);
    }

    #[tokio::test]
    async fn a_change_the_bus_refused_is_sent_by_the_retry() {
        let enricher = enricher();
        let body = midbound(
            "evt_2",
            "2026-12-02T10:00:00Z",
            r#"{"identity":{"city":"Denver"}}"#,
        );
        enricher.publisher().set_failing(true);
        let failed = enricher.enrich(&body, deadline()).await;
        assert!(matches!(failed, Err(EnrichError::Publish(_))), "{failed:?}");
        let stored = enricher.identities().all();
        assert_eq!(
            stored[0].pending.as_ref().map(|c| c.change),
            Some(ChangeKind::Created)
        );
        enricher.publisher().set_failing(false);
        assert_eq!(
            enricher.enrich(&body, deadline()).await,
            Ok(EnrichOutcome::Enriched)
        );
        let sent = enricher.publisher().sent();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].detail["change"], "created");
        assert_eq!(enricher.identities().all()[0].pending, None);
    }

    #[tokio::test]
    async fn an_older_event_after_a_newer_one_is_stale_and_silent() {
        let enricher = enricher();
        let body = midbound("evt_3", "2026-12-02T10:00:00Z", r#"{"a":1}"#);
        enricher.enrich(&body, deadline()).await.unwrap();
        let older = body
            .replace(
                "2026-12-02T10:00:00Z\",\"payload",
                "2026-12-01T10:00:00Z\",\"payload",
            )
            .replace(r#""a":1"#, r#""a":0"#);
        assert_eq!(
            enricher.enrich(&older, deadline()).await,
            Ok(EnrichOutcome::Stale)
        );
        assert_eq!(enricher.publisher().sent().len(), 1);
        assert_eq!(
            enricher.identities().all()[0].data.as_deref(),
            Some(r#"{"a":1}"#)
        );
    }

    #[tokio::test]
    async fn what_the_provider_s_api_answers_is_what_is_recorded_and_announced() {
        use crate::provider_api::MemoryApi;
        let api = std::sync::Arc::new(MemoryApi::default());
        let enricher = enricher_with(Sources::default().with("argyle", api.clone()));
        let id = "0187c66e-f13b-31e4-6b2c-6a0dd4f67e43";
        let message = |id: &str| {
            let body = crate::providers::find("argyle").unwrap().update_about(id);
            crate::registration_check::queued::<crate::providers::Argyle>(body).1
        };
        api.put(
            id,
            Ok(Fetched::Found {
                data: serde_json::json!({"id": id, "first_name": "Ann"}),
                updated_at: Some("2026-12-02T10:00:00Z".into()),
            }),
        );
        assert_eq!(
            enricher.enrich(&message(id).body, deadline()).await,
            Ok(EnrichOutcome::Enriched)
        );
        assert_eq!(api.asked(), [id]);
        let stored = enricher.identities().all();
        assert_eq!(stored[0].key, IdentityKey::new("argyle", id));
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(stored[0].data.as_deref().unwrap()).unwrap()
                ["first_name"],
            "Ann"
        );
        // The provider no longer has it: a tombstone, announced as a deletion.
        api.put(id, Ok(Fetched::Gone));
        assert_eq!(
            enricher.enrich(&message(id).body, deadline()).await,
            Ok(EnrichOutcome::Tombstone)
        );
        assert_eq!(
            detail_types(&enricher),
            ["argyle.identity.created", "argyle.identity.deleted"]
        );
        // A failure the API reports is the message's, retryable or not as the API says.
        api.put(
            id,
            Err(FetchError::Retryable("503 after 4 attempts".into())),
        );
        assert!(matches!(
            enricher.enrich(&message(id).body, deadline()).await,
            Err(EnrichError::Fetch {
                error: FetchError::Retryable(_),
                ..
            })
        ));
    }

    // ---- Deletes confirmed with the provider.

    const BAACK_URN: &str = "urn:baack:clientidentifier:7c2d";
    const BAACK_PATH: &str = "/n/v1/clientidentifier/urn:baack:clientidentifier:7c2d";
    const CLEARID_PATH: &str = "/api/v2/accounts/acc-1/identities/id-7";

    /// Baack's and ClearID's APIs at a stand-in answering each identity read `identity`, and
    /// ClearID's token request with a token.
    fn with_apis(identity: stand_in::Answer) -> (TestEnricher, stand_in::StandIn) {
        use stand_in::Answer;
        let api = stand_in::StandIn::start(move |method, _| match method {
            "POST" => Answer::Json(200, r#"{"access_token":"t","expires_in":3600}"#.into()),
            _ => identity.clone(),
        });
        use crate::providers::{baack::BaackApi, clearid::ClearIdApi};
        let client = crate::provider_api::http::ApiClient::new(Duration::from_secs(2), 1);
        let sources = Sources::default()
            .with(
                "baack",
                BaackApi {
                    client: client.independent(),
                    base_url: api.base.clone(),
                    token: crate::secrets::Secret::new("baack-token"),
                },
            )
            .with(
                "clearid",
                ClearIdApi::new(
                    client.independent(),
                    format!("{}/connect/token", api.base),
                    api.base.clone(),
                    "/api/v2/accounts/{account_id}/identities/{identity_id}".into(),
                    "clearid-client".into(),
                    crate::secrets::Secret::new("clearid-secret"),
                ),
            );
        (enricher_with(sources), api)
    }

    /// Each provider's delete event, with the identity it names and the read that confirms it.
    fn deletes() -> [(String, IdentityKey, &'static str); 2] {
        let message = |provider: &str, event_type: &str, resource: &str, payload: &str| {
            format!(
                r#"{{"version":1,"event_id":"{provider}#del-1","provider":"{provider}","event_type":"{event_type}","recognized":true,"received_at":"2026-12-02T10:00:00Z","resource":{resource},"payload":{payload}}}"#
            )
        };
        [
            (
                message(
                    "baack",
                    "IDENTITY_CLIENT_IDENTIFIER.DELETE",
                    &format!(r#"{{"id":"{BAACK_URN}","url":"{BAACK_PATH}"}}"#),
                    "{}",
                ),
                IdentityKey::new("baack", BAACK_URN),
                BAACK_PATH,
            ),
            (
                message(
                    "clearid",
                    "identity.deleted",
                    r#"{"id":"id-7"}"#,
                    r#"{"AccountId":"acc-1","IdentityId":"id-7","Ordinal":1}"#,
                ),
                IdentityKey::new("clearid", "id-7"),
                CLEARID_PATH,
            ),
        ]
    }

    #[tokio::test]
    async fn a_delete_the_provider_confirms_is_a_tombstone_and_announced() {
        for (body, key, read) in deletes() {
            let (enricher, api) = with_apis(stand_in::Answer::Json(404, "{}".into()));
            assert_eq!(
                enricher.enrich(&body, deadline()).await,
                Ok(EnrichOutcome::Tombstone),
                "{key:?}"
            );
            assert!(
                api.requests().contains(&format!("GET {read}")),
                "{key:?}: asked the provider: {:?}",
                api.requests()
            );
            let stored = enricher.identities().all();
            assert_eq!(stored.len(), 1);
            assert_eq!(stored[0].key, key);
            assert!(stored[0].is_tombstone());
            let sent = enricher.publisher().sent();
            assert_eq!(sent.len(), 1);
            assert_eq!(
                sent[0].detail_type,
                format!("{}.identity.deleted", key.provider)
            );
        }
    }

    #[tokio::test]
    async fn a_delete_the_provider_refutes_keeps_the_identity_present_and_says_so() {
        use crate::logging::{subscriber, Capture};
        let capture = Capture::default();
        let _guard =
            tracing::subscriber::set_default(subscriber(tracing::Level::INFO, capture.clone()));
        for (body, key, read) in deletes() {
            let data = r#"{"Id":"id-7","FirstName":"Ann","email":"ann.example@example.com"}"#;
            let (enricher, api) = with_apis(stand_in::Answer::Json(200, data.into()));
            assert_eq!(
                enricher.enrich(&body, deadline()).await,
                Ok(EnrichOutcome::Enriched),
                "{key:?}"
            );
            assert!(api.requests().contains(&format!("GET {read}")), "{key:?}");
            let stored = enricher.identities().all();
            assert_eq!(stored.len(), 1);
            assert_eq!(stored[0].key, key);
            assert!(!stored[0].is_tombstone(), "{key:?}: still present");
            assert_eq!(
                detail_types(&enricher),
                [format!("{}.identity.created", key.provider)]
            );
        }
        let lines = capture.lines();
        let refuted: Vec<_> = lines
            .iter()
            .filter(|l| {
                l["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("delete not confirmed"))
            })
            .collect();
        assert_eq!(refuted.len(), 2, "{lines:?}");
        assert!(refuted.iter().all(|l| l["level"] == "WARN"), "{refuted:?}");
        let text = capture.text();
        assert!(
            !text.contains("ann.example") && !text.contains("FirstName"),
            "nothing of the data: {text}"
        );
    }
}
