//! The engine's configuration: instruments, firms, traders, shards and durability.
//!
//! The binary reads the exchange's TOML config and builds an [`EngineConfig`]; the engine
//! validates it in [`EngineConfig::validate`] and refers to instruments, firms and traders by
//! their index in these lists ([`InstrumentId`], [`FirmId`], [`TraderId`]).
//!
//! # Sharding rule
//! Deposits are kept per firm and currency, and an order's reservation touches only its
//! instrument's currency. So every instrument of one currency lives on the same shard, and no
//! input ever needs two shards: currencies, sorted by code, are dealt round-robin to
//! `shards` matching threads.

use std::collections::BTreeMap;

use birzha_book::{FirmId, Instrument, InstrumentError, InstrumentSpec, SelfMatchMode, TraderId};
use rust_decimal::Decimal;

use crate::journal::Durability;

/// An instrument's index in [`EngineConfig::instruments`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstrumentId(pub u32);

/// The most instruments, firms or traders a config may hold.
pub const ENTITIES_MAX: usize = 1 << 16;

/// The most matching threads.
pub const SHARDS_MAX: usize = 64;

/// The largest deposit a config may give a firm in one currency, in whole units (10¹⁸, the
/// same bound operators' deposit commands have); deposits have at most 6 decimal places.
pub const DEPOSIT_UNITS_MAX: i64 = 1_000_000_000_000_000_000;

/// The longest call a config may set (volatility auction, resume call, random end): a day.
pub const CALL_SECONDS_MAX: u64 = 86_400;

/// The most inputs between two journal commits ([`EngineConfig::batch_inputs_max`]): a batch
/// of them (and a tick) fits the journal's batch buffer, sized from the setting.
pub const BATCH_INPUTS_MAX: usize = 1 << 16;

/// What happens to a trader's orders when its session ends without a logout.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CancelOnDisconnect {
    /// Cancel the trader's Day orders; GTC and GTD orders stay.
    #[default]
    Day,
    /// Cancel every order of the trader.
    All,
    /// Cancel nothing.
    None,
}

/// One tradable instrument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstrumentConfig {
    /// What is traded, tick, lot, band and limits.
    pub spec: InstrumentSpec,
    /// Share of an order's notional reserved from the firm's deposit, e.g. `0.05`.
    pub deposit_ratio: Decimal,
}

/// An accredited firm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FirmConfig {
    /// The firm's code, e.g. `FIRM-A`.
    pub code: String,
    /// Its name, for operators.
    pub name: String,
    /// Initial deposit per currency code.
    pub deposits: BTreeMap<String, Decimal>,
    /// Whether the firm starts suspended (it may then only cancel).
    pub suspended: bool,
}

/// A trader of a firm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraderConfig {
    /// The trader's id, which is also its FIX SenderCompID, e.g. `TRADER1`.
    pub code: String,
    /// The firm's code.
    pub firm: String,
    /// Self-trade prevention mode for orders that do not name one.
    pub self_match: SelfMatchMode,
    /// What to cancel when the trader's session drops.
    pub cancel_on_disconnect: CancelOnDisconnect,
}

/// The default size of a journal segment file: 64 MiB.
pub const JOURNAL_SEGMENT_BYTES_DEFAULT: u64 = 64 * 1024 * 1024;

/// The smallest journal segment size a config may ask for: 128 KiB (two of the largest records).
pub const JOURNAL_SEGMENT_BYTES_MIN: u64 = 128 * 1024;

/// Everything the engine needs to run.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// The instruments, in a fixed order: the order defines [`InstrumentId`]s.
    pub instruments: Vec<InstrumentConfig>,
    /// The firms; the order defines [`FirmId`]s.
    pub firms: Vec<FirmConfig>,
    /// The traders; the order defines [`TraderId`]s.
    pub traders: Vec<TraderConfig>,
    /// Number of matching threads (each with its own journal).
    pub shards: usize,
    /// Whether commits wait for the disk.
    pub durability: Durability,
    /// A snapshot is written after this many inputs (and on clean shutdown).
    pub snapshot_every_inputs: u64,
    /// Capacity of each shard's input queue: a full queue is back-pressure.
    pub input_queue_capacity: usize,
    /// Inputs applied between two journal commits at most (1 to [`BATCH_INPUTS_MAX`]).
    pub batch_inputs_max: usize,
    /// The size at which a journal segment is closed and the next started
    /// ([`JOURNAL_SEGMENT_BYTES_MIN`] to [`SEGMENT_SIZE_LIMIT`](crate::journal::SEGMENT_SIZE_LIMIT)).
    pub journal_segment_bytes: u64,
    /// Trading phases: the day schedule (if any), volatility interruptions, call lengths.
    pub phases: PhaseConfig,
}

