//! What every provider supplies: how to authenticate a delivery and how to read it.

use crate::config::{AuthConfig, ConfigError};
use crate::json_text::JsonText;
use crate::request::WebhookRequest;
use crate::verify::{SignError, Verifier};
use serde::de::DeserializeOwned;

/// The facts the pipeline needs from one delivery, whatever the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Stable across the provider's retries of the same event.
    pub dedup_key: String,
    pub event_type: String,
    /// False for event types or subjects this version does not know: they are stored and
    /// enqueued all the same, flagged so the consumer can decide.
    pub recognized: bool,
    /// RFC 3339, when the provider says when the event happened.
    pub occurred_at: Option<String>,
    /// What the enrichment step should fetch, when the payload names it.
    pub resource: Option<Resource>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Resource {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// What one parse of a delivery gives: its facts and its body, proven to be JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed<'r> {
    pub delivery: Delivery,
    pub body: JsonText<'r>,
}

/// A body that is not the provider's JSON shape; `field` is the path of the offending field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid payload at {field}: {message}")]
pub struct PayloadError {
    pub field: String,
    pub message: String,
}

pub trait Provider: Send + Sync + Sized + 'static {
    /// Lowercase name: the prefix of every event id and the SQS `provider` attribute.
    const NAME: &'static str;

    /// How long a dedup record lasts when `DEDUP_RETENTION_SECONDS` is not set.
    const DEFAULT_RETENTION_SECONDS: u64 = 7 * 24 * 3600;

    fn from_config(config: &AuthConfig) -> Result<Self, ConfigError>;

    /// The part of the provider's JSON this crate reads. Only what is used is modelled; the
    /// whole body travels on to the queue untouched.
    type Payload: DeserializeOwned;

    fn verifier(&self) -> &dyn Verifier;

    /// The delivery's facts, from its payload and, for some providers, its headers or query.
    fn delivery(
        &self,
        payload: Self::Payload,
        request: &WebhookRequest,
    ) -> Result<Delivery, PayloadError>;

    /// Reads an authenticated delivery (only called after `verifier()` accepted it) in one
    /// pass over the body: its facts, and the body as JSON text for the envelope.
    fn parse<'r>(&self, request: &'r WebhookRequest) -> Result<Parsed<'r>, PayloadError> {
        let (payload, body) = JsonText::parse::<Self::Payload>(&request.body)?;
        Ok(Parsed {
            delivery: self.delivery(payload, request)?,
            body,
        })
    }

    /// Adds the headers the provider sends with `request.body` when its secret is `secret`
    /// (signing tool, fixtures, tests): the verifier's own scheme, run the other way.
    fn sign(&self, secret: &str, request: &mut WebhookRequest, now: i64) -> Result<(), SignError> {
        self.verifier().sign(secret, request, now)
    }

    /// Makes `request` carry `event_type` where this provider says it (signing tool).
    fn set_event_type(request: &mut WebhookRequest, event_type: &str) -> Result<(), PayloadError>;
}

/// Rewrites a JSON body in place (the signing tool's `--event-type`; signing happens after).
pub fn edit_json(
    request: &mut WebhookRequest,
    edit: impl FnOnce(&mut serde_json::Value) -> Result<(), PayloadError>,
) -> Result<(), PayloadError> {
    let mut value: serde_json::Value = parse_json(&request.body)?;
    edit(&mut value)?;
    request.body = serde_json::to_vec(&value).expect("a JSON value serializes");
    request.body_sha256 = Default::default();
    Ok(())
}

/// Sets the string at `path` (object keys), creating objects on the way.
pub fn set_string(
    value: &mut serde_json::Value,
    path: &[&str],
    text: &str,
) -> Result<(), PayloadError> {
    let mut at = value;
    for key in path {
        at = at
            .as_object_mut()
            .ok_or_else(|| PayloadError {
                field: path.join("."),
                message: "not inside an object".into(),
            })?
            .entry(*key)
            .or_insert_with(|| serde_json::Value::Object(Default::default()));
    }
    *at = serde_json::Value::String(text.to_string());
    Ok(())
}

/// Deserializes a body, naming the path of the first field that does not fit.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, PayloadError> {
    // Most bodies fit: they are read once, without the cost of tracking where the parser is.
    // Only a body that does not fit is read again, to say where.
    serde_json::from_slice(body).map_err(|_| misfit::<T>(body))
}

/// Why `body` is not a `T`, with the path of the offending field.
fn misfit<T: DeserializeOwned>(body: &[u8]) -> PayloadError {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let error = match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
        Ok(_) => {
            return PayloadError {
                field: "body".into(),
                message: "trailing characters after the JSON value".into(),
            }
        }
        Err(error) => error,
    };
    let path = error.path().to_string();
    let inner = error.into_inner();
    // A syntax error is the body's fault as a whole, wherever the parser was.
    let path = if inner.is_syntax() || inner.is_eof() {
        ".".to_string()
    } else {
        path
    };
    // serde_json appends " at line L column C"; the path already says where.
    let message = inner.to_string();
    let message = match message.rfind(" at line ") {
        Some(at) => &message[..at],
        None => &message,
    };
    PayloadError {
        field: if path == "." { "body".into() } else { path },
        message: without_values(message),
    }
}

/// serde says `invalid type: string "ann@example.com", expected u64`: the value may be personal
/// data, and this message reaches logs, so only the expectation is kept.
fn without_values(message: &str) -> String {
    for kind in ["invalid type", "invalid value"] {
        if message.starts_with(kind) {
            return match message.find(", expected ") {
                Some(at) => format!("{kind}{}", &message[at..]),
                None => kind.to_string(),
            };
        }
    }
    message.to_string()
}

/// Lowercase hex SHA-256, the key for providers whose payload carries no id.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Outer {
        inner: Inner,
    }
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Inner {
        urn: String,
    }

    #[test]
    fn editing_the_body_renews_its_hash() {
        let mut request = WebhookRequest::post(Default::default(), r#"{"event":"a"}"#);
        assert_eq!(request.body_sha256(), sha256_hex(br#"{"event":"a"}"#));
        edit_json(&mut request, |v| set_string(v, &["event"], "b")).unwrap();
        assert_eq!(request.body_sha256(), sha256_hex(br#"{"event":"b"}"#));
    }

    #[test]
    fn errors_name_the_field() {
        let err = parse_json::<Outer>(br#"{"inner":{}}"#).unwrap_err();
        assert_eq!(err.field, "inner");
        assert_eq!(err.message, "missing field `urn`");
        let err = parse_json::<Outer>(br#"{"inner":{"urn":5}}"#).unwrap_err();
        assert_eq!(err.field, "inner.urn");
        assert_eq!(err.message, "invalid type, expected a string");
        let err = parse_json::<Outer>(br#"{"inner":"ann@example.com"}"#).unwrap_err();
        assert!(!err.message.contains("ann@"), "{}", err.message);
        let err = parse_json::<Outer>(b"not json").unwrap_err();
        assert_eq!(err.field, "body");
        let err = parse_json::<Outer>(br#"{"inner": {"urn": nope"#).unwrap_err();
        assert_eq!(err.field, "body");
        let err = parse_json::<Outer>(br#"{"inner":{"urn":"x"}} extra"#).unwrap_err();
        assert_eq!(err.field, "body");
    }
}
