//! The PostgreSQL target against a real server: faithful types, keys
//! present and valid, contents equal to the SQLite and CSV outputs of the
//! same seed, awkward names and values intact, `if_exists`, and errors
//! before any row is written.

use std::path::Path;
use std::process::Output;

use datagen::schema::Schema;
use datagen::sink::ddl::foreign_key;

use super::canon::{self, Rows};
use super::pg::{server, TestSchema};
use super::support::{datagen, root, run, schema, stderr};

/// Runs `genfile` into `target` with `args`, quietly.
fn load(genfile: &Path, target: &str, args: &[&str]) -> Output {
    load_env(genfile, target, &[], args)
}

/// [`load`] with `DATAGEN_*` variables set.
fn load_env(genfile: &Path, target: &str, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = datagen();
    for (key, value) in env {
        cmd.env(key, value);
    }
    run(cmd
        .arg("--config")
        .arg(genfile)
        .arg("--target")
        .arg(target)
        .arg("--quiet")
        .args(args))
}

fn ok(out: &Output) {
    assert!(out.status.success(), "datagen failed: {}", stderr(out));
}

fn sqlite_tables(path: &Path, schema: &Schema) -> Vec<Rows> {
    schema
        .tables
        .iter()
        .map(|t| canon::from_sqlite(path, t))
        .collect()
}

/// Asserts that the keys of `schema` exist in `db` and are validated.
fn assert_constraints(db: &TestSchema, schema: &Schema) {
    let mut expected = (0, 0, 0);
    for table in &schema.tables {
        for column in &table.columns {
            if column.primary_key {
                expected.0 += 1;
            } else if column.unique {
                expected.1 += 1;
            }
            if foreign_key(schema, table, column).is_some() {
                expected.2 += 1;
            }
        }
        expected.1 += table.unique.len();
    }
    let count = |kind: &str| -> usize {
        db.pg
            .value(&format!(
                "SELECT count(*) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
                 WHERE n.nspname = '{}' AND c.contype = '{kind}' AND c.convalidated",
                db.name
            ))
            .parse()
            .unwrap()
    };
    assert_eq!(
        (count("p"), count("u"), count("f")),
        expected,
        "keys in {}",
        db.name
    );
}

