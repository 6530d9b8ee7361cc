//! The order book of one instrument and its continuous matching.
//!
//! # Ordering invariant
//! Orders on one side are ranked by price (higher bids, lower asks first), then by the time they
//! took their place in the queue: entry, a priority-losing replace, or an iceberg refill. An
//! incoming order trades with the best-ranked opposite order while the prices cross, always at
//! the resting order's price. When matching ends, the book is never crossed: the best bid is
//! below the best ask.
//!
//! # Modify semantics
//! See [`Replace`](crate::Replace): the new quantity is the new total; a size-down at the same price keeps
//! priority; a price change, a size-up or a new display loses it; a replace that crosses trades
//! as the aggressor.
//!
//! # Limits
//! At most `orders_max` resting orders (a new order that could rest is rejected
//! [`Reject::BookFull`](crate::Reject::BookFull) when full); one level per tick of the band, at most
//! [`LEVELS_MAX`](crate::LEVELS_MAX). All storage is allocated in [`Book::new`].
//!
//! # Performance
//! | Operation | Cost |
//! |---|---|
//! | add (rests) | `O(1)` |
//! | cancel | `O(1)`, `O(log64 levels)` if it empties the best level |
//! | match | `O(1)` per fill, `O(log64 levels)` per emptied level |
//! | replace | as cancel + add (+ match) |
//! | best bid/ask | `O(1)` |
//! | depth to `n` levels | `O(n log64 levels)` |
//! | FOK check | `O(orders inspected)`, at most the lots wanted plus own-firm orders skipped |
//! | mass cancel, expire, iteration | `O(levels + orders)` |
//!
//! # Known limitations
//! Order-id lookups are `O(1)` for engine-assigned (roughly sequential) ids; see the index
//! module. Mass cancel and expiry walk every order.

use crate::event::OrderState;
use crate::index::IdIndex;
use crate::instrument::{Band, Instrument};
use crate::ladder::Ladder;
use crate::order::{SelfMatchMode, TimeInForce};
use crate::slab::{Lifetime, NIL, RestingOrder, Slab};
use crate::types::{Lots, OrderId, Owner, Side, Ticks, Timestamp, TradeId};

/// Days a good-till-cancel order lives.
pub const GOOD_TILL_CANCEL_DAYS: u64 = 365;

/// How far from the best opposite price a market order may trade, in percent.
pub const MARKET_PROTECTION_PERCENT: i64 = 2;

/// The order book and matching core of one instrument.
///
/// A pure, deterministic function of its inputs: it reads no clock (time is an argument), uses
/// no randomness and never iterates a hash map. Every operation reports to a [`Sink`](crate::Sink).
#[derive(Clone, Debug)]
pub struct Book {
    /// What is traded, the band and the limits.
    instrument: Instrument,
    /// The band orders must lie in; also the price range of the ladders.
    band: Band,
    /// Resting buy orders.
    bids: Ladder,
    /// Resting sell orders.
    asks: Ladder,
    /// Storage for every resting order.
    orders: Slab,
    /// Order id → slab slot, for every resting order.
    index: IdIndex,
    /// The id of the last trade; the next is one more.
    trade_id_last: u64,
    /// The price of the last trade, if any.
    last_trade_price: Option<Ticks>,
    /// No GTC or GTD order expires before this time (it may be earlier than the true minimum
    /// after removals: that only costs an expiry sweep that finds nothing).
    expiry_next: Timestamp,
    /// Whether incoming orders match (continuous trading) or are collected (a call).
    mode: Mode,
    /// The price the band is centred on: the previous close, or the configured reference.
    reference: Ticks,
    /// A trade further than this from the last trade price (in basis points) interrupts
    /// continuous trading; `None` disables volatility interruptions.
    volatility_limit_bp: Option<u32>,
}

/// Whether a book matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Continuous trading: incoming orders match at once; the book is never crossed.
    Continuous,
    /// A call: orders are collected without matching (the book may be crossed) until
    /// [`Book::uncross`] executes them at one price.
    Call,
}

/// A resting order as seen from outside: for lookups, snapshots and restores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderView {
    /// The order.
    pub order_id: OrderId,
    /// Firm and trader.
    pub owner: Owner,
    /// Buy or sell.
    pub side: Side,
    /// Limit price.
    pub price: Ticks,
    /// Total quantity.
    pub quantity: Lots,
    /// Lots still working.
    pub leaves: Lots,
    /// Lots of the current shown slice.
    pub visible: Lots,
    /// Iceberg display quantity.
    pub display: Option<Lots>,
    /// Day, GTC or GTD (with its date).
    pub time_in_force: TimeInForce,
    /// When a GTC or GTD order expires; `None` for Day orders.
    pub expiry: Option<Timestamp>,
    /// Post-only.
    pub post_only: bool,
    /// Self-trade prevention mode.
    pub self_match: SelfMatchMode,
    /// A market order resting in a call (its `price` is nominal: the band's far end).
    pub market: bool,
}

