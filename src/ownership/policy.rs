//! The `FieldOwnership` trait and the default policy, a column agreement.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::{Claim, Field, FieldCategory, Source, Update, Value, View};
use crate::Error;

/// Who set a field's current value, when, and under which rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    source: Source,
    observed: DateTime<Utc>,
    rule: Arc<str>,
}

impl Provenance {
    pub(crate) fn new(source: Source, observed: DateTime<Utc>, rule: Arc<str>) -> Self {
        Self {
            source,
            observed,
            rule,
        }
    }

    /// The source whose claim set the value.
    #[must_use]
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// When that source observed the value (refreshed each time it claims
    /// the same value again).
    #[must_use]
    pub fn observed(&self) -> DateTime<Utc> {
        self.observed
    }

    /// The rule that accepted the claim, e.g. `field asset.owner`,
    /// `category ownership`, `default`, or `no rule`.
    #[must_use]
    pub fn rule(&self) -> &str {
        &self.rule
    }

    /// The rule's label, shared.
    pub(crate) fn rule_label(&self) -> &Arc<str> {
        &self.rule
    }
}

/// Why a policy accepted or rejected a claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Reason {
    /// Nobody owned the value (it was empty or came with the record).
    Unowned,
    /// The claim's source already holds the value.
    SameSource,
    /// The claim's source ranks above the holder's.
    HigherPriority {
        /// The source that held the value.
        over: Source,
    },
    /// A person's edit; people outrank automated sources unless the rule
    /// ranks them, and a later manual edit replaces an earlier one.
    ManualEdit,
    /// The holder's value was older than the rule's staleness limit at the
    /// claim's instant.
    Stale {
        /// The source that held the value.
        holder: Source,
        /// How old the holder's value was, in whole seconds.
        age_seconds: i64,
    },
    /// The holder ranks above (or level with) the claim's source.
    LowerPriority {
        /// The source that holds the value.
        holder: Source,
    },
    /// A person's edit locks the field against this automated source.
    Locked {
        /// The person whose edit holds the lock.
        by: Source,
        /// When the lock expires; `None` for never.
        until: Option<DateTime<Utc>>,
    },
    /// The source may only fill an empty field, and the field holds a value.
    NotEmpty,
    /// The rule does not let a claim clear the field.
    ClearNotAllowed,
    /// The rule is [exclusive](Rule::exclusive) and does not name the
    /// claim's source: only the sources it lists may write the field.
    NotAuthorised,
    /// A reason given by a user-defined policy.
    Other(String),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unowned => f.write_str("no source owned the value"),
            Self::SameSource => f.write_str("the source already holds the value"),
            Self::HigherPriority { over } => write!(f, "ranks above {over}"),
            Self::ManualEdit => f.write_str("manual edit"),
            Self::Stale {
                holder,
                age_seconds,
            } => write!(
                f,
                "{holder}'s value was stale ({} days old)",
                age_seconds / 86_400
            ),
            Self::LowerPriority { holder } => {
                write!(f, "{holder} ranks higher and holds the value")
            }
            Self::Locked { by, until: None } => write!(f, "locked by {by}"),
            Self::Locked {
                by,
                until: Some(until),
            } => write!(f, "locked by {by} until {until}"),
            Self::NotEmpty => f.write_str("may only fill an empty field"),
            Self::ClearNotAllowed => f.write_str("the rule does not allow clearing"),
            Self::NotAuthorised => f.write_str("the rule does not let the source write"),
            Self::Other(text) => f.write_str(text),
        }
    }
}

/// A policy's decision on one claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    accepted: bool,
    reason: Reason,
    rule: Arc<str>,
}

impl Verdict {
    /// Accept the claim.
    #[must_use]
    pub fn accept(reason: Reason, rule: impl Into<Arc<str>>) -> Self {
        Self {
            accepted: true,
            reason,
            rule: rule.into(),
        }
    }

