//! The relayer on real anvil chains (31337 standing in for Ethereum, 137 for Polygon), fed real
//! ticks from a `TestNetwork` and signing with that network's genesis-bound attestation keys:
//! consecutive ranges on both chains in round-robin turns, a backup taking over, an RPC that
//! goes down and comes back, and a stuck transaction that is fee-bumped while a duplicate is
//! sent and harmlessly reverted.
//!
//! Needs `scripts/install-npm` (anvil) and the committed artifact (`scripts/compile-contracts`).
//! A missing anvil fails these tests; it never skips them.

use alloy::primitives::{Address, B256, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::Filter;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolEvent;
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tickchain_anchor::anvil::{DEV_KEY_0, ETHEREUM_CHAIN_ID, POLYGON_CHAIN_ID};
use tickchain_anchor::bindings::TickOracle;
use tickchain_anchor::{
    AnchorRecord, Anvil, AnvilOptions, AttestationKey, BoxError, ChainConfig, FinalTick,
    LocalAttestor, OracleClient, Range, RelayEvent, Relayer, TickSource, connect,
};
use tickchain_sdk::anchor::{EvmAddress, anchor_root, keccak256};
use tickchain_sdk::testkit::TestNetwork;
use tickchain_sdk::{Hash, Height, Second, Tick, View};
use tokio::sync::{mpsc, watch};

/// A growing chain of real final ticks (hashes per `specs/encoding.md` §3.2).
struct Ticks {
    net: TestNetwork,
    ticks: Mutex<Vec<(Tick, Instant)>>,
}

impl Ticks {
    fn new(net: TestNetwork) -> Arc<Ticks> {
        Arc::new(Ticks {
            net,
            ticks: Mutex::new(Vec::new()),
        })
    }

    /// Appends one final tick every `every`, until the test ends.
    fn produce(self: &Arc<Ticks>, every: Duration) -> tokio::task::JoinHandle<()> {
        let me = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                me.push();
                tokio::time::sleep(every).await;
            }
        })
    }

    fn push(&self) {
        let mut ticks = self.ticks.lock().unwrap();
        let g = self.net.genesis.genesis_second.0;
        let next = match ticks.last() {
            None => {
                let (t, _) = self
                    .net
                    .tick(Height(1), View(1), Second(g + 1), self.net.hash(), &[]);
                t
            }
            Some((parent, _)) => {
                let h = parent.height.0 + 1;
                self.net.child(parent, View(h), Second(g + h))
            }
        };
        ticks.push((next, Instant::now()));
    }

    fn hashes(&self, range: Range) -> Vec<Hash> {
        let ticks = self.ticks.lock().unwrap();
        (range.from.0..=range.to.0)
            .map(|h| ticks[h as usize - 1].0.hash(&self.net.hash()))
            .collect()
    }

    /// When the tick at `height` became final.
    fn final_at(&self, height: Height) -> Instant {
        self.ticks.lock().unwrap()[height.0 as usize - 1].1
    }
}

#[async_trait]
impl TickSource for Ticks {
    async fn final_height(&self) -> Result<Height, BoxError> {
        Ok(Height(self.ticks.lock().unwrap().len() as u64))
    }

    async fn final_ticks(&self, from: Height, to: Height) -> Result<Vec<FinalTick>, BoxError> {
        let ticks = self.ticks.lock().unwrap();
        Ok((from.0..=to.0)
            .map(|h| {
                let t = &ticks[h as usize - 1].0;
                FinalTick {
                    height: t.height,
                    second: t.second,
                    hash: t.hash(&self.net.hash()),
                }
            })
            .collect())
    }
}

/// The 4-node test ring; also routes the relayers' logs to the test output (shown for a
/// failing test; `RUST_LOG=info` for more).
fn network() -> TestNetwork {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "tickchain_timenode=warn".into()),
        )
        .try_init();
    TestNetwork::new("relayer", 4, 1, Second(1_764_000_000))
}

