//! The enricher against the emulator (DynamoDB, SQS with a dead-letter queue) and local HTTP
//! servers standing in for each provider's API.

use hookline::enrich::{
    enricher_from_config, DynamoDbEnrichedStore, EnrichError, EnrichOutcome, Enricher,
    EnricherConfig, FetchError,
};
use hookline::logging::{subscriber, Capture};
use integration_tests::aws::{n, s};
use integration_tests::metrics::{count, counts};
use integration_tests::samples::{ArgyleSample, BaackSample, ClearIdSample, MidboundSample};
use integration_tests::{Harness, Resources, Sample};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tracing::Level;
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ARGYLE_ID: &str = "0187c66e-f13b-31e4-6b2c-6a0dd4f67e43";
/// base64("argyle-key-id:argyle-key-secret")
const ARGYLE_BASIC: &str = "Basic YXJneWxlLWtleS1pZDphcmd5bGUta2V5LXNlY3JldA==";

struct Setup {
    resources: Resources,
    api: MockServer,
    enricher: Enricher<DynamoDbEnrichedStore>,
}

/// The enricher on `table`, every provider's API at `api` with test credentials.
async fn enricher_for(resources: &Resources, api: &MockServer) -> Enricher<DynamoDbEnrichedStore> {
    let uri = api.uri();
    let vars = [
        ("EVENTS_TABLE", resources.table.clone()),
        ("BAACK_API_BASE", uri.clone()),
        ("BAACK_API_TOKEN", "baack-api-token".into()),
        ("ARGYLE_API_BASE", uri.clone()),
        ("ARGYLE_API_KEY_ID", "argyle-key-id".into()),
        ("ARGYLE_API_KEY_SECRET", "argyle-key-secret".into()),
        ("CLEARID_API_BASE", uri.clone()),
        ("CLEARID_TOKEN_URL", format!("{uri}/connect/token")),
        ("CLEARID_CLIENT_ID", "clearid-client".into()),
        ("CLEARID_CLIENT_SECRET", "clearid-client-secret".into()),
        ("HTTP_TIMEOUT_SECONDS", "2".into()),
        ("HTTP_MAX_ATTEMPTS", "3".into()),
    ];
    let config = EnricherConfig::from_lookup(|name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    })
    .unwrap();
    enricher_from_config(&config, &resources.sdk).await.unwrap()
}

async fn setup() -> Setup {
    let resources = Resources::create(false).await;
    let api = MockServer::start().await;
    let enricher = enricher_for(&resources, &api).await;
    Setup {
        resources,
        api,
        enricher,
    }
}

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(30)
}

/// A queue message body as ingestion writes it.
fn envelope(
    provider: &str,
    event_id: &str,
    event_type: &str,
    resource: Value,
    payload: Value,
) -> String {
    let mut envelope = json!({
        "version": 1, "event_id": event_id, "provider": provider, "event_type": event_type,
        "recognized": true, "received_at": "2026-11-23T10:00:00Z", "payload": payload
    });
    if !resource.is_null() {
        envelope["resource"] = resource;
    }
    envelope.to_string()
}

fn argyle_envelope(event_id: &str) -> String {
    envelope(
        "argyle",
        event_id,
        "identities.updated",
        json!({"id": ARGYLE_ID, "url": format!("/v2/identities/{ARGYLE_ID}")}),
        json!({"event": "identities.updated", "data": {"identity": ARGYLE_ID}}),
    )
}

fn argyle_identity(updated_at: &str) -> Value {
    json!({"id": ARGYLE_ID, "first_name": "Ann", "ssn": "000-12-3456", "updated_at": updated_at})
}

async fn record(
    resources: &Resources,
    event_id: &str,
) -> std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> {
    resources
        .item(&format!("enriched#{event_id}"))
        .await
        .unwrap_or_else(|| panic!("no enriched record for {event_id}"))
}

fn data(
    item: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
) -> Value {
    serde_json::from_str(s(item, "data")).unwrap()
}

