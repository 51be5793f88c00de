//! The running node (`timenode run`): [`Node::open`] restores the stores, keys and the core's
//! persisted state; [`Node::run`] starts the transport, clock, pool, API and anchoring and runs
//! the event loop ([`shell`]), whose peer input goes through one dispatch
//! (`Shell::on_peer_bytes`) and whose core output goes through one executor ([`driver`]).
//!
//! Owns: the wiring of a node's parts, their start and stop order, and reopening them in the
//! same process once space returns after the disk filled under the node. Never: protocol
//! decisions (the consensus core makes them), encodings of its own (`tickchain-consensus` and the
//! sdk own every byte), or I/O inside the core.

pub mod anchoring;
pub mod api_handle;
mod budget;
pub mod clock;
mod driver;
pub mod failpoint;
mod fetch_server;
pub mod records;
mod shell;
pub mod timers;

pub use driver::PRUNE_EVERY_TICKS;

use crate::config::NodeConfig;
use crate::net::{Transport, TransportConfig};
use crate::pool::{Pool, PoolError};
use crate::store::{ChainStore, Store, StoreError};
use api_handle::{LiveStatus, NodeApi};
use clock::NodeClock;
use shell::Shell;
use std::future::Future;
use std::sync::Arc;
use tickchain_api::TickSummary;
use tickchain_consensus::Core;
use tickchain_consensus::config::Context;
use tickchain_consensus::crypto::Verifier;
use tickchain_consensus::io::Input;
use tickchain_consensus::persist::Persisted;
use tickchain_sdk::{Genesis, Height, NodeId, Second, keys};
use tokio::task::JoinSet;
use tracing::info;

