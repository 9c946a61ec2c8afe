//! Relationship kinds, how failure propagates along them, and quorums.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::excerpt;
use crate::label::CustomName;
use crate::{Error, ResourceId};

/// Which way failure travels along a relationship `a -[kind]-> b`.
///
/// # Example
///
/// ```
/// use itam_cmdb::{Propagation, RelationKind};
///
/// // "payment-api depends on db-payments": the database's failure impacts the API.
/// assert_eq!(RelationKind::DependsOn.propagation(), Propagation::TargetToSource);
/// // "rack contains server": the rack's failure impacts the server.
/// assert_eq!(RelationKind::Contains.propagation(), Propagation::SourceToTarget);
/// assert_eq!(RelationKind::Manages.propagation(), Propagation::Never);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Propagation {
    /// The target's failure impacts the source (`a depends on b`).
    TargetToSource,
    /// The source's failure impacts the target (`a contains b`).
    SourceToTarget,
    /// Each end's failure impacts the other.
    Both,
    /// Failure does not travel along the relationship.
    Never,
}

impl Propagation {
    /// Whether the target's failure impacts the source.
    #[must_use]
    pub fn target_impacts_source(self) -> bool {
        matches!(self, Self::TargetToSource | Self::Both)
    }

    /// Whether the source's failure impacts the target.
    #[must_use]
    pub fn source_impacts_target(self) -> bool {
        matches!(self, Self::SourceToTarget | Self::Both)
    }
}

impl fmt::Display for Propagation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Self::TargetToSource => "target to source",
            Self::SourceToTarget => "source to target",
            Self::Both => "both ways",
            Self::Never => "never",
        })
    }
}

/// The kind of a typed, directed relationship `a -[kind]-> b`, read
/// "a *kind* b" ("payment-api depends on db-payments").
///
/// Each kind says which way failure propagates ([`RelationKind::propagation`]):
///
/// | kind | read | failure of ... impacts ... |
/// |---|---|---|
/// | `DependsOn` | a depends on b | b impacts a |
/// | `RunsOn` | a runs on b | b impacts a |
/// | `HostedOn` | a is hosted on b | b impacts a |
/// | `VirtualizedBy` | a is virtualized by b | b impacts a |
/// | `PoweredBy` | a is powered by b | b impacts a |
/// | `Uses` | a uses b | b impacts a |
/// | `ComposedOf` | a is composed of b | b (a component) impacts a (the whole) |
/// | `Contains` | a contains b | a (the container, a location) impacts b |
/// | `MemberOf` | a is a member of b | a impacts b only through b's redundancy [`Quorum`] |
/// | `ConnectsTo(p)` | a connects to b | as the edge's own [`Propagation`] `p` says |
/// | `Manages`, `Owns` | a manages / owns b | never |
/// | `Custom` | a site-specific kind | as its [`Propagation`] says |
///
/// # Serde
///
/// Plain kinds are strings (`"depends_on"`); `{"connects_to": "both"}`;
/// `{"custom": {"name": "replicates to", "propagation": "source_to_target"}}`.
///
/// # Example
///
/// ```
/// use itam_cmdb::{Propagation, RelationKind};
///
/// let replicates = RelationKind::custom("replicates to", Propagation::SourceToTarget)?;
/// assert_eq!(replicates.to_string(), "replicates to");
/// assert_eq!(RelationKind::HostedOn.to_string(), "hosted on");
/// assert!(RelationKind::MemberOf.is_membership());
/// # Ok::<(), itam_cmdb::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RelationKind {
    /// `a depends on b`: b's failure impacts a.
    DependsOn,
    /// `a runs on b`: b's failure impacts a.
    RunsOn,
    /// `a is hosted on b`: b's failure impacts a.
    HostedOn,
    /// `a is virtualized by b` (a VM on a hypervisor): b's failure impacts a.
    VirtualizedBy,
    /// `a is powered by b`: b's failure impacts a.
    PoweredBy,
    /// `a uses b`: b's failure impacts a.
    Uses,
    /// `a is composed of b`: a component's failure impacts the whole.
    ComposedOf,
    /// `a contains b` (a location): the container's failure impacts what it
    /// contains.
    Contains,
    /// `a is a member of b` (a cluster, pool, farm or set of feeds): a member's
    /// failure impacts the group only when the group's quorum no longer holds.
    MemberOf,
    /// `a connects to b`, with the propagation this connection has.
    ConnectsTo(Propagation),
    /// `a manages b`: never propagates.
    Manages,
    /// `a owns b`: never propagates.
    Owns,
    /// A site-specific kind with its own propagation; build it with
    /// [`RelationKind::custom`].
    Custom(CustomKind),
}

