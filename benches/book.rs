//! Benchmarks of the order book (`birzha-book`), one workload per regime:
//!
//! - `book/add`: passive adds into a deep book (10 000 resting orders over ~100 levels a side).
//! - `book/cancel`: cancels of random resting orders, in random order, from the same book.
//! - `book/sweep/N`: aggressive IOC orders that each sweep N = 1..5 full levels of 4 orders;
//!   throughput is counted in fills.
//! - `book/mix`: a venue-like stream, about 50% add, 35% cancel, 10% replace, 5% aggressive,
//!   around 10 000 resting orders; Birzha and a naive book (`book/naive.rs`: BTreeMap of levels,
//!   VecDeque per level, flat id table) run the identical stream.
//! - `book/wide_walk`: a wide, sparse book (20 000 orders over 2 × 100 000 price levels) whose
//!   mid price walks through thousands of levels: every step empties the best level and the next
//!   must be found across gaps, where price-indexed arrays that scan and linked level lists
//!   collapse. Birzha and the naive book again.
//!
//! Streams are generated up front by a seeded generator that runs them on a book of its own, so
//! that cancels and replaces name live orders; the timed loops only apply requests. Each timed
//! batch starts from a clone of the same start state (the clone and the drop are not timed).
//! Run: `cargo bench --bench book`; figures go in docs/performance.md.

use std::hint::black_box;
use std::time::{Duration, Instant};

use birzha_book::*;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rust_decimal::Decimal;

#[path = "book/naive.rs"]
mod naive;
use naive::NaiveBook;

/// A sink that only counts, so the benchmark measures the book, not the consumer.
#[derive(Default)]
struct Counter(u64);

impl Sink for Counter {
    fn event(&mut self, _event: Event) {
        self.0 += 1;
    }
}

/// xorshift64*: small and seedable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn instrument(reference: i64, percent: u32, orders_max: u32) -> Instrument {
    Instrument::new(InstrumentSpec {
        symbol: "BENCH".into(),
        description: String::new(),
        unit: "t".into(),
        currency: "USD".into(),
        lot_size: Decimal::ONE,
        tick: Decimal::ONE,
        reference_price: Decimal::from(reference),
        band_percent: Decimal::from(percent),
        price_floor: None,
        price_cap: None,
        max_order_lots: 1_000_000,
        orders_max,
    })
    .expect("bench instrument")
}

/// One request of a stream, in the form both books take.
#[derive(Clone, Copy)]
enum Op {
    Add { id: u64, firm: u32, side: Side, price: i64, lots: u32 },
    Take { id: u64, side: Side, price: i64, lots: u32 },
    Cancel { id: u64, firm: u32 },
    Replace { id: u64, firm: u32, price: i64, lots: u32 },
}

/// An [`Op`] as Birzha requests, built before timing.
enum Request {
    Submit(NewOrder),
    Cancel(Cancel),
    Replace(Replace),
}

fn owner(firm: u32) -> Owner {
    Owner { firm: FirmId(firm), trader: TraderId(firm) }
}

fn request(op: Op) -> Request {
    let order = |id, firm, side, price, lots, time_in_force| NewOrder {
        order_id: OrderId(id),
        owner: owner(firm),
        side,
        order_type: OrderType::Limit { price: Ticks(price) },
        quantity: Lots(lots),
        time_in_force,
        display: None,
        post_only: false,
        self_match: SelfMatchMode::CancelResting,
    };
    match op {
        Op::Add { id, firm, side, price, lots } => {
            Request::Submit(order(id, firm, side, price, lots, TimeInForce::Day))
        }
        Op::Take { id, side, price, lots } => {
            Request::Submit(order(id, 0, side, price, lots, TimeInForce::ImmediateOrCancel))
        }
        Op::Cancel { id, firm } => {
            Request::Cancel(Cancel { order_id: OrderId(id), requester: FirmId(firm) })
        }
        Op::Replace { id, firm, price, lots } => Request::Replace(Replace {
            order_id: OrderId(id),
            requester: FirmId(firm),
            price: Ticks(price),
            quantity: Lots(lots),
            display: None,
        }),
    }
}

fn apply(book: &mut Book, requests: &[Request], sink: &mut Counter) {
    for request in requests {
        match request {
            Request::Submit(order) => book.submit(order, Timestamp(0), sink),
            Request::Cancel(cancel) => book.cancel(cancel, sink),
            Request::Replace(replace) => book.replace(replace, sink),
        }
    }
}

