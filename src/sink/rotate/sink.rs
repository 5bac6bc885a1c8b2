//! The rotated files sink: appends each table's rows to its open file,
//! commits (flush, fsync, checkpoint) every `commit_rows` rows or second,
//! and publishes a file by renaming it once it is complete.

use std::fs::File;
use std::io::{BufWriter, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use datagen_actors::{BoxError, Sink};
use serde::{Deserialize, Serialize};

use super::{Format, RotateTarget, Rotation};
use crate::progress::Progress;
use crate::schema::Schema;
use crate::sink::checkpoint::Committed;
use crate::sink::files::error::FileError;
use crate::sink::options::IfExists;
use crate::sink::{
    classify, encoded, place, BlockEncoder, Commits, Failure, Given, OpenArgs, Resume, TargetSink,
};
use crate::value::Block;

/// The checkpoint's name in the directory.
pub const CHECKPOINT: &str = ".datagen-stream";

/// The manifest's name in the directory.
pub const MANIFEST: &str = "manifest.jsonl";

/// Seconds between commits at most, whatever `commit_rows` says: a slow
/// stream loses at most this much to a crash (it is generated again).
const COMMIT_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> FileError {
    let path = path.display().to_string();
    move |source| FileError::Io {
        action,
        path,
        source,
    }
}

/// A file published: its name, rows and bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    /// The file's name in the directory.
    pub file: String,
    /// Its table.
    pub table: String,
    /// Its number among the table's files.
    pub seq: u64,
    /// Rows in it.
    pub rows: u64,
    /// Bytes in it.
    pub bytes: u64,
}

/// A table's files as the checkpoint records them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct TableState {
    name: String,
    /// The open file's number.
    seq: u64,
    /// Its committed bytes and rows.
    bytes: u64,
    rows: u64,
    /// Rows committed of the table in all.
    total: u64,
    /// The last file published.
    last: Option<Published>,
}

/// The checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Checkpoint {
    datagen_stream: u32,
    run: String,
    ranges: Vec<(u64, u64)>,
    tables: Vec<TableState>,
}

/// A table's open file.
struct Open {
    state: TableState,
    /// The file being written, once a row came.
    file: Option<BufWriter<File>>,
    /// Bytes and rows written to it (committed or not).
    bytes: u64,
    rows: u64,
    opened: Instant,
}

/// The name of file `seq` of `table`.
pub fn file_name(table: &str, seq: u64, ext: &str) -> String {
    let mut name = table
        .replace('%', "%25")
        .replace('/', "%2F")
        .replace('\\', "%5C");
    if name.starts_with('.') {
        name.replace_range(0..1, "%2E");
    }
    format!("{name}-{seq:09}.{ext}")
}

fn temp_name(file: &str) -> String {
    format!(".{file}.datagen-tmp")
}

/// Writes rows into rotated files.
pub struct RotateSink {
    dir: PathBuf,
    schema: Arc<Schema>,
    format: Format,
    rotation: Rotation,
    manifest: bool,
    encoder: Arc<dyn BlockEncoder>,
    tables: Vec<Open>,
    /// What was committed when the sink opened: not written again.
    committed: Committed,
    /// Committed ranges, and those written since the last commit (with
    /// whether their unit was cut short).
    ranges: Vec<(u64, u64)>,
    written: Vec<(u64, u64, bool)>,
    fingerprint: String,
    commits: Commits,
    since: u64,
    last_commit: Instant,
    given: Given,
    progress: Arc<Progress>,
    resume: Resume,
    finished: bool,
    /// The CSV header of each table.
    headers: Vec<String>,
    /// Held while the sink is open: one stream writes a directory at a time.
    _lock: File,
}

/// The lock file's name in the directory.
pub const LOCK: &str = ".datagen-stream.lock";

