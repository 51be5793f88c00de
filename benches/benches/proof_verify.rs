//! Full offline proof verification (3-of-4 certificate, 1M-leaf batch): decode + verify.
//!
//! `cargo bench -p tickchain-benches --bench proof_verify`. Target: >= 5,000 verifications/s/core.
#![allow(missing_docs)] // criterion_group!/criterion_main! generate undocumented items

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use tickchain_sdk::testkit::TestNetwork;
use tickchain_sdk::{Network, Proof, Second};

fn full_verification(c: &mut Criterion) {
    let net = TestNetwork::new("bench", 4, 1, Second(1_764_000_000));
    let proof = net.sample_proof(1_000_000, 0, 4, 3);
    let network = Network::new(net.genesis.clone());
    let json = proof.to_json();
    let compact = proof.to_compact().unwrap();
    let mut g = c.benchmark_group("proof_verify_3of4");
    g.throughput(Throughput::Elements(1));
    g.bench_function("verify", |b| {
        b.iter(|| black_box(network.verify(&proof).unwrap()))
    });
    g.bench_function("decode_json_and_verify", |b| {
        b.iter(|| black_box(network.verify(&Proof::from_json(&json).unwrap()).unwrap()))
    });
    g.bench_function("decode_compact_and_verify", |b| {
        b.iter(|| {
            black_box(
                network
                    .verify(&Proof::from_compact(&compact).unwrap())
                    .unwrap(),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, full_verification);
criterion_main!(benches);
