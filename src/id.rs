//! [`ResourceId`]: the one key shared by the asset register and the CMDB.

use std::borrow::Borrow;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, IdRule, excerpt};
use crate::text::first_forbidden;

/// The identifier of one resource: a cloud instance id, an ARN, a serial
/// number, a licence key.
///
/// An [`Asset`](crate::Asset) and a
/// [`ConfigurationItem`](crate::ConfigurationItem) with the same `ResourceId`
/// are two views of the same resource. Nothing else joins them.
///
/// # Rules
///
/// A resource id is validated when it is built and when it is deserialised:
///
/// * it is not empty;
/// * it is at most [`ResourceId::MAX_LEN`] (256) bytes of UTF-8;
/// * it contains no control character (`\n`, `\t`, NUL, ...);
/// * it contains no hidden character: no bidirectional control (U+202E),
///   no line or paragraph separator (U+2028), no invisible format
///   character (U+200B, U+FEFF); the list is on
///   [`Text`](crate::Text#hidden-characters);
/// * it neither starts nor ends with whitespace.
///
/// Anything else is accepted as is: ids are case-sensitive and are never
/// normalised, because `i-0ABC` and `i-0abc` may be different resources in
/// the source system.
///
/// # Cost
///
/// The text lives behind an `Arc<str>`, so cloning is a reference-count
/// increment: ids are copied freely into indexes, journals and reports.
/// Equality, ordering and hashing are those of the text.
///
/// # Serde
///
/// Serialised as a plain string; deserialising applies the rules above.
///
/// # Example
///
/// ```
/// use itam_cmdb::ResourceId;
///
/// let id: ResourceId = "arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc".parse()?;
/// assert_eq!(id.as_str(), "arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc");
///
/// assert!(ResourceId::new("").is_err());
/// assert!(ResourceId::new("i-0abc\n").is_err());
/// assert!(ResourceId::new("i-0abc\u{202e}").is_err());
/// # Ok::<(), itam_cmdb::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceId(Arc<str>);

impl ResourceId {
    /// The longest id accepted, in bytes.
    pub const MAX_LEN: usize = 256;

    /// Validates `id` and makes a resource id of it.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidResourceId`] naming the [`IdRule`] that `id` breaks.
    pub fn new(id: impl AsRef<str>) -> Result<Self, Error> {
        let id = id.as_ref();
        check(id).map_err(|rule| Error::InvalidResourceId {
            id: excerpt(id),
            rule,
        })?;
        Ok(Self(Arc::from(id)))
    }

    /// The id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn check(id: &str) -> Result<(), IdRule> {
    if id.is_empty() {
        return Err(IdRule::Empty);
    }
    if id.len() > ResourceId::MAX_LEN {
        return Err(IdRule::TooLong { len: id.len() });
    }
    if let Some((index, character)) = first_forbidden(id) {
        return Err(if character.is_control() {
            IdRule::ControlCharacter { index }
        } else {
            IdRule::HiddenCharacter { index, character }
        });
    }
    if id.starts_with(char::is_whitespace) || id.ends_with(char::is_whitespace) {
        return Err(IdRule::SurroundingWhitespace);
    }
    Ok(())
}

impl fmt::Debug for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResourceId({:?})", &*self.0)
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl FromStr for ResourceId {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<&str> for ResourceId {
    type Error = Error;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl TryFrom<String> for ResourceId {
    type Error = Error;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl AsRef<str> for ResourceId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for ResourceId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl Serialize for ResourceId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ResourceId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::new(&*text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: &str) -> IdRule {
        match ResourceId::new(id) {
            Err(Error::InvalidResourceId { rule, .. }) => rule,
            other => panic!("expected an invalid id, got {other:?}"),
        }
    }

    #[test]
    fn accepts_real_world_ids() {
        for id in [
            "i-0abc1234def567890",
            "arn:aws:rds:eu-west-2:123456789012:db:payments-primary",
            "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-pay-01",
            "SN-5CG1234XYZ",
            "lic/Oracle EE/2024-0042",
            "ünïcødé-☃",
        ] {
            let parsed = ResourceId::new(id).unwrap();
            assert_eq!(parsed.as_str(), id);
            assert_eq!(parsed.to_string(), id);
        }
    }

    #[test]
    fn each_rule_is_named() {
        assert_eq!(rule(""), IdRule::Empty);
        assert_eq!(rule(&"x".repeat(257)), IdRule::TooLong { len: 257 });
        assert_eq!(rule("a\tb"), IdRule::ControlCharacter { index: 1 });
        assert_eq!(rule("ab\u{7f}"), IdRule::ControlCharacter { index: 2 });
        assert_eq!(rule(" a"), IdRule::SurroundingWhitespace);
        assert_eq!(rule("a\u{a0}"), IdRule::SurroundingWhitespace);
        assert_eq!(
            rule("vm-1\u{202e}lanif"),
            IdRule::HiddenCharacter {
                index: 4,
                character: '\u{202e}'
            }
        );
    }

    #[test]
    fn hidden_characters_are_refused_and_named() {
        for (id, index, character) in [
            ("a\u{2028}b", 1, '\u{2028}'),
            ("a\u{2029}", 1, '\u{2029}'),
            ("\u{feff}vm", 0, '\u{feff}'),
            ("db\u{200b}-1", 2, '\u{200b}'),
            ("é\u{2066}x", 2, '\u{2066}'),
        ] {
            assert_eq!(
                rule(id),
                IdRule::HiddenCharacter { index, character },
                "{id:?}"
            );
        }
        let err = ResourceId::new("vm-1\u{202e}lanif").unwrap_err();
        // The message names the code point and escapes the character.
        assert_eq!(
            err.to_string(),
            r#"invalid resource id "vm-1\u{202e}lanif": hidden character U+202E at byte 4"#
        );
        // The first forbidden character is named, control or hidden.
        assert_eq!(
            rule("a\u{200d}\n"),
            IdRule::HiddenCharacter {
                index: 1,
                character: '\u{200d}'
            }
        );
        assert_eq!(rule("a\n\u{200d}"), IdRule::ControlCharacter { index: 1 });
    }

    #[test]
    fn length_limit_is_in_bytes_and_inclusive() {
        assert!(ResourceId::new("x".repeat(256)).is_ok());
        // 128 two-byte characters are 256 bytes; one more is over.
        assert!(ResourceId::new("é".repeat(128)).is_ok());
        assert_eq!(rule(&"é".repeat(129)), IdRule::TooLong { len: 258 });
    }

    #[test]
    fn inner_spaces_are_fine() {
        assert!(ResourceId::new("a b").is_ok());
    }

    #[test]
    fn serde_is_a_plain_string_and_validates() {
        let id = ResourceId::new("vm-1").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), r#""vm-1""#);
        let back: ResourceId = serde_json::from_str(r#""vm-1""#).unwrap();
        assert_eq!(back, id);
        let err = serde_json::from_str::<ResourceId>(r#"" vm-1""#).unwrap_err();
        assert!(
            err.to_string().contains("leading or trailing whitespace"),
            "{err}"
        );
    }

    #[test]
    fn orders_and_borrows_like_its_text() {
        let a = ResourceId::new("a").unwrap();
        let b = ResourceId::new("b").unwrap();
        assert!(a < b);
        let set: std::collections::HashSet<ResourceId> = [a.clone()].into();
        assert!(set.contains("a"));
        assert_eq!(format!("{a:?}"), r#"ResourceId("a")"#);
    }
}
