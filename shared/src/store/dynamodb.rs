//! The DynamoDB adapter: one item per event, partition key `pk` = event id, no sort key.

use super::pending::{pending_key, swept_keys, take_fairly, Page};
use super::{
    decide, Claim, ClaimOutcome, DedupRecord, EventStore, RecordStatus, StoreError, Stranded,
};
use crate::attribute::{failed, n, number, s, text, Item};
use crate::envelope::QueueMessage;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use aws_sdk_dynamodb::Client;
use std::collections::HashMap;

/// [`decide`] as a condition: the put succeeds when the key is absent, expired (TTL deletion is
/// lazy, so expiry is checked here), or RECEIVED for the same payload with a lapsed lease or
/// held by this very attempt (an SDK retry of a put that landed but whose answer was lost).
/// A CONSUMED record (a content-keyed event the enricher has taken) is claimed as a new
/// occurrence of the same payload.
const CLAIM_CONDITION: &str = "attribute_not_exists(pk) OR expires_at <= :now \
     OR (#status = :consumed AND payload_sha256 = :sha) \
     OR (#status = :received AND payload_sha256 = :sha \
         AND (lease_expires_at <= :now OR claim_id = :claim))";

/// What a record keeps only while RECEIVED: the lease, the sparse index key and the message.
const HANDOFF_ATTRIBUTES: &str =
    "lease_expires_at, claim_id, pending, message_body, message_group, message_deduplication_id";

/// The sparse index of unfinished handoffs: only RECEIVED records carry its key (`pending`,
/// `RECEIVED#<shard>` from the event id, see `pending.rs`), so the sweeper queries exactly those,
/// each key ordered by lease, and never scans the table.
pub const PENDING_INDEX: &str = "pending-by-lease";

pub struct DynamoDbEventStore {
    client: Client,
    table: String,
}

impl DynamoDbEventStore {
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
) -> StoreError {
    StoreError::new(crate::aws_error::kind(&err), failed(action, err))
}

/// A conditional update's answer: `true` when it was applied, `false` when its condition did not
/// hold (the record moved on: an expected outcome, not a failure).
fn conditional<T>(
    result: Result<T, SdkError<UpdateItemError, HttpResponse>>,
    action: &str,
) -> Result<bool, StoreError> {
    match result {
        Ok(_) => Ok(true),
        Err(e)
            if e.as_service_error()
                .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
        {
            Ok(false)
        }
        Err(e) => Err(error(action, e)),
    }
}

/// Reads the attributes [`decide`] needs from an item; `None` if the item is not ours.
fn record_from_item(item: &HashMap<String, AttributeValue>) -> Option<DedupRecord> {
    Some(DedupRecord {
        status: RecordStatus::parse(item.get("status")?.as_s().ok()?)?,
        payload_sha256: item.get("payload_sha256")?.as_s().ok()?.clone(),
        lease_expires_at: number(item, "lease_expires_at").unwrap_or(0),
        expires_at: number(item, "expires_at")?,
        claim_id: item.get("claim_id").and_then(|v| v.as_s().ok()).cloned(),
    })
}

