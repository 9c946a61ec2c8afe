//! Warranty and support coverage, contracts, licence compliance and the
//! renewal calendar: the sample story answered by hand, and properties over
//! arbitrary dates (including the first and last representable ones).

use chrono::{Datelike, NaiveDate};
use itam_cmdb::finance::{
    self, Assignment, CalendarEvent, Contract, CoverageState, Entitlement, LicenceMetric,
    LicenceQuantity, LicenceRules, NoticePeriod, Renewal, UnlicensedReason,
};
use itam_cmdb::{
    Asset, AssetKind, CiClass, ConfigurationItem, Error, Estate, Lifecycle, OperationalStatus,
    RetirementReason, sample,
};
use proptest::prelude::*;
use proptest::sample::select;

use crate::util::{date, id, money};

/// The position of `product` among `positions`.
#[track_caller]
fn position_of(
    mut positions: Vec<finance::LicencePosition>,
    product: &str,
) -> finance::LicencePosition {
    let at = positions
        .iter()
        .position(|p| p.product() == product)
        .expect("a position for the product");
    positions.remove(at)
}

/// The sample estate with `product` recorded as installed on `on`.
fn sample_with_install(product: &str, on: &str) -> Estate {
    let mut estate = sample::estate();
    let item = estate
        .ci(on)
        .expect("a sample item")
        .to_builder()
        .attribute(format!("installed:{product}"), "2024.1")
        .build()
        .expect("still valid");
    estate.remove_ci(&id(on)).expect("present");
    estate.insert_ci(item).expect("re-inserted");
    estate
}

#[test]
fn the_storage_array_is_out_of_warranty_but_supported() {
    let estate = sample::estate();
    let san = estate.asset(sample::STORAGE_ARRAY).unwrap();
    // Warranty: last day 2025-06-30; on 2026-06-30 that is 365 days ago.
    // Support: last day 2027-06-30; 365 days left.
    let cover = finance::coverage(san, date(2026, 6, 30));
    assert_eq!(
        cover.warranty(),
        CoverageState::Expired {
            last_day: date(2025, 6, 30),
            days_since: 365
        }
    );
    assert_eq!(
        cover.support(),
        CoverageState::Active {
            last_day: date(2027, 6, 30),
            days_left: 365
        }
    );
    // The payment VM records neither.
    let vm = finance::coverage(estate.asset(sample::PAYMENT_VM).unwrap(), date(2026, 6, 30));
    assert_eq!(vm.warranty(), CoverageState::NotRecorded);
    assert!(!vm.is_covered());
}

#[test]
fn the_decommissioned_workload_consumes_nothing_but_its_licence_is_still_paid() {
    // The reporting suite is installed only on the VM retired in March: the
    // licence is active and owned, but nothing live uses it.
    let estate = sample::estate();
    let positions = finance::compliance(
        &estate,
        &sample::entitlements(),
        &[],
        &LicenceRules::default(),
        date(2026, 6, 1),
    )
    .unwrap();
    let products: Vec<_> = positions
        .iter()
        .map(finance::LicencePosition::product)
        .collect();
    assert_eq!(
        products,
        [sample::ENDPOINT_PROTECTION, sample::REPORTING_SUITE]
    );
    let suite = &position_of(positions, sample::REPORTING_SUITE);
    assert_eq!(suite.owned(), LicenceQuantity::Limited(16));
    assert_eq!(suite.used(), 0);
    assert_eq!(suite.available(), LicenceQuantity::Limited(16));
    assert!(suite.consumers().is_empty());
    assert_eq!(suite.entitlements(), [id("ent-rpt-suite")]);
}

