//! Every function's environment in the transformed template against what its code reads.
//!
//! "What the code reads" comes from the code: each function's configuration loader (chosen by
//! the template's `BuildProperties.Binary`) runs with a lookup that records every name asked
//! for, on the environment a stack created from the template resolves for that function. A
//! variable is required when removing it alone makes the loader fail. Names read outside the
//! loaders, by process-wide readers (the metrics namespace, the AWS SDK's own configuration),
//! are found by setting the name to a probe value and asking those readers what they got.
//!
//! Fails when the template sets a variable no code reads (Globals merged; a conditional
//! `Fn::If`/`AWS::NoValue` variable counts as one the template can set), when the code
//! requires one the template does not always set, or when the code reads one the template
//! leaves unset without [`FIXED`] saying why: an operator who changes such a variable in the
//! console has it undone by the next `sam deploy`, so whatever an operator may need to change is
//! a template parameter, and the rest is fixed on purpose.

use hookline::enrich::EnricherConfig;
use hookline::sweeper::SweeperConfig;
use hookline::Config;
use integration_tests::{stack, Resources};
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

/// Variables the code reads and the template leaves unset on purpose, each with why its
/// default is the value for every deployment. A variable another function of the stack sets
/// (a provider's own setting, read by the loader all webhook functions share) needs no entry.
const FIXED: &[(&str, &str)] = &[
    (
        "DEDUP_LEASE_SECONDS",
        "30 s: must outlast the webhook functions' timeout (10 s, fixed in Globals), so that a \
         retry never overtakes a live attempt; nothing else depends on it",
    ),
    (
        "HTTP_TIMEOUT_SECONDS",
        "5 s per provider API call: with HTTP_MAX_ATTEMPTS' 4 attempts and their backoff it fits \
         the enricher's 60 s timeout, which the queue's visibility timeout is six times of",
    ),
    (
        "HTTP_MAX_ATTEMPTS",
        "4 attempts on 429 and 5xx: more would outlast the enricher's timeout (see \
         HTTP_TIMEOUT_SECONDS); a message that still fails is received again by SQS",
    ),
];

/// The loader the binary runs at start-up, as `Ok(())` or the error it refuses to start with.
type Loader = fn(&dyn Fn(&str) -> Option<String>) -> Result<(), String>;

fn loader_for(binary: &str) -> Option<Loader> {
    let receivers: Vec<_> = hookline::providers::names().collect();
    Some(match binary {
        "sweeper" => |get| {
            SweeperConfig::from_lookup(get)
                .map(drop)
                .map_err(|e| e.to_string())
        },
        "enricher" => |get| {
            EnricherConfig::from_lookup(get)
                .map(drop)
                .map_err(|e| e.to_string())
        },
        b if receivers.contains(&b) => |get| {
            Config::from_lookup(get)
                .map(drop)
                .map_err(|e| e.to_string())
        },
        _ => return None,
    })
}

/// Runs `loader` on `env`; returns its result and every name it looked up.
fn run(loader: Loader, env: &HashMap<String, String>) -> (Result<(), String>, BTreeSet<String>) {
    let asked = RefCell::new(BTreeSet::new());
    let lookup = |name: &str| {
        asked.borrow_mut().insert(name.to_string());
        env.get(name).cloned()
    };
    let result = loader(&lookup);
    (result, asked.into_inner())
}

/// Which of `names` a process-wide reader (outside the loaders) reads: each is set to its own
/// probe value, then the readers say what they got. Restores the environment afterwards.
async fn read_by_process_readers(names: &BTreeSet<String>) -> BTreeSet<String> {
    let saved: Vec<(String, Option<String>)> = names
        .iter()
        .map(|n| (n.clone(), std::env::var(n).ok()))
        .collect();
    let probe = |name: &str| format!("http://probe.invalid/{name}");
    for name in names {
        std::env::set_var(name, probe(name));
    }
    let sdk = hookline::runtime::sdk_config().await;
    let seen = [
        Some(hookline::metrics::namespace().to_string()),
        sdk.endpoint_url().map(str::to_string),
        hookline::logging::level_setting(),
    ];
    for (name, value) in saved {
        match value {
            Some(v) => std::env::set_var(&name, v),
            None => std::env::remove_var(&name),
        }
    }
    names
        .iter()
        .filter(|n| seen.iter().flatten().any(|v| *v == probe(n)))
        .cloned()
        .collect()
}

