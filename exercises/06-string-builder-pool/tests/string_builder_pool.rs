//! Chapter 06 tests. The very same file runs against your exercise
//! (`cargo run -- check 06`) and against the reference solution (`cargo test`).

use std::collections::HashSet;
use std::fmt::{self, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex, RwLock, mpsc};
use std::thread;

use deadline::within;
use string_builder_pool::{
    ConfigError, DEFAULT_MAX_IDLE, DEFAULT_MAX_RETAINED_CAPACITY, PooledString, StringBuilderPool,
    StringPoolStats, THREAD_SHARE,
};

// ---------------------------------------------------------------- helpers

/// Builds a pool the test needs, with a message that says why it must work.
fn pool(initial: usize, max_retained: usize, max_idle: usize) -> StringBuilderPool {
    StringBuilderPool::with_limits(initial, max_retained, max_idle).unwrap_or_else(|err| {
        panic!(
            "with_limits({initial}, {max_retained}, {max_idle}) must build a pool: the initial \
             capacity fits in isize::MAX, max_retained_capacity is at least the initial \
             capacity and max_idle is at least 1, but it said {err:?}"
        )
    })
}

/// A pool with the default limits.
fn default_pool(initial: usize) -> StringBuilderPool {
    StringBuilderPool::new(initial).unwrap_or_else(|err| {
        panic!(
            "new({initial}) must build a pool: {initial} fits in isize::MAX, but it said {err:?}"
        )
    })
}

/// Checks the equations every pool keeps, whatever happened.
fn assert_consistent(stats: StringPoolStats, when: &str) {
    assert_eq!(
        stats.gets,
        stats.hits + stats.misses,
        "{when}: every get is either a hit or a miss, so gets must equal hits + misses \
         ({stats:?})"
    );
    assert_eq!(
        stats.idle as u64,
        stats.returned - stats.discarded_oversized - stats.discarded_full - stats.hits,
        "{when}: every string handed back is either discarded or kept, and every hit takes \
         away one kept string, so idle must be exactly the strings kept and not yet taken \
         ({stats:?})"
    );
}

/// A string with exactly `capacity` bytes of room (and no text): reserved,
/// then shrunk to size.
fn with_exact_capacity(string: &mut String, capacity: usize) {
    string.clear();
    string.reserve_exact(capacity);
    string.shrink_to(capacity);
    assert_eq!(
        string.capacity(),
        capacity,
        "test setup: could not give a string a capacity of exactly {capacity} bytes"
    );
}

/// Meeting points for the threads of one test, like `std::sync::Barrier`
/// used once each, except that when one thread panics the others stop
/// waiting and fail too: a thread that fails must fail the test at once,
/// not leave the others waiting for it forever.
struct Gates {
    threads: usize,
    arrived: Vec<AtomicUsize>,
    broken: AtomicBool,
}

impl Gates {
    fn new(threads: usize, gates: usize) -> Self {
        Gates {
            threads,
            arrived: (0..gates).map(|_| AtomicUsize::new(0)).collect(),
            broken: AtomicBool::new(false),
        }
    }

    /// Waits at gate `gate` until every thread has arrived there.
    fn wait(&self, gate: usize) {
        self.arrived[gate].fetch_add(1, Ordering::SeqCst);
        while self.arrived[gate].load(Ordering::SeqCst) < self.threads {
            assert!(
                !self.broken.load(Ordering::SeqCst),
                "another thread of this test panicked (its message is above), so this one stops \
                 waiting for it"
            );
            thread::yield_now();
        }
    }

    /// A guard for the calling thread: if the thread panics while it lives,
    /// the gates open for everyone.
    fn watch(&self) -> Watch<'_> {
        Watch(&self.broken)
    }
}

/// Opens the gates when its thread panics (see [`Gates::watch`]).
struct Watch<'a>(&'a AtomicBool);

impl Drop for Watch<'_> {
    fn drop(&mut self) {
        if thread::panicking() {
            self.0.store(true, Ordering::SeqCst);
        }
    }
}

// ---------------------------------------------------------------- bad input

#[test]
fn new_rejects_an_initial_capacity_no_string_can_have() {
    for initial_capacity in [isize::MAX as usize + 1, usize::MAX] {
        assert_eq!(
            StringBuilderPool::new(initial_capacity).err(),
            Some(ConfigError::InitialCapacityTooLarge { initial_capacity }),
            "no allocation may be larger than isize::MAX bytes, so new({initial_capacity}) must \
             be refused with InitialCapacityTooLarge, before any get tries"
        );
    }
}

#[test]
fn with_limits_rejects_a_max_retained_capacity_below_the_initial_capacity() {
    assert_eq!(
        StringBuilderPool::with_limits(1024, 1023, 8).err(),
        Some(ConfigError::RetainedBelowInitial {
            initial_capacity: 1024,
            max_retained_capacity: 1023
        }),
        "every string starts with 1024 bytes of room, so a pool that keeps nothing above 1023 \
         bytes could never keep one: RetainedBelowInitial"
    );
}

