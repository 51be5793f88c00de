//! The Roughtime server's steady state allocates nothing: a counting global allocator (the one
//! place this workspace allows `unsafe`: implementing `GlobalAlloc` needs it) counts every
//! allocation made on the server's thread while a client is answered 12,800 times after a
//! warm-up, and finds none; a deliberate allocation on a counted thread is counted, so the
//! counter can fail.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::UdpSocket;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tickchain_sdk::roughtime::{VERSION_1, request, response};
use tickchain_timenode::node::clock::NodeClock;
use tickchain_timenode::ntp::rate::RateLimits;
use tickchain_timenode::roughtime::{Server, Shared};

/// Counts allocations made on threads that opted in, while counting is on.
struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static COUNTED_THREAD: Cell<bool> = const { Cell::new(false) };
}

fn note() {
    if COUNTING.load(Ordering::Relaxed) && COUNTED_THREAD.with(Cell::get) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded unchanged to the system allocator; the counter only reads a
// const-initialised thread-local `Cell<bool>` and bumps atomics, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: the caller's contract for `layout` is passed through.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: `ptr` came from this allocator with `layout`; the caller's contract holds.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Sends `rounds` bursts of `burst` requests and waits for every answer; returns how many
/// answers verified.
fn exchange(
    sock: &UdpSocket,
    server: std::net::SocketAddr,
    key: &[u8; 32],
    rounds: u64,
    burst: u64,
) -> u64 {
    let mut req = Vec::new();
    let mut buf = [0u8; 2048];
    let mut verified = 0;
    for round in 0..rounds {
        let reqs: Vec<Vec<u8>> = (0..burst)
            .map(|i| {
                let nonce = *blake3::hash(&(round * burst + i).to_be_bytes()).as_bytes();
                request::build(&mut req, &[VERSION_1], &nonce, None);
                req.clone()
            })
            .collect();
        for r in &reqs {
            sock.send_to(r, server).unwrap();
        }
        for _ in 0..burst {
            let n = sock.recv(&mut buf).expect("an answer to every request");
            let nonce = &buf[..n];
            // Find the request this answers (answers may come in any order within a burst).
            let ok = reqs.iter().any(|r| response::verify(nonce, r, key).is_ok());
            assert!(ok, "an answer that verifies under the server's key");
            verified += 1;
        }
    }
    verified
}

#[test]
fn the_roughtime_servers_steady_state_allocates_nothing() {
    let longterm = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let key = longterm.verifying_key().to_bytes();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let server_addr = socket.local_addr().unwrap();
    let (_ticks_tx, ticks) = tokio::sync::broadcast::channel(16);
    let clock = NodeClock::Declared {
        error: tickchain_sdk::Nanos::from_millis(20),
    };
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let thread = std::thread::spawn(move || {
        COUNTED_THREAD.with(|c| c.set(true));
        let limits = RateLimits::new(Duration::ZERO, 16, 1024, 1_000_000);
        let stats = Arc::new(tickchain_timenode::facade_stats::FacadeCounters::default());
        let mut server = Server::new(longterm, 64, Shared::new(limits), ticks, stats);
        server.serve(&socket, &clock, &flag);
    });
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    // Warm-up: the online key and its certificates are made, the client's bucket exists.
    exchange(&client, server_addr, &key, 10, 64);
    COUNTING.store(true, Ordering::SeqCst);
    let answered = exchange(&client, server_addr, &key, 200, 64);
    COUNTING.store(false, Ordering::SeqCst);
    let during = ALLOCATIONS.load(Ordering::SeqCst);
    stop.store(true, Ordering::SeqCst);
    thread.join().unwrap();
    assert!(answered >= 10_000, "{answered} answers counted");
    assert_eq!(
        during, 0,
        "the server's thread allocated {during} times while answering {answered} requests"
    );
    // The control: an allocation on a counted thread while counting is on is counted.
    COUNTED_THREAD.with(|c| c.set(true));
    COUNTING.store(true, Ordering::SeqCst);
    let boxed = std::hint::black_box(Box::new([7u8; 64]));
    COUNTING.store(false, Ordering::SeqCst);
    COUNTED_THREAD.with(|c| c.set(false));
    drop(boxed);
    assert!(
        ALLOCATIONS.load(Ordering::SeqCst) >= 1,
        "the control allocation was not counted"
    );
}
