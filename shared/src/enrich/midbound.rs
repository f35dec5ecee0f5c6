//! Midbound pushes the data in full and offers no re-fetch API: the payload is normalised into
//! the record as it is. Nothing can be confirmed with Midbound, so its data is taken on the
//! queue's word: whoever may send to the events queue can write Midbound identities (SECURITY.md).

use super::{FetchError, Fetched};
use crate::envelope::ReceivedEnvelope;

pub fn normalise(envelope: &ReceivedEnvelope) -> Result<Fetched, FetchError> {
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
