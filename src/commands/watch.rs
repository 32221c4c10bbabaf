//! `cargo run -- watch [NN]`: check again whenever a file of the exercise changes.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use notify::event::ModifyKind;
use notify::{EventKind, RecursiveMode, Watcher};
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
    // File events from the OS (inotify on Linux). Running the tests opens
    // and reads these files too, so only writes, creations and removals count.
    let (events, changes) = std::sync::mpsc::channel();
    let mut watcher = notify::recommended_watcher(events).context("watching for file changes")?;
    watcher
        .watch(&dir, RecursiveMode::Recursive)
        .with_context(|| format!("watching {}", dir.display()))?;
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
        // Quiet until a file outside target/ changes. An editor's save is
        // often several events: wait until they stop, then check once.
        loop {
            let event = changes
                .recv()
                .context("the file watcher stopped")?
                .context("the file watcher failed")?;
            if is_write(&event.kind) && event.paths.iter().any(|p| is_source_change(p)) {
                while changes.recv_timeout(Duration::from_millis(200)).is_ok() {}
                break;
            }
        }
    }
}

/// Whether an event changed a file's content or existence (not a read).
fn is_write(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::Create(_)
            | EventKind::Remove(_)
            | EventKind::Modify(ModifyKind::Data(_) | ModifyKind::Name(_) | ModifyKind::Any)
    )
}

/// A change worth a new check: not in a `target/` folder, not an editor's
/// swap or backup file.
pub fn is_source_change(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    !path.components().any(|c| c.as_os_str() == "target")
        && !name.ends_with('~')
        && !name.ends_with(".swp")
        && !name.starts_with(".#")
}

pub fn first_unfinished(root: &Path) -> Result<&'static Chapter> {
    for chapter in CHAPTERS {
        if !testrun::run(root, &chapter.exercise_package())?.all_passed() {
            return Ok(chapter);
        }
    }
    Ok(CHAPTERS.last().expect("the workbook has chapters"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_source_changes_trigger_a_check() {
        assert!(is_source_change(Path::new("exercises/01/src/lib.rs")));
        assert!(!is_source_change(Path::new("exercises/01/target/debug/x")));
        assert!(!is_source_change(Path::new("exercises/01/src/lib.rs~")));
        assert!(!is_source_change(Path::new("exercises/01/src/.lib.rs.swp")));
    }
}
