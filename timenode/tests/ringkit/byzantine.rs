//! A misbehaving ring member for tests: a real consensus core with a genesis key on real QUIC,
//! whose outgoing messages are rewritten into attacks, plus attacks below the protocol.
//!
//! Owns: the attacks (each counted by kind in its [`Report`]): proposals with a wrapped second,
//! a far-future second or a stale parent; proposals equivocated to one victim; notarize votes
//! equivocated to one victim; finalize votes with forged clock readings; replays of its own old
//! votes; forged time replies and unsolicited ones; fetches filled with duplicates; co-sign
//! requests for huge ranges; co-signatures nobody asked for; junk frames; 1 MiB frames
//! announced and stalled. Never: forges another member's signature (it holds only its own key)
//! or sends to anything but the ring.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tickchain_consensus::clock::LocalClock;
use tickchain_consensus::config::{Config, Context};
use tickchain_consensus::crypto::Verifier;
use tickchain_consensus::peer::{AttestMessage, TimeMessage};
use tickchain_consensus::persist::Persisted;
use tickchain_consensus::{
    Action, Core, Fetch, Input, Message, PeerMessage, Proposal, TickVote, Timer,
};
use tickchain_sdk::anchor::{Anchor, AnchorDomain, EvmAddress, EvmSignature};
use tickchain_sdk::votes::{ClockReading, VoteKind};
use tickchain_sdk::{Genesis, Hash, Height, Nanos, NodeId, Second, UtcNanos, View};
use tickchain_timenode::net::{Transport, TransportConfig};

/// What the faulty member did, by attack kind, and how many views it led.
#[derive(Debug, Default, Clone)]
pub struct Report {
    /// Views in which it was the leader and proposed.
    pub led_views: u64,
    /// Views its core entered in which it was the leader (proposing or not).
    pub leader_turns: u64,
    /// Attacks sent, by kind.
    pub attacks: BTreeMap<&'static str, u64>,
}

/// A running faulty member; stopped (and its report returned) by [`Byzantine::stop`].
pub struct Byzantine {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Report>>,
}

impl Byzantine {
    /// Starts member `me` of `genesis` with `key` on its genesis address. With `attack` false it
    /// behaves honestly (a control run of the same code path).
    pub fn start(
        genesis: Genesis,
        me: NodeId,
        key: ed25519_dalek::SigningKey,
        attack: bool,
    ) -> Byzantine {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(run(genesis, me, key, attack, flag))
        });
        Byzantine {
            stop,
            thread: Some(thread),
        }
    }

    /// Stops it and returns what it did.
    pub fn stop(mut self) -> Report {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap()
    }
}

impl Drop for Byzantine {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn system_now() -> UtcNanos {
    UtcNanos(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos() as i64,
    )
}

/// Its clock: the host clock, which the honest test nodes also declare, ±5 ms.
fn clock() -> LocalClock {
    LocalClock::synced(system_now(), Nanos::from_millis(5))
}

struct Attacker {
    me: NodeId,
    n: u16,
    key: ed25519_dalek::SigningKey,
    gh: Hash,
    attack: bool,
    transport: Transport,
    report: Report,
    /// Its own past votes, replayed later.
    old: VecDeque<Message>,
    /// The newest final tick's hash it knows (fetched, duplicated, by the fetch attack).
    known: Hash,
    /// The attestation address genesis binds to it, if any.
    attestation: Option<EvmAddress>,
    views: u64,
}

impl Attacker {
    fn count(&mut self, kind: &'static str) {
        *self.report.attacks.entry(kind).or_default() += 1;
    }

    fn send(&self, to: NodeId, m: &Message) {
        self.transport
            .send(to, tickchain_consensus::codec::encode(m));
    }

    fn others(&self) -> Vec<NodeId> {
        (0..self.n).map(NodeId).filter(|&j| j != self.me).collect()
    }

    /// The victim of this view's targeted attacks: one honest member, in turn.
    fn victim(&self, view: View) -> NodeId {
        let others = self.others();
        others[(view.0 as usize) % others.len()]
    }

    fn resign(&self, mut p: Proposal) -> Proposal {
        let hash = p.tick.hash(&self.gh);
        p.vote = TickVote::sign(
            VoteKind::Notarize,
            &self.key,
            &self.gh,
            self.me,
            p.tick.view,
            hash,
            p.vote.reading,
        );
        p
    }

