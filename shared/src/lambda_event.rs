//! The Lambda edge: raw invocation events in, proxy responses out.
//!
//! We read the raw event rather than letting `lambda_http` convert it, because its conversion
//! panics on malformed base64 (we answer 400) and tries the REST shape before the HTTP API shape
//! (`cargo lambda watch` adds a stray `httpMethod` to function-URL events).

use crate::rejection::Rejection;
use crate::request::WebhookRequest;
use crate::response::HttpResponse;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use http::{HeaderMap, HeaderName, HeaderValue};
use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayProxyRequest, ApiGatewayProxyResponse, ApiGatewayV2httpRequest,
    ApiGatewayV2httpResponse,
};
use lambda_http::aws_lambda_events::query_map::QueryMap;
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

/// Reads an invocation event. The shape is known even when the request is refused, so that the
/// refusal is answered in the format the caller understands.
pub fn decode(
    event: Value,
    max_body_bytes: usize,
) -> (EventShape, Result<WebhookRequest, Rejection>) {
    if event.get("version").and_then(Value::as_str) == Some("2.0") {
        let request = serde_json::from_value::<ApiGatewayV2httpRequest>(event)
            .map_err(|e| unsupported("an HTTP API 2.0", &e))
            .and_then(|e| {
                let body = body(e.body.as_deref(), e.is_base64_encoded, max_body_bytes)?;
                Ok(WebhookRequest {
                    method: e.request_context.http.method,
                    headers: e.headers,
                    query: first_values(&e.query_string_parameters),
                    body,
                    body_sha256: Default::default(),
                })
            });
        return (EventShape::HttpV2, request);
    }
    if event.get("httpMethod").is_some() {
        let request = serde_json::from_value::<ApiGatewayProxyRequest>(event)
            .map_err(|e| unsupported("a REST API", &e))
            .and_then(|e| {
                let body = body(e.body.as_deref(), e.is_base64_encoded, max_body_bytes)?;
                // multiValueHeaders, when present, holds every value of repeated headers.
                let headers = if e.multi_value_headers.is_empty() {
                    e.headers
                } else {
                    e.multi_value_headers
                };
                Ok(WebhookRequest {
                    method: e.http_method,
                    headers,
                    query: first_values(&e.query_string_parameters),
                    body,
                    body_sha256: Default::default(),
                })
            });
        return (EventShape::RestV1, request);
    }
    let error = Rejection::UnsupportedEvent("neither version 2.0 nor httpMethod".into());
    (EventShape::HttpV2, Err(error))
}

/// The refusal of an event that does not deserialize, by category only. serde's message quotes
/// the offending value (a header that is no valid HTTP header value, say), and that value is
/// the sender's: a token, personal data, anything. The reason reaches the log line, so it never
/// carries the message.
fn unsupported(shape: &str, error: &serde_json::Error) -> Rejection {
    let category = match error.classify() {
        serde_json::error::Category::Data => "a field has the wrong type or value",
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => "not JSON",
        serde_json::error::Category::Io => "unreadable",
    };
    Rejection::UnsupportedEvent(format!(
        "{shape} event that does not deserialize: {category}"
    ))
}

