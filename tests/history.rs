//! The event history against the emulator: what the enricher keeps of each message it
//! takes from the queue, through the real webhook pipelines, and the DynamoDB adapter the
//! `hookline` CLI reads and marks it with.

use aws_sdk_dynamodb::types::AttributeValue;
use hookline::enrich::{EnrichOutcome, Enricher};
use hookline::envelope::ReceivedEnvelope;
use hookline::history::{
    DynamoDbHistory, EventSummary, HistoryEntry, HistoryStore, OccurrenceKey, Selection,
};
use hookline::provider::Sample as _;
use hookline::providers::Argyle;
use hookline::queue::{EventQueue, SqsEventQueue};
use integration_tests::aws::{n, s};
use integration_tests::enricher::{enricher_with, take_once};
use integration_tests::samples::now;
use integration_tests::{Harness, Resources, Sample};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(30)
}

/// `HISTORY_RETENTION_DAYS` as the stack sets it for its enricher, in seconds.
fn stack_retention_seconds(resources: &Resources) -> i64 {
    let days: i64 = resources.environment("enricher")["HISTORY_RETENTION_DAYS"]
        .parse()
        .expect("HISTORY_RETENTION_DAYS is a number of days");
    days * 86_400
}

/// The enricher with the stack's own history settings, every provider's API at `api`.
async fn enricher_as_deployed(resources: &Resources, api: &MockServer) -> Enricher {
    let days = resources.environment("enricher")["HISTORY_RETENTION_DAYS"].clone();
    enricher_with(resources, &api.uri(), &[("HISTORY_RETENTION_DAYS", days)]).await
}

fn argyle_identity_path() -> String {
    format!("/v2/identities/{}", argyle_identity_id())
}

fn argyle_identity_id() -> String {
    Argyle::resource()["id"].as_str().unwrap().to_string()
}

/// The Argyle API answering the sample's identity as updated at `updated_at`.
async fn answer_argyle_identity(api: &MockServer, first_name: &str, updated_at: &str) {
    Mock::given(method("GET"))
        .and(path(argyle_identity_path()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": argyle_identity_id(), "first_name": first_name, "updated_at": updated_at
        })))
        .mount(api)
        .await;
}

type Item = HashMap<String, AttributeValue>;

/// The one history item an event has, failing with what is there otherwise.
async fn only_history_item(resources: &Resources, event_id: &str) -> Item {
    let mut items = resources.history_items(event_id).await;
    assert_eq!(items.len(), 1, "history items of {event_id}: {items:?}");
    items.remove(0)
}

// ---- Through the webhook functions and the enricher.

