//! What every provider supplies: how to authenticate a delivery and how to read it (here), and
//! its samples ([`sample`]). How it reads an identity again is `provider_api`.

pub mod sample;

pub use sample::{Sample, Unique};

use crate::config::{AuthConfig, ConfigError};
use crate::json_text::{parse_json, JsonText, PayloadError};
use crate::request::WebhookRequest;
use crate::verify::{SignError, Verifier};
use serde::de::DeserializeOwned;

/// The facts the pipeline needs from one delivery, whatever the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Stable across the provider's retries of the same event.
    pub dedup_key: String,
    /// The key is the body itself (the payload carries no id): two real changes can arrive as
    /// identical bytes, so a repeat is collapsed only until the enricher reads the resource
    /// (`store`'s CONSUMED state); keys naming one event collapse for the whole retention.
    pub keyed_by_content: bool,
    pub event_type: String,
    /// False for event types or subjects this version does not know: they are stored and
    /// enqueued all the same, flagged so the consumer can decide.
    pub recognized: bool,
    /// RFC 3339, when the provider says when the event happened.
    pub occurred_at: Option<String>,
    /// What the enrichment step should fetch, when the payload names it.
    pub resource: Option<Resource>,
    /// The subscription the delivery came through, when the provider says when it lapses
    /// (Baack): deliveries simply stop then, so its time left is a metric with an alarm.
    pub subscription: Option<Subscription>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub id: String,
    /// Unix seconds.
    pub expires_at: i64,
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

pub trait Provider: Send + Sync + Sized + 'static {
    /// Lowercase name: the prefix of every event id and the SQS `provider` attribute.
    const NAME: &'static str;

    /// How long a dedup record lasts when `DEDUP_RETENTION_SECONDS` is not set.
    const DEFAULT_RETENTION_SECONDS: u64 = 7 * 24 * 3600;

    /// Whether its events name the resource they are about. A provider whose events carry
    /// their data in full and name none (Midbound) has each identity keyed by the event itself
    /// (`midbound#<webhook-id>`).
    const NAMES_RESOURCE: bool = true;

    /// Whether the provider issues the webhook secret (shows it in its dashboard) rather than
    /// taking one the operator chooses: no secret `hookline secrets` made would verify then.
    const ISSUES_ITS_SECRET: bool = false;

    /// A new secret from 32 random bytes, in the form the provider's scheme takes, for the
    /// operator to register with the provider: a token of 64 hex digits by default, which any
    /// header carries and no comma splits.
    fn secret_from_random(random: &[u8; 32]) -> String {
        hex::encode(random)
    }

    /// The event types registered with a URL each, the type in the URL's `event` query
    /// parameter (ClearID: one webhook per type, whose payload does not name it). Empty: one URL
    /// takes every type.
    const URL_EVENT_TYPES: &'static [&'static str] = &[];

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::sha256_hex;

    #[test]
    fn editing_the_body_renews_its_hash() {
        let mut request = WebhookRequest::post(Default::default(), r#"{"event":"a"}"#);
        assert_eq!(request.body_sha256(), sha256_hex(br#"{"event":"a"}"#));
        edit_json(&mut request, |v| set_string(v, &["event"], "b")).unwrap();
        assert_eq!(request.body_sha256(), sha256_hex(br#"{"event":"b"}"#));
    }
}
