//! `cargo bench --bench pool_allocator`: chapter 04's per-thread pool against
//! the pools a user would otherwise write or pick, on one thread and on two.
//!
//! Every id measures one get of a `Vec<u8>` with 1 KiB of capacity, a look at
//! it (`black_box`), and its return; `allocate` makes and frees the `Vec`
//! instead. The `_2_threads` ids run the same operation on two threads at
//! once, each doing half of every batch, and report wall time / all
//! operations, as Go's `b.RunParallel` does: a design that scales shows about
//! half its one-thread figure. `compare_and_swap` times only the claim and
//! release of a slot's state, the floor of the pool's fast path.
//! `cargo bench --features learner` adds the
//! learner's crate as `learner/…`.
//!
//! The rows are written once, in [`rows`]: criterion times them here, and
//! `benches/alloc_counts.rs` counts their heap allocations in another process.

use std::hint::black_box;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};

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
/// Two of the states of chapter 04's slots, for the `compare_and_swap` row.
const FULL: u8 = 1;
const LENT: u8 = 3;

/// A fresh 1 KiB buffer: every pool's factory, and the `allocate` row.
fn buffer() -> Vec<u8> {
    Vec::with_capacity(CAPACITY)
}

/// The idle buffers a lock-based pool starts with.
fn prefilled() -> Vec<Vec<u8>> {
    (0..PREFILL).map(|_| buffer()).collect()
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
    let shared = Mutex::new(prefilled());
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

    // What the pool's fast path cannot avoid: claiming a slot's state with a
    // compare-and-swap, and releasing it with a store, on one thread.
    // ANCHOR: compare_and_swap
    let state = AtomicU8::new(FULL);
    d.run("compare_and_swap", 1, || {
        let claimed = state.compare_exchange(FULL, LENT, Ordering::Acquire, Ordering::Relaxed);
        black_box(&claimed);
        state.store(FULL, Ordering::Release);
    });
    // ANCHOR_END: compare_and_swap
}

fn pool_allocator(c: &mut Criterion) {
    let mut timed = Timed::new(c, "pool_allocator");
    rows(&mut timed);
    timed.finish();
}

criterion_group!(benches, pool_allocator);
criterion_main!(benches);
