//! Specification of the whole sans-IO aggregator (filter, selection, combine, leap rule): with
//! fewer than half the sources lying, the published interval holds true UTC, whatever the
//! order in which sources were registered and samples arrived.

use proptest::prelude::*;
use tickchain_aggregator::{
    Aggregator, AggregatorConfig, LeapIndicator, Nanos, Ppm, Sample, SignedNanos, SourceClass,
    SourceId, TimeEstimate, UtcNanos,
};

const START: i64 = 1_800_000_000;

/// (is_liar, per-poll (error within radius as a fraction, delay ns), root dispersion ns)
type SourcePlan = (bool, Vec<(f64, u64)>, u64);

fn plans() -> impl Strategy<Value = (i64, Vec<SourcePlan>)> {
    (3usize..=9, -50_000_000i64..50_000_000).prop_flat_map(|(m, truth)| {
        let liars = 0..=(m - 1) / 2;
        (Just(truth), Just(m), liars).prop_flat_map(|(truth, m, liars)| {
            let one = |liar: bool| {
                (
                    Just(liar),
                    prop::collection::vec((-1.0f64..=1.0, 10_000u64..5_000_000), 1..=8),
                    0u64..1_000_000,
                )
            };
            let plan: Vec<_> = (0..m).map(|i| one(i < liars)).collect();
            (Just(truth), plan.prop_shuffle())
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
        offset: SignedNanos(offset),
        delay: Nanos(delay),
        root_delay: Nanos::ZERO,
        root_dispersion: Nanos(disp),
        precision: Nanos(1),
        leap: LeapIndicator::NoWarning,
        stratum: 2,
        taken_at: at,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    #[test]
    fn published_interval_holds_true_utc_with_fewer_than_half_liars((truth, plans) in plans()) {
        let mut agg = Aggregator::new(AggregatorConfig { min_agreeing: 1, ..AggregatorConfig::default() });
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
            t = t.shifted(SignedNanos::from_secs(1));
        }
        let now = t.shifted(SignedNanos::from_secs(30));
        let TimeEstimate::Synchronised(e) = agg.estimate(now) else {
            return Err(TestCaseError::fail("a truthful strict majority must synchronise"));
        };
        let true_utc = now.shifted(SignedNanos(truth));
        prop_assert!(e.earliest <= true_utc && true_utc <= e.latest);
        // Later, without new samples, the widened interval still holds true UTC (the local
        // clock here is perfect, so the truth keeps the same offset).
        let later = now.shifted(SignedNanos::from_secs(600));
        let (lo, hi) = e.interval_at(later, Ppm::RFC5905_PHI);
        let true_later = later.shifted(SignedNanos(truth));
        prop_assert!(lo <= true_later && true_later <= hi);
    }
}
