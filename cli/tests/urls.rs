//! `hookline urls` against stacks on the emulator (`AWS_ENDPOINT_URL`, started by scripts/test).
//!
//! moto's CloudFormation cannot create function URLs or HTTP APIs, so each stack here is one SQS
//! queue with template.yaml's own Outputs: every output's `!If [UseHttpApi, ...]` branch for the
//! endpoint type, its `!Sub` text kept as a `Fn::Sub` (the emulator resolves the pseudo
//! parameters) with only the attributes of those resources replaced by URLs of their shape. An
//! output added, renamed or re-pointed in the template changes what the stack carries.

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_hookline");
const API: &str = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com";

/// The function URL a function's `Url` resource would have.
fn function_url(resource: &str) -> String {
    let id = resource.trim_end_matches("FunctionUrl").to_lowercase();
    format!("https://{id}abcdefghijklmnop.lambda-url.us-east-1.on.aws/")
}

/// Output name → (its value for EndpointType http-api, for function-url), from the rendered
/// template's outputs; outputs that are not an `Fn::If [UseHttpApi, ...]` are left out.
fn template_outputs() -> BTreeMap<String, (String, String)> {
    // A `!Sub [text, {Var: ...}]` is its text with each variable as the stack without a custom
    // domain has it (`!If [UsesCustomDomain, <domain>, <the API's attribute>]`: the attribute).
    let sub = |name: &str, value: &Value| {
        let sub = &value["Fn::Sub"];
        if let Some(text) = sub.as_str() {
            return text.to_string();
        }
        let mut text = sub[0]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: not an Fn::Sub: {value}"))
            .to_string();
        for (variable, bound) in sub[1].as_object().into_iter().flatten() {
            let branches = &bound["Fn::If"];
            assert_eq!(branches[0], "UsesCustomDomain", "{name}: {value}");
            let attribute = branches[2]["Fn::GetAtt"]
                .as_array()
                .unwrap_or_else(|| panic!("{name}: not an attribute: {value}"));
            let reference = format!(
                "${{{}.{}}}",
                attribute[0].as_str().unwrap(),
                attribute[1].as_str().unwrap()
            );
            text = text.replace(&format!("${{{variable}}}"), &reference);
        }
        text
    };
    integration_tests::stack::outputs()
        .into_iter()
        .filter_map(|(name, output)| {
            let branches = output["Value"]["Fn::If"].as_array()?;
            (branches[0] == "UseHttpApi").then(|| {
                let values = (sub(&name, &branches[1]), sub(&name, &branches[2]));
                (name, values)
            })
        })
        .collect()
}

/// A `!Sub` text with the unsupported resources' attributes replaced by their values' shape.
fn substituted(text: &str) -> String {
    let mut out = text.replace("${WebhooksApi.ApiEndpoint}", API);
    while let Some(start) = out.find("${") {
        let end = out[start..].find('}').unwrap() + start;
        let reference = &out[start + 2..end];
        let (resource, attribute) = reference.split_once('.').expect("a GetAtt reference");
        assert_eq!(
            attribute, "FunctionUrl",
            "an attribute this test cannot stand in: {text}"
        );
        out = format!(
            "{}{}{}",
            &out[..start],
            function_url(resource),
            &out[end + 1..]
        );
    }
    out
}

fn stack_template(endpoint_type: &str) -> Value {
    let outputs: serde_json::Map<String, Value> = template_outputs()
        .into_iter()
        .map(|(name, (http_api, function_url))| {
            let text = if endpoint_type == "http-api" {
                http_api
            } else {
                function_url
            };
            (name, json!({"Value": {"Fn::Sub": substituted(&text)}}))
        })
        .collect();
    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
        "Outputs": outputs,
    })
}

async fn create_stack(name: &str, template: &Value) {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok(),
        "AWS_ENDPOINT_URL is not set: run the tests with scripts/test, which starts the emulator"
    );
    let config = aws_config::from_env().load().await;
    let client = aws_sdk_cloudformation::Client::new(&config);
    client
        .create_stack()
        .stack_name(name)
        .template_body(template.to_string())
        .send()
        .await
        .expect("the stack is created");
}