/// A provider's accepted delivery, its duplicate, one poll of the enricher: exactly one history
/// item, holding the queue message byte for byte and the event's provider, type, resource and
/// receipt, expiring after the stack's retention counted from the receipt.
async fn an_accepted_delivery_is_kept_once_taken<S: Sample>() {
    let h = Harness::<S>::new().await;
    let api = MockServer::start().await;
    // Whatever resource the provider's enrichment reads (Midbound's reads none), and ClearID's
    // token.
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "any", "updated_at": "2026-11-20T10:00:00Z"})),
        )
        .mount(&api)
        .await;
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"access_token": "t"})))
        .mount(&api)
        .await;
    let enricher = enricher_as_deployed(&h.resources, &api).await;
    let body = S::payload();
    let event_id = S::event_id(&body);
    let received_at = now();
    h.send_at(h.signed(&body), received_at)
        .await
        .expect(200, "accepted");
    h.send_at(h.signed(&body), received_at + 1)
        .await
        .expect(200, "duplicate");

    let before = now();
    let (taken, failed) = take_once(&h.resources, &enricher).await;
    let after = now();
    assert_eq!((taken.len(), failed), (1, 0), "one message, enriched");
    let item = only_history_item(&h.resources, &event_id).await;
    assert_eq!(
        s(&item, "message_body"),
        taken[0],
        "the queue message as sent"
    );
    assert_eq!(s(&item, "event_id"), event_id);
    assert_eq!(s(&item, "provider"), S::NAME);
    assert_eq!(s(&item, "event_type"), S::event_type());
    match S::resource()["id"].as_str() {
        Some(id) => {
            assert_eq!(s(&item, "resource_id"), id);
            assert_eq!(s(&item, "resource_key"), format!("{}#{id}", S::NAME));
        }
        None => assert!(
            !item.contains_key("resource_id") && !item.contains_key("resource_key"),
            "an event naming no resource stays out of the by-resource index: {item:?}"
        ),
    }
    assert_eq!(n(&item, "received_at"), received_at);
    assert_eq!(
        n(&item, "expires_at"),
        received_at + stack_retention_seconds(&h.resources)
    );
    assert!((before..=after).contains(&n(&item, "recorded_at")));
    assert!(!item.contains_key("replays"), "{item:?}");

    // SQS delivers at least once: the same message taken again is the same occurrence.
    assert!(enricher.enrich(&taken[0], deadline()).await.is_ok());
    let again = only_history_item(&h.resources, &event_id).await;
    assert_eq!(s(&again, "message_body"), taken[0]);
    assert_eq!(n(&again, "received_at"), received_at);
    assert!(
        h.resources.messages().await.is_empty(),
        "nothing else queued"
    );
}

hookline::for_each_provider!(mod |P| {
    #[tokio::test]
    async fn an_accepted_delivery_is_kept_once_taken() {
        super::an_accepted_delivery_is_kept_once_taken::<P>().await;
    }
});

/// What DynamoDB's TTL does to the events table at `at` (the emulator never does it): deletes
/// the dedup record of `event_id` if it has expired by then, and only then.
async fn ttl_deletes_dedup_record(resources: &Resources, event_id: &str, at: i64) {
    resources
        .dynamodb
        .delete_item()
        .table_name(&resources.table)
        .key("pk", AttributeValue::S(event_id.to_string()))
        .condition_expression("expires_at <= :at")
        .expression_attribute_values(":at", AttributeValue::N(at.to_string()))
        .send()
        .await
        .expect("the dedup record has expired by then");
}

/// The history is not the dedup record: an Argyle notification (keyed by its content, so the
/// next identical one is the same event id) stays in the history after its dedup record has
/// expired and gone, and the notification then accepted as new is a second occurrence.
#[tokio::test]
async fn an_argyle_event_stays_in_the_history_after_its_dedup_record_has_expired() {
    let dedup_retention = 60;
    let h = Harness::<Argyle>::with(
        false,
        &[("DEDUP_RETENTION_SECONDS", dedup_retention.to_string())],
    )
    .await;
    let api = MockServer::start().await;
    answer_argyle_identity(&api, "Ann", "2026-11-20T10:00:00Z").await;
    let enricher = enricher_as_deployed(&h.resources, &api).await;
    let body = Argyle::payload();
    let event_id = Argyle::event_id(&body);
    let t = now();

    h.send_at(h.signed(&body), t).await.expect(200, "accepted");
    let (first, failed) = take_once(&h.resources, &enricher).await;
    assert_eq!((first.len(), failed), (1, 0));
    let record = h.resources.item(&event_id).await.expect("dedup record");
    assert_eq!(n(&record, "expires_at"), t + dedup_retention);

    let expired_at = t + dedup_retention;
    ttl_deletes_dedup_record(&h.resources, &event_id, expired_at).await;
    assert!(h.resources.item(&event_id).await.is_none());
    let r = h.send_at(h.signed(&body), expired_at).await;
    r.expect(200, "accepted");
    assert_eq!(r.body["event_id"], event_id.as_str());
    let (second, failed) = take_once(&h.resources, &enricher).await;
    assert_eq!((second.len(), failed), (1, 0));

    let items = h.resources.history_items(&event_id).await;
    let received: Vec<i64> = items.iter().map(|i| n(i, "received_at")).collect();
    assert_eq!(received, [t, expired_at], "both occurrences, oldest first");
    assert_eq!(s(&items[0], "message_body"), first[0]);
    assert_eq!(s(&items[1], "message_body"), second[0]);
    let retention = stack_retention_seconds(&h.resources);
    assert_eq!(n(&items[0], "expires_at"), t + retention);
    assert!(
        t + retention > expired_at,
        "the history outlives the dedup window"
    );
}

