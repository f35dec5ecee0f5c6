//! Secret rotation reaching running functions, against the emulator's Secrets Manager: a value
//! put while a function runs is used once the cached one is older than `SECRETS_CACHE_SECONDS`,
//! the old one refused once the rotation's overlap ends; a re-read costs no call in between, and
//! a failed one keeps the previous secret.

use aws_types::service_config::{LoadServiceConfig, ServiceConfigKey};
use hookline::enrich::{EnricherConfig, LiveEnricher};
use hookline::provider::Sample as _;
use hookline::providers::Argyle;
use hookline::runtime::LiveFunction;
use hookline::secrets::Refresh;
use integration_tests::aws::Resources;
use integration_tests::faults::{Fault, FaultProxy};
use integration_tests::samples::now;
use integration_tests::{Event, Sample};
use std::collections::HashMap;

const OLD: &str = "argyle-rotation-2026-old";
const NEW: &str = "argyle-rotation-2027-new";
const GET_SECRET: &str = "secretsmanager.GetSecretValue";

/// The status of a delivery of the sample payload signed with `secret`, at `at`.
async fn status(function: &LiveFunction<Argyle>, secret: &str, at: i64) -> u16 {
    let body = Argyle::payload();
    let event = Event::new(&Argyle::headers(secret, &body), &body).build();
    let raw = function.handle_event_at(event, "rotation", at).await;
    raw["statusCode"].as_u64().expect("statusCode") as u16
}

fn config(resources: &Resources, arn: &str, lifetime: &str) -> hookline::Config {
    resources.config(&[
        ("WEBHOOK_SECRETS_ARN", arn.to_string()),
        ("SECRETS_CACHE_SECONDS", lifetime.to_string()),
    ])
}

