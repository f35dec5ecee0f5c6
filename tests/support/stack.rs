//! The rendered template (`scripts/stack.py render`, path in `HOOKLINE_STACK_TEMPLATE`): the
//! transformed template.yaml the tests create their stacks from, and what it says about each
//! function, resolved the way CloudFormation resolves it for a created stack.

use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::OnceLock;

/// The rendered template, read once.
pub fn template() -> &'static Value {
    static TEMPLATE: OnceLock<Value> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let path = std::env::var("HOOKLINE_STACK_TEMPLATE").unwrap_or_else(|_| {
            panic!(
                "HOOKLINE_STACK_TEMPLATE is not set: run the tests with scripts/test, which renders \
                 template.yaml (scripts/stack.py render OUT.json) and points this variable at it"
            )
        });
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read the rendered template {path}: {e}"));
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("the rendered template {path} is not JSON: {e}"))
    })
}

/// What the rendering changed for moto (`Metadata.HooklineRehearsal`).
pub fn rehearsal() -> &'static Value {
    &template()["Metadata"]["HooklineRehearsal"]
}

pub fn resources() -> &'static Map<String, Value> {
    template()["Resources"]
        .as_object()
        .expect("template Resources")
}

/// Every resource as the SAM translator wrote it, those moto cannot create included (alarms,
/// dashboard, function URLs, the HTTP API, the aliases: kept in
/// `Metadata.HooklineRehearsal.DroppedResources`), and those whose reference to an alias the
/// rendering changed as they were (`AsTranslated`).
pub fn transformed_resources() -> Map<String, Value> {
    transformed_resources_of(template())
}

/// What a function URL invokes, as a reference: the alias its `Qualifier` names (SAM's
/// `<function>Alias<name>`), or its `TargetFunctionArn` as written when it has none.
pub fn url_target(url: &Value) -> Value {
    let target = &url["Properties"]["TargetFunctionArn"];
    match (
        target["Ref"].as_str(),
        url["Properties"]["Qualifier"].as_str(),
    ) {
        (Some(function), Some(alias)) => {
            serde_json::json!({"Ref": format!("{function}Alias{alias}")})
        }
        _ => target.clone(),
    }
}

/// `statements` of a policy as a stack at the template's defaults has them: a statement under
/// `Fn::If` is the branch its condition picks, none for `AWS::NoValue`.
pub fn present_statements(statements: Vec<Value>) -> Vec<Value> {
    let resolver = Resolver::new(
        "defaults",
        &HashMap::new(),
        HashMap::new(),
        "123456789012",
        "us-east-1",
    );
    statements
        .into_iter()
        .filter_map(|statement| match statement.get("Fn::If") {
            Some(branches) => {
                let condition = branches[0].as_str().expect("a condition's name");
                let branch = &branches[if resolver.condition(condition) { 1 } else { 2 }];
                (branch != &serde_json::json!({"Ref": "AWS::NoValue"})).then(|| branch.clone())
            }
            None => Some(statement),
        })
        .collect()
}