fn unique(name: &str) -> String {
    format!("hookline-cli-{name}-{}", std::process::id())
}

fn urls(args: &[&str]) -> Output {
    Command::new(BIN).arg("urls").args(args).output().unwrap()
}

#[tokio::test]
async fn every_webhook_output_is_listed_for_both_endpoint_types() {
    let expected = template_outputs();
    for endpoint_type in ["http-api", "function-url"] {
        let stack = unique(endpoint_type);
        create_stack(&stack, &stack_template(endpoint_type)).await;
        let output = urls(&["--stack", &stack, "--json"]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let rows: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
        let listed: Vec<&str> = rows.iter().map(|r| r["output"].as_str().unwrap()).collect();
        let webhooks: Vec<&str> = expected
            .keys()
            .map(String::as_str)
            .filter(|name| name.ends_with("WebhookUrl") && *name != "ClearIdWebhookUrl")
            .collect();
        let mut sorted = listed.clone();
        sorted.sort();
        assert_eq!(sorted, webhooks, "every webhook URL output, and only those");
        for row in &rows {
            let (http_api, function) = &expected[row["output"].as_str().unwrap()];
            let text = if endpoint_type == "http-api" {
                http_api
            } else {
                function
            };
            let url = row["url"].as_str().unwrap();
            assert_eq!(url, substituted(text));
            let provider = row["provider"].as_str().unwrap();
            if endpoint_type == "http-api" {
                assert!(url.contains(&format!("/webhooks/{provider}")), "{url}");
            }
            match row["event_type"].as_str() {
                Some(event_type) => {
                    assert_eq!(provider, "clearid");
                    assert!(url.ends_with(&format!("?event={event_type}")), "{url}");
                }
                None => assert!(!url.contains('?'), "{url}"),
            }
        }
        let clearid: Vec<&str> = rows
            .iter()
            .filter_map(|r| r["event_type"].as_str())
            .collect();
        assert_eq!(
            clearid,
            [
                "identity.created",
                "identity.updated",
                "identity.deleted",
                "identity_request.created",
                "identity_request.updated"
            ]
        );
    }
}

#[tokio::test]
async fn the_table_has_one_row_per_url() {
    let stack = unique("table");
    create_stack(&stack, &stack_template("http-api")).await;
    let output = urls(&["--stack", &stack]);
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 9, "{text}");
    assert!(lines[0].starts_with("PROVIDER  EVENT TYPE "), "{text}");
    assert_eq!(
        lines[1],
        format!("baack     (all)                     {API}/webhooks/baack")
    );
    assert_eq!(
        lines[4],
        format!(
            "clearid   identity.deleted          {API}/webhooks/clearid?event=identity.deleted"
        )
    );
}

#[tokio::test]
async fn a_stack_without_the_outputs_is_an_error() {
    let stack = unique("bare");
    let template = json!({"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}});
    create_stack(&stack, &template).await;
    let output = urls(&["--stack", &stack]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        format!("hookline: stack {stack:?} has no webhook URL outputs: is it a hookline stack?\n")
    );
}

#[test]
fn a_missing_stack_exits_1() {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok(),
        "run with scripts/test"
    );
    let output = urls(&["--stack", "hookline-cli-no-such-stack"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr,
        "hookline: no stack \"hookline-cli-no-such-stack\" in us-east-1\n"
    );
}

#[test]
fn no_region_is_a_clear_error() {
    let output = Command::new(BIN)
        .args(["urls", "--stack", "any"])
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_PROFILE", "none")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).starts_with("hookline: no AWS region"));
}

#[test]
fn no_credentials_is_a_clear_error() {
    let output = Command::new(BIN)
        .args(["urls", "--stack", "any", "--region", "us-east-1"])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "hookline: cannot read stack \"any\" in us-east-1: no AWS credentials found (environment, \
         profile, SSO or instance role): pass --profile or set AWS_PROFILE\n"
    );
}
