//! Chapter 08's analysis, counted: what a connection pool saves (connects
//! and heap allocations, against a connection per request), what the pool's
//! counters say at each step of a connection's life, and what a check on
//! checkout costs. Every count is exact: the manager is in memory and the
//! steps never wait for a clock. insta keeps the report, and the book
//! includes it.

mod heap_profile;

use std::fmt::Write;
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use connection_pool::{ConnectionPool, ConnectionStats, ManageConnection, PoolConfig};

#[global_allocator]
static ALLOC: thread_heap::Counting = thread_heap::Counting;

/// Requests of the workload.
const REQUESTS: usize = 1_000;
/// Requests in flight at once in the bursts.
const BURST: usize = 8;

/// Heap allocations made by this thread while `work` runs.
fn allocations(work: impl FnOnce()) -> u64 {
    let before = thread_heap::counts();
    work();
    thread_heap::counts().since(before).made
}

/// What the report switches and counts.
#[derive(Default)]
struct Server {
    /// Connects fail ("the server is down").
    down: AtomicBool,
    /// Connections answer `is_valid` with an error.
    stale: AtomicBool,
    connects: AtomicU64,
    round_trips: AtomicU64,
}

/// A connection: a session with its buffers, as a real client library
/// allocates them on connect.
struct Session {
    buffer: Vec<u8>,
    broken: bool,
}

/// An in-memory manager: a connect is a "handshake" that allocates a 4 KiB
/// session buffer; `is_valid` is a round trip.
struct Manager(Arc<Server>);

impl ManageConnection for Manager {
    type Connection = Session;
    type Error = std::io::Error;

