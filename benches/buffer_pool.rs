//! `cargo bench --bench buffer_pool`: chapter 05's buffer pool against
//! allocating each buffer, mirroring the seed's BufferPool table
//! (`WithPool`, `WithoutPool`, `SyncPool`), and at 256 KiB.
//!
//! - `with_pool`: `get(1024)` and drop; `without_pool`: `vec![0u8; 1024]` and
//!   drop; `with_pool_zeroed`: `get(1024)`, `resize(1024, 0)` and drop, what
//!   a caller who needs zeroed bytes pays.
//! - `pool_allocator`: chapter 04's pool of 1 KiB `Vec<u8>`s (cleared on
//!   return), the seed's `SyncPool` row; `mutex_vec`: one `Mutex<Vec<Vec<u8>>>`,
//!   the pool everybody writes first.
//! - `with_pool_256k`: `get(256 KiB)` from a pool whose table reaches
//!   256 KiB; `without_pool_256k`: `Vec::<u8>::with_capacity(256 KiB)` and
//!   drop, as glibc serves it once the first free has raised its mmap
//!   threshold; `without_pool_256k_first_call`: the same, served every time
//!   as the first call of a process is, by `mmap` (glibc only; see the row).
//! - `_2_threads`: the same operation on two threads at once, each doing
//!   half of every batch; the time is wall time / all operations.
//!
//! `cargo bench --features learner` adds the learner's crate as `learner/…`.
//! The rows are written once, in [`rows`]: criterion times them here, and
//! `benches/alloc_counts.rs` counts their heap allocations in another process.

use std::hint::black_box;
use std::sync::Mutex;

use buffer_pool::BufferPool;
use criterion::{Criterion, criterion_group, criterion_main};
use pool_allocator::PoolAllocator;

#[path = "common/mod.rs"]
mod common;
use crate::common::{Driver, Timed, ready, run_threaded};

/// The request of the 1 KiB rows.
const SIZE: usize = 1024;
/// The request of the 256 KiB rows.
const LARGE: usize = 256 * 1024;
/// Operations per timed call of a `_2_threads` id, all threads together.
const BATCH: u64 = 100_000;
/// Threads of the `_2_threads` ids.
const THREADS: usize = 2;

/// The table of the 256 KiB rows: powers of two from 64 B to 256 KiB.
fn table_to_256k() -> Vec<usize> {
    (6..=18).map(|power| 1 << power).collect()
}

/// The rows of one crate with the chapter's API, the solution's or the
/// learner's: `with_pool`, `with_pool_zeroed`, `with_pool_2_threads` and
/// `with_pool_256k`, each id prefixed with `$prefix`.
macro_rules! buffer_pool_rows {
    ($d:expr, $prefix:literal, $pool:path) => {
        if let Some(pool) = ready(concat!($prefix, "with_pool"), || {
            let pool = <$pool>::new();
            drop(pool.get(SIZE));
            pool
        }) {
            // ANCHOR: with_pool
            $d.run(concat!($prefix, "with_pool"), 1, || {
                let buf = pool.get(SIZE);
                black_box(&buf);
            });
            // ANCHOR_END: with_pool
            // ANCHOR: with_pool_zeroed
            $d.run(concat!($prefix, "with_pool_zeroed"), 1, || {
                let mut buf = pool.get(SIZE);
                buf.resize(SIZE, 0);
                black_box(&buf);
            });
            // ANCHOR_END: with_pool_zeroed
            run_threaded(
                $d,
                concat!($prefix, "with_pool_2_threads"),
                THREADS,
                BATCH / 2,
                || {
                    let buf = pool.get(SIZE);
                    black_box(&buf);
                },
            );
        }
        if let Some(pool) = ready(concat!($prefix, "with_pool_256k"), || {
            let pool = <$pool>::with_sizes(&table_to_256k()).expect("a valid table");
            drop(pool.get(LARGE));
            pool
        }) {
            // ANCHOR: with_pool_256k
            $d.run(concat!($prefix, "with_pool_256k"), 1, || {
                let buf = pool.get(LARGE);
                black_box(&buf);
            });
            // ANCHOR_END: with_pool_256k
        }
    };
}

