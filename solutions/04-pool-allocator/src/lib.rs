//! # Chapter 04: a pool of reusable objects, cached per thread
//!
//! [`PoolAllocator`] is Go's `sync.Pool` idea in Rust: a pool that makes
//! objects with a factory when it has none, takes them back when you are done,
//! and hands them out again, so a busy program stops allocating the same
//! buffers over and over. Each thread has its own cache, so threads do not
//! queue on one lock; a thread whose cache is empty takes from the others
//! before it makes a new object.
//!
//! ```
//! use pool_allocator::PoolAllocator;
//!
//! let pool = PoolAllocator::builder(|| Vec::<u8>::with_capacity(1024))
//!     .reset(|buf| buf.clear())
//!     .max_idle(256)
//!     .build()?;
//! {
//!     let mut buf = pool.get(); // a miss: the factory made it
//!     buf.extend_from_slice(b"hello");
//! } // back in the pool, cleared by reset
//! let buf = pool.get(); // a hit: the same buffer, empty again
//! assert!(buf.is_empty() && buf.capacity() >= 1024);
//! drop(buf);
//! let stats = pool.stats();
//! assert_eq!((stats.gets, stats.hits, stats.misses, stats.puts), (2, 1, 1, 2));
//! # Ok::<(), pool_allocator::ConfigError>(())
//! ```
//!
//! The pool is [`Send`] and [`Sync`] for any `T: Send`, so threads can share
//! it by reference:
//!
//! ```
//! let pool = pool_allocator::PoolAllocator::new(String::new);
//! std::thread::scope(|s| {
//!     for _ in 0..2 {
//!         s.spawn(|| pool.get().push_str("mine"));
//!     }
//! });
//! assert_eq!(pool.stats().puts, 2);
//! ```
//!
//! An object that is not `Send` cannot be pooled, since any thread may get it:
//!
//! ```compile_fail
//! let pool = pool_allocator::PoolAllocator::new(|| std::rc::Rc::new(1));
//! ```

// Design notes (for the lesson; the exercise is generated from the first `use` on).
//
// THE PROBLEM. A `Mutex<Vec<T>>` is the obvious pool, and it stops scaling as
// soon as two threads use it: every get and every put takes the same lock, so
// the lock's cache line moves between the cores on every operation. Even
// uncontended, a get plus a put costs four atomic read-modify-writes. While
// planning (issue 8, this machine) an object lent in place per thread took
// about 1.8 ns per get + drop, five times less than `Mutex<Vec>`, and shared
// atomic counters alone made two threads 2.7x slower than one. So the hot path
// here touches only memory that its own thread uses: no shared lock, no
// shared counter.
//
// PER-THREAD STRUCTURE. Each live thread holds a small process-wide *thread
// slot* number (`ThreadSlot` in a `thread_local!`): the smallest number no
// live thread has, handed back when the thread exits, so the numbers stay
// dense. Every pool keeps one `Shard` per slot number, in a directory of
// buckets of 1, 2, 4, 8, ... shards (`buckets[b]` holds 2^b shards, allocated
// by the first thread whose slot falls in it, and never moved), so finding a
// thread's shard is a `thread_local!` read, a little arithmetic and one
// acquire load: no lock, no hash map, no shared write. A shard lives in the
// pool, not in the thread: the thread-local holds only the slot number. So
// - a pool dropped while threads still run drops every cached object at
//   once, as the pool's own fields (nothing of a dead pool lingers in any
//   thread-local, unlike a `thread_local!` map keyed by pool id), and
// - a thread that exits leaves its shard, objects and counters in the pool:
//   other threads steal from it, `age()` and `clear()` drop them (counted in
//   `discarded`), and the next thread to get that slot number adopts it.
// (`Vec<Mutex<Shard>>` indexed by slot would also work, but a get plus a put
// would pay a lock and an unlock: the `Mutex<Vec>` price we are avoiding.)
//
// A SHARD has two places for idle objects:
// - `slot`, ONE object lent in place, as Go's per-P `private`: `get` flips the
//   slot's `state` from FULL to LENT with one compare-and-swap and returns a
//   guard that points into the slot; dropping the guard runs `reset` in place
//   and stores FULL again (a plain release store). No object moves, nothing
//   else is written but this shard's counters. The CAS is the price of making
//   the slot *stealable*: unlike Go's `private`, another thread may take the
//   object (FULL -> BUSY -> EMPTY), so an object put on thread A is a hit for
//   thread B. Only the shard's own thread fills an EMPTY slot.
// - `lists`, a `Mutex<Lists>` with the rest (`fresh`) and the aged objects
//   (`victims`): the owner locks it only when the slot does not serve (a
//   burst of gets, or a hand-back while the slot is full), and that lock is
//   its own, shared only with stealers, which use `try_lock` and move on.
//
// STEALING. A get whose own slot and lists are empty scans the other shards:
// first their lists (try_lock, pop), then their slots (CAS). Only then does it
// call the factory. The scan is O(threads), like Go's, and it only runs on what
// would otherwise be a miss, which pays for a new object anyway.
//
// COUNTERS. `hits`, `misses`, `puts`, `discarded` live in each shard and are
// written only by the shard's thread, with a plain load and store (no
// read-modify-write); `stats()` sums them. A guard returned in place counts
// in `returned_in_place` of the slot's shard: the slot's state serialises
// those writes, whichever thread drops the guard. What a thread without a
// shard does (one whose thread-locals are being destroyed) and what `age()`
// and `clear()` drop is counted in shared atomics, off the hot path. So
// counters are exact once other threads are done (a join orders their
// writes before `stats()`), and a moment old while they run. A get whose
// factory panics counts nothing: nothing was handed out.
//
// MAX_IDLE is a budget of places, split into shares: a shard reserves a share
// of 64 places (or what is left) the first time its thread hands an object
// back, one of them for its slot, and another 64 whenever its lists are full.
// Places are never given back; they stay with the shard and pass to the next
// thread that adopts its slot. So the idle objects of all threads together never
// exceed max_idle, and no shared counter is touched when the hand-back fits
// in the thread's share. A thread that finds the budget spent puts its object
// in another shard's spare places (try_lock), or drops it (`discarded`).
// With the default max_idle (1024) the first 16 threads keep 64 each.
//
// AGE is Go's victim cache, made explicit because Rust has no GC to trigger
// it: in every shard the victims are dropped, the fresh list becomes the
// victims, and a FULL slot is marked VICTIM (a VICTIM slot is dropped). A get
// still takes victims (a hit), which saves them. Two `age()` calls with no
// get in between therefore empty the pool.
//
// PANICS. No user code (factory, reset, an object's Drop) runs while a lock is
// held or a slot is BUSY. A reset that panics leaves its object half reset:
// the object is dropped and counted as handed back and discarded, so
// `puts == gets` and `idle` stay true, and the pool stays usable.