/// A site-specific relationship kind: a name and a [`Propagation`].
///
/// Within one estate a custom name always has the same propagation;
/// relating with the same name and another propagation is an
/// [`Error::ConflictingKind`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "CustomKindRecord", into = "CustomKindRecord")]
pub struct CustomKind {
    name: CustomName,
    propagation: Propagation,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomKindRecord {
    name: String,
    propagation: Propagation,
}

impl TryFrom<CustomKindRecord> for CustomKind {
    type Error = Error;

    fn try_from(record: CustomKindRecord) -> Result<Self, Error> {
        Self::new(&record.name, record.propagation)
    }
}

/// The names a custom kind may not take, as [`reading`] gives them, each
/// with the built-in kind it reads as: every built-in kind's name (its serde
/// name reads the same) and the inverse descriptors of the domain's
/// vocabulary and of `ServiceNow`'s relationship types (`"Depends
/// on::Used by"`, `"Runs on::Runs"`, `"Hosted on::Hosts"`, `"Members::Member
/// of"`, ...).
const RESERVED: &[(&str, &str)] = &[
    ("dependson", "depends on"),
    ("usedby", "depends on"),
    ("runson", "runs on"),
    ("runs", "runs on"),
    ("hostedon", "hosted on"),
    ("hosts", "hosted on"),
    ("virtualizedby", "virtualized by"),
    ("virtualisedby", "virtualized by"),
    ("virtualizes", "virtualized by"),
    ("virtualises", "virtualized by"),
    ("poweredby", "powered by"),
    ("powers", "powered by"),
    ("uses", "uses"),
    ("composedof", "composed of"),
    ("contains", "contains"),
    ("containedby", "contains"),
    ("memberof", "member of"),
    ("hasmember", "member of"),
    ("hasmembers", "member of"),
    ("members", "member of"),
    ("connectsto", "connects to"),
    ("connectedby", "connects to"),
    ("manages", "manages"),
    ("managedby", "manages"),
    ("owns", "owns"),
    ("ownedby", "owns"),
];

/// How a kind's name reads, whatever its spelling: ASCII lowercase, without
/// `-`, `_` or whitespace (`"Depends_On"` and `"depends-on"` read
/// `"dependson"`).
fn reading(name: &str) -> String {
    name.chars()
        .filter(|&c| !matches!(c, '-' | '_') && !c.is_whitespace())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The built-in kind `name` reads as, if any.
fn reserved(name: &str) -> Option<&'static str> {
    let reading = reading(name);
    RESERVED
        .iter()
        .find(|(reserved, _)| *reserved == reading)
        .map(|&(_, built_in)| built_in)
}

impl From<CustomKind> for CustomKindRecord {
    fn from(kind: CustomKind) -> Self {
        Self {
            name: kind.name.as_str().to_owned(),
            propagation: kind.propagation,
        }
    }
}

impl CustomKind {
    /// Checks `name` as [`RelationKind::custom`] documents.
    fn new(name: &str, propagation: Propagation) -> Result<Self, Error> {
        let name = CustomName::new("relationship kind", name)?;
        if let Some(built_in) = reserved(name.as_str()) {
            return Err(Error::ReservedKindName {
                name: excerpt(name.as_str()),
                built_in,
            });
        }
        Ok(Self { name, propagation })
    }

    /// The kind's name.
    #[must_use]
    pub fn name(&self) -> &str {
        self.name.as_str()
    }

