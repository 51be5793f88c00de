//! The combine step: RFC 5905 §11.2.3's weighted average of the surviving sources' offsets.
//!
//! Owns: the single best-guess offset. Never: widens or narrows the hard bound; the result is
//! clamped into the agreed interval, so weighting can only move the guess, not the guarantee.

use crate::sample::OffsetInterval;
use crate::time::{Nanos, Span};

/// One survivor's contribution: its offset, hard radius λ and statistical jitter ψ.
#[derive(Clone, Copy, Debug)]
pub struct Contribution {
    /// The source's offset θ.
    pub offset: Nanos,
    /// The source's hard radius λ at selection time.
    pub radius: Span,
    /// The source's jitter ψ (RFC 5905 §10), a statistical spread.
    pub jitter: Span,
}

/// RFC 5905 §11.2.3: each survivor weighs `1 / (λ + ψ)` (the RFC's root distance already
/// carries the jitter). The mean is clamped into `agreed`; with no survivors it is `agreed`'s
/// midpoint.
pub fn combine(survivors: &[Contribution], agreed: OffsetInterval) -> Nanos {
    let mut weight_sum = 0.0f64;
    let mut weighted = 0.0f64;
    for c in survivors {
        // One nanosecond floor keeps a perfect source from dividing by zero.
        let w = 1.0 / (c.radius.plus(c.jitter).0.max(1) as f64);
        weight_sum += w;
        weighted += w * (c.offset.0 as f64);
    }
    if weight_sum == 0.0 {
        return agreed.midpoint();
    }
    let mean = Nanos((weighted / weight_sum).round() as i64);
    mean.clamp(agreed.lo, agreed.hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tighter_source_pulls_the_combined_offset_towards_itself() {
        let agreed = OffsetInterval {
            lo: Nanos(-1_000),
            hi: Nanos(1_000),
        };
        let tight = Contribution {
            offset: Nanos(100),
            radius: Span(10),
            jitter: Span::ZERO,
        };
        let loose = Contribution {
            offset: Nanos(-900),
            radius: Span(1_000),
            jitter: Span::ZERO,
        };
        let c = combine(&[tight, loose], agreed);
        assert!(c.0 > 80 && c.0 <= 100, "{c:?}");
    }

    #[test]
    fn combined_offset_never_leaves_the_agreed_interval() {
        let agreed = OffsetInterval {
            lo: Nanos(0),
            hi: Nanos(10),
        };
        let far = Contribution {
            offset: Nanos(500),
            radius: Span(600),
            jitter: Span::ZERO,
        };
        assert_eq!(combine(&[far], agreed), Nanos(10));
    }
}