impl EventStore for DynamoDbEventStore {
    async fn claim(&self, claim: &Claim) -> Result<ClaimOutcome, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(claim.event_id()))
            .item("status", s(RecordStatus::Received.as_str()))
            .item("provider", s(&claim.message.provider))
            .item("event_type", s(&claim.message.event_type))
            .item("pending", s(&pending_key(claim.event_id())))
            .item("message_body", s(&claim.message.body))
            .item("message_group", s(&claim.message.group))
            .item(
                "message_deduplication_id",
                s(&claim.message.deduplication_id),
            )
            .item("payload_sha256", s(&claim.payload_sha256))
            .item("claim_id", s(&claim.claim_id))
            .item("received_at", n(claim.now))
            .item("updated_at", n(claim.now))
            .item("lease_expires_at", n(claim.lease_expires_at))
            .item("expires_at", n(claim.expires_at))
            .condition_expression(CLAIM_CONDITION)
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":now", n(claim.now))
            .expression_attribute_values(":received", s(RecordStatus::Received.as_str()))
            .expression_attribute_values(":consumed", s(RecordStatus::Consumed.as_str()))
            .expression_attribute_values(":sha", s(&claim.payload_sha256))
            .expression_attribute_values(":claim", s(&claim.claim_id))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let err = match result {
            Ok(_) => return Ok(ClaimOutcome::Claimed),
            Err(err) => err,
        };
        let Some(PutItemError::ConditionalCheckFailedException(failed)) = err.as_service_error()
        else {
            return Err(error("PutItem", err));
        };
        // The condition failed, so a live record exists: DynamoDB hands it back (ALL_OLD).
        let existing = failed.item().and_then(record_from_item).ok_or_else(|| {
            StoreError::other(format!(
                "item {} exists but is not a dedup record",
                claim.event_id()
            ))
        })?;
        Ok(match decide(Some(&existing), claim) {
            // Only reachable if the item changed between the condition and our reading of
            // it; the caller's retry will see the settled state.
            ClaimOutcome::Claimed => ClaimOutcome::InProgress {
                retry_after_seconds: 1,
            },
            other => other,
        })
    }

    async fn mark_enqueued(
        &self,
        event_id: &str,
        claim_id: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(event_id))
            .update_expression(format!(
                "SET #status = :enqueued, enqueued_at = :now, updated_at = :now \
                 REMOVE {HANDOFF_ATTRIBUTES}"
            ))
            .condition_expression("#status = :received AND claim_id = :claim")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":enqueued", s(RecordStatus::Enqueued.as_str()))
            .expression_attribute_values(":received", s(RecordStatus::Received.as_str()))
            .expression_attribute_values(":claim", s(claim_id))
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        // A failed condition: marked already, consumed by the enricher before this mark (not
        // to be turned back), or claimed since by another attempt for a new occurrence (whose
        // handoff is not ours to end).
        conditional(result, "UpdateItem (enqueued)").map(|_| ())
    }

    async fn release(&self, event_id: &str, claim_id: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(event_id))
            .update_expression("SET lease_expires_at = :zero")
            .condition_expression("claim_id = :claim AND #status = :received")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":claim", s(claim_id))
            .expression_attribute_values(":received", s(RecordStatus::Received.as_str()))
            .send()
            .await;
        // A failed condition: another attempt owns the record now, its lease is not ours.
        conditional(result, "UpdateItem (release)").map(|_| ())
    }

    /// Reads every key of the index (each shard and the legacy `"RECEIVED"`), `limit` records
    /// in all shared fairly between them ([`take_fairly`]), then hands them on oldest lease
    /// first. One `Query` per key at least: 65 a run, next to nothing against a sweep's sends.
    async fn stranded(&self, now: i64, limit: usize) -> Result<Vec<Stranded>, StoreError> {
        let keys = swept_keys();
        // Which key gets the odd record when the budget is below the key count: varies by run.
        let first = usize::try_from(now.rem_euclid(keys.len() as i64)).unwrap_or(0);
        let mut found = take_fairly(&keys, limit, first, |key, n, start| {
            self.stranded_page(key, now, n, start)
        })
        .await?;
        found.sort_by_key(|(lease, _)| *lease);
        Ok(found.into_iter().map(|(_, stranded)| stranded).collect())
    }

    async fn take_over(
        &self,
        event_id: &str,
        claim_id: &str,
        now: i64,
        lease_expires_at: i64,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(event_id))
            .update_expression(
                "SET lease_expires_at = :lease, claim_id = :claim, updated_at = :now",
            )
            .condition_expression("#status = :received AND lease_expires_at <= :now")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":lease", n(lease_expires_at))
            .expression_attribute_values(":claim", s(claim_id))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":received", s(RecordStatus::Received.as_str()))
            .send()
            .await;
        conditional(result, "UpdateItem (take over)")
    }
}

