//! One table and one queue per test, on the endpoint in `AWS_ENDPOINT_URL`, so tests run in
//! parallel without seeing each other's data.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, ScalarAttributeType,
};
use aws_sdk_sqs::types::QueueAttributeName;
use hookline::runtime::{live_pipeline, LivePipeline};
use hookline::{Config, Provider};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};

pub struct Resources {
    pub table: String,
    pub queue_url: String,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub sdk: aws_config::SdkConfig,
}

/// A received SQS message: its body as JSON and its string attributes.
#[derive(Debug, Clone)]
pub struct Message {
    pub body: serde_json::Value,
    pub attributes: HashMap<String, String>,
    pub group_id: Option<String>,
    pub deduplication_id: Option<String>,
}

fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}-{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

fn attribute(name: &str, kind: ScalarAttributeType) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(kind)
        .build()
        .unwrap()
}

fn key(name: &str, kind: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .unwrap()
}

async fn sdk_config() -> aws_config::SdkConfig {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok(),
        "AWS_ENDPOINT_URL is not set: run the tests with scripts/test, which starts the emulator"
    );
    hookline::runtime::sdk_config().await
}

impl Resources {
    /// A new table and a new standard (or FIFO) queue.
    pub async fn create(fifo: bool) -> Self {
        let config = sdk_config().await;
        let dynamodb = aws_sdk_dynamodb::Client::new(&config);
        let sqs = aws_sdk_sqs::Client::new(&config);
        let table = unique_name("hookline-events");
        dynamodb
            .create_table()
            .table_name(&table)
            .attribute_definitions(attribute("pk", ScalarAttributeType::S))
            .attribute_definitions(attribute("pending", ScalarAttributeType::S))
            .attribute_definitions(attribute("lease_expires_at", ScalarAttributeType::N))
            .global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(hookline::store::PENDING_INDEX)
                    .key_schema(key("pending", KeyType::Hash))
                    .key_schema(key("lease_expires_at", KeyType::Range))
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::All)
                            .build(),
                    )
                    .build()
                    .unwrap(),
            )
            .key_schema(key("pk", KeyType::Hash))
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await
            .expect("create table");
        let mut queue = sqs.create_queue();
        if fifo {
            queue = queue
                .queue_name(format!("{}.fifo", unique_name("hookline-events")))
                .attributes(QueueAttributeName::FifoQueue, "true");
        } else {
            queue = queue.queue_name(unique_name("hookline-events"));
        }
        let queue_url = queue
            .send()
            .await
            .expect("create queue")
            .queue_url
            .expect("queue url");
        Self {
            table,
            queue_url,
            dynamodb,
            sqs,
            sdk: config,
        }
    }

    /// The function's configuration: this test's table and queue plus `vars`.
    pub fn config(&self, vars: &[(&str, String)]) -> Config {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .chain([
                ("EVENTS_TABLE".to_string(), self.table.clone()),
                ("EVENTS_QUEUE_URL".to_string(), self.queue_url.clone()),
            ])
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned()).expect("valid test configuration")
    }

    /// The pipeline exactly as `hookline::run` assembles it, for this configuration (secrets
    /// inline or in the emulator's Secrets Manager).
    pub async fn pipeline<P: Provider>(&self, config: &Config) -> LivePipeline<P> {
        let secrets = hookline::secrets_manager::resolve(&config.secrets, &self.sdk)
            .await
            .expect("secrets");
        live_pipeline::<P>(config, secrets, &self.sdk).expect("provider configuration")
    }

    /// Stores `value` as a Secrets Manager secret and returns its ARN.
    pub async fn create_secret(&self, value: &str) -> String {
        aws_sdk_secretsmanager::Client::new(&self.sdk)
            .create_secret()
            .name(unique_name("hookline-webhook-secrets"))
            .secret_string(value)
            .send()
            .await
            .expect("create secret")
            .arn
            .expect("secret arn")
    }

    /// Gives the queue a dead-letter queue that takes messages received `max_receives` times.
    pub async fn add_dead_letter_queue(&self, max_receives: u32) -> String {
        let dlq_url = self
            .sqs
            .create_queue()
            .queue_name(unique_name("hookline-dlq"))
            .send()
            .await
            .expect("create dlq")
            .queue_url
            .expect("dlq url");
        let policy = serde_json::json!({
            "deadLetterTargetArn": self.queue_arn_of(&dlq_url).await,
            "maxReceiveCount": max_receives,
        });
        self.sqs
            .set_queue_attributes()
            .queue_url(&self.queue_url)
            .attributes(QueueAttributeName::RedrivePolicy, policy.to_string())
            .send()
            .await
            .expect("set redrive policy");
        dlq_url
    }

    pub async fn queue_arn_of(&self, queue_url: &str) -> String {
        self.sqs
            .get_queue_attributes()
            .queue_url(queue_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("queue attributes")
            .attributes
            .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
            .expect("queue arn")
    }

    /// One receive of up to 10 messages, as Lambda's event source mapping polls: the SQS event a
    /// consumer function would get. Messages stay in flight for `visibility` seconds.
    pub async fn receive_event(&self, visibility: i32) -> aws_lambda_events::event::sqs::SqsEvent {
        let arn = self.queue_arn_of(&self.queue_url).await;
        let received = self
            .sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(10)
            .visibility_timeout(visibility)
            .wait_time_seconds(0)
            .send()
            .await
            .expect("receive messages");
        let mut event = aws_lambda_events::event::sqs::SqsEvent::default();
        event.records = received
            .messages
            .unwrap_or_default()
            .into_iter()
            .map(|m| {
                let mut record = aws_lambda_events::event::sqs::SqsMessage::default();
                record.message_id = m.message_id;
                record.receipt_handle = m.receipt_handle;
                record.body = m.body;
                record.event_source_arn = Some(arn.clone());
                record
            })
            .collect();
        event
    }

    /// What the event source mapping does after a batch: deletes the messages not reported as
    /// failed, and (to keep tests fast) makes the failed ones visible again at once.
    pub async fn settle(
        &self,
        event: &aws_lambda_events::event::sqs::SqsEvent,
        response: &aws_lambda_events::event::sqs::SqsBatchResponse,
    ) {
        for record in &event.records {
            let id = record.message_id.as_deref().unwrap_or_default();
            let handle = record.receipt_handle.clone().unwrap_or_default();
            let failed = response
                .batch_item_failures
                .iter()
                .any(|f| f.item_identifier == id);
            if failed {
                self.sqs
                    .change_message_visibility()
                    .queue_url(&self.queue_url)
                    .receipt_handle(handle)
                    .visibility_timeout(0)
                    .send()
                    .await
                    .expect("release message");
            } else {
                self.sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(handle)
                    .send()
                    .await
                    .expect("delete message");
            }
        }
    }

    /// Every message now in the queue (received once, so each is returned once).
    pub async fn messages(&self) -> Vec<Message> {
        self.messages_of(&self.queue_url).await
    }

    /// Every message now in another queue (a dead-letter queue, say).
    pub async fn messages_of(&self, queue_url: &str) -> Vec<Message> {
        let mut all = Vec::new();
        loop {
            let received = self
                .sqs
                .receive_message()
                .queue_url(queue_url)
                .max_number_of_messages(10)
                .visibility_timeout(300)
                .wait_time_seconds(0)
                .message_attribute_names("All")
                .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
                .send()
                .await
                .expect("receive messages");
            let batch = received.messages.unwrap_or_default();
            if batch.is_empty() {
                return all;
            }
            for m in batch {
                let system = m.attributes.clone().unwrap_or_default();
                all.push(Message {
                    body: serde_json::from_str(m.body().unwrap_or_default()).expect("JSON body"),
                    attributes: m
                        .message_attributes
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|(k, v)| Some((k, v.string_value?)))
                        .collect(),
                    group_id: system
                        .get(&aws_sdk_sqs::types::MessageSystemAttributeName::MessageGroupId)
                        .cloned(),
                    deduplication_id: system
                        .get(
                            &aws_sdk_sqs::types::MessageSystemAttributeName::MessageDeduplicationId,
                        )
                        .cloned(),
                });
            }
        }
    }

    /// The stored item for an event id.
    pub async fn item(&self, event_id: &str) -> Option<HashMap<String, AttributeValue>> {
        self.dynamodb
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(event_id.to_string()))
            .consistent_read(true)
            .send()
            .await
            .expect("get item")
            .item
    }

    pub async fn item_count(&self) -> usize {
        self.dynamodb
            .scan()
            .table_name(&self.table)
            .send()
            .await
            .expect("scan")
            .items
            .unwrap_or_default()
            .len()
    }
}

/// A string attribute of an item.
pub fn s<'a>(item: &'a HashMap<String, AttributeValue>, name: &str) -> &'a str {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .unwrap_or_else(|| panic!("item has no string {name}"))
}

/// A number attribute of an item.
pub fn n(item: &HashMap<String, AttributeValue>, name: &str) -> i64 {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("item has no number {name}"))
}
