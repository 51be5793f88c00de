//! Shared helpers for tickchain benchmarks and load generators.
