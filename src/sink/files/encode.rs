//! Text encoders for the file targets: CSV, JSON Lines and SQL, appending
//! whole blocks of rows to a reused `String`.
//!
//! Every encoder writes the canonical text of [`crate::format::text`], so
//! the same seed gives the same values in every target. CSV is written by
//! hand rather than through a CSV library because it must tell NULL (an
//! empty unquoted field) from the empty string (`""`), which a field-level
//! writer cannot express.

use datagen_actors::BoxError;

use crate::format::{json, text};
use crate::schema::{Schema, Table};
use crate::sink::ddl::{quote, Dialect};
use crate::sink::BlockEncoder;
use crate::value::{Block, Encoded, SqlType, Value};

/// A text format of the file targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// RFC 4180 CSV with a header line.
    Csv,
    /// One JSON object per line.
    Jsonl,
    /// CREATE TABLE and multi-row INSERT statements.
    Sql(Dialect),
}

impl FileFormat {
    /// The file name extension.
    pub fn extension(self) -> &'static str {
        match self {
            FileFormat::Csv => "csv",
            FileFormat::Jsonl => "jsonl",
            FileFormat::Sql(_) => "sql",
        }
    }
}

/// Rows per INSERT statement in SQL output.
pub const SQL_ROWS_PER_INSERT: usize = 500;

/// The encoders of every table of a schema in one format.
#[derive(Debug, Clone)]
pub struct FileEncoder {
    /// One per table, in schema order.
    pub tables: Vec<TableEncoder>,
}

impl FileEncoder {
    /// Encoders for every table of `schema` in `format`.
    pub fn new(schema: &Schema, format: FileFormat) -> Self {
        FileEncoder {
            tables: schema
                .tables
                .iter()
                .map(|t| TableEncoder::new(t, format))
                .collect(),
        }
    }

    /// JSON Lines of several tables in one stream: each line says its
    /// table, `{"table":"NAME","row":{…}}`.
    pub fn enveloped(mut self, schema: &Schema) -> Self {
        for (encoder, table) in self.tables.iter_mut().zip(&schema.tables) {
            let mut open = String::from("{\"table\":");
            json::string(&mut open, &table.name);
            open.push_str(",\"row\":");
            encoder.envelope = Some(open);
        }
        self
    }
}

impl FileEncoder {
    /// JSON Lines whose changes tables are written as Debezium change
    /// events (`{"before":…,"after":{…},"op":"c","ts_ms":…,"source":{…}}`,
    /// the JSON a Debezium connector emits without schemas, with the
    /// default replica identity: `before` is NULL but for a delete, which
    /// names the key); other tables as plain rows.
    pub fn debezium(mut self, schema: &Schema) -> Self {
        for (t, encoder) in self.tables.iter_mut().enumerate() {
            let plain = std::mem::replace(
                encoder,
                TableEncoder::new(&schema.tables[t], FileFormat::Jsonl),
            );
            *encoder = plain.debezium(schema, t);
        }
        self
    }
}

impl BlockEncoder for FileEncoder {
    fn encode(&self, block: &Block, out: &mut Encoded) -> Result<(), BoxError> {
        self.tables[block.table].encode(block, out);
        Ok(())
    }
}

/// Encodes the rows of one table in one format.
#[derive(Debug, Clone)]
pub struct TableEncoder {
    format: FileFormat,
    /// Decimal scale per column.
    scales: Vec<u8>,
    /// Whether each column holds a JSON document.
    json: Vec<bool>,
    /// JSONL: `"name":` per column, escaped.
    keys: Vec<String>,
    /// SQL: `INSERT INTO "t" ("a", "b") VALUES`.
    insert: String,
    /// JSONL in a stream of several tables: what opens each line.
    envelope: Option<String>,
    /// JSONL of a changes table as Debezium change events.
    debezium: Option<Debezium>,
}

/// How a changes table's rows are written as Debezium change events: the
/// table the changes are of, and its key's column in the changes table.
#[derive(Debug, Clone)]
struct Debezium {
    /// `"source":{…}` up to the sequence number.
    source: String,
    /// `"before":{"KEY":` for a delete.
    before: String,
    /// The key's column.
    key: usize,
}

impl TableEncoder {
    /// An encoder for `table` in `format`.
    pub fn new(table: &Table, format: FileFormat) -> Self {
        let keys = table
            .columns
            .iter()
            .map(|c| {
                let mut k = String::new();
                json::string(&mut k, &c.name);
                k.push(':');
                k
            })
            .collect();
        let columns: Vec<String> = table.columns.iter().map(|c| quote(&c.name)).collect();
        TableEncoder {
            format,
            scales: table.columns.iter().map(|c| c.sql_type.scale()).collect(),
            json: table
                .columns
                .iter()
                .map(|c| c.sql_type == SqlType::Json)
                .collect(),
            keys,
            insert: format!(
                "INSERT INTO {} ({}) VALUES",
                quote(&table.name),
                columns.join(", ")
            ),
            envelope: None,
            debezium: None,
        }
    }

