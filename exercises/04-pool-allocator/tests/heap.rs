//! Heap behaviour of the pool, counted by dhat and, exactly, per thread. This
//! is the only test in its file: dhat counts every allocation in the process.

use pool_allocator::PoolAllocator;

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
fn gets_served_from_the_pool_allocate_nothing() {
    let _profiler = dhat::Profiler::builder().testing().build();

    let pool = PoolAllocator::builder(|| Vec::<u8>::with_capacity(1024))
        .reset(|buf| buf.clear())
        .build()
        .expect("the default max_idle is valid");
    // Warm up: the first gets make the objects, and the pool its per-thread cache.
    for _ in 0..2 {
        let burst: Vec<_> = (0..8).map(|_| pool.get()).collect();
        drop(burst);
    }
    let made = pool.stats().misses;

    let before = blocks();
    for i in 0..1000_u32 {
        let mut buf = pool.get();
        buf.extend_from_slice(&i.to_le_bytes());
    }
    let in_pairs = blocks() - before;
    assert_eq!(
        in_pairs, 0,
        "1000 get + drop pairs served from the pool made {in_pairs} heap allocations; a hit \
         hands out an object the pool already has, so it must allocate nothing (not even a \
         Box for the guard, or a node for a list)"
    );

    let mut burst = Vec::with_capacity(8);
    let before = blocks();
    for _ in 0..100 {
        burst.extend((0..8).map(|_| pool.get()));
        burst.clear();
    }
    let in_bursts = blocks() - before;
    assert_eq!(
        in_bursts, 0,
        "100 bursts of 8 objects held at once made {in_bursts} heap allocations; after the \
         warm-up the pool has 8 objects and room to keep them, so it must allocate nothing"
    );

    // A server that ages its pool on a timer: the pool's lists swap roles at
    // every age(), and must keep their buffers while they do.
    for _ in 0..3 {
        burst.extend((0..8).map(|_| pool.get()));
        burst.clear();
        pool.age();
    }
    let before = blocks();
    for _ in 0..100 {
        burst.extend((0..8).map(|_| pool.get()));
        burst.clear();
        pool.age();
    }
    let with_age = blocks() - before;
    assert_eq!(
        with_age, 0,
        "100 bursts of 8, each followed by age(), made {with_age} heap allocations; every \
         object is used between two ages, so none is dropped or made, and the lists that \
         age() swaps must keep their buffers instead of growing new ones"
    );
    assert_eq!(
        pool.stats().misses,
        made,
        "every get after the warm-up must be a hit"
    );
}