/// Takes the directory's lock, or says which stream holds it.
fn lock(dir: &Path) -> Result<File, FileError> {
    let path = dir.join(LOCK);
    place::publishable(&path)?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io_err("create", &path))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(FileError::Busy(format!(
            "another stream is writing to {}\n  help: stop it first, or write to another directory",
            dir.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(io_err("lock", &path)(e)),
    }
}

impl RotateSink {
    /// Opens the sink: from the checkpoint when resuming or restarting,
    /// else afresh as `if_exists` says.
    pub fn open(target: &RotateTarget, args: &OpenArgs) -> Result<RotateSink, Failure> {
        let dir = target.dir.clone();
        let checkpoint = dir.join(CHECKPOINT);
        let schema = args.schema.clone();
        let ext = target.format.extension();
        let headers = schema
            .tables
            .iter()
            .map(|t| {
                let mut h = String::new();
                if target.format == Format::Csv {
                    crate::sink::files::encode::TableEncoder::new(
                        t,
                        crate::sink::files::encode::FileFormat::Csv,
                    )
                    .header(&mut h, t);
                }
                h
            })
            .collect();
        let held = lock(&dir)?;
        let mut sink = RotateSink {
            _lock: held,
            dir: dir.clone(),
            encoder: target.encoder(&schema),
            format: target.format.clone(),
            rotation: target.rotation,
            manifest: target.manifest,
            tables: Vec::new(),
            committed: Committed::default(),
            ranges: Vec::new(),
            written: Vec::new(),
            fingerprint: args.resume.fingerprint.clone(),
            commits: Commits::new(target.common.commit_rows, args),
            since: 0,
            last_commit: Instant::now(),
            given: Given::default(),
            progress: args.progress.clone(),
            resume: args.resume.clone(),
            finished: false,
            headers,
            schema: schema.clone(),
        };
        let resuming = (args.resume.resume || args.resume.restart) && checkpoint.exists();
        let states = if resuming {
            sink.reopen(&checkpoint)?
        } else {
            sink.fresh(target.common.if_exists, ext)?
        };
        sink.tables = states
            .into_iter()
            .map(|state| Open {
                bytes: state.bytes,
                rows: state.rows,
                state,
                file: None,
                opened: Instant::now(),
            })
            .collect();
        for (t, open) in sink.tables.iter().enumerate() {
            sink.progress.add(t, open.state.total);
        }
        // Open files with committed rows go on where they were cut.
        for t in 0..sink.tables.len() {
            if sink.tables[t].state.bytes > 0 {
                sink.open_file(t)?;
            }
        }
        Ok(sink)
    }

    /// The states of a new stream: no files yet (or, appending, numbered
    /// after those there are).
    fn fresh(&mut self, if_exists: IfExists, ext: &str) -> Result<Vec<TableState>, FileError> {
        let existing = existing_files(&self.dir, &self.schema, ext)?;
        let checkpoint = self.dir.join(CHECKPOINT);
        let found = !existing.is_empty() || checkpoint.exists();
        match if_exists {
            IfExists::Fail if found => {
                return Err(FileError::Exists {
                    path: format!(
                        "{} (files of a stream: {})",
                        self.dir.display(),
                        existing.first().map_or(CHECKPOINT, |(_, _, n)| n.as_str())
                    ),
                })
            }
            IfExists::Replace | IfExists::Truncate => {
                for (_, _, name) in &existing {
                    let path = self.dir.join(name);
                    std::fs::remove_file(&path).map_err(io_err("remove", &path))?;
                }
                for path in [checkpoint, self.dir.join(MANIFEST)] {
                    if path.exists() {
                        std::fs::remove_file(&path).map_err(io_err("remove", &path))?;
                    }
                }
            }
            _ => {}
        }
        remove_temps(&self.dir, &self.schema, ext, &[])?;
        Ok(self
            .schema
            .tables
            .iter()
            .enumerate()
            .map(|(t, table)| TableState {
                name: table.name.clone(),
                // Appending: after the files there are.
                seq: existing
                    .iter()
                    .filter(|(table, _, _)| *table == t)
                    .map(|(_, seq, _)| seq + 1)
                    .max()
                    .filter(|_| if_exists == IfExists::Append)
                    .unwrap_or(0),
                ..TableState::default()
            })
            .collect())
    }

    /// The states the checkpoint records, with any publication a crash
    /// interrupted finished and open files cut back to what is committed.
    fn reopen(&mut self, path: &Path) -> Result<Vec<TableState>, FileError> {
        // Only a regular file is read (a FIFO there would block).
        place::publishable(path)?;
        let text = std::fs::read_to_string(path).map_err(io_err("read", path))?;
        let ck: Checkpoint = serde_json::from_str(&text).map_err(|e| {
            FileError::Resume(format!("{} is not a checkpoint: {e}", path.display()))
        })?;
        if ck.run != self.fingerprint {
            return Err(FileError::Resume(format!(
                "{} belongs to a stream made with a different Genfile, seed or scale\n  help: resume with the same Genfile, --seed and --scale, or start over without --resume (if_exists = \"replace\" removes the old files)",
                path.display()
            )));
        }
        if ck.tables.len() != self.schema.tables.len()
            || ck
                .tables
                .iter()
                .zip(&self.schema.tables)
                .any(|(s, t)| s.name != t.name)
        {
            return Err(FileError::Resume(format!(
                "{} does not match this Genfile's tables",
                path.display()
            )));
        }
        let ext = self.format.extension();
        for state in &ck.tables {
            if let Some(last) = &state.last {
                let dest = self.dir.join(&last.file);
                if !dest.exists() {
                    let temp = self.dir.join(temp_name(&last.file));
                    std::fs::rename(&temp, &dest).map_err(io_err("publish", &dest))?;
                    sync_dir(&self.dir)?;
                }
                if self.manifest {
                    self.manifest_line(last, true)?;
                }
            }
        }
        let keep: Vec<String> = ck
            .tables
            .iter()
            .map(|s| temp_name(&file_name(&s.name, s.seq, ext)))
            .collect();
        remove_temps(&self.dir, &self.schema, ext, &keep)?;
        for state in &ck.tables {
            let temp = self
                .dir
                .join(temp_name(&file_name(&state.name, state.seq, ext)));
            match std::fs::metadata(&temp) {
                Ok(meta) if meta.len() >= state.bytes => {}
                _ if state.bytes == 0 => {}
                _ => {
                    return Err(FileError::Resume(format!(
                        "{} is missing or shorter than the checkpoint says ({} bytes)",
                        temp.display(),
                        state.bytes
                    )))
                }
            }
        }
        self.ranges = ck.ranges.clone();
        self.committed = Committed::from_ranges(ck.ranges.iter().copied());
        Ok(ck.tables)
    }

    /// Opens table `t`'s current file: made afresh, or an interrupted one
    /// cut back to its committed length.
    fn open_file(&mut self, t: usize) -> Result<(), FileError> {
        let ext = self.format.extension();
        let open = &mut self.tables[t];
        let temp = self
            .dir
            .join(temp_name(&file_name(&open.state.name, open.state.seq, ext)));
        let file = if open.state.bytes > 0 {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .open(&temp)
                .map_err(io_err("open", &temp))?;
            file.set_len(open.state.bytes)
                .map_err(io_err("truncate", &temp))?;
            file.seek(std::io::SeekFrom::End(0))
                .map_err(io_err("open", &temp))?;
            file
        } else {
            let dest = self
                .dir
                .join(file_name(&open.state.name, open.state.seq, ext));
            place::publishable(&dest)?;
            let mut file = place::fresh(&temp).map_err(io_err("create", &temp))?;
            let header = &self.headers[t];
            file.write_all(header.as_bytes())
                .map_err(io_err("write", &temp))?;
            open.bytes = header.len() as u64;
            file
        };
        open.file = Some(BufWriter::with_capacity(1 << 20, file));
        open.opened = Instant::now();
        Ok(())
    }

    fn due(&self, t: usize) -> bool {
        let open = &self.tables[t];
        let r = &self.rotation;
        open.rows > 0
            && (r.rows.is_some_and(|n| open.rows >= n)
                || r.bytes.is_some_and(|n| open.bytes >= n)
                || r.secs.is_some_and(|s| open.opened.elapsed().as_secs() >= s))
    }

    fn write_batch(&mut self, batch: &mut Vec<Block>) -> Result<(), BoxError> {
        *batch = self.committed.uncommitted(std::mem::take(batch));
        for block in batch.iter_mut() {
            let (t, stream, cut) = (block.table, block.stream, block.cut);
            let encoded = encoded(&*self.encoder, block)?;
            let rows = encoded.ends.len();
            let mut from = 0;
            while from < rows {
                if self.tables[t].file.is_none() {
                    self.open_file(t)?;
                }
                // Rows until the file is due by rows or bytes.
                let open = &self.tables[t];
                let room = self.rotation.rows.map_or(rows - from, |n| {
                    (n.saturating_sub(open.rows) as usize).max(1)
                });
                let mut to = (from + room).min(rows);
                if let Some(limit) = self.rotation.bytes {
                    let start = if from == 0 {
                        0
                    } else {
                        encoded.ends[from - 1] as u64
                    };
                    let left = limit.saturating_sub(open.bytes);
                    // The first row that reaches the limit ends the file.
                    let reach = encoded.ends[from..to]
                        .iter()
                        .position(|&e| e as u64 - start >= left)
                        .map_or(to, |i| from + i + 1);
                    to = to.min(reach);
                }
                let start = if from == 0 {
                    0
                } else {
                    encoded.ends[from - 1] as usize
                };
                let end = encoded.ends[to - 1] as usize;
                let open = &mut self.tables[t];
                let temp_path = || self.dir.join("a file of the stream");
                open.file
                    .as_mut()
                    .expect("opened above")
                    .write_all(&encoded.bytes[start..end])
                    .map_err(|e| io_err("write", &temp_path())(e))?;
                open.bytes += (end - start) as u64;
                open.rows += (to - from) as u64;
                let (first, n) = (stream + from as u64, (to - from) as u64);
                self.written.push((first, first + n, cut));
                self.since += n;
                self.progress.add(t, n);
                from = to;
                if self.due(t) {
                    self.publish(t)?;
                }
            }
        }
        for t in 0..self.tables.len() {
            // Files due by age, even of tables this batch did not touch.
            if self.due(t) {
                self.publish(t)?;
            }
        }
        if self.since >= self.commits.rows() || self.last_commit.elapsed() >= COMMIT_EVERY {
            self.commit()?;
        }
        Ok(())
    }

    /// Makes everything written durable: the open files flushed and
    /// synced, then the checkpoint.
    fn commit(&mut self) -> Result<(), FileError> {
        let ext = self.format.extension();
        for open in &mut self.tables {
            if let Some(file) = &mut open.file {
                let temp =
                    self.dir
                        .join(temp_name(&file_name(&open.state.name, open.state.seq, ext)));
                file.flush().map_err(io_err("write", &temp))?;
                file.get_ref().sync_data().map_err(io_err("write", &temp))?;
            }
            open.state.total += open.rows - open.state.rows;
            open.state.bytes = open.bytes;
            open.state.rows = open.rows;
        }
        // Rows reach the files in stream order (`Committed::advance`).
        self.ranges = Committed::advance(&self.ranges, &self.written);
        self.written.clear();
        self.write_checkpoint()?;
        self.since = 0;
        self.last_commit = Instant::now();
        self.given.committed();
        self.commits.committed();
        Ok(())
    }

    fn write_checkpoint(&self) -> Result<(), FileError> {
        let ck = Checkpoint {
            datagen_stream: 1,
            run: self.fingerprint.clone(),
            ranges: self.ranges.clone(),
            tables: self.tables.iter().map(|o| o.state.clone()).collect(),
        };
        let path = self.dir.join(CHECKPOINT);
        let temp = self.dir.join(".datagen-stream.tmp");
        let text = serde_json::to_string(&ck).expect("a checkpoint serialises");
        let mut file = place::fresh(&temp).map_err(io_err("create", &temp))?;
        file.write_all(text.as_bytes())
            .map_err(io_err("write", &temp))?;
        file.sync_data().map_err(io_err("write", &temp))?;
        std::fs::rename(&temp, &path).map_err(io_err("write", &path))?;
        sync_dir(&self.dir)
    }

    /// Publishes table `t`'s open file: everything is committed with the
    /// file recorded as published, then it is renamed into place.
    fn publish(&mut self, t: usize) -> Result<(), FileError> {
        let ext = self.format.extension();
        let open = &mut self.tables[t];
        let name = file_name(&open.state.name, open.state.seq, ext);
        let published = Published {
            file: name.clone(),
            table: open.state.name.clone(),
            seq: open.state.seq,
            rows: open.rows,
            bytes: open.bytes,
        };
        let temp = self.dir.join(temp_name(&name));
        if let Some(mut file) = open.file.take() {
            file.flush().map_err(io_err("write", &temp))?;
            file.get_ref().sync_data().map_err(io_err("write", &temp))?;
        }
        // The checkpoint says the file is published and the next is open
        // (and empty) before the rename: a crash in between is finished
        // by the next open.
        open.state.total += open.rows - open.state.rows;
        open.state.seq += 1;
        open.state.bytes = 0;
        open.state.rows = 0;
        open.state.last = Some(published.clone());
        open.bytes = 0;
        open.rows = 0;
        self.commit()?;
        let dest = self.dir.join(&name);
        place::publishable(&dest)?;
        std::fs::rename(&temp, &dest).map_err(io_err("publish", &dest))?;
        sync_dir(&self.dir)?;
        if self.manifest {
            self.manifest_line(&published, false)?;
        }
        Ok(())
    }

    /// Publishes every file that holds rows, and commits.
    fn publish_all(&mut self) -> Result<(), FileError> {
        for t in 0..self.tables.len() {
            if self.tables[t].rows > 0 {
                self.publish(t)?;
            }
        }
        self.commit()
    }

    /// Appends `published` to the manifest (unless `check` finds it there).
    fn manifest_line(&self, published: &Published, check: bool) -> Result<(), FileError> {
        let path = self.dir.join(MANIFEST);
        let line = serde_json::to_string(published).expect("a manifest line serialises");
        if check {
            if let Ok(text) = std::fs::read_to_string(&path) {
                if text.lines().any(|l| l == line) {
                    return Ok(());
                }
            }
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io_err("write", &path))?;
        file.write_all(format!("{line}\n").as_bytes())
            .map_err(io_err("write", &path))?;
        file.sync_data().map_err(io_err("write", &path))
    }
}

/// Syncs a directory, so that renames in it survive a crash.
fn sync_dir(dir: &Path) -> Result<(), FileError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err("sync", dir))
}

