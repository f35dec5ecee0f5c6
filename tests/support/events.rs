//! Invocation events in the three shapes API Gateway and function URLs send, and their answers.

use hookline::lambda_event::{encode_request, read_invocation, InvocationEvent};
use hookline::queue::EventQueue;
use hookline::request::WebhookRequest;
use hookline::store::EventStore;
use hookline::{Pipeline, Provider};
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value};
use std::sync::atomic::{AtomicU32, Ordering};

pub use hookline::lambda_event::EventSource as Shape;

/// An invocation event under construction: a POST through an HTTP API unless told otherwise.
#[derive(Debug, Clone)]
pub struct Event {
    request: WebhookRequest,
    shape: Shape,
    base64: bool,
    /// Replaces the event's `body` field as is (malformed-base64 tests).
    raw_body_field: Option<String>,
}

impl Event {
    pub fn new(headers: &[(String, String)], body: &str) -> Self {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).expect("header name"),
                HeaderValue::from_str(value).expect("header value"),
            );
        }
        Self {
            request: WebhookRequest::post(map, body),
            shape: Shape::HttpApi,
            base64: false,
            raw_body_field: None,
        }
    }

    pub fn shape(mut self, shape: Shape) -> Self {
        self.shape = shape;
        self
    }

    pub fn method(mut self, method: &str) -> Self {
        self.request.method = method.parse().expect("method");
        self
    }

    pub fn query(mut self, query: &[(&str, &str)]) -> Self {
        self.request.query = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self
    }

    /// Base64-encodes the body, as API Gateway does for binary media types.
    pub fn base64(mut self) -> Self {
        self.base64 = true;
        self
    }

    /// Puts `field` in the event's body field as is, marked base64 (malformed-base64 tests).
    pub fn raw_base64_body(mut self, field: &str) -> Self {
        self.raw_body_field = Some(field.into());
        self.base64 = true;
        self
    }

    pub fn build(&self) -> Value {
        let mut event = encode_request(&self.request, self.shape, "/webhooks", self.base64);
        if let Some(field) = &self.raw_body_field {
            event["body"] = Value::String(field.clone());
        }
        event
    }
}

/// The parts of a proxy response a test asserts on.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub body: Value,
    pub headers: Map<String, Value>,
}

impl Response {
    pub fn status_field(&self) -> &str {
        self.body["status"].as_str().unwrap_or_default()
    }

    /// Asserts the status code and the body's `status` field together.
    #[track_caller]
    pub fn expect(&self, status: u16, outcome: &str) {
        assert_eq!(
            (self.status, self.status_field()),
            (status, outcome),
            "response body: {}",
            self.body
        );
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(Value::as_str)
    }
}

/// The event as the Lambda runtime hands it over: its bytes read into an `InvocationEvent`.
fn as_the_runtime_reads(event: &Value) -> InvocationEvent {
    let bytes = serde_json::to_vec(event).expect("an event serializes");
    read_invocation(&bytes).expect("the runtime reads every JSON event")
}

/// Invokes the pipeline as the Lambda runtime does, with a fresh request id each time.
pub async fn invoke<P: Provider, S: EventStore, Q: EventQueue>(
    pipeline: &Pipeline<P, S, Q>,
    event: Value,
) -> Response {
    static REQUESTS: AtomicU32 = AtomicU32::new(0);
    let request_id = format!("request-{}", REQUESTS.fetch_add(1, Ordering::SeqCst));
    parse_response(
        pipeline
            .handle_event(as_the_runtime_reads(&event), &request_id)
            .await,
    )
}

/// As [`invoke`] at a given Unix time, for replay-window tests.
pub async fn invoke_at<P: Provider, S: EventStore, Q: EventQueue>(
    pipeline: &Pipeline<P, S, Q>,
    event: Value,
    now: i64,
) -> Response {
    parse_response(
        pipeline
            .handle_event_at(as_the_runtime_reads(&event), "request-at", now)
            .await,
    )
}

fn parse_response(raw: Value) -> Response {
    let status = raw["statusCode"].as_u64().expect("statusCode") as u16;
    let body = serde_json::from_str(raw["body"].as_str().expect("text body")).expect("JSON body");
    let headers = raw["headers"].as_object().cloned().unwrap_or_default();
    Response {
        status,
        body,
        headers,
    }
}
