//! A local EVM chain: one `anvil` process (npm `@foundry-rs/anvil`) on a loopback port, for
//! tests, examples and the local testnet.
//!
//! Owns: starting anvil with its pid recorded, polling until its RPC answers, stopping it (SIGTERM
//! by pid, so `--state` is written) and restarting it on the same port, and killing it by pid
//! when dropped (also while a test panics). Never: listens beyond 127.0.0.1, or skips when anvil
//! is missing (that is an error telling you to run `scripts/install-npm`).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Chain id anvil uses for the Ethereum stand-in.
pub const ETHEREUM_CHAIN_ID: u64 = 31337;
/// Polygon PoS's chain id, used by the Polygon stand-in.
pub const POLYGON_CHAIN_ID: u64 = 137;
/// Private key of anvil's funded dev account #0 (public knowledge; local chains only).
pub const DEV_KEY_0: [u8; 32] = [
    0xac, 0x09, 0x74, 0xbe, 0xc3, 0x9a, 0x17, 0xe3, 0x6b, 0xa4, 0xa6, 0xb4, 0xd2, 0x38, 0xff, 0x94,
    0x4b, 0xac, 0xb4, 0x78, 0xcb, 0xed, 0x5e, 0xfc, 0xae, 0x78, 0x4d, 0x7b, 0xf4, 0xf2, 0xff, 0x80,
];
/// How long anvil may take to answer its first RPC call (it usually needs ~0.3 s).
const READY_TIMEOUT: Duration = Duration::from_secs(15);
/// Environment variable that overrides where the anvil binary is.
pub const ANVIL_ENV: &str = "TICKCHAIN_ANVIL";

