//! The invariants every simulated run must satisfy, and the statistics it yields.
//!
//! Owns: safety (agreement, hash links, strictly increasing seconds), no honest double vote
//! (over every vote a node persisted or sent, across restarts) and no vote sent before it was
//! persisted, every certificate accepted by `tickchain_sdk::Network::verify_certificate`,
//! certificate windows bounded by honest readings and by true time, no tick at a lying clock's
//! time, and the liveness and lag measurements. Never: changes the run it judges.

use super::scenario::Byzantine;
use super::world::World;
use crate::Vote;
use std::collections::{BTreeMap, HashMap, HashSet};
use tickchain_sdk::{Hash, NodeId, View};

/// What a run that passed its invariants measured.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Distinct final ticks.
    pub ticks: usize,
    /// Final ticks without their own certificate (final through a descendant).
    pub without_certificate: usize,
    /// Seconds in the liveness window.
    pub window_seconds: usize,
    /// Of those, seconds with a final tick.
    pub ticked_seconds: usize,
    /// Per final tick: true time of its first report minus its second's start, in ns.
    pub lags: Vec<i64>,
    /// Votes by Byzantine signers inside the distinct certificates the honest nodes reported.
    pub byzantine_votes_in_certificates: usize,
    /// Of those, votes whose reading an honest node would not sign for the tick's second (not
    /// within `[S − max_early, S + max_late]`, or inverted).
    pub lying_readings_in_certificates: usize,
}

impl Stats {
    /// The liveness this run reached: ticked seconds per window second, in per mille (1000 for
    /// an empty window).
    pub fn ticked_per_mille(&self) -> usize {
        (self.ticked_seconds * 1000)
            .checked_div(self.window_seconds)
            .unwrap_or(1000)
    }
}

/// Checks every invariant of `world` after it ran; the error says which one broke and where.
pub fn check(world: &World) -> Result<Stats, String> {
    let gh = world.net.genesis.hash;
    let g = &world.net.genesis;
    let honest = |i: usize| !world.is_byzantine(NodeId(i as u16));
    let mut by_height: BTreeMap<u64, Hash> = BTreeMap::new();
    let mut first_seen: BTreeMap<Hash, (i64, &tickchain_sdk::Tick)> = BTreeMap::new();
    let mut verified: HashSet<Hash> = HashSet::new();
    let mut stats = Stats::default();
    let early = i64::from(g.max_early_ms) * 1_000_000;
    let late = i64::from(g.max_late_ms) * 1_000_000;
    if let Some((node, height)) = world.log.conflicts.first() {
        return Err(format!(
            "node {node} reported conflicting final ticks at height {height}"
        ));
    }
    for (i, log) in world.log.finalized.iter().enumerate() {
        if !honest(i) {
            continue;
        }
        let mut prev: Option<(u64, Hash, u64)> = None;
        for (k, (at, t)) in log.iter().enumerate() {
            // A wiped node reports the chain again from genesis.
            if world.log.wiped[i].contains(&k) {
                prev = None;
            }
            let hash = t.tick.hash(&gh);
            let h = t.tick.height.0;
            if let Some(other) = by_height.insert(h, hash)
                && other != hash
            {
                return Err(format!(
                    "conflicting final ticks at height {h}: {other} and {hash}"
                ));
            }
            if let Some((ph, phash, psec)) = prev {
                if h != ph + 1 || t.tick.prev_hash != phash {
                    return Err(format!("node {i}: tick {h} does not link to tick {ph}"));
                }
                if t.tick.second.0 <= psec {
                    return Err(format!(
                        "node {i}: second {} at height {h} not after {psec}",
                        t.tick.second
                    ));
                }
            }
            prev = Some((h, hash, t.tick.second.0));
            let e = first_seen.entry(hash).or_insert((*at, &t.tick));
            e.0 = e.0.min(*at);
            if let Some(cert) = &t.certificate
                && verified.insert(hash)
            {
                let window = world
                    .verifier
                    .network()
                    .verify_certificate(&t.tick, cert)
                    .map_err(|e| format!("node {i}: certificate of height {h} rejected: {e}"))?;
                let honest_votes: Vec<_> = cert
                    .votes
                    .iter()
                    .filter(|v| honest(v.signer.index()))
                    .collect();
                let min_e = honest_votes.iter().map(|v| v.reading.earliest).min();
                let max_e = honest_votes.iter().map(|v| v.reading.earliest).max();
                let min_l = honest_votes.iter().map(|v| v.reading.latest).min();
                let max_l = honest_votes.iter().map(|v| v.reading.latest).max();
                let bounded = min_e.is_some_and(|m| m <= window.earliest)
                    && max_e.is_some_and(|m| window.earliest <= m)
                    && min_l.is_some_and(|m| m <= window.latest)
                    && max_l.is_some_and(|m| window.latest <= m);
                let start = t.tick.second.start().0;
                for v in cert.votes.iter().filter(|v| !honest(v.signer.index())) {
                    stats.byzantine_votes_in_certificates += 1;
                    let (e, l) = (v.reading.earliest.0, v.reading.latest.0);
                    if e > l || e < start.saturating_sub(early) || l > start.saturating_add(late) {
                        stats.lying_readings_in_certificates += 1;
                    }
                }
                if !bounded {
                    return Err(format!(
                        "height {h}: window {window:?} not bounded by the honest readings"
                    ));
                }
                if window.earliest.0 > *at {
                    return Err(format!(
                        "height {h}: window starts at {} after the certificate existed at {at}",
                        window.earliest.0
                    ));
                }
                if let Some(p) = world.log.proposed_at.get(&hash)
                    && window.latest.0 < *p
                {
                    return Err(format!(
                        "height {h}: window ends at {} before the proposal at {p}",
                        window.latest.0
                    ));
                }
            }
        }
    }
    // Ticks are timely in true time; a lying clock never places one.
    let clock_liars: HashSet<NodeId> = world
        .scenario
        .byzantine
        .iter()
        .filter(|(_, b)| matches!(b, Byzantine::ClockOff(_)))
        .map(|(id, _)| *id)
        .collect();
    for (hash, (at, tick)) in &first_seen {
        let start = tick.second.start().0;
        if *at < start - early {
            return Err(format!(
                "tick {} final at {at}, before its second minus max_early",
                tick.height
            ));
        }
        if let Some(p) = world.log.proposed_at.get(hash)
            && *p > start + late
        {
            return Err(format!(
                "tick {} proposed at {p}, after max_late",
                tick.height
            ));
        }
        if clock_liars.contains(&tick.proposer) && (*at - start).abs() > 3_000_000_000 {
            return Err(format!(
                "the node with a lying clock got tick {} final at its own time",
                tick.height
            ));
        }
        stats.lags.push(*at - start);
    }
    check_votes(world)?;
    stats.ticks = first_seen.len();
    stats.without_certificate = first_seen.len() - verified.len();
    let t0 = world.start() + world.scenario.heal.0 + 5_000_000_000;
    let t1 = world.start() + world.scenario.duration.0 - 3_000_000_000;
    let seconds: HashSet<u64> = first_seen.values().map(|(_, t)| t.second.0).collect();
    let (s0, s1) = (
        t0.div_euclid(1_000_000_000) + 1,
        t1.div_euclid(1_000_000_000),
    );
    for s in s0..s1 {
        stats.window_seconds += 1;
        if seconds.contains(&(s as u64)) {
            stats.ticked_seconds += 1;
        }
    }
    Ok(stats)
}