#[test]
fn shop_loads_with_faithful_types_and_keys_and_matches_sqlite_and_csv() {
    let genfile = schema("shop.toml");
    let model = canon::schema(&genfile);
    let db = TestSchema::new("shop");
    let dir = tempfile::tempdir().unwrap();
    // Small commit units on three connections: units commit out of order.
    let out = load_env(
        &genfile,
        &db.url(),
        &[
            ("DATAGEN_COMMIT_ROWS", "3000"),
            ("DATAGEN_CONNECTIONS", "3"),
        ],
        &["--scale", "0.02"],
    );
    ok(&out);
    let sqlite = dir.path().join("shop.db");
    ok(&load(
        &genfile,
        &format!("sqlite://{}", sqlite.display()),
        &["--scale", "0.02"],
    ));
    let csv = dir.path().join("csv");
    ok(&load(
        &genfile,
        &format!("csv://{}", csv.display()),
        &["--scale", "0.02"],
    ));

    let types: Vec<(String, String, String)> = db
        .pg
        .rows(&format!(
            "SELECT table_name, column_name, format_type(atttypid, atttypmod)
             FROM information_schema.columns c
             JOIN pg_attribute a ON a.attrelid = format('%I.%I', table_schema, table_name)::regclass
                                AND a.attname = c.column_name
             WHERE table_schema = '{}'",
            db.name
        ))
        .into_iter()
        .map(|r| {
            (
                r[0].clone().unwrap(),
                r[1].clone().unwrap(),
                r[2].clone().unwrap(),
            )
        })
        .collect();
    let type_of = |t: &str, c: &str| {
        types
            .iter()
            .find(|(tt, cc, _)| tt == t && cc == c)
            .map(|(_, _, ty)| ty.as_str())
            .unwrap_or_else(|| panic!("no column {t}.{c}"))
    };
    assert_eq!(type_of("customers", "id"), "bigint");
    assert_eq!(type_of("customers", "profile"), "jsonb");
    assert_eq!(type_of("customers", "birth_date"), "date");
    assert_eq!(
        type_of("customers", "signed_up"),
        "timestamp with time zone"
    );
    assert_eq!(type_of("customers", "marketing"), "boolean");
    assert_eq!(type_of("order_items", "unit_price"), "numeric(6,2)");
    assert_eq!(type_of("customers", "name"), "text");
    // Every column of the schema, in the declared type.
    for table in &model.tables {
        for column in &table.columns {
            let expected =
                datagen::sink::ddl::column_type(column, datagen::sink::ddl::Dialect::Postgres);
            let actual = type_of(&table.name, &column.name);
            let same = actual == expected
                || (expected == "double precision" && actual == "double precision")
                || (expected == "timestamptz" && actual == "timestamp with time zone");
            assert!(
                same,
                "{}.{}: {actual} vs {expected}",
                table.name, column.name
            );
        }
    }
    assert_constraints(&db, &model);

    let pg = canon::pg_tables(&db, &model);
    let lite = sqlite_tables(&sqlite, &model);
    for (i, table) in model.tables.iter().enumerate() {
        let from_csv = canon::from_csv(&csv.join(format!("{}.csv", table.name)), table);
        assert!(!pg[i].is_empty(), "{} is empty", table.name);
        assert_eq!(pg[i].len(), lite[i].len(), "rows of {}", table.name);
        assert!(
            pg[i] == lite[i],
            "{}: PostgreSQL and SQLite differ",
            table.name
        );
        assert!(
            pg[i] == from_csv,
            "{}: PostgreSQL and CSV differ",
            table.name
        );
    }

    // Progress: whole units, each recorded once, adding up to the tables.
    for (i, table) in model.tables.iter().enumerate() {
        let recorded = db.pg.value(&format!(
            "SELECT coalesce(sum(rows), 0) FROM {} WHERE table_name = '{}'",
            db.table("datagen_progress"),
            table.name
        ));
        assert_eq!(
            recorded,
            pg[i].len().to_string(),
            "progress of {}",
            table.name
        );
    }
    let units: Vec<Vec<Option<String>>> = db.pg.rows(&format!(
        "SELECT DISTINCT stream_from, stream_to FROM {} ORDER BY 1",
        db.table("datagen_progress")
    ));
    assert!(
        units.len() > 5,
        "expected several commit units, got {}",
        units.len()
    );
    let mut next = 0u64;
    for unit in &units {
        let from: u64 = unit[0].as_ref().unwrap().parse().unwrap();
        let to: u64 = unit[1].as_ref().unwrap().parse().unwrap();
        assert_eq!(from, next, "units tile the row stream");
        assert!(to > from);
        next = to;
    }
    let total: usize = pg.iter().map(Vec::len).sum();
    assert_eq!(next, total as u64);
}

#[test]
fn every_example_loads_and_matches_sqlite() {
    for name in ["people_br.toml", "metering.toml", "events.toml"] {
        let genfile = schema(name);
        let model = canon::schema(&genfile);
        let db = TestSchema::new("examples");
        let dir = tempfile::tempdir().unwrap();
        ok(&load(&genfile, &db.url(), &["--scale", "0.01"]));
        let sqlite = dir.path().join("x.db");
        ok(&load(
            &genfile,
            &format!("sqlite://{}", sqlite.display()),
            &["--scale", "0.01"],
        ));
        assert_constraints(&db, &model);
        let pg = canon::pg_tables(&db, &model);
        let lite = sqlite_tables(&sqlite, &model);
        for (i, table) in model.tables.iter().enumerate() {
            assert!(!pg[i].is_empty(), "{name}: {} is empty", table.name);
            assert!(
                pg[i] == lite[i],
                "{name}: {} differs from SQLite",
                table.name
            );
        }
    }
}

