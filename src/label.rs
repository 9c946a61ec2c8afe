//! Validated text: labels, custom names, ordered attributes, and the
//! machinery shared by the enums that accept a site-specific variant.

use std::fmt;

use chrono::NaiveDate;
use indexmap::IndexMap;
use rust_decimal::Decimal;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, excerpt};
use crate::text::{code_point, first_forbidden};
use crate::{ResourceId, Text};

/// Checks the rules every label obeys: not empty, at most `max` bytes, no
/// control character, no hidden character (see
/// [`Text`](crate::Text#hidden-characters)), no leading or trailing
/// whitespace.
pub(crate) fn check_label(what: &'static str, text: &str, max: usize) -> Result<(), Error> {
    let reason = if text.is_empty() {
        Some("must not be empty")
    } else if text.len() > max {
        Some("too long")
    } else {
        match first_forbidden(text) {
            Some((_, c)) if c.is_control() => Some("must not contain control characters"),
            Some((index, character)) => {
                return Err(Error::HiddenCharacter {
                    what,
                    value: excerpt(text),
                    character,
                    index,
                });
            }
            None if text.starts_with(char::is_whitespace)
                || text.ends_with(char::is_whitespace) =>
            {
                Some("must not start or end with whitespace")
            }
            None => None,
        }
    };
    match reason {
        None => Ok(()),
        Some(reason) => Err(Error::InvalidLabel {
            what,
            value: excerpt(text),
            reason,
        }),
    }
}

/// Checks that `text`, the value of `field` of record `id`, is a label of
/// at most `max` bytes; the error names the record and the field.
pub(crate) fn check_field_label(
    id: &ResourceId,
    field: &str,
    text: &str,
    max: usize,
) -> Result<(), Error> {
    check_label("label", text, max).map_err(|e| Error::invalid_field(id, field, label_reason(&e)))
}

/// The human part of a label error, to embed it in an [`Error::InvalidField`].
pub(crate) fn label_reason(error: &Error) -> String {
    match error {
        Error::InvalidLabel { value, reason, .. } => format!("{value:?} {reason}"),
        Error::HiddenCharacter {
            value,
            character,
            index,
            ..
        } => format!(
            "{value:?} contains hidden character {} at byte {index}",
            code_point(*character)
        ),
        other => other.to_string(),
    }
}

/// The longest name, owner or location accepted, in bytes.
pub(crate) const MAX_TEXT: usize = 1024;
/// The longest attribute key, region or custom name accepted, in bytes.
pub(crate) const MAX_KEY: usize = 128;

