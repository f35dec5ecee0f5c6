//! Each identity's current state and its change events, against the emulator: the real
//! enricher (as deployed: `enricher_for` / `enricher_with`) writing the stack's IdentitiesTable
//! and sending to the stack's bus, the provider APIs a local server, the change events caught
//! from moto's EventBridge by a rule of the test's own (`ChangeWatcher`, tests/support).
//!
//! What is proved: the record's exact attributes and expiry (data and tombstone, default and
//! configured retention); one record per identity however many events name it; exactly one
//! change event per real change (created, updated naming the changed fields, deleted) and none
//! for a repeat or a stale read; the data in an event only when asked for; and a change the bus
//! refused kept on the record and sent once by the retry.

use aws_sdk_dynamodb::types::AttributeValue;
use hookline::enrich::{EnrichError, EnrichOutcome, Enricher};
use hookline::provider::Sample as _;
use hookline::providers::{Argyle, Midbound};
use integration_tests::aws::{data, n, s};
use integration_tests::changes::{ChangeEvent, ChangeWatcher};
use integration_tests::enricher::{drain_once, enricher_for, enricher_with, envelope};
use integration_tests::samples::webhook_id;
use integration_tests::{Harness, Resources};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

type Item = HashMap<String, AttributeValue>;

const ARGYLE_ID: &str = "0187c66e-f13b-31e4-6b2c-6a0dd4f67e43";
const DAY: i64 = 86_400;

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(30)
}

/// An Argyle notification about [`ARGYLE_ID`].
fn argyle_event(event_id: &str) -> String {
    envelope(
        "argyle",
        event_id,
        "identities.updated",
        json!({"id": ARGYLE_ID, "url": format!("/v2/identities/{ARGYLE_ID}")}),
        json!({"event": "identities.updated", "data": {"identity": ARGYLE_ID}}),
    )
}

fn argyle_identity(first_name: &str, updated_at: &str) -> Value {
    json!({"id": ARGYLE_ID, "first_name": first_name, "ssn": "000-12-3456",
           "updated_at": updated_at})
}

/// The Argyle API answering `answer` for [`ARGYLE_ID`], from now on.
async fn argyle_answers(api: &MockServer, answer: ResponseTemplate) {
    api.reset().await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/identities/{ARGYLE_ID}")))
        .respond_with(answer)
        .mount(api)
        .await;
}

fn found(data: &Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(data)
}

struct Setup {
    resources: Resources,
    api: MockServer,
    changes: ChangeWatcher,
}

async fn setup() -> Setup {
    let resources = Resources::create(false).await;
    let api = MockServer::start().await;
    let changes = ChangeWatcher::on(&resources).await;
    Setup {
        resources,
        api,
        changes,
    }
}

/// Enriches `body` once, between two readings of the clock (Unix seconds).
async fn enrich_timed(
    enricher: &Enricher,
    body: &str,
) -> (Result<EnrichOutcome, EnrichError>, i64, i64) {
    let before = hookline::clock::unix_now();
    let outcome = enricher.enrich(body, deadline()).await;
    (outcome, before, hookline::clock::unix_now())
}

fn names(item: &Item) -> BTreeSet<&str> {
    item.keys().map(String::as_str).collect()
}

/// The one change event the bus delivered since the last look.
async fn one_change(changes: &ChangeWatcher) -> ChangeEvent {
    let mut events = changes.take().await;
    assert_eq!(events.len(), 1, "{events:?}");
    events.pop().unwrap()
}

async fn no_change(changes: &ChangeWatcher, what: &str) {
    let events = changes.take().await;
    assert!(events.is_empty(), "{what}: {events:?}");
}

// ---- The record.

