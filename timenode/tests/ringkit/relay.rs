//! A userspace UDP relay between test endpoints that can delay, jitter, drop or cut each
//! direction of each pair, changed at runtime (this kernel has no `tc netem`).
//!
//! # Wiring
//!
//! The relay knows `n` endpoints by their real UDP addresses `A_i` (for the ring: the address
//! node `i` binds with `[node] listen`). For each endpoint it opens a **front** socket `L_i`:
//! that is the address the others use for `i` (the genesis address of node `i`). For each
//! ordered pair `x ≠ k` it opens a **pair** socket `S(x,k)`: endpoint `x` as `k` sees it.
//!
//! ```text
//!   x sends to L_k        relay: x → k, out of S(x,k)        k receives from S(x,k)
//!   A_x ──────────────▶ [L_k] ───────────────────── [S(x,k)] ──────────────▶ A_k
//!   A_x ◀────────────── [L_k] ───────────────────── [S(x,k)] ◀────────────── A_k
//!   x receives from L_k   relay: k → x, out of L_k        k replies to S(x,k)
//! ```
//!
//! So every reply comes back from exactly the address its sender targeted (QUIC clients drop
//! packets from any other address), and every packet is attributed to one direction `from → to`
//! by the socket it arrived on and its source address; packets from unknown sources are
//! dropped and counted. Whatever the relay forwards is opaque: QUIC's TLS, with the Ed25519
//! keys the genesis pins, runs end to end through it.
//!
//! # Where it runs
//!
//! The relay is threads in the test process. In the partition test the nodes live in their own
//! network namespaces (`ringkit::netns`), each joined by a veth pair to a **hub** namespace
//! where every relay socket is bound on one address (`192.0.2.1`); the hub does not forward IP
//! (`ip_forward` is 0 in a new namespace) and each node namespace has a single /32 route, to
//! the hub, so the relay is the only path between nodes. The sockets are opened by a thread
//! that entered the hub with `setns` ([`super::netns::Netns::run`]), so the test process itself
//! stays in the root namespace. Putting the relay in the root namespace instead would mean
//! giving the root namespace 192.0.2.x addresses and routes: visible to the whole host, shared
//! by parallel runs, and against the fixture rule of using that range only inside namespaces
//! the test created. On loopback (the relay's own tests) the same code binds 127.0.0.1.
//!
//! # Conditions and bounds
//!
//! Each direction has a [`Link`]: a fixed delay, a uniform jitter on top (packets may be
//! reordered, as with netem), a loss fraction, and a `cut` switch that drops everything,
//! including packets already waiting in the delay queue. Changes apply to the next packet.
//! Delayed packets wait in one queue bounded to 16 MiB (beyond it they are dropped and counted
//! as `overflow`). One thread per socket receives with a 20 ms timeout and one thread sends
//! delayed packets; dropping the [`Relay`] stops and joins them all (within about 20 ms).

use std::cmp::Ordering as CmpOrdering;
use std::collections::{BinaryHeap, HashMap};
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Most bytes of delayed packets held at once; more are dropped (`overflow`).
pub const MAX_QUEUED_BYTES: usize = 16 << 20;

/// How often idle threads check whether the relay was dropped.
const POLL: Duration = Duration::from_millis(20);

/// The conditions of one direction (`from → to`); the default forwards everything at once.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Link {
    /// Fixed one-way delay added to every packet.
    pub delay: Duration,
    /// Extra delay drawn uniformly from `[0, jitter)` for each packet, on top of `delay`.
    pub jitter: Duration,
    /// Fraction of packets dropped at random (0.0 keeps all, 1.0 drops all).
    pub loss: f64,
    /// Drop every packet, including those already waiting in the delay queue (a partition).
    pub cut: bool,
}

/// What happened to the packets of one direction so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DirectionStats {
    /// Packets sent on to their destination.
    pub forwarded: u64,
    /// Packets dropped by the loss fraction.
    pub lost: u64,
    /// Packets dropped because the direction was cut.
    pub cut: u64,
    /// Packets dropped because the delay queue was full.
    pub overflow: u64,
}

#[derive(Default)]
struct Counters {
    forwarded: AtomicU64,
    lost: AtomicU64,
    cut: AtomicU64,
    overflow: AtomicU64,
}

/// A packet waiting for its delay to pass.
struct Pending {
    due: Instant,
    seq: u64,
    dir: usize,
    out: Arc<UdpSocket>,
    to: SocketAddr,
    bytes: Vec<u8>,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.seq) == (other.due, other.seq)
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    /// Reversed, so the max-heap pops the earliest due packet first.
    fn cmp(&self, other: &Self) -> CmpOrdering {
        (other.due, other.seq).cmp(&(self.due, self.seq))
    }
}

#[derive(Default)]
struct Queue {
    heap: BinaryHeap<Pending>,
    bytes: usize,
    seq: u64,
}

struct Shared {
    n: usize,
    stop: AtomicBool,
    /// `links[from * n + to]`.
    links: Mutex<Vec<Link>>,
    counters: Vec<Counters>,
    unknown: AtomicU64,
    queue: Mutex<Queue>,
    wake: Condvar,
}

