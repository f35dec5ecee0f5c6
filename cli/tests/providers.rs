//! `hookline providers` prints the library's registry: the list the scripts read.

mod support;

use support::{hookline, json_lines, stdout};

#[test]
fn names_are_the_registry_one_per_line() {
    let output = hookline(&["providers", "--names"]);
    assert!(output.status.success());
    let names: Vec<String> = stdout(&output).lines().map(String::from).collect();
    let registered: Vec<String> = hookline::providers::names().map(String::from).collect();
    assert_eq!(names, registered);
}

#[test]
fn json_and_table_describe_every_provider() {
    let output = hookline(&["providers", "--json"]);
    assert!(output.status.success());
    let lines = json_lines(&stdout(&output));
    assert_eq!(lines.len(), hookline::providers::ALL.len());
    for (line, provider) in lines.iter().zip(hookline::providers::ALL) {
        assert_eq!(line["name"], provider.name);
        assert_eq!(line["template_prefix"], provider.template_prefix);
        assert_eq!(
            line["webhook_outputs"].as_array().unwrap().len(),
            provider.webhook_outputs().len()
        );
    }
    let table = stdout(&hookline(&["providers"]));
    assert!(table.starts_with("PROVIDER"), "{table}");
    for provider in hookline::providers::ALL {
        assert!(
            table.contains(&format!("{}Function", provider.template_prefix)),
            "{table}"
        );
    }
}

#[test]
fn json_and_names_together_are_a_usage_error() {
    let output = hookline(&["providers", "--json", "--names"]);
    assert_eq!(output.status.code(), Some(2));
}
