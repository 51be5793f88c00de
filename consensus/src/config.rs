//! The core's tunables and the fixed context it runs in (genesis, identity, key).
//!
//! Owns: every timeout and bound of the core, with its unit and default. Never: reads files or
//! environment (the daemon's config module builds a [`Config`]).

use super::clock::Tolerance;
use super::crypto::Verifier;
use ed25519_dalek::SigningKey;
use std::sync::Arc;
use tickchain_sdk::{Genesis, Hash, Nanos, NodeId, View};

/// Tunables of the consensus core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// How long after the view's second boundary a voter waits for the leader's proposal before
    /// it nullifies the view (capped at the genesis `max_late_ms`). Default 500 ms: a silent
    /// leader then costs one second, not two.
    pub leader_wait: Nanos,
    /// How long after the proposal deadline a voter waits for a notarization before it
    /// nullifies the view. Default 250 ms (so view changes land mid-second, not on a boundary).
    pub notarize_grace: Nanos,
    /// When a voter enters a view this close before a second boundary, it allows for the
    /// leader having already passed it (and proposing the next second). Default 250 ms.
    pub boundary_slack: Nanos,
    /// Interval between rebroadcasts of a nullify vote (with the view's entry certificate) while
    /// a view stays stuck. Default 1 s.
    pub nullify_retry: Nanos,
    /// A leader that sent no notarize or finalize vote in this many views is skipped: voters
    /// nullify its view at once. 0 disables skipping. Default 4 views.
    pub skip_inactive_views: u64,
    /// Interval between retries of an unanswered fetch. Default 500 ms.
    pub fetch_retry: Nanos,
    /// Votes, proposals and certificates for views further than this beyond the current one
    /// are dropped; a peer whose message is that far ahead is asked for its latest finalization
    /// instead, and a peer that far behind is sent ours (`specs/consensus.md` §10). Default 1000.
    pub max_views_ahead: u64,
    /// Most batches held for the next proposal. Default 4096.
    pub max_pending_batches: usize,
    /// Final ticks kept to answer lagging peers. Default 1024.
    pub history: usize,
    /// Most final ticks held while their ancestors are fetched. A longer gap below a
    /// finalization is closed in passes: the highest held ticks are dropped, the walk goes on
    /// down to the final tip, and the next finalization starts the next pass
    /// (`specs/consensus.md` §10). Default 8192 ticks (a few MiB for a small ring).
    pub max_waiting: usize,
    /// One of our batches that no final tick carries this long after it was offered is offered
    /// again (`specs/consensus.md` §5, Batches). Default 3 s.
    pub batch_reoffer_after: Nanos,
    /// How often the core looks for batches to offer again while it has any. Default 1 s.
    pub batch_reoffer_check: Nanos,
    /// The batch window: a batch whose second lies further back than this on our clock is not
    /// queued, and one of our own is no longer offered (`specs/consensus.md` §5, Batches; the
    /// pool re-seals its digests, `specs/pool.md` §6). Whole seconds count. Default 3,600 s.
    pub batch_max_age: Nanos,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            leader_wait: Nanos::from_millis(500),
            notarize_grace: Nanos::from_millis(250),
            boundary_slack: Nanos::from_millis(250),
            nullify_retry: Nanos::from_millis(1000),
            skip_inactive_views: 4,
            fetch_retry: Nanos::from_millis(500),
            max_views_ahead: 1000,
            max_pending_batches: 4096,
            history: 1024,
            max_waiting: 8192,
            batch_reoffer_after: Nanos::from_millis(3000),
            batch_reoffer_check: Nanos::from_millis(1000),
            batch_max_age: Nanos::from_secs(3600),
        }
    }
}

/// Everything fixed for the life of one core: who we are, the ring, and the tunables.
#[derive(Debug)]
pub struct Context {
    /// This node's position in genesis.
    pub me: NodeId,
    /// This node's Ed25519 identity key (signs votes).
    pub key: SigningKey,
    /// Signature checks against the genesis keys.
    pub verifier: Verifier,
    /// Tunables.
    pub config: Config,
}

impl Context {
    /// A context for node `me` with `key`, checking signatures through `verifier`.
    pub fn new(me: NodeId, key: SigningKey, verifier: Verifier, config: Config) -> Arc<Context> {
        Arc::new(Context {
            me,
            key,
            verifier,
            config,
        })
    }

    /// One context per node of a test network, sharing one signature cache (tests, the
    /// simulator and the model checker run whole rings in one process).
    pub fn ring(net: &tickchain_sdk::testkit::TestNetwork, config: Config) -> Vec<Arc<Context>> {
        let verifier = Verifier::new(net.genesis.clone());
        net.keys
            .iter()
            .enumerate()
            .map(|(i, key)| {
                Context::new(
                    NodeId(i as u16),
                    key.clone(),
                    verifier.clone(),
                    config.clone(),
                )
            })
            .collect()
    }

    /// The genesis.
    pub fn genesis(&self) -> &Genesis {
        self.verifier.network().genesis()
    }

    /// The genesis hash (binds every signature to this network).
    pub fn genesis_hash(&self) -> Hash {
        self.genesis().hash
    }

    /// Ring size n.
    pub fn n(&self) -> usize {
        self.genesis().n()
    }

    /// Quorum q = n − f.
    pub fn quorum(&self) -> usize {
        self.genesis().quorum as usize
    }

    /// The leader of `view`: round-robin over the genesis order.
    pub fn leader(&self, view: View) -> NodeId {
        NodeId((view.0 % self.n() as u64) as u16)
    }

    /// When, on the local clock, a voter stops waiting for a proposal for `second`.
    pub fn proposal_deadline(&self, second: tickchain_sdk::Second) -> tickchain_sdk::UtcNanos {
        let wait = self.config.leader_wait.min(self.tolerance().max_late);
        second.start().saturating_add(wait)
    }

    /// When, on the local clock, a voter stops waiting for a notarization for `second`.
    pub fn notarize_deadline(&self, second: tickchain_sdk::Second) -> tickchain_sdk::UtcNanos {
        self.proposal_deadline(second)
            .saturating_add(self.config.notarize_grace)
    }

    /// The genesis tolerances on a tick's second.
    pub fn tolerance(&self) -> Tolerance {
        Tolerance {
            max_early: Nanos::from_millis(i64::from(self.genesis().max_early_ms)),
            max_late: Nanos::from_millis(i64::from(self.genesis().max_late_ms)),
        }
    }
}