/// The ring's attestation keys, exactly the ones its genesis binds.
fn attestor(net: &TestNetwork) -> Arc<LocalAttestor> {
    let keys = net
        .attestation_keys
        .iter()
        .map(|k| AttestationKey::from_secret(&k.secret_bytes()).unwrap())
        .collect();
    Arc::new(LocalAttestor::new(keys))
}

/// The account node `i` pays gas from.
fn sender(i: u16) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&B256::from(keccak256(format!("relayer/{i}").as_bytes()))).unwrap()
}

fn sender_address(i: u16) -> EvmAddress {
    EvmAddress(sender(i).address().into_array())
}

/// A chain with `TickOracle` deployed for the network's genesis attestation addresses (3 of 4)
/// and every relayer account funded.
struct Chain {
    oracle: OracleClient,
    anvil: Anvil,
}

impl Chain {
    async fn start(options: AnvilOptions, net: &TestNetwork) -> Chain {
        let anvil = Anvil::start(options).unwrap_or_else(|e| panic!("{e}"));
        let provider = dev_provider(&anvil);
        let signers = net.genesis.attestation_addresses().unwrap();
        let (oracle, _) =
            OracleClient::deploy(provider.clone(), &signers, net.genesis.quorum as u8)
                .await
                .unwrap();
        for i in 0..4 {
            let _: serde_json::Value = provider
                .raw_request(
                    "anvil_setBalance".into(),
                    (sender(i).address(), U256::from(10u128.pow(20))),
                )
                .await
                .unwrap();
        }
        Chain { oracle, anvil }
    }

    fn config(&self, name: &str, cadence: u64) -> ChainConfig {
        let mut c = ChainConfig::new(
            name,
            self.anvil.endpoint(),
            self.oracle.domain().contract,
            cadence,
        );
        c.poll_interval_ms = 200;
        c.rpc_timeout_ms = 3_000;
        c.backup_delay_ms = 30_000;
        c
    }

    async fn rpc(&self, method: &'static str, params: serde_json::Value) {
        let _: serde_json::Value = self
            .oracle
            .provider()
            .raw_request(method.into(), params)
            .await
            .unwrap();
    }

    /// Every `Anchored` event on chain, by its `toHeight`.
    async fn anchored_events(&self) -> BTreeMap<u64, usize> {
        let filter = Filter::new()
            .address(Address::from(self.oracle.domain().contract.0))
            .event_signature(TickOracle::Anchored::SIGNATURE_HASH)
            .from_block(0);
        let mut out = BTreeMap::new();
        for log in self.oracle.provider().get_logs(&filter).await.unwrap() {
            let e = log.log_decode::<TickOracle::Anchored>().unwrap();
            *out.entry(e.inner.data.toHeight).or_insert(0) += 1;
        }
        out
    }
}

fn dev_provider(anvil: &Anvil) -> DynProvider {
    connect(
        &anvil.endpoint(),
        PrivateKeySigner::from_bytes(&B256::from(DEV_KEY_0)).unwrap(),
    )
    .unwrap()
}

/// Relayers for `nodes`, stopped when the returned sender is dropped or set.
fn relayers(
    config: &ChainConfig,
    nodes: &[u16],
    ticks: &Arc<Ticks>,
    attestor: &Arc<LocalAttestor>,
) -> (mpsc::UnboundedReceiver<RelayEvent>, watch::Sender<bool>) {
    let (events, rx) = mpsc::unbounded_channel();
    let (stop, stopped) = watch::channel(false);
    for &i in nodes {
        let relayer = Relayer::new(
            config.clone(),
            tickchain_sdk::NodeId(i),
            4,
            sender(i),
            Arc::clone(ticks),
            Arc::clone(attestor),
            events.clone(),
        )
        .unwrap();
        let mut stopped = stopped.clone();
        tokio::spawn(relayer.run(async move {
            let _ = stopped.wait_for(|s| *s).await;
        }));
    }
    (rx, stop)
}

