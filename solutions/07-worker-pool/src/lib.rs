//! # Chapter 07: a pool of worker threads
//!
//! [`WorkerPool`] starts a fixed number of threads once and feeds them tasks
//! through a bounded queue, so a program that has many small jobs stops
//! paying for a new thread per job. A task is a closure: [`execute`] runs it
//! and forgets it, [`submit`] hands back a [`TaskHandle`] whose
//! [`join`](TaskHandle::join) answers the task's value, or why there is none.
//!
//! ```
//! use worker_pool::WorkerPool;
//!
//! let pool = WorkerPool::new(2, 16)?;
//! let answer = pool.submit(|| 6 * 7).expect("the pool is open and has room");
//! assert_eq!(answer.join(), Ok(42));
//!
//! pool.execute(|| println!("runs on a worker thread")).expect("the pool is open");
//! pool.wait_idle(); // every task submitted so far has finished
//! assert_eq!(pool.stats().completed, 2);
//! # Ok::<(), worker_pool::ConfigError>(())
//! ```
//!
//! The pool is [`Send`] and [`Sync`]: threads share it by reference or in an
//! [`Arc`]. A task that panics is caught: its worker lives on, and its
//! handle answers [`TaskError::Panicked`] with the message.
//!
//! [`execute`]: WorkerPool::execute
//! [`submit`]: WorkerPool::submit

// Design notes (for the lesson; the exercise is generated from the first `use` on).
//
// THE PROBLEM. Starting a thread costs tens of microseconds (a stack mapped,
// a clone syscall, the scheduler); a tiny task costs nanoseconds. A pool
// starts its threads once, and each task then costs a queue push, maybe a
// wake-up, and a pop.
//
// ONE LOCK. Everything the workers and submitters share (the queue, the
// shutdown flag, the counters, who is asleep) sits in one `State` behind
// one `Mutex`. A task crosses the lock twice: the submitter pushes, a worker
// pops (and, in the same critical section, records that its previous task
// finished). Counters under the lock are exact and agree with each other in
// every `stats()`, which separate atomics would not.
//
// THREE CONDVARS, NOTIFIED ONLY WHEN SOMEONE WAITS. Workers sleep on `work`,
// submitters blocked by a full queue on `room`, `wait_idle` callers on
// `idle`. The state counts the sleepers of each, so a busy pool (workers
// never asleep, nobody blocked) makes no futex call per task: a notify
// nobody waits for is a syscall thrown away.
//
// A WORKER LOOKS AGAIN BEFORE IT SLEEPS: with tiny tasks the queue is
// often empty for the moment the submitter needs to box and push the next
// task, and a worker that sleeps then costs the submitter a futex wake and
// itself a futex wait, microseconds, for every task. It looks at an atomic
// copy of the queue's length (`queued_hint`), without the lock, yielding
// its core between looks (on two cores a busy spin starves the submitter),
// for a bounded number of rounds. A push wakes a worker only when a
// sleeper has not been woken yet (`woken_workers`), and a worker wakes
// `wait_idle` callers only when the oldest unfinished task reached the
// smallest target they wait for (`idle_target`), not after every task.
//
// HANDLES. `submit` wraps the task with the sending half of a one-shot slot
// (`Sender`, an `Arc<Slot<T>>`). The wrapper stores the value, or the
// panic's message, as `Stored`; the worker publishes it (`Ready`) under the
// pool's lock, in the critical section in which it counts the task, so a
// `join` that returned, `stats()` and `wait_idle` agree. A task that never runs is dropped with its
// sender, and a `Sender` dropped before it sent stores `Cancelled`: so
// `join` can never wait for a task that no longer exists, whether
// `shutdown_now` dropped it or the pool was dropped.
//
// PANICS. The worker runs every task in `catch_unwind`, so a panic never
// kills it and never leaves the lock poisoned (no task runs under the lock).
// The submitted wrapper catches first, to store the message, and reports
// the panic in the `Ran` it returns. Messages: the `&str` or `String`
// payload of `panic!`; any other payload (`panic_any(7)`) is reported as
// `Box<dyn Any>`, as std's own panic message says.
//
// WAIT_IDLE. "Every task submitted before the call has finished" is not
// "the queue is empty" (the last tasks may still be running), nor "finished
// + cancelled >= submitted then" (tasks submitted after the call may finish
// first while an older one still runs). Tasks are numbered in submission
// order; the queue holds the newest ones (numbers `submitted - queued ..
// submitted`), and each worker records the number of the task it runs. The
// oldest unfinished task is the smallest of those, and `wait_idle` waits
// until it is at least the number of tasks submitted when it was called.
//
// SHUTDOWN. `shutdown` sets a flag: submitters get their task back, workers
// drain the queue and then exit. `shutdown_now` also takes the queue's tasks
// out and drops them (outside the lock: a task's captured values may do
// anything when dropped). `Drop` shuts down and joins every worker, except
// the one it runs on when the last owner of the pool is dropped inside one
// of its own tasks: a thread cannot join itself; that worker exits by itself
// after the task returns.

