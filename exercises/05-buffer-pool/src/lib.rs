//! # Chapter 05: a pool of byte buffers, by size class
//!
//! Read `book/src/05-buffer-pool.md` first, then fill in every `todo!()`
//! below. Check your work with
//!
//! ```text
//! cargo run -- check 05     # or: cargo test -p exercise-05-buffer-pool
//! ```
//!
//! Chapter 04 taught you how threads stay out of each other's way, so that
//! machinery is given here, adapted: the thread slots and the shard
//! directory (`ThreadSlot`, `home`, `with_home`, `shard`, `shards`); the
//! `Home` that proves a thread owns a shard; the parts of a private cache
//! that only move things (`lend_slot`, `pop`, `has_share`, `grant`); the
//! guard (`Deref`, `DerefMut`, `Drop`, `into_vec`); and small helpers
//! (`bump`, `lock`, `allocate`). Also given: the data layout with every
//! field's meaning, the constructors that only pass things on (`new`,
//! `with_sizes`, `builder` and its setters), and every signature with its
//! contract.
//!
//! Yours is what this chapter is about: the size classes (checking a table,
//! finding a class in a few steps), getting and handing back buffers by
//! class, growth and shrinking (a buffer is filed by the capacity it has
//! when it comes back), the limits (each thread's share, the shared lists,
//! the idle bytes), `warm`, and the counters. Each `unsafe` block you write
//! gets a `// SAFETY:` comment.
//!
//! Where to start: `ConfigError`'s `Display`, then `validate`, `octaves`,
//! `with` and `build`; `class_for` and `class_covering`; `hit_rate`,
//! `tally`, `stats` and `class_stats`. Then one thread: `try_allocate`,
//! `get` and `get_slow`; `return_in_place`, `give_back`,
//! `keep`, `keep_slow`; then the limits: `take_share`, `reserve_bytes`,
//! `keep_shared`, `take_shared`; and `warm` last. The tests of the table
//! and of one thread go green first.

// The bodies below are still `todo!()`, so the compiler would warn that the
// arguments, fields and helpers are unused. Delete this line when you are done.
#![allow(unused_variables, unused_mut, dead_code, unused_imports)]

use std::cell::UnsafeCell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::marker::PhantomData;
use std::mem::{self, ManuallyDrop};
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

// ANCHOR: constants
/// The classes of [`BufferPool::new`]: powers of two from 64 B to 64 KiB.
const DEFAULT_SIZES: [usize; 11] = [
    64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536,
];

/// `max_idle_per_class` when the builder does not set it.
const DEFAULT_MAX_IDLE_PER_CLASS: usize = 256;

/// `max_idle_bytes` when the builder does not set it: 16 MiB.
const DEFAULT_MAX_IDLE_BYTES: usize = 16 << 20;

/// The buffers of one class that a thread's private cache may hold: the
/// places it reserves from the limits, all at once.
const PRIVATE_SHARE: usize = 8;

/// The largest buffer a `Vec<u8>` can have: `isize::MAX` bytes.
const LARGEST_BUFFER: usize = isize::MAX as usize;
// ANCHOR_END: constants

/// Entries of the octave table: one per power of two a `usize` can hold.
/// No class and no buffer is larger than `isize::MAX`, so the last entry
/// (for `2^63` on a 64-bit machine) is always the number of classes, and a
/// capacity's next octave never runs past it.
const OCTAVES: usize = usize::BITS as usize;

/// Buckets in the shard directory: bucket `b` holds `2^b` shards, so this many
/// cover every slot number a `usize` can hold.
const BUCKETS: usize = usize::BITS as usize;

// ANCHOR: pool
/// A thread-safe pool of `Vec<u8>` buffers, sorted into size classes, with a
/// private cache per thread and a shared list per class.
///
/// ```text
///                class:  64     128   ...   1024         ...   65536
///  thread 0 private:    [b]    []          [b][b][b]          []        only thread 0
///  thread 1 private:    []     [b]         [b]                []        only thread 1
///  shared (Mutex):      []     []          [b][b][b][b]       [b]       any thread
///  get(1000) on thread 0: class 1024: its private cache, else the shared list, else new
/// ```
///
/// Buffers come as [`PooledBuffer`] guards that go back to the pool when
/// dropped, cleared and filed by their capacity then.
pub struct BufferPool {
    /// The class sizes, strictly increasing, none 0 or above `isize::MAX`.
    sizes: Box<[usize]>,
    /// `octaves[b]`: the index of the first class of at least `2^b` bytes
    /// (the number of classes if none is that large).
    octaves: [usize; OCTAVES],
    /// Most idle buffers kept per class, all threads together.
    max_idle_per_class: usize,
    /// Most bytes (capacities) kept idle, all classes and threads together.
    max_idle_bytes: usize,
    /// Bytes of `max_idle_bytes` neither reserved by a private cache nor
    /// held in a shared list.
    bytes_left: AtomicUsize,
    /// Per class: the buffers any thread may take, and the class's places.
    shared: Box<[Mutex<Shared>]>,
    /// The shard of thread slot `s` is in bucket `b = log2(s + 1)`, at
    /// `s + 1 - 2^b`; bucket `b` holds `2^b` shards, made on first use.
    buckets: [OnceLock<Box<[Shard]>>; BUCKETS],
    /// The shard of threads without a slot (their thread-locals are being
    /// destroyed), used by one of them at a time.
    homeless: Shard,
    /// Held by the thread using `homeless`.
    homeless_turn: Mutex<()>,
}
// ANCHOR_END: pool

