//! Values a provider controls, pushed past the AWS limits they flow into, against the emulator
//! (which enforces DynamoDB's 2,048-byte partition key and 400 KB item). Each is mapped and
//! accepted, or refused with a 4xx; never a 5xx, which the provider would retry for days.
//! RELIABILITY.md has the table these tests prove, row by row.

use hookline::limits::{max_body_bytes_that_fit, MAX_KEY_BYTES};
use hookline::provider::Sample as _;
use hookline::providers::{Argyle, Baack, ClearId, Midbound};
use integration_tests::aws::s;
use integration_tests::enricher::{drain_once, enricher_for};
use integration_tests::samples::now;
use integration_tests::{Event, Harness, Response, Sample};
use serde_json::Value;
use wiremock::MockServer;

const LONG: usize = 3000;

fn edited(body: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut value: Value = serde_json::from_str(body).unwrap();
    edit(&mut value);
    value.to_string()
}

/// A correctly signed Midbound delivery with the given `webhook-id`.
fn midbound(id: &str, body: &str) -> Event {
    let headers = Midbound::headers_at(Midbound::SECRETS[1], body, now(), Some(id));
    Event::new(&headers, body)
}

#[track_caller]
fn event_id(r: &Response) -> String {
    r.body["event_id"]
        .as_str()
        .expect("an event id")
        .to_string()
}

#[tokio::test]
async fn a_3000_character_webhook_id_is_stored_once_under_a_digest_key() {
    let h = Harness::<Midbound>::new().await;
    let id = format!("evt_{}", "x".repeat(LONG));
    let body = Midbound::payload();
    let first = h.send(midbound(&id, &body)).await;
    first.expect(200, "accepted");
    let event_id = event_id(&first);
    assert!(event_id.starts_with("midbound#evt_xxx"), "{event_id}");
    assert!(event_id.len() <= "midbound#".len() + MAX_KEY_BYTES);
    // Every retry maps to the same id: a duplicate, nothing sent.
    let retry = h.send(midbound(&id, &body)).await;
    retry.expect(200, "duplicate");
    assert_eq!(crate::event_id(&retry), event_id);
    // Another long id with the same beginning is another event.
    let other = format!("evt_{}y", "x".repeat(LONG - 1));
    let r = h.send(midbound(&other, &body)).await;
    r.expect(200, "accepted");
    assert_ne!(crate::event_id(&r), event_id);
    assert_eq!(h.resources.messages().await.len(), 2);
}

#[tokio::test]
async fn a_3000_character_trigger_urn_is_stored_once_and_enriched_under_its_digest_key() {
    let h = Harness::<Baack>::new().await;
    let body = edited(&Baack::payload(), |v| {
        v["trigger"]["urn"] = format!("urn:baack:trigger:{}", "7".repeat(LONG)).into();
        v["trigger"]["event"] = "DELETE".into();
    });
    let first = h.send(h.signed(&body)).await;
    first.expect(200, "accepted");
    h.send(h.signed(&body)).await.expect(200, "duplicate");
    let event_id = event_id(&first);
    assert!(
        event_id.len() <= "baack#".len() + MAX_KEY_BYTES,
        "{event_id}"
    );
    // The identity's record is keyed by its resource, not by the event: a DELETE is a
    // tombstone, written without an API call, naming the digest-keyed event.
    let api = MockServer::start().await;
    let enricher = enricher_for(&h.resources, &api.uri()).await;
    assert_eq!(drain_once(&h.resources, &enricher).await, (1, 0));
    let resource_id = Baack::resource()["id"].as_str().unwrap().to_string();
    let record = h.resources.identity("baack", &resource_id).await;
    assert_eq!(s(&record, "state"), "TOMBSTONE");
    assert_eq!(s(&record, "event_id"), event_id);
    assert_eq!(h.resources.identity_items().await.len(), 1);
}

