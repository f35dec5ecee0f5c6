//! `hookline forget` through the built binary, against a stack created from template.yaml on
//! the emulator (scripts/test), filled by the real pipeline: two Baack identities delivered to
//! the receiver, taken by the enricher (their dedup records, history items, identity records
//! and `created` change events), plus a legacy `enriched#` item an older version would have
//! written. Without `--yes` on a pipe nothing happens; a dry run changes nothing; forget erases
//! one identity's items and nothing of the other's, prints each, and sends exactly one
//! `forgotten` event (caught by tests/support's ChangeWatcher); the same notification is then
//! accepted as new and stored again.

mod support;

use aws_sdk_dynamodb::types::AttributeValue;
use hookline::identity::{DynamoDbIdentities, IdentityKey, IdentityStore};
use hookline::provider::Sample as _;
use hookline::providers::Baack;
use integration_tests::changes::ChangeWatcher;
use integration_tests::enricher::{enricher_for, take_once};
use integration_tests::{invoke, Event, Resources, Sample};
use serde_json::{json, Value};
use support::{hookline, json_lines, stderr, stdout};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ANN: &str = "urn:baack:clientidentifier:7c2d";
const BOB: &str = "urn:baack:clientidentifier:9e9e";

/// Baack's sample notification about `resource` (its own trigger, so its own event).
fn notification(resource: &str) -> String {
    let trigger = if resource == ANN { "8f1a" } else { "0000" };
    Baack::payload()
        .replace(ANN, resource)
        .replace("5b0e4c1e-8f1a", &format!("5b0e4c1e-{trigger}"))
}

fn event_id_of(resource: &str) -> String {
    let trigger = if resource == ANN { "8f1a" } else { "0000" };
    format!(
        "baack#urn:baack:webhooksubscription:41f2#urn:baack:trigger:5b0e4c1e-{trigger}-4a8e-9a57-1f3f3c1d2e01"
    )
}

/// Delivers `body` to the stack's Baack receiver, as Baack signs it; the receiver's answer.
async fn deliver(resources: &Resources, body: &str) -> integration_tests::Response {
    let secrets = Baack::SECRETS.join(",");
    let config = resources.config_for("baack", &[("WEBHOOK_SECRETS", secrets)]);
    let pipeline = resources.pipeline::<Baack>(&config).await;
    let signed = Event::new(&Baack::headers(Baack::SECRETS[0], body), body);
    invoke(&pipeline, signed.build()).await
}

/// Baack's API: each identity's data.
async fn baack_api() -> MockServer {
    let api = MockServer::start().await;
    for (resource, name) in [(ANN, "Ann"), (BOB, "Bob")] {
        Mock::given(method("GET"))
            .and(path(format!("/n/v1/clientidentifier/{resource}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "urn": resource,
                "name": name,
                "email": format!("{}@example.com", name.to_lowercase()),
            })))
            .mount(&api)
            .await;
    }
    api
}

/// What the stack keeps about one identity, read from the tables themselves.
#[derive(Debug, PartialEq)]
struct Kept {
    identity: bool,
    history_items: usize,
    dedup_record: bool,
    legacy_item: bool,
}

async fn kept(resources: &Resources, resource: &str) -> Kept {
    let event_id = event_id_of(resource);
    let identity = resources
        .dynamodb
        .get_item()
        .table_name(&resources.identities_table)
        .key(
            "resource_key",
            AttributeValue::S(format!("baack#{resource}")),
        )
        .consistent_read(true)
        .send()
        .await
        .expect("get identity")
        .item
        .is_some();
    Kept {
        identity,
        history_items: resources.history_items(&event_id).await.len(),
        dedup_record: resources.item(&event_id).await.is_some(),
        legacy_item: resources
            .item(&format!("enriched#{event_id}"))
            .await
            .is_some(),
    }
}

const ALL: Kept = Kept {
    identity: true,
    history_items: 1,
    dedup_record: true,
    legacy_item: true,
};

