//! The partition keys of the sparse index of unfinished handoffs (`pending-by-lease`), and how
//! one bounded sweep shares its budget over them. Plain Rust: the DynamoDB adapter writes
//! [`pending_key`] on every claim and reads the keys of [`swept_keys`] with [`take_fairly`].

use std::future::Future;

/// How many partition-key values the index's RECEIVED records are spread over.
///
/// Why 64. Every new delivery writes the index twice: the entry its claim inserts (projection
/// ALL, so the whole record, message included: 1.05 to 1.86 KB, 2 write units) and the removal of
/// that entry when the record is marked ENQUEUED (1 or 2 units): 3 to 4 units per delivery,
/// all on the record's key. DynamoDB serves at most 1,000 write units a second per partition,
/// so one key takes 1,000 / 4 = 250 deliveries a second with 1 KiB payloads (333 at 3 units,
/// 500 while the record stays under 1 KB, 2 units). 64 keys take 64 × 250 = 16,000 deliveries a
/// second at 4 units (21,333 at 3, 32,000 at 2). At 10,000 a second each key carries about 156
/// deliveries, 62 % of its partition: room for the uneven share of a busy second (a key's
/// share of a hash is even over many ids, not over every second) and for bursts. One RECEIVED
/// record is never on two keys, so the claim stays one conditional write.
///
/// Changing it: only ever raise it. A record keeps the key it was claimed with until it is
/// marked ENQUEUED or claimed again; under a larger count the old keys `0..old` are still within
/// `0..PENDING_SHARDS`, so the sweeper still reads them. Lowering it would leave records on the
/// keys above the new count unswept (a provider's retry would still claim them).
pub const PENDING_SHARDS: u32 = 64;

/// The key every RECEIVED record carried before the index was sharded. Records claimed by an
/// earlier version during an upgrade keep it until they are handed off, so the sweeper reads it
/// too.
pub const LEGACY_PENDING_KEY: &str = "RECEIVED";

/// The shard of an event: the first 8 bytes of the SHA-256 of its id (big-endian), modulo
/// [`PENDING_SHARDS`]. The same on every run and platform, so every attempt and take-over of one
/// event writes the same key.
pub fn pending_shard(event_id: &str) -> u32 {
    let digest = crate::digest::sha256_hex(event_id.as_bytes());
    let head = u64::from_str_radix(&digest[..16], 16).expect("lowercase hex");
    u32::try_from(head % u64::from(PENDING_SHARDS)).expect("below PENDING_SHARDS")
}

/// The index key a RECEIVED record of `event_id` carries: `RECEIVED#<shard>`.
pub fn pending_key(event_id: &str) -> String {
    shard_key(pending_shard(event_id))
}

fn shard_key(shard: u32) -> String {
    format!("{LEGACY_PENDING_KEY}#{shard}")
}

/// Every key the sweeper reads: the shards `0..PENDING_SHARDS`, then the legacy key.
pub fn swept_keys() -> Vec<String> {
    (0..PENDING_SHARDS)
        .map(shard_key)
        .chain([LEGACY_PENDING_KEY.to_string()])
        .collect()
}

/// One read of one key: up to the asked number of items, oldest lease first, and where the next
/// read of that key starts (`None` once the key has no more).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T, C> {
    pub items: Vec<T>,
    pub next: Option<C>,
}

/// Where the next read of a key starts.
enum Cursor<C> {
    Start,
    After(C),
    Done,
}

