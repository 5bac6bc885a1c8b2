//! `datagen bench`: the pipeline run over a grid of settings, for
//! experiments with throughput, backpressure and supervision.
//!
//! Each `--sweep NAME=V1,V2,…` adds a dimension (`buffer_rows`,
//! `batch_rows`, `workers`, `strategy`); every point of the grid is run
//! `--repeat` times into the target (`null://` by default: the pipeline
//! alone) and reported as a table on standard output, and as CSV, JSON and
//! an SVG chart of throughput against each swept setting in `--out`.

mod chart;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use clap::Args;
use datagen_actors::Strategy;
use serde_json::json;

use crate::chaos::ChaosSpec;
use crate::run::{RunMode, Summary};
use crate::schema::Schema;
use crate::settings::{self, Overrides, Settings};

/// `datagen bench` arguments.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The Genfile.
    #[arg(long, short, value_name = "FILE")]
    config: PathBuf,
    /// A setting and the values to try, e.g. buffer_rows=10k,100k,1M
    /// (buffer_rows, batch_rows, workers, strategy); repeat for a grid.
    #[arg(long, value_name = "NAME=V1,V2,…")]
    sweep: Vec<String>,
    /// Where rows go: `null` (the pipeline alone) or a target URL, which
    /// each run replaces.
    #[arg(long, default_value = "null", value_name = "null|URL")]
    target: String,
    /// Faults injected in every run (see `--chaos` of a run).
    #[arg(long, value_name = "SPEC")]
    chaos: Option<String>,
    /// Runs per point.
    #[arg(long, default_value_t = 3, value_name = "N")]
    repeat: usize,
    /// Multiply every table's rows by F.
    #[arg(long, value_name = "F")]
    scale: Option<f64>,
    /// Where results.csv, results.json and throughput.svg go.
    #[arg(long, default_value = "bench-out", value_name = "DIR")]
    out: PathBuf,
}

/// A setting swept, with its values.
#[derive(Debug, Clone, PartialEq)]
struct Sweep {
    name: &'static str,
    values: Vec<Value>,
}

/// A value of a swept setting.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Count(usize),
    Strategy(Strategy),
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Count(n) => write!(f, "{n}"),
            Value::Strategy(s) => f.write_str(s.name()),
        }
    }
}

const SETTINGS: [&str; 4] = ["buffer_rows", "batch_rows", "workers", "strategy"];

/// `N`, `Nk` (thousands) or `NM` (millions).
fn count(text: &str) -> Option<usize> {
    let t = text.trim();
    let (digits, times) = match t.chars().last()? {
        'k' | 'K' => (&t[..t.len() - 1], 1_000),
        'm' | 'M' => (&t[..t.len() - 1], 1_000_000),
        _ => (t, 1),
    };
    digits.trim().parse::<usize>().ok()?.checked_mul(times)
}

