//! The store-then-enqueue protocol against the emulator: FIFO queues, failures and retries,
//! concurrent duplicates, conflicts, leases, expiry, and Midbound's replay window; the
//! queues' and the events table's throughput settings as the template creates them.

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_sqs::types::QueueAttributeName;
use hookline::digest::sha256_hex;
use hookline::envelope::QueueMessage;
use hookline::provider::Sample as _;
use hookline::providers::{Argyle, Baack, Midbound};
use hookline::queue::SqsEventQueue;
use hookline::store::{
    pending_shard, Claim, DynamoDbEventStore, EventStore, LEGACY_PENDING_KEY, PENDING_SHARDS,
};
use hookline::sweeper::{sweep, SweepReport};
use integration_tests::aws::{n, s};
use integration_tests::samples::{now, webhook_id};
use integration_tests::{invoke, Event, Harness, Resources, Sample};
use serde_json::{json, Value};
use std::sync::Arc;

#[tokio::test]
async fn fifo_queue_gets_group_and_deduplication_ids() {
    let h = Harness::<Argyle>::with(true, &[]).await;
    // High-throughput FIFO on both queues, as the template creates them: SQS's 300 calls a
    // second apply per message group, not to the queue.
    for url in [&h.resources.queue_url, &h.resources.dlq_url] {
        let attribute = |name| h.resources.queue_attribute(url, name);
        assert_eq!(
            attribute(QueueAttributeName::DeduplicationScope)
                .await
                .as_deref(),
            Some("messageGroup"),
            "{url}"
        );
        assert_eq!(
            attribute(QueueAttributeName::FifoThroughputLimit)
                .await
                .as_deref(),
            Some("perMessageGroupId"),
            "{url}"
        );
    }
    let body = Argyle::payload();
    h.send(h.signed(&body)).await.expect(200, "accepted");
    let messages = h.resources.messages().await;
    assert_eq!(messages.len(), 1);
    // The resource (the Argyle identity) orders its own events.
    assert_eq!(
        messages[0].group_id.as_deref(),
        Some("0187c66e-f13b-31e4-6b2c-6a0dd4f67e43")
    );
    // Content-keyed (Argyle): the id names this occurrence, not only the event id, since the
    // same event id returns as a new occurrence once the enricher has taken it.
    let event_id = Argyle::event_id(&body);
    let dedup = messages[0]
        .deduplication_id
        .clone()
        .expect("a deduplication id");
    assert_eq!(dedup.len(), 64);
    assert_ne!(dedup, sha256_hex(event_id.as_bytes()));
    let record = h.resources.item(&event_id).await.unwrap();
    assert!(
        !record.contains_key("message_deduplication_id"),
        "dropped once enqueued"
    );

    // Keyed by one event (Baack): the event id's digest, whichever attempt sends it.
    let h = Harness::<Baack>::with(true, &[]).await;
    let body = Baack::payload();
    h.send(h.signed(&body)).await.expect(200, "accepted");
    let messages = h.resources.messages().await;
    assert_eq!(
        messages[0].deduplication_id.as_deref(),
        Some(sha256_hex(Baack::event_id(&body).as_bytes()).as_str())
    );
}

/// `EventsTableWarmWriteUnits` warms the table and its `pending-by-lease` index alike (every
/// claim writes both); at its default 0 the template sets nothing and DynamoDB keeps its own.
#[tokio::test]
async fn the_events_table_and_its_index_are_warmed_as_the_parameter_says() {
    async fn warm_write_units(resources: &Resources) -> (Option<i64>, Option<i64>) {
        let table = resources
            .dynamodb
            .describe_table()
            .table_name(&resources.table)
            .send()
            .await
            .expect("describe table")
            .table
            .expect("a table");
        let index = table
            .global_secondary_indexes()
            .iter()
            .find(|index| index.index_name() == Some("pending-by-lease"))
            .expect("the pending-by-lease index");
        (
            table
                .warm_throughput()
                .and_then(|w| w.write_units_per_second()),
            index
                .warm_throughput()
                .and_then(|w| w.write_units_per_second()),
        )
    }
    let warmed =
        Resources::create_with_parameters(false, &[("EventsTableWarmWriteUnits", "20000")]).await;
    assert_eq!(warm_write_units(&warmed).await, (Some(20000), Some(20000)));
    // The emulator's figure for a table nobody warmed: DynamoDB's 4,000 for a new on-demand table.
    let default = Resources::create(false).await;
    assert_eq!(warm_write_units(&default).await, (Some(4000), Some(4000)));
}

