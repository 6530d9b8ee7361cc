//! An instrument: what is traded, in which units and currency, at which tick, and within which
//! price band; plus the conversions between the decimals of the outside world and the integer
//! ticks and lots of the book.
//!
//! # Conversions never round
//! [`Instrument::price_to_ticks`] accepts a price only if it is an exact multiple of the tick,
//! and [`Instrument::quantity_to_lots`] only a whole number of lots. Anything else is a
//! [`Reject`], because an exchange that silently rounds a price trades at a price nobody asked
//! for.
//!
//! # Band
//! The static band is `reference × (1 ∓ band_percent / 100)`, rounded inwards to whole ticks and
//! then narrowed by the optional absolute floor and cap. The book allocates one price level per
//! tick of the band, so the band's width is limited by [`LEVELS_MAX`].

use core::fmt;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::event::Reject;
use crate::types::{Lots, Ticks};

/// The most price levels (ticks in the band) one side of a book may span. A wider band is a
/// configuration error: it would cost `24 bytes × width` per side of preallocated memory.
pub const LEVELS_MAX: u32 = 1 << 20;

/// The most orders one book may be configured to hold at once.
pub const ORDERS_MAX: u32 = 1 << 24;

/// The configuration of one instrument, as read from the exchange config.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstrumentSpec {
    /// The instrument's symbol, unique on the exchange, e.g. `BUT82-FCA-USD`.
    pub symbol: String,
    /// A human description: commodity and delivery basis.
    pub description: String,
    /// The unit a price is quoted per: `t`, `m3`, `kg`.
    pub unit: String,
    /// The ISO 4217 currency of prices and deposits: `USD`, `CNY`, `BYN`, `EUR`, `RUB`.
    pub currency: String,
    /// Units per lot; the notional of an order is `price × lot_size × lots`.
    pub lot_size: Decimal,
    /// The smallest price increment; every price is a whole multiple of it.
    pub tick: Decimal,
    /// The price the band is centred on until the first trade (the previous close).
    pub reference_price: Decimal,
    /// Half the width of the static band, in percent of the reference price (e.g. 10).
    pub band_percent: Decimal,
    /// An absolute lowest price, narrowing the band from below (BUCE: export dairy floors).
    pub price_floor: Option<Decimal>,
    /// An absolute highest price, narrowing the band from above (BUCE: domestic timber caps).
    pub price_cap: Option<Decimal>,
    /// The largest quantity one order may have, in lots.
    pub max_order_lots: u32,
    /// The most orders the book holds at once; storage for them is allocated up front.
    pub orders_max: u32,
}

/// The inclusive range of prices an order may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Band {
    /// The lowest accepted price.
    pub low: Ticks,
    /// The highest accepted price.
    pub high: Ticks,
}

impl Band {
    /// Returns whether `price` lies inside the band.
    #[must_use]
    pub fn contains(&self, price: Ticks) -> bool {
        self.low <= price && price <= self.high
    }

    /// Returns the number of ticks (price levels) in the band.
    ///
    /// # Panics
    /// Panics if the band is empty, which [`Instrument`] never builds.
    #[must_use]
    pub fn width(&self) -> u64 {
        assert!(self.low <= self.high, "Invariant: a band is never empty");
        (self.high.0 - self.low.0) as u64 + 1
    }

    /// Returns `price` moved inside the band.
    #[must_use]
    pub fn clamp(&self, price: Ticks) -> Ticks {
        price.clamp(self.low, self.high)
    }
}

/// A validated instrument: the spec plus its band and reference price in ticks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instrument {
    spec: InstrumentSpec,
    reference: Ticks,
    band: Band,
}

