//! Chapter 02 tests. The very same file runs against your exercise
//! (`cargo run -- check 02`) and against the reference solution (`cargo test`).

use size_class_allocator::{
    Allocation, AllocatorStats, ClassStats, ConfigError, MAX_CLASS_SIZE, MAX_CLASSES,
    SizeClassAllocator,
};

/// Builds an allocator from a table the test knows is valid.
fn with_classes(sizes: &[usize]) -> SizeClassAllocator {
    SizeClassAllocator::with_classes(sizes)
        .unwrap_or_else(|err| panic!("with_classes({sizes:?}) must succeed, but it said: {err}"))
}

/// The answer `class_for` must give, found the slow way: the first class >= size.
fn scan(classes: &[usize], size: usize) -> Option<usize> {
    if size == 0 {
        return None;
    }
    classes.iter().copied().find(|&class| class >= size)
}

/// The address range an allocation covers.
fn span(allocation: &Allocation<'_>) -> std::ops::Range<usize> {
    let start = allocation.as_ptr() as usize;
    start..start + allocation.len()
}

// ---------------------------------------------------------------- bad tables

#[test]
fn with_classes_rejects_an_empty_table() {
    assert_eq!(
        SizeClassAllocator::with_classes(&[]).err(),
        Some(ConfigError::EmptyTable),
        "a table with no classes could serve nothing, so with_classes(&[]) must fail"
    );
}

#[test]
fn with_classes_rejects_a_zero_class() {
    assert_eq!(
        SizeClassAllocator::with_classes(&[0, 8, 16]).err(),
        Some(ConfigError::ZeroClass),
        "a class of 0 bytes holds nothing; reject it with ZeroClass"
    );
}

#[test]
fn with_classes_rejects_an_unsorted_table() {
    assert_eq!(
        SizeClassAllocator::with_classes(&[16, 64, 32, 128]).err(),
        Some(ConfigError::Unsorted { index: 2 }),
        "32 at index 2 is smaller than the 64 before it; the lookup table needs increasing classes"
    );
}

#[test]
fn with_classes_rejects_a_duplicated_class() {
    assert_eq!(
        SizeClassAllocator::with_classes(&[16, 64, 64, 128]).err(),
        Some(ConfigError::Duplicate { size: 64 }),
        "64 appears twice; a class must be strictly larger than the one before it"
    );
}

#[test]
fn with_classes_rejects_too_many_or_too_large_classes() {
    let many: Vec<usize> = (1..=MAX_CLASSES + 1).map(|i| i * 8).collect();
    assert_eq!(
        SizeClassAllocator::with_classes(&many).err(),
        Some(ConfigError::TooManyClasses {
            count: MAX_CLASSES + 1
        }),
        "class numbers are stored in a byte, so at most {MAX_CLASSES} classes fit"
    );
    assert_eq!(
        SizeClassAllocator::with_classes(&[64, MAX_CLASS_SIZE + 8]).err(),
        Some(ConfigError::ClassTooLarge {
            size: MAX_CLASS_SIZE + 8
        }),
        "classes above MAX_CLASS_SIZE belong to the global heap"
    );
    assert!(
        SizeClassAllocator::with_classes(&[64, MAX_CLASS_SIZE]).is_ok(),
        "MAX_CLASS_SIZE itself is allowed"
    );
}

#[test]
fn class_too_large_names_the_first_oversized_class() {
    assert_eq!(
        SizeClassAllocator::with_classes(&[64, MAX_CLASS_SIZE + 8, MAX_CLASS_SIZE + 16]).err(),
        Some(ConfigError::ClassTooLarge {
            size: MAX_CLASS_SIZE + 8
        }),
        "[64, MAX_CLASS_SIZE + 8, MAX_CLASS_SIZE + 16] has two classes above MAX_CLASS_SIZE; \
         the error names the first one from the left, as every error of with_classes does, so \
         whoever fixes the table starts where it first goes wrong"
    );
}

