//! Criterion benches of impact analysis on generated estates:
//! `impact/layered/{10k,100k,1m}/{query}`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use itam_cmdb::ImpactQuery;

mod common;

/// Measures each query on the estate of `cis` configuration items.
fn bench_size(c: &mut Criterion, label: &str, cis: usize) {
    let estate = common::estate(cis);
    let cmdb = estate.cmdb();
    let mut csr = common::PlainCsr::new(&estate);
    let top = common::top_ci(&estate, &mut csr);
    let top_index = csr.index[&top];
    let expected = csr.bfs(top_index);
    let low = common::low_level_cis(&estate, 1_000);
    let leaf = common::top_of_stack(&estate, &csr);
    let service = leaf.clone();
    // Warm the index so that its one-off build is not measured.
    assert_eq!(cmdb.reachable(&top).unwrap().len(), expected);

    let mut group = c.benchmark_group(format!("impact/layered/{label}"));
    if cis >= 1_000_000 {
        group
            .sample_size(10)
            .measurement_time(Duration::from_secs(8));
    } else if cis >= 100_000 {
        group.sample_size(20);
    }

    // Measures the time to find everything the top CI's failure reaches,
    // with no states or paths.
    group.bench_function("reachable/top", |b| {
        b.iter(|| assert_eq!(cmdb.reachable(black_box(&top)).unwrap().len(), expected));
    });
    // Measures the time of the plain CSR search over the same edges.
    group.bench_function("reachable/top/plain_csr", |b| {
        b.iter(|| assert_eq!(csr.bfs(black_box(top_index)), expected));
    });
    // Measures the time of the full blast radius of the top CI: states,
    // distances, paths and redundancy groups.
    group.bench_function("blast_radius/top", |b| {
        b.iter(|| {
            let impact = cmdb.blast_radius(black_box(&top)).unwrap();
            assert!(impact.len() <= expected && !impact.is_empty());
        });
    });
    // Measures 1,000 blast radii of low-level CIs.
    group.bench_function("blast_radius/low_level_x1000", |b| {
        b.iter(|| {
            let total: usize = low
                .iter()
                .map(|id| cmdb.blast_radius(id).unwrap().len())
                .sum();
            black_box(total)
        });
    });
    // Measures the blast radius of a CI with nothing above it.
    group.bench_function("blast_radius/top_of_stack", |b| {
        b.iter(|| assert!(cmdb.blast_radius(black_box(&leaf)).unwrap().is_empty()));
    });
    // Measures everything a business service depends on.
    group.bench_function("dependencies/business_service", |b| {
        b.iter(|| assert!(!cmdb.dependencies(black_box(&service)).unwrap().is_empty()));
    });
    // Measures a blast radius limited to three hops.
    let shallow = ImpactQuery::new(top.clone()).max_depth(3);
    group.bench_function("blast_radius/top/depth3", |b| {
        b.iter(|| assert!(!cmdb.blast_radius(black_box(&shallow)).unwrap().is_empty()));
    });
    group.finish();
}

fn impact(c: &mut Criterion) {
    bench_size(c, "10k", 10_000);
    bench_size(c, "100k", 100_000);
    if std::env::var_os("ITAM_BENCH_1M").is_some() {
        bench_size(c, "1m", 1_000_000);
    }
}

/// Measures building the generated estate (its index included).
fn build(c: &mut Criterion) {
    let mut group = c.benchmark_group("build/layered");
    group.sample_size(10);
    for (label, cis) in [("10k", 10_000), ("100k", 100_000)] {
        group.bench_function(label, |b| {
            b.iter(|| {
                let estate = common::estate(cis);
                assert_eq!(estate.cmdb().len(), cis);
                let _ = estate.cmdb().cycles();
            });
        });
    }
    group.finish();
}

criterion_group!(benches, impact, build);
criterion_main!(benches);
