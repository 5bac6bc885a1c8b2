//! `unique = true` beyond numbers: every generator with a space of values
//! that can be numbered keeps it by a keyed permutation of the row index.
//! Each column is generated whole and checked for duplicates, for validity
//! (check digits, numbering plans, the pattern's shape) and against the
//! same rows cut into other units (the values are a function of the row).

use std::collections::HashSet;

use datagen::generate::plan::{plan, Limits};
use datagen::schema::Schema;
use datagen::value::{Block, Value};

use super::support::{datagen, run, run_text, stderr};

fn schema(text: &str) -> Schema {
    datagen::genfile::parse("unique.toml".as_ref(), text.as_bytes())
        .unwrap_or_else(|d| panic!("{d}"))
}

/// Every value of table 0, as text, column by column, cut into units of
/// `unit_rows` rows.
fn columns(schema: &Schema, unit_rows: u64) -> Vec<Vec<String>> {
    table_columns(schema, "t", unit_rows)
}

/// Every value of table `name`, as text, column by column, cut into units
/// of `unit_rows` rows (of its root table).
fn table_columns(schema: &Schema, name: &str, unit_rows: u64) -> Vec<Vec<String>> {
    let t = schema
        .tables
        .iter()
        .position(|t| t.name == name)
        .expect("the table");
    let (plan, generators) =
        plan(schema, schema.seed, 1.0, unit_rows, 1, &Limits::NONE).expect("a plan");
    let mut out = vec![Vec::new(); schema.tables[t].columns.len()];
    for unit in plan.units(generators.clone()) {
        for block in generators
            .generate(unit.root, unit.rows.clone(), &unit.starts)
            .expect("rows")
        {
            if block.table != t {
                continue;
            }
            for row in block.rows() {
                for (c, v) in row.iter().enumerate() {
                    out[c].push(text(&block, v));
                }
            }
        }
    }
    out
}

