//! Fuzz target: every message a ring peer can send decodes through the one envelope
//! (`PeerMessage::decode`: consensus kinds 1–11, time probes 0x70–0x71, attestation messages
//! 0x72–0x73) without panicking or allocating past the codecs' caps, and whatever decodes
//! re-encodes to bytes that decode to the same message (the probe and attestation codecs have
//! exactly one encoding per message).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tickchain_consensus::PeerMessage;

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = PeerMessage::decode(data) {
        let again = msg.encode();
        assert_eq!(PeerMessage::decode(&again).expect("own encoding decodes"), msg);
        if !matches!(msg, PeerMessage::Consensus(_)) {
            assert_eq!(again, data, "one encoding per message");
        }
    }
});
