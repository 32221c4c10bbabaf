//! # Chapter 07: a pool of worker threads
//!
//! Read `book/src/07-worker-pool.md` first, then fill in every `todo!()`
//! below. Check your work with
//!
//! ```text
//! cargo run -- check 07     # or: cargo test -p exercise-07-worker-pool
//! ```
//!
//! This chapter is about a lifecycle: threads started once, tasks that wait
//! in a bounded queue, run, panic or are dropped, and a pool that shuts down
//! without losing a task silently and without hanging. Given: the data
//! layout (one `State` behind one `Mutex`, three `Condvar`s, the counters
//! and who sleeps where, each field with its meaning); the two kinds of
//! queued task (`Plain` for `execute`, `Submitted` for `submit`) and what a
//! run reports (`Ran`); the one-shot `Slot` a handle reads its answer from,
//! with its states; `execute` and `try_execute`, which only pass their task
//! to `push`; the error types with their `Display`; `spin`, the short wait
//! without the lock a worker makes before it sleeps; and small helpers
//! (`lock`, `wait_on`, `map`, `into_inner`).
//!
//! Yours: starting the workers (`new`) and their loop (`work`); queueing
//! with backpressure (`push`, `submit`); answering a handle (`run` of a
//! `Submitted` task, `panic_message`, `store`, `publish`, the `Drop` of a
//! `Sender`, `join`, `is_finished`); `wait_idle` with `oldest_unfinished`;
//! `shutdown`, `shutdown_now` and the pool's `Drop`; and `stats`.
//!
//! Where to start: `new`, `stats`, `push` and `work` (without panics at
//! first), then `shutdown` and `Drop`: the tests of running tasks go green.
//! Then the handle: `submit`, `run`, `store`, `publish`, `join`,
//! `is_finished`; then panics (`panic_message`), `shutdown_now` with the
//! `Sender`'s `Drop`, and `wait_idle` last.

// The bodies below are still `todo!()`, so the compiler would warn that the
// arguments, fields and helpers are unused. Delete this line when you are done.
#![allow(unused_variables, unused_mut, dead_code, unused_imports)]

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
pub enum SubmitError<F> {
    /// The queue is full (`try_execute` only: `execute` waits for room).
    Full(F),
    /// The pool was shut down.
    ShutDown(F),
}

/// Why [`TaskHandle::join`] has no value.
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
    pub fn new(workers: usize, queue_capacity: usize) -> Result<Self, ConfigError> {
        todo!(
            "a pool whose `workers` threads, named worker-0, worker-1, …, run `work` and are joined by Drop, with an empty queue that holds at most `queue_capacity` tasks; ZeroWorkers or ZeroQueueCapacity for a 0 (checked before any thread starts), Spawn when the system refuses a thread, with the workers already started still shut down and joined"
        )
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
    pub fn submit<T, F>(&self, task: F) -> Result<TaskHandle<T>, SubmitError<F>>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        todo!(
            "a handle whose join answers what `task` returns, once a worker ran it; the task is queued as push queues it (waiting for room); if refused, the very task comes back in the same SubmitError variant"
        )
    }

    // ANCHOR: push
    /// Puts `job` at the back of the queue, waiting for room if `wait`, and
    /// wakes a sleeping worker; or gives it back, refused, counted in
    /// `rejected`.
    // The box comes in made: allocating it under the lock would make every
    // other thread wait for `malloc` (and the exercise's stub never uses it).
    #[allow(clippy::boxed_local)]
    fn push<J: Job + 'static>(&self, job: Box<J>, wait: bool) -> Result<(), SubmitError<Box<J>>> {
        todo!(
            "`job` is at the back of the queue and counted in submitted (peak_queued and queued_hint updated), and one sleeping worker is woken if any sleeps; while the queue is full it waits for room when `wait`, else answers Full; ShutDown whenever the pool is shut down, also while waiting. Every refusal gives the job back and counts in rejected. No futex call when nobody sleeps"
        )
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
    pub fn wait_idle(&self) {
        todo!(
            "returns once every task submitted before the call has finished, completed or cancelled (tasks submitted later are not waited for), at once on an idle pool, woken rather than polling; called from one of this pool's own tasks, which would wait for itself, it panics instead"
        )
    }
    // ANCHOR_END: wait_idle

    // ANCHOR: shutdown
    /// Refuses new tasks from now on; the queued ones still run, and then
    /// the workers exit. Returns at once: dropping the pool waits for the
    /// workers. Calling it again does nothing.
    pub fn shutdown(&self) {
        todo!(
            "no task is accepted from now on; queued tasks still run, sleeping workers and blocked submitters are woken so they see it; returns at once; a second call changes nothing"
        )
    }

    /// Refuses new tasks from now on and drops every queued task unrun
    /// (their handles answer [`TaskError::Cancelled`]); tasks already
    /// running finish. Returns how many tasks it dropped, each counted in
    /// `cancelled`.
    ///
    /// # Panics
    /// When dropping a task's captured values panics: the panic goes on to
    /// the caller once every dropped task is gone and counted.
    pub fn shutdown_now(&self) -> usize {
        todo!(
            "as shutdown, and every queued task is taken out, counted in cancelled and dropped outside the lock (so its handle answers Cancelled); running tasks finish; wait_idle callers are woken. Returns how many were dropped; a panic while dropping one is passed on after all are dropped"
        )
    }
    // ANCHOR_END: shutdown

    /// The pool's counters now, taken together under the lock.
    pub fn stats(&self) -> WorkerStats {
        todo!(
            "every counter taken at one moment, under the lock, so that submitted = completed + cancelled + queued + running always holds"
        )
    }
}

