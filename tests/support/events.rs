//! Invocation events in the three shapes API Gateway and function URLs send, and their answers.

use base64::Engine;
use hookline::queue::EventQueue;
use hookline::store::EventStore;
use hookline::{Pipeline, Provider};
use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicU32, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// API Gateway HTTP API, payload format 2.0.
    HttpApiV2,
    /// API Gateway REST API, payload format 1.0.
    RestV1,
    /// Lambda function URL (format 2.0, no route key, a lambda-url domain).
    FunctionUrl,
}

fn header_map(headers: &[(String, String)]) -> Map<String, Value> {
    headers
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect()
}

/// An invocation event under construction: a signed POST through an HTTP API unless told
/// otherwise.
#[derive(Debug, Clone)]
pub struct Event {
    shape: Shape,
    method: String,
    headers: Vec<(String, String)>,
    query: Vec<(String, String)>,
    /// The event's `body` field: the payload, or its base64 once `base64()` was called.
    body: String,
    base64: bool,
}

impl Event {
    pub fn new(headers: &[(String, String)], body: &str) -> Self {
        Self {
            shape: Shape::HttpApiV2,
            method: "POST".into(),
            headers: headers.to_vec(),
            query: Vec::new(),
            body: body.to_string(),
            base64: false,
        }
    }

    pub fn shape(mut self, shape: Shape) -> Self {
        self.shape = shape;
        self
    }

    pub fn method(mut self, method: &str) -> Self {
        self.method = method.into();
        self
    }

    pub fn query(mut self, query: &[(&str, &str)]) -> Self {
        self.query = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self
    }

    /// Base64-encodes the body, as API Gateway does for binary media types.
    pub fn base64(mut self) -> Self {
        self.body = base64::engine::general_purpose::STANDARD.encode(&self.body);
        self.base64 = true;
        self
    }

    /// Puts `field` in the event's body field as is, marked base64 (malformed-base64 tests).
    pub fn raw_base64_body(mut self, field: &str) -> Self {
        self.body = field.into();
        self.base64 = true;
        self
    }

    pub fn build(&self) -> Value {
        event_json(self)
    }
}

fn event_json(e: &Event) -> Value {
    let body = e.body.clone();
    let headers = header_map(&e.headers);
    let method = e.method.as_str();
    let query: Map<String, Value> = e
        .query
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let raw_query = e
        .query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let query = if query.is_empty() {
        Value::Null
    } else {
        Value::Object(query)
    };
    match e.shape {
        Shape::HttpApiV2 | Shape::FunctionUrl => {
            let (route_key, domain) = if e.shape == Shape::HttpApiV2 {
                (
                    format!("{method} /webhooks"),
                    "abc123.execute-api.us-east-1.amazonaws.com",
                )
            } else {
                ("$default".to_string(), "abc123.lambda-url.us-east-1.on.aws")
            };
            let mut event = json!({
                "version": "2.0", "routeKey": route_key, "rawPath": "/webhooks", "rawQueryString": raw_query,
                "headers": headers,
                "requestContext": {
                    "accountId": "123456789012", "apiId": "abc123", "domainName": domain,
                    "domainPrefix": "abc123", "requestId": "req", "routeKey": route_key, "stage": "$default",
                    "time": "23/Nov/2026:10:00:00 +0000", "timeEpoch": 1795428000000u64,
                    "http": {"method": method, "path": "/webhooks", "protocol": "HTTP/1.1",
                             "sourceIp": "192.0.2.1", "userAgent": "test"}
                },
                "body": body, "isBase64Encoded": e.base64
            });
            if !query.is_null() {
                event["queryStringParameters"] = query;
            }
            event
        }
        Shape::RestV1 => {
            let multi: Map<String, Value> = headers
                .iter()
                .map(|(k, v)| (k.clone(), json!([v])))
                .collect();
            json!({
                "resource": "/webhooks", "path": "/prod/webhooks", "httpMethod": method,
                "headers": headers, "multiValueHeaders": multi,
                "queryStringParameters": query, "multiValueQueryStringParameters": null,
                "pathParameters": null, "stageVariables": null,
                "requestContext": {
                    "accountId": "123456789012", "apiId": "abc123", "httpMethod": method,
                    "path": "/prod/webhooks", "stage": "prod", "requestId": "req",
                    "resourcePath": "/webhooks", "protocol": "HTTP/1.1",
                    "identity": {"sourceIp": "192.0.2.1"}
                },
                "body": body, "isBase64Encoded": e.base64
            })
        }
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

/// Invokes the pipeline as the Lambda runtime does, with a fresh request id each time.
pub async fn invoke<P: Provider, S: EventStore, Q: EventQueue>(
    pipeline: &Pipeline<P, S, Q>,
    event: Value,
) -> Response {
    static REQUESTS: AtomicU32 = AtomicU32::new(0);
    let request_id = format!("request-{}", REQUESTS.fetch_add(1, Ordering::SeqCst));
    parse_response(pipeline.handle_event(event, &request_id).await)
}

/// As [`invoke`] at a given Unix time, for replay-window tests.
pub async fn invoke_at<P: Provider, S: EventStore, Q: EventQueue>(
    pipeline: &Pipeline<P, S, Q>,
    event: Value,
    now: i64,
) -> Response {
    parse_response(pipeline.handle_event_at(event, "request-at", now).await)
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
