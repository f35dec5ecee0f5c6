//! Enrichment: the asynchronous half. Webhooks carry a notification; this reads each queued
//! event, fetches the full data from the provider's API (Midbound pushes it in full), and
//! records it, or a tombstone when the identity is gone.

mod argyle;
mod baack;
pub mod batch;
mod clearid;
pub mod config;
pub mod http;
mod midbound;
pub mod record;
mod runtime;

pub use argyle::ArgyleApi;
pub use baack::BaackApi;
pub use clearid::ClearIdApi;
pub use config::EnricherConfig;
pub use record::{DynamoDbEnrichedStore, EnrichedRecord, EnrichedStore, RecordKind};
pub use runtime::{enricher_from_config, enricher_from_credentials, run, LiveEnricher};

use crate::envelope::ReceivedEnvelope;
use crate::history::{DynamoDbHistory, HistoryEntry, HistoryStore};
use crate::limits::{DYNAMODB_ITEM_BYTES, RECORD_OVERHEAD_BYTES};
use std::time::Instant;

/// The most provider data an enriched record holds: the item less its other attributes.
pub const MAX_DATA_BYTES: usize = DYNAMODB_ITEM_BYTES - RECORD_OVERHEAD_BYTES;

/// What the provider says about the event's resource.
#[derive(Debug, Clone, PartialEq)]
pub enum Fetched {
    Found {
        data: serde_json::Value,
        /// The provider's own update time (RFC 3339), when it gives one: newest data wins.
        updated_at: Option<String>,
    },
    /// Deleted: recorded as a tombstone, which matters for data-retention duties.
    Gone,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// Worth another delivery of the message (throttling, outage, timeout).
    #[error("retryable: {0}")]
    Retryable(String),
    /// Will not get better by retrying (bad credentials, malformed data); still reported as a
    /// failure so the redrive policy moves the message to the dead-letter queue.
    #[error("permanent: {0}")]
    Permanent(String),
}

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnrichOutcome {
    Enriched,
    Tombstone,
    /// Newer provider data was already recorded; nothing written.
    Stale,
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
}

/// The providers' APIs, each present when its credentials are configured.
#[derive(Default)]
pub struct Sources {
    pub baack: Option<BaackApi>,
    pub argyle: Option<ArgyleApi>,
    pub clearid: Option<ClearIdApi>,
}

/// Where the enricher keeps each message it takes (`history`), and for how long.
pub struct Keeping<H> {
    pub history: H,
    pub retention_seconds: u64,
}

pub struct Enricher<S, H = DynamoDbHistory> {
    sources: Sources,
    store: S,
    keeping: Keeping<H>,
}

impl<S: EnrichedStore, H: HistoryStore> Enricher<S, H> {
    pub fn new(sources: Sources, store: S, keeping: Keeping<H>) -> Self {
        Self {
            sources,
            store,
            keeping,
        }
    }

    pub fn store(&self) -> &S {
        &self.store
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
            self.store
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
        let record = EnrichedRecord::new(
            &envelope,
            fetched,
            read_started_ms,
            crate::clock::unix_now(),
        );
        if let Some(size) = record.data_size().filter(|size| *size > MAX_DATA_BYTES) {
            // DynamoDB would refuse the item: fail before the write, saying why, and let the
            // redrive policy move the message to the dead-letter queue after its receives.
            return Err(EnrichError::Fetch {
                provider: envelope.provider.clone(),
                error: FetchError::Permanent(format!(
                    "the provider's data ({size} bytes) does not fit in one DynamoDB item"
                )),
            });
        }
        let kind = record.kind;
        let written = self
            .store
            .put(&record)
            .await
            .map_err(|e| EnrichError::Store(e.to_string()))?;
        Ok(match (written, kind) {
            (false, _) => EnrichOutcome::Stale,
            (true, RecordKind::Enriched) => EnrichOutcome::Enriched,
            (true, RecordKind::Tombstone) => EnrichOutcome::Tombstone,
        })
    }

    async fn fetch(
        &self,
        envelope: &ReceivedEnvelope,
        deadline: Instant,
    ) -> Result<Fetched, FetchFailure> {
        let result = match envelope.provider.as_str() {
            "baack" => match &self.sources.baack {
                Some(api) => api.fetch(envelope, deadline).await,
                None => return Err(FetchFailure::NotConfigured),
            },
            "argyle" => match &self.sources.argyle {
                Some(api) => api.fetch(envelope, deadline).await,
                None => return Err(FetchFailure::NotConfigured),
            },
            "clearid" => match &self.sources.clearid {
                Some(api) => api.fetch(envelope, deadline).await,
                None => return Err(FetchFailure::NotConfigured),
            },
            "midbound" => midbound::normalise(envelope),
            other => Err(FetchError::Permanent(format!("unknown provider {other:?}"))),
        };
        result.map_err(FetchFailure::Failed)
    }
}

enum FetchFailure {
    NotConfigured,
    Failed(FetchError),
}

/// The resource to fetch, or a permanent failure naming what is missing.
fn resource(envelope: &ReceivedEnvelope) -> Result<&crate::provider::Resource, FetchError> {
    envelope
        .resource
        .as_ref()
        .ok_or_else(|| FetchError::Permanent("the event names no resource to fetch".into()))
}