/// Kept before the enrichment: a message whose provider API keeps failing is in the history,
/// once, however often it comes back; for the retention the operator set, not the default.
#[tokio::test]
async fn a_message_the_enricher_cannot_enrich_is_kept_all_the_same() {
    let h = Harness::<Argyle>::new().await;
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(argyle_identity_path()))
        .respond_with(ResponseTemplate::new(503))
        .mount(&api)
        .await;
    let days = 7;
    assert_ne!(days, hookline::history::DEFAULT_RETENTION_DAYS);
    let retention = ("HISTORY_RETENTION_DAYS", days.to_string());
    let enricher = enricher_with(&h.resources, &api.uri(), &[retention]).await;
    let body = Argyle::payload();
    let event_id = Argyle::event_id(&body);
    let received_at = now();
    h.send_at(h.signed(&body), received_at)
        .await
        .expect(200, "accepted");

    let (taken, failed) = take_once(&h.resources, &enricher).await;
    assert_eq!((taken.len(), failed), (1, 1), "taken, not enriched");
    let item = only_history_item(&h.resources, &event_id).await;
    assert_eq!(s(&item, "message_body"), taken[0]);
    assert_eq!(
        n(&item, "expires_at"),
        received_at + i64::try_from(days).unwrap() * 86_400
    );
    assert!(h
        .resources
        .identity_item("argyle", &argyle_identity_id())
        .await
        .is_none());

    // The event source hands the failed message over again: still one occurrence.
    let (retried, failed) = take_once(&h.resources, &enricher).await;
    assert_eq!((retried.as_slice(), failed), (taken.as_slice(), 1));
    let item = only_history_item(&h.resources, &event_id).await;
    assert_eq!(s(&item, "message_body"), taken[0]);
}

