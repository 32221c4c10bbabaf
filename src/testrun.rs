//! Runs a crate's tests and reads the results: cargo builds the test
//! binaries, then each binary runs on its own under a time limit, so a crash
//! or a hang is pinned to its binary and the other binaries still report.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The outcome of one test function (or doc test).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestOutcome {
    /// The test's name as libtest prints it.
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// For a failed test: the panic message, without the `note:` lines.
    pub message: Option<String>,
    /// True for a test that never ran, because its process died or hung in
    /// another test first. It counts as failed, but is not the one to look at.
    pub not_run: bool,
}

/// A test binary that did not finish: killed by a signal (a panic inside a
/// panic aborts), stopped at the time limit, or gone without libtest's
/// `test result:` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crash {
    /// The test target as cargo names it: `tests/heap.rs`, `unittests src/lib.rs`.
    pub target: String,
    /// How the process ended: `signal 6 (SIGABRT)`, `timed out after 60 s`.
    pub status: String,
    /// Every panic printed before it ended: `test panicked at file:line: message`.
    pub panics: Vec<String>,
    /// What else the process said on stderr as it ended, such as
    /// `memory allocation of 1152921504606846976 bytes failed`.
    pub notes: Vec<String>,
    /// The test that was running when it ended, found by running the binary
    /// again on one thread.
    pub culprit: Option<String>,
    /// The binary's tests that never reported a result.
    pub unreported: Vec<String>,
}

impl Crash {
    /// True when the binary was stopped at the time limit.
    pub fn timed_out(&self) -> bool {
        self.status.starts_with("timed out")
    }

    /// What happened, in words a learner can act on.
    pub fn explain(&self) -> String {
        let mut text = match &self.culprit {
            Some(culprit) if self.timed_out() => {
                let others = self.unreported.len().saturating_sub(1);
                format!(
                    "`{culprit}` never finished: the test process for {} {}. Run again one \
                     test at a time, it is the first test of that file that hangs; it may be \
                     the simplest place to see why, whatever its name. {others} other test(s) \
                     never reported: they may hang the same way, or never got to run.",
                    self.target, self.status
                )
            }
            Some(culprit) => {
                let others = self.unreported.len().saturating_sub(1);
                format!(
                    "the test process for {} ended in `{culprit}` ({}), so it and {others} \
                     other test(s) of that file never reported. (Run alone on one thread, \
                     this is the test it ended in.)",
                    self.target, self.status
                )
            }
            None => format!(
                "the test process for {} did not finish ({}), so {} of its tests never reported.",
                self.target,
                self.status,
                self.unreported.len()
            ),
        };
        if !self.panics.is_empty() || !self.notes.is_empty() {
            text.push_str("\nBefore it ended:");
            for line in self.panics.iter().chain(&self.notes) {
                text.push_str("\n  ");
                text.push_str(&line.replace('\n', "\n    "));
            }
        }
        let out_of_memory = self
            .notes
            .iter()
            .any(|n| n.starts_with("memory allocation of"));
        let advice = if self.timed_out() {
            "A test that never finishes waits for something that never happens: a loop \
             whose condition never changes, or a lock or channel nobody releases."
        } else if out_of_memory {
            "std aborts the process when an allocation fails (Vec::with_capacity, vec!, \
             Box::new): where the contract asks for an error value instead, ask for the \
             memory in a way that can fail."
        } else if self
            .notes
            .iter()
            .any(|n| n.contains("thread local panicked on drop"))
        {
            "Code running in a thread-local's destructor panicked: while a thread exits, its \
             other thread-locals may already be gone (`LocalKey::with` panics then; \
             `try_with` tells you instead)."
        } else if self.status.contains("SIGABRT") {
            "An abort usually means a panic while another panic was unwinding, often in a \
             `Drop` impl: a destructor must not panic."
        } else if self.status.contains("SIGSEGV") || self.status.contains("SIGBUS") {
            "A segmentation fault means memory was used that is not yours: check the \
             `unsafe` blocks (Miri finds such bugs), or a recursion that overflowed the stack."
        } else {
            "The process ended before libtest printed its summary."
        };
        text.push('\n');
        text.push_str(advice);
        text
    }
}

