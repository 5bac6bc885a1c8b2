//! `unique = true` beyond numbers: every generator with a space of values
//! that can be numbered keeps it by a keyed permutation of the row index.
//! Each column is generated whole and checked for duplicates, for validity
//! (check digits, numbering plans, the pattern's shape) and against the
//! same rows cut into other units (the values are a function of the row).

use std::collections::HashSet;

use datagen::generate::plan::{plan, Limits};
use datagen::schema::Schema;
use datagen::value::{Block, Value};

use super::support::{datagen, run, stderr};

fn schema(text: &str) -> Schema {
    datagen::genfile::parse("unique.toml".as_ref(), text.as_bytes())
        .unwrap_or_else(|d| panic!("{d}"))
}

/// Every value of table 0, as text, column by column, cut into units of
/// `unit_rows` rows.
fn columns(schema: &Schema, unit_rows: u64) -> Vec<Vec<String>> {
    let (plan, generators) =
        plan(schema, schema.seed, 1.0, unit_rows, 1, &Limits::NONE).expect("a plan");
    let mut out = vec![Vec::new(); schema.tables[0].columns.len()];
    for unit in plan.units(generators.clone()) {
        for block in generators
            .generate(unit.root, unit.rows.clone(), &unit.starts)
            .expect("rows")
        {
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
        let genfile = dir.path().join("g.toml");
        std::fs::write(
            &genfile,
            format!("[tables.t]\nrows = 4\n[tables.t.columns]\n{columns}"),
        )
        .unwrap();
        let out = run(datagen()
            .arg("--config")
            .arg(&genfile)
            .arg("--target")
            .arg(format!("csv://{}", dir.path().join("out").display())));
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(!dir.path().join("out").exists());
        stderr(&out)
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
