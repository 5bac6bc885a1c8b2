//! A table's `unique = ["a", "b"]`: its column names resolved, and how the
//! rows keep the group ([`Keeping`]). A member unique alone keeps it for
//! every tuple; otherwise each member must be numbered (a generator over a
//! space, a `ref` over the referenced rows) or be a `parent` column, whose
//! children the group is then numbered among.

use serde_spanned::Spanned;

use crate::diag::{nearest, Diagnostic};
use crate::generators::dist::{Count, Dist};
use crate::generators::Uniqueness;
use crate::schema::{Column, Gen, Keeping, Numbered, Table, TableSize, UniqueGroup};

/// What members of a numbered group can be, for the help of a refusal.
const MEMBERS: &str = "a member of a `unique` group is a generator that `unique = true` accepts with fixed parameters (`pattern`, `string`, `int`/`date`/`timestamp` without `dist`, `choice`, `dict`, `phone`, `br.cpf`, person names, `internet.ipv4` with `cidr`), a `ref` or a `parent` column; or make one member unique alone with `unique = true`, and the group may hold anything else";

/// A group to be numbered: its numbered members, and whether it holds a
/// `parent` column.
struct ToNumber {
    group: usize,
    numbered: Vec<usize>,
    within_parent: bool,
}

/// Resolves the groups of table `pos`, and how the numbered ones are
/// numbered together, reporting what is wrong; `failed` are columns whose
/// own problem is reported already.
pub(super) fn groups(
    d: &mut Vec<Diagnostic>,
    tables: &[Table],
    pos: usize,
    groups: &[Spanned<Vec<Spanned<String>>>],
    failed: &[String],
) -> (Vec<UniqueGroup>, Vec<Numbered>) {
    let table = &tables[pos];
    let t = &table.name;
    let mut out: Vec<UniqueGroup> = Vec::new();
    let mut to_number: Vec<ToNumber> = Vec::new();
    // Each group's columns, sorted, to find one listed twice.
    let mut seen: std::collections::HashMap<Vec<usize>, String> = std::collections::HashMap::new();
    for group in groups {
        let span = group.span();
        let names = group.get_ref();
        let mut columns = Vec::with_capacity(names.len());
        let mut ok = true;
        for name in names {
            match table.column_index(name.get_ref()) {
                Some(c) if columns.contains(&c) => {
                    d.push(
                        Diagnostic::new(
                            name.span(),
                            format!("table `{t}`: `unique` lists `{}` twice", name.get_ref()),
                        )
                        .help("list each column of the group once"),
                    );
                    ok = false;
                }
                Some(c) => columns.push(c),
                None if failed.iter().any(|f| f == name.get_ref()) => ok = false,
                None => {
                    let diag = Diagnostic::new(
                        name.span(),
                        format!("table `{t}`: `unique` names no column `{}`", name.get_ref()),
                    );
                    let names = table.columns.iter().map(|c| c.name.as_str());
                    d.push(match nearest(name.get_ref(), names.clone()) {
                        Some(n) => diag.help(format!("did you mean `{n}`?")),
                        None => diag.help(format!(
                            "columns of `{t}`: {}",
                            names.collect::<Vec<_>>().join(", ")
                        )),
                    });
                    ok = false;
                }
            }
        }
        if !ok {
            continue;
        }
        let mut set = columns.clone();
        set.sort_unstable();
        if let Some(earlier) = seen.get(&set) {
            d.push(
                Diagnostic::new(
                    span,
                    format!("table `{t}`: this `unique` group repeats an earlier one, ({earlier})"),
                )
                .help("list each group once (the order of its columns does not matter)"),
            );
            continue;
        }
        let written: Vec<&str> = names.iter().map(|n| n.get_ref().as_str()).collect();
        seen.insert(set, written.join(", "));
        if names.len() < 2 {
            let help = match names.first() {
                Some(only) => format!(
                    "a single column is unique with `unique = true` in its own spec: `{} = {{ …, unique = true }}`",
                    only.get_ref()
                ),
                None => "list two or more columns, e.g. `unique = [\"store\", \"sku\"]`".to_owned(),
            };
            d.push(
                Diagnostic::new(
                    span,
                    format!(
                        "table `{t}`: a `unique` group lists {} column{}",
                        names.len(),
                        if names.is_empty() { "s" } else { "" }
                    ),
                )
                .help(help),
            );
            continue;
        }
        if let Some(&alone) = columns.iter().find(|&&c| key_alone(&table.columns[c])) {
            out.push(UniqueGroup {
                columns,
                span,
                keeping: Keeping::ByMember(alone),
            });
            continue;
        }
        let mut numbered = Vec::new();
        let mut parents = Vec::new();
        for (&c, name) in columns.iter().zip(names) {
            let column = &table.columns[c];
            let why = match &column.gen {
                Gen::Catalogue(g) if !g.exprs.is_empty() => Some(
                    "its bounds are computed for each row, so its values cannot be numbered over one space".to_owned(),
                ),
                Gen::Catalogue(g) => match g.spec.uniqueness() {
                    Uniqueness::Space { .. } => {
                        numbered.push(c);
                        None
                    }
                    Uniqueness::UniqueOnly => Some(format!(
                        "`{}` repeats values unless its spec says `unique = true`; add it there, and every combination holding it is distinct",
                        g.name
                    )),
                    _ => Some(match g.spec.unique_hint() {
                        Some(hint) => format!("`{}` with these parameters cannot be numbered ({hint})", g.name),
                        None => format!("`{}` cannot be numbered over a space of values", g.name),
                    }),
                },
                Gen::Ref { dist: Dist::Uniform, .. } => {
                    numbered.push(c);
                    None
                }
                Gen::Ref { .. } => Some(
                    "its `dist` shapes how often each row is referenced, which a group that makes each combination once cannot keep; remove `dist`".to_owned(),
                ),
                Gen::Parent { column: pc } => {
                    // Only a key of the parent row tells its children apart
                    // from other parents' (a copied `tier` does not).
                    if let TableSize::Per { parent, .. } = table.size {
                        if tables.get(parent).is_some_and(|p| key_alone(&p.columns[*pc])) {
                            parents.push(c);
                        }
                    }
                    None
                }
                Gen::Expr { .. } => Some("an `expr` column cannot be numbered".to_owned()),
                Gen::Lookup { .. } => Some(
                    "a `lookup` column follows its `ref`: put the `ref` column in the group instead".to_owned(),
                ),
                Gen::Agg { .. } => Some("an `agg` column summarises the row's children".to_owned()),
                Gen::Cases(_) => Some("a `cases` column draws from several sources".to_owned()),
            };
            if let Some(why) = why {
                d.push(
                    Diagnostic::new(
                        name.span(),
                        format!(
                            "table `{t}`: `unique` group member `{}`: {why}",
                            column.name
                        ),
                    )
                    .help(MEMBERS),
                );
                ok = false;
            }
        }
        if !ok {
            continue;
        }
        if numbered.is_empty() {
            d.push(
                Diagnostic::new(
                    span,
                    format!("table `{t}`: every column of the `unique` group is copied from the parent row, so the children of one parent would all repeat it"),
                )
                .help("add a column of the child's own to the group, e.g. a `pattern` or a `ref`"),
            );
            continue;
        }
        let within_parent = !parents.is_empty();
        if within_parent {
            if let TableSize::Per {
                count: Count::Dist(_),
                ..
            } = table.size
            {
                d.push(
                    Diagnostic::new(
                        span.clone(),
                        format!("table `{t}`: a `unique` group with a `parent` column is numbered among each parent row's children, whose count must be bounded"),
                    )
                    .help("give `per.count` a fixed, `uniform` or `zipf` form (each has a largest count), or leave the `parent` column out of the group"),
                );
                continue;
            }
        }
        to_number.push(ToNumber {
            group: out.len(),
            numbered,
            within_parent,
        });
        out.push(UniqueGroup {
            columns,
            span,
            keeping: Keeping::Numbered(usize::MAX),
        });
    }
    let numbered = number_together(d, table, &mut out, to_number);
    (out, numbered)
}

