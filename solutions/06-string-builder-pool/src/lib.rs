//! # Chapter 06: a pool of reusable `String`s
//!
//! [`StringBuilderPool`] hands out empty `String`s with room to write in, and
//! takes them back when you are done, so code that builds text over and over
//! (JSON, log lines, HTTP headers) stops allocating a new buffer for every
//! piece. It is Go's `sync.Pool` of `strings.Builder`s with the two rules that
//! make such a pool safe to leave running: every string it hands out has at
//! least `initial_capacity` bytes of room, and a string that grew past
//! `max_retained_capacity` is not kept, so one huge document cannot pin its
//! memory forever.
//!
//! ```
//! use std::fmt::Write;
//! use string_builder_pool::StringBuilderPool;
//!
//! let pool = StringBuilderPool::new(1024)?;
//! {
//!     let mut json = pool.get(); // a miss: a new string with 1024 bytes of room
//!     write!(json, r#"{{"id":{},"name":"{}"}}"#, 7, "Ada")?;
//!     assert_eq!(*json, r#"{"id":7,"name":"Ada"}"#);
//! } // back in the pool, emptied
//! let again = pool.get(); // a hit: the same string, empty, its room intact
//! assert!(again.is_empty() && again.capacity() >= 1024);
//! drop(again);
//! let stats = pool.stats();
//! assert_eq!((stats.gets, stats.hits, stats.misses, stats.returned), (2, 1, 1, 2));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The pool is [`Send`] and [`Sync`], so threads share it by reference:
//!
//! ```
//! let pool = string_builder_pool::StringBuilderPool::new(64)?;
//! std::thread::scope(|s| {
//!     for _ in 0..2 {
//!         s.spawn(|| pool.get().push_str("mine"));
//!     }
//! });
//! assert_eq!(pool.stats().returned, 2);
//! # Ok::<(), string_builder_pool::ConfigError>(())
//! ```
//!
//! A pooled string borrows its pool, so it cannot outlive it:
//!
//! ```compile_fail
//! let string = {
//!     let pool = string_builder_pool::StringBuilderPool::new(64).unwrap();
//!     pool.get()
//! };
//! ```

// Design notes (for the lesson; the exercise is generated from the first `use` on).
//
// THE PROBLEM. The work a pool saves is one `malloc` and one `free`: on this
// machine about 13 ns for 1 KiB. An atomic read-modify-write (a CAS, a
// `fetch_add`, locking a `Mutex`) costs about 10 ns here, and chapter 04's
// pool, which pays one CAS per get, measured about 11 ns per get + drop. A
// string pool whose get and return each take a lock would cost more than the
// allocation it saves. So the hit path here takes no lock and makes no atomic
// read-modify-write: it touches only memory that its own thread uses.
//
// PRIVATE AND SHARED, as Go's `sync.Pool` (per processor, `private` and
// `shared`). Each thread has a PRIVATE cache of up to `THREAD_SHARE` (16)
// strings in its shard, in an `UnsafeCell` that only the shard's own thread
// ever touches, so a get is a pop and a return a push, with plain loads and
// stores. The rest go to one SHARED list, a `Mutex<Vec<String>>` that every
// thread may take from: a thread whose private cache is full hands back
// there, and a thread whose private cache is empty gets from there before it
// allocates. Unlike chapter 04, a thread cannot take another thread's private
// strings (the price of a hit path without a CAS; Go's `private` slot is just
// as private): a string handed back on thread A is a hit for thread B only
// once A's private cache is full.
//
// THE PRIVATE CACHE keeps each string as its raw parts (buffer, length,
// capacity) in three arrays, not as a `Vec<String>`. Measured on this
// machine: with a `Vec<String>`, get + drop took 12 ns, as much as the
// allocation it saves. A string handed back arrives in registers and is
// stored as three 8-byte words; the next get copies it out of the `Vec` with
// one 16-byte load, which the CPU cannot forward from two separate stores
// still on their way to the cache, so it waits for them (a store-forwarding
// stall). Separate arrays make every load the size of its store. This is the
// given `Local`'s business; the rest of the pool passes `String`s.
//
// THREAD SLOTS AND THE SHARD DIRECTORY come from chapter 04: a thread's slot
// number (the smallest no live thread holds) finds its shard with one
// acquire load. The shards of the first 16 slots are one block of fixed
// size, found with no arithmetic (the buckets of 1, 2, 4, ... shards of
// chapter 04 cost another nanosecond per get + drop); later slots use the
// buckets. The shards live in the pool, so a dropped pool frees every cached
// string, and a thread that exits leaves its private strings to the next
// thread that takes its slot number (counted in `idle` meanwhile). `Local`, a
// handle to this thread's shard that cannot leave the thread, is what makes
// the private cache safe to touch.
//
// MAX_IDLE is split into places: the shared list may hold `room` strings, and
// a thread's private cache takes its places from that room the first time the
// thread hands a string back (under the shared lock, once per thread): 16, or
// half of the free places when fewer than 32 are free, so the shared list
// always keeps some. Places are never given back; a shard keeps them for the
// next thread with its slot number. So the private caches and the shared list
// together never hold more than `max_idle`, with no shared counter on the hot
// path. With the default max_idle (256) fifteen threads get 16 places each.
//
// CAPACITY RULES, on every string handed back, before it is kept:
// - capacity > max_retained_capacity: dropped (`discarded_oversized`). One
//   10 MiB report must not keep 10 MiB idle for the rest of the program.
// - otherwise it is cleared (len 0; the bytes stay in its capacity, which
//   safe code cannot read) and, if a caller shrank it below
//   initial_capacity, grown back to it.
// So every idle string is empty with initial_capacity <= capacity <=
// max_retained_capacity, and a hit needs no check at all.
//
// COUNTERS live in each shard and are written only by its thread with a
// plain load and store; `stats()` sums them. `idle` is not counted: every
// string kept was returned and not discarded, and every hit takes one, so
// idle = returned - discarded_oversized - discarded_full - hits. Exact once
// other threads are done; a moment old while they run.
//
// PANICS. The pool runs no user code of its own. A get whose allocation
// fails panics (never aborts) and counts nothing; a panic while a caller
// holds a string (in a `Display` it writes, say) drops the guard, which hands
// the string back as usual.

