//! `hookline identities list` and `identities export` through the built binary, against a stack
//! created from template.yaml on the emulator (scripts/test): identities written with the
//! product's own store, read back by the scan a few items a page, each once, across runs cut
//! short, resumed, and resumed after a crash that left a partial page in the file.

mod support;

use hookline::identity::{DynamoDbIdentities, Identity, IdentityStore};
use integration_tests::Resources;
use serde_json::Value;
use std::collections::BTreeSet;
use support::{hookline, json_lines, stderr, stdout, stored_identity};

fn identity(provider: &str, id: &str, changed_at: i64, tombstone: bool) -> Identity {
    let data = (!tombstone).then(|| format!(r#"{{"id":"{id}","first_name":"Ann"}}"#));
    stored_identity(provider, id, data, changed_at)
}

/// 23 Argyle identities (every fourth a tombstone, changed at 1000 + i) and 5 Baack ones.
async fn stored(resources: &Resources) -> Vec<Identity> {
    let store = DynamoDbIdentities::new(resources.dynamodb.clone(), &resources.identities_table);
    let mut all = Vec::new();
    for i in 0..23 {
        all.push(identity(
            "argyle",
            &format!("idn_{i:02}"),
            1_000 + i,
            i % 4 == 3,
        ));
    }
    for i in 0..5 {
        all.push(identity(
            "baack",
            &format!("urn:baack:clientidentifier:{i}"),
            1_000,
            false,
        ));
    }
    for identity in &all {
        assert!(
            store.put(identity).await.expect("put"),
            "{:?}",
            identity.key
        );
    }
    all
}

fn ids(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .map(|l| l["resource_id"].as_str().unwrap().to_string())
        .collect()
}

fn argyle_ids(all: &[Identity], keep: impl Fn(&Identity) -> bool) -> BTreeSet<String> {
    all.iter()
        .filter(|i| i.key.provider == "argyle" && keep(i))
        .map(|i| i.key.resource_id.clone())
        .collect()
}

#[tokio::test]
async fn list_shows_every_identity_of_the_provider_once() {
    let resources = Resources::create(false).await;
    let all = stored(&resources).await;
    let stack = resources.stack_name.as_str();

    let listed = hookline(&[
        "identities",
        "list",
        "--stack",
        stack,
        "--provider",
        "argyle",
        "--page-size",
        "4",
        "--json",
    ]);
    assert_eq!(listed.status.code(), Some(0), "{}", stderr(&listed));
    let lines = json_lines(&stdout(&listed));
    let seen = ids(&lines);
    assert_eq!(seen.len(), 23, "each once: {seen:?}");
    assert_eq!(
        seen.into_iter().collect::<BTreeSet<_>>(),
        argyle_ids(&all, |_| true)
    );
    let one = lines.iter().find(|l| l["resource_id"] == "idn_00").unwrap();
    assert_eq!(one["state"], "present");
    assert_eq!(one["data"]["first_name"], "Ann");

    let tombstones = hookline(&[
        "identities",
        "list",
        "--stack",
        stack,
        "--provider",
        "argyle",
        "--state",
        "tombstone",
        "--changed-since",
        "1970-01-01T00:16:50Z",
        "--json",
    ]);
    assert_eq!(tombstones.status.code(), Some(0), "{}", stderr(&tombstones));
    let seen: BTreeSet<String> = ids(&json_lines(&stdout(&tombstones))).into_iter().collect();
    assert_eq!(
        seen,
        argyle_ids(&all, |i| i.is_tombstone() && i.changed_at >= 1_010)
    );

    let table = hookline(&[
        "identities",
        "list",
        "--stack",
        stack,
        "--provider",
        "baack",
    ]);
    assert_eq!(table.status.code(), Some(0), "{}", stderr(&table));
    let text = stdout(&table);
    assert!(text.starts_with("RESOURCE ID "), "{text}");
    assert_eq!(text.lines().count(), 1 + 5, "{text}");
    assert!(
        stderr(&table).ends_with("5 identities\n"),
        "{}",
        stderr(&table)
    );
}

#[tokio::test]
async fn an_export_cut_short_crashed_and_resumed_writes_each_identity_once() {
    let resources = Resources::create(false).await;
    let all = stored(&resources).await;
    let stack = resources.stack_name.as_str();
    let dir = std::env::temp_dir().join(format!("{stack}-export"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("argyle.jsonl");
    let export = |limit: &str| {
        hookline(&[
            "identities",
            "export",
            "--stack",
            stack,
            "--provider",
            "argyle",
            "--page-size",
            "4",
            "--limit",
            limit,
            "--output",
            file.to_str().unwrap(),
        ])
    };

    let first = export("7");
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert!(
        stderr(&first).contains("exported 7 to"),
        "{}",
        stderr(&first)
    );
    assert!(
        stderr(&first).contains("stopped early"),
        "{}",
        stderr(&first)
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap().lines().count(), 7);

    // A crash after writing part of a page, before its place was kept.
    use std::io::Write;
    let mut appended = std::fs::OpenOptions::new()
        .append(true)
        .open(&file)
        .unwrap();
    appended.write_all(b"{\"resource_id\":\"half a li").unwrap();
    drop(appended);

    let mut runs = 1;
    loop {
        let run = export("6");
        assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
        runs += 1;
        if stderr(&run).contains("(complete)") {
            break;
        }
        assert!(runs < 10, "{}", stderr(&run));
    }
    let lines: Vec<Value> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let seen = ids(&lines);
    assert_eq!(seen.len(), 23, "each once: {seen:?}");
    assert_eq!(
        seen.into_iter().collect::<BTreeSet<_>>(),
        argyle_ids(&all, |_| true)
    );

    let again = export("6");
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("is complete already"),
        "{}",
        stderr(&again)
    );

    // Another selection into the same file is refused, and changes nothing.
    let other = hookline(&[
        "identities",
        "export",
        "--stack",
        stack,
        "--provider",
        "baack",
        "--output",
        file.to_str().unwrap(),
    ]);
    assert_eq!(other.status.code(), Some(2), "{}", stderr(&other));
    assert_eq!(std::fs::read_to_string(&file).unwrap().lines().count(), 23);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn an_export_to_stdout_goes_on_after_the_key_it_stopped_after() {
    let resources = Resources::create(false).await;
    let all = stored(&resources).await;
    let stack = resources.stack_name.as_str();
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..10 {
        let mut args = vec![
            "identities",
            "export",
            "--stack",
            stack,
            "--provider",
            "argyle",
            "--page-size",
            "5",
            "--limit",
            "9",
        ];
        if let Some(key) = &after {
            args.extend(["--resume-after", key.as_str()]);
        }
        let run = hookline(&args);
        assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
        seen.extend(ids(&json_lines(&stdout(&run))));
        let said = stderr(&run);
        match said.split_once("--resume-after ") {
            Some((_, key)) => after = Some(serde_json::from_str(key.trim()).unwrap()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 23, "each once: {seen:?}");
    assert_eq!(
        seen.into_iter().collect::<BTreeSet<_>>(),
        argyle_ids(&all, |_| true)
    );
}
