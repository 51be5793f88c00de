//! Spotting a member that signed two statements no honest member signs together.
//!
//! Owns: comparing each signed vote the core sees (alone, in a proposal, or inside a
//! certificate) with the signer's statements it already holds for that view, and reporting a
//! contradiction once per (member, view, rule) as [`Action::Evidence`] (`specs/evidence.md`
//! §2). What it compares with is what the rounds already keep (the first vote per signer and
//! kind, and the votes of the view's certificates), so it holds nothing the view window does
//! not already bound. Never: changes which votes count, or reports a statement whose signature
//! it has not checked.

use super::core::Core;
use super::io::Action;
use super::messages::{NullifyVote, TickVote};
use super::round::Round;
use tickchain_sdk::evidence::{Evidence, Rule, Statement};
use tickchain_sdk::votes::VoteKind;
use tickchain_sdk::{NodeId, View};

/// The signed statement a notarize or finalize vote makes.
pub(crate) fn tick_statement(kind: VoteKind, v: &TickVote) -> Statement {
    match kind {
        VoteKind::Notarize => Statement::Notarize {
            view: v.view,
            tick_hash: v.tick_hash,
            reading: v.reading,
            signature: v.signature,
        },
        VoteKind::Finalize => Statement::Finalize {
            view: v.view,
            tick_hash: v.tick_hash,
            reading: v.reading,
            signature: v.signature,
        },
    }
}

fn nullify_statement(v: &NullifyVote) -> Statement {
    Statement::Nullify {
        view: v.view,
        signature: v.signature,
    }
}

/// `signer`'s notarize votes held for the round: the first seen alone, and its vote in the
/// round's notarization.
fn held_notarizes(r: &Round, signer: NodeId) -> impl Iterator<Item = &TickVote> {
    let cert = r
        .notarization
        .as_ref()
        .and_then(|(n, _)| n.votes.iter().find(|v| v.signer == signer));
    r.notarizes.get(&signer).into_iter().chain(cert)
}

/// `signer`'s nullify votes held for the round, alone or in its nullification.
fn held_nullifies(r: &Round, signer: NodeId) -> impl Iterator<Item = &NullifyVote> {
    let cert = r
        .nullification
        .as_ref()
        .and_then(|n| n.votes.iter().find(|v| v.signer == signer));
    r.nullifies.get(&signer).into_iter().chain(cert)
}

/// Whether two votes of one signer in one view say different things.
fn differs(a: &TickVote, b: &TickVote) -> bool {
    a.tick_hash != b.tick_hash || a.reading != b.reading
}

impl Core {
    /// A notarize or finalize vote `v` from anywhere: if it contradicts a statement its signer
    /// made that this core holds for the view, reports the pair (held first). Returns whether
    /// it contradicts one. The vote's signature is checked only when it does (a certificate's
    /// votes usually match what is held, and the verifier caches what it has checked).
    pub(crate) fn witness_tick_vote(&mut self, kind: VoteKind, v: &TickVote) -> bool {
        let Some(r) = self.rounds.get(&v.view) else {
            return false;
        };
        let signer = v.signer;
        let mut found: Vec<(Rule, Statement, Statement)> = Vec::new();
        let new = tick_statement(kind, v);
        match kind {
            VoteKind::Notarize => {
                let rule = if signer == self.ctx.leader(v.view) {
                    Rule::ConflictingProposals
                } else {
                    Rule::ConflictingNotarize
                };
                if let Some(held) = held_notarizes(r, signer).find(|h| differs(h, v)) {
                    found.push((rule, tick_statement(kind, held), new.clone()));
                }
                if let Some(held) = r.finalizes.get(&signer).filter(|h| differs(h, v)) {
                    found.push((
                        Rule::FinalizeContradictsNotarize,
                        tick_statement(VoteKind::Finalize, held),
                        new,
                    ));
                }
            }
            VoteKind::Finalize => {
                if let Some(held) = r.finalizes.get(&signer).filter(|h| differs(h, v)) {
                    found.push((
                        Rule::ConflictingFinalize,
                        tick_statement(kind, held),
                        new.clone(),
                    ));
                }
                if let Some(held) = held_notarizes(r, signer).find(|h| differs(h, v)) {
                    found.push((
                        Rule::FinalizeContradictsNotarize,
                        tick_statement(VoteKind::Notarize, held),
                        new.clone(),
                    ));
                }
                if let Some(held) = held_nullifies(r, signer).next() {
                    found.push((Rule::FinalizeAndNullify, nullify_statement(held), new));
                }
            }
        }
        self.report(signer, v.view, found, |core| {
            let gh = core.ctx.genesis_hash();
            signer.index() < core.ctx.n()
                && core
                    .ctx
                    .verifier
                    .check(signer, &v.signing_bytes(kind, &gh), &v.signature)
        })
    }

    /// A nullify vote `v` from anywhere: reported with the signer's finalize vote in the view,
    /// if this core holds one. Returns whether it contradicts one.
    pub(crate) fn witness_nullify(&mut self, v: &NullifyVote) -> bool {
        let Some(r) = self.rounds.get(&v.view) else {
            return false;
        };
        let found = r
            .finalizes
            .get(&v.signer)
            .map(|held| {
                (
                    Rule::FinalizeAndNullify,
                    tick_statement(VoteKind::Finalize, held),
                    nullify_statement(v),
                )
            })
            .into_iter()
            .collect();
        self.report(v.signer, v.view, found, |core| {
            let gh = core.ctx.genesis_hash();
            v.signer.index() < core.ctx.n()
                && core.ctx.verifier.check(
                    v.signer,
                    &tickchain_sdk::votes::nullify_signing_bytes(&gh, v.view),
                    &v.signature,
                )
        })
    }

    /// Reports each contradiction in `found` not yet reported for (`member`, `view`, rule),
    /// once `signed` confirms the new statement's signature. Returns whether `found` held any
    /// contradiction with a valid signature.
    fn report(
        &mut self,
        member: NodeId,
        view: View,
        found: Vec<(Rule, Statement, Statement)>,
        signed: impl FnOnce(&Core) -> bool,
    ) -> bool {
        if found.is_empty() || !signed(self) {
            return false;
        }
        let genesis = self.ctx.genesis_hash();
        for (rule, first, second) in found {
            if self.round(view).reported.insert((member, rule)) {
                self.out.push(Action::Evidence(Evidence {
                    genesis,
                    member,
                    rule,
                    first,
                    second,
                }));
            }
        }
        true
    }
}
