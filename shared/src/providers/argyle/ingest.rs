//! Argyle: `identities.*`; hex HMAC-SHA512 of the raw body in `X-Argyle-Signature`.
//!
//! The payload has no event id and no timestamp, so the dedup key is the SHA-256 of the exact
//! body, remembered for a short window only (a repeated identical notification after the window
//! is a new event: the consumer re-fetches the identity anyway).

use crate::config::{AuthConfig, ConfigError};
use crate::json_text::PayloadError;
use crate::limits::{fitting, MAX_RESOURCE_ID_BYTES};
use crate::provider::{edit_json, set_string, Delivery, Provider, Resource};
use crate::request::WebhookRequest;
use crate::verify::{HexHmacSha512, Verifier};
use serde::Deserialize;

const EVENT_TYPES: [&str; 2] = ["identities.added", "identities.updated"];

#[derive(Deserialize)]
pub struct Notification {
    event: String,
    #[serde(default)]
    data: Data,
}

/// All UUIDs. An `events: ["*"]` subscription also delivers other event types, whose `data`
/// may lack an identity, so every field is optional.
#[derive(Deserialize, Default)]
struct Data {
    identity: Option<String>,
}

pub struct Argyle {
    verifier: HexHmacSha512,
}

impl Provider for Argyle {
    const NAME: &'static str = "argyle";
    const DEFAULT_RETENTION_SECONDS: u64 = 10 * 60;

    fn from_config(config: &AuthConfig) -> Result<Self, ConfigError> {
        Ok(Self {
            verifier: HexHmacSha512::new(config.secrets.clone()),
        })
    }

    type Payload = Notification;

    fn verifier(&self) -> &dyn Verifier {
        &self.verifier
    }

    fn delivery(
        &self,
        n: Notification,
        request: &WebhookRequest,
    ) -> Result<Delivery, PayloadError> {
        if let Some(id) = &n.data.identity {
            fitting("data.identity", id, MAX_RESOURCE_ID_BYTES)?;
        }
        Ok(Delivery {
            dedup_key: request.body_sha256().to_string(),
            // No id, no time: an update of an identity is byte for byte its previous one.
            keyed_by_content: true,
            recognized: EVENT_TYPES.contains(&n.event.as_str()),
            event_type: n.event,
            occurred_at: None,
            resource: n.data.identity.map(|id| Resource {
                url: Some(format!("/v2/identities/{id}")),
                id,
            }),
            subscription: None,
        })
    }

    fn set_event_type(request: &mut WebhookRequest, event_type: &str) -> Result<(), PayloadError> {
        edit_json(request, |v| set_string(v, &["event"], event_type))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::test_config;
    use crate::digest::sha256_hex;

    const ADDED: &str = r#"{"event":"identities.added","name":"my-subscription","data":{"account":"0187c66e-e7e5-811c-b006-2232f00f426a","user":"0185a8b8-fa89-7a1c-8d2b-5b8a6f2d4bc6","identity":"0187c66e-f13b-31e4-6b2c-6a0dd4f67e43"}}"#;

    fn parse(body: &str) -> Result<Delivery, PayloadError> {
        Argyle::from_config(&test_config("s"))
            .unwrap()
            .parse(&WebhookRequest::post(Default::default(), body))
            .map(|parsed| parsed.delivery)
    }

    #[test]
    fn key_is_the_body_hash_and_resource_the_identity() {
        let d = parse(ADDED).unwrap();
        assert_eq!(d.dedup_key, sha256_hex(ADDED.as_bytes()));
        assert!(d.keyed_by_content);
        assert_eq!(d.event_type, "identities.added");
        assert!(d.recognized);
        assert_eq!(
            d.resource,
            Some(Resource {
                id: "0187c66e-f13b-31e4-6b2c-6a0dd4f67e43".into(),
                url: Some("/v2/identities/0187c66e-f13b-31e4-6b2c-6a0dd4f67e43".into())
            })
        );
    }

    #[test]
    fn other_events_are_flagged() {
        let d = parse(r#"{"event":"accounts.connected","data":{"account":"a"}}"#).unwrap();
        assert!(!d.recognized);
        assert_eq!(d.resource, None);
    }

    #[test]
    fn an_identity_too_long_to_be_one_is_refused() {
        let body = ADDED.replace("0187c66e-f13b-31e4-6b2c-6a0dd4f67e43", &"f".repeat(3000));
        let err = parse(&body).unwrap_err();
        assert_eq!(err.field, "data.identity");
    }

    #[test]
    fn wrong_types_name_the_field() {
        let err = parse(r#"{"event":"identities.added","data":{"identity":42}}"#).unwrap_err();
        assert_eq!(err.field, "data.identity");
        let err = parse(r#"{"data":{}}"#).unwrap_err();
        assert_eq!(err.message, "missing field `event`");
    }
}
