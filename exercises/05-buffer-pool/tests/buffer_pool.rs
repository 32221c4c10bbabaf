//! Chapter 05 tests. The very same file runs against your exercise
//! (`cargo run -- check 05`) and against the reference solution (`cargo test`).

use std::collections::HashSet;
use std::io::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Barrier, Mutex, OnceLock, mpsc};
use std::thread;

use buffer_pool::{
    BufferPool, BufferPoolBuilder, BufferStats, ClassStats, ConfigError, PooledBuffer,
};
use deadline::within;

// ---------------------------------------------------------------- helpers

/// The classes of `BufferPool::new()`.
const DEFAULT_SIZES: [usize; 11] = [
    64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536,
];

/// Builds a pool the test needs, with a message that says why it must work.
fn build(builder: BufferPoolBuilder, what: &str) -> BufferPool {
    builder.build().unwrap_or_else(|err| {
        panic!(
            "building {what} must succeed: its table and limits are valid, but build said {err:?}"
        )
    })
}

/// A pool with these classes and the default limits.
fn with_sizes(sizes: &[usize]) -> BufferPool {
    BufferPool::with_sizes(sizes).unwrap_or_else(|err| {
        panic!("with_sizes({sizes:?}) must succeed: the sizes are positive and go up, but it said {err:?}")
    })
}

/// The counters of a pool that has done nothing yet.
fn zero_stats() -> BufferStats {
    BufferStats {
        gets: 0,
        hits: 0,
        misses: 0,
        returned: 0,
        dropped_oversized: 0,
        dropped_undersized: 0,
        dropped_full: 0,
        idle_buffers: 0,
        idle_bytes: 0,
    }
}

/// Checks the equations every pool keeps, whatever happened.
fn assert_consistent(pool: &BufferPool, when: &str) {
    let stats = pool.stats();
    assert_eq!(
        stats.gets,
        stats.hits + stats.misses,
        "{when}: every get is either a hit or a miss, so gets must equal hits + misses ({stats:?})"
    );
    let classes = pool.class_stats();
    let idle: usize = classes.iter().map(|c| c.idle).sum();
    assert_eq!(
        idle, stats.idle_buffers,
        "{when}: the idle buffers of all classes must add up to stats().idle_buffers \
         ({classes:?}, {stats:?})"
    );
    let hits: u64 = classes.iter().map(|c| c.hits).sum();
    assert_eq!(
        hits, stats.hits,
        "{when}: every hit is a hit of some class, so the classes' hits must add up to \
         stats().hits ({classes:?}, {stats:?})"
    );
}

/// The `ClassStats` of the class of `size` bytes.
fn class(pool: &BufferPool, size: usize) -> ClassStats {
    pool.class_stats()
        .into_iter()
        .find(|c| c.size == size)
        .unwrap_or_else(|| panic!("class_stats() must list the class of {size} bytes"))
}

/// Hands back `n` buffers of `size` bytes, all held at once first.
fn hand_back(pool: &BufferPool, n: usize, size: usize) {
    let held: Vec<PooledBuffer<'_>> = (0..n).map(|_| pool.get(size)).collect();
    drop(held);
}

// ---------------------------------------------------------------- bad input

#[test]
fn with_sizes_rejects_an_empty_table() {
    assert_eq!(
        BufferPool::with_sizes(&[]).err(),
        Some(ConfigError::NoSizes),
        "a pool without classes could keep no buffer: an empty table must be refused with \
         ConfigError::NoSizes"
    );
}

#[test]
fn with_sizes_rejects_a_size_of_zero() {
    assert_eq!(
        BufferPool::with_sizes(&[0, 64]).err(),
        Some(ConfigError::ZeroSize { index: 0 }),
        "a class of 0-byte buffers serves nothing: [0, 64] must be refused at index 0"
    );
}

#[test]
fn with_sizes_rejects_a_size_that_repeats() {
    assert_eq!(
        BufferPool::with_sizes(&[64, 128, 128, 256]).err(),
        Some(ConfigError::Duplicate {
            index: 2,
            size: 128
        }),
        "128 twice would make two classes for the same requests: refused at the second 128, \
         index 2"
    );
}

#[test]
fn with_sizes_rejects_sizes_that_do_not_go_up() {
    assert_eq!(
        BufferPool::with_sizes(&[64, 1024, 256]).err(),
        Some(ConfigError::Unsorted {
            index: 2,
            size: 256
        }),
        "the table must go up, so that 'the smallest class that holds n' means something: \
         [64, 1024, 256] must be refused at index 2, whose 256 is below the 1024 before it"
    );
}

#[test]
fn with_sizes_rejects_a_size_no_vec_can_have() {
    let too_large = isize::MAX as usize + 1;
    assert_eq!(
        BufferPool::with_sizes(&[64, too_large]).err(),
        Some(ConfigError::SizeTooLarge {
            index: 1,
            size: too_large
        }),
        "no Vec<u8> can hold more than isize::MAX bytes, so a class above that could never \
         have a buffer: refused with SizeTooLarge"
    );
    assert!(
        BufferPool::with_sizes(&[64, isize::MAX as usize]).is_ok(),
        "a class of exactly isize::MAX bytes is allowed: a Vec may be that large, even if no \
         allocator will give it"
    );
}

#[test]
fn table_problems_are_reported_from_the_first_size_on() {
    let cases: [(&[usize], ConfigError); 6] = [
        (&[0, 0], ConfigError::ZeroSize { index: 0 }),
        (&[64, 0], ConfigError::ZeroSize { index: 1 }),
        (&[64, 64, 32], ConfigError::Duplicate { index: 1, size: 64 }),
        (&[64, 32, 32], ConfigError::Unsorted { index: 1, size: 32 }),
        (
            &[usize::MAX, 0],
            ConfigError::SizeTooLarge {
                index: 0,
                size: usize::MAX,
            },
        ),
        (
            &[128, usize::MAX, 64],
            ConfigError::SizeTooLarge {
                index: 1,
                size: usize::MAX,
            },
        ),
    ];
    for (sizes, expected) in cases {
        assert_eq!(
            BufferPool::with_sizes(sizes).err(),
            Some(expected),
            "{sizes:?}: the sizes are checked from the first on, each for 0, then above \
             isize::MAX, then against the size before it; the first problem found is reported"
        );
    }
}

#[test]
fn the_builder_rejects_zero_limits_after_the_table() {
    let refused = |builder: BufferPoolBuilder| builder.build().err();
    assert_eq!(
        refused(BufferPool::builder().max_idle_per_class(0)),
        Some(ConfigError::ZeroMaxIdlePerClass),
        "max_idle_per_class(0) lets no class keep a buffer: refused"
    );
    assert_eq!(
        refused(BufferPool::builder().max_idle_bytes(0)),
        Some(ConfigError::ZeroMaxIdleBytes),
        "max_idle_bytes(0) lets no buffer be kept: refused"
    );
    assert_eq!(
        refused(
            BufferPool::builder()
                .max_idle_bytes(0)
                .max_idle_per_class(0)
        ),
        Some(ConfigError::ZeroMaxIdlePerClass),
        "with both limits 0, max_idle_per_class is reported: it is checked before max_idle_bytes"
    );
    assert_eq!(
        refused(BufferPool::builder().sizes(&[]).max_idle_per_class(0)),
        Some(ConfigError::NoSizes),
        "the table is checked before the limits"
    );
    assert_eq!(
        refused(BufferPool::builder().sizes(&[64, 64])),
        Some(ConfigError::Duplicate { index: 1, size: 64 }),
        "the builder checks the table as with_sizes does"
    );
}

