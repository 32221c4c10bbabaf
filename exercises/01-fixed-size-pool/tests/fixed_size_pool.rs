//! Chapter 01 tests. The very same file runs against your exercise
//! (`cargo run -- check 01`) and against the reference solution (`cargo test`).

use fixed_size_pool::{BLOCK_ALIGN, Block, ConfigError, FixedSizePool, PoolStats};

/// Builds a pool the test needs, with a message that says which one failed.
fn pool(block_size: usize, capacity: usize) -> FixedSizePool {
    FixedSizePool::new(block_size, capacity).unwrap_or_else(|err| {
        panic!("FixedSizePool::new({block_size}, {capacity}) must succeed, but it said: {err}")
    })
}

/// Takes every block the pool has, asserting that it really has `capacity` of
/// them and that no block is handed out while it is already in use.
fn take_all(pool: &FixedSizePool) -> Vec<Block<'_>> {
    let blocks: Vec<Block<'_>> = (0..pool.capacity()).filter_map(|_| pool.alloc()).collect();
    assert_eq!(
        blocks.len(),
        pool.capacity(),
        "a fresh pool of {} blocks must hand out {} blocks before it runs dry",
        pool.capacity(),
        pool.capacity()
    );
    for (i, block) in blocks.iter().enumerate() {
        let at = block.as_ptr();
        if let Some(j) = blocks[..i]
            .iter()
            .position(|earlier| earlier.as_ptr() == at)
        {
            panic!(
                "allocs number {} and {} of a pool of {} blocks of {} bytes both handed out the \
                 block at {at:p}, and both are still in use: a block must stay off the free list \
                 from alloc until its drop, or two owners write over each other's data",
                j + 1,
                i + 1,
                pool.capacity(),
                pool.block_size()
            );
        }
    }
    blocks
}

/// The address range `start..end` that a block covers.
fn span(block: &Block<'_>) -> std::ops::Range<usize> {
    let start = block.as_ptr() as usize;
    start..start + block.len()
}

// ---------------------------------------------------------------- bad input

#[test]
fn new_rejects_a_zero_block_size() {
    assert_eq!(
        FixedSizePool::new(0, 16).err(),
        Some(ConfigError::ZeroBlockSize),
        "a block of 0 bytes can hold nothing, so new(0, 16) must fail with ZeroBlockSize"
    );
}

#[test]
fn new_rejects_zero_capacity() {
    assert_eq!(
        FixedSizePool::new(64, 0).err(),
        Some(ConfigError::ZeroCapacity),
        "a pool of 0 blocks can hand out nothing, so new(64, 0) must fail with ZeroCapacity"
    );
}

#[test]
fn new_reports_a_zero_before_any_size_problem() {
    assert_eq!(
        FixedSizePool::new(0, 0).err(),
        Some(ConfigError::ZeroBlockSize),
        "new(0, 0) has two problems; new's doc comment lists the checks in order, block size \
         first, so the caller always gets the same error for the same call: ZeroBlockSize"
    );
    assert_eq!(
        FixedSizePool::new(0, usize::MAX).err(),
        Some(ConfigError::ZeroBlockSize),
        "new(0, usize::MAX) must be ZeroBlockSize: a zero is reported before any size problem"
    );
    assert_eq!(
        FixedSizePool::new(usize::MAX, 0).err(),
        Some(ConfigError::ZeroCapacity),
        "new(usize::MAX, 0) must be ZeroCapacity: a pool of no blocks needs no slab at all, \
         and a zero is reported before any size problem"
    );
}

#[test]
fn new_rejects_sizes_whose_product_overflows() {
    let huge = usize::MAX / 2 + 1;
    assert_eq!(
        FixedSizePool::new(huge, 2).err(),
        Some(ConfigError::SizeOverflow {
            block_size: huge,
            capacity: 2
        }),
        "new({huge}, 2) must be SizeOverflow: the slab's size in bytes does not fit in a usize, \
         and a wrapped multiplication would build a tiny slab for two huge blocks"
    );
    assert_eq!(
        FixedSizePool::new(2, huge).err(),
        Some(ConfigError::SizeOverflow {
            block_size: 2,
            capacity: huge
        }),
        "new(2, {huge}) must be SizeOverflow too: the slab's size does not fit in a usize, \
         whichever of the two numbers is the large one"
    );
    assert_eq!(
        FixedSizePool::new(usize::MAX, 1).err(),
        Some(ConfigError::SizeOverflow {
            block_size: usize::MAX,
            capacity: 1
        }),
        "new(usize::MAX, 1) must be SizeOverflow, and not a panic: one block of usize::MAX \
         bytes fits in a usize, but padded to whole words it does not, and the padded size is \
         what the slab needs (working out that padded size must not overflow either)"
    );
}

