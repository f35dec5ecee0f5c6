//! The receivers' blocks in template.yaml are written out once per provider (a loop with
//! `Fn::ForEach` was measured and rejected: CONTRIBUTING.md, "Why the template repeats each provider").
//! This test holds the copies together: in the rendered template (`HOOKLINE_STACK_TEMPLATE`,
//! the resources and outputs moto cannot create included) every entry naming a provider is
//! taken, the provider's name normalised out, and any difference between two providers that is
//! not listed below, with its reason, fails.
//!
//! The providers are the template's receivers (the functions whose environment names a webhook
//! secret), each by its binary: the library has no registry of providers to read them from.

use integration_tests::stack;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// What a provider's name becomes in every logical id, name, reference and text.
const PROVIDER: &str = "<provider>";

/// Entries only some providers have: section/normalised name, the providers, why.
const ONLY_SOME: &[(&str, &[&str], &str)] = &[
    (
        "Resources/<provider>SubscriptionExpiryAlarm",
        &["baack"],
        "only Baack subscriptions expire, and only its deliveries report the hours left",
    ),
    (
        "Parameters/<provider>AuthMode",
        &["baack"],
        "only Baack authenticates by bearer token or by client_id:secret (basic)",
    ),
    (
        "Parameters/<provider>SecretHeader",
        &["clearid"],
        "only ClearID sends its shared secret in a header the customer names",
    ),
    (
        "Parameters/<provider>SecretEncoding",
        &["midbound"],
        "only Midbound's whsec_ secrets (Standard Webhooks) come in encodings",
    ),
    (
        "Parameters/<provider>ToleranceSeconds",
        &["midbound"],
        "only Midbound signs a timestamp",
    ),
    (
        "Parameters/<provider>ApiBase",
        &["argyle", "baack", "clearid"],
        "the enricher reads these providers' APIs; a Midbound event carries its identity",
    ),
    (
        "Conditions/Has<provider>ApiBase",
        &["argyle", "baack", "clearid"],
        "the enricher reads these providers' APIs; a Midbound event carries its identity",
    ),
    (
        "Parameters/<provider>TokenUrl",
        &["clearid"],
        "only ClearID's API takes an OAuth2 token",
    ),
    (
        "Conditions/Has<provider>TokenUrl",
        &["clearid"],
        "only ClearID's API takes an OAuth2 token",
    ),
    (
        "Parameters/<provider>IdentityPath",
        &["clearid"],
        "only ClearID's identity path is configurable",
    ),
    (
        "Conditions/Has<provider>IdentityPath",
        &["clearid"],
        "only ClearID's identity path is configurable",
    ),
    (
        "Conditions/Has<provider>DedupRetention",
        &["argyle", "baack", "clearid"],
        "Midbound's retention is always set; the others' only when given",
    ),
    (
        "Outputs/<provider>IdentityCreatedWebhookUrl",
        &["clearid"],
        "ClearID registers one URL per event type",
    ),
    (
        "Outputs/<provider>IdentityUpdatedWebhookUrl",
        &["clearid"],
        "ClearID registers one URL per event type",
    ),
    (
        "Outputs/<provider>IdentityDeletedWebhookUrl",
        &["clearid"],
        "ClearID registers one URL per event type",
    ),
    (
        "Outputs/<provider>IdentityRequestCreatedWebhookUrl",
        &["clearid"],
        "ClearID registers one URL per event type",
    ),
    (
        "Outputs/<provider>IdentityRequestUpdatedWebhookUrl",
        &["clearid"],
        "ClearID registers one URL per event type",
    ),
];

