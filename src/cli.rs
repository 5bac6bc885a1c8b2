//! The `datagen` command line: arguments, subcommands, and the exit code
//! of each outcome (0 done, 1 failed while running, 2 bad input or usage,
//! 130 interrupted, 141 standard output closed by its reader).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};

use crate::diag::Diagnostics;
use crate::generate::plan::PlanError;
use crate::genfile::{self, GenfileError};
use crate::preview::PreviewError;
use crate::schema::Schema;
use crate::settings::{self, Overrides};

/// Generate large, realistic, relational, reproducible datasets from a Genfile.
#[derive(Debug, Parser)]
#[command(
    name = "datagen",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Clone, Args)]
struct RunArgs {
    /// The Genfile to generate.
    #[arg(long, short, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Where rows go, e.g. sqlite://out/shop.db (overrides [target] url).
    #[arg(long, value_name = "URL")]
    target: Option<String>,
    /// Seed of all random streams (overrides [run] seed).
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Multiply every table's `rows` by F (children follow their parents).
    #[arg(long, value_name = "F")]
    scale: Option<f64>,
    /// Generator threads; 0 = one per core (overrides [pipeline] workers).
    #[arg(long, value_name = "N")]
    workers: Option<usize>,
    /// Generate only the K-th of N slices of every table (K from 0); the N
    /// shards together make exactly the rows of one run. Files get
    /// -0000K-of-0000N before the extension; PostgreSQL shards load the
    /// same tables, and the last to finish adds the keys.
    #[arg(long, value_name = "K/N")]
    shard: Option<String>,
    /// Inject faults for supervision experiments, e.g.
    /// target.error_every=50,source.panic_at=100000 (see README).
    #[arg(long, value_name = "SPEC")]
    chaos: Option<String>,
    /// Finish an interrupted run from the target's checkpoint: rows already
    /// committed are kept, the rest is written once.
    #[arg(long)]
    resume: bool,
    /// Refuse a run that would make more rows than N, all tables together
    /// (default 10,000,000,000; also DATAGEN_MAX_ROWS). With `datagen
    /// stream`: the stream's length, N event rows (overrides [stream]
    /// max_rows).
    #[arg(long, value_name = "N")]
    max_rows: Option<u64>,
    /// No progress and no summary.
    #[arg(long, short)]
    quiet: bool,
    /// Also write the summary as JSON, for scripts: `json` to standard
    /// output, `json:PATH` to a file (rows per table, pipeline figures,
    /// supervision events).
    #[arg(long, value_name = "json|json:PATH")]
    report: Option<String>,
}

/// `datagen stream`: a run's arguments and the `[stream]` keys a command
/// line may override.
#[derive(Debug, Args)]
struct StreamArgs {
    #[command(flatten)]
    run: RunArgs,
    /// Rows per second, or `max` (overrides [stream] rate).
    #[arg(long, value_name = "N|max")]
    rate: Option<String>,
    /// End the stream after this long: 90s, 15m, 2h (overrides [stream]
    /// duration).
    #[arg(long, value_name = "TIME")]
    duration: Option<String>,
}

/// `datagen verify`.
#[derive(Debug, Args)]
struct VerifyArgs {
    /// The Genfile the store was filled from.
    #[arg(long, short, value_name = "FILE")]
    config: PathBuf,
    /// The store to check: sqlite://PATH or postgres://… (default: the
    /// Genfile's [target] url).
    #[arg(long, value_name = "URL")]
    target: Option<String>,
    /// The seed the rows were made with (overrides [run] seed).
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// The --scale the rows were made at.
    #[arg(long, value_name = "F")]
    scale: Option<f64>,
    /// Generator threads; 0 = one per core.
    #[arg(long, value_name = "N")]
    workers: Option<usize>,
    /// The store holds a stream's rows (`datagen stream`), ended by
    /// [stream] max_rows or --max-rows.
    #[arg(long)]
    stream: bool,
    /// With --stream: the stream's --max-rows.
    #[arg(long, value_name = "N")]
    max_rows: Option<u64>,
    /// Only this table (repeat for more).
    #[arg(long, value_name = "NAME")]
    table: Vec<String>,
    /// Differences shown per kind and table.
    #[arg(long, default_value_t = 5, value_name = "N")]
    examples: usize,
}

/// Exit code of `datagen verify` when the store cannot be read.
const UNREADABLE_STORE: u8 = 3;

