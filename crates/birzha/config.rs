//! The exchange's configuration: one TOML file read at start-up.
//!
//! [`Config`] is the whole file: `[server]`, `[engine]`, `[fix]`, `[admin]`, `[schedule]` and
//! the lists `[[instruments]]`, `[[firms]]` and `[[traders]]` (see `sections`). The binary
//! embeds a default ([`DEFAULT_TOML`]): the instruments of the market model, always open, and
//! four demo traders whose password is `demo`. `docs/operations.md` ("Configuration
//! reference") describes every key.
//!
//! # Loading
//! [`Config::load`] and [`Config::embedded`] parse and then validate, so a `Config` in hand
//! is usable. Parsing refuses unknown keys and wrong types with the key path, line and column
//! ([`ConfigError::Syntax`]); validation refuses values that break a rule with the key, the
//! value and what is allowed ([`ConfigError::Invalid`]), first with the binary's own checks and
//! then with [`EngineConfig::validate`], whose errors are mapped to keys as well.
//!
//! # Decimals
//! Prices, ticks, lot sizes, ratios and deposits are written as strings (`"0.95"`) or integers
//! and read exactly into `rust_decimal::Decimal`; a TOML float is refused, because it is
//! binary floating point (see `decimal`).
//!
//! # What the server takes from it
//! [`Config::engine_config`] builds the engine's [`EngineConfig`]; [`Config::gateway_config`]
//! gathers what the FIX gateway and the admin port need ([`GatewayConfig`]);
//! [`Config::demo_traders`] names the traders whose password is still `demo`.

mod decimal;
mod error;
mod password;
mod schedule;
mod sections;
mod validate;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use birzha_book::InstrumentSpec;
use birzha_engine::{EngineConfig, FirmConfig, InstrumentConfig, Registry, TraderConfig};
use serde::Deserialize;

pub(crate) use error::ConfigError;
pub(crate) use password::{DEMO_PASSWORD, hash_password};
pub(crate) use schedule::ScheduleSection;
pub(crate) use sections::{
    AdminSection, EngineSection, FirmEntry, FixSection, InstrumentEntry, LogFormat, ServerSection,
    TraderEntry,
};

/// The default config, compiled into the binary; `birzha config default` prints it.
pub(crate) const DEFAULT_TOML: &str = include_str!("default.toml");

/// The admin token of the default config. It is published, so a server using it warns.
pub(crate) const DEMO_ADMIN_TOKEN: &str = "birzha-demo-admin-token";

/// How errors in [`DEFAULT_TOML`] name their origin.
pub(crate) const DEFAULT_ORIGIN: &str = "embedded default config";

/// The whole config file.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    /// Listen address, data directory, log format, CompID.
    #[serde(default)]
    pub(crate) server: ServerSection,
    /// Shards, durability, queue limits.
    #[serde(default)]
    pub(crate) engine: EngineSection,
    /// FIX session limits and throttles.
    #[serde(default)]
    pub(crate) fix: FixSection,
    /// The admin port; absent means no admin port.
    #[serde(default)]
    pub(crate) admin: Option<AdminSection>,
    /// The trading day; absent means always open.
    #[serde(default)]
    pub(crate) schedule: Option<ScheduleSection>,
    /// The instruments, in order: the order defines the engine's instrument ids.
    pub(crate) instruments: Vec<InstrumentEntry>,
    /// The firms, in order.
    pub(crate) firms: Vec<FirmEntry>,
    /// The traders, in order.
    pub(crate) traders: Vec<TraderEntry>,
}

/// What the FIX gateway and the admin port need from the config.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GatewayConfig {
    /// The FIX listen address.
    pub(crate) listen: SocketAddr,
    /// The exchange's CompID (SenderCompID of outgoing messages, TargetCompID of incoming).
    pub(crate) comp_id: String,
    /// The traders who may log on.
    pub(crate) traders: Vec<GatewayTrader>,
    /// The HeartBtInt range a logon may ask for, in seconds.
    pub(crate) heartbeat_seconds: (u32, u32),
    /// The largest inbound message, in bytes.
    pub(crate) message_size_max: usize,
    /// The most concurrent sessions.
    pub(crate) sessions_max: usize,
    /// Messages queued to one session before it is disconnected as a slow reader.
    pub(crate) outbound_queue_capacity: usize,
    /// Messages each trader's session store keeps for resends.
    pub(crate) resend_messages_max: usize,
    /// Delay before answering a failed logon.
    pub(crate) logon_failure_delay: Duration,
    /// How long a new connection has to send its Logon.
    pub(crate) logon_timeout: Duration,
    /// New orders and modifies per second per session.
    pub(crate) orders_per_second: u32,
    /// Cancels per second per session.
    pub(crate) cancels_per_second: u32,
    /// The admin port, if the config opens one.
    pub(crate) admin: Option<AdminSection>,
}

