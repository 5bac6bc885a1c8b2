//! Text: `string`, `pattern`, `lorem`, `hash`.

use std::sync::Arc;

use md5::Digest;
use rand::{Rng, RngExt};

use super::dicts::{self, Dictionaries};
use super::unique::{Numbering, Radix, EXACT_SPACE};
use super::{Compile, Def, Family, Params, Sample, Spec, Uniqueness};
use crate::context::SourceContext;
use crate::format::text;
use crate::value::{SqlType, Value};

/// The text generators.
pub const FAMILY: Family = Family {
    name: "text",
    generators: &[
        Def {
            name: "string",
            keys: &["len", "charset"],
            unique: Some("`string`"),
            parse: string,
        },
        Def {
            name: "pattern",
            keys: &["pattern"],
            unique: Some("`pattern`"),
            parse: pattern,
        },
        Def {
            name: "lorem",
            keys: &["words"],
            unique: None,
            parse: lorem,
        },
        Def {
            name: "hash",
            keys: &["algo", "of"],
            unique: None,
            parse: hash,
        },
    ],
};

/// Characters a random string is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    /// `A-Za-z0-9`.
    Alnum,
    /// `A-Za-z`.
    Alpha,
    /// `0-9`.
    Digits,
    /// `0-9a-f`.
    Hex,
}

impl Charset {
    /// The characters, all ASCII.
    pub fn chars(self) -> &'static [u8] {
        match self {
            Charset::Alnum => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            Charset::Alpha => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
            Charset::Digits => b"0123456789",
            Charset::Hex => b"0123456789abcdef",
        }
    }
}

/// Random strings of `min..=max` characters of a charset.
#[derive(Debug, Clone, Copy)]
struct Str {
    min: u32,
    max: u32,
    chars: &'static [u8],
}

fn string(p: &mut Params<'_, '_>) -> Option<Arc<dyn Spec>> {
    let (min, max) = p.len_pair("len", (8, 16));
    let charset = match p.string("charset") {
        Some(("alnum", _)) | None => Charset::Alnum,
        Some(("alpha", _)) => Charset::Alpha,
        Some(("digits", _)) => Charset::Digits,
        Some(("hex", _)) => Charset::Hex,
        Some((other, s)) => {
            p.problem(
                s,
                format!("unknown charset `{other}`"),
                Some("use one of: alnum, alpha, digits, hex"),
            );
            Charset::Alnum
        }
    };
    Some(Arc::new(Str {
        min,
        max,
        chars: charset.chars(),
    }))
}

impl Str {
    /// Strings of the charset of every length from `min` to `max`, when
    /// they number at most [`EXACT_SPACE`].
    fn exact_space(&self) -> Option<u128> {
        let c = self.chars.len() as u128;
        (self.min..=self.max).try_fold(0u128, |sum, len| {
            let n = c.checked_pow(len)?;
            sum.checked_add(n).filter(|&s| s <= EXACT_SPACE)
        })
    }

    /// For spaces beyond [`EXACT_SPACE`]: the trailing characters that are
    /// permuted (the fewest holding 2^64 values: more than any table has).
    fn permuted_tail(&self) -> u32 {
        let c = self.chars.len() as u128;
        let mut m = 1;
        while c.pow(m) <= u128::from(u64::MAX) {
            m += 1;
        }
        m
    }
}

impl Spec for Str {
    fn sql_type(&self) -> SqlType {
        SqlType::Text
    }

    fn text_bytes(&self) -> u64 {
        u64::from(self.max)
    }

    fn uniqueness(&self) -> Uniqueness {
        Uniqueness::Space {
            values: self
                .exact_space()
                .unwrap_or_else(|| (self.chars.len() as u128).pow(self.permuted_tail())),
            of: "set of strings of that charset and length",
            help: "widen `len` or `charset`, or lower the row count",
        }
    }

    fn compile(&self, cx: &Compile<'_>) -> Box<dyn Sample> {
        if cx.unique {
            return Box::new(UniqueStr {
                numbering: cx.numbering,
                spec: *self,
                exact: self.exact_space(),
                tail: self.permuted_tail(),
            });
        }
        Box::new(*self)
    }
}

/// Distinct strings. When every string of the charset from `min` to `max`
/// characters numbers at most [`EXACT_SPACE`], the permuted row index is
/// the string's number in that space (longer strings are the most
/// numerous, so most values have the longest length, as in any uniform
/// draw of distinct strings); beyond it, the length and leading characters
/// are drawn at random and the last `tail` characters are a permuted number.
#[derive(Debug)]
struct UniqueStr {
    numbering: Numbering,
    spec: Str,
    exact: Option<u128>,
    tail: u32,
}

