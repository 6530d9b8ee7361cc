//! Arbitrary command streams against the naive reference book: the shared driver of the
//! `book` fuzz target (`fuzz/fuzz_targets/book.rs`, which includes this file and
//! `reference.rs` with `#[path]`) and of the proptest `prop_arbitrary_commands_match_reference`.
//!
//! Goal: whatever the sequence of requests, the real book emits exactly the execution events of
//! the reference, its depth equals the reference's, the market-data level changes it emits
//! rebuild that depth, `Book::check_invariants` holds after every command, and a book rebuilt
//! from its own snapshot (`Book::orders` then `Book::restore`) behaves identically from then on.
//!
//! Method: a [`Case`] is built from unstructured bytes with `arbitrary`. Every field is bounded
//! so that most inputs mean something: prices cluster around the middle of the band with a few
//! at and beyond its edges, quantities are small with a few zero or above the maximum, and
//! cancels and replaces mostly target orders that were accepted earlier.

use std::collections::BTreeMap;

use arbitrary::{Arbitrary, Unstructured};
use birzha_book::*;
use rust_decimal::Decimal;

use crate::reference::Reference;

/// The middle of the band, in ticks.
const MID: i64 = 1000;
/// The most commands one case runs; longer inputs are cut.
pub(crate) const COMMANDS_MAX: usize = 512;

/// One generated case: the book's shape and the commands applied to it.
#[derive(Debug, Clone)]
pub(crate) struct Case {
    /// How many orders the book holds.
    capacity: Capacity,
    /// The band's half-width in percent of `MID`, `1 + band % 8`.
    band: u8,
    /// The requests, in order.
    commands: Vec<Command>,
}

