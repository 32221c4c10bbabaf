//! Chapter 04 tests. The very same file runs against your exercise
//! (`cargo run -- check 04`) and against the reference solution (`cargo test`).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, OnceLock, mpsc};
use std::thread;

use deadline::within;
use pool_allocator::{ConfigError, PoolAllocator, PoolBuilder, PoolStats, Pooled};

// ---------------------------------------------------------------- helpers

/// What the objects of one pool have been through, shared with its factory.
#[derive(Default)]
struct Census {
    /// Objects made so far; also the next object's id.
    made: AtomicU64,
    /// Objects dropped so far.
    dropped: AtomicU64,
}

impl Census {
    fn alive(&self) -> u64 {
        self.made.load(Ordering::SeqCst) - self.dropped.load(Ordering::SeqCst)
    }
}

/// A pooled object with a unique id, that knows when it is held and dropped.
struct Tracked {
    id: u64,
    /// Data a user leaves in it; `reset` must clear it.
    data: Vec<u8>,
    /// Set while a holder has it, to catch two holders at once.
    held: AtomicBool,
    census: Arc<Census>,
}

impl Tracked {
    fn new(census: &Arc<Census>) -> Self {
        Tracked {
            id: census.made.fetch_add(1, Ordering::SeqCst),
            data: Vec::new(),
            held: AtomicBool::new(false),
            census: Arc::clone(census),
        }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.census.dropped.fetch_add(1, Ordering::SeqCst);
    }
}

/// A pool of `Tracked` objects with the default limits, and its census.
fn tracked_pool() -> (PoolAllocator<Tracked>, Arc<Census>) {
    let census = Arc::new(Census::default());
    let made_by = Arc::clone(&census);
    (PoolAllocator::new(move || Tracked::new(&made_by)), census)
}

/// A builder of `Tracked` objects, and its census.
fn tracked_builder() -> (PoolBuilder<Tracked>, Arc<Census>) {
    let census = Arc::new(Census::default());
    let made_by = Arc::clone(&census);
    (
        PoolAllocator::builder(move || Tracked::new(&made_by)),
        census,
    )
}

/// Builds a pool the test needs, with a message that says why it must work.
fn build<T: Send>(builder: PoolBuilder<T>, what: &str) -> PoolAllocator<T> {
    builder.build().unwrap_or_else(|err| {
        panic!("building {what} must succeed: its max_idle is at least 1, but build said {err:?}")
    })
}

/// Checks the equations every pool keeps, whatever happened.
fn assert_consistent(stats: PoolStats, when: &str) {
    assert_eq!(
        stats.gets,
        stats.hits + stats.misses,
        "{when}: every get is either a hit or a miss, so gets must equal hits + misses \
         ({stats:?})"
    );
}

// ---------------------------------------------------------------- bad input

#[test]
fn build_rejects_a_max_idle_of_zero() {
    let built = PoolAllocator::builder(|| 0_u8).max_idle(0).build();
    assert_eq!(
        built.err(),
        Some(ConfigError::ZeroMaxIdle),
        "a pool that may keep no idle object could never serve a hit, so max_idle(0) must be \
         refused with ConfigError::ZeroMaxIdle"
    );
}

#[test]
fn the_config_error_explains_itself() {
    let error: Box<dyn std::error::Error> = Box::new(ConfigError::ZeroMaxIdle);
    let message = error.to_string();
    assert!(
        message.contains("max_idle") && message.contains('0'),
        "the message {message:?} should name the setting (max_idle) and the value refused (0), \
         so the user knows what to change"
    );
}

#[test]
fn the_smallest_limit_is_accepted() {
    let pool = build(
        PoolAllocator::builder(|| 0_u8).max_idle(1),
        "a pool with max_idle(1)",
    );
    drop(pool.get());
    assert_eq!(
        pool.stats().idle,
        1,
        "max_idle(1) keeps one idle object: the one just handed back"
    );
}

// ---------------------------------------------------------------- get and put

