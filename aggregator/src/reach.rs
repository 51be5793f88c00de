//! The reachability register of one source (RFC 5905 §9.2 and §13 "reach").
//!
//! Owns: the 8-bit history of which recent polls were answered. Never: judges the answers.

use serde::Serialize;

/// An 8-bit shift register; bit 0 is the latest poll, set when it was answered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Reach(pub u8);

impl Reach {
    /// Records one poll (RFC 5905 §13: shift left, set bit 0 on a valid reply).
    pub fn record(&mut self, answered: bool) {
        self.0 = (self.0 << 1) | u8::from(answered);
    }

    /// A source is reachable while any of its last eight polls was answered (RFC 5905 §9.2).
    pub fn is_reachable(self) -> bool {
        self.0 != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_is_unreachable_after_eight_unanswered_polls() {
        let mut r = Reach::default();
        r.record(true);
        for _ in 0..7 {
            r.record(false);
            assert!(r.is_reachable());
        }
        r.record(false);
        assert!(!r.is_reachable());
    }
}
