//! The invocation event a source would send for a request: the inverse of [`super::decode`],
//! for fixtures, tools and tests.

use crate::request::WebhookRequest;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::Value;

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