use std::cell::UnsafeCell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::mem::{self, ManuallyDrop};
use std::ops::{Deref, DerefMut};
use std::ptr;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError, TryLockError};

/// The factory, shared by every thread.
type Factory<T> = Box<dyn Fn() -> T + Send + Sync>;

/// The reset function, shared by every thread.
type Reset<T> = Box<dyn Fn(&mut T) + Send + Sync>;

/// `max_idle` when the builder does not set it.
const DEFAULT_MAX_IDLE: usize = 1024;

/// The places a thread's cache reserves from `max_idle` at a time.
const THREAD_SHARE: usize = 64;

/// Buckets in the shard directory: bucket `b` holds `2^b` shards, so this many
/// cover every slot number a `usize` can hold.
const BUCKETS: usize = usize::BITS as usize;

// ANCHOR: states
// The states of a shard's slot. Who may move it from each:
/// No object. Only the shard's own thread fills it (EMPTY -> FULL).
const EMPTY: u8 = 0;
/// An idle object. Anyone may claim it with a CAS: the owner's get (-> LENT),
/// a stealer or `clear` (-> BUSY), `age` (-> VICTIM).
const FULL: u8 = 1;
/// An idle object that has survived one `age()`: as FULL, but the next `age`
/// drops it (-> BUSY).
const VICTIM: u8 = 2;
/// Lent in place to one [`Pooled`] guard, which alone touches the object and
/// ends the loan (-> FULL, or EMPTY from `into_inner`).
const LENT: u8 = 3;
/// Claimed by a stealer, `age` or `clear`, moving the object out (-> EMPTY).
const BUSY: u8 = 4;
// ANCHOR_END: states

/// A shard's share of `max_idle`, before its thread first hands an object back.
const UNSET: u8 = 0;
/// The shard got places, one of them for its slot.
const WITH_SLOT: u8 = 1;
/// The budget was spent when the shard asked: no slot, no places.
const WITHOUT_SLOT: u8 = 2;

// ANCHOR: pool
/// A thread-safe pool of reusable `T`s, made by a factory, with a cache per
/// thread.
///
/// ```text
///  thread slot:   0                   1                   2 (exited)
///               +-------------------+-------------------+-------------------+
///  slot (1)     | [obj] FULL        | [obj] LENT ->guard| [   ] EMPTY       |
///  lists        | fresh:   [o][o]   | fresh:   []       | fresh:   [o]      |
///               | victims: [o]      | victims: []       | victims: []       |
///               +-------------------+-------------------+-------------------+
///  get on 0: its slot (CAS), else its lists, else steal from 1 and 2, else factory()
/// ```
///
/// Handed-out objects come as [`Pooled`] guards that go back to the pool when
/// dropped; the pool's `reset` function (see [`PoolBuilder::reset`]) runs on
/// every object handed back. At most `max_idle` objects wait in the pool, all
/// threads together; [`PoolAllocator::age`] drops the ones nobody wanted.
///
/// ```
/// let pool = pool_allocator::PoolAllocator::new(|| Vec::<u64>::with_capacity(32));
/// let mut squares = pool.get();
/// squares.extend((1..=4).map(|n| n * n));
/// assert_eq!(squares.iter().sum::<u64>(), 30);
/// ```
pub struct PoolAllocator<T> {
    /// Makes an object when no thread has one idle.
    factory: Factory<T>,
    /// Runs on every object handed back.
    reset: Option<Reset<T>>,
    /// Most idle objects kept, all threads together.
    max_idle: usize,
    /// Places of `max_idle` not yet reserved by any shard.
    budget: AtomicUsize,
    /// The shard of thread slot `s` is in bucket `b = log2(s + 1)`, at
    /// `s + 1 - 2^b`; bucket `b` holds `2^b` shards, made on first use.
    buckets: [OnceLock<Box<[Shard<T>]>>; BUCKETS],
    /// What threads without a shard did, and what `age` and `clear` dropped:
    /// shared, so updated with `fetch_add`, off the hot path.
    homeless: Counters,
}
// ANCHOR_END: pool

