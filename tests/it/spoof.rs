//! Text that would print other than it is stored: bidirectional overrides,
//! line separators and invisible characters are refused in ids and every
//! label, through builders, the write path and snapshots; free text keeps
//! them and reports escape them; custom relationship kinds cannot borrow a
//! built-in kind's name.

use chrono::{TimeZone, Utc};
use itam_cmdb::finance::{Contract, Entitlement, LicenceMetric, LicenceQuantity};
use itam_cmdb::ownership::{AssetField, CiField, Claim, Field, Source, Value};
use itam_cmdb::{
    Asset, AttributeKey, AttributeValue, Batch, CiClass, ConfigurationItem, Environment, Error,
    Estate, IdRule, Propagation, Region, RelationKind, ResourceId,
};

use crate::util::{asset, ci, date, id};

/// `Default_Ignorable_Code_Point` as Unicode's `DerivedCoreProperties.txt`
/// lists it, plus the line and paragraph separators and the interlinear
/// annotation controls: the set the documentation on `Text` promises.
const HIDDEN: &[(u32, u32)] = &[
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x2028, 0x2029),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0xFFF9, 0xFFFB),
    (0x1_BCA0, 0x1_BCA3),
    (0x1_D173, 0x1_D17A),
    (0xE_0000, 0xE_0FFF),
];

