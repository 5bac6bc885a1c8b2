//! Ordering tables so that `per` parents and referenced tables come
//! first, and reporting cycles with their path.

use std::collections::HashMap;
use std::ops::Range;

use super::super::draft::{DraftSize, Link, TableDraft};
use crate::diag::{nearest, Diagnostic};

/// Orders tables so that `per` parents and referenced tables come first;
/// reports cycles with their path.
pub(in crate::schema::validate) fn order_tables(
    d: &mut Vec<Diagnostic>,
    drafts: &[TableDraft],
) -> Option<Vec<usize>> {
    let index: HashMap<&str, usize> = drafts
        .iter()
        .enumerate()
        .map(|(i, t)| (t.name.as_str(), i))
        .collect();
    let mut deps: Vec<Vec<usize>> = vec![Vec::new(); drafts.len()];
    for (i, t) in drafts.iter().enumerate() {
        if let Some(DraftSize::Per { parent, span, .. }) = &t.size {
            match index.get(parent.as_str()) {
                Some(&p) if p == i => d.push(
                    Diagnostic::new(
                        span.clone(),
                        format!("table `{}`: `per` names the table itself", t.name),
                    )
                    .help("a table cannot be its own parent"),
                ),
                Some(&p) => deps[i].push(p),
                None => d.push(unknown_table(span.clone(), &t.name, parent, drafts)),
            }
        }
        for c in &t.columns {
            if let Some(Link::Ref { target, .. } | Link::Lookup { target, .. }) = &c.link {
                if let Some(&p) = target.split_once('.').and_then(|(tn, _)| index.get(tn)) {
                    if p != i {
                        deps[i].push(p);
                    }
                }
            }
        }
    }
    let mut order = Vec::with_capacity(drafts.len());
    let mut placed = vec![false; drafts.len()];
    while order.len() < drafts.len() {
        let next = (0..drafts.len()).find(|&i| !placed[i] && deps[i].iter().all(|&p| placed[p]));
        match next {
            Some(i) => {
                placed[i] = true;
                order.push(i);
            }
            None => {
                let start = (0..drafts.len())
                    .find(|&i| !placed[i])
                    .expect("some table is left");
                let cycle = find_cycle(&deps, &placed, start);
                let path: Vec<&str> = cycle.iter().map(|&i| drafts[i].name.as_str()).collect();
                d.push(
                    Diagnostic::new(drafts[cycle[0]].span.clone(), format!("tables depend on each other in a cycle: {}", path.join(" → ")))
                        .help("break the cycle: a `per` parent or a `ref` target must not depend back on the table"),
                );
                return None;
            }
        }
    }
    Some(order)
}

fn find_cycle(deps: &[Vec<usize>], placed: &[bool], start: usize) -> Vec<usize> {
    let mut path = vec![start];
    let mut current = start;
    loop {
        let next = *deps[current]
            .iter()
            .find(|&&p| !placed[p])
            .expect("an unplaced table has an unplaced dependency");
        if let Some(pos) = path.iter().position(|&t| t == next) {
            let mut cycle = path[pos..].to_vec();
            cycle.push(next);
            return cycle;
        }
        path.push(next);
        current = next;
    }
}

/// A name of a table that no table has, with the nearest name as a hint.
pub(super) fn unknown_table(
    span: Range<usize>,
    table: &str,
    name: &str,
    drafts: &[TableDraft],
) -> Diagnostic {
    let diag = Diagnostic::new(span, format!("table `{table}`: unknown table `{name}`"));
    match nearest(name, drafts.iter().map(|t| t.name.as_str())) {
        Some(n) => diag.help(format!("did you mean `{n}`?")),
        None => diag.help(format!(
            "tables are: {}",
            drafts
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}
