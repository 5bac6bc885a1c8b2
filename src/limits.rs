//! The bounds datagen holds to whatever it is given, in one place (the
//! README's "Limits" lists them), and reading an input file within them.
//!
//! Input files — the Genfile, dictionary files — must be regular files: a
//! FIFO would block for ever and a device such as `/dev/zero` never ends.

use std::io::Read;
use std::path::Path;

/// The largest Genfile read, in bytes.
pub const MAX_GENFILE_BYTES: u64 = 8 << 20;
/// The largest dictionary file read, in bytes.
pub const MAX_DICTIONARY_BYTES: u64 = 256 << 20;
/// How deep an expression may nest: parentheses, calls, `not`, `-`.
pub const MAX_EXPR_DEPTH: usize = 64;
/// How many operations an expression may apply one on another
/// (`a + b + c` applies two).
pub const MAX_EXPR_HEIGHT: usize = 256;
/// How many names, values and operators one expression may hold.
pub const MAX_EXPR_NODES: usize = 4_096;
/// The longest `len` a generator makes: characters, words or items.
pub const MAX_LEN: i64 = 1_000_000;
/// The most rows under one row of a table with `rows`: a row and all its
/// descendants are generated together, in memory.
pub const MAX_ROWS_UNDER_A_ROW: u64 = 10_000_000;
/// The row total a run refuses beyond unless `--max-rows` allows it.
pub const DEFAULT_MAX_ROWS: u64 = 10_000_000_000;

/// Why an input file was not read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Opening or reading failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// Not a regular file.
    #[error("it is {0}, not a regular file")]
    NotRegular(&'static str),
    /// Larger than allowed.
    #[error("it is larger than {max} bytes")]
    TooLarge {
        /// The bound.
        max: u64,
    },
}

/// What a file that is not a regular file is, in words.
pub fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a directory"
    } else if t.is_symlink() {
        "a symbolic link"
    } else if t.is_file() {
        "a regular file"
    } else {
        "a special file"
    }
}

/// The bytes of the regular file at `path`, at most `max` of them, with a
/// UTF-8 byte order mark removed. A FIFO is opened without waiting for a
/// writer and refused, like a device or a directory.
pub fn read_file(path: &Path, max: u64) -> Result<Vec<u8>, ReadError> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular(file_kind(&meta)));
    }
    if meta.len() > max {
        return Err(ReadError::TooLarge { max });
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // The file may grow while it is read: read one byte past the bound.
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(ReadError::TooLarge { max });
    }
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    Ok(bytes)
}