/// Gathers the groups that share numbered columns (each with the groups
/// it shares with, and so on) into one [`Numbered`] each. Groups that
/// share must all share the same columns, each holding the rest alone:
/// otherwise one column would spell two numbers, reported.
fn number_together(
    d: &mut Vec<Diagnostic>,
    table: &Table,
    out: &mut [UniqueGroup],
    to_number: Vec<ToNumber>,
) -> Vec<Numbered> {
    let n = to_number.len();
    // Components, by a column in common: each column joins the groups
    // that number it to the first one that did.
    let mut component: Vec<usize> = (0..n).collect();
    fn root(component: &mut [usize], mut i: usize) -> usize {
        while component[i] != i {
            component[i] = component[component[i]];
            i = component[i];
        }
        i
    }
    let mut first_of: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    for (g, group) in to_number.iter().enumerate() {
        for &c in &group.numbered {
            match first_of.get(&c) {
                Some(&other) => {
                    let (ra, rb) = (root(&mut component, g), root(&mut component, other));
                    component[ra.max(rb)] = ra.min(rb);
                }
                None => {
                    first_of.insert(c, g);
                }
            }
        }
    }
    let mut by_root: Vec<Vec<usize>> = vec![Vec::new(); n];
    for g in 0..n {
        let r = root(&mut component, g);
        by_root[r].push(g);
    }
    let mut numbered: Vec<Numbered> = Vec::new();
    for members in by_root.into_iter().filter(|m| !m.is_empty()) {
        let first = members[0];
        // How many of the groups hold each column.
        let mut holders: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
        for &g in &members {
            for &c in &to_number[g].numbered {
                *holders.entry(c).or_insert(0) += 1;
            }
        }
        let shared: Vec<usize> = to_number[first]
            .numbered
            .iter()
            .copied()
            .filter(|c| holders[c] == members.len())
            .collect();
        let rest: Vec<Vec<usize>> = members
            .iter()
            .map(|&i| {
                to_number[i]
                    .numbered
                    .iter()
                    .copied()
                    .filter(|c| !shared.contains(c))
                    .collect()
            })
            .collect();
        let twice = members.iter().find_map(|&g| {
            to_number[g]
                .numbered
                .iter()
                .find(|c| (2..members.len()).contains(&holders[c]))
                .map(|&c| (c, g))
        });
        if let Some((c, later)) = twice {
            let names = |g: usize| {
                table
                    .column_names(&out[to_number[g].group].columns)
                    .join(", ")
            };
            d.push(
                Diagnostic::new(
                    out[to_number[later].group].span.clone(),
                    format!(
                        "table `{}`: the `unique` groups ({}) overlap in different columns: `{}` is in more than one of them but not in all",
                        table.name,
                        members.iter().map(|&g| names(g)).collect::<Vec<_>>().join("), ("),
                        table.columns[c].name,
                    ),
                )
                .help("let the groups share one set of columns (e.g. `[\"store\", \"sku\"]` and `[\"store\", \"shelf\", \"slot\"]` share `store`), or make a member of one group unique alone with `unique = true`"),
            );
            continue;
        }
        for &i in &members {
            out[to_number[i].group].keeping = Keeping::Numbered(numbered.len());
        }
        numbered.push(Numbered {
            groups: members.iter().map(|&i| to_number[i].group).collect(),
            shared,
            rest,
            within_parent: members.iter().all(|&i| to_number[i].within_parent),
        });
    }
    numbered
}