fn apply_naive(book: &mut NaiveBook, ops: &[Op]) {
    for op in ops {
        match *op {
            Op::Add { id, side, price, lots, .. } => {
                book.add(id, side == Side::Buy, price, lots, true);
            }
            Op::Take { id, side, price, lots } => {
                book.add(id, side == Side::Buy, price, lots, false)
            }
            Op::Cancel { id, .. } => {
                book.cancel(id);
            }
            Op::Replace { id, price, lots, .. } => book.replace(id, price, lots),
        }
    }
}

/// A start state (as ops, to build either book) and a stream to time from it.
struct Workload {
    prefill: Vec<Op>,
    stream: Vec<Op>,
}

/// Generates streams while keeping a book of its own, to pick live orders and real prices.
struct Generator {
    rng: Rng,
    book: Book,
    id_next: u64,
    live: Vec<(u64, u32)>,
}

impl Generator {
    fn new(seed: u64, instrument: Instrument) -> Generator {
        Generator { rng: Rng(seed), book: Book::new(instrument), id_next: 1, live: Vec::new() }
    }

    fn run(&mut self, op: Op) -> Op {
        if let Request::Submit(order) = request(op)
            && order.time_in_force == TimeInForce::Day
        {
            self.live.push((order.order_id.0, order.owner.firm.0));
        }
        apply(&mut self.book, &[request(op)], &mut Counter::default());
        op
    }

    fn add(&mut self, side: Side, price: i64) -> Op {
        self.id_next += 1;
        let (firm, lots) = (1 + self.rng.below(8) as u32, 1 + self.rng.below(10) as u32);
        self.run(Op::Add { id: self.id_next, firm, side, price, lots })
    }

    /// A random live order, dropping dead ones found on the way.
    fn pick(&mut self) -> Option<(u64, u32)> {
        while !self.live.is_empty() {
            let at = self.rng.below(self.live.len() as u64) as usize;
            let (id, firm) = self.live[at];
            if self.book.order(OrderId(id)).is_some() {
                return Some((id, firm));
            }
            self.live.swap_remove(at);
        }
        None
    }

    fn cancel(&mut self) -> Option<Op> {
        let (id, firm) = self.pick()?;
        Some(self.run(Op::Cancel { id, firm }))
    }

    fn replace(&mut self, mid: i64) -> Option<Op> {
        let (id, firm) = self.pick()?;
        let order = self.book.order(OrderId(id))?;
        let step = self.rng.below(3) as i64 - 1;
        let price = match order.side {
            Side::Buy => (order.price.0 + step).min(mid - 1),
            Side::Sell => (order.price.0 + step).max(mid + 1),
        };
        let lots = 1 + self.rng.below(10) as u32;
        Some(self.run(Op::Replace { id, firm, price, lots }))
    }

    /// An IOC that takes the best `levels` levels of `maker_side` in full.
    fn take(&mut self, maker_side: Side, levels: usize) -> Option<Op> {
        let taken: Vec<LevelView> = self.book.levels(maker_side).take(levels).collect();
        let last = taken.last()?;
        let lots = taken.iter().map(|level| level.lots).sum::<u64>().min(1_000_000) as u32;
        self.id_next += 1;
        let id = self.id_next;
        Some(self.run(Op::Take { id, side: maker_side.opposite(), price: last.price.0, lots }))
    }

    /// An IOC for `lots` against the best levels of `maker_side`, limited two ticks past the
    /// best price.
    fn take_lots(&mut self, maker_side: Side, lots: u32) -> Option<Op> {
        let best = self.book.best(maker_side)?.price.0;
        let price = if maker_side == Side::Sell { best + 2 } else { best - 2 };
        self.id_next += 1;
        let id = self.id_next;
        Some(self.run(Op::Take { id, side: maker_side.opposite(), price, lots }))
    }

    /// A passive price `1 + d` ticks from `mid`, `d` mostly small.
    fn passive_price(&mut self, side: Side, mid: i64, spread: u64) -> i64 {
        let distance = 1 + (self.rng.below(spread) * self.rng.below(spread) / spread) as i64;
        match side {
            Side::Buy => mid - distance,
            Side::Sell => mid + distance,
        }
    }