fn body(raw: Option<&str>, base64: bool, limit: usize) -> Result<Vec<u8>, Rejection> {
    let raw = raw.unwrap_or_default();
    let too_large = Rejection::PayloadTooLarge { limit };
    if !base64 {
        return if raw.len() > limit {
            Err(too_large)
        } else {
            Ok(raw.as_bytes().to_vec())
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

fn first_values(query: &QueryMap) -> HashMap<String, String> {
    let mut first = HashMap::new();
    for (key, value) in query.iter() {
        first
            .entry(key.to_string())
            .or_insert_with(|| value.to_string());
    }
    first
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

/// Where a generated event comes from: each source wraps a request its own way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventSource {
    /// API Gateway HTTP API, payload format 2.0.
    HttpApi,
    /// API Gateway REST API, payload format 1.0.
    RestApi,
    /// Lambda function URL (format 2.0, `$default` route, a lambda-url domain).
    FunctionUrl,
}

impl std::str::FromStr for EventSource {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "http-api" | "v2" => Ok(Self::HttpApi),
            "rest-api" | "v1" => Ok(Self::RestApi),
            "function-url" | "url" => Ok(Self::FunctionUrl),
            other => Err(format!(
                "unknown event source {other:?}: use http-api, rest-api or function-url"
            )),
        }
    }
}

/// The invocation event `source` would send for `request` on `path`: the inverse of [`decode`],
/// for fixtures (`sam local invoke -e`, `cargo lambda invoke --data-file`), tools and tests.
/// The body is base64-encoded when asked or when it is not UTF-8, as API Gateway does.
pub fn encode_request(
    request: &WebhookRequest,
    source: EventSource,
    path: &str,
    base64: bool,
) -> Value {
    let (body, base64) = match std::str::from_utf8(&request.body) {
        Ok(text) if !base64 => (text.to_string(), false),
        _ => (STANDARD.encode(&request.body), true),
    };
    let headers: serde_json::Map<String, Value> = request
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                Value::String(String::from_utf8_lossy(v.as_bytes()).into()),
            )
        })
        .collect();
    let mut query: Vec<(&String, &String)> = request.query.iter().collect();
    query.sort();
    let raw_query = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let query_map: serde_json::Map<String, Value> = query
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
        .collect();
    let method = request.method.as_str();
    let request_context = |route_key: &str, domain: &str| {
        serde_json::json!({
            "accountId": "123456789012", "apiId": "hookline", "domainName": domain,
            "domainPrefix": "hookline", "requestId": "fixture-request", "routeKey": route_key,
            "stage": "$default", "time": "23/Nov/2026:10:00:00 +0000", "timeEpoch": 1795428000000u64,
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "192.0.2.1", "userAgent": "hookline"}
        })
    };
    match source {
        EventSource::HttpApi | EventSource::FunctionUrl => {
            let (route_key, domain) = if source == EventSource::HttpApi {
                (
                    format!("{method} {path}"),
                    "hookline.execute-api.us-east-1.amazonaws.com",
                )
            } else {
                (
                    "$default".to_string(),
                    "hookline.lambda-url.us-east-1.on.aws",
                )
            };
            let mut event = serde_json::json!({
                "version": "2.0", "routeKey": route_key, "rawPath": path, "rawQueryString": raw_query,
                "headers": headers, "requestContext": request_context(&route_key, domain),
                "body": body, "isBase64Encoded": base64
            });
            if !query_map.is_empty() {
                event["queryStringParameters"] = Value::Object(query_map);
            }
            event
        }
        EventSource::RestApi => {
            let multi: serde_json::Map<String, Value> = request
                .headers
                .keys()
                .map(|k| {
                    let values: Vec<Value> = request
                        .headers
                        .get_all(k)
                        .iter()
                        .map(|v| Value::String(String::from_utf8_lossy(v.as_bytes()).into()))
                        .collect();
                    (k.to_string(), Value::Array(values))
                })
                .collect();
            let query = if query_map.is_empty() {
                Value::Null
            } else {
                Value::Object(query_map)
            };
            serde_json::json!({
                "resource": path, "path": format!("/prod{path}"), "httpMethod": method,
                "headers": headers, "multiValueHeaders": multi,
                "queryStringParameters": query, "multiValueQueryStringParameters": null,
                "pathParameters": null, "stageVariables": null,
                "requestContext": {
                    "accountId": "123456789012", "apiId": "hookline", "httpMethod": method,
                    "path": format!("/prod{path}"), "stage": "prod", "requestId": "fixture-request",
                    "resourcePath": path, "protocol": "HTTP/1.1", "identity": {"sourceIp": "192.0.2.1"}
                },
                "body": body, "isBase64Encoded": base64
            })
        }
    }
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
