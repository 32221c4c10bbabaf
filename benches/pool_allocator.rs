//! `cargo bench --bench pool_allocator`: chapter 04's per-thread pool against
//! the pools a user would otherwise write or pick, on one thread and on two.
//!
//! Every id measures one get of a `Vec<u8>` with 1 KiB of capacity, a look at
//! it (`black_box`), and its return; `allocate` makes and frees the `Vec`
//! instead. The `_2_threads` ids run the same operation on two threads at
//! once, each doing half of every batch, and report wall time / all
//! operations, as Go's `b.RunParallel` does: a design that scales shows about
//! half its one-thread figure. `cargo bench --features learner` adds the
//! learner's crate as `learner/…`.
//!
//! The rows are written once, in [`rows`]: criterion times them here, and
//! `benches/alloc_counts.rs` counts their heap allocations in another process.

use std::hint::black_box;
use std::sync::Mutex;

use criterion::{Criterion, criterion_group, criterion_main};
use object_pool::Pool;
use pool_allocator::PoolAllocator;

#[path = "common/mod.rs"]
mod common;
use crate::common::{Driver, Timed, ready, run_threaded};

/// The capacity of every pooled `Vec<u8>`.
const CAPACITY: usize = 1024;
/// Operations per timed call of a `_2_threads` id, all threads together.
const BATCH: u64 = if cfg!(miri) { 100 } else { 100_000 };
/// Threads of the `_2_threads` ids.
const THREADS: usize = 2;
/// Objects the lock-based pools start with: one per thread is all they use.
const PREFILL: usize = 8;

/// A fresh 1 KiB buffer: every pool's factory, and the `allocate` row.
fn buffer() -> Vec<u8> {
    Vec::with_capacity(CAPACITY)
}

/// The one-thread row `id` and its `_2_threads` twin for a pool with the
/// chapter's API, from the solution's crate or the learner's.
macro_rules! pool_allocator_rows {
    ($d:expr, $id:literal, $pool:path) => {
        if let Some(pool) = ready($id, || {
            let pool = <$pool>::new(buffer);
            drop(pool.get());
            pool
        }) {
            // ANCHOR: pool_allocator
            $d.run($id, 1, || {
                let buf = pool.get();
                black_box(&buf);
            });
            // ANCHOR_END: pool_allocator
            run_threaded($d, concat!($id, "_2_threads"), THREADS, BATCH / 2, || {
                let buf = pool.get();
                black_box(&buf);
            });
        }
    };
}

/// Every row of the group, run by `d`.
pub fn rows(d: &mut impl Driver) {
    pool_allocator_rows!(d, "pool_allocator", PoolAllocator<Vec<u8>>);
    #[cfg(feature = "learner")]
    pool_allocator_rows!(
        d,
        "learner/pool_allocator",
        learner_pool_allocator::PoolAllocator<Vec<u8>>
    );

    // ANCHOR: mutex_vec
    let shared: Mutex<Vec<Vec<u8>>> = Mutex::new((0..PREFILL).map(|_| buffer()).collect());
    let mutex_vec = || {
        let buf = shared.lock().unwrap().pop().unwrap_or_else(buffer);
        black_box(&buf);
        shared.lock().unwrap().push(buf);
    };
    // ANCHOR_END: mutex_vec
    d.run("mutex_vec", 1, mutex_vec);
    run_threaded(d, "mutex_vec_2_threads", THREADS, BATCH / 2, mutex_vec);

    // ANCHOR: object_pool
    let crate_pool: Pool<Vec<u8>> = Pool::new(PREFILL, buffer);
    let object_pool = || {
        let buf = crate_pool.pull(buffer);
        black_box(&buf);
    };
    // ANCHOR_END: object_pool
    d.run("object_pool", 1, object_pool);
    run_threaded(d, "object_pool_2_threads", THREADS, BATCH / 2, object_pool);

    // ANCHOR: allocate
    let allocate = || {
        let buf = buffer();
        black_box(&buf);
    };
    // ANCHOR_END: allocate
    d.run("allocate", 1, allocate);
    run_threaded(d, "allocate_2_threads", THREADS, BATCH / 2, allocate);
}

fn pool_allocator(c: &mut Criterion) {
    let mut timed = Timed::new(c, "pool_allocator");
    rows(&mut timed);
    timed.finish();
}

criterion_group!(benches, pool_allocator);
criterion_main!(benches);