/// Why an [`InstrumentSpec`] is not a valid instrument. Each variant names the offending values.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InstrumentError {
    /// A decimal that must be positive is zero or negative.
    NotPositive {
        /// The config field.
        field: &'static str,
        /// Its value.
        value: Decimal,
    },
    /// A price in the spec is not a whole number of ticks (or is out of range).
    OffTick {
        /// The config field.
        field: &'static str,
        /// Its value.
        value: Decimal,
        /// The instrument's tick.
        tick: Decimal,
    },
    /// The band percent is outside `(0, 100)`.
    BandPercent {
        /// The configured percent.
        percent: Decimal,
    },
    /// The floor and cap leave no price inside the band.
    EmptyBand {
        /// The band before floor and cap, as prices.
        low: Decimal,
        /// The upper end.
        high: Decimal,
    },
    /// The band spans more ticks than [`LEVELS_MAX`].
    BandTooWide {
        /// The band's width in ticks.
        width: u64,
        /// The limit.
        max: u32,
    },
    /// A count limit is zero or above its maximum.
    Limit {
        /// The config field.
        field: &'static str,
        /// Its value.
        value: u32,
        /// The maximum allowed.
        max: u32,
    },
}

impl fmt::Display for InstrumentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstrumentError::NotPositive { field, value } => {
                write!(f, "{field} = {value} must be positive")
            }
            InstrumentError::OffTick { field, value, tick } => {
                write!(f, "{field} = {value} is not a multiple of the tick {tick}")
            }
            InstrumentError::BandPercent { percent } => {
                write!(f, "band_percent = {percent} must be above 0 and below 100")
            }
            InstrumentError::EmptyBand { low, high } => {
                write!(f, "price_floor and price_cap leave no price in the band [{low}, {high}]")
            }
            InstrumentError::BandTooWide { width, max } => {
                write!(f, "the band spans {width} ticks; at most {max} are allowed (raise tick)")
            }
            InstrumentError::Limit { field, value, max } => {
                write!(f, "{field} = {value} must be between 1 and {max}")
            }
        }
    }
}

impl std::error::Error for InstrumentError {}

impl Instrument {
    /// Validates a spec and computes its band around its reference price.
    ///
    /// # Errors
    /// Returns an [`InstrumentError`] naming the field and value when the tick, lot size or
    /// reference price is not positive, a price is not a multiple of the tick, the band percent
    /// is outside `(0, 100)`, floor and cap leave the band empty, the band is wider than
    /// [`LEVELS_MAX`] ticks, or a count limit is zero or too large.
    pub fn new(spec: InstrumentSpec) -> Result<Instrument, InstrumentError> {
        for (field, value) in [
            ("tick", spec.tick),
            ("lot_size", spec.lot_size),
            ("reference_price", spec.reference_price),
        ] {
            if value <= Decimal::ZERO {
                return Err(InstrumentError::NotPositive { field, value });
            }
        }
        check_limit("max_order_lots", spec.max_order_lots, u32::MAX)?;
        check_limit("orders_max", spec.orders_max, ORDERS_MAX)?;
        let reference = ticks_of(&spec, "reference_price", spec.reference_price)?;
        let mut instrument =
            Instrument { spec, reference, band: Band { low: reference, high: reference } };
        instrument.band = instrument.band_around(reference)?;
        Ok(instrument)
    }

