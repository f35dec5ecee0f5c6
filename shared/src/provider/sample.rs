//! What a provider supplies about its sample deliveries: the example payloads (from
//! `events/payloads/`), what the pipeline derives from them, and the edits that make a delivery
//! a new event or one about a chosen identity. `hookline load` and `hookline sign --check`, the
//! tests, the fuzz targets and the invoke fixtures all start from these, so a new provider is
//! covered by each of them once its sample exists.

use super::Provider;
use crate::json_text::PayloadError;
use serde_json::Value;

/// What makes one generated event unique: a run's id and the event's number in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unique {
    /// Eight hex digits, for text fields.
    pub run: String,
    /// The run's id as a number below 2^32, for numeric fields.
    pub run_number: u64,
    pub event: u64,
}

impl Unique {
    /// Text no other event of any run has.
    pub fn text(&self) -> String {
        format!("load-{}-{}", self.run, self.event)
    }

    /// A number no other event of any run has while a run sends fewer than a billion events.
    pub fn number(&self) -> u64 {
        self.run_number * 1_000_000_000 + self.event
    }
}

pub trait Sample: Provider {
    /// The documented example delivery the tests, fuzzing and fixtures start from.
    const PAYLOAD: &'static str;
    /// An update of an identity: what `hookline load` and a registration check send.
    const UPDATE: &'static str;
    /// Two secrets configured at once, as during a rotation (tests and fixtures only).
    const SECRETS: [&'static str; 2];
    /// The function's provider options besides the secrets (environment variables).
    const OPTIONS: &'static [(&'static str, &'static str)] = &[];
    /// Query parameters of the URL registered with the provider.
    const QUERY: &'static [(&'static str, &'static str)] = &[];

    /// [`Sample::PAYLOAD`], trimmed.
    fn payload() -> String {
        Self::PAYLOAD.trim().to_string()
    }
    /// The same kind of payload with an event type or subject this version does not know.
    fn unknown_event_payload() -> String;
    /// The query string that goes with it.
    fn unknown_event_query() -> &'static [(&'static str, &'static str)] {
        Self::QUERY
    }
    /// Valid JSON that lacks a required field, and the field the 400 must name.
    fn missing_field_payload() -> (String, &'static str);
    /// The event id the pipeline derives from `body` (a sample payload).
    fn event_id(body: &str) -> String;
    /// The event type the pipeline reads from the sample.
    fn event_type() -> &'static str;
    /// The resource the pipeline reads from the sample (`null` when none).
    fn resource() -> Value;
    /// The sample's `occurred_at` as the envelope carries it (`null` when none).
    fn occurred_at() -> Value;

    /// Sets the fields the dedup key is made of so that `payload` is an event no other is,
    /// creating them when `payload` lacks them (a payload of the user's own works too).
    fn make_unique(payload: &mut Value, unique: &Unique);

    /// Puts `id` where the payload names the identity it is about, and where the dedup key
    /// comes from, so that each id makes a new event (a registration check's marked identity).
    fn about(payload: &mut Value, id: &str) -> Result<(), PayloadError>;
}

/// Sets `path` in `value` to `new`, creating objects on the way (a non-object on the way is
/// replaced: the payload is the caller's own, being made into a generated event).
pub fn put(value: &mut Value, path: &[&str], new: Value) {
    let mut at = value;
    for key in path {
        if !at.is_object() {
            *at = Value::Object(Default::default());
        }
        at = at
            .as_object_mut()
            .expect("made an object above")
            .entry(*key)
            .or_insert(Value::Null);
    }
    *at = new;
}
