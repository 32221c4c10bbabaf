//! # Chapter 05: a pool of byte buffers, by size class
//!
//! [`BufferPool`] keeps `Vec<u8>` buffers that callers are done with and hands
//! them out again, sorted into size classes (64 B, 128 B, … 64 KiB by
//! default), so a program that needs a scratch buffer per request stops
//! asking the allocator for one each time. `get(n)` serves the smallest class
//! of at least `n` bytes; a buffer comes back when its guard is dropped,
//! cleared, and is filed by the capacity it has *then*, so a buffer that grew
//! serves larger requests next time, and one that grew too large is let go.
//!
//! ```
//! use buffer_pool::BufferPool;
//!
//! let pool = BufferPool::new();
//! {
//!     let mut buf = pool.get(1000); // a miss: a new buffer of the 1024-byte class
//!     buf.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
//!     assert_eq!(buf.capacity(), 1024);
//! } // back in the pool, cleared
//! let buf = pool.get(600); // a hit: the same buffer, empty again
//! assert!(buf.is_empty() && buf.capacity() == 1024);
//! drop(buf);
//! let stats = pool.stats();
//! assert_eq!((stats.gets, stats.hits, stats.misses, stats.returned), (2, 1, 1, 2));
//! ```
//!
//! The pool is [`Send`] and [`Sync`], so threads share it by reference; each
//! thread keeps a few buffers of every class to itself, so that a get and a
//! drop take no lock and write nothing another thread writes:
//!
//! ```
//! let pool = buffer_pool::BufferPool::new();
//! std::thread::scope(|s| {
//!     for _ in 0..2 {
//!         s.spawn(|| pool.get(256).extend_from_slice(&[1; 256]));
//!     }
//! });
//! assert_eq!(pool.stats().returned, 2);
//! ```

