//! Chapter 07 tests. The very same file runs against your exercise
//! (`cargo run -- check 07`) and against the reference solution (`cargo test`).
//!
//! Several tests make tasks panic on purpose; their panic messages say so,
//! and you will see them printed when a test fails: they are not the failure.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::thread;
use std::time::Duration;

use deadline::within;
use worker_pool::{ConfigError, SubmitError, TaskError, TaskHandle, WorkerPool, WorkerStats};

// ---------------------------------------------------------------- helpers

/// Seconds a test may take before it counts as hung.
const LIMIT: u64 = 20;

/// Many, or a few under Miri, which runs threads thousands of times slower.
fn many(n: usize) -> usize {
    if cfg!(miri) { n.min(20) } else { n }
}

/// A pool the test needs, with a message that says why it must work.
fn pool(workers: usize, queue_capacity: usize) -> WorkerPool {
    WorkerPool::new(workers, queue_capacity).unwrap_or_else(|err| {
        panic!(
            "WorkerPool::new({workers}, {queue_capacity}) must succeed: both are at least 1, \
             but it said {err:?}"
        )
    })
}

/// Keeps one worker busy until the returned sender is used or dropped.
/// Returns once the task has started, so the worker is busy for sure.
fn occupy(pool: &WorkerPool) -> mpsc::Sender<()> {
    let (release, blocked) = mpsc::channel::<()>();
    let (started, running) = mpsc::channel();
    let accepted = pool.execute(move || {
        let _ = started.send(());
        let _ = blocked.recv();
    });
    assert!(
        accepted.is_ok(),
        "an open pool with room in its queue must accept a task"
    );
    running
        .recv()
        .expect("a task given to a pool with a free worker must start running");
    release
}

/// Gives `task` to `submit`, which must accept it.
fn submitted<T, F>(pool: &WorkerPool, task: F) -> TaskHandle<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    match pool.submit(task) {
        Ok(handle) => handle,
        Err(err) => panic!("an open pool must accept the task, but submit answered {err}"),
    }
}

/// Gives `task` to `execute`, which must accept it.
fn executed(pool: &WorkerPool, task: impl FnOnce() + Send + 'static) {
    if let Err(err) = pool.execute(task) {
        panic!("an open pool must accept the task, but execute answered {err}");
    }
}

/// Checks what every `stats()` must say, whenever it is taken.
fn assert_consistent(stats: WorkerStats, capacity: usize, when: &str) {
    assert_eq!(
        stats.submitted,
        stats.completed + stats.cancelled + stats.queued as u64 + stats.running as u64,
        "{when}: every accepted task is either finished, cancelled, waiting in the queue or \
         running, so submitted must equal completed + cancelled + queued + running ({stats:?})"
    );
    assert!(
        stats.panicked <= stats.completed,
        "{when}: a panicked task counts as completed too, so panicked can never exceed \
         completed ({stats:?})"
    );
    assert!(
        stats.queued <= stats.peak_queued && stats.peak_queued <= capacity,
        "{when}: the queue holds at most its capacity ({capacity}) and peak_queued is the most \
         it has held ({stats:?})"
    );
}

/// Runs `f` on a thread of its own; the receiver hears when it has returned.
fn in_background(f: impl FnOnce() + Send + 'static) -> mpsc::Receiver<()> {
    let (done, finished) = mpsc::channel();
    thread::spawn(move || {
        f();
        let _ = done.send(());
    });
    finished
}

/// Whether `condition` holds within 10 seconds, looked at again and again.
fn eventually(condition: impl Fn() -> bool) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if condition() {
            return true;
        }
        thread::sleep(Duration::from_millis(1));
    }
    condition()
}

/// How long a test waits to be fairly sure that something has *not*
/// happened (a blocked call that must still be blocked).
fn a_while() -> Duration {
    Duration::from_millis(if cfg!(miri) { 10 } else { 100 })
}

// ---------------------------------------------------------------- bad input

#[test]
fn new_rejects_zero_workers() {
    assert_eq!(
        WorkerPool::new(0, 8).err(),
        Some(ConfigError::ZeroWorkers),
        "a pool without workers would never run a task: new(0, 8) must be refused with \
         ConfigError::ZeroWorkers"
    );
}

#[test]
fn new_rejects_a_queue_of_zero_capacity() {
    assert_eq!(
        WorkerPool::new(2, 0).err(),
        Some(ConfigError::ZeroQueueCapacity),
        "a queue that holds nothing would refuse every task: new(2, 0) must be refused with \
         ConfigError::ZeroQueueCapacity"
    );
}

