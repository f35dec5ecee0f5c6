//! The store-then-enqueue protocol against the emulator: FIFO queues, failures and retries,
//! concurrent duplicates, conflicts, leases, expiry, and Midbound's replay window.

use hookline::store::{Claim, EventStore};
use integration_tests::aws::{n, s};
use integration_tests::samples::{now, ArgyleSample, BaackSample, MidboundSample};
use integration_tests::{invoke, invoke_at, Event, Resources, Sample};
use std::sync::Arc;

async fn setup<S: Sample>(
    fifo: bool,
    extra: &[(&'static str, String)],
) -> (Resources, integration_tests::aws::LivePipeline<S::Provider>) {
    let resources = Resources::create(fifo).await;
    let mut vars = S::vars();
    vars.extend_from_slice(extra);
    let pipeline = resources.pipeline(&resources.config(&vars));
    (resources, pipeline)
}

fn signed<S: Sample>(body: &str) -> Event {
    Event::new(&S::sign(S::SECRETS[1], body), body).query(S::QUERY)
}

#[tokio::test]
async fn fifo_queue_gets_group_and_deduplication_ids() {
    let (resources, pipeline) = setup::<ArgyleSample>(true, &[]).await;
    let body = ArgyleSample::payload();
    let r = invoke(&pipeline, signed::<ArgyleSample>(&body).build()).await;
    assert_eq!(
        (r.status, r.status_field()),
        (200, "accepted"),
        "{:?}",
        r.body
    );
    let messages = resources.messages().await;
    assert_eq!(messages.len(), 1);
    // The resource (the Argyle identity) orders its own events.
    assert_eq!(
        messages[0].group_id.as_deref(),
        Some("0187c66e-f13b-31e4-6b2c-6a0dd4f67e43")
    );
    let event_id = ArgyleSample::event_id(&body);
    assert_eq!(
        messages[0].deduplication_id.as_deref(),
        Some(hookline::provider::sha256_hex(event_id.as_bytes()).as_str())
    );
}

#[tokio::test]
async fn fifo_group_falls_back_to_the_provider() {
    let (resources, pipeline) = setup::<MidboundSample>(true, &[]).await;
    let body = MidboundSample::payload();
    let r = invoke(&pipeline, signed::<MidboundSample>(&body).build()).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let messages = resources.messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].group_id.as_deref(), Some("midbound"));
}

#[tokio::test]
async fn sqs_failure_after_the_put_then_retry_delivers_exactly_once() {
    let (resources, healthy) = setup::<BaackSample>(false, &[]).await;
    let config = resources.config(&BaackSample::vars());
    // A queue that does not exist: SQS itself answers with an error after the put succeeded.
    let missing_queue = format!("{}-missing", resources.queue_url);
    let broken =
        resources.pipeline_with_queue::<hookline::providers::Baack>(&config, &missing_queue);
    let body = BaackSample::payload();
    let event_id = BaackSample::event_id(&body);

    let r = invoke(&broken, signed::<BaackSample>(&body).build()).await;
    assert_eq!(r.status, 503, "{:?}", r.body);
    assert_eq!(r.status_field(), "unavailable");
    assert_eq!(r.body["event_id"], event_id.as_str());
    assert_eq!(r.header("retry-after"), Some("5"));
    let item = resources.item(&event_id).await.expect("the put happened");
    assert_eq!(s(&item, "status"), "RECEIVED");
    assert_eq!(
        n(&item, "lease_expires_at"),
        0,
        "the failed attempt released its lease"
    );
    assert!(resources.messages().await.is_empty());

    // The provider retries; this time SQS works.
    let r = invoke(&healthy, signed::<BaackSample>(&body).build()).await;
    assert_eq!(
        (r.status, r.status_field()),
        (200, "accepted"),
        "{:?}",
        r.body
    );
    let r = invoke(&healthy, signed::<BaackSample>(&body).build()).await;
    assert_eq!(r.status_field(), "duplicate");
    assert_eq!(resources.messages().await.len(), 1);
    let item = resources.item(&event_id).await.unwrap();
    assert_eq!(s(&item, "status"), "ENQUEUED");
}

