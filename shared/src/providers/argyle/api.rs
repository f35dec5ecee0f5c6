//! Argyle: `GET /v2/identities/{id}` with HTTP Basic (API key id and secret). The identity holds
//! an SSN: it is stored, never logged.

use super::Argyle;
use crate::envelope::ReceivedEnvelope;
use crate::provider_api::http::{segment, ApiClient, ApiResponse, Auth};
use crate::provider_api::{resource, ApiConfig, Enrichment, FetchFuture, Setting};
use crate::provider_api::{FetchError, Fetched, ProviderApi};
use crate::secrets::Secret;
use std::time::Instant;

/// `ARGYLE_API_BASE` (sandbox: `https://api-sandbox.argyle.com`).
const API_BASE: Setting = Setting {
    name: "ARGYLE_API_BASE",
    default: "https://api.argyle.com",
    is_url: true,
};

impl Enrichment for Argyle {
    const CREDENTIALS: &'static [&'static str] = &["ARGYLE_API_KEY_ID", "ARGYLE_API_KEY_SECRET"];
    const SETTINGS: &'static [Setting] = &[API_BASE];

    fn api(config: &ApiConfig<'_>) -> Option<Box<dyn ProviderApi>> {
        let key_id = config.credentials.get("ARGYLE_API_KEY_ID")?;
        let key_secret = config.credentials.get("ARGYLE_API_KEY_SECRET")?;
        Some(Box::new(ArgyleApi {
            client: config.client.independent(),
            base_url: config.settings.get(&API_BASE),
            key_id: key_id.expose().to_string(),
            key_secret: key_secret.clone(),
        }))
    }
}

pub struct ArgyleApi {
    pub client: ApiClient,
    pub base_url: String,
    pub key_id: String,
    pub key_secret: Secret,
}

impl ProviderApi for ArgyleApi {
    fn fetch<'a>(&'a self, envelope: &'a ReceivedEnvelope, deadline: Instant) -> FetchFuture<'a> {
        Box::pin(self.read(envelope, deadline))
    }
}

impl ArgyleApi {
    async fn read(
        &self,
        envelope: &ReceivedEnvelope,
        deadline: Instant,
    ) -> Result<Fetched, FetchError> {
        let id = &resource(envelope)?.id;
        let path = Self::identity_path(id)?;
        tracing::Span::current().record("resource_id", id.as_str());
        let url = format!("{}{path}", self.base_url.trim_end_matches('/'));
        let auth = Auth::Basic(&self.key_id, self.key_secret.expose());
        match self.client.get_json(&url, auth, deadline).await? {
            ApiResponse::Json(data) => Ok(Fetched::Found {
                updated_at: data
                    .get("updated_at")
                    .and_then(|v| v.as_str())
                    // Bounded as a delivery's time is: kept in the record, it must fit.
                    .and_then(crate::timestamp::occurred_at),
                data,
            }),
            ApiResponse::NotFound => Ok(Fetched::Gone),
            ApiResponse::Unauthorized => Err(FetchError::Permanent(
                "Argyle refused the API key (401/403)".into(),
            )),
        }
    }

    /// The identity's API path. The id comes from the (signed, but still external) payload and
    /// the call carries our API key, so only Argyle's id shape, a UUID, is accepted: anything
    /// else could point the call at another resource. A bad id is a permanent failure.
    pub fn identity_path(id: &str) -> Result<String, FetchError> {
        if !is_uuid(id) {
            return Err(FetchError::Permanent(
                "data.identity is not a UUID: nothing fetched".into(),
            ));
        }
        Ok(format!("/v2/identities/{}", segment(id)))
    }
}

/// 8-4-4-4-12 hex digits, either case (Argyle's ids are lowercase; case says nothing unsafe).
fn is_uuid(id: &str) -> bool {
    let bytes = id.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_uuids_make_a_path() {
        assert_eq!(
            ArgyleApi::identity_path("0187c66e-f13b-31e4-6b2c-6a0dd4f67e43").unwrap(),
            "/v2/identities/0187c66e-f13b-31e4-6b2c-6a0dd4f67e43"
        );
        assert!(ArgyleApi::identity_path("0187C66E-F13B-31E4-6B2C-6A0DD4F67E43").is_ok());
        for bad in [
            "",
            "0187c66e-f13b-31e4-6b2c-6a0dd4f67e4",
            "0187c66e-f13b-31e4-6b2c-6a0dd4f67e433",
            "0187c66ef13b31e46b2c6a0dd4f67e43",
            "0187c66e-f13b-31e4-6b2c-6a0dd4f67e4g",
            "0187c66e-f13b-31e4-6b2c_6a0dd4f67e43",
            "../../v2/accounts/0187c66e-f13b-31e4",
            "0187c66e-f13b-31e4-6b2c-6a0dd4f6%2F3",
            "0187c66e-f13b-31e4-6b2c-6a0dd4f67?a=",
            "0187c66e-f13b-31e4-6b2c-6a0dd4f67e4\u{e9}",
        ] {
            assert!(
                matches!(ArgyleApi::identity_path(bad), Err(FetchError::Permanent(_))),
                "{bad:?}"
            );
        }
    }
}