#[test]
fn new_accepts_a_huge_queue_capacity_without_reserving_it() {
    within(LIMIT, "new with a huge queue capacity", || {
        let pool = pool(1, usize::MAX);
        assert_eq!(
            submitted(&pool, || 5).join(),
            Ok(5),
            "a pool whose queue may hold usize::MAX tasks must work like any other: making \
             room for all of them up front would ask for more memory than exists"
        );
    });
}

#[test]
fn errors_explain_themselves() {
    let zero = WorkerPool::new(0, 1).err().map(|e| e.to_string());
    assert!(
        zero.as_deref().is_some_and(|m| m.contains('0')),
        "ConfigError::ZeroWorkers displays a sentence that names the 0 it refused, got {zero:?}"
    );
    let pool = pool(1, 1);
    pool.shutdown();
    let refused = pool.execute(|| ()).err();
    let text = refused
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    let debug = format!("{refused:?}");
    assert!(
        debug.contains("ShutDown"),
        "SubmitError's Debug names the variant even though a task has no Debug, got {debug:?}"
    );
    assert!(
        text.contains("shut down"),
        "SubmitError::ShutDown displays a sentence that says the pool is shut down, got {text:?}"
    );
    assert!(
        !TaskError::Cancelled.to_string().is_empty()
            && TaskError::Panicked("boom".into())
                .to_string()
                .contains("boom"),
        "TaskError displays a sentence; Panicked's includes the panic's message"
    );
}

// ---------------------------------------------------------------- types

#[test]
fn the_pool_is_send_and_sync_and_a_handle_is_send() {
    fn send_and_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let pool = pool(1, 1);
    send_and_sync(&pool);
    let handle = submitted(&pool, || 1_u8);
    send(&handle);
    let shown = format!("{pool:?} {handle:?}");
    assert!(
        shown.contains("WorkerPool") && shown.contains("TaskHandle"),
        "the pool and a handle can be printed with {{:?}}, by name, got {shown:?}"
    );
    assert_eq!(handle.join(), Ok(1));
}

#[test]
fn submit_error_is_an_error_even_for_a_task_without_debug() {
    fn error<E: std::error::Error>(_: &E) {}
    let pool = pool(1, 1);
    pool.shutdown();
    let task = || (); // closures implement no Debug
    let refused = pool
        .execute(task)
        .expect_err("a shut-down pool refuses every task");
    error(&refused);
}

// ---------------------------------------------------------------- running tasks

#[test]
fn a_new_pool_has_its_workers_and_counts_nothing() {
    let pool = pool(3, 16);
    assert_eq!(
        pool.stats(),
        WorkerStats {
            workers: 3,
            submitted: 0,
            completed: 0,
            panicked: 0,
            rejected: 0,
            cancelled: 0,
            queued: 0,
            running: 0,
            peak_queued: 0,
        },
        "new(3, 16) starts 3 workers and has run nothing yet"
    );
}

#[test]
fn workers_are_threads_named_worker_0_worker_1_and_so_on() {
    within(LIMIT, "two tasks that wait for each other", || {
        let pool = pool(2, 4);
        // Two tasks that wait for each other must run on both workers at once.
        let meet = Arc::new(Barrier::new(2));
        let names: Vec<_> = (0..2)
            .map(|_| {
                let meet = Arc::clone(&meet);
                submitted(&pool, move || {
                    meet.wait();
                    thread::current().name().map(str::to_owned)
                })
            })
            .collect();
        let names: HashSet<Option<String>> = names
            .into_iter()
            .map(|h| h.join().expect("the task returns its thread's name"))
            .collect();
        let expected: HashSet<Option<String>> =
            [Some("worker-0".to_owned()), Some("worker-1".to_owned())].into();
        assert_eq!(
            names, expected,
            "a pool of two runs its tasks on two threads of its own, named worker-0 and worker-1"
        );
    });
}

#[test]
fn execute_runs_every_task_once() {
    within(LIMIT, "running many tasks", || {
        let pool = pool(2, 8);
        let ran = Arc::new(AtomicUsize::new(0));
        let n = many(1000);
        for _ in 0..n {
            let ran = Arc::clone(&ran);
            executed(&pool, move || {
                ran.fetch_add(1, Ordering::Relaxed);
            });
        }
        pool.wait_idle();
        assert_eq!(
            ran.load(Ordering::Relaxed),
            n,
            "every task given to execute runs exactly once before wait_idle returns"
        );
        let stats = pool.stats();
        assert_eq!(
            (
                stats.submitted,
                stats.completed,
                stats.queued,
                stats.running
            ),
            (n as u64, n as u64, 0, 0),
            "after wait_idle every accepted task has completed and nothing is queued or running"
        );
        assert_consistent(stats, 8, "after wait_idle");
    });
}

