//! Every firm's reserved deposit equals what its working orders still reserve, after every
//! input of long random streams that go through replaces up and down, market orders in calls,
//! every self-trade prevention mode, icebergs, auctions, expiry, mass cancels, suspensions,
//! halts, resumes and the operator's phase commands (a review's probe, kept). For the
//! fixture's instruments every reservation is an exact multiple of `price × leaves`, so the
//! check is exact: `reserved = Σ k × price × leaves` over the firm's resting orders.

use birzha_book::{FirmId, SelfMatchMode, Side, TraderId};
use birzha_engine::*;
use rust_decimal::Decimal;

use crate::day::{minsk, scheduled_driver};
use crate::fixture::{BUTTER, CHEESE, Driver, MILK, at, dec, id};
use crate::stream::Rng;

/// Millionths of deposit per tick per lot (tick × lot size × 5 %), per instrument.
const PER_TICK_LOT: [(InstrumentId, &str, i128); 3] =
    [(BUTTER, "USD", 250_000), (MILK, "BYN", 10_000_000), (CHEESE, "RUB", 2_500_000)];

/// Checks that each firm's reserved deposit is what its resting orders reserve.
fn check_reserved(driver: &Driver, context: &str) {
    for (instrument, currency, per) in PER_TICK_LOT {
        let Some(book) = driver.state.book(instrument) else { continue };
        let mut expected = [0i128; 3];
        for side in [Side::Buy, Side::Sell] {
            for order in book.orders(side) {
                expected[order.owner.firm.0 as usize] +=
                    per * i128::from(order.price.0) * i128::from(order.leaves.0);
            }
        }
        for (firm, expected) in expected.iter().enumerate() {
            let account = driver.state.deposit(FirmId(firm as u32), currency).expect("account");
            assert!(account.free >= 0 && account.reserved >= 0, "{context}: {account:?}");
            assert_eq!(
                account.reserved, *expected,
                "{context}: firm {firm} {currency} reserved vs its working orders"
            );
        }
    }
}

const INSTRUMENTS: [(InstrumentId, i64, &str); 3] =
    [(BUTTER, 6800, "1"), (MILK, 95, "0.01"), (CHEESE, 45000, "10")];

/// A stream of inputs that exercises replaces up and down, market orders in calls, every STP
/// mode, icebergs, and the operator's phase commands.
struct Probe {
    rng: Rng,
    counter: u64,
    recent: Vec<(TraderId, InstrumentId, ClOrdId, Side)>,
}

impl Probe {
    fn next(&mut self) -> Input {
        let (instrument, reference, tick) = INSTRUMENTS[self.rng.below(3) as usize];
        let trader = TraderId(self.rng.below(4) as u32);
        self.counter += 1;
        let cl_ord_id = id(&format!("P{}", self.counter));
        match self.rng.below(100) {
            0..=54 => self.new_order(trader, cl_ord_id, (instrument, reference, tick)),
            55..=79 if !self.recent.is_empty() => self.replace(cl_ord_id),
            80..=87 if !self.recent.is_empty() => {
                let (trader, instrument, earlier, side) =
                    self.recent[self.rng.below(self.recent.len() as u64) as usize];
                Input::Cancel(CancelInput {
                    trader,
                    cl_ord_id,
                    order: OrderRef { order_id: None, cl_ord_id: earlier },
                    instrument,
                    side,
                })
            }
            88..=91 => {
                // Any phase but Closed, Continuous twice as often.
                let phase = match self.rng.below(7) {
                    0 => Phase::Continuous,
                    n => Phase::ALL[n as usize],
                };
                Input::Admin(Admin::SetPhase(instrument, phase))
            }
            92 => Input::Admin(Admin::Halt(instrument)),
            93 => Input::Admin(Admin::Resume(instrument)),
            94 => Input::MassCancel(MassCancelInput {
                trader,
                cl_ord_id,
                instrument: Some(instrument),
                side: None,
            }),
            95 => Input::Disconnect { trader },
            96 if self.rng.below(10) == 0 => {
                Input::Admin(Admin::SuspendFirm(FirmId(self.rng.below(3) as u32)))
            }
            96 | 97 => Input::Admin(Admin::ReinstateFirm(FirmId(self.rng.below(3) as u32))),
            _ => Input::Tick,
        }
    }

    /// A price within eight ticks of the instrument's reference.
    fn price(&mut self, reference: i64, tick: &str) -> Decimal {
        let offset = self.rng.below(16) as i64 - 8;
        Decimal::from(reference + offset) * dec(tick)
    }

