//! # Chapter 08: a pool of connections, with a lifecycle
//!
//! Read `book/src/08-connection-pool.md` first, then fill in every `todo!()`
//! below. Check your work with
//!
//! ```text
//! cargo run -- check 08     # or: cargo test -p exercise-08-connection-pool
//! ```
//!
//! A connection is slow to make, can fail to be made, and can go bad while
//! it sits in the pool. This chapter is about its life: creating it (never
//! more than `max_size`, waiting no longer than `connection_timeout`),
//! checking it (`is_valid` on checkout, `has_broken` on every return),
//! retiring it (broken, invalid, idle too long, too old) and shutting the
//! pool down, all without ever calling the manager or a hook while the lock
//! is held.
//!
//! Given: the two traits, the configuration and its `Default`, the
//! counters, the error types with their `Display`, the state behind the
//! lock (`State`, `Shared`, and the `Entry` that moves whole between the
//! idle list and a `PooledConnection`), the handles (`ConnectionPool`,
//! which closes the pool when its last clone goes, and `PooledConnection`
//! with `Deref`/`DerefMut` and the `Drop` that calls your `check_in`),
//! `new` and `with_hooks` (which call your `build`), `lend`, `lock`,
//! `on_close`, `Place::keep`, the `Step` a get takes, and the whole
//! `TcpManager`. Yours to write: every body that says `todo!()`.
//!
//! Where to start: `validate`, `stats`, `wake_one`, `count_close`, then one thread
//! and no failures: `build`, `take_idle`, `connect` with `Place`'s `Drop`,
//! `get` without waiting, `check_in`. Then
//! waiting in `get` (the `waiters` count, the deadline), `try_get`,
//! `check_out` and `close_in_use`, `mark_broken` and `detach`; then
//! `too_old`, `refill`, `reap` and `close`. The tests
//! that use one thread go green first; the TCP tests last.

// The bodies below are still `todo!()`, so the compiler would warn that the
// arguments, fields and helpers are unused. Delete this line when you are done.
#![allow(unused_variables, unused_mut, dead_code, unused_imports)]

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::ops::{Deref, DerefMut};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

// ANCHOR: manage
/// Makes and checks the pool's connections: what a connection *is* lives
/// here, the pool only keeps them.
pub trait ManageConnection: Send + Sync + 'static {
    /// The connection the pool keeps.
    type Connection: Send + 'static;
    /// Why a connect or a check failed.
    type Error: std::error::Error + Send + Sync + 'static;
    /// Opens a new connection.
    fn connect(&self) -> Result<Self::Connection, Self::Error>;
    /// Checks a connection with a round trip; `Err` means it must not be used.
    /// The pool calls it before handing out an idle connection when
    /// `test_on_checkout` is set.
    fn is_valid(&self, conn: &mut Self::Connection) -> Result<(), Self::Error>;
    /// A cheap check, with no round trip, that the connection is still
    /// usable; the pool calls it on every return, and closes a connection
    /// that has broken.
    fn has_broken(&self, conn: &mut Self::Connection) -> bool;
}
// ANCHOR_END: manage

// ANCHOR: hooks
/// Calls the pool makes at points of a connection's life. Every method has
/// an empty default body: implement only those you need.
// The default bodies are empty, so their arguments go unused.
#[allow(unused_variables)]
pub trait ConnectionHooks<C>: Send + Sync + 'static {
    /// After a connect, before the connection's first use.
    fn on_connect(&self, conn: &mut C) {}
    /// Each time a connection comes back to the pool and will be kept:
    /// clean up the session state the last user left.
    fn on_checkin(&self, conn: &mut C) {}
    /// Just before a connection is dropped, with the reason.
    fn on_close(&self, conn: &mut C, reason: CloseReason) {}
}
// ANCHOR_END: hooks

