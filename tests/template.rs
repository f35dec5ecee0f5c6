//! The template's alarms and dashboard read the metrics the functions write: a renamed metric
//! must not leave an alarm watching nothing. Every test here reads the rendered template
//! (`HOOKLINE_STACK_TEMPLATE`: template.yaml through the SAM translator, `scripts/stack.py
//! render`, the resources and outputs moto cannot create kept in its metadata), not the YAML's
//! lines: what is checked is what CloudFormation is given.

use hookline::metrics::NAMES;
use hookline::providers::Midbound;
use hookline::Provider;
use integration_tests::stack::{self, scalar};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// The AWS metrics the template reads besides ours.
const AWS_METRICS: [&str; 5] = [
    "Errors",
    "Throttles",
    "Duration",
    "ApproximateNumberOfMessagesVisible",
    "ApproximateAgeOfOldestMessage",
];

/// Every resource as the translator wrote it, and the secrets (which the rendering for moto
/// turned into parameters) as the template wrote them.
fn all_resources() -> Map<String, Value> {
    let mut all = stack::transformed_resources();
    for (id, properties) in secrets() {
        all.insert(
            id,
            json!({"Type": "AWS::SecretsManager::Secret", "Properties": properties}),
        );
    }
    all
}

fn secrets() -> Map<String, Value> {
    stack::rehearsal()["Secrets"]
        .as_object()
        .cloned()
        .expect("the stack's secrets")
}

/// The resources of a type, by logical id.
fn resources_of(kind: &str) -> Vec<(String, Value)> {
    all_resources()
        .into_iter()
        .filter(|(_, r)| r["Type"] == kind)
        .collect()
}

fn parameter(name: &str) -> &'static Value {
    let parameter = &stack::template()["Parameters"][name];
    assert!(!parameter.is_null(), "no parameter {name}");
    parameter
}

/// A parameter's attribute (`Default`, `MinValue`...) as CloudFormation reads it: text.
fn attribute(name: &str, key: &str) -> Option<String> {
    scalar(parameter(name).get(key)?)
}

/// The first value under `key` anywhere in `value` (depth first).
fn find<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    match value {
        Value::Object(map) => map
            .get(key)
            .or_else(|| map.values().find_map(|inner| find(inner, key))),
        Value::Array(items) => items.iter().find_map(|inner| find(inner, key)),
        _ => None,
    }
}

/// Every string under `key` anywhere in `value`.
fn strings_under(value: &Value, key: &str, into: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, inner) in map {
                match inner {
                    Value::String(s) if k == key => into.push(s.clone()),
                    _ => strings_under(inner, key, into),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| strings_under(i, key, into)),
        _ => {}
    }
}

/// The dashboard's body (the text of its `Fn::Sub`) and the values substituted into it.
fn dashboard() -> (String, Value) {
    let body = &stack::transformed_resources()["Dashboard"]["Properties"]["DashboardBody"];
    let sub = &body["Fn::Sub"];
    match sub {
        Value::String(text) => (text.clone(), json!({})),
        Value::Array(parts) => (
            parts[0].as_str().expect("the body's text").to_string(),
            parts[1].clone(),
        ),
        other => panic!("DashboardBody is not a Fn::Sub: {other}"),
    }
}

/// Metric names the resources name (`MetricName`: alarms, metric-math alarms, metric filters),
/// and those the dashboard's body names (`MetricName=\"` in searches, and its metric arrays:
/// `["<namespace>", "Name"` or `[".", "Name"`).
fn referenced() -> Vec<String> {
    let mut names = Vec::new();
    for resource in stack::transformed_resources().values() {
        strings_under(resource, "MetricName", &mut names);
    }
    let (body, _) = dashboard();
    for line in body.lines() {
        if let Some(rest) = line.split("MetricName=\\\"").nth(1) {
            names.push(rest.split('\\').next().unwrap().to_string());
        }
        for opening in [
            "[\"${Namespace}\", \"",
            "[\".\", \"",
            "[\"AWS/SQS\", \"",
            "[\"AWS/Lambda\", \"",
        ] {
            for piece in line.split(opening).skip(1) {
                names.push(piece.split('"').next().unwrap().to_string());
            }
        }
    }
    names
}

#[test]
fn every_metric_the_template_reads_is_written() {
    let referenced = referenced();
    assert!(referenced.len() > 20, "{referenced:?}");
    // The access log's metric filters write what the edge refused, which no function sees.
    let mut filtered: Vec<String> = resources_of("AWS::Logs::MetricFilter")
        .iter()
        .map(|(name, filter)| {
            find(filter, "MetricName")
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("{name} writes no metric"))
                .to_string()
        })
        .collect();
    filtered.sort();
    assert_eq!(filtered, ["EdgeFailed", "EdgeThrottled"]);
    for name in &referenced {
        assert!(
            NAMES.contains(&name.as_str())
                || AWS_METRICS.contains(&name.as_str())
                || filtered.contains(name),
            "the template reads {name:?}, which nothing writes"
        );
    }
    for name in NAMES {
        assert!(
            referenced.iter().any(|r| r == name),
            "{name} is written but neither on the dashboard nor alarmed on"
        );
    }
}

/// Every provider of the registry: its template prefix and its name.
fn providers() -> Vec<(&'static str, &'static str)> {
    hookline::providers::ALL
        .iter()
        .map(|p| (p.template_prefix, p.name))
        .collect()
}

