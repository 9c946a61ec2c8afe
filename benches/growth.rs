//! How each public operation grows: every operation is measured at `n` and
//! at `10n` in one run, and the table says by what factor its time grew.
//! Linear work grows about 10x; anything above 12x is reported as
//! `SUPERLINEAR`.
//!
//! ```text
//! cargo bench --bench growth                  # every operation
//! cargo bench --bench growth -- remove claims # those whose name contains a word
//! cargo bench --bench growth -- --quick       # smaller sizes, tighter budget
//! cargo bench --bench growth -- --list        # the operations' names
//! cargo bench --bench growth -- load --n=5000 # one size for the selected
//! cargo bench --bench growth -- --callgrind cycles # instruction counts
//! ```
//!
//! `ITAM_GROWTH` (words separated by commas or spaces) selects operations
//! like the arguments do.
//!
//! Inputs are built outside the timed region; each measurement checks a
//! count on the result inside it, so a broken operation cannot look fast.
//! Each time is the median of several repetitions (up to 31 for quick
//! operations, so that the median is a run the busy machine did not
//! interrupt). An operation whose time at `n`, times 150, would exceed the
//! budget is not run at `10n`: the table says how long it would have taken.
//!
//! # Columns
//!
//! * `factor`: time(10n) / time(n).
//! * `~n^k`: the exponent the factor implies, `log10` of it: about 1 for
//!   linear work, 2 for quadratic.
//! * `verdict`: `ok` when the factor is at most 12; a factor just above is
//!   measured again before it is judged.
//!
//! # Memory
//!
//! Each repetition starts with cold caches (64 MiB of other memory read
//! first), so that `n` does not run from the caches while `10n` runs from
//! memory. Still, an operation that goes back to a working set of `n`
//! items keeps it in the caches at `n` and not at `10n`: on the 2-core
//! reference machine some linear operations grow 15x to 40x in time.
//! `baseline/plain_csr_bfs` (a plain breadth-first search, linear by
//! construction) shows what memory alone does at its sizes.
//!
//! Instruction counts do not depend on the caches or the machine's load:
//! `--callgrind` runs each selected operation once at `n` and `10n` (a
//! quarter of the usual `n`, unless `--n` says otherwise) under `valgrind
//! --tool=callgrind`, counting only the timed region, and judges the
//! instruction factor instead. A linear operation's count grows 10x.

#![allow(
    clippy::cast_precision_loss,
    reason = "durations and sizes are printed, approximately, as floats"
)]

use std::hint::black_box;
use std::io::Write as _;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use itam_cmdb::ownership::{AssetField, CiField, Claim, Field, Source, Update, Value};
use itam_cmdb::{
    AttributeValue, Batch, CiClass, ConfigurationItem, Criticality, Estate, ImpactQuery, Lifecycle,
    RelationKind, Relationship, ResourceId, RetirementReason,
};

mod common;

/// The most repetitions of one measurement: quick operations run many, so
/// that their median is a run the busy machine did not interrupt.
const MAX_REPS: usize = 31;

/// The fewest repetitions of one measurement, unless they are slow.
const MIN_REPS: usize = 3;

/// Past this, no more repetitions (the first always runs); quick ones
/// stop at half of it.
const REP_WALL: Duration = Duration::from_secs(4);

/// A factor up to this above the verdict's limit is measured once more at
/// both sizes before it is reported, so that one noisy sample on a busy
/// machine does not make a verdict.
const RECHECK_BELOW: f64 = 25.0;

/// The verdict's limit: linear work grows about 10x.
const LIMIT: f64 = 12.0;

/// A superlinear operation may grow up to this many times for 10x the work
/// (the estimate of `10n` skips conservatively).
const WORST_GROWTH: f64 = 150.0;

/// The longest `10n` measurement the run accepts, by its estimate.
const BUDGET: Duration = Duration::from_secs(60);

/// The most instructions `--callgrind` counts at `10n`, by its estimate
/// (callgrind runs some 50 times slower than the machine).
const MAX_INSTRUCTIONS: f64 = 2e10;

/// The budget of a `--quick` run.
const QUICK_BUDGET: Duration = Duration::from_secs(10);

/// Batch size of the operations that send their changes in batches.
const BATCH: usize = 1_000;

/// One timed repetition: how long the operation took, and what it is
/// worth reporting beside it.
struct Sample {
    time: Duration,
    note: Option<String>,
}

impl Sample {
    fn new(time: Duration) -> Self {
        Self { time, note: None }
    }
}

/// Builds an operation's input at one size (not timed) and returns the
/// repetition: each call prepares what it consumes (not timed), then times
/// the operation.
type Trial = Box<dyn FnMut() -> Sample>;

/// One row of the table.
struct Op {
    name: &'static str,
    /// The size of a full run; `--quick` runs a quarter of it.
    n: usize,
    /// What `n` counts, for the table.
    unit: &'static str,
    kind: Kind,
    setup: fn(usize) -> Trial,
}

/// The bytes read to push everything else out of the caches: twice the
/// last-level cache of the reference machine.
const FLUSH_BYTES: usize = 64 << 20;

/// Reads [`FLUSH_BYTES`] of memory that nothing else uses, one cache line
/// at a time, so that the operation timed next starts with cold caches
/// whatever its size (and whatever its setup just touched).
fn flush_caches() {
    thread_local! {
        static JUNK: Vec<u8> = vec![1; FLUSH_BYTES];
    }
    JUNK.with(|junk| {
        let sum = junk
            .iter()
            .step_by(64)
            .fold(0u8, |sum, byte| sum.wrapping_add(*byte));
        black_box(sum);
    });
}

/// Times `f` alone, from cold caches.
fn timed<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    flush_caches();
    timed_region(f)
}

/// The timed region: `--callgrind` counts the instructions of this
/// function and what it calls, and nothing else.
#[inline(never)]
fn timed_region<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let start = Instant::now();
    let out = f();
    (start.elapsed(), out)
}

/// The instant `seconds` after the first claim's.
fn at(seconds: usize) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
        + TimeDelta::seconds(i64::try_from(seconds).expect("fits"))
}

fn source(name: &str) -> Source {
    Source::automated(name).expect("a valid source name")
}

/// The generated estate with `cis` items (and its assets).
fn synth(cis: usize) -> Estate {
    common::estate(cis)
}

/// An estate holding `count` hashed-id items and their assets, and no
/// relationship.
fn hashed_estate(count: usize) -> Estate {
    let (cis, assets) = common::hashed_records(count);
    let mut batch = Batch::new();
    for ci in cis {
        batch.insert_ci(ci);
    }
    for asset in assets {
        batch.insert_asset(asset);
    }
    let mut estate = Estate::new();
    estate.apply(batch).expect("valid records");
    estate
}

