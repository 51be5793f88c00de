//! A stateright model of the real consensus core: n = 4, one Byzantine node, a whole-second clock.
//!
//! Owns: the model (three honest [`Core`]s, per-node inboxes with bounded reordering, timers on
//! each node's own clock, an abstract clock that advances in whole seconds, a Byzantine leader
//! of view 1 that equivocates and double-votes, and — within budgets — honest crashes (between
//! inputs, or right after the first durable record of an input, losing the sends after it) with
//! restarts from exactly what was persisted, and lost messages) and the safety properties
//! checked over every reachable state. Never: replaces the core with a model of it: every
//! transition calls `Core::handle` and every message goes through the codec.
//!
//! Depth and time are set by `MC_DEPTH` (BFS depth, default 40), `MC_STATES` (BFS state budget,
//! default 100,000), `MC_DFS_STATES` (DFS state budget, default 40,000), `MC_WALK_STATES`
//! (random-walk state budget, default 100,000), `MC_SECONDS` (wall-clock cap, honoured only
//! between work batches), `MC_MAX_TIME` (abstract seconds, default 2), `MC_REORDER` (how many
//! queued messages an inbox may deliver out of order: 1 for BFS, 2 for random walks), and for
//! the fault models `MC_CRASHES` (crashes per run, default 1) and `MC_LOSSES` (lost messages per
//! run, default 1). Each search prints whether it completed (every reachable state explored) or
//! was bounded, and by what.

use super::{
    Action, ChainTick, Config, Context, Core, Input, LocalClock, Message, Persisted, Proposal,
    Record, TickVote, Timer, Verifier, Vote, decode, encode,
};
use ed25519_dalek::SigningKey;
use stateright::{Checker, Model, Property};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::hash::{Hash as StdHash, Hasher};
use std::sync::Arc;
use std::time::Duration;
use tickchain_sdk::signing::sign;
use tickchain_sdk::testkit::TestNetwork;
use tickchain_sdk::votes::{ClockReading, VoteKind};
use tickchain_sdk::{Batch, Hash, Height, Nanos, NodeId, Second, Signature, Tick, UtcNanos, View};

const N: usize = 4;
/// The Byzantine node: it leads view 1.
const BYZ: usize = 1;
const HONEST: [usize; 3] = [0, 2, 3];
const RADIUS: i64 = 50_000_000;
/// Honest clock errors (kept non-negative so that whole-second steps reach every boundary).
const OFFSETS: [i64; N] = [0, 0, 20_000_000, 40_000_000];

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// The model: fixed keys, genesis, and the Byzantine node's prepared messages.
struct Ring {
    ctxs: Vec<Arc<Context>>,
    verifier: Verifier,
    genesis_hash: Hash,
    t0: i64,
    max_time: u64,
    reorder: usize,
    /// Crashes and lost messages each run may have (0 for the fault-free models).
    crashes: u8,
    losses: u8,
    byz_key: SigningKey,
    /// The two conflicting proposals for view 1.
    conflicting: [Proposal; 2],
}

#[derive(Clone)]
struct St {
    time: u64,
    cores: Vec<Option<Core>>,
    inbox: Vec<Vec<(u16, Vec<u8>)>>,
    timers: Vec<BTreeMap<Timer, UtcNanos>>,
    finals: Vec<Vec<ChainTick>>,
    /// Each honest node's own votes, as persisted and as sent, across restarts.
    votes: Vec<Vec<Vote>>,
    /// What each node persisted: a restart rebuilds its core from this alone.
    persisted: Vec<Persisted>,
    /// Crashes and message losses still allowed.
    crashes_left: u8,
    losses_left: u8,
    /// Ticks the Byzantine node already double-voted on.
    byz_done: BTreeSet<Hash>,
    /// A final tick whose certificate the sdk verifier rejected, or whose window escaped the
    /// honest readings.
    bad_certificate: Option<String>,
    /// [`St::fingerprint`], computed once per state.
    fp: [u8; 32],
}

