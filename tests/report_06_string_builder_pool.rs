//! Chapter 06's analysis, counted: what a `StringBuilderPool` keeps, what it
//! saves, and where its strings go. Four workloads, each counted on the
//! test's own thread through dhat's allocator (heap allocations, and the
//! bytes still allocated), and with the pool's own counters:
//!
//! 1. one huge string now and then among small ones, with and without a
//!    limit on the capacity the pool keeps;
//! 2. texts of growing lengths, from pools and from fresh strings of three
//!    initial capacities;
//! 3. a text handed on to the caller: a fresh string, a pooled string kept
//!    with `into_string`, or a copy of a pooled one;
//! 4. two threads, one that builds strings and one that drops them, beside
//!    chapter 04's pool in the same rounds.
//!
//! insta keeps the report and the book includes it. One test only: dhat
//! profiles the whole process.

mod heap_profile;

use std::fmt::Write;
use std::hint::black_box;
use std::sync::mpsc;

use pool_allocator::PoolAllocator;
use string_builder_pool::StringBuilderPool;

// dhat's allocator, counting exactly what this test's own thread allocates
// (support/thread-heap says why a process-wide count is not enough).
#[global_allocator]
static ALLOC: thread_heap::Counting = thread_heap::Counting;

/// 1 KiB of text, to write without allocating.
const KIB: &str = concat!(
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
);

/// Heap allocations made, and bytes still allocated, by this thread while
/// `work` runs.
fn heap(work: impl FnOnce()) -> (u64, i64) {
    let before = thread_heap::counts();
    work();
    let change = thread_heap::counts().since(before);
    (change.made, change.live_bytes)
}

#[test]
fn what_a_string_pool_keeps_saves_and_shares() {
    let _profiler = heap_profile::profiler();
    let mut report = String::new();
    huge_strings(&mut report);
    growing_texts(&mut report);
    handing_text_on(&mut report);
    two_threads(&mut report);
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!("report", report);
    });
}

/// Bursts of 8 strings held at once; in every 10th burst one of them grows
/// to 256 KiB, a different one each time.
fn huge_strings(report: &mut String) {
    const BURSTS: usize = 200;
    const HUGE: usize = 256 * 1024;
    writeln!(
        report,
        "1. Capacity: {BURSTS} bursts of 8 strings held at once (initial_capacity 1024, each\n   \
         written with about 100 bytes); in every 10th burst one string grows to {} KiB.\n   \
         'held' is what the pool's idle strings and its own bookkeeping occupy on the\n   \
         heap afterwards.\n",
        HUGE / 1024
    )
    .unwrap();
    writeln!(
        report,
        "max_retained_capacity   gets  hits  misses  discarded_oversized  idle  heap allocs  held KiB"
    )
    .unwrap();
    for (label, max_retained) in [("64 KiB (default)", 64 * 1024), ("unlimited", usize::MAX)] {
        let mut stats = None;
        let (allocations, held) = heap(|| {
            let pool = StringBuilderPool::with_limits(1024, max_retained, 256).expect("valid");
            let mut burst = Vec::with_capacity(8);
            for b in 0..BURSTS {
                burst.extend((0..8).map(|_| pool.get()));
                for (i, s) in burst.iter_mut().enumerate() {
                    if b % 10 == 0 && i == (b / 10) % 8 {
                        for _ in 0..HUGE / KIB.len() {
                            s.push_str(KIB);
                        }
                    } else {
                        s.push_str(&KIB[..100]);
                    }
                }
                burst.clear();
            }
            drop(burst);
            stats = Some(pool.stats());
            std::mem::forget(pool); // keep what it holds, to count it
        });
        let s = stats.expect("the run ran");
        writeln!(
            report,
            "{label:<22}  {:>4}  {:>4}  {:>6}  {:>19}  {:>4}  {allocations:>11}  {:>8}",
            s.gets,
            s.hits,
            s.misses,
            s.discarded_oversized,
            s.idle,
            held / 1024
        )
        .unwrap();
    }
}

/// 1000 texts of 40 to 900 bytes, in turn, each written into a string and
/// dropped: from a pool, and from a fresh `String::with_capacity`.
fn growing_texts(report: &mut String) {
    const USES: usize = 1000;
    const LENGTHS: [usize; 5] = [40, 90, 200, 450, 900];
    writeln!(
        report,
        "\n2. Growth: {USES} texts of {LENGTHS:?} bytes in turn, one at a time.\n   \
         Heap allocations include every reallocation made while a text grows its string.\n"
    )
    .unwrap();
    writeln!(
        report,
        "initial_capacity  pool: allocs  gets  hits  capacity after  fresh String: allocs"
    )
    .unwrap();
    for initial in [16, 128, 1024] {
        let write = |s: &mut String, i: usize| s.push_str(&KIB[..LENGTHS[i % LENGTHS.len()]]);
        let pool = StringBuilderPool::new(initial).expect("valid");
        let (pooled, _) = heap(|| {
            for i in 0..USES {
                write(&mut pool.get(), i);
            }
        });
        let stats = pool.stats();
        let capacity = pool.get().capacity();
        let (fresh, _) = heap(|| {
            for i in 0..USES {
                let mut s = String::with_capacity(initial);
                write(&mut s, i);
                black_box(&s);
            }
        });
        writeln!(
            report,
            "{initial:>16}  {pooled:>12}  {:>4}  {:>4}  {capacity:>14}  {fresh:>20}",
            stats.gets, stats.hits
        )
        .unwrap();
    }
}

