//! The dependency graph's queries against a naive reference: blast radius,
//! dependencies and reachability on random small graphs with cycles and
//! redundancy groups, before and after writes; then hand-made cases for the
//! direction of each kind and for quorums.

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::sync::LazyLock;

use itam_cmdb::{
    Batch, Error, Estate, Impact, ImpactQuery, ImpactState, OperationalStatus, Path, Propagation,
    Quorum, RelationKind, Relationship, ResourceId,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use crate::util::{ci, id};

// ---------------------------------------------------------------------------
// The reference
// ---------------------------------------------------------------------------

/// A kind the generator draws, and which way failure travels along
/// `a -[kind]-> b`, written out here rather than asked of the crate.
struct KindSpec {
    kind: RelationKind,
    /// b's failure impacts a.
    to_source: bool,
    /// a's failure impacts b.
    to_target: bool,
}

/// The number of kinds in [`KINDS`].
const KIND_COUNT: usize = 12;

/// The index of `MemberOf` in [`KINDS`].
const MEMBER_OF: usize = 3;

static KINDS: LazyLock<Vec<KindSpec>> = LazyLock::new(|| {
    let custom = |name, propagation| RelationKind::custom(name, propagation).unwrap();
    let spec = |kind, to_source, to_target| KindSpec {
        kind,
        to_source,
        to_target,
    };
    let kinds = vec![
        spec(RelationKind::DependsOn, true, false),
        spec(RelationKind::RunsOn, true, false),
        spec(RelationKind::Contains, false, true),
        spec(RelationKind::MemberOf, false, true),
        spec(RelationKind::ConnectsTo(Propagation::Both), true, true),
        spec(
            RelationKind::ConnectsTo(Propagation::SourceToTarget),
            false,
            true,
        ),
        spec(RelationKind::Manages, false, false),
        spec(RelationKind::ComposedOf, true, false),
        spec(
            custom("feeds from", Propagation::TargetToSource),
            true,
            false,
        ),
        spec(
            custom("replicates to", Propagation::SourceToTarget),
            false,
            true,
        ),
        spec(custom("mirrors", Propagation::Both), true, true),
        spec(custom("audits", Propagation::Never), false, false),
    ];
    assert_eq!(kinds.len(), KIND_COUNT);
    assert_eq!(kinds[MEMBER_OF].kind, RelationKind::MemberOf);
    kinds
});

fn kind_index(kind: &RelationKind) -> usize {
    KINDS
        .iter()
        .position(|spec| &spec.kind == kind)
        .unwrap_or_else(|| panic!("`{kind:?}` is not a generated kind"))
}

/// A quorum, mirrored so that the reference computes `needed` itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Q {
    AtLeast(u32),
    Percent(u8),
}

impl Q {
    fn quorum(self) -> Quorum {
        match self {
            Self::AtLeast(k) => Quorum::AtLeast(k),
            Self::Percent(p) => Quorum::Percent(p),
        }
    }

    fn needed(self, members: u32) -> u32 {
        match self {
            Self::AtLeast(k) => k,
            Self::Percent(p) => (members * u32::from(p)).div_ceil(100),
        }
    }
}

/// `from`'s failure impacts `to` through a relationship of `kind` (an index
/// into [`KINDS`]).
#[derive(Debug, Clone, Copy)]
struct Arc {
    from: usize,
    to: usize,
    kind: usize,
}

impl Arc {
    /// A member's failure reaching its group.
    fn member(self) -> bool {
        self.kind == MEMBER_OF
    }

    fn reversed(self) -> Self {
        Self {
            from: self.to,
            to: self.from,
            kind: self.kind,
        }
    }
}

/// A redundancy group as the reference sees it.
#[derive(Debug, Clone)]
struct Group {
    members: Vec<usize>,
    needed: u32,
}

impl Group {
    fn size(&self) -> u32 {
        u32::try_from(self.members.len()).unwrap()
    }

    fn tolerance(&self) -> u32 {
        self.size().saturating_sub(self.needed)
    }

    /// Members down now: failed or down in the walk, or down before it.
    fn down(&self, down: &[bool], before: &[bool]) -> u32 {
        let count = self
            .members
            .iter()
            .filter(|&&m| down[m] || before[m])
            .count();
        u32::try_from(count).unwrap()
    }

    /// Members down before the failure, by their recorded status.
    fn down_before(&self, before: &[bool]) -> u32 {
        let count = self.members.iter().filter(|&&m| before[m]).count();
        u32::try_from(count).unwrap()
    }

    /// Members the failure took down that were serving before it.
    fn taken(&self, down: &[bool], before: &[bool]) -> u32 {
        let count = self
            .members
            .iter()
            .filter(|&&m| down[m] && !before[m])
            .count();
        u32::try_from(count).unwrap()
    }

    /// Whether losing any one serving member takes the group down.
    fn needs_each(&self, before: &[bool]) -> bool {
        self.size() - self.down_before(before) <= self.needed
    }
}

/// The estate as plain vectors: node `i` is named `names[i]`.
#[derive(Debug, Clone)]
struct Model {
    names: Vec<String>,
    alive: Vec<bool>,
    /// `(source, kind, target)`: no repeats, no self-relationships.
    edges: Vec<(usize, usize, usize)>,
    quorums: Vec<Option<Q>>,
    /// Whether each item's recorded status means it is down before any
    /// failure (the crate's default rule: the status is not live).
    before: Vec<bool>,
}

impl Model {
    fn new(cis: usize) -> Self {
        Self {
            names: (0..cis).map(|i| format!("n{i}")).collect(),
            alive: vec![true; cis],
            edges: Vec::new(),
            quorums: vec![None; cis],
            before: vec![false; cis],
        }
    }

    fn len(&self) -> usize {
        self.names.len()
    }

    fn node(&self, name: &str) -> usize {
        self.names
            .iter()
            .position(|n| n == name)
            .unwrap_or_else(|| panic!("unknown node {name}"))
    }

    fn living(&self) -> Vec<usize> {
        (0..self.len()).filter(|&v| self.alive[v]).collect()
    }

    fn insert(&mut self) -> usize {
        self.names.push(format!("x{}", self.names.len()));
        self.alive.push(true);
        self.quorums.push(None);
        self.before.push(false);
        self.len() - 1
    }

    /// Returns whether the relationship is new.
    fn relate(&mut self, source: usize, kind: usize, target: usize) -> bool {
        let edge = (source, kind, target);
        let new = !self.edges.contains(&edge);
        if new {
            self.edges.push(edge);
        }
        new
    }

    fn remove(&mut self, node: usize) {
        self.alive[node] = false;
        self.quorums[node] = None;
        self.edges.retain(|&(s, _, t)| s != node && t != node);
    }

    /// Every arc along which failure travels, member edges included.
    fn arcs(&self) -> Vec<Arc> {
        let mut arcs = Vec::new();
        for &(s, kind, t) in &self.edges {
            if KINDS[kind].to_source {
                arcs.push(Arc {
                    from: t,
                    to: s,
                    kind,
                });
            }
            if KINDS[kind].to_target {
                arcs.push(Arc {
                    from: s,
                    to: t,
                    kind,
                });
            }
        }
        arcs
    }

    fn members(&self, group: usize) -> Vec<usize> {
        self.edges
            .iter()
            .filter(|&&(_, kind, t)| kind == MEMBER_OF && t == group)
            .map(|&(s, _, _)| s)
            .collect()
    }

    /// Distinct targets of membership relationships, ascending.
    fn member_targets(&self) -> Vec<usize> {
        let targets: BTreeSet<usize> = self
            .edges
            .iter()
            .filter(|&&(_, kind, _)| kind == MEMBER_OF)
            .map(|&(_, _, t)| t)
            .collect();
        targets.into_iter().collect()
    }

    /// The group `node` is, if it is one: it has members or a quorum.
    fn group(&self, node: usize) -> Option<Group> {
        let members = self.members(node);
        if members.is_empty() && self.quorums[node].is_none() {
            return None;
        }
        let size = u32::try_from(members.len()).unwrap();
        let needed = self.quorums[node].map_or(size, |q| q.needed(size));
        Some(Group { members, needed })
    }

    fn relationships(&self) -> HashSet<Relationship> {
        self.edges
            .iter()
            .map(|&(s, kind, t)| self.relationship(s, kind, t))
            .collect()
    }

    fn relationship(&self, source: usize, kind: usize, target: usize) -> Relationship {
        Relationship::new(
            id(&self.names[source]),
            KINDS[kind].kind.clone(),
            id(&self.names[target]),
        )
    }

