//! NTPv4 packets (RFC 5905 §7.3) as a server sees them: the 48-byte header a client sends and
//! the reply (the node's NTP server uses it; polling NTP sources goes through sntpc).
//!
//! Owns: decoding a client request and encoding a server reply or a kiss-o'-death, with NTP's
//! timestamp (32.32 seconds since 1900) and short (16.16) formats. Never: answers anything but
//! a client-mode request of at least 48 bytes, and never writes more than 48 bytes (a reply is
//! never larger than its request, so the server cannot amplify).

use crate::time::UtcNanos;

/// Bytes of an NTP header.
pub const HEADER_LEN: usize = 48;
/// Seconds from 1900-01-01 (NTP era 0) to 1970-01-01.
const NTP_UNIX_OFFSET: i64 = 2_208_988_800;

/// What a request asked for, as far as the reply needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// The client's version (1 to 4), echoed in the reply.
    pub version: u8,
    /// The client's poll exponent, echoed in the reply.
    pub poll: i8,
    /// The client's transmit timestamp, returned as the reply's origin timestamp.
    pub transmit: [u8; 8],
}

/// Why a datagram gets no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Ignored {
    /// Shorter than an NTP header.
    #[error("{0} bytes, shorter than an NTP header")]
    Short(usize),
    /// Not a client request (mode 3): servers, broadcasts and control messages get nothing.
    #[error("mode {0}, not a client request")]
    NotClient(u8),
    /// A version this server does not speak.
    #[error("version {0}")]
    Version(u8),
}

/// Decodes a client request (extension fields and MACs after the header are ignored).
pub fn decode_request(datagram: &[u8]) -> Result<Request, Ignored> {
    if datagram.len() < HEADER_LEN {
        return Err(Ignored::Short(datagram.len()));
    }
    let version = (datagram[0] >> 3) & 0x07;
    let mode = datagram[0] & 0x07;
    if mode != 3 {
        return Err(Ignored::NotClient(mode));
    }
    if !(1..=4).contains(&version) {
        return Err(Ignored::Version(version));
    }
    let mut transmit = [0u8; 8];
    transmit.copy_from_slice(&datagram[40..48]);
    Ok(Request {
        version,
        poll: datagram[2] as i8,
        transmit,
    })
}

/// The server's state as a reply states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerState {
    /// Leap indicator: 0 none, 1 insert, 2 delete (3, unsynchronised, is never served).
    pub leap: u8,
    /// Stratum, 1 to 15.
    pub stratum: u8,
    /// Root delay (seconds, as nanoseconds).
    pub root_delay_ns: u64,
    /// Root dispersion (seconds, as nanoseconds).
    pub root_dispersion_ns: u64,
    /// Reference identifier.
    pub reference_id: [u8; 4],
    /// When the clock was last set.
    pub reference: UtcNanos,
}

/// The reply to `request`, received at `receive` and sent at `transmit`.
pub fn encode_reply(
    request: &Request,
    state: &ServerState,
    receive: UtcNanos,
    transmit: UtcNanos,
) -> [u8; HEADER_LEN] {
    let mut out = [0u8; HEADER_LEN];
    out[0] = (state.leap & 0x03) << 6 | (request.version << 3) | 4;
    out[1] = state.stratum;
    out[2] = request.poll as u8;
    out[3] = (-20i8) as u8; // precision: about a microsecond
    out[4..8].copy_from_slice(&short_format(state.root_delay_ns).to_be_bytes());
    out[8..12].copy_from_slice(&short_format(state.root_dispersion_ns).to_be_bytes());
    out[12..16].copy_from_slice(&state.reference_id);
    out[16..24].copy_from_slice(&timestamp(state.reference).to_be_bytes());
    out[24..32].copy_from_slice(&request.transmit);
    out[32..40].copy_from_slice(&timestamp(receive).to_be_bytes());
    out[40..48].copy_from_slice(&timestamp(transmit).to_be_bytes());
    out
}

/// A kiss-o'-death with code `code` (RFC 5905 §7.4): stratum 0, leap 3, the code as the
/// reference id, the client's transmit timestamp as origin, and `now` as receive and transmit
/// timestamps (ntpd discards a kiss whose transmit timestamp is zero).
pub fn encode_kiss(request: &Request, code: &[u8; 4], now: UtcNanos) -> [u8; HEADER_LEN] {
    let mut out = [0u8; HEADER_LEN];
    out[0] = 3 << 6 | (request.version << 3) | 4;
    out[2] = request.poll as u8;
    out[3] = (-20i8) as u8;
    out[12..16].copy_from_slice(code);
    out[24..32].copy_from_slice(&request.transmit);
    out[32..40].copy_from_slice(&timestamp(now).to_be_bytes());
    out[40..48].copy_from_slice(&timestamp(now).to_be_bytes());
    out
}

