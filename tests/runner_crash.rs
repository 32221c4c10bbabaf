//! The runner reports a test binary that dies or hangs, instead of "0 of 0
//! tests", "(no message)" or waiting forever: which binary, how it ended, the
//! panics before it ended (a worker thread's included, without taking the
//! thread for a test), and the tests that never reported.

use std::time::Duration;

use workbook::testrun::{self, Options};
use workbook::workspace_root;

#[test]
fn a_crashing_or_hanging_test_binary_is_reported_and_the_others_still_run() {
    let fixture = workspace_root().join("tests/fixtures/crashing-exercise");
    let limit = Duration::from_secs(3);
    let run = testrun::run_with(
        &fixture,
        "crashing-exercise",
        Options {
            time_limit: limit,
            doc_tests: false,
        },
    )
    .expect("cargo runs");
    assert!(run.build_error.is_none(), "the fixture builds: {run:?}");
    assert_eq!(
        run.crashes.len(),
        3,
        "two binaries abort, one hangs: {run:?}"
    );

    let aborted = &run
        .crashes
        .iter()
        .find(|c| c.target == "tests/pool.rs")
        .unwrap();
    assert!(aborted.status.contains("SIGABRT"), "{aborted:?}");
    assert_eq!(aborted.unreported, ["a_test_that_aborts"]);
    assert_eq!(aborted.culprit.as_deref(), Some("a_test_that_aborts"));
    let explained = aborted.explain();
    for expected in [
        "the test's own assertion failed",
        "Block::drop found the block already free",
        "a destructor must not panic",
    ] {
        assert!(
            explained.contains(expected),
            "{expected:?} in:\n{explained}"
        );
    }

    let hung = &run
        .crashes
        .iter()
        .find(|c| c.target == "tests/hangs.rs")
        .unwrap();
    assert!(hung.timed_out(), "{hung:?}");
    assert_eq!(hung.unreported, ["a_test_that_never_finishes"]);
    assert_eq!(
        hung.culprit.as_deref(),
        Some("a_test_that_never_finishes"),
        "a run on one thread names the test that hangs"
    );

    let outcome = |name: &str| {
        run.tests
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("{name} is listed: {:?}", run.tests))
    };
    assert!(
        !outcome("a_test_that_aborts").passed,
        "a crashed test failed"
    );
    assert_eq!(
        outcome("a_test_that_aborts").message.as_deref(),
        Some(explained.as_str())
    );
    assert!(!outcome("a_test_that_never_finishes").passed);
    for passing in [
        "a_passing_test",
        "a_test_that_finishes",
        "a_test_in_another_binary",
        "a_passing_test_beside_it",
    ] {
        assert!(outcome(passing).passed, "{passing} still reports");
    }

    // A thread a test started (chapter 07's workers are named `worker-N`)
    // panics and aborts the process: the test is to blame, and the thread's
    // name is not taken for a test's.
    let worker = run
        .crashes
        .iter()
        .find(|c| c.target == "tests/workers.rs")
        .unwrap();
    assert_eq!(worker.unreported, ["a_test_whose_worker_thread_aborts"]);
    assert_eq!(
        worker.culprit.as_deref(),
        Some("a_test_whose_worker_thread_aborts")
    );
    assert!(
        run.tests.iter().all(|t| t.name != "worker-0"),
        "a worker thread is not a test: {:?}",
        run.tests
    );
    let explained = worker.explain();
    assert!(
        explained.contains("worker-0 panicked at") && explained.contains("0 other test(s)"),
        "the worker's panics are shown as what happened before the end:\n{explained}"
    );
    assert!(!run.all_passed());
}
