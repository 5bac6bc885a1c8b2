//! The file targets: `csv://DIR` and `jsonl://DIR` (one file per table),
//! `sql://FILE` (one script) and `stdout://FORMAT`.
//!
//! Files are published atomically: each is written under a temporary name
//! (`.NAME.datagen-tmp`) in its final directory and renamed into place by
//! `finish`, after it has been flushed to disk. A failed or interrupted run
//! removes its temporary files and publishes nothing.
//!
//! A single output (an SQL script, standard output) holds the tables one
//! after another in dependency order, so that a script loads with its
//! foreign keys checked. Rows arrive interleaved by table, so the first
//! table streams straight to the output and the others are spooled to
//! anonymous temporary files, appended in order at the end.

use std::fs::File;
use std::io::{self, BufWriter, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use datagen_actors::{BoxError, Sink};

use super::ddl;
use super::encode::TableEncoder;
use super::FileFormat;
use crate::generate::Block;
use crate::genfile::schema::{IfExists, Schema};
use crate::progress::Progress;

/// Why a file target failed.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// An I/O operation failed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The file exists and `if_exists = "fail"`.
    #[error("{path} already exists\n  help: set `if_exists` in [target] to \"replace\" or \"append\", or remove the file")]
    Exists {
        /// The file.
        path: String,
    },
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> FileError {
    let path = path.display().to_string();
    move |source| FileError::Io {
        action,
        path,
        source,
    }
}

/// Where one output's bytes go.
enum Dest {
    File(File),
    Stdout(io::Stdout),
}

impl Write for Dest {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Dest::File(f) => f.write(buf),
            Dest::Stdout(s) => s.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Dest::File(f) => f.write_all(buf),
            Dest::Stdout(s) => s.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Dest::File(f) => f.flush(),
            Dest::Stdout(s) => s.flush(),
        }
    }
}

/// One output stream and, for a file, where it is published.
struct Output {
    writer: BufWriter<Dest>,
    /// `(temporary, final)` names of a published file.
    publish: Option<(PathBuf, PathBuf)>,
    /// An anonymous spool appended to the first output at the end.
    spool: bool,
}

impl Output {
    fn temp_file(dest: &Path, keep: bool) -> Result<Output, FileError> {
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp = dest.with_file_name(format!(".{name}.datagen-tmp"));
        if keep {
            std::fs::copy(dest, &temp).map_err(io_err("copy", dest))?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(keep)
            .truncate(!keep)
            .open(&temp)
            .map_err(io_err("create", &temp))?;
        Ok(Output {
            writer: BufWriter::with_capacity(1 << 20, Dest::File(file)),
            publish: Some((temp, dest.to_path_buf())),
            spool: false,
        })
    }

    fn spool(near: &Path) -> Result<Output, FileError> {
        let file = tempfile::tempfile_in(near).map_err(io_err("create a spool file in", near))?;
        Ok(Output {
            writer: BufWriter::with_capacity(1 << 20, Dest::File(file)),
            publish: None,
            spool: true,
        })
    }

    fn path(&self) -> String {
        match &self.publish {
            Some((_, dest)) => dest.display().to_string(),
            None if self.spool => "a spool file".into(),
            None => "standard output".into(),
        }
    }
}

/// A file name for a table: its name with path separators escaped.
pub fn file_name(table: &str, format: FileFormat) -> String {
    let mut name = table
        .replace('%', "%25")
        .replace('/', "%2F")
        .replace('\\', "%5C");
    if name.starts_with('.') {
        name.replace_range(0..1, "%2E");
    }
    format!("{name}.{}", format.extension())
}

/// Writes batches as files.
pub struct FileSink {
    schema: Arc<Schema>,
    encoders: Vec<TableEncoder>,
    /// Per table; in single-output mode the first is the output and the
    /// others spool into it.
    outputs: Vec<Output>,
    single: bool,
    format: FileFormat,
    text: String,
    progress: Arc<Progress>,
    /// Set when the run is stopped by a signal: nothing is published.
    stop: Arc<AtomicBool>,
}

impl FileSink {
    /// `csv://DIR` or `jsonl://DIR`: one file per table in `dir`.
    pub fn dir(
        dir: &Path,
        format: FileFormat,
        schema: Arc<Schema>,
        if_exists: IfExists,
        stop: Arc<AtomicBool>,
        progress: Arc<Progress>,
    ) -> Result<FileSink, FileError> {
        std::fs::create_dir_all(dir).map_err(io_err("create directory", dir))?;
        let dests: Vec<PathBuf> = schema
            .tables
            .iter()
            .map(|t| dir.join(file_name(&t.name, format)))
            .collect();
        if if_exists == IfExists::Fail {
            if let Some(dest) = dests.iter().find(|d| d.exists()) {
                return Err(FileError::Exists {
                    path: dest.display().to_string(),
                });
            }
        }
        let mut sink = FileSink::new(schema, format, false, stop, progress);
        for (dest, table) in dests.iter().zip(&sink.schema.tables) {
            let keep = if_exists == IfExists::Append && dest.exists();
            let mut output = Output::temp_file(dest, keep)?;
            let has_rows = keep
                && std::fs::metadata(dest)
                    .map(|m| m.len() > 0)
                    .unwrap_or(false);
            if !has_rows {
                sink.encoders[sink.outputs.len()].header(&mut sink.text, table);
            }
            write(&mut output, &mut sink.text)?;
            sink.outputs.push(output);
        }
        Ok(sink)
    }

