//! Turns criterion's measurements (`target/criterion/GROUP/ID/new/estimates.json`)
//! into the Markdown tables the book includes, so no figure is typed by hand.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::chapters::{CHAPTERS, Comparison};

/// The median time per operation of one bench id, in nanoseconds: the median
/// per iteration, divided by the elements an iteration handles when the bench
/// declares a `Throughput::Elements`.
pub fn median_ns(root: &Path, group: &str, id: &str) -> Result<f64> {
    let dir = id_dir(root, group, id).join("new");
    let estimates = read_json(&dir.join("estimates.json"), group)?;
    let per_iteration = estimates["median"]["point_estimate"]
        .as_f64()
        .with_context(|| format!("{} has no median.point_estimate", dir.display()))?;
    Ok(per_iteration / elements(root, group, id)? as f64)
}

/// How many operations one iteration of a bench id performs: its
/// `Throughput::Elements`, or 1 when it declares none.
pub fn elements(root: &Path, group: &str, id: &str) -> Result<u64> {
    let path = id_dir(root, group, id).join("new/benchmark.json");
    let benchmark = read_json(&path, group)?;
    Ok(benchmark["throughput"]["Elements"].as_u64().unwrap_or(1))
}

/// Where criterion keeps a bench id's results: its directory name is the id
/// with `/` (and other characters unsafe in file names) as `_`.
pub fn id_dir(root: &Path, group: &str, id: &str) -> std::path::PathBuf {
    let safe: String = id
        .chars()
        .map(|c| if "?\"/\\*<>:|^".contains(c) { '_' } else { c })
        .collect();
    root.join("target/criterion").join(group).join(safe)
}

/// Reads one of criterion's JSON files.
fn read_json(path: &Path, group: &str) -> Result<serde_json::Value> {
    let text = fs::read_to_string(path).with_context(|| {
        format!(
            "no measurement at {}; run `cargo bench --bench {group}` first",
            path.display()
        )
    })?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not criterion's JSON", path.display()))
}

/// The bench ids criterion measured in `group`, sorted, as the bench named
/// them (`learner/fixed_size_pool`, not its directory `learner_fixed_size_pool`).
pub fn measured_ids(root: &Path, group: &str) -> Vec<String> {
    let dir = root.join("target/criterion").join(group);
    let mut ids: Vec<String> = fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().join("new/estimates.json").is_file())
        .filter_map(|e| {
            let recorded = fs::read_to_string(e.path().join("new/benchmark.json"))
                .ok()
                .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
                .and_then(|json| json["function_id"].as_str().map(str::to_owned));
            recorded.or_else(|| e.file_name().into_string().ok())
        })
        .collect();
    ids.sort();
    ids
}

/// Heap allocations and bytes per operation of each id in `group`, as
/// `cargo bench --bench alloc_counts` counted them; empty when it has not run.
pub fn alloc_counts(root: &Path, group: &str) -> std::collections::BTreeMap<String, (f64, f64)> {
    let path = root
        .join("target/workbook/allocs")
        .join(format!("{group}.json"));
    let Ok(text) = fs::read_to_string(path) else {
        return Default::default();
    };
    let Ok(serde_json::Value::Object(rows)) = serde_json::from_str(&text) else {
        return Default::default();
    };
    rows.into_iter()
        .filter_map(|(id, row)| {
            Some((
                id,
                (
                    row["allocs_per_op"].as_f64()?,
                    row["bytes_per_op"].as_f64()?,
                ),
            ))
        })
        .collect()
}