// ANCHOR: shard
/// One thread slot's cache in one pool. Aligned to two cache lines so that
/// two threads' shards never share one (adjacent-line prefetch included).
#[repr(align(128))]
struct Shard<T> {
    /// Who may touch `slot` now: one of `EMPTY`, `FULL`, `VICTIM`, `LENT`, `BUSY`.
    state: AtomicU8,
    /// The object lent in place; `Some` exactly when `state` is not `EMPTY`
    /// (while `BUSY`, until the mover has taken it out).
    slot: UnsafeCell<Option<T>>,
    /// Whether this shard has its share of `max_idle` yet: `UNSET`,
    /// `WITH_SLOT` or `WITHOUT_SLOT`. Written by the shard's thread only.
    share: AtomicU8,
    /// What the shard's own thread did. Written by that thread only.
    counters: Counters,
    /// Guards returned into `slot`, and those of them dropped because reset
    /// panicked. Written only by the guard holding the slot (`LENT`).
    returned_in_place: AtomicU64,
    discarded_in_place: AtomicU64,
    /// The other idle objects of this thread, and its places for them.
    lists: Mutex<Lists<T>>,
}

/// The idle objects of a shard that are not in its slot.
struct Lists<T> {
    /// Handed back since the last `age()`.
    fresh: Vec<T>,
    /// Idle since the last `age()`: the next one drops them.
    victims: Vec<T>,
    /// How many objects `fresh` and `victims` may hold together: this shard's
    /// share of `max_idle`, without the place its slot uses.
    room: usize,
}

/// Counts of what happened, one set per shard and one shared.
#[derive(Default)]
struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    puts: AtomicU64,
    discarded: AtomicU64,
}
// ANCHOR_END: shard

// SAFETY: the only field that is not already `Sync` is `slot`, and `state`
// decides who may touch it (see the states above): while LENT, the one guard
// the owner's acquire CAS created (on whichever thread it is now); while
// BUSY, the thread whose acquire CAS claimed it; while EMPTY, the shard's own
// thread only. Each turn ends with a release store of the next state, so
// accesses never overlap and each turn sees the previous one's writes. The
// object can end up on another thread, which is why `T: Send` is required.
unsafe impl<T: Send> Sync for Shard<T> {}

// ANCHOR: guard
/// An object from the pool. It dereferences to `T` and goes back to the pool
/// when dropped; [`Pooled::into_inner`] keeps it instead.
///
/// ```
/// let pool = pool_allocator::PoolAllocator::new(String::new);
/// let mut name = pool.get();
/// name.push_str("pooled");
/// assert_eq!(name.len(), 6);
/// drop(name); // back in the pool
/// assert_eq!(pool.stats().idle, 1);
/// ```
pub struct Pooled<'a, T: Send> {
    pool: &'a PoolAllocator<T>,
    object: Lent<'a, T>,
}

/// Where a guard's object is.
enum Lent<'a, T> {
    /// In the slot of this shard, whose state is LENT.
    InPlace(&'a Shard<T>),
    /// In the guard: it came from a list, another thread or the factory.
    Owned(ManuallyDrop<T>),
}
// ANCHOR_END: guard

// ANCHOR: stats
/// The pool's counters, summed over every thread.
///
/// Exact whenever no other thread is using the pool; while others run, a
/// moment old. `gets == hits + misses` always holds; `puts` reaches `gets`
/// when every guard has been dropped (minus those kept with
/// [`Pooled::into_inner`]).
///
/// ```
/// let pool = pool_allocator::PoolAllocator::new(|| [0_u8; 32]);
/// let (a, b) = (pool.get(), pool.get());
/// drop((a, b));
/// drop(pool.get());
/// let stats = pool.stats();
/// assert_eq!(stats.gets, stats.hits + stats.misses);
/// assert_eq!((stats.hits, stats.misses, stats.puts, stats.idle), (1, 2, 3, 2));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolStats {
    /// Calls to [`PoolAllocator::get`] that returned (one whose factory
    /// panicked handed nothing out and is not counted).
    pub gets: u64,
    /// Gets served with a pooled object, the victims of `age` included.
    pub hits: u64,
    /// Gets that called the factory.
    pub misses: u64,
    /// Objects handed back: [`Pooled`] guards dropped, and [`PoolAllocator::put`].
    pub puts: u64,
    /// Objects handed back or idle, then dropped: over `max_idle`, aged out by
    /// [`PoolAllocator::age`], dropped by [`PoolAllocator::clear`], or whose
    /// reset panicked.
    pub discarded: u64,
    /// Objects waiting in the pool now, victims of `age` included.
    pub idle: usize,
}
// ANCHOR_END: stats

