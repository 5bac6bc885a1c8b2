//! CREATE TABLE statements for each SQL dialect, from the schema.

use crate::genfile::schema::{Column, Gen, Schema, SqlType, Table, TableSize};

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
    match (dialect, column.sql_type) {
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

/// `CREATE TABLE` for `table`, with keys and foreign keys declared inline.
/// SQLite keeps `doc` as a comment inside the statement (it stores the
/// text); PostgreSQL gets `COMMENT ON COLUMN` statements after it.
pub fn create_table(schema: &Schema, table: &Table, dialect: Dialect) -> String {
    let mut lines = Vec::new();
    for column in &table.columns {
        let mut line = format!("  {} {}", quote(&column.name), column_type(column, dialect));
        if !column.nullable {
            line.push_str(" NOT NULL");
        }
        if column.primary_key {
            line.push_str(" PRIMARY KEY");
        } else if column.unique {
            line.push_str(" UNIQUE");
        }
        lines.push((
            line,
            column.doc.clone().filter(|_| dialect == Dialect::Sqlite),
        ));
    }
    for column in &table.columns {
        if let Some((t, c)) = foreign_key(schema, table, column) {
            let target = &schema.tables[t];
            let line = format!(
                "  FOREIGN KEY ({}) REFERENCES {} ({})",
                quote(&column.name),
                quote(&target.name),
                quote(&target.columns[c].name)
            );
            lines.push((line, None));
        }
    }
    let last = lines.len().saturating_sub(1);
    let mut sql = format!("CREATE TABLE {} (\n", quote(&table.name));
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
                    quote(&table.name),
                    quote(&column.name),
                    doc.replace('\'', "''")
                ));
            }
        }
    }
    sql
}

/// Every table's statement, in dependency order, as one script.
pub fn script(schema: &Schema, dialect: Dialect) -> String {
    let mut out = String::new();
    for table in &schema.tables {
        out.push_str(&create_table(schema, table, dialect));
        if dialect == Dialect::Sqlite {
            out.push(';');
        }
        out.push_str("\n\n");
    }
    out
}
