//! The operator policy, enforced: the built `hookline` binary runs `events list`, `events get`,
//! `replay`, `redrive`, `dlq`, `identities get`, `forget` and `secrets` against a stack on the IAM-enforcing moto (`start_iam_moto`, started
//! by scripts/test) with nothing but the credentials of an IAM user that has the stack's
//! `OperatorPolicy` (output `OperatorPolicyArn`), the policy docs/operations.md ("The operator's policy") tells an
//! operator to attach. Each verb succeeds; the calls the verbs make are exactly the actions the
//! policy grants; what it does not grant is refused; a user without it is refused cleanly.
//!
//! The policy is the one the stack created (moto's CloudFormation creates the ManagedPolicy,
//! resolved to the stack's ARNs), attached as it is except for moto's workarounds, made in
//! [`OPERATOR`] and nowhere else:
//! - the UpdateItem statement's `dynamodb:Attributes` condition is already gone from the rendered
//!   template (moto never matches a statement with a Condition; tests/template.rs checks it);
//! - the DescribeStacks and DynamoDB statements get `Resource: "*"`: moto matches those against
//!   `*`, never the stack or table called. The SQS statements keep their queue ARNs, which moto
//!   does match: which queue each action is allowed on is proved here;
//! - moto authorises `SendMessageBatch` and `DeleteMessageBatch` as actions of their own, where
//!   IAM authorises them as `sqs:SendMessage` and `sqs:DeleteMessage`: each gets its twin, on the
//!   same queue.

mod support;

use aws_sdk_dynamodb::types::AttributeValue;
use hookline::provider::Sample as _;
use hookline::providers::Baack;
use integration_tests::changes::ChangeWatcher;
use integration_tests::enricher::{enricher_for, take_once};
use integration_tests::faults::FaultProxy;
use integration_tests::iam::{assert_access_denied, denied, run_as_admin, stack_on_iam_moto};
use integration_tests::{invoke, stack, Event, Resources, Sample};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use std::process::Output;
use support::{json_lines, stderr, stdout};

/// Creates IAM user `USER` and, with `attach`, attaches stack `STACK`'s OperatorPolicy to it,
/// first made the default version of the policy as moto can evaluate it (see the module's
/// comment); prints the user's access key and the policy document as the stack created it.
const OPERATOR: &str = r#"
import copy, json, sys, boto3
stack, user, attach = sys.argv[1:4]
cf, iam = boto3.client("cloudformation"), boto3.client("iam")
outputs = {o["OutputKey"]: o["OutputValue"]
           for o in cf.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]}
arn = outputs["OperatorPolicyArn"]
created = iam.get_policy_version(
    PolicyArn=arn, VersionId=iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
)["PolicyVersion"]["Document"]
user_arn = iam.create_user(UserName=user)["User"]["Arn"]
if attach == "attach":
    evaluable = copy.deepcopy(created)
    # IAM authorises these batch calls as the action on the left; moto by their own names.
    twins = {"sqs:SendMessage": "sqs:SendMessageBatch", "sqs:DeleteMessage": "sqs:DeleteMessageBatch",
             "sqs:ChangeMessageVisibility": "sqs:ChangeMessageVisibilityBatch"}
    for statement in evaluable["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        statement["Action"] = actions + [twins[a] for a in actions if a in twins]
        # moto matches only SQS statements against the resource called; the others against "*".
        if not all(a.startswith("sqs:") for a in actions):
            statement["Resource"] = "*"
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(evaluable), SetAsDefault=True)
    iam.attach_user_policy(UserName=user, PolicyArn=arn)
key = iam.create_access_key(UserName=user)["AccessKey"]
print(json.dumps({"key_id": key["AccessKeyId"], "secret": key["SecretAccessKey"],
                  "arn": user_arn, "created": created}))
"#;

/// An IAM user of the stack's account, with its own access key, whose every AWS call the CLI
/// makes goes through a proxy that records it.
struct Operator {
    key_id: String,
    secret: String,
    arn: String,
    /// The stack's OperatorPolicy as the stack created it.
    created_policy: Value,
    calls: FaultProxy,
    endpoint: String,
}