impl Shared {
    fn link(&self, dir: usize) -> Link {
        self.links.lock().unwrap()[dir]
    }

    /// Applies direction `from → to`'s conditions to one packet.
    fn forward(
        &self,
        (from, to): (usize, usize),
        out: &Arc<UdpSocket>,
        dest: SocketAddr,
        bytes: &[u8],
        rng: &mut u64,
    ) {
        let dir = from * self.n + to;
        let link = self.link(dir);
        let c = &self.counters[dir];
        if link.cut {
            c.cut.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if link.loss > 0.0 && unit(rng) < link.loss {
            c.lost.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let wait = link.delay + link.jitter.mul_f64(unit(rng));
        if wait.is_zero() {
            // Counted before the send, so whoever receives the packet already sees the count.
            c.forwarded.fetch_add(1, Ordering::Relaxed);
            let _ = out.send_to(bytes, dest);
            return;
        }
        let mut q = self.queue.lock().unwrap();
        if q.bytes + bytes.len() > MAX_QUEUED_BYTES {
            c.overflow.fetch_add(1, Ordering::Relaxed);
            return;
        }
        q.seq += 1;
        q.bytes += bytes.len();
        let seq = q.seq;
        q.heap.push(Pending {
            due: Instant::now() + wait,
            seq,
            dir,
            out: out.clone(),
            to: dest,
            bytes: bytes.to_vec(),
        });
        drop(q);
        self.wake.notify_one();
    }

    /// Sends delayed packets when they are due, until the relay stops.
    fn send_delayed(&self) {
        let mut q = self.queue.lock().unwrap();
        while !self.stop.load(Ordering::Relaxed) {
            let now = Instant::now();
            let wait = match q.heap.peek() {
                Some(p) if p.due <= now => {
                    let p = q.heap.pop().expect("peeked");
                    q.bytes -= p.bytes.len();
                    drop(q);
                    let c = &self.counters[p.dir];
                    if self.link(p.dir).cut {
                        c.cut.fetch_add(1, Ordering::Relaxed);
                    } else {
                        c.forwarded.fetch_add(1, Ordering::Relaxed);
                        let _ = p.out.send_to(&p.bytes, p.to);
                    }
                    q = self.queue.lock().unwrap();
                    continue;
                }
                Some(p) => (p.due - now).min(POLL),
                None => POLL,
            };
            q = self.wake.wait_timeout(q, wait).unwrap().0;
        }
    }
}

/// Which socket a receiving thread serves.
#[derive(Clone, Copy)]
enum Role {
    /// `L_k`: packets from any other endpoint `x`, direction `x → k`.
    Front(usize),
    /// `S(x,k)`: packets from endpoint `k` only, direction `k → x`.
    Pair(usize, usize),
}

/// A running relay; dropping it stops every thread and closes every socket.
pub struct Relay {
    shared: Arc<Shared>,
    fronts: Vec<SocketAddr>,
    threads: Vec<JoinHandle<()>>,
}

impl Relay {
    /// Starts a relay for `endpoints` (their real addresses, all distinct), binding every
    /// socket on `ip` with a port the system picks. Every direction starts with the default
    /// [`Link`] (forward at once). Call it inside [`super::netns::Netns::run`] to bind in a
    /// namespace.
    pub fn start(ip: IpAddr, endpoints: &[SocketAddr]) -> std::io::Result<Relay> {
        let n = endpoints.len();
        let index: HashMap<SocketAddr, usize> =
            endpoints.iter().enumerate().map(|(i, a)| (*a, i)).collect();
        assert_eq!(index.len(), n, "relay endpoints must be distinct");
        let bind = || -> std::io::Result<Arc<UdpSocket>> {
            let s = UdpSocket::bind(SocketAddr::new(ip, 0))?;
            s.set_read_timeout(Some(POLL))?;
            Ok(Arc::new(s))
        };
        let fronts = (0..n).map(|_| bind()).collect::<Result<Vec<_>, _>>()?;
        let mut pairs = Vec::with_capacity(n * n);
        for x in 0..n {
            for k in 0..n {
                pairs.push(if x == k { None } else { Some(bind()?) });
            }
        }
        let shared = Arc::new(Shared {
            n,
            stop: AtomicBool::new(false),
            links: Mutex::new(vec![Link::default(); n * n]),
            counters: (0..n * n).map(|_| Counters::default()).collect(),
            unknown: AtomicU64::new(0),
            queue: Mutex::default(),
            wake: Condvar::new(),
        });
        let front_addrs = fronts
            .iter()
            .map(|s| s.local_addr())
            .collect::<Result<Vec<_>, _>>()?;

        let mut roles: Vec<(Role, Arc<UdpSocket>)> = fronts
            .iter()
            .enumerate()
            .map(|(k, s)| (Role::Front(k), s.clone()))
            .collect();
        for (i, s) in pairs.iter().enumerate() {
            if let Some(s) = s {
                roles.push((Role::Pair(i / n, i % n), s.clone()));
            }
        }
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let mut threads = Vec::with_capacity(roles.len() + 1);
        for (t, (role, socket)) in roles.into_iter().enumerate() {
            let shared = shared.clone();
            let (fronts, pairs, endpoints, index) = (
                fronts.clone(),
                pairs.clone(),
                endpoints.to_vec(),
                index.clone(),
            );
            let mut rng = seed ^ (t as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            threads.push(
                std::thread::Builder::new()
                    .name(format!("relay-recv-{t}"))
                    .spawn(move || {
                        let mut buf = vec![0u8; 65_536];
                        while !shared.stop.load(Ordering::Relaxed) {
                            let (len, src) = match socket.recv_from(&mut buf) {
                                Ok(r) => r,
                                Err(e)
                                    if matches!(
                                        e.kind(),
                                        std::io::ErrorKind::WouldBlock
                                            | std::io::ErrorKind::TimedOut
                                            | std::io::ErrorKind::Interrupted
                                    ) =>
                                {
                                    continue;
                                }
                                Err(_) => {
                                    // Anything else (an ICMP error surfacing): do not spin.
                                    std::thread::sleep(POLL);
                                    continue;
                                }
                            };
                            let route = match role {
                                Role::Front(k) => match index.get(&src) {
                                    Some(&x) if x != k => pairs[x * n + k]
                                        .as_ref()
                                        .map(|out| ((x, k), out, endpoints[k])),
                                    _ => None,
                                },
                                Role::Pair(x, k) if src == endpoints[k] => {
                                    Some(((k, x), &fronts[k], endpoints[x]))
                                }
                                Role::Pair(..) => None,
                            };
                            match route {
                                Some((dir, out, dest)) => {
                                    shared.forward(dir, out, dest, &buf[..len], &mut rng)
                                }
                                None => {
                                    shared.unknown.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                        }
                    })?,
            );
        }
        let s = shared.clone();
        threads.push(
            std::thread::Builder::new()
                .name("relay-send".into())
                .spawn(move || s.send_delayed())?,
        );
        Ok(Relay {
            shared,
            fronts: front_addrs,
            threads,
        })
    }

    /// The number of endpoints.
    pub fn len(&self) -> usize {
        self.shared.n
    }

    /// Whether the relay has no endpoints.
    pub fn is_empty(&self) -> bool {
        self.shared.n == 0
    }

    /// The address the other endpoints use to reach endpoint `i` (its genesis address).
    pub fn front(&self, i: usize) -> SocketAddr {
        self.fronts[i]
    }

    /// Every endpoint's front address, in endpoint order.
    pub fn fronts(&self) -> &[SocketAddr] {
        &self.fronts
    }

    /// Sets the conditions of direction `from → to`.
    pub fn set(&self, from: usize, to: usize, link: Link) {
        assert!(from != to && from < self.shared.n && to < self.shared.n);
        self.shared.links.lock().unwrap()[from * self.shared.n + to] = link;
    }

    /// Sets the same conditions on both directions between `a` and `b`.
    pub fn set_both(&self, a: usize, b: usize, link: Link) {
        self.set(a, b, link);
        self.set(b, a, link);
    }

    /// The conditions of direction `from → to`.
    pub fn link(&self, from: usize, to: usize) -> Link {
        self.shared.link(from * self.shared.n + to)
    }

    /// Cuts every direction between endpoints of different `groups` (an endpoint in no group
    /// is a group of its own) and opens every direction within a group; delay and loss stay.
    pub fn partition(&self, groups: &[&[usize]]) {
        let n = self.shared.n;
        let group = |i: usize| groups.iter().position(|g| g.contains(&i));
        let mut links = self.shared.links.lock().unwrap();
        for from in 0..n {
            for to in 0..n {
                if from != to {
                    let same = group(from).is_some() && group(from) == group(to);
                    links[from * n + to].cut = !same;
                }
            }
        }
    }

    /// Opens every direction again (undoes [`Relay::partition`] and every `cut`); delay and
    /// loss stay.
    pub fn heal(&self) {
        for l in self.shared.links.lock().unwrap().iter_mut() {
            l.cut = false;
        }
    }

    /// What happened so far to the packets of direction `from → to`.
    pub fn stats(&self, from: usize, to: usize) -> DirectionStats {
        let c = &self.shared.counters[from * self.shared.n + to];
        DirectionStats {
            forwarded: c.forwarded.load(Ordering::Relaxed),
            lost: c.lost.load(Ordering::Relaxed),
            cut: c.cut.load(Ordering::Relaxed),
            overflow: c.overflow.load(Ordering::Relaxed),
        }
    }

    /// Packets dropped because they came from an address that is not the expected endpoint.
    pub fn unknown(&self) -> u64 {
        self.shared.unknown.load(Ordering::Relaxed)
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        self.shared.wake.notify_all();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// A uniform draw in `[0, 1)` from a splitmix64 state (test-grade randomness, no dependency).
fn unit(state: &mut u64) -> f64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}
