//! `cargo bench --bench connection_pool`: chapter 08's connection pool
//! against the two pools a Rust user would otherwise pick, r2d2 and
//! deadpool, each handing out a trivial connection (a number) that is
//! already open, so the rows measure the pool and nothing else.
//!
//! - `connection_pool`: `get` + drop; `r2d2`: r2d2's `get` + drop;
//!   `deadpool`: deadpool's unmanaged pool, `try_get` + drop.
//! - Every pool is configured alike: at most 4 connections, no check on
//!   checkout (`test_on_checkout` false, r2d2's `test_on_check_out(false)`;
//!   deadpool's unmanaged pool has none), no idle timeout and no maximum
//!   lifetime (deadpool's unmanaged pool has neither), a 30 s connection
//!   timeout (deadpool's `try_get` never waits).
//! - `_2_threads`: the same operation on two threads at once, each doing
//!   half of every batch; the time is wall time / all operations.
//!
//! `cargo bench --features learner` adds the learner's crate as `learner/…`.
//! The rows are written once, in [`rows`]: criterion times them here, and
//! `benches/alloc_counts.rs` counts their heap allocations in another process.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

#[path = "common/mod.rs"]
mod common;
use crate::common::{Driver, Timed, ready, run_threaded};

/// Operations per timed call of a `_2_threads` id, all threads together.
const BATCH: u64 = 100_000;
/// Threads of the `_2_threads` ids.
const THREADS: usize = 2;
/// The most connections each pool may open.
const MAX_SIZE: usize = 4;
/// How long a get may wait, in the pools that wait.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(30);

/// A connection that is a number: opening, checking and dropping it costs
/// nothing, so a row's time is its pool's.
#[derive(Debug)]
struct Trivial;

impl r2d2::ManageConnection for Trivial {
    type Connection = u64;
    type Error = std::io::Error;

    fn connect(&self) -> Result<u64, std::io::Error> {
        Ok(1)
    }

    fn is_valid(&self, _conn: &mut u64) -> Result<(), std::io::Error> {
        Ok(())
    }

    fn has_broken(&self, conn: &mut u64) -> bool {
        *conn == 0
    }
}

/// The rows of one crate with the chapter's API, the solution's or the
/// learner's: `connection_pool` and `connection_pool_2_threads`, each id
/// prefixed with `$prefix`.
macro_rules! connection_pool_rows {
    ($d:expr, $prefix:literal, $krate:ident) => {{
        use ::$krate::{ConnectionPool, ManageConnection, PoolConfig};

        /// `Trivial`, for this crate's trait.
        struct Manager;
        impl ManageConnection for Manager {
            type Connection = u64;
            type Error = std::io::Error;
            fn connect(&self) -> Result<u64, std::io::Error> {
                Ok(1)
            }
            fn is_valid(&self, _conn: &mut u64) -> Result<(), std::io::Error> {
                Ok(())
            }
            fn has_broken(&self, conn: &mut u64) -> bool {
                *conn == 0
            }
        }

        if let Some(pool) = ready(concat!($prefix, "connection_pool"), || {
            // ANCHOR: config
            let config = PoolConfig {
                max_size: MAX_SIZE,
                min_idle: 0,
                connection_timeout: CONNECTION_TIMEOUT,
                idle_timeout: None,
                max_lifetime: None,
                test_on_checkout: false,
            };
            // ANCHOR_END: config
            let pool = ConnectionPool::new(Manager, config).expect("a valid configuration");
            drop(pool.get().expect("the first get connects"));
            pool
        }) {
            // ANCHOR: connection_pool
            $d.run(concat!($prefix, "connection_pool"), 1, || {
                let conn = pool.get().expect("a connection is idle");
                black_box(&*conn);
            });
            // ANCHOR_END: connection_pool
            run_threaded(
                $d,
                concat!($prefix, "connection_pool_2_threads"),
                THREADS,
                BATCH / 2,
                || {
                    let conn = pool.get().expect("one of the 4 places is free");
                    black_box(&*conn);
                },
            );
        }
    }};
}

/// Every row of the group, run by `d`.
pub fn rows(d: &mut impl Driver) {
    connection_pool_rows!(d, "", connection_pool);
    #[cfg(feature = "learner")]
    connection_pool_rows!(d, "learner/", learner_connection_pool);

    // ANCHOR: r2d2
    let r2d2 = r2d2::Pool::builder()
        .max_size(MAX_SIZE as u32)
        .min_idle(Some(0))
        .test_on_check_out(false)
        .idle_timeout(None)
        .max_lifetime(None)
        .connection_timeout(CONNECTION_TIMEOUT)
        .build(Trivial)
        .expect("r2d2 accepts the configuration");
    d.run("r2d2", 1, || {
        let conn = r2d2.get().expect("a connection is idle");
        black_box(&*conn);
    });
    // ANCHOR_END: r2d2
    run_threaded(d, "r2d2_2_threads", THREADS, BATCH / 2, || {
        let conn = r2d2.get().expect("one of the 4 places is free");
        black_box(&*conn);
    });

    // ANCHOR: deadpool
    let deadpool = deadpool::unmanaged::Pool::<u64>::new(MAX_SIZE);
    for _ in 0..MAX_SIZE {
        deadpool
            .try_add(1)
            .expect("the pool has room for MAX_SIZE objects");
    }
    d.run("deadpool", 1, || {
        let conn = deadpool.try_get().expect("an object is idle");
        black_box(&*conn);
    });
    // ANCHOR_END: deadpool
    run_threaded(d, "deadpool_2_threads", THREADS, BATCH / 2, || {
        let conn = deadpool.try_get().expect("4 objects for 2 threads");
        black_box(&*conn);
    });
}

fn connection_pool(c: &mut Criterion) {
    let mut timed = Timed::new(c, "connection_pool");
    rows(&mut timed);
    timed.finish();
}

criterion_group!(benches, connection_pool);
criterion_main!(benches);
