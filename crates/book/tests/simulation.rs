//! Seeded random simulation: long streams of every kind of request, applied to the real book
//! and to the naive reference book; every execution event must be equal, and the market-data
//! level changes, applied to a shadow depth, must always reproduce the reference's depth.
//!
//! A failure names its seed; rerun it alone with `BIRZHA_SIM_SEED=<seed> cargo test -p
//! birzha-book simulation`. `BIRZHA_SIM_OPS` sets the operations per seed (default 40 000 over
//! 8 seeds per run; the soak `simulation_soak` runs many more when asked with `--ignored`).

use std::collections::BTreeMap;

use birzha_book::*;

use crate::reference::Reference;
use crate::util::{Rng, instrument, owner};

/// One simulated request, kept for the failure message.
#[derive(Debug)]
enum Op {
    Submit(NewOrder),
    Cancel(Cancel),
    Replace(Replace),
    MassCancel(MassCancel),
    Expire { end_of_day: bool },
}

struct Simulation {
    seed: u64,
    rng: Rng,
    book: Book,
    reference: Reference,
    shadow: BTreeMap<(u8, i64), (u64, u32)>,
    now: Timestamp,
    order_id_next: u64,
    /// Ids that were accepted at some point, with their firm: cancel and replace targets.
    known: Vec<(u64, u32)>,
    /// How often each kind of outcome occurred: the run must have exercised them all.
    coverage: BTreeMap<String, u64>,
}

const MID: i64 = 1000;

impl Simulation {
    fn new(seed: u64) -> Simulation {
        let mut rng = Rng(seed);
        // Some seeds get a tiny book so that the capacity limit is exercised too.
        let orders_max = if rng.chance(25) { 24 } else { 4096 };
        let book = Book::new(instrument(MID, 5, orders_max));
        let reference = Reference::new(&book);
        Simulation {
            seed,
            rng,
            book,
            reference,
            shadow: BTreeMap::new(),
            now: Timestamp(1_000_000),
            order_id_next: 1,
            known: Vec::new(),
            coverage: BTreeMap::new(),
        }
    }

    fn price(&mut self) -> Ticks {
        let band = self.book.band();
        Ticks(match self.rng.below(100) {
            0..=2 => self.rng.range(band.low.0 - 5, band.high.0 + 5),
            3..=9 => self.rng.range(band.low.0, band.high.0),
            _ => self.rng.range(MID - 12, MID + 12),
        })
    }

    fn lots(&mut self) -> Lots {
        Lots(match self.rng.below(200) {
            0 => 0,
            1 => 1001,
            _ => self.rng.range(1, 25) as u32,
        })
    }

    fn new_order(&mut self) -> NewOrder {
        let firm = self.rng.range(1, 3) as u32;
        let side = if self.rng.chance(50) { Side::Buy } else { Side::Sell };
        let order_id = if self.rng.chance(1) && !self.known.is_empty() {
            self.known[self.rng.below(self.known.len() as u64) as usize].0
        } else {
            self.order_id_next += 1;
            self.order_id_next
        };
        let time_in_force = match self.rng.below(100) {
            0..=44 => TimeInForce::Day,
            45..=59 => TimeInForce::GoodTillCancel,
            60..=69 => {
                let ahead = self.rng.range(-1_000, 50_000_000);
                TimeInForce::GoodTillDate(Timestamp(self.now.0.saturating_add_signed(ahead)))
            }
            70..=86 => TimeInForce::ImmediateOrCancel,
            _ => TimeInForce::FillOrKill,
        };
        let market = self.rng.chance(10);
        let quantity = self.lots();
        let display = self.rng.chance(12).then(|| match self.rng.below(30) {
            0 => Lots(0),
            _ => Lots(self.rng.range(1, i64::from(quantity.0.max(1))) as u32),
        });
        let self_match = match self.rng.below(10) {
            0..=3 => SelfMatchMode::CancelResting,
            4..=5 => SelfMatchMode::CancelIncoming,
            6..=7 => SelfMatchMode::CancelBoth,
            _ => SelfMatchMode::Decrement,
        };
        NewOrder {
            order_id: OrderId(order_id),
            owner: owner(firm, firm * 10 + self.rng.range(1, 2) as u32),
            side,
            order_type: if market {
                OrderType::Market
            } else {
                OrderType::Limit { price: self.price() }
            },
            quantity,
            time_in_force,
            display,
            post_only: self.rng.chance(6),
            self_match,
        }
    }