/// Why the node could not start or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The configuration lacks what `run` needs.
    #[error("config: {0}")]
    Config(String),
    /// The key file could not be used.
    #[error(transparent)]
    Key(#[from] keys::KeyError),
    /// The genesis file could not be used.
    #[error("genesis {path}: {reason}")]
    Genesis {
        /// The file.
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// The store failed; the node stops rather than act on state it could not persist.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored record does not decode.
    #[error(transparent)]
    Record(#[from] records::RecordError),
    /// The request pool failed.
    #[error(transparent)]
    Pool(#[from] PoolError),
    /// The API could not listen on its address.
    #[error("api: cannot listen on {address}: {source}")]
    ApiListen {
        /// The configured `[api] listen` address.
        address: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The transport could not start.
    #[error(transparent)]
    Transport(#[from] crate::net::TransportError),
    /// A socket error.
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
    /// The consensus thread ended without a result (it panicked); the node stops.
    #[error("the consensus thread stopped without a result (it panicked)")]
    ConsensusThread,
    /// Two final ticks at one height, each with a valid certificate: more than f members are
    /// faulty. The evidence is in the store's `evidence` tree; the node stops (fail-stop).
    #[error(
        "conflicting final ticks at height {height}: more than f ring members are faulty; the \
         evidence is kept in the node's store (tree `evidence`)"
    )]
    ConflictingFinality {
        /// The height of the conflict.
        height: Height,
    },
    /// The record log and the chain store disagree in a way no crash can explain.
    #[error("store is inconsistent: {0}")]
    Inconsistent(String),
}

impl NodeError {
    /// Whether the node's storage failed (sled, the chain store or the pool).
    pub fn is_storage(&self) -> bool {
        matches!(self, NodeError::Store(_) | NodeError::Pool(_))
    }
}

/// A tick this node saw become final.
#[derive(Debug, Clone, PartialEq)]
pub struct FinalEvent {
    /// The tick's height.
    pub height: tickchain_sdk::Height,
    /// The tick's second.
    pub second: tickchain_sdk::Second,
    /// From the start of the tick's second to the moment this node stored it as final, on this
    /// node's clock.
    pub lag: tickchain_sdk::Nanos,
    /// Whether the tick has its own finality certificate.
    pub certified: bool,
}

/// A node whose keys, genesis and stores are open and whose consensus state is restored, ready
/// to [`run`](Node::run).
pub struct Node {
    config: NodeConfig,
    me: NodeId,
    key: ed25519_dalek::SigningKey,
    genesis: Genesis,
    store: Store,
    persisted: Persisted,
    tip: Option<(Height, Second)>,
}

impl Node {
    /// Reads the key and genesis named by `[node]`, finds this node in genesis, opens the sled
    /// store and replays the persisted consensus records.
    pub fn open(config: NodeConfig) -> Result<Node, NodeError> {
        let section = config
            .node
            .clone()
            .ok_or_else(|| NodeError::Config("`timenode run` needs a [node] section".into()))?;
        let (key, genesis, me) = read_identity(&section, "no node has the key", |g, public| {
            g.nodes
                .iter()
                .position(|n| n.public_key.0 == *public)
                .map(|i| NodeId(i as u16))
        })?;
        let store = Store::open(&section.data_dir)?;
        let mut persisted = Persisted::default();
        for (_, bytes) in store.records()? {
            persisted.apply(&records::decode(&bytes)?);
        }
        let tip = reconcile(&store, &genesis, &persisted)?;
        info!(node = %me, view = %persisted.highest_view(), tip = ?tip, "restored state");
        Ok(Node {
            config,
            me,
            key,
            genesis,
            store,
            persisted,
            tip,
        })
    }

    /// Joins the ring and serves the API until `shutdown` completes, publishing every final
    /// tick on `events` if given; then stops the API, anchoring, pool, clock and transport.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()>,
        events: Option<tokio::sync::broadcast::Sender<FinalEvent>>,
    ) -> Result<(), NodeError> {
        let Node {
            config,
            me,
            key,
            genesis,
            store,
            persisted,
            tip,
        } = self;
        let section = config.node.as_ref().expect("checked by open");
        let listen = match section.listen {
            Some(a) => a,
            None => genesis.nodes[me.index()].address.parse().map_err(|e| {
                NodeError::Config(format!(
                    "genesis address of node {me} is not HOST:PORT: {e}"
                ))
            })?,
        };
        let socket = std::net::UdpSocket::bind(listen)?;
        let (transport, inbound) = Transport::start(
            me,
            &key,
            genesis.clone(),
            socket,
            TransportConfig::default(),
        )?;

        let mut background = JoinSet::new();
        let clock = NodeClock::start(&config, &mut background);
        let ntp_stats = Arc::new(crate::facade_stats::FacadeCounters::default());
        let roughtime_stats = Arc::new(crate::facade_stats::FacadeCounters::default());
        let tsa_stats = Arc::new(crate::facade_stats::FacadeCounters::default());
        let anchor_names = anchoring::ChainNames::default();
        let tsa = crate::tsa::Tsa::open(&config.tsa, &genesis, tsa_stats.clone())
            .map_err(|e| NodeError::Config(format!("[tsa]: {e}")))?
            .map(Arc::new);
        let ntp = crate::ntp::NtpServer::start(&config.ntp, clock.clone(), ntp_stats.clone())
            .map_err(|e| {
                NodeError::Config(format!("cannot serve NTP on {:?}: {e}", config.ntp.listen))
            })?;
        let (ticks_tx, _) = tokio::sync::broadcast::channel::<TickSummary>(1024);
        let roughtime = crate::roughtime::RoughtimeServer::start(
            &config.roughtime,
            clock.clone(),
            key.clone(),
            ticks_tx.subscribe(),
            roughtime_stats.clone(),
        )
        .map_err(|e| {
            NodeError::Config(format!(
                "cannot serve Roughtime on {:?}: {e}",
                config.roughtime.listen
            ))
        })?;
        let names: Vec<String> = genesis.nodes.iter().map(|n| n.name.clone()).collect();
        let peer_sources = clock.add_peers(&names, me.index());
        let pool_clock = clock.clone();
        let opened = Pool::open(
            &store,
            &key,
            me,
            genesis.hash,
            &config.pool,
            Arc::new(move || pool_clock.read().mid()),
        )?;
        let pool = opened.pool;
        pool.set_batch_window(config.consensus.core_config().batch_max_age);
        let live = Arc::new(LiveStatus::default());
        let api = Arc::new(NodeApi {
            me,
            genesis: genesis.clone(),
            key: key.clone(),
            clock: clock.clone(),
            store: store.clone(),
            pool: pool.clone(),
            ticks: ticks_tx.clone(),
            live: live.clone(),
            facades: vec![
                ("ntp", ntp_stats),
                ("roughtime", roughtime_stats),
                ("tsa", tsa_stats),
            ],
            tsa,
            anchor_names: anchor_names.clone(),
        });
        let api = ApiServer::start(&config, api)?;
        let (anchor_stop, anchor_stopped) = tokio::sync::watch::channel(false);
        let anchoring = match &config.anchor {
            Some(section) => Some(
                anchoring::start(
                    section,
                    &store,
                    &genesis,
                    me,
                    anchor_names.clone(),
                    anchor_stopped,
                )
                .map_err(NodeError::Config)?,
            ),
            None => None,
        };
        let ctx = Context::new(
            me,
            key,
            Verifier::new(genesis.clone()),
            config.consensus.core_config(),
        );
        let core = Core::new(ctx, &persisted);
        let driver = driver::Driver {
            store: store.clone(),
            transport,
            timers: timers::Timers::default(),
            tip: tip.map(|(h, _)| h.0).unwrap_or(0),
            genesis: genesis.clone(),
            me,
            events,
            pool: pool.clone(),
            ticks: ticks_tx,
            live,
            pruning: Default::default(),
            evidence_writes: Default::default(),
        };
        // Gateways fetch final ticks too (to fill gaps in their chain), within their budgets.
        let fetches = fetch_server::FetchServer::start(
            genesis.n(),
            genesis.batch_signers(),
            store.clone(),
            driver.transport.sender(),
        )?;
        let mut shell = Shell {
            limits: shell::PeerLimits::new(genesis.batch_signers(), fetches),
            core,
            driver,
            clock,
            peer_sources,
            anchoring,
            genesis,
        };
        shell.input(Input::Start)?;
        for batch in opened.unconfirmed {
            shell.input(Input::Batch(batch))?;
        }
        let poll_ms = config.clock.poll_interval_ms;
        let ran = on_own_thread(shell, poll_ms, inbound, opened.sealed, shutdown).await;
        info!(node = %me, "shutting down");
        let _ = anchor_stop.send(true);
        api.stop().await;
        pool.stop();
        drop(ntp);
        drop(roughtime);
        background.shutdown().await;
        // A panicked consensus thread took the transport with it; the rest is stopped above.
        let (shell, result) = ran?;
        shell.driver.transport.shutdown().await;
        result
    }
}

/// Reads `[node]`'s key and genesis and finds this process's id in the genesis with `find`
/// (given the key's public half); `missing` starts the error when it finds none.
pub(crate) fn read_identity(
    section: &crate::config::NodeSection,
    missing: &str,
    find: impl FnOnce(&Genesis, &[u8; 32]) -> Option<NodeId>,
) -> Result<(ed25519_dalek::SigningKey, Genesis, NodeId), NodeError> {
    let key = keys::read_secret(&section.key_file)?;
    let genesis_error = |reason: String| NodeError::Genesis {
        path: section.genesis_file.display().to_string(),
        reason,
    };
    let text =
        std::fs::read_to_string(&section.genesis_file).map_err(|e| genesis_error(e.to_string()))?;
    let genesis = Genesis::from_json(&text).map_err(|e| genesis_error(e.to_string()))?;
    let me = find(&genesis, &key.verifying_key().to_bytes())
        .ok_or_else(|| genesis_error(format!("{missing} in {}", section.key_file.display())))?;
    Ok((key, genesis, me))
}

/// The Timestamp API, serving on its own runtime until [`ApiServer::stop`].
pub(crate) struct ApiServer {
    runtime: IntakeRuntime,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    stop: tokio::sync::oneshot::Sender<()>,
}

impl ApiServer {
    /// Binds `[api] listen` and serves `handle` there.
    pub(crate) fn start(config: &NodeConfig, handle: Arc<NodeApi>) -> Result<ApiServer, NodeError> {
        let address = config.api.listen;
        let listener = std::net::TcpListener::bind(address)
            .map_err(|source| NodeError::ApiListen { address, source })?;
        listener.set_nonblocking(true)?;
        info!(node = %handle.me, api = %listener.local_addr()?, "timestamp API listening");
        let runtime = intake_runtime()?;
        // Registered with the API runtime's reactor here, so a failure stops the start.
        let listener = runtime.enter(|| tokio::net::TcpListener::from_std(listener))?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = runtime.spawn(tickchain_api::serve(
            listener,
            handle,
            config.api.clone(),
            async move {
                let _ = stopped.await;
            },
        ));
        Ok(ApiServer {
            runtime,
            task,
            stop,
        })
    }

    /// Stops serving and waits for the API's tasks, proof reads included.
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
        self.runtime.close().await;
    }
}

/// The runtime the Timestamp API runs on: as many workers as cores, every thread of it (workers
/// and blocking threads, which read proofs) at [`crate::priority::INTAKE_NICE`], so requests
/// use every idle cycle but yield to the consensus thread and the transport, which stay on
/// the node's own runtime at the process's priority (issue 13, finding 8).
fn intake_runtime() -> std::io::Result<IntakeRuntime> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(std::thread::available_parallelism().map_or(2, |n| n.get()))
        .thread_name("api")
        .on_thread_start(|| crate::priority::lower_this_thread(crate::priority::INTAKE_NICE))
        .enable_all()
        .build()?;
    Ok(IntakeRuntime(Some(runtime)))
}

