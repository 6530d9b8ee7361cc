//! The order book and matching core of one Birzha instrument.
//!
//! A [`Book`] holds the resting orders of one [`Instrument`] and matches incoming ones by
//! price-time priority. It does no I/O, reads no clock and uses no randomness: every operation
//! is a pure function of the book's state and its arguments (the engine's sequencer supplies the
//! time), and reports what happened as [`Event`]s to a caller-supplied [`Sink`] without
//! allocating. Business outcomes such as a rejected order are events carrying a [`Reject`],
//! never errors.
//!
//! - [`InstrumentSpec`] / [`Instrument`]: what is traded; tick and lot conversions that never
//!   round; the price band.
//! - [`NewOrder`], [`Cancel`], [`Replace`], [`MassCancel`]: the requests.
//! - [`Book`]: submit, cancel, replace, mass cancel, expire, lookups, depth, snapshot
//!   iteration and restore.
//! - [`Event`]: accepted, rejected, fill, cancelled, replaced, reduced, expired, level change.
//!
//! The module docs of [`Book`] state the ordering invariant, the modify semantics, the limits
//! and the cost of each operation.
//!
//! # Example
//! ```
//! use birzha_book::*;
//! use rust_decimal::Decimal;
//!
//! let instrument = Instrument::new(InstrumentSpec {
//!     symbol: "BUT82-FCA-USD".into(),
//!     description: "Butter 82.5% fat, FCA Belarus".into(),
//!     unit: "t".into(),
//!     currency: "USD".into(),
//!     lot_size: Decimal::from(5),
//!     tick: Decimal::ONE,
//!     reference_price: Decimal::from(6800),
//!     band_percent: Decimal::from(10),
//!     price_floor: None,
//!     price_cap: None,
//!     max_order_lots: 1000,
//!     orders_max: 1024,
//! })?;
//! let mut book = Book::new(instrument);
//! let seller = Owner { firm: FirmId(1), trader: TraderId(1) };
//! let buyer = Owner { firm: FirmId(2), trader: TraderId(2) };
//! let order = |order_id, owner, side, price, lots| NewOrder {
//!     order_id: OrderId(order_id),
//!     owner,
//!     side,
//!     order_type: OrderType::Limit { price: Ticks(price) },
//!     quantity: Lots(lots),
//!     time_in_force: TimeInForce::Day,
//!     display: None,
//!     post_only: false,
//!     self_match: SelfMatchMode::CancelResting,
//! };
//! let mut events = Vec::new();
//! book.submit(&order(1, seller, Side::Sell, 6800, 3), Timestamp(0), &mut events);
//! book.submit(&order(2, buyer, Side::Buy, 6810, 2), Timestamp(1), &mut events);
//! let fills: Vec<_> = events.iter().filter_map(|event| match event {
//!     Event::Fill(fill) => Some((fill.price, fill.lots)),
//!     _ => None,
//! }).collect();
//! assert_eq!(fills, [(Ticks(6800), Lots(2))]); // at the resting order's price
//! assert_eq!(book.best(Side::Sell).map(|level| level.lots), Some(1));
//! # Ok::<(), InstrumentError>(())
//! ```
#![deny(missing_docs)]

mod bitset;
mod book;
mod event;
mod index;
mod instrument;
mod ladder;
mod order;
mod slab;
mod types;

pub use book::{
    Auction, Book, GOOD_TILL_CANCEL_DAYS, LevelView, Levels, MARKET_PROTECTION_PERCENT, Mode,
    OrderView, Orders, Uncrossed,
};
pub use event::{
    CancelReason, Cancelled, Event, Expired, Fill, Interruption, LevelChange, OrderState, Party,
    Reduced, Reject, Rejected, Replaced, Request, Sink,
};
pub use index::IdIndex;
pub use instrument::{Band, Instrument, InstrumentError, InstrumentSpec, LEVELS_MAX, ORDERS_MAX};
pub use order::{Cancel, MassCancel, NewOrder, OrderType, Replace, SelfMatchMode, TimeInForce};
pub use types::{FirmId, Lots, OrderId, Owner, Side, Ticks, Timestamp, TradeId, TraderId};
