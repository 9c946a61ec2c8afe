//! A tour of the built-in sample estate: both views of the payment VM, then a
//! summary of the estate and the records that exist in only one view.
//!
//! Run it with `cargo run --example tour`.

use itam_cmdb::{Asset, CiClass, ConfigurationItem, Estate, sample};

fn main() {
    let estate = sample::estate();

    println!("itam-cmdb tour: the sample estate\n");
    match estate.resource(sample::PAYMENT_VM) {
        Some(vm) => {
            println!("One resource, two views: {}\n", vm.id());
            match vm.asset() {
                Some(asset) => print_asset(asset),
                None => println!("  (no asset record)"),
            }
            println!();
            match vm.ci() {
                Some(ci) => print_ci(ci),
                None => println!("  (no configuration item)"),
            }
        }
        None => println!("the payment VM is missing from the sample"),
    }
    println!();
    print_summary(&estate);
}

fn print_asset(asset: &Asset) {
    println!("  Asset register (ITAM): who owns it, what it costs");
    row("name", asset.name());
    row("kind", asset.kind());
    row("lifecycle", asset.lifecycle());
    row_opt("owner", asset.owner());
    row_opt("budget owner", asset.budget_owner());
    row_opt("cost center", asset.cost_center());
    row_opt("location", asset.location());
    row_opt("purchased", asset.purchase_date());
    row_opt("purchase cost", asset.purchase_cost());
    row_opt("monthly cost", asset.monthly_cost());
    row_opt("warranty ends", asset.warranty_end());
    row_opt("support ends", asset.support_end());
    row_opt("renews", asset.renewal_date());
    for (key, value) in asset.attributes() {
        row(key.as_str(), value);
    }
}

fn print_ci(ci: &ConfigurationItem) {
    println!("  CMDB: what it is and how it runs");
    row("name", ci.name());
    row("class", ci.class());
    row("status", ci.status());
    row_opt("environment", ci.environment());
    row_opt("region", ci.region());
    row_opt("criticality", ci.criticality());
    row_opt("run by", ci.owner());
    for (key, value) in ci.attributes() {
        row(key.as_str(), value);
    }
}

fn print_summary(estate: &Estate) {
    let both = estate
        .resources()
        .filter(|r| r.asset().is_some() && r.ci().is_some())
        .count();
    println!("Estate summary");
    row("assets", estate.assets().len());
    row("configuration items", estate.cmdb().len());
    row("resources in both views", both);

    println!("\n  Assets without a configuration item (licences, stock, CMDB gaps):");
    for asset in estate.assets_without_ci() {
        println!(
            "    {:<16} {} ({}, {})",
            asset.id(),
            asset.name(),
            asset.kind(),
            asset.lifecycle()
        );
    }
    // Business and application services and applications are logical: they
    // have no asset of their own. Infrastructure without an asset is the
    // signal: shadow IT, or a discovery nobody governs yet.
    let (logical, infrastructure): (Vec<_>, Vec<_>) = estate.cis_without_asset().partition(|ci| {
        matches!(
            ci.class(),
            CiClass::BusinessService | CiClass::ApplicationService | CiClass::Application
        )
    });
    println!(
        "\n  Configuration items without an asset: {} logical services and applications, and {} infrastructure items:",
        logical.len(),
        infrastructure.len()
    );
    for ci in infrastructure {
        let found_by = ci
            .attributes()
            .get("discovered_by")
            .map(|by| format!(", discovered by {by}"))
            .unwrap_or_default();
        println!(
            "    {:<16} {} ({}, {}{found_by})",
            ci.id(),
            ci.name(),
            ci.class(),
            ci.status()
        );
    }
}

fn row(label: &str, value: impl std::fmt::Display) {
    println!("    {label:<24} {value}");
}

fn row_opt<T: std::fmt::Display>(label: &str, value: Option<T>) {
    match value {
        Some(value) => row(label, value),
        None => row(label, "-"),
    }
}
