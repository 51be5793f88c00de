//! The Roughtime server a node can run (draft-ietf-ntp-roughtime-19 and RFC 10049, UDP and TCP):
//! the node's measured time, signed, for stock Roughtime clients, each answer naming the latest
//! final tick (`specs/facades.md` § Roughtime).
//!
//! Owns: the UDP socket and its thread, the optional TCP listener and its bounded connection
//! threads (draft-19's TCP framing), batching concurrent requests under one signature
//! (a Merkle tree of up to `batch-size` requests per version), the online key the node's
//! long-term key (its genesis identity key) delegates to for at most 24 hours, and MIDP and
//! RADI from the node's interval. Never: answers while the node is unsynchronised, sends an
//! error reply, replies with more bytes than the request, answers a request naming another
//! key (`SRV`), or lets one client take more than its rate (then it gets silence).

use crate::facade_stats::FacadeCounters;
use crate::node::clock::{NodeClock, ServedTime};
use crate::ntp::Cached;
use crate::ntp::rate::{RateLimits, Verdict};
use ed25519_dalek::{Signer, SigningKey};
use serde::Deserialize;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tickchain_api::TickSummary;
use tickchain_sdk::roughtime::merkle::{MAX_DEPTH, MAX_LEAVES, Tree};
use tickchain_sdk::roughtime::request::{self, MAX_REQUEST};
use tickchain_sdk::roughtime::response::{self, TickRef};
use tickchain_sdk::roughtime::{VERSIONS, contexts, wire};
use tokio::sync::broadcast;
use tracing::{debug, info, warn};

/// How long an online key is delegated for: the draft's 24-hour bound.
const DELEGATION_SECS: u64 = 86_400;
/// A new online key is made this long before the old one's delegation ends.
const ROTATE_BEFORE_SECS: u64 = 3_600;

/// `[roughtime]`: the Roughtime server (off unless `listen` is set).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RoughtimeSection {
    /// UDP address to serve on (e.g. `127.0.0.1:2002`); unset: no Roughtime server.
    #[serde(default)]
    pub listen: Option<SocketAddr>,
    /// Most requests answered under one signature (1 to 64). Default 64.
    #[serde(default = "default_batch")]
    pub batch_size: usize,
    /// Each client address may send one request per this many milliseconds on average (0: no
    /// limit). Default 1000.
    #[serde(default = "default_interval_ms")]
    pub min_interval_ms: u64,
    /// Requests a client may send at once before the average applies. Default 16.
    #[serde(default = "default_burst")]
    pub burst: u32,
    /// Client addresses remembered for rate limits (a new one evicts the oldest). Default
    /// 65,536.
    #[serde(default = "default_max_clients")]
    pub max_clients: usize,
    /// Responses per second in all, whatever the addresses. Default 100,000.
    #[serde(default = "default_max_replies")]
    pub max_replies_per_second: u32,
    /// TCP address to serve on as well (draft-19's TCP framing: whole packets, pipelined,
    /// answered in order); unset: UDP only.
    #[serde(default)]
    pub tcp_listen: Option<SocketAddr>,
    /// TCP connections served at once; more are closed on accept. Default 64.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// A TCP connection silent this long (milliseconds) is closed. Default 10,000.
    #[serde(default = "default_idle_ms")]
    pub tcp_idle_ms: u64,
}

fn default_max_connections() -> usize {
    64
}
fn default_idle_ms() -> u64 {
    10_000
}

fn default_batch() -> usize {
    MAX_LEAVES
}
fn default_interval_ms() -> u64 {
    1000
}
fn default_burst() -> u32 {
    16
}
fn default_max_clients() -> usize {
    65_536
}
fn default_max_replies() -> u32 {
    100_000
}

impl Default for RoughtimeSection {
    fn default() -> Self {
        RoughtimeSection {
            listen: None,
            batch_size: default_batch(),
            min_interval_ms: default_interval_ms(),
            burst: default_burst(),
            max_clients: default_max_clients(),
            max_replies_per_second: default_max_replies(),
            tcp_listen: None,
            max_connections: default_max_connections(),
            tcp_idle_ms: default_idle_ms(),
        }
    }
}

/// A running Roughtime server; stopped (and its threads joined) on drop. TCP connections
/// already open end at their idle timeout.
pub struct RoughtimeServer {
    /// The address it serves on.
    pub local_addr: SocketAddr,
    /// The TCP address it serves on, if any.
    pub tcp_addr: Option<SocketAddr>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    tcp_thread: Option<JoinHandle<()>>,
}