#[tokio::test]
async fn fifo_group_falls_back_to_the_provider() {
    let h = Harness::<Midbound>::with(true, &[]).await;
    let body = Midbound::payload();
    h.send(h.signed(&body)).await.expect(200, "accepted");
    let messages = h.resources.messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].group_id.as_deref(), Some("midbound"));
}

#[tokio::test]
async fn sqs_failure_after_the_put_then_retry_delivers_exactly_once() {
    let h = Harness::<Baack>::new().await;
    // A queue that does not exist: SQS itself answers with an error after the put succeeded.
    let mut config = h.resources.config(&Baack::vars());
    config.queue_url = format!("{}-missing", h.resources.queue_url);
    let broken = h.resources.pipeline::<Baack>(&config).await;
    let body = Baack::payload();
    let event_id = Baack::event_id(&body);

    let r = invoke(&broken, h.signed(&body).build()).await;
    r.expect(503, "unavailable");
    assert_eq!(r.body["event_id"], event_id.as_str());
    assert_eq!(r.header("retry-after"), Some("5"));
    let item = h.resources.item(&event_id).await.expect("the put happened");
    assert_eq!(s(&item, "status"), "RECEIVED");
    assert_eq!(
        n(&item, "lease_expires_at"),
        0,
        "the failed attempt released its lease"
    );
    // Found by the sweeper on the event's own shard of the index.
    let shard = pending_shard(&event_id);
    assert!(shard < PENDING_SHARDS);
    assert_eq!(s(&item, "pending"), format!("RECEIVED#{shard}"));
    assert!(h.resources.messages().await.is_empty());

    // The provider retries; this time SQS works.
    h.send(h.signed(&body)).await.expect(200, "accepted");
    h.send(h.signed(&body)).await.expect(200, "duplicate");
    assert_eq!(h.resources.messages().await.len(), 1);
    let item = h.resources.item(&event_id).await.unwrap();
    assert_eq!(s(&item, "status"), "ENQUEUED");
    assert!(
        !item.contains_key("pending"),
        "out of the index once enqueued"
    );
}