/// Parses `NAME=V1,V2,…`.
fn sweep(text: &str) -> Result<Sweep, String> {
    let (name, values) = text
        .split_once('=')
        .ok_or_else(|| format!("--sweep `{text}`: expected NAME=V1,V2,…"))?;
    let name = SETTINGS
        .iter()
        .find(|s| **s == name.trim())
        .ok_or_else(|| {
            format!(
                "--sweep `{text}`: unknown setting `{}`; sweepable: {}",
                name.trim(),
                SETTINGS.join(", ")
            )
        })?;
    let values = values
        .split(',')
        .map(|v| {
            if *name == "strategy" {
                Strategy::parse(v.trim()).map(Value::Strategy).ok_or_else(|| {
                    format!("--sweep `{text}`: `{v}` is not one_for_one, one_for_all or rest_for_one")
                })
            } else {
                match count(v) {
                    Some(n) if n > 0 || *name == "workers" => Ok(Value::Count(n)),
                    _ => Err(format!(
                        "--sweep `{text}`: `{v}` is not a whole number (10k and 1M are allowed)"
                    )),
                }
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Sweep { name, values })
}

/// The points of the grid: one value of each sweep.
fn grid(sweeps: &[Sweep]) -> Vec<Vec<Value>> {
    sweeps.iter().fold(vec![Vec::new()], |points, s| {
        points
            .iter()
            .flat_map(|p| {
                s.values.iter().map(move |v| {
                    let mut p = p.clone();
                    p.push(v.clone());
                    p
                })
            })
            .collect()
    })
}

/// The settings of a point.
fn apply(base: &Settings, sweeps: &[Sweep], point: &[Value]) -> Settings {
    let mut s = base.clone();
    for (sweep, value) in sweeps.iter().zip(point) {
        match (sweep.name, value) {
            ("buffer_rows", Value::Count(n)) => s.buffer_rows = Some(*n),
            ("batch_rows", Value::Count(n)) => s.batch_rows = *n,
            ("workers", Value::Count(0)) => {
                s.workers = std::thread::available_parallelism().map_or(1, |n| n.get())
            }
            ("workers", Value::Count(n)) => s.workers = *n,
            ("strategy", Value::Strategy(st)) => s.restart_policy.strategy = *st,
            _ => unreachable!("sweeps are parsed by name"),
        }
    }
    s
}

/// One point's runs, summarised.
#[derive(Debug, Clone)]
struct Point {
    values: Vec<Value>,
    runs: Vec<Summary>,
}

/// Mean of `f` over `xs`.
fn mean<T>(xs: &[T], f: impl Fn(&T) -> f64) -> f64 {
    xs.iter().map(f).sum::<f64>() / xs.len().max(1) as f64
}

impl Point {
    fn rows_per_s(&self) -> f64 {
        mean(&self.runs, |s| {
            s.rows() as f64 / s.stats.elapsed.as_secs_f64().max(1e-9)
        })
    }

    fn json(&self, sweeps: &[Sweep]) -> serde_json::Value {
        let secs = |s: &Summary| s.stats.elapsed.as_secs_f64().max(1e-9);
        let share = |d: fn(&Summary) -> std::time::Duration| {
            100.0 * mean(&self.runs, |s| d(s).as_secs_f64() / secs(s))
        };
        let mut settings = serde_json::Map::new();
        for (s, v) in sweeps.iter().zip(&self.values) {
            settings.insert(s.name.to_owned(), json!(v.to_string()));
        }
        let rates: Vec<f64> = self
            .runs
            .iter()
            .map(|s| s.rows() as f64 / secs(s))
            .collect();
        json!({
            "settings": settings,
            "runs": self.runs.len(),
            "rows": self.runs.first().map_or(0, Summary::rows),
            "rows_per_s": self.rows_per_s(),
            "rows_per_s_min": rates.iter().copied().fold(f64::INFINITY, f64::min),
            "rows_per_s_max": rates.iter().copied().fold(0.0, f64::max),
            "mb_per_s": mean(&self.runs, |s| s.bytes as f64 / 1e6 / secs(s)),
            "source_blocked_pct": share(|s| s.stats.source.blocked),
            "target_starved_pct": share(|s| s.stats.target.starved),
            "occupancy_mean_rows": mean(&self.runs, |s| s.stats.sampled.occupancy_mean as f64),
            "occupancy_p99_rows": mean(&self.runs, |s| s.stats.sampled.occupancy_p99 as f64),
            "round_trip_p50_us": mean(&self.runs, |s| s.stats.sampled.round_trip_p50.as_secs_f64() * 1e6),
            "round_trip_p99_us": mean(&self.runs, |s| s.stats.sampled.round_trip_p99.as_secs_f64() * 1e6),
            "restarts": mean(&self.runs, |s| f64::from(s.restarts.total())),
            "lost_s": mean(&self.runs, |s| s.restarts.lost.as_secs_f64()),
            "seconds": mean(&self.runs, |s| s.stats.elapsed.as_secs_f64()),
        })
    }
}

/// The columns of the table, CSV and JSON, after the swept settings.
const COLUMNS: [(&str, &str, usize); 13] = [
    ("rows_per_s", "rows/s", 11),
    ("mb_per_s", "MB/s", 7),
    ("source_blocked_pct", "blocked%", 8),
    ("target_starved_pct", "starved%", 8),
    ("occupancy_mean_rows", "occ.mean", 9),
    ("occupancy_p99_rows", "occ.p99", 9),
    ("round_trip_p50_us", "rtt50µs", 8),
    ("round_trip_p99_us", "rtt99µs", 8),
    ("restarts", "restarts", 8),
    ("lost_s", "lost s", 7),
    ("seconds", "s", 7),
    ("rows_per_s_min", "min rows/s", 11),
    ("rows_per_s_max", "max rows/s", 11),
];

fn number(v: &serde_json::Value) -> String {
    match v.as_f64() {
        Some(x) if x.abs() >= 100.0 => format!("{x:.0}"),
        Some(x) => format!("{x:.2}"),
        None => v.to_string(),
    }
}

/// Runs the bench; its exit code.
pub fn main(args: BenchArgs) -> ExitCode {
    match bench(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, message)) => {
            eprintln!("error: {message}");
            ExitCode::from(code)
        }
    }
}