/// Normalises a built-in name for lenient matching: ASCII lowercase, with
/// `_` and spaces read as `-`.
pub(crate) fn normalise(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '_' | ' ' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// Declares an enum of built-in names plus a `Custom` variant holding a
/// site-specific name. It serialises as its kebab-case name; parsing matches
/// built-in names leniently (any ASCII case, `_` or space for `-`) and keeps
/// anything else as a custom name. A custom name that reads as a built-in one
/// is refused, so every value round-trips.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A site-specific name that is none of the built-in ones; build
            /// it with the `custom` constructor or by parsing.
            Custom($crate::label::CustomName),
        }

        impl $name {
            /// Every built-in variant, in declaration order.
            pub const BUILT_IN: &'static [$name] = &[$($name::$variant),*];

            /// A site-specific variant.
            ///
            /// # Errors
            ///
            /// [`Error::InvalidLabel`](crate::Error::InvalidLabel) if `name` is
            /// not a valid label or reads as a built-in name;
            /// [`Error::HiddenCharacter`](crate::Error::HiddenCharacter) if it
            /// holds a hidden character.
            pub fn custom(name: &str) -> Result<Self, $crate::Error> {
                if Self::built_in(name).is_some() {
                    return Err($crate::Error::InvalidLabel {
                        what: $what,
                        value: $crate::error::excerpt(name),
                        reason: "is a built-in name, not a custom one",
                    });
                }
                Ok(Self::Custom($crate::label::CustomName::new($what, name)?))
            }

            /// The canonical name: kebab-case for built-in variants, the
            /// name as given for custom ones.
            #[must_use]
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $text, )*
                    Self::Custom(name) => name.as_str(),
                }
            }

            fn built_in(name: &str) -> Option<Self> {
                let name = $crate::label::normalise(name);
                match name.as_str() {
                    $( $text => Some(Self::$variant), )*
                    _ => None,
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::Error;

            /// Reads a built-in name (leniently) or else a custom one.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match Self::built_in(s) {
                    Some(known) => Ok(known),
                    None => Ok(Self::Custom($crate::label::CustomName::new($what, s)?)),
                }
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <::std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                text.parse().map_err(::serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use named_enum;

/// A validated site-specific name, held by the `Custom` variant of
/// [`AssetKind`](crate::AssetKind), [`CiClass`](crate::CiClass) and
/// [`Environment`](crate::Environment).
///
/// At most 128 bytes, not empty, no control characters, no
/// [hidden characters](crate::Text#hidden-characters), no leading or
/// trailing whitespace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CustomName(Box<str>);

impl CustomName {
    pub(crate) fn new(what: &'static str, name: &str) -> Result<Self, Error> {
        check_label(what, name, MAX_KEY)?;
        Ok(Self(name.into()))
    }

    /// The name as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Serialize for CustomName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl fmt::Display for CustomName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

/// The key of a custom attribute on an asset or a configuration item
/// (`"os"`, `"cores"`, `"sku"`).
///
/// At most 128 bytes, not empty, no control characters, no
/// [hidden characters](crate::Text#hidden-characters), no leading or
/// trailing whitespace. Keys are case-sensitive. Cheap to clone (shared).
///
/// # Example
///
/// ```
/// use itam_cmdb::AttributeKey;
///
/// let key = AttributeKey::new("os")?;
/// assert_eq!(key.as_str(), "os");
/// assert!(AttributeKey::new("").is_err());
/// # Ok::<(), itam_cmdb::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AttributeKey(std::sync::Arc<str>);

impl AttributeKey {
    /// Validates `key`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidLabel`] if `key` breaks a rule;
    /// [`Error::HiddenCharacter`] if it holds a hidden character.
    pub fn new(key: &str) -> Result<Self, Error> {
        check_label("attribute key", key, MAX_KEY)?;
        Ok(Self(key.into()))
    }

    /// The key as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for AttributeKey {
    type Err = Error;

    fn from_str(key: &str) -> Result<Self, Error> {
        Self::new(key)
    }
}

impl fmt::Display for AttributeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl std::borrow::Borrow<str> for AttributeKey {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl Serialize for AttributeKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for AttributeKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::new(&text).map_err(serde::de::Error::custom)
    }
}

/// The typed value of a custom attribute.
///
/// A text value is free text: it may hold any character. `Display` writes
/// it with control and [hidden characters](crate::Text#hidden-characters)
/// escaped (`\u{202e}`), so a report prints what is stored.
///
/// Serialised externally tagged, so the type survives a round trip:
/// `{"text": "Ubuntu 24.04"}`, `{"integer": 16}`, `{"decimal": "2.5"}`,
/// `{"flag": true}`, `{"date": "2027-03-31"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AttributeValue {
    /// Free text.
    Text(Text),
    /// A whole number, such as a core count.
    Integer(i64),
    /// An exact decimal number, such as a size in TiB.
    Decimal(Decimal),
    /// A yes/no flag.
    Flag(bool),
    /// A calendar date.
    Date(NaiveDate),
}

impl AttributeValue {
    /// The text, if this is a [`Text`](Self::Text) value.
    #[must_use]
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The number, if this is an [`Integer`](Self::Integer) value.
    #[must_use]
    pub fn as_integer(&self) -> Option<i64> {
        match self {
            Self::Integer(n) => Some(*n),
            _ => None,
        }
    }

    /// The name of the value's type: `"text"`, `"integer"`, `"decimal"`,
    /// `"flag"` or `"date"`.
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Text(_) => "text",
            Self::Integer(_) => "integer",
            Self::Decimal(_) => "decimal",
            Self::Flag(_) => "flag",
            Self::Date(_) => "date",
        }
    }
}

impl fmt::Display for AttributeValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text(text) => crate::text::write_escaped(text, f),
            Self::Integer(n) => write!(f, "{n}"),
            Self::Decimal(d) => write!(f, "{d}"),
            Self::Flag(b) => write!(f, "{b}"),
            Self::Date(d) => write!(f, "{d}"),
        }
    }
}

impl From<&str> for AttributeValue {
    fn from(value: &str) -> Self {
        Self::Text(Text::from(value))
    }
}