/// A per-operation count as Go prints it, but with real fractions: `0`, `1`,
/// `0.001`, `2083`.
pub fn per_op(value: f64) -> String {
    if value >= 100.0 || value == value.trunc() {
        format!("{value:.0}")
    } else {
        let text = format!("{value:.3}");
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// Figures written more than this long before the group's newest one come
/// from an earlier run, and are not compared with it.
const SAME_RUN: std::time::Duration = std::time::Duration::from_secs(30 * 60);

/// When criterion last wrote a bench id's estimates.
pub fn measured_at(root: &Path, group: &str, id: &str) -> Option<std::time::SystemTime> {
    let path = id_dir(root, group, id).join("new/estimates.json");
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// When the latest run of `group` began, as its bench noted in
/// `target/workbook/bench-runs/GROUP.start`.
fn run_start(root: &Path, group: &str) -> Option<std::time::SystemTime> {
    let path = root
        .join("target/workbook/bench-runs")
        .join(format!("{group}.start"));
    let nanos: u64 = fs::read_to_string(path).ok()?.trim().parse().ok()?;
    Some(std::time::UNIX_EPOCH + std::time::Duration::from_nanos(nanos))
}

/// The ids of `group` measured in its latest run (within half an hour of the
/// newest figure), and those whose figures are older and are left out.
pub fn latest_run(root: &Path, group: &str) -> (Vec<String>, Vec<String>) {
    let ids = measured_ids(root, group);
    let times: Vec<_> = ids.iter().map(|id| measured_at(root, group, id)).collect();
    let Some(newest) = times.iter().flatten().max().copied() else {
        return (ids, Vec::new());
    };
    // The bench notes when its latest run began; without that note, figures
    // within half an hour of the newest count as one run.
    let began = run_start(root, group)
        .filter(|&start| start <= newest)
        .unwrap_or_else(|| newest - SAME_RUN);
    let (mut current, mut stale) = (Vec::new(), Vec::new());
    for (id, time) in ids.into_iter().zip(times) {
        let fresh = time.is_some_and(|t| t >= began);
        if fresh {
            current.push(id)
        } else {
            stale.push(id)
        }
    }
    (current, stale)
}

/// What a bench id measures, for the chart's colours.
pub fn kind_of(group: &str, id: &str) -> crate::charts::Kind {
    use crate::charts::Kind;
    let solution = CHAPTERS
        .iter()
        .flat_map(|c| c.solution_rows)
        .any(|&(g, i)| g == group && i == id);
    if id.starts_with("learner/") {
        Kind::Learner
    } else if solution {
        Kind::Solution
    } else if id.starts_with("standard_allocation") {
        Kind::Std
    } else {
        Kind::Other
    }
}

/// The chart of `group`'s latest run: ns per operation, one bar per id.
///
/// # Errors
/// When a measurement cannot be read.
pub fn render_chart(root: &Path, group: &str) -> Result<String> {
    let (ids, _) = latest_run(root, group);
    let mut bars = Vec::new();
    for id in ids {
        bars.push(crate::charts::Bar {
            value: median_ns(root, group, &id)?,
            kind: kind_of(group, &id),
            label: id,
        });
    }
    bars.sort_by(|a, b| a.value.total_cmp(&b.value));
    crate::charts::bar_chart(
        &format!("{group}: median time per operation (shorter is faster)"),
        "ns per operation",
        &bars,
    )
}

/// The Markdown page for `group`: every id measured in the latest run, then
/// every comparison the chapters declare for it, with its bar. Ids a
/// filtered run left out are named, not shown with older figures.
pub fn render(root: &Path, group: &str) -> Result<String> {
    let (ids, stale) = latest_run(root, group);
    if ids.is_empty() {
        bail!("criterion has no results for `{group}`; run `cargo bench --bench {group}` first");
    }
    let comparisons: Vec<&Comparison> = CHAPTERS
        .iter()
        .flat_map(|c| c.comparisons)
        .filter(|c| c.group == group)
        .collect();
    let mut missing: Vec<&str> = comparisons
        .iter()
        .flat_map(|c| [c.id, c.baseline])
        .filter(|id| !ids.iter().any(|m| m == id))
        .collect();
    missing.extend(stale.iter().map(String::as_str));
    missing.sort_unstable();
    missing.dedup();
    let mut page = String::new();
    writeln!(
        page,
        "<!-- Written by `cargo run -- bench-table {group}` from the results of \
         `cargo bench --bench {group}`. Do not edit by hand: run both commands again. -->"
    )?;
    writeln!(
        page,
        "Measured with `cargo bench --bench {group}` on {}, {}.\n",
        machine(),
        today()
    )?;
    let counts = alloc_counts(root, group);
    writeln!(page, "| bench id | ns/op | allocs/op | B/op |")?;
    writeln!(page, "|---|---:|---:|---:|")?;
    for id in &ids {
        let per = match elements(root, group, id)? {
            1 => String::new(),
            n => format!(" (an iteration does {n}; the time is per one)"),
        };
        let (allocs, bytes) = counts
            .get(id)
            .map_or(("—".to_owned(), "—".to_owned()), |&(a, b)| {
                (per_op(a), per_op(b))
            });
        writeln!(
            page,
            "| `{id}` | {:.2}{per} | {allocs} | {bytes} |",
            median_ns(root, group, id)?
        )?;
    }
    if counts.is_empty() {
        writeln!(
            page,
            "\nallocs/op and B/op are missing: run `cargo bench --bench alloc_counts` too."
        )?;
    } else {
        writeln!(
            page,
            "\nallocs/op and B/op: heap allocations (a `realloc` counts as one) and bytes \
             asked for per operation, counted by `cargo bench --bench alloc_counts` in a \
             process of its own, running the same rows."
        )?;
    }
    writeln!(
        page,
        "\n![{group}: ns per operation, one bar per bench id](measured/{group}.svg)\n\n\
         *Chart: `cargo run -- bench-table {group}`, from the same run as the table.*"
    )?;
    if !missing.is_empty() {
        let names: Vec<String> = missing.iter().map(|id| format!("`{id}`")).collect();
        writeln!(
            page,
            "\nNot measured in this run (a filtered `cargo bench`), so not shown: {}.",
            names.join(", ")
        )?;
    }
    if !comparisons.is_empty() {
        writeln!(page, "\n| comparison | speed-up | workbook's bar | met |")?;
        writeln!(page, "|---|---:|---:|---|")?;
        for c in comparisons {
            if missing.contains(&c.id) || missing.contains(&c.baseline) {
                writeln!(
                    page,
                    "| `{}` vs `{}` | not measured in this run | — | — |",
                    c.id, c.baseline
                )?;
                continue;
            }
            let speedup = median_ns(root, group, c.baseline)? / median_ns(root, group, c.id)?;
            let (bar, met) = match c.min_speedup {
                Some(bar) => (
                    // Two decimals at most: a bar of 1/0.7 reads "≥ 1.43×".
                    format!(
                        "≥ {}×",
                        format!("{bar:.2}")
                            .trim_end_matches('0')
                            .trim_end_matches('.')
                    ),
                    if speedup >= bar { "yes" } else { "**no**" },
                ),
                None => ("—".to_owned(), "—"),
            };
            writeln!(
                page,
                "| `{}` vs `{}` | {speedup:.1}× | {bar} | {met} |",
                c.id, c.baseline
            )?;
        }
    }
    Ok(page)
}

/// `N cores, CPU model`, read from the system where it can be.
fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, name)| name.trim().to_owned())
        })
        .unwrap_or_else(|| "an unknown CPU".to_owned());
    format!("{cores} cores ({cpu})")
}

