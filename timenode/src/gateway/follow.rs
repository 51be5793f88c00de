//! A gateway's copy of the final chain, built only from what genesis vouches for.
//!
//! Owns: checking each final tick a member delivers or a fetch returns (its own certificate
//! against the genesis keys, or a hash link from a certified descendant), holding checked ticks
//! until they extend the stored tip, and naming the hash to fetch when a gap stays open. Never:
//! trusts the member that sent a tick (any member may lie; only signatures and hashes count),
//! holds more than [`MAX_HELD`] ticks, or writes anything (the gateway stores what
//! [`Follower::take_ready`] returns).

use std::collections::BTreeMap;
use tickchain_consensus::ChainTick;
use tickchain_sdk::{Batch, Hash, Height, Network};

/// Ticks held above the tip while their ancestors are missing. A gap is filled from its top
/// down (each fetch returns up to 32 ancestors of a hash); when the room is full a lower
/// checked tick evicts the highest one held, so a gateway any distance behind stores the
/// lowest 4096 ticks of the gap, then fetches down again from the newest delivered tick.
pub const MAX_HELD: usize = 4096;
/// Of those, ticks nothing vouches for yet (no certificate of their own, no checked child):
/// a final tick's uncertified ancestors are delivered just before it, so a few suffice, and a
/// lying member cannot make the gateway hold more junk than this.
pub const MAX_UNCHECKED: usize = 64;

/// A tick held above the tip.
#[derive(Debug, Clone)]
struct Held {
    tick: ChainTick,
    /// Its batch list, when a member delivered it (checked against `batch_root`).
    batches: Option<Vec<Batch>>,
    /// Its certificate verified, or a checked descendant names its hash.
    checked: bool,
}

/// Why a tick was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Its certificate does not verify against genesis.
    BadCertificate,
    /// Its batch list is not the one its `batch_root` commits to.
    WrongBatches,
    /// [`MAX_HELD`] ticks wait already.
    Full,
}

impl Refused {
    /// A stable snake_case name for counters.
    pub fn code(self) -> &'static str {
        match self {
            Refused::BadCertificate => "delivered_bad_certificate",
            Refused::WrongBatches => "delivered_wrong_batches",
            Refused::Full => "delivered_held_full",
        }
    }
}

/// The chain as the gateway follows it.
pub struct Follower {
    network: Network,
    /// The stored tip's height and hash (height 0 and the genesis hash before the first tick).
    tip: (Height, Hash),
    held: BTreeMap<(Height, Hash), Held>,
}

impl Follower {
    /// Follows the chain above the stored tip `tip` (height 0 and the genesis hash if empty).
    pub fn new(network: Network, tip: (Height, Hash)) -> Follower {
        Follower {
            network,
            tip,
            held: BTreeMap::new(),
        }
    }

    /// The stored tip.
    pub fn tip(&self) -> (Height, Hash) {
        self.tip
    }

    /// Takes a final tick from a member: `batches` when delivered with its list, `None` when
    /// fetched. Ticks at or below the tip are ignored.
    pub fn offer(&mut self, tick: ChainTick, batches: Option<Vec<Batch>>) -> Result<(), Refused> {
        let gh = self.network.genesis().hash;
        if let Some(list) = &batches {
            let tree = tickchain_sdk::batch::tick_tree(list, &gh);
            if tree.len() != tick.tick.batch_count || tree.root() != tick.tick.batch_root {
                return Err(Refused::WrongBatches);
            }
        }
        if tick.tick.height <= self.tip.0 {
            return Ok(());
        }
        let key = (tick.tick.height, tick.tick.hash(&gh));
        // Known already (copies come from every member): no signature is checked twice.
        if let Some(h) = self.held.get(&key)
            && (h.checked || tick.certificate.is_none())
        {
            if h.batches.is_none() && batches.is_some() {
                self.held.get_mut(&key).expect("found").batches = batches;
            }
            return Ok(());
        }
        // A held checked child that names this hash vouches for it; else its own certificate.
        let vouched = self
            .held
            .range((Height(key.0.0 + 1), Hash([0; 32]))..=(Height(key.0.0 + 1), Hash([0xff; 32])))
            .any(|(_, c)| c.checked && c.tick.tick.prev_hash == key.1);
        let checked = vouched
            || match &tick.certificate {
                Some(cert) => {
                    self.network
                        .verify_certificate(&tick.tick, cert)
                        .map_err(|_| Refused::BadCertificate)?;
                    true
                }
                None => false,
            };
        if let Some(h) = self.held.get_mut(&key) {
            h.checked |= checked;
            if h.batches.is_none() {
                h.batches = batches;
            }
            self.propagate();
            return Ok(());
        }
        self.make_room(key.0, checked)?;
        self.held.insert(
            key,
            Held {
                tick,
                batches,
                checked,
            },
        );
        self.propagate();
        Ok(())
    }