/// An estate of one rack and `servers` servers with hashed ids, the rack
/// not yet related to them.
fn rack_and_servers(servers: usize) -> (Estate, ResourceId, Vec<ResourceId>) {
    let rack = ResourceId::new("rack-euw2-000001").expect("a valid id");
    let mut batch = Batch::new();
    batch.insert_ci(
        ConfigurationItem::builder(rack.clone(), "rack A1", CiClass::Rack)
            .build()
            .expect("a valid item"),
    );
    let ids: Vec<ResourceId> = (0..servers)
        .map(|i| common::hashed_id("srv", i as u64))
        .collect();
    for id in &ids {
        batch.insert_ci(
            ConfigurationItem::builder(id.clone(), id.as_str(), CiClass::Server)
                .owner("team-platform")
                .attribute("cores", 64_i64)
                .build()
                .expect("a valid item"),
        );
    }
    let mut estate = Estate::new();
    estate.apply(batch).expect("valid records");
    (estate, rack, ids)
}

/// The estate of [`rack_and_servers`] with the rack containing every
/// server, related in batches of [`BATCH`].
fn hub_estate(servers: usize) -> Estate {
    let (mut estate, rack, ids) = rack_and_servers(servers);
    for chunk in ids.chunks(BATCH) {
        let mut batch = Batch::new();
        for id in chunk {
            batch.relate(rack.clone(), RelationKind::Contains, id.clone());
        }
        estate.apply(batch).expect("valid relationships");
    }
    estate
}

/// A live, in-use hardware asset of `estate` with a configuration item.
fn in_use_asset(estate: &Estate) -> ResourceId {
    estate
        .assets()
        .iter()
        .find(|a| a.lifecycle() == Lifecycle::InUse && estate.ci(a.id()).is_some())
        .map(|a| a.id().clone())
        .expect("the generated estate has assets in use")
}

// ---------------------------------------------------------------- insert

/// `n` items and their assets in one batch into an empty estate.
fn insert_batch(n: usize) -> Trial {
    let (cis, assets) = common::hashed_records(n);
    let expected_assets = assets.len();
    Box::new(move || {
        let mut batch = Batch::new();
        for ci in &cis {
            batch.insert_ci(ci.clone());
        }
        for asset in &assets {
            batch.insert_asset(asset.clone());
        }
        let mut estate = Estate::new();
        let (time, ()) = timed(|| {
            estate.apply(batch).expect("valid records");
            assert_eq!(estate.cmdb().len(), n);
            assert_eq!(estate.assets().len(), expected_assets);
        });
        Sample::new(time)
    })
}

/// `n` items, then their assets, one `insert_ci` / `insert_asset` call each.
fn insert_one_at_a_time(n: usize) -> Trial {
    let (cis, assets) = common::hashed_records(n);
    let expected_assets = assets.len();
    Box::new(move || {
        let (cis, assets) = (cis.clone(), assets.clone());
        let mut estate = Estate::new();
        let (time, ()) = timed(|| {
            for ci in cis {
                estate.insert_ci(ci).expect("a new item");
            }
            for asset in assets {
                estate.insert_asset(asset).expect("a new asset");
            }
            assert_eq!(estate.cmdb().len(), n);
            assert_eq!(estate.assets().len(), expected_assets);
        });
        Sample::new(time)
    })
}

// ---------------------------------------------------------------- relate

/// The kinds of [`relate_batches`], roughly as often as the generated
/// estate uses them.
const KINDS: [RelationKind; 6] = [
    RelationKind::DependsOn,
    RelationKind::DependsOn,
    RelationKind::RunsOn,
    RelationKind::HostedOn,
    RelationKind::VirtualizedBy,
    RelationKind::ComposedOf,
];

/// `n` relationships between random pairs of `n` items, in batches of
/// [`BATCH`].
fn relate_batches(n: usize) -> Trial {
    let estate = hashed_estate(n);
    let ids: Vec<ResourceId> = estate.cmdb().iter().map(|ci| ci.id().clone()).collect();
    let mut rng = common::Mix::new(common::SEED ^ 0x005E_1A7E);
    let mut relationships = Vec::with_capacity(n);
    while relationships.len() < n {
        let (s, t) = (rng.below(ids.len()), rng.below(ids.len()));
        if s != t {
            let kind = KINDS[rng.below(KINDS.len())].clone();
            relationships.push(Relationship::new(ids[s].clone(), kind, ids[t].clone()));
        }
    }
    let distinct = relationships
        .iter()
        .collect::<std::collections::HashSet<_>>()
        .len();
    Box::new(move || {
        let batches: Vec<Batch> = relationships
            .chunks(BATCH)
            .map(|chunk| {
                let mut batch = Batch::new();
                for r in chunk {
                    batch.relate(r.source().clone(), r.kind().clone(), r.target().clone());
                }
                batch
            })
            .collect();
        let mut estate = estate.clone();
        let (time, ()) = timed(|| {
            for batch in batches {
                estate.apply(batch).expect("valid relationships");
            }
            assert_eq!(estate.cmdb().relationship_count(), distinct);
        });
        Sample::new(time)
    })
}

/// One rack that `contains` `n` servers, related in batches of [`BATCH`].
fn relate_hub(n: usize) -> Trial {
    let (estate, rack, ids) = rack_and_servers(n);
    Box::new(move || {
        let batches: Vec<Batch> = ids
            .chunks(BATCH)
            .map(|chunk| {
                let mut batch = Batch::new();
                for id in chunk {
                    batch.relate(rack.clone(), RelationKind::Contains, id.clone());
                }
                batch
            })
            .collect();
        let mut estate = estate.clone();
        let (time, ()) = timed(|| {
            for batch in batches {
                estate.apply(batch).expect("valid relationships");
            }
            assert_eq!(estate.cmdb().relationship_count(), n);
        });
        Sample::new(time)
    })
}

/// `unrelate` of every server from the rack of [`hub_estate`], one call
/// each, in a shuffled order.
fn unrelate_hub(n: usize) -> Trial {
    let estate = hub_estate(n);
    let rack = ResourceId::new("rack-euw2-000001").expect("a valid id");
    let mut ids: Vec<ResourceId> = estate
        .cmdb()
        .iter()
        .filter(|ci| ci.id() != &rack)
        .map(|ci| ci.id().clone())
        .collect();
    common::Mix::new(common::SEED).shuffle(&mut ids);
    Box::new(move || {
        let mut estate = estate.clone();
        let (time, ()) = timed(|| {
            for id in &ids {
                assert!(
                    estate
                        .unrelate(&rack, RelationKind::Contains, id)
                        .expect("known items")
                );
            }
            assert_eq!(estate.cmdb().relationship_count(), 0);
        });
        Sample::new(time)
    })
}

