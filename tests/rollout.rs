//! The rollout, checked on the transformed template (moto creates no alias and no CodeDeploy
//! deployment group, so the rendering keeps them aside: `stack::transformed_resources`).
//!
//! Every function is invoked through its alias `live` only: the HTTP API's integrations, the
//! function URLs and their permissions, the schedule and the queue's event source mapping. A deploy
//! publishes a version and CodeDeploy moves the alias to it as the `DeploymentPreference`
//! parameter says, and back if one of the function's rollback alarms goes off meanwhile. Anything
//! that invoked the function itself would take the new code at once, past the canary.

use integration_tests::stack;
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

type Resources = Map<String, Value>;

const ALIAS: &str = "live";

/// CodeDeploy's predefined deployment configurations for Lambda, without the
/// `CodeDeployDefault.Lambda` prefix (AWS CodeDeploy user guide, "Deployment configurations on
/// an AWS Lambda compute platform").
const PREDEFINED: &[&str] = &[
    "AllAtOnce",
    "Canary10Percent5Minutes",
    "Canary10Percent10Minutes",
    "Canary10Percent15Minutes",
    "Canary10Percent30Minutes",
    "Linear10PercentEvery1Minute",
    "Linear10PercentEvery2Minutes",
    "Linear10PercentEvery3Minutes",
    "Linear10PercentEvery10Minutes",
];

fn of_type<'a>(resources: &'a Resources, kind: &str) -> Vec<(&'a String, &'a Value)> {
    resources
        .iter()
        .filter(|(_, r)| r["Type"] == kind)
        .collect()
}

/// The logical id a `Ref` or `Fn::GetAtt` names.
fn referenced_id(value: &Value) -> Option<&str> {
    value["Ref"]
        .as_str()
        .or_else(|| value["Fn::GetAtt"][0].as_str())
}

/// What invokes a function, by resource type: the property naming the function.
fn invokers(resources: &Resources) -> Vec<(String, Value)> {
    let mut found = Vec::new();
    for (id, resource) in resources {
        let properties = &resource["Properties"];
        let named = match resource["Type"].as_str() {
            Some("AWS::Lambda::Url") => vec![stack::url_target(resource)],
            Some("AWS::Lambda::Permission") | Some("AWS::Lambda::EventSourceMapping") => {
                vec![properties["FunctionName"].clone()]
            }
            Some("AWS::ApiGatewayV2::Integration") => vec![properties["IntegrationUri"].clone()],
            Some("AWS::Events::Rule") => properties["Targets"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|target| target["Arn"].clone())
                .collect(),
            _ => Vec::new(),
        };
        found.extend(named.into_iter().map(|value| (id.clone(), value)));
    }
    found
}

/// Every invoker that names a function rather than its alias.
fn invoked_past_the_alias(resources: &Resources) -> Vec<String> {
    let functions: BTreeSet<&String> = of_type(resources, "AWS::Lambda::Function")
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let mut problems: Vec<String> = invokers(resources)
        .into_iter()
        .filter_map(|(id, value)| {
            let target = referenced_id(&value)?;
            if functions.iter().any(|f| f.as_str() == target) {
                return Some(format!(
                    "{id} invokes {target} itself, not its alias {ALIAS}"
                ));
            }
            // A URL's alias by its qualifier: one that exists, and before the URL.
            let url = &resources[&id];
            if url["Type"] == "AWS::Lambda::Url" {
                if resources.get(target).map(|a| &a["Type"]) != Some(&json!("AWS::Lambda::Alias")) {
                    return Some(format!("{id} invokes {target}, which is no alias"));
                }
                if url["DependsOn"] != json!(target) {
                    return Some(format!("{id} does not wait for its alias {target}"));
                }
            }
            None
        })
        .collect();
    problems.sort();
    problems
}

