//! The identities table: partition key `resource_key` (`<provider>#<resource id>`), one item
//! per identity, no index (every read names the identity, but for a provider's listing, a scan:
//! `ops::identity_export`).

use super::{Change, Deletion, Identity, IdentityError, IdentityKey, IdentityStore};
use crate::attribute::{failed, n, number, s, text, Item};
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use aws_sdk_dynamodb::Client;

pub struct DynamoDbIdentities {
    client: Client,
    table: String,
}

impl DynamoDbIdentities {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

/// A failed call of `action`, its kind read from the service's error code.
pub(crate) fn error(
    action: &str,
    err: impl std::error::Error + aws_sdk_dynamodb::error::ProvideErrorMetadata,
) -> IdentityError {
    IdentityError::new(crate::aws_error::kind(&err), failed(action, err))
}

fn item_of(identity: &Identity) -> Item {
    let mut item = Item::from([
        ("resource_key".to_string(), s(&identity.key.text())),
        ("provider".to_string(), s(&identity.key.provider)),
        ("resource_id".to_string(), s(&identity.key.resource_id)),
        (
            "state".to_string(),
            s(if identity.is_tombstone() {
                "TOMBSTONE"
            } else {
                "PRESENT"
            }),
        ),
        ("read_started_ms".to_string(), n(identity.read_started_ms)),
        ("fetched_at".to_string(), n(identity.fetched_at)),
        ("event_id".to_string(), s(&identity.event_id)),
        ("event_type".to_string(), s(&identity.event_type)),
        ("revision".to_string(), n(identity.revision as i64)),
        ("changed_at".to_string(), n(identity.changed_at)),
        ("version".to_string(), n(identity.version as i64)),
        ("expires_at".to_string(), n(identity.expires_at)),
    ]);
    if let Some(data) = &identity.data {
        item.insert("data".into(), s(data));
    }
    if let Some(updated) = &identity.source_updated_at {
        item.insert("source_updated_at".into(), s(updated));
    }
    if let Some(change) = &identity.pending {
        let json = serde_json::to_string(change).expect("a change serializes");
        item.insert("pending".into(), s(&json));
    }
    item
}

/// The identity an item holds; `None` if the item is not one of ours.
pub(crate) fn identity_of(item: &Item) -> Option<Identity> {
    let count = |name: &str| number(item, name).and_then(|v| u64::try_from(v).ok());
    let pending = text(item, "pending").and_then(|json| serde_json::from_str::<Change>(&json).ok());
    Some(Identity {
        key: IdentityKey::new(text(item, "provider")?, text(item, "resource_id")?),
        data: text(item, "data"),
        source_updated_at: text(item, "source_updated_at"),
        read_started_ms: number(item, "read_started_ms")?,
        fetched_at: number(item, "fetched_at")?,
        event_id: text(item, "event_id")?,
        event_type: text(item, "event_type").unwrap_or_default(),
        revision: count("revision")?,
        changed_at: number(item, "changed_at")?,
        version: count("version")?,
        expires_at: number(item, "expires_at")?,
        pending,
    })
}

impl IdentityStore for DynamoDbIdentities {
    async fn get(&self, key: &IdentityKey) -> Result<Option<Identity>, IdentityError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("resource_key", s(&key.text()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| error("GetItem", e))?;
        match output.item() {
            None => Ok(None),
            Some(item) => identity_of(item).map(Some).ok_or_else(|| {
                // Read as absent, the next write's condition would fail on every receive.
                IdentityError::other(format!(
                    "the item stored under {} is not an identity record hookline can read",
                    key.text()
                ))
            }),
        }
    }

    async fn put(&self, identity: &Identity) -> Result<bool, IdentityError> {
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item_of(identity)));
        let put = match identity.version {
            0 | 1 => put.condition_expression("attribute_not_exists(resource_key)"),
            version => put
                .condition_expression("version = :previous")
                .expression_attribute_values(":previous", n(version as i64 - 1)),
        };
        match put.send().await {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(error("PutItem", e)),
        }
    }

    async fn sent(&self, key: &IdentityKey, version: u64) -> Result<(), IdentityError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("resource_key", s(&key.text()))
            .update_expression("REMOVE pending")
            .condition_expression("version = :version")
            .expression_attribute_values(":version", n(version as i64))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // A later write carries the change on and sends it itself.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(error("UpdateItem", e)),
        }
    }

    async fn delete(
        &self,
        key: &IdentityKey,
        read: Option<u64>,
    ) -> Result<Deletion, IdentityError> {
        let request = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("resource_key", s(&key.text()))
            .return_values(ReturnValue::AllOld)
            // A failed condition hands back what is stored, if anything: no second read.
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let request = match read {
            Some(version) => request
                .condition_expression("version = :version")
                .expression_attribute_values(":version", n(version as i64)),
            // Read as absent: deletes nothing, and fails if an enricher has created it since.
            None => request.condition_expression("attribute_not_exists(resource_key)"),
        };
        match request.send().await {
            Ok(output) => Ok(output
                .attributes()
                .and_then(identity_of)
                .map_or(Deletion::Absent, |identity| {
                    Deletion::Deleted(Box::new(identity))
                })),
            // Another version, or none at all (expired, or forgotten by a second run).
            Err(e) => match e.as_service_error() {
                Some(DeleteItemError::ConditionalCheckFailedException(failed)) => {
                    Ok(match failed.item() {
                        Some(item) if !item.is_empty() => Deletion::Changed,
                        _ => Deletion::Absent,
                    })
                }
                _ => Err(error("DeleteItem", e)),
            },
        }
    }
}