/// 1000 requests, each making a JSON text of about 100 bytes that the caller
/// keeps (as Go's `marshalJSON` returns its bytes).
fn handing_text_on(report: &mut String) {
    const REQUESTS: usize = 1000;
    writeln!(
        report,
        "\n3. Handing text on: {REQUESTS} requests each build a JSON text of about 100 bytes\n   \
         (initial_capacity 1024) and give the caller a String, which it keeps.\n"
    )
    .unwrap();
    writeln!(
        report,
        "how                      heap allocs  hit rate  bytes kept per request"
    )
    .unwrap();
    let json = |s: &mut dyn Write, i: usize| {
        write!(
            s,
            r#"{{"id":{i},"name":"Ada Lovelace","email":"ada@example.com","active":true}}"#
        )
        .expect("a String accepts any text");
    };
    type Way<'a> = (
        &'a str,
        Box<dyn Fn(&StringBuilderPool, usize) -> String + 'a>,
    );
    let ways: [Way<'_>; 3] = [
        (
            "fresh String",
            Box::new(|_, i| {
                let mut s = String::with_capacity(1024);
                json(&mut s, i);
                s
            }),
        ),
        (
            "pool, into_string",
            Box::new(|pool, i| {
                let mut s = pool.get();
                json(&mut *s, i);
                s.into_string()
            }),
        ),
        (
            "pool, copy (to_owned)",
            Box::new(|pool, i| {
                let mut s = pool.get();
                json(&mut *s, i);
                s.as_str().to_owned()
            }),
        ),
    ];
    for (how, make) in ways {
        let pool = StringBuilderPool::new(1024).expect("valid");
        let mut kept = Vec::with_capacity(REQUESTS);
        let (allocations, bytes) = heap(|| {
            for i in 0..REQUESTS {
                kept.push(make(&pool, i));
            }
        });
        let stats = pool.stats();
        let hit_rate = if stats.gets == 0 {
            "-".to_owned()
        } else {
            format!("{:.1}%", stats.hit_rate() * 100.0)
        };
        writeln!(
            report,
            "{how:<23}  {allocations:>11}  {hit_rate:>8}  {:>23}",
            bytes / REQUESTS as i64
        )
        .unwrap();
    }
}

/// Thread A gets 100 strings and sends them all to thread B, which drops
/// them; three rounds, each finished before the next begins, so the counts
/// do not depend on timing. Both threads live through all three rounds, so
/// each keeps its own thread slot.
fn two_threads(report: &mut String) {
    const STRINGS: usize = 100;
    writeln!(
        report,
        "\n4. Two threads: in each round thread A gets {STRINGS} strings and sends them to\n   \
         thread B, which drops them. Both threads live through all rounds.\n"
    )
    .unwrap();
    writeln!(
        report,
        "pool                    round  A's hits  A's misses  idle after"
    )
    .unwrap();
    let pool = StringBuilderPool::new(64).expect("valid");
    let ours = rounds(
        STRINGS,
        || pool.get(),
        || {
            let s = pool.stats();
            (s.hits, s.misses, s.idle)
        },
    );
    let chapter_04 = PoolAllocator::builder(|| String::with_capacity(64))
        .reset(String::clear)
        .build()
        .expect("valid");
    let theirs = rounds(
        STRINGS,
        || chapter_04.get(),
        || {
            let s = chapter_04.stats();
            (s.hits, s.misses, s.idle)
        },
    );
    for (name, counts) in [
        ("StringBuilderPool (06)", ours),
        ("PoolAllocator (04)", theirs),
    ] {
        for (round, (hits, misses, idle)) in counts.iter().enumerate() {
            writeln!(
                report,
                "{name:<22}  {:>5}  {hits:>8}  {misses:>10}  {idle:>10}",
                round + 1
            )
            .unwrap();
        }
    }
}

/// Three rounds of: thread A gets `n` things and sends them to thread B,
/// which drops them all and says so. Returns A's hits and misses in each
/// round, and the idle count after it, read with `stats`.
fn rounds<T: Send>(
    n: usize,
    get: impl Fn() -> T + Sync,
    stats: impl Fn() -> (u64, u64, usize) + Sync,
) -> Vec<(u64, u64, usize)> {
    let (to_b, from_a) = mpsc::channel::<Vec<T>>();
    let (to_a, from_b) = mpsc::channel::<()>();
    std::thread::scope(|s| {
        s.spawn(move || {
            for batch in from_a {
                drop(batch);
                to_a.send(()).expect("A waits for every round");
            }
        });
        let (get, stats) = (&get, &stats);
        s.spawn(move || {
            let mut counts = Vec::new();
            for _ in 0..3 {
                let (hits, misses, _) = stats();
                let batch: Vec<T> = (0..n).map(|_| get()).collect();
                to_b.send(batch).expect("B is alive");
                from_b.recv().expect("B drops the batch");
                let (hits_after, misses_after, idle) = stats();
                counts.push((hits_after - hits, misses_after - misses, idle));
            }
            drop(to_b); // B's loop ends
            counts
        })
        .join()
        .expect("A finishes")
    })
}
