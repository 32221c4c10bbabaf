//! Chapter 03 tests. The very same file runs against your exercise
//! (`cargo run -- check 03`) and against the reference solution (`cargo test`).

use std::alloc::Layout;
use std::cell::Cell;

use stack_allocator::{
    AllocError, BUFFER_ALIGN, ConfigError, ResetError, StackAllocator, StackStats,
};

/// Builds an allocator the test needs, with a message that says which one failed.
fn stack(bytes: usize) -> StackAllocator {
    StackAllocator::with_capacity(bytes).unwrap_or_else(|err| {
        panic!("StackAllocator::with_capacity({bytes}) must succeed, but it said: {err}")
    })
}

/// The address range `[start, start + len)` of a reference's target.
fn range_of<T: ?Sized>(value: &T) -> std::ops::Range<usize> {
    let start = (value as *const T).cast::<u8>() as usize;
    start..start + std::mem::size_of_val(value)
}

// ---------------------------------------------------------------- bad input

#[test]
fn with_capacity_rejects_zero_bytes() {
    assert_eq!(
        StackAllocator::with_capacity(0).err(),
        Some(ConfigError::ZeroCapacity),
        "a buffer of 0 bytes can hold nothing, so with_capacity(0) must fail"
    );
}

/// The largest capacity that is not `TooLarge` on this target. Working out
/// why it is this number is one of the lesson's questions.
#[cfg(target_pointer_width = "64")]
const LARGEST_CAPACITY: usize = 9_223_372_036_854_775_744;
#[cfg(target_pointer_width = "32")]
const LARGEST_CAPACITY: usize = 2_147_483_584;

#[test]
fn with_capacity_rejects_a_buffer_that_would_exceed_isize_max_once_rounded_up() {
    for bytes in [
        LARGEST_CAPACITY + 1,
        isize::MAX as usize - 1,
        isize::MAX as usize,
        isize::MAX as usize + 1,
        usize::MAX,
    ] {
        assert_eq!(
            StackAllocator::with_capacity(bytes).err(),
            Some(ConfigError::TooLarge { bytes }),
            "with_capacity({bytes}) must be TooLarge: the buffer is made of whole \
             {BUFFER_ALIGN}-byte chunks, and {bytes} bytes rounded up to them would span more \
             than isize::MAX bytes, which no Rust allocation may"
        );
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri stops at huge allocations instead of failing them"
)]
fn with_capacity_reports_a_buffer_the_allocator_cannot_provide() {
    for bytes in [1 << 60, LARGEST_CAPACITY] {
        assert_eq!(
            StackAllocator::with_capacity(bytes).err(),
            Some(ConfigError::OutOfMemory { bytes }),
            "with_capacity({bytes}) must be OutOfMemory: rounded up to whole chunks the buffer \
             still fits in isize::MAX bytes, so it is not TooLarge, but no machine has that \
             much memory; the caller must get an error it can handle, not an aborted process"
        );
    }
}

#[test]
fn errors_explain_themselves() {
    // Each message must name every number its variant carries (the error
    // enums' doc comments say so), so a user can see what went wrong.
    let messages: [(String, &[&str]); 6] = [
        (ConfigError::ZeroCapacity.to_string(), &["0"]),
        (ConfigError::TooLarge { bytes: 123 }.to_string(), &["123"]),
        (
            ConfigError::OutOfMemory { bytes: 456 }.to_string(),
            &["456"],
        ),
        (
            AllocError::OutOfSpace {
                requested: 1000,
                align: 16,
                remaining: 42,
            }
            .to_string(),
            &["1000", "16", "42"],
        ),
        (ResetError::ForeignMarker.to_string(), &[]),
        (
            ResetError::AlreadyFreed {
                offset: 77,
                used: 53,
            }
            .to_string(),
            &["77", "53"],
        ),
    ];
    for (message, expected) in &messages {
        for part in *expected {
            assert!(
                message.contains(part),
                "the message {message:?} should contain {part:?}: an error message names the \
                 numbers its variant carries, so the user knows what happened"
            );
        }
    }
    for (i, (first, _)) in messages.iter().enumerate() {
        for (second, _) in &messages[i + 1..] {
            assert_ne!(
                first, second,
                "two different errors print the same message {first:?}: each variant must say \
                 what went wrong in its own words, so the user can tell them apart"
            );
        }
    }
    let errors: [Box<dyn std::error::Error>; 3] = [
        Box::new(ConfigError::ZeroCapacity),
        Box::new(ResetError::ForeignMarker),
        Box::new(AllocError::OutOfSpace {
            requested: 1,
            align: 1,
            remaining: 0,
        }),
    ];
    for err in &errors {
        assert!(
            !err.to_string().is_empty(),
            "{err:?} must describe itself through std::error::Error, but its message is empty"
        );
    }
}