/// The size of a word, the unit every block is padded to.
const WORD: usize = std::mem::size_of::<usize>();

#[test]
fn new_pads_every_small_block_to_a_word_before_it_checks_the_size() {
    // One-byte blocks: the caller asks for `capacity` bytes, but the slab
    // needs `capacity` words, eight times as much on a 64-bit machine.
    let capacity = usize::MAX / WORD + 1;
    assert_eq!(
        FixedSizePool::new(1, capacity).err(),
        Some(ConfigError::SizeOverflow {
            block_size: 1,
            capacity
        }),
        "new(1, {capacity}) must be SizeOverflow: {capacity} bytes fit in a usize, but each \
         1-byte block takes a whole word of the slab (its link must fit), and {capacity} words \
         of {WORD} bytes are one byte more than usize::MAX"
    );
    assert_eq!(
        FixedSizePool::new(1, usize::MAX).err(),
        Some(ConfigError::SizeOverflow {
            block_size: 1,
            capacity: usize::MAX
        }),
        "new(1, usize::MAX) must be SizeOverflow: usize::MAX blocks of one word each do not fit \
         in a usize as bytes"
    );

    let capacity = usize::MAX / WORD;
    let bytes = capacity * WORD;
    assert_eq!(
        FixedSizePool::new(1, capacity).err(),
        Some(ConfigError::TooLarge { bytes }),
        "new(1, {capacity}) must be TooLarge {{ bytes: {bytes} }}: the request is {capacity} \
         bytes, but the slab holds {capacity} blocks of one word each, {bytes} bytes, which \
         fits in a usize and is over isize::MAX; the size checked must be the size the slab needs"
    );
    let capacity = isize::MAX as usize / WORD + 1;
    let bytes = capacity * WORD;
    assert_eq!(
        FixedSizePool::new(3, capacity).err(),
        Some(ConfigError::TooLarge { bytes }),
        "new(3, {capacity}) must be TooLarge {{ bytes: {bytes} }}: each 3-byte block takes a \
         whole word, so the slab needs {bytes} bytes, one more than isize::MAX, although \
         3 × {capacity} bytes would be less"
    );
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri stops at huge allocations instead of failing them"
)]
fn new_reports_the_padded_size_of_a_slab_the_allocator_cannot_provide() {
    let capacity = isize::MAX as usize / WORD;
    let bytes = capacity * WORD;
    assert_eq!(
        FixedSizePool::new(1, capacity).err(),
        Some(ConfigError::OutOfMemory { bytes }),
        "new(1, {capacity}) needs {capacity} one-word blocks, {bytes} bytes: just under \
         isize::MAX, so it passes the size checks, and no allocator can provide it; the error \
         must carry the {bytes} bytes the slab needed, not the {capacity} bytes asked for"
    );
}

#[test]
fn new_rejects_a_slab_larger_than_isize_max() {
    let bytes = isize::MAX as usize + 1;
    assert_eq!(
        FixedSizePool::new(bytes / 2, 2).err(),
        Some(ConfigError::TooLarge { bytes }),
        "2 blocks of {} bytes fit in a usize but exceed isize::MAX, the largest allocation Rust allows",
        bytes / 2
    );
    let just_under = isize::MAX as usize / 2; // 2^62 - 1: not a whole number of words
    assert_eq!(
        FixedSizePool::new(just_under, 2).err(),
        Some(ConfigError::TooLarge { bytes }),
        "2 blocks of {just_under} bytes ask for less than isize::MAX, but each block is rounded \
         up to whole words and the slab then needs {bytes} bytes; the rounded size is what counts"
    );
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri stops at huge allocations instead of failing them"
)]
fn new_reports_a_slab_the_allocator_cannot_provide() {
    // 2^60 bytes is below isize::MAX, but no machine can provide it.
    let err = FixedSizePool::new(1 << 30, 1 << 30).err();
    assert_eq!(
        err,
        Some(ConfigError::OutOfMemory { bytes: 1 << 60 }),
        "new(2^30, 2^30) asks for a 2^60-byte slab: it passes the size checks, but no allocator \
         can provide it, and the caller must get OutOfMemory back as a value it can handle, \
         not a panic and not an aborted process"
    );
}