// ANCHOR: states
// The states of a private cache's slot, and who may move it from each:
/// No buffer. Only the owner fills it (-> FULL).
const EMPTY: u8 = 0;
/// An idle buffer of exactly the class's size. Only the owner lends it (-> LENT).
const FULL: u8 = 1;
/// Lent in place to one [`PooledBuffer`], which alone touches the slot and
/// ends the loan (-> FULL, or EMPTY when the buffer leaves the slot).
const LENT: u8 = 2;
// ANCHOR_END: states

// ANCHOR: shard
/// One thread's part of the pool: a private cache per class, and counters.
/// Aligned to two cache lines so that two threads' shards never share one.
#[repr(align(128))]
struct Shard {
    /// One per class, in class order.
    classes: Box<[Private]>,
    /// What this shard's thread did outside any class's counters.
    counters: Counters,
}

/// A thread's private cache of one class, and that class's counters on this
/// thread: Go's per-P `private`, with room for more than one buffer.
#[repr(align(128))]
struct Private {
    /// The class's size: the capacity a buffer in `slot` has.
    size: usize,
    /// Who may touch `slot` now: `EMPTY`, `FULL` or `LENT`.
    state: AtomicU8,
    /// One buffer, lent in place: `get` hands out a guard that points here,
    /// so a hit moves nothing.
    slot: UnsafeCell<Vec<u8>>,
    /// The other idle buffers, and the room reserved for them. Owner only.
    cache: UnsafeCell<Cache>,
    /// Gets served from the pool, and gets that made a new buffer. Owner only.
    hits: AtomicU64,
    misses: AtomicU64,
    /// Guards that gave the slot's buffer back in place. Written only by the
    /// guard that holds the slot.
    returned_in_place: AtomicU64,
    /// How many buffers `cache` holds, and the sum of their capacities:
    /// written with the cache, so that `stats()` can read them.
    idle: AtomicUsize,
    idle_bytes: AtomicUsize,
}

/// What only a private cache's owner may touch.
#[derive(Default)]
struct Cache {
    /// Idle buffers of the class, handed back on this thread, other than
    /// the slot's.
    buffers: Vec<Vec<u8>>,
    /// Most bytes they may hold together: reserved from `max_idle_bytes`,
    /// with as many places of `max_idle_per_class` as buffers of the class's
    /// size would fill it. A buffer never has less than the class's size, so
    /// keeping within the bytes keeps within the places too, and within the
    /// capacity `grant` reserved in `buffers`: a push never allocates.
    room_bytes: usize,
    /// Whether this cache has asked for its share yet (it may have got none).
    has_share: bool,
    /// Whether one of the share's places (and the class's size in bytes) is
    /// the slot's.
    has_slot: bool,
}

/// What a thread did that no class counts, one set per shard.
#[derive(Default)]
struct Counters {
    /// Gets above the largest class: misses, in no class.
    oversized_gets: AtomicU64,
    /// Buffers handed back other than in place: guards dropped, and `put`.
    returned: AtomicU64,
    dropped_oversized: AtomicU64,
    dropped_undersized: AtomicU64,
    dropped_full: AtomicU64,
}

/// One class's shared list and its share of the limits, behind its lock.
struct Shared {
    /// Idle buffers any thread may take.
    buffers: Vec<Vec<u8>>,
    /// The sum of their capacities.
    bytes: usize,
    /// Places of `max_idle_per_class` neither reserved by a private cache
    /// nor filled here.
    free_places: usize,
}
// ANCHOR_END: shard

// ANCHOR: home
/// Proof that the current thread owns `shard` now: made only by
/// [`BufferPool::home`] for this thread's own shard, and by
/// [`BufferPool::with_home`] for the homeless one while it holds
/// `homeless_turn`. It is not `Send`, so it cannot leave its thread.
struct Home<'a> {
    shard: &'a Shard,
    _this_thread: PhantomData<*const ()>,
}
// ANCHOR_END: home