// ---------------------------------------------------------------- allocating

#[test]
fn a_new_allocator_is_empty() {
    let stack = stack(1000);
    assert_eq!(
        (stack.capacity(), stack.used(), stack.remaining()),
        (1000, 0, 1000),
        "a fresh allocator of 1000 bytes has used none of them"
    );
    assert_eq!(
        stack.stats(),
        StackStats::default(),
        "nothing has happened yet"
    );
}

#[test]
fn the_buffer_starts_at_a_multiple_of_buffer_align() {
    for capacity in [1, 63, 64, 100] {
        let stack = stack(capacity);
        let first = range_of(stack.alloc(0_u8).expect("one byte fits")).start;
        assert_eq!(
            first % BUFFER_ALIGN,
            0,
            "the first byte of a {capacity}-byte allocator is at {first:#x}, not a multiple of \
             BUFFER_ALIGN = {BUFFER_ALIGN}: the buffer must start there, so that padding for \
             alignments up to {BUFFER_ALIGN} is the same wherever the buffer lies"
        );
        assert_eq!(
            stack.capacity(),
            capacity,
            "capacity() is what was asked for, not the rounded-up buffer"
        );
    }
}

#[test]
fn alloc_moves_a_value_in_and_returns_a_mutable_reference() {
    let stack = stack(256);
    let number = stack.alloc(40_u64).expect("8 bytes fit in 256");
    let word = stack.alloc(*b"pool").expect("4 bytes fit");
    *number += 2;
    word[0] = b'P';
    assert_eq!(
        *number, 42,
        "the reference must point at the value moved in"
    );
    assert_eq!(
        word, b"Pool",
        "each allocation is a separate, writable value"
    );
    assert_eq!(
        stack.used(),
        12,
        "8 bytes then 4 bytes, no padding needed between them"
    );
}

#[test]
fn allocations_are_aligned_for_their_type() {
    #[repr(align(64))]
    struct CacheLine([u8; 64]);

    let stack = stack(4096);
    stack.alloc(1_u8).expect("room for a byte"); // leave the top misaligned
    let line = stack
        .alloc(CacheLine([7; 64]))
        .expect("room for a cache line");
    assert_eq!(line.0[63], 7, "the value moved in must be readable");
    let line_start = range_of(line).start;
    let checks = [
        range_of(stack.alloc(1_u16).expect("room")).start % 2,
        range_of(stack.alloc(1_u32).expect("room")).start % 4,
        range_of(stack.alloc(1_u64).expect("room")).start % 8,
        range_of(stack.alloc(1_u128).expect("room")).start % std::mem::align_of::<u128>(),
        line_start % 64,
    ];
    assert_eq!(
        checks, [0; 5],
        "every value must start at a multiple of its type's alignment (the remainders for \
         u16, u32, u64, u128 and a 64-aligned struct, after a 1-byte value, must all be 0); a \
         misaligned reference is undefined behaviour, and some CPUs fault on it"
    );
}