impl OrderView {
    /// Lots traded so far.
    #[must_use]
    pub fn filled(&self) -> Lots {
        Lots(self.quantity.0 - self.leaves.0)
    }
}

/// One price level as seen from outside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LevelView {
    /// The price.
    pub price: Ticks,
    /// Visible lots.
    pub lots: u64,
    /// Number of orders.
    pub orders: u32,
}

/// The incoming side of a match: a new order, or a replaced one trading as the aggressor.
#[derive(Clone, Copy, Debug)]
struct Taker {
    order_id: OrderId,
    owner: Owner,
    side: Side,
    limit: Ticks,
    quantity: u32,
    leaves: u32,
    self_match: SelfMatchMode,
}

impl Taker {
    fn state(&self) -> OrderState {
        OrderState {
            order_id: self.order_id,
            owner: self.owner,
            side: self.side,
            price: self.limit,
            quantity: Lots(self.quantity),
            filled: Lots(self.quantity - self.leaves),
            leaves: Lots(self.leaves),
        }
    }
}

impl Book {
    /// Returns an empty book for `instrument`, with storage for `orders_max` orders and one
    /// level per tick of the band allocated up front.
    #[must_use]
    pub fn new(instrument: Instrument) -> Book {
        let band = instrument.band();
        let orders_max = instrument.spec().orders_max;
        let index = IdIndex::new(orders_max);
        let instrument_reference = instrument.reference();
        Book {
            bids: Ladder::new(Side::Buy, band),
            asks: Ladder::new(Side::Sell, band),
            orders: Slab::new(orders_max),
            index,
            instrument,
            band,
            trade_id_last: 0,
            last_trade_price: None,
            expiry_next: Timestamp(u64::MAX),
            mode: Mode::Continuous,
            reference: instrument_reference,
            volatility_limit_bp: None,
        }
    }

    /// Returns whether the book matches or collects.
    #[must_use]
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Starts a call: from now on orders are collected, not matched, until
    /// [`Book::uncross`].
    pub fn start_call(&mut self) {
        self.mode = Mode::Call;
    }

    /// Returns the reference price: what the band is centred on, and what an auction price
    /// is drawn towards when nothing else decides.
    #[must_use]
    pub fn reference(&self) -> Ticks {
        self.reference
    }

    /// Sets the volatility interruption threshold in basis points of the last trade price
    /// (300 = 3%), or disables interruptions.
    pub fn set_volatility_limit(&mut self, basis_points: Option<u32>) {
        self.volatility_limit_bp = basis_points;
    }

    /// Returns the instrument this book trades.
    #[must_use]
    pub fn instrument(&self) -> &Instrument {
        &self.instrument
    }

    /// Returns the band prices must lie in.
    #[must_use]
    pub fn band(&self) -> Band {
        self.band
    }

    /// Returns the number of resting orders.
    #[must_use]
    pub fn len(&self) -> usize {
        self.orders.len() as usize
    }