#[test]
fn errors_explain_themselves() {
    let cases = [
        (ConfigError::ZeroBlockSize, "block"),
        (ConfigError::ZeroCapacity, "block"),
        (
            ConfigError::SizeOverflow {
                block_size: 1234,
                capacity: 5678,
            },
            "1234",
        ),
        (
            ConfigError::SizeOverflow {
                block_size: 1234,
                capacity: 5678,
            },
            "5678",
        ),
        (ConfigError::TooLarge { bytes: 12345 }, "12345"),
        (ConfigError::OutOfMemory { bytes: 67890 }, "67890"),
    ];
    for (err, expected) in cases {
        let message = err.to_string();
        assert!(
            message.contains(expected),
            "the message for {err:?} should mention {expected:?} so the user knows what to fix, \
             but it was {message:?}"
        );
    }
    let messages: Vec<String> = [
        ConfigError::ZeroBlockSize,
        ConfigError::ZeroCapacity,
        ConfigError::TooLarge { bytes: 1 },
        ConfigError::OutOfMemory { bytes: 1 },
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    for (i, message) in messages.iter().enumerate() {
        assert!(
            !messages[..i].contains(message),
            "two different errors print the same message {message:?}; say what went wrong in each"
        );
    }
    let boxed: Box<dyn std::error::Error> = Box::new(ConfigError::ZeroCapacity);
    assert!(
        !boxed.to_string().is_empty(),
        "ConfigError must implement std::error::Error"
    );
}

// ---------------------------------------------------------------- the contract

#[test]
fn a_live_block_is_never_handed_out_twice() {
    for block_size in [1, 8, 9, 64] {
        let pool = pool(block_size, 4);
        let mut held: Vec<Block<'_>> = Vec::new();
        for n in 1..=4 {
            let block = pool.alloc().unwrap_or_else(|| {
                panic!(
                    "a fresh pool of 4 blocks of {block_size} bytes returned None on alloc \
                     number {n}, with only {} blocks in use",
                    n - 1
                )
            });
            let at = block.as_ptr();
            if let Some(earlier) = held.iter().position(|b| b.as_ptr() == at) {
                panic!(
                    "in a fresh pool of 4 blocks of {block_size} bytes, alloc number {n} handed \
                     out the block at {at:p}, which alloc number {} handed out already and which \
                     is still in use: a block is off the free list from alloc until its drop, so \
                     two live Blocks must never share an address (both owners would write over \
                     each other's data)",
                    earlier + 1
                );
            }
            held.push(block);
        }
    }
}

#[test]
fn a_new_pool_has_every_block_available() {
    let pool = pool(64, 4);
    assert_eq!(
        pool.block_size(),
        64,
        "block_size() must return the size given to new"
    );
    assert_eq!(
        pool.capacity(),
        4,
        "capacity() must return the block count given to new"
    );
    assert_eq!(
        pool.available(),
        4,
        "no block has been taken, so all 4 must be available"
    );
    assert_eq!(
        pool.stats(),
        PoolStats::default(),
        "nothing has happened yet, so every counter must be zero"
    );
}

#[test]
fn alloc_returns_none_when_every_block_is_in_use() {
    let pool = pool(64, 4);
    let held = take_all(&pool);
    assert_eq!(
        pool.available(),
        0,
        "all 4 blocks are in use, so none is available"
    );
    assert!(
        pool.alloc().is_none(),
        "the pool had 4 blocks and 4 are in use, so alloc() must return None"
    );
    assert!(
        pool.alloc().is_none(),
        "asking again must still return None, not hand out a block twice"
    );
    drop(held);
}

#[test]
fn every_block_is_exactly_block_size_bytes() {
    for block_size in [1, 3, 7, 8, 9, 64, 100, 1500] {
        let pool = pool(block_size, 3);
        for block in take_all(&pool) {
            assert_eq!(
                block.len(),
                block_size,
                "a pool of {block_size}-byte blocks must hand out slices of exactly {block_size} bytes"
            );
        }
    }
}

#[test]
fn every_block_is_aligned_to_block_align() {
    assert!(
        BLOCK_ALIGN.is_power_of_two(),
        "an alignment is always a power of two"
    );
    assert!(
        BLOCK_ALIGN >= std::mem::align_of::<usize>(),
        "a free block stores a usize link, so blocks need at least usize alignment"
    );
    for block_size in [1, 3, 8, 13, 64, 1500] {
        let pool = pool(block_size, 5);
        for block in take_all(&pool) {
            let addr = block.as_ptr() as usize;
            assert_eq!(
                addr % BLOCK_ALIGN,
                0,
                "block at {addr:#x} of a {block_size}-byte pool is not a multiple of BLOCK_ALIGN = \
                 {BLOCK_ALIGN}: the pool promises that alignment, and a free block keeps its \
                 usize link in its first bytes"
            );
        }
    }
}

#[test]
fn blocks_never_overlap() {
    for block_size in [1, 5, 8, 24, 64] {
        let pool = pool(block_size, 16);
        let blocks = take_all(&pool);
        let mut spans: Vec<_> = blocks.iter().map(span).collect();
        spans.sort_by_key(|s| s.start);
        for pair in spans.windows(2) {
            assert!(
                pair[0].end <= pair[1].start,
                "with {block_size}-byte blocks, the block at {:#x}..{:#x} overlaps the one at {:#x}: \
                 the next block starts {} bytes after it, but a block is {block_size} bytes, so \
                 writing one block would change the other",
                pair[0].start,
                pair[0].end,
                pair[1].start,
                pair[1].start - pair[0].start
            );
        }
    }
}

#[test]
fn all_blocks_come_from_one_slab() {
    let pool = pool(64, 32);
    let blocks = take_all(&pool);
    let lowest = blocks.iter().map(|b| span(b).start).min().unwrap();
    let highest = blocks.iter().map(|b| span(b).end).max().unwrap();
    assert!(
        highest - lowest <= 2 * 64 * 32,
        "32 blocks of 64 bytes span {} bytes of address space; they should sit side by side in \
         one slab, not in separate heap allocations",
        highest - lowest
    );
}

#[test]
fn writing_a_whole_block_never_disturbs_another() {
    for block_size in [1, 7, 8, 64] {
        let pool = pool(block_size, 8);
        let mut blocks = take_all(&pool);
        for (i, block) in blocks.iter_mut().enumerate() {
            block.fill(i as u8 + 1);
        }
        for (i, block) in blocks.iter().enumerate() {
            assert!(
                block.iter().all(|&byte| byte == i as u8 + 1),
                "block {i} of a {block_size}-byte pool was filled with {} but now holds {:?}; \
                 another block's bytes overlap it",
                i + 1,
                &block[..]
            );
        }
    }
}

/// Reading a byte that nobody ever wrote is undefined behaviour. A native run
/// cannot see that; Miri can (`cargo +nightly miri test -p exercise-01-fixed-size-pool`
/// reports the read), so this test is there for Miri.
#[test]
fn every_byte_of_a_fresh_block_may_be_read() {
    for block_size in [1, 9, 64] {
        let pool = pool(block_size, 4);
        for block in take_all(&pool) {
            let sum: u64 = block.iter().map(|&byte| u64::from(byte)).sum();
            std::hint::black_box(sum);
        }
    }
}

#[test]
fn a_block_keeps_what_was_written_while_others_come_and_go() {
    let pool = pool(16, 4);
    let mut kept = pool.alloc().expect("a fresh pool has a free block");
    kept.copy_from_slice(b"keep these bytes");
    for _ in 0..10 {
        let a = pool.alloc();
        let b = pool.alloc();
        drop((a, b)); // freeing other blocks writes free-list links into them
    }
    assert_eq!(
        &kept[..],
        b"keep these bytes",
        "freeing other blocks must write links into those blocks only, never into one in use"
    );
}

#[test]
fn dropping_a_block_returns_it_to_the_pool() {
    let pool = pool(32, 2);
    let first = pool.alloc().expect("a fresh pool of 2 has a free block");
    assert_eq!(
        pool.available(),
        1,
        "one of two blocks is in use, so one must be free"
    );
    drop(first);
    assert_eq!(
        pool.available(),
        2,
        "the block was dropped, so it must be back in the pool"
    );
}

#[test]
fn a_freed_block_is_handed_out_again() {
    let pool = pool(32, 3);
    let mut held = take_all(&pool);
    let freed = held.remove(1);
    let freed_at = freed.as_ptr();
    drop(freed);
    let again = pool
        .alloc()
        .expect("one block was returned, so alloc() must succeed again");
    assert_eq!(
        again.as_ptr(),
        freed_at,
        "the only free block is the one just dropped, so alloc() must hand out that block"
    );
}

#[test]
fn the_block_returned_last_is_handed_out_first() {
    let pool = pool(32, 4);
    let mut held: Vec<Option<Block<'_>>> = take_all(&pool).into_iter().map(Some).collect();
    let address = |i: usize, held: &[Option<Block<'_>>]| held[i].as_ref().map(|b| b.as_ptr());
    let addresses: Vec<_> = (0..4).map(|i| address(i, &held)).collect();
    // Return blocks 2, 0 and 3, in that order. The free list is a stack (LIFO).
    for i in [2, 0, 3] {
        held[i] = None;
    }
    let mut again = Vec::new();
    for expected in [3, 0, 2] {
        let block = pool
            .alloc()
            .expect("three blocks were returned, so three allocs must succeed");
        assert_eq!(
            Some(block.as_ptr()),
            addresses[expected],
            "blocks 2, 0, 3 were returned in that order, so alloc must hand out 3, 0, 2 \
             (this was number {} of the three): the block returned last is the one most \
             likely still in the cache, and it comes back first",
            again.len() + 1
        );
        again.push(block);
    }
}

#[test]
fn tiny_blocks_still_hold_the_free_list_link() {
    // A free block keeps a usize link, even when the caller asked for 1 byte.
    let pool = pool(1, 8);
    for round in 0..3 {
        let mut slots: Vec<Option<Block<'_>>> = take_all(&pool).into_iter().map(Some).collect();
        for (i, block) in slots.iter_mut().flatten().enumerate() {
            block[0] = 0xA0 + i as u8; // scribble over the first byte of every block
        }
        // Free in a scrambled order so the links are rewritten in a new order.
        for i in [3, 0, 7, 1, 6, 2, 5, 4] {
            slots[i] = None;
        }
        assert_eq!(
            pool.available(),
            8,
            "round {round}: all 8 one-byte blocks were returned, so all 8 must be free again"
        );
        assert!(
            pool.alloc().is_some(),
            "round {round}: a pool with free blocks must hand one out"
        );
    }
}

#[test]
fn freeing_in_any_order_keeps_every_block_usable() {
    let pool = pool(24, 6);
    let blocks = take_all(&pool);
    let mut original: Vec<usize> = blocks.iter().map(|b| b.as_ptr() as usize).collect();
    original.sort_unstable();

    // Return the blocks in the order 4, 1, 5, 0, 3, 2.
    let mut slots: Vec<Option<Block<'_>>> = blocks.into_iter().map(Some).collect();
    for i in [4, 1, 5, 0, 3, 2] {
        slots[i] = None;
    }
    assert_eq!(
        pool.available(),
        6,
        "every block was returned, so all 6 must be free"
    );

    let again = take_all(&pool);
    let mut reused: Vec<usize> = again.iter().map(|b| b.as_ptr() as usize).collect();
    reused.sort_unstable();
    assert_eq!(
        reused, original,
        "after returning every block in any order, the pool must hand out the same 6 blocks"
    );
}

#[test]
fn stats_count_allocs_frees_failures_and_the_peak() {
    let pool = pool(8, 3);
    let a = pool.alloc();
    let b = pool.alloc();
    drop(a);
    let c = pool.alloc();
    let d = pool.alloc();
    assert!(
        pool.alloc().is_none(),
        "3 blocks are in use, so the 5th alloc must fail"
    );
    assert_eq!(
        pool.stats(),
        PoolStats {
            allocs: 4,
            frees: 1,
            failed: 1,
            in_use: 3,
            peak_in_use: 3,
        },
        "4 successful allocs, 1 drop, 1 alloc that found the pool empty, 3 blocks held"
    );
    drop((b, c, d));
    let stats = pool.stats();
    assert_eq!(
        (stats.frees, stats.in_use, stats.peak_in_use),
        (4, 0, 3),
        "after every block is dropped, frees must equal allocs, in_use must be 0, \
         and the peak must remember the 3 blocks held at once"
    );
}

#[test]
fn the_pool_can_move_to_another_thread() {
    let pool = pool(64, 4);
    let handle = std::thread::spawn(move || {
        let block = pool.alloc().map(|b| b.len());
        (block, pool.available())
    });
    let (len, available) = handle.join().expect("the other thread must not panic");
    assert_eq!(
        (len, available),
        (Some(64), 4),
        "a pool moved to another thread must work there just as well (it is Send)"
    );
}

/// Answers "is `T` Send?" and "is `T` Sync?" for a concrete type, at run time.
/// Method lookup tries an inherent method before a trait method, and skips an
/// inherent method whose `where` bound does not hold: the inherent `is_sync`
/// exists only for `Sync` types, and every other type falls back to the trait's.
struct Probe<T: ?Sized>(std::marker::PhantomData<T>);

trait Fallback {
    fn is_send(&self) -> bool {
        false
    }
    fn is_sync(&self) -> bool {
        false
    }
}

impl<T: ?Sized> Fallback for Probe<T> {}

impl<T: ?Sized + Send> Probe<T> {
    #[allow(dead_code, reason = "called through method lookup on concrete types")]
    fn is_send(&self) -> bool {
        true
    }
}

impl<T: ?Sized + Sync> Probe<T> {
    #[allow(dead_code, reason = "called through method lookup on concrete types")]
    fn is_sync(&self) -> bool {
        true
    }
}

#[test]
fn the_pool_is_send_but_not_sync_and_a_block_is_not_send() {
    // A pool that works, first: the types below are only worth checking then.
    let pool = pool(16, 2);
    let block = pool.alloc().expect("a fresh pool of 2 has a free block");
    assert_eq!(block.len(), 16, "a block of a 16-byte pool is 16 bytes");
    drop(block);

    // The probe itself must tell the two answers apart.
    assert!(
        Probe::<u8>(std::marker::PhantomData).is_sync(),
        "probe: u8 is Sync"
    );
    assert!(
        !Probe::<std::cell::Cell<u8>>(std::marker::PhantomData).is_sync(),
        "probe: Cell<u8> is not Sync"
    );
    assert!(
        !Probe::<std::rc::Rc<u8>>(std::marker::PhantomData).is_send(),
        "probe: Rc<u8> is not Send"
    );

    assert!(
        Probe::<FixedSizePool>(std::marker::PhantomData).is_send(),
        "FixedSizePool must be Send: a pool built on one thread may be handed to another"
    );
    assert!(
        !Probe::<FixedSizePool>(std::marker::PhantomData).is_sync(),
        "FixedSizePool must not be Sync: its free list is updated without locks, so two \
         threads calling alloc on a shared pool could both read the same free_head and hand \
         out the same block twice"
    );
    assert!(
        !Probe::<Block<'static>>(std::marker::PhantomData).is_send(),
        "Block must not be Send: a block dropped on another thread would push itself onto \
         the free list while this thread may be popping from it"
    );
}

#[test]
fn debug_output_shows_the_sizes_and_what_is_free() {
    let pool = pool(48, 5);
    let _held = pool.alloc();
    let shown = format!("{pool:?}");
    for expected in [
        "FixedSizePool",
        "block_size: 48",
        "capacity: 5",
        "available: 4",
    ] {
        assert!(
            shown.contains(expected),
            "{{:?}} of a pool of 5 blocks of 48 bytes with one in use should show {expected:?}, \
             but it printed {shown:?}"
        );
    }
}