impl DynamoDbEventStore {
    /// One page of one index key: its records whose lease lapsed by `now`, oldest first, each
    /// with its lease.
    async fn stranded_page(
        &self,
        key: String,
        now: i64,
        limit: usize,
        start: Option<Item>,
    ) -> Result<Page<(i64, Stranded), Item>, StoreError> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(PENDING_INDEX)
            .key_condition_expression("pending = :pending AND lease_expires_at <= :now")
            .expression_attribute_values(":pending", s(&key))
            .expression_attribute_values(":now", n(now))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| error("Query (stranded)", e))?;
        let items = output
            .items()
            .iter()
            .filter_map(|item| Some((number(item, "lease_expires_at")?, stranded(item)?)))
            .collect();
        Ok(Page {
            items,
            next: output.last_evaluated_key().cloned(),
        })
    }
}

/// The message a RECEIVED record kept; `None` if the item is not one of ours.
fn stranded(item: &Item) -> Option<Stranded> {
    let event_id = text(item, "pk")?;
    // Records written before the attribute existed: their id was this.
    let deduplication_id = text(item, "message_deduplication_id")
        .unwrap_or_else(|| crate::digest::sha256_hex(event_id.as_bytes()));
    Some(Stranded {
        message: QueueMessage {
            event_id,
            provider: text(item, "provider")?,
            event_type: text(item, "event_type")?,
            group: text(item, "message_group")?,
            deduplication_id,
            body: text(item, "message_body")?,
            replay_id: None,
        },
    })
}

/// What `forget` deleted of an event's dedup record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForgottenRecord {
    pub status: Option<RecordStatus>,
    /// A RECEIVED record keeps the message (with the payload) until its handoff completes.
    pub held_message: bool,
}

/// Deletes an event's dedup record (`hookline forget`); `None` when there was none. Its event
/// then counts as new: a provider's retry of it would be accepted and enriched again.
pub async fn forget(
    client: &Client,
    table: &str,
    event_id: &str,
) -> Result<Option<ForgottenRecord>, StoreError> {
    let output = client
        .delete_item()
        .table_name(table)
        .key("pk", s(event_id))
        .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
        .send()
        .await
        .map_err(|e| error("DeleteItem", e))?;
    Ok(output.attributes().and_then(forgotten_of))
}

/// What [`forget`] would delete, read without deleting (a dry run); `None` when there is none.
pub async fn peek(
    client: &Client,
    table: &str,
    event_id: &str,
) -> Result<Option<ForgottenRecord>, StoreError> {
    let output = client
        .get_item()
        .table_name(table)
        .key("pk", s(event_id))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| error("GetItem", e))?;
    Ok(output.item().and_then(forgotten_of))
}

/// What a deletion reports of a record's item; `None` for an empty one (no record).
fn forgotten_of(item: &HashMap<String, AttributeValue>) -> Option<ForgottenRecord> {
    (!item.is_empty()).then(|| ForgottenRecord {
        status: text(item, "status")
            .as_deref()
            .and_then(RecordStatus::parse),
        held_message: item.contains_key("message_body"),
    })
}

/// Marks a content-keyed event CONSUMED: the enricher calls it before it reads the resource, so
/// that the next identical notification is claimed as a new occurrence (see `store`), whether
/// or not the sender has marked it ENQUEUED yet. Any message of the event may mark any of its
/// occurrences: each mark is followed by a read, which covers every notification that came
/// before the mark. `false` when there is nothing to mark (no record, or consumed already).
pub async fn reopen(
    client: &Client,
    table: &str,
    event_id: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let result = client
        .update_item()
        .table_name(table)
        .key("pk", s(event_id))
        .update_expression(format!(
            "SET #status = :consumed, consumed_at = :now, updated_at = :now \
             REMOVE {HANDOFF_ATTRIBUTES}"
        ))
        .condition_expression("#status = :received OR #status = :enqueued")
        .expression_attribute_names("#status", "status")
        .expression_attribute_values(":consumed", s(RecordStatus::Consumed.as_str()))
        .expression_attribute_values(":received", s(RecordStatus::Received.as_str()))
        .expression_attribute_values(":enqueued", s(RecordStatus::Enqueued.as_str()))
        .expression_attribute_values(":now", n(now))
        .send()
        .await;
    conditional(result, "UpdateItem (consume)")
}