    /// Frees a place for a tick at `height`: an unchecked tick takes a free place among the
    /// [`MAX_UNCHECKED`] or none; a checked one evicts the highest unchecked tick, or else the
    /// highest checked tick above it (fetched again later), or is refused.
    fn make_room(&mut self, height: Height, checked: bool) -> Result<(), Refused> {
        let unchecked = self.held.values().filter(|h| !h.checked).count();
        if !checked {
            return if unchecked >= MAX_UNCHECKED || self.held.len() >= MAX_HELD {
                Err(Refused::Full)
            } else {
                Ok(())
            };
        }
        if self.held.len() < MAX_HELD {
            return Ok(());
        }
        let evict = self
            .held
            .iter()
            .rev()
            .find(|(_, h)| !h.checked)
            .or_else(|| self.held.iter().next_back().filter(|(k, _)| k.0 > height))
            .map(|(k, _)| *k);
        match evict {
            Some(k) => {
                self.held.remove(&k);
                Ok(())
            }
            None => Err(Refused::Full),
        }
    }

    /// A checked tick vouches for its parent (the tick hash covers `prev_hash`), from the top
    /// down.
    fn propagate(&mut self) {
        let keys: Vec<(Height, Hash)> = self.held.keys().rev().copied().collect();
        for (height, hash) in keys {
            let Some(h) = self.held.get(&(height, hash)) else {
                continue;
            };
            if !h.checked || height.0 == 0 {
                continue;
            }
            let parent = (Height(height.0 - 1), h.tick.tick.prev_hash);
            if let Some(p) = self.held.get_mut(&parent) {
                p.checked = true;
            }
        }
    }

    /// The checked ticks that extend the tip, in height order, with their batch lists; the tip
    /// moves past them (the caller stores them in this order).
    pub fn take_ready(&mut self) -> Vec<(ChainTick, Option<Vec<Batch>>)> {
        let mut out = Vec::new();
        loop {
            let next = Height(self.tip.0.0 + 1);
            let found = self
                .held
                .range((next, Hash([0; 32]))..=(next, Hash([0xff; 32])))
                .find(|(_, h)| h.checked && h.tick.tick.prev_hash == self.tip.1)
                .map(|(k, _)| *k);
            let Some(key) = found else { break };
            let h = self.held.remove(&key).expect("found above");
            self.tip = key;
            out.push((h.tick, h.batches));
        }
        // Whatever is at or below the tip now can never be stored.
        let tip = self.tip.0;
        self.held.retain(|(height, _), _| *height > tip);
        out
    }