/// A trader as the gateway sees it at logon.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GatewayTrader {
    /// The trader's code: the SenderCompID it logs on with.
    pub(crate) code: String,
    /// Its firm's code.
    pub(crate) firm: String,
    /// The argon2 PHC hash its logon password must verify against.
    pub(crate) password_hash: String,
}

impl Config {
    /// Returns the embedded default config, parsed and validated.
    ///
    /// # Errors
    /// Returns a [`ConfigError`] only if [`DEFAULT_TOML`] is broken, which the tests rule out.
    pub(crate) fn embedded() -> Result<Config, ConfigError> {
        Config::from_toml(DEFAULT_TOML, DEFAULT_ORIGIN)
    }

    /// Reads, parses and validates the config file at `path`.
    ///
    /// # Errors
    /// Returns [`ConfigError::Read`] if the file cannot be read, and otherwise the errors of
    /// [`Config::from_toml`].
    pub(crate) fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        Config::from_toml(&text, &path.display().to_string())
    }

    /// Parses and validates config text; `origin` names it in errors.
    ///
    /// # Errors
    /// Returns [`ConfigError::Syntax`] for text that is not TOML or does not fit the schema,
    /// and [`ConfigError::Invalid`] for a value that breaks a rule.
    pub(crate) fn from_toml(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let config = Config::parse(text, origin)?;
        config.validate()?;
        Ok(config)
    }

    /// Parses config text without validating it.
    fn parse(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let deserializer = toml::Deserializer::parse(text)
            .map_err(|error| ConfigError::syntax(origin, text, String::new(), &error))?;
        serde_path_to_error::deserialize(deserializer).map_err(|error| {
            ConfigError::syntax(origin, text, error.path().to_string(), error.inner())
        })
    }

    /// Validates the config and returns the engine's registry of it.
    ///
    /// # Errors
    /// Returns [`ConfigError::Invalid`] naming the first key whose value breaks a rule.
    pub(crate) fn validate(&self) -> Result<Registry, ConfigError> {
        validate::validate_server(&self.server)?;
        validate::validate_fix(&self.fix)?;
        validate::validate_engine(&self.engine)?;
        if let Some(admin) = &self.admin {
            validate::validate_admin(admin)?;
            validate::validate_ports(&self.server, admin)?;
        }
        if let Some(schedule) = &self.schedule {
            schedule.validate()?;
        }
        validate::validate_instruments(&self.instruments)?;
        validate::validate_firms(&self.firms)?;
        validate::validate_traders(&self.traders, &self.firms)?;
        self.engine_config()
            .validate()
            .map_err(|error| ConfigError::from_engine(error, &self.instruments, &self.traders))
    }

    /// Returns the engine's view of the config.
    pub(crate) fn engine_config(&self) -> EngineConfig {
        EngineConfig {
            instruments: self.instruments.iter().map(InstrumentEntry::engine_config).collect(),
            firms: self.firms.iter().map(FirmEntry::engine_config).collect(),
            traders: self.traders.iter().map(TraderEntry::engine_config).collect(),
            shards: self.engine.shards,
            durability: self.engine.durability.into(),
            snapshot_every_inputs: self.engine.snapshot_every_inputs,
            input_queue_capacity: self.engine.input_queue_capacity,
            batch_inputs_max: self.engine.batch_inputs_max,
            journal_segment_bytes: self.engine.journal_segment_bytes,
            phases: self.phase_config(),
        }
    }

    /// Returns the engine's phase settings: the schedule, if any, and the defaults otherwise.
    fn phase_config(&self) -> birzha_engine::PhaseConfig {
        let basis_points = (self.engine.volatility_percent.0 * rust_decimal::Decimal::from(100))
            .trunc()
            .try_into()
            .unwrap_or(0u32);
        let defaults = birzha_engine::PhaseConfig {
            volatility_limit_bp: (basis_points > 0).then_some(basis_points),
            volatility_auction_seconds: self.engine.volatility_auction_seconds,
            resume_call_seconds: self.engine.resume_call_seconds,
            ..birzha_engine::PhaseConfig::default()
        };
        let Some(schedule) = &self.schedule else { return defaults };
        birzha_engine::PhaseConfig {
            schedule: Some(birzha_engine::Schedule {
                pre_open: schedule.pre_open.seconds,
                open: schedule.open.seconds,
                close: schedule.close.seconds,
                closing_call_end: schedule.closing_call_end.seconds,
                post_close_end: schedule.post_close_end.seconds,
            }),
            random_end_seconds_max: u64::from(schedule.random_end_seconds_max),
            ..defaults
        }
    }

    /// Returns what the FIX gateway and admin port need.
    pub(crate) fn gateway_config(&self) -> GatewayConfig {
        let fix = &self.fix;
        GatewayConfig {
            listen: self.server.listen,
            comp_id: self.server.comp_id.clone(),
            traders: self
                .traders
                .iter()
                .map(|trader| GatewayTrader {
                    code: trader.code.clone(),
                    firm: trader.firm.clone(),
                    password_hash: trader.password_hash.clone(),
                })
                .collect(),
            heartbeat_seconds: (fix.heartbeat_seconds_min, fix.heartbeat_seconds_max),
            message_size_max: fix.message_size_max,
            sessions_max: fix.sessions_max,
            outbound_queue_capacity: fix.outbound_queue_capacity,
            resend_messages_max: fix.resend_messages_max,
            logon_failure_delay: Duration::from_millis(fix.logon_failure_delay_ms),
            logon_timeout: Duration::from_millis(fix.logon_timeout_ms),
            orders_per_second: fix.throttle.orders_per_second,
            cancels_per_second: fix.throttle.cancels_per_second,
            admin: self.admin.clone(),
        }
    }

    /// Returns the codes of the traders whose password is [`DEMO_PASSWORD`], so the server can
    /// warn loudly. Costs one argon2 verification (tens of milliseconds) per distinct hash:
    /// a hash string carries its salt, so traders sharing one (the load traders of
    /// `birzha load --print-config`) share the answer, and a thousand of them no longer add
    /// half a minute to the start.
    pub(crate) fn demo_traders(&self) -> Vec<&str> {
        let mut verified: BTreeMap<&str, bool> = BTreeMap::new();
        self.traders
            .iter()
            .filter(|trader| {
                let hash = trader.password_hash.as_str();
                *verified
                    .entry(hash)
                    .or_insert_with(|| password::verify_password(DEMO_PASSWORD, hash))
            })
            .map(|trader| trader.code.as_str())
            .collect()
    }

    /// Returns whether the admin port uses [`DEMO_ADMIN_TOKEN`].
    pub(crate) fn has_demo_admin_token(&self) -> bool {
        self.admin.as_ref().is_some_and(|admin| admin.token == DEMO_ADMIN_TOKEN)
    }
}

