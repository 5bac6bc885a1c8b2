//! CREATE TABLE statements for each SQL dialect, from the schema.

use std::ops::Range;

use crate::diag::Diagnostic;
use crate::schema::{Column, Gen, Schema, Table, TableSize, UniqueGroup};
use crate::value::SqlType;

/// An SQL dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Dialect {
    /// Parses `sqlite` / `postgres`.
    pub fn parse(s: &str) -> Option<Dialect> {
        match s {
            "sqlite" => Some(Dialect::Sqlite),
            "postgres" | "postgresql" => Some(Dialect::Postgres),
            _ => None,
        }
    }

    /// The name [`Dialect::parse`] reads.
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
    }
}

/// Quotes an SQL identifier (both dialects use double quotes).
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The column's type in `dialect`.
pub fn column_type(column: &Column, dialect: Dialect) -> String {
    if let Some(t) = &column.type_override {
        return t.clone();
    }
    type_name(column.sql_type, dialect)
}

/// The name of `ty` in `dialect`.
pub fn type_name(ty: SqlType, dialect: Dialect) -> String {
    match (dialect, ty) {
        (Dialect::Sqlite, SqlType::Integer | SqlType::BigInt) => "INTEGER".into(),
        (Dialect::Sqlite, SqlType::Double) => "REAL".into(),
        (Dialect::Sqlite, SqlType::Decimal { precision, scale }) => {
            format!("DECIMAL({precision},{scale})")
        }
        (Dialect::Sqlite, SqlType::Boolean) => "BOOLEAN".into(),
        (Dialect::Sqlite, SqlType::Text | SqlType::Uuid) => "TEXT".into(),
        (Dialect::Sqlite, SqlType::Json) => "JSON".into(),
        (Dialect::Sqlite, SqlType::Date) => "DATE".into(),
        (Dialect::Sqlite, SqlType::Timestamp) => "TIMESTAMP".into(),
        (Dialect::Postgres, SqlType::Integer) => "integer".into(),
        (Dialect::Postgres, SqlType::BigInt) => "bigint".into(),
        (Dialect::Postgres, SqlType::Double) => "double precision".into(),
        (Dialect::Postgres, SqlType::Decimal { precision, scale }) => {
            format!("numeric({precision},{scale})")
        }
        (Dialect::Postgres, SqlType::Boolean) => "boolean".into(),
        (Dialect::Postgres, SqlType::Text) => "text".into(),
        (Dialect::Postgres, SqlType::Uuid) => "uuid".into(),
        (Dialect::Postgres, SqlType::Json) => "jsonb".into(),
        (Dialect::Postgres, SqlType::Date) => "date".into(),
        (Dialect::Postgres, SqlType::Timestamp) => "timestamptz".into(),
    }
}

/// The column a column points at with a foreign key, if any: the target of
/// a `ref`, or a key column of the parent copied with `parent`.
pub fn foreign_key(schema: &Schema, table: &Table, column: &Column) -> Option<(usize, usize)> {
    match column.gen {
        Gen::Ref { table, column, .. } => Some((table, column)),
        Gen::Parent { column: pc } => match table.size {
            TableSize::Per { parent, .. } if schema.tables[parent].columns[pc].unique => {
                Some((parent, pc))
            }
            _ => None,
        },
        _ => None,
    }
}

/// How CREATE TABLE statements are written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DdlOptions {
    /// A schema (namespace) to qualify every table name with.
    pub namespace: Option<String>,
    /// Leave primary keys, unique constraints and foreign keys out, to be
    /// added after the load by [`constraints`].
    pub keys_after: bool,
    /// Declare foreign keys `DEFERRABLE INITIALLY DEFERRED` (PostgreSQL),
    /// so rows may reference rows later in the same transaction. A table
    /// that references itself has its own foreign keys declared so in
    /// either case and dialect.
    pub deferred_foreign_keys: bool,
}

impl DdlOptions {
    /// `name` quoted, and qualified with the namespace if there is one.
    pub fn qualified(&self, name: &str) -> String {
        match &self.namespace {
            Some(ns) => format!("{}.{}", quote(ns), quote(name)),
            None => quote(name),
        }
    }
}

/// `CREATE TABLE` for `table`, with keys and foreign keys declared inline.
/// SQLite keeps `doc` as a comment inside the statement (it stores the
/// text); PostgreSQL gets `COMMENT ON COLUMN` statements after it.
pub fn create_table(schema: &Schema, table: &Table, dialect: Dialect) -> String {
    create_table_with(schema, table, dialect, &DdlOptions::default())
}