// SAFETY: `slot` and `cache` are the fields that are not already `Sync`.
// `cache` is touched only through a `Home`, and a `Home` for a shard exists
// only on the one thread that owns the shard now: the live thread that holds
// its slot number (numbers are unique among live threads, and an exiting
// thread's number reaches the next thread through the `SLOTS` mutex, which
// orders the two threads' accesses), or, for the homeless shard, the thread
// holding `homeless_turn`. `Home` is not `Send`, and each of its methods ends
// its `&mut` before returning, with no call back into the pool in between.
// `slot` is touched by whoever `state` names: while EMPTY or FULL the owner
// (through a `Home`); while LENT the one guard the owner lent it to, on
// whichever thread that guard is. The owner's LENT store comes before the
// guard exists, and the guard's release store of FULL or EMPTY is what the
// owner's acquire load sees before it touches the slot again, so the turns
// never overlap and each sees the last one's writes. The buffers are
// `Vec<u8>`, which may move between threads.
unsafe impl Sync for Private {}

// ANCHOR: guard
/// A buffer from the pool. It dereferences to `Vec<u8>` and goes back to the
/// pool when dropped; [`PooledBuffer::into_vec`] keeps it instead.
pub struct PooledBuffer<'a> {
    pool: &'a BufferPool,
    buffer: Lent<'a>,
}

/// Where a guard's buffer is.
enum Lent<'a> {
    /// In the slot of this private cache, whose state is LENT.
    InPlace(&'a Private),
    /// In the guard: it came from a cache's other buffers, a shared list, or
    /// the allocator.
    Owned(Vec<u8>),
}
// ANCHOR_END: guard

// ANCHOR: stats
/// The pool's counters, summed over every thread.
///
/// Exact whenever no other thread is using the pool; while others run, a
/// moment old. `gets == hits + misses` always holds; `returned` counts every
/// buffer handed back, whether it was kept or dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BufferStats {
    /// Calls to [`BufferPool::get`] that returned a buffer.
    pub gets: u64,
    /// Gets served with a buffer from the pool.
    pub hits: u64,
    /// Gets that allocated a new buffer, those above the largest class included.
    pub misses: u64,
    /// Buffers handed back: guards dropped, and [`BufferPool::put`].
    pub returned: u64,
    /// Handed back with a capacity above the largest class, and dropped.
    pub dropped_oversized: u64,
    /// Handed back with a capacity below the smallest class, and dropped.
    pub dropped_undersized: u64,
    /// Handed back when their class had no free place, or the idle bytes no
    /// room for them, and dropped.
    pub dropped_full: u64,
    /// Buffers waiting in the pool now.
    pub idle_buffers: usize,
    /// The sum of their capacities, in bytes.
    pub idle_bytes: usize,
}

/// The counters of one size class, from [`BufferPool::class_stats`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClassStats {
    /// The class's size in bytes.
    pub size: usize,
    /// Gets this class served, hits and misses.
    pub gets: u64,
    /// Those of them served with a pooled buffer.
    pub hits: u64,
    /// Buffers of this class waiting in the pool now.
    pub idle: usize,
}
// ANCHOR_END: stats

// ANCHOR: errors
/// Why a table of sizes or a limit was refused.
///
/// The table is checked first, then `max_idle_per_class`, then
/// `max_idle_bytes`; in the table, the sizes are checked from the first on,
/// and the first problem found is the one reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigError {
    /// The table has no size at all.
    NoSizes,
    /// `sizes[index]` is 0: a class of empty buffers serves nothing.
    ZeroSize { index: usize },
    /// `sizes[index]` is above `isize::MAX`, more than any `Vec<u8>` can hold.
    SizeTooLarge { index: usize, size: usize },
    /// `sizes[index]` equals the size before it.
    Duplicate { index: usize, size: usize },
    /// `sizes[index]` is smaller than the size before it.
    Unsorted { index: usize, size: usize },
    /// `max_idle_per_class(0)`: no class could keep a buffer.
    ZeroMaxIdlePerClass,
    /// `max_idle_bytes(0)`: no buffer could be kept.
    ZeroMaxIdleBytes,
}
// ANCHOR_END: errors

/// How to build a [`BufferPool`]: its classes and limits. From
/// [`BufferPool::builder`], which starts from [`BufferPool::new`]'s defaults.
pub struct BufferPoolBuilder {
    sizes: Vec<usize>,
    max_idle_per_class: usize,
    max_idle_bytes: usize,
}

/// Why a buffer handed back fits no class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Misfit {
    /// Its capacity is above the largest class.
    Oversized,
    /// Its capacity is below the smallest class.
    Undersized,
}

/// What one class adds to the pool's counters, from [`BufferPool::tally`].
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    hits: u64,
    misses: u64,
    returned_in_place: u64,
    idle: usize,
    idle_bytes: usize,
}

impl BufferStats {
    /// The share of gets served from the pool: `hits / gets`, from 0.0 to
    /// 1.0; 0.0 before the first get.
    pub fn hit_rate(&self) -> f64 {
        todo!("hits / gets, from 0.0 to 1.0; 0.0 before the first get, never NaN")
    }
}

