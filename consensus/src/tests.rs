//! The core and codec as specifications: each test builds a small ring, acts once, and checks
//! the outcome against `specs/consensus.md`.

use super::*;
use crate::reject::Rejection;
use std::sync::Arc;
use tickchain_sdk::testkit::TestNetwork;
use tickchain_sdk::votes::ClockReading;
use tickchain_sdk::{Hash, Nanos, NodeId, Second, UtcNanos, View};

const GENESIS: Second = Second(1_700_000_000);

struct Ring {
    net: TestNetwork,
    ctxs: Vec<Arc<Context>>,
}

fn ring(n: usize) -> Ring {
    let net = TestNetwork::new("core-tests", n, ((n - 1) / 3) as u16, GENESIS);
    let ctxs = Context::ring(&net, Config::default());
    Ring { net, ctxs }
}

/// A clock `ms` milliseconds after the start of `second`, ±10 ms.
fn at(second: Second, ms: i64) -> LocalClock {
    LocalClock::synced(
        second.start().saturating_add(Nanos::from_millis(ms)),
        Nanos::from_millis(10),
    )
}

fn first_second() -> Second {
    Second(GENESIS.0 + 1)
}

/// Node 1 leads view 1: start it just before the first second and fire its propose timer.
fn leader_proposal(r: &Ring) -> Proposal {
    let mut leader = Core::new(r.ctxs[1].clone(), &Persisted::default());
    leader.handle(&at(GENESIS, 900), Input::Start);
    let actions = leader.handle(
        &at(first_second(), 0),
        Input::Timer(Timer::Propose(View(1))),
    );
    actions
        .into_iter()
        .find_map(|a| match a {
            Action::Broadcast(Message::Proposal(p)) => Some(p),
            _ => None,
        })
        .expect("the leader proposes at its second boundary")
}

fn started(r: &Ring, i: usize) -> Core {
    let mut core = Core::new(r.ctxs[i].clone(), &Persisted::default());
    core.handle(&at(GENESIS, 900), Input::Start);
    core
}

fn deliver(core: &mut Core, clock: LocalClock, from: usize, m: Message) -> Vec<Action> {
    core.handle(
        &clock,
        Input::Message {
            from: NodeId(from as u16),
            message: m,
        },
    )
}

fn notarize_of(actions: &[Action]) -> Option<TickVote> {
    actions.iter().find_map(|a| match a {
        Action::Broadcast(Message::Notarize(v)) => Some(v.clone()),
        _ => None,
    })
}

#[test]
fn the_leader_proposes_the_next_second_after_its_parent_at_its_boundary() {
    let r = ring(4);
    let p = leader_proposal(&r);
    assert_eq!(p.tick.second, first_second());
    assert_eq!(p.tick.prev_hash, r.net.genesis.hash);
    assert_eq!(p.tick.height.0, 1);
    assert_eq!(p.tick.proposer, NodeId(1));
}

#[test]
fn every_vote_is_persisted_before_it_is_sent() {
    let r = ring(4);
    let p = leader_proposal(&r);
    let mut voter = started(&r, 2);
    let actions = deliver(&mut voter, at(first_second(), 30), 1, Message::Proposal(p));
    let persist = actions
        .iter()
        .position(|a| matches!(a, Action::Persist(Record::Vote(Vote::Notarize(_)))))
        .expect("the vote is persisted");
    let send = actions
        .iter()
        .position(|a| matches!(a, Action::Broadcast(Message::Notarize(_))))
        .expect("the vote is sent");
    assert!(persist < send, "{actions:?}");
}

#[test]
fn a_timely_proposal_is_notarized_with_the_voters_reading() {
    let r = ring(4);
    let p = leader_proposal(&r);
    let mut voter = started(&r, 2);
    let clock = at(first_second(), 30);
    let vote =
        notarize_of(&deliver(&mut voter, clock, 1, Message::Proposal(p))).expect("notarized");
    assert_eq!(vote.reading, clock.reading);
}

#[test]
fn a_late_proposal_is_never_notarized_and_the_view_is_nullified() {
    let r = ring(4);
    let p = leader_proposal(&r);
    let mut voter = started(&r, 2);
    let actions = deliver(&mut voter, at(first_second(), 995), 1, Message::Proposal(p));
    assert!(notarize_of(&actions).is_none(), "{actions:?}");
    assert!(
        actions
            .iter()
            .any(|a| matches!(a, Action::Broadcast(Message::Nullify(_))))
    );
}

#[test]
fn an_unsynchronised_node_never_votes_for_a_tick() {
    let r = ring(4);
    let p = leader_proposal(&r);
    let mut voter = started(&r, 2);
    let mut clock = at(first_second(), 30);
    clock.synchronized = false;
    let actions = deliver(&mut voter, clock, 1, Message::Proposal(p));
    assert!(notarize_of(&actions).is_none(), "{actions:?}");
}

#[test]
fn a_proposal_from_a_clock_far_ahead_is_nullified_at_once() {
    let r = ring(4);
    let mut p = leader_proposal(&r);
    p.tick.second = Second(first_second().0 + 10);
    let gh = r.net.genesis.hash;
    p.vote = TickVote::sign(
        tickchain_sdk::votes::VoteKind::Notarize,
        &r.net.keys[1],
        &gh,
        NodeId(1),
        View(1),
        p.tick.hash(&gh),
        p.vote.reading,
    );
    let mut voter = started(&r, 2);
    let actions = deliver(&mut voter, at(first_second(), 30), 1, Message::Proposal(p));
    assert!(notarize_of(&actions).is_none());
    assert!(
        actions
            .iter()
            .any(|a| matches!(a, Action::Broadcast(Message::Nullify(_))))
    );
}

#[test]
fn a_restarted_node_does_not_vote_again_in_a_view_it_voted_in() {
    let r = ring(4);
    let p = leader_proposal(&r);
    let mut voter = started(&r, 2);
    let mut persisted = Persisted::default();
    let actions = deliver(
        &mut voter,
        at(first_second(), 30),
        1,
        Message::Proposal(p.clone()),
    );
    persisted.apply_actions(&actions);
    let mut restarted = Core::new(r.ctxs[2].clone(), &persisted);
    let mut actions = restarted.handle(&at(first_second(), 40), Input::Start);
    actions.extend(deliver(
        &mut restarted,
        at(first_second(), 50),
        1,
        Message::Proposal(p),
    ));
    assert!(notarize_of(&actions).is_none(), "{actions:?}");
}

