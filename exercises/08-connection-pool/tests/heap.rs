//! Heap behaviour of the pool, counted exactly on the test's own thread.
//! This is the only test in its file: dhat counts every allocation in the process.

use connection_pool::{ConnectionPool, ManageConnection, PoolConfig};

// dhat's allocator, counting exactly what this test's own thread allocates
// (support/thread-heap says why a process-wide count is not enough).
#[global_allocator]
static ALLOC: thread_heap::Counting = thread_heap::Counting;

/// Heap allocations (and reallocations) made by this thread while `work` runs.
fn allocations(work: impl FnOnce()) -> u64 {
    let before = thread_heap::counts();
    work();
    thread_heap::counts().since(before).made
}

/// Connections that are numbers: connecting allocates nothing of its own.
struct Numbers;

impl ManageConnection for Numbers {
    type Connection = u64;
    type Error = std::io::Error;

    fn connect(&self) -> Result<u64, std::io::Error> {
        Ok(7)
    }

    fn is_valid(&self, _conn: &mut u64) -> Result<(), std::io::Error> {
        Ok(())
    }

    fn has_broken(&self, conn: &mut u64) -> bool {
        *conn == 0
    }
}

#[test]
#[cfg_attr(miri, ignore = "dhat's heap profiler does not run under Miri")]
fn get_and_drop_of_an_idle_connection_allocate_nothing() {
    let _profiler = dhat::Profiler::builder().testing().build();

    for test_on_checkout in [false, true] {
        let config = PoolConfig {
            max_size: 4,
            test_on_checkout,
            ..PoolConfig::default()
        };
        let pool = ConnectionPool::new(Numbers, config).expect("a valid configuration");
        // The first connections and returns give the idle list its room.
        let warm: Vec<_> = (0..4).map(|_| pool.get().expect("room for 4")).collect();
        drop(warm);

        let pairs = allocations(|| {
            for _ in 0..1000 {
                let conn = pool.get().expect("4 are idle");
                assert_eq!(*conn, 7);
            }
        });
        assert_eq!(
            pairs, 0,
            "1000 get + drop pairs of an idle connection (test_on_checkout {test_on_checkout}) \
             made {pairs} heap allocations; handing out a connection the pool already has and \
             taking it back must allocate nothing (not a Box for the guard, not a new Vec)"
        );

        let four_at_once = allocations(|| {
            for _ in 0..100 {
                let held: [_; 4] = std::array::from_fn(|_| pool.get().expect("4 are idle"));
                drop(held);
            }
        });
        assert_eq!(
            four_at_once, 0,
            "taking all 4 idle connections and returning them made {four_at_once} heap \
             allocations; the idle list keeps its room, so it must allocate nothing"
        );
        let stats = pool.stats();
        assert_eq!(
            (stats.opened, stats.idle, stats.in_use),
            (4, 4, 0),
            "4 connections opened, all idle again"
        );
    }
}
