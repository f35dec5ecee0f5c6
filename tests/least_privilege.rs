//! Least privilege, enforced: every function's documented paths run with exactly its role's
//! credentials against the IAM-enforcing moto (`start_iam_moto`, started by scripts/test).
//!
//! The stack is created from the rendered template.yaml on that emulator
//! ([`stack_on_iam_moto`], in tests/support/iam.rs); the administrator assumes each function's role through STS and
//! the pipeline, sweeper or enricher runs with those temporary credentials, through a proxy that
//! records every call. Each test then checks that the calls made are exactly the actions the
//! role allows: nothing the role lacks (the path would fail), nothing it has that the code never
//! calls.
//!
//! What this proves is the **actions** only. moto never matches a statement that has a
//! Condition, so the rendered template drops the `dynamodb:LeadingKeys` conditions for moto
//! (`scripts/stack.py changes` lists them); and it matches a statement's Resource against `*`,
//! not against the resource called, so the roles are written back with `Resource: "*"` (see
//! `CREATE_STACK` in tests/support/iam.rs). Resources and conditions are proved statically instead, in
//! tests/template.rs (`role_statements_name_only_the_stacks_own_resources`,
//! `leading_keys_confine_each_writer_to_its_own_records`).

use aws_sdk_dynamodb::config::{Credentials, SharedCredentialsProvider};
use aws_sdk_dynamodb::types::AttributeValue;
use hookline::digest::sha256_hex;
use hookline::envelope::QueueMessage;
use hookline::provider::Sample as _;
use hookline::providers::{Argyle, Baack, ClearId, Midbound};
use hookline::queue::SqsEventQueue;
use hookline::store::{Claim, DynamoDbEventStore, EventStore};
use hookline::sweeper::sweep;
use integration_tests::aws::{s, NoEnvironment};
use integration_tests::changes::ChangeWatcher;
use integration_tests::enricher::enricher_with;
use integration_tests::faults::{Fault, FaultProxy};
use integration_tests::iam::{assert_access_denied, denied, role_credentials, stack_on_iam_moto};
use integration_tests::samples::{now, webhook_id};
use integration_tests::{invoke, stack, Event, Resources, Sample};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The stack as the function running `binary` sees it: the same resources, every client signed
/// with the credentials of its role (assumed by the administrator), every call recorded.
struct AsRole {
    resources: Resources,
    calls: FaultProxy,
    binary: String,
}

async fn as_role(admin: &Resources, binary: &str) -> AsRole {
    let [key_id, secret, token] = role_credentials(admin, binary);
    let (calls, url) = FaultProxy::start(&admin.emulator.endpoint).await;
    let sdk = admin
        .sdk
        .to_builder()
        .endpoint_url(&url)
        .service_config(NoEnvironment)
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            key_id,
            secret,
            Some(token),
            None,
            "assumed-role",
        )))
        .build();
    let resources = Resources {
        stack_name: admin.stack_name.clone(),
        table: admin.table.clone(),
        history_table: admin.history_table.clone(),
        identities_table: admin.identities_table.clone(),
        event_bus: admin.event_bus.clone(),
        queue_url: admin.queue_url.clone(),
        dlq_url: admin.dlq_url.clone(),
        functions: admin.functions.clone(),
        secrets: admin.secrets.clone(),
        emulator: admin.emulator.clone(),
        dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
        sqs: aws_sdk_sqs::Client::new(&sdk),
        sdk,
    };
    AsRole {
        resources,
        calls,
        binary: binary.to_string(),
    }
}

/// `DynamoDB_20120810.PutItem` (the `X-Amz-Target` the proxy records) as an IAM action.
fn action_of(target: &str) -> String {
    let (service, operation) = target
        .split_once('.')
        .unwrap_or_else(|| panic!("a call without a JSON-protocol target: {target}"));
    let prefix = match service {
        s if s.starts_with("DynamoDB_") => "dynamodb",
        "AmazonSQS" => "sqs",
        "secretsmanager" => "secretsmanager",
        "AWSEvents" => "events",
        other => panic!("a call to an unexpected service: {other}"),
    };
    format!("{prefix}:{operation}")
}

