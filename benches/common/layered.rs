//! A layered, CMDB-like estate with hashed ids and no locality, built
//! through the public write path, and a plain CSR over the same edges in
//! both directions: the held-out shape of issue 12's measurements.

use itam_cmdb::{Batch, CiClass, ConfigurationItem, Estate, Quorum, RelationKind, ResourceId};

use super::{Mix, SEED, hashed_id};

/// The layers, top down: class, id prefix, share of the items in percent.
const LAYERS: [(CiClass, &str, usize); 7] = [
    (CiClass::BusinessService, "svc", 2),
    (CiClass::Application, "app", 18),
    (CiClass::Container, "ctr", 40),
    (CiClass::Database, "db", 18),
    (CiClass::VirtualMachine, "vm", 15),
    (CiClass::Hypervisor, "hv", 7),
    // One storage array under every hypervisor: its failure reaches
    // nearly everything.
    (CiClass::Storage, "san", 0),
];

/// The generated records: items (in insertion order, shuffled), `depends
/// on` relationships (shuffled) and redundancy groups.
pub(crate) struct Layered {
    pub(crate) items: Vec<ConfigurationItem>,
    pub(crate) relationships: Vec<(ResourceId, ResourceId)>,
    pub(crate) groups: Vec<(ResourceId, Vec<ResourceId>)>,
    /// Item ids by layer, top down.
    pub(crate) layers: Vec<Vec<ResourceId>>,
}

impl Layered {
    /// `cis` items in six layers; each item but the bottom layer's depends
    /// on 3 to 6 items of lower layers (most in the next layer, a third
    /// anywhere lower, skewed towards a few hubs), and a quarter of the
    /// middle layers' items on one of 16 shared hypervisors; every
    /// hypervisor on the one storage array: about 4.4 relationships per
    /// item in all. With `groups`, a tenth of the applications come in
    /// pairs behind a pool item that needs one of the two, and the items
    /// above depend on the pool.
    pub(crate) fn new(cis: usize, groups: bool) -> Self {
        let mut rng = Mix::new(SEED ^ 0x1A7E_12ED);
        let mut layers: Vec<Vec<ResourceId>> = Vec::new();
        let mut items = Vec::with_capacity(cis);
        let mut next = 0u64;
        for (class, prefix, share) in &LAYERS {
            let count = (cis * share / 100).max(1);
            let mut ids = Vec::with_capacity(count);
            for _ in 0..count {
                let id = hashed_id(prefix, next);
                next += 1;
                items.push(
                    ConfigurationItem::builder(id.clone(), id.as_str(), class.clone())
                        .build()
                        .expect("a valid item"),
                );
                ids.push(id);
            }
            layers.push(ids);
        }
        let mut pools = Vec::new();
        let mut pool_of = std::collections::HashMap::new();
        if groups {
            let apps = &layers[1];
            for pair in apps.chunks(2).step_by(5) {
                if let [a, b] = pair {
                    let pool = hashed_id("pool", next);
                    next += 1;
                    items.push(
                        ConfigurationItem::builder(pool.clone(), pool.as_str(), CiClass::Cluster)
                            .build()
                            .expect("a valid item"),
                    );
                    pool_of.insert(a.clone(), pool.clone());
                    pool_of.insert(b.clone(), pool.clone());
                    pools.push((pool, vec![a.clone(), b.clone()]));
                }
            }
        }
        let mut relationships = Vec::new();
        let mut seen = std::collections::HashSet::new();
        // Shared infrastructure: a quarter of the middle layers' items also
        // depend on one of 16 hubs of the bottom layer (the DNS, the SAN),
        // so that the highest-impact items reach most of the estate.
        let hub_layer = layers.len() - 2;
        let hubs = layers[hub_layer].len().min(16);
        for layer in &layers[1..hub_layer] {
            for source in layer {
                if rng.below(4) == 0 {
                    let hub = layers[hub_layer][rng.below(hubs)].clone();
                    if seen.insert((source.clone(), hub.clone())) {
                        relationships.push((source.clone(), hub));
                    }
                }
            }
        }
        for upper in 0..layers.len() - 1 {
            for source in &layers[upper] {
                let wanted = 3 + rng.below(4);
                for _ in 0..wanted {
                    let lower = if rng.below(3) == 0 {
                        upper + 1 + rng.below(layers.len() - upper - 1)
                    } else {
                        upper + 1
                    };
                    let candidates = &layers[lower];
                    let mut at = rng.below(candidates.len());
                    if rng.below(10) < 3 {
                        // A hub: the low end of the layer.
                        at = at * rng.below(candidates.len()) / candidates.len();
                    }
                    let mut target = candidates[at].clone();
                    if let Some(pool) = pool_of.get(&target) {
                        target = pool.clone();
                    }
                    if seen.insert((source.clone(), target.clone())) {
                        relationships.push((source.clone(), target));
                    }
                }
            }
        }
        rng.shuffle(&mut items);
        rng.shuffle(&mut relationships);
        Self {
            items,
            relationships,
            groups: pools,
            layers,
        }
    }

