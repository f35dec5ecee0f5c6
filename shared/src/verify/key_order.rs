//! The order in which an HMAC verifier tries its keys.
//!
//! A provider signs with one key at a time, so the key that matched the last delivery almost
//! always matches the next one. Trying it first, and stopping at a match, makes a genuine
//! delivery cost one HMAC however many keys are configured (rotation, or Midbound's two readings
//! of one secret), instead of one HMAC per key.
//!
//! Stopping early reveals nothing a forger can use: a forged signature matches no key, so it
//! always pays for every key; only a sender that already holds a key can tell which one
//! matched. Each comparison itself stays constant-time.

use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Debug, Default)]
pub struct KeyOrder {
    last_match: AtomicUsize,
}

impl KeyOrder {
    /// Calls `matches` with key indexes `0..count`, starting at the last one that matched, until
    /// one matches. Returns whether one did.
    pub fn find(&self, count: usize, mut matches: impl FnMut(usize) -> bool) -> bool {
        // Relaxed: the hint only orders work; a stale value costs one extra HMAC, nothing more.
        let start = self.last_match.load(Ordering::Relaxed);
        for offset in 0..count {
            let index = (start + offset) % count;
            if matches(index) {
                self.last_match.store(index, Ordering::Relaxed);
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs one search where only `signing_key` matches; returns the indexes tried.
    fn tried(order: &KeyOrder, count: usize, signing_key: Option<usize>) -> (bool, Vec<usize>) {
        let mut tried = Vec::new();
        let found = order.find(count, |index| {
            tried.push(index);
            Some(index) == signing_key
        });
        (found, tried)
    }

    #[test]
    fn the_key_that_matched_last_is_tried_first() {
        let order = KeyOrder::default();
        assert_eq!(tried(&order, 3, Some(2)), (true, vec![0, 1, 2]));
        assert_eq!(tried(&order, 3, Some(2)), (true, vec![2]));
        // The provider moved to another key: found after one miss, then first again.
        assert_eq!(tried(&order, 3, Some(0)), (true, vec![2, 0]));
        assert_eq!(tried(&order, 3, Some(0)), (true, vec![0]));
    }

    #[test]
    fn a_signature_that_matches_nothing_tries_every_key_and_moves_nothing() {
        let order = KeyOrder::default();
        assert_eq!(tried(&order, 3, Some(1)), (true, vec![0, 1]));
        assert_eq!(tried(&order, 3, None), (false, vec![1, 2, 0]));
        assert_eq!(tried(&order, 3, Some(1)), (true, vec![1]));
        assert_eq!(tried(&order, 0, None), (false, vec![]));
    }
}
