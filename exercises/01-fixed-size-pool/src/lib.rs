//! # Chapter 01: a fixed-size block pool
//!
//! Welcome to your first pool. Read `book/src/01-fixed-size-pool.md` first,
//! then fill in every `todo!()` below, top to bottom. Check your work with
//!
//! ```text
//! cargo run -- check 01     # or: cargo test -p exercise-01-fixed-size-pool
//! ```
//!
//! The data layout is given; your job is the algorithms. All blocks live in
//! one slab of words allocated once by `new`. Free blocks form a singly linked
//! list: the first word of each free block holds the index of the next free
//! block, and `free_head` holds the index of the first one. `alloc` pops the
//! head of that list; dropping a `Block` pushes it back.
//!
//! The pool is `Send` but not `Sync` (the `Cell`s see to that), and a `Block`
//! borrows the pool, so the borrow checker rules out use-after-free and
//! double free for you.

// The bodies below are still `todo!()`, so the compiler would warn that the
// arguments and fields are unused. Delete this line when you are done.
#![allow(unused_variables, dead_code)]

use std::cell::Cell;
use std::fmt;
use std::mem;
use std::ops::{Deref, DerefMut};

/// Every block starts at an address that is a multiple of `BLOCK_ALIGN`
/// (8 bytes on 64-bit targets): the alignment of a `usize`, because a free
/// block stores the free list's link, a `usize`, in its first bytes.
pub const BLOCK_ALIGN: usize = mem::align_of::<usize>();

/// The slab is made of words, so each block is a whole number of words long.
const WORD: usize = mem::size_of::<usize>();

/// Marks the end of the free list: no block has this index.
const NIL: usize = usize::MAX;

// ANCHOR: pool
/// A pool of equally sized blocks carved out of one slab.
///
/// ```text
/// slab:  [ block 0 ][ block 1 ][ block 2 ][ block 3 ]
///          in use     free ──────────────► free ──► NIL
///                      ▲
/// free_head ───────────┘   (a free block's first word holds the next free index)
/// ```
pub struct FixedSizePool {
    /// `capacity` blocks of `words_per_block` words each, allocated once.
    /// `Cell` lets `&self` methods rewrite free-list links, and makes the pool `!Sync`.
    slab: Box<[Cell<usize>]>,
    /// The size callers asked for; every [`Block`] is exactly this long.
    block_size: usize,
    /// The distance between two blocks, in words: `block_size` rounded up to
    /// whole words, and never less than one word, so a link always fits.
    words_per_block: usize,
    /// Index of the first free block, or `NIL` when every block is in use.
    free_head: Cell<usize>,
    /// Running counters, returned by [`FixedSizePool::stats`].
    stats: Cell<PoolStats>,
}
// ANCHOR_END: pool

/// A block borrowed from a [`FixedSizePool`]: exactly `block_size` bytes.
///
/// It dereferences to `[u8]` and returns itself to the pool when dropped.
/// The bytes are whatever the previous user left (the pool does not clear
/// them, just as `malloc` does not); a fresh pool's blocks hold zeros.
#[derive(Debug)]
#[must_use = "dropping a Block returns it to the pool at once"]
pub struct Block<'pool> {
    pool: &'pool FixedSizePool,
    index: usize,
}

/// Counters describing a pool's life so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Successful calls to [`FixedSizePool::alloc`].
    pub allocs: u64,
    /// Blocks returned to the pool (dropped).
    pub frees: u64,
    /// Calls to [`FixedSizePool::alloc`] that found every block in use.
    pub failed: u64,
    /// Blocks handed out and not yet returned.
    pub in_use: usize,
    /// The largest `in_use` ever reached.
    pub peak_in_use: usize,
}

/// Why [`FixedSizePool::new`] refused to build a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigError {
    /// A block of zero bytes could hold nothing.
    ZeroBlockSize,
    /// A pool with no blocks could hand out nothing.
    ZeroCapacity,
    /// `block_size * capacity` does not fit in a `usize`.
    SizeOverflow {
        /// The requested block size, in bytes.
        block_size: usize,
        /// The requested number of blocks.
        capacity: usize,
    },
    /// The slab would be larger than `isize::MAX` bytes, the most any single
    /// Rust allocation may span.
    TooLarge {
        /// The slab size that was needed, in bytes.
        bytes: usize,
    },
    /// The global allocator could not provide the slab.
    OutOfMemory {
        /// The slab size that was requested, in bytes.
        bytes: usize,
    },
}