impl Sample for UniqueStr {
    fn value(&self, key: u64, ctx: &mut SourceContext<'_>) -> Value {
        let chars = self.spec.chars;
        let c = chars.len() as u128;
        let mut rng = ctx.rng(key);
        let i = self
            .numbering
            .index128(ctx, self.exact.unwrap_or_else(|| c.pow(self.tail)), key);
        ctx.write_text(|out| {
            let (len, mut i, tail) = match self.exact {
                Some(_) => {
                    let mut i = i;
                    let mut len = self.spec.max;
                    loop {
                        let n = c.pow(len);
                        if i < n || len == self.spec.min {
                            break;
                        }
                        i -= n;
                        len -= 1;
                    }
                    (len, i, len)
                }
                None => {
                    let len = rng.random_range(self.spec.min.max(self.tail)..=self.spec.max);
                    (len, i, self.tail)
                }
            };
            for _ in tail..len {
                out.push(chars[rng.random_range(0..chars.len())] as char);
            }
            // The number's digits, most significant first (at most 128:
            // no space of two or more characters beyond 2^120 needs more).
            let mut digits = [0u8; 128];
            let tail = tail as usize;
            match u64::try_from(i) {
                // 64-bit division where the number allows: a 128-bit one
                // costs several times more, once per character.
                Ok(mut i) => {
                    let c = c as u64;
                    for slot in digits[..tail].iter_mut().rev() {
                        *slot = chars[(i % c) as usize];
                        i /= c;
                    }
                }
                Err(_) => {
                    for slot in digits[..tail].iter_mut().rev() {
                        *slot = chars[(i % c) as usize];
                        i /= c;
                    }
                }
            }
            out.extend(digits[..tail].iter().map(|&b| char::from(b)));
        })
    }
}

impl Sample for Str {
    fn value(&self, key: u64, ctx: &mut SourceContext<'_>) -> Value {
        let mut rng = ctx.rng(key);
        let len = rng.random_range(self.min..=self.max);
        ctx.write_text(|out| {
            for _ in 0..len {
                out.push(self.chars[rng.random_range(0..self.chars.len())] as char);
            }
        })
    }
}

/// A piece of a `pattern`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternPart {
    /// Copied as is.
    Literal(String),
    /// `#`: a digit.
    Digit,
    /// `?`: an upper-case letter.
    Letter,
    /// `*`: a letter or digit.
    Alnum,
}

/// The pieces of pattern `s`: `#` a digit, `?` a letter, `*` a letter or
/// digit, `\` escapes the next character.
pub fn pattern_parts(s: &str) -> Vec<PatternPart> {
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        let part = match c {
            '#' => PatternPart::Digit,
            '?' => PatternPart::Letter,
            '*' => PatternPart::Alnum,
            '\\' => {
                literal.extend(chars.next());
                continue;
            }
            c => {
                literal.push(c);
                continue;
            }
        };
        if !literal.is_empty() {
            parts.push(PatternPart::Literal(std::mem::take(&mut literal)));
        }
        parts.push(part);
    }
    if !literal.is_empty() {
        parts.push(PatternPart::Literal(literal));
    }
    parts
}

/// Strings following a pattern.
#[derive(Debug, Clone)]
struct Pattern(Vec<PatternPart>);

fn pattern(p: &mut Params<'_, '_>) -> Option<Arc<dyn Spec>> {
    let text = p.string("pattern");
    let (text, _) = p.require("pattern", text, "\"??-####\"")?;
    Some(Arc::new(Pattern(pattern_parts(text))))
}

impl Pattern {
    /// The placeholders' symbols, in order: the pattern's space.
    fn radix(&self) -> Radix {
        Radix::new(
            self.0
                .iter()
                .filter_map(|part| match part {
                    PatternPart::Literal(_) => None,
                    PatternPart::Digit => Some(10),
                    PatternPart::Letter => Some(26),
                    PatternPart::Alnum => Some(62),
                })
                .collect(),
        )
    }
}

impl Spec for Pattern {
    fn sql_type(&self) -> SqlType {
        SqlType::Text
    }

    fn text_bytes(&self) -> u64 {
        24
    }

    fn uniqueness(&self) -> Uniqueness {
        Uniqueness::Space {
            values: self.radix().distinct(),
            of: "pattern",
            help: "add `#`, `?` or `*` to `pattern`, or lower the row count",
        }
    }

    fn compile(&self, cx: &Compile<'_>) -> Box<dyn Sample> {
        if cx.unique {
            return Box::new(UniquePattern {
                numbering: cx.numbering,
                radix: self.radix(),
                parts: self.0.clone(),
            });
        }
        Box::new(self.clone())
    }
}

/// Distinct strings of a pattern: the placeholders spell the permuted row
/// index in their mixed radix.
#[derive(Debug)]
struct UniquePattern {
    numbering: Numbering,
    parts: Vec<PatternPart>,
    radix: Radix,
}