/// The API's runtime, stopped without blocking the node's own runtime: [`IntakeRuntime::close`]
/// waits for its tasks off the async threads; dropped without it (a node that fails to start
/// after the API did), it stops in the background.
struct IntakeRuntime(Option<tokio::runtime::Runtime>);

impl IntakeRuntime {
    fn spawn<F>(&self, task: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.0.as_ref().expect("open until closed").spawn(task)
    }

    /// Runs `f` inside the runtime's context (to register I/O with its reactor).
    fn enter<T>(&self, f: impl FnOnce() -> T) -> T {
        let _guard = self.0.as_ref().expect("open until closed").enter();
        f()
    }

    /// Stops the runtime once its blocking tasks (proof reads) are done, so nothing of the API
    /// holds the store when the node returns.
    async fn close(mut self) {
        if let Some(runtime) = self.0.take() {
            let _ = tokio::task::spawn_blocking(move || drop(runtime)).await;
        }
    }
}

impl Drop for IntakeRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// Runs the consensus event loop on a thread of its own with a single-threaded runtime, so
/// intake (HTTP handlers, the pool, proof reads) on the node's main runtime cannot delay a
/// vote or a timer (issue 13, finding 8); returns the shell and the loop's result once it
/// stops (when `shutdown` completes here, or on an error there).
async fn on_own_thread(
    mut shell: Shell,
    poll_ms: u64,
    inbound: crate::net::InboundQueue,
    sealed: tokio::sync::mpsc::UnboundedReceiver<tickchain_sdk::Batch>,
    shutdown: impl Future<Output = ()>,
) -> Result<(Shell, Result<(), NodeError>), NodeError> {
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("consensus".into())
        .spawn(move || {
            let result = runtime.block_on(shell.run(poll_ms, inbound, sealed, async {
                let _ = stop_rx.await;
            }));
            let _ = done_tx.send((shell, result));
        })?;
    tokio::pin!(shutdown);
    let mut done_rx = done_rx;
    tokio::select! {
        done = &mut done_rx => {
            return done.map_err(|_| NodeError::ConsensusThread);
        }
        _ = &mut shutdown => {}
    }
    let _ = stop_tx.send(());
    done_rx.await.map_err(|_| NodeError::ConsensusThread)
}

