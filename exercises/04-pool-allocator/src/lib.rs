//! # Chapter 04: a pool of reusable objects, cached per thread
//!
//! Read `book/src/04-pool-allocator.md` first, then fill in every `todo!()`
//! below. Check your work with
//!
//! ```text
//! cargo run -- check 04     # or: cargo test -p exercise-04-pool-allocator
//! ```
//!
//! This is the workbook's first pool that threads share, and the hard part is
//! not the pool: it is keeping threads out of each other's way. Given: the
//! data layout (a `Shard` per thread with one object lent in place and two
//! lists behind a lock of its own, the states of the slot, the counters), the
//! thread slots and the directory that finds a thread's shard (`local`,
//! `shard`, `shards`), the empty pool (`with`), the lists' own methods (`len`,
//! `pop`, `push`), small helpers (`count`, `bump`, `lock`, `try_lock`,
//! `OnUnwind`), and every signature with its contract. Yours to write: every
//! body that says `todo!()`, with a `// SAFETY:` comment on each `unsafe`
//! block. Read the states' comments twice: they say who may touch a slot, and
//! when.
//!
//! Where to start: `ConfigError`'s `Display`, the builder, `hit_rate` and
//! `stats`. Then one thread: `get` and `get_slow`, `Deref` and
//! `DerefMut`, `Drop`, `return_in_place`, `hand_back`, `keep`, `take_share`
//! and `reserve`, `put`, `into_inner`. Then other threads: `steal`,
//! `take_slot`, `spill`. Then `age` (with `age_slot`) and `clear`. The
//! single-thread tests go green first.

// The bodies below are still `todo!()`, so the compiler would warn that the
// arguments, fields and helpers are unused. Delete this line when you are done.
#![allow(unused_variables, unused_mut, dead_code, unused_imports)]

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigError {
    /// `max_idle(0)`: a pool that may keep no object could never serve a hit.
    ZeroMaxIdle,
}
// ANCHOR_END: errors

/// How to build a [`PoolAllocator`]: the factory, and optionally a reset
/// function and a limit on idle objects. From [`PoolAllocator::builder`].
pub struct PoolBuilder<T> {
    factory: Factory<T>,
    reset: Option<Reset<T>>,
    max_idle: usize,
}

impl PoolStats {
    /// The share of gets served from the pool: `hits / gets`, from 0.0 to
    /// 1.0; 0.0 before the first get.
    pub fn hit_rate(&self) -> f64 {
        todo!("hits / gets, from 0.0 to 1.0; 0.0 before the first get, never NaN")
    }
}

impl<T: Send> PoolAllocator<T> {
    /// A pool with the default limits (keeps at most 1024 idle objects, at
    /// least 64 for each of the first 16 threads) and no reset function.
    pub fn new(factory: impl Fn() -> T + Send + Sync + 'static) -> Self {
        todo!(
            "an empty pool with the default max_idle (1024) and no reset function; nothing is made before the first get"
        )
    }

    /// A builder that starts from [`PoolAllocator::new`]'s defaults.
    pub fn builder(factory: impl Fn() -> T + Send + Sync + 'static) -> PoolBuilder<T> {
        todo!("a builder with this factory, no reset function and new's default max_idle")
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
    #[inline]
    pub fn get(&self) -> Pooled<'_, T> {
        todo!(
            "a guard on this thread's slot object when the slot is FULL or VICTIM (now LENT, counted as a hit on this thread's shard), with no lock and no write another thread makes; otherwise what get_slow hands out"
        )
    }

