//! The Lambda edge: raw invocation events in, proxy responses out.
//!
//! We read the raw event rather than letting `lambda_http` convert it, because its conversion
//! panics on malformed base64 (we answer 400) and tries the REST shape before the HTTP API shape
//! (`cargo lambda watch` adds a stray `httpMethod` to function-URL events).
//!
//! The runtime deserializes the invocation's bytes straight into [`InvocationEvent`], in one
//! pass: only the fields a delivery needs are kept, everything else is skipped unread. That type
//! never fails on a JSON object: a field of the wrong type is remembered as unusable and refused
//! by [`InvocationEvent::decode`], in the caller's shape, instead of becoming a runtime error.

mod reading;
mod request_event;

pub use request_event::{encode_request, EventSource};

use crate::rejection::Rejection;
use crate::request::WebhookRequest;
use crate::response::HttpResponse;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use lambda_http::aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayV2httpResponse};
use lambda_http::Body;
use serde_json::Value;
use std::collections::HashMap;

/// Which response format the caller expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventShape {
    /// API Gateway REST API (payload format 1.0).
    RestV1,
    /// API Gateway HTTP API (payload format 2.0) and Lambda function URLs.
    HttpV2,
}

/// The fields of an API Gateway (REST or HTTP API) or function URL event that a delivery
/// needs, as read from the invocation: `version`, `httpMethod`, `headers`,
/// `multiValueHeaders`, `queryStringParameters`, `requestContext.http.method`, `body`,
/// `isBase64Encoded`. Which of them count depends on the shape, so each is only checked by
/// [`Self::decode`], once the whole event has been read.
#[derive(Debug, Default)]
pub struct InvocationEvent {
    version: Option<Field>,
    http_method: Option<Field>,
    headers: Option<Field>,
    multi_value_headers: Option<Field>,
    query_string_parameters: Option<Field>,
    /// `requestContext.http.method`; `Some(Field::Other)` when `requestContext` or its `http`
    /// is there but not an object.
    context_method: Option<Field>,
    body: Option<Field>,
    is_base64_encoded: Option<Field>,
}

/// One field's value, read only as deep as the event's fields go: a string, a flag, null, or
/// (for `headers`, `multiValueHeaders` and `queryStringParameters`) the map the request keeps,
/// built while the event is read. Whatever else stands there (a number, a deeper structure, a
/// header HTTP cannot carry) is `Other`, skipped unread: a refusal, never an error of the
/// runtime's deserialization.
#[derive(Debug, Clone, PartialEq)]
enum Field {
    Text(String),
    Flag(bool),
    Null,
    /// Every value of every header, a header named twice repeated, never chosen.
    Headers(HeaderMap),
    /// Each parameter's first value as sent (a 2.0 event's commas are split by its shape).
    Parameters(HashMap<String, String>),
    Other,
}

/// A field that holds none of the types its shape allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Unusable;

/// Reads the invocation's bytes exactly as `lambda_runtime` does before our handler runs
/// (`serde_json` over the slice, behind `serde_path_to_error`): the benchmarks and the tests'
/// harness start here. Fails only on bytes that are not JSON, which Lambda never delivers.
pub fn read_invocation(bytes: &[u8]) -> Result<InvocationEvent, serde_json::Error> {
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(deserializer).map_err(serde_path_to_error::Error::into_inner)
}

impl From<Value> for InvocationEvent {
    /// The event as the runtime would read it from the value's JSON text (fixtures, tests).
    fn from(event: Value) -> Self {
        // Reading a value cannot fail: every type it can hold has its reading.
        serde::Deserialize::deserialize(event).unwrap_or_default()
    }
}

/// Reads an invocation event given as a JSON value (fixtures, tools, tests); see
/// [`InvocationEvent::decode`].
pub fn decode(
    event: Value,
    max_body_bytes: usize,
) -> (EventShape, Result<WebhookRequest, Rejection>) {
    InvocationEvent::from(event).decode(max_body_bytes)
}