#[test]
fn with_classes_accepts_exactly_max_classes_and_a_class_of_max_class_size() {
    let most: Vec<usize> = (1..=MAX_CLASSES).map(|i| i * 8).collect();
    let heap = SizeClassAllocator::with_classes(&most).unwrap_or_else(|err| {
        panic!("{MAX_CLASSES} classes is the limit, not above it, so they must be accepted: {err}")
    });
    assert_eq!(
        heap.class_for(MAX_CLASSES * 8),
        Some(MAX_CLASSES * 8),
        "the last of {MAX_CLASSES} classes must be reachable (its number still fits in a byte)"
    );
    let heap = SizeClassAllocator::with_classes(&[MAX_CLASS_SIZE]).unwrap_or_else(|err| {
        panic!("a class of exactly MAX_CLASS_SIZE is allowed; only larger ones are not: {err}")
    });
    assert_eq!(
        heap.alloc(MAX_CLASS_SIZE).len(),
        MAX_CLASS_SIZE,
        "a request of MAX_CLASS_SIZE bytes fits its class"
    );
}

#[test]
fn the_first_neighbours_that_do_not_go_up_decide_between_duplicate_and_unsorted() {
    assert_eq!(
        SizeClassAllocator::with_classes(&[16, 64, 16]).err(),
        Some(ConfigError::Unsorted { index: 2 }),
        "in [16, 64, 16] the 16 at index 2 is smaller than the 64 just before it; the two 16s are \
         not neighbours, so this is Unsorted, not Duplicate"
    );
    assert_eq!(
        SizeClassAllocator::with_classes(&[16, 64, 64, 32]).err(),
        Some(ConfigError::Duplicate { size: 64 }),
        "walking from the left, 64 equal to the 64 before it comes first (index 2), before the \
         drop to 32 at index 3"
    );
    assert_eq!(
        SizeClassAllocator::with_classes(&[16, 64, 32, 32]).err(),
        Some(ConfigError::Unsorted { index: 2 }),
        "walking from the left, the drop to 32 at index 2 comes before the repeated 32"
    );
}

#[test]
fn with_classes_reports_problems_in_the_documented_order() {
    assert_eq!(
        SizeClassAllocator::with_classes(&[0; MAX_CLASSES + 1]).err(),
        Some(ConfigError::TooManyClasses {
            count: MAX_CLASSES + 1
        }),
        "too many classes is checked before zeros (and before the order of the classes)"
    );
    assert_eq!(
        SizeClassAllocator::with_classes(&[8, 8, 0]).err(),
        Some(ConfigError::ZeroClass),
        "a zero is checked before the order of the classes"
    );
    assert_eq!(
        SizeClassAllocator::with_classes(&[MAX_CLASS_SIZE + 8, 64]).err(),
        Some(ConfigError::Unsorted { index: 1 }),
        "the order of the classes is checked before their size"
    );
}

#[test]
fn errors_explain_themselves() {
    let cases = [
        (ConfigError::EmptyTable, "class"),
        (ConfigError::ZeroClass, "0"),
        (ConfigError::Unsorted { index: 7 }, "7"),
        (ConfigError::Duplicate { size: 96 }, "96"),
        (ConfigError::TooManyClasses { count: 300 }, "300"),
        (ConfigError::ClassTooLarge { size: 5_000_000 }, "5000000"),
    ];
    for (err, expected) in cases {
        let message = err.to_string();
        assert!(
            message.contains(expected),
            "the message for {err:?} should mention {expected:?}, but it was {message:?}"
        );
    }
    let boxed: Box<dyn std::error::Error> = Box::new(ConfigError::EmptyTable);
    assert!(
        !boxed.to_string().is_empty(),
        "ConfigError must implement std::error::Error"
    );
}

// ---------------------------------------------------------------- the table

#[test]
fn the_default_table_is_gos_66_classes() {
    let heap = SizeClassAllocator::new();
    let classes = heap.classes();
    assert_eq!(classes.len(), 66, "Go's table has 66 small-object classes");
    assert_eq!(
        (classes[0], classes[65]),
        (8, 32 * 1024),
        "Go's classes run from 8 bytes to 32 KiB"
    );
    assert!(
        classes.windows(2).all(|pair| pair[0] < pair[1]),
        "classes must be strictly increasing"
    );
    assert!(
        classes.iter().all(|class| class % 8 == 0),
        "every Go class is a multiple of 8 bytes"
    );
    assert_eq!(
        SizeClassAllocator::default().classes(),
        classes,
        "Default must be the same as new()"
    );
}

#[test]
fn class_for_returns_the_smallest_class_that_fits() {
    let heap = SizeClassAllocator::new();
    // Every size, except under Miri (which is slow): then every 97th size and
    // both sides of every class boundary.
    let sizes: Vec<usize> = if cfg!(miri) {
        let boundaries = heap.classes().iter().flat_map(|&c| [c, c + 1]);
        (1..=32 * 1024).step_by(97).chain(boundaries).collect()
    } else {
        (1..=32 * 1024).collect()
    };
    for size in sizes {
        assert_eq!(
            heap.class_for(size),
            scan(heap.classes(), size),
            "a request of {size} bytes belongs in the smallest class >= {size}"
        );
    }
}