impl RoughtimeServer {
    /// Binds `section.listen` and serves `clock` on a thread of its own, signing with
    /// delegations from `longterm` and naming the latest tick of `ticks`; `None` when no address
    /// is configured.
    pub fn start(
        section: &RoughtimeSection,
        clock: NodeClock,
        longterm: SigningKey,
        ticks: broadcast::Receiver<TickSummary>,
        stats: Arc<FacadeCounters>,
    ) -> std::io::Result<Option<RoughtimeServer>> {
        let Some(listen) = section.listen else {
            return Ok(None);
        };
        if !(1..=MAX_LEAVES).contains(&section.batch_size) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "[roughtime] batch-size: expected 1 to 64, got {}",
                    section.batch_size
                ),
            ));
        }
        let socket = UdpSocket::bind(listen)?;
        let local_addr = socket.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let shared = Shared::new(RateLimits::new(
            Duration::from_millis(section.min_interval_ms),
            section.burst,
            section.max_clients,
            section.max_replies_per_second,
        ));
        let (tcp_addr, tcp_thread) = match section.tcp_listen {
            None => (None, None),
            Some(addr) => {
                let listener = std::net::TcpListener::bind(addr)?;
                listener.set_nonblocking(true)?;
                let tcp_addr = listener.local_addr()?;
                let (flag, section) = (stop.clone(), section.clone());
                let (clock, longterm, ticks, stats, shared) = (
                    clock.clone(),
                    longterm.clone(),
                    ticks.resubscribe(),
                    stats.clone(),
                    shared.clone(),
                );
                let t = std::thread::Builder::new()
                    .name("roughtime-tcp".into())
                    .spawn(move || {
                        let parts = (&clock, &longterm, &ticks, &stats, &shared);
                        accept(&listener, &section, parts, &flag)
                    })?;
                info!(roughtime_tcp = %tcp_addr, "Roughtime server listening on TCP");
                (Some(tcp_addr), Some(t))
            }
        };
        let flag = stop.clone();
        let batch = section.batch_size;
        let thread = std::thread::Builder::new()
            .name("roughtime".into())
            .spawn(move || {
                crate::priority::lower_this_thread(crate::priority::INTAKE_NICE);
                let mut server = Server::new(longterm, batch, shared, ticks, stats);
                server.serve(&socket, &clock, &flag);
            })?;
        info!(roughtime = %local_addr, "Roughtime server listening");
        Ok(Some(RoughtimeServer {
            local_addr,
            tcp_addr,
            stop,
            thread: Some(thread),
            tcp_thread,
        }))
    }
}

/// Accepts TCP connections until `stop`, each served on a thread of its own (at most
/// `max-connections` at once; more are closed at once), with its own online key and rate limit.
fn accept(
    listener: &std::net::TcpListener,
    section: &RoughtimeSection,
    (clock, longterm, ticks, stats, shared): (
        &NodeClock,
        &SigningKey,
        &broadcast::Receiver<TickSummary>,
        &Arc<FacadeCounters>,
        &Arc<Shared>,
    ),
    stop: &AtomicBool,
) {
    crate::priority::lower_this_thread(crate::priority::INTAKE_NICE);
    let open = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    // Connections per client address: one address cannot hold every slot.
    let per_ip: Arc<std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>> =
        Arc::default();
    while !stop.load(Ordering::Relaxed) {
        let (mut stream, peer) = match listener.accept() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
            Err(e) => {
                debug!(error = %e, "Roughtime TCP accept failed");
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        let guard = ConnectionSlot::take(&open, &per_ip, peer.ip(), section.max_connections);
        let Some(guard) = guard else {
            debug!(client = %peer, "Roughtime TCP connection refused: too many open");
            continue; // dropped: closed
        };
        let idle = Duration::from_millis(section.tcp_idle_ms.max(1));
        let ready = stream.set_nonblocking(false).is_ok()
            && stream.set_read_timeout(Some(idle)).is_ok()
            && stream.set_write_timeout(Some(idle)).is_ok();
        if !ready {
            continue;
        }
        let mut server = Server::new(
            longterm.clone(),
            1,
            shared.clone(),
            ticks.resubscribe(),
            stats.clone(),
        );
        let clock = clock.clone();
        // The slot is given back when the thread ends, however it ends (or if it never starts).
        let _ = std::thread::Builder::new()
            .name("roughtime-conn".into())
            .spawn(move || {
                let _slot = guard;
                crate::priority::lower_this_thread(crate::priority::INTAKE_NICE);
                server.serve_stream(&mut stream, &clock, idle);
            });
    }
}

/// Most TCP connections one client address may hold at once.
const CONNECTIONS_PER_ADDRESS: usize = 4;

/// One open TCP connection's place in the counts; released on drop.
struct ConnectionSlot {
    open: Arc<std::sync::atomic::AtomicUsize>,
    per_ip: Arc<std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>>,
    ip: std::net::IpAddr,
}

impl ConnectionSlot {
    /// A slot for a connection from `ip`, if fewer than `max` are open and fewer than
    /// [`CONNECTIONS_PER_ADDRESS`] from that address.
    fn take(
        open: &Arc<std::sync::atomic::AtomicUsize>,
        per_ip: &Arc<std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>>,
        ip: std::net::IpAddr,
        max: usize,
    ) -> Option<ConnectionSlot> {
        let mut counts = per_ip.lock().unwrap_or_else(|p| p.into_inner());
        let mine = counts.get(&ip).copied().unwrap_or(0);
        if open.load(Ordering::Acquire) >= max || mine >= CONNECTIONS_PER_ADDRESS {
            return None;
        }
        open.fetch_add(1, Ordering::AcqRel);
        counts.insert(ip, mine + 1);
        Some(ConnectionSlot {
            open: open.clone(),
            per_ip: per_ip.clone(),
            ip,
        })
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::AcqRel);
        let mut counts = self.per_ip.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = counts.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&self.ip);
            }
        }
    }
}