#[test]
fn q_notarize_votes_make_a_notarization_then_a_finalize_with_the_same_reading() {
    let r = ring(4);
    let p = leader_proposal(&r);
    let mut voters: Vec<Core> = (0..4).map(|i| started(&r, i)).collect();
    let mut votes = vec![p.vote.clone()];
    for i in [2, 3] {
        let v = notarize_of(&deliver(
            &mut voters[i],
            at(first_second(), 20 + i as i64),
            1,
            Message::Proposal(p.clone()),
        ))
        .unwrap();
        votes.push(v);
    }
    let mine = votes[1].clone();
    let mut actions = Vec::new();
    for v in [&votes[0], &votes[2]] {
        actions.extend(deliver(
            &mut voters[2],
            at(first_second(), 60),
            v.signer.index(),
            Message::Notarize(v.clone()),
        ));
    }
    assert!(
        actions
            .iter()
            .any(|a| matches!(a, Action::Broadcast(Message::Notarization(_))))
    );
    let fin = actions
        .iter()
        .find_map(|a| match a {
            Action::Broadcast(Message::Finalize(v)) => Some(v.clone()),
            _ => None,
        })
        .expect("finalize after notarization");
    assert_eq!(fin.reading, mine.reading);
    assert_eq!(voters[2].view(), View(2));
}

#[test]
fn a_ring_of_four_finalizes_the_first_tick_with_a_certificate_the_sdk_accepts() {
    let stats = sim::run(sim::Scenario::calm(9, 4, 5, 4)).unwrap();
    assert!(stats.ticks >= 2, "{stats:?}");
}

#[test]
fn a_vote_signed_for_another_view_is_not_counted() {
    let r = ring(4);
    let p = leader_proposal(&r);
    let mut forged = p.vote.clone();
    forged.view = View(2);
    let mut voter = started(&r, 2);
    deliver(
        &mut voter,
        at(first_second(), 30),
        1,
        Message::Notarize(forged),
    );
    assert!(voter.certified_views().is_empty());
}

fn sample_messages() -> Vec<Message> {
    let r = ring(4);
    let p = leader_proposal(&r);
    let gh = r.net.genesis.hash;
    let batch = r
        .net
        .batch(NodeId(0), GENESIS, &[tickchain_sdk::Digest([1; 32])])
        .batch;
    let mut with_batch = p.clone();
    with_batch.batches.push(batch.clone());
    let nullify = NullifyVote::sign(&r.net.keys[0], &gh, NodeId(0), View(3));
    let reading = ClockReading {
        earliest: UtcNanos(-5),
        latest: UtcNanos(i64::MAX),
    };
    let cert = r
        .net
        .certify(&p.tick, &[(NodeId(0), reading), (NodeId(2), reading)]);
    vec![
        Message::Proposal(p.clone()),
        Message::Proposal(with_batch),
        Message::Notarize(p.vote.clone()),
        Message::Finalize(p.vote.clone()),
        Message::Nullify(nullify.clone()),
        Message::Notarization(Notarization {
            tick: p.tick.clone(),
            votes: vec![p.vote.clone(), p.vote.clone()],
        }),
        Message::Nullification(Nullification {
            view: View(3),
            votes: vec![nullify],
        }),
        Message::Finalization(Finalization {
            tick: p.tick.clone(),
            certificate: cert.clone(),
        }),
        Message::Fetch(Fetch {
            views: vec![View(1), View(u64::MAX)],
            ticks: vec![Hash([9; 32])],
        }),
        Message::Chain(vec![
            ChainTick {
                tick: p.tick.clone(),
                certificate: Some(cert),
            },
            ChainTick {
                tick: p.tick,
                certificate: None,
            },
        ]),
        Message::Batch(batch),
    ]
}

/// The `peer_message` fuzz target starts from one encoded message of each kind
/// (`fuzz/seeds/peer_message/`); they must be the current encoding. Rewrite them with
/// `TICKCHAIN_WRITE_FUZZ_SEEDS=1 cargo test -p tickchain-timenode --lib fuzz_seeds`.
#[test]
fn fuzz_seeds_are_the_current_encoding_of_every_message_kind() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/peer_message");
    let write = std::env::var_os("TICKCHAIN_WRITE_FUZZ_SEEDS").is_some();
    for (i, m) in sample_messages().iter().enumerate() {
        let path = dir.join(format!("{i:02}-{}.bin", m.kind()));
        if write {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, encode(m)).unwrap();
        }
        let seed = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(seed, encode(m), "{} is stale", path.display());
    }
}

#[test]
fn every_message_kind_survives_an_encode_decode_round_trip() {
    for m in sample_messages() {
        assert_eq!(decode(&encode(&m)).unwrap(), m, "{}", m.kind());
    }
}

#[test]
fn every_truncation_of_a_message_is_rejected_without_panicking() {
    for m in sample_messages() {
        let bytes = encode(&m);
        for len in 0..bytes.len() {
            assert!(decode(&bytes[..len]).is_err(), "{} cut at {len}", m.kind());
        }
    }
}

#[test]
fn trailing_bytes_are_rejected() {
    let mut bytes = encode(&sample_messages()[2]);
    bytes.push(0);
    assert!(matches!(
        decode(&bytes),
        Err(CodecError::Field(
            tickchain_sdk::encoding::DecodeError::Trailing { count: 1 }
        ))
    ));
}

#[test]
fn a_message_over_the_size_cap_is_rejected_before_parsing() {
    let bytes = vec![1u8; codec::MAX_MESSAGE_BYTES + 1];
    let err = decode(&bytes).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "message of {} bytes exceeds the cap of {} bytes",
            codec::MAX_MESSAGE_BYTES + 1,
            codec::MAX_MESSAGE_BYTES
        )
    );
}

#[test]
fn a_list_count_above_its_cap_is_rejected_without_allocating() {
    // Kind 6 (nullification), view, then a vote count of 65535.
    let mut bytes = vec![6u8];
    bytes.extend_from_slice(&7u64.to_be_bytes());
    bytes.extend_from_slice(&u16::MAX.to_be_bytes());
    assert!(matches!(
        decode(&bytes),
        Err(CodecError::TooMany {
            field: "nullification.votes",
            ..
        })
    ));
}

#[test]
fn an_unknown_kind_says_what_was_expected() {
    assert_eq!(
        decode(&[42]).unwrap_err().to_string(),
        "unknown message kind 42: expected 1 to 11"
    );
}

