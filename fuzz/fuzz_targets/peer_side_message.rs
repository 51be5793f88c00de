//! Fuzz target: the ring's side messages that are not consensus (time probes 0x70/0x71 and
//! attestation requests and co-signatures 0x72/0x73) decode without panicking, and whatever
//! decodes re-encodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tickchain_timenode::node::attest_msg::AttestMessage;
use tickchain_timenode::node::peer_time::TimeMessage;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = TimeMessage::decode(data) {
        assert_eq!(TimeMessage::decode(&m.encode()).expect("own encoding decodes"), m);
    }
    if let Ok(m) = AttestMessage::decode(data) {
        assert_eq!(m.encode(), data, "one encoding per message");
    }
});
