//! `GET /v1/time` is signed by the node key over the sdk's canonical bytes and echoes the nonce.

mod support;

use support::{Server, get};
use tickchain_api::ApiConfig;
use tickchain_api::wire::{Nonce, SignedTime};

#[test]
fn the_time_statement_verifies_against_the_node_key_and_echoes_the_nonce() {
    let s = Server::start(ApiConfig::default());
    s.node.finalize_tick();
    let r = get(&format!("{}/v1/time?nonce=0badc0ffee", s.url));
    assert_eq!(r.status, 200, "{}", r.body);
    let signed: SignedTime = serde_json::from_str(&r.body).unwrap();
    let key = s.node.genesis().nodes[signed.statement.node.index()].public_key;
    assert!(signed.verify(&key), "signature verifies");
    assert_eq!(
        signed.statement.nonce,
        Nonce::from_hex("0badc0ffee").unwrap()
    );
    assert!(signed.statement.earliest <= signed.statement.latest);
    assert_eq!(signed.statement.latest_tick.unwrap().height.0, 1);
    assert_eq!(signed.statement.genesis_hash, s.node.genesis().hash);

    let mut forged = signed.clone();
    forged.statement.nonce = Nonce::from_hex("0badc0ffef").unwrap();
    assert!(!forged.verify(&key), "a different nonce does not verify");
}

#[test]
fn without_a_nonce_the_statement_carries_an_empty_one_and_still_verifies() {
    let s = Server::start(ApiConfig::default());
    let r = get(&format!("{}/v1/time", s.url));
    assert_eq!(r.status, 200, "{}", r.body);
    let signed: SignedTime = serde_json::from_str(&r.body).unwrap();
    assert_eq!(signed.statement.nonce, Nonce::default());
    assert!(signed.verify(&s.node.genesis().nodes[0].public_key));
    assert_eq!(signed.statement.latest_tick, None);
}