    /// How failure travels along it.
    #[must_use]
    pub fn propagation(&self) -> Propagation {
        self.propagation
    }
}

impl RelationKind {
    /// A site-specific kind.
    ///
    /// Its name must not read as a built-in kind's name or as the inverse
    /// of one, in any case and with `_`, `-` or spaces between the words
    /// or none: `"Depends On"`, `"depends_on"`, `"DEPENDS-ON"`, `"used by"`,
    /// `"runs"`, `"hosts"`, `"contained by"`, `"has member"`, `"owned by"`
    /// are all refused, because a path through such a kind would read as
    /// the built-in kind whatever its propagation says. Deserialising a
    /// custom kind applies the same rules.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidLabel`] if `name` is empty, longer than 128 bytes, has
    /// control characters or surrounding whitespace;
    /// [`Error::HiddenCharacter`] if it holds a
    /// [hidden character](crate::Text#hidden-characters);
    /// [`Error::ReservedKindName`] if it reads as a built-in kind.
    ///
    /// # Example
    ///
    /// ```
    /// use itam_cmdb::{Error, Propagation, RelationKind};
    ///
    /// assert!(RelationKind::custom("replicates to", Propagation::SourceToTarget).is_ok());
    /// let err = RelationKind::custom("Depends_On", Propagation::SourceToTarget).unwrap_err();
    /// assert!(matches!(err, Error::ReservedKindName { built_in: "depends on", .. }));
    /// ```
    pub fn custom(name: &str, propagation: Propagation) -> Result<Self, Error> {
        CustomKind::new(name, propagation).map(Self::Custom)
    }

    /// Which way failure travels along a relationship of this kind.
    /// [`MemberOf`](Self::MemberOf) reports
    /// [`SourceToTarget`](Propagation::SourceToTarget): a member's failure
    /// reaches its group, where the group's quorum decides.
    #[must_use]
    pub fn propagation(&self) -> Propagation {
        match self {
            Self::DependsOn
            | Self::RunsOn
            | Self::HostedOn
            | Self::VirtualizedBy
            | Self::PoweredBy
            | Self::Uses
            | Self::ComposedOf => Propagation::TargetToSource,
            Self::Contains | Self::MemberOf => Propagation::SourceToTarget,
            Self::ConnectsTo(propagation) => *propagation,
            Self::Manages | Self::Owns => Propagation::Never,
            Self::Custom(custom) => custom.propagation,
        }
    }

    /// Whether this is [`MemberOf`](Self::MemberOf), the kind that makes its
    /// target a redundancy group.
    #[must_use]
    pub fn is_membership(&self) -> bool {
        matches!(self, Self::MemberOf)
    }

    /// The kind's name as a person reads it: `"depends on"`, `"hosted on"`.
    #[must_use]
    pub fn name(&self) -> &str {
        match self {
            Self::DependsOn => "depends on",
            Self::RunsOn => "runs on",
            Self::HostedOn => "hosted on",
            Self::VirtualizedBy => "virtualized by",
            Self::PoweredBy => "powered by",
            Self::Uses => "uses",
            Self::ComposedOf => "composed of",
            Self::Contains => "contains",
            Self::MemberOf => "member of",
            Self::ConnectsTo(_) => "connects to",
            Self::Manages => "manages",
            Self::Owns => "owns",
            Self::Custom(custom) => custom.name(),
        }
    }
}

impl fmt::Display for RelationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// A typed, directed relationship `source -[kind]-> target` between two
/// configuration items.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Relationship {
    source: ResourceId,
    kind: RelationKind,
    target: ResourceId,
}

impl Relationship {
    /// `source -[kind]-> target`. The endpoints are checked when the
    /// relationship is written to an estate.
    #[must_use]
    pub fn new(source: ResourceId, kind: RelationKind, target: ResourceId) -> Self {
        Self {
            source,
            kind,
            target,
        }
    }

    /// The item the relationship starts from ("a" in "a depends on b").
    #[must_use]
    pub fn source(&self) -> &ResourceId {
        &self.source
    }

    /// The relationship's kind.
    #[must_use]
    pub fn kind(&self) -> &RelationKind {
        &self.kind
    }

    /// The item the relationship points to ("b" in "a depends on b").
    #[must_use]
    pub fn target(&self) -> &ResourceId {
        &self.target
    }
}

impl fmt::Display for Relationship {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -[{}]-> {}", self.source, self.kind, self.target)
    }
}