    /// A known order id (or, sometimes, an unknown one) and a requesting firm (usually the
    /// owner's, sometimes another firm's).
    fn target(&mut self) -> (OrderId, FirmId) {
        if self.known.is_empty() || self.rng.chance(5) {
            return (OrderId(u64::MAX - self.rng.below(10)), FirmId(1));
        }
        let pick = self.rng.below(self.known.len() as u64) as usize;
        let (order_id, firm) = self.known[pick];
        if self.book.order(OrderId(order_id)).is_none() && self.rng.chance(90) {
            self.known.swap_remove(pick);
        }
        let requester = if self.rng.chance(95) { firm } else { firm % 3 + 1 };
        (OrderId(order_id), FirmId(requester))
    }

    fn next_op(&mut self) -> Op {
        self.now = Timestamp(self.now.0 + self.rng.range(1, 20_000) as u64);
        match self.rng.below(100) {
            0..=49 => Op::Submit(self.new_order()),
            50..=74 => {
                let (order_id, requester) = self.target();
                Op::Cancel(Cancel { order_id, requester })
            }
            75..=97 => {
                let (order_id, requester) = self.target();
                let quantity = self.lots();
                let display = self.rng.chance(10).then(|| Lots(self.rng.range(0, 10) as u32));
                Op::Replace(Replace { order_id, requester, price: self.price(), quantity, display })
            }
            98 => Op::MassCancel(MassCancel {
                firm: self.rng.chance(80).then(|| FirmId(self.rng.range(1, 3) as u32)),
                trader: None,
                side: self.rng.chance(50).then_some(Side::Sell),
                day_only: self.rng.chance(50),
            }),
            _ => Op::Expire { end_of_day: self.rng.chance(10) },
        }
    }

    fn step(&mut self, step: usize) {
        let op = self.next_op();
        let (mut actual, mut expected) = (Vec::new(), Vec::new());
        match &op {
            Op::Submit(order) => {
                self.book.submit(order, self.now, &mut actual);
                self.reference.submit(order, self.now, &mut expected);
                if !matches!(expected.first(), Some(Event::Rejected(_))) {
                    self.known.push((order.order_id.0, order.owner.firm.0));
                }
            }
            Op::Cancel(request) => {
                self.book.cancel(request, &mut actual);
                self.reference.cancel(request, &mut expected);
            }
            Op::Replace(request) => {
                self.book.replace(request, &mut actual);
                self.reference.replace(request, &mut expected);
            }
            Op::MassCancel(filter) => {
                self.book.mass_cancel(filter, CancelReason::MassCancel, &mut actual);
                self.reference.mass_cancel(filter, CancelReason::MassCancel, &mut expected);
            }
            Op::Expire { end_of_day } => {
                self.book.expire(self.now, *end_of_day, &mut actual);
                self.reference.expire(self.now, *end_of_day, &mut expected);
            }
        }
        self.compare(step, &op, &actual, &expected);
    }

    fn compare(&mut self, step: usize, op: &Op, actual: &[Event], expected: &[Event]) {
        let seed = self.seed;
        let context = || format!("seed {seed} step {step}: {op:?}");
        let executions: Vec<Event> =
            actual.iter().filter(|event| !matches!(event, Event::Level(_))).copied().collect();
        assert_eq!(executions, expected, "execution events differ at {}", context());
        for event in &executions {
            *self.coverage.entry(outcome(event)).or_default() += 1;
        }
        for event in actual {
            if let Event::Level(level) = event {
                let key = (level.side as u8, level.price.0);
                if level.orders == 0 {
                    self.shadow.remove(&key);
                } else {
                    self.shadow.insert(key, (level.lots, level.orders));
                }
            }
        }
        for side in [Side::Buy, Side::Sell] {
            let reference = self.reference.depth(side);
            let book: Vec<_> =
                self.book.levels(side).map(|l| (l.price.0, l.lots, l.orders)).collect();
            assert_eq!(book, reference, "{side} depth differs at {}", context());
            let mut shadow: Vec<_> = self
                .shadow
                .iter()
                .filter(|((shadow_side, _), _)| *shadow_side == side as u8)
                .map(|((_, price), (lots, orders))| (*price, *lots, *orders))
                .collect();
            if side == Side::Buy {
                shadow.reverse();
            }
            assert_eq!(shadow, reference, "{side} market data differs at {}", context());
        }
        if step.is_multiple_of(64) {
            self.book.check_invariants();
        }
    }
}

