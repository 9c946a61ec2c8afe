//! Finance on the sample estate, on one fixed day: what the payment service
//! costs a month and why, what falls due next quarter and whom to tell, how
//! a hypervisor is written down, and where each licensed product stands.
//!
//! Every question takes its day as an argument; the example never reads the
//! clock, so it prints the same thing every time.
//!
//! Run with `cargo run --example finance`.

use chrono::{Datelike, Months, NaiveDate};
use itam_cmdb::finance::{
    self, Allocation, CalendarEntry, ConsumerStatus, CostOptions, Depreciation, DepreciationPeriod,
    Entitlement, LicencePosition, LicenceRules,
};
use itam_cmdb::{AttributeValue, Estate, Money, OperationalStatus, sample};
use rust_decimal::Decimal;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The day every question is asked on.
const AS_OF: &str = "2026-11-23";

/// The asset whose depreciation is shown, and the plan finance chose for it
/// (the asset register records what it cost and when, not how long it
/// lasts).
const DEPRECIATED: &str = sample::HYPERVISOR_1;
const USEFUL_LIFE_YEARS: u32 = 5;
const SALVAGE: &str = "1450.00 GBP";

fn main() -> Result {
    let as_of: NaiveDate = AS_OF.parse()?;
    let estate = sample::estate();
    let contracts = sample::contracts();
    let entitlements = sample::entitlements();

    println!("Finance on the sample estate as of {as_of}");
    service_cost(&estate, sample::PAYMENT_SERVICE)?;
    renewals(&estate, &contracts, &entitlements, as_of)?;
    depreciation(&estate, DEPRECIATED, as_of)?;
    licences(&estate, &entitlements, as_of)?;
    Ok(())
}

/// The service's monthly cost, line by line: each resource beneath it, its
/// full cost, the service's share, and whether that share is its own or
/// split with other services.
fn service_cost(estate: &Estate, service: &str) -> Result {
    let costs = finance::cost_per_service(estate, &CostOptions::new())?;
    let cost = costs
        .service(service)
        .ok_or_else(|| format!("`{service}` is not a service"))?;
    let name = estate.ci(service).map_or(service, |ci| ci.name());
    let totals: Vec<String> = cost.totals().values().map(ToString::to_string).collect();
    println!(
        "\n1. {name} ({service}) costs {} a month",
        totals.join(" + ")
    );
    println!(
        "   {:<14} {:>12} {:>12}  allocation",
        "resource", "full cost", "share"
    );
    for line in cost.lines() {
        let allocation = match line.allocation() {
            Allocation::Direct => "own".to_owned(),
            Allocation::Shared {
                services,
                weight,
                total_weight,
            } => {
                // The API gives the count; name the others by asking each
                // service whether it has a line for the resource.
                let others: Vec<&str> = costs
                    .services()
                    .iter()
                    .filter(|s| s.service() != cost.service())
                    .filter(|s| s.line(line.resource()).is_some())
                    .map(|s| s.service().as_str())
                    .collect();
                let even = weight == Decimal::ONE && total_weight == Decimal::from(services);
                let split = if even {
                    String::new()
                } else {
                    format!(" (weight {weight} of {total_weight})")
                };
                format!(
                    "shared by {services} services, with {}{split}",
                    others.join(", ")
                )
            }
            other => format!("{other:?}"),
        };
        println!(
            "   {:<14} {:>12} {:>12}  {allocation}",
            line.resource(),
            line.cost(),
            line.share(),
        );
    }
    for total in cost.totals().values() {
        println!("   {:<14} {:>12} {:>12}", "total", "", total);
    }
    Ok(())
}

/// The renewal calendar of the quarter after `as_of`, and anything due
/// before it starts.
fn renewals(
    estate: &Estate,
    contracts: &[finance::Contract],
    entitlements: &[Entitlement],
    as_of: NaiveDate,
) -> Result {
    let (from, to) = next_quarter(as_of)?;
    let quarter = finance::renewal_calendar(estate, contracts, entitlements, from, to)?;
    println!(
        "\n2. Renewal calendar for {} Q{} ({from} to {to})",
        from.year(),
        from.month0() / 3 + 1
    );
    print_entries(quarter.entries());

    let eve = from
        .pred_opt()
        .ok_or("the quarter starts on the first date")?;
    if as_of <= eve {
        let before = finance::renewal_calendar(estate, contracts, entitlements, as_of, eve)?;
        if !before.is_empty() {
            println!("   Due before the quarter starts ({as_of} to {eve}):");
            print_entries(before.entries());
        }
    }
    Ok(())
}

fn print_entries(entries: &[CalendarEntry]) {
    if entries.is_empty() {
        println!("   (nothing)");
    }
    for entry in entries {
        println!(
            "   {}  {:<24} {:<20} tell {:<20} {}",
            entry.date(),
            entry.event(),
            entry.resource().as_str(),
            entry.owner().unwrap_or("(no owner recorded)"),
            entry.detail()
        );
    }
}

/// The first and last day of the calendar quarter after the one holding
/// `day`.
fn next_quarter(day: NaiveDate) -> Result<(NaiveDate, NaiveDate)> {
    let this = NaiveDate::from_ymd_opt(day.year(), day.month0() / 3 * 3 + 1, 1)
        .ok_or("no quarter holds this day")?;
    let from = this
        .checked_add_months(Months::new(3))
        .ok_or("the next quarter is past the last date")?;
    let to = from
        .checked_add_months(Months::new(3))
        .and_then(|next| next.pred_opt())
        .ok_or("the next quarter is past the last date")?;
    Ok((from, to))
}