/// A replay is a message like any other to the enricher: its fetch is ordered by the provider's
/// update time against what is recorded, so an older answer changes nothing and a newer one
/// wins; and it is never kept again.
#[tokio::test]
async fn a_replay_is_enriched_like_any_message_and_the_newest_provider_data_wins() {
    let h = Harness::<Argyle>::new().await;
    let api = MockServer::start().await;
    answer_argyle_identity(&api, "Newer", "2026-11-20T12:00:00Z").await;
    let enricher = enricher_as_deployed(&h.resources, &api).await;
    let body = Argyle::payload();
    let event_id = Argyle::event_id(&body);
    h.send(h.signed(&body)).await.expect(200, "accepted");
    let (taken, failed) = take_once(&h.resources, &enricher).await;
    assert_eq!((taken.len(), failed), (1, 0));
    let recorded = h.resources.identity("argyle", &argyle_identity_id()).await;
    assert_eq!(s(&recorded, "source_updated_at"), "2026-11-20T12:00:00Z");
    assert_eq!(s(&recorded, "event_id"), event_id);

    let kept = enricher.history().occurrences(&event_id).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].body, taken[0]);

    // The provider answers older data than what is recorded (a lagging replica, say).
    api.reset().await;
    answer_argyle_identity(&api, "Older", "2026-11-20T11:00:00Z").await;
    let replay = kept[0].replay_message("replay-1", now());
    assert_eq!(
        ReceivedEnvelope::parse(&replay.body)
            .unwrap()
            .replay
            .unwrap()
            .id,
        "replay-1"
    );
    assert_eq!(
        enricher.enrich(&replay.body, deadline()).await,
        Ok(EnrichOutcome::Stale)
    );
    assert_eq!(
        h.resources.identity("argyle", &argyle_identity_id()).await,
        recorded,
        "a stale replay writes nothing"
    );

    // Sent through the queue as `hookline replay` sends it, with newer data at the provider.
    api.reset().await;
    answer_argyle_identity(&api, "Newest", "2026-11-20T13:00:00Z").await;
    let replay = kept[0].replay_message("replay-2", now());
    SqsEventQueue::new(h.resources.sqs.clone(), &h.resources.queue_url)
        .send(&replay)
        .await
        .expect("replay sent");
    let (taken_replay, failed) = take_once(&h.resources, &enricher).await;
    assert_eq!((taken_replay, failed), (vec![replay.body.clone()], 0));
    let updated = h.resources.identity("argyle", &argyle_identity_id()).await;
    assert_eq!(s(&updated, "source_updated_at"), "2026-11-20T13:00:00Z");
    assert_eq!(
        n(&updated, "revision"),
        2,
        "created, then updated by the replay"
    );
    let data: Value = serde_json::from_str(s(&updated, "data")).unwrap();
    assert_eq!(data["first_name"], "Newest");

    // Neither replay was kept: the one occurrence, as it was.
    assert_eq!(
        enricher.history().occurrences(&event_id).await.unwrap(),
        kept
    );
    let item = only_history_item(&h.resources, &event_id).await;
    assert_eq!(s(&item, "message_body"), taken[0]);
}

// ---- The adapter the CLI reads and marks the history with.

/// How long the entries below are kept (their `expires_at` is what the adapter must return).
const RETENTION_SECONDS: u64 = 7 * 86_400;

/// An occurrence as the enricher would keep it: an envelope received at `received_at`.
fn occurrence(
    provider: &str,
    event_id: &str,
    event_type: &str,
    resource_id: Option<&str>,
    received_at: i64,
) -> HistoryEntry {
    let mut envelope = json!({
        "version": 1, "event_id": event_id, "provider": provider, "event_type": event_type,
        "recognized": true, "received_at": hookline::clock::rfc3339(received_at),
        "payload": {"event": event_type, "at": received_at}
    });
    if let Some(id) = resource_id {
        envelope["resource"] = json!({"id": id, "url": format!("/v2/identities/{id}")});
    }
    let body = envelope.to_string();
    let parsed = ReceivedEnvelope::parse(&body).expect("an envelope");
    HistoryEntry::of_message(&body, &parsed, now(), RETENTION_SECONDS).expect("kept")
}

fn history_of(resources: &Resources) -> DynamoDbHistory {
    DynamoDbHistory::new(resources.dynamodb.clone(), &resources.history_table)
}

async fn keep_all(history: &DynamoDbHistory, entries: &[HistoryEntry]) {
    for entry in entries {
        history.keep(entry).await.expect("kept");
    }
}

/// Every page of a listing, `limit` at a time, in the order the pages come.
async fn every_page(
    history: &DynamoDbHistory,
    selection: &Selection,
    limit: usize,
) -> Vec<EventSummary> {
    let mut listed = Vec::new();
    let mut after: Option<OccurrenceKey> = None;
    for _ in 0..100 {
        let page = history
            .list(selection, after.as_ref(), limit)
            .await
            .expect("a page");
        assert!(page.events.len() <= limit, "{page:?}");
        listed.extend(page.events);
        match page.next {
            Some(next) => after = Some(next),
            None => return listed,
        }
    }
    panic!("a listing that never ends: {listed:?}");
}

