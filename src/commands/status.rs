//! `cargo run`: every chapter's status and the learner's next step.

use std::path::Path;

use anyhow::Result;
use workbook::chapters::CHAPTERS;
use workbook::testrun::{self, TestRun};
use workbook::ui::Style;

/// Where a learner stands in one chapter.
pub enum Progress {
    NotStarted { total: usize },
    Started { passed: usize, total: usize },
    Done { total: usize },
    DoesNotBuild,
}

impl Progress {
    fn of(run: &TestRun) -> Self {
        let total = run.total();
        match run.passed() {
            _ if run.build_error.is_some() || total == 0 => Self::DoesNotBuild,
            0 => Self::NotStarted { total },
            passed if passed == total => Self::Done { total },
            passed => Self::Started { passed, total },
        }
    }

    fn describe(&self, style: Style) -> String {
        match *self {
            Self::NotStarted { total } => {
                style.dim(&format!("not started (0 of {total} tests pass)"))
            }
            Self::Started { passed, total } => {
                style.warn(&format!("{passed} of {total} tests passing"))
            }
            Self::Done { total } => style.good(&format!("done ({total} of {total} tests pass)")),
            Self::DoesNotBuild => style.bad("does not compile"),
        }
    }

    fn is_done(&self) -> bool {
        matches!(self, Self::Done { .. })
    }
}

/// `cargo run`: a table of every chapter and the one next step.
pub fn status(root: &Path, style: Style) -> Result<bool> {
    println!("{}\n", style.bold("Memory Pools in Rust: your progress"));
    let mut rows = Vec::new();
    for (i, chapter) in CHAPTERS.iter().enumerate() {
        style.progress(
            i,
            CHAPTERS.len(),
            &format!("checking chapter {}", chapter.number),
        );
        let run = testrun::run(root, &chapter.exercise_package())?;
        rows.push((chapter, Progress::of(&run)));
    }
    style.clear_progress();

    for (chapter, progress) in &rows {
        println!(
            "  {}  {:<22} {}",
            chapter.number,
            chapter.title,
            progress.describe(style)
        );
    }
    println!();
    match rows.iter().find(|(_, p)| !p.is_done()) {
        Some((chapter, progress)) => {
            println!("{}", style.bold("Next step:"));
            if matches!(progress, Progress::NotStarted { .. }) {
                println!(
                    "  1. read the lesson: {} (in the built book: `cargo run -- book`)",
                    style.bold(&chapter.book_page().display().to_string())
                );
                println!(
                    "  2. fill in the todo!()s in {}",
                    style.bold(&chapter.exercise_lib().display().to_string())
                );
                println!(
                    "  3. run {} until every test passes",
                    style.bold(&format!("cargo run -- check {}", chapter.number))
                );
            } else {
                println!(
                    "  keep going in {}: run {} to see what still fails, or {} for a hint",
                    style.bold(&chapter.exercise_lib().display().to_string()),
                    style.bold(&format!("cargo run -- check {}", chapter.number)),
                    style.bold(&format!("cargo run -- hint {}", chapter.number))
                );
            }
        }
        None => {
            println!("{}", style.good("Every chapter is done. Well done!"));
            println!(
                "  Measure your pools beside the solutions, one chapter at a time: {}",
                style.bold("cargo run -- compare NN")
            );
        }
    }
    Ok(true)
}
