//! [`Text`]: the immutable, shared string that records hold and claims carry.

use std::borrow::{Borrow, Cow};
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Free text held by a record or carried by a claim: a name, an owner, a
/// cost center, a location, a text attribute.
///
/// Immutable and shared: cloning a `Text` never copies the string, so a
/// value can sit in a record, a claim, a decision and the change journal at
/// once for the price of one. It reads as a `&str` (through `Deref`,
/// [`as_str`](Self::as_str), `AsRef<str>` and `Borrow<str>`), compares with
/// `str` and `String`, and is made from either.
///
/// `Text` itself accepts any string; the record that holds it checks its
/// own rules (a [`label`](crate::AssetBuilder::build) for names and owners).
///
/// # Example
///
/// ```
/// use itam_cmdb::Text;
///
/// let owner = Text::from("team-payments");
/// let copy = owner.clone(); // shares the string
/// assert_eq!(copy, "team-payments");
/// assert_eq!(owner.len(), 13);
/// assert_eq!(String::from(copy), "team-payments");
/// ```
///
/// # Serde
///
/// A plain string.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text(Arc<str>);

impl Text {
    /// The text as a string slice.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Text {
    /// The empty text.
    fn default() -> Self {
        Self(Arc::from(""))
    }
}

impl Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Self {
        Self(Arc::from(text))
    }
}

impl From<&String> for Text {
    fn from(text: &String) -> Self {
        Self(Arc::from(text.as_str()))
    }
}

impl From<String> for Text {
    fn from(text: String) -> Self {
        Self(Arc::from(text))
    }
}

impl From<Box<str>> for Text {
    fn from(text: Box<str>) -> Self {
        Self(Arc::from(text))
    }
}

impl From<Cow<'_, str>> for Text {
    fn from(text: Cow<'_, str>) -> Self {
        Self(Arc::from(text))
    }
}

impl From<Arc<str>> for Text {
    fn from(text: Arc<str>) -> Self {
        Self(text)
    }
}

impl From<&Text> for Text {
    fn from(text: &Text) -> Self {
        text.clone()
    }
}

impl From<Text> for String {
    fn from(text: Text) -> Self {
        text.0.as_ref().to_owned()
    }
}

impl From<Text> for Arc<str> {
    fn from(text: Text) -> Self {
        text.0
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<Text> for str {
    fn eq(&self, other: &Text) -> bool {
        *self == *other.0
    }
}

impl PartialEq<Text> for &str {
    fn eq(&self, other: &Text) -> bool {
        **self == *other.0
    }
}

impl PartialEq<Text> for String {
    fn eq(&self, other: &Text) -> bool {
        **self == *other.0
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        <Cow<'de, str>>::deserialize(deserializer).map(Self::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_string() {
        let text = Text::from(String::from("team-payments"));
        let copy = text.clone();
        assert!(std::ptr::eq(text.as_str(), copy.as_str()));
    }

    #[test]
    fn compares_and_orders_as_its_string() {
        let a = Text::from("alpha");
        assert_eq!(a, "alpha");
        assert_eq!("alpha", a);
        assert_eq!(a, String::from("alpha"));
        let (alpha, beta) = (Text::from("alpha"), Text::from("beta"));
        assert!(alpha < beta);
        assert_eq!(format!("{a:>7}|{a:?}"), "  alpha|\"alpha\"");
        assert_eq!(Text::default(), "");
    }

    #[test]
    fn serialises_as_a_plain_string() {
        let text = Text::from("Ubuntu 26.04");
        let json = serde_json::to_string(&text).unwrap();
        assert_eq!(json, "\"Ubuntu 26.04\"");
        assert_eq!(serde_json::from_str::<Text>(&json).unwrap(), text);
        // Escaped input cannot be borrowed; it is read all the same.
        assert_eq!(serde_json::from_str::<Text>("\"a\\\"b\"").unwrap(), "a\"b");
    }
}
