//! # Chapter 08: a pool of connections, with a lifecycle
//!
//! A [`ConnectionPool`] keeps open connections (to a database, to a server)
//! that callers are done with and hands them out again, so a program stops
//! paying a connect (a round trip, a handshake, a login) for every request.
//! Unlike the buffers and objects of chapters 04–06, a connection is slow to
//! make, can fail to be made, and can go bad while it sits in the pool; so
//! the pool is mostly about its *lifecycle*: creating (never more than
//! `max_size`, waiting up to `connection_timeout`), checking (`is_valid` on
//! checkout, `has_broken` on every return), retiring (idle too long, too old,
//! broken) and shutting down ([`ConnectionPool::close`]).
//!
//! What a connection is and how it is made is the job of a
//! [`ManageConnection`]; [`TcpManager`] is one for plain TCP connections.
//!
//! ```
//! use std::convert::Infallible;
//! use connection_pool::{ConnectionPool, ManageConnection, PoolConfig};
//!
//! /// Connections that are just numbers, for the example.
//! struct Numbers;
//! impl ManageConnection for Numbers {
//!     type Connection = u32;
//!     type Error = std::io::Error;
//!     fn connect(&self) -> Result<u32, std::io::Error> { Ok(7) }
//!     fn is_valid(&self, _conn: &mut u32) -> Result<(), std::io::Error> { Ok(()) }
//!     fn has_broken(&self, _conn: &mut u32) -> bool { false }
//! }
//!
//! let pool = ConnectionPool::new(Numbers, PoolConfig::default()).unwrap();
//! {
//!     let conn = pool.get().unwrap(); // opened: nothing was idle
//!     assert_eq!(*conn, 7);
//! } // back in the pool, idle
//! let again = pool.get().unwrap(); // the same connection, from the pool
//! drop(again);
//! let stats = pool.stats();
//! assert_eq!((stats.opened, stats.gets, stats.idle, stats.in_use), (1, 2, 1, 0));
//! ```