/// Everything one run of a crate's tests reported.
#[derive(Debug, Clone, Default)]
pub struct TestRun {
    /// Every test, in the order the binaries reported them. A test that never
    /// reported because its binary crashed or hung is here too, failed, with
    /// the crash as its message.
    pub tests: Vec<TestOutcome>,
    /// The test binaries that did not finish.
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
        // The heap test goes last: it needs most of the crate working, so
        // its failure is rarely the first thing to fix.
        let mut files = crate::files_with_extension(tests_dir, "rs");
        files.sort_by_key(|f| f.file_name().is_some_and(|n| n == "heap.rs"));
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

    /// How many tests the crate has.
    pub fn total(&self) -> usize {
        self.tests.len()
    }

    /// True when it built, ran at least one test, nothing crashed, and every test passed.
    pub fn all_passed(&self) -> bool {
        self.build_error.is_none()
            && self.crashes.is_empty()
            && !self.tests.is_empty()
            && self.passed() == self.tests.len()
    }
}

/// How to run a crate's tests.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// The longest one test binary may run before it is stopped and reported
    /// as timed out.
    pub time_limit: Duration,
    /// Whether to run the doc tests too (the solutions have them; the
    /// exercises, whose examples are stripped, do not).
    pub doc_tests: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            time_limit: Duration::from_secs(30),
            doc_tests: false,
        }
    }
}

/// Runs `package`'s tests in the workspace at `root` with the default
/// [`Options`]: every test binary, each under a 30-second limit (the
/// chapters' tests take about a second; a hang is found twice over, once with
/// every test at once and once one at a time, to name the test).
///
/// # Errors
/// Only when cargo itself cannot be started; failing tests, crashes, hangs
/// and build errors are part of the returned [`TestRun`].
pub fn run(root: &Path, package: &str) -> std::io::Result<TestRun> {
    run_with(root, package, Options::default())
}

/// Runs `package`'s tests with `options`.
///
/// # Errors
/// As [`run`].
pub fn run_with(root: &Path, package: &str, options: Options) -> std::io::Result<TestRun> {
    let build = crate::cargo(root)
        .args(["test", "--package", package, "--no-run", "--color", "never"])
        .args(["--message-format", "json-render-diagnostics"])
        .env("CARGO_TERM_COLOR", "never")
        .output()?;
    let stdout = String::from_utf8_lossy(&build.stdout);
    let stderr = String::from_utf8_lossy(&build.stderr);
    let mut run = TestRun {
        warnings: stderr
            .lines()
            .filter(|line| line.starts_with("warning:"))
            .map(str::to_owned)
            .collect(),
        ..TestRun::default()
    };
    if !build.status.success() {
        run.build_error = Some(compiler_errors(&stderr));
        return Ok(run);
    }
    for binary in test_binaries(&stdout) {
        let output = run_limited(&binary, options.time_limit, &[])?;
        let mut result = parse_binary(&binary.target, &output);
        if result.crash.is_some() {
            // On one thread libtest names each test before running it, so
            // the last name without a verdict is the test that was running.
            let again = run_limited(&binary, options.time_limit, &["--test-threads=1"])?;
            if let Some(culprit) = last_started(&again.stdout) {
                result = parse_binary_with_culprit(&binary.target, &output, Some(culprit));
            }
        }
        run.absorb(result);
    }
    if options.doc_tests {
        let doc = crate::cargo(root)
            .args(["test", "--package", package, "--doc", "--color", "never"])
            .env("CARGO_TERM_COLOR", "never")
            .env("RUST_BACKTRACE", "0")
            .output()?;
        let output = BinaryOutput {
            stdout: String::from_utf8_lossy(&doc.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&doc.stderr).into_owned(),
            status: if doc.stdout.is_empty() && !doc.status.success() {
                Ended::Failed(format!("{}", doc.status))
            } else {
                Ended::Exited
            },
            listed: Vec::new(),
        };
        run.absorb(parse_binary("doc tests", &output));
    }
    Ok(run)
}

impl TestRun {
    fn absorb(&mut self, binary: BinaryRun) {
        self.tests.extend(binary.tests);
        self.crashes.extend(binary.crash);
    }
}