/// One redundancy group of `n` members defined in one batch.
fn define_large_group(n: usize) -> Trial {
    let (estate, _, ids) = rack_and_servers(n);
    let group = ResourceId::new("rack-euw2-000001").expect("a valid id");
    Box::new(move || {
        let mut estate = estate.clone();
        let ids = ids.clone();
        let (time, ()) = timed(|| {
            estate
                .define_group(&group, itam_cmdb::Quorum::Percent(50), ids)
                .expect("a valid group");
            assert_eq!(estate.cmdb().relationship_count(), n);
        });
        Sample::new(time)
    })
}

// ---------------------------------------------------------------- remove

/// Every item, then every asset, of the generated estate of `n` items,
/// removed one call each, oldest first.
fn remove_one_by_one(n: usize) -> Trial {
    let estate = synth(n);
    let cis: Vec<ResourceId> = estate.cmdb().iter().map(|ci| ci.id().clone()).collect();
    let assets: Vec<ResourceId> = estate.assets().iter().map(|a| a.id().clone()).collect();
    Box::new(move || {
        let mut estate = estate.clone();
        let (time, ()) = timed(|| {
            for id in &cis {
                estate.remove_ci(id).expect("a known item");
            }
            for id in &assets {
                estate.remove_asset(id).expect("a known asset");
            }
            assert!(estate.cmdb().is_empty() && estate.assets().is_empty());
            assert_eq!(estate.cmdb().relationship_count(), 0);
        });
        Sample::new(time)
    })
}

/// Every item and asset of the generated estate of `n` items, removed in
/// one batch, oldest first.
fn remove_batch(n: usize) -> Trial {
    let estate = synth(n);
    let cis: Vec<ResourceId> = estate.cmdb().iter().map(|ci| ci.id().clone()).collect();
    let assets: Vec<ResourceId> = estate.assets().iter().map(|a| a.id().clone()).collect();
    Box::new(move || {
        let mut batch = Batch::new();
        for id in &cis {
            batch.remove_ci(id.clone());
        }
        for id in &assets {
            batch.remove_asset(id.clone());
        }
        let mut estate = estate.clone();
        let (time, ()) = timed(|| {
            estate.apply(batch).expect("known records");
            assert!(estate.cmdb().is_empty() && estate.assets().is_empty());
        });
        Sample::new(time)
    })
}

// ---------------------------------------------------------------- claims

/// `n` claims in one batch, one per field, over four fields of `n / 4`
/// items of the generated estate, in a shuffled order.
fn claims_many_fields(n: usize) -> Trial {
    let items = n.div_ceil(4);
    let estate = synth(items.max(1_000));
    let ids: Vec<ResourceId> = estate
        .cmdb()
        .iter()
        .take(items)
        .map(|ci| ci.id().clone())
        .collect();
    let patch = Field::Ci(CiField::Attribute(
        itam_cmdb::AttributeKey::new("patch_level").expect("a valid key"),
    ));
    let discovery = source("discovery");
    let mut claims: Vec<Claim> = Vec::with_capacity(n);
    for (i, id) in ids.iter().enumerate() {
        let fields: [(Field, Value); 4] = [
            (
                CiField::Owner.into(),
                Value::text(format!("team-{}", i % 13)),
            ),
            (
                CiField::Criticality.into(),
                Value::Criticality(Criticality::High),
            ),
            (
                patch.clone(),
                Value::Attribute(AttributeValue::Text(
                    format!("2026-{:02}", i % 12 + 1).into(),
                )),
            ),
            (CiField::Name.into(), Value::text(format!("item {i}"))),
        ];
        for (k, (field, value)) in fields.into_iter().enumerate() {
            if claims.len() < n {
                claims.push(Claim::set(
                    id.clone(),
                    field,
                    value,
                    discovery.clone(),
                    at(4 * i + k),
                ));
            }
        }
    }
    common::Mix::new(common::SEED ^ 0xC1A1).shuffle(&mut claims);
    Box::new(move || {
        let mut batch = Batch::new();
        for claim in &claims {
            batch.claim(claim.clone());
        }
        let mut estate = estate.clone();
        let (time, report) = timed(|| {
            let report = estate.apply(batch).expect("valid claims");
            assert_eq!(report.decisions().len(), n);
            report
        });
        drop(report);
        Sample::new(time)
    })
}

/// `n` batches of one claim each on one field (`ci.owner` of one item),
/// in replay order, from two feeds in turn.
fn claims_busy_field(n: usize) -> Trial {
    let estate = synth(2_000);
    let id = estate.cmdb().iter().next().expect("items").id().clone();
    let feeds = [source("discovery"), source("servicenow")];
    let claims: Vec<Claim> = (0..n)
        .map(|i| {
            Claim::set(
                id.clone(),
                CiField::Owner,
                Value::text(format!("team-{}", i % 7)),
                feeds[i % 2].clone(),
                at(i),
            )
        })
        .collect();
    Box::new(move || {
        let batches: Vec<Batch> = claims
            .iter()
            .map(|claim| {
                let mut batch = Batch::new();
                batch.claim(claim.clone());
                batch
            })
            .collect();
        let mut estate = estate.clone();
        let (time, decided) = timed(|| {
            let mut decided = 0;
            for batch in batches {
                decided += estate.apply(batch).expect("valid claims").decisions().len();
            }
            assert_eq!(decided, n);
            decided
        });
        black_box(decided);
        Sample::new(time)
    })
}

/// One batch of `n` claims on one field, alternating: a source sets the
/// field, then retracts it (four sources in turn).
fn claims_set_retract(n: usize) -> Trial {
    let estate = synth(2_000);
    let id = estate.cmdb().iter().next().expect("items").id().clone();
    let feeds: Vec<Source> = ["discovery", "servicenow", "scanner", "finance"]
        .iter()
        .map(|name| source(name))
        .collect();
    let claims: Vec<Claim> = (0..n)
        .map(|i| {
            let feed = feeds[(i / 2) % feeds.len()].clone();
            if i % 2 == 0 {
                Claim::set(
                    id.clone(),
                    CiField::Owner,
                    Value::text(format!("team-{}", i % 7)),
                    feed,
                    at(i),
                )
            } else {
                Claim::new(id.clone(), CiField::Owner, Update::Retract, feed, at(i))
            }
        })
        .collect();
    Box::new(move || {
        let mut batch = Batch::new();
        for claim in &claims {
            batch.claim(claim.clone());
        }
        let mut estate = estate.clone();
        let (time, report) = timed(|| {
            let report = estate.apply(batch).expect("valid claims");
            assert_eq!(report.decisions().len(), n);
            report
        });
        drop(report);
        Sample::new(time)
    })
}

