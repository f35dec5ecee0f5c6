//! The providers, one folder each: how a delivery is authenticated and read, and its dedup key
//! (`ingest`); how the identity is read again for enrichment (`api`); its samples (`sample`).
//! [`ALL`] is the one list of them: the enricher, the operator's tool, the scripts (through
//! `hookline providers`) and the tests read it, and [`crate::for_each_provider!`] gives the
//! same list to code that is generic over the provider type.

pub mod argyle;
pub mod baack;
pub mod clearid;
pub mod midbound;

pub use argyle::Argyle;
pub use baack::Baack;
pub use clearid::ClearId;
pub use midbound::Midbound;

use crate::json_text::PayloadError;
use crate::provider::{Provider, Sample, Unique};
use crate::provider_api::{ApiConfig, Enrichment, ProviderApi, Refresh, Setting};
use serde_json::Value;

/// The one list of providers, in the order the documents list them: adding a provider is
/// adding it here. Three forms:
///
/// - `for_each_provider!(|P| expression)`: the expression once per provider, with `P` the
///   provider's type (`for_each_provider!(|P| check::<P>().await)`);
/// - `for_each_provider!(mod |P| { items })`: a module per provider, named after it, holding
///   `use super::*`, `type P = <the provider>` and the items (one test per provider);
/// - `for_each_provider!(callback)`, or with extra tokens `for_each_provider!(callback, ...)`:
///   `callback! { [module::Type, ...], ... }`, for anything else.
#[macro_export]
macro_rules! for_each_provider {
    (@list [$($module:ident::$provider:ident),*] |$p:ident| $body:expr) => {
        $({
            type $p = $crate::providers::$provider;
            $body;
        })*
    };
    (@list [$($module:ident::$provider:ident),*] mod |$p:ident| $items:tt) => {
        $(
            mod $module {
                #[allow(unused_imports)]
                use super::*;
                type $p = $crate::providers::$provider;
                $crate::__items! $items
            }
        )*
    };
    (@list $list:tt $callback:ident $(, $($extra:tt)*)?) => {
        $callback! { $list $(, $($extra)*)? }
    };
    ($($input:tt)*) => {
        $crate::for_each_provider! {
            @list [baack::Baack, clearid::ClearId, argyle::Argyle, midbound::Midbound]
            $($input)*
        }
    };
}

/// The items of a braced group, as they are (`for_each_provider!`'s module form).
#[doc(hidden)]
#[macro_export]
macro_rules! __items {
    ($($item:tt)*) => { $($item)* };
}

/// One provider as code that is not generic over it sees it.
pub struct Registered {
    /// [`Provider::NAME`].
    pub name: &'static str,
    /// The type's name, which prefixes the provider's resources, parameters and outputs in
    /// `template.yaml` (`ClearIdFunction`, `ClearIdSecretArn`, `ClearIdWebhookUrl`).
    pub template_prefix: &'static str,
    /// [`Provider::NAMES_RESOURCE`].
    pub names_resource: bool,
    /// [`Provider::URL_EVENT_TYPES`].
    pub url_event_types: &'static [&'static str],
    /// [`Enrichment::CREDENTIALS`].
    pub credentials: &'static [&'static str],
    /// [`Enrichment::SETTINGS`].
    pub settings: &'static [Setting],
    /// [`Sample::PAYLOAD`]: the documented example the tests and fixtures start from.
    pub sample: &'static str,
    /// [`Sample::QUERY`]: the query string of the URL registered with the provider.
    pub sample_query: &'static [(&'static str, &'static str)],
    /// [`Enrichment::REFRESH`].
    pub refresh: Refresh,
    api: fn(&ApiConfig<'_>) -> Option<Box<dyn ProviderApi>>,
    update: &'static str,
    make_unique: fn(&mut Value, &Unique),
    about: fn(&mut Value, &str) -> Result<(), PayloadError>,
}

impl Registered {
    const fn of<P: Provider + Enrichment + Sample>(template_prefix: &'static str) -> Self {
        Self {
            name: P::NAME,
            template_prefix,
            names_resource: P::NAMES_RESOURCE,
            url_event_types: P::URL_EVENT_TYPES,
            credentials: P::CREDENTIALS,
            settings: P::SETTINGS,
            sample: P::PAYLOAD,
            sample_query: P::QUERY,
            refresh: P::REFRESH,
            api: P::api,
            update: P::UPDATE,
            make_unique: P::make_unique,
            about: P::about,
        }
    }

