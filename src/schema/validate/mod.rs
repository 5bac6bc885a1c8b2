//! Raw Genfile → validated [`Schema`], collecting every problem on the way.
//!
//! * `keys`: typed reading of a column's keys, reporting unknown ones.
//! * `column`: a column spec → generator, type and names to resolve.
//! * `resolve`: table order, cycles, and resolving names to indices.

mod column;
mod draft;
mod resolve;

use std::collections::HashMap;
use std::path::Path;

use serde_spanned::Spanned;

use self::column::{column, unknown_locale, Env};
use self::draft::{DraftSize, TableDraft};
pub use self::resolve::gen_columns;
use self::resolve::{order_tables, resolve};
use super::raw::{GenfileConfig, TableConfig};
use super::*;
use crate::diag::Diagnostic;
use crate::generators::dicts::{Dictionary, Locale};
use crate::generators::dist::{self, Count};

/// Validates `raw`, read from `path`, with `check_target` checking the
/// `[target]` section; returns the schema or every problem found.
pub fn validate(
    path: &Path,
    raw: GenfileConfig,
    check_target: &dyn Fn(&TargetSection) -> Vec<Diagnostic>,
) -> Result<Schema, Vec<Diagnostic>> {
    let mut d = Vec::new();

    if let Some(v) = &raw.version {
        if *v.get_ref() != 1 {
            d.push(
                Diagnostic::new(
                    v.span(),
                    format!("unsupported Genfile version {}", v.get_ref()),
                )
                .help("this datagen reads `version = 1`"),
            );
        }
    }

    let seed = match &raw.run.seed {
        Some(s) if *s.get_ref() < 0 => {
            d.push(
                Diagnostic::new(s.span(), "`seed` must not be negative")
                    .help("use a number from 0 up"),
            );
            0
        }
        Some(s) => *s.get_ref() as u64,
        None => 0,
    };
    let locale = match &raw.run.locale {
        Some(l) => Locale::parse(l.get_ref()).unwrap_or_else(|| {
            d.push(unknown_locale(l));
            Locale::EnUs
        }),
        None => Locale::EnUs,
    };

    let mut pipeline = PipelineSettings::default();
    let positive =
        |d: &mut Vec<Diagnostic>, v: &Option<Spanned<i64>>, key: &str, min: i64| -> Option<usize> {
            let v = v.as_ref()?;
            if *v.get_ref() < min {
                d.push(Diagnostic::new(
                    v.span(),
                    format!("`{key}` must be at least {min}, found {}", v.get_ref()),
                ));
                None
            } else {
                Some(*v.get_ref() as usize)
            }
        };
    pipeline.buffer_rows = positive(&mut d, &raw.pipeline.buffer_rows, "buffer_rows", 1);
    if let Some(b) = positive(&mut d, &raw.pipeline.batch_rows, "batch_rows", 1) {
        pipeline.batch_rows = b;
    }
    if let Some(w) = positive(&mut d, &raw.pipeline.workers, "workers", 0) {
        pipeline.workers = w;
    }
    if let Some(n) = positive(&mut d, &raw.pipeline.max_restarts, "max_restarts", 0) {
        pipeline.max_restarts = n.min(u32::MAX as usize) as u32;
    }
    if let Some(n) = positive(
        &mut d,
        &raw.pipeline.restart_window_s,
        "restart_window_s",
        1,
    ) {
        pipeline.restart_window_s = n as u64;
    }
    if let Some(n) = positive(&mut d, &raw.pipeline.backoff_ms, "backoff_ms", 0) {
        pipeline.backoff_ms = n as u64;
    }

    let target = TargetSection {
        entries: raw.target.0,
    };
    d.extend(check_target(&target));

    if raw.tables.0.is_empty() {
        d.push(Diagnostic {
            span: None,
            message: "no tables defined".into(),
            help: Some(
                "add a table, e.g. `[tables.users]` with `rows = 100` and `[tables.users.columns]`"
                    .into(),
            ),
        });
    }

    let dictionaries = dictionaries(&mut d, path, &raw.dictionaries);
    let dict_names: Vec<String> = dictionaries.iter().map(|x| x.name.clone()).collect();
    let mut drafts: Vec<TableDraft> = raw
        .tables
        .0
        .iter()
        .map(|(name, table)| {
            table_draft(
                &mut d,
                Env {
                    locale,
                    dicts: &dict_names,
                },
                name,
                table,
            )
        })
        .collect();

    let order = order_tables(&mut d, &drafts);
    let schema = order.and_then(|order| {
        resolve(
            &mut d,
            path,
            seed,
            locale,
            pipeline,
            target,
            &mut drafts,
            &order,
        )
        .map(|schema| Schema {
            dictionaries,
            ..schema
        })
    });
    d.sort_by_key(|diag| diag.span.as_ref().map_or(0, |s| s.start));
    match schema {
        Some(schema) if d.is_empty() => Ok(schema),
        _ => Err(d),
    }
}