/// `n` batches of one lifecycle claim each on one asset: in maintenance,
/// back in use, decommissioned, reactivated, and again.
fn claims_lifecycle(n: usize) -> Trial {
    let estate = synth(2_000);
    let id = in_use_asset(&estate);
    let finance = source("finance");
    let claims: Vec<Claim> = (0..n)
        .map(|i| {
            let set = |state| {
                Claim::set(
                    id.clone(),
                    AssetField::Lifecycle,
                    Value::Lifecycle(state),
                    finance.clone(),
                    at(i),
                )
            };
            match i % 4 {
                0 => set(Lifecycle::InMaintenance),
                1 => set(Lifecycle::InUse),
                2 => set(Lifecycle::Retired(RetirementReason::Decommissioned)),
                _ => Claim::reactivate(id.clone(), finance.clone(), at(i)),
            }
        })
        .collect();
    let last = match (n - 1) % 4 {
        0 => Lifecycle::InMaintenance,
        2 => Lifecycle::Retired(RetirementReason::Decommissioned),
        _ => Lifecycle::InUse,
    };
    Box::new(move || {
        let batches: Vec<Batch> = claims
            .iter()
            .map(|claim| {
                let mut batch = Batch::new();
                batch.claim(claim.clone());
                batch
            })
            .collect();
        let mut estate = estate.clone();
        let (time, ()) = timed(|| {
            for batch in batches {
                estate.apply(batch).expect("allowed transitions");
            }
            assert_eq!(
                estate.asset(&id).expect("the asset").lifecycle(),
                last,
                "the last claim holds"
            );
        });
        Sample::new(time)
    })
}

/// How many late claims [`claims_late_on_busy_field`] times.
const LATE_CLAIMS: usize = 20;

/// A field holding `n` claims from two feeds the agreement does not rank
/// (the first to claim keeps the field), then [`LATE_CLAIMS`] batches of
/// one claim each, every one older than all the field holds: the worst
/// case of a late claim, which takes the field from the holder that every
/// later claim lost to, so that every later decision changes and is
/// recorded again. One late claim costs O(n) for a field of n claims
/// (see the ownership module); this row checks that it is no worse.
/// (Claims arriving newest first, one per batch, are this n times over:
/// O(n²) in all when each one changes every later decision. What a replay
/// must not do is log those losses again: the conflict log stays at one
/// entry per claim, which the note shows.)
fn claims_late_on_busy_field(n: usize) -> Trial {
    let mut estate = synth(2_000);
    let id = estate.cmdb().iter().next().expect("items").id().clone();
    let feeds = [source("discovery"), source("servicenow")];
    let claim = |i: usize, seconds: usize| {
        Claim::set(
            id.clone(),
            CiField::Owner,
            Value::text(format!("team-{}", i % 7)),
            feeds[i % 2].clone(),
            at(seconds),
        )
    };
    let mut batch = Batch::new();
    for i in 0..n {
        batch.claim(claim(i, LATE_CLAIMS + i));
    }
    estate.apply(batch).expect("valid claims");
    let late: Vec<Claim> = (0..LATE_CLAIMS)
        .map(|i| claim(i, LATE_CLAIMS - 1 - i))
        .collect();
    Box::new(move || {
        let batches: Vec<Batch> = late
            .iter()
            .map(|claim| {
                let mut batch = Batch::new();
                batch.claim(claim.clone());
                batch
            })
            .collect();
        let mut estate = estate.clone();
        let (time, decided) = timed(|| {
            let mut decided = 0;
            for batch in batches {
                decided += estate.apply(batch).expect("valid claims").decisions().len();
            }
            assert_eq!(decided, LATE_CLAIMS);
            decided
        });
        black_box(decided);
        Sample {
            time,
            note: Some(format!(
                "{} claims, {} conflicts",
                n + LATE_CLAIMS,
                estate.conflicts().len()
            )),
        }
    })
}

// ---------------------------------------------------------------- impact

/// The generated estate of `n` items and its highest-impact item, the
/// index built.
fn impact_setup(n: usize) -> (Estate, ResourceId) {
    let estate = synth(n);
    let mut csr = common::PlainCsr::new(&estate);
    let top = common::top_ci(&estate, &mut csr);
    assert!(
        !estate
            .cmdb()
            .reachable(&top)
            .expect("a known item")
            .is_empty()
    );
    (estate, top)
}

/// The blast radius of the highest-impact item of the generated estate of
/// `n` items.
fn blast_radius(n: usize) -> Trial {
    let (estate, top) = impact_setup(n);
    let expected = estate
        .cmdb()
        .blast_radius(&top)
        .expect("a known item")
        .len();
    Box::new(move || {
        let (time, len) = timed(|| {
            let impact = estate.cmdb().blast_radius(&top).expect("a known item");
            assert_eq!(impact.len(), expected);
            impact.len()
        });
        Sample {
            time,
            note: Some(format!("{len} items")),
        }
    })
}

/// The baseline of the graph queries: a plain breadth-first search over
/// a compressed-sparse-row copy of the same edges from the same item,
/// linear by construction. Its factor is what memory alone does to a graph
/// walk between `n` and `10n` on this machine.
fn plain_csr_bfs(n: usize) -> Trial {
    let estate = synth(n);
    let mut csr = common::PlainCsr::new(&estate);
    let top = common::top_ci(&estate, &mut csr);
    let root = csr.index[&top];
    let expected = csr.bfs(root);
    drop(estate);
    Box::new(move || {
        let (time, ()) = timed(|| assert_eq!(csr.bfs(root), expected));
        Sample {
            time,
            note: Some(format!("{expected} items")),
        }
    })
}

/// `Impact::get` of every item of that blast radius.
fn impact_get_each(n: usize) -> Trial {
    let (estate, top) = impact_setup(n);
    Box::new(move || {
        let impact = estate.cmdb().blast_radius(&top).expect("a known item");
        let ids: Vec<ResourceId> = impact.iter().map(|item| item.id().clone()).collect();
        let (time, found) = timed(|| {
            let found = ids.iter().filter(|id| impact.get(*id).is_some()).count();
            assert_eq!(found, impact.len());
            found
        });
        Sample {
            time,
            note: Some(format!("{found} lookups")),
        }
    })
}

/// `Reach::contains` of every item the highest-impact item reaches.
fn reach_contains_each(n: usize) -> Trial {
    let (estate, top) = impact_setup(n);
    Box::new(move || {
        let reach = estate.cmdb().reachable(&top).expect("a known item");
        let ids: Vec<ResourceId> = reach.iter().cloned().collect();
        let (time, found) = timed(|| {
            let found = ids.iter().filter(|id| reach.contains(*id)).count();
            assert_eq!(found, reach.len());
            found
        });
        Sample {
            time,
            note: Some(format!("{found} lookups")),
        }
    })
}

