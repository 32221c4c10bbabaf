//! # Chapter 02: a size-class allocator
//!
//! [`SizeClassAllocator`] serves requests of any size from a table of *size
//! classes*. A request is rounded up to the smallest class that fits it, and
//! each class hands out fixed-size blocks carved from larger *spans*, the way
//! Go's runtime and tcmalloc do. Requests above the largest class go straight
//! to the global heap.
//!
//! ```
//! use size_class_allocator::SizeClassAllocator;
//!
//! let heap = SizeClassAllocator::new(); // Go's 66 classes, 8 B to 32 KiB
//! let mut name = heap.alloc(100);
//! assert_eq!(name.len(), 100, "you get exactly what you asked for");
//! assert_eq!(heap.class_for(100), Some(112), "but a 112-byte block holds it");
//! name[..5].copy_from_slice(b"hello");
//! drop(name); // the block goes back to its class
//! assert_eq!(heap.stats().frees, 1);
//! ```
//!
//! The allocator is [`Send`] but not [`Sync`]:
//!
//! ```compile_fail
//! fn shared_between_threads<T: Sync>() {}
//! shared_between_threads::<size_class_allocator::SizeClassAllocator>();
//! ```

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
    ///
    /// ```
    /// let heap = size_class_allocator::SizeClassAllocator::new();
    /// assert_eq!(heap.classes().len(), 66);
    /// assert_eq!(heap.classes()[..4], [8, 16, 32, 48]);
    /// ```
    pub fn new() -> Self {
        let sizes: Vec<usize> = GO_CLASSES.iter().map(|&(size, _)| size).collect();
        let pages = GO_CLASSES.iter().map(|&(_, pages)| pages);
        Self::build(&sizes, pages)
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
    ///
    /// ```
    /// use size_class_allocator::{ConfigError, SizeClassAllocator};
    ///
    /// let heap = SizeClassAllocator::with_classes(&[64, 256, 1024, 4096])?;
    /// assert_eq!(heap.class_for(100), Some(256));
    /// assert_eq!(
    ///     SizeClassAllocator::with_classes(&[64, 32]).err(),
    ///     Some(ConfigError::Unsorted { index: 1 })
    /// );
    /// assert_eq!(
    ///     SizeClassAllocator::with_classes(&[16, 64, 16]).err(),
    ///     Some(ConfigError::Unsorted { index: 2 })
    /// );
    /// # Ok::<(), ConfigError>(())
    /// ```
    pub fn with_classes(sizes: &[usize]) -> Result<Self, ConfigError> {
        validate(sizes)?;
        let pages = sizes.iter().map(|&size| pages_per_span(size));
        Ok(Self::build(sizes, pages))
    }

    fn build(sizes: &[usize], pages: impl Iterator<Item = usize>) -> Self {
        let pools = sizes
            .iter()
            .zip(pages)
            .map(|(&size, pages)| ClassPool::new(size, pages))
            .collect();
        let (lookup, shift) = lookup_table(sizes);
        Self {
            classes: sizes.into(),
            lookup,
            shift,
            state: RefCell::new(State {
                pools,
                live_requested: 0,
                bypass_allocs: 0,
                bypass_frees: 0,
                large_allocs: 0,
                live_large: 0,
            }),
        }
    }

    /// The class sizes, smallest first.
    ///
    /// ```
    /// let heap = size_class_allocator::SizeClassAllocator::with_classes(&[16, 64])?;
    /// assert_eq!(heap.classes(), [16, 64]);
    /// # Ok::<(), size_class_allocator::ConfigError>(())
    /// ```
    pub fn classes(&self) -> &[usize] {
        &self.classes
    }

    // ANCHOR: class_for
    /// The smallest class that holds `size` bytes; `None` for 0 bytes (which
    /// need no block) and above the largest class. One table lookup, no search.
    ///
    /// ```
    /// let heap = size_class_allocator::SizeClassAllocator::new();
    /// assert_eq!(heap.class_for(1), Some(8));
    /// assert_eq!(heap.class_for(33), Some(48));
    /// assert_eq!(heap.class_for(32 * 1024 + 1), None);
    /// ```
    #[inline]
    pub fn class_for(&self, size: usize) -> Option<usize> {
        self.class_index(size).map(|class| self.classes[class])
    }

    /// The class number for `size`, from the lookup table. The table ends at
    /// the largest class, so a size above it finds no entry.
    #[inline]
    fn class_index(&self, size: usize) -> Option<usize> {
        if size == 0 {
            return None;
        }
        let granule = 1 << self.shift;
        let entry = size.checked_add(granule - 1)? >> self.shift;
        self.lookup.get(entry).map(|&class| usize::from(class))
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
    ///
    /// ```
    /// let heap = size_class_allocator::SizeClassAllocator::new();
    /// let small = heap.alloc(20);   // a 32-byte block
    /// let large = heap.alloc(100_000); // from the global heap
    /// assert_eq!((small.len(), large.len()), (20, 100_000));
    /// assert_eq!(heap.stats().large_allocs, 1);
    /// ```
    #[inline]
    pub fn alloc(&self, size: usize) -> Allocation<'_> {
        let memory = match self.class_index(size) {
            Some(class) => Memory::Block {
                class,
                ptr: self.take_block(class, size),
            },
            None if size == 0 => {
                self.state.borrow_mut().bypass_allocs += 1;
                Memory::Empty
            }
            None => self.alloc_large(size),
        };
        Allocation {
            allocator: self,
            memory,
            len: size,
        }
    }

    /// Pops a free block of `class`, growing the class by a span if it has none.
    #[inline]
    fn take_block(&self, class: usize, size: usize) -> NonNull<u8> {
        let mut state = self.state.borrow_mut();
        state.live_requested += size;
        let pool = &mut state.pools[class];
        pool.allocs += 1;
        match pool.free.pop() {
            Some(ptr) => ptr,
            None => pool.grow(),
        }
    }

    /// Pushes a block back on its class's free stack.
    #[inline]
    fn give_back(&self, class: usize, ptr: NonNull<u8>, size: usize) {
        let mut state = self.state.borrow_mut();
        state.live_requested -= size;
        let pool = &mut state.pools[class];
        pool.frees += 1;
        pool.free.push(ptr);
    }
    // ANCHOR_END: alloc

    #[cold]
    fn alloc_large(&self, size: usize) -> Memory {
        let mut state = self.state.borrow_mut();
        state.bypass_allocs += 1;
        state.large_allocs += 1;
        state.live_requested += size;
        state.live_large += size;
        Memory::Large(vec![0; size].into_boxed_slice())
    }

    /// Counts the free of a zero-byte or large allocation of `size` bytes.
    #[cold]
    fn release_bypass(&self, size: usize) {
        let mut state = self.state.borrow_mut();
        state.bypass_frees += 1;
        state.live_requested -= size;
        state.live_large -= size;
    }

    /// The running totals.
    ///
    /// ```
    /// let heap = size_class_allocator::SizeClassAllocator::new();
    /// let a = heap.alloc(100); // a 112-byte block
    /// let stats = heap.stats();
    /// assert_eq!((stats.live_requested, stats.live_reserved), (100, 112));
    /// assert_eq!(stats.spans, 1);
    /// # drop(a);
    /// ```
    pub fn stats(&self) -> AllocatorStats {
        let state = self.state.borrow();
        let mut totals = AllocatorStats {
            allocs: state.bypass_allocs,
            frees: state.bypass_frees,
            large_allocs: state.large_allocs,
            spans: 0,
            live_requested: state.live_requested,
            live_reserved: state.live_large,
        };
        for (&size, pool) in self.classes.iter().zip(&state.pools) {
            totals.allocs += pool.allocs;
            totals.frees += pool.frees;
            totals.spans += pool.spans.len();
            totals.live_reserved += pool.live() * size;
        }
        totals
    }

    /// One row per class, in class order.
    ///
    /// ```
    /// let heap = size_class_allocator::SizeClassAllocator::with_classes(&[16, 64])?;
    /// let _a = heap.alloc(40);
    /// let rows = heap.class_stats();
    /// assert_eq!((rows[1].size, rows[1].live, rows[1].spans), (64, 1, 1));
    /// assert_eq!(rows[0].allocs, 0);
    /// # Ok::<(), size_class_allocator::ConfigError>(())
    /// ```
    pub fn class_stats(&self) -> Vec<ClassStats> {
        let state = self.state.borrow();
        self.classes
            .iter()
            .zip(&state.pools)
            .map(|(&size, pool)| ClassStats {
                size,
                allocs: pool.allocs,
                frees: pool.frees,
                live: pool.live(),
                spans: pool.spans.len(),
                blocks_per_span: pool.blocks_per_span,
                span_bytes: pool.pages * PAGE_SIZE,
            })
            .collect()
    }

    /// The share of reserved bytes that live allocations do not use:
    /// `1 - live_requested / live_reserved`, or 0 when nothing is live.
    ///
    /// ```
    /// let heap = size_class_allocator::SizeClassAllocator::with_classes(&[16])?;
    /// let _a = heap.alloc(12); // 4 of 16 bytes unused
    /// assert_eq!(heap.internal_fragmentation(), 0.25);
    /// # Ok::<(), size_class_allocator::ConfigError>(())
    /// ```
    pub fn internal_fragmentation(&self) -> f64 {
        let totals = self.stats();
        if totals.live_reserved == 0 {
            return 0.0;
        }
        1.0 - totals.live_requested as f64 / totals.live_reserved as f64
    }
}

