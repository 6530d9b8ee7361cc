//! The session state machine fed arbitrary message sequences, with scripted time, an in-memory
//! store and a recording application: numbering, resends, deliveries and timers must keep the
//! rules of `birzha_fix::session`. The driver lives in the fix crate's test suite, where a
//! proptest runs it on stable; see `crates/fix/tests/sequences.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/fix/tests/frames.rs"]
#[allow(dead_code, reason = "only the frame builder is used here")]
mod frames;

#[path = "../../crates/fix/tests/sequences.rs"]
mod sequences;

fuzz_target!(|case: sequences::Case| sequences::run(&case));
