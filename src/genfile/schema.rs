//! The validated schema: what the rest of datagen works from.
//!
//! Every name is resolved to an index, every range checked, every default
//! filled in. Tables are in dependency order: a table comes after its
//! `per` parent and after every table it references.

use std::path::PathBuf;

use super::expr::{Expr, Ty};

/// A validated Genfile.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    /// Where the Genfile was read from (for messages and relative paths).
    pub path: PathBuf,
    /// SHA-256 of the Genfile's bytes: part of a run's fingerprint.
    pub digest: [u8; 32],
    /// `[run] seed`.
    pub seed: u64,
    /// `[run] locale`.
    pub locale: Locale,
    /// `[pipeline]`.
    pub pipeline: PipelineSettings,
    /// `[target]`.
    pub target: TargetSettings,
    /// The tables, parents and referenced tables first.
    pub tables: Vec<Table>,
    /// `[dictionaries.NAME]`, in file order.
    pub dictionaries: Vec<Dictionary>,
}

/// A user dictionary.
#[derive(Debug, Clone, PartialEq)]
pub struct Dictionary {
    /// Its name.
    pub name: String,
    /// The values.
    pub values: Vec<String>,
    /// Relative weights, one per value.
    pub weights: Option<Vec<f64>>,
}

/// A built-in list that `dict = "NAME"` can draw from (in the run's locale).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// Given names.
    FirstNames,
    /// Family names.
    LastNames,
    /// Cities.
    Cities,
    /// States or provinces.
    States,
    /// State abbreviations.
    StateAbbrs,
    /// Country names.
    Countries,
    /// Store departments.
    Departments,
    /// Filler words.
    Words,
}

/// The names of the built-in dictionaries.
pub const BUILTIN_DICTIONARIES: &[(&str, Builtin)] = &[
    ("first_names", Builtin::FirstNames),
    ("last_names", Builtin::LastNames),
    ("cities", Builtin::Cities),
    ("states", Builtin::States),
    ("state_abbrs", Builtin::StateAbbrs),
    ("countries", Builtin::Countries),
    ("departments", Builtin::Departments),
    ("words", Builtin::Words),
];

/// Where `dict` draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DictSource {
    /// A built-in list in a locale.
    Builtin(Builtin, Locale),
    /// `[dictionaries.NAME]`, by index.
    User(usize),
}

/// A locale-aware domain generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    /// `internet.domain`
    InternetDomain,
    /// `phone`
    Phone,
    /// `address.street`
    Street,
    /// `address.city`
    City,
    /// `address.state`
    State,
    /// `address.zip`
    Zip,
    /// `address.country`
    Country,
    /// `company.name`
    Company,
    /// `commerce.product_name`
    ProductName,
    /// `commerce.department`
    Department,
}

impl Gen {
    /// How many distinct values an `int`, `date` or `timestamp` column's
    /// range holds (integers, days or seconds); `None` for other generators.
    pub fn range_size(&self) -> Option<u128> {
        match *self {
            Gen::Int { min, max, .. } | Gen::Timestamp { min, max, .. } => {
                Some((i128::from(max) - i128::from(min) + 1) as u128)
            }
            Gen::Date { min, max, .. } => Some((i64::from(max) - i64::from(min) + 1) as u128),
            _ => None,
        }
    }
}

/// A field of an `object` (or the item of an `array`).
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The key in the JSON object.
    pub name: String,
    /// How values are made.
    pub gen: Gen,
    /// Share of JSON nulls.
    pub null_rate: f64,
    /// The type of the values (JSON for nested documents).
    pub sql_type: SqlType,
}

impl Schema {
    /// The index of the table called `name`.
    pub fn table_index(&self, name: &str) -> Option<usize> {
        self.tables.iter().position(|t| t.name == name)
    }
}

/// Locale of the built-in dictionaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Locale {
    /// English (United States).
    #[default]
    EnUs,
    /// Portuguese (Brazil).
    PtBr,
}

impl Locale {
    /// Parses `en_US` / `pt_BR`.
    pub fn parse(s: &str) -> Option<Locale> {
        match s {
            "en_US" => Some(Locale::EnUs),
            "pt_BR" => Some(Locale::PtBr),
            _ => None,
        }
    }
}

/// `[pipeline]`: sizes that never change the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PipelineSettings {
    /// Buffer capacity in rows; `None` derives it from available memory.
    pub buffer_rows: Option<usize>,
    /// Rows per Target batch.
    pub batch_rows: usize,
    /// Generator threads; 0 = one per core.
    pub workers: usize,
    /// Restarts allowed within `restart_window_s` (default 3).
    pub max_restarts: u32,
    /// Seconds restarts are counted over (default 60).
    pub restart_window_s: u64,
    /// First pause before a restart, in milliseconds (default 100; doubles).
    pub backoff_ms: u64,
}

