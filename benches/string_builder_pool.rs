//! `cargo bench --bench string_builder_pool`: chapter 06's pool of `String`s
//! against a fresh `String` per use, and against other pools holding
//! `String`s: a `Mutex<Vec<String>>`, chapter 04's pool and the object-pool
//! crate.
//!
//! Every id measures one use of a string with room for 1 KiB: get it, write
//! about 100 bytes into it with `write!`, look at it (`black_box`), and drop
//! it. `without_pool` makes and frees the `String` instead. The plain ids
//! write a text known at compile time, which `write!` copies in one go (as
//! Go's `WriteString`): what is left is the cost of the string itself. The
//! `_formatted` ids write a JSON record with a number and two strings
//! formatted at run time, to show how much of a real use the pool can save.
//! The `_2_threads` ids run the plain use on two threads at once, each doing
//! half of every batch, and report wall time / all uses, as Go's
//! `b.RunParallel` does. `cargo bench --features learner` adds the learner's
//! crate as `learner/…`.
//!
//! `thread_local` is the simplest cache there is: a `thread_local!` list of
//! strings, with no limit, no counters and nothing shared between threads.
//!
//! The rows are written once, in [`rows`]: criterion times them here, and
//! `benches/alloc_counts.rs` counts their heap allocations in another process.

use std::cell::RefCell;
use std::fmt::{self, Write};
use std::hint::black_box;
use std::sync::Mutex;

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

// ANCHOR: text
/// What the plain rows write: 98 bytes of HTTP headers known at compile time.
/// A `write!` with no arguments copies its text with one `push_str`.
fn write_text(out: &mut impl Write) -> fmt::Result {
    write!(
        out,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nCache-Control: no-cache\r\n\
         Connection: keep-alive\r\n"
    )
}

/// What the `_formatted` rows write: a JSON record of 100 bytes, whose
/// number and strings the compiler cannot see, so they are formatted at run
/// time.
fn write_record(out: &mut impl Write) -> fmt::Result {
    let (id, name, email): (u32, &str, &str) = black_box((4242, "Ada Lovelace", "ada@example.com"));
    write!(
        out,
        r#"{{"id":{id},"name":"{name}","email":"{email}","roles":["admin","author"],"active":true}}"#
    )
}
// ANCHOR_END: text

/// Every row writes into a `String`, which cannot fail.
const INFALLIBLE: &str = "writing to a String cannot fail";

/// The rows of a pool with the chapter's API, from the solution's crate or
/// the learner's: one thread, plain and formatted, and two threads, plain.
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
                write_text(&mut s).expect(INFALLIBLE);
                black_box(&s);
            });
            // ANCHOR_END: with_pool
            $d.run(concat!($id, "_formatted"), 1, || {
                let mut s = pool.get();
                write_record(&mut s).expect(INFALLIBLE);
                black_box(&s);
            });
            run_threaded($d, concat!($id, "_2_threads"), THREADS, BATCH / 2, || {
                let mut s = pool.get();
                write_text(&mut s).expect(INFALLIBLE);
                black_box(&s);
            });
        }
    };
}

// ANCHOR: thread_local
thread_local! {
    /// The simplest string cache there is: one list of strings per thread, for
    /// the whole program, with no limit, no counters and no shared list.
    static CACHE: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// A string from [`CACHE`], or a new one; cleared and put back on drop.
struct Cached(String);

impl Cached {
    fn get() -> Self {
        Cached(
            CACHE
                .with_borrow_mut(Vec::pop)
                .unwrap_or_else(|| String::with_capacity(CAPACITY)),
        )
    }
}

impl Drop for Cached {
    fn drop(&mut self) {
        let mut s = std::mem::take(&mut self.0);
        s.clear();
        CACHE.with_borrow_mut(|cache| cache.push(s));
    }
}
// ANCHOR_END: thread_local

/// Every row of the group, run by `d`.
pub fn rows(d: &mut impl Driver) {
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
        write_text(&mut s).expect(INFALLIBLE);
        black_box(&s);
    };
    // ANCHOR_END: without_pool
    d.run("without_pool", 1, without_pool);
    d.run("without_pool_formatted", 1, || {
        let mut s = String::with_capacity(CAPACITY);
        write_record(&mut s).expect(INFALLIBLE);
        black_box(&s);
    });
    run_threaded(
        d,
        "without_pool_2_threads",
        THREADS,
        BATCH / 2,
        without_pool,
    );

    d.run("thread_local", 1, || {
        let mut s = Cached::get();
        write_text(&mut s.0).expect(INFALLIBLE);
        black_box(&s.0);
    });

    // ANCHOR: mutex_vec
    let shared: Mutex<Vec<String>> = Mutex::new(
        (0..PREFILL)
            .map(|_| String::with_capacity(CAPACITY))
            .collect(),
    );
    d.run("mutex_vec", 1, || {
        let popped = shared.lock().unwrap().pop();
        let mut s = popped.unwrap_or_else(|| String::with_capacity(CAPACITY));
        write_text(&mut s).expect(INFALLIBLE);
        black_box(&s);
        s.clear();
        shared.lock().unwrap().push(s);
    });
    // ANCHOR_END: mutex_vec

    // ANCHOR: pool_allocator
    let chapter_04 = PoolAllocator::builder(|| String::with_capacity(CAPACITY))
        .reset(String::clear)
        .build()
        .expect("the default max_idle is valid");
    d.run("pool_allocator", 1, || {
        let mut s = chapter_04.get();
        write_text(&mut *s).expect(INFALLIBLE);
        black_box(&s);
    });
    // ANCHOR_END: pool_allocator

    // ANCHOR: object_pool
    let crate_pool: Pool<String> = Pool::new(PREFILL, || String::with_capacity(CAPACITY));
    d.run("object_pool", 1, || {
        let mut s = crate_pool.pull(|| String::with_capacity(CAPACITY));
        s.clear(); // the crate hands strings back as they were left
        write_text(&mut *s).expect(INFALLIBLE);
        black_box(&s);
    });
    // ANCHOR_END: object_pool
}

fn string_builder_pool(c: &mut Criterion) {
    let mut timed = Timed::new(c, "string_builder_pool");
    rows(&mut timed);
    timed.finish();
}

criterion_group!(benches, string_builder_pool);
criterion_main!(benches);
