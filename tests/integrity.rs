//! The workbook holds together: every chapter has its files, exercise and
//! solution run the same tests and declare the same API, the exercises are
//! still stubs, and every `{{#include}}` in the book resolves.
//! (`cargo run -- verify` runs these and, in addition, compiles and runs both crates.)

use workbook::{integrity, workspace_root};

#[test]
fn the_workbook_passes_its_static_checks() {
    let problems = integrity::check_all(&workspace_root());
    assert!(
        problems.is_empty(),
        "the workbook has {} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}