#[test]
fn a_new_pool_is_empty_and_its_hit_rate_is_zero() {
    let (pool, census) = tracked_pool();
    let stats = pool.stats();
    assert_eq!(
        stats,
        PoolStats {
            gets: 0,
            hits: 0,
            misses: 0,
            puts: 0,
            discarded: 0,
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
    assert_eq!(
        census.made.load(Ordering::SeqCst),
        0,
        "a pool makes objects when they are asked for, not in advance"
    );
}

#[test]
fn get_calls_the_factory_when_the_pool_is_empty() {
    let (pool, census) = tracked_pool();
    let first = pool.get();
    let second = pool.get();
    assert_ne!(
        first.id, second.id,
        "two objects held at once must be two different objects"
    );
    assert_eq!(
        census.made.load(Ordering::SeqCst),
        2,
        "the pool had nothing idle, so each get had to call the factory"
    );
    let stats = pool.stats();
    assert_eq!(
        (stats.gets, stats.hits, stats.misses),
        (2, 0, 2),
        "two gets, both misses"
    );
}

#[test]
fn an_object_handed_back_is_reused_by_the_next_get() {
    let (pool, census) = tracked_pool();
    let id = pool.get().id;
    let again = pool.get().id;
    assert_eq!(
        again, id,
        "the object dropped by the first guard went back to the pool, so the next get on the \
         same thread must hand out that very object"
    );
    assert_eq!(
        census.made.load(Ordering::SeqCst),
        1,
        "one object served both gets"
    );
    let stats = pool.stats();
    assert_eq!(
        (stats.gets, stats.hits, stats.misses, stats.puts, stats.idle),
        (2, 1, 1, 2, 1),
        "a miss, then a hit; both guards were handed back, and the object now waits idle"
    );
    assert_eq!(
        stats.hit_rate(),
        0.5,
        "1 hit out of 2 gets is a hit rate of 0.5"
    );
}

#[test]
fn the_guard_gives_access_to_the_object() {
    let pool = PoolAllocator::new(|| vec![1_u8, 2, 3]);
    let mut guard: Pooled<'_, Vec<u8>> = pool.get();
    guard.push(4);
    assert_eq!(
        *guard,
        [1, 2, 3, 4],
        "a guard dereferences to the object, mutably too"
    );
    let other = pool.get();
    assert_eq!(
        *other,
        [1, 2, 3],
        "the second object is a new one from the factory: the first is still held"
    );
}

#[test]
fn many_objects_held_at_once_are_all_different_and_all_come_back() {
    let (pool, census) = tracked_pool();
    for round in 0..3 {
        let held: Vec<_> = (0..20).map(|_| pool.get()).collect();
        let mut ids: Vec<u64> = held.iter().map(|g| g.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(
            ids.len(),
            20,
            "round {round}: 20 guards held at once must hold 20 different objects; one object \
             handed to two holders lets them overwrite each other's data"
        );
    }
    assert_eq!(
        census.made.load(Ordering::SeqCst),
        20,
        "rounds 2 and 3 find the 20 objects of round 1 in the pool, so no more are made"
    );
    let stats = pool.stats();
    assert_eq!(
        (stats.gets, stats.hits, stats.misses, stats.puts, stats.idle),
        (60, 40, 20, 60, 20),
        "60 gets: 20 misses in round 1, then 40 hits; all 60 handed back; 20 objects idle"
    );
}

#[test]
fn put_hands_in_an_object_made_elsewhere() {
    let (pool, census) = tracked_pool();
    let outsider = Tracked::new(&census);
    let id = outsider.id;
    pool.put(outsider);
    assert_eq!(
        (pool.stats().puts, pool.stats().idle),
        (1, 1),
        "put counts as a hand-back and the object waits in the pool"
    );
    let guard = pool.get();
    assert_eq!(
        guard.id, id,
        "the object given to put must serve the next get"
    );
    drop(guard);
    let stats = pool.stats();
    assert_eq!(
        (stats.gets, stats.hits, stats.misses, stats.puts),
        (1, 1, 0, 2),
        "the get was a hit; put and the dropped guard are two hand-backs"
    );
}

#[test]
fn an_object_kept_with_into_inner_never_returns() {
    let (pool, census) = tracked_pool();
    let kept = pool.get().into_inner();
    let first = pool.get(); // nothing idle: a new object
    let second = pool.get();
    let kept_again = second.into_inner(); // one that did not come from a thread's first place
    drop(first);
    assert_ne!(
        kept.id, kept_again.id,
        "the object kept with into_inner was not in the pool, so the later gets made new ones"
    );
    let stats = pool.stats();
    assert_eq!(
        (stats.gets, stats.misses, stats.puts, stats.idle),
        (3, 3, 1, 1),
        "three gets, all misses; two objects were kept with into_inner, so only one was handed \
         back and waits idle"
    );
    assert_eq!(
        census.alive(),
        3,
        "into_inner gives the object to the caller: it must not be dropped"
    );
    drop((kept, kept_again));
    assert_eq!(census.alive(), 1, "only the idle object is left");
}

#[test]
fn an_object_in_use_is_not_idle() {
    let (pool, _census) = tracked_pool();
    drop(pool.get()); // one idle object, cached for this thread
    let held = pool.get();
    assert_eq!(
        pool.stats().idle,
        0,
        "the pool's only object is in use, so none is idle: idle counts objects waiting in the \
         pool, never one lent out"
    );
    drop(held);
    assert_eq!(pool.stats().idle, 1, "handed back, it is idle again");
}

#[test]
fn an_object_kept_with_into_inner_gives_its_place_to_the_next_one() {
    let (builder, _census) = tracked_builder();
    let pool = build(builder.max_idle(1), "a pool with max_idle(1)");
    drop(pool.get()); // idle, in this thread's one place
    let kept = pool.get().into_inner(); // the same object, out of the pool for good
    drop(pool.get()); // a new object, handed back
    let stats = pool.stats();
    assert_eq!(
        (stats.idle, stats.discarded),
        (1, 0),
        "with max_idle(1), the object kept with into_inner left its place free, so the next \
         object handed back must be kept there, not discarded ({stats:?})"
    );
    drop(kept);
}

#[test]
fn a_get_prefers_fresh_objects_to_victims() {
    let (pool, census) = tracked_pool();
    let three: Vec<_> = (0..3).map(|_| pool.get()).collect();
    drop(three); // idle in this thread's cache
    pool.age(); // ... and now all victims
    let from_the_slot = pool.get();
    let from_the_victims = pool.get();
    let fresh = Tracked::new(&census);
    let fresh_id = fresh.id;
    pool.put(fresh); // the only fresh object, beside one victim
    let next = pool.get();
    assert_eq!(
        next.id, fresh_id,
        "this thread has a fresh object and a victim idle, and get took the victim: victims are \
         the surplus the next age() drops, so serving fresh objects first lets the pool shrink \
         to what is used"
    );
    drop((from_the_slot, from_the_victims, next));
}

#[test]
fn reset_runs_on_every_object_handed_back() {
    let pool = build(
        PoolAllocator::builder(Vec::<u8>::new).reset(|v| v.clear()),
        "a pool of Vec<u8> that clears them",
    );
    {
        let mut one = pool.get();
        let mut two = pool.get();
        one.extend_from_slice(b"secret");
        two.extend_from_slice(b"password");
    }
    for _ in 0..2 {
        pool.get().extend_from_slice(b"more");
    }
    pool.put(b"handed in".to_vec());
    let all: Vec<_> = (0..3).map(|_| pool.get()).collect();
    for v in &all {
        assert!(
            v.is_empty(),
            "a Vec handed back with data came out of get holding {v:?}: reset must run on \
             every object handed back (a guard dropped, or put), so no caller can forget it and \
             no data leaks from one user to the next"
        );
    }
    assert!(
        all.iter().any(|v| v.capacity() >= 9),
        "reset cleared the vectors, but the pool must still hand back the same vectors, with \
         their capacity: that is what pooling saves"
    );
}

#[test]
fn a_pool_without_reset_hands_objects_back_unchanged() {
    let pool = PoolAllocator::new(|| 0_u32);
    *pool.get() = 7;
    assert_eq!(
        *pool.get(),
        7,
        "with no reset function, the pool keeps the object exactly as it was handed back"
    );
}

// ---------------------------------------------------------------- limits

#[test]
fn max_idle_caps_the_idle_objects_and_counts_the_rest_as_discarded() {
    let (builder, census) = tracked_builder();
    let pool = build(builder.max_idle(3), "a pool with max_idle(3)");
    let held: Vec<_> = (0..5).map(|_| pool.get()).collect();
    drop(held);
    let stats = pool.stats();
    assert_eq!(
        (stats.puts, stats.idle, stats.discarded),
        (5, 3, 2),
        "5 objects handed back into a pool that keeps at most 3: 3 are kept, 2 are dropped and \
         counted in discarded"
    );
    assert_eq!(
        census.alive(),
        3,
        "the 2 discarded objects must really be dropped, not kept somewhere uncounted"
    );
}

#[test]
fn with_the_default_limits_a_thread_keeps_at_least_64_objects() {
    let (pool, _census) = tracked_pool();
    let held: Vec<_> = (0..64).map(|_| pool.get()).collect();
    drop(held);
    let stats = pool.stats();
    assert_eq!(
        (stats.idle, stats.discarded),
        (64, 0),
        "the default limits keep at least 64 objects handed back by one thread"
    );
}

#[test]
fn the_idle_objects_of_all_threads_together_stay_within_max_idle() {
    let (builder, census) = tracked_builder();
    let pool = build(builder.max_idle(8), "a pool with max_idle(8)");
    let both_hold = Barrier::new(2);
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let held: Vec<_> = (0..10).map(|_| pool.get()).collect();
                both_hold.wait(); // both threads hold 10 before either hands back
                drop(held);
            });
        }
    });
    let stats = pool.stats();
    assert!(
        stats.idle <= 8,
        "two threads handed back 10 objects each to a pool with max_idle(8), and {} are idle: \
         max_idle limits all threads together, not each thread",
        stats.idle
    );
    assert_eq!(
        stats.discarded,
        20 - stats.idle as u64,
        "every object handed back is either idle or discarded ({stats:?})"
    );
    assert_eq!(
        census.alive(),
        stats.idle as u64,
        "objects counted as discarded must be dropped; the idle ones must be alive"
    );
}