impl St {
    fn fingerprint(&self) -> [u8; 32] {
        let mut h = blake3::Hasher::new();
        h.update(&self.time.to_be_bytes());
        h.update(&[self.crashes_left, self.losses_left]);
        for core in &self.cores {
            match core {
                Some(core) => h.update(&core.state_digest()),
                None => h.update(b"down"),
            };
        }
        let rest = format!(
            "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
            self.inbox,
            self.timers,
            self.finals,
            self.votes,
            self.persisted,
            self.byz_done,
            self.bad_certificate
        );
        h.update(rest.as_bytes());
        *h.finalize().as_bytes()
    }
}

impl PartialEq for St {
    fn eq(&self, other: &Self) -> bool {
        self.fp == other.fp
    }
}

impl StdHash for St {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.fp.hash(state);
    }
}

impl fmt::Debug for St {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let views: Vec<_> = self
            .cores
            .iter()
            .map(|c| c.as_ref().map(|c| c.view().0))
            .collect();
        let finals: Vec<Vec<(u64, u64, u64)>> = self
            .finals
            .iter()
            .map(|l| {
                l.iter()
                    .map(|t| (t.tick.height.0, t.tick.view.0, t.tick.second.0))
                    .collect()
            })
            .collect();
        let inbox: Vec<usize> = self.inbox.iter().map(Vec::len).collect();
        write!(
            f,
            "t={} views={views:?} finals(h,v,s)={finals:?} inbox={inbox:?} bad={:?}",
            self.time, self.bad_certificate
        )
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Act {
    Deliver {
        to: usize,
        pos: usize,
    },
    Fire {
        node: usize,
        timer: Timer,
    },
    Advance,
    /// The message is lost.
    Lose {
        to: usize,
        pos: usize,
    },
    /// The node crashes between inputs: volatile state, timers and inbox are gone.
    Crash {
        node: usize,
    },
    /// The message is delivered, and the node crashes right after the first record its
    /// handling persists: that record is durable, every later action (sends included) is lost.
    DeliverAndCrashAfterPersist {
        to: usize,
        pos: usize,
    },
    /// The node restarts from what it persisted.
    Restart {
        node: usize,
    },
}

impl Ring {
    fn new(max_time: u64, reorder: usize) -> Ring {
        Ring::with_faults(max_time, reorder, 0, 0)
    }

    /// A ring whose runs may also have `crashes` honest crashes and `losses` lost messages.
    fn with_faults(max_time: u64, reorder: usize, crashes: u8, losses: u8) -> Ring {
        let net = TestNetwork::new("model-4", N, 1, Second(1_700_000_000));
        let ctxs = Context::ring(&net, Config::default());
        let verifier = ctxs[0].verifier.clone();
        let gh = net.genesis.hash;
        let t0 = Second(net.genesis.genesis_second.0 + 1).start().0;
        let byz_key = net.keys[BYZ].clone();
        let second = Second(net.genesis.genesis_second.0 + 1);
        let reading = ClockReading {
            earliest: UtcNanos(t0 - RADIUS),
            latest: UtcNanos(t0 + RADIUS),
        };
        let proposal = |batches: Vec<Batch>| {
            let tree = tickchain_sdk::batch::tick_tree(&batches, &gh);
            let tick = Tick {
                height: Height(1),
                view: View(1),
                second,
                prev_hash: gh,
                batch_root: tree.root(),
                batch_count: tree.len(),
                proposer: NodeId(BYZ as u16),
            };
            let hash = tick.hash(&gh);
            let vote = TickVote::sign(
                VoteKind::Notarize,
                &byz_key,
                &gh,
                NodeId(BYZ as u16),
                View(1),
                hash,
                reading,
            );
            Proposal {
                tick,
                parent_view: View(0),
                batches,
                vote,
            }
        };
        let mut batch = Batch {
            node: NodeId(BYZ as u16),
            second,
            root: Hash([7; 32]),
            count: 1,
            signature: Signature([0; 64]),
        };
        batch.signature = sign(&byz_key, &batch.signing_bytes(&gh));
        let conflicting = [proposal(Vec::new()), proposal(vec![batch])];
        Ring {
            ctxs,
            verifier,
            genesis_hash: gh,
            t0,
            max_time,
            reorder,
            crashes,
            losses,
            byz_key,
            conflicting,
        }
    }