#[test]
fn submit_and_join_return_the_task_value() {
    within(LIMIT, "submit and join", || {
        let pool = pool(2, 4);
        let text = submitted(&pool, || "forty-two".to_owned());
        let number = submitted(&pool, || 6 * 7);
        assert_eq!(
            number.join(),
            Ok(42),
            "join gives back what the task returned"
        );
        assert_eq!(
            text.join().as_deref(),
            Ok("forty-two"),
            "join gives back what the task returned"
        );
    });
}

#[test]
fn join_waits_for_a_task_that_has_not_finished() {
    within(LIMIT, "join on a task that is still running", || {
        let pool = pool(1, 4);
        let (release, blocked) = mpsc::channel::<u32>();
        let handle = submitted(&pool, move || blocked.recv().unwrap_or(0) + 1);
        thread::sleep(a_while());
        assert!(
            !handle.is_finished(),
            "the task waits for a value the test has not sent, so is_finished must be false"
        );
        release.send(9).expect("the task is waiting for this value");
        assert_eq!(
            handle.join(),
            Ok(10),
            "join must wait until the task has returned, then give its value"
        );
    });
}

#[test]
fn is_finished_turns_true_once_the_task_returned() {
    within(LIMIT, "waiting for a task to finish", || {
        let pool = pool(1, 4);
        let handle = submitted(&pool, || 3);
        pool.wait_idle();
        assert!(
            handle.is_finished(),
            "after wait_idle the task has returned, so is_finished must be true"
        );
        assert_eq!(handle.join(), Ok(3));
    });
}

#[test]
fn a_handle_can_be_joined_on_another_thread() {
    within(LIMIT, "join on another thread", || {
        let pool = pool(1, 4);
        let handle = submitted(&pool, || vec![1, 2, 3]);
        let joined = thread::spawn(move || handle.join())
            .join()
            .expect("joining a handle on another thread must not panic");
        assert_eq!(joined, Ok(vec![1, 2, 3]));
    });
}

#[test]
fn dropping_a_handle_does_not_cancel_its_task() {
    within(LIMIT, "a task whose handle was dropped", || {
        let pool = pool(1, 4);
        let ran = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&ran);
        drop(submitted(&pool, move || {
            counter.fetch_add(1, Ordering::Relaxed)
        }));
        pool.wait_idle();
        assert_eq!(
            ran.load(Ordering::Relaxed),
            1,
            "a task runs whether or not anybody keeps its handle"
        );
        assert_eq!(pool.stats().completed, 1);
    });
}

// ---------------------------------------------------------------- a bounded queue

#[test]
fn try_execute_answers_full_with_the_task_when_the_queue_is_full() {
    within(LIMIT, "filling the queue", || {
        let pool = pool(1, 2);
        let release = occupy(&pool);
        for i in 0..2 {
            assert!(
                pool.try_execute(|| ()).is_ok(),
                "the queue holds 2 tasks and has {i}: try_execute must accept this one"
            );
        }
        let (sent, got) = mpsc::channel();
        match pool.try_execute(move || sent.send(7).unwrap()) {
            Err(SubmitError::Full(task)) => {
                task();
                assert_eq!(
                    got.try_recv(),
                    Ok(7),
                    "Full must give back the very task that was refused"
                );
            }
            Err(SubmitError::ShutDown(_)) => {
                panic!("the pool is open, so it cannot answer ShutDown")
            }
            Ok(()) => panic!(
                "the only worker is busy and the queue holds its 2 tasks: try_execute must \
                 answer Full instead of queueing a third"
            ),
        }
        let stats = pool.stats();
        assert_eq!(
            (
                stats.rejected,
                stats.submitted,
                stats.queued,
                stats.peak_queued
            ),
            (1, 3, 2, 2),
            "one refusal counted in rejected; three tasks accepted, two of them queued"
        );
        assert_consistent(stats, 2, "with the queue full");
        drop(release);
    });
}