#[test]
fn one_thread_alone_can_fill_max_idle() {
    let (builder, census) = tracked_builder();
    let pool = build(builder.max_idle(100), "a pool with max_idle(100)");
    drop((0..150).map(|_| pool.get()).collect::<Vec<_>>());
    let stats = pool.stats();
    assert_eq!(
        (stats.idle, stats.discarded),
        (100, 50),
        "one thread handed back 150 objects to a pool with max_idle(100) that no other thread \
         uses: it may keep all 100 (its share grows as it fills), and must drop the other 50"
    );
    assert_eq!(census.alive(), 100, "the 50 discarded objects are dropped");
}

#[test]
fn a_thread_that_finds_max_idle_taken_keeps_its_objects_in_another_threads_spare_room() {
    let (builder, census) = tracked_builder();
    let pool = build(builder.max_idle(4), "a pool with max_idle(4)");
    drop(pool.get()); // this thread hands back first: its cache may take all 4 places
    thread::scope(|s| {
        s.spawn(|| drop((0..3).map(|_| pool.get()).collect::<Vec<_>>()));
    });
    let stats = pool.stats();
    assert_eq!(
        (stats.idle, stats.discarded),
        (3, 0),
        "max_idle(4) has room for the 3 objects the other thread handed back: even if this \
         thread's cache holds all 4 places, the other thread must use the spare ones instead of \
         dropping its objects ({stats:?})"
    );
    assert_eq!(
        census.alive(),
        3,
        "the 3 idle objects are alive, none was dropped"
    );
}

