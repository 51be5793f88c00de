//! Where `tickchain log` reads records from: standard input, a file being appended to, or UDP
//! datagrams; one record per line (or per datagram), sent to the logger over a bounded channel.
//!
//! Owns: reading and the cursor (the byte offset after a followed file's last whole line, so a
//! restarted logger resumes exactly there). Never: binds to anything but what it is given
//! (127.0.0.1 for a bare port), or passes on a line that is not whole.

use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::sync::mpsc::SyncSender;
use std::time::Duration;

/// Records waiting for the logger (bounded: a fast producer waits).
pub const QUEUE: usize = 65_536;

/// One input event.
pub enum Item {
    /// A record and the cursor after it.
    Record(Vec<u8>, u64),
    /// The input ended (standard input closed).
    End,
    /// The input failed.
    Failed(String),
}

/// The input source.
pub enum Source {
    /// Standard input, one record per line.
    Stdin,
    /// A file followed as it grows, from a byte offset.
    Follow(PathBuf, u64),
    /// UDP datagrams, one record each.
    Udp(SocketAddr),
}

/// Parses `--udp`: a bare port binds 127.0.0.1.
pub fn udp_addr(s: &str) -> Result<SocketAddr, String> {
    if let Ok(port) = s.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    s.parse()
        .map_err(|_| format!("{s:?} is neither a port nor an address like 127.0.0.1:7400"))
}

/// Reads `source` on its own thread until it ends or the logger goes away.
pub fn spawn(source: Source, tx: SyncSender<Item>) -> Result<(), String> {
    match source {
        Source::Stdin => {
            std::thread::spawn(move || lines(std::io::stdin().lock(), 0, &tx, false));
        }
        Source::Follow(path, from) => {
            std::thread::spawn(move || follow(path, from, &tx));
        }
        Source::Udp(addr) => {
            let socket =
                UdpSocket::bind(addr).map_err(|e| format!("cannot bind UDP {addr}: {e}"))?;
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 65_536];
                loop {
                    match socket.recv(&mut buf) {
                        Ok(n) => {
                            if tx.send(Item::Record(buf[..n].to_vec(), 0)).is_err() {
                                return;
                            }
                        }
                        Err(e) => {
                            let _ = tx.send(Item::Failed(format!("UDP {addr}: {e}")));
                            return;
                        }
                    }
                }
            });
        }
    }
    Ok(())
}

/// Sends each whole line (without its `\n`) with the offset after it; with `follow`, waits at
/// the end for more instead of ending.
fn lines(mut input: impl BufRead, mut at: u64, tx: &SyncSender<Item>, follow: bool) {
    let mut line = Vec::new();
    loop {
        match input.read_until(b'\n', &mut line) {
            Ok(0) if !follow => {
                if !line.is_empty() {
                    at += line.len() as u64;
                    let _ = tx.send(Item::Record(std::mem::take(&mut line), at));
                }
                let _ = tx.send(Item::End);
                return;
            }
            Ok(_) if line.last() == Some(&b'\n') => {
                at += line.len() as u64;
                line.pop();
                if tx
                    .send(Item::Record(std::mem::take(&mut line), at))
                    .is_err()
                {
                    return;
                }
            }
            // A line not yet whole (or nothing new): wait for the writer.
            Ok(_) if follow => std::thread::sleep(Duration::from_millis(20)),
            Ok(_) => {}
            Err(e) => {
                let _ = tx.send(Item::Failed(e.to_string()));
                return;
            }
        }
    }
}

fn follow(path: PathBuf, from: u64, tx: &SyncSender<Item>) {
    let file = loop {
        match std::fs::File::open(&path) {
            Ok(f) => break f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => {
                let _ = tx.send(Item::Failed(format!("{}: {e}", path.display())));
                return;
            }
        }
    };
    let shown = path.display().to_string();
    let mut file = file;
    match file.metadata() {
        Ok(m) if m.len() < from => {
            let _ = tx.send(Item::Failed(format!(
                "{shown} is {} bytes, shorter than the {from} bytes already logged from it: \
                 it was truncated or replaced; log it to a new log file",
                m.len()
            )));
            return;
        }
        Err(e) => {
            let _ = tx.send(Item::Failed(format!("{shown}: {e}")));
            return;
        }
        Ok(_) => {}
    }
    if let Err(e) = file.seek(SeekFrom::Start(from)) {
        let _ = tx.send(Item::Failed(format!("{shown}: {e}")));
        return;
    }
    // At the end of the file `read_until` returns what it has; the next call reads on.
    lines(BufReader::new(file), from, tx, true);
}