    fn clock(&self, node: usize, time: u64) -> LocalClock {
        let mid = self.t0 + time as i64 * 1_000_000_000 + OFFSETS[node];
        LocalClock::synced(UtcNanos(mid), Nanos(RADIUS))
    }

    fn byz_vote(&self, kind: VoteKind, view: View, hash: Hash, time: u64) -> TickVote {
        let t = self.t0 + time as i64 * 1_000_000_000;
        let reading = ClockReading {
            earliest: UtcNanos(t - RADIUS),
            latest: UtcNanos(t + RADIUS),
        };
        TickVote::sign(
            kind,
            &self.byz_key,
            &self.genesis_hash,
            NodeId(BYZ as u16),
            view,
            hash,
            reading,
        )
    }

    /// The Byzantine node sees `msg`: it notarizes and finalizes every tick it hears of, on top
    /// of its nullify and its own conflicting proposals.
    fn byz_react(&self, st: &mut St, msg: &Message) {
        let tick = match msg {
            Message::Proposal(p) => &p.tick,
            Message::Notarization(n) => &n.tick,
            _ => return,
        };
        let hash = tick.hash(&self.genesis_hash);
        if !st.byz_done.insert(hash) {
            return;
        }
        for kind in [VoteKind::Notarize, VoteKind::Finalize] {
            let vote = self.byz_vote(kind, tick.view, hash, st.time);
            let msg = match kind {
                VoteKind::Notarize => Message::Notarize(vote),
                VoteKind::Finalize => Message::Finalize(vote),
            };
            let bytes = encode(&msg);
            for i in HONEST {
                if st.cores[i].is_some() {
                    st.inbox[i].push((BYZ as u16, bytes.clone()));
                }
            }
        }
    }

    fn apply(&self, st: &mut St, node: usize, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::Persist(record) => {
                    st.persisted[node].apply(&record);
                    match record {
                        Record::Vote(v) => log_vote(&mut st.votes[node], v),
                        Record::Proposal(p) => {
                            log_vote(&mut st.votes[node], Vote::Notarize(p.vote))
                        }
                        _ => {}
                    }
                }
                Action::Broadcast(m) => {
                    log_sent(&mut st.votes[node], node, &m);
                    self.byz_react(st, &m);
                    let bytes = encode(&m);
                    for j in HONEST {
                        if j != node && st.cores[j].is_some() {
                            st.inbox[j].push((node as u16, bytes.clone()));
                        }
                    }
                }
                Action::Send { to, message } => {
                    log_sent(&mut st.votes[node], node, &message);
                    if to.index() == BYZ {
                        self.byz_react(st, &message);
                    } else if st.cores[to.index()].is_some() {
                        st.inbox[to.index()].push((node as u16, encode(&message)));
                    }
                }
                Action::SetTimer { timer, at } => {
                    st.timers[node].insert(timer, at);
                }
                Action::Finalized { tick: t, .. } => {
                    if let Err(e) = self.check_certificate(&t) {
                        st.bad_certificate.get_or_insert(e);
                    }
                    st.finals[node].push(t);
                }
                Action::Evidence(_) => {}
                Action::Conflict { height, .. } => {
                    st.bad_certificate
                        .get_or_insert(format!("node {node} saw a conflict at height {height}"));
                }
            }
        }
    }

    /// The sdk verifier accepts the certificate, and its window lies within the honest signers'
    /// readings.
    fn check_certificate(&self, t: &ChainTick) -> Result<(), String> {
        let Some(cert) = &t.certificate else {
            return Ok(());
        };
        let w = self
            .verifier
            .network()
            .verify_certificate(&t.tick, cert)
            .map_err(|e| e.to_string())?;
        let honest: Vec<_> = cert
            .votes
            .iter()
            .filter(|v| v.signer.index() != BYZ)
            .collect();
        let e_min = honest.iter().map(|v| v.reading.earliest).min();
        let e_max = honest.iter().map(|v| v.reading.earliest).max();
        let l_min = honest.iter().map(|v| v.reading.latest).min();
        let l_max = honest.iter().map(|v| v.reading.latest).max();
        let ok = e_min.is_some_and(|m| m <= w.earliest)
            && e_max.is_some_and(|m| w.earliest <= m)
            && l_min.is_some_and(|m| m <= w.latest)
            && l_max.is_some_and(|m| w.latest <= m);
        if ok {
            Ok(())
        } else {
            Err(format!("window {w:?} escapes the honest readings"))
        }
    }
}