    /// Reject the claim; it is kept in the conflict log.
    #[must_use]
    pub fn reject(reason: Reason, rule: impl Into<Arc<str>>) -> Self {
        Self {
            accepted: false,
            reason,
            rule: rule.into(),
        }
    }

    /// Whether the claim was accepted.
    #[must_use]
    pub fn accepted(&self) -> bool {
        self.accepted
    }

    /// Why.
    #[must_use]
    pub fn reason(&self) -> &Reason {
        &self.reason
    }

    /// The rule applied.
    #[must_use]
    pub fn rule(&self) -> &str {
        &self.rule
    }

    /// The rule's label, shared.
    pub(crate) fn rule_label(&self) -> &Arc<str> {
        &self.rule
    }
}

/// A field's current state, as a policy sees it.
#[derive(Debug, Clone, Copy)]
pub struct Current<'a> {
    /// The current value; `None` when the field is empty.
    pub value: Option<&'a Value>,
    /// Who set it; `None` when no claim did (the value came with the record,
    /// or the field is empty).
    pub provenance: Option<&'a Provenance>,
}

/// Decides whether a claim may change a field: the "who owns which column"
/// agreement in code.
///
/// The estate calls [`decide`](Self::decide) for every claim that sets or
/// clears a field (retractions are not decisions: a source may always
/// withdraw its own claims). The instant of the decision is the claim's
/// [`observed`](Claim::observed) instant; a policy must not read a clock.
/// Claims of one field are decided in a fixed order (by observed instant,
/// then source), whatever order they arrive in, so a policy that depends
/// only on its arguments gives an order-independent result.
///
/// # Example
///
/// A policy where finance always wins and nobody else may write:
///
/// ```
/// use itam_cmdb::ownership::{Claim, Current, Field, FieldOwnership, Reason, Verdict};
///
/// struct FinanceOnly;
///
/// impl FieldOwnership for FinanceOnly {
///     fn decide(&self, _field: &Field, _current: Current<'_>, claim: &Claim) -> Verdict {
///         if claim.source().name() == "finance" {
///             Verdict::accept(Reason::Other("finance decides".into()), "finance only")
///         } else {
///             Verdict::reject(Reason::Other("only finance may write".into()), "finance only")
///         }
///     }
/// }
/// ```
pub trait FieldOwnership {
    /// Accept or reject `claim`, which would change `field` from `current`.
    fn decide(&self, field: &Field, current: Current<'_>, claim: &Claim) -> Verdict;
}

/// Matches sources in a rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SourcePattern {
    /// The source with this name (automated or person).
    Named(String),
    /// Any person.
    AnyPerson,
    /// A person who holds this role in the agreement's role table (see
    /// [`ColumnAgreement::with_role`]).
    Role(String),
}

impl SourcePattern {
    /// A pattern matching the people who hold `role`.
    #[must_use]
    pub fn role(role: &str) -> Self {
        Self::Role(role.to_owned())
    }

    fn matches(&self, source: &Source, roles: &Roles) -> bool {
        match self {
            Self::Named(name) => source.name() == name,
            Self::AnyPerson => source.is_person(),
            Self::Role(role) => {
                source.is_person()
                    && roles
                        .get(role.as_str())
                        .is_some_and(|people| people.contains(source.name()))
            }
        }
    }
}

/// The agreement's role table: each role and the people who hold it.
type Roles = BTreeMap<String, BTreeSet<String>>;

impl fmt::Display for SourcePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Named(name) => f.write_str(name),
            Self::AnyPerson => f.write_str("any person"),
            Self::Role(role) => write!(f, "role {role}"),
        }
    }
}

impl From<&str> for SourcePattern {
    fn from(name: &str) -> Self {
        Self::Named(name.to_owned())
    }
}