#[test]
fn class_for_works_for_tables_with_odd_sizes() {
    for table in [&[10, 20, 35][..], &[3, 5, 7, 9], &[24, 40, 4096], &[1]] {
        let heap = with_classes(table);
        let largest = table[table.len() - 1];
        for size in 0..=largest + 3 {
            assert_eq!(
                heap.class_for(size),
                scan(table, size),
                "with classes {table:?}, {size} bytes belongs in the smallest class >= {size} \
                 (None for 0 and above {largest})"
            );
        }
    }
}

#[test]
fn class_for_is_none_for_zero_and_above_the_largest_class() {
    let heap = SizeClassAllocator::new();
    assert_eq!(
        heap.class_for(0),
        None,
        "zero bytes need no block, so no class"
    );
    assert_eq!(
        heap.class_for(32 * 1024 + 1),
        None,
        "above 32 KiB there is no class"
    );
    assert_eq!(
        heap.class_for(usize::MAX),
        None,
        "class_for(usize::MAX) must be None: it is above the largest class, and a rounding that \
         wrapped around would land on a small entry and name a class that cannot hold it"
    );
}

// ---------------------------------------------------------------- allocations

#[test]
fn an_allocation_has_exactly_the_requested_length() {
    let heap = SizeClassAllocator::new();
    for size in [
        0,
        1,
        7,
        8,
        9,
        100,
        1024,
        1025,
        4096,
        32 * 1024,
        32 * 1024 + 1,
        100_000,
    ] {
        let allocation = heap.alloc(size);
        assert_eq!(
            allocation.len(),
            size,
            "alloc({size}) must give exactly {size} bytes, even though its block may be larger"
        );
    }
}

#[test]
fn zero_bytes_touch_no_class() {
    let heap = SizeClassAllocator::new();
    let mut empty = heap.alloc(0);
    assert!(empty.is_empty(), "alloc(0) is an empty slice");
    empty.fill(1); // writing nothing must be fine
    assert!(
        heap.class_stats()
            .iter()
            .all(|row| row.allocs == 0 && row.spans == 0),
        "alloc(0) must not take a block from any class"
    );
    drop(empty);
    let stats = heap.stats();
    assert_eq!(
        (stats.allocs, stats.frees, stats.spans, stats.large_allocs),
        (1, 1, 0, 0),
        "alloc(0) counts as an allocation and a free, but allocates no span and is not a large \
         allocation: it needs no memory at all"
    );
}

#[test]
fn large_requests_bypass_the_classes() {
    let heap = SizeClassAllocator::new();
    let mut large = heap.alloc(40_000);
    assert!(
        large.iter().all(|&b| b == 0),
        "a large allocation must read as 40,000 zeros before anyone writes it: alloc promises \
         zeroed memory above the largest class"
    );
    large.fill(0xAB);
    assert!(
        large.iter().all(|&b| b == 0xAB),
        "a large allocation must be writable"
    );
    let stats = heap.stats();
    assert_eq!(
        (stats.large_allocs, stats.spans),
        (1, 0),
        "40,000 bytes is above the largest class (32 KiB): it goes to the global heap, no span"
    );
    assert_eq!(
        (stats.live_requested, stats.live_reserved),
        (40_000, 40_000),
        "a large allocation reserves exactly what it requested"
    );
}

#[test]
fn allocations_never_overlap() {
    let heap = SizeClassAllocator::new();
    let sizes = [
        8, 1, 16, 33, 48, 100, 700, 64, 5000, 8, 9, 4096, 4097, 40_000, 24, 200,
    ];
    let allocations: Vec<Allocation<'_>> = sizes.iter().map(|&s| heap.alloc(s)).collect();
    let mut spans: Vec<_> = allocations
        .iter()
        .map(span)
        .filter(|s| !s.is_empty())
        .collect();
    spans.sort_by_key(|s| s.start);
    for pair in spans.windows(2) {
        assert!(
            pair[0].end <= pair[1].start,
            "the allocation at {:#x}..{:#x} overlaps the one at {:#x}",
            pair[0].start,
            pair[0].end,
            pair[1].start
        );
    }
}

