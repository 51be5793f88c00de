//! Specification of source selection, checked against a brute-force oracle over all subsets.

use proptest::prelude::*;
use tickchain_aggregator::select::{SelectError, intersect};
use tickchain_aggregator::{OffsetInterval, SignedNanos};

fn iv(lo: i64, hi: i64) -> OffsetInterval {
    OffsetInterval {
        lo: SignedNanos(lo),
        hi: SignedNanos(hi),
    }
}

/// The oracle: every subset of at least a strict majority whose intervals share a point
/// contributes that common part; the answer is the hull of those parts. Also returns the
/// largest subset with a common point.
fn oracle(intervals: &[OffsetInterval]) -> (Option<OffsetInterval>, usize) {
    let m = intervals.len();
    let needed = m / 2 + 1;
    let mut hull: Option<OffsetInterval> = None;
    let mut clique = 0;
    for mask in 1u32..(1 << m) {
        let members: Vec<_> = (0..m).filter(|i| mask & (1 << i) != 0).collect();
        let lo = members.iter().map(|&i| intervals[i].lo).max().unwrap();
        let hi = members.iter().map(|&i| intervals[i].hi).min().unwrap();
        if lo > hi {
            continue;
        }
        clique = clique.max(members.len());
        if members.len() >= needed {
            hull = Some(match hull {
                None => OffsetInterval { lo, hi },
                Some(h) => OffsetInterval {
                    lo: h.lo.min(lo),
                    hi: h.hi.max(hi),
                },
            });
        }
    }
    (hull, clique)
}

/// `m` intervals around `truth`, of which `liars` exclude it, in shuffled order.
fn scenario() -> impl Strategy<Value = (i64, Vec<OffsetInterval>, usize)> {
    (1usize..=9, -1_000i64..1_000).prop_flat_map(|(m, truth)| {
        let max_liars = (m - 1) / 2;
        (0..=max_liars).prop_flat_map(move |liars| {
            let honest =
                prop::collection::vec((0i64..500, 0i64..500), m - liars).prop_map(move |v| {
                    v.into_iter()
                        .map(|(a, b)| iv(truth - a, truth + b))
                        .collect::<Vec<_>>()
                });
            let lying = prop::collection::vec((any::<bool>(), 1i64..600, 0i64..800), liars)
                .prop_map(move |v| {
                    v.into_iter()
                        .map(|(above, gap, width)| {
                            if above {
                                iv(truth + gap, truth + gap + width)
                            } else {
                                iv(truth - gap - width, truth - gap)
                            }
                        })
                        .collect::<Vec<_>>()
                });
            (honest, lying)
                .prop_flat_map(|(h, l)| Just([h, l].concat()).prop_shuffle())
                .prop_map(move |all| (truth, all, liars))
        })
    })
}

fn arbitrary_intervals() -> impl Strategy<Value = Vec<OffsetInterval>> {
    prop::collection::vec((-300i64..300, 0i64..200), 1..=9)
        .prop_map(|v| v.into_iter().map(|(c, r)| iv(c - r, c + r)).collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn agreed_interval_equals_the_brute_force_hull_of_majority_subsets(ivs in arbitrary_intervals()) {
        let (hull, clique) = oracle(&ivs);
        match intersect(&ivs, 1) {
            Ok(r) => {
                prop_assert_eq!(Some(r.interval), hull);
                prop_assert_eq!(r.agreeing, clique);
            }
            Err(SelectError::NoMajority { agreeing, .. }) => {
                prop_assert_eq!(hull, None);
                prop_assert_eq!(agreeing, clique);
            }
            Err(e) => prop_assert!(false, "unexpected {e:?}"),
        }
    }

    #[test]
    fn fewer_than_half_liars_never_push_the_truth_out((truth, ivs, _liars) in scenario()) {
        // With every liar excluding the truth and liars < m/2, a majority always exists.
        let r = intersect(&ivs, 1).expect("a strict majority contains the truth");
        prop_assert!(r.interval.contains(SignedNanos(truth)), "{:?} misses {}", r.interval, truth);
        for (i, x) in ivs.iter().enumerate() {
            if x.contains(SignedNanos(truth)) {
                prop_assert!(r.truechimer[i], "an interval holding the truth was called a falseticker");
            }
        }
    }

    #[test]
    fn selection_is_invariant_under_permutation(
        (ivs, shuffled) in arbitrary_intervals().prop_flat_map(|v| (Just(v.clone()), Just(v).prop_shuffle())),
    ) {
        let a = intersect(&ivs, 1);
        let b = intersect(&shuffled, 1);
        match (a, b) {
            (Ok(a), Ok(b)) => {
                prop_assert_eq!(a.interval, b.interval);
                prop_assert_eq!(a.agreeing, b.agreeing);
                // The same interval gets the same verdict wherever it sits.
                for (i, x) in ivs.iter().enumerate() {
                    let j = shuffled.iter().position(|y| y == x).unwrap();
                    prop_assert_eq!(a.truechimer[i], b.truechimer[j]);
                }
            }
            (a, b) => prop_assert_eq!(a.err(), b.err()),
        }
    }

    #[test]
    fn widening_any_radius_never_excludes_the_truth(
        (truth, ivs, _liars) in scenario(),
        widen in prop::collection::vec((0i64..1_000, 0i64..1_000), 9),
    ) {
        let wider: Vec<_> = ivs
            .iter()
            .zip(&widen)
            .map(|(x, (a, b))| iv(x.lo.0 - a, x.hi.0 + b))
            .collect();
        let r = intersect(&wider, 1).expect("widening keeps the truthful majority");
        prop_assert!(r.interval.contains(SignedNanos(truth)));
    }

    #[test]
    fn too_few_agreeing_sources_is_reported_not_guessed(ivs in arbitrary_intervals()) {
        let (_, clique) = oracle(&ivs);
        let r = intersect(&ivs, clique + 1);
        let no_majority = matches!(r, Err(SelectError::NoMajority { .. }));
        let too_few = matches!(
            r,
            Err(SelectError::TooFewAgreeing { agreeing, required, .. })
                if agreeing == clique && required == clique + 1
        );
        prop_assert!(no_majority || too_few, "{:?}", r);
    }
}