#[test]
fn the_smallest_limits_are_accepted() {
    let pool = build(
        BufferPool::builder()
            .max_idle_per_class(1)
            .max_idle_bytes(1),
        "a pool with max_idle_per_class(1) and max_idle_bytes(1)",
    );
    drop(pool.get(64));
    let stats = pool.stats();
    assert_eq!(
        (stats.idle_buffers, stats.dropped_full),
        (0, 1),
        "(idle_buffers, dropped_full): \
         max_idle_bytes(1) is valid, but has no room for a 64-byte buffer: it is dropped"
    );
    let pool = build(
        BufferPool::builder()
            .max_idle_per_class(1)
            .max_idle_bytes(64),
        "a pool with max_idle_per_class(1) and max_idle_bytes(64)",
    );
    drop(pool.get(64));
    assert_eq!(
        pool.stats().idle_buffers,
        1,
        "one place and exactly 64 bytes keep one 64-byte buffer"
    );
}

#[test]
fn every_config_error_explains_itself() {
    let max = usize::MAX.to_string();
    let errors = [
        (ConfigError::NoSizes, vec!["empty"]),
        (ConfigError::ZeroSize { index: 3 }, vec!["3", "0"]),
        (
            ConfigError::SizeTooLarge {
                index: 1,
                size: usize::MAX,
            },
            vec!["1", &max],
        ),
        (
            ConfigError::Duplicate { index: 2, size: 96 },
            vec!["2", "96"],
        ),
        (
            ConfigError::Unsorted { index: 4, size: 77 },
            vec!["4", "77"],
        ),
        (
            ConfigError::ZeroMaxIdlePerClass,
            vec!["max_idle_per_class", "0"],
        ),
        (ConfigError::ZeroMaxIdleBytes, vec!["max_idle_bytes", "0"]),
    ];
    let mut messages = HashSet::new();
    for (error, words) in &errors {
        let message = (Box::new(*error) as Box<dyn std::error::Error>).to_string();
        for word in words {
            assert!(
                message.contains(word),
                "the message for {error:?} should mention {word:?}, so the user knows what to \
                 change, but it is {message:?}"
            );
        }
        assert!(
            messages.insert(message.clone()),
            "two errors print the same message {message:?}: each error must say what is wrong"
        );
    }
}

// ---------------------------------------------------------------- defaults

#[test]
fn new_has_power_of_two_classes_from_64_bytes_to_64_kib() {
    let pool = BufferPool::new();
    assert_eq!(
        pool.sizes(),
        DEFAULT_SIZES,
        "BufferPool::new() documents its classes: 64 B, 128 B, ... 64 KiB"
    );
    assert_eq!(
        BufferPool::default().sizes(),
        DEFAULT_SIZES,
        "Default is new()"
    );
    assert_eq!(
        build(BufferPool::builder(), "the builder's defaults").sizes(),
        DEFAULT_SIZES,
        "the builder starts from new()'s classes"
    );
}

#[test]
fn a_new_pool_is_empty_and_its_hit_rate_is_zero() {
    let pool = BufferPool::new();
    assert_eq!(pool.stats(), zero_stats(), "nothing has happened yet");
    assert_eq!(
        pool.stats().hit_rate(),
        0.0,
        "before the first get there is no rate to compute: hit_rate must be 0.0, not NaN \
         (0 hits / 0 gets)"
    );
    let classes = pool.class_stats();
    assert_eq!(
        classes,
        DEFAULT_SIZES
            .iter()
            .map(|&size| ClassStats {
                size,
                gets: 0,
                hits: 0,
                idle: 0
            })
            .collect::<Vec<_>>(),
        "class_stats lists every class, in class order, with nothing counted yet"
    );
}

#[test]
fn the_default_limits_keep_256_buffers_per_class_and_16_mib_in_all() {
    let pool = BufferPool::new();
    hand_back(&pool, 300, 64);
    let stats = pool.stats();
    assert_eq!(
        (stats.idle_buffers, stats.dropped_full),
        (256, 44),
        "(idle_buffers, dropped_full): \
         the default max_idle_per_class is 256: of 300 buffers of 64 bytes, 256 are kept"
    );
    if cfg!(miri) {
        return; // 19 MiB of buffers would take Miri minutes
    }
    hand_back(&pool, 300, 65536);
    let stats = pool.stats();
    assert_eq!(
        class(&pool, 65536).idle,
        255,
        "the default max_idle_bytes is 16 MiB, and 256 buffers of 64 bytes take 16 KiB of it: \
         255 buffers of 64 KiB fit in the rest"
    );
    assert_eq!(
        stats.idle_bytes,
        256 * 64 + 255 * 65536,
        "idle_bytes is the sum of the idle buffers' capacities ({stats:?})"
    );
}

// ---------------------------------------------------------------- get

#[test]
fn get_serves_the_smallest_class_that_holds_the_request() {
    let pool = BufferPool::new();
    let cases = [
        (0, 64),
        (1, 64),
        (64, 64),
        (65, 128),
        (1000, 1024),
        (1024, 1024),
        (1025, 2048),
        (40_000, 65536),
        (65536, 65536),
    ];
    for (request, class_size) in cases {
        let buf = pool.get(request);
        assert_eq!(
            (buf.len(), buf.capacity()),
            (0, class_size),
            "(len, capacity): \
             get({request}) must hand out an empty buffer of its class: the smallest class that \
             holds {request} bytes, {class_size}"
        );
        drop(buf);
        let again = pool.get(request);
        assert_eq!(
            again.capacity(),
            class_size,
            "get({request}) again reuses the buffer of class {class_size}"
        );
    }
    let sizes: Vec<(usize, u64)> = pool
        .class_stats()
        .iter()
        .map(|c| (c.size, c.gets))
        .collect();
    assert_eq!(
        sizes,
        [
            (64, 6),
            (128, 2),
            (256, 0),
            (512, 0),
            (1024, 4),
            (2048, 2),
            (4096, 0),
            (8192, 0),
            (16384, 0),
            (32768, 0),
            (65536, 4)
        ],
        "each get counts in the class that served it"
    );
}

#[test]
fn a_custom_table_serves_the_smallest_class_that_holds_the_request() {
    let pool = with_sizes(&[10, 20, 30, 1000, 1001]);
    for (request, class_size) in [
        (0, 10),
        (10, 10),
        (11, 20),
        (25, 30),
        (31, 1000),
        (1001, 1001),
    ] {
        assert_eq!(
            pool.get(request).capacity(),
            class_size,
            "with classes [10, 20, 30, 1000, 1001], get({request}) is served by the class of \
             {class_size} bytes"
        );
    }
}

#[test]
fn get_above_the_largest_class_makes_a_buffer_of_exactly_that_size_counted_in_no_class() {
    let pool = BufferPool::new();
    let buf = pool.get(65537);
    assert_eq!(
        (buf.len(), buf.capacity()),
        (0, 65537),
        "(len, capacity): \
         above the largest class, get hands out a plain empty buffer of exactly the size asked for"
    );
    let stats = pool.stats();
    assert_eq!(
        (stats.gets, stats.misses),
        (1, 1),
        "(gets, misses): a get above the largest class is a get and a miss"
    );
    assert!(
        pool.class_stats().iter().all(|c| c.gets == 0),
        "... counted in no class: {:?}",
        pool.class_stats()
    );
}

#[test]
fn an_oversized_buffer_is_dropped_when_handed_back() {
    let pool = BufferPool::new();
    drop(pool.get(100_000));
    let stats = pool.stats();
    assert_eq!(
        (stats.returned, stats.dropped_oversized, stats.idle_buffers),
        (1, 1, 0),
        "(returned, dropped_oversized, idle_buffers): \
         a buffer larger than the largest class is counted as returned and dropped as \
         oversized: one huge request must not pin its memory in the pool"
    );
    drop(pool.get(100_000));
    assert_eq!(pool.stats().hits, 0, "so the next such get is a miss again");
}

