//! Midbound: `identity.*` events signed with Standard Webhooks; key = `webhook-id`.
//!
//! The payload carries the data in full (there is no re-fetch API), so no resource is named.

use crate::config::{AuthConfig, ConfigError};
use crate::json_text::PayloadError;
use crate::provider::{edit_json, set_string, Delivery, Provider};
use crate::request::WebhookRequest;
use crate::verify::{
    standard_webhooks::ID_HEADER, KeyEncoding, SignError, StandardWebhooks, Verifier,
};
use serde::Deserialize;
use time::OffsetDateTime;

const EVENT_TYPES: [&str; 5] = [
    "identity.resolved",
    "identity.qualified",
    "identity.enriched",
    "identity.validated",
    "identity.session.finalized",
];

#[derive(Deserialize)]
pub struct Notification {
    #[serde(rename = "type")]
    event_type: String,
    /// Milliseconds since the epoch.
    created: Option<i64>,
}

pub struct Midbound {
    verifier: StandardWebhooks,
}

impl Provider for Midbound {
    const NAME: &'static str = "midbound";
    const NAMES_RESOURCE: bool = false;
    /// Each Midbound endpoint has its own signing secret, which Midbound shows.
    const ISSUES_ITS_SECRET: bool = true;

    /// Standard Webhooks' form: `whsec_` and the base64 of the key, should one be needed.
    fn secret_from_random(random: &[u8; 32]) -> String {
        use base64::Engine;
        format!(
            "whsec_{}",
            base64::engine::general_purpose::STANDARD.encode(random)
        )
    }

    fn from_config(config: &AuthConfig) -> Result<Self, ConfigError> {
        let encoding = match &config.options.secret_encoding {
            None => KeyEncoding::Auto,
            Some(raw) => raw.parse().map_err(|reason| ConfigError::Invalid {
                name: "WEBHOOK_SECRET_ENCODING",
                reason,
            })?,
        };
        let verifier = StandardWebhooks::new(&config.secrets, encoding, config.tolerance_seconds())
            .map_err(|e| ConfigError::Invalid {
                name: "WEBHOOK_SECRETS",
                reason: e.to_string(),
            })?;
        Ok(Self { verifier })
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
        // The verifier already required exactly one webhook-id; it is the idempotency key the
        // spec keeps stable across retries.
        let id = request
            .single_header(&crate::verify::standard_webhooks::ID)
            .ok_or_else(|| PayloadError {
                field: ID_HEADER.into(),
                message: "missing header".into(),
            })?;
        let occurred_at = n
            .created
            .and_then(|ms| {
                OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
            })
            // Outside the years RFC 3339 can write, the time is left out rather than a panic.
            .and_then(crate::timestamp::rfc3339);
        Ok(Delivery {
            dedup_key: id.to_string(),
            keyed_by_content: false,
            recognized: EVENT_TYPES.contains(&n.event_type.as_str()),
            event_type: n.event_type,
            occurred_at,
            resource: None,
            subscription: None,
        })
    }

    /// Midbound's payload `id` is the `webhook-id` it signs with.
    fn sign(&self, secret: &str, request: &mut WebhookRequest, now: i64) -> Result<(), SignError> {
        if request.single_header(ID_HEADER).is_none() {
            let id = serde_json::from_slice::<serde_json::Value>(&request.body)
                .ok()
                .and_then(|v| v.get("id")?.as_str().map(str::to_string));
            if let Some(id) = id {
                crate::verify::set_header(request, http::HeaderName::from_static(ID_HEADER), &id)?;
            }
        }
        self.verifier.sign(secret, request, now)
    }

    fn set_event_type(request: &mut WebhookRequest, event_type: &str) -> Result<(), PayloadError> {
        edit_json(request, |v| set_string(v, &["type"], event_type))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::test_config;
    use http::{HeaderMap, HeaderValue};

    fn parse(body: &str) -> Result<Delivery, PayloadError> {
        let mut headers = HeaderMap::new();
        headers.insert(
            ID_HEADER,
            HeaderValue::from_static("evt_01KHEWZ09CQB36JZ5F7D3ZB9NE"),
        );
        Midbound::from_config(&test_config("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
            .unwrap()
            .parse(&WebhookRequest::post(headers, body))
            .map(|parsed| parsed.delivery)
    }

    #[test]
    fn key_is_the_webhook_id() {
        let d = parse(r#"{"id":"evt_01KHEWZ09CQB36JZ5F7D3ZB9NE","type":"identity.validated","created":1763884800123,"data":{}}"#).unwrap();
        assert_eq!(d.dedup_key, "evt_01KHEWZ09CQB36JZ5F7D3ZB9NE");
        assert_eq!(d.event_type, "identity.validated");
        assert!(d.recognized);
        assert_eq!(d.occurred_at.as_deref(), Some("2025-11-23T08:00:00.123Z"));
    }

    #[test]
    fn unknown_type_is_flagged_and_missing_type_named() {
        assert!(!parse(r#"{"type":"identity.merged"}"#).unwrap().recognized);
        assert_eq!(
            parse(r#"{"id":"x"}"#).unwrap_err().message,
            "missing field `type`"
        );
    }

    #[test]
    fn signing_uses_the_payload_id_as_webhook_id() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let midbound = Midbound::from_config(&test_config(secret)).unwrap();
        let mut request = WebhookRequest::post(
            Default::default(),
            r#"{"id":"evt_9","type":"identity.resolved"}"#,
        );
        Midbound::set_event_type(&mut request, "identity.enriched").unwrap();
        midbound.sign(secret, &mut request, 1_700_000_000).unwrap();
        assert_eq!(request.single_header(ID_HEADER), Some("evt_9"));
        assert_eq!(midbound.verifier().verify(&request, 1_700_000_000), Ok(()));
        assert_eq!(
            midbound.parse(&request).unwrap().delivery.event_type,
            "identity.enriched"
        );
    }

    #[test]
    fn encoding_is_validated() {
        let mut config = test_config("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        config.options.secret_encoding = Some("hex".into());
        assert!(Midbound::from_config(&config).is_err());
        config.options.secret_encoding = Some("spec".into());
        config.secrets = crate::secrets::Secrets::parse("whsec_not base64");
        assert!(Midbound::from_config(&config).is_err());
    }
}