impl<'a> Arbitrary<'a> for Case {
    /// Takes commands until the bytes run out (the derived `Vec` would stop at random after a
    /// couple of elements).
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Case> {
        let capacity = u.arbitrary()?;
        let band = u.arbitrary()?;
        let mut commands = Vec::new();
        while !u.is_empty() && commands.len() < COMMANDS_MAX {
            commands.push(u.arbitrary()?);
        }
        Ok(Case { capacity, band, commands })
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Capacity {
    /// Four orders: the book is often full.
    Tiny,
    /// Twenty-four orders.
    Small,
    /// Far more than any case can enter.
    Large,
}

#[derive(Arbitrary, Debug, Clone)]
enum Command {
    Submit(Submit),
    Cancel {
        target: Target,
        other_firm: bool,
    },
    Replace {
        target: Target,
        other_firm: bool,
        price: Price,
        quantity: Quantity,
        display: Option<u8>,
    },
    MassCancel {
        firm: Option<u8>,
        trader: Option<u8>,
        sell_side: Option<bool>,
        day_only: bool,
    },
    Expire {
        advance: Advance,
        end_of_day: bool,
    },
    /// Rebuild the book from its snapshot iteration and carry on with the rebuilt one.
    Restore,
}

#[derive(Arbitrary, Debug, Clone)]
struct Submit {
    /// Reuse an earlier order id (a duplicate if that order still rests).
    reuse_id: Option<Target>,
    firm: u8,
    second_trader: bool,
    sell: bool,
    market: bool,
    price: Price,
    quantity: Quantity,
    time_in_force: Tif,
    display: Option<u8>,
    post_only: bool,
    self_match: u8,
}

/// An order to act on: mostly one accepted earlier, sometimes an id never used.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Target {
    Known(u8),
    Unknown(u8),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Price {
    /// `MID ± offset % 13`: where the orders meet.
    Near(i8),
    /// Anywhere from five ticks below the band to five above.
    Anywhere(u16),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Quantity {
    /// `1 + lots % 25`.
    Lots(u8),
    Zero,
    /// The instrument's maximum (1000).
    Max,
    /// One above the maximum.
    AboveMax,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Tif {
    Day,
    GoodTillCancel,
    /// Expires `ahead` microseconds from now (zero or negative: already expired).
    GoodTillDate(i16),
    ImmediateOrCancel,
    FillOrKill,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Advance {
    /// Microseconds.
    Micros(u16),
    /// Whole days (GTC orders expire after 365).
    Days(u16),
}

/// The real book, the reference, and what the driver knows of them.
struct Harness {
    instrument: Instrument,
    book: Book,
    reference: Reference,
    /// Depth rebuilt from the real book's level-change events only.
    shadow: BTreeMap<(u8, i64), (u64, u32)>,
    now: Timestamp,
    order_id_next: u64,
    /// Ids accepted at some point, with their firm.
    known: Vec<(u64, u32)>,
}

/// Runs one case; panics on the first difference, naming the command.
pub(crate) fn run(case: &Case) {
    let orders_max = match case.capacity {
        Capacity::Tiny => 4,
        Capacity::Small => 24,
        Capacity::Large => 1024,
    };
    let instrument = instrument(u32::from(case.band % 8) + 1, orders_max);
    let book = Book::new(instrument.clone());
    let reference = Reference::new(&book);
    let mut harness = Harness {
        instrument,
        book,
        reference,
        shadow: BTreeMap::new(),
        now: Timestamp(1_000_000_000),
        order_id_next: 1,
        known: Vec::new(),
    };
    for (step, command) in case.commands.iter().take(COMMANDS_MAX).enumerate() {
        harness.step(step, command);
    }
}

fn instrument(band_percent: u32, orders_max: u32) -> Instrument {
    Instrument::new(InstrumentSpec {
        symbol: "BUT82-FCA-USD".into(),
        description: "Butter".into(),
        unit: "t".into(),
        currency: "USD".into(),
        lot_size: Decimal::from(5),
        tick: Decimal::ONE,
        reference_price: Decimal::from(MID),
        band_percent: Decimal::from(band_percent),
        price_floor: None,
        price_cap: None,
        max_order_lots: 1000,
        orders_max,
    })
    .expect("the fuzzed instrument is valid")
}

impl Harness {
    fn step(&mut self, step: usize, command: &Command) {
        let (mut actual, mut expected) = (Vec::new(), Vec::new());
        match command {
            Command::Submit(submit) => {
                let order = self.new_order(submit);
                self.book.submit(&order, self.now, &mut actual);
                self.reference.submit(&order, self.now, &mut expected);
                if !matches!(expected.first(), Some(Event::Rejected(_))) {
                    self.known.push((order.order_id.0, order.owner.firm.0));
                }
            }
            Command::Cancel { target, other_firm } => {
                let (order_id, requester) = self.target(*target, *other_firm);
                let request = Cancel { order_id, requester };
                self.book.cancel(&request, &mut actual);
                self.reference.cancel(&request, &mut expected);
            }
            Command::Replace { target, other_firm, price, quantity, display } => {
                let (order_id, requester) = self.target(*target, *other_firm);
                let request = Replace {
                    order_id,
                    requester,
                    price: self.price(*price),
                    quantity: quantity_lots(*quantity),
                    display: display.map(|lots| Lots(u32::from(lots % 12))),
                };
                self.book.replace(&request, &mut actual);
                self.reference.replace(&request, &mut expected);
            }
            Command::MassCancel { firm, trader, sell_side, day_only } => {
                let filter = MassCancel {
                    firm: firm.map(|firm| FirmId(u32::from(firm % 3) + 1)),
                    trader: trader.map(|trader| trader_of(u32::from(trader % 3) + 1, trader > 127)),
                    side: sell_side.map(|sell| if sell { Side::Sell } else { Side::Buy }),
                    day_only: *day_only,
                };
                self.book.mass_cancel(&filter, CancelReason::MassCancel, &mut actual);
                self.reference.mass_cancel(&filter, CancelReason::MassCancel, &mut expected);
            }
            Command::Expire { advance, end_of_day } => {
                let advance = match advance {
                    Advance::Micros(micros) => u64::from(*micros) * 1_000,
                    Advance::Days(days) => u64::from(*days) * Timestamp::DAY_NS,
                };
                self.now = Timestamp(self.now.0.saturating_add(advance));
                self.book.expire(self.now, *end_of_day, &mut actual);
                self.reference.expire(self.now, *end_of_day, &mut expected);
            }
            Command::Restore => self.restore(),
        }
        self.now = Timestamp(self.now.0.saturating_add(1_000));
        self.compare(step, command, &actual, &expected);
    }

    fn new_order(&mut self, submit: &Submit) -> NewOrder {
        let order_id = match submit.reuse_id {
            Some(target) => self.target(target, false).0,
            None => {
                self.order_id_next += 1;
                OrderId(self.order_id_next)
            }
        };
        let firm = u32::from(submit.firm % 3) + 1;
        let time_in_force = match submit.time_in_force {
            Tif::Day => TimeInForce::Day,
            Tif::GoodTillCancel => TimeInForce::GoodTillCancel,
            Tif::GoodTillDate(ahead) => {
                let ahead_ns = i64::from(ahead) * 1_000;
                TimeInForce::GoodTillDate(Timestamp(self.now.0.saturating_add_signed(ahead_ns)))
            }
            Tif::ImmediateOrCancel => TimeInForce::ImmediateOrCancel,
            Tif::FillOrKill => TimeInForce::FillOrKill,
        };
        let self_match = match submit.self_match % 4 {
            0 => SelfMatchMode::CancelResting,
            1 => SelfMatchMode::CancelIncoming,
            2 => SelfMatchMode::CancelBoth,
            _ => SelfMatchMode::Decrement,
        };
        NewOrder {
            order_id,
            owner: Owner { firm: FirmId(firm), trader: trader_of(firm, submit.second_trader) },
            side: if submit.sell { Side::Sell } else { Side::Buy },
            order_type: if submit.market {
                OrderType::Market
            } else {
                OrderType::Limit { price: self.price(submit.price) }
            },
            quantity: quantity_lots(submit.quantity),
            time_in_force,
            display: submit.display.map(|lots| Lots(u32::from(lots % 12))),
            post_only: submit.post_only,
            self_match,
        }
    }

    /// The order id and requesting firm of a cancel or replace.
    fn target(&self, target: Target, other_firm: bool) -> (OrderId, FirmId) {
        match target {
            Target::Known(pick) if !self.known.is_empty() => {
                let (order_id, firm) = self.known[usize::from(pick) % self.known.len()];
                let requester = if other_firm { firm % 3 + 1 } else { firm };
                (OrderId(order_id), FirmId(requester))
            }
            Target::Known(pick) | Target::Unknown(pick) => {
                (OrderId(u64::MAX - u64::from(pick)), FirmId(1))
            }
        }
    }

    fn price(&self, price: Price) -> Ticks {
        let band = self.book.band();
        match price {
            Price::Near(offset) => Ticks(MID + i64::from(offset) % 13),
            Price::Anywhere(raw) => {
                let width = band.high.0 - band.low.0 + 11;
                Ticks(band.low.0 - 5 + i64::from(raw) % width)
            }
        }
    }

    /// Rebuilds the book from what it exposes (its orders in priority order and its trade
    /// counters) and checks that the rebuilt one looks the same.
    fn restore(&mut self) {
        let mut restored = Book::new(self.instrument.clone());
        restored.restore_trades(self.book.trade_id_last(), self.book.last_trade_price());
        for side in [Side::Buy, Side::Sell] {
            for order in self.book.orders(side) {
                restored.restore(&order).expect("a book's own orders restore");
            }
        }
        restored.check_invariants();
        for side in [Side::Buy, Side::Sell] {
            let before: Vec<OrderView> = self.book.orders(side).collect();
            let after: Vec<OrderView> = restored.orders(side).collect();
            assert_eq!(after, before, "{side} orders differ after restore");
        }
        // `expiry_next` is a lower bound, lowered as orders enter and recomputed only by
        // `expire`: the rebuilt book's is exact, so it may be later, never earlier.
        assert_eq!(restored.expiry_next(), expiry_earliest(&restored), "exact after restore");
        assert!(restored.expiry_next() >= self.book.expiry_next(), "expiry after restore");
        self.book = restored;
    }

    fn compare(&mut self, step: usize, command: &Command, actual: &[Event], expected: &[Event]) {
        let context = || format!("step {step}: {command:?}");
        let executions: Vec<Event> =
            actual.iter().filter(|event| !matches!(event, Event::Level(_))).copied().collect();
        assert_eq!(executions, expected, "execution events differ at {}", context());
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
        self.book.check_invariants();
        assert!(
            self.book.expiry_next() <= expiry_earliest(&self.book),
            "expiry_next is a lower bound at {}",
            context()
        );
    }
}

/// The earliest expiry of a resting GTC or GTD order, or the end of time.
fn expiry_earliest(book: &Book) -> Timestamp {
    [Side::Buy, Side::Sell]
        .into_iter()
        .flat_map(|side| book.orders(side))
        .filter_map(|order| order.expiry)
        .min()
        .unwrap_or(Timestamp(u64::MAX))
}

fn trader_of(firm: u32, second: bool) -> TraderId {
    TraderId(firm * 10 + 1 + u32::from(second))
}

fn quantity_lots(quantity: Quantity) -> Lots {
    match quantity {
        Quantity::Lots(lots) => Lots(u32::from(lots % 25) + 1),
        Quantity::Zero => Lots(0),
        Quantity::Max => Lots(1000),
        Quantity::AboveMax => Lots(1001),
    }
}

/// The stable-toolchain equivalent of the fuzz target: random bytes instead of libFuzzer's
/// guided ones, a few hundred cases per run.
#[cfg(test)]
mod property_tests {
    use arbitrary::{Arbitrary, Unstructured};
    use proptest::prelude::*;

    use super::{Case, run};

    /// `default` cases, or `PROPTEST_CASES` for a longer run.
    fn cases(default: u32) -> u32 {
        std::env::var("PROPTEST_CASES").ok().and_then(|cases| cases.parse().ok()).unwrap_or(default)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(cases(256)))]

        #[test]
        fn prop_arbitrary_commands_match_reference(
            bytes in proptest::collection::vec(any::<u8>(), 0..4096),
        ) {
            let case = Case::arbitrary(&mut Unstructured::new(&bytes)).expect("any bytes");
            run(&case);
        }
    }
}