/// Properties that differ between providers in an entry they share: section/normalised name,
/// the property's path in it (empty: the whole entry), why.
const DIFFERS: &[(&str, &str, &str)] = &[
    (
        "Secrets/<provider>WebhookSecrets",
        "/Description",
        "says what the provider's secret looks like",
    ),
    (
        "Resources/<provider>Function",
        "/Properties/Environment/Variables/WEBHOOK_AUTH_MODE",
        "Baack's bearer or basic (BaackAuthMode)",
    ),
    (
        "Resources/<provider>Function",
        "/Properties/Environment/Variables/WEBHOOK_SECRET_HEADER",
        "ClearID's header (ClearIdSecretHeader)",
    ),
    (
        "Resources/<provider>Function",
        "/Properties/Environment/Variables/WEBHOOK_SECRET_ENCODING",
        "Midbound's secret encoding (MidboundSecretEncoding)",
    ),
    (
        "Resources/<provider>Function",
        "/Properties/Environment/Variables/WEBHOOK_TOLERANCE_SECONDS",
        "Midbound's timestamp tolerance (MidboundToleranceSeconds)",
    ),
    (
        "Resources/<provider>Function",
        "/Properties/Environment/Variables/DEDUP_RETENTION_SECONDS",
        "Midbound's always set (its parameter's bound keeps it above twice the tolerance), \
         the others' only when given (else the provider's own default)",
    ),
    (
        "Parameters/<provider>DedupRetentionSeconds",
        "",
        "Midbound's is a number with a default and a lower bound; the others' empty means the \
         provider's own default",
    ),
    (
        "Parameters/<provider>ApiBase",
        "/Description",
        "each provider's API in its own words",
    ),
    (
        "Outputs/<provider>WebhookUrl",
        "",
        "ClearID's is its identity.created URL (kept for existing scripts)",
    ),
];

/// The receivers' binaries, sorted: the functions whose environment names a webhook secret.
fn providers(resources: &Map<String, Value>) -> Vec<String> {
    resources
        .values()
        .filter(|r| r["Type"] == "AWS::Lambda::Function")
        .filter(|r| !r["Properties"]["Environment"]["Variables"]["WEBHOOK_SECRETS_ARN"].is_null())
        .map(|r| {
            r["Metadata"]["BuildProperties"]["Binary"]
                .as_str()
                .expect("a receiver's binary")
                .to_string()
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// The rendered template's entries by section: every resource the translator wrote, the
/// webhook secrets (which the rendering turned into parameters), every output, the
/// parameters and conditions.
fn sections(template: &Value) -> BTreeMap<&'static str, Map<String, Value>> {
    let rehearsal = &template["Metadata"]["HooklineRehearsal"];
    let object = |value: &Value| value.as_object().cloned().unwrap_or_default();
    let mut resources = stack::transformed_resources_of(template);
    restore_conditions(&mut resources, &rehearsal["Changes"]);
    let secrets = object(&rehearsal["Secrets"]);
    let mut outputs = object(&template["Outputs"]);
    outputs.extend(object(&rehearsal["DroppedOutputs"]));
    let mut parameters = object(&template["Parameters"]);
    parameters.retain(|name, _| !secrets.contains_key(name));
    BTreeMap::from([
        ("Resources", resources),
        ("Secrets", secrets),
        ("Outputs", outputs),
        ("Parameters", parameters),
        ("Conditions", object(&template["Conditions"])),
    ])
}

/// Puts the policy statements' conditions back where the rendering for moto took them out
/// (`iam-condition-removed`: "<role> <policy> statement <i>" or "<policy> statement <i>").
fn restore_conditions(resources: &mut Map<String, Value>, changes: &Value) {
    for change in changes.as_array().into_iter().flatten() {
        if change["change"] != "iam-condition-removed" {
            continue;
        }
        let place: Vec<&str> = change["where"]
            .as_str()
            .expect("where")
            .split(' ')
            .collect();
        let index: usize = place[place.len() - 1].parse().expect("a statement index");
        let properties = &mut resources[place[0]]["Properties"];
        let document = if place.len() == 4 {
            let policies = properties["Policies"].as_array_mut().expect("Policies");
            let policy = policies
                .iter_mut()
                .find(|p| p["PolicyName"] == place[1])
                .expect("the policy the condition was taken from");
            &mut policy["PolicyDocument"]
        } else {
            &mut properties["PolicyDocument"]
        };
        document["Statement"][index]["Condition"] = change["condition"].clone();
    }
}

/// `text` with every spelling of `name` (ClearId, ClearID, clearid) made [`PROVIDER`].
fn normalise_text(text: &str, name: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::new();
    let mut at = 0;
    while let Some(found) = lower[at..].find(name) {
        out.push_str(&text[at..at + found]);
        out.push_str(PROVIDER);
        at += found + name.len();
    }
    out.push_str(&text[at..]);
    normalise_version_hash(out)
}

/// `text` with the hash SAM names a function's version by (`FunctionVersion` and ten hex digits,
/// a hash of the function's code and configuration, which differ between providers by design)
/// made `<hash>`.
fn normalise_version_hash(text: String) -> String {
    const VERSION: &str = "FunctionVersion";
    let Some(at) = text.find(VERSION).map(|at| at + VERSION.len()) else {
        return text;
    };
    match text.get(at..at + 10) {
        Some(hash) if hash.chars().all(|c| c.is_ascii_hexdigit()) => {
            format!("{}<hash>{}", &text[..at], &text[at + 10..])
        }
        _ => text,
    }
}

/// Every leaf of `value` by its path (`/Properties/Environment/...`), names normalised.
fn leaves(value: &Value, name: &str, path: String, into: &mut BTreeMap<String, String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                let key = normalise_text(key, name);
                leaves(inner, name, format!("{path}/{key}"), into);
            }
        }
        Value::Array(items) => {
            for (i, inner) in items.iter().enumerate() {
                leaves(inner, name, format!("{path}/{i}"), into);
            }
        }
        Value::String(s) => {
            into.insert(path, format!("{:?}", normalise_text(s, name)));
        }
        other => {
            into.insert(path, other.to_string());
        }
    }
}

