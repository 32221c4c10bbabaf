//! # Chapter 03: a stack (bump) allocator
//!
//! Read `book/src/03-stack-allocator.md` first, then fill in every `todo!()`
//! below. Check your work with
//!
//! ```text
//! cargo run -- check 03     # or: cargo test -p exercise-03-stack-allocator
//! ```
//!
//! The data layout is given: one buffer, a `top` offset, and counters.
//! Allocating rounds the address at `top` up to the alignment, checks that
//! the value fits, and moves `top` past it. Resetting moves `top` back.
//! Where to start: `with_capacity`, the small getters, then `alloc_layout`
//! (the heart of it), then `alloc`, `alloc_slice_copy` and `alloc_str` on top
//! of it, then markers and resets.

// The bodies below are still `todo!()`, so the compiler would warn that the
// arguments and fields are unused. Delete this line when you are done.
#![allow(unused_variables, dead_code, unused_imports)]

use std::alloc::Layout;
use std::cell::{Cell, UnsafeCell};
use std::fmt;
use std::mem::MaybeUninit;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};

/// Gives every allocator its own number, so a marker knows where it came from.
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// The buffer starts at a multiple of this many bytes: a cache line. Values
/// aligned to at most 64 therefore need padding only for what was allocated
/// before them, wherever the buffer lies, so the padding is the same in
/// every run.
pub const BUFFER_ALIGN: usize = 64;

/// The unit the buffer is made of: 64 bytes aligned to 64. `UnsafeCell`
/// because allocations write through `&self`; `MaybeUninit` because bytes not
/// yet handed out hold nothing. Together they make the allocator `!Sync`.
#[repr(C, align(64))]
struct Chunk(UnsafeCell<MaybeUninit<[u8; BUFFER_ALIGN]>>);

// ANCHOR: allocator
/// A bump allocator over one fixed buffer, freed by resetting to a [`Marker`].
///
/// ```text
///  memory: [ a ][pad][   b   ][ c ][            free            ]
///          ^0 (a multiple of BUFFER_ALIGN)
///                          ^marker          ^top              ^capacity
/// ```
///
/// Values placed in it are **never dropped**: resetting forgets them, like
/// `bumpalo` does. Use it for plain data (numbers, `Copy` structs, strings,
/// slices), or accept that a value's destructor does not run.
pub struct StackAllocator {
    /// The buffer, allocated once and never grown: `capacity` bytes rounded
    /// up to whole chunks.
    memory: Box<[Chunk]>,
    /// The bytes the caller asked for; allocations never go past them.
    capacity: usize,
    /// Bytes in use: the next allocation starts at `top` (plus padding).
    top: Cell<usize>,
    /// This allocator's number, copied into its markers.
    id: u64,
    /// Bumped by every full [`StackAllocator::reset`]: older markers are stale.
    generation: u64,
    /// Successful allocations.
    allocs: Cell<u64>,
    /// Allocations refused for lack of space.
    failed: Cell<u64>,
    /// The highest `top` seen at a reset; `stats` also looks at the current `top`.
    peak: usize,
    /// Resets, full or to a marker, and scopes ended.
    resets: u64,
}
// ANCHOR_END: allocator

/// A saved position of a [`StackAllocator`]: reset to it to free everything
/// allocated after it was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marker {
    allocator: u64,
    generation: u64,
    offset: usize,
}

/// Counters describing an allocator's life so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StackStats {
    /// Successful allocations.
    pub allocs: u64,
    /// Allocations refused for lack of space.
    pub failed: u64,
    /// Bytes in use now, alignment padding included.
    pub used: usize,
    /// The most bytes ever in use at once.
    pub peak_used: usize,
    /// Resets: [`StackAllocator::reset`], [`StackAllocator::reset_to`], and scopes ended.
    pub resets: u64,
}

/// Why [`StackAllocator::with_capacity`] refused to build an allocator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigError {
    /// A buffer of zero bytes could hold nothing.
    ZeroCapacity,
    /// More than `isize::MAX` bytes, the most one Rust allocation may span.
    TooLarge {
        /// The requested capacity.
        bytes: usize,
    },
    /// The global allocator could not provide the buffer.
    OutOfMemory {
        /// The requested capacity.
        bytes: usize,
    },
}

/// Why an allocation was refused. The allocator is unchanged by a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllocError {
    /// The buffer has too little room left for the request and its alignment.
    OutOfSpace {
        /// The bytes asked for.
        requested: usize,
        /// The alignment asked for.
        align: usize,
        /// The bytes left in the buffer, before any alignment padding.
        remaining: usize,
    },
}

/// Why [`StackAllocator::reset_to`] refused a marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetError {
    /// The marker was taken from a different allocator.
    ForeignMarker,
    /// The memory after the marker was already freed: by a reset to an
    /// earlier marker, or by a full reset.
    AlreadyFreed {
        /// Where the marker points.
        offset: usize,
        /// Bytes in use when it was refused.
        used: usize,
    },
}

impl StackAllocator {
    /// Creates an allocator with a buffer of `bytes` bytes: the only heap
    /// allocation it ever makes.
    ///
    /// # Errors
    /// A [`ConfigError`] for zero bytes, more than `isize::MAX`, or a buffer
    /// the global allocator cannot provide.
    pub fn with_capacity(bytes: usize) -> Result<Self, ConfigError> {
        todo!(
            "reject 0 and > isize::MAX, reserve bytes.div_ceil(BUFFER_ALIGN) chunks with Vec::try_reserve_exact, fill them with uninit chunks"
        )
    }