use std::cell::UnsafeCell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::marker::PhantomData;
use std::mem;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

/// `max_retained_capacity` of [`StringBuilderPool::new`], unless
/// `initial_capacity` is larger: Go's `fmt` package drops its buffers above
/// the same 64 KiB.
///
/// ```
/// use string_builder_pool::{DEFAULT_MAX_RETAINED_CAPACITY, StringBuilderPool};
///
/// let pool = StringBuilderPool::new(64)?;
/// pool.get().push_str(&"x".repeat(DEFAULT_MAX_RETAINED_CAPACITY + 1));
/// assert_eq!(pool.stats().discarded_oversized, 1);
/// # Ok::<(), string_builder_pool::ConfigError>(())
/// ```
pub const DEFAULT_MAX_RETAINED_CAPACITY: usize = 64 * 1024;

/// `max_idle` of [`StringBuilderPool::new`].
///
/// ```
/// use string_builder_pool::{DEFAULT_MAX_IDLE, StringBuilderPool};
///
/// let pool = StringBuilderPool::new(8)?;
/// drop((0..DEFAULT_MAX_IDLE + 1).map(|_| pool.get()).collect::<Vec<_>>());
/// assert_eq!((pool.stats().idle, pool.stats().discarded_full), (DEFAULT_MAX_IDLE, 1));
/// # Ok::<(), string_builder_pool::ConfigError>(())
/// ```
pub const DEFAULT_MAX_IDLE: usize = 256;

/// The most strings a thread keeps for itself, in a cache no other thread
/// touches; the rest of the strings it hands back go to a list every thread
/// takes from.
///
/// ```
/// use string_builder_pool::{StringBuilderPool, THREAD_SHARE};
///
/// let pool = StringBuilderPool::new(8)?;
/// std::thread::scope(|s| {
///     s.spawn(|| drop((0..THREAD_SHARE + 1).map(|_| pool.get()).collect::<Vec<_>>()));
/// });
/// drop(pool.get()); // the one string the other thread could not keep for itself
/// assert_eq!(pool.stats().hits, 1);
/// # Ok::<(), string_builder_pool::ConfigError>(())
/// ```
pub const THREAD_SHARE: usize = 16;

/// Thread slots whose shards are in the directory's first block.
const FIRST_SLOTS: usize = 16;

/// Buckets in the shard directory after the first block: bucket `b` holds
/// `2^b` shards, so this many cover every slot number a `usize` can hold.
const BUCKETS: usize = usize::BITS as usize;