// ANCHOR: config
/// How a pool opens, keeps and retires its connections.
#[derive(Clone, Debug)]
pub struct PoolConfig {
    /// The most connections open at once: idle, in use and being connected.
    pub max_size: usize,
    /// `new` and `reap` open connections until this many are idle.
    pub min_idle: usize,
    /// How long `get` waits for a connection before it answers `Timeout`.
    pub connection_timeout: Duration,
    /// `reap` closes connections idle longer than this, never going below
    /// `min_idle` idle ones. `None`: never.
    pub idle_timeout: Option<Duration>,
    /// Connections older than this are closed when they are next idle
    /// (`reap`, `get`) or returned. `None`: never.
    pub max_lifetime: Option<Duration>,
    /// Call `is_valid` on an idle connection before handing it out.
    pub test_on_checkout: bool,
}
// ANCHOR_END: config

impl Default for PoolConfig {
    /// r2d2's defaults, but with no idle connection kept open: at most 10
    /// connections, none opened ahead, 30 s to wait, idle ones closed after
    /// 10 minutes, every one after 30, and a check on checkout.
    fn default() -> Self {
        Self {
            max_size: 10,
            min_idle: 0,
            connection_timeout: Duration::from_secs(30),
            idle_timeout: Some(Duration::from_secs(10 * 60)),
            max_lifetime: Some(Duration::from_secs(30 * 60)),
            test_on_checkout: true,
        }
    }
}

// ANCHOR: stats
/// Why the pool closed a connection; [`ConnectionHooks::on_close`] gets it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseReason {
    /// `has_broken` said so when it was returned, or its user called
    /// `mark_broken`, or a check of it panicked.
    Broken,
    /// `is_valid` failed on checkout.
    Invalid,
    /// It sat idle longer than `idle_timeout`.
    IdleTimeout,
    /// It was older than `max_lifetime`.
    MaxLifetime,
    /// The pool was closed.
    PoolClosed,
}

/// The pool's counters, read at one instant by [`ConnectionPool::stats`].
///
/// While nothing is being connected and nothing was detached,
/// `opened - (every closed_…) == idle + in_use`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionStats {
    /// Connections opened: `connect` and `on_connect` both returned.
    pub opened: u64,
    /// Connects that returned `Err` or panicked (in `connect` or `on_connect`).
    pub connect_failures: u64,
    /// Connections taken for callers of `get` and `try_get`: new ones, and
    /// idle ones, counted before the checkout check (those that fail it are
    /// counted in `closed_invalid` too).
    pub gets: u64,
    /// Calls of `get` that had to wait (for a connection, a place, or a retry).
    pub waited: u64,
    /// Calls of `get` that answered `Timeout`.
    pub timeouts: u64,
    /// Connections closed with [`CloseReason::Broken`].
    pub closed_broken: u64,
    /// Connections closed with [`CloseReason::Invalid`].
    pub closed_invalid: u64,
    /// Connections closed with [`CloseReason::IdleTimeout`].
    pub closed_idle: u64,
    /// Connections closed with [`CloseReason::MaxLifetime`].
    pub closed_lifetime: u64,
    /// Connections closed with [`CloseReason::PoolClosed`].
    pub closed_pool: u64,
    /// Connections handed out and not yet returned (or detached).
    pub in_use: usize,
    /// Connections in the pool, ready to be handed out.
    pub idle: usize,
}
// ANCHOR_END: stats

impl ConnectionStats {
    /// Every connection closed, whatever the reason.
    pub fn closed(&self) -> u64 {
        self.closed_broken
            + self.closed_invalid
            + self.closed_idle
            + self.closed_lifetime
            + self.closed_pool
    }
}

// ANCHOR: errors
/// Why a [`PoolConfig`] was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// `max_size` is 0: the pool could never hand out a connection.
    ZeroMaxSize,
    /// `min_idle` is above `max_size`: the pool could never keep that many.
    MinIdleAboveMaxSize {
        /// The `min_idle` asked for.
        min_idle: usize,
        /// The `max_size` asked for.
        max_size: usize,
    },
    /// `connection_timeout` is zero: `get` could never wait for a connection.
    ZeroConnectionTimeout,
}