#[test]
fn with_limits_rejects_a_max_idle_of_zero() {
    assert_eq!(
        StringBuilderPool::with_limits(64, 1024, 0).err(),
        Some(ConfigError::ZeroMaxIdle),
        "a pool that may keep no idle string could never serve a hit, so max_idle 0 must be \
         refused with ZeroMaxIdle"
    );
}

#[test]
fn with_limits_reports_the_first_problem_in_the_documented_order() {
    assert_eq!(
        StringBuilderPool::with_limits(usize::MAX, 0, 0).err(),
        Some(ConfigError::InitialCapacityTooLarge {
            initial_capacity: usize::MAX
        }),
        "all three limits are wrong; the initial capacity is checked first"
    );
    assert_eq!(
        StringBuilderPool::with_limits(10, 5, 0).err(),
        Some(ConfigError::RetainedBelowInitial {
            initial_capacity: 10,
            max_retained_capacity: 5
        }),
        "max_retained_capacity and max_idle are both wrong; max_retained_capacity comes first"
    );
}

#[test]
fn the_limits_at_their_edges_are_accepted() {
    for (initial, max_retained, max_idle) in [
        (0, 0, 1),
        (64, 64, 1),
        (isize::MAX as usize, usize::MAX, usize::MAX),
    ] {
        let built = StringBuilderPool::with_limits(initial, max_retained, max_idle);
        assert!(
            built.is_ok(),
            "with_limits({initial}, {max_retained}, {max_idle}) is valid (each limit at its \
             smallest or largest allowed value), and building a pool allocates no string, so it \
             must succeed, but it said {:?}",
            built.err()
        );
    }
    assert!(
        StringBuilderPool::new(isize::MAX as usize).is_ok(),
        "new(isize::MAX) is the largest valid initial capacity: nothing is allocated before the \
         first get, so it must build"
    );
}

#[test]
fn each_config_error_names_what_it_refused() {
    let messages: [(ConfigError, &[&str]); 3] = [
        (
            ConfigError::InitialCapacityTooLarge {
                initial_capacity: 9_223_372_036_854_775_901,
            },
            &["9223372036854775901"],
        ),
        (
            ConfigError::RetainedBelowInitial {
                initial_capacity: 4096,
                max_retained_capacity: 512,
            },
            &["4096", "512"],
        ),
        (ConfigError::ZeroMaxIdle, &["max_idle", "0"]),
    ];
    let mut seen = HashSet::new();
    for (error, expected) in messages {
        let error: Box<dyn std::error::Error> = Box::new(error);
        let message = error.to_string();
        for part in expected {
            assert!(
                message.contains(part),
                "the message {message:?} should contain {part:?}: each message names the setting \
                 or the numbers it refused, so the user knows what to change"
            );
        }
        assert!(
            seen.insert(message.clone()),
            "two errors print the same message {message:?}; each must say what is wrong"
        );
    }
}

// ---------------------------------------------------------------- get and return

#[test]
fn a_new_pool_is_empty_and_its_hit_rate_is_zero() {
    let pool = default_pool(64);
    let stats = pool.stats();
    assert_eq!(
        stats,
        StringPoolStats {
            gets: 0,
            hits: 0,
            misses: 0,
            returned: 0,
            discarded_oversized: 0,
            discarded_full: 0,
            idle: 0
        },
        "nothing has happened yet"
    );
    assert_eq!(
        stats.hit_rate(),
        0.0,
        "before the first get there is no rate to compute: hit_rate must be 0.0, not NaN \
         (0 hits / 0 gets)"
    );
}

#[test]
fn get_hands_out_an_empty_string_with_at_least_the_initial_capacity() {
    let pool = default_pool(1000);
    let s = pool.get();
    assert!(s.is_empty(), "a new string holds no text, but got {:?}", *s);
    assert!(
        s.capacity() >= 1000,
        "the pool was built with initial_capacity 1000, so every string must have room for \
         1000 bytes, but this one has {}",
        s.capacity()
    );
    let stats = pool.stats();
    assert_eq!(
        (stats.gets, stats.hits, stats.misses),
        (1, 0, 1),
        "the first get finds nothing idle: a miss"
    );
}

#[test]
fn an_initial_capacity_of_zero_is_accepted_and_strings_grow_as_they_are_written() {
    let pool = default_pool(0);
    let mut s = pool.get();
    s.push_str("grows on demand");
    let grown = s.capacity();
    drop(s);
    let again = pool.get();
    assert!(
        again.is_empty() && again.capacity() == grown,
        "with initial_capacity 0 the string grew while it was written; handed back, it must be \
         kept as it is (emptied, capacity {grown}), not shrunk, since it is within \
         max_retained_capacity"
    );
}

