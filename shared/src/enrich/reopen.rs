//! The one thing the enricher does to the dedup records: mark a content-keyed event's record
//! consumed before its resource is read (`store::reopen`), so the next identical notification
//! counts as new.

use crate::store::StoreError;
use std::future::Future;

pub trait Reopen: Send + Sync {
    /// `Ok(false)` when there was nothing to mark.
    fn reopen(
        &self,
        event_id: &str,
        now: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// The events table's records, by the enricher's leave (`argyle#*`, `clearid#*` only).
pub struct DynamoDbReopen {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoDbReopen {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

impl Reopen for DynamoDbReopen {
    async fn reopen(&self, event_id: &str, now: i64) -> Result<bool, StoreError> {
        crate::store::reopen(&self.client, &self.table, event_id, now).await
    }
}