    /// JSON Lines: the rows of table `t` of `schema`, if it is a changes
    /// table, as Debezium change events (see [`FileEncoder::debezium`]).
    pub fn debezium(mut self, schema: &Schema, t: usize) -> Self {
        let Some(of) = schema.tables[t].changes.map(|o| &schema.tables[o]) else {
            return self;
        };
        let Some(key) = of.columns.iter().position(|c| c.primary_key) else {
            return self;
        };
        let mut source =
            String::from("\"source\":{\"connector\":\"datagen\",\"name\":\"datagen\",\"table\":");
        json::string(&mut source, &of.name);
        source.push_str(",\"seq\":");
        let mut before = String::from("\"before\":{");
        json::string(&mut before, &of.columns[key].name);
        before.push(':');
        self.debezium = Some(Debezium {
            source,
            before,
            key: crate::sink::apply::LEADING + key,
        });
        self
    }

    /// What starts the table's output: the CSV header line; nothing for
    /// the other formats.
    pub fn header(&self, out: &mut String, table: &Table) {
        if self.format == FileFormat::Csv {
            for (i, column) in table.columns.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                csv_field(out, &column.name);
            }
            out.push_str("\r\n");
        }
    }

    /// Encodes every row of `block` into `out`, which must be empty (its
    /// capacity is reused). SQL rows are the parenthesised tuples alone;
    /// [`TableEncoder::sql_frame`] puts the statements around them.
    pub fn encode(&self, block: &Block, out: &mut Encoded) {
        let mut bytes = std::mem::take(&mut out.bytes);
        bytes.clear();
        out.ends.clear();
        out.ends.reserve(block.len());
        // An empty vector is valid UTF-8: this keeps the capacity.
        let mut text = String::from_utf8(bytes).unwrap_or_default();
        for row in block.rows() {
            match self.format {
                FileFormat::Csv => self.csv(&mut text, row, block),
                FileFormat::Jsonl => self.jsonl(&mut text, row, block),
                FileFormat::Sql(dialect) => self.sql(&mut text, row, block, dialect),
            }
            out.ends.push(text.len() as u32);
        }
        out.bytes = text.into_bytes();
    }

    fn csv(&self, out: &mut String, row: &[Value], block: &Block) {
        for (i, &v) in row.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            match v {
                Value::Null => {}
                Value::Text(s, e) => csv_field(out, block.str(s, e)),
                // Numbers, booleans, UUIDs, dates and timestamps never
                // hold a comma, quote or line break.
                v => text::value(out, v, block, self.scales[i]),
            }
        }
        out.push_str("\r\n");
    }

    fn jsonl(&self, out: &mut String, row: &[Value], block: &Block) {
        if let Some(d) = &self.debezium {
            return self.debezium_event(d, out, row, block);
        }
        if let Some(open) = &self.envelope {
            out.push_str(open);
        }
        self.object(out, row, block, 0);
        out.push_str(if self.envelope.is_some() { "}\n" } else { "\n" });
    }

    /// The JSON object of `row`'s values from column `from` on.
    fn object(&self, out: &mut String, row: &[Value], block: &Block, from: usize) {
        out.push('{');
        for (i, &v) in row.iter().enumerate().skip(from) {
            if i > from {
                out.push(',');
            }
            out.push_str(&self.keys[i]);
            self.json_value(out, v, i, block);
        }
        out.push('}');
    }

    fn json_value(&self, out: &mut String, v: Value, i: usize, block: &Block) {
        match v {
            Value::Null => out.push_str("null"),
            Value::Float(x) => json::number(out, x),
            Value::Int(_) | Value::Decimal(_) | Value::Bool(_) => {
                text::value(out, v, block, self.scales[i])
            }
            Value::Text(s, e) if self.json[i] => out.push_str(block.str(s, e)),
            Value::Text(s, e) => json::string(out, block.str(s, e)),
            Value::Uuid(_) | Value::Date(_) | Value::Timestamp(_) => {
                out.push('"');
                text::value(out, v, block, self.scales[i]);
                out.push('"');
            }
        }
    }

    /// A change (`op`, `seq`, `changed_at`, the row) as a Debezium event.
    fn debezium_event(&self, d: &Debezium, out: &mut String, row: &[Value], block: &Block) {
        let op = match row[0] {
            Value::Text(s, e) => block.str(s, e),
            _ => "",
        };
        let (code, deleted) = match op {
            "insert" => ("c", false),
            "delete" => ("d", true),
            _ => ("u", false),
        };
        if deleted {
            out.push('{');
            out.push_str(&d.before);
            self.json_value(out, row[d.key], d.key, block);
            out.push_str("},\"after\":null");
        } else {
            out.push_str("{\"before\":null,\"after\":");
            self.object(out, row, block, crate::sink::apply::LEADING);
        }
        out.push_str(",\"op\":\"");
        out.push_str(code);
        out.push_str("\",\"ts_ms\":");
        let ms = match row[2] {
            Value::Timestamp(t) => t.div_euclid(1000),
            _ => 0,
        };
        out.push_str(itoa::Buffer::new().format(ms));
        out.push(',');
        out.push_str(&d.source);
        self.json_value(out, row[1], 1, block);
        out.push_str(",\"ts_ms\":");
        out.push_str(itoa::Buffer::new().format(ms));
        out.push_str("}}\n");
    }

    fn sql(&self, out: &mut String, row: &[Value], block: &Block, dialect: Dialect) {
        out.push('(');
        for (i, &v) in row.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            sql_literal(out, v, block, self.scales[i], dialect);
        }
        out.push(')');
    }

    /// What goes before row `row` (0-based in its table) of SQL output;
    /// `first` when the output holds no row of the table yet (a shard's
    /// first row need not be a group's). INSERT statements hold the rows of
    /// a table in groups of [`SQL_ROWS_PER_INSERT`] by row index, so the
    /// bytes do not depend on how rows arrive in blocks; a statement is
    /// closed when the next one starts or by [`TableEncoder::end`].
    pub fn sql_frame(&self, out: &mut String, row: u64, first: bool) {
        if first || row.is_multiple_of(SQL_ROWS_PER_INSERT as u64) {
            if !first {
                out.push_str(";\n");
            }
            out.push_str(&self.insert);
            out.push('\n');
        } else {
            out.push_str(",\n");
        }
    }

    /// What ends a table's output once it has rows: the last INSERT's `;`.
    pub fn end(&self, out: &mut String) {
        if matches!(self.format, FileFormat::Sql(_)) {
            out.push_str(";\n");
        }
    }
}