fn text(block: &Block, v: &Value) -> String {
    match *v {
        Value::Text(s, e) => block.str(s, e).to_owned(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "NULL".into(),
        ref other => format!("{other:?}"),
    }
}

fn assert_distinct(name: &str, values: &[String]) {
    let mut seen = HashSet::with_capacity(values.len());
    for v in values {
        assert!(seen.insert(v.as_str()), "{name}: `{v}` twice");
    }
}

/// Runs `text` as `dir/g.toml` into CSV files: it must be refused with
/// exit code 2 before anything is written. Returns the message.
fn refused(dir: &std::path::Path, text: &str) -> String {
    let genfile = dir.join("g.toml");
    std::fs::write(&genfile, text).unwrap();
    let out = run(datagen()
        .arg("--config")
        .arg(&genfile)
        .arg("--target")
        .arg(format!("csv://{}", dir.join("out").display())));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!dir.join("out").exists());
    stderr(&out)
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

#[test]
fn a_million_rows_of_text_keys_have_no_duplicate() {
    let s = schema(
        r#"
[run]
seed = 11
[tables.t]
rows = 1_000_000
[tables.t.columns]
plate  = { gen = "pattern", pattern = "???-#*##", unique = true }
cpf    = { gen = "br.cpf", unique = true }
cnpj   = { gen = "br.cnpj", unique = true, formatted = false }
phone  = { gen = "phone", unique = true }
fone   = { gen = "phone", unique = true, locale = "pt_BR" }
token  = { gen = "string", len = [4, 6], charset = "alnum", unique = true }
name   = { gen = "person.name", unique = true }
"#,
    );
    let cols = columns(&s, 65_536);
    let names = ["plate", "cpf", "cnpj", "phone", "fone", "token", "name"];
    for (name, values) in names.iter().zip(&cols) {
        assert_eq!(values.len(), 1_000_000);
        assert_distinct(name, values);
    }
    for v in &cols[0] {
        let b = v.as_bytes();
        assert!(
            v.len() == 8
                && b[..3].iter().all(u8::is_ascii_uppercase)
                && b[3] == b'-'
                && b[4].is_ascii_digit()
                && b[5].is_ascii_alphanumeric()
                && b[6..].iter().all(u8::is_ascii_digit),
            "{v}"
        );
    }
    for v in &cols[1] {
        assert!(datagen::generators::br::valid_cpf(v), "{v}");
    }
    for v in &cols[2] {
        assert!(
            datagen::generators::br::valid_cnpj(v) && v.len() == 14,
            "{v}"
        );
    }
    // Distinct as numbers, not only as text: the form is drawn apart.
    let numbers: Vec<String> = cols[3]
        .iter()
        .map(|v| {
            let d = digits(v);
            if v.starts_with("+1") {
                d[1..].to_owned()
            } else {
                d
            }
        })
        .collect();
    assert_distinct("phone as a number", &numbers);
    for (v, d) in cols[3].iter().zip(&numbers) {
        assert!(d.len() == 10 && !d[3..].starts_with(['0', '1']), "{v}");
    }
    for v in &cols[5] {
        assert!((4..=6).contains(&v.len()), "{v}");
    }
    // Cut into other units, every row has the same value.
    assert_eq!(columns(&s, 4_099), cols);
}

#[test]
fn lists_are_drawn_without_replacement() {
    let s = schema(
        r#"
[run]
seed = 5
[dictionaries.tiers]
values = ["bronze", "silver", "gold", "silver"]
[tables.t]
rows = 3
[tables.t.columns]
tier    = { gen = "dict", dict = "tiers", unique = true }
size    = { gen = "choice", values = ["S", "M", "L"], unique = true }
state   = { gen = "dict", dict = "states", unique = true }
first   = { gen = "person.first_name", unique = true }
"#,
    );
    let cols = columns(&s, 2);
    let sorted = |c: &Vec<String>| {
        let mut c = c.clone();
        c.sort();
        c
    };
    assert_eq!(sorted(&cols[0]), ["bronze", "gold", "silver"]);
    assert_eq!(sorted(&cols[1]), ["L", "M", "S"]);
    for c in &cols[2..] {
        assert_distinct("list", c);
    }
}

#[test]
fn a_table_larger_than_the_space_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let refused = |columns: &str| {
        refused(
            dir.path(),
            &format!("[tables.t]\nrows = 4\n[tables.t.columns]\n{columns}"),
        )
    };
    let err = refused(
        "size = { gen = \"choice\", values = [\"S\", \"M\", \"L\", \"M\"], unique = true }\n\
         code = { gen = \"pattern\", pattern = \"A#\", unique = true }\n",
    );
    assert!(
        err.contains("g.toml:4:1: error: column `t.size` is unique but its `values` list holds 3 values for 4 rows"),
        "{err}"
    );
    assert!(!err.contains("t.code"), "{err}");
    let err = refused(
        "w = { gen = \"choice\", values = [\"a\", \"b\"], weights = [1, 2], unique = true }\n",
    );
    assert!(
        err.contains("g.toml:4:1: error: column `t.w`: `unique` needs a generator"),
        "{err}"
    );
    assert!(
        err.contains("`weights` and `dist` cannot shape how often"),
        "{err}"
    );
    // -0.0 and 0.0 are one value to every database.
    let err = refused("z = { gen = \"choice\", values = [-0.0, 0.0, 3.0, 4.0], unique = true }\n");
    assert!(err.contains("holds 3 values for 4 rows"), "{err}");
}

