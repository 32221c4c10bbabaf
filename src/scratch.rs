//! Copies of the workbook to work in: the scratch checkout `grade` builds a
//! learner's crate in, and the learner's copy a maintainer hands to a tester.

use std::fs;
use std::path::Path;

use anyhow::Result;

/// Copies the workbook's sources at `root` to `dest` (replaced if it
/// exists): everything but `target/`, `.git`, the built book and
/// cargo-mutants' output.
///
/// # Errors
/// When a file cannot be read or written.
pub fn copy_workbook(root: &Path, dest: &Path) -> Result<()> {
    if dest.exists() {
        fs::remove_dir_all(dest)?;
    }
    fs::create_dir_all(dest)?;
    for entry in fs::read_dir(root)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if matches!(name.as_ref(), "target" | ".git") || name.starts_with("mutants.out") {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            copy_dir(&path, &dest.join(&*name))?;
        } else {
            fs::copy(&path, dest.join(&*name))?;
        }
    }
    Ok(())
}

/// Copies the folder `from` to `to`, leaving out `target/` folders and a
/// built book (`book/build`).
///
/// # Errors
/// When a file cannot be read or written.
pub fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name == "build" && from.ends_with("book") {
            continue;
        }
        if path.is_dir() {
            copy_dir(&path, &to.join(&name))?;
        } else {
            fs::copy(&path, to.join(&name))?;
        }
    }
    Ok(())
}
