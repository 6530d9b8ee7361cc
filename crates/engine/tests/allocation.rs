//! Steady-state allocation: `append` and `commit` allocate nothing, nor does replay within
//! a segment.
//!
//! Method: a counting global allocator wraps the system allocator and counts, per thread, the
//! allocations made; each test reads its own thread's counter around the measured loop, so
//! tests running in parallel do not disturb each other.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use birzha_engine::journal::{Durability, JournalOptions, JournalReader, JournalWriter};

thread_local! {
    /// The allocations made by this thread. `const`-initialised without a destructor, so
    /// reading it never allocates.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

/// The system allocator, counting allocations per thread.
struct CountingAllocator;

#[allow(unsafe_code, reason = "a global allocator is an unsafe trait; it only forwards")]
// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so the
// `GlobalAlloc` contract holds as it does for `System`; the counter never allocates.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|count| count.set(count.get() + 1));
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged; `pointer` came from `System` through `alloc`.
        unsafe { System.dealloc(pointer, layout) }
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, size: usize) -> *mut u8 {
        ALLOCATIONS.with(|count| count.set(count.get() + 1));
        // SAFETY: forwarded unchanged; the caller upholds `realloc`'s contract.
        unsafe { System.realloc(pointer, layout, size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Returns the allocations this thread has made so far.
fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

/// Records per batch and batches per measurement.
const BATCH: u64 = 100;
const BATCHES: u64 = 50;

#[test]
fn append_and_commit_allocate_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let options = JournalOptions { durability: Durability::None, ..JournalOptions::default() };
    let mut writer = JournalWriter::open(dir.path(), options).unwrap();
    let payload = [7_u8; 64];
    // The first commit creates the segment (a name, a path): not the steady state.
    writer.append(1, 1, 1, &payload).unwrap();
    writer.commit().unwrap();
    let before = allocations();
    let mut seq = 2;
    for _ in 0..BATCHES {
        for _ in 0..BATCH {
            writer.append(seq, seq, 1, &payload).unwrap();
            seq += 1;
        }
        assert_eq!(writer.commit().unwrap(), seq - 1);
    }
    assert_eq!(allocations() - before, 0, "allocations in {} appends", BATCH * BATCHES);
}

#[test]
fn replay_within_a_segment_allocates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let options = JournalOptions { durability: Durability::None, ..JournalOptions::default() };
    let mut writer = JournalWriter::open(dir.path(), options.clone()).unwrap();
    for seq in 1..=BATCH * BATCHES {
        writer.append(seq, seq, 1, &seq.to_le_bytes()).unwrap();
    }
    writer.commit().unwrap();
    let mut reader = JournalReader::open(dir.path(), &options, 1).unwrap();
    // The first record loads the segment into the buffer allocated at open.
    assert_eq!(reader.next_record().unwrap().map(|record| record.seq), Some(1));
    let before = allocations();
    let mut count = 1;
    while let Some(record) = reader.next_record().unwrap() {
        count += 1;
        assert_eq!(record.seq, count);
    }
    assert_eq!(count, BATCH * BATCHES);
    assert_eq!(allocations() - before, 0, "allocations in a replay of {count} records");
}