#[tokio::test]
async fn a_first_fetch_stores_the_providers_data_as_the_identitys_current_state() {
    let t = setup().await;
    let identity = argyle_identity("Ann", "2026-11-20T10:00:00Z");
    argyle_answers(&t.api, found(&identity)).await;
    let enricher = enricher_for(&t.resources, &t.api.uri()).await;
    let started_ms = hookline::clock::unix_now_ms();
    let (outcome, before, after) = enrich_timed(&enricher, &argyle_event("argyle#e1")).await;
    let finished_ms = hookline::clock::unix_now_ms();
    assert_eq!(outcome, Ok(EnrichOutcome::Enriched));

    let item = t.resources.identity("argyle", ARGYLE_ID).await;
    assert_eq!(
        names(&item),
        BTreeSet::from([
            "resource_key",
            "provider",
            "resource_id",
            "state",
            "data",
            "source_updated_at",
            "read_started_ms",
            "fetched_at",
            "event_id",
            "event_type",
            "revision",
            "changed_at",
            "version",
            "expires_at",
        ]),
        "no pending: its change was sent"
    );
    assert_eq!(s(&item, "resource_key"), format!("argyle#{ARGYLE_ID}"));
    assert_eq!(s(&item, "provider"), "argyle");
    assert_eq!(s(&item, "resource_id"), ARGYLE_ID);
    assert_eq!(s(&item, "state"), "PRESENT");
    assert_eq!(data(&item), identity, "the API's JSON, whole");
    assert_eq!(s(&item, "source_updated_at"), "2026-11-20T10:00:00Z");
    assert_eq!(s(&item, "event_id"), "argyle#e1");
    assert_eq!(s(&item, "event_type"), "identities.updated");
    assert_eq!(n(&item, "revision"), 1);
    assert_eq!(n(&item, "version"), 1);
    let fetched_at = n(&item, "fetched_at");
    assert!((before..=after).contains(&fetched_at), "{fetched_at}");
    assert!((started_ms..=finished_ms).contains(&n(&item, "read_started_ms")));
    assert_eq!(n(&item, "changed_at"), fetched_at);
    assert_eq!(n(&item, "expires_at"), fetched_at + 365 * DAY);

    // Its change event: the contract, field for field, and no personal data.
    let event = one_change(&t.changes).await;
    assert_eq!(event.source, "hookline");
    assert_eq!(event.detail_type, "argyle.identity.created");
    assert_eq!(
        event.detail,
        json!({
            "version": 1,
            "provider": "argyle",
            "resource_id": ARGYLE_ID,
            "change": "created",
            "changed_fields": ["first_name", "id", "ssn", "updated_at"],
            "revision": 1,
            "event_id": "argyle#e1",
            "event_type": "identities.updated",
            "changed_at": hookline::clock::rfc3339(fetched_at),
            "source_updated_at": "2026-11-20T10:00:00Z",
        })
    );
}

#[tokio::test]
async fn identity_retention_days_set_the_records_expiry() {
    let t = setup().await;
    argyle_answers(
        &t.api,
        found(&argyle_identity("Ann", "2026-11-20T10:00:00Z")),
    )
    .await;
    let retention = [("IDENTITY_RETENTION_DAYS", "7".to_string())];
    let enricher = enricher_with(&t.resources, &t.api.uri(), &retention).await;
    let (outcome, _, _) = enrich_timed(&enricher, &argyle_event("argyle#e1")).await;
    assert_eq!(outcome, Ok(EnrichOutcome::Enriched));
    let item = t.resources.identity("argyle", ARGYLE_ID).await;
    assert_eq!(n(&item, "expires_at"), n(&item, "fetched_at") + 7 * DAY);

    // Each fetch counts the time again, from that fetch.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (outcome, _, _) = enrich_timed(&enricher, &argyle_event("argyle#e2")).await;
    assert_eq!(outcome, Ok(EnrichOutcome::Enriched));
    let again = t.resources.identity("argyle", ARGYLE_ID).await;
    assert!(n(&again, "fetched_at") > n(&item, "fetched_at"));
    assert_eq!(n(&again, "expires_at"), n(&again, "fetched_at") + 7 * DAY);
    assert_eq!(
        n(&again, "changed_at"),
        n(&item, "changed_at"),
        "the same data: no change"
    );
}

