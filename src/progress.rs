//! Progress of a run: rows committed per table, and the reporter that shows
//! it on standard error (a bar on a terminal, periodic lines otherwise).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Rows committed so far, per table. Shared by the sink and the reporter.
#[derive(Debug)]
pub struct Progress {
    written: Vec<AtomicU64>,
    total: u64,
    /// What the target does after the rows are in (keys, ANALYZE), if anything.
    phase: std::sync::Mutex<Option<String>>,
}

impl Progress {
    /// Progress towards `total` rows over `tables` tables.
    pub fn new(tables: usize, total: u64) -> Self {
        Progress {
            written: (0..tables).map(|_| AtomicU64::new(0)).collect(),
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
    }

    /// Records `rows` more committed rows of `table`.
    pub fn add(&self, table: usize, rows: u64) {
        self.written[table].fetch_add(rows, Ordering::Relaxed);
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

fn bar(progress: &Progress, stop: &AtomicBool) {
    let bar = indicatif::ProgressBar::new(progress.total);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} rows ({per_sec}, eta {eta}) {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    while !stop.load(Ordering::Relaxed) {
        bar.set_position(progress.rows());
        if let Some(phase) = progress.phase() {
            bar.set_message(phase);
        }
        std::thread::park_timeout(Duration::from_millis(100));
    }
    bar.set_position(progress.rows());
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
            let rows = progress.rows();
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