// ANCHOR: pool
/// A thread-safe pool of empty `String`s with room to write in.
///
/// ```text
///  thread slot:     0                1                2 (exited)
///               +----------------+----------------+----------------+
///  private (16) | ["" ""  ""]    | []             | [""]           |  only its own thread
///               +----------------+----------------+----------------+
///  shared       | ["" "" "" "" ""]   behind a Mutex, any thread       |
///               +---------------------------------------------------+
///  get on 1: its private cache, else the shared list, else a new String
/// ```
///
/// Strings come as [`PooledString`] guards that go back to the pool when
/// dropped. Each thread keeps up to [`THREAD_SHARE`] of them for itself (a
/// get and a return there take no lock); the rest wait in a list that every
/// thread takes from. At most `max_idle` strings wait, all threads together.
///
/// ```
/// use std::fmt::Write;
///
/// let pool = string_builder_pool::StringBuilderPool::new(256)?;
/// let mut line = pool.get();
/// write!(line, "{} {} HTTP/1.1", "GET", "/index.html")?;
/// assert_eq!(line.as_str(), "GET /index.html HTTP/1.1");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct StringBuilderPool {
    /// Every string handed out has at least this capacity.
    initial_capacity: usize,
    /// Strings handed back with more capacity than this are dropped.
    max_retained_capacity: usize,
    /// Most idle strings kept, all threads together.
    max_idle: usize,
    /// The strings any thread may take, and the places left for them.
    shared: Mutex<Shared>,
    /// The shards of thread slots `0..FIRST_SLOTS`, made on first use.
    first: OnceLock<Box<[Shard; FIRST_SLOTS]>>,
    /// The shard of a later slot `FIRST_SLOTS + s` is in bucket
    /// `b = log2(s + 1)`, at `s + 1 - 2^b`; bucket `b` holds `2^b` shards,
    /// made on first use.
    buckets: [OnceLock<Box<[Shard]>>; BUCKETS],
    /// What threads without a shard did: shared, so updated with
    /// `fetch_add`, off the hot path.
    homeless: Counters,
}

/// The shared list: strings any thread may take.
struct Shared {
    /// Idle strings, newest last.
    strings: Vec<String>,
    /// How many strings `strings` may hold: `max_idle` minus the places the
    /// private caches have taken.
    room: usize,
}
// ANCHOR_END: pool

// ANCHOR: shard
/// One thread slot's part of one pool. Aligned to two cache lines so that two
/// threads' shards never share one (adjacent-line prefetch included).
#[repr(align(128))]
struct Shard {
    /// The private cache: touched only through a [`Local`], so only by the
    /// thread that holds this shard's slot number.
    private: UnsafeCell<Private>,
    /// What this shard's thread did. Written by that thread only.
    counters: Counters,
}

/// A thread's own idle strings, newest last, each kept as its raw parts
/// (buffer, length, capacity) rather than as a `String`: see `Local::pop`.
struct Private {
    /// For `i < len`: string `i` owns `buffers[i]`, of `capacities[i]` bytes,
    /// and its first `lengths[i]` bytes are its text.
    buffers: [*mut u8; THREAD_SHARE],
    lengths: [usize; THREAD_SHARE],
    capacities: [usize; THREAD_SHARE],
    /// How many strings the cache holds.
    len: usize,
    /// How many it may hold: this thread's share of `max_idle`.
    places: usize,
    /// Whether this thread has asked for its share yet.
    has_share: bool,
}

/// Counts of what happened, one set per shard and one shared.
#[derive(Default)]
struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    returned: AtomicU64,
    discarded_oversized: AtomicU64,
    discarded_full: AtomicU64,
}
// ANCHOR_END: shard

// SAFETY: `counters` is already `Sync`; `private` is touched only through a
// `Local`, which exists only on the thread that holds the shard's slot
// number (see `Local`), so no two threads ever touch it at once. When a
// thread exits and another takes its slot number, the `SLOTS` mutex orders
// the first thread's last access before the next thread's first. The strings
// may end up on another thread (`String` is `Send`).
unsafe impl Sync for Shard {}

// SAFETY: the raw pointers in `private` are the buffers of the `String`s it
// owns, and `String` is `Send`: the shard may move to (or be dropped on)
// another thread with them.
unsafe impl Send for Shard {}

// ANCHOR: guard
/// A string from the pool: it dereferences to `String`, implements
/// [`fmt::Write`], and goes back to the pool when dropped;
/// [`PooledString::into_string`] keeps it instead.
///
/// ```
/// let pool = string_builder_pool::StringBuilderPool::new(32)?;
/// let mut greeting = pool.get();
/// greeting.push_str("hello");
/// assert_eq!(greeting.len(), 5);
/// drop(greeting); // back in the pool, emptied
/// assert_eq!(pool.stats().idle, 1);
/// # Ok::<(), string_builder_pool::ConfigError>(())
/// ```
pub struct PooledString<'a> {
    pool: &'a StringBuilderPool,
    string: String,
}
// ANCHOR_END: guard

