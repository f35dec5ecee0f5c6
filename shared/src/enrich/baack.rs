//! Baack: `GET <api base> + v1.url` with an API client's bearer token (scope `api.baack.co`,
//! distinct from the webhook token).

use super::http::{ApiClient, ApiResponse, Auth};
use super::{resource, FetchError, Fetched};
use crate::envelope::ReceivedEnvelope;
use crate::secrets::Secret;
use std::time::Instant;

pub struct BaackApi {
    pub client: ApiClient,
    pub base_url: String,
    pub token: Secret,
}

impl BaackApi {
    pub async fn fetch(
        &self,
        envelope: &ReceivedEnvelope,
        deadline: Instant,
    ) -> Result<Fetched, FetchError> {
        // A DELETE notification means the subject is gone: nothing to read.
        if envelope.event_type.ends_with(".DELETE") {
            return Ok(Fetched::Gone);
        }
        let path = resource(envelope)?
            .url
            .as_deref()
            .filter(|p| p.starts_with('/'))
            .ok_or_else(|| FetchError::Permanent("v1.url is not an absolute path".into()))?;
        let url = format!("{}{path}", self.base_url.trim_end_matches('/'));
        match self
            .client
            .get_json(&url, Auth::Bearer(self.token.expose()), deadline)
            .await?
        {
            ApiResponse::Json(data) => Ok(Fetched::Found {
                updated_at: None,
                data,
            }),
            ApiResponse::NotFound => Ok(Fetched::Gone),
            ApiResponse::Unauthorized => Err(FetchError::Permanent(
                "Baack refused the API token (401/403)".into(),
            )),
        }
    }
}