// Design notes (for the walkthrough; the exercise is generated from the first `use` on).
//
// ONE LOCK. All of the pool's state (the idle connections, how many places
// are taken, the closed flag, the counters) sits behind one `Mutex`, and
// waiters sleep on one `Condvar`. A get that finds an idle connection takes
// the lock once; a drop takes it once. r2d2 and deadpool pay more per
// operation (r2d2 a lock, a condvar and a clock read; deadpool a semaphore
// and a lock), and that is the chapter's bar.
//
// NEVER CALL USER CODE WITH THE LOCK HELD. `connect`, `is_valid`,
// `has_broken` and the hooks may be slow (a round trip) or may use the pool
// again, or panic. So a get *reserves a place* under the lock (`open += 1`),
// connects outside it, and gives the place back on failure (or on a panic:
// the `Place` guard's `Drop`), waking a waiter.
//
// THE CLOCK is read only when something needs it: a deadline when a get
// must wait or connect, creation and idle instants only when `max_lifetime`
// or `idle_timeout` is configured. The bench's fast path reads no clock.
//
// WAKING. A waiter is woken by `notify_one` when a connection is returned
// or a place is given back; `std`'s `notify_one` makes a system call even
// with nobody waiting, so the pool counts its waiters and notifies only
// when there is one.
//
// ONE SHAPE FOR AN ENTRY. A connection is the same `Entry` (the
// connection, when it was opened, since when it is idle) in the idle list
// and in the guard, and moves whole between them. A first version turned an
// idle entry into a smaller "lent" value and back on every get and drop;
// copying between the two shapes made the processor wait for stores it had
// just made (a store-to-load forwarding stall, visible in `perf annotate`),
// and get + drop took 66 ns against r2d2's 194 in the same run: short of the
// 3x bar. With one shape it is about 62.
//
// AN Arc PER GUARD. A `PooledConnection` must be `'static`, so it owns a
// share of the pool: an `Arc` cloned per get and dropped per return, two
// atomic read-modify-writes beside the lock's four. Keeping a share in every
// idle entry and moving it into the guard would save both (46 ns in a trial)
// but needs `unsafe`: the returning guard must lock the pool through the
// very `Arc` it moves into the idle list, and once it has, another thread may
// free the pool while this one is still inside `Mutex::unlock` (Miri flags a
// first version of it at once). Not worth it here; the bar is met without.
//
// THE LAST HANDLE CLOSES THE POOL. Dropping the last `ConnectionPool`
// closes it as `close` does, so idle connections see `on_close` even when
// guards keep the shared state alive.

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
///
/// ```
/// use connection_pool::ManageConnection;
///
/// struct Numbers;
/// impl ManageConnection for Numbers {
///     type Connection = u32;
///     type Error = std::io::Error;
///     fn connect(&self) -> Result<u32, std::io::Error> { Ok(1) }
///     fn is_valid(&self, _conn: &mut u32) -> Result<(), std::io::Error> { Ok(()) }
///     fn has_broken(&self, conn: &mut u32) -> bool { *conn == 0 }
/// }
/// assert!(Numbers.has_broken(&mut 0));
/// ```
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
///
/// ```
/// use connection_pool::{CloseReason, ConnectionHooks};
///
/// /// Forgets what the last user left in a session.
/// struct Reset;
/// impl ConnectionHooks<Vec<String>> for Reset {
///     fn on_checkin(&self, session: &mut Vec<String>) {
///         session.clear();
///     }
/// }
/// let mut session = vec!["SET search_path".to_owned()];
/// Reset.on_checkin(&mut session);
/// assert!(session.is_empty());
/// Reset.on_close(&mut session, CloseReason::Broken); // the default: does nothing
/// ```
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
///
/// ```
/// use std::time::Duration;
/// use connection_pool::PoolConfig;
///
/// let config = PoolConfig {
///     max_size: 4,
///     connection_timeout: Duration::from_secs(2),
///     ..PoolConfig::default()
/// };
/// assert_eq!((config.max_size, config.min_idle), (4, 0));
/// ```
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
    ///
    /// ```
    /// use std::time::Duration;
    /// let config = connection_pool::PoolConfig::default();
    /// assert_eq!(config.max_size, 10);
    /// assert_eq!(config.connection_timeout, Duration::from_secs(30));
    /// assert_eq!(config.max_lifetime, Some(Duration::from_secs(30 * 60)));
    /// assert!(config.test_on_checkout);
    /// ```
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
///
/// ```
/// use connection_pool::CloseReason;
/// assert_ne!(CloseReason::Broken, CloseReason::Invalid);
/// ```
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
///
/// ```
/// use connection_pool::ConnectionStats;
/// let stats = ConnectionStats {
///     opened: 3, connect_failures: 0, gets: 5, waited: 1, timeouts: 0,
///     closed_broken: 1, closed_invalid: 0, closed_idle: 0, closed_lifetime: 0,
///     closed_pool: 0, in_use: 1, idle: 1,
/// };
/// assert_eq!(stats.closed(), 1);
/// ```
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
    ///
    /// ```
    /// # use connection_pool::{ConnectionPool, ManageConnection, PoolConfig};
    /// # struct Numbers;
    /// # impl ManageConnection for Numbers {
    /// #     type Connection = u32;
    /// #     type Error = std::io::Error;
    /// #     fn connect(&self) -> Result<u32, std::io::Error> { Ok(1) }
    /// #     fn is_valid(&self, _: &mut u32) -> Result<(), std::io::Error> { Ok(()) }
    /// #     fn has_broken(&self, _: &mut u32) -> bool { false }
    /// # }
    /// let pool = ConnectionPool::new(Numbers, PoolConfig::default()).unwrap();
    /// pool.get().unwrap().mark_broken();
    /// assert_eq!(pool.stats().closed(), 1);
    /// ```
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
///
/// ```
/// use connection_pool::{ConfigError, PoolConfig};
/// let config = PoolConfig { max_size: 0, ..PoolConfig::default() };
/// assert_eq!(config.validate(), Err(ConfigError::ZeroMaxSize));
/// ```
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
///
/// ```
/// use std::time::Duration;
/// use connection_pool::GetError;
/// let err: GetError<std::io::Error> = GetError::Timeout { waited: Duration::from_secs(1), last_error: None };
/// assert!(err.to_string().starts_with("no connection within"));
/// ```
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
    ///
    /// ```
    /// assert_eq!(
    ///     connection_pool::ConfigError::ZeroMaxSize.to_string(),
    ///     "max_size must be at least 1, not 0"
    /// );
    /// ```
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
    ///
    /// ```
    /// use connection_pool::GetError;
    /// assert_eq!(GetError::<std::io::Error>::Closed.to_string(), "the pool is closed");
    /// ```
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
    ///
    /// ```
    /// use connection_pool::{ConfigError, PoolConfig};
    /// let config = PoolConfig { max_size: 2, min_idle: 3, ..PoolConfig::default() };
    /// assert_eq!(
    ///     config.validate(),
    ///     Err(ConfigError::MinIdleAboveMaxSize { min_idle: 3, max_size: 2 })
    /// );
    /// assert_eq!(PoolConfig::default().validate(), Ok(()));
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_size == 0 {
            return Err(ConfigError::ZeroMaxSize);
        }
        if self.min_idle > self.max_size {
            return Err(ConfigError::MinIdleAboveMaxSize {
                min_idle: self.min_idle,
                max_size: self.max_size,
            });
        }
        if self.connection_timeout.is_zero() {
            return Err(ConfigError::ZeroConnectionTimeout);
        }
        Ok(())
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
///
/// ```
/// # use connection_pool::{ConnectionPool, ManageConnection, PoolConfig};
/// # struct Numbers;
/// # impl ManageConnection for Numbers {
/// #     type Connection = u32;
/// #     type Error = std::io::Error;
/// #     fn connect(&self) -> Result<u32, std::io::Error> { Ok(1) }
/// #     fn is_valid(&self, _: &mut u32) -> Result<(), std::io::Error> { Ok(()) }
/// #     fn has_broken(&self, _: &mut u32) -> bool { false }
/// # }
/// let pool = ConnectionPool::new(Numbers, PoolConfig::default()).unwrap();
/// let other = pool.clone();
/// std::thread::spawn(move || drop(other.get().unwrap())).join().unwrap();
/// assert_eq!(pool.stats().idle, 1, "the clone returned its connection to the same pool");
/// ```
pub struct ConnectionPool<M: ManageConnection> {
    shared: Arc<Shared<M>>,
}

