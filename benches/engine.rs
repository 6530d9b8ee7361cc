//! Engine benchmarks: what one shard does per input.
//!
//! Workloads (`engine/streams.rs`), on one instrument from four firms, every ClOrdID fresh (so the day's ClOrdID
//! table grows to a million entries):
//!
//! - *growing* (the names without a suffix): about 60% passive limit orders, 35% cancels by
//!   ClOrdID of one of the last hundred inputs, 5% aggressive IOC orders. Most passive orders
//!   are never cancelled, so the book grows to about 250 000 resting orders: a stress case,
//!   where nearly every input touches memory no cache holds.
//! - *steady* (`…/steady`): the mix of the gateway's load test, 45% passive orders, 45%
//!   cancels of a random order the stream still believes resting, 10% aggressive IOC orders,
//!   with the odds tilted to hold the book near 10 000 resting orders (as the book crate's
//!   mix benchmark): a venue's book in a normal session.
//!
//! Regimes:
//!
//! - `engine/apply`: `ShardState::apply` alone: validation, deposits, order records, matching
//!   and reports, no journal, no threads.
//! - `engine/pipeline/none` and `engine/pipeline/fsync`: the whole engine: inputs submitted to a
//!   running shard over its queue, stamped, journaled (group commit, with `Durability::None` or
//!   `Fsync`), applied, and their outputs received by a consumer thread; the time runs until the
//!   last output of the last input arrives.
//! - `engine/replay`: recovery of a shard from its journal alone (1 000 000 records).
//! - `engine/restore`: recovery from a snapshot holding 1 000 000 resting orders.
//! - `engine/snapshot_encode/steady`: encoding the snapshot of the state the steady stream
//!   leaves (a million ClOrdIDs, about 10 000 working orders), which the shard thread does
//!   every `snapshot_every_inputs` inputs while matching waits.
//!
//! Input-to-output latency at a fixed rate is measured by `benches/engine_latency.rs`.
//!
//! Run: `cargo bench --bench engine`; figures go in docs/performance.md.

use std::sync::Arc;
use std::time::{Duration, Instant};

use birzha_book::Timestamp;
use birzha_engine::journal::{Durability, JournalOptions};
use birzha_engine::*;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

#[path = "engine/streams.rs"]
mod streams;

use streams::{SEGMENT_BYTES, config, stream, stream_steady};

const STREAM: u64 = 1_000_000;

fn apply(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Elements(1));
    for (name, inputs) in
        [("apply", stream(STREAM, false)), ("apply/steady", stream_steady(STREAM))]
    {
        apply_one(&mut group, name, &inputs);
    }
    group.finish();
}

/// `engine/apply` on one stream: the state restarts empty whenever the stream is used up.
fn apply_one(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    inputs: &[Input],
) {
    let registry = Arc::new(config(Durability::None, 1 << 20).validate().expect("valid"));
    let mut state = ShardState::new(Arc::clone(&registry), 0);
    let mut position = 0usize;
    let mut out = Vec::with_capacity(64);
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            // The clock runs over whole stretches of inputs (reading it per input would add
            // its own cost to every one), and stops while a finished stream's state is rebuilt.
            let mut total = Duration::ZERO;
            let mut started = Instant::now();
            for _ in 0..iters {
                if position == inputs.len() {
                    total += started.elapsed();
                    state = ShardState::new(Arc::clone(&registry), 0);
                    position = 0;
                    started = Instant::now();
                }
                let seq = state.seq_last() + 1;
                state.apply(
                    seq,
                    Timestamp(1_795_000_000_000_000_000 + seq),
                    &inputs[position],
                    &mut out,
                );
                out.clear();
                position += 1;
            }
            total + started.elapsed()
        });
    });
}

/// Runs `inputs` through a fresh one-shard engine and returns the time to the last output.
fn pipeline_once(inputs: &[Input], durability: Durability) -> Duration {
    let dir = tempfile::tempdir().expect("temporary directory");
    let registry = Arc::new(config(durability, 1 << 20).validate().expect("valid"));
    let (sender, receiver) = crossbeam::channel::bounded(1 << 14);
    let (engine, _) = Engine::start(registry, dir.path(), sender, &[u64::MAX]).expect("engine");
    let last = inputs.len() as u64;
    let consumer = std::thread::spawn(move || {
        for batch in receiver {
            if batch.seq_durable >= last {
                return;
            }
        }
    });
    let handle = engine.handle();
    let started = Instant::now();
    for input in inputs {
        handle.submit(*input).expect("engine running");
    }
    consumer.join().expect("consumer");
    let elapsed = started.elapsed();
    drop(handle);
    engine.shutdown().expect("shutdown");
    elapsed
}

