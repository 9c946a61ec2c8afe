//! What a user sees against the practical limit: the crate's queries
//! against a hand-written CSR breadth-first search with an epoch-stamped
//! visited array, interleaved in one run, on a layered CMDB-like estate
//! with hashed ids (no locality) built through `Estate::apply` in batches
//! of 65,536, once without redundancy groups and once with them. Prints
//! each query's totals and ratio, the per-call overhead, the build time
//! (items, relationships and the first query index) against building the
//! CSR from the same prepared records, the memory the estate holds, and a
//! write followed by a query.
//!
//! `cargo bench --bench versus_csr` runs 1,000,000 CIs; `-- 100000` another
//! size.

use std::hint::black_box;
use std::time::{Duration, Instant};

use itam_cmdb::ownership::{CiField, Claim, Source, Update, Value};
use itam_cmdb::{Batch, Estate, OperationalStatus, RelationKind, ResourceId};

mod common;

use common::layered::{Csr2, Layered, rss_mib};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cis: usize = args
        .iter()
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(1_000_000);
    if args.iter().any(|arg| arg == "--memory") {
        // A fresh process: the records, then the estate and its index.
        let layered = Layered::new(cis, args.iter().any(|arg| arg == "--groups"));
        let before = rss_mib();
        let estate = layered.estate();
        estate
            .cmdb()
            .reachable(&layered.layers[0][0])
            .expect("a known item");
        println!("{}", rss_mib().saturating_sub(before));
        return;
    }
    for groups in [false, true] {
        run(cis, groups);
    }
}

/// The resident memory a fresh process grows by while it builds the
/// estate and its first index from prepared records, in MiB.
fn memory(cis: usize, groups: bool) -> String {
    let mut command = std::process::Command::new(std::env::current_exe().expect("this bench"));
    command.arg(cis.to_string()).arg("--memory");
    if groups {
        command.arg("--groups");
    }
    command
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map_or_else(|| "?".to_owned(), |text| text.trim().to_owned())
}

/// One query's median totals with the crate and with the plain CSR.
struct Row {
    name: String,
    ours: Duration,
    theirs: Duration,
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Runs the two sides alternately, `runs` times each; keeps the medians.
fn measure(
    name: impl Into<String>,
    runs: usize,
    crate_run: &mut dyn FnMut(),
    csr_run: &mut dyn FnMut(),
) -> Row {
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let t = Instant::now();
        csr_run();
        theirs.push(t.elapsed());
        let t = Instant::now();
        crate_run();
        ours.push(t.elapsed());
    }
    Row {
        name: name.into(),
        ours: median(ours),
        theirs: median(theirs),
    }
}

