//! Evidence of misbehaviour: two statements one ring member signed that no honest member signs
//! together (`specs/evidence.md`).
//!
//! Owns: the evidence format (JSON), its rules with their stable codes, and its offline check
//! against a genesis: the member, the rule, both signatures. Never: signing bytes of its own
//! (each statement's bytes come from [`crate::votes`]), I/O, or a clock: every rule here is
//! decided by the two signed statements and the genesis alone.

use crate::signing::{parse_key, verify_with};
use crate::votes::{ClockReading, VoteKind, nullify_signing_bytes, vote_signing_bytes};
use crate::{Genesis, Hash, NodeId, Signature, View};
use serde::{Deserialize, Serialize};

/// Largest evidence JSON accepted, in bytes (one evidence is well under 1 KiB).
pub const MAX_EVIDENCE_BYTES: usize = 16 * 1024;

/// The rule two statements break together (`specs/evidence.md` §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Two different notarize statements for one view by that view's leader: its proposal's
    /// signature is its notarize vote, so these are two proposals (§2).
    ConflictingProposals,
    /// Two different notarize statements for one view (§2).
    ConflictingNotarize,
    /// Two different finalize statements for one view (§2).
    ConflictingFinalize,
    /// A finalize and a nullify statement for one view (§2).
    FinalizeAndNullify,
    /// A notarize and a finalize statement for one view that differ in tick or clock reading:
    /// a finalize vote repeats the member's own notarize vote, reading included (§2).
    FinalizeContradictsNotarize,
}

impl Rule {
    /// Every rule, in code order.
    pub const ALL: [Rule; 5] = [
        Rule::ConflictingProposals,
        Rule::ConflictingNotarize,
        Rule::ConflictingFinalize,
        Rule::FinalizeAndNullify,
        Rule::FinalizeContradictsNotarize,
    ];

    /// The stable snake_case code (the JSON form of the rule).
    pub fn code(self) -> &'static str {
        match self {
            Rule::ConflictingProposals => "conflicting_proposals",
            Rule::ConflictingNotarize => "conflicting_notarize",
            Rule::ConflictingFinalize => "conflicting_finalize",
            Rule::FinalizeAndNullify => "finalize_and_nullify",
            Rule::FinalizeContradictsNotarize => "finalize_contradicts_notarize",
        }
    }

    /// The statement kinds the rule pairs, in either order.
    fn kinds(self) -> (StatementKind, StatementKind) {
        use StatementKind::*;
        match self {
            Rule::ConflictingProposals | Rule::ConflictingNotarize => (Notarize, Notarize),
            Rule::ConflictingFinalize => (Finalize, Finalize),
            Rule::FinalizeAndNullify => (Finalize, Nullify),
            Rule::FinalizeContradictsNotarize => (Notarize, Finalize),
        }
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// What a statement is, without its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatementKind {
    /// A notarize vote (a leader's proposal carries one).
    Notarize,
    /// A finalize vote.
    Finalize,
    /// A nullify vote.
    Nullify,
}

impl StatementKind {
    /// The stable snake_case name.
    pub fn code(self) -> &'static str {
        match self {
            StatementKind::Notarize => "notarize",
            StatementKind::Finalize => "finalize",
            StatementKind::Nullify => "nullify",
        }
    }
}

/// One signed consensus statement, with everything needed to recompute the bytes it signs
/// (`specs/encoding.md` §3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Statement {
    /// A notarize vote: `tick_hash` proposed in `view`, seen at `reading`.
    Notarize {
        /// The view.
        view: View,
        /// The tick voted for.
        tick_hash: Hash,
        /// The signer's clock reading (signed).
        reading: ClockReading,
        /// Ed25519 over `vote_signing_bytes(Notarize, ..)`.
        signature: Signature,
    },
    /// A finalize vote: `tick_hash` notarized in `view`, with the signer's notarize reading.
    Finalize {
        /// The view.
        view: View,
        /// The tick voted for.
        tick_hash: Hash,
        /// The signer's clock reading (signed).
        reading: ClockReading,
        /// Ed25519 over `vote_signing_bytes(Finalize, ..)`.
        signature: Signature,
    },
    /// A nullify vote: the signer gave up on `view`.
    Nullify {
        /// The view.
        view: View,
        /// Ed25519 over `nullify_signing_bytes(..)`.
        signature: Signature,
    },
}

