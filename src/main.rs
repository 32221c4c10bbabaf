//! `cargo run`: the workbook's companion. Shows where you stand, checks your
//! exercises, gives hints, re-checks on save, and verifies the workbook itself.

//!
//! Each command lives in its own module under `src/commands/`, named as on
//! the command line; this file is the command line and the dispatch.

mod commands;

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use commands::{
    book, check, compare, grade, hint, learner_copy, measured, profile, status, stub, verify, watch,
};
use workbook::chapters::{CHAPTERS, Chapter};
use workbook::ui::Style;
use workbook::workspace_root;

/// Memory Pools in Rust: the workbook runner.
///
/// Run it with no command to see every chapter's status and your next step.
/// Work a chapter like this: read its page in the book, fill in the todo!()s in
/// exercises/NN-name/src/lib.rs, and run `cargo run -- check NN` (or keep
/// `cargo run -- watch NN` open) until every test passes.
#[derive(Parser)]
#[command(name = "cargo run --", bin_name = "cargo run --", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run chapter NN's tests against your exercise and show what passed
    Check {
        /// The chapter number, e.g. 01
        chapter: String,
    },
    /// Show the next hint for chapter NN (hints go from gentle to explicit)
    Hint {
        /// The chapter number, e.g. 01
        chapter: String,
        /// Show every hint at once
        #[arg(long)]
        all: bool,
        /// Start again from the first hint
        #[arg(long)]
        reset: bool,
    },
    /// Re-check a chapter every time you save one of its files (Ctrl-C to stop)
    Watch {
        /// The chapter number; the first unfinished chapter if left out
        chapter: Option<String>,
    },
    /// Your crate beside the solution: tests, allocs/op, B/op and ns/op, measured in one run
    Compare {
        /// The chapter number, e.g. 01
        chapter: String,
        /// Run your tests under Miri too (slow: minutes)
        #[arg(long)]
        miri: bool,
        /// Criterion's measurement time per bench row, in seconds
        #[arg(long, default_value_t = 3)]
        seconds: u64,
    },
    /// Instructors: compare every chapter each learner touched with the solution;
    /// writes target/workbook/grade/summary.md and summary.csv
    Grade {
        /// Learners' checkouts, or their exercises/ folders
        #[arg(required = true)]
        paths: Vec<std::path::PathBuf>,
        /// Run each learner's tests under Miri too (slow)
        #[arg(long)]
        miri: bool,
        /// Criterion's measurement time per bench row, in seconds
        #[arg(long, default_value_t = 2)]
        seconds: u64,
        /// The longest one test binary may run before it counts as timed out, in seconds
        #[arg(long, default_value_t = 60)]
        time_limit: u64,
    },
    /// Maintainers: a copy of the workbook for a learner check, with every
    /// solution stubbed out and chapter NN's lesson expanded into DEST/LESSON.md
    LearnerCopy {
        /// The chapter number, e.g. 01
        chapter: String,
        /// Where to write the copy (replaced if it exists)
        dest: std::path::PathBuf,
    },
    /// Maintainers: a dhat heap profile of chapter NN's report workload, for DHAT's viewer
    HeapProfile {
        /// The chapter number, e.g. 02
        chapter: String,
    },
    /// Maintainers: a flamegraph SVG of one bench id, sampled with perf
    Flamegraph {
        /// The criterion group, e.g. custom_allocators
        group: String,
        /// The bench id, e.g. size_class_allocator
        id: String,
        /// How long to sample, in seconds
        #[arg(long, default_value_t = 5)]
        seconds: u64,
    },
    /// Build the book and open it in your browser (needs mdbook: `cargo install mdbook --locked`)
    Book {
        /// Serve it at http://localhost:3000 instead, rebuilt on every save
        #[arg(long)]
        serve: bool,
    },
    /// Maintainers: every solution passes, every exercise is still a stub, the
    /// book's includes resolve (CI runs this)
    Verify,
    /// Maintainers: print chapter NN's exercise as generated from its solution
    /// and solutions/NN-name/stubs.txt; --write replaces the exercise with it
    Stub {
        /// The chapter number, e.g. 01
        chapter: String,
        /// Overwrite exercises/NN-name/src/lib.rs (a learner's work there is lost)
        #[arg(long)]
        write: bool,
    },
    /// Maintainers: write book/src/measured/GROUP.md from `cargo bench --bench GROUP`
    BenchTable {
        /// The criterion group, which is also the bench's name, e.g. custom_allocators
        group: String,
    },
    /// Maintainers: count instructions per bump allocation with valgrind and
    /// write book/src/measured/bump_instructions.md
    CountInstructions,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let style = Style::detect();
    let root = workspace_root();
    let outcome = match cli.command {
        None => status::status(&root, style),
        Some(Command::Check { chapter }) => {
            chapter_arg(&chapter).and_then(|c| check::check(&root, style, c))
        }
        Some(Command::Hint {
            chapter,
            all,
            reset,
        }) => chapter_arg(&chapter).and_then(|c| hint::hint(&root, style, c, all, reset)),
        Some(Command::Watch { chapter }) => watch::watch(&root, style, chapter.as_deref()),
        Some(Command::Compare {
            chapter,
            miri,
            seconds,
        }) => chapter_arg(&chapter).and_then(|c| compare::compare(&root, style, c, miri, seconds)),
        Some(Command::Grade {
            paths,
            miri,
            seconds,
            time_limit,
        }) => grade::grade(&root, style, &paths, miri, seconds, time_limit),
        Some(Command::LearnerCopy { chapter, dest }) => {
            chapter_arg(&chapter).and_then(|c| learner_copy::learner_copy(&root, style, c, &dest))
        }
        Some(Command::HeapProfile { chapter }) => {
            chapter_arg(&chapter).and_then(|c| profile::heap_profile(&root, style, c))
        }
        Some(Command::Flamegraph { group, id, seconds }) => {
            profile::flamegraph(&root, style, &group, &id, seconds)
        }
        Some(Command::Book { serve }) => book::book(&root, style, serve),
        Some(Command::Verify) => verify::verify(&root, style),
        Some(Command::BenchTable { group }) => measured::bench_table(&root, &group),
        Some(Command::CountInstructions) => measured::count_instructions(&root),
        Some(Command::Stub { chapter, write }) => {
            chapter_arg(&chapter).and_then(|c| stub::stub(&root, c, write))
        }
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("{} {err:#}", style.bad("error:"));
            ExitCode::FAILURE
        }
    }
}

/// The chapter a command-line argument names, or an error listing the chapters.
fn chapter_arg(query: &str) -> Result<&'static Chapter> {
    Chapter::find(query).with_context(|| {
        let known: Vec<&str> = CHAPTERS.iter().map(|c| c.number).collect();
        format!("there is no chapter {query:?}; the chapters with exercises are {known:?}")
    })
}