fn documented_hidden(c: char) -> bool {
    let c = u32::from(c);
    HIDDEN.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

#[test]
fn every_character_is_refused_exactly_when_the_rule_says_so() {
    let mut refused = 0;
    for c in (0..=0x10_FFFF_u32).filter_map(char::from_u32) {
        let text = format!("a{c}b");
        let id = ResourceId::new(&text);
        let key = AttributeKey::new(&text);
        if c.is_control() {
            assert_eq!(
                id.unwrap_err(),
                Error::InvalidResourceId {
                    id: text.clone(),
                    rule: IdRule::ControlCharacter { index: 1 }
                }
            );
            assert!(matches!(key, Err(Error::InvalidLabel { .. })), "{c:?}");
        } else if documented_hidden(c) {
            refused += 1;
            assert_eq!(
                id.unwrap_err(),
                Error::InvalidResourceId {
                    id: text.clone(),
                    rule: IdRule::HiddenCharacter {
                        index: 1,
                        character: c
                    }
                },
            );
            assert_eq!(
                key.unwrap_err(),
                Error::HiddenCharacter {
                    what: "attribute key",
                    value: text.clone(),
                    character: c,
                    index: 1
                }
            );
        } else {
            assert!(id.is_ok(), "{c:?}: {id:?}");
            assert!(key.is_ok(), "{c:?}: {key:?}");
        }
    }
    let documented: u32 = HIDDEN.iter().map(|&(lo, hi)| hi - lo + 1).sum();
    assert_eq!(refused, documented);
}

#[test]
fn errors_name_the_code_point_and_never_print_the_character() {
    let err = ResourceId::new("invoice-\u{202e}fdp.exe").unwrap_err();
    let message = err.to_string();
    assert_eq!(
        message,
        r#"invalid resource id "invoice-\u{202e}fdp.exe": hidden character U+202E at byte 8"#
    );
    assert!(!message.contains('\u{202e}'));
    let err = Asset::builder(
        id("vm-1"),
        "payments\u{2028}VM",
        itam_cmdb::AssetKind::Hardware,
    )
    .build()
    .unwrap_err();
    let message = err.to_string();
    assert_eq!(
        message,
        r#"invalid name of `vm-1`: "payments\u{2028}VM" contains hidden character U+2028 at byte 8"#
    );
    assert!(!message.contains('\u{2028}'));
}

/// Every text a record, a claim or a finance record checks as a label, with
/// the spoofing characters of the issue.
#[test]
fn every_label_refuses_hidden_characters() {
    for spoof in [
        "team\u{202e}lanif",
        "team\u{2028}fake line",
        "db\u{200b}-1",
        "\u{feff}x",
    ] {
        let asset_builds = [
            Asset::builder(id("a"), spoof, itam_cmdb::AssetKind::Hardware).build(),
            asset("a").to_builder().owner(spoof).build(),
            asset("a").to_builder().budget_owner(spoof).build(),
            asset("a").to_builder().cost_center(spoof).build(),
            asset("a").to_builder().location(spoof).build(),
            asset("a").to_builder().attribute(spoof, 1).build(),
        ];
        for (n, built) in asset_builds.into_iter().enumerate() {
            let err = built.unwrap_err();
            assert!(
                matches!(err, Error::InvalidField { .. })
                    && err.to_string().contains("hidden character U+"),
                "asset #{n} with {spoof:?}: {err}"
            );
        }
        let ci_builds = [
            ConfigurationItem::builder(id("c"), spoof, CiClass::Server).build(),
            ci("c").to_builder().owner(spoof).build(),
            ci("c").to_builder().attribute(spoof, 1).build(),
        ];
        for (n, built) in ci_builds.into_iter().enumerate() {
            let err = built.unwrap_err();
            assert!(
                err.to_string().contains("hidden character U+"),
                "item #{n} with {spoof:?}: {err}"
            );
        }
        let labels = [
            Region::new(spoof).map(drop),
            AttributeKey::new(spoof).map(drop),
            itam_cmdb::AssetKind::custom(spoof).map(drop),
            spoof.parse::<itam_cmdb::AssetKind>().map(drop),
            CiClass::custom(spoof).map(drop),
            spoof.parse::<CiClass>().map(drop),
            Environment::custom(spoof).map(drop),
            RelationKind::custom(spoof, Propagation::Both).map(drop),
            Source::automated(spoof).map(drop),
            Source::person(spoof).map(drop),
        ];
        for (n, label) in labels.into_iter().enumerate() {
            assert!(
                matches!(label, Err(Error::HiddenCharacter { .. })),
                "label #{n} with {spoof:?}: {label:?}"
            );
        }
        let start = date(2025, 1, 1);
        let finance = [
            Contract::builder(id("k"), spoof, "vendor", start, 12)
                .build()
                .map(drop),
            Contract::builder(id("k"), "support", spoof, start, 12)
                .build()
                .map(drop),
            Contract::builder(id("k"), "support", "vendor", start, 12)
                .owner(spoof)
                .build()
                .map(drop),
            Entitlement::builder(
                id("e"),
                spoof,
                LicenceMetric::PerDevice,
                LicenceQuantity::Limited(1),
                start,
            )
            .build()
            .map(drop),
        ];
        for (n, built) in finance.into_iter().enumerate() {
            let err = built.unwrap_err();
            assert!(
                err.to_string().contains("hidden character U+"),
                "finance #{n} with {spoof:?}: {err}"
            );
        }
    }
}

fn at() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap()
}

#[test]
fn the_write_path_refuses_a_claimed_label_with_a_hidden_character() {
    let mut estate = Estate::new();
    estate.insert_asset(asset("vm-1")).unwrap();
    estate.insert_ci(ci("vm-1")).unwrap();
    let before = estate.clone();
    let source = Source::automated("discovery").unwrap();
    for field in [
        Field::Asset(AssetField::Owner),
        Field::Asset(AssetField::Name),
        Field::Ci(CiField::Name),
        Field::Ci(CiField::Owner),
    ] {
        let mut batch = Batch::new();
        batch.claim(Claim::new(
            id("vm-1"),
            field.clone(),
            itam_cmdb::ownership::Update::Set(Value::text("team\u{202e}lanif")),
            source.clone(),
            at(),
        ));
        let err = estate.apply(batch).unwrap_err();
        assert!(
            err.to_string()
                .contains("hidden character U+202E at byte 4"),
            "{field}: {err}"
        );
        assert_eq!(estate, before);
    }
}