#[tokio::test]
async fn argyle_identity_is_fetched_with_basic_auth() {
    let t = setup().await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/identities/{ARGYLE_ID}")))
        .and(header("authorization", ARGYLE_BASIC))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(argyle_identity("2026-11-20T10:00:00Z")),
        )
        .expect(1)
        .mount(&t.api)
        .await;
    let outcome = t
        .enricher
        .enrich(&argyle_envelope("argyle#a1"), deadline())
        .await;
    assert_eq!(outcome, Ok(EnrichOutcome::Enriched));
    let item = record(&t.resources, "argyle#a1").await;
    assert_eq!(s(&item, "status"), "ENRICHED");
    assert_eq!(s(&item, "provider"), "argyle");
    assert_eq!(s(&item, "resource_id"), ARGYLE_ID);
    assert_eq!(s(&item, "source_updated_at"), "2026-11-20T10:00:00Z");
    assert_eq!(data(&item)["first_name"], "Ann");
}

#[tokio::test]
async fn baack_resource_is_fetched_with_the_api_token() {
    let t = setup().await;
    let url = "/n/v1/clientidentifier/urn:baack:clientidentifier:7c2d";
    Mock::given(method("GET"))
        .and(path(url))
        .and(header("authorization", "Bearer baack-api-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"urn": "urn:baack:clientidentifier:7c2d", "domain": "example.com"}),
        ))
        .expect(1)
        .mount(&t.api)
        .await;
    let body = envelope(
        "baack",
        "baack#b1",
        "IDENTITY_CLIENT_IDENTIFIER.CREATE",
        json!({"id": "urn:baack:clientidentifier:7c2d", "url": url}),
        json!({}),
    );
    assert_eq!(
        t.enricher.enrich(&body, deadline()).await,
        Ok(EnrichOutcome::Enriched)
    );
    assert_eq!(
        data(&record(&t.resources, "baack#b1").await)["domain"],
        "example.com"
    );
}

fn clearid_envelope(event_id: &str, event_type: &str) -> String {
    envelope(
        "clearid",
        event_id,
        event_type,
        json!({"id": "id-7", "url": "/api/v2/accounts/acc-1/identities/id-7"}),
        json!({"AccountId": "acc-1", "IdentityId": "id-7", "Ordinal": 1}),
    )
}

async fn mount_token(api: &MockServer, token: &str, times: u64) {
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .and(body_string_contains("grant_type=client_credentials"))
        .and(body_string_contains("client_id=clearid-client"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"access_token": token, "expires_in": 3600, "token_type": "Bearer"}),
        ))
        .up_to_n_times(times)
        .mount(api)
        .await;
}

#[tokio::test]
async fn clearid_token_is_obtained_once_and_reused() {
    let t = setup().await;
    mount_token(&t.api, "token-1", 1).await;
    Mock::given(method("GET"))
        .and(path("/api/v2/accounts/acc-1/identities/id-7"))
        .and(header("authorization", "Bearer token-1"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"Id": "id-7", "FirstName": "Ann"})),
        )
        .expect(2)
        .mount(&t.api)
        .await;
    for id in ["clearid#c1", "clearid#c2"] {
        let outcome = t
            .enricher
            .enrich(&clearid_envelope(id, "identity.updated"), deadline())
            .await;
        assert_eq!(outcome, Ok(EnrichOutcome::Enriched), "{id}");
    }
    let token_calls = t
        .api
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/connect/token")
        .count();
    assert_eq!(token_calls, 1);
    assert_eq!(
        data(&record(&t.resources, "clearid#c2").await)["FirstName"],
        "Ann"
    );
}

