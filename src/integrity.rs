//! The static half of `cargo run -- verify`: checks that need no compiler.
//! The workbook's own test suite runs them too (`tests/integrity.rs`).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::chapters::{CHAPTERS, Chapter, parse_hints};
use crate::{files_with_extension, stubs};

/// The checks that hold whatever the learner has done: every chapter's files,
/// shared tests, solutions without `todo!()`, and a book whose includes
/// resolve. Each string names one problem and where it is.
pub fn check_workbook(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for chapter in CHAPTERS {
        problems.extend(chapter_files(root, chapter));
        problems.extend(shared_tests(root, chapter));
        problems.extend(solution_is_complete(root, chapter));
    }
    problems.extend(book_includes(root));
    problems.extend(lessons_show_no_solution(root));
    problems.extend(summary_lists_chapters(root));
    problems
}

/// The checks that hold only for untouched exercises, as the workbook ships
/// them: the same public API as the solution, and exactly the source that
/// `cargo run -- stub NN` generates from the solution. `cargo run -- verify`
/// runs them; a learner's own checkout fails them as soon as work begins.
pub fn check_exercises_are_pristine(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for chapter in CHAPTERS {
        problems.extend(same_public_api(root, chapter));
        problems.extend(exercise_is_generated(root, chapter));
    }
    problems
}

/// Every chapter has its exercise, solution, hints and book page.
pub fn chapter_files(root: &Path, chapter: &Chapter) -> Vec<String> {
    let mut problems = Vec::new();
    for path in [
        chapter.exercise_lib(),
        chapter.solution_dir().join("src").join("lib.rs"),
        chapter.hints_file(),
        chapter.book_page(),
        chapter.solution_page(),
    ] {
        if !root.join(&path).is_file() {
            problems.push(format!(
                "chapter {}: {} is missing",
                chapter.number,
                path.display()
            ));
        }
    }
    if let Ok(text) = fs::read_to_string(root.join(chapter.hints_file())) {
        if parse_hints(&text).len() < 2 {
            problems.push(format!(
                "chapter {}: {} needs at least two `## ` hints, from gentle to explicit",
                chapter.number,
                chapter.hints_file().display()
            ));
        }
    }
    problems
}

/// The solution's `[[test]]` targets are exactly the exercise's test files.
pub fn shared_tests(root: &Path, chapter: &Chapter) -> Vec<String> {
    let number = chapter.number;
    let tests_dir = root.join(chapter.exercise_dir()).join("tests");
    let exercise_tests: BTreeSet<PathBuf> = files_with_extension(&tests_dir, "rs")
        .into_iter()
        .filter_map(|path| path.canonicalize().ok())
        .collect();
    if exercise_tests.is_empty() {
        return vec![format!(
            "chapter {number}: {} has no tests",
            tests_dir.display()
        )];
    }

    let solution_dir = root.join(chapter.solution_dir());
    let manifest = fs::read_to_string(solution_dir.join("Cargo.toml")).unwrap_or_default();
    let solution_tests: BTreeSet<PathBuf> = test_target_paths(&manifest)
        .into_iter()
        .map(|path| solution_dir.join(path))
        .filter_map(|path| path.canonicalize().ok())
        .collect();

    let mut problems = Vec::new();
    if !manifest.contains("autotests = false") {
        problems.push(format!(
            "chapter {number}: the solution's Cargo.toml must set `autotests = false` so it runs \
             only the exercise's test files"
        ));
    }
    for missing in exercise_tests.difference(&solution_tests) {
        problems.push(format!(
            "chapter {number}: the solution does not run {}; add a [[test]] target for it",
            missing.display()
        ));
    }
    for extra in solution_tests.difference(&exercise_tests) {
        problems.push(format!(
            "chapter {number}: the solution runs {}, which is not one of the exercise's tests",
            extra.display()
        ));
    }
    problems
}

/// The `path = "…"` of every `[[test]]` table in a Cargo manifest.
fn test_target_paths(manifest: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut in_test = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_test = line == "[[test]]";
        } else if in_test {
            if let Some(value) = line.strip_prefix("path").map(str::trim) {
                if let Some(value) = value.strip_prefix('=') {
                    paths.push(value.trim().trim_matches('"').to_owned());
                }
            }
        }
    }
    paths
}

/// The `pub` lines of a source file, trimmed: a cheap fingerprint of its API.
fn public_lines(source: &str) -> Vec<String> {
    source
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with("pub ") || line.starts_with("pub("))
        .map(str::to_owned)
        .collect()
}

