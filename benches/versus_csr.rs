//! One run that answers the same queries with the crate and with a plain,
//! hand-written CSR breadth-first search over the same edges, interleaved,
//! and prints the ratios; plus the build time and peak memory of the
//! estate.
//!
//! `cargo bench --bench versus_csr` (1M CIs); `-- 100000` for another size.

use std::hint::black_box;
use std::time::{Duration, Instant};

mod common;

/// The median of a list of timings.
fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let cis: usize = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(1_000_000);
    let estate = build(cis);
    let cmdb = estate.cmdb();
    let mut csr = common::PlainCsr::new(&estate);
    let top = common::top_ci(&estate, &mut csr);
    let top_index = csr.index[&top];
    let expected = csr.bfs(top_index);
    let low = common::low_level_cis(&estate, 1_000);
    let low_index: Vec<u32> = low.iter().map(|id| csr.index[id]).collect();
    let leaf = common::top_of_stack(&estate, &csr);
    println!("highest-impact CI: {top} reaches {expected} CIs");

    let mut rows: Vec<Row> = Vec::new();
    rows.push(measure(
        "top CI, reachability only",
        &mut || assert_eq!(cmdb.reachable(black_box(&top)).unwrap().len(), expected),
        &mut || assert_eq!(csr.bfs(black_box(top_index)), expected),
    ));
    rows.push(measure(
        "top CI, states + distances + paths + groups",
        &mut || {
            let impact = cmdb.blast_radius(black_box(&top)).unwrap();
            assert!(impact.len() <= expected);
            black_box(impact.iter().map(|i| i.distance()).max());
        },
        &mut || assert_eq!(csr.bfs(black_box(top_index)), expected),
    ));
    rows.push(measure(
        "1,000 low-level CIs, blast radius (total)",
        &mut || {
            let total: usize = low
                .iter()
                .map(|id| cmdb.blast_radius(id).unwrap().len())
                .sum();
            black_box(total);
        },
        &mut || {
            black_box(low_index.iter().map(|n| csr.bfs(*n)).sum::<usize>());
        },
    ));
    rows.push(measure(
        "1,000 low-level CIs, reachability (total)",
        &mut || {
            let total: usize = low.iter().map(|id| cmdb.reachable(id).unwrap().len()).sum();
            black_box(total);
        },
        &mut || {
            black_box(low_index.iter().map(|n| csr.bfs(*n)).sum::<usize>());
        },
    ));
    print_rows(&rows);
    nothing_above(&estate, &leaf);
    println!("peak RSS at the end: {} MiB", common::peak_rss_mib());
}

/// One query's median time with the crate and with the plain CSR search.
struct Row {
    name: &'static str,
    ours: Duration,
    theirs: Duration,
}

/// Generates the estate, builds its query index, and prints the time and
/// peak memory of each step.
fn build(cis: usize) -> itam_cmdb::Estate {
    let rss_before = common::peak_rss_mib();
    let start = Instant::now();
    let estate = common::estate(cis);
    let built = start.elapsed();
    let rss_after_build = common::peak_rss_mib();
    let index_start = Instant::now();
    let cmdb = estate.cmdb();
    let first = cmdb.iter().next().expect("CIs").id().clone();
    cmdb.reachable(&first).expect("a known CI");
    let indexed = index_start.elapsed();
    println!(
        "estate: {} CIs, {} relationships, {} assets",
        cmdb.len(),
        cmdb.relationship_count(),
        estate.assets().len()
    );
    println!(
        "build: {:.2} s, peak RSS {} MiB (baseline {} MiB); query index: {:.0} ms, peak RSS {} MiB",
        built.as_secs_f64(),
        rss_after_build,
        rss_before,
        indexed.as_secs_f64() * 1e3,
        common::peak_rss_mib(),
    );
    estate
}

/// Runs the two sides alternately, `RUNS` times each, and keeps the medians.
fn measure(name: &'static str, crate_run: &mut dyn FnMut(), csr_run: &mut dyn FnMut()) -> Row {
    const RUNS: usize = 15;
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let t = Instant::now();
        csr_run();
        theirs.push(t.elapsed());
        let t = Instant::now();
        crate_run();
        ours.push(t.elapsed());
    }
    Row {
        name,
        ours: median(ours),
        theirs: median(theirs),
    }
}

fn print_rows(rows: &[Row]) {
    println!(
        "\n{:<46} {:>12} {:>12} {:>7}",
        "query", "itam-cmdb", "plain CSR", "ratio"
    );
    for row in rows {
        println!(
            "{:<46} {:>9.3} ms {:>9.3} ms {:>6.2}x",
            row.name,
            row.ours.as_secs_f64() * 1e3,
            row.theirs.as_secs_f64() * 1e3,
            row.ours.as_secs_f64() / row.theirs.as_secs_f64()
        );
    }
}

/// The whole blast-radius call for a CI with nothing above it, averaged.
fn nothing_above(estate: &itam_cmdb::Estate, leaf: &itam_cmdb::ResourceId) {
    let calls = 200_000u32;
    let t = Instant::now();
    for _ in 0..calls {
        assert!(
            estate
                .cmdb()
                .blast_radius(black_box(leaf))
                .unwrap()
                .is_empty()
        );
    }
    let per_call = t.elapsed() / calls;
    println!(
        "\nblast radius of a CI with nothing above it ({leaf}): {:.0} ns per call",
        per_call.as_secs_f64() * 1e9
    );
}
