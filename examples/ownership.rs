//! Who owns which column: the sample estate receives conflicting claims from
//! discovery, finance and a person; the column agreement decides, nothing is
//! lost, and `explain` says why a field holds its value. Then the two views
//! are reconciled.
//!
//! Run with `cargo run --example ownership`.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use itam_cmdb::ownership::{
    AssetField, CiField, Claim, ColumnAgreement, Field, FieldCategory, ManualLock, Outcome,
    ReconcileRules, Report, Rule, Source, Value, View,
};
use itam_cmdb::{Batch, Error, Estate, OperationalStatus, ResourceId, sample};

fn main() -> Result<(), Error> {
    let mut estate = sample::estate();
    estate.set_agreement(
        ColumnAgreement::new()
            .with(Rule::category(FieldCategory::Ownership).sources(["finance", "procurement"]))?
            .with(
                Rule::view_category(View::Ci, FieldCategory::Configuration)
                    .sources(["discovery"])
                    .stale_after(TimeDelta::days(30)),
            )?
            .with(
                Rule::view_category(View::Ci, FieldCategory::Lifecycle)
                    .sources(["discovery"])
                    .manual_lock(Some(ManualLock::expiring_after(TimeDelta::days(7)))),
            )?,
    );

    let vm = ResourceId::new(sample::PAYMENT_VM)?;
    let batch = conflicting_claims(&vm)?;
    let plan = estate.plan(&batch)?;
    let report = estate.apply(batch)?;
    assert_eq!(plan, report, "the dry run decides exactly what apply does");
    print_decisions(&vm, &report);
    print_journal(&estate);

    println!(
        "\nConflict log: {} rejected claim(s) kept",
        estate.conflicts().len()
    );
    println!(
        "\n{}",
        estate.explain(&vm, &Field::Asset(AssetField::Owner))?
    );
    println!("{}", estate.explain(&vm, &Field::Ci(CiField::Status))?);

    let reconciliation = estate.reconcile(&ReconcileRules::standard(), at(5, 0));
    println!("Reconciliation found {}:", reconciliation.findings().len());
    for finding in reconciliation.findings() {
        println!("  {finding}");
    }
    let resolved = estate.apply(reconciliation.into_resolution())?;
    println!(
        "Resolved: {} value(s) written to the other view, {} refused by the agreement",
        resolved.changes().count(),
        resolved.rejected().count()
    );
    Ok(())
}

/// Finance and discovery disagree on the owner; a person puts the VM in
/// maintenance and discovery, a day later, says it is operational.
fn conflicting_claims(vm: &ResourceId) -> Result<Batch, Error> {
    let finance = Source::automated("finance")?;
    let discovery = Source::automated("discovery")?;
    let dana = Source::person("dana.whitfield")?;

    let mut batch = Batch::new();
    batch
        .claim(Claim::set(
            vm.clone(),
            AssetField::Owner,
            Value::text("team-payments"),
            finance.clone(),
            at(1, 9),
        ))
        .claim(Claim::set(
            vm.clone(),
            AssetField::Owner,
            Value::text("platform-ops"),
            discovery.clone(),
            at(2, 3),
        ))
        .claim(Claim::set(
            vm.clone(),
            CiField::Status,
            Value::Status(OperationalStatus::InMaintenance),
            dana.clone(),
            at(3, 22),
        ))
        .claim(Claim::set(
            vm.clone(),
            CiField::Status,
            Value::Status(OperationalStatus::Operational),
            discovery.clone(),
            at(4, 3),
        ))
        .claim(Claim::set(
            vm.clone(),
            CiField::Attribute("os".parse()?),
            Value::Attribute("Ubuntu 24.04.2".into()),
            discovery,
            at(4, 3),
        ));

    Ok(batch)
}

fn print_decisions(vm: &ResourceId, report: &Report) {
    println!("Claims on {vm}:");
    for decision in report.decisions() {
        let claim = decision.claim();
        let verdict = match decision.outcome() {
            Outcome::Accepted { reason, rule } => format!("accepted ({reason}; rule: {rule})"),
            Outcome::Rejected { reason, rule } => format!("REJECTED ({reason}; rule: {rule})"),
            other => format!("{other:?}"),
        };
        println!(
            "  {:<22} {:<16} {:<32} {verdict}",
            claim.field().to_string(),
            claim.source().to_string(),
            claim.update().to_string(),
        );
    }
}

fn print_journal(estate: &Estate) {
    println!("\nJournal:");
    for entry in estate.journal() {
        let show = |v: Option<&Value>| v.map_or("(empty)".to_owned(), ToString::to_string);
        println!(
            "  #{} {} {}: {} -> {} by {}",
            entry.sequence(),
            entry.resource(),
            entry.field(),
            show(entry.old()),
            show(entry.new_value()),
            entry.source()
        );
    }
}

/// An instant in November 2026.
fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0)
        .single()
        .unwrap_or(DateTime::UNIX_EPOCH)
}