// Design notes (for the lesson; the exercise is generated from the first `use` on).
//
// THE PROBLEM. A buffer pool is a pool per size class, and the first one
// anybody writes is `Vec<Mutex<Vec<Vec<u8>>>>`: lock the class, pop, unlock;
// lock, push, unlock. Uncontended, that is four atomic read-modify-writes
// per get and drop, and one atomic read-modify-write cost about as much as
// allocating a 1 KiB `Vec` on this machine while planning (issue 8). With
// two threads the lock's cache line moves between cores on every operation.
// So the hit path here has no lock and no atomic read-modify-write: only
// loads and stores to memory that its own thread alone writes.
//
// GO'S LAYOUT, PER THREAD AND CLASS. Go's `sync.Pool` gives every processor
// (P) a `private` object that only that P touches, and a `shared` list that
// other Ps may steal from. Here every thread has, for every class, a PRIVATE
// cache (`Private`, in the thread's `Shard`) that no other thread takes from:
// a slot with one buffer, and up to 7 more buffers. Every class has one
// SHARED list behind a `Mutex`, which any thread takes from when its private
// cache is empty, and where a thread's buffers go when its private cache is
// full. Unlike chapter 04, no thread takes from another's private cache:
// that is what spares the hit path a compare-and-swap, and it is the price:
// a buffer in one thread's private cache is invisible to the others (up to 8
// per class per thread), even after that thread exits, until the next thread
// that gets its slot number adopts the shard.
//
// THE SLOT is lent in place, as chapter 04's: `get` sees it FULL, stores
// LENT, and returns a guard that points into it; dropping the guard clears
// the buffer and stores FULL. Nothing moves. (A first version moved the
// buffer out of a private `Vec<Vec<u8>>` into the guard and back; each move
// is three words stored and loaded again, and it missed the bar.) Only the
// owner moves the slot out of FULL or EMPTY, so plain stores do, with no
// compare-and-swap; the state is atomic only because a guard may be dropped
// on another thread, whose release store of FULL the owner's acquire load
// sees. The slot holds only a buffer of exactly the class's size, so its
// place and bytes in the limits are known without looking. `get` is cut
// down to this path and always inlined; everything else is `get_slow`.
//
// FINDING A THREAD'S SHARD is chapter 04's machinery: a small process-wide
// slot number per live thread (`ThreadSlot`, which also works out once where
// its shard sits in a directory), and per pool a directory of buckets of 1,
// 2, 4, ... shards made on first use. A shard outlives its thread; the next
// thread with that slot number adopts it, buffers and counters included. A
// thread whose thread-locals are being destroyed has no slot: it uses the
// pool's `homeless` shard, one thread at a time (`homeless_turn`). A `Home`
// is the proof that this thread owns a shard now; it cannot leave the thread
// (`!Send`), and only `home` and `with_home` make one.
//
// SIZE CLASSES. `get(n)` needs the smallest class >= n; a buffer handed back
// needs the largest class <= its capacity (it must serve every request its
// class serves). Both start from `octaves`: for each power of two 2^b, the
// first class >= 2^b. A request or a capacity falls in one octave (one
// `ilog2`), and only the classes inside that octave are stepped over: none
// or one for a table of powers of two. A capacity above the largest class is
// dropped (`dropped_oversized`), below the smallest too (`dropped_undersized`).
//
// LIMITS without a shared counter on the hot path, as chapter 04's shares:
// `max_idle_per_class` is kept per class as `free_places` in the class's
// shared list (under its lock), `max_idle_bytes` as one `bytes_left` atomic.
// The first time a thread hands back a buffer of a class, its private cache
// reserves a share of 8 places and their bytes (8 x the class size), or what
// is left; a private push then only checks its own room. A push to the
// shared list reserves one place and the buffer's capacity in bytes, and a
// pop from it gives them back. Places a private cache reserved stay with its
// shard for the pool's life. So the idle buffers of all threads together
// never exceed either limit, and a class can refuse a buffer although fewer
// are idle: the places other threads reserved count as taken.
//
// COUNTERS. Per class `hits` and `misses`, per thread `returned`, the three
// kinds of drops and the gets above the largest class; all in the thread's
// shard, written by that thread only with a plain load and store (`bump`),
// and summed by `stats()`. (`returned_in_place` is written by the guard that
// holds the slot: the slot's state orders those writes.) Each private cache
// mirrors the length and bytes of its other buffers in two atomics, so that
// `stats()` never reads the cache itself. `gets` is `hits + misses`, so it can never
// disagree with them, even in a `stats()` taken while other threads run.
//
// PANICS. No user code runs inside the pool; the only panic is a `get` of a
// size no allocation can satisfy, which counts nothing and leaves no lock
// held (a poisoned lock is ignored: no state is half changed under it).

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
///
/// ```
/// let pool = buffer_pool::BufferPool::new();
/// let mut line = pool.get(80);
/// line.extend_from_slice(b"GET / HTTP/1.1");
/// assert_eq!(line.capacity(), 128, "the smallest class of at least 80 bytes");
/// ```
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
///
/// ```
/// use std::io::Write;
///
/// let pool = buffer_pool::BufferPool::new();
/// let mut buf = pool.get(64);
/// write!(buf, "{} + {} = {}", 2, 2, 4)?;
/// assert_eq!(&buf[..], b"2 + 2 = 4");
/// # Ok::<(), std::io::Error>(())
/// ```
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
///
/// ```
/// let pool = buffer_pool::BufferPool::new();
/// drop(pool.get(100));
/// drop(pool.get(100));
/// let stats = pool.stats();
/// assert_eq!((stats.gets, stats.hits, stats.misses), (2, 1, 1));
/// assert_eq!((stats.idle_buffers, stats.idle_bytes), (1, 128));
/// ```
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
///
/// ```
/// let pool = buffer_pool::BufferPool::with_sizes(&[64, 1024])?;
/// drop(pool.get(500));
/// let classes = pool.class_stats();
/// assert_eq!(classes[1], buffer_pool::ClassStats { size: 1024, gets: 1, hits: 0, idle: 1 });
/// # Ok::<(), buffer_pool::ConfigError>(())
/// ```
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
///
/// ```
/// use buffer_pool::{BufferPool, ConfigError};
///
/// let err = BufferPool::with_sizes(&[64, 32]).unwrap_err();
/// assert_eq!(err, ConfigError::Unsorted { index: 1, size: 32 });
/// assert!(err.to_string().contains("32"));
/// ```
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
///
/// ```
/// let pool = buffer_pool::BufferPool::builder()
///     .sizes(&[512, 4096])
///     .max_idle_per_class(32)
///     .max_idle_bytes(1 << 20)
///     .build()?;
/// assert_eq!(pool.sizes(), [512, 4096]);
/// # Ok::<(), buffer_pool::ConfigError>(())
/// ```
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
    ///
    /// ```
    /// let pool = buffer_pool::BufferPool::new();
    /// assert_eq!(pool.stats().hit_rate(), 0.0);
    /// drop(pool.get(10)); // a miss
    /// drop(pool.get(10)); // a hit
    /// assert_eq!(pool.stats().hit_rate(), 0.5);
    /// ```
    pub fn hit_rate(&self) -> f64 {
        if self.gets == 0 {
            0.0
        } else {
            self.hits as f64 / self.gets as f64
        }
    }
}

