//! One invocation, end to end: raw event → pipeline → log line and metric → proxy response.

use crate::lambda_event::{encode, InvocationEvent};
use crate::pipeline::{Handled, Outcome, Pipeline};
use crate::provider::Provider;
use crate::queue::EventQueue;
use crate::rejection::Rejection;
use crate::response::respond;
use crate::store::EventStore;
use serde_json::Value;

impl<P: Provider, S: EventStore, Q: EventQueue> Pipeline<P, S, Q> {
    /// Handles an invocation event (as the runtime read it, or a JSON value: fixtures, tests);
    /// never fails, every problem is an HTTP answer.
    pub async fn handle_event(&self, event: impl Into<InvocationEvent>, request_id: &str) -> Value {
        self.handle_event_at(event, request_id, crate::clock::unix_now())
            .await
    }

    /// As [`Self::handle_event`] with an explicit clock, for replay-window tests.
    pub async fn handle_event_at(
        &self,
        event: impl Into<InvocationEvent>,
        request_id: &str,
        now: i64,
    ) -> Value {
        let (shape, request) = event.into().decode(self.settings().max_body_bytes);
        let result = match request {
            Ok(request) => self.handle(&request, request_id, now).await,
            Err(rejection) => Err(rejection),
        };
        log_result(P::NAME, &result);
        crate::metrics::emit(&crate::metrics::delivery(P::NAME, &result, now));
        if let Ok(Handled {
            event_id,
            subscription: Some(subscription),
            ..
        }) = &result
        {
            let document = crate::metrics::subscription(P::NAME, event_id, subscription, now);
            crate::metrics::emit(&document);
        }
        encode(shape, respond(&result))
    }
}

/// One line per delivery. Never the body (identity data is personal data), never a secret:
/// rejection reasons name headers and fields, not values.
fn log_result(provider: &str, result: &Result<Handled, Rejection>) {
    match result {
        Ok(h) => {
            let outcome = h.outcome.status();
            let (event_id, event_type, recognized) = (&h.event_id, &h.event_type, h.recognized);
            match &h.outcome {
                Outcome::Unavailable { reason } => tracing::error!(
                    provider, event_id, event_type, outcome, error = %reason,
                    "delivery not handed off; the provider will retry"
                ),
                Outcome::Conflict => tracing::warn!(
                    provider,
                    event_id,
                    event_type,
                    outcome,
                    "same event id, different payload: not enqueued"
                ),
                _ if !recognized => tracing::warn!(
                    provider,
                    event_id,
                    event_type,
                    outcome,
                    recognized,
                    "unrecognized event type accepted and flagged"
                ),
                _ => tracing::info!(
                    provider,
                    event_id,
                    event_type,
                    outcome,
                    recognized,
                    "delivery handled"
                ),
            }
        }
        Err(rejection) => tracing::warn!(
            provider, outcome = "rejected", reason = %rejection, "delivery rejected"
        ),
    }
}
