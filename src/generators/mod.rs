//! The generator catalogue: every `gen = "…"` a Genfile can name, one
//! module per family.
//!
//! A family module holds everything about its generators: the keys each
//! accepts and how they are validated (with spans and hints), the logical
//! type of its values, a rough size for buffer sizing, whether and how it
//! keeps `unique`, the compiled form and the sampling. [`registry`] lists the
//! families; nothing else in datagen names a generator. Adding a generator
//! touches its family file and its tests (the recipe is in ARCHITECTURE.md).
//!
//! Two stages, like the rest of datagen: parsing a column's keys gives a
//! [`Spec`] (validated, kept in the schema); compiling a spec for a run
//! ([`Spec::compile`]) gives a [`Sample`], which makes one value per row from
//! the row's own random stream.
//!
//! * [`registry`]: the families, and finding a generator by name.
//! * [`dist`]: distributions and child counts, shared by every family.
//! * [`dicts`]: locales and word lists, built in and user-defined.
//! * [`unique`]: keyed permutations, for `unique` over a space.
//! * [`phone`]: telephone numbering plans.
//! * the families: [`numeric`], [`text`], [`temporal`], [`uuid`](mod@uuid),
//!   [`choice`], [`person`], [`internet`], [`address`], [`commerce`],
//!   [`br`], [`document`].

pub mod address;
pub mod bound;
pub mod br;
pub mod choice;
pub mod commerce;
pub mod dicts;
pub mod dist;
pub mod document;
pub mod frequencies;
pub mod internet;
pub mod lifecycle;
pub mod locale;
pub mod numeric;
pub mod person;
pub mod phone;
pub mod places;
pub mod registry;
pub mod temporal;
pub mod text;
pub mod unique;
pub mod uuid;

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use toml::Value as TomlValue;

use crate::context::SourceContext;
use crate::diag::keys::Keys;
use crate::diag::Diagnostic;
use crate::expr::{Expr, Ty};
use crate::limits::MAX_LEN;
use crate::rng::{stream_key, Purpose};
use crate::value::{SqlType, Value};
use dicts::{Dictionary, Locale};

/// A generator of the catalogue: its name, the keys it accepts besides the
/// ones every column accepts, and how a column spec naming it is read.
pub struct Def {
    /// What `gen = "…"` says.
    pub name: &'static str,
    /// Its own keys.
    pub keys: &'static [&'static str],
    /// How it keeps `unique = true`, in a few words for the hint of a
    /// refusal (e.g. "`int` without `dist`"); `None` when it cannot.
    pub unique: Option<&'static str>,
    /// Reads the keys into a spec; `None` when a problem (reported in the
    /// params) leaves nothing to build.
    pub parse: fn(&mut Params<'_, '_>) -> Option<Arc<dyn Spec>>,
}

/// The generators of one family, in the order the catalogue lists them.
pub struct Family {
    /// The family's name (its module).
    pub name: &'static str,
    /// Its generators.
    pub generators: &'static [Def],
}

/// A validated generator, as the schema keeps it.
pub trait Spec: fmt::Debug + Send + Sync {
    /// The logical type of its values.
    fn sql_type(&self) -> SqlType;

    /// Bytes of text a value takes, roughly: sizes the default buffer.
    fn text_bytes(&self) -> u64 {
        0
    }

    /// Whether and how it keeps `unique = true`.
    fn uniqueness(&self) -> Uniqueness {
        Uniqueness::Repeats
    }

    /// How to make it keep `unique = true` when these parameters do not,
    /// if other parameters would: the hint of the refusal.
    fn unique_hint(&self) -> Option<&'static str> {
        None
    }

    /// What stops it making `rows` values, and how to fix that: a
    /// sequence that would pass the end of the integers. Asked once the
    /// plan knows the table's rows.
    fn rows_problem(&self, _rows: u64) -> Option<(String, &'static str)> {
        None
    }

    /// For a generator whose value is a function of the row index alone
    /// (a sequence, a random UUID): that function, so a `ref` can compute
    /// the key of any row without generating it. `values` is the column's
    /// values stream.
    fn row_key(&self, _values: u64) -> Option<Box<dyn RowKey>> {
        None
    }

    /// For a generator of the row's place: its place group and locale
    /// (the columns of a group must share a locale: a place is one city).
    fn place(&self) -> Option<(&str, Locale)> {
        None
    }

    /// Whether it makes NULL for some rows whatever its parameters (a
    /// lifecycle's time of a state the row may never enter).
    fn may_be_null(&self) -> bool {
        false
    }

    /// Whether a NULL its expressions give makes its value NULL (as a NULL
    /// bound does); not so for a lifecycle's state, which reads its time
    /// but is never NULL.
    fn null_from_exprs(&self) -> bool {
        true
    }

    /// The sampler for a run.
    fn compile(&self, cx: &Compile<'_>) -> Box<dyn Sample>;
}

