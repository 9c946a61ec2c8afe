//! The estate's two registers: inserting, reading, removing, ordering, and
//! the views that join them by id. Table-driven cases, then a model-based
//! property test over random sequences of operations.

use itam_cmdb::{Error, Estate};
use proptest::prelude::*;

use crate::util::{asset, ci, id};
use Op::{InsertAsset, InsertCi, RemoveAsset, RemoveCi};

/// One write to an estate, naming the resource by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    InsertAsset(&'static str),
    InsertCi(&'static str),
    RemoveAsset(&'static str),
    RemoveCi(&'static str),
}

impl Op {
    /// Applies the op to `estate`. A removal must hand back exactly the
    /// record that [`asset`] or [`ci`] built for that id.
    fn apply(self, estate: &mut Estate) -> Result<(), Error> {
        match self {
            Self::InsertAsset(text) => estate.insert_asset(asset(text)),
            Self::InsertCi(text) => estate.insert_ci(ci(text)),
            Self::RemoveAsset(text) => estate.remove_asset(&id(text)).map(|removed| {
                assert_eq!(removed, asset(text), "remove_asset returned another asset");
            }),
            Self::RemoveCi(text) => estate.remove_ci(&id(text)).map(|removed| {
                assert_eq!(removed, ci(text), "remove_ci returned another item");
            }),
        }
    }
}

/// Builds an estate by applying `ops`, all of which must succeed.
#[track_caller]
fn estate_from(ops: &[Op]) -> Estate {
    let mut estate = Estate::new();
    for op in ops {
        op.apply(&mut estate)
            .unwrap_or_else(|err| panic!("setting up with {op:?}: {err}"));
    }
    estate
}

fn asset_ids(estate: &Estate) -> Vec<&str> {
    estate.assets().iter().map(|a| a.id().as_str()).collect()
}

fn ci_ids(estate: &Estate) -> Vec<&str> {
    estate.cmdb().iter().map(|c| c.id().as_str()).collect()
}

fn assets_without_ci(estate: &Estate) -> Vec<&str> {
    estate
        .assets_without_ci()
        .map(|a| a.id().as_str())
        .collect()
}

fn cis_without_asset(estate: &Estate) -> Vec<&str> {
    estate
        .cis_without_asset()
        .map(|c| c.id().as_str())
        .collect()
}

/// Asserts that a failed write left `estate` as it was: `==` on estates
/// compares the registers' records and their order; the orders are also
/// compared on their own, for a clearer message.
#[track_caller]
fn assert_unchanged(estate: &Estate, before: &Estate, context: &str) {
    assert_eq!(estate, before, "{context} changed the estate");
    assert_eq!(
        asset_ids(estate),
        asset_ids(before),
        "{context} reordered the assets"
    );
    assert_eq!(
        ci_ids(estate),
        ci_ids(before),
        "{context} reordered the items"
    );
}

/// `(id, has asset, has ci)` for every resource, in `resources()` order.
fn resources(estate: &Estate) -> Vec<(&str, bool, bool)> {
    estate
        .resources()
        .map(|r| (r.id().as_str(), r.asset().is_some(), r.ci().is_some()))
        .collect()
}

#[test]
fn an_empty_estate_has_nothing() {
    let estate = Estate::new();
    assert_eq!(estate, Estate::default());
    assert!(estate.assets().is_empty());
    assert!(estate.cmdb().is_empty());
    assert_eq!(estate.assets().len(), 0);
    assert_eq!(estate.cmdb().len(), 0);
    assert!(estate.asset("a").is_none());
    assert!(estate.ci("a").is_none());
    assert!(estate.resource("a").is_none());
    assert_eq!(estate.resources().count(), 0);
    assert_eq!(estate.assets_without_ci().count(), 0);
    assert_eq!(estate.cis_without_asset().count(), 0);
}

#[test]
fn registers_iterate_in_insertion_order() {
    // Each case interleaves inserts; the registers keep their own orders,
    // which are never sorted by id.
    let cases: &[(&[Op], &[&str], &[&str])] = &[
        (&[InsertAsset("b"), InsertAsset("a")], &["b", "a"], &[]),
        (
            &[InsertCi("z"), InsertCi("y"), InsertCi("x")],
            &[],
            &["z", "y", "x"],
        ),
        (
            &[
                InsertAsset("m"),
                InsertCi("n"),
                InsertAsset("a"),
                InsertCi("m"),
            ],
            &["m", "a"],
            &["n", "m"],
        ),
        (
            &[
                InsertCi("a"),
                InsertAsset("c"),
                InsertCi("b"),
                InsertAsset("a"),
            ],
            &["c", "a"],
            &["a", "b"],
        ),
    ];
    for &(ops, assets, cis) in cases {
        let estate = estate_from(ops);
        assert_eq!(asset_ids(&estate), assets, "{ops:?}");
        assert_eq!(ci_ids(&estate), cis, "{ops:?}");
        assert_eq!(estate.assets().len(), assets.len(), "{ops:?}");
        assert_eq!(estate.cmdb().len(), cis.len(), "{ops:?}");
        assert_eq!(estate.assets().is_empty(), assets.is_empty(), "{ops:?}");
        assert_eq!(estate.cmdb().is_empty(), cis.is_empty(), "{ops:?}");

        // `&register` iterates like `iter()`, the iterators know their
        // length, and they run backwards too.
        let by_ref: Vec<_> = estate
            .assets()
            .into_iter()
            .map(|a| a.id().as_str())
            .collect();
        assert_eq!(by_ref, assets);
        let by_ref: Vec<_> = estate.cmdb().into_iter().map(|c| c.id().as_str()).collect();
        assert_eq!(by_ref, cis);
        assert_eq!(estate.assets().iter().len(), assets.len());
        assert_eq!(estate.cmdb().iter().len(), cis.len());
        let backwards: Vec<_> = estate
            .assets()
            .iter()
            .rev()
            .map(|a| a.id().as_str())
            .collect();
        assert!(backwards.iter().eq(assets.iter().rev()), "{ops:?}");
        let backwards: Vec<_> = estate
            .cmdb()
            .iter()
            .rev()
            .map(|c| c.id().as_str())
            .collect();
        assert!(backwards.iter().eq(cis.iter().rev()), "{ops:?}");

        // Every inserted record is found by id, through the estate and
        // through its register, and is the record that was inserted.
        for &text in assets {
            assert_eq!(estate.asset(text), Some(&asset(text)));
            assert_eq!(estate.assets().get(text), Some(&asset(text)));
            assert!(estate.assets().contains(text));
        }
        for &text in cis {
            assert_eq!(estate.ci(text), Some(&ci(text)));
            assert_eq!(estate.cmdb().get(text), Some(&ci(text)));
            assert!(estate.cmdb().contains(text));
        }
        assert!(estate.asset("absent").is_none());
        assert!(!estate.cmdb().contains("absent"));
    }
}

#[test]
fn lookups_are_exact_and_case_sensitive() {
    let estate = estate_from(&[InsertAsset("i-0ABC"), InsertCi("i-0abc")]);
    assert!(estate.asset("i-0ABC").is_some());
    assert!(estate.asset("i-0abc").is_none());
    assert!(estate.ci("i-0abc").is_some());
    assert!(estate.ci("i-0ABC").is_none());
    assert!(estate.asset("i-0AB").is_none());
    assert!(estate.asset("i-0ABC ").is_none());
    assert_eq!(
        resources(&estate),
        [("i-0ABC", true, false), ("i-0abc", false, true)]
    );
}

#[test]
fn duplicates_are_errors_and_change_nothing() {
    let cases: &[(&[Op], Op, Error)] = &[
        (
            &[InsertAsset("a")],
            InsertAsset("a"),
            Error::DuplicateAsset(id("a")),
        ),
        (&[InsertCi("a")], InsertCi("a"), Error::DuplicateCi(id("a"))),
        (
            &[InsertAsset("a"), InsertCi("a"), InsertAsset("b")],
            InsertAsset("a"),
            Error::DuplicateAsset(id("a")),
        ),
        (
            &[InsertAsset("a"), InsertCi("a"), InsertCi("b")],
            InsertCi("a"),
            Error::DuplicateCi(id("a")),
        ),
        (
            &[InsertCi("x"), InsertCi("y"), InsertCi("z")],
            InsertCi("y"),
            Error::DuplicateCi(id("y")),
        ),
        (
            &[InsertAsset("x"), InsertAsset("y"), InsertAsset("z")],
            InsertAsset("z"),
            Error::DuplicateAsset(id("z")),
        ),
    ];
    for (setup, op, expected) in cases {
        let mut estate = estate_from(setup);
        let before = estate.clone();
        let err = op.apply(&mut estate).unwrap_err();
        assert_eq!(&err, expected, "{setup:?} then {op:?}");
        assert_unchanged(&estate, &before, &format!("{setup:?} then {op:?}"));
    }
}

#[test]
fn a_duplicate_never_overwrites_the_first_record() {
    let mut estate = estate_from(&[InsertAsset("a"), InsertCi("a")]);
    let impostor = asset("a").to_builder().name("impostor").build().unwrap();
    assert_eq!(
        estate.insert_asset(impostor).unwrap_err(),
        Error::DuplicateAsset(id("a"))
    );
    assert_eq!(estate.asset("a").unwrap().name(), "a");
    let impostor = ci("a").to_builder().name("impostor").build().unwrap();
    assert_eq!(
        estate.insert_ci(impostor).unwrap_err(),
        Error::DuplicateCi(id("a"))
    );
    assert_eq!(estate.ci("a").unwrap().name(), "a");
}

#[test]
fn removing_an_unknown_id_is_an_error_and_changes_nothing() {
    let cases: &[(&[Op], Op, Error)] = &[
        (&[], RemoveAsset("a"), Error::UnknownAsset(id("a"))),
        (&[], RemoveCi("a"), Error::UnknownCi(id("a"))),
        // The other view existing does not make the id known to this one.
        (
            &[InsertCi("a")],
            RemoveAsset("a"),
            Error::UnknownAsset(id("a")),
        ),
        (
            &[InsertAsset("a")],
            RemoveCi("a"),
            Error::UnknownCi(id("a")),
        ),
        (
            &[InsertAsset("a"), InsertCi("a")],
            RemoveAsset("A"),
            Error::UnknownAsset(id("A")),
        ),
        (
            &[InsertAsset("a"), RemoveAsset("a")],
            RemoveAsset("a"),
            Error::UnknownAsset(id("a")),
        ),
        (
            &[InsertCi("a"), RemoveCi("a")],
            RemoveCi("a"),
            Error::UnknownCi(id("a")),
        ),
    ];
    for (setup, op, expected) in cases {
        let mut estate = estate_from(setup);
        let before = estate.clone();
        let err = op.apply(&mut estate).unwrap_err();
        assert_eq!(&err, expected, "{setup:?} then {op:?}");
        assert_unchanged(&estate, &before, &format!("{setup:?} then {op:?}"));
    }
}

#[test]
fn errors_name_the_id() {
    let mut estate = estate_from(&[InsertAsset("vm-1"), InsertCi("vm-1")]);
    let cases = [
        (InsertAsset("vm-1"), "duplicate asset `vm-1`"),
        (InsertCi("vm-1"), "duplicate configuration item `vm-1`"),
        (RemoveAsset("vm-2"), "unknown asset `vm-2`"),
        (RemoveCi("vm-2"), "unknown configuration item `vm-2`"),
    ];
    for (op, message) in cases {
        assert_eq!(op.apply(&mut estate).unwrap_err().to_string(), message);
    }
}

#[test]
fn removing_one_view_keeps_the_other() {
    let mut estate = estate_from(&[InsertAsset("r"), InsertCi("r")]);
    assert_eq!(estate.remove_asset(&id("r")).unwrap(), asset("r"));
    assert!(estate.asset("r").is_none());
    assert_eq!(estate.ci("r"), Some(&ci("r")));
    assert_eq!(cis_without_asset(&estate), ["r"]);

    let mut estate = estate_from(&[InsertAsset("r"), InsertCi("r")]);
    assert_eq!(estate.remove_ci(&id("r")).unwrap(), ci("r"));
    assert!(estate.ci("r").is_none());
    assert_eq!(estate.asset("r"), Some(&asset("r")));
    assert_eq!(assets_without_ci(&estate), ["r"]);
}

#[test]
fn removal_keeps_the_order_of_the_others() {
    let ids = ["e", "a", "d", "b", "c"];
    for removed in ids {
        let ops: Vec<Op> = ids
            .iter()
            .flat_map(|&text| [InsertAsset(text), InsertCi(text)])
            .collect();
        let mut estate = estate_from(&ops);
        let rest: Vec<&str> = ids
            .iter()
            .copied()
            .filter(|&text| text != removed)
            .collect();

        estate.remove_asset(&id(removed)).unwrap();
        assert_eq!(asset_ids(&estate), rest, "removing asset {removed}");
        assert_eq!(ci_ids(&estate), ids, "removing asset {removed}");

        estate.remove_ci(&id(removed)).unwrap();
        assert_eq!(ci_ids(&estate), rest, "removing ci {removed}");

        // Re-inserting puts the record at the end, not back in its old place.
        estate.insert_asset(asset(removed)).unwrap();
        let mut again = rest.clone();
        again.push(removed);
        assert_eq!(asset_ids(&estate), again, "re-inserting asset {removed}");
    }
}

#[test]
fn resource_gives_both_views_of_one_id() {
    let estate = estate_from(&[
        InsertAsset("both"),
        InsertCi("shadow"),
        InsertAsset("licence"),
        InsertCi("both"),
    ]);
    let cases = [
        ("both", Some(true), Some(true)),
        ("licence", Some(true), Some(false)),
        ("shadow", Some(false), Some(true)),
        ("nothing", None, None),
    ];
    for (text, has_asset, has_ci) in cases {
        let resource = estate.resource(text);
        assert_eq!(resource.map(|r| r.asset().is_some()), has_asset, "{text}");
        assert_eq!(resource.map(|r| r.ci().is_some()), has_ci, "{text}");
        if let Some(resource) = resource {
            assert_eq!(resource.id().as_str(), text);
            assert_eq!(resource.asset(), estate.asset(text));
            assert_eq!(resource.ci(), estate.ci(text));
            // The views are the records held by the registers, not copies.
            if let Some(view) = resource.asset() {
                assert!(std::ptr::eq(view, estate.assets().get(text).unwrap()));
            }
            if let Some(view) = resource.ci() {
                assert!(std::ptr::eq(view, estate.cmdb().get(text).unwrap()));
            }
        }
    }
}

#[test]
fn orphans_and_resources_follow_register_order() {
    struct Case {
        ops: &'static [Op],
        assets_without_ci: &'static [&'static str],
        cis_without_asset: &'static [&'static str],
        resources: &'static [(&'static str, bool, bool)],
    }
    let cases = [
        Case {
            ops: &[],
            assets_without_ci: &[],
            cis_without_asset: &[],
            resources: &[],
        },
        Case {
            ops: &[InsertAsset("a"), InsertCi("a")],
            assets_without_ci: &[],
            cis_without_asset: &[],
            resources: &[("a", true, true)],
        },
        Case {
            ops: &[
                InsertCi("s2"),
                InsertAsset("l1"),
                InsertCi("s1"),
                InsertAsset("l2"),
            ],
            assets_without_ci: &["l1", "l2"],
            cis_without_asset: &["s2", "s1"],
            resources: &[
                ("l1", true, false),
                ("l2", true, false),
                ("s2", false, true),
                ("s1", false, true),
            ],
        },
        Case {
            // CI-only items come after every asset, even when inserted first.
            ops: &[
                InsertCi("shadow"),
                InsertCi("both"),
                InsertAsset("licence"),
                InsertAsset("both"),
                InsertCi("ghost"),
            ],
            assets_without_ci: &["licence"],
            cis_without_asset: &["shadow", "ghost"],
            resources: &[
                ("licence", true, false),
                ("both", true, true),
                ("shadow", false, true),
                ("ghost", false, true),
            ],
        },
        Case {
            // Removing an asset turns its CI into an orphan, in CMDB order.
            ops: &[
                InsertAsset("a"),
                InsertAsset("b"),
                InsertCi("b"),
                InsertCi("c"),
                InsertCi("a"),
                RemoveAsset("b"),
                RemoveCi("a"),
            ],
            assets_without_ci: &["a"],
            cis_without_asset: &["b", "c"],
            resources: &[("a", true, false), ("b", false, true), ("c", false, true)],
        },
    ];
    for case in cases {
        let estate = estate_from(case.ops);
        assert_eq!(
            assets_without_ci(&estate),
            case.assets_without_ci,
            "{:?}",
            case.ops
        );
        assert_eq!(
            cis_without_asset(&estate),
            case.cis_without_asset,
            "{:?}",
            case.ops
        );
        assert_eq!(resources(&estate), case.resources, "{:?}", case.ops);
    }
}

