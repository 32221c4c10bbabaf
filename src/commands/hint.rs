//! `cargo run -- hint NN`: one hint at a time, from a nudge to the answer's shape.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};
use workbook::chapters::{Chapter, hints_to_show, parse_hints};
use workbook::ui::Style;

/// `cargo run -- hint NN`: the next hint, remembered in `target/workbook/`.
pub fn hint(root: &Path, style: Style, chapter: &Chapter, all: bool, reset: bool) -> Result<bool> {
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