#[test]
fn a_buffer_handed_back_is_reused_by_the_next_get_of_its_class() {
    let pool = BufferPool::new();
    let first = pool.get(1000);
    let address = first.as_ptr();
    drop(first);
    let again = pool.get(600);
    assert_eq!(
        again.as_ptr(),
        address,
        "get(1000) and get(600) are both served by the 1024-byte class, so the buffer handed \
         back must serve the second get"
    );
    drop(again);
    let stats = pool.stats();
    assert_eq!(
        (
            stats.gets,
            stats.hits,
            stats.misses,
            stats.returned,
            stats.idle_buffers
        ),
        (2, 1, 1, 2, 1),
        "(gets, hits, misses, returned, idle_buffers): \
         a miss, then a hit; both buffers were handed back, and one buffer waits idle"
    );
    assert_eq!(
        stats.idle_bytes, 1024,
        "its 1024 bytes of capacity are idle"
    );
    assert_eq!(stats.hit_rate(), 0.5, "1 hit out of 2 gets");
    assert_eq!(
        class(&pool, 1024),
        ClassStats {
            size: 1024,
            gets: 2,
            hits: 1,
            idle: 1
        },
        "both gets were the 1024-byte class's"
    );
}

#[test]
fn a_buffer_of_one_class_never_serves_another() {
    let pool = BufferPool::new();
    drop(pool.get(1024));
    let larger = pool.get(1025);
    assert_eq!(
        larger.capacity(),
        2048,
        "the idle buffer has 1024 bytes; a get of 1025 needs the 2048-byte class, a miss"
    );
    drop(larger);
    let smaller = pool.get(512);
    assert_eq!(
        smaller.capacity(),
        512,
        "a get of 512 is served by the 512-byte class, not by a larger idle buffer"
    );
    assert_eq!(pool.stats().hits, 0, "three gets of three classes: no hit");
}

#[test]
fn many_buffers_held_at_once_are_all_different_and_all_come_back() {
    let pool = BufferPool::new();
    for round in 0..3 {
        let held: Vec<_> = (0..20).map(|_| pool.get(256)).collect();
        let addresses: HashSet<*const u8> = held.iter().map(|b| b.as_ptr()).collect();
        assert_eq!(
            addresses.len(),
            20,
            "round {round}: 20 buffers held at once must be 20 different buffers; one buffer \
             handed to two holders lets them overwrite each other's data"
        );
        let stats = pool.stats();
        assert_eq!(
            (stats.idle_buffers, stats.idle_bytes),
            (0, 0),
            "(idle_buffers, idle_bytes): \
             round {round}: all 20 buffers of the pool are held, so none is idle, and no idle \
             byte is left: idle_bytes follows every buffer that leaves the pool ({stats:?})"
        );
    }
    let stats = pool.stats();
    assert_eq!(
        (
            stats.gets,
            stats.hits,
            stats.misses,
            stats.returned,
            stats.idle_buffers
        ),
        (60, 40, 20, 60, 20),
        "(gets, hits, misses, returned, idle_buffers): \
         rounds 2 and 3 find the 20 buffers of round 1 in the pool"
    );
    assert_consistent(&pool, "after 3 rounds of 20");
    let three: Vec<_> = (0..3).map(|_| pool.get(256)).collect();
    let stats = pool.stats();
    assert_eq!(
        (stats.idle_buffers, stats.idle_bytes),
        (17, 17 * 256),
        "(idle_buffers, idle_bytes): \
         with 3 of the 20 buffers held, 17 are idle, and so are their bytes ({stats:?})"
    );
    drop(three);
}

#[test]
fn buffers_come_back_empty() {
    let pool = BufferPool::new();
    {
        let mut one = pool.get(100);
        let mut two = pool.get(100);
        one.extend_from_slice(b"secret");
        two.extend_from_slice(b"password");
    }
    pool.put(b"handed in with data".to_vec());
    let all: Vec<_> = (0..2).map(|_| pool.get(100)).collect();
    for buf in &all {
        assert!(
            buf.is_empty(),
            "a buffer handed back with data came out of get holding {:?}: the pool clears \
             every buffer handed back, so no data leaks from one user to the next",
            &buf[..]
        );
        assert_eq!(buf.capacity(), 128, "... and keeps its capacity");
    }
    assert_eq!(pool.stats().hits, 2, "both gets were served from the pool");
    drop(all);
    for round in 0..3 {
        let mut buf = pool.get(100);
        assert!(
            buf.is_empty(),
            "round {round}: the buffer handed back last round came back holding {:?}",
            &buf[..]
        );
        buf.extend_from_slice(b"left behind");
    }
}

#[test]
fn put_hands_in_a_vec_made_elsewhere_filed_by_its_capacity() {
    let pool = BufferPool::new();
    pool.put(Vec::with_capacity(3000));
    let stats = pool.stats();
    assert_eq!(
        (stats.returned, stats.idle_buffers, stats.idle_bytes),
        (1, 1, 3000),
        "(returned, idle_buffers, idle_bytes): \
         put counts as a buffer handed back, and the buffer waits in the pool with all its \
         capacity"
    );
    assert_eq!(
        class(&pool, 2048).idle,
        1,
        "a buffer of 3000 bytes is filed in the largest class it covers, 2048: it can serve \
         every request of that class"
    );
    let buf = pool.get(2000);
    assert_eq!(
        (buf.capacity(), pool.stats().hits),
        (3000, 1),
        "(capacity, hits): get(2000) is served by the 2048-byte class: the buffer put there, a hit"
    );
    drop(buf);
    assert_eq!(
        pool.get(2049).capacity(),
        4096,
        "get(2049) needs the 4096-byte class; the 3000-byte buffer cannot serve it"
    );
}

#[test]
fn put_of_a_buffer_that_fits_no_class_drops_it() {
    let pool = BufferPool::new();
    pool.put(Vec::new());
    pool.put(Vec::with_capacity(63));
    pool.put(Vec::with_capacity(1 << 20));
    let stats = pool.stats();
    assert_eq!(
        (
            stats.returned,
            stats.dropped_undersized,
            stats.dropped_oversized,
            stats.idle_buffers
        ),
        (3, 2, 1, 0),
        "(returned, dropped_undersized, dropped_oversized, idle_buffers): \
         put accepts any Vec: one of 0 or 63 bytes is below the smallest class (64) and is \
         dropped as undersized, one of 1 MiB is above the largest and dropped as oversized"
    );
    assert_eq!(stats.gets, 0, "put is not a get");
}

#[test]
fn into_vec_keeps_the_buffer_out_of_the_pool() {
    let pool = BufferPool::new();
    let first = pool.get(64).into_vec(); // a new buffer
    drop(pool.get(64));
    let second = pool.get(64).into_vec(); // one that came from the pool
    assert_eq!(
        (first.capacity(), second.capacity()),
        (64, 64),
        "(first's capacity, second's capacity): into_vec gives the buffer itself"
    );
    let stats = pool.stats();
    assert_eq!(
        (stats.gets, stats.hits, stats.returned, stats.idle_buffers),
        (3, 1, 1, 0),
        "(gets, hits, returned, idle_buffers): \
         three gets, one of them a hit; two buffers were kept with into_vec, so only one was \
         handed back, and it is the one the last get took out again"
    );
    drop(pool.get(64));
    assert_eq!(
        pool.stats().misses,
        3,
        "the pool has no buffer left: the buffers kept with into_vec never come back"
    );
    pool.put(first);
    pool.put(second);
    assert_eq!(
        pool.stats().idle_buffers,
        3,
        "a buffer kept with into_vec can be handed back later with put"
    );
}

#[test]
fn a_guard_is_a_vec_of_bytes() {
    let pool = BufferPool::new();
    let mut buf = pool.get(64);
    buf.extend_from_slice(b"GET ");
    write!(buf, "/index.html HTTP/1.1").expect("writing to a Vec<u8> never fails");
    assert_eq!(
        &buf[..],
        b"GET /index.html HTTP/1.1",
        "a guard dereferences to Vec<u8>, mutably too, so io::Write works on it"
    );
    let debug = format!("{buf:?}");
    assert!(
        debug.contains("len: 24") && debug.contains("capacity: 64"),
        "{{:?}} of a guard shows its length and capacity, not its bytes, but it printed {debug:?}"
    );
}

