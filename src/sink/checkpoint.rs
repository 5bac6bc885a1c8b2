//! What a target has committed, as ranges of the run's row stream, and
//! how a resumed run skips it.
//!
//! Every generated row has a position in the run's row stream (all rows of
//! all tables in the order the run emits them, [`Block::stream`]); it
//! depends only on the Genfile, the seed and the scale, never on workers,
//! buffer or batch sizes. A database target records the ranges it commits
//! in the same transaction as their rows, so after a crash the committed
//! ranges say exactly which rows are in; a resumed run regenerates the
//! rest and writes each row once.

use datagen_actors::Rows;

use crate::value::Block;

/// Sorted, disjoint, non-adjacent `[from, to)` ranges of the row stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Committed {
    ranges: Vec<(u64, u64)>,
}

impl Committed {
    /// The union of `ranges`.
    pub fn from_ranges(ranges: impl IntoIterator<Item = (u64, u64)>) -> Committed {
        let mut all: Vec<(u64, u64)> = ranges.into_iter().filter(|(f, t)| f < t).collect();
        all.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(all.len());
        for (from, to) in all {
            match merged.last_mut() {
                Some(last) if from <= last.1 => last.1 = last.1.max(to),
                _ => merged.push((from, to)),
            }
        }
        Committed { ranges: merged }
    }

    /// `ranges` with the rows `written` since, as `(from, to, cut)`. A
    /// stream's rows reach its target in stream order, so once a row is
    /// delivered every row before it is delivered too or is never written
    /// (a table the stream does not emit, rows a resumed stream skipped):
    /// what is committed is one range from position 0 — however long the
    /// stream runs, where exact ranges would grow by a gap for every unit
    /// of a table it does not emit. Only the rows of a unit the stream's
    /// end cut short (`cut`) are kept exactly: a stream that goes on
    /// writes the rest of that unit.
    pub fn advance(ranges: &[(u64, u64)], written: &[(u64, u64, bool)]) -> Vec<(u64, u64)> {
        let mut all: Vec<(u64, u64)> = ranges.to_vec();
        all.extend(written.iter().filter(|w| w.2).map(|w| (w.0, w.1)));
        if let Some(top) = written.iter().filter(|w| !w.2).map(|w| w.1).max() {
            all.push((0, top));
        }
        Committed::from_ranges(all).ranges
    }

    /// The merged ranges.
    pub fn ranges(&self) -> &[(u64, u64)] {
        &self.ranges
    }

    /// True when nothing is committed.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Rows committed.
    pub fn rows(&self) -> u64 {
        self.ranges.iter().map(|(f, t)| t - f).sum()
    }

    /// True when all of `[from, to)` is committed.
    pub fn covers(&self, from: u64, to: u64) -> bool {
        if from >= to {
            return true;
        }
        let i = self.ranges.partition_point(|&(_, t)| t <= from);
        self.ranges
            .get(i)
            .is_some_and(|&(f, t)| f <= from && to <= t)
    }

    /// The rows of `batch` not committed yet: the batch itself when
    /// nothing is committed (every run that does not resume).
    pub fn uncommitted(&self, batch: Vec<Block>) -> Vec<Block> {
        if self.is_empty() {
            return batch;
        }
        batch.into_iter().flat_map(|b| self.trim(b)).collect()
    }

    /// The rows of `block` not committed yet, as blocks (a block that
    /// straddles a committed range comes back in pieces).
    pub fn trim(&self, mut block: Block) -> Vec<Block> {
        let mut out = Vec::new();
        let end = block.stream + block.len() as u64;
        let first = self.ranges.partition_point(|&(_, t)| t <= block.stream);
        for &(from, to) in &self.ranges[first..] {
            if from >= end || block.is_empty() {
                break;
            }
            if from > block.stream {
                let keep = (from - block.stream) as usize;
                out.push(block.split_to(keep));
            }
            let skip = (to.min(end) - block.stream) as usize;
            if skip >= block.len() {
                return out;
            }
            block.split_to(skip);
        }
        if !block.is_empty() {
            out.push(block);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;
    use proptest::prelude::*;

    fn block(stream: u64, rows: u64) -> Block {
        let mut b = Block::new(0, stream, 1);
        b.stream = stream;
        for r in 0..rows {
            b.values.push(Value::Int((stream + r) as i64));
        }
        b
    }

    #[test]
    fn a_stream_commits_a_prefix_and_the_cut_rows_exactly() {
        assert_eq!(Committed::advance(&[], &[]), []);
        let r = Committed::advance(&[(0, 10)], &[(15, 20, false), (12, 13, false)]);
        assert_eq!(r, [(0, 20)]);
        // The end cut a unit: its rows are kept as they are.
        let r = Committed::advance(&r, &[(30, 32, true), (40, 41, true)]);
        assert_eq!(r, [(0, 20), (30, 32), (40, 41)]);
        // A stream that goes on writes the rest of that unit, and more.
        let r = Committed::advance(&r, &[(32, 40, false), (41, 60, false)]);
        assert_eq!(r, [(0, 60)]);
    }

    #[test]
    fn ranges_merge_and_cover() {
        let c = Committed::from_ranges([(10, 20), (0, 5), (5, 8), (18, 25), (30, 30)]);
        assert_eq!(c.ranges(), [(0, 8), (10, 25)]);
        assert_eq!(c.rows(), 23);
        assert!(c.covers(0, 8) && c.covers(12, 25) && c.covers(3, 3));
        assert!(!c.covers(7, 9) && !c.covers(25, 26));
    }

    proptest! {
        #[test]
        fn trim_keeps_exactly_the_uncommitted_rows(
            ranges in proptest::collection::vec((0u64..200, 0u64..30), 0..8),
            start in 0u64..200,
            len in 1u64..60,
        ) {
            let committed = Committed::from_ranges(ranges.iter().map(|&(f, n)| (f, f + n)));
            let pieces = committed.trim(block(start, len));
            let mut kept = Vec::new();
            for piece in &pieces {
                prop_assert_eq!(piece.values.first(), Some(&Value::Int(piece.stream as i64)));
                for v in &piece.values {
                    if let Value::Int(i) = v {
                        kept.push(*i);
                    }
                }
            }
            let expected: Vec<i64> = (start..start + len)
                .filter(|&p| !committed.covers(p, p + 1))
                .map(|p| p as i64)
                .collect();
            prop_assert_eq!(kept, expected);
        }
    }
}
