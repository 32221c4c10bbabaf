//! The workbook runner's library: what the `workbook` binary (`cargo run`)
//! and the workbook-level tests share.
//!
//! - [`chapters`]: the chapters that have an exercise, and where their files live;
//! - [`testrun`]: runs a crate's tests with cargo and reads the results;
//! - [`charts`]: SVG charts of measured data (plotters);
//! - [`compare`]: a learner's crate beside the solution, measured in one run;
//! - [`integrity`]: the static checks of `cargo run -- verify` (shared tests,
//!   matching public APIs, book includes that resolve);
//! - [`profiles`]: a dhat heap profile of a report, a flamegraph of a bench id;
//! - [`scratch`]: copies of the workbook for grading and learner checks;
//! - [`stubs`]: generates each exercise from its solution;
//! - [`benchtable`]: turns criterion's measurements into the book's tables;
//! - [`instructions`]: counts instructions with valgrind, for what time cannot settle;
//! - [`ui`]: colour, symbols and the progress bar.

pub mod benchtable;
pub mod chapters;
pub mod charts;
pub mod compare;
pub mod instructions;
pub mod integrity;
pub mod profiles;
pub mod scratch;
pub mod stubs;
pub mod testrun;
pub mod ui;

use std::path::{Path, PathBuf};

/// The workspace root: the directory holding the workbook's `Cargo.toml`.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A `cargo` command run in the workspace at `root`, without colour: the
/// cargo that runs the runner, when there is one.
pub fn cargo(root: &Path) -> std::process::Command {
    let mut command =
        std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(root).env("CARGO_TERM_COLOR", "never");
    command
}

/// The files directly in `dir` whose extension is `extension`, sorted; none
/// when `dir` cannot be read.
pub fn files_with_extension(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.is_file() && path.extension().is_some_and(|e| e == extension))
        .collect();
    files.sort();
    files
}