#[test]
fn per_core_on_the_ledger_database_and_a_hypervisor() {
    // The ledger database records 4 cores and hv-lon-01 records 64: with 16
    // cores owned, db-ledger (first by id) is covered and the hypervisor is
    // 64 cores short of the 12 left, so it is unlicensed; shortfall 68 - 16 = 52.
    let mut estate = sample_with_install("Reporting Suite", sample::LEDGER_DB);
    let hv = estate
        .ci(sample::HYPERVISOR_1)
        .unwrap()
        .to_builder()
        .attribute("installed:Reporting Suite", true)
        .build()
        .unwrap();
    estate.remove_ci(&id(sample::HYPERVISOR_1)).unwrap();
    estate.insert_ci(hv).unwrap();
    // And on the payments database, which records no cores.
    let db = estate
        .ci(sample::PAYMENTS_DB)
        .unwrap()
        .to_builder()
        .attribute("installed:Reporting Suite", true)
        .build()
        .unwrap();
    estate.remove_ci(&id(sample::PAYMENTS_DB)).unwrap();
    estate.insert_ci(db).unwrap();

    let suite = position_of(
        finance::compliance(
            &estate,
            &sample::entitlements(),
            &[],
            &LicenceRules::default(),
            date(2026, 6, 1),
        )
        .unwrap(),
        sample::REPORTING_SUITE,
    );
    assert_eq!(suite.used(), 68);
    assert_eq!(suite.shortfall(), 52);
    assert_eq!(suite.available(), LicenceQuantity::Limited(0));
    let rows: Vec<_> = suite
        .consumers()
        .iter()
        .map(|c| (c.id().as_str(), c.units(), c.status().is_covered()))
        .collect();
    assert_eq!(
        rows,
        [
            (sample::LEDGER_DB, 4, true),
            (sample::PAYMENTS_DB, 0, false),
            (sample::HYPERVISOR_1, 64, false),
        ]
    );
    let payments = &suite.consumers()[1];
    assert_eq!(
        payments.status(),
        finance::ConsumerStatus::Unlicensed(UnlicensedReason::UnknownCores)
    );
    // After the entitlement expires on 2027-01-31, nothing is owned.
    let later = position_of(
        finance::compliance(
            &estate,
            &sample::entitlements(),
            &[],
            &LicenceRules::default(),
            date(2027, 2, 1),
        )
        .unwrap(),
        sample::REPORTING_SUITE,
    );
    assert_eq!(later.owned(), LicenceQuantity::Limited(0));
    assert!(later.entitlements().is_empty());
    assert_eq!(later.covered().count(), 0);
}

#[test]
fn ten_seats_twelve_installs() {
    let mut estate = Estate::new();
    for n in 1..=12 {
        let name = format!("pc-{n:02}");
        estate
            .insert_ci(
                ConfigurationItem::builder(id(&name), &name, CiClass::Server)
                    .attribute("installed:Visio", "16.0")
                    .build()
                    .unwrap(),
            )
            .unwrap();
    }
    let seats = Entitlement::builder(
        id("ent-visio"),
        "Visio",
        LicenceMetric::PerDevice,
        LicenceQuantity::Limited(10),
        date(2026, 1, 1),
    )
    .build()
    .unwrap();
    let visio = finance::compliance(
        &estate,
        &[seats],
        &[],
        &LicenceRules::default(),
        date(2026, 1, 1),
    )
    .unwrap()
    .remove(0);
    assert_eq!((visio.used(), visio.shortfall()), (12, 2));
    let unlicensed: Vec<_> = visio.unlicensed().map(|c| c.id().as_str()).collect();
    assert_eq!(unlicensed, ["pc-11", "pc-12"]);
}