/// The leader (node 1) after every batch in `inputs` was offered to it, proposing view 1.
fn proposal_after_batches(r: &Ring, inputs: Vec<(usize, tickchain_sdk::Batch)>) -> Proposal {
    let mut leader = started(r, 1);
    for (from, b) in inputs {
        if from == 1 {
            leader.handle(&at(GENESIS, 950), Input::Batch(b));
        } else {
            deliver(&mut leader, at(GENESIS, 950), from, Message::Batch(b));
        }
    }
    leader
        .handle(
            &at(first_second(), 0),
            Input::Timer(Timer::Propose(View(1))),
        )
        .into_iter()
        .find_map(|a| match a {
            Action::Broadcast(Message::Proposal(p)) => Some(p),
            _ => None,
        })
        .expect("the leader proposes")
}

#[test]
fn one_node_flooding_batches_cannot_crowd_out_the_others_or_park_future_batches() {
    let r = ring(4);
    let digest = [tickchain_sdk::Digest([5; 32])];
    let mut inputs = Vec::new();
    // Node 3 floods 5,000 signed batches (more than the whole queue) for past seconds, then one
    // far in the future.
    for k in 0..5_000u64 {
        inputs.push((
            3,
            r.net
                .batch(NodeId(3), Second(GENESIS.0 - 1 - k), &digest)
                .batch,
        ));
    }
    let future = r
        .net
        .batch(NodeId(3), Second(GENESIS.0 + 60), &digest)
        .batch;
    inputs.push((3, future.clone()));
    // A batch relayed by someone other than its signer is ignored.
    let relayed = r.net.batch(NodeId(2), Second(GENESIS.0 - 5), &digest).batch;
    inputs.push((3, relayed.clone()));
    // Honest nodes' batches arrive after the flood.
    let honest: Vec<_> = [0u16, 1, 2]
        .iter()
        .map(|&i| r.net.batch(NodeId(i), GENESIS, &digest).batch)
        .collect();
    for b in &honest {
        inputs.push((b.node.index(), b.clone()));
    }
    let p = proposal_after_batches(&r, inputs);
    for b in &honest {
        assert!(
            p.batches.contains(b),
            "node {}'s batch was crowded out",
            b.node
        );
    }
    assert!(
        !p.batches.contains(&future),
        "a batch 60 s ahead is not queued"
    );
    assert!(
        !p.batches.contains(&relayed),
        "only a batch's signer may offer it"
    );
    let from_3 = p.batches.iter().filter(|b| b.node == NodeId(3)).count();
    assert_eq!(
        from_3,
        Config::default().max_pending_batches / 4,
        "node 3 gets its share"
    );
    assert!(p.batches.len() <= codec::MAX_BATCHES);
}

/// A finalization for `p`'s tick signed by nodes 0, 1 and 2, with readings at the tick's second.
fn finalization_of(r: &Ring, tick: &tickchain_sdk::Tick) -> Message {
    let reading = tickchain_sdk::testkit::TestNetwork::reading(tick.second, 20, 10);
    let signers: Vec<_> = (0..3u16).map(|i| (NodeId(i), reading)).collect();
    Message::Finalization(Finalization {
        tick: tick.clone(),
        certificate: r.net.certify(tick, &signers),
    })
}

fn finalized_batches(actions: &[Action]) -> Option<Option<Vec<tickchain_sdk::Batch>>> {
    actions.iter().find_map(|a| match a {
        Action::Finalized { batches, .. } => Some(batches.clone()),
        _ => None,
    })
}

/// `specs/consensus.md` §5, Batches: a final tick reports the batch list its proposal carried
/// only when that list hashes to the tick's `batch_root`; a stripped or forged list relayed
/// ahead of the leader's own proposal neither takes its place nor is reported; an
/// equivocating leader's second proposal for a view is never reported as the first's list.
#[test]
fn only_the_batch_list_under_the_ticks_root_is_reported_once_per_view() {
    let r = ring(4);
    let b0 = r
        .net
        .batch(NodeId(0), GENESIS, &[tickchain_sdk::Digest([1; 32])])
        .batch;
    let p = proposal_after_batches(&r, vec![(0, b0.clone())]);
    assert_eq!(p.batches, vec![b0.clone()]);
    let mut voter = started(&r, 2);
    let mut stripped = p.clone();
    stripped.batches.clear();
    deliver(
        &mut voter,
        at(first_second(), 10),
        3,
        Message::Proposal(stripped),
    );
    let mut reordered = p.clone();
    reordered.batches.push(b0.clone());
    deliver(
        &mut voter,
        at(first_second(), 11),
        3,
        Message::Proposal(reordered),
    );
    deliver(
        &mut voter,
        at(first_second(), 20),
        1,
        Message::Proposal(p.clone()),
    );
    let actions = deliver(
        &mut voter,
        at(first_second(), 80),
        0,
        finalization_of(&r, &p.tick),
    );
    assert_eq!(
        finalized_batches(&actions),
        Some(Some(vec![b0.clone()])),
        "forged lists are ignored and the true one is reported"
    );

    // An equivocating leader: the first proposal for view 1 carries b0, a second one (another
    // tick for the same view) carries nothing; the second is certified.
    let mut voter = started(&r, 3);
    deliver(
        &mut voter,
        at(first_second(), 20),
        1,
        Message::Proposal(p.clone()),
    );
    let other = proposal_after_batches(&r, Vec::new());
    assert_ne!(other.tick, p.tick);
    deliver(
        &mut voter,
        at(first_second(), 25),
        1,
        Message::Proposal(other.clone()),
    );
    let actions = deliver(
        &mut voter,
        at(first_second(), 80),
        0,
        finalization_of(&r, &other.tick),
    );
    assert_eq!(
        finalized_batches(&actions),
        Some(Some(Vec::new())),
        "the certified tick's own (empty) list, never the first proposal's"
    );
}

