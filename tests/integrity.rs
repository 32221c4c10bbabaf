//! The workbook holds together: every chapter has its files, exercise and
//! solution run the same tests, the solutions are complete, and every
//! `{{#include}}` in the book resolves. These hold in a learner's checkout
//! too; `cargo run -- verify` adds the checks that need untouched exercises.

use workbook::{integrity, workspace_root};

#[test]
fn the_workbook_passes_its_static_checks() {
    let problems = integrity::check_workbook(&workspace_root());
    assert!(
        problems.is_empty(),
        "the workbook has {} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}