/// The ids the model test draws from: few, so that collisions are frequent.
const IDS: [&str; 8] = ["r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7"];

fn op() -> impl Strategy<Value = Op> {
    (0..4_u8, proptest::sample::select(&IDS[..])).prop_map(|(kind, text)| match kind {
        0 => InsertAsset(text),
        1 => InsertCi(text),
        2 => RemoveAsset(text),
        _ => RemoveCi(text),
    })
}

/// What the estate should hold: the ids of each register, in order.
#[derive(Debug, Default)]
struct Model {
    assets: Vec<&'static str>,
    cis: Vec<&'static str>,
}

impl Model {
    /// Applies `op` and returns the result the estate must give.
    fn apply(&mut self, op: Op) -> Result<(), Error> {
        match op {
            InsertAsset(text) if self.assets.contains(&text) => {
                Err(Error::DuplicateAsset(id(text)))
            }
            InsertAsset(text) => {
                self.assets.push(text);
                Ok(())
            }
            InsertCi(text) if self.cis.contains(&text) => Err(Error::DuplicateCi(id(text))),
            InsertCi(text) => {
                self.cis.push(text);
                Ok(())
            }
            RemoveAsset(text) => match self.assets.iter().position(|&a| a == text) {
                Some(index) => {
                    self.assets.remove(index);
                    Ok(())
                }
                None => Err(Error::UnknownAsset(id(text))),
            },
            RemoveCi(text) => match self.cis.iter().position(|&c| c == text) {
                Some(index) => {
                    self.cis.remove(index);
                    Ok(())
                }
                None => Err(Error::UnknownCi(id(text))),
            },
        }
    }