/// `specs/consensus.md` §5, Batches: the core broadcasts our batch at once, offers it again
/// when no final tick carried it `batch_reoffer_after` later, and never again once a final
/// tick carries it.
#[test]
fn a_confirmed_batch_is_never_offered_again_and_a_fresh_one_waits() {
    let r = ring(4);
    let batch = |s: u64, d: u8| {
        r.net
            .batch(NodeId(0), Second(s), &[tickchain_sdk::Digest([d; 32])])
            .batch
    };
    let (b1, b2) = (batch(GENESIS.0, 1), batch(GENESIS.0 - 1, 2));
    let broadcast_batches = |actions: &[Action]| -> Vec<tickchain_sdk::Batch> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Broadcast(Message::Batch(b)) => Some(b.clone()),
                _ => None,
            })
            .collect()
    };
    let mut node = started(&r, 0);
    let offered = node.handle(&at(GENESIS, 950), Input::Batch(b1.clone()));
    assert_eq!(broadcast_batches(&offered), vec![b1.clone()]);
    assert!(offered.iter().any(|a| matches!(
        a,
        Action::SetTimer {
            timer: Timer::Reoffer,
            ..
        }
    )));
    node.handle(&at(GENESIS, 951), Input::Batch(b2.clone()));
    assert_eq!(node.unconfirmed_batches(), 2);
    let early = node.handle(&at(first_second(), 0), Input::Timer(Timer::Reoffer));
    assert!(broadcast_batches(&early).is_empty(), "just offered");

    // The leader's proposal carries b1 (node 0 offered it to node 1), and the tick is final.
    let p = proposal_after_batches(&r, vec![(0, b1.clone())]);
    assert_eq!(p.batches, vec![b1.clone()]);
    deliver(
        &mut node,
        at(first_second(), 20),
        1,
        Message::Proposal(p.clone()),
    );
    let fin = deliver(
        &mut node,
        at(first_second(), 80),
        1,
        finalization_of(&r, &p.tick),
    );
    assert_eq!(finalized_batches(&fin), Some(Some(vec![b1.clone()])));
    assert_eq!(node.unconfirmed_batches(), 1);

    let later = node.handle(&at(Second(GENESIS.0 + 4), 0), Input::Timer(Timer::Reoffer));
    assert_eq!(
        broadcast_batches(&later),
        vec![b2.clone()],
        "only the batch no final tick carries is offered again"
    );
}

/// `specs/consensus.md` §5, Batches: one of our batches that outlived the batch window is
/// offered while it is inside the window and forgotten once it is not (no tick can carry it;
/// the node's pool re-seals its digests, `specs/pool.md` §6).
#[test]
fn a_batch_of_ours_that_outlived_the_batch_window_is_forgotten_not_offered_forever() {
    let net = TestNetwork::new("core-tests", 4, 1, GENESIS);
    let config = Config {
        batch_max_age: Nanos::from_secs(10),
        ..Config::default()
    };
    let r = Ring {
        ctxs: Context::ring(&net, config),
        net,
    };
    let b = r
        .net
        .batch(NodeId(0), GENESIS, &[tickchain_sdk::Digest([7; 32])])
        .batch;
    let offered = |actions: &[Action]| {
        actions
            .iter()
            .any(|a| matches!(a, Action::Broadcast(Message::Batch(x)) if *x == b))
    };
    let mut node = started(&r, 0);
    assert!(offered(
        &node.handle(&at(GENESIS, 950), Input::Batch(b.clone()))
    ));
    let inside = node.handle(&at(Second(GENESIS.0 + 10), 0), Input::Timer(Timer::Reoffer));
    assert!(offered(&inside), "offered again inside the window");
    let outside = node.handle(&at(Second(GENESIS.0 + 14), 0), Input::Timer(Timer::Reoffer));
    assert!(!offered(&outside), "not offered once outside the window");
    assert_eq!(node.unconfirmed_batches(), 0, "and forgotten");
}

/// The proposals whose batch lists the core holds are bounded: rounds (and their proposals)
/// below the final tip's view are dropped, and a proposal beyond `max_views_ahead` is never
/// stored.
#[test]
fn proposals_are_held_only_between_the_final_tip_and_the_view_window() {
    let r = ring(4);
    let p = leader_proposal(&r);
    let mut voter = started(&r, 2);
    deliver(
        &mut voter,
        at(first_second(), 20),
        1,
        Message::Proposal(p.clone()),
    );
    deliver(
        &mut voter,
        at(first_second(), 80),
        0,
        finalization_of(&r, &p.tick),
    );
    assert!(voter.rounds.keys().all(|v| *v >= p.tick.view));

    let far = View(Config::default().max_views_ahead + 10);
    let leader = r.ctxs[0].leader(far);
    let mut tick = p.tick.clone();
    tick.view = far;
    tick.proposer = leader;
    let hash = tick.hash(&r.net.genesis.hash);
    let vote = TickVote::sign(
        tickchain_sdk::votes::VoteKind::Notarize,
        &r.net.keys[leader.index()],
        &r.net.genesis.hash,
        leader,
        far,
        hash,
        p.vote.reading,
    );
    let far_proposal = Proposal {
        tick,
        parent_view: View(1),
        batches: Vec::new(),
        vote,
    };
    deliver(
        &mut voter,
        at(first_second(), 90),
        leader.index(),
        Message::Proposal(far_proposal),
    );
    assert!(!voter.rounds.contains_key(&far));
}

/// `p` with its tick's second set to `second` and signed again by its leader (node 1): a
/// Byzantine leader's own, validly signed proposal.
fn resigned_for(r: &Ring, mut p: Proposal, second: Second) -> Proposal {
    let gh = r.net.genesis.hash;
    p.tick.second = second;
    p.vote = TickVote::sign(
        tickchain_sdk::votes::VoteKind::Notarize,
        &r.net.keys[1],
        &gh,
        NodeId(1),
        p.tick.view,
        p.tick.hash(&gh),
        p.vote.reading,
    );
    p
}

fn nullified(actions: &[Action]) -> bool {
    actions
        .iter()
        .any(|a| matches!(a, Action::Broadcast(Message::Nullify(_))))
}

/// Issue 13: `real + 2^55` seconds starts, modulo 2^64 nanoseconds, exactly when `real` does;
/// a voter whose arithmetic wrapped found the proposal timely and notarized it (and a build
/// with overflow checks panicked every honest voter).
#[test]
fn a_leader_signed_proposal_for_a_wrapped_second_is_nullified_and_never_notarized() {
    let r = ring(4);
    let real = first_second();
    let p = resigned_for(&r, leader_proposal(&r), Second(real.0 + (1 << 55)));
    let mut voter = started(&r, 2);
    let actions = deliver(&mut voter, at(real, 30), 1, Message::Proposal(p));
    assert!(notarize_of(&actions).is_none(), "{actions:?}");
    assert!(nullified(&actions), "{actions:?}");
    assert_eq!(voter.rejections().get(Rejection::WrappedSecond), 1);
}

