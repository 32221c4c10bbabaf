//! `cargo run -- book`: build the book and open it.

use std::path::Path;

use anyhow::{Context, Result};
use workbook::ui::Style;

/// `cargo run -- book`: build the book with mdBook and open it, or serve it.
pub fn book(root: &Path, style: Style, serve: bool) -> Result<bool> {
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