/// Why [`ConnectionPool::get`] handed out no connection.
#[derive(Debug)]
pub enum GetError<E> {
    /// No connection came free and none could be opened within
    /// `connection_timeout`.
    Timeout {
        /// How long the get waited.
        waited: Duration,
        /// The error of this get's last failed connect, if it tried one.
        last_error: Option<E>,
    },
    /// The pool was closed.
    Closed,
}
// ANCHOR_END: errors

impl fmt::Display for ConfigError {
    /// One sentence that names the setting and the value refused.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ZeroMaxSize => write!(f, "max_size must be at least 1, not 0"),
            Self::MinIdleAboveMaxSize { min_idle, max_size } => write!(
                f,
                "min_idle ({min_idle}) must not be above max_size ({max_size})"
            ),
            Self::ZeroConnectionTimeout => {
                write!(f, "connection_timeout must be longer than zero")
            }
        }
    }
}

impl std::error::Error for ConfigError {}

impl<E: fmt::Display> fmt::Display for GetError<E> {
    /// Says how long the get waited and, if a connect failed, why.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout { waited, last_error } => {
                write!(f, "no connection within {waited:?}")?;
                match last_error {
                    Some(err) => write!(f, "; the last connect failed: {err}"),
                    None => Ok(()),
                }
            }
            Self::Closed => write!(f, "the pool is closed"),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for GetError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Timeout {
                last_error: Some(err),
                ..
            } => Some(err),
            _ => None,
        }
    }
}

impl PoolConfig {
    /// `Ok` when a pool can run with this configuration; otherwise the
    /// first thing wrong with it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        todo!(
            "Ok when max_size >= 1, min_idle <= max_size and connection_timeout > 0; otherwise the first of those that fails, in that order, as its ConfigError"
        )
    }
}

// ANCHOR: state
/// A connection and when it was opened (only if `max_lifetime` is set).
struct Conn<C> {
    conn: C,
    created: Option<Instant>,
}

/// A connection of the pool, idle in the list or lent in a
/// `PooledConnection`: the same value either way, moved whole, so lending
/// and returning copy it as it is.
struct Entry<M: ManageConnection> {
    conn: Conn<M::Connection>,
    /// Since when it is idle (only if `idle_timeout` is set; stale while lent).
    idle_since: Option<Instant>,
}

/// What the lock guards.
struct State<M: ManageConnection> {
    /// Idle connections, the most recently returned last (`get` takes from
    /// the end, so the ones at the front are those idle longest).
    idle: Vec<Entry<M>>,
    /// Places taken, counted against `max_size`: idle connections, those in
    /// use, and those being connected.
    open: usize,
    /// Connections handed out and not yet back.
    in_use: usize,
    /// Threads asleep on the condvar.
    waiters: usize,
    /// `close` was called.
    closed: bool,
    /// The counters `stats` reports (`in_use` and `idle` are read above).
    stats: ConnectionStats,
}

/// What every clone of a pool, and every connection handed out, shares.
struct Shared<M: ManageConnection> {
    manager: M,
    config: PoolConfig,
    /// `None` when the pool has no hooks: no call is made at all.
    hooks: Option<Box<dyn ConnectionHooks<M::Connection>>>,
    state: Mutex<State<M>>,
    /// Waiters for a connection or a place sleep here.
    available: Condvar,
    /// Live `ConnectionPool` handles: the last one to go closes the pool
    /// (idle connections hold shares of the pool, so they must be closed for
    /// it ever to be freed).
    handles: AtomicUsize,
}
// ANCHOR_END: state

// ANCHOR: pool
/// A pool of connections made by `M`. Clones share one pool; it is `Send`
/// and `Sync`. Dropping the last clone closes the pool, as
/// [`close`](Self::close) does.
pub struct ConnectionPool<M: ManageConnection> {
    shared: Arc<Shared<M>>,
}

