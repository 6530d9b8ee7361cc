//! A seeded generator of engine inputs: every kind of request from four traders of three
//! firms on three instruments, with ClOrdIDs that sometimes repeat, cancels and replaces of
//! earlier orders, mass cancels, disconnects, operator commands and ticks, with time moving on
//! (across day boundaries too).

use birzha_book::{FirmId, SelfMatchMode, Side, Timestamp, TraderId};
use birzha_engine::*;
use rust_decimal::Decimal;

use crate::fixture::{BUTTER, CHEESE, MILK, at, dec, id};

/// SplitMix64.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

pub(crate) struct Stream {
    rng: Rng,
    counter: u64,
    time: u64,
    /// Recent orders (trader, instrument, ClOrdID, side), for cancels and replaces to name.
    recent: Vec<(TraderId, InstrumentId, ClOrdId, Side)>,
}

const INSTRUMENTS: [(InstrumentId, i64, &str); 3] =
    [(BUTTER, 6800, "1"), (MILK, 95, "0.01"), (CHEESE, 45000, "10")];

impl Stream {
    pub(crate) fn new(seed: u64) -> Stream {
        Stream { rng: Rng(seed), counter: 0, time: 0, recent: Vec::new() }
    }

    /// The next input and the time to apply it at.
    pub(crate) fn next(&mut self) -> (Timestamp, Input) {
        self.time += 1 + self.rng.below(6);
        if self.rng.below(10_000) == 0 {
            self.time += 20 * 3_600;
        }
        let input = match self.rng.below(100) {
            0..=69 => self.new_order(),
            70..=81 => self.cancel(),
            82..=94 => self.replace(),
            95 if self.rng.below(4) == 0 => Input::MassCancel(MassCancelInput {
                trader: self.trader(),
                cl_ord_id: self.cl_ord_id(),
                instrument: (self.rng.below(2) == 0).then(|| self.instrument().0),
                side: None,
            }),
            96 if self.rng.below(4) == 0 => Input::Disconnect { trader: self.trader() },
            97 if self.rng.below(4) == 0 => self.admin(),
            _ => Input::Tick,
        };
        (at(self.time), input)
    }

    fn trader(&mut self) -> TraderId {
        TraderId(self.rng.below(4) as u32)
    }

    fn instrument(&mut self) -> (InstrumentId, i64, &'static str) {
        INSTRUMENTS[self.rng.below(3) as usize]
    }

    /// A fresh ClOrdID, or now and then a recent one again.
    fn cl_ord_id(&mut self) -> ClOrdId {
        if self.rng.below(50) != 0 {
            self.counter += 1;
        }
        id(&format!("C{}", self.counter))
    }

    /// A recent order to cancel or replace (or, sometimes, something that names nothing):
    /// its trader, instrument, ClOrdID and side (now and then the wrong one).
    fn earlier(&mut self) -> (TraderId, InstrumentId, ClOrdId, Side) {
        if self.recent.is_empty() || self.rng.below(10) == 0 {
            let (instrument, ..) = self.instrument();
            return (self.trader(), instrument, id("NOTHING"), Side::Buy);
        }
        let (trader, instrument, cl_ord_id, side) =
            self.recent[self.rng.below(self.recent.len() as u64) as usize];
        let side = if self.rng.below(20) == 0 { side.opposite() } else { side };
        (trader, instrument, cl_ord_id, side)
    }

    /// Mostly passive prices on the side's own half of the book, a fifth aggressive.
    fn price(&mut self, side: Side, reference: i64, tick: &str) -> Decimal {
        let offset = self.rng.below(20) as i64 - if self.rng.below(5) == 0 { 10 } else { -1 };
        let ticks = if side == Side::Buy { reference - offset } else { reference + offset };
        let ticks = if self.rng.below(50) == 0 { reference * 2 } else { ticks };
        Decimal::from(ticks) * dec(tick)
    }