#[test]
fn free_text_keeps_hidden_characters_and_reports_escape_them() {
    let mut estate = Estate::new();
    estate.insert_ci(ci("vm-1")).unwrap();
    let key = AttributeKey::new("os").unwrap();
    let stored = "Ubuntu\u{202e}40.42\u{2028}patched: yes";
    let mut batch = Batch::new();
    batch.claim(Claim::set(
        id("vm-1"),
        CiField::Attribute(key.clone()),
        Value::Attribute(AttributeValue::from(stored)),
        Source::automated("discovery").unwrap(),
        at(),
    ));
    estate.apply(batch).unwrap();
    // Stored as sent.
    let item = estate.ci("vm-1").unwrap();
    assert_eq!(
        item.attributes()
            .get("os")
            .and_then(AttributeValue::as_text),
        Some(stored)
    );
    // Printed escaped, on one line.
    let why = estate
        .explain(&id("vm-1"), &Field::Ci(CiField::Attribute(key)))
        .unwrap()
        .to_string();
    assert!(
        why.contains(r"Ubuntu\u{202e}40.42\u{2028}patched: yes"),
        "{why}"
    );
    assert!(
        !why.contains('\u{202e}') && !why.contains('\u{2028}'),
        "{why}"
    );
}

/// A snapshot of one asset and one item, with `edit` applied to its text.
fn snapshot_with(edit: impl Fn(&str) -> String) -> Result<Estate, serde_json::Error> {
    let mut estate = Estate::new();
    estate
        .insert_asset(
            asset("vm-1")
                .to_builder()
                .owner("team-pay")
                .build()
                .unwrap(),
        )
        .unwrap();
    estate.insert_ci(ci("vm-1")).unwrap();
    estate.insert_ci(ci("db-1")).unwrap();
    estate
        .relate(
            &id("vm-1"),
            RelationKind::custom("feeds", Propagation::Both).unwrap(),
            &id("db-1"),
        )
        .unwrap();
    let json = serde_json::to_string(&estate).unwrap();
    let edited = edit(&json);
    assert_ne!(edited, json, "the edit must change the snapshot");
    serde_json::from_str(&edited)
}

#[test]
fn snapshots_cannot_smuggle_hidden_characters_or_reserved_kinds() {
    let cases: [(&str, &str, &str); 5] = [
        (
            r#""team-pay""#,
            r#""team\u202epay""#,
            "hidden character U+202E at byte 4",
        ),
        (
            r#""id":"db-1""#,
            r#""id":"db\u2028-1""#,
            "hidden character U+2028 at byte 2",
        ),
        (
            r#""db-1":"#,
            r#""db\u200b-1":"#,
            "hidden character U+200B at byte 2",
        ),
        (
            r#""name":"feeds""#,
            r#""name":"Depends_On""#,
            "reads as the built-in kind `depends on`",
        ),
        (
            r#""name":"feeds""#,
            r#""name":"used by""#,
            "reads as the built-in kind `depends on`",
        ),
    ];
    for (from, to, expected) in cases {
        let err = snapshot_with(|json| json.replacen(from, to, 1)).unwrap_err();
        assert!(err.to_string().contains(expected), "{to}: {err}");
    }
    assert!(snapshot_with(|json| json.replacen("team-pay", "team-ops", 1)).is_ok());
}

#[test]
fn relating_with_a_kind_named_like_a_built_in_one_is_refused() {
    for name in [
        "depends on",
        "Depends On",
        "depends_on",
        "DEPENDS-ON",
        "used by",
        "hosts",
        "runs",
        "contained by",
        "has member",
    ] {
        let err = RelationKind::custom(name, Propagation::SourceToTarget).unwrap_err();
        assert!(
            matches!(err, Error::ReservedKindName { .. }),
            "{name}: {err}"
        );
    }
}
