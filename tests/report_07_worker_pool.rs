//! Chapter 07's analysis, counted: what a task costs the submitting thread
//! in heap allocations, through the pool and with a thread per task; and a
//! pool's lifecycle, step by step, in its own counters: a bounded queue
//! that pushes back, panics that kill no worker, and the two shutdowns.
//! Nothing here is timed (the benches time); every figure is exact, so insta
//! keeps the report and the book includes it.

use std::fmt::Write;
use std::hint::black_box;
use std::sync::mpsc;

use worker_pool::{SubmitError, WorkerPool, WorkerStats};

#[global_allocator]
static ALLOC: thread_heap::Counting = thread_heap::Counting;

/// Tasks per row of the allocation table.
const TASKS: u64 = 1000;

/// Heap allocations made by this thread while `work` runs.
fn allocations(work: impl FnOnce()) -> u64 {
    let before = thread_heap::counts();
    work();
    thread_heap::counts().since(before).made
}

/// Keeps one worker busy until the returned sender is used or dropped;
/// returns once the task runs.
fn occupy(pool: &WorkerPool) -> mpsc::Sender<()> {
    let (release, blocked) = mpsc::channel::<()>();
    let (started, running) = mpsc::channel();
    pool.execute(move || {
        started.send(()).unwrap();
        let _ = blocked.recv();
    })
    .expect("the pool is open");
    running.recv().expect("the task starts");
    release
}

/// One row of the lifecycle table.
fn row(report: &mut String, step: &str, s: WorkerStats) {
    writeln!(
        report,
        "{step:<44} {:>7} {:>9} {:>9} {:>8} {:>8} {:>9} {:>6} {:>7} {:>4}",
        s.workers,
        s.submitted,
        s.completed,
        s.panicked,
        s.rejected,
        s.cancelled,
        s.queued,
        s.running,
        s.peak_queued
    )
    .unwrap();
}

#[test]
fn what_a_task_costs_and_a_pools_lifecycle() {
    let mut report = String::new();

    // 1. Heap allocations on the submitting thread.
    writeln!(
        report,
        "1. Heap allocations made by the submitting thread, per task ({TASKS} tasks a row;\n   \
         a pool of 2 workers with a queue of 64). The workers' own allocations are not\n   \
         counted: they happen on other threads.\n"
    )
    .unwrap();
    writeln!(report, "{:<52} {:>13}", "how a task is run", "allocs/task").unwrap();
    let pool = WorkerPool::new(2, 64).expect("valid sizes");
    let per_task = |n: u64| format!("{:.2}", n as f64 / TASKS as f64);
    let empty = allocations(|| {
        for _ in 0..TASKS {
            let _ = pool.execute(|| {});
        }
    });
    let small = allocations(|| {
        for i in 0..TASKS {
            let _ = pool.execute(move || {
                black_box(i);
            });
        }
    });
    let large = allocations(|| {
        for i in 0..TASKS {
            let data = [i; 8];
            let _ = pool.execute(move || {
                black_box(data);
            });
        }
    });
    let round_trip = allocations(|| {
        for i in 0..TASKS {
            let handle = pool.submit(move || i).expect("open");
            black_box(handle.join().ok());
        }
    });
    pool.wait_idle();
    let spawned = allocations(|| {
        for i in 0..TASKS {
            std::thread::spawn(move || {
                black_box(i);
            })
            .join()
            .expect("the task does not panic");
        }
    });
    for (how, n) in [
        ("execute, a task that captures nothing", empty),
        ("execute, a task that captures a u64", small),
        ("execute, a task that captures 64 bytes", large),
        ("submit + join, a task that returns a u64", round_trip),
        ("std::thread::spawn + join, a thread per task", spawned),
    ] {
        writeln!(report, "{how:<52} {:>13}", per_task(n)).unwrap();
    }
    writeln!(
        report,
        "\nThreads started: the pool {} for all {} tasks above; a thread per task {}.",
        pool.stats().workers,
        pool.stats().submitted,
        TASKS
    )
    .unwrap();
    drop(pool);

    // 2. A lifecycle, step by step.
    writeln!(
        report,
        "\n2. One pool's life (2 workers, a queue of 4), its stats() after each step.\n"
    )
    .unwrap();
    writeln!(
        report,
        "{:<44} {:>7} {:>9} {:>9} {:>8} {:>8} {:>9} {:>6} {:>7} {:>4}",
        "step",
        "workers",
        "submitted",
        "completed",
        "panicked",
        "rejected",
        "cancelled",
        "queued",
        "running",
        "peak"
    )
    .unwrap();
    // The tasks below panic on purpose; a silent hook keeps the output clean.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let pool = WorkerPool::new(2, 4).expect("valid sizes");
    row(&mut report, "new(2, 4)", pool.stats());
    for _ in 0..100 {
        let handle = pool
            .submit(|| -> u8 { panic!("a task that panics on purpose") })
            .expect("open");
        assert!(handle.join().is_err(), "the task panicked");
    }
    row(
        &mut report,
        "100 tasks that panic, each joined",
        pool.stats(),
    );
    let first = occupy(&pool);
    let second = occupy(&pool);
    row(&mut report, "2 tasks that block both workers", pool.stats());
    let handles: Vec<_> = (0..4)
        .map(|i| pool.submit(move || i).expect("room for 4"))
        .collect();
    row(
        &mut report,
        "4 more submitted: the queue is full",
        pool.stats(),
    );
    let full = matches!(pool.try_execute(|| ()), Err(SubmitError::Full(_)));
    assert!(full, "the queue holds 4 tasks and both workers are busy");
    row(&mut report, "try_execute answers Full", pool.stats());
    let cancelled = pool.shutdown_now();
    row(
        &mut report,
        &format!("shutdown_now: {cancelled} queued tasks dropped"),
        pool.stats(),
    );
    let refused = matches!(pool.execute(|| ()), Err(SubmitError::ShutDown(_)));
    assert!(refused, "a shut-down pool refuses every task");
    row(&mut report, "execute answers ShutDown", pool.stats());
    drop((first, second));
    while pool.stats().workers > 0 {
        std::thread::yield_now();
    }
    row(
        &mut report,
        "the 2 blocked tasks end; the workers leave",
        pool.stats(),
    );
    let answers: Vec<String> = handles
        .into_iter()
        .map(|h| format!("{:?}", h.join()))
        .collect();
    std::panic::set_hook(default_hook);
    writeln!(
        report,
        "\nThe 4 dropped tasks' handles answer: {}.",
        answers.join(", ")
    )
    .unwrap();

    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!("report", report);
    });
}