/// A compiled generator: makes a value for the row of a context.
pub trait Sample: fmt::Debug + Send + Sync {
    /// The value of the row of `ctx`, drawn from stream `key` (the column's
    /// values stream, or a stream derived from it for nested items).
    fn value(&self, key: u64, ctx: &mut SourceContext<'_>) -> Value;
}

/// The key of any row, computed from its index alone (see [`Spec::row_key`]).
pub trait RowKey: fmt::Debug + Send + Sync {
    /// The value of row `row`.
    fn at(&self, row: u64) -> Value;
}

/// How a generator keeps `unique = true`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uniqueness {
    /// Its values may repeat: `unique` and `primary_key` are refused.
    Repeats,
    /// It never repeats a value.
    Always,
    /// It never repeats a value, but it is not a key of its row: `unique`
    /// is accepted, `primary_key` is not (e-mail addresses).
    UniqueOnly,
    /// With `unique`, its values are a keyed permutation of a space: a
    /// table with more rows than the space holds values is refused before
    /// anything is written.
    Space {
        /// Values in the space.
        values: u128,
        /// What the space is, for the refusal ("range", "network").
        of: &'static str,
        /// How to make room: the hint of the refusal ("widen `cidr` or
        /// lower the row count").
        help: &'static str,
    },
}

/// A generator as a column (or a case, or a field) uses it: the spec, and
/// the earlier columns of the row it reads, resolved to their indices.
#[derive(Debug, Clone)]
pub struct Generator {
    /// The name it was given (`gen = "…"`).
    pub name: &'static str,
    /// The validated parameters.
    pub spec: Arc<dyn Spec>,
    /// Indices of the earlier columns it reads, in the order of
    /// [`Params::read_column`] calls.
    pub reads: Vec<usize>,
    /// The expressions its parameters hold, in the order of
    /// [`Params::expr`] calls, checked against the row's earlier columns.
    pub exprs: Vec<Expr>,
}

/// A field of an `object`, or the item of an `array`: a nested column spec
/// made with `gen`.
#[derive(Debug, Clone)]
pub struct Field {
    /// The key in the JSON object.
    pub name: String,
    /// How values are made.
    pub gen: Generator,
    /// Share of JSON nulls.
    pub null_rate: f64,
}

/// An earlier column a generator names (`from`, `of`), to be resolved once
/// every column is known.
#[derive(Debug, Clone)]
pub struct Read {
    /// The key that names it.
    pub key: &'static str,
    /// The column's name.
    pub column: String,
    /// Where the name is written.
    pub span: Range<usize>,
    /// A hint when no earlier column has a close name.
    pub help: &'static str,
}

/// A parameter that holds an expression of the row's earlier columns
/// (`min = "parent.signed_up"`), to be parsed once every column is known.
#[derive(Debug, Clone)]
pub struct ParamExpr {
    /// The key that holds it.
    pub key: &'static str,
    /// The expression.
    pub src: String,
    /// Where it is written (the quoted string).
    pub span: Range<usize>,
    /// The types it may have.
    pub want: &'static [Ty],
}

/// Parses a nested column spec: `(params, name, spec, span)`.
pub type FieldParser = fn(&mut Params<'_, '_>, &str, &TomlValue, Range<usize>) -> Option<Field>;

/// What a generator's parser reads from: the column's keys, with the
/// context every spec may need, collecting problems as it goes.
pub struct Params<'p, 'a> {
    keys: &'p mut Keys<'a>,
    d: &'p mut Vec<Diagnostic>,
    what: &'p str,
    span: Range<usize>,
    locale: Locale,
    dictionaries: &'p [Dictionary],
    reads: Vec<Read>,
    exprs: Vec<ParamExpr>,
    field: FieldParser,
}