#[tokio::test]
async fn dynamodb_failure_is_a_503_and_nothing_is_sent() {
    let h = Harness::<Argyle>::new().await;
    let mut config = h.resources.config(&Argyle::vars());
    config.table = format!("{}-missing", h.resources.table);
    let broken = h.resources.pipeline::<Argyle>(&config).await;
    let r = invoke(&broken, h.signed(&Argyle::payload()).build()).await;
    r.expect(503, "unavailable");
    assert!(
        !r.body.to_string().contains("missing"),
        "no internal names in the answer"
    );
    h.assert_untouched().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_deliveries_of_one_event_give_exactly_one_message() {
    let h = Arc::new(Harness::<Midbound>::new().await);
    let body = Midbound::payload();
    let event = h.signed(&body);
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (h, event) = (h.clone(), event.clone());
            tokio::spawn(async move { h.send(event).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        let r = task.await.unwrap();
        let expected_status = if r.status_field() == "in_progress" {
            503
        } else {
            200
        };
        assert_eq!(r.status, expected_status, "{}", r.body);
        outcomes.push(r.status_field().to_string());
    }
    let accepted = outcomes.iter().filter(|o| *o == "accepted").count();
    assert_eq!(accepted, 1, "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .all(|o| ["accepted", "duplicate", "in_progress"].contains(&o.as_str())),
        "{outcomes:?}"
    );
    assert_eq!(h.resources.messages().await.len(), 1);
    // Whoever was told to come back later now gets a duplicate.
    h.send(event).await.expect(200, "duplicate");
    assert_eq!(h.resources.item_count().await, 1);
}

#[tokio::test]
async fn same_key_with_a_different_payload_is_a_409() {
    let h = Harness::<Baack>::new().await;
    let body = Baack::payload();
    h.send(h.signed(&body)).await.expect(200, "accepted");
    // Same subscription and trigger urn, another target.
    let other = body.replace("clientidentifier:7c2d", "clientidentifier:9999");
    let r = h.send(h.signed(&other)).await;
    r.expect(409, "conflict");
    assert_eq!(r.body["event_id"], Baack::event_id(&body).as_str());
    assert_eq!(h.resources.messages().await.len(), 1);
    let item = h.resources.item(&Baack::event_id(&body)).await.unwrap();
    assert_eq!(s(&item, "payload_sha256"), sha256_hex(body.as_bytes()));
}

#[tokio::test]
async fn live_lease_answers_in_progress_then_a_lapsed_one_is_taken_over() {
    let h = Harness::<Argyle>::new().await;
    let body = Argyle::payload();
    let t = now();
    // An attempt that claimed the event and died before sending (a Lambda timeout).
    let crashed = crashed_claim(&Argyle::event_id(&body), &body, t);
    let store = DynamoDbEventStore::new(h.resources.dynamodb.clone(), &h.resources.table);
    store.claim(&crashed).await.unwrap();

    let r = h.send_at(h.signed(&body), t + 10).await;
    r.expect(503, "in_progress");
    assert_eq!(r.header("retry-after"), Some("20"));
    assert!(h.resources.messages().await.is_empty());

    h.send_at(h.signed(&body), t + 30)
        .await
        .expect(200, "accepted");
    assert_eq!(h.resources.messages().await.len(), 1);
}

/// The claim of an attempt that stored the event (lease until `t + 30`) and died before sending.
fn crashed_claim(event_id: &str, body: &str, t: i64) -> Claim {
    Claim {
        message: QueueMessage {
            event_id: event_id.to_string(),
            provider: "argyle".into(),
            event_type: "identities.added".into(),
            group: ARGYLE_IDENTITY.into(),
            deduplication_id: hookline::digest::sha256_hex(event_id.as_bytes()),
            body: json!({"version": 1, "event_id": event_id, "provider": "argyle",
                         "event_type": "identities.added", "recognized": true,
                         "received_at": "2026-11-23T10:00:00Z",
                         "payload": serde_json::from_str::<Value>(body).unwrap()})
            .to_string(),
            replay_id: None,
        },
        payload_sha256: sha256_hex(body.as_bytes()),
        claim_id: "crashed-attempt".into(),
        now: t,
        lease_expires_at: t + 30,
        expires_at: t + 600,
    }
}

const ARGYLE_IDENTITY: &str = "0187c66e-f13b-31e4-6b2c-6a0dd4f67e43";

#[tokio::test]
async fn the_sweeper_completes_a_handoff_whose_attempt_died() {
    let h = Harness::<Argyle>::new().await;
    let store = DynamoDbEventStore::new(h.resources.dynamodb.clone(), &h.resources.table);
    let queue = SqsEventQueue::new(h.resources.sqs.clone(), &h.resources.queue_url);
    let t = now();
    let body = Argyle::payload();
    let event_id = Argyle::event_id(&body);
    store
        .claim(&crashed_claim(&event_id, &body, t))
        .await
        .unwrap();
    // A live delivery's record, and a finished one: neither is the sweeper's business.
    h.send_at(h.signed(&Argyle::unknown_event_payload()), t)
        .await
        .expect(200, "accepted");
    store
        .claim(&crashed_claim("argyle#still-running", &body, t + 100))
        .await
        .unwrap();
    assert_eq!(h.resources.messages().await.len(), 1);

    // Within the lease nothing is stranded.
    let early = sweep(&store, &queue, "sweep-early", t + 10, 30)
        .await
        .unwrap();
    assert_eq!(early, SweepReport::default());

    let report = sweep(&store, &queue, "sweep-1", t + 31, 30).await.unwrap();
    assert_eq!(
        report,
        SweepReport {
            found: 1,
            sent: 1,
            skipped: 0,
            failed: 0
        }
    );
    let messages = h.resources.messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].body["event_id"], event_id.as_str());
    assert_eq!(messages[0].body["payload"]["event"], "identities.added");
    assert_eq!(messages[0].attributes["provider"], "argyle");
    let item = h.resources.item(&event_id).await.unwrap();
    assert_eq!(s(&item, "status"), "ENQUEUED");
    assert!(
        !item.contains_key("message_body"),
        "the kept message goes once handed off"
    );

    // The provider's late retry is a duplicate; a second sweep finds nothing.
    h.send_at(h.signed(&body), t + 40)
        .await
        .expect(200, "duplicate");
    let again = sweep(&store, &queue, "sweep-2", t + 41, 30).await.unwrap();
    assert_eq!(again.found, 0);
    assert!(h.resources.messages().await.is_empty());
}

