//! Runs a crate's tests with `cargo test` and reads libtest's plain output.

use std::path::Path;
use std::process::Command;

/// The outcome of one test function (or doc test).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestOutcome {
    /// The test's name as libtest prints it.
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// For a failed test: the panic message, without the `note:` lines.
    pub message: Option<String>,
}

/// Everything one `cargo test -p PACKAGE` run reported.
#[derive(Debug, Clone, Default)]
pub struct TestRun {
    /// Every test that ran, in the order they finished.
    pub tests: Vec<TestOutcome>,
    /// The compiler's errors, when the crate or its tests did not build.
    pub build_error: Option<String>,
    /// The `warning:` lines cargo or rustc printed.
    pub warnings: Vec<String>,
}

impl TestRun {
    /// How many tests passed.
    pub fn passed(&self) -> usize {
        self.tests.iter().filter(|t| t.passed).count()
    }

    /// The tests that failed, in order.
    pub fn failures(&self) -> impl Iterator<Item = &TestOutcome> {
        self.tests.iter().filter(|t| !t.passed)
    }

    /// Orders the tests as the `.rs` files in `tests_dir` declare them (files
    /// by name, then top to bottom), so the first failure shown is the most basic.
    pub fn sort_by_declaration(&mut self, tests_dir: &Path) {
        let files = crate::files_with_extension(tests_dir, "rs");
        let sources: Vec<String> = files
            .iter()
            .filter_map(|f| std::fs::read_to_string(f).ok())
            .collect();
        let position = |name: &str| {
            let needle = format!("fn {name}(");
            sources
                .iter()
                .enumerate()
                .find_map(|(i, text)| text.find(&needle).map(|at| (i, at)))
                .unwrap_or((usize::MAX, 0))
        };
        self.tests.sort_by_cached_key(|t| position(&t.name));
    }

    /// True when it built, ran at least one test, and every test passed.
    pub fn all_passed(&self) -> bool {
        self.build_error.is_none() && !self.tests.is_empty() && self.passed() == self.tests.len()
    }
}

/// Runs `cargo test -p package --no-fail-fast` in `root` and reads the results.
///
/// # Errors
/// Only when cargo itself cannot be started; failing tests and build errors
/// are part of the returned [`TestRun`].
pub fn run(root: &Path, package: &str) -> std::io::Result<TestRun> {
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root)
        .args([
            "test",
            "--package",
            package,
            "--no-fail-fast",
            "--color",
            "never",
        ])
        .env("CARGO_TERM_COLOR", "never")
        .env("RUST_BACKTRACE", "0")
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    Ok(parse(&stdout, &stderr))
}

/// Reads `cargo test`'s stdout (libtest's report) and stderr (cargo and rustc).
pub fn parse(stdout: &str, stderr: &str) -> TestRun {
    let mut tests: Vec<TestOutcome> = stdout.lines().filter_map(parse_result_line).collect();
    for test in tests.iter_mut().filter(|t| !t.passed) {
        test.message = failure_message(stdout, &test.name);
    }
    let warnings = stderr
        .lines()
        .filter(|line| line.starts_with("warning:"))
        .map(str::to_owned)
        .collect();
    let build_error = if stderr
        .lines()
        .any(|l| l.starts_with("error[") || l.starts_with("error:"))
        && !stdout.contains("test result:")
    {
        Some(compiler_errors(stderr))
    } else {
        None
    };
    // A crate that does not build runs no tests: make that visible.
    if build_error.is_some() {
        tests.clear();
    }
    TestRun {
        tests,
        build_error,
        warnings,
    }
}

/// `test name ... ok` or `test name ... FAILED`; ignored tests are skipped.
fn parse_result_line(line: &str) -> Option<TestOutcome> {
    let rest = line.strip_prefix("test ")?;
    let (name, verdict) = rest.rsplit_once(" ... ")?;
    let passed = match verdict.trim() {
        "ok" => true,
        "FAILED" => false,
        _ => return None,
    };
    Some(TestOutcome {
        name: name.trim().to_owned(),
        passed,
        message: None,
    })
}

/// The panic message in the `---- name stdout ----` section of a failed test.
fn failure_message(stdout: &str, name: &str) -> Option<String> {
    let header = format!("---- {name} stdout ----");
    let section = stdout.split_once(&header)?.1;
    let section = section
        .split("\n---- ")
        .next()
        .unwrap_or(section)
        .split("\nfailures:\n")
        .next()
        .unwrap_or(section);
    let after_panic = section
        .split_once("panicked at ")
        .map(|(_, rest)| rest.split_once('\n').map_or("", |(_, msg)| msg))
        .unwrap_or(section);
    let message: Vec<&str> = after_panic
        .lines()
        .take_while(|l| !l.starts_with("note: ") && !l.starts_with("stack backtrace"))
        .collect();
    let message = message.join("\n").trim().to_owned();
    (!message.is_empty()).then_some(message)
}

/// The compiler's error blocks, without cargo's closing summary.
fn compiler_errors(stderr: &str) -> String {
    let mut kept = Vec::new();
    let mut in_error = false;
    for line in stderr.lines() {
        if line.starts_with("error") {
            in_error = !line.starts_with("error: could not compile");
        } else if line.starts_with("warning") {
            in_error = false;
        }
        if in_error {
            kept.push(line);
        }
    }
    kept.join("\n").trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const STDOUT: &str = "\
running 3 tests
test alpha ... ok
test beta ... FAILED
test gamma ... ignored, needs a network

failures:

---- beta stdout ----

thread 'beta' panicked at tests/x.rs:3:5:
the pool had 4 blocks and 4 are in use,
so alloc() must return None
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace


failures:
    beta

test result: FAILED. 1 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out
";

    #[test]
    fn results_and_failure_messages_are_read_from_libtest_output() {
        let run = parse(STDOUT, "warning: unused variable: `x`\n");
        assert_eq!(
            run.tests.len(),
            2,
            "ignored tests are not counted: {:?}",
            run.tests
        );
        assert_eq!(run.passed(), 1);
        let failed: Vec<_> = run.failures().collect();
        assert_eq!(failed[0].name, "beta");
        assert_eq!(
            failed[0].message.as_deref(),
            Some("the pool had 4 blocks and 4 are in use,\nso alloc() must return None")
        );
        assert_eq!(run.warnings, ["warning: unused variable: `x`"]);
        assert!(run.build_error.is_none());
    }

    #[test]
    fn a_crate_that_does_not_build_reports_the_compiler_errors() {
        let stderr = "\
   Compiling exercise v0.1.0
error[E0308]: mismatched types
 --> src/lib.rs:3:5
  |
3 |     1u8
  |     ^^^ expected `usize`, found `u8`

error: could not compile `exercise` (lib) due to 1 previous error
";
        let run = parse("", stderr);
        let error = run
            .build_error
            .clone()
            .expect("a build error must be reported");
        assert!(
            error.starts_with("error[E0308]: mismatched types"),
            "{error}"
        );
        assert!(error.contains("expected `usize`"), "{error}");
        assert!(
            !error.contains("could not compile"),
            "cargo's summary is noise: {error}"
        );
        assert!(!run.all_passed());
    }
}