#[test]
fn writing_a_whole_allocation_never_disturbs_another() {
    let heap = SizeClassAllocator::new();
    let sizes = [1, 8, 9, 16, 17, 100, 112, 113, 2000, 33_000];
    let mut allocations: Vec<Allocation<'_>> = Vec::new();
    for round in 0..3 {
        for &size in &sizes {
            allocations.push(heap.alloc(size));
        }
        // Free every other one, so the next round reuses blocks between live ones.
        let mut i = 0;
        allocations.retain(|_| {
            i += 1;
            i % 2 == round % 2
        });
    }
    for (i, allocation) in allocations.iter_mut().enumerate() {
        allocation.fill(i as u8);
    }
    for (i, allocation) in allocations.iter().enumerate() {
        assert!(
            allocation.iter().all(|&b| b == i as u8),
            "allocation {i} ({} bytes) was filled with {i} but something else wrote into it",
            allocation.len()
        );
    }
}

#[test]
fn small_allocations_are_word_aligned() {
    let heap = with_classes(&[4, 12, 20, 100]);
    let allocations: Vec<Allocation<'_>> = [3, 4, 11, 19, 99, 1]
        .iter()
        .map(|&s| heap.alloc(s))
        .collect();
    for allocation in &allocations {
        assert_eq!(
            allocation.as_ptr() as usize % std::mem::align_of::<usize>(),
            0,
            "a {}-byte allocation at {:p} is not word aligned: every block must start on a word \
             boundary, whatever its class size, or the blocks of a class like 12 bytes would \
             drift off alignment one after another",
            allocation.len(),
            allocation.as_ptr()
        );
    }
}

#[test]
fn blocks_from_fresh_spans_and_large_allocations_read_as_zeros() {
    // Classes that are not whole words too, so a block's padding is covered.
    let heap = with_classes(&[12, 100, 3000]);
    let per_span: Vec<usize> = heap
        .class_stats()
        .iter()
        .map(|row| row.blocks_per_span)
        .collect();
    let mut held = Vec::new();
    for (&class, &blocks) in heap.classes().iter().zip(&per_span) {
        // A span's worth and one more, so a second span is read as well.
        for i in 0..=blocks {
            let allocation = heap.alloc(class);
            assert!(
                allocation.iter().all(|&b| b == 0),
                "block {i} of the {class}-byte class is the first use of its bytes, so it must \
                 read as zeros: a fresh span holds zeros"
            );
            held.push(allocation);
        }
    }
    for size in [3001, 50_000] {
        let large = heap.alloc(size);
        assert!(
            large.iter().all(|&b| b == 0),
            "a large allocation of {size} bytes must read as zeros"
        );
    }
}

#[test]
fn freed_blocks_are_reused_before_a_new_span() {
    let heap = SizeClassAllocator::new();
    let first = heap.alloc(100);
    let address = first.as_ptr();
    drop(first);
    let second = heap.alloc(110); // the same 112-byte class
    assert_eq!(
        second.as_ptr(),
        address,
        "the 112-byte block just freed must be handed out again before any other"
    );
    assert_eq!(
        heap.stats().spans,
        1,
        "reusing a block must not allocate another span"
    );
}

#[test]
fn a_class_grows_by_whole_spans() {
    // Go gives the 4096-byte class one 8 KiB page per span: two blocks.
    let heap = SizeClassAllocator::new();
    let held: Vec<_> = (0..3).map(|_| heap.alloc(4096)).collect();
    let row = heap
        .class_stats()
        .into_iter()
        .find(|r| r.size == 4096)
        .expect("a 4096 class");
    assert_eq!(
        (row.live, row.spans),
        (3, 2),
        "3 blocks of 4096 bytes need 2 spans of 8 KiB (2 blocks each)"
    );
    drop(held);
    assert_eq!(
        heap.stats().spans,
        2,
        "spans are kept after their blocks are freed"
    );
}

#[test]
fn custom_classes_get_spans_of_whole_pages() {
    let heap = with_classes(&[3000]);
    let row = heap.class_stats()[0];
    assert_eq!(
        (row.span_bytes, row.blocks_per_span),
        (2 * 8192, 5),
        "with classes [3000], (span_bytes, blocks_per_span) is wrong: a span is the fewest whole \
         pages whose leftover tail, after as many blocks as fit, is at most an eighth of the span, \
         and it holds as many blocks as fit in it"
    );
    let held: Vec<_> = (0..11).map(|_| heap.alloc(3000)).collect();
    assert_eq!(
        heap.stats().spans,
        11usize.div_ceil(row.blocks_per_span),
        "11 live blocks, {} to a span, need just enough spans to hold them and no more: \
         a class grows by one span only when it has no free block left",
        row.blocks_per_span
    );
    drop(held);
}