/// Fills `buf` from `stream` by `deadline`; false on EOF, an error, or the deadline passing
/// (so a client trickling bytes cannot hold a connection past it).
fn read_by(stream: &mut std::net::TcpStream, buf: &mut [u8], deadline: Instant) -> bool {
    use std::io::Read;
    let mut filled = 0;
    while filled < buf.len() {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            return false;
        };
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return false;
        }
        match stream.read(&mut buf[filled..]) {
            Ok(0) | Err(_) => return false,
            Ok(n) => filled += n,
        }
    }
    true
}

impl Drop for RoughtimeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in [self.thread.take(), self.tcp_thread.take()]
            .into_iter()
            .flatten()
        {
            if t.join().is_err() {
                warn!(roughtime = %self.local_addr, "a Roughtime server thread had panicked");
            }
        }
    }
}

/// MIDP and RADI for `time` (draft-19 §5.2.5): MIDP the interval's midpoint in whole seconds,
/// RADI = max(1, ceil(half-width + |MIDP - midpoint|)) seconds, so `MIDP ± RADI` covers the
/// node's whole interval.
pub fn midp_radi(time: &ServedTime) -> Option<(u64, u32)> {
    let (e, l) = (i128::from(time.earliest.0), i128::from(time.latest.0));
    let mid = (e + l) / 2;
    let midp = (mid + 500_000_000).div_euclid(1_000_000_000);
    let half = (l - e + 1) / 2;
    let off = (midp * 1_000_000_000 - mid).abs();
    let radi = (half + off + 999_999_999) / 1_000_000_000;
    // Before 1970 MIDP cannot be stated (it is unsigned): no answer rather than a wrong one.
    (midp >= 0).then(|| (midp as u64, radi.clamp(1, i128::from(u32::MAX)) as u32))
}

/// What every serving thread (UDP and each TCP connection) shares: one rate limit for all
/// clients, whichever transport they use, and the newest final tick seen.
pub struct Shared {
    limits: std::sync::Mutex<RateLimits>,
    latest: std::sync::Mutex<Option<TickRef>>,
}

impl Shared {
    /// State shared under `limits`.
    pub fn new(limits: RateLimits) -> Arc<Shared> {
        Arc::new(Shared {
            limits: std::sync::Mutex::new(limits),
            latest: std::sync::Mutex::new(None),
        })
    }
}

/// The online key and its certificate per version.
struct Delegation {
    key: SigningKey,
    mint: u64,
    maxt: u64,
    /// `CERT` for each of [`VERSIONS`] (their delegation contexts differ).
    certs: [Vec<u8>; 2],
}