impl BufferPool {
    /// A pool with the default classes (64 B, 128 B, … 64 KiB, powers of
    /// two) and limits: at most 256 idle buffers per class and 16 MiB of idle
    /// buffers in all. Nothing is allocated until the first get.
    ///
    /// ```
    /// let pool = buffer_pool::BufferPool::new();
    /// assert_eq!(pool.sizes().first(), Some(&64));
    /// assert_eq!(pool.sizes().last(), Some(&65536));
    /// ```
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
    ///
    /// ```
    /// use buffer_pool::{BufferPool, ConfigError};
    ///
    /// let pool = BufferPool::with_sizes(&[64, 256, 1024, 4096])?;
    /// assert_eq!(pool.get(300).capacity(), 1024);
    /// assert_eq!(BufferPool::with_sizes(&[]).err(), Some(ConfigError::NoSizes));
    /// # Ok::<(), ConfigError>(())
    /// ```
    pub fn with_sizes(sizes: &[usize]) -> Result<Self, ConfigError> {
        Self::builder().sizes(sizes).build()
    }

    /// A builder that starts from [`BufferPool::new`]'s classes and limits.
    ///
    /// ```
    /// let pool = buffer_pool::BufferPool::builder().max_idle_per_class(4).build()?;
    /// assert_eq!(pool.sizes().len(), 11);
    /// # Ok::<(), buffer_pool::ConfigError>(())
    /// ```
    pub fn builder() -> BufferPoolBuilder {
        BufferPoolBuilder {
            sizes: DEFAULT_SIZES.to_vec(),
            max_idle_per_class: DEFAULT_MAX_IDLE_PER_CLASS,
            max_idle_bytes: DEFAULT_MAX_IDLE_BYTES,
        }
    }

    /// The pool, empty, from a table and limits that have been checked.
    fn with(sizes: &[usize], max_idle_per_class: usize, max_idle_bytes: usize) -> Self {
        Self {
            sizes: sizes.into(),
            octaves: octaves(sizes),
            max_idle_per_class,
            max_idle_bytes,
            bytes_left: AtomicUsize::new(max_idle_bytes),
            shared: sizes
                .iter()
                .map(|_| {
                    Mutex::new(Shared {
                        buffers: Vec::new(),
                        bytes: 0,
                        free_places: max_idle_per_class,
                    })
                })
                .collect(),
            buckets: [const { OnceLock::new() }; BUCKETS],
            homeless: Shard::new(sizes),
            homeless_turn: Mutex::new(()),
        }
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
    ///
    /// ```
    /// let pool = buffer_pool::BufferPool::new();
    /// assert_eq!(pool.get(0).capacity(), 64);
    /// assert_eq!(pool.get(4096).capacity(), 4096);
    /// assert_eq!(pool.get(100_000).capacity(), 100_000, "above 64 KiB: exactly");
    /// ```
    #[inline(always)]
    pub fn get(&self, capacity: usize) -> PooledBuffer<'_> {
        if let Some(class) = self.class_for(capacity) {
            if let Some(private) = self.home().and_then(|home| home.lend_slot(class)) {
                bump(&private.hits);
                return PooledBuffer {
                    pool: self,
                    buffer: Lent::InPlace(private),
                };
            }
        }
        self.get_slow(capacity)
    }