#[test]
fn a_string_handed_back_is_reused_by_the_next_get() {
    let pool = default_pool(64);
    let first = pool.get();
    let address = first.as_ptr();
    drop(first);
    let again = pool.get();
    assert_eq!(
        again.as_ptr(),
        address,
        "the string dropped a moment ago went back to the pool, so the next get on the same \
         thread must hand out that very string (same buffer), not allocate a new one"
    );
    drop(again);
    let stats = pool.stats();
    assert_eq!(
        (
            stats.gets,
            stats.hits,
            stats.misses,
            stats.returned,
            stats.idle
        ),
        (2, 1, 1, 2, 1),
        "a miss, then a hit; both strings were handed back, and the one string now waits idle"
    );
    assert_eq!(
        stats.hit_rate(),
        0.5,
        "1 hit out of 2 gets is a hit rate of 0.5"
    );
}

#[test]
fn a_string_handed_back_with_text_comes_out_empty_with_its_capacity() {
    let pool = default_pool(64);
    {
        let mut one = pool.get();
        let mut two = pool.get();
        one.push_str("secret");
        two.push_str("password");
    }
    let both = [pool.get(), pool.get()];
    for s in &both {
        assert!(
            s.is_empty(),
            "a string handed back with text came out of get holding {:?}: the pool must empty \
             every string it takes back, so no text leaks from one user to the next",
            s.as_str()
        );
        assert!(
            s.capacity() >= 64,
            "emptying a string must keep its room (capacity {}): that room is what pooling saves",
            s.capacity()
        );
    }
    assert_eq!(
        pool.stats().hits,
        2,
        "both gets reused a string handed back"
    );
}

#[test]
fn many_strings_held_at_once_are_all_different_and_all_come_back() {
    let pool = default_pool(32);
    for round in 0..3 {
        let held: Vec<PooledString<'_>> = (0..20).map(|_| pool.get()).collect();
        let addresses: HashSet<_> = held.iter().map(|s| s.as_ptr()).collect();
        assert_eq!(
            addresses.len(),
            20,
            "round {round}: 20 strings held at once must be 20 different strings; one string \
             handed to two holders lets them overwrite each other's text"
        );
    }
    let stats = pool.stats();
    assert_eq!(
        (
            stats.gets,
            stats.hits,
            stats.misses,
            stats.returned,
            stats.idle
        ),
        (60, 40, 20, 60, 20),
        "60 gets: 20 misses in round 1, then 40 hits; all 60 handed back; 20 strings idle"
    );
}

#[test]
fn a_pooled_string_is_a_string_and_a_fmt_write() {
    let pool = default_pool(16);
    let mut s = pool.get();
    s.push_str("id=");
    write!(s, "{}", 42).expect("writing to a pooled string cannot fail");
    writeln!(s, ", name={:?}", "Ada").expect("writing to a pooled string cannot fail");
    s.write_char('!')
        .expect("writing to a pooled string cannot fail");
    assert_eq!(
        s.as_str(),
        "id=42, name=\"Ada\"\n!",
        "a pooled string dereferences to String, mutably too, and write!/writeln! append to it"
    );
    assert_eq!(s.len(), 19, "the String methods work through the guard");
    assert_eq!(
        format!("[{s}]"),
        "[id=42, name=\"Ada\"\n!]",
        "{{}} of a pooled string prints its text"
    );
    assert_eq!(
        format!("{s:?}"),
        "PooledString(\"id=42, name=\\\"Ada\\\"\\n!\")",
        "{{:?}} of a pooled string shows the string it holds"
    );
}

#[test]
fn a_string_kept_with_into_string_never_returns() {
    let pool = default_pool(64);
    let mut s = pool.get();
    s.push_str("mine now");
    let address = s.as_ptr();
    let kept: String = s.into_string();
    assert_eq!(
        (kept.as_str(), kept.as_ptr()),
        ("mine now", address),
        "into_string hands over the very string, text and buffer, without a copy"
    );
    let stats = pool.stats();
    assert_eq!(
        (stats.gets, stats.returned, stats.idle),
        (1, 0, 0),
        "a string kept with into_string is not handed back: returned and idle stay 0"
    );
    let next = pool.get();
    assert_ne!(
        next.as_ptr(),
        address,
        "the kept string is not in the pool, so the next get must make a new one"
    );
    drop(next);
    assert_eq!(
        (pool.stats().returned, pool.stats().idle),
        (1, 1),
        "only the second string came back"
    );
}

#[test]
fn with_an_initial_capacity_of_zero_a_string_never_written_still_comes_back() {
    let pool = default_pool(0);
    let untouched = pool.get();
    assert_eq!(
        untouched.capacity(),
        0,
        "test setup: with initial_capacity 0 a new string has no buffer"
    );
    drop(untouched);
    let stats = pool.stats();
    assert_eq!(
        (stats.returned, stats.idle),
        (1, 1),
        "a string with no buffer is still a string the pool handed out: dropped, it goes back \
         and counts in returned like any other, or returned no longer reaches gets ({stats:?})"
    );
    let kept = pool.get();
    drop(kept.into_string());
    let stats = pool.stats();
    assert_eq!(
        (stats.gets, stats.hits, stats.returned, stats.idle),
        (2, 1, 1, 0),
        "the next get reuses that string (a hit), and into_string keeps it out of the pool \
         ({stats:?})"
    );
    assert_consistent(stats, "after strings with no buffer");
}