#[test]
fn the_parameters_exist_with_their_documented_defaults() {
    let mut expected = vec![
        ("SubscriptionExpiryAlarmHours", "72"),
        ("BacklogAlarmSeconds", "900"),
        ("AlertEmail", ""),
        ("AlarmTopicArn", ""),
        ("HttpApiThrottlingRateLimit", "100"),
        ("HttpApiThrottlingBurstLimit", "200"),
        ("ReceiverReservedConcurrency", "0"),
        ("EnricherMaxConcurrency", "5"),
    ];
    let retention: Vec<String> = providers()
        .iter()
        .map(|(p, _)| format!("{p}DedupRetentionSeconds"))
        .collect();
    let silence: Vec<String> = providers()
        .iter()
        .map(|(p, _)| format!("{p}SilenceAlarmHours"))
        .collect();
    // Midbound's retention always has a value: the provider's own default, bounded below so that
    // it outlives twice every tolerance MidboundToleranceSeconds allows (the function refuses to
    // start otherwise).
    let midbound_default = Midbound::DEFAULT_RETENTION_SECONDS.to_string();
    let retention: Vec<String> = retention
        .into_iter()
        .filter(|n| n != "MidboundDedupRetentionSeconds")
        .collect();
    expected.push(("MidboundDedupRetentionSeconds", &midbound_default));
    expected.push(("MidboundToleranceSeconds", "300"));
    expected.extend(retention.iter().map(|n| (n.as_str(), "")));
    expected.extend(silence.iter().map(|n| (n.as_str(), "0")));
    for (name, default) in expected {
        assert_eq!(
            attribute(name, "Default").as_deref(),
            Some(default),
            "{name}"
        );
    }
    assert_eq!(
        attribute("MidboundToleranceSeconds", "MaxValue"),
        Some(hookline::config::MAX_TOLERANCE_SECONDS.to_string()),
        "the function's own bound"
    );
    assert_eq!(
        attribute("MidboundDedupRetentionSeconds", "MinValue"),
        Some((2 * hookline::config::MAX_TOLERANCE_SECONDS + 1).to_string()),
        "more than twice the largest tolerance"
    );
    // Empty (the provider's default) or a positive number: the functions refuse 0 at start-up.
    for name in &retention {
        assert_eq!(
            attribute(name, "AllowedPattern").as_deref(),
            Some("^([1-9][0-9]*)?$"),
            "{name}"
        );
    }
    // ScalingConfig.MaximumConcurrency takes 2 to 1000.
    assert_eq!(
        (
            attribute("EnricherMaxConcurrency", "MinValue"),
            attribute("EnricherMaxConcurrency", "MaxValue")
        ),
        (Some("2".to_string()), Some("1000".to_string()))
    );
    assert!(
        stack::template()["Parameters"]["DedupRetentionSeconds"].is_null(),
        "one retention for every provider overrides Argyle's short window"
    );
}

#[test]
fn no_function_sets_dedup_retention_unconditionally() {
    let mut found = 0;
    for (logical_id, _) in stack::functions() {
        let variables = stack::environment_of(&logical_id);
        let Some(setting) = variables.get("DEDUP_RETENTION_SECONDS") else {
            continue;
        };
        // Globals (merged into every function by the translator) would give every function one
        // retention, Argyle's included: only the receivers set it, each its own.
        let provider = providers()
            .iter()
            .map(|(p, _)| *p)
            .find(|p| logical_id == format!("{p}Function"))
            .unwrap_or_else(|| panic!("{logical_id} sets DEDUP_RETENTION_SECONDS"));
        let parameter = format!("{provider}DedupRetentionSeconds");
        found += 1;
        // Its own parameter only: directly when the parameter always has a value (Midbound's,
        // whose bound keeps it above twice the tolerance), else only when the parameter is set.
        if *setting == json!({"Ref": parameter}) {
            assert!(
                attribute(&parameter, "MinValue").is_some(),
                "{logical_id}: set unconditionally from a parameter with no bound"
            );
            continue;
        }
        let condition = format!("Has{provider}DedupRetention");
        assert_eq!(
            *setting,
            json!({"Fn::If": [condition, {"Ref": parameter}, {"Ref": "AWS::NoValue"}]}),
            "{logical_id}"
        );
        assert_eq!(
            stack::template()["Conditions"][&condition],
            json!({"Fn::Not": [{"Fn::Equals": [{"Ref": parameter}, ""]}]}),
            "{condition}"
        );
    }
    assert_eq!(found, providers().len(), "each webhook function, once");
}

/// Whether `needle` appears in a string of `value` other than under `Fn::If [condition, ...]`.
fn mentioned_outside(value: &Value, needle: &str, condition: &str) -> bool {
    match value {
        Value::String(s) => s.contains(needle),
        Value::Array(items) => items
            .iter()
            .any(|i| mentioned_outside(i, needle, condition)),
        Value::Object(map) => match map.get("Fn::If") {
            Some(args) if map.len() == 1 && args[0] == condition => {
                mentioned_outside(&args[2], needle, condition)
            }
            _ => map
                .values()
                .any(|i| mentioned_outside(i, needle, condition)),
        },
        _ => false,
    }
}

#[test]
fn every_alarm_notifies_both_topics_and_is_on_the_dashboard() {
    let alarms = resources_of("AWS::CloudWatch::Alarm");
    assert!(
        alarms.len() >= 14,
        "{:?}",
        alarms.iter().map(|a| &a.0).collect::<Vec<_>>()
    );
    let (body, substituted) = dashboard();
    let whole = format!("{body}\n{substituted}");
    let topics = json!([
        {"Fn::If": ["HasAlertEmail", {"Ref": "AlertTopic"}, {"Ref": "AWS::NoValue"}]},
        {"Fn::If": ["HasAlarmTopic", {"Ref": "AlarmTopicArn"}, {"Ref": "AWS::NoValue"}]}
    ]);
    for (name, alarm) in &alarms {
        assert_eq!(
            alarm["Properties"]["AlarmActions"], topics,
            "{name} does not notify AlertEmail's topic and AlarmTopicArn"
        );
        assert_eq!(
            alarm["Properties"]["OKActions"], topics,
            "{name} does not say when it is over (OKActions)"
        );
        let arn = format!("${{{name}.Arn}}");
        assert!(
            whole.contains(&arn),
            "{name} is not in the dashboard's alarm list"
        );
        // A conditional alarm's ARN may only appear under its own condition: a plain reference
        // names a resource that does not exist when the condition is false.
        if let Some(condition) = alarm["Condition"].as_str() {
            assert!(
                !body.contains(&arn) && !mentioned_outside(&substituted, &arn, condition),
                "{name} exists only under {condition}, but the dashboard names it outside it"
            );
        }
    }
}

#[test]
fn silence_alarms_stay_within_cloudwatch_evaluation_limits() {
    let resources = stack::transformed_resources();
    for (provider, dimension) in providers() {
        let name = format!("{provider}SilenceAlarm");
        let alarm = resources.get(&name).unwrap_or_else(|| panic!("no {name}"));
        let properties = &alarm["Properties"];
        assert_eq!(alarm["Condition"], json!(format!("Has{name}")));
        assert_eq!(properties["MetricName"], "Accepted");
        assert_eq!(
            properties["Dimensions"],
            json!([{"Name": "Provider", "Value": dimension}]),
            "{name}: Provider dimension"
        );
        assert_eq!(properties["TreatMissingData"], "breaching", "{name}");
        let hours = format!("{provider}SilenceAlarmHours");
        assert_eq!(properties["EvaluationPeriods"], json!({"Ref": hours}));
        let period: u64 = scalar(&properties["Period"]).unwrap().parse().unwrap();
        let max: u64 = attribute(&hours, "MaxValue").unwrap().parse().unwrap();
        // CloudWatch: Period x EvaluationPeriods at most 7 days, and at most 1 day when the
        // period is under an hour.
        let limit = if period >= 3600 { 7 * 86_400 } else { 86_400 };
        assert!(period * max <= limit, "{name}: {period} s x {max}");
        assert_eq!(
            period * max,
            7 * 86_400,
            "{name}: MaxValue is the most CloudWatch allows"
        );
    }
}