// ANCHOR: stats
/// The pool's counters, summed over every thread.
///
/// Exact whenever no other thread is using the pool; while others run, a
/// moment old (each thread's counters read at a slightly different moment),
/// but reading them never panics. `gets == hits + misses` always holds, and `returned` reaches
/// `gets` once every string has been dropped (minus those kept with
/// [`PooledString::into_string`]).
///
/// ```
/// let pool = string_builder_pool::StringBuilderPool::with_limits(8, 64, 4)?;
/// let mut big = pool.get();
/// big.push_str(&"x".repeat(100)); // grows past max_retained_capacity
/// drop(big);
/// drop(pool.get());
/// let stats = pool.stats();
/// assert_eq!((stats.gets, stats.hits, stats.misses), (2, 0, 2));
/// assert_eq!((stats.returned, stats.discarded_oversized, stats.idle), (2, 1, 1));
/// # Ok::<(), string_builder_pool::ConfigError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StringPoolStats {
    /// Calls to [`StringBuilderPool::get`] that returned a string.
    pub gets: u64,
    /// Gets served with a pooled string.
    pub hits: u64,
    /// Gets that allocated a new string.
    pub misses: u64,
    /// Strings handed back: [`PooledString`]s dropped.
    pub returned: u64,
    /// Strings handed back with a capacity above `max_retained_capacity`,
    /// and dropped.
    pub discarded_oversized: u64,
    /// Strings handed back while `max_idle` strings were already waiting (or
    /// every place left was another thread's), and dropped.
    pub discarded_full: u64,
    /// Strings waiting in the pool now, in every thread's cache.
    pub idle: usize,
}
// ANCHOR_END: stats

// ANCHOR: errors
/// Why [`StringBuilderPool::new`] or [`StringBuilderPool::with_limits`]
/// refused to build a pool. When several limits are wrong, the first in this
/// order is reported.
///
/// ```
/// use string_builder_pool::{ConfigError, StringBuilderPool};
///
/// let err = StringBuilderPool::with_limits(1024, 512, 8).unwrap_err();
/// assert_eq!(
///     err,
///     ConfigError::RetainedBelowInitial { initial_capacity: 1024, max_retained_capacity: 512 }
/// );
/// assert!(err.to_string().contains("512"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigError {
    /// `initial_capacity` is above `isize::MAX`, more than any allocation can
    /// have: every get would fail.
    InitialCapacityTooLarge {
        /// The capacity asked for.
        initial_capacity: usize,
    },
    /// `max_retained_capacity` is below `initial_capacity`: every string
    /// handed out would be too big to keep.
    RetainedBelowInitial {
        /// The capacity every string starts with.
        initial_capacity: usize,
        /// The largest capacity the pool would keep.
        max_retained_capacity: usize,
    },
    /// `max_idle` is 0: a pool that may keep no string could never serve a hit.
    ZeroMaxIdle,
}
// ANCHOR_END: errors

impl StringPoolStats {
    /// The share of gets served from the pool: `hits / gets`, from 0.0 to
    /// 1.0; 0.0 before the first get.
    ///
    /// ```
    /// let pool = string_builder_pool::StringBuilderPool::new(16)?;
    /// assert_eq!(pool.stats().hit_rate(), 0.0);
    /// drop(pool.get()); // a miss
    /// drop(pool.get()); // a hit
    /// assert_eq!(pool.stats().hit_rate(), 0.5);
    /// # Ok::<(), string_builder_pool::ConfigError>(())
    /// ```
    pub fn hit_rate(&self) -> f64 {
        if self.gets == 0 {
            0.0
        } else {
            self.hits as f64 / self.gets as f64
        }
    }
}

impl StringBuilderPool {
    // ANCHOR: new
    /// A pool whose strings start with `initial_capacity` bytes of room, with
    /// the default limits: strings above 64 KiB
    /// ([`DEFAULT_MAX_RETAINED_CAPACITY`], or `initial_capacity` if larger)
    /// are not kept, and at most 256 ([`DEFAULT_MAX_IDLE`]) wait idle.
    /// Nothing is allocated before the first get.
    ///
    /// # Errors
    /// [`ConfigError::InitialCapacityTooLarge`] above `isize::MAX`.
    ///
    /// ```
    /// let pool = string_builder_pool::StringBuilderPool::new(1024)?;
    /// assert!(pool.get().capacity() >= 1024);
    /// # Ok::<(), string_builder_pool::ConfigError>(())
    /// ```
    pub fn new(initial_capacity: usize) -> Result<Self, ConfigError> {
        Self::with_limits(
            initial_capacity,
            initial_capacity.max(DEFAULT_MAX_RETAINED_CAPACITY),
            DEFAULT_MAX_IDLE,
        )
    }

