//! No secret, token or payload in any log line: every failing path is run with its logs
//! captured, and the capture is searched for each secret and for personal data from the bodies.

use integration_tests::samples::{now, ArgyleSample, BaackSample, ClearIdSample, MidboundSample};
use integration_tests::{Event, Harness, Sample};
use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

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
    h.send(Event::new(&S::sign(WRONG, &body), &body).query(S::QUERY))
        .await;
    h.send(
        Event::new(
            &S::sign(S::SECRETS[1], &body),
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
        .send(Event::new(&S::sign(S::SECRETS[1], &other), &other).query(S::unknown_event_query()))
        .await;
    // Where the sample's key stays the same (Baack, Midbound) this is a conflict; elsewhere a
    // new event that cannot be queued. Both are failing paths worth logging.
    assert!([409, 503].contains(&r.status), "{}", r.body);
}

#[tokio::test]
async fn no_secret_or_payload_in_any_log_line() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    failing_paths::<BaackSample>().await;
    failing_paths::<ClearIdSample>().await;
    failing_paths::<ArgyleSample>().await;
    failing_paths::<MidboundSample>().await;
    // A stale Midbound timestamp.
    let h = Harness::<MidboundSample>::new().await;
    let body = MidboundSample::payload();
    let stale = MidboundSample::sign_at(MidboundSample::SECRETS[0], &body, now() - 3600, None);
    h.send(Event::new(&stale, &body)).await;

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
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
        BaackSample::SECRETS,
        ClearIdSample::SECRETS,
        ArgyleSample::SECRETS,
        MidboundSample::SECRETS,
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
