//! Genetec ClearID: identity events; a shared secret in a configurable header.
//!
//! A ClearID webhook carries exactly one event type, chosen in the portal, and the documented
//! callback models do not name it. So the type comes from the `event` query parameter of the URL
//! registered for that webhook (`.../webhooks/clearid?event=identity.deleted`), else from an
//! `EventType` field when the payload has one.

use crate::config::{AuthConfig, ConfigError};
use crate::json_text::PayloadError;
use crate::limits::{fitting, MAX_RESOURCE_ID_BYTES};
use crate::provider::{Delivery, Provider, Resource};
use crate::request::WebhookRequest;
use crate::verify::{TokenScheme, TokenVerifier, Verifier};
use http::HeaderName;
use serde::Deserialize;

pub const DEFAULT_SECRET_HEADER: &str = "x-webhook-token";

const EVENT_TYPES: [&str; 5] = [
    "identity.created",
    "identity.updated",
    "identity.deleted",
    "identity_request.created",
    "identity_request.updated",
];

/// Fields shared by ClearID's identity callback models. .NET serialisers differ in casing, so
/// both PascalCase and camelCase names are read.
#[derive(Deserialize)]
pub struct IdentityCallback {
    #[serde(rename = "AccountId", alias = "accountId")]
    account_id: String,
    #[serde(rename = "IdentityId", alias = "identityId")]
    identity_id: Option<String>,
    #[serde(rename = "Ordinal", alias = "ordinal")]
    ordinal: Option<Ordinal>,
    #[serde(rename = "EventType", alias = "eventType")]
    event_type: Option<String>,
    #[serde(rename = "DeletionDateUtc", alias = "deletionDateUtc")]
    deletion_date_utc: Option<String>,
}

/// The commit ordinal, a number in the seed's model; a string is read too.
#[derive(Deserialize)]
#[serde(untagged)]
enum Ordinal {
    Number(u64),
    Text(String),
}

impl Ordinal {
    fn text(&self) -> String {
        match self {
            Ordinal::Number(n) => n.to_string(),
            Ordinal::Text(s) => s.clone(),
        }
    }
}

pub struct ClearId {
    verifier: TokenVerifier,
}

