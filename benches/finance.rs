//! Criterion benches of the finance reports on generated estates:
//! `finance/cost_per_service/{label}`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use itam_cmdb::CiClass;
use itam_cmdb::finance::{CostOptions, cost_per_service};

mod common;

/// Measures the time to cost every business service of the estate of `cis`
/// configuration items, with its share of the shared infrastructure.
fn bench_size(c: &mut Criterion, label: &str, cis: usize) {
    let estate = common::estate(cis);
    let services = estate
        .cmdb()
        .iter()
        .filter(|ci| ci.class() == &CiClass::BusinessService)
        .count();
    let options = CostOptions::new();
    let by_app = CostOptions::new().service_class(CiClass::ApplicationService);
    // The number of (service, resource) lines each run must find, so that
    // a broken allocation cannot look fast.
    let lines = |options: &CostOptions<'_>| -> usize {
        let costs = cost_per_service(&estate, options).expect("the estate costs");
        costs.services().iter().map(|s| s.lines().len()).sum()
    };
    let expected = lines(&options);
    let expected_by_app = lines(&by_app);
    assert!(expected > services);

    let mut group = c.benchmark_group("finance/cost_per_service");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    group.bench_function(label, |b| {
        b.iter(|| {
            let costs = cost_per_service(black_box(&estate), &options).unwrap();
            assert_eq!(costs.services().len(), services);
            let found: usize = costs.services().iter().map(|s| s.lines().len()).sum();
            assert_eq!(found, expected);
            costs
        });
    });
    // Measures the same with the application services as the services.
    group.bench_function(format!("{label}/application_services"), |b| {
        b.iter(|| {
            let costs = cost_per_service(black_box(&estate), &by_app).unwrap();
            let found: usize = costs.services().iter().map(|s| s.lines().len()).sum();
            assert_eq!(found, expected_by_app);
            costs
        });
    });
    group.finish();
}

fn finance(c: &mut Criterion) {
    bench_size(c, "10k", 10_000);
    bench_size(c, "100k", 100_000);
}

criterion_group!(benches, finance);
criterion_main!(benches);