/// `datagen verify`: recomputes what the store must hold and compares.
fn verify(args: VerifyArgs) -> ExitCode {
    let mut schema = match load(&args.config) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if let Some(n) = args.max_rows {
        if !args.stream {
            eprintln!("error: --max-rows N is the length of a stream verified with --stream\n  help: add --stream, or leave out --max-rows");
            return ExitCode::from(BAD_INPUT);
        }
        if n == 0 {
            eprintln!("error: --max-rows must be at least 1\n  help: give the --max-rows the stream was made with");
            return ExitCode::from(BAD_INPUT);
        }
        schema.stream.max_rows = Some(n);
    }
    let target = match (&args.target, args.stream) {
        (None, true) if std::env::var_os("DATAGEN_TARGET").is_none() => {
            schema.stream.target.clone()
        }
        _ => args.target.clone(),
    };
    let overrides = Overrides {
        target,
        seed: args.seed,
        scale: args.scale,
        workers: args.workers,
        shard: None,
        max_rows: None,
    };
    let settings = match settings::resolve(&schema, &overrides, None) {
        Ok(s) => s,
        Err(e) => {
            report(&e);
            return ExitCode::from(BAD_INPUT);
        }
    };
    let mut reader = match settings.target.reader() {
        Ok(Some(reader)) => reader,
        Ok(None) => {
            eprintln!("error: {} cannot be read back\n  help: verify a database: --target sqlite://PATH or postgres://…", settings.target);
            return ExitCode::from(BAD_INPUT);
        }
        Err(e) if e.kind == crate::failure::ErrorKind::Input => {
            report(&e);
            return ExitCode::from(BAD_INPUT);
        }
        Err(e) => {
            report(&e);
            return ExitCode::from(UNREADABLE_STORE);
        }
    };
    let sums = match verify_sums(&schema, settings.target.as_ref()) {
        Ok(sums) => sums,
        Err(d) => {
            located(&schema.located(d));
            return ExitCode::from(BAD_INPUT);
        }
    };
    let options = crate::verify::Options {
        sums,
        seed: settings.seed,
        scale: settings.scale,
        workers: settings.workers,
        stream: args.stream,
        examples: args.examples,
        tables: args.table,
    };
    let target = settings.target.to_string();
    match crate::verify::verify(&schema, &target, reader.as_mut(), &options) {
        Ok(found) => {
            println!("{found}");
            if found.matches() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) if e.kind == crate::failure::ErrorKind::Input => {
            report(&e);
            ExitCode::from(BAD_INPUT)
        }
        Err(e) => {
            report(&e);
            ExitCode::from(UNREADABLE_STORE)
        }
    }
}

/// The tables the Genfile's own target loads by upsert-add.
fn ddl_merges(path: &Path, schema: &Schema) -> Vec<crate::sink::upsert::Merge> {
    genfile::target(path, schema)
        .and_then(|target| {
            crate::sink::upsert::Merge::resolve(schema, &target.upserts(), None, true).ok()
        })
        .unwrap_or_default()
}

/// The store's tables of sums: those the target loads by upsert-add, and
/// the Genfile's `[verify.NAME]`.
fn verify_sums(
    schema: &Schema,
    target: &dyn crate::sink::Target,
) -> Result<Vec<crate::verify::sums::Sums>, Vec<crate::diag::Diagnostic>> {
    use crate::sink::upsert::{upsert_span, Merge, Upsert};
    let loaded = target.upserts();
    let mut sums: Vec<crate::verify::sums::Sums> =
        Merge::resolve(schema, &loaded, upsert_span(schema), true)?
            .into_iter()
            .map(|merge| crate::verify::sums::Sums {
                name: schema.tables[merge.table].name.clone(),
                merge,
            })
            .collect();
    for v in &schema.verify {
        let upsert = Upsert {
            table: v.from.clone(),
            key: v.key.clone(),
            add: v.add.clone(),
            count: v.count.clone(),
        };
        let merge = Merge::resolve(schema, &[upsert], Some(v.span.clone()), false)?.remove(0);
        sums.push(crate::verify::sums::Sums {
            name: v.name.clone(),
            merge,
        });
    }
    Ok(sums)
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Emit the Genfile's rows as a stream: at a rate, with event time,
    /// for a duration or until Ctrl-C, into rotated files, a broker or
    /// any target; --resume continues it where it stopped.
    Stream(StreamArgs),
    /// Print the first rows of each table (or one) as an aligned table.
    Preview {
        /// The Genfile.
        #[arg(long, short, value_name = "FILE")]
        config: PathBuf,
        /// Only this table.
        #[arg(long, value_name = "NAME")]
        table: Option<String>,
        /// Rows per table.
        #[arg(long, default_value_t = 10, value_name = "N")]
        rows: usize,
        /// Seed (overrides DATAGEN_SEED and [run] seed).
        #[arg(long, value_name = "N")]
        seed: Option<u64>,
    },
    /// Print the CREATE TABLE statements.
    Ddl {
        /// The Genfile.
        #[arg(long, short, value_name = "FILE")]
        config: PathBuf,
        /// SQL dialect: sqlite or postgres.
        #[arg(long, default_value = "sqlite", value_name = "DIALECT")]
        dialect: String,
        /// PostgreSQL: create the tables without keys, then print the
        /// ALTER TABLE statements that add them after a `-- constraints` line
        /// (the way datagen loads).
        #[arg(long)]
        keys_after: bool,
        /// Qualify every table with this schema.
        #[arg(long, value_name = "NAME")]
        schema: Option<String>,
    },
    /// Run the pipeline over a grid of settings and report its
    /// throughput, backpressure, buffer occupancy, mailbox latency and
    /// restarts at each point (a table, CSV, JSON and an SVG chart).
    Bench(crate::bench::BenchArgs),
    /// Check that a store holds exactly the rows the Genfile and seed
    /// make, whoever loaded it: per table the row count, a checksum per
    /// column, and the rows missing, extra, duplicated or changed, by key.
    /// Exit 0 when it does, 1 when it differs, 2 for bad input, 3 when the
    /// store cannot be read.
    Verify(VerifyArgs),
    /// Check a Genfile and print every problem found; exit 2 if any.
    Validate {
        /// The Genfile to check.
        #[arg(long, short, value_name = "FILE")]
        config: PathBuf,
    },
}