    fn assets_without_ci(&self) -> Vec<&'static str> {
        self.assets
            .iter()
            .copied()
            .filter(|a| !self.cis.contains(a))
            .collect()
    }

    fn cis_without_asset(&self) -> Vec<&'static str> {
        self.cis
            .iter()
            .copied()
            .filter(|c| !self.assets.contains(c))
            .collect()
    }

    fn resources(&self) -> Vec<(&'static str, bool, bool)> {
        let with_assets = self
            .assets
            .iter()
            .map(|&a| (a, true, self.cis.contains(&a)));
        let ci_only = self
            .cis_without_asset()
            .into_iter()
            .map(|c| (c, false, true));
        with_assets.chain(ci_only).collect()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn estate_behaves_like_two_ordered_lists(ops in proptest::collection::vec(op(), 0..64)) {
        let mut estate = Estate::new();
        let mut model = Model::default();
        for (step, op) in ops.into_iter().enumerate() {
            let before = estate.clone();
            let expected = model.apply(op);
            let actual = op.apply(&mut estate);
            prop_assert_eq!(&actual, &expected, "step {} {:?}", step, op);
            if actual.is_err() {
                prop_assert_eq!(&estate, &before, "failed step {} {:?} changed the estate", step, op);
            }
            prop_assert_eq!(asset_ids(&estate), model.assets.clone(), "step {}", step);
            prop_assert_eq!(ci_ids(&estate), model.cis.clone(), "step {}", step);
            prop_assert_eq!(estate.assets().len(), model.assets.len());
            prop_assert_eq!(estate.cmdb().len(), model.cis.len());
            prop_assert_eq!(assets_without_ci(&estate), model.assets_without_ci(), "step {}", step);
            prop_assert_eq!(cis_without_asset(&estate), model.cis_without_asset(), "step {}", step);
            prop_assert_eq!(resources(&estate), model.resources(), "step {}", step);
            for text in IDS {
                let in_assets = model.assets.contains(&text);
                let in_cis = model.cis.contains(&text);
                prop_assert_eq!(estate.asset(text).is_some(), in_assets);
                prop_assert_eq!(estate.ci(text).is_some(), in_cis);
                let resource = estate.resource(text);
                prop_assert_eq!(resource.is_some(), in_assets || in_cis);
                if let Some(resource) = resource {
                    prop_assert_eq!(resource.id().as_str(), text);
                    prop_assert_eq!(resource.asset().is_some(), in_assets);
                    prop_assert_eq!(resource.ci().is_some(), in_cis);
                }
            }
        }
    }
}

