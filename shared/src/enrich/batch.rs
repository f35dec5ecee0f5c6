//! Partial batch failures for SQS-triggered functions: only failed messages return to the queue.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsMessage};
use std::future::Future;

/// Runs `handle` on each message in order and reports those that failed, by message id (the
/// event source mapping needs `ReportBatchItemFailures`). On a FIFO queue order matters, so after
/// the first failure the rest of the batch is reported unprocessed: nothing overtakes the failed
/// message in its group.
pub async fn process_batch<'a, F, Fut, E>(records: &'a [SqsMessage], handle: F) -> SqsBatchResponse
where
    F: Fn(&'a SqsMessage) -> Fut,
    Fut: Future<Output = Result<(), E>>,
{
    let fifo = records
        .first()
        .and_then(|r| r.event_source_arn.as_deref())
        .is_some_and(|arn| arn.ends_with(".fifo"));
    let mut failures = Vec::new();
    for (index, record) in records.iter().enumerate() {
        if handle(record).await.is_ok() {
            continue;
        }
        if fifo {
            failures.extend(records[index..].iter().map(failure));
            break;
        }
        failures.push(failure(record));
    }
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures;
    response
}

fn failure(record: &SqsMessage) -> BatchItemFailure {
    let mut failure = BatchItemFailure::default();
    failure.item_identifier = record.message_id.clone().unwrap_or_default();
    failure
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn records(arn: &str, bodies: &[&str]) -> Vec<SqsMessage> {
        bodies
            .iter()
            .enumerate()
            .map(|(i, body)| {
                let mut m = SqsMessage::default();
                m.message_id = Some(format!("m{i}"));
                m.body = Some(body.to_string());
                m.event_source_arn = Some(arn.to_string());
                m
            })
            .collect()
    }

    fn failed_ids(response: &SqsBatchResponse) -> Vec<&str> {
        response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect()
    }

    async fn run(arn: &str) -> (SqsBatchResponse, Vec<String>) {
        let seen = Mutex::new(Vec::new());
        let batch = records(arn, &["ok", "bad", "ok", "bad"]);
        let response = process_batch(&batch, |m| {
            let body = m.body.clone().unwrap();
            seen.lock().unwrap().push(body.clone());
            async move {
                if body == "ok" {
                    Ok(())
                } else {
                    Err("bad")
                }
            }
        })
        .await;
        (response, seen.into_inner().unwrap())
    }

    #[tokio::test]
    async fn standard_queue_reports_only_the_failed_messages() {
        let (response, seen) = run("arn:aws:sqs:us-east-1:1:events").await;
        assert_eq!(failed_ids(&response), ["m1", "m3"]);
        assert_eq!(seen.len(), 4);
    }

    #[tokio::test]
    async fn fifo_queue_stops_at_the_first_failure() {
        let (response, seen) = run("arn:aws:sqs:us-east-1:1:events.fifo").await;
        assert_eq!(failed_ids(&response), ["m1", "m2", "m3"]);
        assert_eq!(seen, ["ok", "bad"]);
    }

    #[tokio::test]
    async fn all_good_reports_nothing() {
        let batch = records("arn:aws:sqs:us-east-1:1:events", &["ok", "ok"]);
        let response = process_batch(&batch, |_| async { Ok::<(), ()>(()) }).await;
        assert!(response.batch_item_failures.is_empty());
    }
}
