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
}

impl Progress {
    /// Progress towards `total` rows over `tables` tables.
    pub fn new(tables: usize, total: u64) -> Self {
        Progress {
            written: (0..tables).map(|_| AtomicU64::new(0)).collect(),
            pending: AtomicU64::new(0),
            total,
            phase: std::sync::Mutex::new(None),
        }
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
            .spawn(move || {
                if std::io::stderr().is_terminal() {
                    bar(&progress, &flag)
                } else {
                    lines(&progress, &flag)
                }
            })
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