fn bench(args: BenchArgs) -> Result<(), (u8, String)> {
    let bad = |m: String| (2u8, m);
    let schema: Schema = crate::genfile::load(&args.config).map_err(|e| bad(e.to_string()))?;
    let sweeps = args
        .sweep
        .iter()
        .map(|s| sweep(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(bad)?;
    for (i, s) in sweeps.iter().enumerate() {
        if sweeps[..i].iter().any(|o| o.name == s.name) {
            return Err(bad(format!("--sweep {} is given twice", s.name)));
        }
    }
    if args.repeat == 0 {
        return Err(bad("--repeat must be at least 1".into()));
    }
    let chaos =
        ChaosSpec::parse(args.chaos.as_deref().unwrap_or("")).map_err(|e| bad(e.to_string()))?;
    let target = match args.target.as_str() {
        "null" => "null://".to_owned(),
        url => url.to_owned(),
    };
    // Every run replaces what the one before wrote.
    let mut env: HashMap<String, String> = std::env::vars()
        .filter(|(k, _)| k.starts_with("DATAGEN_"))
        .collect();
    env.entry("DATAGEN_IF_EXISTS".into())
        .or_insert_with(|| "replace".into());
    let overrides = Overrides {
        target: Some(target),
        scale: args.scale,
        ..Overrides::default()
    };
    let base = settings::resolve(&schema, &overrides, Some(env)).map_err(|e| bad(e.to_string()))?;
    let schema = Arc::new(schema);
    let points = grid(&sweeps);
    std::fs::create_dir_all(&args.out)
        .map_err(|e| bad(format!("cannot create {}: {e}", args.out.display())))?;
    let header: Vec<String> = sweeps
        .iter()
        .map(|s| format!("{:>12}", s.name))
        .chain(COLUMNS.iter().map(|(_, h, w)| format!("{h:>w$}")))
        .collect();
    println!(
        "# datagen bench {} → {}, {} point(s) × {} run(s)",
        args.config.display(),
        base.target,
        points.len(),
        args.repeat
    );
    println!("{}", header.join(" "));
    let mut results = Vec::new();
    for values in points {
        let settings = apply(&base, &sweeps, &values);
        let mut runs = Vec::with_capacity(args.repeat);
        for _ in 0..args.repeat {
            let mode = RunMode {
                stream: false,
                quiet: true,
                resume: false,
                stop: Arc::new(AtomicBool::new(false)),
                chaos: chaos.clone(),
            };
            let summary = crate::run::run(schema.clone(), &settings, &mode).map_err(|e| {
                (
                    e.exit_code(),
                    format!(
                        "the run at {} failed: {}",
                        values
                            .iter()
                            .zip(&sweeps)
                            .map(|(v, s)| format!("{}={v}", s.name))
                            .collect::<Vec<_>>()
                            .join(" "),
                        datagen_actors::chain(&e)
                    ),
                )
            })?;
            runs.push(summary);
        }
        let point = Point { values, runs };
        let json = point.json(&sweeps);
        let row: Vec<String> = point
            .values
            .iter()
            .map(|v| format!("{:>12}", v.to_string()))
            .chain(
                COLUMNS
                    .iter()
                    .map(|(k, _, w)| format!("{:>w$}", number(&json[*k]))),
            )
            .collect();
        println!("{}", row.join(" "));
        results.push((point, json));
    }
    write_results(&args.out, &sweeps, &results).map_err(|e| (1, e))?;
    eprintln!(
        "datagen: results in {} (results.csv, results.json, throughput.svg)",
        args.out.display()
    );
    Ok(())
}

/// results.csv, results.json and throughput.svg in `out`.
fn write_results(
    out: &std::path::Path,
    sweeps: &[Sweep],
    results: &[(Point, serde_json::Value)],
) -> Result<(), String> {
    let write = |name: &str, text: String| {
        std::fs::write(out.join(name), text).map_err(|e| format!("cannot write {name}: {e}"))
    };
    let mut csv: Vec<String> = vec![sweeps
        .iter()
        .map(|s| s.name)
        .chain(COLUMNS.iter().map(|(k, _, _)| *k))
        .collect::<Vec<_>>()
        .join(",")];
    for (point, json) in results {
        csv.push(
            point
                .values
                .iter()
                .map(ToString::to_string)
                .chain(COLUMNS.iter().map(|(k, _, _)| json[*k].to_string()))
                .collect::<Vec<_>>()
                .join(","),
        );
    }
    write("results.csv", csv.join("\n") + "\n")?;
    let all: Vec<&serde_json::Value> = results.iter().map(|(_, j)| j).collect();
    write(
        "results.json",
        serde_json::to_string_pretty(&all).map_err(|e| e.to_string())? + "\n",
    )?;
    chart::throughput(&out.join("throughput.svg"), sweeps, results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweeps_parse_with_suffixes_and_make_a_grid() {
        let a = sweep("buffer_rows=10k,100k,1M").unwrap();
        assert_eq!(
            a.values,
            vec![
                Value::Count(10_000),
                Value::Count(100_000),
                Value::Count(1_000_000)
            ]
        );
        let b = sweep("strategy=one_for_one,one_for_all").unwrap();
        assert_eq!(grid(&[a, b]).len(), 6);
        assert_eq!(grid(&[]).len(), 1, "no sweep: one point");
        for bad in [
            "buffer_rows",
            "colour=1",
            "batch_rows=0",
            "workers=x",
            "strategy=some",
        ] {
            assert!(sweep(bad).is_err(), "{bad}");
        }
    }
}
