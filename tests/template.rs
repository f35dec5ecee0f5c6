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

/// The lines of a top-level section (`Parameters:`, `Globals:`, `Resources:`...), without its
/// heading.
fn section(name: &str) -> Vec<&'static str> {
    let heading = format!("{name}:");
    TEMPLATE
        .lines()
        .skip_while(|line| *line != heading)
        .skip(1)
        .take_while(|line| line.is_empty() || line.starts_with(' '))
        .collect()
}

/// The lines of one entry of a section (a parameter, a condition, a resource), heading included:
/// from `  Name:` to the next line indented by two spaces.
fn entry(section: &[&'static str], name: &str) -> Option<Vec<&'static str>> {
    let heading = format!("  {name}:");
    let start = section
        .iter()
        .position(|line| *line == heading || line.starts_with(&format!("{heading} ")))?;
    let body = section[start + 1..]
        .iter()
        .take_while(|line| line.is_empty() || line.starts_with("    "))
        .copied();
    Some(std::iter::once(section[start]).chain(body).collect())
}

/// The names of a section's entries.
fn entries(section: &[&'static str]) -> Vec<&'static str> {
    section
        .iter()
        .filter(|line| {
            line.starts_with("  ") && !line.starts_with("   ") && !line.starts_with("  #")
        })
        .filter_map(|line| line.trim().split(':').next())
        .collect()
}

/// The value after `key: ` in an entry's lines (first occurrence).
fn value<'a>(lines: &[&'a str], key: &str) -> Option<&'a str> {
    let key = format!("{key}: ");
    lines
        .iter()
        .find_map(|line| line.trim().strip_prefix(key.as_str()))
}

const PROVIDERS: [(&str, &str); 4] = [
    ("Baack", "baack"),
    ("ClearId", "clearid"),
    ("Argyle", "argyle"),
    ("Midbound", "midbound"),
];

#[test]
fn the_issue_parameters_exist_with_their_documented_defaults() {
    let parameters = section("Parameters");
    let mut expected = vec![
        ("SubscriptionExpiryAlarmHours", "72"),
        ("BacklogAlarmSeconds", "900"),
        ("AlertEmail", "\"\""),
        ("AlarmTopicArn", "\"\""),
        ("HttpApiThrottlingRateLimit", "100"),
        ("HttpApiThrottlingBurstLimit", "200"),
        ("ReceiverReservedConcurrency", "0"),
        ("EnricherMaxConcurrency", "5"),
    ];
    let retention: Vec<String> = PROVIDERS
        .iter()
        .map(|(p, _)| format!("{p}DedupRetentionSeconds"))
        .collect();
    let silence: Vec<String> = PROVIDERS
        .iter()
        .map(|(p, _)| format!("{p}SilenceAlarmHours"))
        .collect();
    expected.extend(retention.iter().map(|n| (n.as_str(), "\"\"")));
    expected.extend(silence.iter().map(|n| (n.as_str(), "0")));
    for (name, default) in expected {
        let lines = entry(&parameters, name).unwrap_or_else(|| panic!("no parameter {name}"));
        assert_eq!(value(&lines, "Default"), Some(default), "{name}");
    }
    // Empty (the provider's default) or a positive number: the functions refuse 0 at start-up.
    for name in &retention {
        let lines = entry(&parameters, name).unwrap();
        assert_eq!(
            value(&lines, "AllowedPattern"),
            Some("\"^([1-9][0-9]*)?$\""),
            "{name}"
        );
    }
    // ScalingConfig.MaximumConcurrency takes 2 to 1000.
    let enricher = entry(&parameters, "EnricherMaxConcurrency").unwrap();
    assert_eq!(
        (value(&enricher, "MinValue"), value(&enricher, "MaxValue")),
        (Some("2"), Some("1000"))
    );
    assert!(
        entry(&parameters, "DedupRetentionSeconds").is_none(),
        "one retention for every provider overrides Argyle's short window"
    );
}

#[test]
fn no_function_sets_dedup_retention_unconditionally() {
    assert!(
        !section("Globals")
            .concat()
            .contains("DEDUP_RETENTION_SECONDS"),
        "Globals would give every function one retention, Argyle's included"
    );
    let resources = section("Resources");
    let conditions = section("Conditions");
    let mut found = 0;
    for (name, lines) in entries(&resources)
        .into_iter()
        .map(|name| (name, entry(&resources, name).unwrap()))
    {
        for line in lines
            .iter()
            .filter(|l| l.contains("DEDUP_RETENTION_SECONDS"))
        {
            let provider = PROVIDERS
                .iter()
                .map(|(p, _)| *p)
                .find(|p| name == format!("{p}Function"))
                .unwrap_or_else(|| panic!("{name} sets DEDUP_RETENTION_SECONDS"));
            if line.trim().starts_with('#') {
                continue;
            }
            assert_eq!(
                line.trim(),
                format!(
                    "DEDUP_RETENTION_SECONDS: !If [Has{provider}DedupRetention, !Ref {provider}DedupRetentionSeconds, !Ref AWS::NoValue]"
                ),
                "{name}"
            );
            let condition = entry(&conditions, &format!("Has{provider}DedupRetention"))
                .unwrap_or_else(|| panic!("no condition Has{provider}DedupRetention"));
            assert_eq!(
                condition[0].trim(),
                format!(
                    "Has{provider}DedupRetention: !Not [!Equals [!Ref {provider}DedupRetentionSeconds, \"\"]]"
                )
            );
            found += 1;
        }
    }
    assert_eq!(found, PROVIDERS.len(), "each webhook function, once");
}

/// The resources of a type.
fn resources_of(kind: &str) -> Vec<(&'static str, Vec<&'static str>)> {
    let resources = section("Resources");
    entries(&resources)
        .into_iter()
        .map(|name| (name, entry(&resources, name).unwrap()))
        .filter(|(_, lines)| value(lines, "Type") == Some(kind))
        .collect()
}

#[test]
fn every_alarm_notifies_both_topics_and_is_on_the_dashboard() {
    let alarms = resources_of("AWS::CloudWatch::Alarm");
    assert!(
        alarms.len() >= 11,
        "{:?}",
        alarms.iter().map(|a| a.0).collect::<Vec<_>>()
    );
    let dashboard = entry(&section("Resources"), "Dashboard")
        .unwrap()
        .join("\n");
    for (name, lines) in &alarms {
        let text = lines.join("\n");
        assert!(
            text.contains(
                "      AlarmActions:\n        - !If [HasAlertEmail, !Ref AlertTopic, !Ref AWS::NoValue]\n        - !If [HasAlarmTopic, !Ref AlarmTopicArn, !Ref AWS::NoValue]"
            ),
            "{name} does not notify AlertEmail's topic and AlarmTopicArn"
        );
        assert!(
            dashboard.contains(&format!("${{{name}.Arn}}")),
            "{name} is not in the dashboard's alarm list"
        );
        // A conditional alarm's ARN may only appear under its own condition: a plain reference
        // names a resource that does not exist when the condition is false.
        if let Some(condition) = value(lines, "Condition") {
            let mentions = dashboard.lines().filter(|l| !l.trim().starts_with('#'));
            for line in mentions.filter(|l| l.contains(&format!("${{{name}.Arn}}"))) {
                assert!(
                    line.trim()
                        .trim_start_matches("- ")
                        .starts_with(&format!("!If [{condition}, ")),
                    "{name} exists only under {condition}, but the dashboard names it in {line:?}"
                );
            }
        }
    }
}

#[test]
fn silence_alarms_stay_within_cloudwatch_evaluation_limits() {
    let parameters = section("Parameters");
    for (provider, dimension) in PROVIDERS {
        let name = format!("{provider}SilenceAlarm");
        let alarm = entry(&section("Resources"), &name).unwrap_or_else(|| panic!("no {name}"));
        assert_eq!(
            value(&alarm, "Condition"),
            Some(format!("Has{name}").as_str())
        );
        assert_eq!(value(&alarm, "MetricName"), Some("Accepted"));
        assert_eq!(
            value(&alarm, "Value"),
            Some(dimension),
            "{name}: Provider dimension"
        );
        assert_eq!(
            value(&alarm, "TreatMissingData"),
            Some("breaching"),
            "{name}"
        );
        assert_eq!(
            value(&alarm, "EvaluationPeriods"),
            Some(format!("!Ref {provider}SilenceAlarmHours").as_str())
        );
        let period: u64 = value(&alarm, "Period").unwrap().parse().unwrap();
        let hours = entry(&parameters, &format!("{provider}SilenceAlarmHours")).unwrap();
        let max: u64 = value(&hours, "MaxValue").unwrap().parse().unwrap();
        // CloudWatch: Period x EvaluationPeriods at most 7 days, and at most 1 day when the
        // period is under an hour.
        let limit = if period >= 3600 { 7 * 86_400 } else { 86_400 };
        assert!(period * max <= limit, "{name}: {period} s x {max}");
        assert_eq!(
            period * max,
            7 * 86_400,
            "{name}: MaxValue is the most CloudWatch allows"
        );
    }
}

#[test]
fn the_readme_documents_every_parameter() {
    let readme = include_str!("../README.md");
    let rows: Vec<&str> = readme.lines().filter(|l| l.starts_with("| `")).collect();
    for name in entries(&section("Parameters")) {
        assert!(
            rows.iter().any(|row| row.contains(&format!("`{name}`"))),
            "README's parameter table lacks {name}"
        );
    }
}
