//! Progress of a run: rows committed per table, and the reporter that shows
//! it on standard error (a bar on a terminal, periodic lines otherwise).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Rows committed so far, per table, and rows handed to the target but not
/// committed yet. Shared by the sink, the run and the reporter.
#[derive(Debug)]
pub struct Progress {
    written: Vec<AtomicU64>,
    /// Written to the target, not committed yet: what makes the bar move
    /// between commits.
    pending: AtomicU64,
    total: u64,
    /// What the target does after the rows are in (keys, ANALYZE), if anything.
    phase: std::sync::Mutex<Option<String>>,
    /// A stream's rate and lag, shown instead of a bar towards a total.
    stream: std::sync::OnceLock<Arc<Gauge>>,
}

/// A stream's pace as the progress line shows it: the target rate, the
/// rows the Source has let go, and how far behind the schedule.
#[derive(Debug, Default)]
pub struct Gauge {
    /// Rows per second asked for (`None`: as fast as the target takes).
    pub target: Option<f64>,
    /// The rate follows the stream's profile.
    pub profile: bool,
    /// Paced rows the Source has pushed.
    pub sent: AtomicU64,
    /// How far behind the schedule the last piece left, in microseconds.
    pub lag_micros: AtomicU64,
}

impl Progress {
    /// Progress towards `total` rows over `tables` tables.
    pub fn new(tables: usize, total: u64) -> Self {
        Progress {
            written: (0..tables).map(|_| AtomicU64::new(0)).collect(),
            pending: AtomicU64::new(0),
            total,
            phase: std::sync::Mutex::new(None),
            stream: std::sync::OnceLock::new(),
        }
    }

    /// Shows a stream: rates and lag, no total.
    pub fn set_stream(&self, gauge: Arc<Gauge>) {
        let _ = self.stream.set(gauge);
    }

    /// The stream's gauge, if this is a stream.
    pub fn stream(&self) -> Option<&Arc<Gauge>> {
        self.stream.get()
    }

    /// Says what the target is doing once the rows are written.
    pub fn set_phase(&self, phase: &str) {
        if let Ok(mut p) = self.phase.lock() {
            *p = Some(phase.to_owned());
        }
    }

    /// What [`Progress::set_phase`] said last.
    pub fn phase(&self) -> Option<String> {
        self.phase.lock().ok().and_then(|p| p.clone())
    }

    /// Forgets every count (the target is reopened and counts again).
    pub fn reset(&self) {
        for w in &self.written {
            w.store(0, Ordering::Relaxed);
        }
        self.pending.store(0, Ordering::Relaxed);
    }

    /// Records `rows` more committed rows of `table`.
    pub fn add(&self, table: usize, rows: u64) {
        self.written[table].fetch_add(rows, Ordering::Relaxed);
        let _ = self
            .pending
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |p| {
                Some(p.saturating_sub(rows))
            });
    }

    /// Records `rows` handed to the target, to be committed later.
    pub fn wrote(&self, rows: u64) {
        self.pending.fetch_add(rows, Ordering::Relaxed);
    }

    /// Rows to show as done: committed, and written since the last commit.
    pub fn shown(&self) -> u64 {
        (self.rows() + self.pending.load(Ordering::Relaxed)).min(self.total)
    }

    /// Rows committed of `table`.
    pub fn table(&self, table: usize) -> u64 {
        self.written[table].load(Ordering::Relaxed)
    }

    /// Rows committed in all.
    pub fn rows(&self) -> u64 {
        self.written.iter().map(|w| w.load(Ordering::Relaxed)).sum()
    }
}