impl Statement {
    /// Its kind.
    pub fn kind(&self) -> StatementKind {
        match self {
            Statement::Notarize { .. } => StatementKind::Notarize,
            Statement::Finalize { .. } => StatementKind::Finalize,
            Statement::Nullify { .. } => StatementKind::Nullify,
        }
    }

    /// The view it is about.
    pub fn view(&self) -> View {
        match self {
            Statement::Notarize { view, .. }
            | Statement::Finalize { view, .. }
            | Statement::Nullify { view, .. } => *view,
        }
    }

    /// The signature.
    pub fn signature(&self) -> &Signature {
        match self {
            Statement::Notarize { signature, .. }
            | Statement::Finalize { signature, .. }
            | Statement::Nullify { signature, .. } => signature,
        }
    }

    /// The tick and reading of a notarize or finalize statement.
    pub fn tick(&self) -> Option<(&Hash, &ClockReading)> {
        match self {
            Statement::Notarize {
                tick_hash, reading, ..
            }
            | Statement::Finalize {
                tick_hash, reading, ..
            } => Some((tick_hash, reading)),
            Statement::Nullify { .. } => None,
        }
    }

    /// The bytes its signature covers on the network `genesis_hash`.
    pub fn signing_bytes(&self, genesis_hash: &Hash) -> Vec<u8> {
        match self {
            Statement::Notarize {
                view,
                tick_hash,
                reading,
                ..
            } => vote_signing_bytes(VoteKind::Notarize, genesis_hash, *view, tick_hash, reading),
            Statement::Finalize {
                view,
                tick_hash,
                reading,
                ..
            } => vote_signing_bytes(VoteKind::Finalize, genesis_hash, *view, tick_hash, reading),
            Statement::Nullify { view, .. } => nullify_signing_bytes(genesis_hash, *view),
        }
    }

    /// Whether `self` and `other` say the same thing (same signed bytes; the signatures may
    /// still differ, which proves nothing).
    pub fn same_as(&self, other: &Statement) -> bool {
        self.kind() == other.kind() && self.view() == other.view() && self.tick() == other.tick()
    }
}

/// Two statements signed by one member that break `rule` together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// The network: the genesis hash every statement's signing bytes start with.
    pub genesis: Hash,
    /// The member who signed both statements (its position in genesis).
    pub member: NodeId,
    /// The rule they break together.
    pub rule: Rule,
    /// The statement seen first.
    pub first: Statement,
    /// The statement that contradicts it.
    pub second: Statement,
}

/// What valid evidence establishes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifiedEvidence {
    /// The member who broke the rule.
    pub member: NodeId,
    /// Its name in genesis.
    pub name: String,
    /// The rule broken.
    pub rule: Rule,
    /// The view both statements are about.
    pub view: View,
}

/// Why evidence does not hold. [`EvidenceError::code`] is the stable label used by the
/// vectors, the CLI and the API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvidenceError {
    /// The input is not evidence JSON.
    #[error("evidence JSON at {path}: {message}")]
    Malformed {
        /// Field path, e.g. `second.tick_hash`.
        path: String,
        /// What was wrong.
        message: String,
    },
    /// §3: the evidence is for another network.
    #[error("wrong genesis: evidence is for {found}, the genesis file hashes to {expected}")]
    WrongGenesis {
        /// Hash of the genesis given.
        expected: Hash,
        /// Genesis hash stated in the evidence.
        found: Hash,
    },
    /// §3: the member is not in genesis.
    #[error("unknown member {member}: genesis has {n} nodes")]
    UnknownMember {
        /// The member named.
        member: NodeId,
        /// Ring size.
        n: usize,
    },
    /// §3: the statements are not the kinds the rule pairs.
    #[error("rule {rule} pairs a {expected} statement, found {first} and {second}")]
    WrongKinds {
        /// The rule named.
        rule: Rule,
        /// The kinds it pairs, e.g. `finalize and nullify`.
        expected: String,
        /// The first statement's kind.
        first: &'static str,
        /// The second statement's kind.
        second: &'static str,
    },
    /// §3: the statements are about different views (no rule relates them).
    #[error("the statements are for different views: {first} and {second}")]
    DifferentViews {
        /// The first statement's view.
        first: View,
        /// The second statement's view.
        second: View,
    },
    /// §3: both are the same statement (an honest member may send one statement twice).
    #[error("both statements say the same thing; a repeated statement is not evidence")]
    SameStatement,
    /// §3: a notarize and a finalize on the same tick with the same reading: what an honest
    /// member signs.
    #[error(
        "the finalize statement repeats the notarize statement's tick and reading, as the rule \
         requires"
    )]
    NoConflict,
    /// §3: `conflicting_proposals` names a member that does not lead the view.
    #[error("member {member} does not lead view {view} (its leader is {leader})")]
    NotLeader {
        /// The member named.
        member: NodeId,
        /// The view.
        view: View,
        /// The view's leader.
        leader: NodeId,
    },
    /// §3: a signature does not verify under the member's genesis key.
    #[error("the {which} statement's signature does not verify under member {member}'s key")]
    BadSignature {
        /// `first` or `second`.
        which: &'static str,
        /// The member named.
        member: NodeId,
    },
}

