//! The requests a book accepts: new orders, cancels, replaces and mass cancels.

use crate::types::{FirmId, Lots, OrderId, Owner, Side, Ticks, Timestamp, TraderId};

/// How an order is priced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderType {
    /// Trades at `price` or better; the remainder may rest.
    Limit {
        /// The limit price.
        price: Ticks,
    },
    /// Trades at any price up to its protection price (best opposite ± 2%, clamped to the band)
    /// and never rests: time in force must be IOC or FOK in continuous trading.
    Market,
}

/// How long an order may live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeInForce {
    /// Rests until the end of the trading day.
    Day,
    /// Rests until cancelled, or 365 days after entry.
    GoodTillCancel,
    /// Rests until the given time.
    GoodTillDate(Timestamp),
    /// Trades what it can at once; the rest is cancelled.
    ImmediateOrCancel,
    /// Trades in full at once or not at all; decided before any fill.
    FillOrKill,
}

impl TimeInForce {
    /// Returns whether an order with this time in force may rest in the book.
    #[must_use]
    pub fn rests(self) -> bool {
        !matches!(self, TimeInForce::ImmediateOrCancel | TimeInForce::FillOrKill)
    }
}

/// What happens when an incoming order would trade with a resting order of the same firm.
/// The incoming order's mode decides.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(u8)]
pub enum SelfMatchMode {
    /// Cancel the resting order and continue matching (the default).
    #[default]
    CancelResting = 0,
    /// Cancel the rest of the incoming order.
    CancelIncoming = 1,
    /// Cancel the resting order and the rest of the incoming order.
    CancelBoth = 2,
    /// Reduce both by the smaller of their leaves quantities, without a trade.
    Decrement = 3,
}

/// A request to enter a new order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewOrder {
    /// The engine-assigned identifier; must not be resting in this book already.
    pub order_id: OrderId,
    /// The firm and trader entering the order.
    pub owner: Owner,
    /// Buy or sell.
    pub side: Side,
    /// Limit or market.
    pub order_type: OrderType,
    /// The total quantity, `1 ..= max_order_lots`.
    pub quantity: Lots,
    /// How long the order may live.
    pub time_in_force: TimeInForce,
    /// For an iceberg: the lots shown at a time (`1 ..= quantity`); `None` shows everything.
    pub display: Option<Lots>,
    /// Rejected rather than trading on entry.
    pub post_only: bool,
    /// What to do when it would trade with its own firm.
    pub self_match: SelfMatchMode,
}

/// A request to cancel one order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cancel {
    /// The order to cancel.
    pub order_id: OrderId,
    /// The firm asking: another firm's order is reported as unknown.
    pub requester: FirmId,
}

/// A request to change an order's price and total quantity (cancel/replace).
///
/// # Modify semantics
/// `quantity` is the new *total*; the new leaves are `quantity − filled`, and if that is ≤ 0
/// the order is finished. A lower quantity at the same price (and the same display) keeps time
/// priority; a price change, a higher quantity or a new display loses it. A replace whose new
/// price crosses the opposite side trades as the aggressor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Replace {
    /// The order to change.
    pub order_id: OrderId,
    /// The firm asking: another firm's order is reported as unknown.
    pub requester: FirmId,
    /// The new limit price.
    pub price: Ticks,
    /// The new total quantity.
    pub quantity: Lots,
    /// The new display quantity for an iceberg; `None` keeps the current one.
    pub display: Option<Lots>,
}

/// Which orders a mass cancel (or a cancel-on-disconnect) removes. Every `Some` narrows it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MassCancel {
    /// Only this firm's orders.
    pub firm: Option<FirmId>,
    /// Only this trader's orders.
    pub trader: Option<TraderId>,
    /// Only orders on this side.
    pub side: Option<Side>,
    /// Only Day orders (cancel-on-disconnect's default leaves GTC and GTD orders resting).
    pub day_only: bool,
}

impl MassCancel {
    /// Returns whether a resting order with these attributes is selected.
    #[must_use]
    pub fn selects(&self, owner: Owner, side: Side, time_in_force: TimeInForce) -> bool {
        self.firm.is_none_or(|firm| firm == owner.firm)
            && self.trader.is_none_or(|trader| trader == owner.trader)
            && self.side.is_none_or(|wanted| wanted == side)
            && (!self.day_only || time_in_force == TimeInForce::Day)
    }
}
