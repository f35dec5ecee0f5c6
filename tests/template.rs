//! The template's alarms and dashboard read the metrics the functions write: a renamed metric
//! must not leave an alarm watching nothing.

use hookline::metrics::NAMES;

const TEMPLATE: &str = include_str!("../template.yaml");

/// The AWS metrics the template reads besides ours.
const AWS_METRICS: [&str; 4] = [
    "Errors",
    "Duration",
    "ApproximateNumberOfMessagesVisible",
    "ApproximateAgeOfOldestMessage",
];

/// Names after `MetricName:` (alarms), `MetricName=\"` (dashboard searches) and in the
/// dashboard's metric arrays (`["<namespace>", "Name"` or `[".", "Name"`).
fn referenced() -> Vec<String> {
    let mut names = Vec::new();
    for line in TEMPLATE.lines() {
        if let Some(rest) = line.split("MetricName: ").nth(1) {
            let name = rest.split([',', '}']).next().unwrap().trim();
            names.push(name.to_string());
        }
        if let Some(rest) = line.split("MetricName=\\\"").nth(1) {
            names.push(rest.split('\\').next().unwrap().to_string());
        }
        for opening in [
            "[\"${Namespace}\", \"",
            "[\".\", \"",
            "[\"AWS/SQS\", \"",
            "[\"AWS/Lambda\", \"",
        ] {
            for piece in line.split(opening).skip(1) {
                names.push(piece.split('"').next().unwrap().to_string());
            }
        }
    }
    names
}

#[test]
fn every_metric_the_template_reads_is_written() {
    let referenced = referenced();
    assert!(referenced.len() > 20, "{referenced:?}");
    for name in &referenced {
        assert!(
            NAMES.contains(&name.as_str()) || AWS_METRICS.contains(&name.as_str()),
            "the template reads {name:?}, which nothing writes"
        );
    }
    for name in NAMES {
        assert!(
            referenced.iter().any(|r| r == name),
            "{name} is written but neither on the dashboard nor alarmed on"
        );
    }
}