impl Delegation {
    /// A fresh online key valid from `midp - 1` for [`DELEGATION_SECS`], signed by `longterm`.
    fn new(longterm: &SigningKey, midp: u64) -> Delegation {
        let key = tickchain_sdk::keys::generate().expect("OS randomness for an online key");
        let mint = midp.saturating_sub(1);
        let maxt = mint + DELEGATION_SECS - 1;
        let mut dele = Vec::new();
        response::dele(&mut dele, &key.verifying_key().to_bytes(), mint, maxt);
        let certs = VERSIONS.map(|v| {
            let (_, context) = contexts(v);
            let mut signed = context.to_vec();
            signed.extend_from_slice(&dele);
            let sig = longterm.sign(&signed).to_bytes();
            let mut cert = Vec::new();
            response::cert(&mut cert, &sig, &dele);
            cert
        });
        Delegation {
            key,
            mint,
            maxt,
            certs,
        }
    }
}

/// The serving loop's state: what [`RoughtimeServer`] runs on its thread, public so that a
/// test can run it on a thread of its own (to count that thread's allocations).
pub struct Server {
    longterm: SigningKey,
    srv: [u8; 32],
    shared: Arc<Shared>,
    ticks: broadcast::Receiver<TickSummary>,
    latest: Option<TickRef>,
    delegation: Option<Delegation>,
    slots: Vec<Slot>,
    stats: Arc<FacadeCounters>,
    /// Scratch, reused for every batch so the steady state allocates nothing.
    srep: Vec<u8>,
    signed: Vec<u8>,
    /// Each slot's request, parsed once per batch.
    parsed: Vec<Parsed>,
    /// The batch's responses (at most one per slot), sent together.
    replies: Vec<Reply>,
    /// How many of `replies` the current batch filled.
    filled: usize,
}

/// What a received request asks, once parsed: its version and nonce and its Merkle leaf, or
/// nothing when it is not to be answered.
#[derive(Clone, Copy)]
struct Parsed {
    version: u32,
    nonce: [u8; 32],
    leaf: [u8; 32],
}

/// One response and its client.
struct Reply {
    buf: Vec<u8>,
    to: SocketAddr,
}

/// One received datagram.
struct Slot {
    /// One byte more than the largest request, so a longer datagram shows as too long
    /// (truncated to this size) and is refused.
    buf: [u8; MAX_REQUEST + 1],
    len: usize,
    from: SocketAddr,
}

impl Server {
    /// A server signing with delegations from `longterm`, answering up to `batch` (1 to 64)
    /// requests per signature, within the `shared` rate limits, naming the newest tick `ticks`
    /// publishes, counting into `stats`.
    pub fn new(
        longterm: SigningKey,
        batch: usize,
        shared: Arc<Shared>,
        ticks: broadcast::Receiver<TickSummary>,
        stats: Arc<FacadeCounters>,
    ) -> Server {
        let srv = request::srv_of(&longterm.verifying_key().to_bytes());
        let batch = batch.clamp(1, MAX_LEAVES);
        Server {
            longterm,
            srv,
            shared,
            ticks,
            latest: None,
            delegation: None,
            slots: (0..batch)
                .map(|_| Slot {
                    buf: [0; MAX_REQUEST + 1],
                    len: 0,
                    from: SocketAddr::from(([0, 0, 0, 0], 0)),
                })
                .collect(),
            stats,
            srep: Vec::with_capacity(256),
            signed: Vec::with_capacity(512),
            parsed: Vec::with_capacity(batch),
            replies: (0..batch)
                .map(|_| Reply {
                    buf: Vec::with_capacity(MAX_REQUEST),
                    to: SocketAddr::from(([0, 0, 0, 0], 0)),
                })
                .collect(),
            filled: 0,
        }
    }

    /// Answers requests on `socket` with `clock`'s time until `stop` is set (checked at least
    /// every read timeout of the socket).
    pub fn serve(&mut self, socket: &UdpSocket, clock: &NodeClock, stop: &AtomicBool) {
        let mut slots = std::mem::take(&mut self.slots);
        let mut cache = Cached::new(clock);
        // Non-blocking from here on: `receive_batch` waits with poll, then drains the queue.
        if let Err(e) = socket.set_nonblocking(true) {
            warn!(error = %e, "Roughtime socket cannot be made non-blocking; not serving");
            return;
        }
        while !stop.load(Ordering::Relaxed) {
            let n = receive_batch(socket, &mut slots);
            if n == 0 {
                continue;
            }
            self.answer_all(&slots[..n], &mut cache);
            send_all(socket, &self.replies[..self.filled]);
        }
        self.slots = slots;
    }