impl Default for PipelineSettings {
    fn default() -> Self {
        PipelineSettings {
            buffer_rows: None,
            batch_rows: 10_000,
            workers: 0,
            max_restarts: 3,
            restart_window_s: 60,
            backoff_ms: 100,
        }
    }
}

/// What to do when a table to be written already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IfExists {
    /// Stop with an error naming the table.
    #[default]
    Fail,
    /// Keep the table, delete its rows.
    Truncate,
    /// Keep the table and its rows; add ours.
    Append,
    /// Drop the table and create it anew.
    Replace,
}

impl IfExists {
    /// Parses the Genfile spelling.
    pub fn parse(s: &str) -> Option<IfExists> {
        match s {
            "fail" => Some(IfExists::Fail),
            "truncate" => Some(IfExists::Truncate),
            "append" => Some(IfExists::Append),
            "replace" => Some(IfExists::Replace),
            _ => None,
        }
    }

    /// The Genfile spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            IfExists::Fail => "fail",
            IfExists::Truncate => "truncate",
            IfExists::Append => "append",
            IfExists::Replace => "replace",
        }
    }
}

/// When a database target adds primary keys, unique constraints and
/// foreign keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Constraints {
    /// After all rows are in: one index build per key instead of an update
    /// per row, the fastest way to load.
    #[default]
    After,
    /// With the tables, checked as rows arrive.
    During,
}

impl Constraints {
    /// Parses the Genfile spelling.
    pub fn parse(s: &str) -> Option<Constraints> {
        match s {
            "after" => Some(Constraints::After),
            "during" => Some(Constraints::During),
            _ => None,
        }
    }

    /// The Genfile spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Constraints::After => "after",
            Constraints::During => "during",
        }
    }
}

/// `[target]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TargetSettings {
    /// `url`, if the Genfile gives one.
    pub url: Option<String>,
    /// `if_exists`.
    pub if_exists: IfExists,
    /// `commit_rows`: rows per PostgreSQL transaction, if set.
    pub commit_rows: Option<u64>,
    /// `connections`: PostgreSQL connections loading at once (0 = automatic).
    pub connections: usize,
    /// `constraints`.
    pub constraints: Constraints,
}

/// One table.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Name as written.
    pub name: String,
    /// How many rows.
    pub size: TableSize,
    /// Columns in file order.
    pub columns: Vec<Column>,
    /// Tables with `per` this table, in schema order.
    pub children: Vec<usize>,
}

impl Table {
    /// The index of the column called `name`.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// The primary key columns.
    pub fn primary_key(&self) -> impl Iterator<Item = &Column> {
        self.columns.iter().filter(|c| c.primary_key)
    }
}

/// How many rows a table has.
#[derive(Debug, Clone, PartialEq)]
pub enum TableSize {
    /// A fixed count (multiplied by `--scale`).
    Rows(u64),
    /// `count` rows for each row of `parent`.
    Per {
        /// Index of the parent table.
        parent: usize,
        /// Children per parent row.
        count: Count,
    },
}

/// Children per parent row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Count {
    /// Always `n`.
    Fixed(u64),
    /// Uniform in `min..=max`.
    Uniform {
        /// Smallest count.
        min: u64,
        /// Largest count.
        max: u64,
    },
    /// Poisson with mean `lambda`.
    Poisson {
        /// Mean.
        lambda: f64,
    },
    /// Normal, rounded, never below zero.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        std: f64,
    },
    /// Log-normal, rounded.
    LogNormal {
        /// Mean of the logarithm.
        mu: f64,
        /// Standard deviation of the logarithm.
        sigma: f64,
    },
    /// Exponential with rate `lambda`, rounded down.
    Exponential {
        /// Rate.
        lambda: f64,
    },
    /// Zipf over `1..=max`: mostly one child, a few parents with many.
    Zipf {
        /// Exponent.
        s: f64,
        /// Most children.
        max: u64,
    },
}

/// A numeric distribution over `[min, max]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dist {
    /// Every value equally likely.
    Uniform,
    /// Normal, truncated to the range.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        std: f64,
    },
    /// Log-normal, truncated to the range.
    LogNormal {
        /// Mean of the logarithm.
        mu: f64,
        /// Standard deviation of the logarithm.
        sigma: f64,
    },
    /// Exponential from `min`, truncated to the range.
    Exponential {
        /// Rate.
        lambda: f64,
    },
    /// Poisson with mean `lambda`, truncated to the range.
    Poisson {
        /// Mean.
        lambda: f64,
    },
    /// Zipf over the values in order: the first is the most frequent.
    Zipf {
        /// Exponent.
        s: f64,
    },
}

