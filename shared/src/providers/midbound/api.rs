//! Midbound pushes the data in full and offers no re-fetch API: the payload is normalised into
//! the record as it is. Nothing can be confirmed with Midbound, so its data is taken on the
//! queue's word: whoever may send to the events queue can write Midbound identities (SECURITY.md).

use super::Midbound;
use crate::envelope::ReceivedEnvelope;
use crate::provider_api::{ApiConfig, Enrichment, FetchFuture, Refresh, Setting};
use crate::provider_api::{FetchError, Fetched, ProviderApi};
use std::time::Instant;

impl Enrichment for Midbound {
    const CREDENTIALS: &'static [&'static str] = &[];
    const SETTINGS: &'static [Setting] = &[];
    const REFRESH: Refresh = Refresh::Never(
        "Midbound's events carry each identity whole: there is no API to read it again from",
    );

    fn api(_: &ApiConfig<'_>) -> Option<Box<dyn ProviderApi>> {
        Some(Box::new(Pushed))
    }
}

/// The "API" of a provider whose events carry the data: the event's own `data`.
pub struct Pushed;

impl ProviderApi for Pushed {
    fn fetch<'a>(&'a self, envelope: &'a ReceivedEnvelope, _: Instant) -> FetchFuture<'a> {
        Box::pin(std::future::ready(normalise(envelope)))
    }
}

fn normalise(envelope: &ReceivedEnvelope) -> Result<Fetched, FetchError> {
    let data = envelope
        .payload
        .get("data")
        .cloned()
        .ok_or_else(|| FetchError::Permanent("Midbound payload has no data".into()))?;
    Ok(Fetched::Found {
        data,
        // Every Midbound event is a new fact: its own time orders it.
        updated_at: envelope.occurred_at.clone(),
    })
}
