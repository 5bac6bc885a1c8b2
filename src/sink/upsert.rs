//! Upsert-add: `[target.on_conflict.TABLE] key = [...], add = [...]`
//! loads a table as a central store fed by a stream would keep it — one
//! row per key, each added column the sum of every row loaded with that
//! key (NULL counting as 0), and optionally how many rows were merged.
//! The store's table holds only those columns: its content is a function
//! of the rows, whatever their order, so `datagen verify` can recompute
//! it.

use std::ops::Range;

use toml::Value as TomlValue;

use super::ddl::{quote, Dialect};
use super::options::{Key, Problem};
use crate::diag::Diagnostic;
use crate::schema::{Gen, Schema, Table};
use crate::value::SqlType;

/// The `[target]` key.
pub const ON_CONFLICT: Key<Vec<Upsert>> = Key {
    name: "on_conflict",
    read,
};

/// `on_conflict` for one table, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upsert {
    /// The Genfile's table.
    pub table: String,
    /// The columns rows are merged on.
    pub key: Vec<String>,
    /// The columns added up.
    pub add: Vec<String>,
    /// A column of the store's table counting the rows merged into each.
    pub count: Option<String>,
}

const EXAMPLE: &str = "e.g. `on_conflict = { readings = { key = [\"consumer_id\"], add = [\"kwh\"], count = \"readings\" } }`";