impl Operator {
    /// A new user `name`, with the stack's OperatorPolicy attached if `with_policy`.
    async fn new(admin: &Resources, name: &str, with_policy: bool) -> Self {
        let user = format!("{}-{name}", admin.stack_name);
        let attach = if with_policy { "attach" } else { "none" };
        let created = run_as_admin(
            &admin.emulator,
            OPERATOR,
            &[&admin.stack_name, &user, attach],
        );
        let text = |key: &str| created[key].as_str().expect(key).to_string();
        let (calls, endpoint) = FaultProxy::start(&admin.emulator.endpoint).await;
        Self {
            key_id: text("key_id"),
            secret: text("secret"),
            arn: text("arn"),
            created_policy: created["created"].clone(),
            calls,
            endpoint,
        }
    }

    /// The binary run with `args` as this user alone: its key, the enforcing emulator (through
    /// the proxy), nothing that names a resource but the arguments.
    async fn run(&self, args: &[&str]) -> Output {
        let mut command = support::command();
        command
            .args(args)
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_ACCESS_KEY_ID", &self.key_id)
            .env("AWS_SECRET_ACCESS_KEY", &self.secret)
            .env("AWS_REGION", "us-east-1")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_PROFILE");
        // Off the runtime's thread: the proxy the binary calls runs on it.
        tokio::task::spawn_blocking(move || command.output().expect("run hookline"))
            .await
            .unwrap()
    }

    /// An SDK configuration with this user's key, for calls the CLI never makes.
    async fn sdk(&self, admin: &Resources) -> aws_config::SdkConfig {
        integration_tests::Emulator::with_credentials(
            &admin.emulator.endpoint,
            &self.key_id,
            &self.secret,
        )
        .sdk_config()
        .await
    }
}

/// Asserts the run exited 0 and returns its standard output.
fn succeeded(output: &Output, what: &str) -> String {
    assert_eq!(
        output.status.code(),
        Some(0),
        "{what}: stdout {:?}, stderr {:?}",
        stdout(output),
        stderr(output)
    );
    stdout(output)
}

