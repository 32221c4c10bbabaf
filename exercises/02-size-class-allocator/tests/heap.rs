//! Heap behaviour of the size-class allocator, counted by dhat and, exactly,
//! per thread. This is the only test in its file.
//!
//! `live` counts the heap blocks alive now, and `made` counts every
//! allocation made, a reallocation included. So where a vector grows, `live`
//! stays put and `made` goes up by one.

use size_class_allocator::SizeClassAllocator;

// dhat's allocator, counting exactly what this test's own thread allocates
// (support/thread-heap says why a process-wide count is not enough).
#[global_allocator]
static ALLOC: thread_heap::Counting = thread_heap::Counting;

/// How the heap changed between two readings.
struct Change {
    /// Allocations and reallocations made.
    made: u64,
    /// Heap blocks alive now minus then.
    live: i64,
    /// Bytes alive now minus then.
    bytes: i64,
}

fn change(before: &thread_heap::Counts) -> Change {
    let since = thread_heap::counts().since(*before);
    Change {
        made: since.made,
        live: since.live_blocks,
        bytes: since.live_bytes,
    }
}

#[test]
#[cfg_attr(miri, ignore = "dhat's heap profiler does not run under Miri")]
fn blocks_come_from_spans_and_freed_blocks_are_reused() {
    let _profiler = dhat::Profiler::builder().testing().build();
    const LIVE: usize = 10_000;

    // A new allocator holds three heap blocks: the class sizes, the lookup
    // table and the per-class pools. A class costs nothing until it is used.
    let before = thread_heap::counts();
    let heap = SizeClassAllocator::new();
    let new = change(&before);
    assert_eq!(
        new.live, 3,
        "SizeClassAllocator::new() must keep exactly 3 heap blocks (the class sizes, the lookup \
         table, the Vec of class pools), but it keeps {}; an empty class must allocate nothing: \
         no span, and no free stack or span list either",
        new.live
    );

    // The first 64-byte block: one span, and the class's two vectors.
    let mut live = Vec::with_capacity(LIVE);
    let row = heap.class_stats()[4];
    assert_eq!(row.size, 64, "class 4 of Go's table is 64 bytes");
    let pointers = row.blocks_per_span * size_of::<usize>();
    let before = thread_heap::counts();
    live.push(heap.alloc(64));
    let first = change(&before);
    assert_eq!(
        first.live, 3,
        "the first 64-byte block must leave exactly 3 new heap blocks: the class's first span, \
         its free stack and its list of spans"
    );
    assert_eq!(
        first.made,
        3,
        "the first 64-byte block made {} heap allocations where 3 would do (the span, the free \
         stack, the span list): the other {} are reallocations, and each one copies every \
         pointer pushed so far",
        first.made,
        first.made.saturating_sub(3)
    );
    assert!(
        first.bytes >= (row.span_bytes + pointers) as i64,
        "the first 64-byte block made the heap grow by only {} bytes; a span of this class is \
         {} bytes ({} blocks of 64), and the free stack needs room for {} pointers ({} bytes): \
         is the span as large as its blocks?",
        first.bytes,
        row.span_bytes,
        row.blocks_per_span,
        row.blocks_per_span,
        pointers
    );
    assert!(
        first.bytes <= (row.span_bytes + pointers + 256) as i64,
        "the first 64-byte block made the heap grow by {} bytes; expected one span ({} bytes), \
         a free stack of {} pointers ({} bytes) and the small buffer of the span list",
        first.bytes,
        row.span_bytes,
        row.blocks_per_span,
        pointers
    );

    // Fill two spans, free them all, allocate them again: no heap traffic.
    let two_spans = 2 * row.blocks_per_span;
    while live.len() < two_spans {
        live.push(heap.alloc(64));
    }
    assert_eq!(
        heap.stats().spans,
        2,
        "{two_spans} blocks fill exactly 2 spans"
    );
    let before = thread_heap::counts();
    live.clear();
    let freed = change(&before);
    assert_eq!(
        freed.made, 0,
        "freeing {two_spans} blocks made {} heap allocations; freeing must never allocate (it \
         runs in Drop, which cannot report a failure), so the free stack's capacity must cover \
         every block of every span at all times",
        freed.made
    );
    let before = thread_heap::counts();
    while live.len() < two_spans {
        live.push(heap.alloc(64));
    }
    let again = change(&before);
    assert_eq!(
        again.made, 0,
        "{two_spans} freed blocks were available, yet allocating {two_spans} again made {} heap \
         allocations; a class must hand out its free blocks before it allocates a new span, or \
         memory piles up that nobody uses",
        again.made
    );

    // Grow to 10,000 live blocks.
    let before = thread_heap::counts();
    while live.len() < LIVE {
        live.push(heap.alloc(64));
    }
    let grown = change(&before);
    let spans = heap.stats().spans;
    assert_eq!(
        spans,
        LIVE.div_ceil(row.blocks_per_span),
        "{LIVE} blocks at {} per span need {} spans",
        row.blocks_per_span,
        LIVE.div_ceil(row.blocks_per_span)
    );
    let new_spans = (spans - 2) as u64;
    assert_eq!(
        grown.live, new_spans as i64,
        "growing from 2 to {spans} spans must add exactly {new_spans} heap blocks, the new spans \
         (the free stack and the span list grow in place), but it added {}",
        grown.live
    );
    // Each of the two vectors at least doubles when it grows: from 2 spans to
    // `spans`, that is at most log2(spans / 2) + 1 reallocations each.
    let doublings = u64::from((spans / 2).ilog2()) + 1;
    let reallocations = grown.made - new_spans;
    assert!(
        reallocations <= 2 * doublings,
        "growing from 2 to {spans} spans made {new_spans} spans and {reallocations} \
         reallocations; if the free stack and the span list grew geometrically, that would be at \
         most {} ({doublings} each). About one per span means the free stack is reallocated at \
         every span, copying all its pointers each time: the cost of growing becomes quadratic \
         in the number of spans",
        2 * doublings
    );

    // Free them all, then allocate 10,000 again: no heap traffic.
    let before = thread_heap::counts();
    live.clear();
    let freed = change(&before);
    assert_eq!(
        freed.made, 0,
        "freeing {LIVE} blocks made {} heap allocations; freeing must never allocate, so the \
         free stack's capacity must cover every block of every span at all times",
        freed.made
    );
    let before = thread_heap::counts();
    while live.len() < LIVE {
        live.push(heap.alloc(64));
    }
    let reused = change(&before);
    assert_eq!(
        reused.made, 0,
        "{LIVE} freed blocks were available, yet allocating {LIVE} again made {} heap \
         allocations; a class must hand out its free blocks before it allocates a new span",
        reused.made
    );
    assert_eq!(
        heap.stats().spans,
        spans,
        "no span may be added while freed blocks remain"
    );
    live.clear();

    // Zero bytes need no heap; a large request is one heap block of its exact size.
    let before = thread_heap::counts();
    drop(heap.alloc(0));
    assert_eq!(
        change(&before).made,
        0,
        "alloc(0) must not touch the heap: zero bytes need no memory"
    );
    let before = thread_heap::counts();
    let large = heap.alloc(100_000);
    let made = change(&before);
    assert_eq!(
        (made.made, made.live, made.bytes),
        (1, 1, 100_000),
        "alloc(100_000) is above the largest class: exactly one heap block of exactly 100,000 \
         bytes from the global heap"
    );
    let before = thread_heap::counts();
    drop(large);
    let freed = change(&before);
    assert_eq!(
        (freed.made, freed.live, freed.bytes),
        (0, -1, -100_000),
        "dropping a large allocation must give its block back to the global heap"
    );
}
