//! How many wrong sources selection assumes it may face: the `f` of "at most f falsetickers".
//!
//! Owns: the choice of `f` for a given number of usable sources. Never: looks at intervals.
//!
//! ```text
//!   m usable sources, f tolerated  ⇒  the truth is covered by at least m − f intervals
//!   Minority (default): f = ⌈m/2⌉ − 1      m = 4 → f = 1,  m = 5 → f = 2,  m = 9 → f = 4
//!   AtMost(k):          f = min(k, ⌈m/2⌉ − 1)
//! ```

use serde::Serialize;

/// The most usable sources selection assumes may exclude the truth (`[selection]
/// max-falsetickers`, `specs/time.md` §5).
///
/// A smaller bound gives a tighter interval, because selection then needs more sources to
/// agree on every point it keeps, but the interval is only guaranteed to hold the truth while
/// no more than that many sources are wrong. Selection never tolerates a majority: the bound is
/// capped at `⌈m/2⌉ − 1`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "kebab-case")]
pub enum MaxFalsetickers {
    /// Any minority, `⌈m/2⌉ − 1` of `m` usable sources (the default, RFC 5905's strict
    /// majority).
    #[default]
    Minority,
    /// At most this many, and never more than a minority.
    AtMost(usize),
}

impl MaxFalsetickers {
    /// `f` for `m` usable sources.
    pub fn tolerated(self, m: usize) -> usize {
        let minority = m.div_ceil(2).saturating_sub(1);
        match self {
            MaxFalsetickers::Minority => minority,
            MaxFalsetickers::AtMost(k) => k.min(minority),
        }
    }

    /// How many intervals must cover a point for selection to keep it: `m − f`.
    pub fn needed(self, m: usize) -> usize {
        m - self.tolerated(m)
    }
}

impl From<Option<usize>> for MaxFalsetickers {
    /// The configuration key `[selection] max-falsetickers`: absent is [`Self::Minority`],
    /// `k` is [`Self::AtMost`]`(k)`.
    fn from(configured: Option<usize>) -> Self {
        configured.map_or(MaxFalsetickers::Minority, MaxFalsetickers::AtMost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minority_is_the_largest_f_below_half() {
        let f: Vec<_> = (0..=9)
            .map(|m| MaxFalsetickers::Minority.tolerated(m))
            .collect();
        assert_eq!(f, vec![0, 0, 0, 1, 1, 2, 2, 3, 3, 4]);
        assert!((1..=9).all(|m| MaxFalsetickers::Minority.needed(m) == m / 2 + 1));
    }

    #[test]
    fn a_configured_bound_is_capped_at_a_minority() {
        assert_eq!(MaxFalsetickers::AtMost(1).tolerated(9), 1);
        assert_eq!(MaxFalsetickers::AtMost(1).needed(9), 8);
        assert_eq!(MaxFalsetickers::AtMost(7).tolerated(4), 1);
        assert_eq!(MaxFalsetickers::AtMost(0).needed(5), 5);
    }

    #[test]
    fn an_absent_key_means_any_minority() {
        assert_eq!(MaxFalsetickers::from(None), MaxFalsetickers::Minority);
        assert_eq!(MaxFalsetickers::from(Some(1)), MaxFalsetickers::AtMost(1));
    }
}
