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
        cases.len() >= 40,
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

/// Mutated Genfiles (bytes deleted, duplicated, replaced, lines swapped)
/// never make the parser or validator panic, and every rejection is
/// located.
mod hostile {
    use proptest::prelude::*;

    use crate::support::root;

    fn seeds() -> Vec<Vec<u8>> {
        let mut files: Vec<_> = std::fs::read_dir(root().join("schemas"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        files.push(root().join("tests/golden/small.toml"));
        files.push(root().join("tests/golden/awkward.toml"));
        files.sort();
        files
            .into_iter()
            .map(|p| std::fs::read(p).unwrap())
            .collect()
    }

    #[derive(Debug, Clone)]
    enum Edit {
        Delete(usize, usize),
        Duplicate(usize, usize),
        Byte(usize, u8),
        Token(usize, &'static str),
        SwapLines(usize, usize),
    }

    fn apply(mut text: Vec<u8>, edit: &Edit) -> Vec<u8> {
        let len = text.len().max(1);
        match *edit {
            Edit::Delete(at, n) => {
                let at = at % len;
                let end = (at + n).min(text.len());
                text.drain(at.min(end)..end);
            }
            Edit::Duplicate(at, n) => {
                let at = at % len;
                let end = (at + n).min(text.len());
                let piece = text[at.min(end)..end].to_vec();
                text.splice(at..at, piece);
            }
            Edit::Byte(at, b) => {
                if !text.is_empty() {
                    text[at % len] = b;
                }
            }
            Edit::Token(at, t) => {
                let at = (at % len).min(text.len());
                text.splice(at..at, t.bytes());
            }
            Edit::SwapLines(a, b) => {
                let mut lines: Vec<Vec<u8>> =
                    text.split(|&c| c == b'\n').map(<[u8]>::to_vec).collect();
                let n = lines.len();
                lines.swap(a % n, b % n);
                text = lines.join(&b'\n');
            }
        }
        text
    }

    const TOKENS: &[&str] = &[
        "=",
        "{",
        "}",
        "[",
        "]",
        "\"",
        ",",
        "\n",
        "-1",
        "0",
        "1e999",
        "nan",
        "inf",
        "true",
        "gen = \"int\"",
        "min = 9, max = 1",
        "ref = \"x.y\"",
        "per = ",
        "expr = \"a/0\"",
        "[tables.z]\n",
        "rows = 0\n",
        "null_rate = 2",
        "dist = { zipf = { s = 0 } }",
        "scale = 40",
        "len = [0, 0]",
        "count = { fixed = -3 }",
        "é",
        "\u{0}",
        "\u{feff}",
    ];

    fn edit() -> impl Strategy<Value = Edit> {
        prop_oneof![
            (any::<usize>(), 1usize..40).prop_map(|(a, n)| Edit::Delete(a, n)),
            (any::<usize>(), 1usize..80).prop_map(|(a, n)| Edit::Duplicate(a, n)),
            (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Edit::Byte(a, b)),
            (any::<usize>(), proptest::sample::select(TOKENS)).prop_map(|(a, t)| Edit::Token(a, t)),
            (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]
        #[test]
        fn mutated_genfiles_never_panic(
            seed in 0usize..6,
            edits in proptest::collection::vec(edit(), 1..6),
        ) {
            let seeds = seeds();
            let mut text = seeds[seed % seeds.len()].clone();
            for e in &edits {
                text = apply(text, e);
            }
            let path = root().join("schemas/genfile.toml");
            let result = std::panic::catch_unwind(|| datagen::genfile::parse(&path, &text));
            prop_assert!(result.is_ok(), "panicked on {:?}", String::from_utf8_lossy(&text));
            if let Err(d) = result.unwrap() {
                let msg = d.to_string();
                prop_assert!(msg.contains("genfile.toml"), "unlocated: {}", msg);
                prop_assert!(!d.items.is_empty());
            }
        }
    }
}