/// A stack, its secret holding `OLD`, and an Argyle function started now with a 300 s lifetime.
async fn running_with_old_secret() -> (Resources, String, i64, LiveFunction<Argyle>) {
    let resources = Resources::create(false).await;
    let arn = resources.create_secret(&format!(r#"["{OLD}"]"#)).await;
    let t = now();
    let function =
        LiveFunction::<Argyle>::start(&config(&resources, &arn, "300"), &resources.sdk, t)
            .await
            .unwrap();
    (resources, arn, t, function)
}

#[tokio::test]
async fn a_rotation_reaches_a_running_function_within_the_lifetime() {
    let (resources, arn, t, function) = running_with_old_secret().await;
    assert_eq!(status(&function, OLD, t).await, 200);

    // The rotation begins: both values. Inside the lifetime the running function still has
    // the old list only.
    resources
        .put_secret(&arn, &format!(r#"["{OLD}", "{NEW}"]"#))
        .await;
    assert_eq!(status(&function, NEW, t + 299).await, 401);
    // After it, both verify.
    assert_eq!(status(&function, NEW, t + 300).await, 200);
    assert_eq!(status(&function, OLD, t + 301).await, 200);

    // The provider switched: the new value only. The old one is accepted until the cached list
    // is a lifetime old, then refused.
    resources.put_secret(&arn, &format!(r#"["{NEW}"]"#)).await;
    assert_eq!(status(&function, OLD, t + 599).await, 200);
    assert_eq!(status(&function, OLD, t + 600).await, 401);
    assert_eq!(status(&function, NEW, t + 601).await, 200);
    // A comma-separated list is a rotation's form too.
    resources.put_secret(&arn, &format!("{NEW}, {OLD}")).await;
    assert_eq!(status(&function, OLD, t + 900).await, 200);
}

#[derive(Debug)]
struct NoEnvironment;

impl LoadServiceConfig for NoEnvironment {
    fn load_config(&self, _key: ServiceConfigKey<'_>) -> Option<String> {
        None
    }
}

/// The function on a Secrets Manager secret, its AWS traffic through a fault proxy.
async fn behind_proxy(lifetime: &str) -> (Resources, String, FaultProxy, LiveFunction<Argyle>) {
    let resources = Resources::create(false).await;
    let arn = resources.create_secret(&format!(r#"["{OLD}"]"#)).await;
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap();
    let (proxy, url) = FaultProxy::start(&endpoint).await;
    let sdk = resources
        .sdk
        .to_builder()
        .endpoint_url(url)
        .service_config(NoEnvironment)
        .build();
    let config = config(&resources, &arn, lifetime);
    let function = LiveFunction::<Argyle>::start(&config, &sdk, now())
        .await
        .unwrap();
    (resources, arn, proxy, function)
}

#[tokio::test]
async fn no_secrets_manager_call_per_delivery_until_the_lifetime_ends() {
    let (_resources, _arn, proxy, function) = behind_proxy("300").await;
    let t = now();
    proxy.reset_calls();
    assert_eq!(status(&function, OLD, t).await, 200);
    assert_eq!(status(&function, OLD, t + 1).await, 200);
    assert_eq!(status(&function, "forged-secret-value", t + 2).await, 401);
    assert!(
        !proxy.calls().iter().any(|c| c == GET_SECRET),
        "{:?}",
        proxy.calls()
    );
    proxy.reset_calls();
    assert_eq!(status(&function, OLD, t + 300).await, 200);
    assert_eq!(proxy.calls()[0], GET_SECRET, "{:?}", proxy.calls());
    assert_eq!(proxy.calls().iter().filter(|c| *c == GET_SECRET).count(), 1);
}

#[tokio::test]
async fn a_failed_re_read_keeps_serving_with_the_previous_secret() {
    let (resources, arn, proxy, function) = behind_proxy("300").await;
    let t = now();
    resources.put_secret(&arn, &format!(r#"["{NEW}"]"#)).await;
    // Secrets Manager refuses the re-read (three SDK attempts), then answers too slowly.
    proxy.inject(
        GET_SECRET,
        Fault::Fail {
            status: 500,
            error_type: "InternalServiceError",
        },
        3,
    );
    let (_, refresh) = function.pipeline(t + 300).await;
    assert!(matches!(refresh, Refresh::Failed(_)), "{refresh:?}");
    assert_eq!(
        status(&function, OLD, t + 301).await,
        200,
        "served as before"
    );
    // Retried 30 s later, not at every delivery.
    proxy.reset_calls();
    assert_eq!(status(&function, OLD, t + 329).await, 200);
    assert!(!proxy.calls().iter().any(|c| c == GET_SECRET));
    proxy.inject(
        GET_SECRET,
        Fault::Delay(std::time::Duration::from_millis(1500)),
        1,
    );
    let started = std::time::Instant::now();
    let (_, refresh) = function.pipeline(t + 330).await;
    assert!(matches!(refresh, Refresh::Failed(_)), "{refresh:?}");
    assert!(started.elapsed() < std::time::Duration::from_millis(1400));
    // Once Secrets Manager answers, the new value is in use. The re-read has 1 s of real time;
    // on a machine busy with other tests the emulator can take longer, and the function then
    // tries again 30 s later, as it would on AWS: a few tries are allowed, not a wrong value.
    let mut at = t + 360;
    loop {
        match function.pipeline(at).await.1 {
            Refresh::Changed => break,
            Refresh::Failed(error) if at < t + 360 + 4 * 30 => {
                eprintln!(
                    "re-read at +{} failed ({error}); the next try is 30 s later",
                    at - t
                )
            }
            other => panic!("the re-read at +{}: {other:?}", at - t),
        }
        at += 30;
    }
    assert_eq!(status(&function, NEW, at + 1).await, 200);
    assert_eq!(status(&function, OLD, at + 2).await, 401);
}

#[tokio::test]
async fn the_enricher_re_reads_its_credentials() {
    let resources = Resources::create(false).await;
    let arn = resources
        .create_secret(r#"{"BAACK_API_TOKEN": "baack-api-token-one"}"#)
        .await;
    let vars: HashMap<&str, String> = [
        ("EVENTS_TABLE", resources.table.clone()),
        ("HISTORY_TABLE", resources.history_table.clone()),
        ("IDENTITIES_TABLE", resources.identities_table.clone()),
        ("EVENT_BUS_NAME", resources.event_bus.clone()),
        ("ENRICHER_SECRETS_ARN", arn.clone()),
        ("SECRETS_CACHE_SECONDS", "60".to_string()),
    ]
    .into();
    let config = EnricherConfig::from_lookup(|name| vars.get(name).cloned()).unwrap();
    let t = now();
    let enricher = LiveEnricher::start(&config, &resources.sdk, t)
        .await
        .unwrap();
    let first = enricher.current(t).await;
    assert_eq!(enricher.current_with(t + 59).await.1, Refresh::Cached);
    let (same, refresh) = enricher.current_with(t + 60).await;
    assert_eq!(refresh, Refresh::Unchanged);
    assert!(std::sync::Arc::ptr_eq(&first, &same));
    resources
        .put_secret(&arn, r#"{"BAACK_API_TOKEN": "baack-api-token-two"}"#)
        .await;
    assert_eq!(enricher.current_with(t + 120).await.1, Refresh::Changed);
    // Not a JSON object: kept the clients it had.
    resources.put_secret(&arn, "not json").await;
    let (kept, refresh) = enricher.current_with(t + 180).await;
    assert!(matches!(refresh, Refresh::Failed(_)), "{refresh:?}");
    assert!(!std::sync::Arc::ptr_eq(&first, &kept));
}

#[tokio::test]
async fn a_refused_or_new_secret_never_reaches_a_log_line() {
    use hookline::logging::{subscriber, Capture};
    let capture = Capture::default();
    let _guard =
        tracing::subscriber::set_default(subscriber(tracing::Level::TRACE, capture.clone()));
    let (resources, arn, t, function) = running_with_old_secret().await;
    // Refused by the start-up rules (an entry under 16 bytes): kept the old list, said why.
    const SHORT: &str = "short-7f3a";
    resources
        .put_secret(&arn, &format!(r#"["{NEW}", "{SHORT}"]"#))
        .await;
    let (_, refresh) = function.pipeline(t + 300).await;
    assert!(matches!(refresh, Refresh::Failed(_)), "{refresh:?}");
    assert_eq!(status(&function, OLD, t + 301).await, 200);
    resources.put_secret(&arn, &format!(r#"["{NEW}"]"#)).await;
    assert_eq!(status(&function, NEW, t + 330).await, 200);
    let text = capture.text();
    assert!(
        text.contains("could not refresh the secrets: serving with the ones read before"),
        "{text}"
    );
    assert!(
        text.contains("entry 2 of 2 is shorter than 16 bytes"),
        "{text}"
    );
    assert!(text.contains("secrets re-read: a new value is in use"));
    for secret in [OLD, NEW, SHORT] {
        assert!(!text.contains(secret), "{secret} in the logs");
    }
}
