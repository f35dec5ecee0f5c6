//! Reading back the metric lines a function wrote (captured with `hookline::logging::Capture`).

use serde_json::Value;

/// One metric line: the metric's name, its `Provider` and its `Reason`, if any.
pub type Count = (String, Option<String>, Option<String>);

fn text(line: &Value, key: &str) -> Option<String> {
    line.get(key).and_then(Value::as_str).map(String::from)
}

/// The metric lines among `lines` whose unit is `unit`.
fn of_unit<'a>(lines: &'a [Value], unit: &'a str) -> impl Iterator<Item = &'a Value> {
    lines.iter().filter(move |line| {
        line["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"].as_str() == Some(unit)
    })
}

/// The count lines among `lines`, in order; each must count exactly 1.
pub fn counts(lines: &[Value]) -> Vec<Count> {
    of_unit(lines, "Count")
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

/// The gauge lines (unit `None`) among `lines`: name, value and `Subscription` dimension.
pub fn gauges(lines: &[Value]) -> Vec<(String, f64, Option<String>)> {
    of_unit(lines, "None")
        .map(|line| {
            let name = line["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"]
                .as_str()
                .expect("a metric name")
                .to_string();
            let value = line[&name].as_f64().expect("a number");
            (name, value, text(line, "Subscription"))
        })
        .collect()
}
