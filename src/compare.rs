//! A learner's crate beside the solution, measured in one run: tests passed,
//! optionally Miri, and per bench row ns/op, allocs/op and B/op. Shared by
//! `cargo run -- compare NN` and `cargo run -- grade`.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};

use crate::benchtable::{self, per_op};
use crate::cargo;
use crate::chapters::Chapter;
use crate::testrun::{self, TestRun};

/// How to compare.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Run Miri on the learner's tests too (slow: minutes).
    pub miri: bool,
    /// Criterion's measurement time per bench row.
    pub measurement: Duration,
    /// The longest one test binary may run.
    pub time_limit: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            miri: false,
            measurement: Duration::from_secs(3),
            time_limit: Duration::from_secs(60),
        }
    }
}

/// One crate's tests, summed up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tests {
    /// Tests that passed.
    pub passed: usize,
    /// All tests, including those a crash or a hang kept from reporting.
    pub total: usize,
    /// Test binaries stopped at the time limit.
    pub timed_out: usize,
    /// Test binaries that crashed.
    pub crashed: usize,
    /// The compiler's first error, when the crate does not build.
    pub build_error: Option<String>,
}

impl Tests {
    fn of(run: &TestRun) -> Self {
        Self {
            passed: run.passed(),
            total: run.total(),
            timed_out: run.crashes.iter().filter(|c| c.timed_out()).count(),
            crashed: run.crashes.iter().filter(|c| !c.timed_out()).count(),
            build_error: run
                .build_error
                .as_ref()
                .map(|e| e.lines().next().unwrap_or_default().to_owned()),
        }
    }

    /// `23 of 23`, `does not build`, `20 of 23, 1 timed out`.
    pub fn describe(&self) -> String {
        if self.build_error.is_some() {
            return "does not build".to_owned();
        }
        let mut text = format!("{} of {}", self.passed, self.total);
        let binaries = |n: usize| {
            if n == 1 {
                "test binary"
            } else {
                "test binaries"
            }
        };
        if self.timed_out > 0 {
            write!(
                text,
                ", {} {} timed out",
                self.timed_out,
                binaries(self.timed_out)
            )
            .ok();
        }
        if self.crashed > 0 {
            write!(
                text,
                ", {} {} crashed",
                self.crashed,
                binaries(self.crashed)
            )
            .ok();
        }
        text
    }

    /// Every test passed, nothing crashed or hung.
    pub fn all_passed(&self) -> bool {
        self.build_error.is_none()
            && self.timed_out == 0
            && self.crashed == 0
            && self.total > 0
            && self.passed == self.total
    }
}

/// One bench row, for the solution and the learner, from the same run.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The criterion group.
    pub group: String,
    /// The solution's id; the learner's is `learner/` + this.
    pub id: String,
    /// Median ns per operation: solution, learner (`None`: not measured).
    pub ns: (Option<f64>, Option<f64>),
    /// Heap allocations per operation: solution, learner.
    pub allocs: (Option<f64>, Option<f64>),
    /// Bytes allocated per operation: solution, learner.
    pub bytes: (Option<f64>, Option<f64>),
}

impl Row {
    /// Learner's time over the solution's: 1.0 is as fast, 2.0 twice as slow.
    pub fn ratio(&self) -> Option<f64> {
        Some(self.ns.1? / self.ns.0?)
    }
}

/// Everything `compare` found for one chapter.
#[derive(Debug, Clone)]
pub struct Report {
    /// The chapter number.
    pub chapter: String,
    /// The learner's exercise crate.
    pub learner: Tests,
    /// The reference solution.
    pub solution: Tests,
    /// Miri on the learner's tests: `None` when not asked for.
    pub miri: Option<bool>,
    /// Why the benches were not run or failed, if so.
    pub bench_note: Option<String>,
    /// The chapter's bench rows.
    pub rows: Vec<Row>,
}

