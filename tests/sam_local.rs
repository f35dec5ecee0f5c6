//! `sam local invoke --env-vars events/env.json`: SAM only sets variables the template declares
//! in a function's Environment (or in Globals), so every variable the file sets must be declared
//! there; and the secrets it gives each function must verify that function's fixtures. Also the
//! template's bounds for what the code checks at start-up (the body limit, the secrets' lifetime).

use hookline::config::{
    DEFAULT_MAX_BODY_BYTES, DEFAULT_SECRETS_CACHE_SECONDS, MAX_SECRETS_CACHE_SECONDS,
};
use hookline::{AuthConfig, Config, Provider};
use serde_json::Value;
use std::collections::HashMap;

const ENV_FILE: &str = include_str!("../events/env.json");
const MANIFEST: &str = include_str!("../events/manifest.tsv");

/// The webhook functions: logical id in the template, binary (the manifest's function column).
fn functions() -> Vec<(String, &'static str)> {
    hookline::providers::ALL
        .iter()
        .map(|p| (format!("{}Function", p.template_prefix), p.name))
        .collect()
}

/// What the template declares for `logical_id`: Globals' variables (merged by the SAM
/// translator) and its own, from the rendered template.
fn declared(logical_id: &str) -> Vec<String> {
    integration_tests::stack::environment_of(logical_id)
        .keys()
        .cloned()
        .collect()
}

fn env_file() -> serde_json::Map<String, Value> {
    serde_json::from_str::<Value>(ENV_FILE)
        .expect("events/env.json is JSON")
        .as_object()
        .cloned()
        .expect("an object")
}

/// The variables SAM gives `logical_id` from the file: `Parameters`, then the function's own.
fn env_for(logical_id: &str) -> HashMap<String, String> {
    let file = env_file();
    let mut vars = HashMap::new();
    for section in ["Parameters", logical_id] {
        for (name, value) in file[section].as_object().expect("an object of strings") {
            vars.insert(name.clone(), value.as_str().expect("a string").to_string());
        }
    }
    vars
}

#[test]
fn the_env_file_sets_only_variables_the_template_declares() {
    let file = env_file();
    for section in file.keys() {
        assert!(
            section == "Parameters" || functions().iter().any(|(id, _)| id == section),
            "{section} is neither Parameters nor a webhook function's logical id"
        );
    }
    for (logical_id, _) in functions() {
        let logical_id = logical_id.as_str();
        let declared = declared(logical_id);
        assert!(
            declared.contains(&"EVENTS_TABLE".to_string()),
            "{declared:?}"
        );
        for name in env_for(logical_id).keys() {
            assert!(
                declared.contains(name),
                "events/env.json sets {name} for {logical_id}, which its Environment does not \
                 declare: sam local invoke would ignore it (declared: {declared:?})"
            );
        }
        // The template's secret comes from Secrets Manager: the file must blank it for the
        // inline test secrets to count.
        let env = env_for(logical_id);
        assert_eq!(env.get("WEBHOOK_SECRETS_ARN").map(String::as_str), Some(""));
    }
}

/// The fixtures of `binary` the manifest says are accepted, as raw events.
fn accepted_fixtures(binary: &str) -> Vec<(String, Value)> {
    MANIFEST
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            (fields[1] == binary && fields[2] == "200").then(|| fields[0].to_string())
        })
        .map(|path| {
            let text =
                std::fs::read_to_string(format!("{}/../events/{path}", env!("CARGO_MANIFEST_DIR")))
                    .unwrap_or_else(|e| panic!("{path}: {e}"));
            (path, serde_json::from_str(&text).expect("a JSON event"))
        })
        .collect()
}

fn fixtures_verify<P: Provider>(logical_id: &str, binary: &str) {
    let env = env_for(logical_id);
    let config = Config::from_lookup(|name| env.get(name).cloned()).expect("a valid config");
    let secrets = config.secrets.inline();
    let provider = P::from_config(&AuthConfig::new(secrets, config.auth.clone()).unwrap()).unwrap();
    let verifier = provider.verifier();
    config
        .check_secret_strengths(&verifier.secret_strengths())
        .expect("the test secrets pass the start-up checks");
    let fixtures = accepted_fixtures(binary);
    assert!(!fixtures.is_empty(), "no fixture for {binary}");
    for (path, event) in fixtures {
        let (_, request) = hookline::lambda_event::decode(event, config.max_body_bytes);
        let request = request.unwrap_or_else(|e| panic!("{path}: {e}"));
        // Midbound signs its time: verify at it (fixtures are regenerated before a real run).
        let now = request
            .headers
            .get("webhook-timestamp")
            .and_then(|v| v.to_str().ok()?.parse().ok())
            .unwrap_or_else(hookline::clock::unix_now);
        verifier
            .verify(&request, now)
            .unwrap_or_else(|e| panic!("{path} does not verify with events/env.json: {e:?}"));
    }
}

#[test]
fn the_fixtures_verify_with_the_env_files_secrets() {
    hookline::for_each_provider!(|P| {
        let prefix = hookline::providers::find(P::NAME).unwrap().template_prefix;
        fixtures_verify::<P>(&format!("{prefix}Function"), P::NAME)
    });
}

/// A parameter's `key` (`Default`, `MaxValue`, ...), as the rendered template has it.
fn parameter(name: &str, key: &str) -> String {
    let value = &integration_tests::stack::template()["Parameters"][name][key];
    integration_tests::stack::scalar(value).unwrap_or_else(|| panic!("{name}.{key}: {value}"))
}

#[test]
fn the_templates_bounds_are_the_codes() {
    let ceiling = hookline::limits::max_body_bytes_that_fit();
    assert_eq!(parameter("MaxBodyBytes", "MaxValue"), ceiling.to_string());
    assert_eq!(
        parameter("MaxBodyBytes", "Default"),
        DEFAULT_MAX_BODY_BYTES.to_string()
    );
    assert_eq!(
        parameter("SecretsCacheSeconds", "MaxValue"),
        MAX_SECRETS_CACHE_SECONDS.to_string()
    );
    assert_eq!(parameter("SecretsCacheSeconds", "MinValue"), "0");
    assert_eq!(
        parameter("SecretsCacheSeconds", "Default"),
        DEFAULT_SECRETS_CACHE_SECONDS.to_string()
    );
    // Every function that reads a secret from Secrets Manager gets the lifetime.
    for (logical_id, _) in functions()
        .into_iter()
        .chain([("EnricherFunction".to_string(), "enricher")])
    {
        let logical_id = logical_id.as_str();
        assert!(
            declared(logical_id).contains(&"SECRETS_CACHE_SECONDS".to_string()),
            "{logical_id}"
        );
    }
}
