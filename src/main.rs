//! The `datagen` binary: process-wide set-up (allocator, logging, panic
//! reports), then the command line ([`datagen::cli`]).

use std::process::ExitCode;

/// Fixes glibc's allocation thresholds at their initial 128 KiB. Blocks of
/// rows are allocated on the generator threads and freed on the Target's;
/// by default glibc raises its mmap and trim thresholds after the first
/// large free and from then on keeps freed memory, so the peak crept up
/// with the size of a run (shop → SQLite: 61 MB at `--scale 1`, 62 MB at 8;
/// fixed: 38 MB and 42 MB, and no slower — see benches/README.md).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_allocator() {
    // SAFETY: mallopt only sets allocator parameters; it is called before
    // any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 128 * 1024);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_allocator() {}

fn main() -> ExitCode {
    tune_allocator();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DATAGEN_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        // Colours only for a person watching: not in files, pipes or CI logs.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    // One line per panic: a panic in a worker or the sink is a failure the
    // Supervisor handles (and `--chaos` makes them on purpose).
    std::panic::set_hook(Box::new(|info| {
        let thread = std::thread::current();
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".into());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        tracing::error!(
            "panic in thread {}: {message}{at}",
            thread.name().unwrap_or("?")
        );
        eprintln!(
            "datagen: panic in thread {}: {message}{at}",
            thread.name().unwrap_or("?")
        );
    }));
    datagen::cli::main()
}
