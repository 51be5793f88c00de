//! Specification of source selection, checked against a brute-force oracle over all subsets.

use proptest::prelude::*;
use tickchain_aggregator::select::{SelectError, SelectionRule, intersect, select};
use tickchain_aggregator::{MaxFalsetickers, Nanos, OffsetInterval};

fn iv(lo: i64, hi: i64) -> OffsetInterval {
    OffsetInterval {
        lo: Nanos(lo),
        hi: Nanos(hi),
    }
}

/// The oracle: every subset of at least a strict majority whose intervals share a point
/// contributes that common part; the answer is the hull of those parts. Also returns the
/// largest subset with a common point.
fn oracle(intervals: &[OffsetInterval]) -> (Option<OffsetInterval>, usize) {
    oracle_needing(intervals, intervals.len() / 2 + 1)
}

/// The same oracle for subsets of at least `needed` intervals.
fn oracle_needing(intervals: &[OffsetInterval], needed: usize) -> (Option<OffsetInterval>, usize) {
    let m = intervals.len();
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

/// A falseticker bound: any minority, or at most 0..=4.
fn bound() -> impl Strategy<Value = MaxFalsetickers> {
    prop_oneof![
        Just(MaxFalsetickers::Minority),
        (0usize..=4).prop_map(MaxFalsetickers::AtMost),
    ]
}

fn rule(max_falsetickers: MaxFalsetickers) -> SelectionRule {
    SelectionRule {
        min_agreeing: 1,
        max_falsetickers,
    }
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
        prop_assert!(r.interval.contains(Nanos(truth)), "{:?} misses {}", r.interval, truth);
        for (i, x) in ivs.iter().enumerate() {
            if x.contains(Nanos(truth)) {
                prop_assert!(r.truechimer[i], "an interval holding the truth was called a falseticker");
            }
        }
    }

    #[test]
    fn agreed_interval_equals_the_oracle_for_any_bound_and_known_faulty_sources(
        ivs in arbitrary_intervals(),
        known_faulty in 0usize..=3,
        bound in bound(),
    ) {
        // A known-faulty source counts among the m sources and covers no point.
        let m = ivs.len() + known_faulty;
        let needed = bound.needed(m);
        let (hull, clique) = oracle_needing(&ivs, needed);
        match select(&ivs, known_faulty, rule(bound)) {
            Ok(r) => {
                prop_assert_eq!(Some(r.interval), hull);
                prop_assert_eq!(r.agreeing, clique);
            }
            Err(SelectError::NoMajority { agreeing, needed: n, sources }) => {
                prop_assert_eq!(hull, None);
                prop_assert_eq!(agreeing, clique);
                prop_assert_eq!((n, sources), (needed, m));
            }
            Err(e) => prop_assert!(false, "unexpected {e:?}"),
        }
    }

    #[test]
    fn liars_within_the_configured_bound_never_push_the_truth_out(
        (truth, ivs, liars) in scenario(),
        slack in 0usize..=2,
        known_faulty in 0usize..=2,
    ) {
        // Configure exactly the liars present (plus slack), counting the known-faulty ones.
        let bound = MaxFalsetickers::AtMost(liars + known_faulty + slack);
        let m = ivs.len() + known_faulty;
        prop_assume!(liars + known_faulty <= bound.tolerated(m));
        let r = select(&ivs, known_faulty, rule(bound)).expect("the truthful sources agree");
        prop_assert!(r.interval.contains(Nanos(truth)), "{:?} misses {}", r.interval, truth);
        for (i, x) in ivs.iter().enumerate() {
            if x.contains(Nanos(truth)) {
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
        prop_assert!(r.interval.contains(Nanos(truth)));
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

/// The guarantee is exactly as strong as the configured bound: one liar more than it tolerates
/// can pull the interval off the truth (so the properties above are not vacuous).
#[test]
fn one_liar_beyond_the_configured_bound_can_exclude_the_truth() {
    // Truth 0. Three honest intervals, two liars agreeing on [5, 9] with one honest source.
    let ivs = [iv(-10, 10), iv(-1, 9), iv(-2, 2), iv(5, 9), iv(4, 12)];
    let one = select(&ivs, 0, rule(MaxFalsetickers::AtMost(1))).unwrap();
    assert!(!one.interval.contains(Nanos(0)), "{:?}", one.interval);
    let minority = select(&ivs, 0, rule(MaxFalsetickers::Minority)).unwrap();
    assert!(minority.interval.contains(Nanos(0)));
}