/// The first event ids of the form `argyle#stuck-<i>` that land on each of `shards`, in order.
fn ids_on_shards(shards: &[u32]) -> Vec<String> {
    shards
        .iter()
        .map(|&shard| {
            (0..)
                .map(|i| format!("argyle#stuck-{i}"))
                .find(|id| pending_shard(id) == shard)
                .expect("every shard is hit")
        })
        .collect()
}

/// Claims `event_id` as an attempt that died, then rewrites its index key to the one every
/// record carried before the index was sharded: a claim made by the previous version.
async fn claim_as_the_previous_version(h: &Harness<Argyle>, event_id: &str, t: i64) {
    let store = DynamoDbEventStore::new(h.resources.dynamodb.clone(), &h.resources.table);
    let body = Argyle::payload();
    store
        .claim(&crashed_claim(event_id, &body, t))
        .await
        .unwrap();
    h.resources
        .dynamodb
        .update_item()
        .table_name(&h.resources.table)
        .key("pk", AttributeValue::S(event_id.into()))
        .update_expression("SET pending = :legacy")
        .expression_attribute_values(":legacy", AttributeValue::S(LEGACY_PENDING_KEY.into()))
        .send()
        .await
        .unwrap();
    let item = h.resources.item(event_id).await.unwrap();
    assert_eq!(s(&item, "pending"), "RECEIVED");
}

#[tokio::test]
async fn the_sweeper_reads_every_shard_and_the_key_of_the_previous_version() {
    let h = Harness::<Argyle>::new().await;
    let store = DynamoDbEventStore::new(h.resources.dynamodb.clone(), &h.resources.table);
    let queue = SqsEventQueue::new(h.resources.sqs.clone(), &h.resources.queue_url);
    let t = now();
    let body = Argyle::payload();
    let shards = [0, 1, 17, 42, PENDING_SHARDS - 1];
    let mut stuck = ids_on_shards(&shards);
    for (id, shard) in stuck.iter().zip(shards) {
        store.claim(&crashed_claim(id, &body, t)).await.unwrap();
        let item = h.resources.item(id).await.unwrap();
        assert_eq!(s(&item, "pending"), format!("RECEIVED#{shard}"), "{id}");
    }
    let legacy = "argyle#claimed-before-the-upgrade";
    claim_as_the_previous_version(&h, legacy, t).await;
    stuck.push(legacy.to_string());

    assert_eq!(
        sweep(&store, &queue, "sweep-early", t + 10, 30)
            .await
            .unwrap(),
        SweepReport::default()
    );
    let report = sweep(&store, &queue, "sweep-1", t + 31, 30).await.unwrap();
    assert_eq!(
        report,
        SweepReport {
            found: 6,
            sent: 6,
            skipped: 0,
            failed: 0
        }
    );
    let mut sent: Vec<String> = h
        .resources
        .messages()
        .await
        .iter()
        .map(|m| m.body["event_id"].as_str().unwrap().to_string())
        .collect();
    sent.sort();
    stuck.sort();
    assert_eq!(sent, stuck);
    for id in &stuck {
        let item = h.resources.item(id).await.unwrap();
        assert_eq!(s(&item, "status"), "ENQUEUED", "{id}");
        assert!(!item.contains_key("pending"), "{id} left the index");
    }
    let again = sweep(&store, &queue, "sweep-2", t + 62, 30).await.unwrap();
    assert_eq!(again, SweepReport::default());
}