// ---------------------------------------------------------------- capacity rules

#[test]
fn a_string_that_grew_past_max_retained_capacity_is_not_kept() {
    let pool = pool(64, 1024, 8);
    let mut s = pool.get();
    s.push_str(&"x".repeat(5000));
    let address = s.as_ptr();
    drop(s);
    let stats = pool.stats();
    assert_eq!(
        (stats.returned, stats.discarded_oversized, stats.idle),
        (1, 1, 0),
        "the string grew to {} bytes of room, above max_retained_capacity 1024, so the pool \
         must drop it and count it in discarded_oversized: keeping it would pin that memory \
         for as long as the pool lives",
        5000
    );
    let next = pool.get();
    assert!(
        next.as_ptr() != address && next.capacity() < 5000,
        "the oversized string was dropped, so the next get must be a new string of the initial \
         capacity"
    );
}

#[test]
fn a_string_exactly_at_max_retained_capacity_is_kept() {
    let pool = pool(64, 1024, 8);
    let mut s = pool.get();
    with_exact_capacity(&mut s, 1024);
    drop(s);
    let mut s = pool.get();
    assert_eq!(
        (
            pool.stats().discarded_oversized,
            pool.stats().hits,
            s.capacity()
        ),
        (0, 1, 1024),
        "a capacity of exactly max_retained_capacity (1024) is within the limit: the string is \
         kept and reused; only a capacity above it is dropped"
    );
    with_exact_capacity(&mut s, 1025);
    drop(s);
    assert_eq!(
        pool.stats().discarded_oversized,
        1,
        "one byte more (1025) is above max_retained_capacity 1024: dropped"
    );
}

#[test]
fn a_string_shrunk_below_the_initial_capacity_comes_back_with_it() {
    let pool = pool(256, 4096, 8);
    let mut s = pool.get();
    s.push_str("short");
    s.shrink_to_fit();
    assert!(s.capacity() < 256, "test setup: the string was shrunk");
    drop(s);
    let s = pool.get();
    assert!(
        s.capacity() >= 256,
        "a caller shrank a string to 5 bytes before handing it back, and get handed it out with \
         {} bytes of room: get must always hand out at least initial_capacity (256), whatever \
         callers did to the strings they handed back",
        s.capacity()
    );
    assert!(s.is_empty(), "and it must be empty");
    let stats = pool.stats();
    assert_eq!(
        (stats.hits, stats.discarded_oversized, stats.discarded_full),
        (1, 0, 0),
        "a shrunk string is still worth keeping: it is not counted as discarded, and serves \
         the next get (a hit)"
    );
}

#[test]
fn a_pooled_string_never_has_more_room_than_max_retained_capacity() {
    let pool = pool(64, 64, 4);
    let mut s = pool.get();
    with_exact_capacity(&mut s, 40);
    drop(s);
    let s = pool.get();
    assert_eq!(
        pool.stats().hits,
        1,
        "the shrunk string was kept and reused"
    );
    assert!(
        (64..=64).contains(&s.capacity()),
        "a string shrunk to 40 bytes came back from get with {} bytes of room; with \
         initial_capacity and max_retained_capacity both 64 it must have exactly 64: growing it \
         back to the initial capacity must not overshoot what the pool itself would refuse to keep",
        s.capacity()
    );
}

#[test]
fn a_string_handed_back_with_text_after_shrinking_stays_within_max_retained_capacity() {
    let pool = pool(64, 64, 4);
    let mut s = pool.get();
    s.push_str("short text");
    s.shrink_to_fit();
    assert!(s.capacity() < 64, "test setup: the string was shrunk");
    drop(s);
    let s = pool.get();
    assert_eq!(
        pool.stats().hits,
        1,
        "the shrunk string was kept and reused"
    );
    assert!(
        s.is_empty() && s.capacity() == 64,
        "a string shrunk to its 10 bytes of text was handed back, and get handed it out holding \
         {:?} with {} bytes of room; with initial_capacity and max_retained_capacity both 64 it \
         must be empty with exactly 64: the text it held when it came back must not count \
         towards the room it is given",
        s.as_str(),
        s.capacity()
    );
}

#[test]
fn a_small_initial_capacity_is_given_exactly_and_its_strings_are_kept() {
    for initial in 1..=7 {
        let pool = pool(initial, initial, 4);
        drop(pool.get());
        let stats = pool.stats();
        assert_eq!(
            (stats.discarded_oversized, stats.idle),
            (0, 1),
            "with initial_capacity and max_retained_capacity both {initial}, a new string that \
             nobody wrote to was handed back and dropped as oversized: get must make its strings \
             with the room asked for, not more, or a pool whose two limits are equal keeps \
             nothing ({stats:?})"
        );
        let again = pool.get();
        assert!(
            pool.stats().hits == 1 && again.capacity() == initial,
            "initial_capacity {initial}: the string handed back must serve the next get, with \
             {initial} bytes of room, but it has {} ({:?})",
            again.capacity(),
            pool.stats()
        );
    }
}

