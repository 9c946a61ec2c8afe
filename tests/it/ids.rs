//! `ResourceId` validation as a property: every string that obeys the
//! documented rules is accepted and round-trips; every string that breaks
//! exactly one rule is refused, naming that rule. Also the auto traits of the
//! public types.

use itam_cmdb::{
    Asset, AssetBuilder, AssetRegister, Cmdb, ConfigurationItem, ConfigurationItemBuilder,
    Currency, Error, Estate, IdRule, Money, Resource, ResourceId,
};
use proptest::prelude::*;

use crate::util::valid_text;

/// Any text the rules accept: short ids in any script, and long ASCII ids up
/// to the byte limit.
fn valid_id() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => valid_text(64).prop_filter("at most 256 bytes", |text| text.len() <= ResourceId::MAX_LEN),
        1 => valid_text(ResourceId::MAX_LEN)
            .prop_filter("at most 256 bytes", |text| text.len() <= ResourceId::MAX_LEN),
    ]
}

/// A single character: a control character (`\p{Cc}`).
fn control_char() -> impl Strategy<Value = String> {
    proptest::string::string_regex(r"\p{Cc}").expect("a valid regex")
}

/// A single character: whitespace that is neither a control character nor
/// a line or paragraph separator, so that adding it breaks only the
/// whitespace rule.
fn whitespace_char() -> impl Strategy<Value = String> {
    proptest::string::string_regex(r"[\s&&[^\p{Cc}\p{Zl}\p{Zp}]]").expect("a valid regex")
}

/// A single hidden character, as documented on `Text`: default ignorable,
/// a line or paragraph separator, or an interlinear annotation control.
fn hidden_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => proptest::sample::select(vec![
            '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}',
            '\u{2068}', '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}', '\u{2028}', '\u{2029}',
            '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}',
        ]),
        1 => proptest::string::string_regex(
            r"[\p{Default_Ignorable_Code_Point}\u{2028}\u{2029}\u{FFF9}-\u{FFFB}]"
        )
        .expect("a valid regex")
        .prop_map(|text| text.chars().next().expect("one character")),
    ]
}

