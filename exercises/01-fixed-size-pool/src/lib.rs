//! # Chapter 01: a fixed-size block pool
//!
//! Welcome to your first pool. Read the lesson first (`cargo run -- book`,
//! chapter 01), then fill in every `todo!()` below. Check your work with
//!
//! ```text
//! cargo run -- check 01     # or: cargo test -p exercise-01-fixed-size-pool
//! ```
//!
//! **Given**: the data layout, because this chapter is about using it. The
//! types, their fields and the constants below are the solution's own: one slab
//! of words allocated by `new`, `words_per_block` words per block, a free list
//! whose links live in the first word of each free block, `free_head` for its
//! first block, and `NIL` for "no block". Keep them as they are. The layout
//! also decides thread safety: the pool is `Send` but not `Sync`, and a `Block`
//! is not `Send`. The tests check both, so add no `unsafe impl` of your own.
//!
//! **Yours**: every body that says `todo!()`. Its message is the contract:
//! what must be true when the function returns, and what it must refuse. How to
//! get there is up to you (`cargo run -- hint 01` if you are stuck). A good
//! order: `Display` for `ConfigError` at the bottom of the file first (the
//! tests print errors with it), then the four small getters, `new`, the free
//! list (`link`, `alloc`, `release`, the counters, `Drop`), and last the
//! `unsafe` part (`block_ptr`, `Deref`, `DerefMut`).
//!
//! When every test passes, run Miri over your `unsafe`:
//! `cargo +nightly miri test -p exercise-01-fixed-size-pool`.

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
/// slab:      [ block 0 ][ block 1 ][ block 2 ][ block 3 ]
///              in use     free: 3    in use     free: NIL
///                         ^
/// free_head = 1 ----------+
/// ```
///
/// A free block's first word holds the index of the next free block.
pub struct FixedSizePool {
    /// `capacity` blocks of `words_per_block` words each, allocated once.
    /// `Cell` lets `&self` methods rewrite the links, and makes the pool `!Sync`.
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

// ANCHOR: block_type
/// A block borrowed from a [`FixedSizePool`]: exactly `block_size` bytes.
///
/// It dereferences to `[u8]` and returns itself to the pool when dropped.
/// The pool does not clear a block, just as `malloc` does not: its bytes are
/// whatever the previous user left, or the free-list link the pool kept in
/// its first word while the block was free.
#[derive(Debug)]
#[must_use = "dropping a Block returns it to the pool at once"]
pub struct Block<'pool> {
    pool: &'pool FixedSizePool,
    index: usize,
}
// ANCHOR_END: block_type

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

// ANCHOR: errors
/// Why [`FixedSizePool::new`] refused to build a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigError {
    /// A block of zero bytes could hold nothing.
    ZeroBlockSize,
    /// A pool with no blocks could hand out nothing.
    ZeroCapacity,
    /// The slab's size, `capacity` blocks of `block_size` bytes rounded up to
    /// whole words, does not fit in a `usize`.
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
// ANCHOR_END: errors

impl FixedSizePool {
    // ANCHOR: new
    /// Creates a pool of `capacity` blocks of `block_size` bytes each, with
    /// one heap allocation for all of them.
    ///
    /// # Errors
    /// The checks run in this order, and the first one that fails is the
    /// error returned (so `new(0, 0)` is `ZeroBlockSize`, and a zero is
    /// reported before any size problem):
    /// 1. `ZeroBlockSize` when `block_size` is zero;
    /// 2. `ZeroCapacity` when `capacity` is zero;
    /// 3. `SizeOverflow` when the slab's size in bytes, `capacity` blocks of
    ///    `block_size` rounded up to whole words, overflows `usize`;
    /// 4. `TooLarge` when that size exceeds `isize::MAX` bytes;
    /// 5. `OutOfMemory` when the allocator cannot provide the slab: reported
    ///    as an error, not an abort of the process.
    pub fn new(block_size: usize, capacity: usize) -> Result<Self, ConfigError> {
        todo!(
            "a pool whose `capacity` blocks are all free, in one slab allocated once and with every word of it written, with room for a link in each block; zero sizes, sizes that overflow usize, a slab over isize::MAX bytes and a slab the allocator refuses are the matching ConfigError, checked in the order listed under # Errors, never a panic or an abort"
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
        todo!(
            "in O(1), a block that no live Block holds, counted in the stats; None (counted as a failure) when every block is in use"
        )
    }

    /// Puts block `index` back at the head of the free list.
    /// Called by `Block`'s `Drop`.
    #[inline]
    fn release(&self, index: usize) {
        todo!(
            "in O(1), block `index` is free again and is the next block alloc hands out; counted in the stats"
        )
    }
    // ANCHOR_END: alloc

    // ANCHOR: pointers
    /// The first word of block `index`: its free-list link while it is free.
    #[inline]
    fn link(&self, index: usize) -> &Cell<usize> {
        todo!("the word that holds block `index`'s free-list link while the block is free")
    }

    /// A pointer to the first byte of block `index`, with the right to read
    /// and write every byte of the block, not only its first word.
    #[inline]
    fn block_ptr(&self, index: usize) -> *mut u8 {
        todo!(
            "a pointer to the first byte of block `index` that may be used to read and write all of the block's bytes (Miri checks where it came from)"
        )
    }
    // ANCHOR_END: pointers

    /// The size of every block, in bytes, as given to [`FixedSizePool::new`].
    pub fn block_size(&self) -> usize {
        todo!("the block size given to new")
    }

    /// The number of blocks in the pool, free or not.
    pub fn capacity(&self) -> usize {
        todo!("the number of blocks given to new")
    }

    /// The number of blocks that [`FixedSizePool::alloc`] can still hand out.
    pub fn available(&self) -> usize {
        todo!("how many more blocks alloc can hand out right now")
    }

    /// A snapshot of the pool's counters.
    pub fn stats(&self) -> PoolStats {
        todo!("a copy of the counters as they are now")
    }

    // ANCHOR: record
    #[inline]
    fn record_alloc(&self) {
        todo!(
            "one more successful alloc and one more block in use; peak_in_use is never below in_use"
        )
    }

    #[inline]
    fn record_free(&self) {
        todo!("one more block returned, one fewer in use")
    }

    #[cold]
    fn record_failure(&self) {
        todo!("one more alloc that found every block in use")
    }
    // ANCHOR_END: record
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
            "exactly this block's block_size bytes; a // SAFETY: comment says why nothing else reads or writes them while this Block lives"
        )
    }
}

impl DerefMut for Block<'_> {
    /// The block's `block_size` bytes, writable.
    #[inline]
    fn deref_mut(&mut self) -> &mut [u8] {
        todo!("the same bytes, writable; the // SAFETY: comment says why handing out &mut is sound")
    }
}

impl Drop for Block<'_> {
    #[inline]
    fn drop(&mut self) {
        todo!("the block is back in its pool, and the next alloc may hand it out")
    }
}
// ANCHOR_END: block

// ANCHOR: display
impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        todo!(
            "one sentence per variant that names the numbers it carries, e.g. \"a slab of 12345 bytes exceeds isize::MAX\""
        )
    }
}

// ANCHOR_END: display

impl std::error::Error for ConfigError {}