fn pipeline(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine/pipeline");
    group.sample_size(10);
    let runs = [
        ("none", Durability::None, stream(1_000_000, false)),
        ("fsync", Durability::Fsync, stream(300_000, false)),
        ("none/steady", Durability::None, stream_steady(1_000_000)),
        ("fsync/steady", Durability::Fsync, stream_steady(1_000_000)),
    ];
    for (name, durability, inputs) in runs {
        let count = inputs.len() as u64;
        group.throughput(Throughput::Elements(count));
        group.bench_function(name, |b| {
            b.iter_custom(|iters| (0..iters).map(|_| pipeline_once(&inputs, durability)).sum());
        });
    }
    group.finish();
}

fn recovery(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine");
    group.sample_size(10);
    // A journal of a million inputs, then recovery from it alone.
    let dir = tempfile::tempdir().expect("temporary directory");
    let inputs = stream(STREAM, false);
    pipeline_in(dir.path(), &inputs);
    let registry = Arc::new(config(Durability::None, 1 << 20).validate().expect("valid"));
    let dirs = ShardDirs::new(dir.path(), 0);
    std::fs::remove_dir_all(&dirs.snapshots).expect("journal only");
    let options = JournalOptions {
        shard_id: 0,
        durability: Durability::None,
        segment_size_max: SEGMENT_BYTES,
        ..JournalOptions::default()
    };
    group.throughput(Throughput::Elements(STREAM));
    group.bench_function("replay", |b| {
        b.iter(|| {
            let recovered =
                recover(&registry, 0, &dirs, &options, u64::MAX, &mut |_| {}).expect("recovers");
            // The stream, and perhaps a tick or two of the sequencer's.
            assert!(recovered.report.replayed >= STREAM, "{}", recovered.report.replayed);
        });
    });
    // A million resting orders in a snapshot, then recovery from it.
    let resting = tempfile::tempdir().expect("temporary directory");
    pipeline_in(resting.path(), &stream(STREAM, true));
    let dirs = ShardDirs::new(resting.path(), 0);
    std::fs::remove_dir_all(&dirs.journal).expect("snapshot only");
    group.throughput(Throughput::Elements(1));
    group.bench_function("restore_1m_resting", |b| {
        b.iter(|| {
            let recovered =
                recover(&registry, 0, &dirs, &options, u64::MAX, &mut |_| {}).expect("recovers");
            assert!(recovered.report.orders_working > 900_000);
        });
    });
    group.finish();
}

/// Runs `inputs` through an engine in `dir` and shuts it down (writing a snapshot).
fn pipeline_in(dir: &std::path::Path, inputs: &[Input]) {
    let registry = Arc::new(config(Durability::None, 1 << 20).validate().expect("valid"));
    let (sender, receiver) = crossbeam::channel::bounded(1 << 14);
    let drain = std::thread::spawn(move || receiver.into_iter().count());
    let (engine, _) = Engine::start(registry, dir, sender, &[u64::MAX]).expect("engine");
    for input in inputs {
        engine.submit(*input).expect("engine running");
    }
    engine.shutdown().expect("shutdown");
    drain.join().expect("drain");
}

fn snapshot_encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine");
    group.sample_size(20);
    let registry = Arc::new(config(Durability::None, 1 << 20).validate().expect("valid"));
    let mut state = ShardState::new(registry, 0);
    let mut out = Vec::new();
    for (index, input) in stream_steady(STREAM).iter().enumerate() {
        let seq = index as u64 + 1;
        state.apply(seq, Timestamp(1_795_000_000_000_000_000 + seq), input, &mut out);
        out.clear();
    }
    let mut payload = Vec::new();
    group.bench_function("snapshot_encode/steady", |b| {
        b.iter(|| {
            payload.clear();
            state.encode_snapshot(&mut payload);
            payload.len()
        });
    });
    group.finish();
}

criterion_group!(benches, apply, pipeline, recovery, snapshot_encode);
criterion_main!(benches);