#[allow(clippy::too_many_lines, reason = "one table, row by row")]
fn run(cis: usize, groups: bool) {
    let shape = if groups {
        "with redundancy groups"
    } else {
        "no redundancy groups"
    };
    let layered = Layered::new(cis, groups);
    let t = Instant::now();
    let mut csr = Csr2::new(&layered);
    let csr_build = t.elapsed();

    let t = Instant::now();
    let estate = layered.estate();
    let built = t.elapsed();
    let cmdb = estate.cmdb();
    let any = layered.layers[0][0].clone();
    let t = Instant::now();
    cmdb.reachable(&any).expect("a known item");
    let indexed = t.elapsed();

    println!(
        "\n== {} CIs, {} relationships, {} groups ({shape}), ids hashed and shuffled",
        cmdb.len(),
        cmdb.relationship_count(),
        layered.groups.len()
    );

    // The subjects: the five highest-impact items among the 64 most
    // depended on, 1,000 infrastructure items and 1,000 business services.
    let mut by_degree: Vec<&ResourceId> = layered.layers[3..].iter().flatten().collect();
    let mut rng = common::Mix::new(common::SEED);
    rng.shuffle(&mut by_degree);
    let mut hubs = by_degree.clone();
    hubs.sort_by_key(|id| std::cmp::Reverse(csr.up_degree(csr.index[*id])));
    let mut sampled: Vec<(usize, &ResourceId)> = hubs
        .iter()
        .take(64)
        .map(|id| (csr.up(csr.index[*id]), *id))
        .collect();
    sampled.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    let tops: Vec<ResourceId> = sampled
        .iter()
        .take(5)
        .map(|(_, id)| (*id).clone())
        .collect();
    let infra: Vec<ResourceId> = by_degree
        .iter()
        .take(1_000)
        .map(|id| (*id).clone())
        .collect();
    let mut services: Vec<ResourceId> = layered.layers[0].clone();
    rng.shuffle(&mut services);
    services.truncate(1_000);
    let node = |csr: &Csr2, id: &ResourceId| csr.index[id];
    let top_nodes: Vec<u32> = tops.iter().map(|id| node(&csr, id)).collect();
    let infra_nodes: Vec<u32> = infra.iter().map(|id| node(&csr, id)).collect();
    let service_nodes: Vec<u32> = services.iter().map(|id| node(&csr, id)).collect();
    let top_reach: usize = top_nodes.iter().map(|n| csr.up(*n)).sum();
    println!(
        "   subjects: 5 highest-impact items reaching {top_reach} in all; 1,000 infrastructure items; {} business services",
        services.len()
    );

    let mut rows = Vec::new();
    rows.push(measure(
        "reachable, 5 highest-impact",
        7,
        &mut || {
            let total: usize = tops
                .iter()
                .map(|id| cmdb.reachable(id).unwrap().len())
                .sum();
            assert_eq!(total, top_reach);
        },
        &mut || {
            assert_eq!(
                top_nodes.iter().map(|n| csr.up(*n)).sum::<usize>(),
                top_reach
            );
        },
    ));
    rows.push(measure(
        "reachable, 1,000 infrastructure items",
        7,
        &mut || {
            black_box(
                infra
                    .iter()
                    .map(|id| cmdb.reachable(id).unwrap().len())
                    .sum::<usize>(),
            );
        },
        &mut || {
            black_box(infra_nodes.iter().map(|n| csr.up(*n)).sum::<usize>());
        },
    ));
    rows.push(measure(
        "blast_radius, 5 highest-impact",
        7,
        &mut || {
            let total: usize = tops
                .iter()
                .map(|id| cmdb.blast_radius(id).unwrap().len())
                .sum();
            assert!(total <= top_reach);
        },
        &mut || {
            assert_eq!(
                top_nodes.iter().map(|n| csr.up(*n)).sum::<usize>(),
                top_reach
            );
        },
    ));
    rows.push(measure(
        "blast_radius, 1,000 infrastructure items",
        7,
        &mut || {
            black_box(
                infra
                    .iter()
                    .map(|id| cmdb.blast_radius(id).unwrap().len())
                    .sum::<usize>(),
            );
        },
        &mut || {
            black_box(infra_nodes.iter().map(|n| csr.up(*n)).sum::<usize>());
        },
    ));
    let below: usize = service_nodes.iter().map(|n| csr.down(*n)).sum();
    let mut csr_below = || {
        let total: usize = service_nodes.iter().map(|n| csr.down(*n)).sum();
        assert_eq!(total, below);
    };
    rows.push(measure(
        "dependencies, 1,000 business services",
        5,
        &mut || {
            let total: usize = services
                .iter()
                .map(|id| cmdb.dependencies(id).unwrap().len())
                .sum();
            assert_eq!(total, below);
        },
        &mut csr_below,
    ));
    rows.push(measure(
        "downward reachability, 1,000 business services",
        5,
        &mut || {
            let total: usize = services
                .iter()
                .map(|id| cmdb.reachable_below(id).unwrap().len())
                .sum();
            assert_eq!(total, below);
        },
        &mut csr_below,
    ));
    print_rows(&rows);

    // Per call: a business service has nothing above it.
    let calls = 100_000u32;
    let leaf = &services[0];
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        let t = Instant::now();
        for _ in 0..calls {
            // The limit finds the id too.
            let node = csr.index[black_box(leaf)];
            assert_eq!(csr.up(node), 0);
        }
        theirs.push(t.elapsed() / calls);
        let t = Instant::now();
        for _ in 0..calls {
            assert!(cmdb.blast_radius(black_box(leaf)).unwrap().is_empty());
        }
        ours.push(t.elapsed() / calls);
    }
    let (ours, theirs) = (median(ours), median(theirs));
    println!(
        "   per call, an item with nothing above it: {:.2} us (limit {:.2} us)",
        ours.as_secs_f64() * 1e6,
        theirs.as_secs_f64() * 1e6
    );
    println!(
        "   build: items + relationships {:.2} s, first index {:.2} s, {:.2} s in all (limit: CSR from the same records {:.3} s)",
        built.as_secs_f64(),
        indexed.as_secs_f64(),
        (built + indexed).as_secs_f64(),
        csr_build.as_secs_f64()
    );
    println!(
        "   memory held by the estate and its index (resident growth of a fresh process while building): {} MiB (limit: the CSR's arrays {} MiB)",
        memory(cis, groups),
        csr.bytes() / (1 << 20)
    );
    writes(estate, &tops[0], &services, &infra);
}

