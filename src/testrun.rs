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

/// A test binary that died instead of finishing: killed by a signal (a panic
/// inside a panic aborts), or gone without libtest's `test result:` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crash {
    /// The test target as cargo names it: `tests/heap.rs`, `unittests src/lib.rs`.
    pub target: String,
    /// How the process ended, in cargo's words: `signal: 6, SIGABRT: process abort signal`.
    pub status: String,
    /// The tests that were running when it died, named by their panics.
    pub running: Vec<String>,
    /// Every panic printed before it died: `test panicked at file:line: message`.
    pub panics: Vec<String>,
    /// How many of the binary's tests never reported a result.
    pub unfinished: usize,
}

impl Crash {
    /// What happened, in words a learner can act on.
    pub fn explain(&self) -> String {
        let mut text = format!(
            "the test process for {} died ({}), so {} of its tests never reported.",
            self.target,
            self.status,
            self.unfinished + self.running.len()
        );
        if self.panics.is_empty() {
            text.push_str("\nIt printed no panic before it died.");
        } else {
            text.push_str("\nBefore it died:");
            for panic in &self.panics {
                text.push_str("\n  ");
                text.push_str(&panic.replace('\n', "\n    "));
            }
        }
        if self.status.contains("SIGABRT") {
            text.push_str(
                "\nAn abort usually means a panic while another panic was unwinding, \
                 often in a `Drop` impl: a destructor must not panic.",
            );
        } else if self.status.contains("SIGSEGV") {
            text.push_str(
                "\nA segmentation fault means memory was used that is not yours: \
                 check the `unsafe` blocks, or a recursion that overflowed the stack.",
            );
        }
        text
    }
}

/// Everything one `cargo test -p PACKAGE` run reported.
#[derive(Debug, Clone, Default)]
pub struct TestRun {
    /// Every test that ran, in the order they finished. A test that was
    /// running when its binary crashed is here too, failed, with the crash
    /// as its message.
    pub tests: Vec<TestOutcome>,
    /// The test binaries that died before they finished.
    pub crashes: Vec<Crash>,
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

    /// Every test the crate has, as far as the run can tell: those that
    /// reported, and those a crash kept from reporting.
    pub fn total(&self) -> usize {
        self.tests.len() + self.crashes.iter().map(|c| c.unfinished).sum::<usize>()
    }

