//! Chapter 08 tests. The very same file runs against your exercise
//! (`cargo run -- check 08`) and against the reference solution (`cargo test`).
//!
//! Most tests use `Memory`, a manager whose connections are numbered and
//! whose failures are switched on by the test, so every counter is exact.
//! The last ones use real TCP connections to a small server on 127.0.0.1.

use std::collections::HashSet;
use std::fmt;
use std::io::{BufRead, BufReader, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use connection_pool::{
    CloseReason, ConfigError, ConnectionHooks, ConnectionPool, ConnectionStats, GetError,
    ManageConnection, PoolConfig, PooledConnection, TcpManager,
};
use deadline::within;

// ---------------------------------------------------------------- helpers

/// How long a get waits in these tests before it answers `Timeout`.
const SHORT: Duration = Duration::from_millis(100);

/// What the test switches on and reads back, shared with the manager.
#[derive(Default)]
struct Switches {
    /// `connect` returns `Err`.
    fail_connect: AtomicBool,
    /// `connect` panics.
    panic_connect: AtomicBool,
    /// `is_valid` panics.
    panic_is_valid: AtomicBool,
    /// Connections made so far (the next one's number).
    connects: AtomicU64,
    /// Calls of `is_valid`.
    validations: AtomicU64,
    /// Calls of `has_broken`.
    broken_checks: AtomicU64,
    /// `connect` waits, once it has started, until this is false again.
    hold_connect: AtomicBool,
    /// A `connect` is waiting on `hold_connect`.
    connecting: AtomicBool,
}

/// A connection of `Memory`: a number, and what the test says about it.
#[derive(Debug)]
struct Conn {
    id: u64,
    /// `has_broken` says true.
    broken: bool,
    /// `is_valid` says `Err`.
    invalid: bool,
    /// Session state, which `on_connect` and `on_checkin` hooks write.
    session: Vec<&'static str>,
}

/// The error of a `Memory` connect or check.
#[derive(Debug, PartialEq)]
struct MemoryError(&'static str);

impl fmt::Display for MemoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for MemoryError {}

/// A manager of numbered in-memory connections (1, 2, 3, …).
struct Memory(Arc<Switches>);

impl ManageConnection for Memory {
    type Connection = Conn;
    type Error = MemoryError;

    fn connect(&self) -> Result<Conn, MemoryError> {
        if self.0.panic_connect.load(Ordering::SeqCst) {
            panic!("connect panics on purpose");
        }
        if self.0.fail_connect.load(Ordering::SeqCst) {
            return Err(MemoryError("the test switched connects off"));
        }
        while self.0.hold_connect.load(Ordering::SeqCst) {
            self.0.connecting.store(true, Ordering::SeqCst);
            thread::yield_now();
        }
        let id = self.0.connects.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(Conn {
            id,
            broken: false,
            invalid: false,
            session: Vec::new(),
        })
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), MemoryError> {
        self.0.validations.fetch_add(1, Ordering::SeqCst);
        if self.0.panic_is_valid.load(Ordering::SeqCst) {
            panic!("is_valid panics on purpose");
        }
        if conn.invalid {
            Err(MemoryError("the test made this connection invalid"))
        } else {
            Ok(())
        }
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        self.0.broken_checks.fetch_add(1, Ordering::SeqCst);
        conn.broken
    }
}

/// A configuration with `max_size` places, a short connection timeout, no
/// idle timeout, no lifetime and no check on checkout.
fn config(max_size: usize) -> PoolConfig {
    PoolConfig {
        max_size,
        min_idle: 0,
        connection_timeout: SHORT,
        idle_timeout: None,
        max_lifetime: None,
        test_on_checkout: false,
    }
}

/// A pool of `Memory` connections, and its switches.
fn memory_pool(config: PoolConfig) -> (ConnectionPool<Memory>, Arc<Switches>) {
    let switches = Arc::new(Switches::default());
    let pool = ConnectionPool::new(Memory(Arc::clone(&switches)), config.clone())
        .unwrap_or_else(|err| panic!("new must accept {config:?}: it is valid, but said {err:?}"));
    (pool, switches)
}

/// A connection from `get`, which must succeed here.
fn get(pool: &ConnectionPool<Memory>, why: &str) -> PooledConnection<Memory> {
    match pool.get() {
        Ok(conn) => conn,
        Err(GetError::Timeout { waited, last_error }) => panic!(
            "get must hand out a connection ({why}), but it answered Timeout after {waited:?} \
             (last connect error: {last_error:?}); stats: {:?}",
            pool.stats()
        ),
        Err(GetError::Closed) => panic!(
            "get must hand out a connection ({why}), but it answered Closed though close() was \
             never called"
        ),
    }
}

/// What the hooks saw: (event, connection number).
type Events = Arc<Mutex<Vec<(String, u64)>>>;

/// Hooks that write down every call, and can be told to panic.
#[derive(Clone, Default)]
struct Recorder {
    events: Events,
    panic_on_connect: Arc<AtomicBool>,
    panic_on_checkin: Arc<AtomicBool>,
    panic_on_close: Arc<AtomicBool>,
}

impl Recorder {
    fn events(&self) -> Vec<(String, u64)> {
        self.events.lock().unwrap().clone()
    }

    fn push(&self, event: String, id: u64) {
        self.events.lock().unwrap().push((event, id));
    }
}

impl ConnectionHooks<Conn> for Recorder {
    fn on_connect(&self, conn: &mut Conn) {
        if self.panic_on_connect.load(Ordering::SeqCst) {
            panic!("on_connect panics on purpose");
        }
        conn.session.push("logged in");
        self.push("connect".to_owned(), conn.id);
    }

    fn on_checkin(&self, conn: &mut Conn) {
        if self.panic_on_checkin.load(Ordering::SeqCst) {
            panic!("on_checkin panics on purpose");
        }
        conn.session.retain(|s| *s == "logged in");
        self.push("checkin".to_owned(), conn.id);
    }

    fn on_close(&self, conn: &mut Conn, reason: CloseReason) {
        self.push(format!("close {reason:?}"), conn.id);
        if self.panic_on_close.load(Ordering::SeqCst) {
            panic!("on_close panics on purpose");
        }
    }
}

/// A pool of `Memory` connections with a `Recorder`.
fn hooked_pool(config: PoolConfig) -> (ConnectionPool<Memory>, Arc<Switches>, Recorder) {
    let switches = Arc::new(Switches::default());
    let recorder = Recorder::default();
    let pool = ConnectionPool::with_hooks(
        Memory(Arc::clone(&switches)),
        config.clone(),
        recorder.clone(),
    )
    .unwrap_or_else(|err| {
        panic!("with_hooks must accept {config:?}: it is valid, but said {err:?}")
    });
    (pool, switches, recorder)
}

/// Every connection closed, whatever the reason.
fn closed(stats: &ConnectionStats) -> u64 {
    stats.closed_broken
        + stats.closed_invalid
        + stats.closed_idle
        + stats.closed_lifetime
        + stats.closed_pool
}

/// Checks the books: with nothing detached and nothing being connected,
/// every connection opened is idle, in use or closed.
fn assert_balanced(pool: &ConnectionPool<Memory>, when: &str) {
    let stats = pool.stats();
    assert_eq!(
        stats.closed(),
        closed(&stats),
        "{when}: ConnectionStats::closed() is the sum of the five closed_… counters; stats: {stats:?}"
    );
    assert_eq!(
        stats.opened,
        closed(&stats) + (stats.idle + stats.in_use) as u64,
        "{when}: every connection opened must be idle, in use or counted as closed \
         (opened == closed_… + idle + in_use); stats: {stats:?}"
    );
}

/// Runs `f`, which must panic with `expected` in its message.
fn expect_panic(what: &str, expected: &str, f: impl FnOnce()) {
    let payload = catch_unwind(AssertUnwindSafe(f))
        .err()
        .unwrap_or_else(|| panic!("{what} must pass the panic on to the caller, but returned"));
    let message = deadline::panic_message(&*payload);
    assert!(
        message.contains(expected),
        "{what} must pass on the panic of user code ({expected:?}), but panicked with {message:?}"
    );
}

// ---------------------------------------------------------------- bad input

#[test]
fn new_refuses_a_max_size_of_zero() {
    let switches = Arc::new(Switches::default());
    assert_eq!(
        ConnectionPool::new(Memory(switches), config(0)).err(),
        Some(ConfigError::ZeroMaxSize),
        "a pool of at most 0 connections could never hand one out: refused with ZeroMaxSize"
    );
}

#[test]
fn new_refuses_min_idle_above_max_size() {
    let switches = Arc::new(Switches::default());
    let asked = PoolConfig {
        min_idle: 3,
        ..config(2)
    };
    assert_eq!(
        ConnectionPool::new(Memory(Arc::clone(&switches)), asked).err(),
        Some(ConfigError::MinIdleAboveMaxSize {
            min_idle: 3,
            max_size: 2
        }),
        "a pool of at most 2 connections cannot keep 3 idle: refused, naming both numbers"
    );
    assert_eq!(
        switches.connects.load(Ordering::SeqCst),
        0,
        "a refused configuration must not open any connection"
    );
}

#[test]
fn new_refuses_a_zero_connection_timeout() {
    let asked = PoolConfig {
        connection_timeout: Duration::ZERO,
        ..config(2)
    };
    assert_eq!(
        ConnectionPool::new(Memory(Arc::default()), asked).err(),
        Some(ConfigError::ZeroConnectionTimeout),
        "get could never wait for a connection: refused with ZeroConnectionTimeout"
    );
}

#[test]
fn with_hooks_refuses_what_new_refuses() {
    assert_eq!(
        ConnectionPool::with_hooks(Memory(Arc::default()), config(0), Recorder::default()).err(),
        Some(ConfigError::ZeroMaxSize),
        "with_hooks checks the configuration as new does"
    );
}

#[test]
fn validate_names_the_first_thing_wrong_and_accepts_the_default() {
    assert_eq!(
        PoolConfig::default().validate(),
        Ok(()),
        "the default configuration is valid"
    );
    let zero_everything = PoolConfig {
        max_size: 0,
        min_idle: 1,
        connection_timeout: Duration::ZERO,
        ..PoolConfig::default()
    };
    assert_eq!(
        zero_everything.validate(),
        Err(ConfigError::ZeroMaxSize),
        "max_size is checked first"
    );
    assert_eq!(
        PoolConfig {
            min_idle: 2,
            ..config(2)
        }
        .validate(),
        Ok(()),
        "min_idle equal to max_size (2 and 2) is fine: the pool keeps every connection idle"
    );
}

#[test]
fn the_default_configuration_is_r2d2s_with_no_idle_connection_kept() {
    let config = PoolConfig::default();
    assert_eq!(
        config.validate(),
        Ok(()),
        "the default configuration is valid"
    );
    assert_eq!(
        (
            config.max_size,
            config.min_idle,
            config.connection_timeout,
            config.idle_timeout,
            config.max_lifetime,
            config.test_on_checkout,
        ),
        (
            10,
            0,
            Duration::from_secs(30),
            Some(Duration::from_secs(600)),
            Some(Duration::from_secs(1800)),
            true
        ),
        "Default: (max_size, min_idle, connection_timeout, idle_timeout, max_lifetime, \
         test_on_checkout) = (10, 0, 30 s, 10 min, 30 min, true)"
    );
}

#[test]
fn errors_say_what_went_wrong() {
    let refused = config(0)
        .validate()
        .expect_err("max_size 0 must be refused");
    let messages = [
        refused.to_string(),
        ConfigError::MinIdleAboveMaxSize {
            min_idle: 3,
            max_size: 2,
        }
        .to_string(),
        ConfigError::ZeroConnectionTimeout.to_string(),
    ];
    assert!(
        messages.iter().all(|m| !m.is_empty()) && messages[1].contains('3'),
        "each ConfigError must say what was refused: {messages:?}"
    );
    let timeout: GetError<MemoryError> = GetError::Timeout {
        waited: SHORT,
        last_error: Some(MemoryError("refused")),
    };
    assert!(
        timeout.to_string().contains("refused"),
        "a Timeout's message must include the last connect error: {timeout}"
    );
    let source = std::error::Error::source(&timeout).map(ToString::to_string);
    assert_eq!(
        source.as_deref(),
        Some("refused"),
        "a Timeout's source() is its last connect error"
    );
}

// ---------------------------------------------------------------- one thread

#[test]
fn a_new_pool_opens_nothing_when_min_idle_is_zero() {
    let (pool, switches) = memory_pool(config(4));
    assert_eq!(
        switches.connects.load(Ordering::SeqCst),
        0,
        "min_idle is 0: new must not connect"
    );
    let stats = pool.stats();
    assert_eq!(
        (stats.opened, stats.idle, stats.in_use, stats.gets),
        (0, 0, 0, 0),
        "a new pool with min_idle 0 has (opened, idle, in_use, gets) all 0"
    );
}

#[test]
fn a_get_opens_a_connection_and_its_drop_keeps_it_idle() {
    let (pool, _switches) = memory_pool(config(4));
    let conn = get(&pool, "nothing is in use");
    assert_eq!(conn.id, 1, "the first connection made is number 1");
    let stats = pool.stats();
    assert_eq!(
        (stats.opened, stats.gets, stats.in_use, stats.idle),
        (1, 1, 1, 0),
        "after one get: (opened, gets, in_use, idle)"
    );
    drop(conn);
    let stats = pool.stats();
    assert_eq!(
        (stats.opened, stats.gets, stats.in_use, stats.idle),
        (1, 1, 0, 1),
        "a dropped connection goes back to the pool, idle, not closed"
    );
    assert_balanced(&pool, "after one get and drop");
}

#[test]
fn a_returned_connection_is_handed_out_again_newest_first() {
    let (pool, switches) = memory_pool(config(4));
    let first = get(&pool, "room for 4");
    let second = get(&pool, "room for 4");
    drop(first);
    drop(second);
    let again = get(&pool, "two are idle");
    assert_eq!(
        again.id, 2,
        "the connection returned last is handed out first (it is the one most likely still alive)"
    );
    assert_eq!(
        switches.connects.load(Ordering::SeqCst),
        2,
        "an idle connection must be reused, not a new one opened"
    );
    let stats = pool.stats();
    assert_eq!(
        (stats.gets, stats.opened, stats.idle, stats.in_use),
        (3, 2, 1, 1),
        "(gets, opened, idle, in_use) after 3 gets, one of them from the pool"
    );
}

#[test]
fn a_connection_derefs_to_the_managers_connection() {
    let (pool, _switches) = memory_pool(config(1));
    {
        let mut conn = get(&pool, "room for 1");
        conn.session.push("SELECT 1");
        assert_eq!(
            conn.session,
            ["SELECT 1"],
            "DerefMut writes the connection itself"
        );
    }
    let conn = get(&pool, "one is idle");
    assert_eq!(
        conn.session,
        ["SELECT 1"],
        "without hooks the pool leaves a connection's state alone"
    );
}

#[test]
fn get_never_opens_more_than_max_size_and_times_out_when_all_are_in_use() {
    let (pool, switches) = memory_pool(config(2));
    let held = [get(&pool, "room for 2"), get(&pool, "room for 1 more")];
    let start = Instant::now();
    match pool.get() {
        Err(GetError::Timeout { waited, last_error }) => {
            assert!(
                waited >= SHORT,
                "Timeout must come after connection_timeout ({SHORT:?}), but said it waited \
                 {waited:?}"
            );
            assert!(
                last_error.is_none(),
                "no connect was tried (no place was free), so last_error is None, not \
                 {last_error:?}"
            );
        }
        Err(GetError::Closed) => panic!("the pool is not closed: get must answer Timeout"),
        Ok(conn) => panic!(
            "both places are in use, yet get handed out connection {}: a pool must never open \
             more than max_size connections",
            conn.id
        ),
    }
    assert!(
        start.elapsed() >= SHORT,
        "get must wait connection_timeout ({SHORT:?}) before answering Timeout, but answered \
         after {:?}",
        start.elapsed()
    );
    assert_eq!(
        switches.connects.load(Ordering::SeqCst),
        2,
        "max_size 2: only 2 connects"
    );
    let stats = pool.stats();
    assert_eq!(
        (stats.gets, stats.waited, stats.timeouts, stats.in_use),
        (2, 1, 1, 2),
        "(gets, waited, timeouts, in_use): 2 handed out, then one get that waited and timed out"
    );
    drop(held);
}

#[test]
fn try_get_never_waits() {
    // A long connection_timeout, so that a try_get that waits for it stands
    // out from a slow machine by seconds.
    let (pool, switches) = memory_pool(PoolConfig {
        connection_timeout: Duration::from_secs(5),
        ..config(1)
    });
    let held = pool
        .try_get()
        .expect("try_get opens a connection when there is room");
    let start = Instant::now();
    assert!(
        pool.try_get().is_none(),
        "the only place is in use: try_get must answer None"
    );
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "try_get must not wait for the connection_timeout (5 s), but took {:?}",
        start.elapsed()
    );
    drop(held);
    let again = pool
        .try_get()
        .expect("the connection is idle again: try_get must hand it out");
    assert_eq!(again.id, 1, "try_get reuses the idle connection");
    drop(again);
    switches.fail_connect.store(true, Ordering::SeqCst);
    let idle = pool.try_get().expect("an idle connection needs no connect");
    drop(idle);
    let stats = pool.stats();
    assert_eq!(
        (stats.gets, stats.waited, stats.timeouts),
        (3, 0, 0),
        "try_get counts what it hands out in gets, and never waits or times out"
    );
}

#[test]
fn try_get_answers_none_when_the_connect_fails_and_gives_the_place_back() {
    let (pool, switches) = memory_pool(config(1));
    switches.fail_connect.store(true, Ordering::SeqCst);
    assert!(
        pool.try_get().is_none(),
        "nothing is idle and the connect fails: None"
    );
    assert_eq!(
        pool.stats().connect_failures,
        1,
        "a failed connect is counted in connect_failures"
    );
    switches.fail_connect.store(false, Ordering::SeqCst);
    assert!(
        pool.try_get().is_some(),
        "the failed connect must give its place back: with max_size 1 the next try_get must \
         connect"
    );
}

#[test]
fn a_failing_connect_makes_get_time_out_with_the_last_error() {
    let (pool, switches) = memory_pool(config(1));
    switches.fail_connect.store(true, Ordering::SeqCst);
    let start = Instant::now();
    match pool.get() {
        Err(GetError::Timeout { last_error, .. }) => assert_eq!(
            last_error,
            Some(MemoryError("the test switched connects off")),
            "Timeout must carry the error of the last connect this get tried"
        ),
        Err(GetError::Closed) => panic!("the pool is not closed: get must answer Timeout"),
        Ok(_) => panic!("every connect fails: get cannot hand out a connection"),
    }
    let elapsed = start.elapsed();
    assert!(
        elapsed >= SHORT,
        "a failed connect is retried until connection_timeout ({SHORT:?}) has passed, but get \
         gave up after {elapsed:?}"
    );
    let stats = pool.stats();
    assert!(
        stats.connect_failures >= 3,
        "get retries a failed connect within its timeout, after a pause that starts at 1 ms and \
         doubles, and each failure is counted: {SHORT:?} leave room for several tries, but \
         connect_failures is {} ({stats:?})",
        stats.connect_failures
    );
    assert!(
        stats.connect_failures < 1000,
        "a failed connect is retried after a pause, not in a tight loop: {} connects in \
         {elapsed:?}",
        stats.connect_failures
    );
    assert_eq!(
        (stats.opened, stats.timeouts, stats.in_use, stats.idle),
        (0, 1, 0, 0),
        "(opened, timeouts, in_use, idle) after a get whose connects all failed"
    );
    switches.fail_connect.store(false, Ordering::SeqCst);
    let conn = get(
        &pool,
        "connects work again, and failed connects give their place back",
    );
    assert_eq!(conn.id, 1, "the first connect that worked made number 1");
}

#[test]
fn a_get_that_waits_is_woken_when_a_connection_is_returned() {
    within(10, "a get waiting for a returned connection", || {
        let (pool, _switches) = memory_pool(PoolConfig {
            connection_timeout: Duration::from_secs(5),
            ..config(1)
        });
        let held = get(&pool, "room for 1");
        let waiter = {
            let pool = pool.clone();
            thread::spawn(move || {
                let start = Instant::now();
                let conn = pool.get().map(|c| c.id);
                (conn, start.elapsed())
            })
        };
        while pool.stats().waited == 0 {
            thread::yield_now();
        }
        drop(held);
        let (conn, took) = waiter.join().expect("the waiting thread must not panic");
        assert!(
            matches!(conn, Ok(1)),
            "the waiter must get connection 1 as soon as it is returned, but got {:?}",
            conn.map_err(|e| e.to_string())
        );
        assert!(
            took < Duration::from_secs(4),
            "a returned connection must wake the waiter at once, not after its 5 s timeout \
             (took {took:?})"
        );
    });
}

#[test]
fn a_get_that_waits_is_woken_when_a_connection_is_closed() {
    within(10, "a get waiting for a closed connection's place", || {
        let (pool, _switches) = memory_pool(PoolConfig {
            connection_timeout: Duration::from_secs(5),
            ..config(1)
        });
        let mut held = get(&pool, "room for 1");
        let waiter = {
            let pool = pool.clone();
            thread::spawn(move || {
                let start = Instant::now();
                (pool.get().map(|c| c.id), start.elapsed())
            })
        };
        while pool.stats().waited == 0 {
            thread::yield_now();
        }
        held.mark_broken();
        drop(held);
        let (conn, took) = waiter.join().expect("the waiting thread must not panic");
        assert!(
            matches!(conn, Ok(2)),
            "connection 1 was closed, so its place is free: the waiter must open connection 2, \
             but got {:?}",
            conn.map_err(|e| e.to_string())
        );
        assert!(
            took < Duration::from_secs(4),
            "a closed connection frees a place and must wake the waiter at once (took {took:?})"
        );
    });
}

#[test]
fn a_slow_connect_does_not_hold_up_other_callers() {
    within(
        10,
        "a return and a get while another thread connects",
        || {
            let (pool, switches) = memory_pool(PoolConfig {
                connection_timeout: Duration::from_secs(5),
                ..config(2)
            });
            let held = get(&pool, "room for 2");
            switches.hold_connect.store(true, Ordering::SeqCst);
            let connecting = {
                let pool = pool.clone();
                thread::spawn(move || pool.get().map(|c| c.id).map_err(|e| e.to_string()))
            };
            while !switches.connecting.load(Ordering::SeqCst) {
                thread::yield_now();
            }
            // The other thread is inside connect now. If it held the lock, this
            // return and this get would wait for it: the test would time out.
            drop(held);
            let again = get(&pool, "connection 1 is idle again");
            assert_eq!(
                again.id, 1,
                "while another thread connects, a return and a get of the idle connection must go \
             through: connect runs outside the lock"
            );
            switches.hold_connect.store(false, Ordering::SeqCst);
            assert_eq!(
                connecting
                    .join()
                    .expect("the connecting thread must not panic"),
                Ok(2),
                "the slow connect finishes and hands out connection 2"
            );
        },
    );
}

#[test]
fn a_huge_connection_timeout_is_waited_on_without_overflow() {
    within(10, "a get with Duration::MAX to wait", || {
        let (pool, _switches) = memory_pool(PoolConfig {
            connection_timeout: Duration::MAX,
            ..config(1)
        });
        let held = get(&pool, "room for 1");
        let waiter = {
            let pool = pool.clone();
            thread::spawn(move || pool.get().map(|c| c.id).map_err(|e| e.to_string()))
        };
        while pool.stats().waited == 0 {
            thread::yield_now();
        }
        drop(held);
        assert_eq!(
            waiter.join().expect(
                "a get with a huge connection_timeout must not panic (no Instant + Duration::MAX)"
            ),
            Ok(1),
            "the waiter gets the returned connection"
        );
    });
}

// ---------------------------------------------------------------- min_idle and reap

#[test]
fn new_opens_min_idle_connections() {
    let (pool, switches, recorder) = hooked_pool(PoolConfig {
        min_idle: 3,
        ..config(4)
    });
    let stats = pool.stats();
    assert_eq!(
        (stats.opened, stats.idle, stats.in_use, stats.gets),
        (3, 3, 0, 0),
        "min_idle 3: new opens 3 idle connections, and hands none out"
    );
    assert_eq!(switches.connects.load(Ordering::SeqCst), 3, "3 connects");
    assert_eq!(
        recorder.events().len(),
        3,
        "on_connect runs for each connection new opens: {:?}",
        recorder.events()
    );
}

#[test]
fn a_failed_connect_in_new_is_counted_and_reap_tries_again() {
    let switches = Arc::new(Switches::default());
    switches.fail_connect.store(true, Ordering::SeqCst);
    let pool = ConnectionPool::new(
        Memory(Arc::clone(&switches)),
        PoolConfig {
            min_idle: 2,
            ..config(4)
        },
    )
    .expect("a failed connect in new is not fatal: new must still return the pool");
    let stats = pool.stats();
    assert_eq!(
        (stats.opened, stats.connect_failures, stats.idle),
        (0, 2, 0),
        "both connects of min_idle 2 failed: (opened, connect_failures, idle)"
    );
    switches.fail_connect.store(false, Ordering::SeqCst);
    assert_eq!(pool.reap(), 0, "reap closed nothing: nothing was open");
    let stats = pool.stats();
    assert_eq!(
        (stats.opened, stats.idle),
        (2, 2),
        "reap refills the pool to min_idle (2) idle connections"
    );
}

#[test]
fn reap_closes_connections_idle_too_long_but_keeps_min_idle() {
    let (pool, _switches, recorder) = hooked_pool(PoolConfig {
        min_idle: 1,
        idle_timeout: Some(Duration::from_millis(1)),
        ..config(4)
    });
    let held: Vec<_> = (0..3).map(|_| get(&pool, "room for 4")).collect();
    drop(held);
    assert_eq!(pool.stats().idle, 3, "3 connections returned, all idle");
    thread::sleep(Duration::from_millis(20));
    assert_eq!(
        pool.reap(),
        2,
        "all 3 sat idle longer than idle_timeout, but min_idle is 1: reap closes 2"
    );
    let stats = pool.stats();
    assert_eq!(
        (stats.closed_idle, stats.idle),
        (2, 1),
        "(closed_idle, idle) after the reap"
    );
    let closes: Vec<_> = recorder
        .events()
        .into_iter()
        .filter(|(event, _)| event.starts_with("close"))
        .collect();
    assert_eq!(
        closes.len(),
        2,
        "on_close runs once for each connection closed: {closes:?}"
    );
    assert!(
        closes.iter().all(|(event, _)| event == "close IdleTimeout"),
        "each was closed with CloseReason::IdleTimeout: {closes:?}"
    );
    assert_balanced(&pool, "after a reap");
}

#[test]
fn reap_never_opens_above_max_size_to_reach_min_idle() {
    let (pool, switches) = memory_pool(PoolConfig {
        min_idle: 2,
        ..config(2)
    });
    let held = [get(&pool, "2 are idle"), get(&pool, "1 is idle")];
    assert_eq!(pool.reap(), 0, "nothing idle to close");
    assert_eq!(
        switches.connects.load(Ordering::SeqCst),
        2,
        "min_idle 2 wants 2 idle, but both places are in use: reap must not open a third \
         connection past max_size 2"
    );
    drop(held);
    assert_eq!(pool.stats().idle, 2, "both back, idle");
}

#[test]
fn reap_closes_nothing_without_idle_timeout_or_max_lifetime() {
    let (pool, _switches) = memory_pool(config(4));
    drop(get(&pool, "room for 4"));
    thread::sleep(Duration::from_millis(5));
    assert_eq!(
        pool.reap(),
        0,
        "no idle_timeout and no max_lifetime: nothing ever expires"
    );
    assert_eq!(pool.stats().idle, 1, "the idle connection stays");
}

#[test]
fn reap_leaves_connections_in_use_alone() {
    let (pool, _switches) = memory_pool(PoolConfig {
        idle_timeout: Some(Duration::from_millis(1)),
        max_lifetime: Some(Duration::from_millis(1)),
        ..config(4)
    });
    let held = get(&pool, "room for 4");
    thread::sleep(Duration::from_millis(20));
    assert_eq!(
        pool.reap(),
        0,
        "reap closes idle connections only; the one in use is its user's"
    );
    assert_eq!(pool.stats().in_use, 1, "still in use");
    drop(held);
}

#[test]
fn a_connection_past_max_lifetime_is_closed_when_returned() {
    let (pool, _switches, recorder) = hooked_pool(PoolConfig {
        max_lifetime: Some(Duration::from_millis(1)),
        ..config(2)
    });
    let conn = get(&pool, "room for 2");
    thread::sleep(Duration::from_millis(20));
    drop(conn);
    let stats = pool.stats();
    assert_eq!(
        (stats.closed_lifetime, stats.idle, stats.in_use),
        (1, 0, 0),
        "a busy connection must not live forever: returned after max_lifetime, it is closed \
         with MaxLifetime, not kept"
    );
    assert!(
        recorder
            .events()
            .contains(&("close MaxLifetime".to_owned(), 1)),
        "on_close(MaxLifetime) runs for it: {:?}",
        recorder.events()
    );
    assert!(
        !recorder
            .events()
            .iter()
            .any(|(event, _)| event == "checkin"),
        "a connection that is closed on return is not checked in: {:?}",
        recorder.events()
    );
}

#[test]
fn get_never_hands_out_a_connection_past_max_lifetime() {
    let (pool, _switches) = memory_pool(PoolConfig {
        max_lifetime: Some(Duration::from_millis(30)),
        ..config(2)
    });
    drop(get(&pool, "room for 2"));
    thread::sleep(Duration::from_millis(60));
    let conn = get(&pool, "the expired connection's place is free");
    assert_eq!(
        conn.id, 2,
        "connection 1 is older than max_lifetime: get must close it and open connection 2"
    );
    assert_eq!(pool.stats().closed_lifetime, 1, "closed with MaxLifetime");
}

#[test]
fn reap_closes_idle_connections_past_max_lifetime_and_refills_min_idle() {
    let (pool, switches) = memory_pool(PoolConfig {
        min_idle: 2,
        max_lifetime: Some(Duration::from_millis(30)),
        ..config(4)
    });
    thread::sleep(Duration::from_millis(60));
    assert_eq!(
        pool.reap(),
        2,
        "both min_idle connections are older than max_lifetime: reap closes both"
    );
    let stats = pool.stats();
    assert_eq!(
        (stats.closed_lifetime, stats.idle, stats.opened),
        (2, 2, 4),
        "(closed_lifetime, idle, opened): then reap opens 2 new ones for min_idle"
    );
    assert_eq!(switches.connects.load(Ordering::SeqCst), 4, "4 connects");
    assert_balanced(&pool, "after a reap closed and replaced 2 old connections");
}

// ---------------------------------------------------------------- checks

#[test]
fn a_connection_that_has_broken_is_closed_when_returned() {
    let (pool, switches, recorder) = hooked_pool(config(2));
    let mut conn = get(&pool, "room for 2");
    conn.broken = true;
    drop(conn);
    assert_eq!(
        switches.broken_checks.load(Ordering::SeqCst),
        1,
        "has_broken is called on every return"
    );
    let stats = pool.stats();
    assert_eq!(
        (stats.closed_broken, stats.idle, stats.in_use),
        (1, 0, 0),
        "a connection that has_broken must be closed (closed_broken), not kept idle"
    );
    assert_eq!(
        recorder.events(),
        [("connect".to_owned(), 1), ("close Broken".to_owned(), 1)],
        "on_connect, then on_close(Broken); no on_checkin for a connection that is not kept"
    );
    let next = get(&pool, "the broken connection's place is free");
    assert_eq!(next.id, 2, "the pool replaces it on demand");
}

#[test]
fn mark_broken_closes_the_connection_when_dropped() {
    let (pool, switches) = memory_pool(config(2));
    let mut conn = get(&pool, "room for 2");
    conn.mark_broken();
    drop(conn);
    let stats = pool.stats();
    assert_eq!(
        (stats.closed_broken, stats.idle),
        (1, 0),
        "mark_broken: closed with Broken when dropped, never reused"
    );
    drop(get(&pool, "its place is free"));
    assert_eq!(
        switches.connects.load(Ordering::SeqCst),
        2,
        "the next get had to connect"
    );
}

#[test]
fn test_on_checkout_closes_an_invalid_idle_connection_and_opens_another() {
    let (pool, switches, recorder) = hooked_pool(PoolConfig {
        test_on_checkout: true,
        ..config(2)
    });
    let first = get(&pool, "room for 2");
    assert_eq!(
        switches.validations.load(Ordering::SeqCst),
        0,
        "a connection just opened needs no is_valid: only idle ones are checked on checkout"
    );
    drop(first);
    let mut again = get(&pool, "one is idle and valid");
    assert_eq!(
        (again.id, switches.validations.load(Ordering::SeqCst)),
        (1, 1),
        "the idle connection is checked once with is_valid, and handed out"
    );
    again.invalid = true;
    drop(again);
    let replaced = get(
        &pool,
        "the idle one is invalid, but there is room to connect",
    );
    assert_eq!(
        replaced.id, 2,
        "connection 1 failed is_valid: get must close it and hand out a new one"
    );
    assert_eq!(
        pool.stats().closed_invalid,
        1,
        "closed with CloseReason::Invalid"
    );
    assert!(
        recorder.events().contains(&("close Invalid".to_owned(), 1)),
        "on_close(Invalid) ran for connection 1: {:?}",
        recorder.events()
    );
    drop(replaced);
    assert_balanced(&pool, "after an invalid connection was replaced");
}

#[test]
fn without_test_on_checkout_is_valid_is_never_called() {
    let (pool, switches) = memory_pool(config(2));
    for _ in 0..5 {
        drop(get(&pool, "room for 2"));
    }
    assert_eq!(
        switches.validations.load(Ordering::SeqCst),
        0,
        "test_on_checkout is false: get must not call is_valid (a round trip per get)"
    );
}

#[test]
fn try_get_checks_an_idle_connection_too() {
    let (pool, _switches) = memory_pool(PoolConfig {
        test_on_checkout: true,
        ..config(2)
    });
    let mut conn = get(&pool, "room for 2");
    conn.invalid = true;
    drop(conn);
    let next = pool
        .try_get()
        .expect("the invalid one is closed and there is room to connect");
    assert_eq!(
        next.id, 2,
        "try_get must not hand out an invalid connection"
    );
    assert_eq!(pool.stats().closed_invalid, 1, "closed with Invalid");
}

// ---------------------------------------------------------------- hooks

#[test]
fn hooks_run_at_each_point_of_a_connections_life() {
    let (pool, _switches, recorder) = hooked_pool(config(2));
    let mut conn = get(&pool, "room for 2");
    assert_eq!(
        conn.session,
        ["logged in"],
        "on_connect runs before the connection's first use"
    );
    conn.session.push("SET timezone");
    drop(conn);
    let conn = get(&pool, "one is idle");
    assert_eq!(
        conn.session,
        ["logged in"],
        "on_checkin ran when it came back and cleaned up the last user's session state"
    );
    drop(conn);
    pool.close();
    assert_eq!(
        recorder.events(),
        [
            ("connect".to_owned(), 1),
            ("checkin".to_owned(), 1),
            ("checkin".to_owned(), 1),
            ("close PoolClosed".to_owned(), 1),
        ],
        "on_connect once, on_checkin on each return, on_close(PoolClosed) when the pool closes"
    );
}

#[test]
fn a_panicking_connect_gives_its_place_back() {
    let (pool, switches) = memory_pool(config(1));
    switches.panic_connect.store(true, Ordering::SeqCst);
    expect_panic("get", "connect panics on purpose", || {
        let _ = pool.get();
    });
    switches.panic_connect.store(false, Ordering::SeqCst);
    let stats = pool.stats();
    assert_eq!(
        (stats.opened, stats.connect_failures, stats.in_use),
        (0, 1, 0),
        "a connect that panicked counts as a failed connect, and opened nothing"
    );
    let conn = pool.try_get();
    assert!(
        conn.is_some(),
        "the panicking connect must give its place back: with max_size 1, the next try_get must \
         connect"
    );
}

#[test]
fn a_panicking_on_connect_gives_its_place_back() {
    let (pool, _switches, recorder) = hooked_pool(config(1));
    recorder.panic_on_connect.store(true, Ordering::SeqCst);
    expect_panic("get", "on_connect panics on purpose", || {
        let _ = pool.get();
    });
    recorder.panic_on_connect.store(false, Ordering::SeqCst);
    let stats = pool.stats();
    assert_eq!(
        (
            stats.opened,
            stats.connect_failures,
            stats.in_use,
            stats.idle
        ),
        (0, 1, 0, 0),
        "a connection whose on_connect panicked was never opened: it counts as a failed connect"
    );
    let conn = get(&pool, "the place was given back");
    assert_eq!(
        conn.session,
        ["logged in"],
        "the next connection went through on_connect"
    );
}

#[test]
fn a_panicking_on_checkin_closes_the_connection_and_the_pool_goes_on() {
    let (pool, _switches, recorder) = hooked_pool(config(1));
    let conn = get(&pool, "room for 1");
    recorder.panic_on_checkin.store(true, Ordering::SeqCst);
    expect_panic(
        "dropping a connection",
        "on_checkin panics on purpose",
        || drop(conn),
    );
    recorder.panic_on_checkin.store(false, Ordering::SeqCst);
    let stats = pool.stats();
    assert_eq!(
        (stats.closed_broken, stats.in_use, stats.idle),
        (1, 0, 0),
        "a connection whose on_checkin panicked is in an unknown state: closed as Broken, not \
         kept"
    );
    let next = get(&pool, "the place is free again");
    assert_eq!(next.id, 2, "a new connection in its place");
}

#[test]
fn a_panicking_is_valid_closes_the_connection_and_the_pool_goes_on() {
    let (pool, switches) = memory_pool(PoolConfig {
        test_on_checkout: true,
        ..config(1)
    });
    drop(get(&pool, "room for 1"));
    switches.panic_is_valid.store(true, Ordering::SeqCst);
    expect_panic("get", "is_valid panics on purpose", || {
        let _ = pool.get();
    });
    switches.panic_is_valid.store(false, Ordering::SeqCst);
    let stats = pool.stats();
    assert_eq!(
        (stats.closed_invalid, stats.in_use, stats.idle),
        (1, 0, 0),
        "a connection whose is_valid panicked is closed as Invalid"
    );
    assert_eq!(
        get(&pool, "its place is free").id,
        2,
        "the pool opens a new one"
    );
}

#[test]
fn a_panicking_on_close_leaves_the_counters_right() {
    let (pool, _switches, recorder) = hooked_pool(config(1));
    let mut conn = get(&pool, "room for 1");
    conn.mark_broken();
    recorder.panic_on_close.store(true, Ordering::SeqCst);
    expect_panic(
        "dropping a broken connection",
        "on_close panics on purpose",
        || drop(conn),
    );
    recorder.panic_on_close.store(false, Ordering::SeqCst);
    let stats = pool.stats();
    assert_eq!(
        (stats.closed_broken, stats.in_use),
        (1, 0),
        "the close is counted and the place freed before on_close runs"
    );
    assert_eq!(get(&pool, "the place is free").id, 2, "a new connection");
}

// ---------------------------------------------------------------- close and detach

#[test]
fn close_closes_idle_connections_and_refuses_gets() {
    let (pool, _switches) = memory_pool(PoolConfig {
        min_idle: 2,
        ..config(4)
    });
    let held = get(&pool, "two are idle");
    pool.close();
    let stats = pool.stats();
    assert_eq!(
        (stats.closed_pool, stats.idle, stats.in_use),
        (1, 0, 1),
        "close closes the idle connection now (PoolClosed); the one in use stays with its user"
    );
    assert!(
        matches!(pool.get(), Err(GetError::Closed)),
        "get on a closed pool answers Closed"
    );
    assert!(
        pool.try_get().is_none(),
        "try_get on a closed pool answers None"
    );
    assert_eq!(pool.reap(), 0, "a closed pool reaps nothing");
    drop(held);
    let stats = pool.stats();
    assert_eq!(
        (stats.closed_pool, stats.idle, stats.in_use),
        (2, 0, 0),
        "a connection returned to a closed pool is closed (PoolClosed), not kept"
    );
    pool.close();
    assert_eq!(
        pool.stats().closed_pool,
        2,
        "closing twice closes nothing more"
    );
    assert_balanced(&pool, "after close and the last return");
    assert_eq!(
        pool.stats().opened,
        2,
        "a closed pool never opens a connection (not even in reap, for min_idle)"
    );
}

#[test]
fn close_wakes_a_waiting_get_with_closed() {
    within(10, "a get waiting while the pool closes", || {
        let (pool, _switches) = memory_pool(PoolConfig {
            connection_timeout: Duration::from_secs(5),
            ..config(1)
        });
        let held = get(&pool, "room for 1");
        let waiter = {
            let pool = pool.clone();
            thread::spawn(move || {
                let start = Instant::now();
                (matches!(pool.get(), Err(GetError::Closed)), start.elapsed())
            })
        };
        while pool.stats().waited == 0 {
            thread::yield_now();
        }
        pool.close();
        let (was_closed, took) = waiter.join().expect("the waiting thread must not panic");
        assert!(
            was_closed,
            "a get waiting when the pool closes must answer Closed"
        );
        assert!(
            took < Duration::from_secs(4),
            "close must wake the waiter, not leave it to its 5 s timeout (took {took:?})"
        );
        drop(held);
    });
}

#[test]
fn detach_takes_the_connection_out_of_the_pool() {
    let (pool, _switches, recorder) = hooked_pool(config(1));
    let conn = get(&pool, "room for 1");
    let mine: Conn = conn.detach();
    assert_eq!(mine.id, 1, "detach hands over the connection itself");
    let stats = pool.stats();
    assert_eq!(
        (stats.in_use, stats.idle, closed(&stats)),
        (0, 0, 0),
        "the pool forgets a detached connection: not in use, not idle, not closed"
    );
    assert!(
        !recorder
            .events()
            .iter()
            .any(|(e, _)| e.starts_with("close")),
        "a detached connection is not the pool's to close: no on_close ({:?})",
        recorder.events()
    );
    let next = pool
        .try_get()
        .expect("detach frees the place: with max_size 1 the pool may open another");
    assert_eq!(next.id, 2, "a new connection");
    drop(mine);
}

// ---------------------------------------------------------------- threads

#[test]
fn a_pool_and_its_connections_move_between_threads() {
    fn send_sync_clone<T: Send + Sync + Clone>() {}
    fn send_static<T: Send + 'static>() {}
    send_sync_clone::<ConnectionPool<Memory>>();
    send_static::<PooledConnection<Memory>>();
    let (pool, _switches) = memory_pool(config(2));
    let conn = get(&pool, "room for 2");
    drop(pool.clone());
    let pool_in_thread = pool.clone();
    let id = thread::spawn(move || {
        let id = conn.id;
        drop(conn);
        drop(pool_in_thread.get());
        id
    })
    .join()
    .expect("the thread must not panic");
    assert_eq!(id, 1, "the connection moved to the thread");
    let stats = pool.stats();
    assert_eq!(
        (stats.idle, stats.gets, stats.opened),
        (1, 2, 1),
        "clones share one pool: the connection dropped on the other thread is idle here"
    );
}

#[test]
fn a_connection_outlives_every_handle_on_its_pool() {
    let (pool, _switches, recorder) = hooked_pool(config(1));
    let conn = get(&pool, "room for 1");
    drop(pool);
    assert_eq!(conn.id, 1, "still usable");
    drop(conn);
    assert!(
        recorder
            .events()
            .contains(&("close PoolClosed".to_owned(), 1)),
        "once the last connection is back and no handle is left, the pool closes its idle \
         connections (on_close PoolClosed): {:?}",
        recorder.events()
    );
}

#[test]
fn many_threads_share_fewer_connections_without_two_holders_at_once() {
    within(30, "4 threads sharing 2 connections", || {
        let threads = 4;
        let rounds = if cfg!(miri) { 10 } else { 2_000 };
        let (pool, _switches) = memory_pool(PoolConfig {
            connection_timeout: Duration::from_secs(10),
            ..config(2)
        });
        let holders = Arc::new(Mutex::new(HashSet::new()));
        let start = Arc::new(Barrier::new(threads));
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let (pool, holders, start) =
                    (pool.clone(), Arc::clone(&holders), Arc::clone(&start));
                thread::spawn(move || {
                    start.wait();
                    for round in 0..rounds {
                        let mut conn = get(&pool, "the timeout is long enough to wait for a turn");
                        assert!(
                            holders.lock().unwrap().insert(conn.id),
                            "connection {} was handed to two holders at once",
                            conn.id
                        );
                        conn.session.push("busy");
                        if (t + round) % 7 == 0 {
                            thread::yield_now();
                        }
                        conn.session.clear();
                        holders.lock().unwrap().remove(&conn.id);
                        if round % 500 == 499 {
                            conn.mark_broken();
                        }
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.join().expect("no worker may panic");
        }
        let stats = pool.stats();
        assert_eq!(stats.in_use, 0, "every connection is back: {stats:?}");
        assert!(
            stats.opened - closed(&stats) <= 2 && stats.idle <= 2,
            "never more than max_size (2) open: {stats:?}"
        );
        assert_eq!(
            stats.gets,
            (threads * rounds) as u64,
            "every get handed out a connection: {stats:?}"
        );
        assert_balanced(&pool, "after 4 threads shared 2 connections");
    });
}

#[test]
fn gets_waiting_on_two_threads_all_finish_or_time_out_never_hang() {
    within(20, "waiters timing out on two threads", || {
        let (pool, _switches) = memory_pool(PoolConfig {
            connection_timeout: Duration::from_millis(50),
            ..config(1)
        });
        let held = get(&pool, "room for 1");
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let pool = pool.clone();
                thread::spawn(move || matches!(pool.get(), Err(GetError::Timeout { .. })))
            })
            .collect();
        for waiter in waiters {
            assert!(
                waiter.join().expect("a waiter must not panic"),
                "the only connection is held throughout: every waiter must answer Timeout"
            );
        }
        let stats = pool.stats();
        assert_eq!(
            (stats.timeouts, stats.waited),
            (2, 2),
            "(timeouts, waited): two gets waited and timed out"
        );
        drop(held);
        assert_eq!(
            get(&pool, "the connection is back").id,
            1,
            "after the timeouts the pool still works"
        );
    });
}

// ---------------------------------------------------------------- TCP

/// A line server on 127.0.0.1: answers `PING` with `PONG`, anything else
/// with itself. `stop` closes the listener and every connection.
struct LineServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accepter: Option<thread::JoinHandle<()>>,
}