/// A connection lent by the pool: derefs to `M::Connection`, and goes back
/// to the pool when dropped. It owns a share of the pool, so it may outlive
/// the `ConnectionPool` it came from and move to another thread (a
/// connection returned to a pool whose handles are all gone is closed, as
/// `PoolClosed`).
pub struct PooledConnection<M: ManageConnection> {
    /// The share of the pool that keeps it alive while the connection is out.
    shared: Arc<Shared<M>>,
    /// `None` only once `Drop` or `detach` took it.
    lent: Option<Entry<M>>,
    /// `mark_broken` was called.
    broken: bool,
}
// ANCHOR_END: pool

// ANCHOR: place
/// A place reserved under the lock (`open` counts it) while a connection is
/// made outside it. Dropped without [`Place::keep`], on an error or a panic,
/// it gives the place back, counts a failed connect and wakes a waiter.
struct Place<'a, M: ManageConnection> {
    shared: &'a Shared<M>,
}

impl<M: ManageConnection> Place<'_, M> {
    /// The place is now a connection's: it is not given back.
    fn keep(self) {
        std::mem::forget(self);
    }
}

impl<M: ManageConnection> Drop for Place<'_, M> {
    fn drop(&mut self) {
        todo!("the place is free again, the connect counted as failed, and a waiter woken")
    }
}
// ANCHOR_END: place

/// What `get` does next, decided under the lock and done outside it.
enum Step<M: ManageConnection> {
    /// An idle connection, already counted in `in_use`: check it out.
    Idle(Entry<M>),
    /// An idle connection too old to hand out, already counted as closed:
    /// run `on_close`, then look again.
    Expired(Entry<M>),
    /// A place is reserved: connect.
    Connect,
}

impl<M: ManageConnection> ConnectionPool<M> {
    /// A pool of connections made by `manager`, with no hooks; it opens
    /// `config.min_idle` connections now. A failed connect there is counted
    /// in `connect_failures` and left to [`reap`](Self::reap) to retry, not
    /// fatal.
    ///
    /// # Errors
    /// The [`ConfigError`] of [`PoolConfig::validate`].
    pub fn new(manager: M, config: PoolConfig) -> Result<Self, ConfigError> {
        Self::build(manager, config, None)
    }

    /// As [`new`](Self::new), with `hooks` called at each point of a
    /// connection's life (`on_connect` already for the `min_idle` opened now).
    ///
    /// # Errors
    /// The [`ConfigError`] of [`PoolConfig::validate`].
    pub fn with_hooks(
        manager: M,
        config: PoolConfig,
        hooks: impl ConnectionHooks<M::Connection>,
    ) -> Result<Self, ConfigError> {
        Self::build(manager, config, Some(Box::new(hooks)))
    }

    // ANCHOR: build
    /// Checks `config`, makes the shared state and opens `min_idle`
    /// connections (failures counted, not fatal).
    fn build(
        manager: M,
        config: PoolConfig,
        hooks: Option<Box<dyn ConnectionHooks<M::Connection>>>,
    ) -> Result<Self, ConfigError> {
        todo!(
            "the config is valid (else its ConfigError, with nothing connected), the shared state is empty and open, and min_idle connections have been tried (failures counted, not fatal)"
        )
    }
    // ANCHOR_END: build

    // ANCHOR: get
    /// A connection: an idle one (checked with `is_valid` first when
    /// `test_on_checkout` is set), else a new one while fewer than
    /// `max_size` are open, else the first one returned, waiting up to
    /// `connection_timeout` in all. A failed connect is retried after a short
    /// pause (doubling from 1 ms to 100 ms) until the time is up. Never more
    /// than `max_size` connections are open, counting those in use.
    ///
    /// # Errors
    /// [`GetError::Timeout`] when `connection_timeout` passed first (with
    /// this get's last connect error, if it tried one), [`GetError::Closed`]
    /// once the pool is closed.
    #[inline]
    pub fn get(&self) -> Result<PooledConnection<M>, GetError<M::Error>> {
        todo!(
            "a connection that is idle (and passed check_out), else new (a place reserved under the lock, connected outside it), else the first returned or freed place; Timeout with this call's last connect error once connection_timeout has passed since the fast path failed; Closed once closed; the clock is never read while an idle connection is there to take; a failed connect is retried after a pause that doubles from 1 ms up to 100 ms; waited and timeouts counted once per call; any connection_timeout, however large, works (an Instant plus Duration::MAX overflows)"
        )
    }
    // ANCHOR_END: get

