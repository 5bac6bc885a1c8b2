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

use std::sync::Arc;

use crate::clock::{Clock, Delay, Late, Schedule, DAY};
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

/// The fewest rows per second a stream may be given: one every 1,000 s.
pub const MIN_RATE: f64 = 1e-3;

/// The most seconds of event time per second.
pub const MAX_SPEED: f64 = 1e7;

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
    /// The rate over the day, when `profile` or `bursts` make it vary:
    /// event times follow it, and so does the pace unless `rate` is
    /// `"max"` (or `--rate` says otherwise).
    pub schedule: Option<Arc<Schedule>>,
    /// The pace follows `schedule` (no `rate` given with it).
    pub paced_by_schedule: bool,
    /// `late`: the events that arrive late.
    pub late: Option<Late>,
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
            schedule: None,
            paced_by_schedule: false,
            late: None,
            target: None,
            span: None,
        }
    }

    /// The event clock, for event rows that begin at position `base`.
    pub fn clock(&self, base: u64) -> Clock {
        match &self.schedule {
            Some(schedule) => Clock::scheduled(self.start, schedule.clone(), base),
            None => Clock::new(self.start, self.nominal_rate, self.speed, base),
        }
    }
}

/// The keys `[stream]` takes.
pub const KEYS: [&str; 15] = [
    "target",
    "profile",
    "peak",
    "trough",
    "peak_at",
    "bursts",
    "late",
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
        let (min, max) = if key == "speed" {
            (1.0 / MAX_SPEED, MAX_SPEED)
        } else {
            (MIN_RATE, MAX_RATE)
        };
        match v.get_ref() {
            TomlValue::Integer(i) if *i > 0 && (*i as f64) <= max => Some(*i as f64),
            TomlValue::Float(f) if f.is_finite() && (min..=max).contains(f) => Some(*f),
            TomlValue::Integer(i) if *i > 0 => {
                d.push(Diagnostic::new(
                    v.span(),
                    format!("`[stream]`: `{key}` is at most {max:e}"),
                ));
                None
            }
            TomlValue::Float(f) if f.is_finite() && *f > 0.0 => {
                d.push(Diagnostic::new(
                    v.span(),
                    format!("`[stream]`: `{key}` must be from {min:e} to {max:e}"),
                ));
                None
            }
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
    // The URL is checked with the `[target]` keys, as the run's target.
    if let Some((url, _)) = keys.string(d, "target") {
        spec.target = Some(url.to_owned());
    }
    read_schedule(d, &mut keys, &mut spec);
    if let Some(v) = keys.get("late") {
        spec.late = read_late(d, v);
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

/// `profile`, `peak`, `trough`, `peak_at` and `bursts`: the rate over a
/// day, when it varies.
fn read_schedule(d: &mut Vec<Diagnostic>, keys: &mut Keys<'_>, spec: &mut StreamSpec) {
    let constant = match spec.rate {
        Rate::PerSecond(r) => r,
        Rate::Max => spec.nominal_rate,
    };
    let mut shape: Option<Box<dyn Fn(u32) -> f64>> = None;
    let mut span = None;
    if let Some(v) = keys.get("profile") {
        span = Some(v.span());
        match v.get_ref() {
            TomlValue::String(name) if name == "diurnal" => {
                let number = |d: &mut Vec<Diagnostic>, keys: &mut Keys<'_>, key: &str| match keys.get(key) {
                    Some(v) => match v.get_ref() {
                        TomlValue::Integer(i) if *i >= 0 => Some(*i as f64),
                        TomlValue::Float(f) if f.is_finite() && *f >= 0.0 => Some(*f),
                        _ => {
                            d.push(Diagnostic::new(v.span(), format!("`[stream]`: `{key}` must be rows per second, 0 or more")));
                            None
                        }
                    },
                    None => {
                        d.push(
                            Diagnostic::new(v.span(), format!("`[stream]`: a diurnal profile needs `{key}`"))
                                .help("e.g. `peak = 20000` and `trough = 2000` (rows per second)"),
                        );
                        None
                    }
                };
                let peak = number(d, keys, "peak");
                let trough = number(d, keys, "trough");
                let at = match keys.get("peak_at") {
                    Some(v) => time_of_day(v.get_ref()).or_else(|| {
                        d.push(Diagnostic::new(v.span(), "`[stream]`: `peak_at` is not a time of day").help("write it as \"HH:MM\", e.g. \"13:00\" (UTC)"));
                        None
                    }),
                    None => Some(13 * 3600),
                };
                if let (Some(peak), Some(trough), Some(at)) = (peak, trough, at) {
                    shape = Some(Box::new(move |s: u32| {
                        let phase = f64::from(s) - f64::from(at);
                        trough + (peak - trough) * (1.0 + (std::f64::consts::TAU * phase / f64::from(DAY)).cos()) / 2.0
                    }));
                }
            }
            TomlValue::Array(points) => match read_points(points) {
                Ok(points) => {
                    shape = Some(Box::new(move |s: u32| interpolate(&points, s)));
                }
                Err(message) => d.push(
                    Diagnostic::new(v.span(), format!("`[stream]`: `profile`: {message}"))
                        .help("write points as `[{ at = \"00:00\", rate = 1000 }, { at = \"09:00\", rate = 8000 }]`"),
                ),
            },
            _ => d.push(
                Diagnostic::new(v.span(), "`[stream]`: `profile` must be \"diurnal\" or a list of points")
                    .help("`profile = \"diurnal\"` with `peak` and `trough`, or `profile = [{ at = \"08:00\", rate = 5000 }, …]`"),
            ),
        }
        if matches!(spec.rate, Rate::PerSecond(_)) {
            d.push(
                Diagnostic::new(v.span(), "`[stream]`: give `rate` or `profile`, not both")
                    .help("the profile sets the rate over the day; `rate = \"max\"` keeps its event times but sends as fast as the target takes rows"),
            );
        }
    }
    let diurnal = keys
        .get("profile")
        .is_some_and(|v| v.get_ref().as_str() == Some("diurnal"));
    if !diurnal {
        for key in ["peak", "trough", "peak_at"] {
            if let Some(v) = keys.get(key) {
                d.push(Diagnostic::new(
                    v.span(),
                    format!("`[stream]`: `{key}` belongs to `profile = \"diurnal\"`"),
                ));
            }
        }
    }
    let mut bursts = Vec::new();
    if let Some(v) = keys.get("bursts") {
        span = span.or(Some(v.span()));
        match read_bursts(v.get_ref()) {
            Ok(b) => bursts = b,
            Err(message) => d.push(
                Diagnostic::new(v.span(), format!("`[stream]`: `bursts`: {message}"))
                    .help("e.g. `bursts = [{ every = \"1h\", for = \"5m\", factor = 4 }]`: `every` divides a day, `for` is shorter"),
            ),
        }
    }
    if span.is_none() || (shape.is_none() && bursts.is_empty()) {
        return;
    }
    let base = shape.unwrap_or_else(|| Box::new(move |_| constant));
    let rate = move |s: u32| {
        let factor: f64 = bursts
            .iter()
            .filter(|(every, length, _)| s % every < *length)
            .map(|(_, _, f)| f)
            .product();
        base(s) * factor
    };
    match Schedule::new(rate, spec.speed) {
        Some(schedule) => {
            spec.schedule = Some(Arc::new(schedule));
            spec.paced_by_schedule = !keys.has("rate") || matches!(spec.rate, Rate::PerSecond(_));
        }
        None => d.push(Diagnostic::new(
            span.expect("set above"),
            "`[stream]`: the rate is 0 all day: the stream would make no row",
        )),
    }
}

/// `"HH:MM"` or `"HH:MM:SS"`: seconds into the day.
fn time_of_day(v: &TomlValue) -> Option<u32> {
    let text = match v {
        TomlValue::String(s) => s.clone(),
        TomlValue::Datetime(dt) if dt.date.is_none() => dt.to_string(),
        _ => return None,
    };
    let parts: Vec<u32> = text
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let (h, m, s) = match parts[..] {
        [h, m] => (h, m, 0),
        [h, m, s] => (h, m, s),
        _ => return None,
    };
    (h < 24 && m < 60 && s < 60).then_some(h * 3600 + m * 60 + s)
}

/// `[{ at = "HH:MM", rate = N }, …]`, sorted by time.
fn read_points(points: &[TomlValue]) -> Result<Vec<(u32, f64)>, String> {
    let mut out = Vec::new();
    for p in points {
        let t = p
            .as_table()
            .ok_or("each point is `{ at = \"HH:MM\", rate = N }`")?;
        let at = t
            .get("at")
            .and_then(time_of_day)
            .ok_or("a point's `at` is a time of day, \"HH:MM\"")?;
        let rate = match t.get("rate") {
            Some(TomlValue::Integer(i)) if *i >= 0 => *i as f64,
            Some(TomlValue::Float(f)) if f.is_finite() && *f >= 0.0 => *f,
            _ => return Err("a point's `rate` is rows per second, 0 or more".into()),
        };
        if t.keys().any(|k| k != "at" && k != "rate") {
            return Err("a point has only `at` and `rate`".into());
        }
        out.push((at, rate));
    }
    if out.is_empty() {
        return Err("no points".into());
    }
    out.sort_by_key(|&(at, _)| at);
    if out.windows(2).any(|w| w[0].0 == w[1].0) {
        return Err("two points at the same time".into());
    }
    Ok(out)
}

/// The rate at second `s` between the points around it, the day wrapping.
fn interpolate(points: &[(u32, f64)], s: u32) -> f64 {
    let i = points.partition_point(|&(at, _)| at <= s);
    let (a, b) = match i {
        0 => (points[points.len() - 1], points[0]),
        i if i == points.len() => (points[i - 1], points[0]),
        i => (points[i - 1], points[i]),
    };
    let span = (b.0 + DAY - a.0) % DAY;
    if span == 0 {
        return a.1;
    }
    let into = (s + DAY - a.0) % DAY;
    a.1 + (b.1 - a.1) * f64::from(into) / f64::from(span)
}

/// `[{ every = "1h", for = "5m", factor = 4 }, …]`: `(every, for, factor)`
/// in seconds.
fn read_bursts(v: &TomlValue) -> Result<Vec<(u32, u32, f64)>, String> {
    let items = v.as_array().ok_or("a list of `{ every, for, factor }`")?;
    let mut out = Vec::new();
    for item in items {
        let t = item
            .as_table()
            .ok_or("each burst is `{ every, for, factor }`")?;
        let secs = |key: &str| {
            t.get(key)
                .and_then(parse_duration)
                .map(|d| d.as_secs())
                .filter(|&s| s > 0 && s <= u64::from(DAY))
                .map(|s| s as u32)
                .ok_or(format!("`{key}` is a length of time, up to a day"))
        };
        let (every, length) = (secs("every")?, secs("for")?);
        if !DAY.is_multiple_of(every) || length >= every {
            return Err("`every` must divide a day and `for` be shorter than it".into());
        }
        let factor = match t.get("factor") {
            Some(TomlValue::Integer(i)) if *i >= 0 => *i as f64,
            Some(TomlValue::Float(f)) if f.is_finite() && *f >= 0.0 => *f,
            _ => return Err("`factor` multiplies the rate: a number, 0 or more".into()),
        };
        out.push((every, length, factor));
    }
    Ok(out)
}

/// `late = { rate = 0.01, delay = "30s" | { exponential = "30s" } |
/// { uniform = ["1s", "5m"] } }`.
fn read_late(d: &mut Vec<Diagnostic>, v: &Spanned<TomlValue>) -> Option<Late> {
    let problem = |d: &mut Vec<Diagnostic>, message: &str| {
        d.push(
            Diagnostic::new(v.span(), format!("`[stream]`: `late`: {message}")).help(
                "e.g. `late = { rate = 0.01, delay = { exponential = \"30s\" } }`: 1% of events, late by 30 s on average",
            ),
        );
        None
    };
    let Some(t) = v.get_ref().as_table() else {
        return problem(d, "must be a table");
    };
    let fraction = match t.get("rate") {
        Some(TomlValue::Float(f)) if (0.0..=1.0).contains(f) => *f,
        Some(TomlValue::Integer(i)) if (0..=1).contains(i) => *i as f64,
        _ => return problem(d, "`rate` is the fraction of late events, from 0 to 1"),
    };
    let seconds = |v: &TomlValue| parse_duration(v).map(|d| d.as_secs_f64());
    let delay = match t.get("delay") {
        Some(TomlValue::Table(dist)) if dist.len() == 1 => {
            let (name, value) = dist.iter().next().expect("one entry");
            match (name.as_str(), value) {
                ("exponential", v) => seconds(v).filter(|&m| m > 0.0).map(Delay::Exponential),
                ("uniform", TomlValue::Array(pair)) if pair.len() == 2 => {
                    match (seconds(&pair[0]), seconds(&pair[1])) {
                        (Some(lo), Some(hi)) if lo <= hi => Some(Delay::Uniform(lo, hi)),
                        _ => None,
                    }
                }
                _ => None,
            }
        }
        Some(v) => seconds(v).map(Delay::Fixed),
        None => None,
    };
    let Some(delay) = delay else {
        return problem(
            d,
            "`delay` is a length of time, `{ exponential = MEAN }` or `{ uniform = [MIN, MAX] }`",
        );
    };
    if t.keys().any(|k| k != "rate" && k != "delay") {
        return problem(d, "has only `rate` and `delay`");
    }
    Some(Late { fraction, delay })
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