/// `specs/consensus.md` §2 and §5: a second a day ahead, the last valid second, and seconds
/// past it are all refused at once, whatever the leader signed.
#[test]
fn a_leader_signed_proposal_far_in_the_future_is_nullified_and_never_notarized() {
    let r = ring(4);
    for (second, why) in [
        (Second(first_second().0 + 86_400), Rejection::FutureSecond),
        (Second::MAX, Rejection::FutureSecond),
        (Second(Second::MAX.0 + 1), Rejection::WrappedSecond),
        (Second(u64::MAX), Rejection::WrappedSecond),
    ] {
        let p = resigned_for(&r, leader_proposal(&r), second);
        let mut voter = started(&r, 2);
        let actions = deliver(&mut voter, at(first_second(), 30), 1, Message::Proposal(p));
        assert!(notarize_of(&actions).is_none(), "{second}: {actions:?}");
        assert!(nullified(&actions), "{second}: {actions:?}");
        assert_eq!(voter.rejections().get(why), 1, "{second}");
        assert_eq!(voter.rejections().total(), 1, "{second}");
    }
}

/// `specs/consensus.md` §2: no leader with a timely reading of a true clock proposes a second
/// starting after the voter's `latest + max_early`, so such a proposal is nullified at once;
/// one starting exactly there is early and waits for a recheck.
#[test]
fn a_proposal_starting_after_the_voters_latest_plus_max_early_is_nullified_at_once() {
    let r = ring(4);
    let s = Second(first_second().0 + 1);
    let p = resigned_for(&r, leader_proposal(&r), s);
    let edge = s.start().saturating_sub(r.ctxs[2].tolerance().max_early);
    let latest_at = |latest: UtcNanos| {
        LocalClock::synced(
            latest.saturating_sub(Nanos::from_millis(10)),
            Nanos::from_millis(10),
        )
    };

    let mut voter = started(&r, 2);
    let actions = deliver(&mut voter, latest_at(edge), 1, Message::Proposal(p.clone()));
    assert!(!nullified(&actions), "{actions:?}");
    assert!(
        actions.iter().any(|a| matches!(
            a,
            Action::SetTimer {
                timer: Timer::Recheck(_),
                ..
            }
        )),
        "{actions:?}"
    );

    let mut voter = started(&r, 2);
    let beyond = latest_at(edge.saturating_sub(Nanos(1)));
    let actions = deliver(&mut voter, beyond, 1, Message::Proposal(p));
    assert!(notarize_of(&actions).is_none(), "{actions:?}");
    assert!(nullified(&actions), "{actions:?}");
}

fn conflict_of(actions: &[Action]) -> Option<(tickchain_sdk::Height, ChainTick, Vec<ChainTick>)> {
    actions.iter().find_map(|a| match a {
        Action::Conflict {
            height,
            ours,
            theirs,
        } => Some((*height, ours.clone(), theirs.clone())),
        _ => None,
    })
}

/// `specs/consensus.md` §7: with more than f faulty members two ticks can each get a valid
/// finality certificate at one height. Whether the other one arrives for a height this node
/// already has, or as a certified chain that cannot extend its tip, the core reports the
/// conflict with both sides (and nothing final after it); a tick that fails to link without a
/// certificate of its own is only counted.
#[test]
fn two_certified_final_ticks_at_one_height_are_reported_as_a_conflict() {
    let r = ring(4);
    let gh = r.net.genesis.hash;
    let p = leader_proposal(&r);
    // Our final tick at height 1 (view 1).
    let mut node = started(&r, 2);
    deliver(
        &mut node,
        at(first_second(), 20),
        1,
        Message::Proposal(p.clone()),
    );
    let fin = deliver(
        &mut node,
        at(first_second(), 80),
        0,
        finalization_of(&r, &p.tick),
    );
    assert!(finalized_batches(&fin).is_some());
    assert!(conflict_of(&fin).is_none());

    // Another tick at height 1 (view 2, the next second), certified by 3 of 4 keys.
    let (other, _) = r.net.tick(
        tickchain_sdk::Height(1),
        View(2),
        Second(first_second().0 + 1),
        gh,
        &[],
    );
    assert_ne!(other.hash(&gh), p.tick.hash(&gh));
    let mut below = node.clone();
    let actions = deliver(
        &mut below,
        at(Second(first_second().0 + 1), 80),
        0,
        finalization_of(&r, &other),
    );
    let (height, ours, theirs) = conflict_of(&actions).expect("a conflict at height 1");
    assert_eq!(height, tickchain_sdk::Height(1));
    assert_eq!(ours.tick, p.tick);
    assert_eq!(theirs[0].tick, other);
    assert!(theirs[0].certificate.is_some());

    // A certified tick at height 2 whose parent is that other tick: it cannot extend our tip.
    let child = r.net.child(&other, View(3), Second(first_second().0 + 2));
    let mut above = node.clone();
    let actions = deliver(
        &mut above,
        at(Second(first_second().0 + 2), 80),
        0,
        finalization_of(&r, &child),
    );
    let (height, ours, theirs) = conflict_of(&actions).expect("a conflict below height 2");
    assert_eq!(height, tickchain_sdk::Height(1));
    assert_eq!(ours.tick, p.tick);
    assert_eq!(theirs[0].tick, child);
    // Nothing is reported final after a conflict.
    let later = r.net.child(&child, View(4), Second(first_second().0 + 3));
    let after = deliver(
        &mut above,
        at(Second(first_second().0 + 3), 80),
        0,
        finalization_of(&r, &later),
    );
    assert!(finalized_batches(&after).is_none() && conflict_of(&after).is_none());

    // The same fork seen only through an uncertified tick is no conflict: it is counted.
    let mut uncertified = node.clone();
    let actions = deliver(
        &mut uncertified,
        at(Second(first_second().0 + 2), 80),
        0,
        Message::Chain(vec![ChainTick {
            tick: child.clone(),
            certificate: None,
        }]),
    );
    assert!(
        conflict_of(&actions).is_none(),
        "no certificate, no conflict"
    );
    assert_eq!(
        uncertified.unlinkable_ticks(),
        0,
        "an unwanted tick is not even linked"
    );
}

// Evidence of misbehaviour (`specs/evidence.md`) and the per-reason rejection counters.

