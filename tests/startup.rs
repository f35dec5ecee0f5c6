//! Fail closed: a function refuses to start, naming what is wrong, before serving anything.
//! One test in its own binary, because it changes the process environment.

use hookline::providers::{Argyle, Baack, ClearId, Midbound};

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
}
