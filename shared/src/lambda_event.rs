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

use crate::rejection::Rejection;
use crate::request::WebhookRequest;
use crate::response::HttpResponse;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use lambda_http::aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayV2httpResponse};
use lambda_http::Body;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;

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

/// The event's top-level names this crate reads, in [`InvocationEvent`]'s order.
const EVENT_FIELDS: [&str; 8] = [
    "version",
    "httpMethod",
    "headers",
    "multiValueHeaders",
    "queryStringParameters",
    "requestContext",
    "body",
    "isBase64Encoded",
];

impl<'de> serde::Deserialize<'de> for InvocationEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(EventVisitor)
    }
}

/// A seed that is its own visitor: it reads whatever JSON value stands there.
macro_rules! any_seed {
    ($seed:ty, $value:ty) => {
        impl<'de> DeserializeSeed<'de> for $seed {
            type Value = $value;

            fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
        }
    };
}

/// What a visitor gives for the JSON flags and numbers it has no reading for: `$value`.
macro_rules! other_scalars {
    ($value:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($value)
        }
    };
}

/// The same for every value but lists and objects (strings and null too).
macro_rules! other_values {
    ($value:expr) => {
        other_scalars!($value);
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($value)
        }
    };
}

/// The top level: an object whose known names are read, the rest skipped. Anything but an
/// object is an event with none of our fields (refused as no known shape).
struct EventVisitor;

impl<'de> Visitor<'de> for EventVisitor {
    type Value = InvocationEvent;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an invocation event")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut event = InvocationEvent::default();
        // A name given twice: the last value counts, as in a JSON value.
        while let Some(name) = map.next_key_seed(NameOf(&EVENT_FIELDS))? {
            match name {
                Some(0) => event.version = map.next_value_seed(Scalar).map(Some)?,
                Some(1) => event.http_method = map.next_value_seed(Scalar).map(Some)?,
                Some(2) => event.headers = map.next_value_seed(HeadersField).map(Some)?,
                Some(3) => {
                    event.multi_value_headers = map.next_value_seed(HeadersField).map(Some)?
                }
                Some(4) => {
                    event.query_string_parameters =
                        map.next_value_seed(ParametersField).map(Some)?
                }
                Some(5) => {
                    event.context_method = map.next_value_seed(Within(&["http", "method"]))?
                }
                Some(6) => event.body = map.next_value_seed(Scalar).map(Some)?,
                Some(7) => event.is_base64_encoded = map.next_value_seed(Scalar).map(Some)?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(event)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(InvocationEvent::default())
    }

    other_values!(InvocationEvent::default());
}

/// A map key, read as bytes and handed to the function. Asked for as a string, a key would be
/// copied into a `String` by the runtime's reader (`serde_path_to_error` keeps each one to name
/// the path of an error), for each of the event's dozens of names; as bytes it is not copied,
/// and is not checked as UTF-8, which the names compared and header names (ASCII) do not need.
struct Key<F>(F);

impl<'de, T, F: FnOnce(&[u8]) -> T> DeserializeSeed<'de> for Key<F> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_bytes(self)
    }
}

impl<'de, T, F: FnOnce(&[u8]) -> T> Visitor<'de> for Key<F> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_bytes<E: de::Error>(self, name: &[u8]) -> Result<Self::Value, E> {
        Ok((self.0)(name))
    }

    /// A JSON value's keys (fixtures, tests) come as strings.
    fn visit_str<E: de::Error>(self, name: &str) -> Result<Self::Value, E> {
        Ok((self.0)(name.as_bytes()))
    }
}

/// A map key: the index of the name among `self.0`, or `None` for any other name.
struct NameOf(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for NameOf {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        let known = self.0;
        Key(|name: &[u8]| known.iter().position(|k| k.as_bytes() == name)).deserialize(deserializer)
    }
}

/// The value at a path of object names inside the value read (`requestContext` → `http` →
/// `method`): `None` when a name is missing, `Other` when something on the way is no object.
struct Within(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for Within {
    type Value = Option<Field>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        match self.0 {
            [] => Scalar.deserialize(deserializer).map(Some),
            _ => deserializer.deserialize_any(self),
        }
    }
}

impl<'de> Visitor<'de> for Within {
    type Value = Option<Field>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (first, rest) = self.0.split_first().expect("a path, not the end of it");
        let mut found = None;
        while let Some(name) = map.next_key_seed(NameOf(std::slice::from_ref(first)))? {
            match name {
                Some(_) => found = map.next_value_seed(Within(rest))?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(found)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Some(Field::Other))
    }

    other_values!(Some(Field::Other));
}

/// Skips what is left of a map or a list: its values are not needed once one is unusable.
fn skip_entries<'de, A: MapAccess<'de>>(map: &mut A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

fn skip_elements<'de, A: SeqAccess<'de>>(seq: &mut A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

/// What a visitor of a map-valued field gives for a value that is not a map: null is an empty
/// field, anything else is `Other`, skipped.
macro_rules! not_a_map {
    () => {
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Field::Null)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Field::Null)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            skip_elements(&mut seq)?;
            Ok(Field::Other)
        }
        other_scalars!(Field::Other);
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok(Field::Other)
        }
    };
}

