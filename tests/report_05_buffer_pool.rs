//! Chapter 05's analysis, counted. The seed's three pitfalls on one workload
//! of request sizes: the class table (the default one, one tuned to the
//! workload, and one far too fine), buffers handed back with data, and
//! buffers that grew huge; then what threads see of each other's buffers;
//! and how glibc serves a 256 KiB request the first time and afterwards.
//! insta keeps the reports, and the book includes them.

mod heap_profile;

use std::fmt::Write;
use std::hint::black_box;

use buffer_pool::{BufferPool, BufferStats};

#[global_allocator]
static ALLOC: thread_heap::Counting = thread_heap::Counting;

/// Requests of the workload.
const REQUESTS: usize = 10_000;
/// Requests in flight at once: each request holds its buffer until this many
/// later requests have started.
const IN_FLIGHT: usize = 16;

/// The request sizes of the workload, the same every run: half of them
/// 100–300 bytes (headers), a third 500–1,000 (small bodies), about one in
/// eight 2,000–4,000, and three in a hundred 10,000–30,000.
fn workload() -> Vec<usize> {
    let mut seed = 0x2545_F491_4F6C_DD1D_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    (0..REQUESTS)
        .map(|_| {
            let (low, high) = match next() % 100 {
                0..50 => (100, 300),
                50..85 => (500, 1_000),
                85..97 => (2_000, 4_000),
                _ => (10_000, 30_000),
            };
            low + (next() % (high - low + 1) as u64) as usize
        })
        .collect()
}

/// Heap allocations made by this thread while `work` runs.
fn allocations(work: impl FnOnce()) -> u64 {
    let before = thread_heap::counts();
    work();
    thread_heap::counts().since(before).made
}

/// What one run of the workload did.
struct Run {
    stats: Option<BufferStats>,
    allocations: u64,
    /// Capacity handed out, summed over every request.
    capacity: usize,
    /// Gets whose buffer still held bytes of an earlier user.
    dirty: usize,
}

/// Serves the workload: each request gets a buffer of its size, fills it,
/// and hands it back `IN_FLIGHT` requests later.
fn serve<B: AsMut<Vec<u8>>>(sizes: &[usize], mut buffer: impl FnMut(usize) -> B) -> Run {
    let mut capacity = 0;
    let mut dirty = 0;
    let allocations = allocations(|| {
        let mut in_flight: Vec<Option<B>> = (0..IN_FLIGHT).map(|_| None).collect();
        for (i, &size) in sizes.iter().enumerate() {
            let mut buf = buffer(size);
            let vec = buf.as_mut();
            dirty += usize::from(!vec.is_empty());
            capacity += vec.capacity();
            vec.resize(size, b'x');
            in_flight[i % IN_FLIGHT] = Some(black_box(buf));
        }
    });
    Run {
        stats: None,
        allocations,
        capacity,
        dirty,
    }
}

/// A `PooledBuffer` as the `AsMut<Vec<u8>>` that [`serve`] writes through.
struct Request<'a>(buffer_pool::PooledBuffer<'a>);

impl AsMut<Vec<u8>> for Request<'_> {
    fn as_mut(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }
}

/// The workload through a pool with these classes.
fn through_pool(sizes: &[usize], table: &[usize]) -> Run {
    let pool = BufferPool::with_sizes(table).expect("a valid table");
    let mut run = serve(sizes, |size| Request(pool.get(size)));
    run.stats = Some(pool.stats());
    run
}