/// The provider says the identity is gone (a 404 after it was fetched): the data goes, a
/// tombstone stays for TOMBSTONE_RETENTION_DAYS (90 by default).
#[tokio::test]
async fn a_404_replaces_the_data_with_a_tombstone_kept_for_90_days() {
    let t = setup().await;
    argyle_answers(
        &t.api,
        found(&argyle_identity("Ann", "2026-11-20T10:00:00Z")),
    )
    .await;
    let enricher = enricher_for(&t.resources, &t.api.uri()).await;
    enricher
        .enrich(&argyle_event("argyle#e1"), deadline())
        .await
        .unwrap();
    assert_eq!(one_change(&t.changes).await.detail["change"], "created");

    argyle_answers(&t.api, ResponseTemplate::new(404)).await;
    let (outcome, before, after) = enrich_timed(&enricher, &argyle_event("argyle#e2")).await;
    assert_eq!(outcome, Ok(EnrichOutcome::Tombstone));
    let item = t.resources.identity("argyle", ARGYLE_ID).await;
    assert_eq!(s(&item, "state"), "TOMBSTONE");
    for gone in ["data", "source_updated_at", "pending"] {
        assert!(!item.contains_key(gone), "{gone}: {item:?}");
    }
    assert_eq!(s(&item, "event_id"), "argyle#e2");
    assert_eq!(n(&item, "revision"), 2);
    let fetched_at = n(&item, "fetched_at");
    assert!((before..=after).contains(&fetched_at));
    assert_eq!(n(&item, "changed_at"), fetched_at);
    assert_eq!(n(&item, "expires_at"), fetched_at + 90 * DAY);

    let event = one_change(&t.changes).await;
    assert_eq!(event.detail_type, "argyle.identity.deleted");
    assert_eq!(
        event.detail,
        json!({
            "version": 1,
            "provider": "argyle",
            "resource_id": ARGYLE_ID,
            "change": "deleted",
            "changed_fields": ["first_name", "id", "ssn", "updated_at"],
            "revision": 2,
            "event_id": "argyle#e2",
            "event_type": "identities.updated",
            "changed_at": hookline::clock::rfc3339(fetched_at),
        })
    );
    assert_eq!(t.resources.identity_items().await.len(), 1);
}

/// The provider's own deletion event, which its API confirms (404), for an identity never seen:
/// a tombstone, told once (no fields: there was no data), kept for TOMBSTONE_RETENTION_DAYS as
/// configured.
#[tokio::test]
async fn a_deletion_event_records_a_tombstone_for_the_configured_days() {
    let t = setup().await;
    // ClearID's token; the identity itself is not mounted, so its read answers 404.
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"access_token": "t"})))
        .mount(&t.api)
        .await;
    let enricher = enricher_with(
        &t.resources,
        &t.api.uri(),
        &[("TOMBSTONE_RETENTION_DAYS", "3".to_string())],
    )
    .await;
    let deletion = |event_id: &str| {
        envelope(
            "clearid",
            event_id,
            "identity.deleted",
            json!({"id": "id-7", "url": "/api/v2/accounts/acc-1/identities/id-7"}),
            json!({"AccountId": "acc-1", "IdentityId": "id-7", "Ordinal": 1}),
        )
    };
    let (outcome, _, _) = enrich_timed(&enricher, &deletion("clearid#d1")).await;
    assert_eq!(outcome, Ok(EnrichOutcome::Tombstone));
    let item = t.resources.identity("clearid", "id-7").await;
    assert_eq!(s(&item, "state"), "TOMBSTONE");
    assert!(!item.contains_key("data"));
    assert_eq!(n(&item, "revision"), 1);
    assert_eq!(n(&item, "expires_at"), n(&item, "fetched_at") + 3 * DAY);
    let event = one_change(&t.changes).await;
    assert_eq!(event.detail_type, "clearid.identity.deleted");
    assert_eq!(event.detail["changed_fields"], json!([]));
    assert_eq!(event.detail["event_id"], "clearid#d1");
    assert!(event.detail.get("source_updated_at").is_none());

    // Told again: still gone, nothing new to tell.
    let (outcome, _, _) = enrich_timed(&enricher, &deletion("clearid#d2")).await;
    assert_eq!(outcome, Ok(EnrichOutcome::Tombstone));
    no_change(&t.changes, "a second deletion").await;
    let again = t.resources.identity("clearid", "id-7").await;
    assert_eq!(n(&again, "revision"), 1);
    assert_eq!(s(&again, "event_id"), "clearid#d2");
}