    /// Returns the band centred on `reference`, narrowed by the spec's floor and cap. Used at
    /// construction and when the band is re-based on a new session's reference price.
    ///
    /// # Errors
    /// Returns an [`InstrumentError`] when the percent is out of range, floor or cap are off
    /// tick, the band is empty, or it is wider than [`LEVELS_MAX`].
    pub fn band_around(&self, reference: Ticks) -> Result<Band, InstrumentError> {
        let spec = &self.spec;
        let percent = spec.band_percent;
        if percent <= Decimal::ZERO || percent >= Decimal::ONE_HUNDRED {
            return Err(InstrumentError::BandPercent { percent });
        }
        let reference_decimal = Decimal::from(reference.0);
        let low =
            (reference_decimal * (Decimal::ONE_HUNDRED - percent) / Decimal::ONE_HUNDRED).ceil();
        let high =
            (reference_decimal * (Decimal::ONE_HUNDRED + percent) / Decimal::ONE_HUNDRED).floor();
        let mut band = Band {
            low: Ticks(low.to_i64().unwrap_or(1).max(1)),
            high: Ticks(high.to_i64().unwrap_or(Ticks::MAX.0).min(Ticks::MAX.0)),
        };
        if let Some(floor) = spec.price_floor {
            band.low = band.low.max(ticks_of(spec, "price_floor", floor)?);
        }
        if let Some(cap) = spec.price_cap {
            band.high = band.high.min(ticks_of(spec, "price_cap", cap)?);
        }
        if band.low > band.high {
            return Err(InstrumentError::EmptyBand {
                low: low * spec.tick,
                high: high * spec.tick,
            });
        }
        if band.width() > u64::from(LEVELS_MAX) {
            return Err(InstrumentError::BandTooWide { width: band.width(), max: LEVELS_MAX });
        }
        Ok(band)
    }

    /// Returns the spec this instrument was built from.
    #[must_use]
    pub fn spec(&self) -> &InstrumentSpec {
        &self.spec
    }

    /// Returns the instrument's symbol.
    #[must_use]
    pub fn symbol(&self) -> &str {
        &self.spec.symbol
    }

    /// Returns the current static band.
    #[must_use]
    pub fn band(&self) -> Band {
        self.band
    }

    /// Returns the reference price the band is centred on.
    #[must_use]
    pub fn reference(&self) -> Ticks {
        self.reference
    }

    /// Returns the largest quantity one order may have.
    #[must_use]
    pub fn max_order_lots(&self) -> Lots {
        Lots(self.spec.max_order_lots)
    }

    /// Converts a price to ticks.
    ///
    /// # Errors
    /// Returns [`Reject::PriceNotPositive`] for a price ≤ 0, [`Reject::PriceOffTick`] when the
    /// price is not an exact multiple of the tick, and [`Reject::PriceOutOfRange`] when it is
    /// above [`Ticks::MAX`] ticks. It never rounds.
    pub fn price_to_ticks(&self, price: Decimal) -> Result<Ticks, Reject> {
        if price <= Decimal::ZERO {
            return Err(Reject::PriceNotPositive { price });
        }
        // ticks = price / tick in integers: (pm / 10^ps) / (tm / 10^ts) = pm × 10^ts / (tm × 10^ps),
        // exact or not a multiple of the tick; far faster than decimal division.
        let tick = self.spec.tick;
        if price.scale() == tick.scale() && tick.mantissa() == 1 {
            // The common case: the price is written with the tick's decimals.
            return match i64::try_from(price.mantissa()) {
                Ok(ticks) if ticks <= Ticks::MAX.0 => Ok(Ticks(ticks)),
                _ => Err(Reject::PriceOutOfRange { price }),
            };
        }
        let scale = |exponent: u32| 10i128.checked_pow(exponent);
        let numerator = scale(tick.scale()).and_then(|s| price.mantissa().checked_mul(s));
        let denominator = scale(price.scale()).and_then(|s| tick.mantissa().checked_mul(s));
        let (Some(numerator), Some(denominator)) = (numerator, denominator) else {
            return Err(Reject::PriceOutOfRange { price });
        };
        if numerator % denominator != 0 {
            return Err(Reject::PriceOffTick { price, tick });
        }
        match i64::try_from(numerator / denominator) {
            Ok(ticks) if ticks <= Ticks::MAX.0 => Ok(Ticks(ticks)),
            _ => Err(Reject::PriceOutOfRange { price }),
        }
    }

    /// Converts ticks back to a price, with no trailing zeros (`60.00` becomes `60`).
    #[must_use]
    pub fn ticks_to_price(&self, ticks: Ticks) -> Decimal {
        (Decimal::from(ticks.0) * self.spec.tick).normalize()
    }