/// Exercise and solution declare the same public items, fields and signatures.
pub fn same_public_api(root: &Path, chapter: &Chapter) -> Vec<String> {
    let read = |path: PathBuf| fs::read_to_string(root.join(path)).unwrap_or_default();
    let exercise = public_lines(&read(chapter.exercise_lib()));
    let solution = public_lines(&read(chapter.solution_dir().join("src").join("lib.rs")));
    let mut problems = Vec::new();
    for line in exercise.iter().filter(|l| !solution.contains(l)) {
        problems.push(format!(
            "chapter {}: the exercise declares `{line}`, the solution does not",
            chapter.number
        ));
    }
    for line in solution.iter().filter(|l| !exercise.contains(l)) {
        problems.push(format!(
            "chapter {}: the solution declares `{line}`, the exercise does not",
            chapter.number
        ));
    }
    problems
}

/// The solution has no `todo!()` left in any of its files.
pub fn solution_is_complete(root: &Path, chapter: &Chapter) -> Vec<String> {
    let solution_src = root.join(chapter.solution_dir()).join("src");
    rust_files(&solution_src)
        .into_iter()
        .filter(|file| {
            let text = fs::read_to_string(file).unwrap_or_default();
            text.contains("todo!(") || text.contains("unimplemented!(")
        })
        .map(|file| format!("{}: a solution must not contain todo!()", file.display()))
        .collect()
}

