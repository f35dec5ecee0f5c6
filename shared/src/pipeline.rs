//! The handling of one delivery: verify → parse → key → claim → send → mark.
//!
//! The invariant: answer 2xx only once the event is durably in the queue, by this attempt or an
//! earlier one. Everything else answers with a status that makes the provider retry, and leaves
//! the record in a state from which that retry completes the handoff.

use crate::envelope::QueueMessage;
use crate::provider::{sha256_hex, Provider};
use crate::queue::EventQueue;
use crate::rejection::Rejection;
use crate::request::WebhookRequest;
use crate::store::{Claim, ClaimOutcome, EventStore};
use http::Method;

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

/// An identified delivery and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handled {
    pub event_id: String,
    pub event_type: String,
    pub recognized: bool,
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
            return Err(Rejection::MethodNotAllowed(request.method.to_string()));
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
        let delivery = self
            .provider
            .parse(request)
            .map_err(Rejection::InvalidPayload)?;
        let event_id = format!("{}#{}", P::NAME, delivery.dedup_key);
        let handled = |outcome| Handled {
            event_id: event_id.clone(),
            event_type: delivery.event_type.clone(),
            recognized: delivery.recognized,
            outcome,
        };

        let claim = Claim {
            event_id: event_id.clone(),
            provider: P::NAME.to_string(),
            event_type: delivery.event_type.clone(),
            payload_sha256: sha256_hex(&request.body),
            claim_id: attempt_id.to_string(),
            now,
            lease_expires_at: now.saturating_add_unsigned(self.settings.lease_seconds),
            expires_at: now.saturating_add_unsigned(self.settings.retention_seconds),
        };
        match self.store.claim(&claim).await {
            Err(e) => {
                return Ok(handled(Outcome::Unavailable {
                    reason: e.to_string(),
                }))
            }
            Ok(ClaimOutcome::Duplicate) => return Ok(handled(Outcome::Duplicate)),
            Ok(ClaimOutcome::Conflict) => return Ok(handled(Outcome::Conflict)),
            Ok(ClaimOutcome::InProgress {
                retry_after_seconds,
            }) => {
                return Ok(handled(Outcome::InProgress {
                    retry_after_seconds,
                }))
            }
            Ok(ClaimOutcome::Claimed) => {}
        }

        // The body parsed as the provider's JSON a moment ago, so this cannot fail in practice;
        // if it did, the claim is released like any other send failure.
        let sent = match QueueMessage::new(P::NAME, &event_id, &delivery, &request.body, now) {
            Ok(message) => self.queue.send(&message).await.map_err(|e| e.to_string()),
            Err(e) => Err(format!("envelope: {e}")),
        };
        if let Err(reason) = sent {
            // Best effort: if this fails too, the lease simply runs out.
            if let Err(e) = self.store.release(&event_id, attempt_id).await {
                tracing::warn!(event_id, error = %e, "could not release the claim after a failed send");
            }
            return Ok(handled(Outcome::Unavailable { reason }));
        }
        // The event is in the queue: the answer is 2xx whatever happens next. If this update
        // fails, the record stays RECEIVED and a retry after the lease re-sends (at least once).
        if let Err(e) = self.store.mark_enqueued(&event_id, now).await {
            tracing::warn!(event_id, error = %e, "event queued but its record was not marked ENQUEUED");
        }
        Ok(handled(Outcome::Accepted))
    }
}
