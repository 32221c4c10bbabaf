//! `cargo run -- heap-profile NN` and `cargo run -- flamegraph GROUP ID`:
//! Go's `-memprofile` and `-cpuprofile`, for Rust.

use std::fs;
use std::path::Path;

use anyhow::Result;
use workbook::chapters::Chapter;
use workbook::profiles;
use workbook::ui::Style;

/// Where valgrind keeps DHAT's viewer, if it is installed.
fn dh_view() -> Option<&'static str> {
    [
        "/usr/libexec/valgrind/dh_view.html",
        "/usr/lib/x86_64-linux-gnu/valgrind/dh_view.html",
        "/usr/local/libexec/valgrind/dh_view.html",
    ]
    .into_iter()
    .find(|path| Path::new(path).is_file())
}

/// Writes the chapter's heap profile and its summary page.
pub fn heap_profile(root: &Path, style: Style, chapter: &Chapter) -> Result<bool> {
    style.progress(0, 1, "running the chapter's report under dhat");
    let (file, summary) = profiles::heap_profile(root, chapter)?;
    style.clear_progress();
    let page = root
        .join("book/src/measured")
        .join(format!("heap-profile-{}.md", chapter.number));
    fs::create_dir_all(page.parent().unwrap_or(root))?;
    fs::write(&page, &summary)?;
    println!("{summary}");
    println!("wrote {} and {}", file.display(), page.display());
    match dh_view() {
        Some(viewer) => println!(
            "Open {} in a browser and load {} to explore it.",
            style.bold(&format!("file://{viewer}")),
            style.bold(&file.display().to_string())
        ),
        None => println!(
            "DHAT's viewer, dh_view.html, comes with valgrind (apt-get install valgrind); \
             open it in a browser and load {}.",
            file.display()
        ),
    }
    Ok(true)
}

/// Writes the flamegraph of one bench id.
pub fn flamegraph(root: &Path, style: Style, group: &str, id: &str, seconds: u64) -> Result<bool> {
    style.progress(
        0,
        1,
        "building the bench with frame pointers, then sampling it with perf",
    );
    let svg = profiles::flamegraph(root, group, id, seconds)?;
    style.clear_progress();
    println!(
        "wrote {}: open it in a browser; hover a frame for its share, click to zoom.",
        style.bold(&svg.display().to_string())
    );
    Ok(true)
}
