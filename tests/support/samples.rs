//! For every provider: its sample payload (from `events/payloads/`), how it signs a delivery,
//! and what the pipeline should derive from it.

use hookline::digest::sha256_hex;
use hookline::providers::{Argyle, Baack, ClearId, Midbound};
use hookline::request::WebhookRequest;
use hookline::secrets::Secrets;
use hookline::verify::standard_webhooks::ID_HEADER;
use hookline::{AuthConfig, Config, Provider};
use serde_json::{json, Value};

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

pub trait Sample {
    type Provider: Provider;
    /// Two secrets configured at once, as during a rotation.
    const SECRETS: [&'static str; 2];
    /// Provider options besides the secrets.
    const OPTIONS: &'static [(&'static str, &'static str)] = &[];
    /// Query parameters of the URL registered with the provider.
    const QUERY: &'static [(&'static str, &'static str)] = &[];

    /// The provider's documented example payload.
    fn payload() -> String;
    /// The same kind of payload with an event type or subject this version does not know.
    fn unknown_event_payload() -> String;
    /// The query string that goes with it.
    fn unknown_event_query() -> &'static [(&'static str, &'static str)] {
        Self::QUERY
    }
    /// Valid JSON that lacks a required field, and the field the 400 must name.
    fn missing_field_payload() -> (String, &'static str);

    /// Headers the provider sends with `body` when configured with `secret`, signed now.
    fn sign(secret: &str, body: &str) -> Vec<(String, String)> {
        Self::sign_at(secret, body, now(), None)
    }

    /// As [`Sample::sign`] at Unix time `timestamp`, with an explicit `webhook-id` if given.
    /// Signs with the product's own signing code, configured with the sample's options.
    fn sign_at(
        secret: &str,
        body: &str,
        timestamp: i64,
        id: Option<&str>,
    ) -> Vec<(String, String)> {
        let mut vars: Vec<(String, String)> = Self::OPTIONS
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        vars.extend([
            ("EVENTS_TABLE".to_string(), "unused".to_string()),
            ("EVENTS_QUEUE_URL".to_string(), "unused".to_string()),
            ("WEBHOOK_SECRETS".to_string(), secret.to_string()),
        ]);
        let config = Config::from_lookup(|name| {
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
        .expect("sample configuration");
        let auth = AuthConfig::new(Secrets::parse(secret), config.auth).expect("a secret");
        let provider = Self::Provider::from_config(&auth).expect("sample provider");
        let mut request = WebhookRequest::post(Default::default(), body);
        if let Some(id) = id {
            request
                .headers
                .insert(ID_HEADER, id.parse().expect("header value"));
        }
        provider
            .sign(secret, &mut request, timestamp)
            .expect("signable");
        request
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string()))
            .collect()
    }
    /// The event id the pipeline must derive for `body`.
    fn event_id(body: &str) -> String;
    fn event_type() -> &'static str;
    fn resource() -> Value;
    fn occurred_at() -> Value;

    fn vars() -> Vec<(&'static str, String)> {
        let mut vars: Vec<(&'static str, String)> = Self::OPTIONS
            .iter()
            .map(|(k, v)| (*k, v.to_string()))
            .collect();
        vars.push(("WEBHOOK_SECRETS", Self::SECRETS.join(",")));
        vars
    }
}

pub struct BaackSample;
pub struct ClearIdSample;
pub struct ArgyleSample;
pub struct MidboundSample;

const BAACK: &str =
    include_str!("../../events/payloads/baack/IDENTITY_CLIENT_IDENTIFIER.CREATE.json");
const CLEARID: &str = include_str!("../../events/payloads/clearid/identity.deleted.json");
const ARGYLE: &str = include_str!("../../events/payloads/argyle/identities.added.json");
const MIDBOUND: &str = include_str!("../../events/payloads/midbound/identity.validated.json");

impl Sample for BaackSample {
    type Provider = Baack;
    const SECRETS: [&'static str; 2] = ["baack-token-2025", "baack-token-2026"];

    fn payload() -> String {
        BAACK.trim().to_string()
    }
    fn unknown_event_payload() -> String {
        Self::payload().replace(
            "\"subject\":\"IDENTITY_CLIENT_IDENTIFIER\",\"event\":\"CREATE\"",
            "\"subject\":\"COMPANY\",\"event\":\"CREATE\"",
        )
    }
    fn missing_field_payload() -> (String, &'static str) {
        (
            r#"{"trigger":{"urn":"t","subject":"IDENTITY","event":"CREATE"}}"#.into(),
            "body",
        )
    }
    fn event_id(_body: &str) -> String {
        "baack#urn:baack:webhooksubscription:41f2#urn:baack:trigger:5b0e4c1e-8f1a-4a8e-9a57-1f3f3c1d2e01".into()
    }
    fn event_type() -> &'static str {
        "IDENTITY_CLIENT_IDENTIFIER.CREATE"
    }
    fn resource() -> Value {
        json!({"id": "urn:baack:clientidentifier:7c2d",
               "url": "/n/v1/clientidentifier/urn:baack:clientidentifier:7c2d"})
    }
    fn occurred_at() -> Value {
        json!("2026-05-29T13:45:32Z")
    }
}

impl Sample for ClearIdSample {
    type Provider = ClearId;
    const SECRETS: [&'static str; 2] = ["clearid-shared-old", "clearid-shared-new"];
    const OPTIONS: &'static [(&'static str, &'static str)] =
        &[("WEBHOOK_SECRET_HEADER", "X-Webhook-Token")];
    const QUERY: &'static [(&'static str, &'static str)] = &[("event", "identity.deleted")];

    fn payload() -> String {
        CLEARID.trim().to_string()
    }
    fn unknown_event_payload() -> String {
        Self::payload()
    }
    fn unknown_event_query() -> &'static [(&'static str, &'static str)] {
        &[("event", "badge.printed")]
    }
    fn missing_field_payload() -> (String, &'static str) {
        (r#"{"IdentityId":"x","Ordinal":1}"#.into(), "body")
    }
    fn event_id(_body: &str) -> String {
        "clearid#identity.deleted#3f1c2a6e-0d3b-4a51-9d0e-2b7c1f9e8a10#a7d4e2c9-5b61-4f0a-8e3d-6c2b9f1e7d20#1042".into()
    }
    fn event_type() -> &'static str {
        "identity.deleted"
    }
    fn resource() -> Value {
        json!({"id": "a7d4e2c9-5b61-4f0a-8e3d-6c2b9f1e7d20",
               "url": "/api/v2/accounts/3f1c2a6e-0d3b-4a51-9d0e-2b7c1f9e8a10/identities/a7d4e2c9-5b61-4f0a-8e3d-6c2b9f1e7d20"})
    }
    fn occurred_at() -> Value {
        json!("2026-11-20T08:00:00Z")
    }
}

impl Sample for ArgyleSample {
    type Provider = Argyle;
    const SECRETS: [&'static str; 2] = ["argyle-secret-old", "argyle-secret-new"];

    fn payload() -> String {
        ARGYLE.trim().to_string()
    }
    fn unknown_event_payload() -> String {
        Self::payload().replace("identities.added", "identities.removed")
    }
    fn missing_field_payload() -> (String, &'static str) {
        (r#"{"name":"s","data":{"identity":"i"}}"#.into(), "body")
    }
    fn event_id(body: &str) -> String {
        format!("argyle#{}", sha256_hex(body.as_bytes()))
    }
    fn event_type() -> &'static str {
        "identities.added"
    }
    fn resource() -> Value {
        json!({"id": "0187c66e-f13b-31e4-6b2c-6a0dd4f67e43",
               "url": "/v2/identities/0187c66e-f13b-31e4-6b2c-6a0dd4f67e43"})
    }
    fn occurred_at() -> Value {
        Value::Null
    }
}

impl MidboundSample {
    /// Midbound signs with its payload's `id` as `webhook-id`.
    pub fn webhook_id(body: &str) -> String {
        let payload: Value = serde_json::from_str(body).expect("JSON payload");
        payload["id"].as_str().expect("payload id").to_string()
    }
}

impl Sample for MidboundSample {
    type Provider = Midbound;
    const SECRETS: [&'static str; 2] = [
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
    ];
    const OPTIONS: &'static [(&'static str, &'static str)] = &[("WEBHOOK_SECRET_ENCODING", "spec")];

    fn payload() -> String {
        MIDBOUND.trim().to_string()
    }
    fn unknown_event_payload() -> String {
        Self::payload().replace("identity.validated", "identity.merged")
    }
    fn missing_field_payload() -> (String, &'static str) {
        (r#"{"id":"evt_1","data":{}}"#.into(), "body")
    }
    fn event_id(body: &str) -> String {
        format!("midbound#{}", Self::webhook_id(body))
    }
    fn event_type() -> &'static str {
        "identity.validated"
    }
    fn resource() -> Value {
        Value::Null
    }
    fn occurred_at() -> Value {
        json!("2026-05-28T13:45:32Z")
    }
}