/// The ids of the long sequences: enough that registers grow, few enough
/// that removals often hit.
const MANY: [&str; 48] = [
    "m00", "m01", "m02", "m03", "m04", "m05", "m06", "m07", "m08", "m09", "m10", "m11", "m12",
    "m13", "m14", "m15", "m16", "m17", "m18", "m19", "m20", "m21", "m22", "m23", "m24", "m25",
    "m26", "m27", "m28", "m29", "m30", "m31", "m32", "m33", "m34", "m35", "m36", "m37", "m38",
    "m39", "m40", "m41", "m42", "m43", "m44", "m45", "m46", "m47",
];

/// Runs of inserts then runs of removals, so that registers grow, then
/// lose most of their records (oldest first, newest first or scattered)
/// and grow again: every compaction path of the register is taken.
fn long_ops() -> impl Strategy<Value = Vec<Op>> {
    let run = (
        0..4_u8,
        proptest::collection::vec(proptest::sample::select(&MANY[..]), 1..40),
    )
        .prop_map(|(kind, ids)| {
            ids.into_iter()
                .map(|text| match kind {
                    0 => InsertAsset(text),
                    1 => InsertCi(text),
                    2 => RemoveAsset(text),
                    _ => RemoveCi(text),
                })
                .collect::<Vec<_>>()
        });
    proptest::collection::vec(run, 1..24).prop_map(|runs| runs.concat())
}

