//! Brazilian document numbers with valid check digits: `br.cpf` and
//! `br.cnpj` (`formatted = false` for digits only).
//!
//! CPF: nine digits and two mod-11 check digits, `###.###.###-##`.
//! CNPJ: eight digits, the branch `0001` and two mod-11 check digits,
//! `##.###.###/####-##`. Numbers whose digits are all equal pass the check
//! but are rejected by every validator, so they are never produced.

use std::sync::Arc;

use rand::RngExt;

use super::unique::Numbering;
use super::{Compile, Def, Family, Params, Sample, Spec, Uniqueness};
use crate::context::SourceContext;
use crate::rng::RowRng;
use crate::value::{SqlType, Value};

/// The Brazilian document generators.
pub const FAMILY: Family = Family {
    name: "br",
    generators: &[
        Def {
            name: "br.cpf",
            keys: &["formatted"],
            unique: Some("`br.cpf`"),
            parse: |p| document(p, false),
        },
        Def {
            name: "br.cnpj",
            keys: &["formatted"],
            unique: Some("`br.cnpj`"),
            parse: |p| document(p, true),
        },
    ],
};

/// A CPF (or CNPJ) number.
#[derive(Debug, Clone, Copy)]
struct BrDoc {
    /// CNPJ rather than CPF.
    cnpj: bool,
    /// With the usual punctuation.
    formatted: bool,
}

fn document(p: &mut Params<'_, '_>, cnpj: bool) -> Option<Arc<dyn Spec>> {
    let formatted = p.bool("formatted").unwrap_or(true);
    Some(Arc::new(BrDoc { cnpj, formatted }))
}

impl BrDoc {
    /// Base digits: nine for a CPF, eight for a CNPJ (before the branch).
    fn base_digits(&self) -> u32 {
        if self.cnpj {
            8
        } else {
            9
        }
    }

    /// Valid bases: every number of the base digits but the ten whose
    /// digits are all equal.
    fn space(&self) -> u64 {
        10u64.pow(self.base_digits()) - 10
    }
}

impl Spec for BrDoc {
    fn sql_type(&self) -> SqlType {
        SqlType::Text
    }

    fn uniqueness(&self) -> Uniqueness {
        Uniqueness::Space {
            values: u128::from(self.space()),
            of: if self.cnpj {
                "space of CNPJ head offices"
            } else {
                "space of CPF numbers"
            },
            help: "lower the row count (the numbering is national)",
        }
    }

    fn compile(&self, cx: &Compile<'_>) -> Box<dyn Sample> {
        Box::new(BrDocSample {
            doc: *self,
            unique: cx.unique.then_some(cx.numbering),
        })
    }
}

#[derive(Debug)]
struct BrDocSample {
    doc: BrDoc,
    /// Distinct numbers: the base is the row's number.
    unique: Option<Numbering>,
}

impl Sample for BrDocSample {
    fn value(&self, key: u64, ctx: &mut SourceContext<'_>) -> Value {
        let doc = self.doc;
        let base = self
            .unique
            .map(|numbering| nth_base(numbering.index(ctx, doc.space(), key), doc.base_digits()));
        let mut rng = ctx.rng(key);
        ctx.write_text(|out| {
            if doc.cnpj {
                let d = base.map_or_else(|| cnpj_digits(&mut rng), cnpj_of);
                write(&d, CNPJ_MASK, doc.formatted, out);
            } else {
                let d = base.map_or_else(|| cpf_digits(&mut rng), cpf_of);
                write(&d, CPF_MASK, doc.formatted, out);
            }
        })
    }
}

/// The `i`-th number of `digits` digits whose digits are not all equal:
/// between two consecutive repdigits `k·11…1` lie `11…10` such numbers.
fn nth_base(i: u64, digits: u32) -> u64 {
    let repunit = (10u64.pow(digits) - 1) / 9;
    let gap = repunit - 1;
    (i / gap) * repunit + 1 + i % gap
}

/// The decimal digits of `n`, `N` of them, most significant first.
fn decimal<const N: usize>(mut n: u64, count: usize) -> [u8; N] {
    let mut d = [0u8; N];
    for slot in d[..count].iter_mut().rev() {
        *slot = (n % 10) as u8;
        n /= 10;
    }
    d
}

/// The CPF of base `base` (nine digits, not all equal).
fn cpf_of(base: u64) -> [u8; 11] {
    let mut d: [u8; 11] = decimal(base, 9);
    d[9] = check(&d[..9], &[10, 9, 8, 7, 6, 5, 4, 3, 2]);
    d[10] = check(&d[..10], &[11, 10, 9, 8, 7, 6, 5, 4, 3, 2]);
    d
}

/// The CNPJ of head office `base` (eight digits, not all equal).
fn cnpj_of(base: u64) -> [u8; 14] {
    let mut d: [u8; 14] = decimal(base, 8);
    d[8..12].copy_from_slice(&[0, 0, 0, 1]);
    d[12] = check(&d[..12], &[5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]);
    d[13] = check(&d[..13], &[6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]);
    d
}

