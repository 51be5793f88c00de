//! The simulated world: real cores, a seeded lossy network, skewed clocks, crashes, partitions.
//!
//! Owns: the discrete-event loop that drives [`Core`]s exactly as a driver would (persist, then
//! send; timers on each node's own clock), crashes between inputs or right after a durable
//! record, and the log of everything the invariants need (each node's votes as persisted and as
//! sent). Never: judges the run (see `check`), and never reads a real clock or OS randomness.

use super::byzantine::Coalition;
use super::rng::Rng;
use super::scenario::{Byzantine, CrashPoint, Scenario};
use crate::{
    Action, ChainTick, Context, Core, Input, LocalClock, Message, Persisted, Record, Timer,
    Verifier, Vote,
};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::sync::Arc;
use tickchain_sdk::testkit::TestNetwork;
use tickchain_sdk::{Digest, Hash, Nanos, NodeId, Second, UtcNanos};

/// Genesis second of every simulated network.
pub const GENESIS_SECOND: Second = Second(1_700_000_000);

/// The seed-independent test network of size `n`, built once per thread and size: deriving its
/// keys and attestation bindings costs more than a short run.
fn test_network(n: usize, f: u16) -> TestNetwork {
    thread_local! {
        static NETWORKS: std::cell::RefCell<HashMap<usize, TestNetwork>> =
            std::cell::RefCell::new(HashMap::new());
    }
    NETWORKS.with(|nets| {
        nets.borrow_mut()
            .entry(n)
            .or_insert_with(|| TestNetwork::new(&format!("sim-{n}"), n, f, GENESIS_SECOND))
            .clone()
    })
}

#[derive(Debug)]
enum Event {
    Deliver {
        from: NodeId,
        to: NodeId,
        message: Box<Message>,
    },
    Timer {
        node: NodeId,
        timer: Timer,
        at: UtcNanos,
    },
    Crash {
        node: NodeId,
        wipe: bool,
    },
    /// From now on, the node crashes right after its next durable record.
    Arm {
        node: NodeId,
        wipe: bool,
        sends: u8,
        down: i64,
    },
    Restart(NodeId),
    Batch(i64),
}

#[derive(Debug)]
struct Queued {
    at: i64,
    seq: u64,
    event: Event,
}

impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Queued {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

struct Node {
    core: Option<Core>,
    persisted: Persisted,
    timers: HashMap<Timer, UtcNanos>,
    offset: i64,
    radius: i64,
    /// A crash armed to land right after the next durable record: (wipe, sends still let out,
    /// time down).
    armed: Option<(bool, u8, i64)>,
}

/// Everything observed in a run, in true (simulated) time, for the invariants and reports.
#[derive(Debug, Default)]
pub struct Log {
    /// Each node's final ticks, in the order reported, with the true time of the report.
    pub finalized: Vec<Vec<(i64, ChainTick)>>,
    /// Each node's own votes, as persisted (across restarts).
    pub votes: Vec<Vec<Vote>>,
    /// Each node's own votes, as sent (a proposal counts as its notarize vote), across
    /// restarts; repeats of one vote are kept once.
    pub sent_votes: Vec<Vec<Vote>>,
    /// Own votes a node sent before persisting them: (node, view). The driver contract
    /// (`io.rs`) makes this impossible for a correct core.
    pub unpersisted: Vec<(NodeId, tickchain_sdk::View)>,
    /// Final ticks a restarted node reported from its newest final record because the crash
    /// cut their report (the daemon's start-up repair, `specs/consensus.md` §9).
    pub repaired: usize,
    /// Crashes that landed right after a durable record: (node, true time, actions lost).
    pub crashes_after_persist: Vec<(NodeId, i64, usize)>,
    /// True time at which each tick (by hash) was first proposed.
    pub proposed_at: HashMap<Hash, i64>,
    /// Each node's view changes: (true time, new view).
    pub views: Vec<Vec<(i64, tickchain_sdk::View)>>,
    /// Each node's final ticks' batch lists, where the node knew them (by tick hash).
    pub carried: Vec<HashMap<Hash, Vec<tickchain_sdk::Batch>>>,
    /// Node 0's batches, with the true time each was sealed.
    pub offered: Vec<(i64, tickchain_sdk::Batch)>,
    /// Conflicts the nodes reported (node, height): with at most f faulty, never.
    pub conflicts: Vec<(NodeId, tickchain_sdk::Height)>,
    /// Each node's persisted records, in order (across restarts).
    pub records: Vec<Vec<crate::Record>>,
    /// For each node, the length of its `finalized` list at each wipe (it reports the chain
    /// again from genesis after one).
    pub wiped: Vec<Vec<usize>>,
    /// For each node, the most final ticks its core ever held unlinked (`Config::max_waiting`).
    pub max_waiting: Vec<usize>,
    /// Messages sent.
    pub sent: u64,
    /// Messages lost or cut by a partition.
    pub dropped: u64,
}

/// One simulated run.
pub struct World {
    /// The scenario being run.
    pub scenario: Scenario,
    /// The network's keys and genesis.
    pub net: TestNetwork,
    /// A verifier sharing the cores' signature cache.
    pub verifier: Verifier,
    /// What happened.
    pub log: Log,
    /// Print every input and action (for replaying a failing seed by hand).
    pub trace: bool,
    ctxs: Vec<Arc<Context>>,
    nodes: Vec<Node>,
    coalition: Coalition,
    queue: BinaryHeap<Reverse<Queued>>,
    seq: u64,
    now: i64,
    /// True time at the start of the run (ns since the epoch).
    pub start: i64,
    rng: Rng,
}

impl World {
    /// Builds the world for `scenario` (keys from the seed-independent test network of size n).
    pub fn new(scenario: Scenario) -> World {
        let n = scenario.n;
        let f = ((n - 1) / 3) as u16;
        let net = test_network(n, f);
        let mut rng = Rng::new(scenario.seed.wrapping_mul(31).wrapping_add(7));
        let ctxs: Vec<Arc<Context>> = Context::ring(&net, scenario.config.clone());
        let verifier = ctxs[0].verifier.clone();
        let err = scenario.clock_error.0;
        let nodes = (0..n)
            .map(|i| {
                let mut offset = rng.range(-err, err);
                let mut radius = err + 10_000_000;
                for (b, kind) in &scenario.byzantine {
                    if let Byzantine::ClockOff(off) = kind
                        && b.index() == i
                    {
                        offset = off.0;
                        radius = 10_000_000;
                    }
                }
                Node {
                    core: None,
                    persisted: Persisted::default(),
                    timers: HashMap::new(),
                    offset,
                    radius,
                    armed: None,
                }
            })
            .collect();
        let members = scenario
            .byzantine
            .iter()
            .map(|(b, kind)| (*b, *kind, net.keys[b.index()].clone()))
            .collect();
        let g = &net.genesis;
        let tolerances = (
            Nanos::from_millis(i64::from(g.max_early_ms)),
            Nanos::from_millis(i64::from(g.max_late_ms)),
        );
        let coalition = Coalition::new(members, g.hash, n, tolerances, scenario.seed);
        let start = GENESIS_SECOND.start().0 + 1_000_000_000 + 300_000_000;
        let mut world = World {
            log: Log {
                finalized: vec![Vec::new(); n],
                carried: vec![HashMap::new(); n],
                records: vec![Vec::new(); n],
                conflicts: Vec::new(),
                offered: Vec::new(),
                votes: vec![Vec::new(); n],
                sent_votes: vec![Vec::new(); n],
                views: vec![Vec::new(); n],
                wiped: vec![Vec::new(); n],
                max_waiting: vec![0; n],
                ..Log::default()
            },
            trace: false,
            scenario,
            net,
            verifier,
            ctxs,
            nodes,
            coalition,
            queue: BinaryHeap::new(),
            seq: 0,
            now: start,
            start,
            rng,
        };
        for i in 0..n {
            world.restart(NodeId(i as u16));
        }
        for c in world.scenario.crashes.clone() {
            match c.point {
                CrashPoint::Idle => {
                    world.push(
                        start + c.at.0,
                        Event::Crash {
                            node: c.node,
                            wipe: c.wipe,
                        },
                    );
                    world.push(start + c.restart.0, Event::Restart(c.node));
                }
                CrashPoint::AfterPersist { sends } => world.push(
                    start + c.at.0,
                    Event::Arm {
                        node: c.node,
                        wipe: c.wipe,
                        sends,
                        down: c.restart.0 - c.at.0,
                    },
                ),
            }
        }
        world.push(start, Event::Batch(0));
        world
    }

    /// True time at the start of the run (ns since the epoch).
    pub fn start(&self) -> i64 {
        self.start
    }

    /// True time now.
    pub fn now(&self) -> i64 {
        self.now
    }

    /// Whether node `id` is one of the scenario's Byzantine nodes.
    pub fn is_byzantine(&self, id: NodeId) -> bool {
        self.scenario.byzantine.iter().any(|(b, _)| *b == id)
    }

    fn push(&mut self, at: i64, event: Event) {
        self.seq += 1;
        self.queue.push(Reverse(Queued {
            at,
            seq: self.seq,
            event,
        }));
    }

    fn clock(&self, i: NodeId) -> LocalClock {
        let node = &self.nodes[i.index()];
        LocalClock::synced(UtcNanos(self.now + node.offset), Nanos(node.radius))
    }

    /// Runs until the scenario's duration has passed.
    pub fn run(&mut self) {
        let end = self.start + self.scenario.duration.0;
        while let Some(Reverse(q)) = self.queue.pop() {
            if q.at > end {
                break;
            }
            self.now = q.at;
            match q.event {
                Event::Deliver { from, to, message } => {
                    self.input(
                        to,
                        Input::Message {
                            from,
                            message: *message,
                        },
                    );
                }
                Event::Timer { node, timer, at } => {
                    if self.nodes[node.index()].timers.get(&timer) == Some(&at) {
                        self.nodes[node.index()].timers.remove(&timer);
                        self.input(node, Input::Timer(timer));
                    }
                }
                Event::Crash { node, wipe } => self.crash(node, wipe),
                Event::Arm {
                    node,
                    wipe,
                    sends,
                    down,
                } => self.nodes[node.index()].armed = Some((wipe, sends, down)),
                Event::Restart(id) => self.restart(id),
                Event::Batch(k) => self.offer_batch(k),
            }
        }
    }

    fn crash(&mut self, id: NodeId, wipe: bool) {
        let node = &mut self.nodes[id.index()];
        node.core = None;
        node.timers.clear();
        if wipe {
            node.persisted = Persisted::default();
            let reported = self.log.finalized[id.index()].len();
            self.log.wiped[id.index()].push(reported);
        }
    }

    fn restart(&mut self, id: NodeId) {
        let node = &mut self.nodes[id.index()];
        if node.core.is_some() {
            return;
        }
        // A crash between a final tick's record and its report leaves the record one height
        // above the last report; the daemon appends that tick to its chain on start
        // (`specs/consensus.md` §9), and so does the simulator. A larger gap is left for the
        // checks to flag: no crash can produce it.
        let i = id.index();
        let since = self.log.wiped[i].last().copied().unwrap_or(0);
        let reported = self.log.finalized[i][since..]
            .last()
            .map_or(0, |(_, t)| t.tick.height.0);
        if let Some(t) = &node.persisted.finalized
            && t.tick.height.0 == reported + 1
        {
            self.log.finalized[i].push((self.now, t.clone()));
            self.log.repaired += 1;
        }
        node.core = Some(Core::new(self.ctxs[id.index()].clone(), &node.persisted));
        self.input(id, Input::Start);
    }

    /// Every two seconds node 0 seals a one-digest batch and hands it to its own core, which
    /// broadcasts it and offers it again until a final tick carries it.
    fn offer_batch(&mut self, k: i64) {
        let second = Second((self.now / 1_000_000_000) as u64);
        let sealed = self.net.batch(NodeId(0), second, &[Digest([k as u8; 32])]);
        if self.nodes[0].core.is_some() {
            self.log.offered.push((self.now, sealed.batch.clone()));
        }
        self.input(NodeId(0), Input::Batch(sealed.batch.clone()));
        self.push(self.now + 2_000_000_000, Event::Batch(k + 1));
    }

    fn input(&mut self, id: NodeId, input: Input) {
        let clock = self.clock(id);
        let Some(core) = self.nodes[id.index()].core.as_mut() else {
            return;
        };
        if self.trace {
            println!(
                "{} n{} <- {}",
                (self.now - self.start) / 1_000_000,
                id,
                describe_input(&input)
            );
        }
        let before = core.view();
        let actions = core.handle(&clock, input);
        let held = &mut self.log.max_waiting[id.index()];
        *held = (*held).max(core.unlinked_ticks());
        if core.view() != before {
            self.log.views[id.index()].push((self.now, core.view()));
        }
        let actions: Vec<(NodeId, Action)> = if self.coalition.rewrites(id) {
            self.coalition.rewrite(id, actions)
        } else {
            actions.into_iter().map(|a| (id, a)).collect()
        };
        let armed = self.nodes[id.index()].armed;
        let persists = actions.iter().any(|(_, a)| matches!(a, Action::Persist(_)));
        if let (Some((wipe, sends, down)), true) = (armed, persists) {
            return self.execute_until_crash(id, actions, wipe, sends, down);
        }
        for (by, action) in actions {
            if self.trace {
                println!("      n{by} -> {}", describe_action(&action));
            }
            self.execute(by, action);
        }
    }

    /// Executes `actions` up to and including the first durable record, lets `sends` more
    /// messages out (one per recipient), and crashes the node: the rest is lost.
    fn execute_until_crash(
        &mut self,
        id: NodeId,
        actions: Vec<(NodeId, Action)>,
        wipe: bool,
        sends: u8,
        down: i64,
    ) {
        let mut budget = usize::from(sends);
        let mut persisted = false;
        let mut lost = 0;
        for (by, action) in actions {
            let action = match action {
                Action::Broadcast(message) if persisted => {
                    // A broadcast is one send per recipient: the crash may cut it part-way.
                    for j in 0..self.scenario.n {
                        if j == by.index() {
                            continue;
                        }
                        if budget == 0 {
                            lost += 1;
                            continue;
                        }
                        budget -= 1;
                        self.send(by, NodeId(j as u16), message.clone());
                    }
                    continue;
                }
                Action::Send { .. } if persisted && budget == 0 => {
                    lost += 1;
                    continue;
                }
                Action::Send { .. } if persisted => {
                    budget -= 1;
                    action
                }
                _ if persisted => {
                    lost += 1;
                    continue;
                }
                other => other,
            };
            if matches!(action, Action::Persist(_)) {
                persisted = true;
            }
            self.execute(by, action);
        }
        if self.trace {
            println!("      n{id} CRASH after a durable record, {lost} actions lost");
        }
        self.log.crashes_after_persist.push((id, self.now, lost));
        self.nodes[id.index()].armed = None;
        self.crash(id, wipe);
        self.push(self.now + down, Event::Restart(id));
    }

    fn execute(&mut self, id: NodeId, action: Action) {
        match action {
            Action::Conflict { height, .. } => self.log.conflicts.push((id, height)),
            Action::Evidence(_) => {}
            Action::Persist(record) => {
                self.log.records[id.index()].push(record.clone());
                self.nodes[id.index()].persisted.apply(&record);
                match record {
                    Record::Vote(v) => self.log.votes[id.index()].push(v),
                    Record::Proposal(p) => self.log.votes[id.index()].push(Vote::Notarize(p.vote)),
                    _ => {}
                }
            }
            Action::Broadcast(message) => {
                self.log_sent_vote(id, &message);
                for j in 0..self.scenario.n {
                    if j != id.index() {
                        self.send(id, NodeId(j as u16), message.clone());
                    }
                }
            }
            Action::Send { to, message } => {
                self.log_sent_vote(id, &message);
                self.send(id, to, message);
            }
            Action::SetTimer { timer, at } => {
                let node = &mut self.nodes[id.index()];
                node.timers.insert(timer, at);
                let true_at = (at.0 - node.offset).max(self.now);
                self.push(
                    true_at,
                    Event::Timer {
                        node: id,
                        timer,
                        at,
                    },
                );
            }
            Action::Finalized { tick, batches } => {
                if let Some(batches) = batches {
                    let hash = tick.tick.hash(&self.net.genesis.hash);
                    self.log.carried[id.index()].insert(hash, batches);
                }
                self.log.finalized[id.index()].push((self.now, tick));
            }
        }
    }

    /// Records `message` if it is `id`'s own vote (or proposal), and flags it if `id` never
    /// persisted it.
    fn log_sent_vote(&mut self, id: NodeId, message: &Message) {
        let vote = match message {
            Message::Notarize(v) if v.signer == id => Vote::Notarize(v.clone()),
            Message::Finalize(v) if v.signer == id => Vote::Finalize(v.clone()),
            Message::Nullify(v) if v.signer == id => Vote::Nullify(v.clone()),
            Message::Proposal(p) if p.vote.signer == id => Vote::Notarize(p.vote.clone()),
            _ => return,
        };
        let i = id.index();
        if self.log.sent_votes[i].contains(&vote) {
            return;
        }
        if !self.is_byzantine(id) && !self.log.votes[i].contains(&vote) {
            self.log.unpersisted.push((id, vote.view()));
        }
        self.log.sent_votes[i].push(vote);
    }

    fn send(&mut self, from: NodeId, to: NodeId, message: Message) {
        self.log.sent += 1;
        if let Message::Proposal(p) = &message {
            let hash = p.vote.tick_hash;
            self.log.proposed_at.entry(hash).or_insert(self.now);
        }
        let t = self.now - self.start;
        let cut = self.scenario.partitions.iter().any(|p| {
            p.from.0 <= t && t < p.until.0 && p.groups[from.index()] != p.groups[to.index()]
        });
        if cut || self.rng.chance(self.scenario.loss_per_mille) {
            self.log.dropped += 1;
            return;
        }
        let delay = self.scenario.delay.0 + self.rng.range(0, self.scenario.jitter.0);
        self.push(
            self.now + delay,
            Event::Deliver {
                from,
                to,
                message: Box::new(message),
            },
        );
    }

    /// Each node's final ticks by height (for reports).
    pub fn final_seconds(&self) -> BTreeMap<u64, Second> {
        let mut out = BTreeMap::new();
        for log in &self.log.finalized {
            for (_, t) in log {
                out.insert(t.tick.height.0, t.tick.second);
            }
        }
        out
    }
}

fn describe_message(m: &Message) -> String {
    match m {
        Message::Proposal(p) => format!(
            "proposal v{} h{} s{} parent v{}",
            p.tick.view, p.tick.height, p.tick.second, p.parent_view
        ),
        Message::Notarize(v) => format!("notarize v{} by {}", v.view, v.signer),
        Message::Finalize(v) => format!("finalize v{} by {}", v.view, v.signer),
        Message::Nullify(v) => format!("nullify v{} by {}", v.view, v.signer),
        Message::Notarization(n) => format!("notarization v{}", n.tick.view),
        Message::Nullification(n) => format!("nullification v{}", n.view),
        Message::Finalization(f) => format!("finalization v{}", f.tick.view),
        Message::Fetch(f) => format!("fetch views {:?} ticks {}", f.views, f.ticks.len()),
        Message::Chain(c) => format!("chain of {}", c.len()),
        Message::Batch(b) => format!("batch of {} s{}", b.node, b.second),
        Message::Delivered(d) => format!("delivered h{}", d.tick.tick.height),
    }
}

fn describe_input(i: &Input) -> String {
    match i {
        Input::Message { from, message } => format!("from {from}: {}", describe_message(message)),
        other => format!("{other:?}"),
    }
}

fn describe_action(a: &Action) -> String {
    match a {
        Action::Broadcast(m) => format!("broadcast {}", describe_message(m)),
        Action::Send { to, message } => format!("send {to} {}", describe_message(message)),
        Action::Persist(_) => "persist".into(),
        Action::Conflict { height, .. } => format!("CONFLICT at height {height}"),
        Action::Evidence(e) => format!("EVIDENCE {} by {} in v{}", e.rule, e.member, e.view()),
        Action::SetTimer { timer, at } => {
            format!("timer {timer:?} at {}", at.0 % 100_000_000_000 / 1_000_000)
        }
        Action::Finalized { tick: t, .. } => {
            format!("FINAL h{} s{}", t.tick.height, t.tick.second)
        }
    }
}