// ANCHOR: errors
/// Why [`PoolBuilder::build`] refused to build a pool.
///
/// ```
/// let err = pool_allocator::PoolAllocator::builder(|| 0_u8).max_idle(0).build().unwrap_err();
/// assert!(err.to_string().contains("max_idle"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigError {
    /// `max_idle(0)`: a pool that may keep no object could never serve a hit.
    ZeroMaxIdle,
}
// ANCHOR_END: errors

/// How to build a [`PoolAllocator`]: the factory, and optionally a reset
/// function and a limit on idle objects. From [`PoolAllocator::builder`].
///
/// ```
/// let pool = pool_allocator::PoolAllocator::builder(|| vec![0_u8; 4])
///     .max_idle(16)
///     .reset(|v| v.fill(0))
///     .build()?;
/// pool.get()[0] = 9;
/// assert_eq!(*pool.get(), [0; 4]);
/// # Ok::<(), pool_allocator::ConfigError>(())
/// ```
pub struct PoolBuilder<T> {
    factory: Factory<T>,
    reset: Option<Reset<T>>,
    max_idle: usize,
}

impl PoolStats {
    /// The share of gets served from the pool: `hits / gets`, from 0.0 to
    /// 1.0; 0.0 before the first get.
    ///
    /// ```
    /// let pool = pool_allocator::PoolAllocator::new(|| 0_u32);
    /// assert_eq!(pool.stats().hit_rate(), 0.0);
    /// drop(pool.get()); // a miss
    /// drop(pool.get()); // a hit
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

impl<T: Send> PoolAllocator<T> {
    /// A pool with the default limits (keeps at most 1024 idle objects, at
    /// least 64 for each of the first 16 threads) and no reset function.
    ///
    /// ```
    /// let pool = pool_allocator::PoolAllocator::new(|| vec![0_u8; 16]);
    /// assert_eq!(pool.get().len(), 16);
    /// ```
    pub fn new(factory: impl Fn() -> T + Send + Sync + 'static) -> Self {
        Self::with(Box::new(factory), None, DEFAULT_MAX_IDLE)
    }

    /// A builder that starts from [`PoolAllocator::new`]'s defaults.
    ///
    /// ```
    /// let pool = pool_allocator::PoolAllocator::builder(String::new)
    ///     .max_idle(8)
    ///     .reset(|s| s.clear())
    ///     .build()?;
    /// pool.get().push_str("scratch");
    /// assert_eq!(*pool.get(), "");
    /// # Ok::<(), pool_allocator::ConfigError>(())
    /// ```
    pub fn builder(factory: impl Fn() -> T + Send + Sync + 'static) -> PoolBuilder<T> {
        PoolBuilder {
            factory: Box::new(factory),
            reset: None,
            max_idle: DEFAULT_MAX_IDLE,
        }
    }

    /// The pool, empty, with everything given.
    fn with(factory: Factory<T>, reset: Option<Reset<T>>, max_idle: usize) -> Self {
        Self {
            factory,
            reset,
            max_idle,
            budget: AtomicUsize::new(max_idle),
            buckets: [const { OnceLock::new() }; BUCKETS],
            homeless: Counters::default(),
        }
    }

    // ANCHOR: get
    /// An object: a pooled one if any thread has one idle (this thread's
    /// first, then the others'), else a new one from the factory. It goes back
    /// to the pool when the guard is dropped.
    ///
    /// # Panics
    /// When the factory panics. The pool stays usable and counts nothing for
    /// this call.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU32, Ordering};
    ///
    /// static MADE: AtomicU32 = AtomicU32::new(0);
    /// let pool = pool_allocator::PoolAllocator::new(|| MADE.fetch_add(1, Ordering::Relaxed));
    /// let first = *pool.get();
    /// let again = *pool.get();
    /// assert_eq!((first, again), (0, 0), "the second get reuses object 0");
    /// assert_eq!(MADE.load(Ordering::Relaxed), 1);
    /// ```
    #[inline]
    pub fn get(&self) -> Pooled<'_, T> {
        let Some(home) = self.local() else {
            return self.get_slow(None);
        };
        let state = home.state.load(Ordering::Relaxed);
        if (state == FULL || state == VICTIM)
            && home
                .state
                .compare_exchange(state, LENT, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        {
            bump(&home.counters.hits);
            return Pooled {
                pool: self,
                object: Lent::InPlace(home),
            };
        }
        self.get_slow(Some(home))
    }

