//! Heap behaviour of the pool, counted exactly on the test's own thread.
//! This is the only test in its file: dhat counts every allocation in the
//! process.

use worker_pool::WorkerPool;

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

#[test]
#[cfg_attr(miri, ignore = "dhat's heap profiler does not run under Miri")]
fn a_task_costs_one_box_and_a_submitted_one_a_box_and_a_slot() {
    let _profiler = dhat::Profiler::builder().testing().build();
    deadline::within(30, "the heap test", || {
        let pool = WorkerPool::new(2, 64).expect("2 workers and a queue of 64 are valid");

        let executed = allocations(|| {
            for i in 0..1000_u64 {
                let _ = pool.execute(move || {
                    std::hint::black_box(i);
                });
            }
        });
        assert_eq!(
            executed, 1000,
            "1000 executes of a task that captures a u64 made {executed} heap allocations on \
             the submitting thread: each must box its task (one allocation) and nothing else \
             (the queue of 64 tasks is made once, in new, and never grows)"
        );

        let empty = allocations(|| {
            for _ in 0..1000 {
                let _ = pool.execute(|| {});
            }
        });
        assert_eq!(
            empty, 0,
            "1000 executes of a task that captures nothing made {empty} heap allocations: a \
             Box of a zero-sized closure allocates nothing, and neither may the pool"
        );
        pool.wait_idle();

        let mut handles = Vec::with_capacity(32);
        let submitted = allocations(|| {
            for i in 0..32_u64 {
                handles.push(pool.submit(move || i).expect("the pool is open"));
            }
        });
        assert_eq!(
            submitted, 64,
            "32 submits made {submitted} heap allocations: each must box its task and make the \
             one slot its handle reads the answer from (two allocations), and nothing else"
        );
        let mut sum = 0;
        let joined = allocations(|| {
            for handle in handles.drain(..) {
                sum += handle.join().expect("the task returns its number");
            }
        });
        assert_eq!(sum, (0..32).sum::<u64>());
        assert_eq!(
            joined, 0,
            "joining 32 handles made {joined} heap allocations: the answer is already in its \
             slot, so join must allocate nothing"
        );
    });
}