#[test]
fn the_sample_renewal_calendar_with_contracts_and_licences() {
    use CalendarEvent::{
        AssetRenewal, ContractNoticeDeadline, ContractTermEnd, LicenceExpiry, SupportEnd,
        WarrantyEnd,
    };
    let estate = sample::estate();
    // Hypervisor support: 12 months from 2026-03-01, auto-renewing yearly,
    // three months' notice. Terms end 2027-02-28 and 2028-02-29 (leap
    // year); deadlines three months earlier: 2026-11-28 and 2027-11-29.
    let contracts = sample::contracts();
    let support = &contracts[0];
    assert!(support.covers(sample::HYPERVISOR_2));
    let calendar = finance::renewal_calendar(
        &estate,
        &contracts,
        &sample::entitlements(),
        date(2026, 10, 1),
        date(2027, 12, 31),
    )
    .unwrap();
    let rows: Vec<_> = calendar
        .iter()
        .map(|e| {
            (
                e.date().to_string(),
                e.event(),
                e.resource().as_str(),
                e.owner(),
            )
        })
        .collect();
    let priya = Some("Priya Raman");
    let infra = Some("infrastructure team");
    assert_eq!(
        rows,
        [
            (
                "2026-11-28".to_owned(),
                ContractNoticeDeadline,
                "ctr-dell-prosupport",
                priya
            ),
            (
                "2027-01-15".to_owned(),
                AssetRenewal,
                sample::PAYMENT_VM,
                Some("platform team")
            ),
            (
                "2027-01-31".to_owned(),
                LicenceExpiry,
                "ent-rpt-suite",
                Some("Marta Lindqvist")
            ),
            (
                "2027-02-01".to_owned(),
                AssetRenewal,
                sample::REPORTING_LICENCE,
                Some("bi team")
            ),
            (
                "2027-02-28".to_owned(),
                WarrantyEnd,
                sample::HYPERVISOR_1,
                infra
            ),
            (
                "2027-02-28".to_owned(),
                WarrantyEnd,
                sample::HYPERVISOR_2,
                infra
            ),
            (
                "2027-02-28".to_owned(),
                ContractTermEnd,
                "ctr-dell-prosupport",
                priya
            ),
            (
                "2027-06-30".to_owned(),
                SupportEnd,
                sample::STORAGE_ARRAY,
                infra
            ),
            (
                "2027-11-29".to_owned(),
                ContractNoticeDeadline,
                "ctr-dell-prosupport",
                priya
            ),
        ]
    );
}

// ---- the figures `examples/finance.rs` prints, on the same day with the
// same inputs ----

/// The day the finance example asks every question on.
fn example_day() -> NaiveDate {
    date(2026, 11, 23)
}

/// Payments costs 541.65 GBP a month, all of it shared with Checkout.
#[test]
fn the_finance_example_payment_service_cost() {
    let estate = sample::estate();
    // Payments: every resource beneath it is shared with Checkout, which
    // uses it; 48.00 + 155.00 + 132.50 + 206.15 = 541.65.
    let costs = finance::cost_per_service(&estate, &finance::CostOptions::new()).unwrap();
    let payments = costs.service(sample::PAYMENT_SERVICE).unwrap();
    let lines: Vec<_> = payments
        .lines()
        .map(|l| {
            let others: Vec<&str> = costs
                .services()
                .iter()
                .filter(|s| s.service() != payments.service() && s.line(l.resource()).is_some())
                .map(|s| s.service().as_str())
                .collect();
            (
                l.resource().as_str(),
                l.cost().to_string(),
                l.share().to_string(),
                l.sharing(),
                others,
            )
        })
        .collect();
    let row = |resource, cost: &str, share: &str| {
        (
            resource,
            cost.to_owned(),
            share.to_owned(),
            2,
            vec![sample::CHECKOUT_SERVICE],
        )
    };
    assert_eq!(
        lines,
        [
            row(sample::PAYMENT_LB, "96.00 GBP", "48.00 GBP"),
            row("vm-db-01", "310.00 GBP", "155.00 GBP"),
            row("vm-db-02", "265.00 GBP", "132.50 GBP"),
            row(sample::PAYMENT_VM, "412.30 GBP", "206.15 GBP"),
        ]
    );
    let totals: Vec<String> = payments
        .totals()
        .values()
        .map(ToString::to_string)
        .collect();
    assert_eq!(totals, ["541.65 GBP"]);
}

