//! Heap behaviour of the stack allocator, counted by dhat and, exactly, per
//! thread. This is the only test in its file: dhat counts every allocation in
//! the process.

use stack_allocator::StackAllocator;

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
fn the_buffer_is_the_only_heap_allocation() {
    let _profiler = dhat::Profiler::builder().testing().build();

    let before = blocks();
    let mut stack = StackAllocator::with_capacity(64 * 1024).expect("64 KiB");
    let in_new = blocks() - before;
    assert_eq!(
        in_new, 1,
        "with_capacity made {in_new} heap allocations; it promises exactly one, the \
         buffer, and no allocation may be made and then thrown away on the way"
    );

    let after_new = blocks();
    for frame in 0..100_u64 {
        let start = stack.marker();
        for i in 0..50 {
            stack.alloc([frame; 4]).expect("room");
            stack.alloc_str("scratch").expect("room");
            stack.alloc_slice_copy(&[i; 8]).expect("room");
        }
        stack.scope(|scratch| {
            scratch.alloc(frame).expect("room");
        });
        stack.reset_to(start).expect("this frame's marker");
    }
    stack.reset();
    let in_use = blocks() - after_new;
    assert_eq!(
        in_use, 0,
        "15,000 allocations, 100 resets and 100 scopes made {in_use} heap allocations; \
         a stack allocator only moves its top within the buffer"
    );
}