    fn names<'a>(&self, nodes: impl IntoIterator<Item = &'a usize>) -> Vec<&str> {
        nodes.into_iter().map(|&v| self.names[v].as_str()).collect()
    }
}

const FAR: u32 = u32::MAX;

/// The blast radius by the book: least fixpoints over the whole graph, then
/// shortest activation distances by Bellman-Ford relaxation. Roots are
/// `(Failed, 0)`.
fn reference_blast(model: &Model, roots: &[usize]) -> Vec<Option<(ImpactState, u32)>> {
    let n = model.len();
    let arcs = model.arcs();
    let groups: Vec<(usize, Group)> = (0..n)
        .filter_map(|g| model.group(g).map(|group| (g, group)))
        .collect();
    let is_root = |v: usize| roots.contains(&v);
    let recorded = &model.before;

    // Failed or down: the least fixpoint. Members down before the failure
    // count towards their group from the start; a group falls only when
    // the failure takes down a member that was serving.
    let mut down = vec![false; n];
    for &r in roots {
        down[r] = true;
    }
    loop {
        let before = down.clone();
        for a in arcs.iter().filter(|a| !a.member()) {
            if down[a.from] {
                down[a.to] = true;
            }
        }
        for (g, group) in &groups {
            if group.down(&down, recorded) > group.tolerance() && group.taken(&down, recorded) > 0 {
                down[*g] = true;
            }
        }
        if down == before {
            break;
        }
    }

    // Degraded: the least fixpoint over what is not down.
    let mut degraded = vec![false; n];
    loop {
        let before = degraded.clone();
        for (g, group) in &groups {
            if !down[*g] && group.taken(&down, recorded) > 0 {
                degraded[*g] = true;
            }
        }
        for a in &arcs {
            if degraded[a.from] && !down[a.to] {
                degraded[a.to] = true;
            }
        }
        if degraded == before {
            break;
        }
    }

    let mut distance = vec![FAR; n];
    for &r in roots {
        distance[r] = 0;
    }
    relax(&mut distance, |distance| {
        let mut best = vec![FAR; n];
        for a in arcs.iter().filter(|a| !a.member() && !is_root(a.to)) {
            best[a.to] = best[a.to].min(distance[a.from].saturating_add(1));
        }
        for (g, group) in groups.iter().filter(|(g, _)| !is_root(*g)) {
            let mut known: Vec<u32> = group
                .members
                .iter()
                .filter(|&&m| !recorded[m])
                .map(|&m| distance[m])
                .filter(|&d| d != FAR)
                .collect();
            known.sort_unstable();
            let missing = group
                .tolerance()
                .saturating_sub(group.down_before(recorded));
            if let Some(&d) = known.get(missing as usize) {
                best[*g] = best[*g].min(d + 1);
            }
        }
        best
    });

    let mut degraded_distance = vec![FAR; n];
    relax(&mut degraded_distance, |dd| {
        let mut best = vec![FAR; n];
        for (g, group) in groups.iter().filter(|(g, _)| degraded[*g]) {
            for &m in group.members.iter().filter(|&&m| down[m] && !recorded[m]) {
                best[*g] = best[*g].min(distance[m] + 1);
            }
        }
        for a in arcs.iter().filter(|a| degraded[a.from] && degraded[a.to]) {
            best[a.to] = best[a.to].min(dd[a.from].saturating_add(1));
        }
        best
    });

    (0..n)
        .map(|v| {
            if is_root(v) {
                Some((ImpactState::Failed, 0))
            } else if down[v] {
                assert_ne!(distance[v], FAR, "reference: down node without distance");
                Some((ImpactState::Down, distance[v]))
            } else if degraded[v] {
                assert_ne!(degraded_distance[v], FAR, "reference: degraded node");
                Some((ImpactState::Degraded, degraded_distance[v]))
            } else {
                assert_eq!(distance[v], FAR, "reference: distance for an up node");
                None
            }
        })
        .collect()
}