/// Every row of the group, run by `d`.
pub fn rows(d: &mut impl Driver) {
    buffer_pool_rows!(d, "", BufferPool);
    #[cfg(feature = "learner")]
    buffer_pool_rows!(d, "learner/", learner_buffer_pool::BufferPool);

    // ANCHOR: without_pool
    d.run("without_pool", 1, || {
        let buf = vec![0_u8; SIZE];
        black_box(&buf);
    });
    // ANCHOR_END: without_pool

    // ANCHOR: pool_allocator
    let chapter_04 = PoolAllocator::builder(|| Vec::<u8>::with_capacity(SIZE))
        .reset(Vec::clear)
        .build()
        .expect("the default max_idle is valid");
    d.run("pool_allocator", 1, || {
        let buf = chapter_04.get();
        black_box(&buf);
    });
    // ANCHOR_END: pool_allocator

    // ANCHOR: mutex_vec
    let shared: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());
    let mutex_vec = || {
        let popped = shared.lock().unwrap().pop();
        let mut buf = popped.unwrap_or_else(|| Vec::with_capacity(SIZE));
        black_box(&buf);
        buf.clear();
        shared.lock().unwrap().push(buf);
    };
    // ANCHOR_END: mutex_vec
    d.run("mutex_vec", 1, mutex_vec);
    run_threaded(d, "mutex_vec_2_threads", THREADS, BATCH / 2, mutex_vec);

    // ANCHOR: without_pool_256k
    d.run("without_pool_256k", 1, || {
        let buf = Vec::<u8>::with_capacity(LARGE);
        black_box(&buf);
    });
    // ANCHOR_END: without_pool_256k

    // Last, because it changes how glibc's malloc serves large requests for
    // the rest of the process.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    first_call::row(d);
}

/// `without_pool_256k_first_call`: a fresh process's glibc serves a request
/// of 128 KiB or more (`M_MMAP_THRESHOLD`) with `mmap`, and frees it with
/// `munmap`; the first such free raises the threshold to the size freed, so
/// later requests of that size come from the heap. This row pins the
/// threshold at its starting value, so that every call pays what the first
/// one does (and glibc stops adjusting it for the rest of the process).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod first_call {
    use super::{Driver, LARGE, black_box};

    /// glibc's `mallopt` parameter for the mmap threshold (`malloc.h`).
    const M_MMAP_THRESHOLD: i32 = -3;
    /// The threshold a process starts with: 128 KiB.
    const STARTING_THRESHOLD: i32 = 128 * 1024;

    unsafe extern "C" {
        /// glibc's `int mallopt(int param, int value)`: 1 on success.
        fn mallopt(param: i32, value: i32) -> i32;
    }

    pub fn row(d: &mut impl Driver) {
        // SAFETY: `mallopt` takes two ints and changes a malloc setting; any
        // values are allowed (a bad one makes it return 0).
        let pinned = unsafe { mallopt(M_MMAP_THRESHOLD, STARTING_THRESHOLD) } == 1;
        if !pinned {
            eprintln!("without_pool_256k_first_call: skipped, mallopt refused");
            return;
        }
        // ANCHOR: first_call
        d.run("without_pool_256k_first_call", 1, || {
            let buf = Vec::<u8>::with_capacity(LARGE);
            black_box(&buf);
        });
        // ANCHOR_END: first_call
    }
}

fn buffer_pool(c: &mut Criterion) {
    let mut timed = Timed::new(c, "buffer_pool");
    rows(&mut timed);
    timed.finish();
}

criterion_group!(benches, buffer_pool);
criterion_main!(benches);
