//! The runner reports a test binary that dies, instead of "0 of 0 tests" or
//! "(no message)": which binary, the signal, and the panics before it died.

use workbook::{testrun, workspace_root};

#[test]
fn a_crashing_test_binary_is_reported_with_its_signal_and_panics() {
    let fixture = workspace_root().join("tests/fixtures/crashing-exercise");
    let run = testrun::run(&fixture, "crashing-exercise").expect("cargo runs");
    assert!(run.build_error.is_none(), "the fixture builds: {run:?}");
    assert_eq!(run.crashes.len(), 1, "one binary aborts: {run:?}");
    let crash = &run.crashes[0];
    assert_eq!(crash.target, "tests/pool.rs");
    assert!(crash.status.contains("SIGABRT"), "{crash:?}");
    assert_eq!(crash.running, ["a_test_that_aborts"]);
    let explained = crash.explain();
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
    let aborted = run
        .tests
        .iter()
        .find(|t| t.name == "a_test_that_aborts")
        .expect("the test that was running is listed");
    assert!(!aborted.passed, "a crashed test is a failed test");
    assert_eq!(aborted.message.as_deref(), Some(explained.as_str()));
    assert!(
        run.tests
            .iter()
            .any(|t| t.name == "a_test_in_another_binary" && t.passed),
        "the other binaries still run and report: {:?}",
        run.tests
    );
    assert!(!run.all_passed());
}
