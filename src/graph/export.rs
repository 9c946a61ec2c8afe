//! Graphviz DOT and Mermaid renderings of query results, as text.

use std::collections::HashSet;
use std::collections::hash_map::Entry as Slot;
use std::fmt::Write as _;

use super::impact::{Impact, ImpactState};
use super::index::NONE;
use super::recovery::RecoveryPlan;
use crate::hash::{HashMap, RandomState};
use crate::{Cmdb, ResourceId};

/// A labelled graph, rendered as DOT or Mermaid, arrows drawn bottom to
/// top (dependencies below what needs them).
struct Drawing {
    title: &'static str,
    /// Each node's label and class.
    nodes: Vec<(String, Option<&'static str>)>,
    /// Each arrow: from, to, and its label in `texts`.
    edges: Vec<(usize, usize, usize)>,
    texts: Vec<String>,
}

/// Appends a node's label to `out`: the item's name and id (once when they
/// are the same), and its state.
fn label(out: &mut String, cmdb: &Cmdb, id: &ResourceId, state: Option<&str>) {
    let name = cmdb.get(id).map_or(id.as_str(), |ci| ci.name());
    out.push_str(name);
    if name != id.as_str() {
        out.push('\n');
        out.push_str(id.as_str());
    }
    if let Some(state) = state {
        out.push('\n');
        out.push_str(state);
    }
}

fn class_of(state: ImpactState) -> &'static str {
    match state {
        ImpactState::Failed => "failed",
        ImpactState::Down => "down",
        ImpactState::Degraded => "degraded",
        ImpactState::Required => "required",
        ImpactState::BehindGroup => "behind-group",
    }
}

const CLASSES: [(&str, &str); 5] = [
    ("failed", "#e06666"),
    ("down", "#f4b183"),
    ("degraded", "#ffe599"),
    ("required", "#9fc5e8"),
    ("behind-group", "#d9d9d9"),
];

impl Drawing {
    fn dot(&self) -> String {
        let mut out = String::with_capacity(self.size());
        let _ = write!(
            out,
            "digraph {} {{\n  rankdir=BT;\n  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n",
            self.title
        );
        for (i, (text, class)) in self.nodes.iter().enumerate() {
            let _ = write!(out, "  n{i} [label=\"");
            escape_into(&mut out, text, dot_special);
            out.push('"');
            if let Some((_, colour)) =
                class.and_then(|class| CLASSES.iter().find(|(name, _)| *name == class))
            {
                out.push_str(", fillcolor=\"");
                out.push_str(colour);
                out.push('"');
            }
            out.push_str("];\n");
        }
        for &(from, to, text) in &self.edges {
            let _ = write!(out, "  n{from} -> n{to} [label=\"");
            escape_into(&mut out, &self.texts[text], dot_special);
            out.push_str("\"];\n");
        }
        out.push_str("}\n");
        out
    }

    fn mermaid(&self) -> String {
        let mut out = String::with_capacity(self.size());
        out.push_str("flowchart BT\n");
        let mut used = [false; CLASSES.len()];
        for (i, (text, class)) in self.nodes.iter().enumerate() {
            let _ = write!(out, "  n{i}[\"");
            escape_into(&mut out, text, mermaid_special);
            out.push_str("\"]");
            if let Some(class) = class {
                out.push_str(":::");
                out.push_str(class);
                if let Some(at) = CLASSES.iter().position(|(name, _)| name == class) {
                    used[at] = true;
                }
            }
            out.push('\n');
        }
        for &(from, to, text) in &self.edges {
            let _ = write!(out, "  n{from} -->|\"");
            escape_into(&mut out, &self.texts[text], mermaid_special);
            let _ = writeln!(out, "\"| n{to}");
        }
        for ((name, colour), used) in CLASSES.iter().zip(used) {
            if used {
                let _ = writeln!(out, "  classDef {name} fill:{colour}");
            }
        }
        out
    }

    /// A guess at the text's length, to allocate it once.
    fn size(&self) -> usize {
        let nodes: usize = self.nodes.iter().map(|(text, _)| text.len() + 48).sum();
        let edges: usize = self
            .edges
            .iter()
            .map(|&(_, _, text)| self.texts[text].len() + 40)
            .sum();
        256 + nodes + edges
    }
}

/// Appends `text` to `out`, with each byte that `special` names replaced.
/// The special bytes are ASCII, so the text is cut only between characters.
fn escape_into(out: &mut String, text: &str, special: fn(u8) -> Option<&'static str>) {
    let mut start = 0;
    for (at, byte) in text.bytes().enumerate() {
        if let Some(with) = special(byte) {
            out.push_str(&text[start..at]);
            out.push_str(with);
            start = at + 1;
        }
    }
    out.push_str(&text[start..]);
}

fn dot_special(byte: u8) -> Option<&'static str> {
    match byte {
        b'"' => Some("\\\""),
        b'\\' => Some("\\\\"),
        b'\n' => Some("\\n"),
        _ => None,
    }
}

fn mermaid_special(byte: u8) -> Option<&'static str> {
    match byte {
        b'"' => Some("#quot;"),
        b'<' => Some("#lt;"),
        b'>' => Some("#gt;"),
        b'\n' => Some("<br/>"),
        _ => None,
    }
}