#[test]
fn the_leftover_tail_is_measured_in_word_rounded_strides() {
    // Two classes that are not whole words, where measuring the tail with the
    // class size instead of the distance between blocks gives a different
    // span: one in each direction.
    for (class, expected) in [(1365, (2 * 8192, 11)), (1193, (8192, 6))] {
        let heap = with_classes(&[class]);
        let row = heap.class_stats()[0];
        assert_eq!(
            (row.span_bytes, row.blocks_per_span),
            expected,
            "with classes [{class}], (span_bytes, blocks_per_span) is wrong: blocks sit a whole \
             number of words apart, so the tail is what is left after as many of those strides \
             as fit, and the span is the fewest pages where that tail is at most an eighth"
        );
    }
    // Every block of a span must fit inside it: fill a span and one more.
    let heap = with_classes(&[1365]);
    let per_span = heap.class_stats()[0].blocks_per_span;
    let mut held: Vec<_> = (0..per_span + 1).map(|_| heap.alloc(1365)).collect();
    for (i, allocation) in held.iter_mut().enumerate() {
        allocation.fill(i as u8);
    }
    for (i, allocation) in held.iter().enumerate() {
        assert!(
            allocation.iter().all(|&b| b == i as u8),
            "block {i} of the 1365-byte class was overwritten by another one"
        );
    }
    assert_eq!(
        heap.stats().spans,
        2,
        "one block more than a span holds needs exactly one more span"
    );
}

#[test]
fn new_keeps_gos_own_pages_per_span() {
    // (class, pages in Go's table, blocks in such a span). Go's generator
    // chose these pages for a smaller size, then raised the class, so the
    // eighth rule of with_classes gives each of these classes fewer pages.
    let heap = SizeClassAllocator::new();
    let rows = heap.class_stats();
    for (class, pages, blocks) in [(1792, 2, 9), (3072, 3, 8), (14336, 7, 4), (21760, 8, 3)] {
        let row = rows
            .iter()
            .find(|row| row.size == class)
            .unwrap_or_else(|| panic!("Go's table has a {class}-byte class"));
        assert_eq!(
            (row.span_bytes, row.blocks_per_span),
            (pages * 8192, blocks),
            "new() must use Go's own pages per span from GO_CLASSES: Go gives the {class}-byte \
             class {pages} pages, so a span holds {blocks} blocks. Go's generator does more than \
             the eighth rule of with_classes (see the lesson's section \"Spans\"), and the two \
             disagree for this class"
        );
    }
}

#[test]
fn a_tail_of_exactly_an_eighth_is_acceptable() {
    // 3584-byte blocks: one page holds 2 and leaves 1024 bytes, exactly an eighth.
    let heap = with_classes(&[3584]);
    let row = heap.class_stats()[0];
    assert_eq!(
        (row.span_bytes, row.blocks_per_span),
        (8192, 2),
        "one page of 3584-byte blocks leaves 1024 bytes, exactly an eighth of 8192; \
         'at most an eighth' accepts it, so one page is enough"
    );
}

#[test]
fn stats_track_live_requested_and_reserved_bytes() {
    let heap = with_classes(&[16, 64, 256]);
    let a = heap.alloc(10); // 16-byte class
    let b = heap.alloc(50); // 64-byte class
    let c = heap.alloc(300); // large
    assert_eq!(
        heap.stats(),
        AllocatorStats {
            allocs: 3,
            frees: 0,
            large_allocs: 1,
            spans: 2,
            live_requested: 360,
            live_reserved: 16 + 64 + 300,
        },
        "3 allocations: 10 B in a 16 B class, 50 B in a 64 B class, 300 B from the heap"
    );
    drop((a, b, c));
    let stats = heap.stats();
    assert_eq!(
        (stats.frees, stats.live_requested, stats.live_reserved),
        (3, 0, 0),
        "after every allocation is dropped, nothing is live"
    );
}

