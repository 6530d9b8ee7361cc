//! Engine input-to-output latency at a fixed rate: the issue's "p99 no more than the disk's
//! fsync time plus 50 µs at half the maximum load".
//!
//! An open-loop producer submits the steady stream (`engine/streams.rs`) to a one-shard engine
//! on a schedule fixed in advance (input `i` due at `start + i / rate`): it sleeps until the
//! next input is due and then submits every input due, so that it leaves the CPU to the engine
//! (the machine has two cores; a spinning producer would take one). A consumer thread takes the
//! output batches and, for every input a batch makes durable, records the time from the
//! input's submission to the batch's arrival. How far submissions fell behind the schedule is
//! reported too: a full input queue would block the producer and hide queueing from the
//! figures, and that lag shows it. Both durabilities run; the disk's own `fdatasync` time is
//! measured next to them (4 KiB appended and synced, 500 times).
//!
//! Run: `cargo bench --bench engine_latency [-- RATE_NONE RATE_FSYNC]` (inputs per second;
//! defaults near half of `engine/pipeline/*/steady`). Figures go in docs/performance.md.

#![allow(clippy::print_stdout, reason = "a benchmark reports on its standard output")]

#[path = "engine/streams.rs"]
#[allow(dead_code, reason = "the growing stream serves the throughput benchmarks only")]
mod streams;

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use birzha_engine::Engine;
use birzha_engine::journal::Durability;
use hdrhistogram::Histogram;

use streams::{config, stream_steady};

/// How long each run submits.
const RUN: Duration = Duration::from_secs(4);

fn main() {
    let rates: Vec<u64> = std::env::args().skip(1).filter_map(|arg| arg.parse().ok()).collect();
    let rate_none = rates.first().copied().unwrap_or(400_000);
    let rate_fsync = rates.get(1).copied().unwrap_or(350_000);
    let fsync = fsync_latency();
    println!(
        "fdatasync of 4 KiB alone: p50 {} µs, p99 {} µs, mean {:.0} µs",
        fsync.value_at_quantile(0.5) / 1000,
        fsync.value_at_quantile(0.99) / 1000,
        fsync.mean() / 1000.0
    );
    for (name, durability, rate) in
        [("none", Durability::None, rate_none), ("fsync", Durability::Fsync, rate_fsync)]
    {
        let (latency, lag) = run(durability, rate);
        let micros = |quantile: f64| latency.value_at_quantile(quantile) as f64 / 1000.0;
        println!(
            "engine/latency/{name}: {rate} inputs/s, {} inputs: p50 {:.1} µs, p90 {:.1} µs, \
             p99 {:.1} µs, p99.9 {:.1} µs, max {:.1} µs; submissions at most {:.1} ms late",
            latency.len(),
            micros(0.5),
            micros(0.9),
            micros(0.99),
            micros(0.999),
            latency.max() as f64 / 1000.0,
            lag.as_secs_f64() * 1000.0
        );
    }
}

/// Runs the steady stream at `rate` through a fresh engine; returns the latencies in ns and
/// the most the producer fell behind its schedule.
fn run(durability: Durability, rate: u64) -> (Histogram<u64>, Duration) {
    let count = rate * RUN.as_secs();
    // The first input warms up: once it is durable, the sequence number reached is the base
    // of the measured ones (the sequencer may journal a timer input before it).
    let inputs = stream_steady(count + 1);
    let dir = tempfile::tempdir().expect("temporary directory");
    let registry = Arc::new(config(durability, 1 << 20).validate().expect("valid"));
    let (sender, receiver) = crossbeam::channel::bounded(1 << 14);
    let (engine, _) = Engine::start(registry, dir.path(), sender, &[u64::MAX]).expect("engine");
    let start = Instant::now() + Duration::from_millis(200);
    let due = move |index: u64| start + Duration::from_nanos(index * 1_000_000_000 / rate);
    // When each measured input was submitted, in ns after `start`.
    let submitted: Arc<[AtomicU64]> = (0..count).map(|_| AtomicU64::new(0)).collect();
    let sent = Arc::clone(&submitted);
    let consumer = std::thread::spawn(move || {
        let mut latency = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("bounds");
        let mut base = None;
        let mut done = 0u64;
        for batch in receiver {
            let now = start.elapsed().as_nanos() as u64;
            let Some(base) = base else {
                base = (batch.seq_durable > 0).then_some(batch.seq_durable);
                continue;
            };
            // Measured input `i` is sequence number `base + i + 1` (one producer; no timer
            // input is due during a run: no expiries, no schedule).
            let durable = batch.seq_durable.saturating_sub(base).min(count);
            for index in done..durable {
                let at = sent[index as usize].load(Ordering::Acquire);
                latency.saturating_record(now.saturating_sub(at).max(1));
            }
            done = done.max(durable);
            if done == count {
                break;
            }
        }
        latency
    });
    let handle = engine.handle();
    handle.submit(inputs[0]).expect("engine running");
    let mut lag = Duration::ZERO;
    let mut index = 0;
    while index < count {
        std::thread::sleep(due(index).saturating_duration_since(Instant::now()));
        let now = Instant::now();
        lag = lag.max(now.saturating_duration_since(due(index)));
        while index < count && due(index) <= now {
            let at = Instant::now().saturating_duration_since(start).as_nanos() as u64;
            submitted[index as usize].store(at, Ordering::Release);
            handle.submit(inputs[index as usize + 1]).expect("engine running");
            index += 1;
        }
    }
    let latency = consumer.join().expect("consumer");
    drop(handle);
    engine.shutdown().expect("shutdown");
    (latency, lag)
}

/// The disk's `fdatasync` time for a small append, in ns, in the benchmarks' temporary
/// directory.
fn fsync_latency() -> Histogram<u64> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut file = std::fs::File::create(dir.path().join("sync")).expect("file");
    let mut latency = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("histogram");
    for _ in 0..500 {
        file.write_all(&[7u8; 4096]).expect("write");
        let started = Instant::now();
        file.sync_data().expect("fdatasync");
        latency.saturating_record(started.elapsed().as_nanos() as u64);
    }
    latency
}