#[test]
fn alloc_layout_honours_every_alignment_from_1_to_4096() {
    let stack = stack(3 * 4096);
    let mut align = 1;
    while align <= 4096 {
        stack.alloc(0_u8).expect("room for one byte"); // misalign the top again
        let layout = Layout::from_size_align(3, align).expect("a valid layout");
        let ptr = stack
            .alloc_layout(layout)
            .unwrap_or_else(|err| panic!("3 bytes aligned to {align} must fit: {err}"));
        assert_eq!(
            ptr.as_ptr() as usize % align,
            0,
            "alloc_layout with align {align} returned {:p}, which is not a multiple of {align}",
            ptr.as_ptr()
        );
        align *= 2;
    }
}

#[test]
fn alignments_above_buffer_align_are_met_wherever_the_buffer_lies() {
    // The buffer starts at a multiple of BUFFER_ALIGN; whether it also starts
    // at a multiple of 128 or 4096 is up to the global allocator, so these
    // alignments can only be met by looking at the address.
    let big = stack(64 * 1024);
    for round in 0..4 {
        for align in [128, 256, 4096] {
            big.alloc([0_u8; 3]).expect("room for three bytes"); // an odd size, to misalign the top
            let layout = Layout::from_size_align(5, align).expect("a valid layout");
            let ptr = big.alloc_layout(layout).unwrap_or_else(|err| {
                panic!("5 bytes aligned to {align} must fit in 64 KiB (round {round}): {err}")
            });
            assert_eq!(
                ptr.as_ptr() as usize % align,
                0,
                "alloc_layout with align {align} returned {:p}, which is not a multiple of \
                 {align} (round {round}); the buffer itself need not start at a multiple of {align}",
                ptr.as_ptr()
            );
        }
    }

    // No buffer starts at a multiple of this alignment, so it can never be met
    // at the very start of a buffer.
    let far = isize::MAX as usize / 2 + 1;
    let fresh = stack(4096);
    let layout = Layout::from_size_align(1, far).expect("a valid layout");
    match fresh.alloc_layout(layout) {
        Ok(ptr) => assert_eq!(
            ptr.as_ptr() as usize % far,
            0,
            "alloc_layout with align {far:#x} returned {:p}, which is not a multiple of it: the \
             offset in the buffer is 0, but the address is what must be aligned",
            ptr.as_ptr()
        ),
        Err(err) => assert_eq!(
            err,
            AllocError::OutOfSpace {
                requested: 1,
                align: far,
                remaining: 4096,
            },
            "1 byte aligned to {far:#x} cannot fit in a 4096-byte buffer that does not start at \
             a multiple of it: OutOfSpace, with the numbers of the request"
        ),
    }
}

#[test]
fn allocations_never_overlap_and_keep_their_values() {
    let stack = stack(1024);
    let a = stack.alloc([0xAA_u8; 7]).expect("room");
    let b = stack.alloc(0xBBBB_BBBB_u32).expect("room");
    let c = stack.alloc_slice_copy(&[0xCC_u16; 9]).expect("room");
    let d = stack.alloc_str("ddd").expect("room");
    let mut ranges = [range_of(&*a), range_of(&*b), range_of(&*c), range_of(&*d)];
    ranges.sort_by_key(|r| r.start);
    for pair in ranges.windows(2) {
        assert!(
            pair[0].end <= pair[1].start,
            "the allocation at {:#x}..{:#x} overlaps the one at {:#x}: two live values may \
             never share a byte, or writing one changes the other",
            pair[0].start,
            pair[0].end,
            pair[1].start
        );
    }
    assert_eq!(
        (*a, *b, &c[..], &d[..]),
        ([0xAA; 7], 0xBBBB_BBBB, &[0xCC; 9][..], "ddd"),
        "writing one allocation must not change another"
    );
}