impl Default for SizeClassAllocator {
    fn default() -> Self {
        Self::new()
    }
}

/// Shows the table's shape (classes, granule, lookup entries) and the totals.
///
/// ```
/// let heap = size_class_allocator::SizeClassAllocator::with_classes(&[16, 48, 64])?;
/// let shown = format!("{heap:?}");
/// assert!(shown.contains("granule: 16, lookup_entries: 5"), "{shown}");
/// # Ok::<(), size_class_allocator::ConfigError>(())
/// ```
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
        (self.allocs - self.frees) as usize
    }

    fn new(size: usize, pages: usize) -> Self {
        let stride = size.next_multiple_of(WORD);
        Self {
            stride,
            blocks_per_span: pages * PAGE_SIZE / stride,
            pages,
            free: Vec::new(),
            spans: Vec::new(),
            allocs: 0,
            frees: 0,
        }
    }

    // ANCHOR: grow
    /// Allocates one span, puts all its blocks but one on the free stack, and
    /// returns that one.
    #[cold]
    fn grow(&mut self) -> NonNull<u8> {
        let words = self.blocks_per_span * self.stride / WORD;
        let mut span = vec![0usize; words];
        // One raw pointer to the whole span, made without a reference to any
        // one element: every block pointer derived from it may reach its whole
        // block, and nothing below makes a `&mut` to the span that would
        // invalidate them. Moving `span` into `self.spans` keeps them valid: a
        // Vec's buffer stays where it is, and, unlike a `Box`, moving a `Vec`
        // does not assert that its buffer is unique.
        let base = span.as_mut_ptr().cast::<u8>();
        // The stack is empty whenever a class grows. Make room for every block
        // of every span, this one included, so that `give_back` never
        // reallocates. Unlike `reserve_exact`, `reserve` lets the Vec grow
        // geometrically (std's doubles), so this reallocates about log2(spans)
        // times, not once per span.
        self.free
            .reserve(self.blocks_per_span * (self.spans.len() + 1));
        // Highest address first, so the lowest block is handed out first.
        for block in (0..self.blocks_per_span).rev() {
            let ptr = base.wrapping_add(block * self.stride);
            self.free
                .push(NonNull::new(ptr).expect("a span is never at address 0"));
        }
        self.spans.push(span);
        self.free.pop().expect("a span holds at least one block")
    }
    // ANCHOR_END: grow
}