/// One write (a relationship added, then removed) followed by one blast
/// radius, against the warm query alone.
fn writes(mut estate: Estate, top: &ResourceId, services: &[ResourceId], infra: &[ResourceId]) {
    let warm = {
        let cmdb = estate.cmdb();
        cmdb.blast_radius(top).unwrap();
        let samples: Vec<Duration> = (0..5)
            .map(|_| {
                let t = Instant::now();
                black_box(cmdb.blast_radius(top).unwrap().len());
                t.elapsed()
            })
            .collect();
        median(samples)
    };
    let rounds = 10;
    let mut samples = Vec::new();
    for round in 0..rounds {
        let (source, target) = (&services[round], &infra[round]);
        let t = Instant::now();
        let added = estate
            .relate(source, RelationKind::DependsOn, target)
            .unwrap();
        black_box(estate.cmdb().blast_radius(top).unwrap().len());
        samples.push(t.elapsed());
        if added {
            estate
                .unrelate(source, RelationKind::DependsOn, target)
                .unwrap();
        }
    }
    report("a relate", median(samples), warm);
    // A CI claim: discovery reports an item's status.
    let discovery = Source::automated("discovery").unwrap();
    let start = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
    let mut samples = Vec::new();
    for (round, item) in infra.iter().enumerate().take(rounds) {
        let status = if round % 2 == 0 {
            OperationalStatus::Degraded
        } else {
            OperationalStatus::Operational
        };
        let claim = Claim::new(
            item.clone(),
            CiField::Status,
            Update::Set(Value::Status(status)),
            discovery.clone(),
            start + chrono::TimeDelta::minutes(i64::try_from(round).unwrap()),
        );
        let t = Instant::now();
        let mut batch = Batch::new();
        batch.claim(claim);
        estate.apply(batch).unwrap();
        black_box(estate.cmdb().blast_radius(top).unwrap().len());
        samples.push(t.elapsed());
    }
    report("a CI claim", median(samples), warm);
}

fn report(write: &str, per_round: Duration, warm: Duration) {
    println!(
        "   one write ({write}) then one blast radius: {:.1} ms per round (warm query {:.1} ms, {:.2}x)",
        per_round.as_secs_f64() * 1e3,
        warm.as_secs_f64() * 1e3,
        per_round.as_secs_f64() / warm.as_secs_f64()
    );
}

fn print_rows(rows: &[Row]) {
    println!(
        "   {:<44} {:>12} {:>12} {:>7}",
        "query (totals)", "itam-cmdb", "plain CSR", "ratio"
    );
    for row in rows {
        println!(
            "   {:<44} {:>9.2} ms {:>9.2} ms {:>6.2}x",
            row.name,
            row.ours.as_secs_f64() * 1e3,
            row.theirs.as_secs_f64() * 1e3,
            row.ours.as_secs_f64() / row.theirs.as_secs_f64()
        );
    }
}
