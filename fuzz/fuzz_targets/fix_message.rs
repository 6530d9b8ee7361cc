//! The FIX codec fed arbitrary message bodies, framed with the right BodyLength and CheckSum so
//! that the fuzzer's time goes to `parse` and `Dictionary::validate` (profile and stock
//! dictionaries) and to re-encoding. Driver: `crates/fix/tests/frames.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/fix/tests/frames.rs"]
#[allow(dead_code, reason = "the other fix target uses the rest of the driver")]
mod frames;

fuzz_target!(|data: &[u8]| frames::run_message(data));