// ANCHOR: deref
impl Deref for Allocation<'_> {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        match &self.memory {
            // SAFETY: `ptr` came off the free stack, so this allocation is the
            // block's only user until it is dropped. The block is `stride >= len`
            // initialised bytes inside a span that lives as long as the
            // allocator, which `'a` keeps alive.
            Memory::Block { ptr, .. } => unsafe {
                std::slice::from_raw_parts(ptr.as_ptr(), self.len)
            },
            Memory::Large(bytes) => bytes,
            Memory::Empty => &[],
        }
    }
}

impl DerefMut for Allocation<'_> {
    #[inline]
    fn deref_mut(&mut self) -> &mut [u8] {
        match &mut self.memory {
            // SAFETY: as in `deref`; `&mut self` also rules out any other
            // borrow of these bytes, and the span was written through a
            // pointer the allocator owns, never through a shared reference.
            Memory::Block { ptr, .. } => unsafe {
                std::slice::from_raw_parts_mut(ptr.as_ptr(), self.len)
            },
            Memory::Large(bytes) => bytes,
            Memory::Empty => &mut [],
        }
    }
}
// ANCHOR_END: deref

impl Drop for Allocation<'_> {
    #[inline]
    fn drop(&mut self) {
        match self.memory {
            Memory::Block { class, ptr } => self.allocator.give_back(class, ptr, self.len),
            Memory::Large(_) | Memory::Empty => self.allocator.release_bypass(self.len),
        }
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
    if sizes.is_empty() {
        return Err(ConfigError::EmptyTable);
    }
    if sizes.len() > MAX_CLASSES {
        return Err(ConfigError::TooManyClasses { count: sizes.len() });
    }
    if sizes.contains(&0) {
        return Err(ConfigError::ZeroClass);
    }
    // Neighbours only, left to right: the first pair that does not go up decides.
    for (index, pair) in sizes.windows(2).enumerate() {
        match pair[1].cmp(&pair[0]) {
            Ordering::Greater => {}
            Ordering::Equal => return Err(ConfigError::Duplicate { size: pair[0] }),
            Ordering::Less => return Err(ConfigError::Unsorted { index: index + 1 }),
        }
    }
    match sizes.iter().find(|&&size| size > MAX_CLASS_SIZE) {
        Some(&size) => Err(ConfigError::ClassTooLarge { size }),
        None => Ok(()),
    }
}