/// What a rule covers; a more specific scope wins.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// One field (most specific).
    Field(Field),
    /// A category of fields in one view.
    ViewCategory(View, FieldCategory),
    /// A category of fields in both views.
    Category(FieldCategory),
    /// Every field (least specific).
    Default,
}

impl Scope {
    /// Higher is more specific: field 3, view and category 2, category 1,
    /// default 0.
    #[must_use]
    pub fn specificity(&self) -> u8 {
        match self {
            Self::Field(_) => 3,
            Self::ViewCategory(..) => 2,
            Self::Category(_) => 1,
            Self::Default => 0,
        }
    }

    fn covers(&self, field: &Field) -> bool {
        match self {
            Self::Field(f) => f == field,
            Self::ViewCategory(view, category) => {
                field.view() == *view && field.category() == *category
            }
            Self::Category(category) => field.category() == *category,
            Self::Default => true,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Field(field) => write!(f, "field {field}"),
            Self::ViewCategory(view, category) => write!(f, "{view} {category}"),
            Self::Category(category) => write!(f, "category {category}"),
            Self::Default => f.write_str("default"),
        }
    }
}

/// A person's edit locks a field against automated sources.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManualLock {
    /// How long the lock lasts after the person's edit, in seconds; `None`
    /// for ever (until another person edits the field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_after_seconds: Option<i64>,
    /// Automated sources the lock lets through.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    allow: Vec<SourcePattern>,
    /// The people whose edits lock; empty for every person.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    set_by: Vec<SourcePattern>,
}

impl ManualLock {
    /// A lock that never expires and lets no automated source through.
    #[must_use]
    pub fn forever() -> Self {
        Self {
            expires_after_seconds: None,
            allow: Vec::new(),
            set_by: Vec::new(),
        }
    }

    /// A lock that lasts `duration` after the person's edit.
    #[must_use]
    pub fn expiring_after(duration: TimeDelta) -> Self {
        Self {
            expires_after_seconds: Some(duration.num_seconds()),
            allow: Vec::new(),
            set_by: Vec::new(),
        }
    }

    /// Lets `source` through the lock.
    #[must_use]
    pub fn allow(mut self, source: impl Into<SourcePattern>) -> Self {
        self.allow.push(source.into());
        self
    }

    /// Lets only edits by people matching `people` set the lock (call again
    /// to add more). By default every person's accepted edit locks; a
    /// person not listed here may still edit the field if the rule lets
    /// them, but their edit does not lock it.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::TimeDelta;
    /// use itam_cmdb::ownership::{ManualLock, SourcePattern};
    ///
    /// // Asset governance may pin a value for 30 days; nobody else locks.
    /// let lock = ManualLock::expiring_after(TimeDelta::days(30))
    ///     .set_by(SourcePattern::role("asset-governance"));
    /// # let _ = lock;
    /// ```
    #[must_use]
    pub fn set_by(mut self, people: impl Into<SourcePattern>) -> Self {
        self.set_by.push(people.into());
        self
    }

    /// Whether an edit by `holder` (a person) sets this lock.
    fn set_by_holder(&self, holder: &Source, roles: &Roles) -> bool {
        self.set_by.is_empty() || self.set_by.iter().any(|p| p.matches(holder, roles))
    }

    /// The end of a lock set at `from`; `None` for never (also when the
    /// sum passes the last representable instant).
    fn until(&self, from: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let seconds = self.expires_after_seconds?;
        TimeDelta::try_seconds(seconds).and_then(|d| from.checked_add_signed(d))
    }
}

