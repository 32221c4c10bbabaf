//! Chapter 02's analysis, counted. Two reports, kept as insta snapshots that
//! the book includes:
//! - `go_table`: every class of Go's table, its span, and the worst rounding
//!   waste over every request size from 1 B to 32 KiB;
//! - `mixed_workload`: the per-class table after a realistic mix of requests,
//!   and the heap allocations it took (dhat) next to one `Vec` per request.
//!
//! One test only: dhat counts the whole process.

mod heap_profile;

use std::fmt::Write;
use std::hint::black_box;

use size_class_allocator::{Allocation, SizeClassAllocator};

#[global_allocator]
static ALLOC: thread_heap::Counting = thread_heap::Counting;

/// How many allocations the workload keeps alive at once.
const LIVE_SLOTS: usize = 2_000;
/// How many requests the workload makes in all (after filling the slots).
const REQUESTS: usize = 50_000;

/// A fixed pseudo-random sequence (xorshift32), so every run is the same.
struct Sequence(u32);

impl Sequence {
    fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0
    }

    /// `low..=high`, evenly.
    fn between(&mut self, low: usize, high: usize) -> usize {
        low + self.next() as usize % (high - low + 1)
    }

    /// A request size shaped like a typical heap: mostly small objects,
    /// some buffers, a few large blocks that no class holds.
    fn request_size(&mut self) -> usize {
        match self.next() % 1000 {
            0..=599 => self.between(1, 128),
            600..=849 => self.between(129, 1024),
            850..=969 => self.between(1025, 8192),
            970..=994 => self.between(8193, 32 * 1024),
            _ => self.between(32 * 1024 + 1, 100_000),
        }
    }
}

/// The classes of Go's table: span, blocks per span, the leftover tail, and
/// the worst rounding waste (a request one byte above the class below).
fn go_table_report(heap: &SizeClassAllocator) -> String {
    let mut report = String::new();
    writeln!(
        report,
        "class  span bytes  blocks  tail waste  worst request  worst waste"
    )
    .unwrap();
    let mut previous = 0;
    let mut worst_overall = (0.0, 0, 0);
    for row in heap.class_stats() {
        let tail = row.span_bytes - row.blocks_per_span * row.size;
        let worst_request = previous + 1;
        let waste = (row.size - worst_request) as f64 / row.size as f64;
        if waste > worst_overall.0 {
            worst_overall = (waste, worst_request, row.size);
        }
        writeln!(
            report,
            "{:>5}  {:>10}  {:>6}  {:>10}  {:>13}  {:>10.1}%",
            row.size,
            row.span_bytes,
            row.blocks_per_span,
            tail,
            worst_request,
            waste * 100.0
        )
        .unwrap();
        previous = row.size;
    }
    // Over every request size, how much of the block goes unused?
    let (mut requested, mut reserved) = (0usize, 0usize);
    let mut above_one_eighth = 0;
    for size in 1..=32 * 1024 {
        let class = heap
            .class_for(size)
            .expect("every size up to 32 KiB has a class");
        requested += size;
        reserved += class;
        if (class - size) * 8 > class {
            above_one_eighth += 1;
        }
    }
    writeln!(
        report,
        "\nworst: a {}-byte request in the {}-byte class wastes {:.1}% of its block",
        worst_overall.1,
        worst_overall.2,
        worst_overall.0 * 100.0
    )
    .unwrap();
    writeln!(
        report,
        "over every request size from 1 to 32768 bytes: {:.2}% of reserved bytes unused; \
         {} of 32768 sizes waste more than an eighth",
        (1.0 - requested as f64 / reserved as f64) * 100.0,
        above_one_eighth
    )
    .unwrap();
    report
}

/// Runs the mixed workload through `alloc` and returns how many heap
/// allocations it made, with the allocations still alive at the end.
fn run_workload<T>(mut alloc: impl FnMut(usize) -> T) -> (u64, Vec<T>) {
    let mut sizes = Sequence(0x9e37_79b9);
    let mut picks = Sequence(0x85eb_ca6b);
    let mut slots = Vec::with_capacity(LIVE_SLOTS);
    let start = thread_heap::counts().made;
    for _ in 0..LIVE_SLOTS {
        slots.push(alloc(sizes.request_size()));
    }
    for _ in 0..REQUESTS {
        let slot = picks.between(0, LIVE_SLOTS - 1);
        slots[slot] = black_box(alloc(sizes.request_size()));
    }
    (thread_heap::counts().made - start, slots)
}

fn mixed_workload_report(heap: &SizeClassAllocator) -> String {
    let (pool_heap_allocs, live) = run_workload(|size| heap.alloc(size));
    let (std_heap_allocs, _) = run_workload(Vec::<u8>::with_capacity);

    // Wasted bytes per class, from the allocations alive at the end.
    let classes = heap.classes();
    let mut waste = vec![0usize; classes.len()];
    for allocation in &live {
        let allocation: &Allocation<'_> = allocation;
        if let Some(class) = heap.class_for(allocation.len()) {
            let index = classes.binary_search(&class).expect("a class of the table");
            waste[index] += class - allocation.len();
        }
    }

    let stats = heap.stats();
    let mut report = String::new();
    writeln!(
        report,
        "{REQUESTS} requests over {LIVE_SLOTS} live slots, sizes 1 B to 100 KB \
         (60% up to 128 B, 25% up to 1 KiB, 12% up to 8 KiB, 2.5% up to 32 KiB, 0.5% above)\n"
    )
    .unwrap();
    writeln!(report, "class  allocs  live  spans  waste of live bytes").unwrap();
    for (row, waste) in heap.class_stats().iter().zip(&waste) {
        if row.allocs > 0 {
            writeln!(
                report,
                "{:>5}  {:>6}  {:>4}  {:>5}  {:>19}",
                row.size, row.allocs, row.live, row.spans, waste
            )
            .unwrap();
        }
    }
    writeln!(
        report,
        "\ntotal: {} allocs, {} large (bypassed), {} spans; live: {} bytes requested, {} reserved; \
         internal fragmentation {:.1}%",
        stats.allocs,
        stats.large_allocs,
        stats.spans,
        stats.live_requested,
        stats.live_reserved,
        heap.internal_fragmentation() * 100.0
    )
    .unwrap();
    writeln!(report, "\nheap allocations (dhat)").unwrap();
    writeln!(
        report,
        "SizeClassAllocator   {pool_heap_allocs:>6}  (spans, large requests, growing free stacks and span lists)"
    )
    .unwrap();
    writeln!(report, "Vec per request      {std_heap_allocs:>6}").unwrap();
    drop(live);
    report
}

#[test]
fn gos_size_classes_measured() {
    let _profiler = heap_profile::profiler();
    let heap = SizeClassAllocator::new();
    // The book includes the report without insta's header (`verify` checks the line).
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!("go_table", go_table_report(&heap));
    });
    let heap = SizeClassAllocator::new();
    // The book includes the report without insta's header (`verify` checks the line).
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!("mixed_workload", mixed_workload_report(&heap));
    });
}