    /// A get that this thread's slot could not serve: its lists, then the
    /// other threads', then the factory.
    #[cold]
    fn get_slow(&self, home: Option<&Shard<T>>) -> Pooled<'_, T> {
        todo!(
            "an object from this thread's lists, else one stolen from another thread, else a new one from the factory, in a guard that owns it; counted as a hit or a miss once the object is in hand, so a factory that panics counts nothing"
        )
    }
    // ANCHOR_END: get

    // ANCHOR: steal
    /// An idle object of another thread: from a list whose lock is free, else
    /// from a slot. Never waits for a lock.
    fn steal(&self, home: Option<&Shard<T>>) -> Option<T> {
        todo!(
            "an idle object of a shard other than `home`, lists before slots, without ever waiting for a lock; None when no other thread has one free right now"
        )
    }
    // ANCHOR_END: steal

    /// Hands `value` to the pool, as dropping a guard does: the reset function
    /// runs on it, then it is kept (if the limits allow) for the next get.
    ///
    /// # Panics
    /// When the reset function panics. `value` is dropped then, and counted as
    /// handed back and discarded; the pool stays usable.
    pub fn put(&self, value: T) {
        todo!(
            "`value` is handed back exactly as a dropped guard's object is: reset, counted in puts, then kept or discarded"
        )
    }

    // ANCHOR: return
    /// Ends the loan of `home`'s slot: reset in place, then FULL again.
    #[inline]
    fn return_in_place(&self, home: &Shard<T>) {
        todo!(
            "the lent object is reset where it is and the slot is FULL again, counted in returned_in_place; if reset panics, the object is dropped, counted as returned and discarded, and the slot is EMPTY"
        )
    }

    /// Takes back an object that is not in a slot: reset, then keep or drop.
    fn hand_back(&self, mut value: T) {
        todo!(
            "`value` is reset and counted in puts, then kept by this thread, else spilled into another thread's spare room, else dropped and counted in discarded; if reset panics it is counted as put and discarded, and dropped; counters go to this thread's shard, or the shared ones without a shard"
        )
    }

    /// Keeps `value` in this thread's shard: its slot if empty, else its
    /// lists if its share (grown by another one if the budget allows) has
    /// room. Returns it when neither has.
    fn keep(&self, home: &Shard<T>, value: T) -> Result<(), T> {
        todo!(
            "`value` is in this shard's slot (if the shard has one and it is EMPTY) or in its lists within their room (grown from the budget when full); otherwise it comes back as Err, untouched"
        )
    }

    /// Puts `value` in another shard's spare room, never waiting for a lock.
    fn spill(&self, home: Option<&Shard<T>>, value: T) -> Result<(), T> {
        todo!(
            "`value` is in the lists of a shard other than `home` that has spare room, without ever waiting for a lock; otherwise it comes back as Err"
        )
    }
    // ANCHOR_END: return

    // ANCHOR: share
    /// Reserves this shard's first share of `max_idle`: a place for its slot
    /// and the rest for its lists.
    #[cold]
    fn take_share(&self, home: &Shard<T>) -> u8 {
        todo!(
            "this shard has reserved its first share of the budget (one place for its slot, the rest as room in its lists) and recorded whether it got any; returns WITH_SLOT or WITHOUT_SLOT"
        )
    }

    /// Takes up to `wanted` places from the budget; returns how many it got.
    fn reserve(&self, wanted: usize) -> usize {
        todo!(
            "up to `wanted` places taken from the budget, even with other threads taking at the same time; how many were taken (0 once it is spent)"
        )
    }
    // ANCHOR_END: share

    // ANCHOR: age
    /// One "GC cycle", as Go's victim cache: objects idle since the previous
    /// `age()` are dropped (counted in `discarded`); objects idle now become
    /// victims, which `get` still serves (a hit) until the next `age()`. Two
    /// calls with no get in between empty the pool.
    pub fn age(&self) {
        todo!(
            "in every shard the old victims are dropped and counted in discarded, and the objects idle now (slot and fresh list) are the victims; objects in use are untouched, and no object is dropped while a lock is held"
        )
    }
    // ANCHOR_END: age

    /// Drops every idle object now, victims included, counting them in
    /// `discarded`. Objects in use are not affected.
    pub fn clear(&self) {
        todo!(
            "every idle object, victims included, is dropped and counted in discarded; objects in use are untouched, and no object is dropped while a lock is held"
        )
    }

    // ANCHOR: stats_fn
    /// The counters, summed over every thread's cache (see [`PoolStats`]).
    pub fn stats(&self) -> PoolStats {
        todo!(
            "the shared counters plus every shard's, summed as PoolStats documents them; gets is hits + misses, idle counts FULL and VICTIM slots and every list"
        )
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
    pub fn max_idle(mut self, n: usize) -> Self {
        todo!("the builder, with max_idle n (build checks it)")
    }

    /// A function that runs on every object handed back (a guard dropped, or
    /// [`PoolAllocator::put`]), before it is kept: clear a buffer, zero a
    /// counter. The pool's job, so no caller can forget it.
    pub fn reset(mut self, f: impl Fn(&mut T) + Send + Sync + 'static) -> Self {
        todo!("the builder, with f as its reset function, replacing any earlier one")
    }

    /// The pool.
    ///
    /// # Errors
    /// [`ConfigError::ZeroMaxIdle`] for `max_idle(0)`.
    pub fn build(self) -> Result<PoolAllocator<T>, ConfigError> {
        todo!(
            "a pool with this factory, reset function and max_idle; ZeroMaxIdle when max_idle is 0"
        )
    }
}

impl<T: Send> Pooled<'_, T> {
    /// Keeps the object: it never goes back to the pool (and is not counted
    /// in `puts`).
    pub fn into_inner(self) -> T {
        todo!(
            "the object, out of the pool for good (no put is counted, an in-place slot is EMPTY again), and the guard's Drop does not run"
        )
    }
}

impl<T: Send> Deref for Pooled<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        todo!("the guard's object, wherever it is")
    }
}

impl<T: Send> DerefMut for Pooled<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        todo!("the guard's object, mutably, wherever it is")
    }
}

impl<T: Send> Drop for Pooled<'_, T> {
    #[inline]
    fn drop(&mut self) {
        todo!(
            "the object is handed back: into its slot if it was lent in place, otherwise through hand_back"
        )
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
        todo!(
            "an object from this shard's own lists, fresh before victims (this thread may wait for the lock)"
        )
    }

    // ANCHOR: take_slot
    /// Moves the slot's idle object out (for a stealer or `clear`).
    fn take_slot(&self) -> Option<T> {
        todo!(
            "the slot's idle object, claimed from FULL or VICTIM with a CAS, and the slot EMPTY again; None when it is EMPTY, LENT or BUSY"
        )
    }

    /// `age` for the slot: FULL becomes VICTIM; a VICTIM is moved out, to drop.
    fn age_slot(&self) -> Option<T> {
        todo!(
            "a FULL slot becomes VICTIM (None); a VICTIM is taken out, to be dropped, and the slot is EMPTY; any other state is left alone (None)"
        )
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
        todo!("one sentence that names max_idle and the 0 it refused")
    }
}

impl std::error::Error for ConfigError {}