#[test]
fn alloc_slice_copy_and_alloc_str_copy_their_input() {
    let stack = stack(256);
    let source = [1_i32, -2, 3];
    let copy = stack.alloc_slice_copy(&source).expect("12 bytes fit");
    copy[1] = 20;
    assert_eq!(
        copy,
        [1, 20, 3],
        "the copy must hold the source's values and be writable"
    );
    assert_eq!(
        source,
        [1, -2, 3],
        "writing the copy must not touch the source"
    );
    let text = stack.alloc_str("héllo").expect("6 bytes fit");
    text.make_ascii_uppercase();
    assert_eq!(
        text, "HéLLO",
        "alloc_str must copy every byte, multi-byte characters included"
    );
    let empty = stack
        .alloc_slice_copy::<u64>(&[])
        .expect("nothing always fits");
    assert!(empty.is_empty(), "an empty slice copies to an empty slice");
}

// ---------------------------------------------------------------- exhaustion

#[test]
fn exhaustion_is_an_error_that_says_what_was_requested_and_what_remained() {
    let stack = stack(16);
    stack.alloc([0_u8; 10]).expect("10 of 16 bytes fit");
    let err = stack
        .alloc([0_u64; 1])
        .expect_err("8 bytes after 6 of padding do not fit");
    assert_eq!(
        err,
        AllocError::OutOfSpace {
            requested: 8,
            align: 8,
            remaining: 6,
        },
        "a u64 needs 8 bytes aligned to 8; 6 bytes remain, so the error must say so"
    );
    assert_eq!(
        stack.used(),
        10,
        "a refused allocation must leave the allocator unchanged"
    );
    stack
        .alloc([0_u8; 6])
        .expect("the 6 remaining bytes are still there");
    assert!(
        stack.alloc(0_u8).is_err(),
        "a full buffer refuses even one byte"
    );
    assert!(
        stack.alloc(()).is_ok(),
        "a zero-sized value needs no room, even when full"
    );
    assert_eq!(
        stack.stats().failed,
        2,
        "the u64 and the byte that did not fit are the two refusals"
    );
}

#[test]
fn a_value_that_does_not_fit_is_dropped_not_leaked() {
    struct Noisy<'a>(&'a Cell<u32>, #[allow(dead_code)] [u8; 32]);
    impl Drop for Noisy<'_> {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }

    let drops = Cell::new(0);
    let stack = stack(16);
    let refused = stack.alloc(Noisy(&drops, [0; 32])).map(|_| ());
    assert!(
        matches!(refused, Err(AllocError::OutOfSpace { .. })),
        "a 40-byte value cannot fit in 16 bytes, so alloc must be OutOfSpace, but it was \
         {refused:?}"
    );
    assert_eq!(
        drops.get(),
        1,
        "alloc promises that a value it refuses is dropped: the caller gave it away, so \
         nobody else can drop it, and forgetting it would leak what it owns"
    );
}

#[test]
fn padding_larger_than_what_remains_is_refused_not_an_underflow() {
    let stack = stack(12);
    stack.alloc([0_u8; 9]).expect("9 of 12 bytes fit");
    assert_eq!(
        stack.alloc(0_u64),
        Err(AllocError::OutOfSpace {
            requested: 8,
            align: 8,
            remaining: 3,
        }),
        "a u64 after 9 bytes needs 7 bytes of padding, more than the 3 bytes that remain, \
         so it does not fit: alloc must return OutOfSpace with these numbers"
    );
    assert_eq!(stack.used(), 9, "a refused allocation changes nothing");
}

#[test]
fn zero_sized_requests_always_succeed_and_use_no_room() {
    #[derive(Clone, Copy)]
    #[repr(align(64))]
    struct AlignedNothing;

    let stack = stack(16);
    stack.alloc(1_u8).expect("room for a byte"); // the top is now misaligned
    let empty = range_of(stack.alloc_slice_copy::<u64>(&[]).expect("nothing fits")).start;
    let aligned = range_of(stack.alloc(AlignedNothing).expect("nothing fits")).start;
    assert_eq!(
        (empty % 8, aligned % 64),
        (0, 0),
        "even a zero-sized value gets a pointer aligned for its type"
    );
    assert_eq!(
        stack.used(),
        1,
        "a zero-sized request takes no bytes and no padding: the top must not move"
    );
    stack.alloc([0_u8; 15]).expect("the other 15 bytes fit");
    let page = Layout::from_size_align(0, 4096).expect("a valid layout");
    let nothing = stack
        .alloc_layout(page)
        .expect("a full buffer still has room for nothing, whatever its alignment");
    assert_eq!(
        nothing.as_ptr() as usize % 4096,
        0,
        "a zero-sized request aligned to 4096 gets an address that is a multiple of 4096"
    );
    stack
        .alloc(AlignedNothing)
        .expect("a full buffer still has room for a zero-sized value aligned to 64");
    assert_eq!(
        (stack.used(), stack.stats().allocs, stack.stats().failed),
        (16, 6, 0),
        "six allocations succeeded, four of them zero-sized, and none was refused"
    );
}

