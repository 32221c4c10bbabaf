//! `cargo bench --bench size_class_lookup`: three ways to find the size class
//! of a request in Go's 66-class table. The workload is 1,024 request sizes
//! spread over 1 B to 32 KiB, looked up in turn.

//!
//! The rows are written once, in [`rows`]: criterion times them here, and
//! `benches/alloc_counts.rs` counts their heap allocations in another process.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use size_class_allocator::SizeClassAllocator;

#[path = "common/mod.rs"]
mod common;
use crate::common::{Driver, Timed};

/// 1,024 request sizes from 1 to 32,768 bytes, from a fixed pseudo-random
/// sequence, so every run looks up the same sizes.
fn request_sizes() -> Vec<usize> {
    let mut state: u32 = 0x2545_f491;
    (0..1024)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state % 32_768) as usize + 1
        })
        .collect()
}

/// Every row of the group, run by `d`.
pub fn rows(d: &mut impl Driver) {
    let heap = SizeClassAllocator::new();
    let classes = heap.classes().to_vec();
    let sizes = request_sizes();

    // ANCHOR: lookups
    let mut next = sizes.iter().copied().cycle();
    d.run("lookup_table", 1, || {
        heap.class_for(black_box(next.next().unwrap_or(1)))
    });

    let mut next = sizes.iter().copied().cycle();
    d.run("linear_scan", 1, || {
        let size = black_box(next.next().unwrap_or(1));
        classes.iter().copied().find(|&class| class >= size)
    });

    let mut next = sizes.iter().copied().cycle();
    d.run("binary_search", 1, || {
        let size = black_box(next.next().unwrap_or(1));
        classes
            .get(classes.partition_point(|&class| class < size))
            .copied()
    });
    // ANCHOR_END: lookups
}

fn size_class_lookup(c: &mut Criterion) {
    let mut timed = Timed::new(c, "size_class_lookup");
    rows(&mut timed);
    timed.finish();
}

criterion_group!(benches, size_class_lookup);
criterion_main!(benches);
