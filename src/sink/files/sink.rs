//! The file sink: rows appended to each table's output as they arrive,
//! checkpointed every `commit_rows` rows, published when complete.

use std::io::{self, BufWriter, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datagen_actors::{BoxError, Sink};

use super::encode::{FileEncoder, FileFormat};
use super::error::{io_err, FileError};
use super::layout::{hidden, FileCheckpoint, Layout};
use super::output::{write, write_bytes, Dest, Output};
use crate::progress::Progress;
use crate::schema::Schema;
use crate::shard::Shard;
use crate::sink::checkpoint::Committed;
use crate::sink::options::IfExists;
use crate::sink::place;
use crate::sink::{
    classify, ddl, encoded, BlockEncoder, Commits, Failure, Given, Resume, TargetSink,
};
use crate::value::Block;

/// Checkpointing state of a resumable file sink.
struct Checkpointing {
    layout: Layout,
    fingerprint: String,
    commits: Commits,
    /// Rows written since the last checkpoint.
    since: u64,
    /// Stream ranges written, committed or not (committed at the next
    /// checkpoint, when everything written is flushed to disk).
    written: Vec<(u64, u64)>,
}

/// Writes batches as files.
pub struct FileSink {
    schema: Arc<Schema>,
    encoder: Arc<FileEncoder>,
    /// Per table; in single-output mode the first is the output and the
    /// others spool into it.
    outputs: Vec<Output>,
    single: bool,
    format: FileFormat,
    text: String,
    progress: Arc<Progress>,
    /// Set when the run is stopped by a signal: nothing is published.
    resume: Resume,
    /// For a resumable target (not standard output).
    checkpointing: Option<Checkpointing>,
    /// What an interrupted run committed (when resuming).
    committed: Committed,
    /// Rows written per table (including a resumed run's).
    rows: Vec<u64>,
    /// Rows given and checkpointed.
    given: Given,
    /// `finish` was called: nothing is checkpointed on drop.
    finished: bool,
}

/// How a file sink is opened: resumption and commit units.
#[derive(Debug, Clone)]
pub struct FileOptions {
    /// What to do with existing files.
    pub if_exists: IfExists,
    /// Rows between checkpoints.
    pub commits: Commits,
    /// Resuming, the fingerprint, the stop flag.
    pub resume: Resume,
    /// The slice of the run written.
    pub shard: Shard,
}

impl FileSink {
    /// Reopens the files of an interrupted run from `layout`'s checkpoint,
    /// if there is one for this run. `Ok(None)` when there is none.
    fn resumed(
        layout: &Layout,
        schema: &Arc<Schema>,
        format: FileFormat,
        single: bool,
        options: &FileOptions,
        progress: &Arc<Progress>,
    ) -> Result<Option<FileSink>, FileError> {
        if !options.resume.resume || !layout.checkpoint.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&layout.checkpoint)
            .map_err(io_err("read", &layout.checkpoint))?;
        let ck = FileCheckpoint::parse(&text).ok_or_else(|| {
            FileError::Resume(format!(
                "{} is not a checkpoint",
                layout.checkpoint.display()
            ))
        })?;
        if ck.fingerprint != options.resume.fingerprint {
            return Err(FileError::Resume(format!(
                "{} belongs to a run made with a different Genfile, seed or scale\n  help: resume with the same Genfile, --seed and --scale, or start over without --resume",
                layout.checkpoint.display()
            )));
        }
        if ck.lengths.len() != layout.files.len() || ck.rows.len() != schema.tables.len() {
            return Err(FileError::Resume(format!(
                "{} does not match this Genfile's tables",
                layout.checkpoint.display()
            )));
        }
        let mut sink = FileSink::new(
            schema.clone(),
            format,
            single,
            options.resume.clone(),
            progress.clone(),
        );
        for (i, file) in layout.files.iter().enumerate() {
            sink.outputs.push(Output::reopen(
                file,
                ck.lengths[i],
                layout.dests[i].clone(),
            )?);
        }
        for (t, &n) in ck.rows.iter().enumerate() {
            progress.add(t, n);
        }
        sink.rows = ck.rows.clone();
        sink.committed = Committed::from_ranges(ck.committed.iter().copied());
        sink.checkpointing = Some(Checkpointing {
            layout: layout.clone(),
            fingerprint: ck.fingerprint,
            commits: options.commits.clone(),
            since: 0,
            written: ck.committed,
        });
        Ok(Some(sink))
    }

    fn checkpointing(&mut self, layout: Layout, options: &FileOptions) {
        self.checkpointing = Some(Checkpointing {
            layout,
            fingerprint: options.resume.fingerprint.clone(),
            commits: options.commits.clone(),
            since: 0,
            written: Vec::new(),
        });
    }

    /// Flushes everything written to disk and records it in the checkpoint
    /// (written under a temporary name and renamed, so it is whole).
    fn commit(&mut self) -> Result<(), FileError> {
        let Some(ck) = &mut self.checkpointing else {
            self.given.committed();
            return Ok(());
        };
        let mut lengths = Vec::with_capacity(self.outputs.len());
        for (output, path) in self.outputs.iter_mut().zip(&ck.layout.files) {
            output.writer.flush().map_err(io_err("write", path))?;
            let Dest::File(file) = output.writer.get_mut() else {
                unreachable!("a resumable target writes files")
            };
            file.sync_data().map_err(io_err("write", path))?;
            lengths.push(file.stream_position().map_err(io_err("write", path))?);
        }
        let committed = Committed::from_ranges(ck.written.iter().copied());
        ck.written = committed.ranges().to_vec();
        let text = FileCheckpoint {
            fingerprint: ck.fingerprint.clone(),
            committed: ck.written.clone(),
            rows: self.rows.clone(),
            lengths,
        }
        .text();
        let temp = hidden(&ck.layout.checkpoint, ".tmp");
        let mut f = place::fresh(&temp).map_err(io_err("create", &temp))?;
        f.write_all(text.as_bytes())
            .and_then(|_| f.sync_data())
            .map_err(io_err("write", &temp))?;
        std::fs::rename(&temp, &ck.layout.checkpoint)
            .map_err(io_err("write", &ck.layout.checkpoint))?;
        ck.since = 0;
        ck.commits.committed();
        self.given.committed();
        Ok(())
    }

    /// `csv://DIR` or `jsonl://DIR`: one file per table in `dir`.
    pub fn dir(
        dir: &Path,
        format: FileFormat,
        schema: Arc<Schema>,
        options: FileOptions,
        progress: Arc<Progress>,
    ) -> Result<FileSink, FileError> {
        place::directory(dir)?;
        let layout = Layout::dir(dir, &schema, format, options.shard);
        for dest in layout.dests.iter().flatten() {
            place::publishable(dest)?;
        }
        std::fs::create_dir_all(dir).map_err(io_err("create directory", dir))?;
        if let Some(sink) = Self::resumed(&layout, &schema, format, false, &options, &progress)? {
            return Ok(sink);
        }
        let if_exists = options.if_exists;
        let dests: Vec<PathBuf> = layout.dests.iter().flatten().cloned().collect();
        if if_exists == IfExists::Fail {
            if let Some(dest) = dests.iter().find(|d| d.exists()) {
                return Err(FileError::Exists {
                    path: dest.display().to_string(),
                });
            }
        }
        let _ = std::fs::remove_file(&layout.checkpoint);
        let mut sink = FileSink::new(schema, format, false, options.resume.clone(), progress);
        for (dest, table) in dests.iter().zip(&sink.schema.tables) {
            let keep = if_exists == IfExists::Append && dest.exists();
            let mut output = Output::temp_file(dest, keep)?;
            let has_rows = keep
                && std::fs::metadata(dest)
                    .map(|m| m.len() > 0)
                    .unwrap_or(false);
            if !has_rows {
                sink.encoder.tables[sink.outputs.len()].header(&mut sink.text, table);
            }
            write(&mut output, &mut sink.text)?;
            sink.outputs.push(output);
        }
        sink.checkpointing(layout, &options);
        Ok(sink)
    }

    /// `sql://FILE` (`path` given) or `stdout://FORMAT` (`path` = `None`):
    /// every table in one output.
    pub fn single(
        path: Option<&Path>,
        format: FileFormat,
        schema: Arc<Schema>,
        options: FileOptions,
        progress: Arc<Progress>,
    ) -> Result<FileSink, FileError> {
        let if_exists = options.if_exists;
        if let Some(path) = path {
            place::publishable(path)?;
        }
        let layout = path.map(|p| Layout::single(p, schema.tables.len()));
        if let Some(layout) = &layout {
            if let Some(parent) = path
                .and_then(Path::parent)
                .filter(|d| !d.as_os_str().is_empty())
            {
                std::fs::create_dir_all(parent).map_err(io_err("create directory", parent))?;
            }
            if let Some(sink) = Self::resumed(layout, &schema, format, true, &options, &progress)? {
                return Ok(sink);
            }
        }
        let mut sink = FileSink::new(schema, format, true, options.resume.clone(), progress);
        let (first, keep, spool_dir) = match path {
            Some(path) => {
                let dir = path
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .unwrap_or(Path::new("."))
                    .to_path_buf();
                place::directory(&dir)?;
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
                    writer: BufWriter::with_capacity(1 << 20, Dest::Stream(Box::new(io::stdout()))),
                    publish: None,
                    spool: false,
                },
                false,
                std::env::temp_dir(),
            ),
        };
        if let FileFormat::Sql(dialect) = format {
            if !options.shard.is_whole() && dialect == ddl::Dialect::Sqlite {
                // Rows may reference rows of shards loaded later; SQLite
                // checks foreign keys per statement when they are on.
                sink.text.push_str("PRAGMA foreign_keys = OFF;\n");
            }
            sink.text.push_str("BEGIN;\n\n");
            if !options.shard.is_whole() {
                // Every shard's script runs against the same tables: the
                // tables come first, from `datagen ddl`.
                sink.text.push_str(&format!(
                    "-- shard {} of {} (from 0): rows only; create the tables first with `datagen ddl`\n\n",
                    options.shard.index, options.shard.count
                ));
            } else if !keep {
                sink.text.push_str(&ddl::script(&sink.schema, dialect));
            }
        }
        sink.outputs.push(first);
        for i in 1..sink.schema.tables.len() {
            sink.outputs.push(match &layout {
                Some(layout) => Output::named_spool(&layout.files[i])?,
                None => Output::spool(&spool_dir)?,
            });
        }
        for (i, table) in sink.schema.tables.iter().enumerate() {
            if i > 0 && format == FileFormat::Csv {
                // Sections of a CSV stream are separated by an empty line.
                sink.text.push_str("\r\n");
            }
            sink.encoder.tables[i].header(&mut sink.text, table);
            write(&mut sink.outputs[i], &mut sink.text)?;
        }
        if let Some(layout) = layout {
            let _ = std::fs::remove_file(&layout.checkpoint);
            sink.checkpointing(layout, &options);
        }
        Ok(sink)
    }

    fn new(
        schema: Arc<Schema>,
        format: FileFormat,
        single: bool,
        resume: Resume,
        progress: Arc<Progress>,
    ) -> Self {
        let schema_tables = schema.tables.len();
        let mut encoder = FileEncoder::new(&schema, format);
        if single && format == FileFormat::Jsonl && schema_tables > 1 {
            encoder = encoder.enveloped(&schema);
        }
        FileSink {
            encoder: Arc::new(encoder),
            outputs: Vec::with_capacity(schema.tables.len()),
            schema,
            single,
            format,
            text: String::with_capacity(1 << 20),
            progress,
            resume,
            checkpointing: None,
            committed: Committed::default(),
            rows: vec![0; schema_tables],
            given: Given::default(),
            finished: false,
        }
    }

    fn write_batch(&mut self, batch: &mut Vec<Block>) -> Result<(), BoxError> {
        *batch = self.committed.uncommitted(std::mem::take(batch));
        for block in batch.iter_mut() {
            let (t, first_row) = (block.table, block.first_row);
            let encoded = encoded(&*self.encoder, block)?;
            if matches!(self.format, FileFormat::Sql(_)) {
                for i in 0..encoded.ends.len() {
                    let first = i == 0 && self.rows[t] == 0;
                    self.encoder.tables[t].sql_frame(&mut self.text, first_row + i as u64, first);
                    write(&mut self.outputs[t], &mut self.text)?;
                    write_bytes(&mut self.outputs[t], encoded.row(i))?;
                }
            } else {
                write_bytes(&mut self.outputs[t], &encoded.bytes)?;
            }
            self.progress.add(t, block.len() as u64);
            self.rows[t] += block.len() as u64;
            if let Some(ck) = &mut self.checkpointing {
                let n = block.len() as u64;
                ck.written.push((block.stream, block.stream + n));
                ck.since += n;
            }
        }
        if self
            .checkpointing
            .as_ref()
            .is_some_and(|ck| ck.since >= ck.commits.rows())
        {
            self.commit()?;
        }
        Ok(())
    }

    fn complete(&mut self) -> Result<(), FileError> {
        if self.resume.stopped() {
            // Interrupted: the files stay unpublished, flushed and recorded
            // in the checkpoint for --resume.
            return self.commit();
        }
        for (t, encoder) in self.encoder.tables.iter().enumerate() {
            if self.rows[t] > 0 {
                encoder.end(&mut self.text);
                write(&mut self.outputs[t], &mut self.text)?;
            }
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
        // Something else may have appeared at a destination during the run.
        for (_, dest) in self.outputs.iter().filter_map(|o| o.publish.as_ref()) {
            place::publishable(dest)?;
        }
        for output in &mut self.outputs {
            if let Some((temp, dest)) = output.publish.take() {
                if let Err(e) = std::fs::rename(&temp, &dest) {
                    let _ = std::fs::remove_file(&temp);
                    return Err(io_err("publish", &dest)(e));
                }
            }
        }
        if let Some(ck) = &self.checkpointing {
            // Published: the spools and the checkpoint have served.
            for (file, dest) in ck.layout.files.iter().zip(&ck.layout.dests) {
                if dest.is_none() {
                    let _ = std::fs::remove_file(file);
                }
            }
            let _ = std::fs::remove_file(&ck.layout.checkpoint);
        }
        Ok(())
    }
}