#[test]
fn execute_waits_for_room_while_the_queue_is_full() {
    within(LIMIT, "execute on a full queue", || {
        let pool = Arc::new(pool(1, 1));
        let release = occupy(&pool);
        executed(&pool, || ()); // the queue is full now
        let ran = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&ran);
        let submitter = Arc::clone(&pool);
        let returned = in_background(move || {
            let accepted = submitter.execute(move || {
                counter.fetch_add(1, Ordering::Relaxed);
            });
            assert!(
                accepted.is_ok(),
                "execute must accept the task once there is room"
            );
        });
        assert!(
            returned.recv_timeout(a_while()).is_err(),
            "the queue is full and its worker busy: execute must wait for room, not return \
             (nor answer Full: that is try_execute's answer)"
        );
        release.send(()).expect("the first task waits for this");
        returned
            .recv()
            .expect("once the worker takes a task from the queue, the waiting execute must return");
        pool.wait_idle();
        assert_eq!(
            ran.load(Ordering::Relaxed),
            1,
            "the task that waited for room ran"
        );
        assert_eq!(
            pool.stats().rejected,
            0,
            "a task that waited and was accepted is not rejected"
        );
    });
}

#[test]
fn two_threads_submitting_at_once_lose_no_task() {
    within(LIMIT, "two submitters and a small queue", || {
        let pool = Arc::new(pool(2, 4));
        let ran = Arc::new(AtomicUsize::new(0));
        let per_thread = many(2000);
        let submitters: Vec<_> = (0..2)
            .map(|_| {
                let pool = Arc::clone(&pool);
                let ran = Arc::clone(&ran);
                thread::spawn(move || {
                    for i in 0..per_thread {
                        let ran = Arc::clone(&ran);
                        let task = move || {
                            ran.fetch_add(1, Ordering::Relaxed);
                        };
                        if i % 2 == 0 {
                            executed(&pool, task);
                        } else {
                            // try_execute until accepted
                            let mut task = task;
                            loop {
                                match pool.try_execute(task) {
                                    Ok(()) => break,
                                    Err(SubmitError::Full(back)) => {
                                        task = back;
                                        thread::yield_now();
                                    }
                                    Err(SubmitError::ShutDown(_)) => {
                                        panic!("nobody shut the pool down")
                                    }
                                }
                            }
                        }
                    }
                })
            })
            .collect();
        let reader = {
            let pool = Arc::clone(&pool);
            thread::spawn(move || {
                for _ in 0..many(2000) {
                    assert_consistent(pool.stats(), 4, "while two threads submit");
                }
            })
        };
        for s in submitters {
            s.join().expect("a submitting thread must not panic");
        }
        reader
            .join()
            .expect("stats() read during the run must always be consistent");
        pool.wait_idle();
        let stats = pool.stats();
        let total = 2 * per_thread;
        assert_eq!(
            ran.load(Ordering::Relaxed),
            total,
            "every accepted task runs exactly once, whichever thread submitted it"
        );
        assert_eq!(
            (stats.submitted, stats.completed),
            (total as u64, total as u64),
            "every accepted task is counted once in submitted and once in completed"
        );
        assert_eq!(
            stats.submitted + stats.rejected,
            total as u64 + stats.rejected,
            "rejected counts only the Full answers"
        );
        assert_consistent(stats, 4, "after two threads submitted");
    });
}

#[test]
fn running_and_queued_count_what_is_in_flight() {
    within(LIMIT, "two busy workers", || {
        let pool = pool(2, 8);
        let first = occupy(&pool);
        let second = occupy(&pool);
        for _ in 0..3 {
            executed(&pool, || ());
        }
        let stats = pool.stats();
        assert_eq!(
            (stats.running, stats.queued, stats.peak_queued),
            (2, 3, 3),
            "two tasks hold both workers and three wait in the queue"
        );
        assert_consistent(stats, 8, "with both workers busy");
        drop((first, second));
        pool.wait_idle();
        let stats = pool.stats();
        assert_eq!(
            (stats.running, stats.queued, stats.peak_queued),
            (0, 0, 3),
            "after wait_idle nothing runs or waits, and peak_queued still remembers 3"
        );
    });
}

// ---------------------------------------------------------------- panics