/// Appends `s` as a CSV field: quoted when empty (so that it differs from
/// NULL) or when it holds a comma, a quote or a line break.
pub fn csv_field(out: &mut String, s: &str) {
    let needs_quotes = s.is_empty() || s.bytes().any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'));
    if !needs_quotes {
        out.push_str(s);
        return;
    }
    quoted(out, s, '"');
}

/// Appends `s` as an SQL string literal.
pub fn sql_string(out: &mut String, s: &str) {
    quoted(out, s, '\'');
}

/// Appends `s` between `quote`s, each `quote` inside doubled: the quoting
/// of CSV fields and of SQL strings and identifiers.
fn quoted(out: &mut String, s: &str, quote: char) {
    out.push(quote);
    let mut last = 0;
    for (i, _) in s.match_indices(quote) {
        out.push_str(&s[last..=i]);
        out.push(quote);
        last = i + 1;
    }
    out.push_str(&s[last..]);
    out.push(quote);
}

/// Appends `v` as an SQL literal in `dialect`.
pub fn sql_literal(out: &mut String, v: Value, block: &Block, scale: u8, dialect: Dialect) {
    match v {
        Value::Null => out.push_str("NULL"),
        Value::Int(_) | Value::Decimal(_) => text::value(out, v, block, scale),
        Value::Float(x) if x.is_finite() => text::float(out, x),
        Value::Float(x) => match dialect {
            Dialect::Postgres => {
                out.push('\'');
                text::float(out, x);
                out.push_str("'::float8");
            }
            // SQLite has no literal for NaN; its infinities overflow a literal.
            Dialect::Sqlite if x.is_nan() => out.push_str("NULL"),
            Dialect::Sqlite => out.push_str(if x > 0.0 { "9e999" } else { "-9e999" }),
        },
        Value::Bool(b) => out.push_str(match (dialect, b) {
            (Dialect::Postgres, true) => "TRUE",
            (Dialect::Postgres, false) => "FALSE",
            (Dialect::Sqlite, true) => "1",
            (Dialect::Sqlite, false) => "0",
        }),
        Value::Text(s, e) => {
            let s = block.str(s, e);
            if s.contains('\0') && dialect == Dialect::Sqlite {
                // SQLite reads a script as C strings: a NUL inside a
                // literal would end the statement. It is spliced in.
                out.push('(');
                for (i, piece) in s.split('\0').enumerate() {
                    if i > 0 {
                        out.push_str(" || char(0) || ");
                    }
                    sql_string(out, piece);
                }
                out.push(')');
            } else {
                sql_string(out, s);
            }
        }
        Value::Uuid(_) | Value::Date(_) | Value::Timestamp(_) => {
            out.push('\'');
            text::value(out, v, block, scale);
            out.push('\'');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_tell_null_from_empty() {
        let mut out = String::new();
        for s in [
            "plain",
            "",
            "a,b",
            "say \"hi\"",
            "two\nlines",
            "tab\there",
            "é😀",
        ] {
            csv_field(&mut out, s);
            out.push('|');
        }
        assert_eq!(
            out,
            "plain|\"\"|\"a,b\"|\"say \"\"hi\"\"\"|\"two\nlines\"|tab\there|é😀|"
        );
    }

    #[test]
    fn sql_strings_double_quotes() {
        let mut out = String::new();
        sql_string(&mut out, "it's a \\ test");
        assert_eq!(out, "'it''s a \\ test'");
    }
}