    fn side(&mut self) -> Side {
        if self.rng.below(2) == 0 { Side::Buy } else { Side::Sell }
    }
}

const MIX_MID: i64 = 100_000;
const MIX_RESTING: usize = 10_000;

/// About 50% add, 35% cancel, 10% replace, 5% aggressive, around 10 000 resting orders.
fn mix_workload(count: usize) -> Workload {
    let mut generator = Generator::new(7, instrument(MIX_MID, 10, 1 << 16));
    let prefill: Vec<Op> = (0..MIX_RESTING)
        .map(|_| {
            let side = generator.side();
            let price = generator.passive_price(side, MIX_MID, 100);
            generator.add(side, price)
        })
        .collect();
    let mut stream = Vec::with_capacity(count);
    while stream.len() < count {
        let roll = generator.rng.below(100);
        let growing = generator.book.len() > MIX_RESTING;
        let op = match roll {
            0..=49 if !growing => {
                let side = generator.side();
                let price = generator.passive_price(side, MIX_MID, 100);
                Some(generator.add(side, price))
            }
            0..=84 => generator.cancel(),
            85..=94 => generator.replace(MIX_MID),
            _ => {
                let side = generator.side();
                let lots = 1 + generator.rng.below(25) as u32;
                generator.take_lots(side, lots)
            }
        };
        stream.extend(op);
    }
    Workload { prefill, stream }
}

const WIDE_REFERENCE: i64 = 500_000;

/// A sparse book over 2 × 100 000 levels whose mid walks: each step takes the best level on one
/// side and adds near the new mid.
fn wide_walk_workload(count: usize) -> Workload {
    let instrument = instrument(WIDE_REFERENCE, 10, 1 << 16);
    let band = instrument.band();
    let mut generator = Generator::new(11, instrument);
    let mut mid = WIDE_REFERENCE;
    let prefill: Vec<Op> = (0..20_000)
        .map(|_| {
            let side = generator.side();
            let price = match side {
                Side::Buy => band.low.0 + generator.rng.below((mid - band.low.0) as u64) as i64,
                Side::Sell => mid + 1 + generator.rng.below((band.high.0 - mid) as u64) as i64,
            };
            generator.add(side, price)
        })
        .collect();
    let mut stream = Vec::with_capacity(count);
    while stream.len() < count {
        let side = generator.side();
        if let Some(op) = generator.take(side, 1) {
            stream.push(op);
        }
        let best = |side| generator.book.best(side).map(|level| level.price.0);
        if let (Some(bid), Some(ask)) = (best(Side::Buy), best(Side::Sell)) {
            mid = (bid + ask) / 2;
        }
        mid = mid.clamp(band.low.0 + 5_000, band.high.0 - 5_000);
        for _ in 0..3 {
            let side = generator.side();
            let price = generator.passive_price(side, mid, 200);
            stream.push(generator.add(side, price));
        }
        if generator.book.len() > 20_000 {
            stream.extend(generator.cancel());
        }
    }
    Workload { prefill, stream }
}

/// Applies a stream across criterion's samples, as a live engine would: the book carries over
/// from one sample to the next with warm caches, and restarts from a clone of the start state
/// (not timed) only when the stream runs out.
struct Replay<'a, B: Clone, R> {
    start: &'a B,
    book: B,
    ops: &'a [R],
    position: usize,
}

impl<'a, B: Clone, R> Replay<'a, B, R> {
    fn new(start: &'a B, ops: &'a [R]) -> Self {
        Replay { start, book: start.clone(), ops, position: 0 }
    }

    fn time(&mut self, iters: u64, apply: impl Fn(&mut B, &[R])) -> Duration {
        let mut total = Duration::ZERO;
        let mut done = 0u64;
        while done < iters {
            if self.position == self.ops.len() {
                self.book = self.start.clone();
                self.position = 0;
            }
            let n = (iters - done).min((self.ops.len() - self.position) as u64) as usize;
            let ops = &self.ops[self.position..self.position + n];
            let began = Instant::now();
            apply(&mut self.book, ops);
            total += began.elapsed();
            self.position += n;
            done += n as u64;
        }
        black_box(&self.book);
        total
    }
}

fn time_stream(replay: &mut Replay<'_, Book, Request>, iters: u64) -> Duration {
    replay.time(iters, |book, requests| {
        let mut sink = Counter::default();
        apply(book, requests, &mut sink);
        black_box(sink.0);
    })
}