/// [`transformed_resources`] of another rendering of the template.
pub fn transformed_resources_of(rendered: &Value) -> Map<String, Value> {
    let mut all = rendered["Resources"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for kept in ["DroppedResources", "AsTranslated"] {
        let aside = &rendered["Metadata"]["HooklineRehearsal"][kept];
        if let Some(resources) = aside.as_object() {
            all.extend(resources.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
    }
    all
}

/// The template's parameters in declared order (`Metadata.HooklineRehearsal.ParameterOrder`:
/// the rendering's own secret parameters are not the template's and are left out).
pub fn parameter_order() -> Vec<String> {
    rehearsal()["ParameterOrder"]
        .as_array()
        .expect("Metadata.HooklineRehearsal.ParameterOrder")
        .iter()
        .map(|name| name.as_str().expect("a parameter name").to_string())
        .collect()
}

/// Every output the template declares, those moto cannot resolve included (kept in
/// `Metadata.HooklineRehearsal.DroppedOutputs`).
pub fn outputs() -> Map<String, Value> {
    let mut all = template()["Outputs"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    if let Some(dropped) = rehearsal()["DroppedOutputs"].as_object() {
        all.extend(dropped.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    all
}

/// Logical id and binary (`Metadata.BuildProperties.Binary`) of every function in the template.
pub fn functions() -> Vec<(String, String)> {
    resources()
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Lambda::Function")
        .filter_map(|(id, r)| {
            let binary = r["Metadata"]["BuildProperties"]["Binary"].as_str()?;
            Some((id.clone(), binary.to_string()))
        })
        .collect()
}

/// A function's `Environment.Variables` as the template writes them (Globals already merged by
/// the SAM transform), unresolved.
pub fn environment_of(logical_id: &str) -> Map<String, Value> {
    resources()[logical_id]["Properties"]["Environment"]["Variables"]
        .as_object()
        .cloned()
        .unwrap_or_default()
}

/// Resolves template values for one created stack: parameters (given, else the template's
/// defaults), pseudo parameters, conditions and the stack's physical ids.
/// The resources moto's CloudFormation creates without a physical id (an
/// `AWS::Events::EventBus` has none there), each with the output that names it.
const NAMED_BY_OUTPUT: [(&str, &str); 1] = [("ChangeEventBus", "ChangeEventBusName")];

/// Adds the physical ids moto leaves out (see [`NAMED_BY_OUTPUT`]) from the stack's outputs,
/// for the resources the stack created.
pub fn add_unlisted_physical_ids(
    physical: &mut HashMap<String, String>,
    outputs: &HashMap<String, String>,
) {
    for (logical_id, output) in NAMED_BY_OUTPUT {
        if let Some(name) = outputs.get(output).filter(|name| !name.is_empty()) {
            physical
                .entry(logical_id.to_string())
                .or_insert_with(|| name.clone());
        }
    }
}

pub struct Resolver {
    pub parameters: HashMap<String, String>,
    pub physical: HashMap<String, String>,
    pub account: String,
    pub region: String,
}

impl Resolver {
    pub fn new(
        stack: &str,
        given: &HashMap<String, String>,
        physical: HashMap<String, String>,
        account: &str,
        region: &str,
    ) -> Self {
        let mut parameters: HashMap<String, String> = template()["Parameters"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(k, p)| Some((k.clone(), scalar(p.get("Default")?)?)))
            .collect();
        parameters.extend(given.iter().map(|(k, v)| (k.clone(), v.clone())));
        for (name, value) in [
            ("AWS::StackName", stack),
            ("AWS::Region", region),
            ("AWS::AccountId", account),
            ("AWS::Partition", "aws"),
            ("AWS::URLSuffix", "amazonaws.com"),
        ] {
            parameters.insert(name.to_string(), value.to_string());
        }
        Self {
            parameters,
            physical,
            account: account.to_string(),
            region: region.to_string(),
        }
    }

    /// A resolved environment: variables whose value is `AWS::NoValue` are left out.
    pub fn environment(&self, logical_id: &str) -> HashMap<String, String> {
        environment_of(logical_id)
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), self.string(v)?)))
            .collect()
    }

    pub fn condition(&self, name: &str) -> bool {
        let condition = &template()["Conditions"][name];
        assert!(!condition.is_null(), "no condition {name} in the template");
        self.truth(condition)
    }

    fn truth(&self, value: &Value) -> bool {
        let (key, args) = single(value);
        match key {
            "Fn::Equals" => self.value(&args[0]) == self.value(&args[1]),
            "Fn::Not" => !self.truth(&args[0]),
            "Fn::And" => args.as_array().unwrap().iter().all(|a| self.truth(a)),
            "Fn::Or" => args.as_array().unwrap().iter().any(|a| self.truth(a)),
            "Condition" => self.condition(args.as_str().unwrap()),
            other => panic!("unsupported condition function {other}"),
        }
    }

    /// `None` for `AWS::NoValue`.
    pub fn string(&self, value: &Value) -> Option<String> {
        match self.value(value)? {
            Value::String(s) => Some(s),
            other => scalar(&other),
        }
    }

    fn value(&self, value: &Value) -> Option<Value> {
        let Value::Object(map) = value else {
            return Some(value.clone());
        };
        if map.len() != 1 {
            return Some(value.clone());
        }
        let (key, args) = single(value);
        Some(match key {
            "Ref" => {
                let name = args.as_str().unwrap();
                if name == "AWS::NoValue" {
                    return None;
                }
                Value::String(self.reference(name))
            }
            "Fn::If" => {
                let branch = if self.condition(args[0].as_str().unwrap()) {
                    &args[1]
                } else {
                    &args[2]
                };
                return self.value(branch);
            }
            "Fn::Sub" => Value::String(self.sub(args)),
            "Fn::GetAtt" => {
                let (id, attribute) = match args {
                    Value::Array(a) => (a[0].as_str().unwrap(), a[1].as_str().unwrap()),
                    Value::String(s) => s.split_once('.').unwrap(),
                    _ => panic!("bad GetAtt {args}"),
                };
                Value::String(self.attribute(id, attribute))
            }
            "Fn::Join" => {
                let separator = args[0].as_str().unwrap();
                let parts: Vec<String> = args[1]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|p| self.string(p))
                    .collect();
                Value::String(parts.join(separator))
            }
            _ => value.clone(),
        })
    }

    fn reference(&self, name: &str) -> String {
        if let Some(v) = self.parameters.get(name) {
            return v.clone();
        }
        self.physical
            .get(name)
            .cloned()
            .unwrap_or_else(|| panic!("Ref {name}: neither a parameter nor a stack resource"))
    }

    fn attribute(&self, id: &str, attribute: &str) -> String {
        let physical = self.reference(id);
        let kind = resources()[id]["Type"].as_str().unwrap_or_default();
        let (region, account) = (&self.region, &self.account);
        match (kind, attribute) {
            ("AWS::SQS::Queue", "Arn") => {
                let name = physical.rsplit('/').next().unwrap();
                format!("arn:aws:sqs:{region}:{account}:{name}")
            }
            ("AWS::SQS::Queue", "QueueName") => physical.rsplit('/').next().unwrap().to_string(),
            ("AWS::DynamoDB::Table", "Arn") => {
                format!("arn:aws:dynamodb:{region}:{account}:table/{physical}")
            }
            ("AWS::IAM::Role", "Arn") => format!("arn:aws:iam::{account}:role/{physical}"),
            ("AWS::Events::EventBus", "Arn") => {
                format!("arn:aws:events:{region}:{account}:event-bus/{physical}")
            }
            ("AWS::Events::EventBus", "Name") => physical,
            ("AWS::Lambda::Function", "Arn") => {
                format!("arn:aws:lambda:{region}:{account}:function:{physical}")
            }
            _ => panic!("GetAtt {id}.{attribute} ({kind}) is not resolved by the test harness"),
        }
    }

    fn sub(&self, args: &Value) -> String {
        let (text, locals) = match args {
            Value::String(s) => (s.as_str(), Map::new()),
            Value::Array(a) => (
                a[0].as_str().unwrap(),
                a[1].as_object().cloned().unwrap_or_default(),
            ),
            _ => panic!("bad Sub {args}"),
        };
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find('}').expect("closed ${") + start;
            let name = &rest[start + 2..end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else if let Some(local) = locals.get(name) {
                out.push_str(&self.string(local).unwrap_or_default());
            } else if let Some((id, attribute)) = name.split_once('.') {
                out.push_str(&self.attribute(id, attribute));
            } else {
                out.push_str(&self.reference(name));
            }
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        out
    }
}

fn single(value: &Value) -> (&str, &Value) {
    let map = value.as_object().expect("an intrinsic function");
    let (k, v) = map.iter().next().expect("one key");
    (k.as_str(), v)
}

/// A template value that is a string, a number or a boolean, as CloudFormation reads it: text.
pub fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
