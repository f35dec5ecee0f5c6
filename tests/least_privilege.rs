//! Least privilege, enforced: every function's documented paths run with exactly its role's
//! credentials against the IAM-enforcing moto (`start_iam_moto`, started by scripts/test).
//!
//! The stack is created from the rendered template.yaml on that emulator (`scripts/stack.py
//! deploy`, see [`stack_on_iam_moto`]); the administrator assumes each function's role through STS and
//! the pipeline, sweeper or enricher runs with those temporary credentials, through a proxy that
//! records every call. Each test then checks that the calls made are exactly the actions the
//! role allows: nothing the role lacks (the path would fail), nothing it has that the code never
//! calls.
//!
//! What this proves is the **actions** only. moto never matches a statement that has a
//! Condition, so the rendered template drops the `dynamodb:LeadingKeys` conditions for moto
//! (`scripts/stack.py changes` lists them); and it matches a statement's Resource against `*`,
//! not against the resource called, so the roles are written back with `Resource: "*"` (see
//! [`CREATE_STACK`]). Resources and conditions are proved statically instead, in
//! tests/template.rs (`role_statements_name_only_the_stacks_own_resources`,
//! `leading_keys_confine_each_writer_to_its_own_records`).

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::config::{Credentials, SharedCredentialsProvider};
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_types::service_config::{LoadServiceConfig, ServiceConfigKey};
use hookline::digest::sha256_hex;
use hookline::envelope::QueueMessage;
use hookline::queue::SqsEventQueue;
use hookline::store::{Claim, DynamoDbEventStore, EventStore};
use hookline::sweeper::sweep;
use integration_tests::aws::s;
use integration_tests::enricher::enricher_with;
use integration_tests::faults::{Fault, FaultProxy};
use integration_tests::samples::{now, ArgyleSample, BaackSample, ClearIdSample, MidboundSample};
use integration_tests::stack::Resolver;
use integration_tests::{invoke, stack, Emulator, Event, Function, Resources, Sample};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The administrator's SDK configuration on the IAM-enforcing emulator: its keys, its endpoint
/// (not `AWS_ENDPOINT_URL`, the plain moto, which every client would otherwise read from the
/// environment through its service configuration and prefer).
async fn admin_sdk(emulator: &Emulator) -> aws_config::SdkConfig {
    emulator
        .sdk_config()
        .await
        .to_builder()
        .service_config(NoEnvironment)
        .build()
}

/// Creates the stack with boto3, assumes each function's role (STS AssumeRole, as the
/// administrator) and prints what the tests need. boto3 because on the enforcing emulator moto's
/// signature check refuses the Rust SDK's CreateStack (SignatureDoesNotMatch); every call the
/// product makes, from Rust, verifies.
const CREATE_STACK: &str = r#"
import ast, json, sys, boto3
path, stack = sys.argv[1:3]
template = json.load(open(path))
rehearsal = template["Metadata"]["HooklineRehearsal"]
# SAM attaches AWSLambdaBasicExecutionRole (CloudWatch Logs, written by Lambda itself, never by
# the code); moto has no AWS managed policies loaded and fails evaluating a role that names one.
for r in template["Resources"].values():
    if r["Type"] == "AWS::IAM::Role":
        r["Properties"].pop("ManagedPolicyArns", None)
sm, cf, ddb = boto3.client("secretsmanager"), boto3.client("cloudformation"), boto3.client("dynamodb")
secrets = {k: sm.create_secret(Name=f"{stack}-{k}", SecretString=s.get("SecretString", "placeholder"))["ARN"]
           for k, s in rehearsal["Secrets"].items()}
parameters = {"QueueType": "standard", "EndpointType": "function-url", **secrets}
cf.create_stack(StackName=stack, TemplateBody=json.dumps(template),
                Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
                Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()])
described = cf.describe_stacks(StackName=stack)["Stacks"][0]
assert described["StackStatus"] == "CREATE_COMPLETE", described
physical = {r["LogicalResourceId"]: r["PhysicalResourceId"]
            for r in cf.list_stack_resources(StackName=stack)["StackResourceSummaries"]
            if r.get("PhysicalResourceId")}