    /// An idle connection (checked first when `test_on_checkout` is set),
    /// or a new one if fewer than `max_size` are open; `None` otherwise, or
    /// when the connect fails, or once the pool is closed. Never waits for
    /// another user.
    pub fn try_get(&self) -> Option<PooledConnection<M>> {
        todo!(
            "what get hands out, but never waiting for a place or a retry: None when every place is taken, when the connect fails (its place given back) or once the pool is closed"
        )
    }

    /// Wraps a connection already counted in `in_use`, with a share of the
    /// pool of its own.
    #[inline]
    fn lend(&self, lent: Entry<M>) -> PooledConnection<M> {
        PooledConnection {
            shared: Arc::clone(&self.shared),
            lent: Some(lent),
            broken: false,
        }
    }

    // ANCHOR: reap
    /// Closes now every idle connection older than `max_lifetime`
    /// (`MaxLifetime`) and those idle longer than `idle_timeout`
    /// (`IdleTimeout`, longest idle first, keeping `min_idle` idle), then
    /// opens connections until `min_idle` are idle (within `max_size`).
    /// Returns how many it closed. The pool starts no thread of its own: call
    /// this from your own timer.
    pub fn reap(&self) -> usize {
        todo!(
            "idle connections past max_lifetime closed (MaxLifetime), then those idle past idle_timeout, longest idle first, while more than min_idle are idle (IdleTimeout); on_close outside the lock; then refilled to min_idle; how many were closed (0 on a closed pool, which opens nothing)"
        )
    }
    // ANCHOR_END: reap

    // ANCHOR: close
    /// Closes the pool: idle connections are closed now (`PoolClosed`),
    /// those in use when they are returned; from now on `get` answers
    /// `Closed` (waiters too) and `try_get` `None`. Closing twice does nothing more.
    pub fn close(&self) {
        todo!(
            "the pool refuses gets from now on, every idle connection is counted and closed (PoolClosed, on_close outside the lock), and every waiting get is woken; calling it again changes nothing"
        )
    }
    // ANCHOR_END: close

    /// The counters, read at one instant.
    pub fn stats(&self) -> ConnectionStats {
        todo!("the counters, with in_use and idle as they are now, all read under one lock")
    }
}

impl<M: ManageConnection> Clone for ConnectionPool<M> {
    /// Another handle on the same pool.
    fn clone(&self) -> Self {
        self.shared.handles.fetch_add(1, Ordering::Relaxed);
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<M: ManageConnection> Drop for ConnectionPool<M> {
    /// The last handle closes the pool, as [`close`](Self::close) does:
    /// connections still in use close when they are returned.
    fn drop(&mut self) {
        if self.shared.handles.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.close();
        }
    }
}

/// Why `Shared::connect` made no connection.
enum ConnectError<E> {
    Failed(E),
    Closed,
}

impl<M: ManageConnection> Shared<M> {
    /// The state, even if a thread panicked while holding it: no code of
    /// the pool panics with the lock held, so the state is never half-done.
    #[inline]
    fn lock(&self) -> MutexGuard<'_, State<M>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    // ANCHOR: wake
    /// Wakes one waiter, if there is one (a `notify_one` with nobody waiting
    /// would still make a system call).
    #[inline]
    fn wake_one(&self, state: &State<M>) {
        todo!("wakes one sleeping get, with no system call when nobody sleeps")
    }
    // ANCHOR_END: wake

    // ANCHOR: take_idle
    /// The most recently returned idle connection, now counted in `in_use`
    /// and in `gets` (`Ok`); or, if that one is older than `max_lifetime`,
    /// the connection to close, already counted as closed (`Err`: the caller
    /// runs `on_close` once the lock is released). `None` when nothing is idle.
    #[inline]
    fn take_idle(&self, state: &mut State<M>) -> Option<Result<Entry<M>, Entry<M>>> {
        todo!(
            "None when nothing is idle; otherwise the most recently returned idle connection: Err(it), counted as closed, when max_lifetime is set and it is too old; Ok(it), counted in in_use and gets, otherwise; the clock is read only when max_lifetime is set"
        )
    }
    // ANCHOR_END: take_idle

