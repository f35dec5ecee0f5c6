//! What only AWS enforces, checked on the transformed template (the SAM translator's output,
//! `HOOKLINE_STACK_TEMPLATE` with the resources moto cannot create kept beside it).
//!
//! moto creates a stack whatever its function URL permissions, batch sizes, visibility timeouts,
//! alarm metrics or retention policies say; AWS does not. Each row of [`RULES`] is one such rule,
//! named with the AWS documentation that states it, and returns what breaks it. RELIABILITY.md
//! lists the rows. The template's `Rules` and parameter constraints, which no offline tool
//! evaluates, are evaluated here on the combinations a deploy must refuse and accept.

use hookline::metrics::NAMES;
use hookline::providers::Midbound;
use hookline::{Config, Provider};
use integration_tests::stack::{self, scalar};
use serde_json::{json, Map, Value};
use std::collections::{BTreeSet, HashMap};

type Resources = Map<String, Value>;

struct AwsRule {
    name: &'static str,
    source: &'static str,
    check: fn(&Resources) -> Vec<String>,
}

const RULES: &[AwsRule] = &[
    AwsRule {
        name: "a public function URL has both invoke permissions",
        source: "AWS Lambda developer guide, \"Control access to Lambda function URLs\": since \
                 October 2025 AuthType NONE needs lambda:InvokeFunctionUrl and \
                 lambda:InvokeFunction (InvokedViaFunctionUrl) for Principal *",
        check: function_url_permission_pair,
    },
    AwsRule {
        name: "the enricher's queue hides a message for six times the enricher's timeout",
        source: "AWS Lambda developer guide, \"Using Lambda with Amazon SQS\": set the source \
                 queue's visibility timeout to at least six times the function's timeout",
        check: visibility_timeout_covers_six_timeouts,
    },
    AwsRule {
        name: "the event source's batch size, window and concurrency stay within Lambda's bounds",
        source: "AWS Lambda developer guide, \"Using Lambda with Amazon SQS\" (batch size at most \
                 10 for FIFO, above 10 only with a batching window) and the Lambda API reference, \
                 ScalingConfig (MaximumConcurrency 2 to 1000)",
        check: event_source_within_lambda_bounds,
    },
    AwsRule {
        name: "every alarm watches a metric a resource of the stack emits",
        source: "Amazon CloudWatch user guide, \"Using Amazon CloudWatch alarms\": an alarm on a \
                 metric or dimension nobody publishes never leaves OK or INSUFFICIENT_DATA; the \
                 SQS and Lambda metric lists (\"Available CloudWatch metrics for Amazon SQS\", \
                 \"Types of metrics for Lambda functions\")",
        check: alarms_watch_emitted_metrics,
    },
    AwsRule {
        name: "every dashboard widget names a resource of the stack",
        source: "Amazon CloudWatch user guide, \"Dashboard body structure and syntax\": a widget \
                 naming another function, queue or log group shows nothing",
        check: dashboard_names_only_the_stacks_resources,
    },
    AwsRule {
        name: "nothing a parameter change replaces holds data without a retention policy",
        source: "AWS CloudFormation user guide, \"UpdateReplacePolicy attribute\" and the \
                 resource references' \"Update requires: Replacement\" (SQS QueueName, FifoQueue; \
                 DynamoDB TableName, KeySchema; Secrets Manager Name; Logs LogGroupName; \
                 EventBridge Name)",
        check: replaced_data_is_retained,
    },
    AwsRule {
        name: "a default deploy reserves no concurrency",
        source: "AWS Lambda developer guide, \"Configuring reserved concurrency\": Lambda keeps \
                 at least 100 of the account's concurrency unreserved, so in an account with \
                 the new-account quota of 10 any reservation fails the deploy",
        check: no_reserved_concurrency_by_default,
    },
];

