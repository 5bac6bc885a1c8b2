//! What validation builds before every table is known: tables, columns
//! and cases with the names they give still unresolved.

use std::ops::Range;

use serde_spanned::Spanned;

use crate::generators::dist::Count;
use crate::generators::{ParamExpr, Read};
use crate::schema::{AggFunc, Column, Gen};
use crate::value::SqlType;

/// A table read, its names not resolved yet.
pub(super) struct TableDraft {
    pub(super) name: String,
    pub(super) span: Range<usize>,
    pub(super) size: Option<DraftSize>,
    pub(super) columns: Vec<Draft>,
    /// Columns whose spec has a problem (reported): a name that refers to
    /// one is not reported again.
    pub(super) failed: Vec<String>,
    /// `unique = [...]`: each group's column names, where written.
    pub(super) unique: Vec<Spanned<Vec<Spanned<String>>>>,
    /// For a lifecycle's history table: the lifecycle (its rows per parent
    /// row are the states the parent row enters).
    pub(super) history: Option<std::sync::Arc<crate::generators::lifecycle::Lifecycle>>,
    /// For a lifecycle's changes table: the table whose changes it holds.
    pub(super) changes: Option<String>,
}

/// A table's row count, its parent not resolved yet.
pub(super) enum DraftSize {
    Rows(u64),
    Per {
        parent: String,
        span: Range<usize>,
        count: Count,
    },
}

/// A name to resolve once every table is known.
#[derive(Debug)]
pub(super) enum Link {
    Ref {
        target: String,
        span: Range<usize>,
    },
    Parent {
        column: String,
        span: Range<usize>,
    },
    /// Earlier columns a catalogue generator reads (`from`, `of`), and
    /// expressions its parameters hold (`min = "parent.signed_up"`).
    Reads(Vec<Read>, Vec<ParamExpr>),
    Expr {
        src: String,
        span: Range<usize>,
    },
    Lookup {
        target: String,
        via: String,
        span: Range<usize>,
        via_span: Range<usize>,
    },
    Agg {
        func: AggFunc,
        child: String,
        column: Option<String>,
        span: Range<usize>,
    },
    Cases(Vec<CaseDraft>),
}

/// One branch of `cases`, before resolution.
#[derive(Debug)]
pub(super) struct CaseDraft {
    /// Where the case is written (the `cases` array: TOML keeps no finer span).
    pub(super) span: Range<usize>,
    pub(super) when: Option<(String, Range<usize>)>,
    pub(super) gen: Gen,
    pub(super) sql_type: SqlType,
    pub(super) link: Option<Link>,
}

/// A column read, with the names it gives.
pub(super) struct Draft {
    pub(super) column: Column,
    pub(super) link: Option<Link>,
    pub(super) when: Option<(String, Range<usize>)>,
}
