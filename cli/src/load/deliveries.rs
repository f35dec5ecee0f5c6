//! What a load run sends, delivery by delivery: a new event for the provider (its
//! deduplication key made unique to the run) or a repeat of an earlier one, the share of repeats
//! exact at every point of the run.

use crate::choices::ProviderName;
use serde_json::Value;

/// Parts per million: the share of repeats, kept as an integer so that 10 % of 200 deliveries
/// is exactly 20, not 19 after a rounding error.
pub const MILLION: u64 = 1_000_000;

/// One delivery of the plan: which event (numbered from 0 in the order they are new) and
/// whether an earlier delivery already carried it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Planned {
    pub event: u64,
    pub repeat: bool,
}

/// Picks each delivery in turn.
#[derive(Debug)]
pub struct Plan {
    repeats_per_million: u64,
    sent: u64,
    events: u64,
    repeats: u64,
}

impl Plan {
    pub fn new(repeats_per_million: u64) -> Self {
        assert!(repeats_per_million < MILLION, "some deliveries must be new");
        Self {
            repeats_per_million,
            sent: 0,
            events: 0,
            repeats: 0,
        }
    }

    /// The next delivery. After `n` deliveries, exactly `n × share` (rounded down) were repeats,
    /// spread evenly through the run. Every other repeat follows its original at once, as a
    /// provider's retry does when an answer was slow, and so usually races it (the receiver
    /// answers 503 "in progress" to one of the two); the rest repeat any earlier event.
    pub fn next(&mut self) -> Planned {
        let due = (self.sent + 1) * self.repeats_per_million / MILLION;
        self.sent += 1;
        if due > self.repeats && self.events > 0 {
            self.repeats += 1;
            let event = if self.repeats % 2 == 1 {
                self.events - 1
            } else {
                fastrand::u64(..self.events)
            };
            return Planned {
                event,
                repeat: true,
            };
        }
        self.events += 1;
        Planned {
            event: self.events - 1,
            repeat: false,
        }
    }
}

/// The payload of event `event` of run `run`: `base` made an event no other event of any run
/// is, by the provider's own edit of the fields its deduplication key is made of (created when
/// `base` lacks them, so a payload of the user's own works as well as the sample).
pub fn payload(provider: ProviderName, base: &Value, run: &Run, event: u64) -> Vec<u8> {
    let mut payload = base.clone();
    provider
        .registered()
        .make_unique(&mut payload, &run.unique(event));
    serde_json::to_vec(&payload).expect("a JSON value serializes")
}

/// What tells one run's events from another's.
#[derive(Debug, Clone)]
pub struct Run {
    /// Eight hex digits, in text fields.
    pub id: String,
    /// The same as a number below 2^32, for ClearID's numeric ordinal (times 10^9, plus the
    /// event's number: unique while a run has fewer than a billion events).
    pub number: u64,
}

impl Run {
    /// What makes event `event` of this run unique.
    pub fn unique(&self, event: u64) -> hookline::provider::Unique {
        hookline::provider::Unique {
            run: self.id.clone(),
            run_number: self.number,
            event,
        }
    }

    pub fn random() -> Self {
        let number = u64::from(fastrand::u32(..));
        Self {
            id: format!("{number:08x}"),
            number,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;
    use std::collections::HashSet;

    fn plan(share: u64, n: usize) -> Vec<Planned> {
        let mut plan = Plan::new(share);
        (0..n).map(|_| plan.next()).collect()
    }

    #[test]
    fn the_share_of_repeats_is_exact_and_spread() {
        let all = plan(100_000, 200);
        assert_eq!(all.iter().filter(|d| d.repeat).count(), 20);
        assert!(!all[0].repeat, "the first delivery has nothing to repeat");
        // Every 10 deliveries hold one repeat.
        for chunk in all.chunks(10) {
            assert_eq!(chunk.iter().filter(|d| d.repeat).count(), 1);
        }
        let new: Vec<u64> = all.iter().filter(|d| !d.repeat).map(|d| d.event).collect();
        assert_eq!(
            new,
            (0..180).collect::<Vec<_>>(),
            "new events are numbered in order"
        );
        for (index, delivery) in all.iter().enumerate().filter(|(_, d)| d.repeat) {
            let original = all
                .iter()
                .position(|d| !d.repeat && d.event == delivery.event);
            assert!(original.unwrap() < index, "a repeat follows its original");
        }
        assert!(plan(0, 50).iter().all(|d| !d.repeat));
        assert_eq!(plan(999_999, 10).iter().filter(|d| !d.repeat).count(), 1);
    }

    #[test]
    fn half_the_repeats_follow_their_original_at_once() {
        let all = plan(500_000, 40);
        let racing = all
            .windows(2)
            .filter(|w| w[1].repeat && !w[0].repeat && w[1].event == w[0].event)
            .count();
        assert!(
            racing >= 10,
            "{racing} of 20 repeats right behind their original"
        );
    }

    #[test]
    fn each_event_has_its_own_key_field_even_in_a_payload_without_it() {
        let run = Run {
            id: "0000abcd".into(),
            number: 0xabcd,
        };
        let base = serde_json::json!({"trigger": {"urn": "u", "event": "CREATE"}, "Ordinal": 1});
        for provider in ProviderName::value_variants().iter().copied() {
            let bodies: HashSet<Vec<u8>> = (0..100)
                .map(|e| payload(provider, &base, &run, e))
                .collect();
            assert_eq!(bodies.len(), 100, "{provider:?}");
        }
        let baack: Value =
            serde_json::from_slice(&payload(ProviderName::Baack, &base, &run, 7)).unwrap();
        assert_eq!(baack["trigger"]["urn"], "urn:baack:trigger:load-0000abcd-7");
        assert_eq!(baack["trigger"]["event"], "CREATE", "the rest is kept");
        let clearid: Value =
            serde_json::from_slice(&payload(ProviderName::ClearId, &base, &run, 7)).unwrap();
        assert_eq!(clearid["Ordinal"], 0xabcd_u64 * 1_000_000_000 + 7);
        let midbound: Value =
            serde_json::from_slice(&payload(ProviderName::Midbound, &Value::Null, &run, 3))
                .unwrap();
        assert_eq!(midbound["id"], "evt_load_0000abcd_3");
    }
}