/// The actions the role of the function running `binary` allows, from the rendered template.
fn allowed_actions(binary: &str) -> BTreeSet<String> {
    let (logical_id, _) = stack::functions()
        .into_iter()
        .find(|(_, b)| b == binary)
        .expect("the function");
    let role = stack::rehearsal()["Functions"][&logical_id]["role"]
        .as_str()
        .expect("its role")
        .to_string();
    let mut actions = BTreeSet::new();
    for policy in stack::resources()[&role]["Properties"]["Policies"]
        .as_array()
        .expect("inline policies")
    {
        for statement in policy["PolicyDocument"]["Statement"]
            .as_array()
            .expect("statements")
        {
            match &statement["Action"] {
                Value::String(a) => {
                    actions.insert(a.clone());
                }
                Value::Array(list) => {
                    actions.extend(list.iter().filter_map(|a| a.as_str().map(str::to_string)))
                }
                other => panic!("{role}: an Action of another shape: {other}"),
            }
        }
    }
    actions
}

impl AsRole {
    /// Every call made with the role was allowed (or the path would have failed), and every
    /// action the role allows was called: the role is exactly what the code needs.
    fn assert_calls_are_exactly_the_role(&self) {
        let called: BTreeSet<String> = self.calls.calls().iter().map(|t| action_of(t)).collect();
        assert_eq!(
            called,
            allowed_actions(&self.binary),
            "{}: the calls its code made (left) are not the actions its role allows (right)",
            self.binary
        );
    }
}

/// Puts `value` as the current version of the secret the function running `binary` reads
/// (its `*_SECRETS_ARN` variable, as the stack sets it).
async fn put_secret(admin: &Resources, variable: &str, binary: &str, value: &str) {
    admin
        .put_secret(&admin.environment(binary)[variable], value)
        .await;
}

/// A receiver with its role: secrets read from Secrets Manager, a new event, its duplicate, a
/// send that fails (the claim released) and the provider's retry that completes it.
async fn receiver_paths<S: Sample>(binary: &str, other_body: &str) -> (Resources, AsRole) {
    let admin = stack_on_iam_moto().await;
    put_secret(&admin, "WEBHOOK_SECRETS_ARN", binary, &S::SECRETS.join(",")).await;
    let role = as_role(&admin, binary).await;
    let options: Vec<(&str, String)> = S::OPTIONS
        .iter()
        .map(|(k, v)| (*k, v.to_string()))
        .collect();
    let config = role.resources.config_for(binary, &options);
    let pipeline = role.resources.pipeline::<S>(&config).await;
    let signed = |body: &str| {
        Event::new(&S::headers(S::SECRETS[1], body), body)
            .query(S::QUERY)
            .build()
    };

    let body = S::payload();
    invoke(&pipeline, signed(&body))
        .await
        .expect(200, "accepted");
    invoke(&pipeline, signed(&body))
        .await
        .expect(200, "duplicate");

    // SQS fails every attempt the SDK makes: the claim is released, the answer a 503; the
    // provider's retry then completes the handoff.
    role.calls.inject(
        "AmazonSQS.SendMessage",
        Fault::Fail {
            status: 500,
            error_type: "InternalError",
        },
        20,
    );
    invoke(&pipeline, signed(other_body))
        .await
        .expect(503, "unavailable");
    role.calls.clear();
    invoke(&pipeline, signed(other_body))
        .await
        .expect(200, "accepted");

    assert_eq!(admin.messages().await.len(), 2, "both events queued once");
    assert_eq!(
        s(
            &admin.item(&S::event_id(&body)).await.expect("stored"),
            "status"
        ),
        "ENQUEUED"
    );
    (admin, role)
}

#[tokio::test]
async fn baack_runs_with_its_role_alone() {
    let body = Baack::payload();
    let other = body.replace("5b0e4c1e-8f1a", "5b0e4c1e-0000");
    let (admin, role) = receiver_paths::<Baack>("baack", &other).await;
    // Same subscription and trigger urn, another target: a conflict, nothing written.
    let conflicting = body.replace("clientidentifier:7c2d", "clientidentifier:9999");
    let config = role.resources.config_for("baack", &[]);
    let pipeline = role
        .resources
        .pipeline::<hookline::providers::Baack>(&config)
        .await;
    let event = Event::new(
        &Baack::headers(Baack::SECRETS[0], &conflicting),
        &conflicting,
    );
    invoke(&pipeline, event.build())
        .await
        .expect(409, "conflict");
    assert_eq!(admin.messages().await.len(), 0, "nothing more queued");
    role.assert_calls_are_exactly_the_role();
}

#[tokio::test]
async fn clearid_runs_with_its_role_alone() {
    let other = ClearId::payload().replace("\"Ordinal\":1042", "\"Ordinal\":1043");
    let (_, role) = receiver_paths::<ClearId>("clearid", &other).await;
    role.assert_calls_are_exactly_the_role();
}

#[tokio::test]
async fn argyle_runs_with_its_role_alone() {
    let other = Argyle::unknown_event_payload();
    let (_, role) = receiver_paths::<Argyle>("argyle", &other).await;
    role.assert_calls_are_exactly_the_role();
}