/// A connection lent by the pool: derefs to `M::Connection`, and goes back
/// to the pool when dropped. It owns a share of the pool, so it may outlive
/// the `ConnectionPool` it came from and move to another thread (a
/// connection returned to a pool whose handles are all gone is closed, as
/// `PoolClosed`).
///
/// ```
/// # use connection_pool::{ConnectionPool, ManageConnection, PoolConfig};
/// # struct Numbers;
/// # impl ManageConnection for Numbers {
/// #     type Connection = u32;
/// #     type Error = std::io::Error;
/// #     fn connect(&self) -> Result<u32, std::io::Error> { Ok(1) }
/// #     fn is_valid(&self, _: &mut u32) -> Result<(), std::io::Error> { Ok(()) }
/// #     fn has_broken(&self, _: &mut u32) -> bool { false }
/// # }
/// let pool = ConnectionPool::new(Numbers, PoolConfig::default()).unwrap();
/// let mut conn = pool.get().unwrap();
/// *conn += 1;
/// drop(pool); // the connection keeps the pool alive
/// assert_eq!(*conn, 2);
/// ```
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
        let mut state = self.shared.lock();
        state.open -= 1;
        state.stats.connect_failures += 1;
        self.shared.wake_one(&state);
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
    /// ```
    /// # use connection_pool::{ConnectionPool, ManageConnection, PoolConfig};
    /// # struct Numbers;
    /// # impl ManageConnection for Numbers {
    /// #     type Connection = u32;
    /// #     type Error = std::io::Error;
    /// #     fn connect(&self) -> Result<u32, std::io::Error> { Ok(1) }
    /// #     fn is_valid(&self, _: &mut u32) -> Result<(), std::io::Error> { Ok(()) }
    /// #     fn has_broken(&self, _: &mut u32) -> bool { false }
    /// # }
    /// let config = PoolConfig { min_idle: 2, ..PoolConfig::default() };
    /// let pool = ConnectionPool::new(Numbers, config).unwrap();
    /// assert_eq!(pool.stats().idle, 2);
    /// ```
    ///
    /// # Errors
    /// The [`ConfigError`] of [`PoolConfig::validate`].
    pub fn new(manager: M, config: PoolConfig) -> Result<Self, ConfigError> {
        Self::build(manager, config, None)
    }

    /// As [`new`](Self::new), with `hooks` called at each point of a
    /// connection's life (`on_connect` already for the `min_idle` opened now).
    ///
    /// ```
    /// # use connection_pool::{ConnectionHooks, ConnectionPool, ManageConnection, PoolConfig};
    /// # struct Numbers;
    /// # impl ManageConnection for Numbers {
    /// #     type Connection = u32;
    /// #     type Error = std::io::Error;
    /// #     fn connect(&self) -> Result<u32, std::io::Error> { Ok(1) }
    /// #     fn is_valid(&self, _: &mut u32) -> Result<(), std::io::Error> { Ok(()) }
    /// #     fn has_broken(&self, _: &mut u32) -> bool { false }
    /// # }
    /// struct Login;
    /// impl ConnectionHooks<u32> for Login {
    ///     fn on_connect(&self, conn: &mut u32) { *conn = 42; }
    /// }
    /// let pool = ConnectionPool::with_hooks(Numbers, PoolConfig::default(), Login).unwrap();
    /// assert_eq!(*pool.get().unwrap(), 42);
    /// ```
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
        config.validate()?;
        let shared = Arc::new(Shared {
            manager,
            config,
            hooks,
            state: Mutex::new(State {
                idle: Vec::new(),
                open: 0,
                in_use: 0,
                waiters: 0,
                closed: false,
                stats: ConnectionStats {
                    opened: 0,
                    connect_failures: 0,
                    gets: 0,
                    waited: 0,
                    timeouts: 0,
                    closed_broken: 0,
                    closed_invalid: 0,
                    closed_idle: 0,
                    closed_lifetime: 0,
                    closed_pool: 0,
                    in_use: 0,
                    idle: 0,
                },
            }),
            available: Condvar::new(),
            handles: AtomicUsize::new(1),
        });
        shared.refill();
        Ok(Self { shared })
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
    /// ```
    /// # use connection_pool::{ConnectionPool, GetError, ManageConnection, PoolConfig};
    /// # use std::time::Duration;
    /// # struct Numbers;
    /// # impl ManageConnection for Numbers {
    /// #     type Connection = u32;
    /// #     type Error = std::io::Error;
    /// #     fn connect(&self) -> Result<u32, std::io::Error> { Ok(1) }
    /// #     fn is_valid(&self, _: &mut u32) -> Result<(), std::io::Error> { Ok(()) }
    /// #     fn has_broken(&self, _: &mut u32) -> bool { false }
    /// # }
    /// let config = PoolConfig {
    ///     max_size: 1,
    ///     connection_timeout: Duration::from_millis(10),
    ///     ..PoolConfig::default()
    /// };
    /// let pool = ConnectionPool::new(Numbers, config).unwrap();
    /// let held = pool.get().unwrap();
    /// assert!(matches!(pool.get(), Err(GetError::Timeout { last_error: None, .. })));
    /// drop(held);
    /// assert!(pool.get().is_ok());
    /// ```
    ///
    /// # Errors
    /// [`GetError::Timeout`] when `connection_timeout` passed first (with
    /// this get's last connect error, if it tried one), [`GetError::Closed`]
    /// once the pool is closed.
    #[inline]
    pub fn get(&self) -> Result<PooledConnection<M>, GetError<M::Error>> {
        let shared = &*self.shared;
        // Read the clock only once the fast path has failed.
        let mut started: Option<Instant> = None;
        let mut retry_at: Option<Instant> = None;
        let mut pause = Duration::from_millis(1);
        let mut last_error = None;
        let mut waited = false;
        loop {
            let mut state = shared.lock();
            let step = loop {
                if state.closed {
                    return Err(GetError::Closed);
                }
                match shared.take_idle(&mut state) {
                    Some(Ok(conn)) => break Step::Idle(conn),
                    Some(Err(old)) => break Step::Expired(old),
                    None => {}
                }
                let start = *started.get_or_insert_with(Instant::now);
                if retry_at.is_some_and(|at| Instant::now() >= at) {
                    retry_at = None; // the pause after a failed connect is over
                }
                if state.open < shared.config.max_size && retry_at.is_none() {
                    state.open += 1;
                    break Step::Connect;
                }
                // No `start + timeout`: a huge timeout would overflow `Instant`.
                let left = shared
                    .config
                    .connection_timeout
                    .saturating_sub(start.elapsed());
                if left.is_zero() {
                    state.stats.timeouts += 1;
                    // Pass on a wake-up this get may have taken.
                    shared.wake_one(&state);
                    return Err(GetError::Timeout {
                        waited: start.elapsed(),
                        last_error,
                    });
                }
                if !waited {
                    waited = true;
                    state.stats.waited += 1;
                }
                // Until a connection or a place comes, the timeout, or the
                // end of the pause.
                let nap = retry_at.map_or(left, |at| {
                    left.min(at.saturating_duration_since(Instant::now()))
                });
                state.waiters += 1;
                state = shared
                    .available
                    .wait_timeout(state, nap)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
                state.waiters -= 1;
            };
            drop(state);
            match step {
                Step::Idle(lent) => {
                    if let Some(lent) = shared.check_out(lent) {
                        return Ok(self.lend(lent));
                    }
                }
                Step::Expired(old) => shared.on_close(old.conn.conn, CloseReason::MaxLifetime),
                Step::Connect => match shared.connect(Place { shared }) {
                    Ok(lent) => return Ok(self.lend(lent)),
                    Err(ConnectError::Failed(err)) => {
                        last_error = Some(err);
                        retry_at = Some(Instant::now() + pause);
                        pause = (pause * 2).min(Duration::from_millis(100));
                    }
                    Err(ConnectError::Closed) => return Err(GetError::Closed),
                },
            }
        }
    }
    // ANCHOR_END: get

    /// An idle connection (checked first when `test_on_checkout` is set),
    /// or a new one if fewer than `max_size` are open; `None` otherwise, or
    /// when the connect fails, or once the pool is closed. Never waits for
    /// another user.
    ///
    /// ```
    /// # use connection_pool::{ConnectionPool, ManageConnection, PoolConfig};
    /// # struct Numbers;
    /// # impl ManageConnection for Numbers {
    /// #     type Connection = u32;
    /// #     type Error = std::io::Error;
    /// #     fn connect(&self) -> Result<u32, std::io::Error> { Ok(1) }
    /// #     fn is_valid(&self, _: &mut u32) -> Result<(), std::io::Error> { Ok(()) }
    /// #     fn has_broken(&self, _: &mut u32) -> bool { false }
    /// # }
    /// let pool = ConnectionPool::new(Numbers, PoolConfig { max_size: 1, ..PoolConfig::default() }).unwrap();
    /// let held = pool.try_get().expect("room for one");
    /// assert!(pool.try_get().is_none(), "the only place is taken");
    /// ```
    pub fn try_get(&self) -> Option<PooledConnection<M>> {
        let shared = &*self.shared;
        loop {
            let mut state = shared.lock();
            if state.closed {
                return None;
            }
            match shared.take_idle(&mut state) {
                Some(Ok(lent)) => {
                    drop(state);
                    match shared.check_out(lent) {
                        Some(lent) => return Some(self.lend(lent)),
                        None => continue,
                    }
                }
                Some(Err(old)) => {
                    drop(state);
                    shared.on_close(old.conn.conn, CloseReason::MaxLifetime);
                    continue;
                }
                None => {}
            }
            if state.open >= shared.config.max_size {
                return None;
            }
            state.open += 1;
            drop(state);
            return shared.connect(Place { shared }).ok().map(|c| self.lend(c));
        }
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
    ///
    /// ```
    /// # use connection_pool::{ConnectionPool, ManageConnection, PoolConfig};
    /// # use std::time::Duration;
    /// # struct Numbers;
    /// # impl ManageConnection for Numbers {
    /// #     type Connection = u32;
    /// #     type Error = std::io::Error;
    /// #     fn connect(&self) -> Result<u32, std::io::Error> { Ok(1) }
    /// #     fn is_valid(&self, _: &mut u32) -> Result<(), std::io::Error> { Ok(()) }
    /// #     fn has_broken(&self, _: &mut u32) -> bool { false }
    /// # }
    /// let config = PoolConfig { idle_timeout: Some(Duration::ZERO), ..PoolConfig::default() };
    /// let pool = ConnectionPool::new(Numbers, config).unwrap();
    /// drop(pool.get().unwrap());
    /// assert_eq!(pool.reap(), 1, "idle longer than zero");
    /// assert_eq!(pool.stats().closed_idle, 1);
    /// ```
    pub fn reap(&self) -> usize {
        let shared = &*self.shared;
        let config = &shared.config;
        let mut retired = Vec::new();
        {
            let mut state = shared.lock();
            if state.closed {
                return 0;
            }
            let now =
                (config.max_lifetime.is_some() || config.idle_timeout.is_some()).then(Instant::now);
            let mut keep = Vec::with_capacity(state.idle.len());
            let mut idle_left = state.idle.len();
            // Front first: the longest idle.
            for idle in std::mem::take(&mut state.idle) {
                let idle_too_long = match (config.idle_timeout, idle.idle_since, now) {
                    (Some(limit), Some(since), Some(now)) => now.duration_since(since) >= limit,
                    _ => false,
                };
                let reason = if shared.too_old(&idle.conn, now) {
                    Some(CloseReason::MaxLifetime)
                } else if idle_too_long && idle_left > config.min_idle {
                    Some(CloseReason::IdleTimeout)
                } else {
                    None
                };
                match reason {
                    Some(reason) => {
                        idle_left -= 1;
                        shared.count_close(&mut state, reason);
                        retired.push((idle.conn.conn, reason));
                    }
                    None => keep.push(idle),
                }
            }
            state.idle = keep;
        }
        let closed = retired.len();
        for (conn, reason) in retired {
            shared.on_close(conn, reason);
        }
        shared.refill();
        closed
    }
    // ANCHOR_END: reap

    // ANCHOR: close
    /// Closes the pool: idle connections are closed now (`PoolClosed`),
    /// those in use when they are returned; from now on `get` answers
    /// `Closed` (waiters too) and `try_get` `None`. Closing twice does nothing more.
    ///
    /// ```
    /// # use connection_pool::{ConnectionPool, GetError, ManageConnection, PoolConfig};
    /// # struct Numbers;
    /// # impl ManageConnection for Numbers {
    /// #     type Connection = u32;
    /// #     type Error = std::io::Error;
    /// #     fn connect(&self) -> Result<u32, std::io::Error> { Ok(1) }
    /// #     fn is_valid(&self, _: &mut u32) -> Result<(), std::io::Error> { Ok(()) }
    /// #     fn has_broken(&self, _: &mut u32) -> bool { false }
    /// # }
    /// let pool = ConnectionPool::new(Numbers, PoolConfig::default()).unwrap();
    /// let held = pool.get().unwrap();
    /// pool.close();
    /// assert!(matches!(pool.get(), Err(GetError::Closed)));
    /// drop(held);
    /// assert_eq!(pool.stats().closed_pool, 1);
    /// ```
    pub fn close(&self) {
        let shared = &*self.shared;
        let idle = {
            let mut state = shared.lock();
            state.closed = true;
            let idle = std::mem::take(&mut state.idle);
            for _ in &idle {
                shared.count_close(&mut state, CloseReason::PoolClosed);
            }
            shared.available.notify_all();
            idle
        };
        for idle in idle {
            shared.on_close(idle.conn.conn, CloseReason::PoolClosed);
        }
    }
    // ANCHOR_END: close

    /// The counters, read at one instant.
    ///
    /// ```
    /// # use connection_pool::{ConnectionPool, ManageConnection, PoolConfig};
    /// # struct Numbers;
    /// # impl ManageConnection for Numbers {
    /// #     type Connection = u32;
    /// #     type Error = std::io::Error;
    /// #     fn connect(&self) -> Result<u32, std::io::Error> { Ok(1) }
    /// #     fn is_valid(&self, _: &mut u32) -> Result<(), std::io::Error> { Ok(()) }
    /// #     fn has_broken(&self, _: &mut u32) -> bool { false }
    /// # }
    /// let pool = ConnectionPool::new(Numbers, PoolConfig::default()).unwrap();
    /// let conn = pool.get().unwrap();
    /// assert_eq!((pool.stats().in_use, pool.stats().idle), (1, 0));
    /// ```
    pub fn stats(&self) -> ConnectionStats {
        let state = self.shared.lock();
        ConnectionStats {
            in_use: state.in_use,
            idle: state.idle.len(),
            ..state.stats
        }
    }
}