#[test]
fn new_uses_the_documented_default_limits() {
    assert_eq!(
        (DEFAULT_MAX_RETAINED_CAPACITY, DEFAULT_MAX_IDLE),
        (64 * 1024, 256),
        "the documented defaults"
    );
    let pool = default_pool(1024);
    let mut s = pool.get();
    with_exact_capacity(&mut s, DEFAULT_MAX_RETAINED_CAPACITY);
    drop(s);
    let mut s = pool.get();
    assert_eq!(
        pool.stats().hits,
        1,
        "new keeps strings up to DEFAULT_MAX_RETAINED_CAPACITY (64 KiB)"
    );
    with_exact_capacity(&mut s, DEFAULT_MAX_RETAINED_CAPACITY + 1);
    drop(s);
    assert_eq!(
        pool.stats().discarded_oversized,
        1,
        "new drops strings above DEFAULT_MAX_RETAINED_CAPACITY"
    );

    let large = default_pool(100_000);
    let s = large.get();
    drop(s);
    assert_eq!(
        (large.stats().discarded_oversized, large.stats().idle),
        (0, 1),
        "with an initial capacity above 64 KiB, new's max_retained_capacity is the initial \
         capacity, so a string of that size is kept"
    );
}

// ---------------------------------------------------------------- max_idle

#[test]
fn max_idle_caps_the_idle_strings_and_counts_the_rest_as_discarded_full() {
    let pool = pool(16, 1024, 3);
    let held: Vec<_> = (0..5).map(|_| pool.get()).collect();
    drop(held);
    let stats = pool.stats();
    assert_eq!(
        (stats.returned, stats.idle, stats.discarded_full),
        (5, 3, 2),
        "5 strings handed back into a pool that keeps at most 3: one thread alone may fill \
         max_idle, and the 2 beyond it are dropped and counted in discarded_full"
    );
    assert_consistent(stats, "after max_idle was reached");
}

#[test]
fn with_the_default_limits_one_thread_alone_fills_max_idle() {
    let pool = default_pool(8);
    let held: Vec<_> = (0..DEFAULT_MAX_IDLE + 44).map(|_| pool.get()).collect();
    drop(held);
    let stats = pool.stats();
    assert_eq!(
        (stats.idle, stats.discarded_full),
        (DEFAULT_MAX_IDLE, 44),
        "one thread handed back 300 strings to a pool with the default max_idle (256) that no \
         other thread uses: its own cache and the shared list together keep 256, and the other \
         44 are dropped"
    );
}

#[test]
fn a_pool_with_max_idle_1_keeps_its_string_where_every_thread_can_take_it() {
    let pool = pool(16, 1024, 1);
    // This thread uses the pool first, so it holds its own thread slot (and
    // cache) while the other thread runs: the other thread cannot hand its
    // cache over to this one when it exits.
    drop(pool.get().into_string());
    thread::scope(|s| {
        s.spawn(|| drop(pool.get()));
    });
    assert_eq!(
        pool.stats().idle,
        1,
        "max_idle 1 keeps the one string handed back"
    );
    drop(pool.get());
    assert_eq!(
        pool.stats().hits,
        1,
        "a thread takes at most half of the free places for its own cache; with one place in \
         the whole pool that is none, so the string handed back on the other thread waits in \
         the shared list and serves this thread's get"
    );
}

#[test]
fn the_idle_strings_of_all_threads_together_stay_within_max_idle() {
    let pool = pool(16, 1024, 8);
    let gates = Gates::new(2, 1);
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let _watch = gates.watch();
                let held: Vec<_> = (0..10).map(|_| pool.get()).collect();
                gates.wait(0); // both threads hold 10 before either hands back
                drop(held);
            });
        }
    });
    let stats = pool.stats();
    assert!(
        stats.idle <= 8,
        "two threads handed back 10 strings each to a pool with max_idle 8, and {} are idle: \
         max_idle limits all threads together, not each thread",
        stats.idle
    );
    assert_eq!(
        stats.discarded_full,
        20 - stats.idle as u64,
        "every string handed back is either idle or discarded ({stats:?})"
    );
    assert_consistent(stats, "after two threads handed back");
}

// ---------------------------------------------------------------- threads

#[test]
fn the_pool_is_send_and_sync_and_its_strings_are_send() {
    fn shareable<T: Send + Sync>() {}
    fn movable<T: Send>() {}
    shareable::<StringBuilderPool>();
    movable::<PooledString<'static>>();
    let pool = default_pool(8);
    drop(pool.get());
    assert_eq!(pool.stats().returned, 1, "the pool works");
}

#[test]
fn a_string_dropped_on_another_thread_goes_back_to_the_pool() {
    let pool = default_pool(32);
    let strings: Vec<_> = (0..2).map(|_| pool.get()).collect();
    thread::scope(|s| {
        s.spawn(move || drop(strings));
    });
    let stats = pool.stats();
    assert_eq!(
        (stats.returned, stats.idle),
        (2, 2),
        "a pooled string is Send: dropped on another thread, it still goes back to the pool"
    );
}