/// NTP's 64-bit timestamp of `t` (era 0 wraps in 2036; the 32-bit seconds field is taken
/// modulo 2^32, as RFC 5905 §6 era arithmetic expects).
pub fn timestamp(t: UtcNanos) -> u64 {
    let secs = t.0.div_euclid(1_000_000_000) + NTP_UNIX_OFFSET;
    let nanos = t.0.rem_euclid(1_000_000_000) as u64;
    let frac = (nanos << 32) / 1_000_000_000;
    ((secs as u64) << 32) | frac
}

/// The instant of an NTP timestamp in the era that contains `near` (within 68 years).
pub fn from_timestamp(ts: u64, near: UtcNanos) -> UtcNanos {
    let secs = (ts >> 32) as i64;
    let frac = ts & 0xffff_ffff;
    let near_secs = near.0.div_euclid(1_000_000_000) + NTP_UNIX_OFFSET;
    let era_base = near_secs - (near_secs.rem_euclid(1 << 32));
    let mut s = era_base + secs;
    if s - near_secs > 1 << 31 {
        s -= 1 << 32;
    } else if near_secs - s > 1 << 31 {
        s += 1 << 32;
    }
    let nanos = ((frac * 1_000_000_000) >> 32) as i64;
    UtcNanos((s - NTP_UNIX_OFFSET) * 1_000_000_000 + nanos)
}

/// NTP's 16.16 short format of a duration in nanoseconds (saturating at 65,535 s).
pub fn short_format(ns: u64) -> u32 {
    let secs = ns / 1_000_000_000;
    if secs >= 0xffff {
        return u32::MAX;
    }
    let frac = ((ns % 1_000_000_000) << 16).div_ceil(1_000_000_000);
    ((secs << 16) + frac).min(u64::from(u32::MAX)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(version: u8, mode: u8) -> [u8; 48] {
        let mut r = [0u8; 48];
        r[0] = version << 3 | mode;
        r[2] = 6;
        r[40..48].copy_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        r
    }

    #[test]
    fn timestamps_round_trip_and_match_a_known_value() {
        // 2026-12-06T00:00:00Z is 1,796,515,200 s after 1970: NTP seconds 4,005,504,000.
        let t = UtcNanos(1_796_515_200_500_000_000);
        let ts = timestamp(t);
        assert_eq!(ts >> 32, 4_005_504_000);
        assert_eq!(ts & 0xffff_ffff, 1 << 31, "half a second");
        let back = from_timestamp(ts, t);
        assert!((back.0 - t.0).abs() <= 1, "{back:?}");
        // After 2036 the seconds field wraps (era 1) and still resolves near the reference.
        let later = UtcNanos(2_200_000_000_000_000_000);
        assert!((from_timestamp(timestamp(later), later).0 - later.0).abs() <= 1);
    }

    #[test]
    fn short_format_rounds_up_so_a_bound_never_shrinks() {
        assert_eq!(short_format(0), 0);
        assert_eq!(short_format(1_000_000_000), 1 << 16);
        assert_eq!(short_format(1), 1, "a nanosecond rounds up to one unit");
        assert_eq!(short_format(u64::MAX), u32::MAX);
    }

    #[test]
    fn only_client_requests_of_a_known_version_are_answered() {
        assert!(decode_request(&request(4, 3)).is_ok());
        assert!(decode_request(&request(3, 3)).is_ok());
        assert_eq!(decode_request(&request(4, 4)), Err(Ignored::NotClient(4)));
        assert_eq!(decode_request(&request(4, 6)), Err(Ignored::NotClient(6)));
        assert_eq!(decode_request(&request(0, 3)), Err(Ignored::Version(0)));
        assert_eq!(decode_request(&request(5, 3)), Err(Ignored::Version(5)));
        assert_eq!(decode_request(&[0x23; 47]), Err(Ignored::Short(47)));
        let with_extension = [request(4, 3).to_vec(), vec![0u8; 20]].concat();
        assert!(decode_request(&with_extension).is_ok());
    }

    #[test]
    fn a_reply_echoes_the_clients_version_poll_and_transmit() {
        let req = decode_request(&request(3, 3)).unwrap();
        let state = ServerState {
            leap: 0,
            stratum: 2,
            root_delay_ns: 0,
            root_dispersion_ns: 25_000_000,
            reference_id: *b"TICK",
            reference: UtcNanos(1_796_515_200_000_000_000),
        };
        let r = encode_reply(
            &req,
            &state,
            UtcNanos(1_796_515_200_000_000_000),
            UtcNanos(1_796_515_200_000_100_000),
        );
        assert_eq!(r[0], 3 << 3 | 4);
        assert_eq!(r[1], 2);
        assert_eq!(r[2], 6);
        assert_eq!(&r[24..32], &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(
            u32::from_be_bytes(r[8..12].try_into().unwrap()),
            1639,
            "25 ms in 16.16"
        );
        let k = encode_kiss(&req, b"RATE", UtcNanos(1_796_515_200_000_000_000));
        assert_eq!((k[0] >> 6, k[1], &k[12..16]), (3, 0, &b"RATE"[..]));
        assert_eq!(&k[24..32], &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_ne!(&k[40..48], &[0u8; 8], "a kiss carries a transmit timestamp");
    }
}
