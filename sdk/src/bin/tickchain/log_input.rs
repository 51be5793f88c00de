//! Where `tickchain log` reads records from: standard input, a file being appended to, or UDP
//! datagrams; one record per line (or per datagram), sent to the logger over a bounded channel.
//!
//! Owns: reading and the cursor (the byte offset after a followed file's last whole line, so a
//! restarted logger resumes exactly there). Never: binds to anything but what it is given
//! (127.0.0.1 for a bare port), or passes on a line that is not whole.

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::sync::mpsc::SyncSender;
use std::time::Duration;
use tickchain_sdk::devicelog::MAX_PAYLOAD_BYTES;

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
            std::thread::spawn(move || lines(std::io::stdin().lock(), None, &tx, None));
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

/// Sends each whole line (without its `\n`) with the cursor after it: the byte offset from
/// `start` for a followed file, 0 otherwise. With `follow`, waits at the end for more instead
/// of ending, and stops if the file was truncated or replaced. A line longer than a record may
/// be is sent up to one byte over the limit, which the logger refuses.
fn lines(
    mut input: impl BufRead,
    start: Option<u64>,
    tx: &SyncSender<Item>,
    follow: Option<&Followed>,
) {
    let mut at = start.unwrap_or(0);
    let cursor = |at: u64| if start.is_some() { at } else { 0 };
    let mut line = Vec::new();
    loop {
        let room = (MAX_PAYLOAD_BYTES + 2).saturating_sub(line.len()) as u64;
        match (&mut input).take(room).read_until(b'\n', &mut line) {
            Ok(_) if line.last() == Some(&b'\n') || line.len() > MAX_PAYLOAD_BYTES => {
                at += line.len() as u64;
                if line.last() == Some(&b'\n') {
                    line.pop();
                }
                if tx
                    .send(Item::Record(std::mem::take(&mut line), cursor(at)))
                    .is_err()
                {
                    return;
                }
            }
            Ok(0) if follow.is_none() => {
                if !line.is_empty() {
                    at += line.len() as u64;
                    let _ = tx.send(Item::Record(std::mem::take(&mut line), cursor(at)));
                }
                let _ = tx.send(Item::End);
                return;
            }
            // A line not yet whole (or nothing new): wait for the writer.
            Ok(_) => {
                if let Some(f) = follow {
                    if let Err(e) = f.still_there(at + line.len() as u64) {
                        let _ = tx.send(Item::Failed(e));
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            Err(e) => {
                let _ = tx.send(Item::Failed(e.to_string()));
                return;
            }
        }
    }
}

/// The file being followed: the path and the identity of the file opened there.
struct Followed {
    path: PathBuf,
    id: (u64, u64),
}

impl Followed {
    /// An error if the path now names another file, or the file is shorter than `read`.
    fn still_there(&self, read: u64) -> Result<(), String> {
        use std::os::unix::fs::MetadataExt;
        let shown = self.path.display();
        let m = std::fs::metadata(&self.path).map_err(|e| format!("{shown}: {e}"))?;
        if (m.dev(), m.ino()) != self.id {
            return Err(format!(
                "{shown} was replaced (rotated?) while followed; log the new file to a new log"
            ));
        }
        if m.len() < read {
            return Err(format!(
                "{shown} shrank to {} bytes, below the {read} already read (truncated?)",
                m.len()
            ));
        }
        Ok(())
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
    let id = match file.metadata() {
        Ok(m) => {
            use std::os::unix::fs::MetadataExt;
            (m.dev(), m.ino())
        }
        Err(e) => {
            let _ = tx.send(Item::Failed(format!("{shown}: {e}")));
            return;
        }
    };
    let followed = Followed { path, id };
    // The same check as while following: not shorter than what was already logged from it.
    if let Err(e) = followed.still_there(from) {
        let _ = tx.send(Item::Failed(format!("{e}; log it to a new log file")));
        return;
    }
    if let Err(e) = file.seek(SeekFrom::Start(from)) {
        let _ = tx.send(Item::Failed(format!("{shown}: {e}")));
        return;
    }
    // At the end of the file `read_until` returns what it has; the next call reads on.
    lines(BufReader::new(file), Some(from), tx, Some(&followed));
}