/// Collects events until `done` holds for them, or panics with what arrived by `timeout`.
async fn collect(
    rx: &mut mpsc::UnboundedReceiver<RelayEvent>,
    events: &mut Vec<(RelayEvent, Instant)>,
    timeout: Duration,
    what: &str,
    done: impl Fn(&[(RelayEvent, Instant)]) -> bool,
) {
    let deadline = tokio::time::Instant::now() + timeout;
    while !done(events) {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(e)) => events.push((e, Instant::now())),
            Ok(None) => panic!("relayers stopped before {what}"),
            Err(_) => panic!("no {what} within {timeout:?}; events: {events:#?}"),
        }
    }
}

/// Confirmed anchors by range, checking that every relayer reported the same record.
fn records(events: &[(RelayEvent, Instant)]) -> BTreeMap<Range, AnchorRecord> {
    let mut out: BTreeMap<Range, AnchorRecord> = BTreeMap::new();
    for (e, _) in events {
        if let RelayEvent::Anchored(r) = e {
            if let Some(seen) = out.get(&r.range()) {
                assert_eq!(
                    seen,
                    r,
                    "relayers disagree about the anchor of {}",
                    r.range()
                );
            }
            out.insert(r.range(), r.clone());
        }
    }
    out
}

fn anchored_through(events: &[(RelayEvent, Instant)], height: u64) -> bool {
    records(events).keys().any(|r| r.to.0 >= height)
}

fn sent(
    events: &[(RelayEvent, Instant)],
    range: Range,
) -> Vec<(EvmAddress, tickchain_anchor::deliver::Attempt, Instant)> {
    events
        .iter()
        .filter_map(|(e, at)| match e {
            RelayEvent::Sent {
                range: r,
                sender,
                attempt,
                ..
            } if *r == range => Some((*sender, *attempt, *at)),
            _ => None,
        })
        .collect()
}

fn range(from: u64, to: u64) -> Range {
    Range {
        from: Height(from),
        to: Height(to),
    }
}

