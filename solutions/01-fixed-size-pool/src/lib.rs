//! # Chapter 01: a fixed-size block pool
//!
//! [`FixedSizePool`] hands out blocks of one size from a single slab that is
//! allocated once, in [`FixedSizePool::new`]. Free blocks are chained into a
//! free list whose links live *inside the free blocks themselves*, so the pool
//! needs no bookkeeping memory beyond the slab, and taking or returning a block
//! is a handful of instructions with no call into the global allocator.
//!
//! ```
//! use fixed_size_pool::FixedSizePool;
//!
//! let pool = FixedSizePool::new(64, 4)?;
//! let mut packet = pool.alloc().expect("a fresh pool has free blocks");
//! packet[..5].copy_from_slice(b"hello");
//! assert_eq!(pool.available(), 3);
//! drop(packet); // the block goes back to the pool
//! assert_eq!(pool.available(), 4);
//! # Ok::<(), fixed_size_pool::ConfigError>(())
//! ```
//!
//! The pool is [`Send`] but not [`Sync`]: it may move to another thread, but
//! two threads may not share it, because its free list is updated without locks.
//!
//! ```compile_fail
//! fn shared_between_threads<T: Sync>() {}
//! shared_between_threads::<fixed_size_pool::FixedSizePool>();
//! ```
//!
//! A [`Block`] borrows its pool, so it cannot outlive it or travel to a
//! thread on its own:
//!
//! ```compile_fail
//! let pool = fixed_size_pool::FixedSizePool::new(64, 4).unwrap();
//! let block = pool.alloc().unwrap();
//! std::thread::spawn(move || block.len());
//! ```

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
    ///
    /// ```
    /// use fixed_size_pool::{ConfigError, FixedSizePool};
    ///
    /// let pool = FixedSizePool::new(1500, 16)?; // 16 Ethernet frames
    /// assert_eq!(pool.capacity(), 16);
    /// assert_eq!(FixedSizePool::new(0, 8).unwrap_err(), ConfigError::ZeroBlockSize);
    /// assert_eq!(FixedSizePool::new(0, 0).unwrap_err(), ConfigError::ZeroBlockSize);
    /// # Ok::<(), ConfigError>(())
    /// ```
    pub fn new(block_size: usize, capacity: usize) -> Result<Self, ConfigError> {
        if block_size == 0 {
            return Err(ConfigError::ZeroBlockSize);
        }
        if capacity == 0 {
            return Err(ConfigError::ZeroCapacity);
        }
        let overflow = ConfigError::SizeOverflow {
            block_size,
            capacity,
        };
        // Blocks are padded to whole words, so that a link fits in every block
        // and every block is word-aligned. Padding only makes the slab larger,
        // so the padded size is the one that must fit.
        let words_per_block = block_size.div_ceil(WORD);
        let words = words_per_block.checked_mul(capacity).ok_or(overflow)?;
        let bytes = words.checked_mul(WORD).ok_or(overflow)?;
        if bytes > isize::MAX as usize {
            return Err(ConfigError::TooLarge { bytes });
        }

        let mut slab = Vec::new();
        slab.try_reserve_exact(words)
            .map_err(|_| ConfigError::OutOfMemory { bytes })?;
        slab.resize_with(words, || Cell::new(0));
        // Thread the free list through the blocks: 0 -> 1 -> ... -> capacity - 1 -> NIL.
        for index in 0..capacity {
            let next = if index + 1 < capacity { index + 1 } else { NIL };
            slab[index * words_per_block].set(next);
        }

        Ok(Self {
            slab: slab.into_boxed_slice(),
            block_size,
            words_per_block,
            free_head: Cell::new(0),
            stats: Cell::new(PoolStats::default()),
        })
    }
    // ANCHOR_END: new

    // ANCHOR: alloc
    /// Takes a free block, or returns `None` when every block is in use.
    ///
    /// Never touches the heap, and counts the call in the stats either way.
    /// The block returns to the pool when dropped.
    ///
    /// ```
    /// let pool = fixed_size_pool::FixedSizePool::new(16, 1)?;
    /// let only = pool.alloc().expect("one block is free");
    /// assert!(pool.alloc().is_none(), "the only block is in use");
    /// drop(only);
    /// assert!(pool.alloc().is_some(), "dropping the block freed it");
    /// # Ok::<(), fixed_size_pool::ConfigError>(())
    /// ```
    #[inline]
    pub fn alloc(&self) -> Option<Block<'_>> {
        let index = self.free_head.get();
        if index == NIL {
            self.record_failure();
            return None;
        }
        // A free block's first word holds the index of the next free block.
        self.free_head.set(self.link(index).get());
        self.record_alloc();
        Some(Block { pool: self, index })
    }

    /// Puts block `index` back at the head of the free list.
    /// Called by `Block`'s `Drop`.
    #[inline]
    fn release(&self, index: usize) {
        self.link(index).set(self.free_head.get());
        self.free_head.set(index);
        self.record_free();
    }
    // ANCHOR_END: alloc

    // ANCHOR: pointers
    /// The first word of block `index`: its free-list link while it is free.
    #[inline]
    fn link(&self, index: usize) -> &Cell<usize> {
        &self.slab[index * self.words_per_block]
    }

    /// A pointer to the first byte of block `index`, with the right to read
    /// and write every byte of the block, not only its first word.
    #[inline]
    fn block_ptr(&self, index: usize) -> *mut u8 {
        // Start from the whole slab, not from `self.link(index)`: a pointer
        // made from one `Cell` may touch that one word and no more.
        self.slab
            .as_ptr()
            .wrapping_add(index * self.words_per_block)
            .cast::<u8>()
            .cast_mut()
    }
    // ANCHOR_END: pointers

    /// The size of every block, in bytes, as given to [`FixedSizePool::new`].
    ///
    /// ```
    /// let pool = fixed_size_pool::FixedSizePool::new(100, 2)?;
    /// assert_eq!(pool.block_size(), 100);
    /// assert_eq!(pool.alloc().unwrap().len(), 100);
    /// # Ok::<(), fixed_size_pool::ConfigError>(())
    /// ```
    pub fn block_size(&self) -> usize {
        self.block_size
    }

    /// The number of blocks in the pool, free or not.
    ///
    /// ```
    /// let pool = fixed_size_pool::FixedSizePool::new(64, 8)?;
    /// let _held = pool.alloc();
    /// assert_eq!(pool.capacity(), 8);
    /// # Ok::<(), fixed_size_pool::ConfigError>(())
    /// ```
    pub fn capacity(&self) -> usize {
        self.slab.len() / self.words_per_block
    }

    /// The number of blocks that [`FixedSizePool::alloc`] can still hand out.
    ///
    /// ```
    /// let pool = fixed_size_pool::FixedSizePool::new(64, 8)?;
    /// let _held = pool.alloc();
    /// assert_eq!(pool.available(), 7);
    /// # Ok::<(), fixed_size_pool::ConfigError>(())
    /// ```
    pub fn available(&self) -> usize {
        self.capacity() - self.stats.get().in_use
    }

    /// A snapshot of the pool's counters.
    ///
    /// ```
    /// let pool = fixed_size_pool::FixedSizePool::new(64, 1)?;
    /// let held = pool.alloc();
    /// assert!(pool.alloc().is_none());
    /// drop(held);
    /// let stats = pool.stats();
    /// assert_eq!((stats.allocs, stats.frees, stats.failed), (1, 1, 1));
    /// assert_eq!((stats.in_use, stats.peak_in_use), (0, 1));
    /// # Ok::<(), fixed_size_pool::ConfigError>(())
    /// ```
    pub fn stats(&self) -> PoolStats {
        self.stats.get()
    }

    // ANCHOR: record
    #[inline]
    fn record_alloc(&self) {
        let mut stats = self.stats.get();
        stats.allocs += 1;
        stats.in_use += 1;
        stats.peak_in_use = stats.peak_in_use.max(stats.in_use);
        self.stats.set(stats);
    }

    #[inline]
    fn record_free(&self) {
        let mut stats = self.stats.get();
        stats.frees += 1;
        stats.in_use -= 1;
        self.stats.set(stats);
    }

    #[cold]
    fn record_failure(&self) {
        let mut stats = self.stats.get();
        stats.failed += 1;
        self.stats.set(stats);
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
        // SAFETY: `block_ptr` points at `block_size` initialised bytes inside the
        // slab (every word was written in `new`), with the slab's provenance.
        // This block was unlinked from the free list in `alloc` and is linked
        // again only when the block is dropped, so while it lives the pool never
        // touches these bytes and no other `Block` covers them.
        unsafe { std::slice::from_raw_parts(self.pool.block_ptr(self.index), self.pool.block_size) }
    }
}

