//! Slices of a run for `--shard K/N`: which work units a shard generates
//! and what its files are called.

use std::ops::Range;
use std::path::{Path, PathBuf};

/// One slice of a run: `--shard K/N` generates the `index`-th of `count`
/// slices. Each root table's units are dealt out in contiguous ranges, so a
/// shard holds a contiguous range of every table's rows, and the shards in
/// order hold every row of the run exactly once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 0-based: `0..count`.
    pub index: u64,
    /// How many shards the run is cut into (at least 1).
    pub count: u64,
}

impl Shard {
    /// The whole run.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Which of `units` units this shard generates.
    pub fn range(self, units: u64) -> Range<u64> {
        let at = |k: u64| (u128::from(units) * u128::from(k) / u128::from(self.count)) as u64;
        at(self.index)..at(self.index + 1)
    }

    /// The file of this shard for a file `path` of the whole run: the
    /// shard's suffix before the extension (`out/shop.db` →
    /// `out/shop-00002-of-00008.db`); `path` itself for the whole run.
    pub fn file_path(self, path: &Path) -> PathBuf {
        if self.is_whole() {
            return path.to_path_buf();
        }
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let suffix = self.suffix();
        let name = match path.extension() {
            Some(ext) => format!("{stem}{suffix}.{}", ext.to_string_lossy()),
            None => format!("{stem}{suffix}"),
        };
        path.with_file_name(name)
    }

    /// True unless the run is cut into shards.
    pub fn is_whole(self) -> bool {
        self.count == 1
    }

    /// What a shard's file names carry before their extension:
    /// `-00002-of-00008`; nothing for the whole run. Zero-padded, so the
    /// shards' files sort in order.
    pub fn suffix(self) -> String {
        if self.is_whole() {
            String::new()
        } else {
            format!("-{:05}-of-{:05}", self.index, self.count)
        }
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}
