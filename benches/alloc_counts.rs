//! `cargo bench --bench alloc_counts [GROUP…]`: heap allocations and bytes per
//! operation of every bench row, Go's `-benchmem` for Rust.
//!
//! It runs the very rows the timed benches run (each group's `rows`, included
//! from its file), under a counting global allocator, in a process of its own:
//! counting inside the timed loop would slow every `std` baseline and flatter
//! the pools. Counts are exact, so one pass suffices. The results go to
//! `target/workbook/allocs/GROUP.json`, where `cargo run -- bench-table GROUP`
//! reads them.

// Each bench file declares `mod common` for itself, so that it also builds
// alone; included here, those copies go unused and the rows use ours
// (`crate::common`), which is why the file is loaded more than once.
#![allow(clippy::duplicate_mod)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

#[path = "buffer_pool.rs"]
#[allow(dead_code)]
mod buffer_pool;
#[path = "connection_pool.rs"]
#[allow(dead_code)]
mod connection_pool;
#[path = "custom_allocators.rs"]
#[allow(dead_code)]
mod custom_allocators;
#[path = "pool_allocator.rs"]
#[allow(dead_code)]
mod pool_allocator;
#[path = "size_class_lookup.rs"]
#[allow(dead_code)]
mod size_class_lookup;
#[path = "string_builder_pool.rs"]
#[allow(dead_code)]
mod string_builder_pool;
#[path = "worker_pool.rs"]
#[allow(dead_code)]
mod worker_pool;

#[path = "common/mod.rs"]
mod common;

use common::Driver;

/// Counts every allocation (a `realloc` counts as one) and its bytes.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is passed on to `System` unchanged; the counters only
// observe the sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        BYTES.fetch_add(layout.size() as u64, Relaxed);
        // SAFETY: the caller's promises about `layout` are passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        BYTES.fetch_add(layout.size() as u64, Relaxed);
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with this `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        BYTES.fetch_add(new_size as u64, Relaxed);
        // SAFETY: `ptr` came from `System` with `layout`; the caller vouches for `new_size`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// About this many operations are counted per row, after a warm-up of a tenth.
const OPERATIONS: u64 = 100_000;

/// Runs each row under the counters and keeps `id → (allocs/op, B/op)`.
#[derive(Default)]
struct Counted {
    rows: BTreeMap<String, (f64, f64)>,
}

impl Driver for Counted {
    fn run<R>(&mut self, id: &str, elements: u64, mut routine: impl FnMut() -> R) {
        let calls = (OPERATIONS / elements.max(1)).max(1);
        // A pool grows to its steady state first, as in criterion's warm-up.
        for _ in 0..calls.div_ceil(10) {
            std::hint::black_box(routine());
        }
        let (allocations, bytes) = (ALLOCATIONS.load(Relaxed), BYTES.load(Relaxed));
        for _ in 0..calls {
            std::hint::black_box(routine());
        }
        let operations = (calls * elements.max(1)) as f64;
        let allocations = (ALLOCATIONS.load(Relaxed) - allocations) as f64 / operations;
        let bytes = (BYTES.load(Relaxed) - bytes) as f64 / operations;
        self.rows.insert(id.to_owned(), (allocations, bytes));
    }
}

fn main() -> std::io::Result<()> {
    // cargo passes `--bench`; any other argument names a group to count.
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    type Rows = fn(&mut Counted);
    let groups: [(&str, Rows); 7] = [
        ("custom_allocators", |d| custom_allocators::rows(d)),
        ("size_class_lookup", |d| size_class_lookup::rows(d)),
        ("pool_allocator", |d| pool_allocator::rows(d)),
        ("buffer_pool", |d| buffer_pool::rows(d)),
        ("string_builder_pool", |d| string_builder_pool::rows(d)),
        ("worker_pool", |d| worker_pool::rows(d)),
        ("connection_pool", |d| connection_pool::rows(d)),
    ];
    let out = common::workbook_dir().join("allocs");
    std::fs::create_dir_all(&out)?;
    for (group, rows) in groups {
        if !wanted.is_empty() && !wanted.iter().any(|w| w == group) {
            continue;
        }
        let mut counted = Counted::default();
        rows(&mut counted);
        let json: serde_json::Map<String, serde_json::Value> = counted
            .rows
            .iter()
            .map(|(id, &(allocs, bytes))| {
                (
                    id.clone(),
                    serde_json::json!({ "allocs_per_op": allocs, "bytes_per_op": bytes }),
                )
            })
            .collect();
        let path = out.join(format!("{group}.json"));
        std::fs::write(&path, serde_json::to_string_pretty(&json)?)?;
        println!(
            "{group}: allocations counted for {} rows -> {}",
            counted.rows.len(),
            path.display()
        );
        for (id, (allocs, bytes)) in &counted.rows {
            println!("  {id:<32} {allocs:>10.3} allocs/op {bytes:>12.1} B/op");
        }
    }
    Ok(())
}