#[test]
fn huge_requests_are_errors_never_panics_or_ub() {
    let stack = stack(64);
    let biggest = Layout::from_size_align(isize::MAX as usize, 1).expect("the largest layout");
    assert_eq!(
        stack.alloc_layout(biggest),
        Err(AllocError::OutOfSpace {
            requested: isize::MAX as usize,
            align: 1,
            remaining: 64,
        }),
        "isize::MAX bytes cannot fit in 64: alloc_layout must return OutOfSpace with the \
         numbers of the request, like any other request that does not fit"
    );
    stack.alloc(1_u8).expect("room");
    let aligned = Layout::from_size_align(isize::MAX as usize - 4095, 4096).expect("valid");
    assert_eq!(
        stack.alloc_layout(aligned),
        Err(AllocError::OutOfSpace {
            requested: isize::MAX as usize - 4095,
            align: 4096,
            remaining: 63,
        }),
        "a huge size aligned to 4096 after 1 byte cannot fit in the 63 bytes left: \
         alloc_layout must return OutOfSpace with the numbers of the request"
    );
    assert_eq!(stack.used(), 1, "refused requests change nothing");
    let nothing: Vec<()> = vec![(); usize::MAX];
    let copied = stack
        .alloc_slice_copy(&nothing)
        .expect("zero-sized values take no room");
    assert_eq!(
        copied.len(),
        usize::MAX,
        "a slice of usize::MAX zero-sized values is 0 bytes: its copy must succeed and have \
         the same length"
    );
    assert_eq!(stack.stats().failed, 2, "the two refusals must be counted");
}

// ---------------------------------------------------------------- markers

#[test]
fn reset_to_a_marker_frees_everything_allocated_after_it() {
    let mut stack = stack(256);
    stack.alloc(1_u64).expect("room");
    let mark = stack.marker();
    stack.alloc([0_u8; 100]).expect("room");
    stack.alloc_str("temporary").expect("room");
    stack
        .reset_to(mark)
        .expect("a marker of this allocator, not yet freed");
    assert_eq!(
        stack.used(),
        8,
        "only the u64 allocated before the marker may remain"
    );
    let again = stack
        .alloc([7_u8; 100])
        .expect("the freed room is usable again");
    assert_eq!(again[99], 7);
}

#[test]
fn markers_nest_like_a_stack() {
    let mut stack = stack(256);
    let outer = stack.marker();
    stack.alloc([0_u8; 10]).expect("room");
    let inner = stack.marker();
    stack.alloc([0_u8; 20]).expect("room");
    stack
        .reset_to(inner)
        .expect("the inner marker is still valid");
    assert_eq!(
        stack.used(),
        10,
        "resetting to the inner marker frees only the inner 20 bytes"
    );
    stack
        .reset_to(outer)
        .expect("the outer marker is still valid after the inner reset");
    assert_eq!(
        stack.used(),
        0,
        "resetting to the outer marker frees everything"
    );
    stack
        .reset_to(outer)
        .expect("resetting to the same marker twice is harmless");
}