use std::any::Any;
use std::collections::VecDeque;
use std::error::Error;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};

// ANCHOR: constants
/// Rounds a worker looks for new work, without the lock and yielding its
/// core between looks, before it sleeps (tens of microseconds in all).
const SPIN_ROUNDS: u32 = 100;

/// Most queue slots made up front: a pool with a huge capacity grows its
/// queue as tasks arrive instead of reserving it all in `new`.
const PREALLOCATED: usize = 1024;
// ANCHOR_END: constants

// ANCHOR: pool
/// A fixed set of worker threads that run the tasks of a bounded queue.
///
/// ```text
///  execute / submit ──push──▶ [ queue: task task task ] ──pop──▶ worker-0
///  (wait while full)            at most queue_capacity   ──pop──▶ worker-1
/// ```
///
/// Dropping the pool shuts it down (queued tasks still run) and joins every
/// worker, so no worker outlives it.
///
/// ```
/// let pool = worker_pool::WorkerPool::new(4, 100)?;
/// for i in 0..10 {
///     pool.execute(move || assert!(i < 10)).expect("open and with room");
/// }
/// drop(pool); // runs the queued tasks, then joins the four workers
/// # Ok::<(), worker_pool::ConfigError>(())
/// ```
pub struct WorkerPool {
    /// What the workers share with the pool.
    shared: Arc<Shared>,
    /// One handle per worker, joined by `Drop`.
    threads: Vec<JoinHandle<()>>,
}

/// The part of the pool its workers hold too.
struct Shared {
    /// The queue, the flag and the counters, all under one lock.
    state: Mutex<State>,
    /// Workers sleep here while the queue is empty.
    work: Condvar,
    /// Submitters (`execute`) sleep here while the queue is full.
    room: Condvar,
    /// `wait_idle` callers sleep here.
    idle: Condvar,
    /// The most tasks the queue holds.
    capacity: usize,
    /// The queue's length, copied after every change, for spinning workers
    /// that look without the lock. Only a hint: the state decides.
    queued_hint: AtomicUsize,
}

/// Everything the lock guards.
struct State {
    /// Tasks accepted and not yet started, oldest first.
    queue: VecDeque<Box<dyn Job>>,
    /// Set by `shutdown` and `shutdown_now`: no task is accepted any more.
    shut_down: bool,
    /// For each worker, the number of the task it runs (`None` when idle).
    current: Vec<Option<u64>>,
    /// Workers asleep on `work`.
    sleeping_workers: usize,
    /// Of those, how many a `notify_one` is already on its way to: a push
    /// wakes a worker only when some sleeper has not been woken yet.
    woken_workers: usize,
    /// Submitters asleep on `room`.
    blocked_submitters: usize,
    /// Callers asleep on `idle`.
    idle_waiters: usize,
    /// The smallest task number a `wait_idle` caller waits for (`u64::MAX`
    /// when none): a worker wakes them only once the oldest unfinished task
    /// reaches it, not after every task.
    idle_target: u64,
    /// Worker threads alive.
    workers: usize,
    /// Tasks accepted; also the number the next task gets.
    submitted: u64,
    /// Tasks that ran to the end or panicked.
    completed: u64,
    /// Tasks that panicked.
    panicked: u64,
    /// `Full` and `ShutDown` answers.
    rejected: u64,
    /// Queued tasks dropped by `shutdown_now`.
    cancelled: u64,
    /// Tasks running now.
    running: usize,
    /// The longest the queue has been.
    peak_queued: usize,
}
// ANCHOR_END: pool

// ANCHOR: job
/// A task in the queue: run it, once.
trait Job: Send {
    /// Runs the task. A panic is the worker's to catch, unless the task
    /// catches it itself and says so in the [`Ran`] it returns.
    fn run(self: Box<Self>) -> Ran;
}

/// How a task that returned ran.
struct Ran {
    /// It panicked (and caught its panic to tell its handle).
    panicked: bool,
    /// A handle's answer, stored but not shown yet: the worker shows it in
    /// the critical section in which it counts the task, so that `join`,
    /// `stats()` and `wait_idle` never disagree about it.
    answer: Option<Arc<dyn Publish>>,
}

/// Shows a stored answer to its handle.
trait Publish: Send + Sync {
    /// The stored answer becomes the handle's, and `join` wakes up.
    fn publish(&self);
}

/// A task given to `execute`: its result is nobody's.
struct Plain<F>(F);

impl<F: FnOnce() + Send> Job for Plain<F> {
    fn run(self: Box<Self>) -> Ran {
        (self.0)();
        Ran {
            panicked: false,
            answer: None,
        }
    }
}

