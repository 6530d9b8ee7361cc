//! Engine benchmarks: what one shard does per input.
//!
//! Workloads, on one instrument from four firms, every ClOrdID fresh (so the day's ClOrdID
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

/// A xorshift64 generator: the streams are the same on every run.
fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}

/// The stream of the module documentation; `passive_only` leaves out cancels and aggression.
fn stream(count: u64, passive_only: bool) -> Vec<Input> {
    let mut next = xorshift(0x1234_5678_9abc_def0u64);
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
            new_order(i, side, roll >= 95, r)
        })
        .collect()
}

/// The steady workload of the module documentation.
fn stream_steady(count: u64) -> Vec<Input> {
    const RESTING: usize = 10_000;
    let mut next = xorshift(0x0bad_cafe_f00d_1234u64);
    let id = |text: String| ClOrdId::new(&text).expect("short ASCII");
    // Passive orders not cancelled yet (some have traded: their cancels are TOO_LATE).
    let mut resting: Vec<(u64, Side)> = Vec::with_capacity(2 * RESTING);
    (0..count)
        .map(|i| {
            let r = next();
            let roll = (r >> 20) % 100;
            let add_odds = if resting.len() < RESTING { 55 } else { 45 };
            if roll >= add_odds && roll < 90 && !resting.is_empty() {
                let (earlier, side) = resting.swap_remove((r >> 30) as usize % resting.len());
                let order = OrderRef { order_id: None, cl_ord_id: id(format!("C{earlier}")) };
                let trader = TraderId((earlier % 4) as u32);
                let instrument = InstrumentId(0);
                let cl_ord_id = id(format!("X{i}"));
                return Input::Cancel(CancelInput { trader, cl_ord_id, order, instrument, side });
            }
            let aggressive = roll >= 90;
            let side = if r & 16 == 0 { Side::Buy } else { Side::Sell };
            if !aggressive {
                resting.push((i, side));
            }
            new_order(i, side, aggressive, r)
        })
        .collect()
}

/// A limit order `C{i}` of trader `i mod 4`: passive within 200 ticks of 6800, or an IOC that
/// reaches up to 60 ticks through the touch.
fn new_order(i: u64, side: Side, aggressive: bool, r: u64) -> Input {
    let offset = 1 + ((r >> 8) % 200) as i64 - if aggressive { 60 } else { 0 };
    let price = if side == Side::Buy { 6800 - offset } else { 6800 + offset };
    Input::NewOrder(NewOrderInput {
        trader: TraderId((i % 4) as u32),
        cl_ord_id: ClOrdId::new(&format!("C{i}")).expect("short ASCII"),
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
}

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

criterion_group!(benches, apply, pipeline, recovery);
criterion_main!(benches);
