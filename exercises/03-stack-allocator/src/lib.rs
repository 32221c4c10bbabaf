//! # Chapter 03: a stack (bump) allocator
//!
//! Read `book/src/03-stack-allocator.md` first, then fill in every `todo!()`
//! below. Check your work with
//!
//! ```text
//! cargo run -- check 03     # or: cargo test -p exercise-03-stack-allocator
//! ```
//!
//! Given: the data layout (one buffer of 64-byte chunks, a `top` offset, an
//! id, a generation and the counters), the `Marker` and `StackStats` types,
//! the error enums, and every signature with its contract. Yours to write:
//! every body that says `todo!()`, with a `// SAFETY:` comment on each
//! `unsafe` block.
//!
//! Where to start: the three `Display` impls at the bottom (the tests print
//! errors with `{err}`), then `with_capacity` and the getters, then
//! `alloc_layout` (the heart of it), then `alloc`, `alloc_slice_copy` and
//! `alloc_str` on top of it, then markers and resets.

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
    /// Successful allocations, zero-sized ones included.
    allocs: Cell<u64>,
    /// Allocations refused for lack of space.
    failed: Cell<u64>,
    /// The highest `top` seen at a reset; `stats` also looks at the current `top`.
    peak: usize,
    /// Resets, full or to a marker, and scopes ended.
    resets: u64,
}
// ANCHOR_END: allocator

// ANCHOR: marker
/// A saved position of a [`StackAllocator`]: reset to it to free everything
/// allocated after it was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marker {
    /// The allocator it was taken from.
    allocator: u64,
    /// That allocator's generation then: how many full resets it had seen.
    generation: u64,
    /// The top then.
    offset: usize,
}
// ANCHOR_END: marker

/// Counters describing an allocator's life so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StackStats {
    /// Successful allocations, zero-sized ones included.
    pub allocs: u64,
    /// Allocations refused for lack of space.
    pub failed: u64,
    /// Bytes in use now, alignment padding included.
    pub used: usize,
    /// The most bytes ever in use at once, now included: never less than
    /// `used`, and never lower than at any earlier moment.
    pub peak_used: usize,
    /// Resets: [`StackAllocator::reset`], [`StackAllocator::reset_to`], and scopes ended.
    pub resets: u64,
}

// ANCHOR: errors
/// Why [`StackAllocator::with_capacity`] refused to build an allocator.
///
/// Its `Display` message names the capacity that was asked for, in bytes
/// (`0` for [`ConfigError::ZeroCapacity`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigError {
    /// A buffer of zero bytes could hold nothing.
    ZeroCapacity,
    /// The buffer would span more than `isize::MAX` bytes, the most one Rust
    /// allocation may span, once `bytes` is rounded up to whole chunks of
    /// [`BUFFER_ALIGN`] bytes.
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
///
/// Its `Display` message names all three numbers it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllocError {
    /// The buffer has too little room left for the request and its alignment
    /// padding. A zero-sized request is never refused.
    OutOfSpace {
        /// The bytes asked for.
        requested: usize,
        /// The alignment asked for.
        align: usize,
        /// The bytes left in the buffer, before any alignment padding.
        remaining: usize,
    },
}

/// Why [`StackAllocator::reset_to`] refused a marker; its documentation says
/// exactly when each applies. `AlreadyFreed`'s `Display` message names both
/// numbers it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetError {
    /// The marker was taken from a different allocator.
    ForeignMarker,
    /// What the marker marked has already been freed.
    AlreadyFreed {
        /// Where the marker points.
        offset: usize,
        /// Bytes in use when it was refused.
        used: usize,
    },
}
// ANCHOR_END: errors

impl StackAllocator {
    // ANCHOR: with_capacity
    /// Creates an allocator with a buffer of `bytes` bytes: the only heap
    /// allocation it ever makes.
    ///
    /// # Errors
    /// [`ConfigError::ZeroCapacity`] for 0 bytes; [`ConfigError::TooLarge`]
    /// when the buffer, rounded up to whole chunks of [`BUFFER_ALIGN`] bytes,
    /// would exceed `isize::MAX` bytes; [`ConfigError::OutOfMemory`] when the
    /// global allocator cannot provide it. Never a panic or an abort.
    pub fn with_capacity(bytes: usize) -> Result<Self, ConfigError> {
        todo!(
            "an allocator whose buffer holds at least `bytes` bytes, starts at a multiple of BUFFER_ALIGN and is allocated once, here; otherwise the ConfigError the doc comment names (never a panic or an abort)"
        )
    }
    // ANCHOR_END: with_capacity

    // ANCHOR: alloc_layout
    /// Reserves memory for `layout`: `layout.size()` bytes at an address that
    /// is a multiple of `layout.align()`. The bytes are uninitialised.
    ///
    /// A zero-sized request always succeeds and uses no room, whatever its
    /// alignment: it gets a dangling pointer that is well aligned and not
    /// null, as `Box` and `Vec` give zero-sized types, and the top stays put.
    ///
    /// # Errors
    /// [`AllocError::OutOfSpace`] when the rest of the buffer, after padding
    /// for alignment, is too small. Nothing changes then but the count of
    /// failures.
    #[inline]
    pub fn alloc_layout(&self, layout: Layout) -> Result<NonNull<u8>, AllocError> {
        todo!(
            "on success: the pointer is a multiple of layout.align(), the bytes [pointer, pointer + size) lie in the buffer and overlap nothing handed out since the last reset, and top is past them; zero-sized requests always succeed without moving top; on OutOfSpace nothing changes but the failure count"
        )
    }
    // ANCHOR_END: alloc_layout

