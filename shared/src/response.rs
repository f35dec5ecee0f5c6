//! The one place where outcomes and rejections become HTTP statuses and JSON bodies.

use crate::pipeline::{Handled, Outcome};
use crate::rejection::Rejection;
use serde_json::json;

/// Seconds a provider is asked to wait after a store or queue failure.
const UNAVAILABLE_RETRY_AFTER_SECONDS: u64 = 5;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    /// Always a short JSON object with a `status` field.
    pub body: String,
}

impl HttpResponse {
    fn new(status: u16, body: serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![("content-type", "application/json".to_string())],
            body: body.to_string(),
        }
    }

    fn with_header(mut self, name: &'static str, value: impl ToString) -> Self {
        self.headers.push((name, value.to_string()));
        self
    }

    /// The body as JSON (tests and tools).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_default()
    }
}

pub fn respond(result: &Result<Handled, Rejection>) -> HttpResponse {
    match result {
        Ok(handled) => handled_response(handled),
        Err(rejection) => rejection_response(rejection),
    }
}

fn handled_response(handled: &Handled) -> HttpResponse {
    let id = &handled.event_id;
    let status = handled.outcome.status();
    match &handled.outcome {
        Outcome::Accepted | Outcome::Duplicate => {
            HttpResponse::new(200, json!({"status": status, "event_id": id}))
        }
        Outcome::InProgress {
            retry_after_seconds,
        } => HttpResponse::new(
            503,
            json!({"status": status, "event_id": id,
                   "error": "an earlier delivery of this event is still being processed"}),
        )
        .with_header("retry-after", retry_after_seconds),
        Outcome::Conflict => HttpResponse::new(
            409,
            json!({"status": status, "event_id": id,
                   "error": "event id already received with a different payload"}),
        ),
        // The store or queue error stays in the log: it may name internal resources.
        Outcome::Unavailable { .. } => HttpResponse::new(
            503,
            json!({"status": status, "event_id": id,
                   "error": "event could not be stored or queued, retry later"}),
        )
        .with_header("retry-after", UNAVAILABLE_RETRY_AFTER_SECONDS),
    }
}

fn rejection_response(rejection: &Rejection) -> HttpResponse {
    let rejected = |status: u16, error: String| {
        HttpResponse::new(status, json!({"status": "rejected", "error": error}))
    };
    match rejection {
        Rejection::MethodNotAllowed(_) => {
            rejected(405, "method not allowed, use POST".into()).with_header("allow", "POST")
        }
        Rejection::PayloadTooLarge { limit } => {
            rejected(413, format!("body exceeds the {limit} byte limit"))
        }
        Rejection::MalformedBase64 => rejected(400, "body is not valid base64".into()),
        Rejection::UnsupportedEvent(_) => rejected(400, "unsupported event shape".into()),
        // Terse on purpose: which check failed is for our log, not for a forger.
        Rejection::Unauthorized(_) => rejected(401, "unauthorized".into()),
        Rejection::InvalidPayload(e) => rejected(400, e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json_text::PayloadError;
    use crate::verify::AuthFailure;

    fn handled(outcome: Outcome) -> Result<Handled, Rejection> {
        Ok(Handled {
            event_id: "argyle#k".into(),
            event_type: "t".into(),
            recognized: true,
            subscription: None,
            outcome,
        })
    }

    #[test]
    fn statuses_and_bodies() {
        let r = respond(&handled(Outcome::Accepted));
        assert_eq!(
            (r.status, r.body.as_str()),
            (200, r#"{"event_id":"argyle#k","status":"accepted"}"#)
        );
        assert_eq!(
            respond(&handled(Outcome::Duplicate)).json()["status"],
            "duplicate"
        );
        let r = respond(&handled(Outcome::InProgress {
            retry_after_seconds: 12,
        }));
        assert_eq!(r.status, 503);
        assert!(r.headers.contains(&("retry-after", "12".into())));
        assert_eq!(respond(&handled(Outcome::Conflict)).status, 409);
        let r = respond(&handled(Outcome::Unavailable {
            reason: "SendMessage failed: arn:aws:sqs:secret-internal".into(),
        }));
        assert_eq!(r.status, 503);
        assert!(!r.body.contains("arn:aws"));
    }

    #[test]
    fn rejections() {
        let r = respond(&Err(Rejection::MethodNotAllowed("GET".into())));
        assert_eq!(r.status, 405);
        assert!(r.headers.contains(&("allow", "POST".into())));
        assert_eq!(
            respond(&Err(Rejection::PayloadTooLarge { limit: 10 })).status,
            413
        );
        assert_eq!(respond(&Err(Rejection::MalformedBase64)).status, 400);
        let r = respond(&Err(Rejection::Unauthorized(AuthFailure::NoMatch)));
        assert_eq!(
            (r.status, r.body.as_str()),
            (401, r#"{"error":"unauthorized","status":"rejected"}"#)
        );
        let r = respond(&Err(Rejection::InvalidPayload(PayloadError {
            field: "trigger.urn".into(),
            message: "missing field `urn`".into(),
        })));
        assert_eq!(r.status, 400);
        assert_eq!(
            r.json()["error"],
            "invalid payload at trigger.urn: missing field `urn`"
        );
    }
}
