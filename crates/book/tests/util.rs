//! Builders shared by the book's integration tests.

use birzha_book::*;
use rust_decimal::Decimal;

/// An instrument priced in whole ticks around `reference` with a ±`percent` band.
pub(crate) fn instrument(reference: i64, percent: u32, orders_max: u32) -> Instrument {
    Instrument::new(InstrumentSpec {
        symbol: "BUT82-FCA-USD".into(),
        description: "Butter 82.5% fat, FCA Belarus".into(),
        unit: "t".into(),
        currency: "USD".into(),
        lot_size: Decimal::from(5),
        tick: Decimal::ONE,
        reference_price: Decimal::from(reference),
        band_percent: Decimal::from(percent),
        price_floor: None,
        price_cap: None,
        max_order_lots: 1000,
        orders_max,
    })
    .expect("test instrument is valid")
}

/// The butter book of the market model: reference 6800, band [6120, 7480].
pub(crate) fn butter() -> Book {
    Book::new(instrument(6800, 10, 1024))
}

/// Trader `trader` of firm `firm`.
pub(crate) fn owner(firm: u32, trader: u32) -> Owner {
    Owner { firm: FirmId(firm), trader: TraderId(trader) }
}

/// A Day limit order.
pub(crate) fn limit(order_id: u64, owner: Owner, side: Side, price: i64, lots: u32) -> NewOrder {
    NewOrder {
        order_id: OrderId(order_id),
        owner,
        side,
        order_type: OrderType::Limit { price: Ticks(price) },
        quantity: Lots(lots),
        time_in_force: TimeInForce::Day,
        display: None,
        post_only: false,
        self_match: SelfMatchMode::CancelResting,
    }
}

/// A market order with the given (immediate) time in force.
pub(crate) fn market(
    order_id: u64,
    owner: Owner,
    side: Side,
    lots: u32,
    tif: TimeInForce,
) -> NewOrder {
    NewOrder {
        order_type: OrderType::Market,
        time_in_force: tif,
        ..limit(order_id, owner, side, 1, lots)
    }
}

/// Submits and returns the events.
pub(crate) fn submit(book: &mut Book, order: NewOrder) -> Vec<Event> {
    let mut events = Vec::new();
    book.submit(&order, Timestamp(1_000), &mut events);
    book.check_invariants();
    events
}

/// The fills among `events`, as (maker id, taker id, price, lots).
pub(crate) fn fills(events: &[Event]) -> Vec<(u64, u64, i64, u32)> {
    events
        .iter()
        .filter_map(|event| match event {
            Event::Fill(fill) => {
                Some((fill.maker.order_id.0, fill.taker.order_id.0, fill.price.0, fill.lots.0))
            }
            _ => None,
        })
        .collect()
}

/// The cancellations among `events`, as (order id, lots cancelled, reason).
pub(crate) fn cancels(events: &[Event]) -> Vec<(u64, u32, CancelReason)> {
    events
        .iter()
        .filter_map(|event| match event {
            Event::Cancelled(cancelled) => {
                Some((cancelled.order.order_id.0, cancelled.cancelled.0, cancelled.reason))
            }
            _ => None,
        })
        .collect()
}

/// The reject among `events`, if any.
pub(crate) fn rejection(events: &[Event]) -> Option<Reject> {
    events.iter().find_map(|event| match event {
        Event::Rejected(rejected) => Some(rejected.reject),
        _ => None,
    })
}

/// The ids resting on `side`, in priority order.
pub(crate) fn queue(book: &Book, side: Side) -> Vec<u64> {
    book.orders(side).map(|order| order.order_id.0).collect()
}

/// The levels of `side` as (price, visible lots, orders), best first.
pub(crate) fn depth(book: &Book, side: Side) -> Vec<(i64, u64, u32)> {
    book.levels(side).map(|level| (level.price.0, level.lots, level.orders)).collect()
}

/// SplitMix64: a tiny, well-mixed, seedable generator; tests own their randomness.
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

    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub(crate) fn range(&mut self, low: i64, high: i64) -> i64 {
        low + self.below((high - low + 1) as u64) as i64
    }
}