/// Go's rule: the fewest pages whose leftover tail is at most an eighth of the
/// span. Blocks sit `stride` bytes apart, so the tail is measured in strides.
fn pages_per_span(size: usize) -> usize {
    let stride = size.next_multiple_of(WORD);
    let mut pages = stride.div_ceil(PAGE_SIZE);
    while (pages * PAGE_SIZE) % stride > pages * PAGE_SIZE / 8 {
        pages += 1;
    }
    pages
}
// ANCHOR_END: validate

// ANCHOR: lookup_table
/// Builds the size-to-class table. Every class is a multiple of the granule
/// `1 << shift`, so all sizes in `(k - 1) * granule + 1 ..= k * granule` share
/// one class, and entry `k` holds it: one entry per granule, not per byte.
fn lookup_table(sizes: &[usize]) -> (Box<[u8]>, u32) {
    let shift = sizes
        .iter()
        .fold(0, |bits, &size| bits | size)
        .trailing_zeros();
    let largest = sizes[sizes.len() - 1];
    let mut class = 0;
    let lookup = (0..=largest >> shift)
        .map(|k| {
            while sizes[class] < k << shift {
                class += 1;
            }
            u8::try_from(class).expect("at most 255 classes")
        })
        .collect();
    (lookup, shift)
}
// ANCHOR_END: lookup_table

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptyTable => write!(f, "a size-class table needs at least one class"),
            Self::ZeroClass => write!(f, "a size class of 0 bytes could hold nothing"),
            Self::Unsorted { index } => write!(
                f,
                "class {index} is smaller than the class before it; list classes in increasing order"
            ),
            Self::Duplicate { size } => write!(f, "the class of {size} bytes appears twice"),
            Self::TooManyClasses { count } => {
                write!(
                    f,
                    "{count} classes are too many; at most {MAX_CLASSES} are allowed"
                )
            }
            Self::ClassTooLarge { size } => write!(
                f,
                "a class of {size} bytes is above the limit of {MAX_CLASS_SIZE}; \
                 leave such sizes to the global heap"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}