    /// Answers every request in `slots` at the time `cache` gives now, one signature per
    /// version, into `replies[..filled]`. Nothing while unsynchronised.
    fn answer_all(&mut self, slots: &[Slot], cache: &mut Cached<'_>) {
        let received = Instant::now();
        self.filled = 0;
        FacadeCounters::add(&self.stats.requests, slots.len() as u64);
        let before = self
            .stats
            .responses
            .load(std::sync::atomic::Ordering::Relaxed);
        self.refresh_tick();
        let Some(time) = cache.at(received) else {
            FacadeCounters::add(&self.stats.dropped, slots.len() as u64);
            return; // unsynchronised: nobody gets this time
        };
        let Some((midp, radi)) = midp_radi(&time) else {
            FacadeCounters::add(&self.stats.dropped, slots.len() as u64);
            return;
        };
        if self
            .delegation
            .as_ref()
            .is_none_or(|d| midp < d.mint || midp + ROTATE_BEFORE_SECS > d.maxt)
        {
            self.delegation = Some(Delegation::new(&self.longterm, midp));
        }
        // Each request is parsed, checked against its client's rate and hashed once.
        self.parsed.clear();
        for s in slots {
            self.parsed.push(self.admit(s, received).unwrap_or(Parsed {
                version: 0,
                nonce: [0; 32],
                leaf: [0; 32],
            }));
        }
        for version in VERSIONS {
            self.answer(slots, version, midp, radi);
        }
        let answered = self
            .stats
            .responses
            .load(std::sync::atomic::Ordering::Relaxed)
            - before;
        FacadeCounters::add(
            &self.stats.dropped,
            (slots.len() as u64).saturating_sub(answered),
        );
    }

    /// Answers requests arriving on `stream` (TCP framing: each request a whole packet,
    /// pipelined, answered in order) until the client closes it, sends something that is not
    /// a request packet, or does not deliver a whole packet within `idle`.
    pub fn serve_stream(
        &mut self,
        stream: &mut std::net::TcpStream,
        clock: &NodeClock,
        idle: Duration,
    ) {
        use std::io::Write;
        let Ok(peer) = stream.peer_addr() else {
            return;
        };
        let mut slots = std::mem::take(&mut self.slots);
        let mut cache = Cached::new(clock);
        let mut reply = Vec::with_capacity(MAX_REQUEST);
        loop {
            let slot = &mut slots[0];
            // Each whole packet must arrive within `idle` of when the wait for it began.
            let deadline = Instant::now() + idle;
            if !read_by(stream, &mut slot.buf[..12], deadline) {
                break;
            }
            let len = u32::from_le_bytes(slot.buf[8..12].try_into().expect("4 bytes")) as usize;
            // The same sizes as over UDP: a framed request of 1024 to 1472 bytes.
            if slot.buf[..8] != wire::MAGIC
                || !(request::MIN_REQUEST..=MAX_REQUEST).contains(&(len + 12))
                || !read_by(stream, &mut slot.buf[12..12 + len], deadline)
            {
                break;
            }
            slot.len = 12 + len;
            slot.from = peer;
            reply.clear();
            self.answer_all(&slots[..1], &mut cache);
            for r in &self.replies[..self.filled] {
                reply.extend_from_slice(&r.buf);
            }
            if !reply.is_empty() && stream.write_all(&reply).is_err() {
                break;
            }
        }
        self.slots = slots;
    }

    /// The newest final tick published since the last batch.
    fn refresh_tick(&mut self) {
        let mut fresh = None;
        loop {
            match self.ticks.try_recv() {
                Ok(t) => {
                    fresh = Some(TickRef {
                        height: t.height.0,
                        second: t.second.0,
                        hash: t.hash.0,
                    });
                }
                Err(broadcast::error::TryRecvError::Lagged(_)) => continue,
                Err(_) => break,
            }
        }
        let mut shared = self.shared.latest.lock().unwrap_or_else(|p| p.into_inner());
        match fresh {
            // Newer than what another thread saw (heights only grow).
            Some(t) if shared.is_none_or(|s| s.height < t.height) => *shared = Some(t),
            _ => {}
        }
        self.latest = *shared;
    }