#[test]
fn live_reserved_counts_class_sizes_even_when_they_are_not_whole_words() {
    let heap = with_classes(&[12, 20]);
    let a = heap.alloc(10); // the 12-byte class
    let b = heap.alloc(13); // the 20-byte class
    let c = heap.alloc(20); // the 20-byte class
    let stats = heap.stats();
    assert_eq!(
        (stats.live_requested, stats.live_reserved),
        (10 + 13 + 20, 12 + 20 + 20),
        "live_reserved is the sum of the live blocks' class sizes (12 and 20 here), not of the \
         room between blocks, which is rounded up to whole words"
    );
    let expected = 1.0 - 43.0 / 52.0;
    assert!(
        (heap.internal_fragmentation() - expected).abs() < 1e-12,
        "43 of 52 reserved bytes are requested, so the unused share is {expected}, not {}",
        heap.internal_fragmentation()
    );
    drop((a, b));
    assert_eq!(
        heap.stats().live_reserved,
        20,
        "after freeing the 12-byte and one 20-byte block, one 20-byte block is reserved"
    );
    drop(c);
}

#[test]
fn the_lookup_table_has_one_entry_per_granule() {
    // The allocator's Debug output (given, not yours) shows the table's size.
    let cases: [(&[usize], usize, usize); 4] = [
        (&[8, 16, 32, 48], 8, 48 / 8 + 1),
        (&[16, 48, 64], 16, 64 / 16 + 1),
        (&[10, 20, 35], 1, 35 + 1),
        (&[MAX_CLASS_SIZE / 2, MAX_CLASS_SIZE], MAX_CLASS_SIZE / 2, 3),
    ];
    for (table, granule, entries) in cases {
        let heap = with_classes(table);
        // Touch the table first, so that a todo!() shows up here, not in Debug.
        assert_eq!(heap.class_for(1), Some(table[0]));
        let shown = format!("{heap:?}");
        let expected = format!("granule: {granule}, lookup_entries: {entries}");
        assert!(
            shown.contains(&expected),
            "with classes {table:?}, the granule is the largest power of two that divides every \
             class, and the table holds one entry per granule up to the largest class, plus entry \
             0: expected {expected:?} in {shown}"
        );
    }
    let heap = SizeClassAllocator::new();
    assert!(
        format!("{heap:?}").contains("granule: 8, lookup_entries: 4097"),
        "Go's classes are all multiples of 8, so new()'s table has one entry per 8 bytes up to \
         32 KiB, plus entry 0: {heap:?}"
    );
}

#[test]
fn internal_fragmentation_is_the_unused_share_of_reserved_bytes() {
    let heap = with_classes(&[16, 64]);
    assert_eq!(
        heap.internal_fragmentation(),
        0.0,
        "nothing is live, so nothing is wasted"
    );
    let a = heap.alloc(12); // 4 of 16 unused
    let b = heap.alloc(64); // 0 of 64 unused
    let expected = 1.0 - 76.0 / 80.0;
    assert!(
        (heap.internal_fragmentation() - expected).abs() < 1e-12,
        "76 of 80 reserved bytes are requested, so {expected} is wasted, not {}",
        heap.internal_fragmentation()
    );
    drop((a, b));
}

#[test]
fn class_stats_count_each_class() {
    let heap = with_classes(&[16, 64]);
    let a = heap.alloc(16);
    let b = heap.alloc(16);
    drop(a);
    let c = heap.alloc(40);
    assert_eq!(
        heap.class_stats(),
        [
            ClassStats {
                size: 16,
                allocs: 2,
                frees: 1,
                live: 1,
                spans: 1,
                blocks_per_span: 512,
                span_bytes: 8192,
            },
            ClassStats {
                size: 64,
                allocs: 1,
                frees: 0,
                live: 1,
                spans: 1,
                blocks_per_span: 128,
                span_bytes: 8192,
            },
        ],
        "two 16-byte allocs (one freed) and one 40-byte alloc in the 64-byte class; \
         both classes fit their blocks in one 8 KiB page"
    );
    drop((b, c));
}

#[test]
fn the_allocator_can_move_to_another_thread() {
    let heap = SizeClassAllocator::new();
    let kept = heap.alloc(24).len();
    let handle = std::thread::spawn(move || {
        let a = heap.alloc(1000);
        (a.len(), heap.stats().allocs)
    });
    assert_eq!(
        handle.join().expect("the other thread must not panic"),
        (1000, 2),
        "an allocator moved to another thread must keep working there (it is Send)"
    );
    assert_eq!(kept, 24);
}