    /// Whether `conn` has outlived `max_lifetime` at `now`.
    fn too_old(&self, conn: &Conn<M::Connection>, now: Option<Instant>) -> bool {
        todo!(
            "true only when max_lifetime is set, the connection's creation instant and `now` are known, and it has lived at least max_lifetime"
        )
    }

    // ANCHOR: check_out
    /// An idle connection on its way out, checked with `is_valid` when
    /// `test_on_checkout` is set: `None` if it failed (or panicked: then
    /// the panic goes on), and it is closed as `Invalid`.
    #[inline]
    fn check_out(&self, mut lent: Entry<M>) -> Option<Entry<M>> {
        todo!(
            "without test_on_checkout, the connection untouched; with it, the connection if is_valid says Ok, else None, the connection closed as Invalid (and a panic in is_valid passed on after that close)"
        )
    }
    // ANCHOR_END: check_out

    // ANCHOR: connect
    /// Makes a connection in the reserved `place`, outside the lock, and
    /// runs `on_connect`; counts it as opened and in use. On `Err` (or a
    /// panic) `place` gives the place back. If the pool was closed meanwhile,
    /// the new connection is closed (`PoolClosed`).
    fn connect(&self, place: Place<'_, M>) -> Result<Entry<M>, ConnectError<M::Error>> {
        todo!(
            "a new connection in `place`, made and passed through on_connect outside the lock, counted in opened, in_use and gets; Failed(err) with the place given back; Closed (the new one counted and closed as PoolClosed) if the pool closed meanwhile; the creation instant is read only when max_lifetime is set"
        )
    }
    // ANCHOR_END: connect

    /// Opens connections until `min_idle` are idle, within `max_size`;
    /// failures are counted and left for the next `reap`.
    fn refill(&self) {
        todo!(
            "connections opened until min_idle are idle, never above max_size and never on a closed pool, each passed through on_connect and put at the longest-idle end; a failed connect gives its place back and is left to the next reap"
        )
    }

    // ANCHOR: check_in
    /// A connection coming back: closed if it was marked or `has_broken`
    /// (`Broken`), is too old (`MaxLifetime`) or the pool is closed
    /// (`PoolClosed`); otherwise `on_checkin` runs and it is idle again,
    /// and a waiter is woken. A panic in `has_broken` or `on_checkin` closes
    /// it as `Broken` and goes on.
    ///
    fn check_in(&self, mut lent: Entry<M>, marked: bool) {
        todo!(
            "a returned connection: closed as Broken if marked or has_broken, as MaxLifetime if too old, as PoolClosed if the pool is closed; otherwise on_checkin ran, it is idle (newest, its idle_since set when idle_timeout is) and a waiter is woken; a panic in has_broken or on_checkin closes it as Broken, then goes on unless this thread is already unwinding; no user code runs under the lock"
        )
    }
    // ANCHOR_END: check_in

    /// Closes a connection that was in use: its place is given back, the
    /// close counted, a waiter woken, then `on_close` runs outside the lock.
    fn close_in_use(&self, conn: M::Connection, reason: CloseReason) {
        todo!(
            "a connection that was in use is counted as closed for `reason` (its place freed, a waiter woken) before on_close runs outside the lock"
        )
    }

    /// Counts a connection closed for `reason` and frees its place; the
    /// caller has taken it out of the idle list or `in_use`.
    fn count_close(&self, state: &mut State<M>, reason: CloseReason) {
        todo!(
            "the counter of `reason` is one higher, the connection's place is freed and a waiter woken; nothing else changes"
        )
    }

