//! Chapter 01's analysis, counted: a network receiver takes bursts of packets
//! into a `FixedSizePool` and, for comparison, into one `Box` per packet.
//! dhat counts the heap allocations and bytes of each; insta keeps the report,
//! and the book includes it. One test only: dhat counts the whole process.

mod heap_profile;

use std::collections::VecDeque;
use std::fmt::Write;
use std::hint::black_box;

use fixed_size_pool::FixedSizePool;

#[global_allocator]
static ALLOC: thread_heap::Counting = thread_heap::Counting;

/// An Ethernet frame's payload: the size of every packet buffer.
const MTU: usize = 1500;
/// How many packet buffers the receiver's pool holds.
const POOL_BLOCKS: usize = 256;
/// Packets arriving at each tick: a burst that outruns the handler, then calm.
const ARRIVALS: [usize; 8] = [100, 250, 400, 300, 150, 100, 50, 0];
/// Packets the handler finishes (and frees) at the end of every tick.
const HANDLED_PER_TICK: usize = 200;

/// One tick of the simulation, as the report prints it.
struct Tick {
    arrived: usize,
    accepted: usize,
    dropped: usize,
    queued: usize,
}

/// What a run cost the heap, measured by dhat.
struct HeapCost {
    allocations: u64,
    peak_bytes: i64,
}

/// Runs the arrival pattern with `buffer` producing a packet buffer (or
/// `None` when none is free) and returns every tick plus the heap cost.
fn receive<B>(mut buffer: impl FnMut() -> Option<B>) -> (Vec<Tick>, HeapCost) {
    let total: usize = ARRIVALS.iter().sum();
    let mut queue: VecDeque<B> = VecDeque::with_capacity(total);
    let mut ticks = Vec::with_capacity(ARRIVALS.len());
    let start = thread_heap::counts();
    let mut peak_bytes = 0;
    for arrived in ARRIVALS {
        let mut accepted = 0;
        for _ in 0..arrived {
            if let Some(packet) = buffer() {
                queue.push_back(black_box(packet));
                accepted += 1;
            }
        }
        let now = thread_heap::counts();
        peak_bytes = peak_bytes.max(now.live_bytes - start.live_bytes);
        let handled = queue.len().min(HANDLED_PER_TICK);
        queue.drain(..handled);
        ticks.push(Tick {
            arrived,
            accepted,
            dropped: arrived - accepted,
            queued: queue.len(),
        });
    }
    drop(queue);
    let end = thread_heap::counts();
    let cost = HeapCost {
        allocations: end.made - start.made,
        peak_bytes,
    };
    (ticks, cost)
}

#[test]
fn a_burst_of_packets_into_a_fixed_size_pool() {
    let _profiler = heap_profile::profiler();

    let before_new = thread_heap::counts();
    let pool = FixedSizePool::new(MTU, POOL_BLOCKS).expect("256 blocks of 1500 bytes");
    let slab_allocations = thread_heap::counts().made - before_new.made;
    let slab_bytes = thread_heap::counts().live_bytes - before_new.live_bytes;

    let (pool_ticks, pool_cost) = receive(|| {
        pool.alloc().map(|mut block| {
            block[..4].copy_from_slice(b"IPv4");
            block
        })
    });
    let (box_ticks, box_cost) = receive(|| {
        let mut packet = Box::new([0u8; MTU]);
        packet[..4].copy_from_slice(b"IPv4");
        Some(packet)
    });

    let stats = pool.stats();
    assert_eq!(
        pool_cost.allocations, 0,
        "the pool must not touch the heap after new()"
    );
    assert_eq!(
        stats.in_use, 0,
        "every packet was handled, so every block is back"
    );

    let mut report = String::new();
    writeln!(
        report,
        "{} packets of {MTU} bytes arrive over {} ticks; the handler frees {HANDLED_PER_TICK} per tick.",
        ARRIVALS.iter().sum::<usize>(),
        ARRIVALS.len()
    )
    .unwrap();
    writeln!(report, "\nWith a FixedSizePool of {POOL_BLOCKS} blocks:").unwrap();
    writeln!(report, "tick  arrived  accepted  dropped  queued").unwrap();
    for (i, t) in pool_ticks.iter().enumerate() {
        writeln!(
            report,
            "{:>4}  {:>7}  {:>8}  {:>7}  {:>6}",
            i + 1,
            t.arrived,
            t.accepted,
            t.dropped,
            t.queued
        )
        .unwrap();
    }
    let box_peak_queue = box_ticks.iter().map(|t| t.queued).max().unwrap_or(0);
    writeln!(
        report,
        "pool stats: {} allocs, {} frees, {} failed (dropped), peak {} of {POOL_BLOCKS} blocks in use",
        stats.allocs, stats.frees, stats.failed, stats.peak_in_use
    )
    .unwrap();
    writeln!(
        report,
        "\nWith a Box per packet nothing is dropped, and the queue grows to {box_peak_queue} after a tick."
    )
    .unwrap();
    writeln!(
        report,
        "\nheap cost (dhat)            allocations  peak bytes held"
    )
    .unwrap();
    writeln!(
        report,
        "FixedSizePool::new         {slab_allocations:>12}  {slab_bytes:>15}"
    )
    .unwrap();
    writeln!(
        report,
        "FixedSizePool, all ticks   {:>12}  {:>15}",
        pool_cost.allocations, pool_cost.peak_bytes
    )
    .unwrap();
    writeln!(
        report,
        "Box<[u8; {MTU}]>, all ticks {:>12}  {:>15}",
        box_cost.allocations, box_cost.peak_bytes
    )
    .unwrap();

    // The book includes the report without insta's header (`verify` checks the line).
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!("bursts", report);
    });
}
