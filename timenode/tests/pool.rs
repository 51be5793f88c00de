//! The request pool on real sled files, with a clock the test moves: receipts name the batch
//! second, a sealed batch is signed and verifies, a final tick carrying it turns every digest
//! into a proof the sdk verifies, a duplicate keeps its first location, a reopened pool serves
//! the same proofs and seals what a crash left open, retention deletes old proofs only, and a
//! batch that outlived the batch window is re-sealed without losing a digest across a crash,
//! a digest submitted again after the duplicate window is stamped again, and the digest
//! index's runs merge and are rebuilt from the leaves when damaged or lost.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use tickchain_api::ProofStatus;
use tickchain_consensus::messages::ChainTick;
use tickchain_sdk::testkit::TestNetwork;
use tickchain_sdk::{Batch, Digest, Hash, Height, Network, NodeId, Second, UtcNanos, View};
use tickchain_timenode::config::PoolSection;
use tickchain_timenode::node::records;
use tickchain_timenode::pool::{Opened, Pool};
use tickchain_timenode::store::{ChainStore, Store};

const T0: u64 = 1_800_000_000;

struct Fixture {
    net: TestNetwork,
    dir: std::path::PathBuf,
    now: Arc<AtomicI64>,
}

impl Fixture {
    fn new(name: &str) -> Fixture {
        let dir = std::env::temp_dir().join(format!("tc-pool-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Fixture {
            net: TestNetwork::new("pool-test", 4, 1, Second(T0 - 10)),
            dir,
            now: Arc::new(AtomicI64::new(Second(T0).start().0 + 100_000_000)),
        }
    }

    fn set(&self, second: u64, millis: i64) {
        self.now.store(
            Second(second).start().0 + millis * 1_000_000,
            Ordering::SeqCst,
        );
    }

    fn open(&self, store: &Store, retention: Option<u64>) -> Opened {
        let now = self.now.clone();
        Pool::open(
            store,
            &self.net.keys[0],
            NodeId(0),
            self.net.hash(),
            &PoolSection {
                retention_secs: retention,
                // The tests move the clock to 850 ms into a second to have its batch sealed.
                seal_lead_ms: 200,
                ..PoolSection::default()
            },
            Arc::new(move || UtcNanos(now.load(Ordering::SeqCst))),
        )
        .unwrap()
    }

    /// Appends a final tick at `height` for `second` carrying `batches`, certified by 3 nodes.
    fn finalize(
        &self,
        store: &Store,
        height: u64,
        second: u64,
        prev: Hash,
        batches: &[&Batch],
    ) -> Hash {
        let (tick, _) = self
            .net
            .tick(Height(height), View(height), Second(second), prev, batches);
        let readings: Vec<_> = (0..3)
            .map(|i| (NodeId(i), TestNetwork::reading(Second(second), 5, 20)))
            .collect();
        let certificate = self.net.certify(&tick, &readings);
        let hash = tick.hash(&self.net.hash());
        let t = ChainTick {
            tick,
            certificate: Some(certificate),
        };
        store
            .append_final(
                Height(height),
                Second(second),
                &hash,
                &records::encode_final(&t),
            )
            .unwrap();
        hash
    }
}

fn digests(label: &str, n: usize) -> Vec<Digest> {
    (0..n)
        .map(|i| Digest(*blake3::hash(format!("{label}/{i}").as_bytes()).as_bytes()))
        .collect()
}

/// The next batch the pool seals (within 20 s).
fn next_sealed(rt: &tokio::runtime::Runtime, opened: &mut Opened) -> Batch {
    rt.block_on(async { tokio::time::timeout(Duration::from_secs(20), opened.sealed.recv()).await })
        .expect("sealed within 20 s")
        .expect("the pool is running")
}

/// Stops the pool, closes the store and removes the fixture's directory.
fn close(f: &Fixture, opened: Opened, store: Store) {
    opened.pool.stop();
    drop(opened);
    drop(store);
    let _ = std::fs::remove_dir_all(&f.dir);
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn accepted_digests_become_verifiable_proofs_once_a_final_tick_carries_their_batch() {
    let f = Fixture::new("proofs");
    let store = Store::open(&f.dir).unwrap();
    let mut opened = f.open(&store, None);
    let pool = opened.pool.clone();
    let rt = rt();
    let ds = digests("a", 300);
    let receipts = rt.block_on(pool.submit(ds.clone())).unwrap();
    assert_eq!(receipts.len(), 300);
    for (r, d) in receipts.iter().zip(&ds) {
        assert_eq!(r.digest, *d);
        assert_eq!(r.node, NodeId(0));
        assert_eq!(r.accepted_second, Second(T0), "accepted at T0 + 0.1 s");
        assert_eq!(r.expected_tick_second, Second(T0 + 1));
    }
    assert!(matches!(
        pool.reader.status(&ds[0]).unwrap(),
        ProofStatus::Pending(_)
    ));
    assert_eq!(
        pool.reader.status(&Digest([9; 32])).unwrap(),
        ProofStatus::Unknown
    );
    assert_eq!(pool.reader.depth(), 300);

    // A duplicate (also within one request) keeps its first location.
    let again = rt.block_on(pool.submit(vec![ds[5], ds[5]])).unwrap();
    assert_eq!(again[0].accepted_second, Second(T0));
    assert_eq!(pool.reader.depth(), 300, "duplicates are not added");

    // At T0 + 1 − lead the batch is sealed, signed by node 0, and handed out.
    f.set(T0, 850);
    let batch = next_sealed(&rt, &mut opened);
    assert_eq!(
        (batch.node, batch.second, batch.count),
        (NodeId(0), Second(T0), 300)
    );
    let network = Network::new(f.net.genesis.clone());
    network
        .verify_batch(&batch)
        .expect("the batch signature verifies");

    // A digest accepted after the seal joins the next second's batch.
    let late = rt.block_on(pool.submit(vec![Digest([7; 32])])).unwrap();
    assert_eq!(late[0].accepted_second, Second(T0 + 1));

    // The final tick carrying it (with another node's batch beside it) makes proofs.
    let other = f.net.batch(NodeId(2), Second(T0), &digests("b", 3)).batch;
    f.finalize(&store, 1, T0 + 1, f.net.hash(), &[&other, &batch]);
    assert!(
        pool.reader
            .mark_included(Second(T0), Height(1), &[other.clone(), batch.clone()])
            .unwrap()
    );
    assert_eq!(pool.reader.depth(), 1, "only the late digest is pending");
    for d in [ds[0], ds[5], ds[299]] {
        match pool.reader.status(&d).unwrap() {
            ProofStatus::Ready(p) => {
                let v = network.verify(&p).expect("proof verifies");
                assert_eq!(
                    (v.digest, v.height, v.batch_node),
                    (d, Height(1), NodeId(0))
                );
            }
            other => panic!("expected a proof, got {other:?}"),
        }
    }
    // Read together (assembled per batch), the answers are the ones read one by one, in
    // order, whatever mix of final, pending and unknown digests is asked for.
    let mixed = [
        ds[7],
        Digest([7; 32]),
        ds[1],
        Digest([9; 32]),
        ds[7],
        ds[250],
    ];
    let together = pool.reader.statuses(&mixed).unwrap();
    let alone: Vec<ProofStatus> = mixed
        .iter()
        .map(|d| pool.reader.status(d).unwrap())
        .collect();
    assert_eq!(together, alone);
    assert!(matches!(together[1], ProofStatus::Pending(_)));
    assert!(matches!(together[3], ProofStatus::Unknown));
    pool.stop();
    drop(opened);
    drop(pool);

    // Reopened: the same proofs are served (from the stored chunk roots and the chunk of
    // leaves each digest is in: 300 leaves are a full chunk of 256 and a partial one), and
    // the late digest's batch, never sealed before the "crash", is sealed at startup.
    let store = reopen(store, &f.dir);
    let opened = f.open(&store, None);
    let statuses = opened.pool.reader.statuses(&ds).unwrap();
    for (i, status) in statuses.into_iter().enumerate() {
        match status {
            ProofStatus::Ready(p) => {
                let v = network.verify(&p).unwrap();
                assert_eq!((v.digest, p.batch_path.index), (ds[i], i as u32));
            }
            other => panic!("expected a proof after reopening, got {other:?}"),
        }
    }
    assert_eq!(
        opened.unconfirmed.len(),
        1,
        "the late batch is sealed and offered again"
    );
    assert_eq!(opened.unconfirmed[0].second, Second(T0 + 1));
    assert_eq!(opened.unconfirmed[0].count, 1);
    close(&f, opened, store);
}

fn reopen(store: Store, dir: &std::path::Path) -> Store {
    drop(store);
    Store::open(dir).unwrap()
}

#[test]
fn retention_deletes_proofs_of_old_included_batches_and_keeps_pending_ones() {
    let f = Fixture::new("retention");
    let store = Store::open(&f.dir).unwrap();
    let mut opened = f.open(&store, Some(60));
    let pool = opened.pool.clone();
    let rt = rt();
    let old = digests("old", 10);
    rt.block_on(pool.submit(old.clone())).unwrap();
    f.set(T0, 850);
    let batch = rt.block_on(opened.sealed.recv()).unwrap();
    f.finalize(&store, 1, T0 + 1, f.net.hash(), &[&batch]);
    pool.reader
        .mark_included(Second(T0), Height(1), &[batch])
        .unwrap();
    // A second batch that never makes it into a tick.
    f.set(T0 + 5, 100);
    let pending = digests("pending", 3);
    rt.block_on(pool.submit(pending.clone())).unwrap();
    assert!(matches!(
        pool.reader.status(&old[0]).unwrap(),
        ProofStatus::Ready(_)
    ));

    // 61 s later (past a pruning pass) the old proofs are gone; the pending digests are not.
    f.set(T0 + 70, 0);
    // Pruning is not atomic: while it runs, a reader sees each old digest either with a proof
    // that still verifies, or unknown, never anything else.
    let network = tickchain_sdk::Network::new(f.net.genesis.clone());
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let mut gone = 0;
        for d in &old {
            match pool.reader.status(d).unwrap() {
                ProofStatus::Unknown => gone += 1,
                ProofStatus::Ready(p) => {
                    network
                        .verify(&p)
                        .expect("a proof served while pruning verifies");
                }
                other => panic!("an old digest during pruning: {other:?}"),
            }
        }
        if gone == old.len() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "old proofs never pruned ({gone} of {} gone)",
            old.len()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    for d in &pending {
        assert!(matches!(
            pool.reader.status(d).unwrap(),
            ProofStatus::Pending(_)
        ));
    }
    assert!(
        store.final_at(Height(1)).unwrap().is_some(),
        "the chain is kept"
    );
    drop(pool);
    close(&f, opened, store);
}

#[test]
fn a_batch_that_outlived_the_batch_window_is_resealed_and_every_digest_stays_provable_across_a_crash()
 {
    let f = Fixture::new("reseal");
    let store = Store::open(&f.dir).unwrap();
    let mut opened = f.open(&store, None);
    let pool = opened.pool.clone();
    pool.set_batch_window(tickchain_sdk::Nanos::from_secs(10));
    let rt = rt();
    let ds = digests("stale", 50);
    rt.block_on(pool.submit(ds.clone())).unwrap();
    f.set(T0, 850);
    let old = next_sealed(&rt, &mut opened);
    assert_eq!((old.second, old.count), (Second(T0), 50));
    let accepted = |d: &Digest| match pool.reader.status(d).unwrap() {
        ProofStatus::Pending(r) => (r.accepted_second, r.expected_tick_second),
        other => panic!("expected pending, got {other:?}"),
    };

    // At the window's last second the batch is still offered as it is.
    f.set(T0 + 10, 100);
    std::thread::sleep(Duration::from_millis(1_500));
    assert_eq!(accepted(&ds[0]), (Second(T0), Second(T0 + 1)));

    // One second later it moves into the open batch: same digests, a new accepted second.
    f.set(T0 + 11, 100);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while accepted(&ds[0]).0 == Second(T0) {
        assert!(std::time::Instant::now() < deadline, "never re-sealed");
        std::thread::sleep(Duration::from_millis(20));
    }
    for d in &ds {
        assert_eq!(accepted(d), (Second(T0 + 11), Second(T0 + 12)));
    }
    assert_eq!(pool.reader.depth(), 50, "still pending, counted once");
    assert!(
        !pool
            .reader
            .mark_included(Second(T0), Height(1), std::slice::from_ref(&old))
            .unwrap(),
        "the stale batch is gone: a late tick carrying it teaches nothing"
    );

    // A crash before the open batch is sealed: the restart seals the moved digests in it.
    pool.stop();
    drop(opened);
    drop(pool);
    let store = reopen(store, &f.dir);
    let opened = f.open(&store, None);
    assert_eq!(
        opened.unconfirmed.len(),
        1,
        "only the re-sealed batch is pending"
    );
    let fresh = opened.unconfirmed[0].clone();
    assert_eq!((fresh.second, fresh.count), (Second(T0 + 11), 50));
    f.finalize(&store, 1, T0 + 12, f.net.hash(), &[&fresh]);
    assert!(
        opened
            .pool
            .reader
            .mark_included(fresh.second, Height(1), std::slice::from_ref(&fresh))
            .unwrap()
    );
    let network = Network::new(f.net.genesis.clone());
    for d in &ds {
        match opened.pool.reader.status(d).unwrap() {
            ProofStatus::Ready(p) => {
                network.verify(&p).expect("the re-sealed proof verifies");
                assert_eq!(p.batch.second, Second(T0 + 11));
            }
            other => panic!("expected a proof, got {other:?}"),
        }
    }
    close(&f, opened, store);
}

/// Waits until `pool` has index runs holding at least `entries` entries.
fn wait_indexed(pool: &Pool, entries: u64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while pool.index_runs().1 < entries {
        assert!(
            std::time::Instant::now() < deadline,
            "index runs hold {:?}, want {entries} entries",
            pool.index_runs()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_digest_submitted_again_after_the_duplicate_window_is_stamped_again_and_proved_at_its_earliest()
{
    let f = Fixture::new("window");
    let store = Store::open(&f.dir).unwrap();
    let mut opened = f.open(&store, None);
    let pool = opened.pool.clone();
    let rt = rt();
    let d = digests("again", 1)[0];
    assert_eq!(
        rt.block_on(pool.submit(vec![d])).unwrap()[0].accepted_second,
        Second(T0)
    );
    f.set(T0, 850);
    let first = next_sealed(&rt, &mut opened);
    wait_indexed(&pool, 1);
    f.finalize(&store, 1, T0 + 1, f.net.hash(), &[&first]);
    pool.reader
        .mark_included(Second(T0), Height(1), std::slice::from_ref(&first))
        .unwrap();

    // Inside the window (10 s by default), even once its batch is sealed and indexed, the
    // digest keeps its location.
    f.set(T0 + 9, 100);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        rt.block_on(pool.submit(vec![d])).unwrap()[0].accepted_second,
        Second(T0)
    );
    assert_eq!(pool.reader.depth(), 0);

    // After it, the digest is stamped again: a new leaf, a new receipt, one more pending.
    f.set(T0 + 12, 600);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        rt.block_on(pool.submit(vec![d])).unwrap()[0].accepted_second,
        Second(T0 + 12)
    );
    assert_eq!(pool.reader.depth(), 1);
    // Its proof is the earliest: the batch of T0, already final.
    let network = Network::new(f.net.genesis.clone());
    match pool.reader.status(&d).unwrap() {
        ProofStatus::Ready(p) => {
            network.verify(&p).unwrap();
            assert_eq!(p.batch.second, Second(T0));
        }
        other => panic!("expected the earliest proof, got {other:?}"),
    }
    drop(pool);
    close(&f, opened, store);
}

#[test]
fn index_runs_merge_and_are_rebuilt_from_the_leaves_when_damaged_lost_or_never_written() {
    let f = Fixture::new("runs");
    let store = Store::open(&f.dir).unwrap();
    let mut opened = f.open(&store, None);
    let pool = opened.pool.clone();
    let rt = rt();
    // 20 batches of 30 digests, one per second.
    let ds = digests("runs", 600);
    for (i, chunk) in ds.chunks(30).enumerate() {
        let second = T0 + i as u64;
        f.set(second, 100);
        let receipts = rt.block_on(pool.submit(chunk.to_vec())).unwrap();
        assert!(receipts.iter().all(|r| r.accepted_second == Second(second)));
        f.set(second, 850);
        let b = next_sealed(&rt, &mut opened);
        assert_eq!(b.second, Second(second));
    }
    wait_indexed(&pool, 600);
    // 16 level-0 runs merged into two level-1 runs; 4 level-0 runs wait for more.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while pool.index_runs() != (6, 600) {
        assert!(
            std::time::Instant::now() < deadline,
            "runs {:?}",
            pool.index_runs()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // The newest digests are accepted and their batch never sealed (a crash).
    f.set(T0 + 20, 100);
    let late = digests("late", 5);
    rt.block_on(pool.submit(late.clone())).unwrap();
    pool.stop();
    drop(opened);
    drop(pool);

    let index_dir = f.dir.join("pool-index");
    let mut names: Vec<String> = std::fs::read_dir(&index_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names.len(), 6, "{names:?}");
    // One level-1 run damaged, one level-0 run lost, a temporary file left by a crash.
    let l1 = index_dir.join(names.iter().find(|n| n.starts_with("01-")).unwrap());
    let mut bytes = std::fs::read(&l1).unwrap();
    bytes[10] ^= 0x40;
    std::fs::write(&l1, bytes).unwrap();
    std::fs::remove_file(index_dir.join(&names[1])).unwrap();
    std::fs::write(index_dir.join("00-x.run.tmp"), b"half").unwrap();

    let store = reopen(store, &f.dir);
    let opened = f.open(&store, None);
    for (i, d) in ds.iter().enumerate() {
        match opened.pool.reader.status(d).unwrap() {
            ProofStatus::Pending(r) => {
                assert_eq!(r.accepted_second, Second(T0 + i as u64 / 30), "digest {i}")
            }
            other => panic!("digest {i}: expected pending, got {other:?}"),
        }
    }
    for d in &late {
        match opened.pool.reader.status(d).unwrap() {
            ProofStatus::Pending(r) => assert_eq!(r.accepted_second, Second(T0 + 20)),
            other => panic!("expected pending, got {other:?}"),
        }
    }
    assert!(!index_dir.join("00-x.run.tmp").exists());
    assert_eq!(opened.pool.index_runs().1, 605, "every digest indexed once");
    close(&f, opened, store);
}

/// The segment file of `second`'s batch under `dir`.
fn segment_path(dir: &std::path::Path, second: u64) -> std::path::PathBuf {
    dir.join("pool-leaves")
        .join(format!("{:015}", second / 100_000))
        .join(format!("{second:020}.leaves"))
}

#[test]
fn a_torn_or_forged_tail_of_an_open_segment_is_cut_and_every_acknowledged_digest_is_sealed() {
    let f = Fixture::new("torn");
    let store = Store::open(&f.dir).unwrap();
    let opened = f.open(&store, None);
    let pool = opened.pool.clone();
    let rt = rt();
    let ds = digests("torn", 40);
    rt.block_on(pool.submit(ds.clone())).unwrap();
    pool.stop();
    drop(opened);
    drop(pool);
    // A crash mid-write: a leaf whose salt is not its position's, then half a leaf.
    let path = segment_path(&f.dir, T0);
    let mut bytes = std::fs::read(&path).unwrap();
    assert_eq!(bytes.len(), 40 * 48);
    bytes.extend_from_slice(&[0xab; 48]);
    bytes.extend_from_slice(&[0xcd; 20]);
    std::fs::write(&path, &bytes).unwrap();

    let store = reopen(store, &f.dir);
    let opened = f.open(&store, None);
    assert_eq!(opened.unconfirmed.len(), 1);
    assert_eq!(
        (opened.unconfirmed[0].second, opened.unconfirmed[0].count),
        (Second(T0), 40),
        "the forged leaf and the torn half are cut"
    );
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 40 * 48);
    for d in &ds {
        assert!(matches!(
            opened.pool.reader.status(d).unwrap(),
            ProofStatus::Pending(_)
        ));
    }
    close(&f, opened, store);
}

#[test]
fn leaves_kept_in_sled_by_an_older_node_move_into_segments_and_stay_provable() {
    let f = Fixture::new("migrate");
    let store = Store::open(&f.dir).unwrap();
    let mut opened = f.open(&store, None);
    let pool = opened.pool.clone();
    let rt = rt();
    let ds = digests("migrate", 30);
    rt.block_on(pool.submit(ds[..20].to_vec())).unwrap();
    rt.block_on(pool.submit(ds[20..].to_vec())).unwrap();
    f.set(T0, 850);
    let batch = next_sealed(&rt, &mut opened);
    f.finalize(&store, 1, T0 + 1, f.net.hash(), &[&batch]);
    pool.reader
        .mark_included(Second(T0), Height(1), std::slice::from_ref(&batch))
        .unwrap();
    pool.stop();
    drop(opened);
    drop(pool);
    // The older layout: the leaves as sled values per group commit, no segment, no index.
    let path = segment_path(&f.dir, T0);
    let bytes = std::fs::read(&path).unwrap();
    let old = store.db().open_tree("pool-leaves").unwrap();
    for (first, group) in [(0u32, &bytes[..20 * 48]), (20, &bytes[20 * 48..])] {
        let mut key = T0.to_be_bytes().to_vec();
        key.extend_from_slice(&first.to_be_bytes());
        old.insert(key, group).unwrap();
    }
    drop(old);
    store.db().flush().unwrap();
    std::fs::remove_dir_all(f.dir.join("pool-leaves")).unwrap();
    std::fs::remove_dir_all(f.dir.join("pool-index")).unwrap();

    let store = reopen(store, &f.dir);
    let opened = f.open(&store, None);
    assert!(
        !store.db().tree_names().iter().any(|n| n == b"pool-leaves"),
        "the old tree is dropped"
    );
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    let network = Network::new(f.net.genesis.clone());
    for d in &ds {
        match opened.pool.reader.status(d).unwrap() {
            ProofStatus::Ready(p) => {
                network.verify(&p).unwrap();
            }
            other => panic!("expected a proof after migrating, got {other:?}"),
        }
    }
    close(&f, opened, store);
}

#[test]
fn a_batch_deleted_just_before_a_crash_leaves_no_segment_and_is_not_sealed_again() {
    let f = Fixture::new("unlink");
    let store = Store::open(&f.dir).unwrap();
    let mut opened = f.open(&store, None);
    let pool = opened.pool.clone();
    let rt = rt();
    for (i, s) in [T0, T0 + 1, T0 + 2].into_iter().enumerate() {
        f.set(s, 100);
        rt.block_on(pool.submit(digests(&format!("unlink{i}"), 5)))
            .unwrap();
        f.set(s, 850);
        assert_eq!(next_sealed(&rt, &mut opened).second, Second(s));
    }
    pool.stop();
    drop(opened);
    drop(pool);
    // What a crash leaves right after the flush that deleted the batches of T0 (older than the
    // newest) and T0 + 2 (the newest), by retention or re-sealing, before their segments were
    // unlinked: the unlink marks, no records, the segments still there.
    let db = store.db();
    for s in [T0, T0 + 2] {
        let k = s.to_be_bytes();
        db.open_tree("pool-unlink")
            .unwrap()
            .insert(k, &[] as &[u8])
            .unwrap();
        for tree in [
            "pool-sealed",
            "pool-pending",
            "pool-chunks",
            "pool-included",
        ] {
            db.open_tree(tree).unwrap().remove(k).unwrap();
        }
    }
    db.flush().unwrap();
    assert!(segment_path(&f.dir, T0).exists() && segment_path(&f.dir, T0 + 2).exists());

    let store = reopen(store, &f.dir);
    f.set(T0 + 3, 100);
    let opened = f.open(&store, None);
    assert!(!segment_path(&f.dir, T0).exists(), "an orphaned segment");
    assert!(
        !segment_path(&f.dir, T0 + 2).exists(),
        "an orphaned segment"
    );
    let offered: Vec<u64> = opened.unconfirmed.iter().map(|b| b.second.0).collect();
    assert_eq!(
        offered,
        vec![T0 + 1],
        "the deleted newest batch was sealed again as if a crash had left it open"
    );
    assert!(segment_path(&f.dir, T0 + 1).exists());
    assert!(store.db().open_tree("pool-unlink").unwrap().is_empty());
    close(&f, opened, store);
}

#[test]
fn a_digest_submitted_again_across_a_restart_inside_the_window_keeps_its_place() {
    let f = Fixture::new("window-restart");
    let store = Store::open(&f.dir).unwrap();
    let mut opened = f.open(&store, None);
    let pool = opened.pool.clone();
    let rt = rt();
    let ds = digests("restart-window", 3);
    let first = rt.block_on(pool.submit(ds.clone())).unwrap();
    f.set(T0, 850);
    assert_eq!(next_sealed(&rt, &mut opened).second, Second(T0));
    // A digest accepted into the next second's batch, left open by the restart.
    f.set(T0 + 1, 100);
    let late = digests("restart-window-late", 1);
    let late_first = rt.block_on(pool.submit(late.clone())).unwrap();
    pool.stop();
    drop(opened);
    drop(pool);

    let store = reopen(store, &f.dir);
    f.set(T0 + 5, 100);
    let opened = f.open(&store, None);
    let again = rt
        .block_on(opened.pool.submit(vec![ds[2], late[0], ds[0]]))
        .unwrap();
    assert_eq!(first[0].accepted_second, Second(T0));
    assert_eq!(late_first[0].accepted_second, Second(T0 + 1));
    let seconds: Vec<Second> = again.iter().map(|r| r.accepted_second).collect();
    assert_eq!(
        seconds,
        vec![Second(T0), Second(T0 + 1), Second(T0)],
        "stamped again after a restart"
    );
    assert_eq!(opened.pool.reader.depth(), 4, "no new leaf is pending");
    close(&f, opened, store);
}
