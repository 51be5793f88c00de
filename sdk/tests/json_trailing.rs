//! A JSON proof, genesis or piece of evidence is one document: anything after it is refused,
//! not ignored (found by the TypeScript verifier's differential test, sdk-js/).

use tickchain_sdk::testkit::TestNetwork;
use tickchain_sdk::{Digest, Genesis, Height, Proof, Second};

#[test]
fn text_after_the_document_is_refused() {
    let net = TestNetwork::new("trailing", 4, 1, Second(1_800_000_000));
    let proof = net.proof_of(Digest([9; 32]), Second(1_800_000_010), Height(3));
    let json = proof.to_json();
    assert_eq!(Proof::from_json(&json).unwrap(), proof);
    assert!(
        Proof::from_json(&format!("{json}\n")).is_ok(),
        "whitespace is fine"
    );
    for tail in ["x", "{}", "0", &json] {
        assert!(
            Proof::from_json(&format!("{json}{tail}")).is_err(),
            "a proof followed by {tail:.10} was accepted"
        );
        assert!(Proof::from_bytes(format!("{json} {tail}").as_bytes()).is_err());
    }
    let g = net.genesis.to_json();
    assert!(Genesis::from_json(&g).is_ok());
    assert!(Genesis::from_json(&format!("{g}x")).is_err());
    assert!(Genesis::from_json(&format!("{g}{g}")).is_err());
}
