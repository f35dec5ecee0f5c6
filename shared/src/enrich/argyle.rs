//! Argyle: `GET /v2/identities/{id}` with HTTP Basic (API key id and secret). The identity holds
//! an SSN: it is stored, never logged.

use super::http::{ApiClient, ApiResponse, Auth};
use super::{resource, FetchError, Fetched};
use crate::envelope::ReceivedEnvelope;
use crate::secrets::Secret;
use std::time::Instant;

pub struct ArgyleApi {
    pub client: ApiClient,
    pub base_url: String,
    pub key_id: String,
    pub key_secret: Secret,
}

impl ArgyleApi {
    pub async fn fetch(
        &self,
        envelope: &ReceivedEnvelope,
        deadline: Instant,
    ) -> Result<Fetched, FetchError> {
        let id = &resource(envelope)?.id;
        let url = format!("{}/v2/identities/{id}", self.base_url.trim_end_matches('/'));
        let auth = Auth::Basic(&self.key_id, self.key_secret.expose());
        match self.client.get_json(&url, auth, deadline).await? {
            ApiResponse::Json(data) => Ok(Fetched::Found {
                updated_at: data
                    .get("updated_at")
                    .and_then(|v| v.as_str())
                    .map(crate::providers::normalise_timestamp),
                data,
            }),
            ApiResponse::NotFound => Ok(Fetched::Gone),
            ApiResponse::Unauthorized => Err(FetchError::Permanent(
                "Argyle refused the API key (401/403)".into(),
            )),
        }
    }
}
