//! What every function binary runs: configuration, clients, then the Lambda runtime loop.

use crate::config::{AuthConfig, Config, ConfigError, SecretSource};
use crate::lambda_event::InvocationEvent;
use crate::pipeline::{Pipeline, Settings};
use crate::provider::Provider;
use crate::queue::SqsEventQueue;
use crate::secrets::{Refresh, Refreshing, Secrets};
use crate::secrets_manager::{parse_secret_string, SecretsManagerReader, REFRESH_TIMEOUT};
use crate::store::DynamoDbEventStore;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use lambda_http::lambda_runtime::{self, service_fn, LambdaEvent};
pub use lambda_http::Error;
use serde_json::Value;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Starts the function for provider `P`. Refuses to start (an error naming the problem, before
/// any request is served) when the configuration is incomplete, has no secret or a weak one, or
/// would fail deliveries or let replays through (see `live_pipeline`).
pub async fn run<P: Provider>() -> Result<(), Error> {
    let started = Instant::now();
    crate::logging::init();
    let (function, before_sdk) = from_env::<P>(started)
        .await
        .inspect_err(|e| tracing::error!(error = %e, "invalid configuration, not starting"))?;
    // How long start-up took, and how much of it came before the AWS SDK (scripts/cold-start).
    tracing::info!(
        provider = P::NAME,
        version = crate::build::VERSION,
        commit = crate::build::COMMIT,
        init_us = started.elapsed().as_micros() as u64,
        init_before_sdk_us = before_sdk.as_micros() as u64,
        "ready"
    );

    let function = &function;
    // The runtime reads the invocation's bytes straight into the fields a delivery needs, in one
    // pass (`InvocationEvent`), rather than into a JSON value that we would then read again.
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<InvocationEvent>| async move {
            Ok::<_, Infallible>(
                function
                    .handle_event(event.payload, &event.context.request_id)
                    .await,
            )
        },
    ))
    .await
}

/// Reads the configuration and builds the pipeline on AWS clients configured by the SDK's
/// standard environment variables (region, credentials, `AWS_ENDPOINT_URL`); also says how long
/// after `started` the SDK began loading.
async fn from_env<P: Provider>(
    started: Instant,
) -> Result<(LiveFunction<P>, Duration), ConfigError> {
    let config = Config::from_env()?;
    let before_sdk = started.elapsed();
    let aws = sdk_config().await;
    let function = LiveFunction::<P>::start(&config, &aws, crate::clock::unix_now()).await?;
    Ok((function, before_sdk))
}

/// Builds a function's pipeline from its secret's text.
type Build<P> = Box<dyn Fn(&str) -> Result<LivePipeline<P>, ConfigError> + Send + Sync>;

/// A webhook function as it runs: its pipeline, rebuilt when the secret in `WEBHOOK_SECRETS_ARN`
/// changed, read again at the first delivery after `SECRETS_CACHE_SECONDS` (inline secrets
/// never change). A failed re-read keeps the pipeline that was serving (`secrets::Refreshing`).
pub struct LiveFunction<P: Provider> {
    pipelines: Refreshing<LivePipeline<P>, SecretsManagerReader, Build<P>>,
}

impl<P: Provider> LiveFunction<P> {
    /// Reads the secrets and assembles the pipeline (every start-up check of
    /// [`live_pipeline`], on every value read later too); `now` is Unix seconds.
    pub async fn start(
        config: &Config,
        aws: &aws_config::SdkConfig,
        now: i64,
    ) -> Result<Self, ConfigError> {
        let build: Build<P> = {
            let (config, aws) = (config.clone(), aws.clone());
            Box::new(move |text| live_pipeline::<P>(&config, parse_secret_string(text)?, &aws))
        };
        let pipelines = match &config.secrets {
            SecretSource::Inline(secrets) => {
                Refreshing::fixed(live_pipeline::<P>(config, secrets.clone(), aws)?, build)
            }
            SecretSource::SecretsManager { arn } => {
                let text = crate::secrets_manager::secret_string(arn, aws).await?;
                let reader = SecretsManagerReader::new(arn, aws).with_timeout(REFRESH_TIMEOUT);
                Refreshing::new(reader, build, config.secrets_cache_seconds, text, now)?
            }
        };
        Ok(Self { pipelines })
    }

    /// The pipeline to serve a delivery at `now`, after a re-read of the secrets if due.
    pub async fn pipeline(&self, now: i64) -> (Arc<LivePipeline<P>>, Refresh) {
        self.pipelines.get_with(now).await
    }

    /// One invocation (see [`Pipeline::handle_event`]).
    pub async fn handle_event(&self, event: impl Into<InvocationEvent>, request_id: &str) -> Value {
        self.handle_event_at(event, request_id, crate::clock::unix_now())
            .await
    }

    /// As [`Self::handle_event`] with an explicit clock, for the secrets' lifetime and replay
    /// windows in tests.
    pub async fn handle_event_at(
        &self,
        event: impl Into<InvocationEvent>,
        request_id: &str,
        now: i64,
    ) -> Value {
        let (pipeline, _) = self.pipeline(now).await;
        pipeline.handle_event_at(event, request_id, now).await
    }
}

/// Per attempt and per operation (all retries): one delivery makes at most three calls in
/// sequence (put, send, update), so the worst case stays inside the 10 s function timeout.
const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(1000);
const OPERATION_TIMEOUT: Duration = Duration::from_millis(3000);
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
const MAX_ATTEMPTS: u32 = 3;

/// AWS SDK configuration from the standard environment variables (region, credentials,
/// `AWS_ENDPOINT_URL`), with explicit timeouts and retries sized to a webhook's time budget
/// rather than the SDK's open-ended defaults.
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::from_env()
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .load()
        .await
}

/// The pipeline as deployed: DynamoDB store and SQS queue.
pub type LivePipeline<P> = Pipeline<P, DynamoDbEventStore, SqsEventQueue>;

/// Assembles the pipeline a function serves from its configuration, its resolved secrets and
/// AWS clients. Every start-up comes through here, whatever the secrets' source, so the checks
/// that need the provider's own reading of the secrets run here, on the keys its verifier
/// derived: secret strength (`WEBHOOK_ALLOW_SHORT_SECRETS`) and a dedup retention that outlives
/// the replay window. Provider unit tests build providers directly and skip them.
pub fn live_pipeline<P: Provider>(
    config: &Config,
    secrets: Secrets,
    aws: &aws_config::SdkConfig,
) -> Result<LivePipeline<P>, ConfigError> {
    let auth = AuthConfig::new(secrets, config.auth.clone())?;
    let provider = P::from_config(&auth)?;
    let verifier = provider.verifier();
    let short_allowed = config.check_secret_strengths(&verifier.secret_strengths())?;
    if short_allowed > 0 {
        tracing::warn!(
            provider = P::NAME,
            short_secrets = short_allowed,
            "WEBHOOK_ALLOW_SHORT_SECRETS: accepting secrets shorter than {} bytes",
            crate::config::MIN_SECRET_BYTES
        );
    }
    let settings = Settings {
        max_body_bytes: config.max_body_bytes,
        retention_seconds: config.retention_for(
            P::DEFAULT_RETENTION_SECONDS,
            verifier.replay_tolerance_seconds(),
        )?,
        lease_seconds: config.lease_seconds,
    };
    Ok(Pipeline::new(
        provider,
        DynamoDbEventStore::new(aws_sdk_dynamodb::Client::new(aws), &config.table),
        SqsEventQueue::new(aws_sdk_sqs::Client::new(aws), &config.queue_url),
        settings,
    ))
}