/// Compares the learner's crate of `chapter` with its solution, in the
/// workspace at `root`. `progress` is told what is being done.
///
/// # Errors
/// When cargo cannot be started.
pub fn compare(
    root: &Path,
    chapter: &Chapter,
    options: Options,
    progress: &mut dyn FnMut(&str),
) -> Result<Report> {
    let test_options = testrun::Options {
        time_limit: options.time_limit,
        doc_tests: false,
    };
    progress("running the learner's tests");
    let learner = Tests::of(&testrun::run_with(
        root,
        &chapter.exercise_package(),
        test_options,
    )?);
    progress("running the solution's tests");
    let solution = Tests::of(&testrun::run_with(
        root,
        &chapter.solution_package(),
        test_options,
    )?);
    let miri = if options.miri {
        progress("running the learner's tests under Miri (slow)");
        let status = cargo(root)
            .args(["+nightly", "miri", "test", "--package"])
            .arg(chapter.exercise_package())
            .output()
            .context(
                "running cargo +nightly miri (rustup component add --toolchain nightly miri)",
            )?;
        Some(status.status.success())
    } else {
        None
    };

    let mut rows: Vec<Row> = chapter
        .learner_rows
        .iter()
        .map(|&(group, id)| Row {
            group: group.to_owned(),
            id: id.to_owned(),
            ns: (None, None),
            allocs: (None, None),
            bytes: (None, None),
        })
        .collect();
    let bench_note = if learner.build_error.is_some() {
        Some("not measured: the learner's crate does not build".to_owned())
    } else {
        measure(root, &mut rows, options, progress)
            .err()
            .map(|e| format!("{e:#}"))
    };
    Ok(Report {
        chapter: chapter.number.to_owned(),
        learner,
        solution,
        miri,
        bench_note,
        rows,
    })
}