    /// A get that this thread's slot could not serve: its lists, then the
    /// other threads', then the factory.
    #[cold]
    fn get_slow(&self, home: Option<&Shard<T>>) -> Pooled<'_, T> {
        let pooled = home.and_then(Shard::pop).or_else(|| self.steal(home));
        let value = match pooled {
            Some(value) => {
                self.count(home, |c| &c.hits);
                value
            }
            None => {
                let value = (self.factory)();
                self.count(home, |c| &c.misses);
                value
            }
        };
        Pooled {
            pool: self,
            object: Lent::Owned(ManuallyDrop::new(value)),
        }
    }
    // ANCHOR_END: get

    // ANCHOR: steal
    /// An idle object of another thread: from a list whose lock is free, else
    /// from a slot. Never waits for a lock.
    fn steal(&self, home: Option<&Shard<T>>) -> Option<T> {
        let others = || {
            self.shards()
                .filter(move |shard| !home.is_some_and(|home| ptr::eq(*shard, home)))
        };
        others()
            .find_map(|shard| try_lock(&shard.lists).and_then(|mut lists| lists.pop()))
            .or_else(|| others().find_map(Shard::take_slot))
    }
    // ANCHOR_END: steal

    /// Hands `value` to the pool, as dropping a guard does: the reset function
    /// runs on it, then it is kept (if the limits allow) for the next get.
    ///
    /// # Panics
    /// When the reset function panics. `value` is dropped then, and counted as
    /// handed back and discarded; the pool stays usable.
    ///
    /// ```
    /// let pool = pool_allocator::PoolAllocator::builder(Vec::<u32>::new)
    ///     .reset(|v| v.clear())
    ///     .build()?;
    /// pool.put(Vec::with_capacity(100));
    /// let v = pool.get(); // a hit: the vector put above, cleared
    /// assert!(v.is_empty() && v.capacity() >= 100);
    /// # Ok::<(), pool_allocator::ConfigError>(())
    /// ```
    pub fn put(&self, value: T) {
        self.hand_back(value);
    }

    // ANCHOR: return
    /// Ends the loan of `home`'s slot: reset in place, then FULL again.
    #[inline]
    fn return_in_place(&self, home: &Shard<T>) {
        if let Some(reset) = &self.reset {
            let on_panic = OnUnwind::new(|| {
                // SAFETY: the slot is still LENT to the guard being dropped,
                // so this code alone touches it.
                let broken = unsafe { &mut *home.slot.get() }.take();
                bump(&home.returned_in_place);
                bump(&home.discarded_in_place);
                home.state.store(EMPTY, Ordering::Release);
                drop(broken);
            });
            // SAFETY: the slot is LENT to the guard being dropped, so no other
            // reference to the object exists.
            if let Some(value) = unsafe { &mut *home.slot.get() } {
                reset(value);
            }
            on_panic.disarm();
        }
        bump(&home.returned_in_place);
        home.state.store(FULL, Ordering::Release);
    }

    /// Takes back an object that is not in a slot: reset, then keep or drop.
    fn hand_back(&self, mut value: T) {
        let home = self.local();
        if let Some(reset) = &self.reset {
            // If reset panics, `value` is dropped as the stack unwinds, right
            // after this guard has counted it.
            let on_panic = OnUnwind::new(|| {
                self.count(home, |c| &c.puts);
                self.count(home, |c| &c.discarded);
            });
            reset(&mut value);
            on_panic.disarm();
        }
        self.count(home, |c| &c.puts);
        let value = match home {
            Some(home) => match self.keep(home, value) {
                Ok(()) => return,
                Err(value) => value,
            },
            None => value,
        };
        if let Err(value) = self.spill(home, value) {
            self.count(home, |c| &c.discarded);
            drop(value);
        }
    }

    /// Keeps `value` in this thread's shard: its slot if empty, else its
    /// lists if its share (grown by another one if the budget allows) has
    /// room. Returns it when neither has.
    fn keep(&self, home: &Shard<T>, value: T) -> Result<(), T> {
        let mut share = home.share.load(Ordering::Relaxed);
        if share == UNSET {
            share = self.take_share(home);
        }
        if share == WITH_SLOT && home.state.load(Ordering::Acquire) == EMPTY {
            // SAFETY: `home` is this thread's shard and its slot is EMPTY:
            // only this thread may fill it, and nobody else touches an EMPTY
            // slot. The acquire load saw the last mover's release store.
            unsafe { *home.slot.get() = Some(value) };
            home.state.store(FULL, Ordering::Release);
            return Ok(());
        }
        let mut lists = lock(&home.lists);
        lists.push(value).or_else(|value| {
            lists.room += self.reserve(THREAD_SHARE);
            lists.push(value)
        })
    }

    /// Puts `value` in another shard's spare room, never waiting for a lock.
    fn spill(&self, home: Option<&Shard<T>>, value: T) -> Result<(), T> {
        let mut value = value;
        for shard in self.shards() {
            if home.is_some_and(|home| ptr::eq(shard, home)) {
                continue;
            }
            if let Some(mut lists) = try_lock(&shard.lists) {
                match lists.push(value) {
                    Ok(()) => return Ok(()),
                    Err(back) => value = back,
                }
            }
        }
        Err(value)
    }
    // ANCHOR_END: return