impl<M: ManageConnection> Clone for ConnectionPool<M> {
    /// Another handle on the same pool.
    ///
    /// ```
    /// # use connection_pool::{ConnectionPool, ManageConnection, PoolConfig};
    /// # struct Numbers;
    /// # impl ManageConnection for Numbers {
    /// #     type Connection = u32;
    /// #     type Error = std::io::Error;
    /// #     fn connect(&self) -> Result<u32, std::io::Error> { Ok(1) }
    /// #     fn is_valid(&self, _: &mut u32) -> Result<(), std::io::Error> { Ok(()) }
    /// #     fn has_broken(&self, _: &mut u32) -> bool { false }
    /// # }
    /// let pool = ConnectionPool::new(Numbers, PoolConfig::default()).unwrap();
    /// let _held = pool.clone().get().unwrap();
    /// assert_eq!(pool.stats().in_use, 1);
    /// ```
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
        if state.waiters > 0 {
            self.available.notify_one();
        }
    }
    // ANCHOR_END: wake

    // ANCHOR: take_idle
    /// The most recently returned idle connection, now counted in `in_use`
    /// and in `gets` (`Ok`); or, if that one is older than `max_lifetime`,
    /// the connection to close, already counted as closed (`Err`: the caller
    /// runs `on_close` once the lock is released). `None` when nothing is idle.
    #[inline]
    fn take_idle(&self, state: &mut State<M>) -> Option<Result<Entry<M>, Entry<M>>> {
        let idle = state.idle.pop()?;
        if self.config.max_lifetime.is_some() && self.too_old(&idle.conn, Some(Instant::now())) {
            self.count_close(state, CloseReason::MaxLifetime);
            return Some(Err(idle));
        }
        state.in_use += 1;
        state.stats.gets += 1;
        Some(Ok(idle))
    }
    // ANCHOR_END: take_idle

    /// Whether `conn` has outlived `max_lifetime` at `now`.
    fn too_old(&self, conn: &Conn<M::Connection>, now: Option<Instant>) -> bool {
        match (self.config.max_lifetime, conn.created, now) {
            (Some(limit), Some(created), Some(now)) => now.duration_since(created) >= limit,
            _ => false,
        }
    }

    // ANCHOR: check_out
    /// An idle connection on its way out, checked with `is_valid` when
    /// `test_on_checkout` is set: `None` if it failed (or panicked: then
    /// the panic goes on), and it is closed as `Invalid`.
    #[inline]
    fn check_out(&self, mut lent: Entry<M>) -> Option<Entry<M>> {
        if !self.config.test_on_checkout {
            return Some(lent);
        }
        match catch_unwind(AssertUnwindSafe(|| {
            self.manager.is_valid(&mut lent.conn.conn)
        })) {
            Ok(Ok(())) => Some(lent),
            Ok(Err(_)) => {
                self.close_in_use(lent.conn.conn, CloseReason::Invalid);
                None
            }
            Err(panic) => {
                self.close_in_use(lent.conn.conn, CloseReason::Invalid);
                resume_unwind(panic)
            }
        }
    }
    // ANCHOR_END: check_out

    // ANCHOR: connect
    /// Makes a connection in the reserved `place`, outside the lock, and
    /// runs `on_connect`; counts it as opened and in use. On `Err` (or a
    /// panic) `place` gives the place back. If the pool was closed meanwhile,
    /// the new connection is closed (`PoolClosed`).
    fn connect(&self, place: Place<'_, M>) -> Result<Entry<M>, ConnectError<M::Error>> {
        let mut conn = self.manager.connect().map_err(ConnectError::Failed)?;
        if let Some(hooks) = &self.hooks {
            hooks.on_connect(&mut conn);
        }
        let created = self.config.max_lifetime.is_some().then(Instant::now);
        let mut state = self.lock();
        place.keep();
        state.stats.opened += 1;
        if state.closed {
            self.count_close(&mut state, CloseReason::PoolClosed);
            drop(state);
            self.on_close(conn, CloseReason::PoolClosed);
            return Err(ConnectError::Closed);
        }
        state.in_use += 1;
        state.stats.gets += 1;
        Ok(Entry {
            conn: Conn { conn, created },
            idle_since: None,
        })
    }
    // ANCHOR_END: connect

    /// Opens connections until `min_idle` are idle, within `max_size`;
    /// failures are counted and left for the next `reap`.
    fn refill(&self) {
        let wanted = {
            let mut state = self.lock();
            if state.closed {
                return;
            }
            let wanted = self
                .config
                .min_idle
                .saturating_sub(state.idle.len())
                .min(self.config.max_size - state.open);
            state.open += wanted;
            wanted
        };
        for _ in 0..wanted {
            let place = Place { shared: self };
            let Ok(mut conn) = self.manager.connect() else {
                continue;
            };
            if let Some(hooks) = &self.hooks {
                hooks.on_connect(&mut conn);
            }
            let created = self.config.max_lifetime.is_some().then(Instant::now);
            let idle_since = self.config.idle_timeout.is_some().then(Instant::now);
            let mut state = self.lock();
            place.keep();
            state.stats.opened += 1;
            if state.closed {
                self.count_close(&mut state, CloseReason::PoolClosed);
                drop(state);
                self.on_close(conn, CloseReason::PoolClosed);
                continue;
            }
            state.idle.insert(
                0,
                Entry {
                    conn: Conn { conn, created },
                    idle_since,
                },
            );
            self.wake_one(&state);
        }
    }

    // ANCHOR: check_in
    /// A connection coming back: closed if it was marked or `has_broken`
    /// (`Broken`), is too old (`MaxLifetime`) or the pool is closed
    /// (`PoolClosed`); otherwise `on_checkin` runs and it is idle again,
    /// and a waiter is woken. A panic in `has_broken` or `on_checkin` closes
    /// it as `Broken` and goes on.
    ///
    fn check_in(&self, mut lent: Entry<M>, marked: bool) {
        let checked = catch_unwind(AssertUnwindSafe(|| {
            if marked || self.manager.has_broken(&mut lent.conn.conn) {
                return Some(CloseReason::Broken);
            }
            if self.config.max_lifetime.is_some() && self.too_old(&lent.conn, Some(Instant::now()))
            {
                return Some(CloseReason::MaxLifetime);
            }
            if let Some(hooks) = &self.hooks {
                hooks.on_checkin(&mut lent.conn.conn);
            }
            None
        }));
        let reason = match checked {
            Ok(None) => {
                lent.idle_since = self.config.idle_timeout.is_some().then(Instant::now);
                let mut state = self.lock();
                if state.closed {
                    drop(state);
                    CloseReason::PoolClosed
                } else {
                    state.in_use -= 1;
                    state.idle.push(lent);
                    self.wake_one(&state);
                    return;
                }
            }
            Ok(Some(reason)) => reason,
            Err(panic) => {
                self.close_in_use(lent.conn.conn, CloseReason::Broken);
                if !std::thread::panicking() {
                    resume_unwind(panic);
                }
                return;
            }
        };
        self.close_in_use(lent.conn.conn, reason);
    }
    // ANCHOR_END: check_in

    /// Closes a connection that was in use: its place is given back, the
    /// close counted, a waiter woken, then `on_close` runs outside the lock.
    fn close_in_use(&self, conn: M::Connection, reason: CloseReason) {
        {
            let mut state = self.lock();
            state.in_use -= 1;
            self.count_close(&mut state, reason);
        }
        self.on_close(conn, reason);
    }

    /// Counts a connection closed for `reason` and frees its place; the
    /// caller has taken it out of the idle list or `in_use`.
    fn count_close(&self, state: &mut State<M>, reason: CloseReason) {
        state.open -= 1;
        let counter = match reason {
            CloseReason::Broken => &mut state.stats.closed_broken,
            CloseReason::Invalid => &mut state.stats.closed_invalid,
            CloseReason::IdleTimeout => &mut state.stats.closed_idle,
            CloseReason::MaxLifetime => &mut state.stats.closed_lifetime,
            CloseReason::PoolClosed => &mut state.stats.closed_pool,
        };
        *counter += 1;
        self.wake_one(state);
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
    ///
    /// ```
    /// # use connection_pool::{ConnectionPool, ManageConnection, PoolConfig};
    /// # struct Numbers;
    /// # impl ManageConnection for Numbers {
    /// #     type Connection = u32;
    /// #     type Error = std::io::Error;
    /// #     fn connect(&self) -> Result<u32, std::io::Error> { Ok(1) }
    /// #     fn is_valid(&self, _: &mut u32) -> Result<(), std::io::Error> { Ok(()) }
    /// #     fn has_broken(&self, _: &mut u32) -> bool { false }
    /// # }
    /// let pool = ConnectionPool::new(Numbers, PoolConfig::default()).unwrap();
    /// let mut conn = pool.get().unwrap();
    /// conn.mark_broken();
    /// drop(conn);
    /// assert_eq!((pool.stats().closed_broken, pool.stats().idle), (1, 0));
    /// ```
    pub fn mark_broken(&mut self) {
        self.broken = true;
    }

    /// Takes the connection out of the pool for good: the pool forgets it
    /// (no `on_close`, no close counted), frees its place and may open
    /// another.
    ///
    /// ```
    /// # use connection_pool::{ConnectionPool, ManageConnection, PoolConfig};
    /// # struct Numbers;
    /// # impl ManageConnection for Numbers {
    /// #     type Connection = u32;
    /// #     type Error = std::io::Error;
    /// #     fn connect(&self) -> Result<u32, std::io::Error> { Ok(1) }
    /// #     fn is_valid(&self, _: &mut u32) -> Result<(), std::io::Error> { Ok(()) }
    /// #     fn has_broken(&self, _: &mut u32) -> bool { false }
    /// # }
    /// let pool = ConnectionPool::new(Numbers, PoolConfig { max_size: 1, ..PoolConfig::default() }).unwrap();
    /// let mine: u32 = pool.get().unwrap().detach();
    /// assert_eq!(pool.stats().in_use, 0);
    /// assert!(pool.try_get().is_some(), "the place is free again");
    /// ```
    pub fn detach(mut self) -> M::Connection {
        let lent = self
            .lent
            .take()
            .expect("a lent connection is there until dropped");
        let mut state = self.shared.lock();
        state.in_use -= 1;
        state.open -= 1;
        self.shared.wake_one(&state);
        drop(state);
        lent.conn.conn
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
///
/// ```no_run
/// use connection_pool::{ConnectionPool, PoolConfig, TcpManager};
/// let manager = TcpManager::new("127.0.0.1:7878".parse().unwrap());
/// let pool = ConnectionPool::new(manager, PoolConfig::default()).unwrap();
/// let conn = pool.get().unwrap(); // a TcpStream that answered PING with PONG
/// ```
#[derive(Clone, Debug)]
pub struct TcpManager {
    addr: SocketAddr,
    timeout: Duration,
}

impl TcpManager {
    /// Connections to `addr`, with 1 s to connect and to answer a `PING`.
    ///
    /// ```
    /// let manager = connection_pool::TcpManager::new("127.0.0.1:7878".parse().unwrap());
    /// assert_eq!(manager.timeout(), std::time::Duration::from_secs(1));
    /// ```
    pub fn new(addr: SocketAddr) -> Self {
        Self::with_timeout(addr, Duration::from_secs(1))
    }

    /// Connections to `addr`, with `timeout` to connect, and for each read
    /// and write (zero is taken as 1 ms: a socket refuses a zero timeout).
    ///
    /// ```
    /// use std::time::Duration;
    /// let manager = connection_pool::TcpManager::with_timeout(
    ///     "127.0.0.1:7878".parse().unwrap(),
    ///     Duration::from_millis(200),
    /// );
    /// assert_eq!(manager.timeout(), Duration::from_millis(200));
    /// ```
    pub fn with_timeout(addr: SocketAddr, timeout: Duration) -> Self {
        let timeout = timeout.max(Duration::from_millis(1));
        Self { addr, timeout }
    }

    /// The address connected to.
    ///
    /// ```
    /// let addr = "127.0.0.1:7878".parse().unwrap();
    /// assert_eq!(connection_pool::TcpManager::new(addr).addr(), addr);
    /// ```
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The timeout to connect, and of each read and write.
    ///
    /// ```
    /// let manager = connection_pool::TcpManager::new("127.0.0.1:7878".parse().unwrap());
    /// assert!(manager.timeout() > std::time::Duration::ZERO);
    /// ```
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