/// No honest node sends a vote it has not persisted, votes twice of a kind in a view (over
/// what it persisted and what it sent, across crashes and restarts), or both finalizes and
/// nullifies a view; its finalize carries its notarize reading.
fn check_votes(world: &World) -> Result<(), String> {
    if let Some((node, view)) = world.log.unpersisted.first() {
        return Err(format!(
            "node {node} sent its vote in view {view} before persisting it"
        ));
    }
    for (i, (persisted, sent)) in world
        .log
        .votes
        .iter()
        .zip(&world.log.sent_votes)
        .enumerate()
    {
        if world.is_byzantine(NodeId(i as u16)) {
            continue;
        }
        let votes = persisted.iter().chain(sent);
        let mut notarized: HashMap<View, &crate::TickVote> = HashMap::new();
        let mut finalized: HashMap<View, &crate::TickVote> = HashMap::new();
        let mut nullified: HashSet<View> = HashSet::new();
        for v in votes {
            match v {
                Vote::Notarize(t) => {
                    if notarized.insert(t.view, t).is_some_and(|o| o != t) {
                        return Err(format!("node {i} notarized twice in view {}", t.view));
                    }
                }
                Vote::Finalize(t) => {
                    if finalized.insert(t.view, t).is_some_and(|o| o != t) {
                        return Err(format!("node {i} finalized twice in view {}", t.view));
                    }
                }
                Vote::Nullify(n) => {
                    nullified.insert(n.view);
                }
            }
        }
        for (view, f) in &finalized {
            if nullified.contains(view) {
                return Err(format!("node {i} finalized and nullified view {view}"));
            }
            if let Some(n) = notarized.get(view)
                && n.tick_hash == f.tick_hash
                && n.reading != f.reading
            {
                return Err(format!(
                    "node {i}: finalize reading differs from notarize reading in view {view}"
                ));
            }
        }
    }
    Ok(())
}