    /// The hash to fetch to close the gap under the lowest checked tick held, if there is a gap.
    pub fn wanted(&self) -> Option<Hash> {
        let ((height, _), h) = self.held.iter().find(|(_, h)| h.checked)?;
        (height.0 > self.tip.0.0 + 1).then_some(h.tick.tick.prev_hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickchain_sdk::testkit::TestNetwork;
    use tickchain_sdk::{NodeId, Second, View};

    const GENESIS: Second = Second(1_700_000_000);

    /// Ticks 1..=count, each certified by nodes 0..3 of a 4-node ring.
    fn chain(net: &TestNetwork, count: u64) -> Vec<ChainTick> {
        let mut out: Vec<ChainTick> = Vec::new();
        let mut prev = net.hash();
        for h in 1..=count {
            let second = Second(GENESIS.0 + h);
            let (tick, _) = net.tick(Height(h), View(h), second, prev, &[]);
            prev = tick.hash(&net.hash());
            let readings: Vec<_> = (0..3)
                .map(|i| (NodeId(i), TestNetwork::reading(second, 5, 2)))
                .collect();
            let certificate = Some(net.certify(&tick, &readings));
            out.push(ChainTick { tick, certificate });
        }
        out
    }

    fn net() -> TestNetwork {
        TestNetwork::new("follow", 4, 1, GENESIS)
    }

    #[test]
    fn uncertified_ticks_are_stored_only_under_a_certified_descendant() {
        let net = net();
        let mut ticks = chain(&net, 3);
        ticks[0].certificate = None;
        ticks[1].certificate = None;
        let mut f = Follower::new(Network::new(net.genesis.clone()), (Height(0), net.hash()));
        f.offer(ticks[0].clone(), None).unwrap();
        f.offer(ticks[1].clone(), None).unwrap();
        assert!(f.take_ready().is_empty(), "nothing vouches for them yet");
        f.offer(ticks[2].clone(), None).unwrap();
        let ready: Vec<u64> = f
            .take_ready()
            .iter()
            .map(|(t, _)| t.tick.height.0)
            .collect();
        assert_eq!(ready, vec![1, 2, 3]);
        assert_eq!(f.tip().0, Height(3));
    }

    #[test]
    fn a_forged_tick_is_never_stored_and_a_gap_names_the_hash_to_fetch() {
        let net = net();
        let ticks = chain(&net, 4);
        let mut f = Follower::new(Network::new(net.genesis.clone()), (Height(0), net.hash()));
        // A lying member's tick 1: uncertified, another batch root.
        let mut forged = ticks[0].clone();
        forged.certificate = None;
        forged.tick.batch_root = Hash([9; 32]);
        f.offer(forged, None).unwrap();
        // Its certificate re-attached to another tick does not verify.
        let mut moved = ticks[1].clone();
        moved.tick.second = Second(moved.tick.second.0 + 1);
        assert_eq!(f.offer(moved, None), Err(Refused::BadCertificate));
        f.offer(ticks[3].clone(), None).unwrap();
        assert!(f.take_ready().is_empty());
        assert_eq!(f.wanted(), Some(ticks[3].tick.prev_hash));
        for t in [&ticks[2], &ticks[1], &ticks[0]] {
            let mut t = t.clone();
            t.certificate = None; // fetched ancestors need no certificate of their own
            f.offer(t, None).unwrap();
        }
        let ready: Vec<Hash> = f
            .take_ready()
            .iter()
            .map(|(t, _)| t.tick.hash(&net.hash()))
            .collect();
        let real: Vec<Hash> = ticks.iter().map(|t| t.tick.hash(&net.hash())).collect();
        assert_eq!(ready, real, "the forged tick 1 never made it in");
        assert_eq!(f.wanted(), None);
    }

    #[test]
    fn junk_from_a_lying_member_cannot_keep_vouched_ancestors_out() {
        let net = net();
        let mut ticks = chain(&net, 3);
        ticks[0].certificate = None;
        ticks[1].certificate = None;
        let mut f = Follower::new(Network::new(net.genesis.clone()), (Height(0), net.hash()));
        for k in 0..MAX_UNCHECKED as u64 {
            let mut junk = ticks[1].clone();
            junk.tick.height = Height(10 + k);
            f.offer(junk, None).unwrap();
        }
        assert_eq!(f.offer(ticks[0].clone(), None), Err(Refused::Full));
        f.offer(ticks[2].clone(), None).unwrap();
        assert_eq!(f.wanted(), Some(ticks[2].tick.prev_hash));
        // Fetched without certificates, each is vouched for by the checked child above it.
        f.offer(ticks[1].clone(), None).unwrap();
        f.offer(ticks[0].clone(), None).unwrap();
        let ready: Vec<u64> = f
            .take_ready()
            .iter()
            .map(|(t, _)| t.tick.height.0)
            .collect();
        assert_eq!(ready, vec![1, 2, 3]);
    }

    #[test]
    fn a_gap_longer_than_the_room_still_closes() {
        let net = net();
        let top = MAX_HELD as u64 + 300;
        let mut ticks = chain(&net, top);
        for t in &mut ticks[..top as usize - 1] {
            t.certificate = None;
        }
        let by_hash: std::collections::HashMap<Hash, usize> = ticks
            .iter()
            .enumerate()
            .map(|(i, t)| (t.tick.hash(&net.hash()), i))
            .collect();
        let mut f = Follower::new(Network::new(net.genesis.clone()), (Height(0), net.hash()));
        let mut rounds = 0;
        while f.tip().0.0 < top {
            rounds += 1;
            assert!(rounds < 1_000, "no progress: tip {}", f.tip().0);
            match f.wanted() {
                // A member's answer: the wanted tick and up to 31 ancestors, newest first.
                Some(w) => {
                    let i = by_hash[&w];
                    for t in ticks[i.saturating_sub(31)..=i].iter().rev() {
                        let _ = f.offer(t.clone(), None);
                    }
                }
                // The next live delivery: the newest final tick again.
                None => f.offer(ticks[top as usize - 1].clone(), None).unwrap(),
            }
            f.take_ready();
        }
        assert_eq!(f.tip().1, ticks[top as usize - 1].tick.hash(&net.hash()));
    }

    #[test]
    fn a_batch_list_that_is_not_the_ticks_is_refused() {
        let net = net();
        let ticks = chain(&net, 1);
        let mut f = Follower::new(Network::new(net.genesis.clone()), (Height(0), net.hash()));
        let stray = net
            .batch(NodeId(1), GENESIS, &[tickchain_sdk::Digest([1; 32])])
            .batch;
        assert_eq!(
            f.offer(ticks[0].clone(), Some(vec![stray])),
            Err(Refused::WrongBatches)
        );
        f.offer(ticks[0].clone(), Some(Vec::new())).unwrap();
        assert_eq!(f.take_ready()[0].1, Some(Vec::new()));
    }
}