/// With `KmsKeyArn` set, everything that holds or carries personal data is encrypted with that
/// key, and every function's role may use it; unset, none of it is there (each service's default
/// key, listed in docs/history-and-data-protection.md, "Data protection").
#[test]
fn a_customer_managed_key_covers_every_store_and_every_role() {
    let key = json!({"Fn::If": ["HasKmsKey", {"Ref": "KmsKeyArn"}, {"Ref": "AWS::NoValue"}]});
    let expected: [(&str, Vec<(&str, Value)>); 6] = [
        (
            "AWS::DynamoDB::Table",
            vec![
                (
                    "SSEType",
                    json!({"Fn::If": ["HasKmsKey", "KMS", {"Ref": "AWS::NoValue"}]}),
                ),
                ("KMSMasterKeyId", key.clone()),
            ],
        ),
        (
            "AWS::SQS::Queue",
            vec![
                ("KmsMasterKeyId", key.clone()),
                (
                    "SqsManagedSseEnabled",
                    json!({"Fn::If": ["HasKmsKey", {"Ref": "AWS::NoValue"}, true]}),
                ),
            ],
        ),
        (
            "AWS::SecretsManager::Secret",
            vec![("KmsKeyId", key.clone())],
        ),
        (
            "AWS::Events::EventBus",
            vec![("KmsKeyIdentifier", key.clone())],
        ),
        // Logs carry request ids and outcomes, no payload; the alert topic, alarm texts. Both
        // under the customer key too, as security scanners (checkov) expect.
        ("AWS::Logs::LogGroup", vec![("KmsKeyId", key.clone())]),
        ("AWS::SNS::Topic", vec![("KmsMasterKeyId", key.clone())]),
    ];
    let mut covered = 0;
    for (kind, properties) in expected {
        let found = resources_of(kind);
        assert!(!found.is_empty(), "no {kind} in the template");
        for (name, resource) in found {
            for (property, setting) in &properties {
                assert_eq!(
                    find(&resource["Properties"], property),
                    Some(setting),
                    "{name}: {property}"
                );
            }
            covered += 1;
        }
    }
    // Three tables, two queues, five secrets, one bus, seven log groups (six functions and the
    // HTTP API's access log), one alert topic.
    assert_eq!(covered, 19);

    // SAM's roles, one per function, each attached to the key's policy.
    let rendered = stack::resources();
    let policy = &rendered["KmsKeyUsePolicy"];
    assert_eq!(policy["Condition"], "HasKmsKey");
    let mut attached: Vec<String> = policy["Properties"]["Roles"]
        .as_array()
        .expect("Roles")
        .iter()
        .map(|role| role["Ref"].as_str().expect("a Ref").to_string())
        .collect();
    attached.sort();
    let mut roles: Vec<String> = stack::functions()
        .into_iter()
        .map(|(logical_id, _)| {
            rendered[&logical_id]["Properties"]["Role"]["Fn::GetAtt"][0]
                .as_str()
                .expect("a role of the stack")
                .to_string()
        })
        .collect();
    roles.sort();
    assert_eq!(attached, roles);
    // Conditions put back from where the rendering for moto took them out.
    let statements: Vec<Value> = policy["Properties"]["PolicyDocument"]["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut s = s.clone();
            if let Some(condition) =
                least_privilege::removed_condition(&format!("KmsKeyUsePolicy statement {i}"))
            {
                s["Condition"] = condition;
            }
            s
        })
        .collect();
    // Only through SQS, and through Secrets Manager for the stack's own secrets: a role of the
    // stack cannot decrypt anything else under a key the account shares.
    let via =
        |service: &str| json!({"Fn::Sub": format!("{service}.${{AWS::Region}}.amazonaws.com")});
    // Every secret of the stack (the rendering turned them into parameters), and no other.
    let mut secrets: Vec<String> = secrets().keys().cloned().collect();
    secrets.sort();
    let named =
        statements[1]["Condition"]["StringEquals"]["kms:EncryptionContext:SecretARN"].clone();
    let mut named: Vec<String> = named
        .as_array()
        .expect("a list of secrets")
        .iter()
        .map(|s| s["Ref"].as_str().expect("a Ref").to_string())
        .collect();
    named.sort();
    assert_eq!(named, secrets);
    assert_eq!(secrets.len(), 5, "{secrets:?}");
    assert_eq!(
        statements,
        vec![
            json!({
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": {"Ref": "KmsKeyArn"},
                "Condition": {"StringEquals": {"kms:ViaService": via("sqs")}}
            }),
            json!({
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": {"Ref": "KmsKeyArn"},
                "Condition": {"StringEquals": {
                    "kms:ViaService": via("secretsmanager"),
                    "kms:EncryptionContext:SecretARN": statements[1]["Condition"]["StringEquals"]["kms:EncryptionContext:SecretARN"]
                }}
            }),
            // `hookline secrets` putting a webhook secret: the four webhook secrets only.
            json!({
                "Effect": "Allow",
                "Action": "kms:GenerateDataKey",
                "Resource": {"Ref": "KmsKeyArn"},
                "Condition": {"StringEquals": {
                    "kms:ViaService": via("secretsmanager"),
                    "kms:EncryptionContext:SecretARN": webhook_secrets()
                }}
            }),
        ]
    );
}

/// The four webhook secrets, as `Ref`s in the registry's order.
fn webhook_secrets() -> Value {
    json!(hookline::providers::ALL
        .iter()
        .map(|p| json!({"Ref": format!("{}WebhookSecrets", p.template_prefix)}))
        .collect::<Vec<_>>())
}