/// One line of a [`ColumnAgreement`]: for a scope, the authoritative sources
/// in priority order and the options that refine them.
///
/// # Example
///
/// ```
/// use chrono::TimeDelta;
/// use itam_cmdb::ownership::{FieldCategory, Rule};
///
/// let rule = Rule::category(FieldCategory::Cost)
///     .sources(["finance", "procurement"])
///     .stale_after(TimeDelta::days(90))
///     .write_if_empty("discovery");
/// assert_eq!(rule.scope().to_string(), "category cost");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    scope: Scope,
    /// Authoritative sources, highest priority first.
    #[serde(default)]
    sources: Vec<SourcePattern>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stale_after_seconds: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    write_if_empty: Vec<SourcePattern>,
    #[serde(default)]
    allow_clear: bool,
    #[serde(default = "default_lock")]
    manual_lock: Option<ManualLock>,
    /// Whether only the listed sources may write.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    exclusive: bool,
}

#[allow(
    clippy::unnecessary_wraps,
    reason = "serde default for an optional field"
)]
fn default_lock() -> Option<ManualLock> {
    Some(ManualLock::forever())
}

impl Rule {
    fn new(scope: Scope) -> Self {
        Self {
            scope,
            sources: Vec::new(),
            stale_after_seconds: None,
            write_if_empty: Vec::new(),
            allow_clear: false,
            manual_lock: default_lock(),
            exclusive: false,
        }
    }

    /// A rule for one field.
    #[must_use]
    pub fn field(field: impl Into<Field>) -> Self {
        Self::new(Scope::Field(field.into()))
    }

    /// A rule for a category of fields in both views.
    #[must_use]
    pub fn category(category: FieldCategory) -> Self {
        Self::new(Scope::Category(category))
    }

    /// A rule for a category of fields in one view.
    #[must_use]
    pub fn view_category(view: View, category: FieldCategory) -> Self {
        Self::new(Scope::ViewCategory(view, category))
    }

    /// The rule for fields no other rule covers.
    #[must_use]
    pub fn fallback() -> Self {
        Self::new(Scope::Default)
    }

