//! `cargo run`: the workbook's companion. Shows where you stand, checks your
//! exercises, gives hints, re-checks on save, and verifies the workbook itself.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use workbook::chapters::{CHAPTERS, Chapter, hints_to_show, parse_hints};
use workbook::testrun::{self, TestRun};
use workbook::ui::Style;
use workbook::{benchtable, instructions, integrity, stubs, workspace_root};

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
        None => status(&root, style),
        Some(Command::Check { chapter }) => {
            chapter_arg(&chapter).and_then(|c| check(&root, style, c))
        }
        Some(Command::Hint {
            chapter,
            all,
            reset,
        }) => chapter_arg(&chapter).and_then(|c| hint(&root, style, c, all, reset)),
        Some(Command::Watch { chapter }) => watch(&root, style, chapter.as_deref()),
        Some(Command::Book { serve }) => book(&root, style, serve),
        Some(Command::Verify) => verify(&root, style),
        Some(Command::BenchTable { group }) => bench_table(&root, &group),
        Some(Command::CountInstructions) => count_instructions(&root),
        Some(Command::Stub { chapter, write }) => {
            chapter_arg(&chapter).and_then(|c| stub(&root, c, write))
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

fn chapter_arg(query: &str) -> Result<&'static Chapter> {
    Chapter::find(query).with_context(|| {
        let known: Vec<&str> = CHAPTERS.iter().map(|c| c.number).collect();
        format!("there is no chapter {query:?}; the chapters with exercises are {known:?}")
    })
}

/// Where a learner stands in one chapter.
enum Progress {
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
            passed if passed == total && !run.crashes.is_empty() => Self::Started { passed, total },
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
fn status(root: &Path, style: Style) -> Result<bool> {
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
                "  Compare your pools with the solutions: {}",
                style.bold("cargo bench --features learner")
            );
        }
    }
    Ok(true)
}

/// `cargo run -- check NN`: one line per test, the first failure in full.
fn check(root: &Path, style: Style, chapter: &Chapter) -> Result<bool> {
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
        let mark = if test.passed {
            style.good("✓ passed")
        } else {
            style.bad("✗ failed")
        };
        println!("  {mark}  {}", test.name);
    }
    for crash in &run.crashes {
        println!(
            "  {}  {}: the test process died ({}); {} more of its tests never reported",
            style.bad("✗ crashed"),
            crash.target,
            crash.status,
            crash.unfinished
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
        .find(|c| c.running.is_empty())
        .map(|c| (format!("the test process for {}", c.target), c.explain()));
    let first = run
        .failures()
        .next()
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
    println!(
        "{} Now read the solution walkthrough, {} (in the book: `cargo run -- book`),",
        style.good("Chapter done!"),
        style.bold(&chapter.solution_page().display().to_string()),
    );
    println!(
        "compare your crate with {}, and measure both side by side: {}.",
        style.bold(&chapter.solution_dir().display().to_string()),
        style.bold("cargo bench --features learner")
    );
    Ok(true)
}

/// `cargo run -- hint NN`: the next hint, remembered in `target/workbook/`.
fn hint(root: &Path, style: Style, chapter: &Chapter, all: bool, reset: bool) -> Result<bool> {
    let file = root.join(chapter.hints_file());
    let text = fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    let hints = parse_hints(&text);
    if hints.is_empty() {
        bail!("{} has no hints", file.display());
    }
    let state = root
        .join("target/workbook")
        .join(format!("hints-shown-{}", chapter.number));
    if reset {
        let _ = fs::remove_file(&state);
        println!(
            "Hints for chapter {} start again from the first.",
            chapter.number
        );
        return Ok(true);
    }
    let shown: usize = fs::read_to_string(&state)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    let range = hints_to_show(hints.len(), shown, all);
    for (i, hint) in hints.iter().enumerate().take(range.end).skip(range.start) {
        println!(
            "{}",
            style.bold(&format!("Hint {} of {}", i + 1, hints.len()))
        );
        println!("{hint}\n");
    }
    let next = range.end;
    if next < hints.len() {
        println!(
            "{}",
            style.dim(&format!(
                "Run the command again for hint {}; it is more explicit.",
                next + 1
            ))
        );
    } else {
        println!(
            "{}",
            style.dim(
                "That was the last hint. `--reset` starts again; the book page explains the idea."
            )
        );
    }
    fs::create_dir_all(state.parent().unwrap_or(root))?;
    fs::write(&state, next.to_string())?;
    Ok(true)
}

/// `cargo run -- watch [NN]`: re-check whenever a file of the exercise changes.
fn watch(root: &Path, style: Style, query: Option<&str>) -> Result<bool> {
    let chapter = match query {
        Some(q) => chapter_arg(q)?,
        None => first_unfinished(root)?,
    };
    let dir = root.join(chapter.exercise_dir());
    let mut seen = modification_times(&dir);
    loop {
        style.clear_screen();
        check(root, style, chapter)?;
        println!(
            "\n{}",
            style.dim(&format!(
                "Watching {} — save a file to check again, Ctrl-C to stop.",
                chapter.exercise_dir().display()
            ))
        );
        loop {
            std::thread::sleep(Duration::from_millis(300));
            let now = modification_times(&dir);
            if now != seen {
                seen = now;
                break;
            }
        }
    }
}

fn first_unfinished(root: &Path) -> Result<&'static Chapter> {
    for chapter in CHAPTERS {
        if !testrun::run(root, &chapter.exercise_package())?.all_passed() {
            return Ok(chapter);
        }
    }
    Ok(CHAPTERS.last().expect("the workbook has chapters"))
}