#[test]
fn the_template_keeps_the_aws_rules_the_emulator_does_not_enforce() {
    let resources = stack::transformed_resources();
    let mut broken = Vec::new();
    for rule in RULES {
        for problem in (rule.check)(&resources) {
            broken.push(format!("{}: {problem}\n    ({})", rule.name, rule.source));
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

// ---- The rows

fn function_url_permission_pair(resources: &Resources) -> Vec<String> {
    let mut problems = Vec::new();
    let urls = of_type(resources, "AWS::Lambda::Url");
    if urls.is_empty() {
        problems.push("no function URL in the template".to_string());
    }
    for (url_id, url) in urls {
        if url["Properties"]["AuthType"] != "NONE" {
            continue;
        }
        let function = stack::url_target(url);
        let permissions: Vec<&Value> = of_type(resources, "AWS::Lambda::Permission")
            .into_iter()
            .map(|(_, p)| p)
            .filter(|p| p["Properties"]["FunctionName"] == function)
            .filter(|p| p["Properties"]["Principal"] == "*")
            .filter(|p| p.get("Condition") == url.get("Condition"))
            .collect();
        let url_permission = permissions.iter().any(|p| {
            p["Properties"]["Action"] == "lambda:InvokeFunctionUrl"
                && p["Properties"]["FunctionUrlAuthType"] == "NONE"
        });
        let invoke_permission = permissions.iter().any(|p| {
            p["Properties"]["Action"] == "lambda:InvokeFunction"
                && p["Properties"]["InvokedViaFunctionUrl"] == json!(true)
        });
        if !url_permission {
            problems.push(format!(
                "{url_id}: no lambda:InvokeFunctionUrl permission for *"
            ));
        }
        if !invoke_permission {
            problems.push(format!(
                "{url_id}: no lambda:InvokeFunction permission with InvokedViaFunctionUrl: every \
                 request is answered 403"
            ));
        }
    }
    problems
}

fn visibility_timeout_covers_six_timeouts(resources: &Resources) -> Vec<String> {
    let mut problems = Vec::new();
    for (id, mapping) in of_type(resources, "AWS::Lambda::EventSourceMapping") {
        let (Some(queue), Some(function)) = (
            referenced_id(&mapping["Properties"]["EventSourceArn"]),
            referenced_id(&mapping["Properties"]["FunctionName"]),
        ) else {
            problems.push(format!("{id}: queue or function not named by the template"));
            continue;
        };
        let visibility = resources[&queue]["Properties"]["VisibilityTimeout"]
            .as_i64()
            .unwrap_or(30);
        let timeout = resources[&function]["Properties"]["Timeout"]
            .as_i64()
            .unwrap_or(3);
        if visibility < 6 * timeout {
            problems.push(format!(
                "{queue} hides a message {visibility} s, less than six times {function}'s \
                 {timeout} s timeout"
            ));
        }
    }
    problems
}

fn event_source_within_lambda_bounds(resources: &Resources) -> Vec<String> {
    let template = stack::template();
    let mut problems = Vec::new();
    for (id, mapping) in of_type(resources, "AWS::Lambda::EventSourceMapping") {
        let properties = &mapping["Properties"];
        if properties["BatchSize"] != json!({"Ref": "EnricherBatchSize"}) {
            problems.push(format!(
                "{id}: BatchSize is not EnricherBatchSize, which the Rules below bound"
            ));
        }
        let concurrency = &properties["ScalingConfig"]["MaximumConcurrency"];
        match concurrency["Ref"].as_str() {
            Some(name) => {
                let parameter = &template["Parameters"][name];
                let bound = |key: &str| {
                    parameter[key]
                        .as_i64()
                        .or_else(|| parameter[key].as_str()?.parse().ok())
                };
                if bound("MinValue").is_none_or(|min| min < 2)
                    || bound("MaxValue").is_none_or(|max| max > 1000)
                {
                    problems.push(format!("{id}: {name} is not bounded to 2..1000"));
                }
            }
            None => problems.push(format!(
                "{id}: MaximumConcurrency {concurrency} is not a bounded parameter"
            )),
        }
    }
    for (given, refused_by) in [
        (
            vec![("QueueType", "fifo"), ("EnricherBatchSize", "11")],
            "FifoQueueBatchSize",
        ),
        (
            vec![
                ("EnricherBatchingWindowSeconds", "0"),
                ("EnricherBatchSize", "11"),
            ],
            "BatchSizeNeedsAWindow",
        ),
    ] {
        let mut parameters = given.clone();
        parameters.push(("AlertEmail", "ops@example.com"));
        if deploy_check(&parameters).err().as_deref() != Some(refused_by) {
            problems.push(format!("{given:?} is not refused by the rule {refused_by}"));
        }
    }
    problems
}

/// The AWS metrics each namespace's alarms may read, by the dimension naming the resource and
/// the resource type that dimension must name.
const AWS_NAMESPACES: [(&str, &str, &str, &[&str]); 2] = [
    (
        "AWS/SQS",
        "QueueName",
        "AWS::SQS::Queue",
        &[
            "ApproximateNumberOfMessagesVisible",
            "ApproximateAgeOfOldestMessage",
        ],
    ),
    (
        "AWS/Lambda",
        "FunctionName",
        "AWS::Lambda::Function",
        &["Errors", "Throttles", "Duration"],
    ),
];

fn alarms_watch_emitted_metrics(resources: &Resources) -> Vec<String> {
    let own_namespace = json!({"Fn::Sub": "hookline/${AWS::StackName}"});
    let filtered: BTreeSet<String> = of_type(resources, "AWS::Logs::MetricFilter")
        .into_iter()
        .flat_map(|(_, f)| {
            f["Properties"]["MetricTransformations"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter(|t| t["MetricNamespace"] == own_namespace)
        .filter_map(|t| t["MetricName"].as_str().map(str::to_string))
        .collect();
    let mut problems = Vec::new();
    let alarms = of_type(resources, "AWS::CloudWatch::Alarm");
    if alarms.is_empty() {
        problems.push("no alarm in the template".to_string());
    }
    for (id, alarm) in alarms {
        for metric in alarm_metrics(&alarm["Properties"]) {
            let name = metric["MetricName"].as_str().unwrap_or_default();
            let namespace = &metric["Namespace"];
            if *namespace == own_namespace {
                if !NAMES.contains(&name) && !filtered.contains(name) {
                    problems.push(format!(
                        "{id}: {name} is written by no function and no metric filter"
                    ));
                }
                continue;
            }
            let Some((_, dimension, kind, names)) =
                AWS_NAMESPACES.iter().find(|(ns, ..)| namespace == ns)
            else {
                problems.push(format!(
                    "{id}: namespace {namespace} is not one the stack publishes to"
                ));
                continue;
            };
            if !names.contains(&name) {
                problems.push(format!(
                    "{id}: {namespace} {name} is not a metric read here"
                ));
            }
            let dimensions = metric["Dimensions"].as_array().cloned().unwrap_or_default();
            let named = dimensions
                .iter()
                .find(|d| d["Name"] == *dimension)
                .and_then(|d| referenced_id(&d["Value"]));
            match named {
                Some(target) if resources.get(&target).is_some_and(|r| r["Type"] == *kind) => {}
                _ => problems.push(format!(
                    "{id}: {name}'s {dimension} dimension names no {kind} of the stack"
                )),
            }
        }
    }
    problems
}

fn dashboard_names_only_the_stacks_resources(resources: &Resources) -> Vec<String> {
    let template = stack::template();
    let mut problems = Vec::new();
    for (id, dashboard) in of_type(resources, "AWS::CloudWatch::Dashboard") {
        let body = &dashboard["Properties"]["DashboardBody"]["Fn::Sub"];
        let (text, variables) = match body {
            Value::Array(parts) => (
                parts[0].as_str().unwrap_or_default(),
                parts[1].as_object().cloned().unwrap_or_default(),
            ),
            other => (other.as_str().unwrap_or_default(), Map::new()),
        };
        let referenced = sub_names(text);
        if !referenced.iter().any(|r| r.ends_with(".QueueName")) {
            problems.push(format!("{id}: names no queue (the body was not read)"));
        }
        for name in referenced {
            let resource = name.split('.').next().unwrap_or_default();
            let known = variables.contains_key(&name)
                || name.starts_with("AWS::")
                || template["Parameters"].get(&name).is_some()
                || resources.contains_key(resource);
            if !known {
                problems.push(format!("{id}: ${{{name}}} names nothing in the stack"));
            }
        }
    }
    problems
}

/// Per data-holding type, the properties whose change replaces the resource.
const REPLACED_BY: [(&str, &[&str]); 5] = [
    ("AWS::SQS::Queue", &["QueueName", "FifoQueue"]),
    ("AWS::DynamoDB::Table", &["TableName", "KeySchema"]),
    ("AWS::SecretsManager::Secret", &["Name"]),
    ("AWS::Logs::LogGroup", &["LogGroupName"]),
    ("AWS::Events::EventBus", &["Name"]),
];

fn replaced_data_is_retained(resources: &Resources) -> Vec<String> {
    let template = stack::template();
    let parameters: BTreeSet<String> = template["Parameters"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    let mut problems = Vec::new();
    for (kind, replacing) in REPLACED_BY {
        for (id, resource) in of_type(resources, kind) {
            if resource["UpdateReplacePolicy"] == "Retain" && resource["DeletionPolicy"] == "Retain"
            {
                continue;
            }
            for property in replacing {
                let value = &resource["Properties"][*property];
                if depends_on_parameters(value, &parameters) {
                    problems.push(format!(
                        "{id}: a parameter change to {property} replaces it, and it has no \
                         Retain policy: its data would be deleted"
                    ));
                }
            }
        }
    }
    problems
}

fn no_reserved_concurrency_by_default(resources: &Resources) -> Vec<String> {
    let template = stack::template();
    let mut problems = Vec::new();
    for (id, function) in of_type(resources, "AWS::Lambda::Function") {
        let reserved = &function["Properties"]["ReservedConcurrentExecutions"];
        if reserved.is_null() {
            continue;
        }
        let Some([condition, value, otherwise]) =
            reserved["Fn::If"].as_array().map(|a| a.as_slice())
        else {
            problems.push(format!("{id}: reserves {reserved} unconditionally"));
            continue;
        };
        let parameter = value["Ref"].as_str().unwrap_or_default();
        let default = scalar(&template["Parameters"][parameter]["Default"]);
        let holds = json!({"Fn::Not": [{"Fn::Equals": [{"Ref": parameter}, default.clone().unwrap_or_default()]}]});
        if otherwise != &json!({"Ref": "AWS::NoValue"})
            || template["Conditions"][condition.as_str().unwrap_or_default()] != holds
            || default.as_deref() != Some("0")
        {
            problems.push(format!(
                "{id}: {reserved} may reserve concurrency when {parameter} is left at its default"
            ));
        }
    }
    problems
}

// ---- The template's Rules and parameter constraints, as CloudFormation evaluates them

/// What a deploy with `given` (the rest at their defaults) meets before anything is created:
/// `Ok(())`, or the name of the parameter constraint or rule that refuses it.
fn deploy_check(given: &[(&str, &str)]) -> Result<(), String> {
    let template = stack::template();
    let declared = template["Parameters"].as_object().expect("Parameters");
    // The values a stack would get: the given ones, the template's defaults for the rest.
    let given: HashMap<String, String> = given
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let values = stack::Resolver::new("rules", &given, HashMap::new(), "123456789012", "us-east-1")
        .parameters;
    for (name, parameter) in declared {
        let value = values.get(name).cloned().unwrap_or_default();
        constraint_refusal(parameter, &value).map_or(Ok(()), |c| Err(format!("{name} {c}")))?;
    }
    for (name, rule) in template["Rules"].as_object().into_iter().flatten() {
        if let Some(condition) = rule.get("RuleCondition") {
            if !truth(&evaluate(condition, &values)) {
                continue;
            }
        }
        for assertion in rule["Assertions"].as_array().into_iter().flatten() {
            if !truth(&evaluate(&assertion["Assert"], &values)) {
                return Err(name.clone());
            }
        }
    }
    Ok(())
}

/// Which of AllowedValues, MinValue and MaxValue `value` breaks, if any.
fn constraint_refusal(parameter: &Value, value: &str) -> Option<&'static str> {
    if let Some(allowed) = parameter["AllowedValues"].as_array() {
        if !allowed.iter().any(|a| scalar(a).as_deref() == Some(value)) {
            return Some("AllowedValues");
        }
    }
    if parameter["Type"] == "Number" {
        let number: f64 = value.parse().ok()?;
        let bound = |key: &str| scalar(parameter.get(key)?)?.parse::<f64>().ok();
        if bound("MinValue").is_some_and(|min| number < min) {
            return Some("MinValue");
        }
        if bound("MaxValue").is_some_and(|max| number > max) {
            return Some("MaxValue");
        }
    }
    None
}

/// The rule functions a template's `Rules` use (CloudFormation user guide, "Rule functions"):
/// parameter values are strings, and so are the results compared.
fn evaluate(expression: &Value, values: &HashMap<String, String>) -> Value {
    let Some((function, arguments)) = expression.as_object().and_then(|o| o.iter().next()) else {
        return expression.clone();
    };
    let all = |args: &Value| -> Vec<Value> {
        args.as_array()
            .into_iter()
            .flatten()
            .map(|a| evaluate(a, values))
            .collect()
    };
    match function.as_str() {
        "Ref" => json!(values
            .get(arguments.as_str().unwrap_or_default())
            .cloned()
            .unwrap_or_default()),
        "Fn::Equals" => {
            let pair = all(arguments);
            json!(scalar(&pair[0]) == scalar(&pair[1]))
        }
        "Fn::Not" => json!(!truth(&all(arguments)[0])),
        "Fn::And" => json!(all(arguments).iter().all(truth)),
        "Fn::Or" => json!(all(arguments).iter().any(truth)),
        "Fn::Contains" => {
            let pair = all(arguments);
            let wanted = scalar(&pair[1]);
            json!(pair[0]
                .as_array()
                .into_iter()
                .flatten()
                .any(|v| scalar(v) == wanted))
        }
        other => panic!("rule function {other} is not evaluated by this test: add it"),
    }
}

fn truth(value: &Value) -> bool {
    value
        .as_bool()
        .unwrap_or_else(|| panic!("{value} is not a condition"))
}

/// The parameter combinations a first deploy must meet: refused ones name what refuses them.
/// Parameters given (the rest at their defaults), and what refuses them, if anything.
type Combination = (
    &'static [(&'static str, &'static str)],
    Option<&'static str>,
);

const COMBINATIONS: &[Combination] = &[
    (&[], Some("AlarmsReachSomeone")),
    (&[("AlertEmail", "ops@example.com")], None),
    (
        &[("AlarmTopicArn", "arn:aws:sns:us-east-1:123456789012:ops")],
        None,
    ),
    (&[("AlarmsNotifyNobody", "true")], None),
    (
        &[
            ("AlarmsNotifyNobody", "true"),
            ("QueueType", "fifo"),
            ("EnricherBatchSize", "10"),
            ("EnricherBatchingWindowSeconds", "0"),
        ],
        None,
    ),
    (
        &[
            ("AlarmsNotifyNobody", "true"),
            ("QueueType", "fifo"),
            ("EnricherBatchSize", "11"),
        ],
        Some("FifoQueueBatchSize"),
    ),
    (
        &[
            ("AlarmsNotifyNobody", "true"),
            ("EnricherBatchSize", "100"),
            ("EnricherBatchingWindowSeconds", "1"),
        ],
        None,
    ),
    (
        &[
            ("AlarmsNotifyNobody", "true"),
            ("EnricherBatchSize", "100"),
            ("EnricherBatchingWindowSeconds", "0"),
        ],
        Some("BatchSizeNeedsAWindow"),
    ),
    (
        &[
            ("AlarmsNotifyNobody", "true"),
            ("EnricherBatchSize", "101"),
            ("EnricherBatchingWindowSeconds", "1"),
        ],
        Some("EnricherBatchSize MaxValue"),
    ),
    (
        &[
            ("AlarmsNotifyNobody", "true"),
            ("MidboundDedupRetentionSeconds", "7200"),
            ("MidboundToleranceSeconds", "3600"),
        ],
        Some("MidboundDedupRetentionSeconds MinValue"),
    ),
    (
        &[
            ("AlarmsNotifyNobody", "true"),
            ("MidboundDedupRetentionSeconds", "7201"),
            ("MidboundToleranceSeconds", "3600"),
        ],
        None,
    ),
    (
        &[
            ("AlarmsNotifyNobody", "true"),
            ("MidboundToleranceSeconds", "3601"),
        ],
        Some("MidboundToleranceSeconds MaxValue"),
    ),
    (
        &[
            ("AlarmsNotifyNobody", "true"),
            ("EventsTableWarmWriteUnits", "1000"),
        ],
        Some("EventsTableWarmWriteUnits AllowedValues"),
    ),
    (
        &[
            ("AlarmsNotifyNobody", "true"),
            ("EventsTableWarmWriteUnits", "5000"),
        ],
        None,
    ),
    (
        &[("AlarmsNotifyNobody", "true"), ("LogLevel", "TRACE")],
        Some("LogLevel AllowedValues"),
    ),
    (
        &[("AlarmsNotifyNobody", "true"), ("EventBusName", "default")],
        Some("NotTheDefaultBus"),
    ),
    (
        &[
            ("AlarmsNotifyNobody", "true"),
            ("EventBusName", "identities"),
        ],
        None,
    ),
    (
        &[
            ("AlarmsNotifyNobody", "true"),
            ("CustomDomainName", "webhooks.example.com"),
            ("CustomDomainCertificateArn", CERTIFICATE),
        ],
        None,
    ),
    (
        &[
            ("AlarmsNotifyNobody", "true"),
            ("CustomDomainName", "webhooks.example.com"),
            ("CustomDomainCertificateArn", CERTIFICATE),
            ("CustomDomainHostedZoneId", "Z0123456789ABCDEFGHIJ"),
        ],
        None,
    ),
    (
        &[
            ("AlarmsNotifyNobody", "true"),
            ("CustomDomainName", "webhooks.example.com"),
        ],
        Some("CustomDomainNeedsHttpApiAndCertificate"),
    ),
    (
        &[
            ("AlarmsNotifyNobody", "true"),
            ("EndpointType", "function-url"),
            ("CustomDomainName", "webhooks.example.com"),
            ("CustomDomainCertificateArn", CERTIFICATE),
        ],
        Some("CustomDomainNeedsHttpApiAndCertificate"),
    ),
    (
        &[
            ("AlarmsNotifyNobody", "true"),
            ("CustomDomainCertificateArn", CERTIFICATE),
        ],
        Some("CustomDomainSettingsNeedAName"),
    ),
    (
        &[
            ("AlarmsNotifyNobody", "true"),
            ("CustomDomainHostedZoneId", "Z0123456789ABCDEFGHIJ"),
        ],
        Some("CustomDomainSettingsNeedAName"),
    ),
];

const CERTIFICATE: &str =
    "arn:aws:acm:us-east-1:123456789012:certificate/0f0e0d0c-0b0a-4999-8888-777766665555";

#[test]
fn a_combination_that_would_fail_after_deploying_is_refused_before() {
    let mut wrong = Vec::new();
    for (given, expected) in COMBINATIONS {
        let got = deploy_check(given).err();
        if got.as_deref() != *expected {
            wrong.push(format!("{given:?}: expected {expected:?}, got {got:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Every Midbound retention the parameters accept outlives twice every tolerance they accept:
/// the function starts (its own check, `Config::retention_for`) on each accepted extreme.
#[test]
fn the_midbound_function_starts_on_every_accepted_retention_and_tolerance() {
    let parameters = &stack::template()["Parameters"];
    let bound = |name: &str, key: &str| scalar(&parameters[name][key]).expect(key);
    let shortest = bound("MidboundDedupRetentionSeconds", "MinValue");
    for tolerance in [
        bound("MidboundToleranceSeconds", "MinValue"),
        bound("MidboundToleranceSeconds", "MaxValue"),
    ] {
        let env = HashMap::from([
            ("WEBHOOK_TOLERANCE_SECONDS", tolerance.as_str()),
            ("DEDUP_RETENTION_SECONDS", shortest.as_str()),
            ("EVENTS_TABLE", "t"),
            ("EVENTS_QUEUE_URL", "q"),
            ("WEBHOOK_SECRETS", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        ]);
        let config = Config::from_lookup(|name: &str| env.get(name).map(|v| v.to_string()))
            .unwrap_or_else(|e| panic!("tolerance {tolerance}: {e}"));
        // What the verifier's replay window is: the tolerance the function was given.
        let replay_window = config.auth.tolerance_seconds;
        assert_eq!(replay_window, Some(tolerance.parse().unwrap()));
        config
            .retention_for(Midbound::DEFAULT_RETENTION_SECONDS, replay_window)
            .unwrap_or_else(|e| panic!("retention {shortest}, tolerance {tolerance}: {e}"));
    }
}

// ---- Each row can fail

#[test]
fn a_function_url_with_only_the_url_permission_is_found() {
    let resources: Resources = serde_json::from_value(json!({
        "Url": {"Type": "AWS::Lambda::Url", "Condition": "C",
                "Properties": {"AuthType": "NONE", "TargetFunctionArn": {"Ref": "F"}}},
        "UrlPermission": {"Type": "AWS::Lambda::Permission", "Condition": "C",
                "Properties": {"Action": "lambda:InvokeFunctionUrl", "FunctionUrlAuthType": "NONE",
                               "FunctionName": {"Ref": "F"}, "Principal": "*"}}
    }))
    .unwrap();
    let problems = function_url_permission_pair(&resources);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("InvokedViaFunctionUrl"));
}

#[test]
fn a_short_visibility_timeout_and_an_unretained_queue_are_found() {
    let resources: Resources = serde_json::from_value(json!({
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {
            "VisibilityTimeout": 300,
            "FifoQueue": {"Fn::If": ["IsFifo", true, {"Ref": "AWS::NoValue"}]}}},
        "Function": {"Type": "AWS::Lambda::Function", "Properties": {"Timeout": 60}},
        "Mapping": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {
            "EventSourceArn": {"Fn::GetAtt": ["Queue", "Arn"]}, "FunctionName": {"Ref": "Function"}}}
    }))
    .unwrap();
    assert_eq!(visibility_timeout_covers_six_timeouts(&resources).len(), 1);
    let problems = replaced_data_is_retained(&resources);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with("Queue: a parameter change to FifoQueue"));
}

#[test]
fn an_alarm_on_a_metric_nobody_writes_is_found() {
    let resources: Resources = serde_json::from_value(json!({
        "Queue": {"Type": "AWS::SQS::Queue"},
        "Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "Namespace": "AWS/SQS", "MetricName": "NumberOfMessagesSent",
            "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["Other", "QueueName"]}}]}},
        "Ours": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "Namespace": {"Fn::Sub": "hookline/${AWS::StackName}"}, "MetricName": "Nothing"}}
    }))
    .unwrap();
    let problems = alarms_watch_emitted_metrics(&resources);
    assert_eq!(problems.len(), 3, "{problems:?}");
}

#[test]
fn the_rule_functions_evaluate_as_cloudformation_does() {
    let values = HashMap::from([("A".to_string(), "5".to_string())]);
    let contains = json!({"Fn::Contains": [["1", "5"], {"Ref": "A"}]});
    assert!(truth(&evaluate(&contains, &values)));
    let absent = json!({"Fn::Not": [{"Fn::Contains": [["1", "2"], {"Ref": "A"}]}]});
    assert!(truth(&evaluate(&absent, &values)));
    let either =
        json!({"Fn::Or": [{"Fn::Equals": [{"Ref": "A"}, "6"]}, {"Fn::Equals": ["x", "x"]}]});
    assert!(truth(&evaluate(&either, &values)));
    let both = json!({"Fn::And": [{"Fn::Equals": [{"Ref": "A"}, 5]}, {"Fn::Equals": ["x", "y"]}]});
    assert!(!truth(&evaluate(&both, &values)));
    let number =
        json!({"Type": "Number", "MinValue": 2, "MaxValue": "10", "AllowedValues": [2, 5, 11]});
    assert_eq!(constraint_refusal(&number, "5"), None);
    assert_eq!(constraint_refusal(&number, "3"), Some("AllowedValues"));
    assert_eq!(constraint_refusal(&number, "11"), Some("MaxValue"));
}

// ---- Template reading

fn of_type<'a>(resources: &'a Resources, kind: &str) -> Vec<(&'a String, &'a Value)> {
    resources
        .iter()
        .filter(|(_, r)| r["Type"] == kind)
        .collect()
}

/// The logical id a `Ref`, `Fn::GetAtt` or a `Fn::Sub` of one `${Id}` / `${Id.Attr}` names.
fn referenced_id(value: &Value) -> Option<String> {
    if let Some(id) = value["Ref"].as_str() {
        return Some(id.to_string());
    }
    if let Some(id) = value["Fn::GetAtt"][0].as_str() {
        return Some(id.to_string());
    }
    let text = value["Fn::Sub"].as_str()?;
    let name = text.strip_prefix("${")?.strip_suffix('}')?;
    Some(name.split('.').next()?.to_string())
}

/// The metrics an alarm reads: its own `MetricName`, or each `MetricStat` of its math.
fn alarm_metrics(properties: &Value) -> Vec<Value> {
    if properties.get("MetricName").is_some() {
        return vec![properties.clone()];
    }
    properties["Metrics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m.get("MetricStat").map(|s| s["Metric"].clone()))
        .collect()
}

/// The `${...}` names in a `Fn::Sub` string (`${!Literal}` is not one).
fn sub_names(text: &str) -> Vec<String> {
    text.split("${")
        .skip(1)
        .filter(|piece| !piece.starts_with('!'))
        .filter_map(|piece| piece.split('}').next().map(str::to_string))
        .collect()
}

fn depends_on_parameters(value: &Value, parameters: &BTreeSet<String>) -> bool {
    match value {
        Value::Object(o) => {
            o.get("Ref")
                .and_then(Value::as_str)
                .is_some_and(|r| parameters.contains(r))
                || o.contains_key("Fn::If")
                || o.values().any(|v| depends_on_parameters(v, parameters))
        }
        Value::Array(a) => a.iter().any(|v| depends_on_parameters(v, parameters)),
        _ => false,
    }
}

// ---- Each alarm as docs/operations.md promises it

/// An alarm as CloudWatch evaluates it: what it reads (`namespace metric statistic/period`,
/// `hookline` for the stack's own namespace, with a `Provider` dimension when it has one), the
/// math over it, the threshold, comparison, periods and missing-data treatment.
fn alarm_signature(alarm: &Value) -> String {
    let properties = &alarm["Properties"];
    let read = |metric: &Value, stat: &Value, period: &Value| {
        let namespace = match &metric["Namespace"] {
            Value::String(s) => s.clone(),
            _ => "hookline".to_string(),
        };
        let provider = metric["Dimensions"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|d| d["Name"] == "Provider")
            .map(|d| format!(" Provider={}", d["Value"].as_str().unwrap_or_default()))
            .unwrap_or_default();
        format!(
            "{namespace} {}{provider} {}/{period}",
            metric["MetricName"].as_str().unwrap_or_default(),
            stat.as_str().unwrap_or_default()
        )
    };
    let mut parts: Vec<String> = Vec::new();
    if properties.get("MetricName").is_some() {
        parts.push(read(
            properties,
            &properties["Statistic"],
            &properties["Period"],
        ));
    }
    for metric in properties["Metrics"].as_array().into_iter().flatten() {
        if let Some(stat) = metric.get("MetricStat") {
            parts.push(read(&stat["Metric"], &stat["Stat"], &stat["Period"]));
        }
        if let Some(expression) = metric["Expression"].as_str() {
            parts.push(format!("= {expression}"));
        }
    }
    let scalar_or_ref =
        |v: &Value| scalar(v).unwrap_or_else(|| v["Ref"].as_str().unwrap_or("?").to_string());
    parts.push(format!(
        "{} {} over {}; missing {}",
        properties["ComparisonOperator"]
            .as_str()
            .unwrap_or_default(),
        scalar_or_ref(&properties["Threshold"]),
        scalar_or_ref(&properties["EvaluationPeriods"]),
        properties["TreatMissingData"].as_str().unwrap_or_default()
    ));
    parts.join("; ")
}

/// The webhook functions' binaries (one per provider), then `others`.
fn functions(others: &[&'static str]) -> Vec<&'static str> {
    hookline::providers::names()
        .chain(others.iter().copied())
        .collect()
}

/// What the alarm table and runbook (docs/operations.md) say of each alarm, as signatures.
fn documented_alarms() -> Vec<(String, String)> {
    let lambda_sum = |metric: &str, functions: &[&str]| -> String {
        let mut parts: Vec<String> = functions
            .iter()
            .map(|_| format!("AWS/Lambda {metric} Sum/300"))
            .collect();
        let sum: Vec<String> = functions.iter().map(|f| format!("FILL({f},0)")).collect();
        parts.push(format!("= {}", sum.join(" + ")));
        parts.join("; ")
    };
    let identified = ["Failed", "InProgress", "Accepted", "Duplicate", "Conflict"]
        .map(|m| format!("hookline {m} Sum/300"))
        .join("; ");
    let mut alarms = vec![
        ("DeadLetterAlarm", "AWS/SQS ApproximateNumberOfMessagesVisible Maximum/60; = DIFF(FILL(visible, 0)); GreaterThanThreshold 0 over 1; missing notBreaching".to_string()),
        ("DeliveryFailureRateAlarm", format!("{identified}; = IF(FILL(failed,0) + FILL(inprogress,0) >= 5, 100 * (FILL(failed,0) + FILL(inprogress,0)) / (FILL(failed,0) + FILL(inprogress,0) + FILL(accepted,0) + FILL(duplicate,0) + FILL(conflict,0)), 0); GreaterThanThreshold FailureRateAlarmPercent over 1; missing notBreaching")),
        ("RejectedSpikeAlarm", "hookline Rejected Sum/300; GreaterThanThreshold RejectedAlarmThreshold over 1; missing notBreaching".to_string()),
        ("FunctionErrorsAlarm", format!("{}; GreaterThanThreshold 0 over 1; missing notBreaching", lambda_sum("Errors", &functions(&["sweeper", "enricher"])))),
        ("FunctionThrottlesAlarm", format!("{}; GreaterThanThreshold 0 over 1; missing notBreaching", lambda_sum("Throttles", &functions(&["sweeper", "enricher"])))),
        ("StrandedEventsAlarm", "hookline StrandedFailed Sum/900; GreaterThanThreshold 0 over 1; missing notBreaching".to_string()),
        ("BaackSubscriptionExpiryAlarm", "hookline SubscriptionHoursLeft Minimum/3600; LessThanThreshold SubscriptionExpiryAlarmHours over 1; missing ignore".to_string()),
        ("BacklogAlarm", "AWS/SQS ApproximateAgeOfOldestMessage Maximum/300; GreaterThanThreshold BacklogAlarmSeconds over 1; missing notBreaching".to_string()),
        ("EdgeThrottledAlarm", "hookline EdgeThrottled Sum/300; GreaterThanThreshold 0 over 1; missing notBreaching".to_string()),
        ("EdgeErrorsAlarm", "hookline EdgeFailed Sum/300; GreaterThanThreshold 0 over 1; missing notBreaching".to_string()),
    ];
    let silence: Vec<(String, String)> = hookline::providers::ALL
        .iter()
        .map(|provider| (provider.template_prefix, provider.name))
        .map(|(p, dimension)| {
            (
                format!("{p}SilenceAlarm"),
                format!("hookline Accepted Provider={dimension} Sum/3600; LessThanThreshold 1 over {p}SilenceAlarmHours; missing breaching"),
            )
        })
        .collect();
    // One per function, on the version a deploy moves its alias to (docs/deploy.md).
    let new_version = hookline::providers::ALL
        .iter()
        .map(|provider| provider.template_prefix)
        .chain(["Sweeper", "Enricher"])
        .map(|function| {
            (
                format!("{function}NewVersionErrorsAlarm"),
                "AWS/Lambda Errors Sum/60; GreaterThanThreshold 0 over 1; missing notBreaching"
                    .to_string(),
            )
        });
    let mut all: Vec<(String, String)> =
        alarms.drain(..).map(|(k, v)| (k.to_string(), v)).collect();
    all.extend(silence);
    all.extend(new_version);
    all
}

#[test]
fn every_alarm_reads_compares_and_treats_missing_data_as_documented() {
    let resources = stack::transformed_resources();
    let documented: HashMap<String, String> = documented_alarms().into_iter().collect();
    let mut wrong = Vec::new();
    for (id, alarm) in of_type(&resources, "AWS::CloudWatch::Alarm") {
        let actual = alarm_signature(alarm);
        match documented.get(id) {
            Some(expected) if *expected == actual => {}
            Some(expected) => wrong.push(format!(
                "{id}:\n  documented {expected}\n  template   {actual}"
            )),
            None => wrong.push(format!(
                "{id}: not in this test's table of documented alarms"
            )),
        }
    }
    for id in documented.keys() {
        if !resources.contains_key(id) {
            wrong.push(format!("{id}: documented, not in the template"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The runbook (docs/operations.md) has an entry for every alarm, and its alarm table a row.
#[test]
fn the_runbook_covers_every_alarm() {
    let operations = include_str!("../docs/operations.md");
    let runbook = operations
        .split("\n## Runbook\n")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("docs/operations.md has a Runbook section");
    let resources = stack::transformed_resources();
    let mut missing = Vec::new();
    for (id, _) in of_type(&resources, "AWS::CloudWatch::Alarm") {
        let documented_as = match hookline::providers::ALL
            .iter()
            .find(|p| *id == format!("{}SilenceAlarm", p.template_prefix))
        {
            Some(_) => "<Provider>SilenceAlarm".to_string(),
            None if id.ends_with("NewVersionErrorsAlarm") => {
                "<Function>NewVersionErrorsAlarm".to_string()
            }
            None => id.clone(),
        };
        if !runbook.contains(&format!("**`{documented_as}`")) {
            missing.push(format!("{documented_as}: no runbook entry"));
        }
        if !operations.contains(&format!("| `{documented_as}` |")) {
            missing.push(format!("{documented_as}: no row in the alarm table"));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

/// The console's parameter groups (`AWS::CloudFormation::Interface`) hold every parameter once,
/// each with a description, the local-only ones last.
#[test]
fn every_parameter_is_grouped_once_and_described() {
    let template = stack::template();
    // The rendering for moto turns the secrets into parameters; they are not the template's.
    let secrets = stack::rehearsal()["Secrets"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let declared: BTreeSet<String> = template["Parameters"]
        .as_object()
        .expect("Parameters")
        .keys()
        .filter(|name| !secrets.contains_key(*name))
        .cloned()
        .collect();
    let groups = template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
        .as_array()
        .expect("parameter groups");
    let mut seen = Vec::new();
    for group in groups {
        for name in group["Parameters"]
            .as_array()
            .expect("a group's parameters")
        {
            seen.push(name.as_str().expect("a name").to_string());
        }
    }
    let grouped: BTreeSet<String> = seen.iter().cloned().collect();
    assert_eq!(
        seen.len(),
        grouped.len(),
        "a parameter in two groups: {seen:?}"
    );
    assert_eq!(
        grouped, declared,
        "grouped (left) and declared (right) differ"
    );
    for name in &declared {
        let description = template["Parameters"][name]["Description"]
            .as_str()
            .unwrap_or_default();
        assert!(description.len() > 20, "{name} has no description");
    }
    let last = groups.last().expect("a group");
    assert_eq!(last["Parameters"], json!(["LocalAwsEndpointUrl"]));
    assert!(last["Label"]["default"]
        .as_str()
        .unwrap()
        .starts_with("Local runs only"));
}
