//! Writes the committed seed corpora and the snapshot dictionary:
//!
//! * `seeds/snapshot/`: the sample estate, the sample after claims under
//!   the ITAM agreement (provenance, journal, conflicts), an empty estate,
//!   the shortest snapshot, and a connected 48-CI slice of the synth
//!   generator's smallest estate; `seeds/snapshot-large/`: that whole
//!   estate (512 CIs);
//! * `snapshot.dict`: every key and short string of those snapshots, for
//!   libFuzzer's `-dict`;
//! * `seeds/batch/`: byte strings that decode (see `Session`) into batches
//!   the sample estate accepts, and a few it refuses.
//!
//! Run from anywhere: `cargo run --manifest-path fuzz/Cargo.toml --example seeds`.
//! The output is deterministic; rerun it when the snapshot format or the op
//! language changes, and commit what changed.

use std::collections::{BTreeSet, VecDeque};
use std::fs;
use std::path::{Path, PathBuf};

use arbitrary::{Arbitrary, Unstructured};
use chrono::{DateTime, TimeZone, Utc};
use itam_cmdb::ownership::{AssetField, CiField, Claim, ColumnAgreement, Source, Update, Value};
use itam_cmdb::{
    AttributeKey, AttributeValue, Batch, Error, Estate, Lifecycle, ResourceId, RetirementReason,
    sample, synth,
};
use itam_cmdb_fuzz::{Session, check_round_trip};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let snapshots = snapshot_seeds()?;
    let dir = root.join("seeds/snapshot");
    fs::create_dir_all(&dir)?;
    for (name, bytes) in &snapshots {
        write(&dir.join(name), bytes)?;
    }
    // The whole generated estate: 300 KiB, slow to mutate, so kept apart
    // for long runs (pass the directory as a third corpus).
    let large = root.join("seeds/snapshot-large");
    fs::create_dir_all(&large)?;
    let synth = synth::Generator::new(7).cis(512).build()?;
    write(&large.join("synth-512.json"), &check_round_trip(&synth))?;
    write(
        &root.join("snapshot.dict"),
        dictionary(&snapshots)?.as_bytes(),
    )?;

    let dir = root.join("seeds/batch");
    fs::create_dir_all(&dir)?;
    for (name, bytes) in batch_seeds() {
        write(&dir.join(name), &bytes)?;
    }
    Ok(())
}

fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    println!("{} ({} bytes)", path.display(), bytes.len());
    fs::write(path, bytes)
}

fn snapshot_seeds() -> Result<Vec<(String, Vec<u8>)>, Error> {
    let synth = synth::Generator::new(7).cis(512).build()?;
    let estates = [
        ("sample.json", sample::estate()),
        ("sample-claims.json", sample_with_claims()?),
        ("empty.json", Estate::new()),
        ("synth-slice.json", synth_slice(&synth, 48)?),
    ];
    let mut seeds: Vec<(String, Vec<u8>)> = estates
        .iter()
        .map(|(name, estate)| ((*name).to_owned(), check_round_trip(estate)))
        .collect();
    seeds.push(("minimal.json".to_owned(), br#"{"version":1}"#.to_vec()));
    Ok(seeds)
}

/// A connected slice of a generated estate: `size` CIs reached from its
/// first one, their assets, the licences, the relationships between them,
/// and the groups whose quorum the slice can still meet. Small enough for
/// libFuzzer to mutate quickly, unlike the whole generated estate.
fn synth_slice(full: &Estate, size: usize) -> Result<Estate, Error> {
    let cmdb = full.cmdb();
    let relationships: Vec<_> = cmdb.relationships().collect();
    let mut keep = BTreeSet::new();
    let mut queue: VecDeque<ResourceId> = cmdb.iter().map(|ci| ci.id().clone()).take(1).collect();
    while let Some(id) = queue.pop_front() {
        if keep.len() >= size {
            break;
        }
        if !keep.insert(id.clone()) {
            continue;
        }
        for r in &relationships {
            if r.source() == &id {
                queue.push_back(r.target().clone());
            } else if r.target() == &id {
                queue.push_back(r.source().clone());
            }
        }
    }
    let mut batch = Batch::new();
    for ci in cmdb.iter().filter(|ci| keep.contains(ci.id())) {
        batch.insert_ci(ci.clone());
    }
    for asset in full.assets().iter() {
        if keep.contains(asset.id()) || !cmdb.contains(asset.id().as_str()) {
            batch.insert_asset(asset.clone());
        }
    }
    for r in &relationships {
        if keep.contains(r.source()) && keep.contains(r.target()) {
            batch.relate(r.source().clone(), r.kind().clone(), r.target().clone());
        }
    }
    for (group, quorum) in cmdb.groups() {
        let members: Vec<_> = cmdb
            .members(group)
            .filter(|m| keep.contains(*m))
            .cloned()
            .collect();
        let count = u32::try_from(members.len()).unwrap_or(u32::MAX);
        if keep.contains(group) && count > 0 && quorum.needed(count) <= count {
            batch.define_group(group.clone(), quorum, members);
        }
    }
    let mut slice = Estate::new();
    slice.apply(batch)?;
    Ok(slice)
}

/// The sample after a few days of claims under the ITAM agreement: accepted
/// and rejected claims, a manual edit, a retirement and a reactivation, a
/// retraction and a cleared field.
fn sample_with_claims() -> Result<Estate, Error> {
    let mut estate = sample::estate();
    estate.set_agreement(ColumnAgreement::itam_default());
    let vm = ResourceId::new(sample::PAYMENT_VM)?;
    let old = ResourceId::new(sample::DECOMMISSIONED_VM)?;
    let finance = Source::automated("finance")?;
    let discovery = Source::automated("discovery")?;
    let alice = Source::person("alice")?;
    let at = |day: u32, hour: u32| -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0)
            .single()
            .unwrap_or_default()
    };
    let os = AttributeKey::new("os")?;

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
            Value::text("ops"),
            discovery.clone(),
            at(2, 9),
        ))
        .claim(Claim::set(
            vm.clone(),
            CiField::Attribute(os),
            Value::Attribute(AttributeValue::Text("Ubuntu 26.04".into())),
            discovery.clone(),
            at(2, 3),
        ))
        .claim(Claim::set(
            vm.clone(),
            CiField::Owner,
            Value::text("payments on-call"),
            alice.clone(),
            at(3, 10),
        ))
        .claim(Claim::set(
            vm.clone(),
            CiField::Owner,
            Value::text("platform"),
            discovery.clone(),
            at(4, 10),
        ))
        .claim(Claim::set(
            old.clone(),
            AssetField::Lifecycle,
            Value::Lifecycle(Lifecycle::Retired(RetirementReason::Decommissioned)),
            finance.clone(),
            at(5, 9),
        ));
    estate.apply(batch)?;

    let mut batch = Batch::new();
    batch
        .claim(Claim::reactivate(old, alice, at(6, 9)))
        .claim(Claim::new(
            vm.clone(),
            AssetField::Location,
            Update::Clear,
            finance.clone(),
            at(6, 12),
        ))
        .claim(Claim::new(
            vm,
            AssetField::Owner,
            Update::Retract,
            finance,
            at(7, 9),
        ));
    estate.apply(batch)?;
    Ok(estate)
}