impl Sink for FileSink {
    type Chunk = Block;

    fn write(&mut self, batch: &mut Vec<Block>) -> Result<(), BoxError> {
        self.given.begin(batch);
        self.write_batch(batch).map_err(classify::<FileError>)?;
        self.given.end();
        Ok(())
    }

    fn durable(&self) -> Option<u64> {
        Some(self.given.durable)
    }

    fn finish(&mut self) -> Result<(), BoxError> {
        self.finished = true;
        self.complete()
            .map_err(|e| Box::new(Failure::from(e)) as BoxError)
    }
}

impl Drop for FileSink {
    fn drop(&mut self) {
        // Not finished: another part failed, or this sink did. The
        // batches written whole are checkpointed — a restart continues
        // after them — unless a write failed half-way.
        let since = self.checkpointing.as_ref().map_or(0, |ck| ck.since);
        if since > 0
            && !self.finished
            && !self.given.poisoned
            && !self.resume.stop.load(std::sync::atomic::Ordering::Relaxed)
        {
            if let Err(e) = self.commit() {
                tracing::debug!(error = %e, "checkpointing on drop failed");
            }
        }
    }
}

impl TargetSink for FileSink {
    fn committed(&self) -> &Committed {
        &self.committed
    }

    fn encoder(&self) -> Option<Arc<dyn BlockEncoder>> {
        Some(self.encoder.clone())
    }
}