impl FixedSizePool {
    // ANCHOR: new
    /// Creates a pool of `capacity` blocks of `block_size` bytes each, with
    /// one heap allocation for all of them.
    ///
    /// # Errors
    /// - `ZeroBlockSize` / `ZeroCapacity` when an argument is zero;
    /// - `SizeOverflow` when `block_size * capacity` (or the slab size after
    ///   rounding blocks up to whole words) overflows `usize`;
    /// - `TooLarge` when the slab would exceed `isize::MAX` bytes;
    /// - `OutOfMemory` when the allocator refuses the slab: it is reserved
    ///   with `Vec::try_reserve_exact`, which reports failure instead of aborting.
    pub fn new(block_size: usize, capacity: usize) -> Result<Self, ConfigError> {
        todo!(
            "validate the sizes with checked_mul, reserve capacity * words_per_block words exactly once, and thread the free list: block i links to i + 1, the last to NIL"
        )
    }
    // ANCHOR_END: new

    // ANCHOR: alloc
    /// Takes a free block, or returns `None` when every block is in use.
    ///
    /// Never touches the heap, and counts the call in the stats either way.
    /// The block returns to the pool when dropped.
    #[inline]
    pub fn alloc(&self) -> Option<Block<'_>> {
        todo!("pop the head of the free list: its first word says which block is next")
    }

    /// Puts block `index` back at the head of the free list.
    /// Called by `Block`'s `Drop`.
    #[inline]
    fn release(&self, index: usize) {
        todo!("push block `index` on the free list: link it to the old head, then make it the head")
    }
    // ANCHOR_END: alloc

    /// The first word of block `index`: its free-list link while it is free.
    #[inline]
    fn link(&self, index: usize) -> &Cell<usize> {
        todo!("index the slab at the first word of block `index`")
    }

    /// A pointer to the first byte of block `index`, derived from the whole
    /// slab so that it may reach every byte of the block, not only its first word.
    #[inline]
    fn block_ptr(&self, index: usize) -> *mut u8 {
        todo!(
            "start from self.slab.as_ptr() (not from one element: a pointer made from one Cell may only touch that Cell), step over index * words_per_block words, cast to u8"
        )
    }

    /// The size of every block, in bytes, as given to [`FixedSizePool::new`].
    pub fn block_size(&self) -> usize {
        todo!("return the block size given to new")
    }

    /// The number of blocks in the pool, free or not.
    pub fn capacity(&self) -> usize {
        todo!("the slab holds capacity * words_per_block words")
    }

    /// The number of blocks that [`FixedSizePool::alloc`] can still hand out.
    pub fn available(&self) -> usize {
        todo!("capacity minus the blocks in use")
    }

    /// A snapshot of the pool's counters.
    pub fn stats(&self) -> PoolStats {
        todo!("return a copy of the counters")
    }

    #[inline]
    fn record_alloc(&self) {
        todo!("count one allocation, and raise the peak if in_use passed it")
    }

    #[inline]
    fn record_free(&self) {
        todo!("count one free")
    }

    #[cold]
    fn record_failure(&self) {
        todo!("count one failed alloc")
    }
}

impl fmt::Debug for FixedSizePool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FixedSizePool")
            .field("block_size", &self.block_size())
            .field("capacity", &self.capacity())
            .field("available", &self.available())
            .finish_non_exhaustive()
    }
}

// ANCHOR: block
impl Deref for Block<'_> {
    type Target = [u8];

    /// The block's `block_size` bytes.
    #[inline]
    fn deref(&self) -> &[u8] {
        todo!(
            "build the slice with std::slice::from_raw_parts from pool.block_ptr(index), and write a // SAFETY: comment saying why no one else can touch these bytes"
        )
    }
}

impl DerefMut for Block<'_> {
    /// The block's `block_size` bytes, writable.
    #[inline]
    fn deref_mut(&mut self) -> &mut [u8] {
        todo!("as in deref, with std::slice::from_raw_parts_mut; say why &mut self makes it sound")
    }
}

impl Drop for Block<'_> {
    #[inline]
    fn drop(&mut self) {
        todo!("give the block back to its pool")
    }
}
// ANCHOR_END: block

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        todo!(
            "one sentence per variant that names the numbers involved, e.g. \"a slab of 12345 bytes exceeds isize::MAX\""
        )
    }
}

impl std::error::Error for ConfigError {}