impl Provider for ClearId {
    const NAME: &'static str = "clearid";
    const URL_EVENT_TYPES: &'static [&'static str] = &EVENT_TYPES;

    fn from_config(config: &AuthConfig) -> Result<Self, ConfigError> {
        let name = config
            .options
            .secret_header
            .as_deref()
            .unwrap_or(DEFAULT_SECRET_HEADER);
        let header =
            HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| ConfigError::Invalid {
                name: "WEBHOOK_SECRET_HEADER",
                reason: format!("{name:?} is not a valid header name"),
            })?;
        Ok(Self {
            verifier: TokenVerifier::new(header, TokenScheme::Raw, &config.secrets),
        })
    }

    type Payload = IdentityCallback;

    fn verifier(&self) -> &dyn Verifier {
        &self.verifier
    }

    fn delivery(
        &self,
        callback: IdentityCallback,
        request: &WebhookRequest,
    ) -> Result<Delivery, PayloadError> {
        let event_type = request
            .query
            .get("event")
            .cloned()
            .or(callback.event_type)
            .map(|t| t.trim().to_ascii_lowercase())
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| crate::limits::UNKNOWN_EVENT_TYPE.to_string());
        let recognized = EVENT_TYPES.contains(&event_type.as_str());
        // With a commit ordinal the key is stable across retries; without one, only the exact
        // bytes identify a delivery.
        fitting("AccountId", &callback.account_id, MAX_RESOURCE_ID_BYTES)?;
        if let Some(identity) = &callback.identity_id {
            fitting("IdentityId", identity, MAX_RESOURCE_ID_BYTES)?;
        }
        let keyed_by_content = callback.identity_id.is_none() || callback.ordinal.is_none();
        let dedup_key = match (&callback.identity_id, &callback.ordinal) {
            (Some(identity), Some(ordinal)) => format!(
                "{event_type}#{}#{identity}#{}",
                callback.account_id,
                ordinal.text()
            ),
            _ => format!("{event_type}#sha256:{}", request.body_sha256()),
        };
        let resource = callback.identity_id.map(|identity| Resource {
            url: Some(format!(
                "/api/v2/accounts/{}/identities/{identity}",
                callback.account_id
            )),
            id: identity,
        });
        Ok(Delivery {
            keyed_by_content,
            dedup_key,
            event_type,
            recognized,
            occurred_at: callback
                .deletion_date_utc
                .as_deref()
                .and_then(crate::timestamp::occurred_at),
            resource,
            subscription: None,
        })
    }

    /// ClearID's type travels in the registered URL's query string.
    fn set_event_type(request: &mut WebhookRequest, event_type: &str) -> Result<(), PayloadError> {
        request.query.insert("event".into(), event_type.into());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::test_config;
    use crate::digest::sha256_hex;

    const DELETED: &str = r#"{"AccountId":"acc-1","IdentityId":"id-7","DeletedBy":"admin","DeletionDateUtc":"2026-11-20T08:00:00","ExternalId":"E-7","Ordinal":1042,"Email":"ann@example.com"}"#;

    fn parse(body: &str, event: Option<&str>) -> Result<Delivery, PayloadError> {
        let clearid = ClearId::from_config(&test_config("token")).unwrap();
        let mut request = WebhookRequest::post(Default::default(), body);
        if let Some(event) = event {
            request.query.insert("event".into(), event.into());
        }
        clearid.parse(&request).map(|parsed| parsed.delivery)
    }

    #[test]
    fn key_uses_event_account_identity_and_ordinal() {
        let d = parse(DELETED, Some("Identity.Deleted")).unwrap();
        assert_eq!(d.dedup_key, "identity.deleted#acc-1#id-7#1042");
        assert!(!d.keyed_by_content);
        assert_eq!(d.event_type, "identity.deleted");
        assert!(d.recognized);
        assert_eq!(d.occurred_at.as_deref(), Some("2026-11-20T08:00:00Z"));
        assert_eq!(
            d.resource,
            Some(Resource {
                id: "id-7".into(),
                url: Some("/api/v2/accounts/acc-1/identities/id-7".into())
            })
        );
    }

    #[test]
    fn without_ordinal_the_key_is_the_body_hash() {
        let body = r#"{"accountId":"acc-1","identityId":"id-7"}"#;
        let d = parse(body, Some("identity.updated")).unwrap();
        assert_eq!(
            d.dedup_key,
            format!("identity.updated#sha256:{}", sha256_hex(body.as_bytes()))
        );
        assert!(d.keyed_by_content);
    }

    #[test]
    fn event_type_from_payload_or_unknown_and_flagged() {
        let d = parse(r#"{"AccountId":"a","EventType":"identity.created"}"#, None).unwrap();
        assert_eq!(d.event_type, "identity.created");
        assert!(d.recognized);
        let d = parse(r#"{"AccountId":"a","Ordinal":"3"}"#, None).unwrap();
        assert_eq!(d.event_type, "unknown");
        assert!(!d.recognized);
        let d = parse(DELETED, Some("badge.printed")).unwrap();
        assert!(!d.recognized);
    }

    #[test]
    fn missing_account_names_the_field() {
        let err = parse(r#"{"IdentityId":"x"}"#, None).unwrap_err();
        assert_eq!(err.field, "body");
        assert_eq!(err.message, "missing field `AccountId`");
    }

    #[test]
    fn invalid_header_name_is_a_config_error() {
        let mut config = test_config("token");
        config.options.secret_header = Some("bad header".into());
        assert!(ClearId::from_config(&config).is_err());
    }
}