    /// A limit or market order of any time in force, sometimes an iceberg, with any
    /// self-trade prevention mode; remembered for replaces and cancels if it may rest.
    fn new_order(
        &mut self,
        trader: TraderId,
        cl_ord_id: ClOrdId,
        (instrument, reference, tick): (InstrumentId, i64, &str),
    ) -> Input {
        let market = self.rng.below(8) == 0;
        let tif = match self.rng.below(6) {
            0..=2 => Tif::Day,
            3 => Tif::GoodTillCancel,
            4 => Tif::ImmediateOrCancel,
            _ => Tif::FillOrKill,
        };
        let rests = matches!(tif, Tif::Day | Tif::GoodTillCancel);
        let side = if self.rng.below(2) == 0 { Side::Buy } else { Side::Sell };
        if rests {
            self.recent.push((trader, instrument, cl_ord_id, side));
            if self.recent.len() > 100 {
                self.recent.remove(0);
            }
        }
        Input::NewOrder(NewOrderInput {
            trader,
            cl_ord_id,
            instrument,
            side,
            kind: if market { OrderKind::Market } else { OrderKind::Limit },
            price: (!market).then(|| self.price(reference, tick)),
            quantity: Decimal::from(1 + self.rng.below(12)),
            tif,
            display: (rests && !market && self.rng.below(5) == 0)
                .then(|| Decimal::from(1 + self.rng.below(3))),
            post_only: false,
            self_match: match self.rng.below(5) {
                0 => Some(SelfMatchMode::CancelIncoming),
                1 => Some(SelfMatchMode::CancelBoth),
                2 => Some(SelfMatchMode::Decrement),
                3 => Some(SelfMatchMode::CancelResting),
                _ => None,
            },
            account: None,
        })
    }

    /// A replace of a recent order to another price and quantity, up or down.
    fn replace(&mut self, cl_ord_id: ClOrdId) -> Input {
        let (trader, instrument, earlier, side) =
            self.recent[self.rng.below(self.recent.len() as u64) as usize];
        let (_, reference, tick) =
            INSTRUMENTS.into_iter().find(|i| i.0 == instrument).expect("known");
        let slot = self.recent.iter().position(|r| r.2 == earlier).expect("recent");
        self.recent[slot].2 = cl_ord_id;
        Input::Replace(ReplaceInput {
            trader,
            cl_ord_id,
            order: OrderRef { order_id: None, cl_ord_id: earlier },
            instrument,
            side,
            price: Some(self.price(reference, tick)),
            quantity: Decimal::from(1 + self.rng.below(14)),
            display: None,
        })
    }
}

/// Over long random streams (both shards, with and without a schedule), a firm's reserved
/// deposit always equals what its resting orders reserve, so nothing stays reserved once its
/// orders are gone and nothing is released twice.
#[test]
fn reserved_deposit_always_matches_the_working_orders() {
    let mut seen = std::collections::BTreeMap::new();
    for seed in 1..=6u64 {
        for shard in [0u16, 1] {
            for scheduled in [false, true] {
                let mut driver = if scheduled {
                    let mut driver = scheduled_driver();
                    if shard == 1 {
                        driver.state =
                            ShardState::new(std::sync::Arc::clone(driver.state.registry()), 1);
                    }
                    driver
                } else {
                    Driver::new(shard)
                };
                let mut probe = Probe { rng: Rng(seed), counter: 0, recent: Vec::new() };
                let start = if scheduled { minsk(10, 40, 0).0 } else { at(0).0 };
                let mut time = start;
                for step in 0..6_000 {
                    time += (1 + probe.rng.below(8)) * 1_000_000_000;
                    let input = probe.next();
                    let events = driver.apply_at(birzha_book::Timestamp(time), input);
                    for event in &events {
                        let kind = match event {
                            OutputEvent::Execution(e) => match e.reason {
                                Some(Reason::Cancel(reason)) => format!("cancel {reason:?}"),
                                Some(Reason::SelfMatchDecrement) => "decrement".into(),
                                Some(Reason::Reject(r)) => format!("reject {}", r.code()),
                                _ => format!("{:?}", e.exec_type),
                            },
                            OutputEvent::Trade(t) if t.auction => "auction trade".into(),
                            OutputEvent::Trade(_) => "trade".into(),
                            OutputEvent::Phase(c) => format!("phase {:?}", c.to),
                            _ => continue,
                        };
                        *seen.entry(kind).or_insert(0u32) += 1;
                    }
                    check_reserved(
                        &driver,
                        &format!(
                            "seed {seed} shard {shard} scheduled {scheduled} step {step} {input:?}"
                        ),
                    );
                }
            }
        }
    }
    for wanted in [
        "trade",
        "auction trade",
        "decrement",
        "cancel SelfMatch",
        "Replaced",
        "Expired",
        "phase VolatilityAuction",
        "cancel ImmediateOrCancel",
    ] {
        assert!(seen.keys().any(|k| k.starts_with(wanted)), "no {wanted}: {seen:?}");
    }
    eprintln!("{seen:?}");
}