    /// A get that no slot served at once, with `get`'s contract: a hit
    /// whenever this thread's shard (or the homeless one) or the class's
    /// shared list has a buffer of the class, a new buffer otherwise.
    #[cold]
    #[inline(never)]
    fn get_slow(&self, capacity: usize) -> PooledBuffer<'_> {
        let Some(class) = self.class_for(capacity) else {
            let buffer = allocate(capacity);
            self.with_home(|home| bump(&home.shard.counters.oversized_gets));
            return PooledBuffer {
                pool: self,
                buffer: Lent::Owned(buffer),
            };
        };
        self.with_home(|home| {
            let private = home.private(class);
            let buffer = if let Some(private) = home.lend_slot(class) {
                Lent::InPlace(private)
            } else if let Some(buffer) = home.pop(class).or_else(|| self.take_shared(class)) {
                Lent::Owned(buffer)
            } else {
                let buffer = allocate(self.sizes[class]);
                bump(&private.misses);
                return PooledBuffer {
                    pool: self,
                    buffer: Lent::Owned(buffer),
                };
            };
            bump(&private.hits);
            PooledBuffer { pool: self, buffer }
        })
    }
    // ANCHOR_END: get

    /// Hands `buf` to the pool, as dropping a guard does: it is cleared and
    /// filed in the largest class its capacity covers, or dropped (too large,
    /// too small, or no room left) and counted. Any `Vec<u8>` is accepted.
    ///
    /// ```
    /// let pool = buffer_pool::BufferPool::new();
    /// pool.put(Vec::with_capacity(3000)); // filed in the 2048-byte class
    /// let buf = pool.get(2000); // a hit
    /// assert_eq!(buf.capacity(), 3000);
    /// assert_eq!(pool.stats().hits, 1);
    /// ```
    pub fn put(&self, buf: Vec<u8>) {
        self.give_back(buf);
    }

    // ANCHOR: give_back
    /// Ends the loan of a slot: the buffer, cleared, stays where it is (FULL
    /// again) if its capacity is still the class's size; otherwise it leaves
    /// the slot (EMPTY) and is handed back as any other buffer.
    #[inline]
    fn return_in_place(&self, private: &Private) {
        // SAFETY: the slot is LENT to the guard being dropped, so this code
        // alone touches it, and nothing else borrows it now.
        let slot = unsafe { &mut *private.slot.get() };
        slot.clear();
        if slot.capacity() == private.size {
            bump(&private.returned_in_place);
            private.state.store(FULL, Ordering::Release);
        } else {
            let buffer = mem::take(slot);
            private.state.store(EMPTY, Ordering::Release);
            self.give_back(buffer);
        }
    }

    /// Takes a buffer back, cleared and counted in `returned`: filed by its
    /// capacity, in this thread's private cache or the class's shared list
    /// while the limits have room, dropped and counted otherwise.
    #[inline]
    fn give_back(&self, mut buffer: Vec<u8>) {
        buffer.clear();
        self.with_home(|home| {
            let counters = &home.shard.counters;
            bump(&counters.returned);
            match self.class_covering(buffer.capacity()) {
                Ok(class) => {
                    if let Err(buffer) = home.keep(class, buffer) {
                        self.keep_slow(home, class, buffer);
                    }
                }
                Err(Misfit::Oversized) => bump(&counters.dropped_oversized),
                Err(Misfit::Undersized) => bump(&counters.dropped_undersized),
            }
        });
    }

    /// Keeps a buffer that the private cache turned down, if the limits allow:
    /// in the private cache once it holds its share (asked for once per class
    /// and thread), or on the shared list; else it is dropped (`dropped_full`).
    #[cold]
    fn keep_slow(&self, home: &Home<'_>, class: usize, buffer: Vec<u8>) {
        let buffer = if home.has_share(class) {
            buffer
        } else {
            let (places, bytes) = self.take_share(class);
            home.grant(class, places, bytes);
            match home.keep(class, buffer) {
                Ok(()) => return,
                Err(buffer) => buffer,
            }
        };
        if let Err(buffer) = self.keep_shared(class, buffer) {
            bump(&home.shard.counters.dropped_full);
            drop(buffer);
        }
    }
    // ANCHOR_END: give_back

    // ANCHOR: limits
    /// Reserves a private cache's share of `class`: up to `PRIVATE_SHARE`
    /// places, and the class's size in bytes for each. Returns the places
    /// and bytes taken (none once the limits are spent).
    fn take_share(&self, class: usize) -> (usize, usize) {
        let size = self.sizes[class];
        let mut shared = lock(&self.shared[class]);
        let places = self.reserve_bytes(size, PRIVATE_SHARE.min(shared.free_places));
        shared.free_places -= places;
        (places, places * size)
    }

    /// Takes up to `most` lots of `lot` bytes from `bytes_left`, even with
    /// other threads taking at the same time; returns how many lots it took.
    fn reserve_bytes(&self, lot: usize, most: usize) -> usize {
        let mut granted = 0;
        let _ = self
            .bytes_left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                granted = most.min(left / lot);
                Some(left - granted * lot)
            });
        granted
    }

    /// Puts `buffer` on the shared list of `class` if the class has a free
    /// place and the idle bytes have room for its capacity; else returns it.
    fn keep_shared(&self, class: usize, buffer: Vec<u8>) -> Result<(), Vec<u8>> {
        let mut shared = lock(&self.shared[class]);
        if shared.free_places == 0 || self.reserve_bytes(buffer.capacity(), 1) == 0 {
            return Err(buffer);
        }
        shared.free_places -= 1;
        shared.bytes += buffer.capacity();
        shared.buffers.push(buffer);
        Ok(())
    }

    /// The newest buffer of the shared list of `class` (the last one put
    /// there, the likeliest to be in a cache still), its place and bytes
    /// given back to the limits; `None` when the list is empty.
    fn take_shared(&self, class: usize) -> Option<Vec<u8>> {
        let mut shared = lock(&self.shared[class]);
        let buffer = shared.buffers.pop()?;
        shared.free_places += 1;
        shared.bytes -= buffer.capacity();
        drop(shared);
        self.bytes_left
            .fetch_add(buffer.capacity(), Ordering::Relaxed);
        Some(buffer)
    }
    // ANCHOR_END: limits

    // ANCHOR: warm
    /// Adds up to `count` new buffers to the smallest class of at least `size`
    /// bytes, on its shared list, where any thread's first gets find them.
    /// It stops at the limits (a class's free places, the idle bytes), and
    /// when the allocator refuses; it never panics. Warmed buffers count in
    /// no counter but `idle_buffers` and `idle_bytes`. A `size` above the
    /// largest class warms nothing.
    ///
    /// ```
    /// let pool = buffer_pool::BufferPool::builder().max_idle_per_class(4).build()?;
    /// pool.warm(10, 1000);
    /// assert_eq!(pool.class_stats()[4].idle, 4, "the 1024-byte class keeps 4 at most");
    /// assert_eq!(pool.stats().gets, 0);
    /// pool.warm(1, 1 << 20); // above 64 KiB: nothing
    /// assert_eq!(pool.stats().idle_buffers, 4);
    /// # Ok::<(), buffer_pool::ConfigError>(())
    /// ```
    pub fn warm(&self, count: usize, size: usize) {
        let Some(class) = self.class_for(size) else {
            return;
        };
        let size = self.sizes[class];
        let mut shared = lock(&self.shared[class]);
        for _ in 0..count {
            if shared.free_places == 0 || self.reserve_bytes(size, 1) == 0 {
                break;
            }
            let Some(buffer) = try_allocate(size) else {
                self.bytes_left.fetch_add(size, Ordering::Relaxed);
                break;
            };
            shared.free_places -= 1;
            shared.bytes += size;
            shared.buffers.push(buffer);
        }
    }
    // ANCHOR_END: warm

    /// The class sizes, smallest first.
    ///
    /// ```
    /// let pool = buffer_pool::BufferPool::with_sizes(&[100, 1000])?;
    /// assert_eq!(pool.sizes(), [100, 1000]);
    /// # Ok::<(), buffer_pool::ConfigError>(())
    /// ```
    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }

    // ANCHOR: stats_fn
    /// The counters, summed over every thread and class (see [`BufferStats`]).
    ///
    /// ```
    /// let pool = buffer_pool::BufferPool::new();
    /// let kept = pool.get(10).into_vec();
    /// drop(pool.get(1 << 20)); // above the largest class: dropped
    /// pool.put(kept);
    /// let stats = pool.stats();
    /// assert_eq!((stats.gets, stats.misses, stats.returned), (2, 2, 2));
    /// assert_eq!((stats.dropped_oversized, stats.idle_buffers), (1, 1));
    /// ```
    pub fn stats(&self) -> BufferStats {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let mut stats = BufferStats {
            gets: 0,
            hits: 0,
            misses: 0,
            returned: 0,
            dropped_oversized: 0,
            dropped_undersized: 0,
            dropped_full: 0,
            idle_buffers: 0,
            idle_bytes: 0,
        };
        for shard in self.shards() {
            let counters = &shard.counters;
            stats.misses += load(&counters.oversized_gets);
            stats.returned += load(&counters.returned);
            stats.dropped_oversized += load(&counters.dropped_oversized);
            stats.dropped_undersized += load(&counters.dropped_undersized);
            stats.dropped_full += load(&counters.dropped_full);
        }
        for class in 0..self.sizes.len() {
            let tally = self.tally(class);
            stats.hits += tally.hits;
            stats.misses += tally.misses;
            stats.returned += tally.returned_in_place;
            stats.idle_buffers += tally.idle;
            stats.idle_bytes += tally.idle_bytes;
        }
        stats.gets = stats.hits + stats.misses;
        stats
    }

    /// The counters of each class, in class order (see [`ClassStats`]). Gets
    /// above the largest class are in no class.
    ///
    /// ```
    /// let pool = buffer_pool::BufferPool::with_sizes(&[64, 128])?;
    /// drop(pool.get(100));
    /// drop(pool.get(128));
    /// let sizes: Vec<_> = pool.class_stats().iter().map(|c| (c.size, c.gets, c.hits)).collect();
    /// assert_eq!(sizes, [(64, 0, 0), (128, 2, 1)]);
    /// # Ok::<(), buffer_pool::ConfigError>(())
    /// ```
    pub fn class_stats(&self) -> Vec<ClassStats> {
        (0..self.sizes.len())
            .map(|class| {
                let tally = self.tally(class);
                ClassStats {
                    size: self.sizes[class],
                    gets: tally.hits + tally.misses,
                    hits: tally.hits,
                    idle: tally.idle,
                }
            })
            .collect()
    }

    /// What `class` adds up to over every thread's private cache and the
    /// shared list.
    fn tally(&self, class: usize) -> Tally {
        let mut tally = Tally::default();
        for shard in self.shards() {
            let private = &shard.classes[class];
            let in_slot = private.state.load(Ordering::Relaxed) == FULL;
            tally.hits += private.hits.load(Ordering::Relaxed);
            tally.misses += private.misses.load(Ordering::Relaxed);
            tally.returned_in_place += private.returned_in_place.load(Ordering::Relaxed);
            tally.idle += usize::from(in_slot) + private.idle.load(Ordering::Relaxed);
            tally.idle_bytes += if in_slot { private.size } else { 0 };
            tally.idle_bytes += private.idle_bytes.load(Ordering::Relaxed);
        }
        let shared = lock(&self.shared[class]);
        tally.idle += shared.buffers.len();
        tally.idle_bytes += shared.bytes;
        tally
    }
    // ANCHOR_END: stats_fn

    // ANCHOR: lookup
    /// The index of the smallest class of at least `size` bytes (0 counts as
    /// 1); `None` above the largest class.
    #[inline]
    fn class_for(&self, size: usize) -> Option<usize> {
        let size = size.max(1);
        let mut class = self.octaves[size.ilog2() as usize];
        while *self.sizes.get(class)? < size {
            class += 1;
        }
        Some(class)
    }

    /// The index of the largest class of at most `capacity` bytes: the class
    /// a buffer of that capacity can serve. A capacity above the largest
    /// class or below the smallest fits none.
    #[inline]
    fn class_covering(&self, capacity: usize) -> Result<usize, Misfit> {
        if capacity > self.sizes[self.sizes.len() - 1] {
            return Err(Misfit::Oversized);
        }
        if capacity < self.sizes[0] {
            return Err(Misfit::Undersized);
        }
        // The first class of at least the next power of two is above
        // `capacity`; step down to the last one that is not.
        let mut end = self.octaves[capacity.ilog2() as usize + 1];
        while self.sizes[end - 1] > capacity {
            end -= 1;
        }
        Ok(end - 1)
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
    ///
    /// ```
    /// let pool = buffer_pool::BufferPool::default();
    /// assert_eq!(pool.sizes().len(), 11);
    /// ```
    fn default() -> Self {
        Self::new()
    }
}

