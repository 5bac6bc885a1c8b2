//! What the generator threads do — generate units and, for targets that
//! take bytes, encode them — and how much the buffer between them and the
//! Target may hold.

use std::sync::Arc;

use datagen_actors::{BoxError, Generator};

use crate::failure::{ErrorKind, Failure};
use crate::generate::{Generators, Spare, Unit};
use crate::schema::{Gen, Schema};
use crate::settings::Settings;
use crate::sink::checkpoint::Committed;
use crate::sink::BlockEncoder;
use crate::value::{Block, Encoded};

/// A unit of work, and what of the row stream the target holds already:
/// those rows are left out where they are made, so a batch never carries
/// rows that are committed (after a restart, the first unit is often
/// committed in part).
#[derive(Debug, Clone)]
pub struct Work {
    /// The unit.
    pub unit: Unit,
    /// The target's checkpoint when the attempt began, if not empty.
    pub committed: Option<Arc<Committed>>,
    /// Per table, whether its rows are written; `None`: all are.
    pub emit: Option<Arc<Vec<bool>>>,
}

/// Whether every row of `unit` that is written (of the tables `emit`
/// keeps) is committed: the unit is not generated again.
pub fn done(unit: &Unit, committed: &Committed, emit: Option<&Vec<bool>>) -> bool {
    match emit {
        None => committed.covers(unit.stream, unit.stream + unit.total),
        Some(emit) => unit
            .starts
            .iter()
            .zip(unit.positions())
            .zip(&unit.counts)
            .all(|((&(t, _), at), &n)| !emit[t] || committed.covers(at, at + n)),
    }
}

impl crate::chaos::Covers for Work {
    fn unit(&self) -> &Unit {
        &self.unit
    }
}

/// Generates units of work on a worker thread and, for targets that write
/// bytes, encodes them there too.
pub struct UnitGenerator {
    generators: Arc<Generators>,
    encoder: Option<Arc<dyn BlockEncoder>>,
    spare: Spare,
    /// Encoded bytes of each table's last block: the next one's capacity.
    sizes: Vec<usize>,
}

impl UnitGenerator {
    /// A generator thread's state; `encoder` is the target's, if any.
    pub fn new(generators: Arc<Generators>, encoder: Option<Arc<dyn BlockEncoder>>) -> Self {
        UnitGenerator {
            generators,
            encoder,
            spare: Spare::default(),
            sizes: Vec::new(),
        }
    }
}

impl Generator for UnitGenerator {
    type Unit = Work;
    type Chunk = Block;

    fn generate(&mut self, work: Work) -> Result<Vec<Block>, BoxError> {
        let unit = work.unit;
        unit.check_size(&self.generators)
            .map_err(|e| Failure::new(ErrorKind::Input, e))?;
        let (positions, cut) = (unit.positions(), unit.cut > 0);
        let mut blocks = self
            .generators
            .generate_reusing(
                unit.root,
                unit.rows,
                &unit.starts,
                &positions,
                &mut self.spare,
            )
            .map_err(|e| Failure::new(ErrorKind::Input, e))?;
        for block in &mut blocks {
            block.cut = cut;
        }
        if let Some(emit) = &work.emit {
            blocks.retain_mut(|b| {
                let keep = emit[b.table];
                if !keep {
                    self.spare.recycle(b);
                }
                keep
            });
        }
        if let Some(committed) = &work.committed {
            blocks = blocks.into_iter().flat_map(|b| committed.trim(b)).collect();
        }
        for block in &mut blocks {
            if let Some(encoder) = &self.encoder {
                if self.sizes.len() <= block.table {
                    self.sizes.resize(block.table + 1, 0);
                }
                let size = &mut self.sizes[block.table];
                let mut encoded = Encoded {
                    bytes: Vec::with_capacity(*size + *size / 8),
                    ends: Vec::new(),
                    frozen: None,
                };
                encoder.encode(block, &mut encoded)?;
                *size = encoded.bytes.len();
                block.encoded = Some(encoded);
                self.spare.recycle(block);
            }
        }
        Ok(blocks)
    }
}

/// Bytes of memory available to this process, if the system says.
fn available_memory() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Bytes a buffered row of the widest table takes, roughly.
fn row_bytes(schema: &Schema) -> u64 {
    let per_value = std::mem::size_of::<crate::value::Value>() as u64;
    schema
        .tables
        .iter()
        .map(|t| {
            t.columns
                .iter()
                .map(|c| {
                    let text = match &c.gen {
                        Gen::Catalogue(g) => g.spec.text_bytes(),
                        _ => 0,
                    };
                    per_value + text
                })
                .sum::<u64>()
        })
        .max()
        .unwrap_or(64)
}

/// Memory the default buffer may take: 1/256 of what is available, between
/// 4 MiB and 32 MiB.
fn buffer_budget() -> u64 {
    let memory = available_memory().unwrap_or(1 << 30);
    (memory / 256).clamp(4 << 20, 32 << 20)
}

/// The buffer capacity: as configured, or the memory budget (1/256 of
/// available memory, 4 to 32 MiB) divided by the estimated size of a row of
/// the widest table, between 10k and 256k rows and at least two batches.
/// Past a few batches a larger buffer buys no speed, only memory; a fixed
/// cap keeps the peak the same whatever the dataset's size.
pub fn buffer_rows(schema: &Schema, settings: &Settings) -> usize {
    if let Some(rows) = settings.buffer_rows {
        return rows;
    }
    let rows = (buffer_budget() / row_bytes(schema)).clamp(10_000, 262_144) as usize;
    rows.max(2 * settings.batch_rows)
}

/// The buffer's estimated size when full, in bytes.
pub fn buffer_bytes(schema: &Schema, rows: usize) -> u64 {
    rows as u64 * row_bytes(schema)
}
