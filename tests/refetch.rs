//! Content-keyed notifications ("go and fetch resource X", identical bytes for two real
//! changes) against the emulator: a repeat is a duplicate only until the enricher takes the
//! event; after that it is a new occurrence, fetched again. Run with the template's own Argyle
//! settings and with the longest window an operator might set.

use hookline::provider::Sample as _;
use hookline::providers::{Argyle, ClearId, Midbound};
use integration_tests::aws::{n, s};
use integration_tests::enricher::{drain_once, enricher_for};
use integration_tests::Harness;
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const IDENTITY: &str = "0187c66e-f13b-31e4-6b2c-6a0dd4f67e43";

/// The `DEDUP_RETENTION_SECONDS` the template gives the Argyle function when the operator keeps
/// the parameters' defaults: none (the provider's own window), unless its parameter defaults
/// to a value.
fn template_argyle_retention() -> Vec<(&'static str, String)> {
    let default = integration_tests::stack::template()["Parameters"]["ArgyleDedupRetentionSeconds"]
        ["Default"]
        .as_str()
        .unwrap_or_default();
    if default.is_empty() {
        vec![]
    } else {
        vec![("DEDUP_RETENTION_SECONDS", default.to_string())]
    }
}

fn identity(first_name: &str, updated_at: &str) -> Value {
    json!({"id": IDENTITY, "first_name": first_name, "updated_at": updated_at})
}