impl BufferPoolBuilder {
    /// The class sizes, strictly increasing (checked by `build`).
    ///
    /// ```
    /// let pool = buffer_pool::BufferPool::builder().sizes(&[64, 256, 1024, 4096]).build()?;
    /// assert_eq!(pool.get(200).capacity(), 256);
    /// # Ok::<(), buffer_pool::ConfigError>(())
    /// ```
    pub fn sizes(mut self, sizes: &[usize]) -> Self {
        self.sizes = sizes.to_vec();
        self
    }

    /// The most idle buffers kept per class, all threads together (default
    /// 256). Each thread reserves up to 8 of a class's places for its private
    /// cache the first time it hands back a buffer of that class, so a class
    /// may refuse a buffer (`dropped_full`) while fewer are idle: places
    /// reserved by other threads count as taken.
    ///
    /// ```
    /// let pool = buffer_pool::BufferPool::builder().max_idle_per_class(2).build()?;
    /// drop([pool.get(64), pool.get(64), pool.get(64)]);
    /// assert_eq!((pool.stats().idle_buffers, pool.stats().dropped_full), (2, 1));
    /// # Ok::<(), buffer_pool::ConfigError>(())
    /// ```
    pub fn max_idle_per_class(mut self, n: usize) -> Self {
        self.max_idle_per_class = n;
        self
    }