/// One column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Name as written.
    pub name: String,
    /// How values are made.
    pub gen: Gen,
    /// Share of NULLs, 0..=1.
    pub null_rate: f64,
    /// Part of the primary key.
    pub primary_key: bool,
    /// Declared UNIQUE.
    pub unique: bool,
    /// The SQL type, derived from the generator or given with `type`.
    pub sql_type: SqlType,
    /// `type` as written, when given.
    pub type_override: Option<String>,
    /// `doc`.
    pub doc: Option<String>,
    /// `when`: the value is NULL where this is false.
    pub when: Option<Expr>,
    /// Computed after the row's children (an `agg`, or depends on one).
    pub late: bool,
    /// Whether the column can hold NULL.
    pub nullable: bool,
}

impl SqlType {
    /// How expressions see a column of this type.
    pub fn ty(self) -> Ty {
        match self {
            SqlType::Integer | SqlType::BigInt => Ty::Int,
            SqlType::Double => Ty::Float,
            SqlType::Decimal { scale, .. } => Ty::Decimal(scale),
            SqlType::Boolean => Ty::Bool,
            SqlType::Text | SqlType::Uuid | SqlType::Json => Ty::Text,
            SqlType::Date => Ty::Date,
            SqlType::Timestamp => Ty::Timestamp,
        }
    }

    /// Digits after the point of a decimal; 0 for every other type.
    pub fn scale(self) -> u8 {
        match self {
            SqlType::Decimal { scale, .. } => scale,
            _ => 0,
        }
    }

    /// The column type for values of expression type `ty`.
    pub fn of(ty: Ty) -> SqlType {
        match ty {
            Ty::Int => SqlType::BigInt,
            Ty::Float => SqlType::Double,
            Ty::Decimal(scale) => SqlType::Decimal {
                precision: 18,
                scale,
            },
            Ty::Bool => SqlType::Boolean,
            Ty::Text | Ty::Null => SqlType::Text,
            Ty::Date => SqlType::Date,
            Ty::Timestamp => SqlType::Timestamp,
        }
    }
}

/// What an `agg` column computes over the children of its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggFunc {
    /// Sum of the non-NULL values (0 when there are none).
    Sum,
    /// Number of children.
    Count,
    /// Smallest non-NULL value.
    Min,
    /// Largest non-NULL value.
    Max,
    /// Mean of the non-NULL values.
    Avg,
}

impl AggFunc {
    /// Parses the Genfile spelling.
    pub fn parse(s: &str) -> Option<AggFunc> {
        match s {
            "sum" => Some(AggFunc::Sum),
            "count" => Some(AggFunc::Count),
            "min" => Some(AggFunc::Min),
            "max" => Some(AggFunc::Max),
            "avg" => Some(AggFunc::Avg),
            _ => None,
        }
    }
}

/// One branch of `cases`.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// The condition; `None` matches every row.
    pub when: Option<Expr>,
    /// How values are made where it matches.
    pub gen: Gen,
}

/// The logical type of a column, mapped to each target's own types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlType {
    /// 32-bit integer.
    Integer,
    /// 64-bit integer.
    BigInt,
    /// Double precision.
    Double,
    /// `numeric(precision, scale)`.
    Decimal {
        /// Total digits.
        precision: u8,
        /// Digits after the point.
        scale: u8,
    },
    /// Boolean.
    Boolean,
    /// Text.
    Text,
    /// UUID.
    Uuid,
    /// Calendar date.
    Date,
    /// Timestamp with time zone.
    Timestamp,
    /// A JSON document.
    Json,
}

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

/// A literal in `choice`.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// Text.
    Text(String),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
}

/// Which built-in dictionary a domain generator draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonPart {
    /// Given name.
    First,
    /// Family name.
    Last,
    /// Given and family name.
    Full,
}