fn table_draft(
    d: &mut Vec<Diagnostic>,
    env: Env<'_>,
    name: &Spanned<String>,
    table: &Spanned<TableConfig>,
) -> TableDraft {
    let t = table.get_ref();
    let what = format!("table `{}`", name.get_ref());
    let size = match (&t.rows, &t.per) {
        (Some(_), Some(per)) => {
            d.push(
                Diagnostic::new(per.span(), format!("{what}: `rows` and `per` both given"))
                    .help("a table has either a fixed `rows` count or a `per` parent, not both"),
            );
            None
        }
        (None, None) => {
            d.push(
                Diagnostic::new(name.span(), format!("{what}: no row count")).help(
                    "add `rows = N`, or `per = { parent = \"TABLE\", count = { fixed = N } }`",
                ),
            );
            None
        }
        (Some(rows), None) if *rows.get_ref() < 0 => {
            d.push(Diagnostic::new(
                rows.span(),
                format!("{what}: `rows` must not be negative"),
            ));
            None
        }
        (Some(rows), None) => Some(DraftSize::Rows(*rows.get_ref() as u64)),
        (None, Some(per)) => {
            let per = per.get_ref();
            // A bad count is reported; keep the parent so columns still resolve.
            let count = dist::count(d, &what, &per.count).unwrap_or(Count::Fixed(0));
            Some(DraftSize::Per {
                parent: per.parent.get_ref().clone(),
                span: per.parent.span(),
                count,
            })
        }
    };
    if t.columns.0.is_empty() {
        d.push(
            Diagnostic::new(name.span(), format!("{what}: no columns")).help(format!(
                "add `[tables.{}.columns]` with at least one column",
                name.get_ref()
            )),
        );
    }
    let mut seen: HashMap<&str, ()> = HashMap::new();
    let mut failed = Vec::new();
    let columns = t
        .columns
        .0
        .iter()
        .filter_map(|(col, spec)| {
            if seen.insert(col.get_ref(), ()).is_some() {
                d.push(Diagnostic::new(
                    col.span(),
                    format!("{what}: column `{}` defined twice", col.get_ref()),
                ));
            }
            let draft = column(d, env, name.get_ref(), col, spec);
            if draft.is_none() {
                failed.push(col.get_ref().clone());
            }
            draft
        })
        .collect();
    TableDraft {
        name: name.get_ref().clone(),
        span: name.span(),
        size,
        columns,
        failed,
    }
}