#[test]
fn each_thread_gets_back_its_own_string_first() {
    let pool = default_pool(32);
    let gates = Gates::new(2, 3);
    let (both_hold, mine_back, theirs_back) = (0, 1, 2);
    thread::scope(|s| {
        s.spawn(|| {
            let _watch = gates.watch();
            let theirs = pool.get();
            let address = theirs.as_ptr();
            gates.wait(both_hold);
            gates.wait(mine_back); // this test's thread has handed its string back first
            drop(theirs);
            gates.wait(theirs_back);
            assert_eq!(
                pool.get().as_ptr(),
                address,
                "the other thread handed back its string last, and its next get must serve that \
                 very string from its own cache: each thread keeps the strings it hands back"
            );
        });
        let _watch = gates.watch();
        let mine = pool.get();
        let address = mine.as_ptr();
        gates.wait(both_hold);
        drop(mine);
        gates.wait(mine_back);
        gates.wait(theirs_back);
        assert_eq!(
            pool.get().as_ptr(),
            address,
            "this thread's next get must serve the string it handed back itself, from its own \
             cache, even though another thread handed one back after it: a thread's get and \
             return go to its own cache first, with no lock"
        );
    });
}

#[test]
fn strings_beyond_a_threads_own_share_serve_other_threads() {
    let pool = default_pool(32);
    thread::scope(|s| {
        s.spawn(|| {
            drop(
                (0..THREAD_SHARE + 4)
                    .map(|_| pool.get())
                    .collect::<Vec<_>>(),
            )
        });
    });
    assert_eq!(
        pool.stats().idle,
        THREAD_SHARE + 4,
        "the other thread handed back {} strings and exited; all are still idle",
        THREAD_SHARE + 4
    );
    let held: Vec<_> = (0..4).map(|_| pool.get()).collect();
    assert_eq!(
        pool.stats().hits,
        4,
        "a thread keeps at most THREAD_SHARE ({THREAD_SHARE}) strings for itself; the other 4 \
         it handed back went to the shared list, so they must serve this thread's 4 gets"
    );
    drop(held);
}

/// The pool of the test below: a thread-local's destructor can only reach a
/// `'static` pool. One idle string at most, none above 64 bytes.
static EXITING: LazyLock<StringBuilderPool> = LazyLock::new(|| {
    StringBuilderPool::with_limits(32, 64, 1).expect("valid limits: 32 <= 64, and 1 idle string")
});

/// Whether the gets and drops in `OnExit::drop` went through without a panic.
static EXIT_WORKED: AtomicBool = AtomicBool::new(false);

/// Uses the pool from a thread-local's destructor, as a thread exits.
struct OnExit;

impl Drop for OnExit {
    fn drop(&mut self) {
        let worked = catch_unwind(|| {
            let first = EXITING.get(); // the string the thread handed back: a hit
            let second = EXITING.get(); // nothing idle: a miss
            drop(first); // kept: the pool's one place
            drop(second); // no place left: discarded_full
            let mut third = EXITING.get(); // a hit
            third.push_str(&"z".repeat(100)); // past max_retained_capacity: discarded_oversized
        });
        EXIT_WORKED.store(worked.is_ok(), Ordering::SeqCst);
    }
}

thread_local! {
    static ON_EXIT: OnExit = const { OnExit };
}

#[test]
fn a_thread_that_is_exiting_can_still_use_the_pool() {
    thread::spawn(|| {
        ON_EXIT.with(|_| {}); // its destructor runs when this thread exits...
        drop(EXITING.get()); // ... after this thread's slot may already be gone
    })
    .join()
    .expect("the thread exits normally");
    assert!(
        EXIT_WORKED.load(Ordering::SeqCst),
        "a get or a drop made while a thread's thread-locals are being destroyed panicked: \
         when the thread has no slot (local() gives None), the pool must still serve it, from \
         the shared list or a new string, and take the string back, counting in the shared \
         counters"
    );
    let stats = EXITING.stats();
    assert_eq!(
        (stats.gets, stats.hits, stats.misses, stats.returned),
        (4, 2, 2, 4),
        "four gets (one by the thread, three as it exited), two of them hits on the one string \
         the pool keeps, and all four strings handed back: what a thread does while it exits \
         counts like anything else ({stats:?})"
    );
    assert_eq!(
        (stats.discarded_full, stats.discarded_oversized, stats.idle),
        (1, 1, 0),
        "as the thread exited, one string came back to a full pool (max_idle 1) and one grown \
         past max_retained_capacity (64): each is dropped and counted ({stats:?})"
    );
    assert_consistent(stats, "after a thread exited");
}

