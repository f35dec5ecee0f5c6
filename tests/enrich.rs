//! The enricher against the emulator (DynamoDB, SQS with a dead-letter queue) and local HTTP
//! servers standing in for each provider's API.

use hookline::enrich::{
    enricher_from_config, EnrichError, EnrichOutcome, Enricher, EnricherConfig, FetchError,
};
use hookline::logging::{subscriber, Capture};
use hookline::provider::Sample as _;
use hookline::providers::{Argyle, Baack, ClearId, Midbound};
use integration_tests::aws::{n, s};
use integration_tests::enricher::{enricher_for, enricher_with, envelope};
use integration_tests::metrics::{count, counts};
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
    enricher: Enricher,
}

async fn setup() -> Setup {
    let resources = Resources::create(false).await;
    let api = MockServer::start().await;
    let enricher = enricher_for(&resources, &api.uri()).await;
    Setup {
        resources,
        api,
        enricher,
    }
}

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(30)
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

/// The identity record of `<provider>#<resource id>`, which must be there.
async fn record(
    resources: &Resources,
    provider: &str,
    resource_id: &str,
) -> std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> {
    resources.identity(provider, resource_id).await
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
    let item = record(&t.resources, "argyle", ARGYLE_ID).await;
    assert_eq!(s(&item, "state"), "PRESENT");
    assert_eq!(s(&item, "event_id"), "argyle#a1");
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
        data(&record(&t.resources, "baack", "urn:baack:clientidentifier:7c2d").await)["domain"],
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
        data(&record(&t.resources, "clearid", "id-7").await)["FirstName"],
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
    let payload: Value = serde_json::from_str(&Midbound::payload()).unwrap();
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
    let item = record(&t.resources, "midbound", "m1").await;
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
    let item = record(&t.resources, "argyle", ARGYLE_ID).await;
    assert_eq!(s(&item, "state"), "TOMBSTONE");
    assert_eq!(s(&item, "event_id"), "argyle#gone");
    assert!(!item.contains_key("data"));
}

#[tokio::test]
async fn delete_events_record_a_tombstone_when_the_provider_confirms() {
    let t = setup().await;
    // Neither identity mounted: the API answers 404, confirming both deletes.
    mount_token(&t.api, "token-1", 1).await;
    let baack = envelope(
        "baack",
        "baack#d1",
        "IDENTITY_CLIENT_IDENTIFIER.DELETE",
        json!({"id": BAACK_URN, "url": BAACK_PATH}),
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
    let asked: Vec<String> = t
        .api
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect();
    assert_eq!(
        asked,
        [
            format!("GET {BAACK_PATH}"),
            "POST /connect/token".into(),
            "GET /api/v2/accounts/acc-1/identities/id-7".into()
        ]
    );
    for (provider, resource_id) in [("baack", BAACK_URN), ("clearid", "id-7")] {
        let item = record(&t.resources, provider, resource_id).await;
        assert_eq!(s(&item, "state"), "TOMBSTONE", "{provider}");
        assert!(!item.contains_key("data"), "{provider}");
    }
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
    // The template's redrive policy: after this many receives SQS moves the message on.
    let receives = t.resources.max_receive_count().await;
    let body = argyle_envelope("argyle#p1");
    t.resources
        .sqs
        .send_message()
        .queue_url(&t.resources.queue_url)
        .message_body(&body)
        .send()
        .await
        .unwrap();
    // Lambda's event source mapping: receive, run the batch, settle; `receives` times, then
    // the redrive.
    for _ in 0..receives {
        let event = t.resources.receive_event(30).await;
        assert_eq!(event.records.len(), 1);
        let response = t.enricher.handle_batch(&event, deadline()).await;
        assert_eq!(response.batch_item_failures.len(), 1);
        t.resources.settle(&event, &response).await;
    }
    assert!(t.resources.receive_event(30).await.records.is_empty());
    let dead = t.resources.messages_of(&t.resources.dlq_url).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].body["event_id"], "argyle#p1");
    assert!(t
        .resources
        .identity_item("argyle", ARGYLE_ID)
        .await
        .is_none());
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
    // Both good messages name the same identity with the same data: one record, one change.
    let item = record(&t.resources, "argyle", ARGYLE_ID).await;
    assert!(
        ["argyle#ok1", "argyle#ok2"].contains(&s(&item, "event_id")),
        "{item:?}"
    );
    assert_eq!(n(&item, "revision"), 1);
    assert_eq!(t.resources.identity_items().await.len(), 1);

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
    let item = record(&t.resources, "argyle", ARGYLE_ID).await;
    assert_eq!(s(&item, "source_updated_at"), "2026-11-21T00:00:00Z");
    assert_eq!(n(&item, "revision"), 1, "the same data twice is one change");
    assert_eq!(t.resources.identity_items().await.len(), 1);
}

