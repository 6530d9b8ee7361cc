//! Engine benchmarks: what one shard does per input.
//!
//! Workload: a venue-like stream on one instrument from four firms (about 60% passive limit
//! orders, 35% cancels by ClOrdID of earlier orders, 5% aggressive IOC orders), all with fresh
//! ClOrdIDs. Regimes:
//!
//! - `engine/apply`: `ShardState::apply` alone: validation, deposits, order records, matching
//!   and reports, no journal, no threads.
//! - `engine/pipeline/none` and `engine/pipeline/fsync`: the whole engine: inputs submitted to a
//!   running shard over its queue, stamped, journaled (group commit, with `Durability::None` or
//!   `Fsync`), applied, and their outputs received by a consumer thread; the time runs until the
//!   last output of the last input arrives.
//! - `engine/replay`: recovery of a shard from its journal alone (1 000 000 records).
//! - `engine/restore`: recovery from a snapshot holding 1 000 000 resting orders.
//!
//! Run: `cargo bench --bench engine`; figures go in docs/performance.md.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use birzha_book::{InstrumentSpec, SelfMatchMode, Side, Timestamp, TraderId};
use birzha_engine::journal::{Durability, JournalOptions};
use birzha_engine::*;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rust_decimal::Decimal;

/// The journal segment size of the benchmarks' engines: 1 GiB.
const SEGMENT_BYTES: u64 = 1 << 30;

fn config(durability: Durability, orders_max: u32) -> EngineConfig {
    let instrument = InstrumentConfig {
        spec: InstrumentSpec {
            symbol: "BUT82-FCA-USD".into(),
            description: String::new(),
            unit: "t".into(),
            currency: "USD".into(),
            lot_size: Decimal::from(5),
            tick: Decimal::ONE,
            reference_price: Decimal::from(6800),
            band_percent: Decimal::from(10),
            price_floor: None,
            price_cap: None,
            max_order_lots: 1000,
            orders_max,
        },
        deposit_ratio: Decimal::new(5, 2),
    };
    let firm = |code: &str| FirmConfig {
        code: code.into(),
        name: code.into(),
        deposits: BTreeMap::from([("USD".to_string(), Decimal::from(1_000_000_000_000_000i64))]),
        suspended: false,
    };
    let trader = |code: &str, firm: &str| TraderConfig {
        code: code.into(),
        firm: firm.into(),
        self_match: SelfMatchMode::CancelResting,
        cancel_on_disconnect: CancelOnDisconnect::Day,
    };
    EngineConfig {
        instruments: vec![instrument],
        firms: vec![firm("A"), firm("B"), firm("C"), firm("D")],
        traders: vec![trader("T1", "A"), trader("T2", "B"), trader("T3", "C"), trader("T4", "D")],
        shards: 1,
        durability,
        snapshot_every_inputs: u64::MAX / 2,
        input_queue_capacity: 1 << 16,
        batch_inputs_max: 4096,
        // One segment for a whole run: the snapshot written at shutdown would let retention
        // remove full segments, and the replay benchmark needs the whole journal.
        journal_segment_bytes: SEGMENT_BYTES,
        phases: PhaseConfig { volatility_limit_bp: None, ..PhaseConfig::default() },
    }
}

/// The stream of the module documentation; `passive_only` leaves out cancels and aggression.
fn stream(count: u64, passive_only: bool) -> Vec<Input> {
    let mut state = 0x1234_5678_9abc_def0u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let id = |text: String| ClOrdId::new(&text).expect("short ASCII");
    (0..count)
        .map(|i| {
            let r = next();
            let side = if r & 16 == 0 { Side::Buy } else { Side::Sell };
            let roll = if passive_only { 50 } else { (r >> 20) % 100 };
            if roll < 35 && i > 100 {
                let earlier = i - 1 - (r >> 30) % 100;
                let order = OrderRef { order_id: None, cl_ord_id: id(format!("C{earlier}")) };
                let trader = TraderId((earlier % 4) as u32);
                let cancel = CancelInput {
                    trader,
                    cl_ord_id: id(format!("X{i}")),
                    order,
                    instrument: InstrumentId(0),
                    side,
                };
                return Input::Cancel(cancel);
            }
            let aggressive = roll >= 95;
            let offset = 1 + ((r >> 8) % 200) as i64 - if aggressive { 60 } else { 0 };
            let price = if side == Side::Buy { 6800 - offset } else { 6800 + offset };
            Input::NewOrder(NewOrderInput {
                trader: TraderId((i % 4) as u32),
                cl_ord_id: id(format!("C{i}")),
                instrument: InstrumentId(0),
                side,
                kind: OrderKind::Limit,
                price: Some(Decimal::from(price)),
                quantity: Decimal::from(1 + (r >> 40) % 10),
                tif: if aggressive { Tif::ImmediateOrCancel } else { Tif::Day },
                display: None,
                post_only: false,
                self_match: None,
                account: None,
            })
        })
        .collect()
}

const STREAM: u64 = 1_000_000;

fn apply(c: &mut Criterion) {
    let inputs = stream(STREAM, false);
    let registry = Arc::new(config(Durability::None, 1 << 20).validate().expect("valid"));
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Elements(1));
    let mut state = ShardState::new(Arc::clone(&registry), 0);
    let mut position = 0usize;
    let mut out = Vec::with_capacity(64);
    group.bench_function("apply", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                if position == inputs.len() {
                    state = ShardState::new(Arc::clone(&registry), 0);
                    position = 0;
                }
                let started = Instant::now();
                let seq = state.seq_last() + 1;
                state.apply(
                    seq,
                    Timestamp(1_795_000_000_000_000_000 + seq),
                    &inputs[position],
                    &mut out,
                );
                total += started.elapsed();
                out.clear();
                position += 1;
            }
            total
        });
    });
    group.finish();
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
    for (name, durability, count) in
        [("none", Durability::None, 1_000_000), ("fsync", Durability::Fsync, 300_000)]
    {
        let inputs = stream(count, false);
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

criterion_group!(benches, apply, pipeline, recovery);
criterion_main!(benches);