/// Everything the first business service depends on.
fn dependencies(n: usize) -> Trial {
    let estate = synth(n);
    let service = first_service(&estate);
    let expected = estate
        .cmdb()
        .dependencies(&service)
        .expect("a known item")
        .len();
    Box::new(move || {
        let (time, ()) = timed(|| {
            let impact = estate.cmdb().dependencies(&service).expect("a known item");
            assert_eq!(impact.len(), expected);
        });
        Sample {
            time,
            note: Some(format!("{expected} items")),
        }
    })
}

/// The blast radius of a scenario: 1% of the low-level items failing at
/// once.
fn blast_radius_scenario(n: usize) -> Trial {
    let estate = synth(n);
    let roots = common::low_level_cis(&estate, (n / 100).max(1));
    let query = ImpactQuery::scenario(roots);
    let expected = estate
        .cmdb()
        .blast_radius(&query)
        .expect("known items")
        .len();
    Box::new(move || {
        let (time, ()) = timed(|| {
            let impact = estate.cmdb().blast_radius(&query).expect("known items");
            assert_eq!(impact.len(), expected);
        });
        Sample {
            time,
            note: Some(format!("{expected} items")),
        }
    })
}

/// The first business service of the generated estate.
fn first_service(estate: &Estate) -> ResourceId {
    estate
        .cmdb()
        .iter()
        .find(|ci| ci.class() == &CiClass::BusinessService)
        .expect("a business service")
        .id()
        .clone()
}

/// Everything a business service depends on, ignoring redundancy.
fn reachable_below(n: usize) -> Trial {
    let estate = synth(n);
    let service = first_service(&estate);
    let expected = estate
        .cmdb()
        .reachable_below(&service)
        .expect("a known item")
        .len();
    Box::new(move || {
        let (time, ()) = timed(|| {
            let below = estate
                .cmdb()
                .reachable_below(&service)
                .expect("a known item");
            assert_eq!(below.len(), expected);
        });
        Sample {
            time,
            note: Some(format!("{expected} items")),
        }
    })
}

/// The single points of failure of a business service: one bounded walk
/// per candidate, so O(candidates x the service's dependencies) as
/// documented; the note shows both.
fn single_points(n: usize) -> Trial {
    let estate = synth(n);
    let service = first_service(&estate);
    let candidates = estate
        .cmdb()
        .dependencies(&service)
        .expect("a known item")
        .len();
    let expected = estate
        .cmdb()
        .single_points_of_failure(&service)
        .expect("a known item")
        .len();
    Box::new(move || {
        let (time, ()) = timed(|| {
            let points = estate
                .cmdb()
                .single_points_of_failure(&service)
                .expect("a known item");
            assert_eq!(points.len(), expected);
        });
        Sample {
            time,
            note: Some(format!("{expected} points of {candidates} candidates")),
        }
    })
}

/// Live writes: 100 rounds of a relationship added between a business
/// service and an item of the generated estate, each followed by the blast
/// radius of the service (nothing is above it, so the query itself costs
/// O(1)); the query index was built before. Flat in n: a write patches the
/// index, it never rebuilds it.
fn live_relate_then_query(n: usize) -> Trial {
    const ROUNDS: usize = 100;
    let estate = synth(n);
    let services: Vec<ResourceId> = estate
        .cmdb()
        .iter()
        .filter(|ci| ci.class() == &CiClass::BusinessService)
        .map(|ci| ci.id().clone())
        .collect();
    let others: Vec<ResourceId> = estate
        .cmdb()
        .iter()
        .filter(|ci| ci.class() != &CiClass::BusinessService)
        .map(|ci| ci.id().clone())
        .collect();
    let mut rng = common::Mix::new(common::SEED);
    let pairs: Vec<(ResourceId, ResourceId)> = (0..ROUNDS)
        .map(|_| {
            (
                services[rng.below(services.len())].clone(),
                others[rng.below(others.len())].clone(),
            )
        })
        .collect();
    Box::new(move || {
        let mut estate = estate.clone();
        // The clone shares the original's index: a first write drops it
        // here, and a query builds the clone's own (not timed).
        let (service, other) = &pairs[0];
        if estate
            .relate(service, RelationKind::DependsOn, other)
            .expect("known items")
        {
            estate
                .unrelate(service, RelationKind::DependsOn, other)
                .expect("known items");
        }
        estate.cmdb().reachable(service).expect("a known item");
        let (time, total) = timed(|| {
            let mut total = 0;
            for (service, other) in &pairs {
                estate
                    .relate(service, RelationKind::DependsOn, other)
                    .expect("known items");
                total += estate
                    .cmdb()
                    .blast_radius(service)
                    .expect("a known item")
                    .len();
            }
            total
        });
        assert_eq!(total, 0, "nothing is above a business service");
        Sample {
            time,
            note: Some(format!("{ROUNDS} writes, each then a query")),
        }
    })
}

/// What one service depends on that another does not.
fn except(n: usize) -> Trial {
    let estate = synth(n);
    let services: Vec<ResourceId> = estate
        .cmdb()
        .iter()
        .filter(|ci| ci.class() == &CiClass::BusinessService)
        .take(2)
        .map(|ci| ci.id().clone())
        .collect();
    let count = move |estate: &Estate| {
        let cmdb = estate.cmdb();
        let a = cmdb.dependencies(&services[0]).expect("a known item");
        let b = cmdb
            .dependencies(&services[services.len() - 1])
            .expect("a known item");
        a.except(&b).count() + a.shared_with(&b).count()
    };
    let expected = count(&estate);
    Box::new(move || {
        let (time, ()) = timed(|| assert_eq!(count(&estate), expected));
        Sample {
            time,
            note: Some(format!("{expected} items")),
        }
    })
}

/// Which drawing [`export`] makes.
#[derive(Clone, Copy)]
enum Drawing {
    Dot,
    Mermaid,
}

/// The DOT or Mermaid drawing of the blast radius of the highest-impact
/// item.
fn export(n: usize, drawing: Drawing) -> Trial {
    let (estate, top) = impact_setup(n);
    Box::new(move || {
        let impact = estate.cmdb().blast_radius(&top).expect("a known item");
        let (time, text) = timed(|| {
            let text = match drawing {
                Drawing::Dot => impact.to_dot(),
                Drawing::Mermaid => impact.to_mermaid(),
            };
            let lines = text.bytes().filter(|b| *b == b'\n').count();
            assert!(lines > impact.len(), "{lines} lines");
            text
        });
        let note = format!("{} KiB", text.len() / 1024);
        drop(text);
        Sample {
            time,
            note: Some(note),
        }
    })
}

fn export_dot(n: usize) -> Trial {
    export(n, Drawing::Dot)
}

fn export_mermaid(n: usize) -> Trial {
    export(n, Drawing::Mermaid)
}