for k, spec in rehearsal["TimeToLive"].items():
    ddb.update_time_to_live(TableName=physical[k], TimeToLiveSpecification={
        "AttributeName": spec["AttributeName"], "Enabled": bool(spec["Enabled"])})
account = boto3.client("sts").get_caller_identity()["Account"]
sts, iam = boto3.client("sts"), boto3.client("iam")
admin = sts.get_caller_identity()["Arn"]
roles = {}
for k, f in rehearsal["Functions"].items():
    # moto's CloudFormation stores a role's inline policies as Python's text of the parsed
    # document, not JSON, and its IAM evaluation then fails (a 500): written back through
    # IAM's API, with the Version SAM leaves out, the same actions.
    name = physical[f["role"]]
    for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
        if isinstance(document, str):  # Python's repr of the parsed policy, not JSON
            document = ast.literal_eval(document)
        document.setdefault("Version", "2012-10-17")
        # moto matches a statement's Resource against "*", never against the resource called:
        # a statement naming the table's ARN never applies. Actions are what moto can prove;
        # the resources are proved from the template (tests/template.rs).
        for statement in document["Statement"]:
            statement["Resource"] = "*"
        iam.put_role_policy(RoleName=name, PolicyName=policy, PolicyDocument=json.dumps(document))
    # The administrator stands in for Lambda (the roles trust lambda.amazonaws.com, which
    # nothing on the emulator can be): only the trust policy changes, never the permissions.
    iam.update_assume_role_policy(RoleName=physical[f["role"]], PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": admin},
                                                "Action": "sts:AssumeRole"}]}))
    c = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{physical[f['role']]}",
                        RoleSessionName=f"least-privilege-{f['binary']}")["Credentials"]
    roles[f["binary"]] = [c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]]
print(json.dumps({"roles": roles, "outputs": {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])},
                  "parameters": parameters, "secrets": secrets, "physical": physical,
                  "account": account}))
"#;

/// Each stack's role credentials, by binary: key id, secret, session token.
type Credentials3 = HashMap<String, [String; 3]>;
static ROLE_CREDENTIALS: std::sync::Mutex<BTreeMap<String, Credentials3>> =
    std::sync::Mutex::new(BTreeMap::new());

/// The temporary credentials of the role of the function running `binary` in `admin`'s stack.
fn admin_roles(admin: &Resources, binary: &str) -> [String; 3] {
    ROLE_CREDENTIALS.lock().unwrap()[&admin.stack_name][binary].clone()
}

