//! The sans-IO aggregator: per-source filters and reachability, then selection, combine and the
//! leap vote into one [`TimeEstimate`].
//!
//! Owns: the state of every configured source. Never: opens a socket, reads a clock, sleeps or
//! spawns; drivers feed it events and pass the local time in.
//!
//! ```text
//!  driver ──on_sample / on_unsynchronised / on_no_reply──▶ per-source ClockFilter + Reach
//!  caller ──estimate(now)──▶ fit sources ─▶ stage bounds ─▶ select (§11.2.1)
//!                                        ─▶ combine (§11.2.3) ─▶ leap vote
//! ```

use crate::combine::{Contribution, combine};
use crate::estimate::{Estimate, SourceReport, TimeEstimate, UnsyncReason, Verdict};
use crate::filter::{ClockFilter, StageBound};
use crate::leap;
use crate::peer::PeerExchange;
use crate::reach::Reach;
use crate::sample::{LeapIndicator, OffsetInterval, Sample, SourceClass};
use crate::select::{SelectionRule, select};
use crate::time::{Ppm, Span, UtcNanos};
use crate::tolerance::MaxFalsetickers;
use tracing::debug;

/// Selection parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AggregatorConfig {
    /// Frequency tolerance Φ of every clock involved (default 15 ppm, RFC 5905 §7.2).
    pub phi: Ppm,
    /// Fewest sources that must share one point (default 3).
    pub min_agreeing: usize,
    /// A source whose radius exceeds this is unfit (default 1.5 s, RFC 5905 §7.2 MAXDIST).
    pub max_radius: Span,
}

impl Default for AggregatorConfig {
    fn default() -> Self {
        AggregatorConfig {
            phi: Ppm::RFC5905_PHI,
            min_agreeing: 3,
            max_radius: Span::from_millis(1_500),
        }
    }
}

/// Index of a source inside one [`Aggregator`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SourceId(pub usize);

#[derive(Clone, Debug)]
struct SourceState {
    label: String,
    class: SourceClass,
    filter: ClockFilter,
    reach: Reach,
    latest: Option<Sample>,
    /// Set while the source's latest reply says it is not synchronised.
    unsynchronised: Option<String>,
    /// Why the latest poll got no reply, if it did not.
    last_error: Option<String>,
}

/// The clock model over a fixed set of sources.
#[derive(Clone, Debug)]
pub struct Aggregator {
    config: AggregatorConfig,
    max_falsetickers: MaxFalsetickers,
    sources: Vec<SourceState>,
}

impl Aggregator {
    /// An aggregator with no sources.
    pub fn new(config: AggregatorConfig) -> Self {
        Aggregator {
            config,
            max_falsetickers: MaxFalsetickers::default(),
            sources: Vec::new(),
        }
    }

    /// The same aggregator assuming at most `bound` wrong sources (`[selection]
    /// max-falsetickers`, `specs/time.md` §5). The default, [`MaxFalsetickers::Minority`],
    /// keeps RFC 5905's strict majority; a smaller bound narrows the interval but it holds the
    /// truth only while no more than that many sources are wrong.
    pub fn with_max_falsetickers(mut self, bound: MaxFalsetickers) -> Self {
        self.max_falsetickers = bound;
        self
    }

    /// The configuration in force.
    pub fn config(&self) -> AggregatorConfig {
        self.config
    }

    /// The falseticker bound in force.
    pub fn max_falsetickers(&self) -> MaxFalsetickers {
        self.max_falsetickers
    }

    /// Registers a source and returns its id.
    pub fn add_source(&mut self, label: impl Into<String>, class: SourceClass) -> SourceId {
        self.sources.push(SourceState {
            label: label.into(),
            class,
            filter: ClockFilter::new(),
            reach: Reach::default(),
            latest: None,
            unsynchronised: None,
            last_error: None,
        });
        SourceId(self.sources.len() - 1)
    }

