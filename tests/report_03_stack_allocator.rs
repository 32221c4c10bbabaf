//! Chapter 03's analysis, counted: a game-style frame loop that allocates
//! scratch values every frame and frees them all at the frame's end. It runs
//! once on a `StackAllocator` and once with a `Box` per value. The heap
//! allocations are counted on the test's own thread, through dhat's
//! allocator, and the report shows what alignment padding costs and how the
//! order of allocations changes it. One test only: dhat profiles the whole
//! process.

mod heap_profile;

use std::fmt::Write;
use std::hint::black_box;

use stack_allocator::StackAllocator;

// dhat's allocator, counting exactly what this test's own thread allocates
// (support/thread-heap says why a process-wide count is not enough).
#[global_allocator]
static ALLOC: thread_heap::Counting = thread_heap::Counting;

/// Heap allocations (and reallocations) made by this thread so far.
fn blocks() -> u64 {
    thread_heap::counts().made
}

/// Frames in the loop.
const FRAMES: u64 = 100;
/// Entities touched per frame; each needs a few scratch values.
const ENTITIES: u64 = 20;

/// A value that wants a cache line of its own.
#[derive(Clone, Copy)]
#[repr(align(64))]
struct CacheLine(#[expect(dead_code, reason = "only its size and alignment matter")] [u8; 64]);

/// The scratch values of one entity: a one-byte tag, an id, a position, a
/// name, and every fifth entity a cache-line-aligned block.
fn entity_values(stack: &StackAllocator, frame: u64, entity: u64) -> usize {
    let mut requested = 0;
    requested += size_of_val(stack.alloc(entity as u8).expect("room"));
    requested += size_of_val(stack.alloc(frame << 32 | entity).expect("room"));
    requested += size_of_val(stack.alloc([entity as f32; 3]).expect("room"));
    requested += stack
        .alloc_str(&format!("entity-{entity}"))
        .expect("room")
        .len();
    if entity % 5 == 0 {
        requested += size_of_val(stack.alloc(CacheLine([0; 64])).expect("room"));
    }
    requested
}

/// The same values, most-aligned first, for every entity of the frame.
fn grouped_by_alignment(stack: &StackAllocator, frame: u64) -> usize {
    let mut requested = 0;
    for entity in (0..ENTITIES).filter(|e| e % 5 == 0) {
        requested += size_of_val(stack.alloc(CacheLine([entity as u8; 64])).expect("room"));
    }
    for entity in 0..ENTITIES {
        requested += size_of_val(stack.alloc(frame << 32 | entity).expect("room"));
    }
    for entity in 0..ENTITIES {
        requested += size_of_val(stack.alloc([entity as f32; 3]).expect("room"));
    }
    for entity in 0..ENTITIES {
        requested += stack
            .alloc_str(&format!("entity-{entity}"))
            .expect("room")
            .len();
        requested += size_of_val(stack.alloc(entity as u8).expect("room"));
    }
    requested
}

#[test]
fn a_frame_loop_on_a_stack_allocator() {
    let _profiler = heap_profile::profiler();
    let mut stack = StackAllocator::with_capacity(64 * 1024).expect("64 KiB of scratch");

    // The names are formatted on the heap before they are copied, so count
    // the heap allocations of the loop without them: format them up front.
    let names: Vec<String> = (0..ENTITIES).map(|e| format!("entity-{e}")).collect();

    let start = blocks();
    let (mut interleaved_requested, mut interleaved_used) = (0, 0);
    for frame in 0..FRAMES {
        let mark = stack.marker();
        for (entity, name) in (0..ENTITIES).zip(&names) {
            black_box(stack.alloc(entity as u8).expect("room"));
            black_box(stack.alloc(frame << 32 | entity).expect("room"));
            black_box(stack.alloc([entity as f32; 3]).expect("room"));
            black_box(stack.alloc_str(name).expect("room"));
            if entity % 5 == 0 {
                black_box(stack.alloc(CacheLine([0; 64])).expect("room"));
            }
        }
        interleaved_used = stack.used();
        stack.reset_to(mark).expect("this frame's marker");
    }
    let stack_heap = blocks() - start;

    let start = blocks();
    for frame in 0..FRAMES {
        let mut frame_values = Vec::with_capacity(0);
        for (entity, name) in (0..ENTITIES).zip(&names) {
            black_box(Box::new(entity as u8));
            black_box(Box::new(frame << 32 | entity));
            black_box(Box::new([entity as f32; 3]));
            frame_values.push(black_box(name.clone()));
            if entity % 5 == 0 {
                black_box(Box::new(CacheLine([0; 64])));
            }
        }
        drop(frame_values);
    }
    let box_heap = blocks() - start;

    // Padding: requested bytes against bytes used, in two orders.
    stack.reset();
    for entity in 0..ENTITIES {
        interleaved_requested += entity_values(&stack, 0, entity);
    }
    assert_eq!(
        stack.used(),
        interleaved_used,
        "the same frame must use the same bytes"
    );
    stack.reset();
    let grouped_requested = grouped_by_alignment(&stack, 0);
    let grouped_used = stack.used();
    assert_eq!(
        grouped_requested, interleaved_requested,
        "the same values, reordered"
    );

    let stats = stack.stats();
    let mut report = String::new();
    writeln!(
        report,
        "{FRAMES} frames; each allocates scratch values for {ENTITIES} entities and resets at its end."
    )
    .unwrap();
    writeln!(
        report,
        "per entity: u8 tag, u64 id, [f32; 3] position, name string, and every 5th a 64-byte-aligned block\n"
    )
    .unwrap();
    writeln!(
        report,
        "one frame                       requested  used  padding"
    )
    .unwrap();
    for (label, requested, used) in [
        ("in entity order", interleaved_requested, interleaved_used),
        (
            "grouped, most-aligned first",
            grouped_requested,
            grouped_used,
        ),
    ] {
        writeln!(
            report,
            "{label:<30}  {requested:>9}  {used:>4}  {:>4} ({:.0}%)",
            used - requested,
            (used - requested) as f64 * 100.0 / used as f64
        )
        .unwrap();
    }
    writeln!(
        report,
        "\nallocator stats: {} allocs, {} failed, {} resets, peak {} of {} bytes",
        stats.allocs,
        stats.failed,
        stats.resets,
        stats.peak_used,
        stack.capacity()
    )
    .unwrap();
    writeln!(report, "\nheap allocations for all frames (dhat)").unwrap();
    writeln!(report, "StackAllocator      {stack_heap:>5}").unwrap();
    writeln!(report, "a Box per value     {box_heap:>5}").unwrap();

    // The book includes the report without insta's header (`verify` checks the line).
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!("frames", report);
    });
}