#[tokio::test]
async fn provider_without_credentials_fails_its_messages() {
    let resources = Resources::create(false).await;
    let config = EnricherConfig::from_lookup(|name| match name {
        "EVENTS_TABLE" => Some(resources.table.clone()),
        "HISTORY_TABLE" => Some(resources.history_table.clone()),
        "IDENTITIES_TABLE" => Some(resources.identities_table.clone()),
        "EVENT_BUS_NAME" => Some(resources.event_bus.clone()),
        _ => None,
    })
    .unwrap();
    let enricher = enricher_from_config(&config, &resources.sdk).await.unwrap();
    let outcome = enricher
        .enrich(&argyle_envelope("argyle#nc"), deadline())
        .await;
    assert_eq!(outcome, Err(EnrichError::NotConfigured("argyle".into())));
}

/// Signed delivery → ingestion function → queue → enricher → identity record; returns the
/// harness, the event id and the identity's resource id (the resource the queued message
/// names, or for Midbound, whose events name none, the event id without its provider).
async fn full_flow<S: Sample>(api: &MockServer) -> (Harness<S>, String, String) {
    let h = Harness::<S>::new().await;
    let body = S::payload();
    h.send(h.signed(&body)).await.expect(200, "accepted");
    let enricher = enricher_for(&h.resources, &api.uri()).await;
    let event = h.resources.receive_event(30).await;
    assert_eq!(event.records.len(), 1);
    let queued: Value = serde_json::from_str(event.records[0].body.as_deref().unwrap()).unwrap();
    let response = enricher.handle_batch(&event, deadline()).await;
    assert!(
        response.batch_item_failures.is_empty(),
        "{:?}",
        response.batch_item_failures
    );
    h.resources.settle(&event, &response).await;
    let event_id = S::event_id(&body);
    let resource_id = match queued["resource"]["id"].as_str() {
        Some(id) => id.to_string(),
        None => event_id.split_once('#').unwrap().1.to_string(),
    };
    (h, event_id, resource_id)
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

    let (h, id, resource) = full_flow::<Argyle>(&api).await;
    assert_eq!(resource, ARGYLE_ID);
    let item = record(&h.resources, "argyle", &resource).await;
    assert_eq!(s(&item, "state"), "PRESENT");
    assert_eq!(s(&item, "event_id"), id);
    let (h, id, resource) = full_flow::<Baack>(&api).await;
    let item = record(&h.resources, "baack", &resource).await;
    assert_eq!(data(&item)["urn"], "urn:baack:clientidentifier:7c2d");
    assert_eq!(s(&item, "event_id"), id);
    // The ClearID sample is a deletion, which ClearID confirms (its read answers 404): a tombstone.
    mount_token(&api, "token-1", 1).await;
    let (h, id, resource) = full_flow::<ClearId>(&api).await;
    let item = record(&h.resources, "clearid", &resource).await;
    assert_eq!(s(&item, "state"), "TOMBSTONE");
    assert_eq!(s(&item, "event_id"), id);
    let (h, id, resource) = full_flow::<Midbound>(&api).await;
    let item = record(&h.resources, "midbound", &resource).await;
    assert_eq!(format!("midbound#{resource}"), id);
    assert_eq!(data(&item)["validations"][0]["validity"], "valid");
    assert!(n(&item, "fetched_at") > 1_700_000_000);
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
        ("HISTORY_TABLE", resources.history_table.clone()),
        ("IDENTITIES_TABLE", resources.identities_table.clone()),
        ("EVENT_BUS_NAME", resources.event_bus.clone()),
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

// ---- Hostile answers and payloads: nothing panics, nothing is fetched that was not notified,
// ---- no path reaches a log line.

const BAACK_URN: &str = "urn:baack:clientidentifier:7c2d";
const BAACK_PATH: &str = "/n/v1/clientidentifier/urn:baack:clientidentifier:7c2d";

fn baack_envelope(event_id: &str, urn: &str, url: Option<&str>) -> String {
    let mut resource = json!({ "id": urn });
    if let Some(url) = url {
        resource["url"] = json!(url);
    }
    envelope(
        "baack",
        event_id,
        "IDENTITY_CLIENT_IDENTIFIER.UPDATE",
        resource,
        json!({}),
    )
}

/// An Argyle notification naming `identity` (the payload's `data.identity`).
fn argyle_envelope_for(event_id: &str, identity: &str) -> String {
    envelope(
        "argyle",
        event_id,
        "identities.added",
        json!({"id": identity, "url": format!("/v2/identities/{identity}")}),
        json!({"event": "identities.added", "data": {"identity": identity}}),
    )
}

fn clearid_envelope_for(event_id: &str, account: &str, identity: &str) -> String {
    envelope(
        "clearid",
        event_id,
        "identity.updated",
        json!({"id": identity}),
        json!({"AccountId": account, "IdentityId": identity, "Ordinal": 1}),
    )
}

fn retryable(outcome: &Result<EnrichOutcome, EnrichError>) -> bool {
    matches!(
        outcome,
        Err(EnrichError::Fetch {
            error: FetchError::Retryable(_),
            ..
        })
    )
}

fn permanent(outcome: &Result<EnrichOutcome, EnrichError>) -> bool {
    matches!(
        outcome,
        Err(EnrichError::Fetch {
            error: FetchError::Permanent(_),
            ..
        })
    )
}

/// Answers any request, so that every request the enricher makes is received and counted.
async fn answer_everything(api: &MockServer) {
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "not-asked-for"})))
        .mount(api)
        .await;
}

