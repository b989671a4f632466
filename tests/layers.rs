//! The layers of `src/` import each other one way only. Read from the
//! sources themselves: every `crate::NAME` a file mentions is an edge from
//! its layer (the top-level module it belongs to) to NAME's.

use std::collections::{BTreeMap, BTreeSet};

/// Layer → the layers it mentions.
fn edges() -> BTreeMap<String, BTreeSet<String>> {
    let src = ddns_testkit::repo_root().join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut pending = vec![src.clone()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let relative = path.strip_prefix(&src).unwrap();
            let first = relative.components().next().unwrap().as_os_str().to_string_lossy();
            let layer = first.trim_end_matches(".rs").to_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            let used = graph.entry(layer.clone()).or_default();
            for (at, _) in text.match_indices("crate::") {
                let name: String = text[at + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() && name != layer {
                    used.insert(name);
                }
            }
        }
    }
    graph
}

#[test]
fn the_layers_form_no_cycle() {
    let graph = edges();
    assert!(graph.contains_key("aws") && graph.contains_key("commands"), "{graph:?}");
    // Depth-first search for a back edge.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if done.contains(node) {
            return;
        }
        assert!(!path.contains(&node.to_owned()), "import cycle: {path:?} -> {node}");
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            visit(next, graph, path, done);
        }
        path.pop();
        done.insert(node.to_owned());
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        visit(node, &graph, &mut Vec::new(), &mut done);
    }
}

#[test]
fn the_model_is_a_leaf_and_only_commands_know_the_command_line() {
    let graph = edges();
    assert_eq!(graph["model"], BTreeSet::new(), "model imports {:?}", graph["model"]);
    assert_eq!(
        graph["plan"],
        BTreeSet::from(["model".to_owned()]),
        "plan imports {:?}",
        graph["plan"]
    );
    for (layer, used) in &graph {
        if used.contains("cli") {
            assert!(["commands", "main"].contains(&layer.as_str()), "{layer} imports cli");
        }
    }
    for layer in ["aws", "stack", "executor"] {
        assert!(
            !graph[layer].contains("commands"),
            "{layer} imports commands: {:?}",
            graph[layer]
        );
    }
}