/// Brings the chain store level with the record log after a crash and returns the chain's tip.
///
/// A final tick is made durable twice, first as a record (with the votes it depends on), then in
/// the chain; a process that dies between the two restarts with the core's newest final tick
/// one above the chain's tip. That tick is appended here, after checking that it extends the
/// stored tip, so the next final tick follows it (`specs/consensus.md` §9).
fn reconcile(
    store: &Store,
    genesis: &Genesis,
    persisted: &Persisted,
) -> Result<Option<(Height, Second)>, NodeError> {
    let tip = store.tip()?;
    let Some(t) = &persisted.finalized else {
        return Ok(tip);
    };
    let stored = tip.map_or(0, |(h, _)| h.0);
    if t.tick.height.0 <= stored {
        return Ok(tip);
    }
    let parent = match tip {
        None => genesis.hash,
        Some((h, _)) => {
            let bytes = store.final_at(h)?.ok_or_else(|| {
                NodeError::Inconsistent(format!("the chain's tip at height {} is missing", h.0))
            })?;
            records::decode_final(&bytes)?.tick.hash(&genesis.hash)
        }
    };
    if t.tick.height.0 != stored + 1 || t.tick.prev_hash != parent {
        return Err(NodeError::Inconsistent(format!(
            "the record log's final tick at height {} does not extend the chain's tip at height              {stored}",
            t.tick.height.0
        )));
    }
    let hash = t.tick.hash(&genesis.hash);
    store.append_final(
        t.tick.height,
        t.tick.second,
        &hash,
        &records::encode_final(t),
    )?;
    info!(
        height = t.tick.height.0,
        "recovered a final tick that reached the record log but not the chain before a crash"
    );
    Ok(store.tip()?)
}