const BAD_INPUT: u8 = 2;

fn load(path: &Path) -> Result<Schema, ExitCode> {
    genfile::load(path).map_err(|e| {
        match &e {
            GenfileError::Invalid(d) => located(d),
            GenfileError::Read { .. } => report(&e),
        }
        ExitCode::from(BAD_INPUT)
    })
}

/// Prints problems located in a Genfile, and how many there are.
fn located(d: &Diagnostics) {
    eprintln!("{d}");
    let n = d.items.len();
    eprintln!("{n} error{} in {}", if n == 1 { "" } else { "s" }, d.file);
}

/// Prints `e` and its causes on one line: each error's message says only
/// what it adds to its cause.
fn report(e: &dyn std::error::Error) {
    eprintln!("error: {}", datagen_actors::chain(e));
}

/// Applies `--rate`, `--duration` and `--max-rows` to `schema`'s `[stream]`.
fn stream_overrides(schema: &mut Schema, args: &StreamArgs) -> Result<(), String> {
    use crate::schema::stream::{parse_duration, Rate, MAX_RATE, MIN_RATE};
    let spec = &mut schema.stream;
    if let Some(rate) = &args.rate {
        spec.paced_by_schedule = false;
        if rate == "max" {
            spec.rate = Rate::Max;
        } else {
            match rate.parse::<f64>() {
                // Only the pace: event times keep the Genfile's nominal rate.
                Ok(r) if (MIN_RATE..=MAX_RATE).contains(&r) => spec.rate = Rate::PerSecond(r),
                _ => {
                    return Err(format!(
                        "--rate `{rate}`: expected rows per second from {MIN_RATE} to {MAX_RATE:e}, or `max`"
                    ))
                }
            }
        }
    }
    if let Some(text) = &args.duration {
        let parsed = parse_duration(&toml::Value::String(text.clone())).or_else(|| {
            text.parse::<f64>()
                .ok()
                .and_then(|s| parse_duration(&toml::Value::Float(s)))
        });
        match parsed {
            Some(d) if !d.is_zero() => spec.duration = Some(d),
            _ => {
                return Err(format!(
                    "--duration `{text}`: expected a length above 0: seconds, or a number and a unit: 500ms, 90s, 15m, 2h, 1d"
                ))
            }
        }
    }
    if let Some(n) = args.run.max_rows {
        if n == 0 {
            return Err("--max-rows must be at least 1".into());
        }
        spec.max_rows = Some(n);
    }
    Ok(())
}