/// A task given to `submit`, with the sending half of its handle's slot.
struct Submitted<F, T> {
    task: F,
    sender: Sender<T>,
}
// ANCHOR_END: job

// ANCHOR: handle
/// The answer of one task given to [`WorkerPool::submit`]: its value, or
/// why there is none.
///
/// ```
/// let pool = worker_pool::WorkerPool::new(1, 4)?;
/// let handle = pool.submit(|| "done".to_owned()).expect("open and with room");
/// assert_eq!(handle.join().as_deref(), Ok("done"));
/// # Ok::<(), worker_pool::ConfigError>(())
/// ```
///
/// Dropping a handle does not cancel its task: the task still runs, and its
/// value is dropped.
pub struct TaskHandle<T> {
    slot: Arc<Slot<T>>,
}

/// The one-shot slot a task's answer goes through.
struct Slot<T> {
    state: Mutex<Answer<T>>,
    /// `join` sleeps here until the answer is in.
    ready: Condvar,
}

/// What a slot holds.
enum Answer<T> {
    /// The task has not finished (or not even started).
    Pending,
    /// The task has returned or panicked, and the worker is counting it.
    Stored(Result<T, TaskError>),
    /// The task's value, its panic, or its cancellation, for `join`.
    Ready(Result<T, TaskError>),
    /// `join` took the answer (or `publish` is moving it).
    Taken,
}

/// The sending half of a slot. Dropped without having sent, it sends
/// `Cancelled`: a task dropped before it ran still answers its handle.
struct Sender<T> {
    slot: Arc<Slot<T>>,
}
// ANCHOR_END: handle

// ANCHOR: stats
/// The pool's counters at one moment, all taken under one lock, so they
/// agree with each other.
///
/// ```
/// let pool = worker_pool::WorkerPool::new(2, 8)?;
/// let stats = pool.stats();
/// assert_eq!((stats.workers, stats.submitted, stats.queued), (2, 0, 0));
/// # Ok::<(), worker_pool::ConfigError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkerStats {
    /// Worker threads alive; never falls because a task panicked (only
    /// after a shutdown, as the workers exit).
    pub workers: usize,
    /// Tasks accepted by `execute`, `try_execute` and `submit`.
    pub submitted: u64,
    /// Tasks that finished running, panicked ones included.
    pub completed: u64,
    /// Tasks that panicked.
    pub panicked: u64,
    /// Tasks refused: every `Full` and `ShutDown` answer.
    pub rejected: u64,
    /// Queued tasks dropped by `shutdown_now`.
    pub cancelled: u64,
    /// Tasks waiting in the queue now.
    pub queued: usize,
    /// Tasks running now.
    pub running: usize,
    /// The most tasks the queue has held at once.
    pub peak_queued: usize,
}
// ANCHOR_END: stats

// ANCHOR: errors
/// Why [`WorkerPool::new`] made no pool.
///
/// ```
/// use worker_pool::{ConfigError, WorkerPool};
///
/// assert_eq!(WorkerPool::new(0, 8).err(), Some(ConfigError::ZeroWorkers));
/// assert_eq!(WorkerPool::new(2, 0).err(), Some(ConfigError::ZeroQueueCapacity));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// A pool without workers would never run a task.
    ZeroWorkers,
    /// A queue that holds nothing would refuse every task.
    ZeroQueueCapacity,
    /// The system would not start worker `worker` (counting from 0); the
    /// workers already started were shut down and joined.
    Spawn {
        /// The worker that could not be started.
        worker: usize,
        /// What the system said.
        kind: std::io::ErrorKind,
    },
}

/// Why a task was not accepted. The task comes back inside, unrun.
///
/// ```
/// use worker_pool::{SubmitError, WorkerPool};
///
/// let pool = WorkerPool::new(1, 1)?;
/// pool.shutdown();
/// match pool.execute(|| ()) {
///     Err(SubmitError::ShutDown(task)) => task(), // run it here instead
///     _ => unreachable!("a shut-down pool refuses every task"),
/// }
/// # Ok::<(), worker_pool::ConfigError>(())
/// ```
pub enum SubmitError<F> {
    /// The queue is full (`try_execute` only: `execute` waits for room).
    Full(F),
    /// The pool was shut down.
    ShutDown(F),
}

