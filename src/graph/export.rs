//! Graphviz DOT and Mermaid renderings of query results, as text.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::impact::{Impact, ImpactState};
use super::index::NONE;
use super::recovery::RecoveryPlan;
use crate::{Cmdb, ResourceId};

/// A small labelled graph, rendered as DOT or Mermaid.
struct Drawing {
    /// Draw arrows bottom-to-top (dependencies below what needs them).
    title: &'static str,
    nodes: Vec<(String, Option<&'static str>)>,
    edges: Vec<(usize, usize, String)>,
}

/// A node's label: the item's name and id, and its state.
fn label(cmdb: &Cmdb, id: &ResourceId, state: Option<&str>) -> String {
    let name = cmdb.get(id).map_or(id.as_str(), |ci| ci.name());
    let mut text = if name == id.as_str() {
        name.to_owned()
    } else {
        format!("{name}\n{id}")
    };
    if let Some(state) = state {
        let _ = write!(text, "\n{state}");
    }
    text
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
        let mut out = format!(
            "digraph {} {{\n  rankdir=BT;\n  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n",
            self.title
        );
        for (i, (text, class)) in self.nodes.iter().enumerate() {
            let fill = class
                .and_then(|class| CLASSES.iter().find(|(name, _)| *name == class))
                .map_or(String::new(), |(_, colour)| {
                    format!(", fillcolor=\"{colour}\"")
                });
            let _ = writeln!(out, "  n{i} [label=\"{}\"{fill}];", dot_escape(text));
        }
        for (from, to, text) in &self.edges {
            let _ = writeln!(out, "  n{from} -> n{to} [label=\"{}\"];", dot_escape(text));
        }
        out.push_str("}\n");
        out
    }

    fn mermaid(&self) -> String {
        let mut out = String::from("flowchart BT\n");
        for (i, (text, class)) in self.nodes.iter().enumerate() {
            let _ = write!(out, "  n{i}[\"{}\"]", mermaid_escape(text));
            if let Some(class) = class {
                let _ = write!(out, ":::{class}");
            }
            out.push('\n');
        }
        for (from, to, text) in &self.edges {
            let _ = writeln!(out, "  n{from} -->|\"{}\"| n{to}", mermaid_escape(text));
        }
        let used: Vec<&str> = CLASSES
            .iter()
            .map(|(name, _)| *name)
            .filter(|name| self.nodes.iter().any(|(_, class)| *class == Some(*name)))
            .collect();
        for (name, colour) in CLASSES {
            if used.contains(&name) {
                let _ = writeln!(out, "  classDef {name} fill:{colour}");
            }
        }
        out
    }
}

fn dot_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

fn mermaid_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '\n' => out.push_str("<br/>"),
            c => out.push(c),
        }
    }
    out
}

impl Impact<'_> {
    fn drawing(&self) -> Drawing {
        let cmdb = self.cmdb();
        let topology = cmdb.topology();
        let entries = self.entries();
        // One drawn node per item: a hidden waypoint is drawn as the entry
        // that reports its item.
        let mut drawn: HashMap<u32, usize> = HashMap::new();
        let mut nodes = Vec::new();
        for entry in entries.iter().filter(|entry| !entry.hidden) {
            drawn.entry(entry.node).or_insert_with(|| {
                let state = entry.state.to_string();
                nodes.push((
                    label(cmdb, self.id_at(entry.node), Some(&state)),
                    Some(class_of(entry.state)),
                ));
                nodes.len() - 1
            });
        }
        let mut edges = Vec::new();
        for entry in entries.iter().filter(|entry| entry.pred != NONE) {
            let (Some(&at), Some(&pred)) = (
                drawn.get(&entry.node),
                drawn.get(&entries[entry.pred as usize].node),
            ) else {
                continue;
            };
            let kind = topology.kind(entry.meta.kind()).to_string();
            // Each arrow is the relationship, in its own direction.
            let edge = if entry.meta.forward() {
                (pred, at, kind)
            } else {
                (at, pred, kind)
            };
            if !edges.contains(&edge) {
                edges.push(edge);
            }
        }
        Drawing {
            title: "impact",
            nodes,
            edges,
        }
    }

    /// The result as a Graphviz DOT graph: every root and affected item,
    /// labelled with its name, id and state and coloured by state, and the
    /// relationship that explains each item, drawn in its own direction.
    /// Items the reporting filters hide still appear when they are on a path.
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
                let names: Vec<String> = step
                    .items()
                    .iter()
                    .map(|id| label(cmdb, id, None))
                    .collect();
                let heading = if step.items().len() > 1 {
                    "together"
                } else {
                    "step"
                };
                (
                    format!("wave {}: {heading}\n{}", step.wave() + 1, names.join("\n")),
                    None,
                )
            })
            .collect();
        let edges = self
            .steps()
            .windows(2)
            .enumerate()
            .map(|(i, pair)| {
                let text = if pair[0].wave() == pair[1].wave() {
                    "or in parallel"
                } else {
                    "then"
                };
                (i, i + 1, text.to_owned())
            })
            .collect();
        Drawing {
            title: "recovery",
            nodes,
            edges,
        }
    }

    /// The plan as a Graphviz DOT chain of steps, labelled with their wave
    /// and items.
    #[must_use]
    pub fn to_dot(&self) -> String {
        self.drawing().dot()
    }

    /// The plan as a Mermaid flowchart; see [`to_dot`](Self::to_dot).
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
        assert_eq!(dot_escape("a \"b\"\nc\\"), "a \\\"b\\\"\\nc\\\\");
        assert_eq!(
            mermaid_escape("a \"b\"\n<c>"),
            "a #quot;b#quot;<br/>#lt;c#gt;"
        );
    }
}