fn run(args: RunArgs, stream: Option<&StreamArgs>) -> ExitCode {
    // Signals are caught from the start: a run stopped while its Genfile
    // is read or its rows counted still ends with what to do next.
    let stop = Arc::new(AtomicBool::new(false));
    // The first SIGINT or SIGTERM stops gracefully; a second one exits at once.
    // A file-size limit (`ulimit -f`) or a full disk must surface as a
    // write error the run handles, not as SIGXFSZ killing the process with
    // temporary files left behind.
    let _ = signal_hook::flag::register(
        signal_hook::consts::SIGXFSZ,
        Arc::new(AtomicBool::new(false)),
    );
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let _ = signal_hook::flag::register_conditional_shutdown(signal, 130, stop.clone());
        let _ = signal_hook::flag::register(signal, stop.clone());
    }
    let Some(config) = args.config else {
        eprintln!("error: no Genfile given\n  help: datagen --config schemas/shop.toml");
        return ExitCode::from(BAD_INPUT);
    };
    let mut schema = match load(&config) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if let Some(stream) = stream {
        if let Err(e) = stream_overrides(&mut schema, stream) {
            eprintln!("error: {e}");
            return ExitCode::from(BAD_INPUT);
        }
    }
    // A stream goes where `[stream] target` says, unless told otherwise.
    let target = match (&args.target, stream) {
        (None, Some(_)) if std::env::var_os("DATAGEN_TARGET").is_none() => {
            schema.stream.target.clone()
        }
        _ => args.target,
    };
    let overrides = Overrides {
        target,
        seed: args.seed,
        scale: args.scale,
        workers: args.workers,
        shard: args.shard,
        // A stream's --max-rows is its length, not a limit on the run.
        max_rows: if stream.is_some() {
            None
        } else {
            args.max_rows
        },
    };
    let settings = match settings::resolve(&schema, &overrides, None) {
        Ok(s) => s,
        Err(e) => {
            report(&e);
            return ExitCode::from(BAD_INPUT);
        }
    };
    let chaos = match crate::chaos::ChaosSpec::parse(args.chaos.as_deref().unwrap_or("")) {
        Ok(c) => c,
        Err(e) => {
            report(&e);
            return ExitCode::from(BAD_INPUT);
        }
    };
    let report_to = match args.report.as_deref().map(Report::parse).transpose() {
        Ok(Some(Report::Stdout)) if settings.target.to_string().starts_with("stdout://") => {
            eprintln!("error: --report json writes to standard output, where the rows go\n  help: write the report to a file: --report json:PATH");
            return ExitCode::from(BAD_INPUT);
        }
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(BAD_INPUT);
        }
    };
    let mode = crate::run::RunMode {
        stream: stream.is_some(),
        quiet: args.quiet,
        resume: args.resume,
        stop,
        chaos,
    };
    let schema_max_rows = schema.stream.max_rows;
    match crate::run::run(Arc::new(schema), &settings, &mode) {
        Ok(summary) => {
            if !args.quiet {
                eprintln!("{summary}");
                if let Some(end) = summary.stream {
                    use crate::run::stream::Ended;
                    let why = match end.ended {
                        Ended::Rows if schema_max_rows.is_some() => "it reached max_rows",
                        Ended::Rows => "its rows ran out",
                        Ended::Duration => "its duration passed",
                        Ended::Signal => "it was stopped",
                    };
                    eprintln!("datagen: the stream ended: {why}");
                    if end.resumable && end.ended != Ended::Rows {
                        eprintln!("to continue it: {}", resume_command());
                    }
                }
            }
            if let Some(to) = report_to {
                let json = format!("{:#}\n", summary.to_json());
                let written = match &to {
                    Report::Stdout => {
                        use std::io::Write;
                        std::io::stdout().write_all(json.as_bytes())
                    }
                    Report::File(path) => std::fs::write(path, json),
                };
                if let Err(e) = written {
                    eprintln!("error: cannot write the report: {e}");
                    return ExitCode::from(1);
                }
            }
            ExitCode::SUCCESS
        }
        Err(crate::run::RunError::Interrupted {
            rows,
            target,
            resumable,
        }) => {
            eprintln!("datagen: interrupted; {rows} rows are committed in {target}");
            if resumable {
                eprintln!("to finish the run: {}", resume_command());
            } else {
                eprintln!("nothing was published; run the same command again to start over");
            }
            ExitCode::from(130)
        }
        Err(crate::run::RunError::Plan(PlanError::Invalid(d))) => {
            located(&d);
            ExitCode::from(BAD_INPUT)
        }
        Err(e) if closed_pipe(&e) => {
            // The reader of standard output stopped (`datagen … | head`):
            // not a failure worth a message; exit as a process killed by
            // SIGPIPE would.
            ExitCode::from(141)
        }
        Err(e) => {
            report(&e);
            if let Some(kept) = e.kept() {
                eprintln!(
                    "{} rows are committed in {}; once the cause is fixed, finish the run with:\n  {}",
                    kept.rows,
                    kept.target,
                    resume_command()
                );
            }
            ExitCode::from(e.exit_code())
        }
    }
}

/// Where `--report` writes.
enum Report {
    Stdout,
    File(PathBuf),
}