/// Two identical `identities.updated` deliveries with an enrichment between them: two
/// fetches, the second answered with newer data, and the stored identity ends with it. A
/// retry before the enrichment is a duplicate: one message.
async fn identical_updates_around_an_enrichment(fifo: bool, extra: &[(&'static str, String)]) {
    let h = Harness::<Argyle>::with(fifo, extra).await;
    let api = MockServer::start().await;
    let enricher = enricher_for(&h.resources, &api.uri()).await;
    let identity_path = format!("/v2/identities/{IDENTITY}");
    Mock::given(method("GET"))
        .and(path(identity_path.clone()))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(identity("Ann", "2026-11-20T10:00:00Z")),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(method("GET"))
        .and(path(identity_path))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(identity("Anna", "2026-11-20T11:00:00Z")),
        )
        .expect(1)
        .mount(&api)
        .await;
    let body = Argyle::payload().replace("identities.added", "identities.updated");
    let event_id = Argyle::event_id(&body);

    h.send(h.signed(&body)).await.expect(200, "accepted");
    // The provider's retry, seconds later, before any enrichment.
    h.send(h.signed(&body)).await.expect(200, "duplicate");
    assert_eq!(
        drain_once(&h.resources, &enricher).await,
        (1, 0),
        "one message, enriched"
    );
    let record = h.resources.item(&event_id).await.expect("dedup record");
    assert_eq!(s(&record, "status"), "CONSUMED");

    // The identity changes; Argyle says so with the very same bytes.
    let r = h.send(h.signed(&body)).await;
    r.expect(200, "accepted");
    assert_eq!(r.body["event_id"], event_id.as_str());
    assert_eq!(
        drain_once(&h.resources, &enricher).await,
        (1, 0),
        "fetched again"
    );

    let enriched = h.resources.identity("argyle", IDENTITY).await;
    let data: Value = serde_json::from_str(s(&enriched, "data")).unwrap();
    assert_eq!(data["first_name"], "Anna");
    assert_eq!(s(&enriched, "source_updated_at"), "2026-11-20T11:00:00Z");
    assert_eq!(s(&enriched, "event_id"), event_id);
    assert_eq!(
        n(&enriched, "revision"),
        2,
        "created, then updated by the second fetch"
    );
    assert!(h.resources.messages().await.is_empty());
    api.verify().await;
}

#[tokio::test]
async fn argyle_update_after_an_enrichment_is_fetched_again_with_the_template_settings() {
    identical_updates_around_an_enrichment(false, &template_argyle_retention()).await;
}

#[tokio::test]
async fn argyle_update_after_an_enrichment_is_fetched_again_even_with_a_week_long_window() {
    identical_updates_around_an_enrichment(false, &[("DEDUP_RETENTION_SECONDS", "604800".into())])
        .await;
}

/// SQS FIFO drops a second message with the same deduplication id within five minutes; the
/// second occurrence must still arrive.
#[tokio::test]
async fn argyle_update_after_an_enrichment_reaches_a_fifo_queue_too() {
    identical_updates_around_an_enrichment(true, &template_argyle_retention()).await;
}

/// ClearID without an ordinal is keyed by its body: the same rule applies.
#[tokio::test]
async fn clearid_without_an_ordinal_is_a_new_event_once_consumed() {
    let h = Harness::<ClearId>::new().await;
    let mut payload: Value = serde_json::from_str(&ClearId::payload()).unwrap();
    payload.as_object_mut().unwrap().remove("Ordinal");
    let body = payload.to_string();
    let first = h.send(h.signed(&body)).await;
    first.expect(200, "accepted");
    h.send(h.signed(&body)).await.expect(200, "duplicate");
    let event_id = first.body["event_id"].as_str().unwrap().to_string();
    let message = &h.resources.messages().await[0];
    assert_eq!(message.body["keyed_by_content"], true);
    // What the enricher does before it reads the identity.
    assert!(hookline::store::reopen(
        &h.resources.dynamodb,
        &h.resources.table,
        &event_id,
        integration_tests::samples::now()
    )
    .await
    .unwrap());
    h.send(h.signed(&body)).await.expect(200, "accepted");
    assert_eq!(h.resources.messages().await.len(), 1);
}

/// A key that names one event (Midbound's webhook-id, Baack's trigger, ClearID's ordinal) is
/// never reopened: a retry after the enrichment is still a duplicate.
#[tokio::test]
async fn an_event_keyed_by_its_id_stays_a_duplicate_after_enrichment() {
    let h = Harness::<Midbound>::new().await;
    let api = MockServer::start().await;
    let enricher = enricher_for(&h.resources, &api.uri()).await;
    let body = Midbound::payload();
    h.send(h.signed(&body)).await.expect(200, "accepted");
    assert_eq!(drain_once(&h.resources, &enricher).await, (1, 0));
    let record = h.resources.item(&Midbound::event_id(&body)).await.unwrap();
    assert_eq!(s(&record, "status"), "ENQUEUED");
    h.send(h.signed(&body)).await.expect(200, "duplicate");
    assert!(h.resources.messages().await.is_empty());
}

/// A late mark from the attempt that handed off an earlier occurrence must not end the handoff
/// of the next one: only the attempt holding the record marks it ENQUEUED.
#[tokio::test]
async fn a_late_mark_of_an_earlier_occurrence_leaves_the_next_one_claimable() {
    use hookline::store::{Claim, ClaimOutcome, DynamoDbEventStore, EventStore};
    let h = Harness::<Argyle>::new().await;
    let store = DynamoDbEventStore::new(h.resources.dynamodb.clone(), &h.resources.table);
    let body = Argyle::payload();
    let event_id = Argyle::event_id(&body);
    let now = integration_tests::samples::now();
    let claim = |attempt: &str| Claim {
        message: hookline::envelope::QueueMessage {
            event_id: event_id.clone(),
            provider: "argyle".into(),
            event_type: "identities.added".into(),
            group: IDENTITY.into(),
            deduplication_id: format!("dedup-{attempt}"),
            body: "{}".into(),
            replay_id: None,
        },
        payload_sha256: hookline::digest::sha256_hex(body.as_bytes()),
        claim_id: attempt.into(),
        now,
        lease_expires_at: now + 30,
        expires_at: now + 600,
    };
    // Occurrence 1, claimed by r1 and sent; the enricher consumes it before r1 marks it.
    assert_eq!(store.claim(&claim("r1")).await, Ok(ClaimOutcome::Claimed));
    let (client, table) = (&h.resources.dynamodb, &h.resources.table);
    assert!(hookline::store::reopen(client, table, &event_id, now)
        .await
        .unwrap());
    // Occurrence 2, claimed by r2; then r1's late mark.
    assert_eq!(store.claim(&claim("r2")).await, Ok(ClaimOutcome::Claimed));
    store.mark_enqueued(&event_id, "r1", now).await.unwrap();
    let record = h.resources.item(&event_id).await.unwrap();
    assert_eq!(s(&record, "status"), "RECEIVED");
    assert_eq!(s(&record, "claim_id"), "r2");
    assert_eq!(
        s(&record, "pending"),
        hookline::store::pending_key(&event_id),
        "still found by the sweeper"
    );
    // r2's send fails: its release works, and the provider's retry takes the event over.
    store.release(&event_id, "r2").await.unwrap();
    assert_eq!(store.claim(&claim("r3")).await, Ok(ClaimOutcome::Claimed));
    store.mark_enqueued(&event_id, "r3", now).await.unwrap();
    let record = h.resources.item(&event_id).await.unwrap();
    assert_eq!(s(&record, "status"), "ENQUEUED");
}

/// Without an update time from the provider (ClearID), two reads of one identity written out
/// of order keep the later read's data: the slower, earlier read is stale. Decided as the
/// enricher decides, written through the identities table's adapter.
#[tokio::test]
async fn without_an_update_time_the_later_read_wins() {
    use hookline::identity::{
        decide, Decision, DynamoDbIdentities, Fetched, IdentityKey, IdentityStore, Observation,
        Retention,
    };
    let resources = integration_tests::Resources::create(false).await;
    let store = DynamoDbIdentities::new(resources.dynamodb.clone(), &resources.identities_table);
    let key = IdentityKey::new("clearid", "id-7");
    let retention = Retention {
        data_seconds: 86_400,
        tombstone_seconds: 3_600,
    };
    // Whether the read is written (false: stale, nothing written).
    let record = |name: &str, read_started_ms: i64| {
        let observation = Observation {
            key: key.clone(),
            event_id: "clearid#identity.updated#sha256:ab".into(),
            event_type: "identity.updated".into(),
            fetched: Fetched::Found {
                data: json!({ "name": name }),
                updated_at: None,
            },
            read_started_ms,
            now: 1_800_000_000,
        };
        let store = &store;
        let key = &key;
        async move {
            let stored = store.get(key).await.unwrap();
            match decide(stored.as_ref(), observation, retention) {
                Decision::Write(identity) => {
                    assert!(store.put(&identity).await.unwrap(), "no race here");
                    true
                }
                Decision::Stale => false,
            }
        }
    };
    assert!(record("newer", 2_000).await);
    assert!(!record("older", 1_000).await, "stale");
    let item = resources.identity("clearid", "id-7").await;
    assert_eq!(s(&item, "data"), r#"{"name":"newer"}"#);
    assert_eq!(n(&item, "read_started_ms"), 2_000);
    assert!(record("newest", 3_000).await);
    let item = resources.identity("clearid", "id-7").await;
    assert_eq!(s(&item, "data"), r#"{"name":"newest"}"#);
    assert_eq!(n(&item, "revision"), 2);
}
