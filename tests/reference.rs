//! docs/parameters.md is generated from the template: its parameters (type, default, allowed
//! values or bounds, description) in the groups `sam deploy --guided` and the console ask them in
//! (`AWS::CloudFormation::Interface`), read from the template as `scripts/test` renders it. The
//! test fails when the checked-in file differs; with `HOOKLINE_BLESS=1` it rewrites the file.

use integration_tests::generated::{assert_generated, blessing};
use integration_tests::stack::{self, scalar};
use serde_json::Value;

const REFERENCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/parameters.md");

/// `text` as one table cell: on one line, its pipes escaped, and `<` escaped so that a
/// placeholder such as `<provider>` is shown rather than taken for an HTML tag.
fn cell(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
        .replace('<', "\\<")
}

/// A value as code, the empty string said in words.
fn code(value: &str) -> String {
    if value.is_empty() {
        "(empty)".to_string()
    } else {
        format!("`{}`", value.replace('|', "\\|"))
    }
}

/// What a parameter may be: its allowed values, its bounds, its pattern.
fn allowed(parameter: &Value) -> String {
    let mut parts = Vec::new();
    if let Some(values) = parameter["AllowedValues"].as_array() {
        let values: Vec<String> = values.iter().filter_map(scalar).map(|v| code(&v)).collect();
        parts.push(values.join(", "));
    }
    for (min, max, unit) in [
        ("MinValue", "MaxValue", ""),
        ("MinLength", "MaxLength", " characters"),
    ] {
        match (scalar(&parameter[min]), scalar(&parameter[max])) {
            (Some(low), Some(high)) => parts.push(format!("{low} to {high}{unit}")),
            (Some(low), None) => parts.push(format!("at least {low}{unit}")),
            (None, Some(high)) => parts.push(format!("at most {high}{unit}")),
            (None, None) => {}
        }
    }
    if let Some(pattern) = parameter["AllowedPattern"].as_str() {
        parts.push(format!("matches {}", code(pattern)));
    }
    if parts.is_empty() {
        "any".to_string()
    } else {
        parts.join("; ")
    }
}

fn reference() -> String {
    let template = stack::template();
    let interface = &template["Metadata"]["AWS::CloudFormation::Interface"];
    let labels = &interface["ParameterLabels"];
    let declared = stack::parameter_order();
    let mut sections: Vec<(String, Vec<String>)> = interface["ParameterGroups"]
        .as_array()
        .expect("ParameterGroups")
        .iter()
        .map(|group| {
            let label = group["Label"]["default"].as_str().expect("a group's label");
            let names = group["Parameters"]
                .as_array()
                .expect("a group's Parameters")
                .iter()
                .map(|name| name.as_str().expect("a parameter name").to_string())
                .collect();
            (label.to_string(), names)
        })
        .collect();
    let grouped: Vec<String> = sections.iter().flat_map(|(_, n)| n.clone()).collect();
    let ungrouped: Vec<String> = declared
        .iter()
        .filter(|name| !grouped.contains(name))
        .cloned()
        .collect();
    if !ungrouped.is_empty() {
        sections.push(("Not in a group".to_string(), ungrouped));
    }

    let mut out = String::from(
        "# Template parameters\n\
         \n\
         Generated from `template.yaml` by `tests/reference.rs`: every parameter, in the groups\n\
         `sam deploy --guided` asks them in. Do not edit it by hand; after changing the template,\n\
         rewrite it with `HOOKLINE_BLESS=1 scripts/test -p integration-tests --test reference`.\n\
         How to deploy: [deploy.md](deploy.md).\n",
    );
    for (label, names) in sections {
        out.push_str(&format!(
            "\n## {label}\n\n| parameter | type | default | allowed | meaning |\n|---|---|---|---|---|\n"
        ));
        for name in names {
            let parameter = &template["Parameters"][&name];
            assert!(!parameter.is_null(), "{name} is grouped but not declared");
            let name_cell = match labels[&name]["default"].as_str() {
                Some(label) => format!("`{name}` ({})", cell(label)),
                None => format!("`{name}`"),
            };
            let default = match scalar(&parameter["Default"]) {
                Some(value) => code(&value),
                None => "none: required".to_string(),
            };
            out.push_str(&format!(
                "| {name_cell} | {} | {default} | {} | {} |\n",
                parameter["Type"].as_str().unwrap_or_default(),
                allowed(parameter),
                cell(parameter["Description"].as_str().unwrap_or_default()),
            ));
        }
    }
    out
}

#[test]
fn the_parameter_reference_is_what_the_template_declares() {
    let generated = reference();
    if blessing() {
        std::fs::write(REFERENCE, &generated).unwrap();
        return;
    }
    let checked_in = std::fs::read_to_string(REFERENCE).unwrap_or_default();
    assert_generated(
        "docs/parameters.md",
        &checked_in,
        &generated,
        "HOOKLINE_BLESS=1 scripts/test -p integration-tests --test reference",
    );
}

#[test]
fn a_cell_stays_one_cell_and_shows_its_placeholders() {
    assert_eq!(
        cell("a | b\n  <provider>"),
        "a \\| b \\<provider>".to_string()
    );
    assert_eq!(code(""), "(empty)");
}
