//! Snapshot directories of well-formed, damaged, temporary and foreign files through
//! `snapshot::load_newest_valid` and `snapshot::retain`, checked against a model. The driver
//! lives in the engine's test suite, where a proptest runs it on stable; see
//! `crates/engine/tests/snapshots.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/engine/tests/snapshots.rs"]
mod snapshots;

fuzz_target!(|case: snapshots::Case| snapshots::run(&case));
