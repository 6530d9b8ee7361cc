//! The FIX codec fed arbitrary byte streams: `check` read whole and in chunks must frame them
//! the same way, and every frame must parse, validate and re-encode without a panic. The driver
//! lives in the fix crate's test suite, where proptests run it on stable; see
//! `crates/fix/tests/frames.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/fix/tests/frames.rs"]
#[allow(dead_code, reason = "the other fix target uses the rest of the driver")]
mod frames;

fuzz_target!(|data: &[u8]| frames::run_stream(data));