// ---------------------------------------------------------------- age and clear

#[test]
fn age_makes_idle_objects_victims_that_get_still_serves() {
    let (pool, _census) = tracked_pool();
    let ids: Vec<u64> = {
        let held: Vec<_> = (0..3).map(|_| pool.get()).collect();
        held.iter().map(|g| g.id).collect()
    };
    pool.age();
    assert_eq!(
        (pool.stats().idle, pool.stats().discarded),
        (3, 0),
        "the first age() after a hand-back drops nothing: the 3 idle objects become victims, \
         still in the pool"
    );
    let guard = pool.get();
    assert!(
        ids.contains(&guard.id),
        "a victim must still be served by get, and count as a hit"
    );
    assert_eq!(pool.stats().hits, 1, "serving a victim is a hit");
}

#[test]
fn two_ages_with_no_get_between_them_empty_the_pool() {
    let (pool, census) = tracked_pool();
    drop((0..4).map(|_| pool.get()).collect::<Vec<_>>());
    pool.age();
    pool.age();
    let stats = pool.stats();
    assert_eq!(
        (stats.idle, stats.discarded),
        (0, 4),
        "objects idle since the previous age() are dropped by the next one: after two ages \
         with no get, all 4 are gone and counted in discarded"
    );
    assert_eq!(census.alive(), 0, "aged-out objects must really be dropped");
}

#[test]
fn age_drops_only_the_objects_idle_since_the_previous_age() {
    let (pool, _census) = tracked_pool();
    let old = pool.get();
    let old_id = old.id;
    drop(old);
    pool.age(); // the old object is now a victim
    let held: Vec<_> = (0..2).map(|_| pool.get()).collect(); // the victim and a new one
    drop(held); // both handed back after the age: fresh
    pool.age();
    assert_eq!(
        (pool.stats().idle, pool.stats().discarded),
        (2, 0),
        "both objects were handed back after the first age(), so the second one only makes \
         them victims"
    );
    let serves_old = pool.get().id == old_id || pool.get().id == old_id;
    assert!(
        serves_old,
        "a get that takes a victim saves it: the object first aged must still be in the pool"
    );
}

#[test]
fn age_leaves_an_object_in_use_alone() {
    let (pool, census) = tracked_pool();
    drop(pool.get()); // idle in this thread's slot
    let held = pool.get(); // lent in place
    pool.age();
    pool.age();
    let other = pool.get();
    assert_ne!(
        other.id, held.id,
        "an object in use was handed out again after age(): age must leave lent objects alone"
    );
    assert_eq!(
        census.dropped.load(Ordering::SeqCst),
        0,
        "age dropped an object in use"
    );
    drop((held, other));
    assert_eq!(
        pool.stats().idle,
        2,
        "both objects are idle once handed back"
    );
}

#[test]
fn clear_drops_every_idle_object_but_not_the_ones_in_use() {
    let (pool, census) = tracked_pool();
    let in_use = pool.get();
    drop((0..3).map(|_| pool.get()).collect::<Vec<_>>());
    pool.age(); // victims are idle too
    drop(pool.get());
    pool.clear();
    let stats = pool.stats();
    assert_eq!(
        (stats.idle, stats.discarded),
        (0, 3),
        "clear drops every idle object, victims included, and counts each in discarded"
    );
    assert_eq!(census.alive(), 1, "only the object in use survives a clear");
    let id = in_use.id;
    drop(in_use);
    assert_eq!(
        pool.get().id,
        id,
        "an object in use during clear goes back to the pool as usual"
    );
}

#[test]
fn dropping_the_pool_drops_every_idle_object() {
    let (pool, census) = tracked_pool();
    drop((0..5).map(|_| pool.get()).collect::<Vec<_>>());
    thread::scope(|s| {
        s.spawn(|| drop((0..3).map(|_| pool.get()).collect::<Vec<_>>()));
    });
    assert_eq!(
        census.alive(),
        5,
        "5 objects idle (3 were reused by the other thread)"
    );
    drop(pool);
    assert_eq!(
        census.alive(),
        0,
        "dropping the pool must drop every idle object, including those cached for a thread \
         that has exited; nothing may linger in a thread-local after its pool is gone"
    );
}

// ---------------------------------------------------------------- threads

#[test]
fn the_pool_is_shared_by_reference_between_threads() {
    fn shared_between_threads<T: Send + Sync>() {}
    shared_between_threads::<PoolAllocator<Vec<u8>>>();
    fn sent_to_another_thread<T: Send>() {}
    sent_to_another_thread::<Pooled<'static, Vec<u8>>>();

    let pool = PoolAllocator::new(|| 0_u64);
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..10 {
                    *pool.get() += 1;
                }
            });
        }
    });
    let stats = pool.stats();
    assert_consistent(stats, "after two threads");
    assert_eq!(
        (stats.gets, stats.puts),
        (20, 20),
        "two threads made 10 get/drop pairs each, and the pool's counters sum every thread's"
    );
}

