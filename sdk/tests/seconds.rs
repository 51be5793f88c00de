//! A tick's second as the offline verifier judges it (`specs/proof.md` §4.6, §4.8, §4.12) and
//! the clock check `tickchain verify` adds (§5): issue 13, a second that wraps, precedes genesis
//! or lies far ahead.

use tickchain_sdk::testkit::TestNetwork;
use tickchain_sdk::verify::{FUTURE_MARGIN_S, check_not_future};
use tickchain_sdk::votes::ClockReading;
use tickchain_sdk::{Digest, Hash, Height, Network, NodeId, Proof, Second, View};

const GENESIS: Second = Second(1_764_000_000);

fn net() -> TestNetwork {
    TestNetwork::new("seconds", 4, 1, GENESIS)
}

fn readings(second: Second) -> Vec<(NodeId, ClockReading)> {
    (0..3u16)
        .map(|i| (NodeId(i), TestNetwork::reading(second, 5 + i64::from(i), 2)))
        .collect()
}

/// The sample proof with its tick labelled `second`, certified by a quorum whose readings were
/// taken in `clock`: what colluding or fooled signers would produce.
fn labelled(net: &TestNetwork, second: Second, clock: Second) -> Proof {
    let sealed = net.batch(NodeId(0), Second(GENESIS.0 - 1), &[Digest([3; 32])]);
    let (tick, tree) = net.tick(
        Height(10),
        View(12),
        second,
        Hash([1; 32]),
        &[&sealed.batch],
    );
    let cert = net.certify(&tick, &readings(clock));
    sealed.proof(net.hash(), 0, tick, tree.path(0).unwrap(), cert)
}

fn code(net: &TestNetwork, p: &Proof) -> &'static str {
    match Network::new(net.genesis.clone()).verify(p) {
        Ok(_) => "ok",
        Err(e) => e.code(),
    }
}

#[test]
fn a_wrapped_second_is_invalid_and_never_placed_in_the_real_second() {
    let net = net();
    let real = Second(GENESIS.0 + 10);
    assert_eq!(code(&net, &labelled(&net, real, real)), "ok");
    let wrapped = labelled(&net, Second(real.0 + (1 << 55)), real);
    assert_eq!(code(&net, &wrapped), "invalid_second");
    // Called on its own, as the consensus core calls it on a peer's certificate.
    let err = Network::new(net.genesis.clone())
        .verify_certificate(&wrapped.tick, &wrapped.certificate)
        .unwrap_err();
    assert_eq!(err.code(), "invalid_second");
}

#[test]
fn the_last_valid_second_verifies_offline_and_the_next_is_invalid() {
    let net = net();
    assert_eq!(code(&net, &labelled(&net, Second::MAX, Second::MAX)), "ok");
    let past = labelled(&net, Second(Second::MAX.0 + 1), Second::MAX);
    assert_eq!(code(&net, &past), "invalid_second");
    let max = labelled(&net, Second(u64::MAX), Second::MAX);
    assert_eq!(code(&net, &max), "invalid_second");
}

#[test]
fn a_tick_at_or_before_the_genesis_second_is_invalid() {
    let net = net();
    for second in [GENESIS, Second(GENESIS.0 - 1), Second(0)] {
        let p = labelled(&net, second, second);
        assert_eq!(code(&net, &p), "invalid_second", "{second}");
    }
    assert_eq!(
        code(
            &net,
            &labelled(&net, Second(GENESIS.0 + 1), Second(GENESIS.0 + 1))
        ),
        "ok"
    );
}

#[test]
fn a_certified_descendant_past_the_last_valid_second_is_invalid() {
    let net = net();
    let mut p = labelled(&net, Second(GENESIS.0 + 10), Second(GENESIS.0 + 10));
    let d = net.child(&p.tick, View(13), Second(Second::MAX.0 + 1));
    p.certificate = net.certify(&d, &readings(Second::MAX));
    p.descendants = vec![d];
    assert_eq!(code(&net, &p), "invalid_second");
}

#[test]
fn the_clock_check_allows_a_day_ahead_and_refuses_one_second_more() {
    let net = net();
    let s = Second(GENESIS.0 + 10);
    let mut p = labelled(&net, s, s);
    assert_eq!(FUTURE_MARGIN_S, 86_400);
    let day_before = Second(s.0 - FUTURE_MARGIN_S).start();
    assert!(check_not_future(&p, day_before, FUTURE_MARGIN_S).is_ok());
    let err = check_not_future(
        &p,
        Second(s.0 - FUTURE_MARGIN_S - 1).start(),
        FUTURE_MARGIN_S,
    )
    .unwrap_err();
    assert_eq!(err.code(), "future_second");
    // The certified tick is what counts: a descendant a day and a second ahead fails.
    let d = net.child(&p.tick, View(13), Second(s.0 + FUTURE_MARGIN_S + 1));
    p.certificate = net.certify(&d, &readings(d.second));
    p.descendants = vec![d];
    let err = check_not_future(&p, s.start(), FUTURE_MARGIN_S).unwrap_err();
    assert_eq!(err.code(), "future_second");
}