// ANCHOR: drop
/// Shuts the pool down (queued tasks still run) and joins every worker. If
/// the last owner of the pool is dropped inside one of its own tasks, the
/// worker running that task is not joined (a thread cannot join itself): it
/// exits by itself once the task returns.
impl Drop for WorkerPool {
    fn drop(&mut self) {
        todo!(
            "the pool is shut down (queued tasks still run) and every worker thread has ended, except the one this runs on when the pool is dropped inside its own task (a thread cannot join itself)"
        )
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
        todo!(
            "the number (in submission order, from 0) of the oldest task still queued or running; `submitted` when there is none"
        )
    }
    // ANCHOR_END: oldest_unfinished
}

// ANCHOR: work
/// A worker's life: take the oldest task, run it, record how it ended;
/// sleep while there is nothing to do; leave once the pool is shut down and
/// the queue is empty.
fn work(shared: &Shared, index: usize) {
    todo!(
        "worker `index`'s life: runs the oldest queued task, recording its number in `current` and counting it running, with no lock held while it runs; a panic is caught and counted, never kills the worker; then counts it completed and publishes its answer under the lock, so join, stats and wait_idle agree; spins briefly, then sleeps, while the queue is empty; leaves once shut down with the queue empty, counted out of workers"
    )
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
        todo!(
            "runs the task; its value, or Panicked with its panic's message, is stored in the slot (not yet shown to join); a panic is caught here and reported as panicked: true, never passed on"
        )
    }
}
// ANCHOR_END: run_submitted

/// The message of a panic: its `&str` or `String` payload, or
/// `Box<dyn Any>` for any other.
fn panic_message(payload: &(dyn Any + Send)) -> String {
    todo!("the text of a panic: the payload's &str or String, else \"Box<dyn Any>\"")
}

// ANCHOR: slot
impl<T: Send + 'static> Sender<T> {
    /// Stores the answer without showing it to the handle yet; the worker
    /// publishes it once the task is counted.
    fn store(self, answer: Result<T, TaskError>) -> Arc<dyn Publish> {
        todo!(
            "the answer is in the slot as Stored (unless the slot already has one), the sender is consumed without cancelling anything, and the slot comes back for the worker to publish"
        )
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        todo!(
            "a sender dropped before it stored an answer (its task never ran) leaves Cancelled for join and wakes it; after store, nothing changes"
        )
    }
}

impl<T: Send> Publish for Slot<T> {
    fn publish(&self) {
        todo!("a Stored answer is Ready for join, which wakes up; any other state is left as it is")
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
    pub fn join(self) -> Result<T, TaskError> {
        todo!(
            "the task's value, or Panicked with its message, or Cancelled if it was dropped unrun; waits (without spinning) until the answer is Ready, and never for a task that no longer exists"
        )
    }

    /// Whether the task has an answer now (its value, its panic or its
    /// cancellation), so that [`join`](Self::join) would not wait.
    pub fn is_finished(&self) -> bool {
        todo!("true once join would return without waiting")
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