#[test]
fn an_object_handed_back_on_one_thread_is_a_hit_on_another() {
    let (pool, census) = tracked_pool();
    drop((0..3).map(|_| pool.get()).collect::<Vec<_>>()); // cached for this thread
    thread::scope(|s| {
        s.spawn(|| {
            let held: Vec<_> = (0..3).map(|_| pool.get()).collect();
            assert_eq!(held.len(), 3, "the other thread got its objects");
        });
    });
    let stats = pool.stats();
    assert_eq!(
        (stats.hits, stats.misses),
        (3, 3),
        "the other thread's 3 gets must be hits: a thread whose own cache is empty takes the \
         objects another thread cached before calling the factory"
    );
    assert_eq!(
        census.made.load(Ordering::SeqCst),
        3,
        "no new object was made"
    );
}

#[test]
fn each_thread_gets_back_its_own_object_before_another_threads() {
    let (pool, _census) = tracked_pool();
    let (both_hold, mine_back, theirs_back) = (Barrier::new(2), Barrier::new(2), Barrier::new(2));
    thread::scope(|s| {
        s.spawn(|| {
            let theirs = pool.get();
            let id = theirs.id;
            both_hold.wait();
            mine_back.wait(); // this test's thread has handed its object back first
            drop(theirs);
            theirs_back.wait();
            assert_eq!(
                pool.get().id,
                id,
                "the other thread handed back its object last, and its next get must serve that \
                 very object from its own cache, not the one this test's thread handed back: \
                 each thread has a cache of its own"
            );
        });
        let mine = pool.get();
        let id = mine.id;
        both_hold.wait();
        drop(mine);
        mine_back.wait();
        theirs_back.wait();
        assert_eq!(
            pool.get().id,
            id,
            "this thread's next get must serve the object it handed back itself, from its own \
             cache, even though another thread handed one back after it"
        );
    });
}

#[test]
fn an_object_in_use_is_never_taken_by_another_thread() {
    let (pool, census) = tracked_pool();
    drop(pool.get()); // one idle object, cached for this thread
    let mut mine = pool.get(); // ... and now in use again
    mine.data.push(1);
    let id = mine.id;
    let theirs = thread::scope(|s| s.spawn(|| pool.get().id).join().expect("no panic"));
    assert_ne!(
        theirs, id,
        "the only pooled object is in use on this thread, so the other thread's get must make a \
         new one: an object in use belongs to its holder until the guard is dropped"
    );
    assert_eq!(
        (mine.id, &mine.data[..]),
        (id, &[1][..]),
        "the object in use must be untouched by the other thread's get"
    );
    drop(mine);
    assert_eq!(census.made.load(Ordering::SeqCst), 2, "one object each");
}

#[test]
fn a_thief_takes_from_the_lists_before_the_slot() {
    let (pool, _census) = tracked_pool();
    let (first, second) = (pool.get(), pool.get());
    let in_list = second.id;
    drop(first); // into this thread's slot
    drop(second); // the slot is taken: into this thread's lists
    let stolen = thread::scope(|s| s.spawn(|| pool.get().id).join().expect("no panic"));
    assert_eq!(
        stolen, in_list,
        "another thread took this thread's slot object although its lists had one: a thief \
         takes from the lists first, since the slot holds the object its owner gets next, on \
         its fast path"
    );
}

#[test]
fn a_slot_emptied_by_a_thief_takes_its_owners_next_object() {
    let (builder, _census) = tracked_builder();
    let pool = build(builder.max_idle(1), "a pool with max_idle(1)");
    drop(pool.get()); // idle, in this thread's one place: its slot
    let stolen = thread::scope(|s| {
        s.spawn(|| pool.get().into_inner())
            .join()
            .expect("no panic")
    });
    assert_eq!(
        pool.stats().hits,
        1,
        "the other thread's get takes the idle object"
    );
    drop(pool.get()); // a new object, handed back
    let stats = pool.stats();
    assert_eq!(
        (stats.idle, stats.discarded),
        (1, 0),
        "the thief emptied this thread's slot, so the next object this thread hands back must be \
         kept there, not discarded: a slot someone took an object from is EMPTY again ({stats:?})"
    );
    drop(stolen);
}

#[test]
fn writes_made_on_another_thread_are_seen_by_the_next_get() {
    within(
        20,
        "waiting for an object handed back on another thread",
        || {
            let (pool, _census) = tracked_pool();
            drop(pool.get()); // idle in this thread's slot
            let lent = pool.get(); // lent in place from this thread's slot
            let id = lent.id;
            thread::scope(|s| {
                s.spawn(move || {
                    let mut lent = lent;
                    lent.data.extend_from_slice(b"written elsewhere");
                }); // the guard is dropped there, with its writes
                // Nothing but the pool orders that thread's writes before this
                // thread's reads (Miri reports a data race if the pool does not).
                loop {
                    let got = pool.get();
                    if got.id == id {
                        assert_eq!(
                            got.data, b"written elsewhere",
                            "the object came back without the data its last holder wrote"
                        );
                        break;
                    }
                    drop(got.into_inner()); // a new object: keep it out, and ask again
                }
            });
        },
    );
}

/// Rounds of the budget race; Miri runs far fewer.
const BUDGET_ROUNDS: usize = if cfg!(miri) { 4 } else { 1_000 };

