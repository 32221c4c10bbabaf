//! Heap behaviour of the pool, counted by dhat and, exactly, per thread. This
//! is the only test in its file: dhat counts every allocation in the process.

use std::fmt::Write;
use std::sync::Arc;
use std::thread;

use string_builder_pool::StringBuilderPool;

// dhat's allocator, counting exactly what this test's own thread allocates
// (support/thread-heap says why a process-wide count is not enough).
#[global_allocator]
static ALLOC: thread_heap::Counting = thread_heap::Counting;

#[test]
#[cfg_attr(miri, ignore = "dhat's heap profiler does not run under Miri")]
fn gets_served_from_the_pool_allocate_nothing() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let start = thread_heap::counts();

    let pool = StringBuilderPool::new(1024).expect("1024 is a valid initial capacity");
    let built = thread_heap::counts().since(start).made;
    assert_eq!(
        built, 0,
        "building a pool made {built} heap allocations; strings are made by the first gets, \
         not in advance, and the pool's own bookkeeping needs none before then"
    );

    // Warm up: the first gets make the strings, and the pool this thread's cache.
    for _ in 0..2 {
        let burst: Vec<_> = (0..8).map(|_| pool.get()).collect();
        drop(burst);
    }
    let made = pool.stats().misses;

    let before = thread_heap::counts();
    for i in 0..1000_u32 {
        let mut s = pool.get();
        write!(s, "{{\"request\":{i},\"status\":\"ok\"}}").expect("a String accepts any text");
    }
    let in_pairs = thread_heap::counts().since(before).made;
    assert_eq!(
        in_pairs, 0,
        "1000 get + write + drop served from the pool made {in_pairs} heap allocations; a hit \
         hands out a string the pool already has, with room for the text, and taking it back \
         must not allocate either (not even a node for a list)"
    );

    let mut burst = Vec::with_capacity(8);
    let before = thread_heap::counts();
    for _ in 0..100 {
        burst.extend((0..8).map(|_| pool.get()));
        burst.clear();
    }
    let in_bursts = thread_heap::counts().since(before).made;
    assert_eq!(
        in_bursts, 0,
        "100 bursts of 8 strings held at once made {in_bursts} heap allocations; after the \
         warm-up the pool has 8 strings and room to keep them, so it must allocate nothing"
    );
    assert_eq!(
        pool.stats().misses,
        made,
        "every get after the warm-up must be a hit"
    );

    drop(burst);
    drop(pool);
    let left = thread_heap::counts().since(start);
    assert_eq!(
        (left.live_blocks, left.live_bytes),
        (0, 0),
        "once the pool is dropped, every string it kept and every block of its own must be \
         freed: {} blocks ({} bytes) are still allocated",
        left.live_blocks,
        left.live_bytes
    );

    // A thread that exits leaves its strings in its cache, and the next
    // thread to start takes its slot number (the smallest free one: this is
    // the only test in its binary, so no other thread takes it first).
    let pool = Arc::new(StringBuilderPool::new(1024).expect("1024 is a valid initial capacity"));
    let shared = Arc::clone(&pool);
    thread::spawn(move || drop(shared.get()))
        .join()
        .expect("the first thread runs");
    let shared = Arc::clone(&pool);
    let adopted = thread::spawn(move || {
        let before = thread_heap::counts();
        drop(shared.get());
        thread_heap::counts().since(before).made
    })
    .join()
    .expect("the second thread runs");
    assert_eq!(
        adopted, 0,
        "a thread that started after another had exited made {adopted} heap allocations for \
         its first get; it takes the exited thread's slot number, with the string that thread \
         left in its cache, so its get must be a hit that allocates nothing"
    );
}