impl EvidenceError {
    /// The stable snake_case code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            EvidenceError::Malformed { .. } => "malformed",
            EvidenceError::WrongGenesis { .. } => "wrong_genesis",
            EvidenceError::UnknownMember { .. } => "unknown_member",
            EvidenceError::WrongKinds { .. } => "wrong_kinds",
            EvidenceError::DifferentViews { .. } => "different_views",
            EvidenceError::SameStatement => "same_statement",
            EvidenceError::NoConflict => "no_conflict",
            EvidenceError::NotLeader { .. } => "not_leader",
            EvidenceError::BadSignature { .. } => "bad_signature",
        }
    }
}

impl Evidence {
    /// Parses the JSON form (at most [`MAX_EVIDENCE_BYTES`]); the error names the field.
    pub fn from_json(text: &str) -> Result<Evidence, EvidenceError> {
        if text.len() > MAX_EVIDENCE_BYTES {
            return Err(EvidenceError::Malformed {
                path: ".".into(),
                message: format!("{} bytes, the limit is {MAX_EVIDENCE_BYTES}", text.len()),
            });
        }
        // One piece of evidence per document: text after it is an error, not ignored.
        crate::json_doc::parse(text).map_err(|e| EvidenceError::Malformed {
            path: e.path,
            message: e.message,
        })
    }