async fn send_messages(resources: &Resources, bodies: &[String]) {
    for chunk in bodies.chunks(10) {
        let entries = chunk
            .iter()
            .enumerate()
            .map(|(i, body)| {
                aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                    .id(format!("m{i}"))
                    .message_body(body)
                    .build()
                    .unwrap()
            })
            .collect();
        let sent = resources
            .sqs
            .send_message_batch()
            .queue_url(&resources.queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .unwrap();
        assert!(sent.failed.is_empty(), "{:?}", sent.failed);
    }
}

fn failed_ids(response: &aws_lambda_events::event::sqs::SqsBatchResponse) -> Vec<String> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect()
}

fn message_id_of(event: &aws_lambda_events::event::sqs::SqsEvent, marker: &str) -> String {
    event
        .records
        .iter()
        .find(|r| r.body.as_deref().unwrap_or_default().contains(marker))
        .and_then(|r| r.message_id.clone())
        .unwrap_or_else(|| panic!("no message with {marker}"))
}

#[tokio::test]
async fn a_retry_after_too_large_for_any_clock_fails_only_its_message() {
    let t = setup().await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/identities/{ARGYLE_ID}")))
        .respond_with(
            ResponseTemplate::new(429).insert_header("retry-after", "18446744073709551615"),
        )
        .expect(1)
        .mount(&t.api)
        .await;
    Mock::given(method("GET"))
        .and(path(BAACK_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"urn": BAACK_URN})))
        .expect(1)
        .mount(&t.api)
        .await;
    send_messages(
        &t.resources,
        &[
            argyle_envelope("argyle#huge"),
            baack_envelope("baack#beside", BAACK_URN, Some(BAACK_PATH)),
        ],
    )
    .await;
    let event = t.resources.receive_event(30).await;
    assert_eq!(event.records.len(), 2);
    let started = Instant::now();
    let response = t.enricher.handle_batch(&event, deadline()).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "it did not wait"
    );
    assert_eq!(
        failed_ids(&response),
        [message_id_of(&event, "argyle#huge")]
    );
    assert!(t
        .resources
        .identity_item("argyle", ARGYLE_ID)
        .await
        .is_none());
    assert_eq!(
        data(&record(&t.resources, "baack", BAACK_URN).await)["urn"],
        BAACK_URN
    );
    // Argyle asked for a pause: the next Argyle message fails at once, retryable, without a
    // request (the mock's `expect(1)` checks it), while the pause is Argyle's alone.
    let next = t
        .enricher
        .enrich(&argyle_envelope("argyle#next"), deadline())
        .await;
    assert!(retryable(&next), "{next:?}");
}