/// The mod-11 check digit of `digits` with weights `weights`.
fn check(digits: &[u8], weights: &[u8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .zip(weights)
        .map(|(&d, &w)| u32::from(d) * u32::from(w))
        .sum();
    match sum % 11 {
        0 | 1 => 0,
        r => (11 - r) as u8,
    }
}

/// The eleven digits of a CPF.
pub fn cpf_digits(rng: &mut RowRng) -> [u8; 11] {
    let mut d = [0u8; 11];
    loop {
        for x in d.iter_mut().take(9) {
            *x = rng.random_range(0..10);
        }
        if d[..9].iter().any(|&x| x != d[0]) {
            break;
        }
    }
    d[9] = check(&d[..9], &[10, 9, 8, 7, 6, 5, 4, 3, 2]);
    d[10] = check(&d[..10], &[11, 10, 9, 8, 7, 6, 5, 4, 3, 2]);
    d
}

/// The fourteen digits of a CNPJ (head office, branch 0001).
pub fn cnpj_digits(rng: &mut RowRng) -> [u8; 14] {
    let mut d = [0u8; 14];
    loop {
        for x in d.iter_mut().take(8) {
            *x = rng.random_range(0..10);
        }
        if d[..8].iter().any(|&x| x != d[0]) {
            break;
        }
    }
    d[8..12].copy_from_slice(&[0, 0, 0, 1]);
    d[12] = check(&d[..12], &[5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]);
    d[13] = check(&d[..13], &[6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]);
    d
}

/// Appends `digits`, with the punctuation of `mask` (`#` per digit) when `formatted`.
pub fn write(digits: &[u8], mask: &str, formatted: bool, out: &mut String) {
    if !formatted {
        out.extend(digits.iter().map(|&d| (b'0' + d) as char));
        return;
    }
    let mut it = digits.iter();
    for c in mask.chars() {
        match c {
            '#' => out.push((b'0' + it.next().copied().unwrap_or(0)) as char),
            c => out.push(c),
        }
    }
}

/// The CPF mask.
pub const CPF_MASK: &str = "###.###.###-##";
/// The CNPJ mask.
pub const CNPJ_MASK: &str = "##.###.###/####-##";

/// Whether `text` (punctuation ignored) is a valid CPF.
pub fn valid_cpf(text: &str) -> bool {
    let d: Vec<u8> = text
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect();
    d.len() == 11
        && d.iter().any(|&x| x != d[0])
        && d[9] == check(&d[..9], &[10, 9, 8, 7, 6, 5, 4, 3, 2])
        && d[10] == check(&d[..10], &[11, 10, 9, 8, 7, 6, 5, 4, 3, 2])
}

/// Whether `text` (punctuation ignored) is a valid CNPJ.
pub fn valid_cnpj(text: &str) -> bool {
    let d: Vec<u8> = text
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect();
    d.len() == 14
        && d.iter().any(|&x| x != d[0])
        && d[12] == check(&d[..12], &[5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])
        && d[13] == check(&d[..13], &[6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::row_rng;

    #[test]
    fn known_numbers() {
        // Published examples of valid numbers.
        assert!(valid_cpf("529.982.247-25"));
        assert!(!valid_cpf("529.982.247-26"));
        assert!(!valid_cpf("111.111.111-11"));
        assert!(valid_cnpj("11.222.333/0001-81"));
        assert!(!valid_cnpj("11.222.333/0001-82"));
    }

    #[test]
    fn bases_skip_only_the_repdigits() {
        // Around each repdigit: the one before, the one after.
        assert_eq!(nth_base(0, 9), 1);
        assert_eq!(nth_base(111_111_109, 9), 111_111_110);
        assert_eq!(nth_base(111_111_110, 9), 111_111_112);
        assert_eq!(nth_base(10u64.pow(9) - 11, 9), 999_999_998);
        assert_eq!(nth_base(10u64.pow(8) - 11, 8), 99_999_998);
        for i in [0, 5, 11_111_110, 55_555_555, 10u64.pow(8) - 11] {
            let d: [u8; 14] = decimal(nth_base(i, 8), 8);
            assert!(d[..8].iter().any(|&x| x != d[0]), "{i}");
        }
        let mut s = String::new();
        write(&cpf_of(529_982_247), CPF_MASK, true, &mut s);
        assert_eq!(s, "529.982.247-25");
        s.clear();
        write(&cnpj_of(11_222_333), CNPJ_MASK, true, &mut s);
        assert_eq!(s, "11.222.333/0001-81");
    }

    #[test]
    fn generated_numbers_validate() {
        for row in 0..2_000 {
            let mut rng = row_rng(99, row);
            let mut s = String::new();
            write(&cpf_digits(&mut rng), CPF_MASK, true, &mut s);
            assert!(valid_cpf(&s), "{s}");
            s.clear();
            write(&cnpj_digits(&mut rng), CNPJ_MASK, row % 2 == 0, &mut s);
            assert!(valid_cnpj(&s), "{s}");
        }
    }
}
