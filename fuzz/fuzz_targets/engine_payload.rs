//! Journal payloads through `Input::decode` and snapshot payloads (genuine ones, damaged)
//! through `ShardState::restore`: no panic, and what decodes re-encodes to the same bytes. The
//! driver lives in the engine's test suite, where proptests run it on stable; see
//! `crates/engine/tests/payloads.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/engine/tests/fixture.rs"]
#[allow(dead_code, reason = "the engine tests use the rest of the fixture")]
mod fixture;

#[path = "../../crates/engine/tests/payloads.rs"]
mod payloads;

fuzz_target!(|case: payloads::Case| payloads::run(&case));
