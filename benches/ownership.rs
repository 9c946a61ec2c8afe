//! Criterion benches of the claim write path on a generated estate:
//! `ownership/{apply,plan}/100k`, reported in claims per second.

use std::hint::black_box;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use criterion::{BatchSize, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use itam_cmdb::ownership::{
    AssetField, CiField, Claim, ColumnAgreement, Field, FieldCategory, Rule, Source, Value,
};
use itam_cmdb::{
    Asset, AttributeKey, AttributeValue, Batch, ConfigurationItem, Currency, Estate, Money,
    ResourceId,
};

mod common;

/// The number of claims in the measured batch.
const CLAIMS: usize = 200_000;

/// The fields claimed in turn, two of each view.
const KINDS: usize = 4;

/// The sources that claim each field, in the order they claim it:
/// discovery first, then finance, then an unranked scanner.
const SOURCES: [&str; 3] = ["discovery", "finance", "scanner"];

/// The usual split: finance over discovery for ownership, finance for
/// cost, discovery for configuration (with a staleness fallback that the
/// batch, spanning a few days, never reaches).
fn agreement() -> ColumnAgreement {
    ColumnAgreement::new()
        .with(Rule::category(FieldCategory::Ownership).sources(["finance", "discovery"]))
        .and_then(|a| a.with(Rule::category(FieldCategory::Cost).sources(["finance"])))
        .and_then(|a| {
            a.with(
                Rule::category(FieldCategory::Configuration)
                    .sources(["discovery"])
                    .stale_after(TimeDelta::days(30)),
            )
        })
        .expect("a consistent agreement")
}

/// [`CLAIMS`] claims at increasing instants, one second apart: in turn
/// `ci.owner`, `ci.attribute.os`, `asset.owner` and `asset.monthly_cost`,
/// over the first CIs and assets, so that each field is claimed by each
/// source in [`SOURCES`] order. Under [`agreement`] some are accepted
/// (the first claim of each field, finance over discovery) and the rest
/// rejected.
fn claims(estate: &Estate) -> Batch {
    let per_kind = CLAIMS / KINDS;
    let fields_per_kind = per_kind.div_ceil(SOURCES.len());
    let cis: Vec<&ResourceId> = estate
        .cmdb()
        .iter()
        .take(fields_per_kind)
        .map(ConfigurationItem::id)
        .collect();
    let assets: Vec<&ResourceId> = estate
        .assets()
        .iter()
        .take(fields_per_kind)
        .map(Asset::id)
        .collect();
    let sources: Vec<Source> = SOURCES
        .iter()
        .map(|name| Source::automated(name).expect("a valid source name"))
        .collect();
    let os = Field::Ci(CiField::Attribute(
        AttributeKey::new("os").expect("a valid key"),
    ));
    let gbp = Currency::new("GBP").expect("an ISO 4217 code");
    let start: DateTime<Utc> = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    let mut batch = Batch::new();
    for j in 0..CLAIMS {
        let k = j / KINDS;
        let (round, slot) = (k / fields_per_kind, k % fields_per_kind);
        let source = sources[round % SOURCES.len()].clone();
        let at = start + TimeDelta::seconds(i64::try_from(j).expect("fits"));
        let label = format!("{} {}", SOURCES[round % SOURCES.len()], slot % 50);
        let claim = match j % KINDS {
            0 => Claim::set(
                cis[slot % cis.len()].clone(),
                CiField::Owner,
                Value::text(label),
                source,
                at,
            ),
            1 => Claim::set(
                cis[slot % cis.len()].clone(),
                os.clone(),
                Value::Attribute(AttributeValue::Text(label.into())),
                source,
                at,
            ),
            2 => Claim::set(
                assets[slot % assets.len()].clone(),
                AssetField::Owner,
                Value::text(label),
                source,
                at,
            ),
            _ => Claim::set(
                assets[slot % assets.len()].clone(),
                AssetField::MonthlyCost,
                Value::Money(Money::from_minor(
                    i64::try_from(10_000 + slot % 1_000).expect("fits"),
                    gbp,
                )),
                source,
                at,
            ),
        };
        batch.claim(claim);
    }
    batch
}

/// Measures the time to decide and write [`CLAIMS`] claims on the 100k-CI
/// estate (`apply`, on a fresh clone each time, the clone not measured),
/// and to decide them without writing (`plan`).
fn ownership(c: &mut Criterion) {
    let mut estate = common::estate(100_000);
    estate.set_agreement(agreement());
    let batch = claims(&estate);
    let report = estate.plan(&batch).expect("every claim is valid");
    let accepted = report.accepted().count();
    let rejected = report.rejected().count();
    assert_eq!(report.decisions().len(), CLAIMS);
    assert!(
        accepted > 0 && rejected > 0,
        "{accepted} accepted, {rejected} rejected"
    );
    // One apply outside the measurement, to check it against the plan and
    // to know how long the journal grows: the measured runs check that in
    // O(1) rather than by walking 200,000 decisions inside the timing.
    let journalled = {
        let mut applied = estate.clone();
        let report = applied.apply(batch.clone()).expect("every claim is valid");
        assert_eq!(report, estate.plan(&batch).expect("every claim is valid"));
        applied.journal().len()
    };
    println!(
        "ownership/100k: {accepted} claims accepted, {rejected} rejected, {journalled} journal entries"
    );

    let mut group = c.benchmark_group("ownership");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(15))
        .throughput(Throughput::Elements(u64::try_from(CLAIMS).expect("fits")));
    // Measures `apply`: stage, decide and commit every claim.
    group.bench_function("apply/100k", |b| {
        b.iter_batched(
            || (estate.clone(), batch.clone()),
            |(mut estate, batch)| {
                let report = estate.apply(batch).expect("every claim is valid");
                assert_eq!(estate.journal().len(), journalled);
                // Returned so that dropping the estate is not measured.
                (estate, report)
            },
            // One estate at a time: each apply runs on a fresh clone with
            // the previous one freed, as in a long-running process, rather
            // than on several clones set up at once.
            BatchSize::PerIteration,
        );
    });
    // Measures `plan`, the dry run: stage and decide, nothing written (no
    // journal entries or conflicts staged). Unlike `apply`, whose staged
    // states end in the estate dropped after the measurement, `plan` frees
    // what it staged, and its report, inside it.
    group.bench_function("plan/100k", |b| {
        b.iter(|| {
            let report = estate
                .plan(black_box(&batch))
                .expect("every claim is valid");
            assert_eq!(report.decisions().len(), CLAIMS);
            report
        });
    });
    group.finish();
}

criterion_group!(benches, ownership);
criterion_main!(benches);