    /// Returns whether no order rests.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.orders.len() == 0
    }

    /// Returns the id of the last trade (0 before the first).
    #[must_use]
    pub fn trade_id_last(&self) -> TradeId {
        TradeId(self.trade_id_last)
    }

    /// Returns the price of the last trade, if any.
    #[must_use]
    pub fn last_trade_price(&self) -> Option<Ticks> {
        self.last_trade_price
    }

    /// Returns a time before which no GTC or GTD order expires: [`Book::expire`] need not run
    /// earlier (except at the end of a day, for Day orders).
    #[must_use]
    pub fn expiry_next(&self) -> Timestamp {
        self.expiry_next
    }

    fn ladder(&self, side: Side) -> &Ladder {
        match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        }
    }

    fn ladder_mut(&mut self, side: Side) -> &mut Ladder {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }

    /// Returns the best level of `side`: `O(1)`.
    #[must_use]
    pub fn best(&self, side: Side) -> Option<LevelView> {
        let ladder = self.ladder(side);
        ladder.best().map(|index| level_view(ladder, index))
    }

    /// Returns the levels of `side`, best first: take `n` for depth to `n` levels.
    #[must_use]
    pub fn levels(&self, side: Side) -> Levels<'_> {
        let ladder = self.ladder(side);
        Levels { ladder, next: ladder.best() }
    }

    /// Returns the resting orders of `side` in priority order (market orders of a call first):
    /// the order a snapshot must restore them in.
    #[must_use]
    pub fn orders(&self, side: Side) -> Orders<'_> {
        let ladder = self.ladder(side);
        Orders {
            book: self,
            ladder,
            level: None,
            levels_started: false,
            slot: ladder.market().head,
        }
    }

    /// Returns a resting order by id.
    #[must_use]
    pub fn order(&self, order_id: OrderId) -> Option<OrderView> {
        self.index
            .get(order_id, |slot| self.orders[slot].order_id)
            .map(|slot| view(&self.orders[slot]))
    }

    /// Returns the price up to which a market order on `side` may trade: the best opposite
    /// price ± [`MARKET_PROTECTION_PERCENT`] (rounded towards the best price), clamped to the
    /// band; the band's far end when the opposite side is empty. The engine reserves deposit
    /// for market orders at this price.
    #[must_use]
    pub fn protection_price(&self, side: Side) -> Ticks {
        let opposite = self.ladder(side.opposite());
        let Some(index) = opposite.best() else {
            return match side {
                Side::Buy => self.band.high,
                Side::Sell => self.band.low,
            };
        };
        let best = opposite.price(index);
        let offset = best.0 * MARKET_PROTECTION_PERCENT / 100;
        self.band.clamp(match side {
            Side::Buy => Ticks(best.0 + offset),
            Side::Sell => Ticks(best.0 - offset),
        })
    }
}

/// Iterator over one side's levels, best first. See [`Book::levels`].
#[derive(Debug)]
pub struct Levels<'a> {
    ladder: &'a Ladder,
    next: Option<u32>,
}

impl Iterator for Levels<'_> {
    type Item = LevelView;

    fn next(&mut self) -> Option<LevelView> {
        let index = self.next?;
        self.next = self.ladder.next_from(index + 1);
        Some(level_view(self.ladder, index))
    }
}

/// Iterator over one side's resting orders in priority order. See [`Book::orders`].
#[derive(Debug)]
pub struct Orders<'a> {
    book: &'a Book,
    ladder: &'a Ladder,
    /// The price level being walked, once the market queue is done.
    level: Option<u32>,
    levels_started: bool,
    slot: u32,
}

impl Iterator for Orders<'_> {
    type Item = OrderView;

    fn next(&mut self) -> Option<OrderView> {
        while self.slot == NIL {
            let index = if self.levels_started {
                self.ladder.next_from(self.level? + 1)
            } else {
                self.levels_started = true;
                self.ladder.best()
            };
            self.level = index;
            self.slot = index.map_or(NIL, |index| self.ladder.level(index).head);
        }
        let order = &self.book.orders[self.slot];
        self.slot = order.next;
        Some(view(order))
    }
}

fn level_view(ladder: &Ladder, index: u32) -> LevelView {
    let level = ladder.level(index);
    LevelView { price: ladder.price(index), lots: level.lots, orders: level.orders }
}

fn view(order: &RestingOrder) -> OrderView {
    let (time_in_force, expiry) = match order.lifetime {
        Lifetime::Day => (TimeInForce::Day, None),
        Lifetime::GoodTillCancel => (TimeInForce::GoodTillCancel, Some(order.expiry)),
        Lifetime::GoodTillDate => (TimeInForce::GoodTillDate(order.expiry), Some(order.expiry)),
    };
    OrderView {
        order_id: order.order_id,
        owner: order.owner,
        side: order.side,
        price: order.price,
        quantity: Lots(order.quantity),
        leaves: Lots(order.leaves),
        visible: Lots(order.visible),
        display: (order.display > 0).then_some(Lots(order.display)),
        time_in_force,
        expiry,
        post_only: order.post_only,
        self_match: order.self_match,
        market: order.market,
    }
}

/// The state of a resting order as events report it.
fn state(order: &RestingOrder) -> OrderState {
    OrderState {
        order_id: order.order_id,
        owner: order.owner,
        side: order.side,
        price: order.price,
        quantity: Lots(order.quantity),
        filled: Lots(order.filled()),
        leaves: Lots(order.leaves),
    }
}

/// The state of an order being finished: its leaves go to zero.
fn finished(order: &RestingOrder) -> OrderState {
    OrderState { leaves: Lots(0), ..state(order) }
}

mod auction;
mod maintenance;
mod matching;

pub use auction::{Auction, Uncrossed};