/// One test executable cargo built.
#[derive(Debug, Clone)]
struct TestBinary {
    /// As cargo names it: `tests/heap.rs`, `unittests src/lib.rs`.
    target: String,
    executable: PathBuf,
    /// The package's directory, where cargo would run the binary.
    package_dir: PathBuf,
}

/// The test executables in cargo's JSON messages, in order.
fn test_binaries(json_lines: &str) -> Vec<TestBinary> {
    json_lines
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["profile"]["test"] == true)
        .filter_map(|m| {
            let executable = PathBuf::from(m["executable"].as_str()?);
            let package_dir = Path::new(m["manifest_path"].as_str()?).parent()?.to_owned();
            let file = Path::new(m["target"]["src_path"].as_str()?)
                .file_name()?
                .to_string_lossy()
                .into_owned();
            let kinds = m["target"]["kind"].as_array()?;
            let target = if kinds.iter().any(|k| k == "test") {
                format!("tests/{file}")
            } else {
                format!("unittests src/{file}")
            };
            Some(TestBinary {
                target,
                executable,
                package_dir,
            })
        })
        .collect()
}

/// How a test process ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ended {
    /// It exited by itself (its summary says whether the tests passed).
    Exited,
    /// Killed by a signal, or some other failure: cargo's words for it.
    Failed(String),
    /// Stopped at the time limit.
    TimedOut(Duration),
}

/// What one test process printed, and how it ended.
#[derive(Debug, Clone)]
struct BinaryOutput {
    stdout: String,
    stderr: String,
    status: Ended,
    /// The tests the binary lists (`--list`), to name those that never reported.
    listed: Vec<String>,
}

/// The test a one-thread run started and never finished: `test name ... `
/// with no verdict after it.
fn last_started(stdout: &str) -> Option<String> {
    let line = stdout.lines().rev().find(|l| l.starts_with("test "))?;
    let name = line
        .strip_prefix("test ")?
        .trim_end()
        .strip_suffix(" ...")?;
    Some(name.trim().to_owned())
}

/// Runs one test binary with `args`, stopping it at `limit`.
fn run_limited(
    binary: &TestBinary,
    limit: Duration,
    args: &[&str],
) -> std::io::Result<BinaryOutput> {
    let ran = run_within(
        Command::new(&binary.executable)
            .current_dir(&binary.package_dir)
            .args(["--color", "never"])
            .args(args)
            .env("RUST_BACKTRACE", "0"),
        limit,
    )?;
    let status = match ran.status {
        None => Ended::TimedOut(limit),
        Some(status) if status.success() || status.code() == Some(101) => Ended::Exited,
        Some(status) => Ended::Failed(describe_exit(status)),
    };
    // The list of tests is needed only to name those that never reported.
    let listed = if status == Ended::Exited {
        Vec::new()
    } else {
        list_tests(binary)
    };
    Ok(BinaryOutput {
        stdout: String::from_utf8_lossy(&ran.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&ran.stderr).into_owned(),
        status,
        listed,
    })
}

/// Runs `command` to the end and returns its output, or stops it and
/// returns `None` when it runs past `limit`. Its output is read while it
/// runs, so a chatty process cannot block on a full pipe.
///
/// # Errors
/// When the command cannot be started.
pub fn output_within(
    command: &mut Command,
    limit: Duration,
) -> std::io::Result<Option<std::process::Output>> {
    let ran = run_within(command, limit)?;
    Ok(ran.status.map(|status| std::process::Output {
        status,
        stdout: ran.stdout,
        stderr: ran.stderr,
    }))
}

