//! What a book reports: the events of each operation, delivered to a caller-supplied [`Sink`],
//! and the [`Reject`] reasons of orders and requests it refuses.
//!
//! Events are small `Copy` values passed by value: reporting never allocates. They appear in
//! the order things happened: for a new order `Accepted` first, then its fills, then a
//! `Cancelled` for an IOC/FOK remainder; `Level` changes follow the last event that touched
//! their level.

use core::fmt;

use rust_decimal::Decimal;

use crate::types::{Lots, OrderId, Owner, Side, Ticks, Timestamp, TradeId};

/// Receives the events of book operations.
pub trait Sink {
    /// Called once per event, in order.
    fn event(&mut self, event: Event);
}

/// Collecting into a `Vec` is convenient for tests and tools; it allocates as the vector grows.
impl Sink for Vec<Event> {
    fn event(&mut self, event: Event) {
        self.push(event);
    }
}

impl<S: Sink + ?Sized> Sink for &mut S {
    fn event(&mut self, event: Event) {
        (**self).event(event);
    }
}

/// One thing that happened in a book.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A new order passed validation; always the first event of an accepted order.
    Accepted(OrderState),
    /// A request was refused; nothing changed.
    Rejected(Rejected),
    /// Two orders traded.
    Fill(Fill),
    /// An order, or what was left of it, was cancelled.
    Cancelled(Cancelled),
    /// An order's price or quantity changed by request.
    Replaced(Replaced),
    /// Self-trade prevention in decrement mode reduced an order without a trade.
    Reduced(Reduced),
    /// An order reached the end of its time in force.
    Expired(Expired),
    /// A price level changed: market data.
    Level(LevelChange),
    /// A trade too far from the last trade price was not executed: the book has switched to
    /// a call (a volatility interruption).
    Interrupted(Interruption),
}

/// A volatility interruption.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interruption {
    /// The price the refused trade would have had.
    pub price: Ticks,
    /// The last trade price (or the reference price) it was measured against.
    pub reference: Ticks,
}

/// An order's state after the event that reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderState {
    /// The order.
    pub order_id: OrderId,
    /// Its firm and trader.
    pub owner: Owner,
    /// Buy or sell.
    pub side: Side,
    /// Its limit price (for a market order: its protection price).
    pub price: Ticks,
    /// Its total quantity: `filled + leaves` while it lives.
    pub quantity: Lots,
    /// Lots traded so far.
    pub filled: Lots,
    /// Lots still working; 0 once the order is finished.
    pub leaves: Lots,
}

/// Which request a reject answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// A new order.
    New,
    /// A cancel.
    Cancel,
    /// A replace.
    Replace,
}

/// A refused request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rejected {
    /// The order the request named.
    pub order_id: OrderId,
    /// What was asked.
    pub request: Request,
    /// Why it was refused.
    pub reject: Reject,
}

/// One side of a trade, after the trade.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Party {
    /// The order.
    pub order_id: OrderId,
    /// Its firm and trader.
    pub owner: Owner,
    /// Lots it has traded in total, this fill included.
    pub filled: Lots,
    /// Lots it still has working after this fill.
    pub leaves: Lots,
}

/// A trade between a resting order (the maker) and an incoming one (the taker).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fill {
    /// Shared by both sides' reports and the public trade.
    pub trade_id: TradeId,
    /// The trade price: always the maker's price.
    pub price: Ticks,
    /// Lots traded.
    pub lots: Lots,
    /// The taker's side; the maker is on the other.
    pub taker_side: Side,
    /// The resting order (added liquidity).
    pub maker: Party,
    /// The incoming order (removed liquidity).
    pub taker: Party,
    /// An auction fill: there is no maker and no taker (`maker` is the seller, `taker` the
    /// buyer, and `taker_side` is buy).
    pub auction: bool,
}

/// Why an order was cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum CancelReason {
    /// Its owner asked.
    Request = 0,
    /// The unfilled part of an IOC, FOK or market order.
    ImmediateOrCancel = 1,
    /// Self-trade prevention.
    SelfMatch = 2,
    /// A mass cancel by the trader's firm.
    MassCancel = 3,
    /// Cancel-on-disconnect of its trader's session.
    Disconnect = 4,
    /// An operator cancelled it (mass cancel of an instrument, firm suspension).
    Operator = 5,
    /// It lies outside the band after the band was re-based.
    OutsideBand = 6,
}

impl CancelReason {
    /// Returns a short text for reports and logs.
    #[must_use]
    pub fn text(self) -> &'static str {
        match self {
            CancelReason::Request => "cancelled on request",
            CancelReason::ImmediateOrCancel => "unfilled remainder of an immediate order",
            CancelReason::SelfMatch => "self-trade prevention",
            CancelReason::MassCancel => "mass cancel",
            CancelReason::Disconnect => "cancel on disconnect",
            CancelReason::Operator => "cancelled by the exchange",
            CancelReason::OutsideBand => "outside the re-based price band",
        }
    }
}

/// An order's cancellation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cancelled {
    /// The order, with `leaves` 0.
    pub order: OrderState,
    /// The lots that were still working and are now cancelled.
    pub cancelled: Lots,
    /// Why.
    pub reason: CancelReason,
}

/// An order's expiry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expired {
    /// The order, with `leaves` 0.
    pub order: OrderState,
    /// The lots that were still working and are now expired.
    pub expired: Lots,
}

/// A successful replace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Replaced {
    /// The order with its new price and total; `leaves` 0 when the new total was at or below
    /// what had already traded (the order is then finished).
    pub order: OrderState,
    /// Whether the order kept its place in the queue.
    pub priority_kept: bool,
}