/// What is wrong with `function`'s alias, its version and its deployment group, the template
/// having been transformed with `preference` for the `DeploymentPreference` parameter.
fn rollout_of(resources: &Resources, function: &str, preference: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let aliases: Vec<_> = of_type(resources, "AWS::Lambda::Alias")
        .into_iter()
        .filter(|(_, a)| a["Properties"]["FunctionName"] == json!({"Ref": function}))
        .collect();
    let [(alias_id, alias)] = aliases.as_slice() else {
        return vec![format!(
            "{function}: {} aliases, expected one",
            aliases.len()
        )];
    };
    if alias["Properties"]["Name"] != ALIAS {
        problems.push(format!("{alias_id}: named {}", alias["Properties"]["Name"]));
    }
    match referenced_id(&alias["Properties"]["FunctionVersion"]).map(|v| &resources[v]) {
        Some(version)
            if version["Type"] == "AWS::Lambda::Version"
                && version["Properties"]["FunctionName"] == json!({"Ref": function}) =>
        {
            if version["DeletionPolicy"] != "Retain" {
                problems.push(format!(
                    "{alias_id}: its version is deleted by the next deploy, leaving a rollback \
                     nowhere to go"
                ));
            }
        }
        _ => problems.push(format!("{alias_id}: not on a version of {function}")),
    }
    let update = &alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"];
    let Some(group_id) = referenced_id(&update["DeploymentGroupName"]) else {
        problems.push(format!("{alias_id}: not moved by CodeDeploy"));
        return problems;
    };
    let group = &resources[group_id]["Properties"];
    // The translator resolves the parameter itself, as CloudFormation's transform does with
    // the stack's value.
    let config = json!({"Fn::Sub": ["CodeDeployDefault.Lambda${ConfigName}",
                                   {"ConfigName": preference}]});
    if group["DeploymentConfigName"] != config {
        problems.push(format!(
            "{group_id}: DeploymentConfigName {}, expected {preference}",
            group["DeploymentConfigName"]
        ));
    }
    let rollback = &group["AutoRollbackConfiguration"];
    let events = rollback["Events"].as_array().cloned().unwrap_or_default();
    if rollback["Enabled"] != true || !events.contains(&json!("DEPLOYMENT_STOP_ON_ALARM")) {
        problems.push(format!("{group_id}: no automatic rollback on an alarm"));
    }
    let alarms = &group["AlarmConfiguration"];
    let names: Vec<&Value> = alarms["Alarms"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| &a["Name"])
        .collect();
    if alarms["Enabled"] != true || names.is_empty() {
        problems.push(format!("{group_id}: no rollback alarm"));
    }
    for name in &names {
        let alarm = referenced_id(name).and_then(|id| resources.get(id).map(|a| (id, a)));
        match alarm {
            Some((_, a))
                if a["Type"] == "AWS::CloudWatch::Alarm" && a.get("Condition").is_none() => {}
            Some((id, _)) => problems.push(format!(
                "{group_id}: rollback alarm {id} is not an alarm every stack has"
            )),
            None => problems.push(format!(
                "{group_id}: rollback alarm {name} is not the stack's"
            )),
        }
    }
    // The crashes and timeouts of the version being rolled out, and of no other, stop it.
    let watches_errors = names.iter().filter_map(|n| referenced_id(n)).any(|id| {
        let alarm = &resources[id]["Properties"];
        let dimension = |name: &str| {
            alarm["Dimensions"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|d| d["Name"] == name)
                .map(|d| d["Value"].clone())
        };
        let version = dimension("ExecutedVersion").and_then(|v| {
            let id = v["Fn::GetAtt"][0].as_str()?.to_string();
            (resources.get(&id)?["Properties"]["FunctionName"] == json!({"Ref": function}))
                .then_some(v["Fn::GetAtt"][1].clone())
        });
        alarm["Namespace"] == "AWS/Lambda"
            && alarm["MetricName"] == "Errors"
            && dimension("FunctionName") == Some(json!({"Ref": function}))
            && version == Some(json!("Version"))
    });
    if !watches_errors {
        problems.push(format!(
            "{group_id}: no rollback alarm counts the errors of {function}'s new version"
        ));
    }
    problems
}