#[test]
fn two_threads_reserving_the_last_place_at_once_do_not_both_get_it() {
    within(20, "the budget race", || {
        for round in 0..BUDGET_ROUNDS {
            let (builder, _census) = tracked_builder();
            let pool = build(builder.max_idle(1), "a pool with max_idle(1)");
            let ready = AtomicU64::new(0);
            thread::scope(|s| {
                for _ in 0..2 {
                    s.spawn(|| {
                        let object = pool.get();
                        // Both threads hand back at the same moment.
                        ready.fetch_add(1, Ordering::SeqCst);
                        while ready.load(Ordering::SeqCst) < 2 {
                            std::hint::spin_loop();
                        }
                        drop(object);
                    });
                }
            });
            let stats = pool.stats();
            assert!(
                stats.idle <= 1,
                "round {round}: two threads handed back one object each at the same moment to a \
                 pool with max_idle(1), and {} are idle: both took the budget's last place ({stats:?})",
                stats.idle
            );
        }
    });
}

#[test]
fn a_thread_uses_its_own_lists_before_stealing() {
    let (pool, _census) = tracked_pool();
    let (first, second) = (pool.get(), pool.get());
    let own_listed = second.id;
    // Another thread leaves an idle object of its own in the pool.
    thread::scope(|s| s.spawn(|| drop(pool.get())).join().expect("no panic"));
    drop(first); // into this thread's slot
    drop(second); // into this thread's lists
    let from_slot = pool.get();
    let next = pool.get();
    assert_eq!(
        next.id, own_listed,
        "this thread had an idle object in its own lists, but get took another thread's: a \
         thread steals only when its own cache is empty"
    );
    drop((from_slot, next));
}

/// The pool of the thread-local test: a thread-local's destructor can only
/// reach a pool that outlives the thread.
static LATE_POOL: OnceLock<PoolAllocator<Vec<u8>>> = OnceLock::new();

/// Uses `LATE_POOL` when its thread's thread-locals are destroyed.
struct UsesThePoolAtExit;

impl Drop for UsesThePoolAtExit {
    fn drop(&mut self) {
        if let Some(pool) = LATE_POOL.get() {
            let mut buf = pool.get();
            buf.push(1);
            drop(buf);
            pool.put(Vec::new());
        }
    }
}

thread_local! {
    static AT_EXIT: UsesThePoolAtExit = const { UsesThePoolAtExit };
}

#[test]
fn a_thread_whose_thread_locals_are_being_destroyed_can_still_use_the_pool() {
    let pool = LATE_POOL.get_or_init(|| PoolAllocator::new(Vec::new));
    thread::spawn(|| {
        // Registered before the pool's own thread-local, so destroyed after
        // it: the pool then serves a thread that no longer has a slot.
        AT_EXIT.with(|_| {});
        drop(pool.get());
    })
    .join()
    .expect("a thread may use the pool while its thread-locals are destroyed");
    let stats = pool.stats();
    assert_consistent(stats, "after a thread used the pool at exit");
    assert_eq!(
        (stats.gets, stats.puts),
        (2, 3),
        "the get and the two hand-backs made while the thread's thread-locals were destroyed \
         count like any other ({stats:?})"
    );
}

#[test]
fn a_guard_dropped_on_another_thread_goes_back_to_the_pool() {
    let (pool, census) = tracked_pool();
    let guards: Vec<_> = (0..2).map(|_| pool.get()).collect();
    thread::scope(|s| {
        s.spawn(move || drop(guards));
    });
    let stats = pool.stats();
    assert_eq!(
        (stats.puts, stats.idle),
        (2, 2),
        "guards are Send: dropped on another thread, they still go back to the pool"
    );
    drop((pool.get(), pool.get()));
    assert_eq!(
        census.made.load(Ordering::SeqCst),
        2,
        "the two objects handed back on the other thread must serve this thread's gets"
    );
}

#[test]
fn objects_cached_for_a_thread_that_exited_are_not_lost() {
    let (pool, census) = tracked_pool();
    thread::scope(|s| {
        s.spawn(|| drop((0..4).map(|_| pool.get()).collect::<Vec<_>>()));
    });
    assert_eq!(
        pool.stats().idle,
        4,
        "the thread that handed back 4 objects has exited, but its objects are still idle"
    );
    let held: Vec<_> = (0..4).map(|_| pool.get()).collect();
    assert_eq!(
        (pool.stats().hits, census.made.load(Ordering::SeqCst)),
        (4, 4),
        "all 4 objects of the exited thread must serve this thread's gets, as hits"
    );
    drop(held);
}

// ---------------------------------------------------------------- panics

/// An object whose factory and `Drop` look at the pool it belongs to, as a
/// metrics hook might. The pool must never run them while it holds a lock.
struct Nosy;

static NOSY_POOL: OnceLock<PoolAllocator<Nosy>> = OnceLock::new();

/// Reads the pool's statistics, as `Nosy`'s factory, reset and `Drop` do.
fn look_at_the_pool() {
    if let Some(pool) = NOSY_POOL.get() {
        let _ = pool.stats();
    }
}

impl Drop for Nosy {
    fn drop(&mut self) {
        look_at_the_pool();
    }
}

