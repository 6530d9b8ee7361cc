//! Applies one of the engine benchmarks' streams (`benches/engine/streams.rs`) to a fresh
//! `ShardState` and prints the time per input: the A/B and profiling driver of
//! docs/performance.md, small enough to run under `valgrind --tool=callgrind`.
//!
//! Run: `cargo run --release --example engine_probe -- steady 1000000` (or `growing`), and for
//! instruction counts of the apply alone:
//! `valgrind --tool=callgrind --toggle-collect='birzha_engine::state::ShardState::apply'
//! target/release/examples/engine_probe steady 200000`.

#[path = "../benches/engine/streams.rs"]
#[allow(dead_code)]
mod streams;

use std::sync::Arc;
use std::time::Instant;

use birzha_book::Timestamp;
use birzha_engine::ShardState;
use birzha_engine::journal::Durability;

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "steady".into());
    let count: u64 = args.next().and_then(|text| text.parse().ok()).unwrap_or(200_000);
    let inputs = match mode.as_str() {
        "steady" => streams::stream_steady(count),
        "growing" => streams::stream(count, false),
        other => {
            eprintln!("unknown stream {other:?}: steady or growing");
            std::process::exit(2);
        }
    };
    let registry = match streams::config(Durability::None, 1 << 20).validate() {
        Ok(registry) => Arc::new(registry),
        Err(error) => {
            eprintln!("the benchmark config is invalid: {error}");
            std::process::exit(1);
        }
    };
    let mut state = ShardState::new(registry, 0);
    let mut out = Vec::with_capacity(64);
    let mut outputs = 0usize;
    let started = Instant::now();
    for input in &inputs {
        let seq = state.seq_last() + 1;
        state.apply(seq, Timestamp(1_795_000_000_000_000_000 + seq), input, &mut out);
        outputs += out.len();
        out.clear();
    }
    let elapsed = started.elapsed();
    let per_input = elapsed.as_nanos() as f64 / count.max(1) as f64;
    eprintln!("{mode}, {count} inputs: {per_input:.0} ns per input, {outputs} outputs");
}
