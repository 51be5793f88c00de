//! Fuzz target: any datagram given to the NTP server's decoder never panics; whatever decodes
//! is a client request (mode 3, version 1 to 4, at least 48 bytes), and its reply and kiss are
//! 48 bytes that echo the request's version, poll and transmit timestamp.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tickchain_aggregator::ntp_packet::{
    HEADER_LEN, ServerState, decode_request, encode_kiss, encode_reply,
};
use tickchain_aggregator::time::UtcNanos;

fuzz_target!(|data: &[u8]| {
    let Ok(request) = decode_request(data) else {
        return;
    };
    assert!(data.len() >= HEADER_LEN);
    assert_eq!(data[0] & 7, 3);
    let state = ServerState {
        leap: 0,
        stratum: 2,
        root_delay_ns: 0,
        root_dispersion_ns: 20_000_000,
        reference_id: *b"TICK",
        reference: UtcNanos(1_796_515_200_000_000_000),
    };
    for reply in [
        encode_reply(&request, &state, UtcNanos(1_796_515_200_000_000_000), UtcNanos(1_796_515_200_000_100_000)),
        encode_kiss(&request, b"RATE", UtcNanos(1_796_515_200_000_000_000)),
    ] {
        assert_eq!(reply.len(), HEADER_LEN);
        assert_eq!(reply[0] & 7, 4);
        assert_eq!((reply[0] >> 3) & 7, request.version);
        assert_eq!(&reply[24..32], &data[40..48]);
    }
});