/// Reads `[dictionaries.NAME]`: inline `values` (and `weights`), or a `file`
/// relative to the Genfile with one value a line and an optional `,weight`.
fn dictionaries(
    d: &mut Vec<Diagnostic>,
    path: &Path,
    raw: &super::raw::Ordered<Spanned<super::raw::DictionaryConfig>>,
) -> Vec<Dictionary> {
    let mut out = Vec::new();
    for (name, config) in &raw.0 {
        // An invalid dictionary keeps its place (empty) so names resolve and
        // suggestions work; its errors keep the Genfile from being used.
        out.push(Dictionary {
            name: name.get_ref().clone(),
            values: Vec::new(),
            weights: None,
        });
        let what = format!("dictionary `{}`", name.get_ref());
        let c = config.get_ref();
        let (values, weights) = match (&c.values, &c.file) {
            (Some(_), Some(file)) => {
                d.push(
                    Diagnostic::new(
                        file.span(),
                        format!("{what}: both `values` and `file` given"),
                    )
                    .help("keep one of them"),
                );
                continue;
            }
            (None, None) => {
                d.push(
                    Diagnostic::new(name.span(), format!("{what}: no values"))
                        .help("add `values = [\"a\", \"b\"]` or `file = \"dicts/NAME.txt\"`"),
                );
                continue;
            }
            (Some(values), None) => {
                let texts: Option<Vec<String>> = values
                    .get_ref()
                    .iter()
                    .map(|v| match v {
                        toml::Value::String(s) => Some(s.clone()),
                        toml::Value::Integer(i) => Some(i.to_string()),
                        toml::Value::Float(f) => Some(f.to_string()),
                        toml::Value::Boolean(b) => Some(b.to_string()),
                        _ => None,
                    })
                    .collect();
                let Some(texts) = texts else {
                    d.push(Diagnostic::new(
                        values.span(),
                        format!("{what}: values must be strings or numbers"),
                    ));
                    continue;
                };
                let weights = match &c.weights {
                    Some(w) => {
                        let parsed: Option<Vec<f64>> = w
                            .get_ref()
                            .iter()
                            .map(|v| v.as_float().or(v.as_integer().map(|i| i as f64)))
                            .collect();
                        match parsed {
                            Some(ws)
                                if ws.len() == texts.len()
                                    && ws.iter().all(|x| *x >= 0.0 && x.is_finite())
                                    && ws.iter().sum::<f64>() > 0.0 =>
                            {
                                Some(ws)
                            }
                            _ => {
                                d.push(
                                    Diagnostic::new(w.span(), format!("{what}: need one weight (0 or more, not all 0) per value"))
                                        .help(format!("{} values, so {} weights", texts.len(), texts.len())),
                                );
                                continue;
                            }
                        }
                    }
                    None => None,
                };
                (texts, weights)
            }
            (None, Some(file)) => {
                if let Some(w) = &c.weights {
                    d.push(
                        Diagnostic::new(w.span(), format!("{what}: `weights` goes with `values`"))
                            .help("put weights in the file, as `value,weight` lines"),
                    );
                    continue;
                }
                let full = path.parent().unwrap_or(Path::new(".")).join(file.get_ref());
                let text = match std::fs::read_to_string(&full) {
                    Ok(t) => t,
                    Err(e) => {
                        d.push(
                            Diagnostic::new(
                                file.span(),
                                format!("{what}: cannot read {}: {e}", full.display()),
                            )
                            .help("the path is relative to the Genfile"),
                        );
                        continue;
                    }
                };
                match parse_dictionary_file(&text) {
                    Ok(parsed) => parsed,
                    Err((line, problem)) => {
                        d.push(Diagnostic::new(
                            file.span(),
                            format!("{what}: {}:{line}: {problem}", file.get_ref()),
                        ));
                        continue;
                    }
                }
            }
        };
        if values.is_empty() {
            d.push(
                Diagnostic::new(name.span(), format!("{what}: is empty"))
                    .help("give at least one value"),
            );
            continue;
        }
        if let Some(last) = out.last_mut() {
            last.values = values;
            last.weights = weights;
        }
    }
    out
}

/// Values and their optional weights.
type WeightedValues = (Vec<String>, Option<Vec<f64>>);

/// Parses a dictionary file: a value a line, `value,weight` for weights
/// (all lines or none); blank lines and `#` comments are skipped.
fn parse_dictionary_file(text: &str) -> Result<WeightedValues, (usize, String)> {
    let mut values = Vec::new();
    let mut weights = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line
            .rsplit_once(',')
            .map(|(v, w)| (v.trim(), w.trim().parse::<f64>()))
        {
            Some((value, Ok(weight))) if weight >= 0.0 && weight.is_finite() => {
                values.push(value.to_owned());
                weights.push(weight);
            }
            Some((_, Ok(_))) => return Err((i + 1, "weights must be 0 or more".into())),
            _ => values.push(line.to_owned()),
        }
    }
    match weights.len() {
        0 => Ok((values, None)),
        n if n == values.len() && weights.iter().sum::<f64>() > 0.0 => Ok((values, Some(weights))),
        _ => Err((1, "give a weight on every line or on none".into())),
    }
}
