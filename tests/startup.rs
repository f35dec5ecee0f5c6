//! Fail closed: a function refuses to start, naming what is wrong, before serving anything.
//! One test in its own binary, because it changes the process environment.

use hookline::providers::{Argyle, Baack, ClearId, Midbound};

#[tokio::test]
async fn functions_refuse_to_start_without_configuration_or_secrets() {
    for name in [
        "EVENTS_TABLE",
        "EVENTS_QUEUE_URL",
        "WEBHOOK_SECRETS",
        "WEBHOOK_SECRET_ENCODING",
    ] {
        std::env::remove_var(name);
    }
    let missing =
        "missing required environment variables: EVENTS_TABLE, EVENTS_QUEUE_URL, WEBHOOK_SECRETS";
    assert_eq!(
        hookline::run::<Baack>().await.unwrap_err().to_string(),
        missing
    );
    assert_eq!(
        hookline::run::<ClearId>().await.unwrap_err().to_string(),
        missing
    );

    std::env::set_var("EVENTS_TABLE", "events");
    std::env::set_var("EVENTS_QUEUE_URL", "http://127.0.0.1:1/queue/events");
    std::env::set_var("WEBHOOK_SECRETS", " , ");
    let no_secret =
        "WEBHOOK_SECRETS has no secret: refusing to start unauthenticated (fail closed)";
    assert_eq!(
        hookline::run::<Argyle>().await.unwrap_err().to_string(),
        no_secret
    );

    std::env::set_var("WEBHOOK_SECRETS", "whsec_not*base64");
    std::env::set_var("WEBHOOK_SECRET_ENCODING", "spec");
    let error = hookline::run::<Midbound>().await.unwrap_err().to_string();
    assert_eq!(
        error,
        "WEBHOOK_SECRETS is invalid: secret #1 is not valid base64 after the whsec_ prefix (key encoding spec)"
    );
    assert!(!error.contains("not*base64"));
}