#[tokio::test]
async fn a_huge_retry_after_on_a_server_error_is_retryable_at_once() {
    for value in ["18446744073709551615", "99999999999999999999999999999999"] {
        let t = setup().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(503).insert_header("retry-after", value))
            .expect(1)
            .mount(&t.api)
            .await;
        let outcome = t
            .enricher
            .enrich(&argyle_envelope("argyle#h503"), deadline())
            .await;
        assert!(retryable(&outcome), "{value}: {outcome:?}");
    }
}

#[tokio::test]
async fn an_unreadable_retry_after_falls_back_to_backoff() {
    for value in ["-1", "1.5", "soon", "Wed, 21 Oct 2015 07:28:00 GMT"] {
        let throttled = ResponseTemplate::new(429).insert_header("retry-after", value);
        transient_failure_then_success(throttled, "argyle#unreadable").await;
    }
}

#[tokio::test]
async fn a_huge_token_lifetime_is_capped_and_the_token_reused() {
    for expires_in in [json!(u64::MAX), json!(1e300), json!("18446744073709551616")] {
        let t = setup().await;
        Mock::given(method("POST"))
            .and(path("/connect/token"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"access_token": "long-lived", "expires_in": expires_in})),
            )
            .expect(1)
            .mount(&t.api)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/v2/accounts/acc-1/identities/id-7"))
            .and(header("authorization", "Bearer long-lived"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"Id": "id-7"})))
            .expect(2)
            .mount(&t.api)
            .await;
        for id in ["clearid#l1", "clearid#l2"] {
            let body = clearid_envelope(id, "identity.updated");
            assert_eq!(
                t.enricher.enrich(&body, deadline()).await,
                Ok(EnrichOutcome::Enriched),
                "{expires_in}"
            );
        }
    }
}

#[tokio::test]
async fn a_negative_token_lifetime_is_used_once_and_not_cached() {
    let t = setup().await;
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "expired", "expires_in": -1})),
        )
        .expect(2)
        .mount(&t.api)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/accounts/acc-1/identities/id-7"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"Id": "id-7"})))
        .expect(2)
        .mount(&t.api)
        .await;
    for id in ["clearid#n1", "clearid#n2"] {
        let body = clearid_envelope(id, "identity.updated");
        assert_eq!(
            t.enricher.enrich(&body, deadline()).await,
            Ok(EnrichOutcome::Enriched)
        );
    }
}

#[tokio::test]
async fn ids_not_of_the_providers_shape_fetch_nothing_and_fail_permanently() {
    let t = setup().await;
    answer_everything(&t.api).await;
    let mut bodies = Vec::new();
    for identity in [
        "../../v2/accounts/0187c66e".to_string(),
        "..%2F..%2Fv2%2Faccounts".to_string(),
        "%2e%2e/%2e%2e/v2/users".to_string(),
        format!("{ARGYLE_ID}?expand=ssn"),
        format!("{ARGYLE_ID}#x"),
        format!("{ARGYLE_ID}/../../users/1"),
        format!("{ARGYLE_ID}%2F..%2F..%2Fusers"),
        String::new(),
    ] {
        bodies.push(argyle_envelope_for("argyle#hostile", &identity));
    }
    for (urn, url) in [
        // The notified urn, but a url that walks to another object.
        (BAACK_URN, Some("/n/v1/../v1/person/urn:baack:person:1")),
        (BAACK_URN, Some("/n/v1/person/urn:baack:person:2")),
        (BAACK_URN, Some("https://elsewhere.example/n/v1/x")),
        (BAACK_URN, Some("//elsewhere.example/n/v1/x")),
        (BAACK_URN, Some(&format!("{BAACK_PATH}?expand=all")[..])),
        ("urn:baack:..:x", None),
        ("urn:baack:person:a%2F..%2Fb", None),
        ("urn:baack:person:1/../../company/2", None),
        ("urn:baack:person:1?x=1", None),
        ("urn:baack:person:1#x", None),
        ("not-a-urn", None),
    ] {
        bodies.push(baack_envelope("baack#hostile", urn, url));
    }
    for (account, identity) in [
        ("../acc-2", "id-7"),
        ("acc-1%2Fidentities%2Fid-8", "id-7"),
        ("acc-1/identities/id-8", "id-7"),
        ("acc-1?x=", "id-7"),
        ("acc-1", "id-7/.."),
        ("acc-1", ".."),
        ("acc-1", "id-7#"),
        ("acc-1", "id%2e%2e"),
    ] {
        bodies.push(clearid_envelope_for("clearid#hostile", account, identity));
    }
    for body in &bodies {
        let outcome = t.enricher.enrich(body, deadline()).await;
        assert!(permanent(&outcome), "{body}: {outcome:?}");
    }
    assert!(
        t.api.received_requests().await.unwrap().is_empty(),
        "no request, not even for a token"
    );
    assert_eq!(t.resources.item_count().await, 0);
    assert!(t.resources.identity_items().await.is_empty());
}

