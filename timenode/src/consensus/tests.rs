//! The core and codec as specifications: each test builds a small ring, acts once, and checks
//! the outcome against `specs/consensus.md`.

use super::*;
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
        "unknown message kind 42: expected 1 to 10"
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