    // ANCHOR: share
    /// Reserves this shard's first share of `max_idle`: a place for its slot
    /// and the rest for its lists.
    #[cold]
    fn take_share(&self, home: &Shard<T>) -> u8 {
        let granted = self.reserve(THREAD_SHARE);
        let share = if granted == 0 {
            WITHOUT_SLOT
        } else {
            lock(&home.lists).room += granted - 1;
            WITH_SLOT
        };
        home.share.store(share, Ordering::Relaxed);
        share
    }

    /// Takes up to `wanted` places from the budget; returns how many it got.
    fn reserve(&self, wanted: usize) -> usize {
        let mut granted = 0;
        let _ = self
            .budget
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                granted = left.min(wanted);
                (granted > 0).then(|| left - granted)
            });
        granted
    }
    // ANCHOR_END: share

    // ANCHOR: age
    /// One "GC cycle", as Go's victim cache: objects idle since the previous
    /// `age()` are dropped (counted in `discarded`); objects idle now become
    /// victims, which `get` still serves (a hit) until the next `age()`. Two
    /// calls with no get in between empty the pool.
    ///
    /// ```
    /// let pool = pool_allocator::PoolAllocator::new(|| [0_u8; 64]);
    /// drop(pool.get());
    /// pool.age();
    /// assert_eq!(pool.stats().idle, 1, "a victim is still idle");
    /// pool.age();
    /// assert_eq!((pool.stats().idle, pool.stats().discarded), (0, 1));
    /// ```
    pub fn age(&self) {
        for shard in self.shards() {
            if let Some(old) = shard.age_slot() {
                self.homeless.discarded.fetch_add(1, Ordering::Relaxed);
                drop(old);
            }
            let mut old = {
                let mut lists = lock(&shard.lists);
                let fresh = mem::take(&mut lists.fresh);
                mem::replace(&mut lists.victims, fresh)
            };
            self.homeless
                .discarded
                .fetch_add(old.len() as u64, Ordering::Relaxed);
            old.clear(); // the objects are dropped outside the lock
            let mut lists = lock(&shard.lists);
            if lists.fresh.capacity() == 0 {
                lists.fresh = old; // keep the buffer, so the next pushes do not allocate
            }
        }
    }
    // ANCHOR_END: age

    /// Drops every idle object now, victims included, counting them in
    /// `discarded`. Objects in use are not affected.
    ///
    /// ```
    /// let pool = pool_allocator::PoolAllocator::new(String::new);
    /// let kept = pool.get();
    /// drop((pool.get(), pool.get()));
    /// pool.clear();
    /// drop(kept); // handed back after the clear: kept
    /// let stats = pool.stats();
    /// assert_eq!((stats.discarded, stats.idle), (2, 1));
    /// ```
    pub fn clear(&self) {
        for shard in self.shards() {
            if let Some(old) = shard.take_slot() {
                self.homeless.discarded.fetch_add(1, Ordering::Relaxed);
                drop(old);
            }
            let (fresh, victims) = {
                let mut lists = lock(&shard.lists);
                (mem::take(&mut lists.fresh), mem::take(&mut lists.victims))
            };
            self.homeless
                .discarded
                .fetch_add((fresh.len() + victims.len()) as u64, Ordering::Relaxed);
            drop((fresh, victims));
        }
    }

    // ANCHOR: stats_fn
    /// The counters, summed over every thread's cache (see [`PoolStats`]).
    ///
    /// ```
    /// let pool = pool_allocator::PoolAllocator::new(|| 0_u8);
    /// let kept = pool.get().into_inner();
    /// drop(pool.get());
    /// pool.put(kept);
    /// let stats = pool.stats();
    /// assert_eq!((stats.gets, stats.hits, stats.misses, stats.puts), (2, 0, 2, 2));
    /// assert_eq!((stats.discarded, stats.idle), (0, 2));
    /// ```
    pub fn stats(&self) -> PoolStats {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let shared = &self.homeless;
        let mut stats = PoolStats {
            gets: 0,
            hits: load(&shared.hits),
            misses: load(&shared.misses),
            puts: load(&shared.puts),
            discarded: load(&shared.discarded),
            idle: 0,
        };
        for shard in self.shards() {
            let own = &shard.counters;
            stats.hits += load(&own.hits);
            stats.misses += load(&own.misses);
            stats.puts += load(&own.puts) + load(&shard.returned_in_place);
            stats.discarded += load(&own.discarded) + load(&shard.discarded_in_place);
            let in_slot = matches!(shard.state.load(Ordering::Relaxed), FULL | VICTIM);
            stats.idle += usize::from(in_slot) + lock(&shard.lists).len();
        }
        stats.gets = stats.hits + stats.misses;
        stats
    }
    // ANCHOR_END: stats_fn

    // ANCHOR: directory
    /// This thread's shard, or `None` while the thread's thread-locals are
    /// being destroyed.
    #[inline]
    fn local(&self) -> Option<&Shard<T>> {
        current_slot().map(|slot| self.shard(slot))
    }

    /// The shard of thread slot `slot`, its bucket made on first use.
    #[inline]
    fn shard(&self, slot: usize) -> &Shard<T> {
        let (bucket, index) = locate(slot);
        let shards =
            self.buckets[bucket].get_or_init(|| (0..1 << bucket).map(|_| Shard::new()).collect());
        &shards[index]
    }

    /// Every shard made so far, in slot order.
    fn shards(&self) -> impl Iterator<Item = &Shard<T>> {
        self.buckets
            .iter()
            .filter_map(OnceLock::get)
            .flat_map(|bucket| bucket.iter())
    }
    // ANCHOR_END: directory

    /// Adds one to a counter of `home`, or to the shared one without a home.
    #[inline]
    fn count(&self, home: Option<&Shard<T>>, which: impl Fn(&Counters) -> &AtomicU64) {
        match home {
            Some(home) => bump(which(&home.counters)),
            None => {
                which(&self.homeless).fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

impl<T: Send> PoolBuilder<T> {
    /// The most idle objects the pool keeps, all threads together (default
    /// 1024). Objects handed back beyond it are dropped and counted in
    /// `discarded`. The limit is shared out 64 places at a time to the threads
    /// that hand objects back, so the pool may keep fewer: a thread that finds
    /// every place taken uses another thread's spare places, or drops.
    ///
    /// ```
    /// let pool = pool_allocator::PoolAllocator::builder(|| 0_u64).max_idle(2).build()?;
    /// let three = [pool.get(), pool.get(), pool.get()];
    /// drop(three);
    /// assert_eq!((pool.stats().idle, pool.stats().discarded), (2, 1));
    /// # Ok::<(), pool_allocator::ConfigError>(())
    /// ```
    pub fn max_idle(mut self, n: usize) -> Self {
        self.max_idle = n;
        self
    }

    /// A function that runs on every object handed back (a guard dropped, or
    /// [`PoolAllocator::put`]), before it is kept: clear a buffer, zero a
    /// counter. The pool's job, so no caller can forget it.
    ///
    /// ```
    /// let pool = pool_allocator::PoolAllocator::builder(|| vec![1, 2, 3])
    ///     .reset(|v| v.clear())
    ///     .build()?;
    /// drop(pool.get());
    /// assert!(pool.get().is_empty());
    /// # Ok::<(), pool_allocator::ConfigError>(())
    /// ```
    pub fn reset(mut self, f: impl Fn(&mut T) + Send + Sync + 'static) -> Self {
        self.reset = Some(Box::new(f));
        self
    }

    /// The pool.
    ///
    /// # Errors
    /// [`ConfigError::ZeroMaxIdle`] for `max_idle(0)`.
    ///
    /// ```
    /// use pool_allocator::{ConfigError, PoolAllocator};
    ///
    /// let refused = PoolAllocator::builder(|| 0_u8).max_idle(0).build();
    /// assert_eq!(refused.err(), Some(ConfigError::ZeroMaxIdle));
    /// ```
    pub fn build(self) -> Result<PoolAllocator<T>, ConfigError> {
        if self.max_idle == 0 {
            return Err(ConfigError::ZeroMaxIdle);
        }
        Ok(PoolAllocator::with(self.factory, self.reset, self.max_idle))
    }
}

impl<T: Send> Pooled<'_, T> {
    /// Keeps the object: it never goes back to the pool (and is not counted
    /// in `puts`).
    ///
    /// ```
    /// let pool = pool_allocator::PoolAllocator::new(|| String::from("mine"));
    /// let s: String = pool.get().into_inner();
    /// assert_eq!(s, "mine");
    /// assert_eq!((pool.stats().puts, pool.stats().idle), (0, 0));
    /// ```
    pub fn into_inner(self) -> T {
        let mut this = ManuallyDrop::new(self);
        match &mut this.object {
            Lent::InPlace(home) => {
                // SAFETY: the slot is LENT to this guard, so nothing else
                // touches it; after the EMPTY store the guard never does again.
                let value = unsafe { &mut *home.slot.get() }.take();
                home.state.store(EMPTY, Ordering::Release);
                value.expect("a lent slot holds its object")
            }
            // SAFETY: `this` is never dropped or used again, so the value
            // is taken out exactly once.
            Lent::Owned(value) => unsafe { ManuallyDrop::take(value) },
        }
    }
}

impl<T: Send> Deref for Pooled<'_, T> {
    type Target = T;

    /// ```
    /// let pool = pool_allocator::PoolAllocator::new(|| vec![7_u8; 3]);
    /// assert_eq!(pool.get().len(), 3);
    /// ```
    #[inline]
    fn deref(&self) -> &T {
        match &self.object {
            // SAFETY: the slot is LENT to this guard, so no `&mut` to the
            // object exists but through the guard, which `&self` borrows.
            Lent::InPlace(home) => match unsafe { &*home.slot.get() } {
                Some(value) => value,
                None => unreachable!("a lent slot holds its object"),
            },
            Lent::Owned(value) => value,
        }
    }
}

impl<T: Send> DerefMut for Pooled<'_, T> {
    /// ```
    /// let pool = pool_allocator::PoolAllocator::new(Vec::<u8>::new);
    /// pool.get().push(1);
    /// ```
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        match &mut self.object {
            // SAFETY: the slot is LENT to this guard, and `&mut self` makes
            // this the only reference to it.
            Lent::InPlace(home) => match unsafe { &mut *home.slot.get() } {
                Some(value) => value,
                None => unreachable!("a lent slot holds its object"),
            },
            Lent::Owned(value) => value,
        }
    }
}