/// How many members of a redundancy group must be up for the group to be up.
///
/// A group (a cluster, a pool, a farm, A/B power feeds) is a configuration
/// item whose members relate to it with [`RelationKind::MemberOf`]. With `n`
/// members of which `k` are needed:
///
/// * the group is **down** when fewer than `k` members are up;
/// * it is **degraded** when some members are down or degraded but at least
///   `k` are up (a degraded member still counts as up);
/// * otherwise it is unaffected.
///
/// A group without a declared quorum needs all its members.
///
/// # Serde
///
/// `{"at_least": 2}` or `{"percent": 50}`.
///
/// # Example
///
/// ```
/// use itam_cmdb::Quorum;
///
/// assert_eq!(Quorum::AtLeast(2).needed(3), 2);
/// // Percentages round up: half of three members is two.
/// assert_eq!(Quorum::Percent(50).needed(3), 2);
/// assert_eq!(Quorum::Percent(100).needed(4), 4);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Quorum {
    /// At least this many members must be up (at least 1).
    AtLeast(u32),
    /// At least this percentage of the members, rounded up, must be up
    /// (1 to 100).
    Percent(u8),
}

impl Quorum {
    /// How many of `members` must be up.
    #[must_use]
    pub fn needed(self, members: u32) -> u32 {
        match self {
            Self::AtLeast(k) => k,
            Self::Percent(p) => {
                let scaled = u64::from(members) * u64::from(p);
                u32::try_from(scaled.div_ceil(100)).unwrap_or(u32::MAX)
            }
        }
    }

    /// Checks the quorum against a group of `members`.
    pub(crate) fn check(self, group: &ResourceId, members: u32) -> Result<(), Error> {
        let invalid = |reason: String| Error::InvalidQuorum {
            group: group.clone(),
            reason,
        };
        match self {
            Self::AtLeast(0) => Err(invalid("needs at least 1 member up, not 0".to_owned())),
            Self::AtLeast(k) if k > members => Err(invalid(format!(
                "needs {k} members up but the group has {members}"
            ))),
            Self::Percent(p) if p == 0 || p > 100 => {
                Err(invalid(format!("percentage {p} is not between 1 and 100")))
            }
            _ => Ok(()),
        }
    }
}

