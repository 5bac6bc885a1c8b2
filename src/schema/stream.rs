//! `[stream]`: how `datagen stream` emits a Genfile's rows as a stream —
//! its rate, its length, its event clock, and which tables it emits.
//!
//! The section never changes a row's values: a stream's rows are the
//! batch run's, in the same order, with the event tables continuing past
//! their `rows` when the stream is longer. A Genfile without `[stream]`
//! streams with the defaults ([`StreamSpec::default_for`]).

use std::ops::Range;
use std::time::Duration;

use serde_spanned::Spanned;
use toml::Value as TomlValue;

use crate::clock::Clock;
use crate::diag::keys::{type_name, Keys};
use crate::diag::{nearest, Diagnostic};
use crate::schema::raw::StreamConfig;
use crate::schema::Table;

/// Rows per second the stream leaves at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rate {
    /// As fast as the target takes them.
    Max,
    /// This many rows per second, all tables together.
    PerSecond(f64),
}

/// Event time of the first event row when `[stream]` gives no `start`:
/// 2026-01-01T00:00:00Z.
pub const DEFAULT_START: i64 = 1_767_225_600_000_000;

/// Rows per second the event clock assumes when the rate is `"max"` and
/// no `nominal_rate` is given.
pub const DEFAULT_NOMINAL_RATE: f64 = 1_000.0;

/// How long the Target waits to fill a batch before it writes fewer rows,
/// by default.
pub const DEFAULT_LINGER: Duration = Duration::from_millis(100);

/// The most rows per second a stream may be given (beyond, use `"max"`).
pub const MAX_RATE: f64 = 1e9;

/// `[stream]`, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamSpec {
    /// `rate`: rows per second, or `"max"`.
    pub rate: Rate,
    /// `nominal_rate`: rows per second the event clock assumes (the rate,
    /// unless the rate is `"max"`).
    pub nominal_rate: f64,
    /// `speed`: seconds of event time per second of the stream.
    pub speed: f64,
    /// `start`: event time of the first event row, microseconds since
    /// the epoch.
    pub start: i64,
    /// `max_rows`: the stream ends once it has emitted this many rows of
    /// its event tables (not counting the tables they refer to), after
    /// the root row (with its children) that reaches the number.
    pub max_rows: Option<u64>,
    /// `duration`: the stream ends after this long.
    pub duration: Option<Duration>,
    /// `linger_ms`: how long the Target waits to fill a batch.
    pub linger: Duration,
    /// Per table, in schema order: whether its rows are emitted
    /// (`[stream.tables.NAME] emit = false` leaves them out).
    pub emit: Vec<bool>,
    /// `target`: where `datagen stream` writes unless `--target` (or
    /// `DATAGEN_TARGET`) says otherwise; the `[target]` url when absent.
    pub target: Option<String>,
    /// Where `[stream]` is written, if it is.
    pub span: Option<Range<usize>>,
}

impl StreamSpec {
    /// The defaults, for a schema of `tables` tables: as fast as the
    /// target takes rows, the event clock at 1,000 rows per second from
    /// 2026-01-01, every table emitted, no end but a signal.
    pub fn default_for(tables: usize) -> StreamSpec {
        StreamSpec {
            rate: Rate::Max,
            nominal_rate: DEFAULT_NOMINAL_RATE,
            speed: 1.0,
            start: DEFAULT_START,
            max_rows: None,
            duration: None,
            linger: DEFAULT_LINGER,
            emit: vec![true; tables],
            target: None,
            span: None,
        }
    }

    /// The event clock, for event rows that begin at position `base`.
    pub fn clock(&self, base: u64) -> Clock {
        Clock::new(self.start, self.nominal_rate, self.speed, base)
    }
}

/// The keys `[stream]` takes.
pub const KEYS: [&str; 9] = [
    "target",
    "rate",
    "nominal_rate",
    "speed",
    "start",
    "max_rows",
    "duration",
    "linger_ms",
    "tables",
];