    // ANCHOR: alloc_layout
    /// Reserves memory for `layout`: `layout.size()` bytes at an address that
    /// is a multiple of `layout.align()`. The bytes are uninitialised.
    ///
    /// # Errors
    /// [`AllocError::OutOfSpace`] when the rest of the buffer, after padding
    /// for alignment, is too small. Nothing changes then.
    #[inline]
    pub fn alloc_layout(&self, layout: Layout) -> Result<NonNull<u8>, AllocError> {
        todo!(
            "pad the address at top up to layout.align(), check start + size against the capacity (a Layout keeps it from overflowing), move top"
        )
    }
    // ANCHOR_END: alloc_layout

    /// The buffer's first byte, with the provenance of the whole buffer.
    #[inline]
    fn base(&self) -> NonNull<u8> {
        todo!(
            "a NonNull<u8> made from the whole buffer (NonNull::from(&*self.memory)), not from one element"
        )
    }

    /// Counts a refusal and says why.
    #[cold]
    fn refuse(&self, layout: Layout) -> AllocError {
        todo!("count the failure and build OutOfSpace with what was requested and what remains")
    }

    // ANCHOR: alloc
    /// Moves `value` into the buffer and returns a reference to it. The value
    /// is never dropped (see [`StackAllocator`]).
    ///
    /// # Errors
    /// [`AllocError::OutOfSpace`] when it does not fit; `value` is dropped then.
    // Each call returns a fresh region no other reference covers, so handing
    // out `&mut T` from `&self` is sound (bumpalo does the same).
    #[allow(clippy::mut_from_ref)]
    #[inline]
    pub fn alloc<T>(&self, value: T) -> Result<&mut T, AllocError> {
        todo!(
            "alloc_layout(Layout::new::<T>()), write the value, hand out &mut T (with a // SAFETY: comment)"
        )
    }
    // ANCHOR_END: alloc

    /// Copies `src` into the buffer.
    ///
    /// # Errors
    /// [`AllocError::OutOfSpace`] when it does not fit.
    #[allow(clippy::mut_from_ref)]
    pub fn alloc_slice_copy<T: Copy>(&self, src: &[T]) -> Result<&mut [T], AllocError> {
        todo!("alloc_layout(Layout::for_value(src)), copy the elements, build the slice")
    }

    /// Copies `s` into the buffer.
    ///
    /// # Errors
    /// [`AllocError::OutOfSpace`] when it does not fit.
    #[allow(clippy::mut_from_ref)]
    pub fn alloc_str(&self, s: &str) -> Result<&mut str, AllocError> {
        todo!("alloc_slice_copy the bytes; they came from a str, so they are UTF-8")
    }

    // ANCHOR: reset
    /// The current position, to pass to [`StackAllocator::reset_to`] later.
    pub fn marker(&self) -> Marker {
        todo!("remember this allocator, its generation and the top")
    }

    /// Frees everything allocated since `marker` was taken.
    ///
    /// # Errors
    /// [`ResetError::ForeignMarker`] for another allocator's marker;
    /// [`ResetError::AlreadyFreed`] when the memory after the marker was
    /// already freed by an earlier reset.
    pub fn reset_to(&mut self, marker: Marker) -> Result<(), ResetError> {
        todo!(
            "refuse a foreign marker, then one from an older generation or above the top; else release_to"
        )
    }

    /// Runs `f` and then frees everything it allocated.
    pub fn scope<R>(&mut self, f: impl FnOnce(&StackAllocator) -> R) -> R {
        todo!(
            "remember the top, run f with &*self, release_to the remembered top, return f's result"
        )
    }

    /// Frees everything. Markers taken before become stale.
    pub fn reset(&mut self) {
        todo!("release everything and start a new generation")
    }

    /// Moves `top` back to `offset`, counting the reset and the peak.
    fn release_to(&mut self, offset: usize) {
        todo!("note the peak, move top back to offset, count the reset")
    }
    // ANCHOR_END: reset

    /// Bytes in use, alignment padding included.
    pub fn used(&self) -> usize {
        todo!("the top")
    }

    /// The size of the buffer, in bytes.
    pub fn capacity(&self) -> usize {
        todo!("the bytes asked for, not the rounded-up buffer")
    }

    /// Bytes not yet used. An allocation may need some of them for padding.
    pub fn remaining(&self) -> usize {
        todo!("capacity minus used")
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> StackStats {
        todo!("the counters; the peak is the larger of the recorded peak and the current top")
    }
}

impl fmt::Debug for StackAllocator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StackAllocator")
            .field("capacity", &self.capacity())
            .field("used", &self.used())
            .finish_non_exhaustive()
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        todo!("one sentence per variant that names the numbers involved")
    }
}

impl std::error::Error for ConfigError {}

impl fmt::Display for AllocError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        todo!("say what was requested, its alignment, and what remained")
    }
}

impl std::error::Error for AllocError {}

impl fmt::Display for ResetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        todo!("say whose marker it was, or where it points and how much is in use")
    }
}

impl std::error::Error for ResetError {}
