//! One output stream of a file target: a file under its temporary name, a
//! spool, or a stream the run does not own (standard output; any writer,
//! such as a response body).

use std::fs::File;
use std::io::{self, BufWriter, Seek, Write};
use std::path::{Path, PathBuf};

use super::error::{io_err, FileError};
use crate::sink::place;

/// Where one output's bytes go.
pub(super) enum Dest {
    /// A file: flushed to disk at checkpoints, renamed when published.
    File(File),
    /// A stream: written through, never taken back.
    Stream(Box<dyn Write + Send>),
}

impl Write for Dest {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Dest::File(f) => f.write(buf),
            Dest::Stream(s) => s.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Dest::File(f) => f.write_all(buf),
            Dest::Stream(s) => s.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Dest::File(f) => f.flush(),
            Dest::Stream(s) => s.flush(),
        }
    }
}

/// One output stream and, for a file, where it is published.
pub(super) struct Output {
    pub(super) writer: BufWriter<Dest>,
    /// `(temporary, final)` names of a published file.
    pub(super) publish: Option<(PathBuf, PathBuf)>,
    /// An anonymous spool appended to the first output at the end.
    pub(super) spool: bool,
}

impl Output {
    pub(super) fn temp_file(dest: &Path, keep: bool) -> Result<Output, FileError> {
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp = dest.with_file_name(format!(".{name}.datagen-tmp"));
        let mut file = place::fresh(&temp).map_err(io_err("create", &temp))?;
        if keep {
            let mut old = File::open(dest).map_err(io_err("read", dest))?;
            io::copy(&mut old, &mut file).map_err(io_err("copy", dest))?;
        }
        Ok(Output {
            writer: BufWriter::with_capacity(1 << 20, Dest::File(file)),
            publish: Some((temp, dest.to_path_buf())),
            spool: false,
        })
    }

    /// A spool with a name, so that an interrupted run can be resumed.
    pub(super) fn named_spool(path: &Path) -> Result<Output, FileError> {
        let file = place::fresh(path).map_err(io_err("create", path))?;
        Ok(Output {
            writer: BufWriter::with_capacity(1 << 20, Dest::File(file)),
            publish: None,
            spool: true,
        })
    }

    /// An output of an interrupted run, cut back to its committed length.
    pub(super) fn reopen(
        path: &Path,
        len: u64,
        publish: Option<PathBuf>,
    ) -> Result<Output, FileError> {
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(io_err("reopen", path))?;
        file.set_len(len).map_err(io_err("truncate", path))?;
        file.seek(io::SeekFrom::End(0))
            .map_err(io_err("reopen", path))?;
        Ok(Output {
            writer: BufWriter::with_capacity(1 << 20, Dest::File(file)),
            spool: publish.is_none(),
            publish: publish.map(|dest| (path.to_path_buf(), dest)),
        })
    }

    pub(super) fn spool(near: &Path) -> Result<Output, FileError> {
        let file = tempfile::tempfile_in(near).map_err(io_err("create a spool file in", near))?;
        Ok(Output {
            writer: BufWriter::with_capacity(1 << 20, Dest::File(file)),
            publish: None,
            spool: true,
        })
    }

    pub(super) fn path(&self) -> String {
        match &self.publish {
            Some((_, dest)) => dest.display().to_string(),
            None if self.spool => "a spool file".into(),
            None => "standard output".into(),
        }
    }
}

/// Writes and clears `text`.
pub(super) fn write(output: &mut Output, text: &mut String) -> Result<(), FileError> {
    let result = write_bytes(output, text.as_bytes());
    text.clear();
    result
}

pub(super) fn write_bytes(output: &mut Output, bytes: &[u8]) -> Result<(), FileError> {
    output
        .writer
        .write_all(bytes)
        .map_err(|source| FileError::Io {
            action: "write",
            path: output.path(),
            source,
        })
}