/// Reads `[stream]` for `tables`, reporting every problem into `d`.
pub fn read(d: &mut Vec<Diagnostic>, raw: &StreamConfig, tables: &[Table]) -> StreamSpec {
    let mut spec = StreamSpec::default_for(tables.len());
    spec.span = Some(raw.span.clone());
    let mut keys = Keys::new(&raw.entries, "`[stream]`".into());
    let positive = |d: &mut Vec<Diagnostic>, key: &str, v: &Spanned<TomlValue>| -> Option<f64> {
        match v.get_ref() {
            TomlValue::Integer(i) if *i > 0 => Some(*i as f64),
            TomlValue::Float(f) if f.is_finite() && *f > 0.0 => Some(*f),
            TomlValue::Integer(_) | TomlValue::Float(_) => {
                d.push(
                    Diagnostic::new(v.span(), format!("`[stream]`: `{key}` must be above 0"))
                        .help(match key {
                            "speed" => "seconds of event time per second: 1 is real time, 3600 an hour a second",
                            _ => "rows per second, e.g. 5000",
                        }),
                );
                None
            }
            other => {
                d.push(Diagnostic::new(
                    v.span(),
                    format!(
                        "`[stream]`: `{key}` must be a number, found {}",
                        type_name(other)
                    ),
                ));
                None
            }
        }
    };
    if let Some(v) = keys.get("rate") {
        match v.get_ref() {
            TomlValue::String(s) if s == "max" => spec.rate = Rate::Max,
            TomlValue::String(s) => d.push(
                Diagnostic::new(v.span(), format!("`[stream]`: unknown `rate` \"{s}\""))
                    .help("give rows per second (`rate = 5000`) or \"max\" (as fast as the target takes them)"),
            ),
            _ => {
                if let Some(r) = positive(d, "rate", v) {
                    if r > MAX_RATE {
                        d.push(
                            Diagnostic::new(v.span(), format!("`[stream]`: `rate` {r} is beyond {MAX_RATE:e} rows per second"))
                                .help("write `rate = \"max\"` to go as fast as the target takes rows"),
                        );
                    } else {
                        spec.rate = Rate::PerSecond(r);
                        spec.nominal_rate = r;
                    }
                }
            }
        }
    }
    if let Some(v) = keys.get("nominal_rate") {
        if let Some(r) = positive(d, "nominal_rate", v) {
            spec.nominal_rate = r;
        }
    }
    if let Some(v) = keys.get("speed") {
        if let Some(s) = positive(d, "speed", v) {
            spec.speed = s;
        }
    }
    if let Some(v) = keys.get("start") {
        match crate::generators::temporal::parse_timestamp(v.get_ref()) {
            Some(seconds) => spec.start = seconds.saturating_mul(1_000_000),
            None => d.push(
                Diagnostic::new(v.span(), "`[stream]`: `start` is not a timestamp")
                    .help("write it as RFC 3339, e.g. `start = \"2025-07-01T00:00:00Z\"`"),
            ),
        }
    }
    if let Some((n, span)) = keys.int(d, "max_rows") {
        if n < 1 {
            d.push(Diagnostic::new(
                span,
                "`[stream]`: `max_rows` must be at least 1",
            ));
        } else {
            spec.max_rows = Some(n as u64);
        }
    }
    if let Some(v) = keys.get("duration") {
        match parse_duration(v.get_ref()) {
            Some(t) if !t.is_zero() => spec.duration = Some(t),
            _ => d.push(
                Diagnostic::new(v.span(), "`[stream]`: `duration` is not a length of time")
                    .help("write seconds (`duration = 90`) or a number and a unit: \"500ms\", \"90s\", \"15m\", \"2h\", \"1d\", or several (\"1h30m\")"),
            ),
        }
    }
    if let Some((n, span)) = keys.int(d, "linger_ms") {
        if !(1..=60_000).contains(&n) {
            d.push(
                Diagnostic::new(span, "`[stream]`: `linger_ms` must be from 1 to 60000")
                    .help("how long a batch may wait to fill before fewer rows are written; 100 by default"),
            );
        } else {
            spec.linger = Duration::from_millis(n as u64);
        }
    }
    if let Some((url, span)) = keys.string(d, "target") {
        match crate::url::Url::parse(url) {
            Ok(_) => spec.target = Some(url.to_owned()),
            Err(e) => d.push(
                Diagnostic::new(span, format!("`[stream]`: {e}"))
                    .help("a target URL, e.g. \"files://out/feed?format=jsonl\""),
            ),
        }
    }
    keys.get("tables");
    keys.report_unknown(d, &KEYS);
    let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    for (name, entries) in &raw.tables {
        let what = format!("`[stream.tables.{}]`", name.get_ref());
        let Some(t) = names.iter().position(|n| *n == name.get_ref()) else {
            let mut diag = Diagnostic::new(
                name.span(),
                format!("{what}: no table `{}`", name.get_ref()),
            );
            diag = match nearest(name.get_ref(), names.iter().copied()) {
                Some(n) => diag.help(format!("did you mean `{n}`?")),
                None => diag.help(format!("tables are: {}", names.join(", "))),
            };
            d.push(diag);
            continue;
        };
        let mut keys = Keys::new(entries.get_ref(), what);
        if let Some(emit) = keys.bool(d, "emit") {
            spec.emit[t] = emit;
        }
        keys.report_unknown(d, &["emit"]);
    }
    spec
}

/// A length of time: seconds as a number, or `"90s"`, `"15m"`, `"1h30m"`,
/// `"500ms"`, `"1d"`.
pub fn parse_duration(v: &TomlValue) -> Option<Duration> {
    match v {
        TomlValue::Integer(i) if *i >= 0 => Some(Duration::from_secs(*i as u64)),
        TomlValue::Float(f) if f.is_finite() && *f >= 0.0 && *f < 1e12 => {
            Some(Duration::from_secs_f64(*f))
        }
        TomlValue::String(s) => parse_duration_text(s),
        _ => None,
    }
}

fn parse_duration_text(text: &str) -> Option<Duration> {
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total = Duration::ZERO;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit() && c != '.')?;
        let number: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "ms" => number / 1000.0,
            "s" => number,
            "m" => number * 60.0,
            "h" => number * 3600.0,
            "d" => number * 86_400.0,
            _ => return None,
        };
        rest = &rest[unit_len..];
        if !seconds.is_finite() || seconds >= 1e12 {
            return None;
        }
        total += Duration::from_secs_f64(seconds);
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_with_units() {
        let s = |t: &str| parse_duration(&TomlValue::String(t.into()));
        assert_eq!(s("90s"), Some(Duration::from_secs(90)));
        assert_eq!(s("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(s("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(s("2d"), Some(Duration::from_secs(172_800)));
        assert_eq!(s("1.5m"), Some(Duration::from_secs(90)));
        assert_eq!(
            parse_duration(&TomlValue::Integer(30)),
            Some(Duration::from_secs(30))
        );
        for bad in ["", "10", "5 minutes", "h", "1x", "1e400s"] {
            assert_eq!(s(bad), None, "{bad}");
        }
    }
}