    fn on_proposal(&mut self, p: Proposal) {
        self.report.led_views += 1;
        let all = Message::Proposal(p.clone());
        if !self.attack {
            for j in self.others() {
                self.send(j, &all);
            }
            return;
        }
        // One led view in two carries an invalid proposal (the view is lost); the other an
        // equivocation that one victim sees and the rest do not (the view survives).
        match self.report.led_views % 6 {
            1 => {
                let mut bad = p.clone();
                bad.tick.second = Second(p.tick.second.0 + (1 << 55));
                self.broadcast(&Message::Proposal(self.resign(bad)));
                self.count("proposal_wrapped_second");
            }
            3 => {
                let mut bad = p.clone();
                bad.tick.second = Second(p.tick.second.0 + 3_600);
                self.broadcast(&Message::Proposal(self.resign(bad)));
                self.count("proposal_far_future_second");
            }
            5 => {
                let mut bad = p.clone();
                bad.tick.prev_hash = Hash(*blake3::hash(b"no such parent").as_bytes());
                bad.parent_view = View(p.parent_view.0.saturating_sub(3));
                self.broadcast(&Message::Proposal(self.resign(bad)));
                self.count("proposal_stale_parent");
            }
            _ => {
                let victim = self.victim(p.tick.view);
                let mut other = p.clone();
                other.tick.second = Second(p.tick.second.0 + 1);
                let other = self.resign(other);
                for j in self.others() {
                    if j == victim {
                        self.send(j, &Message::Proposal(other.clone()));
                    }
                    self.send(j, &all);
                }
                self.count("proposal_equivocation");
            }
        }
    }

    fn broadcast(&self, m: &Message) {
        for j in self.others() {
            self.send(j, m);
        }
    }

    fn on_vote(&mut self, m: Message) {
        self.old.push_back(m.clone());
        if self.old.len() > 64 {
            self.old.pop_front();
        }
        if !self.attack {
            return self.broadcast(&m);
        }
        match &m {
            Message::Notarize(v) if v.view.0.is_multiple_of(3) => {
                // The honest vote to all, and a vote for another tick to one victim.
                self.broadcast(&m);
                let forged = TickVote::sign(
                    VoteKind::Notarize,
                    &self.key,
                    &self.gh,
                    self.me,
                    v.view,
                    Hash(*blake3::hash(&v.signature.0).as_bytes()),
                    v.reading,
                );
                self.send(self.victim(v.view), &Message::Notarize(forged));
                self.count("notarize_equivocation");
            }
            Message::Finalize(v) if v.view.0.is_multiple_of(2) => {
                // A finalize vote whose signed reading is a clock a day ahead.
                let day = 86_400_000_000_000i64;
                let reading = ClockReading {
                    earliest: UtcNanos(v.reading.earliest.0.saturating_add(day)),
                    latest: UtcNanos(v.reading.latest.0.saturating_add(day)),
                };
                let forged = TickVote::sign(
                    VoteKind::Finalize,
                    &self.key,
                    &self.gh,
                    self.me,
                    v.view,
                    v.tick_hash,
                    reading,
                );
                self.broadcast(&Message::Finalize(forged));
                self.count("finalize_forged_reading");
            }
            _ => self.broadcast(&m),
        }
    }

    /// Attacks that need no protocol event, once a second.
    fn periodic(&mut self) {
        if !self.attack {
            return;
        }
        self.views += 1;
        // Replays of its own votes from long ago.
        if self.old.len() >= 32 {
            let stale = self.old[0].clone();
            self.broadcast(&stale);
            self.count("replayed_vote");
        }
        // A fetch of one hash 256 times.
        self.broadcast(&Message::Fetch(Fetch {
            views: Vec::new(),
            ticks: vec![self.known; 256],
        }));
        self.count("duplicate_fetch");
        // Junk frames.
        for j in self.others() {
            let junk: Vec<u8> = blake3::hash(&self.views.to_be_bytes()).as_bytes().repeat(4);
            self.transport.send(j, junk);
        }
        self.count("junk_frame");
        // A co-sign request over the whole height range.
        let request = AttestMessage::Request {
            domain: AnchorDomain {
                chain_id: 31_337,
                contract: EvmAddress([0xaa; 20]),
            },
            anchor: Anchor {
                from: Height(1),
                to: Height(u64::MAX),
                second: Second(1),
                root: Hash([1; 32]),
            },
        }
        .encode();
        for j in self.others() {
            self.transport.send(j, request.clone());
        }
        self.count("huge_cosign_range");
        // Co-signatures nobody asked for (under its own bound address), for made-up anchors:
        // enough of them emptied every node's gathered co-signatures before issue 13.
        if let Some(address) = self.attestation {
            for i in 0..8u64 {
                let reply = AttestMessage::Reply {
                    domain: AnchorDomain {
                        chain_id: 31_337,
                        contract: EvmAddress([0xaa; 20]),
                    },
                    anchor: Anchor {
                        from: Height(self.views * 8 + i),
                        to: Height(self.views * 8 + i + 10),
                        second: Second(1),
                        root: Hash([2; 32]),
                    },
                    address,
                    signature: EvmSignature([1; 65]),
                }
                .encode();
                for j in self.others() {
                    self.transport.send(j, reply.clone());
                }
            }
            self.count("unsolicited_cosign_reply");
        }
        // A time reply nobody asked for.
        let reply = TimeMessage::Reply {
            t1: 12_345,
            t2: i64::MAX / 2,
            t3: i64::MAX / 2,
            radius: 0,
            synchronized: true,
        }
        .encode();
        for j in self.others() {
            self.transport.send(j, reply.clone());
        }
        self.count("unsolicited_time_reply");
        // Every fifth second, a 1 MiB frame announced to each peer and left unfinished (in
        // tasks of their own: opening a stream waits while the peer's stream cap is reached).
        if self.views.is_multiple_of(5) {
            for j in self.others() {
                let sender = self.transport.sender();
                tokio::spawn(async move {
                    let opened =
                        tokio::time::timeout(Duration::from_secs(5), sender.open_raw_stream(j));
                    if let Ok(Some(mut s)) = opened.await {
                        let _ = s.write_all(&(1u32 << 20).to_be_bytes()).await;
                        let _ = s.write_all(&[0u8; 1000]).await;
                        tokio::time::sleep(Duration::from_secs(30)).await;
                        drop(s);
                    }
                });
            }
            self.count("stalled_stream");
        }
    }