impl<T: Send> Drop for Pooled<'_, T> {
    #[inline]
    fn drop(&mut self) {
        match &mut self.object {
            Lent::InPlace(home) => self.pool.return_in_place(home),
            Lent::Owned(value) => {
                // SAFETY: `drop` runs once, and `value` is not used after this.
                let value = unsafe { ManuallyDrop::take(value) };
                self.pool.hand_back(value);
            }
        }
    }
}

impl<T> Shard<T> {
    fn new() -> Self {
        Self {
            state: AtomicU8::new(EMPTY),
            slot: UnsafeCell::new(None),
            share: AtomicU8::new(UNSET),
            counters: Counters::default(),
            returned_in_place: AtomicU64::new(0),
            discarded_in_place: AtomicU64::new(0),
            lists: Mutex::new(Lists {
                fresh: Vec::new(),
                victims: Vec::new(),
                room: 0,
            }),
        }
    }

    /// An object from this shard's own lists (its thread may wait for the lock:
    /// only a stealer, `stats`, `age` or `clear` holds it, briefly).
    fn pop(&self) -> Option<T> {
        lock(&self.lists).pop()
    }

    // ANCHOR: take_slot
    /// Moves the slot's idle object out (for a stealer or `clear`).
    fn take_slot(&self) -> Option<T> {
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state != FULL && state != VICTIM {
                return None;
            }
            match self.state.compare_exchange_weak(
                state,
                BUSY,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => state = now,
            }
        }
        // SAFETY: this thread moved the slot to BUSY, so it alone touches it.
        let value = unsafe { &mut *self.slot.get() }.take();
        self.state.store(EMPTY, Ordering::Release);
        value
    }

    /// `age` for the slot: FULL becomes VICTIM; a VICTIM is moved out, to drop.
    fn age_slot(&self) -> Option<T> {
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            let next = match state {
                FULL => VICTIM,
                VICTIM => BUSY,
                _ => return None,
            };
            match self.state.compare_exchange_weak(
                state,
                next,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) if next == VICTIM => return None,
                Ok(_) => break,
                Err(now) => state = now,
            }
        }
        // SAFETY: this thread moved the slot to BUSY, so it alone touches it.
        let value = unsafe { &mut *self.slot.get() }.take();
        self.state.store(EMPTY, Ordering::Release);
        value
    }
    // ANCHOR_END: take_slot
}