/// A self-trade-prevention decrement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reduced {
    /// The order after the reduction (its `quantity` is lower by `reduced`).
    pub order: OrderState,
    /// Lots taken off without a trade.
    pub reduced: Lots,
}

/// The state of one price level after a change: what a market-data feed publishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LevelChange {
    /// The side of the level.
    pub side: Side,
    /// Its price.
    pub price: Ticks,
    /// Visible lots at the level (icebergs count their shown slice only); 0 = level gone.
    pub lots: u64,
    /// Orders at the level.
    pub orders: u32,
}

/// Why a request was refused: a business outcome, never an error. Each variant carries the
/// numbers involved. Variants are declared in the order the checks run (the market model's
/// validation order), so the first failing check decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reject {
    /// A cancel or replace named an order that is not resting here (or belongs to another firm).
    UnknownOrder,
    /// A new order's id is already resting in this book.
    DuplicateOrderId,
    /// The order combines features the exchange does not support together.
    Unsupported {
        /// What is not supported.
        what: &'static str,
    },
    /// A price of zero or less.
    PriceNotPositive {
        /// The price sent.
        price: Decimal,
    },
    /// A price that is not a whole multiple of the tick.
    PriceOffTick {
        /// The price sent.
        price: Decimal,
        /// The instrument's tick.
        tick: Decimal,
    },
    /// A price beyond what the book can represent.
    PriceOutOfRange {
        /// The price sent.
        price: Decimal,
    },
    /// A quantity that is not a whole positive number of lots.
    QuantityNotWholeLots {
        /// The quantity sent.
        quantity: Decimal,
    },
    /// A quantity of more lots than one order may have.
    QuantityAboveMax {
        /// The quantity sent.
        lots: Lots,
        /// The instrument's `max_order_lots`.
        max: Lots,
    },
    /// An iceberg display quantity of zero or above the order's quantity.
    DisplayInvalid {
        /// The display quantity sent.
        display: Lots,
        /// The order's quantity.
        quantity: Lots,
    },
    /// A good-till-date order whose expiry is not in the future.
    ExpiryNotInFuture {
        /// The expiry sent.
        expiry: Timestamp,
        /// The time of the request.
        now: Timestamp,
    },
    /// A limit price outside the static band.
    PriceOutsideBand {
        /// The price sent.
        price: Ticks,
        /// The band's lower end.
        low: Ticks,
        /// The band's upper end.
        high: Ticks,
    },
    /// A post-only order that would trade on entry.
    PostOnlyWouldCross {
        /// The order's price.
        price: Ticks,
        /// The best opposite price it would trade with.
        opposite: Ticks,
    },
    /// The book holds `orders_max` orders already.
    BookFull {
        /// The limit.
        orders_max: u32,
    },
}

impl Reject {
    /// Returns the reason code: a stable upper-case name for logs, reports and clients.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Reject::UnknownOrder => "UNKNOWN_ORDER",
            Reject::DuplicateOrderId => "DUPLICATE_ORDER_ID",
            Reject::Unsupported { .. } => "UNSUPPORTED",
            Reject::PriceNotPositive { .. } => "PRICE_NOT_POSITIVE",
            Reject::PriceOffTick { .. } => "PRICE_OFF_TICK",
            Reject::PriceOutOfRange { .. } => "PRICE_OUT_OF_RANGE",
            Reject::QuantityNotWholeLots { .. } => "QUANTITY_NOT_WHOLE_LOTS",
            Reject::QuantityAboveMax { .. } => "QUANTITY_ABOVE_MAX",
            Reject::DisplayInvalid { .. } => "DISPLAY_INVALID",
            Reject::ExpiryNotInFuture { .. } => "EXPIRY_NOT_IN_FUTURE",
            Reject::PriceOutsideBand { .. } => "PRICE_OUTSIDE_BAND",
            Reject::PostOnlyWouldCross { .. } => "POST_ONLY_WOULD_CROSS",
            Reject::BookFull { .. } => "BOOK_FULL",
        }
    }
}

/// Describes the reject in prices of ticks; the engine renders prices in decimals instead.
impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reject::UnknownOrder => f.write_str("unknown order"),
            Reject::DuplicateOrderId => f.write_str("duplicate order id"),
            Reject::Unsupported { what } => write!(f, "unsupported: {what}"),
            Reject::PriceNotPositive { price } => write!(f, "price {price} must be positive"),
            Reject::PriceOffTick { price, tick } => {
                write!(f, "price {price} is not a multiple of the tick {tick}")
            }
            Reject::PriceOutOfRange { price } => write!(f, "price {price} is out of range"),
            Reject::QuantityNotWholeLots { quantity } => {
                write!(f, "quantity {quantity} is not a whole positive number of lots")
            }
            Reject::QuantityAboveMax { lots, max } => {
                write!(f, "quantity {} lots above the maximum {} lots", lots.0, max.0)
            }
            Reject::DisplayInvalid { display, quantity } => write!(
                f,
                "display quantity {} lots must be between 1 and the order quantity {} lots",
                display.0, quantity.0
            ),
            Reject::ExpiryNotInFuture { expiry, now } => {
                write!(f, "expiry {} ns is not after now {} ns", expiry.0, now.0)
            }
            Reject::PriceOutsideBand { price, low, high } => {
                write!(f, "price {} outside band [{}, {}] (ticks)", price.0, low.0, high.0)
            }
            Reject::PostOnlyWouldCross { price, opposite } => {
                write!(f, "post-only order at {} would trade with {} (ticks)", price.0, opposite.0)
            }
            Reject::BookFull { orders_max } => {
                write!(f, "the book holds its maximum of {orders_max} orders")
            }
        }
    }
}