#[tokio::test]
async fn midbound_runs_with_its_role_alone() {
    let body = Midbound::payload();
    let id = webhook_id(&body);
    let other = body.replace(&id, &format!("{id}-2"));
    let (_, role) = receiver_paths::<Midbound>("midbound", &other).await;
    role.assert_calls_are_exactly_the_role();
}

/// The record of an attempt that stored an Argyle event (lease until `t + 30`) and died.
fn crashed_claim(t: i64) -> Claim {
    let body = Argyle::payload();
    let event_id = Argyle::event_id(&body);
    Claim {
        message: QueueMessage {
            deduplication_id: sha256_hex(event_id.as_bytes()),
            body: json!({"version": 1, "event_id": event_id, "provider": "argyle",
                         "event_type": "identities.added", "recognized": true,
                         "received_at": "2026-11-23T10:00:00Z",
                         "payload": serde_json::from_str::<Value>(&body).unwrap()})
            .to_string(),
            replay_id: None,
            event_id,
            provider: "argyle".into(),
            event_type: "identities.added".into(),
            group: Argyle::resource()["id"].as_str().unwrap().into(),
        },
        payload_sha256: sha256_hex(body.as_bytes()),
        claim_id: "crashed-attempt".into(),
        now: t,
        lease_expires_at: t + 30,
        expires_at: t + 600,
    }
}

#[tokio::test]
async fn the_sweeper_takes_over_with_its_role_alone() {
    let admin = stack_on_iam_moto().await;
    let t = now();
    DynamoDbEventStore::new(admin.dynamodb.clone(), &admin.table)
        .claim(&crashed_claim(t))
        .await
        .unwrap();
    let role = as_role(&admin, "sweeper").await;
    let store = DynamoDbEventStore::new(role.resources.dynamodb.clone(), &admin.table);
    let queue = SqsEventQueue::new(role.resources.sqs.clone(), &admin.queue_url);
    let report = sweep(&store, &queue, "sweep-1", t + 31, 30).await.unwrap();
    assert_eq!((report.found, report.sent), (1, 1), "{report:?}");
    let event_id = Argyle::event_id(&Argyle::payload());
    assert_eq!(
        s(&admin.item(&event_id).await.unwrap(), "status"),
        "ENQUEUED"
    );
    assert_eq!(admin.messages().await.len(), 1);
    role.assert_calls_are_exactly_the_role();
}