/// Why a local chain could not be started.
#[derive(Debug, thiserror::Error)]
pub enum AnvilError {
    /// No anvil binary where it was expected.
    #[error("anvil not found at {path}: run scripts/install-npm (or set {ANVIL_ENV})")]
    Missing {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// The process could not be started.
    #[error("starting {path}: {source}")]
    Spawn {
        /// The binary.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// anvil exited before its RPC answered.
    #[error("anvil (pid {pid}) on port {port} exited before answering: {status}")]
    Exited {
        /// Its pid.
        pid: u32,
        /// The port it was given.
        port: u16,
        /// Its exit status.
        status: std::process::ExitStatus,
    },
    /// anvil did not answer `eth_chainId` in time.
    #[error("anvil (pid {pid}) on port {port} did not answer within {waited:?}")]
    NotReady {
        /// Its pid.
        pid: u32,
        /// The port.
        port: u16,
        /// How long we waited.
        waited: Duration,
    },
    /// No free loopback port could be reserved.
    #[error("reserving a loopback port: {0}")]
    Port(std::io::Error),
    /// Stopping anvil by pid failed.
    #[error("stopping anvil (pid {pid}): {reason}")]
    Stop {
        /// Its pid.
        pid: u32,
        /// What went wrong.
        reason: String,
    },
}

/// How to start a local chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnvilOptions {
    /// The chain id (`--chain-id`).
    pub chain_id: u64,
    /// Seconds between blocks (`--block-time`); `None` mines one block per transaction.
    pub block_time: Option<u64>,
    /// A state file (`--state`): loaded at start if it exists, written when stopped with
    /// SIGTERM, so a restarted chain continues where it stopped.
    pub state: Option<PathBuf>,
}

impl AnvilOptions {
    /// Automining (a block per transaction), no state file.
    pub fn new(chain_id: u64) -> AnvilOptions {
        AnvilOptions {
            chain_id,
            block_time: None,
            state: None,
        }
    }
}

/// A running anvil process, killed (by pid) when dropped.
#[derive(Debug)]
pub struct Anvil {
    child: Option<Child>,
    pid: u32,
    port: u16,
    chain_id: u64,
    path: PathBuf,
    options: AnvilOptions,
}

impl Anvil {
    /// Where the anvil binary is: `$TICKCHAIN_ANVIL`, else the native binary that
    /// `scripts/install-npm` puts in the workspace's `node_modules` for this platform. Not
    /// `node_modules/.bin/anvil`: that is a node wrapper, and killing the wrapper's pid would
    /// orphan the real anvil.
    pub fn binary() -> PathBuf {
        if let Some(p) = std::env::var_os(ANVIL_ENV) {
            return PathBuf::from(p);
        }
        let os = match std::env::consts::OS {
            "macos" => "darwin",
            "windows" => "win32",
            other => other,
        };
        let arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            other => other,
        };
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!(
            "../node_modules/@foundry-rs/anvil-{os}-{arch}/bin/anvil"
        ))
    }

    /// Starts `Anvil::binary()` with `chain_id` on a free loopback port and waits until its RPC
    /// answers.
    pub fn spawn(chain_id: u64) -> Result<Anvil, AnvilError> {
        Anvil::spawn_binary(&Anvil::binary(), chain_id)
    }

    /// Starts the anvil at `path` with `chain_id` on a free loopback port and waits until its
    /// RPC answers.
    pub fn spawn_binary(path: &Path, chain_id: u64) -> Result<Anvil, AnvilError> {
        Anvil::spawn_with(path, AnvilOptions::new(chain_id))
    }

    /// Starts `Anvil::binary()` with `options` on a free loopback port and waits until its RPC
    /// answers.
    pub fn start(options: AnvilOptions) -> Result<Anvil, AnvilError> {
        Anvil::spawn_with(&Anvil::binary(), options)
    }

    fn spawn_with(path: &Path, options: AnvilOptions) -> Result<Anvil, AnvilError> {
        if !path.is_file() {
            return Err(AnvilError::Missing {
                path: path.to_path_buf(),
            });
        }
        // The port is free when reserved but could be taken before anvil binds it: retry.
        let mut last = None;
        for _ in 0..3 {
            let mut anvil = Anvil {
                child: None,
                pid: 0,
                port: free_port()?,
                chain_id: options.chain_id,
                path: path.to_path_buf(),
                options: options.clone(),
            };
            match anvil.launch() {
                Ok(()) => return Ok(anvil),
                Err(e @ AnvilError::Exited { .. }) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.expect("the loop ran at least once"))
    }

    fn launch(&mut self) -> Result<(), AnvilError> {
        let mut cmd = Command::new(&self.path);
        cmd.args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--chain-id", &self.chain_id.to_string(), "--silent"]);
        if let Some(secs) = self.options.block_time {
            cmd.args(["--block-time", &secs.to_string()]);
        }
        if let Some(state) = &self.options.state {
            cmd.arg("--state").arg(state);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|source| AnvilError::Spawn {
                path: self.path.clone(),
                source,
            })?;
        self.pid = child.id();
        self.child = Some(child);
        self.wait_ready()
    }

    /// Stops the chain: SIGTERM by pid (anvil then writes its `--state` file), waiting up to
    /// 10 s before SIGKILL. Its RPC port refuses connections until [`Anvil::restart`].
    pub fn stop(&mut self) -> Result<(), AnvilError> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let pid = child.id();
        let stop_err = |reason: String| AnvilError::Stop { pid, reason };
        let status = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .map_err(|e| stop_err(format!("running kill: {e}")))?;
        if !status.success() {
            let _ = child.kill();
            let _ = child.wait();
            return Err(stop_err(format!("kill -TERM exited with {status}")));
        }
        let start = Instant::now();
        loop {
            match child.try_wait() {
                Ok(Some(_)) => return Ok(()),
                Ok(None) if start.elapsed() < Duration::from_secs(10) => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(stop_err("did not exit within 10 s of SIGTERM".into()));
                }
            }
        }
    }

    /// Starts the stopped chain again on the same port with the same options (with a `state`
    /// file it continues from where it stopped), waiting until its RPC answers.
    pub fn restart(&mut self) -> Result<(), AnvilError> {
        self.stop()?;
        self.launch()
    }

    /// The process id of the running anvil (what `Drop` kills), or of the last one if stopped.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The chain id it was started with.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The HTTP JSON-RPC endpoint, `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn wait_ready(&mut self) -> Result<(), AnvilError> {
        let start = Instant::now();
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                return Err(AnvilError::Exited {
                    pid: self.pid,
                    port: self.port,
                    status,
                });
            }
            if rpc_answers(addr) {
                return Ok(());
            }
            if start.elapsed() > READY_TIMEOUT {
                return Err(AnvilError::NotReady {
                    pid: self.pid(),
                    port: self.port,
                    waited: start.elapsed(),
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        // Child::kill sends SIGKILL to exactly this pid; wait reaps it.
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn free_port() -> Result<u16, AnvilError> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).map_err(AnvilError::Port)?;
    Ok(listener.local_addr().map_err(AnvilError::Port)?.port())
}

/// True if an `eth_chainId` request over plain HTTP gets a JSON-RPC result.
fn rpc_answers(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}"#;
    let req = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer.contains("\"result\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_anvil_is_an_error_that_says_how_to_install_it() {
        let err =
            Anvil::spawn_binary(Path::new("/nonexistent/anvil"), ETHEREUM_CHAIN_ID).unwrap_err();

        assert!(matches!(err, AnvilError::Missing { .. }));
        assert!(err.to_string().contains("run scripts/install-npm"), "{err}");
    }
}
