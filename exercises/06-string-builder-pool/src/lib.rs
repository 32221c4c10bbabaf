//! # Chapter 06: a pool of reusable `String`s
//!
//! Read `book/src/06-string-builder-pool.md` first, then fill in every
//! `todo!()` below. Check your work with
//!
//! ```text
//! cargo run -- check 06     # or: cargo test -p exercise-06-string-builder-pool
//! ```
//!
//! This chapter is about what a pool does with the strings it takes back:
//! which ones it keeps, how it makes them ready for the next user, and how
//! much it may keep in all. The thread machinery is given, and it is chapter
//! 04's: the thread slots and the directory that finds a thread's shard
//! (`local`, `shard`, `shards`), plus `Local`, this thread's shard in a
//! handle that cannot leave the thread, whose `pop`, `push`, `has_share` and
//! `grant` reach the thread's private cache without a lock (they hold the
//! only `unsafe` code of the crate; read why in their comments). Also given:
//! the data layout, `count` and `bump` for the counters, `lock`, `hit_rate`,
//! `Deref`/`DerefMut` and the `Debug`/`Display` impls. Yours: every body
//! that says `todo!()`, all of it safe code.
//!
//! Where to start: `ConfigError`'s `Display`, `with_limits` and `new`. Then a
//! string's way out: `fresh`, `get_slow`, `get`. Then its way back: `reset`,
//! `give_back`, `Shared::push`, `take_share`, `keep_elsewhere`, and the
//! guard's `Drop` and `into_string`. Then `write_str` and `stats`. The
//! single-thread tests go green first.

// The bodies below are still `todo!()`, so the compiler would warn that the
// arguments, fields and helpers are unused. Delete this line when you are done.
#![allow(unused_variables, unused_mut, dead_code, unused_imports)]

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
pub const DEFAULT_MAX_RETAINED_CAPACITY: usize = 64 * 1024;

/// `max_idle` of [`StringBuilderPool::new`].
pub const DEFAULT_MAX_IDLE: usize = 256;