    /// The request in `s` if it is to be answered: it parses, names no other key, and its
    /// client is within its rate (over it, silence: Roughtime has no kiss-o'-death).
    fn admit(&self, s: &Slot, received: Instant) -> Option<Parsed> {
        let r = request::parse(&s.buf[..s.len]).ok()?;
        if r.srv.is_some_and(|k| k != self.srv) {
            return None;
        }
        let verdict = self
            .shared
            .limits
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .check(s.from.ip(), received);
        (verdict == Verdict::Answer).then(|| Parsed {
            version: r.version,
            nonce: r.nonce,
            leaf: leaf(r.packet),
        })
    }

    /// Answers the admitted requests in `slots` that chose `version`, under one signature,
    /// appending to `replies`.
    fn answer(&mut self, slots: &[Slot], version: u32, midp: u64, radi: u32) {
        // (slot, nonce) of each request answered under this version, and its leaf.
        let mut chosen = [(0usize, [0u8; 32]); MAX_LEAVES];
        let mut leaves = [[0u8; 32]; MAX_LEAVES];
        let mut count = 0;
        for (i, p) in self.parsed.iter().enumerate() {
            if p.version != version {
                continue; // another version's, or not admitted (version 0)
            }
            chosen[count] = (i, p.nonce);
            leaves[count] = p.leaf;
            count += 1;
        }
        if count == 0 {
            return;
        }
        let tree = Tree::new(&leaves[..count]);
        FacadeCounters::add(&self.stats.batches, 1);
        FacadeCounters::add(&self.stats.batched_requests, count as u64);
        let delegation = self.delegation.as_ref().expect("made before answering");
        response::srep(
            &mut self.srep,
            version,
            radi,
            midp,
            &tree.root(),
            self.latest.as_ref(),
        );
        let (context, _) = contexts(version);
        self.signed.clear();
        self.signed.extend_from_slice(context);
        self.signed.extend_from_slice(&self.srep);
        let signature = delegation.key.sign(&self.signed).to_bytes();
        let cert = &delegation.certs[usize::from(version != VERSIONS[0])];
        let mut path = [0u8; 32 * MAX_DEPTH];
        for (leaf, (i, nonce)) in chosen[..count].iter().enumerate() {
            let s = &slots[*i];
            let path_len = tree.path_into(leaf, &mut path);
            let reply = &mut self.replies[self.filled];
            response::write(
                &mut reply.buf,
                &signature,
                nonce,
                &path[..path_len],
                &self.srep,
                cert,
                leaf as u32,
            );
            // Never more bytes than the request (amplification); cannot happen at 64 leaves.
            if reply.buf.len() <= s.len {
                reply.to = s.from;
                self.filled += 1;
                FacadeCounters::add(&self.stats.responses, 1);
            } else {
                debug!(client = %s.from, "response larger than its request: not sent");
            }
        }
    }
}

/// [`merkle::leaf`] of a request, with ring's SHA-512 (BoringSSL's assembly): hashing each
/// whole request is the server's largest cost per answer, and ring's is about twice as fast
/// as the portable one the sdk's verifier uses (a test checks both agree).
fn leaf(request_packet: &[u8]) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA512);
    ctx.update(&[0x00]);
    ctx.update(request_packet);
    let digest = ctx.finish();
    digest.as_ref()[..32]
        .try_into()
        .expect("SHA-512 is 64 bytes")
}

/// How long one wait for a datagram lasts before `serve` checks its stop flag again.
const WAIT_MS: i32 = 200;

/// Fills up to `slots.len()` slots with datagrams: what is queued now, or else the first to
/// arrive within [`WAIT_MS`] and what is queued with it; returns how many were filled.
fn receive_batch(socket: &UdpSocket, slots: &mut [Slot]) -> usize {
    let n = drain(socket, slots);
    if n > 0 {
        return n;
    }
    let mut fds = [rustix::event::PollFd::new(
        socket,
        rustix::event::PollFlags::IN,
    )];
    let timeout = rustix::event::Timespec {
        tv_sec: 0,
        tv_nsec: i64::from(WAIT_MS) * 1_000_000,
    };
    match rustix::event::poll(&mut fds, Some(&timeout)) {
        Ok(0) => 0,
        Ok(_) => drain(socket, slots),
        Err(e) => {
            if e != rustix::io::Errno::INTR {
                warn!(error = %e, "Roughtime socket error");
                std::thread::sleep(Duration::from_millis(50));
            }
            0
        }
    }
}

