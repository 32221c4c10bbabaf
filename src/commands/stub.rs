//! `cargo run -- stub NN`: an exercise, generated from its solution.

use std::fs;
use std::path::Path;

use anyhow::Result;
use workbook::chapters::Chapter;
use workbook::stubs;

/// `cargo run -- stub NN [--write]`: the exercise, generated from the solution.
pub fn stub(root: &Path, chapter: &Chapter, write: bool) -> Result<bool> {
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