/// The calendar of the quarter after the example's day, and the notice
/// deadline that falls before it.
#[test]
fn the_finance_example_next_quarter() {
    use CalendarEvent::{
        AssetRenewal, ContractNoticeDeadline, ContractTermEnd, LicenceExpiry, WarrantyEnd,
    };
    let estate = sample::estate();
    let contracts = sample::contracts();
    let entitlements = sample::entitlements();
    let as_of = example_day();

    // The quarter after 2026-11-23, and what falls due before it.
    let rows = |from, to| -> Vec<(String, CalendarEvent, String, Option<String>)> {
        finance::renewal_calendar(&estate, &contracts, &entitlements, from, to)
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e.date().to_string(),
                    e.event(),
                    e.resource().to_string(),
                    e.owner().map(str::to_owned),
                )
            })
            .collect()
    };
    let row = |day: &str, event, resource: &str, owner: &str| {
        (
            day.to_owned(),
            event,
            resource.to_owned(),
            Some(owner.to_owned()),
        )
    };
    assert_eq!(
        rows(date(2027, 1, 1), date(2027, 3, 31)),
        [
            row(
                "2027-01-15",
                AssetRenewal,
                sample::PAYMENT_VM,
                "platform team"
            ),
            row(
                "2027-01-31",
                LicenceExpiry,
                sample::REPORTING_ENTITLEMENT,
                "Marta Lindqvist"
            ),
            row(
                "2027-02-01",
                AssetRenewal,
                sample::REPORTING_LICENCE,
                "bi team"
            ),
            row(
                "2027-02-28",
                WarrantyEnd,
                sample::HYPERVISOR_1,
                "infrastructure team"
            ),
            row(
                "2027-02-28",
                WarrantyEnd,
                sample::HYPERVISOR_2,
                "infrastructure team"
            ),
            row(
                "2027-02-28",
                ContractTermEnd,
                sample::SUPPORT_CONTRACT,
                "Priya Raman"
            ),
        ]
    );
    assert_eq!(
        rows(as_of, date(2026, 12, 31)),
        [row(
            "2026-11-28",
            ContractNoticeDeadline,
            sample::SUPPORT_CONTRACT,
            "Priya Raman"
        )]
    );
}

/// hv-lon-01's depreciation by year: the charges sum exactly to cost minus
/// salvage.
#[test]
fn the_finance_example_depreciation_schedule() {
    let estate = sample::estate();
    let as_of = example_day();

    // hv-lon-01: 21,450.00 GBP from 2024-03-01, 5 years to 1,450.00 GBP:
    // 20,000.00 over 60 months, 333.33.. a month; 10 months in 2024 and 2
    // in 2029.
    let plan = finance::Depreciation::for_asset(estate.asset(sample::HYPERVISOR_1).unwrap())
        .unwrap()
        .useful_life_years(5)
        .salvage(money("1450.00 GBP"))
        .build()
        .unwrap();
    let schedule = plan.schedule_by_year();
    let years: Vec<_> = schedule
        .iter()
        .map(|p| {
            (
                p.start().year(),
                p.opening().to_string(),
                p.charge().to_string(),
                p.closing().to_string(),
            )
        })
        .collect();
    let year = |y, opening: &str, charge: &str, closing: &str| {
        (
            y,
            format!("{opening} GBP"),
            format!("{charge} GBP"),
            format!("{closing} GBP"),
        )
    };
    assert_eq!(
        years,
        [
            year(2024, "21450.00", "3333.33", "18116.67"),
            year(2025, "18116.67", "4000.00", "14116.67"),
            year(2026, "14116.67", "4000.00", "10116.67"),
            year(2027, "10116.67", "4000.00", "6116.67"),
            year(2028, "6116.67", "4000.00", "2116.67"),
            year(2029, "2116.67", "666.67", "1450.00"),
        ]
    );
    let charged = itam_cmdb::Money::sum(
        itam_cmdb::Currency::GBP,
        schedule.iter().map(finance::DepreciationPeriod::charge),
    )
    .unwrap();
    assert_eq!(charged, money("20000.00 GBP"));
    assert_eq!(charged, plan.cost().checked_sub(plan.salvage()).unwrap());
    // 32 months (March 2024 to October 2026) by the end of 2026-11-23.
    assert_eq!(plan.book_value(as_of), money("10783.33 GBP"));
    assert_eq!(plan.accumulated(as_of), money("10666.67 GBP"));
}

