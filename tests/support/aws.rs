//! One CloudFormation stack per test, created from the rendered template.yaml on the emulator
//! (`AWS_ENDPOINT_URL`, or another one given explicitly), so tests run in parallel without seeing
//! each other's data, on the table, queues and environment the template defines.

use crate::stack::{self, Resolver};
use aws_sdk_cloudformation::types::{Capability, Parameter, StackStatus};
use aws_sdk_dynamodb::types::{AttributeValue, TimeToLiveSpecification};
use aws_sdk_sqs::types::QueueAttributeName;
use hookline::runtime::{live_pipeline, LivePipeline};
use hookline::{Config, Provider};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};

/// An emulator to create stacks on: its endpoint and, optionally, the credentials to call it with
/// (an IAM-enforcing moto needs real keys; the plain one takes the dummies in the environment).
#[derive(Debug, Clone)]
pub struct Emulator {
    pub endpoint: String,
    /// Access key id and secret; `None`: the standard environment variables.
    pub credentials: Option<(String, String)>,
}

impl Emulator {
    /// The emulator scripts/test starts: `AWS_ENDPOINT_URL`, credentials from the environment.
    pub fn from_env() -> Self {
        let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| {
            panic!("AWS_ENDPOINT_URL is not set: run the tests with scripts/test, which starts the emulator")
        });
        Self {
            endpoint,
            credentials: None,
        }
    }

    /// The IAM-enforcing emulator scripts/test starts (`start_iam_moto` in scripts/lib.sh), with
    /// its administrator's keys: `HOOKLINE_IAM_ENDPOINT_URL`, `HOOKLINE_IAM_ADMIN_KEY_ID`,
    /// `HOOKLINE_IAM_ADMIN_SECRET`.
    pub fn iam_enforcing() -> Self {
        let get = |name: &str| {
            std::env::var(name).unwrap_or_else(|_| {
                panic!("{name} is not set: run the tests with scripts/test, which starts the IAM-enforcing emulator")
            })
        };
        Self::with_credentials(
            &get("HOOKLINE_IAM_ENDPOINT_URL"),
            &get("HOOKLINE_IAM_ADMIN_KEY_ID"),
            &get("HOOKLINE_IAM_ADMIN_SECRET"),
        )
    }

    pub fn with_credentials(endpoint: &str, key_id: &str, secret: &str) -> Self {
        Self {
            endpoint: endpoint.to_string(),
            credentials: Some((key_id.to_string(), secret.to_string())),
        }
    }

    /// The product's SDK configuration (its timeouts and retries), pointed at this emulator.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        let base = hookline::runtime::sdk_config().await;
        // The endpoint set here must win over AWS_ENDPOINT_URL, which the SDK would otherwise
        // read per service from the environment (and which names the other emulator).
        let mut builder = base
            .to_builder()
            .endpoint_url(&self.endpoint)
            .service_config(NoEnvironment);
        if let Some((key_id, secret)) = &self.credentials {
            builder = builder.credentials_provider(
                aws_sdk_dynamodb::config::SharedCredentialsProvider::new(
                    aws_sdk_dynamodb::config::Credentials::new(
                        key_id,
                        secret,
                        None,
                        None,
                        "hookline-tests",
                    ),
                ),
            );
        }
        if base.region().is_none() {
            builder = builder.region(aws_types::region::Region::new("us-east-1"));
        }
        builder.build()
    }
}

/// A service configuration that reads nothing from the environment, so that a client's endpoint
/// is the one given to it (the emulator's, or a proxy's), not `AWS_ENDPOINT_URL`.
#[derive(Debug)]
pub struct NoEnvironment;

impl aws_types::service_config::LoadServiceConfig for NoEnvironment {
    fn load_config(&self, _key: aws_types::service_config::ServiceConfigKey<'_>) -> Option<String> {
        None
    }
}

/// One function of the stack, as created.
#[derive(Debug, Clone)]
pub struct Function {
    /// Its logical id in the template (`BaackFunction`).
    pub logical_id: String,
    /// The binary it runs (`Metadata.BuildProperties.Binary`: `baack`, `sweeper`, ...).
    pub binary: String,
    /// Its function name in the stack.
    pub name: String,
    /// The ARN of its execution role (the template's policies, SAM's managed ones attached).
    pub role_arn: String,
    /// Its environment as the stack resolves it (parameters, conditions, resource names).
    pub environment: HashMap<String, String>,
}

