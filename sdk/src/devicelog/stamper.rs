//! Stamping a device log's heads (feature `client`): once per second the heads that moved are
//! put in a tree, its root goes to a node as one digest, and when the proof is final it is
//! written to the log as a stamp (`specs/devicelog.md` §6).
//!
//! Owns: the submitted-but-unproven trees (bounded) and when to ask for their proofs. Never:
//! blocks the logger on the network for more than one call per pending tree per second, and
//! never writes a proof that is for another digest (or, given a genesis, does not verify).

use super::entry::{HeadRef, MAX_STAMP_HEADS, stamp_root};
use super::writer::{DeviceLog, WriteError};
use crate::client::{Client, ProofLookup, StampOutcome};
use crate::verify::Network;
use crate::{Digest, Second};
use std::collections::VecDeque;

/// Most trees waiting for their proofs; older ones are dropped and their chains offered again
/// (so their records are covered by the next stamp).
const MAX_PENDING: usize = 120;

/// What a call to [`Stamper::step`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StampEvent {
    /// A tree of `heads` heads was submitted as `digest`.
    Submitted {
        /// The root submitted.
        digest: Digest,
        /// How many heads.
        heads: usize,
    },
    /// A proof arrived and was appended as a stamp.
    Stamped {
        /// The root stamped.
        digest: Digest,
        /// The tick's second.
        second: Second,
        /// The tick's height.
        height: u64,
    },
    /// A tree was given up (its records are covered by a later stamp).
    Dropped {
        /// The root.
        digest: Digest,
        /// Why.
        reason: String,
    },
    /// The node could not be reached or refused; the heads are offered again later.
    NodeError(String),
}

struct Pending {
    digest: Digest,
    heads: Vec<HeadRef>,
    /// Ask for the proof from this second on.
    due: Second,
}

/// Submits a log's heads and collects their proofs.
pub struct Stamper {
    client: Client,
    network: Option<Network>,
    pending: VecDeque<Pending>,
    /// Heads whose submission failed, offered again with the next ones.
    retry: Vec<HeadRef>,
}

impl Stamper {
    /// A stamper talking to the node at `client`; with `network`, every proof is verified
    /// before it is written.
    pub fn new(client: Client, network: Option<Network>) -> Stamper {
        Stamper {
            client,
            network,
            pending: VecDeque::new(),
            retry: Vec::new(),
        }
    }

    /// Trees still waiting for their proofs.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// One second's work: sync the log, submit the heads that moved, and append the proofs
    /// that are final by `now`. The log is synced again if a stamp was appended.
    pub fn step(
        &mut self,
        log: &mut DeviceLog,
        now: Second,
    ) -> Result<Vec<StampEvent>, WriteError> {
        let mut events = Vec::new();
        log.sync()?;
        let retry = std::mem::take(&mut self.retry);
        let mut heads = log.take_heads(MAX_STAMP_HEADS.saturating_sub(retry.len()));
        merge_retry(&mut heads, retry);
        if !heads.is_empty() {
            let digest = Digest(stamp_root(&heads).0);
            match self.client.stamp(&[digest], false) {
                Ok(StampOutcome::Accepted(r) | StampOutcome::TimedOut(r)) if r.len() == 1 => {
                    events.push(StampEvent::Submitted {
                        digest,
                        heads: heads.len(),
                    });
                    self.pending.push_back(Pending {
                        digest,
                        heads,
                        due: Second(r[0].expected_tick_second.0 + 1),
                    });
                }
                Ok(other) => {
                    events.push(StampEvent::NodeError(format!(
                        "unexpected answer to a stamp: {other:?}"
                    )));
                    self.retry = heads;
                }
                Err(e) => {
                    events.push(StampEvent::NodeError(e.to_string()));
                    self.retry = heads;
                }
            }
        }
        while self.pending.len() > MAX_PENDING {
            let p = self.pending.pop_front().expect("over the cap");
            log.reoffer(&p.heads);
            events.push(StampEvent::Dropped {
                digest: p.digest,
                reason: format!("more than {MAX_PENDING} trees waiting for proofs"),
            });
        }
        let wrote = self.collect(log, now, &mut events);
        if wrote {
            log.sync()?;
        }
        Ok(events)
    }

    /// Asks for the proofs of due trees until one is not ready; true if a stamp was appended.
    fn collect(&mut self, log: &mut DeviceLog, now: Second, events: &mut Vec<StampEvent>) -> bool {
        let mut wrote = false;
        while let Some(p) = self.pending.front() {
            if now < p.due {
                break;
            }
            match self.client.proof(&p.digest) {
                Ok(ProofLookup::Ready(proof)) => {
                    let p = self.pending.pop_front().expect("front exists");
                    let checked = if proof.digest != p.digest {
                        Err(format!("the node sent a proof for {}", proof.digest))
                    } else if let Some(net) = &self.network {
                        net.verify(&proof).map(|_| ()).map_err(|e| e.to_string())
                    } else {
                        Ok(())
                    };
                    match checked.and_then(|()| proof.to_compact().map_err(|e| e.to_string())) {
                        Ok(bytes) => {
                            events.push(StampEvent::Stamped {
                                digest: p.digest,
                                second: proof.tick.second,
                                height: proof.tick.height.0,
                            });
                            log.append_stamp(p.heads, bytes);
                            wrote = true;
                        }
                        Err(reason) => {
                            log.reoffer(&p.heads);
                            events.push(StampEvent::Dropped {
                                digest: p.digest,
                                reason: format!("bad proof: {reason}"),
                            });
                        }
                    }
                }
                Ok(ProofLookup::Pending(_)) => break,
                Ok(ProofLookup::Unknown) => {
                    let p = self.pending.pop_front().expect("front exists");
                    log.reoffer(&p.heads);
                    events.push(StampEvent::Dropped {
                        digest: p.digest,
                        reason: "the node no longer knows the digest".into(),
                    });
                }
                Err(e) => {
                    events.push(StampEvent::NodeError(e.to_string()));
                    break;
                }
            }
        }
        wrote
    }

    /// Waits (up to `limit`) for every pending tree's proof, stepping once per second.
    pub fn drain(
        &mut self,
        log: &mut DeviceLog,
        limit: std::time::Duration,
        mut now: impl FnMut() -> Second,
        mut report: impl FnMut(&StampEvent),
    ) -> Result<(), WriteError> {
        let deadline = std::time::Instant::now() + limit;
        while (!self.pending.is_empty() || !self.retry.is_empty())
            && std::time::Instant::now() < deadline
        {
            for e in self.step(log, now())? {
                report(&e);
            }
            if self.pending.is_empty() && self.retry.is_empty() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(250));
        }
        Ok(())
    }
}

/// Adds heads of chains that a failed submission left out (a newer head of a chain wins).
fn merge_retry(heads: &mut Vec<HeadRef>, retry: Vec<HeadRef>) {
    heads.extend(retry);
    heads.sort_unstable_by_key(|h| (h.chain, std::cmp::Reverse(h.seq)));
    heads.dedup_by_key(|h| h.chain);
}