#[tokio::test]
async fn expired_clearid_token_is_refreshed() {
    let t = setup().await;
    mount_token(&t.api, "expired-token", 1).await;
    mount_token(&t.api, "fresh-token", 1).await;
    let identity = || path("/api/v2/accounts/acc-1/identities/id-7");
    Mock::given(method("GET"))
        .and(identity())
        .and(header("authorization", "Bearer expired-token"))
        .respond_with(ResponseTemplate::new(401))
        .expect(1)
        .mount(&t.api)
        .await;
    Mock::given(method("GET"))
        .and(identity())
        .and(header("authorization", "Bearer fresh-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"Id": "id-7"})))
        .expect(1)
        .mount(&t.api)
        .await;
    let outcome = t
        .enricher
        .enrich(
            &clearid_envelope("clearid#c3", "identity.updated"),
            deadline(),
        )
        .await;
    assert_eq!(outcome, Ok(EnrichOutcome::Enriched));
}

#[tokio::test]
async fn midbound_data_is_recorded_without_a_fetch() {
    let t = setup().await;
    let payload: Value = serde_json::from_str(&MidboundSample::payload()).unwrap();
    let mut body: Value = serde_json::from_str(&envelope(
        "midbound",
        "midbound#m1",
        "identity.validated",
        Value::Null,
        payload.clone(),
    ))
    .unwrap();
    body["occurred_at"] = json!("2026-05-28T13:45:32Z");
    let outcome = t.enricher.enrich(&body.to_string(), deadline()).await;
    assert_eq!(outcome, Ok(EnrichOutcome::Enriched));
    let item = record(&t.resources, "midbound#m1").await;
    assert_eq!(data(&item), payload["data"]);
    assert!(t.api.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn not_found_after_a_delete_records_a_tombstone() {
    let t = setup().await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/identities/{ARGYLE_ID}")))
        .respond_with(ResponseTemplate::new(404))
        .expect(1)
        .mount(&t.api)
        .await;
    let outcome = t
        .enricher
        .enrich(&argyle_envelope("argyle#gone"), deadline())
        .await;
    assert_eq!(outcome, Ok(EnrichOutcome::Tombstone));
    let item = record(&t.resources, "argyle#gone").await;
    assert_eq!(s(&item, "status"), "TOMBSTONE");
    assert!(!item.contains_key("data"));
}

#[tokio::test]
async fn delete_events_record_a_tombstone_without_fetching() {
    let t = setup().await;
    let baack = envelope(
        "baack",
        "baack#d1",
        "IDENTITY_CLIENT_IDENTIFIER.DELETE",
        json!({"id": "urn:x", "url": "/n/v1/clientidentifier/urn:x"}),
        json!({}),
    );
    assert_eq!(
        t.enricher.enrich(&baack, deadline()).await,
        Ok(EnrichOutcome::Tombstone)
    );
    let clearid = clearid_envelope("clearid#d2", "identity.deleted");
    assert_eq!(
        t.enricher.enrich(&clearid, deadline()).await,
        Ok(EnrichOutcome::Tombstone)
    );
    assert!(t.api.received_requests().await.unwrap().is_empty());
    assert_eq!(
        s(&record(&t.resources, "clearid#d2").await, "status"),
        "TOMBSTONE"
    );
}

/// The Argyle identity answers `first` once, then the identity: the enricher must get there.
async fn transient_failure_then_success(first: ResponseTemplate, event_id: &str) {
    let t = setup().await;
    let identity = || path(format!("/v2/identities/{ARGYLE_ID}"));
    Mock::given(method("GET"))
        .and(identity())
        .respond_with(first)
        .up_to_n_times(1)
        .mount(&t.api)
        .await;
    Mock::given(method("GET"))
        .and(identity())
        .respond_with(
            ResponseTemplate::new(200).set_body_json(argyle_identity("2026-11-20T10:00:00Z")),
        )
        .mount(&t.api)
        .await;
    let outcome = t
        .enricher
        .enrich(&argyle_envelope(event_id), deadline())
        .await;
    assert_eq!(outcome, Ok(EnrichOutcome::Enriched));
    assert_eq!(t.api.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn server_error_then_success_is_retried() {
    transient_failure_then_success(ResponseTemplate::new(500), "argyle#r1").await;
}

#[tokio::test]
async fn too_many_requests_honours_retry_after() {
    let throttled = ResponseTemplate::new(429).insert_header("retry-after", "1");
    transient_failure_then_success(throttled, "argyle#r2").await;
}

#[tokio::test]
async fn retries_stop_at_the_deadline_and_the_message_is_retryable() {
    let t = setup().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "30"))
        .mount(&t.api)
        .await;
    let outcome = t
        .enricher
        .enrich(&argyle_envelope("argyle#r3"), deadline())
        .await;
    assert!(
        matches!(
            outcome,
            Err(EnrichError::Fetch {
                error: FetchError::Retryable(_),
                ..
            })
        ),
        "{outcome:?}"
    );
    assert_eq!(
        t.api.received_requests().await.unwrap().len(),
        1,
        "no wait past the deadline"
    );
}

#[tokio::test]
async fn permanent_401_fails_the_message_until_it_reaches_the_dead_letter_queue() {
    let t = setup().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&t.api)
        .await;
    let dlq = t.resources.add_dead_letter_queue(2).await;
    let body = argyle_envelope("argyle#p1");
    t.resources
        .sqs
        .send_message()
        .queue_url(&t.resources.queue_url)
        .message_body(&body)
        .send()
        .await
        .unwrap();
    // Lambda's event source mapping: receive, run the batch, settle; twice, then redrive.
    for _ in 0..2 {
        let event = t.resources.receive_event(30).await;
        assert_eq!(event.records.len(), 1);
        let response = t.enricher.handle_batch(&event, deadline()).await;
        assert_eq!(response.batch_item_failures.len(), 1);
        t.resources.settle(&event, &response).await;
    }
    assert!(t.resources.receive_event(30).await.records.is_empty());
    let dead = t.resources.messages_of(&dlq).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].body["event_id"], "argyle#p1");
    assert!(t.resources.item("enriched#argyle#p1").await.is_none());
}

#[tokio::test]
async fn a_bad_message_in_a_batch_is_the_only_one_reported_and_each_is_logged_and_counted() {
    let t = setup().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(argyle_identity("2026-11-20T10:00:00Z")),
        )
        .mount(&t.api)
        .await;
    for body in [
        argyle_envelope("argyle#ok1"),
        "not an envelope".to_string(),
        argyle_envelope("argyle#ok2"),
    ] {
        t.resources
            .sqs
            .send_message()
            .queue_url(&t.resources.queue_url)
            .message_body(body)
            .send()
            .await
            .unwrap();
    }
    let event = t.resources.receive_event(30).await;
    assert_eq!(event.records.len(), 3);
    let capture = Capture::default();
    let guard = tracing::subscriber::set_default(subscriber(Level::DEBUG, capture.clone()));
    let response = t.enricher.handle_batch(&event, deadline()).await;
    drop(guard);
    let bad_id = event
        .records
        .iter()
        .find(|r| r.body.as_deref() == Some("not an envelope"))
        .and_then(|r| r.message_id.clone())
        .unwrap();
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, [bad_id.as_str()]);
    record(&t.resources, "argyle#ok1").await;
    record(&t.resources, "argyle#ok2").await;

    // Every line after the batch's first names its message, and its event once read; one
    // count per message.
    let lines = capture.lines();
    for line in &lines[1..] {
        let message_id = line["message_id"].as_str().expect("a message id");
        let record = event
            .records
            .iter()
            .find(|r| r.message_id.as_deref() == Some(message_id))
            .unwrap();
        if message_id != bad_id {
            let expected = if record.body.as_deref().unwrap().contains("argyle#ok1") {
                "argyle#ok1"
            } else {
                "argyle#ok2"
            };
            assert_eq!(line["event_id"], expected, "{line}");
        }
    }
    let mut counts = counts(&lines);
    counts.sort();
    assert_eq!(
        counts,
        // Sent without the `provider` attribute the ingestion functions set.
        [
            count("Enriched", "unknown", None),
            count("Enriched", "unknown", None),
            count("EnrichmentFailed", "unknown", Some("malformed_envelope")),
        ]
    );
}