/// A stack from the rendered template on the IAM-enforcing emulator, as its administrator sees
/// it: the same shape [`Resources::create_on`] gives, resolved with [`stack::Resolver`].
async fn stack_on_iam_moto() -> Resources {
    static STACKS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let emulator = Emulator::iam_enforcing();
    let (key_id, secret) = emulator.credentials.clone().expect("admin keys");
    let stack_name = format!(
        "least-privilege-{}-{}",
        std::process::id(),
        STACKS.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    );
    let template = std::env::var("HOOKLINE_STACK_TEMPLATE").expect("HOOKLINE_STACK_TEMPLATE");
    // Blocking: nothing else runs on this test's runtime meanwhile.
    let output = std::process::Command::new("python")
        .args(["-c", CREATE_STACK, &template, &stack_name])
        .env("AWS_ENDPOINT_URL", &emulator.endpoint)
        .env("AWS_ACCESS_KEY_ID", key_id)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env_remove("AWS_SESSION_TOKEN")
        .output()
        .expect("run python (scripts/test puts the venv on PATH)");
    assert!(
        output.status.success(),
        "create stack {stack_name}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let created: Value = serde_json::from_slice(&output.stdout).expect("the stack as JSON");
    let map = |v: &Value| -> HashMap<String, String> {
        v.as_object()
            .expect("an object")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().expect("a string").to_string()))
            .collect()
    };
    let outputs = map(&created["outputs"]);
    let resolver = Resolver::new(
        &stack_name,
        &map(&created["parameters"]),
        map(&created["physical"]),
        created["account"].as_str().expect("account"),
        "us-east-1",
    );
    let functions: HashMap<String, Function> = stack::functions()
        .into_iter()
        .filter(|(logical_id, _)| resolver.physical.contains_key(logical_id))
        .map(|(logical_id, binary)| {
            let role = &stack::resources()[&logical_id]["Properties"]["Role"];
            let function = Function {
                name: resolver.physical[&logical_id].clone(),
                role_arn: resolver.string(role).expect("a role"),
                environment: resolver.environment(&logical_id),
                binary: binary.clone(),
                logical_id,
            };
            (binary, function)
        })
        .collect();
    let roles: Credentials3 =
        serde_json::from_value(created["roles"].clone()).expect("role credentials");
    ROLE_CREDENTIALS
        .lock()
        .unwrap()
        .insert(stack_name.clone(), roles);
    let sdk = admin_sdk(&emulator).await;

    // Proof that these calls reach an enforcing emulator: an unknown key is refused there.
    let stranger = Emulator::with_credentials(&emulator.endpoint, "AKIAUNKNOWNKEY000000", "x");
    let refused = aws_sdk_dynamodb::Client::new(&admin_sdk(&stranger).await)
        .list_tables()
        .send()
        .await;
    assert!(
        refused.is_err(),
        "the emulator at {} does not enforce IAM",
        emulator.endpoint
    );

    Resources {
        stack_name,
        table: outputs["EventsTableName"].clone(),
        history_table: outputs["HistoryTableName"].clone(),
        queue_url: outputs["EventsQueueUrl"].clone(),
        dlq_url: outputs["EventsDeadLetterQueueUrl"].clone(),
        functions,
        secrets: map(&created["secrets"]),
        emulator,
        dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
        sqs: aws_sdk_sqs::Client::new(&sdk),
        sdk,
    }
}

/// A service configuration that reads nothing from the environment, so that a client's
/// endpoint is the proxy given to it, not `AWS_ENDPOINT_URL`.
#[derive(Debug)]
struct NoEnvironment;

impl LoadServiceConfig for NoEnvironment {
    fn load_config(&self, _key: ServiceConfigKey<'_>) -> Option<String> {
        None
    }
}

/// The stack as the function running `binary` sees it: the same resources, every client signed
/// with the credentials of its role (assumed by the administrator), every call recorded.
struct AsRole {
    resources: Resources,
    calls: FaultProxy,
    binary: String,
}