/// `CREATE TABLE` for `table` as `options` say.
pub fn create_table_with(
    schema: &Schema,
    table: &Table,
    dialect: Dialect,
    options: &DdlOptions,
) -> String {
    let mut lines = Vec::new();
    for column in &table.columns {
        let mut line = format!("  {} {}", quote(&column.name), column_type(column, dialect));
        if !column.nullable {
            line.push_str(" NOT NULL");
        }
        if !options.keys_after {
            if column.primary_key {
                line.push_str(" PRIMARY KEY");
            } else if column.unique {
                line.push_str(" UNIQUE");
            }
        }
        lines.push((
            line,
            column.doc.clone().filter(|_| dialect == Dialect::Sqlite),
        ));
    }
    if !options.keys_after {
        for group in &table.unique {
            lines.push((format!("  UNIQUE ({})", group_columns(table, group)), None));
        }
        for column in &table.columns {
            if let Some((t, c)) = foreign_key(schema, table, column) {
                let target = &schema.tables[t];
                let mut line = format!(
                    "  FOREIGN KEY ({}) REFERENCES {} ({})",
                    quote(&column.name),
                    options.qualified(&target.name),
                    quote(&target.columns[c].name)
                );
                // A table's rows may reference rows of the same table that
                // a later statement inserts: checked at commit, in both
                // dialects, not per statement.
                let own_table = target.name == table.name;
                if own_table || (options.deferred_foreign_keys && dialect == Dialect::Postgres) {
                    line.push_str(" DEFERRABLE INITIALLY DEFERRED");
                }
                lines.push((line, None));
            }
        }
    }
    let last = lines.len().saturating_sub(1);
    let mut sql = format!("CREATE TABLE {} (\n", options.qualified(&table.name));
    for (i, (line, doc)) in lines.into_iter().enumerate() {
        sql.push_str(&line);
        if i != last {
            sql.push(',');
        }
        if let Some(doc) = doc {
            sql.push_str(" -- ");
            sql.push_str(&doc.replace(['\n', '\r'], " "));
        }
        sql.push('\n');
    }
    sql.push(')');
    if dialect == Dialect::Postgres {
        sql.push(';');
        for column in &table.columns {
            if let Some(doc) = &column.doc {
                sql.push_str(&format!(
                    "\nCOMMENT ON COLUMN {}.{} IS '{}';",
                    options.qualified(&table.name),
                    quote(&column.name),
                    doc.replace('\'', "''")
                ));
            }
        }
    }
    sql
}

