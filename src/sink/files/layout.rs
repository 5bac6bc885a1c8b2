//! Where a file target's files are: their names, the temporary files of a
//! run and the checkpoint that lets `--resume` continue it.

use std::path::{Path, PathBuf};

use super::encode::FileFormat;
use crate::schema::Schema;
use crate::shard::Shard;

/// A file name for a table: its name with path separators escaped, and the
/// shard's suffix if the run is sharded.
pub fn file_name(table: &str, format: FileFormat, shard: Shard) -> String {
    let mut name = table
        .replace('%', "%25")
        .replace('/', "%2F")
        .replace('\\', "%5C");
    if name.starts_with('.') {
        name.replace_range(0..1, "%2E");
    }
    format!("{name}{}.{}", shard.suffix(), format.extension())
}

/// The on-disk files of a file target that can be resumed.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Per output, where it is written until published.
    pub files: Vec<PathBuf>,
    /// Per output, where it is published (none for spools).
    pub dests: Vec<Option<PathBuf>>,
    /// The checkpoint file.
    pub checkpoint: PathBuf,
}

pub(super) fn hidden(path: &Path, suffix: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}{suffix}"))
}

impl Layout {
    /// `csv://DIR`, `jsonl://DIR`: a temporary file per table and
    /// `DIR/.datagen-checkpoint` (with the shard's suffix, so shards can
    /// share a directory).
    pub fn dir(dir: &Path, schema: &Schema, format: FileFormat, shard: Shard) -> Layout {
        let dests: Vec<PathBuf> = schema
            .tables
            .iter()
            .map(|t| dir.join(file_name(&t.name, format, shard)))
            .collect();
        Layout {
            files: dests.iter().map(|d| hidden(d, ".datagen-tmp")).collect(),
            dests: dests.into_iter().map(Some).collect(),
            checkpoint: dir.join(format!(".datagen-checkpoint{}", shard.suffix())),
        }
    }

    /// `sql://FILE`: the file's temporary name, a spool per further table
    /// and a checkpoint, all beside it.
    pub fn single(path: &Path, tables: usize) -> Layout {
        let mut files = vec![hidden(path, ".datagen-tmp")];
        let mut dests = vec![Some(path.to_path_buf())];
        for i in 1..tables {
            files.push(hidden(path, &format!(".{i}.datagen-spool")));
            dests.push(None);
        }
        Layout {
            files,
            dests,
            checkpoint: hidden(path, ".datagen-checkpoint"),
        }
    }

    /// Removes every unpublished file of a run that failed for good.
    pub fn discard(&self) {
        for f in self.files.iter().chain([&self.checkpoint]) {
            let _ = std::fs::remove_file(f);
        }
    }
}

/// What a file target's checkpoint records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FileCheckpoint {
    pub(super) fingerprint: String,
    pub(super) committed: Vec<(u64, u64)>,
    pub(super) rows: Vec<u64>,
    pub(super) lengths: Vec<u64>,
}

impl FileCheckpoint {
    pub(super) fn text(&self) -> String {
        let list = |v: &[u64]| v.iter().map(u64::to_string).collect::<Vec<_>>().join(" ");
        let ranges: Vec<String> = self
            .committed
            .iter()
            .map(|(f, t)| format!("{f}-{t}"))
            .collect();
        format!(
            "datagen checkpoint 1\nrun {}\nranges {}\nrows {}\nlengths {}\n",
            self.fingerprint,
            ranges.join(" "),
            list(&self.rows),
            list(&self.lengths)
        )
    }

    pub(super) fn parse(text: &str) -> Option<FileCheckpoint> {
        let mut lines = text.lines();
        if lines.next()? != "datagen checkpoint 1" {
            return None;
        }
        let mut field = |key: &str| -> Option<Vec<String>> {
            let line = lines.next()?;
            let rest = line.strip_prefix(key)?;
            Some(rest.split_whitespace().map(str::to_owned).collect())
        };
        let fingerprint = field("run")?.into_iter().next()?;
        let committed = field("ranges")?
            .iter()
            .map(|r| {
                let (f, t) = r.split_once('-')?;
                Some((f.parse().ok()?, t.parse().ok()?))
            })
            .collect::<Option<Vec<_>>>()?;
        let numbers = |v: Vec<String>| {
            v.iter()
                .map(|n| n.parse().ok())
                .collect::<Option<Vec<u64>>>()
        };
        let rows = numbers(field("rows")?)?;
        let lengths = numbers(field("lengths")?)?;
        Some(FileCheckpoint {
            fingerprint,
            committed,
            rows,
            lengths,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_cannot_escape_the_directory() {
        assert_eq!(
            file_name("orders", FileFormat::Csv, Shard::WHOLE),
            "orders.csv"
        );
        assert_eq!(
            file_name("orders", FileFormat::Csv, Shard { index: 2, count: 8 }),
            "orders-00002-of-00008.csv"
        );
        assert_eq!(
            file_name("../etc/x", FileFormat::Jsonl, Shard::WHOLE),
            "%2E.%2Fetc%2Fx.jsonl"
        );
        assert_eq!(
            file_name("a\\b%", FileFormat::Csv, Shard::WHOLE),
            "a%5Cb%25.csv"
        );
    }
}