/// Why [`TaskHandle::join`] has no value.
///
/// ```
/// use worker_pool::{TaskError, WorkerPool};
///
/// let pool = WorkerPool::new(1, 1)?;
/// let handle = pool.submit(|| -> u32 { panic!("no answer") }).expect("open");
/// assert_eq!(handle.join(), Err(TaskError::Panicked("no answer".to_owned())));
/// # Ok::<(), worker_pool::ConfigError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaskError {
    /// The task panicked; the message of its panic (`Box<dyn Any>` for a
    /// payload that is neither a `&str` nor a `String`).
    Panicked(String),
    /// The task never ran: `shutdown_now` dropped it, or the pool was
    /// dropped while it waited in the queue.
    Cancelled,
}
// ANCHOR_END: errors

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ZeroWorkers => write!(f, "a worker pool needs at least one worker, not 0"),
            Self::ZeroQueueCapacity => {
                write!(
                    f,
                    "a worker pool's queue must hold at least one task, not 0"
                )
            }
            Self::Spawn { worker, kind } => {
                write!(f, "the system could not start worker {worker}: {kind}")
            }
        }
    }
}

impl Error for ConfigError {}

impl<F> SubmitError<F> {
    /// The task that was refused, unrun.
    ///
    /// ```
    /// let pool = worker_pool::WorkerPool::new(1, 1)?;
    /// pool.shutdown();
    /// let refused = pool.submit(|| 5).expect_err("a shut-down pool refuses");
    /// assert_eq!((refused.into_inner())(), 5);
    /// # Ok::<(), worker_pool::ConfigError>(())
    /// ```
    pub fn into_inner(self) -> F {
        match self {
            Self::Full(task) | Self::ShutDown(task) => task,
        }
    }
}

impl<F> fmt::Debug for SubmitError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(_) => write!(f, "Full(..)"),
            Self::ShutDown(_) => write!(f, "ShutDown(..)"),
        }
    }
}

impl<F> fmt::Display for SubmitError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(_) => write!(f, "the worker pool's queue is full; the task comes back"),
            Self::ShutDown(_) => {
                write!(f, "the worker pool is shut down; the task comes back")
            }
        }
    }
}

impl<F> Error for SubmitError<F> {}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Panicked(message) => write!(f, "the task panicked: {message}"),
            Self::Cancelled => write!(f, "the task was dropped before it ran"),
        }
    }
}

impl Error for TaskError {}

