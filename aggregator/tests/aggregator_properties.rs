//! Specification of the whole sans-IO aggregator (filter, selection, combine, leap rule): with
//! fewer than half the sources lying (or no more than a configured `max-falsetickers`), the
//! published interval holds true UTC, whatever the order in which sources were registered and
//! samples arrived. A liar's samples each miss the truth, on either side, so its stages may
//! also contradict each other.

use proptest::prelude::*;
use tickchain_aggregator::{
    Aggregator, AggregatorConfig, LeapIndicator, MaxFalsetickers, Nanos, Ppm, Sample, SourceClass,
    SourceId, Span, TimeEstimate, UtcNanos,
};

const START: i64 = 1_800_000_000;

/// (is_liar, per-poll (error within radius as a fraction, delay ns), root dispersion ns)
type SourcePlan = (bool, Vec<(f64, u64)>, u64);

/// Where inside (honest) or beyond (liar) its radius a sample's error lies, as a fraction;
/// often exactly at the edge, where an over-tight bound would show.
fn error() -> impl Strategy<Value = f64> {
    prop_oneof![-1.0f64..=1.0, Just(1.0), Just(-1.0)]
}

/// A falseticker bound and, for `m` sources, a number of liars it covers.
fn bound_and_liars(m: usize) -> impl Strategy<Value = (MaxFalsetickers, usize)> {
    prop_oneof![
        Just(MaxFalsetickers::Minority),
        (0usize..=3).prop_map(MaxFalsetickers::AtMost),
    ]
    .prop_flat_map(move |bound| (Just(bound), 0..=bound.tolerated(m)))
}

fn plans() -> impl Strategy<Value = (MaxFalsetickers, i64, Vec<SourcePlan>)> {
    (3usize..=9, -50_000_000i64..50_000_000).prop_flat_map(|(m, truth)| {
        (Just(truth), Just(m), bound_and_liars(m)).prop_flat_map(|(truth, m, (bound, liars))| {
            let one = |liar: bool| {
                (
                    Just(liar),
                    prop::collection::vec((error(), 10_000u64..5_000_000), 1..=8),
                    0u64..1_000_000,
                )
            };
            let plan: Vec<_> = (0..m).map(|i| one(i < liars)).collect();
            (Just(bound), Just(truth), plan.prop_shuffle())
        })
    })
}

fn sample(truth: i64, liar: bool, err: f64, delay: u64, disp: u64, at: UtcNanos) -> Sample {
    let radius = delay.div_ceil(2) + disp + 1;
    let offset = if liar {
        // Outside its own radius by at least 1 µs, on the side `err` picks.
        let miss = radius as f64 * (1.0 + err.abs()) + 1_000.0;
        truth + if err >= 0.0 { miss } else { -miss } as i64
    } else {
        truth + (err * (radius - 1) as f64) as i64
    };
    Sample {
        offset: Nanos(offset),
        delay: Span(delay),
        root_delay: Span::ZERO,
        root_dispersion: Span(disp),
        precision: Span(1),
        leap: LeapIndicator::NoWarning,
        stratum: 2,
        taken_at: at,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    #[test]
    fn published_interval_holds_true_utc_with_fewer_than_half_liars(
        (bound, truth, plans) in plans(),
        // The local clock here is perfect, so Φ = 0 is honest too, and leaves no aging slack
        // to hide an over-tight bound in.
        phi in prop_oneof![Just(Ppm(0)), Just(Ppm::RFC5905_PHI)],
    ) {
        let config = AggregatorConfig { min_agreeing: 1, phi, ..AggregatorConfig::default() };
        let mut agg = Aggregator::new(config).with_max_falsetickers(bound);
        let mut t = UtcNanos::from_parts(START, 0);
        for (i, _) in plans.iter().enumerate() {
            agg.add_source(format!("s{i}"), SourceClass::Ntp);
        }
        let polls = plans.iter().map(|p| p.1.len()).max().unwrap_or(0);
        for k in 0..polls {
            for (i, (liar, polls, disp)) in plans.iter().enumerate() {
                if let Some(&(err, delay)) = polls.get(k) {
                    agg.on_sample(SourceId(i), sample(truth, *liar, err, delay, *disp, t));
                }
            }
            t = t.shifted(Nanos::from_secs(1));
        }
        let now = t.shifted(Nanos::from_secs(30));
        let TimeEstimate::Synchronised(e) = agg.estimate(now) else {
            return Err(TestCaseError::fail("a truthful strict majority must synchronise"));
        };
        let true_utc = now.shifted(Nanos(truth));
        prop_assert!(e.earliest <= true_utc && true_utc <= e.latest);
        // Later, without new samples, the widened interval still holds true UTC (the local
        // clock here is perfect, so the truth keeps the same offset).
        let later = now.shifted(Nanos::from_secs(600));
        let (lo, hi) = e.interval_at(later, phi);
        let true_later = later.shifted(Nanos(truth));
        prop_assert!(lo <= true_later && true_later <= hi);
    }
}