#[tokio::test]
async fn the_documented_baack_url_without_its_slash_is_accepted_and_the_urn_path_fetched() {
    let t = setup().await;
    Mock::given(method("GET"))
        .and(path(BAACK_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"urn": BAACK_URN})))
        .expect(2)
        .mount(&t.api)
        .await;
    let documented = "/n/v1/clientidentifierurn:baack:clientidentifier:7c2d";
    for (id, url) in [("baack#doc", Some(documented)), ("baack#nourl", None)] {
        assert_eq!(
            t.enricher
                .enrich(&baack_envelope(id, BAACK_URN, url), deadline())
                .await,
            Ok(EnrichOutcome::Enriched),
            "{url:?}"
        );
    }
}

#[tokio::test]
async fn a_hostile_id_ends_in_the_dead_letter_queue_without_a_request() {
    let t = setup().await;
    answer_everything(&t.api).await;
    let receives = t.resources.max_receive_count().await;
    send_messages(
        &t.resources,
        &[argyle_envelope_for(
            "argyle#traversal",
            &format!("{ARGYLE_ID}/../../users/1"),
        )],
    )
    .await;
    // Fails on every receive the template's redrive policy allows, then is moved on.
    for _ in 0..receives {
        let event = t.resources.receive_event(30).await;
        assert_eq!(event.records.len(), 1);
        let response = t.enricher.handle_batch(&event, deadline()).await;
        assert_eq!(response.batch_item_failures.len(), 1);
        t.resources.settle(&event, &response).await;
    }
    assert!(t.resources.receive_event(30).await.records.is_empty());
    let dead = t.resources.messages_of(&t.resources.dlq_url).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].body["event_id"], "argyle#traversal");
    assert!(t.api.received_requests().await.unwrap().is_empty());
}

const OTHER_ID: &str = "0187c66e-f13b-31e4-6b2c-000000000302";

#[tokio::test]
async fn redirects_are_not_followed_and_not_named() {
    let t = setup().await;
    let target = format!("/v2/identities/{OTHER_ID}");
    Mock::given(method("GET"))
        .and(path(format!("/v2/identities/{ARGYLE_ID}")))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("{}{target}", t.api.uri())),
        )
        .expect(1)
        .mount(&t.api)
        .await;
    Mock::given(method("GET"))
        .and(path(&target))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(argyle_identity("2026-11-20T10:00:00Z")),
        )
        .expect(0)
        .mount(&t.api)
        .await;
    let outcome = t
        .enricher
        .enrich(&argyle_envelope("argyle#moved"), deadline())
        .await;
    assert!(permanent(&outcome), "{outcome:?}");
    let error = outcome.unwrap_err().to_string();
    assert_eq!(
        error,
        "argyle: permanent: 302 Found: redirects are not followed"
    );
    assert!(t
        .resources
        .identity_item("argyle", ARGYLE_ID)
        .await
        .is_none());
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An SQS record as the event source mapping hands it over, `provider` attribute included.
fn sqs_record(message_id: &str, body: String) -> aws_lambda_events::event::sqs::SqsMessage {
    let mut attribute = aws_lambda_events::event::sqs::SqsMessageAttribute::default();
    attribute.string_value = Some("argyle".into());
    attribute.data_type = Some("String".into());
    let mut record = aws_lambda_events::event::sqs::SqsMessage::default();
    record.message_id = Some(message_id.into());
    record.body = Some(body);
    record.event_source_arn = Some("arn:aws:sqs:us-east-1:000000000000:events".into());
    record
        .message_attributes
        .insert("provider".into(), attribute);
    record
}

fn sqs_event(
    records: Vec<aws_lambda_events::event::sqs::SqsMessage>,
) -> aws_lambda_events::event::sqs::SqsEvent {
    let mut event = aws_lambda_events::event::sqs::SqsEvent::default();
    event.records = records;
    event
}