    /// The most bytes kept idle, summed over the capacities of every idle
    /// buffer of every class and thread (default 16 MiB): a ceiling on the
    /// memory the pool holds, like Jetty's `maxHeapMemory`. A private cache
    /// reserves its share's bytes (8 times its class's size, or what is
    /// left) when it reserves its places.
    ///
    /// ```
    /// let pool = buffer_pool::BufferPool::builder().max_idle_bytes(2048).build()?;
    /// drop([pool.get(1024), pool.get(1024), pool.get(1024)]);
    /// assert_eq!((pool.stats().idle_bytes, pool.stats().dropped_full), (2048, 1));
    /// # Ok::<(), buffer_pool::ConfigError>(())
    /// ```
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
    ///
    /// ```
    /// use buffer_pool::{BufferPool, ConfigError};
    ///
    /// let refused = BufferPool::builder().sizes(&[64, 64]).max_idle_bytes(0).build();
    /// assert_eq!(refused.err(), Some(ConfigError::Duplicate { index: 1, size: 64 }));
    /// let refused = BufferPool::builder().max_idle_per_class(0).build();
    /// assert_eq!(refused.err(), Some(ConfigError::ZeroMaxIdlePerClass));
    /// ```
    pub fn build(self) -> Result<BufferPool, ConfigError> {
        validate(&self.sizes)?;
        if self.max_idle_per_class == 0 {
            return Err(ConfigError::ZeroMaxIdlePerClass);
        }
        if self.max_idle_bytes == 0 {
            return Err(ConfigError::ZeroMaxIdleBytes);
        }
        Ok(BufferPool::with(
            &self.sizes,
            self.max_idle_per_class,
            self.max_idle_bytes,
        ))
    }
}