impl From<String> for AttributeValue {
    fn from(value: String) -> Self {
        Self::Text(Text::from(value))
    }
}

impl From<Text> for AttributeValue {
    fn from(value: Text) -> Self {
        Self::Text(value)
    }
}

impl From<i64> for AttributeValue {
    fn from(value: i64) -> Self {
        Self::Integer(value)
    }
}

impl From<Decimal> for AttributeValue {
    fn from(value: Decimal) -> Self {
        Self::Decimal(value)
    }
}

impl From<bool> for AttributeValue {
    fn from(value: bool) -> Self {
        Self::Flag(value)
    }
}

impl From<NaiveDate> for AttributeValue {
    fn from(value: NaiveDate) -> Self {
        Self::Date(value)
    }
}

/// Custom attributes, always in key order.
///
/// The order never depends on the order the attributes were set, cleared
/// and set again in: a record's attributes are a function of their values
/// alone, so two estates that received the same claims in different orders
/// hold equal records and print equal snapshots.
///
/// # Serde
///
/// A map from key to [`AttributeValue`], in key order. A snapshot may list
/// the keys in any order (they are sorted on load); one that repeats a key
/// is rejected.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attributes(
    /// Sorted by key, each key once: a record has a handful of attributes,
    /// and a sorted vector is one allocation to copy and a binary search to
    /// read, where a hash map is two allocations and a hash.
    Vec<(AttributeKey, AttributeValue)>,
);

impl Attributes {
    /// The value of `key`, if set.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&AttributeValue> {
        self.position(key).ok().map(|at| &self.0[at].1)
    }

    /// Whether no attribute is set.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The number of attributes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The attributes in key order.
    #[must_use]
    pub fn iter(&self) -> AttributeIter<'_> {
        AttributeIter(self.0.iter())
    }

    /// Where `key` is, or where it would go.
    fn position(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    pub(crate) fn set(
        &mut self,
        key: AttributeKey,
        value: AttributeValue,
    ) -> Option<AttributeValue> {
        match self.position(key.as_str()) {
            Ok(at) => Some(std::mem::replace(&mut self.0[at].1, value)),
            Err(at) => {
                self.0.insert(at, (key, value));
                None
            }
        }
    }

    /// Frees spare capacity: a built record keeps its attributes for life.
    pub(crate) fn shrink_to_fit(&mut self) {
        self.0.shrink_to_fit();
    }

    pub(crate) fn remove(&mut self, key: &str) -> Option<AttributeValue> {
        let at = self.position(key).ok()?;
        Some(self.0.remove(at).1)
    }
}

impl<'a> IntoIterator for &'a Attributes {
    type Item = (&'a AttributeKey, &'a AttributeValue);
    type IntoIter = AttributeIter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// The attributes of a record, in key order; made by [`Attributes::iter`].
#[derive(Debug, Clone)]
pub struct AttributeIter<'a>(std::slice::Iter<'a, (AttributeKey, AttributeValue)>);

impl<'a> Iterator for AttributeIter<'a> {
    type Item = (&'a AttributeKey, &'a AttributeValue);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (k, v))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl ExactSizeIterator for AttributeIter<'_> {}
impl DoubleEndedIterator for AttributeIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(k, v)| (k, v))
    }
}
impl std::iter::FusedIterator for AttributeIter<'_> {}

impl Serialize for Attributes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Attributes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map: IndexMap<AttributeKey, AttributeValue> =
            deserialize_unique_map(deserializer, "attribute", |_, _| Ok(()))?;
        let mut attributes: Vec<_> = map.into_iter().collect();
        attributes.sort_unstable_by(|(a, _), (b, _)| a.cmp(b));
        Ok(Self(attributes))
    }
}

/// A map that [`deserialize_unique_map`] fills: an `IndexMap`, or a
/// [`Register`](crate::register::Register) of records.
pub(crate) trait UniqueMap<K, V> {
    /// An empty map with room for `capacity` entries.
    fn with_capacity(capacity: usize) -> Self;
    /// Whether `key` is in the map.
    fn contains_key(&self, key: &K) -> bool;
    /// Adds an entry whose key is not in the map, last.
    fn insert(&mut self, key: K, value: V);
}