/// The licence position on the example's day.
#[test]
fn the_finance_example_licence_position() {
    let estate = sample::estate();
    let entitlements = sample::entitlements();

    // The endpoint agent: 2 devices owned, installed on 3 live VMs, so 1
    // short. The reporting suite: 16 cores owned, none used (its only
    // install is on the retired VM).
    let positions = finance::compliance(
        &estate,
        &entitlements,
        &[],
        &LicenceRules::default(),
        example_day(),
    )
    .unwrap();
    let summary: Vec<_> = positions
        .iter()
        .map(|p| {
            (
                p.product(),
                p.metric(),
                p.owned(),
                p.used(),
                p.available(),
                p.shortfall(),
                p.unlicensed().count(),
                p.entitlements().to_vec(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                sample::ENDPOINT_PROTECTION,
                Some(LicenceMetric::PerDevice),
                LicenceQuantity::Limited(2),
                3,
                LicenceQuantity::Limited(0),
                1,
                1,
                vec![id(sample::ENDPOINT_ENTITLEMENT)],
            ),
            (
                sample::REPORTING_SUITE,
                Some(LicenceMetric::PerCore),
                LicenceQuantity::Limited(16),
                0,
                LicenceQuantity::Limited(16),
                0,
                0,
                vec![id(sample::REPORTING_ENTITLEMENT)],
            ),
        ]
    );
    // Covered in id order: the shadow VM, which has no asset record, takes
    // a licence, and the payments VM is the one left over.
    let agent = &positions[0];
    let consumers: Vec<_> = agent
        .consumers()
        .iter()
        .map(|c| {
            (
                c.id().as_str(),
                c.units(),
                c.status(),
                estate.asset(c.id()).is_some(),
            )
        })
        .collect();
    let covered = finance::ConsumerStatus::Covered;
    assert_eq!(
        consumers,
        [
            (sample::SHADOW_VM, 1, covered, false),
            ("vm-chk-euw2-01", 1, covered, true),
            (
                sample::PAYMENT_VM,
                1,
                finance::ConsumerStatus::Unlicensed(UnlicensedReason::Shortfall),
                true
            ),
        ]
    );
    let key = LicenceRules::default().install_key(sample::REPORTING_SUITE);
    let retired: Vec<_> = estate
        .cmdb()
        .iter()
        .filter(|ci| {
            ci.status() == OperationalStatus::Retired && ci.attributes().get(&key).is_some()
        })
        .map(|ci| ci.id().as_str())
        .collect();
    assert_eq!(retired, [sample::DECOMMISSIONED_VM]);
}

#[test]
fn retired_assets_stay_off_the_calendar_and_windows_are_checked() {
    let mut estate = Estate::new();
    estate
        .insert_asset(
            Asset::builder(id("srv-old"), "old", AssetKind::Hardware)
                .lifecycle(Lifecycle::Retired(RetirementReason::Disposed))
                .warranty_end(date(2026, 6, 30))
                .build()
                .unwrap(),
        )
        .unwrap();
    let calendar =
        finance::renewal_calendar(&estate, &[], &[], date(2026, 1, 1), date(2026, 12, 31)).unwrap();
    assert!(calendar.is_empty());
    let err = finance::renewal_calendar(&estate, &[], &[], date(2026, 1, 2), date(2026, 1, 1))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidWindow { .. }), "{err}");
    // A one-day window is fine.
    assert!(
        finance::renewal_calendar(&estate, &[], &[], date(2026, 1, 1), date(2026, 1, 1)).is_ok()
    );
}

#[test]
fn finance_values_are_send_sync_and_round_trip() {
    fn assert_bounds<T: Send + Sync + 'static>() {}
    assert_bounds::<Contract>();
    assert_bounds::<finance::RenewalCalendar>();
    assert_bounds::<finance::LicencePosition>();
    let calendar = finance::renewal_calendar(
        &sample::estate(),
        &[],
        &sample::entitlements(),
        date(2026, 1, 1),
        date(2028, 1, 1),
    )
    .unwrap();
    let json = serde_json::to_string(&calendar).unwrap();
    assert_eq!(
        serde_json::from_str::<finance::RenewalCalendar>(&json).unwrap(),
        calendar
    );
    let assignment = Assignment::new("Visio", id("user:sam")).unwrap();
    let json = serde_json::to_string(&assignment).unwrap();
    assert_eq!(
        serde_json::from_str::<Assignment>(&json).unwrap(),
        assignment
    );
}

// ---- properties ----