/// The rows of `cols`, as tuples of the columns at `members`.
fn tuples(cols: &[Vec<String>], members: &[usize]) -> Vec<String> {
    (0..cols[0].len())
        .map(|r| {
            members
                .iter()
                .map(|&c| cols[c][r].as_str())
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect()
}

/// How often each value occurs.
fn histogram(values: &[String]) -> std::collections::BTreeMap<&str, usize> {
    let mut h = std::collections::BTreeMap::new();
    for v in values {
        *h.entry(v.as_str()).or_insert(0) += 1;
    }
    h
}

#[test]
fn a_group_as_large_as_the_table_makes_every_combination_once() {
    // 3 × 4 × 5 × 6 × 4 = 1,440 combinations for 1,440 rows: a group that
    // numbered any member outside its space, or two rows alike, would
    // leave a combination out.
    let s = schema(
        r#"
[run]
seed = 3
[dictionaries.tiers]
values = ["bronze", "silver", "gold", "silver", "steel"]
[tables.t]
rows = 1_440
unique = ["size", "tier", "n", "day", "ip"]
[tables.t.columns]
size = { gen = "choice", values = ["S", "M", "L"] }
tier = { gen = "dict", dict = "tiers" }
n    = { gen = "int", min = -2, max = 2 }
day  = { gen = "date", min = "2024-02-27", max = "2024-03-03" }
ip   = { gen = "internet.ipv4", cidr = "10.0.0.0/30" }
free = { gen = "int", min = 0, max = 1 }
"#,
    );
    let cols = columns(&s, 97);
    let all = tuples(&cols, &[0, 1, 2, 3, 4]);
    assert_distinct("(size, tier, n, day, ip)", &all);
    for (c, n) in [(0, 3), (1, 4), (2, 5), (3, 6), (4, 4)] {
        let h = histogram(&cols[c]);
        assert_eq!(h.len(), n, "column {c}: {h:?}");
        assert!(h.values().all(|&k| k == 1_440 / n), "column {c}: {h:?}");
    }
    // Each member alone repeats, as it must: only the tuple is a key.
    assert!(histogram(&cols[5]).len() == 2);
    // A function of the row: the same in any units.
    assert_eq!(columns(&s, 1_440), cols);
}

#[test]
fn a_million_rows_of_a_composite_key_have_no_duplicate() {
    let s = schema(
        r###"
[run]
seed = 17
[tables.t]
rows = 1_000_000
unique = [["region", "serial"], ["first", "last", "plate"]]
[tables.t.columns]
region = { gen = "choice", values = ["north", "south", "east", "west", "centre"] }
serial = { gen = "pattern", pattern = "??#####" }
first  = { gen = "person.first_name" }
last   = { gen = "person.last_name" }
plate  = { gen = "pattern", pattern = "##" }
"###,
    );
    let cols = columns(&s, 65_536);
    assert_distinct("(region, serial)", &tuples(&cols, &[0, 1]));
    assert_distinct("(first, last, plate)", &tuples(&cols, &[2, 3, 4]));
    assert_eq!(histogram(&cols[0]).len(), 5);
    assert!(histogram(&cols[4]).len() == 100);
    assert_eq!(columns(&s, 4_099), cols);
}

#[test]
fn a_junction_table_pairs_each_store_and_product_once() {
    let s = schema(
        r#"
[run]
seed = 23
[tables.stores]
rows = 40
[tables.stores.columns]
id = { gen = "sequence", primary_key = true, start = 100 }
[tables.products]
rows = 250
[tables.products.columns]
id   = { gen = "uuid", primary_key = true }
name = { gen = "commerce.product_name" }
[tables.t]
rows = 10_000
unique = ["store_id", "product_id"]
[tables.t.columns]
store_id   = { ref = "stores.id" }
product_id = { ref = "products.id" }
name       = { lookup = "products.name", via = "product_id" }
"#,
    );
    let cols = columns(&s, 333);
    assert_eq!(cols[0].len(), 10_000);
    // Every pair once: 40 × 250 pairs for 10,000 rows.
    assert_distinct("(store_id, product_id)", &tuples(&cols, &[0, 1]));
    let stores = histogram(&cols[0]);
    assert_eq!(stores.len(), 40);
    assert!(stores.values().all(|&n| n == 250));
    assert!(stores
        .keys()
        .all(|k| (100..140).contains(&k.parse::<i64>().unwrap())));
    // The lookup follows the numbered reference.
    let products = table_columns(&s, "products", 1_000);
    for (p, name) in cols[1].iter().zip(&cols[2]) {
        let row = products[0]
            .iter()
            .position(|id| id == p)
            .expect("a product");
        assert_eq!(&products[1][row], name);
    }
    assert_eq!(columns(&s, 10_000), cols);
}

#[test]
fn groups_that_share_columns_each_keep_their_own_tuples() {
    // (store, sku) and (store, shelf, slot) share `store`: 30 stores × the
    // fewer of 1,000 SKUs and 4 × 40 places = 4,800 rows at most.
    let s = schema(
        r#"
[run]
seed = 31
[tables.stores]
rows = 30
[tables.stores.columns]
id = { gen = "sequence", primary_key = true }
[tables.t]
rows = 4_800
unique = [["store", "sku"], ["store", "shelf", "slot"], ["store", "code"]]
[tables.t.columns]
store = { ref = "stores.id" }
sku   = { gen = "pattern", pattern = "SKU-###" }
shelf = { gen = "choice", values = ["A", "B", "C", "D"] }
slot  = { gen = "int", min = 1, max = 40 }
code  = { gen = "string", len = 3, charset = "digits" }
"#,
    );
    let cols = columns(&s, 1_001);
    assert_distinct("(store, sku)", &tuples(&cols, &[0, 1]));
    assert_distinct("(store, shelf, slot)", &tuples(&cols, &[0, 2, 3]));
    assert_distinct("(store, code)", &tuples(&cols, &[0, 4]));
    let stores = histogram(&cols[0]);
    assert!(
        stores.len() == 30 && stores.values().all(|&n| n == 160),
        "{stores:?}"
    );
    assert_eq!(columns(&s, 4_800), cols);
    // One row more than the groups can tell apart is refused.
    let text = r#"
[tables.stores]
rows = 30
[tables.stores.columns]
id = { gen = "sequence", primary_key = true }
[tables.t]
rows = 4_801
unique = [["store", "sku"], ["store", "shelf", "slot"]]
[tables.t.columns]
store = { ref = "stores.id" }
sku   = { gen = "pattern", pattern = "SKU-###" }
shelf = { gen = "choice", values = ["A", "B", "C", "D"] }
slot  = { gen = "int", min = 1, max = 40 }
"#;
    let dir = tempfile::tempdir().unwrap();
    let err = refused(dir.path(), text);
    assert!(
        err.contains("g.toml:8:11: error: table `t`: the `unique` groups (store, sku), (store, shelf, slot) share (store), so together they tell 4800 rows apart for 4801 rows"),
        "{err}"
    );
}

#[test]
fn the_children_of_one_parent_never_repeat_a_group() {
    let s = schema(
        r#"
[run]
seed = 29
[tables.products]
rows = 6
[tables.products.columns]
id = { gen = "sequence", primary_key = true }
[tables.orders]
rows = 5_000
[tables.orders.columns]
id = { gen = "sequence", primary_key = true }
[tables.lines]
per = { parent = "orders", count = { uniform = { min = 0, max = 6 } } }
unique = [["order_id", "product_id"], ["order_id", "line"]]
[tables.lines.columns]
order_id   = { parent = "id" }
product_id = { ref = "products.id" }
line       = { gen = "int", min = 1, max = 6 }
"#,
    );
    let cols = table_columns(&s, "lines", 77);
    assert!(cols[0].len() > 10_000, "{}", cols[0].len());
    assert_distinct("(order_id, product_id)", &tuples(&cols, &[0, 1]));
    assert_distinct("(order_id, line)", &tuples(&cols, &[0, 2]));
    // Across orders, products and line numbers repeat freely.
    assert_eq!(histogram(&cols[1]).len(), 6);
    assert_eq!(table_columns(&s, "lines", 5_000), cols);
}

#[test]
fn a_copied_parent_column_that_is_not_a_key_numbers_over_the_whole_table() {
    // `tier` repeats across customers and `order_id` (copied from a
    // shipment, not the order's own key) across shipments: neither tells
    // two parents' children apart, so the other column is numbered over
    // the whole table.
    let s = schema(
        r#####"
[run]
seed = 7
[tables.customers]
rows = 200
[tables.customers.columns]
id   = { gen = "sequence", primary_key = true }
tier = { gen = "choice", values = ["free", "pro"] }
[tables.orders]
per = { parent = "customers", count = { fixed = 3 } }
unique = ["tier", "code"]
[tables.orders.columns]
id   = { gen = "sequence", primary_key = true }
tier = { parent = "tier" }
code = { gen = "int", min = 1, max = 1000 }
[tables.shipments]
per = { parent = "orders", count = { fixed = 2 } }
[tables.shipments.columns]
id       = { gen = "sequence", primary_key = true }
order_id = { parent = "id" }
[tables.parcels]
per = { parent = "shipments", count = { uniform = { min = 1, max = 3 } } }
unique = ["order_id", "label"]
[tables.parcels.columns]
order_id = { parent = "order_id" }
label    = { gen = "pattern", pattern = "####" }
"#####,
    );
    let orders = table_columns(&s, "orders", 17);
    assert_eq!(orders[0].len(), 600);
    assert_distinct("(tier, code)", &tuples(&orders, &[1, 2]));
    let parcels = table_columns(&s, "parcels", 17);
    assert_distinct("(order_id, label)", &tuples(&parcels, &[0, 1]));
    // Too few values for the whole table: refused, saying why.
    let dir = tempfile::tempdir().unwrap();
    let err = refused(
        dir.path(),
        "[tables.c]\nrows = 10\n[tables.c.columns]\nid = { gen = \"sequence\", primary_key = true }\n\
         tier = { gen = \"choice\", values = [\"a\", \"b\"] }\n\
         [tables.o]\nper = { parent = \"c\", count = { fixed = 2 } }\nunique = [\"tier\", \"n\"]\n\
         [tables.o.columns]\ntier = { parent = \"tier\" }\nn = { gen = \"int\", min = 1, max = 3 }\n",
    );
    assert!(
        err.contains("the `unique` group (tier, n) holds 3 combinations for 20 rows"),
        "{err}"
    );
    assert!(
        err.contains("`tier` is copied from the parent row but is not a key of it"),
        "{err}"
    );
}

#[test]
fn groups_sharing_a_column_draw_their_other_columns_apart() {
    // (store, product) and (store, color) share `store`: the products and
    // colours are drawn for each store apart, not paired once for all.
    let s = schema(
        r#"
[run]
seed = 41
[tables.stores]
rows = 50
[tables.stores.columns]
id = { gen = "sequence", primary_key = true }
[tables.products]
rows = 10_000
[tables.products.columns]
id = { gen = "sequence", primary_key = true }
[tables.t]
rows = 250
unique = [["store", "product"], ["store", "color"]]
[tables.t.columns]
store   = { ref = "stores.id" }
product = { ref = "products.id" }
color   = { gen = "choice", values = ["red", "green", "blue", "black", "white"] }
"#,
    );
    let cols = columns(&s, 50);
    assert_distinct("(store, product)", &tuples(&cols, &[0, 1]));
    assert_distinct("(store, color)", &tuples(&cols, &[0, 2]));
    let products = histogram(&cols[1]).len();
    assert!(products > 200, "{products} products for 250 rows");
    let pairs = histogram(&tuples(&cols, &[1, 2])).len();
    assert!(pairs > 200, "products and colours paired: {pairs}");
}

#[test]
fn validate_checks_groups_numbered_among_children() {
    let dir = tempfile::tempdir().unwrap();
    let genfile = dir.path().join("g.toml");
    std::fs::write(
        &genfile,
        "[tables.p]\nrows = 5\n[tables.p.columns]\nid = { gen = \"sequence\", primary_key = true }\n\
         [tables.o]\nrows = 30\n[tables.o.columns]\nid = { gen = \"sequence\", primary_key = true }\n\
         [tables.i]\nper = { parent = \"o\", count = { uniform = { min = 1, max = 6 } } }\n\
         unique = [\"o_id\", \"p_id\"]\n[tables.i.columns]\no_id = { parent = \"id\" }\np_id = { ref = \"p.id\" }\n",
    )
    .unwrap();
    let out = run(datagen().arg("validate").arg("--config").arg(&genfile));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("g.toml:11:10: error: table `i`: the `unique` group (o_id, p_id) holds 5 combinations for up to 6 children of one parent row"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn groups_too_small_for_their_rows_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let refused = |text: &str| refused(dir.path(), text);
    let err = refused(
        "[tables.t]\nrows = 31\nunique = [\"a\", \"b\"]\n[tables.t.columns]\n\
         a = { gen = \"choice\", values = [1, 2, 3] }\n\
         b = { gen = \"int\", min = 1, max = 10 }\n",
    );
    assert!(
        err.contains("g.toml:3:10: error: table `t`: the `unique` group (a, b) holds 30 combinations for 31 rows"),
        "{err}"
    );
    // Among one parent's children: as many as the most children a row has.
    let err = refused(
        "[tables.s]\nrows = 3\n[tables.s.columns]\nid = { gen = \"sequence\", primary_key = true }\n\
         [tables.t]\nper = { parent = \"s\", count = { uniform = { min = 1, max = 4 } } }\n\
         unique = [\"s_id\", \"other\"]\n[tables.t.columns]\n\
         s_id = { parent = \"id\" }\nother = { ref = \"s.id\" }\n",
    );
    assert!(
        err.contains("g.toml:7:10: error: table `t`: the `unique` group (s_id, other) holds 3 combinations for up to 4 children of one parent row"),
        "{err}"
    );
}

#[test]
fn sqlite_declares_each_group_and_refuses_a_repeated_combination() {
    let dir = tempfile::tempdir().unwrap();
    let (out, db) = run_text(
        dir.path(),
        "stock",
        r#"
[tables.stock]
rows = 500
unique = ["shelf", "slot"]
[tables.stock.columns]
shelf = { gen = "choice", values = ["A", "B", "C", "D", "E"] }
slot  = { gen = "int", min = 1, max = 100 }
"#,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let conn = rusqlite::Connection::open(&db).unwrap();
    let sql: String = conn
        .query_row(
            "SELECT sql FROM sqlite_master WHERE name = 'stock'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(sql.contains("UNIQUE (\"shelf\", \"slot\")"), "{sql}");
    let (shelf, slot): (String, i64) = conn
        .query_row("SELECT shelf, slot FROM stock LIMIT 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    let err = conn
        .execute(
            "INSERT INTO stock VALUES (?1, ?2)",
            rusqlite::params![shelf, slot],
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("UNIQUE constraint failed"),
        "{err}"
    );
    // Every combination of 5 × 100 once: nothing left to insert.
    assert_eq!(
        super::support::count(
            &conn,
            "SELECT count(DISTINCT shelf || '-' || slot) FROM stock"
        ),
        500
    );
}