fn rollout_problems(resources: &Resources, preference: &str) -> Vec<String> {
    let mut problems = invoked_past_the_alias(resources);
    for (function, _) in of_type(resources, "AWS::Lambda::Function") {
        problems.extend(rollout_of(resources, function, preference));
    }
    problems
}

/// The `DeploymentPreference` parameter's default: the rendered template is transformed with it.
fn default_preference() -> String {
    let default = &stack::template()["Parameters"]["DeploymentPreference"]["Default"];
    default.as_str().expect("a default").to_string()
}

#[test]
fn every_function_is_invoked_through_its_alias_and_rolled_out_with_rollback_alarms() {
    let resources = stack::transformed_resources();
    assert_eq!(of_type(&resources, "AWS::Lambda::Function").len(), 6);
    let problems = rollout_problems(&resources, &default_preference());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Every kind of invoker is there to be checked.
    let kinds: BTreeSet<&str> = invokers(&resources)
        .iter()
        .map(|(id, _)| resources[id]["Type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        BTreeSet::from([
            "AWS::ApiGatewayV2::Integration",
            "AWS::Events::Rule",
            "AWS::Lambda::EventSourceMapping",
            "AWS::Lambda::Permission",
            "AWS::Lambda::Url",
        ])
    );
}

#[test]
fn a_permission_on_the_function_itself_or_an_alarm_less_group_is_found() {
    let mut resources = stack::transformed_resources();
    resources["BaackFunctionUrlPermission"]["Properties"]["FunctionName"] =
        json!({"Ref": "BaackFunction"});
    let group = resources
        .iter()
        .find(|(id, r)| {
            r["Type"] == "AWS::CodeDeploy::DeploymentGroup" && id.starts_with("Sweeper")
        })
        .map(|(id, _)| id.clone())
        .expect("the sweeper's deployment group");
    resources[&group]["Properties"]
        .as_object_mut()
        .unwrap()
        .remove("AlarmConfiguration");
    let problems = rollout_problems(&resources, &default_preference());
    assert_eq!(
        problems,
        [
            "BaackFunctionUrlPermission invokes BaackFunction itself, not its alias live"
                .to_string(),
            format!("{group}: no rollback alarm"),
            format!(
                "{group}: no rollback alarm counts the errors of SweeperFunction's new version"
            ),
        ]
    );
}

#[test]
fn the_deployment_preference_offers_codedeploys_lambda_configurations() {
    let parameter = &stack::template()["Parameters"]["DeploymentPreference"];
    let allowed: BTreeSet<&str> = parameter["AllowedValues"]
        .as_array()
        .expect("AllowedValues")
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(allowed, PREDEFINED.iter().copied().collect());
    // A first install has no previous version to shift from.
    assert_eq!(parameter["Default"], "AllAtOnce");
}

/// The stack's value reaches every deployment group: the template transformed again with a
/// canary (`scripts/stack.py render` with a parameter value, the venv's translator).
#[test]
fn a_canary_chosen_at_deploy_reaches_every_deployment_group() {
    let out = std::env::temp_dir().join(format!("rollout-{}.json", std::process::id()));
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/stack.py");
    let status = std::process::Command::new("python")
        .args([script, "render"])
        .arg(&out)
        .arg("DeploymentPreference=Canary10Percent10Minutes")
        .stderr(std::process::Stdio::null())
        .status()
        .expect("run python (scripts/test puts the venv on PATH)");
    assert!(
        status.success(),
        "stack.py render with a parameter value: {status}"
    );
    let text = std::fs::read_to_string(&out).expect("the rendered template");
    let _ = std::fs::remove_file(&out);
    let template: Value = serde_json::from_str(&text).expect("JSON");
    let resources = stack::transformed_resources_of(&template);
    let problems = rollout_problems(&resources, "Canary10Percent10Minutes");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
