//! What every function binary runs: configuration, clients, then the Lambda runtime loop.

use crate::config::Config;
use crate::pipeline::{Pipeline, Settings};
use crate::provider::Provider;
use crate::queue::SqsEventQueue;
use crate::store::DynamoDbEventStore;
use lambda_http::lambda_runtime::{self, service_fn, LambdaEvent};
pub use lambda_http::Error;
use serde_json::Value;
use std::convert::Infallible;

/// Starts the function for provider `P`. Refuses to start (an error naming the problem, before
/// any request is served) when the configuration is incomplete or has no secret.
pub async fn run<P: Provider>() -> Result<(), Error> {
    crate::logging::init();
    let config =
        Config::from_env().inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let provider = P::from_config(&config)
        .inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let settings = Settings {
        max_body_bytes: config.max_body_bytes,
        retention_seconds: config
            .retention_seconds
            .unwrap_or(P::DEFAULT_RETENTION_SECONDS),
        lease_seconds: config.lease_seconds,
    };
    // Endpoints, region and credentials come from the SDK's standard environment variables.
    let aws = aws_config::load_from_env().await;
    let store = DynamoDbEventStore::new(aws_sdk_dynamodb::Client::new(&aws), &config.table);
    let queue = SqsEventQueue::new(aws_sdk_sqs::Client::new(&aws), &config.queue_url);
    let pipeline = Pipeline::new(provider, store, queue, settings);
    tracing::info!(provider = P::NAME, secrets = config.secrets.len(), "ready");

    let pipeline = &pipeline;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        Ok::<_, Infallible>(
            pipeline
                .handle_event(event.payload, &event.context.request_id)
                .await,
        )
    }))
    .await
}