// ---------------------------------------------------------------- growth

#[test]
fn a_buffer_that_grew_is_filed_by_its_new_capacity() {
    let pool = BufferPool::new();
    let mut buf = pool.get(100);
    buf.extend_from_slice(&[7; 5000]);
    let grown = buf.capacity();
    assert!(grown >= 5000, "the Vec grew to hold 5000 bytes");
    drop(buf);
    assert_eq!(
        (class(&pool, 128).idle, class(&pool, 4096).idle),
        (0, 1),
        "(idle of the 128-byte class, idle of the 4096-byte class): \
         a buffer that grew from 128 to {grown} bytes of capacity is filed in the largest \
         class it now covers, 4096, not in the class it came from"
    );
    let again = pool.get(4096);
    assert_eq!(
        (again.capacity(), again.len(), pool.stats().hits),
        (grown, 0, 1),
        "(again's capacity, again's len, hits): the grown buffer serves a get(4096), empty"
    );
}

#[test]
fn a_buffer_that_grew_after_a_hit_is_filed_by_its_new_capacity_too() {
    let pool = BufferPool::new();
    drop(pool.get(1024));
    let mut buf = pool.get(1024); // a hit: the buffer just handed back
    buf.extend_from_slice(&[7; 3000]);
    let grown = buf.capacity();
    drop(buf);
    let stats = pool.stats();
    assert_eq!(
        (
            class(&pool, 1024).idle,
            class(&pool, 2048).idle,
            stats.idle_bytes
        ),
        (0, 1, grown),
        "(idle of the 1024-byte class, idle of the 2048-byte class, idle_bytes): \
         a buffer served from the pool that grew to {grown} bytes is filed by that capacity, in \
         the largest class it covers (2048), and idle_bytes counts all {grown} bytes ({stats:?})"
    );
    let again = pool.get(2048);
    assert_eq!(
        (again.capacity(), again.len(), pool.stats().hits),
        (grown, 0, 2),
        "(again's capacity, again's len, hits): \
         the grown buffer serves the next get of its new class, empty"
    );
    drop(again);
    let mut shrunk = pool.get(2048);
    shrunk.shrink_to(0);
    drop(shrunk);
    assert_eq!(
        (pool.stats().dropped_undersized, pool.stats().idle_buffers),
        (1, 0),
        "(dropped_undersized, idle_buffers): \
         the same buffer shrunk to nothing is dropped as undersized"
    );
}

#[test]
fn a_buffer_that_grew_past_the_largest_class_is_dropped() {
    let pool = with_sizes(&[64, 256]);
    let mut buf = pool.get(200);
    buf.extend_from_slice(&[1; 300]);
    drop(buf);
    let stats = pool.stats();
    assert_eq!(
        (stats.returned, stats.dropped_oversized, stats.idle_buffers),
        (1, 1, 0),
        "(returned, dropped_oversized, idle_buffers): \
         a buffer that grew past the largest class (256) is dropped as oversized, even though \
         it came from the pool"
    );
}

#[test]
fn a_buffer_shrunk_below_the_smallest_class_is_dropped() {
    let pool = BufferPool::new();
    let mut buf = pool.get(64);
    buf.shrink_to(10);
    let shrunk = buf.capacity();
    drop(buf);
    let stats = pool.stats();
    assert_eq!(
        (stats.dropped_undersized, stats.idle_buffers),
        (1, 0),
        "(dropped_undersized, idle_buffers): \
         a buffer shrunk to {shrunk} bytes is below the smallest class (64): it cannot serve \
         any get, so it is dropped as undersized"
    );
}

#[test]
fn a_buffer_shrunk_within_the_table_serves_only_requests_it_can_hold() {
    let pool = BufferPool::new();
    let mut buf = pool.get(1024);
    buf.shrink_to(100);
    let shrunk = buf.capacity();
    drop(buf);
    assert_eq!(
        (class(&pool, 1024).idle, class(&pool, 64).idle),
        (0, 1),
        "(idle of the 1024-byte class, idle of the 64-byte class): \
         a 1024-byte buffer shrunk to {shrunk} bytes is filed in the largest class it covers, 64"
    );
    assert_eq!(
        pool.get(100).capacity(),
        128,
        "get(100) must not receive the {shrunk}-byte buffer: it is filed under 64 bytes"
    );
    assert_eq!(
        pool.get(64).capacity(),
        shrunk,
        "get(64) is served by the shrunk buffer"
    );
}

#[test]
fn every_get_hands_out_at_least_the_capacity_asked_for() {
    // A small random walk of gets, writes, growth, shrinking and puts, on
    // two tables; the same seed every run.
    let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = |below: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % below as u64) as usize
    };
    let rounds = if cfg!(miri) { 200 } else { 5000 };
    for pool in [BufferPool::new(), with_sizes(&[10, 20, 30])] {
        let mut held: Vec<PooledBuffer<'_>> = Vec::new();
        for _ in 0..rounds {
            let request = next(3000);
            let mut buf = pool.get(request);
            assert!(
                buf.capacity() >= request && buf.is_empty(),
                "get({request}) handed out a buffer of capacity {} and length {}: every get \
                 must hand out an empty buffer of at least the capacity asked for, whatever \
                 was handed back before (classes {:?})",
                buf.capacity(),
                buf.len(),
                pool.sizes()
            );
            match next(6) {
                0 => buf.extend_from_slice(&vec![3; next(5000)]),
                1 => buf.shrink_to(next(200)),
                2 => pool.put(Vec::with_capacity(next(4000))),
                3 => held.push(buf),
                _ => {}
            }
            if held.len() > 8 {
                held.swap_remove(next(held.len()));
            }
        }
        drop(held);
        assert_consistent(&pool, "after the random walk");
    }
}

// ---------------------------------------------------------------- limits

#[test]
fn max_idle_per_class_caps_each_class_and_counts_the_rest_as_dropped_full() {
    let pool = build(
        BufferPool::builder().max_idle_per_class(3),
        "a pool with max_idle_per_class(3)",
    );
    hand_back(&pool, 5, 1024);
    let stats = pool.stats();
    assert_eq!(
        (stats.returned, stats.idle_buffers, stats.dropped_full),
        (5, 3, 2),
        "(returned, idle_buffers, dropped_full): \
         5 buffers handed back to a class that keeps at most 3: 3 kept, 2 dropped as full"
    );
    hand_back(&pool, 5, 64);
    assert_eq!(
        (class(&pool, 64).idle, class(&pool, 1024).idle),
        (3, 3),
        "(idle of the 64-byte class, idle of the 1024-byte class): \
         each class has its own limit: the 64-byte class keeps 3 too"
    );
    assert_eq!(pool.stats().dropped_full, 4, "2 more dropped");
}

#[test]
fn max_idle_bytes_caps_the_idle_bytes_of_all_classes_together() {
    let pool = build(
        BufferPool::builder().max_idle_bytes(4096),
        "a pool with max_idle_bytes(4096)",
    );
    hand_back(&pool, 5, 1024);
    let stats = pool.stats();
    assert_eq!(
        (stats.idle_buffers, stats.idle_bytes, stats.dropped_full),
        (4, 4096, 1),
        "(idle_buffers, idle_bytes, dropped_full): \
         4096 bytes hold four 1024-byte buffers: the fifth is dropped as full"
    );
    hand_back(&pool, 1, 64);
    assert_eq!(
        (pool.stats().idle_bytes, pool.stats().dropped_full),
        (4096, 2),
        "(idle_bytes, dropped_full): \
         max_idle_bytes is one ceiling for every class: a 64-byte buffer does not fit either"
    );
}

