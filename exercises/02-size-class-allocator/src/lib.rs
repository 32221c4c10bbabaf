//! # Chapter 02: a size-class allocator
//!
//! Read `book/src/02-size-class-allocator.md` first, then fill in every
//! `todo!()` below. Check your work with
//!
//! ```text
//! cargo run -- check 02     # or: cargo test -p exercise-02-size-class-allocator
//! cargo run -- hint 02      # when you are stuck: a nudge first, the shape last
//! ```
//!
//! Given: the data layout (every struct, its fields and what they mean), Go's
//! class table, the constants and the error enum. This chapter is about using
//! that layout, so keep it. Yours to write: every body that says `todo!()`.
//! Each message states what must hold when the function returns; how to get
//! there is up to you.
//!
//! Where to start: `Display` for `ConfigError` (the tests print an unexpected
//! error with `{err}`), then the plain functions `validate`, `pages_per_span`
//! and `lookup_table`, then the constructors, `class_for`, `ClassPool::new`
//! and `live`, then `stats` and `class_stats` (most tests read them), then the
//! spans, `alloc` and the `Allocation` impls, and `internal_fragmentation` last.
//! When every test passes, run Miri on your `unsafe` code:
//! `cargo +nightly miri test -p exercise-02-size-class-allocator`.

// The bodies below are still `todo!()`, so the compiler would warn that the
// arguments and fields are unused. Delete this line when you are done.
#![allow(unused_variables, dead_code, unused_imports)]

use std::cell::RefCell;
use std::cmp::Ordering;
use std::fmt;
use std::mem;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;

/// Spans are made of pages of this many bytes, as in Go's runtime.
pub const PAGE_SIZE: usize = 8192;

/// The largest class [`SizeClassAllocator::with_classes`] accepts, in bytes.
pub const MAX_CLASS_SIZE: usize = 1 << 20;

/// The most classes a table may have: class numbers are stored in a byte.
pub const MAX_CLASSES: usize = 255;

/// Every block starts on a word boundary, and blocks are whole words long.
const WORD: usize = mem::size_of::<usize>();

// ANCHOR: go_classes
/// Go's small-object size classes (`runtime/sizeclasses.go`): bytes per
/// object, and pages of [`PAGE_SIZE`] per span. Go's generator chose the pages
/// so that a span's leftover tail stays small, but not by the plain rule of
/// [`SizeClassAllocator::with_classes`]: many classes keep pages chosen for a
/// smaller size (the lesson's section "Spans" says how), so use them as given.
/// Go gives the 1,792-byte class 2 pages, for instance.
#[rustfmt::skip]
const GO_CLASSES: [(usize, usize); 66] = [
    (8, 1), (16, 1), (32, 1), (48, 1), (64, 1), (80, 1), (96, 1), (112, 1),
    (128, 1), (144, 1), (160, 1), (176, 1), (192, 1), (208, 1), (224, 1), (240, 1),
    (256, 1), (288, 1), (320, 1), (352, 1), (384, 1), (416, 1), (448, 1), (480, 1),
    (512, 1), (576, 1), (640, 1), (704, 1), (768, 1), (896, 1), (1024, 1), (1152, 1),
    (1280, 1), (1408, 2), (1536, 1), (1792, 2), (2048, 1), (2304, 2), (2688, 1), (3072, 3),
    (3200, 2), (3456, 3), (4096, 1), (4864, 3), (5376, 2), (6144, 3), (6528, 4), (6784, 5),
    (6912, 6), (8192, 1), (9472, 7), (9728, 6), (10240, 5), (10880, 4), (12288, 3), (13568, 5),
    (14336, 7), (16384, 2), (18432, 9), (19072, 7), (20480, 5), (21760, 8), (24576, 3), (27264, 10),
    (28672, 7), (32768, 4),
];
// ANCHOR_END: go_classes

// ANCHOR: layout
/// An allocator that rounds every request up to a size class.
pub struct SizeClassAllocator {
    /// The class sizes, strictly increasing.
    classes: Box<[usize]>,
    /// The size-to-class table. The *granule* is `1 << shift` bytes; entry
    /// `k` is the number of the class for every size in
    /// `(k - 1) * granule + 1 ..= k * granule`. Entry 0 stands for size 0,
    /// which has no class: it is never read (a size of 0 is answered before
    /// the table), and holds 0. The table ends at the entry of the largest
    /// class, so its length is one more than the largest class in granules.
    lookup: Box<[u8]>,
    /// log2 of the granule: the largest power of two that divides every class.
    shift: u32,
    /// Everything that changes on alloc and free.
    state: RefCell<State>,
}

