//! What the load generator sends: prices inside each instrument's band, and a seeded stream of
//! request kinds. Pure and deterministic for a seed, so it is tested on its own.

use birzha_client::{Decimal, Side};

use super::args::Mix;
use crate::config::InstrumentEntry;

/// How to price orders on one instrument, in ticks around its reference price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pricing {
    /// The instrument.
    pub(crate) symbol: String,
    /// The price step.
    tick: Decimal,
    /// The reference price in ticks.
    reference_ticks: i64,
    /// How far from the reference the band reaches, in ticks (at least 2).
    half_band_ticks: i64,
}

impl Pricing {
    /// Pricing for an instrument of the config.
    pub(crate) fn of(entry: &InstrumentEntry) -> Pricing {
        let tick = entry.tick.0;
        let reference = entry.reference_price.0;
        let ticks = |price: Decimal| {
            let count = (price / tick).trunc();
            i64::try_from(count.mantissa() / 10i128.pow(count.scale())).unwrap_or(0)
        };
        let half_band = reference * entry.band_percent.0 / Decimal::from(100);
        Pricing {
            symbol: entry.symbol.clone(),
            tick,
            reference_ticks: ticks(reference),
            half_band_ticks: ticks(half_band).max(2),
        }
    }

    fn price(&self, ticks: i64) -> Decimal {
        (Decimal::from(ticks) * self.tick).normalize()
    }

    /// A price that rests: 1 to half the band away from the reference, on the side's own side.
    pub(crate) fn passive(&self, side: Side, random: u64) -> Decimal {
        let reach = (self.half_band_ticks / 2).max(1);
        let offset = 1 + (random % reach as u64) as i64;
        match side {
            Side::Buy => self.price(self.reference_ticks - offset),
            Side::Sell => self.price(self.reference_ticks + offset),
        }
    }

    /// A price that crosses every passive order: half the band across the reference.
    pub(crate) fn aggressive(&self, side: Side) -> Decimal {
        let reach = (self.half_band_ticks / 2).max(1);
        match side {
            Side::Buy => self.price(self.reference_ticks + reach),
            Side::Sell => self.price(self.reference_ticks - reach),
        }
    }
}

/// One kind of request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A passive Day limit order.
    Add,
    /// A cancel of the session's oldest resting order.
    Cancel,
    /// An IOC limit order across the book.
    Aggressive,
}

/// A seeded pseudo-random stream (SplitMix64): good enough to vary orders, the same for a seed.
#[derive(Debug, Clone)]
pub(crate) struct Random(u64);

impl Random {
    pub(crate) fn new(seed: u64) -> Random {
        Random(seed)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// The kind of the next request under `mix`.
    pub(crate) fn kind(&mut self, mix: Mix) -> Kind {
        let roll = (self.next() % 100) as u32;
        if roll < mix.add {
            Kind::Add
        } else if roll < mix.add + mix.cancel {
            Kind::Cancel
        } else {
            Kind::Aggressive
        }
    }

    pub(crate) fn side(&mut self) -> Side {
        if self.next().is_multiple_of(2) { Side::Buy } else { Side::Sell }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn pricing(symbol: &str) -> Pricing {
        let config = Config::embedded().expect("valid");
        let entry = config.instruments.iter().find(|e| e.symbol == symbol).expect("listed");
        Pricing::of(entry)
    }

    #[test]
    fn prices_stay_inside_the_band_on_the_right_side() {
        let butter = pricing("BUT82-FCA-USD");
        let mut random = Random::new(7);
        for _ in 0..1000 {
            let bid = butter.passive(Side::Buy, random.next());
            let ask = butter.passive(Side::Sell, random.next());
            assert!(bid < Decimal::from(6800) && bid >= Decimal::from(6460), "{bid}");
            assert!(ask > Decimal::from(6800) && ask <= Decimal::from(7140), "{ask}");
        }
        assert_eq!(butter.aggressive(Side::Buy), Decimal::from(7140));
        assert_eq!(butter.aggressive(Side::Sell), Decimal::from(6460));
        let milk = pricing("MILK-RAW-BYN");
        assert_eq!(milk.aggressive(Side::Buy), "0.99".parse::<Decimal>().expect("decimal"));
        assert_eq!(milk.passive(Side::Sell, 0), "0.96".parse::<Decimal>().expect("decimal"));
    }

    #[test]
    fn the_mix_is_followed() {
        let mut random = Random::new(1);
        let mix = Mix { add: 60, cancel: 30, aggressive: 10 };
        let kinds: Vec<Kind> = (0..10_000).map(|_| random.kind(mix)).collect();
        let adds = kinds.iter().filter(|kind| **kind == Kind::Add).count();
        let aggressive = kinds.iter().filter(|kind| **kind == Kind::Aggressive).count();
        assert!((5700..6300).contains(&adds), "{adds}");
        assert!((800..1200).contains(&aggressive), "{aggressive}");
        let mut again = Random::new(1);
        assert!(kinds.iter().all(|kind| *kind == again.kind(mix)), "the same for a seed");
    }
}