/// Any representable date: mostly near today, sometimes anywhere, and
/// sometimes the first or last one.
fn any_date() -> impl Strategy<Value = NaiveDate> {
    let min = NaiveDate::MIN.num_days_from_ce();
    let max = NaiveDate::MAX.num_days_from_ce();
    prop_oneof![
        4 => 738_000..=742_000_i32,
        2 => min..=max,
        1 => Just(min),
        1 => Just(max),
    ]
    .prop_map(|days| NaiveDate::from_num_days_from_ce_opt(days).expect("in range"))
}

fn notice() -> impl Strategy<Value = NoticePeriod> {
    prop_oneof![
        (0..400_u32).prop_map(NoticePeriod::Days),
        (0..30_u32).prop_map(NoticePeriod::Months),
        any::<u32>().prop_map(NoticePeriod::Days),
        any::<u32>().prop_map(NoticePeriod::Months),
    ]
}

fn renewal() -> impl Strategy<Value = Renewal> {
    prop_oneof![
        Just(Renewal::None),
        Just(Renewal::Explicit),
        (1..=36_u32).prop_map(|term_months| Renewal::Automatic { term_months }),
        (1..=u32::MAX).prop_map(|term_months| Renewal::Automatic { term_months }),
    ]
}

fn term_months() -> impl Strategy<Value = u32> {
    prop_oneof![4 => 1..=60_u32, 1 => 1..=u32::MAX]
}

/// A contract, or the error its builder returned (an initial term past the
/// last representable date).
fn contract(name: &'static str) -> impl Strategy<Value = Result<Contract, Error>> {
    (any_date(), term_months(), renewal(), notice()).prop_map(
        move |(start, term, renewal, notice)| {
            Contract::builder(id(name), name, "vendor", start, term)
                .renewal(renewal)
                .notice(notice)
                .owner("owner")
                .build()
        },
    )
}

fn entitlement(name: &'static str) -> impl Strategy<Value = Entitlement> {
    (any_date(), proptest::option::of(0..5000_u32), 1..20_u64).prop_map(
        move |(start, length, quantity)| {
            let mut builder = Entitlement::builder(
                id(name),
                "Product",
                LicenceMetric::PerDevice,
                LicenceQuantity::Limited(quantity),
                start,
            );
            if let Some(end) =
                length.and_then(|days| start.checked_add_days(chrono::Days::new(days.into())))
            {
                builder = builder.end(end);
            }
            builder.build().expect("end is never before start")
        },
    )
}

fn asset_with_dates() -> impl Strategy<Value = Asset> {
    (
        select(&["a-1", "a-2", "a-3"][..]),
        proptest::option::of(any_date()),
        proptest::option::of(any_date()),
        proptest::option::of(any_date()),
        any::<bool>(),
    )
        .prop_map(|(name, warranty, support, renewal, retired)| {
            let mut builder = Asset::builder(id(name), name, AssetKind::Hardware);
            if let Some(d) = warranty {
                builder = builder.warranty_end(d);
            }
            if let Some(d) = support {
                builder = builder.support_end(d);
            }
            if let Some(d) = renewal {
                builder = builder.renewal_date(d);
            }
            if retired {
                builder = builder.lifecycle(Lifecycle::Retired(RetirementReason::Sold));
            }
            builder
                .build()
                .expect("no purchase date, so any end date is valid")
        })
}

/// One CI of a compliance estate: id, installed products, cores attribute,
/// retired.
type ItemSpec = (usize, Vec<usize>, Option<i64>, bool, bool);

const PRODUCTS: [&str; 3] = ["Alpha", "Beta", "Gamma"];
const METRICS: [LicenceMetric; 4] = [
    LicenceMetric::PerDevice,
    LicenceMetric::PerCore,
    LicenceMetric::PerUser,
    LicenceMetric::Concurrent,
];

fn item_spec() -> impl Strategy<Value = ItemSpec> {
    (
        0..40_usize,
        proptest::collection::vec(0..PRODUCTS.len(), 0..3),
        proptest::option::of(-2..100_i64),
        any::<bool>(),
        proptest::bool::weighted(0.15),
    )
}

/// Entitlements per product: the product's metric, then (quantity or
/// unlimited, start offset, length) per entitlement.
type EntitlementSpec = (usize, Vec<(Option<u64>, i64, Option<u64>)>);