    /// Appends authoritative sources, in priority order (first is highest).
    #[must_use]
    pub fn sources<I, S>(mut self, sources: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<SourcePattern>,
    {
        self.sources.extend(sources.into_iter().map(Into::into));
        self
    }

    /// Appends one authoritative source (such as [`SourcePattern::AnyPerson`]).
    #[must_use]
    pub fn source(mut self, source: impl Into<SourcePattern>) -> Self {
        self.sources.push(source.into());
        self
    }

    /// Lets a lower-priority source write once the holder's value is older
    /// than `age` at the claim's instant.
    #[must_use]
    pub fn stale_after(mut self, age: TimeDelta) -> Self {
        self.stale_after_seconds = Some(age.num_seconds());
        self
    }

    /// Lets `source` write the field only while it is empty (or replace its
    /// own value).
    #[must_use]
    pub fn write_if_empty(mut self, source: impl Into<SourcePattern>) -> Self {
        self.write_if_empty.push(source.into());
        self
    }

    /// Lets claims clear the field (by default a clear never removes a value).
    #[must_use]
    pub fn allow_clear(mut self, allow: bool) -> Self {
        self.allow_clear = allow;
        self
    }

    /// Sets how a person's edit locks the field (`None`: it does not lock).
    /// By default it locks for ever against every automated source.
    #[must_use]
    pub fn manual_lock(mut self, lock: Option<ManualLock>) -> Self {
        self.manual_lock = lock;
        self
    }

    /// Makes the rule exclusive: only the sources it names
    /// ([`sources`](Self::sources), [`source`](Self::source) and
    /// [`write_if_empty`](Self::write_if_empty)) may set or clear the
    /// field; every other source, people included, is rejected with
    /// [`Reason::NotAuthorised`], even when the field is empty. Name people
    /// one by one ([`SourcePattern::Named`]), by role
    /// ([`SourcePattern::Role`]) or all at once
    /// ([`SourcePattern::AnyPerson`]). Reconciliation resolves a field of
    /// an exclusive rule only if the rule names `reconciliation`.
    ///
    /// A rule is **open** by default: its list is a priority order, not an
    /// allow-list. Sources it does not name may write an empty or unclaimed
    /// field, and people it does not name outrank every automated source.
    /// Retractions are never refused: a source may always withdraw its own
    /// claims.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use itam_cmdb::ownership::{AssetField, Claim, ColumnAgreement, Reason, Rule, Source, SourcePattern, Value};
    /// use itam_cmdb::{sample, Batch, ResourceId};
    ///
    /// let mut estate = sample::estate();
    /// estate.set_agreement(
    ///     ColumnAgreement::new()
    ///         .with_role("asset-governance", ["dana@example.com"])?
    ///         .with(
    ///             Rule::field(AssetField::CostCenter)
    ///                 .source(SourcePattern::role("asset-governance"))
    ///                 .sources(["finance"])
    ///                 .exclusive(),
    ///         )?,
    /// );
    /// let vm = ResourceId::new(sample::PAYMENT_VM)?;
    /// let at = Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap();
    /// let mut batch = Batch::new();
    /// for who in [Source::automated("discovery")?, Source::person("mallory@example.com")?] {
    ///     batch.claim(Claim::set(vm.clone(), AssetField::CostCenter, Value::text("CC-666"), who, at));
    /// }
    /// let report = estate.apply(batch)?;
    /// assert!(report.decisions().iter().all(|d| !d.accepted()));
    /// assert_eq!(estate.conflicts()[0].reason(), &Reason::NotAuthorised);
    /// # Ok::<(), itam_cmdb::Error>(())
    /// ```
    #[must_use]
    pub fn exclusive(mut self) -> Self {
        self.exclusive = true;
        self
    }

    /// Whether the rule is [exclusive](Self::exclusive).
    #[must_use]
    pub fn is_exclusive(&self) -> bool {
        self.exclusive
    }

    /// What the rule covers.
    #[must_use]
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// Every pattern the rule names.
    fn patterns(&self) -> impl Iterator<Item = &SourcePattern> {
        let lock = self
            .manual_lock
            .iter()
            .flat_map(|l| l.allow.iter().chain(&l.set_by));
        self.sources.iter().chain(&self.write_if_empty).chain(lock)
    }

    /// Whether the rule lets `source` write: an open rule lets every
    /// source; an exclusive one only those it names as authoritative or
    /// write-if-empty.
    fn admits(&self, source: &Source, roles: &Roles) -> bool {
        !self.exclusive
            || self
                .sources
                .iter()
                .chain(&self.write_if_empty)
                .any(|p| p.matches(source, roles))
    }

    /// The rank of `source` (0 is highest): its position in the list; people
    /// the list does not name rank above every automated source (-1);
    /// automated sources it does not name rank lowest, all level.
    fn rank(&self, source: &Source, roles: &Roles) -> i64 {
        let listed = self.sources.iter().position(|p| p.matches(source, roles));
        match listed {
            Some(position) => i64::try_from(position).unwrap_or(i64::MAX),
            None if source.is_person() => -1,
            None => i64::try_from(self.sources.len()).unwrap_or(i64::MAX),
        }
    }

    fn check(&self, roles: &Roles) -> Result<(), Error> {
        let conflict = |reason: String| Error::PolicyConflict {
            scope: self.scope.to_string(),
            reason,
        };
        for pattern in self.patterns() {
            match pattern {
                SourcePattern::Named(name) => {
                    crate::label::check_label("source name", name, crate::label::MAX_KEY)?;
                }
                SourcePattern::Role(role) if !roles.contains_key(role.as_str()) => {
                    return Err(conflict(format!(
                        "role {role} is not in the agreement's role table"
                    )));
                }
                _ => {}
            }
        }
        for (i, pattern) in self.sources.iter().enumerate() {
            if self.sources[..i].contains(pattern) {
                return Err(conflict(format!(
                    "source {pattern} is listed twice, at two priorities"
                )));
            }
        }
        for seconds in [
            self.stale_after_seconds,
            self.manual_lock
                .as_ref()
                .and_then(|l| l.expires_after_seconds),
        ]
        .into_iter()
        .flatten()
        {
            if seconds <= 0 {
                return Err(conflict(format!("duration of {seconds} s is not positive")));
            }
        }
        Ok(())
    }

    /// Decides `claim` under this rule, reporting the rule as `label`.
    fn decide(
        &self,
        current: Current<'_>,
        claim: &Claim,
        label: &Arc<str>,
        roles: &Roles,
    ) -> Verdict {
        let accept = |reason| Verdict::accept(reason, Arc::clone(label));
        let reject = |reason| Verdict::reject(reason, Arc::clone(label));
        let source = claim.source();
        if !self.admits(source, roles) {
            return reject(Reason::NotAuthorised);
        }
        let has_value = current.value.is_some();
        if matches!(claim.update(), Update::Clear) && has_value && !self.allow_clear {
            return reject(Reason::ClearNotAllowed);
        }
        let Some(holder) = current.provenance else {
            if has_value && self.write_if_empty.iter().any(|p| p.matches(source, roles)) {
                return reject(Reason::NotEmpty);
            }
            return accept(Reason::Unowned);
        };
        if holder.source() == source {
            return accept(Reason::SameSource);
        }
        if has_value && self.write_if_empty.iter().any(|p| p.matches(source, roles)) {
            return reject(Reason::NotEmpty);
        }
        let at = claim.observed();
        if holder.source().is_person() && !source.is_person() {
            if let Some(lock) = self
                .manual_lock
                .as_ref()
                .filter(|lock| lock.set_by_holder(holder.source(), roles))
            {
                let until = lock.until(holder.observed());
                let active = until.is_none_or(|until| at < until);
                if active && !lock.allow.iter().any(|p| p.matches(source, roles)) {
                    return reject(Reason::Locked {
                        by: holder.source().clone(),
                        until,
                    });
                }
            }
        }
        let (mine, theirs) = (self.rank(source, roles), self.rank(holder.source(), roles));
        if mine < theirs {
            return accept(if source.is_person() && mine < 0 {
                Reason::ManualEdit
            } else {
                Reason::HigherPriority {
                    over: holder.source().clone(),
                }
            });
        }
        if source.is_person() && holder.source().is_person() && mine == theirs {
            return accept(Reason::ManualEdit);
        }
        let age = at.signed_duration_since(holder.observed()).num_seconds();
        if self.stale_after_seconds.is_some_and(|limit| age > limit) {
            return accept(Reason::Stale {
                holder: holder.source().clone(),
                age_seconds: age,
            });
        }
        reject(Reason::LowerPriority {
            holder: holder.source().clone(),
        })
    }
}

/// The default [`FieldOwnership`] policy: a table of [`Rule`]s saying, per
/// field or category of fields, which sources are authoritative.
///
/// # Semantics
///
/// * **Most specific rule wins**: a rule for the field, else one for its
///   view and category, else one for its category, else the
///   [fallback](Rule::fallback) rule, else the built-in rule (no ranked
///   sources, a manual edit locks for ever, clears refused).
/// * **Sticky ownership**: once a source has written a field, only the same
///   source or a higher-ranked one may change it. Automated sources the rule
///   does not list rank lowest, all level; people it does not list rank
///   above every automated source, and a later manual edit replaces an
///   earlier one.
/// * **Staleness fallback**: with [`Rule::stale_after`], a lower-ranked
///   source may write once the holder's value is older than the limit,
///   measured at the claim's observed instant (the holder refreshes its
///   value by claiming it again).
/// * **Write-if-empty**: a [`Rule::write_if_empty`] source writes only an
///   empty field (or replaces its own value).
/// * **Manual locks**: a person's edit locks the field against automated
///   sources, for ever or until an expiry, with optional exceptions.
/// * **Clears**: a clear does not remove a value unless
///   [`Rule::allow_clear`]; clearing an empty field is accepted.
/// * **Ties**: rules are chosen by specificity (two rules of one scope are
///   refused); claims of one field are decided in order of observed
///   instant, then source name, so neither arrival order nor hashing decides.
///
/// # Example
///
/// ```
/// use chrono::TimeDelta;
/// use itam_cmdb::ownership::{ColumnAgreement, FieldCategory, Rule, View};
///
/// let agreement = ColumnAgreement::new()
///     .with(Rule::category(FieldCategory::Ownership).sources(["finance", "procurement"]))?
///     .with(Rule::view_category(View::Ci, FieldCategory::Configuration).sources(["discovery"]))?
///     .with(Rule::fallback().sources(["discovery"]).stale_after(TimeDelta::days(30)))?;
/// assert_eq!(agreement.rules().len(), 3);
/// // A second rule for the same scope contradicts the first.
/// assert!(agreement.with(Rule::fallback()).is_err());
/// # Ok::<(), itam_cmdb::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnAgreement {
    /// Each role and the people (person sources, by name) who hold it.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    roles: Roles,
    rules: Vec<Rule>,
    /// Each rule's label (its scope, as text), made once: every verdict
    /// shares it.
    #[serde(skip)]
    labels: Vec<Arc<str>>,
    /// The label of the built-in rule, `no rule`.
    #[serde(skip)]
    built_in: Arc<str>,
}