/// The most strings a thread keeps for itself, in a cache no other thread
/// touches; the rest of the strings it hands back go to a list every thread
/// takes from.
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
    pub fn new(initial_capacity: usize) -> Result<Self, ConfigError> {
        todo!(
            "the pool with_limits builds for initial_capacity, a max_retained_capacity of DEFAULT_MAX_RETAINED_CAPACITY (or initial_capacity when that is larger) and a max_idle of DEFAULT_MAX_IDLE; refused as with_limits refuses"
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
    pub fn with_limits(
        initial_capacity: usize,
        max_retained_capacity: usize,
        max_idle: usize,
    ) -> Result<Self, ConfigError> {
        todo!(
            "an empty pool with these limits: no shard made yet, the shared list empty with room for all of max_idle, every counter 0; the three errors are checked in the documented order, before anything is built"
        )
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
    #[inline]
    pub fn get(&self) -> PooledString<'_> {
        todo!(
            "a string from this thread's private cache, counted as a hit on this thread's shard, with no lock and no atomic read-modify-write; otherwise what get_slow hands out"
        )
    }

    /// A get that this thread's private cache could not serve: the shared
    /// list, else a new string.
    #[cold]
    fn get_slow(&self, home: Option<&Local<'_>>) -> PooledString<'_> {
        todo!(
            "a string from the shared list (a hit), else a fresh one (a miss), counted on `home` or, without one, on the shared counters; counted once the string is in hand, so a get whose allocation panics counts nothing"
        )
    }

    /// A new, empty string with room for `initial_capacity` bytes.
    fn fresh(&self) -> String {
        todo!(
            "an empty string with room for initial_capacity bytes and never more than the pool would keep (max_retained_capacity); if that much cannot be allocated, a panic whose message names initial_capacity and its value (which a caller can catch), never an abort of the process"
        )
    }
    // ANCHOR_END: get

    // ANCHOR: give_back
    /// Takes back a string whose guard was dropped: counts it, applies the
    /// capacity rules, then keeps it (this thread's private cache first, then
    /// the shared list) or drops it.
    #[inline]
    fn give_back(&self, string: String) {
        todo!(
            "`string` is counted in returned, then either kept, emptied by reset, for a later get (in this thread's private cache, with no lock, when it has a free place; else wherever keep_elsewhere finds one), or dropped and counted: in discarded_oversized when reset refuses it"
        )
    }

    /// Keeps a string that this thread's private cache refused: in that cache
    /// after all if the thread has not had its share of `max_idle` yet, else
    /// in the shared list if it has room, else nowhere (it is dropped).
    #[cold]
    fn keep_elsewhere(&self, home: Option<&Local<'_>>, string: String) {
        todo!(
            "`string`, which this thread's private cache had no place for, is kept if the pool has a place for it: in the private cache when this thread had not had its share of max_idle yet and the share it has now (taken once per thread, never again) makes room; else in the shared list, never beyond its room. Otherwise it is dropped, never while the shared list is locked, and counted in discarded_full. A thread without a slot has no share: only the shared list"
        )
    }

    /// A string handed back, made ready for the next get: `None` if its
    /// capacity is above `max_retained_capacity` (it is dropped); otherwise
    /// empty, with `initial_capacity <= capacity <= max_retained_capacity`.
    #[inline]
    fn reset(&self, mut string: String) -> Option<String> {
        todo!(
            "None when the capacity is above max_retained_capacity; otherwise the same string (its buffer reused), empty whatever text it held, with initial_capacity <= capacity <= max_retained_capacity"
        )
    }
    // ANCHOR_END: give_back

    // ANCHOR: share
    /// This thread's share of `max_idle`, taken from the shared list's free
    /// places: `THREAD_SHARE`, or half of the free places if that is less.
    #[cold]
    fn take_share(&self) -> usize {
        todo!(
            "the number of places this thread's private cache may fill, taken for good out of the shared list's room, which shrinks by exactly that many: as many as it may take, never more than THREAD_SHARE, and never more than half of the places free in the shared list right now, so that other threads still find places there"
        )
    }
    // ANCHOR_END: share

    // ANCHOR: stats_fn
    /// The counters, summed over every thread (see [`StringPoolStats`]).
    pub fn stats(&self) -> StringPoolStats {
        todo!(
            "every counter summed over the shared counters and every shard made so far; gets == hits + misses, and idle is how many strings wait in the pool (private caches and the shared list together), worked out from the counters alone since another thread's private cache cannot be read; all exact whenever no other thread is using the pool; while others are, the parts may come from slightly different moments, and stats still returns (never a panic)"
        )
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
    pub fn into_string(mut self) -> String {
        todo!(
            "the string, text and buffer, out of the pool for good: it is not handed back or counted in returned, and the guard's Drop hands nothing back"
        )
    }
}

impl Deref for PooledString<'_> {
    type Target = String;

    #[inline]
    fn deref(&self) -> &String {
        &self.string
    }
}

impl DerefMut for PooledString<'_> {
    #[inline]
    fn deref_mut(&mut self) -> &mut String {
        &mut self.string
    }
}

impl fmt::Write for PooledString<'_> {
    /// Appends `s`, so `write!` and `writeln!` work on a pooled string.
    #[inline]
    fn write_str(&mut self, s: &str) -> fmt::Result {
        todo!("`s` appended to the string; never an error")
    }
}

impl Drop for PooledString<'_> {
    #[inline]
    fn drop(&mut self) {
        todo!(
            "the guard's string goes back to its pool through give_back, whatever it holds: a string with no buffer at all (initial_capacity 0, never written) is handed back and counted like any other"
        )
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
        todo!(
            "`string` kept in the shared list when it holds fewer strings than its room; otherwise it comes back as Err, untouched"
        )
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
        todo!(
            "one sentence per variant that names the setting and every number the variant carries"
        )
    }
}

impl std::error::Error for ConfigError {}
