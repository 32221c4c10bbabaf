//! `cargo bench --bench worker_pool`: chapter 07's worker pool against the
//! crates a Rust user would otherwise pick and against a thread per task,
//! after the seed's BenchmarkWorkerPool.
//!
//! - `worker_pool`: 10,000 tiny tasks through `execute`, then `wait_idle`;
//!   the figure is the time per task. Two workers (this machine has two
//!   cores) and a queue that holds the whole batch, as the unbounded queues
//!   of the crates below do.
//! - `threadpool`: the threadpool crate, two workers, the same batch through
//!   `execute`, then `join` (its wait for an idle pool).
//! - `rayon`: a rayon pool of two threads, the same batch spawned in one
//!   `scope`, which returns once they all ran.
//! - `spawn_per_task`: a `std::thread` spawned per task, 100 at a time, each
//!   joined; the time per task.
//! - `submit_join`: one `submit` and its `join`, a round trip from this
//!   thread to a worker and back.
//!
//! A tiny task captures its number and passes it through `black_box`, so
//! every row boxes an 8-byte closure per task.
//!
//! `cargo bench --features learner` adds the learner's crate as `learner/…`.
//! The rows are written once, in [`rows`]: criterion times them here, and
//! `benches/alloc_counts.rs` counts their heap allocations in another process.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use worker_pool::WorkerPool;

#[path = "common/mod.rs"]
mod common;
use crate::common::{Driver, Timed, ready};

/// Tasks per timed call of the batch rows.
const BATCH: u64 = 10_000;
/// Threads spawned (and joined) per timed call of `spawn_per_task`.
const SPAWNED: u64 = 100;
/// Worker threads of every pool.
const WORKERS: usize = 2;

/// The rows of one crate with the chapter's API, the solution's or the
/// learner's: `worker_pool` and `submit_join`, each id prefixed with `$prefix`.
macro_rules! worker_pool_rows {
    ($d:expr, $prefix:literal, $pool:path) => {
        if let Some(pool) = ready(concat!($prefix, "worker_pool"), || {
            let pool = <$pool>::new(WORKERS, BATCH as usize).expect("valid sizes");
            for i in 0..BATCH {
                let _ = pool.execute(move || {
                    black_box(i);
                });
            }
            pool.wait_idle();
            pool
        }) {
            // ANCHOR: worker_pool
            $d.run(concat!($prefix, "worker_pool"), BATCH, || {
                for i in 0..BATCH {
                    let accepted = pool.execute(move || {
                        black_box(i);
                    });
                    debug_assert!(accepted.is_ok());
                }
                pool.wait_idle();
            });
            // ANCHOR_END: worker_pool
            // ANCHOR: submit_join
            $d.run(concat!($prefix, "submit_join"), 1, || {
                let handle = pool.submit(|| black_box(7_u64)).expect("open");
                black_box(handle.join().ok());
            });
            // ANCHOR_END: submit_join
        }
    };
}

/// Every row of the group, run by `d`.
pub fn rows(d: &mut impl Driver) {
    worker_pool_rows!(d, "", WorkerPool);
    #[cfg(feature = "learner")]
    worker_pool_rows!(d, "learner/", learner_worker_pool::WorkerPool);

    // ANCHOR: threadpool
    let threadpool = threadpool::ThreadPool::new(WORKERS);
    d.run("threadpool", BATCH, || {
        for i in 0..BATCH {
            threadpool.execute(move || {
                black_box(i);
            });
        }
        threadpool.join();
    });
    // ANCHOR_END: threadpool

    // ANCHOR: rayon
    let rayon = rayon::ThreadPoolBuilder::new()
        .num_threads(WORKERS)
        .build()
        .expect("rayon starts two threads");
    d.run("rayon", BATCH, || {
        rayon.scope(|s| {
            for i in 0..BATCH {
                s.spawn(move |_| {
                    black_box(i);
                });
            }
        });
    });
    // ANCHOR_END: rayon

    // ANCHOR: spawn_per_task
    let mut threads = Vec::with_capacity(SPAWNED as usize);
    d.run("spawn_per_task", SPAWNED, || {
        for i in 0..SPAWNED {
            threads.push(std::thread::spawn(move || {
                black_box(i);
            }));
        }
        for thread in threads.drain(..) {
            thread.join().expect("the task does not panic");
        }
    });
    // ANCHOR_END: spawn_per_task
}

fn worker_pool(c: &mut Criterion) {
    let mut timed = Timed::new(c, "worker_pool");
    rows(&mut timed);
    timed.finish();
}

criterion_group!(benches, worker_pool);
criterion_main!(benches);