impl InstrumentEntry {
    /// Returns the engine's view of the instrument.
    fn engine_config(&self) -> InstrumentConfig {
        InstrumentConfig {
            spec: InstrumentSpec {
                symbol: self.symbol.clone(),
                description: self.description.clone(),
                unit: self.unit.clone(),
                currency: self.currency.clone(),
                lot_size: self.lot_size.0,
                tick: self.tick.0,
                reference_price: self.reference_price.0,
                band_percent: self.band_percent.0,
                price_floor: self.price_floor.map(|floor| floor.0),
                price_cap: self.price_cap.map(|cap| cap.0),
                max_order_lots: self.max_order_lots,
                orders_max: self.orders_max,
            },
            deposit_ratio: self.deposit_ratio.0,
        }
    }
}

impl FirmEntry {
    /// Returns the engine's view of the firm.
    fn engine_config(&self) -> FirmConfig {
        FirmConfig {
            code: self.code.clone(),
            name: self.name.clone(),
            deposits: self.deposits.iter().map(|(code, amount)| (code.clone(), amount.0)).collect(),
            suspended: self.suspended,
        }
    }
}

impl TraderEntry {
    /// Returns the engine's view of the trader.
    fn engine_config(&self) -> TraderConfig {
        TraderConfig {
            code: self.code.clone(),
            firm: self.firm.clone(),
            self_match: self.self_match.into(),
            cancel_on_disconnect: self.cancel_on_disconnect.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    //! The embedded default config and the example day config against the market model's
    //! tables, and bad configs against the errors an operator should see: each test edits one
    //! line of the default config and checks the whole message (key, value, what is allowed).

    use super::*;
    use birzha_book::SelfMatchMode;
    use birzha_engine::journal::Durability;
    use birzha_engine::{CancelOnDisconnect, ConfigError as EngineError};
    use rust_decimal::Decimal;

    /// The example config with the Minsk day schedule.
    const BUCE_DAY_TOML: &str = include_str!("../../config/buce-day.toml");

    /// Four cells of a row of market-model §1, as the table writes them.
    type Row = (&'static str, &'static str, &'static str, &'static str);

    /// Market-model §1, each row as (symbol, description, unit, lot) and (tick, currency,
    /// reference, band).
    const TABLE: [(Row, Row); 14] = [
        (("BUT82-FCA-USD", "Butter 82.5% fat, FCA Belarus", "t", "5"), ("1", "USD", "6800", "10")),
        (("BUT82-FCA-CNY", "Butter 82.5% fat, FCA Belarus", "t", "5"), ("1", "CNY", "48000", "10")),
        (("SMP-FCA-USD", "Skimmed milk powder, FCA Belarus", "t", "5"), ("1", "USD", "2500", "10")),
        (
            ("SMP-FCA-CNY", "Skimmed milk powder, FCA Belarus", "t", "5"),
            ("1", "CNY", "18000", "10"),
        ),
        (("WMP-FCA-USD", "Whole milk powder, FCA Belarus", "t", "5"), ("1", "USD", "3600", "10")),
        (("MILK-RAW-BYN", "Raw cow milk, FCA farm", "kg", "20000"), ("0.01", "BYN", "0.95", "10")),
        (("CHEESE-FCA-RUB", "Hard cheese, FCA Belarus", "t", "5"), ("10", "RUB", "450000", "10")),
        (
            ("BEEF-FCA-USD", "Frozen boneless beef, FCA Belarus", "t", "5"),
            ("1", "USD", "4800", "10"),
        ),
        (
            ("RWOOD-CON-BYN", "Coniferous sawlogs, FCA forest store", "m3", "10"),
            ("0.01", "BYN", "60.00", "15"),
        ),
        (
            ("SAWN-SW-BYN", "Softwood sawn timber, FCA Belarus", "m3", "5"),
            ("0.01", "BYN", "450.00", "15"),
        ),
        (
            ("SAWN-SW-FCA-USD", "Softwood sawn timber, FCA Belarus", "m3", "5"),
            ("0.1", "USD", "290.0", "15"),
        ),
        (
            ("SAWN-SW-DAP-CNY", "Softwood sawn timber, DAP China rail station", "m3", "5"),
            ("1", "CNY", "2100", "15"),
        ),
        (
            ("PULP-BKP-FCA-USD", "Bleached kraft pulp, FCA Belarus", "t", "20"),
            ("1", "USD", "620", "10"),
        ),
        (
            ("FLAX-FIB-FCA-EUR", "Scutched flax fibre, FCA Belarus", "t", "5"),
            ("1", "EUR", "2400", "10"),
        ),
    ];

    fn default_config() -> Config {
        Config::embedded().unwrap_or_else(|error| panic!("the default config is broken: {error}"))
    }

    /// Returns the default config text with the first `from` replaced by `to`.
    fn edited(from: &str, to: &str) -> String {
        assert!(DEFAULT_TOML.contains(from), "the default config has no {from:?}");
        DEFAULT_TOML.replacen(from, to, 1)
    }

    /// Returns the error of a config that must be refused.
    fn refused(text: &str) -> ConfigError {
        match Config::from_toml(text, "test.toml") {
            Ok(_) => panic!("the config was accepted"),
            Err(error) => error,
        }
    }

    /// Returns the 1-based line of the first `needle` in `text`.
    fn line_of(text: &str, needle: &str) -> usize {
        let offset = text.find(needle).unwrap_or_else(|| panic!("no {needle:?}"));
        text[..offset].matches('\n').count() + 1
    }

    #[test]
    fn the_default_config_validates_through_the_engine() {
        let config = default_config();
        let registry = config.engine_config().validate().expect("the engine accepts it");
        assert_eq!(registry.instruments.len(), 14);
        assert_eq!(registry.config.shards, 2);
        assert_eq!(registry.config.durability, Durability::Fsync);
        assert_eq!(registry.instrument("MILK-RAW-BYN").map(|id| id.0), Some(5));
        assert_eq!(registry.deposit_ratio_ppm, vec![50_000; 14]);
        assert_eq!(config.server, ServerSection::default());
        assert_eq!(config.engine, EngineSection::default());
        assert_eq!(config.fix, FixSection::default());
        assert!(config.schedule.is_none(), "the default config is always open");
    }

    #[test]
    fn the_default_instruments_are_the_market_model_table() {
        let config = default_config();
        assert_eq!(config.instruments.len(), TABLE.len());
        for (entry, row) in config.instruments.iter().zip(TABLE) {
            let ((symbol, description, unit, lot), (tick, currency, reference, band)) = row;
            assert_eq!(entry.symbol, symbol);
            assert_eq!(entry.description, description, "{symbol}");
            assert_eq!(entry.unit, unit, "{symbol}");
            assert_eq!(entry.currency, currency, "{symbol}");
            // Compare text too: the scale the table writes ("60.00") must survive.
            assert_eq!(entry.lot_size.0.to_string(), lot, "{symbol} lot");
            assert_eq!(entry.tick.0.to_string(), tick, "{symbol} tick");
            assert_eq!(entry.reference_price.0.to_string(), reference, "{symbol} reference");
            assert_eq!(entry.band_percent.0.to_string(), band, "{symbol} band");
            assert_eq!(entry.max_order_lots, 1_000, "{symbol}");
            assert_eq!(entry.deposit_ratio.0, Decimal::new(5, 2), "{symbol}");
            assert_eq!((entry.price_floor, entry.price_cap), (None, None), "{symbol}");
        }
    }

    #[test]
    fn decimals_reach_the_engine_exactly() {
        let engine = default_config().engine_config();
        let spec = |symbol: &str| {
            let found =
                engine.instruments.iter().find(|instrument| instrument.spec.symbol == symbol);
            found.map(|instrument| instrument.spec.clone()).expect("listed")
        };
        let milk = spec("MILK-RAW-BYN");
        assert_eq!((milk.reference_price.mantissa(), milk.reference_price.scale()), (95, 2));
        assert_eq!((milk.tick.mantissa(), milk.tick.scale()), (1, 2));
        assert_eq!(milk.lot_size, Decimal::from(20_000));
        let timber = spec("SAWN-SW-FCA-USD");
        assert_eq!((timber.reference_price.mantissa(), timber.reference_price.scale()), (2900, 1));
        assert_eq!(timber.tick, Decimal::new(1, 1));
        let band = birzha_book::Instrument::new(milk).expect("valid").band();
        assert_eq!((band.low.0, band.high.0), (86, 104), "0.95 ± 10% in 0.01 ticks");
    }

    #[test]
    fn the_demo_firms_traders_and_deposits_are_as_documented() {
        let config = default_config();
        let firms: Vec<&str> = config.firms.iter().map(|firm| firm.code.as_str()).collect();
        assert_eq!(firms, ["FIRM-A", "FIRM-B", "FIRM-C"]);
        let trillion = Decimal::from(1_000_000_000_000_i64);
        for firm in &config.firms {
            let currencies: Vec<&str> = firm.deposits.keys().map(String::as_str).collect();
            assert_eq!(currencies, ["BYN", "CNY", "EUR", "RUB", "USD"], "{}", firm.code);
            assert!(firm.deposits.values().all(|amount| amount.0 == trillion), "{}", firm.code);
            assert!(!firm.suspended);
        }
        let traders: Vec<(&str, &str)> = config
            .traders
            .iter()
            .map(|trader| (trader.code.as_str(), trader.firm.as_str()))
            .collect();
        assert_eq!(
            traders,
            [
                ("TRADER1", "FIRM-A"),
                ("TRADER2", "FIRM-A"),
                ("TRADER3", "FIRM-B"),
                ("TRADER4", "FIRM-C")
            ]
        );
    }

    #[test]
    fn the_demo_hashes_verify_demo_and_are_reported() {
        let config = default_config();
        assert_eq!(config.demo_traders(), ["TRADER1", "TRADER2", "TRADER3", "TRADER4"]);
        assert!(config.has_demo_admin_token());
        let mut real = config.clone();
        real.traders[1].password_hash = hash_password("a real secret").expect("hashes");
        assert_eq!(real.demo_traders(), ["TRADER1", "TRADER3", "TRADER4"]);
        real.admin = None;
        assert!(!real.has_demo_admin_token());
    }

    #[test]
    fn the_buce_day_example_is_the_default_market_with_the_minsk_day() {
        let day = Config::from_toml(BUCE_DAY_TOML, "config/buce-day.toml")
            .unwrap_or_else(|error| panic!("{error}"));
        let schedule = day.schedule.expect("has a schedule");
        let hours_minutes =
            |time: schedule::LocalTime| (time.seconds / 3_600, time.seconds / 60 % 60);
        assert_eq!(hours_minutes(schedule.pre_open), (10, 45));
        assert_eq!(hours_minutes(schedule.open), (11, 0));
        assert_eq!(schedule.random_end_seconds_max, 30);
        assert_eq!(hours_minutes(schedule.close), (15, 0));
        assert_eq!(hours_minutes(schedule.closing_call_end), (15, 5));
        assert_eq!(hours_minutes(schedule.post_close_end), (15, 30));
        let always_open = default_config();
        assert_eq!(Config { schedule: None, ..day }, always_open);
    }

    #[test]
    fn the_config_maps_to_the_engine_and_the_gateway() {
        let text = edited("self_match = \"cancel-resting\"", "self_match = \"decrement\"")
            .replacen("cancel_on_disconnect = \"day\"", "cancel_on_disconnect = \"all\"", 1)
            .replacen("durability = \"fsync\"", "durability = \"none\"", 1);
        let config =
            Config::from_toml(&text, "test.toml").unwrap_or_else(|error| panic!("{error}"));
        let engine = config.engine_config();
        assert_eq!(engine.durability, Durability::None);
        assert_eq!(engine.traders[0].self_match, SelfMatchMode::Decrement);
        assert_eq!(engine.traders[0].cancel_on_disconnect, CancelOnDisconnect::All);
        assert_eq!(engine.traders[1].self_match, SelfMatchMode::CancelResting);
        assert_eq!(engine.firms[2].deposits.len(), 5);
        let gateway = config.gateway_config();
        assert_eq!(gateway.listen.to_string(), "127.0.0.1:9878");
        assert_eq!(gateway.comp_id, "BIRZHA");
        assert_eq!((gateway.orders_per_second, gateway.cancels_per_second), (500, 1_000));
        assert_eq!(gateway.heartbeat_seconds, (5, 120));
        assert_eq!(gateway.logon_failure_delay, Duration::from_secs(1));
        assert_eq!(gateway.logon_timeout, Duration::from_secs(10));
        assert_eq!(gateway.traders[3].code, "TRADER4");
        assert_eq!(gateway.traders[3].password_hash, config.traders[3].password_hash);
        let admin = gateway.admin.expect("the default config opens an admin port");
        assert_eq!(admin.listen.to_string(), "127.0.0.1:9879");
    }

    #[test]
    fn a_missing_file_names_the_path() {
        let error = Config::load(Path::new("/nonexistent/birzha.toml")).expect_err("missing");
        assert_eq!(error.to_string(), "cannot read config file /nonexistent/birzha.toml");
        let source = std::error::Error::source(&error).expect("the reason is the source");
        assert!(source.is::<std::io::Error>());
    }

    #[test]
    fn a_file_on_disk_loads() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("birzha.toml");
        std::fs::write(&path, BUCE_DAY_TOML).expect("written");
        let config = Config::load(&path).unwrap_or_else(|error| panic!("{error}"));
        assert!(config.schedule.is_some());
    }

    #[test]
    fn an_unknown_key_is_named_with_its_line() {
        let text = edited("[server]\n", "[server]\nlissten = \"127.0.0.1:1\"\n");
        let error = refused(&text);
        let ConfigError::Syntax { key, position, message, .. } = &error else {
            panic!("not a syntax error: {error}")
        };
        assert_eq!(key, "server.lissten");
        assert_eq!(position.map(|(line, _)| line), Some(line_of(&text, "lissten")));
        assert!(message.starts_with("unknown field `lissten`, expected one of `listen`"));
        let shown = error.to_string();
        assert!(shown.starts_with("test.toml, line "), "{shown}");
        assert!(shown.contains("| lissten = \"127.0.0.1:1\"\n"), "{shown}");
        assert!(shown.ends_with("| ^^^^^^^"), "the caret underlines the key: {shown}");
    }

    #[test]
    fn a_bad_durability_names_key_value_and_choices() {
        let text = edited("durability = \"fsync\"", "durability = \"fast\"");
        let error = refused(&text);
        let ConfigError::Syntax { key, position, message, .. } = &error else {
            panic!("not a syntax error: {error}")
        };
        assert_eq!(key, "engine.durability");
        let line = line_of(&text, "durability = \"fast\"");
        assert_eq!(*position, Some((line, 14)));
        assert_eq!(message, "unknown variant `fast`, expected `fsync` or `none`");
    }

    #[test]
    fn a_float_decimal_is_refused_with_advice() {
        let error = refused(&edited("\ntick = \"0.01\"\n", "\ntick = 0.01\n"));
        let ConfigError::Syntax { key, message, .. } = &error else { panic!("{error}") };
        assert_eq!(key, "instruments[5].tick");
        assert!(message.contains("write the decimal as a string, e.g. \"0.01\""), "{message}");
    }

    #[test]
    fn the_resend_window_is_set_in_fix_and_bounded() {
        let setting = "resend_messages_max = 1_000_000";
        let text = edited(setting, "resend_messages_max = 5_000");
        let config = Config::from_toml(&text, "test.toml").expect("accepted");
        assert_eq!(config.gateway_config().resend_messages_max, 5_000);
        assert_eq!(default_config().gateway_config().resend_messages_max, 1_000_000);
        let error = refused(&edited(setting, "resend_messages_max = 999"));
        assert!(error.to_string().starts_with("fix.resend_messages_max = 999"), "{error}");
    }

    #[test]
    fn broken_toml_gives_line_and_column() {
        let text = edited("[engine]\n", "[engine\n");
        let error = refused(&text);
        let ConfigError::Syntax { position, key, .. } = &error else { panic!("{error}") };
        assert_eq!(position.map(|(line, _)| line), Some(line_of(&text, "[engine")));
        assert!(key.is_empty());
    }

    #[test]
    fn an_off_tick_reference_price_names_the_tick() {
        let error =
            refused(&edited("reference_price = \"450000\"", "reference_price = \"450005\""));
        assert_eq!(
            error.to_string(),
            "instruments[6].reference_price = 450005 is not allowed: expected a positive whole \
             multiple of the tick 10"
        );
    }

    #[test]
    fn bad_bands_are_refused() {
        let error = refused(&edited("band_percent = 10\n", "band_percent = 100\n"));
        assert_eq!(
            error.to_string(),
            "instruments[0].band_percent = 100 is not allowed: expected a percentage above 0 and \
             below 100"
        );
        let error = refused(&edited("band_percent = 10\n", "band_percent = \"-1\"\n"));
        assert!(error.to_string().starts_with("instruments[0].band_percent = -1 is not allowed"));
        let error = refused(&edited("tick = \"10\"", "tick = \"0.0001\""));
        assert_eq!(
            error.to_string(),
            "instruments[6].band_percent = (a band of 900000001 ticks) is not allowed: expected a \
             band of at most 1048576 ticks: raise the tick or narrow the band"
        );
    }

    #[test]
    fn a_trader_of_an_unknown_firm_lists_the_firms() {
        let error = refused(&edited("firm = \"FIRM-C\"", "firm = \"FIRM-Z\""));
        assert_eq!(
            error.to_string(),
            "traders[3].firm = \"FIRM-Z\" is not allowed: expected the code of a firm in \
             [[firms]]: \"FIRM-A\", \"FIRM-B\", \"FIRM-C\""
        );
    }

    #[test]
    fn a_non_loopback_admin_port_is_refused() {
        let error = refused(&edited("listen = \"127.0.0.1:9879\"", "listen = \"0.0.0.0:9879\""));
        let message = error.to_string();
        assert!(
            message.starts_with(
                "admin.listen = \"0.0.0.0:9879\" is not allowed: expected a loopback address"
            ),
            "{message}"
        );
        let ipv6 = edited("listen = \"127.0.0.1:9879\"", "listen = \"[::1]:9879\"");
        assert!(Config::from_toml(&ipv6, "test.toml").is_ok(), "[::1] is loopback");
        let short = edited("birzha-demo-admin-token", "short");
        assert!(refused(&short).to_string().starts_with("admin.token = (5 characters)"));
        // Regression (a review's): characters were counted in bytes.
        let accented = edited("birzha-demo-admin-token", &"é".repeat(17));
        assert!(refused(&accented).to_string().starts_with("admin.token = (17 characters)"));
        // Regression (a review's): `config check` passed the FIX port as the admin port.
        let clash = edited("listen = \"127.0.0.1:9879\"", "listen = \"127.0.0.1:9878\"");
        let message = refused(&clash).to_string();
        assert!(
            message.starts_with("admin.listen = \"127.0.0.1:9878\" is not allowed"),
            "{message}"
        );
    }

    #[test]
    fn engine_limits_are_named_by_key() {
        let error = refused(&edited("shards = 2", "shards = 0"));
        assert_eq!(error.to_string(), "engine.shards = 0 is not allowed: expected 1 to 64");
        let text = edited("band_percent = 10\n", "band_percent = 10\ndeposit_ratio = \"1.5\"\n");
        assert_eq!(
            refused(&text).to_string(),
            "instruments[0].deposit_ratio = 1.5 is not allowed: expected above 0, at most 1, in \
             whole millionths"
        );
        let text = edited("band_percent = 10\n", "band_percent = 10\nmax_order_lots = 0\n");
        assert_eq!(
            refused(&text).to_string(),
            "instruments[0].max_order_lots = 0 is not allowed: expected 1 to 4294967295"
        );
    }

    #[test]
    fn codes_must_be_unique_and_well_formed() {
        let error = refused(&edited("symbol = \"BUT82-FCA-CNY\"", "symbol = \"BUT82-FCA-USD\""));
        assert_eq!(
            error.to_string(),
            "instruments[1].symbol = \"BUT82-FCA-USD\" is not allowed: expected a code not \
             already used by instruments[0]"
        );
        let error = refused(&edited("code = \"TRADER2\"", "code = \"TRADER 2\""));
        assert!(error.to_string().starts_with("traders[1].code = \"TRADER 2\" is not allowed"));
        let error = refused(&edited("currency = \"USD\"", "currency = \"usd\""));
        assert!(error.to_string().starts_with("instruments[0].currency = \"usd\" is not allowed"));
    }

    #[test]
    fn a_bad_password_hash_or_fix_limit_is_named() {
        let error = refused(&edited("password_hash = \"$argon2id", "password_hash = \"$argon2x"));
        assert!(error.to_string().starts_with("traders[0].password_hash = ("), "{error}");
        assert!(error.to_string().contains("`birzha passwd` makes one"), "{error}");
        // Regression: t = 2³² - 1 made `config check` (and a logon) verify for hours.
        let error = refused(&edited("m=19456,t=2,p=1", "m=19456,t=4294967295,p=1"));
        assert!(error.to_string().starts_with("traders[0].password_hash = ("), "{error}");
        assert!(error.to_string().contains("t=4294967295"), "{error}");
        let error = refused(&edited("heartbeat_seconds_max = 120", "heartbeat_seconds_max = 2"));
        assert_eq!(
            error.to_string(),
            "fix.heartbeat_seconds_max = 2 is not allowed: expected 5 to 3600"
        );
    }

    #[test]
    fn a_schedule_out_of_order_is_refused() {
        let text = BUCE_DAY_TOML.replacen("close = \"15:00\"", "close = \"10:50\"", 1);
        assert_eq!(
            refused(&text).to_string(),
            "schedule.close = \"10:50\" is not allowed: expected a time after schedule.open \
             (\"11:00\")"
        );
    }

    #[test]
    fn engine_errors_map_to_keys() {
        let config = default_config();
        let unknown = EngineError::UnknownFirm { trader: "TRADER3".into(), firm: "X".into() };
        let error = ConfigError::from_engine(unknown, &config.instruments, &config.traders);
        assert_eq!(
            error.to_string(),
            "traders[2].firm = \"X\" is not allowed: expected a firm code"
        );
        let duplicate = EngineError::Duplicate { what: "firm", code: "FIRM-A".into() };
        let error = ConfigError::from_engine(duplicate, &config.instruments, &config.traders);
        assert_eq!(
            error.to_string(),
            "firms = \"FIRM-A\" (twice) is not allowed: expected every firm code to be unique"
        );
    }
}
