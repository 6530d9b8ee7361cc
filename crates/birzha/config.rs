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
    /// Delay before answering a failed logon.
    pub(crate) logon_failure_delay: Duration,
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
        if let Some(admin) = &self.admin {
            validate::validate_admin(admin)?;
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
            logon_failure_delay: Duration::from_millis(fix.logon_failure_delay_ms),
            orders_per_second: fix.throttle.orders_per_second,
            cancels_per_second: fix.throttle.cancels_per_second,
            admin: self.admin.clone(),
        }
    }

    /// Returns the codes of the traders whose password is [`DEMO_PASSWORD`], so the server can
    /// warn loudly. Costs one argon2 verification (tens of milliseconds) per trader.
    pub(crate) fn demo_traders(&self) -> Vec<&str> {
        self.traders
            .iter()
            .filter(|trader| password::verify_password(DEMO_PASSWORD, &trader.password_hash))
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