fn evidence_of(actions: &[Action]) -> Vec<tickchain_sdk::Evidence> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Evidence(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

/// Node `signer`'s vote of `kind` for `view` on `hash` at `reading`.
fn vote_by(
    r: &Ring,
    kind: tickchain_sdk::votes::VoteKind,
    signer: usize,
    view: View,
    hash: Hash,
    reading: ClockReading,
) -> TickVote {
    TickVote::sign(
        kind,
        &r.net.keys[signer],
        &r.net.genesis.hash,
        NodeId(signer as u16),
        view,
        hash,
        reading,
    )
}

fn nullify_by(r: &Ring, signer: usize, view: View) -> NullifyVote {
    NullifyVote::sign(
        &r.net.keys[signer],
        &r.net.genesis.hash,
        NodeId(signer as u16),
        view,
    )
}

/// Delivers `messages` from `from` to `core` in order, 30 ms into the first second, and
/// returns every action.
fn deliver_all(core: &mut Core, from: usize, messages: Vec<Message>) -> Vec<Action> {
    messages
        .into_iter()
        .flat_map(|m| deliver(core, at(first_second(), 30), from, m))
        .collect()
}

fn the_one_verified(r: &Ring, actions: &[Action]) -> tickchain_sdk::VerifiedEvidence {
    let found = evidence_of(actions);
    assert_eq!(found.len(), 1, "{found:?}");
    found[0]
        .verify(&r.net.genesis)
        .expect("evidence verifies against genesis")
}

#[test]
fn two_conflicting_proposals_from_a_leader_yield_exactly_one_evidence_that_verifies() {
    let r = ring(4);
    let p = leader_proposal(&r);
    let other = resigned_for(&r, p.clone(), Second(first_second().0 + 1));
    let mut voter = started(&r, 2);
    let actions = deliver_all(
        &mut voter,
        1,
        vec![
            Message::Proposal(p.clone()),
            Message::Proposal(other.clone()),
            Message::Proposal(other),
            Message::Proposal(p),
        ],
    );
    let v = the_one_verified(&r, &actions);
    assert_eq!(v.member, NodeId(1));
    assert_eq!(v.rule, tickchain_sdk::Rule::ConflictingProposals);
    assert_eq!(v.view, View(1));
    assert_eq!(voter.rejections().get(Rejection::Equivocation), 2);
}

#[test]
fn two_notarize_votes_for_one_view_from_one_signer_yield_exactly_one_evidence() {
    let r = ring(4);
    let reading = at(first_second(), 30).reading;
    let kind = tickchain_sdk::votes::VoteKind::Notarize;
    let a = vote_by(&r, kind, 3, View(1), Hash([1; 32]), reading);
    let b = vote_by(&r, kind, 3, View(1), Hash([2; 32]), reading);
    let mut voter = started(&r, 2);
    let actions = deliver_all(
        &mut voter,
        3,
        vec![
            Message::Notarize(a.clone()),
            Message::Notarize(b.clone()),
            Message::Notarize(b),
        ],
    );
    let v = the_one_verified(&r, &actions);
    assert_eq!(
        (v.member, v.rule),
        (NodeId(3), tickchain_sdk::Rule::ConflictingNotarize)
    );
    let e = &evidence_of(&actions)[0];
    assert_eq!(
        e.first,
        crate::evidence::tick_statement(kind, &a),
        "the first statement is the one seen first"
    );
}

#[test]
fn a_finalize_and_a_nullify_for_one_view_yield_one_evidence_in_either_order() {
    let r = ring(4);
    let reading = at(first_second(), 30).reading;
    let fin = Message::Finalize(vote_by(
        &r,
        tickchain_sdk::votes::VoteKind::Finalize,
        3,
        View(1),
        Hash([1; 32]),
        reading,
    ));
    let null = Message::Nullify(nullify_by(&r, 3, View(1)));
    for order in [vec![fin.clone(), null.clone()], vec![null, fin]] {
        let mut voter = started(&r, 2);
        let actions = deliver_all(&mut voter, 3, order);
        let v = the_one_verified(&r, &actions);
        assert_eq!(v.rule, tickchain_sdk::Rule::FinalizeAndNullify);
    }
}

#[test]
fn a_finalize_with_another_reading_than_its_signers_notarize_is_evidence() {
    let r = ring(4);
    let (n, f) = (
        tickchain_sdk::votes::VoteKind::Notarize,
        tickchain_sdk::votes::VoteKind::Finalize,
    );
    let early = at(first_second(), 30).reading;
    let later = at(first_second(), 60).reading;
    let mut voter = started(&r, 2);
    let same = deliver_all(
        &mut voter,
        3,
        vec![
            Message::Notarize(vote_by(&r, n, 3, View(1), Hash([1; 32]), early)),
            Message::Finalize(vote_by(&r, f, 3, View(1), Hash([1; 32]), early)),
        ],
    );
    assert!(evidence_of(&same).is_empty(), "what an honest node signs");
    let mut voter = started(&r, 2);
    let actions = deliver_all(
        &mut voter,
        3,
        vec![
            Message::Notarize(vote_by(&r, n, 3, View(1), Hash([1; 32]), early)),
            Message::Finalize(vote_by(&r, f, 3, View(1), Hash([1; 32]), later)),
        ],
    );
    let v = the_one_verified(&r, &actions);
    assert_eq!(v.rule, tickchain_sdk::Rule::FinalizeContradictsNotarize);
}

#[test]
fn an_identical_duplicate_yields_no_evidence_and_is_counted_as_a_duplicate() {
    let r = ring(4);
    let p = leader_proposal(&r);
    let mut voter = started(&r, 2);
    let vote = vote_by(
        &r,
        tickchain_sdk::votes::VoteKind::Notarize,
        3,
        View(1),
        p.vote.tick_hash,
        at(first_second(), 40).reading,
    );
    let actions = deliver_all(
        &mut voter,
        3,
        vec![
            Message::Proposal(p.clone()),
            Message::Proposal(p),
            Message::Notarize(vote.clone()),
            Message::Notarize(vote),
            Message::Nullify(nullify_by(&r, 3, View(1))),
            Message::Nullify(nullify_by(&r, 3, View(1))),
        ],
    );
    assert!(evidence_of(&actions).is_empty(), "{actions:?}");
    assert_eq!(voter.rejections().get(Rejection::Duplicate), 2);
    assert_eq!(voter.rejections().get(Rejection::Equivocation), 0);
}

/// A Byzantine member that sends each half of the ring another vote is caught by whoever sees
/// its other vote inside a certificate.
#[test]
fn a_vote_inside_a_notarization_that_contradicts_its_signers_own_vote_is_evidence() {
    let r = ring(4);
    let p = leader_proposal(&r);
    let kind = tickchain_sdk::votes::VoteKind::Notarize;
    let reading = at(first_second(), 40).reading;
    let mut voter = started(&r, 2);
    let mut actions = deliver_all(
        &mut voter,
        3,
        vec![Message::Notarize(vote_by(
            &r,
            kind,
            3,
            View(1),
            Hash([7; 32]),
            reading,
        ))],
    );
    assert!(evidence_of(&actions).is_empty());
    let votes = vec![
        vote_by(&r, kind, 0, View(1), p.vote.tick_hash, reading),
        p.vote.clone(),
        vote_by(&r, kind, 3, View(1), p.vote.tick_hash, reading),
    ];
    actions.extend(deliver_all(
        &mut voter,
        0,
        vec![Message::Notarization(Notarization {
            tick: p.tick.clone(),
            votes,
        })],
    ));
    let v = the_one_verified(&r, &actions);
    assert_eq!(
        (v.member, v.rule),
        (NodeId(3), tickchain_sdk::Rule::ConflictingNotarize)
    );
}

/// Issue 13: each way a peer's message is dropped has its own counter, and one message counts
/// once, under its reason.
#[test]
fn each_dropped_message_is_counted_once_under_its_reason() {
    use tickchain_sdk::votes::VoteKind::{Finalize, Notarize};
    let r = ring(4);
    let gh = r.net.genesis.hash;
    let p = leader_proposal(&r);
    let reading = at(first_second(), 30).reading;
    let resign = |mut p: Proposal| {
        p.vote = vote_by(
            &r,
            Notarize,
            1,
            p.tick.view,
            p.tick.hash(&gh),
            p.vote.reading,
        );
        p
    };
    let mut bad_sig = p.clone();
    bad_sig.vote.signature.0[0] ^= 1;
    let mut wrong_leader = p.clone();
    wrong_leader.tick.view = View(2);
    let wrong_leader = resign(wrong_leader);
    let mut malformed = p.clone();
    malformed.vote.view = View(2);
    let mut stripped = p.clone();
    stripped.batches.push(
        r.net
            .batch(NodeId(0), GENESIS, &[tickchain_sdk::Digest([1; 32])])
            .batch,
    );
    let mut bad_parent = p.clone();
    bad_parent.tick.prev_hash = Hash([9; 32]);
    let bad_parent = resign(bad_parent);
    let mut late_batch = p.clone();
    let sealed_late = r
        .net
        .batch(
            NodeId(0),
            Second(first_second().0 + 5),
            &[tickchain_sdk::Digest([1; 32])],
        )
        .batch;
    late_batch.batches = vec![sealed_late];
    let tree = tickchain_sdk::batch::tick_tree(&late_batch.batches, &gh);
    late_batch.tick.batch_root = tree.root();
    late_batch.tick.batch_count = tree.len();
    let late_batch = resign(late_batch);
    let mut inverted = reading;
    std::mem::swap(&mut inverted.earliest, &mut inverted.latest);
    let far = View(Config::default().max_views_ahead + 10);
    let too_few = Notarization {
        tick: p.tick.clone(),
        votes: vec![p.vote.clone()],
    };
    let other = Message::Batch(
        r.net
            .batch(NodeId(0), first_second(), &[tickchain_sdk::Digest([1; 32])])
            .batch,
    );
    let extreme = ClockReading {
        earliest: UtcNanos(i64::MIN),
        latest: UtcNanos(i64::MAX),
    };
    // (reason, message from peer 3 unless said, what the voter held before)
    let cases: Vec<(Rejection, usize, Message, Vec<Message>)> = vec![
        (
            Rejection::BadSignature,
            1,
            Message::Proposal(bad_sig),
            vec![],
        ),
        (
            Rejection::WrongLeader,
            1,
            Message::Proposal(wrong_leader),
            vec![],
        ),
        (
            Rejection::Malformed,
            1,
            Message::Proposal(malformed),
            vec![],
        ),
        (
            Rejection::BatchListMismatch,
            1,
            Message::Proposal(stripped),
            vec![],
        ),
        (
            Rejection::BadParent,
            1,
            Message::Proposal(bad_parent),
            vec![],
        ),
        (
            Rejection::BadBatches,
            1,
            Message::Proposal(late_batch),
            vec![],
        ),
        (
            Rejection::WrappedSecond,
            1,
            Message::Proposal(resigned_for(
                &r,
                p.clone(),
                Second(first_second().0 + (1 << 55)),
            )),
            vec![],
        ),
        (
            Rejection::FutureSecond,
            1,
            Message::Proposal(resigned_for(&r, p.clone(), Second::MAX)),
            vec![],
        ),
        (
            Rejection::SecondNotAfterParent,
            1,
            Message::Proposal(resigned_for(&r, p.clone(), GENESIS)),
            vec![],
        ),
        (
            Rejection::ReadingInvalid,
            3,
            Message::Notarize(vote_by(
                &r,
                Notarize,
                3,
                View(1),
                p.vote.tick_hash,
                inverted,
            )),
            vec![],
        ),
        (
            Rejection::UntimelyReading,
            3,
            Message::Finalize(vote_by(&r, Finalize, 3, View(1), p.vote.tick_hash, extreme)),
            vec![Message::Proposal(p.clone())],
        ),
        (
            Rejection::ViewTooFarAhead,
            3,
            Message::Nullify(nullify_by(&r, 3, far)),
            vec![],
        ),
        (
            Rejection::BadCertificate,
            3,
            Message::Notarization(too_few),
            vec![],
        ),
        (
            Rejection::UnknownSender,
            2,
            Message::Nullify(nullify_by(&r, 2, View(1))),
            vec![],
        ),
        (Rejection::BatchNotFromSigner, 3, other, vec![]),
    ];
    for (why, from, message, before) in cases {
        let mut voter = started(&r, 2);
        let leader_of = |m: &Message| match m {
            Message::Proposal(_) => 1,
            _ => 3,
        };
        for m in before {
            let from = leader_of(&m);
            deliver(&mut voter, at(first_second(), 20), from, m);
        }
        let before = voter.rejections().clone();
        deliver(&mut voter, at(first_second(), 30), from, message);
        let counts = voter.rejections();
        assert_eq!(counts.get(why), before.get(why) + 1, "{why:?}");
        assert_eq!(counts.total(), before.total() + 1, "{why:?}: {counts:?}");
    }
}

/// Issue 13: a late proposal, one for a second ahead of the clock, a replayed vote for a view
/// below the final tip, and a proposal on a parent below it are each counted.
#[test]
fn late_proposals_replayed_votes_and_stale_parents_are_counted() {
    let r = ring(4);
    let p = leader_proposal(&r);
    let mut voter = started(&r, 2);
    deliver(
        &mut voter,
        at(first_second(), 995),
        1,
        Message::Proposal(p.clone()),
    );
    assert_eq!(voter.rejections().get(Rejection::LateProposal), 1);

    let mut voter = started(&r, 3);
    let ahead = resigned_for(&r, p.clone(), Second(first_second().0 + 86_400));
    deliver(
        &mut voter,
        at(first_second(), 30),
        1,
        Message::Proposal(ahead),
    );
    assert_eq!(voter.rejections().get(Rejection::FutureSecond), 1);

    // View 1 final: its votes are old, and a view-2 proposal on the genesis parent is stale.
    let mut voter = started(&r, 3);
    deliver(
        &mut voter,
        at(first_second(), 30),
        1,
        Message::Proposal(p.clone()),
    );
    deliver(
        &mut voter,
        at(first_second(), 80),
        0,
        finalization_of(&r, &p.tick),
    );
    assert_eq!(voter.view(), View(2));
    deliver(
        &mut voter,
        at(first_second(), 90),
        1,
        Message::Notarize(p.vote.clone()),
    );
    deliver(
        &mut voter,
        at(first_second(), 90),
        0,
        finalization_of(&r, &p.tick),
    );
    assert_eq!(voter.rejections().get(Rejection::OldView), 2);
    let gh = r.net.genesis.hash;
    let mut stale = p.clone();
    stale.tick.view = View(2);
    stale.tick.proposer = NodeId(2);
    stale.tick.second = Second(first_second().0 + 1);
    stale.vote = vote_by(
        &r,
        tickchain_sdk::votes::VoteKind::Notarize,
        2,
        View(2),
        stale.tick.hash(&gh),
        p.vote.reading,
    );
    let actions = deliver(
        &mut voter,
        at(Second(first_second().0 + 1), 30),
        2,
        Message::Proposal(stale),
    );
    assert!(nullified(&actions), "{actions:?}");
    assert_eq!(voter.rejections().get(Rejection::StaleParent), 1);
}

/// A ring of 4 with 2 gateways in its genesis (version 3): gateway `i` signs as `4 + i`.
fn ring_with_gateways() -> Ring {
    let net = TestNetwork::new("core-tests", 4, 1, GENESIS).with_gateways("core-tests", 2, None);
    let ctxs = Context::ring(&net, Config::default());
    Ring { net, ctxs }
}

#[test]
fn a_gateways_own_batch_is_carried_and_verified_by_every_member() {
    let r = ring_with_gateways();
    let digest = [tickchain_sdk::Digest([7; 32])];
    let from_gateway = r.net.batch(NodeId(5), GENESIS, &digest).batch;
    let from_node = r.net.batch(NodeId(2), GENESIS, &digest).batch;
    let p = proposal_after_batches(&r, vec![(5, from_gateway.clone()), (2, from_node.clone())]);
    assert!(p.batches.contains(&from_gateway), "{:?}", p.batches);
    assert!(p.batches.contains(&from_node));
    // Another member checks the list, gateway signature included, and notarizes.
    let mut voter = started(&r, 2);
    let actions = deliver(&mut voter, at(first_second(), 20), 1, Message::Proposal(p));
    assert!(notarize_of(&actions).is_some(), "{actions:?}");
}

#[test]
fn a_gateway_can_offer_only_its_own_batches_and_nothing_else() {
    let r = ring_with_gateways();
    let digest = [tickchain_sdk::Digest([8; 32])];
    let mut leader = started(&r, 1);
    // Gateway 4 relays gateway 5's batch, then a node's; then sends a vote-shaped message.
    let theirs = r.net.batch(NodeId(5), GENESIS, &digest).batch;
    deliver(&mut leader, at(GENESIS, 950), 4, Message::Batch(theirs));
    let nodes = r.net.batch(NodeId(3), GENESIS, &digest).batch;
    deliver(&mut leader, at(GENESIS, 950), 4, Message::Batch(nodes));
    let chain = Message::Chain(Vec::new());
    deliver(&mut leader, at(GENESIS, 950), 5, chain);
    // A batch from a signer past the gateways.
    let mut beyond = r.net.batch(NodeId(5), GENESIS, &digest).batch;
    beyond.node = NodeId(6);
    deliver(&mut leader, at(GENESIS, 950), 6, Message::Batch(beyond));
    let counts: std::collections::BTreeMap<_, _> = leader.rejections().counts().collect();
    assert_eq!(counts.get("not_for_gateway"), Some(&3), "{counts:?}");
    assert_eq!(counts.get("unknown_sender"), Some(&1), "{counts:?}");
    let p = leader
        .handle(
            &at(first_second(), 0),
            Input::Timer(Timer::Propose(View(1))),
        )
        .into_iter()
        .find_map(|a| match a {
            Action::Broadcast(Message::Proposal(p)) => Some(p),
            _ => None,
        })
        .expect("the leader proposes");
    assert!(
        p.batches.is_empty(),
        "nothing relayed was queued: {:?}",
        p.batches
    );
}

#[test]
fn a_member_never_accepts_a_delivery_and_a_delivery_round_trips() {
    let r = ring_with_gateways();
    let digest = [tickchain_sdk::Digest([9; 32])];
    let b = r.net.batch(NodeId(4), GENESIS, &digest).batch;
    let p = proposal_after_batches(&r, vec![(4, b.clone())]);
    let d = Message::Delivered(Delivered {
        tick: ChainTick {
            tick: p.tick.clone(),
            certificate: None,
        },
        batches: vec![b],
    });
    assert_eq!(decode(&encode(&d)).unwrap(), d);
    let mut core = started(&r, 2);
    deliver(&mut core, at(first_second(), 20), 3, d);
    let counts: std::collections::BTreeMap<_, _> = core.rejections().counts().collect();
    assert_eq!(counts.get("not_for_gateway"), Some(&1), "{counts:?}");
}