#[test]
fn many_threads_at_once_each_keep_their_own_strings() {
    /// Threads holding a string at once: more than fit in one block of the
    /// pool's directory of thread caches.
    const THREADS: usize = if cfg!(miri) { 20 } else { 40 };
    within(60, "many threads at once", || {
        let pool = pool(32, 1024, 4096);
        let gates = Gates::new(THREADS, 2);
        thread::scope(|s| {
            for _ in 0..THREADS {
                s.spawn(|| {
                    let _watch = gates.watch();
                    let mine = pool.get();
                    let address = mine.as_ptr();
                    gates.wait(0); // every thread holds a string now
                    drop(mine);
                    gates.wait(1); // every thread has handed its string back
                    assert_eq!(
                        pool.get().as_ptr(),
                        address,
                        "{THREADS} threads each handed back one string at the same moment; each \
                         thread's next get must serve its own string from its own cache, however \
                         many threads there are: no two threads may share a cache"
                    );
                });
            }
        });
        let stats = pool.stats();
        assert_eq!(
            (stats.gets, stats.hits, stats.misses, stats.idle),
            (2 * THREADS as u64, THREADS as u64, THREADS as u64, THREADS),
            "each thread: a miss, then a hit on its own string; {THREADS} strings idle"
        );
    });
}

// ---------------------------------------------------------------- panics

/// Text whose `Display` panics halfway through.
struct Faulty;

impl fmt::Display for Faulty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("half written")?;
        panic!("Display panics on purpose")
    }
}

#[test]
fn a_panic_while_writing_hands_the_string_back_emptied() {
    let pool = default_pool(64);
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let mut s = pool.get();
        write!(s, "{Faulty}").expect("unreachable: Faulty panics first");
    }));
    assert!(outcome.is_err(), "the panic reaches the caller");
    let stats = pool.stats();
    assert_eq!(
        (stats.returned, stats.idle),
        (1, 1),
        "a panic while the string was held drops the guard as the stack unwinds, and the string \
         goes back to the pool like any other"
    );
    let s = pool.get();
    assert!(
        s.is_empty(),
        "the string half written before the panic must come out empty, got {:?}",
        s.as_str()
    );
    assert_consistent(pool.stats(), "after a panic while writing");
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri stops at huge allocations instead of failing them"
)]
fn a_get_that_cannot_allocate_panics_without_counting_and_the_pool_stays_usable() {
    let pool = StringBuilderPool::new(1 << 60)
        .expect("2^60 bytes fits in isize::MAX: the constructor accepts it");
    let outcome = catch_unwind(AssertUnwindSafe(|| pool.get().capacity()));
    assert!(
        outcome.is_err(),
        "no machine can allocate 2^60 bytes; get must report that with a panic the caller can \
         catch (as Vec::with_capacity reports a capacity overflow), never abort the process"
    );
    let payload = outcome.expect_err("checked above");
    let message = deadline::panic_message(&*payload);
    for part in ["initial_capacity", "1152921504606846976"] {
        assert!(
            message.contains(part),
            "the panic message {message:?} should contain {part:?}: it must name the setting \
             (initial_capacity) and its value, so the user knows which limit to lower"
        );
    }
    let stats = pool.stats();
    assert_eq!(
        (stats.gets, stats.misses),
        (0, 0),
        "a get that panicked handed nothing out, so it counts neither as a get nor as a miss"
    );
    assert_consistent(stats, "after a failed allocation");
}

// ---------------------------------------------------------------- stress

/// Uses of the pool per thread in the stress test; Miri runs far fewer.
const USES: usize = if cfg!(miri) { 200 } else { 10_000 };

/// The buffers held right now, by address: no buffer may be held twice.
static HELD: LazyLock<Mutex<HashSet<usize>>> = LazyLock::new(Mutex::default);

/// Strings the stress test grew past max_retained_capacity before handing back.
static GROWN: AtomicU64 = AtomicU64::new(0);

/// Gets a string and checks that it is empty, big enough, and held by nobody else.
fn take(pool: &StringBuilderPool) -> PooledString<'_> {
    let s = pool.get();
    assert!(
        s.is_empty() && s.capacity() >= 64,
        "get must hand out an empty string with at least the initial capacity (64), got {:?} \
         with {} bytes of room",
        s.as_str(),
        s.capacity()
    );
    let address = s.as_ptr() as usize;
    let fresh = HELD
        .lock()
        .expect("no panic with the lock held")
        .insert(address);
    assert!(
        fresh,
        "the string at {address:#x} was handed to a second holder while the first still had it: \
         a pool must never lend one string twice"
    );
    s
}

/// Marks a string as no longer held, then hands it back: with some text, or
/// grown past max_retained_capacity.
fn give_back(mut s: PooledString<'_>, grow: bool) {
    let address = s.as_ptr() as usize;
    HELD.lock()
        .expect("no panic with the lock held")
        .remove(&address);
    if grow {
        s.push_str(&"y".repeat(600)); // past max_retained_capacity 512
        GROWN.fetch_add(1, Ordering::SeqCst);
    } else {
        s.push_str("some text");
    }
    drop(s);
}

