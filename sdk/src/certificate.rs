//! Finality certificates: a quorum of finalize votes on one tick, each with its clock reading.
//!
//! Owns: the certificate's shape and its time window (`specs/consensus.md` § Certificate
//! window). Never: checks signatures on its own (see `verify::Network`).

use crate::votes::ClockReading;
use crate::{Hash, NodeId, Signature, UtcNanos, View};
use serde::{Deserialize, Serialize};

/// One signer's finalize vote inside a certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertVote {
    /// The signer's position in genesis.
    pub signer: NodeId,
    /// The signer's clock reading when it received the proposal, covered by the signature.
    #[serde(flatten)]
    pub reading: ClockReading,
    /// Ed25519 signature over the finalize vote bytes.
    pub signature: Signature,
}

/// q or more finalize votes on one tick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FinalityCertificate {
    /// The view in which the tick was finalized (equals the tick's view).
    pub view: View,
    /// Hash of the finalized tick.
    pub tick_hash: Hash,
    /// The votes, in ascending signer order in the canonical form.
    pub votes: Vec<CertVote>,
}

/// The time window a certificate proves, robust to `f` lying signers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertWindow {
    /// The (f+1)-th smallest `earliest`: some honest signer received the proposal at or after
    /// this instant, so the certificate was completed no earlier.
    pub earliest: UtcNanos,
    /// The (f+1)-th largest `latest`: some honest signer had received the proposal by this
    /// instant, so everything the tick commits to existed by then.
    pub latest: UtcNanos,
}

impl FinalityCertificate {
    /// The certificate window for fault bound `f`, or `None` when there are fewer than `f + 1`
    /// votes to take order statistics from.
    pub fn window(&self, f: usize) -> Option<CertWindow> {
        if self.votes.len() < f + 1 {
            return None;
        }
        let mut earliest: Vec<UtcNanos> = self.votes.iter().map(|v| v.reading.earliest).collect();
        let mut latest: Vec<UtcNanos> = self.votes.iter().map(|v| v.reading.latest).collect();
        earliest.sort_unstable();
        latest.sort_unstable_by(|a, b| b.cmp(a));
        Some(CertWindow {
            earliest: earliest[f],
            latest: latest[f],
        })
    }

    /// The signer bitmap of the compact form: bit `i` (LSB-first within each byte) is set when
    /// node `i` signed. `n` is the ring size.
    pub fn signer_bitmap(&self, n: usize) -> Vec<u8> {
        let mut bits = vec![0u8; n.div_ceil(8)];
        for v in &self.votes {
            let i = v.signer.index();
            if i < n {
                bits[i / 8] |= 1 << (i % 8);
            }
        }
        bits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(readings: &[(i64, i64)]) -> FinalityCertificate {
        FinalityCertificate {
            view: View(1),
            tick_hash: Hash([0; 32]),
            votes: readings
                .iter()
                .enumerate()
                .map(|(i, &(e, l))| CertVote {
                    signer: NodeId(i as u16),
                    reading: ClockReading {
                        earliest: UtcNanos(e),
                        latest: UtcNanos(l),
                    },
                    signature: Signature([0; 64]),
                })
                .collect(),
        }
    }

    #[test]
    fn one_liar_cannot_move_the_window_outside_the_honest_readings() {
        let honest = [(100, 200), (110, 210)];
        for liar in [
            (i64::MIN, i64::MIN),
            (i64::MAX, i64::MAX),
            (0, i64::MAX),
            (500, 0),
        ] {
            let w = cert(&[honest[0], honest[1], liar]).window(1).unwrap();
            assert!((100..=110).contains(&w.earliest.0), "{liar:?} -> {w:?}");
            assert!((200..=210).contains(&w.latest.0), "{liar:?} -> {w:?}");
        }
    }

    #[test]
    fn window_needs_f_plus_one_votes() {
        assert!(cert(&[(1, 2)]).window(1).is_none());
        assert!(cert(&[(1, 2), (1, 2)]).window(1).is_some());
    }
}