/// How instruments move through trading phases (market model §5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhaseConfig {
    /// The day schedule in Minsk time; `None`: always open (every instrument in Continuous).
    pub schedule: Option<Schedule>,
    /// A trade further than this from the last trade price interrupts continuous trading, in
    /// basis points (300 = 3%); `None` disables volatility interruptions.
    pub volatility_limit_bp: Option<u32>,
    /// How long a volatility auction's call lasts before its random end, in seconds.
    pub volatility_auction_seconds: u64,
    /// The most a random end adds to a call (opening and volatility auctions), in seconds.
    pub random_end_seconds_max: u64,
    /// How long the call after an operator's resume lasts, in seconds.
    pub resume_call_seconds: u64,
}

impl Default for PhaseConfig {
    fn default() -> Self {
        PhaseConfig {
            schedule: None,
            volatility_limit_bp: Some(300),
            volatility_auction_seconds: 120,
            random_end_seconds_max: 30,
            resume_call_seconds: 120,
        }
    }
}

/// A trading day in Minsk time, as seconds after Minsk midnight, in order:
/// `pre_open < open < close < closing_call_end < post_close_end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// PreOpen (the opening call) starts.
    pub pre_open: u32,
    /// The opening uncross is due (plus a random end).
    pub open: u32,
    /// Continuous trading ends and the closing call starts.
    pub close: u32,
    /// The closing uncross is due; PostClose starts (Day orders expire).
    pub closing_call_end: u32,
    /// PostClose ends: Closed until the next day's PreOpen (GTD orders of the day expire).
    pub post_close_end: u32,
}

/// Why a config is not usable. Each variant names what is wrong and the values involved.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// An instrument spec is invalid.
    #[error("instrument {symbol}: {source}")]
    Instrument {
        /// The instrument's symbol.
        symbol: String,
        /// What is wrong with it.
        source: InstrumentError,
    },
    /// Two entries share a code or symbol.
    #[error("duplicate {what} `{code}`")]
    Duplicate {
        /// `instrument`, `firm` or `trader`.
        what: &'static str,
        /// The repeated code.
        code: String,
    },
    /// A trader names a firm that does not exist.
    #[error("trader {trader} names unknown firm `{firm}`")]
    UnknownFirm {
        /// The trader.
        trader: String,
        /// The firm it names.
        firm: String,
    },
    /// A value is outside its allowed range.
    #[error("{field} = {value} is not allowed: {allowed}")]
    Range {
        /// The field.
        field: String,
        /// Its value.
        value: String,
        /// What is allowed.
        allowed: &'static str,
    },
}

/// A validated config, with the instruments built and the codes indexed.
#[derive(Clone, Debug)]
pub struct Registry {
    /// The config it was built from.
    pub config: EngineConfig,
    /// The validated instruments, by [`InstrumentId`].
    pub instruments: Vec<Instrument>,
    /// Deposit ratios in parts per million, by [`InstrumentId`].
    pub deposit_ratio_ppm: Vec<u64>,
    /// The currencies, sorted, with their shard.
    pub currencies: BTreeMap<String, usize>,
    symbols: BTreeMap<String, InstrumentId>,
    firms: BTreeMap<String, FirmId>,
    traders: BTreeMap<String, TraderId>,
    /// Each trader's firm, by [`TraderId`].
    firm_of_trader: Vec<FirmId>,
}

