//! The crate's one error type.

use crate::money::Currency;
use crate::{Propagation, Relationship, ResourceId};

/// Everything that can go wrong in `itam-cmdb`.
///
/// One enum for the whole crate, so that callers compose operations with `?`
/// without conversions. Each variant carries the ids, fields or values
/// involved, and its message names them: lowercase, without trailing
/// punctuation (API Guidelines C-GOOD-ERR).
///
/// Disagreeing sources are *not* errors: ownership arbitration reports them as
/// data. An `Error` always means the input was rejected and nothing changed.
///
/// The enum is `#[non_exhaustive]`: later releases add variants as the crate
/// grows, so match with a wildcard arm.
///
/// # Example
///
/// ```
/// use itam_cmdb::{Error, ResourceId};
///
/// let err = ResourceId::new("  i-0abc").unwrap_err();
/// assert!(matches!(err, Error::InvalidResourceId { .. }));
/// assert_eq!(
///     err.to_string(),
///     r#"invalid resource id "  i-0abc": leading or trailing whitespace"#,
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A resource id broke one of the rules documented on [`ResourceId`].
    #[error("invalid resource id {id:?}: {rule}")]
    InvalidResourceId {
        /// The rejected text (shortened to its first 64 characters).
        id: String,
        /// The rule it broke.
        rule: IdRule,
    },
    /// A currency code is not an active ISO 4217 code.
    #[error("invalid currency code {code:?}: {reason}")]
    InvalidCurrency {
        /// The rejected text (shortened to its first 64 characters).
        code: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// An amount in one currency was combined with an amount in another.
    #[error("currency mismatch in {operation}: {left} and {right}")]
    CurrencyMismatch {
        /// The operation that was refused (`"add"`, `"subtract"`, ...).
        operation: &'static str,
        /// The currency of the left operand.
        left: Currency,
        /// The currency of the right operand.
        right: Currency,
    },
    /// An arithmetic result does not fit in a decimal amount.
    #[error("arithmetic overflow in {operation}")]
    Overflow {
        /// The operation that overflowed.
        operation: &'static str,
    },
    /// A text, such as an amount or a date, could not be parsed.
    #[error("cannot parse {what} from {input:?}: {reason}")]
    Parse {
        /// What was being parsed (`"money"`, `"ci class"`, ...).
        what: &'static str,
        /// The rejected text (shortened to its first 64 characters).
        input: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A field of a record was given a value its rules do not allow.
    #[error("invalid {field} of `{id}`: {reason}")]
    InvalidField {
        /// The resource whose record was being built or changed.
        id: ResourceId,
        /// The field, e.g. `purchase_cost` or `attribute "os"`.
        field: String,
        /// Why the value was rejected.
        reason: String,
    },
    /// A label (a name, an owner, a region, an attribute key, a custom class)
    /// is empty, too long or badly formed.
    #[error("invalid {what} {value:?}: {reason}")]
    InvalidLabel {
        /// What kind of label it is.
        what: &'static str,
        /// The rejected text (shortened to its first 64 characters).
        value: String,
        /// The rule it broke.
        reason: &'static str,
    },
    /// An asset with this id is already in the asset register.
    #[error("duplicate asset `{0}`")]
    DuplicateAsset(ResourceId),
    /// A region failure names a region no configuration item is recorded
    /// in (most likely a misspelt name: a failure of nothing would answer
    /// that nothing happens).
    #[error("no configuration item is recorded in region `{0}`")]
    UnknownRegion(crate::Region),
    /// A configuration item with this id is already in the CMDB.
    #[error("duplicate configuration item `{0}`")]
    DuplicateCi(ResourceId),
    /// No asset with this id is in the asset register.
    #[error("unknown asset `{0}`")]
    UnknownAsset(ResourceId),
    /// No configuration item with this id is in the CMDB.
    #[error("unknown configuration item `{0}`")]
    UnknownCi(ResourceId),
    /// A relationship from a configuration item to itself.
    #[error("configuration item `{0}` cannot be related to itself")]
    SelfRelationship(ResourceId),
    /// A snapshot lists the same relationship twice.
    #[error("duplicate relationship {0}")]
    DuplicateRelationship(Relationship),
    /// One custom relationship kind name was given two propagations.
    #[error("custom relationship kind {name:?} propagates {existing}, not {given}")]
    ConflictingKind {
        /// The kind's name.
        name: String,
        /// The propagation the estate already uses for it.
        existing: Propagation,
        /// The propagation now given.
        given: Propagation,
    },
    /// An estate can use at most 65,535 distinct relationship kinds.
    #[error("too many distinct relationship kinds; the limit is 65535")]
    TooManyKinds,
    /// A redundancy group's quorum cannot be met or is malformed.
    #[error("invalid quorum for group `{group}`: {reason}")]
    InvalidQuorum {
        /// The group.
        group: ResourceId,
        /// What is wrong.
        reason: String,
    },
    /// A snapshot stores a record under a key that is not the record's id.
    #[error("snapshot stores record `{id}` under key `{key}`")]
    KeyMismatch {
        /// The key the record was stored under.
        key: ResourceId,
        /// The id the record itself carries.
        id: ResourceId,
    },
    /// A snapshot was written by an incompatible version of the format.
    #[error("unsupported snapshot version {found}; this build reads version {supported}")]
    UnsupportedSnapshot {
        /// The version found in the snapshot.
        found: u32,
        /// The version this build reads and writes.
        supported: u32,
    },
    /// A snapshot's history does not hold together: its journal, conflict
    /// log or removal log is out of order, names a resource that never
    /// existed, or disagrees with the records and their claims.
    #[error("invalid snapshot {part}: {reason}")]
    InvalidSnapshot {
        /// The part of the snapshot, e.g. `journal entry 7`.
        part: String,
        /// What is wrong with it.
        reason: String,
    },
    // ---- field ownership, claims and the journal (issue 4) ----
    /// A claim carries a value of the wrong type for its field.
    #[error("wrong value type for {field} of `{id}`: expected {expected}, found {found}")]
    WrongValueType {
        /// The resource the claim is about.
        id: ResourceId,
        /// The field, as `asset.<name>` or `ci.<name>`.
        field: String,
        /// The type the field holds.
        expected: crate::ownership::ValueType,
        /// The type the claim carried.
        found: crate::ownership::ValueType,
    },
    /// A column agreement contradicts itself.
    #[error("contradictory column agreement for {scope}: {reason}")]
    PolicyConflict {
        /// The rule's scope: a field, a category or the default.
        scope: String,
        /// What contradicts what.
        reason: String,
    },
    /// A batch was refused; every problem found is listed, in batch order.
    #[error("batch refused, {} problem(s): {}", problems.len(), list(problems))]
    Batch {
        /// Each problem with the position of the change that caused it.
        problems: Vec<(usize, Error)>,
    },
    // ---- lifecycle and finance (issue 5) ----
    /// A window of days is empty or unusable: it ends before it starts, or
    /// it would list more occurrences than a report allows; see
    /// [`renewal_calendar`](crate::finance::renewal_calendar).
    #[error("invalid window {from}..={to}: {reason}")]
    InvalidWindow {
        /// The first day of the window, as `yyyy-mm-dd`.
        from: String,
        /// The last day of the window, as `yyyy-mm-dd`.
        to: String,
        /// What is wrong.
        reason: String,
    },
    /// Two contracts given together share an id.
    #[error("duplicate contract `{0}`")]
    DuplicateContract(ResourceId),
    /// Two licence entitlements given together share an id.
    #[error("duplicate entitlement `{0}`")]
    DuplicateEntitlement(ResourceId),
    /// Cost allocation weights cannot be used: a service's weight is
    /// negative, or the id weighted is not a service, or every service
    /// sharing a resource has weight zero; see
    /// [`cost_per_service`](crate::finance::cost_per_service).
    #[error("invalid cost weights for `{id}`: {reason}")]
    InvalidWeights {
        /// The service weighted, or the shared resource.
        id: ResourceId,
        /// What is wrong.
        reason: String,
    },
    /// A lifecycle change the transition table does not allow; see
    /// [`Lifecycle::check_transition`](crate::Lifecycle::check_transition).
    #[error("invalid lifecycle transition of `{id}` from {from} to {to}")]
    InvalidTransition {
        /// The asset whose state was to change.
        id: ResourceId,
        /// The state it is in.
        from: crate::Lifecycle,
        /// The state it was to move to.
        to: crate::Lifecycle,
    },
    // ---- text that prints as it is stored (issue 11) ----
    /// A label (a name, an owner, a region, an attribute key, a custom
    /// name) holds a hidden character: a bidirectional control, a line or
    /// paragraph separator or an invisible format character; see
    /// [`Text`](crate::Text#hidden-characters).
    #[error("invalid {what} {value:?}: hidden character {} at byte {index}", crate::text::code_point(*character))]
    HiddenCharacter {
        /// What kind of label it is.
        what: &'static str,
        /// The rejected text (shortened to its first 64 characters; the
        /// message escapes the hidden character).
        value: String,
        /// The first hidden character.
        character: char,
        /// Its byte offset in the label.
        index: usize,
    },
    /// A custom relationship kind's name reads as a built-in kind's name
    /// or as its inverse (`"Depends_On"`, `"used by"`), so a path using it
    /// would read as the built-in kind whatever its propagation.
    #[error("custom relationship kind {name:?} reads as the built-in kind `{built_in}`")]
    ReservedKindName {
        /// The refused name (shortened to its first 64 characters).
        name: String,
        /// The name of the built-in kind it reads as.
        built_in: &'static str,
    },
}

/// The rule a [`ResourceId`] broke; see [`Error::InvalidResourceId`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum IdRule {
    /// The id is the empty string.
    #[error("must not be empty")]
    Empty,
    /// The id is longer than [`ResourceId::MAX_LEN`] bytes.
    #[error("{len} bytes is longer than the limit of 256")]
    TooLong {
        /// The id's length in bytes.
        len: usize,
    },
    /// The id contains a control character (such as a newline or NUL).
    #[error("control character at byte {index}")]
    ControlCharacter {
        /// The byte offset of the first control character.
        index: usize,
    },
    /// The id starts or ends with whitespace.
    #[error("leading or trailing whitespace")]
    SurroundingWhitespace,
    /// The id holds a hidden character: a bidirectional control, a line or
    /// paragraph separator or an invisible format character; see
    /// [`Text`](crate::Text#hidden-characters).
    #[error("hidden character {} at byte {index}", crate::text::code_point(*character))]
    HiddenCharacter {
        /// The byte offset of the first hidden character.
        index: usize,
        /// The character.
        character: char,
    },
}