/// Times and counts every row for the solution and the learner, in one
/// `cargo bench` run per group.
fn measure(
    root: &Path,
    rows: &mut [Row],
    options: Options,
    progress: &mut dyn FnMut(&str),
) -> Result<()> {
    let mut groups: Vec<String> = rows.iter().map(|r| r.group.clone()).collect();
    groups.dedup();
    for group in groups {
        let ids: Vec<&str> = rows
            .iter()
            .filter(|r| r.group == group)
            .map(|r| r.id.as_str())
            .collect();
        let filter = format!("^{group}/(learner/)?({})$", ids.join("|"));
        let started = SystemTime::now();
        progress(&format!(
            "timing {group} (solution and learner, in one run)"
        ));
        // Build first, with no limit; then run under one, so a learner's
        // loop that never ends stops the bench instead of the grading.
        let built = cargo(root)
            .args(["bench", "--no-run", "--features", "learner"])
            .args(["--bench", &group, "--bench", "alloc_counts"])
            .output()?;
        anyhow::ensure!(
            built.status.success(),
            "the benches do not build with the learner's crates:\n{}",
            last_lines(&String::from_utf8_lossy(&built.stderr), 15)
        );
        let timed_rows = 2 * ids.len() as u32;
        let limit =
            (Duration::from_secs(1) + options.measurement) * timed_rows * 3 + options.time_limit;
        let timed = testrun::output_within(
            cargo(root)
                .args(["bench", "--features", "learner", "--bench", &group, "--"])
                .args(["--warm-up-time", "1", "--measurement-time"])
                .arg(options.measurement.as_secs().max(1).to_string())
                .arg(&filter),
            limit,
        )?
        .with_context(|| {
            format!(
                "`cargo bench --bench {group}` ran past {} s and was stopped: does a learner's \
                 operation never return?",
                limit.as_secs()
            )
        })?;
        anyhow::ensure!(
            timed.status.success(),
            "`cargo bench --features learner --bench {group}` failed:\n{}",
            last_lines(&String::from_utf8_lossy(&timed.stderr), 15)
        );
        progress(&format!("counting allocations in {group}"));
        let counted = testrun::output_within(
            cargo(root)
                .args([
                    "bench",
                    "--features",
                    "learner",
                    "--bench",
                    "alloc_counts",
                    "--",
                ])
                .arg(&group),
            options.time_limit,
        )?
        .context("counting allocations ran past the time limit and was stopped")?;
        anyhow::ensure!(
            counted.status.success(),
            "`cargo bench --bench alloc_counts` failed:\n{}",
            last_lines(&String::from_utf8_lossy(&counted.stderr), 15)
        );
        let counts = benchtable::alloc_counts(root, &group);
        let fresh =
            |id: &str| benchtable::measured_at(root, &group, id).is_some_and(|t| t >= started);
        for row in rows.iter_mut().filter(|r| r.group == group) {
            let learner_id = format!("learner/{}", row.id);
            let ns = |id: &str| {
                fresh(id)
                    .then(|| benchtable::median_ns(root, &group, id).ok())
                    .flatten()
            };
            row.ns = (ns(&row.id), ns(&learner_id));
            let count = |id: &str| counts.get(id).copied();
            row.allocs = (count(&row.id).map(|c| c.0), count(&learner_id).map(|c| c.0));
            row.bytes = (count(&row.id).map(|c| c.1), count(&learner_id).map(|c| c.1));
        }
    }
    Ok(())
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

impl Report {
    /// The report as Markdown: the tests, then one table of the bench rows.
    pub fn to_markdown(&self) -> String {
        let mut page = String::new();
        let miri = match self.miri {
            None => "not run (add --miri)",
            Some(true) => "clean",
            Some(false) => "**reports errors**",
        };
        writeln!(page, "## Chapter {}: learner vs solution\n", self.chapter).ok();
        writeln!(page, "| | learner | solution |").ok();
        writeln!(page, "|---|---|---|").ok();
        writeln!(
            page,
            "| tests passed | {} | {} |",
            self.learner.describe(),
            self.solution.describe()
        )
        .ok();
        writeln!(page, "| Miri | {miri} | clean in CI |").ok();
        writeln!(page).ok();
        if let Some(note) = &self.bench_note {
            writeln!(page, "Benches: {note}").ok();
            return page;
        }
        writeln!(
            page,
            "| bench id | ns/op learner | ns/op solution | learner / solution | allocs/op learner | allocs/op solution | B/op learner | B/op solution |"
        )
        .ok();
        writeln!(page, "|---|---:|---:|---:|---:|---:|---:|---:|").ok();
        let ns = |v: Option<f64>| v.map_or("skipped".to_owned(), |v| format!("{v:.2}"));
        let count = |v: Option<f64>| v.map_or("—".to_owned(), per_op);
        for row in &self.rows {
            writeln!(
                page,
                "| `{}` | {} | {} | {} | {} | {} | {} | {} |",
                row.id,
                ns(row.ns.1),
                ns(row.ns.0),
                row.ratio().map_or("—".to_owned(), |r| format!("{r:.2}×")),
                count(row.allocs.1),
                count(row.allocs.0),
                count(row.bytes.1),
                count(row.bytes.0),
            )
            .ok();
        }
        writeln!(
            page,
            "\nAll figures from one run of `cargo bench --features learner` (times) and \
             `cargo bench --bench alloc_counts` (allocations). A learner row is \
             \"skipped\" when its setup panicked."
        )
        .ok();
        page
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_puts_the_learner_beside_the_solution() {
        let tests = |passed| Tests {
            passed,
            total: 23,
            timed_out: 0,
            crashed: 0,
            build_error: None,
        };
        let report = Report {
            chapter: "01".into(),
            learner: tests(23),
            solution: tests(23),
            miri: None,
            bench_note: None,
            rows: vec![Row {
                group: "custom_allocators".into(),
                id: "fixed_size_pool".into(),
                ns: (Some(2.0), Some(3.0)),
                allocs: (Some(0.0), Some(0.001)),
                bytes: (Some(0.0), Some(0.064)),
            }],
        };
        let page = report.to_markdown();
        assert!(
            page.contains("| tests passed | 23 of 23 | 23 of 23 |"),
            "{page}"
        );
        assert!(
            page.contains("| `fixed_size_pool` | 3.00 | 2.00 | 1.50× | 0.001 | 0 | 0.064 | 0 |"),
            "{page}"
        );
    }
}