/// Every file under `dir` (but `target/`) with the time it was last changed.
fn modification_times(dir: &Path) -> BTreeMap<PathBuf, SystemTime> {
    let mut times = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                if !path.ends_with("target") {
                    pending.push(path);
                }
            } else if let Ok(modified) = entry.metadata().and_then(|m| m.modified()) {
                times.insert(path, modified);
            }
        }
    }
    times
}

/// `cargo run -- book`: build the book with mdBook and open it, or serve it.
fn book(root: &Path, style: Style, serve: bool) -> Result<bool> {
    let installed = std::process::Command::new("mdbook")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        println!(
            "{} the book is built with mdBook, which is not installed.",
            style.bad("No mdbook:")
        );
        println!(
            "Install it once with {} (a minute or two), then run {} again.",
            style.bold("cargo install mdbook --locked"),
            style.bold("cargo run -- book")
        );
        println!(
            "Until then the chapters are Markdown in {}; their code and tables are \
             {{{{#include}}}}d, so they only appear in the built book.",
            style.bold("book/src/")
        );
        return Ok(false);
    }
    let mut command = std::process::Command::new("mdbook");
    command.current_dir(root);
    if serve {
        command.args(["serve", "book", "--open"]);
    } else {
        command.args(["build", "book", "--open"]);
    }
    let status = command.status().context("running mdbook")?;
    if !serve && status.success() {
        println!(
            "The book is at {}",
            style.bold(&root.join("book/build/index.html").display().to_string())
        );
    }
    Ok(status.success())
}

/// `cargo run -- verify`: the maintainers' check that CI runs.
fn verify(root: &Path, style: Style) -> Result<bool> {
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
        let solution = testrun::run(root, &chapter.solution_package())?;
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

/// `cargo run -- bench-table GROUP`: the book's table for a criterion group.
fn bench_table(root: &Path, group: &str) -> Result<bool> {
    write_measured(root, group, &benchtable::render(root, group)?)
}

/// Writes `book/src/measured/NAME.md`, which the book includes, and shows it.
fn write_measured(root: &Path, name: &str, page: &str) -> Result<bool> {
    let path = root.join("book/src/measured").join(format!("{name}.md"));
    fs::create_dir_all(path.parent().unwrap_or(root))?;
    fs::write(&path, page)?;
    print!("{page}");
    println!("\nwrote {}", path.display());
    Ok(true)
}

/// `cargo run -- count-instructions`: instructions per bump allocation.
fn count_instructions(root: &Path) -> Result<bool> {
    write_measured(root, "bump_instructions", &instructions::bump_report(root)?)
}

/// `cargo run -- stub NN [--write]`: the exercise, generated from the solution.
fn stub(root: &Path, chapter: &Chapter, write: bool) -> Result<bool> {
    let exercise = stubs::exercise_for(root, &chapter.dir_name())?;
    if write {
        let path = root.join(chapter.exercise_lib());
        fs::write(&path, exercise)?;
        println!("wrote {}", path.display());
    } else {
        print!("{exercise}");
    }
    Ok(true)
}
