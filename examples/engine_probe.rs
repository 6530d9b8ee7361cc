//! Applies one of the engine benchmarks' streams (`benches/engine/streams.rs`) to a fresh
//! `ShardState` and prints the time per input: the A/B and profiling driver of
//! docs/performance.md, small enough to run under `valgrind --tool=callgrind`.
//!
//! Run: `cargo run --release --example engine_probe -- steady 1000000` (or `growing`), and for
//! instruction counts of the apply alone:
//! `valgrind --tool=callgrind --toggle-collect='birzha_engine::state::ShardState::apply'
//! target/release/examples/engine_probe steady 200000`. `replay 200000` journals the growing
//! stream through an engine, then times the recovery of a shard from that journal alone
//! (callgrind: `--toggle-collect='birzha_engine::recovery::recover'`).

#[path = "../benches/engine/streams.rs"]
#[allow(dead_code)]
mod streams;

use std::sync::Arc;
use std::time::Instant;

use birzha_book::Timestamp;
use birzha_engine::journal::{Durability, JournalOptions};
use birzha_engine::{Engine, Registry, ShardDirs, ShardState, recover};

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "steady".into());
    let count: u64 = args.next().and_then(|text| text.parse().ok()).unwrap_or(200_000);
    if mode == "replay" {
        replay(count);
        return;
    }
    let inputs = match mode.as_str() {
        "steady" => streams::stream_steady(count),
        "growing" => streams::stream(count, false),
        other => {
            eprintln!("unknown stream {other:?}: steady or growing");
            std::process::exit(2);
        }
    };
    let registry = registry();
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

fn registry() -> Arc<Registry> {
    match streams::config(Durability::None, 1 << 20).validate() {
        Ok(registry) => Arc::new(registry),
        Err(error) => {
            eprintln!("the benchmark config is invalid: {error}");
            std::process::exit(1);
        }
    }
}

/// Journals `count` inputs of the growing stream, then recovers a shard from the journal alone.
fn replay(count: u64) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (sender, receiver) = crossbeam::channel::bounded(1 << 14);
    let drain = std::thread::spawn(move || receiver.into_iter().count());
    let (engine, _) = Engine::start(registry(), dir.path(), sender, &[u64::MAX]).expect("engine");
    for input in streams::stream(count, false) {
        engine.submit(input).expect("engine running");
    }
    engine.shutdown().expect("shutdown");
    drain.join().expect("drain");
    let dirs = ShardDirs::new(dir.path(), 0);
    std::fs::remove_dir_all(&dirs.snapshots).expect("journal only");
    let options = JournalOptions {
        shard_id: 0,
        durability: Durability::None,
        segment_size_max: streams::SEGMENT_BYTES,
        ..JournalOptions::default()
    };
    let started = Instant::now();
    let recovered =
        recover(&registry(), 0, &dirs, &options, u64::MAX, &mut |_| {}).expect("recovers");
    let elapsed = started.elapsed();
    let replayed = recovered.report.replayed;
    let per_input = elapsed.as_nanos() as f64 / replayed.max(1) as f64;
    eprintln!("replay, {replayed} records: {per_input:.0} ns per record");
}