/// `(table, seq, name)` of the published files of `schema`'s tables in
/// `dir`.
fn existing_files(
    dir: &Path,
    schema: &Schema,
    ext: &str,
) -> Result<Vec<(usize, u64, String)>, FileError> {
    let mut found = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(io_err("read", dir)(e)),
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        for (t, table) in schema.tables.iter().enumerate() {
            let prefix = file_name(&table.name, 0, ext);
            let stem = &prefix[..prefix.len() - ext.len() - 1 - 9];
            if let Some(rest) = name.strip_prefix(stem) {
                if let Some(seq) = rest.strip_suffix(&format!(".{ext}")) {
                    if seq.len() == 9 && seq.bytes().all(|b| b.is_ascii_digit()) {
                        found.push((t, seq.parse().unwrap_or(0), name.clone()));
                    }
                }
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Removes the temporary files of `schema`'s tables in `dir` but `keep`.
fn remove_temps(dir: &Path, schema: &Schema, ext: &str, keep: &[String]) -> Result<(), FileError> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let ours = schema.tables.iter().any(|t| {
            let prefix = temp_name(&file_name(&t.name, 0, ext));
            name.starts_with(&prefix[..prefix.len() - ext.len() - ".datagen-tmp".len() - 10])
        }) && name.ends_with(&format!(".{ext}.datagen-tmp"));
        if ours && !keep.contains(&name) {
            let path = dir.join(&name);
            std::fs::remove_file(&path).map_err(io_err("remove", &path))?;
        }
    }
    Ok(())
}

/// Removes what a stream that failed for good left unpublished: its open
/// files and its checkpoint. Published files stay: readers may have them.
pub fn discard(dir: &Path, schema: &Schema, format: &Format) {
    let _ = remove_temps(dir, schema, format.extension(), &[]);
    let _ = std::fs::remove_file(dir.join(CHECKPOINT));
}

impl Sink for RotateSink {
    type Chunk = Block;

    fn write(&mut self, batch: &mut Vec<Block>) -> Result<(), BoxError> {
        self.given.begin(batch);
        self.write_batch(batch)
            .map_err(|e| match e.downcast::<FileError>() {
                Ok(e) => Box::new(Failure::from(*e)) as BoxError,
                Err(e) => e,
            })?;
        self.given.end();
        Ok(())
    }

    fn durable(&self) -> Option<u64> {
        Some(self.given.durable)
    }

    fn finish(&mut self) -> Result<(), BoxError> {
        self.finished = true;
        // The stream has ended (its rows, its duration or a signal):
        // every file with rows is published, so readers have them all.
        let _ = self.resume.stopped();
        self.publish_all()
            .map_err(|e| classify::<FileError>(Box::new(e)))
    }
}

impl Drop for RotateSink {
    fn drop(&mut self) {
        // Not finished: another part failed, or this sink did. What was
        // written whole is committed — a restart goes on after it —
        // unless a write failed half-way.
        if self.since > 0 && !self.finished && !self.given.poisoned {
            if let Err(e) = self.commit() {
                tracing::debug!(error = %e, "committing on drop failed");
            }
        }
    }
}

impl TargetSink for RotateSink {
    fn committed(&self) -> &Committed {
        &self.committed
    }

    fn encoder(&self) -> Option<Arc<dyn BlockEncoder>> {
        Some(self.encoder.clone())
    }
}