#[test]
fn idle_bytes_count_capacities_not_class_sizes() {
    let pool = BufferPool::new();
    pool.put(Vec::with_capacity(1500));
    pool.put(Vec::with_capacity(1500));
    let stats = pool.stats();
    assert_eq!(
        (stats.idle_buffers, stats.idle_bytes),
        (2, 3000),
        "(idle_buffers, idle_bytes): \
         two buffers of 1500 bytes, filed in the 1024-byte class, hold 3000 bytes of memory"
    );
    let pool = build(
        BufferPool::builder().max_idle_bytes(4000),
        "a pool with max_idle_bytes(4000)",
    );
    for _ in 0..3 {
        pool.put(Vec::with_capacity(1500));
    }
    let stats = pool.stats();
    assert!(
        stats.idle_bytes <= 4000 && stats.dropped_full >= 1,
        "three buffers of 1500 bytes would make 4500 idle bytes, above max_idle_bytes(4000), \
         although three buffers of the class's size (1024) would fit: at least one must be \
         dropped as full ({stats:?})"
    );
    assert_eq!(
        stats.idle_buffers as u64 + stats.dropped_full,
        3,
        "each buffer handed back is idle or dropped ({stats:?})"
    );
}

#[test]
fn one_thread_alone_can_fill_max_idle_per_class() {
    let pool = build(
        BufferPool::builder().max_idle_per_class(100),
        "a pool with max_idle_per_class(100)",
    );
    hand_back(&pool, 150, 64);
    let stats = pool.stats();
    assert_eq!(
        (stats.idle_buffers, stats.dropped_full),
        (100, 50),
        "(idle_buffers, dropped_full): \
         one thread handed back 150 buffers to a class that keeps 100 and that no other thread \
         uses: it keeps all 100 (its private cache, then the shared list), and drops 50"
    );
}

#[test]
fn a_threads_private_cache_keeps_eight_buffers_of_a_class_and_the_rest_are_shared() {
    let pool = BufferPool::new();
    hand_back(&pool, 20, 1024);
    thread::scope(|s| {
        s.spawn(|| {
            let first: Vec<_> = (0..5).map(|_| pool.get(1024)).collect();
            let stats = pool.stats();
            assert_eq!(
                (stats.hits, stats.idle_buffers, stats.idle_bytes),
                (5, 15, 15 * 1024),
                "(hits, idle_buffers, idle_bytes): \
                 the other thread's first 5 gets come from the shared list: 8 buffers are left \
                 in this thread's private cache and 7 on the shared list ({stats:?})"
            );
            let rest: Vec<_> = (0..15).map(|_| pool.get(1024)).collect();
            drop((first, rest));
        });
    });
    let stats = pool.stats();
    assert_eq!(
        (stats.hits, stats.misses),
        (12, 28),
        "(hits, misses): \
         this thread handed back 20 buffers of one class: its private cache keeps 8 of them \
         (no other thread can take those), and the other 12 go to the class's shared list, \
         where the other thread finds them; its other 8 gets are misses"
    );
    assert_eq!(
        (stats.idle_buffers, stats.idle_bytes),
        (28, 28 * 1024),
        "(idle_buffers, idle_bytes): \
         8 buffers wait in this thread's private cache, 8 in the other thread's, and 12 on the \
         shared list: the 12 the other thread took out and the 12 it could not keep privately"
    );
}

#[test]
fn the_idle_buffers_of_all_threads_together_stay_within_the_limits() {
    let pool = build(
        BufferPool::builder()
            .max_idle_per_class(12)
            .max_idle_bytes(20 * 1024),
        "a pool with max_idle_per_class(12) and max_idle_bytes(20 KiB)",
    );
    let all_hold = Barrier::new(2);
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let held: Vec<_> = (0..10)
                    .map(|_| pool.get(1024))
                    .chain((0..10).map(|_| pool.get(64)))
                    .collect();
                all_hold.wait(); // both threads hold 20 before either hands back
                drop(held);
            });
        }
    });
    let stats = pool.stats();
    for c in pool.class_stats() {
        assert!(
            c.idle <= 12,
            "the class of {} bytes has {} idle buffers: max_idle_per_class(12) limits all \
             threads together, not each thread",
            c.size,
            c.idle
        );
    }
    assert!(
        stats.idle_bytes <= 20 * 1024,
        "{} bytes are idle, more than max_idle_bytes(20 KiB): the limit is for all threads \
         together",
        stats.idle_bytes
    );
    assert_eq!(
        stats.dropped_full,
        40 - stats.idle_buffers as u64,
        "every buffer handed back is either idle or dropped as full ({stats:?})"
    );
}

#[test]
fn buffers_taken_from_a_shared_list_give_their_bytes_back_to_max_idle_bytes() {
    let pool = build(
        BufferPool::builder().max_idle_bytes(10 * 1024),
        "a pool with max_idle_bytes(10 KiB)",
    );
    let rounds = if cfg!(miri) { 3 } else { 6 };
    for round in 0..rounds {
        // 8 of the 10 stay in this thread's private cache, 2 go to the shared
        // list; the next round takes those 2 out again before handing back.
        hand_back(&pool, 10, 1024);
        let stats = pool.stats();
        assert_eq!(
            (stats.idle_buffers, stats.idle_bytes, stats.dropped_full),
            (10, 10 * 1024, 0),
            "(idle_buffers, idle_bytes, dropped_full) after round {round}: 10 buffers of 1024 \
             bytes fit max_idle_bytes(10 KiB) exactly, every round, because a buffer taken out \
             of a shared list no longer holds its bytes: the next round's buffers must find them \
             free again ({stats:?})"
        );
    }
}

#[test]
fn a_buffer_refused_for_lack_of_a_place_takes_no_bytes() {
    let pool = build(
        BufferPool::builder()
            .sizes(&[64, 1024])
            .max_idle_per_class(1)
            .max_idle_bytes(64 + 1024),
        "a pool of classes [64, 1024] with max_idle_per_class(1) and max_idle_bytes(1088)",
    );
    hand_back(&pool, 20, 64);
    let stats = pool.stats();
    assert_eq!(
        (stats.idle_buffers, stats.idle_bytes, stats.dropped_full),
        (1, 64, 19),
        "(idle_buffers, idle_bytes, dropped_full): the 64-byte class keeps one buffer \
         (max_idle_per_class(1)) and drops the other 19 ({stats:?})"
    );
    hand_back(&pool, 1, 1024);
    let stats = pool.stats();
    assert_eq!(
        (
            class(&pool, 1024).idle,
            stats.idle_bytes,
            stats.dropped_full
        ),
        (1, 64 + 1024, 19),
        "(idle of the 1024-byte class, idle_bytes, dropped_full): only 64 of the 1088 bytes \
         are idle, so a 1024-byte buffer must be kept; a buffer its class refused for lack of \
         a free place must not hold on to any of max_idle_bytes, since nothing was kept \
         ({stats:?})"
    );
}

#[test]
fn places_a_private_cache_got_no_bytes_for_stay_free_for_the_shared_list() {
    let pool = build(
        BufferPool::builder()
            .sizes(&[1024, 2048])
            .max_idle_per_class(10)
            .max_idle_bytes(10 * 1024),
        "a pool of classes [1024, 2048] with max_idle_per_class(10) and max_idle_bytes(10 KiB)",
    );
    pool.warm(5, 2048); // all of max_idle_bytes, on the 2048-byte class's shared list
    pool.put(Vec::with_capacity(1024)); // no byte left for this thread's private share
    assert_eq!(
        pool.stats().dropped_full,
        1,
        "with every idle byte taken by the warmed buffers, a 1024-byte buffer cannot be kept"
    );
    for _ in 0..5 {
        drop(pool.get(2048).into_vec()); // the warmed buffers leave the pool, and their bytes
    }
    hand_back(&pool, 10, 1024);
    let stats = pool.stats();
    assert_eq!(
        (
            class(&pool, 1024).idle,
            stats.idle_bytes,
            stats.dropped_full
        ),
        (10, 10 * 1024, 1),
        "(idle of the 1024-byte class, idle_bytes, dropped_full): all 10 KiB are free again \
         and the 1024-byte class has 10 free places, so all 10 buffers must be kept; when this \
         thread's private cache asked for its share while no byte was left, it got no bytes, \
         so it must not have kept any place either: places without their bytes are lost to \
         every thread ({stats:?})"
    );
}

