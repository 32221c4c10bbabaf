//! Instruction counts with valgrind's callgrind: exact and the same on every
//! run, where a nanosecond-scale timing moves with code layout and addresses.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail, ensure};

/// Frames in the shorter of the two runs; the longer runs twice as many.
const FRAMES: u64 = 100;
/// Allocations per frame, as in `examples/bump_frames.rs`.
const FRAME: u64 = 4096;
/// The allocators `examples/bump_frames.rs` knows.
const ALLOCATORS: [&str; 2] = ["stack_allocator", "bumpalo"];

/// Builds `examples/bump_frames.rs`, counts each allocator's instructions for
/// 100 and 200 frames, and returns the book's table. Subtracting the two runs
/// cancels start-up and set-up, leaving the cost of 100 frames.
pub fn bump_report(root: &Path) -> Result<String> {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root)
        .args(["build", "--quiet", "--release", "--example", "bump_frames"])
        .status()
        .context("running cargo")?;
    ensure!(status.success(), "building examples/bump_frames.rs failed");
    let program = root.join("target/release/examples/bump_frames");

    let mut page = String::new();
    writeln!(
        page,
        "<!-- Written by `cargo run -- count-instructions`. Do not edit by hand: run it again. -->"
    )?;
    writeln!(
        page,
        "Counted with valgrind's callgrind by `cargo run -- count-instructions`, which runs \
         `examples/bump_frames.rs` for {FRAMES} and {} frames of {FRAME} allocations of 64 bytes \
         and divides the difference by {}.\n",
        2 * FRAMES,
        FRAMES * FRAME
    )?;
    writeln!(
        page,
        "| allocator | instructions per allocation (reset and loop included) |"
    )?;
    writeln!(page, "|---|---:|")?;
    for allocator in ALLOCATORS {
        let short = count(&program, allocator, FRAMES)?;
        let long = count(&program, allocator, 2 * FRAMES)?;
        let per_alloc = long.saturating_sub(short) as f64 / (FRAMES * FRAME) as f64;
        writeln!(page, "| `{allocator}` | {per_alloc:.2} |")?;
    }
    Ok(page)
}

/// The instructions one run executed, as callgrind reports them.
fn count(program: &Path, allocator: &str, frames: u64) -> Result<u64> {
    let output = Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(program)
        .args([allocator, &frames.to_string()])
        .output()
        .context("running valgrind; install it first (on Debian: apt-get install valgrind)")?;
    ensure!(
        output.status.success(),
        "{} failed under valgrind",
        program.display()
    );
    let report = String::from_utf8_lossy(&output.stderr);
    match report.lines().find_map(collected) {
        Some(count) => Ok(count),
        None => bail!("callgrind printed no `Collected :` line:\n{report}"),
    }
}

/// The number in callgrind's `==PID== Collected : N` line.
fn collected(line: &str) -> Option<u64> {
    let (_, number) = line.split_once("Collected :")?;
    number.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_total_is_read_from_callgrinds_summary() {
        assert_eq!(collected("==5167== Collected : 6443988"), Some(6_443_988));
        assert_eq!(collected("==5167== I   refs:      6,443,988"), None);
    }
}
