//! Heap behaviour of the stack allocator, counted by dhat and, exactly, per
//! thread. This is the only test in its file: dhat counts every allocation in
//! the process.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;

use stack_allocator::StackAllocator;

/// dhat's allocator, which also counts the heap allocations of each thread.
/// The test harness's main thread allocates now and then while a test runs,
/// so the process-wide count that dhat keeps is not exact on a busy machine;
/// the count of the test's own thread is. dhat allocates for its own
/// bookkeeping through this allocator too: those nested calls are not counted.
struct PerThread;

thread_local! {
    /// Allocations and reallocations made by this thread's code.
    static BLOCKS: Cell<u64> = const { Cell::new(0) };
    /// Whether this thread is inside dhat's allocator right now.
    static INSIDE: Cell<bool> = const { Cell::new(false) };
}

/// Counts one allocation unless it comes from dhat's bookkeeping, then runs `f`.
fn counted<R>(f: impl FnOnce() -> R) -> R {
    let outer = INSIDE
        .try_with(|inside| !inside.replace(true))
        .unwrap_or(false);
    if outer {
        let _ = BLOCKS.try_with(|blocks| blocks.set(blocks.get() + 1));
    }
    let result = f();
    if outer {
        let _ = INSIDE.try_with(|inside| inside.set(false));
    }
    result
}

// SAFETY: every call is passed on unchanged to dhat's allocator; counting
// touches only thread-local `Cell`s that need no allocation.
unsafe impl GlobalAlloc for PerThread {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        counted(|| unsafe { dhat::Alloc.alloc(layout) })
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract.
        unsafe { dhat::Alloc.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract.
        counted(|| unsafe { dhat::Alloc.realloc(ptr, layout, new_size) })
    }
}

#[global_allocator]
static ALLOC: PerThread = PerThread;

/// Heap allocations (and reallocations) made by this thread so far.
fn blocks() -> u64 {
    BLOCKS.with(Cell::get)
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
        "with_capacity made {in_new} heap allocations; the buffer is one allocation, \
         reserved once at its final size"
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
