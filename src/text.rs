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
/// # Hidden characters
///
/// Some characters make text print other than it reads: a right-to-left
/// override (U+202E) shows `vm-1\u{202e}lanif` as `vm-1final`, a line
/// separator (U+2028) starts a fake line in a report, a zero-width space
/// makes `db-1` and `db\u{200b}-1` two ids that print alike. This is the
/// one place the crate's rule about them is written down.
///
/// **Refused** in every [`ResourceId`](crate::ResourceId) and every label
/// (names, owners, budget owners, cost centers, locations, regions,
/// attribute keys, custom names of kinds, classes, environments and
/// relationship kinds, source names, contract and licence labels), with an
/// error that names the character by its code point (`U+202E`):
///
/// * the bidirectional controls U+061C, U+200E, U+200F, U+202A to U+202E
///   and U+2066 to U+2069;
/// * the line and paragraph separators U+2028 and U+2029;
/// * every other default-ignorable code point (Unicode's
///   `Default_Ignorable_Code_Point`, the characters that print as nothing):
///   the soft hyphen U+00AD, the zero-width space, non-joiner and joiner
///   U+200B to U+200D, the word joiner and invisible operators U+2060 to
///   U+206F, the byte order mark U+FEFF, variation selectors (U+FE00 to
///   U+FE0F, U+E0100 to U+E01EF), tag characters (U+E0000 to U+E007F),
///   the Hangul fillers, the combining grapheme joiner U+034F, the
///   Mongolian variation selectors and vowel separator U+180B to U+180F,
///   the Khmer inherent vowels U+17B4 and U+17B5, the shorthand and musical
///   format controls, and the code points Unicode reserves as
///   default-ignorable for later use;
/// * the interlinear annotation controls U+FFF9 to U+FFFB, which hide text.
///
/// Ids and labels refuse control characters (`\p{Cc}`) too. Visible format
/// characters (the Arabic number signs U+0600 to U+0605, for instance) are
/// accepted. The price of the rule: a label cannot hold a zero-width joiner
/// (some emoji sequences, some Indic and Persian spellings) nor an emoji
/// variation selector; such text belongs in a text attribute.
///
/// **Free text** (a text [`AttributeValue`](crate::AttributeValue), or a
/// `Text` anywhere else) accepts every character, so that nothing a source
/// sends is lost. Where a report prints it, the characters above and the
/// control characters are escaped (`\u{202e}`): an
/// [`AttributeValue`](crate::AttributeValue) displays that way, and
/// [`Value`](crate::ownership::Value) quotes its text. `Text`'s own
/// `Display` writes the text as it is.
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

/// Whether `c` is a hidden character: one the rule in [`Text`]'s
/// documentation refuses in ids and labels (bidirectional controls, line
/// and paragraph separators, default-ignorable code points, interlinear
/// annotation controls). Never true of an ASCII character.
#[must_use]
pub(crate) fn is_hidden(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFFB}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// The first control or hidden character of `text` and its byte offset.
/// ASCII text (the usual) is only scanned for ASCII controls.
pub(crate) fn first_forbidden(text: &str) -> Option<(usize, char)> {
    if text.is_ascii() {
        return text
            .bytes()
            .position(|b| b.is_ascii_control())
            .map(|at| (at, char::from(text.as_bytes()[at])));
    }
    text.char_indices()
        .find(|&(_, c)| c.is_control() || is_hidden(c))
}

/// `c` as its code point: `U+202E`.
pub(crate) fn code_point(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

/// Writes `text` to `f`, padded, with control and hidden characters
/// escaped as `\u{202e}`; text without them is written as is.
pub(crate) fn write_escaped(text: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if first_forbidden(text).is_none() {
        return f.pad(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() || is_hidden(c) {
            escaped.extend(c.escape_unicode());
        } else {
            escaped.push(c);
        }
    }
    f.pad(&escaped)
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

    #[test]
    fn hidden_characters_are_the_documented_ones() {
        for c in [
            '\u{202A}',
            '\u{202E}',
            '\u{2066}',
            '\u{2069}',
            '\u{200E}',
            '\u{200F}',
            '\u{061C}',
            '\u{2028}',
            '\u{2029}',
            '\u{200B}',
            '\u{200C}',
            '\u{200D}',
            '\u{2060}',
            '\u{FEFF}',
            '\u{00AD}',
            '\u{FE0F}',
            '\u{E0041}',
            '\u{E0100}',
            '\u{3164}',
            '\u{FFF9}',
        ] {
            assert!(is_hidden(c), "{}", code_point(c));
        }
        for c in [
            'a', ' ', '\n', 'é', '\u{A0}', '\u{3000}', '\u{0600}', '☃', '\u{301}',
        ] {
            assert!(!is_hidden(c), "{}", code_point(c));
        }
        assert!((0..=0x7F_u8).all(|b| !is_hidden(char::from(b))));
        assert_eq!(code_point('\u{202E}'), "U+202E");
        assert_eq!(code_point('\u{E0041}'), "U+E0041");
        assert_eq!(code_point('\n'), "U+000A");
    }

    #[test]
    fn the_first_forbidden_character_is_found_with_its_offset() {
        assert_eq!(first_forbidden("payments vm"), None);
        assert_eq!(first_forbidden("Zürich DC — hall 2"), None);
        assert_eq!(first_forbidden("a\tb"), Some((1, '\t')));
        assert_eq!(first_forbidden("é\u{202E}x\n"), Some((2, '\u{202E}')));
        assert_eq!(first_forbidden("é\u{85}"), Some((2, '\u{85}')));
    }

    struct Escaped<'a>(&'a str);

    impl fmt::Display for Escaped<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write_escaped(self.0, f)
        }
    }

    #[test]
    fn escaping_shows_hidden_characters_and_keeps_the_rest() {
        assert_eq!(Escaped("Ubuntu 24.04").to_string(), "Ubuntu 24.04");
        assert_eq!(Escaped("Zürich").to_string(), "Zürich");
        assert_eq!(
            Escaped("vm-1\u{202E}lanif\nx").to_string(),
            "vm-1\\u{202e}lanif\\u{a}x"
        );
        assert_eq!(format!("{:>8}", Escaped("a\u{2028}")), "a\\u{2028}");
        assert_eq!(format!("{:>4}", Escaped("ab")), "  ab");
    }
}
