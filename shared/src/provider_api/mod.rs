//! The port through which the enricher reads an identity again from its provider: what a
//! provider supplies for enrichment (its API, behind [`ProviderApi`], and what that needs from
//! the enricher's configuration, declared by [`Enrichment`]), an in-memory fake, and the HTTP
//! client every provider's API uses ([`http`]).

pub mod http;
#[cfg(test)]
pub mod stand_in;

use crate::envelope::ReceivedEnvelope;
use crate::secrets::Secret;
use http::ApiClient;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Instant;

pub use crate::identity::Fetched;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// Worth another delivery of the message (throttling, outage, timeout).
    #[error("retryable: {0}")]
    Retryable(String),
    /// Will not get better by retrying (bad credentials, malformed data); still reported as a
    /// failure so the redrive policy moves the message to the dead-letter queue.
    #[error("permanent: {0}")]
    Permanent(String),
}

/// One read's future. Boxed so that the enricher can hold every provider's API in one map.
pub type FetchFuture<'a> = Pin<Box<dyn Future<Output = Result<Fetched, FetchError>> + Send + 'a>>;

/// Reads the current state of the identity a queued event names. `deadline` bounds every call
/// and retry.
pub trait ProviderApi: Send + Sync {
    fn fetch<'a>(&'a self, envelope: &'a ReceivedEnvelope, deadline: Instant) -> FetchFuture<'a>;
}

/// A shared API is the API: a test keeps a handle on the fake it gave the enricher.
impl<T: ProviderApi + ?Sized> ProviderApi for std::sync::Arc<T> {
    fn fetch<'a>(&'a self, envelope: &'a ReceivedEnvelope, deadline: Instant) -> FetchFuture<'a> {
        (**self).fetch(envelope, deadline)
    }
}

/// One configuration value a provider's API reads: an environment variable of the enricher (and
/// the template's parameter behind it), with its default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    pub name: &'static str,
    pub default: &'static str,
    /// Checked as a provider URL at start-up (`https://`, or `http://` to a loopback host).
    pub is_url: bool,
}

/// The settings' values, by name, as the enricher's configuration read them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings(BTreeMap<&'static str, String>);

impl Settings {
    pub fn new(values: impl IntoIterator<Item = (&'static str, String)>) -> Self {
        Self(values.into_iter().collect())
    }

    /// The value of `setting`, or its default.
    pub fn get(&self, setting: &Setting) -> String {
        self.0
            .get(setting.name)
            .cloned()
            .unwrap_or_else(|| setting.default.to_string())
    }
}

/// API credentials by name; `Debug` shows names only.
#[derive(Clone, Default)]
pub struct Credentials(HashMap<String, Secret>);

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.0.keys().collect();
        names.sort();
        f.debug_tuple("Credentials").field(&names).finish()
    }
}

impl Credentials {
    pub fn get(&self, name: &str) -> Option<&Secret> {
        self.0.get(name)
    }

    /// The pairs whose name is in `known`, blank values left out.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>, known: &[&str]) -> Self {
        Self(
            pairs
                .into_iter()
                .filter(|(k, v)| known.contains(&k.as_str()) && !v.trim().is_empty())
                .map(|(k, v)| (k, Secret::new(v.trim())))
                .collect(),
        )
    }
}

/// What building a provider's API is given.
pub struct ApiConfig<'a> {
    pub settings: &'a Settings,
    pub credentials: &'a Credentials,
    /// The enricher's one connection pool; each provider takes an `independent()` copy so that
    /// one provider's `Retry-After` does not hold back the others.
    pub client: &'a ApiClient,
}

/// A provider's enrichment: the configuration its API reads and how it is built.
/// How `hookline identities refresh` has an identity read again (`ops::refresh`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresh {
    /// A message naming the resource is enough: the API reads it by its id.
    ById,
    /// The API needs what the provider's events carry beside the id (ClearID: the account),
    /// which the identity's latest kept event gives.
    WithLatestEvent,
    /// There is nothing to read again, and why.
    Never(&'static str),
}

pub trait Enrichment {
    /// How the identity is read again on request.
    const REFRESH: Refresh = Refresh::ById;
    /// The credential names, as environment variables and as keys of the enricher's secret.
    const CREDENTIALS: &'static [&'static str];
    /// The settings its API reads besides the credentials.
    const SETTINGS: &'static [Setting];

    /// The provider's API, or `None` when its credentials are not (all) configured: its events
    /// then fail as not configured.
    fn api(config: &ApiConfig<'_>) -> Option<Box<dyn ProviderApi>>;
}

/// The resource to fetch, or a permanent failure naming what is missing.
pub fn resource(envelope: &ReceivedEnvelope) -> Result<&crate::provider::Resource, FetchError> {
    envelope
        .resource
        .as_ref()
        .ok_or_else(|| FetchError::Permanent("the event names no resource to fetch".into()))
}

/// Logs a delete event the provider's read refuted: it still returns the identity, which is
/// recorded as present, as an update would be. The queue is not trusted to delete: whoever may
/// send to it could otherwise tombstone any identity and announce `deleted` downstream. The
/// span names the provider, event and resource; nothing of the data is logged.
pub fn delete_not_confirmed() {
    tracing::warn!(
        "delete not confirmed: the provider still returns the identity, recorded as present"
    );
}

/// A provider API in memory, for tests: answers each identity id with what was put for it (an
/// unknown id is gone), and remembers the ids it was asked for.
#[derive(Default)]
pub struct MemoryApi {
    identities: Mutex<HashMap<String, Result<Fetched, FetchError>>>,
    asked: Mutex<Vec<String>>,
}

impl MemoryApi {
    pub fn put(&self, id: &str, answer: Result<Fetched, FetchError>) {
        self.identities
            .lock()
            .expect("not poisoned")
            .insert(id.to_string(), answer);
    }

    pub fn asked(&self) -> Vec<String> {
        self.asked.lock().expect("not poisoned").clone()
    }
}

impl ProviderApi for MemoryApi {
    fn fetch<'a>(&'a self, envelope: &'a ReceivedEnvelope, _: Instant) -> FetchFuture<'a> {
        Box::pin(async move {
            let id = &resource(envelope)?.id;
            self.asked.lock().expect("not poisoned").push(id.clone());
            self.identities
                .lock()
                .expect("not poisoned")
                .get(id)
                .cloned()
                .unwrap_or(Ok(Fetched::Gone))
        })
    }
}
