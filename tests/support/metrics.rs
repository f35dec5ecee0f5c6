//! Reading back the metric lines a function wrote (captured with `hookline::logging::Capture`).

use serde_json::Value;

/// One metric line: the metric's name, its `Provider` and its `Reason`, if any.
pub type Count = (String, Option<String>, Option<String>);

/// The metric lines among `lines`, in order; each must count exactly 1.
pub fn counts(lines: &[Value]) -> Vec<Count> {
    let text = |line: &Value, key: &str| line.get(key).and_then(Value::as_str).map(String::from);
    lines
        .iter()
        .filter(|line| line.get("_aws").is_some())
        .map(|line| {
            let name = line["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"]
                .as_str()
                .expect("a metric name")
                .to_string();
            assert_eq!(line[&name], 1, "{line}");
            (name.clone(), text(line, "Provider"), text(line, "Reason"))
        })
        .collect()
}

/// The count `counts` reads for a line of metric `name`.
pub fn count(name: &str, provider: &str, reason: Option<&str>) -> Count {
    (name.into(), Some(provider.into()), reason.map(String::from))
}