impl WorkerPool {
    // ANCHOR: new
    /// A pool of `workers` threads, named `worker-0`, `worker-1`, …, and a
    /// queue of at most `queue_capacity` tasks waiting for them.
    ///
    /// # Errors
    /// [`ConfigError::ZeroWorkers`], [`ConfigError::ZeroQueueCapacity`], or
    /// [`ConfigError::Spawn`] when the system refuses a thread (the workers
    /// already started are then shut down and joined).
    ///
    /// ```
    /// let pool = worker_pool::WorkerPool::new(3, 64)?;
    /// assert_eq!(pool.stats().workers, 3);
    /// # Ok::<(), worker_pool::ConfigError>(())
    /// ```
    pub fn new(workers: usize, queue_capacity: usize) -> Result<Self, ConfigError> {
        if workers == 0 {
            return Err(ConfigError::ZeroWorkers);
        }
        if queue_capacity == 0 {
            return Err(ConfigError::ZeroQueueCapacity);
        }
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                queue: VecDeque::with_capacity(queue_capacity.min(PREALLOCATED)),
                shut_down: false,
                current: Vec::new(),
                sleeping_workers: 0,
                woken_workers: 0,
                blocked_submitters: 0,
                idle_waiters: 0,
                idle_target: u64::MAX,
                workers: 0,
                submitted: 0,
                completed: 0,
                panicked: 0,
                rejected: 0,
                cancelled: 0,
                running: 0,
                peak_queued: 0,
            }),
            work: Condvar::new(),
            room: Condvar::new(),
            idle: Condvar::new(),
            capacity: queue_capacity,
            queued_hint: AtomicUsize::new(0),
        });
        let mut pool = WorkerPool {
            shared,
            threads: Vec::new(),
        };
        // Room for each worker is made as it starts, not for all up front:
        // an absurd `workers` ends in `Spawn` when the system runs out of
        // threads, not in an allocation of that size.
        for index in 0..workers {
            {
                let mut state = pool.shared.lock();
                state.current.push(None);
                state.workers += 1;
            }
            let shared = Arc::clone(&pool.shared);
            let spawned = thread::Builder::new()
                .name(format!("worker-{index}"))
                .spawn(move || work(&shared, index));
            match spawned {
                Ok(thread) => pool.threads.push(thread),
                Err(err) => {
                    // The worker never started does not count; `Drop` joins the others.
                    pool.shared.lock().workers -= 1;
                    return Err(ConfigError::Spawn {
                        worker: index,
                        kind: err.kind(),
                    });
                }
            }
        }
        Ok(pool)
    }
    // ANCHOR_END: new

    /// Queues `task` to run on a worker, waiting while the queue is full.
    ///
    /// # Errors
    /// [`SubmitError::ShutDown`] with the task, unrun, if the pool is shut
    /// down (before the call or while it waited for room).
    ///
    /// # Deadlocks
    /// A task that calls `execute` on its own pool can wait forever: if
    /// every worker does so while the queue is full, no worker is left to
    /// make room. Tasks should use [`try_execute`](Self::try_execute).
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use std::sync::Arc;
    ///
    /// let pool = worker_pool::WorkerPool::new(2, 2)?;
    /// let sum = Arc::new(AtomicU32::new(0));
    /// for i in 1..=10 {
    ///     let sum = Arc::clone(&sum);
    ///     pool.execute(move || { sum.fetch_add(i, Ordering::Relaxed); }).expect("open");
    /// }
    /// pool.wait_idle();
    /// assert_eq!(sum.load(Ordering::Relaxed), 55);
    /// # Ok::<(), worker_pool::ConfigError>(())
    /// ```
    pub fn execute<F: FnOnce() + Send + 'static>(&self, task: F) -> Result<(), SubmitError<F>> {
        self.push(Box::new(Plain(task)), true)
            .map_err(|refused| refused.map(|job| job.0))
    }

    /// Queues `task` to run on a worker if the queue has room now; never
    /// waits.
    ///
    /// # Errors
    /// [`SubmitError::Full`] when the queue is full, [`SubmitError::ShutDown`]
    /// when the pool is shut down; either way with the task, unrun.
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use worker_pool::{SubmitError, WorkerPool};
    ///
    /// let pool = WorkerPool::new(1, 1)?;
    /// let (release, blocked) = mpsc::channel::<()>();
    /// let (started, running) = mpsc::channel();
    /// pool.execute(move || { started.send(()).unwrap(); blocked.recv().ok(); }).ok().unwrap();
    /// running.recv().unwrap(); // the worker is busy now
    /// assert!(pool.try_execute(|| ()).is_ok(), "the queue has room for one");
    /// assert!(matches!(pool.try_execute(|| ()), Err(SubmitError::Full(_))));
    /// release.send(()).unwrap();
    /// # Ok::<(), worker_pool::ConfigError>(())
    /// ```
    pub fn try_execute<F: FnOnce() + Send + 'static>(&self, task: F) -> Result<(), SubmitError<F>> {
        self.push(Box::new(Plain(task)), false)
            .map_err(|refused| refused.map(|job| job.0))
    }

    /// Queues `task`, waiting while the queue is full, and returns a handle
    /// whose [`join`](TaskHandle::join) gives the task's value.
    ///
    /// # Errors
    /// [`SubmitError::ShutDown`] with the task, unrun, if the pool is shut
    /// down. (As [`execute`](Self::execute), it waits for room, and so can
    /// wait forever when called from a task of its own pool.)
    ///
    /// ```
    /// let pool = worker_pool::WorkerPool::new(2, 8)?;
    /// let handles: Vec<_> = (1..=4_u64)
    ///     .map(|n| pool.submit(move || n * n).expect("open"))
    ///     .collect();
    /// let squares: Vec<u64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    /// assert_eq!(squares, [1, 4, 9, 16]);
    /// # Ok::<(), worker_pool::ConfigError>(())
    /// ```
    pub fn submit<T, F>(&self, task: F) -> Result<TaskHandle<T>, SubmitError<F>>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let slot = Arc::new(Slot {
            state: Mutex::new(Answer::Pending),
            ready: Condvar::new(),
        });
        let job = Box::new(Submitted {
            task,
            sender: Sender {
                slot: Arc::clone(&slot),
            },
        });
        match self.push(job, true) {
            Ok(()) => Ok(TaskHandle { slot }),
            Err(refused) => Err(refused.map(|job| {
                let Submitted { task, sender } = *job;
                // Nobody has the handle: the `Cancelled` this stores is never read.
                drop(sender);
                task
            })),
        }
    }

    // ANCHOR: push
    /// Puts `job` at the back of the queue, waiting for room if `wait`, and
    /// wakes a sleeping worker; or gives it back, refused, counted in
    /// `rejected`.
    // The box comes in made: allocating it under the lock would make every
    // other thread wait for `malloc` (and the exercise's stub never uses it).
    #[allow(clippy::boxed_local)]
    fn push<J: Job + 'static>(&self, job: Box<J>, wait: bool) -> Result<(), SubmitError<Box<J>>> {
        let mut state = self.shared.lock();
        loop {
            if state.shut_down {
                state.rejected += 1;
                return Err(SubmitError::ShutDown(job));
            }
            if state.queue.len() < self.shared.capacity {
                break;
            }
            if !wait {
                state.rejected += 1;
                return Err(SubmitError::Full(job));
            }
            state.blocked_submitters += 1;
            state = wait_on(&self.shared.room, state);
            state.blocked_submitters -= 1;
        }
        state.queue.push_back(job);
        state.submitted += 1;
        let queued = state.queue.len();
        state.peak_queued = state.peak_queued.max(queued);
        self.shared.queued_hint.store(queued, Ordering::Relaxed);
        let wake = state.sleeping_workers > state.woken_workers;
        state.woken_workers += usize::from(wake);
        drop(state);
        if wake {
            self.shared.work.notify_one();
        }
        Ok(())
    }
    // ANCHOR_END: push

    // ANCHOR: wait_idle
    /// Returns once every task submitted before the call has finished
    /// (completed, panicked or cancelled); at once on an idle pool. Tasks
    /// submitted during the wait are not waited for.
    ///
    /// # Panics
    /// When called from one of this pool's own tasks, which would wait for
    /// itself forever: the task panics instead (and its handle says so).
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    ///
    /// let pool = worker_pool::WorkerPool::new(1, 4)?;
    /// let done = Arc::new(AtomicBool::new(false));
    /// let flag = Arc::clone(&done);
    /// pool.execute(move || flag.store(true, Ordering::Release)).expect("open");
    /// pool.wait_idle();
    /// assert!(done.load(Ordering::Acquire), "the task was submitted before wait_idle");
    /// # Ok::<(), worker_pool::ConfigError>(())
    /// ```
    pub fn wait_idle(&self) {
        let mut state = self.shared.lock();
        let target = state.submitted;
        if state.oldest_unfinished() >= target {
            return;
        }
        let on_own_worker = self
            .threads
            .iter()
            .any(|worker| worker.thread().id() == thread::current().id());
        if on_own_worker {
            drop(state);
            panic!(
                "wait_idle was called from one of the pool's own tasks, which would wait for itself forever"
            );
        }
        while state.oldest_unfinished() < target {
            state.idle_waiters += 1;
            state.idle_target = state.idle_target.min(target);
            state = wait_on(&self.shared.idle, state);
            state.idle_waiters -= 1;
        }
    }
    // ANCHOR_END: wait_idle

    // ANCHOR: shutdown
    /// Refuses new tasks from now on; the queued ones still run, and then
    /// the workers exit. Returns at once: dropping the pool waits for the
    /// workers. Calling it again does nothing.
    ///
    /// ```
    /// use worker_pool::{SubmitError, WorkerPool};
    ///
    /// let pool = WorkerPool::new(1, 4)?;
    /// let queued = pool.submit(|| 1).expect("open");
    /// pool.shutdown();
    /// assert!(matches!(pool.submit(|| 2), Err(SubmitError::ShutDown(_))));
    /// assert_eq!(queued.join(), Ok(1), "a task queued before shutdown still runs");
    /// # Ok::<(), worker_pool::ConfigError>(())
    /// ```
    pub fn shutdown(&self) {
        let mut state = self.shared.lock();
        state.shut_down = true;
        let (workers, submitters) = (state.sleeping_workers > 0, state.blocked_submitters > 0);
        drop(state);
        if workers {
            self.shared.work.notify_all();
        }
        if submitters {
            self.shared.room.notify_all();
        }
    }

    /// Refuses new tasks from now on and drops every queued task unrun
    /// (their handles answer [`TaskError::Cancelled`]); tasks already
    /// running finish. Returns how many tasks it dropped, each counted in
    /// `cancelled`.
    ///
    /// # Panics
    /// When dropping a task's captured values panics: the panic goes on to
    /// the caller once every dropped task is gone and counted.
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use worker_pool::{TaskError, WorkerPool};
    ///
    /// let pool = WorkerPool::new(1, 4)?;
    /// let (release, blocked) = mpsc::channel::<()>();
    /// let (started, running) = mpsc::channel();
    /// pool.execute(move || { started.send(()).unwrap(); blocked.recv().ok(); }).ok().unwrap();
    /// running.recv().unwrap(); // the only worker is busy
    /// let waiting = pool.submit(|| 7).expect("open");
    /// assert_eq!(pool.shutdown_now(), 1, "one task was still in the queue");
    /// assert_eq!(waiting.join(), Err(TaskError::Cancelled));
    /// release.send(()).unwrap();
    /// # Ok::<(), worker_pool::ConfigError>(())
    /// ```
    pub fn shutdown_now(&self) -> usize {
        let mut state = self.shared.lock();
        state.shut_down = true;
        let dropped = std::mem::take(&mut state.queue);
        state.cancelled += dropped.len() as u64;
        state.idle_target = u64::MAX;
        self.shared.queued_hint.store(0, Ordering::Relaxed);
        let (workers, submitters, waiters) = (
            state.sleeping_workers > 0,
            state.blocked_submitters > 0,
            state.idle_waiters > 0,
        );
        drop(state);
        if workers {
            self.shared.work.notify_all();
        }
        if submitters {
            self.shared.room.notify_all();
        }
        if waiters {
            self.shared.idle.notify_all();
        }
        let count = dropped.len();
        let mut first_panic = None;
        for job in dropped {
            if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(job))) {
                first_panic.get_or_insert(payload);
            }
        }
        if let Some(payload) = first_panic {
            resume_unwind(payload);
        }
        count
    }
    // ANCHOR_END: shutdown

    /// The pool's counters now, taken together under the lock.
    ///
    /// ```
    /// let pool = worker_pool::WorkerPool::new(2, 8)?;
    /// pool.submit(|| ()).expect("open").join().unwrap();
    /// let stats = pool.stats();
    /// assert_eq!((stats.submitted, stats.completed, stats.panicked), (1, 1, 0));
    /// # Ok::<(), worker_pool::ConfigError>(())
    /// ```
    pub fn stats(&self) -> WorkerStats {
        let state = self.shared.lock();
        WorkerStats {
            workers: state.workers,
            submitted: state.submitted,
            completed: state.completed,
            panicked: state.panicked,
            rejected: state.rejected,
            cancelled: state.cancelled,
            queued: state.queue.len(),
            running: state.running,
            peak_queued: state.peak_queued,
        }
    }
}

