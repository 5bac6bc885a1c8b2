//! What a table holds, summed so that order does not matter: its row
//! count, a checksum per column, and per bucket of keys the rows' hashes
//! and count. Two digests differ where the tables do; the buckets that
//! differ say where to look for the rows.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

/// Buckets of keys a table's rows are summed in.
pub const BUCKETS: usize = 4_096;

/// The hash of one canonical value (`None`: NULL).
fn value_hash(column: usize, value: Option<&str>) -> u64 {
    let mut h = DefaultHasher::new();
    column.hash(&mut h);
    value.hash(&mut h);
    h.finish()
}

/// A row in canonical text, with the columns that name it.
pub struct Row<'a> {
    /// Every value, canonical; `None` for NULL.
    pub values: &'a [Option<&'a str>],
    /// The columns of the key (the primary key; every column without one).
    pub key: &'a [usize],
}

impl Row<'_> {
    /// The hash of the key's values.
    pub fn key_hash(&self) -> u64 {
        let mut h = DefaultHasher::new();
        for &c in self.key {
            self.values[c].hash(&mut h);
        }
        h.finish()
    }

    /// The key as text: `id=17`, `order_id=3, seq=2`.
    pub fn key_text(&self, names: &[String]) -> String {
        self.key
            .iter()
            .map(|&c| format!("{}={}", names[c], self.values[c].unwrap_or("NULL")))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A table's rows, summed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    /// Rows.
    pub rows: u64,
    /// Per column, the wrapping sum of its values' hashes.
    pub columns: Vec<u64>,
    /// Per bucket of keys: the wrapping sum of its rows' hashes, and its rows.
    pub buckets: Vec<(u64, u64)>,
}

impl Digest {
    /// The digest of no rows of `width` columns.
    pub fn new(width: usize) -> Digest {
        Digest {
            rows: 0,
            columns: vec![0; width],
            buckets: vec![(0, 0); BUCKETS],
        }
    }

    /// Adds `row`; returns its bucket.
    pub fn add(&mut self, row: &Row<'_>) -> usize {
        self.rows += 1;
        let mut whole = 0u64;
        for (c, v) in row.values.iter().enumerate() {
            let h = value_hash(c, *v);
            self.columns[c] = self.columns[c].wrapping_add(h);
            whole = whole.rotate_left(5) ^ h;
        }
        let bucket = bucket_of(row.key_hash());
        let b = &mut self.buckets[bucket];
        b.0 = b.0.wrapping_add(whole.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        b.1 += 1;
        bucket
    }

    /// Adds everything `other` holds.
    pub fn merge(&mut self, other: &Digest) {
        self.rows += other.rows;
        for (a, b) in self.columns.iter_mut().zip(&other.columns) {
            *a = a.wrapping_add(*b);
        }
        for (a, b) in self.buckets.iter_mut().zip(&other.buckets) {
            a.0 = a.0.wrapping_add(b.0);
            a.1 += b.1;
        }
    }

    /// The columns whose checksums differ from `other`'s.
    pub fn columns_differing(&self, other: &Digest) -> Vec<usize> {
        (0..self.columns.len())
            .filter(|&c| self.columns.get(c) != other.columns.get(c))
            .collect()
    }

    /// The buckets that differ from `other`'s.
    pub fn buckets_differing(&self, other: &Digest) -> Vec<bool> {
        self.buckets
            .iter()
            .zip(&other.buckets)
            .map(|(a, b)| a != b)
            .collect()
    }
}

/// The bucket of a key's hash.
pub fn bucket_of(key_hash: u64) -> usize {
    (key_hash % BUCKETS as u64) as usize
}

/// Rows kept from the buckets that differ, by key, up to a bound.
#[derive(Debug, Default)]
pub struct Kept {
    /// Key text → every row with that key (canonical values).
    pub rows: HashMap<String, Vec<Vec<Option<String>>>>,
    /// Rows kept.
    pub count: usize,
    /// Rows left out: the bound was reached.
    pub dropped: u64,
}

impl Kept {
    /// Keeps `row` if fewer than `bound` rows are kept.
    pub fn keep(&mut self, row: &Row<'_>, names: &[String], bound: usize) {
        if self.count >= bound {
            self.dropped += 1;
            return;
        }
        self.count += 1;
        self.rows
            .entry(row.key_text(names))
            .or_default()
            .push(row.values.iter().map(|v| v.map(str::to_owned)).collect());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(rows: &[[Option<&str>; 2]]) -> Digest {
        let mut d = Digest::new(2);
        for r in rows {
            d.add(&Row {
                values: r,
                key: &[0],
            });
        }
        d
    }

    #[test]
    fn order_does_not_matter_but_everything_else_does() {
        let a = digest(&[[Some("1"), Some("x")], [Some("2"), None]]);
        assert_eq!(a, digest(&[[Some("2"), None], [Some("1"), Some("x")]]));
        for other in [
            digest(&[[Some("1"), Some("x")]]),
            digest(&[[Some("1"), Some("x")], [Some("2"), Some("")]]),
            digest(&[[Some("1"), Some("x")], [Some("2"), None], [Some("2"), None]]),
            digest(&[[Some("1"), Some("y")], [Some("2"), None]]),
            // The same values in other rows.
            digest(&[[Some("1"), None], [Some("2"), Some("x")]]),
        ] {
            assert_ne!(a, other);
        }
        let changed = digest(&[[Some("1"), Some("y")], [Some("2"), None]]);
        assert_eq!(a.columns_differing(&changed), vec![1]);
        let buckets = a.buckets_differing(&changed);
        assert_eq!(buckets.iter().filter(|&&b| b).count(), 1);
    }

    #[test]
    fn a_merged_digest_is_the_digest_of_all() {
        let mut a = digest(&[[Some("1"), Some("x")]]);
        a.merge(&digest(&[[Some("2"), None]]));
        assert_eq!(a, digest(&[[Some("2"), None], [Some("1"), Some("x")]]));
    }
}