/// `listed` is oldest first, without repeats, and exactly `expected` (entries with one receipt
/// second come in the index's order, which DynamoDB does not define).
fn assert_listing(listed: &[EventSummary], expected: &[&HistoryEntry], what: &str) {
    let received: Vec<i64> = listed.iter().map(|e| e.received_at).collect();
    assert!(
        received.windows(2).all(|w| w[0] <= w[1]),
        "{what}: not oldest first: {received:?}"
    );
    let keys: BTreeSet<OccurrenceKey> = listed.iter().map(EventSummary::key).collect();
    assert_eq!(keys.len(), listed.len(), "{what}: repeats in {listed:?}");
    let by_order = |a: &EventSummary, b: &EventSummary| a.key().cmp(&b.key());
    let mut listed = listed.to_vec();
    listed.sort_by(by_order);
    let mut expected: Vec<EventSummary> = expected.iter().map(|e| e.summary.clone()).collect();
    expected.sort_by(by_order);
    assert_eq!(listed, expected, "{what}");
}

#[tokio::test]
async fn listing_returns_exactly_the_selected_occurrences_oldest_first_across_pages() {
    let resources = Resources::create(false).await;
    let history = history_of(&resources);
    let (since, until) = (1_800_000_000, 1_800_000_100);
    let argyle = |id: &str, event_type: &str, resource: Option<&str>, at: i64| {
        occurrence("argyle", &format!("argyle#{id}"), event_type, resource, at)
    };
    let added = "identities.added";
    let removed = "identities.removed";
    let in_range = [
        argyle("first", added, Some("id-a"), since),
        argyle("tie-1", added, Some("id-a"), since + 10),
        argyle("tie-2", removed, Some("id-b"), since + 10),
        argyle("tie-3", added, None, since + 10),
        // One event, two occurrences (content-keyed: the same id again).
        argyle("twice", added, Some("id-a"), since + 30),
        argyle("twice", added, Some("id-a"), since + 40),
        argyle("removal", removed, Some("id-a"), since + 50),
        argyle("last", added, Some("id-b"), until),
    ];
    let outside = [
        argyle("before", added, Some("id-a"), since - 1),
        argyle("after", removed, Some("id-a"), until + 1),
        occurrence("baack", "baack#same-time", added, Some("id-a"), since + 20),
        occurrence("baack", "baack#at-the-end", removed, Some("id-a"), until),
    ];
    keep_all(&history, &outside).await;
    keep_all(&history, &in_range).await;

    let selection = Selection {
        provider: "argyle".into(),
        since,
        until,
        event_type: None,
        resource_id: None,
    };
    let everything: Vec<&HistoryEntry> = in_range.iter().collect();
    for limit in [1, 2, 3, 100] {
        let listed = every_page(&history, &selection, limit).await;
        assert_listing(
            &listed,
            &everything,
            &format!("by provider, {limit} a page"),
        );
    }

    let removals = Selection {
        event_type: Some(removed.into()),
        ..selection.clone()
    };
    let expected: Vec<&HistoryEntry> = in_range
        .iter()
        .filter(|e| e.summary.event_type == removed)
        .collect();
    assert_eq!(expected.len(), 2);
    for limit in [1, 2, 100] {
        let listed = every_page(&history, &removals, limit).await;
        assert_listing(&listed, &expected, &format!("by type, {limit} a page"));
    }

    let one_identity = Selection {
        resource_id: Some("id-a".into()),
        ..selection.clone()
    };
    let expected: Vec<&HistoryEntry> = in_range
        .iter()
        .filter(|e| e.summary.resource_id.as_deref() == Some("id-a"))
        .collect();
    assert_eq!(expected.len(), 5);
    for limit in [2, 100] {
        let listed = every_page(&history, &one_identity, limit).await;
        assert_listing(&listed, &expected, &format!("by resource, {limit} a page"));
    }
    let removals_of_one_identity = Selection {
        event_type: Some(removed.into()),
        ..one_identity
    };
    let listed = every_page(&history, &removals_of_one_identity, 1).await;
    assert_listing(&listed, &[&in_range[6]], "by resource and type");

    let nothing_yet = Selection {
        since: until + 2,
        until: until + 1000,
        ..selection
    };
    assert!(every_page(&history, &nothing_yet, 10).await.is_empty());
}