#[test]
fn a_panicking_task_answers_panicked_with_its_message() {
    within(LIMIT, "a task that panics", || {
        let pool = pool(1, 4);
        let literal = submitted(&pool, || -> u32 { panic!("this task panics on purpose") });
        let formatted = submitted(&pool, || -> u32 {
            panic!("task {} panics on purpose", 2);
        });
        assert_eq!(
            literal.join(),
            Err(TaskError::Panicked(
                "this task panics on purpose".to_owned()
            )),
            "a panic!(\"literal\") payload is a &str: join must answer Panicked with that text"
        );
        assert_eq!(
            formatted.join(),
            Err(TaskError::Panicked("task 2 panics on purpose".to_owned())),
            "a panic!(\"{{}}\", x) payload is a String: join must answer Panicked with that text"
        );
    });
}

#[test]
fn a_panic_that_is_not_a_string_is_reported_as_box_dyn_any() {
    within(LIMIT, "a task that panics with a number", || {
        let pool = pool(1, 4);
        let handle = submitted(&pool, || -> u32 { std::panic::panic_any(7_u32) });
        assert_eq!(
            handle.join(),
            Err(TaskError::Panicked("Box<dyn Any>".to_owned())),
            "a payload that is neither &str nor String has no text: the message is \
             \"Box<dyn Any>\", as std's own panic report says"
        );
    });
}

#[test]
fn many_panics_in_a_row_kill_no_worker() {
    within(LIMIT, "a hundred panicking tasks", || {
        // Room for every task, so that submitting never waits for a worker.
        let pool = pool(2, 128);
        let n = many(100);
        for i in 0..n {
            if i % 2 == 0 {
                executed(&pool, || panic!("execute's task panics on purpose"));
            } else {
                drop(submitted(&pool, || {
                    panic!("submit's task panics on purpose")
                }));
            }
        }
        // Not wait_idle: if a panic killed a worker, its task never finishes.
        let finished = eventually(|| pool.stats().completed >= n as u64);
        let stats = pool.stats();
        assert!(
            finished,
            "{n} tasks that panic were accepted, but after 10 s completed counts only {} of them: \
             a task's panic must end that task, not the worker that ran it, and the \
             worker must count it and go on ({stats:?})",
            stats.completed
        );
        assert_eq!(
            stats.workers, 2,
            "a panicking task must never kill its worker: workers must stay 2 ({stats:?})"
        );
        assert_eq!(
            (stats.panicked, stats.completed),
            (n as u64, n as u64),
            "every panicked task is counted in panicked and in completed"
        );
        let later = submitted(&pool, || "still working");
        assert_eq!(
            later.join(),
            Ok("still working"),
            "after many panics the pool must still run tasks"
        );
        let meet = Arc::new(Barrier::new(2));
        let both: Vec<_> = (0..2)
            .map(|_| {
                let meet = Arc::clone(&meet);
                submitted(&pool, move || {
                    meet.wait();
                })
            })
            .collect();
        for handle in both {
            assert_eq!(
                handle.join(),
                Ok(()),
                "two tasks that wait for each other need both workers alive after the panics"
            );
        }
        assert_consistent(pool.stats(), 128, "after many panics");
    });
}

// ---------------------------------------------------------------- wait_idle

#[test]
fn wait_idle_on_an_idle_pool_returns_at_once() {
    within(5, "wait_idle on a pool with nothing to do", || {
        let pool = pool(2, 4);
        pool.wait_idle();
        let handle = submitted(&pool, || ());
        assert_eq!(handle.join(), Ok(()));
        pool.wait_idle();
    });
}

#[test]
fn wait_idle_waits_for_running_tasks_not_only_for_an_empty_queue() {
    within(LIMIT, "wait_idle while a task runs", || {
        let pool = pool(2, 4);
        let done = Arc::new(AtomicUsize::new(0));
        let flag = Arc::clone(&done);
        let (started, running) = mpsc::channel();
        executed(&pool, move || {
            started.send(()).unwrap();
            thread::sleep(a_while());
            flag.store(1, Ordering::Release);
        });
        running.recv().expect("the task starts");
        // The queue is empty now, but the task still runs.
        pool.wait_idle();
        assert_eq!(
            done.load(Ordering::Acquire),
            1,
            "wait_idle returned while a task submitted before it was still running: an empty \
             queue is not enough, the task must have finished"
        );
    });
}