/// Several events for one identity, through the real webhook pipeline and the queue: one
/// record, under `<provider>#<resource id>`; another identity has its own. A Midbound event
/// names no resource: its identity is the event.
#[tokio::test]
async fn one_record_per_identity_however_many_events_name_it() {
    let h = Harness::<Argyle>::new().await;
    let api = MockServer::start().await;
    let changes = ChangeWatcher::on(&h.resources).await;
    let identity = argyle_identity("Ann", "2026-11-20T10:00:00Z");
    argyle_answers(&api, found(&identity)).await;
    let other = "0187c66e-f13b-31e4-6b2c-000000000002";
    Mock::given(method("GET"))
        .and(path(format!("/v2/identities/{other}")))
        .respond_with(found(&json!({"id": other, "first_name": "Bo"})))
        .mount(&api)
        .await;
    let enricher = enricher_for(&h.resources, &api.uri()).await;

    let added = Argyle::payload();
    let updated = added.replace("identities.added", "identities.updated");
    let elsewhere = added.replace(ARGYLE_ID, other);
    assert_ne!(Argyle::event_id(&added), Argyle::event_id(&updated));
    for body in [&added, &updated] {
        h.send(h.signed(body)).await.expect(200, "accepted");
    }
    assert_eq!(drain_once(&h.resources, &enricher).await, (2, 0));
    h.send(h.signed(&elsewhere)).await.expect(200, "accepted");
    assert_eq!(drain_once(&h.resources, &enricher).await, (1, 0));

    let items = h.resources.identity_items().await;
    let mut keys: Vec<&str> = items.iter().map(|i| s(i, "resource_key")).collect();
    keys.sort();
    assert_eq!(
        keys,
        [format!("argyle#{other}"), format!("argyle#{ARGYLE_ID}")]
    );
    let item = h.resources.identity("argyle", ARGYLE_ID).await;
    assert_eq!(data(&item), identity);
    let event_ids = [Argyle::event_id(&added), Argyle::event_id(&updated)];
    assert!(event_ids.contains(&s(&item, "event_id").to_string()));
    assert_eq!(n(&item, "revision"), 1, "the same data twice: one change");
    let mut sent: Vec<(String, Value)> = changes
        .take()
        .await
        .into_iter()
        .map(|e| (e.detail_type, e.detail["resource_id"].clone()))
        .collect();
    sent.sort_by_key(|(_, id)| id.to_string());
    assert_eq!(
        sent,
        [
            ("argyle.identity.created".to_string(), json!(other)),
            ("argyle.identity.created".to_string(), json!(ARGYLE_ID)),
        ]
    );

    // Midbound: `midbound#evt_…` is the event, the identity and the record's key.
    let h = Harness::<Midbound>::new().await;
    let enricher = enricher_for(&h.resources, &api.uri()).await;
    let body = Midbound::payload();
    h.send(h.signed(&body)).await.expect(200, "accepted");
    assert_eq!(drain_once(&h.resources, &enricher).await, (1, 0));
    let webhook_id = webhook_id(&body);
    let item = h.resources.identity("midbound", &webhook_id).await;
    assert_eq!(s(&item, "resource_key"), Midbound::event_id(&body));
    assert_eq!(s(&item, "resource_id"), webhook_id);
    assert_eq!(s(&item, "event_id"), Midbound::event_id(&body));
    let payload: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(data(&item), payload["data"]);
    assert_eq!(h.resources.identity_items().await.len(), 1);
}

// ---- Change events: exactly one per real change.