/// Takes what is queued on the non-blocking `socket` now, up to `slots.len()`.
///
/// One `recvfrom` per datagram: `recvmmsg` (tried through quinn-udp) measured within noise
/// of this (`roughtimeload`, 2026-12-06): the kernel's per-datagram work, not the system call,
/// is the cost.
fn drain(socket: &UdpSocket, slots: &mut [Slot]) -> usize {
    let mut n = 0;
    while n < slots.len() {
        let Ok((len, from)) = socket.recv_from(&mut slots[n].buf) else {
            break;
        };
        slots[n].len = len;
        slots[n].from = from;
        n += 1;
    }
    n
}

/// Sends every reply with as few `sendmmsg` calls as the kernel allows (one per batch,
/// normally). A send error drops that reply and goes on with the next: UDP promises nothing,
/// and a client that does not get its answer asks again.
fn send_all(socket: &UdpSocket, replies: &[Reply]) {
    use rustix::net::{MMsgHdr, SendAncillaryBuffer, SendFlags, SocketAddrAny, sendmmsg};
    use std::io::IoSlice;
    let mut sent = 0;
    while sent < replies.len() {
        let rest = &replies[sent..];
        let addrs: [SocketAddrAny; MAX_LEAVES] =
            std::array::from_fn(|i| SocketAddrAny::from(rest.get(i).map_or(rest[0].to, |r| r.to)));
        let iovs: [[IoSlice<'_>; 1]; MAX_LEAVES] =
            std::array::from_fn(|i| [IoSlice::new(rest.get(i).map_or(&[][..], |r| &r.buf))]);
        let mut controls: [SendAncillaryBuffer<'_, '_, '_>; MAX_LEAVES] =
            std::array::from_fn(|_| SendAncillaryBuffer::default());
        let count = rest.len().min(MAX_LEAVES);
        let mut control = controls.iter_mut();
        let mut headers: [MMsgHdr<'_>; MAX_LEAVES] = std::array::from_fn(|i| {
            MMsgHdr::new_with_addr(
                &addrs[i],
                &iovs[i],
                control.next().expect("one per message"),
            )
        });
        match sendmmsg(socket, &mut headers[..count], SendFlags::empty()) {
            Ok(0) | Err(_) => sent += 1, // skip the reply the kernel refused
            Ok(k) => sent += k,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickchain_sdk::UtcNanos;

    fn served(earliest: i64, latest: i64) -> ServedTime {
        ServedTime {
            now: UtcNanos((earliest + latest) / 2),
            earliest: UtcNanos(earliest),
            latest: UtcNanos(latest),
            leap: 0,
            stratum: 2,
        }
    }

    #[test]
    fn the_fast_leaf_is_the_codecs_leaf() {
        for len in [0usize, 1, 127, 128, 1023, 1024, 1472] {
            let packet: Vec<u8> = (0..len).map(|i| (i * 7 + len) as u8).collect();
            assert_eq!(
                leaf(&packet),
                tickchain_sdk::roughtime::merkle::leaf(&packet),
                "{len} bytes"
            );
        }
    }

    #[test]
    fn midp_plus_minus_radi_covers_the_whole_interval_and_radi_is_never_zero() {
        let s = 1_800_000_000_000_000_000i64;
        for (e, l) in [
            (s, s + 40_000_000),
            (s + 400_000_000, s + 700_000_000),
            (s - 3_000_000_000, s + 1_000_000_000),
            (s + 999_999_999, s + 999_999_999),
        ] {
            let (midp, radi) = midp_radi(&served(e, l)).unwrap();
            assert!(radi >= 1);
            let lo = (midp as i128 - i128::from(radi)) * 1_000_000_000;
            let hi = (midp as i128 + i128::from(radi)) * 1_000_000_000;
            assert!(
                lo <= i128::from(e) && i128::from(l) <= hi,
                "[{e}, {l}] not within {midp} ± {radi}"
            );
        }
        // A 40 ms interval around a second's start: RADI 1, not a constant 5.
        assert_eq!(
            midp_radi(&served(s - 20_000_000, s + 20_000_000)),
            Some((1_800_000_000, 1))
        );
        // A 3.5 s wide interval needs RADI 2.
        assert_eq!(midp_radi(&served(s, s + 3_500_000_000)).unwrap().1, 2);
        assert_eq!(
            midp_radi(&served(-5_000_000_000, -3_000_000_000)),
            None,
            "before 1970"
        );
    }
}
