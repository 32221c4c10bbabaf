//! `cargo run -- learner-copy NN DEST`: a copy of the workbook for a learner
//! check, with nothing to peek at: every solution's source is its exercise's
//! stub, the solution walkthroughs and drafts are gone, and `DEST/LESSON.md`
//! is chapter NN's lesson with its includes expanded, as the book shows it.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use workbook::chapters::{CHAPTERS, Chapter};
use workbook::ui::Style;
use workbook::{integrity, scratch, stubs};

/// Writes the learner's copy of the workbook to `dest`.
pub fn learner_copy(root: &Path, style: Style, chapter: &Chapter, dest: &Path) -> Result<bool> {
    let lesson = integrity::expand_includes(&root.join(chapter.book_page()))
        .map_err(anyhow::Error::msg)
        .context("expanding the lesson's includes")?;
    scratch::copy_workbook(root, dest)?;
    for each in CHAPTERS {
        let stub = stubs::exercise_for(root, &each.dir_name())?;
        fs::write(dest.join(each.exercise_lib()), &stub)?;
        fs::write(dest.join(each.solution_dir()).join("src/lib.rs"), &stub)?;
        let _ = fs::remove_file(dest.join(each.solution_dir()).join("stubs.txt"));
        let _ = fs::remove_file(dest.join(each.solution_page()));
    }
    let _ = fs::remove_dir_all(dest.join("drafts"));
    let summary = dest.join("book/src/SUMMARY.md");
    let kept: Vec<String> = fs::read_to_string(&summary)?
        .lines()
        .filter(|line| !line.contains("-solution.md"))
        .map(str::to_owned)
        .collect();
    fs::write(&summary, kept.join("\n") + "\n")?;
    fs::write(dest.join("LESSON.md"), lesson)?;
    println!(
        "wrote {}: the workbook with every solution replaced by its stub, and {}",
        style.bold(&dest.display().to_string()),
        style.bold(&dest.join("LESSON.md").display().to_string())
    );
    println!(
        "Give a tester only that folder: LESSON.md (chapter {}'s lesson as the book shows it, \
         its pictures under book/src/img/), the exercise {} and the runner.",
        chapter.number,
        chapter.exercise_dir().display()
    );
    Ok(true)
}