    /// A pool with every limit given: strings start with `initial_capacity`
    /// bytes of room, those handed back with more than
    /// `max_retained_capacity` are dropped, and at most `max_idle` wait idle,
    /// all threads together.
    ///
    /// # Errors
    /// In this order: [`ConfigError::InitialCapacityTooLarge`] when
    /// `initial_capacity > isize::MAX`, [`ConfigError::RetainedBelowInitial`]
    /// when `max_retained_capacity < initial_capacity`,
    /// [`ConfigError::ZeroMaxIdle`] when `max_idle == 0`.
    ///
    /// ```
    /// use string_builder_pool::{ConfigError, StringBuilderPool};
    ///
    /// let pool = StringBuilderPool::with_limits(128, 4096, 32)?;
    /// assert!(pool.get().capacity() >= 128);
    /// assert_eq!(StringBuilderPool::with_limits(128, 4096, 0).err(), Some(ConfigError::ZeroMaxIdle));
    /// # Ok::<(), ConfigError>(())
    /// ```
    pub fn with_limits(
        initial_capacity: usize,
        max_retained_capacity: usize,
        max_idle: usize,
    ) -> Result<Self, ConfigError> {
        if initial_capacity > isize::MAX as usize {
            return Err(ConfigError::InitialCapacityTooLarge { initial_capacity });
        }
        if max_retained_capacity < initial_capacity {
            return Err(ConfigError::RetainedBelowInitial {
                initial_capacity,
                max_retained_capacity,
            });
        }
        if max_idle == 0 {
            return Err(ConfigError::ZeroMaxIdle);
        }
        Ok(Self {
            initial_capacity,
            max_retained_capacity,
            max_idle,
            shared: Mutex::new(Shared {
                strings: Vec::new(),
                room: max_idle,
            }),
            first: OnceLock::new(),
            buckets: [const { OnceLock::new() }; BUCKETS],
            homeless: Counters::default(),
        })
    }
    // ANCHOR_END: new