/// Whether `column`'s values never repeat in its table on their own
/// (`unique = true`, a primary key, a `sequence` or `uuid`).
fn key_alone(column: &Column) -> bool {
    column.unique
        || matches!(&column.gen, Gen::Catalogue(g) if g.spec.uniqueness() == Uniqueness::Always)
}

/// Reports every `lookup` that would read a column numbered among its
/// parent's children: a row computed alone does not know its place among
/// its siblings.
pub(super) fn check_lookups(d: &mut Vec<Diagnostic>, tables: &[Table]) {
    for table in tables {
        for column in &table.columns {
            let mut gens = vec![&column.gen];
            while let Some(gen) = gens.pop() {
                match gen {
                    Gen::Cases(cases) => gens.extend(cases.iter().map(|c| &c.gen)),
                    Gen::Lookup {
                        table: tp,
                        column: cp,
                        ..
                    } => {
                        let Some(target) = tables.get(*tp).filter(|t| *cp < t.columns.len()) else {
                            continue; // a name not resolved, reported
                        };
                        let needed = super::needed_columns(target, *cp);
                        let sibling_numbered = target.numbered.iter().any(|n| {
                            n.within_parent
                                && n.shared
                                    .iter()
                                    .chain(n.rest.iter().flatten())
                                    .any(|c| needed.contains(c))
                        });
                        if sibling_numbered {
                            d.push(
                                Diagnostic::new(
                                    column.span.clone(),
                                    format!(
                                        "column `{}.{}`: cannot look up `{}.{}`: it is numbered among its parent row's children by a `unique` group",
                                        table.name, column.name, target.name, target.columns[*cp].name
                                    ),
                                )
                                .help("a row looked up is computed alone, without its place among its siblings: look up another column, or leave the `parent` column out of that group"),
                            );
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}