/// The record is what the chain holds and what our ticks give, and every tick's anchor path
/// leads to the anchored root.
async fn check_record(chain: &Chain, ticks: &Ticks, record: &AnchorRecord) {
    let hashes = ticks.hashes(record.range());
    assert_eq!(record.tick_hashes, hashes);
    assert_eq!(record.anchor.root, anchor_root(&hashes));
    assert_eq!(record.chain_id, chain.oracle.domain().chain_id);
    assert_eq!(record.contract, chain.oracle.domain().contract);
    assert_eq!(
        chain.oracle.root_at(record.anchor.to).await.unwrap(),
        Some(record.anchor.root)
    );
    let receipt = chain
        .oracle
        .provider()
        .get_transaction_receipt(record.tx_hash)
        .await
        .unwrap()
        .expect("the anchoring transaction is on chain");
    assert!(receipt.status());
    assert_eq!(receipt.block_number, Some(record.block_number));
    for h in record.anchor.from.0..=record.anchor.to.0 {
        let path = record.path(Height(h)).unwrap();
        assert_eq!(path.tick_hash, hashes[(h - record.anchor.from.0) as usize]);
        assert!(path.verifies(), "anchor path of height {h}");
    }
    assert!(record.path(Height(record.anchor.to.0 + 1)).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_consecutive_ranges_on_both_chains_in_round_robin_turns() {
    let net = network();
    let attestor = attestor(&net);
    let mut chains = Vec::new();
    for (name, id) in [
        ("ethereum", ETHEREUM_CHAIN_ID),
        ("polygon", POLYGON_CHAIN_ID),
    ] {
        let options = AnvilOptions {
            block_time: Some(1),
            ..AnvilOptions::new(id)
        };
        chains.push((name, Chain::start(options, &net).await));
    }
    let ticks = Ticks::new(net);
    let _producer = ticks.produce(Duration::from_millis(400));
    let mut running = Vec::new();
    for (name, chain) in &chains {
        let (rx, stop) = relayers(&chain.config(name, 3), &[0, 1, 2, 3], &ticks, &attestor);
        running.push((rx, stop));
    }
    for ((name, chain), (rx, _stop)) in chains.iter().zip(&mut running) {
        let mut events = Vec::new();
        collect(rx, &mut events, Duration::from_secs(90), "3 anchors", |e| {
            anchored_through(e, 9)
        })
        .await;
        let records = records(&events);
        let ranges: Vec<Range> = records.keys().copied().take(3).collect();
        assert_eq!(
            ranges,
            [range(1, 3), range(4, 6), range(7, 9)],
            "{name}: contiguous ranges of K = 3 from height 1"
        );
        for (index, r) in ranges.iter().enumerate() {
            let record = &records[r];
            check_record(chain, &ticks, record).await;
            // Range index i is node i's turn (4 nodes), and nobody else sent anything for it.
            let turn = index as u16 % 4;
            assert_eq!(record.sender, sender_address(turn), "{name}: range {r}");
            let sends = sent(&events, *r);
            assert_eq!(sends.len(), 1, "{name}: one transaction for {r}: {sends:?}");
            assert_eq!(sends[0].0, sender_address(turn));
            assert_eq!(sends[0].1.tx, record.tx_hash);
            assert_eq!(sends[0].1.bump, 0);
            // EIP-1559: a type-2 transaction with the fee caps the relayer chose.
            let tx = chain
                .oracle
                .provider()
                .get_transaction_by_hash(record.tx_hash)
                .await
                .unwrap()
                .unwrap();
            use alloy::consensus::Transaction as _;
            assert_eq!(tx.inner.tx_type() as u8, 2, "{name}: EIP-1559");
            assert_eq!(tx.max_fee_per_gas(), sends[0].1.fees.max_fee_per_gas);
        }
        assert!(chain.oracle.latest_height().await.unwrap().0 >= 9);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_takes_over_when_the_primary_never_sends() {
    let net = network();
    let attestor = attestor(&net);
    let options = AnvilOptions {
        block_time: Some(1),
        ..AnvilOptions::new(POLYGON_CHAIN_ID)
    };
    let chain = Chain::start(options, &net).await;
    let ticks = Ticks::new(net);
    let _producer = ticks.produce(Duration::from_millis(300));
    let mut config = chain.config("polygon", 3);
    let backup_delay = Duration::from_secs(3);
    config.backup_delay_ms = backup_delay.as_millis() as u64;
    // Node 0, whose turn the first range is, is down.
    let (mut rx, _stop) = relayers(&config, &[1, 2, 3], &ticks, &attestor);
    let mut events = Vec::new();
    collect(
        &mut rx,
        &mut events,
        Duration::from_secs(90),
        "3 anchors",
        |e| anchored_through(e, 9),
    )
    .await;
    let records = records(&events);
    for r in [range(1, 3), range(4, 6), range(7, 9)] {
        check_record(&chain, &ticks, &records[&r]).await;
    }
    // Range 0: node 1, the first backup, sent it, and not before one backup delay had passed
    // since the range became final.
    let first = sent(&events, range(1, 3));
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(first[0].0, sender_address(1));
    let waited = first[0].2 - ticks.final_at(Height(3));
    assert!(
        waited >= backup_delay,
        "the backup sent after only {waited:?}"
    );
    assert_eq!(records[&range(1, 3)].sender, sender_address(1));
    // Ranges 1 and 2 are nodes 1 and 2's own turns: no waiting for them.
    assert_eq!(records[&range(4, 6)].sender, sender_address(1));
    assert_eq!(records[&range(7, 9)].sender, sender_address(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anchoring_resumes_without_gaps_after_the_rpc_goes_down_and_comes_back() {
    let net = network();
    let attestor = attestor(&net);
    let dir = std::env::temp_dir().join(format!("tc-relayer-state-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let options = AnvilOptions {
        block_time: Some(1),
        state: Some(dir.join("state.json")),
        ..AnvilOptions::new(ETHEREUM_CHAIN_ID)
    };
    let mut chain = Chain::start(options, &net).await;
    let ticks = Ticks::new(net);
    let _producer = ticks.produce(Duration::from_millis(300));
    let mut config = chain.config("ethereum", 3);
    // Backups and fee-bump timeouts far beyond the outage: only the primary's own recovery
    // can resend the lost transaction in time.
    config.backup_delay_ms = 60_000;
    let tx_timeout = Duration::from_secs(30);
    config.tx_timeout_ms = tx_timeout.as_millis() as u64;
    let (mut rx, _stop) = relayers(&config, &[0, 1, 2, 3], &ticks, &attestor);
    let mut events = Vec::new();
    collect(
        &mut rx,
        &mut events,
        Duration::from_secs(60),
        "a first anchor",
        |e| anchored_through(e, 3),
    )
    .await;
    // Hold the next transaction in the pool, so the outage loses it (anvil's --state keeps
    // blocks and accounts, not pending transactions).
    chain
        .rpc("evm_setIntervalMining", serde_json::json!([0]))
        .await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let before = chain.oracle.latest_height().await.unwrap();
    let second = range(before.0 + 1, before.0 + 3);
    collect(
        &mut rx,
        &mut events,
        Duration::from_secs(30),
        "the next range sent",
        |e| !sent(e, second).is_empty(),
    )
    .await;
    let (primary, lost, _) = sent(&events, second)[0];
    let pending = lost.tx;
    let tx = chain
        .oracle
        .provider()
        .get_transaction_by_hash(pending)
        .await
        .unwrap()
        .expect("the next anchor waits in the pool");
    assert_eq!(tx.block_number, None, "not mined before the outage");

    let endpoint = chain.anvil.endpoint();
    let old_pid = chain.anvil.pid();
    chain.anvil.stop().unwrap();
    let addr: std::net::SocketAddr = endpoint.trim_start_matches("http://").parse().unwrap();
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "the RPC must really be down"
    );
    let down_at_height = ticks.final_height().await.unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let restarting = Instant::now();
    chain.anvil.restart().unwrap();
    assert_eq!(
        chain.anvil.endpoint(),
        endpoint,
        "same port after the restart"
    );
    assert_ne!(chain.anvil.pid(), old_pid);
    // The chain kept its blocks, and lost the pending transaction.
    assert_eq!(chain.oracle.latest_height().await.unwrap(), before);
    assert!(
        chain
            .oracle
            .provider()
            .get_transaction_by_hash(pending)
            .await
            .unwrap()
            .is_none()
    );

    let target = down_at_height.0 + 12;
    collect(
        &mut rx,
        &mut events,
        Duration::from_secs(120),
        "anchors past the outage",
        |e| anchored_through(e, target),
    )
    .await;
    let records = records(&events);
    // The lost transaction was resent as soon as the chain answered, not after the timeout.
    let resent = sent(&events, second)
        .into_iter()
        .find(|(who, attempt, _)| *who == primary && attempt.tx != lost.tx)
        .unwrap_or_else(|| {
            panic!(
                "the lost range {second} was not sent again after the restart: {:#?}",
                sent(&events, second)
            )
        });
    assert!(
        resent.2 - restarting < tx_timeout / 2,
        "resent {:?} after the restart began",
        resent.2 - restarting
    );
    assert_eq!(resent.1.nonce, lost.nonce, "the same nonce, sent again");
    assert!(records.contains_key(&second));
    let mut next = 1;
    for (r, record) in &records {
        assert_eq!(r.from.0, next, "nothing skipped: {:?}", records.keys());
        assert_eq!(r.len(), 3);
        check_record(&chain, &ticks, record).await;
        next = r.to.0 + 1;
    }
    // Each range is on chain exactly once.
    for (to, count) in chain.anchored_events().await {
        assert_eq!(count, 1, "range ending at {to} anchored {count} times");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_transaction_is_fee_bumped_and_a_duplicate_is_harmless() {
    let net = network();
    let attestor = attestor(&net);
    let options = AnvilOptions {
        block_time: Some(1),
        ..AnvilOptions::new(POLYGON_CHAIN_ID)
    };
    let chain = Chain::start(options, &net).await;
    // Nothing is mined until the test says so.
    chain
        .rpc("evm_setIntervalMining", serde_json::json!([0]))
        .await;
    let ticks = Ticks::new(net);
    let _producer = ticks.produce(Duration::from_millis(200));
    let mut config = chain.config("polygon", 3);
    config.tx_timeout_ms = 1_500;
    config.backup_delay_ms = 2_500;
    // Node 0's turn; node 1 is its first backup and will send a duplicate while node 0's
    // transaction is stuck.
    let (mut rx, _stop) = relayers(&config, &[0, 1], &ticks, &attestor);
    let first = range(1, 3);
    let mut events = Vec::new();
    collect(
        &mut rx,
        &mut events,
        Duration::from_secs(60),
        "a fee bump and a duplicate",
        |e| {
            let s = sent(e, first);
            s.iter()
                .any(|(who, a, _)| *who == sender_address(0) && a.bump >= 1)
                && s.iter().any(|(who, _, _)| *who == sender_address(1))
        },
    )
    .await;
    let ours: Vec<_> = sent(&events, first)
        .into_iter()
        .filter(|(who, _, _)| *who == sender_address(0))
        .collect();
    let (original, bumped) = (ours[0].1, ours[1].1);
    assert_eq!(original.bump, 0);
    assert_eq!(
        bumped.nonce, original.nonce,
        "a replacement reuses the nonce"
    );
    assert!(bumped.fees.max_fee_per_gas >= original.fees.max_fee_per_gas * 125 / 100);
    assert!(
        bumped.fees.max_priority_fee_per_gas > original.fees.max_priority_fee_per_gas,
        "{original:?} -> {bumped:?}"
    );
    // Not before the 1.5 s timeout (less the time the first send itself took).
    assert!(ours[1].2 - ours[0].2 >= Duration::from_millis(1_300));

    chain
        .rpc("evm_setIntervalMining", serde_json::json!([1]))
        .await;
    collect(
        &mut rx,
        &mut events,
        Duration::from_secs(60),
        "anchors after mining resumed",
        |e| anchored_through(e, 6),
    )
    .await;
    let records = records(&events);
    check_record(&chain, &ticks, &records[&first]).await;
    check_record(&chain, &ticks, &records[&range(4, 6)]).await;
    let provider = chain.oracle.provider();
    // The original was replaced: it never reaches the chain.
    assert!(
        provider
            .get_transaction_receipt(original.tx)
            .await
            .unwrap()
            .is_none(),
        "the replaced attempt must not be mined"
    );
    // Every transaction that was mined for the first range, except the one that anchored it,
    // reverted as a duplicate; the range is on chain exactly once.
    let mut mined = 0;
    for (_, attempt, _) in sent(&events, first) {
        if let Some(receipt) = provider.get_transaction_receipt(attempt.tx).await.unwrap() {
            mined += 1;
            assert_eq!(
                receipt.status(),
                attempt.tx == records[&first].tx_hash,
                "{attempt:?}"
            );
        }
    }
    assert_eq!(
        mined, 2,
        "node 0's replacement and node 1's duplicate were both mined"
    );
    assert_eq!(chain.anchored_events().await.get(&3), Some(&1));
    // Both relayers count the first range as done: one delivered it, the other saw it anchored.
    let done: Vec<&RelayEvent> = events
        .iter()
        .map(|(e, _)| e)
        .filter(|e| {
            matches!(e, RelayEvent::Delivered { range, .. } | RelayEvent::AlreadyAnchored { range, .. } if *range == first)
        })
        .collect();
    assert_eq!(done.len(), 2, "{done:#?}");
}