#[tokio::test]
async fn each_real_change_sends_exactly_one_event_and_nothing_else_does() {
    let t = setup().await;
    let enricher = enricher_for(&t.resources, &t.api.uri()).await;
    let ann = argyle_identity("Ann", "2026-11-20T10:00:00Z");
    let step = |n: u32| format!("argyle#e{n}");

    // A first fetch: created, every field.
    argyle_answers(&t.api, found(&ann)).await;
    assert_eq!(
        enricher.enrich(&argyle_event(&step(1)), deadline()).await,
        Ok(EnrichOutcome::Enriched)
    );
    let created = one_change(&t.changes).await;
    assert_eq!(created.detail_type, "argyle.identity.created");
    assert_eq!(
        created.detail["changed_fields"],
        json!(["first_name", "id", "ssn", "updated_at"])
    );
    assert_eq!(created.detail["revision"], 1);

    // The same data again (a redelivery, another notification): nothing to tell.
    assert_eq!(
        enricher.enrich(&argyle_event(&step(2)), deadline()).await,
        Ok(EnrichOutcome::Enriched)
    );
    no_change(&t.changes, "a re-fetch of the same data").await;
    let item = t.resources.identity("argyle", ARGYLE_ID).await;
    assert_eq!(n(&item, "revision"), 1);
    assert_eq!(s(&item, "event_id"), step(2), "the latest fetch");

    // Changed data: updated, naming exactly what changed.
    let anna = argyle_identity("Anna", "2026-11-20T11:00:00Z");
    argyle_answers(&t.api, found(&anna)).await;
    assert_eq!(
        enricher.enrich(&argyle_event(&step(3)), deadline()).await,
        Ok(EnrichOutcome::Enriched)
    );
    let updated = one_change(&t.changes).await;
    assert_eq!(updated.detail_type, "argyle.identity.updated");
    assert_eq!(
        updated.detail["changed_fields"],
        json!(["first_name", "updated_at"])
    );
    assert_eq!(updated.detail["revision"], 2);
    assert_eq!(updated.detail["event_id"], step(3));
    assert_eq!(updated.detail["source_updated_at"], "2026-11-20T11:00:00Z");
    assert!(updated.detail.get("data").is_none());
    // A field added, one removed: both named.
    let mut reshaped = anna.clone();
    reshaped.as_object_mut().unwrap().remove("ssn");
    reshaped["email"] = json!("anna@example.com");
    reshaped["updated_at"] = json!("2026-11-20T12:00:00Z");
    argyle_answers(&t.api, found(&reshaped)).await;
    enricher
        .enrich(&argyle_event(&step(4)), deadline())
        .await
        .unwrap();
    let updated = one_change(&t.changes).await;
    assert_eq!(
        updated.detail["changed_fields"],
        json!(["email", "ssn", "updated_at"])
    );
    assert_eq!(updated.detail["revision"], 3);

    // Older data than stored (a lagging replica): stale, nothing written, nothing sent.
    let stored = t.resources.identity("argyle", ARGYLE_ID).await;
    argyle_answers(
        &t.api,
        found(&argyle_identity("Old", "2026-11-19T00:00:00Z")),
    )
    .await;
    assert_eq!(
        enricher.enrich(&argyle_event(&step(5)), deadline()).await,
        Ok(EnrichOutcome::Stale)
    );
    no_change(&t.changes, "a stale fetch").await;
    assert_eq!(t.resources.identity("argyle", ARGYLE_ID).await, stored);

    // Gone: deleted, naming the fields it had.
    argyle_answers(&t.api, ResponseTemplate::new(404)).await;
    assert_eq!(
        enricher.enrich(&argyle_event(&step(6)), deadline()).await,
        Ok(EnrichOutcome::Tombstone)
    );
    let deleted = one_change(&t.changes).await;
    assert_eq!(deleted.detail_type, "argyle.identity.deleted");
    assert_eq!(
        deleted.detail["changed_fields"],
        json!(["email", "first_name", "id", "updated_at"])
    );
    assert_eq!(deleted.detail["revision"], 4);
    // Still gone: nothing new.
    assert_eq!(
        enricher.enrich(&argyle_event(&step(7)), deadline()).await,
        Ok(EnrichOutcome::Tombstone)
    );
    no_change(&t.changes, "a second 404").await;

    // Back at the provider: created again.
    argyle_answers(&t.api, found(&ann)).await;
    assert_eq!(
        enricher.enrich(&argyle_event(&step(8)), deadline()).await,
        Ok(EnrichOutcome::Enriched)
    );
    let back = one_change(&t.changes).await;
    assert_eq!(back.detail_type, "argyle.identity.created");
    assert_eq!(back.detail["revision"], 5);
    let item = t.resources.identity("argyle", ARGYLE_ID).await;
    assert_eq!(n(&item, "revision"), 5);
    assert_eq!(s(&item, "state"), "PRESENT");
    assert_eq!(data(&item), ann);
    assert_eq!(t.resources.identity_items().await.len(), 1);
}

