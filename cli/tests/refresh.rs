//! `hookline identities refresh` through the built binary, against a stack created from
//! template.yaml on the emulator (scripts/test): identities stored with the product's own store,
//! refreshed by the verb, the queue taken by the enricher as deployed with the providers' APIs
//! stood in for: the identity whose data changed at the provider is recorded anew and sends one
//! change event; one unchanged sends none; Midbound, which has no API, is skipped with why.
//! (ClearID's refresh, which carries its latest kept event's payload, is tested in memory in
//! `hookline::ops::refresh`.)

mod support;

use hookline::identity::{DynamoDbIdentities, IdentityKey, IdentityStore};
use integration_tests::changes::ChangeWatcher;
use integration_tests::enricher::{enricher_for, take_once};
use integration_tests::Resources;
use serde_json::{json, Value};
use support::{hookline, stderr, stdout, stored_identity};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn a_refresh_reads_again_and_sends_a_change_only_where_the_data_changed() {
    let resources = Resources::create(false).await;
    let store = DynamoDbIdentities::new(resources.dynamodb.clone(), &resources.identities_table);
    let unchanged = json!({"id": "0187c66e-0000-4000-8000-00000000000a", "first_name": "Ann"});
    let before = json!({"id": "0187c66e-0000-4000-8000-00000000000b", "first_name": "Bob", "employer": "Old Co"});
    let after = json!({"id": "0187c66e-0000-4000-8000-00000000000b", "first_name": "Bob", "employer": "New Co"});
    for (id, data) in [
        ("0187c66e-0000-4000-8000-00000000000a", &unchanged),
        ("0187c66e-0000-4000-8000-00000000000b", &before),
    ] {
        assert!(store
            .put(&stored_identity(
                "argyle",
                id,
                Some(data.to_string()),
                1_000
            ))
            .await
            .unwrap());
    }
    let api = MockServer::start().await;
    for (id, data) in [
        ("0187c66e-0000-4000-8000-00000000000a", &unchanged),
        ("0187c66e-0000-4000-8000-00000000000b", &after),
    ] {
        Mock::given(method("GET"))
            .and(path(format!("/v2/identities/{id}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(data))
            .mount(&api)
            .await;
    }
    let bus = ChangeWatcher::on(&resources).await;
    let stack = resources.stack_name.as_str();

    // A dry run queues nothing; Midbound is said to be skipped, and why.
    let dry = hookline(&[
        "identities",
        "refresh",
        "--stack",
        stack,
        "argyle",
        "0187c66e-0000-4000-8000-00000000000a",
        "0187c66e-0000-4000-8000-00000000000b",
        "--dry-run",
        "--json",
    ]);
    assert_eq!(dry.status.code(), Some(0), "{}", stderr(&dry));
    let report: Value = serde_json::from_slice(&dry.stdout).unwrap();
    assert_eq!(report["would_queue"], 2, "{report}");
    assert!(resources.messages().await.is_empty());

    let output = hookline(&[
        "identities",
        "refresh",
        "--stack",
        stack,
        "argyle",
        "0187c66e-0000-4000-8000-00000000000a",
        "0187c66e-0000-4000-8000-00000000000b",
        "--yes",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let said = stdout(&output);
    assert!(said.contains(": queued 2 of 2 identities"), "{said}");

    let enricher = enricher_for(&resources, &api.uri()).await;
    let (taken, failed) = take_once(&resources, &enricher).await;
    assert_eq!((taken.len(), failed), (2, 0), "{taken:?}");
    for body in &taken {
        let envelope: Value = serde_json::from_str(body).unwrap();
        assert_eq!(envelope["event_type"], "hookline.refresh");
        assert_eq!(envelope["provider"], "argyle");
    }
    let moved = store
        .get(&IdentityKey::new(
            "argyle",
            "0187c66e-0000-4000-8000-00000000000b",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(moved.data_value(), Some(after.clone()));
    assert_eq!(moved.revision, 2);
    assert_eq!(moved.event_type, "hookline.refresh");
    let same = store
        .get(&IdentityKey::new(
            "argyle",
            "0187c66e-0000-4000-8000-00000000000a",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(same.revision, 1, "no change, no new revision");
    let events = bus.take().await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].detail_type, "argyle.identity.updated");
    assert_eq!(
        events[0].detail["resource_id"],
        "0187c66e-0000-4000-8000-00000000000b"
    );
    assert_eq!(events[0].detail["changed_fields"], json!(["employer"]));

    // By change time: only the identity not changed within the last hour (the other just was).
    let older = hookline(&[
        "identities",
        "refresh",
        "--stack",
        stack,
        "--provider",
        "argyle",
        "--changed-before",
        "1h",
        "--dry-run",
        "--json",
    ]);
    assert_eq!(older.status.code(), Some(0), "{}", stderr(&older));
    let report: Value = serde_json::from_slice(&older.stdout).unwrap();
    assert_eq!(
        (
            report["identities"].as_u64(),
            report["would_queue"].as_u64()
        ),
        (Some(1), Some(1)),
        "{report}"
    );
}

#[tokio::test]
async fn a_provider_with_nothing_to_read_is_skipped_with_why() {
    let resources = Resources::create(false).await;
    let stack = resources.stack_name.as_str();
    let output = hookline(&[
        "identities",
        "refresh",
        "--stack",
        stack,
        "midbound",
        "evt_1",
        "--yes",
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["queued"], 0, "{report}");
    assert!(
        report["skipped"][0]["why"]
            .as_str()
            .unwrap()
            .contains("no API"),
        "{report}"
    );
    assert!(resources.messages().await.is_empty());

    let unknown = hookline(&[
        "identities",
        "refresh",
        "--stack",
        stack,
        "acme",
        "x",
        "--yes",
    ]);
    assert_eq!(unknown.status.code(), Some(2), "{}", stderr(&unknown));
    assert!(
        stderr(&unknown).contains("\"acme\" is not a provider"),
        "{}",
        stderr(&unknown)
    );
}
