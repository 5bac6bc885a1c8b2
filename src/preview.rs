//! `datagen preview`: the first rows of each table, as an aligned text table.
//!
//! The rows shown are exactly the rows a run with the same seed writes:
//! the whole plan is counted (so references point where they would), then
//! only the first units are generated.

use crate::format::text;
use crate::generate::plan::{Limits, PlanError, UnitTooLarge};
use crate::generate::ValueError;
use crate::schema::Schema;
use crate::value::SqlType;
use crate::value::{Block, Value};

/// Widest a cell is shown; longer values end in `…`.
const CELL: usize = 40;

fn cell(v: Value, block: &Block, sql: SqlType) -> String {
    let mut out = String::new();
    if v == Value::Null {
        out.push_str("NULL");
    }
    text::value(&mut out, v, block, sql.scale());
    let out = out.replace(['\n', '\r', '\t'], " ");
    if out.chars().count() > CELL {
        let cut: String = out.chars().take(CELL - 1).collect();
        format!("{cut}…")
    } else {
        out
    }
}

/// Why a preview could not be shown: the reasons a run would fail.
#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    /// The plan is impossible.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// A value cannot be made.
    #[error(transparent)]
    Value(#[from] ValueError),
    /// A row has more rows below it than fit in memory.
    #[error(transparent)]
    TooLarge(#[from] UnitTooLarge),
}

impl PreviewError {
    /// The exit code, as a run would exit.
    pub fn exit_code(&self) -> u8 {
        match self {
            PreviewError::Plan(e) => e.exit_code(),
            PreviewError::Value(_) | PreviewError::TooLarge(_) => 2,
        }
    }
}

/// Renders the first `rows` rows of `tables` (all when empty) at `seed`;
/// fails where a run would, with `max_rows` as the run's limit.
pub fn preview(
    schema: &Schema,
    seed: u64,
    max_rows: u64,
    tables: &[usize],
    rows: usize,
) -> Result<String, PreviewError> {
    let wanted: Vec<usize> = if tables.is_empty() {
        (0..schema.tables.len()).collect()
    } else {
        tables.to_vec()
    };
    let limits = Limits {
        max_rows,
        stop: None,
    };
    // Small units: only the first few are generated.
    let (plan, generators) = crate::generate::plan::plan(schema, seed, 1.0, 256, 1, &limits)?;
    let mut cells: Vec<Vec<Vec<String>>> = vec![Vec::new(); schema.tables.len()];
    for unit in plan.units(generators.clone()) {
        let done = wanted
            .iter()
            .all(|&t| cells[t].len() >= rows.min(plan.table_rows[t] as usize));
        if done {
            break;
        }
        if !wanted
            .iter()
            .any(|&t| unit.starts.iter().any(|(u, _)| *u == t))
        {
            continue;
        }
        unit.check_size(&generators)?;
        for block in generators.generate(unit.root, unit.rows.clone(), &unit.starts)? {
            let table = &schema.tables[block.table];
            let out = &mut cells[block.table];
            for i in 0..block.len() {
                if out.len() >= rows {
                    break;
                }
                let row = block.row(i);
                out.push(
                    row.iter()
                        .zip(&table.columns)
                        .map(|(v, c)| cell(*v, &block, c.sql_type))
                        .collect(),
                );
            }
        }
    }
    let mut out = String::new();
    for &t in &wanted {
        let table = &schema.tables[t];
        let header: Vec<String> = table.columns.iter().map(|c| c.name.clone()).collect();
        let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
        for row in &cells[t] {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        out.push_str(&format!(
            "{} ({} of {} rows)\n",
            table.name,
            cells[t].len(),
            plan.table_rows[t]
        ));
        let line = |cols: &[String]| -> String {
            let padded: Vec<String> = cols
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
                .collect();
            format!("| {} |\n", padded.join(" | "))
        };
        out.push_str(&line(&header));
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        out.push_str(&format!("|-{}-|\n", rule.join("-|-")));
        for row in &cells[t] {
            out.push_str(&line(row));
        }
        out.push('\n');
    }
    Ok(out)
}