/// Answers the first request after `delay` with `first`, every later one at once with `then`.
struct SlowFirst {
    delay: Duration,
    first: Value,
    then: Value,
    seen: std::sync::atomic::AtomicUsize,
}

impl wiremock::Respond for SlowFirst {
    fn respond(&self, _: &wiremock::Request) -> ResponseTemplate {
        if self.seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            found(&self.first).set_delay(self.delay)
        } else {
            found(&self.then)
        }
    }
}

/// Without an update time from the provider (Baack), two reads of one identity are ordered by
/// when they started: the read that started first and finished last is stale, writes nothing
/// and sends nothing.
#[tokio::test]
async fn an_out_of_order_read_is_stale_and_silent() {
    let t = setup().await;
    let urn = "urn:baack:clientidentifier:7c2d";
    let url = format!("/n/v1/clientidentifier/{urn}");
    Mock::given(method("GET"))
        .and(path(&url))
        .respond_with(SlowFirst {
            delay: Duration::from_secs(2),
            first: json!({"urn": urn, "domain": "old.example.com"}),
            then: json!({"urn": urn, "domain": "new.example.com"}),
            seen: Default::default(),
        })
        .mount(&t.api)
        .await;
    let enricher = enricher_with(
        &t.resources,
        &t.api.uri(),
        &[("HTTP_TIMEOUT_SECONDS", "5".to_string())],
    )
    .await;
    let event = |event_id: &str| {
        envelope(
            "baack",
            event_id,
            "IDENTITY_CLIENT_IDENTIFIER.UPDATE",
            json!({"id": urn, "url": url}),
            json!({}),
        )
    };
    let (earlier, later) = (event("baack#earlier"), event("baack#later"));
    let slow = enricher.enrich(&earlier, deadline());
    let fast = async {
        // Starts once the slow read is at the API (so it began first), finishes long before it.
        while t.api.received_requests().await.unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        enricher.enrich(&later, deadline()).await
    };
    let (slow, fast) = tokio::join!(slow, fast);
    assert_eq!(fast, Ok(EnrichOutcome::Enriched));
    assert_eq!(slow, Ok(EnrichOutcome::Stale));
    let item = t.resources.identity("baack", urn).await;
    assert_eq!(data(&item)["domain"], "new.example.com");
    assert_eq!(s(&item, "event_id"), "baack#later");
    assert!(!item.contains_key("source_updated_at"));
    let event = one_change(&t.changes).await;
    assert_eq!(event.detail_type, "baack.identity.created");
    assert_eq!(event.detail["event_id"], "baack#later");
    assert_eq!(event.detail["changed_fields"], json!(["domain", "urn"]));
}

#[tokio::test]
async fn the_data_travels_in_the_event_only_when_the_stack_says_so() {
    let t = setup().await;
    let identity = argyle_identity("Ann", "2026-11-20T10:00:00Z");
    argyle_answers(&t.api, found(&identity)).await;
    let include = [("CHANGE_EVENTS_INCLUDE_DATA", "true".to_string())];
    let enricher = enricher_with(&t.resources, &t.api.uri(), &include).await;
    enricher
        .enrich(&argyle_event("argyle#e1"), deadline())
        .await
        .unwrap();
    let event = one_change(&t.changes).await;
    assert_eq!(event.detail["data"], identity);
    assert_eq!(event.detail["change"], "created");

    let anna = argyle_identity("Anna", "2026-11-20T11:00:00Z");
    argyle_answers(&t.api, found(&anna)).await;
    enricher
        .enrich(&argyle_event("argyle#e2"), deadline())
        .await
        .unwrap();
    let event = one_change(&t.changes).await;
    assert_eq!(event.detail["data"], anna, "the data as now stored");

    // A tombstone has none to send.
    argyle_answers(&t.api, ResponseTemplate::new(404)).await;
    enricher
        .enrich(&argyle_event("argyle#e3"), deadline())
        .await
        .unwrap();
    let event = one_change(&t.changes).await;
    assert_eq!(event.detail["change"], "deleted");
    assert!(event.detail.get("data").is_none(), "{}", event.detail);

    // And the stack's default (ChangeEventsIncludeData false) sends none.
    assert_eq!(
        t.resources.environment("enricher")["CHANGE_EVENTS_INCLUDE_DATA"],
        "false"
    );
    let default = enricher_for(&t.resources, &t.api.uri()).await;
    argyle_answers(&t.api, found(&identity)).await;
    default
        .enrich(&argyle_event("argyle#e4"), deadline())
        .await
        .unwrap();
    let event = one_change(&t.changes).await;
    assert_eq!(event.detail["change"], "created");
    assert!(event.detail.get("data").is_none(), "{}", event.detail);
}