fn names(v: Option<&TomlValue>, what: &str) -> Result<Vec<String>, Problem> {
    let list = match v {
        Some(TomlValue::String(s)) => vec![s.clone()],
        Some(TomlValue::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    if list.is_empty() {
        return Err(Problem::new(format!(
            "`on_conflict`: `{what}` must name at least one column"
        ))
        .help(EXAMPLE));
    }
    Ok(list)
}

fn read(v: &TomlValue) -> Result<Vec<Upsert>, Problem> {
    let bad = || {
        Problem::new("`on_conflict` is a table of the Genfile's tables, each with `key` and `add`")
            .help(EXAMPLE)
    };
    let tables = v.as_table().ok_or_else(bad)?;
    let mut out = Vec::new();
    for (table, spec) in tables {
        let spec = spec.as_table().ok_or_else(bad)?;
        if let Some(k) = spec
            .keys()
            .find(|k| !["key", "add", "count"].contains(&k.as_str()))
        {
            return Err(
                Problem::new(format!("`on_conflict.{table}`: unknown key `{k}`"))
                    .help("the keys are `key`, `add` and `count`"),
            );
        }
        let count = match spec.get("count") {
            None => None,
            Some(TomlValue::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(_) => {
                return Err(Problem::new(format!(
                    "`on_conflict.{table}`: `count` is the name of a column"
                ))
                .help(EXAMPLE))
            }
        };
        out.push(Upsert {
            table: table.clone(),
            key: names(spec.get("key"), "key")?,
            add: names(spec.get("add"), "add")?,
            count,
        });
    }
    Ok(out)
}

/// Where `on_conflict` is written in the Genfile's `[target]`.
pub fn upsert_span(schema: &Schema) -> Option<Range<usize>> {
    schema
        .target
        .entries
        .iter()
        .find(|(k, _)| k.get_ref() == ON_CONFLICT.name)
        .map(|(_, v)| v.span())
}

/// An [`Upsert`] resolved against the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merge {
    /// The table.
    pub table: usize,
    /// Its key columns.
    pub key: Vec<usize>,
    /// Its added columns.
    pub add: Vec<usize>,
    /// The count column's name.
    pub count: Option<String>,
}

impl Merge {
    /// Resolves `upserts` against `schema`; problems are located at
    /// `span` (the `on_conflict` key) when it is known. `loaded`: the
    /// table is loaded so (`on_conflict`), not only summed by a store
    /// (`[verify.NAME]`), so no other table may refer to its rows.
    pub fn resolve(
        schema: &Schema,
        upserts: &[Upsert],
        span: Option<Range<usize>>,
        loaded: bool,
    ) -> Result<Vec<Merge>, Vec<Diagnostic>> {
        let mut d = Vec::new();
        let mut problem = |message: String, help: &str| {
            d.push(Diagnostic {
                span: span.clone(),
                message: if loaded {
                    format!("[target] on_conflict: {message}")
                } else {
                    message
                },
                help: Some(help.to_owned()),
            });
        };
        let mut out = Vec::new();
        for u in upserts {
            let Some(t) = schema.table_index(&u.table) else {
                problem(
                    format!("no table `{}`", u.table),
                    "name a table of the Genfile",
                );
                continue;
            };
            let table = &schema.tables[t];
            let referenced = loaded
                && (!table.children.is_empty()
                    || schema.tables.iter().any(|other| {
                        other
                            .columns
                            .iter()
                            .any(|c| matches!(c.gen, Gen::Ref { table: r, .. } if r == t))
                    }));
            if referenced {
                problem(
                    format!("`{}` has rows other tables refer to (by `ref` or `per`), but upserted it keeps one row per key", u.table),
                    "upsert a table nothing refers to, e.g. the readings of a metering feed",
                );
                continue;
            }
            let column = |name: &str| table.column_index(name);
            let mut key = Vec::new();
            for name in &u.key {
                match column(name) {
                    Some(c) if table.columns[c].nullable => problem(
                        format!("key column `{}.{name}` can be NULL", u.table),
                        "merge on columns that always hold a value",
                    ),
                    Some(c) => key.push(c),
                    None => problem(
                        format!("no column `{}.{name}`", u.table),
                        "name a column of the table",
                    ),
                }
            }
            let mut add = Vec::new();
            for name in &u.add {
                match column(name) {
                    Some(c)
                        if !matches!(
                            table.columns[c].sql_type,
                            SqlType::Integer
                                | SqlType::BigInt
                                | SqlType::Decimal { .. }
                                | SqlType::Double
                        ) =>
                    {
                        problem(
                            format!("`{}.{name}` is not a number to add", u.table),
                            "`add` names integer, decimal or float columns",
                        )
                    }
                    Some(c) if key.contains(&c) => problem(
                        format!("`{}.{name}` is in `key` and `add`", u.table),
                        "a column is merged on or added up, not both",
                    ),
                    Some(c) => add.push(c),
                    None => problem(
                        format!("no column `{}.{name}`", u.table),
                        "name a column of the table",
                    ),
                }
            }
            if let Some(count) = &u.count {
                if u.key.contains(count) || u.add.contains(count) {
                    problem(
                        format!("`count` column `{count}` is also in `key` or `add`"),
                        "give the count column a name of its own",
                    );
                }
            }
            out.push(Merge {
                table: t,
                key,
                add,
                count: u.count.clone(),
            });
        }
        if d.is_empty() {
            Ok(out)
        } else {
            Err(d)
        }
    }

    /// The store table's columns: the key's, the added ones, the count.
    pub fn columns<'a>(&'a self, table: &'a Table) -> Vec<&'a str> {
        self.key
            .iter()
            .chain(&self.add)
            .map(|&c| table.columns[c].name.as_str())
            .chain(self.count.as_deref())
            .collect()
    }

    /// The type of an added column in the store: wide enough for sums.
    fn add_type(ty: SqlType, dialect: Dialect) -> String {
        match (ty, dialect) {
            (SqlType::Decimal { scale, .. }, Dialect::Postgres) => format!("numeric(38, {scale})"),
            (SqlType::Decimal { scale, .. }, Dialect::Sqlite) => format!("DECIMAL(38, {scale})"),
            (SqlType::Integer, _) => super::ddl::type_name(SqlType::BigInt, dialect),
            (ty, _) => super::ddl::type_name(ty, dialect),
        }
    }

    /// `CREATE TABLE` for the store's table, named `name` (qualified).
    pub fn create_table(&self, table: &Table, name: &str, dialect: Dialect) -> String {
        let mut lines: Vec<String> = self
            .key
            .iter()
            .map(|&c| {
                format!(
                    "  {} {} NOT NULL",
                    quote(&table.columns[c].name),
                    super::ddl::column_type(&table.columns[c], dialect)
                )
            })
            .collect();
        for &c in &self.add {
            lines.push(format!(
                "  {} {} NOT NULL",
                quote(&table.columns[c].name),
                Merge::add_type(table.columns[c].sql_type, dialect)
            ));
        }
        if let Some(count) = &self.count {
            lines.push(format!(
                "  {} {} NOT NULL",
                quote(count),
                super::ddl::type_name(SqlType::BigInt, dialect)
            ));
        }
        let key: Vec<String> = self
            .key
            .iter()
            .map(|&c| quote(&table.columns[c].name))
            .collect();
        lines.push(format!("  PRIMARY KEY ({})", key.join(", ")));
        format!("CREATE TABLE {name} (\n{}\n)", lines.join(",\n"))
    }

    /// `SET a = t.a + EXCLUDED.a, …` of `INSERT … ON CONFLICT`, for the
    /// store table `name` (qualified).
    fn set(&self, table: &Table, name: &str) -> String {
        let mut set: Vec<String> = self
            .add
            .iter()
            .map(|&c| {
                let a = quote(&table.columns[c].name);
                format!("{a} = {name}.{a} + EXCLUDED.{a}")
            })
            .collect();
        if let Some(count) = &self.count {
            let n = quote(count);
            set.push(format!("{n} = {name}.{n} + EXCLUDED.{n}"));
        }
        let key: Vec<String> = self
            .key
            .iter()
            .map(|&c| quote(&table.columns[c].name))
            .collect();
        format!(
            "ON CONFLICT ({}) DO UPDATE SET {}",
            key.join(", "),
            set.join(", ")
        )
    }

    /// SQLite: one row (`?1` … in the store's column order) added.
    pub fn sqlite_insert(&self, table: &Table, name: &str) -> String {
        let mut values: Vec<String> = (1..=self.key.len()).map(|i| format!("?{i}")).collect();
        for i in 0..self.add.len() {
            values.push(format!("COALESCE(?{}, 0)", self.key.len() + i + 1));
        }
        if self.count.is_some() {
            values.push("1".into());
        }
        let columns: Vec<String> = self.columns(table).into_iter().map(quote).collect();
        format!(
            "INSERT INTO {name} ({}) VALUES ({}) {}",
            columns.join(", "),
            values.join(", "),
            self.set(table, name)
        )
    }

    /// PostgreSQL: the rows of the staging table `stage` summed per key
    /// and added to `name`.
    pub fn pg_merge(&self, table: &Table, name: &str, stage: &str) -> String {
        let key: Vec<String> = self
            .key
            .iter()
            .map(|&c| quote(&table.columns[c].name))
            .collect();
        let mut select = key.clone();
        for &c in &self.add {
            let a = quote(&table.columns[c].name);
            select.push(format!("COALESCE(sum({a}), 0)"));
        }
        if self.count.is_some() {
            select.push("count(*)".into());
        }
        let columns: Vec<String> = self.columns(table).into_iter().map(quote).collect();
        format!(
            "INSERT INTO {name} ({}) SELECT {} FROM {stage} GROUP BY {} {}",
            columns.join(", "),
            select.join(", "),
            key.join(", "),
            self.set(table, name)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_conflict_reads_and_refuses() {
        let v: TomlValue = toml::from_str(
            "x = { readings = { key = \"consumer_id\", add = [\"kwh\"], count = \"n\" } }",
        )
        .unwrap();
        let read = read(&v["x"]).unwrap();
        assert_eq!(
            read,
            vec![Upsert {
                table: "readings".into(),
                key: vec!["consumer_id".into()],
                add: vec!["kwh".into()],
                count: Some("n".into()),
            }]
        );
        for bad in [
            "x = 3",
            "x = { r = { key = [] , add = [\"a\"] } }",
            "x = { r = { key = \"k\" } }",
            "x = { r = { key = \"k\", add = \"a\", sum = 1 } }",
        ] {
            let v: TomlValue = toml::from_str(bad).unwrap();
            assert!(super::read(&v["x"]).is_err(), "{bad}");
        }
    }
}