/// Every object key and every string of at most 40 bytes in the
/// snapshots, as libFuzzer dictionary entries, plus JSON's own tokens.
fn dictionary(snapshots: &[(String, Vec<u8>)]) -> Result<String, serde_json::Error> {
    fn walk(value: &serde_json::Value, words: &mut BTreeSet<String>) {
        match value {
            serde_json::Value::String(text) if text.len() <= 40 => {
                words.insert(format!("\"{text}\""));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, words)),
            serde_json::Value::Object(map) => {
                for (key, v) in map {
                    words.insert(format!("\"{key}\":"));
                    walk(v, words);
                }
            }
            _ => {}
        }
    }
    let mut words = BTreeSet::new();
    for (_, bytes) in snapshots {
        walk(&serde_json::from_slice(bytes)?, &mut words);
    }
    for token in [
        "{", "}", "[", "]", ",", ":", "null", "true", "false", "1", "-1", "0.5", "1e400",
    ] {
        words.insert(token.to_owned());
    }
    let mut out = String::from("# Generated by `cargo run --example seeds`; see README.md.\n");
    for (i, word) in words.iter().enumerate() {
        out.push_str(&format!("w{i}=\"{}\"\n", escape(word)));
    }
    Ok(out)
}

/// libFuzzer's dictionary escapes: `\\`, `\"` and `\xNN`.
fn escape(word: &str) -> String {
    let mut out = String::new();
    for byte in word.bytes() {
        match byte {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            0x20..=0x7e => out.push(char::from(byte)),
            _ => out.push_str(&format!("\\x{byte:02X}")),
        }
    }
    out
}

/// SplitMix64: a fixed stream of candidate inputs.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Random byte strings, kept when their session is one of the shapes
/// wanted: every batch applied with several decisions (over one batch and
/// over several), and some refused.
fn batch_seeds() -> Vec<(String, Vec<u8>)> {
    let mut rng = SplitMix(0x1732_2026);
    let mut skipped = 0;
    let mut wanted = [
        ("applied", 4, 0),
        ("applied-steps", 3, 0),
        ("refused", 2, 0),
    ];
    let mut seeds = Vec::new();
    // Candidates that fail a check are findings for the fuzzer, not seeds:
    // keep their panic messages quiet.
    std::panic::set_hook(Box::new(|_| {}));
    for _ in 0..200_000 {
        if wanted.iter().all(|(_, want, got)| got >= want) {
            break;
        }
        let len = 48 + usize::try_from(rng.next() % 400).unwrap_or(0);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next().to_le_bytes()[0]).collect();
        let Ok(session) = Session::arbitrary_take_rest(Unstructured::new(&bytes)) else {
            continue;
        };
        let steps = session.steps.len();
        let outcome = match std::panic::catch_unwind(|| session.run()) {
            Ok(outcome) => outcome,
            Err(_) => {
                skipped += 1;
                continue;
            }
        };
        let shape = if outcome.refused > 0 && outcome.applied == 0 {
            2
        } else if outcome.refused == 0 && outcome.decisions >= 3 && steps >= 2 {
            1
        } else if outcome.refused == 0 && outcome.decisions >= 3 {
            0
        } else {
            continue;
        };
        let (name, want, got) = &mut wanted[shape];
        if *got < *want {
            *got += 1;
            seeds.push((format!("{name}-{got}.bin"), bytes));
        }
    }
    let _ = std::panic::take_hook();
    if skipped > 0 {
        eprintln!("{skipped} candidates failed a check (findings) and were skipped");
    }
    seeds
}
