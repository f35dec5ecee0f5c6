//! The log lines and metric lines of the functions, as their subscriber writes them:
//! - no secret, token or payload in any line: every failing path is run with its logs captured,
//!   and the capture is searched for each secret and for personal data from the bodies;
//! - every line of a request names it (`requestId`) and, once known, its event (`event_id`);
//! - one metric document per delivery, counting its outcome.

use hookline::logging::{subscriber, Capture};
use hookline::provider::Sample as _;
use hookline::providers::{Argyle, Baack, ClearId, Midbound};
use integration_tests::metrics::{count, counts, gauges};
use integration_tests::samples::now;
use integration_tests::{Event, Harness, Sample};
use serde_json::Value;
use tracing::{Instrument, Level};

/// A secret nobody configured (base64 after `whsec_`, so every provider can sign with it).
const WRONG: &str = "whsec_d3Jvbmctc2VjcmV0LXZhbHVl";

/// A payload marker that must never reach a log, inside otherwise valid bodies.
const MARKER: &str = "PERSONAL-DATA-7f3a";

/// The payload with one more field holding [`MARKER`].
fn with_marker(payload: &str) -> String {
    let rest = payload.trim().strip_prefix('{').expect("a JSON object");
    format!("{{\"note\":\"{MARKER}\",{rest}")
}

async fn failing_paths<S: Sample>() {
    let h = Harness::<S>::new().await;
    let body = with_marker(&S::payload());
    // Wrong credentials, tampered body, missing credentials.
    h.send(Event::new(&S::headers(WRONG, &body), &body).query(S::QUERY))
        .await;
    h.send(
        Event::new(
            &S::headers(S::SECRETS[1], &body),
            &body.replace(MARKER, "other"),
        )
        .query(S::QUERY),
    )
    .await;
    h.send(Event::new(&[], &body).query(S::QUERY)).await;
    // Malformed JSON whose bad value is personal data.
    let bad = format!(
        r#"{{"event": {{"{MARKER}": 1}}, "type": ["{MARKER}"], "trigger": "{MARKER}", "AccountId": ["{MARKER}"]}}"#
    );
    let r = h.send(h.signed(&bad)).await;
    assert_eq!(r.status, 400, "{}", r.body);
    // Accepted, duplicate; then the queue disappears and a new event fails to send.
    h.send(h.signed(&body)).await;
    h.send(h.signed(&body)).await;
    h.resources
        .sqs
        .delete_queue()
        .queue_url(&h.resources.queue_url)
        .send()
        .await
        .unwrap();
    let other = with_marker(&S::unknown_event_payload());
    let r = h
        .send(
            Event::new(&S::headers(S::SECRETS[1], &other), &other).query(S::unknown_event_query()),
        )
        .await;
    // Where the sample's key stays the same (Baack, Midbound) this is a conflict; elsewhere a
    // new event that cannot be queued. Both are failing paths worth logging.
    assert!([409, 503].contains(&r.status), "{}", r.body);
}

#[tokio::test]
async fn no_secret_or_payload_in_any_log_line() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(subscriber(Level::TRACE, capture.clone()));

    hookline::for_each_provider!(|P| failing_paths::<P>().await);
    // A stale Midbound timestamp.
    let h = Harness::<Midbound>::new().await;
    let body = Midbound::payload();
    let stale = Midbound::headers_at(Midbound::SECRETS[0], &body, now() - 3600, None);
    h.send(Event::new(&stale, &body)).await;

    let logs = capture.text();
    for outcome in [
        "rejected",
        "accepted",
        "duplicate",
        "unavailable",
        "conflict",
    ] {
        assert!(
            logs.contains(outcome),
            "no {outcome} line: the capture is not working"
        );
    }
    let secrets = [
        Baack::SECRETS,
        ClearId::SECRETS,
        Argyle::SECRETS,
        Midbound::SECRETS,
    ]
    .concat();
    for secret in secrets.iter().chain(&[WRONG]) {
        let key = secret.trim_start_matches("whsec_");
        assert!(!logs.contains(key), "a secret is in the logs");
    }
    for personal in [
        MARKER,
        "ann.example",
        "EMP-1042",
        "192.0.2.10",
        "Mozilla/5.0",
    ] {
        assert!(!logs.contains(personal), "{personal} is in the logs");
    }
}

/// Sends `event` inside a span like the Lambda runtime's, returning the lines it wrote. At
/// DEBUG: below it, hyper's connection tasks (shared by all requests, inside none) write too.
async fn lines_of<S: Sample>(h: &Harness<S>, request_id: &str, event: Event) -> Vec<Value> {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(subscriber(Level::DEBUG, capture.clone()));
    let span = tracing::info_span!("Lambda runtime invoke", requestId = request_id);
    h.send(event).instrument(span).await;
    capture.lines()
}

