//! The book fed arbitrary command streams, checked event for event against the naive reference
//! book. The driver and the reference live in the book's test suite, where a proptest runs the
//! same driver on stable; see `crates/book/tests/commands.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/book/tests/reference.rs"]
mod reference;

#[path = "../../crates/book/tests/commands.rs"]
mod commands;

fuzz_target!(|case: commands::Case| commands::run(&case));