    /// True when it built, ran at least one test, nothing crashed, and every test passed.
    pub fn all_passed(&self) -> bool {
        self.build_error.is_none()
            && self.crashes.is_empty()
            && !self.tests.is_empty()
            && self.passed() == self.tests.len()
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
    let crashes = if build_error.is_some() {
        Vec::new()
    } else {
        crashes(stdout, stderr)
    };
    for crash in &crashes {
        for name in &crash.running {
            match tests.iter_mut().find(|t| &t.name == name) {
                Some(test) => {
                    test.passed = false;
                    test.message = Some(crash.explain());
                }
                None => tests.push(TestOutcome {
                    name: name.clone(),
                    passed: false,
                    message: Some(crash.explain()),
                }),
            }
        }
    }
    TestRun {
        tests,
        crashes,
        build_error,
        warnings,
    }
}

/// The test binaries cargo ran, in order: (target, path of the executable).
/// Doc tests have no executable of their own.
fn test_targets(stderr: &str) -> Vec<(String, Option<String>)> {
    stderr
        .lines()
        .map(str::trim)
        .filter_map(|line| {
            if let Some(rest) = line.strip_prefix("Running ") {
                let (target, path) = rest.rsplit_once(" (")?;
                Some((
                    target.to_owned(),
                    Some(path.trim_end_matches(')').to_owned()),
                ))
            } else {
                line.strip_prefix("Doc-tests ")
                    .map(|krate| (format!("doc tests of {krate}"), None))
            }
        })
        .collect()
}

/// Each binary's part of stdout: from its `running N tests` line to the next,
/// with N.
fn stdout_blocks(stdout: &str) -> Vec<(usize, &str)> {
    let mut starts: Vec<(usize, usize)> = Vec::new();
    let mut offset = 0;
    for line in stdout.split_inclusive('\n') {
        let count = line
            .trim()
            .strip_prefix("running ")
            .and_then(|rest| rest.strip_suffix(" tests").or(rest.strip_suffix(" test")))
            .and_then(|n| n.parse().ok());
        if let Some(count) = count {
            starts.push((offset, count));
        }
        offset += line.len();
    }
    starts
        .iter()
        .enumerate()
        .map(|(i, &(start, count))| {
            let end = starts.get(i + 1).map_or(stdout.len(), |next| next.0);
            (count, &stdout[start..end])
        })
        .collect()
}

/// The binaries whose stdout ends without `test result:`, with what cargo
/// and the panics say about how they ended.
fn crashes(stdout: &str, stderr: &str) -> Vec<Crash> {
    let targets = test_targets(stderr);
    let blocks = stdout_blocks(stdout);
    let mut found = Vec::new();
    for (i, (count, block)) in blocks.iter().enumerate() {
        if block.contains("\ntest result: ") {
            continue;
        }
        // Blocks and targets come in the same order, unless a binary died
        // before printing `running N tests`; then the target may be unknown.
        let (target, path) = targets
            .get(i)
            .cloned()
            .unwrap_or_else(|| ("a test binary".to_owned(), None));
        let status = path
            .as_deref()
            .and_then(|path| exit_status(stderr, path))
            .unwrap_or_else(|| "it ended without a summary".to_owned());
        let stderr_part = stderr_of_target(stderr, &target);
        let mut panics = panics_in(block);
        panics.extend(panics_in(stderr_part));
        let mut running: Vec<String> = Vec::new();
        for (name, _) in &panics {
            if !running.contains(name) && !block.contains(&format!("test {name} ... ")) {
                running.push(name.clone());
            }
        }
        let reported = block.lines().filter_map(parse_result_line).count();
        found.push(Crash {
            target,
            status,
            unfinished: count.saturating_sub(reported + running.len()),
            running,
            panics: panics
                .into_iter()
                .map(|(name, message)| format!("{name} panicked at {message}"))
                .collect(),
        });
    }
    found
}

/// `(signal: 6, SIGABRT: …)` from cargo's "process didn't exit successfully" line.
fn exit_status(stderr: &str, executable: &str) -> Option<String> {
    let line = stderr
        .lines()
        .find(|l| l.contains("didn't exit successfully") && l.contains(executable))?;
    let (_, status) = line.rsplit_once(" (")?;
    Some(status.trim_end_matches(')').to_owned())
}

/// The stderr lines between `Running TARGET` and the next `Running`.
fn stderr_of_target<'a>(stderr: &'a str, target: &str) -> &'a str {
    let Some(start) = stderr.find(&format!("Running {target} (")) else {
        return "";
    };
    let rest = &stderr[start..];
    let end = rest[1..]
        .find("     Running ")
        .or_else(|| rest[1..].find("   Doc-tests "))
        .map_or(rest.len(), |e| e + 1);
    &rest[..end]
}

/// Every `thread 'NAME' panicked at LOCATION:` with its message:
/// `(NAME, "LOCATION: message")`.
fn panics_in(text: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(rest) = line.strip_prefix("thread '") else {
            continue;
        };
        let Some((name, rest)) = rest.split_once('\'') else {
            continue;
        };
        let Some((_, location)) = rest.split_once("panicked at ") else {
            continue;
        };
        let message: Vec<&str> = lines[i + 1..]
            .iter()
            .take_while(|l| {
                !l.is_empty()
                    && !l.starts_with("note: ")
                    && !l.starts_with("stack backtrace")
                    && !l.starts_with("thread ")
            })
            .copied()
            .collect();
        found.push((
            name.to_owned(),
            format!("{} {}", location.trim_end(), message.join("\n")),
        ));
    }
    found
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
