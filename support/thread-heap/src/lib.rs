//! The heap tests' global allocator: dhat's allocator, with exact counts of
//! what the *current thread* allocates.
//!
//! dhat counts every allocation in the process. A test binary is never alone
//! in it: libtest's main thread allocates now and then while a test runs (to
//! report, to time), so on a busy machine a process-wide count is sometimes
//! off by a few, and a heap test fails at random, blaming correct code. The
//! count of the test's own thread is exact. dhat still sees everything, so a
//! profiler started in the test works as usual.
//!
//! ```
//! #[global_allocator]
//! static ALLOC: thread_heap::Counting = thread_heap::Counting;
//!
//! let before = thread_heap::counts();
//! let boxed = Box::new(7_u64);
//! let change = thread_heap::counts().since(before);
//! assert_eq!(change.made, 1);
//! assert_eq!(change.live_bytes, 8);
//! drop(boxed);
//! ```

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;

/// dhat's allocator, counting the current thread's allocations.
pub struct Counting;

/// What one thread has done to the heap so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Allocations made, a reallocation included (dhat's `total_blocks`).
    pub made: u64,
    /// Heap blocks allocated minus freed (dhat's `curr_blocks`).
    pub live_blocks: i64,
    /// Bytes allocated minus freed (dhat's `curr_bytes`).
    pub live_bytes: i64,
}

impl Counts {
    /// What changed between `before` and `self`.
    #[must_use]
    pub fn since(self, before: Counts) -> Counts {
        Counts {
            made: self.made - before.made,
            live_blocks: self.live_blocks - before.live_blocks,
            live_bytes: self.live_bytes - before.live_bytes,
        }
    }
}

thread_local! {
    static COUNTS: Cell<Counts> = const {
        Cell::new(Counts { made: 0, live_blocks: 0, live_bytes: 0 })
    };
    /// Whether this thread is inside the allocator now: dhat allocates for
    /// its own bookkeeping, and those nested calls are not the program's.
    static INSIDE: Cell<bool> = const { Cell::new(false) };
}

/// This thread's counts so far.
pub fn counts() -> Counts {
    COUNTS.with(Cell::get)
}

/// Runs `f`, the outermost allocator call of this thread, recording `change`.
fn counted<R>(change: impl FnOnce(&mut Counts), f: impl FnOnce() -> R) -> R {
    let outermost = INSIDE
        .try_with(|inside| !inside.replace(true))
        .unwrap_or(false);
    let result = f();
    if outermost {
        let _ = COUNTS.try_with(|counts| {
            let mut now = counts.get();
            change(&mut now);
            counts.set(now);
        });
        let _ = INSIDE.try_with(|inside| inside.set(false));
    }
    result
}

fn signed(bytes: usize) -> i64 {
    i64::try_from(bytes).unwrap_or(i64::MAX)
}

// SAFETY: every call goes to dhat's allocator unchanged; the counting only
// touches thread-local `Cell`s, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        counted(
            |c| {
                c.made += 1;
                c.live_blocks += 1;
                c.live_bytes += signed(layout.size());
            },
            // SAFETY: the caller keeps `GlobalAlloc::alloc`'s contract.
            || unsafe { dhat::Alloc.alloc(layout) },
        )
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        counted(
            |c| {
                c.made += 1;
                c.live_blocks += 1;
                c.live_bytes += signed(layout.size());
            },
            // SAFETY: the caller keeps `GlobalAlloc::alloc_zeroed`'s contract.
            || unsafe { dhat::Alloc.alloc_zeroed(layout) },
        )
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        counted(
            |c| {
                c.live_blocks -= 1;
                c.live_bytes -= signed(layout.size());
            },
            // SAFETY: the caller keeps `GlobalAlloc::dealloc`'s contract.
            || unsafe { dhat::Alloc.dealloc(ptr, layout) },
        );
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        counted(
            |c| {
                c.made += 1;
                c.live_bytes += signed(new_size) - signed(layout.size());
            },
            // SAFETY: the caller keeps `GlobalAlloc::realloc`'s contract.
            || unsafe { dhat::Alloc.realloc(ptr, layout, new_size) },
        )
    }
}