#[test]
fn reset_to_rejects_a_marker_from_another_allocator() {
    let mut mine = stack(64);
    let theirs = stack(64);
    theirs.alloc(1_u8).expect("room");
    let foreign = theirs.marker();
    let own = mine.marker();
    mine.alloc([0_u8; 8]).expect("room");
    let before = mine.stats();
    assert_eq!(
        mine.reset_to(foreign),
        Err(ResetError::ForeignMarker),
        "a marker remembers its allocator; another allocator's marker means nothing here"
    );
    assert_unchanged(&mine, before, "a ForeignMarker");

    theirs.alloc([0_u8; 40]).expect("room");
    let foreign_and_high = theirs.marker();
    assert_eq!(
        mine.reset_to(foreign_and_high),
        Err(ResetError::ForeignMarker),
        "this marker comes from another allocator and its offset (41) is also above this \
         allocator's top (8); reset_to's contract says ForeignMarker wins, since the offset of \
         another allocator's marker says nothing about this one"
    );
    assert_unchanged(&mine, before, "a second ForeignMarker");
    mine.reset_to(own).expect(
        "refused resets change nothing, so a marker of this allocator taken before them \
         is still valid",
    );
}

/// Checks that a refused reset changed nothing: the counters, the bytes in
/// use and the peak are what they were before it.
fn assert_unchanged(stack: &StackAllocator, before: StackStats, refusal: &str) {
    assert_eq!(
        stack.stats(),
        before,
        "reset_to promises that nothing changes on an error, but after {refusal} the stats \
         differ from those before it (a refused reset is not a reset)"
    );
}

#[test]
fn reset_to_rejects_a_marker_whose_memory_was_already_freed() {
    let mut stack = stack(64);
    let outer = stack.marker();
    stack.alloc([0_u8; 16]).expect("room");
    let inner = stack.marker();
    stack.reset_to(outer).expect("valid");
    let before = stack.stats();
    assert_eq!(
        stack.reset_to(inner),
        Err(ResetError::AlreadyFreed {
            offset: 16,
            used: 0
        }),
        "the inner marker points at offset 16, but only 0 bytes are in use: it was freed"
    );
    assert_unchanged(&stack, before, "an AlreadyFreed above the top");
    stack.alloc([0_u8; 32]).expect("room");
    let before_reset = stack.marker();
    stack.reset();
    stack.alloc([0_u8; 48]).expect("room");
    let current = stack.marker();
    let before = stack.stats();
    assert_eq!(
        stack.reset_to(before_reset),
        Err(ResetError::AlreadyFreed {
            offset: 32,
            used: 48
        }),
        "a full reset frees every marker taken before it, even when the top has grown past \
         them: the marker's generation is older than the allocator's"
    );
    assert_unchanged(&stack, before, "an AlreadyFreed from an older generation");
    stack.reset_to(current).expect(
        "refused resets change nothing, so a marker of the current generation taken before \
         them is still valid",
    );
}

#[test]
fn a_marker_below_the_top_of_the_same_generation_is_accepted() {
    // What AlreadyFreed promises, exactly: it catches a marker above the top
    // or from before a full reset. A marker freed by a reset to an earlier
    // marker is accepted again once the top has grown back past it; resetting
    // to it then frees whatever lies above its offset now, which is safe.
    let mut stack = stack(64);
    let outer = stack.marker();
    stack.alloc([0_u8; 8]).expect("room");
    let inner = stack.marker();
    stack.reset_to(outer).expect("valid");
    stack.alloc([0_u8; 24]).expect("room");
    stack.reset_to(inner).expect(
        "the inner marker's offset (8) is below the top (24) and no full reset came \
                 after it, so reset_to cannot tell it was freed and must accept it",
    );
    assert_eq!(
        stack.used(),
        8,
        "resetting to a marker moves the top to the marker's offset"
    );
}

#[test]
fn scope_frees_everything_its_closure_allocated() {
    let mut stack = stack(256);
    stack.alloc(5_u32).expect("room");
    let total = stack.scope(|scratch| {
        let values = scratch.alloc_slice_copy(&[1_u64, 2, 3]).expect("room");
        let label = scratch.alloc_str("sum").expect("room");
        values.iter().sum::<u64>() + label.len() as u64
    });
    assert_eq!(total, 9, "scope must return what the closure returned");
    assert_eq!(
        stack.used(),
        4,
        "scope must free everything the closure allocated, and only that"
    );
}

