//! `tickchain roughtime`: query Roughtime servers in a chained sequence (draft-19 §8.2), check
//! every answer against its server's long-term key, and write a malfeasance report when two
//! validly signed answers cannot both be true.

use crate::Failure;
use crate::text::{read_genesis, second};
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::path::Path;
use std::time::Duration;
use tickchain_sdk::roughtime::chain::{self, Link};
use tickchain_sdk::roughtime::{VERSIONS, request, response};

/// One server to ask: its address and long-term key.
#[derive(Debug, Clone)]
pub struct Server {
    label: String,
    addr: SocketAddr,
    key: [u8; 32],
}

/// Parses `HOST:PORT,KEY`: KEY is 64 hex characters, base64, or (with `genesis`) the name of a
/// genesis node, whose key is its Roughtime long-term key.
pub fn parse_server(arg: &str, genesis: Option<&Path>) -> Result<Server, Failure> {
    let bad = |why: String| Failure::BadInput(format!("server {arg:?}: {why}"));
    let (host, key) = arg
        .rsplit_once(',')
        .ok_or_else(|| bad("expected HOST:PORT,KEY".into()))?;
    let addr = host
        .to_socket_addrs()
        .map_err(|e| bad(format!("address: {e}")))?
        .next()
        .ok_or_else(|| bad("address resolves to nothing".into()))?;
    let decoded = if key.len() == 64 && key.chars().all(|c| c.is_ascii_hexdigit()) {
        hex::decode(key).ok()
    } else {
        chain::from_base64(key)
    };
    let key = match decoded.and_then(|k| <[u8; 32]>::try_from(k).ok()) {
        Some(k) => k,
        None => {
            let path = genesis.ok_or_else(|| {
                bad(
                    "KEY is neither 32 bytes of hex or base64 nor, without --genesis, a node name"
                        .into(),
                )
            })?;
            let g = read_genesis(path)?;
            let node = g
                .nodes
                .iter()
                .find(|n| n.name == key)
                .ok_or_else(|| bad(format!("no node {key:?} in {}", path.display())))?;
            node.public_key.0
        }
    };
    Ok(Server {
        label: host.to_string(),
        addr,
        key,
    })
}

/// One exchange: the request with `nonce`, sent up to twice within `timeout` each. The first
/// datagram from the server's address that passes the checks is the answer; one that fails
/// them (possibly forged by someone on the path) is kept only if nothing valid follows.
fn exchange(
    server: &Server,
    nonce: &[u8; 32],
    timeout: Duration,
) -> Result<(Vec<u8>, Option<Vec<u8>>), Failure> {
    let local: SocketAddr = if server.addr.is_ipv6() {
        "[::]:0".parse().expect("address")
    } else {
        "0.0.0.0:0".parse().expect("address")
    };
    let sock = UdpSocket::bind(local).map_err(|e| Failure::BadInput(format!("socket: {e}")))?;
    let mut req = Vec::new();
    request::build(&mut req, &VERSIONS, nonce, Some(&server.key));
    let mut buf = [0u8; 2048];
    let mut invalid = None;
    for _ in 0..2 {
        sock.send_to(&req, server.addr)
            .map_err(|e| Failure::BadInput(format!("{}: {e}", server.label)))?;
        let deadline = std::time::Instant::now() + timeout;
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            if left.is_zero() || sock.set_read_timeout(Some(left)).is_err() {
                break;
            }
            let Ok((n, from)) = sock.recv_from(&mut buf) else {
                break;
            };
            if from != server.addr {
                continue;
            }
            if response::verify(&buf[..n], &req, &server.key).is_ok() {
                return Ok((req, Some(buf[..n].to_vec())));
            }
            invalid = Some(buf[..n].to_vec());
        }
        if invalid.is_some() {
            break;
        }
    }
    Ok((req, invalid))
}

/// Queries `servers` in order, `rounds` times, chaining the nonces; prints each answer; writes
/// `report` and fails when the answers contradict each other.
pub fn run(
    servers: &[Server],
    rounds: u32,
    timeout: Duration,
    report: &Path,
    json: bool,
) -> Result<(), Failure> {
    if servers.is_empty() {
        return Err(Failure::BadInput("name at least one server".into()));
    }
    let mut links: Vec<Link> = Vec::new();
    let mut answers: Vec<(u64, u32)> = Vec::new();
    let mut rows = Vec::new();
    let mut invalid = Vec::new();
    let mut silent = 0;
    for _ in 0..rounds.max(1) {
        for server in servers {
            let mut rand = [0u8; 32];
            getrandom::getrandom(&mut rand)
                .map_err(|e| Failure::BadInput(format!("no OS randomness: {e}")))?;
            let nonce = match links.last() {
                None => rand,
                Some(prev) => chain::next_nonce(&prev.response, &rand),
            };
            let (req, resp) = exchange(server, &nonce, timeout)?;
            let Some(resp) = resp else {
                silent += 1;
                if !json {
                    println!("{:<24} no answer", server.label);
                }
                continue;
            };
            match response::verify(&resp, &req, &server.key) {
                Ok(v) => {
                    if !json {
                        let tick = v.tick.map_or(String::new(), |t| {
                            format!("  tick {} ({})", t.height, second(t.second))
                        });
                        println!(
                            "{:<24} {} ± {} s  version {:#x}{tick}",
                            server.label,
                            second(v.midp),
                            v.radi,
                            v.version
                        );
                    }
                    rows.push(serde_json::json!({
                        "server": server.label,
                        "midp": v.midp,
                        "radi": v.radi,
                        "version": v.version,
                        "tick": v.tick.map(|t| serde_json::json!({
                            "height": t.height, "second": t.second, "hash": hex::encode(t.hash)
                        })),
                    }));
                    answers.push((v.midp, v.radi));
                    links.push(Link {
                        rand,
                        public_key: server.key,
                        request: req,
                        response: resp,
                    });
                }
                Err(e) => {
                    if !json {
                        println!("{:<24} INVALID: {e}", server.label);
                    }
                    invalid.push(format!("{}: {e}", server.label));
                }
            }
        }
    }
    let violation = chain::first_violation(&answers);
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "answers": rows,
                "invalid": invalid,
                "unanswered": silent,
                "malfeasance": violation.map(|v| [v.earlier, v.later]),
            }))
            .expect("json")
        );
    }
    if let Some(v) = violation {
        std::fs::write(report, chain::report_json(&links) + "\n")
            .map_err(|e| Failure::BadInput(format!("{}: {e}", report.display())))?;
        return Err(Failure::Invalid(format!(
            "malfeasance: answer {} ({} ± {} s) says time was later than answer {} ({} ± {} s) \
             allows, though it was sent first; the signed evidence is in {}",
            v.earlier + 1,
            second(answers[v.earlier].0),
            answers[v.earlier].1,
            v.later + 1,
            second(answers[v.later].0),
            answers[v.later].1,
            report.display()
        )));
    }
    if !invalid.is_empty() {
        return Err(Failure::Invalid(format!(
            "{} answer(s) failed the checks: {}",
            invalid.len(),
            invalid.join("; ")
        )));
    }
    if answers.is_empty() {
        return Err(Failure::BadInput("no server answered".into()));
    }
    if !json {
        println!(
            "consistent: {} signed answers from {} servers agree in sending order",
            answers.len(),
            servers.len()
        );
    }
    Ok(())
}