/// Validates `text` both ways (constructor and deserialiser), requires both
/// to refuse it, and returns the rule the constructor names.
fn rule_broken_by(text: &str) -> Result<IdRule, TestCaseError> {
    let rule = match ResourceId::new(text) {
        Err(Error::InvalidResourceId { id, rule }) => {
            // The error quotes the input, cut to 64 characters.
            let quoted = id.strip_suffix("...").unwrap_or(&id);
            prop_assert!(
                text.starts_with(quoted),
                "{:?} does not quote {:?}",
                id,
                text
            );
            prop_assert!(
                id.chars().count() <= 64 + 3,
                "error quotes too much: {:?}",
                id
            );
            rule
        }
        other => return Err(TestCaseError::fail(format!("{text:?} gave {other:?}"))),
    };
    prop_assert!(text.parse::<ResourceId>().is_err());
    prop_assert!(ResourceId::try_from(text).is_err());
    let json = serde_json::to_string(text).unwrap();
    let err = serde_json::from_str::<ResourceId>(&json).unwrap_err();
    prop_assert!(
        err.to_string().contains(&rule.to_string()),
        "serde error {} does not name the rule {}",
        err,
        rule
    );
    Ok(rule)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn valid_ids_are_accepted_and_round_trip(text in valid_id()) {
        let id = ResourceId::new(&text).unwrap();
        prop_assert_eq!(id.as_str(), text.as_str());
        prop_assert_eq!(id.as_ref(), text.as_str());
        // Display and FromStr.
        prop_assert_eq!(id.to_string(), text.clone());
        prop_assert_eq!(id.to_string().parse::<ResourceId>().unwrap(), id.clone());
        prop_assert_eq!(ResourceId::try_from(text.clone()).unwrap(), id.clone());
        // Serde: a plain JSON string, read back to the same id.
        let json = serde_json::to_string(&id).unwrap();
        prop_assert_eq!(&json, &serde_json::to_string(&text).unwrap());
        prop_assert_eq!(serde_json::from_str::<ResourceId>(&json).unwrap(), id.clone());
        let value = serde_json::to_value(&id).unwrap();
        prop_assert_eq!(value.as_str(), Some(text.as_str()));
        prop_assert_eq!(serde_json::from_value::<ResourceId>(value).unwrap(), id);
    }

    #[test]
    fn too_long_ids_are_refused(text in valid_text(64), padding in 1..=400_usize) {
        // Padding inside keeps the ends intact; only the length is wrong.
        let pad = (ResourceId::MAX_LEN + padding).saturating_sub(text.len()).max(1);
        let long = format!("{text}{}", "y".repeat(pad));
        prop_assert!(long.len() > ResourceId::MAX_LEN);
        prop_assert_eq!(rule_broken_by(&long)?, IdRule::TooLong { len: long.len() });
    }

    #[test]
    fn ids_with_a_control_character_are_refused(
        prefix in valid_text(24),
        control in control_char(),
        suffix in valid_text(24),
    ) {
        let text = format!("{prefix}{control}{suffix}");
        prop_assert!(text.len() <= ResourceId::MAX_LEN);
        prop_assert_eq!(
            rule_broken_by(&text)?,
            IdRule::ControlCharacter { index: prefix.len() }
        );
    }

    #[test]
    fn the_first_control_character_is_named(
        prefix in valid_text(24),
        first in control_char(),
        middle in valid_text(8),
        second in control_char(),
    ) {
        // Two control characters, the second at the very end.
        let text = format!("{prefix}{first}{middle}{second}");
        prop_assert_eq!(
            rule_broken_by(&text)?,
            IdRule::ControlCharacter { index: prefix.len() }
        );
    }

    #[test]
    fn ids_with_a_hidden_character_are_refused(
        prefix in valid_text(24),
        hidden in hidden_char(),
        suffix in valid_text(24),
        place in 0..3_u8,
    ) {
        // Inside, first or last: a hidden character is named wherever it is,
        // even where it is also whitespace (U+2028 at the end).
        let (text, index) = match place {
            0 => (format!("{prefix}{hidden}{suffix}"), prefix.len()),
            1 => (format!("{hidden}{suffix}"), 0),
            _ => (format!("{prefix}{hidden}"), prefix.len()),
        };
        prop_assert_eq!(
            rule_broken_by(&text)?,
            IdRule::HiddenCharacter { index, character: hidden }
        );
    }

    #[test]
    fn the_first_control_or_hidden_character_is_named(
        prefix in valid_text(24),
        hidden in hidden_char(),
        middle in valid_text(8),
        control in control_char(),
        hidden_first in any::<bool>(),
    ) {
        let rule = if hidden_first {
            let text = format!("{prefix}{hidden}{middle}{control}");
            rule_broken_by(&text)?
        } else {
            let text = format!("{prefix}{control}{middle}{hidden}");
            rule_broken_by(&text)?
        };
        let expected = if hidden_first {
            IdRule::HiddenCharacter { index: prefix.len(), character: hidden }
        } else {
            IdRule::ControlCharacter { index: prefix.len() }
        };
        prop_assert_eq!(rule, expected);
    }

    #[test]
    fn ids_with_surrounding_whitespace_are_refused(
        text in valid_text(24),
        space in whitespace_char(),
        place in 0..3_u8,
    ) {
        let padded = match place {
            0 => format!("{space}{text}"),
            1 => format!("{text}{space}"),
            _ => format!("{space}{text}{space}"),
        };
        prop_assert!(padded.len() <= ResourceId::MAX_LEN);
        prop_assert_eq!(rule_broken_by(&padded)?, IdRule::SurroundingWhitespace);
    }
}