/// Formats a batch's problems as `#3: unknown asset `x`; #7: ...`.
fn list(problems: &[(usize, Error)]) -> String {
    problems
        .iter()
        .map(|(at, error)| format!("#{at}: {error}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Shortens user input quoted inside an error message, so that a huge input
/// cannot make a huge error.
pub(crate) fn excerpt(text: &str) -> String {
    const LIMIT: usize = 64;
    match text.char_indices().nth(LIMIT) {
        None => text.to_owned(),
        Some((cut, _)) => format!("{}...", &text[..cut]),
    }
}

impl Error {
    /// [`Error::InvalidField`]: `field` of record `id` breaks a rule, for
    /// `reason`.
    pub(crate) fn invalid_field(id: &ResourceId, field: &str, reason: impl Into<String>) -> Self {
        Self::InvalidField {
            id: id.clone(),
            field: field.to_owned(),
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_send_sync_static() {
        fn assert_bounds<T: Send + Sync + 'static + std::error::Error>() {}
        assert_bounds::<Error>();
        assert_bounds::<IdRule>();
    }

    #[test]
    fn excerpt_keeps_short_text_and_cuts_long_text_on_a_char_boundary() {
        assert_eq!(excerpt("abc"), "abc");
        let long = "é".repeat(100);
        let cut = excerpt(&long);
        assert_eq!(cut.chars().count(), 64 + 3);
        assert!(cut.ends_with("..."));
    }

    #[test]
    fn messages_are_lowercase_and_name_the_culprit() {
        let id = ResourceId::new("vm-1").unwrap();
        let err = Error::DuplicateAsset(id);
        assert_eq!(err.to_string(), "duplicate asset `vm-1`");
        let err = Error::UnsupportedSnapshot {
            found: 9,
            supported: 1,
        };
        assert!(
            err.to_string()
                .starts_with("unsupported snapshot version 9")
        );
    }
}
