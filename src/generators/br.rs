//! Brazilian document numbers with valid check digits: `br.cpf` and
//! `br.cnpj` (`formatted = false` for digits only).
//!
//! CPF: nine digits and two mod-11 check digits, `###.###.###-##`.
//! CNPJ: eight digits, the branch `0001` and two mod-11 check digits,
//! `##.###.###/####-##`. Numbers whose digits are all equal pass the check
//! but are rejected by every validator, so they are never produced.

use std::sync::Arc;

use rand::RngExt;

use super::{Compile, Def, Family, Params, Sample, Spec};
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
            unique: None,
            parse: |p| document(p, false),
        },
        Def {
            name: "br.cnpj",
            keys: &["formatted"],
            unique: None,
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

impl Spec for BrDoc {
    fn sql_type(&self) -> SqlType {
        SqlType::Text
    }

    fn compile(&self, _: &Compile<'_>) -> Box<dyn Sample> {
        Box::new(*self)
    }
}

impl Sample for BrDoc {
    fn value(&self, key: u64, ctx: &mut SourceContext<'_>) -> Value {
        let mut rng = ctx.rng(key);
        ctx.write_text(|out| {
            if self.cnpj {
                write(&cnpj_digits(&mut rng), CNPJ_MASK, self.formatted, out);
            } else {
                write(&cpf_digits(&mut rng), CPF_MASK, self.formatted, out);
            }
        })
    }
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