#[test]
fn edge_cases_of_each_rule() {
    let refused = [
        ("", IdRule::Empty),
        (" ", IdRule::SurroundingWhitespace),
        ("\u{3000}", IdRule::SurroundingWhitespace),
        // A line separator is whitespace too: the hidden character wins.
        (
            "a\u{2028}",
            IdRule::HiddenCharacter {
                index: 1,
                character: '\u{2028}',
            },
        ),
        (
            "a\u{200b}b",
            IdRule::HiddenCharacter {
                index: 1,
                character: '\u{200b}',
            },
        ),
        (
            "\u{feff}",
            IdRule::HiddenCharacter {
                index: 0,
                character: '\u{feff}',
            },
        ),
        (
            "invoice\u{202e}fdp.exe",
            IdRule::HiddenCharacter {
                index: 7,
                character: '\u{202e}',
            },
        ),
        ("\0", IdRule::ControlCharacter { index: 0 }),
        ("é\u{85}é", IdRule::ControlCharacter { index: 2 }),
        // A control character that is also whitespace: control wins.
        ("a\n", IdRule::ControlCharacter { index: 1 }),
    ];
    for (text, expected) in refused {
        assert_eq!(rule_broken_by(text).unwrap(), expected, "{text:?}");
    }
    let long_ascii = "x".repeat(ResourceId::MAX_LEN + 1);
    assert_eq!(
        rule_broken_by(&long_ascii).unwrap(),
        IdRule::TooLong { len: 257 }
    );
    // 85 three-byte characters are 255 bytes; one more character of any
    // width past 256 bytes is refused, and the length is in bytes.
    let snowmen = "☃".repeat(85);
    assert!(ResourceId::new(format!("{snowmen}x")).is_ok());
    assert_eq!(
        rule_broken_by(&format!("{snowmen}xy")).unwrap(),
        IdRule::TooLong { len: 257 }
    );
    assert_eq!(
        rule_broken_by(&format!("{snowmen}é")).unwrap(),
        IdRule::TooLong { len: 257 }
    );

    // Inner whitespace, visible format characters and combining marks are
    // fine.
    for accepted in ["a b", "a\u{a0}b", "i-0ABC", "\u{600}1", "cafe\u{301}"] {
        assert_eq!(ResourceId::new(accepted).unwrap().as_str(), accepted);
    }
}

#[test]
fn ids_compare_as_their_text_and_are_never_normalised() {
    let upper = ResourceId::new("i-0ABC").unwrap();
    let lower = ResourceId::new("i-0abc").unwrap();
    assert_ne!(upper, lower);
    assert!(upper < lower);
    assert_eq!(upper.clone(), upper);
    // NFC and NFD spellings of "é" are different ids.
    assert_ne!(
        ResourceId::new("caf\u{e9}").unwrap(),
        ResourceId::new("cafe\u{301}").unwrap()
    );
}

#[test]
fn public_types_are_send_sync_and_errors_are_std_errors() {
    fn send_sync<T: Send + Sync>() {}
    fn std_error<T: std::error::Error + Send + Sync + 'static>() {}

    send_sync::<ResourceId>();
    send_sync::<Money>();
    send_sync::<Currency>();
    send_sync::<Asset>();
    send_sync::<AssetBuilder>();
    send_sync::<ConfigurationItem>();
    send_sync::<ConfigurationItemBuilder>();
    send_sync::<Estate>();
    send_sync::<AssetRegister>();
    send_sync::<Cmdb>();
    send_sync::<Resource<'static>>();
    send_sync::<Error>();
    std_error::<Error>();
    std_error::<IdRule>();

    // An `Error` boxes into the usual dynamic error type and keeps its message.
    let boxed: Box<dyn std::error::Error + Send + Sync> = ResourceId::new("").unwrap_err().into();
    assert_eq!(
        boxed.to_string(),
        r#"invalid resource id "": must not be empty"#
    );
}