/// Runs the node described by `config` until `shutdown` completes.
pub async fn run(config: NodeConfig, shutdown: impl Future<Output = ()>) -> Result<(), NodeError> {
    run_observed(config, shutdown, None).await
}

/// Like [`run`], also publishing every final tick on `events`.
///
/// A node whose storage fails while its disk is full stops everything, waits until the disk
/// has its reserve free again, and reopens from what is durable (as a restart would), instead of
/// exiting into a supervisor's restart loop (`specs/pool.md` §2).
pub async fn run_observed(
    config: NodeConfig,
    shutdown: impl Future<Output = ()>,
    events: Option<tokio::sync::broadcast::Sender<FinalEvent>>,
) -> Result<(), NodeError> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let work = async {
        loop {
            let data_dir = config.node.as_ref().map(|n| n.data_dir.clone());
            let resume_at = crate::pool::disk::resume_bytes(config.pool.min_free_bytes);
            if let Some(dir) = &data_dir
                && !crate::pool::disk::wait_for_space(dir, resume_at, stop_rx.clone()).await
            {
                return Ok(()); // shut down while waiting
            }
            let mut stopped = stop_rx.clone();
            let result = match Node::open(config.clone()) {
                Ok(node) => {
                    node.run(
                        async move {
                            let _ = stopped.wait_for(|s| *s).await;
                        },
                        events.clone(),
                    )
                    .await
                }
                Err(e) => Err(e),
            };
            match (result, &data_dir) {
                (Err(e), Some(dir))
                    if e.is_storage()
                        && !*stop_rx.borrow()
                        && crate::pool::disk::free_bytes(dir).is_ok_and(|f| f < resume_at) =>
                {
                    tracing::error!(error = %e, free_needed = resume_at,
                        "storage failed with the disk full; the node stopped and reopens once space is free");
                }
                (result, _) => return result,
            }
        }
    };
    tokio::pin!(work);
    tokio::pin!(shutdown);
    tokio::select! {
        result = &mut work => result,
        _ = &mut shutdown => {
            let _ = stop_tx.send(true);
            work.await
        }
    }
}