impl BufferPool {
    /// A pool with the default classes (64 B, 128 B, … 64 KiB, powers of
    /// two) and limits: at most 256 idle buffers per class and 16 MiB of idle
    /// buffers in all. Nothing is allocated until the first get.
    pub fn new() -> Self {
        Self::with(
            &DEFAULT_SIZES,
            DEFAULT_MAX_IDLE_PER_CLASS,
            DEFAULT_MAX_IDLE_BYTES,
        )
    }

    /// A pool with these classes and the default limits.
    ///
    /// # Errors
    /// As [`BufferPoolBuilder::build`]: an empty table, a size of 0 or above
    /// `isize::MAX`, a size that repeats or is smaller than the one before it.
    pub fn with_sizes(sizes: &[usize]) -> Result<Self, ConfigError> {
        Self::builder().sizes(sizes).build()
    }

    /// A builder that starts from [`BufferPool::new`]'s classes and limits.
    pub fn builder() -> BufferPoolBuilder {
        BufferPoolBuilder {
            sizes: DEFAULT_SIZES.to_vec(),
            max_idle_per_class: DEFAULT_MAX_IDLE_PER_CLASS,
            max_idle_bytes: DEFAULT_MAX_IDLE_BYTES,
        }
    }

    /// The pool, empty, from a table and limits that have been checked.
    fn with(sizes: &[usize], max_idle_per_class: usize, max_idle_bytes: usize) -> Self {
        todo!(
            "an empty pool of these classes (already checked), with their octave table and limits: every place of max_idle_per_class free in each class's shared list, all of max_idle_bytes in bytes_left, no shard made yet, and a homeless shard"
        )
    }