    fn new_order(&mut self) -> Input {
        let (instrument, reference, tick) = self.instrument();
        let market = self.rng.below(12) == 0;
        let tif = match self.rng.below(10) {
            0..=4 => Tif::Day,
            5 => Tif::GoodTillCancel,
            6 => Tif::GoodTillDate(20261130),
            7 | 8 => Tif::ImmediateOrCancel,
            _ => Tif::FillOrKill,
        };
        let tif = if market && matches!(tif, Tif::Day | Tif::GoodTillCancel | Tif::GoodTillDate(_))
        {
            Tif::ImmediateOrCancel
        } else {
            tif
        };
        let quantity = Decimal::from(1 + self.rng.below(30));
        let side = if self.rng.below(2) == 0 { Side::Buy } else { Side::Sell };
        let rests = matches!(tif, Tif::Day | Tif::GoodTillCancel | Tif::GoodTillDate(_));
        let (trader, cl_ord_id) = (self.trader(), self.cl_ord_id());
        if rests {
            if self.recent.len() == 200 {
                self.recent.swap_remove(self.rng.below(200) as usize);
            }
            self.recent.push((trader, instrument, cl_ord_id, side));
        }
        Input::NewOrder(NewOrderInput {
            trader,
            cl_ord_id,
            instrument,
            side,
            kind: if market { OrderKind::Market } else { OrderKind::Limit },
            price: (!market).then(|| self.price(side, reference, tick)),
            quantity: if self.rng.below(100) == 0 { dec("2.5") } else { quantity },
            tif,
            display: (rests && !market && self.rng.below(8) == 0)
                .then(|| Decimal::from(1 + self.rng.below(3))),
            post_only: rests && !market && self.rng.below(15) == 0,
            self_match: match self.rng.below(8) {
                0 => Some(SelfMatchMode::CancelIncoming),
                1 => Some(SelfMatchMode::CancelBoth),
                2 => Some(SelfMatchMode::Decrement),
                _ => None,
            },
            account: None,
        })
    }

    fn cancel(&mut self) -> Input {
        let (trader, instrument, earlier, side) = self.earlier();
        let order = OrderRef { order_id: None, cl_ord_id: earlier };
        let cl_ord_id = self.cl_ord_id();
        Input::Cancel(CancelInput { trader, cl_ord_id, order, instrument, side })
    }

    fn replace(&mut self) -> Input {
        let (trader, instrument, earlier, side) = self.earlier();
        let (_, reference, tick) =
            INSTRUMENTS.into_iter().find(|i| i.0 == instrument).unwrap_or(INSTRUMENTS[0]);
        let order = OrderRef { order_id: None, cl_ord_id: earlier };
        let cl_ord_id = self.cl_ord_id();
        if self.rng.below(2) == 0 {
            let slot = self.recent.iter().position(|r| r.2 == earlier);
            if let Some(slot) = slot {
                self.recent[slot].2 = cl_ord_id;
            }
        }
        Input::Replace(ReplaceInput {
            trader,
            cl_ord_id,
            order,
            instrument,
            side,
            price: Some(self.price(side, reference, tick)),
            quantity: Decimal::from(1 + self.rng.below(30)),
            display: None,
        })
    }

    fn admin(&mut self) -> Input {
        let (instrument, ..) = self.instrument();
        let firm = FirmId(self.rng.below(3) as u32);
        Input::Admin(match self.rng.below(6) {
            0 => Admin::Halt(instrument),
            1 => Admin::Resume(instrument),
            2 => Admin::SuspendFirm(firm),
            3 => Admin::ReinstateFirm(firm),
            4 => Admin::MassCancel(Some(instrument)),
            _ => Admin::Deposit {
                firm,
                currency: InlineText::new(["USD", "BYN", "RUB"][self.rng.below(3) as usize])
                    .expect("currency code"),
                amount_micros: i128::from(self.rng.below(1_000_000)) * 1_000_000,
            },
        })
    }
}