impl fmt::Display for Quorum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AtLeast(k) => write!(f, "at least {k} up"),
            Self::Percent(p) => write!(f, "at least {p}% up"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_documents_its_direction() {
        use Propagation::{Never, SourceToTarget, TargetToSource};
        let table = [
            (RelationKind::DependsOn, TargetToSource),
            (RelationKind::RunsOn, TargetToSource),
            (RelationKind::HostedOn, TargetToSource),
            (RelationKind::VirtualizedBy, TargetToSource),
            (RelationKind::PoweredBy, TargetToSource),
            (RelationKind::Uses, TargetToSource),
            (RelationKind::ComposedOf, TargetToSource),
            (RelationKind::Contains, SourceToTarget),
            (RelationKind::MemberOf, SourceToTarget),
            (
                RelationKind::ConnectsTo(Propagation::Both),
                Propagation::Both,
            ),
            (RelationKind::Manages, Never),
            (RelationKind::Owns, Never),
        ];
        for (kind, expected) in table {
            assert_eq!(kind.propagation(), expected, "{kind}");
        }
    }

    #[test]
    fn kinds_round_trip_through_serde() {
        let kinds = [
            RelationKind::DependsOn,
            RelationKind::ConnectsTo(Propagation::SourceToTarget),
            RelationKind::custom("replicates to", Propagation::Both).unwrap(),
        ];
        for kind in kinds {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(
                serde_json::from_str::<RelationKind>(&json).unwrap(),
                kind,
                "{json}"
            );
        }
        assert_eq!(
            serde_json::to_string(&RelationKind::HostedOn).unwrap(),
            r#""hosted_on""#
        );
        let bad = r#"{"custom":{"name":"","propagation":"both"}}"#;
        assert!(serde_json::from_str::<RelationKind>(bad).is_err());
    }

    #[test]
    fn custom_kinds_cannot_read_as_built_in_ones() {
        let built_in = [
            RelationKind::DependsOn,
            RelationKind::RunsOn,
            RelationKind::HostedOn,
            RelationKind::VirtualizedBy,
            RelationKind::PoweredBy,
            RelationKind::Uses,
            RelationKind::ComposedOf,
            RelationKind::Contains,
            RelationKind::MemberOf,
            RelationKind::ConnectsTo(Propagation::Both),
            RelationKind::Manages,
            RelationKind::Owns,
        ];
        let refused = |name: &str| match RelationKind::custom(name, Propagation::SourceToTarget) {
            Err(Error::ReservedKindName {
                name: given,
                built_in,
            }) => {
                assert_eq!(given, name);
                built_in
            }
            other => panic!("{name:?} gave {other:?}"),
        };
        for kind in &built_in {
            let name = kind.name();
            // Its name, its serde name and the spellings that read the same.
            let serde_name = serde_json::to_value(kind).unwrap();
            let serde_name = serde_name.as_str().map_or_else(
                || {
                    serde_name
                        .as_object()
                        .unwrap()
                        .keys()
                        .next()
                        .unwrap()
                        .clone()
                },
                str::to_owned,
            );
            for spelling in [
                name.to_owned(),
                serde_name,
                name.to_uppercase(),
                name.replace(' ', "_"),
                name.replace(' ', "-").to_uppercase(),
                name.replace(' ', "  "),
                name.replace(' ', ""),
            ] {
                assert_eq!(refused(&spelling), name, "{spelling:?}");
            }
        }
        for (inverse, built_in) in [
            ("used by", "depends on"),
            ("Used_By", "depends on"),
            ("runs", "runs on"),
            ("hosts", "hosted on"),
            ("contained by", "contains"),
            ("has member", "member of"),
            ("Members", "member of"),
            ("powers", "powered by"),
            ("virtualizes", "virtualized by"),
            ("connected-by", "connects to"),
            ("managed by", "manages"),
            ("owned by", "owns"),
        ] {
            assert_eq!(refused(inverse), built_in, "{inverse:?}");
        }
        let err = RelationKind::custom("Depends On", Propagation::SourceToTarget).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"custom relationship kind "Depends On" reads as the built-in kind `depends on`"#
        );
        // Names that merely contain a built-in name are the site's own.
        for fine in [
            "replicates to",
            "depends on power",
            "backs up",
            "user of",
            "run on",
        ] {
            assert!(
                RelationKind::custom(fine, Propagation::Both).is_ok(),
                "{fine:?}"
            );
        }
    }

    #[test]
    fn snapshots_cannot_smuggle_a_reserved_or_hidden_kind_name() {
        for (json, expected) in [
            (
                r#"{"custom":{"name":"Depends_On","propagation":"source_to_target"}}"#,
                "reads as the built-in kind `depends on`",
            ),
            (
                r#"{"custom":{"name":"used by","propagation":"target_to_source"}}"#,
                "reads as the built-in kind `depends on`",
            ),
            (
                r#"{"custom":{"name":"feeds\u202e","propagation":"both"}}"#,
                "hidden character U+202E at byte 5",
            ),
        ] {
            let err = serde_json::from_str::<RelationKind>(json).unwrap_err();
            assert!(err.to_string().contains(expected), "{json}: {err}");
        }
    }

    #[test]
    fn quorum_rules() {
        let g = ResourceId::new("pool").unwrap();
        assert!(Quorum::AtLeast(2).check(&g, 3).is_ok());
        let err = Quorum::AtLeast(4).check(&g, 3).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid quorum for group `pool`: needs 4 members up but the group has 3"
        );
        assert!(Quorum::AtLeast(0).check(&g, 3).is_err());
        assert!(Quorum::Percent(101).check(&g, 3).is_err());
        assert!(Quorum::Percent(0).check(&g, 3).is_err());
        assert_eq!(Quorum::Percent(34).needed(3), 2);
        assert_eq!(Quorum::Percent(1).needed(0), 0);
    }

    #[test]
    fn relationship_reads_as_a_sentence() {
        let r = Relationship::new(
            ResourceId::new("api").unwrap(),
            RelationKind::DependsOn,
            ResourceId::new("db").unwrap(),
        );
        assert_eq!(r.to_string(), "api -[depends on]-> db");
    }
}