/// The recovery order of the blast radius of the highest-impact item.
fn recovery_order(n: usize) -> Trial {
    let (estate, top) = impact_setup(n);
    Box::new(move || {
        let impact = estate.cmdb().blast_radius(&top).expect("a known item");
        let (time, ()) = timed(|| {
            let plan = impact.recovery_order();
            let items: usize = plan.steps().iter().map(|s| s.items().len()).sum();
            assert_eq!(items, impact.len() + impact.roots().len());
        });
        Sample {
            time,
            note: Some(format!("{} items", impact.len())),
        }
    })
}

/// Every cycle of the generated estate.
fn cycles(n: usize) -> Trial {
    let estate = synth(n);
    let expected = estate.cmdb().cycles().len();
    Box::new(move || {
        let (time, ()) = timed(|| {
            assert_eq!(estate.cmdb().cycles().len(), expected);
        });
        Sample {
            time,
            note: Some(format!("{expected} cycles")),
        }
    })
}

// ---------------------------------------------------------------- snapshot

/// `serde_json::to_vec` of `estate`, checked against its known length.
fn save(estate: Estate) -> Trial {
    let expected = serde_json::to_vec(&estate).expect("serialisable").len();
    Box::new(move || {
        let (time, bytes) = timed(|| {
            let bytes = serde_json::to_vec(&estate).expect("serialisable");
            assert_eq!(bytes.len(), expected);
            bytes
        });
        drop(bytes);
        Sample {
            time,
            note: Some(format!("{} MiB", expected >> 20)),
        }
    })
}

/// `serde_json::from_slice` of `estate`'s snapshot.
fn load(estate: &Estate) -> Trial {
    let bytes = serde_json::to_vec(estate).expect("serialisable");
    let (cis, relationships) = (estate.cmdb().len(), estate.cmdb().relationship_count());
    Box::new(move || {
        let (time, estate) = timed(|| {
            let estate: Estate = serde_json::from_slice(&bytes).expect("a valid snapshot");
            assert_eq!(estate.cmdb().len(), cis);
            assert_eq!(estate.cmdb().relationship_count(), relationships);
            estate
        });
        drop(estate);
        Sample::new(time)
    })
}

fn save_synth(n: usize) -> Trial {
    save(synth(n))
}

fn load_synth(n: usize) -> Trial {
    load(&synth(n))
}

fn save_hub(n: usize) -> Trial {
    save(hub_estate(n))
}

fn load_hub(n: usize) -> Trial {
    load(&hub_estate(n))
}

/// A snapshot with an ownership state: the estate of
/// [`claims_many_fields`] after its batch.
fn load_claimed(n: usize) -> Trial {
    let mut estate = synth(n);
    let discovery = source("discovery");
    let mut batch = Batch::new();
    let ids: Vec<ResourceId> = estate.cmdb().iter().map(|ci| ci.id().clone()).collect();
    for (i, id) in ids.into_iter().enumerate() {
        batch.claim(Claim::set(
            id,
            CiField::Owner,
            Value::text(format!("team-{}", i % 13)),
            discovery.clone(),
            at(i),
        ));
    }
    estate.apply(batch).expect("valid claims");
    load(&estate)
}

// ---------------------------------------------------------------- others

/// `Estate::reconcile` of the generated estate under the standard rules.
fn reconcile(n: usize) -> Trial {
    let estate = synth(n);
    let rules = itam_cmdb::ownership::ReconcileRules::standard();
    let now = at(0);
    let expected = estate.reconcile(&rules, now).findings().len();
    Box::new(move || {
        let (time, ()) = timed(|| {
            assert_eq!(estate.reconcile(&rules, now).findings().len(), expected);
        });
        Sample {
            time,
            note: Some(format!("{expected} findings")),
        }
    })
}

/// The cost of every business service of the generated estate.
fn cost_per_service(n: usize) -> Trial {
    use itam_cmdb::finance::{CostOptions, cost_per_service};
    let estate = synth(n);
    let options = CostOptions::new();
    let lines = move |estate: &Estate| -> usize {
        let costs = cost_per_service(estate, &options).expect("the estate costs");
        costs.services().iter().map(|s| s.lines().len()).sum()
    };
    let expected = lines(&estate);
    Box::new(move || {
        let (time, ()) = timed(|| assert_eq!(lines(&estate), expected));
        Sample {
            time,
            note: Some(format!("{expected} lines")),
        }
    })
}

/// The renewal calendar of the generated estate's assets over three years.
fn renewal_calendar(n: usize) -> Trial {
    let estate = synth(n);
    let day = |y| chrono::NaiveDate::from_ymd_opt(y, 1, 1).expect("a valid date");
    let calendar = move |estate: &Estate| {
        itam_cmdb::finance::renewal_calendar(estate, &[], &[], day(2026), day(2029))
            .expect("a valid window")
            .len()
    };
    let expected = calendar(&estate);
    Box::new(move || {
        let (time, ()) = timed(|| assert_eq!(calendar(&estate), expected));
        Sample {
            time,
            note: Some(format!("{expected} entries")),
        }
    })
}

// ---------------------------------------------------------------- the run

/// What a row is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// An operation of the crate.
    Plain,
    /// The walk that measures what memory alone does: no verdict.
    Baseline,
}

const fn op(
    name: &'static str,
    n: usize,
    unit: &'static str,
    kind: Kind,
    setup: fn(usize) -> Trial,
) -> Op {
    Op {
        name,
        n,
        unit,
        kind,
        setup,
    }
}