impl DerefMut for Block<'_> {
    /// The block's `block_size` bytes, writable.
    #[inline]
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `deref`; in addition `&mut self` guarantees that no
        // other borrow of this block's bytes is alive, and the slab's words are
        // `Cell`s, so writing through a pointer derived from `&self.pool` is allowed.
        unsafe {
            std::slice::from_raw_parts_mut(self.pool.block_ptr(self.index), self.pool.block_size)
        }
    }
}

impl Drop for Block<'_> {
    #[inline]
    fn drop(&mut self) {
        self.pool.release(self.index);
    }
}
// ANCHOR_END: block

// ANCHOR: display
impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ZeroBlockSize => write!(f, "block size must be at least 1 byte"),
            Self::ZeroCapacity => write!(f, "a pool needs at least 1 block"),
            Self::SizeOverflow {
                block_size,
                capacity,
            } => write!(
                f,
                "{capacity} blocks of {block_size} bytes overflow usize; use fewer or smaller blocks"
            ),
            Self::TooLarge { bytes } => write!(
                f,
                "a slab of {bytes} bytes exceeds isize::MAX, the largest allocation Rust allows"
            ),
            Self::OutOfMemory { bytes } => {
                write!(f, "the allocator could not provide a slab of {bytes} bytes")
            }
        }
    }
}

// ANCHOR_END: display

impl std::error::Error for ConfigError {}