    /// `sql://FILE` (`path` given) or `stdout://FORMAT` (`path` = `None`):
    /// every table in one output.
    pub fn single(
        path: Option<&Path>,
        format: FileFormat,
        schema: Arc<Schema>,
        if_exists: IfExists,
        stop: Arc<AtomicBool>,
        progress: Arc<Progress>,
    ) -> Result<FileSink, FileError> {
        let mut sink = FileSink::new(schema, format, true, stop, progress);
        let (first, keep, spool_dir) = match path {
            Some(path) => {
                let dir = path
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .unwrap_or(Path::new("."))
                    .to_path_buf();
                std::fs::create_dir_all(&dir).map_err(io_err("create directory", &dir))?;
                let exists = path.exists();
                if exists && if_exists == IfExists::Fail {
                    return Err(FileError::Exists {
                        path: path.display().to_string(),
                    });
                }
                let keep = exists && if_exists == IfExists::Append;
                (Output::temp_file(path, keep)?, keep, dir)
            }
            None => (
                Output {
                    writer: BufWriter::with_capacity(1 << 20, Dest::Stdout(io::stdout())),
                    publish: None,
                    spool: false,
                },
                false,
                std::env::temp_dir(),
            ),
        };
        if let FileFormat::Sql(dialect) = format {
            sink.text.push_str("BEGIN;\n\n");
            if !keep {
                sink.text.push_str(&ddl::script(&sink.schema, dialect));
            }
        }
        sink.outputs.push(first);
        for _ in 1..sink.schema.tables.len() {
            sink.outputs.push(Output::spool(&spool_dir)?);
        }
        for (i, table) in sink.schema.tables.iter().enumerate() {
            if i > 0 && format == FileFormat::Csv {
                // Sections of a CSV stream are separated by an empty line.
                sink.text.push_str("\r\n");
            }
            sink.encoders[i].header(&mut sink.text, table);
            write(&mut sink.outputs[i], &mut sink.text)?;
        }
        Ok(sink)
    }

    fn new(
        schema: Arc<Schema>,
        format: FileFormat,
        single: bool,
        stop: Arc<AtomicBool>,
        progress: Arc<Progress>,
    ) -> Self {
        FileSink {
            encoders: schema
                .tables
                .iter()
                .map(|t| TableEncoder::new(t, format))
                .collect(),
            outputs: Vec::with_capacity(schema.tables.len()),
            schema,
            single,
            format,
            text: String::with_capacity(1 << 20),
            progress,
            stop,
        }
    }

    fn write_batch(&mut self, batch: &[Block]) -> Result<(), FileError> {
        for block in batch {
            self.encoders[block.table].rows(&mut self.text, block);
            write(&mut self.outputs[block.table], &mut self.text)?;
            self.progress.add(block.table, block.len() as u64);
        }
        Ok(())
    }

    fn complete(&mut self) -> Result<(), FileError> {
        if self.stop.load(Ordering::Relaxed) {
            // Interrupted: the files are incomplete; `Drop` removes them.
            return Ok(());
        }
        if self.single {
            let (first, spools) = self
                .outputs
                .split_first_mut()
                .expect("a schema has at least one table");
            let path = first.path();
            for spool in spools {
                let Dest::File(file) = spool.writer.get_mut() else {
                    unreachable!("spools are files")
                };
                let mut file = file
                    .try_clone()
                    .map_err(io_err("read", Path::new("a spool file")))?;
                spool
                    .writer
                    .flush()
                    .map_err(io_err("write", Path::new("a spool file")))?;
                file.rewind()
                    .map_err(io_err("read", Path::new("a spool file")))?;
                io::copy(&mut file, &mut first.writer)
                    .map_err(io_err("write", Path::new(&path)))?;
            }
            if matches!(self.format, FileFormat::Sql(_)) {
                self.text.push_str("\nCOMMIT;\n");
                write(first, &mut self.text)?;
            }
            self.outputs.truncate(1);
        }
        for output in &mut self.outputs {
            let path = output.path();
            output
                .writer
                .flush()
                .map_err(io_err("write", Path::new(&path)))?;
            if let Dest::File(file) = output.writer.get_ref() {
                file.sync_data()
                    .map_err(io_err("write", Path::new(&path)))?;
            }
        }
        for output in &mut self.outputs {
            if let Some((temp, dest)) = output.publish.take() {
                if let Err(e) = std::fs::rename(&temp, &dest) {
                    let _ = std::fs::remove_file(&temp);
                    return Err(io_err("publish", &dest)(e));
                }
            }
        }
        Ok(())
    }
}

/// Writes and clears `text`.
fn write(output: &mut Output, text: &mut String) -> Result<(), FileError> {
    let result = output.writer.write_all(text.as_bytes());
    text.clear();
    result.map_err(|source| FileError::Io {
        action: "write",
        path: output.path(),
        source,
    })
}

impl Sink for FileSink {
    type Chunk = Block;

    fn write(&mut self, batch: Vec<Block>) -> Result<(), BoxError> {
        Ok(self.write_batch(&batch)?)
    }

    fn finish(&mut self) -> Result<(), BoxError> {
        Ok(self.complete()?)
    }
}

impl Drop for FileSink {
    fn drop(&mut self) {
        // Not finished (the run failed): publish nothing.
        for output in &mut self.outputs {
            if let Some((temp, _)) = output.publish.take() {
                let _ = std::fs::remove_file(temp);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_cannot_escape_the_directory() {
        assert_eq!(file_name("orders", FileFormat::Csv), "orders.csv");
        assert_eq!(
            file_name("../etc/x", FileFormat::Jsonl),
            "%2E.%2Fetc%2Fx.jsonl"
        );
        assert_eq!(file_name("a\\b%", FileFormat::Csv), "a%5Cb%25.csv");
    }
}