/// A straight-line plan for the asset from its purchase record, its
/// schedule by year, and its book value on `as_of`.
fn depreciation(estate: &Estate, id: &str, as_of: NaiveDate) -> Result {
    let asset = estate.asset(id).ok_or_else(|| format!("no asset `{id}`"))?;
    let plan = Depreciation::for_asset(asset)?
        .useful_life_years(USEFUL_LIFE_YEARS)
        .salvage(SALVAGE.parse()?)
        .build()?;
    println!(
        "\n3. Depreciation of {} ({}): {} in service {}, {} over {} years to {}",
        plan.asset(),
        asset.name(),
        plan.cost(),
        plan.in_service(),
        plan.method(),
        plan.useful_life_months() / 12,
        plan.salvage()
    );
    println!("   Charged in {}.", plan.convention());
    println!(
        "   {:<4} {:>12} {:>12} {:>12} {:>12}",
        "year", "opening", "charge", "closing", "accumulated"
    );
    let schedule = plan.schedule_by_year();
    for period in &schedule {
        println!(
            "   {:<4} {:>12} {:>12} {:>12} {:>12}",
            period.start().year(),
            period.opening(),
            period.charge(),
            period.closing(),
            period.accumulated(),
        );
    }
    let charged = Money::sum(
        plan.cost().currency(),
        schedule.iter().map(DepreciationPeriod::charge),
    )?;
    println!(
        "   The charges sum to {charged}: cost minus salvage is {}.",
        plan.depreciable()
    );
    println!(
        "   Book value at the end of {as_of}: {} ({} written off).",
        plan.book_value(as_of),
        plan.accumulated(as_of)
    );
    Ok(())
}

/// Each product's compliance position on `as_of`, with the entitlements
/// counted, who uses the product and whether each is covered, and the
/// installs on retired items (which consume nothing).
fn licences(estate: &Estate, entitlements: &[Entitlement], as_of: NaiveDate) -> Result {
    let rules = LicenceRules::default();
    let positions = finance::compliance(estate, entitlements, &[], &rules, as_of)?;
    println!("\n4. Licence position on {as_of}");
    println!(
        "   {:<20} {:<12} {:>9} {:>6} {:>9} {:>9}  unlicensed",
        "product", "metric", "owned", "used", "available", "shortfall"
    );
    for position in &positions {
        print_position(position);
    }
    for position in &positions {
        for id in position.entitlements() {
            if let Some(e) = entitlements.iter().find(|e| e.id() == id) {
                let end = e.end().map_or("perpetual".to_owned(), |d| d.to_string());
                let cost = e.cost().map_or("no cost".to_owned(), |c| c.to_string());
                println!(
                    "   {} counted: {} owned ({}) from {} to {end}, {cost}, owner {}",
                    e.id(),
                    e.quantity(),
                    e.metric(),
                    e.start(),
                    e.owner().unwrap_or("(none)")
                );
            }
        }
        print_consumers(estate, position);
        let retired = retired_installs(estate, &rules, position.product());
        if !retired.is_empty() {
            println!(
                "   {} is also installed on retired {} (retired items consume nothing).",
                position.product(),
                retired.join(", ")
            );
        }
    }
    Ok(())
}

fn print_position(position: &LicencePosition) {
    let metric = position
        .metric()
        .map_or("(no licence)".to_owned(), |m| m.to_string());
    let unlicensed: Vec<String> = position
        .unlicensed()
        .map(|c| match c.status() {
            ConsumerStatus::Unlicensed(reason) => format!("{} ({reason})", c.id()),
            _ => c.id().to_string(),
        })
        .collect();
    println!(
        "   {:<20} {:<12} {:>9} {:>6} {:>9} {:>9}  {}",
        position.product(),
        metric,
        position.owned(),
        position.used(),
        position.available(),
        position.shortfall(),
        if unlicensed.is_empty() {
            "none".to_owned()
        } else {
            unlicensed.join(", ")
        }
    );
}

/// Who uses the product, in the order coverage is given (by id, first fit),
/// and whether each is covered; a consumer the asset register does not know
/// is flagged.
fn print_consumers(estate: &Estate, position: &LicencePosition) {
    if position.consumers().is_empty() {
        return;
    }
    let consumers: Vec<String> = position
        .consumers()
        .iter()
        .map(|c| {
            let status = if c.status().is_covered() {
                "covered"
            } else {
                "unlicensed"
            };
            let unregistered = if estate.asset(c.id()).is_none() {
                ", no asset record"
            } else {
                ""
            };
            format!("{} ({status}{unregistered})", c.id())
        })
        .collect();
    println!(
        "   {} is used by {}.",
        position.product(),
        consumers.join(", ")
    );
}

/// The retired configuration items that record `product` installed.
fn retired_installs(estate: &Estate, rules: &LicenceRules, product: &str) -> Vec<String> {
    let key = rules.install_key(product);
    estate
        .cmdb()
        .iter()
        .filter(|ci| ci.status() == OperationalStatus::Retired)
        .filter(|ci| {
            ci.attributes()
                .get(&key)
                .is_some_and(|v| *v != AttributeValue::Flag(false))
        })
        .map(|ci| ci.id().to_string())
        .collect()
}