impl<'p, 'a> Params<'p, 'a> {
    /// Params over `keys`; problems go to `d`, named after `what`
    /// ("column `t.c`"); `span` locates problems that have no key of
    /// their own.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        keys: &'p mut Keys<'a>,
        d: &'p mut Vec<Diagnostic>,
        what: &'p str,
        span: Range<usize>,
        locale: Locale,
        dictionaries: &'p [Dictionary],
        field: FieldParser,
    ) -> Self {
        Params {
            keys,
            d,
            what,
            span,
            locale,
            dictionaries,
            reads: Vec::new(),
            exprs: Vec::new(),
            field,
        }
    }

    /// How messages name what is being read: "column `t.c`".
    pub fn what(&self) -> &'p str {
        self.what
    }

    /// Where the generator is named.
    pub fn span(&self) -> Range<usize> {
        self.span.clone()
    }

    /// The column's locale.
    pub fn locale(&self) -> Locale {
        self.locale
    }

    /// The user dictionaries, in index order.
    pub fn dictionaries(&self) -> &'p [Dictionary] {
        self.dictionaries
    }

    /// Reports a problem.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.d.push(diagnostic);
    }

    /// Reports `message` about this column at `span`, with a hint.
    pub fn problem(&mut self, span: Range<usize>, message: impl fmt::Display, help: Option<&str>) {
        let mut diag = Diagnostic::new(span, format!("{}: {message}", self.what));
        diag.help = help.map(str::to_owned);
        self.d.push(diag);
    }

    /// The value of `key`, marked as used.
    pub fn get(&mut self, key: &str) -> Option<&'a serde_spanned::Spanned<TomlValue>> {
        self.keys.get(key)
    }

    /// Reports that `key` holds `v`, not `expected`.
    pub fn wrong_type(&mut self, key: &str, v: &serde_spanned::Spanned<TomlValue>, expected: &str) {
        self.keys.wrong_type(self.d, key, v, expected);
    }

    /// `key` as an integer.
    pub fn int(&mut self, key: &str) -> Option<(i64, Range<usize>)> {
        self.keys.int(self.d, key)
    }

    /// `key` as a number.
    pub fn float(&mut self, key: &str) -> Option<(f64, Range<usize>)> {
        self.keys.float(self.d, key)
    }

    /// `key` as a boolean.
    pub fn bool(&mut self, key: &str) -> Option<bool> {
        self.keys.bool(self.d, key)
    }

    /// `key` as a string.
    pub fn string(&mut self, key: &str) -> Option<(&'a str, Range<usize>)> {
        self.keys.string(self.d, key)
    }

    /// `v`, or a "missing `key`" problem (with `example` as the hint) when
    /// the key is absent.
    pub fn require<T>(&mut self, key: &str, v: Option<T>, example: &str) -> Option<T> {
        self.keys.require(self.d, &self.span, key, v, example)
    }

    /// Reports `min` greater than `max` at `span`.
    pub fn range_error(
        &mut self,
        span: Range<usize>,
        min: &dyn fmt::Display,
        max: &dyn fmt::Display,
    ) {
        self.problem(
            span,
            format!("min ({min}) is greater than max ({max})"),
            Some("swap `min` and `max`"),
        );
    }

    /// `dist`, uniform when absent or wrong (a wrong one is reported).
    pub fn dist(&mut self) -> dist::Dist {
        let what = self.what;
        match self.keys.get("dist") {
            Some(v) => dist::dist(self.d, what, v).unwrap_or(dist::Dist::Uniform),
            None => dist::Dist::Uniform,
        }
    }

    /// `key = [min, max]` (or a single number) for lengths and counts, at
    /// most [`MAX_LEN`], `default` when absent or wrong.
    pub fn len_pair(&mut self, key: &str, default: (u32, u32)) -> (u32, u32) {
        match self.keys.get(key) {
            Some(v) => match v.get_ref() {
                TomlValue::Array(a) => match a.as_slice() {
                    [TomlValue::Integer(lo), TomlValue::Integer(hi)]
                        if 0 <= *lo && lo <= hi && *hi <= MAX_LEN =>
                    {
                        (*lo as u32, *hi as u32)
                    }
                    items => {
                        let problem = match items {
                            [TomlValue::Integer(lo), TomlValue::Integer(hi)] if lo > hi => {
                                format!("`{key}` has min {lo} greater than max {hi}")
                            }
                            [TomlValue::Integer(lo), TomlValue::Integer(hi)] => format!(
                                "`{key}` must be [min, max] between 0 and {MAX_LEN}, found [{lo}, {hi}]"
                            ),
                            _ => format!("`{key}` must be [min, max]: two whole numbers"),
                        };
                        self.problem(
                            v.span(),
                            problem,
                            Some(&format!("e.g. `{key} = [{}, {}]`", default.0, default.1)),
                        );
                        default
                    }
                },
                TomlValue::Integer(n) if (0..=MAX_LEN).contains(n) => (*n as u32, *n as u32),
                TomlValue::Integer(n) => {
                    self.problem(
                        v.span(),
                        format!("`{key}` must be between 0 and {MAX_LEN}, found {n}"),
                        Some(&format!("e.g. `{key} = [{}, {}]`", default.0, default.1)),
                    );
                    default
                }
                _ => {
                    self.wrong_type(key, v, "[min, max]");
                    default
                }
            },
            None => default,
        }
    }

    /// Records that the generator reads the earlier column named by `key`
    /// (`from = "name"`); `help` is the hint when no column is close. The
    /// compiled generator finds it at the same position in
    /// [`Compile::reads`]. Returns whether the key is present.
    pub fn read_column(&mut self, key: &'static str, help: &'static str) -> bool {
        match self.string(key) {
            Some((column, span)) => {
                self.reads.push(Read {
                    key,
                    column: column.to_owned(),
                    span,
                    help,
                });
                true
            }
            None => false,
        }
    }

    /// The earlier columns named so far.
    pub(crate) fn take_reads(&mut self) -> Vec<Read> {
        std::mem::take(&mut self.reads)
    }

    /// Records that parameter `key` holds expression `src` (written at
    /// `span`), whose type must be one of `want`; the compiled generator
    /// finds it, checked, at the returned position of [`Compile::exprs`].
    pub fn expr(
        &mut self,
        key: &'static str,
        src: &str,
        span: Range<usize>,
        want: &'static [Ty],
    ) -> usize {
        self.exprs.push(ParamExpr {
            key,
            src: src.to_owned(),
            span,
            want,
        });
        self.exprs.len() - 1
    }

    /// The parameter expressions recorded so far.
    pub(crate) fn take_exprs(&mut self) -> Vec<ParamExpr> {
        std::mem::take(&mut self.exprs)
    }

    /// Parses a nested column spec (an object's field, an array's item)
    /// named `name`, located at `span`.
    pub fn field(&mut self, name: &str, spec: &TomlValue, span: Range<usize>) -> Option<Field> {
        (self.field)(self, name, spec, span)
    }

    /// Params for a nested spec over `keys`, named `what`.
    pub(crate) fn nested<'q, 'b>(
        &'q mut self,
        keys: &'q mut Keys<'b>,
        what: &'q str,
        span: Range<usize>,
    ) -> Params<'q, 'b> {
        Params {
            keys,
            d: self.d,
            what,
            span,
            locale: self.locale,
            dictionaries: self.dictionaries,
            reads: Vec::new(),
            exprs: Vec::new(),
            field: self.field,
        }
    }

    /// Reports every key of the spec nobody read, against `allowed`.
    pub(crate) fn report_unknown(&mut self, allowed: &[&str]) {
        self.keys.report_unknown(self.d, allowed);
    }
}