#[test]
fn a_private_cache_takes_what_is_left_when_a_full_share_does_not_fit() {
    let pool = build(
        BufferPool::builder().max_idle_bytes(3 * 1024),
        "a pool with max_idle_bytes(3 KiB)",
    );
    hand_back(&pool, 3, 1024);
    thread::scope(|s| {
        s.spawn(|| {
            let held: Vec<_> = (0..3).map(|_| pool.get(1024)).collect();
            let stats = pool.stats();
            assert_eq!(
                (stats.hits, stats.misses, stats.idle_buffers),
                (0, 6, 3),
                "(hits, misses, idle_buffers): max_idle_bytes(3 KiB) has room for 3 of the 8 \
                 buffers of 1024 bytes a private cache's share asks for; the share is then what \
                 is left, 3 places and 3 KiB, not nothing, so the first thread's 3 buffers stay \
                 in its private cache, out of this thread's reach ({stats:?})"
            );
            drop(held);
        });
    });
}

#[test]
fn a_thread_serves_itself_from_its_private_cache_before_the_shared_list() {
    let pool = BufferPool::new();
    hand_back(&pool, 8, 1024); // fills this thread's private cache of the class
    pool.put(Vec::with_capacity(1500)); // on the shared list: the private cache is full
    let held: Vec<_> = (0..8).map(|_| pool.get(1024)).collect();
    assert_eq!(
        held.iter().map(|b| b.capacity()).collect::<Vec<_>>(),
        [1024; 8],
        "capacities of this thread's 8 gets: while its private cache of the class has a buffer, \
         a thread serves itself from there, with no lock, before it takes from the shared list \
         (where the 1500-byte buffer waits)"
    );
}

#[test]
fn a_shared_list_serves_the_newest_buffer_first() {
    let pool = BufferPool::new();
    hand_back(&pool, 8, 1024); // fills this thread's private cache of the class
    pool.put(Vec::with_capacity(1500));
    pool.put(Vec::with_capacity(1600)); // both on the shared list, 1600 the newest
    thread::scope(|s| {
        s.spawn(|| {
            let capacities = [pool.get(1024).capacity(), pool.get(1024).capacity()];
            assert_eq!(
                capacities,
                [1600, 1500],
                "capacities of another thread's two gets: a shared list hands out its newest \
                 buffer first (the 1600-byte one, put last), whose memory is the likeliest \
                 to be in a cache still"
            );
        });
    });
}

// ---------------------------------------------------------------- warm

#[test]
fn warm_adds_buffers_of_the_class_that_any_thread_gets_as_hits() {
    let pool = BufferPool::new();
    pool.warm(4, 1000);
    let mut expected = zero_stats();
    expected.idle_buffers = 4;
    expected.idle_bytes = 4096;
    assert_eq!(
        pool.stats(),
        expected,
        "warm(4, 1000) adds four buffers of the 1024-byte class, the smallest that holds 1000; \
         they count in no counter but idle_buffers and idle_bytes"
    );
    assert_eq!(
        class(&pool, 1024).idle,
        4,
        "all four in the 1024-byte class"
    );
    thread::scope(|s| {
        s.spawn(|| {
            let held: Vec<_> = (0..4).map(|_| pool.get(1024)).collect();
            assert!(
                held.iter().all(|b| b.capacity() == 1024 && b.is_empty()),
                "warmed buffers are empty and of exactly the class's size"
            );
        });
    });
    assert_eq!(
        (pool.stats().hits, pool.stats().misses),
        (4, 0),
        "(hits, misses): \
         warmed buffers wait where any thread's gets find them: another thread's 4 gets are hits"
    );
    pool.warm(1, 0);
    assert_eq!(
        class(&pool, 64).idle,
        1,
        "warm(1, 0) warms the smallest class"
    );
}

#[test]
fn warm_stays_within_the_limits() {
    let pool = build(
        BufferPool::builder()
            .max_idle_per_class(5)
            .max_idle_bytes(8 * 1024),
        "a pool with max_idle_per_class(5) and max_idle_bytes(8 KiB)",
    );
    pool.warm(10, 1024);
    assert_eq!(
        class(&pool, 1024).idle,
        5,
        "warm(10, 1024) adds only as many buffers as max_idle_per_class(5) allows"
    );
    pool.warm(10, 2048);
    let stats = pool.stats();
    assert_eq!(
        (class(&pool, 2048).idle, stats.idle_bytes),
        (1, 7 * 1024),
        "(idle of the 2048-byte class, idle_bytes): \
         5 KiB are idle already, and max_idle_bytes(8 KiB) has room for one 2 KiB buffer more"
    );
    assert_eq!(
        stats.dropped_full, 0,
        "warm drops nothing: it stops at the limits"
    );
    drop(pool.get(1024));
    assert_eq!(
        class(&pool, 1024).idle,
        5,
        "a warmed class that is full takes back the buffer it lent"
    );
}

#[test]
fn warm_above_the_largest_class_does_nothing() {
    let pool = BufferPool::new();
    pool.warm(3, 65537);
    pool.warm(3, usize::MAX);
    assert_eq!(
        pool.stats(),
        zero_stats(),
        "warm into a size above the largest class (64 KiB) has no class to fill: it does nothing"
    );
}

#[test]
fn warm_and_put_never_panic_whatever_their_arguments() {
    let pool = build(
        BufferPool::builder().max_idle_per_class(3),
        "a pool with max_idle_per_class(3)",
    );
    pool.warm(0, 0);
    pool.warm(usize::MAX, 64); // stops at the limit
    assert_eq!(
        class(&pool, 64).idle,
        3,
        "warm(usize::MAX, 64) stops at max_idle_per_class(3)"
    );
    pool.put(Vec::new());
    pool.put(Vec::with_capacity(65536));
    pool.put(Vec::with_capacity(65537));
    let huge = build(
        BufferPool::builder()
            .sizes(&[64, isize::MAX as usize])
            .max_idle_bytes(usize::MAX),
        "a pool with a class of isize::MAX bytes and no byte limit to speak of",
    );
    if !cfg!(miri) {
        huge.warm(2, 1 << 40); // no allocator gives isize::MAX bytes: warm stops there
    }
    assert_eq!(
        huge.stats().idle_buffers,
        0,
        "a buffer the allocator cannot give is not added, and warm returns instead of panicking \
         or aborting"
    );
}

// ---------------------------------------------------------------- stats

#[test]
fn class_stats_follow_each_class() {
    let pool = with_sizes(&[100, 200, 300]);
    drop((pool.get(50), pool.get(150)));
    drop(pool.get(90));
    drop(pool.get(1000)); // above the largest class
    assert_eq!(
        pool.class_stats(),
        [
            ClassStats {
                size: 100,
                gets: 2,
                hits: 1,
                idle: 1
            },
            ClassStats {
                size: 200,
                gets: 1,
                hits: 0,
                idle: 1
            },
            ClassStats {
                size: 300,
                gets: 0,
                hits: 0,
                idle: 0
            },
        ],
        "class_stats lists the classes in order, each with its gets, hits and idle buffers; \
         the get above the largest class is in none"
    );
    let stats = pool.stats();
    assert_eq!(
        (stats.gets, stats.hits, stats.misses, stats.idle_bytes),
        (4, 1, 3, 300),
        "(gets, hits, misses, idle_bytes): \
         stats sums the classes and counts the get above the largest class as a miss"
    );
    assert_eq!(stats.hit_rate(), 0.25, "1 hit out of 4 gets");
}