/// Every operation, in the order of the table, with the `n` of a full run.
const OPS: &[Op] = &[
    op(
        "insert/apply_one_batch",
        10_000,
        "items",
        Kind::Plain,
        insert_batch,
    ),
    op(
        "insert/one_at_a_time",
        10_000,
        "items",
        Kind::Plain,
        insert_one_at_a_time,
    ),
    op(
        "relate/batches",
        10_000,
        "rels",
        Kind::Plain,
        relate_batches,
    ),
    op("relate/hub_source", 3_000, "rels", Kind::Plain, relate_hub),
    op(
        "relate/unrelate_hub",
        3_000,
        "rels",
        Kind::Plain,
        unrelate_hub,
    ),
    op(
        "relate/define_large_group",
        10_000,
        "members",
        Kind::Plain,
        define_large_group,
    ),
    op(
        "remove/one_by_one",
        2_000,
        "items",
        Kind::Plain,
        remove_one_by_one,
    ),
    op(
        "remove/one_batch",
        2_000,
        "items",
        Kind::Plain,
        remove_batch,
    ),
    op(
        "claims/many_fields",
        10_000,
        "claims",
        Kind::Plain,
        claims_many_fields,
    ),
    op(
        "claims/busy_field_per_batch",
        500,
        "claims",
        Kind::Plain,
        claims_busy_field,
    ),
    op(
        "claims/set_retract_one_batch",
        2_000,
        "claims",
        Kind::Plain,
        claims_set_retract,
    ),
    op(
        "claims/lifecycle_per_batch",
        500,
        "claims",
        Kind::Plain,
        claims_lifecycle,
    ),
    op(
        "claims/late_claim_on_busy_field",
        1_000,
        "claims",
        Kind::Plain,
        claims_late_on_busy_field,
    ),
    op(
        "baseline/plain_csr_bfs",
        5_000,
        "items",
        Kind::Baseline,
        plain_csr_bfs,
    ),
    op(
        "impact/blast_radius",
        5_000,
        "items",
        Kind::Plain,
        blast_radius,
    ),
    op(
        "impact/scenario_1pct",
        5_000,
        "items",
        Kind::Plain,
        blast_radius_scenario,
    ),
    op(
        "impact/dependencies",
        5_000,
        "items",
        Kind::Plain,
        dependencies,
    ),
    op(
        "impact/reachable_below",
        5_000,
        "items",
        Kind::Plain,
        reachable_below,
    ),
    op(
        "impact/single_points",
        1_000,
        "items",
        Kind::Plain,
        single_points,
    ),
    op("impact/except", 5_000, "items", Kind::Plain, except),
    op(
        "impact/live_relate_then_query",
        5_000,
        "items",
        Kind::Plain,
        live_relate_then_query,
    ),
    op(
        "impact/get_each",
        5_000,
        "items",
        Kind::Plain,
        impact_get_each,
    ),
    op(
        "impact/reach_contains_each",
        5_000,
        "items",
        Kind::Plain,
        reach_contains_each,
    ),
    op("export/dot", 5_000, "items", Kind::Plain, export_dot),
    op(
        "export/mermaid",
        5_000,
        "items",
        Kind::Plain,
        export_mermaid,
    ),
    op(
        "recovery/recovery_order",
        5_000,
        "items",
        Kind::Plain,
        recovery_order,
    ),
    op("recovery/cycles", 5_000, "items", Kind::Plain, cycles),
    op(
        "finance/cost_per_service",
        5_000,
        "items",
        Kind::Plain,
        cost_per_service,
    ),
    op(
        "finance/renewal_calendar",
        10_000,
        "items",
        Kind::Plain,
        renewal_calendar,
    ),
    op("estate/reconcile", 10_000, "items", Kind::Plain, reconcile),
    op("snapshot/save", 10_000, "items", Kind::Plain, save_synth),
    op("snapshot/load", 10_000, "items", Kind::Plain, load_synth),
    op(
        "snapshot/load_with_claims",
        5_000,
        "items",
        Kind::Plain,
        load_claimed,
    ),
    op("snapshot/save_hub", 3_000, "items", Kind::Plain, save_hub),
    op("snapshot/load_hub", 3_000, "items", Kind::Plain, load_hub),
];

/// An operation measured at `n` and, unless it would take too long, at
/// `10n`.
struct Measured {
    small: Vec<Sample>,
    large: Option<Vec<Sample>>,
}

impl Measured {
    fn factor(&self) -> Option<f64> {
        let large = self.large.as_ref()?;
        Some(median(large).time.as_secs_f64() / median(&self.small).time.as_secs_f64().max(1e-9))
    }
}

/// Measures `setup`'s operation at `n` and `10n`, skipping `10n` when
/// `n`'s time times [`WORST_GROWTH`] exceeds `budget`. A factor just above
/// the limit is measured once more at both sizes, so that one noisy sample
/// on a busy machine does not make a verdict.
fn measure(setup: fn(usize) -> Trial, n: usize, budget: Duration) -> Measured {
    let mut small = Vec::new();
    repeat(&mut setup(n), &mut small);
    if median(&small).time.as_secs_f64() * WORST_GROWTH > budget.as_secs_f64() {
        return Measured { small, large: None };
    }
    let mut large = Vec::new();
    repeat(&mut setup(10 * n), &mut large);
    let mut measured = Measured {
        small,
        large: Some(large),
    };
    if measured
        .factor()
        .is_some_and(|f| (LIMIT..RECHECK_BELOW).contains(&f))
    {
        repeat(&mut setup(n), &mut measured.small);
        if let Some(large) = &mut measured.large {
            repeat(&mut setup(10 * n), large);
        }
    }
    measured
}

/// A few repetitions of `trial`: at least [`MIN_REPS`] unless one takes
/// over [`REP_WALL`], and up to [`MAX_REPS`] while they are quick.
fn repeat(trial: &mut Trial, samples: &mut Vec<Sample>) {
    let start = Instant::now();
    let before = samples.len();
    loop {
        samples.push(trial());
        let done = samples.len() - before;
        let spent = start.elapsed();
        let more = if done < MIN_REPS {
            spent < REP_WALL
        } else {
            done < MAX_REPS && spent < REP_WALL / 2
        };
        if !more {
            break;
        }
    }
}

/// The sample of median time.
fn median(samples: &[Sample]) -> &Sample {
    let mut order: Vec<usize> = (0..samples.len()).collect();
    order.sort_by_key(|&i| samples[i].time);
    &samples[order[order.len() / 2]]
}

fn show(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 1e-3 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.1} µs", s * 1e6)
    }
}

/// The verdict on a factor (the baseline has none).
fn verdict(kind: Kind, factor: f64) -> &'static str {
    match kind {
        Kind::Baseline => "baseline",
        Kind::Plain if factor <= LIMIT => "ok",
        Kind::Plain => "SUPERLINEAR",
    }
}

/// Appends `more` to a row's note.
fn join(note: &mut String, more: &str) {
    if !note.is_empty() {
        note.push_str(if more.starts_with("->") { " " } else { "; " });
    }
    note.push_str(more);
}

/// The table's header and its rule.
fn header(first: &str, second: &str) -> String {
    let header = format!(
        "{:<31} {:>7} {:<7} {:>10} {:>7} {:>10} {:>7} {:>5}  {:<12} note",
        "operation", "n", "of", first, "10n", second, "factor", "~n^k", "verdict"
    );
    format!("{header}\n{}", "-".repeat(header.len() + 40))
}

/// One line of the table: `large` and `factor` are `None` when `10n` was
/// skipped.
fn line(
    op: &Op,
    n: usize,
    small: &str,
    large: Option<&str>,
    factor: Option<f64>,
    note: &str,
) -> String {
    let (large, factor_text, exponent, verdict) = match (large, factor) {
        (Some(large), Some(factor)) => (
            large,
            format!("{factor:.1}"),
            format!("{:.2}", factor.max(1e-9).log10()),
            verdict(op.kind, factor),
        ),
        _ => ("-", "-".to_owned(), "-".to_owned(), "SUPERLINEAR?"),
    };
    format!(
        "{:<31} {:>7} {:<7} {:>10} {:>7} {:>10} {:>7} {:>5}  {:<12} {note}",
        op.name,
        n,
        op.unit,
        small,
        10 * n,
        large,
        factor_text,
        exponent,
        verdict
    )
}