/// The statements of the template's OperatorPolicy.
/// The policy's statements for a stack at the template's defaults: a statement under `Fn::If`
/// (the change archive's, on by default) is its first branch.
fn template_statements() -> Vec<Value> {
    stack::resources()["OperatorPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        .as_array()
        .expect("OperatorPolicy statements")
        .iter()
        .map(|statement| match statement.get("Fn::If") {
            Some(branches) => branches[1].clone(),
            None => statement.clone(),
        })
        .collect()
}

fn actions_of(statement: &Value) -> BTreeSet<String> {
    match &statement["Action"] {
        Value::String(action) => BTreeSet::from([action.clone()]),
        Value::Array(actions) => actions
            .iter()
            .map(|a| a.as_str().expect("an action").to_string())
            .collect(),
        other => panic!("an Action of another shape: {other}"),
    }
}

/// A recorded call (`AmazonSQS.SendMessageBatch`, `cloudformation.DescribeStacks`) as the IAM
/// action real IAM authorises it by.
fn iam_action(call: &str) -> String {
    let (service, operation) = call
        .split_once('.')
        .unwrap_or_else(|| panic!("a call the proxy could not name: {call}"));
    let prefix = match service {
        s if s.starts_with("DynamoDB_") => "dynamodb",
        "AmazonSQS" => "sqs",
        "cloudformation" => "cloudformation",
        "AWSEvents" => "events",
        "secretsmanager" => "secretsmanager",
        "sts" => "sts",
        other => panic!("a call to an unexpected service: {call} ({other})"),
    };
    let operation = match (prefix, operation) {
        ("sqs", "SendMessageBatch") => "SendMessage",
        ("sqs", "DeleteMessageBatch") => "DeleteMessage",
        ("sqs", "ChangeMessageVisibilityBatch") => "ChangeMessageVisibility",
        _ => operation,
    };
    format!("{prefix}:{operation}")
}

/// Two Baack deletions delivered to the stack's receiver and taken by its enricher, both run by
/// the administrator: the history keeps each (before enriching; Baack's API confirms each
/// deletion with a 404), the events queue is left empty. Returns the bodies taken.
async fn two_kept_deletions(admin: &Resources) -> Vec<String> {
    let deletion = Baack::payload().replace("\"event\":\"CREATE\"", "\"event\":\"DELETE\"");
    let other = deletion.replace("5b0e4c1e-8f1a", "5b0e4c1e-0000");
    let secrets = Baack::SECRETS.join(",");
    let config = admin.config_for("baack", &[("WEBHOOK_SECRETS", secrets)]);
    let pipeline = admin.pipeline::<hookline::providers::Baack>(&config).await;
    for body in [&deletion, &other] {
        let signed = Event::new(&Baack::headers(Baack::SECRETS[0], body), body);
        invoke(&pipeline, signed.build())
            .await
            .expect(200, "accepted");
    }
    // A deletion is confirmed with the provider: Baack's API answers 404, so each is a tombstone.
    let api = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .respond_with(wiremock::ResponseTemplate::new(404))
        .mount(&api)
        .await;
    let enricher = enricher_for(admin, &api.uri()).await;
    let (taken, failed) = take_once(admin, &enricher).await;
    assert_eq!((taken.len(), failed), (2, 0), "{taken:?}");
    assert!(admin.messages().await.is_empty(), "both taken");
    taken
}

fn event_id_of(body: &str) -> String {
    let envelope: Value = serde_json::from_str(body).expect("an envelope");
    envelope["event_id"].as_str().expect("event_id").to_string()
}

/// The replay ids marked on an event's history items, read from the table by the administrator.
async fn replays_of(admin: &Resources, event_id: &str) -> Vec<String> {
    let items = admin.history_items(event_id).await;
    assert_eq!(items.len(), 1, "{event_id}: {items:?}");
    items[0]
        .get("replays")
        .and_then(|v| v.as_ss().ok())
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn the_operator_policy_runs_every_verb_and_grants_nothing_more() {
    let admin = stack_on_iam_moto().await;
    let taken = two_kept_deletions(&admin).await;
    let mut event_ids: Vec<String> = taken.iter().map(|b| event_id_of(b)).collect();
    event_ids.sort();
    let operator = Operator::new(&admin, "operator", true).await;
    let stack = admin.stack_name.as_str();

    // The stack created the template's policy: the same actions, statement by statement.
    let created: Vec<BTreeSet<String>> = operator.created_policy["Statement"]
        .as_array()
        .expect("the created policy's statements")
        .iter()
        .map(actions_of)
        .collect();
    let template: Vec<BTreeSet<String>> = template_statements().iter().map(actions_of).collect();
    assert_eq!(created, template);

    // events list: both kept deletions, oldest first (same second: by id).
    let listed = succeeded(
        &operator
            .run(&[
                "events",
                "list",
                "--stack",
                stack,
                "--provider",
                "baack",
                "--since",
                "1h",
                "--json",
            ])
            .await,
        "events list",
    );
    let mut listed_ids: Vec<String> = json_lines(&listed)
        .iter()
        .map(|e| e["event_id"].as_str().expect("event_id").to_string())
        .collect();
    listed_ids.sort();
    assert_eq!(listed_ids, event_ids, "{listed}");

    // replay: the range, both sent to the events queue and marked in the history.
    let replayed = succeeded(
        &operator
            .run(&[
                "replay",
                "--stack",
                stack,
                "--provider",
                "baack",
                "--since",
                "1h",
                "--replay-id",
                "operator-replay",
                "--yes",
                "--json",
            ])
            .await,
        "replay",
    );
    let report: Value = serde_json::from_str(&replayed).expect("the replay's JSON");
    assert_eq!(report["sent"], 2, "{report}");
    assert_eq!(report["already_sent"], 0, "{report}");
    let queued = admin.messages().await;
    let mut queued_ids: Vec<String> = queued
        .iter()
        .map(|m| {
            assert_eq!(
                m.attributes.get("replay_id").map(String::as_str),
                Some("operator-replay"),
                "{m:?}"
            );
            m.body["event_id"].as_str().expect("event_id").to_string()
        })
        .collect();
    queued_ids.sort();
    assert_eq!(queued_ids, event_ids);
    for event_id in &event_ids {
        assert_eq!(replays_of(&admin, event_id).await, ["operator-replay"]);
    }

    // events get: the occurrence whole, its message as kept, the replay's mark on it.
    let got = succeeded(
        &operator
            .run(&["events", "get", "--stack", stack, &event_ids[0], "--json"])
            .await,
        "events get",
    );
    let occurrences = json_lines(&got);
    assert_eq!(occurrences.len(), 1, "{got}");
    let kept = taken
        .iter()
        .find(|b| event_id_of(b) == event_ids[0])
        .expect("taken");
    assert_eq!(
        occurrences[0]["message"],
        serde_json::from_str::<Value>(kept).unwrap()
    );
    assert_eq!(
        occurrences[0]["replays"],
        serde_json::json!(["operator-replay"])
    );

    // redrive: more than one receive's worth moved from the dead-letter queue.
    let bodies: Vec<String> = (0..12)
        // Keys in order: compared below with the received bodies as serde_json prints them.
        .map(|n| format!(r#"{{"event_id":"baack#dead-{n:02}","version":1}}"#))
        .collect();
    for body in &bodies {
        admin
            .sqs
            .send_message()
            .queue_url(&admin.dlq_url)
            .message_body(body)
            .send()
            .await
            .expect("send to the dead-letter queue");
    }
    // dlq: one message looked at and dropped, the others left for the redrive below.
    let doomed = admin
        .sqs
        .send_message()
        .queue_url(&admin.dlq_url)
        .message_body(r#"{"event_id":"baack#doomed","version":1}"#)
        .send()
        .await
        .expect("send to the dead-letter queue")
        .message_id
        .expect("a message id");
    let listed = succeeded(
        &operator
            .run(&["dlq", "list", "--stack", stack, "--json"])
            .await,
        "dlq list",
    );
    assert_eq!(json_lines(&listed).len(), bodies.len() + 1, "{listed}");
    succeeded(
        &operator
            .run(&["dlq", "show", "--stack", stack, &doomed])
            .await,
        "dlq show",
    );
    succeeded(
        &operator
            .run(&["dlq", "drop", "--stack", stack, &doomed, "--yes"])
            .await,
        "dlq drop",
    );
    let redriven = succeeded(
        &operator.run(&["redrive", "--stack", stack, "--yes"]).await,
        "redrive",
    );
    assert_eq!(
        redriven,
        "moved 12 messages from the dead-letter queue to the events queue\n"
    );
    assert!(admin.messages_of(&admin.dlq_url).await.is_empty());
    let mut moved: Vec<String> = admin
        .messages()
        .await
        .iter()
        .map(|m| m.body.to_string())
        .collect();
    moved.sort();
    assert_eq!(moved, bodies);

    // identities get: the identity both deletions are about, a tombstone.
    let resource = Baack::resource()["id"]
        .as_str()
        .expect("the sample's resource")
        .to_string();
    let identity = succeeded(
        &operator
            .run(&[
                "identities",
                "get",
                "--stack",
                stack,
                "baack",
                &resource,
                "--json",
            ])
            .await,
        "identities get",
    );
    let identity: Value = serde_json::from_str(&identity).expect("the identity's JSON");
    assert_eq!(identity["state"], "tombstone", "{identity}");

    // identities list and export: the same identity, found by the scan.
    for verb in ["list", "export"] {
        let args = [
            "identities",
            verb,
            "--stack",
            stack,
            "--provider",
            "baack",
            "--json",
        ];
        let args = if verb == "list" {
            &args[..]
        } else {
            &args[..6]
        };
        let found = succeeded(&operator.run(args).await, verb);
        let found = json_lines(&found);
        assert_eq!(found.len(), 1, "{verb}: {found:?}");
        assert_eq!(found[0]["resource_id"], resource.as_str(), "{verb}");
    }

    // forget: a dry run reads (GetItem on the identities and events tables, the history's
    // index, both queues' counts), the real one deletes in all three tables and tells the bus.
    let dry = succeeded(
        &operator
            .run(&["forget", "--stack", stack, "baack", &resource, "--dry-run"])
            .await,
        "forget --dry-run",
    );
    assert!(
        dry.ends_with(&format!(
            "would forget baack {resource}: 1 identity record, 2 history items, 2 dedup \
             records (dry run: nothing was erased or sent)\n"
        )),
        "{dry}"
    );
    let forgot = succeeded(
        &operator
            .run(&[
                "forget", "--stack", stack, "baack", &resource, "--yes", "--json",
            ])
            .await,
        "forget --yes",
    );
    let summary = json_lines(&forgot).pop().expect("a summary line");
    assert_eq!(
        (
            &summary["identity_records"],
            &summary["history_items"],
            &summary["dedup_records"],
            &summary["change_event_sent"],
            &summary["failed"],
        ),
        (&json!(1), &json!(2), &json!(2), &json!(true), &json!(0)),
        "{forgot}"
    );
    for event_id in &event_ids {
        assert!(admin.history_items(event_id).await.is_empty(), "{event_id}");
        assert!(admin.item(event_id).await.is_none(), "{event_id}");
    }

    // secrets: the status of every provider's secret, a rotation's two steps on Argyle's.
    let status = succeeded(
        &operator
            .run(&["secrets", "status", "--stack", stack, "--json"])
            .await,
        "secrets status",
    );
    assert_eq!(
        json_lines(&status).len(),
        hookline::providers::ALL.len(),
        "{status}"
    );
    let rotated = succeeded(
        &operator
            .run(&[
                "secrets",
                "rotate",
                "--stack",
                stack,
                "--provider",
                "argyle",
                "--yes",
                "--json",
            ])
            .await,
        "secrets rotate",
    );
    let rotated: Value = serde_json::from_str(&rotated).expect("the rotation's JSON");
    assert_eq!(rotated["secrets_after"], 2, "{rotated}");
    succeeded(
        &operator
            .run(&[
                "secrets",
                "drop-old",
                "--stack",
                stack,
                "--provider",
                "argyle",
                "--yes",
            ])
            .await,
        "secrets drop-old",
    );

    // changes replay: the archive's last hour sent again to one consumer's rule.
    let watcher = ChangeWatcher::on(&admin).await;
    let replayed = succeeded(
        &operator
            .run(&[
                "changes",
                "replay",
                "--stack",
                stack,
                "--since",
                "1h",
                "--rule",
                &watcher.rule,
                "--yes",
                "--json",
            ])
            .await,
        "changes replay",
    );
    let replayed: Value = serde_json::from_str(&replayed).expect("the replay's JSON");
    assert_eq!(replayed["state"], "COMPLETED", "{replayed}");

    // identities refresh: the Baack identity read again (a message on the events queue).
    let refreshed = succeeded(
        &operator
            .run(&[
                "identities",
                "refresh",
                "--stack",
                stack,
                "baack",
                &resource,
                "--yes",
                "--json",
            ])
            .await,
        "identities refresh",
    );
    let refreshed: Value = serde_json::from_str(&refreshed).expect("the refresh's JSON");
    assert_eq!(refreshed["queued"], 1, "{refreshed}");

    // Every call the verbs made was allowed (each succeeded), and every action the policy
    // grants was called by one of them: nothing in it is spare. The changing verbs name the
    // account before they act (sts:GetCallerIdentity), which AWS answers for any credentials,
    // so the policy does not grant it.
    let mut called: BTreeSet<String> = operator
        .calls
        .calls()
        .iter()
        .map(|c| iam_action(c))
        .collect();
    assert!(called.remove("sts:GetCallerIdentity"), "{called:?}");
    let granted: BTreeSet<String> = template.into_iter().flatten().collect();
    assert_eq!(
        called, granted,
        "the calls the verbs made (left) are not the actions the operator policy grants (right)"
    );
}

/// Asserts `answer` (from [`denied`]) refuses `action`, by name.
fn assert_refused(answer: &str, action: &str) {
    assert_access_denied(answer, action);
    assert!(
        answer.contains(&format!("perform: {action}")),
        "{action}: {answer}"
    );
}

/// What the policy does not grant is refused, the operator's key otherwise working: other
/// reads and writes of the tables, each queue beyond its own actions, and the bus beyond
/// sending to it.
#[tokio::test]
async fn the_operator_policy_refuses_what_it_does_not_grant() {
    let admin = stack_on_iam_moto().await;
    let operator = Operator::new(&admin, "operator", true).await;
    let sdk = operator.sdk(&admin).await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let history_key = || {
        HashMap::from([
            ("event_id".to_string(), AttributeValue::S("baack#x".into())),
            ("received_at".to_string(), AttributeValue::N("1".into())),
        ])
    };

    // Allowed, so the refusals below are the policy's and not the key's.
    dynamodb
        .query()
        .table_name(&admin.history_table)
        .key_condition_expression("event_id = :id")
        .expression_attribute_values(":id", AttributeValue::S("baack#x".into()))
        .send()
        .await
        .expect("Query on the history");
    sqs.get_queue_attributes()
        .queue_url(&admin.dlq_url)
        .send()
        .await
        .expect("GetQueueAttributes on the dead-letter queue");
    // forget counts the events queue's messages too.
    sqs.get_queue_attributes()
        .queue_url(&admin.queue_url)
        .send()
        .await
        .expect("GetQueueAttributes on the events queue");

    // GetItem, DeleteItem and Scan are granted on other tables (the identities and events
    // tables), which moto, matching DynamoDB statements against `*`, cannot tell apart: the
    // history's refusal of them is real IAM's, not provable here (tests/template.rs holds each
    // statement's resources).
    let put = dynamodb
        .put_item()
        .table_name(&admin.history_table)
        .set_item(Some(history_key()))
        .send()
        .await;
    assert_refused(&denied(put), "dynamodb:PutItem");
    // The operator reads and deletes identities; it never writes one.
    let write_identity = dynamodb
        .put_item()
        .table_name(&admin.identities_table)
        .item("resource_key", AttributeValue::S("baack#x".into()))
        .send()
        .await;
    assert_refused(&denied(write_identity), "dynamodb:PutItem");
    let batch_delete = dynamodb
        .batch_write_item()
        .request_items(
            &admin.history_table,
            vec![aws_sdk_dynamodb::types::WriteRequest::builder()
                .delete_request(
                    aws_sdk_dynamodb::types::DeleteRequest::builder()
                        .set_key(Some(history_key()))
                        .build()
                        .expect("a delete request"),
                )
                .build()],
        )
        .send()
        .await;
    assert_refused(&denied(batch_delete), "dynamodb:BatchWriteItem");

    // SQS: each action on its own queue only (moto matches these statements' queue ARNs).
    let send_to_dlq = sqs
        .send_message()
        .queue_url(&admin.dlq_url)
        .message_body("{}")
        .send()
        .await;
    assert_refused(&denied(send_to_dlq), "sqs:SendMessage");
    let receive_events = sqs
        .receive_message()
        .queue_url(&admin.queue_url)
        .send()
        .await;
    assert_refused(&denied(receive_events), "sqs:ReceiveMessage");
    let purge_events = sqs.purge_queue().queue_url(&admin.queue_url).send().await;
    assert_refused(&denied(purge_events), "sqs:PurgeQueue");
    let purge = sqs.purge_queue().queue_url(&admin.dlq_url).send().await;
    assert_refused(&denied(purge), "sqs:PurgeQueue");

    // The bus: events sent, never a rule changed (a rule is where the events go).
    let rule = aws_sdk_eventbridge::Client::new(&sdk)
        .put_rule()
        .name(format!("{}-operator-rule", admin.stack_name))
        .event_bus_name(&admin.event_bus)
        .event_pattern(r#"{"source":["hookline"]}"#)
        .send()
        .await;
    assert_refused(&denied(rule), "events:PutRule");

    // The binary, the queues swapped: redrive from the events queue is refused at the receive
    // (the events queue's count may be read: forget reads it).
    let wrong = operator
        .run(&[
            "redrive",
            "--dlq-url",
            &admin.queue_url,
            "--queue-url",
            &admin.dlq_url,
            "--yes",
        ])
        .await;
    assert_eq!(wrong.status.code(), Some(1), "{}", stderr(&wrong));
    let text = stderr(&wrong);
    // The queues as given, said before the move; then the refusal in one line.
    let (block, message) = text
        .split_once("\nhookline: ")
        .unwrap_or_else(|| panic!("a block, then the refusal: {text}"));
    assert!(
        block.starts_with("hookline redrive acts on:")
            && block.contains(&format!(
                "dead-letter queue URL  {} (--dlq-url)",
                admin.queue_url
            )),
        "{text}"
    );
    assert!(
        message.starts_with(&format!(
            "cannot receive from the dead-letter queue {}: ",
            admin.queue_url
        )) && message.lines().count() == 1
            && !message.contains("panicked"),
        "{text}"
    );
}

/// A user without the policy: every verb exits 1 at its first call (reading the stack), in one
/// line naming the stack, and nothing is read, sent or moved.
///
/// moto answers the refusal as `<ErrorResponse><Errors><Error>`, which the Rust SDK does not
/// parse for CloudFormation (real CloudFormation answers `<ErrorResponse><Error>`, which it
/// does: the line then ends `AccessDenied: User: ... is not authorized to perform:
/// cloudformation:DescribeStacks ...`). That it is this refusal is checked on the answer itself.
#[tokio::test]
async fn without_the_operator_policy_every_verb_is_refused() {
    let admin = stack_on_iam_moto().await;
    admin
        .sqs
        .send_message()
        .queue_url(&admin.dlq_url)
        .message_body(r#"{"version":1,"event_id":"baack#dead"}"#)
        .send()
        .await
        .expect("send to the dead-letter queue");
    let stranger = Operator::new(&admin, "no-policy", false).await;
    let stack = admin.stack_name.as_str();
    let refused = aws_sdk_cloudformation::Client::new(&stranger.sdk(&admin).await)
        .describe_stacks()
        .stack_name(stack)
        .send()
        .await;
    let answer = denied(refused);
    assert_refused(&answer, "cloudformation:DescribeStacks");
    assert!(answer.contains(&stranger.arn), "{answer}");

    for args in [
        &[
            "events",
            "list",
            "--stack",
            stack,
            "--provider",
            "baack",
            "--since",
            "1h",
        ][..],
        &["events", "get", "--stack", stack, "baack#x"],
        &[
            "replay",
            "--stack",
            stack,
            "--provider",
            "baack",
            "--since",
            "1h",
            "--yes",
        ],
        &["redrive", "--stack", stack, "--yes"],
        &["identities", "get", "--stack", stack, "baack", "x"],
        &["forget", "--stack", stack, "baack", "x", "--dry-run"],
        &["forget", "--stack", stack, "baack", "x", "--yes"],
    ] {
        let output = stranger.run(args).await;
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {message}");
        assert!(
            message.starts_with(&format!(
                "hookline: cannot read stack {stack:?} in us-east-1: "
            )) && message.lines().count() == 1
                && !message.contains("panicked"),
            "{args:?}: {message}"
        );
        assert_eq!(stdout(&output), "", "{args:?}");
    }
    assert_eq!(
        stranger.calls.calls(),
        vec!["cloudformation.DescribeStacks"; 7],
        "one refused call per verb, nothing after it"
    );
    assert!(admin.messages().await.is_empty(), "nothing sent");
    let dead = admin.messages_of(&admin.dlq_url).await;
    assert_eq!(dead.len(), 1, "the dead-letter message stays: {dead:?}");
    assert_eq!(dead[0].body["event_id"], "baack#dead");
}
