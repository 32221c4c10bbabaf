//! `cargo run -- verify`: the maintainers' check that CI runs.

use std::path::Path;

use anyhow::Result;
use workbook::chapters::CHAPTERS;
use workbook::integrity;
use workbook::testrun;
use workbook::ui::Style;

/// `cargo run -- verify`: the maintainers' check that CI runs.
pub fn verify(root: &Path, style: Style) -> Result<bool> {
    let mut ok = true;
    let mut report = |passed: bool, what: String, detail: Option<String>| {
        let mark = if passed {
            style.good("✓")
        } else {
            style.bad("✗")
        };
        println!("{mark} {what}");
        if let Some(detail) = detail.filter(|_| !passed) {
            for line in detail.lines() {
                println!("    {line}");
            }
        }
        ok &= passed;
    };

    let problems = integrity::check_workbook(root);
    report(
        problems.is_empty(),
        "workbook: chapter files, shared tests, complete solutions, book includes".into(),
        Some(problems.join("\n")),
    );
    let problems = integrity::check_exercises_are_pristine(root);
    report(
        problems.is_empty(),
        "exercises: generated from their solutions, with the same public API".into(),
        Some(problems.join("\n")),
    );

    for chapter in CHAPTERS {
        let n = chapter.number;
        let solution = testrun::run_with(
            root,
            &chapter.solution_package(),
            testrun::Options {
                doc_tests: true,
                ..testrun::Options::default()
            },
        )?;
        let failed: Vec<String> = solution.failures().map(|t| t.name.clone()).collect();
        report(
            solution.all_passed(),
            format!(
                "chapter {n}: the solution passes all {} tests",
                solution.tests.len()
            ),
            Some(
                solution
                    .build_error
                    .clone()
                    .unwrap_or_else(|| failed.join("\n")),
            ),
        );

        let exercise = testrun::run(root, &chapter.exercise_package())?;
        report(
            exercise.build_error.is_none() && exercise.warnings.is_empty(),
            format!("chapter {n}: the exercise compiles with no warnings"),
            Some(
                exercise
                    .build_error
                    .clone()
                    .unwrap_or_else(|| exercise.warnings.join("\n")),
            ),
        );
        report(
            exercise.crashes.is_empty(),
            format!("chapter {n}: no exercise test binary crashes"),
            Some(
                exercise
                    .crashes
                    .iter()
                    .map(testrun::Crash::explain)
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
        );
        let not_stubbed: Vec<String> = exercise
            .tests
            .iter()
            .filter(|t| {
                t.passed
                    || !t
                        .message
                        .as_deref()
                        .unwrap_or("")
                        .contains("not yet implemented")
            })
            .map(|t| format!("{}: {}", t.name, t.message.as_deref().unwrap_or("passed")))
            .collect();
        report(
            !exercise.tests.is_empty() && not_stubbed.is_empty(),
            format!(
                "chapter {n}: all {} exercise tests fail with \"not yet implemented\"",
                exercise.tests.len()
            ),
            Some(not_stubbed.join("\n")),
        );
    }

    println!();
    if ok {
        println!("{}", style.good("verify: everything holds"));
    } else {
        println!("{}", style.bad("verify: some checks failed (see ✗ above)"));
    }
    Ok(ok)
}
