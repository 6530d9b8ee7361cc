//! The small value types every other module speaks in: prices in ticks, quantities in lots,
//! identifiers and time.
//!
//! All are `Copy` newtypes over fixed-width integers; the book never uses floating point.

use core::fmt;

/// A price as a whole number of ticks of its instrument (`price = ticks × tick`).
///
/// Prices inside the book are always ticks; decimals exist only at the edges (config and
/// protocol), converted by [`Instrument::price_to_ticks`](crate::Instrument::price_to_ticks),
/// which never rounds. Range: `1 ..= Ticks::MAX`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ticks(pub i64);

impl Ticks {
    /// The largest price the book accepts, leaving headroom so that `price × lots` of one order
    /// fits an `i128` with room to spare and band arithmetic never overflows `i64`.
    pub const MAX: Ticks = Ticks(1 << 52);
}

/// A quantity as a whole number of lots. An order's quantity is `1 ..= max_order_lots`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lots(pub u32);

/// An order's identifier, assigned by the engine and unique within a book for as long as the
/// order rests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OrderId(pub u64);

/// A trade's identifier: both sides of one match share it. Assigned by the book from a counter
/// that starts at 1 and is part of the book's snapshot state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TradeId(pub u64);

/// An accredited firm (exchange participant). Self-trade prevention acts within a firm.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FirmId(pub u32);

/// A trader of a firm: the person or program behind a FIX session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TraderId(pub u32);

/// Who owns an order: the firm and the trader that entered it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Owner {
    /// The firm whose deposit secures the order and within which self-trade prevention acts.
    pub firm: FirmId,
    /// The trader that entered the order; cancel-on-disconnect acts per trader.
    pub trader: TraderId,
}

/// A point in time: nanoseconds since the Unix epoch, UTC.
///
/// The book never reads a clock: time is an input, stamped by the engine's sequencer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// One day in nanoseconds.
    pub const DAY_NS: u64 = 86_400 * 1_000_000_000;

    /// Returns this time plus `days` whole days, saturating at the end of time.
    #[must_use]
    pub fn plus_days(self, days: u64) -> Timestamp {
        Timestamp(self.0.saturating_add(days.saturating_mul(Self::DAY_NS)))
    }
}

/// The side of an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Side {
    /// A bid: wants to buy at the price or lower.
    Buy = 0,
    /// An offer: wants to sell at the price or higher.
    Sell = 1,
}

impl Side {
    /// Returns the other side.
    #[must_use]
    pub fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }

    /// Returns whether an order on this side with limit `limit` may trade at `price`.
    #[must_use]
    pub fn accepts(self, limit: Ticks, price: Ticks) -> bool {
        match self {
            Side::Buy => price <= limit,
            Side::Sell => price >= limit,
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Buy => "buy",
            Side::Sell => "sell",
        })
    }
}

impl fmt::Display for Ticks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ticks", self.0)
    }
}

impl fmt::Display for Lots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} lots", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn side_accepts_prices_on_its_side_of_the_limit() {
        assert!(Side::Buy.accepts(Ticks(100), Ticks(99)));
        assert!(Side::Buy.accepts(Ticks(100), Ticks(100)));
        assert!(!Side::Buy.accepts(Ticks(100), Ticks(101)));
        assert!(Side::Sell.accepts(Ticks(100), Ticks(101)));
        assert!(!Side::Sell.accepts(Ticks(100), Ticks(99)));
        assert_eq!(Side::Buy.opposite(), Side::Sell);
    }

    #[test]
    fn plus_days_saturates() {
        assert_eq!(Timestamp(0).plus_days(1), Timestamp(Timestamp::DAY_NS));
        assert_eq!(Timestamp(u64::MAX - 1).plus_days(365), Timestamp(u64::MAX));
    }
}