impl<T> Lists<T> {
    fn len(&self) -> usize {
        self.fresh.len() + self.victims.len()
    }

    /// The newest idle object, victims last.
    fn pop(&mut self) -> Option<T> {
        self.fresh.pop().or_else(|| self.victims.pop())
    }

    /// Keeps `value` if there is room; returns it if not.
    fn push(&mut self, value: T) -> Result<(), T> {
        if self.len() < self.room {
            self.fresh.push(value);
            Ok(())
        } else {
            Err(value)
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
                slots.next += 1;
                Self(slots.next - 1)
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

/// Locks a shard's lists. No user code runs under the lock, so poisoning
/// cannot leave them half changed: it is ignored.
fn lock<T>(lists: &Mutex<Lists<T>>) -> MutexGuard<'_, Lists<T>> {
    lists.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Locks a shard's lists if no one holds them.
fn try_lock<T>(lists: &Mutex<Lists<T>>) -> Option<MutexGuard<'_, Lists<T>>> {
    match lists.try_lock() {
        Ok(guard) => Some(guard),
        Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
        Err(TryLockError::WouldBlock) => None,
    }
}

/// Runs a closure if dropped before [`OnUnwind::disarm`]: during a panic.
struct OnUnwind<F: FnOnce()>(Option<F>);

impl<F: FnOnce()> OnUnwind<F> {
    fn new(f: F) -> Self {
        Self(Some(f))
    }

    fn disarm(mut self) {
        self.0 = None;
    }
}

impl<F: FnOnce()> Drop for OnUnwind<F> {
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            f();
        }
    }
}

impl<T: Send> fmt::Debug for PoolAllocator<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolAllocator")
            .field("max_idle", &self.max_idle)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for PoolBuilder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolBuilder")
            .field("max_idle", &self.max_idle)
            .field("reset", &self.reset.is_some())
            .finish_non_exhaustive()
    }
}

impl<T: Send + fmt::Debug> fmt::Debug for Pooled<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Pooled").field(&**self).finish()
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ZeroMaxIdle => write!(
                f,
                "max_idle is 0, so the pool could keep no object and every get would call the \
                 factory; it must be at least 1"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}