#[test]
fn wait_idle_waits_for_an_older_task_even_when_newer_ones_finished() {
    within(LIMIT, "wait_idle with a slow older task", || {
        let pool = Arc::new(pool(2, 8));
        let release = occupy(&pool); // older: submitted before wait_idle
        let waiter = Arc::clone(&pool);
        let returned = in_background(move || waiter.wait_idle());
        thread::sleep(a_while()); // wait_idle has begun waiting by now
        // Newer tasks finish on the other worker while the older one runs.
        for _ in 0..3 {
            assert_eq!(submitted(&pool, || 1).join(), Ok(1));
        }
        assert!(
            returned.recv_timeout(a_while()).is_err(),
            "wait_idle returned while the task submitted before it was still running: three \
             newer tasks finished, but counting finished tasks is not enough, that older task \
             is what it waits for"
        );
        release.send(()).expect("the older task waits for this");
        returned
            .recv()
            .expect("once the older task finished, wait_idle must return");
    });
}

#[test]
fn wait_idle_waits_for_a_task_that_started_while_others_were_queued() {
    within(
        LIMIT,
        "wait_idle with a task taken from a longer queue",
        || {
            let pool = Arc::new(pool(2, 8));
            let first = occupy(&pool);
            let second = occupy(&pool);
            // Both workers are busy: `slow` and `quick` wait in the queue.
            let (release, blocked) = mpsc::channel::<()>();
            let (started, running) = mpsc::channel();
            executed(&pool, move || {
                started.send(()).unwrap();
                let _ = blocked.recv();
            });
            executed(&pool, || ());
            first.send(()).expect("the first task waits for this");
            running.recv().expect(
                "the slow task starts once a worker is free, while the quick one still waits",
            );
            second.send(()).expect("the second task waits for this");
            let waiter = Arc::clone(&pool);
            let returned = in_background(move || waiter.wait_idle());
            assert!(
                returned.recv_timeout(a_while()).is_err(),
                "wait_idle returned while a task submitted before it still runs: that task was \
             taken from the queue while another one still waited behind it, and it is still \
             one of the tasks wait_idle must wait for"
            );
            release.send(()).expect("the slow task waits for this");
            returned
                .recv()
                .expect("once the slow task finished, wait_idle must return");
        },
    );
}

#[test]
fn wait_idle_does_not_wait_for_tasks_submitted_after_it_began() {
    within(LIMIT, "wait_idle while newer tasks arrive", || {
        let pool = Arc::new(pool(2, 8));
        let older = occupy(&pool);
        let waiter = Arc::clone(&pool);
        let returned = in_background(move || waiter.wait_idle());
        thread::sleep(a_while()); // wait_idle has begun waiting by now
        let newer = occupy(&pool); // submitted after the call, and it does not finish
        older.send(()).expect("the older task waits for this");
        returned.recv().expect(
            "every task submitted before wait_idle finished, so it must return even though a \
             task submitted later still runs",
        );
        drop(newer);
    });
}

#[test]
fn wait_idle_from_inside_a_task_panics_instead_of_waiting_for_itself() {
    within(LIMIT, "wait_idle called by a task", || {
        let pool = Arc::new(pool(1, 4));
        let inner = Arc::clone(&pool);
        let handle = submitted(&pool, move || inner.wait_idle());
        let answer = handle.join();
        assert!(
            matches!(answer, Err(TaskError::Panicked(_))),
            "a task that calls wait_idle on its own pool would wait for itself forever; it \
             must panic instead, so its handle answers Panicked, but join said {answer:?}"
        );
        assert_eq!(
            pool.stats().workers,
            1,
            "that panic, too, is caught by the worker"
        );
    });
}

// ---------------------------------------------------------------- shutdown

#[test]
fn shutdown_runs_the_queued_tasks_and_refuses_new_ones() {
    within(LIMIT, "shutdown with queued tasks", || {
        let pool = pool(1, 8);
        let release = occupy(&pool);
        let handles: Vec<_> = (0..5_u32).map(|i| submitted(&pool, move || i)).collect();
        pool.shutdown();
        let (sent, got) = mpsc::channel();
        match pool.execute(move || sent.send(1).unwrap()) {
            Err(SubmitError::ShutDown(task)) => {
                task();
                assert_eq!(
                    got.try_recv(),
                    Ok(1),
                    "ShutDown gives back the very task refused"
                );
            }
            other => panic!("after shutdown execute must answer ShutDown, not {other:?}"),
        }
        assert!(
            matches!(pool.try_execute(|| ()), Err(SubmitError::ShutDown(_))),
            "after shutdown try_execute must answer ShutDown"
        );
        assert!(
            matches!(pool.submit(|| 0), Err(SubmitError::ShutDown(_))),
            "after shutdown submit must answer ShutDown"
        );
        drop(release);
        let values: Vec<_> = handles.into_iter().map(TaskHandle::join).collect();
        assert_eq!(
            values,
            (0..5).map(Ok).collect::<Vec<_>>(),
            "shutdown refuses new tasks, but the 5 already queued still run"
        );
        let stats = pool.stats();
        assert_eq!(
            (stats.rejected, stats.cancelled, stats.completed),
            (3, 0, 6),
            "(rejected, cancelled, completed): three ShutDown answers are rejected, nothing is \
             cancelled by shutdown, and all six accepted tasks count as completed \
             once their handles' join has returned"
        );
    });
}