#[test]
fn the_seeds_pitfalls_threads_and_glibc() {
    // Before anything else frees a large block: see `mmap_threshold`.
    let glibc = mmap_threshold();
    let _profiler = heap_profile::profiler();

    let sizes = workload();
    let asked: usize = sizes.iter().sum();
    let default_table: Vec<usize> = BufferPool::new().sizes().to_vec();
    let tables: [(&str, Vec<usize>); 3] = [
        ("default", default_table),
        ("tuned", vec![64, 256, 1024, 4096]),
        ("too fine", vec![10, 20, 30]),
    ];

    let mut report = String::new();
    writeln!(
        report,
        "{REQUESTS} requests, {IN_FLIGHT} in flight at once; sizes: half 100-300 B, a third \
         500-1000 B,\nabout 1 in 8 2000-4000 B, 3 in 100 10000-30000 B ({asked} bytes asked \
         for in all).\nEach request gets a buffer, fills it to its size, and hands it back."
    )
    .unwrap();
    writeln!(
        report,
        "\ntable     classes                  hit rate  misses  dropped (over/under/full)  \
         idle buffers  idle bytes  capacity / asked  heap allocs  dirty gets"
    )
    .unwrap();
    for (name, table) in &tables {
        let run = through_pool(&sizes, table);
        let stats = run.stats.expect("a pool run has stats");
        assert_eq!(
            stats.gets,
            stats.hits + stats.misses,
            "every get is a hit or a miss"
        );
        assert_eq!(stats.returned, stats.gets, "every buffer came back");
        let classes = if table.len() > 4 {
            format!("{}..{} ({})", table[0], table[table.len() - 1], table.len())
        } else {
            format!("{table:?}")
        };
        writeln!(
            report,
            "{name:<9} {classes:<24} {:>7.1}%  {:>6}  {:>25}  {:>12}  {:>10}  {:>16.2}  {:>11}  {:>10}",
            stats.hit_rate() * 100.0,
            stats.misses,
            format!(
                "{}/{}/{}",
                stats.dropped_oversized, stats.dropped_undersized, stats.dropped_full
            ),
            stats.idle_buffers,
            stats.idle_bytes,
            run.capacity as f64 / asked as f64,
            run.allocations,
            run.dirty
        )
        .unwrap();
    }
    let plain = serve(&sizes, Vec::<u8>::with_capacity);
    writeln!(
        report,
        "{:<9} {:<24} {:>8}  {:>6}  {:>25}  {:>12}  {:>10}  {:>16.2}  {:>11}  {:>10}",
        "no pool",
        "a Vec per request",
        "-",
        "-",
        "-",
        "-",
        "-",
        plain.capacity as f64 / asked as f64,
        plain.allocations,
        plain.dirty
    )
    .unwrap();
    writeln!(
        report,
        "\ncapacity / asked: buffer capacity handed out per byte asked for (rounding up to a \
         class).\nheap allocs: this thread's heap allocations while serving, the pool's \
         included.\ndirty gets: gets whose buffer still held bytes of an earlier user."
    )
    .unwrap();

    writeln!(report, "\n{}", grown_buffers()).unwrap();
    writeln!(report, "\n{}", across_threads()).unwrap();

    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!("pitfalls", report);
    });
    if let Some(glibc) = glibc {
        insta::with_settings!({ omit_expression => true }, {
            insta::assert_snapshot!("mmap_threshold", glibc);
        });
    }
}

/// Pitfall 3: 2,000 requests of 1,000 bytes, where one in 100 writes 1 MiB
/// into its buffer, so the buffer grows. The default pool drops a buffer
/// that comes back larger than its largest class; a pool whose table
/// reaches 1 MiB keeps it, for requests that never ask for that much.
fn grown_buffers() -> String {
    let mut report = String::from(
        "2000 requests of 1000 B, one at a time; one in 100 writes 1 MiB into its buffer:\n\
         table                    dropped oversized  idle buffers  idle bytes  heap allocs",
    );
    let tables: [(&str, Vec<usize>); 2] = [
        ("default (to 64 KiB)", BufferPool::new().sizes().to_vec()),
        ("64 B to 1 MiB", (6..=20).map(|power| 1 << power).collect()),
    ];
    for (name, table) in tables {
        let pool = BufferPool::with_sizes(&table).expect("a valid table");
        let made = allocations(|| {
            for i in 0..2_000 {
                let mut buf = pool.get(1_000);
                let size = if i % 100 == 49 { 1 << 20 } else { 1_000 };
                buf.resize(size, b'x');
                black_box(&buf);
            }
        });
        let stats = pool.stats();
        write!(
            report,
            "\n{name:<24} {:>17}  {:>12}  {:>10}  {made:>11}",
            stats.dropped_oversized, stats.idle_buffers, stats.idle_bytes
        )
        .unwrap();
    }
    report
}