fn build(instrument: Instrument, prefill: &[Op]) -> (Book, NaiveBook) {
    let mut book = Book::new(instrument);
    let requests: Vec<Request> = prefill.iter().copied().map(request).collect();
    apply(&mut book, &requests, &mut Counter::default());
    let mut naive = NaiveBook::default();
    apply_naive(&mut naive, prefill);
    (book, naive)
}

fn streams(c: &mut Criterion) {
    for (name, workload, instrument) in [
        ("book/mix", mix_workload(1_000_000), instrument(MIX_MID, 10, 1 << 16)),
        ("book/wide_walk", wide_walk_workload(1_000_000), instrument(WIDE_REFERENCE, 10, 1 << 16)),
    ] {
        let (start, naive_start) = build(instrument, &workload.prefill);
        let requests: Vec<Request> = workload.stream.iter().copied().map(request).collect();
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Elements(1));
        let mut replay = Replay::new(&start, &requests);
        group.bench_function("birzha", |b| b.iter_custom(|iters| time_stream(&mut replay, iters)));
        let mut replay = Replay::new(&naive_start, &workload.stream);
        group.bench_function("naive", |b| {
            b.iter_custom(|iters| replay.time(iters, apply_naive));
        });
        group.finish();
    }
}

/// Adds into, and cancels from, a deep book of 10 000 orders.
fn add_and_cancel(c: &mut Criterion) {
    const BATCH: usize = 10_000;
    let workload = mix_workload(0);
    let (start, _) = build(instrument(MIX_MID, 10, 1 << 16), &workload.prefill);
    let mut rng = Rng(3);
    let adds: Vec<Request> = (0..BATCH as u64)
        .map(|i| {
            let side = if rng.below(2) == 0 { Side::Buy } else { Side::Sell };
            let distance = 1 + (rng.below(100) * rng.below(100) / 100) as i64;
            let price = if side == Side::Buy { MIX_MID - distance } else { MIX_MID + distance };
            request(Op::Add { id: 10_000_000 + i, firm: 1, side, price, lots: 5 })
        })
        .collect();
    let mut with_adds = start.clone();
    apply(&mut with_adds, &adds, &mut Counter::default());
    let mut ids: Vec<u64> = (0..BATCH as u64).map(|i| 10_000_000 + i).collect();
    for i in (1..ids.len()).rev() {
        ids.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let cancels: Vec<Request> = ids.iter().map(|&id| request(Op::Cancel { id, firm: 1 })).collect();
    let mut group = c.benchmark_group("book");
    group.throughput(Throughput::Elements(1));
    let mut replay = Replay::new(&start, &adds);
    group.bench_function("add", |b| b.iter_custom(|iters| time_stream(&mut replay, iters)));
    let mut replay = Replay::new(&with_adds, &cancels);
    group.bench_function("cancel", |b| b.iter_custom(|iters| time_stream(&mut replay, iters)));
    group.finish();
}

/// IOC orders each sweeping `n` full levels of 4 one-lot orders; counted per fill.
fn sweep(c: &mut Criterion) {
    const LEVELS: i64 = 8_000;
    let mut group = c.benchmark_group("book/sweep");
    let mut start = Book::new(instrument(MIX_MID, 10, 1 << 16));
    let mut id = 0;
    for level in 0..LEVELS {
        for _ in 0..4 {
            id += 1;
            let op = Op::Add { id, firm: 1, side: Side::Sell, price: MIX_MID + 1 + level, lots: 1 };
            apply(&mut start, &[request(op)], &mut Counter::default());
        }
    }
    for n in 1..=5i64 {
        let takers: Vec<Request> = (0..LEVELS / n)
            .map(|k| {
                let price = MIX_MID + (k + 1) * n;
                request(Op::Take {
                    id: 1_000_000 + k as u64,
                    side: Side::Buy,
                    price,
                    lots: 4 * n as u32,
                })
            })
            .collect();
        group.throughput(Throughput::Elements(4 * n as u64));
        let mut replay = Replay::new(&start, &takers);
        group.bench_function(format!("{n}"), |b| {
            b.iter_custom(|iters| time_stream(&mut replay, iters));
        });
    }
    group.finish();
}

criterion_group!(benches, add_and_cancel, sweep, streams);
criterion_main!(benches);
