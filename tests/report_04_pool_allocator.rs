//! Chapter 04's analysis, counted: a server handles bursts of requests, each
//! holding a 1 KiB buffer from a `PoolAllocator`, and ages the pool after
//! every burst (Go's GC does it for `sync.Pool`); beside it, the same server
//! allocates a fresh `Vec` per request. Then two threads share one pool: what
//! one thread hands back, the other gets. insta keeps the report, and the
//! book includes it.

mod heap_profile;

use std::fmt::Write;
use std::hint::black_box;

use pool_allocator::{PoolAllocator, PoolStats};

#[global_allocator]
static ALLOC: thread_heap::Counting = thread_heap::Counting;

/// Every request's buffer.
const BUFFER: usize = 1024;
/// Requests in flight at once, burst by burst: a steady load, a peak, a
/// lighter load, a quiet spell, the old load again, and a peak above `max_idle`.
const BURSTS: [usize; 11] = [100, 100, 100, 300, 50, 50, 0, 0, 100, 1500, 100];
/// The pool's cap on idle buffers (the default).
const MAX_IDLE: usize = 1024;

/// One burst of the simulation, as the report prints it.
struct Row {
    in_flight: usize,
    hits: u64,
    misses: u64,
    discarded: u64,
    idle_after_age: usize,
    pool_allocations: u64,
    vec_allocations: u64,
}

/// Serves `in_flight` requests at once: each takes a buffer and writes to it,
/// then all hand theirs back.
fn burst<B: AsMut<Vec<u8>>>(in_flight: usize, mut buffer: impl FnMut() -> B) {
    let mut held: Vec<B> = Vec::with_capacity(in_flight);
    for request in 0..in_flight {
        let mut buf = buffer();
        buf.as_mut().extend_from_slice(&request.to_le_bytes());
        held.push(black_box(buf));
    }
}

/// Heap allocations made by this thread while `work` runs.
fn allocations(work: impl FnOnce()) -> u64 {
    let before = thread_heap::counts();
    work();
    thread_heap::counts().since(before).made
}

/// A `Pooled` guard as the `AsMut<Vec<u8>>` that [`burst`] writes through.
struct Request<'a>(pool_allocator::Pooled<'a, Vec<u8>>);

impl AsMut<Vec<u8>> for Request<'_> {
    fn as_mut(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }
}

#[test]
fn bursts_of_requests_with_and_without_a_pool() {
    let _profiler = heap_profile::profiler();
    let pool = PoolAllocator::builder(|| Vec::<u8>::with_capacity(BUFFER))
        .reset(Vec::clear)
        .max_idle(MAX_IDLE)
        .build()
        .expect("a valid limit");

    let mut rows = Vec::new();
    let mut last = pool.stats();
    for in_flight in BURSTS {
        // Held with the burst: the `Vec` that holds the guards, as in the plain run.
        let pool_allocations = allocations(|| {
            burst(in_flight, || Request(pool.get()));
            pool.age();
        });
        let vec_allocations = allocations(|| burst(in_flight, || Vec::with_capacity(BUFFER)));
        let now = pool.stats();
        rows.push(Row {
            in_flight,
            hits: now.hits - last.hits,
            misses: now.misses - last.misses,
            discarded: now.discarded - last.discarded,
            idle_after_age: now.idle,
            pool_allocations,
            vec_allocations,
        });
        last = now;
    }
    let total = pool.stats();
    assert_eq!(
        total.gets,
        total.hits + total.misses,
        "every get is a hit or a miss"
    );
    assert_eq!(total.puts, total.gets, "every buffer came back");

    let mut report = String::new();
    writeln!(
        report,
        "Bursts of requests, each holding a {BUFFER}-byte buffer until the burst ends;\n\
         age() after every burst; max_idle {MAX_IDLE}. Heap allocations include the\n\
         Vec that holds the burst's buffers (1 per burst, in both columns)."
    )
    .unwrap();
    writeln!(
        report,
        "\nburst  in flight  hits  misses  discarded  idle after age  heap allocs: pool  Vec per request"
    )
    .unwrap();
    for (i, r) in rows.iter().enumerate() {
        writeln!(
            report,
            "{:>5}  {:>9}  {:>4}  {:>6}  {:>9}  {:>14}  {:>17}  {:>15}",
            i + 1,
            r.in_flight,
            r.hits,
            r.misses,
            r.discarded,
            r.idle_after_age,
            r.pool_allocations,
            r.vec_allocations
        )
        .unwrap();
    }
    let pool_total: u64 = rows.iter().map(|r| r.pool_allocations).sum();
    let vec_total: u64 = rows.iter().map(|r| r.vec_allocations).sum();
    writeln!(
        report,
        "total  {:>9}  {:>4}  {:>6}  {:>9}  {:>14}  {pool_total:>17}  {vec_total:>15}",
        rows.iter().map(|r| r.in_flight).sum::<usize>(),
        total.hits,
        total.misses,
        total.discarded,
        total.idle
    )
    .unwrap();
    writeln!(report, "hit rate {:.1}%", total.hit_rate() * 100.0).unwrap();

    writeln!(report, "\n{}", across_threads()).unwrap();

    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!("bursts", report);
    });
}

/// Thread A serves 200 requests and exits; then thread B serves 200: B's
/// gets are hits, served from the cache A left behind.
fn across_threads() -> String {
    let pool = PoolAllocator::builder(|| Vec::<u8>::with_capacity(BUFFER))
        .reset(Vec::clear)
        .build()
        .expect("a valid pool");
    let mut report = String::from(
        "Two threads, one after the other, each serving 200 requests at once:\n\
         thread  gets  hits  misses  idle after",
    );
    for name in ["A", "B"] {
        let before = pool.stats();
        std::thread::scope(|s| {
            s.spawn(|| burst(200, || Request(pool.get())));
        });
        let after = pool.stats();
        let delta = |f: fn(&PoolStats) -> u64| f(&after) - f(&before);
        write!(
            report,
            "\n{name:>6}  {:>4}  {:>4}  {:>6}  {:>10}",
            delta(|s| s.gets),
            delta(|s| s.hits),
            delta(|s| s.misses),
            after.idle
        )
        .unwrap();
    }
    report
}
