//! Heap behaviour of the pool, counted by dhat. This is the only test in its
//! file: dhat counts every allocation in the process, so no other test may run
//! beside it.

use fixed_size_pool::FixedSizePool;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

#[test]
#[cfg_attr(miri, ignore = "dhat's heap profiler does not run under Miri")]
fn new_allocates_once_and_alloc_and_drop_never_touch_the_heap() {
    let _profiler = dhat::Profiler::builder().testing().build();

    let before_new = dhat::HeapStats::get();
    let pool = FixedSizePool::new(64, 1024).expect("a pool of 1024 blocks of 64 bytes");
    let after_new = dhat::HeapStats::get();
    let allocations_in_new = after_new.total_blocks - before_new.total_blocks;
    assert!(
        allocations_in_new <= 1,
        "new() made {allocations_in_new} heap allocations; all blocks must live in one slab \
         allocated once (reserve the exact size up front so the Vec never reallocates)"
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
    let after_use = dhat::HeapStats::get();
    let allocations_in_use = after_use.total_blocks - after_new.total_blocks;
    assert_eq!(
        allocations_in_use, 0,
        "3,000 alloc/drop pairs made {allocations_in_use} heap allocations; taking and \
         returning a block must only move free-list links inside the slab"
    );
    drop(pool);
}