    /// A poll was answered with a usable sample. A sample whose leap indicator is 3 or whose
    /// stratum is 0 or ≥ 16 is recorded as unsynchronised instead (RFC 5905 §11.2 fit test).
    pub fn on_sample(&mut self, id: SourceId, sample: Sample) {
        if sample.leap == LeapIndicator::Unsynchronised
            || sample.stratum == 0
            || sample.stratum >= 16
        {
            let why = format!(
                "expected a synchronised source, got leap indicator {:?} at stratum {}",
                sample.leap, sample.stratum
            );
            self.on_unsynchronised(id, why);
            return;
        }
        let Some(s) = self.sources.get_mut(id.0) else {
            return;
        };
        debug!(source = %s.label, offset = %sample.offset, delay = %sample.delay, "sample");
        s.reach.record(true);
        s.filter.push(sample);
        s.latest = Some(sample);
        s.unsynchronised = None;
        s.last_error = None;
    }

    /// A poll was answered, but the source says it is not synchronised (leap indicator 3,
    /// a kiss code, a receiver without a fix). Its old samples stop counting.
    pub fn on_unsynchronised(&mut self, id: SourceId, why: String) {
        let Some(s) = self.sources.get_mut(id.0) else {
            return;
        };
        debug!(source = %s.label, why, "unsynchronised");
        s.reach.record(true);
        s.filter.push_miss();
        s.unsynchronised = Some(why);
        s.last_error = None;
    }

    /// A poll got no reply (timeout, network error, malformed answer).
    pub fn on_no_reply(&mut self, id: SourceId, why: String) {
        let Some(s) = self.sources.get_mut(id.0) else {
            return;
        };
        debug!(source = %s.label, why, "no reply");
        s.reach.record(false);
        s.filter.push_miss();
        s.last_error = Some(why);
    }

    /// A peer exchange completed (RFC 5905 §8); an impossible exchange counts as no reply.
    pub fn on_peer_exchange(&mut self, id: SourceId, exchange: &PeerExchange) {
        match exchange.to_sample() {
            Ok(sample) => self.on_sample(id, sample),
            Err(e) => self.on_no_reply(id, e.to_string()),
        }
    }