#[tokio::test]
async fn dynamodb_failure_is_a_503_and_nothing_is_sent() {
    let (resources, _) = setup::<ArgyleSample>(false, &[]).await;
    let mut config = resources.config(&ArgyleSample::vars());
    config.table = format!("{}-missing", resources.table);
    let missing_table = Resources {
        table: config.table.clone(),
        queue_url: resources.queue_url.clone(),
        dynamodb: resources.dynamodb.clone(),
        sqs: resources.sqs.clone(),
    };
    let pipeline = missing_table.pipeline::<hookline::providers::Argyle>(&config);
    let body = ArgyleSample::payload();
    let r = invoke(&pipeline, signed::<ArgyleSample>(&body).build()).await;
    assert_eq!(
        (r.status, r.status_field()),
        (503, "unavailable"),
        "{:?}",
        r.body
    );
    assert!(
        !r.body.to_string().contains("missing"),
        "no internal names in the answer"
    );
    assert!(resources.messages().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_deliveries_of_one_event_give_exactly_one_message() {
    let (resources, pipeline) = setup::<MidboundSample>(false, &[]).await;
    let pipeline = Arc::new(pipeline);
    let body = MidboundSample::payload();
    let event = signed::<MidboundSample>(&body).build();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (pipeline, event) = (pipeline.clone(), event.clone());
            tokio::spawn(async move { invoke(&pipeline, event).await })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        let r = task.await.unwrap();
        statuses.push((r.status, r.status_field().to_string()));
    }
    let accepted = statuses.iter().filter(|s| s.1 == "accepted").count();
    assert_eq!(accepted, 1, "{statuses:?}");
    for (status, outcome) in &statuses {
        match outcome.as_str() {
            "accepted" | "duplicate" => assert_eq!(*status, 200),
            "in_progress" => assert_eq!(*status, 503),
            other => panic!("unexpected outcome {other}"),
        }
    }
    assert_eq!(resources.messages().await.len(), 1);
    // Whoever was told to come back later now gets a duplicate.
    let r = invoke(&pipeline, event).await;
    assert_eq!((r.status, r.status_field()), (200, "duplicate"));
    assert_eq!(resources.item_count().await, 1);
}

#[tokio::test]
async fn same_key_with_a_different_payload_is_a_409() {
    let (resources, pipeline) = setup::<BaackSample>(false, &[]).await;
    let body = BaackSample::payload();
    let r = invoke(&pipeline, signed::<BaackSample>(&body).build()).await;
    assert_eq!(r.status_field(), "accepted");
    // Same subscription and trigger urn, another target.
    let other = body.replace("clientidentifier:7c2d", "clientidentifier:9999");
    let r = invoke(&pipeline, signed::<BaackSample>(&other).build()).await;
    assert_eq!(
        (r.status, r.status_field()),
        (409, "conflict"),
        "{:?}",
        r.body
    );
    assert_eq!(r.body["event_id"], BaackSample::event_id(&body).as_str());
    assert_eq!(resources.messages().await.len(), 1);
    let item = resources.item(&BaackSample::event_id(&body)).await.unwrap();
    assert_eq!(
        s(&item, "payload_sha256"),
        hookline::provider::sha256_hex(body.as_bytes())
    );
}

#[tokio::test]
async fn live_lease_answers_in_progress_then_a_lapsed_one_is_taken_over() {
    let (resources, pipeline) = setup::<ArgyleSample>(false, &[]).await;
    let body = ArgyleSample::payload();
    let event_id = ArgyleSample::event_id(&body);
    let t = now();
    // An attempt that claimed the event and died before sending (a Lambda timeout).
    let crashed = Claim {
        event_id: event_id.clone(),
        provider: "argyle".into(),
        event_type: "identities.added".into(),
        payload_sha256: hookline::provider::sha256_hex(body.as_bytes()),
        claim_id: "crashed-attempt".into(),
        now: t,
        lease_expires_at: t + 30,
        expires_at: t + 600,
    };
    let store =
        hookline::store::DynamoDbEventStore::new(resources.dynamodb.clone(), &resources.table);
    store.claim(&crashed).await.unwrap();

    let r = invoke_at(&pipeline, signed::<ArgyleSample>(&body).build(), t + 10).await;
    assert_eq!(
        (r.status, r.status_field()),
        (503, "in_progress"),
        "{:?}",
        r.body
    );
    assert_eq!(r.header("retry-after"), Some("20"));
    assert!(resources.messages().await.is_empty());

    let r = invoke_at(&pipeline, signed::<ArgyleSample>(&body).build(), t + 30).await;
    assert_eq!(
        (r.status, r.status_field()),
        (200, "accepted"),
        "{:?}",
        r.body
    );
    assert_eq!(resources.messages().await.len(), 1);
}

#[tokio::test]
async fn an_expired_record_counts_as_absent_even_before_ttl_deletes_it() {
    let retention = ("DEDUP_RETENTION_SECONDS", "60".to_string());
    let (resources, pipeline) = setup::<ArgyleSample>(false, &[retention]).await;
    let body = ArgyleSample::payload();
    let t = now();
    let event = signed::<ArgyleSample>(&body).build();
    assert_eq!(
        invoke_at(&pipeline, event.clone(), t).await.status_field(),
        "accepted"
    );
    let item = resources
        .item(&ArgyleSample::event_id(&body))
        .await
        .unwrap();
    assert_eq!(n(&item, "expires_at"), t + 60);
    assert_eq!(
        invoke_at(&pipeline, event.clone(), t + 59)
            .await
            .status_field(),
        "duplicate"
    );
    // The emulator never deletes expired items, like DynamoDB's lazy TTL: the condition decides.
    assert_eq!(
        invoke_at(&pipeline, event, t + 60).await.status_field(),
        "accepted"
    );
    assert_eq!(resources.messages().await.len(), 2);
}

#[tokio::test]
async fn midbound_stale_and_future_timestamps_are_refused() {
    let (resources, pipeline) = setup::<MidboundSample>(false, &[]).await;
    let body = MidboundSample::payload();
    let id = MidboundSample::webhook_id(&body);
    let secret = MidboundSample::SECRETS[0];
    for (offset, accepted) in [(-301, false), (301, false), (-300, true)] {
        let headers = MidboundSample::sign_at(secret, &id, now() + offset, &body);
        let r = invoke(&pipeline, Event::new(&headers, &body).build()).await;
        if accepted {
            assert_eq!(r.status, 200, "{offset}: {:?}", r.body);
        } else {
            assert_eq!(r.status, 401, "{offset}: {:?}", r.body);
            assert_eq!(r.body["error"], "unauthorized");
        }
    }
    assert_eq!(resources.messages().await.len(), 1);
}

#[tokio::test]
async fn midbound_tolerance_is_configurable() {
    let tolerance = ("WEBHOOK_TOLERANCE_SECONDS", "30".to_string());
    let (_, pipeline) = setup::<MidboundSample>(false, &[tolerance]).await;
    let body = MidboundSample::payload();
    let id = MidboundSample::webhook_id(&body);
    let headers = MidboundSample::sign_at(MidboundSample::SECRETS[1], &id, now() - 60, &body);
    let r = invoke(&pipeline, Event::new(&headers, &body).build()).await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn midbound_signature_among_several_with_raw_key_encoding() {
    let encoding = ("WEBHOOK_SECRET_ENCODING", "auto".to_string());
    let (resources, pipeline) = setup::<MidboundSample>(false, &[encoding]).await;
    let body = MidboundSample::payload();
    let id = MidboundSample::webhook_id(&body);
    let ts = now();
    // Midbound's Node example keys HMAC with the characters after whsec_, not their base64.
    let raw_key = MidboundSample::SECRETS[1]
        .trim_start_matches("whsec_")
        .as_bytes();
    let raw_signature = hookline::verify::StandardWebhooks::sign(raw_key, &id, ts, body.as_bytes());
    let header = format!("v1,bm90IHRoaXMgb25l v1a,xyz {raw_signature}");
    let headers = vec![
        ("webhook-id".to_string(), id),
        ("webhook-timestamp".to_string(), ts.to_string()),
        ("webhook-signature".to_string(), header),
    ];
    let r = invoke(&pipeline, Event::new(&headers, &body).build()).await;
    assert_eq!(
        (r.status, r.status_field()),
        (200, "accepted"),
        "{:?}",
        r.body
    );
    assert_eq!(resources.messages().await.len(), 1);
}

#[tokio::test]
async fn baack_basic_mode_checks_client_id_and_secret() {
    let vars = [
        ("WEBHOOK_AUTH_MODE", "basic".to_string()),
        ("WEBHOOK_SECRETS", "client-1:s3cret".to_string()),
    ];
    let resources = Resources::create(false).await;
    let pipeline = resources.pipeline::<hookline::providers::Baack>(&resources.config(&vars));
    let body = BaackSample::payload();
    let basic = |credentials: &str| {
        use base64::Engine;
        let value = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(credentials)
        );
        vec![("Authorization".to_string(), value)]
    };
    let r = invoke(
        &pipeline,
        Event::new(&basic("client-1:wrong"), &body).build(),
    )
    .await;
    assert_eq!(r.status, 401);
    let r = invoke(
        &pipeline,
        Event::new(&basic("client-1:s3cret"), &body).build(),
    )
    .await;
    assert_eq!((r.status, r.status_field()), (200, "accepted"));
    assert_eq!(resources.messages().await.len(), 1);
}