/// A field that holds one value: a string, a flag or null; anything else is `Other`.
#[derive(Clone, Copy)]
struct Scalar;

any_seed!(Scalar, Field);

impl<'de> Visitor<'de> for Scalar {
    type Value = Field;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, a flag or null")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(Field::Text(text.to_owned()))
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<Self::Value, E> {
        Ok(Field::Text(text))
    }

    fn visit_bool<E: de::Error>(self, flag: bool) -> Result<Self::Value, E> {
        Ok(Field::Flag(flag))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Field::Other)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Field::Other)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Field::Other)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Field::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Field::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        skip_elements(&mut seq)?;
        Ok(Field::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        skip_entries(&mut map)?;
        Ok(Field::Other)
    }
}

/// `headers` or `multiValueHeaders`, read straight into a `HeaderMap`: each name with a string
/// or a list of strings. One name or value that HTTP cannot carry makes the field `Other`.
struct HeadersField;

any_seed!(HeadersField, Field);

impl<'de> Visitor<'de> for HeadersField {
    type Value = Field;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of strings or lists of strings")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut headers = HeaderMap::with_capacity(map.size_hint().unwrap_or(0));
        while let Some(name) = map.next_key_seed(Key(|name: &[u8]| HeaderName::from_bytes(name)))? {
            let appended = match name {
                Ok(name) => map.next_value_seed(HeaderValues {
                    headers: &mut headers,
                    name,
                })?,
                Err(_) => map.next_value::<IgnoredAny>().map(|_| Err(Unusable))?,
            };
            if appended.is_err() {
                skip_entries(&mut map)?;
                return Ok(Field::Other);
            }
        }
        Ok(Field::Headers(headers))
    }

    not_a_map!();
}

/// One header's value or list of values, appended to the map under `name`.
struct HeaderValues<'m> {
    headers: &'m mut HeaderMap,
    name: HeaderName,
}

any_seed!(HeaderValues<'_>, Result<(), Unusable>);

impl<'de> Visitor<'de> for HeaderValues<'_> {
    type Value = Result<(), Unusable>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or a list of strings")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(HeaderText.visit_str::<E>(text)?.map(|value| {
            self.headers.append(self.name, value);
        }))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while let Some(value) = seq.next_element_seed(HeaderText)? {
            match value {
                Ok(value) => {
                    self.headers.append(&self.name, value);
                }
                Err(Unusable) => {
                    skip_elements(&mut seq)?;
                    return Ok(Err(Unusable));
                }
            }
        }
        Ok(Ok(()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        skip_entries(&mut map)?;
        Ok(Err(Unusable))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Err(Unusable))
    }

    other_scalars!(Err(Unusable));
}

/// One string of a header's list of values.
struct HeaderText;

any_seed!(HeaderText, Result<HeaderValue, Unusable>);

impl<'de> Visitor<'de> for HeaderText {
    type Value = Result<HeaderValue, Unusable>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(HeaderValue::from_str(text).map_err(|_| Unusable))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        skip_elements(&mut seq)?;
        Ok(Err(Unusable))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        skip_entries(&mut map)?;
        Ok(Err(Unusable))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Err(Unusable))
    }

    other_scalars!(Err(Unusable));
}

/// `queryStringParameters`: each name's first value, a string or the first of a list of
/// strings (an empty list gives none); the first time a name is given counts.
struct ParametersField;

any_seed!(ParametersField, Field);

impl<'de> Visitor<'de> for ParametersField {
    type Value = Field;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of strings or lists of strings")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut first = HashMap::with_capacity(map.size_hint().unwrap_or(0));
        let name_of = |name: &[u8]| std::str::from_utf8(name).map(str::to_owned);
        while let Some(name) = map.next_key_seed(Key(name_of))? {
            let value = match name {
                Ok(name) => map.next_value_seed(FirstText)?.map(|value| (name, value)),
                Err(_) => map.next_value::<IgnoredAny>().map(|_| Err(Unusable))?,
            };
            match value {
                Ok((name, Some(value))) => {
                    first.entry(name).or_insert(value);
                }
                Ok((_, None)) => {}
                Err(Unusable) => {
                    skip_entries(&mut map)?;
                    return Ok(Field::Other);
                }
            }
        }
        Ok(Field::Parameters(first))
    }

    not_a_map!();
}

/// A parameter's value: a string, or the first of a list of strings.
struct FirstText;

any_seed!(FirstText, Result<Option<String>, Unusable>);

impl<'de> Visitor<'de> for FirstText {
    type Value = Result<Option<String>, Unusable>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or a list of strings")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(Ok(Some(text.to_owned())))
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<Self::Value, E> {
        Ok(Ok(Some(text)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut first = None;
        while let Some(item) = seq.next_element_seed(Scalar)? {
            match item {
                Field::Text(text) => {
                    first.get_or_insert(text);
                }
                _ => {
                    skip_elements(&mut seq)?;
                    return Ok(Err(Unusable));
                }
            }
        }
        Ok(Ok(first))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        skip_entries(&mut map)?;
        Ok(Err(Unusable))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Err(Unusable))
    }

    other_scalars!(Err(Unusable));
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