impl Model for Ring {
    type State = St;
    type Action = Act;

    fn init_states(&self) -> Vec<St> {
        let mut out = Vec::new();
        // Each honest node first hears one of the two conflicting proposals.
        for choice in 0..8u8 {
            let mut st = St {
                time: 0,
                cores: vec![None; N],
                inbox: vec![Vec::new(); N],
                timers: vec![BTreeMap::new(); N],
                finals: vec![Vec::new(); N],
                votes: vec![Vec::new(); N],
                persisted: vec![Persisted::default(); N],
                crashes_left: self.crashes,
                losses_left: self.losses,
                byz_done: BTreeSet::new(),
                bad_certificate: None,
                fp: [0; 32],
            };
            for (k, &i) in HONEST.iter().enumerate() {
                let first = ((choice >> k) & 1) as usize;
                let (a, b) = (&self.conflicting[first], &self.conflicting[1 - first]);
                let fin = |p: &Proposal| {
                    Message::Finalize(self.byz_vote(
                        VoteKind::Finalize,
                        View(1),
                        p.vote.tick_hash,
                        0,
                    ))
                };
                let nullify = super::NullifyVote::sign(
                    &self.byz_key,
                    &self.genesis_hash,
                    NodeId(BYZ as u16),
                    View(1),
                );
                for m in [
                    Message::Proposal(a.clone()),
                    Message::Proposal(b.clone()),
                    fin(a),
                    fin(b),
                    Message::Nullify(nullify),
                ] {
                    st.inbox[i].push((BYZ as u16, encode(&m)));
                }
            }
            for i in HONEST {
                let mut core = Core::new(self.ctxs[i].clone(), &Persisted::default());
                let actions = core.handle(&self.clock(i, 0), Input::Start);
                st.cores[i] = Some(core);
                self.apply(&mut st, i, actions);
            }
            st.fp = st.fingerprint();
            out.push(st);
        }
        out
    }

    fn actions(&self, st: &St, out: &mut Vec<Act>) {
        // Deliveries last: the DFS explores the last action first, so deep paths deliver
        // before they let time run out.
        if st.time < self.max_time {
            out.push(Act::Advance);
        }
        for i in HONEST {
            let now = self.clock(i, st.time).mid();
            for (timer, at) in &st.timers[i] {
                if *at <= now {
                    out.push(Act::Fire {
                        node: i,
                        timer: *timer,
                    });
                }
            }
        }
        for i in HONEST {
            for pos in 0..st.inbox[i].len().min(self.reorder) {
                if st.losses_left > 0 {
                    out.push(Act::Lose { to: i, pos });
                }
                if st.crashes_left > 0 {
                    out.push(Act::DeliverAndCrashAfterPersist { to: i, pos });
                }
                out.push(Act::Deliver { to: i, pos });
            }
        }
        for i in HONEST {
            match st.cores[i] {
                None => out.push(Act::Restart { node: i }),
                Some(_) if st.crashes_left > 0 => out.push(Act::Crash { node: i }),
                Some(_) => {}
            }
        }
    }