    // ANCHOR: base
    /// The buffer's first byte, with the provenance of the whole buffer.
    #[inline]
    fn base(&self) -> NonNull<u8> {
        todo!(
            "a pointer to the buffer's first byte whose provenance covers the whole buffer, not one chunk"
        )
    }

    /// Counts a refusal and says why.
    #[cold]
    fn refuse(&self, layout: Layout) -> AllocError {
        todo!(
            "the failure is counted, and the error says what was requested, its alignment, and how many bytes remain"
        )
    }
    // ANCHOR_END: base

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
            "`value` lives in the buffer, properly aligned, behind a `&mut T` that no other reference overlaps; on OutOfSpace, `value` has been dropped"
        )
    }
    // ANCHOR_END: alloc

    /// Copies `src` into the buffer.
    ///
    /// # Errors
    /// [`AllocError::OutOfSpace`] when it does not fit.
    #[allow(clippy::mut_from_ref)]
    pub fn alloc_slice_copy<T: Copy>(&self, src: &[T]) -> Result<&mut [T], AllocError> {
        todo!(
            "a writable copy of `src` in the buffer, element for element; OutOfSpace when it does not fit"
        )
    }

    /// Copies `s` into the buffer.
    ///
    /// # Errors
    /// [`AllocError::OutOfSpace`] when it does not fit.
    #[allow(clippy::mut_from_ref)]
    pub fn alloc_str(&self, s: &str) -> Result<&mut str, AllocError> {
        todo!("a writable copy of `s` in the buffer; OutOfSpace when it does not fit")
    }

    // ANCHOR: reset
    /// The current position, to pass to [`StackAllocator::reset_to`] later.
    pub fn marker(&self) -> Marker {
        todo!("a marker that reset_to can check and return to")
    }

    /// Frees everything allocated since `marker` was taken.
    ///
    /// # Errors
    /// Nothing changes on an error.
    /// - [`ResetError::ForeignMarker`] for another allocator's marker,
    ///   whatever else is wrong with it.
    /// - Otherwise [`ResetError::AlreadyFreed`] for a marker that is certainly
    ///   stale: taken before the last full [`StackAllocator::reset`], or
    ///   pointing above the current top.
    ///
    /// Not every stale marker is caught. Once the top has grown back past a
    /// marker that a reset to an earlier marker freed, the marker is accepted
    /// again and frees whatever now lies above its offset. That is a logic
    /// error in the caller, never unsound: no reference survives a reset.
    pub fn reset_to(&mut self, marker: Marker) -> Result<(), ResetError> {
        todo!("the contract above: back at the marker, or the right error and nothing changed")
    }

    /// Runs `f` and then frees everything it allocated.
    pub fn scope<R>(&mut self, f: impl FnOnce(&StackAllocator) -> R) -> R {
        todo!("f's result; what f allocated is freed, what came before it is not")
    }

    /// Frees everything. Markers taken before become stale.
    pub fn reset(&mut self) {
        todo!("every byte is free again, and every marker taken before is stale")
    }

    /// Moves `top` back to `offset`, counting the reset and the peak.
    fn release_to(&mut self, offset: usize) {
        todo!(
            "the one step that every way of freeing shares: afterwards used() is `offset`, stats() counts one more reset, and its peak_used never falls below the bytes in use just before"
        )
    }
    // ANCHOR_END: reset

    /// Bytes in use, alignment padding included.
    pub fn used(&self) -> usize {
        todo!("bytes in use, padding included")
    }

    /// The size of the buffer, in bytes.
    pub fn capacity(&self) -> usize {
        todo!("the bytes asked for, not the rounded-up buffer")
    }

    /// Bytes not yet used. An allocation may need some of them for padding.
    pub fn remaining(&self) -> usize {
        todo!("bytes not yet used")
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> StackStats {
        todo!("the counters as StackStats documents them")
    }
}

// ANCHOR: dangling
/// A pointer for a zero-sized request: not null, aligned to `layout.align()`,
/// and pointing at no memory, which a zero-sized value never reads or writes.
fn dangling(layout: Layout) -> NonNull<u8> {
    todo!(
        "a pointer that is not null and is a multiple of layout.align(); it need not point into any allocation"
    )
}
// ANCHOR_END: dangling

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
        todo!("one sentence per variant, naming the numbers the enum's doc comment lists")
    }
}

impl std::error::Error for ConfigError {}

impl fmt::Display for AllocError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        todo!("one sentence naming all three numbers")
    }
}

impl std::error::Error for AllocError {}

impl fmt::Display for ResetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        todo!("one sentence per variant; AlreadyFreed names both of its numbers")
    }
}

impl std::error::Error for ResetError {}