/// What compiling a spec for a run may use.
#[derive(Debug, Clone)]
pub struct Compile<'a> {
    /// The run's seed.
    pub seed: u64,
    /// The table's name.
    pub table: &'a str,
    /// The stream's name: the column's, or one derived from it for nested
    /// specs (`profile.language`, `tags[]`, `document#case1`).
    pub stream: String,
    /// The column is `unique` (or a primary key), or a member of a
    /// table-level `unique` group that numbers it.
    pub unique: bool,
    /// How a unique value finds its number: alone, or as a group member.
    pub numbering: unique::Numbering,
    /// Indices of the earlier columns the generator reads.
    pub reads: &'a [usize],
    /// The expressions its parameters hold, checked.
    pub exprs: &'a [Expr],
    /// The logical types of the table's columns.
    pub types: &'a [SqlType],
    /// The user dictionaries.
    pub dictionaries: &'a [Dictionary],
    /// The stream's event clock (`gen = "event_time"`).
    pub clock: crate::clock::Clock,
    /// The stream's late events, if any.
    pub late: Option<crate::clock::Late>,
}

impl<'a> Compile<'a> {
    /// The key of this stream for `purpose`.
    pub fn key(&self, purpose: Purpose) -> u64 {
        stream_key(self.seed, self.table, &self.stream, purpose)
    }

    /// The context of a nested spec with its own stream: not unique, and
    /// reading no column.
    pub fn nested(&self, stream: String) -> Compile<'a> {
        Compile {
            stream,
            unique: false,
            numbering: unique::Numbering::Own,
            reads: &[],
            exprs: &[],
            ..self.clone()
        }
    }
}