/// Today's date in UTC, as `YYYY-MM-DD`.
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Converts days since 1970-01-01 to a (year, month, day) date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake criterion result for `group/id`, `age` old.
    fn measure(root: &Path, group: &str, id: &str, ns: f64, age: std::time::Duration) {
        let dir = root
            .join("target/criterion")
            .join(group)
            .join(id)
            .join("new");
        fs::create_dir_all(&dir).unwrap();
        let estimates = dir.join("estimates.json");
        fs::write(
            &estimates,
            format!("{{\"median\": {{\"point_estimate\": {ns}}}}}"),
        )
        .unwrap();
        fs::write(dir.join("benchmark.json"), "{\"throughput\": null}").unwrap();
        let file = fs::File::options().write(true).open(&estimates).unwrap();
        file.set_modified(std::time::SystemTime::now() - age)
            .unwrap();
    }

    #[test]
    fn a_filtered_run_writes_what_it_measured_and_names_what_it_did_not() {
        let root = std::env::temp_dir().join(format!("workbook-benchtable-{}", std::process::id()));
        let now = std::time::Duration::ZERO;
        measure(&root, "custom_allocators", "fixed_size_pool", 2.0, now);
        measure(&root, "custom_allocators", "standard_allocation", 12.0, now);
        // A figure from yesterday's run must not be compared with today's.
        let yesterday = std::time::Duration::from_secs(86_400);
        measure(&root, "custom_allocators", "slab", 4.0, yesterday);

        let page = render(&root, "custom_allocators").unwrap();
        assert!(
            page.contains("| `fixed_size_pool` | 2.00 | — | — |"),
            "{page}"
        );
        assert!(
            !page.contains("| `slab` |"),
            "an old figure is left out: {page}"
        );
        assert!(
            page.contains("| `fixed_size_pool` vs `standard_allocation` | 6.0× | ≥ 5× | yes |"),
            "{page}"
        );
        assert!(
            page.contains("| `fixed_size_pool` vs `slab` | not measured in this run |"),
            "{page}"
        );
        let not_measured = page
            .lines()
            .find(|l| l.starts_with("Not measured in this run"))
            .unwrap_or_else(|| panic!("the missing ids are named: {page}"));
        for id in ["`slab`", "`size_class_allocator`", "`bumpalo`"] {
            assert!(not_measured.contains(id), "{id} in {not_measured}");
        }
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_noted_run_start_decides_which_figures_belong_to_the_run() {
        let root = std::env::temp_dir().join(format!("workbook-runstart-{}", std::process::id()));
        let minutes = |n: u64| std::time::Duration::from_secs(60 * n);
        measure(&root, "g", "earlier", 1.0, minutes(5));
        measure(&root, "g", "latest", 2.0, minutes(1));
        let began = std::time::SystemTime::now() - minutes(2);
        let nanos = began
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let runs = root.join("target/workbook/bench-runs");
        fs::create_dir_all(&runs).unwrap();
        fs::write(runs.join("g.start"), nanos.to_string()).unwrap();
        assert_eq!(
            latest_run(&root, "g"),
            (vec!["latest".to_owned()], vec!["earlier".to_owned()]),
            "a figure from before the run began is not part of it, though it is recent"
        );
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn counts_per_operation_keep_their_fractions() {
        assert_eq!(per_op(0.0), "0");
        assert_eq!(per_op(1.0), "1");
        assert_eq!(per_op(0.001), "0.001");
        assert_eq!(per_op(0.25), "0.25");
        assert_eq!(per_op(2082.857), "2083");
    }

    #[test]
    fn days_since_the_epoch_become_calendar_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_781), (2026, 11, 24));
    }
}
