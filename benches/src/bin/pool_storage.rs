//! Storage cost of the request pool per million digests, on real sled files.
//!
//! `cargo run --release -p tickchain-benches --bin pool_storage [-- MILLIONS]` (default 1):
//! accepts the digests through the pool in requests of 10,000 spread over 10 batches, records
//! each batch as included in a final tick, waits until the digest index holds every digest,
//! flushes, and reports the data directory's size on disk (`du`: sled, leaf segments, index
//! runs) before and after, per million digests. Bounded; removes its
//! temp directory.

use std::sync::Arc;
use std::time::Instant;
use tickchain_benches::disk_bytes;
use tickchain_sdk::testkit::TestNetwork;
use tickchain_sdk::{Digest, Height, NodeId, Second, UtcNanos};
use tickchain_timenode::config::PoolSection;
use tickchain_timenode::pool::Pool;
use tickchain_timenode::store::Store;

fn main() {
    let millions: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let dir = std::env::temp_dir().join(format!("tc-pool-storage-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let net = TestNetwork::new("pool-storage", 4, 1, Second(1_800_000_000));
    let store = Store::open(&dir).expect("open sled");
    let now = Arc::new(std::sync::atomic::AtomicI64::new(
        Second(1_800_000_001).start().0,
    ));
    let clock = now.clone();
    let opened = Pool::open(
        &store,
        &net.keys[0],
        NodeId(0),
        net.hash(),
        &PoolSection::default(),
        Arc::new(move || UtcNanos(clock.load(std::sync::atomic::Ordering::SeqCst))),
    )
    .expect("open pool");
    let mut sealed = opened.sealed;
    let pool = opened.pool;
    store.db().flush().expect("flush");
    let before = disk_bytes(&dir);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let total = millions * 1_000_000;
    let per_batch = total / 10;
    let started = Instant::now();
    let mut n = 0u64;
    for b in 0..10u64 {
        while n < (b + 1) * per_batch {
            let digests: Vec<Digest> = (n..(n + 10_000).min((b + 1) * per_batch))
                .map(|i| Digest(*blake3::hash(&i.to_be_bytes()).as_bytes()))
                .collect();
            n += digests.len() as u64;
            rt.block_on(pool.submit(digests)).expect("accepted");
        }
        // Move the clock past this second's seal instant and collect the batch.
        now.store(
            Second(1_800_000_002 + b).start().0 - 50_000_000,
            std::sync::atomic::Ordering::SeqCst,
        );
        let batch = rt
            .block_on(sealed.recv())
            .expect("the writer seals the batch");
        pool.reader
            .mark_included(batch.second, Height(b + 1), &[batch])
            .expect("record inclusion");
    }
    // Past the last batch's index instant: wait until every digest is in an index run.
    now.store(
        Second(1_800_000_020).start().0,
        std::sync::atomic::Ordering::SeqCst,
    );
    let deadline = Instant::now() + std::time::Duration::from_secs(120);
    while pool.index_runs().1 < total && Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(pool.index_runs().1, total, "every digest indexed");
    pool.stop();
    store.db().flush().expect("flush");
    let after = disk_bytes(&dir);
    let per_million = (after.saturating_sub(before)) as f64 / millions as f64;
    println!(
        "pool_storage: {total} digests in 10 batches in {:.1} s; data directory (sled, leaf segments, \
         index runs) {:.1} MB -> {:.1} MB: \
         {:.0} MB per million digests ({:.0} bytes per digest)",
        started.elapsed().as_secs_f64(),
        before as f64 / 1e6,
        after as f64 / 1e6,
        per_million / 1e6,
        per_million / 1e6,
    );
    drop(pool);
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}