    /// Answers an honest probe with a forged reading (a clock an hour ahead, claiming ±0).
    fn on_time(&mut self, from: NodeId, m: TimeMessage) {
        if let TimeMessage::Request { t1 } = m {
            let now = system_now().0;
            let skew = if self.attack { 3_600_000_000_000 } else { 0 };
            let reply = TimeMessage::Reply {
                t1,
                t2: now + skew,
                t3: now + skew,
                radius: if self.attack { 0 } else { 5_000_000 },
                synchronized: true,
            };
            self.transport.send(from, reply.encode());
            if self.attack {
                self.count("forged_time_reply");
            }
        }
    }

    fn execute(&mut self, actions: Vec<Action>, timers: &mut BTreeMap<Timer, UtcNanos>) {
        for action in actions {
            match action {
                Action::Broadcast(Message::Proposal(p)) => self.on_proposal(p),
                Action::Broadcast(
                    m @ (Message::Notarize(_) | Message::Finalize(_) | Message::Nullify(_)),
                ) => self.on_vote(m),
                Action::Broadcast(m) => self.broadcast(&m),
                Action::Send { to, message } => self.send(to, &message),
                Action::SetTimer { timer, at } => {
                    timers.insert(timer, at);
                }
                Action::Finalized { tick, .. } => self.known = tick.tick.hash(&self.gh),
                _ => {}
            }
        }
    }
}

async fn run(
    genesis: Genesis,
    me: NodeId,
    key: ed25519_dalek::SigningKey,
    attack: bool,
    stop: Arc<AtomicBool>,
) -> Report {
    let socket = std::net::UdpSocket::bind(&genesis.nodes[me.index()].address).unwrap();
    let (transport, mut inbound) = Transport::start(
        me,
        &key,
        genesis.clone(),
        socket,
        TransportConfig::default(),
    )
    .unwrap();
    let ctx = Context::new(
        me,
        key.clone(),
        Verifier::new(genesis.clone()),
        Config::default(),
    );
    let mut core = Core::new(ctx, &Persisted::default());
    let mut a = Attacker {
        me,
        n: genesis.n() as u16,
        key,
        gh: genesis.hash,
        attack,
        transport,
        report: Report::default(),
        old: VecDeque::new(),
        known: genesis.hash,
        attestation: genesis.nodes[me.index()]
            .attestation
            .as_ref()
            .map(|a| a.address),
        views: 0,
    };
    let mut timers: BTreeMap<Timer, UtcNanos> = BTreeMap::new();
    let actions = core.handle(&clock(), Input::Start);
    a.execute(actions, &mut timers);
    let mut every_second = tokio::time::interval(Duration::from_secs(1));
    let mut last_view = core.view();
    while !stop.load(Ordering::Relaxed) {
        if core.view() != last_view {
            last_view = core.view();
            if core.leader(last_view) == me {
                a.report.leader_turns += 1;
            }
        }
        let now = clock();
        let next = timers.values().min().copied();
        let sleep_for = next
            .map(|at| Duration::from_nanos(at.0.saturating_sub(now.mid().0).max(0) as u64))
            .unwrap_or(Duration::from_millis(100))
            .min(Duration::from_millis(100));
        tokio::select! {
            msg = inbound.recv() => {
                let Some(msg) = msg else { break };
                match PeerMessage::decode(&msg.payload) {
                    Ok(PeerMessage::Consensus(message)) => {
                        let actions = core.handle(&clock(), Input::Message { from: msg.from, message });
                        a.execute(actions, &mut timers);
                    }
                    Ok(PeerMessage::Time(m)) => a.on_time(msg.from, m),
                    _ => {}
                }
            }
            _ = every_second.tick() => a.periodic(),
            _ = tokio::time::sleep(sleep_for) => {
                let now = clock();
                let due: Vec<Timer> = timers
                    .iter()
                    .filter(|(_, at)| **at <= now.mid())
                    .map(|(t, _)| *t)
                    .collect();
                for t in due {
                    timers.remove(&t);
                    let actions = core.handle(&now, Input::Timer(t));
                    a.execute(actions, &mut timers);
                }
            }
        }
    }
    let report = a.report.clone();
    a.transport.shutdown().await;
    report
}