    /// Builds the estate through `Estate::apply` in batches of 65,536
    /// changes: the items, then the relationships, then the groups.
    pub(crate) fn estate(&self) -> Estate {
        const BATCH: usize = 65_536;
        let mut estate = Estate::new();
        for chunk in self.items.chunks(BATCH) {
            let mut batch = Batch::new();
            for item in chunk {
                batch.insert_ci(item.clone());
            }
            estate.apply(batch).expect("valid items");
        }
        for chunk in self.relationships.chunks(BATCH) {
            let mut batch = Batch::new();
            for (source, target) in chunk {
                batch.relate(source.clone(), RelationKind::DependsOn, target.clone());
            }
            estate.apply(batch).expect("valid relationships");
        }
        for chunk in self.groups.chunks(BATCH / 2) {
            let mut batch = Batch::new();
            for (pool, members) in chunk {
                batch.define_group(pool.clone(), Quorum::AtLeast(1), members.iter().cloned());
            }
            estate.apply(batch).expect("valid groups");
        }
        estate
    }
}

/// A plain CSR in both directions over dense indices: the limit a query
/// is measured against.
pub(crate) struct Csr2 {
    pub(crate) index: std::collections::HashMap<ResourceId, u32>,
    up_offsets: Vec<u32>,
    up: Vec<u32>,
    down_offsets: Vec<u32>,
    down: Vec<u32>,
    stamp: Vec<u32>,
    epoch: u32,
    queue: Vec<u32>,
}

impl Csr2 {
    /// Builds both adjacencies from the prepared records (what a bulk load
    /// could cost at the limit).
    pub(crate) fn new(layered: &Layered) -> Self {
        let mut index = std::collections::HashMap::with_capacity(layered.items.len());
        for (i, item) in layered.items.iter().enumerate() {
            index.insert(item.id().clone(), i as u32);
        }
        let n = layered.items.len();
        // a depends on b: b's failure travels up to a; a's dependencies go
        // down to b. A member's failure travels up to its pool.
        let mut pairs: Vec<(u32, u32)> = layered
            .relationships
            .iter()
            .map(|(a, b)| (index[b], index[a]))
            .collect();
        for (pool, members) in &layered.groups {
            for member in members {
                pairs.push((index[member], index[pool]));
            }
        }
        let (up_offsets, up) = csr(n, pairs.iter().copied());
        let (down_offsets, down) = csr(n, pairs.iter().map(|&(from, to)| (to, from)));
        Self {
            index,
            up_offsets,
            up,
            down_offsets,
            down,
            stamp: vec![0; n],
            epoch: 0,
            queue: Vec::new(),
        }
    }

    /// The bytes of the adjacencies and the visited array.
    pub(crate) fn bytes(&self) -> usize {
        4 * (self.up_offsets.len() + self.up.len() + self.down_offsets.len() + self.down.len())
            + 4 * self.stamp.len()
    }

    /// How many items depend on `node` directly.
    pub(crate) fn up_degree(&self, node: u32) -> usize {
        (self.up_offsets[node as usize + 1] - self.up_offsets[node as usize]) as usize
    }

    /// Nodes reached from `root` upwards (root excluded).
    pub(crate) fn up(&mut self, root: u32) -> usize {
        self.walk(root, true)
    }

    /// Nodes reached from `root` downwards (root excluded).
    pub(crate) fn down(&mut self, root: u32) -> usize {
        self.walk(root, false)
    }

    fn walk(&mut self, root: u32, up: bool) -> usize {
        let (offsets, targets) = if up {
            (&self.up_offsets, &self.up)
        } else {
            (&self.down_offsets, &self.down)
        };
        self.epoch += 1;
        self.queue.clear();
        self.stamp[root as usize] = self.epoch;
        self.queue.push(root);
        let mut head = 0;
        while head < self.queue.len() {
            let from = self.queue[head] as usize;
            head += 1;
            for &to in &targets[offsets[from] as usize..offsets[from + 1] as usize] {
                if self.stamp[to as usize] != self.epoch {
                    self.stamp[to as usize] = self.epoch;
                    self.queue.push(to);
                }
            }
        }
        self.queue.len() - 1
    }
}

fn csr(n: usize, pairs: impl Iterator<Item = (u32, u32)> + Clone) -> (Vec<u32>, Vec<u32>) {
    let mut offsets = vec![0u32; n + 1];
    for (from, _) in pairs.clone() {
        offsets[from as usize + 1] += 1;
    }
    for i in 0..n {
        offsets[i + 1] += offsets[i];
    }
    let mut next = offsets[..n].to_vec();
    let mut targets = vec![0u32; offsets[n] as usize];
    for (from, to) in pairs {
        targets[next[from as usize] as usize] = to;
        next[from as usize] += 1;
    }
    (offsets, targets)
}

/// Current resident memory of this process in MiB (Linux; 0 elsewhere).
pub(crate) fn rss_mib() -> u64 {
    super::status_mib("VmRSS:")
}
