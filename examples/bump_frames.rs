//! The frame loop of `benches/custom_allocators.rs` as a plain program, for
//! counting instructions, which unlike time do not vary from run to run:
//!
//! ```text
//! cargo run -- count-instructions     # runs this under valgrind, writes the book's table
//! cargo run --release --example bump_frames -- stack_allocator 100
//! ```
//!
//! Each frame makes 4,096 allocations of 64 bytes and then resets.

use std::hint::black_box;

use bumpalo::Bump;
use stack_allocator::StackAllocator;

const BLOCK: usize = 64;
const FRAME: usize = 4096;

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_default();
    let frames: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(100);
    match which.as_str() {
        "stack_allocator" => {
            let mut stack = StackAllocator::with_capacity(BLOCK * FRAME).expect("256 KiB");
            for _ in 0..frames {
                for _ in 0..FRAME {
                    if let Ok(value) = stack.alloc([0u8; BLOCK]) {
                        black_box(value);
                    }
                }
                stack.reset();
            }
        }
        "bumpalo" => {
            let mut bump = Bump::with_capacity(BLOCK * FRAME);
            for _ in 0..frames {
                for _ in 0..FRAME {
                    black_box(bump.alloc([0u8; BLOCK]));
                }
                bump.reset();
            }
        }
        other => {
            eprintln!("usage: bump_frames stack_allocator|bumpalo [FRAMES]  (got {other:?})");
            std::process::exit(2);
        }
    }
}
