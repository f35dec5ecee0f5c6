//! `hookline secrets` against a stack on the emulator's Secrets Manager (scripts/test): the
//! status shows counts and strengths, never a value; `set` prints a new secret once and the
//! function verifies with it; a rotation done in its three steps (rotate, the provider
//! switches, drop-old) refuses no delivery signed with the provider's current secret; and what
//! cannot be done is refused before anything changes.

mod support;

use hookline::provider::Sample as _;
use hookline::providers::Argyle;
use hookline::runtime::LiveFunction;
use integration_tests::{samples::now, Event, Resources, Sample};
use serde_json::Value;
use std::process::{Output, Stdio};
use support::{json_lines, stderr, stdout};

/// The status of a delivery of Argyle's sample signed with `secret`, handled at `at`.
async fn delivered(function: &LiveFunction<Argyle>, secret: &str, at: i64) -> u16 {
    let body = Argyle::payload();
    let event = Event::new(&Argyle::headers(secret, &body), &body).build();
    let raw = function.handle_event_at(event, "secrets", at).await;
    raw["statusCode"].as_u64().expect("statusCode") as u16
}

/// `hookline secrets ARGS... --stack <the stack>`, nobody at a terminal to ask.
fn secrets(resources: &Resources, args: &[&str]) -> Output {
    support::command()
        .arg("secrets")
        .args(args)
        .args(["--stack", &resources.stack_name])
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// The text the stack's Argyle secret holds now.
async fn stored(resources: &Resources, arn: &str) -> Vec<String> {
    let value = aws_sdk_secretsmanager::Client::new(&resources.sdk)
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .expect("the secret");
    serde_json::from_str(value.secret_string().unwrap()).expect("a JSON array")
}

#[tokio::test]
async fn a_rotation_in_three_steps_refuses_no_delivery() {
    let resources = Resources::create(false).await;
    let arn = resources.secrets["ArgyleWebhookSecrets"].clone();
    let t = now();
    let config = resources.config(&[
        ("WEBHOOK_SECRETS_ARN", arn.clone()),
        ("SECRETS_CACHE_SECONDS", "300".into()),
    ]);
    let function = LiveFunction::<Argyle>::start(&config, &resources.sdk, t)
        .await
        .unwrap();

    // set: one new secret alone, printed once; the function takes it at its next read.
    let set = secrets(&resources, &["set", "--provider", "argyle", "--yes"]);
    assert_eq!(set.status.code(), Some(0), "{}", stderr(&set));
    let first = stdout(&set).trim().to_string();
    assert_eq!(first.len(), 64, "64 hex digits: {first}");
    assert_eq!(stored(&resources, &arn).await, std::slice::from_ref(&first));
    assert_eq!(delivered(&function, &first, t + 300).await, 200);

    // The status: one secret, its key the 64 characters (32 random bytes in hex), and no value
    // anywhere in what it prints.
    let status = secrets(&resources, &["status", "--json"]);
    assert_eq!(status.status.code(), Some(0), "{}", stderr(&status));
    let lines = json_lines(&stdout(&status));
    let argyle = lines
        .iter()
        .find(|l| l["provider"] == "argyle")
        .expect("argyle's line");
    assert_eq!(
        (&argyle["secrets"], &argyle["strengths"], &argyle["strong"]),
        (
            &Value::from(1),
            &serde_json::json!([64]),
            &Value::from(true)
        )
    );
    assert_eq!(lines.len(), hookline::providers::ALL.len());
    assert!(!format!("{}{}", stdout(&status), stderr(&status)).contains(&first));

    // rotate: a second secret beside the first, newest last.
    let rotate = secrets(
        &resources,
        &["rotate", "--provider", "argyle", "--yes", "--json"],
    );
    assert_eq!(rotate.status.code(), Some(0), "{}", stderr(&rotate));
    let report: Value = serde_json::from_str(&stdout(&rotate)).unwrap();
    assert_eq!(
        (&report["secrets_before"], &report["secrets_after"]),
        (&1.into(), &2.into())
    );
    let second = report["secret"]
        .as_str()
        .expect("the new secret")
        .to_string();
    assert_eq!(
        stored(&resources, &arn).await,
        [first.clone(), second.clone()]
    );
    // Throughout, a delivery signed with the secret the provider uses is accepted: the old one
    // until the provider switches, then the new one (once every instance has read it).
    for at in [t + 301, t + 599, t + 600] {
        assert_eq!(
            delivered(&function, &first, at).await,
            200,
            "at +{}",
            at - t
        );
    }
    assert_eq!(delivered(&function, &second, t + 600).await, 200);

    // drop-old: the newest alone; the old one is refused once the function reads it again.
    let drop = secrets(&resources, &["drop-old", "--provider", "argyle", "--yes"]);
    assert_eq!(drop.status.code(), Some(0), "{}", stderr(&drop));
    assert_eq!(stdout(&drop), "", "nothing new to show");
    assert_eq!(
        stored(&resources, &arn).await,
        std::slice::from_ref(&second)
    );
    assert_eq!(delivered(&function, &second, t + 900).await, 200);
    assert_eq!(delivered(&function, &first, t + 901).await, 401);
}

#[tokio::test]
async fn what_cannot_be_done_is_refused_and_changes_nothing() {
    let resources = Resources::create(false).await;
    let arn = resources.secrets["ArgyleWebhookSecrets"].clone();
    resources
        .put_secret(&arn, r#"["argyle-secret-only-one-0123"]"#)
        .await;

    // Nobody to ask and no --yes: refused before any call (exit 2).
    let unasked = secrets(&resources, &["rotate", "--provider", "argyle"]);
    assert_eq!(unasked.status.code(), Some(2), "{}", stderr(&unasked));
    assert!(stderr(&unasked).contains("--yes"), "{}", stderr(&unasked));
    // One secret: nothing older to drop (exit 1), in a dry run too.
    for extra in [&["--yes"][..], &["--dry-run"]] {
        let args = [&["drop-old", "--provider", "argyle"][..], extra].concat();
        let refused = secrets(&resources, &args);
        assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
        assert!(
            stderr(&refused).contains("nothing older to drop"),
            "{}",
            stderr(&refused)
        );
    }
    // Midbound issues its own secret: none is made up for it.
    let midbound = secrets(&resources, &["rotate", "--provider", "midbound", "--yes"]);
    assert_eq!(midbound.status.code(), Some(2), "{}", stderr(&midbound));
    assert!(
        stderr(&midbound).contains("issues its own"),
        "{}",
        stderr(&midbound)
    );
    // A dry run says what would change and changes nothing.
    let dry = secrets(&resources, &["rotate", "--provider", "argyle", "--dry-run"]);
    assert_eq!(dry.status.code(), Some(0), "{}", stderr(&dry));
    assert!(
        stderr(&dry).contains("1 secret(s) would go to 2"),
        "{}",
        stderr(&dry)
    );
    assert_eq!(stdout(&dry), "", "a dry run shows no secret");
    assert_eq!(
        stored(&resources, &arn).await,
        ["argyle-secret-only-one-0123"]
    );
}