#[tokio::test]
async fn the_same_message_twice_leaves_one_record_and_newest_data_wins() {
    let t = setup().await;
    let identity = || path(format!("/v2/identities/{ARGYLE_ID}"));
    Mock::given(method("GET"))
        .and(identity())
        .respond_with(
            ResponseTemplate::new(200).set_body_json(argyle_identity("2026-11-21T00:00:00Z")),
        )
        .up_to_n_times(2)
        .mount(&t.api)
        .await;
    Mock::given(method("GET"))
        .and(identity())
        .respond_with(
            ResponseTemplate::new(200).set_body_json(argyle_identity("2026-11-01T00:00:00Z")),
        )
        .mount(&t.api)
        .await;
    let body = argyle_envelope("argyle#dup");
    assert_eq!(
        t.enricher.enrich(&body, deadline()).await,
        Ok(EnrichOutcome::Enriched)
    );
    assert_eq!(
        t.enricher.enrich(&body, deadline()).await,
        Ok(EnrichOutcome::Enriched)
    );
    // The provider now answers with older data (a lagging replica): it does not overwrite.
    assert_eq!(
        t.enricher.enrich(&body, deadline()).await,
        Ok(EnrichOutcome::Stale)
    );
    let item = record(&t.resources, "argyle#dup").await;
    assert_eq!(s(&item, "source_updated_at"), "2026-11-21T00:00:00Z");
    assert_eq!(t.resources.item_count().await, 1);
}