    fn next_state(&self, last: &St, action: Act) -> Option<St> {
        let mut st = last.clone();
        match action {
            Act::Advance => st.time += 1,
            Act::Deliver { to, pos } => {
                let (from, bytes) = st.inbox[to].remove(pos);
                let message = decode(&bytes).expect("the codec decodes what it encoded");
                let clock = self.clock(to, st.time);
                let core = st.cores[to].as_mut().expect("honest node");
                let actions = core.handle(
                    &clock,
                    Input::Message {
                        from: NodeId(from),
                        message,
                    },
                );
                self.apply(&mut st, to, actions);
            }
            Act::Fire { node, timer } => {
                st.timers[node].remove(&timer);
                let clock = self.clock(node, st.time);
                let core = st.cores[node].as_mut().expect("honest node");
                let actions = core.handle(&clock, Input::Timer(timer));
                self.apply(&mut st, node, actions);
            }
            Act::Lose { to, pos } => {
                st.inbox[to].remove(pos);
                st.losses_left -= 1;
            }
            Act::Crash { node } => {
                crash(&mut st, node);
            }
            Act::DeliverAndCrashAfterPersist { to, pos } => {
                let (from, bytes) = st.inbox[to].remove(pos);
                let message = decode(&bytes).expect("the codec decodes what it encoded");
                let clock = self.clock(to, st.time);
                let core = st.cores[to].as_mut().expect("honest node");
                let mut actions = core.handle(
                    &clock,
                    Input::Message {
                        from: NodeId(from),
                        message,
                    },
                );
                let first = actions
                    .iter()
                    .position(|a| matches!(a, Action::Persist(_)))?;
                actions.truncate(first + 1);
                self.apply(&mut st, to, actions);
                crash(&mut st, to);
            }
            Act::Restart { node } => {
                let mut core = Core::new(self.ctxs[node].clone(), &st.persisted[node]);
                let actions = core.handle(&self.clock(node, st.time), Input::Start);
                st.cores[node] = Some(core);
                self.apply(&mut st, node, actions);
            }
        }
        st.fp = st.fingerprint();
        Some(st)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        // Votes are compared whole (tick and reading): a restarted node that lost a vote and
        // signs it again at another reading has signed two votes in one view.
        vec![
            Property::always("no two conflicting final ticks", |_, st: &St| {
                let mut by_height: BTreeMap<Height, &Tick> = BTreeMap::new();
                st.finals.iter().flatten().all(|t| {
                    let prev = by_height.insert(t.tick.height, &t.tick);
                    prev.is_none_or(|p| *p == t.tick)
                })
            }),
            Property::always("seconds strictly increase along the chain", |_, st: &St| {
                st.finals
                    .iter()
                    .all(|l| l.windows(2).all(|w| w[0].tick.second < w[1].tick.second))
            }),
            Property::always("no honest double vote", |_, st: &St| {
                st.votes.iter().all(|votes| {
                    let mut notarized: BTreeMap<View, &TickVote> = BTreeMap::new();
                    let mut finalized: BTreeMap<View, &TickVote> = BTreeMap::new();
                    let mut nullified: BTreeSet<View> = BTreeSet::new();
                    votes.iter().all(|v| match v {
                        Vote::Notarize(t) => *notarized.entry(t.view).or_insert(t) == t,
                        Vote::Finalize(t) => {
                            !nullified.contains(&t.view)
                                && *finalized.entry(t.view).or_insert(t) == t
                        }
                        Vote::Nullify(n) => {
                            nullified.insert(n.view);
                            !finalized.contains_key(&n.view)
                        }
                    })
                })
            }),
            Property::always(
                "certificates verify and their windows lie within the honest readings",
                |_, st: &St| st.bad_certificate.is_none(),
            ),
            Property::sometimes("a tick is finalized", |_, st: &St| {
                st.finals.iter().any(|l| !l.is_empty())
            }),
        ]
    }

    fn within_boundary(&self, st: &St) -> bool {
        st.time <= self.max_time
    }
}

/// A node crashes: its core, timers and inbox are gone; what it persisted stays.
fn crash(st: &mut St, node: usize) {
    st.cores[node] = None;
    st.timers[node].clear();
    st.inbox[node].clear();
    st.crashes_left -= 1;
}