impl EngineConfig {
    /// Validates the config and indexes it.
    ///
    /// # Errors
    /// Returns a [`ConfigError`] for an invalid instrument, a duplicate code, a trader of an
    /// unknown firm, or a count, ratio or limit out of range.
    pub fn validate(self) -> Result<Registry, ConfigError> {
        self.check_limits()?;
        let mut instruments = Vec::with_capacity(self.instruments.len());
        let mut deposit_ratio_ppm = Vec::with_capacity(self.instruments.len());
        let mut symbols = BTreeMap::new();
        let mut currencies = BTreeMap::new();
        for (index, config) in self.instruments.iter().enumerate() {
            let symbol = config.spec.symbol.clone();
            let instrument = Instrument::new(config.spec.clone())
                .map_err(|source| ConfigError::Instrument { symbol: symbol.clone(), source })?;
            deposit_ratio_ppm.push(ratio_ppm(&symbol, config.deposit_ratio)?);
            insert_unique(&mut symbols, "instrument", &symbol, InstrumentId(index as u32))?;
            currencies.insert(config.spec.currency.clone(), 0);
            instruments.push(instrument);
        }
        for (index, shard) in currencies.values_mut().enumerate() {
            *shard = index % self.shards;
        }
        let mut firms = BTreeMap::new();
        for (index, firm) in self.firms.iter().enumerate() {
            insert_unique(&mut firms, "firm", &firm.code, FirmId(index as u32))?;
        }
        let mut traders = BTreeMap::new();
        for (index, trader) in self.traders.iter().enumerate() {
            if !firms.contains_key(&trader.firm) {
                let (trader, firm) = (trader.code.clone(), trader.firm.clone());
                return Err(ConfigError::UnknownFirm { trader, firm });
            }
            insert_unique(&mut traders, "trader", &trader.code, TraderId(index as u32))?;
        }
        let firm_of_trader = self.traders.iter().map(|trader| firms[&trader.firm]).collect();
        Ok(Registry {
            config: self,
            instruments,
            deposit_ratio_ppm,
            currencies,
            symbols,
            firms,
            traders,
            firm_of_trader,
        })
    }

    fn check_limits(&self) -> Result<(), ConfigError> {
        let range = |field: &str, value: usize, allowed| ConfigError::Range {
            field: field.into(),
            value: value.to_string(),
            allowed,
        };
        if self.shards == 0 || self.shards > SHARDS_MAX {
            return Err(range("engine.shards", self.shards, "1 to 64"));
        }
        for (field, count) in [
            ("instruments", self.instruments.len()),
            ("firms", self.firms.len()),
            ("traders", self.traders.len()),
        ] {
            if count == 0 || count > ENTITIES_MAX {
                return Err(range(field, count, "1 to 65536 entries"));
            }
        }
        if self.input_queue_capacity < 16 || self.input_queue_capacity > 1 << 24 {
            let capacity = self.input_queue_capacity;
            return Err(range("engine.input_queue_capacity", capacity, "16 to 16777216"));
        }
        if self.batch_inputs_max == 0 || self.batch_inputs_max > BATCH_INPUTS_MAX {
            return Err(range("engine.batch_inputs_max", self.batch_inputs_max, "1 to 65536"));
        }
        let segment = self.journal_segment_bytes;
        if !(JOURNAL_SEGMENT_BYTES_MIN..=crate::journal::SEGMENT_SIZE_LIMIT).contains(&segment) {
            return Err(ConfigError::Range {
                field: "engine.journal_segment_bytes".into(),
                value: segment.to_string(),
                allowed: "131072 (128 KiB) to 4294967296 (4 GiB)",
            });
        }
        if self.snapshot_every_inputs == 0 {
            return Err(range("engine.snapshot_every_inputs", 0, "at least 1"));
        }
        self.check_phases()?;
        self.check_amounts()
    }

    /// Call lengths and the volatility limit: in range, so that no deadline overflows.
    fn check_phases(&self) -> Result<(), ConfigError> {
        let phases = &self.phases;
        let seconds = |field: &str, value: u64, least: u64| {
            if (least..=CALL_SECONDS_MAX).contains(&value) {
                return Ok(());
            }
            let allowed = if least == 0 { "0 to 86400" } else { "1 to 86400" };
            Err(ConfigError::Range { field: field.into(), value: value.to_string(), allowed })
        };
        seconds("engine.volatility_auction_seconds", phases.volatility_auction_seconds, 1)?;
        seconds("engine.resume_call_seconds", phases.resume_call_seconds, 1)?;
        seconds("engine.random_end_seconds_max", phases.random_end_seconds_max, 0)?;
        if let Some(bp) = phases.volatility_limit_bp
            && !(1..=10_000).contains(&bp)
        {
            return Err(ConfigError::Range {
                field: "engine.volatility_limit_bp".into(),
                value: bp.to_string(),
                allowed: "1 to 10000 basis points (0.01 % to 100 %)",
            });
        }
        if let Some(schedule) = &self.phases.schedule {
            let times = [
                schedule.pre_open,
                schedule.open,
                schedule.close,
                schedule.closing_call_end,
                schedule.post_close_end,
            ];
            if !times.windows(2).all(|pair| pair[0] < pair[1]) || schedule.post_close_end > 86_400 {
                return Err(ConfigError::Range {
                    field: "schedule".into(),
                    value: format!("{times:?}"),
                    allowed: "pre_open < open < close < closing_call_end < post_close_end ≤ 24:00",
                });
            }
        }
        Ok(())
    }