    // ANCHOR: get
    /// An empty buffer (`len() == 0`) with a capacity of at least `capacity`:
    /// one of the smallest class that holds `capacity`, from the pool if it
    /// has one (a hit) or new (a miss: exactly the class's size). Above the
    /// largest class, a new buffer of exactly `capacity`, counted as a miss in
    /// no class and not kept when handed back. `get(0)` is the smallest class.
    ///
    /// # Panics
    /// When no buffer of `capacity` bytes can be allocated: above
    /// `isize::MAX`, as `Vec::with_capacity` panics, or when the allocator
    /// refuses (where `Vec::with_capacity` would abort the process). The pool
    /// stays usable and counts nothing for this call.
    #[inline(always)]
    pub fn get(&self, capacity: usize) -> PooledBuffer<'_> {
        todo!(
            "the slot of this thread's private cache of the smallest class that holds `capacity`, lent in place and counted as a hit there, if it is FULL; no lock and no read-modify-write on that path. Everything else is get_slow's"
        )
    }

    /// A get that no slot served at once, with `get`'s contract: a hit
    /// whenever this thread's shard (or the homeless one) or the class's
    /// shared list has a buffer of the class, a new buffer otherwise.
    #[cold]
    #[inline(never)]
    fn get_slow(&self, capacity: usize) -> PooledBuffer<'_> {
        todo!(
            "what get did not serve at once, as get documents it: an empty buffer of the smallest class that holds `capacity`, or above the largest class a new one of exactly `capacity` bytes, counted as a get above the largest class and in no class. Within the table, a hit, counted in the class on this thread's shard (or the homeless one), whenever this thread's private cache of the class or the class's shared list has a buffer, this thread's own buffers served before the shared list's; otherwise a miss, with a new buffer of exactly the class's size. A get whose allocation panics counts nothing and holds no lock"
        )
    }
    // ANCHOR_END: get

    /// Hands `buf` to the pool, as dropping a guard does: it is cleared and
    /// filed in the largest class its capacity covers, or dropped (too large,
    /// too small, or no room left) and counted. Any `Vec<u8>` is accepted.
    pub fn put(&self, buf: Vec<u8>) {
        self.give_back(buf);
    }

    // ANCHOR: give_back
    /// Ends the loan of a slot: the buffer, cleared, stays where it is (FULL
    /// again) if its capacity is still the class's size; otherwise it leaves
    /// the slot (EMPTY) and is handed back as any other buffer.
    #[inline]
    fn return_in_place(&self, private: &Private) {
        todo!(
            "the lent slot's buffer is cleared; if its capacity is still exactly the class's size it stays, the slot is FULL again and it counts in returned_in_place; otherwise it leaves the slot, which is EMPTY, and is handed back as any other buffer"
        )
    }

    /// Takes a buffer back, cleared and counted in `returned`: filed by its
    /// capacity, in this thread's private cache or the class's shared list
    /// while the limits have room, dropped and counted otherwise.
    #[inline]
    fn give_back(&self, mut buffer: Vec<u8>) {
        todo!(
            "`buffer` is cleared and counted once in this thread's `returned`, whatever becomes of it. A capacity above the largest class or below the smallest is dropped and counted as oversized or undersized; any other is kept in the largest class its capacity covers, in this thread's private cache or on the class's shared list, whenever the limits leave room for it, and is dropped and counted in dropped_full only when neither can keep it"
        )
    }

    /// Keeps a buffer that the private cache turned down, if the limits allow:
    /// in the private cache once it holds its share (asked for once per class
    /// and thread), or on the shared list; else it is dropped (`dropped_full`).
    #[cold]
    fn keep_slow(&self, home: &Home<'_>, class: usize, buffer: Vec<u8>) {
        todo!(
            "`buffer`, turned down by this thread's private cache of `class`, is kept if the limits allow: in that private cache once the cache holds its share (asked for at most once per class and thread, whether it got anything or not), else on the class's shared list; otherwise it is dropped and counted in dropped_full. Nothing is reserved that does not hold a buffer or belong to the cache's share"
        )
    }
    // ANCHOR_END: give_back

    // ANCHOR: limits
    /// Reserves a private cache's share of `class`: up to `PRIVATE_SHARE`
    /// places, and the class's size in bytes for each. Returns the places
    /// and bytes taken (none once the limits are spent).
    fn take_share(&self, class: usize) -> (usize, usize) {
        todo!(
            "up to PRIVATE_SHARE places taken from the class's free places, and for each of them the class's size in bytes taken from bytes_left: as many places as lots of bytes, never one without the other, and what is left when a full share does not fit. Returns the (places, bytes) taken: (0, 0) once either limit is spent"
        )
    }

    /// Takes up to `most` lots of `lot` bytes from `bytes_left`, even with
    /// other threads taking at the same time; returns how many lots it took.
    fn reserve_bytes(&self, lot: usize, most: usize) -> usize {
        todo!(
            "up to `most` lots of `lot` bytes taken from bytes_left, even with other threads taking at the same time; how many lots were taken (0 when not even one fits)"
        )
    }

    /// Puts `buffer` on the shared list of `class` if the class has a free
    /// place and the idle bytes have room for its capacity; else returns it.
    fn keep_shared(&self, class: usize, buffer: Vec<u8>) -> Result<(), Vec<u8>> {
        todo!(
            "`buffer` is on the class's shared list, having taken one of the class's free places and its capacity in bytes from bytes_left; when either is lacking it comes back as Err and nothing changes"
        )
    }

    /// The newest buffer of the shared list of `class` (the last one put
    /// there, the likeliest to be in a cache still), its place and bytes
    /// given back to the limits; `None` when the list is empty.
    fn take_shared(&self, class: usize) -> Option<Vec<u8>> {
        todo!(
            "the newest buffer of the class's shared list, its place and its bytes given back to the limits; None when the list is empty"
        )
    }
    // ANCHOR_END: limits

    // ANCHOR: warm
    /// Adds up to `count` new buffers to the smallest class of at least `size`
    /// bytes, on its shared list, where any thread's first gets find them.
    /// It stops at the limits (a class's free places, the idle bytes), and
    /// when the allocator refuses; it never panics. Warmed buffers count in
    /// no counter but `idle_buffers` and `idle_bytes`. A `size` above the
    /// largest class warms nothing.
    pub fn warm(&self, count: usize, size: usize) {
        todo!(
            "up to `count` new buffers of exactly the class's size on the shared list of the smallest class of at least `size` bytes, each holding one of the class's free places and its bytes of bytes_left; it stops at the limits, or when the allocator refuses, and a buffer not added holds nothing. Above the largest class it does nothing. No counter changes but idle_buffers and idle_bytes; it never panics or aborts"
        )
    }
    // ANCHOR_END: warm

    /// The class sizes, smallest first.
    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }

    // ANCHOR: stats_fn
    /// The counters, summed over every thread and class (see [`BufferStats`]).
    pub fn stats(&self) -> BufferStats {
        todo!(
            "every shard's counters and every class's tally, summed as BufferStats documents them: gets is hits + misses, and misses include the gets above the largest class"
        )
    }

    /// The counters of each class, in class order (see [`ClassStats`]). Gets
    /// above the largest class are in no class.
    pub fn class_stats(&self) -> Vec<ClassStats> {
        todo!("one ClassStats per class, in class order, from that class's tally")
    }

    /// What `class` adds up to over every thread's private cache and the
    /// shared list.
    fn tally(&self, class: usize) -> Tally {
        todo!(
            "the class's hits, misses and returns in place summed over every shard, and its idle buffers and bytes: FULL slots (each of the class's size), the other buffers of every private cache, and the shared list"
        )
    }
    // ANCHOR_END: stats_fn

    // ANCHOR: lookup
    /// The index of the smallest class of at least `size` bytes (0 counts as
    /// 1); `None` above the largest class.
    #[inline]
    fn class_for(&self, size: usize) -> Option<usize> {
        todo!(
            "the index of the smallest class of at least `size` bytes (0 counting as 1), stepping over only the classes in size's octave; None above the largest class"
        )
    }

    /// The index of the largest class of at most `capacity` bytes: the class
    /// a buffer of that capacity can serve. A capacity above the largest
    /// class or below the smallest fits none.
    #[inline]
    fn class_covering(&self, capacity: usize) -> Result<usize, Misfit> {
        todo!(
            "the index of the largest class of at most `capacity` bytes, stepping over only the classes in capacity's octave; Oversized above the largest class, Undersized below the smallest"
        )
    }
    // ANCHOR_END: lookup

    // ANCHOR: directory
    /// This thread's own shard; `None` while this thread's thread-locals are
    /// being destroyed.
    #[inline]
    fn home(&self) -> Option<Home<'_>> {
        current_place().map(|(bucket, index)| Home {
            shard: self.shard(bucket, index),
            _this_thread: PhantomData,
        })
    }

    /// Runs `f` on this thread's own shard, or on the homeless shard (waiting
    /// for its turn, and holding it while `f` runs) when it has none.
    #[inline]
    fn with_home<'a, R>(&'a self, f: impl FnOnce(&Home<'a>) -> R) -> R {
        match self.home() {
            Some(home) => f(&home),
            None => {
                let _turn = lock(&self.homeless_turn);
                f(&Home {
                    shard: &self.homeless,
                    _this_thread: PhantomData,
                })
            }
        }
    }

    /// The shard at `index` in bucket `bucket`, the bucket made on first use.
    #[inline]
    fn shard(&self, bucket: usize, index: usize) -> &Shard {
        let shards = match self.buckets[bucket].get() {
            Some(shards) => shards,
            None => self.make_bucket(bucket),
        };
        &shards[index]
    }

    /// Bucket `bucket` of the directory, made now if no thread has yet.
    #[cold]
    fn make_bucket(&self, bucket: usize) -> &[Shard] {
        self.buckets[bucket]
            .get_or_init(|| (0..1 << bucket).map(|_| Shard::new(&self.sizes)).collect())
    }

    /// Every shard made so far, the homeless one included.
    fn shards(&self) -> impl Iterator<Item = &Shard> {
        self.buckets
            .iter()
            .filter_map(OnceLock::get)
            .flat_map(|bucket| bucket.iter())
            .chain(std::iter::once(&self.homeless))
    }
    // ANCHOR_END: directory
}

