//! Golden error texts: every folder under `tests/errors/` holds an invalid
//! `genfile.toml` and the exact diagnostics it must produce (`expected.txt`).
//! `UPDATE_GOLDEN=1` rewrites the expectations.

use crate::support::{assert_golden, root};

#[test]
fn invalid_genfiles_get_located_messages() {
    let mut cases: Vec<_> = std::fs::read_dir(root().join("tests/errors"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 15,
        "the corpus shrank to {} cases",
        cases.len()
    );
    for case in cases {
        let bytes = std::fs::read(case.join("genfile.toml")).unwrap();
        let err = match datagen::genfile::parse("genfile.toml".as_ref(), &bytes) {
            Ok(_) => panic!("{}: accepted an invalid Genfile", case.display()),
            Err(d) => d.to_string(),
        };
        assert!(
            err.starts_with("genfile.toml:"),
            "{}: no location in {err}",
            case.display()
        );
        assert_golden(&case.join("expected.txt"), &format!("{err}\n"));
    }
}