#[tokio::test]
async fn forget_erases_one_identity_everywhere_and_tells_downstream_once() {
    let resources = Resources::create(false).await;
    let api = baack_api().await;
    let bus = ChangeWatcher::on(&resources).await;
    for resource in [ANN, BOB] {
        deliver(&resources, &notification(resource))
            .await
            .expect(200, "accepted");
    }
    let enricher = enricher_for(&resources, &api.uri()).await;
    let (taken, failed) = take_once(&resources, &enricher).await;
    assert_eq!((taken.len(), failed), (2, 0), "{taken:?}");
    let created: Vec<String> = bus
        .take()
        .await
        .iter()
        .map(|e| e.detail_type.clone())
        .collect();
    assert_eq!(
        created, ["baack.identity.created"; 2],
        "the watcher hears the bus"
    );
    for resource in [ANN, BOB] {
        resources
            .dynamodb
            .put_item()
            .table_name(&resources.table)
            .item(
                "pk",
                AttributeValue::S(format!("enriched#{}", event_id_of(resource))),
            )
            .item(
                "data",
                AttributeValue::S(r#"{"name":"from before"}"#.into()),
            )
            .send()
            .await
            .expect("put a legacy item");
    }
    for resource in [ANN, BOB] {
        assert_eq!(kept(&resources, resource).await, ALL, "{resource}");
    }
    // Before forget, the same notification again is a duplicate.
    deliver(&resources, &notification(ANN))
        .await
        .expect(200, "duplicate");
    let stack = resources.stack_name.as_str();
    let ann_event = event_id_of(ANN);

    // Without --yes, on a pipe: refused before anything, naming both ways on.
    let refused = hookline(&["forget", "--stack", stack, "baack", ANN]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    let message = stderr(&refused);
    assert!(
        message.starts_with("hookline: ")
            && message.contains("--yes")
            && message.contains("--dry-run")
            && message.lines().count() == 1,
        "{message}"
    );
    assert_eq!(stdout(&refused), "");
    assert_eq!(kept(&resources, ANN).await, ALL);

    // A dry run: what would go, and nothing gone, nothing sent.
    let dry = hookline(&["forget", "--stack", stack, "baack", ANN, "--dry-run"]);
    assert_eq!(dry.status.code(), Some(0), "{}", stderr(&dry));
    let dry_text = stdout(&dry);
    assert!(
        dry_text.contains(&format!(
            "dedup record       {ann_event}: would delete (ENQUEUED)\n"
        )),
        "{dry_text}"
    );
    assert!(
        dry_text.ends_with(&format!(
            "would forget baack {ANN}: 1 identity record, 1 history item, 1 dedup record, 1 \
             legacy enriched record (dry run: nothing was erased or sent)\n"
        )),
        "{dry_text}"
    );
    assert_eq!(kept(&resources, ANN).await, ALL);
    let dry_json = hookline(&[
        "forget",
        "--stack",
        stack,
        "baack",
        BOB,
        "--dry-run",
        "--json",
    ]);
    assert_eq!(dry_json.status.code(), Some(0), "{}", stderr(&dry_json));
    let lines = json_lines(&stdout(&dry_json));
    assert_eq!(
        lines.last().unwrap(),
        &json!({
            "summary": true,
            "dry_run": true,
            "provider": "baack",
            "resource_id": BOB,
            "identity_records": 1,
            "history_items": 1,
            "dedup_records": 1,
            "legacy_enriched_records": 1,
            "change_event_sent": false,
            "failed": 0,
        })
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| l["result"] == "would_delete")
            .count(),
        4,
        "{lines:?}"
    );
    assert_eq!(kept(&resources, BOB).await, ALL);
    assert!(bus.take().await.is_empty(), "a dry run sends nothing");

    // Forget, item by item.
    let forgot = hookline(&["forget", "--stack", stack, "baack", ANN, "--yes"]);
    assert_eq!(forgot.status.code(), Some(0), "{}", stderr(&forgot));
    let text = stdout(&forgot);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 8, "{text}");
    assert_eq!(
        lines[0],
        format!("dedup record       {ann_event}: deleted (ENQUEUED)")
    );
    assert_eq!(
        lines[1],
        format!("enriched record    enriched#{ann_event}: deleted")
    );
    assert!(
        lines[2].starts_with(&format!("history item       {ann_event} received 20"))
            && lines[2].ends_with(": deleted"),
        "{text}"
    );
    assert_eq!(
        lines[3],
        "identity record    deleted (revision 1, with data)"
    );
    assert!(
        lines[4].starts_with("events queue       0 waiting, 0 in flight"),
        "{text}"
    );
    assert!(
        lines[5].starts_with("dead-letter queue  0 waiting, 0 in flight"),
        "{text}"
    );
    assert_eq!(
        lines[6],
        "change event       sent baack.identity.forgotten, revision 2, without data"
    );
    assert_eq!(
        lines[7],
        format!(
            "forgot baack {ANN}: 1 identity record, 1 history item, 1 dedup record, 1 legacy \
             enriched record; a later notification for it is handled as new"
        )
    );
    assert!(
        !text.contains("ann@example.com") && !text.contains("Ann"),
        "{text}"
    );

    assert_eq!(
        kept(&resources, ANN).await,
        Kept {
            identity: false,
            history_items: 0,
            dedup_record: false,
            legacy_item: false,
        }
    );
    assert_eq!(
        kept(&resources, BOB).await,
        ALL,
        "the other identity untouched"
    );

    // Exactly one change event: forgotten, naming the erased fields, without data.
    let events = bus.take().await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].source, "hookline");
    assert_eq!(events[0].detail_type, "baack.identity.forgotten");
    let mut detail = events[0].detail.clone();
    let changed_at = detail
        .as_object_mut()
        .and_then(|d| d.remove("changed_at"))
        .expect("changed_at");
    assert!(
        hookline::clock::parse_rfc3339(changed_at.as_str().unwrap_or_default()).is_some(),
        "{changed_at}"
    );
    assert_eq!(
        detail,
        json!({
            "version": 1,
            "provider": "baack",
            "resource_id": ANN,
            "change": "forgotten",
            "changed_fields": ["email", "name", "urn"],
            "revision": 2,
        })
    );

    // Run again: nothing left to erase, and a second forgotten event (downstream may have
    // missed the first).
    let again = hookline(&["forget", "--stack", stack, "baack", ANN, "--yes", "--json"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    let lines = json_lines(&stdout(&again));
    let summary: &Value = lines.last().unwrap();
    assert_eq!(
        (
            &summary["identity_records"],
            &summary["history_items"],
            &summary["dedup_records"],
            &summary["change_event_sent"]
        ),
        (&json!(0), &json!(0), &json!(0), &json!(true)),
        "{lines:?}"
    );
    assert_eq!(bus.take().await.len(), 1);

    // The same notification is now new: accepted, enriched, stored again.
    deliver(&resources, &notification(ANN))
        .await
        .expect(200, "accepted");
    let (taken, failed) = take_once(&resources, &enricher).await;
    assert_eq!((taken.len(), failed), (1, 0), "{taken:?}");
    let identities =
        DynamoDbIdentities::new(resources.dynamodb.clone(), &resources.identities_table);
    let stored = identities
        .get(&IdentityKey::new("baack", ANN))
        .await
        .expect("get")
        .expect("stored again");
    assert_eq!(stored.data_value().unwrap()["name"], "Ann");
    assert_eq!(stored.event_id, ann_event);
    let created = bus.take().await;
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(created[0].detail_type, "baack.identity.created");
}
