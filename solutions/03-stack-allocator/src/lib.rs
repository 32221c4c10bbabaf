//! # Chapter 03: a stack (bump) allocator
//!
//! [`StackAllocator`] owns one buffer, allocated once. Allocating moves a
//! *top* offset forward past the new value, and nothing is freed one value
//! at a time: you save a [`Marker`] and later reset to it, which frees
//! everything allocated since, all at once.
//!
//! ```
//! use stack_allocator::StackAllocator;
//!
//! let mut stack = StackAllocator::with_capacity(4096)?;
//! let frame = stack.marker();
//! let name = stack.alloc_str("frame 1").unwrap();
//! let point = stack.alloc((3.0_f32, 4.0_f32)).unwrap();
//! point.0 += 1.0;
//! assert_eq!(name, "frame 1");
//! stack.reset_to(frame).unwrap(); // frees both at once
//! assert_eq!(stack.used(), 0);
//! # Ok::<(), stack_allocator::ConfigError>(())
//! ```
//!
//! Resetting takes `&mut self`, so no reference into freed memory survives it:
//!
//! ```compile_fail
//! let mut stack = stack_allocator::StackAllocator::with_capacity(64).unwrap();
//! let start = stack.marker();
//! let counter = stack.alloc(1_u32).unwrap();
//! stack.reset_to(start).unwrap(); // error: `stack` is still borrowed by `counter`
//! *counter += 1;
//! ```
//!
//! The allocator is [`Send`] but not [`Sync`]:
//!
//! ```compile_fail
//! fn shared_between_threads<T: Sync>() {}
//! shared_between_threads::<stack_allocator::StackAllocator>();
//! ```

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
    ///
    /// ```
    /// use stack_allocator::{ConfigError, StackAllocator};
    ///
    /// assert_eq!(StackAllocator::with_capacity(1024)?.capacity(), 1024);
    /// assert_eq!(StackAllocator::with_capacity(0).err(), Some(ConfigError::ZeroCapacity));
    /// let too_large = isize::MAX as usize - 10; // rounds up past isize::MAX
    /// assert_eq!(
    ///     StackAllocator::with_capacity(too_large).err(),
    ///     Some(ConfigError::TooLarge { bytes: too_large })
    /// );
    /// # Ok::<(), ConfigError>(())
    /// ```
    pub fn with_capacity(bytes: usize) -> Result<Self, ConfigError> {
        if bytes == 0 {
            return Err(ConfigError::ZeroCapacity);
        }
        let chunks = bytes.div_ceil(BUFFER_ALIGN);
        // Whole chunks must span at most isize::MAX bytes. Comparing counts of
        // chunks, not bytes, leaves nothing to overflow.
        if chunks > isize::MAX as usize / BUFFER_ALIGN {
            return Err(ConfigError::TooLarge { bytes });
        }
        let mut memory = Vec::new();
        memory
            .try_reserve_exact(chunks)
            .map_err(|_| ConfigError::OutOfMemory { bytes })?;
        memory.resize_with(chunks, || Chunk(UnsafeCell::new(MaybeUninit::uninit())));
        Ok(Self {
            memory: memory.into_boxed_slice(),
            capacity: bytes,
            top: Cell::new(0),
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            generation: 0,
            allocs: Cell::new(0),
            failed: Cell::new(0),
            peak: 0,
            resets: 0,
        })
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
    ///
    /// ```
    /// use std::alloc::Layout;
    ///
    /// let stack = stack_allocator::StackAllocator::with_capacity(8192)?;
    /// let page = stack.alloc_layout(Layout::from_size_align(100, 4096).unwrap()).unwrap();
    /// assert_eq!(page.as_ptr() as usize % 4096, 0);
    /// let used = stack.used();
    /// let nothing = stack.alloc_layout(Layout::from_size_align(0, 4096).unwrap()).unwrap();
    /// assert_eq!((nothing.as_ptr() as usize % 4096, stack.used()), (0, used));
    /// # Ok::<(), stack_allocator::ConfigError>(())
    /// ```
    #[inline]
    pub fn alloc_layout(&self, layout: Layout) -> Result<NonNull<u8>, AllocError> {
        if layout.size() == 0 {
            self.allocs.set(self.allocs.get() + 1);
            return Ok(dangling(layout));
        }
        let top = self.top.get();
        let address = self.base().as_ptr().addr() + top;
        // The bytes from `address` up to the next multiple of the alignment.
        let padding = address.wrapping_neg() & (layout.align() - 1);
        // No overflow is possible, so no `checked_add`: `top <= capacity <=
        // isize::MAX`, `padding <= align - 1`, and a `Layout` promises that
        // its size rounded up to its alignment stays within `isize::MAX`, so
        // `size + align - 1 <= isize::MAX`. The sum is at most
        // `2 * isize::MAX < usize::MAX`.
        let start = top + padding;
        let end = start + layout.size();
        if end > self.capacity {
            return Err(self.refuse(layout));
        }
        self.top.set(end);
        self.allocs.set(self.allocs.get() + 1);
        // SAFETY: start <= end <= capacity <= the buffer's length in bytes, so
        // the offset stays inside the buffer (or one past its end, for a
        // zero-sized request at the very end).
        Ok(unsafe { self.base().add(start) })
    }
    // ANCHOR_END: alloc_layout

    // ANCHOR: base
    /// The buffer's first byte, with the provenance of the whole buffer.
    #[inline]
    fn base(&self) -> NonNull<u8> {
        NonNull::from(&*self.memory).cast::<u8>()
    }

    /// Counts a refusal and says why.
    #[cold]
    fn refuse(&self, layout: Layout) -> AllocError {
        self.failed.set(self.failed.get() + 1);
        AllocError::OutOfSpace {
            requested: layout.size(),
            align: layout.align(),
            remaining: self.remaining(),
        }
    }
    // ANCHOR_END: base

    // ANCHOR: alloc
    /// Moves `value` into the buffer and returns a reference to it. The value
    /// is never dropped (see [`StackAllocator`]).
    ///
    /// # Errors
    /// [`AllocError::OutOfSpace`] when it does not fit; `value` is dropped then.
    ///
    /// ```
    /// let stack = stack_allocator::StackAllocator::with_capacity(64)?;
    /// let count = stack.alloc(41_u64).unwrap();
    /// *count += 1;
    /// assert_eq!(*count, 42);
    /// # Ok::<(), stack_allocator::ConfigError>(())
    /// ```
    // Each call returns a fresh region no other reference covers, so handing
    // out `&mut T` from `&self` is sound (bumpalo does the same).
    #[allow(clippy::mut_from_ref)]
    #[inline]
    pub fn alloc<T>(&self, value: T) -> Result<&mut T, AllocError> {
        let ptr = self.alloc_layout(Layout::new::<T>())?.cast::<T>();
        // SAFETY: `ptr` is aligned for `T` and points at `size_of::<T>()` bytes
        // that `top` has just moved past, so no other reference covers them.
        // Writing initialises them. The returned borrow of `self` keeps the
        // buffer alive and rules out every reset, which needs `&mut self`.
        unsafe {
            ptr.write(value);
            Ok(&mut *ptr.as_ptr())
        }
    }
    // ANCHOR_END: alloc

    /// Copies `src` into the buffer.
    ///
    /// # Errors
    /// [`AllocError::OutOfSpace`] when it does not fit.
    ///
    /// ```
    /// let stack = stack_allocator::StackAllocator::with_capacity(64)?;
    /// let copy = stack.alloc_slice_copy(&[1_u16, 2, 3]).unwrap();
    /// copy[0] = 10;
    /// assert_eq!(copy, [10, 2, 3]);
    /// # Ok::<(), stack_allocator::ConfigError>(())
    /// ```
    #[allow(clippy::mut_from_ref)]
    pub fn alloc_slice_copy<T: Copy>(&self, src: &[T]) -> Result<&mut [T], AllocError> {
        let ptr = self.alloc_layout(Layout::for_value(src))?.cast::<T>();
        // SAFETY: as in `alloc`, `ptr` is aligned and fresh, with room for
        // `src.len()` values of `T`; `src` lies outside the buffer's fresh
        // region, so the copy does not overlap, and `T: Copy` makes a bitwise
        // copy a valid one.
        unsafe {
            ptr.as_ptr()
                .copy_from_nonoverlapping(src.as_ptr(), src.len());
            Ok(std::slice::from_raw_parts_mut(ptr.as_ptr(), src.len()))
        }
    }

    /// Copies `s` into the buffer.
    ///
    /// # Errors
    /// [`AllocError::OutOfSpace`] when it does not fit.
    ///
    /// ```
    /// let stack = stack_allocator::StackAllocator::with_capacity(64)?;
    /// let word = stack.alloc_str("pool").unwrap();
    /// word.make_ascii_uppercase();
    /// assert_eq!(word, "POOL");
    /// # Ok::<(), stack_allocator::ConfigError>(())
    /// ```
    #[allow(clippy::mut_from_ref)]
    pub fn alloc_str(&self, s: &str) -> Result<&mut str, AllocError> {
        let bytes = self.alloc_slice_copy(s.as_bytes())?;
        // SAFETY: the bytes are an exact copy of a `str`, so they are UTF-8.
        Ok(unsafe { std::str::from_utf8_unchecked_mut(bytes) })
    }

    // ANCHOR: reset
    /// The current position, to pass to [`StackAllocator::reset_to`] later.
    ///
    /// ```
    /// let stack = stack_allocator::StackAllocator::with_capacity(64)?;
    /// let empty = stack.marker();
    /// stack.alloc(1_u8).unwrap();
    /// assert_ne!(stack.marker(), empty);
    /// # Ok::<(), stack_allocator::ConfigError>(())
    /// ```
    pub fn marker(&self) -> Marker {
        Marker {
            allocator: self.id,
            generation: self.generation,
            offset: self.top.get(),
        }
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
    ///
    /// ```
    /// let mut stack = stack_allocator::StackAllocator::with_capacity(64)?;
    /// stack.alloc(1_u32).unwrap();
    /// let mark = stack.marker();
    /// stack.alloc(2_u32).unwrap();
    /// stack.reset_to(mark).unwrap();
    /// assert_eq!(stack.used(), 4);
    /// # Ok::<(), stack_allocator::ConfigError>(())
    /// ```
    pub fn reset_to(&mut self, marker: Marker) -> Result<(), ResetError> {
        if marker.allocator != self.id {
            return Err(ResetError::ForeignMarker);
        }
        let used = self.top.get();
        if marker.generation != self.generation || marker.offset > used {
            return Err(ResetError::AlreadyFreed {
                offset: marker.offset,
                used,
            });
        }
        self.release_to(marker.offset);
        Ok(())
    }

    /// Runs `f` and then frees everything it allocated.
    ///
    /// ```
    /// let mut stack = stack_allocator::StackAllocator::with_capacity(64)?;
    /// let sum = stack.scope(|scratch| {
    ///     let numbers = scratch.alloc_slice_copy(&[1, 2, 3]).unwrap();
    ///     numbers.iter().sum::<i32>()
    /// });
    /// assert_eq!((sum, stack.used()), (6, 0));
    /// # Ok::<(), stack_allocator::ConfigError>(())
    /// ```
    pub fn scope<R>(&mut self, f: impl FnOnce(&StackAllocator) -> R) -> R {
        let start = self.top.get();
        let result = f(self);
        self.release_to(start);
        result
    }

    /// Frees everything. Markers taken before become stale.
    ///
    /// ```
    /// let mut stack = stack_allocator::StackAllocator::with_capacity(64)?;
    /// stack.alloc([0_u8; 40]).unwrap();
    /// stack.reset();
    /// assert_eq!(stack.remaining(), 64);
    /// # Ok::<(), stack_allocator::ConfigError>(())
    /// ```
    pub fn reset(&mut self) {
        self.release_to(0);
        self.generation += 1;
    }

    /// Moves `top` back to `offset`, counting the reset and the peak.
    fn release_to(&mut self, offset: usize) {
        self.peak = self.peak.max(self.top.get());
        self.top.set(offset);
        self.resets += 1;
    }
    // ANCHOR_END: reset

    /// Bytes in use, alignment padding included.
    ///
    /// ```
    /// let stack = stack_allocator::StackAllocator::with_capacity(64)?;
    /// stack.alloc(1_u8).unwrap();
    /// stack.alloc(1_u32).unwrap(); // 3 bytes of padding first
    /// assert_eq!(stack.used(), 8);
    /// # Ok::<(), stack_allocator::ConfigError>(())
    /// ```
    pub fn used(&self) -> usize {
        self.top.get()
    }

    /// The size of the buffer, in bytes.
    ///
    /// ```
    /// let stack = stack_allocator::StackAllocator::with_capacity(100)?;
    /// assert_eq!(stack.capacity(), 100);
    /// # Ok::<(), stack_allocator::ConfigError>(())
    /// ```
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Bytes not yet used. An allocation may need some of them for padding.
    ///
    /// ```
    /// let stack = stack_allocator::StackAllocator::with_capacity(100)?;
    /// stack.alloc([0_u8; 30]).unwrap();
    /// assert_eq!(stack.remaining(), 70);
    /// # Ok::<(), stack_allocator::ConfigError>(())
    /// ```
    pub fn remaining(&self) -> usize {
        self.capacity() - self.used()
    }

    /// A snapshot of the counters.
    ///
    /// ```
    /// let mut stack = stack_allocator::StackAllocator::with_capacity(16)?;
    /// stack.alloc([0_u8; 12]).unwrap();
    /// assert!(stack.alloc([0_u8; 12]).is_err());
    /// stack.reset();
    /// let stats = stack.stats();
    /// assert_eq!((stats.allocs, stats.failed, stats.resets), (1, 1, 1));
    /// assert_eq!((stats.used, stats.peak_used), (0, 12));
    /// # Ok::<(), stack_allocator::ConfigError>(())
    /// ```
    pub fn stats(&self) -> StackStats {
        StackStats {
            allocs: self.allocs.get(),
            failed: self.failed.get(),
            used: self.used(),
            peak_used: self.peak.max(self.used()),
            resets: self.resets,
        }
    }
}

// ANCHOR: dangling
/// A pointer for a zero-sized request: not null, aligned to `layout.align()`,
/// and pointing at no memory, which a zero-sized value never reads or writes.
fn dangling(layout: Layout) -> NonNull<u8> {
    // SAFETY: an alignment is at least 1, so the address is not null.
    unsafe { NonNull::new_unchecked(std::ptr::without_provenance_mut(layout.align())) }
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
        match self {
            Self::ZeroCapacity => write!(
                f,
                "a capacity of 0 bytes can hold nothing; a stack allocator needs at least 1"
            ),
            Self::TooLarge { bytes } => write!(
                f,
                "{bytes} bytes, rounded up to whole {BUFFER_ALIGN}-byte chunks, exceed isize::MAX, \
                 the largest allocation Rust allows"
            ),
            Self::OutOfMemory { bytes } => {
                write!(
                    f,
                    "the allocator could not provide a buffer of {bytes} bytes"
                )
            }
        }
    }
}

impl std::error::Error for ConfigError {}

impl fmt::Display for AllocError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OutOfSpace {
                requested,
                align,
                remaining,
            } => write!(
                f,
                "no room for {requested} bytes aligned to {align}: only {remaining} bytes remain"
            ),
        }
    }
}

impl std::error::Error for AllocError {}

impl fmt::Display for ResetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ForeignMarker => write!(f, "the marker belongs to another allocator"),
            Self::AlreadyFreed { offset, used } => write!(
                f,
                "the marker at offset {offset} was already freed (only {used} bytes are in use, \
                 or a full reset came after it)"
            ),
        }
    }
}

impl std::error::Error for ResetError {}