/// `sam deploy --guided` asks in the order the template declares the parameters, the console
/// by its parameter groups: both follow the order a person decides them in.
#[test]
fn the_guided_deploy_asks_in_the_groups_order() {
    let groups =
        &stack::template()["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"];
    let grouped: Vec<String> = groups
        .as_array()
        .expect("ParameterGroups")
        .iter()
        .flat_map(|g| g["Parameters"].as_array().expect("a group's Parameters"))
        .map(|p| p.as_str().expect("a parameter name").to_string())
        .collect();
    assert!(grouped.len() > 40, "{grouped:?}");
    assert_eq!(stack::parameter_order(), grouped);
}

#[test]
fn the_parameter_reference_documents_every_parameter() {
    let reference = include_str!("../docs/parameters.md");
    let rows: Vec<&str> = reference.lines().filter(|l| l.starts_with("| `")).collect();
    for name in stack::parameter_order() {
        assert!(
            rows.iter().any(|row| row.contains(&format!("`{name}`"))),
            "docs/parameters.md's tables lack {name}"
        );
    }
}

/// With a custom domain every webhook URL the stack outputs (the ones `hookline urls` prints) is
/// on that domain, at the path the HTTP API routes, so that it outlives the API.
#[test]
fn with_a_custom_domain_every_webhook_url_is_on_it() {
    let given: HashMap<String, String> = [
        ("CustomDomainName", "webhooks.example.com"),
        (
            "CustomDomainCertificateArn",
            "arn:aws:acm:us-east-1:123456789012:certificate/0f0e0d0c",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let resolver = stack::Resolver::new(
        "domain",
        &given,
        HashMap::new(),
        "123456789012",
        "us-east-1",
    );
    let urls: Vec<(String, String)> = stack::outputs()
        .iter()
        .filter(|(name, _)| name.ends_with("WebhookUrl"))
        .map(|(name, output)| {
            let url = resolver.string(&output["Value"]).expect("a URL");
            (name.clone(), url)
        })
        .collect();
    assert_eq!(urls.len(), 9, "{urls:?}");
    for (name, url) in &urls {
        let path = url
            .strip_prefix("https://webhooks.example.com/webhooks/")
            .unwrap_or_else(|| panic!("{name} is {url}, not on the custom domain"));
        let provider = path.split('?').next().unwrap();
        assert!(
            name.to_ascii_lowercase().starts_with(provider),
            "{name}: {url}"
        );
    }
    for resource in ["WebhooksDomain", "WebhooksDomainMapping"] {
        let condition = stack::transformed_resources()[resource]["Condition"]
            .as_str()
            .expect("a condition")
            .to_string();
        assert!(resolver.condition(&condition), "{resource} is not created");
    }
    // The record only with a hosted zone.
    let record = &stack::transformed_resources()["WebhooksDomainRecord"];
    assert!(!resolver.condition(record["Condition"].as_str().unwrap()));
}

/// `sam publish` needs the AWS Serverless Application Repository's metadata, whose rules are
/// these (AWS SAM developer guide, "AWS SAM template Metadata section properties"): no intrinsic
/// function, a name and an author of a restricted alphabet, a description of at most 256
/// characters, files beside the template for the licence and the readme; the version and the
/// licence are the crates' own.
#[test]
fn the_template_carries_the_serverless_application_repositorys_metadata() {
    let app = &stack::template()["Metadata"]["AWS::ServerlessRepo::Application"];
    let text = |key: &str| {
        app[key]
            .as_str()
            .unwrap_or_else(|| panic!("AWS::ServerlessRepo::Application {key}: {}", app[key]))
    };
    let name = text("Name");
    assert!(name.len() <= 140 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    let author = text("Author");
    assert!(
        author.len() <= 127
            && author
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !author.starts_with('-')
            && !author.ends_with('-')
            && !author.contains("--"),
        "Author {author:?}"
    );
    let description = text("Description");
    assert!(
        !description.is_empty() && description.chars().count() <= 256,
        "{} characters",
        description.chars().count()
    );
    assert_eq!(text("SemanticVersion"), env!("CARGO_PKG_VERSION"));
    let manifest = include_str!("../Cargo.toml");
    assert!(
        manifest.contains(&format!("license = \"{}\"", text("SpdxLicenseId"))),
        "the workspace's licence is not {}",
        text("SpdxLicenseId")
    );
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    for file in [text("LicenseUrl"), text("ReadmeUrl")] {
        assert!(
            std::path::Path::new(root).join(file).is_file(),
            "{file} is not a file beside template.yaml"
        );
    }
    let labels = app["Labels"].as_array().expect("Labels");
    assert!(labels.len() <= 10);
    for label in labels {
        let label = label.as_str().expect("a label");
        assert!(
            (1..=127).contains(&label.len())
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-_:/@".contains(c)),
            "label {label:?}"
        );
    }
    assert!(
        !app.to_string().contains("\"Fn::") && !app.to_string().contains("\"Ref\""),
        "an intrinsic function in the repository's metadata: {app}"
    );
}

// ---- Least privilege: the function roles, as the SAM transform renders them.
//
// moto enforces actions only (tests/least_privilege.rs); what it cannot check is proved here from
// the transformed template (HOOKLINE_STACK_TEMPLATE, rendered by scripts/test): each statement's
// Resource and the `dynamodb:LeadingKeys` conditions (which the rendering takes out for moto and
// records in `Metadata.HooklineRehearsal.Changes`, from where they are put back).

mod least_privilege {
    use hookline::provider::Sample as _;
    use hookline::providers::{Argyle, ClearId};
    use hookline::Provider;
    use integration_tests::stack;
    use serde_json::{json, Value};
    use std::collections::BTreeSet;

    fn receivers() -> Vec<&'static str> {
        hookline::providers::names().collect()
    }

    /// The four webhook secrets, as a policy statement's resources.
    fn webhook_secrets_list() -> Vec<Value> {
        super::webhook_secrets().as_array().expect("a list").clone()
    }

    /// What Lambda's SQS event source calls with the enricher's role (the code never does).
    const EVENT_SOURCE: [&str; 3] = [
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
    ];

    struct Role {
        binary: String,
        function: String,
        logical_id: String,
        statements: Vec<Value>,
    }

    fn actions(statement: &Value) -> Vec<String> {
        match &statement["Action"] {
            Value::String(a) => vec![a.clone()],
            Value::Array(list) => list
                .iter()
                .map(|a| a.as_str().expect("an action").to_string())
                .collect(),
            other => panic!("an Action of another shape: {other}"),
        }
    }

    /// Every function's role and its inline statements, conditions put back.
    fn roles() -> Vec<Role> {
        let rehearsal = stack::rehearsal();
        let removed: Vec<(String, Value)> = rehearsal["Changes"]
            .as_array()
            .expect("Changes")
            .iter()
            .filter(|c| c["change"] == "iam-condition-removed")
            .map(|c| {
                (
                    c["where"].as_str().unwrap().to_string(),
                    c["condition"].clone(),
                )
            })
            .collect();
        let mut roles = Vec::new();
        for (function, binary) in stack::functions() {
            let logical_id = rehearsal["Functions"][&function]["role"]
                .as_str()
                .unwrap_or_else(|| panic!("{function} has no role of its own"))
                .to_string();
            let mut statements = Vec::new();
            for policy in stack::resources()[&logical_id]["Properties"]["Policies"]
                .as_array()
                .expect("inline policies")
            {
                let name = policy["PolicyName"].as_str().unwrap();
                for (i, statement) in policy["PolicyDocument"]["Statement"]
                    .as_array()
                    .expect("statements")
                    .iter()
                    .enumerate()
                {
                    let mut statement = statement.clone();
                    let at = format!("{logical_id} {name} statement {i}");
                    if let Some((_, condition)) = removed.iter().find(|(w, _)| *w == at) {
                        statement["Condition"] = condition.clone();
                    }
                    statements.push(statement);
                }
            }
            roles.push(Role {
                binary,
                function,
                logical_id,
                statements,
            });
        }
        assert_eq!(roles.len(), 6, "four receivers, the sweeper, the enricher");
        roles
    }

    /// The secret the function's code reads: the Ref its `*_SECRETS_ARN` variable holds.
    fn own_secret(function: &str) -> Option<Value> {
        let env = stack::environment_of(function);
        env.get("WEBHOOK_SECRETS_ARN")
            .or_else(|| env.get("ENRICHER_SECRETS_ARN"))
            .cloned()
    }

    #[test]
    fn role_statements_name_only_the_stacks_own_resources() {
        let table = json!({"Fn::GetAtt": ["EventsTable", "Arn"]});
        let index = json!({"Fn::Sub": format!("${{EventsTable.Arn}}/index/{}", hookline::store::PENDING_INDEX)});
        let queue = json!({"Fn::GetAtt": ["EventsQueue", "Arn"]});
        let history = history_table();
        let identities = identities_table();
        for role in roles() {
            let managed = &stack::resources()[&role.logical_id]["Properties"]["ManagedPolicyArns"];
            assert_eq!(
                managed,
                &json!(["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]),
                "{}: only SAM's logging policy is attached",
                role.binary
            );
            for statement in &role.statements {
                let what = format!("{} {statement}", role.binary);
                assert_eq!(statement["Effect"], "Allow", "{what}");
                assert!(
                    statement.get("NotAction").is_none() && statement.get("NotResource").is_none(),
                    "{what}"
                );
                let resource = &statement["Resource"];
                let actions = actions(statement);
                let services: BTreeSet<&str> = actions
                    .iter()
                    .map(|a| a.split(':').next().unwrap())
                    .collect();
                assert_eq!(services.len(), 1, "{what}: one service per statement");
                assert!(
                    actions.iter().all(|a| !a.contains('*')),
                    "{what}: a wildcard action"
                );
                let expected = match services.into_iter().next().unwrap() {
                    "dynamodb" if actions == ["dynamodb:Query"] => index.clone(),
                    // Which statement may name it: `only_the_enricher_writes_the_history`.
                    "dynamodb" if *resource == history => history.clone(),
                    // Which statement may name these: `only_the_enricher_reaches_the_identities_and_the_bus`.
                    "dynamodb" if *resource == identities => identities.clone(),
                    "events" => change_event_bus(),
                    "dynamodb" => table.clone(),
                    "sqs" => queue.clone(),
                    "secretsmanager" => own_secret(&role.function)
                        .unwrap_or_else(|| panic!("{what}: the function reads no secret")),
                    other => panic!("{what}: a call to {other}"),
                };
                assert_eq!(resource, &expected, "{what}: not the stack's own resource");
            }
        }
    }

    /// IAM's StringLike: `*` any run, `?` any one character.
    fn like(pattern: &str, value: &str) -> bool {
        let (p, v): (Vec<char>, Vec<char>) = (pattern.chars().collect(), value.chars().collect());
        fn go(p: &[char], v: &[char]) -> bool {
            match p.first() {
                None => v.is_empty(),
                Some('*') => (0..=v.len()).any(|i| go(&p[1..], &v[i..])),
                Some('?') => !v.is_empty() && go(&p[1..], &v[1..]),
                Some(c) => v.first() == Some(c) && go(&p[1..], &v[1..]),
            }
        }
        go(&p, &v)
    }

    /// A statement's LeadingKeys patterns; it must say nothing else.
    fn leading_keys(what: &str, statement: &Value) -> Vec<String> {
        let condition = statement["Condition"]
            .as_object()
            .unwrap_or_else(|| panic!("{what}: no Condition"));
        assert_eq!(condition.len(), 1, "{what}");
        let like = condition["ForAllValues:StringLike"]
            .as_object()
            .unwrap_or_else(|| panic!("{what}"));
        assert_eq!(like.len(), 1, "{what}");
        like["dynamodb:LeadingKeys"]
            .as_array()
            .unwrap_or_else(|| panic!("{what}: no dynamodb:LeadingKeys"))
            .iter()
            .map(|p| p.as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn leading_keys_confine_each_writer_to_its_own_records() {
        let prefix = |name: &str| format!("{name}#*");
        // Real keys, as the pipelines and the enricher write them.
        let mut events = Vec::new();
        hookline::for_each_provider!(|P| events.push((P::NAME, P::event_id(&P::payload()))));
        for role in roles() {
            for statement in &role.statements {
                let writes: Vec<String> = actions(statement)
                    .into_iter()
                    .filter(|a| a == "dynamodb:PutItem" || a == "dynamodb:UpdateItem")
                    .collect();
                // PutEvents' conditions: change_events_can_be_published_only_by_their_writer.
                if writes.is_empty() && !actions(statement).iter().any(|a| a == "events:PutEvents")
                {
                    assert!(
                        statement.get("Condition").is_none(),
                        "{}: a condition moto cannot check, on a statement that writes nothing",
                        role.binary
                    );
                    continue;
                }
                if writes.is_empty() {
                    continue;
                }
                if statement["Resource"] == history_table() {
                    // Keyed by the event ids of every provider the enricher takes: confined to
                    // the history table and to UpdateItem instead
                    // (`only_the_enricher_writes_the_history`).
                    continue;
                }
                if statement["Resource"] == identities_table() {
                    // Keyed by every provider's identities: a table only the enricher may
                    // name (`only_the_enricher_reaches_the_identities_and_the_bus`).
                    continue;
                }
                let what = format!("{} {writes:?}", role.binary);
                let patterns = leading_keys(&what, statement);
                let expected: Vec<String> = match (role.binary.as_str(), writes[0].as_str()) {
                    (b, _) if receivers().contains(&b) => vec![prefix(b)],
                    ("sweeper", _) => receivers().iter().map(|n| prefix(n)).collect(),
                    // Only these providers' deliveries can be keyed by content (and reopened); it
                    // puts nothing in the events table (identities have a table of their own).
                    ("enricher", "dynamodb:UpdateItem") => {
                        vec![prefix(Argyle::NAME), prefix(ClearId::NAME)]
                    }
                    _ => panic!("{what}: a writer this test does not know"),
                };
                assert_eq!(patterns, expected, "{what}");
                let allowed = |key: &str| patterns.iter().any(|p| like(p, key));
                for (provider, event_id) in &events {
                    // The records older versions of the enricher wrote: no one writes them now.
                    let enriched = format!("enriched#{event_id}");
                    let own = match role.binary.as_str() {
                        "sweeper" => true,
                        "enricher" => {
                            writes[0] == "dynamodb:UpdateItem"
                                && expected.contains(&prefix(provider))
                        }
                        b => b == *provider,
                    };
                    assert_eq!(allowed(event_id), own, "{what} on {event_id}");
                    assert!(!allowed(&enriched), "{what} on {enriched}");
                }
            }
        }
    }

    /// The operations the product's code calls, from its source: `.put_item()` and the like on
    /// the DynamoDB, SQS and Secrets Manager clients (tests after `#[cfg(test)]` excluded).
    fn called_in_source() -> BTreeSet<String> {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let mut files = Vec::new();
        let mut dirs = vec![std::path::PathBuf::from(root).join("shared/src")];
        for entry in std::fs::read_dir(std::path::Path::new(root).join("functions")).unwrap() {
            dirs.push(entry.unwrap().path().join("src"));
        }
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    files.push(path);
                }
            }
        }
        let known = [
            (
                "dynamodb",
                [
                    "put_item",
                    "update_item",
                    "get_item",
                    "query",
                    "scan",
                    "delete_item",
                    "batch_write_item",
                    "batch_get_item",
                    "transact_write_items",
                    "describe_table",
                ]
                .as_slice(),
            ),
            (
                "sqs",
                [
                    "send_message",
                    "send_message_batch",
                    "delete_message_batch",
                    "receive_message",
                    "delete_message",
                    "change_message_visibility",
                    "get_queue_attributes",
                ]
                .as_slice(),
            ),
            (
                "secretsmanager",
                ["get_secret_value", "describe_secret", "put_secret_value"].as_slice(),
            ),
            ("events", ["put_events"].as_slice()),
        ];
        let mut called = BTreeSet::new();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap();
            for (service, operations) in known {
                for op in operations {
                    if code.contains(&format!(".{op}()")) {
                        // SQS's batch calls need no action of their own: IAM authorizes
                        // SendMessageBatch as sqs:SendMessage and DeleteMessageBatch as
                        // sqs:DeleteMessage (Amazon SQS Developer Guide, "Amazon SQS batch
                        // actions": their permissions cannot be set on their own).
                        let op = op.strip_suffix("_batch").unwrap_or(op);
                        let pascal: String = op
                            .split('_')
                            .map(|w| w[..1].to_uppercase() + &w[1..])
                            .collect();
                        called.insert(format!("{service}:{pascal}"));
                    }
                }
            }
        }
        called
    }

    #[test]
    fn no_role_allows_an_action_its_code_does_not_call() {
        let called = called_in_source();
        let mut granted = BTreeSet::new();
        for role in roles() {
            for statement in &role.statements {
                for action in actions(statement) {
                    if EVENT_SOURCE.contains(&action.as_str()) {
                        assert_eq!(
                            role.binary, "enricher",
                            "{action}: only the enricher has an SQS event source"
                        );
                    } else {
                        assert!(
                            called.contains(&action),
                            "{}: {action} is never called by the code",
                            role.binary
                        );
                    }
                    granted.insert(action);
                }
            }
        }
        // And the other way: every call the code makes is granted to some role (which role needs
        // it is what tests/least_privilege.rs proves, running each with its role alone), or to
        // the operator running the CLI (the history's reads and replay marks, in the shared
        // history adapter).
        granted.extend(operator_statements().iter().flat_map(actions));
        for action in &called {
            assert!(
                granted.contains(action),
                "the code calls {action}, no role nor the operator's policy allows it"
            );
        }
        for action in EVENT_SOURCE {
            assert!(
                granted.contains(action),
                "the enricher's event source needs {action}"
            );
        }
    }

    fn history_table() -> Value {
        json!({"Fn::GetAtt": ["HistoryTable", "Arn"]})
    }

    fn identities_table() -> Value {
        json!({"Fn::GetAtt": ["IdentitiesTable", "Arn"]})
    }

    /// The change events' bus: the stack's own, or the one the operator named.
    fn change_event_bus() -> Value {
        json!({"Fn::If": [
            "CreatesEventBus",
            {"Fn::GetAtt": ["ChangeEventBus", "Arn"]},
            {"Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/${EventBusName}"}
        ]})
    }

    /// Each identity's state holds the provider's data: only the enricher may read or write
    /// it, and only the enricher sends change events. A webhook function has no right to
    /// either (nor the sweeper).
    #[test]
    fn only_the_enricher_reaches_the_identities_and_the_bus() {
        let mut identities = Vec::new();
        let mut bus = Vec::new();
        for role in roles() {
            for statement in &role.statements {
                let text = statement.to_string();
                let acts = actions(statement);
                if text.contains("IdentitiesTable") {
                    identities.push((role.binary.clone(), statement.clone()));
                }
                if text.contains("ChangeEventBus")
                    || text.contains("EventBusName")
                    || acts.iter().any(|a| a.starts_with("events:"))
                {
                    bus.push((role.binary.clone(), statement.clone()));
                }
            }
        }
        assert_eq!(identities.len(), 1, "{identities:?}");
        let (binary, statement) = &identities[0];
        assert_eq!(binary, "enricher");
        // Read the state, write it conditionally, forget a sent change: no delete, no scan, no
        // query, no batch.
        assert_eq!(
            actions(statement),
            [
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem"
            ],
            "{statement}"
        );
        assert_eq!(statement["Resource"], identities_table(), "{statement}");
        assert!(statement.get("Condition").is_none(), "{statement}");

        assert_eq!(bus.len(), 1, "{bus:?}");
        let (binary, statement) = &bus[0];
        assert_eq!(binary, "enricher");
        assert_eq!(actions(statement), ["events:PutEvents"], "{statement}");
        assert_eq!(statement["Resource"], change_event_bus(), "{statement}");
        // Its condition: change_events_can_be_published_only_by_their_writer.

        // The enricher's environment names the table and the bus its role allows.
        let env = stack::environment_of("EnricherFunction");
        assert_eq!(env["IDENTITIES_TABLE"], json!({"Ref": "IdentitiesTable"}));
        assert_eq!(
            env["EVENT_BUS_NAME"],
            json!({"Fn::If": [
                "CreatesEventBus",
                {"Fn::GetAtt": ["ChangeEventBus", "Name"]},
                {"Ref": "EventBusName"}
            ]})
        );
        // And no webhook function's environment names either.
        for (function, binary) in stack::functions() {
            if binary == "enricher" {
                continue;
            }
            let env = serde_json::Value::Object(stack::environment_of(&function)).to_string();
            for name in ["IdentitiesTable", "ChangeEventBus", "EventBusName"] {
                assert!(!env.contains(name), "{function}'s environment names {name}");
            }
        }
    }

    /// The conditions the rendering took out of `at` ("<logical id> ... statement <i>") for moto.
    pub(super) fn removed_condition(at: &str) -> Option<Value> {
        stack::rehearsal()["Changes"]
            .as_array()
            .expect("Changes")
            .iter()
            .find(|c| c["change"] == "iam-condition-removed" && c["where"] == at)
            .map(|c| c["condition"].clone())
    }

    /// The PutEvents statements of `statements`.
    fn put_events(statements: &[Value]) -> Vec<&Value> {
        statements
            .iter()
            .filter(|s| actions(s).iter().any(|a| a == "events:PutEvents"))
            .collect()
    }

    /// moto never matches a conditioned statement, so the conditions that keep change events
    /// honest are proved here: the enricher publishes only `hookline` events of the changes it
    /// makes, the operator only `forgotten` (hookline forget). Nobody holding either can make
    /// the bus's consumers create, update or erase an identity the providers did not change.
    #[test]
    fn change_events_can_be_published_only_by_their_writer() {
        use hookline::identity::change::{ChangeKind, SOURCE};
        let enricher = roles()
            .into_iter()
            .find(|r| r.binary == "enricher")
            .expect("the enricher's role");
        let statements = put_events(&enricher.statements);
        assert_eq!(statements.len(), 1, "{statements:?}");
        let condition = &statements[0]["Condition"];
        assert_eq!(condition["StringEquals"]["events:source"], SOURCE);
        let granted: BTreeSet<String> = condition["StringEquals"]["events:detail-type"]
            .as_array()
            .expect("a list of detail types")
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        let written: BTreeSet<String> = receivers()
            .iter()
            .flat_map(|p| {
                [
                    ChangeKind::Created,
                    ChangeKind::Updated,
                    ChangeKind::Deleted,
                ]
                .map(|c| format!("{p}.identity.{}", c.as_str()))
            })
            .collect();
        assert_eq!(granted, written, "the enricher's detail types");
        assert!(!granted
            .iter()
            .any(|t| t.ends_with(ChangeKind::Forgotten.as_str())));
        assert_eq!(condition.as_object().unwrap().len(), 1, "{condition}");

        let operator = operator_statements();
        let statements = put_events(&operator);
        assert_eq!(statements.len(), 1, "{statements:?}");
        let condition = &statements[0]["Condition"];
        assert_eq!(condition["StringEquals"]["events:source"], SOURCE);
        let pattern = condition["StringLike"]["events:detail-type"]
            .as_str()
            .expect("one pattern");
        for provider in receivers() {
            assert!(like(pattern, &format!("{provider}.identity.forgotten")));
            for change in [
                ChangeKind::Created,
                ChangeKind::Updated,
                ChangeKind::Deleted,
            ] {
                let forged = format!("{provider}.identity.{}", change.as_str());
                assert!(!like(pattern, &forged), "the operator may publish {forged}");
            }
        }
    }

    /// `OperatorPolicy`'s statements, conditions put back, as a stack at the defaults has them.
    fn operator_statements() -> Vec<Value> {
        let policy = &stack::resources()["OperatorPolicy"];
        assert_eq!(policy["Type"], "AWS::IAM::ManagedPolicy");
        let statements = policy["Properties"]["PolicyDocument"]["Statement"]
            .as_array()
            .expect("statements")
            .iter()
            .enumerate()
            .map(|(i, statement)| {
                let mut statement = statement.clone();
                if let Some(condition) = removed_condition(&format!("OperatorPolicy statement {i}"))
                {
                    statement["Condition"] = condition;
                }
                statement
            })
            .collect();
        stack::present_statements(statements)
    }

    /// A statement's Resource as a list.
    fn resources_of(statement: &Value) -> Vec<Value> {
        match &statement["Resource"] {
            Value::Array(list) => list.clone(),
            one => vec![one.clone()],
        }
    }

    /// Every `*` in a resource, other than the one that means "any index of the stack's own
    /// history table".
    fn wildcards(resource: &Value) -> bool {
        let text = resource.to_string();
        let indexes = json!({"Fn::Sub": "${HistoryTable.Arn}/index/*"});
        *resource != indexes && text.contains('*')
    }

    #[test]
    fn the_operator_policy_grants_what_the_cli_needs_on_the_stacks_own_resources() {
        let history = history_table();
        let indexes = json!({"Fn::Sub": "${HistoryTable.Arn}/index/*"});
        let queue = json!({"Fn::GetAtt": ["EventsQueue", "Arn"]});
        let dlq = json!({"Fn::GetAtt": ["EventsDeadLetterQueue", "Arn"]});
        let events_table = json!({"Fn::GetAtt": ["EventsTable", "Arn"]});
        let stack_id = json!({"Ref": "AWS::StackId"});
        // What each action is for, on what, with what condition.
        let expected: Vec<(&str, Vec<Value>)> = vec![
            // `hookline urls` and every command: the stack's outputs.
            ("cloudformation:DescribeStacks", vec![stack_id]),
            // `hookline events` and `replay`: listing by index, bodies by key.
            ("dynamodb:Query", vec![history.clone(), indexes.clone()]),
            ("dynamodb:BatchGetItem", vec![history.clone(), indexes]),
            // `replay`: the mark on each occurrence it sent.
            ("dynamodb:UpdateItem", vec![history.clone()]),
            // `replay` and `redrive`: back into the events queue.
            ("sqs:SendMessage", vec![queue.clone()]),
            // `redrive` and `dlq`: the dead-letter queue's messages; `dlq` makes what it
            // looked at visible again.
            ("sqs:ReceiveMessage", vec![dlq.clone()]),
            ("sqs:DeleteMessage", vec![dlq.clone()]),
            ("sqs:ChangeMessageVisibility", vec![dlq.clone()]),
            ("sqs:GetQueueAttributes", vec![dlq]),
            // `identities get` and `forget`: the identity's record.
            ("dynamodb:GetItem", vec![identities_table()]),
            ("dynamodb:DeleteItem", vec![identities_table()]),
            // `identities list` and `export`: a provider's identities, by scan.
            ("dynamodb:Scan", vec![identities_table()]),
            // `forget`: the identity's history, its events' dedup records (read for a dry run).
            ("dynamodb:DeleteItem", vec![history.clone()]),
            ("dynamodb:GetItem", vec![events_table.clone()]),
            ("dynamodb:DeleteItem", vec![events_table]),
            // `forget`: how many messages still wait in the queue, and the `forgotten` event.
            ("sqs:GetQueueAttributes", vec![queue.clone()]),
            ("events:PutEvents", vec![change_event_bus()]),
            // `secrets`: each provider's webhook secret read (status) and put (set, rotate,
            // drop-old); never the enricher's credentials.
            ("secretsmanager:DescribeSecret", webhook_secrets_list()),
            ("secretsmanager:GetSecretValue", webhook_secrets_list()),
            ("secretsmanager:PutSecretValue", webhook_secrets_list()),
            // `changes replay`: the stack's archive, the replays it starts, the rule it names.
            (
                "events:DescribeArchive",
                vec![json!({"Fn::GetAtt": ["ChangeEventsArchive", "Arn"]})],
            ),
            (
                "events:StartReplay",
                vec![json!({"Fn::GetAtt": ["ChangeEventsArchive", "Arn"]})],
            ),
            (
                "events:DescribeReplay",
                vec![
                    json!({"Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:replay/hookline-*"}),
                ],
            ),
            (
                "events:DescribeRule",
                vec![json!({"Fn::If": ["CreatesEventBus",
                {"Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/${ChangeEventBus.Name}/*"},
                {"Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/${EventBusName}/*"}]})],
            ),
        ];
        // The only wildcards: names the CLI learns at run time, to describe them.
        let by_prefix = ["events:DescribeReplay", "events:DescribeRule"];
        let statements = operator_statements();
        let mut granted: Vec<(String, Vec<Value>)> = Vec::new();
        for statement in &statements {
            let what = statement.to_string();
            assert_eq!(statement["Effect"], "Allow", "{what}");
            for forbidden in ["NotAction", "NotResource", "Principal"] {
                assert!(statement.get(forbidden).is_none(), "{what}: {forbidden}");
            }
            let resources = resources_of(statement);
            let described_by_prefix = actions(statement)
                .iter()
                .all(|action| by_prefix.contains(&action.as_str()));
            assert!(
                described_by_prefix || !resources.iter().any(wildcards),
                "{what}: a wildcard"
            );
            for action in actions(statement) {
                assert!(!action.contains('*'), "{what}: a wildcard action");
                let condition = statement.get("Condition");
                if action == "dynamodb:UpdateItem" {
                    assert_update_limited_to_replay_marks(condition, &what);
                } else if action == "events:PutEvents" {
                    // change_events_can_be_published_only_by_their_writer
                } else {
                    assert!(condition.is_none(), "{what}: a condition on {action}");
                }
                granted.push((action, resources.clone()));
            }
        }
        let order = |a: &(String, Vec<Value>)| (a.0.clone(), json!(a.1).to_string());
        granted.sort_by_key(order);
        let mut expected: Vec<(String, Vec<Value>)> = expected
            .into_iter()
            .map(|(a, r)| (a.to_string(), r))
            .collect();
        expected.sort_by_key(order);
        assert_eq!(granted, expected, "the operator's policy");
    }

    /// UpdateItem on the history is the replay mark and nothing else: every attribute the
    /// request touches is the item's key or `replays`, so an operator's CLI can never rewrite a
    /// kept message or its expiry.
    fn assert_update_limited_to_replay_marks(condition: Option<&Value>, what: &str) {
        let condition = condition
            .and_then(Value::as_object)
            .unwrap_or_else(|| panic!("{what}: UpdateItem without a condition"));
        assert_eq!(condition.len(), 1, "{what}");
        let equals = condition["ForAllValues:StringEquals"]
            .as_object()
            .unwrap_or_else(|| panic!("{what}: not ForAllValues:StringEquals"));
        assert_eq!(equals.len(), 1, "{what}");
        let attributes: BTreeSet<&str> = equals["dynamodb:Attributes"]
            .as_array()
            .unwrap_or_else(|| panic!("{what}: no dynamodb:Attributes"))
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(
            attributes,
            BTreeSet::from(["event_id", "received_at", "replays"]),
            "{what}"
        );
    }

    #[test]
    fn only_the_enricher_writes_the_history() {
        let history = history_table();
        let naming_history: Vec<(String, Value)> = roles()
            .into_iter()
            .flat_map(|role| {
                role.statements
                    .into_iter()
                    .map(move |statement| (role.binary.clone(), statement))
            })
            .filter(|(_, statement)| {
                resources_of(statement)
                    .iter()
                    .any(|r| r.to_string().contains("HistoryTable"))
            })
            .collect();
        assert_eq!(naming_history.len(), 1, "{naming_history:?}");
        let (binary, statement) = &naming_history[0];
        assert_eq!(binary, "enricher");
        // An update (a redelivery keeps the occurrence's replay marks), on the table only: no
        // read, no put, no delete, no index.
        assert_eq!(actions(statement), ["dynamodb:UpdateItem"], "{statement}");
        assert_eq!(statement["Resource"], history, "{statement}");
        assert!(statement.get("Condition").is_none(), "{statement}");
        // And the enricher's environment names the table it may write.
        assert_eq!(
            stack::environment_of("EnricherFunction")["HISTORY_TABLE"],
            json!({"Ref": "HistoryTable"})
        );
    }
}