async fn as_role(admin: &Resources, binary: &str) -> AsRole {
    let [key_id, secret, token] = admin_roles(admin, binary);
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
    let pipeline = role.resources.pipeline::<S::Provider>(&config).await;
    let signed = |body: &str| {
        Event::new(&S::sign(S::SECRETS[1], body), body)
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
    let body = BaackSample::payload();
    let other = body.replace("5b0e4c1e-8f1a", "5b0e4c1e-0000");
    let (admin, role) = receiver_paths::<BaackSample>("baack", &other).await;
    // Same subscription and trigger urn, another target: a conflict, nothing written.
    let conflicting = body.replace("clientidentifier:7c2d", "clientidentifier:9999");
    let config = role.resources.config_for("baack", &[]);
    let pipeline = role
        .resources
        .pipeline::<hookline::providers::Baack>(&config)
        .await;
    let event = Event::new(
        &BaackSample::sign(BaackSample::SECRETS[0], &conflicting),
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
    let other = ClearIdSample::payload().replace("\"Ordinal\":1042", "\"Ordinal\":1043");
    let (_, role) = receiver_paths::<ClearIdSample>("clearid", &other).await;
    role.assert_calls_are_exactly_the_role();
}

#[tokio::test]
async fn argyle_runs_with_its_role_alone() {
    let other = ArgyleSample::unknown_event_payload();
    let (_, role) = receiver_paths::<ArgyleSample>("argyle", &other).await;
    role.assert_calls_are_exactly_the_role();
}

#[tokio::test]
async fn midbound_runs_with_its_role_alone() {
    let body = MidboundSample::payload();
    let id = MidboundSample::webhook_id(&body);
    let other = body.replace(&id, &format!("{id}-2"));
    let (_, role) = receiver_paths::<MidboundSample>("midbound", &other).await;
    role.assert_calls_are_exactly_the_role();
}

/// The record of an attempt that stored an Argyle event (lease until `t + 30`) and died.
fn crashed_claim(t: i64) -> Claim {
    let body = ArgyleSample::payload();
    let event_id = ArgyleSample::event_id(&body);
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
            group: ArgyleSample::resource()["id"].as_str().unwrap().into(),
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
    let event_id = ArgyleSample::event_id(&ArgyleSample::payload());
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
    let argyle_id = ArgyleSample::resource()["id"].as_str().unwrap().to_string();
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
    // marks its record CONSUMED), and a Baack deletion (a tombstone, no fetch).
    let argyle_body = ArgyleSample::payload();
    let vars = ArgyleSample::vars();
    let pipeline = admin
        .pipeline::<hookline::providers::Argyle>(&admin.config_for("argyle", &vars))
        .await;
    invoke(
        &pipeline,
        Event::new(
            &ArgyleSample::sign(ArgyleSample::SECRETS[0], &argyle_body),
            &argyle_body,
        )
        .build(),
    )
    .await
    .expect(200, "accepted");
    let deletion = json!({"version": 1, "event_id": "baack#gone", "provider": "baack",
        "event_type": "IDENTITY_CLIENT_IDENTIFIER.DELETE", "recognized": true,
        "received_at": "2026-11-23T10:00:00Z", "payload": {},
        "resource": {"id": "urn:x", "url": "/n/v1/clientidentifier/urn:x"}});
    admin
        .sqs
        .send_message()
        .queue_url(&admin.queue_url)
        .message_body(deletion.to_string())
        .send()
        .await
        .unwrap();

    let argyle_event = ArgyleSample::event_id(&argyle_body);
    for event_id in [argyle_event.as_str(), "baack#gone"] {
        assert!(
            admin.history_items(event_id).await.is_empty(),
            "{event_id}: in the history before the enricher ran"
        );
    }

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

    let enriched = admin
        .item(&format!("enriched#{argyle_event}"))
        .await
        .expect("enriched record");
    assert_eq!(s(&enriched, "status"), "ENRICHED");
    assert_eq!(
        s(&admin.item(&argyle_event).await.unwrap(), "status"),
        "CONSUMED"
    );
    let tombstone = admin.item("enriched#baack#gone").await.expect("tombstone");
    assert_eq!(s(&tombstone, "status"), "TOMBSTONE");
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

/// A refused call's answer as text: status and body (moto answers an IAM refusal in the query
/// protocol's XML, whatever the service's protocol, so the SDK cannot parse its code).
fn denied<T, E>(result: Result<T, SdkError<E, HttpResponse>>) -> String {
    let Err(err) = result else {
        panic!("the call was allowed")
    };
    let raw = err.raw_response().expect("an answer from the emulator");
    format!(
        "{} {}",
        raw.status().as_u16(),
        String::from_utf8_lossy(raw.body().bytes().unwrap_or_default())
    )
}

fn assert_access_denied(answer: &str, what: &str) {
    assert!(
        answer.starts_with("403 ") && answer.contains("<Code>AccessDenied</Code>"),
        "{what}: expected AccessDenied, got {answer}"
    );
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

    // The enricher writes the history and never reads it: an operator's CLI does. (PutItem is
    // an action the role has, for the enriched records: that it names the events table alone,
    // never the history, is proved from the template, tests/template.rs.)
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
    let get = history
        .get_item()
        .table_name(&admin.history_table)
        .set_key(Some(history_key()))
        .send()
        .await;
    assert_access_denied(&denied(get), "enricher GetItem on the history");
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
