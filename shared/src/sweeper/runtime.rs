//! What the sweeper binary runs: configuration, clients, then one sweep per scheduled
//! invocation.

use crate::config::ConfigError;
use crate::queue::SqsEventQueue;
use crate::runtime::{sdk_config, Error};
use crate::store::DynamoDbEventStore;
use lambda_http::lambda_runtime::{self, service_fn, LambdaEvent};
use serde_json::Value;

/// The sweeper's configuration: `EVENTS_TABLE` and `EVENTS_QUEUE_URL` (required), and
/// `DEDUP_LEASE_SECONDS` (optional; the receivers' default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweeperConfig {
    pub table: String,
    pub queue_url: String,
    pub lease_seconds: u64,
}

impl SweeperConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads every variable through `lookup`; blank values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let (table, queue_url) = (get("EVENTS_TABLE"), get("EVENTS_QUEUE_URL"));
        let lease = get("DEDUP_LEASE_SECONDS");
        let missing: Vec<&'static str> =
            [("EVENTS_TABLE", &table), ("EVENTS_QUEUE_URL", &queue_url)]
                .into_iter()
                .filter_map(|(name, value)| value.is_none().then_some(name))
                .collect();
        let (Some(table), Some(queue_url)) = (table, queue_url) else {
            return Err(ConfigError::Missing(missing));
        };
        let lease_seconds = lease
            .and_then(|v| v.parse().ok())
            .unwrap_or(crate::config::DEFAULT_LEASE_SECONDS);
        Ok(Self {
            table,
            queue_url,
            lease_seconds,
        })
    }
}

/// The sweeper function: on each scheduled invocation, completes stranded handoffs.
pub async fn run() -> Result<(), Error> {
    crate::logging::init();
    let SweeperConfig {
        table,
        queue_url,
        lease_seconds,
    } = SweeperConfig::from_env().inspect_err(|error| {
        tracing::error!(error = %error, "invalid configuration, not starting");
    })?;
    tracing::info!(
        version = crate::build::VERSION,
        commit = crate::build::COMMIT,
        "sweeper ready"
    );
    let aws = sdk_config().await;
    let store = DynamoDbEventStore::new(aws_sdk_dynamodb::Client::new(&aws), table);
    let queue = SqsEventQueue::new(aws_sdk_sqs::Client::new(&aws), queue_url);
    let (store, queue) = (&store, &queue);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let now = crate::clock::unix_now();
        let sweep_id = format!("sweeper-{}", event.context.request_id);
        let report = super::sweep(store, queue, &sweep_id, now, lease_seconds)
            .await
            .map_err(Error::from)?;
        crate::metrics::emit(&crate::metrics::sweep(
            report.found,
            report.sent,
            report.failed,
            now,
        ));
        tracing::info!(
            found = report.found,
            sent = report.sent,
            skipped = report.skipped,
            failed = report.failed,
            "sweep done"
        );
        Ok::<_, Error>(report)
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_table_queue_and_lease() {
        let config = SweeperConfig::from_lookup(|name| match name {
            "EVENTS_TABLE" => Some("t".into()),
            "EVENTS_QUEUE_URL" => Some("q".into()),
            "DEDUP_LEASE_SECONDS" => Some("45".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!((config.table.as_str(), config.lease_seconds), ("t", 45));
        let missing = SweeperConfig::from_lookup(|_| Some(" ".into())).unwrap_err();
        assert!(
            matches!(missing, ConfigError::Missing(ref names) if names == &["EVENTS_TABLE", "EVENTS_QUEUE_URL"])
        );
    }
}