#[test]
fn keys_during_the_load_give_the_same_tables() {
    let genfile = schema("shop.toml");
    let model = canon::schema(&genfile);
    let after = TestSchema::new("after");
    let during = TestSchema::new("during");
    ok(&load(&genfile, &after.url(), &["--scale", "0.005"]));
    let out = load_env(
        &genfile,
        &during.url(),
        &[
            ("DATAGEN_CONSTRAINTS", "during"),
            ("DATAGEN_COMMIT_ROWS", "2000"),
        ],
        &["--scale", "0.005"],
    );
    ok(&out);
    assert_constraints(&during, &model);
    assert!(canon::pg_tables(&after, &model) == canon::pg_tables(&during, &model));
}

/// The awkward Genfile through every target: the same values everywhere.
#[test]
fn awkward_names_and_values_survive_every_target() {
    let genfile = root().join("tests/golden/awkward.toml");
    let model = canon::schema(&genfile);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    let db = TestSchema::new("awkward");
    ok(&load(&genfile, &db.url(), &[]));
    assert_constraints(&db, &model);
    let reference = canon::pg_tables(&db, &model);
    assert!(
        reference[0].iter().any(|r| r[1].as_deref() == Some("")),
        "the empty string is among the values"
    );
    assert!(
        reference[0].iter().any(|r| r[2].is_none()),
        "NULLs are among the values"
    );

    let sqlite = d.join("a.db");
    ok(&load(
        &genfile,
        &format!("sqlite://{}", sqlite.display()),
        &[],
    ));
    assert!(sqlite_tables(&sqlite, &model) == reference, "SQLite");

    ok(&load(
        &genfile,
        &format!("csv://{}", d.join("csv").display()),
        &[],
    ));
    ok(&load(
        &genfile,
        &format!("jsonl://{}", d.join("jsonl").display()),
        &[],
    ));
    for (i, table) in model.tables.iter().enumerate() {
        let csv = canon::from_csv(&d.join("csv").join(format!("{}.csv", table.name)), table);
        canon::assert_same(&csv, &reference[i], &format!("CSV of {}", table.name));
        let jsonl = canon::from_jsonl(
            &d.join("jsonl").join(format!("{}.jsonl", table.name)),
            table,
        );
        canon::assert_same(
            &jsonl,
            &reference[i],
            &format!("JSON Lines of {}", table.name),
        );
    }

    // PostgreSQL's own CSV reader agrees with ours.
    let by_copy = TestSchema::new("awkward_csv");
    by_copy
        .pg
        .execute(&format!("CREATE SCHEMA \"{}\"", by_copy.name));
    let ddl = run(datagen()
        .args(["ddl", "--dialect", "postgres", "--schema", &by_copy.name])
        .arg("--config")
        .arg(&genfile));
    by_copy.pg.execute(&String::from_utf8(ddl.stdout).unwrap());
    for table in &model.tables {
        let data = std::fs::read(d.join("csv").join(format!("{}.csv", table.name))).unwrap();
        by_copy.pg.copy_in(
            &format!(
                "COPY {} FROM STDIN (FORMAT csv, HEADER true)",
                by_copy.table(&table.name)
            ),
            data,
        );
    }
    assert!(
        canon::pg_tables(&by_copy, &model) == reference,
        "CSV through COPY"
    );

    // The SQL scripts, run by each database.
    let script = d.join("pg.sql");
    ok(&load(
        &genfile,
        &format!("sql://{}?dialect=postgres", script.display()),
        &[],
    ));
    let by_sql = TestSchema::new("awkward_sql");
    by_sql.pg.execute(&format!(
        "CREATE SCHEMA \"{0}\"; SET search_path = \"{0}\"",
        by_sql.name
    ));
    by_sql
        .pg
        .execute(&std::fs::read_to_string(&script).unwrap());
    assert!(
        canon::pg_tables(&by_sql, &model) == reference,
        "PostgreSQL SQL script"
    );

    let script = d.join("lite.sql");
    ok(&load(
        &genfile,
        &format!("sql://{}?dialect=sqlite", script.display()),
        &[],
    ));
    let from_script = d.join("from_script.db");
    rusqlite::Connection::open(&from_script)
        .unwrap()
        .execute_batch(&std::fs::read_to_string(&script).unwrap())
        .unwrap();
    assert!(
        sqlite_tables(&from_script, &model) == reference,
        "SQLite SQL script"
    );
}