impl Default for BufferPool {
    /// [`BufferPool::new`].
    fn default() -> Self {
        Self::new()
    }
}

impl BufferPoolBuilder {
    /// The class sizes, strictly increasing (checked by `build`).
    pub fn sizes(mut self, sizes: &[usize]) -> Self {
        self.sizes = sizes.to_vec();
        self
    }

    /// The most idle buffers kept per class, all threads together (default
    /// 256). Each thread reserves up to 8 of a class's places for its private
    /// cache the first time it hands back a buffer of that class, so a class
    /// may refuse a buffer (`dropped_full`) while fewer are idle: places
    /// reserved by other threads count as taken.
    pub fn max_idle_per_class(mut self, n: usize) -> Self {
        self.max_idle_per_class = n;
        self
    }

    /// The most bytes kept idle, summed over the capacities of every idle
    /// buffer of every class and thread (default 16 MiB): a ceiling on the
    /// memory the pool holds, like Jetty's `maxHeapMemory`. A private cache
    /// reserves its share's bytes (8 times its class's size, or what is
    /// left) when it reserves its places.
    pub fn max_idle_bytes(mut self, bytes: usize) -> Self {
        self.max_idle_bytes = bytes;
        self
    }

    /// The pool, once the table and the limits are checked.
    ///
    /// # Errors
    /// The first problem found, in the order [`ConfigError`] gives: the table
    /// (empty, a size of 0 or above `isize::MAX`, a duplicate, a size smaller
    /// than the one before), then a `max_idle_per_class` of 0, then a
    /// `max_idle_bytes` of 0.
    pub fn build(self) -> Result<BufferPool, ConfigError> {
        todo!(
            "the pool, once the table passes validate and then max_idle_per_class and max_idle_bytes are not 0, checked in that order; the first problem found is the error"
        )
    }
}

// ANCHOR: validate
/// Checks a table of class sizes, from the first size on: `NoSizes`, then for
/// each size `ZeroSize`, `SizeTooLarge`, and against the size before it
/// `Duplicate` or `Unsorted`. The first problem found is returned.
fn validate(sizes: &[usize]) -> Result<(), ConfigError> {
    todo!(
        "Ok for a table that is not empty and strictly increasing, with every size from 1 to isize::MAX; otherwise NoSizes for an empty table, else the problem of the size with the lowest index: ZeroSize for 0, SizeTooLarge above isize::MAX, and for a size that is neither, Duplicate if it equals the size before it, Unsorted if it is smaller"
    )
}

/// The octave table of a valid table of sizes: entry `b` is the index of the
/// first class of at least `2^b` bytes, or the number of classes if none is.
fn octaves(sizes: &[usize]) -> [usize; OCTAVES] {
    todo!(
        "entry b is the index of the first class of at least 2^b bytes, or the number of classes when none is that large"
    )
}
// ANCHOR_END: validate