impl InvocationEvent {
    /// The request the event carries. The shape is known even when the request is refused, so
    /// that the refusal is answered in the format the caller understands.
    pub fn decode(self, max_body_bytes: usize) -> (EventShape, Result<WebhookRequest, Rejection>) {
        if matches!(&self.version, Some(Field::Text(v)) if v == "2.0") {
            let request = self
                .http_v2(max_body_bytes)
                .and_then(|r| r.map_err(|Unusable| unsupported("an HTTP API 2.0")));
            return (EventShape::HttpV2, request);
        }
        if self.http_method.is_some() {
            let request = self
                .rest_v1(max_body_bytes)
                .and_then(|r| r.map_err(|Unusable| unsupported("a REST API")));
            return (EventShape::RestV1, request);
        }
        let error = Rejection::UnsupportedEvent("neither version 2.0 nor httpMethod".into());
        (EventShape::HttpV2, Err(error))
    }

    /// The outer result refuses the body (size, base64), the inner one the event's fields.
    fn http_v2(self, limit: usize) -> Result<Result<WebhookRequest, Unusable>, Rejection> {
        let fields = (|| {
            let method = method(self.context_method.as_ref().ok_or(Unusable)?)?;
            let headers = headers(self.headers)?;
            // HTTP APIs join repeated parameters with commas: the first value is before one.
            let query = first_values(self.query_string_parameters, true)?;
            Ok((method, headers, query))
        })();
        Self::request(fields, self.body, self.is_base64_encoded, limit)
    }

    fn rest_v1(self, limit: usize) -> Result<Result<WebhookRequest, Unusable>, Rejection> {
        let fields = (|| {
            let method = method(self.http_method.as_ref().ok_or(Unusable)?)?;
            let single = headers(self.headers)?;
            let multi = headers(self.multi_value_headers)?;
            // multiValueHeaders, when present, holds every value of repeated headers.
            let headers = if multi.is_empty() { single } else { multi };
            let query = first_values(self.query_string_parameters, false)?;
            Ok((method, headers, query))
        })();
        Self::request(fields, self.body, self.is_base64_encoded, limit)
    }

    /// The fields are checked before the body, as one deserialization of the whole event did.
    fn request(
        fields: Result<(Method, HeaderMap, HashMap<String, String>), Unusable>,
        body_field: Option<Field>,
        base64_field: Option<Field>,
        limit: usize,
    ) -> Result<Result<WebhookRequest, Unusable>, Rejection> {
        let (method, headers, query) = match fields {
            Ok(fields) => fields,
            Err(unusable) => return Ok(Err(unusable)),
        };
        let raw = match body_field {
            None | Some(Field::Null) => String::new(),
            Some(Field::Text(text)) => text,
            Some(_) => return Ok(Err(Unusable)),
        };
        let base64 = match base64_field {
            None | Some(Field::Null) => false,
            Some(Field::Flag(flag)) => flag,
            Some(_) => return Ok(Err(Unusable)),
        };
        Ok(Ok(WebhookRequest {
            method,
            headers,
            query,
            body: body(raw, base64, limit)?,
            body_sha256: Default::default(),
        }))
    }
}

/// The refusal of an event whose fields do not fit its shape, by category only: the value is
/// the sender's (a token, personal data, anything), and the reason reaches the log line.
fn unsupported(shape: &str) -> Rejection {
    Rejection::UnsupportedEvent(format!(
        "{shape} event that does not deserialize: a field has the wrong type or value"
    ))
}

fn method(field: &Field) -> Result<Method, Unusable> {
    match field {
        // API Gateway's own reading of an empty method.
        Field::Text(text) if text.is_empty() => Ok(Method::GET),
        Field::Text(text) => Method::from_bytes(text.as_bytes()).map_err(|_| Unusable),
        _ => Err(Unusable),
    }
}

/// `headers` or `multiValueHeaders`, as read (see [`HeadersField`]).
fn headers(field: Option<Field>) -> Result<HeaderMap, Unusable> {
    match field {
        None | Some(Field::Null) => Ok(HeaderMap::new()),
        Some(Field::Headers(headers)) => Ok(headers),
        Some(_) => Err(Unusable),
    }
}

/// The first value of each query-string parameter; with `split_commas`, what comes before its
/// first comma (HTTP APIs join repeated parameters).
fn first_values(
    field: Option<Field>,
    split_commas: bool,
) -> Result<HashMap<String, String>, Unusable> {
    let mut first = match field {
        None | Some(Field::Null) => return Ok(HashMap::new()),
        Some(Field::Parameters(parameters)) => parameters,
        Some(_) => return Err(Unusable),
    };
    if split_commas {
        for value in first.values_mut() {
            if let Some(comma) = value.find(',') {
                value.truncate(comma);
            }
        }
    }
    Ok(first)
}

