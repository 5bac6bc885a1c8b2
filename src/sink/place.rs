//! Where file-based targets write: only regular files are replaced or
//! written in place, and temporary files are made afresh.
//!
//! A target publishes a file by renaming a finished temporary file over
//! its destination. Renamed over a device node, a FIFO or a symbolic link,
//! that would replace the node or the link itself, so such destinations
//! are refused — with exit 2, before anything is generated — and so is a
//! directory where a file belongs.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::limits::file_kind;

const FILE: &str = "a regular file";

/// A destination that is not what the target writes there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path} is {kind}, not {wanted}; datagen writes only into regular files and directories it can replace safely\n  help: remove it, or give another path")]
pub struct NotAFile {
    /// The path as given.
    pub path: String,
    /// What it is ("a FIFO", "a symbolic link", …).
    pub kind: &'static str,
    /// What it should be: "a regular file" or "a directory".
    pub wanted: &'static str,
}

fn not(path: &Path, meta: &std::fs::Metadata, wanted: &'static str) -> NotAFile {
    NotAFile {
        path: path.display().to_string(),
        kind: file_kind(meta),
        wanted,
    }
}

/// Whether `path`, where a finished file will be renamed to, holds a file
/// already; an error when it holds anything but a regular file (a symbolic
/// link is not followed: renaming over it would replace the link).
pub fn publishable(path: &Path) -> Result<bool, NotAFile> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() => Ok(true),
        Ok(meta) => Err(not(path, &meta, FILE)),
        Err(_) => Ok(false),
    }
}

/// Whether `path`, a file written in place (a database), exists; an error
/// when it, or what a symbolic link there points to, is not a regular file.
pub fn writable_in_place(path: &Path) -> Result<bool, NotAFile> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => Ok(true),
        Ok(meta) => Err(not(path, &meta, FILE)),
        // A link to nothing would be replaced when the file is published.
        Err(_) => publishable(path),
    }
}

/// Whether `dir`, where a target writes its files, is usable: nothing yet,
/// or a directory (through a symbolic link too).
pub fn directory(dir: &Path) -> Result<(), NotAFile> {
    match std::fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => Err(not(dir, &meta, "a directory")),
        _ => Ok(()),
    }
}

/// A new, empty file at `path` (a temporary file of the run): whatever was
/// left there is removed first, and the file is created anew, so writing
/// never goes through a link or into a file someone else holds open.
pub fn fresh(path: &Path) -> io::Result<File> {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(path)
}

/// Directories a target made for a run, so that a run that fails for good
/// removes them again (when they are empty).
#[derive(Debug, Default)]
pub struct MadeDirs(Mutex<Vec<PathBuf>>);

impl MadeDirs {
    /// Makes `dir` and whatever of its parents is missing, after checking
    /// that it is not something else ([`directory`]); records what it made.
    pub fn make(&self, dir: &Path) -> Result<(), MakeError> {
        if dir.as_os_str().is_empty() {
            return Ok(());
        }
        directory(dir)?;
        let mut missing: Vec<PathBuf> = dir
            .ancestors()
            .take_while(|d| !d.as_os_str().is_empty() && std::fs::symlink_metadata(d).is_err())
            .map(Path::to_path_buf)
            .collect();
        std::fs::create_dir_all(dir).map_err(|source| MakeError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        missing.reverse();
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(missing);
        Ok(())
    }

    /// Removes the directories made, deepest first, where they are empty.
    pub fn remove(&self) {
        let made = std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()));
        for dir in made.iter().rev() {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// Why a target's directory could not be made.
#[derive(Debug, thiserror::Error)]
pub enum MakeError {
    /// Something else has its name.
    #[error(transparent)]
    NotAFile(#[from] NotAFile),
    /// Making it failed.
    #[error("cannot create directory {path}")]
    Io {
        /// The directory.
        path: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
}
