//! The enriched record: one per event, in the events table under `enriched#<event id>`.

use super::Fetched;
use crate::envelope::ReceivedEnvelope;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::AttributeValue;
use std::future::Future;

pub const KEY_PREFIX: &str = "enriched#";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    Enriched,
    /// The identity is gone (deleted at the provider).
    Tombstone,
}

impl RecordKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Enriched => "ENRICHED",
            RecordKind::Tombstone => "TOMBSTONE",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EnrichedRecord {
    pub event_id: String,
    pub provider: String,
    pub event_type: String,
    pub resource_id: Option<String>,
    pub kind: RecordKind,
    /// The provider's data as JSON text, serialized once: its size is checked against the
    /// item limit and the same text is written.
    pub data: Option<String>,
    pub source_updated_at: Option<String>,
    /// When the read that produced this record began (Unix milliseconds): what orders two
    /// reads of one event that come back out of order when the provider gives no update time.
    pub read_started_ms: i64,
    pub enriched_at: i64,
}

impl EnrichedRecord {
    pub fn new(
        envelope: &ReceivedEnvelope,
        fetched: Fetched,
        read_started_ms: i64,
        now: i64,
    ) -> Self {
        let (kind, data, source_updated_at) = match fetched {
            Fetched::Found { data, updated_at } => {
                (RecordKind::Enriched, Some(data.to_string()), updated_at)
            }
            Fetched::Gone => (RecordKind::Tombstone, None, None),
        };
        Self {
            event_id: envelope.event_id.clone(),
            provider: envelope.provider.clone(),
            event_type: envelope.event_type.clone(),
            resource_id: envelope.resource.as_ref().map(|r| r.id.clone()),
            kind,
            data,
            source_updated_at,
            read_started_ms,
            enriched_at: now,
        }
    }

    /// Bytes of `data` as stored (JSON text).
    pub fn data_size(&self) -> Option<usize> {
        self.data.as_ref().map(String::len)
    }

    pub fn key(&self) -> String {
        format!("{KEY_PREFIX}{}", self.event_id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StoreError(pub String);

pub trait EnrichedStore: Send + Sync {
    /// Writes the record unless one with newer provider data exists; `Ok(false)` when stale.
    /// Writing the same record twice leaves one record (the key is the event).
    fn put(&self, record: &EnrichedRecord)
        -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Ends the collapsing of a content-keyed event's repeats before its resource is read
    /// (`store::reopen`); `Ok(false)` when there was nothing to mark.
    fn reopen(
        &self,
        event_id: &str,
        now: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

pub struct DynamoDbEnrichedStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoDbEnrichedStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

impl EnrichedStore for DynamoDbEnrichedStore {
    async fn reopen(&self, event_id: &str, now: i64) -> Result<bool, StoreError> {
        crate::store::reopen(&self.client, &self.table, event_id, now)
            .await
            .map_err(|e| StoreError(e.to_string()))
    }

    async fn put(&self, record: &EnrichedRecord) -> Result<bool, StoreError> {
        let s = |v: &str| AttributeValue::S(v.to_string());
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(&record.key()))
            .item("status", s(record.kind.as_str()))
            .item("event_id", s(&record.event_id))
            .item("provider", s(&record.provider))
            .item("event_type", s(&record.event_type))
            .item(
                "enriched_at",
                AttributeValue::N(record.enriched_at.to_string()),
            )
            .item(
                "read_started_ms",
                AttributeValue::N(record.read_started_ms.to_string()),
            );
        if let Some(id) = &record.resource_id {
            put = put.item("resource_id", s(id));
        }
        if let Some(data) = &record.data {
            put = put.item("data", s(data));
        }
        if let Some(updated) = &record.source_updated_at {
            // RFC 3339 UTC strings order like the times they name (a time the provider wrote in
            // another form is kept as written, and compares as text).
            put = put
                .item("source_updated_at", s(updated))
                .condition_expression(
                    "attribute_not_exists(pk) OR attribute_not_exists(source_updated_at) \
                     OR source_updated_at <= :updated",
                )
                .expression_attribute_values(":updated", s(updated));
        } else {
            // No update time (Baack, ClearID, tombstones): the later read wins. Two reads of
            // one event can be in flight at once (a content-keyed event's next occurrence, an
            // SQS redelivery), and the slower one must not overwrite newer data.
            put = put
                .condition_expression(
                    "attribute_not_exists(pk) OR attribute_not_exists(read_started_ms) \
                     OR read_started_ms <= :started",
                )
                .expression_attribute_values(
                    ":started",
                    AttributeValue::N(record.read_started_ms.to_string()),
                );
        }
        match put.send().await {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(StoreError(format!(
                "PutItem failed: {}",
                DisplayErrorContext(e)
            ))),
        }
    }
}