// ANCHOR: validate
/// Checks a table of class sizes, from the first size on: `NoSizes`, then for
/// each size `ZeroSize`, `SizeTooLarge`, and against the size before it
/// `Duplicate` or `Unsorted`. The first problem found is returned.
fn validate(sizes: &[usize]) -> Result<(), ConfigError> {
    if sizes.is_empty() {
        return Err(ConfigError::NoSizes);
    }
    for (index, &size) in sizes.iter().enumerate() {
        if size == 0 {
            return Err(ConfigError::ZeroSize { index });
        }
        if size > LARGEST_BUFFER {
            return Err(ConfigError::SizeTooLarge { index, size });
        }
        if index > 0 {
            match size.cmp(&sizes[index - 1]) {
                std::cmp::Ordering::Equal => return Err(ConfigError::Duplicate { index, size }),
                std::cmp::Ordering::Less => return Err(ConfigError::Unsorted { index, size }),
                std::cmp::Ordering::Greater => {}
            }
        }
    }
    Ok(())
}

/// The octave table of a valid table of sizes: entry `b` is the index of the
/// first class of at least `2^b` bytes, or the number of classes if none is.
fn octaves(sizes: &[usize]) -> [usize; OCTAVES] {
    let mut octaves = [sizes.len(); OCTAVES];
    let mut class = 0;
    for (power, entry) in octaves.iter_mut().enumerate() {
        while class < sizes.len() && sizes[class] < 1 << power {
            class += 1;
        }
        *entry = class;
    }
    octaves
}
// ANCHOR_END: validate