/// One shard crowded with stranded records does not take a bounded read's whole budget: the
/// records on other shards and on the legacy key are in it too, and a larger budget takes all.
#[tokio::test]
async fn a_bounded_read_of_stranded_records_shares_its_limit_between_shards() {
    let h = Harness::<Argyle>::new().await;
    let store = DynamoDbEventStore::new(h.resources.dynamodb.clone(), &h.resources.table);
    let t = now();
    let body = Argyle::payload();
    let crowded: Vec<String> = (0..)
        .map(|i| format!("argyle#crowded-{i}"))
        .filter(|id| pending_shard(id) == 5)
        .take(6)
        .collect();
    let lone = ids_on_shards(&[9]).remove(0);
    // The crowded shard's records have the oldest leases: by lease alone they would come first.
    for (i, id) in crowded.iter().enumerate() {
        let at = t - 10 + i64::try_from(i).unwrap();
        store.claim(&crashed_claim(id, &body, at)).await.unwrap();
    }
    store.claim(&crashed_claim(&lone, &body, t)).await.unwrap();
    let legacy = "argyle#claimed-before-the-upgrade";
    claim_as_the_previous_version(&h, legacy, t).await;

    let ids = |found: Vec<hookline::store::Stranded>| -> Vec<String> {
        found.into_iter().map(|s| s.message.event_id).collect()
    };
    let four = ids(store.stranded(t + 31, 4).await.unwrap());
    assert_eq!(four.len(), 4, "{four:?}");
    assert!(four.contains(&lone), "{four:?}");
    assert!(four.contains(&legacy.to_string()), "{four:?}");
    assert_eq!(
        four.iter().filter(|id| crowded.contains(id)).count(),
        2,
        "{four:?}"
    );

    let mut all = ids(store.stranded(t + 31, 100).await.unwrap());
    // Oldest lease first: the crowded shard's, in the order they were claimed.
    assert_eq!(all[..6], crowded[..]);
    all.sort();
    let mut expected = [crowded.clone(), vec![lone, legacy.to_string()]].concat();
    expected.sort();
    assert_eq!(all, expected);
}

#[tokio::test]
async fn an_expired_record_counts_as_absent_even_before_ttl_deletes_it() {
    let retention = ("DEDUP_RETENTION_SECONDS", "60".to_string());
    let h = Harness::<Argyle>::with(false, &[retention]).await;
    let body = Argyle::payload();
    let t = now();
    h.send_at(h.signed(&body), t).await.expect(200, "accepted");
    let item = h.resources.item(&Argyle::event_id(&body)).await.unwrap();
    assert_eq!(n(&item, "expires_at"), t + 60);
    h.send_at(h.signed(&body), t + 59)
        .await
        .expect(200, "duplicate");
    // The emulator never deletes expired items, like DynamoDB's lazy TTL: the condition decides.
    h.send_at(h.signed(&body), t + 60)
        .await
        .expect(200, "accepted");
    assert_eq!(h.resources.messages().await.len(), 2);
}

#[tokio::test]
async fn midbound_stale_and_future_timestamps_are_refused() {
    let h = Harness::<Midbound>::new().await;
    let body = Midbound::payload();
    let id = webhook_id(&body);
    for offset in [-301, 301] {
        let headers = Midbound::headers_at(Midbound::SECRETS[0], &body, now() + offset, Some(&id));
        let r = h.send(Event::new(&headers, &body)).await;
        r.expect(401, "rejected");
        assert_eq!(r.body["error"], "unauthorized");
    }
    h.assert_untouched().await;
    let headers = Midbound::headers_at(Midbound::SECRETS[0], &body, now() - 290, Some(&id));
    h.send(Event::new(&headers, &body))
        .await
        .expect(200, "accepted");
}