impl LineServer {
    /// A server on a free port.
    fn start() -> Self {
        Self::start_on("127.0.0.1:0".parse().unwrap())
    }

    /// A server on `addr` (bound again after a stop: retried for a while).
    fn start_on(addr: SocketAddr) -> Self {
        let started = Instant::now();
        let listener = loop {
            match TcpListener::bind(addr) {
                Ok(listener) => break listener,
                Err(err) if started.elapsed() < Duration::from_secs(5) => {
                    let _ = err;
                    thread::sleep(Duration::from_millis(20));
                }
                Err(err) => panic!("the test server could not bind {addr}: {err}"),
            }
        };
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        listener
            .set_nonblocking(true)
            .expect("the test server's listener goes non-blocking");
        let stop = Arc::new(AtomicBool::new(false));
        let accepter = {
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                let mut sessions = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let stop = Arc::clone(&stop);
                            sessions.push(thread::spawn(move || serve(stream, &stop)));
                        }
                        Err(_) => thread::sleep(Duration::from_millis(2)),
                    }
                }
                drop(listener);
                for session in sessions {
                    let _ = session.join();
                }
            })
        };
        Self {
            addr,
            stop,
            accepter: Some(accepter),
        }
    }

    /// Closes the listener and every connection, and waits until they are.
    fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(accepter) = self.accepter.take() {
            let _ = accepter.join();
        }
    }
}