#[test]
fn the_factory_reset_and_drop_may_use_the_pool() {
    within(20, "a pool whose objects use it", || {
        let pool = NOSY_POOL.get_or_init(|| {
            build(
                PoolAllocator::builder(|| {
                    look_at_the_pool();
                    Nosy
                })
                .reset(|_| look_at_the_pool())
                .max_idle(4),
                "a pool with max_idle(4)",
            )
        });
        for _ in 0..2 {
            drop((0..6).map(|_| pool.get()).collect::<Vec<_>>()); // 4 kept, 2 dropped
            pool.age();
            drop(pool.get());
            pool.age();
            pool.age();
            drop((0..3).map(|_| pool.get()).collect::<Vec<_>>());
            pool.clear();
        }
        let stats = pool.stats();
        assert_consistent(stats, "after the factory, reset and Drop used the pool");
        assert_eq!(stats.idle, 0, "clear dropped every idle object");
    });
}

#[test]
fn a_panicking_factory_leaves_the_pool_usable() {
    let fail = Arc::new(AtomicBool::new(false));
    let failing = Arc::clone(&fail);
    let pool = PoolAllocator::new(move || {
        assert!(
            !failing.load(Ordering::SeqCst),
            "the factory panics on purpose"
        );
        String::new()
    });
    let held = pool.get();
    fail.store(true, Ordering::SeqCst);
    let outcome = catch_unwind(AssertUnwindSafe(|| pool.get()));
    assert!(
        outcome.is_err(),
        "the factory's panic must reach the caller of get"
    );
    let stats = pool.stats();
    assert_consistent(stats, "after a panicking factory");
    assert_eq!(
        (stats.gets, stats.misses),
        (1, 1),
        "a get whose factory panicked handed nothing out, so it counts neither as a get nor \
         as a miss"
    );
    fail.store(false, Ordering::SeqCst);
    drop(held);
    drop(pool.get());
    drop(pool.get());
    let stats = pool.stats();
    assert_eq!(
        (stats.gets, stats.hits, stats.puts, stats.idle),
        (3, 2, 3, 1),
        "after the panic the pool works as before: the object handed back serves the next gets"
    );
}

#[test]
fn a_panicking_reset_leaves_the_pool_usable_and_drops_the_object() {
    let (builder, census) = tracked_builder();
    let pool = build(
        builder.reset(|t| {
            assert!(
                t.data != b"poison",
                "reset panics on purpose on a poisoned object (if this panic is what failed the \
                 test, an object whose reset panicked was kept and handed out again)"
            );
            t.data.clear();
        }),
        "a pool whose reset panics on poisoned objects",
    );
    for held_at_once in [1, 3] {
        drop(pool.get()); // an idle object for the next get, so both hand-back paths run
        let mut held: Vec<_> = (0..held_at_once).map(|_| pool.get()).collect();
        held[held_at_once - 1].data = b"poison".to_vec(); // the first object, then the last
        let outcome = catch_unwind(AssertUnwindSafe(|| drop(held)));
        assert!(
            outcome.is_err(),
            "reset's panic must reach the code that handed the object back"
        );
        let stats = pool.stats();
        assert_consistent(stats, "after a panicking reset");
        assert_eq!(
            stats.puts, stats.gets,
            "every object was handed back, even the one whose reset panicked ({stats:?})"
        );
        assert_eq!(
            census.alive(),
            stats.idle as u64,
            "the object whose reset panicked is half reset: it must be dropped, not kept, and \
             every other object handed back must be idle ({stats:?})"
        );
    }
    let stats = pool.stats();
    assert_eq!(
        stats.discarded, 2,
        "each of the two objects whose reset panicked is counted in discarded"
    );
    for _ in 0..2 {
        let mut guard = pool.get();
        guard.data = b"fine".to_vec();
    }
    assert!(
        pool.get().data.is_empty(),
        "after the panics, reset still runs and the pool still serves objects"
    );
    let mut outsider = Tracked::new(&census);
    outsider.data = b"poison".to_vec();
    let outcome = catch_unwind(AssertUnwindSafe(|| pool.put(outsider)));
    assert!(
        outcome.is_err(),
        "put runs reset too, and its panic reaches the caller"
    );
    assert_eq!(
        pool.stats().discarded,
        3,
        "an object given to put whose reset panicked is dropped and counted in discarded"
    );
}

#[test]
fn a_slot_whose_reset_panicked_takes_the_next_object() {
    let (builder, _census) = tracked_builder();
    let pool = build(
        builder.max_idle(1).reset(|t| {
            assert!(
                t.data != b"poison",
                "reset panics on purpose on a poisoned object (if this panic is what failed the \
                 test, an object whose reset panicked was kept and handed out again)"
            );
        }),
        "a pool with max_idle(1) whose reset panics on poisoned objects",
    );
    drop(pool.get()); // idle, in this thread's one place: its slot
    let mut lent = pool.get(); // lent in place
    lent.data = b"poison".to_vec();
    let outcome = catch_unwind(AssertUnwindSafe(|| drop(lent)));
    assert!(
        outcome.is_err(),
        "reset's panic must reach the code that dropped the guard"
    );
    drop(pool.get()); // a new object, handed back
    let stats = pool.stats();
    assert_eq!(
        (stats.idle, stats.discarded),
        (1, 1),
        "the object whose reset panicked was dropped, so its slot is EMPTY and the next object \
         handed back must be kept there, not discarded ({stats:?})"
    );
}