impl Default for ColumnAgreement {
    fn default() -> Self {
        Self {
            roles: Roles::new(),
            rules: Vec::new(),
            labels: Vec::new(),
            built_in: Arc::from("no rule"),
        }
    }
}

impl ColumnAgreement {
    /// An agreement with no rules: every field follows the built-in rule.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The usual split: the asset register's sources (`finance`,
    /// `procurement`) own ownership, cost and lifecycle; `discovery` owns
    /// configuration and names, with a 30-day staleness fallback.
    #[must_use]
    pub fn itam_default() -> Self {
        let itam = ["finance", "procurement"];
        let rules = [
            Rule::category(FieldCategory::Ownership).sources(itam),
            Rule::category(FieldCategory::Cost).sources(itam),
            Rule::view_category(View::Asset, FieldCategory::Lifecycle).sources(itam),
            Rule::view_category(View::Ci, FieldCategory::Lifecycle).sources(["discovery"]),
            Rule::category(FieldCategory::Configuration)
                .sources(["discovery"])
                .stale_after(TimeDelta::days(30)),
            Rule::category(FieldCategory::Identity).sources(["discovery", "procurement"]),
        ];
        // Valid rules of distinct scopes: nothing for `with` to refuse.
        let mut agreement = Self::new();
        for rule in rules {
            agreement.push(rule);
        }
        agreement
    }