impl Report {
    fn parse(text: &str) -> Result<Report, String> {
        match text.split_once(':') {
            None if text == "json" => Ok(Report::Stdout),
            Some(("json", path)) if !path.is_empty() => Ok(Report::File(PathBuf::from(path))),
            _ => Err(format!(
                "--report `{text}`: expected `json` (to standard output) or `json:PATH`"
            )),
        }
    }
}

/// This process's command line with `--resume`, passwords hidden.
fn resume_command() -> String {
    let again: Vec<String> = std::env::args()
        .filter(|a| a != "--resume")
        .map(|a| shell_word(&crate::url::redact(&a)))
        .collect();
    format!("{} --resume", again.join(" "))
}

/// `word` as a shell reads it back: in single quotes when it holds
/// anything but letters, digits and `-_./:=@,+%`.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// True when `e` comes from writing to a pipe nobody reads any more.
fn closed_pipe(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(e);
    while let Some(err) = next {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::BrokenPipe {
                return true;
            }
        }
        next = err.source();
    }
    false
}

/// Runs the command line of this process.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Bench(args)) => crate::bench::main(args),
        Some(Command::Validate { config }) => match load(&config) {
            Ok(schema) => {
                let columns: usize = schema.tables.iter().map(|t| t.columns.len()).sum();
                println!(
                    "{}: ok ({} tables, {columns} columns)",
                    config.display(),
                    schema.tables.len()
                );
                ExitCode::SUCCESS
            }
            Err(code) => code,
        },
        Some(Command::Preview {
            config,
            table,
            rows,
            seed,
        }) => {
            let schema = match load(&config) {
                Ok(s) => s,
                Err(code) => return code,
            };
            let tables = match table {
                None => Vec::new(),
                Some(name) => match schema.table_index(&name) {
                    Some(t) => vec![t],
                    None => {
                        let names: Vec<&str> =
                            schema.tables.iter().map(|t| t.name.as_str()).collect();
                        eprintln!(
                            "error: no table `{name}` in {}\n  help: tables are: {}",
                            config.display(),
                            names.join(", ")
                        );
                        return ExitCode::from(BAD_INPUT);
                    }
                },
            };
            let (seed, max_rows) = match settings::preview(&schema, seed) {
                Ok(s) => s,
                Err(e) => {
                    report(&e);
                    return ExitCode::from(BAD_INPUT);
                }
            };
            match crate::preview::preview(&schema, seed, max_rows, &tables, rows) {
                Ok(text) => {
                    print!("{text}");
                    ExitCode::SUCCESS
                }
                Err(PreviewError::Plan(PlanError::Invalid(d))) => {
                    located(&d);
                    ExitCode::from(BAD_INPUT)
                }
                Err(e) => {
                    report(&e);
                    ExitCode::from(e.exit_code())
                }
            }
        }
        Some(Command::Ddl {
            config,
            dialect,
            keys_after,
            schema: namespace,
        }) => {
            let Some(dialect) = crate::sink::ddl::Dialect::parse(&dialect) else {
                eprintln!("error: unknown dialect `{dialect}`\n  help: use sqlite or postgres");
                return ExitCode::from(BAD_INPUT);
            };
            if keys_after && dialect == crate::sink::ddl::Dialect::Sqlite {
                eprintln!(
                    "error: --keys-after needs --dialect postgres: SQLite cannot add keys to a table after it is created\n  help: leave out --keys-after; SQLite's statements declare the keys inline"
                );
                return ExitCode::from(BAD_INPUT);
            }
            match load(&config) {
                Ok(schema) => {
                    let options = crate::sink::ddl::DdlOptions {
                        namespace,
                        keys_after,
                        deferred_foreign_keys: false,
                    };
                    // Tables the Genfile's target loads by upsert-add are
                    // tables of sums, created so by a load.
                    let merges = ddl_merges(&config, &schema);
                    let replace = |t: usize| {
                        let m = merges.iter().find(|m| m.table == t)?;
                        let table = &schema.tables[t];
                        let mut sql =
                            m.create_table(table, &options.qualified(&table.name), dialect);
                        if dialect == crate::sink::ddl::Dialect::Postgres {
                            sql.push(';');
                        }
                        Some(sql)
                    };
                    print!(
                        "{}",
                        crate::sink::ddl::script_replacing(&schema, dialect, &options, &replace)
                    );
                    ExitCode::SUCCESS
                }
                Err(code) => code,
            }
        }
        Some(Command::Verify(args)) => verify(args),
        Some(Command::Stream(args)) => run(
            RunArgs {
                config: args.run.config.clone(),
                ..args.run.clone()
            },
            Some(&args),
        ),
        None => run(cli.run, None),
    }
}