#[test]
fn the_pool_and_its_builder_can_be_debug_printed() {
    let pool = with_sizes(&[64, 4096]);
    drop(pool.get(64));
    let debug = format!("{pool:?}");
    assert!(
        debug.contains("BufferPool") && debug.contains("4096") && debug.contains("idle_buffers: 1"),
        "{{:?}} of a pool should name it and show its classes and counters, but it printed \
         {debug:?}"
    );
    let builder = BufferPool::builder().max_idle_bytes(12345);
    assert!(
        format!("{builder:?}").contains("12345"),
        "{{:?}} of a builder should show its limits"
    );
}

// ---------------------------------------------------------------- panics

#[test]
fn a_get_no_allocation_can_satisfy_panics_and_leaves_the_pool_usable() {
    let pool = BufferPool::new();
    drop(pool.get(64));
    let mut sizes = vec![usize::MAX, isize::MAX as usize + 1];
    if !cfg!(miri) {
        sizes.push(isize::MAX as usize); // a Vec may be that large, but no allocator gives it
    }
    for size in sizes {
        let outcome = catch_unwind(AssertUnwindSafe(|| pool.get(size)));
        let payload = match outcome {
            Ok(buf) => panic!(
                "get({size}) returned a buffer of {} bytes, but no allocation can hold {size} \
                 bytes: it must panic, as Vec::with_capacity does",
                buf.capacity()
            ),
            Err(payload) => payload,
        };
        let message = deadline::panic_message(&*payload);
        assert!(
            message.contains(&size.to_string()),
            "the panic of get({size}) should name the size asked for, but it said {message:?}"
        );
    }
    let stats = pool.stats();
    assert_eq!(
        (stats.gets, stats.misses),
        (1, 1),
        "(gets, misses): \
         a get that panicked handed nothing out: it counts as no get and no miss ({stats:?})"
    );
    drop(pool.get(64));
    assert_eq!(
        (pool.stats().hits, pool.stats().idle_buffers),
        (1, 1),
        "(hits, idle_buffers): after the panics the pool works as before"
    );
    assert_consistent(&pool, "after the panics");
}

// ---------------------------------------------------------------- threads

#[test]
fn the_pool_is_shared_by_reference_between_threads() {
    fn shared_between_threads<T: Send + Sync>() {}
    shared_between_threads::<BufferPool>();
    fn sent_to_another_thread<T: Send>() {}
    sent_to_another_thread::<PooledBuffer<'static>>();

    let pool = BufferPool::new();
    thread::scope(|s| {
        for t in 0..2_u8 {
            let pool = &pool;
            s.spawn(move || {
                for i in 0..10 {
                    let mut buf = pool.get(64 << (i % 3));
                    buf.push(t);
                }
            });
        }
    });
    let stats = pool.stats();
    assert_consistent(&pool, "after two threads");
    assert_eq!(
        (stats.gets, stats.returned),
        (20, 20),
        "(gets, returned): \
         two threads made 10 get/drop pairs each, and the pool's counters sum every thread's"
    );
}

#[test]
fn a_guard_dropped_on_another_thread_goes_back_to_the_pool() {
    let pool = BufferPool::new();
    drop(pool.get(512)); // so the next get of this class is served from the pool
    let guards = vec![pool.get(512), pool.get(512), pool.get(100_000)];
    thread::scope(|s| {
        s.spawn(move || drop(guards));
    });
    let stats = pool.stats();
    assert_eq!(
        (stats.returned, stats.idle_buffers, stats.dropped_oversized),
        (4, 2, 1),
        "(returned, idle_buffers, dropped_oversized): \
         guards are Send: dropped on another thread, they still go back to the pool (the one \
         above the largest class is dropped, as on any thread)"
    );
    assert_consistent(&pool, "after guards dropped on another thread");
}

#[test]
fn each_thread_gets_back_the_buffer_it_handed_back_itself() {
    let pool = BufferPool::new();
    let (both_hold, mine_back, theirs_back) = (Barrier::new(2), Barrier::new(2), Barrier::new(2));
    thread::scope(|s| {
        s.spawn(|| {
            let theirs = pool.get(256);
            let address = theirs.as_ptr();
            both_hold.wait();
            mine_back.wait(); // this test's thread has handed its buffer back first
            drop(theirs);
            theirs_back.wait();
            assert_eq!(
                pool.get(256).as_ptr(),
                address,
                "the other thread's next get must serve the buffer it handed back itself, from \
                 its own private cache"
            );
        });
        let mine = pool.get(256);
        let address = mine.as_ptr();
        both_hold.wait();
        drop(mine);
        mine_back.wait();
        theirs_back.wait();
        assert_eq!(
            pool.get(256).as_ptr(),
            address,
            "this thread's next get must serve the buffer it handed back itself, from its own \
             private cache, although another thread handed one back after it"
        );
    });
}

#[test]
fn a_buffer_in_use_is_never_handed_to_another_thread() {
    let pool = BufferPool::new();
    drop(pool.get(64)); // one idle buffer, in this thread's private cache
    let mut mine = pool.get(64); // ... and now in use again
    mine.extend_from_slice(b"mine");
    let address = mine.as_ptr();
    let theirs = thread::scope(|s| {
        s.spawn(|| pool.get(64).as_ptr() as usize)
            .join()
            .expect("no panic")
    });
    assert_ne!(
        theirs, address as usize,
        "the only pooled buffer is in use on this thread, so the other thread's get must make \
         a new one: a buffer in use belongs to its holder until the guard is dropped"
    );
    assert_eq!(&mine[..], b"mine", "the buffer in use is untouched");
}

#[test]
fn stats_can_be_read_while_other_threads_use_the_pool() {
    within(60, "stats() beside a busy thread", || {
        let pool = build(
            BufferPool::builder().max_idle_per_class(10),
            "a pool with max_idle_per_class(10)",
        );
        let done = AtomicBool::new(false);
        /// Sets `done` when the busy thread ends, even by a panic, so that the
        /// loop below ends too and the panic is reported.
        struct Done<'a>(&'a AtomicBool);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::Release);
            }
        }
        thread::scope(|s| {
            s.spawn(|| {
                let _done = Done(&done);
                for i in 0..ROUNDS {
                    let held: Vec<_> = (0..i % 14).map(|_| pool.get(512)).collect();
                    drop(held);
                    pool.put(Vec::with_capacity(700));
                }
            });
            let mut last = zero_stats();
            while !done.load(Ordering::Acquire) {
                let stats = pool.stats();
                assert_eq!(
                    stats.gets,
                    stats.hits + stats.misses,
                    "stats() read while another thread works may be a moment old, but gets must \
                     still be hits + misses ({stats:?})"
                );
                assert!(
                    stats.gets >= last.gets && stats.returned >= last.returned,
                    "counters only go up: a later stats() must not show fewer gets or returns \
                     than an earlier one ({last:?}, then {stats:?})"
                );
                assert!(
                    class(&pool, 512).idle <= 10,
                    "the class's idle buffers stay within max_idle_per_class(10) at every moment"
                );
                last = stats;
                thread::yield_now();
            }
        });
        let stats = pool.stats();
        assert_eq!(
            stats.returned,
            stats.gets + ROUNDS as u64,
            "once the other thread is done, the counters are exact: every get was handed back, \
             and every put counted ({stats:?})"
        );
    });
}

#[test]
fn a_thread_started_after_another_exited_takes_over_its_private_caches() {
    let pool = BufferPool::new();
    let rounds = if cfg!(miri) { 4 } else { 20 };
    for _ in 0..rounds {
        // Each thread is joined before the next starts: a join waits until
        // the thread has exited, thread-locals and all.
        thread::scope(|s| {
            s.spawn(|| drop(pool.get(1024))).join().expect("no panic");
        });
    }
    let stats = pool.stats();
    assert!(
        stats.hits > 0,
        "{rounds} threads, one after another, each got and handed back one buffer, and none \
         found the buffer its predecessor left in its private cache ({stats:?}): a thread's \
         slot number must be given back when it exits, so that the next thread takes over the \
         exited thread's part of the pool instead of leaving it to nobody"
    );
}