// One test: the probes change the process environment, which a parallel test would see.
#[tokio::test]
async fn each_function_environment_is_what_its_code_reads() {
    let resources = Resources::create(false).await;
    let functions = stack::functions();
    assert!(
        !functions.is_empty(),
        "no functions in the rendered template"
    );
    let mut problems = Vec::new();
    let mut unread_by_loaders: Vec<(String, BTreeSet<String>)> = Vec::new();
    let mut read_somewhere = BTreeSet::new();
    for (logical_id, binary) in &functions {
        let Some(loader) = loader_for(binary) else {
            problems.push(format!(
                "{logical_id}: no configuration loader known for binary {binary:?}"
            ));
            continue;
        };
        let declared: BTreeSet<String> =
            stack::environment_of(logical_id).keys().cloned().collect();
        let env = resources.environment(binary).clone();
        let (baseline, asked) = run(loader, &env);
        if let Err(error) = &baseline {
            problems.push(format!(
                "{logical_id} ({binary}) does not start on the template's environment: {error}"
            ));
        }
        for name in env.keys() {
            let mut without = env.clone();
            without.remove(name);
            if baseline.is_ok() && run(loader, &without).0.is_err() {
                // Required: it must be set whatever the parameters (not only under a condition
                // one of whose branches is `AWS::NoValue`; an `Fn::If` choosing between two
                // values always sets it).
                let value = &stack::environment_of(logical_id)[name];
                if may_be_unset(value) {
                    problems.push(format!(
                        "{logical_id} ({binary}) requires {name}, which the template sets only under a condition"
                    ));
                }
            }
        }
        for name in asked.difference(&declared) {
            let set_elsewhere = functions
                .iter()
                .any(|(other, _)| stack::environment_of(other).contains_key(name));
            let fixed = FIXED.iter().any(|(fixed, _)| fixed == name);
            if !set_elsewhere && !fixed {
                problems.push(format!(
                    "{logical_id} ({binary}) reads {name}, which the template never sets: make it \
                     a parameter, or list it in FIXED with the reason its default always holds"
                ));
            }
            read_somewhere.insert(name.clone());
        }
        let unread: BTreeSet<String> = declared.difference(&asked).cloned().collect();
        if !unread.is_empty() {
            unread_by_loaders.push((format!("{logical_id} ({binary})"), unread));
        }
    }
    for (name, _) in FIXED {
        if !read_somewhere.contains(*name) {
            problems.push(format!(
                "FIXED lists {name}, which no function reads any more"
            ));
        }
    }
    drop(resources);
    let all: BTreeSet<String> = unread_by_loaders
        .iter()
        .flat_map(|(_, names)| names.clone())
        .collect();
    let process_wide = read_by_process_readers(&all).await;
    for (function, names) in unread_by_loaders {
        let unread: Vec<&String> = names.difference(&process_wide).collect();
        if !unread.is_empty() {
            problems.push(format!(
                "{function}: the template sets {unread:?}, which its code never reads"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Whether a template value can leave its variable unset: an `Fn::If` with an `AWS::NoValue`
/// branch, at any depth of nested `Fn::If`s.
fn may_be_unset(value: &serde_json::Value) -> bool {
    match value.get("Fn::If").and_then(|v| v.as_array()) {
        Some(branches) => branches.iter().skip(1).any(|branch| {
            branch.get("Ref").and_then(|r| r.as_str()) == Some("AWS::NoValue")
                || may_be_unset(branch)
        }),
        None => false,
    }
}

#[test]
fn a_conditional_value_is_unset_only_through_no_value() {
    use serde_json::json;
    assert!(may_be_unset(
        &json!({"Fn::If": ["C", {"Ref": "X"}, {"Ref": "AWS::NoValue"}]})
    ));
    assert!(may_be_unset(&json!({"Fn::If": [
        "C", {"Ref": "X"}, {"Fn::If": ["D", {"Ref": "AWS::NoValue"}, "y"]}
    ]})));
    assert!(!may_be_unset(
        &json!({"Fn::If": ["C", {"Ref": "Bus"}, {"Ref": "Name"}]})
    ));
    assert!(!may_be_unset(&json!({"Ref": "Table"})));
}

#[test]
fn a_variable_the_loader_never_reads_is_found() {
    let env = HashMap::from([
        ("EVENTS_TABLE".to_string(), "t".to_string()),
        ("EVENTS_QUEUE_URL".to_string(), "q".to_string()),
        ("NOT_A_SETTING".to_string(), "x".to_string()),
    ]);
    let (result, asked) = run(loader_for("sweeper").unwrap(), &env);
    assert!(result.is_ok());
    assert!(asked.contains("EVENTS_TABLE") && !asked.contains("NOT_A_SETTING"));
    let mut without = env.clone();
    without.remove("EVENTS_QUEUE_URL");
    assert!(run(loader_for("sweeper").unwrap(), &without).0.is_err());
}
