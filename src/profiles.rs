//! Profiles, as Go's `-memprofile` and `-cpuprofile`: a dhat heap profile of
//! a chapter's report workload, and a flamegraph of one bench id (perf +
//! inferno).

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail, ensure};

use crate::cargo;
use crate::chapters::Chapter;

/// The chapter's report test: `tests/report_NN_*.rs`, by its target name.
fn report_test(root: &Path, chapter: &Chapter) -> Result<String> {
    let prefix = format!("report_{}_", chapter.number);
    crate::files_with_extension(&root.join("tests"), "rs")
        .iter()
        .filter_map(|path| path.file_stem()?.to_str().map(str::to_owned))
        .find(|stem| stem.starts_with(&prefix))
        .with_context(|| format!("chapter {} has no tests/{prefix}*.rs", chapter.number))
}

/// Runs the chapter's report under a dhat profiler that writes
/// `target/workbook/dhat-NN.json`, and returns that path with a Markdown
/// summary of the allocation sites that allocated most often.
///
/// # Errors
/// When the report test fails or its profile cannot be read.
pub fn heap_profile(root: &Path, chapter: &Chapter) -> Result<(PathBuf, String)> {
    let test = report_test(root, chapter)?;
    let file = root
        .join("target/workbook")
        .join(format!("dhat-{}.json", chapter.number));
    fs::create_dir_all(file.parent().unwrap_or(root))?;
    let output = cargo(root)
        .args(["test", "--test", &test])
        .env("WORKBOOK_DHAT_FILE", &file)
        .output()?;
    ensure!(
        output.status.success() && file.is_file(),
        "`cargo test --test {test}` failed or wrote no profile:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value = serde_json::from_str(&fs::read_to_string(&file)?)?;
    Ok((file, summarise_heap(&json, &test)))
}

/// The allocation sites of a dhat profile that allocated most often.
fn summarise_heap(json: &serde_json::Value, test: &str) -> String {
    let frames: Vec<&str> = json["ftbl"]
        .as_array()
        .map(|a| a.iter().filter_map(|f| f.as_str()).collect())
        .unwrap_or_default();
    let mut sites: Vec<(u64, u64, String)> = json["pps"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|pp| {
            let blocks = pp["tbk"].as_u64().unwrap_or(0);
            let bytes = pp["tb"].as_u64().unwrap_or(0);
            let ours: Vec<&str> = pp["fs"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|i| frames.get(usize::try_from(i.as_u64()?).ok()?))
                .map(|frame| frame.split_once(": ").map_or(*frame, |(_, f)| f))
                .filter(|frame| is_workbook_frame(frame))
                .take(2)
                .collect();
            let site = if ours.is_empty() {
                "(std or a dependency: insta, the test harness)".to_owned()
            } else {
                ours.join("` ← `")
            };
            (blocks, bytes, site)
        })
        .collect();
    sites.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
    let total: u64 = sites.iter().map(|s| s.0).sum();
    let mut page = format!(
        "<!-- Written by `cargo run -- heap-profile` from dhat's profile of `cargo test --test {test}`. -->\n\
         The allocation sites that allocated most often, of {total} heap allocations in all:\n\n\
         | allocations | bytes | where: the first two frames in the workbook's code, callee ← caller |\n|---:|---:|---|\n"
    );
    for (blocks, bytes, site) in sites.iter().take(8) {
        writeln!(
            page,
            "| {blocks} | {bytes} | `{}` |",
            site.replace('|', "\\|")
        )
        .ok();
    }
    page
}

/// Whether a frame is in the workbook's own code: a test or report under
/// `tests/`, or a chapter crate (`NN-name/src/…`). std, dhat and the
/// dependencies are skipped to find who asked for the memory.
fn is_workbook_frame(frame: &str) -> bool {
    let location = frame.rsplit_once(" (").map_or("", |(_, l)| l);
    // The global allocator's shim is attributed to its `static`; it is not a caller.
    !frame.starts_with("__rustc::")
        && (location.contains("tests/")
            || location.split('/').any(|part| {
                let bytes = part.as_bytes();
                bytes.len() > 3 && bytes[..2].iter().all(u8::is_ascii_digit) && bytes[2] == b'-'
            }))
}

/// Profiles bench `group/id` with perf and draws a flamegraph SVG with
/// inferno. Builds the benches with frame pointers and line tables in
/// `target/profile`, so the stacks are whole.
///
/// # Errors
/// When perf is missing or refuses, or the bench does not build.
pub fn flamegraph(root: &Path, group: &str, id: &str, seconds: u64) -> Result<PathBuf> {
    ensure!(
        Command::new("perf")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success()),
        "perf is not installed (Debian: apt-get install linux-perf)"
    );
    let target = root.join("target/profile");
    let build = cargo(root)
        .args([
            "bench",
            "--no-run",
            "--bench",
            group,
            "--message-format",
            "json-render-diagnostics",
        ])
        .env("CARGO_TARGET_DIR", &target)
        .env("RUSTFLAGS", "-C force-frame-pointers=yes")
        .env("CARGO_PROFILE_BENCH_DEBUG", "line-tables-only")
        .output()?;
    ensure!(
        build.status.success(),
        "building the bench failed:\n{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let executable = String::from_utf8_lossy(&build.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == group)
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .context("cargo built no bench executable")?;
    let data = target.join(format!("perf-{group}.data"));
    let record = Command::new("perf")
        .args([
            "record",
            "-e",
            "cpu-clock",
            "-F",
            "997",
            "--call-graph",
            "fp",
            "-o",
        ])
        .arg(&data)
        .arg("--")
        .arg(&executable)
        .args(["--bench", "--profile-time", &seconds.to_string()])
        .arg(format!("^{group}/{id}$"))
        .current_dir(root)
        // Criterion runs `cargo metadata` to find its directory unless told;
        // told, the profile holds the bench alone.
        .env("CARGO_TARGET_DIR", &target)
        .output()?;
    if !record.status.success() {
        bail!(
            "perf record failed (is perf allowed here? try `sysctl kernel.perf_event_paranoid=1`):\n{}",
            String::from_utf8_lossy(&record.stderr)
        );
    }
    let script = Command::new("perf")
        .arg("script")
        .arg("-i")
        .arg(&data)
        .output()?;
    ensure!(script.status.success(), "perf script failed");
    let mut folded = Vec::new();
    inferno::collapse::Collapse::collapse(
        &mut inferno::collapse::perf::Folder::default(),
        &script.stdout[..],
        &mut folded,
    )?;
    let out = root
        .join("book/src/measured")
        .join(format!("flamegraph-{}.svg", id.replace('/', "_")));
    let mut options = inferno::flamegraph::Options::default();
    options.title = format!("{group}/{id}: where the time goes");
    options.subtitle = Some(format!(
        "cargo run -- flamegraph {group} {id} (perf, {seconds} s, frame pointers)"
    ));
    options.count_name = "samples".to_owned();
    let mut svg = Vec::new();
    inferno::flamegraph::from_reader(&mut options, &folded[..], &mut svg)?;
    fs::create_dir_all(out.parent().unwrap_or(root))?;
    fs::write(&out, svg)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_heap_summary_names_the_first_frame_outside_std() {
        let json = serde_json::json!({
            "ftbl": ["[root]",
                     "0x1: <dhat::Alloc as core::alloc::global::GlobalAlloc>::alloc (lib.rs:1:1)",
                     "0x2: alloc::raw_vec::RawVec<T,A>::grow_one (raw_vec.rs:1:1)",
                     "0x3: report::workload (main/tests/report.rs:9:5)"],
            "pps": [{"tb": 64, "tbk": 1, "fs": [1, 2, 3]},
                    {"tb": 8000, "tbk": 100, "fs": [1, 3]}]
        });
        let page = summarise_heap(&json, "report");
        assert!(page.contains("of 101 heap allocations"), "{page}");
        assert!(
            page.contains("| 100 | 8000 | `report::workload (main/tests/report.rs:9:5)` |"),
            "the busiest site first, named by our frame: {page}"
        );
    }
}