    fn connect(&self) -> Result<Session, std::io::Error> {
        if self.0.down.load(Ordering::SeqCst) {
            return Err(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        }
        self.0.connects.fetch_add(1, Ordering::SeqCst);
        Ok(Session {
            buffer: Vec::with_capacity(4096),
            broken: false,
        })
    }

    fn is_valid(&self, _conn: &mut Session) -> Result<(), std::io::Error> {
        self.0.round_trips.fetch_add(1, Ordering::SeqCst);
        if self.0.stale.load(Ordering::SeqCst) {
            Err(std::io::Error::from(std::io::ErrorKind::ConnectionReset))
        } else {
            Ok(())
        }
    }

    fn has_broken(&self, conn: &mut Session) -> bool {
        conn.broken
    }
}

/// A configuration for the report: no waiting to speak of, no clock rules.
fn config(max_size: usize) -> PoolConfig {
    PoolConfig {
        max_size,
        min_idle: 0,
        connection_timeout: Duration::from_millis(20),
        idle_timeout: None,
        max_lifetime: None,
        test_on_checkout: false,
    }
}

/// Serves the workload: each request takes a connection, writes a request
/// into its buffer, and gives it back; in bursts, `BURST` are held at once.
fn serve<C: std::ops::DerefMut<Target = Session>>(
    burst: usize,
    mut connection: impl FnMut() -> C,
) -> u64 {
    allocations(|| {
        let mut held = Vec::with_capacity(burst);
        for _ in 0..REQUESTS / burst {
            for _ in 0..burst {
                let mut conn = connection();
                conn.buffer.clear();
                conn.buffer.extend_from_slice(b"SELECT 1");
                held.push(black_box(conn));
            }
            held.clear();
        }
    })
}

/// A connection made per request, as a program without a pool does.
struct Fresh(Session);

impl std::ops::Deref for Fresh {
    type Target = Session;
    fn deref(&self) -> &Session {
        &self.0
    }
}

impl std::ops::DerefMut for Fresh {
    fn deref_mut(&mut self) -> &mut Session {
        &mut self.0
    }
}

/// What the pool saves: connects and heap allocations per request.
fn savings() -> String {
    let mut report = format!(
        "{REQUESTS} requests, each takes a connection, writes a query and gives it back.\n\
         A connect allocates a 4 KiB session buffer, as a client library's handshake does.\n\n\
         how                           held at once  connects  heap allocs  allocs/request"
    );
    for burst in [1, BURST] {
        let server = Arc::new(Server::default());
        let manager = Manager(Arc::clone(&server));
        let made = serve(burst, || {
            Fresh(manager.connect().expect("the server is up"))
        });
        let connects = server.connects.load(Ordering::SeqCst);
        write!(
            report,
            "\n{:<29} {burst:>13}  {connects:>8}  {made:>11}  {:>14.3}",
            "a connection per request",
            made as f64 / REQUESTS as f64
        )
        .unwrap();

        let server = Arc::new(Server::default());
        let pool = ConnectionPool::new(Manager(Arc::clone(&server)), config(BURST))
            .expect("a valid configuration");
        let made = serve(burst, || pool.get().expect("room for a burst"));
        let connects = server.connects.load(Ordering::SeqCst);
        write!(
            report,
            "\n{:<29} {burst:>13}  {connects:>8}  {made:>11}  {:>14.3}",
            format!("ConnectionPool, max_size {BURST}"),
            made as f64 / REQUESTS as f64
        )
        .unwrap();
    }
    report.push_str(
        "\n\nheap allocs: this thread's heap allocations while serving, the pool's included\n\
         (its idle list grows once, to the most connections idle at once).",
    );
    report
}

/// One row of the lifecycle table.
fn row(step: &str, stats: ConnectionStats) -> String {
    format!(
        "{step:<44} {:>6} {:>5} {:>4} {:>7} {:>3}/{}/{}/{}/{} {:>6} {:>4}",
        stats.opened,
        stats.connect_failures,
        stats.gets,
        stats.timeouts,
        stats.closed_broken,
        stats.closed_invalid,
        stats.closed_idle,
        stats.closed_lifetime,
        stats.closed_pool,
        stats.in_use,
        stats.idle
    )
}

/// The counters after each step of a pool's life.
fn lifecycle() -> String {
    let server = Arc::new(Server::default());
    let pool = ConnectionPool::new(
        Manager(Arc::clone(&server)),
        PoolConfig {
            min_idle: 2,
            // Every idle connection above min_idle has sat idle long enough
            // by the time reap looks: the step needs no clock.
            idle_timeout: Some(Duration::ZERO),
            test_on_checkout: true,
            ..config(4)
        },
    )
    .expect("a valid configuration");
    let mut report = String::from(
        "A pool with max_size 4, min_idle 2, test_on_checkout, and an idle_timeout of zero\n\
         (so reap finds every idle connection above min_idle idle too long).\n\n\
         step                                         opened fails gets timeouts closed b/i/idle/life/pool in_use idle\n",
    );
    let step = |what: &str, report: &mut String| {
        writeln!(report, "{}", row(what, pool.stats())).unwrap();
    };
    step("new: min_idle connections opened", &mut report);
    let four: Vec<_> = (0..4).map(|_| pool.get().expect("room for 4")).collect();
    step("4 gets held at once (2 idle + 2 new)", &mut report);
    drop(four);
    step("the 4 returned", &mut report);
    assert_eq!(pool.reap(), 2, "2 above min_idle are closed");
    step("reap: idle above min_idle closed", &mut report);
    {
        let mut conn = pool.get().expect("2 are idle");
        conn.broken = true;
    }
    step("one returned broken (has_broken)", &mut report);
    pool.get().expect("1 is idle").mark_broken();
    step("one marked broken by its user", &mut report);
    assert_eq!(pool.reap(), 0, "nothing idle to close");
    step("reap: min_idle refilled", &mut report);
    server.down.store(true, Ordering::SeqCst);
    server.stale.store(true, Ordering::SeqCst);
    assert!(
        pool.try_get().is_none(),
        "the idle ones are stale and connects fail"
    );
    step("server down: try_get finds no valid one", &mut report);
    server.down.store(false, Ordering::SeqCst);
    server.stale.store(false, Ordering::SeqCst);
    let held = pool.get().expect("the server is back");
    step("server back: get connects again", &mut report);
    let kept = pool.get().expect("room for another").detach();
    step("one detached: the pool forgets it", &mut report);
    pool.close();
    step("close: idle ones closed, one still in use", &mut report);
    drop(held);
    step("the last one returned to the closed pool", &mut report);
    drop(kept);
    report.push_str(
        "\nfails: connect failures. closed b/i/idle/life/pool: closed as Broken, Invalid,\n\
         IdleTimeout, MaxLifetime, PoolClosed.",
    );
    report
}

/// What `test_on_checkout` costs: a round trip per get from the pool.
fn checkout_checks() -> String {
    let mut report = String::from(
        "1000 get + drop of an idle connection:\n\
         test_on_checkout  is_valid round trips  heap allocs",
    );
    for test_on_checkout in [false, true] {
        let server = Arc::new(Server::default());
        let pool = ConnectionPool::new(
            Manager(Arc::clone(&server)),
            PoolConfig {
                test_on_checkout,
                ..config(4)
            },
        )
        .expect("a valid configuration");
        drop(pool.get().expect("room for 4"));
        let made = allocations(|| {
            for _ in 0..1_000 {
                black_box(pool.get().expect("one is idle"));
            }
        });
        write!(
            report,
            "\n{test_on_checkout:<16}  {:>20}  {made:>11}",
            server.round_trips.load(Ordering::SeqCst)
        )
        .unwrap();
    }
    report
}

#[test]
fn what_a_connection_pool_saves_and_what_its_counters_say() {
    let _profiler = heap_profile::profiler();
    let report = format!(
        "{}\n\n{}\n\n{}\n",
        savings(),
        lifecycle(),
        checkout_checks()
    );
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!("report", report);
    });
}
