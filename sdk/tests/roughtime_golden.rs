//! roughenough 2.2's captured packets (`specs/vectors/roughtime/`) through our Roughtime codec:
//! its requests parse as it sent them, and its responses pass our client's checks under the
//! server's long-term key and fail under any other.

use std::path::Path;
use tickchain_sdk::roughtime::response::{ResponseError, verify};
use tickchain_sdk::roughtime::wire::{Message, unframe};
use tickchain_sdk::roughtime::{VERSION_1, VERSION_DRAFT, request, tags};

fn file(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../specs/vectors/roughtime")
            .join(name),
    )
    .unwrap()
}

fn key(hex32: &str) -> [u8; 32] {
    let mut k = [0u8; 32];
    for (i, b) in k.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex32[2 * i..2 * i + 2], 16).unwrap();
    }
    k
}

const V1_KEY: &str = "197f6b23e16c8532c6abc838facd5ea789be0c76b2920334039bfa8b3d368d61";
const DRAFT_KEY: &str = "016e6e0284d24c37c6e4d7d8d5b4e1d3c1949ceaa545bf875616c9dce0c9bec1";

#[test]
fn roughenough_requests_parse_as_it_sent_them() {
    let r = file("rfc10049-request.104172a3");
    let p = request::parse(&r).unwrap();
    assert_eq!(p.version, VERSION_1);
    assert_eq!(
        p.nonce,
        key("104172a3d405366798c9fa2b5c8dbeef205182b3e4154677a8d90a3b6c9dceff")
    );
    assert_eq!(p.srv, None);
    let r = file("rfc-request.071039e5");
    assert_eq!(request::parse(&r).unwrap().version, VERSION_DRAFT);
    let r = file("rfc-request.SRV.417aa962");
    assert!(
        request::parse(&r).unwrap().srv.is_some(),
        "the SRV tag is read"
    );
}

#[test]
fn roughenough_responses_verify_under_their_key_and_fail_under_another() {
    let v = verify(
        &file("rfc10049-response.104172a3"),
        &file("rfc10049-request.104172a3"),
        &key(V1_KEY),
    )
    .unwrap();
    assert_eq!((v.version, v.midp, v.radi), (VERSION_1, 1_791_158_400, 5));
    assert_eq!(v.tick, None);
    let v = verify(
        &file("rfc-response.071039e5"),
        &file("rfc-request.071039e5"),
        &key(DRAFT_KEY),
    )
    .unwrap();
    assert_eq!((v.version, v.mint, v.maxt), (VERSION_DRAFT, 0, u64::MAX));
    // The other server's key, and a response to another request.
    assert_eq!(
        verify(
            &file("rfc10049-response.104172a3"),
            &file("rfc10049-request.104172a3"),
            &key(DRAFT_KEY),
        ),
        Err(ResponseError::Delegation)
    );
    assert_eq!(
        verify(
            &file("rfc10049-response.104172a3"),
            &file("rfc-request.071039e5"),
            &key(V1_KEY),
        ),
        Err(ResponseError::NotOurs)
    );
}

#[test]
fn a_batched_response_carries_its_path_and_index() {
    let r = file("rfc-response.path8.index2.4c16c619");
    let m = Message::parse(unframe(&r).unwrap()).unwrap();
    assert_eq!(m.u32(tags::INDX, "INDX"), Ok(2));
    assert_eq!(m.get(tags::PATH).unwrap().len(), 8 * 32);
}
