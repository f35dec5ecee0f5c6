//! Genetec ClearID: an OAuth2 client-credentials token, cached until shortly before it expires,
//! then the identity lookup under the account (path configurable: the by-id route is
//! unconfirmed).

use super::http::{ApiClient, ApiResponse, Auth};
use super::{resource, FetchError, Fetched};
use crate::envelope::ReceivedEnvelope;
use crate::secrets::Secret;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Refresh this long before the token's stated expiry, so no call races it.
const EXPIRY_MARGIN: Duration = Duration::from_secs(60);

pub struct ClearIdApi {
    pub client: ApiClient,
    pub token_url: String,
    pub base_url: String,
    /// With `{account_id}` and `{identity_id}` placeholders.
    pub identity_path: String,
    pub client_id: String,
    pub client_secret: Secret,
    token: Mutex<Option<(Secret, Instant)>>,
}

impl ClearIdApi {
    pub fn new(
        client: ApiClient,
        token_url: String,
        base_url: String,
        identity_path: String,
        client_id: String,
        client_secret: Secret,
    ) -> Self {
        Self {
            client,
            token_url,
            base_url,
            identity_path,
            client_id,
            client_secret,
            token: Mutex::new(None),
        }
    }

    pub async fn fetch(
        &self,
        envelope: &ReceivedEnvelope,
        deadline: Instant,
    ) -> Result<Fetched, FetchError> {
        if envelope.event_type == "identity.deleted" {
            return Ok(Fetched::Gone);
        }
        let identity = &resource(envelope)?.id;
        let account = ["AccountId", "accountId"]
            .iter()
            .find_map(|k| envelope.payload.get(*k)?.as_str())
            .ok_or_else(|| FetchError::Permanent("payload has no AccountId".into()))?;
        let path = self
            .identity_path
            .replace("{account_id}", account)
            .replace("{identity_id}", identity);
        let url = format!("{}{path}", self.base_url.trim_end_matches('/'));
        // A token can be revoked or expire early: on 401, fetch a new one and try once more.
        for fresh in [false, true] {
            let token = self.token(deadline, fresh).await?;
            match self
                .client
                .get_json(&url, Auth::Bearer(token.expose()), deadline)
                .await?
            {
                ApiResponse::Json(data) => {
                    return Ok(Fetched::Found {
                        updated_at: None,
                        data,
                    })
                }
                ApiResponse::NotFound => return Ok(Fetched::Gone),
                ApiResponse::Unauthorized => continue,
            }
        }
        Err(FetchError::Permanent(
            "ClearID refused a freshly issued token (401/403)".into(),
        ))
    }

    async fn token(&self, deadline: Instant, fresh: bool) -> Result<Secret, FetchError> {
        if !fresh {
            if let Some((token, expires)) = self.token.lock().unwrap().as_ref() {
                if Instant::now() + EXPIRY_MARGIN < *expires {
                    return Ok(token.clone());
                }
            }
        }
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose()),
        ];
        let body = match self
            .client
            .post_form(&self.token_url, &form, deadline)
            .await?
        {
            ApiResponse::Json(body) => body,
            ApiResponse::NotFound | ApiResponse::Unauthorized => {
                return Err(FetchError::Permanent(
                    "ClearID refused the client credentials".into(),
                ))
            }
        };
        let token = body
            .get("access_token")
            .and_then(|v| v.as_str())
            .map(Secret::new)
            .ok_or_else(|| FetchError::Permanent("token response has no access_token".into()))?;
        let lifetime = body
            .get("expires_in")
            .and_then(|v| v.as_u64())
            .unwrap_or(3600);
        let expires = Instant::now() + Duration::from_secs(lifetime);
        *self.token.lock().unwrap() = Some((token.clone(), expires));
        Ok(token)
    }
}