pub struct Resources {
    pub stack_name: String,
    pub table: String,
    /// The event history (`HistoryTable`), which the enricher fills.
    pub history_table: String,
    /// Each identity's current state (`IdentitiesTable`), which the enricher writes.
    pub identities_table: String,
    /// The bus the enricher sends change events to (`ChangeEventBus`, by name).
    pub event_bus: String,
    pub queue_url: String,
    /// The events queue's dead-letter queue (redrive policy from the template).
    pub dlq_url: String,
    /// Every function of the stack, by binary name.
    pub functions: HashMap<String, Function>,
    /// The secret ARN passed for each secret parameter, by logical id (`BaackWebhookSecrets`).
    pub secrets: HashMap<String, String>,
    pub emulator: Emulator,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub sdk: aws_config::SdkConfig,
}

/// A received SQS message: its body as JSON and as sent, and its string attributes.
#[derive(Debug, Clone)]
pub struct Message {
    pub body: serde_json::Value,
    /// The body's text exactly as sent, for byte-for-byte checks.
    pub text: String,
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

fn output<'a>(outputs: &'a HashMap<String, String>, name: &str) -> &'a str {
    outputs
        .get(name)
        .unwrap_or_else(|| panic!("the stack has no output {name}: {outputs:?}"))
}

impl Resources {
    /// A new stack from the rendered template on the emulator in `AWS_ENDPOINT_URL`, with a FIFO
    /// or a standard events queue.
    pub async fn create(fifo: bool) -> Self {
        Self::create_on(&Emulator::from_env(), fifo, &[]).await
    }

    /// The same with template parameters of the test's own (`("EventsTableWarmWriteUnits", "20000")`).
    pub async fn create_with_parameters(fifo: bool, parameters: &[(&str, &str)]) -> Self {
        Self::create_on(&Emulator::from_env(), fifo, parameters).await
    }

    /// A new stack from the rendered template on `emulator`: parameters `QueueType` (fifo or
    /// standard) and `EndpointType=function-url`, a Secrets Manager secret created for each
    /// secret parameter (its ARN passed), the template's TTL applied to each table (moto's
    /// CloudFormation ignores it). The code object the functions point at must exist there
    /// (`scripts/stack.py upload-code`, run by scripts/test on each emulator).
    pub async fn create_on(emulator: &Emulator, fifo: bool, extra: &[(&str, &str)]) -> Self {
        let config = emulator.sdk_config().await;
        let dynamodb = aws_sdk_dynamodb::Client::new(&config);
        let sqs = aws_sdk_sqs::Client::new(&config);
        // Set-up calls wait as long as they need: the product's per-attempt timeout (1 s) is
        // shorter than a stack creation on a busy emulator, and a retried CreateStack would find
        // its own stack already there.
        let setup = config
            .to_builder()
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .connect_timeout(std::time::Duration::from_secs(10))
                    .operation_attempt_timeout(std::time::Duration::from_secs(120))
                    .build(),
            )
            .build();
        let cloudformation = aws_sdk_cloudformation::Client::new(&setup);
        let secrets_manager = aws_sdk_secretsmanager::Client::new(&setup);
        let stack_name = unique_name("hookline");
        let rehearsal = stack::rehearsal();

        let mut parameters: HashMap<String, String> = HashMap::from([
            (
                "QueueType".to_string(),
                if fifo { "fifo" } else { "standard" }.to_string(),
            ),
            ("EndpointType".to_string(), "function-url".to_string()),
        ]);
        parameters.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let mut secrets = HashMap::new();
        for (logical_id, secret) in rehearsal["Secrets"].as_object().expect("Secrets") {
            let value = secret["SecretString"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| format!("placeholder-{}", unique_name(logical_id)));
            let arn = secrets_manager
                .create_secret()
                .name(format!("{stack_name}-{logical_id}"))
                .description(secret["Description"].as_str().unwrap_or_default())
                .secret_string(value)
                .send()
                .await
                .expect("create secret")
                .arn
                .expect("secret arn");
            parameters.insert(logical_id.clone(), arn.clone());
            secrets.insert(logical_id.clone(), arn);
        }

