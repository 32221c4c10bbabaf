//! `cargo bench --bench custom_allocators`: the custom allocators of chapters
//! 01–03 against plain heap allocation and the crates a user would pick.
//!
//! Every id measures one allocation plus its release. `black_box(&value)` keeps
//! the compiler from proving the allocation unused and deleting it. It takes a
//! reference on purpose: `black_box(value)` of a 16-byte value makes the CPU
//! store it as two halves and reload it as one, a store-forwarding stall that
//! costs more than the pool itself (the `fixed_size_pool_by_value` id shows it).
//! `cargo bench --features learner` adds the learner's crates as `learner/…`.
//!
//! The rows are written once, in [`rows`]: criterion times them here, and
//! `benches/alloc_counts.rs` counts their heap allocations in another process.

use std::hint::black_box;

use bumpalo::Bump;
use criterion::{Criterion, criterion_group, criterion_main};
use fixed_size_pool::FixedSizePool;
use size_class_allocator::SizeClassAllocator;
use slab::Slab;
use stack_allocator::StackAllocator;

#[path = "common/mod.rs"]
mod common;
use crate::common::{Driver, Timed, ready};

/// The block size every id in this group uses.
const BLOCK: usize = 64;
/// How many blocks each pool holds; only one is in use at a time.
const CAPACITY: usize = 1024;
// ANCHOR: mixed_sizes
/// The mixed workload: seven request sizes from 16 B to 8 KiB, in turn.
const MIXED_SIZES: [usize; 7] = [16, 64, 200, 512, 1500, 4096, 8192];
// ANCHOR_END: mixed_sizes
/// Bump allocators are reset after this many 64-byte values.
const FRAME: usize = 4096;

/// Every row of the group, run by `d`.
pub fn rows(d: &mut impl Driver) {
    if let Some(pool) = ready("fixed_size_pool", || {
        let pool = FixedSizePool::new(BLOCK, CAPACITY).expect("a valid pool");
        drop(pool.alloc().expect("a fresh pool has a free block"));
        pool
    }) {
        // ANCHOR: fixed_size_pool
        d.run("fixed_size_pool", 1, || {
            let block = pool.alloc();
            black_box(&block);
        });
        // ANCHOR_END: fixed_size_pool

        // ANCHOR: by_value
        d.run("fixed_size_pool_by_value", 1, || black_box(pool.alloc()));
        // ANCHOR_END: by_value
    }

    // ANCHOR: standard_allocation
    d.run("standard_allocation", 1, || {
        let boxed = Box::new([0u8; BLOCK]);
        black_box(&boxed);
    });
    // ANCHOR_END: standard_allocation

    // ANCHOR: slab
    let mut slab = Slab::with_capacity(CAPACITY);
    d.run("slab", 1, || {
        let key = slab.insert([0u8; BLOCK]);
        black_box(&key);
        black_box(&slab.remove(key));
    });
    // ANCHOR_END: slab

    if let Some(heap) = ready("size_class_allocator", || {
        let heap = SizeClassAllocator::new();
        drop(heap.alloc(64));
        heap
    }) {
        // ANCHOR: size_class_allocator
        let mut sizes = MIXED_SIZES.iter().copied().cycle();
        d.run("size_class_allocator", 1, || {
            let allocation = heap.alloc(black_box(sizes.next().unwrap_or(64)));
            black_box(&allocation);
        });
        // ANCHOR_END: size_class_allocator
    }

    // ANCHOR: standard_allocation_mixed
    let mut sizes = MIXED_SIZES.iter().copied().cycle();
    d.run("standard_allocation_mixed", 1, || {
        let allocation: Vec<u8> = Vec::with_capacity(black_box(sizes.next().unwrap_or(64)));
        black_box(&allocation);
    });
    // ANCHOR_END: standard_allocation_mixed

    #[cfg(feature = "learner")]
    if let Some(heap) = ready("learner/size_class_allocator", || {
        let heap = learner_size_class_allocator::SizeClassAllocator::new();
        drop(heap.alloc(64));
        heap
    }) {
        let mut sizes = MIXED_SIZES.iter().copied().cycle();
        d.run("learner/size_class_allocator", 1, || {
            let allocation = heap.alloc(black_box(sizes.next().unwrap_or(64)));
            black_box(&allocation);
        });
    }

    #[cfg(feature = "learner")]
    if let Some(pool) = ready("learner/fixed_size_pool", || {
        let pool = learner_fixed_size_pool::FixedSizePool::new(BLOCK, CAPACITY)
            .expect("the learner's pool accepts 1024 blocks of 64 bytes");
        drop(pool.alloc());
        pool
    }) {
        d.run("learner/fixed_size_pool", 1, || {
            let block = pool.alloc();
            black_box(&block);
        });
    }

    // Bump allocators run one whole frame per call: FRAME allocations, then
    // one reset. The figures are per allocation, reset included.
    if let Some(mut stack) = ready("stack_allocator", || {
        let mut stack = StackAllocator::with_capacity(BLOCK * FRAME).expect("a valid capacity");
        let _ = stack.alloc([0u8; BLOCK]).expect("room for one value");
        stack.reset();
        stack
    }) {
        // ANCHOR: stack_allocator
        d.run("stack_allocator", FRAME as u64, || {
            for _ in 0..FRAME {
                if let Ok(value) = stack.alloc([0u8; BLOCK]) {
                    black_box(value);
                }
            }
            stack.reset();
        });
        // ANCHOR_END: stack_allocator
    }

    // ANCHOR: bumpalo
    let mut bump = Bump::with_capacity(BLOCK * FRAME);
    d.run("bumpalo", FRAME as u64, || {
        for _ in 0..FRAME {
            black_box(bump.alloc([0u8; BLOCK]));
        }
        bump.reset();
    });
    // ANCHOR_END: bumpalo

    #[cfg(feature = "learner")]
    if let Some(mut stack) = ready("learner/stack_allocator", || {
        let mut stack = learner_stack_allocator::StackAllocator::with_capacity(BLOCK * FRAME)
            .expect("the learner's allocator accepts 256 KiB");
        let _ = stack.alloc([0u8; BLOCK]);
        stack.reset();
        stack
    }) {
        d.run("learner/stack_allocator", FRAME as u64, || {
            for _ in 0..FRAME {
                if let Ok(value) = stack.alloc([0u8; BLOCK]) {
                    black_box(value);
                }
            }
            stack.reset();
        });
    }
}

fn custom_allocators(c: &mut Criterion) {
    let mut timed = Timed::new(c, "custom_allocators");
    rows(&mut timed);
    timed.finish();
}

criterion_group!(benches, custom_allocators);
criterion_main!(benches);