impl Impact<'_> {
    fn drawing(&self) -> Drawing {
        let cmdb = self.cmdb();
        let topology = cmdb.topology();
        let entries = self.entries();
        // One drawn node per item: a hidden waypoint is drawn as the entry
        // that reports its item.
        let mut drawn: HashMap<u32, usize> = HashMap::default();
        let mut nodes = Vec::new();
        for entry in entries.iter().filter(|entry| !entry.hidden) {
            if let Slot::Vacant(slot) = drawn.entry(entry.node) {
                slot.insert(nodes.len());
                let mut text = String::new();
                label(
                    &mut text,
                    cmdb,
                    self.id_at(entry.node),
                    Some(entry.state.text()),
                );
                nodes.push((text, Some(class_of(entry.state))));
            }
        }
        // Each kind's label, and the first kind with the same label, so
        // that arrows are told apart by what they show.
        let texts: Vec<String> = topology.kinds().iter().map(ToString::to_string).collect();
        let mut first: HashMap<&str, usize> = HashMap::default();
        let same: Vec<usize> = texts
            .iter()
            .enumerate()
            .map(|(kind, text)| *first.entry(text).or_insert(kind))
            .collect();
        let mut edges = Vec::new();
        let mut seen: HashSet<(usize, usize, usize), RandomState> = HashSet::default();
        for entry in entries.iter().filter(|entry| entry.pred != NONE) {
            let (Some(&at), Some(&pred)) = (
                drawn.get(&entry.node),
                drawn.get(&entries[entry.pred as usize].node),
            ) else {
                continue;
            };
            let kind = same[usize::from(entry.meta.kind().0)];
            // Each arrow is the relationship, in its own direction.
            let (from, to) = if entry.meta.forward() {
                (pred, at)
            } else {
                (at, pred)
            };
            if seen.insert((from, to, kind)) {
                edges.push((from, to, kind));
            }
        }
        Drawing {
            title: "impact",
            nodes,
            edges,
            texts,
        }
    }

    /// The result as a Graphviz DOT graph: every root and affected item,
    /// labelled with its name, id and state and coloured by state, and the
    /// relationship that explains each item, drawn in its own direction.
    /// Items the reporting filters hide still appear when they are on a path.
    ///
    /// # Complexity
    ///
    /// O(n + K) expected, in the result's size n (roots, items and the
    /// waypoints of their paths) and the number of relationship kinds K;
    /// the text is linear in n.
    ///
    /// # Example
    ///
    /// ```
    /// use itam_cmdb::{sample, ResourceId};
    ///
    /// let estate = sample::estate();
    /// let impact = estate.cmdb().blast_radius(ResourceId::new(sample::PAYMENTS_DB)?)?;
    /// let dot = impact.to_dot();
    /// assert!(dot.starts_with("digraph impact {"));
    /// assert!(dot.contains("label=\"depends on\""));
    /// # Ok::<(), itam_cmdb::Error>(())
    /// ```
    #[must_use]
    pub fn to_dot(&self) -> String {
        self.drawing().dot()
    }

    /// The result as a Mermaid flowchart, with the same content as
    /// [`to_dot`](Self::to_dot).
    ///
    /// # Complexity
    ///
    /// As [`to_dot`](Self::to_dot): O(n + K) expected.
    #[must_use]
    pub fn to_mermaid(&self) -> String {
        self.drawing().mermaid()
    }
}

impl RecoveryPlan<'_> {
    fn drawing(&self) -> Drawing {
        let cmdb = self.cmdb();
        let nodes = self
            .steps()
            .iter()
            .map(|step| {
                let heading = if step.items().len() > 1 {
                    "together"
                } else {
                    "step"
                };
                let mut text = format!("wave {}: {heading}", step.wave() + 1);
                for id in step.items() {
                    text.push('\n');
                    label(&mut text, cmdb, id, None);
                }
                (text, None)
            })
            .collect();
        // Steps of one wave may be worked in parallel; a new wave waits.
        let texts = vec!["or in parallel".to_owned(), "then".to_owned()];
        let edges = self
            .steps()
            .windows(2)
            .enumerate()
            .map(|(i, pair)| (i, i + 1, usize::from(pair[0].wave() != pair[1].wave())))
            .collect();
        Drawing {
            title: "recovery",
            nodes,
            edges,
            texts,
        }
    }

    /// The plan as a Graphviz DOT chain of steps, labelled with their wave
    /// and items.
    ///
    /// # Complexity
    ///
    /// O(n) in the plan's number of items.
    #[must_use]
    pub fn to_dot(&self) -> String {
        self.drawing().dot()
    }

    /// The plan as a Mermaid flowchart; see [`to_dot`](Self::to_dot).
    ///
    /// # Complexity
    ///
    /// O(n) in the plan's number of items.
    #[must_use]
    pub fn to_mermaid(&self) -> String {
        self.drawing().mermaid()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_the_formats_need() {
        let escape = |text: &str, special| {
            let mut out = String::from(">");
            escape_into(&mut out, text, special);
            out
        };
        assert_eq!(escape("a \"b\"\nc\\", dot_special), ">a \\\"b\\\"\\nc\\\\");
        assert_eq!(
            escape("é \"b\"\n<c>", mermaid_special),
            ">é #quot;b#quot;<br/>#lt;c#gt;"
        );
    }
}