/// Measures `op` at `n` and `10n` and returns its line of the table and
/// whether it is (or may be) superlinear.
fn row(op: &Op, n: usize, budget: Duration) -> (String, bool) {
    let measured = measure(op.setup, n, budget);
    let small = median(&measured.small);
    let mut note = small.note.clone().unwrap_or_default();
    let (Some(large), Some(factor)) = (&measured.large, measured.factor()) else {
        let estimate = small.time.as_secs_f64() * WORST_GROWTH;
        let time = show(small.time);
        join(
            &mut note,
            &format!("skipped: n took {time}, 10n would take ~{estimate:.0} s"),
        );
        return (line(op, n, &time, None, None, &note), true);
    };
    let large = median(large);
    if let Some(large_note) = &large.note {
        join(&mut note, &format!("-> {large_note}"));
    }
    let text = line(
        op,
        n,
        &show(small.time),
        Some(&show(large.time)),
        Some(factor),
        &note,
    );
    (text, verdict(op.kind, factor) == "SUPERLINEAR")
}

// ---------------------------------------------------------------- callgrind

/// The instructions `valgrind --tool=callgrind` counts in the timed region
/// of one repetition of `op` at `n`, run in a child process of this
/// benchmark (`--child`).
fn instructions(op: &Op, n: usize) -> Result<u64, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = std::env::temp_dir().join(format!(
        "growth-{}-{}-{n}.callgrind",
        std::process::id(),
        op.name.replace('/', "-")
    ));
    let status = std::process::Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg("--toggle-collect=*timed_region*")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(&exe)
        .arg(op.name)
        .arg(format!("--n={n}"))
        .arg("--child")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("valgrind: {e}"))?;
    let text = std::fs::read_to_string(&out).map_err(|e| format!("{}: {e}", out.display()));
    let _ = std::fs::remove_file(&out);
    if !status.success() {
        return Err(format!("valgrind: {status}"));
    }
    text?
        .lines()
        .find_map(|line| line.strip_prefix("summary: "))
        .and_then(|count| count.trim().parse().ok())
        .ok_or_else(|| "no summary in the callgrind output".to_owned())
}

/// The instruction counts of `op` at `n` and `10n` (skipping `10n` when
/// `n`'s count times [`WORST_GROWTH`] exceeds [`MAX_INSTRUCTIONS`]): a
/// linear operation's grow 10x whatever the caches and the machine's load.
fn callgrind_row(op: &Op, n: usize) -> (String, bool) {
    let show_count = |count: u64| format!("{:.1} M", count as f64 / 1e6);
    let small = match instructions(op, n) {
        Ok(count) => count,
        Err(e) => return (format!("{:<31} {e}", op.name), false),
    };
    if small as f64 * WORST_GROWTH > MAX_INSTRUCTIONS {
        let note = format!(
            "skipped: 10n would count ~{:.0} G instructions",
            small as f64 * WORST_GROWTH / 1e9
        );
        return (line(op, n, &show_count(small), None, None, &note), true);
    }
    let large = match instructions(op, 10 * n) {
        Ok(count) => count,
        Err(e) => return (format!("{:<31} {e}", op.name), false),
    };
    let factor = large as f64 / (small as f64).max(1.0);
    let text = line(
        op,
        n,
        &show_count(small),
        Some(&show_count(large)),
        Some(factor),
        "",
    );
    (text, verdict(op.kind, factor) == "SUPERLINEAR")
}

// ---------------------------------------------------------------- main

/// What the run does.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// The table of times.
    Time,
    /// `--callgrind`: the table of instruction counts.
    Callgrind,
    /// `--child`: one repetition at `n` of the one operation named, for
    /// [`instructions`].
    Child,
    /// `--list`: the operations' names.
    List,
}

struct Options {
    mode: Mode,
    /// `--quick`: a quarter of each `n`, and a tighter budget.
    quick: bool,
    /// `--n=<count>`: this `n` for every selected operation.
    n: Option<usize>,
    filters: Vec<String>,
}

fn options() -> Options {
    let mut options = Options {
        mode: Mode::Time,
        quick: false,
        n: None,
        filters: Vec::new(),
    };
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--quick" => options.quick = true,
            "--callgrind" => options.mode = Mode::Callgrind,
            "--child" => options.mode = Mode::Child,
            "--list" => options.mode = Mode::List,
            flag if flag.starts_with("--n=") => {
                options.n = Some(flag["--n=".len()..].parse().expect("--n=<count>"));
            }
            // `cargo bench` passes `--bench`; ignore it and other flags.
            flag if flag.starts_with('-') => {}
            word => options.filters.push(word.to_owned()),
        }
    }
    if let Ok(words) = std::env::var("ITAM_GROWTH") {
        options.filters.extend(
            words
                .split([',', ' '])
                .filter(|w| !w.is_empty())
                .map(str::to_owned),
        );
    }
    options
}

fn main() {
    let options = options();
    if options.mode == Mode::Child {
        let op = OPS
            .iter()
            .find(|op| options.filters.iter().any(|f| f == op.name))
            .expect("--child names one operation");
        let sample = (op.setup)(options.n.unwrap_or(op.n))();
        black_box(sample.time);
        return;
    }
    let selected: Vec<&Op> = OPS
        .iter()
        .filter(|op| {
            options.filters.is_empty() || options.filters.iter().any(|f| op.name.contains(f))
        })
        .collect();
    if options.mode == Mode::List {
        for op in &selected {
            println!("{}", op.name);
        }
        return;
    }
    let budget = if options.quick { QUICK_BUDGET } else { BUDGET };
    let started = Instant::now();
    let mut out = std::io::stdout().lock();
    let callgrind = options.mode == Mode::Callgrind;
    let (first, second) = if callgrind {
        ("instr(n)", "instr(10n)")
    } else {
        ("time(n)", "time(10n)")
    };
    writeln!(out, "{}", header(first, second)).expect("stdout");
    let mut superlinear = Vec::new();
    for op in selected {
        let n = if let Some(n) = options.n {
            n
        } else if options.quick || callgrind {
            (op.n / 4).max(10)
        } else {
            op.n
        };
        let (line, superlinear_row) = if callgrind {
            callgrind_row(op, n)
        } else {
            row(op, n, budget)
        };
        if superlinear_row {
            superlinear.push(op.name);
        }
        writeln!(out, "{line}").expect("stdout");
        out.flush().expect("stdout");
    }
    writeln!(
        out,
        "\n{} superlinear: {}\nwhole run {}, peak memory {} MiB",
        superlinear.len(),
        if superlinear.is_empty() {
            "none".to_owned()
        } else {
            superlinear.join(", ")
        },
        show(started.elapsed()),
        common::peak_rss_mib()
    )
    .expect("stdout");
}