/// A provider's block: every entry whose name holds the provider's, as normalised leaves.
type Block = BTreeMap<String, BTreeMap<String, String>>;

fn block(sections: &BTreeMap<&'static str, Map<String, Value>>, name: &str) -> Block {
    let mut block = Block::new();
    for (section, entries) in sections {
        for (id, value) in entries {
            if id.to_ascii_lowercase().contains(name) {
                let mut flat = BTreeMap::new();
                leaves(value, name, String::new(), &mut flat);
                block.insert(format!("{section}/{}", normalise_text(id, name)), flat);
            }
        }
    }
    block
}

/// The `DIFFERS` allowance covering `path` of `entry`, if any.
fn allowance(entry: &str, path: &str) -> Option<(&'static str, &'static str)> {
    DIFFERS
        .iter()
        .find(|(e, p, _)| {
            *e == entry && (p.is_empty() || path == *p || path.starts_with(&format!("{p}/")))
        })
        .map(|(e, p, _)| (*e, *p))
}

/// Everything that tells the providers' blocks apart beyond [`ONLY_SOME`] and [`DIFFERS`],
/// and every allowance nothing needs any more.
fn drift(template: &Value) -> Vec<String> {
    let sections = sections(template);
    let providers = providers(&sections["Resources"]);
    let blocks: Vec<(String, Block)> = providers
        .iter()
        .map(|p| (p.clone(), block(&sections, p)))
        .collect();
    let mut found = Vec::new();
    if blocks.len() < 2 {
        found.push(format!("fewer than two receivers found: {providers:?}"));
        return found;
    }
    let entries: BTreeSet<&String> = blocks.iter().flat_map(|(_, b)| b.keys()).collect();
    let mut used: BTreeSet<(&str, &str)> = BTreeSet::new();
    for entry in entries {
        let having: Vec<&(String, Block)> = blocks
            .iter()
            .filter(|(_, b)| b.contains_key(entry))
            .collect();
        let names: Vec<&str> = having.iter().map(|(p, _)| p.as_str()).collect();
        if names.len() < blocks.len() {
            match ONLY_SOME.iter().find(|(e, _, _)| e == entry) {
                Some((_, listed, _)) if *listed == names.as_slice() => {}
                Some((_, listed, _)) => found.push(format!(
                    "{entry}: listed for {listed:?} only, found in {names:?}"
                )),
                None => found.push(format!(
                    "{entry}: only {names:?} have it (list it in ONLY_SOME with the reason)"
                )),
            }
        }
        let paths: BTreeSet<&String> = having.iter().flat_map(|(_, b)| b[entry].keys()).collect();
        for path in paths {
            // Each value at this path, with the providers that have it.
            let mut values: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
            for (provider, block) in &having {
                let value = block[entry].get(path).map_or("nothing", String::as_str);
                values.entry(value).or_default().push(provider);
            }
            if values.len() < 2 {
                continue;
            }
            if let Some(allowed) = allowance(entry, path) {
                used.insert(allowed);
                continue;
            }
            let told: Vec<String> = values
                .iter()
                .map(|(value, providers)| format!("{} {value}", providers.join(", ")))
                .collect();
            found.push(format!("{entry}{path}: {}", told.join("; ")));
        }
    }
    for (entry, path, _) in DIFFERS {
        if !used.contains(&(*entry, *path)) {
            found.push(format!(
                "{entry}{path} is listed in DIFFERS but is the same for every provider: take it out"
            ));
        }
    }
    for (entry, _, _) in ONLY_SOME {
        if !blocks.iter().any(|(_, b)| b.contains_key(*entry)) {
            found.push(format!(
                "{entry} is listed in ONLY_SOME but no provider has it: take it out"
            ));
        }
    }
    found
}