    /// Adds a rule.
    ///
    /// # Errors
    ///
    /// [`Error::PolicyConflict`] if a rule of the same scope exists, a
    /// source is listed twice, a duration is not positive, or the rule
    /// names a role the agreement has not defined;
    /// [`Error::InvalidLabel`] if a source name breaks a label rule.
    pub fn with(mut self, rule: Rule) -> Result<Self, Error> {
        rule.check(&self.roles)?;
        if self.rules.iter().any(|r| r.scope == rule.scope) {
            return Err(Error::PolicyConflict {
                scope: rule.scope.to_string(),
                reason: "two rules at the same specificity".to_owned(),
            });
        }
        self.push(rule);
        Ok(self)
    }

    /// Defines `role`, held by the people named (person sources, by name),
    /// so that rules can name them together with [`SourcePattern::Role`].
    /// Define a role before the rules that name it.
    ///
    /// # Errors
    ///
    /// [`Error::PolicyConflict`] if the role is already defined or a person
    /// is listed twice; [`Error::InvalidLabel`] if the role or a name
    /// breaks a label rule.
    ///
    /// # Example
    ///
    /// ```
    /// use itam_cmdb::ownership::{AssetField, ColumnAgreement, Rule, SourcePattern};
    ///
    /// let agreement = ColumnAgreement::new()
    ///     .with_role("asset-governance", ["dana@example.com", "lee@example.com"])?
    ///     .with(Rule::field(AssetField::Owner).source(SourcePattern::role("asset-governance")).exclusive())?;
    /// assert_eq!(agreement.role("asset-governance").count(), 2);
    /// assert!(ColumnAgreement::new().with(Rule::fallback().source(SourcePattern::role("nobody"))).is_err());
    /// # Ok::<(), itam_cmdb::Error>(())
    /// ```
    pub fn with_role<I, S>(mut self, role: &str, people: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        crate::label::check_label("role", role, crate::label::MAX_KEY)?;
        let conflict = |reason: String| Error::PolicyConflict {
            scope: format!("role {role}"),
            reason,
        };
        if self.roles.contains_key(role) {
            return Err(conflict("the role is defined twice".to_owned()));
        }
        let mut holders = BTreeSet::new();
        for person in people {
            let person = person.as_ref();
            crate::label::check_label("source name", person, crate::label::MAX_KEY)?;
            if !holders.insert(person.to_owned()) {
                return Err(conflict(format!("{person} is listed twice")));
            }
        }
        self.roles.insert(role.to_owned(), holders);
        Ok(self)
    }