/// How a column's values are generated.
#[derive(Debug, Clone, PartialEq)]
pub enum Gen {
    /// `start + row × step`.
    Sequence {
        /// First value.
        start: i64,
        /// Increment.
        step: i64,
    },
    /// Integers in `[min, max]`.
    Int {
        /// Smallest value.
        min: i64,
        /// Largest value.
        max: i64,
        /// Distribution.
        dist: Dist,
    },
    /// Doubles in `[min, max]`, optionally rounded.
    Float {
        /// Smallest value.
        min: f64,
        /// Largest value.
        max: f64,
        /// Distribution.
        dist: Dist,
        /// Digits after the point.
        precision: Option<u8>,
    },
    /// Decimals in `[min, max]` as scaled integers.
    Decimal {
        /// Smallest value, in units of `10^-scale`.
        min: i64,
        /// Largest value, in units of `10^-scale`.
        max: i64,
        /// Digits after the point.
        scale: u8,
        /// Distribution.
        dist: Dist,
    },
    /// `true` with probability `p`.
    Bool {
        /// Probability of true.
        p: f64,
    },
    /// Random strings.
    String {
        /// Shortest length.
        min_len: u32,
        /// Longest length.
        max_len: u32,
        /// Alphabet.
        charset: Charset,
    },
    /// Strings following a pattern.
    Pattern(Vec<PatternPart>),
    /// Random UUIDs (version 4).
    Uuid,
    /// Time-ordered UUIDs (version 7) with a timestamp in `[min, max]` (ms).
    UuidV7 {
        /// Earliest millisecond since the epoch.
        min: i64,
        /// Latest millisecond since the epoch.
        max: i64,
    },
    /// A hex digest of an earlier column's text, or of random bytes.
    Hash {
        /// SHA-256 (else MD5).
        sha256: bool,
        /// The column hashed.
        of: Option<usize>,
    },
    /// A word from a dictionary.
    Dict {
        /// Which dictionary.
        source: DictSource,
        /// How the index is picked (user weights win).
        dist: Dist,
    },
    /// Filler text.
    Lorem {
        /// Fewest words.
        min: u32,
        /// Most words.
        max: u32,
        /// Locale of the words.
        locale: Locale,
    },
    /// A domain generator.
    Domain {
        /// Which.
        kind: Domain,
        /// Locale of its dictionaries.
        locale: Locale,
    },
    /// A Brazilian CPF (or CNPJ) with valid check digits.
    BrDoc {
        /// CNPJ rather than CPF.
        cnpj: bool,
        /// With the usual punctuation.
        formatted: bool,
    },
    /// A JSON object.
    Object(Vec<Field>),
    /// A JSON array of `min..=max` items.
    Array {
        /// Fewest items.
        min: u32,
        /// Most items.
        max: u32,
        /// How items are made.
        item: Box<Field>,
    },
    /// Dates in `[min, max]` (days since the epoch).
    Date {
        /// First day.
        min: i32,
        /// Last day.
        max: i32,
        /// Distribution.
        dist: Dist,
    },
    /// Timestamps in `[min, max]` (seconds since the epoch).
    Timestamp {
        /// Earliest second.
        min: i64,
        /// Latest second.
        max: i64,
        /// Distribution.
        dist: Dist,
    },
    /// One of `values`, optionally weighted.
    Choice {
        /// The values, all of one type.
        values: Vec<Literal>,
        /// Relative weights, one per value.
        weights: Option<Vec<f64>>,
        /// How the index is picked when unweighted.
        dist: Dist,
    },
    /// A person's name from the locale's dictionaries.
    Person {
        /// Which part.
        part: PersonPart,
        /// Locale of the dictionary.
        locale: Locale,
    },
    /// An e-mail address, built from a name column when `from` is given.
    Email {
        /// Index of an earlier column of the same row holding a name.
        from: Option<usize>,
        /// Locale for the name when `from` is absent.
        locale: Locale,
        /// Make every address distinct.
        unique: bool,
    },
    /// A key of another table's row.
    Ref {
        /// Referenced table.
        table: usize,
        /// Referenced column (a sequence or uuid, primary key or unique).
        column: usize,
        /// How the referenced row is picked.
        dist: Dist,
    },
    /// A column of the parent row (tables with `per`).
    Parent {
        /// Column index in the parent table.
        column: usize,
    },
    /// An expression over earlier columns and the parent row.
    Expr {
        /// The checked expression.
        expr: Expr,
        /// Decimal places to round to, when the result is a decimal.
        scale: Option<u8>,
    },
    /// A column of the row that a `ref` column of this row points at.
    Lookup {
        /// The `ref` column of this row.
        via: usize,
        /// The referenced table.
        table: usize,
        /// The column read there.
        column: usize,
    },
    /// A summary of this row's children.
    Agg {
        /// What to compute.
        func: AggFunc,
        /// The child table (a table with `per` this one).
        child: usize,
        /// The child column summarised.
        column: usize,
    },
    /// The first case whose condition holds.
    Cases(Vec<Case>),
}