#[test]
fn if_exists_fail_truncate_append_replace() {
    let genfile = root().join("tests/golden/small.toml");
    let model = canon::schema(&genfile);
    let db = TestSchema::new("ifexists");
    ok(&load(&genfile, &db.url(), &[]));
    let first = canon::pg_tables(&db, &model);
    let rows = |db: &TestSchema| -> usize {
        model
            .tables
            .iter()
            .map(|t| {
                db.pg
                    .value(&format!("SELECT count(*) FROM {}", db.table(&t.name)))
                    .parse::<usize>()
                    .unwrap()
            })
            .sum()
    };
    let n = rows(&db);

    // fail (the default): exit 2, the table named, nothing written.
    let out = load(&genfile, &db.url(), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&model.tables[0].name),
        "{}",
        stderr(&out)
    );
    assert_eq!(rows(&db), n);

    let with = |mode: &str| load_env(&genfile, &db.url(), &[("DATAGEN_IF_EXISTS", mode)], &[]);
    // append: the same keys again break the primary key; the failed unit
    // rolls back whole.
    let out = with("append");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("duplicate key"), "{}", stderr(&out));
    assert_eq!(rows(&db), n);
    ok(&with("truncate"));
    assert_eq!(rows(&db), n);
    assert!(canon::pg_tables(&db, &model) == first);
    db.pg.execute(&format!(
        "ALTER TABLE {} ADD COLUMN extra int",
        db.table(&model.tables[0].name)
    ));
    ok(&with("replace"));
    assert!(canon::pg_tables(&db, &model) == first);
    assert_eq!(
        db.pg.value(&format!(
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = '{}' AND column_name = 'extra'",
            db.name
        )),
        "0",
        "replace recreates the table"
    );
    assert_constraints(&db, &model);
}

/// A table's `unique = [...]` groups become multi-column UNIQUE
/// constraints, added after the load or declared before it, and the rows
/// satisfy them.
#[test]
fn unique_groups_become_multi_column_constraints() {
    let dir = tempfile::tempdir().unwrap();
    let genfile = dir.path().join("stock.toml");
    std::fs::write(
        &genfile,
        r#"
[tables.stores]
rows = 30
[tables.stores.columns]
id = { gen = "sequence", primary_key = true }
[tables.stock]
rows = 3_000
unique = [["store_id", "sku"], ["store_id", "shelf", "slot"]]
[tables.stock.columns]
store_id = { ref = "stores.id" }
sku      = { gen = "pattern", pattern = "SKU-###" }
shelf    = { gen = "choice", values = ["A", "B", "C", "D"] }
slot     = { gen = "int", min = 1, max = 40 }
"#,
    )
    .unwrap();
    for mode in ["after", "during"] {
        let db = TestSchema::new(&format!("groups_{mode}"));
        ok(&load_env(
            &genfile,
            &db.url(),
            &[("DATAGEN_CONSTRAINTS", mode)],
            &[],
        ));
        let groups = db.pg.rows(&format!(
            "SELECT (SELECT string_agg(a.attname, ',' ORDER BY k.ord)
                       FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
                       JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum)
             FROM pg_constraint c
             WHERE c.conrelid = '{}'::regclass AND c.contype = 'u' AND c.convalidated
             ORDER BY 1",
            db.table("stock")
        ));
        assert_eq!(
            groups,
            vec![
                vec![Some("store_id,shelf,slot".to_owned())],
                vec![Some("store_id,sku".to_owned())]
            ],
            "{mode}"
        );
        let store_sku = db.pg.rows(&format!(
            "SELECT store_id::text, sku FROM {} LIMIT 1",
            db.table("stock")
        ));
        let (store, sku) = (
            store_sku[0][0].clone().unwrap(),
            store_sku[0][1].clone().unwrap(),
        );
        let dup = db.pg.try_execute(&format!(
            "INSERT INTO {} VALUES ({store}, '{sku}', 'Z', 99)",
            db.table("stock")
        ));
        assert!(
            dup.as_ref().is_err_and(|e| e.contains("unique")),
            "{mode}: {dup:?}"
        );
    }
}