#[test]
fn a_slot_emptied_on_another_thread_can_be_refilled_by_its_owner() {
    // The other thread grows the buffer lent from this thread's slot, so that
    // its guard takes it out of the slot; this thread then hands buffers back,
    // which fills the empty slot again. Nothing else orders the two threads'
    // uses of the slot: under Miri, a data race here is reported as such.
    let pool = with_sizes(&[64, 4096]);
    drop(pool.get(64)); // the slot of this thread's private cache is full
    let guard = pool.get(64); // ... and lent in place
    let (to_other, from_owner) = mpsc::channel::<PooledBuffer<'_>>();
    let grown_and_dropped = AtomicBool::new(false);
    thread::scope(|s| {
        let flag = &grown_and_dropped;
        s.spawn(move || {
            let mut buf = from_owner.recv().expect("the owner sends the guard");
            buf.extend_from_slice(&[5; 100]); // grows past 64 bytes: it leaves the slot
            drop(buf);
            flag.store(true, Ordering::Relaxed);
        });
        to_other.send(guard).expect("the other thread is alive");
        // Relaxed on purpose: this flag must not order anything itself.
        while !grown_and_dropped.load(Ordering::Relaxed) {
            thread::yield_now();
        }
        for _ in 0..4 {
            pool.put(Vec::with_capacity(64));
        }
    });
    let stats = pool.stats();
    assert_eq!(
        (stats.returned, stats.idle_buffers, stats.dropped_full),
        (6, 5, 0),
        "(returned, idle_buffers, dropped_full): the buffer that grew (filed in the 64-byte \
         class, the largest its capacity covers) and the 4 put are all kept; \
         a buffer that left the slot on another thread leaves the slot empty for its owner to \
         fill again ({stats:?})"
    );
}

/// The pool of the thread-exit test: a guard that borrows it can live in a
/// thread-local, whose destructor runs as the thread exits.
static EXIT_POOL: OnceLock<BufferPool> = OnceLock::new();

/// Uses [`EXIT_POOL`] from its destructor, while its thread's thread-locals
/// are being destroyed.
struct UsesThePoolOnExit;

impl Drop for UsesThePoolOnExit {
    fn drop(&mut self) {
        let pool = EXIT_POOL.get().expect("the test sets the pool first");
        drop(pool.get(100));
        pool.put(Vec::with_capacity(64));
        drop(pool.get(100));
    }
}

thread_local! {
    static ON_EXIT: UsesThePoolOnExit = const { UsesThePoolOnExit };
}

#[test]
fn a_thread_can_use_the_pool_while_its_thread_locals_are_destroyed() {
    let pool = EXIT_POOL.get_or_init(BufferPool::new);
    thread::spawn(|| {
        // First used before the pool, so destroyed after the pool's own
        // thread-local: the thread has no place of its own in the pool then.
        ON_EXIT.with(|_| {});
        drop(pool.get(100));
    })
    .join()
    .expect("a thread that uses the pool as it exits must not panic");
    let stats = pool.stats();
    assert_eq!(
        (stats.gets, stats.hits, stats.returned, stats.idle_buffers),
        (3, 1, 4, 3),
        "(gets, hits, returned, idle_buffers): \
         the thread got a buffer, then, while exiting, got one (a miss: its own buffer is out \
         of reach now), put one, and got the one it had handed back (a hit); every counter must \
         count what happened, whatever state the thread was in ({stats:?})"
    );
    assert_consistent(pool, "after a thread used the pool as it exited");
}

/// Gets, writes and hand-backs per thread in the stress test; Miri runs far fewer.
const ROUNDS: usize = if cfg!(miri) { 150 } else { 10_000 };

/// Buffers held at a time in the stress test, and their addresses.
struct Held {
    addresses: Mutex<HashSet<usize>>,
}

impl Held {
    /// Takes a buffer from the pool and checks that nobody else holds it.
    fn take<'a>(&self, pool: &'a BufferPool, size: usize) -> PooledBuffer<'a> {
        let mut buf = pool.get(size);
        assert!(
            buf.is_empty() && buf.capacity() >= size,
            "get({size}) must hand out an empty buffer of at least {size} bytes, got length {} \
             and capacity {}",
            buf.len(),
            buf.capacity()
        );
        let fresh = self
            .addresses
            .lock()
            .expect("no panic while held")
            .insert(buf.as_ptr() as usize);
        assert!(
            fresh,
            "the buffer at {:p} was handed to a second holder while the first still had it: a \
             pool must never lend one buffer twice",
            buf.as_ptr()
        );
        let address = buf.as_ptr() as usize;
        buf.extend_from_slice(&address.to_le_bytes());
        buf
    }

    /// Checks that the buffer still holds what its holder wrote, then hands it back.
    fn give_back(&self, buf: PooledBuffer<'_>) {
        assert_eq!(
            buf[..],
            (buf.as_ptr() as usize).to_le_bytes(),
            "a buffer in use was written by someone else"
        );
        self.addresses
            .lock()
            .expect("no panic while held")
            .remove(&(buf.as_ptr() as usize));
        drop(buf);
    }
}

#[test]
fn two_threads_hammering_the_pool_lose_no_buffer_and_lend_none_twice() {
    within(120, "the two-thread stress test", || {
        let pool = build(
            BufferPool::builder()
                .sizes(&[64, 256, 1024])
                .max_idle_per_class(16)
                .max_idle_bytes(16 * 1024),
            "a pool of three classes with max_idle_per_class(16) and max_idle_bytes(16 KiB)",
        );
        let held = Held {
            addresses: Mutex::new(HashSet::new()),
        };
        let (to_consumer, from_producer) = mpsc::sync_channel::<PooledBuffer<'_>>(8);
        thread::scope(|s| {
            // The producer sends every other buffer to the consumer, which hands
            // it back there: guards lent in place on one thread are returned on
            // the other, and the consumer's private caches overflow to the
            // shared lists, where the producer finds them.
            let (pool, held) = (&pool, &held);
            s.spawn(move || {
                for i in 0..ROUNDS {
                    let buf = held.take(pool, [10, 200, 1000][i % 3]);
                    if i % 2 == 0 {
                        to_consumer.send(buf).expect("the consumer is alive");
                    } else {
                        held.give_back(buf);
                    }
                }
            });
            s.spawn(move || {
                for i in 0..ROUNDS {
                    let buf = held.take(pool, [1000, 64, 100][i % 3]);
                    held.give_back(buf);
                    while let Ok(sent) = from_producer.try_recv() {
                        held.give_back(sent);
                    }
                }
                for sent in from_producer {
                    held.give_back(sent);
                }
            });
        });
        let stats = pool.stats();
        assert_consistent(&pool, "after the stress test");
        assert_eq!(
            stats.gets,
            2 * ROUNDS as u64,
            "two threads made {ROUNDS} gets each"
        );
        assert_eq!(
            stats.returned, stats.gets,
            "every buffer got was handed back, so returned must equal gets ({stats:?}); a \
             return that is missing was counted and lost: a counter written after the store \
             that hands the slot on to its next user can be lost, as that user may be writing \
             it at the same time"
        );
        assert!(
            pool.class_stats().iter().all(|c| c.idle <= 16) && stats.idle_bytes <= 16 * 1024,
            "the limits hold for all threads together: {:?}, {stats:?}",
            pool.class_stats()
        );
        assert_eq!(
            stats.idle_buffers as u64,
            stats.misses - stats.dropped_full,
            "every buffer made (a miss) is either idle or was dropped as full; one that is \
             neither was lost ({stats:?})"
        );
        assert!(
            stats.hits >= ROUNDS as u64,
            "only {} of {} gets were hits: with buffers handed back all the time, most gets \
             must find one",
            stats.hits,
            stats.gets
        );
    });
}