impl Sample for UniquePattern {
    fn value(&self, key: u64, ctx: &mut SourceContext<'_>) -> Value {
        let i = self.numbering.index128(ctx, self.radix.distinct(), key);
        let mut rng = ctx.rng(key);
        let mut digits = ctx.digits();
        self.radix
            .digits(i, |r| rng.random_range(0..r), &mut digits);
        let value = ctx.write_text(|out| {
            let mut next = digits.iter();
            for part in &self.parts {
                let d = match part {
                    PatternPart::Literal(s) => {
                        out.push_str(s);
                        continue;
                    }
                    _ => next.next().copied().unwrap_or(0) as usize,
                };
                out.push(match part {
                    PatternPart::Digit => (b'0' + d as u8) as char,
                    PatternPart::Letter => (b'A' + d as u8) as char,
                    _ => Charset::Alnum.chars()[d] as char,
                });
            }
        });
        ctx.give_back_digits(digits);
        value
    }
}

impl Sample for Pattern {
    fn value(&self, key: u64, ctx: &mut SourceContext<'_>) -> Value {
        let mut rng = ctx.rng(key);
        ctx.write_text(|out| {
            for part in &self.0 {
                match part {
                    PatternPart::Literal(s) => out.push_str(s),
                    PatternPart::Digit => out.push((b'0' + rng.random_range(0..10u8)) as char),
                    PatternPart::Letter => out.push((b'A' + rng.random_range(0..26u8)) as char),
                    PatternPart::Alnum => {
                        let chars = Charset::Alnum.chars();
                        out.push(chars[rng.random_range(0..chars.len())] as char);
                    }
                }
            }
        })
    }
}

/// Filler text of `min..=max` words of the locale.
#[derive(Debug, Clone, Copy)]
struct Lorem {
    min: u32,
    max: u32,
    dict: &'static Dictionaries,
}

fn lorem(p: &mut Params<'_, '_>) -> Option<Arc<dyn Spec>> {
    let (min, max) = p.len_pair("words", (3, 8));
    Some(Arc::new(Lorem {
        min,
        max,
        dict: dicts::dictionaries(p.locale()),
    }))
}

impl Spec for Lorem {
    fn sql_type(&self) -> SqlType {
        SqlType::Text
    }

    fn compile(&self, _: &Compile<'_>) -> Box<dyn Sample> {
        Box::new(*self)
    }
}

impl Sample for Lorem {
    fn value(&self, key: u64, ctx: &mut SourceContext<'_>) -> Value {
        let mut rng = ctx.rng(key);
        ctx.write_text(|out| self.dict.lorem(&mut rng, self.min, self.max, out))
    }
}

/// A hex digest of an earlier column's text, or of random bytes.
#[derive(Debug, Clone, Copy)]
struct Hash {
    /// SHA-256 (else MD5).
    sha256: bool,
    /// The hashed column and its decimal scale, once compiled.
    of: Option<(usize, u8)>,
}

fn hash(p: &mut Params<'_, '_>) -> Option<Arc<dyn Spec>> {
    let sha256 = match p.string("algo") {
        Some(("sha256", _)) | None => true,
        Some(("md5", _)) => false,
        Some((other, s)) => {
            p.problem(
                s,
                format!("unknown hash `{other}`"),
                Some("use `sha256` or `md5`"),
            );
            true
        }
    };
    p.read_column("of", "name a column above this one whose value is hashed");
    Some(Arc::new(Hash { sha256, of: None }))
}

impl Spec for Hash {
    fn sql_type(&self) -> SqlType {
        SqlType::Text
    }

    fn compile(&self, cx: &Compile<'_>) -> Box<dyn Sample> {
        Box::new(Hash {
            sha256: self.sha256,
            of: cx.reads.first().map(|&c| (c, cx.types[c].scale())),
        })
    }
}

impl Sample for Hash {
    fn value(&self, key: u64, ctx: &mut SourceContext<'_>) -> Value {
        let mut input = ctx.buffer();
        match self.of.map(|(f, scale)| (ctx.value(f), scale)) {
            Some((Value::Null, _)) => {
                ctx.give_back(input);
                return Value::Null;
            }
            Some((v, scale)) => text::value(&mut input, v, ctx.block(), scale),
            None => {
                let mut bytes = [0u8; 16];
                ctx.rng(key).fill_bytes(&mut bytes);
                text::hex(&mut input, &bytes);
            }
        }
        let start = ctx.text_start();
        if self.sha256 {
            text::hex(ctx.out(), &sha2::Sha256::digest(input.as_bytes()));
        } else {
            text::hex(ctx.out(), &md5::Md5::digest(input.as_bytes()));
        }
        ctx.give_back(input);
        ctx.text_since(start)
    }
}
