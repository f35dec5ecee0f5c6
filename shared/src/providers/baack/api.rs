//! Baack: `GET <api base>/n/v1/<type>/<urn>` for the notified `v1.urn`, with an API client's
//! bearer token (scope `api.baack.co`, distinct from the webhook token).
//!
//! The path is built from the urn, never taken from `v1.url`: a payload-chosen path such as
//! `/n/v1/../v1/person/...` would fetch another object with our token and store it under the
//! notified resource's id. `v1.url` is only checked against the urn.

use super::Baack;
use crate::envelope::ReceivedEnvelope;
use crate::provider::Resource;
use crate::provider_api::http::{segment, ApiClient, ApiResponse, Auth};
use crate::provider_api::{
    delete_not_confirmed, resource, ApiConfig, Enrichment, FetchFuture, Setting,
};
use crate::provider_api::{FetchError, Fetched, ProviderApi};
use crate::secrets::Secret;
use std::time::Instant;

/// `BAACK_API_BASE`.
const API_BASE: Setting = Setting {
    name: "BAACK_API_BASE",
    default: "https://api.baack.co",
    is_url: true,
};

impl Enrichment for Baack {
    const CREDENTIALS: &'static [&'static str] = &["BAACK_API_TOKEN"];
    const SETTINGS: &'static [Setting] = &[API_BASE];

    fn api(config: &ApiConfig<'_>) -> Option<Box<dyn ProviderApi>> {
        let token = config.credentials.get("BAACK_API_TOKEN")?;
        Some(Box::new(BaackApi {
            client: config.client.independent(),
            base_url: config.settings.get(&API_BASE),
            token: token.clone(),
        }))
    }
}

/// Baack's urns are short; a longer one is not theirs.
const MAX_URN_BYTES: usize = 256;

pub struct BaackApi {
    pub client: ApiClient,
    pub base_url: String,
    pub token: Secret,
}

impl ProviderApi for BaackApi {
    fn fetch<'a>(&'a self, envelope: &'a ReceivedEnvelope, deadline: Instant) -> FetchFuture<'a> {
        Box::pin(self.read(envelope, deadline))
    }
}

impl BaackApi {
    async fn read(
        &self,
        envelope: &ReceivedEnvelope,
        deadline: Instant,
    ) -> Result<Fetched, FetchError> {
        // A DELETE notification is read like any other: only Baack's 404 makes the tombstone.
        let deleting = envelope.event_type.ends_with(".DELETE");
        let resource = resource(envelope)?;
        let path = Self::resource_path(resource)?;
        tracing::Span::current().record("resource_id", resource.id.as_str());
        let url = format!("{}{path}", self.base_url.trim_end_matches('/'));
        match self
            .client
            .get_json(&url, Auth::Bearer(self.token.expose()), deadline)
            .await?
        {
            ApiResponse::Json(data) => {
                if deleting {
                    delete_not_confirmed();
                }
                Ok(Fetched::Found {
                    updated_at: None,
                    data,
                })
            }
            ApiResponse::NotFound => Ok(Fetched::Gone),
            ApiResponse::Unauthorized => Err(FetchError::Permanent(
                "Baack refused the API token (401/403)".into(),
            )),
        }
    }

    /// `/n/v1/<type>/<urn>` for a `urn:baack:<type>:<id>` urn, or a permanent failure.
    ///
    /// When the payload also gives `v1.url`, it must name that same path. One variant is
    /// accepted as well: `/n/v1/<type><urn>`, without the `/` before the urn, exactly as Baack's
    /// own documentation example writes it. It names the same object, and since the fetched
    /// path comes from the urn either way, accepting it opens nothing; refusing it would send
    /// every delivery to the dead-letter queue if Baack really sends what it documents.
    pub fn resource_path(resource: &Resource) -> Result<String, FetchError> {
        let urn = resource.id.as_str();
        let kind = urn_type(urn).ok_or_else(|| {
            FetchError::Permanent("v1.urn is not a Baack urn: nothing fetched".into())
        })?;
        let path = format!("/n/v1/{}/{}", segment(kind), segment(urn));
        if let Some(url) = resource.url.as_deref() {
            // `kind` and `urn` hold only characters `segment` leaves as they are.
            let documented = format!("/n/v1/{kind}{urn}");
            if url != path && url != documented {
                return Err(FetchError::Permanent(
                    "v1.url is not the path of v1.urn: nothing fetched".into(),
                ));
            }
        }
        Ok(path)
    }
}