/// What a process printed before it ended or was stopped.
struct Ran {
    /// How it ended; `None` when it was stopped at the limit.
    status: Option<std::process::ExitStatus>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// Runs `command` in a process group of its own, stopping the whole group
/// when it runs past `limit`, and keeps what it printed either way.
fn run_within(command: &mut Command, limit: Duration) -> std::io::Result<Ran> {
    // Its own process group, so that stopping it stops what it started too
    // (cargo runs the bench binary as a child of its own).
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(command, 0);
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let read_all = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = child.stdout.take().map(|p| read_all(Box::new(p)));
    let stderr = child.stderr.take().map(|p| read_all(Box::new(p)));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if started.elapsed() >= limit {
            #[cfg(unix)]
            let _ = Command::new("kill")
                .args(["-s", "KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let join = |h: Option<std::thread::JoinHandle<Vec<u8>>>| {
        h.and_then(|h| h.join().ok()).unwrap_or_default()
    };
    Ok(Ran {
        status,
        stdout: join(stdout),
        stderr: join(stderr),
    })
}

/// The names of a test binary's tests (`--list`).
fn list_tests(binary: &TestBinary) -> Vec<String> {
    Command::new(&binary.executable)
        .current_dir(&binary.package_dir)
        .args(["--list", "--format", "terse"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter_map(|l| l.strip_suffix(": test"))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// `signal 6 (SIGABRT)` or `exit status 3`.
fn describe_exit(status: std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            let name = match signal {
                4 => " (SIGILL)",
                6 => " (SIGABRT)",
                7 => " (SIGBUS)",
                8 => " (SIGFPE)",
                9 => " (SIGKILL)",
                11 => " (SIGSEGV)",
                _ => "",
            };
            return format!("signal {signal}{name}");
        }
    }
    match status.code() {
        Some(code) => format!("exit status {code}"),
        None => "an unknown end".to_owned(),
    }
}

/// The tests one binary reported, and its crash if it did not finish.
#[derive(Debug, Clone, Default)]
struct BinaryRun {
    tests: Vec<TestOutcome>,
    crash: Option<Crash>,
}

/// Reads one test binary's output.
fn parse_binary(target: &str, output: &BinaryOutput) -> BinaryRun {
    parse_binary_with_culprit(target, output, None)
}

/// Reads one test binary's output, knowing which test it died in.
fn parse_binary_with_culprit(
    target: &str,
    output: &BinaryOutput,
    culprit: Option<String>,
) -> BinaryRun {
    let stdout = &output.stdout;
    let mut tests: Vec<TestOutcome> = stdout.lines().filter_map(parse_result_line).collect();
    for test in tests.iter_mut().filter(|t| !t.passed) {
        test.message = failure_message(stdout, &test.name);
    }
    let finished = stdout.contains("\ntest result: ") || stdout.starts_with("test result: ");
    let status = match &output.status {
        Ended::TimedOut(limit) => format!("timed out after {} s", limit.as_secs()),
        Ended::Failed(how) => how.clone(),
        Ended::Exited if finished => return BinaryRun { tests, crash: None },
        Ended::Exited => "it ended without libtest's summary".to_owned(),
    };
    let mut panics = panics_in(stdout);
    panics.extend(panics_in(&output.stderr));
    let mut unreported: Vec<String> = output
        .listed
        .iter()
        .filter(|name| !tests.iter().any(|t| &t.name == *name))
        .cloned()
        .collect();
    // A panicking thread is a test only if the binary lists a test of that
    // name: the threads a test starts have names of their own (chapter 07's
    // pool names its workers `worker-0`, `worker-1`, …). Without a list, any
    // name but libtest's own and unnamed threads' is taken for a test.
    let is_test = |name: &String| {
        if output.listed.is_empty() {
            !name.starts_with("main") && !name.starts_with('<')
        } else {
            output.listed.contains(name)
        }
    };
    for (name, _) in &panics {
        if !unreported.contains(name) && !tests.iter().any(|t| &t.name == name) && is_test(name) {
            unreported.push(name.clone());
        }
    }
    let panicked: Vec<&String> = panics.iter().map(|(name, _)| name).collect();
    // A test that panicked and then never reported is the culprit, if the
    // one-thread run did not find it.
    let culprit = culprit.or_else(|| {
        unreported
            .iter()
            .find(|name| panicked.contains(name))
            .cloned()
    });
    let crash = Crash {
        target: target.to_owned(),
        status,
        notes: stderr_notes(&output.stderr),
        panics: panics
            .into_iter()
            .map(|(name, message)| format!("{name} panicked at {message}"))
            .collect(),
        culprit,
        unreported,
    };
    let explained = crash.explain();
    let died_in = crash.culprit.as_deref().map_or_else(
        || {
            format!(
                "did not run: the process for {} ended first (see the test that did)",
                crash.target
            )
        },
        |c| {
            format!(
                "did not run: the process for {} ended in `{c}` first",
                crash.target
            )
        },
    );
    tests.extend(crash.unreported.iter().map(|name| {
        let guilty = crash.culprit.as_ref() == Some(name) || crash.culprit.is_none();
        TestOutcome {
            name: name.clone(),
            passed: false,
            message: Some(if guilty {
                explained.clone()
            } else {
                died_in.clone()
            }),
            not_run: !guilty,
        }
    }));
    BinaryRun {
        tests,
        crash: Some(crash),
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
        not_run: false,
    })
}

/// The lines a dying process wrote to stderr that are not part of a panic
/// report: `memory allocation of … failed`, `fatal runtime error: …`.
fn stderr_notes(stderr: &str) -> Vec<String> {
    let mut notes = Vec::new();
    let mut in_panic = false;
    for line in stderr.lines() {
        if line.starts_with("thread '") && line.contains("panicked at") {
            in_panic = true;
            continue;
        }
        if line.trim().is_empty() {
            in_panic = false;
            continue;
        }
        let noise = line.starts_with("note: ")
            || line.starts_with("stack backtrace")
            || line.starts_with("thread caused non-unwinding panic")
            || line.starts_with("   ");
        if !in_panic && !noise {
            notes.push(line.trim().to_owned());
        }
    }
    notes
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
    // A test may panic on purpose, or make the code under test panic and
    // catch it, before it fails; a scoped thread's panic is repeated as "a
    // scoped thread panicked", and a joined thread's as `Any { .. }`. So:
    // an unfinished `todo!()` if there is one; else the last assertion of
    // the tests file that is none of those; else the first panic that is
    // none of those.
    let panics: Vec<(&str, &str)> = section
        .split("panicked at ")
        .skip(1)
        .map(|rest| {
            rest.split_once('\n')
                .map_or(("", ""), |(at, msg)| (at.trim_end_matches(':'), msg))
        })
        .collect();
    let first_line = |msg: &str| msg.lines().next().unwrap_or("").to_owned();
    let incidental = |msg: &str| {
        let first = first_line(msg);
        first.contains("on purpose")
            || first.starts_with("a scoped thread panicked")
            || first.contains("Any { .. }")
    };
    let in_tests = |at: &str| at.starts_with("tests/") || at.contains("/tests/");
    let (location, after_panic) = panics
        .iter()
        .find(|(_, msg)| first_line(msg).starts_with("not yet implemented"))
        .or_else(|| {
            panics
                .iter()
                .rev()
                .find(|(at, msg)| in_tests(at) && !incidental(msg))
        })
        .or_else(|| panics.iter().find(|(_, msg)| !incidental(msg)))
        .or(panics.first())
        .copied()
        .unwrap_or(("", section));
    let message: Vec<&str> = after_panic
        .lines()
        .take_while(|l| {
            !l.starts_with("note: ")
                && !l.starts_with("stack backtrace")
                && !l.starts_with("thread '")
        })
        .collect();
    let mut message = message.join("\n").trim().to_owned();
    // An assertion in a test explains itself; a panic anywhere else (an
    // overflow, an index out of bounds, an unwrap) needs its place.
    if !location.is_empty() && !location.starts_with("tests/") && !location.contains("/tests/") {
        message.push_str(&format!("\n(it panicked at {location}, outside the tests)"));
    }
    (!message.is_empty()).then_some(message)
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

    fn output(stdout: &str, status: Ended, listed: &[&str]) -> BinaryOutput {
        BinaryOutput {
            stdout: stdout.to_owned(),
            stderr: String::new(),
            status,
            listed: listed.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn results_and_failure_messages_are_read_from_libtest_output() {
        let run = parse_binary("tests/x.rs", &output(STDOUT, Ended::Exited, &[]));
        assert_eq!(
            run.tests.len(),
            2,
            "ignored tests are not counted: {:?}",
            run.tests
        );
        assert!(run.crash.is_none());
        let failed: Vec<_> = run.tests.iter().filter(|t| !t.passed).collect();
        assert_eq!(failed[0].name, "beta");
        assert_eq!(
            failed[0].message.as_deref(),
            Some("the pool had 4 blocks and 4 are in use,\nso alloc() must return None")
        );
    }

    #[test]
    fn a_panic_on_purpose_before_the_failure_is_not_the_failure() {
        let stdout = "running 1 test\ntest t ... FAILED\n\nfailures:\n\n---- t stdout ----\n\
            thread 't' panicked at tests/x.rs:3:9:\nthe factory panics on purpose\n\
            thread 't' panicked at tests/x.rs:9:5:\nassertion failed: the real reason\n\
            note: run with `RUST_BACKTRACE=1`\n\nfailures:\n    t\n";
        assert_eq!(
            failure_message(stdout, "t").as_deref(),
            Some("assertion failed: the real reason")
        );
        let caught = "---- t stdout ----\nthread 't' panicked at src/lib.rs:3:9:\n\
            the pool could not allocate\nthread 't' panicked at tests/x.rs:9:5:\n\
            a get that panicked counts nothing\n\nfailures:\n";
        assert_eq!(
            failure_message(caught, "t").as_deref(),
            Some("a get that panicked counts nothing")
        );
        let stub = "---- t stdout ----\nthread '<unnamed>' panicked at src/lib.rs:3:9:\n\
            not yet implemented: the contract\nthread 't' panicked at tests/x.rs:9:5:\n\
            the thread exits normally: Any { .. }\n\nfailures:\n";
        assert!(
            failure_message(stub, "t")
                .unwrap()
                .starts_with("not yet implemented: the contract")
        );
        let scoped = "---- t stdout ----\nthread '<unnamed>' panicked at tests/x.rs:5:1:\n\
            the thread's reason\nthread 't' panicked at /rustc/std/src/thread/scoped.rs:1:1:\n\
            a scoped thread panicked\n\nfailures:\n";
        assert_eq!(
            failure_message(scoped, "t").as_deref(),
            Some("the thread's reason")
        );
    }

    #[test]
    fn a_panic_outside_the_tests_keeps_its_location() {
        let stdout = "\
running 1 test
test overflow ... FAILED

failures:

---- overflow stdout ----

thread 'overflow' panicked at src/lib.rs:42:17:
attempt to add with overflow
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace


failures:
    overflow

test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out
";
        let run = parse_binary("tests/x.rs", &output(stdout, Ended::Exited, &[]));
        assert_eq!(
            run.tests[0].message.as_deref(),
            Some(
                "attempt to add with overflow\n(it panicked at src/lib.rs:42:17, outside the tests)"
            )
        );
    }

    #[test]
    fn a_binary_stopped_at_the_limit_names_the_tests_that_never_reported() {
        let stdout = "running 3 tests\ntest alpha ... ok\n";
        let run = parse_binary(
            "tests/x.rs",
            &output(
                stdout,
                Ended::TimedOut(Duration::from_secs(5)),
                &["alpha", "hangs", "never_started"],
            ),
        );
        let crash = run.crash.expect("a timeout is reported");
        assert_eq!(crash.status, "timed out after 5 s");
        assert_eq!(crash.unreported, ["hangs", "never_started"]);
        assert!(
            crash.explain().contains("never finishes"),
            "{}",
            crash.explain()
        );
        let names: Vec<(&str, bool)> = run
            .tests
            .iter()
            .map(|t| (t.name.as_str(), t.passed))
            .collect();
        assert_eq!(
            names,
            [("alpha", true), ("hangs", false), ("never_started", false)]
        );

        // Run again on one thread, the first test that hangs is named as such.
        let output = output(
            stdout,
            Ended::TimedOut(Duration::from_secs(5)),
            &["alpha", "hangs", "never_started"],
        );
        let run = parse_binary_with_culprit("tests/x.rs", &output, Some("hangs".into()));
        let explained = run.crash.expect("a timeout is reported").explain();
        assert!(
            explained.contains("`hangs` never finished")
                && explained.contains("first test of that file that hangs")
                && explained.contains("1 other test(s) never reported"),
            "{explained}"
        );
    }

    #[test]
    fn the_test_a_one_thread_run_started_last_is_the_culprit() {
        let stdout = "running 3 tests\ntest alpha ... ok\ntest beta ... \n";
        assert_eq!(last_started(stdout).as_deref(), Some("beta"));
        assert_eq!(last_started("running 1 test\ntest alpha ... ok\n"), None);

        let output = BinaryOutput {
            stdout: "running 3 tests\ntest alpha ... ok\n".to_owned(),
            stderr: "memory allocation of 1152921504606846976 bytes failed\n".to_owned(),
            status: Ended::Failed("signal 6 (SIGABRT)".to_owned()),
            listed: vec!["alpha".into(), "beta".into(), "gamma".into()],
        };
        let run = parse_binary_with_culprit("tests/x.rs", &output, Some("beta".into()));
        let crash = run.crash.expect("an abort is a crash");
        assert_eq!(
            crash.notes,
            ["memory allocation of 1152921504606846976 bytes failed"]
        );
        assert!(
            crash.explain().contains("allocation fails"),
            "an out-of-memory abort is explained as such: {}",
            crash.explain()
        );
        let beta = run.tests.iter().find(|t| t.name == "beta").unwrap();
        let gamma = run.tests.iter().find(|t| t.name == "gamma").unwrap();
        assert!(!beta.passed && !beta.not_run, "the culprit failed");
        assert!(!gamma.passed && gamma.not_run, "gamma never ran");
        assert!(
            gamma
                .message
                .as_deref()
                .unwrap()
                .contains("ended in `beta`")
        );
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_command_past_its_limit_is_stopped_with_what_it_started() {
        let pid_file =
            std::env::temp_dir().join(format!("workbook-grandchild-{}", std::process::id()));
        // The `sleep` does not hold the output pipes, so the call returns as
        // soon as `sh` is stopped, whether or not the `sleep` was stopped too.
        let script = format!(
            "sleep 30 >/dev/null 2>&1 & echo $! > {}; wait",
            pid_file.display()
        );
        let output = output_within(
            Command::new("sh").args(["-c", &script]),
            Duration::from_millis(300),
        )
        .unwrap();
        assert!(output.is_none(), "the command is reported as stopped");
        let grandchild = std::fs::read_to_string(&pid_file).unwrap();
        let _ = std::fs::remove_file(&pid_file);
        // Gone, or dead and waiting to be reaped: not running, not sleeping.
        let state = std::fs::read_to_string(format!("/proc/{}/stat", grandchild.trim()))
            .ok()
            .and_then(|stat| stat.rsplit_once(") ").map(|(_, rest)| rest.chars().next()))
            .flatten();
        assert!(
            matches!(state, None | Some('Z' | 'X')),
            "the command's own child (the `sleep`) must be stopped with it, but its state is {state:?}"
        );
        let output = output_within(
            Command::new("sh").args(["-c", "echo hi"]),
            Duration::from_secs(30),
        )
        .unwrap()
        .expect("a quick command finishes");
        assert_eq!(output.stdout, b"hi\n");
    }

    #[test]
    fn test_executables_are_read_from_cargos_json_messages() {
        let json = r#"{"reason":"compiler-artifact","profile":{"test":true},"executable":"/t/deps/heap-1","manifest_path":"/w/ex/Cargo.toml","target":{"kind":["test"],"src_path":"/w/ex/tests/heap.rs"}}
{"reason":"compiler-artifact","profile":{"test":false},"executable":null,"manifest_path":"/w/ex/Cargo.toml","target":{"kind":["lib"],"src_path":"/w/ex/src/lib.rs"}}
{"reason":"build-finished","success":true}"#;
        let binaries = test_binaries(json);
        assert_eq!(binaries.len(), 1, "{binaries:?}");
        assert_eq!(binaries[0].target, "tests/heap.rs");
        assert_eq!(binaries[0].executable, Path::new("/t/deps/heap-1"));
        assert_eq!(binaries[0].package_dir, Path::new("/w/ex"));
    }

    #[test]
    fn compiler_errors_leave_out_cargos_summary() {
        let stderr = "\
   Compiling exercise v0.1.0
error[E0308]: mismatched types
 --> src/lib.rs:3:5
  |
3 |     1u8
  |     ^^^ expected `usize`, found `u8`

error: could not compile `exercise` (lib) due to 1 previous error
";
        let error = compiler_errors(stderr);
        assert!(
            error.starts_with("error[E0308]: mismatched types"),
            "{error}"
        );
        assert!(error.contains("expected `usize`"), "{error}");
        assert!(
            !error.contains("could not compile"),
            "cargo's summary is noise: {error}"
        );
    }
}
