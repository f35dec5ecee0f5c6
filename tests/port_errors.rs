//! A port's error says what kind of failure it met, from the service's own answer, so a caller
//! can tell a missing resource from a throttle from a refused permission (the unit tests of
//! `hookline::port_error` map each code; these hold the adapters to it on the wire).

use hookline::envelope::QueueMessage;
use hookline::history::{DynamoDbHistory, HistoryStore};
use hookline::identity::{DynamoDbIdentities, IdentityKey, IdentityStore};
use hookline::port_error::ErrorKind;
use hookline::queue::{EventQueue, SqsEventQueue};
use integration_tests::Emulator;

#[tokio::test]
async fn a_table_or_queue_that_does_not_exist_is_not_found() {
    let config = Emulator::from_env().sdk_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);

    let history = DynamoDbHistory::new(dynamodb.clone(), "hookline-no-such-history");
    let error = history.occurrences("argyle#x").await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::NotFound, "{error}");

    let identities = DynamoDbIdentities::new(dynamodb, "hookline-no-such-identities");
    let error = identities
        .get(&IdentityKey::new("argyle", "x"))
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::NotFound, "{error}");
    assert!(
        error.to_string().starts_with("identities: GetItem failed"),
        "{error}"
    );

    let sqs = aws_sdk_sqs::Client::new(&config);
    let existing = sqs
        .create_queue()
        .queue_name(format!("hookline-port-errors-{}", std::process::id()))
        .send()
        .await
        .unwrap();
    // The same account and endpoint, a queue name nobody created.
    let missing = existing
        .queue_url()
        .unwrap()
        .rsplit_once('/')
        .map(|(base, _)| format!("{base}/hookline-no-such-queue"))
        .unwrap();
    let queue = SqsEventQueue::new(sqs, missing);
    let message = QueueMessage {
        event_id: "argyle#x".into(),
        provider: "argyle".into(),
        event_type: "identities.added".into(),
        group: "argyle".into(),
        deduplication_id: "x".into(),
        body: "{}".into(),
        replay_id: None,
    };
    let error = queue.send(&message).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::NotFound, "{error}");
}
