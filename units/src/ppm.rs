//! [`Ppm`]: a frequency tolerance, the rate at which an error bound grows.
//!
//! Owns: turning elapsed time into accumulated error, rounded so bounds stay hard. Never: reads
//! a clock.

use crate::Span;
use serde::{Deserialize, Serialize};

/// A frequency tolerance in parts per million: how fast an error bound grows per unit of
/// elapsed time (RFC 5905 §7.2 calls this PHI; 15 ppm there).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Ppm(pub u32);

impl Ppm {
    /// RFC 5905 §7.2 default frequency tolerance PHI: 15 ppm.
    pub const RFC5905_PHI: Ppm = Ppm(15);

    /// The error accumulated over `elapsed` at this tolerance, rounded up so bounds stay hard.
    pub fn over(self, elapsed: Span) -> Span {
        let product = u128::from(elapsed.0) * u128::from(self.0);
        let rounded_up = product.div_ceil(1_000_000);
        Span(u64::try_from(rounded_up).unwrap_or(u64::MAX))
    }
}

impl Default for Ppm {
    fn default() -> Self {
        Self::RFC5905_PHI
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phi_error_rounds_up_so_a_bound_never_shrinks() {
        assert_eq!(Ppm(15).over(Span::from_secs(1)), Span(15_000));
        assert_eq!(Ppm(15).over(Span(1)), Span(1));
        assert_eq!(Ppm(15).over(Span::ZERO), Span::ZERO);
    }

    #[test]
    fn the_default_tolerance_is_rfc5905_phi() {
        assert_eq!(Ppm::default(), Ppm(15));
    }
}
