//! `cargo bench --bench string_builder_pool`: chapter 06's pool of `String`s
//! against a fresh `String` per use, and against the pools of chapter 04 and
//! of the object-pool crate holding `String`s.
//!
//! Every id measures one use of a string with room for 1 KiB: get it, write a
//! JSON record of about 100 bytes into it with `write!`, look at it
//! (`black_box`), and drop it. `without_pool` makes and frees the `String`
//! instead. The `_2_threads` ids run the same use on two threads at once,
//! each doing half of every batch, and report wall time / all uses, as Go's
//! `b.RunParallel` does. `cargo bench --features learner` adds the learner's
//! crate as `learner/…`.
//!
//! The rows are written once, in [`rows`]: criterion times them here, and
//! `benches/alloc_counts.rs` counts their heap allocations in another process.

use std::fmt::{self, Write};
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use object_pool::Pool;
use pool_allocator::PoolAllocator;
use string_builder_pool::StringBuilderPool;

#[path = "common/mod.rs"]
mod common;
use crate::common::{Driver, Timed, ready, run_threaded};

/// The room every string starts with, as the seed's `NewStringBuilderPool(1024)`.
const CAPACITY: usize = 1024;
/// Uses per timed call of a `_2_threads` id, all threads together.
const BATCH: u64 = if cfg!(miri) { 100 } else { 100_000 };
/// Threads of the `_2_threads` ids.
const THREADS: usize = 2;
/// Strings the object-pool crate's pool starts with.
const PREFILL: usize = 8;

// ANCHOR: record
/// What every row writes: one JSON record of 100 bytes, with a number the
/// compiler cannot see, so the formatting happens at run time.
fn write_record(out: &mut impl Write) -> fmt::Result {
    let id: u32 = black_box(4242);
    write!(
        out,
        r#"{{"id":{id},"name":"Ada Lovelace","email":"ada@example.com","roles":["admin","author"],"active":true}}"#
    )
}
// ANCHOR_END: record

/// The one-thread row `id` and its `_2_threads` twin for a pool with the
/// chapter's API, from the solution's crate or the learner's.
macro_rules! string_builder_pool_rows {
    ($d:expr, $id:literal, $pool:path) => {
        if let Some(pool) = ready($id, || {
            let pool = <$pool>::new(CAPACITY).expect("1024 is a valid initial capacity");
            drop(pool.get());
            pool
        }) {
            // ANCHOR: with_pool
            $d.run($id, 1, || {
                let mut s = pool.get();
                write_record(&mut s).expect("writing to a String cannot fail");
                black_box(&s);
            });
            // ANCHOR_END: with_pool
            run_threaded($d, concat!($id, "_2_threads"), THREADS, BATCH / 2, || {
                let mut s = pool.get();
                write_record(&mut s).expect("writing to a String cannot fail");
                black_box(&s);
            });
        }
    };
}

/// Every row of the group, run by `d`.
pub fn rows(d: &mut impl Driver) {

    // PROBE (temporary)
    d.run("probe_alloc_only", 1, || { let s = String::with_capacity(CAPACITY); black_box(&s); });
    let pp = StringBuilderPool::new(CAPACITY).unwrap();
    d.run("probe_pool_only", 1, || { let s = pp.get(); black_box(&s); });
    d.run("probe_literal", 1, || { let mut s = String::with_capacity(CAPACITY); write!(s, r#"{{"id":4242,"name":"Ada Lovelace","email":"ada@example.com","roles":["admin","author"],"active":true}}"#).unwrap(); black_box(&s); });
    d.run("probe_pool_literal", 1, || { let mut s = pp.get(); write!(s, r#"{{"id":4242,"name":"Ada Lovelace","email":"ada@example.com","roles":["admin","author"],"active":true}}"#).unwrap(); black_box(&s); });
    d.run("probe_fmt_string", 1, || { let mut s = String::with_capacity(CAPACITY); write_record(&mut s).unwrap(); black_box(&s); });
    d.run("probe_pool_fmt_deref", 1, || { let mut s = pp.get(); write_record(&mut *s).unwrap(); black_box(&s); });
    string_builder_pool_rows!(d, "with_pool", StringBuilderPool);
    #[cfg(feature = "learner")]
    string_builder_pool_rows!(
        d,
        "learner/with_pool",
        learner_string_builder_pool::StringBuilderPool
    );

    // ANCHOR: without_pool
    let without_pool = || {
        let mut s = String::with_capacity(CAPACITY);
        write_record(&mut s).expect("writing to a String cannot fail");
        black_box(&s);
    };
    // ANCHOR_END: without_pool
    d.run("without_pool", 1, without_pool);
    run_threaded(d, "without_pool_2_threads", THREADS, BATCH / 2, without_pool);

    // ANCHOR: pool_allocator
    let chapter_04 = PoolAllocator::builder(|| String::with_capacity(CAPACITY))
        .reset(String::clear)
        .build()
        .expect("the default max_idle is valid");
    let pool_allocator = || {
        let mut s = chapter_04.get();
        write_record(&mut *s).expect("writing to a String cannot fail");
        black_box(&s);
    };
    // ANCHOR_END: pool_allocator
    d.run("pool_allocator", 1, pool_allocator);
    run_threaded(
        d,
        "pool_allocator_2_threads",
        THREADS,
        BATCH / 2,
        pool_allocator,
    );

    // ANCHOR: object_pool
    let crate_pool: Pool<String> = Pool::new(PREFILL, || String::with_capacity(CAPACITY));
    let object_pool = || {
        let mut s = crate_pool.pull(|| String::with_capacity(CAPACITY));
        s.clear(); // the crate does not reset what it hands back
        write_record(&mut *s).expect("writing to a String cannot fail");
        black_box(&s);
    };
    // ANCHOR_END: object_pool
    d.run("object_pool", 1, object_pool);
}

fn string_builder_pool(c: &mut Criterion) {
    let mut timed = Timed::new(c, "string_builder_pool");
    rows(&mut timed);
    timed.finish();
}

criterion_group!(benches, string_builder_pool);
criterion_main!(benches);