/// The mutable part of the allocator. Only the counters that the hot path
/// must touch are kept; the totals in [`AllocatorStats`] are derived from them.
struct State {
    /// One free stack and span list per class, in class order.
    pools: Vec<ClassPool>,
    /// Bytes requested by the allocations alive now, of every kind.
    ///
    /// Who counts what, here and in [`ClassPool`], once per allocation:
    /// `take_block` and `give_back` count a block, `alloc_large` a large
    /// allocation, `alloc` itself a zero-byte one (which adds no bytes), and
    /// `release_bypass` the free of a large or zero-byte one.
    live_requested: usize,
    /// Allocations that touched no class: zero-byte and large ones.
    bypass_allocs: u64,
    /// Frees of zero-byte and large allocations.
    bypass_frees: u64,
    /// Allocations above the largest class.
    large_allocs: u64,
    /// Bytes held by large allocations alive now.
    live_large: usize,
}

/// The blocks of one size class.
struct ClassPool {
    /// Bytes from one block to the next: the class size rounded up to whole words.
    stride: usize,
    /// How many blocks one span holds.
    blocks_per_span: usize,
    /// Pages per span.
    pages: usize,
    /// The free blocks, most recently freed on top. Its capacity always covers
    /// every block of every span, so pushing never reallocates.
    free: Vec<NonNull<u8>>,
    /// The spans, each allocated once and kept until the allocator is dropped.
    /// Words, not bytes, so that every block is word aligned; a `Vec`, not a
    /// `Box`, because moving a `Box` asserts that it is unique, which would
    /// invalidate the block pointers taken from it (see the lesson's trap
    /// "Why spans are `Vec<usize>`, not `Box<[u8]>`").
    spans: Vec<Vec<usize>>,
    allocs: u64,
    frees: u64,
}

// SAFETY: the `NonNull`s point into spans that the allocator owns. Moving the
// allocator to another thread moves that ownership with it, and no
// `Allocation` can be alive at the time, because each one borrows the allocator.
unsafe impl Send for SizeClassAllocator {}

/// Memory handed out by a [`SizeClassAllocator`]: exactly the requested size.
///
/// It dereferences to `[u8]` and returns its block to its class when dropped.
#[must_use = "dropping an Allocation frees it at once"]
pub struct Allocation<'a> {
    allocator: &'a SizeClassAllocator,
    memory: Memory,
    len: usize,
}

/// Where an allocation's bytes live.
enum Memory {
    /// A block of class number `class`.
    Block { class: usize, ptr: NonNull<u8> },
    /// A request above the largest class, straight from the global heap.
    Large(Box<[u8]>),
    /// A zero-byte request: no memory at all.
    Empty,
}
// ANCHOR_END: layout

/// Totals over the allocator's life, and what is live now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AllocatorStats {
    /// Calls to [`SizeClassAllocator::alloc`], of every size.
    pub allocs: u64,
    /// Allocations dropped.
    pub frees: u64,
    /// Allocations above the largest class, served by the global heap.
    pub large_allocs: u64,
    /// Spans allocated, over all classes.
    pub spans: usize,
    /// Bytes requested by the allocations alive now.
    pub live_requested: usize,
    /// Bytes set aside for the allocations alive now: their class sizes
    /// (or, for large allocations, their exact size).
    pub live_reserved: usize,
}

/// One size class's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClassStats {
    /// The class size, in bytes.
    pub size: usize,
    /// Blocks handed out by this class.
    pub allocs: u64,
    /// Blocks returned to this class.
    pub frees: u64,
    /// Blocks in use now.
    pub live: usize,
    /// Spans this class has allocated.
    pub spans: usize,
    /// How many blocks one span of this class holds.
    pub blocks_per_span: usize,
    /// The size of one span: a whole number of [`PAGE_SIZE`] pages.
    pub span_bytes: usize,
}

// ANCHOR: errors
/// Why [`SizeClassAllocator::with_classes`] refused a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigError {
    /// The table has no classes.
    EmptyTable,
    /// A class of zero bytes could hold nothing.
    ZeroClass,
    /// `sizes[index]` is smaller than the class just before it.
    Unsorted {
        /// Where the table goes down.
        index: usize,
    },
    /// A class is equal to the class just before it.
    Duplicate {
        /// The repeated size.
        size: usize,
    },
    /// More classes than a byte can number.
    TooManyClasses {
        /// How many the table had.
        count: usize,
    },
    /// A class above [`MAX_CLASS_SIZE`]; leave such sizes to the global heap.
    ClassTooLarge {
        /// The first such class, from the left.
        size: usize,
    },
}
// ANCHOR_END: errors

