//! Heap behaviour of the pool, counted by dhat and, exactly, per thread. This
//! is the only test in its file: dhat counts every allocation in the process.

use buffer_pool::BufferPool;

// dhat's allocator, counting exactly what this test's own thread allocates
// (support/thread-heap says why a process-wide count is not enough).
#[global_allocator]
static ALLOC: thread_heap::Counting = thread_heap::Counting;

/// Heap allocations (and reallocations) made by this thread while `work` runs.
fn allocations(work: impl FnOnce()) -> u64 {
    let before = thread_heap::counts();
    work();
    thread_heap::counts().since(before).made
}

#[test]
#[cfg_attr(miri, ignore = "dhat's heap profiler does not run under Miri")]
fn hits_allocate_nothing_and_a_miss_allocates_only_its_buffer() {
    let _profiler = dhat::Profiler::builder().testing().build();

    let pool = BufferPool::new();
    // The first get and drop on this thread set up its part of the pool.
    drop(pool.get(1000));
    let held = pool.get(1000); // a hit
    let mut second = None;
    let miss = allocations(|| second = Some(pool.get(1000)));
    assert_eq!(
        miss, 1,
        "a get that finds no idle buffer of its class made {miss} heap allocations: it must \
         allocate its buffer, and nothing else"
    );
    let handed_back = allocations(|| drop((held, second)));
    assert_eq!(
        handed_back, 0,
        "handing back two buffers that the limits let the pool keep made {handed_back} heap \
         allocations; keeping a buffer must allocate nothing"
    );

    let in_pairs = allocations(|| {
        for i in 0..1000_u32 {
            let mut buf = pool.get(1024);
            buf.extend_from_slice(&i.to_le_bytes());
        }
    });
    assert_eq!(
        in_pairs, 0,
        "1000 get + drop pairs served from the pool made {in_pairs} heap allocations; a hit \
         hands out a buffer the pool already has, so it must allocate nothing (not even a Box \
         for the guard)"
    );

    // Bursts: more buffers held at once than a thread's private cache keeps,
    // so the rest go through the class's shared list.
    let mut burst = Vec::with_capacity(32);
    for _ in 0..2 {
        burst.extend((0..32).map(|_| pool.get(512)));
        burst.clear();
    }
    let misses = pool.stats().misses;
    let in_bursts = allocations(|| {
        for _ in 0..100 {
            burst.extend((0..32).map(|_| pool.get(512)));
            burst.clear();
        }
    });
    assert_eq!(
        in_bursts, 0,
        "100 bursts of 32 buffers held at once made {in_bursts} heap allocations; after the \
         first bursts the pool has 32 buffers of the class and room to keep them (the shared \
         list keeps its own storage), so it must allocate nothing"
    );
    assert_eq!(
        pool.stats().misses,
        misses,
        "every get after the first bursts must be a hit"
    );

    drop(pool.get(3000)); // a buffer of the 4096-byte class
    let mixed = allocations(|| {
        for i in 0..1000_usize {
            let mut buf = pool.get([1000, 3000, 512][i % 3]);
            buf.push(1);
        }
    });
    assert_eq!(
        mixed, 0,
        "gets of three classes that each have a buffer idle made {mixed} heap allocations"
    );

    let warmed = BufferPool::new();
    warmed.warm(8, 4096);
    drop(warmed.get(64)); // this thread's first get from the pool sets up its private caches
    let mut held = Vec::with_capacity(8);
    let from_warmed = allocations(|| held.extend((0..8).map(|_| warmed.get(4096))));
    assert_eq!(
        from_warmed, 0,
        "8 gets from a pool warmed with 8 buffers of their class made {from_warmed} heap \
         allocations; warm made the buffers, so the gets are hits and must allocate nothing"
    );
    drop(held);
    let class = warmed.class_stats()[6];
    assert_eq!(
        (class.size, class.gets, class.hits),
        (4096, 8, 8),
        "all 8 gets of the warmed class were hits"
    );
}