#[tokio::test]
async fn a_3000_character_event_type_is_accepted_flagged_and_mapped() {
    let h = Harness::<Argyle>::new().await;
    let event_type = format!("identities.{}", "z".repeat(LONG));
    let body = edited(&Argyle::payload(), |v| {
        v["event"] = event_type.clone().into()
    });
    h.send(h.signed(&body)).await.expect(200, "accepted");
    let messages = h.resources.messages().await;
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    let mapped = m.body["event_type"].as_str().unwrap();
    assert!(
        mapped.starts_with("identities.zzz") && mapped.contains("~sha256:"),
        "{mapped}"
    );
    assert!(mapped.len() < 200);
    assert_eq!(m.attributes["event_type"], mapped);
    assert_eq!(m.body["recognized"], false);
    // The payload itself is untouched.
    assert_eq!(m.body["payload"]["event"], event_type.as_str());
}

#[tokio::test]
async fn a_clearid_event_type_of_3000_characters_in_the_query_maps_too() {
    let h = Harness::<ClearId>::new().await;
    let body = ClearId::payload();
    let event_type = "identity.".to_string() + &"q".repeat(LONG);
    let query = [("event", event_type.as_str())];
    let first = h.send(h.signed(&body).query(&query)).await;
    first.expect(200, "accepted");
    assert!(event_id(&first).len() <= "clearid#".len() + MAX_KEY_BYTES);
    h.send(h.signed(&body).query(&query))
        .await
        .expect(200, "duplicate");
}

#[tokio::test]
async fn resource_ids_too_long_to_fetch_are_refused_naming_the_field() {
    let argyle = Harness::<Argyle>::new().await;
    let body = edited(&Argyle::payload(), |v| {
        v["data"]["identity"] = "f".repeat(LONG).into()
    });
    let r = argyle.send(argyle.signed(&body)).await;
    r.expect(400, "rejected");
    assert!(r.body["error"].as_str().unwrap().contains("data.identity"));
    argyle.assert_untouched().await;

    let baack = Harness::<Baack>::new().await;
    let body = edited(&Baack::payload(), |v| {
        v["v1"]["url"] = format!("/n/v1/clientidentifier/{}", "u".repeat(LONG)).into()
    });
    let r = baack.send(baack.signed(&body)).await;
    r.expect(400, "rejected");
    assert!(r.body["error"].as_str().unwrap().contains("v1.url"));
    baack.assert_untouched().await;

    let clearid = Harness::<ClearId>::new().await;
    let body = edited(&ClearId::payload(), |v| {
        v["AccountId"] = "a".repeat(LONG).into()
    });
    let r = clearid.send(clearid.signed(&body)).await;
    r.expect(400, "rejected");
    assert!(r.body["error"].as_str().unwrap().contains("AccountId"));
    clearid.assert_untouched().await;
}

/// The worst case the bounds allow at once: the largest body that fits, a long id and a long
/// event type. DynamoDB (400 KB item, the record keeps the message) and SQS accept it.
#[tokio::test]
async fn the_largest_body_that_fits_is_stored_and_queued_with_everything_else_at_its_bound() {
    let limit = max_body_bytes_that_fit();
    let h = Harness::<Midbound>::with(false, &[("MAX_BODY_BYTES", limit.to_string())]).await;
    let body = edited(&Midbound::payload(), |v| {
        v["type"] = format!("identity.{}", "t".repeat(LONG)).into();
        v["data"]["padding"] = "".into();
    });
    let padding = limit - body.len();
    let body = body.replacen(
        "\"padding\":\"\"",
        &format!("\"padding\":\"{}\"", "p".repeat(padding)),
        1,
    );
    assert_eq!(body.len(), limit);
    let id = format!("evt_{}", "x".repeat(LONG));
    h.send(midbound(&id, &body)).await.expect(200, "accepted");
    let messages = h.resources.messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(
        messages[0].body["payload"]["data"]["padding"]
            .as_str()
            .unwrap()
            .len(),
        padding
    );
    // One byte more is refused before any AWS call.
    let bigger = body.replacen("\"padding\":\"", "\"padding\":\"p", 1);
    h.send(midbound("evt_2", &bigger))
        .await
        .expect(413, "rejected");
}

