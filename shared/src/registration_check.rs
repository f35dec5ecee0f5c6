//! A registration check: a delivery the operator sends (`hookline sign --check`) to prove a
//! provider's URL, its secret and the handoff to the queue, and which then leaves no trace.
//!
//! It is an ordinary signed delivery of the provider's own payload shape, and the receiving
//! function treats it as any other: verifying, claiming and queueing it is what it proves. What
//! marks it is the id of the identity it is about, in a namespace no provider issues (Baack's
//! urns, Argyle's and ClearID's UUIDs, Midbound's `evt_` ids): [`PREFIX`] and a random suffix,
//! so that each check is a new event rather than a duplicate of the previous one. The enricher
//! acknowledges such a message without fetching, storing, keeping or announcing anything, even
//! for a provider it has no API credentials for.

use crate::envelope::ReceivedEnvelope;

/// The start of every check's identity id.
pub const PREFIX: &str = "hookline-check-";

/// Whether `identity_id` (the resource an event names or, for Midbound, whose events name none,
/// the event's own id) is a check's.
pub fn is_check_id(identity_id: &str) -> bool {
    identity_id.starts_with(PREFIX)
}

/// Whether a queue message is a check's: the identity it is about is a check's.
pub fn is_check(envelope: &ReceivedEnvelope) -> bool {
    is_check_id(&crate::identity::IdentityKey::about(envelope).resource_id)
}

/// A new check id: the prefix and 16 random hex digits.
pub fn new_id() -> String {
    format!("{PREFIX}{:016x}", fastrand::u64(..))
}

/// The provider's update sample about the identity `id`, or `None` for a provider this
/// version does not know.
pub fn payload(provider: &str, id: &str) -> Option<Vec<u8>> {
    Some(crate::providers::find(provider)?.update_about(id))
}

/// The facts provider `P`'s function reads from `body` (signed as `hookline sign` signs it) and
/// the queue message it sends: what the enricher's unit tests take.
#[cfg(test)]
pub(crate) fn queued<P: crate::Provider>(
    body: Vec<u8>,
) -> (crate::Delivery, crate::envelope::QueueMessage) {
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let provider = P::from_config(&crate::config::test_config(secret)).unwrap();
    let mut request = crate::request::WebhookRequest::post(Default::default(), body);
    provider.sign(secret, &mut request, 1_800_000_000).unwrap();
    let crate::provider::Parsed { delivery, body } = provider.parse(&request).unwrap();
    let event_id = format!("{}#{}", P::NAME, delivery.dedup_key);
    let message =
        crate::envelope::QueueMessage::new(P::NAME, &event_id, &delivery, body, 0, "request");
    (delivery, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Provider;

    /// What the enricher reads after provider `P`'s function received `body`.
    fn received<P: Provider>(body: Vec<u8>) -> (crate::Delivery, ReceivedEnvelope) {
        let (delivery, message) = queued::<P>(body);
        (delivery, ReceivedEnvelope::parse(&message.body).unwrap())
    }

    fn each_provider_marks_its_check<P: Provider>() {
        let id = new_id();
        let (delivery, envelope) = received::<P>(payload(P::NAME, &id).unwrap());
        assert!(is_check(&envelope), "{}: {envelope:?}", P::NAME);
        assert_eq!(
            crate::identity::IdentityKey::about(&envelope).resource_id,
            id,
            "{}",
            P::NAME
        );
        assert_eq!(delivery.subscription, None, "{}: no expiry metric", P::NAME);
        // Each check is a new event, not a duplicate of the one before.
        let (again, _) = received::<P>(payload(P::NAME, &new_id()).unwrap());
        assert_ne!(delivery.dedup_key, again.dedup_key, "{}", P::NAME);
        // The provider's own sample, through the same path, is no check.
        let (_, sample) = received::<P>(payload(P::NAME, "sample").unwrap());
        assert!(!is_check(&sample), "{}", P::NAME);
    }

    #[test]
    fn every_provider_s_check_is_recognised_unique_and_silent() {
        macro_rules! each {
            ([$($module:ident::$provider:ident),*]) => {
                $(each_provider_marks_its_check::<crate::providers::$provider>();)*
            };
        }
        crate::for_each_provider!(each);
        assert_eq!(payload("unknown", &new_id()), None);
    }

    #[test]
    fn only_the_reserved_prefix_is_a_check() {
        assert!(is_check_id("hookline-check-0123456789abcdef"));
        assert!(!is_check_id("urn:baack:clientidentifier:hookline-check-1"));
        assert!(!is_check_id("evt_01KHEWZ09CQB36JZ5F7D3ZB9NE"));
        assert_ne!(new_id(), new_id());
    }
}