    // ANCHOR: get
    /// An empty string with capacity `>= initial_capacity`: one this thread
    /// handed back, else one from the shared list, else a new one. A pooled
    /// string (a hit) also has capacity `<= max_retained_capacity`. It goes
    /// back to the pool when dropped.
    ///
    /// # Panics
    /// When a new string of `initial_capacity` bytes cannot be allocated (a
    /// pool built with an absurd capacity): a panic the caller can catch,
    /// never an abort, whose message names `initial_capacity` and its value.
    /// The pool stays usable and counts nothing for this call.
    ///
    /// ```
    /// let pool = string_builder_pool::StringBuilderPool::new(64)?;
    /// let first = pool.get();
    /// let address = first.as_ptr();
    /// drop(first);
    /// assert_eq!(pool.get().as_ptr(), address, "the same string, reused");
    /// # Ok::<(), string_builder_pool::ConfigError>(())
    /// ```
    #[inline]
    pub fn get(&self) -> PooledString<'_> {
        let home = self.local();
        if let Some(home) = &home {
            if let Some(string) = home.pop() {
                bump(&home.counters().hits);
                return PooledString { pool: self, string };
            }
        }
        self.get_slow(home.as_ref())
    }

    /// A get that this thread's private cache could not serve: the shared
    /// list, else a new string.
    #[cold]
    fn get_slow(&self, home: Option<&Local<'_>>) -> PooledString<'_> {
        let pooled = lock(&self.shared).strings.pop();
        let string = match pooled {
            Some(string) => {
                self.count(home, |c| &c.hits);
                string
            }
            None => {
                let string = self.fresh();
                self.count(home, |c| &c.misses);
                string
            }
        };
        PooledString { pool: self, string }
    }

    /// A new, empty string with room for `initial_capacity` bytes.
    fn fresh(&self) -> String {
        let mut string = String::new();
        if let Err(error) = string.try_reserve_exact(self.initial_capacity) {
            panic!(
                "StringBuilderPool::get could not allocate a string of {} bytes (the pool's \
                 initial_capacity): {error}",
                self.initial_capacity
            );
        }
        string
    }
    // ANCHOR_END: get

    // ANCHOR: give_back
    /// Takes back a string whose guard was dropped: counts it, applies the
    /// capacity rules, then keeps it (this thread's private cache first, then
    /// the shared list) or drops it.
    #[inline]
    fn give_back(&self, string: String) {
        let home = self.local();
        let home = home.as_ref();
        self.count(home, |c| &c.returned);
        let Some(string) = self.reset(string) else {
            self.count(home, |c| &c.discarded_oversized);
            return;
        };
        let refused = match home {
            Some(home) => match home.push(string) {
                Ok(()) => return,
                Err(refused) => refused,
            },
            None => string,
        };
        self.keep_elsewhere(home, refused);
    }

    /// Keeps a string that this thread's private cache refused: in that cache
    /// after all if the thread has not had its share of `max_idle` yet, else
    /// in the shared list if it has room, else nowhere (it is dropped).
    #[cold]
    fn keep_elsewhere(&self, home: Option<&Local<'_>>, string: String) {
        let string = match home {
            Some(home) if !home.has_share() => {
                home.grant(self.take_share());
                match home.push(string) {
                    Ok(()) => return,
                    Err(refused) => refused,
                }
            }
            _ => string,
        };
        let refused = lock(&self.shared).push(string);
        if let Err(string) = refused {
            self.count(home, |c| &c.discarded_full);
            drop(string); // outside the lock
        }
    }

    /// A string handed back, made ready for the next get: `None` if its
    /// capacity is above `max_retained_capacity` (it is dropped); otherwise
    /// empty, with `initial_capacity <= capacity <= max_retained_capacity`.
    #[inline]
    fn reset(&self, mut string: String) -> Option<String> {
        if string.capacity() > self.max_retained_capacity {
            return None;
        }
        string.clear();
        string.reserve_exact(self.initial_capacity); // nothing to do unless it was shrunk
        Some(string)
    }
    // ANCHOR_END: give_back

    // ANCHOR: share
    /// This thread's share of `max_idle`, taken from the shared list's free
    /// places: `THREAD_SHARE`, or half of the free places if that is less.
    #[cold]
    fn take_share(&self) -> usize {
        let mut shared = lock(&self.shared);
        let free = shared.room - shared.strings.len();
        let share = THREAD_SHARE.min(free / 2);
        shared.room -= share;
        share
    }
    // ANCHOR_END: share

    // ANCHOR: stats_fn
    /// The counters, summed over every thread (see [`StringPoolStats`]).
    ///
    /// ```
    /// let pool = string_builder_pool::StringBuilderPool::new(16)?;
    /// let kept = pool.get().into_string();
    /// drop(pool.get());
    /// let stats = pool.stats();
    /// assert_eq!((stats.gets, stats.misses, stats.returned, stats.idle), (2, 2, 1, 1));
    /// # Ok::<(), string_builder_pool::ConfigError>(())
    /// ```
    pub fn stats(&self) -> StringPoolStats {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let mut sum = [0_u64; 5];
        for counters in self.shards().map(|shard| &shard.counters) {
            let all = [
                &counters.hits,
                &counters.misses,
                &counters.returned,
                &counters.discarded_oversized,
                &counters.discarded_full,
            ];
            for (total, counter) in sum.iter_mut().zip(all) {
                *total += load(counter);
            }
        }
        let own = &self.homeless;
        let [hits, misses, returned, discarded_oversized, discarded_full] = sum;
        let (hits, misses, returned) = (
            hits + load(&own.hits),
            misses + load(&own.misses),
            returned + load(&own.returned),
        );
        let discarded_oversized = discarded_oversized + load(&own.discarded_oversized);
        let discarded_full = discarded_full + load(&own.discarded_full);
        let kept = returned.saturating_sub(discarded_oversized + discarded_full);
        StringPoolStats {
            gets: hits + misses,
            hits,
            misses,
            returned,
            discarded_oversized,
            discarded_full,
            idle: kept.saturating_sub(hits) as usize,
        }
    }
    // ANCHOR_END: stats_fn

    /// Adds one to a counter of `home`, or to the shared one without a home.
    #[inline]
    fn count(&self, home: Option<&Local<'_>>, which: impl Fn(&Counters) -> &AtomicU64) {
        match home {
            Some(home) => bump(which(home.counters())),
            None => {
                which(&self.homeless).fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    // ANCHOR: directory
    /// This thread's shard, or `None` while the thread's thread-locals are
    /// being destroyed.
    #[inline]
    fn local(&self) -> Option<Local<'_>> {
        current_slot().map(|slot| Local {
            shard: self.shard(slot),
            _not_send: PhantomData,
        })
    }

    /// The shard of thread slot `slot`, its block made on first use. The
    /// first block has a fixed size, so its shards are found with no
    /// arithmetic and no bounds check; later slots go to the buckets.
    #[inline]
    fn shard(&self, slot: usize) -> &Shard {
        let Some(later) = slot.checked_sub(FIRST_SLOTS) else {
            return &self.first.get_or_init(first_block)[slot];
        };
        let (bucket, index) = locate(later);
        let shards =
            self.buckets[bucket].get_or_init(|| (0..1 << bucket).map(|_| Shard::new()).collect());
        &shards[index]
    }

    /// Every shard made so far, in slot order.
    fn shards(&self) -> impl Iterator<Item = &Shard> {
        let first = self.first.get().into_iter().flat_map(|block| block.iter());
        let buckets = self.buckets.iter().filter_map(OnceLock::get);
        first.chain(buckets.flat_map(|bucket| bucket.iter()))
    }
    // ANCHOR_END: directory
}

// ANCHOR: guard_impls
impl PooledString<'_> {
    /// Keeps the string: it never goes back to the pool (and is not counted
    /// in `returned`).
    ///
    /// ```
    /// use std::fmt::Write;
    ///
    /// let pool = string_builder_pool::StringBuilderPool::new(64)?;
    /// let mut report = pool.get();
    /// write!(report, "{} rows", 3)?;
    /// let report: String = report.into_string();
    /// assert_eq!(report, "3 rows");
    /// assert_eq!((pool.stats().returned, pool.stats().idle), (0, 0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_string(mut self) -> String {
        let string = mem::take(&mut self.string);
        mem::forget(self); // holds nothing to free now: a borrow and an empty String
        string
    }
}

