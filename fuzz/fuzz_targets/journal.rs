//! The journal reader and writer fed arbitrary segment files (mostly well formed, then damaged):
//! no panic, no damaged record handed out, and the writer continues where a successful replay
//! ended, leaving a journal that replays cleanly. The driver lives in the engine's test suite,
//! where a proptest runs it on stable; see `crates/engine/tests/segments.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/engine/tests/segments.rs"]
mod segments;

fuzz_target!(|case: segments::Case| segments::run(&case));
