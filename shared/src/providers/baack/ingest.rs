//! Baack (baack.co): identity subjects; bearer (or Basic) auth; key = subscription + trigger urn.

use crate::config::{AuthConfig, ConfigError};
use crate::json_text::PayloadError;
use crate::limits::{fitting, MAX_RESOURCE_ID_BYTES, MAX_RESOURCE_URL_BYTES};
use crate::provider::{edit_json, set_string, Delivery, Provider, Resource};
use crate::request::WebhookRequest;
use crate::verify::{TokenScheme, TokenVerifier, Verifier};
use serde::Deserialize;

/// The identity subjects of Baack's shared subject enum; others are accepted but flagged.
const IDENTITY_SUBJECTS: [&str; 9] = [
    "IDENTITY",
    "IDENTITY_ADDRESS",
    "IDENTITY_CLIENT_IDENTIFIER",
    "IDENTITY_EMAIL_ADDRESS",
    "IDENTITY_PAYMENT_CARD",
    "IDENTITY_PERSON",
    "IDENTITY_PERSON_NAME",
    "IDENTITY_ROLE",
    "IDENTITY_TELEPHONE",
];
const EVENTS: [&str; 3] = ["CREATE", "UPDATE", "DELETE"];

/// The notification envelope, the same for every subject. Only what we use is modelled; the
/// whole payload travels on to the queue untouched.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    trigger: Trigger,
    subscription: Subscription,
    v1: Option<V1>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Trigger {
    urn: String,
    subject: String,
    event: String,
    timestamp: Option<String>,
    target_urn: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Subscription {
    urn: String,
    /// Zone-less ISO 8601 (UTC), 30 days after creation in the docs' example. Read as any JSON
    /// value: it only feeds a metric, so an unexpected type must not refuse the delivery.
    expiration_timestamp: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct V1 {
    urn: Option<String>,
    url: Option<String>,
}

pub struct Baack {
    verifier: TokenVerifier,
}

impl Provider for Baack {
    const NAME: &'static str = "baack";
    /// Baack issues the webhook API client's bearer token; in Basic mode the secret stored is
    /// `client_id:secret`, the client id Baack's too: no generated secret would do.
    const ISSUES_ITS_SECRET: bool = true;

    fn from_config(config: &AuthConfig) -> Result<Self, ConfigError> {
        let scheme = match config
            .options
            .auth_mode
            .as_deref()
            .map(str::to_ascii_lowercase)
        {
            None => TokenScheme::Bearer,
            Some(mode) if mode == "bearer" => TokenScheme::Bearer,
            Some(mode) if mode == "basic" => TokenScheme::Basic,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "WEBHOOK_AUTH_MODE",
                    reason: format!("{other:?}: use bearer or basic"),
                })
            }
        };
        Ok(Self {
            verifier: TokenVerifier::new(http::header::AUTHORIZATION, scheme, &config.secrets),
        })
    }

    type Payload = Notification;

    fn verifier(&self) -> &dyn Verifier {
        &self.verifier
    }

    fn delivery(
        &self,
        n: Notification,
        _request: &WebhookRequest,
    ) -> Result<Delivery, PayloadError> {
        let recognized = IDENTITY_SUBJECTS.contains(&n.trigger.subject.as_str())
            && EVENTS.contains(&n.trigger.event.as_str());
        let v1 = n.v1.unwrap_or(V1 {
            urn: None,
            url: None,
        });
        let (field, id) = match (v1.urn, n.trigger.target_urn) {
            (Some(urn), _) => ("v1.urn", Some(urn)),
            (None, target) => ("trigger.targetUrn", target),
        };
        if let Some(id) = &id {
            fitting(field, id, MAX_RESOURCE_ID_BYTES)?;
        }
        if let Some(url) = &v1.url {
            fitting("v1.url", url, MAX_RESOURCE_URL_BYTES)?;
        }
        let resource = id.map(|id| Resource { id, url: v1.url });
        let subscription = n
            .subscription
            .expiration_timestamp
            .as_ref()
            .and_then(serde_json::Value::as_str)
            .and_then(crate::timestamp::unix_seconds)
            .map(|expires_at| crate::provider::Subscription {
                id: n.subscription.urn.clone(),
                expires_at,
            });
        Ok(Delivery {
            dedup_key: format!("{}#{}", n.subscription.urn, n.trigger.urn),
            keyed_by_content: false,
            event_type: format!("{}.{}", n.trigger.subject, n.trigger.event),
            recognized,
            occurred_at: n
                .trigger
                .timestamp
                .as_deref()
                .and_then(crate::timestamp::occurred_at),
            resource,
            subscription,
        })
    }

    /// `SUBJECT.EVENT`, e.g. `IDENTITY_CLIENT_IDENTIFIER.UPDATE`, goes to `trigger`.
    fn set_event_type(request: &mut WebhookRequest, event_type: &str) -> Result<(), PayloadError> {
        let (subject, event) = event_type.rsplit_once('.').ok_or_else(|| PayloadError {
            field: "trigger".into(),
            message: "Baack event types are SUBJECT.EVENT".into(),
        })?;
        edit_json(request, |v| {
            set_string(v, &["trigger", "subject"], subject)?;
            set_string(v, &["trigger", "event"], event)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::test_config;
    use crate::secrets::Secrets;

    pub const SAMPLE: &str = r#"{"trigger":{"urn":"urn:baack:trigger:7d1f","owner":{"urn":"urn:baack:company:1","url":"/n/v1/company/urn:baack:company:1"},"timestamp":"2026-05-29T13:45:32","subject":"IDENTITY_CLIENT_IDENTIFIER","event":"CREATE","targetUrn":"urn:baack:clientidentifier:42"},"subscription":{"urn":"urn:baack:webhooksubscription:9","subject":"IDENTITY_CLIENT_IDENTIFIER","event":"ALL","auth":"BEARER","expirationTimestamp":"2026-06-29T13:45:32"},"v1":{"urn":"urn:baack:clientidentifier:42","url":"/n/v1/clientidentifier/urn:baack:clientidentifier:42"}}"#;

    fn baack() -> Baack {
        Baack::from_config(&test_config("token")).unwrap()
    }

    #[test]
    fn parses_the_documented_envelope() {
        let d = baack()
            .parse(&WebhookRequest::post(Default::default(), SAMPLE))
            .unwrap()
            .delivery;
        assert_eq!(
            d,
            Delivery {
                dedup_key: "urn:baack:webhooksubscription:9#urn:baack:trigger:7d1f".into(),
                keyed_by_content: false,
                event_type: "IDENTITY_CLIENT_IDENTIFIER.CREATE".into(),
                recognized: true,
                occurred_at: Some("2026-05-29T13:45:32Z".into()),
                resource: Some(Resource {
                    id: "urn:baack:clientidentifier:42".into(),
                    url: Some("/n/v1/clientidentifier/urn:baack:clientidentifier:42".into()),
                }),
                subscription: Some(crate::provider::Subscription {
                    id: "urn:baack:webhooksubscription:9".into(),
                    expires_at: 1_782_740_732,
                }),
            }
        );
    }

    #[test]
    fn unknown_subjects_are_flagged_not_rejected() {
        let body = SAMPLE.replace(
            "\"IDENTITY_CLIENT_IDENTIFIER\",\"event\":\"CREATE\"",
            "\"COMPANY\",\"event\":\"UPDATE\"",
        );
        let d = baack()
            .parse(&WebhookRequest::post(Default::default(), body))
            .unwrap()
            .delivery;
        assert_eq!(d.event_type, "COMPANY.UPDATE");
        assert!(!d.recognized);
    }

    #[test]
    fn missing_trigger_urn_names_the_field() {
        let body = SAMPLE.replace("\"urn\":\"urn:baack:trigger:7d1f\",", "");
        let err = baack()
            .parse(&WebhookRequest::post(Default::default(), body))
            .unwrap_err();
        assert_eq!(err.field, "trigger");
        assert_eq!(err.message, "missing field `urn`");
    }

    #[test]
    fn event_type_is_set_in_the_trigger() {
        let mut request = WebhookRequest::post(Default::default(), SAMPLE);
        Baack::set_event_type(&mut request, "IDENTITY_EMAIL_ADDRESS.DELETE").unwrap();
        let d = baack().parse(&request).unwrap().delivery;
        assert_eq!(d.event_type, "IDENTITY_EMAIL_ADDRESS.DELETE");
        assert!(Baack::set_event_type(&mut request, "DELETE").is_err());
    }

    #[test]
    fn basic_mode_and_bad_mode() {
        let mut config = test_config("id:secret");
        config.options.auth_mode = Some("BASIC".into());
        assert!(Baack::from_config(&config).is_ok());
        config.options.auth_mode = Some("digest".into());
        assert!(Baack::from_config(&config).is_err());
        assert_eq!(config.secrets, Secrets::parse("id:secret"));
    }
}