impl Deref for PooledString<'_> {
    type Target = String;

    /// ```
    /// let pool = string_builder_pool::StringBuilderPool::new(8)?;
    /// assert!(pool.get().is_empty());
    /// # Ok::<(), string_builder_pool::ConfigError>(())
    /// ```
    #[inline]
    fn deref(&self) -> &String {
        &self.string
    }
}

impl DerefMut for PooledString<'_> {
    /// ```
    /// let pool = string_builder_pool::StringBuilderPool::new(8)?;
    /// pool.get().push('x');
    /// # Ok::<(), string_builder_pool::ConfigError>(())
    /// ```
    #[inline]
    fn deref_mut(&mut self) -> &mut String {
        &mut self.string
    }
}

impl fmt::Write for PooledString<'_> {
    /// Appends `s`, so `write!` and `writeln!` work on a pooled string.
    ///
    /// ```
    /// use std::fmt::Write;
    ///
    /// let pool = string_builder_pool::StringBuilderPool::new(32)?;
    /// let mut s = pool.get();
    /// writeln!(s, "{}-{}", 1, 2)?;
    /// assert_eq!(s.as_str(), "1-2\n");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.string.push_str(s);
        Ok(())
    }
}

impl Drop for PooledString<'_> {
    #[inline]
    fn drop(&mut self) {
        let string = mem::take(&mut self.string);
        self.pool.give_back(string);
    }
}
// ANCHOR_END: guard_impls

// ANCHOR: local
/// This thread's shard, in a handle that cannot leave the thread: it is
/// neither `Send` nor `Sync`, and only [`StringBuilderPool::local`] makes
/// one, from the slot number of the thread it runs on. That is what makes the
/// private cache safe to touch without a lock.
struct Local<'a> {
    shard: &'a Shard,
    /// A raw pointer is neither `Send` nor `Sync`, so neither is `Local`.
    _not_send: PhantomData<*const ()>,
}

impl Local<'_> {
    /// This thread's counters.
    #[inline]
    fn counters(&self) -> &Counters {
        &self.shard.counters
    }

    /// The newest string of the private cache.
    ///
    /// The strings are kept as raw parts in three arrays, not in a
    /// `Vec<String>`, for speed: a `String` pushed from registers is stored as
    /// three 8-byte words, and popping it from a `Vec` soon after loads two of
    /// them as one 16-byte word, which the CPU cannot forward from the two
    /// stores still in flight, so it stalls until they reach the cache (about
    /// 10 ns per get + drop, measured: as much as the allocation we save).
    /// Separate arrays make every load the size of its store.
    #[inline]
    fn pop(&self) -> Option<String> {
        // SAFETY: see `private`; nothing here allocates or frees.
        let private = unsafe { self.private() };
        let last = private.len.checked_sub(1)?;
        private.len = last;
        let (buffer, length, capacity) = (
            private.buffers[last],
            private.lengths[last],
            private.capacities[last],
        );
        // SAFETY: `push` took these parts apart from a `String` it then
        // forgot, and `len` now excludes them, so they are rebuilt once.
        Some(unsafe { String::from_raw_parts(buffer, length, capacity) })
    }

    /// Keeps `string` in the private cache if it has a free place; returns
    /// it otherwise. Never allocates.
    #[inline]
    fn push(&self, string: String) -> Result<(), String> {
        // SAFETY: see `private`; nothing here allocates or frees.
        let private = unsafe { self.private() };
        let next = private.len;
        if next >= private.places {
            return Err(string);
        }
        // The pointer must come from the `Vec`, whose `as_mut_ptr` makes no
        // reference on the way. `String` has no `as_mut_ptr` of its own:
        // `string.as_mut_ptr()` is `str::as_mut_ptr` through a `&mut str` as
        // long as the text, so for an empty string it may reach no byte of
        // the buffer, not even to free it (Miri reports that free as UB).
        let mut bytes = mem::ManuallyDrop::new(string.into_bytes());
        private.buffers[next] = bytes.as_mut_ptr();
        private.lengths[next] = bytes.len();
        private.capacities[next] = bytes.capacity();
        private.len = next + 1;
        Ok(())
    }

    /// Whether this thread has had its share of `max_idle` yet.
    #[inline]
    fn has_share(&self) -> bool {
        // SAFETY: see `private`.
        unsafe { self.private() }.has_share
    }

    /// Gives the private cache its share: room for `places` strings (at most
    /// `THREAD_SHARE`).
    #[cold]
    fn grant(&self, places: usize) {
        // SAFETY: see `private`.
        let private = unsafe { self.private() };
        private.places = places.min(THREAD_SHARE);
        private.has_share = true;
    }

    /// The private cache, mutably.
    ///
    /// # Safety
    /// The caller must not call `private` again (through any `Local` of this
    /// shard) while the returned reference lives, nor run code that could:
    /// no user code, and no allocation, since a global allocator is user code
    /// too. Every caller above uses the reference for a few loads and stores
    /// that neither allocate nor free.
    #[inline]
    #[allow(clippy::mut_from_ref)]
    unsafe fn private(&self) -> &mut Private {
        // SAFETY: a `Local` exists only on the thread holding this shard's
        // slot number, so no other thread touches the cache now; on this
        // thread, the caller keeps one reference at a time (see # Safety).
        unsafe { &mut *self.shard.private.get() }
    }
}
// ANCHOR_END: local