#[test]
fn the_providers_blocks_differ_only_where_listed() {
    let template = stack::template();
    let providers = providers(&sections(template)["Resources"]);
    let mut registered: Vec<String> = hookline::providers::names().map(String::from).collect();
    registered.sort();
    assert_eq!(
        providers, registered,
        "the template's receivers are the library's registry"
    );
    let found = drift(template);
    assert!(
        found.is_empty(),
        "the providers' blocks in template.yaml have drifted apart:\n  {}",
        found.join("\n  ")
    );
}

/// The comparison finds what it is for: one provider's log group kept as long as the history, one provider's
/// role given one more action, another's allowed to write a third provider's records, and a
/// resource added for one provider only.
#[test]
fn a_drift_in_one_providers_block_is_found() {
    let mut template = stack::template().clone();
    let resources = template["Resources"].as_object_mut().unwrap();
    resources["ArgyleLogGroup"]["Properties"]["RetentionInDays"] =
        serde_json::json!({"Ref": "HistoryRetentionDays"});
    let statement = &mut resources["MidboundFunctionRole"]["Properties"]["Policies"][0]
        ["PolicyDocument"]["Statement"][0];
    let mut actions = statement["Action"].as_array().cloned().unwrap_or_default();
    actions.push(Value::from("dynamodb:DeleteItem"));
    statement["Action"] = Value::from(actions);
    let extra = resources["BaackLogGroup"].clone();
    resources.insert("ClearIdExtraLogGroup".to_string(), extra);
    let changes = template["Metadata"]["HooklineRehearsal"]["Changes"]
        .as_array_mut()
        .unwrap();
    let leading_keys = changes
        .iter_mut()
        .find(|c| {
            c["where"]
                .as_str()
                .is_some_and(|w| w.starts_with("BaackFunctionRole "))
        })
        .expect("the LeadingKeys condition the rendering took out of Baack's role");
    leading_keys["condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"][0] =
        Value::from("argyle#*");

    let found = drift(&template);
    let text = found.join("\n");
    for expected in [
        "Resources/<provider>LogGroup/Properties/RetentionInDays/Ref: argyle \"HistoryRetentionDays\"; baack, clearid, midbound \"LogRetentionDays\"",
        "Resources/<provider>FunctionRole/Properties/Policies/0/PolicyDocument/Statement/0/Action/2: ",
        "Resources/<provider>FunctionRole/Properties/Policies/0/PolicyDocument/Statement/0/Condition/ForAllValues:StringLike/dynamodb:LeadingKeys/0: ",
        "Resources/<provider>ExtraLogGroup: only [\"clearid\"] have it",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
    assert_eq!(found.len(), 4, "{text}");
}