// ANCHOR: allocate
/// A new empty buffer of exactly `size` bytes of capacity, or `None` when no
/// such buffer can exist or the allocator refuses. Never aborts.
fn try_allocate(size: usize) -> Option<Vec<u8>> {
    todo!(
        "an empty Vec with a capacity of exactly `size` bytes, or None wherever Vec::with_capacity would panic or abort the process; never panics"
    )
}

/// A new empty buffer of exactly `size` bytes of capacity; panics, with a
/// message that says why, where `Vec::with_capacity` would panic or abort.
fn allocate(size: usize) -> Vec<u8> {
    assert!(
        size <= LARGEST_BUFFER,
        "BufferPool::get({size}): no Vec<u8> can hold more than isize::MAX bytes"
    );
    match try_allocate(size) {
        Some(buffer) => buffer,
        None => panic!("BufferPool::get({size}): the allocator could not provide {size} bytes"),
    }
}
// ANCHOR_END: allocate

impl PooledBuffer<'_> {
    /// Keeps the buffer: it never goes back to the pool (and is not counted
    /// in `returned`).
    pub fn into_vec(self) -> Vec<u8> {
        let mut this = ManuallyDrop::new(self);
        match &mut this.buffer {
            Lent::InPlace(private) => {
                // SAFETY: the slot is LENT to this guard, so nothing else
                // touches it; after the EMPTY store the guard never does again.
                let buffer = mem::take(unsafe { &mut *private.slot.get() });
                private.state.store(EMPTY, Ordering::Release);
                buffer
            }
            Lent::Owned(buffer) => mem::take(buffer),
        }
    }
}

impl Deref for PooledBuffer<'_> {
    type Target = Vec<u8>;

    #[inline]
    fn deref(&self) -> &Vec<u8> {
        match &self.buffer {
            // SAFETY: the slot is LENT to this guard, so no `&mut` to it
            // exists but through the guard, which `&self` borrows.
            Lent::InPlace(private) => unsafe { &*private.slot.get() },
            Lent::Owned(buffer) => buffer,
        }
    }
}

impl DerefMut for PooledBuffer<'_> {
    #[inline]
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        match &mut self.buffer {
            // SAFETY: the slot is LENT to this guard, and `&mut self` makes
            // this the only reference to it.
            Lent::InPlace(private) => unsafe { &mut *private.slot.get() },
            Lent::Owned(buffer) => buffer,
        }
    }
}

impl Drop for PooledBuffer<'_> {
    #[inline]
    fn drop(&mut self) {
        match &mut self.buffer {
            Lent::InPlace(private) => self.pool.return_in_place(private),
            Lent::Owned(buffer) => {
                let buffer = mem::take(buffer);
                self.pool.give_back(buffer);
            }
        }
    }
}

// ANCHOR: home_impl
impl<'a> Home<'a> {
    /// The class's private cache and counters on this shard.
    #[inline]
    fn private(&self, class: usize) -> &'a Private {
        &self.shard.classes[class]
    }

    /// Lends the slot of `class` if it holds a buffer (FULL becomes LENT),
    /// and returns its private cache then.
    #[inline]
    fn lend_slot(&self, class: usize) -> Option<&'a Private> {
        let private = self.private(class);
        // Acquire: if a guard on another thread returned the buffer, its
        // writes to the slot happen before this thread's guard reads it.
        if private.state.load(Ordering::Acquire) == FULL {
            private.state.store(LENT, Ordering::Relaxed);
            Some(private)
        } else {
            None
        }
    }

    /// Keeps `buffer` in the private cache of `class`: in its slot if the
    /// cache has one, the slot is EMPTY and the buffer has exactly the
    /// class's size; else with its other buffers if their bytes have room for
    /// its capacity. Returns it if neither can take it.
    #[inline]
    fn keep(&self, class: usize, buffer: Vec<u8>) -> Result<(), Vec<u8>> {
        todo!(
            "Ok when `buffer` is in this private cache: in the slot (FULL then) only if the cache has a slot, the slot is EMPTY and the capacity is exactly the class's size; or else among the other buffers only while their bytes stay within room_bytes, idle and idle_bytes matching them. Err with `buffer` untouched when neither can take it. Never allocates or locks, and touches the slot only where the slot's state shows that its last user's writes to it are visible here"
        )
    }

    /// The newest of the other idle buffers of `class` (not the slot's).
    #[inline]
    fn pop(&self, class: usize) -> Option<Vec<u8>> {
        let private = self.private(class);
        // SAFETY: as in `keep`.
        let cache = unsafe { &mut *private.cache.get() };
        let buffer = cache.buffers.pop()?;
        let bytes = private.idle_bytes.load(Ordering::Relaxed) - buffer.capacity();
        private.idle.store(cache.buffers.len(), Ordering::Relaxed);
        private.idle_bytes.store(bytes, Ordering::Relaxed);
        Some(buffer)
    }

    /// Whether the private cache of `class` has asked for its share yet.
    fn has_share(&self, class: usize) -> bool {
        // SAFETY: as in `keep`.
        unsafe { &*self.private(class).cache.get() }.has_share
    }

    /// Gives the private cache of `class` the places and bytes of its share:
    /// one place and the class's size for the slot, the rest for the other
    /// buffers, with the capacity to hold them without allocating again
    /// (room for `places` buffers, one more than they can use: simpler, and
    /// one `Vec` header is all it costs).
    fn grant(&self, class: usize, places: usize, bytes: usize) {
        let private = self.private(class);
        // SAFETY: as in `keep`.
        let cache = unsafe { &mut *private.cache.get() };
        cache.has_share = true;
        if places > 0 {
            cache.has_slot = true;
            cache.room_bytes += bytes - private.size;
            cache.buffers.reserve_exact(places);
        }
    }
}
// ANCHOR_END: home_impl

