//! Values of the catalogue generators are valid for what they claim to be.

use datagen::generators::br::{valid_cnpj, valid_cpf};
use rusqlite::Connection;

use crate::support::{run_text, stderr};

const GENFILE: &str = r##"
[run]
seed = 11
locale = "pt_BR"
[tables.t]
rows = 3000
[tables.t.columns]
id      = { gen = "uuid", version = 7, min = "2025-03-01T00:00:00Z", max = "2025-03-31T23:59:59Z", primary_key = true }
cpf     = { gen = "br.cpf" }
cnpj    = { gen = "br.cnpj", formatted = false }
doc     = { gen = "object", fields = { n = { gen = "int", min = 1, max = 3 }, s = { gen = "lorem", words = [1, 3] }, a = { gen = "array", len = [0, 4], item = { gen = "float", min = 0, max = 1 } }, quote = { gen = "choice", values = ["a\"b", "c\\d", "e\nf"] } } }
sha     = { gen = "hash", of = "cpf" }
"##;

#[test]
fn documents_uuids_json_and_hashes_are_valid() {
    let dir = tempfile::tempdir().unwrap();
    let (out, db) = run_text(dir.path(), "catalogue", GENFILE);
    assert!(out.status.success(), "{}", stderr(&out));
    let conn = Connection::open(&db).unwrap();
    let mut stmt = conn
        .prepare("SELECT id, cpf, cnpj, doc, sha FROM t")
        .unwrap();
    let rows: Vec<(String, String, String, String, String)> = stmt
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), 3000);
    let (march_start, march_end) = (1_740_787_200_000u64, 1_743_465_599_000u64);
    for (id, cpf, cnpj, _, sha) in &rows {
        assert!(valid_cpf(cpf) && cpf.len() == 14, "bad CPF {cpf}");
        assert!(valid_cnpj(cnpj) && cnpj.len() == 14, "bad CNPJ {cnpj}");
        let hex: String = id.chars().filter(|c| *c != '-').collect();
        assert_eq!(&hex[12..13], "7", "not a version 7 UUID: {id}");
        assert!(
            matches!(&hex[16..17], "8" | "9" | "a" | "b"),
            "bad variant: {id}"
        );
        let ms = u64::from_str_radix(&hex[..12], 16).unwrap();
        assert!(
            (march_start..=march_end).contains(&ms),
            "timestamp {ms} outside the range: {id}"
        );
        assert_eq!(sha.len(), 64);
    }
    let invalid: i64 = conn
        .query_row(
            "SELECT count(*) FROM t WHERE NOT json_valid(doc)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(invalid, 0, "documents that are not JSON");
    let quotes: i64 = conn
        .query_row(
            "SELECT count(DISTINCT json_extract(doc, '$.quote')) FROM t",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        quotes, 3,
        "escaped strings must read back as three distinct values"
    );
    let lengths: i64 = conn
        .query_row(
            "SELECT count(*) FROM t WHERE json_array_length(doc, '$.a') NOT BETWEEN 0 AND 4",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(lengths, 0);
    // The same CPF always hashes the same (the hash reads the column's text).
    let mismatched: i64 = conn
        .query_row(
            "SELECT count(*) FROM t a JOIN t b ON a.cpf = b.cpf AND a.sha <> b.sha",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(mismatched, 0);
}

#[test]
fn unique_integers_are_a_permutation_of_their_range() {
    let dir = tempfile::tempdir().unwrap();
    let genfile = r#"
[tables.t]
rows = 5000
[tables.t.columns]
code = { gen = "int", min = 100000, max = 104999, unique = true }
ticket = { gen = "int", min = 1, max = 1000000000, unique = true }
"#;
    let (out, db) = run_text(dir.path(), "unique", genfile);
    assert!(out.status.success(), "{}", stderr(&out));
    let conn = Connection::open(&db).unwrap();
    let (distinct, lo, hi, tickets): (i64, i64, i64, i64) = conn
        .query_row(
            "SELECT count(DISTINCT code), min(code), max(code), count(DISTINCT ticket) FROM t",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!((distinct, lo, hi, tickets), (5000, 100000, 104999, 5000));
    // Shuffled, not ascending.
    let ascending: i64 = conn
        .query_row(
            "SELECT count(*) FROM t a JOIN t b ON b.rowid = a.rowid + 1 WHERE b.code > a.code",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        ascending < 3500,
        "{ascending} of 4999 steps go up: not shuffled"
    );

    let too_small = genfile.replace("max = 104999", "max = 104998");
    let (out, _) = run_text(dir.path(), "too-small", &too_small);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .contains("column `t.code` is unique but its range holds 4999 values for 5000 rows"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn poisson_values_have_the_poisson_mean_and_variance() {
    let dir = tempfile::tempdir().unwrap();
    let genfile = r#"
[run]
seed = 8
[tables.t]
rows = 20000
[tables.t.columns]
visits = { gen = "int", min = 0, max = 1000, dist = { poisson = { lambda = 4 } } }
"#;
    let (out, db) = run_text(dir.path(), "poisson", genfile);
    assert!(out.status.success(), "{}", stderr(&out));
    let conn = Connection::open(&db).unwrap();
    let (mean, var): (f64, f64) = conn
        .query_row(
            "SELECT avg(visits), avg(visits * visits) - avg(visits) * avg(visits) FROM t",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    // Standard error of the mean is sqrt(4 / 20000) ≈ 0.014.
    assert!((mean - 4.0).abs() < 0.06, "mean {mean}");
    assert!((var - 4.0).abs() < 0.25, "variance {var}");
}

#[test]
fn unique_dates_and_timestamps() {
    let dir = tempfile::tempdir().unwrap();
    let genfile = r#"
[tables.t]
rows = 366
[tables.t.columns]
day = { gen = "date", min = 2024-01-01, max = 2024-12-31, unique = true }
at  = { gen = "timestamp", min = "2024-01-01T00:00:00Z", max = "2024-01-01T00:06:05Z", unique = true }
"#;
    let (out, db) = run_text(dir.path(), "days", genfile);
    assert!(out.status.success(), "{}", stderr(&out));
    let conn = Connection::open(&db).unwrap();
    let (days, ats, first, last): (i64, i64, String, String) = conn
        .query_row(
            "SELECT count(DISTINCT day), count(DISTINCT at), min(day), max(day) FROM t",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(
        (days, ats, first.as_str(), last.as_str()),
        (366, 366, "2024-01-01", "2024-12-31")
    );
    let (out, _) = run_text(
        dir.path(),
        "too-many",
        &genfile.replace("rows = 366", "rows = 367"),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn a_hash_reads_its_column_as_text() {
    use sha2::Digest;
    let dir = tempfile::tempdir().unwrap();
    let genfile = r#"
[tables.t]
rows = 200
[tables.t.columns]
price = { gen = "decimal", min = 1, max = 99, scale = 2 }
h     = { gen = "hash", of = "price" }
"#;
    let (out, db) = run_text(dir.path(), "hash", genfile);
    assert!(out.status.success(), "{}", stderr(&out));
    let conn = Connection::open(&db).unwrap();
    let mut stmt = conn
        .prepare("SELECT printf('%.2f', price), h FROM t")
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .unwrap();
    for row in rows {
        let (price, h) = row.unwrap();
        let expected: String = sha2::Sha256::digest(price.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(h, expected, "hash of {price}");
    }
}

#[test]
fn ipv4_addresses_are_public_or_in_their_network() {
    let genfile = r#"
[tables.hosts]
rows = 4000
[tables.hosts.columns]
id  = { gen = "sequence", primary_key = true }
ip  = { gen = "internet.ipv4" }
lan = { gen = "internet.ipv4", cidr = "10.20.0.0/20", unique = true }
dmz = { gen = "internet.ipv4", cidr = "192.0.2.0/26" }
"#;
    let dir = tempfile::tempdir().unwrap();
    let (out, db) = run_text(dir.path(), "hosts", genfile);
    assert!(out.status.success(), "{}", stderr(&out));
    let conn = Connection::open(&db).unwrap();
    let mut stmt = conn.prepare("SELECT ip, lan, dmz FROM hosts").unwrap();
    let rows: Vec<(String, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), 4000);
    let mut lans = std::collections::HashSet::new();
    for (ip, lan, dmz) in &rows {
        // Read back by the standard library's parser, not datagen's.
        let ip: std::net::Ipv4Addr = ip.parse().unwrap();
        let lan: std::net::Ipv4Addr = lan.parse().unwrap();
        let dmz: std::net::Ipv4Addr = dmz.parse().unwrap();
        assert!(
            !(ip.is_private()
                || ip.is_loopback()
                || ip.is_link_local()
                || ip.is_multicast()
                || ip.is_documentation()
                || ip.is_unspecified()
                || ip.is_broadcast()
                || ip.octets()[0] >= 240),
            "{ip} is not public"
        );
        assert_eq!(&lan.octets()[..2], &[10, 20], "{lan}");
        assert!(lan.octets()[2] < 16, "{lan} outside 10.20.0.0/20");
        assert!(lans.insert(lan), "{lan} twice");
        assert_eq!(&dmz.octets()[..3], &[192, 0, 2], "{dmz}");
        assert!(dmz.octets()[3] < 64, "{dmz} outside 192.0.2.0/26");
    }

    // A unique network smaller than its table is refused before anything
    // is written.
    let small = genfile
        .replace("rows = 4000", "rows = 5000")
        .replace("/20", "/20\", doc = \"4096 addresses");
    let (out, db) = run_text(dir.path(), "small", &small);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("4096 values for 5000 rows"),
        "{}",
        stderr(&out)
    );
    assert!(!db.exists());
}
