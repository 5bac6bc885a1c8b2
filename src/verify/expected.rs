//! What a store must hold, recomputed from the Genfile and the seed: every
//! unit of the plan generated again on worker threads, a row at a time in
//! canonical text, never the whole table at once.

use std::sync::{Arc, Mutex};

use crate::format::canon::canonical;
use crate::format::text;
use crate::generate::{Generators, Spare, Units, ValueError};
use crate::schema::Schema;
use crate::sink::read::Fields;
use crate::value::Block;

/// A row's values in canonical text, made in reused space.
#[derive(Default)]
pub struct RowText {
    fields: Fields,
    scratch: String,
}

impl RowText {
    /// Row `i` of `block`, whose columns are `table`'s.
    pub fn of_block(&mut self, schema: &Schema, block: &Block, i: usize) -> Vec<Option<&str>> {
        let table = &schema.tables[block.table];
        self.fields.clear();
        for (value, column) in block.row(i).iter().zip(&table.columns) {
            if *value == crate::value::Value::Null {
                self.fields.push_null();
                continue;
            }
            self.scratch.clear();
            text::value(&mut self.scratch, *value, block, column.sql_type.scale());
            let scratch = &self.scratch;
            self.fields
                .push_with(|out| out.push_str(&canonical(column.sql_type, scratch)));
        }
        self.fields.values()
    }

    /// A row a store gave, its values made canonical for `table`'s types.
    pub fn of_store(
        &mut self,
        table: &crate::schema::Table,
        values: &[Option<&str>],
    ) -> Vec<Option<&str>> {
        self.fields.clear();
        for (i, column) in table.columns.iter().enumerate() {
            match values.get(i).copied().flatten() {
                None => self.fields.push_null(),
                Some(v) => self
                    .fields
                    .push_with(|out| out.push_str(&canonical(column.sql_type, v))),
            }
        }
        self.fields.values()
    }
}

/// Generates every unit of `units` on `workers` threads, calling `each`
/// with every block; each thread folds into its own state from `init`.
/// Returns the states, or the first value that could not be made.
pub fn for_each_block<S: Send>(
    units: Units,
    generators: &Arc<Generators>,
    workers: usize,
    emit: Option<&[bool]>,
    init: impl Fn() -> S + Sync,
    each: impl Fn(&mut S, &Block) + Sync,
) -> Result<Vec<S>, ValueError> {
    let units = Mutex::new(units);
    let failed: Mutex<Option<ValueError>> = Mutex::new(None);
    let states = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers.max(1))
            .map(|_| {
                scope.spawn(|| {
                    let mut state = init();
                    let mut spare = Spare::default();
                    loop {
                        let unit = {
                            let mut units = units.lock().unwrap_or_else(|e| e.into_inner());
                            if failed.lock().unwrap_or_else(|e| e.into_inner()).is_some() {
                                break;
                            }
                            units.next()
                        };
                        let Some(unit) = unit else { break };
                        let generated = generators.generate_reusing(
                            unit.root,
                            unit.rows.clone(),
                            &unit.starts,
                            &unit.positions(),
                            &mut spare,
                        );
                        match generated {
                            Ok(blocks) => {
                                for mut block in blocks {
                                    if emit.is_none_or(|e| e[block.table]) {
                                        each(&mut state, &block);
                                    }
                                    spare.recycle(&mut block);
                                }
                            }
                            Err(e) => {
                                failed
                                    .lock()
                                    .unwrap_or_else(|e| e.into_inner())
                                    .get_or_insert(e);
                                break;
                            }
                        }
                    }
                    state
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a verify worker does not panic"))
            .collect::<Vec<S>>()
    });
    match failed.into_inner().unwrap_or_else(|e| e.into_inner()) {
        Some(e) => Err(e),
        None => Ok(states),
    }
}