// ---- A bus that refuses.

/// The record's pending change, as stored.
fn pending(item: &Item) -> Option<Value> {
    item.get("pending")
        .map(|v| serde_json::from_str(v.as_s().expect("pending is text")).expect("JSON"))
}

/// PutEvents to a bus that does not exist fails (moto: ResourceNotFoundException): the message
/// fails, the state is stored with its change pending, and the retry, with the bus back,
/// sends the change once and clears it.
#[tokio::test]
async fn a_change_the_bus_refused_is_kept_and_sent_once_by_the_retry() {
    let t = setup().await;
    let identity = argyle_identity("Ann", "2026-11-20T10:00:00Z");
    argyle_answers(&t.api, found(&identity)).await;
    let broken = enricher_with(
        &t.resources,
        &t.api.uri(),
        &[(
            "EVENT_BUS_NAME",
            format!("{}-no-such-bus", t.resources.stack_name),
        )],
    )
    .await;
    let working = enricher_for(&t.resources, &t.api.uri()).await;
    t.resources
        .sqs
        .send_message()
        .queue_url(&t.resources.queue_url)
        .message_body(argyle_event("argyle#e1"))
        .send()
        .await
        .unwrap();

    assert_eq!(drain_once(&t.resources, &broken).await, (1, 1), "failed");
    let item = t.resources.identity("argyle", ARGYLE_ID).await;
    assert_eq!(s(&item, "state"), "PRESENT");
    assert_eq!(data(&item), identity, "the state is stored all the same");
    let change = pending(&item).expect("the change is pending");
    assert_eq!(change["change"], "created");
    assert_eq!(change["revision"], 1);
    assert_eq!(change["event_id"], "argyle#e1");
    no_change(&t.changes, "the bus refused").await;

    // Refused again on the next receive: still one pending change, nothing piles up.
    assert_eq!(drain_once(&t.resources, &broken).await, (1, 1));
    let again = t.resources.identity("argyle", ARGYLE_ID).await;
    assert_eq!(pending(&again), Some(change.clone()));
    assert_eq!(n(&again, "revision"), 1);

    // The bus is back: the retry sends the change, once, and the record forgets it.
    assert_eq!(drain_once(&t.resources, &working).await, (1, 0));
    let event = one_change(&t.changes).await;
    assert_eq!(event.detail_type, "argyle.identity.created");
    assert_eq!(event.detail["revision"], 1);
    assert_eq!(event.detail["event_id"], "argyle#e1");
    let item = t.resources.identity("argyle", ARGYLE_ID).await;
    assert!(pending(&item).is_none(), "{item:?}");
    assert_eq!(n(&item, "revision"), 1);
    assert!(t.resources.receive_event(0).await.records.is_empty());
    // A later fetch of the same data has nothing left to send.
    working
        .enrich(&argyle_event("argyle#e2"), deadline())
        .await
        .unwrap();
    no_change(&t.changes, "sent already").await;
}