#[test]
fn reset_makes_the_whole_buffer_reusable() {
    let mut stack = stack(64);
    let first = range_of(stack.alloc([1_u8; 64]).expect("exactly fits")).start;
    assert!(stack.alloc(0_u8).is_err(), "the buffer is full");
    stack.reset();
    assert_eq!(stack.remaining(), 64, "after reset, every byte is free");
    let again = range_of(stack.alloc([2_u8; 64]).expect("fits again")).start;
    assert_eq!(
        again, first,
        "after reset, allocation starts again at the buffer's beginning"
    );
}

#[test]
fn values_are_never_dropped() {
    struct Noisy<'a>(&'a Cell<u32>);
    impl Drop for Noisy<'_> {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }

    let drops = Cell::new(0);
    {
        let mut stack = stack(256);
        stack.alloc(Noisy(&drops)).expect("room");
        stack.scope(|scratch| {
            scratch.alloc(Noisy(&drops)).expect("room");
        });
        stack.reset();
        stack.alloc(Noisy(&drops)).expect("room");
    }
    assert_eq!(
        drops.get(),
        0,
        "the allocator forgets values instead of dropping them (a reset cannot know what \
         types it frees); the chapter documents this choice"
    );
}

#[test]
fn stats_count_allocs_failures_resets_and_the_peak() {
    let mut stack = stack(32);
    stack.alloc([0_u8; 20]).expect("room");
    let mark = stack.marker();
    stack.alloc([0_u8; 12]).expect("room");
    assert!(stack.alloc(0_u8).is_err(), "full");
    stack.reset_to(mark).expect("valid");
    stack.scope(|s| {
        s.alloc(0_u16).expect("room");
    });
    assert_eq!(
        stack.stats(),
        StackStats {
            allocs: 3,
            failed: 1,
            used: 20,
            peak_used: 32,
            resets: 2,
        },
        "3 allocations succeeded and 1 failed; a reset_to and a scope make 2 resets; \
         32 bytes were in use at the peak and 20 are now"
    );
}

#[test]
fn peak_used_counts_the_bytes_in_use_now() {
    let mut stack = stack(64);
    stack.alloc([0_u8; 20]).expect("room");
    assert_eq!(
        (stack.stats().used, stack.stats().peak_used),
        (20, 20),
        "20 bytes are in use and no reset has happened: the peak is now, 20 bytes"
    );
    stack.reset();
    stack.alloc([0_u8; 8]).expect("room");
    assert_eq!(
        (stack.stats().used, stack.stats().peak_used),
        (8, 20),
        "after a reset 8 bytes are in use, but 20 were in use before: the peak stays 20"
    );
    stack.alloc([0_u8; 22]).expect("room");
    assert_eq!(
        (stack.stats().used, stack.stats().peak_used),
        (30, 30),
        "30 bytes in use is a new peak, and it counts as soon as it is reached, not only at \
         the next reset"
    );
}

#[test]
fn debug_shows_the_capacity_and_the_bytes_in_use() {
    let stack = stack(100);
    stack.alloc([0_u8; 30]).expect("room");
    let debug = format!("{stack:?}");
    assert!(
        debug.contains("100") && debug.contains("30"),
        "{{:?}} of an allocator should show its capacity (100) and what is in use (30), \
         but it printed {debug:?}"
    );
}

#[test]
fn the_allocator_can_move_to_another_thread() {
    let stack = stack(128);
    let handle = std::thread::spawn(move || {
        let value = *stack.alloc(7_u32).expect("room");
        (value, stack.used())
    });
    assert_eq!(
        handle.join().expect("the other thread must not panic"),
        (7, 4),
        "an allocator moved to another thread must work there (it is Send)"
    );
}
