//! `cargo run -- grade PATH...`: every learner's touched chapters compared
//! with the solutions, in a scratch copy of the workbook, summed up in one
//! Markdown table and one CSV file.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use workbook::chapters::{CHAPTERS, Chapter};
use workbook::compare::{self, Options, Report};
use workbook::ui::Style;
use workbook::{scratch, stubs};

/// One learner's checkout, or their `exercises/` folder.
struct Learner {
    name: String,
    exercises: PathBuf,
}

impl Learner {
    fn find(path: &Path) -> Result<Self> {
        let path = path
            .canonicalize()
            .with_context(|| format!("{} does not exist", path.display()))?;
        let exercises = if path.join("exercises").is_dir() {
            path.join("exercises")
        } else {
            path.clone()
        };
        if !CHAPTERS
            .iter()
            .any(|c| exercises.join(c.dir_name()).is_dir())
        {
            bail!(
                "{} holds no chapter folder (such as 01-fixed-size-pool): is it a checkout or its exercises/?",
                path.display()
            );
        }
        let named = if exercises == path {
            path.parent().unwrap_or(&path)
        } else {
            &path
        };
        let name = named.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        Ok(Self { name, exercises })
    }

    /// The chapter's `src/` in the learner's folder, when they have filled in
    /// at least one `todo!()` (a checkout made before the workbook last
    /// changed still counts as untouched if every body is a `todo!()`).
    fn touched_src(&self, chapter: &Chapter, pristine: &str) -> Option<PathBuf> {
        let src = self.exercises.join(chapter.dir_name()).join("src");
        let theirs = fs::read_to_string(src.join("lib.rs")).ok()?;
        let todos = |text: &str| text.matches("todo!(").count();
        (theirs != pristine && todos(&theirs) < todos(pristine)).then_some(src)
    }
}

/// Grades every learner, writes `target/workbook/grade/summary.{md,csv}`.
pub fn grade(
    root: &Path,
    style: Style,
    paths: &[PathBuf],
    miri: bool,
    seconds: u64,
    limit: u64,
) -> Result<bool> {
    let learners = paths
        .iter()
        .map(|p| Learner::find(p))
        .collect::<Result<Vec<_>>>()?;
    let out = root.join("target/workbook/grade");
    let scratch = out.join("workbook");
    println!(
        "{}",
        style.bold(&format!("Grading {} learner(s)", learners.len()))
    );
    copy_workbook(root, &scratch)?;
    let pristine = pristine_exercises(root)?;
    let options = Options {
        miri,
        measurement: Duration::from_secs(seconds),
        time_limit: Duration::from_secs(limit),
    };
    let mut results: Vec<(String, &Chapter, Option<Report>)> = Vec::new();
    for learner in &learners {
        for chapter in CHAPTERS {
            let Some(src) = learner.touched_src(chapter, &pristine[chapter.number]) else {
                results.push((learner.name.clone(), chapter, None));
                continue;
            };
            println!("  {} chapter {}", learner.name, chapter.number);
            reset_exercises(&scratch, &pristine)?;
            let dest = scratch.join(chapter.exercise_dir()).join("src");
            fs::remove_dir_all(&dest)?;
            scratch::copy_dir(&src, &dest)?;
            let report = compare::compare(&scratch, chapter, options, &mut |step| {
                style.progress(
                    0,
                    1,
                    &format!("{} {}: {step}", learner.name, chapter.number),
                );
            })?;
            style.clear_progress();
            println!("    tests: {}", report.learner.describe());
            results.push((learner.name.clone(), chapter, Some(report)));
        }
    }
    reset_exercises(&scratch, &pristine)?;
    let (markdown, csv) = summary(&results);
    fs::write(out.join("summary.md"), &markdown)?;
    fs::write(out.join("summary.csv"), &csv)?;
    println!("\n{markdown}");
    println!(
        "{}",
        style.dim(&format!(
            "wrote {} and {}",
            out.join("summary.md").display(),
            out.join("summary.csv").display()
        ))
    );
    Ok(true)
}