// ANCHOR: allocate
/// A new empty buffer of exactly `size` bytes of capacity, or `None` when no
/// such buffer can exist or the allocator refuses. Never aborts.
fn try_allocate(size: usize) -> Option<Vec<u8>> {
    let mut buffer = Vec::new();
    buffer.try_reserve_exact(size).ok()?;
    Some(buffer)
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
    ///
    /// ```
    /// let pool = buffer_pool::BufferPool::new();
    /// let mut buf = pool.get(16);
    /// buf.extend_from_slice(b"mine");
    /// let v: Vec<u8> = buf.into_vec();
    /// assert_eq!(v, b"mine");
    /// assert_eq!((pool.stats().returned, pool.stats().idle_buffers), (0, 0));
    /// ```
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

    /// ```
    /// let pool = buffer_pool::BufferPool::new();
    /// assert_eq!(pool.get(10).len(), 0);
    /// ```
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
    /// ```
    /// let pool = buffer_pool::BufferPool::new();
    /// pool.get(10).push(1);
    /// ```
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
        let private = self.private(class);
        // SAFETY: this thread owns the shard (see `Home`), and the `&mut`
        // ends before return.
        let cache = unsafe { &mut *private.cache.get() };
        if cache.has_slot
            && buffer.capacity() == private.size
            && private.state.load(Ordering::Acquire) == EMPTY
        {
            // SAFETY: EMPTY: only the owner, this thread, touches the slot;
            // the acquire load saw the last guard's release store.
            unsafe { *private.slot.get() = buffer };
            private.state.store(FULL, Ordering::Release);
            return Ok(());
        }
        let bytes = private.idle_bytes.load(Ordering::Relaxed) + buffer.capacity();
        if bytes > cache.room_bytes {
            return Err(buffer);
        }
        cache.buffers.push(buffer); // within the capacity `grant` reserved
        private.idle.store(cache.buffers.len(), Ordering::Relaxed);
        private.idle_bytes.store(bytes, Ordering::Relaxed);
        Ok(())
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
        match *self {
            Self::NoSizes => write!(
                f,
                "the table of sizes is empty, so the pool would have no class to keep a buffer in"
            ),
            Self::ZeroSize { index } => write!(
                f,
                "size {index} of the table is 0; a class of empty buffers serves nothing"
            ),
            Self::SizeTooLarge { index, size } => write!(
                f,
                "size {index} of the table is {size}, above isize::MAX, more than any Vec<u8> \
                 can hold"
            ),
            Self::Duplicate { index, size } => write!(
                f,
                "size {index} of the table is {size}, the same as the size before it; each \
                 class must be larger than the last"
            ),
            Self::Unsorted { index, size } => write!(
                f,
                "size {index} of the table is {size}, smaller than the size before it; the \
                 sizes must go up"
            ),
            Self::ZeroMaxIdlePerClass => write!(
                f,
                "max_idle_per_class is 0, so no class could keep a buffer; it must be at least 1"
            ),
            Self::ZeroMaxIdleBytes => write!(
                f,
                "max_idle_bytes is 0, so no buffer could be kept; it must be at least 1"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}