/// Names an execution event's kind of outcome, for the coverage tally.
fn outcome(event: &Event) -> String {
    match event {
        Event::Accepted(_) => "accepted".into(),
        Event::Rejected(rejected) => format!("rejected {}", rejected.reject.code()),
        Event::Fill(_) => "fill".into(),
        Event::Cancelled(cancelled) => format!("cancelled {:?}", cancelled.reason),
        Event::Replaced(replaced) => {
            format!("replaced kept={}", replaced.order.leaves.0 > 0 && replaced.priority_kept)
        }
        Event::Reduced(_) => "reduced".into(),
        Event::Expired(_) => "expired".into(),
        Event::Level(_) => "level".into(),
        Event::Interrupted(_) => "interrupted".into(),
    }
}

fn run(seed: u64, ops: usize) -> BTreeMap<String, u64> {
    let mut simulation = Simulation::new(seed);
    for step in 0..ops {
        simulation.step(step);
    }
    simulation.book.check_invariants();
    simulation.coverage
}

/// Every outcome a long enough run must have produced, or the generator has gone blind.
const OUTCOMES: &[&str] = &[
    "accepted",
    "fill",
    "reduced",
    "expired",
    "replaced kept=true",
    "replaced kept=false",
    "cancelled Request",
    "cancelled ImmediateOrCancel",
    "cancelled SelfMatch",
    "cancelled MassCancel",
    "rejected UNKNOWN_ORDER",
    "rejected DUPLICATE_ORDER_ID",
    "rejected UNSUPPORTED",
    "rejected QUANTITY_NOT_WHOLE_LOTS",
    "rejected QUANTITY_ABOVE_MAX",
    "rejected DISPLAY_INVALID",
    "rejected EXPIRY_NOT_IN_FUTURE",
    "rejected PRICE_OUTSIDE_BAND",
    "rejected POST_ONLY_WOULD_CROSS",
    "rejected BOOK_FULL",
];

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|value| value.parse().ok())
}

#[test]
fn simulation_matches_the_reference_book() {
    let ops = env_number("BIRZHA_SIM_OPS").unwrap_or(40_000) as usize;
    if let Some(seed) = env_number("BIRZHA_SIM_SEED") {
        run(seed, ops);
        return;
    }
    let mut coverage = BTreeMap::new();
    for seed in 1..=8 {
        for (outcome, count) in run(seed, ops) {
            *coverage.entry(outcome).or_insert(0) += count;
        }
    }
    for outcome in OUTCOMES {
        assert!(coverage.contains_key(*outcome), "no `{outcome}` in the run: {coverage:#?}");
    }
}

#[test]
#[ignore = "soak: many seeds, minutes; run with --ignored"]
fn simulation_soak() {
    let ops = env_number("BIRZHA_SIM_OPS").unwrap_or(200_000) as usize;
    for seed in 100..164 {
        run(seed, ops);
    }
}

/// The reference book knows no volatility interruptions, so with them the real book is held to
/// invariants instead, over the same generator's orders (submits only; an interrupted book is
/// uncrossed back to continuous trading): a FOK order fills whole or not at all, and an
/// interruption happens only before a trade, so the level it stopped at still holds an order
/// of another firm than the taker's. (Both failed before a review's fixes.)
#[test]
fn with_volatility_interruptions_fok_fills_whole_and_interruptions_precede_a_trade() {
    let (mut interruptions, mut fok_fills) = (0, 0);
    for seed in 1..=8 {
        let mut simulation = Simulation::new(seed);
        simulation.book.set_volatility_limit(Some(50)); // 0.5 %: 5 ticks from 1000
        for step in 0..20_000 {
            simulation.now = Timestamp(simulation.now.0 + 1_000);
            let order = simulation.new_order();
            let mut events = Vec::new();
            simulation.book.submit(&order, simulation.now, &mut events);
            let filled: u32 = events
                .iter()
                .filter_map(|e| match e {
                    Event::Fill(fill) if fill.taker.order_id == order.order_id => Some(fill.lots.0),
                    _ => None,
                })
                .sum();
            if order.time_in_force == TimeInForce::FillOrKill && filled > 0 {
                assert_eq!(filled, order.quantity.0, "seed {seed} step {step}: {events:?}");
                fok_fills += 1;
            }
            if let Some(Event::Interrupted(stop)) =
                events.iter().find(|e| matches!(e, Event::Interrupted(_)))
            {
                interruptions += 1;
                let other_firm = simulation.book.orders(order.side.opposite()).any(|resting| {
                    resting.price == stop.price && resting.owner.firm != order.owner.firm
                });
                assert!(
                    other_firm,
                    "seed {seed} step {step}: interrupted with no trade: {events:?}"
                );
                simulation.book.uncross(&mut Vec::new());
            }
            simulation.book.check_invariants();
        }
    }
    assert!(
        interruptions > 100 && fok_fills > 100,
        "{interruptions} interruptions, {fok_fills} FOK fills"
    );
}
