//! Peer time probes: an NTP-style four-timestamp exchange over the ring's QUIC connections,
//! feeding each peer to the aggregator as a `peer` source (`specs/time.md` §4.4).
//!
//! Owns: the two probe messages and their bytes (kinds 0x70 and 0x71 of the namespace in
//! [`crate::peer`]). Never: consensus messages (kinds 1–10, [`crate::codec`]) or the exchange's
//! arithmetic (the aggregator's `peer` source does it).
//!
//! The requester stamps T1 and T4 on its raw system clock; the peer stamps T2 and T3 on its
//! best UTC estimate (the middle of its interval) and sends its interval's radius and whether
//! it is synchronised. The aggregator then treats the peer like an NTP server whose root
//! dispersion is that radius (RFC 5905 §8).

use tickchain_sdk::encoding::{DecodeError, Reader, Writer};

/// Kind byte of a request.
pub const TIME_REQUEST: u8 = 0x70;
/// Kind byte of a reply.
pub const TIME_REPLY: u8 = 0x71;

/// A probe message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeMessage {
    /// "What time is it?", with the requester's raw clock at sending (T1, ns).
    Request {
        /// T1.
        t1: i64,
    },
    /// The answer.
    Reply {
        /// T1, echoed.
        t1: i64,
        /// T2: the peer's UTC estimate when the request arrived (ns).
        t2: i64,
        /// T3: the peer's UTC estimate when the reply left (ns).
        t3: i64,
        /// Half the width of the peer's interval (ns, ≥ 0).
        radius: i64,
        /// Whether the peer is synchronised (an unsynchronised peer is no source).
        synchronized: bool,
    },
}

/// True when `bytes` is a probe message rather than a consensus message.
pub fn is_time_message(bytes: &[u8]) -> bool {
    matches!(bytes.first(), Some(&TIME_REQUEST) | Some(&TIME_REPLY))
}

impl TimeMessage {
    /// The wire bytes: kind, then big-endian fields.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        match *self {
            TimeMessage::Request { t1 } => {
                w.u8(TIME_REQUEST).i64(t1);
            }
            TimeMessage::Reply {
                t1,
                t2,
                t3,
                radius,
                synchronized,
            } => {
                w.u8(TIME_REPLY)
                    .i64(t1)
                    .i64(t2)
                    .i64(t3)
                    .i64(radius)
                    .u8(u8::from(synchronized));
            }
        }
        w.finish()
    }

    /// Parses a probe message (exact length, no trailing bytes).
    pub fn decode(bytes: &[u8]) -> Result<TimeMessage, DecodeError> {
        let mut r = Reader::new(bytes);
        let msg = match r.u8("time.kind")? {
            TIME_REQUEST => TimeMessage::Request {
                t1: r.i64("time.t1")?,
            },
            TIME_REPLY => {
                let (t1, t2, t3) = (r.i64("time.t1")?, r.i64("time.t2")?, r.i64("time.t3")?);
                let radius = r.i64("time.radius")?;
                if radius < 0 {
                    return Err(DecodeError::Invalid {
                        field: "time.radius",
                        reason: format!("expected >= 0, got {radius}"),
                    });
                }
                let synchronized = match r.u8("time.synchronized")? {
                    0 => false,
                    1 => true,
                    other => {
                        return Err(DecodeError::Invalid {
                            field: "time.synchronized",
                            reason: format!("expected 0 or 1, got {other}"),
                        });
                    }
                };
                TimeMessage::Reply {
                    t1,
                    t2,
                    t3,
                    radius,
                    synchronized,
                }
            }
            other => {
                return Err(DecodeError::Invalid {
                    field: "time.kind",
                    reason: format!("expected 0x70 or 0x71, got {other:#04x}"),
                });
            }
        };
        r.finish()?;
        Ok(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_messages_round_trip_and_reject_bad_bytes() {
        for m in [
            TimeMessage::Request { t1: -5 },
            TimeMessage::Reply {
                t1: 1,
                t2: 2,
                t3: 3,
                radius: 4,
                synchronized: true,
            },
        ] {
            let b = m.encode();
            assert!(is_time_message(&b));
            assert_eq!(TimeMessage::decode(&b).unwrap(), m);
            assert!(TimeMessage::decode(&b[..b.len() - 1]).is_err());
            let mut long = b.clone();
            long.push(0);
            assert!(TimeMessage::decode(&long).is_err());
        }
        let mut bad = TimeMessage::Reply {
            t1: 1,
            t2: 2,
            t3: 3,
            radius: 4,
            synchronized: true,
        }
        .encode();
        *bad.last_mut().unwrap() = 2;
        assert!(TimeMessage::decode(&bad).is_err());
        assert!(!is_time_message(&[1, 2, 3]));
    }
}