impl Drop for LineServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One session of the line server, until the peer or `stop` ends it.
fn serve(stream: TcpStream, stop: &AtomicBool) {
    let _ = stream.set_read_timeout(Some(Duration::from_millis(10)));
    let mut writer = stream.try_clone().expect("a TCP stream clones");
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    while !stop.load(Ordering::SeqCst) {
        match reader.read_line(&mut line) {
            Ok(0) => return,
            Ok(_) => {
                let answer = if line == "PING\n" { "PONG\n" } else { &line };
                if writer.write_all(answer.as_bytes()).is_err() {
                    return;
                }
                line.clear();
            }
            Err(err)
                if matches!(
                    err.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return,
        }
    }
}

/// A TCP pool's configuration: short timeouts, a check on checkout.
fn tcp_config(max_size: usize) -> PoolConfig {
    PoolConfig {
        max_size,
        min_idle: 0,
        connection_timeout: Duration::from_millis(300),
        idle_timeout: None,
        max_lifetime: None,
        test_on_checkout: true,
    }
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot open sockets")]
fn tcp_manager_connects_and_validates_with_ping_pong() {
    within(20, "the TCP manager against a line server", || {
        let server = LineServer::start();
        let manager = TcpManager::with_timeout(server.addr, Duration::from_millis(500));
        assert_eq!(manager.addr(), server.addr, "addr() is the server's");
        let pool =
            ConnectionPool::new(manager.clone(), tcp_config(1)).expect("a valid configuration");
        drop(pool.get().expect("the server is listening"));
        let again = pool.get().expect("the idle connection answers PING");
        assert_eq!(
            (pool.stats().opened, pool.stats().closed_invalid),
            (1, 0),
            "the idle connection passed is_valid on checkout and was handed out again"
        );
        drop(again);
        let mut stream = manager.connect().expect("the server is listening");
        assert!(
            manager.is_valid(&mut stream).is_ok(),
            "the server answers PING with PONG: valid"
        );
        assert!(
            !manager.has_broken(&mut stream),
            "a live connection with nothing to read has not broken"
        );
        stream.write_all(b"hello\n").expect("the server reads");
        thread::sleep(Duration::from_millis(50));
        assert!(
            manager.has_broken(&mut stream),
            "a connection with an answer nobody read is broken: the next user would read it as \
             the answer to their own request"
        );
        drop(server);
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot open sockets")]
fn a_tcp_connection_closed_by_the_server_is_closed_as_broken() {
    within(20, "a TCP connection the server closed", || {
        let mut server = LineServer::start();
        let pool = ConnectionPool::new(TcpManager::new(server.addr), tcp_config(2))
            .expect("a valid configuration");
        let conn = pool.get().expect("the server is up");
        server.stop();
        drop(conn);
        let stats = pool.stats();
        assert_eq!(
            (stats.closed_broken, stats.idle),
            (1, 0),
            "the server closed the socket: has_broken sees it on return, so it is closed, not \
             kept"
        );
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot open sockets")]
fn a_tcp_pool_times_out_while_the_server_is_down_and_recovers_when_it_is_back() {
    within(30, "a TCP pool across a server restart", || {
        let mut server = LineServer::start();
        let addr = server.addr;
        let config = tcp_config(2);
        let timeout = config.connection_timeout;
        let manager = TcpManager::with_timeout(addr, Duration::from_millis(200));
        let pool = ConnectionPool::new(manager, config).expect("a valid configuration");
        {
            let mut conn = pool.get().expect("the server is up");
            conn.write_all(b"PING\n").expect("the server reads");
            let mut answer = [0; 5];
            std::io::Read::read_exact(&mut *conn, &mut answer).expect("the server answers");
            assert_eq!(&answer, b"PONG\n", "the connection talks to the server");
        }
        assert_eq!(pool.stats().idle, 1, "the connection is idle in the pool");

        server.stop();
        let start = Instant::now();
        let outcome = pool.get();
        let took = start.elapsed();
        match outcome {
            Err(GetError::Timeout { last_error, .. }) => assert!(
                last_error.is_some(),
                "the get tried to connect and failed: Timeout must carry the connect error"
            ),
            Err(GetError::Closed) => panic!("the pool is not closed: get must answer Timeout"),
            Ok(_) => panic!("the server is down: get cannot hand out a working connection"),
        }
        assert!(
            took >= timeout && took < timeout + Duration::from_secs(3),
            "with the server down get must answer Timeout after connection_timeout ({timeout:?}), \
             not much later; it took {took:?}"
        );
        let stats = pool.stats();
        assert_eq!(
            (
                stats.closed_invalid,
                stats.timeouts,
                stats.idle,
                stats.in_use
            ),
            (1, 1, 0, 0),
            "the stats must say why: the idle connection failed is_valid on checkout (closed_invalid), \
             and the get timed out; {stats:?}"
        );
        assert!(
            stats.connect_failures >= 1,
            "and its connects failed (connect_failures); {stats:?}"
        );

        let _server = LineServer::start_on(addr);
        let conn = pool.get().expect(
            "the server is back on the same port: the next get must connect, with no manual step",
        );
        drop(conn);
        let stats = pool.stats();
        assert_eq!(
            (stats.opened, stats.idle),
            (2, 1),
            "one new connection, idle again after use"
        );
    });
}