#[tokio::test]
async fn enricher_logs_name_the_resource_once_and_never_a_path() {
    let t = setup().await;
    let failing = "0187c66e-f13b-31e4-6b2c-000000000503";
    let moved = OTHER_ID;
    let slow = "0187c66e-f13b-31e4-6b2c-000000000408";
    let unreachable = "0187c66e-f13b-31e4-6b2c-000000000111";
    let hostile = "HOSTILE-MARKER/../../users";
    let identity = |id: &str| path(format!("/v2/identities/{id}"));
    Mock::given(method("GET"))
        .and(identity(ARGYLE_ID))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(argyle_identity("2026-11-20T10:00:00Z")),
        )
        .mount(&t.api)
        .await;
    Mock::given(method("GET"))
        .and(identity(failing))
        .respond_with(ResponseTemplate::new(503))
        .expect(3)
        .mount(&t.api)
        .await;
    Mock::given(method("GET"))
        .and(identity(moved))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("{}/v2/identities/x", t.api.uri())),
        )
        .mount(&t.api)
        .await;
    Mock::given(method("GET"))
        .and(identity(slow))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(4)))
        .mount(&t.api)
        .await;
    let one_attempt = enricher_with(
        &t.resources,
        &t.api.uri(),
        &[("HTTP_MAX_ATTEMPTS", "1".into())],
    )
    .await;
    let nowhere = enricher_with(
        &t.resources,
        &t.api.uri(),
        &[(
            "ARGYLE_API_BASE",
            format!("http://127.0.0.1:{}", closed_port()),
        )],
    )
    .await;

    let capture = Capture::default();
    let guard = tracing::subscriber::set_default(subscriber(Level::TRACE, capture.clone()));
    let main = sqs_event(vec![
        sqs_record("m-ok", argyle_envelope_for("argyle#l-ok", ARGYLE_ID)),
        sqs_record("m-503", argyle_envelope_for("argyle#l-503", failing)),
        sqs_record("m-302", argyle_envelope_for("argyle#l-302", moved)),
        sqs_record(
            "m-hostile",
            argyle_envelope_for("argyle#l-hostile", hostile),
        ),
    ]);
    let main_response = t.enricher.handle_batch(&main, deadline()).await;
    let slow_response = one_attempt
        .handle_batch(
            &sqs_event(vec![sqs_record(
                "m-slow",
                argyle_envelope_for("argyle#l-slow", slow),
            )]),
            deadline(),
        )
        .await;
    let nowhere_response = nowhere
        .handle_batch(
            &sqs_event(vec![sqs_record(
                "m-nowhere",
                argyle_envelope_for("argyle#l-nowhere", unreachable),
            )]),
            deadline(),
        )
        .await;
    drop(guard);
    assert_eq!(failed_ids(&main_response), ["m-503", "m-302", "m-hostile"]);
    assert_eq!(failed_ids(&slow_response), ["m-slow"]);
    assert_eq!(failed_ids(&nowhere_response), ["m-nowhere"]);

    let lines = capture.lines();
    let ids = [ARGYLE_ID, failing, moved, slow, unreachable];
    for line in &lines {
        let text = line.to_string();
        // Nor the provider API's URL (the HTTP stack's TRACE lines name its host and port, the
        // AWS SDK its own endpoint: configuration, not ids).
        for forbidden in ["/v2/", "/identities", &t.api.uri(), "HOSTILE-MARKER"] {
            assert!(!text.contains(forbidden), "{forbidden:?} in {text}");
        }
        // An identity id appears only as the `resource_id` field of its message's lines.
        let mut rest = line.clone();
        rest.as_object_mut().unwrap().remove("resource_id");
        for id in ids {
            assert!(
                !rest.to_string().contains(id),
                "{id} outside resource_id: {text}"
            );
        }
    }
    // One closing line per message: its provider, its resource id (when it had the shape of
    // one) and what failed, in words.
    let closing = |message_id: &str| -> Value {
        let found: Vec<&Value> = lines
            .iter()
            .filter(|l| l["message_id"] == message_id && l.get("outcome").is_some())
            .collect();
        assert_eq!(found.len(), 1, "{message_id}: {found:?}");
        found[0].clone()
    };
    for (message_id, resource_id, error) in [
        ("m-ok", Some(ARGYLE_ID), None),
        (
            "m-503",
            Some(failing),
            Some("argyle: retryable: 503 Service Unavailable after 3 attempts"),
        ),
        (
            "m-302",
            Some(moved),
            Some("argyle: permanent: 302 Found: redirects are not followed"),
        ),
        (
            "m-hostile",
            None,
            Some("argyle: permanent: data.identity is not a UUID: nothing fetched"),
        ),
        (
            "m-slow",
            Some(slow),
            Some("argyle: retryable: timed out after 1 attempts"),
        ),
        (
            "m-nowhere",
            Some(unreachable),
            Some("argyle: retryable: connection failed after 3 attempts"),
        ),
    ] {
        let line = closing(message_id);
        assert_eq!(line["provider"], "argyle", "{line}");
        assert_eq!(line["resource_id"].as_str(), resource_id, "{line}");
        assert_eq!(line["error"].as_str(), error, "{line}");
    }
}