/// U+FFFF is valid JSON text but outside SQS's character set: it travels escaped, the same
/// JSON value. A body that only fits unescaped is a 413, not a 5xx.
#[tokio::test]
async fn characters_sqs_refuses_travel_escaped_and_never_overflow() {
    let h = Harness::<Argyle>::new().await;
    let body = edited(&Argyle::payload(), |v| v["name"] = "sub\u{FFFF}".into());
    h.send(h.signed(&body)).await.expect(200, "accepted");
    let messages = h.resources.messages().await;
    assert_eq!(messages[0].body["payload"]["name"], "sub\u{FFFF}");
    let body = edited(&Argyle::payload(), |v| {
        v["name"] = "\u{FFFF}".repeat(87_000).into()
    });
    assert!(body.len() <= hookline::config::DEFAULT_MAX_BODY_BYTES);
    h.send(h.signed(&body)).await.expect(413, "rejected");
}

#[tokio::test]
async fn dates_outside_the_years_0_to_9999_are_accepted_without_a_panic() {
    let h = Harness::<Midbound>::new().await;
    let body = edited(&Midbound::payload(), |v| {
        v["created"] = (-62_167_219_200_001i64).into()
    });
    h.send(h.signed(&body)).await.expect(200, "accepted");
    let m = &h.resources.messages().await[0];
    assert!(m.body.get("occurred_at").is_none(), "{}", m.body);

    let h = Harness::<Baack>::new().await;
    for (n, raw) in ["0000-01-01T00:00:00+00:01", "9999-12-31T23:59:59-00:01"]
        .into_iter()
        .enumerate()
    {
        let body = edited(&Baack::payload(), |v| {
            v["trigger"]["timestamp"] = raw.into();
            v["trigger"]["urn"] = format!("urn:baack:trigger:{n}").into();
        });
        h.send(h.signed(&body)).await.expect(200, "accepted");
        let m = &h.resources.messages().await[0];
        assert_eq!(m.body["occurred_at"], raw, "kept as the provider wrote it");
    }
}

/// An API answer too large for one item would fail DynamoDB on every receive: it fails
/// permanently at once, with the reason, and nothing is written.
#[tokio::test]
async fn provider_data_too_large_for_an_item_fails_permanently_without_a_write() {
    use wiremock::matchers::method;
    use wiremock::{Mock, ResponseTemplate};
    let h = Harness::<Argyle>::new().await;
    let api = MockServer::start().await;
    let huge =
        serde_json::json!({"id": "x", "notes": "n".repeat(hookline::enrich::MAX_DATA_BYTES)});
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(huge))
        .mount(&api)
        .await;
    let enricher = enricher_for(&h.resources, &api.uri()).await;
    let body = Argyle::payload();
    h.send(h.signed(&body)).await.expect(200, "accepted");
    let message = h.resources.receive_event(30).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let outcome = enricher
        .enrich(message.records[0].body.as_deref().unwrap(), deadline)
        .await;
    let error = outcome.unwrap_err().to_string();
    assert!(
        error.contains("permanent") && error.contains("does not fit"),
        "{error}"
    );
    let resource_id = Argyle::resource()["id"].as_str().unwrap().to_string();
    assert!(h
        .resources
        .identity_item("argyle", &resource_id)
        .await
        .is_none());
    assert!(h.resources.identity_items().await.is_empty());
}

/// SQS refuses an empty message attribute value (moto does not): an empty event type travels
/// as `unknown`, flagged, never as an empty attribute that would fail every retry.
#[tokio::test]
async fn an_empty_event_type_travels_as_unknown() {
    let h = Harness::<Argyle>::new().await;
    let body = edited(&Argyle::payload(), |v| v["event"] = "".into());
    h.send(h.signed(&body)).await.expect(200, "accepted");
    let m = &h.resources.messages().await[0];
    assert_eq!(m.attributes["event_type"], "unknown");
    assert_eq!(m.body["event_type"], "unknown");
    assert_eq!(m.body["recognized"], false);
}