impl SizeClassAllocator {
    /// An allocator with Go's 66 size classes, from 8 bytes to 32 KiB, each
    /// with Go's own pages per span from the table.
    pub fn new() -> Self {
        todo!(
            "Go's 66 classes with Go's own pages per span, as GO_CLASSES gives them (not pages_per_span's: they differ for some classes); no class allocates anything until it is used"
        )
    }

    /// An allocator with your own class table, in bytes, strictly increasing.
    ///
    /// Each class's span is the fewest whole pages that waste at most an
    /// eighth of the span on the leftover tail (the core of Go's rule; Go's
    /// own table, used by [`new`](Self::new), differs for some classes). The tail is what
    /// is left after as many blocks as fit, and blocks sit a whole number of
    /// words apart: a 1,638-byte class has blocks every 1,640 bytes.
    ///
    /// # Errors
    /// The first problem found, checking in this order:
    /// [`EmptyTable`](ConfigError::EmptyTable); more than [`MAX_CLASSES`]
    /// classes ([`TooManyClasses`](ConfigError::TooManyClasses)); a zero
    /// ([`ZeroClass`](ConfigError::ZeroClass)); then, walking the table from
    /// the left, the first class that is not larger than the one just before
    /// it: [`Duplicate`](ConfigError::Duplicate) if equal,
    /// [`Unsorted`](ConfigError::Unsorted) if smaller; last, the first class
    /// above [`MAX_CLASS_SIZE`] ([`ClassTooLarge`](ConfigError::ClassTooLarge)).
    /// So `[16, 64, 16]` is `Unsorted { index: 2 }`: its 16s are not neighbours.
    pub fn with_classes(sizes: &[usize]) -> Result<Self, ConfigError> {
        todo!(
            "an allocator for this table if validate accepts it, each span sized by pages_per_span; otherwise validate's error"
        )
    }

    fn build(sizes: &[usize], pages: impl Iterator<Item = usize>) -> Self {
        todo!(
            "one empty ClassPool per class (no span, no heap allocation yet), the lookup table, every counter at zero"
        )
    }

    /// The class sizes, smallest first.
    pub fn classes(&self) -> &[usize] {
        todo!("the class sizes, smallest first")
    }

    // ANCHOR: class_for
    /// The smallest class that holds `size` bytes; `None` for 0 bytes (which
    /// need no block) and above the largest class. One table lookup, no search.
    #[inline]
    pub fn class_for(&self, size: usize) -> Option<usize> {
        todo!("the size of the smallest class >= size; None for 0 and above the largest class")
    }

    /// The class number for `size`, from the lookup table. The table ends at
    /// the largest class, so a size above it finds no entry.
    #[inline]
    fn class_index(&self, size: usize) -> Option<usize> {
        todo!(
            "the number of the smallest class >= size, in O(1): no search; None for 0 and above the largest class, and no overflow even for usize::MAX"
        )
    }
    // ANCHOR_END: class_for

    // ANCHOR: alloc
    /// Allocates `size` bytes: a block of the smallest class that fits, or,
    /// above the largest class, memory straight from the global heap. Zero
    /// bytes are allowed and touch no class.
    ///
    /// A block that comes from a fresh span reads as zeros, and so does a
    /// large allocation. A reused block promises nothing: its bytes are
    /// whatever its previous user left. Like `Box`, this aborts if the global
    /// heap is exhausted.
    #[inline]
    pub fn alloc(&self, size: usize) -> Allocation<'_> {
        todo!(
            "exactly `size` bytes: a block of the smallest class that fits; for 0 bytes no memory and no class; above the largest class, memory of its own from the global heap. Each allocation counted once, by whoever takes the memory (State's live_requested says who); alloc itself counts only a zero-byte allocation. A block from a fresh span and large memory read as zeros; a reused block promises nothing"
        )
    }

    /// Pops a free block of `class`, growing the class by a span if it has none.
    #[inline]
    fn take_block(&self, class: usize, size: usize) -> NonNull<u8> {
        todo!(
            "a free block of `class`, the one freed last; a new span only when the class has none free; the class's alloc and the `size` requested bytes counted here"
        )
    }

    /// Pushes a block back on its class's free stack.
    #[inline]
    fn give_back(&self, class: usize, ptr: NonNull<u8>, size: usize) {
        todo!(
            "the block is free again, first in line for its class; the class's free and the `size` requested bytes uncounted here; never reallocates"
        )
    }
    // ANCHOR_END: alloc

    #[cold]
    fn alloc_large(&self, size: usize) -> Memory {
        todo!(
            "exactly `size` zeroed bytes from the global heap, counted here: an allocation, a large one, `size` bytes requested and held"
        )
    }

    /// Counts the free of a zero-byte or large allocation of `size` bytes.
    #[cold]
    fn release_bypass(&self, size: usize) {
        todo!(
            "the free of a zero-byte or large allocation of `size` bytes is counted here (a free, and `size` bytes no longer requested nor held)"
        )
    }

    /// The running totals.
    pub fn stats(&self) -> AllocatorStats {
        todo!(
            "totals over every class and the bypass: allocs, frees, large allocs, spans, live bytes requested and reserved"
        )
    }

    /// One row per class, in class order.
    pub fn class_stats(&self) -> Vec<ClassStats> {
        todo!("one row per class, in class order")
    }

    /// The share of reserved bytes that live allocations do not use:
    /// `1 - live_requested / live_reserved`, or 0 when nothing is live.
    pub fn internal_fragmentation(&self) -> f64 {
        todo!(
            "the share of live reserved bytes that no live allocation asked for; 0.0 when nothing is live"
        )
    }
}