#[test]
fn shutdown_wakes_a_submitter_waiting_for_room_with_its_task() {
    within(LIMIT, "execute waiting for room during shutdown", || {
        let pool = Arc::new(pool(1, 1));
        let release = occupy(&pool);
        executed(&pool, || ()); // the queue is full now
        let submitter = Arc::clone(&pool);
        let (answer, got) = mpsc::channel();
        thread::spawn(move || {
            let refused = matches!(submitter.execute(|| ()), Err(SubmitError::ShutDown(_)));
            answer.send(refused).unwrap();
        });
        thread::sleep(a_while()); // the submitter waits for room by now
        pool.shutdown();
        assert_eq!(
            got.recv(),
            Ok(true),
            "an execute waiting for room when the pool shuts down must return ShutDown with \
             its task, not wait for room that no longer matters"
        );
        drop(release);
    });
}

#[test]
fn shutdown_now_drops_the_queued_tasks_and_their_handles_say_cancelled() {
    within(LIMIT, "shutdown_now with queued tasks", || {
        let pool = pool(1, 8);
        let release = occupy(&pool);
        let ran = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let ran = Arc::clone(&ran);
                submitted(&pool, move || ran.fetch_add(1, Ordering::Relaxed))
            })
            .collect();
        executed(&pool, || ());
        assert_eq!(
            pool.shutdown_now(),
            5,
            "five tasks were waiting in the queue, so shutdown_now drops and counts five"
        );
        assert!(
            matches!(pool.execute(|| ()), Err(SubmitError::ShutDown(_))),
            "after shutdown_now execute must answer ShutDown"
        );
        for handle in handles {
            assert!(
                handle.is_finished(),
                "a dropped task will never run, so its handle is finished at once"
            );
            assert_eq!(
                handle.join(),
                Err(TaskError::Cancelled),
                "a task dropped by shutdown_now never ran: join must answer Cancelled, not wait"
            );
        }
        let stats = pool.stats();
        assert_eq!(
            (stats.cancelled, stats.queued, stats.running, stats.rejected),
            (5, 0, 1, 1),
            "five cancelled, none queued, the occupying task still running, one refusal"
        );
        assert_consistent(stats, 8, "after shutdown_now");
        release.send(()).expect("the running task waits for this");
        drop(pool);
        assert_eq!(ran.load(Ordering::Relaxed), 0, "no cancelled task may run");
    });
}

#[test]
fn shutdown_now_lets_the_running_tasks_finish_and_wakes_wait_idle() {
    within(LIMIT, "wait_idle during shutdown_now", || {
        let pool = Arc::new(pool(1, 8));
        let release = occupy(&pool);
        let queued = submitted(&pool, || 1);
        let waiter = Arc::clone(&pool);
        let returned = in_background(move || waiter.wait_idle());
        thread::sleep(a_while());
        assert_eq!(pool.shutdown_now(), 1);
        assert!(
            returned.recv_timeout(a_while()).is_err(),
            "the running task has not finished, so wait_idle must still wait"
        );
        release.send(()).expect("the running task waits for this");
        returned.recv().expect(
            "a cancelled task counts as finished for wait_idle: once the running one is done, \
             wait_idle must return",
        );
        assert_eq!(queued.join(), Err(TaskError::Cancelled));
        assert_eq!(pool.stats().completed, 1, "the running task completed");
    });
}

#[test]
fn shutdown_now_wakes_a_submitter_waiting_for_room_with_its_task() {
    within(
        LIMIT,
        "execute waiting for room during shutdown_now",
        || {
            let pool = Arc::new(pool(1, 1));
            let release = occupy(&pool);
            executed(&pool, || ()); // the queue is full now
            let submitter = Arc::clone(&pool);
            let (answer, got) = mpsc::channel();
            thread::spawn(move || {
                let refused = matches!(submitter.execute(|| ()), Err(SubmitError::ShutDown(_)));
                answer.send(refused).unwrap();
            });
            thread::sleep(a_while()); // the submitter waits for room by now
            assert_eq!(pool.shutdown_now(), 1, "one task was queued");
            assert_eq!(
                got.recv_timeout(Duration::from_secs(5)),
                Ok(true),
                "an execute waiting for room when shutdown_now empties the queue must return \
             ShutDown with its task: the pool takes no task any more, room or not"
            );
            drop(release);
        },
    );
}

