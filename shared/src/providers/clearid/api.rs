//! Genetec ClearID: an OAuth2 client-credentials token, cached until shortly before it expires,
//! then the identity lookup under the account (path configurable: the by-id route is
//! unconfirmed).

use super::ClearId;
use crate::envelope::ReceivedEnvelope;
use crate::provider_api::http::{segment, token_lifetime, ApiClient, ApiResponse, Auth};
use crate::provider_api::{
    delete_not_confirmed, resource, ApiConfig, Enrichment, FetchFuture, Refresh, Setting,
};
use crate::provider_api::{FetchError, Fetched, ProviderApi};
use crate::secrets::Secret;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// `CLEARID_TOKEN_URL`: the OAuth2 token endpoint.
const TOKEN_URL: Setting = Setting {
    name: "CLEARID_TOKEN_URL",
    default: "https://sts.clearid.io/connect/token",
    is_url: true,
};

/// `CLEARID_API_BASE`.
const API_BASE: Setting = Setting {
    name: "CLEARID_API_BASE",
    default: "https://identityservice.clearid.io",
    is_url: true,
};

/// `CLEARID_IDENTITY_PATH`, with `{account_id}` and `{identity_id}` placeholders: configurable
/// because the by-id route is unconfirmed.
const IDENTITY_PATH: Setting = Setting {
    name: "CLEARID_IDENTITY_PATH",
    default: "/api/v2/accounts/{account_id}/identities/{identity_id}",
    is_url: false,
};

impl Enrichment for ClearId {
    const CREDENTIALS: &'static [&'static str] = &["CLEARID_CLIENT_ID", "CLEARID_CLIENT_SECRET"];
    const SETTINGS: &'static [Setting] = &[TOKEN_URL, API_BASE, IDENTITY_PATH];
    // The identity's path names its account, which only the events carry.
    const REFRESH: Refresh = Refresh::WithLatestEvent;

    fn api(config: &ApiConfig<'_>) -> Option<Box<dyn ProviderApi>> {
        let client_id = config.credentials.get("CLEARID_CLIENT_ID")?;
        let client_secret = config.credentials.get("CLEARID_CLIENT_SECRET")?;
        Some(Box::new(ClearIdApi::new(
            config.client.independent(),
            config.settings.get(&TOKEN_URL),
            config.settings.get(&API_BASE),
            config.settings.get(&IDENTITY_PATH),
            client_id.expose().to_string(),
            client_secret.clone(),
        )))
    }
}

impl ProviderApi for ClearIdApi {
    fn fetch<'a>(&'a self, envelope: &'a ReceivedEnvelope, deadline: Instant) -> FetchFuture<'a> {
        Box::pin(self.read(envelope, deadline))
    }
}

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

    async fn read(
        &self,
        envelope: &ReceivedEnvelope,
        deadline: Instant,
    ) -> Result<Fetched, FetchError> {
        // A deletion is read like any other event: only ClearID's 404 makes the tombstone.
        let deleting = envelope.event_type == "identity.deleted";
        let identity = &resource(envelope)?.id;
        let account = ["AccountId", "accountId"]
            .iter()
            .find_map(|k| envelope.payload.get(*k)?.as_str())
            .ok_or_else(|| FetchError::Permanent("payload has no AccountId".into()))?;
        let path = Self::identity_path(&self.identity_path, account, identity)?;
        tracing::Span::current().record("resource_id", identity.as_str());
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
                    if deleting {
                        delete_not_confirmed();
                    }
                    return Ok(Fetched::Found {
                        updated_at: None,
                        data,
                    });
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
            let cached = self.token.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((token, expires)) = cached.as_ref() {
                // Subtracting, not adding: nothing here can overflow an `Instant`.
                if expires.saturating_duration_since(Instant::now()) > EXPIRY_MARGIN {
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
        // Capped (24 h), so the expiry is always a representable `Instant`; were it not, the
        // token is used once and not cached.
        let lifetime = token_lifetime(body.get("expires_in"));
        *self.token.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now()
            .checked_add(lifetime)
            .map(|expires| (token.clone(), expires));
        Ok(token)
    }

    /// `template` (`CLEARID_IDENTITY_PATH`) with the account and identity ids filled in, each
    /// percent-encoded, or a permanent failure when either is not of ClearID's id shape.
    ///
    /// Their shape is unconfirmed (GUIDs are expected), so any `[A-Za-z0-9._-]{1,128}` is taken,
    /// except `.`/`..` sequences: enough for GUIDs and most id schemes, never a `/`, `%`, `?`,
    /// `#` or dot segment that could make the call (with our token) reach another resource.
    pub fn identity_path(
        template: &str,
        account: &str,
        identity: &str,
    ) -> Result<String, FetchError> {
        if !is_clearid_id(account) {
            return Err(FetchError::Permanent(
                "AccountId is not a ClearID id: nothing fetched".into(),
            ));
        }
        if !is_clearid_id(identity) {
            return Err(FetchError::Permanent(
                "IdentityId is not a ClearID id: nothing fetched".into(),
            ));
        }
        Ok(template
            .replace("{account_id}", &segment(account))
            .replace("{identity_id}", &segment(identity)))
    }
}

fn is_clearid_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
        && id != "."
        && !id.contains("..")
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = "/api/v2/accounts/{account_id}/identities/{identity_id}";

    #[test]
    fn ids_of_clearid_shape_fill_the_template() {
        assert_eq!(
            ClearIdApi::identity_path(
                TEMPLATE,
                "3f1c2a6e-0d3b-4a51-9d0e-2b7c1f9e8a10",
                "a7d4e2c9-5b61-4f0a-8e3d-6c2b9f1e7d20"
            )
            .unwrap(),
            "/api/v2/accounts/3f1c2a6e-0d3b-4a51-9d0e-2b7c1f9e8a10/identities/\
             a7d4e2c9-5b61-4f0a-8e3d-6c2b9f1e7d20"
        );
        assert_eq!(
            ClearIdApi::identity_path(TEMPLATE, "acc_1.x", "ID-7").unwrap(),
            "/api/v2/accounts/acc_1.x/identities/ID-7"
        );
        let longest = "a".repeat(128);
        assert!(ClearIdApi::identity_path(TEMPLATE, &longest, &longest).is_ok());
    }

    #[test]
    fn other_ids_are_refused() {
        let too_long = "a".repeat(129);
        for bad in [
            "",
            ".",
            "..",
            "a..b",
            "../acc-2",
            "acc-1/identities/id-8",
            "acc%2F1",
            "acc?x=1",
            "acc#x",
            "acc 1",
            "acc{identity_id}",
            "\u{e9}",
            too_long.as_str(),
        ] {
            for (account, identity) in [(bad, "id-7"), ("acc-1", bad)] {
                assert!(
                    matches!(
                        ClearIdApi::identity_path(TEMPLATE, account, identity),
                        Err(FetchError::Permanent(_))
                    ),
                    "{account:?} {identity:?}"
                );
            }
        }
    }
}