        // moto's CloudFormation can leave a stack CREATE_IN_PROGRESS for good when CreateStack
        // calls overlap (an internal error mid-creation, then the SDK's retry finds the name
        // taken): this process creates one stack at a time, and a stack still not created after
        // 60 s is given up for a fresh one under a new name.
        static CREATING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
        let creating = CREATING.lock().await;
        let template_url = rehearsal["Code"]["TemplateURL"]
            .as_str()
            .expect("Metadata.HooklineRehearsal.Code.TemplateURL");
        let mut stack_name = stack_name;
        let mut attempt = 1;
        let described = loop {
            match create_stack(&cloudformation, &stack_name, template_url, &parameters).await {
                Ok(described) => break described,
                Err(reason) if attempt < 3 => {
                    eprintln!(
                        "stack {stack_name} on {}: {reason}; another",
                        emulator.endpoint
                    );
                    stack_name = unique_name("hookline");
                    attempt += 1;
                }
                Err(reason) => panic!(
                    "stack {stack_name} on {}: {reason} (are the code object and template \
                     uploaded? scripts/stack.py upload-code)",
                    emulator.endpoint
                ),
            }
        };
        drop(creating);
        let outputs: HashMap<String, String> = described
            .outputs
            .unwrap_or_default()
            .into_iter()
            .filter_map(|o| Some((o.output_key?, o.output_value?)))
            .collect();
        let mut physical: HashMap<String, String> = cloudformation
            .list_stack_resources()
            .stack_name(&stack_name)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .expect("list stack resources")
            .into_iter()
            .filter_map(|r| Some((r.logical_resource_id?, r.physical_resource_id?)))
            .filter(|(_, physical)| !physical.is_empty())
            .collect();

        stack::add_unlisted_physical_ids(&mut physical, &outputs);

        let ttl_client = aws_sdk_dynamodb::Client::new(&setup);
        for (logical_id, spec) in rehearsal["TimeToLive"].as_object().expect("TimeToLive") {
            let enabled = match &spec["Enabled"] {
                serde_json::Value::Bool(b) => *b,
                other => other.as_str() == Some("true"),
            };
            ttl_client
                .update_time_to_live()
                .table_name(&physical[logical_id])
                .time_to_live_specification(
                    TimeToLiveSpecification::builder()
                        .attribute_name(spec["AttributeName"].as_str().expect("TTL attribute"))
                        .enabled(enabled)
                        .build()
                        .unwrap(),
                )
                .send()
                .await
                .expect("update time to live");
        }

        let account = aws_sdk_sts::Client::new(&setup)
            .get_caller_identity()
            .send()
            .await
            .expect("get caller identity")
            .account
            .expect("account");
        let region = config
            .region()
            .map(|r| r.to_string())
            .unwrap_or_else(|| "us-east-1".into());
        let resolver = Resolver::new(&stack_name, &parameters, physical, &account, &region);
        let functions = stack::functions()
            .into_iter()
            .filter(|(logical_id, _)| resolver.physical.contains_key(logical_id))
            .map(|(logical_id, binary)| {
                let role = stack::resources()[&logical_id]["Properties"]["Role"].clone();
                let function = Function {
                    name: resolver.physical[&logical_id].clone(),
                    role_arn: resolver.string(&role).expect("a role"),
                    environment: resolver.environment(&logical_id),
                    binary: binary.clone(),
                    logical_id,
                };
                (binary, function)
            })
            .collect();

