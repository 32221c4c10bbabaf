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
    // First, before freed memory piles up in the heap.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    first_call::row(d);

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
}

/// `without_pool_256k_first_call`: the first request of 128 KiB or more
/// (glibc's starting `M_MMAP_THRESHOLD`) that glibc's heap has no room for,
/// as in a fresh process: glibc serves it with `mmap` and frees it with
/// `munmap`. That first free raises the mmap threshold to the size of the
/// chunk freed and the trim threshold to twice that, so later requests of
/// that size come from the heap: the `without_pool_256k` row.
///
/// To time the first call again and again, the row pins the mmap threshold
/// at its starting value, gives the free top of the heap back
/// (`malloc_trim`), checks that glibc now maps a 256 KiB request (the row is
/// skipped if not), and afterwards sets both thresholds to what glibc's own
/// first free of that chunk sets, so the rows after it see glibc as a
/// program would. It runs first, before freed memory piles up in the heap.
/// glibc only.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod first_call {
    use super::{Driver, LARGE, black_box};

    /// `mallopt` parameters (`malloc.h`).
    const M_TRIM_THRESHOLD: i32 = -1;
    const M_MMAP_THRESHOLD: i32 = -3;
    /// The mmap threshold a process starts with: 128 KiB.
    const STARTING_THRESHOLD: usize = 128 * 1024;

    /// glibc's `struct mallinfo2` (`malloc.h`, glibc 2.33 and later).
    #[repr(C)]
    struct MallInfo2 {
        arena: usize,
        ordblks: usize,
        smblks: usize,
        /// Chunks allocated with `mmap` now.
        hblks: usize,
        /// Their bytes.
        hblkhd: usize,
        usmblks: usize,
        fsmblks: usize,
        uordblks: usize,
        fordblks: usize,
        keepcost: usize,
    }

    unsafe extern "C" {
        /// `int mallopt(int param, int value)`: 1 on success.
        fn mallopt(param: i32, value: i32) -> i32;
        /// `int malloc_trim(size_t pad)`: gives free heap memory back.
        fn malloc_trim(pad: usize) -> i32;
        /// `struct mallinfo2 mallinfo2(void)`.
        fn mallinfo2() -> MallInfo2;
    }

    /// Sets one of malloc's parameters; whether glibc accepted it.
    fn set(param: i32, value: usize) -> bool {
        let Ok(value) = i32::try_from(value) else {
            return false;
        };
        // SAFETY: `mallopt` takes two ints; any values are allowed (it
        // returns 0 for one it refuses).
        unsafe { mallopt(param, value) == 1 }
    }

    /// The chunks glibc has mapped with `mmap` now: how many, and their bytes.
    fn mapped() -> (usize, usize) {
        // SAFETY: `mallinfo2` takes nothing and returns a struct by value.
        let info = unsafe { mallinfo2() };
        (info.hblks, info.hblkhd)
    }

    pub fn row(d: &mut impl Driver) {
        if !set(M_MMAP_THRESHOLD, STARTING_THRESHOLD) {
            eprintln!("without_pool_256k_first_call: skipped, glibc refused the mmap threshold");
            return;
        }
        // SAFETY: `malloc_trim` takes a size and only gives free memory back.
        unsafe { malloc_trim(0) };
        let before = mapped();
        let probe = black_box(Vec::<u8>::with_capacity(LARGE));
        let during = mapped();
        drop(probe);
        let chunk = if during.0 == before.0 + 1 {
            // ANCHOR: first_call
            d.run("without_pool_256k_first_call", 1, || {
                let buf = Vec::<u8>::with_capacity(LARGE);
                black_box(&buf);
            });
            // ANCHOR_END: first_call
            during.1 - before.1
        } else {
            eprintln!(
                "without_pool_256k_first_call: skipped, glibc found room for 256 KiB in its \
                 heap"
            );
            LARGE.next_multiple_of(4096) + 4096
        };
        // What glibc's own first free of such a chunk sets (malloc.c, `__libc_free`).
        set(M_MMAP_THRESHOLD, chunk);
        set(M_TRIM_THRESHOLD, 2 * chunk);
    }
}

fn buffer_pool(c: &mut Criterion) {
    let mut timed = Timed::new(c, "buffer_pool");
    rows(&mut timed);
    timed.finish();
}

criterion_group!(benches, buffer_pool);
criterion_main!(benches);