fn body(raw: String, base64: bool, limit: usize) -> Result<Vec<u8>, Rejection> {
    let too_large = Rejection::PayloadTooLarge { limit };
    if !base64 {
        return if raw.len() > limit {
            Err(too_large)
        } else {
            Ok(raw.into_bytes())
        };
    }
    // Refuse before decoding: base64 is 4 characters per 3 bytes, less up to 2 of padding.
    if (raw.len() / 4 * 3).saturating_sub(2) > limit {
        return Err(too_large);
    }
    let bytes = STANDARD
        .decode(raw.trim())
        .map_err(|_| Rejection::MalformedBase64)?;
    if bytes.len() > limit {
        return Err(too_large);
    }
    Ok(bytes)
}

/// Writes a response in the shape the caller sent its event in.
pub fn encode(shape: EventShape, response: HttpResponse) -> Value {
    let mut headers = HeaderMap::new();
    for (name, value) in &response.headers {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
    let status_code = i64::from(response.status);
    let body = Some(Body::Text(response.body));
    let encoded = match shape {
        EventShape::RestV1 => {
            let mut r = ApiGatewayProxyResponse::default();
            (r.status_code, r.headers, r.body) = (status_code, headers, body);
            serde_json::to_value(r)
        }
        EventShape::HttpV2 => {
            let mut r = ApiGatewayV2httpResponse::default();
            (r.status_code, r.headers, r.body) = (status_code, headers, body);
            serde_json::to_value(r)
        }
    };
    encoded.expect("a proxy response serializes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v2(body: &str, base64: bool) -> Value {
        json!({
            "version": "2.0", "routeKey": "POST /webhooks/argyle", "rawPath": "/webhooks/argyle",
            "rawQueryString": "event=identity.deleted",
            "headers": {"content-type": "application/json", "x-argyle-signature": "ab"},
            "queryStringParameters": {"event": "identity.deleted"},
            "requestContext": {"http": {"method": "POST", "path": "/webhooks/argyle"}, "requestId": "r"},
            "body": body, "isBase64Encoded": base64
        })
    }

    #[test]
    fn v2_plain_and_base64_bodies() {
        let (shape, request) = decode(v2("{\"a\":1}", false), 100);
        let request = request.unwrap();
        assert_eq!(shape, EventShape::HttpV2);
        assert_eq!(request.method, http::Method::POST);
        assert_eq!(request.body, b"{\"a\":1}");
        assert_eq!(request.single_header("X-Argyle-Signature"), Some("ab"));
        assert_eq!(
            request.query.get("event").map(String::as_str),
            Some("identity.deleted")
        );
        let (_, request) = decode(v2("eyJhIjoxfQ==", true), 100);
        assert_eq!(request.unwrap().body, b"{\"a\":1}");
    }

    #[test]
    fn malformed_base64_is_a_rejection_not_a_panic() {
        let (_, request) = decode(v2("not*base64", true), 100);
        assert_eq!(request.unwrap_err(), Rejection::MalformedBase64);
    }

    #[test]
    fn size_limit_applies_before_and_after_decoding() {
        let (_, r) = decode(v2(&"a".repeat(101), false), 100);
        assert_eq!(r.unwrap_err(), Rejection::PayloadTooLarge { limit: 100 });
        let encoded = STANDARD.encode(vec![b'x'; 101]);
        let (_, r) = decode(v2(&encoded, true), 100);
        assert_eq!(r.unwrap_err(), Rejection::PayloadTooLarge { limit: 100 });
        let encoded = STANDARD.encode(vec![b'x'; 100]);
        assert_eq!(decode(v2(&encoded, true), 100).1.unwrap().body.len(), 100);
    }

    #[test]
    fn function_url_event_with_stray_http_method_is_read_as_v2() {
        // cargo lambda watch adds "httpMethod": "GET" to function-URL events.
        let mut event = v2("{}", false);
        event["httpMethod"] = json!("GET");
        let (shape, request) = decode(event, 100);
        assert_eq!(shape, EventShape::HttpV2);
        assert_eq!(request.unwrap().method, http::Method::POST);
    }

    #[test]
    fn v1_rest_event_with_repeated_headers() {
        let event = json!({
            "resource": "/webhooks/baack", "path": "/prod/webhooks/baack", "httpMethod": "POST",
            "headers": {"Authorization": "Bearer b"},
            "multiValueHeaders": {"Authorization": ["Bearer a", "Bearer b"]},
            "queryStringParameters": null, "multiValueQueryStringParameters": null,
            "pathParameters": null, "stageVariables": null,
            "requestContext": {"httpMethod": "POST", "path": "/prod/webhooks/baack", "stage": "prod", "requestId": "r",
                               "resourcePath": "/webhooks/baack", "accountId": "1", "apiId": "a", "identity": {}},
            "body": "{}", "isBase64Encoded": false
        });
        let (shape, request) = decode(event, 100);
        let request = request.unwrap();
        assert_eq!(shape, EventShape::RestV1);
        assert_eq!(request.headers.get_all("authorization").iter().count(), 2);
        assert_eq!(request.single_header("authorization"), None);
    }

    #[test]
    fn encoded_requests_decode_to_the_same_request() {
        let mut headers = http::HeaderMap::new();
        headers.insert("x-token", http::HeaderValue::from_static("t"));
        headers.append("x-token", http::HeaderValue::from_static("u"));
        let mut request = WebhookRequest::post(headers, "{\"a\":1}");
        request
            .query
            .insert("event".into(), "identity.deleted".into());
        for source in [
            EventSource::HttpApi,
            EventSource::RestApi,
            EventSource::FunctionUrl,
        ] {
            for base64 in [false, true] {
                let (_, decoded) =
                    decode(encode_request(&request, source, "/webhooks/x", base64), 100);
                let decoded = decoded.unwrap();
                assert_eq!(decoded.body, request.body, "{source:?}");
                assert_eq!(decoded.query, request.query, "{source:?}");
                assert_eq!(decoded.method, http::Method::POST);
                assert!(decoded.headers.contains_key("x-token"));
            }
        }
        let binary = WebhookRequest::post(http::HeaderMap::new(), vec![0xff, 0x00]);
        let event = encode_request(&binary, EventSource::HttpApi, "/", false);
        assert_eq!(event["isBase64Encoded"], true);
    }

    #[test]
    fn unknown_events_are_refused() {
        let (shape, r) = decode(json!({"Records": []}), 100);
        assert_eq!(shape, EventShape::HttpV2);
        assert!(matches!(r, Err(Rejection::UnsupportedEvent(_))));
        let (_, r) = decode(json!({"version": "2.0"}), 100);
        assert!(matches!(r, Err(Rejection::UnsupportedEvent(_))));
    }

    #[test]
    fn undecodable_events_are_refused_without_their_values() {
        const MARKER: &str = "SECRET-MARKER-41c9";
        let mut bad_value = v2("{}", false);
        bad_value["headers"]["x-argyle-signature"] = json!(format!("{MARKER}\u{1}"));
        let mut bad_name = v2("{}", false);
        bad_name["headers"][format!("{MARKER} name")] = json!("v");
        let mut bad_type = v2("{}", false);
        bad_type["body"] = json!([MARKER]);
        for event in [bad_value, bad_name, bad_type] {
            let (shape, r) = decode(event, 100);
            assert_eq!(shape, EventShape::HttpV2);
            assert_eq!(
                r.unwrap_err(),
                Rejection::UnsupportedEvent(
                    "an HTTP API 2.0 event that does not deserialize: a field has the wrong \
                     type or value"
                        .into()
                )
            );
        }
        let rest =
            json!({"httpMethod": "POST", "headers": {"authorization": format!("{MARKER}\n")}});
        let (shape, r) = decode(rest, 100);
        assert_eq!(shape, EventShape::RestV1);
        let message = r.unwrap_err().to_string();
        assert_eq!(
            message,
            "not an API Gateway or function URL event: a REST API event that does not \
             deserialize: a field has the wrong type or value"
        );
    }

    /// The runtime's own reading of the bytes: never an error for a JSON event, whatever its
    /// fields hold, so every refusal is an HTTP answer.
    #[test]
    fn the_runtime_reads_every_json_event_and_wrong_types_are_refused() {
        let read = |event: Value| {
            read_invocation(&serde_json::to_vec(&event).unwrap())
                .unwrap()
                .decode(100)
        };
        for (field, value) in [
            ("headers", json!(["a"])),
            ("headers", json!({"x-a": 1})),
            ("headers", json!({"x-a": null})),
            ("queryStringParameters", json!("event=a")),
            ("isBase64Encoded", json!("yes")),
            ("body", json!(7)),
            ("requestContext", json!("r")),
        ] {
            let mut event = v2("{}", false);
            event[field] = value;
            let (shape, r) = read(event);
            assert_eq!(shape, EventShape::HttpV2, "{field}");
            assert!(matches!(r, Err(Rejection::UnsupportedEvent(_))), "{field}");
        }
        let mut event = v2("{}", false);
        event["requestContext"]["http"]["method"] = json!({"a": [1]});
        assert!(read(event).1.is_err());
        // Fields this crate does not read are skipped unread, whatever they hold.
        let mut event = v2("{}", false);
        event["requestContext"]["timeEpoch"] = json!("not a number");
        event["multiValueHeaders"] = json!(5);
        event["cookies"] = json!({"deep": [[[{}]]]});
        assert_eq!(read(event).1.unwrap().body, b"{}");
        for other in [json!([1]), json!("x"), json!(1), json!(null)] {
            assert!(matches!(read(other).1, Err(Rejection::UnsupportedEvent(_))));
        }
    }

    /// The runtime's reader hands names over as bytes: an escaped name is the name it spells,
    /// a header sent in two cases is one header with every value, and a name HTTP cannot carry
    /// is a refusal.
    #[test]
    fn the_runtime_reads_names_as_sent() {
        let event = br#"{"version":"2.0","requestContext":{"http":{"m\u0065thod":"POST"}},
            "h\u0065aders":{"X-Token":"a","x-token":["b","c"],"content-type":"application/json"},
            "queryStringParameters":{"\u0065vent":"a,b","event":"c"},"body":"{}"}"#;
        let request = read_invocation(event).unwrap().decode(100).1.unwrap();
        assert_eq!(request.method, http::Method::POST);
        let tokens: Vec<_> = request.headers.get_all("x-token").iter().collect();
        assert_eq!(tokens, ["a", "b", "c"]);
        assert_eq!(
            request.single_header("content-type"),
            Some("application/json")
        );
        // The first time a parameter is named counts, cut at its first comma (2.0).
        assert_eq!(request.query.get("event").map(String::as_str), Some("a"));
        for headers in [
            r#"{"bad name":"v"}"#,
            r#"{"x-a":["v",1]}"#,
            r#"{"x-a":"\u0001"}"#,
        ] {
            let event = format!(r#"{{"version":"2.0","headers":{headers},"body":"{{}}"}}"#);
            let (_, r) = read_invocation(event.as_bytes()).unwrap().decode(100);
            assert!(
                matches!(r, Err(Rejection::UnsupportedEvent(_))),
                "{headers}"
            );
        }
        // A lone surrogate escape is no text: the runtime's bytes for it are not UTF-8.
        let event = br#"{"version":"2.0","queryStringParameters":{"\udc00":"v"},"body":"{}"}"#;
        let (_, r) = read_invocation(event).unwrap().decode(100);
        assert!(matches!(r, Err(Rejection::UnsupportedEvent(_))));
    }

    #[test]
    fn query_values_are_read_as_each_shape_sends_them() {
        let mut event = v2("{}", false);
        event["queryStringParameters"] = json!({"event": "a,b", "list": ["c", "d"], "none": []});
        let query = decode(event, 100).1.unwrap().query;
        assert_eq!(query.get("event").map(String::as_str), Some("a"));
        assert_eq!(query.get("list").map(String::as_str), Some("c"));
        assert!(!query.contains_key("none"));
        let rest = json!({"httpMethod": "POST", "queryStringParameters": {"event": "a,b"}});
        let query = decode(rest, 100).1.unwrap().query;
        assert_eq!(query.get("event").map(String::as_str), Some("a,b"));
    }

    #[test]
    fn responses_match_the_event_shape() {
        let response = HttpResponse {
            status: 401,
            headers: vec![("content-type", "application/json".into())],
            body: "{\"status\":\"rejected\"}".into(),
        };
        let v1 = encode(EventShape::RestV1, response.clone());
        assert_eq!(v1["statusCode"], 401);
        assert_eq!(v1["headers"]["content-type"], "application/json");
        assert_eq!(v1["body"], "{\"status\":\"rejected\"}");
        assert_eq!(v1["isBase64Encoded"], false);
        let v2 = encode(EventShape::HttpV2, response);
        assert_eq!(v2["statusCode"], 401);
        assert_eq!(v2["body"], "{\"status\":\"rejected\"}");
    }
}
