//! Proves that parsing and encoding allocate nothing in steady state.
//!
//! A counting global allocator counts allocations made by the current thread only (a
//! thread-local counter), so other tests running concurrently cannot disturb the count. Each
//! case warms its buffers up once, then asserts zero allocations over many iterations.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use birzha_fix::{Fields, MessageWriter, UtcTimestamp, WriteFields, check, parse};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every method forwards to `System` unchanged; counting touches only a thread-local
// `Cell` with a const initialiser, which never allocates.
#[allow(unsafe_code, reason = "a global allocator must implement an unsafe trait")]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|count| count.set(count.get() + 1));
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the pointer and layout the caller got from `alloc`.
        unsafe { System.dealloc(pointer, layout) }
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, size: usize) -> *mut u8 {
        ALLOCATIONS.with(|count| count.set(count.get() + 1));
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(pointer, layout, size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

const ITERATIONS: usize = 10_000;

const NEW_ORDER: &[u8] = concat!(
    "8=FIX.4.4\x019=150\x0135=D\x0134=1024\x0149=TRADER01\x0152=20240315-10:30:00.123\x01",
    "56=BIRZHA\x0111=ORD-000123\x011=ACC-7\x0155=BUTTER-82\x0154=1\x0138=25\x0140=2\x01",
    "44=6800.50\x0159=0\x0160=20240315-10:30:00.120\x012964=1\x01"
)
.as_bytes();

fn new_order_frame() -> Vec<u8> {
    let mut frame = NEW_ORDER.to_vec();
    let body_start = frame.iter().position(|&byte| byte == b'9').unwrap();
    let body_start =
        body_start + frame[body_start..].iter().position(|&byte| byte == 1).unwrap() + 1;
    let length = (frame.len() - body_start).to_string();
    let prefix = format!("8=FIX.4.4\x019={length}\x01");
    frame.splice(..body_start, prefix.bytes());
    let sum = birzha_fix::checksum(&frame);
    frame.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
    frame
}

#[test]
fn parse_and_encode_allocate_nothing_in_steady_state() {
    let frame = new_order_frame();
    let mut fields = Fields::with_capacity(256);
    let mut out = Vec::with_capacity(4096);
    let before = allocations();
    for sequence in 0..ITERATIONS as u64 {
        let length = check(&frame, 4096).unwrap().unwrap();
        let view = parse(&frame[..length], &mut fields).unwrap();
        assert_eq!(view.msg_type(), b"D");
        out.clear();
        let mut writer = MessageWriter::begin(&mut out, b"FIX.4.4", b"8");
        writer.uint(34, sequence).str(49, b"BIRZHA").timestamp(52, UtcTimestamp(1_710_498_600_123));
        writer.str(56, b"TRADER01").str(37, b"O-1").str(11, view.get(11).unwrap());
        writer.str(17, b"E-1").char(150, b'F').char(39, b'2').str(55, b"BUTTER-82").char(54, b'1');
        writer.uint(38, 25).decimal(44, 680_050, 2).uint(32, 25).decimal(31, 680_050, 2);
        writer.uint(151, 0).uint(14, 25).decimal(6, 680_050, 2);
        writer.finish();
    }
    assert_eq!(allocations() - before, 0, "allocations over {ITERATIONS} parse+encode rounds");
}