impl Shard {
    /// A shard with an empty private cache for each class of `sizes`.
    fn new(sizes: &[usize]) -> Self {
        Self {
            classes: sizes.iter().map(|&size| Private::new(size)).collect(),
            counters: Counters::default(),
        }
    }
}

impl Private {
    /// An empty private cache of a class of `size` bytes.
    fn new(size: usize) -> Self {
        Self {
            size,
            state: AtomicU8::new(EMPTY),
            slot: UnsafeCell::new(Vec::new()),
            cache: UnsafeCell::new(Cache::default()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            returned_in_place: AtomicU64::new(0),
            idle: AtomicUsize::new(0),
            idle_bytes: AtomicUsize::new(0),
        }
    }
}

// ANCHOR: thread_slot
// Chapter 04's thread slots: a dense number per live thread, which also
// says where the thread's shard sits in every pool's directory.

/// The slot numbers of live threads: the next never used, and those given back.
struct Slots {
    next: usize,
    free: BinaryHeap<Reverse<usize>>,
}

static SLOTS: Mutex<Slots> = Mutex::new(Slots {
    next: 0,
    free: BinaryHeap::new(),
});

/// A thread's slot number: the smallest one no live thread holds, given back
/// when the thread exits, so that numbers (and shards) stay few and dense;
/// and the bucket and index of its shard in a directory, worked out once.
struct ThreadSlot {
    number: usize,
    place: (usize, usize),
}

impl ThreadSlot {
    fn acquire() -> Self {
        let mut slots = SLOTS.lock().unwrap_or_else(PoisonError::into_inner);
        let number = match slots.free.pop() {
            Some(Reverse(number)) => number,
            None => {
                let number = slots.next;
                slots.next += 1;
                number
            }
        };
        Self {
            number,
            place: locate(number),
        }
    }
}

impl Drop for ThreadSlot {
    fn drop(&mut self) {
        let mut slots = SLOTS.lock().unwrap_or_else(PoisonError::into_inner);
        slots.free.push(Reverse(self.number));
    }
}

thread_local! {
    static SLOT: ThreadSlot = ThreadSlot::acquire();
}

/// The bucket and index of this thread's shard; `None` once its
/// thread-locals are being destroyed.
#[inline]
fn current_place() -> Option<(usize, usize)> {
    SLOT.try_with(|slot| slot.place).ok()
}

/// The bucket and index of slot `number`'s shard: bucket `b` holds slots
/// `2^b - 1 ..= 2^(b+1) - 2`.
fn locate(number: usize) -> (usize, usize) {
    let n = number + 1;
    let bucket = (usize::BITS - 1 - n.leading_zeros()) as usize;
    (bucket, n - (1 << bucket))
}
// ANCHOR_END: thread_slot

/// Adds one to a counter that one thread at a time writes: a plain load and
/// store, no read-modify-write, so it costs what a `Cell` would.
#[inline]
fn bump(counter: &AtomicU64) {
    counter.store(counter.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
}

/// Locks a mutex of the pool. No state is left half changed under a lock (no
/// user code runs there, and nothing there panics), so poisoning is ignored.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl fmt::Debug for BufferPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufferPool")
            .field("sizes", &self.sizes)
            .field("max_idle_per_class", &self.max_idle_per_class)
            .field("max_idle_bytes", &self.max_idle_bytes)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for BufferPoolBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufferPoolBuilder")
            .field("sizes", &self.sizes)
            .field("max_idle_per_class", &self.max_idle_per_class)
            .field("max_idle_bytes", &self.max_idle_bytes)
            .finish()
    }
}

impl fmt::Debug for PooledBuffer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PooledBuffer")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .finish()
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        todo!(
            "one sentence per variant that names the setting, or the size and index, it refused, and why; no two variants alike"
        )
    }
}

impl std::error::Error for ConfigError {}