/// The exercise is exactly what `cargo run -- stub NN` makes of the solution.
pub fn exercise_is_generated(root: &Path, chapter: &Chapter) -> Vec<String> {
    let generated = match stubs::exercise_for(root, &chapter.dir_name()) {
        Ok(generated) => generated,
        Err(err) => {
            return vec![format!(
                "chapter {}: cannot generate the exercise: {err:#}",
                chapter.number
            )];
        }
    };
    let current = fs::read_to_string(root.join(chapter.exercise_lib())).unwrap_or_default();
    if current == generated {
        return Vec::new();
    }
    let first_difference = current
        .lines()
        .zip(generated.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| current.lines().count().min(generated.lines().count()));
    vec![format!(
        "chapter {}: {} differs from the solution with its bodies stubbed (first at line {}); \
         run `cargo run -- stub {} --write`",
        chapter.number,
        chapter.exercise_lib().display(),
        first_difference + 1,
        chapter.number
    )]
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// Every `{{#include …}}` in the book names a file, anchor or line range that exists.
pub fn book_includes(root: &Path) -> Vec<String> {
    let src = root.join("book").join("src");
    let mut problems = Vec::new();
    let pages = files_with_extension(&src, "md");
    for page in pages {
        let text = fs::read_to_string(&page).unwrap_or_default();
        for include in includes(&text) {
            if let Err(problem) = resolve_include(page.parent().unwrap_or(&src), &include) {
                problems.push(format!(
                    "{}: {{{{#include {include}}}}}: {problem}",
                    page.display()
                ));
            }
        }
    }
    problems
}

/// The arguments of the `{{#include …}}` and `{{#rustdoc_include …}}` directives in a page.
fn includes(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{#") {
        rest = &rest[start + 3..];
        let Some(end) = rest.find("}}") else { break };
        let directive = &rest[..end];
        rest = &rest[end..];
        for name in ["include ", "rustdoc_include "] {
            if let Some(argument) = directive.strip_prefix(name) {
                found.push(argument.trim().to_owned());
            }
        }
    }
    found
}

/// The page at `page` with every `{{#include …}}` replaced by what mdBook
/// would put there (a whole file, an anchor's lines without `ANCHOR` lines, or
/// a line range), for a reader who gets the page as text.
///
/// # Errors
/// When an include does not resolve.
pub fn expand_includes(page: &Path) -> Result<String, String> {
    let text = fs::read_to_string(page).map_err(|e| format!("{}: {e}", page.display()))?;
    let dir = page.parent().unwrap_or(Path::new("."));
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("{{#include ") {
        let end = rest[start..]
            .find("}}")
            .map(|e| start + e)
            .ok_or_else(|| format!("{}: an include never closes", page.display()))?;
        out.push_str(&rest[..start]);
        let argument = rest[start + "{{#include ".len()..end].trim();
        resolve_include(dir, argument)?;
        out.push_str(&included_text(dir, argument)?);
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// What one include argument, already checked, puts on the page.
fn included_text(page_dir: &Path, argument: &str) -> Result<String, String> {
    let mut parts = argument.split(':');
    let path = parts.next().unwrap_or_default();
    let selector: Vec<&str> = parts.collect();
    let text = fs::read_to_string(page_dir.join(path)).map_err(|e| format!("{path}: {e}"))?;
    let lines: Vec<&str> = text.lines().collect();
    let is_marker = |line: &str| {
        let bare = line.trim_start().trim_start_matches("//").trim();
        bare.starts_with("ANCHOR:") || bare.starts_with("ANCHOR_END:")
    };
    let chosen: Vec<&str> = match selector.as_slice() {
        [] => lines,
        [anchor] if anchor.parse::<usize>().is_err() => {
            let bare = |l: &&str| l.trim_start().trim_start_matches("//").trim().to_owned();
            let start = lines
                .iter()
                .position(|l| bare(l) == format!("ANCHOR: {anchor}"))
                .unwrap_or(0);
            let end = lines
                .iter()
                .position(|l| bare(l) == format!("ANCHOR_END: {anchor}"))
                .unwrap_or(lines.len());
            lines[start + 1..end].to_vec()
        }
        range => {
            let number = |i: usize| range.get(i).and_then(|n| n.parse::<usize>().ok());
            let first = number(0).unwrap_or(1).max(1);
            let last = number(1).unwrap_or(lines.len()).min(lines.len());
            lines[first - 1..last].to_vec()
        }
    };
    Ok(chosen
        .into_iter()
        .filter(|l| !is_marker(l))
        .collect::<Vec<_>>()
        .join("\n"))
}

/// Checks one include argument: `path`, `path:anchor`, `path:start:end`, `path:start:`.
fn resolve_include(page_dir: &Path, argument: &str) -> Result<(), String> {
    let mut parts = argument.split(':');
    let path = parts.next().unwrap_or_default();
    let selector: Vec<&str> = parts.collect();
    let file = page_dir.join(path);
    let text = fs::read_to_string(&file).map_err(|e| format!("cannot read {path}: {e}"))?;
    let lines = text.lines().count();
    if path.ends_with(".snap") {
        return snapshot_include(path, &text, &selector);
    }
    match selector.as_slice() {
        [] => Ok(()),
        [anchor] if anchor.parse::<usize>().is_err() && !anchor.is_empty() => {
            let has = |marker: &str| {
                text.lines()
                    .any(|l| l.trim_start().trim_start_matches("//").trim() == marker)
            };
            if has(&format!("ANCHOR: {anchor}")) && has(&format!("ANCHOR_END: {anchor}")) {
                Ok(())
            } else {
                Err(format!(
                    "{path} has no `ANCHOR: {anchor}` … `ANCHOR_END: {anchor}` pair"
                ))
            }
        }
        range => {
            let numbers: Vec<Option<usize>> = range
                .iter()
                .map(|n| if n.is_empty() { None } else { n.parse().ok() })
                .collect();
            let first = numbers.first().copied().flatten().unwrap_or(1);
            let last = numbers.get(1).copied().flatten().unwrap_or(lines);
            if first >= 1 && first <= last && last <= lines {
                Ok(())
            } else {
                Err(format!(
                    "lines {first}..{last} are not within {path}'s {lines} lines"
                ))
            }
        }
    }
}

/// An insta snapshot is included from the line after its header (`---`,
/// `source: …`, `---`), so the book shows the report and not insta's metadata.
fn snapshot_include(path: &str, text: &str, selector: &[&str]) -> Result<(), String> {
    let header_end = text
        .lines()
        .enumerate()
        .skip(1)
        .find(|(_, line)| *line == "---")
        .map(|(i, _)| i + 1)
        .ok_or_else(|| format!("{path} has no insta header"))?;
    let wanted = format!("{}:", header_end + 1);
    if selector.join(":") == wanted {
        Ok(())
    } else {
        Err(format!(
            "include the report without insta's header: `{path}:{wanted}`"
        ))
    }
}

/// No lesson page includes code from `solutions/`: the lesson teaches the idea
/// and states the exercise; the solution walkthrough, read after the last test
/// passes, is the one page that shows the solution's code.
pub fn lessons_show_no_solution(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for chapter in CHAPTERS {
        let page = chapter.book_page();
        let text = fs::read_to_string(root.join(&page)).unwrap_or_default();
        for include in includes(&text) {
            if include.contains("solutions/") {
                problems.push(format!(
                    "{}: the lesson includes `{include}`; solution code belongs on {}",
                    page.display(),
                    chapter.solution_page().display()
                ));
            }
        }
    }
    problems
}

/// `book/src/SUMMARY.md` links every chapter's lesson, and its solution
/// walkthrough nested under it (on the next line, indented).
pub fn summary_lists_chapters(root: &Path) -> Vec<String> {
    let summary = fs::read_to_string(root.join("book/src/SUMMARY.md")).unwrap_or_default();
    let lines: Vec<&str> = summary.lines().collect();
    let mut problems = Vec::new();
    for chapter in CHAPTERS {
        let lesson = format!("({}.md)", chapter.dir_name());
        let solution = format!("({}-solution.md)", chapter.dir_name());
        let Some(at) = lines.iter().position(|l| l.contains(&lesson)) else {
            problems.push(format!(
                "book/src/SUMMARY.md does not link chapter {}.md",
                chapter.dir_name()
            ));
            continue;
        };
        let nested = lines.get(at + 1).is_some_and(|next| {
            next.contains(&solution)
                && next.len() - next.trim_start().len()
                    > lines[at].len() - lines[at].trim_start().len()
        });
        if !nested {
            problems.push(format!(
                "book/src/SUMMARY.md must list {}-solution.md on the line after the lesson, \
                 indented under it",
                chapter.dir_name()
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn include_directives_are_found_with_their_arguments() {
        let page = "text {{#include ../a.rs:anchor}} and {{#rustdoc_include b.rs:3:}} {{#title x}}";
        assert_eq!(includes(page), ["../a.rs:anchor", "b.rs:3:"]);
    }

    #[test]
    fn test_targets_are_read_from_a_manifest() {
        let manifest =
            "[lib]\npath = \"src/lib.rs\"\n\n[[test]]\nname = \"a\"\npath = \"../x/tests/a.rs\"\n";
        assert_eq!(test_target_paths(manifest), ["../x/tests/a.rs"]);
    }

    #[test]
    fn public_lines_ignore_private_items_and_indentation() {
        let source = "pub struct A {\n    pub x: u8,\n    y: u8,\n}\nfn hidden() {}\n";
        assert_eq!(public_lines(source), ["pub struct A {", "pub x: u8,"]);
    }

    #[test]
    fn includes_expand_to_what_mdbook_shows() {
        let dir = std::env::temp_dir().join(format!("workbook-expand-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(
            dir.join("f.rs"),
            "// ANCHOR: outer\nfn a() {}\n// ANCHOR: inner\nfn b() {}\n// ANCHOR_END: inner\n// ANCHOR_END: outer\n",
        )
        .unwrap();
        fs::write(
            dir.join("page.md"),
            "A {{#include f.rs:outer}} B {{#include f.rs:2:2}} C",
        )
        .unwrap();
        assert_eq!(
            expand_includes(&dir.join("page.md")).unwrap(),
            "A fn a() {}\nfn b() {} B fn a() {} C"
        );
        fs::write(dir.join("bad.md"), "{{#include f.rs:nowhere}}").unwrap();
        assert!(expand_includes(&dir.join("bad.md")).is_err());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_anchor_or_out_of_range_lines_are_problems() {
        let dir = std::env::temp_dir().join(format!("workbook-include-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(
            dir.join("f.rs"),
            "// ANCHOR: here\nfn f() {}\n// ANCHOR_END: here\n",
        )
        .unwrap();
        assert_eq!(resolve_include(&dir, "f.rs:here"), Ok(()));
        assert!(resolve_include(&dir, "f.rs:elsewhere").is_err());
        assert_eq!(resolve_include(&dir, "f.rs:2:"), Ok(()));
        assert!(resolve_include(&dir, "f.rs:9:").is_err());
        assert!(resolve_include(&dir, "missing.rs").is_err());
        fs::write(dir.join("r.snap"), "---\nsource: x.rs\n---\nreport\n").unwrap();
        assert_eq!(resolve_include(&dir, "r.snap:4:"), Ok(()));
        assert!(
            resolve_include(&dir, "r.snap").is_err(),
            "a whole snapshot shows insta's header"
        );
        assert!(resolve_include(&dir, "r.snap:3:").is_err());
        fs::remove_dir_all(&dir).unwrap();
    }
}