    /// The stack's outputs that give the URLs to register with the provider, each with the
    /// event type it is for (`None`: every type): `<prefix>WebhookUrl`, or one
    /// `<prefix><EventType>WebhookUrl` per URL event type (`ClearIdIdentityCreatedWebhookUrl`).
    pub fn webhook_outputs(&self) -> Vec<(String, Option<&'static str>)> {
        if self.url_event_types.is_empty() {
            return vec![(format!("{}WebhookUrl", self.template_prefix), None)];
        }
        self.url_event_types
            .iter()
            .map(|event_type| {
                let words: String = event_type
                    .split(['.', '_'])
                    .map(|word| {
                        let mut chars = word.chars();
                        chars.next().map_or(String::new(), |first| {
                            first.to_uppercase().chain(chars).collect()
                        })
                    })
                    .collect();
                (
                    format!("{}{words}WebhookUrl", self.template_prefix),
                    Some(*event_type),
                )
            })
            .collect()
    }

    /// [`Enrichment::api`].
    pub fn api(&self, config: &ApiConfig<'_>) -> Option<Box<dyn ProviderApi>> {
        (self.api)(config)
    }

    /// [`Sample::UPDATE`]: an update of an identity, as the provider sends it.
    pub fn update_sample(&self) -> &'static str {
        self.update
    }

    /// [`Sample::make_unique`].
    pub fn make_unique(&self, payload: &mut Value, unique: &Unique) {
        (self.make_unique)(payload, unique)
    }

    /// The update sample about the identity `id` ([`Sample::about`]).
    pub fn update_about(&self, id: &str) -> Vec<u8> {
        let mut value: Value =
            serde_json::from_str(self.update).expect("a built-in sample is JSON");
        (self.about)(&mut value, id).expect("a built-in sample is an object");
        serde_json::to_vec(&value).expect("a JSON value serializes")
    }
}

macro_rules! registry {
    ([$($module:ident::$provider:ident),*]) => {
        /// Every provider, in the order of [`crate::for_each_provider!`].
        pub static ALL: &[Registered] = &[$(Registered::of::<$provider>(stringify!($provider))),*];
    };
}
for_each_provider!(registry);

/// The provider called `name`.
pub fn find(name: &str) -> Option<&'static Registered> {
    ALL.iter().find(|provider| provider.name == name)
}

/// Every provider's name, in order.
pub fn names() -> impl Iterator<Item = &'static str> {
    ALL.iter().map(|provider| provider.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_lowercase_and_found() {
        let names: Vec<_> = names().collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        for name in names {
            assert!(name.bytes().all(|b| b.is_ascii_lowercase()), "{name}");
            assert_eq!(find(name).map(|p| p.name), Some(name));
        }
        assert!(find("unknown").is_none());
    }

    /// What a provider declares about naming resources is what reading its sample gives.
    fn names_resource_as_declared<P: Sample>() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let provider = P::from_config(&crate::config::test_config(secret)).unwrap();
        let mut request = crate::request::WebhookRequest::post(Default::default(), P::payload());
        for (name, value) in P::QUERY {
            request.query.insert(name.to_string(), value.to_string());
        }
        provider.sign(secret, &mut request, 1_800_000_000).unwrap();
        let delivery = provider.parse(&request).unwrap().delivery;
        assert_eq!(
            delivery.resource.is_some(),
            P::NAMES_RESOURCE,
            "{}",
            P::NAME
        );
    }

    #[test]
    fn each_provider_names_resources_as_it_declares() {
        crate::for_each_provider!(|P| names_resource_as_declared::<P>());
    }

    #[test]
    fn a_url_per_event_type_is_an_output_per_event_type() {
        let outputs = find("clearid").unwrap().webhook_outputs();
        assert_eq!(outputs.len(), 5);
        assert_eq!(
            outputs[3],
            (
                "ClearIdIdentityRequestCreatedWebhookUrl".to_string(),
                Some("identity_request.created")
            )
        );
        assert_eq!(
            find("baack").unwrap().webhook_outputs(),
            [("BaackWebhookUrl".to_string(), None)]
        );
    }

    #[test]
    fn every_update_sample_about_an_id_is_json_naming_it() {
        for provider in ALL {
            let body = provider.update_about("hookline-check-0");
            let text = String::from_utf8(body).unwrap();
            assert!(text.contains("hookline-check-0"), "{}", provider.name);
        }
    }
}
