//! `hookline identities get` through the built binary, against a stack created from
//! template.yaml on the emulator (scripts/test), its identities table written with the
//! product's own adapter: the table and the JSON show exactly what is stored; an identity not
//! stored exits 1 in one line; an unknown provider is a usage error.

mod support;

use hookline::identity::IdentityStore;
use hookline::identity::{Change, ChangeKind, DynamoDbIdentities, Identity, IdentityKey};
use integration_tests::Resources;
use serde_json::json;
use support::{hookline, stderr, stdout};

fn identity(resource_id: &str, data: Option<&str>) -> Identity {
    Identity {
        key: IdentityKey::new("argyle", resource_id),
        data: data.map(str::to_string),
        source_updated_at: Some("2026-12-01T10:00:00Z".into()),
        read_started_ms: 1_796_173_199_500,
        fetched_at: 1_796_173_200,
        event_id: format!("argyle#evt-{resource_id}"),
        event_type: "identities.updated".into(),
        revision: 2,
        changed_at: 1_796_173_100,
        version: 1,
        expires_at: 1_827_709_200,
        pending: None,
    }
}

#[tokio::test]
async fn identities_get_shows_the_stored_state_as_a_table_and_as_json() {
    let resources = Resources::create(false).await;
    let store = DynamoDbIdentities::new(resources.dynamodb.clone(), &resources.identities_table);
    let present = identity(
        "idn_ann",
        Some(r#"{"name":"Ann","emails":["ann@example.com"]}"#),
    );
    let mut gone = identity("idn_gone", None);
    gone.source_updated_at = None;
    gone.pending = Some(Change {
        provider: "argyle".into(),
        resource_id: "idn_gone".into(),
        change: ChangeKind::Deleted,
        changed_fields: vec!["name".into()],
        revision: 2,
        event_id: Some("argyle#evt-idn_gone".into()),
        event_type: Some("identities.removed".into()),
        changed_at: "2026-12-02T00:58:20Z".into(),
        source_updated_at: None,
        had_data_before: true,
    });
    for stored in [&present, &gone] {
        assert!(store.put(stored).await.expect("put"), "{stored:?}");
    }
    let stack = resources.stack_name.as_str();

    let table = hookline(&["identities", "get", "--stack", stack, "argyle", "idn_ann"]);
    assert_eq!(table.status.code(), Some(0), "{}", stderr(&table));
    assert_eq!(
        stdout(&table),
        "\
provider           argyle
resource id        idn_ann
state              present
revision           2
fetched at         2026-12-02T01:00:00Z
changed at         2026-12-02T00:58:20Z
source updated at  2026-12-01T10:00:00Z
event id           argyle#evt-idn_ann
event type         identities.updated
expires at         2027-12-02T01:00:00Z
pending change     (none)
data
{
  \"emails\": [
    \"ann@example.com\"
  ],
  \"name\": \"Ann\"
}
"
    );

    // Named outright instead of through the stack: the same answer, as one JSON object.
    let json_output = hookline(&[
        "identities",
        "get",
        "--identities-table",
        &resources.identities_table,
        "argyle",
        "idn_ann",
        "--json",
    ]);
    assert_eq!(
        json_output.status.code(),
        Some(0),
        "{}",
        stderr(&json_output)
    );
    let text = stdout(&json_output);
    assert_eq!(text.lines().count(), 1, "{text}");
    let object: serde_json::Value = serde_json::from_str(&text).expect("one JSON object");
    assert_eq!(
        object,
        json!({
            "provider": "argyle",
            "resource_id": "idn_ann",
            "state": "present",
            "revision": 2,
            "fetched_at": "2026-12-02T01:00:00Z",
            "changed_at": "2026-12-02T00:58:20Z",
            "source_updated_at": "2026-12-01T10:00:00Z",
            "event_id": "argyle#evt-idn_ann",
            "event_type": "identities.updated",
            "expires_at": "2027-12-02T01:00:00Z",
            "pending": null,
            "data": {"name": "Ann", "emails": ["ann@example.com"]},
        })
    );

    // A tombstone with a change the bus has not taken yet.
    let tombstone = hookline(&["identities", "get", "--stack", stack, "argyle", "idn_gone"]);
    assert_eq!(tombstone.status.code(), Some(0), "{}", stderr(&tombstone));
    let text = stdout(&tombstone);
    assert!(text.contains("state              tombstone\n"), "{text}");
    assert!(text.contains("source updated at  (none)\n"), "{text}");
    assert!(
        text.contains(
            "pending change     deleted (revision 2, fields name), not yet accepted by the bus\n"
        ),
        "{text}"
    );
    assert!(
        text.ends_with("data (none: the provider said the identity is gone)\n"),
        "{text}"
    );
    let json_output = hookline(&[
        "identities",
        "get",
        "--stack",
        stack,
        "argyle",
        "idn_gone",
        "--json",
    ]);
    let object: serde_json::Value =
        serde_json::from_str(&stdout(&json_output)).expect("one JSON object");
    assert_eq!(object["state"], "tombstone");
    assert_eq!(object["data"], serde_json::Value::Null);
    assert_eq!(object["source_updated_at"], serde_json::Value::Null);
    assert_eq!(
        object["pending"],
        json!({
            "provider": "argyle",
            "resource_id": "idn_gone",
            "change": "deleted",
            "changed_fields": ["name"],
            "revision": 2,
            "event_id": "argyle#evt-idn_gone",
            "event_type": "identities.removed",
            "changed_at": "2026-12-02T00:58:20Z",
        })
    );

    // Not stored: one line on stderr, exit 1, nothing on stdout (as `events get`).
    let missing = hookline(&["identities", "get", "--stack", stack, "argyle", "idn_never"]);
    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(stdout(&missing), "");
    assert_eq!(
        stderr(&missing),
        "hookline: no identity argyle \"idn_never\" in the identities table (never fetched, \
         forgotten, or expired after the retention)\n"
    );
    // Another provider's identity of the same id is another identity.
    let other = hookline(&["identities", "get", "--stack", stack, "baack", "idn_ann"]);
    assert_eq!(other.status.code(), Some(1), "{}", stderr(&other));

    // An unknown provider: clap's usage error, before any call.
    let unknown = hookline(&["identities", "get", "--stack", stack, "nope", "idn_ann"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains("invalid value 'nope' for '<PROVIDER>'"),
        "{}",
        stderr(&unknown)
    );
}