// ANCHOR: drop
/// Shuts the pool down (queued tasks still run) and joins every worker. If
/// the last owner of the pool is dropped inside one of its own tasks, the
/// worker running that task is not joined (a thread cannot join itself): it
/// exits by itself once the task returns.
impl Drop for WorkerPool {
    fn drop(&mut self) {
        self.shutdown();
        let me = thread::current().id();
        for worker in self.threads.drain(..) {
            if worker.thread().id() != me {
                // A worker catches every task's panic, so it ends normally.
                let _ = worker.join();
            }
        }
    }
}
// ANCHOR_END: drop

impl Shared {
    /// The state, whoever panicked while holding the lock: no task runs
    /// under it, and no change under it is left half made.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Waits on `condvar`, ignoring poisoning as [`Shared::lock`] does.
fn wait_on<'a, T>(condvar: &Condvar, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
    condvar.wait(guard).unwrap_or_else(PoisonError::into_inner)
}

impl State {
    // ANCHOR: oldest_unfinished
    /// The number of the oldest task not yet finished or cancelled;
    /// `submitted` when every task has.
    fn oldest_unfinished(&self) -> u64 {
        let oldest_queued = self.submitted - self.queue.len() as u64;
        self.current
            .iter()
            .flatten()
            .fold(oldest_queued, |oldest, &running| oldest.min(running))
    }
    // ANCHOR_END: oldest_unfinished
}

