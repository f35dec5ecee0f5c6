//! What the sweeper binary runs: configuration, clients, then one sweep per scheduled
//! invocation.

use crate::config::ConfigError;
use crate::queue::SqsEventQueue;
use crate::runtime::{sdk_config, Error};
use crate::store::DynamoDbEventStore;
use lambda_http::lambda_runtime::{self, service_fn, LambdaEvent};
use serde_json::Value;

/// The sweeper function: on each scheduled invocation, completes stranded handoffs.
/// Needs `EVENTS_TABLE`, `EVENTS_QUEUE_URL` and optionally `DEDUP_LEASE_SECONDS`.
pub async fn run() -> Result<(), Error> {
    crate::logging::init();
    let get = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let (table, queue_url) = (get("EVENTS_TABLE"), get("EVENTS_QUEUE_URL"));
    let missing: Vec<&'static str> = [("EVENTS_TABLE", &table), ("EVENTS_QUEUE_URL", &queue_url)]
        .into_iter()
        .filter_map(|(name, value)| value.is_none().then_some(name))
        .collect();
    let (Some(table), Some(queue_url)) = (table, queue_url) else {
        let error = ConfigError::Missing(missing);
        tracing::error!(error = %error, "invalid configuration, not starting");
        return Err(error.into());
    };
    let lease_seconds = get("DEDUP_LEASE_SECONDS")
        .and_then(|v| v.parse().ok())
        .unwrap_or(crate::config::DEFAULT_LEASE_SECONDS);
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
        crate::metrics::emit(&crate::metrics::sweep(&report, now));
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