async fn every_line_names_its_request_and_event<S: Sample>() {
    let h = Harness::<S>::new().await;
    let body = S::payload();
    let provider = <S as hookline::Provider>::NAME;

    let accepted = lines_of(&h, "req-accepted", h.signed(&body)).await;
    let duplicate = lines_of(&h, "req-duplicate", h.signed(&body)).await;
    // At DEBUG the SDK writes many lines inside the handoff: each must name the event too.
    assert!(
        accepted.len() > 10,
        "{} lines: is DEBUG captured?",
        accepted.len()
    );
    for (lines, request_id) in [(&accepted, "req-accepted"), (&duplicate, "req-duplicate")] {
        let event_id = lines
            .iter()
            .find_map(|line| line["event_id"].as_str())
            .expect("a line names the event")
            .to_string();
        assert!(event_id.starts_with(provider), "{event_id}");
        for line in lines {
            assert_eq!(line["requestId"], request_id, "{line}");
            assert_eq!(line["event_id"], event_id.as_str(), "{line}");
        }
    }
    assert_eq!(counts(&accepted), [count("Accepted", provider, None)]);
    assert_eq!(counts(&duplicate), [count("Duplicate", provider, None)]);
    // Baack says when the subscription lapses: its time left rides along, at no AWS call.
    let gauges = gauges(&accepted);
    if provider == "baack" {
        let expires = 1_782_654_332; // the sample's expirationTimestamp, 2026-06-28T13:45:32Z
        let hours = (expires - now()) as f64 / 3600.0;
        let [(name, value, subscription)] = &gauges[..] else {
            panic!("one gauge expected: {gauges:?}")
        };
        assert_eq!(name, "SubscriptionHoursLeft");
        assert!((value - hours).abs() < 0.2, "{value} vs {hours}");
        assert_eq!(
            subscription.as_deref(),
            Some("urn:baack:webhooksubscription:41f2")
        );
    } else {
        assert!(gauges.is_empty(), "{gauges:?}");
    }

    // Refused before it is identified: the request id, no event id, a count by reason.
    let rejected = lines_of(&h, "req-rejected", Event::new(&[], &body).query(S::QUERY)).await;
    assert!(!rejected.is_empty());
    for line in &rejected {
        assert_eq!(line["requestId"], "req-rejected", "{line}");
        assert!(line.get("event_id").is_none(), "{line}");
    }
    assert_eq!(
        counts(&rejected),
        [count("Rejected", provider, Some("missing_credential"))]
    );
}

#[tokio::test]
async fn every_line_names_its_request_and_event_for_every_provider() {
    hookline::for_each_provider!(|P| every_line_names_its_request_and_event::<P>().await);
}

/// A header value that cannot decode (a control character) makes the event deserializer fail
/// with a message quoting the value: the log line carries the error's category, never that text.
#[tokio::test]
async fn an_undecodable_header_value_never_reaches_a_log_line() {
    let h = Harness::<Argyle>::new().await;
    let body = Argyle::payload();
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(subscriber(Level::TRACE, capture.clone()));
    let bad = format!("{MARKER}\u{1}");
    let mut v2 = h.signed(&body).build();
    v2["headers"]["x-argyle-signature"] = Value::String(bad.clone());
    let mut rest = h
        .signed(&body)
        .shape(integration_tests::Shape::RestApi)
        .build();
    rest["headers"]["x-argyle-signature"] = Value::String(bad.clone());
    rest["multiValueHeaders"]["x-argyle-signature"] = serde_json::json!([bad]);
    let mut bad_name = h.signed(&body).build();
    bad_name["headers"][format!("{MARKER} header")] = Value::String("value".into());
    for (case, event) in [("v2", v2), ("rest", rest), ("header name", bad_name)] {
        let r = integration_tests::invoke(&h.pipeline, event).await;
        assert_eq!(r.status, 400, "{case}: {}", r.body);
        assert_eq!(
            r.body,
            serde_json::json!({"status": "rejected", "error": "unsupported event shape"}),
            "{case}"
        );
    }
    h.assert_untouched().await;

    let lines = capture.lines();
    let rejected: Vec<&Value> = lines
        .iter()
        .filter(|line| line["outcome"] == "rejected")
        .collect();
    assert_eq!(rejected.len(), 3, "one rejection line per event: {lines:?}");
    for line in rejected {
        assert!(
            line["reason"]
                .as_str()
                .unwrap()
                .ends_with("event that does not deserialize: a field has the wrong type or value"),
            "{line}"
        );
    }
    assert!(
        !capture.text().contains(MARKER),
        "the header value is in the logs"
    );
}