/// The directory's first block of shards, made on the heap.
fn first_block() -> Box<[Shard; FIRST_SLOTS]> {
    let block: Box<[Shard]> = (0..FIRST_SLOTS).map(|_| Shard::new()).collect();
    match block.try_into() {
        Ok(block) => block,
        Err(_) => unreachable!("the block was made with FIRST_SLOTS shards"),
    }
}

impl Shard {
    fn new() -> Self {
        Self {
            private: UnsafeCell::new(Private {
                buffers: [std::ptr::null_mut(); THREAD_SHARE],
                lengths: [0; THREAD_SHARE],
                capacities: [0; THREAD_SHARE],
                len: 0,
                places: 0,
                has_share: false,
            }),
            counters: Counters::default(),
        }
    }
}

impl Drop for Private {
    fn drop(&mut self) {
        for i in 0..self.len {
            // SAFETY: as in `Local::pop`: parts of a forgotten `String`, each
            // rebuilt once (the cache is being dropped).
            drop(unsafe {
                String::from_raw_parts(self.buffers[i], self.lengths[i], self.capacities[i])
            });
        }
    }
}

impl Shared {
    /// Keeps `string` if the shared list has room; returns it if not.
    fn push(&mut self, string: String) -> Result<(), String> {
        if self.strings.len() < self.room {
            self.strings.push(string);
            Ok(())
        } else {
            Err(string)
        }
    }
}

// ANCHOR: thread_slot
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
/// when the thread exits, so that numbers (and shards) stay few and dense.
struct ThreadSlot(usize);

impl ThreadSlot {
    fn acquire() -> Self {
        let mut slots = SLOTS.lock().unwrap_or_else(PoisonError::into_inner);
        match slots.free.pop() {
            Some(Reverse(slot)) => Self(slot),
            None => {
                let slot = slots.next;
                slots.next += 1;
                Self(slot)
            }
        }
    }
}

impl Drop for ThreadSlot {
    fn drop(&mut self) {
        let mut slots = SLOTS.lock().unwrap_or_else(PoisonError::into_inner);
        slots.free.push(Reverse(self.0));
    }
}

thread_local! {
    static SLOT: ThreadSlot = ThreadSlot::acquire();
}

/// This thread's slot number; `None` once its thread-locals are being destroyed.
#[inline]
fn current_slot() -> Option<usize> {
    SLOT.try_with(|slot| slot.0).ok()
}

/// The bucket and index of `slot`'s shard: bucket `b` holds slots
/// `2^b - 1 ..= 2^(b+1) - 2`.
#[inline]
fn locate(slot: usize) -> (usize, usize) {
    let n = slot + 1;
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

/// Locks the shared list. No user code runs under the lock, so poisoning
/// cannot leave it half changed: it is ignored.
fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

impl fmt::Debug for StringBuilderPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StringBuilderPool")
            .field("initial_capacity", &self.initial_capacity)
            .field("max_retained_capacity", &self.max_retained_capacity)
            .field("max_idle", &self.max_idle)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for PooledString<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PooledString").field(&self.string).finish()
    }
}

impl fmt::Display for PooledString<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.string)
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InitialCapacityTooLarge { initial_capacity } => write!(
                f,
                "initial_capacity {initial_capacity} is above isize::MAX, more than any string \
                 can have"
            ),
            Self::RetainedBelowInitial {
                initial_capacity,
                max_retained_capacity,
            } => write!(
                f,
                "max_retained_capacity {max_retained_capacity} is below initial_capacity \
                 {initial_capacity}, so every string would be too big to keep"
            ),
            Self::ZeroMaxIdle => write!(
                f,
                "max_idle is 0, so the pool could keep no string and every get would allocate; \
                 it must be at least 1"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}
