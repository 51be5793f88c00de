//! Fuzz target: any datagram given to the Roughtime server's request parser, or to the client's
//! response check, never panics; whatever the server accepts is 1024 to 1472 bytes with a
//! 32-byte nonce and a version we speak, and a response built for it (one leaf) verifies under
//! the key that signed it, while the same bytes as a response to a fixed request never verify
//! under a key that signed nothing.
#![no_main]

use ed25519_dalek::{Signer, SigningKey};
use libfuzzer_sys::fuzz_target;
use tickchain_sdk::roughtime::merkle::{Tree, leaf};
use tickchain_sdk::roughtime::{VERSIONS, contexts, request, response};

fuzz_target!(|data: &[u8]| {
    // The client's check on hostile bytes: never a panic, never a pass without a signature.
    let mut fixed = Vec::new();
    request::build(&mut fixed, &VERSIONS, &[1; 32], None);
    assert!(response::verify(data, &fixed, &[0x5a; 32]).is_err());

    let Ok(r) = request::parse(data) else {
        return;
    };
    assert!((1024..=1472).contains(&data.len()));
    assert!(VERSIONS.contains(&r.version));
    let (longterm, online) = (SigningKey::from_bytes(&[3; 32]), SigningKey::from_bytes(&[4; 32]));
    let (srep_ctx, dele_ctx) = contexts(r.version);
    let mut dele = Vec::new();
    response::dele(&mut dele, &online.verifying_key().to_bytes(), 0, u64::MAX);
    let mut cert = Vec::new();
    let sig = longterm.sign(&[dele_ctx, &dele].concat()).to_bytes();
    response::cert(&mut cert, &sig, &dele);
    let tree = Tree::new(&[leaf(r.packet)]);
    let mut srep = Vec::new();
    response::srep(&mut srep, r.version, 1, 1_800_000_000, &tree.root(), None);
    let sig = online.sign(&[srep_ctx, &srep].concat()).to_bytes();
    let mut out = Vec::new();
    response::write(&mut out, &sig, &r.nonce, &[], &srep, &cert, 0);
    assert!(out.len() <= data.len(), "a response is never larger than its request");
    let v = response::verify(&out, data, &longterm.verifying_key().to_bytes()).unwrap();
    assert_eq!(v.version, r.version);
});