// ---------------------------------------------------------------- stress

/// Get/put pairs per thread in the stress test; Miri runs far fewer.
const PAIRS: usize = if cfg!(miri) { 200 } else { 10_000 };

/// Takes an object from the pool and checks that nobody else holds it.
fn take(pool: &PoolAllocator<Tracked>) -> Pooled<'_, Tracked> {
    let guard = pool.get();
    let held_by_another = guard.held.swap(true, Ordering::SeqCst);
    assert!(
        !held_by_another,
        "object {} was handed to a second holder while the first still had it: a pool must \
         never lend one object twice",
        guard.id
    );
    guard
}

/// Marks an object as no longer held, then hands it back.
fn give_back(guard: Pooled<'_, Tracked>) {
    guard.held.store(false, Ordering::SeqCst);
    drop(guard);
}

/// Rounds of the owner-against-thief race; Miri runs far fewer.
const ROUNDS: usize = if cfg!(miri) { 100 } else { 50_000 };

#[test]
fn the_owner_and_a_thief_never_both_win_one_idle_object() {
    within(20, "the owner-against-thief race", || {
        let (pool, _census) = tracked_pool();
        let thief_is_done = AtomicBool::new(false);
        thread::scope(|s| {
            // The owner hands its object back to its slot and gets it again, over
            // and over; the thief, which never hands anything back, has nothing
            // of its own, so every get it makes tries to take the owner's idle
            // object. Each time exactly one of them may win it.
            s.spawn(|| {
                while !thief_is_done.load(Ordering::SeqCst) {
                    give_back(take(&pool));
                }
            });
            s.spawn(|| {
                for _ in 0..ROUNDS {
                    let stolen = take(&pool).into_inner();
                    stolen.held.store(false, Ordering::SeqCst);
                }
                thief_is_done.store(true, Ordering::SeqCst);
            });
        });
        assert_consistent(pool.stats(), "after the race");
    });
}

#[test]
fn two_threads_hammering_the_pool_lose_no_object_and_lend_none_twice() {
    within(20, "the two-thread stress test", || {
        let (builder, census) = tracked_builder();
        let pool = build(
            builder.max_idle(16).reset(|t| t.data.clear()),
            "a pool with max_idle(16)",
        );
        let (to_consumer, from_producer) = mpsc::sync_channel::<Pooled<'_, Tracked>>(8);
        thread::scope(|s| {
            // The producer gets objects and sends every other one to the consumer,
            // which hands it back there: the consumer's cache fills up, the
            // producer's empties, and the producer must steal to get hits.
            let pool = &pool;
            s.spawn(move || {
                for i in 0..PAIRS {
                    let guard = take(pool);
                    if i % 2 == 0 {
                        to_consumer.send(guard).expect("the consumer is alive");
                    } else {
                        give_back(guard);
                    }
                }
            });
            s.spawn(move || {
                for i in 0..PAIRS {
                    let mut guard = take(pool);
                    guard.data.push(i as u8);
                    give_back(guard);
                    while let Ok(sent) = from_producer.try_recv() {
                        give_back(sent);
                    }
                }
                for sent in from_producer {
                    give_back(sent);
                }
            });
        });
        let stats = pool.stats();
        assert_consistent(stats, "after the stress test");
        assert_eq!(
            stats.gets,
            2 * PAIRS as u64,
            "two threads made {PAIRS} gets each"
        );
        assert_eq!(
            stats.puts, stats.gets,
            "every object got was handed back, so puts must equal gets ({stats:?})"
        );
        assert!(
            stats.idle <= 16,
            "{} objects are idle, more than max_idle(16) allows",
            stats.idle
        );
        assert_eq!(
            census.made.load(Ordering::SeqCst),
            stats.misses,
            "each miss calls the factory once, and only misses do"
        );
        assert_eq!(
            census.alive(),
            stats.idle as u64,
            "every object made is either idle or dropped and counted; an object that is neither \
             was lost ({stats:?})"
        );
        assert_eq!(
            census.dropped.load(Ordering::SeqCst),
            stats.discarded,
            "every object dropped must be counted in discarded"
        );
        assert!(
            stats.hits >= PAIRS as u64,
            "only {} of {} gets were hits: with objects handed back all the time, most gets must \
             find one",
            stats.hits,
            stats.gets
        );
    });
}

#[test]
fn the_pool_can_be_debug_printed() {
    let pool = PoolAllocator::new(|| 0_u8);
    drop(pool.get());
    let debug = format!("{pool:?}");
    assert!(
        debug.contains("PoolAllocator") && debug.contains("idle: 1"),
        "{{:?}} of a pool should name it and show its counters (idle: 1), but it printed \
         {debug:?}"
    );
    let guard = pool.get();
    assert_eq!(
        format!("{guard:?}"),
        "Pooled(0)",
        "{{:?}} of a guard shows the object it holds"
    );
    drop(guard);
    let builder = PoolAllocator::builder(|| 0_u8).max_idle(7);
    assert!(
        format!("{builder:?}").contains('7'),
        "{{:?}} of a builder should show its max_idle"
    );
}