    /// Converts a quantity given as a decimal number of lots (FIX `OrderQty`) to lots.
    ///
    /// # Errors
    /// Returns [`Reject::QuantityNotWholeLots`] for a fraction, a value ≤ 0 or one that does
    /// not fit 32 bits. The size limit is the book's check, not this one.
    pub fn quantity_to_lots(&self, quantity: Decimal) -> Result<Lots, Reject> {
        if quantity.scale() == 0 {
            return match u32::try_from(quantity.mantissa()) {
                Ok(lots) if lots > 0 => Ok(Lots(lots)),
                _ => Err(Reject::QuantityNotWholeLots { quantity }),
            };
        }
        match quantity.to_u32() {
            Some(lots) if lots > 0 && quantity.fract().is_zero() => Ok(Lots(lots)),
            _ => Err(Reject::QuantityNotWholeLots { quantity }),
        }
    }

    /// Returns the notional value `price × lot_size × lots` in the instrument's currency.
    #[must_use]
    pub fn notional(&self, price: Ticks, lots: Lots) -> Decimal {
        self.ticks_to_price(price) * self.spec.lot_size * Decimal::from(lots.0)
    }
}

fn check_limit(field: &'static str, value: u32, max: u32) -> Result<(), InstrumentError> {
    if value == 0 || value > max {
        return Err(InstrumentError::Limit { field, value, max });
    }
    Ok(())
}