// ---- A first sync: a burst of notifications against a throttling API.

/// The provider's identity API during a first sync: the first request for every third identity
/// is throttled (429, `Retry-After: 1`); everything is recorded with the time it arrived.
#[derive(Clone, Default)]
struct ThrottlingApi {
    seen: std::sync::Arc<std::sync::Mutex<Vec<(Instant, String, u16)>>>,
}

fn burst_identity(index: u64) -> String {
    format!("0187c66e-f13b-31e4-6b2c-{index:012x}")
}

impl wiremock::Respond for ThrottlingApi {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let id = request
            .url
            .path()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        let index = u64::from_str_radix(&id[id.len().saturating_sub(12)..], 16).unwrap_or(1);
        let mut seen = self.seen.lock().unwrap();
        let first = !seen.iter().any(|(_, s, _)| *s == id);
        let status = if index % 3 == 0 && first { 429 } else { 200 };
        seen.push((Instant::now(), id.clone(), status));
        if status == 429 {
            ResponseTemplate::new(429).insert_header("retry-after", "1")
        } else {
            ResponseTemplate::new(200).set_body_json(json!({
                "id": id, "first_name": format!("Person {index}"),
                "updated_at": "2026-11-20T10:00:00Z"
            }))
        }
    }
}

#[tokio::test]
async fn a_first_sync_burst_is_enriched_completely_without_hammering_a_throttling_api() {
    const IDENTITIES: u64 = 40;
    let t = setup().await;
    let api = ThrottlingApi::default();
    Mock::given(method("GET"))
        .respond_with(api.clone())
        .mount(&t.api)
        .await;
    let bodies: Vec<String> = (0..IDENTITIES)
        .map(|i| argyle_envelope_for(&format!("argyle#burst{i}"), &burst_identity(i)))
        .collect();
    send_messages(&t.resources, &bodies).await;

    // The event source mapping: batches of up to 10 until the queue is drained.
    let capture = Capture::default();
    let guard = tracing::subscriber::set_default(subscriber(Level::INFO, capture.clone()));
    let mut handled = Vec::new();
    for _ in 0..20 {
        let event = t.resources.receive_event(30).await;
        if event.records.is_empty() {
            break;
        }
        assert!(event.records.len() <= 10);
        let response = t.enricher.handle_batch(&event, deadline()).await;
        assert!(
            response.batch_item_failures.is_empty(),
            "{:?}",
            response.batch_item_failures
        );
        t.resources.settle(&event, &response).await;
        handled.extend(event.records.iter().map(|r| r.message_id.clone().unwrap()));
    }
    drop(guard);

    // Every message handled once, none left visible or in flight.
    let distinct: std::collections::HashSet<&String> = handled.iter().collect();
    assert_eq!((handled.len(), distinct.len()), (40, 40));
    let attributes = t
        .resources
        .sqs
        .get_queue_attributes()
        .queue_url(&t.resources.queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap();
    for name in [
        aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages,
        aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
    ] {
        assert_eq!(
            attributes.get(&name).map(String::as_str),
            Some("0"),
            "{name:?}"
        );
    }

    // Every identity recorded with the API's data, and nothing else.
    for i in 0..IDENTITIES {
        let item = record(&t.resources, "argyle", &burst_identity(i)).await;
        assert_eq!(s(&item, "state"), "PRESENT");
        assert_eq!(s(&item, "event_id"), format!("argyle#burst{i}"));
        assert_eq!(s(&item, "resource_id"), burst_identity(i));
        assert_eq!(data(&item)["first_name"], format!("Person {i}"));
    }
    assert_eq!(
        t.resources.identity_items().await.len(),
        IDENTITIES as usize
    );
    let mut counted = counts(&capture.lines());
    counted.dedup();
    assert_eq!(counted, [count("Enriched", "unknown", None)]);

    // The API saw each throttled identity twice (429, then 200), the others once.
    let seen = api.seen.lock().unwrap().clone();
    for i in 0..IDENTITIES {
        let statuses: Vec<u16> = seen
            .iter()
            .filter(|(_, id, _)| *id == burst_identity(i))
            .map(|(_, _, status)| *status)
            .collect();
        let expected: &[u16] = if i % 3 == 0 { &[429, 200] } else { &[200] };
        assert_eq!(statuses, expected, "identity {i}");
    }
    assert_eq!(seen.iter().filter(|(_, _, s)| *s == 429).count(), 14);
    assert_eq!(seen.len(), 54);
    // Not hammered: after each 429, no request at all (for any identity) within its
    // Retry-After.
    for (throttled_at, _, _) in seen.iter().filter(|(_, _, s)| *s == 429) {
        for (at, id, _) in &seen {
            assert!(
                *at <= *throttled_at || *at >= *throttled_at + Duration::from_secs(1),
                "{id} requested {:?} after a 429",
                at.duration_since(*throttled_at)
            );
        }
    }
}

// ---- Answers larger than the cap.

/// A JSON object one byte over the enricher's cap on a provider's answer.
fn oversize_json() -> Value {
    let cap = hookline::provider_api::http::MAX_RESPONSE_BYTES;
    let padding = cap + 1 - r#"{"id":"x","padding":""}"#.len();
    let body = json!({"id": "x", "padding": "p".repeat(padding)});
    assert_eq!(body.to_string().len(), cap + 1);
    body
}

/// `outcome` is a permanent failure that does not quote the answer, and nothing was stored.
async fn refused_as_too_large(
    t: &Setup,
    outcome: Result<EnrichOutcome, EnrichError>,
    provider: &str,
    resource_id: &str,
) {
    assert!(permanent(&outcome), "{outcome:?}");
    let error = outcome.unwrap_err().to_string();
    assert!(error.contains("larger than 1048576 bytes"), "{error}");
    assert!(!error.contains("ppp"), "{error}");
    assert!(
        t.resources
            .identity_item(provider, resource_id)
            .await
            .is_none(),
        "{provider}: no identity written"
    );
}

#[tokio::test]
async fn an_oversize_answer_from_each_provider_fails_permanently_and_writes_nothing() {
    let t = setup().await;
    let oversize = || ResponseTemplate::new(200).set_body_json(oversize_json());
    Mock::given(method("GET"))
        .and(path(format!("/v2/identities/{ARGYLE_ID}")))
        .respond_with(oversize())
        .expect(1)
        .mount(&t.api)
        .await;
    Mock::given(method("GET"))
        .and(path(BAACK_PATH))
        .respond_with(oversize())
        .expect(1)
        .mount(&t.api)
        .await;
    mount_token(&t.api, "token-1", 1).await;
    Mock::given(method("GET"))
        .and(path("/api/v2/accounts/acc-1/identities/id-7"))
        .respond_with(oversize())
        .expect(1)
        .mount(&t.api)
        .await;

    let argyle = t
        .enricher
        .enrich(&argyle_envelope("argyle#big"), deadline())
        .await;
    refused_as_too_large(&t, argyle, "argyle", ARGYLE_ID).await;
    let baack = t
        .enricher
        .enrich(
            &baack_envelope("baack#big", BAACK_URN, Some(BAACK_PATH)),
            deadline(),
        )
        .await;
    refused_as_too_large(&t, baack, "baack", BAACK_URN).await;
    let clearid = t
        .enricher
        .enrich(
            &clearid_envelope("clearid#big", "identity.updated"),
            deadline(),
        )
        .await;
    refused_as_too_large(&t, clearid, "clearid", "id-7").await;
}

#[tokio::test]
async fn an_oversize_clearid_token_answer_fails_permanently_and_fetches_nothing() {
    let t = setup().await;
    let mut token = oversize_json();
    token["access_token"] = json!("token-1");
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token))
        .expect(1)
        .mount(&t.api)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"Id": "id-7"})))
        .expect(0)
        .mount(&t.api)
        .await;
    let outcome = t
        .enricher
        .enrich(
            &clearid_envelope("clearid#big-token", "identity.updated"),
            deadline(),
        )
        .await;
    refused_as_too_large(&t, outcome, "clearid", "id-7").await;
}