/// Adds `vote` to a node's vote log unless it is there already.
fn log_vote(votes: &mut Vec<Vote>, vote: Vote) {
    if !votes.contains(&vote) {
        votes.push(vote);
    }
}

/// Logs `m` if it is node `node`'s own vote or proposal.
fn log_sent(votes: &mut Vec<Vote>, node: usize, m: &Message) {
    let me = NodeId(node as u16);
    let vote = match m {
        Message::Notarize(v) if v.signer == me => Vote::Notarize(v.clone()),
        Message::Finalize(v) if v.signer == me => Vote::Finalize(v.clone()),
        Message::Nullify(v) if v.signer == me => Vote::Nullify(v.clone()),
        Message::Proposal(p) if p.vote.signer == me => Vote::Notarize(p.vote.clone()),
        _ => return,
    };
    log_vote(votes, vote);
}

/// How a search ended.
#[derive(Debug, PartialEq)]
enum Search {
    /// Every state reachable within the model's bounds (abstract time, fault budgets) was
    /// explored.
    Completed,
    /// The search stopped at a cap before running out of states.
    Bounded(&'static str),
}

/// Whether `checker` ran out of states or hit `max_depth`, `max_states` or `timeout`.
fn outcome<C: Checker<Ring>>(
    checker: &C,
    max_depth: usize,
    max_states: usize,
    timeout: Option<(std::time::Instant, Duration)>,
) -> Search {
    if checker.state_count() >= max_states {
        Search::Bounded("state budget")
    } else if checker.max_depth() >= max_depth {
        Search::Bounded("depth cap")
    } else if timeout.is_some_and(|(t0, cap)| t0.elapsed() >= cap) {
        Search::Bounded("wall-clock cap")
    } else {
        Search::Completed
    }
}

/// No safety property has a counterexample; a failure says how far the search got.
fn assert_safe<C: Checker<Ring>>(checker: &C, search: &Search) {
    for name in [
        "no two conflicting final ticks",
        "seconds strictly increase along the chain",
        "no honest double vote",
        "certificates verify and their windows lie within the honest readings",
    ] {
        if let Some(path) = checker.discovery(name) {
            panic!(
                "\"{name}\" is violated (search {search:?} after {} states); path:\n{path:?}",
                checker.state_count()
            );
        }
    }
}

/// Prints how the search of `what` ended and returns it.
fn report<C: Checker<Ring>>(
    what: &str,
    checker: &C,
    max_depth: usize,
    max_states: usize,
    timeout: Option<(std::time::Instant, Duration)>,
) -> Search {
    let search = if what.contains("random walks") {
        Search::Bounded("random choice of paths (random walks never exhaust a space)")
    } else {
        outcome(checker, max_depth, max_states, timeout)
    };
    let verdict = match &search {
        Search::Completed => "COMPLETED: every reachable state explored".to_string(),
        Search::Bounded(by) => format!("BOUNDED by the {by}: not every state explored"),
    };
    println!(
        "{what}: {} states ({} unique), max depth {}; {verdict}",
        checker.state_count(),
        checker.unique_state_count(),
        checker.max_depth()
    );
    search
}

/// A breadth-first search of `ring` with the `MC_*` budgets, timed.
fn bfs(ring: Ring, what: &str, states: u64) -> (impl Checker<Ring>, Search) {
    let (depth, states) = (
        env("MC_DEPTH", 40) as usize,
        env("MC_STATES", states) as usize,
    );
    let cap = Duration::from_secs(env("MC_SECONDS", 60));
    let t0 = std::time::Instant::now();
    let checker = ring
        .checker()
        .threads(1)
        .target_max_depth(depth)
        .target_state_count(states)
        .timeout(cap)
        .spawn_bfs()
        .join();
    let search = report(what, &checker, depth, states, Some((t0, cap)));
    (checker, search)
}

/// Bounded (not exhaustive) at the default budgets: the BFS frontier at depth 40 is far larger
/// than 100,000 states; it prints which cap stopped it.
#[test]
fn model_check_bfs_no_conflicting_finality_with_an_equivocating_double_voting_leader() {
    let ring = Ring::new(env("MC_MAX_TIME", 2), env("MC_REORDER", 1) as usize);
    let (checker, search) = bfs(ring, "bfs", 100_000);
    assert_safe(&checker, &search);
}

/// Crash/restart and message loss (issue 13): on top of the equivocating leader, one honest
/// node may crash (between inputs, or right after the first record an input makes durable,
/// losing every send after it) and restart from exactly what it persisted, and one message may
/// be lost. No state reached has a fork, an honest node that signed two different votes in a
/// view (persisted or sent, across its restart), or a bad certificate.
///
/// The search is bounded, not complete: even with one abstract second, the crash and loss
/// choices on top of the equivocator's eight openings give millions of states (40,000 are
/// reached at depth 6). It prints which cap stopped it, and a failure says so too.
#[test]
fn model_check_bfs_with_crash_restart_and_message_loss_no_double_vote_no_fork() {
    let ring = Ring::with_faults(
        env("MC_MAX_TIME", 1),
        env("MC_REORDER", 1) as usize,
        env("MC_CRASHES", 1) as u8,
        env("MC_LOSSES", 1) as u8,
    );
    let (checker, search) = bfs(ring, "bfs with crashes and loss", 40_000);
    assert_safe(&checker, &search);
}

/// Random walks through the fault model reach deep states (restarts after finality, ticks
/// finalized after a crash) that breadth-first search cannot: a bounded search by design.
#[test]
fn model_check_random_walks_with_crashes_and_loss_reach_finality_and_stay_safe() {
    let ring = Ring::with_faults(
        env("MC_MAX_TIME", 2),
        env("MC_REORDER", 2) as usize,
        env("MC_CRASHES", 1) as u8,
        env("MC_LOSSES", 1) as u8,
    );
    let (depth, states) = (400, env("MC_WALK_STATES", 25_000) as usize);
    let cap = Duration::from_secs(env("MC_SECONDS", 60));
    let t0 = std::time::Instant::now();
    let checker = ring
        .checker()
        .threads(1)
        .target_max_depth(depth)
        .target_state_count(states)
        .timeout(cap)
        .spawn_simulation(env("MC_SEED", 11), stateright::UniformChooser)
        .join();
    let search = report(
        "random walks with crashes and loss",
        &checker,
        depth,
        states,
        Some((t0, cap)),
    );
    assert_safe(&checker, &search);
    checker.assert_any_discovery("a tick is finalized");
}

#[test]
fn model_check_dfs_deep_paths_reach_finality_without_conflicts() {
    let ring = Ring::new(env("MC_MAX_TIME", 2), env("MC_REORDER", 1) as usize);
    let checker = ring
        .checker()
        .threads(1)
        .target_max_depth(400)
        .target_state_count(env("MC_DFS_STATES", 40_000) as usize)
        .spawn_dfs()
        .join();
    let states = env("MC_DFS_STATES", 40_000) as usize;
    let search = report("dfs", &checker, 400, states, None);
    assert_safe(&checker, &search);
    checker.assert_any_discovery("a tick is finalized");
}

#[test]
fn model_check_random_deep_walks_reach_finality_and_stay_safe() {
    let ring = Ring::new(env("MC_MAX_TIME", 2), env("MC_REORDER", 2) as usize);
    let checker = ring
        .checker()
        .threads(1)
        .target_max_depth(400)
        .target_state_count(env("MC_WALK_STATES", 100_000) as usize)
        .timeout(Duration::from_secs(env("MC_SECONDS", 60)))
        .spawn_simulation(env("MC_SEED", 7), stateright::UniformChooser)
        .join();
    let states = env("MC_WALK_STATES", 100_000) as usize;
    let search = report("random walks", &checker, 400, states, None);
    assert_safe(&checker, &search);
    checker.assert_any_discovery("a tick is finalized");
}