/// What one thread's hand-backs are to another: thread A holds 20 buffers of
/// one class and hands them back, and thread B then gets 20. Once with A
/// still alive (B takes only what A's private cache could not keep), once
/// with A gone (B is given A's slot number, and with it A's private caches).
fn across_threads() -> String {
    let mut report = String::from(
        "Thread A gets 20 buffers of 1 KiB and hands them back; then thread B gets 20:\n\
         A when B gets  B's hits  B's misses  idle after",
    );
    let twenty = |pool: &BufferPool| drop((0..20).map(|_| pool.get(1024)).collect::<Vec<_>>());
    for a_alive in [true, false] {
        let pool = BufferPool::new();
        let (handed_back, b_done) = (std::sync::Barrier::new(2), std::sync::Barrier::new(2));
        std::thread::scope(|s| {
            // Joined one by one: a join waits until the thread has given its
            // slot number back, so each run sees the same numbers.
            if a_alive {
                let a = s.spawn(|| {
                    twenty(&pool);
                    handed_back.wait();
                    b_done.wait(); // A stays alive until B is done
                });
                handed_back.wait();
                let b = s.spawn(|| twenty(&pool));
                b.join().expect("B does not panic");
                b_done.wait();
                a.join().expect("A does not panic");
            } else {
                s.spawn(|| twenty(&pool)).join().expect("A does not panic");
                s.spawn(|| twenty(&pool)).join().expect("B does not panic");
            }
        });
        let stats = pool.stats();
        write!(
            report,
            "\n{:<13}  {:>8}  {:>10}  {:>10}",
            if a_alive { "alive" } else { "exited" },
            stats.hits,
            stats.misses - 20,
            stats.idle_buffers
        )
        .unwrap();
    }
    report
}

/// How glibc serves a 256 KiB request: the first with `mmap`, later ones
/// from the heap, once the first free has raised the mmap threshold. Counted
/// with glibc's `mallinfo2` (chunks mapped now); `None` on other platforms.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn mmap_threshold() -> Option<String> {
    /// glibc's `struct mallinfo2` (`malloc.h`, glibc 2.33 and later).
    #[repr(C)]
    struct MallInfo2 {
        arena: usize,
        ordblks: usize,
        smblks: usize,
        hblks: usize,
        hblkhd: usize,
        usmblks: usize,
        fsmblks: usize,
        uordblks: usize,
        fordblks: usize,
        keepcost: usize,
    }
    unsafe extern "C" {
        fn mallinfo2() -> MallInfo2;
    }
    /// Chunks glibc has mapped with `mmap` now.
    fn mapped() -> usize {
        // SAFETY: `mallinfo2` takes nothing and returns a struct by value.
        unsafe { mallinfo2() }.hblks
    }

    let mut report = String::from("call  size     served by");
    for (call, size) in [
        (1, 256 << 10),
        (2, 256 << 10),
        (3, 256 << 10),
        (4, 64 << 10),
    ] {
        let before = mapped();
        let buf = black_box(Vec::<u8>::with_capacity(size));
        let by = if mapped() > before {
            "mmap"
        } else {
            "the heap"
        };
        drop(buf);
        write!(report, "\n{call:>4}  {:>3} KiB  {by}", size >> 10).unwrap();
    }
    Some(report)
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn mmap_threshold() -> Option<String> {
    None
}