#[test]
fn append_adds_rows_to_tables_without_keys() {
    let dir = tempfile::tempdir().unwrap();
    let genfile = dir.path().join("log.toml");
    std::fs::write(
        &genfile,
        "[tables.log]\nrows = 120\n[tables.log.columns]\nat = { gen = \"timestamp\", min = \"2024-01-01T00:00:00Z\", max = \"2024-12-31T00:00:00Z\" }\nmsg = { gen = \"lorem\", words = [1, 4] }\n",
    )
    .unwrap();
    let db = TestSchema::new("append");
    ok(&load(&genfile, &db.url(), &[]));
    let count = || {
        db.pg
            .value(&format!("SELECT count(*) FROM {}", db.table("log")))
    };
    assert_eq!(count(), "120");
    let out = load_env(&genfile, &db.url(), &[("DATAGEN_IF_EXISTS", "append")], &[]);
    ok(&out);
    assert_eq!(count(), "240");
    assert_eq!(
        db.pg.value(&format!(
            "SELECT count(DISTINCT (at, msg)) FROM {}",
            db.table("log")
        )),
        "120",
        "the same rows twice"
    );
}

#[test]
fn appending_to_a_wider_table_fills_only_our_columns_as_datagen() {
    let dir = tempfile::tempdir().unwrap();
    let genfile = dir.path().join("ids.toml");
    std::fs::write(
        &genfile,
        "[tables.t]\nrows = 30\n[tables.t.columns]\nid = { gen = \"sequence\" }\n",
    )
    .unwrap();
    let db = TestSchema::new("wider");
    db.pg.execute(&format!(
        "CREATE SCHEMA \"{0}\"; CREATE TABLE \"{0}\".t (
           app text DEFAULT current_setting('application_name'), id bigint, note text)",
        db.name
    ));
    let out = load_env(&genfile, &db.url(), &[("DATAGEN_IF_EXISTS", "append")], &[]);
    ok(&out);
    let rows = db.pg.rows(&format!(
        "SELECT app, count(*), min(id), max(id), count(note) FROM {} GROUP BY app",
        db.table("t")
    ));
    let expected: Vec<Option<String>> = ["datagen", "30", "1", "30", "0"]
        .iter()
        .map(|s| Some(s.to_string()))
        .collect();
    assert_eq!(rows, vec![expected]);
}

