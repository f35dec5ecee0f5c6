//! Every reason a delivery can be refused for (`Rejection::REASONS`, the `Reason` dimension of
//! the `Rejected` metric), each produced by a real delivery through a provider's handler: its
//! status, its one metric line, nothing stored or queued. And docs/operations.md names exactly
//! those reasons, in the metric's table and in the runbook, so neither drifts from the code.

use hookline::logging::{subscriber, Capture};
use hookline::rejection::Rejection;
use hookline::verify::standard_webhooks::TIMESTAMP_HEADER;
use hookline::Provider;
use integration_tests::metrics::{count, counts};
use integration_tests::samples::now;
use integration_tests::{Event, Harness, Sample};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use tracing::Level;

/// A secret nobody configured (base64 after `whsec_`, so every provider can sign with it).
const WRONG: &str = "whsec_d3Jvbmctc2VjcmV0LXZhbHVl";

/// The body limit of the harness: a body above it is `payload_too_large`.
const LIMIT: usize = 4096;

/// The headers `S` signs `body` with, with the credential's shape broken (the scheme's required
/// form not met), or `None` where the scheme has no shape to break (a raw shared token).
fn malformed_credential<S: Sample>(body: &str) -> Option<Vec<(String, String)>> {
    let mut headers = S::headers(S::SECRETS[1], body);
    headers.iter_mut().find_map(|(name, value)| {
        *value = match name.as_str() {
            // Standard Webhooks: a timestamp that is not a number.
            TIMESTAMP_HEADER => "soon",
            // Argyle: a signature that is not hexadecimal.
            "x-argyle-signature" => "not-hex",
            // A bearer token without its scheme.
            "authorization" => "Token abc",
            _ => return None,
        }
        .to_string();
        Some(())
    })?;
    Some(headers)
}

/// The delivery that `S`'s function must refuse for `reason`, and the status it must answer;
/// `None` where the provider's scheme cannot produce that reason (a shared token has no
/// timestamp). A reason with no row here fails the test.
fn refused_for<S: Sample>(h: &Harness<S>, reason: &str) -> Option<(u16, Value)> {
    let body = S::payload();
    let case = match reason {
        "method_not_allowed" => (405, h.signed(&body).method("GET").build()),
        "payload_too_large" => (413, h.signed(&"x".repeat(LIMIT + 1)).build()),
        "malformed_base64" => (400, h.signed("{}").raw_base64_body("%%%").build()),
        "unsupported_event" => (400, json!({"Records": [{"body": "{}"}]})),
        "missing_credential" => (401, Event::new(&[], &body).query(S::QUERY).build()),
        "malformed_credential" => {
            let headers = malformed_credential::<S>(&body)?;
            (401, Event::new(&headers, &body).query(S::QUERY).build())
        }
        "bad_signature" => (
            401,
            Event::new(&S::headers(WRONG, &body), &body)
                .query(S::QUERY)
                .build(),
        ),
        "outside_replay_window" => {
            let stale = S::headers_at(S::SECRETS[1], &body, now() - 3600, None);
            stale.iter().find(|(name, _)| name == TIMESTAMP_HEADER)?;
            (401, Event::new(&stale, &body).query(S::QUERY).build())
        }
        "invalid_payload" => (400, h.signed("[1,2,3]").build()),
        other => panic!("no delivery refused for {other:?}: add a row to refused_for"),
    };
    Some(case)
}

/// Sends each reason's delivery to `S`'s function and asserts what it answers, counts and
/// leaves; returns the reasons `S` produced.
async fn every_reason<S: Sample>() -> BTreeSet<&'static str> {
    let h = Harness::<S>::with(false, &[("MAX_BODY_BYTES", LIMIT.to_string())]).await;
    let provider = <S as Provider>::NAME;
    let mut produced = BTreeSet::new();
    for &reason in Rejection::REASONS {
        let Some((status, event)) = refused_for(&h, reason) else {
            continue;
        };
        let capture = Capture::default();
        let response = {
            let _guard = tracing::subscriber::set_default(subscriber(Level::INFO, capture.clone()));
            integration_tests::invoke(&h.pipeline, event).await
        };
        let case = format!("{provider} {reason}");
        assert_eq!(response.status, status, "{case}: {}", response.body);
        assert_eq!(response.body["status"], "rejected", "{case}");

        let lines = capture.lines();
        assert_eq!(
            counts(&lines),
            [count("Rejected", provider, Some(reason))],
            "{case}: one Rejected line with its provider and reason"
        );
        let metric = lines
            .iter()
            .find(|line| line.get("Rejected").is_some())
            .expect("the Rejected line");
        assert_eq!(
            metric["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Provider"], ["Provider", "Reason"], []]),
            "{case}: counted by provider, by provider and reason, and in total"
        );
        h.assert_untouched().await;
        produced.insert(reason);
    }
    produced
}

#[tokio::test]
async fn every_rejection_reason_is_answered_counted_and_leaves_nothing() {
    let mut produced = BTreeSet::new();
    hookline::for_each_provider!(|P| produced.extend(every_reason::<P>().await));
    assert_eq!(
        produced,
        Rejection::REASONS.iter().copied().collect(),
        "each reason produced by at least one provider"
    );
}

/// The lowercase `snake_case` names in backticks in `text`: how the documents write a reason.
fn named_reasons(text: &str) -> BTreeSet<&str> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|name| {
            name.contains('_')
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        })
        .collect()
}

#[test]
fn the_operations_document_names_exactly_the_reasons_the_metric_counts() {
    let operations = include_str!("../docs/operations.md");
    let code: BTreeSet<&str> = Rejection::REASONS.iter().copied().collect();

    let row = operations
        .lines()
        .find(|line| line.starts_with("| `Rejected`"))
        .expect("Observability's metric table has a Rejected row");
    assert_eq!(named_reasons(row), code, "Observability's Rejected row");

    let runbook = operations
        .split("\n**`RejectedSpikeAlarm`")
        .nth(1)
        .expect("the runbook has a RejectedSpikeAlarm entry");
    let entry = runbook.split("\n\n").next().unwrap_or_default();
    assert_eq!(
        named_reasons(entry),
        code,
        "the runbook's RejectedSpikeAlarm entry"
    );
}