        Self {
            table: output(&outputs, "EventsTableName").to_string(),
            history_table: output(&outputs, "HistoryTableName").to_string(),
            identities_table: output(&outputs, "IdentitiesTableName").to_string(),
            event_bus: output(&outputs, "ChangeEventBusName").to_string(),
            queue_url: output(&outputs, "EventsQueueUrl").to_string(),
            dlq_url: output(&outputs, "EventsDeadLetterQueueUrl").to_string(),
            stack_name,
            functions,
            secrets,
            emulator: emulator.clone(),
            dynamodb,
            sqs,
            sdk: config,
        }
    }

    /// The function running `binary` (`baack`, `sweeper`, `enricher`, ...).
    pub fn function(&self, binary: &str) -> &Function {
        self.functions
            .get(binary)
            .unwrap_or_else(|| panic!("the stack has no function for binary {binary}"))
    }

    /// The execution role ARN of the function running `binary`.
    pub fn role_arn(&self, binary: &str) -> &str {
        &self.function(binary).role_arn
    }

    /// The environment the stack gives the function running `binary`.
    pub fn environment(&self, binary: &str) -> &HashMap<String, String> {
        &self.function(binary).environment
    }

    /// The variables the four webhook functions all get with the same value (table, queue,
    /// metrics namespace, ...): what any receiver's configuration starts from.
    pub fn receivers_environment(&self) -> HashMap<String, String> {
        let mut receivers = hookline::providers::names().map(|name| self.environment(name));
        let mut shared = receivers.next().cloned().unwrap_or_default();
        for environment in receivers {
            shared.retain(|k, v| environment.get(k) == Some(v));
        }
        shared
    }

    /// A receiver's configuration: the environment the stack gives `binary`, then `vars` (which
    /// win; a test's inline `WEBHOOK_SECRETS` replaces the template's `WEBHOOK_SECRETS_ARN`).
    pub fn config_for(&self, binary: &str, vars: &[(&str, String)]) -> Config {
        let mut env = self.environment(binary).clone();
        if vars.iter().any(|(k, _)| *k == "WEBHOOK_SECRETS") {
            env.remove("WEBHOOK_SECRETS_ARN");
        }
        env.extend(vars.iter().map(|(k, v)| (k.to_string(), v.clone())));
        Config::from_lookup(|name| env.get(name).cloned()).expect("valid test configuration")
    }

    /// A receiver's configuration: what every webhook function of the stack gets (the table,
    /// the queue, the metrics namespace, from the template), plus `vars`.
    pub fn config(&self, vars: &[(&str, String)]) -> Config {
        let mut env = self.receivers_environment();
        env.extend(vars.iter().map(|(k, v)| (k.to_string(), v.clone())));
        Config::from_lookup(|name| env.get(name).cloned()).expect("valid test configuration")
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

    /// Puts `value` as the current version of a secret, as `aws secretsmanager put-secret-value`.
    pub async fn put_secret(&self, arn: &str, value: &str) {
        aws_sdk_secretsmanager::Client::new(&self.sdk)
            .put_secret_value()
            .secret_id(arn)
            .secret_string(value)
            .send()
            .await
            .expect("put secret value");
    }

    /// How many receives the template's redrive policy allows before SQS moves a message to the
    /// dead-letter queue, as the created queue reports it.
    pub async fn max_receive_count(&self) -> u32 {
        let policy = self
            .queue_attribute(&self.queue_url, QueueAttributeName::RedrivePolicy)
            .await
            .expect("the events queue has a redrive policy");
        let policy: serde_json::Value = serde_json::from_str(&policy).expect("redrive policy JSON");
        match &policy["maxReceiveCount"] {
            serde_json::Value::Number(n) => n.as_u64().unwrap() as u32,
            other => other
                .as_str()
                .and_then(|s| s.parse().ok())
                .expect("maxReceiveCount"),
        }
    }

    pub async fn queue_arn_of(&self, queue_url: &str) -> String {
        self.queue_attribute(queue_url, QueueAttributeName::QueueArn)
            .await
            .expect("queue arn")
    }

    /// One attribute of a queue as SQS reports it; `None` when the queue has no such attribute.
    pub async fn queue_attribute(
        &self,
        queue_url: &str,
        name: QueueAttributeName,
    ) -> Option<String> {
        self.sqs
            .get_queue_attributes()
            .queue_url(queue_url)
            .attribute_names(name.clone())
            .send()
            .await
            .expect("queue attributes")
            .attributes
            .and_then(|mut a| a.remove(&name))
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
        messages_in(&self.sqs, queue_url).await
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

    /// Every history item of an event (one per occurrence), oldest first, read from the table
    /// itself with a consistent read: what the enricher kept, not what an adapter reports.
    pub async fn history_items(&self, event_id: &str) -> Vec<HashMap<String, AttributeValue>> {
        self.dynamodb
            .query()
            .table_name(&self.history_table)
            .key_condition_expression("event_id = :id")
            .expression_attribute_values(":id", AttributeValue::S(event_id.to_string()))
            .consistent_read(true)
            .send()
            .await
            .expect("query history")
            .items
            .unwrap_or_default()
    }

    /// The identity record of `<provider>#<resource id>` in the identities table, read
    /// consistently: what the enricher stored, not what an adapter reports.
    pub async fn identity_item(
        &self,
        provider: &str,
        resource_id: &str,
    ) -> Option<HashMap<String, AttributeValue>> {
        self.dynamodb
            .get_item()
            .table_name(&self.identities_table)
            .key(
                "resource_key",
                AttributeValue::S(format!("{provider}#{resource_id}")),
            )
            .consistent_read(true)
            .send()
            .await
            .expect("get identity item")
            .item
    }

    /// As [`Resources::identity_item`], for a record that must be there.
    pub async fn identity(
        &self,
        provider: &str,
        resource_id: &str,
    ) -> HashMap<String, AttributeValue> {
        self.identity_item(provider, resource_id)
            .await
            .unwrap_or_else(|| panic!("no identity record {provider}#{resource_id}"))
    }

    /// Every item of the identities table.
    pub async fn identity_items(&self) -> Vec<HashMap<String, AttributeValue>> {
        self.dynamodb
            .scan()
            .table_name(&self.identities_table)
            .consistent_read(true)
            .send()
            .await
            .expect("scan identities")
            .items
            .unwrap_or_default()
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

/// Every message now in a queue (received once, so each is returned once).
pub async fn messages_in(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> Vec<Message> {
    let mut all = Vec::new();
    loop {
        let received = sqs
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
            let text = m.body().unwrap_or_default().to_string();
            all.push(Message {
                body: serde_json::from_str(&text).expect("JSON body"),
                text,
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
                    .get(&aws_sdk_sqs::types::MessageSystemAttributeName::MessageDeduplicationId)
                    .cloned(),
            });
        }
    }
}

/// Creates one stack from the rendered template and waits until moto has created it: the
/// described stack, or why not.
async fn create_stack(
    cloudformation: &aws_sdk_cloudformation::Client,
    stack_name: &str,
    template_url: &str,
    parameters: &HashMap<String, String>,
) -> Result<aws_sdk_cloudformation::types::Stack, String> {
    let mut create = cloudformation
        .create_stack()
        .stack_name(stack_name)
        // By URL (scripts/stack.py upload-code puts it there): moto with IAM enforcement rejects
        // the signature of a long TemplateBody encoded by this SDK.
        .template_url(template_url)
        .capabilities(Capability::CapabilityIam)
        .capabilities(Capability::CapabilityNamedIam);
    for (k, v) in parameters {
        create = create.parameters(
            Parameter::builder()
                .parameter_key(k)
                .parameter_value(v)
                .build(),
        );
    }
    if let Err(e) = create.send().await {
        // A retried attempt (the first one slow or cut off) finds the stack it created: the name
        // is this test's own.
        let exists = e
            .as_service_error()
            .is_some_and(|e| e.meta().code() == Some("AlreadyExistsException"));
        if !exists {
            return Err(format!("CreateStack: {e:?}"));
        }
    }
    for _ in 0..600 {
        let described = cloudformation
            .describe_stacks()
            .stack_name(stack_name)
            .send()
            .await
            .map_err(|e| format!("DescribeStacks: {e:?}"))?
            .stacks
            .unwrap_or_default()
            .pop()
            .ok_or("no such stack")?;
        match described.stack_status {
            Some(StackStatus::CreateComplete) => return Ok(described),
            Some(StackStatus::CreateInProgress) => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await
            }
            other => {
                return Err(format!(
                    "{other:?}: {:?}",
                    described.stack_status_reason.unwrap_or_default()
                ))
            }
        }
    }
    Err("still CREATE_IN_PROGRESS after 60 s".into())
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

/// Whether an item has an attribute at all.
pub fn has(item: &HashMap<String, AttributeValue>, name: &str) -> bool {
    item.contains_key(name)
}

/// An identity record's `data` (JSON text) as JSON.
pub fn data(item: &HashMap<String, AttributeValue>) -> serde_json::Value {
    serde_json::from_str(s(item, "data")).expect("data is JSON")
}
