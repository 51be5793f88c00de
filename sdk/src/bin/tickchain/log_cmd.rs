//! `tickchain log` and `tickchain device-key`: a device's per-second signed, hash-chained log
//! (`specs/devicelog.md`), stamped through a node once per second.

use crate::Failure;
use crate::log_input::{self, Item, QUEUE, Source};
use crate::text::{read_genesis, second};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{RecvTimeoutError, sync_channel};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tickchain_sdk::client::Client;
use tickchain_sdk::devicelog::{DeviceLog, StampEvent, Stamper};
use tickchain_sdk::{Network, Second, UtcNanos, keys, signing};

/// What `tickchain log` was asked to do.
pub struct LogArgs {
    /// The device's key file.
    pub key: PathBuf,
    /// The log file.
    pub out: PathBuf,
    /// The node's API.
    pub api: String,
    /// Verify each proof against this genesis before writing it.
    pub genesis: Option<PathBuf>,
    /// Follow this file instead of reading standard input.
    pub follow: Option<PathBuf>,
    /// Read UDP datagrams on this address instead.
    pub udp: Option<SocketAddr>,
    /// Stop after this long without a new record (and once the pending proofs are written).
    pub idle_exit: Option<Duration>,
}

/// Creates a device key at `path` (mode 0600) or prints the public key of the one there.
pub fn device_key(path: &Path) -> Result<(), Failure> {
    let bad = |e: keys::KeyError| Failure::BadInput(e.to_string());
    if path.exists() {
        let key = keys::read_secret(path).map_err(bad)?;
        println!("{}", signing::public_key(&key));
        return Ok(());
    }
    let key = keys::generate().map_err(bad)?;
    keys::write_secret(path, &key).map_err(bad)?;
    eprintln!("wrote {} (mode 0600); its public key:", path.display());
    println!("{}", signing::public_key(&key));
    Ok(())
}

/// Logs records until the input ends (or stays idle), stamping the head once per second.
pub fn run(args: LogArgs) -> Result<(), Failure> {
    let key = keys::read_secret(&args.key).map_err(|e| Failure::BadInput(e.to_string()))?;
    let network = match &args.genesis {
        Some(g) => Some(Network::new(read_genesis(g)?)),
        None => None,
    };
    let fail = |e: tickchain_sdk::devicelog::WriteError| Failure::BadInput(e.to_string());
    let mut log = DeviceLog::open(&args.out).map_err(fail)?;
    if let Some((len, aside)) = log.cut_at_open() {
        eprintln!(
            "cut a torn tail of {len} bytes from {} (a write cut short; kept in {})",
            args.out.display(),
            aside.display()
        );
    }
    let chain = log.chain_for(key).map_err(fail)?;
    let device = log.device(chain).expect("chain_for returned it");
    eprintln!(
        "logging device {device} to {} from seq {}",
        args.out.display(),
        log.next_seq(chain)
    );
    let source = match (&args.follow, args.udp) {
        (Some(_), Some(_)) => {
            return Err(Failure::BadInput(
                "give one input: --follow FILE or --udp ADDR (or neither, for standard input)"
                    .into(),
            ));
        }
        (Some(file), None) => Source::Follow(file.clone(), log.cursor(chain).unwrap_or(0)),
        (None, Some(addr)) => Source::Udp(addr),
        (None, None) => Source::Stdin,
    };
    let (tx, rx) = sync_channel(QUEUE);
    log_input::spawn(source, tx).map_err(Failure::BadInput)?;

    // Short calls: the loop that syncs records must not wait long on a silent node.
    let client = Client::with_timeout(&args.api, Duration::from_secs(5));
    let mut stamper = Stamper::new(client, network);
    let mut last_input = Instant::now();
    let mut next = next_second();
    loop {
        let wait = next.saturating_duration_since(Instant::now());
        let ended = match rx.recv_timeout(wait) {
            Ok(Item::Record(payload, cursor)) => {
                log.append(chain, &payload, now_utc(), cursor)
                    .map_err(fail)?;
                last_input = Instant::now();
                false
            }
            Ok(Item::Failed(e)) => {
                let _ = stamper.step(&mut log, now_second());
                return Err(Failure::BadInput(format!("input: {e}")));
            }
            Ok(Item::End) | Err(RecvTimeoutError::Disconnected) => true,
            Err(RecvTimeoutError::Timeout) => false,
        };
        let idle = args
            .idle_exit
            .is_some_and(|limit| last_input.elapsed() >= limit);
        if Instant::now() >= next || ended || idle {
            for e in stamper.step(&mut log, now_second()).map_err(fail)? {
                report(&e);
            }
            next = next_second();
        }
        if ended || idle {
            stamper
                .drain(&mut log, Duration::from_secs(30), now_second, report)
                .map_err(fail)?;
            if stamper.pending() > 0 {
                return Err(Failure::BadInput(format!(
                    "{} stamp(s) not final after 30 s; the records are logged and the next run \
                     stamps them",
                    stamper.pending()
                )));
            }
            eprintln!(
                "stopped: {} records in {}",
                log.next_seq(chain),
                args.out.display()
            );
            return Ok(());
        }
    }
}

fn report(e: &StampEvent) {
    match e {
        StampEvent::Submitted { .. } => {}
        StampEvent::Stamped {
            digest,
            second: s,
            height,
        } => println!("stamped  {digest}  tick {height} for {}", second(s.0)),
        StampEvent::Dropped { digest, reason } => eprintln!("dropped  {digest}: {reason}"),
        StampEvent::NodeError(e) => eprintln!("node error (will retry): {e}"),
    }
}

/// This machine's clock, since the Unix epoch.
fn since_epoch() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// The instant of the next whole UTC second on this machine's clock.
fn next_second() -> Instant {
    Instant::now() + Duration::from_nanos(1_000_000_000 - u64::from(since_epoch().subsec_nanos()))
}

fn now_utc() -> UtcNanos {
    UtcNanos(i64::try_from(since_epoch().as_nanos()).unwrap_or(i64::MAX))
}

fn now_second() -> Second {
    Second(since_epoch().as_secs())
}