impl Default for SizeClassAllocator {
    fn default() -> Self {
        Self::new()
    }
}

/// Shows the table's shape (classes, granule, lookup entries) and the totals.
impl fmt::Debug for SizeClassAllocator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SizeClassAllocator")
            .field("classes", &self.classes.len())
            .field("granule", &(1usize << self.shift))
            .field("lookup_entries", &self.lookup.len())
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl ClassPool {
    /// Blocks handed out and not yet returned.
    fn live(&self) -> usize {
        todo!("blocks of this class handed out and not yet returned")
    }

    fn new(size: usize, pages: usize) -> Self {
        todo!(
            "an empty class (no span, no heap allocation); its blocks whole words apart, as many per span as fit in `pages` pages"
        )
    }

    // ANCHOR: grow
    /// Allocates one span, puts all its blocks but one on the free stack, and
    /// returns that one.
    #[cold]
    fn grow(&mut self) -> NonNull<u8> {
        todo!(
            "one more zeroed span of this class; all its blocks free but the one returned; the free stack has room for every block of every span"
        )
    }
    // ANCHOR_END: grow
}

// ANCHOR: deref
impl Deref for Allocation<'_> {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        todo!("the allocation's `len` bytes (a // SAFETY: comment on any unsafe block)")
    }
}

impl DerefMut for Allocation<'_> {
    #[inline]
    fn deref_mut(&mut self) -> &mut [u8] {
        todo!("the allocation's `len` bytes, mutably")
    }
}
// ANCHOR_END: deref

impl Drop for Allocation<'_> {
    #[inline]
    fn drop(&mut self) {
        todo!(
            "the memory is free again: a block back to its class, the rest counted as a bypass free"
        )
    }
}

impl fmt::Debug for Allocation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Allocation")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

// ANCHOR: validate
/// Checks a class table: non-empty, not too many, no zero, strictly
/// increasing, not too big; the first problem in that order is the error.
fn validate(sizes: &[usize]) -> Result<(), ConfigError> {
    todo!(
        "Ok for a usable table; otherwise the first problem in the order documented on with_classes (within a kind, the first from the left)"
    )
}

/// Go's rule: the fewest pages whose leftover tail is at most an eighth of the
/// span. Blocks sit `stride` bytes apart, so the tail is measured in strides.
fn pages_per_span(size: usize) -> usize {
    todo!(
        "the fewest pages whose leftover tail, after as many word-rounded blocks as fit, is at most an eighth of the span"
    )
}
// ANCHOR_END: validate

// ANCHOR: lookup_table
/// Builds the size-to-class table. Every class is a multiple of the granule
/// `1 << shift`, so all sizes in `(k - 1) * granule + 1 ..= k * granule` share
/// one class, and entry `k` holds it: one entry per granule, not per byte.
fn lookup_table(sizes: &[usize]) -> (Box<[u8]>, u32) {
    todo!(
        "the shift (log2 of the largest power of two dividing every class) and the table the `lookup` field describes, ending at the largest class"
    )
}
// ANCHOR_END: lookup_table

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        todo!("one sentence per variant that names the numbers involved")
    }
}

impl std::error::Error for ConfigError {}