    /// Deposits within [`DEPOSIT_UNITS_MAX`] in whole millionths, and each instrument's
    /// `tick × lot_size` in millionths within range: the engine counts money in millionths.
    fn check_amounts(&self) -> Result<(), ConfigError> {
        let micros = Decimal::from(1_000_000);
        for firm in &self.firms {
            for (currency, amount) in &firm.deposits {
                let exact = amount.checked_mul(micros).is_some_and(|m| m.fract().is_zero());
                if amount.is_sign_negative() || *amount > Decimal::from(DEPOSIT_UNITS_MAX) || !exact
                {
                    return Err(ConfigError::Range {
                        field: format!("firms.{}.deposits.{currency}", firm.code),
                        value: amount.to_string(),
                        allowed: "0 to 10^18, with at most 6 decimal places",
                    });
                }
            }
        }
        for instrument in &self.instruments {
            let spec = &instrument.spec;
            let tick_lot = spec.tick.checked_mul(spec.lot_size).and_then(|v| v.checked_mul(micros));
            if tick_lot.is_none_or(|v| v > Decimal::from(i64::MAX)) {
                return Err(ConfigError::Range {
                    field: format!("instruments.{}.tick", spec.symbol),
                    value: format!("{} × lot_size {}", spec.tick, spec.lot_size),
                    allowed: "tick × lot_size below 9.2 × 10^12 (in millionths, a 64-bit number)",
                });
            }
        }
        Ok(())
    }
}

fn insert_unique<T>(
    map: &mut BTreeMap<String, T>,
    what: &'static str,
    code: &str,
    value: T,
) -> Result<(), ConfigError> {
    if map.insert(code.to_owned(), value).is_some() {
        return Err(ConfigError::Duplicate { what, code: code.to_owned() });
    }
    Ok(())
}

/// Converts a deposit ratio to parts per million, exactly.
fn ratio_ppm(symbol: &str, ratio: Decimal) -> Result<u64, ConfigError> {
    let ppm = ratio * Decimal::from(1_000_000);
    match u64::try_from(ppm) {
        Ok(whole) if ppm.fract().is_zero() && ratio > Decimal::ZERO && ratio <= Decimal::ONE => {
            Ok(whole)
        }
        _ => Err(ConfigError::Range {
            field: format!("instruments.{symbol}.deposit_ratio"),
            value: ratio.to_string(),
            allowed: "above 0, at most 1, in whole millionths",
        }),
    }
}

impl Registry {
    /// Returns the instrument with `symbol`.
    #[must_use]
    pub fn instrument(&self, symbol: &str) -> Option<InstrumentId> {
        self.symbols.get(symbol).copied()
    }

    /// Returns the firm with `code`.
    #[must_use]
    pub fn firm(&self, code: &str) -> Option<FirmId> {
        self.firms.get(code).copied()
    }

    /// Returns the trader with `code`.
    #[must_use]
    pub fn trader(&self, code: &str) -> Option<TraderId> {
        self.traders.get(code).copied()
    }

    /// Returns the firm of `trader`.
    ///
    /// # Panics
    /// Panics if `trader` is not an id of this registry.
    #[must_use]
    pub fn firm_of(&self, trader: TraderId) -> FirmId {
        self.firm_of_trader[trader.0 as usize]
    }

    /// Returns the shard that owns `instrument`.
    ///
    /// # Panics
    /// Panics if `instrument` is not an id of this registry.
    #[must_use]
    pub fn shard_of(&self, instrument: InstrumentId) -> usize {
        self.currencies[&self.instruments[instrument.0 as usize].spec().currency]
    }

    /// Returns the shard that owns deposits in `currency`, if any instrument trades in it.
    #[must_use]
    pub fn shard_of_currency(&self, currency: &str) -> Option<usize> {
        self.currencies.get(currency).copied()
    }
}