// ANCHOR: work
/// A worker's life: take the oldest task, run it, record how it ended;
/// sleep while there is nothing to do; leave once the pool is shut down and
/// the queue is empty.
fn work(shared: &Shared, index: usize) {
    let mut published: Option<Arc<dyn Publish>> = None;
    let mut state = shared.lock();
    loop {
        if let Some(job) = state.queue.pop_front() {
            let number = state.submitted - state.queue.len() as u64 - 1;
            state.current[index] = Some(number);
            state.running += 1;
            shared
                .queued_hint
                .store(state.queue.len(), Ordering::Relaxed);
            let room = state.blocked_submitters > 0;
            drop(state);
            drop(published.take());
            if room {
                shared.room.notify_one();
            }
            let ran = match catch_unwind(AssertUnwindSafe(|| job.run())) {
                Ok(ran) => ran,
                Err(payload) => {
                    // The payload's own Drop may panic too; the worker must live on.
                    let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
                    Ran {
                        panicked: true,
                        answer: None,
                    }
                }
            };
            state = shared.lock();
            state.current[index] = None;
            state.running -= 1;
            state.completed += 1;
            state.panicked += u64::from(ran.panicked);
            if state.idle_waiters > 0 && state.oldest_unfinished() >= state.idle_target {
                // Every waiter rechecks; those still waiting lower it again.
                state.idle_target = u64::MAX;
                shared.idle.notify_all();
            }
            if let Some(answer) = &ran.answer {
                // Shown under the pool's lock: `join`, `stats` and
                // `wait_idle` all see the task finished, or none does.
                answer.publish();
            }
            // The slot may be the last owner of the task's value (its handle
            // was dropped): that value's Drop runs after the lock is released.
            published = ran.answer;
        } else if state.shut_down {
            break;
        } else {
            drop(state);
            drop(published.take());
            spin(shared);
            state = shared.lock();
            if state.queue.is_empty() && !state.shut_down {
                state.sleeping_workers += 1;
                state = wait_on(&shared.work, state);
                state.sleeping_workers -= 1;
                // Woken by a push, or spuriously: either way one fewer to wake.
                state.woken_workers = state.woken_workers.saturating_sub(1);
            }
        }
    }
    state.workers -= 1;
    drop(state);
    drop(published);
}
// ANCHOR_END: work

