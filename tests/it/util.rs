//! Shared helpers: terse constructors for valid values, and the strategy for
//! text that satisfies the label and resource id rules.

use chrono::NaiveDate;
use itam_cmdb::{Asset, AssetKind, CiClass, ConfigurationItem, Money, ResourceId};
use proptest::prelude::*;

/// A resource id that must be valid.
#[track_caller]
pub(crate) fn id(text: &str) -> ResourceId {
    ResourceId::new(text).expect("a valid resource id")
}

/// The smallest valid asset: hardware, named after its id.
#[track_caller]
pub(crate) fn asset(text: &str) -> Asset {
    Asset::builder(id(text), text, AssetKind::Hardware)
        .build()
        .expect("a minimal asset is valid")
}

/// The smallest valid configuration item: a server, named after its id.
#[track_caller]
pub(crate) fn ci(text: &str) -> ConfigurationItem {
    ConfigurationItem::builder(id(text), text, CiClass::Server)
        .build()
        .expect("a minimal configuration item is valid")
}

/// Money parsed from `"<amount> <code>"`.
#[track_caller]
pub(crate) fn money(text: &str) -> Money {
    text.parse().expect("valid money")
}

/// A calendar date that must exist.
#[track_caller]
pub(crate) fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("a valid date")
}

/// Text that satisfies the rules shared by resource ids and labels (not
/// empty, no control character, no hidden character, no leading or
/// trailing whitespace), of `1..=max_chars` characters: mostly printable
/// ASCII, sometimes any Unicode that is neither a control nor a format
/// character (`Cf`, which holds the bidirectional controls and the
/// zero-width characters), a line or paragraph separator, or default
/// ignorable. The byte length is not bounded here.
pub(crate) fn valid_text(max_chars: usize) -> impl Strategy<Value = String> {
    const HIDDEN: &str = r"\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}";
    assert!(max_chars >= 2, "room for the first and last character");
    let inner = max_chars - 2;
    let regex = |pattern: String| proptest::string::string_regex(&pattern).expect("a valid regex");
    prop_oneof![
        3 => regex(format!("[!-~]([ -~]{{0,{inner}}}[!-~])?")),
        1 => regex(format!(r"[^{HIDDEN}\s]([^{HIDDEN}]{{0,{inner}}}[^{HIDDEN}\s])?")),
    ]
    .prop_map(|text| {
        // The regexes above only produce valid text; a wrong regex must not
        // make every later property vacuous.
        assert!(
            !text.is_empty()
                && !text.chars().any(char::is_control)
                && !text.starts_with(char::is_whitespace)
                && !text.ends_with(char::is_whitespace),
            "generator produced invalid text {text:?}"
        );
        text
    })
}