    /// The people who hold `role`, by name, in order; none for a role the
    /// agreement does not define.
    pub fn role(&self, role: &str) -> impl Iterator<Item = &str> {
        self.roles
            .get(role)
            .into_iter()
            .flatten()
            .map(String::as_str)
    }

    /// The roles the agreement defines, in order.
    pub fn roles(&self) -> impl Iterator<Item = &str> {
        self.roles.keys().map(String::as_str)
    }

    fn push(&mut self, rule: Rule) {
        self.labels.push(Arc::from(rule.scope.to_string()));
        self.rules.push(rule);
    }

    /// The rules, in the order given.
    #[must_use]
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rule that governs `field`; `None` when only the built-in rule
    /// applies.
    #[must_use]
    pub fn rule_for(&self, field: &Field) -> Option<&Rule> {
        self.governing(field).map(|at| &self.rules[at])
    }

    /// The position of the rule that governs `field`.
    fn governing(&self, field: &Field) -> Option<usize> {
        self.rules
            .iter()
            .enumerate()
            .filter(|(_, rule)| rule.scope.covers(field))
            .max_by_key(|(_, rule)| rule.scope.specificity())
            .map(|(at, _)| at)
    }
}

impl FieldOwnership for ColumnAgreement {
    fn decide(&self, field: &Field, current: Current<'_>, claim: &Claim) -> Verdict {
        match self.governing(field) {
            Some(at) => self.rules[at].decide(current, claim, &self.labels[at], &self.roles),
            None => Rule::new(Scope::Default).decide(current, claim, &self.built_in, &self.roles),
        }
    }
}

impl<'de> Deserialize<'de> for ColumnAgreement {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Repr {
            #[serde(default, deserialize_with = "unique_roles")]
            roles: IndexMap<String, Vec<String>>,
            rules: Vec<Rule>,
        }
        fn unique_roles<'de, D: serde::Deserializer<'de>>(
            deserializer: D,
        ) -> Result<IndexMap<String, Vec<String>>, D::Error> {
            crate::label::deserialize_unique_map(deserializer, "role", |_, _| Ok(()))
        }
        let repr = Repr::deserialize(deserializer)?;
        let with_roles = repr
            .roles
            .into_iter()
            .try_fold(Self::new(), |agreement, (role, people)| {
                agreement.with_role(&role, people)
            });
        repr.rules
            .into_iter()
            .try_fold(with_roles.map_err(serde::de::Error::custom)?, Self::with)
            .map_err(serde::de::Error::custom)
    }
}