#[tokio::test]
async fn the_enricher_and_its_event_source_run_with_its_role_alone() {
    let admin = stack_on_iam_moto().await;
    let api = MockServer::start().await;
    let argyle_id = Argyle::resource()["id"].as_str().unwrap().to_string();
    Mock::given(method("GET"))
        .and(path(format!("/v2/identities/{argyle_id}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"id": argyle_id, "first_name": "Ann", "updated_at": "2026-11-20T10:00:00Z"}),
        ))
        .mount(&api)
        .await;
    let credentials = json!({"ARGYLE_API_KEY_ID": "argyle-key-id",
                             "ARGYLE_API_KEY_SECRET": "argyle-key-secret",
                             "BAACK_API_TOKEN": "baack-api-token"});
    put_secret(
        &admin,
        "ENRICHER_SECRETS_ARN",
        "enricher",
        &credentials.to_string(),
    )
    .await;

    // An Argyle event stored and queued as its receiver does (content-keyed: the enricher
    // marks its record CONSUMED), and a Baack deletion (a tombstone once Baack's API confirms it
    // with a 404: the stand-in has no such identity).
    let argyle_body = Argyle::payload();
    let vars = Argyle::vars();
    let pipeline = admin
        .pipeline::<hookline::providers::Argyle>(&admin.config_for("argyle", &vars))
        .await;
    invoke(
        &pipeline,
        Event::new(
            &Argyle::headers(Argyle::SECRETS[0], &argyle_body),
            &argyle_body,
        )
        .build(),
    )
    .await
    .expect(200, "accepted");
    let deletion = json!({"version": 1, "event_id": "baack#gone", "provider": "baack",
        "event_type": "IDENTITY_CLIENT_IDENTIFIER.DELETE", "recognized": true,
        "received_at": "2026-11-23T10:00:00Z", "payload": {},
        "resource": {"id": "urn:baack:clientidentifier:gone",
                     "url": "/n/v1/clientidentifier/urn:baack:clientidentifier:gone"}});
    admin
        .sqs
        .send_message()
        .queue_url(&admin.queue_url)
        .message_body(deletion.to_string())
        .send()
        .await
        .unwrap();

    let argyle_event = Argyle::event_id(&argyle_body);
    for event_id in [argyle_event.as_str(), "baack#gone"] {
        assert!(
            admin.history_items(event_id).await.is_empty(),
            "{event_id}: in the history before the enricher ran"
        );
    }

    // The change events, caught by the administrator from the stack's bus.
    let changes = ChangeWatcher::on(&admin).await;
    let role = as_role(&admin, "enricher").await;
    let arn = admin.environment("enricher")["ENRICHER_SECRETS_ARN"].clone();
    let enricher = enricher_with(
        &role.resources,
        &api.uri(),
        &[("ENRICHER_SECRETS_ARN", arn)],
    )
    .await;
    // Lambda's event source mapping, with the function's role: GetQueueAttributes,
    // ReceiveMessage, then DeleteMessage for each message not reported failed (a failed one is
    // left to its visibility timeout, as the event source does).
    let mut taken = Vec::new();
    for _ in 0..5 {
        let event = role.resources.receive_event(30).await;
        if event.records.is_empty() {
            break;
        }
        taken.extend(event.records.iter().filter_map(|r| r.body.clone()));
        let response = enricher
            .handle_batch(&event, Instant::now() + Duration::from_secs(30))
            .await;
        assert!(
            response.batch_item_failures.is_empty(),
            "{:?}",
            response.batch_item_failures
        );
        for record in &event.records {
            role.resources
                .sqs
                .delete_message()
                .queue_url(&admin.queue_url)
                .receipt_handle(record.receipt_handle.clone().unwrap_or_default())
                .send()
                .await
                .expect("delete message");
        }
    }
    assert_eq!(taken.len(), 2);

    // Each identity's state, written (read, put, its change's mark removed) with the role's
    // credentials, read back by the administrator.
    let argyle_identity = Argyle::resource()["id"].as_str().unwrap().to_string();
    let enriched = admin.identity("argyle", &argyle_identity).await;
    assert_eq!(s(&enriched, "state"), "PRESENT");
    assert_eq!(s(&enriched, "event_id"), argyle_event);
    assert!(!enriched.contains_key("pending"), "its change was sent");
    assert_eq!(
        s(&admin.item(&argyle_event).await.unwrap(), "status"),
        "CONSUMED"
    );
    let tombstone = admin
        .identity("baack", "urn:baack:clientidentifier:gone")
        .await;
    assert_eq!(s(&tombstone, "state"), "TOMBSTONE");
    assert!(!tombstone.contains_key("pending"), "its change was sent");
    // And the bus took both changes from the role (PutEvents).
    let mut sent: Vec<String> = changes
        .take()
        .await
        .into_iter()
        .map(|e| e.detail_type)
        .collect();
    sent.sort();
    assert_eq!(sent, ["argyle.identity.created", "baack.identity.deleted"]);
    // Both messages kept in the history, written with the role's credentials (the enricher's
    // only DynamoDB client), read back by the administrator.
    for event_id in [argyle_event.as_str(), "baack#gone"] {
        let kept = admin.history_items(event_id).await;
        assert_eq!(kept.len(), 1, "{event_id}: {kept:?}");
        let body = s(&kept[0], "message_body");
        assert!(taken.iter().any(|t| t == body), "{event_id}: {body}");
    }
    role.assert_calls_are_exactly_the_role();
}

/// A change event on the stack's bus, as the enricher sends one, with `resources`' credentials.
async fn put_change_event(
    resources: &Resources,
) -> Result<
    aws_sdk_eventbridge::operation::put_events::PutEventsOutput,
    aws_sdk_eventbridge::error::SdkError<
        aws_sdk_eventbridge::operation::put_events::PutEventsError,
    >,
> {
    aws_sdk_eventbridge::Client::new(&resources.sdk)
        .put_events()
        .entries(
            aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                .event_bus_name(&resources.event_bus)
                .source("hookline")
                .detail_type("baack.identity.deleted")
                .detail(r#"{"version":1}"#)
                .build(),
        )
        .send()
        .await
}

/// Enforcement is on: what a role does not allow is refused, by action.
#[tokio::test]
async fn calls_outside_a_role_are_denied() {
    let admin = stack_on_iam_moto().await;
    let key = || AttributeValue::S("baack#x".into());

    let baack = as_role(&admin, "baack").await;
    let dynamodb = &baack.resources.dynamodb;
    let get = dynamodb
        .get_item()
        .table_name(&admin.table)
        .key("pk", key())
        .send()
        .await;
    assert_access_denied(&denied(get), "baack GetItem");
    let scan = dynamodb.scan().table_name(&admin.table).send().await;
    assert_access_denied(&denied(scan), "baack Scan");
    let delete = dynamodb
        .delete_item()
        .table_name(&admin.table)
        .key("pk", key())
        .send()
        .await;
    assert_access_denied(&denied(delete), "baack DeleteItem");
    let receive = baack
        .resources
        .sqs
        .receive_message()
        .queue_url(&admin.queue_url)
        .send()
        .await;
    assert_access_denied(&denied(receive), "baack ReceiveMessage");
    // No webhook function reads an identity or sends a change event. (It has PutItem, for its
    // own dedup records, which moto matches against any table: that no receiver's statement
    // names the identities table is proved from the template, tests/template.rs.)
    let identity = dynamodb
        .get_item()
        .table_name(&admin.identities_table)
        .key("resource_key", AttributeValue::S("baack#urn:x".into()))
        .send()
        .await;
    assert_access_denied(&denied(identity), "baack GetItem on the identities");
    let put_events = put_change_event(&baack.resources).await;
    assert_access_denied(&denied(put_events), "baack PutEvents");

    let sweeper = as_role(&admin, "sweeper").await;
    let put = sweeper
        .resources
        .dynamodb
        .put_item()
        .table_name(&admin.table)
        .item("pk", key())
        .send()
        .await;
    assert_access_denied(&denied(put), "sweeper PutItem");
    let secret = aws_sdk_secretsmanager::Client::new(&sweeper.resources.sdk)
        .get_secret_value()
        .secret_id(&admin.environment("baack")["WEBHOOK_SECRETS_ARN"])
        .send()
        .await;
    assert_access_denied(&denied(secret), "sweeper GetSecretValue");
    let put_events = put_change_event(&sweeper.resources).await;
    assert_access_denied(&denied(put_events), "sweeper PutEvents");

    let enricher = as_role(&admin, "enricher").await;
    let send = enricher
        .resources
        .sqs
        .send_message()
        .queue_url(&admin.queue_url)
        .message_body("{}")
        .send()
        .await;
    assert_access_denied(&denied(send), "enricher SendMessage");
    // It reads and writes one identity at a time and never deletes one: `hookline forget`
    // does, with the operator's policy.
    let identities = &enricher.resources.dynamodb;
    let delete = identities
        .delete_item()
        .table_name(&admin.identities_table)
        .key("resource_key", AttributeValue::S("baack#urn:x".into()))
        .send()
        .await;
    assert_access_denied(&denied(delete), "enricher DeleteItem on the identities");
    let scan = identities
        .scan()
        .table_name(&admin.identities_table)
        .send()
        .await;
    assert_access_denied(&denied(scan), "enricher Scan of the identities");

    // The enricher writes the history and never reads it: an operator's CLI does. (GetItem and
    // PutItem are actions the role has, for the identities, which moto matches against any
    // table: that they name the identities table alone, never the history, is proved from the
    // template, tests/template.rs; so GetItem on the history is not tried here.)
    let history_key = || {
        HashMap::from([
            ("event_id".to_string(), AttributeValue::S("baack#x".into())),
            ("received_at".to_string(), AttributeValue::N("1".into())),
        ])
    };
    let history = &enricher.resources.dynamodb;
    let query = history
        .query()
        .table_name(&admin.history_table)
        .key_condition_expression("event_id = :id")
        .expression_attribute_values(":id", key())
        .send()
        .await;
    assert_access_denied(&denied(query), "enricher Query on the history");
    let by_provider = history
        .query()
        .table_name(&admin.history_table)
        .index_name(hookline::history::BY_PROVIDER_INDEX)
        .key_condition_expression("provider = :p")
        .expression_attribute_values(":p", AttributeValue::S("baack".into()))
        .send()
        .await;
    assert_access_denied(&denied(by_provider), "enricher Query on a history index");
    let batch = history
        .batch_get_item()
        .request_items(
            &admin.history_table,
            aws_sdk_dynamodb::types::KeysAndAttributes::builder()
                .keys(history_key())
                .build()
                .unwrap(),
        )
        .send()
        .await;
    assert_access_denied(&denied(batch), "enricher BatchGetItem on the history");
    let scan = history.scan().table_name(&admin.history_table).send().await;
    assert_access_denied(&denied(scan), "enricher Scan of the history");
    let delete = history
        .delete_item()
        .table_name(&admin.history_table)
        .set_key(Some(history_key()))
        .send()
        .await;
    assert_access_denied(&denied(delete), "enricher DeleteItem on the history");
}