/// An estate holding the model's records in the model's order, built
/// without a single removal.
fn rebuilt(model: &Model) -> Estate {
    let mut estate = Estate::new();
    for &text in &model.assets {
        estate.insert_asset(asset(text)).unwrap();
    }
    for &text in &model.cis {
        estate.insert_ci(ci(text)).unwrap();
    }
    estate
}

/// Asserts that `estate` holds exactly the model's records in the model's
/// order: lookups, both iteration directions, lengths, equality with and
/// the snapshot of the same records inserted without removals.
fn check_against(estate: &Estate, model: &Model, step: usize) -> Result<(), TestCaseError> {
    prop_assert_eq!(asset_ids(estate), model.assets.clone(), "step {}", step);
    prop_assert_eq!(ci_ids(estate), model.cis.clone(), "step {}", step);
    let backwards: Vec<&str> = estate
        .assets()
        .iter()
        .rev()
        .map(|a| a.id().as_str())
        .collect();
    prop_assert!(
        backwards.iter().eq(model.assets.iter().rev()),
        "step {}",
        step
    );
    let backwards: Vec<&str> = estate
        .cmdb()
        .iter()
        .rev()
        .map(|c| c.id().as_str())
        .collect();
    prop_assert!(backwards.iter().eq(model.cis.iter().rev()), "step {}", step);
    prop_assert_eq!(estate.assets().iter().len(), model.assets.len());
    prop_assert_eq!(estate.cmdb().iter().len(), model.cis.len());
    // From both ends at once: the iterator meets itself exactly once.
    let mut both = estate.assets().iter();
    let (mut front, mut back) = (Vec::new(), Vec::new());
    while let Some(a) = both.next() {
        front.push(a.id().as_str());
        prop_assert_eq!(both.len(), model.assets.len() - front.len() - back.len());
        if let Some(b) = both.next_back() {
            back.push(b.id().as_str());
        }
    }
    prop_assert_eq!(both.next_back(), None);
    back.reverse();
    front.extend(back);
    prop_assert_eq!(front, model.assets.clone(), "step {}", step);
    for text in MANY {
        prop_assert_eq!(estate.asset(text).is_some(), model.assets.contains(&text));
        prop_assert_eq!(estate.cmdb().contains(text), model.cis.contains(&text));
    }
    let fresh = rebuilt(model);
    // The registers equal those of the same records inserted without
    // removals (the estates differ by their removal log).
    prop_assert_eq!(
        (estate.assets(), estate.cmdb()),
        (fresh.assets(), fresh.cmdb()),
        "step {}: equal to the same records without removals",
        step
    );
    if model.assets.len() >= 2 {
        let mut swapped = Model {
            assets: model.assets.clone(),
            cis: model.cis.clone(),
        };
        swapped.assets.swap(0, 1);
        prop_assert_ne!(
            estate,
            &rebuilt(&swapped),
            "step {}: order is part of equality",
            step
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Long interleaved sequences with many removals behave like two
    /// ordered lists; the registers' snapshot is the one the same records
    /// inserted without removals give, byte for byte (the estate's adds the
    /// removal log), and reads back equal.
    #[test]
    fn long_sequences_with_many_removals_behave_like_two_lists(ops in long_ops()) {
        let mut estate = Estate::new();
        let mut model = Model::default();
        for (step, op) in ops.iter().copied().enumerate() {
            let expected = model.apply(op);
            let actual = op.apply(&mut estate);
            prop_assert_eq!(&actual, &expected, "step {} {:?}", step, op);
            if step % 8 == 0 {
                check_against(&estate, &model, step)?;
            }
        }
        check_against(&estate, &model, ops.len())?;
        let json = serde_json::to_string(&estate).unwrap();
        let fresh = rebuilt(&model);
        prop_assert_eq!(
            (
                serde_json::to_string(estate.assets()).unwrap(),
                serde_json::to_string(estate.cmdb()).unwrap()
            ),
            (
                serde_json::to_string(fresh.assets()).unwrap(),
                serde_json::to_string(fresh.cmdb()).unwrap()
            )
        );
        let back: Estate = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(&back, &estate);
        prop_assert_eq!(asset_ids(&back), model.assets.clone());
        prop_assert_eq!(ci_ids(&back), model.cis.clone());
        // A clone is equal and iterates alike; then drain oldest first, the
        // order that was quadratic, checking as the registers empty.
        let mut drained = estate.clone();
        prop_assert_eq!(&drained, &estate);
        let mut step = ops.len();
        while let Some(&text) = model.assets.first() {
            step += 1;
            RemoveAsset(text).apply(&mut drained).unwrap();
            model.apply(RemoveAsset(text)).unwrap();
            if let Some(&text) = model.cis.first() {
                RemoveCi(text).apply(&mut drained).unwrap();
                model.apply(RemoveCi(text)).unwrap();
            }
            check_against(&drained, &model, step)?;
        }
        prop_assert_eq!(drained.assets().len(), 0);
    }
}

#[test]
fn removing_most_records_oldest_first_keeps_order_and_equality() {
    // Deterministic version of the pathological pattern of issue 11: grow,
    // remove all but a few oldest first, grow again, remove newest first.
    let ids: Vec<String> = (0..200).map(|n| format!("x{n:03}")).collect();
    let mut estate = Estate::new();
    for text in &ids {
        estate.insert_asset(asset(text)).unwrap();
    }
    for text in &ids[..190] {
        estate.remove_asset(&id(text)).unwrap();
    }
    for text in &ids[..100] {
        estate.insert_asset(asset(text)).unwrap();
    }
    for text in ids[50..100].iter().rev() {
        estate.remove_asset(&id(text)).unwrap();
    }
    let expected: Vec<&str> = ids[190..]
        .iter()
        .chain(&ids[..50])
        .map(String::as_str)
        .collect();
    assert_eq!(asset_ids(&estate), expected);
    let mut fresh = Estate::new();
    for &text in &expected {
        fresh.insert_asset(asset(text)).unwrap();
    }
    // The registers are those of the same records inserted without
    // removals; the estates differ only by their removal log.
    assert_eq!(estate.assets(), fresh.assets());
    assert_eq!(
        serde_json::to_string(estate.assets()).unwrap(),
        serde_json::to_string(fresh.assets()).unwrap()
    );
    assert_eq!(estate.removals().len(), 240);
    for &text in &expected {
        assert_eq!(estate.asset(text), Some(&asset(text)));
    }
}
