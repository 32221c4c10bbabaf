//! `cargo run -- bench-table GROUP` and `count-instructions`: the book's measured pages.

use std::fs;
use std::path::Path;

use anyhow::Result;
use workbook::{benchtable, instructions};

/// `cargo run -- bench-table GROUP`: the book's table for a criterion group.
pub fn bench_table(root: &Path, group: &str) -> Result<bool> {
    let page = benchtable::render(root, group)?;
    let chart = root.join("book/src/measured").join(format!("{group}.svg"));
    fs::create_dir_all(chart.parent().unwrap_or(root))?;
    fs::write(&chart, benchtable::render_chart(root, group)?)?;
    println!("wrote {}", chart.display());
    write_measured(root, group, &page)
}

/// Writes `book/src/measured/NAME.md`, which the book includes, and shows it.
pub fn write_measured(root: &Path, name: &str, page: &str) -> Result<bool> {
    let path = root.join("book/src/measured").join(format!("{name}.md"));
    fs::create_dir_all(path.parent().unwrap_or(root))?;
    fs::write(&path, page)?;
    print!("{page}");
    println!("\nwrote {}", path.display());
    Ok(true)
}

/// `cargo run -- count-instructions`: instructions per bump allocation.
pub fn count_instructions(root: &Path) -> Result<bool> {
    write_measured(root, "bump_instructions", &instructions::bump_report(root)?)
}