#[test]
fn overridden_and_existing_column_types_are_written_in_their_own_type() {
    let dir = tempfile::tempdir().unwrap();
    let genfile = dir.path().join("types.toml");
    std::fs::write(
        &genfile,
        r#"
[tables.t]
rows = 50
[tables.t.columns]
id    = { gen = "sequence", primary_key = true, type = "smallint" }
code  = { gen = "pattern", pattern = "??-###", type = "varchar(6)" }
price = { gen = "decimal", min = 0, max = 100, type = "double precision" }
day   = { gen = "date", min = "2020-01-01", max = "2020-12-31", type = "timestamp" }
n     = { gen = "int", min = 0, max = 9, type = "text" }
"#,
    )
    .unwrap();
    let db = TestSchema::new("types");
    ok(&load(&genfile, &db.url(), &[]));
    let rows = db.pg.rows(&format!(
        "SELECT id, code, price, day, n FROM {} ORDER BY id LIMIT 1",
        db.table("t")
    ));
    assert_eq!(rows[0][0].as_deref(), Some("1"));
    assert_eq!(rows[0][1].as_ref().unwrap().len(), 6);
    assert!(rows[0][3].as_ref().unwrap().ends_with("00:00:00"));

    // An existing column that cannot hold the values: refused before any row.
    let bad = TestSchema::new("types_bad");
    bad.pg.execute(&format!(
        "CREATE SCHEMA \"{0}\"; CREATE TABLE \"{0}\".t (id smallint, code varchar(6), price float8, day timestamp, n boolean)",
        bad.name
    ));
    let out = load_env(
        &genfile,
        &bad.url(),
        &[("DATAGEN_IF_EXISTS", "append")],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("\"n\" is boolean"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        bad.pg
            .value(&format!("SELECT count(*) FROM {}", bad.table("t"))),
        "0"
    );
}

#[test]
fn unreachable_server_and_bad_database_fail_before_writing_without_the_password() {
    let genfile = root().join("tests/golden/small.toml");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = load(
        &genfile,
        &format!("postgres://me:hunter2@127.0.0.1:{port}/db"),
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("cannot connect to postgres://me:***@127.0.0.1"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");

    let url = server().replace("/test", "/datagen_no_such_database");
    let out = load(&genfile, &url, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("datagen_no_such_database"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn connections_and_commit_units_do_not_change_the_data() {
    let genfile = schema("shop.toml");
    let model = canon::schema(&genfile);
    let a = TestSchema::new("conn_a");
    let b = TestSchema::new("conn_b");
    let go = |db: &TestSchema, connections: &str, commit: &str, batch: &str| {
        ok(&load_env(
            &genfile,
            &db.url(),
            &[
                ("DATAGEN_CONNECTIONS", connections),
                ("DATAGEN_COMMIT_ROWS", commit),
                ("DATAGEN_BATCH_ROWS", batch),
            ],
            &["--scale", "0.005", "--workers", "2"],
        ));
    };
    go(&a, "1", "1000000", "10000");
    go(&b, "4", "700", "333");
    assert!(canon::pg_tables(&a, &model) == canon::pg_tables(&b, &model));
}

#[test]
fn environment_variables_complete_the_url() {
    let genfile = root().join("tests/golden/small.toml");
    let model = canon::schema(&genfile);
    let db = TestSchema::new("pgenv");
    let config: tokio_postgres::Config = server().parse().unwrap();
    let host = match &config.get_hosts()[0] {
        tokio_postgres::config::Host::Tcp(h) => h.clone(),
        #[allow(unreachable_patterns)]
        other => panic!("{other:?}"),
    };
    let out = run(datagen()
        .env("PGHOST", host)
        .env(
            "PGPORT",
            config
                .get_ports()
                .first()
                .copied()
                .unwrap_or(5432)
                .to_string(),
        )
        .env("PGUSER", config.get_user().unwrap_or("postgres"))
        .env("PGDATABASE", config.get_dbname().unwrap_or("test"))
        .args(["--quiet", "--config", genfile.to_str().unwrap()])
        .args(["--target", &format!("postgres://?schema={}", db.name)]));
    ok(&out);
    assert!(!canon::pg_tables(&db, &model)[0].is_empty());
}

#[test]
fn scripts_of_a_table_that_references_itself_load_with_foreign_keys_on() {
    // 20,000 rows are 40 INSERT statements: most rows reference a row a
    // later statement inserts, so the foreign key must be checked at commit.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let genfile = d.join("staff.toml");
    std::fs::write(
        &genfile,
        "[run]\nseed = 7\n\n[tables.staff]\nrows = 20000\n\n[tables.staff.columns]\n\
         id = { gen = \"sequence\", primary_key = true }\n\
         manager = { ref = \"staff.id\" }\n",
    )
    .unwrap();
    let script = d.join("pg.sql");
    ok(&load(
        &genfile,
        &format!("sql://{}?dialect=postgres", script.display()),
        &[],
    ));
    let text = std::fs::read_to_string(&script).unwrap();
    assert!(
        text.matches("INSERT INTO").count() > 1,
        "one statement only"
    );
    let db = TestSchema::new("self_reference");
    db.pg.execute(&format!(
        "CREATE SCHEMA \"{0}\"; SET search_path = \"{0}\"",
        db.name
    ));
    db.pg.execute(&text);
    let orphans = db.pg.value(
        "SELECT count(*) FROM staff s WHERE NOT EXISTS (SELECT 1 FROM staff m WHERE m.id = s.manager)",
    );
    assert_eq!(orphans, "0");
    assert_eq!(db.pg.value("SELECT count(*) FROM staff"), "20000");

    let script = d.join("lite.sql");
    ok(&load(
        &genfile,
        &format!("sql://{}?dialect=sqlite", script.display()),
        &[],
    ));
    let lite = rusqlite::Connection::open_in_memory().unwrap();
    lite.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    lite.execute_batch(&std::fs::read_to_string(&script).unwrap())
        .unwrap();
    let rows: i64 = lite
        .query_row("SELECT count(*) FROM staff", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 20_000);
    let violations: i64 = lite
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(violations, 0);
}
