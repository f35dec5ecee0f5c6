//! The history table: partition key `event_id`, sort key `received_at` (one item per occurrence),
//! with two indexes so that no listing reads the whole table:
//! - `by-provider`: `provider` + `received_at`, for a provider's events in a time range;
//! - `by-resource`: `resource_key` (`<provider>#<resource id>`, only on events naming a
//!   resource) + `received_at`, for one identity's events.
//!
//! Both project only what a listing prints; bodies are read by key (`BatchGetItem`).

use super::{
    EventSummary, HistoryEntry, HistoryError, HistoryStore, OccurrenceKey, Page, Selection,
};
use crate::attribute::{failed, n, number, s, text, Item};
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use aws_sdk_dynamodb::Client;
use std::collections::HashMap;

pub const BY_PROVIDER_INDEX: &str = "by-provider";
pub const BY_RESOURCE_INDEX: &str = "by-resource";
/// `BatchGetItem`'s most keys per call.
const BATCH_GET_KEYS: usize = 100;

pub struct DynamoDbHistory {
    client: Client,
    table: String,
}

impl DynamoDbHistory {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

fn error(
    action: &str,
    err: impl std::error::Error + aws_sdk_dynamodb::error::ProvideErrorMetadata,
) -> HistoryError {
    HistoryError::new(crate::aws_error::kind(&err), failed(action, err))
}

fn resource_key(provider: &str, resource_id: &str) -> String {
    crate::identity::IdentityKey::new(provider, resource_id).text()
}

fn key_item(key: &OccurrenceKey) -> Item {
    HashMap::from([
        ("event_id".to_string(), s(&key.event_id)),
        ("received_at".to_string(), n(key.received_at)),
    ])
}

fn summary_of(item: &Item) -> Option<EventSummary> {
    Some(EventSummary {
        event_id: text(item, "event_id")?,
        provider: text(item, "provider")?,
        event_type: text(item, "event_type")?,
        resource_id: text(item, "resource_id"),
        received_at: number(item, "received_at")?,
    })
}

fn entry_of(item: &Item) -> Option<HistoryEntry> {
    let mut replays = item
        .get("replays")
        .and_then(|v| v.as_ss().ok())
        .cloned()
        .unwrap_or_default();
    replays.sort();
    Some(HistoryEntry {
        summary: summary_of(item)?,
        body: text(item, "message_body")?,
        recorded_at: number(item, "recorded_at").unwrap_or_default(),
        expires_at: number(item, "expires_at").unwrap_or_default(),
        replays,
    })
}

impl HistoryStore for DynamoDbHistory {
    async fn keep(&self, entry: &HistoryEntry) -> Result<(), HistoryError> {
        let summary = &entry.summary;
        // An update, not a put: keeping an occurrence again (a redelivery) leaves its replays.
        let mut names = vec![
            ("provider", s(&summary.provider)),
            ("event_type", s(&summary.event_type)),
            ("message_body", s(&entry.body)),
            ("recorded_at", n(entry.recorded_at)),
            ("expires_at", n(entry.expires_at)),
        ];
        if let Some(resource_id) = &summary.resource_id {
            names.push(("resource_id", s(resource_id)));
            names.push((
                "resource_key",
                s(&resource_key(&summary.provider, resource_id)),
            ));
        }
        let expression = names
            .iter()
            .map(|(name, _)| format!("{name} = :{name}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_item(&summary.key())))
            .update_expression(format!("SET {expression}"));
        for (name, value) in names {
            update = update.expression_attribute_values(format!(":{name}"), value);
        }
        update
            .send()
            .await
            .map_err(|e| error("UpdateItem (keep)", e))?;
        Ok(())
    }

    async fn occurrences(&self, event_id: &str) -> Result<Vec<HistoryEntry>, HistoryError> {
        let mut entries = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("event_id = :id")
                .expression_attribute_values(":id", s(event_id))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| error("Query (event)", e))?;
            entries.extend(output.items().iter().filter_map(entry_of));
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(entries),
            }
        }
    }