#[tokio::test]
async fn entries_returns_every_key_asked_for_in_the_order_asked_past_one_batch() {
    let resources = Resources::create(false).await;
    let history = history_of(&resources);
    let base = 1_800_000_000;
    let kept: Vec<HistoryEntry> = (0..130)
        .map(|i| {
            occurrence(
                "baack",
                &format!("baack#bulk-{i:03}"),
                "IDENTITY_CLIENT_IDENTIFIER.UPDATE",
                Some("urn:x"),
                base + i,
            )
        })
        .collect();
    keep_all(&history, &kept).await;
    // Newest first, which is not the table's order, and a key that was never kept (or has
    // expired since the listing) among them.
    let mut keys: Vec<OccurrenceKey> = kept.iter().rev().map(|e| e.summary.key()).collect();
    keys.insert(
        57,
        OccurrenceKey {
            event_id: "baack#never-kept".into(),
            received_at: base,
        },
    );
    let expected: Vec<HistoryEntry> = kept.iter().rev().cloned().collect();
    assert_eq!(history.entries(&keys).await.unwrap(), expected);
    assert!(history.entries(&[]).await.unwrap().is_empty());
    // A key asked for twice (DynamoDB refuses a batch naming one twice) is answered twice.
    let twice = [
        kept[3].summary.key(),
        kept[9].summary.key(),
        kept[3].summary.key(),
    ];
    assert_eq!(
        history.entries(&twice).await.unwrap(),
        [kept[3].clone(), kept[9].clone(), kept[3].clone()]
    );
}

#[tokio::test]
async fn replay_marks_stick_to_kept_occurrences_and_create_nothing() {
    let resources = Resources::create(false).await;
    let history = history_of(&resources);
    let first = occurrence(
        "argyle",
        "argyle#marked",
        "identities.updated",
        Some("id-a"),
        1_800_000_000,
    );
    let second = occurrence(
        "argyle",
        "argyle#marked",
        "identities.updated",
        Some("id-a"),
        1_800_000_060,
    );
    keep_all(&history, &[second.clone(), first.clone()]).await;
    assert_eq!(
        history.occurrences("argyle#marked").await.unwrap(),
        [first.clone(), second.clone()],
        "every occurrence, oldest first"
    );

    history
        .mark_replayed(&first.summary.key(), "replay-1")
        .await
        .unwrap();
    history
        .mark_replayed(&first.summary.key(), "replay-2")
        .await
        .unwrap();
    // A redelivery of the message (or the sweeper's re-send) keeps the occurrence again.
    history.keep(&first).await.unwrap();
    let marked = HistoryEntry {
        replays: vec!["replay-1".into(), "replay-2".into()],
        ..first.clone()
    };
    assert_eq!(
        history.occurrences("argyle#marked").await.unwrap(),
        [marked, second.clone()]
    );

    // An occurrence no longer kept (expired, or never): the mark makes no bodiless item.
    let gone = OccurrenceKey {
        event_id: "argyle#gone".into(),
        received_at: 1_800_000_000,
    };
    history.mark_replayed(&gone, "replay-1").await.unwrap();
    assert!(resources.history_items("argyle#gone").await.is_empty());
    let another_receipt = OccurrenceKey {
        received_at: 1_800_000_001,
        ..first.summary.key()
    };
    history
        .mark_replayed(&another_receipt, "replay-1")
        .await
        .unwrap();
    assert_eq!(resources.history_items("argyle#marked").await.len(), 2);
    assert!(history.occurrences("argyle#gone").await.unwrap().is_empty());
    assert!(history
        .occurrences("argyle#unknown")
        .await
        .unwrap()
        .is_empty());
}