/// Looks for queued work without the lock, for a short while: returns as
/// soon as the queue seems to have some, or after `SPIN_ROUNDS` rounds,
/// each of which gives the core away (`yield_now`) before it looks again.
fn spin(shared: &Shared) {
    if cfg!(miri) {
        return;
    }
    for _ in 0..SPIN_ROUNDS {
        if shared.queued_hint.load(Ordering::Relaxed) > 0 {
            return;
        }
        // Not a busy spin: on a machine with as many busy threads as cores,
        // the submitter needs this core to push the next task.
        thread::yield_now();
    }
}

// ANCHOR: run_submitted
impl<F, T> Job for Submitted<F, T>
where
    F: FnOnce() -> T + Send,
    T: Send + 'static,
{
    fn run(self: Box<Self>) -> Ran {
        let Submitted { task, sender } = *self;
        let (answer, panicked) = match catch_unwind(AssertUnwindSafe(task)) {
            Ok(value) => (Ok(value), false),
            Err(payload) => {
                let message = panic_message(&*payload);
                // A payload's own Drop may panic too; nobody must see that one.
                let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
                (Err(TaskError::Panicked(message)), true)
            }
        };
        Ran {
            panicked,
            answer: Some(sender.store(answer)),
        }
    }
}
// ANCHOR_END: run_submitted

/// The message of a panic: its `&str` or `String` payload, or
/// `Box<dyn Any>` for any other.
fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "Box<dyn Any>".to_owned()
    }
}

// ANCHOR: slot
impl<T: Send + 'static> Sender<T> {
    /// Stores the answer without showing it to the handle yet; the worker
    /// publishes it once the task is counted.
    fn store(self, answer: Result<T, TaskError>) -> Arc<dyn Publish> {
        let mut state = self.slot.lock();
        if matches!(*state, Answer::Pending) {
            *state = Answer::Stored(answer);
        }
        drop(state);
        Arc::clone(&self.slot) as Arc<dyn Publish>
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        // Stored already: nothing changes. Dropped unsent: the task never ran.
        let mut state = self.slot.lock();
        if matches!(*state, Answer::Pending) {
            *state = Answer::Ready(Err(TaskError::Cancelled));
            drop(state);
            self.slot.ready.notify_all();
        }
    }
}

impl<T: Send> Publish for Slot<T> {
    fn publish(&self) {
        let mut state = self.lock();
        if let Answer::Stored(_) = &*state {
            let Answer::Stored(answer) = std::mem::replace(&mut *state, Answer::Taken) else {
                unreachable!("matched just above");
            };
            *state = Answer::Ready(answer);
            drop(state);
            self.ready.notify_all();
        }
    }
}

impl<T> Slot<T> {
    /// The slot's state, ignoring poisoning (no user code runs under it).
    fn lock(&self) -> MutexGuard<'_, Answer<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T> TaskHandle<T> {
    /// Waits for the task and returns its value.
    ///
    /// # Errors
    /// [`TaskError::Panicked`] with the panic's message, or
    /// [`TaskError::Cancelled`] when the task was dropped before it ran
    /// (`shutdown_now`, or the pool dropped). It never waits for a task
    /// that no longer exists.
    ///
    /// ```
    /// let pool = worker_pool::WorkerPool::new(1, 2)?;
    /// let handle = pool.submit(|| vec![1, 2, 3]).expect("open");
    /// assert_eq!(handle.join(), Ok(vec![1, 2, 3]));
    /// # Ok::<(), worker_pool::ConfigError>(())
    /// ```
    pub fn join(self) -> Result<T, TaskError> {
        let mut state = self.slot.lock();
        loop {
            match std::mem::replace(&mut *state, Answer::Taken) {
                Answer::Ready(answer) => return answer,
                waiting => {
                    *state = waiting;
                    state = wait_on(&self.slot.ready, state);
                }
            }
        }
    }

    /// Whether the task has an answer now (its value, its panic or its
    /// cancellation), so that [`join`](Self::join) would not wait.
    ///
    /// ```
    /// let pool = worker_pool::WorkerPool::new(1, 2)?;
    /// let handle = pool.submit(|| 1).expect("open");
    /// pool.wait_idle();
    /// assert!(handle.is_finished());
    /// # Ok::<(), worker_pool::ConfigError>(())
    /// ```
    pub fn is_finished(&self) -> bool {
        matches!(*self.slot.lock(), Answer::Ready(_))
    }
}
// ANCHOR_END: slot

impl<T> fmt::Debug for TaskHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskHandle")
            .field("finished", &self.is_finished())
            .finish()
    }
}

impl fmt::Debug for WorkerPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerPool")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl<F> SubmitError<F> {
    /// The same answer with its task changed by `f`.
    fn map<G>(self, f: impl FnOnce(F) -> G) -> SubmitError<G> {
        match self {
            Self::Full(task) => SubmitError::Full(f(task)),
            Self::ShutDown(task) => SubmitError::ShutDown(f(task)),
        }
    }
}
