//! What every bench target shares: how a row is built ([`ready`]) and how it
//! is run ([`Driver`]). Each group's rows are written once, against
//! [`Driver`], and run twice: timed by criterion (`benches/GROUP.rs`) and
//! counted by a counting allocator in another process (`benches/alloc_counts.rs`),
//! so counting never slows the timed loop.

#![allow(dead_code)] // each bench target uses its own part of this module

use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput};

/// Runs one bench row's routine: times it, or counts its heap allocations.
pub trait Driver {
    /// Runs `routine`, which performs `elements` operations per call, as bench `id`.
    fn run<R>(&mut self, id: &str, elements: u64, routine: impl FnMut() -> R);
}

/// Times rows with criterion, in one benchmark group.
pub struct Timed<'c> {
    group: BenchmarkGroup<'c, WallTime>,
}

impl<'c> Timed<'c> {
    /// A criterion group named `group`, with the workbook's warm-up and
    /// measurement times. Notes when this run began, so that
    /// `cargo run -- bench-table` shows exactly the ids it measured.
    pub fn new(c: &'c mut Criterion, group: &str) -> Self {
        mark_run_start(group);
        let mut group = c.benchmark_group(group);
        group
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3));
        Self { group }
    }

    /// Ends the group: criterion writes its summary.
    pub fn finish(self) {
        self.group.finish();
    }
}

impl Driver for Timed<'_> {
    fn run<R>(&mut self, id: &str, elements: u64, mut routine: impl FnMut() -> R) {
        self.group.throughput(Throughput::Elements(elements));
        self.group.bench_function(id, |b| b.iter(&mut routine));
    }
}

/// `target/workbook/`, where the benches leave what the runner reads
/// (`$CARGO_TARGET_DIR/workbook/` when that is set).
pub fn workbook_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(
            || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target"),
            std::path::PathBuf::from,
        )
        .join("workbook")
}

/// Writes `target/workbook/bench-runs/GROUP.start`: when this run of the
/// group began, in nanoseconds since the Unix epoch.
fn mark_run_start(group: &str) {
    let dir = workbook_dir().join("bench-runs");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join(format!("{group}.start")), now.to_string());
    }
}

/// Builds one bench row's subject and tries it out once, or says why the row
/// is skipped. A panic here (a learner's unfinished `todo!()`, a constructor
/// that refuses the bench's sizes) skips that row only: one broken crate never
/// stops the measurements of the others.
pub fn ready<T>(id: &str, try_out: impl FnOnce() -> T + std::panic::UnwindSafe) -> Option<T> {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = std::panic::catch_unwind(try_out);
    std::panic::set_hook(default_hook);
    match outcome {
        Ok(subject) => Some(subject),
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_owned());
            let advice = if message.contains("not yet implemented") {
                " (is every todo!() done?)"
            } else {
                ""
            };
            eprintln!("{id}: skipped, its setup panicked: {message}{advice}");
            None
        }
    }
}

/// Runs one row on `threads` threads at once, as Go's `b.RunParallel` does:
/// each call of the timed routine has every thread perform `per_thread`
/// operations, so the figure per operation is wall time / all operations.
///
/// The helper threads live for the whole row (started once, woken by a
/// barrier for every call), so a pool's per-thread caches stay warm between
/// calls, and thread start-up is never timed. The calling thread is one of
/// the `threads`.
pub fn run_threaded<D: Driver>(
    d: &mut D,
    id: &str,
    threads: usize,
    per_thread: u64,
    operation: impl Fn() + Sync,
) {
    use std::sync::Barrier;
    use std::sync::atomic::{AtomicBool, Ordering};

    let threads = threads.max(1);
    let start = Barrier::new(threads);
    let done = Barrier::new(threads);
    let stop = AtomicBool::new(false);
    let share = || {
        for _ in 0..per_thread {
            operation();
        }
    };
    std::thread::scope(|s| {
        for _ in 1..threads {
            s.spawn(|| {
                loop {
                    start.wait();
                    if stop.load(Ordering::Acquire) {
                        break;
                    }
                    share();
                    done.wait();
                }
            });
        }
        d.run(id, threads as u64 * per_thread, || {
            start.wait();
            share();
            done.wait();
        });
        stop.store(true, Ordering::Release);
        start.wait();
    });
}