fn entitlement_specs() -> impl Strategy<Value = Vec<EntitlementSpec>> {
    proptest::collection::vec(
        (
            0..METRICS.len(),
            proptest::collection::vec(
                (
                    prop_oneof![9 => (1..30_u64).prop_map(Some), 1 => Just(None)],
                    -400..400_i64,
                    proptest::option::of(0..800_u64),
                ),
                0..4,
            ),
        ),
        PRODUCTS.len(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn contract_dates_never_panic_and_agree(contract in contract("c-1"), as_of in any_date()) {
        let Ok(contract) = contract else { return Ok(()); };
        let end = contract.term_end(as_of);
        let deadline = contract.notice_deadline(as_of);
        let active = contract.is_active(as_of);
        prop_assert_eq!(active, as_of >= contract.start()
            && (matches!(contract.renewal(), Renewal::Automatic { .. }) || as_of <= contract.initial_term_end()));
        if let Some(deadline) = deadline {
            prop_assert!(deadline >= as_of);
            prop_assert!(
                matches!(contract.renewal(), Renewal::Automatic { .. }),
                "a deadline for a contract that does not renew automatically"
            );
        }
        let automatic = matches!(contract.renewal(), Renewal::Automatic { .. });
        if !automatic {
            prop_assert_eq!(end, Some(contract.initial_term_end()));
        } else if let Some(end) = end {
            if as_of >= contract.start() {
                // The term in force ends on or after today, and asking on its
                // last day gives the same term.
                prop_assert!(end >= as_of);
                prop_assert_eq!(contract.term_end(end), Some(end));
                if let Some(next) = end.succ_opt() {
                    let following = contract.term_end(next);
                    prop_assert!(following.is_none_or(|f| f > end));
                }
            } else {
                prop_assert_eq!(end, contract.initial_term_end());
            }
        }
        prop_assert!(contract.initial_term_end() >= contract.start());
    }

    #[test]
    fn coverage_never_panics(asset in asset_with_dates(), as_of in any_date()) {
        let cover = finance::coverage(&asset, as_of);
        prop_assert_eq!(cover.warranty().last_day(), asset.warranty_end());
        prop_assert_eq!(cover.warranty().is_active(), asset.warranty_end().is_some_and(|d| d >= as_of));
        prop_assert_eq!(cover.support().is_active(), asset.support_end().is_some_and(|d| d >= as_of));
    }

    #[test]
    fn calendar_entries_are_sorted_and_inside_the_window(
        assets in proptest::collection::vec(asset_with_dates(), 0..4),
        first in contract("ctr-1"),
        second in contract("ctr-2"),
        licences in (entitlement("ent-1"), entitlement("ent-2")),
        a in any_date(),
        b in any_date(),
    ) {
        let mut estate = Estate::new();
        for asset in assets {
            // Repeated ids are refused by the estate; the first one stays.
            let _ = estate.insert_asset(asset);
        }
        let contracts: Vec<Contract> = [first, second].into_iter().filter_map(Result::ok).collect();
        let entitlements = [licences.0, licences.1];
        let (from, to) = (a.min(b), a.max(b));
        match finance::renewal_calendar(&estate, &contracts, &entitlements, from, to) {
            Ok(calendar) => {
                prop_assert_eq!((calendar.from(), calendar.to()), (from, to));
                for entry in &calendar {
                    prop_assert!(from <= entry.date() && entry.date() <= to, "{:?}", entry);
                }
                for pair in calendar.entries().windows(2) {
                    let key = |e: &finance::CalendarEntry| (e.date(), e.event(), e.resource().clone());
                    prop_assert!(key(&pair[0]) < key(&pair[1]), "{:?}", pair);
                }
                // Every expiry in the window is listed.
                for e in &entitlements {
                    if let Some(expiry) = e.expiry().filter(|d| from <= *d && *d <= to) {
                        prop_assert!(calendar.iter().any(|entry| entry.date() == expiry
                            && entry.event() == CalendarEvent::LicenceExpiry
                            && entry.resource() == e.id()));
                    }
                }
            }
            Err(Error::InvalidWindow { reason, .. }) => {
                prop_assert!(reason.contains("renews more than"), "{}", reason);
            }
            Err(other) => prop_assert!(false, "unexpected error {}", other),
        }
        // A reversed window is always refused.
        if from < to {
            let reversed = finance::renewal_calendar(&estate, &contracts, &entitlements, to, from);
            prop_assert!(
                matches!(reversed, Err(Error::InvalidWindow { .. })),
                "reversed window accepted"
            );
        }
    }

    #[test]
    fn compliance_balances(
        items in proptest::collection::vec(item_spec(), 0..30),
        specs in entitlement_specs(),
        users in proptest::collection::vec((0..PRODUCTS.len(), 0..10_usize), 0..20),
        as_of in (738_000..=739_000_i32),
    ) {
        let as_of = NaiveDate::from_num_days_from_ce_opt(as_of).unwrap();
        let mut estate = Estate::new();
        for (n, products, cores, integer, retired) in items {
            let name = format!("ci-{n:02}");
            let mut builder = ConfigurationItem::builder(id(&name), &name, CiClass::Server);
            for p in products {
                builder = builder.attribute(format!("installed:{}", PRODUCTS[p]), true);
            }
            if let Some(cores) = cores {
                builder = if integer {
                    builder.attribute("cores", cores)
                } else {
                    builder.attribute("cores", cores.to_string())
                };
            }
            if retired {
                builder = builder.status(OperationalStatus::Retired);
            }
            let _ = estate.insert_ci(builder.build().unwrap());
        }
        let mut entitlements = Vec::new();
        for (product, (metric, list)) in specs.into_iter().enumerate() {
            for (k, (quantity, offset, length)) in list.into_iter().enumerate() {
                let start = as_of + chrono::TimeDelta::days(offset);
                let quantity = quantity.map_or(LicenceQuantity::Unlimited, LicenceQuantity::Limited);
                let mut builder = Entitlement::builder(
                    id(&format!("ent-{product}-{k}")),
                    PRODUCTS[product],
                    METRICS[metric],
                    quantity,
                    start,
                );
                if let Some(length) = length {
                    builder = builder.end(start + chrono::Days::new(length));
                }
                entitlements.push(builder.build().unwrap());
            }
        }
        let assignments: Vec<Assignment> = users
            .into_iter()
            .map(|(p, u)| Assignment::new(PRODUCTS[p], id(&format!("user-{u}"))).unwrap())
            .collect();
        let positions =
            finance::compliance(&estate, &entitlements, &assignments, &LicenceRules::default(), as_of)
                .unwrap();
        let names: Vec<&str> = positions.iter().map(finance::LicencePosition::product).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        prop_assert_eq!(&names, &sorted);
        for p in &positions {
            prop_assert_eq!(p.used(), p.covered_units() + p.unlicensed_units());
            let ids: Vec<_> = p.consumers().iter().map(|c| c.id().clone()).collect();
            prop_assert!(ids.windows(2).all(|w| w[0] < w[1]));
            for c in p.consumers() {
                prop_assert!(estate.ci(c.id()).is_none_or(|ci| ci.status() != OperationalStatus::Retired));
            }
            match (p.owned(), p.available()) {
                (LicenceQuantity::Limited(owned), LicenceQuantity::Limited(available)) => {
                    prop_assert_eq!(
                        i128::from(owned) - i128::from(p.used()),
                        i128::from(available) - i128::from(p.shortfall())
                    );
                    prop_assert!(available == 0 || p.shortfall() == 0);
                    prop_assert!(p.covered_units() <= owned);
                    prop_assert!(p.unlicensed_units() >= p.shortfall());
                }
                (LicenceQuantity::Unlimited, LicenceQuantity::Unlimited) => {
                    prop_assert_eq!(p.shortfall(), 0);
                    prop_assert!(p.is_compliant());
                }
                other => prop_assert!(false, "owned and available disagree: {:?}", other),
            }
            for e in p.entitlements() {
                let e = entitlements.iter().find(|x| x.id() == e).unwrap();
                prop_assert_eq!(e.status(as_of), finance::EntitlementStatus::Active);
            }
        }
    }
}
