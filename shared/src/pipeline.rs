//! The handling of one delivery: verify → parse → key → claim → send → mark.
//!
//! The invariant: answer 2xx only once the event is durably in the queue, by this attempt or an
//! earlier one. Everything else answers with a status that makes the provider retry, and leaves
//! the record in a state from which that retry completes the handoff.

use crate::envelope::QueueMessage;
use crate::limits::{
    bounded, ENVELOPE_OVERHEAD_BYTES, MAX_EVENT_TYPE_BYTES, MAX_KEY_BYTES, UNKNOWN_EVENT_TYPE,
};
use crate::provider::{Provider, Subscription};
use crate::queue::EventQueue;
use crate::rejection::Rejection;
use crate::request::WebhookRequest;
use crate::store::{Claim, ClaimOutcome, EventStore};
use http::Method;
use std::borrow::Cow;
use tracing::Instrument;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub max_body_bytes: usize,
    pub retention_seconds: u64,
    pub lease_seconds: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// This attempt put the event in the queue.
    Accepted,
    /// An earlier attempt did; nothing was sent.
    Duplicate,
    /// An earlier attempt is still handing the event off; retry later.
    InProgress { retry_after_seconds: u64 },
    /// The event id is already used for a different payload; nothing was sent.
    Conflict,
    /// The store or the queue failed; the record stays claimable by a retry.
    Unavailable { reason: String },
}

impl Outcome {
    /// The outcome's name in the answer's `status` field and in the log line's `outcome`.
    pub fn status(&self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Duplicate => "duplicate",
            Self::InProgress { .. } => "in_progress",
            Self::Conflict => "conflict",
            Self::Unavailable { .. } => "unavailable",
        }
    }
}

/// An identified delivery and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handled {
    pub event_id: String,
    pub event_type: String,
    pub recognized: bool,
    /// When the delivery says when its subscription lapses (Baack).
    pub subscription: Option<Subscription>,
    pub outcome: Outcome,
}

pub struct Pipeline<P, S, Q> {
    provider: P,
    store: S,
    queue: Q,
    settings: Settings,
}