    /// Selects, combines and votes at local clock reading `now`.
    pub fn estimate(&self, now: UtcNanos) -> TimeEstimate {
        let phi = self.config.phi;
        let mut reports = Vec::with_capacity(self.sources.len());
        // Indices into `reports` of the fit sources, with their stage bound, best sample and
        // jitter; and how many fit sources contradict themselves.
        let mut fit: Vec<(usize, OffsetInterval, Sample, Span)> = Vec::new();
        let mut known_faulty = 0usize;
        for s in &self.sources {
            let best = s.filter.best(now, phi);
            let radius = best.map(|b| b.radius_at(now, phi));
            let (mut verdict, mut detail) = if let Some(why) = &s.unsynchronised {
                (Verdict::Unsynchronised, Some(why.clone()))
            } else if !s.reach.is_reachable() || best.is_none() {
                let why = s
                    .last_error
                    .clone()
                    .unwrap_or_else(|| "no sample yet".into());
                (Verdict::Unreachable, Some(why))
            } else if radius.is_some_and(|r| r > self.config.max_radius) {
                let why = format!(
                    "expected a radius of at most {}, got {}",
                    self.config.max_radius,
                    radius.unwrap_or(Span::MAX)
                );
                (Verdict::Unsynchronised, Some(why))
            } else {
                (Verdict::Undecided, None)
            };
            if let (Verdict::Undecided, Some(b)) = (verdict, best) {
                match s.filter.bound(now, phi) {
                    Some(StageBound::Interval(bound)) => {
                        fit.push((reports.len(), bound, b, s.filter.jitter(now, phi)));
                    }
                    // Unreachable: `best` is a stage, so a bound exists.
                    None => {}
                    Some(StageBound::Contradictory) => {
                        // Proven wrong by its own samples: it spends one of the f tolerated
                        // falsetickers and covers no point (`specs/time.md` §3).
                        known_faulty += 1;
                        verdict = Verdict::Falseticker;
                        detail = Some(
                            "expected its recent samples to share a point, but two of them are disjoint"
                                .into(),
                        );
                    }
                }
            }
            reports.push(SourceReport {
                label: s.label.clone(),
                class: s.class,
                verdict,
                offset: best.map(|b| b.offset),
                delay: best.map(|b| b.delay),
                radius,
                stratum: s.latest.map(|l| l.stratum),
                leap: s.latest.map(|l| l.leap),
                reach: s.reach,
                detail,
            });
        }

        let intervals: Vec<OffsetInterval> = fit.iter().map(|f| f.1).collect();
        let rule = SelectionRule {
            min_agreeing: self.config.min_agreeing,
            max_falsetickers: self.max_falsetickers,
        };
        let selected = match select(&intervals, known_faulty, rule) {
            Ok(sel) => sel,
            Err(e) => {
                return TimeEstimate::Unsynchronised {
                    reason: UnsyncReason::Selection(e),
                    sources: reports,
                };
            }
        };

        let mut survivors = Vec::new();
        let mut all_truechimers = Vec::new();
        let mut leaps = Vec::new();
        for (k, (report_ix, _, best, jitter)) in fit.iter().enumerate() {
            let contribution = Contribution {
                offset: best.offset,
                radius: best.radius_at(now, phi),
                jitter: *jitter,
            };
            if selected.truechimer[k] {
                reports[*report_ix].verdict = Verdict::Truechimer;
                leaps.push(best.leap);
                all_truechimers.push(contribution);
                if selected.midpoint_inside[k] {
                    survivors.push(contribution);
                }
            } else {
                reports[*report_ix].verdict = Verdict::Falseticker;
            }
        }
        // RFC 5905 §11.2.1: survivors are the truechimers whose midpoints lie in [l, u]; if the
        // intervals are so lopsided that none do, every truechimer weighs in.
        let offset = if survivors.is_empty() {
            combine(&all_truechimers, selected.interval)
        } else {
            combine(&survivors, selected.interval)
        };
        let pending = leap::vote(&leaps);
        let (earliest, latest) = leap::widen(
            now.shifted(selected.interval.lo),
            now.shifted(selected.interval.hi),
            pending,
        );
        TimeEstimate::Synchronised(Estimate {
            computed_at: now,
            earliest,
            latest,
            offset,
            agreeing: selected.agreeing,
            leap: pending,
            sources: reports,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Nanos;
    use crate::tolerance::MaxFalsetickers;

    fn sample(offset_us: i64, at: UtcNanos) -> Sample {
        Sample {
            offset: Nanos::from_micros(offset_us),
            delay: Span::from_micros(50),
            root_delay: Span::ZERO,
            root_dispersion: Span::from_micros(10),
            precision: Span::from_micros(1),
            leap: LeapIndicator::NoWarning,
            stratum: 1,
            taken_at: at,
        }
    }

    #[test]
    fn three_agreeing_sources_and_one_liar_give_an_estimate_without_the_liar() {
        let now = UtcNanos::from_parts(1_700_000_000, 0);
        let mut agg = Aggregator::new(AggregatorConfig::default());
        let ids: Vec<_> = ["a", "b", "c", "liar"]
            .iter()
            .map(|l| agg.add_source(*l, SourceClass::Ntp))
            .collect();
        for (id, off) in ids.iter().zip([3, -4, 1, 500_000]) {
            agg.on_sample(*id, sample(off, now));
        }
        let est = agg.estimate(now);
        let e = est.estimate().expect("synchronised");
        assert!(e.earliest <= now && now <= e.latest);
        let verdicts: Vec<_> = e.sources.iter().map(|s| s.verdict).collect();
        assert_eq!(verdicts[3], Verdict::Falseticker);
        assert!(verdicts[..3].iter().all(|v| *v == Verdict::Truechimer));
    }

    #[test]
    fn every_stage_of_a_source_narrows_its_interval() {
        // Three sources each answer twice: at +20 µs, then 1 ms later at −20 µs, each ±36 µs
        // (25 µs half-delay + 10 µs dispersion + 1 µs precision). Either stage alone spans
        // 72 µs; together they leave [−16, +16] µs (the older stage aged by 15 ns), and so
        // does the majority.
        let t0 = UtcNanos::from_parts(1_700_000_000, 0);
        let t1 = t0.shifted(Nanos::saturating_from_millis(1));
        let mut agg = Aggregator::new(AggregatorConfig::default());
        for l in ["a", "b", "c"] {
            let id = agg.add_source(l, SourceClass::Ntp);
            agg.on_sample(id, sample(20, t0));
            agg.on_sample(id, sample(-20, t1));
        }
        let e = agg.estimate(t1).estimate().cloned().expect("synchronised");
        assert_eq!(e.earliest, t1.shifted(Nanos(-16_015)));
        assert_eq!(e.latest, t1.shifted(Nanos(16_000)));
    }

    #[test]
    fn a_source_contradicting_itself_is_a_falseticker_that_spends_the_budget() {
        let now = UtcNanos::from_parts(1_700_000_000, 0);
        let mut agg = Aggregator::new(AggregatorConfig::default());
        let ids: Vec<_> = ["a", "b", "c", "d", "e"]
            .iter()
            .map(|l| agg.add_source(*l, SourceClass::Ntp))
            .collect();
        // Radii are 36 µs. a, b, c share [−16, 26] µs; d's two stages are 1 ms apart; e's
        // [44, 116] µs meets only c. With m = 5 and f = 2, points need three intervals.
        for (id, off) in ids.iter().zip([-10, 0, 20, 1_000, 80]) {
            agg.on_sample(*id, sample(off, now));
        }
        agg.on_sample(ids[3], sample(0, now));
        let e = agg.estimate(now).estimate().cloned().expect("synchronised");
        let verdicts: Vec<_> = e.sources.iter().map(|s| s.verdict).collect();
        assert_eq!(verdicts[3], Verdict::Falseticker);
        assert!(e.sources[3].detail.is_some());
        assert_eq!(verdicts[4], Verdict::Falseticker);
        assert_eq!(e.earliest, now.shifted(Nanos::from_micros(-16)));
        assert_eq!(e.latest, now.shifted(Nanos::from_micros(26)));
        // With a bound of one falseticker, d has spent it, so a, b, c and e must all agree:
        // they cannot, and the node says so instead of guessing.
        let strict = agg
            .clone()
            .with_max_falsetickers(MaxFalsetickers::AtMost(1));
        assert!(matches!(
            strict.estimate(now),
            TimeEstimate::Unsynchronised { .. }
        ));
    }

    #[test]
    fn unsynchronised_sources_alone_leave_the_node_unsynchronised() {
        let now = UtcNanos::from_parts(1_700_000_000, 0);
        let mut agg = Aggregator::new(AggregatorConfig::default());
        for l in ["a", "b", "c"] {
            let id = agg.add_source(l, SourceClass::Ntp);
            agg.on_unsynchronised(id, "leap indicator 3".into());
        }
        let est = agg.estimate(now);
        assert!(matches!(est, TimeEstimate::Unsynchronised { .. }));
        assert!(
            est.sources()
                .iter()
                .all(|s| s.verdict == Verdict::Unsynchronised)
        );
    }

    #[test]
    fn a_source_that_stops_answering_becomes_unreachable_after_eight_polls() {
        let now = UtcNanos::from_parts(1_700_000_000, 0);
        let mut agg = Aggregator::new(AggregatorConfig::default());
        let id = agg.add_source("a", SourceClass::Ntp);
        agg.on_sample(id, sample(0, now));
        for _ in 0..8 {
            agg.on_no_reply(id, "timeout".into());
        }
        assert_eq!(agg.estimate(now).sources()[0].verdict, Verdict::Unreachable);
    }
}
