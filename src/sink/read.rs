//! Reading a store back, for `datagen verify`: the [`Reader`] trait and
//! SQLite's reader (PostgreSQL's is `postgres::read`).

use rusqlite::types::ValueRef;
use rusqlite::Connection;

use super::ddl::quote;
use super::{ErrorKind, Failure};
use crate::format::text;

/// What a store holds, read back row by row.
pub trait Reader {
    /// Calls `row` with each row of the table `name`: the values of
    /// `columns`, in that order, each the store's text for it (`None` for
    /// NULL); returns the rows read, or `None` when the store has no such
    /// table.
    fn scan(
        &mut self,
        name: &str,
        columns: &[&str],
        row: &mut dyn FnMut(&[Option<&str>]),
    ) -> Result<Option<u64>, Failure>;

    /// The columns of the table `name`, or `None` when there is no such
    /// table.
    fn columns(&mut self, name: &str) -> Result<Option<Vec<String>>, Failure>;
}

/// A row of values as text in one reused arena: each value written into
/// it, or NULL, then read back as `&str`s.
#[derive(Debug, Default)]
pub struct Fields {
    text: String,
    /// Each value's range in `text`; `None` for NULL.
    ranges: Vec<Option<(usize, usize)>>,
}

impl Fields {
    /// Empties it for the next row.
    pub fn clear(&mut self) {
        self.text.clear();
        self.ranges.clear();
    }

    /// Adds a NULL.
    pub fn push_null(&mut self) {
        self.ranges.push(None);
    }

    /// Adds the value `write` appends to the arena.
    pub fn push_with(&mut self, write: impl FnOnce(&mut String)) {
        let start = self.text.len();
        write(&mut self.text);
        self.ranges.push(Some((start, self.text.len())));
    }

    /// The row's values, in the order added.
    pub fn values(&self) -> Vec<Option<&str>> {
        self.ranges
            .iter()
            .map(|r| r.map(|(a, b)| &self.text[a..b]))
            .collect()
    }
}

/// Reads an SQLite database's tables: integers and reals as their
/// shortest text, text as it is, a blob marked unreadable.
pub struct SqliteReader {
    conn: Connection,
}

impl SqliteReader {
    /// Opens the database at `path` to read.
    pub fn open(path: &std::path::Path) -> Result<SqliteReader, Failure> {
        if !path.is_file() {
            return Err(Failure::new(
                ErrorKind::Input,
                format!(
                    "{} {}",
                    path.display(),
                    if path.exists() {
                        "is not a database file"
                    } else {
                        "does not exist"
                    }
                ),
            ));
        }
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| {
            Failure::new(
                ErrorKind::Input,
                format!("cannot open {}: {e}", path.display()),
            )
        })?;
        Ok(SqliteReader { conn })
    }
}

impl Reader for SqliteReader {
    fn columns(&mut self, name: &str) -> Result<Option<Vec<String>>, Failure> {
        let failed = |e: rusqlite::Error| {
            Failure::new(
                ErrorKind::Permanent,
                format!("cannot read the columns of {}: {e}", quote(name)),
            )
        };
        let mut stmt = self
            .conn
            .prepare("SELECT name FROM pragma_table_info(?1)")
            .map_err(failed)?;
        let names: Vec<String> = stmt
            .query_map([name], |r| r.get(0))
            .map_err(failed)?
            .collect::<Result<_, _>>()
            .map_err(failed)?;
        Ok((!names.is_empty()).then_some(names))
    }

    fn scan(
        &mut self,
        name: &str,
        columns: &[&str],
        row: &mut dyn FnMut(&[Option<&str>]),
    ) -> Result<Option<u64>, Failure> {
        let failed = |e: rusqlite::Error| {
            Failure::new(
                ErrorKind::Permanent,
                format!("cannot read table {}: {e}", quote(name)),
            )
        };
        let exists: bool = self
            .conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
                [name],
                |r| r.get(0),
            )
            .map_err(failed)?;
        if !exists {
            return Ok(None);
        }
        let columns: Vec<String> = columns.iter().map(|c| quote(c)).collect();
        let sql = format!("SELECT {} FROM {}", columns.join(", "), quote(name));
        let mut stmt = self.conn.prepare(&sql).map_err(failed)?;
        let mut rows = stmt.query([]).map_err(failed)?;
        let mut fields = Fields::default();
        let mut n = 0u64;
        while let Some(r) = rows.next().map_err(failed)? {
            fields.clear();
            for i in 0..columns.len() {
                match r.get_ref(i).map_err(failed)? {
                    ValueRef::Null => fields.push_null(),
                    ValueRef::Integer(v) => {
                        fields.push_with(|out| out.push_str(itoa::Buffer::new().format(v)))
                    }
                    ValueRef::Real(x) => fields.push_with(|out| text::float(out, x)),
                    ValueRef::Text(t) => {
                        fields.push_with(|out| out.push_str(&String::from_utf8_lossy(t)))
                    }
                    ValueRef::Blob(b) => fields.push_with(|out| {
                        out.push(crate::format::canon::UNREADABLE);
                        text::hex(out, b);
                    }),
                }
            }
            let values = fields.values();
            row(&values);
            n += 1;
        }
        Ok(Some(n))
    }
}
