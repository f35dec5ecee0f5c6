//! Fail closed: a function refuses to start, naming what is wrong, before serving anything.
//! One test changes the process environment and runs `hookline::run` as a function does; the
//! others build configurations from explicit variables, so they can run beside it.

use hookline::provider::Sample as _;
use hookline::providers::{Argyle, Baack, ClearId, Midbound};
use hookline::runtime::live_pipeline;
use hookline::Config;
use integration_tests::{invoke, Event, Resources, Sample};

async fn start_error<F: std::future::Future<Output = Result<(), hookline::runtime::Error>>>(
    run: F,
) -> String {
    run.await.expect_err("must refuse to start").to_string()
}

#[tokio::test]
async fn functions_refuse_to_start_without_configuration_or_secrets() {
    for name in [
        "EVENTS_TABLE",
        "EVENTS_QUEUE_URL",
        "WEBHOOK_SECRETS",
        "WEBHOOK_SECRETS_ARN",
        "WEBHOOK_SECRET_ENCODING",
        "WEBHOOK_ALLOW_SHORT_SECRETS",
        "WEBHOOK_TOLERANCE_SECONDS",
        "DEDUP_RETENTION_SECONDS",
        "MAX_BODY_BYTES",
    ] {
        std::env::remove_var(name);
    }
    let missing = "missing required environment variables: EVENTS_TABLE, EVENTS_QUEUE_URL, \
                   WEBHOOK_SECRETS (or WEBHOOK_SECRETS_ARN)";
    assert_eq!(start_error(hookline::run::<Baack>()).await, missing);
    assert_eq!(start_error(hookline::run::<ClearId>()).await, missing);

    std::env::set_var("EVENTS_TABLE", "events");
    std::env::set_var("EVENTS_QUEUE_URL", "http://127.0.0.1:1/queue/events");
    std::env::set_var("WEBHOOK_SECRETS", " , ");
    assert_eq!(
        start_error(hookline::run::<Argyle>()).await,
        "no webhook secret configured: refusing to start unauthenticated (fail closed)"
    );

    std::env::set_var("WEBHOOK_SECRETS", "whsec_not*base64");
    std::env::set_var("WEBHOOK_SECRET_ENCODING", "spec");
    let error = start_error(hookline::run::<Midbound>()).await;
    assert_eq!(
        error,
        "WEBHOOK_SECRETS is invalid: secret #1 is not valid base64 after the whsec_ prefix \
         (key encoding spec)"
    );
    assert!(!error.contains("not*base64"));
    std::env::remove_var("WEBHOOK_SECRET_ENCODING");

    // One secret with a comma in it becomes three; the one-byte piece is refused by position.
    std::env::set_var("WEBHOOK_SECRETS", "argyle-secret-2026,x,argyle-secret-2027");
    let error = start_error(hookline::run::<Argyle>()).await;
    assert_eq!(
        error,
        "WEBHOOK_SECRETS is invalid: entry 2 of 3 is shorter than 16 bytes (for a signing \
         secret, the key it gives); entries are split at commas: keep a secret that contains a \
         comma in Secrets Manager (WEBHOOK_SECRETS_ARN) as a JSON array of strings; if the \
         provider issues shorter secrets, set WEBHOOK_ALLOW_SHORT_SECRETS=true"
    );
    assert!(!error.contains("argyle-secret"));
    // A bare whsec_ is an empty HMAC key: refused even with the opt-out.
    std::env::set_var(
        "WEBHOOK_SECRETS",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw,whsec_",
    );
    std::env::set_var("WEBHOOK_ALLOW_SHORT_SECRETS", "true");
    assert_eq!(
        start_error(hookline::run::<Midbound>()).await,
        "WEBHOOK_SECRETS is invalid: entry 2 of 2 gives an empty key (a bare whsec_, or nothing \
         after a Basic client id's colon), which anyone can sign with; refused even with \
         WEBHOOK_ALLOW_SHORT_SECRETS"
    );
    std::env::remove_var("WEBHOOK_ALLOW_SHORT_SECRETS");
    // Midbound's spec key is the decoded base64: these 16 characters give 11 bytes.
    std::env::set_var("WEBHOOK_SECRETS", "whsec_c2hvcnQta2V5LTk=");
    std::env::set_var("WEBHOOK_SECRET_ENCODING", "spec");
    assert!(start_error(hookline::run::<Midbound>())
        .await
        .starts_with("WEBHOOK_SECRETS is invalid: entry 1 of 1 is shorter than 16 bytes"));
    std::env::remove_var("WEBHOOK_SECRET_ENCODING");

    // The same rule for a plain-text secret in Secrets Manager, with the JSON-array advice.
    let resources = Resources::create(false).await;
    let arn = resources.create_secret("argyle-secret-2026,x").await;
    std::env::set_var("WEBHOOK_SECRETS_ARN", &arn);
    let error = start_error(hookline::run::<Argyle>()).await;
    assert_eq!(
        error,
        "WEBHOOK_SECRETS_ARN is invalid: entry 2 of 2 is shorter than 16 bytes (for a signing \
         secret, the key it gives); a plain-text secret is split at commas: store the list as a \
         JSON array of strings, [\"first\", \"second\"], so that a comma stays inside its \
         secret; if the provider issues shorter secrets, set WEBHOOK_ALLOW_SHORT_SECRETS=true"
    );
    assert!(!error.contains("argyle-secret"));
    let broken = resources
        .create_secret(r#"["argyle-secret-2026" "argyle-secret-2027"]"#)
        .await;
    std::env::set_var("WEBHOOK_SECRETS_ARN", &broken);
    assert_eq!(
        start_error(hookline::run::<Argyle>()).await,
        "WEBHOOK_SECRETS_ARN is invalid: the secret starts with [ but is not a JSON array of \
         strings"
    );
    std::env::remove_var("WEBHOOK_SECRETS_ARN");

    // A body limit whose largest deliveries could never be stored and queued.
    std::env::set_var("WEBHOOK_SECRETS", "argyle-secret-2026");
    let ceiling = hookline::limits::max_body_bytes_that_fit();
    std::env::set_var("MAX_BODY_BYTES", (ceiling + 1).to_string());
    assert_eq!(
        start_error(hookline::run::<Argyle>()).await,
        format!(
            "MAX_BODY_BYTES is invalid: {} is above {ceiling}, the largest body whose dedup \
             record (a DynamoDB item) and queue message (SQS) still fit",
            ceiling + 1
        )
    );
    std::env::remove_var("MAX_BODY_BYTES");

    // A replay window wide enough to switch replay protection off.
    std::env::set_var("WEBHOOK_SECRETS", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    std::env::set_var("WEBHOOK_TOLERANCE_SECONDS", "31536000");
    assert_eq!(
        start_error(hookline::run::<Midbound>()).await,
        "WEBHOOK_TOLERANCE_SECONDS is invalid: 31536000 is above 3600: a wider window lets a \
         captured delivery be replayed for that long (retries are signed anew, so skew and \
         transit are all it must cover)"
    );
    // Records that expire while the window still accepts their delivery.
    std::env::set_var("WEBHOOK_TOLERANCE_SECONDS", "300");
    std::env::set_var("DEDUP_RETENTION_SECONDS", "599");
    assert_eq!(
        start_error(hookline::run::<Midbound>()).await,
        "DEDUP_RETENTION_SECONDS is invalid: 599 s is not more than twice the 300 s replay \
         tolerance (WEBHOOK_TOLERANCE_SECONDS, past and future): a replay still inside the \
         window after its record expired would be handled again; use at least 601"
    );
}

fn config(resources: &Resources, vars: &[(&str, &str)]) -> Config {
    let vars: Vec<(&str, String)> = vars.iter().map(|(k, v)| (*k, v.to_string())).collect();
    resources.config(&vars)
}

/// The opt-out lets a provider's short secrets through, and only with it do they start.
#[tokio::test]
async fn short_secrets_start_only_with_the_opt_out() {
    let resources = Resources::create(false).await;
    let short = [("WEBHOOK_SECRETS", "tok-2025,tok-2026")];
    let refused = live_pipeline::<Baack>(
        &config(&resources, &short),
        hookline::secrets::Secrets::parse("tok-2025,tok-2026"),
        &resources.sdk,
    );
    assert!(refused
        .err()
        .unwrap()
        .to_string()
        .starts_with("WEBHOOK_SECRETS is invalid: entry 1 of 2 is shorter than 16 bytes"));
    let lenient = config(
        &resources,
        &[short[0], ("WEBHOOK_ALLOW_SHORT_SECRETS", "true")],
    );
    let pipeline = resources.pipeline::<Baack>(&lenient).await;
    let body = Baack::payload();
    let headers = vec![("Authorization".to_string(), "Bearer tok-2026".to_string())];
    invoke(&pipeline, Event::new(&headers, &body).build())
        .await
        .expect(200, "accepted");
}

/// In Secrets Manager's JSON-array form a comma stays inside its secret.
#[tokio::test]
async fn a_json_array_keeps_a_comma_inside_its_secret() {
    let resources = Resources::create(false).await;
    let secret = "argyle,secret,with,commas";
    let arn = resources
        .create_secret(&serde_json::json!([secret]).to_string())
        .await;
    let pipeline = resources
        .pipeline::<Argyle>(&config(&resources, &[("WEBHOOK_SECRETS_ARN", &arn)]))
        .await;
    let body = Argyle::payload();
    invoke(
        &pipeline,
        Event::new(&Argyle::headers(secret, &body), &body).build(),
    )
    .await
    .expect(200, "accepted");
    let piece = Argyle::headers("argyle", &body);
    invoke(&pipeline, Event::new(&piece, &body).build())
        .await
        .expect(401, "rejected");
}

/// Only a scheme with a replay window ties the retention to the tolerance.
#[tokio::test]
async fn a_short_retention_is_refused_only_with_a_replay_window() {
    let resources = Resources::create(false).await;
    let vars = [
        ("DEDUP_RETENTION_SECONDS", "600"),
        ("WEBHOOK_TOLERANCE_SECONDS", "300"),
    ];
    let argyle = config(
        &resources,
        &[vars[0], vars[1], ("WEBHOOK_SECRETS", "argyle-secret-2026")],
    );
    assert!(live_pipeline::<Argyle>(&argyle, argyle.secrets.inline(), &resources.sdk).is_ok());
    let midbound = config(
        &resources,
        &[
            vars[0],
            vars[1],
            ("WEBHOOK_SECRETS", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        ],
    );
    let refused = live_pipeline::<Midbound>(&midbound, midbound.secrets.inline(), &resources.sdk);
    assert_eq!(
        refused.err().unwrap().to_string(),
        "DEDUP_RETENTION_SECONDS is invalid: 600 s is not more than twice the 300 s replay \
         tolerance (WEBHOOK_TOLERANCE_SECONDS, past and future): a replay still inside the \
         window after its record expired would be handled again; use at least 601"
    );
    let enough = config(
        &resources,
        &[
            ("DEDUP_RETENTION_SECONDS", "601"),
            vars[1],
            ("WEBHOOK_SECRETS", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        ],
    );
    assert!(live_pipeline::<Midbound>(&enough, enough.secrets.inline(), &resources.sdk).is_ok());
}