    /// `on_close`, then the connection is dropped. Call it without the lock.
    fn on_close(&self, mut conn: M::Connection, reason: CloseReason) {
        if let Some(hooks) = &self.hooks {
            hooks.on_close(&mut conn, reason);
        }
    }
}

impl<M: ManageConnection> PooledConnection<M> {
    /// Marks the connection as broken: when dropped it is closed
    /// ([`CloseReason::Broken`]), not returned to the pool.
    pub fn mark_broken(&mut self) {
        todo!("when this guard is dropped the connection is closed as Broken, not kept")
    }

    /// Takes the connection out of the pool for good: the pool forgets it
    /// (no `on_close`, no close counted), frees its place and may open
    /// another.
    pub fn detach(mut self) -> M::Connection {
        todo!(
            "the connection, out of the pool for good: not in use, its place free (a waiter woken), no close counted and no on_close, and the guard's Drop does nothing more"
        )
    }
}

impl<M: ManageConnection> Drop for PooledConnection<M> {
    /// Back to the pool, or closed: see [`ConnectionPool`]'s rules.
    #[inline]
    fn drop(&mut self) {
        if let Some(lent) = self.lent.take() {
            self.shared.check_in(lent, self.broken);
        }
    }
}

impl<M: ManageConnection> Deref for PooledConnection<M> {
    type Target = M::Connection;

    /// The connection.
    #[inline]
    fn deref(&self) -> &M::Connection {
        &self
            .lent
            .as_ref()
            .expect("a lent connection is there until dropped")
            .conn
            .conn
    }
}

impl<M: ManageConnection> DerefMut for PooledConnection<M> {
    /// The connection, mutably.
    #[inline]
    fn deref_mut(&mut self) -> &mut M::Connection {
        &mut self
            .lent
            .as_mut()
            .expect("a lent connection is there until dropped")
            .conn
            .conn
    }
}

// ANCHOR: tcp
/// Plain TCP connections to one address: `connect` with a timeout,
/// `is_valid` sends `PING\n` and expects `PONG\n`, `has_broken` looks
/// (without blocking) whether the peer has closed the socket.
#[derive(Clone, Debug)]
pub struct TcpManager {
    addr: SocketAddr,
    timeout: Duration,
}

impl TcpManager {
    /// Connections to `addr`, with 1 s to connect and to answer a `PING`.
    pub fn new(addr: SocketAddr) -> Self {
        Self::with_timeout(addr, Duration::from_secs(1))
    }

    /// Connections to `addr`, with `timeout` to connect, and for each read
    /// and write (zero is taken as 1 ms: a socket refuses a zero timeout).
    pub fn with_timeout(addr: SocketAddr, timeout: Duration) -> Self {
        let timeout = timeout.max(Duration::from_millis(1));
        Self { addr, timeout }
    }

    /// The address connected to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The timeout to connect, and of each read and write.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}

impl ManageConnection for TcpManager {
    type Connection = TcpStream;
    type Error = io::Error;

    fn connect(&self) -> io::Result<TcpStream> {
        let stream = TcpStream::connect_timeout(&self.addr, self.timeout)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(self.timeout))?;
        stream.set_write_timeout(Some(self.timeout))?;
        Ok(stream)
    }

    fn is_valid(&self, conn: &mut TcpStream) -> io::Result<()> {
        conn.write_all(b"PING\n")?;
        let mut answer = [0; 5];
        conn.read_exact(&mut answer)?;
        if &answer == b"PONG\n" {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("PING was answered with {answer:?}, not PONG"),
            ))
        }
    }

    fn has_broken(&self, conn: &mut TcpStream) -> bool {
        // A closed socket reads 0 bytes at once; a live one with nothing to
        // read would block. Bytes nobody read are broken too: the next user
        // would take them for the answer to its own request.
        if conn.set_nonblocking(true).is_err() {
            return true;
        }
        let mut byte = [0; 1];
        let broken = match conn.peek(&mut byte) {
            Ok(_) => true,
            Err(err) => err.kind() != io::ErrorKind::WouldBlock,
        };
        broken || conn.set_nonblocking(false).is_err()
    }
}
// ANCHOR_END: tcp