/// Takes at most `limit` items over all `keys`, shared out fairly: in each round the budget
/// left is split evenly over the keys that may have more (a key with fewer items leaves its
/// share to the others in the next round), each key read on from where it stopped. So no key
/// can take the whole budget while another has items: with `limit >= keys.len()` every key
/// with items gets at least `limit / keys.len()` of them. The odd items of a round go to the
/// keys in turn, from `first` on (callers vary it between runs) and each round on from where the
/// last one stopped: with a budget below the number of keys, every key is read once before any
/// is read twice.
///
/// `read(key, n, start)` reads up to `n` items of `key` from `start` (`None`: the beginning).
/// Rounds end when the budget is spent or every key is exhausted; a key whose read returns no
/// items counts as exhausted, so the rounds always end.
pub async fn take_fairly<T, C, E, F, Fut>(
    keys: &[String],
    limit: usize,
    first: usize,
    mut read: F,
) -> Result<Vec<T>, E>
where
    F: FnMut(String, usize, Option<C>) -> Fut,
    Fut: Future<Output = Result<Page<T, C>, E>>,
{
    let mut cursors: Vec<Cursor<C>> = keys.iter().map(|_| Cursor::Start).collect();
    let mut taken = Vec::new();
    let mut turn = first;
    loop {
        let left = limit.saturating_sub(taken.len());
        let open: Vec<usize> = (0..keys.len())
            .map(|i| (turn % keys.len() + i) % keys.len())
            .filter(|&i| !matches!(cursors[i], Cursor::Done))
            .collect();
        if left == 0 || open.is_empty() {
            return Ok(taken);
        }
        let (each, extra) = (left / open.len(), left % open.len());
        for (rank, &i) in open.iter().enumerate() {
            let share = each + usize::from(rank < extra);
            if share == 0 {
                break;
            }
            turn = i + 1;
            let start = match std::mem::replace(&mut cursors[i], Cursor::Done) {
                Cursor::Start => None,
                Cursor::After(c) => Some(c),
                Cursor::Done => unreachable!("only open keys are read"),
            };
            let page = read(keys[i].clone(), share, start).await?;
            let got = page.items.len().min(share);
            taken.extend(page.items.into_iter().take(share));
            if let (Some(next), true) = (page.next, got > 0) {
                cursors[i] = Cursor::After(next);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::convert::Infallible;

    #[test]
    fn the_shard_is_pinned() {
        // A change here would move live records to other keys mid-upgrade. Each is the low six
        // bits of the SHA-256's first 8 bytes, e.g. "" hashes to e3b0c44298fc1c14: 0x14 = 20.
        let pinned = [
            ("", 20),
            ("argyle#0187c66e-f13b-31e4-6b2c-6a0dd4f67e43", 21),
            ("baack#urn:trigger:1", 54),
            ("midbound#msg_2Lk9", 46),
        ];
        for (id, shard) in pinned {
            assert_eq!(pending_shard(id), shard, "{id}");
            assert_eq!(pending_key(id), format!("RECEIVED#{shard}"));
        }
    }

    #[test]
    fn many_ids_spread_evenly_over_the_shards() {
        let ids = 64_000;
        let mut counts = vec![0u32; PENDING_SHARDS as usize];
        for i in 0..ids {
            counts[pending_shard(&format!("midbound#msg_{i}")) as usize] += 1;
        }
        // 1,000 expected per shard; a fair hash stays within a few standard deviations (~31).
        let (min, max) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
        assert!(*min > 850 && *max < 1150, "min {min}, max {max}");
    }

    #[test]
    fn every_shard_and_the_legacy_key_are_swept() {
        let keys = swept_keys();
        assert_eq!(keys.len(), PENDING_SHARDS as usize + 1);
        assert_eq!(keys[0], "RECEIVED#0");
        assert_eq!(keys[63], "RECEIVED#63");
        assert_eq!(keys[64], "RECEIVED");
        // Whatever an id hashes to is among them.
        for i in 0..1000 {
            assert!(keys.contains(&pending_key(&format!("baack#{i}"))));
        }
    }

    /// Keys with their items (oldest first), read in pages as DynamoDB would: `next` is the
    /// position after the page when the page was cut short by `n`.
    struct Index {
        items: BTreeMap<String, Vec<u32>>,
        reads: Vec<(String, usize, Option<usize>)>,
    }

    impl Index {
        fn new(sizes: &[(&str, u32)]) -> Self {
            let items = sizes
                .iter()
                .map(|(key, n)| (key.to_string(), (0..*n).collect()))
                .collect();
            Self {
                items,
                reads: Vec::new(),
            }
        }

        fn keys(&self) -> Vec<String> {
            self.items.keys().cloned().collect()
        }

        async fn take(&mut self, limit: usize, first: usize) -> Vec<(String, u32)> {
            let keys = self.keys();
            let items = self.items.clone();
            let reads = &mut self.reads;
            take_fairly(&keys, limit, first, |key, n, start: Option<usize>| {
                reads.push((key.clone(), n, start));
                let all = &items[&key];
                let from = start.unwrap_or(0);
                let page: Vec<_> = all
                    .iter()
                    .skip(from)
                    .take(n)
                    .map(|&v| (key.clone(), v))
                    .collect();
                let end = from + page.len();
                // Like a Query with a limit: a cursor whenever the limit cut the page.
                let next = (page.len() == n).then_some(end);
                async move { Ok::<_, Infallible>(Page { items: page, next }) }
            })
            .await
            .unwrap()
        }
    }

    fn per_key(taken: &[(String, u32)]) -> BTreeMap<&str, usize> {
        let mut counts = BTreeMap::new();
        for (key, _) in taken {
            *counts.entry(key.as_str()).or_default() += 1;
        }
        counts
    }

    #[tokio::test]
    async fn a_full_key_does_not_starve_the_others() {
        let mut index = Index::new(&[("a", 500), ("b", 3), ("c", 0), ("d", 40)]);
        let taken = index.take(100, 0).await;
        assert_eq!(taken.len(), 100, "the budget is spent, not exceeded");
        // b and d first get their share of 25; b's unused 22 go to a and d in the next round.
        assert_eq!(
            per_key(&taken),
            BTreeMap::from([("a", 57), ("b", 3), ("d", 40)])
        );
        // Each key is read on from where it stopped: no item twice.
        let mut distinct = taken.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 100);
    }

    #[tokio::test]
    async fn the_budget_bounds_the_reads_too() {
        let mut index = Index::new(&[("a", 500), ("b", 500)]);
        assert_eq!(index.take(100, 0).await.len(), 100);
        let asked: usize = index.reads.iter().map(|(_, n, _)| n).sum();
        assert_eq!(asked, 100);
        assert_eq!(index.reads.len(), 2);
    }

    #[tokio::test]
    async fn everything_is_taken_when_it_fits() {
        let mut index = Index::new(&[("a", 1), ("b", 0), ("c", 7)]);
        let taken = index.take(100, 2).await;
        assert_eq!(per_key(&taken), BTreeMap::from([("a", 1), ("c", 7)]));
        let mut empty = Index::new(&[("a", 0), ("b", 0)]);
        assert!(empty.take(100, 0).await.is_empty());
        assert!(Index::new(&[]).take(100, 0).await.is_empty());
        assert!(Index::new(&[("a", 9)]).take(0, 0).await.is_empty());
    }

    #[tokio::test]
    async fn a_budget_below_the_key_count_starts_at_first() {
        let sizes: Vec<(String, u32)> = (0..10).map(|i| (format!("k{i}"), 5)).collect();
        let sizes: Vec<(&str, u32)> = sizes.iter().map(|(k, n)| (k.as_str(), *n)).collect();
        let taken = Index::new(&sizes).take(3, 8).await;
        let keys: Vec<&str> = taken.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["k8", "k9", "k0"]);
    }

    #[tokio::test]
    async fn a_crowded_key_waits_its_turn_when_the_budget_is_below_the_key_count() {
        // 65 keys as the sweeper has them, stranded records on three; a budget of 4. Wherever
        // the run starts, the lone records on k09 and k64 are taken, and the crowded k05 gets
        // the rest.
        let sizes: Vec<(String, u32)> = (0..65)
            .map(|i| {
                (
                    format!("k{i:02}"),
                    [(5, 6), (9, 1), (64, 1)]
                        .iter()
                        .find(|(k, _)| *k == i)
                        .map_or(0, |(_, n)| *n),
                )
            })
            .collect();
        let sizes: Vec<(&str, u32)> = sizes.iter().map(|(k, n)| (k.as_str(), *n)).collect();
        for first in 0..65 {
            let taken = Index::new(&sizes).take(4, first).await;
            assert_eq!(
                per_key(&taken),
                BTreeMap::from([("k05", 2), ("k09", 1), ("k64", 1)]),
                "first {first}"
            );
        }
    }
}