#[tokio::test]
async fn midbound_tolerance_is_configurable() {
    let tolerance = ("WEBHOOK_TOLERANCE_SECONDS", "30".to_string());
    let h = Harness::<Midbound>::with(false, &[tolerance]).await;
    let body = Midbound::payload();
    let id = webhook_id(&body);
    let headers = Midbound::headers_at(Midbound::SECRETS[1], &body, now() - 60, Some(&id));
    h.send(Event::new(&headers, &body))
        .await
        .expect(401, "rejected");
}

#[tokio::test]
async fn midbound_raw_key_signature_among_several_with_auto_encoding() {
    let encoding = ("WEBHOOK_SECRET_ENCODING", "auto".to_string());
    let h = Harness::<Midbound>::with(false, &[encoding]).await;
    let body = Midbound::payload();
    let id = webhook_id(&body);
    let ts = now();
    // Midbound's Node example keys HMAC with the characters after whsec_, not their base64.
    let raw_key = Midbound::SECRETS[1].trim_start_matches("whsec_").as_bytes();
    let raw_signature =
        hookline::verify::StandardWebhooks::signature(raw_key, &id, ts, body.as_bytes());
    let headers = vec![
        ("webhook-id".to_string(), id),
        ("webhook-timestamp".to_string(), ts.to_string()),
        (
            "webhook-signature".to_string(),
            format!("v1,bm90IHRoaXMgb25l v1a,xyz {raw_signature}"),
        ),
    ];
    h.send(Event::new(&headers, &body))
        .await
        .expect(200, "accepted");
    assert_eq!(h.resources.messages().await.len(), 1);
}

#[tokio::test]
async fn baack_basic_mode_checks_client_id_and_secret() {
    let resources = Resources::create(false).await;
    let config = resources.config(&[
        ("WEBHOOK_AUTH_MODE", "basic".to_string()),
        (
            "WEBHOOK_SECRETS",
            "client-1:s3cret-0123456789ab".to_string(),
        ),
    ]);
    let pipeline = resources.pipeline::<Baack>(&config).await;
    let body = Baack::payload();
    let basic = |credentials: &str| {
        use base64::Engine;
        let encoded = base64::engine::general_purpose::STANDARD.encode(credentials);
        vec![("Authorization".to_string(), format!("Basic {encoded}"))]
    };
    invoke(
        &pipeline,
        Event::new(&basic("client-1:wrong"), &body).build(),
    )
    .await
    .expect(401, "rejected");
    invoke(
        &pipeline,
        Event::new(&basic("client-1:s3cret-0123456789ab"), &body).build(),
    )
    .await
    .expect(200, "accepted");
    assert_eq!(resources.messages().await.len(), 1);
}

#[tokio::test]
async fn secrets_can_come_from_secrets_manager() {
    let resources = Resources::create(false).await;
    let arn = resources
        .create_secret(r#"["argyle-secret-old", "argyle-secret-new"]"#)
        .await;
    let config = resources.config(&[("WEBHOOK_SECRETS_ARN", arn)]);
    let pipeline = resources.pipeline::<Argyle>(&config).await;
    let body = Argyle::payload();
    for secret in Argyle::SECRETS {
        let headers = Argyle::headers(secret, &body);
        let r = invoke(&pipeline, Event::new(&headers, &body).build()).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let wrong = Argyle::headers("not-in-the-secret", &body);
    invoke(&pipeline, Event::new(&wrong, &body).build())
        .await
        .expect(401, "rejected");
    assert_eq!(resources.messages().await.len(), 1);
}

#[tokio::test]
async fn a_missing_secrets_manager_secret_stops_the_function() {
    let resources = Resources::create(false).await;
    let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:absent-AbCdEf".to_string();
    let config = resources.config(&[("WEBHOOK_SECRETS_ARN", arn.clone())]);
    let sdk = hookline::runtime::sdk_config().await;
    let error = hookline::secrets_manager::resolve(&config.secrets, &sdk)
        .await
        .unwrap_err();
    assert!(
        error.to_string().starts_with(&format!(
            "cannot read the webhook secrets from Secrets Manager ({arn})"
        )),
        "{error}"
    );
}