/// The summary: one row per learner and chapter (and bench id).
fn summary(results: &[(String, &Chapter, Option<Report>)]) -> (String, String) {
    let mut md = String::from(
        "| learner | chapter | tests | Miri | bench id | ns/op learner / solution | allocs/op learner (solution) | B/op learner (solution) |\n\
         |---|---|---|---|---|---:|---:|---:|\n",
    );
    let mut csv = String::from(
        "learner,chapter,tests_passed,tests_total,timed_out,crashed,builds,miri,bench_id,\
         ns_learner,ns_solution,ratio,allocs_learner,allocs_solution,bytes_learner,bytes_solution\n",
    );
    let opt = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v}"));
    for (name, chapter, report) in results {
        let Some(report) = report else {
            writeln!(
                md,
                "| {name} | {} | not started | | | | | |",
                chapter.number
            )
            .ok();
            writeln!(csv, "{name},{},0,0,0,0,,,,,,,,,,", chapter.number).ok();
            continue;
        };
        let miri = match report.miri {
            None => "",
            Some(true) => "clean",
            Some(false) => "errors",
        };
        let tests = &report.learner;
        let rows: Vec<Option<&compare::Row>> =
            if report.rows.is_empty() || report.bench_note.is_some() {
                vec![None]
            } else {
                report.rows.iter().map(Some).collect()
            };
        for row in rows {
            let count = |v: Option<f64>| v.map_or("—".to_owned(), workbook::benchtable::per_op);
            let (id, ratio, allocs, bytes) = match row {
                Some(r) => (
                    format!("`{}`", r.id),
                    r.ratio().map_or("—".to_owned(), |x| format!("{x:.2}×")),
                    format!("{} ({})", count(r.allocs.1), count(r.allocs.0)),
                    format!("{} ({})", count(r.bytes.1), count(r.bytes.0)),
                ),
                None => (
                    report.bench_note.clone().unwrap_or_default(),
                    String::new(),
                    String::new(),
                    String::new(),
                ),
            };
            writeln!(
                md,
                "| {name} | {} | {} | {miri} | {id} | {ratio} | {allocs} | {bytes} |",
                chapter.number,
                tests.describe()
            )
            .ok();
            let r = row;
            writeln!(
                csv,
                "{name},{},{},{},{},{},{},{miri},{},{},{},{},{},{},{},{}",
                chapter.number,
                tests.passed,
                tests.total,
                tests.timed_out,
                tests.crashed,
                tests.build_error.is_none(),
                r.map_or(String::new(), |r| r.id.clone()),
                opt(r.and_then(|r| r.ns.1)),
                opt(r.and_then(|r| r.ns.0)),
                opt(r.and_then(compare::Row::ratio)),
                opt(r.and_then(|r| r.allocs.1)),
                opt(r.and_then(|r| r.allocs.0)),
                opt(r.and_then(|r| r.bytes.1)),
                opt(r.and_then(|r| r.bytes.0)),
            )
            .ok();
        }
    }
    (md, csv)
}

/// Copies the workbook to `scratch`, whose `target/` is shared between
/// gradings so dependencies build once.
fn copy_workbook(root: &Path, scratch: &Path) -> Result<()> {
    scratch::copy_workbook(root, scratch)?;
    let shared = root.join("target/workbook/grade-target");
    fs::create_dir_all(&shared)?;
    #[cfg(unix)]
    std::os::unix::fs::symlink(&shared, scratch.join("target"))?;
    Ok(())
}

/// Every chapter's exercise as generated from its solution, by number.
fn pristine_exercises(root: &Path) -> Result<BTreeMap<&'static str, String>> {
    CHAPTERS
        .iter()
        .map(|c| Ok((c.number, stubs::exercise_for(root, &c.dir_name())?)))
        .collect()
}

/// Puts every exercise of the scratch copy back to its generated stub.
fn reset_exercises(scratch: &Path, pristine: &BTreeMap<&'static str, String>) -> Result<()> {
    for chapter in CHAPTERS {
        let src = scratch.join(chapter.exercise_dir()).join("src");
        if src.exists() {
            fs::remove_dir_all(&src)?;
        }
        fs::create_dir_all(&src)?;
        fs::write(src.join("lib.rs"), &pristine[chapter.number])?;
    }
    Ok(())
}
