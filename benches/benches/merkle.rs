//! Merkle tree build (1k / 100k / 1M leaves) and path verification, single-threaded.
//!
//! `cargo bench -p tickchain-benches --bench merkle`. Target: a 1M-leaf tree in < 0.5 s on one core.
#![allow(missing_docs)] // criterion_group!/criterion_main! generate undocumented items

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;
use tickchain_sdk::merkle::{self, MerkleTree};
use tickchain_sdk::{Digest, Salt};

fn inputs(n: u32) -> Vec<(Salt, Digest)> {
    (0..n)
        .map(|i| {
            let b = blake3::hash(&i.to_be_bytes());
            (
                Salt(b.as_bytes()[..16].try_into().unwrap()),
                Digest(*b.as_bytes()),
            )
        })
        .collect()
}

fn build(c: &mut Criterion) {
    let mut g = c.benchmark_group("merkle_build");
    for n in [1_000u32, 100_000, 1_000_000] {
        let items = inputs(n);
        g.throughput(Throughput::Elements(n as u64));
        if n >= 100_000 {
            g.sample_size(10).measurement_time(Duration::from_secs(8));
        }
        g.bench_with_input(BenchmarkId::from_parameter(n), &items, |b, items| {
            b.iter(|| {
                let leaves = items
                    .iter()
                    .map(|(s, d)| merkle::digest_leaf(s, d))
                    .collect();
                black_box(MerkleTree::from_leaf_hashes(leaves).root())
            })
        });
    }
    g.finish();
}

fn verify_path(c: &mut Criterion) {
    let items = inputs(1_000_000);
    let tree = MerkleTree::from_leaf_hashes(
        items
            .iter()
            .map(|(s, d)| merkle::digest_leaf(s, d))
            .collect(),
    );
    let root = tree.root();
    let path = tree.path(12_345).unwrap();
    let (salt, digest) = items[12_345];
    c.bench_function("merkle_verify_path_1M", |b| {
        b.iter(|| black_box(path.verifies(merkle::digest_leaf(&salt, &digest), &root)))
    });
}

criterion_group!(benches, build, verify_path);
criterion_main!(benches);
