//! The IAM-enforcing emulator (`start_iam_moto` in scripts/lib.sh, started by scripts/test):
//! stacks created there from the rendered template, the credentials of their roles, and set-up
//! scripts run there as its administrator.
//!
//! moto's enforcement differs from IAM's in ways every test here must work around (each
//! workaround said where it is made): it never matches a statement that has a Condition (the
//! rendered template drops them, `scripts/stack.py changes` lists them); it matches a
//! statement's Resource against the queue's ARN for SQS but against `*` for DynamoDB and
//! CloudFormation, so a statement naming a table or a stack never applies; and it authorises a
//! call by the operation's own name (`sqs:SendMessageBatch`), where IAM authorises some by
//! another action (`sqs:SendMessage`).

use crate::aws::{Emulator, Function, Resources};
use crate::stack::{self, Resolver};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

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
        # moto matches a DynamoDB or Secrets Manager statement's Resource against "*", never
        # against the resource called: a statement naming the table's ARN never applies. Actions
        # are what these roles' tests prove; the resources are proved from the template
        # (tests/template.rs).
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
type RoleCredentials = HashMap<String, [String; 3]>;
static ROLE_CREDENTIALS: std::sync::Mutex<BTreeMap<String, RoleCredentials>> =
    std::sync::Mutex::new(BTreeMap::new());

/// The temporary credentials (key id, secret, session token) of the role of the function
/// running `binary` in `admin`'s stack, assumed by its administrator when the stack was created.
pub fn role_credentials(admin: &Resources, binary: &str) -> [String; 3] {
    ROLE_CREDENTIALS.lock().unwrap()[&admin.stack_name][binary].clone()
}

/// Runs a Python `script` (boto3 is in the venv scripts/test puts on PATH) with `args`, as the
/// administrator of `emulator`, and returns what it printed, as JSON. Blocking: nothing else runs
/// on the calling test's runtime meanwhile.
pub fn run_as_admin(emulator: &Emulator, script: &str, args: &[&str]) -> Value {
    let (key_id, secret) = emulator.credentials.clone().expect("admin keys");
    let output = std::process::Command::new("python")
        .arg("-c")
        .arg(script)
        .args(args)
        .env("AWS_ENDPOINT_URL", &emulator.endpoint)
        .env("AWS_ACCESS_KEY_ID", key_id)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env_remove("AWS_SESSION_TOKEN")
        .output()
        .expect("run python (scripts/test puts the venv on PATH)");
    assert!(
        output.status.success(),
        "python {args:?} on {}: {}",
        emulator.endpoint,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "python {args:?}: not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// A stack from the rendered template on the IAM-enforcing emulator, as its administrator sees
/// it: the same shape [`Resources::create_on`] gives, resolved with [`stack::Resolver`]. Its
/// roles' credentials: [`role_credentials`].
pub async fn stack_on_iam_moto() -> Resources {
    static STACKS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let emulator = Emulator::iam_enforcing();
    let stack_name = format!(
        "iam-enforced-{}-{}",
        std::process::id(),
        STACKS.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    );
    let template = std::env::var("HOOKLINE_STACK_TEMPLATE").expect("HOOKLINE_STACK_TEMPLATE");
    let created = run_as_admin(&emulator, CREATE_STACK, &[&template, &stack_name]);
    let map = |v: &Value| -> HashMap<String, String> {
        v.as_object()
            .expect("an object")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().expect("a string").to_string()))
            .collect()
    };
    let outputs = map(&created["outputs"]);
    let mut physical = map(&created["physical"]);
    stack::add_unlisted_physical_ids(&mut physical, &outputs);
    let resolver = Resolver::new(
        &stack_name,
        &map(&created["parameters"]),
        physical,
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
    let roles: RoleCredentials =
        serde_json::from_value(created["roles"].clone()).expect("role credentials");
    ROLE_CREDENTIALS
        .lock()
        .unwrap()
        .insert(stack_name.clone(), roles);
    let sdk = emulator.sdk_config().await;

    // Proof that these calls reach an enforcing emulator: an unknown key is refused there.
    let stranger = Emulator::with_credentials(&emulator.endpoint, "AKIAUNKNOWNKEY000000", "x");
    let refused = aws_sdk_dynamodb::Client::new(&stranger.sdk_config().await)
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
        identities_table: outputs["IdentitiesTableName"].clone(),
        event_bus: outputs["ChangeEventBusName"].clone(),
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

/// A refused call's answer as text: status and body (moto answers an IAM refusal in the query
/// protocol's XML, whatever the service's protocol, so the SDK cannot parse its code).
pub fn denied<T, E>(
    result: Result<
        T,
        aws_sdk_dynamodb::error::SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>,
    >,
) -> String {
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

pub fn assert_access_denied(answer: &str, what: &str) {
    assert!(
        answer.starts_with("403 ") && answer.contains("<Code>AccessDenied</Code>"),
        "{what}: expected AccessDenied, got {answer}"
    );
}