/// Shows progress until dropped.
pub struct Reporter {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Reporter {
    /// Starts reporting `progress`; `quiet` shows nothing.
    pub fn start(progress: Arc<Progress>, quiet: bool) -> Reporter {
        let stop = Arc::new(AtomicBool::new(false));
        if quiet {
            return Reporter { stop, thread: None };
        }
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("datagen-progress".into())
            .spawn(
                move || match (progress.stream(), std::io::stderr().is_terminal()) {
                    (Some(gauge), terminal) => stream(&progress, gauge, &flag, terminal),
                    (None, true) => bar(&progress, &flag),
                    (None, false) => lines(&progress, &flag),
                },
            )
            .ok();
        Reporter { stop, thread }
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

/// `n` with its thousands separated: 10,000,000,000.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn bar(progress: &Progress, stop: &AtomicBool) {
    use indicatif::ProgressState;
    use std::fmt::Write;
    let bar = indicatif::ProgressBar::new(progress.total);
    let style = indicatif::ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} rows ({rate}, eta {left}) {msg}",
    )
    .map(|style| {
        style
            // Whole rows a second; no estimate before the first rows.
            .with_key("rate", |s: &ProgressState, w: &mut dyn Write| {
                let _ = write!(w, "{}/s", grouped(s.per_sec() as u64));
            })
            .with_key("left", |s: &ProgressState, w: &mut dyn Write| {
                let _ = if s.pos() == 0 {
                    write!(w, "-")
                } else {
                    write!(w, "{:#}", indicatif::HumanDuration(s.eta()))
                };
            })
    })
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    while !stop.load(Ordering::Relaxed) {
        bar.set_position(progress.shown());
        if let Some(phase) = progress.phase() {
            bar.set_message(phase);
        }
        std::thread::park_timeout(Duration::from_millis(100));
    }
    bar.set_position(progress.shown());
    bar.finish_and_clear();
}

/// A stream's line: rows so far, the rate over the last seconds against
/// the target, and the lag behind the schedule — redrawn on a terminal,
/// every 5 s otherwise.
fn stream(progress: &Progress, gauge: &Gauge, stop: &AtomicBool, terminal: bool) {
    let started = Instant::now();
    let spinner = terminal.then(|| {
        let s = indicatif::ProgressBar::new_spinner();
        s.enable_steady_tick(Duration::from_millis(100));
        s
    });
    // (when, rows) a few seconds back: the achieved rate is over them.
    let mut window: std::collections::VecDeque<(Instant, u64)> = std::collections::VecDeque::new();
    let mut last = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        std::thread::park_timeout(Duration::from_millis(250));
        let now = Instant::now();
        let rows = progress.rows() + progress.pending.load(Ordering::Relaxed);
        window.push_back((now, rows));
        while window.len() > 2 && now - window[0].0 > Duration::from_secs(5) {
            window.pop_front();
        }
        let (then, before) = window[0];
        let rate = (rows - before.min(rows)) as f64 / (now - then).as_secs_f64().max(1e-3);
        let target = match (gauge.profile, gauge.target) {
            (true, _) => "the profile".to_owned(),
            (false, Some(t)) => format!("{}/s", grouped(t as u64)),
            (false, None) => "max".to_owned(),
        };
        let lag = Duration::from_micros(gauge.lag_micros.load(Ordering::Relaxed));
        let line = format!(
            "[{}] {} rows, {}/s (target {target}), lag {} ms",
            indicatif::HumanDuration(started.elapsed()),
            grouped(rows),
            grouped(rate as u64),
            lag.as_millis()
        );
        match &spinner {
            Some(s) => s.set_message(line),
            None if last.elapsed() >= Duration::from_secs(5) && !stop.load(Ordering::Relaxed) => {
                last = now;
                eprintln!("datagen: {line}");
            }
            None => {}
        }
    }
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
}

fn lines(progress: &Progress, stop: &AtomicBool) {
    let started = Instant::now();
    let mut last = Instant::now();
    let mut shown: Option<String> = None;
    while !stop.load(Ordering::Relaxed) {
        std::thread::park_timeout(Duration::from_millis(250));
        let phase = progress.phase();
        if phase.is_some() && phase != shown && !stop.load(Ordering::Relaxed) {
            eprintln!("datagen: {}", phase.as_deref().unwrap_or_default());
            shown = phase;
        }
        if last.elapsed() >= Duration::from_secs(5) && !stop.load(Ordering::Relaxed) {
            last = Instant::now();
            let rows = progress.shown();
            let secs = started.elapsed().as_secs_f64();
            eprintln!(
                "datagen: {rows} of {} rows ({:.0}%), {:.0} rows/s",
                progress.total,
                100.0 * rows as f64 / progress.total.max(1) as f64,
                rows as f64 / secs.max(1e-9)
            );
        }
    }
}