#[test]
fn two_threads_hammering_the_pool_lose_no_string_and_lend_none_twice() {
    within(120, "the two-thread stress test", || {
        let pool = pool(64, 512, 16);
        let (to_consumer, from_producer) = mpsc::sync_channel::<PooledString<'_>>(8);
        thread::scope(|s| {
            // The producer gets strings and sends every other one to the
            // consumer, which hands it back there: the consumer's cache fills
            // up, the producer's empties, and the producer's gets must find
            // the shared list.
            let pool = &pool;
            s.spawn(move || {
                for i in 0..USES {
                    let string = take(pool);
                    if i % 2 == 0 {
                        to_consumer.send(string).expect("the consumer is alive");
                    } else {
                        give_back(string, i % 97 == 1);
                    }
                }
            });
            s.spawn(move || {
                for i in 0..USES {
                    give_back(take(pool), i % 89 == 0);
                    while let Ok(sent) = from_producer.try_recv() {
                        give_back(sent, false);
                    }
                }
                for sent in from_producer {
                    give_back(sent, false);
                }
            });
        });
        let stats = pool.stats();
        assert_consistent(stats, "after the stress test");
        assert_eq!(
            stats.gets,
            2 * USES as u64,
            "two threads made {USES} gets each"
        );
        assert_eq!(
            stats.returned, stats.gets,
            "every string got was handed back, so returned must equal gets ({stats:?})"
        );
        assert!(
            stats.idle <= 16,
            "{} strings are idle, more than max_idle 16 allows",
            stats.idle
        );
        assert_eq!(
            stats.discarded_oversized,
            GROWN.load(Ordering::SeqCst),
            "every string grown past max_retained_capacity, and only those, must be dropped and \
             counted in discarded_oversized ({stats:?})"
        );
        assert!(
            stats.hits >= USES as u64,
            "only {} of {} gets were hits: with strings handed back all the time, most gets must \
             find one, in the thread's own cache or in the shared list",
            stats.hits,
            stats.gets
        );
    });
}

#[test]
fn stats_can_be_read_while_other_threads_use_the_pool() {
    /// Strings each busy thread passes to the other; Miri runs far fewer.
    const ROUNDS: usize = if cfg!(miri) { 50 } else { 200_000 };
    /// Threads that only hold a thread slot, so that the two busy threads'
    /// counters are far apart and `stats` takes a while to get from one to
    /// the other.
    const BETWEEN: usize = if cfg!(miri) { 2 } else { 60 };
    within(60, "reading stats while two threads use the pool", || {
        // max_idle 1 leaves no thread a place of its own: every string goes
        // through the shared list. One thread gets strings and sends them to
        // the other, which hands them back; then the other way round.
        let pool = pool(16, 1024, 1);
        let running = AtomicUsize::new(2);
        let hold = RwLock::new(());
        let (ready, arrived) = mpsc::channel();
        let (to_second, from_first) = mpsc::sync_channel::<PooledString<'_>>(16);
        let (to_first, from_second) = mpsc::sync_channel::<PooledString<'_>>(16);
        let start = |ready: mpsc::Sender<()>| {
            drop(pool.get()); // takes a thread slot
            ready.send(()).expect("the test thread is waiting");
            drop(hold.read());
        };
        let (pool, running, start) = (&pool, &running, &start);
        thread::scope(|s| {
            let held = hold.write().expect("no thread has panicked yet");
            let first_ready = ready.clone();
            s.spawn(move || {
                start(first_ready);
                for _ in 0..ROUNDS {
                    to_second
                        .send(pool.get())
                        .expect("the second thread is alive");
                }
                drop(to_second);
                from_second.iter().for_each(drop);
                running.fetch_sub(1, Ordering::SeqCst);
            });
            arrived
                .recv()
                .expect("the first busy thread has used the pool");
            for _ in 0..BETWEEN {
                let ready = ready.clone();
                s.spawn(move || start(ready));
            }
            for _ in 0..BETWEEN {
                arrived
                    .recv()
                    .expect("every thread in between has used the pool");
            }
            let second_ready = ready.clone();
            s.spawn(move || {
                start(second_ready);
                from_first.iter().for_each(drop);
                for _ in 0..ROUNDS {
                    to_first
                        .send(pool.get())
                        .expect("the first thread is alive");
                }
                drop(to_first);
                running.fetch_sub(1, Ordering::SeqCst);
            });
            arrived
                .recv()
                .expect("the second busy thread has used the pool");
            drop(held);
            while running.load(Ordering::SeqCst) > 0 {
                let read = catch_unwind(AssertUnwindSafe(|| pool.stats()));
                read.expect(
                    "stats() panicked while two other threads were getting and handing back \
                     strings: it sums counters that other threads are changing, so the sum may \
                     be a moment old and its parts from slightly different moments, and stats \
                     must still return (an idle count a moment off, never a panic)",
                );
            }
        });
        assert_consistent(pool.stats(), "after the threads are done");
    });
}

#[test]
fn the_pool_can_be_debug_printed() {
    let pool = pool(48, 4096, 7);
    drop(pool.get());
    let debug = format!("{pool:?}");
    for part in ["StringBuilderPool", "48", "4096", "7", "idle: 1"] {
        assert!(
            debug.contains(part),
            "{{:?}} of a pool should name it, show its limits and its counters (missing \
             {part:?}), but it printed {debug:?}"
        );
    }
}
