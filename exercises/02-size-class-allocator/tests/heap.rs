//! Heap behaviour of the size-class allocator, counted by dhat. This is the
//! only test in its file: dhat counts every allocation in the process.

use size_class_allocator::SizeClassAllocator;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

#[test]
#[cfg_attr(miri, ignore = "dhat's heap profiler does not run under Miri")]
fn blocks_come_from_spans_and_freed_blocks_are_reused() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let heap = SizeClassAllocator::new();

    // 10,000 live 64-byte allocations: Go's 64-byte class has 128 blocks per 8 KiB span.
    let before = dhat::HeapStats::get();
    let live: Vec<_> = (0..10_000).map(|_| heap.alloc(64)).collect();
    let during = dhat::HeapStats::get().total_blocks - before.total_blocks;
    let spans = heap.stats().spans as u64;
    assert_eq!(spans, 79, "10,000 blocks at 128 per span need 79 spans");
    // Besides the spans, the free stack and the span list grow by doubling,
    // and `live` itself is one Vec that doubles: a few dozen at most.
    assert!(
        (spans..=spans + 45).contains(&during),
        "10,000 allocations of one class made {during} heap allocations; expected about one \
         per span ({spans}) plus a few for growing vectors, not one per allocation"
    );

    // Free them all, then allocate 10,000 again: every block is reused.
    drop(live);
    let mut again = Vec::with_capacity(10_000);
    let before = dhat::HeapStats::get();
    for _ in 0..10_000 {
        again.push(heap.alloc(64));
    }
    let reused = dhat::HeapStats::get().total_blocks - before.total_blocks;
    assert_eq!(
        reused, 0,
        "10,000 freed blocks were available, yet allocating 10,000 again made {reused} heap \
         allocations; pop the free list before growing a new span"
    );
    assert_eq!(
        heap.stats().spans,
        79,
        "no span may be added while freed blocks remain"
    );
}
