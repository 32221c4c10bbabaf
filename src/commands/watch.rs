//! `cargo run -- watch [NN]`: check again whenever a file of the exercise changes.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::Result;
use workbook::chapters::{CHAPTERS, Chapter};
use workbook::testrun;
use workbook::ui::Style;

use super::check;
use crate::chapter_arg;

/// `cargo run -- watch [NN]`: re-check whenever a file of the exercise changes.
pub fn watch(root: &Path, style: Style, query: Option<&str>) -> Result<bool> {
    let chapter = match query {
        Some(q) => chapter_arg(q)?,
        None => first_unfinished(root)?,
    };
    let dir = root.join(chapter.exercise_dir());
    let mut seen = modification_times(&dir);
    loop {
        style.clear_screen();
        check::check(root, style, chapter)?;
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

pub fn first_unfinished(root: &Path) -> Result<&'static Chapter> {
    for chapter in CHAPTERS {
        if !testrun::run(root, &chapter.exercise_package())?.all_passed() {
            return Ok(chapter);
        }
    }
    Ok(CHAPTERS.last().expect("the workbook has chapters"))
}

/// Every file under `dir` (but `target/`) with the time it was last changed.
pub fn modification_times(dir: &Path) -> BTreeMap<PathBuf, SystemTime> {
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
