//! Signed deliveries of every provider's sample (the samples themselves, and what the pipeline
//! derives from them, are the provider's own: `hookline::provider::Sample`).

use hookline::request::WebhookRequest;
use hookline::secrets::Secrets;
use hookline::verify::standard_webhooks::ID_HEADER;
use hookline::{AuthConfig, Config};
use serde_json::Value;

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A provider's sample, signed as the provider signs it: every provider of the registry is one.
pub trait Sample: hookline::provider::Sample {
    /// Headers the provider sends with `body` when configured with `secret`, signed now.
    fn headers(secret: &str, body: &str) -> Vec<(String, String)> {
        Self::headers_at(secret, body, now(), None)
    }

    /// As [`Sample::headers`] at Unix time `timestamp`, with an explicit `webhook-id` if given.
    /// Signs with the product's own signing code, configured with the sample's options.
    fn headers_at(
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
        let provider = Self::from_config(&auth).expect("sample provider");
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
    fn vars() -> Vec<(&'static str, String)> {
        let mut vars: Vec<(&'static str, String)> = Self::OPTIONS
            .iter()
            .map(|(k, v)| (*k, v.to_string()))
            .collect();
        vars.push(("WEBHOOK_SECRETS", Self::SECRETS.join(",")));
        vars
    }
}

impl<P: hookline::provider::Sample> Sample for P {}

/// Midbound signs with its payload's `id` as `webhook-id`.
pub fn webhook_id(body: &str) -> String {
    let payload: Value = serde_json::from_str(body).expect("JSON payload");
    payload["id"].as_str().expect("payload id").to_string()
}