#[tokio::test]
async fn provider_without_credentials_fails_its_messages() {
    let resources = Resources::create(false).await;
    let config = EnricherConfig::from_lookup(|name| {
        (name == "EVENTS_TABLE").then(|| resources.table.clone())
    })
    .unwrap();
    let enricher = enricher_from_config(&config, &resources.sdk).await.unwrap();
    let outcome = enricher
        .enrich(&argyle_envelope("argyle#nc"), deadline())
        .await;
    assert_eq!(outcome, Err(EnrichError::NotConfigured("argyle".into())));
}

/// Signed delivery → ingestion function → queue → enricher → enriched record.
async fn full_flow<S: Sample>(api: &MockServer) -> (Harness<S>, String) {
    let h = Harness::<S>::new().await;
    let body = S::payload();
    h.send(h.signed(&body)).await.expect(200, "accepted");
    let enricher = enricher_for(&h.resources, api).await;
    let event = h.resources.receive_event(30).await;
    assert_eq!(event.records.len(), 1);
    let response = enricher.handle_batch(&event, deadline()).await;
    assert!(
        response.batch_item_failures.is_empty(),
        "{:?}",
        response.batch_item_failures
    );
    h.resources.settle(&event, &response).await;
    let event_id = S::event_id(&body);
    (h, event_id)
}

#[tokio::test]
async fn full_flow_for_every_provider() {
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/identities/{ARGYLE_ID}")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(argyle_identity("2026-11-20T10:00:00Z")),
        )
        .mount(&api)
        .await;
    Mock::given(method("GET"))
        .and(path(
            "/n/v1/clientidentifier/urn:baack:clientidentifier:7c2d",
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"urn": "urn:baack:clientidentifier:7c2d"})),
        )
        .mount(&api)
        .await;

    let (h, id) = full_flow::<ArgyleSample>(&api).await;
    assert_eq!(s(&record(&h.resources, &id).await, "status"), "ENRICHED");
    let (h, id) = full_flow::<BaackSample>(&api).await;
    assert_eq!(
        data(&record(&h.resources, &id).await)["urn"],
        "urn:baack:clientidentifier:7c2d"
    );
    // The ClearID sample is a deletion: a tombstone, no call.
    let (h, id) = full_flow::<ClearIdSample>(&api).await;
    assert_eq!(s(&record(&h.resources, &id).await, "status"), "TOMBSTONE");
    let (h, id) = full_flow::<MidboundSample>(&api).await;
    let item = record(&h.resources, &id).await;
    assert_eq!(data(&item)["validations"][0]["validity"], "valid");
    assert!(n(&item, "enriched_at") > 1_700_000_000);
}

#[tokio::test]
async fn a_clearid_token_about_to_expire_is_replaced_before_use() {
    let t = setup().await;
    // Valid for 30 s: inside the refresh margin, so each call gets a new one.
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "short-lived", "expires_in": 30})),
        )
        .expect(2)
        .mount(&t.api)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/accounts/acc-1/identities/id-7"))
        .and(header("authorization", "Bearer short-lived"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"Id": "id-7"})))
        .expect(2)
        .mount(&t.api)
        .await;
    for id in ["clearid#e1", "clearid#e2"] {
        let body = clearid_envelope(id, "identity.updated");
        assert_eq!(
            t.enricher.enrich(&body, deadline()).await,
            Ok(EnrichOutcome::Enriched)
        );
    }
}

#[tokio::test]
async fn credentials_can_come_from_secrets_manager() {
    let resources = Resources::create(false).await;
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/identities/{ARGYLE_ID}")))
        .and(header("authorization", ARGYLE_BASIC))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(argyle_identity("2026-11-20T10:00:00Z")),
        )
        .expect(1)
        .mount(&api)
        .await;
    let arn = resources
        .create_secret(r#"{"ARGYLE_API_KEY_ID": "argyle-key-id", "ARGYLE_API_KEY_SECRET": "argyle-key-secret"}"#)
        .await;
    let vars = [
        ("EVENTS_TABLE", resources.table.clone()),
        ("ENRICHER_SECRETS_ARN", arn),
        ("ARGYLE_API_BASE", api.uri()),
    ];
    let config = EnricherConfig::from_lookup(|name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    })
    .unwrap();
    let enricher = enricher_from_config(&config, &resources.sdk).await.unwrap();
    let outcome = enricher
        .enrich(&argyle_envelope("argyle#sm"), deadline())
        .await;
    assert_eq!(outcome, Ok(EnrichOutcome::Enriched));
}
