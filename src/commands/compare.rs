//! `cargo run -- compare NN`: the learner's crate beside the solution, in one run.

use std::fs;
use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use workbook::chapters::Chapter;
use workbook::compare::{self, Options};
use workbook::ui::Style;

/// Compares, prints the report, and writes it to `target/workbook/compare-NN.md`.
pub fn compare(
    root: &Path,
    style: Style,
    chapter: &Chapter,
    miri: bool,
    seconds: u64,
) -> Result<bool> {
    println!(
        "{}",
        style.bold(&format!(
            "Comparing chapter {} ({}): your crate beside the solution",
            chapter.number, chapter.title
        ))
    );
    let options = Options {
        miri,
        measurement: Duration::from_secs(seconds),
        ..Options::default()
    };
    let report = compare::compare(root, chapter, options, &mut |step| {
        style.progress(0, 1, step);
    })?;
    style.clear_progress();
    let page = report.to_markdown();
    println!("\n{page}");
    let path = root
        .join("target/workbook")
        .join(format!("compare-{}.md", chapter.number));
    fs::create_dir_all(path.parent().unwrap_or(root))?;
    fs::write(&path, &page)?;
    println!("{}", style.dim(&format!("wrote {}", path.display())));
    Ok(report.learner.all_passed())
}