impl<K: std::hash::Hash + Eq, V, S: std::hash::BuildHasher + Default> UniqueMap<K, V>
    for IndexMap<K, V, S>
{
    fn with_capacity(capacity: usize) -> Self {
        IndexMap::with_capacity_and_hasher(capacity, S::default())
    }

    fn contains_key(&self, key: &K) -> bool {
        IndexMap::contains_key(self, key)
    }

    fn insert(&mut self, key: K, value: V) {
        IndexMap::insert(self, key, value);
    }
}

/// Deserialises a map into `M` (an `IndexMap` or a register), refusing a
/// repeated key (which a plain `IndexMap` would silently overwrite) and
/// running `check` on every entry.
pub(crate) fn deserialize_unique_map<'de, D, K, V, M>(
    deserializer: D,
    what: &'static str,
    check: fn(&K, &V) -> Result<(), Error>,
) -> Result<M, D::Error>
where
    D: Deserializer<'de>,
    K: Deserialize<'de> + fmt::Display,
    V: Deserialize<'de>,
    M: UniqueMap<K, V>,
{
    struct Unique<K, V, M> {
        what: &'static str,
        check: fn(&K, &V) -> Result<(), Error>,
        map: std::marker::PhantomData<M>,
    }

    impl<'de, K, V, M> Visitor<'de> for Unique<K, V, M>
    where
        K: Deserialize<'de> + fmt::Display,
        V: Deserialize<'de>,
        M: UniqueMap<K, V>,
    {
        type Value = M;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "a map of {} records", self.what)
        }

        fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
            let mut map = M::with_capacity(access.size_hint().unwrap_or(0).min(4096));
            while let Some((key, value)) = access.next_entry::<K, V>()? {
                (self.check)(&key, &value).map_err(serde::de::Error::custom)?;
                if map.contains_key(&key) {
                    return Err(serde::de::Error::custom(format_args!(
                        "duplicate {} `{key}` in snapshot",
                        self.what
                    )));
                }
                map.insert(key, value);
            }
            Ok(map)
        }
    }

    deserializer.deserialize_map(Unique {
        what,
        check,
        map: std::marker::PhantomData,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_the_rules() {
        assert!(check_label("name", "Payments VM", MAX_TEXT).is_ok());
        assert!(check_label("name", "Zürich DC — hall 2", MAX_TEXT).is_ok());
        // ASCII controls, and the C1 controls only non-ASCII text can hold.
        for bad in [
            "",
            " x",
            "x ",
            "a\nb",
            "a\u{7f}b",
            "Zürich\u{85}",
            "\u{9f}x",
        ] {
            assert!(check_label("name", bad, MAX_TEXT).is_err(), "{bad:?}");
        }
        let err = check_label("owner", &"x".repeat(2000), MAX_TEXT).unwrap_err();
        assert!(err.to_string().starts_with("invalid owner \"xxx"), "{err}");
    }

    #[test]
    fn labels_refuse_hidden_characters_naming_them() {
        let hidden = |text: &str| match check_label("owner", text, MAX_TEXT) {
            Err(Error::HiddenCharacter {
                what,
                value,
                character,
                index,
            }) => {
                assert_eq!((what, value.as_str()), ("owner", text));
                (character, index)
            }
            other => panic!("{text:?} gave {other:?}"),
        };
        assert_eq!(hidden("team\u{202e}lanif"), ('\u{202e}', 4));
        assert_eq!(hidden("a\u{2028}b"), ('\u{2028}', 1));
        assert_eq!(hidden("Zürich\u{200d}"), ('\u{200d}', 7));
        assert_eq!(hidden("\u{feff}x"), ('\u{feff}', 0));
        // A trailing separator is named as such, not as whitespace.
        assert_eq!(hidden("x\u{2029}"), ('\u{2029}', 1));
        let err = check_label("owner", "team\u{202e}lanif", MAX_TEXT).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"invalid owner "team\u{202e}lanif": hidden character U+202E at byte 4"#
        );
        // Inside a record's field, the reason still names the code point.
        let id = ResourceId::new("vm-1").unwrap();
        let err = check_field_label(&id, "owner", "a\u{200b}b", MAX_TEXT).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"invalid owner of `vm-1`: "a\u{200b}b" contains hidden character U+200B at byte 1"#
        );
        for key in ["os\u{200b}", "o\u{2066}s"] {
            assert!(matches!(
                AttributeKey::new(key),
                Err(Error::HiddenCharacter { .. })
            ));
        }
        assert!(matches!(
            CustomName::new("class", "vm\u{fe0f}"),
            Err(Error::HiddenCharacter { .. })
        ));
    }

    #[test]
    fn text_attribute_values_keep_every_character_and_print_escaped() {
        let value = AttributeValue::from("Ubuntu\u{202e}40.42\n");
        assert_eq!(value.as_text(), Some("Ubuntu\u{202e}40.42\n"));
        assert_eq!(value.to_string(), r"Ubuntu\u{202e}40.42\u{a}");
        assert_eq!(
            AttributeValue::from("Ubuntu 24.04").to_string(),
            "Ubuntu 24.04"
        );
        assert_eq!(format!("{:>4}", AttributeValue::from("ab")), "  ab");
    }

    #[test]
    fn attributes_stay_in_key_order_whatever_the_order_of_writes() {
        let key = |k: &str| AttributeKey::new(k).unwrap();
        let mut attrs = Attributes::default();
        attrs.set(key("os"), "linux".into());
        attrs.set(key("cores"), 8.into());
        assert_eq!(attrs.set(key("os"), "windows".into()), Some("linux".into()));
        let keys: Vec<_> = attrs.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["cores", "os"]);
        assert_eq!(attrs.get("os"), Some(&AttributeValue::from("windows")));
        // Cleared and set again: same place, equal sets.
        let before = attrs.clone();
        assert_eq!(attrs.remove("cores"), Some(8.into()));
        assert_eq!(attrs.len(), 1);
        attrs.set(key("cores"), 8.into());
        assert_eq!(attrs, before);
    }

    proptest::proptest! {
        /// Attributes behave as a sorted map under any sequence of writes
        /// and clears, and survive their snapshot.
        #[test]
        fn attributes_behave_as_a_sorted_map(
            ops in proptest::collection::vec(
                (proptest::sample::select(vec!["a", "b", "os", "cores", "z"]),
                 proptest::option::of(0_i64..5)),
                0..40,
            )
        ) {
            let mut attrs = Attributes::default();
            let mut model = std::collections::BTreeMap::new();
            for (key, value) in ops {
                let (got, want) = match value {
                    Some(n) => (
                        attrs.set(AttributeKey::new(key).unwrap(), n.into()),
                        model.insert(key, AttributeValue::from(n)),
                    ),
                    None => (attrs.remove(key), model.remove(key)),
                };
                proptest::prop_assert_eq!(got, want);
                let got: Vec<_> = attrs.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
                let want: Vec<_> = model.iter().map(|(k, v)| (*k, v.clone())).collect();
                proptest::prop_assert_eq!(got, want);
                proptest::prop_assert_eq!(attrs.get("os"), model.get("os"));
            }
            let json = serde_json::to_string(&attrs).unwrap();
            proptest::prop_assert_eq!(serde_json::from_str::<Attributes>(&json).unwrap(), attrs);
        }
    }

    #[test]
    fn attribute_serde_is_typed_and_refuses_duplicates() {
        let mut attrs = Attributes::default();
        attrs.set(AttributeKey::new("os").unwrap(), "linux".into());
        attrs.set(AttributeKey::new("cores").unwrap(), 8.into());
        attrs.set(
            AttributeKey::new("tib").unwrap(),
            Decimal::new(25, 1).into(),
        );
        let json = serde_json::to_string(&attrs).unwrap();
        assert_eq!(
            json,
            r#"{"cores":{"integer":8},"os":{"text":"linux"},"tib":{"decimal":"2.5"}}"#
        );
        assert_eq!(serde_json::from_str::<Attributes>(&json).unwrap(), attrs);
        let shuffled = r#"{"tib":{"decimal":"2.5"},"os":{"text":"linux"},"cores":{"integer":8}}"#;
        assert_eq!(serde_json::from_str::<Attributes>(shuffled).unwrap(), attrs);
        let dup = r#"{"os":{"text":"a"},"os":{"text":"b"}}"#;
        let err = serde_json::from_str::<Attributes>(dup).unwrap_err();
        assert!(
            err.to_string().contains("duplicate attribute `os`"),
            "{err}"
        );
        assert!(serde_json::from_str::<Attributes>(r#"{"":{"text":"a"}}"#).is_err());
    }
}