/// The quoted columns of a `unique` group, comma separated.
fn group_columns(table: &Table, group: &UniqueGroup) -> String {
    group
        .columns
        .iter()
        .map(|&c| quote(&table.columns[c].name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A constraint added after the load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    /// The table it belongs to.
    pub table: usize,
    /// For a foreign key, the referenced table (whose keys come first).
    pub references: Option<usize>,
    /// The constrained columns, in order.
    pub columns: Vec<usize>,
    /// `p` (primary key), `u` (unique) or `f` (foreign key), as PostgreSQL's
    /// `pg_constraint.contype` spells them.
    pub kind: char,
    /// The `ALTER TABLE` statement (PostgreSQL).
    pub sql: String,
}

/// The `ALTER TABLE … ADD` statements that declare `table`'s primary key,
/// unique constraints and foreign keys, keys first.
pub fn constraints(schema: &Schema, table_index: usize, options: &DdlOptions) -> Vec<Constraint> {
    let table = &schema.tables[table_index];
    let name = options.qualified(&table.name);
    let mut out = Vec::new();
    for (i, column) in table.columns.iter().enumerate() {
        let (kind, code) = if column.primary_key {
            ("PRIMARY KEY", 'p')
        } else if column.unique {
            ("UNIQUE", 'u')
        } else {
            continue;
        };
        out.push(Constraint {
            table: table_index,
            references: None,
            columns: vec![i],
            kind: code,
            sql: format!("ALTER TABLE {name} ADD {kind} ({})", quote(&column.name)),
        });
    }
    for group in &table.unique {
        out.push(Constraint {
            table: table_index,
            references: None,
            columns: group.columns.clone(),
            kind: 'u',
            sql: format!(
                "ALTER TABLE {name} ADD UNIQUE ({})",
                group_columns(table, group)
            ),
        });
    }
    for (i, column) in table.columns.iter().enumerate() {
        if let Some((t, c)) = foreign_key(schema, table, column) {
            let target = &schema.tables[t];
            out.push(Constraint {
                table: table_index,
                references: Some(t),
                columns: vec![i],
                kind: 'f',
                sql: format!(
                    "ALTER TABLE {name} ADD FOREIGN KEY ({}) REFERENCES {} ({})",
                    quote(&column.name),
                    options.qualified(&target.name),
                    quote(&target.columns[c].name)
                ),
            });
        }
    }
    out
}

/// Every table's statement, in dependency order, as one script.
pub fn script(schema: &Schema, dialect: Dialect) -> String {
    script_with(schema, dialect, &DdlOptions::default())
}

/// Every table's statement as `options` say; with `keys_after`, the
/// `ALTER TABLE` statements that add the keys follow, after a
/// `-- constraints` line (PostgreSQL only: SQLite cannot add them later).
pub fn script_with(schema: &Schema, dialect: Dialect, options: &DdlOptions) -> String {
    script_replacing(schema, dialect, options, &|_| None)
}

/// [`script_with`], table `t` created by `replace(t)` where it gives a
/// statement (a table of sums), without keys of its own added after.
pub fn script_replacing(
    schema: &Schema,
    dialect: Dialect,
    options: &DdlOptions,
    replace: &dyn Fn(usize) -> Option<String>,
) -> String {
    let mut out = String::new();
    for (t, table) in schema.tables.iter().enumerate() {
        match replace(t) {
            Some(sql) => out.push_str(&sql),
            None => out.push_str(&create_table_with(schema, table, dialect, options)),
        }
        if dialect == Dialect::Sqlite {
            out.push(';');
        }
        out.push_str("\n\n");
    }
    if options.keys_after && dialect == Dialect::Postgres {
        out.push_str("-- constraints\n");
        let all: Vec<Constraint> = (0..schema.tables.len())
            .filter(|&t| replace(t).is_none())
            .flat_map(|t| constraints(schema, t, options))
            .collect();
        for foreign in [false, true] {
            for c in all.iter().filter(|c| c.references.is_some() == foreign) {
                out.push_str(&c.sql);
                out.push_str(";\n");
            }
        }
    }
    out
}

/// The longest identifier PostgreSQL keeps whole, in bytes; it cuts longer
/// ones silently, so two long names can become one.
pub const POSTGRES_MAX_IDENTIFIER: usize = 63;

/// What `schema` asks that a database of `dialect` cannot keep: for
/// SQLite, table or column names that differ only in ASCII case (SQLite
/// does not tell them apart); for PostgreSQL, names longer than 63 bytes
/// and the NUL character in names or text. Each problem is located.
pub fn problems(schema: &Schema, dialect: Dialect) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    match dialect {
        Dialect::Sqlite => {
            let clash =
                |d: &mut Vec<Diagnostic>,
                 what: &str,
                 names: &mut dyn Iterator<Item = (&str, Range<usize>)>| {
                    let mut seen: Vec<(String, &str)> = Vec::new();
                    for (name, span) in names {
                        let folded = name.to_ascii_lowercase();
                        if let Some((_, first)) = seen.iter().find(|(f, _)| *f == folded) {
                            d.push(
                            Diagnostic::new(
                                span,
                                format!("{what} `{name}` and `{first}` are one name to SQLite"),
                            )
                            .help("SQLite compares names without regard to case: rename one of them"),
                        );
                        } else {
                            seen.push((folded, name));
                        }
                    }
                };
            clash(
                &mut d,
                "tables",
                &mut schema
                    .tables
                    .iter()
                    .map(|t| (t.name.as_str(), t.span.clone())),
            );
            for table in &schema.tables {
                clash(
                    &mut d,
                    &format!("table `{}`: columns", table.name),
                    &mut table
                        .columns
                        .iter()
                        .map(|c| (c.name.as_str(), c.span.clone())),
                );
            }
        }
        Dialect::Postgres => {
            let mut name = |what: String, name: &str, span: Range<usize>| {
                if name.len() > POSTGRES_MAX_IDENTIFIER {
                    d.push(
                        Diagnostic::new(
                            span,
                            format!(
                                "{what}: the name is {} bytes; PostgreSQL keeps {POSTGRES_MAX_IDENTIFIER}",
                                name.len()
                            ),
                        )
                        .help("shorten it: PostgreSQL would cut it, and two long names could become one"),
                    );
                } else if name.contains('\0') {
                    d.push(
                        Diagnostic::new(
                            span,
                            format!("{what}: PostgreSQL names cannot hold the NUL character"),
                        )
                        .help("remove the \\u0000 from the name"),
                    );
                }
            };
            for table in &schema.tables {
                name(
                    format!("table `{}`", table.name),
                    &table.name,
                    table.span.clone(),
                );
                for c in &table.columns {
                    name(
                        format!("column `{}.{}`", table.name, c.name),
                        &c.name,
                        c.span.clone(),
                    );
                }
            }
            for span in &schema.nul {
                d.push(
                    Diagnostic::new(span.clone(), "PostgreSQL text cannot hold the NUL character")
                        .help("remove the \\u0000, or write to a target that keeps it (SQLite, CSV, JSON Lines)"),
                );
            }
        }
    }
    d.sort_by_key(|diag| diag.span.as_ref().map_or(0, |s| s.start));
    d
}