fn ticks_of(
    spec: &InstrumentSpec,
    field: &'static str,
    value: Decimal,
) -> Result<Ticks, InstrumentError> {
    let ticks = value / spec.tick;
    match ticks.to_i64() {
        Some(whole) if ticks.fract().is_zero() && whole > 0 && whole <= Ticks::MAX.0 => {
            Ok(Ticks(whole))
        }
        _ => Err(InstrumentError::OffTick { field, value, tick: spec.tick }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    fn spec(tick: &str, reference: &str, percent: u32) -> InstrumentSpec {
        InstrumentSpec {
            symbol: "BUT82-FCA-USD".into(),
            description: "Butter 82.5% fat, FCA Belarus".into(),
            unit: "t".into(),
            currency: "USD".into(),
            lot_size: Decimal::from(5),
            tick: tick.parse().expect("test decimal"),
            reference_price: reference.parse().expect("test decimal"),
            band_percent: Decimal::from(percent),
            price_floor: None,
            price_cap: None,
            max_order_lots: 1000,
            orders_max: 1024,
        }
    }

    fn dec(text: &str) -> Decimal {
        text.parse().expect("test decimal")
    }

    #[test]
    fn band_is_reference_plus_minus_percent_in_whole_ticks() {
        let butter = Instrument::new(spec("1", "6800", 10)).expect("valid");
        assert_eq!(butter.band(), Band { low: Ticks(6120), high: Ticks(7480) });
        let milk = Instrument::new(spec("0.01", "0.95", 10)).expect("valid");
        // 0.855 rounds up to 0.86 and 1.045 down to 1.04: the band never widens by rounding.
        assert_eq!(milk.band(), Band { low: Ticks(86), high: Ticks(104) });
    }

    #[test]
    fn floor_and_cap_narrow_the_band() {
        let mut with_floor = spec("1", "6800", 10);
        with_floor.price_floor = Some(dec("6500"));
        with_floor.price_cap = Some(dec("7000"));
        let butter = Instrument::new(with_floor).expect("valid");
        assert_eq!(butter.band(), Band { low: Ticks(6500), high: Ticks(7000) });
    }

    #[test]
    fn empty_or_too_wide_bands_are_config_errors() {
        let mut empty = spec("1", "6800", 10);
        empty.price_floor = Some(dec("8000"));
        assert!(matches!(Instrument::new(empty), Err(InstrumentError::EmptyBand { .. })));
        let wide = spec("0.0001", "450000", 10);
        assert!(matches!(Instrument::new(wide), Err(InstrumentError::BandTooWide { .. })));
        assert!(matches!(
            Instrument::new(spec("1", "6800", 100)),
            Err(InstrumentError::BandPercent { .. })
        ));
        assert!(matches!(
            Instrument::new(spec("0", "6800", 10)),
            Err(InstrumentError::NotPositive { field: "tick", .. })
        ));
        assert!(matches!(
            Instrument::new(spec("10", "6805", 10)),
            Err(InstrumentError::OffTick { field: "reference_price", .. })
        ));
    }

    #[test]
    fn prices_convert_exactly_or_are_rejected() {
        let timber = Instrument::new(spec("0.1", "290.0", 15)).expect("valid");
        assert_eq!(timber.price_to_ticks(dec("290.5")), Ok(Ticks(2905)));
        assert_eq!(timber.price_to_ticks(dec("290.50")), Ok(Ticks(2905)));
        assert_eq!(
            timber.price_to_ticks(dec("290.55")),
            Err(Reject::PriceOffTick { price: dec("290.55"), tick: dec("0.1") })
        );
        assert!(matches!(timber.price_to_ticks(dec("0")), Err(Reject::PriceNotPositive { .. })));
        assert!(matches!(timber.price_to_ticks(dec("-1")), Err(Reject::PriceNotPositive { .. })));
        assert!(matches!(timber.price_to_ticks(dec("1e20")), Err(Reject::PriceOutOfRange { .. })));
        assert_eq!(timber.ticks_to_price(Ticks(2905)).to_string(), "290.5");
        assert_eq!(timber.ticks_to_price(Ticks(2900)).to_string(), "290");
    }

    #[test]
    fn quantities_must_be_whole_positive_lots() {
        let butter = Instrument::new(spec("1", "6800", 10)).expect("valid");
        assert_eq!(butter.quantity_to_lots(dec("3")), Ok(Lots(3)));
        assert_eq!(butter.quantity_to_lots(dec("3.000")), Ok(Lots(3)));
        for bad in ["2.5", "0", "-1", "5000000000"] {
            assert!(butter.quantity_to_lots(dec(bad)).is_err(), "{bad} must be rejected");
        }
        assert_eq!(butter.notional(Ticks(6800), Lots(3)), dec("102000"));
    }
}

#[cfg(test)]
mod property_tests {
    use super::*;
    use proptest::prelude::*;

    fn instrument(tick_scale: u32) -> Instrument {
        let tick = Decimal::new(1, tick_scale);
        Instrument::new(InstrumentSpec {
            symbol: "X".into(),
            description: String::new(),
            unit: "t".into(),
            currency: "USD".into(),
            lot_size: Decimal::ONE,
            tick,
            reference_price: Decimal::from(100),
            band_percent: Decimal::from(10),
            price_floor: None,
            price_cap: None,
            max_order_lots: 1000,
            orders_max: 16,
        })
        .expect("valid")
    }

    proptest! {
        #[test]
        fn prop_ticks_round_trip_through_prices(ticks in 1i64..=Ticks::MAX.0, scale in 0u32..4) {
            let instrument = instrument(scale);
            let price = instrument.ticks_to_price(Ticks(ticks));
            prop_assert_eq!(instrument.price_to_ticks(price), Ok(Ticks(ticks)));
        }

        #[test]
        fn prop_off_tick_prices_are_rejected_never_rounded(
            ticks in 1i64..1_000_000, fraction in 1i64..10, scale in 0u32..4
        ) {
            let instrument = instrument(scale);
            // A tenth of a tick added to a whole number of ticks is never on the tick.
            let price = instrument.ticks_to_price(Ticks(ticks))
                + Decimal::new(fraction, scale + 1);
            let rejected = matches!(
                instrument.price_to_ticks(price),
                Err(Reject::PriceOffTick { .. })
            );
            prop_assert!(rejected, "price {} was accepted", price);
        }
    }
}
