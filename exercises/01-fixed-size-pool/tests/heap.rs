//! Heap behaviour of the pool, counted by dhat and, exactly, per thread. This
//! is the only test in its file: dhat counts every allocation in the process.

use fixed_size_pool::FixedSizePool;

// dhat's allocator, counting exactly what this test's own thread allocates
// (support/thread-heap says why a process-wide count is not enough).
#[global_allocator]
static ALLOC: thread_heap::Counting = thread_heap::Counting;

/// Heap allocations (and reallocations) made by this thread so far.
fn blocks() -> u64 {
    thread_heap::counts().made
}

#[test]
#[cfg_attr(miri, ignore = "dhat's heap profiler does not run under Miri")]
fn new_allocates_once_and_alloc_and_drop_never_touch_the_heap() {
    let _profiler = dhat::Profiler::builder().testing().build();

    // Small pools too: however small the slab (one word, a few words), `new`
    // makes one allocation, and that allocation is the slab for the pool's
    // whole life: nothing is allocated again to move it or change its size.
    for (block_size, capacity) in [(8, 1), (1, 3), (24, 2), (1500, 16)] {
        let before = blocks();
        let small = FixedSizePool::new(block_size, capacity)
            .expect("a small pool of a few blocks must be built");
        let allocations = blocks() - before;
        assert_eq!(
            allocations, 1,
            "new({block_size}, {capacity}) made {allocations} heap allocations (a reallocation \
             counts as one more); the pool promises exactly one: its slab, in the place where it \
             will stay for the pool's whole life"
        );
        drop(small);
    }

    let before_new = blocks();
    let pool = FixedSizePool::new(64, 1024).expect("a pool of 1024 blocks of 64 bytes");
    let after_new = blocks();
    let allocations_in_new = after_new - before_new;
    assert_eq!(
        allocations_in_new, 1,
        "new(64, 1024) made {allocations_in_new} heap allocations (a reallocation counts as one \
         more); all 1024 blocks must live in one slab, allocated once, whatever the capacity"
    );

    // Hold a few blocks at a time and cycle through the pool many times.
    for _ in 0..1_000 {
        let a = pool.alloc();
        let b = pool.alloc();
        let c = pool.alloc();
        assert!(
            a.is_some() && b.is_some() && c.is_some(),
            "3 of 1024 blocks must be free"
        );
    }
    let after_use = blocks();
    let allocations_in_use = after_use - after_new;
    assert_eq!(
        allocations_in_use, 0,
        "3,000 alloc/drop pairs made {allocations_in_use} heap allocations; taking and \
         returning a block must not touch the heap at all: the slab made by new is all the \
         memory the pool ever uses"
    );
    drop(pool);
}
