//! `cargo run -- check NN`: the chapter's tests, one line each, the first failure in full.

use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use workbook::chapters::Chapter;
use workbook::testrun;
use workbook::ui::Style;

/// `cargo run -- check NN`: one line per test, the first failure in full.
pub fn check(root: &Path, style: Style, chapter: &Chapter) -> Result<bool> {
    println!(
        "{}",
        style.bold(&format!(
            "Checking chapter {} ({}): {}",
            chapter.number,
            chapter.title,
            chapter.exercise_lib().display()
        ))
    );
    style.progress(0, 1, "compiling and running the tests");
    let started = Instant::now();
    let mut run = testrun::run(root, &chapter.exercise_package())?;
    style.clear_progress();
    run.sort_by_declaration(&root.join(chapter.exercise_dir()).join("tests"));

    if let Some(error) = &run.build_error {
        println!(
            "\n{}\n\n{error}\n",
            style.bad("Your crate does not compile yet:")
        );
        println!("Fix the first error above, then check again.");
        return Ok(false);
    }
    for test in &run.tests {
        let ended_in = run
            .crashes
            .iter()
            .find(|c| c.culprit.as_deref() == Some(test.name.as_str()));
        let mark = match ended_in {
            _ if test.passed => style.good("✓ passed"),
            _ if test.not_run => style.dim("· not run"),
            Some(crash) if crash.timed_out() => style.bad("✗ hung   "),
            Some(_) => style.bad("✗ crashed"),
            None => style.bad("✗ failed"),
        };
        println!("  {mark}  {}", test.name);
    }
    // A crash that no test can be blamed for gets a line of its own.
    for crash in run.crashes.iter().filter(|c| c.culprit.is_none()) {
        let what = if crash.timed_out() {
            "✗ hung"
        } else {
            "✗ crashed"
        };
        println!(
            "  {}  {} did not finish ({})",
            style.bad(what),
            crash.target,
            crash.status,
        );
    }
    let total = run.total();
    let passed = run.passed();
    println!(
        "\n{passed} of {total} tests pass {}",
        style.dim(&format!("({:.1} s)", started.elapsed().as_secs_f64()))
    );
    let crash_without_test = run
        .crashes
        .iter()
        .find(|c| c.culprit.is_none() && c.unreported.is_empty())
        .map(|c| (format!("the test process for {}", c.target), c.explain()));
    let first = run
        .failures()
        .find(|t| !t.not_run)
        .or_else(|| run.failures().next())
        .map(|t| {
            let message = t.message.clone().unwrap_or_else(|| {
                format!(
                    "(the test printed no message; `cargo test -p {} -- --exact {}` shows its \
                     whole output)",
                    chapter.exercise_package(),
                    t.name
                )
            });
            (t.name.clone(), message)
        })
        .or(crash_without_test);
    if let Some((name, message)) = first {
        println!("\n{} {name}\n", style.bad("First failure:"));
        for line in message.lines() {
            println!("    {line}");
        }
        println!(
            "\nStuck? {} shows a hint; {} re-checks on every save.",
            style.bold(&format!("cargo run -- hint {}", chapter.number)),
            style.bold(&format!("cargo run -- watch {}", chapter.number))
        );
        return Ok(false);
    }
    if total == 0 {
        println!("{}", style.bad("No test ran; is the tests/ folder intact?"));
        return Ok(false);
    }
    println!("{} Every test passes. Next:", style.good("Chapter done!"));
    let has_unsafe = std::fs::read_to_string(root.join(chapter.exercise_lib()))
        .is_ok_and(|source| source.contains("unsafe "));
    let mut step = 1;
    if has_unsafe {
        println!(
            "  {step}. let Miri check your `unsafe` code: {}\n     (some undefined behaviour passes every test natively; only Miri sees it)",
            style.bold(&format!(
                "cargo +nightly miri test -p {}",
                chapter.exercise_package()
            ))
        );
        step += 1;
    }
    println!(
        "  {step}. read the solution walkthrough: {} (in the book: {})",
        style.bold(&chapter.solution_page().display().to_string()),
        style.bold("cargo run -- book")
    );
    println!(
        "  {}. measure your crate beside the solution: {}",
        step + 1,
        style.bold(&format!("cargo run -- compare {}", chapter.number))
    );
    Ok(true)
}