/// Lowers `distance` towards `candidates(distance)` until nothing changes.
fn relax(distance: &mut [u32], candidates: impl Fn(&[u32]) -> Vec<u32>) {
    loop {
        let best = candidates(distance);
        let mut changed = false;
        for (d, b) in distance.iter_mut().zip(best) {
            if b < *d {
                *d = b;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}

/// A textbook breadth-first search over `arcs`: the distance of every node
/// reached from `roots` (roots at 0), never entering a stopped node nor
/// going deeper than `max_depth`.
fn bfs(
    n: usize,
    arcs: &[Arc],
    roots: &[usize],
    max_depth: Option<u32>,
    stopped: &[bool],
) -> Vec<Option<u32>> {
    let mut distance = vec![None; n];
    let mut queue = VecDeque::new();
    for &r in roots {
        if distance[r].is_none() {
            distance[r] = Some(0);
            queue.push_back(r);
        }
    }
    while let Some(u) = queue.pop_front() {
        let d = distance[u].unwrap();
        if max_depth.is_some_and(|max| d >= max) {
            continue;
        }
        for a in arcs.iter().filter(|a| a.from == u) {
            if !stopped[a.to] && distance[a.to].is_none() {
                distance[a.to] = Some(d + 1);
                queue.push_back(a.to);
            }
        }
    }
    distance
}

// ---------------------------------------------------------------------------
// Generation and set-up
// ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct GroupSpec {
    pick: usize,
    percent: bool,
    amount: u32,
    list_members: bool,
    /// Raw picks of members that join when the quorum is declared.
    joining: Vec<usize>,
}

#[derive(Debug, Clone)]
struct Spec {
    cis: usize,
    /// `(source, kind, target)`, repeats and self-relationships included
    /// (the latter are skipped).
    relations: Vec<(usize, usize, usize)>,
    groups: Vec<GroupSpec>,
    roots: Vec<usize>,
    /// Items recorded with a status that is not live (down before any
    /// failure).
    before: Vec<bool>,
}

/// Any kind, with `MemberOf` four times as likely as each other.
fn kind() -> impl Strategy<Value = usize> + Clone {
    (0..KIND_COUNT + 3).prop_map(|k| if k >= KIND_COUNT { MEMBER_OF } else { k })
}

fn spec() -> impl Strategy<Value = Spec> {
    let group = (
        any::<usize>(),
        any::<bool>(),
        any::<u32>(),
        any::<bool>(),
        prop::collection::vec(any::<usize>(), 0..6),
    )
        .prop_map(|(pick, percent, amount, list_members, joining)| GroupSpec {
            pick,
            percent,
            amount,
            list_members,
            joining,
        });
    (2..=40usize).prop_flat_map(move |cis| {
        let relation = (0..cis, kind(), 0..cis);
        (
            // Sparse graphs as often as dense ones.
            prop_oneof![
                prop::collection::vec(relation.clone(), 0..=cis),
                prop::collection::vec(relation, 0..120),
            ],
            prop::collection::vec(group.clone(), 0..8),
            prop::collection::vec(0..cis, 1..=4),
            prop::collection::vec(prop::bool::weighted(0.2), cis),
        )
            .prop_map(move |(relations, groups, roots, before)| Spec {
                cis,
                relations,
                groups,
                roots,
                before,
            })
    })
}

/// Builds the estate in one batch, and its reference.
/// The statuses that are live, and those that are not: the crate's default
/// rule for what is down before a failure.
const SERVING: [OperationalStatus; 3] = [
    OperationalStatus::Operational,
    OperationalStatus::Degraded,
    OperationalStatus::Standby,
];
const NOT_SERVING: [OperationalStatus; 4] = [
    OperationalStatus::Planned,
    OperationalStatus::NonOperational,
    OperationalStatus::InMaintenance,
    OperationalStatus::Retired,
];

fn build(spec: &Spec) -> (Estate, Model) {
    let mut model = Model::new(spec.cis);
    model.before.clone_from(&spec.before);
    let mut batch = Batch::new();
    for (i, name) in model.names.iter().enumerate() {
        let status = if spec.before[i] {
            NOT_SERVING[i % NOT_SERVING.len()]
        } else {
            SERVING[i % SERVING.len()]
        };
        let item = ci(name).to_builder().status(status).build().unwrap();
        batch.insert_ci(item);
    }
    for &(s, kind, t) in &spec.relations {
        if s != t {
            let r = model.relationship(s, kind, t);
            batch.relate(r.source().clone(), r.kind().clone(), r.target().clone());
            model.relate(s, kind, t);
        }
    }
    for g in &spec.groups {
        let targets = model.member_targets();
        let group = if g.pick % 4 != 0 && !targets.is_empty() {
            targets[g.pick / 4 % targets.len()]
        } else {
            g.pick / 4 % spec.cis
        };
        let mut listed = if g.list_members {
            model.members(group)
        } else {
            Vec::new()
        };
        for &pick in &g.joining {
            let member = pick % spec.cis;
            if member != group {
                model.relate(member, MEMBER_OF, group);
                listed.push(member);
            }
        }
        let members = model.members(group).len();
        let quorum = if g.percent || members == 0 {
            Q::Percent(u8::try_from(1 + g.amount % 100).unwrap())
        } else {
            Q::AtLeast(1 + g.amount % u32::try_from(members).unwrap())
        };
        batch.define_group(
            id(&model.names[group]),
            quorum.quorum(),
            listed.iter().map(|&m| id(&model.names[m])),
        );
        model.quorums[group] = Some(quorum);
    }
    let mut estate = Estate::new();
    estate.apply(batch).expect("a valid batch");
    (estate, model)
}

/// The roots of a spec, in query order (repeats kept).
fn roots_of(spec: &Spec) -> Vec<usize> {
    spec.roots.iter().map(|&r| r % spec.cis).collect()
}

fn dedup(nodes: &[usize]) -> Vec<usize> {
    let mut seen = Vec::new();
    for &v in nodes {
        if !seen.contains(&v) {
            seen.push(v);
        }
    }
    seen
}

/// The walk options of a query.
#[derive(Debug, Clone, Default)]
struct Options {
    max_depth: Option<u32>,
    /// Raw picks of items to stop at; roots and dead items are skipped.
    stop: Vec<usize>,
    /// Kinds to follow; empty follows every kind.
    follow: Vec<usize>,
}

fn options() -> impl Strategy<Value = Options> {
    (
        prop::option::of(0..6u32),
        prop::collection::vec(any::<usize>(), 0..4),
        prop_oneof![Just(Vec::new()), prop::collection::vec(kind(), 1..4)],
    )
        .prop_map(|(max_depth, stop, follow)| Options {
            max_depth,
            stop,
            follow,
        })
}

impl Options {
    fn stopped(&self, model: &Model, roots: &[usize]) -> Vec<bool> {
        let mut stopped = vec![false; model.len()];
        for &pick in &self.stop {
            let v = pick % model.len();
            if model.alive[v] && !roots.contains(&v) {
                stopped[v] = true;
            }
        }
        stopped
    }

    fn follows(&self, kind: usize) -> bool {
        self.follow.is_empty() || self.follow.contains(&kind)
    }

    fn query(&self, model: &Model, roots: &[usize]) -> ImpactQuery {
        let mut query = ImpactQuery::scenario(roots.iter().map(|&r| id(&model.names[r])));
        if let Some(depth) = self.max_depth {
            query = query.max_depth(depth);
        }
        let stopped = self.stopped(model, roots);
        for v in (0..model.len()).filter(|&v| stopped[v]) {
            query = query.stop_at(id(&model.names[v]));
        }
        for &kind in &self.follow {
            query = query.follow(KINDS[kind].kind.clone());
        }
        query
    }
}

// ---------------------------------------------------------------------------
// Checks of the crate against the reference
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Walk {
    /// Each step's item is impacted by the previous one's failure.
    Impact,
    /// Each step's item is one the previous one depends on.
    Depends,
}

/// Checks that `path` is a chain of real relationships, each walked in a
/// direction failure travels, with no repeated item; returns its nodes.
fn path_nodes(
    path: &Path<'_>,
    model: &Model,
    relationships: &HashSet<Relationship>,
    walk: Walk,
) -> Result<Vec<usize>, TestCaseError> {
    let steps = path.steps();
    prop_assert!(!steps.is_empty(), "an empty path");
    prop_assert!(steps[0].kind().is_none(), "{path}: the root has a kind");
    let mut nodes = vec![model.node(steps[0].id().as_str())];
    for pair in steps.windows(2) {
        let (prev, this) = (pair[0], pair[1]);
        let Some(kind) = this.kind() else {
            return Err(TestCaseError::fail(format!("{path}: a step without kind")));
        };
        let (source, target) = if this.forward() {
            (prev.id(), this.id())
        } else {
            (this.id(), prev.id())
        };
        let relationship = Relationship::new(source.clone(), kind.clone(), target.clone());
        prop_assert!(
            relationships.contains(&relationship),
            "{path}: {relationship} is not in the estate"
        );
        let spec = &KINDS[kind_index(kind)];
        let travels = match (walk, this.forward()) {
            (Walk::Impact, true) | (Walk::Depends, false) => spec.to_target,
            (Walk::Impact, false) | (Walk::Depends, true) => spec.to_source,
        };
        prop_assert!(travels, "{path}: failure does not travel along {kind}");
        let node = model.node(this.id().as_str());
        prop_assert!(!nodes.contains(&node), "{path}: repeats {}", this.id());
        nodes.push(node);
    }
    Ok(nodes)
}

/// Everything observable about an impact, as text.
fn fingerprint(impact: &Impact<'_>) -> Vec<String> {
    let roots = impact.roots().map(ToString::to_string);
    let items = impact.iter().map(|item| {
        format!(
            "{} {} {} [{}] {:?}",
            item.id(),
            item.state(),
            item.distance(),
            item.path(),
            item.group().map(|g| g.to_string())
        )
    });
    roots.chain(items).collect()
}

/// Checks that the estate holds exactly the model's relationships and groups.
fn check_estate(estate: &Estate, model: &Model) -> Result<(), TestCaseError> {
    let cmdb = estate.cmdb();
    let got: HashSet<Relationship> = cmdb.relationships().collect();
    prop_assert_eq!(cmdb.relationship_count(), got.len());
    prop_assert_eq!(got, model.relationships());
    prop_assert_eq!(cmdb.len(), model.living().len());
    for v in model.living() {
        let name = &model.names[v];
        let members: BTreeSet<&str> = cmdb.members(name).map(ResourceId::as_str).collect();
        let want: BTreeSet<&str> = model.names(&model.members(v)).into_iter().collect();
        prop_assert_eq!(members, want, "members of {}", name);
        prop_assert_eq!(cmdb.quorum(name), model.quorums[v].map(Q::quorum));
    }
    Ok(())
}

/// Checks the blast radius of `roots` against the reference.
fn check_blast(estate: &Estate, model: &Model, roots: &[usize]) -> Result<(), TestCaseError> {
    let cmdb = estate.cmdb();
    let query = ImpactQuery::scenario(roots.iter().map(|&r| id(&model.names[r])));
    let impact = cmdb.blast_radius(&query).unwrap();
    let expected = reference_blast(model, roots);

    let listed: Vec<&str> = impact.roots().map(ResourceId::as_str).collect();
    prop_assert_eq!(listed, model.names(&dedup(roots)));

    let items: Vec<(usize, ImpactState, u32)> = impact
        .iter()
        .map(|item| {
            let node = model.node(item.id().as_str());
            (node, item.state(), item.distance())
        })
        .collect();
    let got: BTreeMap<&str, ImpactState> = items
        .iter()
        .map(|&(v, state, _)| (model.names[v].as_str(), state))
        .collect();
    let want: BTreeMap<&str, ImpactState> = expected
        .iter()
        .enumerate()
        .filter_map(|(v, e)| e.map(|(state, _)| (model.names[v].as_str(), state)))
        .filter(|&(_, state)| state != ImpactState::Failed)
        .collect();
    prop_assert_eq!(got.len(), items.len(), "an item is listed twice");
    prop_assert_eq!(&got, &want);
    prop_assert_eq!(impact.len(), items.len());
    prop_assert_eq!(impact.is_empty(), items.is_empty());
    prop_assert_eq!(
        impact.down().count(),
        got.values().filter(|s| **s == ImpactState::Down).count()
    );

    for &(v, state, distance) in &items {
        prop_assert_eq!(
            Some((state, distance)),
            expected[v],
            "distance of {}",
            model.names[v]
        );
    }
    // Down items nearest first, then degraded items nearest first.
    let order: Vec<(bool, u32)> = items
        .iter()
        .map(|&(_, state, d)| (state == ImpactState::Degraded, d))
        .collect();
    prop_assert!(
        order.windows(2).all(|w| w[0] <= w[1]),
        "out of order: {:?}",
        fingerprint(&impact)
    );

    check_blast_items(&impact, model, roots, &expected)?;

    let again = cmdb.blast_radius(&query).unwrap();
    prop_assert_eq!(fingerprint(&impact), fingerprint(&again));
    Ok(())
}

/// Checks each blast radius item's path and group outcome.
fn check_blast_items(
    impact: &Impact<'_>,
    model: &Model,
    roots: &[usize],
    expected: &[Option<(ImpactState, u32)>],
) -> Result<(), TestCaseError> {
    let relationships = model.relationships();
    let is_down = |v: usize| {
        matches!(
            expected[v],
            Some((ImpactState::Failed | ImpactState::Down, _))
        )
    };
    let down: Vec<bool> = (0..model.len()).map(is_down).collect();
    for item in impact.iter() {
        let path = item.path();
        let nodes = path_nodes(&path, model, &relationships, Walk::Impact)?;
        let node = model.node(item.id().as_str());
        prop_assert!(roots.contains(&nodes[0]), "{path}: not from a root");
        prop_assert_eq!(nodes.last(), Some(&node), "{}: not to the item", path);
        prop_assert_eq!(path.hops(), item.distance() as usize, "{}", path);
        for &v in &nodes[..nodes.len() - 1] {
            prop_assert!(
                is_down(v) || item.state() == ImpactState::Degraded,
                "{path}: a down item explained through {}",
                model.names[v]
            );
        }
        match model.group(node) {
            None => prop_assert_eq!(item.group(), None, "{} is no group", item.id()),
            Some(group) => {
                let outcome = item.group();
                prop_assert!(outcome.is_some(), "{} is a group", item.id());
                let outcome = outcome.unwrap();
                prop_assert_eq!(outcome.members(), group.size(), "{}", item.id());
                prop_assert_eq!(outcome.needed(), group.needed, "{}", item.id());
                // Every failed or down member counts, whatever the group's state.
                let actual = group.down(&down, &model.before);
                prop_assert_eq!(outcome.down(), actual, "{}: {}", item.id(), outcome);
                prop_assert_eq!(
                    outcome.down_before(),
                    group.down_before(&model.before),
                    "{}: {}",
                    item.id(),
                    outcome
                );
                if item.state() == ImpactState::Degraded {
                    // (A group left with fewer serving members than its
                    // quorum needs, by its members or their recorded
                    // statuses, never holds, yet is only down once a
                    // serving member fails.)
                    let meetable = group.needed <= group.size() - group.down_before(&model.before);
                    prop_assert!(outcome.holds() || !meetable, "{}: {}", item.id(), outcome);
                }
            }
        }
    }
    Ok(())
}

/// Checks `reachable` against a breadth-first search.
fn check_reach(
    estate: &Estate,
    model: &Model,
    roots: &[usize],
    options: &Options,
) -> Result<(), TestCaseError> {
    let query = options.query(model, roots);
    let reach = estate.cmdb().reachable(&query).unwrap();
    let arcs: Vec<Arc> = model
        .arcs()
        .into_iter()
        .filter(|a| options.follows(a.kind))
        .collect();
    let stopped = options.stopped(model, roots);
    let want = bfs(model.len(), &arcs, roots, options.max_depth, &stopped);

    let got: Vec<usize> = reach.iter().map(|v| model.node(v.as_str())).collect();
    prop_assert_eq!(reach.len(), got.len());
    prop_assert_eq!(reach.is_empty(), got.is_empty());
    let got_set: BTreeSet<&str> = model.names(&got).into_iter().collect();
    let want_set: BTreeSet<&str> = (0..model.len())
        .filter(|&v| want[v].is_some_and(|d| d > 0))
        .map(|v| model.names[v].as_str())
        .collect();
    prop_assert_eq!(got_set.len(), got.len(), "an item is listed twice");
    prop_assert_eq!(&got_set, &want_set);
    let distances: Vec<u32> = got.iter().map(|&v| want[v].unwrap()).collect();
    prop_assert!(
        distances.windows(2).all(|w| w[0] <= w[1]),
        "not breadth first: {:?}",
        model.names(&got)
    );
    for name in &want_set {
        prop_assert!(reach.contains(*name));
    }
    let again = estate.cmdb().reachable(&query).unwrap();
    prop_assert!(reach.iter().eq(again.iter()));
    Ok(())
}

/// Dependencies by the book: the roots' required items by a breadth-first
/// search over non-membership arcs; every other item within reach by a
/// plain breadth-first search over every arc, at its shortest distance.
fn reference_dependencies(
    model: &Model,
    roots: &[usize],
    options: &Options,
) -> Vec<Option<(ImpactState, u32)>> {
    let n = model.len();
    let arcs = dependency_arcs(model, options);
    let stopped = options.stopped(model, roots);
    // A member is required through a group that cannot lose it.
    let plain: Vec<Arc> = arcs
        .iter()
        .copied()
        .filter(|a| !a.member() || needed_member(model, a.from, a.to))
        .collect();
    let required = bfs(n, &plain, roots, options.max_depth, &stopped);
    let all = bfs(n, &arcs, roots, options.max_depth, &stopped);
    (0..n)
        .map(|v| match (required[v], all[v]) {
            _ if roots.contains(&v) => Some((ImpactState::Failed, 0)),
            (Some(d), _) => Some((ImpactState::Required, d)),
            (None, None) => None,
            (None, Some(d)) => Some((ImpactState::BehindGroup, d)),
        })
        .collect()
}

/// Whether `member`'s failure alone takes `group` down: it serves, and the
/// group cannot lose a serving member.
fn needed_member(model: &Model, group: usize, member: usize) -> bool {
    !model.before[member]
        && model
            .group(group)
            .is_some_and(|g| g.needs_each(&model.before))
}

/// The arcs from an item to what it depends on: failure arcs reversed,
/// restricted to the followed kinds.
fn dependency_arcs(model: &Model, options: &Options) -> Vec<Arc> {
    model
        .arcs()
        .into_iter()
        .filter(|a| options.follows(a.kind))
        .map(Arc::reversed)
        .collect()
}

/// Checks `dependencies` against the reference.
fn check_dependencies(
    estate: &Estate,
    model: &Model,
    roots: &[usize],
    options: &Options,
) -> Result<(), TestCaseError> {
    let cmdb = estate.cmdb();
    let query = options.query(model, roots);
    let needs = cmdb.dependencies(&query).unwrap();
    let expected = reference_dependencies(model, roots, options);

    let listed: Vec<&str> = needs.roots().map(ResourceId::as_str).collect();
    prop_assert_eq!(listed, model.names(&dedup(roots)));
    let got: BTreeMap<&str, (ImpactState, u32)> = needs
        .iter()
        .map(|item| (item.id().as_str(), (item.state(), item.distance())))
        .collect();
    let want: BTreeMap<&str, (ImpactState, u32)> = (0..model.len())
        .filter_map(|v| expected[v].map(|e| (model.names[v].as_str(), e)))
        .filter(|&(_, (state, _))| state != ImpactState::Failed)
        .collect();
    prop_assert_eq!(got.len(), needs.len(), "an item is listed twice");
    prop_assert_eq!(&got, &want);
    // Required items nearest first, then items behind a group nearest first.
    let order: Vec<(bool, u32)> = needs
        .iter()
        .map(|item| (item.state() == ImpactState::BehindGroup, item.distance()))
        .collect();
    prop_assert!(
        order.windows(2).all(|w| w[0] <= w[1]),
        "out of order: {:?}",
        fingerprint(&needs)
    );
    {
        // Everything the roots depend on within the depth is listed, one way
        // or the other.
        let stopped = options.stopped(model, roots);
        let all = bfs(
            model.len(),
            &dependency_arcs(model, options),
            roots,
            options.max_depth,
            &stopped,
        );
        let reached: BTreeSet<&str> = (0..model.len())
            .filter(|&v| all[v].is_some_and(|d| d > 0))
            .map(|v| model.names[v].as_str())
            .collect();
        prop_assert_eq!(got.keys().copied().collect::<BTreeSet<_>>(), reached);
    }
    check_dependency_items(estate, &needs, model, roots, options)?;
    let again = cmdb.dependencies(&query).unwrap();
    prop_assert_eq!(fingerprint(&needs), fingerprint(&again));
    Ok(())
}

/// Checks each dependency's path, and that a required item's failure alone
/// takes its root down.
fn check_dependency_items(
    estate: &Estate,
    needs: &Impact<'_>,
    model: &Model,
    roots: &[usize],
    options: &Options,
) -> Result<(), TestCaseError> {
    let relationships = model.relationships();
    let stopped = options.stopped(model, roots);
    for item in needs.iter() {
        let path = item.path();
        let nodes = path_nodes(&path, model, &relationships, Walk::Depends)?;
        prop_assert!(roots.contains(&nodes[0]), "{path}: not from a root");
        prop_assert_eq!(nodes.last(), Some(&model.node(item.id().as_str())));
        prop_assert_eq!(path.hops(), item.distance() as usize, "{}", path);
        prop_assert!(nodes.iter().all(|&v| !stopped[v]), "{path}: walks a stop");
        // Required unless the chain passes a group that can lose the
        // member it leads to.
        let through_group = nodes.windows(2).zip(&path.steps()[1..]).any(|(w, step)| {
            step.kind() == Some(&RelationKind::MemberOf) && !needed_member(model, w[0], w[1])
        });
        let state = if through_group {
            ImpactState::BehindGroup
        } else {
            ImpactState::Required
        };
        prop_assert_eq!(item.state(), state, "{}", path);
        if state == ImpactState::Required {
            let blast = estate.cmdb().blast_radius(item.id()).unwrap();
            let root = path.steps()[0].id();
            prop_assert_eq!(
                blast.get(root).map(|r| r.state()),
                Some(ImpactState::Down),
                "{} is required by {} ({}) but its failure does not take it down",
                item.id(),
                root,
                path
            );
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Writes
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum Write {
    /// Removes the relationship at this position (modulo the count).
    Unrelate(usize),
    /// Removes the living item at this position (modulo the count).
    RemoveCi(usize),
    /// Relates two living items (self-relationships must be refused).
    Relate(usize, usize, usize),
    /// Inserts a new item and relates it to a living one, either way.
    InsertCi(usize, usize, bool),
    /// Declares a quorum on a living item: a percentage, or at least some
    /// of its members (one too many is refused first).
    DefineGroup(usize, bool, u32),
}

fn write() -> impl Strategy<Value = Write> {
    prop_oneof![
        any::<usize>().prop_map(Write::Unrelate),
        any::<usize>().prop_map(Write::RemoveCi),
        (any::<usize>(), kind(), any::<usize>()).prop_map(|(s, k, t)| Write::Relate(s, k, t)),
        (any::<usize>(), kind(), any::<bool>()).prop_map(|(a, k, f)| Write::InsertCi(a, k, f)),
        (any::<usize>(), any::<bool>(), any::<u32>())
            .prop_map(|(g, percent, amount)| Write::DefineGroup(g, percent, amount)),
    ]
}

fn apply(estate: &mut Estate, model: &mut Model, write: Write) -> Result<(), TestCaseError> {
    let living = model.living();
    let pick = |i: usize| living[i % living.len()];
    match write {
        Write::Unrelate(i) => {
            if model.edges.is_empty() {
                return Ok(());
            }
            let (s, kind, t) = model.edges[i % model.edges.len()];
            let r = model.relationship(s, kind, t);
            prop_assert!(
                estate
                    .unrelate(r.source(), r.kind().clone(), r.target())
                    .unwrap()
            );
            prop_assert!(
                !estate
                    .unrelate(r.source(), r.kind().clone(), r.target())
                    .unwrap()
            );
            model.edges.retain(|&e| e != (s, kind, t));
        }
        Write::RemoveCi(i) => {
            if living.len() <= 1 {
                return Ok(());
            }
            let v = pick(i);
            let removed = estate.remove_ci(&id(&model.names[v])).unwrap();
            prop_assert_eq!(removed.id().as_str(), model.names[v].as_str());
            model.remove(v);
        }
        Write::Relate(s, kind, t) => {
            let (s, t) = (pick(s), pick(t));
            let r = model.relationship(s, kind, t);
            let result = estate.relate(r.source(), r.kind().clone(), r.target());
            if s == t {
                prop_assert_eq!(result, Err(Error::SelfRelationship(r.source().clone())));
            } else {
                prop_assert_eq!(result, Ok(model.relate(s, kind, t)));
            }
        }
        Write::InsertCi(anchor, kind, forward) => {
            let anchor = pick(anchor);
            let new = model.insert();
            estate.insert_ci(ci(&model.names[new])).unwrap();
            let (s, t) = if forward {
                (new, anchor)
            } else {
                (anchor, new)
            };
            let r = model.relationship(s, kind, t);
            prop_assert!(
                estate
                    .relate(r.source(), r.kind().clone(), r.target())
                    .unwrap()
            );
            model.relate(s, kind, t);
        }
        Write::DefineGroup(group, percent, amount) => {
            let group = pick(group);
            let members = u32::try_from(model.members(group).len()).unwrap();
            let too_many = Quorum::AtLeast(members + 1);
            let before = estate.clone();
            let refused = estate.define_group(&id(&model.names[group]), too_many, []);
            let invalid = matches!(refused, Err(Error::InvalidQuorum { .. }));
            prop_assert!(invalid, "{too_many} accepted for {} members", members);
            prop_assert_eq!(&*estate, &before);
            let quorum = if percent || members == 0 {
                Q::Percent(u8::try_from(1 + amount % 100).unwrap())
            } else {
                Q::AtLeast(1 + amount % members)
            };
            estate
                .define_group(&id(&model.names[group]), quorum.quorum(), [])
                .unwrap();
            model.quorums[group] = Some(quorum);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn blast_radius_matches_the_reference(spec in spec()) {
        let (estate, model) = build(&spec);
        check_estate(&estate, &model)?;
        check_blast(&estate, &model, &roots_of(&spec))?;
    }

    #[test]
    fn reachable_matches_a_breadth_first_search(spec in spec(), options in options()) {
        let (estate, model) = build(&spec);
        let roots = roots_of(&spec);
        check_reach(&estate, &model, &roots, &Options::default())?;
        check_reach(&estate, &model, &roots, &options)?;
    }

    /// Downward reachability: a breadth-first search over the dependency
    /// arcs, and exactly the items `dependencies` reports.
    #[test]
    fn reachable_below_matches_a_breadth_first_search(spec in spec(), options in options()) {
        let (estate, model) = build(&spec);
        let roots = roots_of(&spec);
        for options in [Options::default(), options] {
            let query = options.query(&model, &roots);
            let below = estate.cmdb().reachable_below(&query).unwrap();
            let stopped = options.stopped(&model, &roots);
            let want = bfs(model.len(), &dependency_arcs(&model, &options), &roots, options.max_depth, &stopped);
            let got: Vec<usize> = below.iter().map(|v| model.node(v.as_str())).collect();
            let got_set: BTreeSet<usize> = got.iter().copied().collect();
            let want_set: BTreeSet<usize> = (0..model.len()).filter(|&v| want[v].is_some_and(|d| d > 0)).collect();
            prop_assert_eq!(got_set.len(), got.len(), "an item is listed twice");
            prop_assert_eq!(&got_set, &want_set);
            let distances: Vec<u32> = got.iter().map(|&v| want[v].unwrap()).collect();
            prop_assert!(distances.windows(2).all(|w| w[0] <= w[1]), "not breadth first");
            let needs = estate.cmdb().dependencies(&query).unwrap();
            let listed: BTreeSet<usize> = needs.iter().map(|i| model.node(i.id().as_str())).collect();
            prop_assert_eq!(listed, got_set);
        }
    }

    #[test]
    fn dependencies_match_the_reference(spec in spec(), options in options()) {
        let (estate, model) = build(&spec);
        let roots = roots_of(&spec);
        check_dependencies(&estate, &model, &roots, &Options::default())?;
        check_dependencies(&estate, &model, &roots, &options)?;
    }

    /// Single points of failure against one blast radius per candidate
    /// (the naive way): an item is listed exactly when its failure alone
    /// takes the root down, at its dependency distance, with chains from
    /// it to the root.
    #[test]
    fn single_points_of_failure_match_one_blast_radius_per_candidate(spec in spec()) {
        let (estate, model) = build(&spec);
        let root = roots_of(&spec)[0];
        let points = estate.cmdb().single_points_of_failure(id(&model.names[root])).unwrap();
        let needs = reference_dependencies(&model, &[root], &Options::default());
        let want: BTreeMap<&str, u32> = (0..model.len())
            .filter(|&c| c != root)
            .filter_map(|c| needs[c].map(|(_, d)| (c, d)))
            .filter(|&(c, _)| {
                matches!(reference_blast(&model, &[c])[root], Some((ImpactState::Down, _)))
            })
            .map(|(c, d)| (model.names[c].as_str(), d))
            .collect();
        let got: BTreeMap<&str, u32> = points
            .iter()
            .map(|p| (p.id().as_str(), p.distance()))
            .collect();
        prop_assert_eq!(got.len(), points.len(), "an item is listed twice");
        prop_assert_eq!(&got, &want);
        let distances: Vec<u32> = points.iter().map(itam_cmdb::SinglePoint::distance).collect();
        prop_assert!(distances.windows(2).all(|w| w[0] <= w[1]), "nearest first");
        let relationships = model.relationships();
        for point in points.iter() {
            prop_assert_eq!(point.service().as_str(), model.names[root].as_str());
            for path in point.paths() {
                let nodes = path_nodes(&path, &model, &relationships, Walk::Impact)?;
                prop_assert_eq!(nodes[0], model.node(point.id().as_str()), "{}", path);
                prop_assert_eq!(nodes.last(), Some(&root), "{}", path);
            }
            prop_assert_eq!(&point.path(), &point.paths()[0]);
            prop_assert_eq!(point.path_count(), point.paths().len());
            if point.common_mode() {
                prop_assert!(point.paths().len() >= 2, "{}: one chain", point.id());
            }
        }
    }

    /// What one answer has that another has not, and what both have: a
    /// partition of the first answer's items, in its order, by whether the
    /// second mentions them (as an item or a root).
    #[test]
    fn set_operations_partition_an_answer_by_the_other(spec in spec(), other in 0..40usize) {
        let (estate, model) = build(&spec);
        let a = &model.names[roots_of(&spec)[0]];
        let b = &model.names[other % model.len()];
        let cmdb = estate.cmdb();
        let first = cmdb.dependencies(id(a)).unwrap();
        let second = cmdb.blast_radius(id(b)).unwrap();
        let mentioned: BTreeSet<&str> = second
            .iter()
            .map(|item| item.id().as_str())
            .chain(second.roots().map(ResourceId::as_str))
            .collect();
        let except: Vec<&str> = first.except(&second).map(|i| i.id().as_str()).collect();
        let shared: Vec<&str> = first.shared_with(&second).map(|i| i.id().as_str()).collect();
        let all: Vec<&str> = first.iter().map(|i| i.id().as_str()).collect();
        let want_except: Vec<&str> = all.iter().copied().filter(|i| !mentioned.contains(i)).collect();
        let want_shared: Vec<&str> = all.iter().copied().filter(|i| mentioned.contains(i)).collect();
        prop_assert_eq!(except, want_except);
        prop_assert_eq!(shared, want_shared);
    }

    #[test]
    fn queries_reflect_every_write(
        spec in spec(),
        writes in prop::collection::vec(write(), 1..5),
    ) {
        let (mut estate, mut model) = build(&spec);
        let roots = roots_of(&spec);
        // Warm the index so that a stale one would be noticed.
        check_blast(&estate, &model, &roots)?;
        for write in writes {
            apply(&mut estate, &mut model, write)?;
            check_estate(&estate, &model)?;
            let living: Vec<usize> = roots.iter().copied().filter(|&r| model.alive[r]).collect();
            if let Some(&gone) = roots.iter().find(|&&r| !model.alive[r]) {
                let query = ImpactQuery::scenario(roots.iter().map(|&r| id(&model.names[r])));
                let unknown = Error::UnknownCi(id(&model.names[gone]));
                prop_assert_eq!(estate.cmdb().blast_radius(&query).unwrap_err(), unknown.clone());
                prop_assert_eq!(estate.cmdb().dependencies(&query).unwrap_err(), unknown.clone());
                prop_assert_eq!(estate.cmdb().reachable(&query).unwrap_err(), unknown);
            }
            if living.is_empty() {
                continue;
            }
            check_blast(&estate, &model, &living)?;
            check_reach(&estate, &model, &living, &Options::default())?;
            check_dependencies(&estate, &model, &living, &Options::default())?;
        }
    }
}

// ---------------------------------------------------------------------------
// Hand-made cases
// ---------------------------------------------------------------------------

/// `(id, state, distance, path)` of every item, in order.
fn summary(impact: &Impact<'_>) -> Vec<(String, ImpactState, u32, String)> {
    impact
        .iter()
        .map(|item| {
            (
                item.id().to_string(),
                item.state(),
                item.distance(),
                item.path().to_string(),
            )
        })
        .collect()
}

fn row(
    id: &str,
    state: ImpactState,
    distance: u32,
    path: &str,
) -> (String, ImpactState, u32, String) {
    (id.to_owned(), state, distance, path.to_owned())
}

fn estate_of(cis: &[&str], relations: &[(&str, RelationKind, &str)]) -> Estate {
    let mut batch = Batch::new();
    for name in cis {
        batch.insert_ci(ci(name));
    }
    for (source, kind, target) in relations {
        batch.relate(id(source), kind.clone(), id(target));
    }
    let mut estate = Estate::new();
    estate.apply(batch).unwrap();
    estate
}

/// `web-1..3` in `web-pool` (needs 2 up); `shop` depends on the pool.
fn pool() -> Estate {
    let mut estate = estate_of(
        &["web-pool", "web-1", "web-2", "web-3", "shop"],
        &[("shop", RelationKind::DependsOn, "web-pool")],
    );
    estate
        .define_group(
            &id("web-pool"),
            Quorum::AtLeast(2),
            ["web-1", "web-2", "web-3"].map(id),
        )
        .unwrap();
    estate
}

fn scenario(roots: &[&str]) -> ImpactQuery {
    ImpactQuery::scenario(roots.iter().map(|r| id(r)))
}

#[test]
fn a_pool_that_keeps_its_quorum_is_degraded() {
    use ImpactState::Degraded;
    let estate = pool();
    let impact = estate.cmdb().blast_radius(id("web-1")).unwrap();
    assert_eq!(
        summary(&impact),
        [
            row("web-pool", Degraded, 1, "web-1 -[member of]-> web-pool"),
            row(
                "shop",
                Degraded,
                2,
                "web-1 -[member of]-> web-pool <-[depends on]- shop"
            ),
        ]
    );
    let outcome = impact.get("web-pool").unwrap().group().unwrap();
    assert!(outcome.holds());
    assert_eq!(outcome.to_string(), "1 of 3 members down; needs 2 up, 2 up");
    assert_eq!(impact.get("shop").unwrap().group(), None);
}

#[test]
fn a_pool_that_loses_its_quorum_is_down() {
    use ImpactState::Down;
    let estate = pool();
    let impact = estate
        .cmdb()
        .blast_radius(scenario(&["web-1", "web-2"]))
        .unwrap();
    assert_eq!(
        summary(&impact),
        [
            row("web-pool", Down, 1, "web-2 -[member of]-> web-pool"),
            row(
                "shop",
                Down,
                2,
                "web-2 -[member of]-> web-pool <-[depends on]- shop"
            ),
        ]
    );
    let outcome = impact.get("web-pool").unwrap().group().unwrap();
    assert!(!outcome.holds());
    assert_eq!(
        outcome.to_string(),
        "2 of 3 members down; needs 2 up, short by 1"
    );
    let roots: Vec<&str> = impact.roots().map(ResourceId::as_str).collect();
    assert_eq!(roots, ["web-1", "web-2"]);
}

#[test]
fn a_down_group_counts_every_down_member() {
    let estate = pool();
    let impact = estate
        .cmdb()
        .blast_radius(scenario(&["web-1", "web-2", "web-3"]))
        .unwrap();
    let outcome = impact.get("web-pool").unwrap().group().unwrap();
    assert_eq!(
        outcome.to_string(),
        "3 of 3 members down; needs 2 up, short by 2"
    );
}

#[test]
fn a_group_down_for_another_reason_counts_its_down_members() {
    // n0 contains n1 and is its only member: n0 failing takes n1 down through
    // `contains`, and n1's one member is down.
    let estate = estate_of(
        &["n0", "n1"],
        &[
            ("n0", RelationKind::Contains, "n1"),
            ("n0", RelationKind::MemberOf, "n1"),
        ],
    );
    let impact = estate.cmdb().blast_radius(id("n0")).unwrap();
    let n1 = impact.get("n1").unwrap();
    assert_eq!(n1.state(), ImpactState::Down);
    let outcome = n1.group().unwrap();
    assert_eq!(
        outcome.to_string(),
        "1 of 1 members down; needs 1 up, short by 1"
    );
}

#[test]
fn a_group_without_a_quorum_needs_every_member() {
    let estate = estate_of(
        &["feeds", "feed-a", "feed-b", "rack"],
        &[
            ("feed-a", RelationKind::MemberOf, "feeds"),
            ("feed-b", RelationKind::MemberOf, "feeds"),
            ("rack", RelationKind::PoweredBy, "feeds"),
        ],
    );
    let impact = estate.cmdb().blast_radius(id("feed-b")).unwrap();
    assert_eq!(
        summary(&impact),
        [
            row("feeds", ImpactState::Down, 1, "feed-b -[member of]-> feeds"),
            row(
                "rack",
                ImpactState::Down,
                2,
                "feed-b -[member of]-> feeds <-[powered by]- rack"
            ),
        ]
    );
    let outcome = impact.get("feeds").unwrap().group().unwrap();
    assert_eq!(
        outcome.to_string(),
        "1 of 2 members down; needs 2 up, short by 1"
    );
}

#[test]
fn a_percentage_quorum_rounds_up() {
    let mut estate = pool();
    estate
        .define_group(&id("web-pool"), Quorum::Percent(50), [])
        .unwrap();
    let impact = estate.cmdb().blast_radius(id("web-3")).unwrap();
    let outcome = impact.get("web-pool").unwrap().group().unwrap();
    assert_eq!(outcome.to_string(), "1 of 3 members down; needs 2 up, 2 up");
    assert_eq!(impact.get("shop").unwrap().state(), ImpactState::Degraded);
}

#[test]
fn a_quorum_the_group_cannot_meet_is_refused() {
    let mut estate = pool();
    let before = estate.clone();
    let err = estate
        .define_group(&id("web-pool"), Quorum::AtLeast(4), [])
        .unwrap_err();
    assert!(matches!(err, Error::InvalidQuorum { .. }), "{err}");
    assert_eq!(estate, before);
    assert_eq!(estate.cmdb().quorum("web-pool"), Some(Quorum::AtLeast(2)));
}

#[test]
fn a_member_leaving_is_seen_by_the_next_query() {
    let mut estate = pool();
    assert!(
        estate
            .unrelate(&id("web-3"), RelationKind::MemberOf, &id("web-pool"))
            .unwrap()
    );
    let impact = estate.cmdb().blast_radius(id("web-1")).unwrap();
    let outcome = impact.get("web-pool").unwrap().group().unwrap();
    assert_eq!(
        outcome.to_string(),
        "1 of 2 members down; needs 2 up, short by 1"
    );
    assert_eq!(impact.get("shop").unwrap().state(), ImpactState::Down);

    estate.remove_ci(&id("web-pool")).unwrap();
    assert!(estate.cmdb().blast_radius(id("web-1")).unwrap().is_empty());
    assert_eq!(
        estate.cmdb().blast_radius(id("web-pool")).unwrap_err(),
        Error::UnknownCi(id("web-pool"))
    );
}

#[test]
fn dependencies_through_a_pool_are_behind_it() {
    use ImpactState::{BehindGroup, Required};
    let estate = pool();
    let needs = estate.cmdb().dependencies(id("shop")).unwrap();
    assert_eq!(
        summary(&needs),
        [
            row("web-pool", Required, 1, "shop -[depends on]-> web-pool"),
            row(
                "web-1",
                BehindGroup,
                2,
                "shop -[depends on]-> web-pool <-[member of]- web-1"
            ),
            row(
                "web-2",
                BehindGroup,
                2,
                "shop -[depends on]-> web-pool <-[member of]- web-2"
            ),
            row(
                "web-3",
                BehindGroup,
                2,
                "shop -[depends on]-> web-pool <-[member of]- web-3"
            ),
        ]
    );
    let reach = estate.cmdb().reachable(id("web-2")).unwrap();
    assert_eq!(
        reach.iter().collect::<Vec<_>>(),
        [&id("web-pool"), &id("shop")]
    );
}

#[test]
fn a_cycle_is_walked_once() {
    let estate = estate_of(
        &["a", "b"],
        &[
            ("a", RelationKind::DependsOn, "b"),
            ("b", RelationKind::DependsOn, "a"),
        ],
    );
    let cmdb = estate.cmdb();
    let impact = cmdb.blast_radius(id("a")).unwrap();
    assert_eq!(
        summary(&impact),
        [row("b", ImpactState::Down, 1, "a <-[depends on]- b")]
    );
    let needs = cmdb.dependencies(id("a")).unwrap();
    assert_eq!(
        summary(&needs),
        [row("b", ImpactState::Required, 1, "a -[depends on]-> b")]
    );
    let reach = cmdb.reachable(id("a")).unwrap();
    assert_eq!(reach.iter().collect::<Vec<_>>(), [&id("b")]);
    let both = cmdb.blast_radius(scenario(&["a", "b", "a"])).unwrap();
    assert!(both.is_empty());
    assert_eq!(both.roots().count(), 2);
}

#[test]
fn a_container_takes_down_what_it_contains() {
    let estate = estate_of(
        &["rack", "server"],
        &[("rack", RelationKind::Contains, "server")],
    );
    let cmdb = estate.cmdb();
    assert_eq!(
        summary(&cmdb.blast_radius(id("rack")).unwrap()),
        [row(
            "server",
            ImpactState::Down,
            1,
            "rack -[contains]-> server"
        )]
    );
    assert!(cmdb.blast_radius(id("server")).unwrap().is_empty());
    assert_eq!(
        summary(&cmdb.dependencies(id("server")).unwrap()),
        [row(
            "rack",
            ImpactState::Required,
            1,
            "server <-[contains]- rack"
        )]
    );
    assert!(cmdb.dependencies(id("rack")).unwrap().is_empty());
}

#[test]
fn managing_never_propagates() {
    let estate = estate_of(
        &["ops", "db"],
        &[
            ("ops", RelationKind::Manages, "db"),
            ("ops", RelationKind::Owns, "db"),
        ],
    );
    let cmdb = estate.cmdb();
    for root in ["ops", "db"] {
        assert!(cmdb.blast_radius(id(root)).unwrap().is_empty(), "{root}");
        assert!(cmdb.reachable(id(root)).unwrap().is_empty(), "{root}");
        assert!(cmdb.dependencies(id(root)).unwrap().is_empty(), "{root}");
    }
}

#[test]
fn a_connection_propagates_as_it_says() {
    let estate = estate_of(
        &["a", "b", "c", "d"],
        &[
            ("a", RelationKind::ConnectsTo(Propagation::Both), "b"),
            (
                "c",
                RelationKind::ConnectsTo(Propagation::SourceToTarget),
                "d",
            ),
        ],
    );
    let cmdb = estate.cmdb();
    assert_eq!(
        summary(&cmdb.blast_radius(id("a")).unwrap()),
        [row("b", ImpactState::Down, 1, "a -[connects to]-> b")]
    );
    assert_eq!(
        summary(&cmdb.blast_radius(id("b")).unwrap()),
        [row("a", ImpactState::Down, 1, "b <-[connects to]- a")]
    );
    assert_eq!(
        summary(&cmdb.blast_radius(id("c")).unwrap()),
        [row("d", ImpactState::Down, 1, "c -[connects to]-> d")]
    );
    assert!(cmdb.blast_radius(id("d")).unwrap().is_empty());
}

#[test]
fn an_unknown_item_is_an_error() {
    let estate = pool();
    let cmdb = estate.cmdb();
    let unknown = Error::UnknownCi(id("nope"));
    assert_eq!(cmdb.blast_radius(id("nope")).unwrap_err(), unknown);
    assert_eq!(cmdb.dependencies(id("nope")).unwrap_err(), unknown);
    assert_eq!(cmdb.reachable(id("nope")).unwrap_err(), unknown);
    let stop = ImpactQuery::new(id("web-1")).stop_at(id("nope"));
    assert_eq!(cmdb.blast_radius(&stop).unwrap_err(), unknown);
    assert_eq!(cmdb.reachable(&stop).unwrap_err(), unknown);
}

/// `shop` depends on `pool`, whose member is `app`, and also reaches `app`
/// the long way through `c1`, `c2`, `c3`; `db` is a member of `app`.
fn detour() -> Estate {
    estate_of(
        &["shop", "pool", "app", "c1", "c2", "c3", "db"],
        &[
            ("shop", RelationKind::DependsOn, "pool"),
            ("app", RelationKind::MemberOf, "pool"),
            ("shop", RelationKind::DependsOn, "c1"),
            ("c1", RelationKind::DependsOn, "c2"),
            ("c2", RelationKind::DependsOn, "c3"),
            ("c3", RelationKind::DependsOn, "app"),
            ("db", RelationKind::MemberOf, "app"),
        ],
    )
}

#[test]
fn a_deeper_dependency_walk_reports_no_fewer_items() {
    let estate = detour();
    let within = |depth| {
        let query = ImpactQuery::new(id("shop")).max_depth(depth);
        let needs = estate.cmdb().dependencies(&query).unwrap();
        needs
            .iter()
            .map(|item| item.id().to_string())
            .collect::<BTreeSet<_>>()
    };
    // db is 3 hops away: shop -[depends on]-> pool <-[member of]- app <-[member of]- db.
    assert!(within(3).contains("db"));
    assert!(
        within(3).is_subset(&within(4)),
        "{:?} vs {:?}",
        within(3),
        within(4)
    );
}

// ---------------------------------------------------------------------------
// Scale: interned labels, hubs, many groups
// ---------------------------------------------------------------------------

#[test]
fn a_region_filter_reports_only_that_region_past_65536_regions() {
    use itam_cmdb::{CiClass, ConfigurationItem, Region};
    // 70,000 items, each in a region of its own, all depending on `hub`.
    // Region ids used to be 16 bits and saturate past 65,534 regions, so a
    // filter on one of the later regions reported the items of thousands.
    const ITEMS: usize = 70_000;
    let region = |i: usize| Region::new(&format!("region-{i:05}")).unwrap();
    let mut batch = Batch::new();
    batch.insert_ci(ci("hub"));
    for i in 0..ITEMS {
        let name = format!("item-{i:05}");
        let item = ConfigurationItem::builder(id(&name), &name, CiClass::Server)
            .region(region(i))
            .build()
            .unwrap();
        batch
            .insert_ci(item)
            .relate(id(&name), RelationKind::DependsOn, id("hub"));
    }
    let mut estate = Estate::new();
    estate.apply(batch).unwrap();
    let cmdb = estate.cmdb();
    for i in [0, 65_533, 65_534, 65_535, 65_536, ITEMS - 1] {
        let query = ImpactQuery::new(id("hub")).region(region(i));
        let impact = cmdb.blast_radius(&query).unwrap();
        let found: Vec<&str> = impact.iter().map(|item| item.id().as_str()).collect();
        assert_eq!(found, [format!("item-{i:05}")], "region {i}");
        let excluded = ImpactQuery::new(id("hub")).exclude_region(region(i));
        assert_eq!(cmdb.blast_radius(&excluded).unwrap().len(), ITEMS - 1);
    }
}

#[test]
fn a_hub_with_many_relationships_relates_and_unrelates_each_exactly() {
    // A rack containing 5,000 servers: related, related again (a no-op),
    // then half unrelated in the order they were added and half removed.
    // Relating and unrelating find the relationship by hash, not by a scan
    // of the rack's relationships.
    const SERVERS: usize = 5_000;
    let server = |i: usize| id(&format!("srv-{i:05}"));
    let mut batch = Batch::new();
    batch.insert_ci(ci("rack")).insert_ci(ci("room"));
    for i in 0..SERVERS {
        batch.insert_ci(ci(server(i).as_str())).relate(
            id("rack"),
            RelationKind::Contains,
            server(i),
        );
    }
    batch.relate(id("room"), RelationKind::Contains, id("rack"));
    let mut estate = Estate::new();
    estate.apply(batch).unwrap();
    assert_eq!(estate.cmdb().relationship_count(), SERVERS + 1);

    // Every repeat is a no-op, whichever server.
    for i in [0, SERVERS / 2, SERVERS - 1] {
        let repeat = estate.relate(&id("rack"), RelationKind::Contains, &server(i));
        assert_eq!(repeat, Ok(false), "server {i}");
    }
    // Another kind between the same two items is a new relationship.
    let manages = estate.relate(&id("rack"), RelationKind::Manages, &server(7));
    assert_eq!(manages, Ok(true));

    // Unrelate the first half in the order added; remove the second half.
    let mut batch = Batch::new();
    for i in 0..SERVERS / 2 {
        batch.unrelate(id("rack"), RelationKind::Contains, server(i));
    }
    for i in SERVERS / 2..SERVERS {
        batch.remove_ci(server(i));
    }
    estate.apply(batch).unwrap();
    let cmdb = estate.cmdb();
    let left: Vec<String> = cmdb.relationships().map(|r| r.to_string()).collect();
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(cmdb.relationships_of("srv-00007").count() == 1);
    let impact = cmdb.blast_radius(id("room")).unwrap();
    assert_eq!(impact.len(), 1);

    // Each of the first half can be related again, once.
    for i in [0, 1, SERVERS / 2 - 1] {
        let again = estate.relate(&id("rack"), RelationKind::Contains, &server(i));
        assert_eq!(again, Ok(true), "server {i}");
        let repeat = estate.relate(&id("rack"), RelationKind::Contains, &server(i));
        assert_eq!(repeat, Ok(false), "server {i}");
    }
    assert_eq!(estate.cmdb().relationship_count(), 5);
    assert_eq!(estate.cmdb().blast_radius(id("room")).unwrap().len(), 4);
}

#[test]
fn removing_groups_keeps_the_others_in_declaration_order() {
    // 100 groups of one member each; remove most of them (enough to sweep
    // the holes out of the order), then add one back.
    let mut batch = Batch::new();
    for g in 0..100 {
        let (group, member) = (format!("group-{g:03}"), format!("member-{g:03}"));
        batch
            .insert_ci(ci(&group))
            .insert_ci(ci(&member))
            .define_group(id(&group), Quorum::AtLeast(1), [id(&member)]);
    }
    let mut estate = Estate::new();
    estate.apply(batch).unwrap();
    let mut batch = Batch::new();
    for g in (0..100).filter(|g| g % 10 != 3) {
        batch.remove_ci(id(&format!("group-{g:03}")));
    }
    estate.apply(batch).unwrap();
    estate
        .define_group(&id("group-023"), Quorum::AtLeast(1), [id("member-000")])
        .unwrap();
    estate.insert_ci(ci("group-new")).unwrap();
    estate
        .define_group(&id("group-new"), Quorum::AtLeast(1), [id("member-001")])
        .unwrap();
    estate
        .define_group(&id("group-003"), Quorum::AtLeast(2), [id("member-002")])
        .unwrap();
    let groups: Vec<String> = estate
        .cmdb()
        .groups()
        .map(|(group, quorum)| format!("{group} {quorum:?}"))
        .collect();
    let mut expected: Vec<String> = (0..100)
        .filter(|g| g % 10 == 3)
        .map(|g| format!("group-{g:03} AtLeast(1)"))
        .collect();
    expected[0] = "group-003 AtLeast(2)".to_owned();
    expected.push("group-new AtLeast(1)".to_owned());
    assert_eq!(groups, expected);

    // The snapshot keeps that order, and reads back equal.
    let json = serde_json::to_string(estate.cmdb()).unwrap();
    let back: itam_cmdb::Cmdb = serde_json::from_str(&json).unwrap();
    assert_eq!(&back, estate.cmdb());
    let order: Vec<String> = back.groups().map(|(group, _)| group.to_string()).collect();
    assert_eq!(order.first().map(String::as_str), Some("group-003"));
    assert_eq!(order.last().map(String::as_str), Some("group-new"));
}

#[test]
fn a_batch_cannot_bring_more_kinds_than_the_limit() {
    use itam_cmdb::Propagation::TargetToSource;
    // Kind ids are 16 bits. The limit used to be checked against the kinds
    // already in the CMDB only, so one batch could bring 65,536 new kinds;
    // the later ones then shared the last id and read back as another kind.
    const LIMIT: usize = 65_535;
    let kind = |i: usize| RelationKind::custom(&format!("k{i}"), TargetToSource).unwrap();
    let batch_of = |kinds: std::ops::Range<usize>| {
        let mut batch = Batch::new();
        for i in kinds {
            batch.relate(id("a"), kind(i), id("b"));
        }
        batch
    };
    let mut estate = estate_of(&["a", "b"], &[]);
    let refused = estate.apply(batch_of(0..LIMIT + 1));
    assert_eq!(refused.map(drop), Err(Error::TooManyKinds));
    assert_eq!(estate.cmdb().relationship_count(), 0);

    // Exactly the limit fits, and each relationship keeps its own kind.
    estate.apply(batch_of(0..LIMIT)).unwrap();
    assert_eq!(estate.cmdb().relationship_count(), LIMIT);
    assert!(
        estate
            .cmdb()
            .relationships()
            .any(|r| r.kind() == &kind(LIMIT - 1))
    );
    let one_more = estate.relate(&id("a"), kind(LIMIT), &id("b"));
    assert_eq!(one_more, Err(Error::TooManyKinds));
}