impl<P: Provider, S: EventStore, Q: EventQueue> Pipeline<P, S, Q> {
    pub fn new(provider: P, store: S, queue: Q, settings: Settings) -> Self {
        Self {
            provider,
            store,
            queue,
            settings,
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn queue(&self) -> &Q {
        &self.queue
    }

    /// `attempt_id` names this attempt (the Lambda request id); `now` is Unix seconds.
    pub async fn handle(
        &self,
        request: &WebhookRequest,
        attempt_id: &str,
        now: i64,
    ) -> Result<Handled, Rejection> {
        if request.method != Method::POST {
            // The request chooses the method's text: only the standard names reach a log line.
            let method = match request.method {
                Method::GET
                | Method::PUT
                | Method::DELETE
                | Method::PATCH
                | Method::HEAD
                | Method::OPTIONS
                | Method::TRACE
                | Method::CONNECT => request.method.as_str(),
                _ => "(non-standard)",
            };
            return Err(Rejection::MethodNotAllowed(method.to_string()));
        }
        if request.body.len() > self.settings.max_body_bytes {
            return Err(Rejection::PayloadTooLarge {
                limit: self.settings.max_body_bytes,
            });
        }
        self.provider
            .verifier()
            .verify(request, now)
            .map_err(Rejection::Unauthorized)?;
        let mut parsed = self
            .provider
            .parse(request)
            .map_err(Rejection::InvalidPayload)?;
        // Values the provider chooses, kept inside the AWS limits they flow into: the same
        // delivery maps the same way on every retry (`limits`).
        let delivery = &mut parsed.delivery;
        let key = bounded(&delivery.dedup_key, MAX_KEY_BYTES);
        let event_id = format!("{}#{key}", P::NAME);
        if let Cow::Owned(event_type) = bounded(&delivery.event_type, MAX_EVENT_TYPE_BYTES) {
            delivery.event_type = event_type;
            delivery.recognized = false;
        }
        // SQS refuses an empty message attribute value, on every retry.
        if delivery.event_type.is_empty() {
            delivery.event_type = UNKNOWN_EVENT_TYPE.to_string();
            delivery.recognized = false;
        }
        // The message is built before the claim so that the record can keep it for the sweeper.
        let message = QueueMessage::new(P::NAME, &event_id, delivery, parsed.body, now, attempt_id);
        // Only escaping can make it outgrow its bound; a body that does is as good as too large.
        if message.body.len() > self.settings.max_body_bytes + ENVELOPE_OVERHEAD_BYTES {
            return Err(Rejection::PayloadTooLarge {
                limit: self.settings.max_body_bytes,
            });
        }
        let claim = Claim {
            message,
            payload_sha256: request.body_sha256().to_string(),
            claim_id: attempt_id.to_string(),
            now,
            lease_expires_at: now.saturating_add_unsigned(self.settings.lease_seconds),
            expires_at: now.saturating_add_unsigned(self.settings.retention_seconds),
        };
        // Every line written during the handoff (the SDK's retries included) names the event.
        let span = tracing::info_span!("delivery", event_id = event_id.as_str());
        let outcome = self.hand_off(&claim).instrument(span).await;
        Ok(Handled {
            event_id,
            event_type: parsed.delivery.event_type,
            recognized: parsed.delivery.recognized,
            subscription: parsed.delivery.subscription,
            outcome,
        })
    }

    /// Claim → send → mark, for an identified delivery.
    async fn hand_off(&self, claim: &Claim) -> Outcome {
        let event_id = claim.message.event_id.as_str();
        match self.store.claim(claim).await {
            Err(e) => {
                return Outcome::Unavailable {
                    reason: e.to_string(),
                }
            }
            Ok(ClaimOutcome::Duplicate) => return Outcome::Duplicate,
            Ok(ClaimOutcome::Conflict) => return Outcome::Conflict,
            Ok(ClaimOutcome::InProgress {
                retry_after_seconds,
            }) => {
                return Outcome::InProgress {
                    retry_after_seconds,
                }
            }
            Ok(ClaimOutcome::Claimed) => {}
        }

        if let Err(e) = self.queue.send(&claim.message).await {
            // Best effort: if this fails too, the lease simply runs out.
            if let Err(e) = self.store.release(event_id, &claim.claim_id).await {
                tracing::warn!(error = %e, "could not release the claim after a failed send");
            }
            return Outcome::Unavailable {
                reason: e.to_string(),
            };
        }
        // The event is in the queue: the answer is 2xx whatever happens next. If this update
        // fails, the record stays RECEIVED and a retry after the lease re-sends (at least once).
        if let Err(e) = self
            .store
            .mark_enqueued(event_id, &claim.claim_id, claim.now)
            .await
        {
            tracing::warn!(error = %e, "event queued but its record was not marked ENQUEUED");
        }
        Outcome::Accepted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::test_config;
    use crate::digest::sha256_hex;
    use crate::providers::argyle::Argyle;
    use crate::queue::MemoryEventQueue;
    use crate::store::{MemoryEventStore, RecordStatus};
    use crate::verify::hmac_hex::{HexHmacSha512, ARGYLE_SIGNATURE_HEADER};
    use http::{HeaderMap, HeaderValue};

    const BODY: &str = r#"{"event":"identities.added","name":"s","data":{"account":"a","user":"u","identity":"i-1"}}"#;
    const NOW: i64 = 1_800_000_000;

    type Memory = Pipeline<Argyle, MemoryEventStore, MemoryEventQueue>;

    fn pipeline() -> Memory {
        let settings = Settings {
            max_body_bytes: 1024,
            retention_seconds: 600,
            lease_seconds: 30,
        };
        let argyle = Argyle::from_config(&test_config("secret")).unwrap();
        Pipeline::new(
            argyle,
            MemoryEventStore::default(),
            MemoryEventQueue::default(),
            settings,
        )
    }

    fn signed(body: &str) -> WebhookRequest {
        let mut headers = HeaderMap::new();
        let signature = HexHmacSha512::signature("secret", body.as_bytes());
        headers.insert(
            ARGYLE_SIGNATURE_HEADER,
            HeaderValue::from_str(&signature).unwrap(),
        );
        WebhookRequest::post(headers, body)
    }

    async fn outcome(p: &Memory, request: &WebhookRequest, attempt: &str, now: i64) -> Outcome {
        p.handle(request, attempt, now).await.unwrap().outcome
    }

    #[tokio::test]
    async fn new_event_is_claimed_sent_and_marked() {
        let p = pipeline();
        let handled = p.handle(&signed(BODY), "r1", NOW).await.unwrap();
        let event_id = format!("argyle#{}", sha256_hex(BODY.as_bytes()));
        assert_eq!(handled.event_id, event_id);
        assert_eq!(handled.outcome, Outcome::Accepted);
        let record = p.store().record(&event_id).unwrap();
        assert_eq!(record.status, RecordStatus::Enqueued);
        assert_eq!(record.expires_at, NOW + 600);
        let messages = p.queue().messages();
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].group, "i-1");
    }

    #[tokio::test]
    async fn duplicate_sends_nothing() {
        let p = pipeline();
        assert_eq!(
            outcome(&p, &signed(BODY), "r1", NOW).await,
            Outcome::Accepted
        );
        assert_eq!(
            outcome(&p, &signed(BODY), "r2", NOW + 5).await,
            Outcome::Duplicate
        );
        assert_eq!(p.queue().messages().len(), 1);
        // After the retention window the same bytes are a new event.
        assert_eq!(
            outcome(&p, &signed(BODY), "r3", NOW + 600).await,
            Outcome::Accepted
        );
        assert_eq!(p.queue().messages().len(), 2);
    }

    #[tokio::test]
    async fn failed_send_releases_the_claim_so_the_retry_delivers_once() {
        let p = pipeline();
        p.queue().fail_next(1);
        assert!(matches!(
            outcome(&p, &signed(BODY), "r1", NOW).await,
            Outcome::Unavailable { .. }
        ));
        assert!(p.queue().messages().is_empty());
        let event_id = format!("argyle#{}", sha256_hex(BODY.as_bytes()));
        assert_eq!(
            p.store().record(&event_id).unwrap().status,
            RecordStatus::Received
        );
        assert_eq!(
            outcome(&p, &signed(BODY), "r2", NOW + 1).await,
            Outcome::Accepted
        );
        assert_eq!(p.queue().messages().len(), 1);
    }

    #[tokio::test]
    async fn live_claim_answers_in_progress_until_its_lease_lapses() {
        let p = pipeline();
        let event_id = format!("argyle#{}", sha256_hex(BODY.as_bytes()));
        let claim = Claim {
            message: QueueMessage {
                event_id: event_id.clone(),
                provider: "argyle".into(),
                event_type: "identities.added".into(),
                group: "i-1".into(),
                deduplication_id: "d".into(),
                body: "{}".into(),
                replay_id: None,
            },
            payload_sha256: sha256_hex(BODY.as_bytes()),
            claim_id: "crashed".into(),
            now: NOW,
            lease_expires_at: NOW + 30,
            expires_at: NOW + 600,
        };
        // An attempt that claimed and then died before sending.
        assert_eq!(p.store().claim(&claim).await, Ok(ClaimOutcome::Claimed));
        assert_eq!(
            outcome(&p, &signed(BODY), "r2", NOW + 10).await,
            Outcome::InProgress {
                retry_after_seconds: 20
            }
        );
        assert!(p.queue().messages().is_empty());
        assert_eq!(
            outcome(&p, &signed(BODY), "r3", NOW + 30).await,
            Outcome::Accepted
        );
        assert_eq!(p.queue().messages().len(), 1);
    }

    #[tokio::test]
    async fn refusals_touch_neither_store_nor_queue() {
        let p = pipeline();
        let mut get = signed(BODY);
        get.method = Method::GET;
        assert_eq!(
            p.handle(&get, "r", NOW).await,
            Err(Rejection::MethodNotAllowed("GET".into()))
        );
        let mut custom = signed(BODY);
        custom.method = Method::from_bytes(b"SECRETMARKER").unwrap();
        assert_eq!(
            p.handle(&custom, "r", NOW).await,
            Err(Rejection::MethodNotAllowed("(non-standard)".into()))
        );
        let mut tampered = signed(BODY);
        tampered.body = BODY.replace("i-1", "i-2").into_bytes();
        assert!(matches!(
            p.handle(&tampered, "r", NOW).await,
            Err(Rejection::Unauthorized(_))
        ));
        let big = format!(r#"{{"event":"{}"}}"#, "x".repeat(2000));
        assert_eq!(
            p.handle(&signed(&big), "r", NOW).await,
            Err(Rejection::PayloadTooLarge { limit: 1024 })
        );
        assert!(matches!(
            p.handle(&signed(r#"{"event":1}"#), "r", NOW).await,
            Err(Rejection::InvalidPayload(_))
        ));
        assert!(p.store().is_empty());
        assert!(p.queue().messages().is_empty());
    }
}