    /// The JSON form, pretty-printed.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("evidence serializes")
    }

    /// The view both statements are about (the first statement's).
    pub fn view(&self) -> View {
        self.first.view()
    }

    /// Checks the evidence against `genesis` (`specs/evidence.md` §3, in that order).
    pub fn verify(&self, genesis: &Genesis) -> Result<VerifiedEvidence, EvidenceError> {
        if self.genesis != genesis.hash {
            return Err(EvidenceError::WrongGenesis {
                expected: genesis.hash,
                found: self.genesis,
            });
        }
        let n = genesis.n();
        let Some(node) = genesis.node(self.member) else {
            return Err(EvidenceError::UnknownMember {
                member: self.member,
                n,
            });
        };
        let (a, b) = (self.first.kind(), self.second.kind());
        let (x, y) = self.rule.kinds();
        if !((a, b) == (x, y) || (a, b) == (y, x)) {
            return Err(EvidenceError::WrongKinds {
                rule: self.rule,
                expected: if x == y {
                    format!("{} and another {}", x.code(), y.code())
                } else {
                    format!("{} and a {}", x.code(), y.code())
                },
                first: a.code(),
                second: b.code(),
            });
        }
        let view = self.first.view();
        if self.second.view() != view {
            return Err(EvidenceError::DifferentViews {
                first: view,
                second: self.second.view(),
            });
        }
        if self.first.same_as(&self.second) {
            return Err(EvidenceError::SameStatement);
        }
        // Two different statements of one kind always conflict; a notarize and a finalize
        // conflict only when the finalize does not repeat the notarize; a finalize and a
        // nullify always do.
        if self.rule == Rule::FinalizeContradictsNotarize && self.first.tick() == self.second.tick()
        {
            return Err(EvidenceError::NoConflict);
        }
        if self.rule == Rule::ConflictingProposals {
            let leader = NodeId((view.0 % n as u64) as u16);
            if leader != self.member {
                return Err(EvidenceError::NotLeader {
                    member: self.member,
                    view,
                    leader,
                });
            }
        }
        let key = parse_key(&node.public_key);
        for (which, s) in [("first", &self.first), ("second", &self.second)] {
            let ok = key
                .as_ref()
                .is_some_and(|k| verify_with(k, &s.signing_bytes(&genesis.hash), s.signature()));
            if !ok {
                return Err(EvidenceError::BadSignature {
                    which,
                    member: self.member,
                });
            }
        }
        Ok(VerifiedEvidence {
            member: self.member,
            name: node.name.clone(),
            rule: self.rule,
            view,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::TestNetwork;
    use crate::{Second, UtcNanos};

    fn reading(ms: i64) -> ClockReading {
        ClockReading {
            earliest: UtcNanos(1_764_000_010_000_000_000 + ms * 1_000_000),
            latest: UtcNanos(1_764_000_010_020_000_000 + ms * 1_000_000),
        }
    }

    fn notarize(
        net: &TestNetwork,
        signer: usize,
        view: u64,
        tick: u8,
        r: ClockReading,
    ) -> Statement {
        let tick_hash = Hash([tick; 32]);
        let msg = vote_signing_bytes(VoteKind::Notarize, &net.hash(), View(view), &tick_hash, &r);
        Statement::Notarize {
            view: View(view),
            tick_hash,
            reading: r,
            signature: crate::signing::sign(&net.keys[signer], &msg),
        }
    }

    fn net() -> TestNetwork {
        TestNetwork::new("evidence-unit", 4, 1, Second(1_764_000_000))
    }

    #[test]
    fn two_notarize_statements_on_different_ticks_are_evidence_and_round_trip_as_json() {
        let net = net();
        let e = Evidence {
            genesis: net.hash(),
            member: NodeId(2),
            rule: Rule::ConflictingNotarize,
            first: notarize(&net, 2, 6, 1, reading(0)),
            second: notarize(&net, 2, 6, 2, reading(0)),
        };
        let v = e.verify(&net.genesis).expect("valid");
        assert_eq!((v.member, v.rule, v.view), (NodeId(2), e.rule, View(6)));
        assert_eq!(Evidence::from_json(&e.to_json()).unwrap(), e);
        assert!(e.to_json().contains("\"conflicting_notarize\""));
    }

    #[test]
    fn a_leaders_two_proposals_name_the_leader_and_nobody_else() {
        let net = net();
        let mut e = Evidence {
            genesis: net.hash(),
            member: NodeId(1),
            rule: Rule::ConflictingProposals,
            first: notarize(&net, 1, 5, 1, reading(0)),
            second: notarize(&net, 1, 5, 2, reading(0)),
        };
        assert!(e.verify(&net.genesis).is_ok());
        e.first = notarize(&net, 1, 6, 1, reading(0));
        e.second = notarize(&net, 1, 6, 2, reading(0));
        assert_eq!(e.verify(&net.genesis).unwrap_err().code(), "not_leader");
    }

    #[test]
    fn a_finalize_that_repeats_its_notarize_is_no_evidence_and_one_with_another_reading_is() {
        let net = net();
        let n = notarize(&net, 3, 7, 1, reading(0));
        let finalize = |r: ClockReading| {
            let tick_hash = Hash([1; 32]);
            let msg = vote_signing_bytes(VoteKind::Finalize, &net.hash(), View(7), &tick_hash, &r);
            Statement::Finalize {
                view: View(7),
                tick_hash,
                reading: r,
                signature: crate::signing::sign(&net.keys[3], &msg),
            }
        };
        let mut e = Evidence {
            genesis: net.hash(),
            member: NodeId(3),
            rule: Rule::FinalizeContradictsNotarize,
            first: n,
            second: finalize(reading(0)),
        };
        assert_eq!(e.verify(&net.genesis).unwrap_err().code(), "no_conflict");
        e.second = finalize(reading(900));
        assert!(e.verify(&net.genesis).is_ok());
    }

    #[test]
    fn unknown_fields_and_unknown_kinds_do_not_parse() {
        let net = net();
        let e = Evidence {
            genesis: net.hash(),
            member: NodeId(2),
            rule: Rule::ConflictingNotarize,
            first: notarize(&net, 2, 6, 1, reading(0)),
            second: notarize(&net, 2, 6, 2, reading(0)),
        };
        let text = e.to_json();
        let extra = text.replacen("\"view\"", "\"extra\": 1, \"view\"", 1);
        assert_eq!(Evidence::from_json(&extra).unwrap_err().code(), "malformed");
        let kind = text.replacen("\"notarize\"", "\"propose\"", 1);
        assert_eq!(Evidence::from_json(&kind).unwrap_err().code(), "malformed");
    }
}