#[test]
fn workers_leave_after_shutdown_now_without_waiting_for_the_pools_drop() {
    within(LIMIT, "workers leaving after shutdown_now", || {
        let pool = pool(2, 4);
        // Let both workers go to sleep on an empty queue.
        thread::sleep(a_while());
        assert_eq!(pool.shutdown_now(), 0, "nothing was queued");
        let left = eventually(|| pool.stats().workers == 0);
        assert!(
            left,
            "after shutdown_now the sleeping workers must be woken to see it and leave, but \
             workers still says {} after 10 s",
            pool.stats().workers
        );
    });
}

#[test]
fn shutdown_and_shutdown_now_can_be_called_twice() {
    within(LIMIT, "shutting down twice", || {
        let pool = pool(2, 4);
        pool.shutdown();
        pool.shutdown();
        assert_eq!(pool.shutdown_now(), 0, "nothing was queued");
        assert_eq!(pool.shutdown_now(), 0, "nothing was queued");
    });
}

#[test]
fn workers_leave_after_shutdown_once_the_queue_is_empty() {
    within(LIMIT, "workers leaving after shutdown", || {
        let pool = pool(2, 4);
        // Let both workers go to sleep on an empty queue.
        thread::sleep(a_while());
        pool.shutdown();
        while pool.stats().workers > 0 {
            thread::yield_now();
        }
        let stats = pool.stats();
        assert_eq!(
            (stats.workers, stats.submitted),
            (0, 0),
            "with nothing queued every worker leaves after shutdown, and workers counts them out"
        );
    });
}

// ---------------------------------------------------------------- drop

/// Sends a message when the thread that holds it exits.
struct ExitSignal(mpsc::Sender<()>);

impl Drop for ExitSignal {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

thread_local! {
    static ON_EXIT: std::cell::RefCell<Option<ExitSignal>> = const { std::cell::RefCell::new(None) };
}

#[test]
fn dropping_the_pool_runs_the_queued_tasks_and_joins_every_worker() {
    within(LIMIT, "dropping a pool", || {
        let pool = pool(3, 16);
        let (exited, exits) = mpsc::channel();
        // One task per worker, all at once, leaves a signal in each worker
        // thread that fires when that thread ends.
        let meet = Arc::new(Barrier::new(3));
        for _ in 0..3 {
            let meet = Arc::clone(&meet);
            let exited = exited.clone();
            executed(&pool, move || {
                ON_EXIT.with(|slot| *slot.borrow_mut() = Some(ExitSignal(exited)));
                meet.wait();
            });
        }
        drop(exited);
        pool.wait_idle();
        let ran = Arc::new(AtomicUsize::new(0));
        let release = occupy(&pool);
        for _ in 0..5 {
            let ran = Arc::clone(&ran);
            executed(&pool, move || {
                ran.fetch_add(1, Ordering::Relaxed);
            });
        }
        drop(release);
        drop(pool);
        assert_eq!(
            ran.load(Ordering::Relaxed),
            5,
            "dropping the pool shuts it down gracefully: the 5 queued tasks must run first"
        );
        assert_eq!(
            exits.try_iter().count(),
            3,
            "when drop returns, all 3 worker threads must have ended: drop joins every worker"
        );
    });
}

#[test]
fn the_last_owner_dropped_inside_a_task_does_not_deadlock() {
    within(LIMIT, "a pool dropped by its own task", || {
        let pool = Arc::new(pool(2, 4));
        let (go, wait) = mpsc::channel::<()>();
        let (done, finished) = mpsc::channel();
        let last = Arc::clone(&pool);
        executed(&pool, move || {
            wait.recv().expect("the test says when to go");
            drop(last); // the last owner: this drops the pool inside its own task
            done.send(()).unwrap();
        });
        drop(pool);
        go.send(()).expect("the task waits for this");
        finished.recv().expect(
            "the task dropped the last Arc<WorkerPool>: drop must not wait for the very worker \
             it runs on (a thread cannot join itself)",
        );
    });
}