/// The `<type>` of `urn:baack:<type>:<id>`, when the whole urn has Baack's shape: at most
/// [`MAX_URN_BYTES`] of `[A-Za-z0-9._~:-]`, no `..`, a type of letters, digits, `_` and `-`,
/// and a non-empty id.
fn urn_type(urn: &str) -> Option<&str> {
    let allowed = |b: &u8| b.is_ascii_alphanumeric() || b"._~:-".contains(b);
    if urn.len() > MAX_URN_BYTES || !urn.bytes().all(|b| allowed(&b)) || urn.contains("..") {
        return None;
    }
    let (kind, id) = urn.strip_prefix("urn:baack:")?.split_once(':')?;
    let kind_ok = !kind.is_empty()
        && kind
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    (kind_ok && !id.is_empty()).then_some(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(id: &str, url: Option<&str>) -> Result<String, FetchError> {
        BaackApi::resource_path(&Resource {
            id: id.into(),
            url: url.map(String::from),
        })
    }

    const URN: &str = "urn:baack:clientidentifier:7c2d";
    const PATH: &str = "/n/v1/clientidentifier/urn:baack:clientidentifier:7c2d";

    #[test]
    fn the_path_comes_from_the_urn() {
        assert_eq!(path(URN, None).unwrap(), PATH);
        assert_eq!(path(URN, Some(PATH)).unwrap(), PATH);
        // The documentation's form, without the `/` before the urn.
        assert_eq!(
            path(
                URN,
                Some("/n/v1/clientidentifierurn:baack:clientidentifier:7c2d")
            )
            .unwrap(),
            PATH
        );
        assert_eq!(
            path("urn:baack:person:a:b_c~d.e-f", None).unwrap(),
            "/n/v1/person/urn:baack:person:a:b_c~d.e-f"
        );
        let longest = format!("urn:baack:person:{}", "a".repeat(MAX_URN_BYTES - 17));
        assert!(path(&longest, None).is_ok());
        assert!(path(&format!("{longest}a"), None).is_err());
    }

    #[test]
    fn a_url_naming_another_object_is_refused() {
        for url in [
            "/n/v1/../v1/person/urn:baack:person:1",
            "/n/v1/clientidentifier/../person/urn:baack:clientidentifier:7c2d",
            "/n/v1/person/urn:baack:clientidentifier:7c2d",
            "/n/v1/clientidentifier/urn:baack:clientidentifier:7c2d?expand=all",
            "/n/v1/clientidentifier/urn:baack:clientidentifier:7c2d/",
            "n/v1/clientidentifier/urn:baack:clientidentifier:7c2d",
            "https://evil.example/n/v1/clientidentifier/urn:baack:clientidentifier:7c2d",
            "",
        ] {
            assert!(
                matches!(path(URN, Some(url)), Err(FetchError::Permanent(_))),
                "{url:?}"
            );
        }
    }

    #[test]
    fn only_baack_urns_make_a_path() {
        for urn in [
            "",
            "urn:x",
            "urn:baack:",
            "urn:baack:person",
            "urn:baack:person:",
            "urn:baack::7c2d",
            "urn:other:person:7c2d",
            "urn:baack:..:7c2d",
            "urn:baack:per.son:7c2d",
            "urn:baack:person:..",
            "urn:baack:person:a..b",
            "urn:baack:person:a/b",
            "urn:baack:person:a%2Fb",
            "urn:baack:person:a?b",
            "urn:baack:person:a#b",
            "urn:baack:person:a b",
            "urn:baack:person:\u{e9}",
            "URN:baack:person:7c2d",
        ] {
            assert!(
                matches!(path(urn, None), Err(FetchError::Permanent(_))),
                "{urn:?}"
            );
        }
    }
}