/// Changes made while the bus refuses are coalesced on the record: once it is back, one event
/// tells the state before the first of them what the state is now.
#[tokio::test]
async fn changes_made_while_the_bus_refuses_are_sent_as_one() {
    let t = setup().await;
    let broken = enricher_with(
        &t.resources,
        &t.api.uri(),
        &[(
            "EVENT_BUS_NAME",
            format!("{}-no-such-bus", t.resources.stack_name),
        )],
    )
    .await;
    let working = enricher_for(&t.resources, &t.api.uri()).await;
    argyle_answers(
        &t.api,
        found(&argyle_identity("Ann", "2026-11-20T10:00:00Z")),
    )
    .await;
    let refused = broken.enrich(&argyle_event("argyle#e1"), deadline()).await;
    assert!(
        matches!(refused, Err(EnrichError::Publish(_))),
        "{refused:?}"
    );
    let anna = argyle_identity("Anna", "2026-11-20T11:00:00Z");
    argyle_answers(&t.api, found(&anna)).await;
    let refused = broken.enrich(&argyle_event("argyle#e2"), deadline()).await;
    assert!(
        matches!(refused, Err(EnrichError::Publish(_))),
        "{refused:?}"
    );
    let item = t.resources.identity("argyle", ARGYLE_ID).await;
    let change = pending(&item).expect("pending");
    assert_eq!(change["change"], "created", "nobody heard of it yet");
    assert_eq!(change["revision"], 2);
    no_change(&t.changes, "the bus refused twice").await;

    // Another fetch of the same data, with the bus back: the one coalesced change.
    assert_eq!(
        working.enrich(&argyle_event("argyle#e3"), deadline()).await,
        Ok(EnrichOutcome::Enriched)
    );
    let event = one_change(&t.changes).await;
    assert_eq!(event.detail_type, "argyle.identity.created");
    assert_eq!(event.detail["revision"], 2);
    assert_eq!(event.detail["event_id"], "argyle#e2");
    assert_eq!(
        event.detail["changed_fields"],
        json!(["first_name", "id", "ssn", "updated_at"])
    );
    assert_eq!(event.detail["source_updated_at"], "2026-11-20T11:00:00Z");
    let item = t.resources.identity("argyle", ARGYLE_ID).await;
    assert!(pending(&item).is_none());
    assert_eq!(data(&item), anna);
}

// ---- `hookline forget`'s delete.

/// The delete takes the record only if it is still the version forget read: an enricher's
/// write in between (a newer event, whose history this forget did not erase) keeps it.
#[tokio::test]
async fn forgets_delete_keeps_a_record_written_since_it_was_read() {
    use hookline::identity::{Deletion, DynamoDbIdentities, IdentityKey, IdentityStore};
    let t = setup().await;
    argyle_answers(
        &t.api,
        found(&argyle_identity("Ann", "2026-11-20T10:00:00Z")),
    )
    .await;
    let enricher = enricher_for(&t.resources, &t.api.uri()).await;
    let identities =
        DynamoDbIdentities::new(t.resources.dynamodb.clone(), &t.resources.identities_table);
    let key = IdentityKey::new("argyle", ARGYLE_ID);
    let enrich = |event_id: &'static str| {
        let enricher = &enricher;
        async move {
            let outcome = enricher.enrich(&argyle_event(event_id), deadline()).await;
            assert_eq!(outcome, Ok(EnrichOutcome::Enriched), "{event_id}");
        }
    };

    // Read as absent, then created by the enricher: kept.
    enrich("argyle#e1").await;
    assert_eq!(identities.delete(&key, None).await, Ok(Deletion::Changed));
    let read = identities.get(&key).await.unwrap().expect("stored");
    // Written again after that read (the same data: a new version, the same revision).
    enrich("argyle#e2").await;
    assert_eq!(
        identities.delete(&key, Some(read.version)).await,
        Ok(Deletion::Changed)
    );
    let item = t.resources.identity("argyle", ARGYLE_ID).await;
    assert_eq!(
        s(&item, "event_id"),
        "argyle#e2",
        "kept as the enricher left it"
    );

    // The version stored now: deleted, and what it was returned.
    let current = identities.get(&key).await.unwrap().expect("stored");
    assert_eq!(current.version, read.version + 1);
    match identities.delete(&key, Some(current.version)).await {
        Ok(Deletion::Deleted(deleted)) => assert_eq!(*deleted, current),
        other => panic!("{other:?}"),
    }
    assert_eq!(t.resources.identity_items().await.len(), 0);
    // Gone: whatever forget read, nothing is deleted and nothing is changed.
    assert_eq!(
        identities.delete(&key, Some(current.version)).await,
        Ok(Deletion::Absent)
    );
    assert_eq!(identities.delete(&key, None).await, Ok(Deletion::Absent));
}