    async fn list(
        &self,
        selection: &Selection,
        after: Option<&OccurrenceKey>,
        limit: usize,
    ) -> Result<Page, HistoryError> {
        let (index, partition_name, partition) = match &selection.resource_id {
            Some(resource_id) => (
                BY_RESOURCE_INDEX,
                "resource_key",
                resource_key(&selection.provider, resource_id),
            ),
            None => (BY_PROVIDER_INDEX, "provider", selection.provider.clone()),
        };
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression(format!(
                "{partition_name} = :partition AND received_at BETWEEN :since AND :until"
            ))
            .expression_attribute_values(":partition", s(&partition))
            .expression_attribute_values(":since", n(selection.since))
            .expression_attribute_values(":until", n(selection.until))
            .limit(i32::try_from(limit.max(1)).unwrap_or(i32::MAX));
        if let Some(event_type) = &selection.event_type {
            // Read and then dropped: a type filter costs the range's reads (docs/history-and-data-protection.md).
            query = query
                .filter_expression("event_type = :type")
                .expression_attribute_values(":type", s(event_type));
        }
        if let Some(after) = after {
            // An index's start key is the index key plus the table key.
            let mut start = key_item(after);
            start.insert(partition_name.to_string(), s(&partition));
            query = query.set_exclusive_start_key(Some(start));
        }
        let output = query.send().await.map_err(|e| error("Query (range)", e))?;
        let events = output.items().iter().filter_map(summary_of).collect();
        let next = output
            .last_evaluated_key
            .as_ref()
            .filter(|key| !key.is_empty())
            .and_then(|key| {
                Some(OccurrenceKey {
                    event_id: text(key, "event_id")?,
                    received_at: number(key, "received_at")?,
                })
            });
        Ok(Page { events, next })
    }

    async fn entries(&self, keys: &[OccurrenceKey]) -> Result<Vec<HistoryEntry>, HistoryError> {
        let mut found: HashMap<OccurrenceKey, HistoryEntry> = HashMap::new();
        // DynamoDB refuses a batch that names a key twice: each is asked for once.
        let mut distinct: Vec<&OccurrenceKey> = Vec::with_capacity(keys.len());
        let mut seen = std::collections::HashSet::new();
        distinct.extend(keys.iter().filter(|k| seen.insert(*k)));
        for chunk in distinct.chunks(BATCH_GET_KEYS) {
            let mut pending: Vec<Item> = chunk.iter().map(|k| key_item(k)).collect();
            // Unprocessed keys (throttling) are asked for again until none is left.
            let mut rounds = 0;
            while !pending.is_empty() {
                rounds += 1;
                if rounds > 10 {
                    return Err(HistoryError::new(
                        crate::port_error::ErrorKind::Throttled,
                        "BatchGetItem kept returning unprocessed keys (throttled)",
                    ));
                }
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut pending)))
                    .build()
                    .map_err(|e| HistoryError::other(e.to_string()))?;
                let output = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(|e| error("BatchGetItem", e))?;
                let items = output
                    .responses
                    .and_then(|mut r| r.remove(&self.table))
                    .unwrap_or_default();
                for entry in items.iter().filter_map(entry_of) {
                    found.insert(entry.summary.key(), entry);
                }
                if let Some(left) = output
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                {
                    pending = left.keys;
                    tokio::time::sleep(std::time::Duration::from_millis(50 << rounds.min(5))).await;
                }
            }
        }
        Ok(keys.iter().filter_map(|k| found.get(k).cloned()).collect())
    }

    async fn delete(&self, key: &OccurrenceKey) -> Result<bool, HistoryError> {
        let output = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_item(key)))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| error("DeleteItem", e))?;
        Ok(output.attributes().is_some_and(|a| !a.is_empty()))
    }

    async fn mark_replayed(
        &self,
        key: &OccurrenceKey,
        replay_id: &str,
    ) -> Result<(), HistoryError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_item(key)))
            .update_expression("ADD replays :replay")
            // Only an item still kept: a mark must not create a bodiless one. The key attribute,
            // because the operator's policy lets the CLI name only the key and `replays`.
            .condition_expression("attribute_exists(event_id)")
            .expression_attribute_values(":replay", AttributeValue::Ss(vec![replay_id.into()]))
            .send()
            .await
            .map(|_| ())
            .or_else(|e| {
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception())
                {
                    Ok(())
                } else {
                    Err(error("UpdateItem (replayed)", e))
                }
            })
    }
}
