//! The sections of the config file, as serde reads them, with their defaults.
//!
//! Every struct refuses unknown keys, so a misspelt key is an error rather than a silently
//! ignored line. `docs/operations.md` ("Configuration reference") describes each key.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use birzha_book::SelfMatchMode;
use birzha_engine::CancelOnDisconnect;
use birzha_engine::journal::Durability;
use serde::Deserialize;

use super::decimal::ExactDecimal;

/// `[server]`: where the server listens and keeps its data.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct ServerSection {
    /// The FIX listen address.
    pub(crate) listen: SocketAddr,
    /// The directory of journals and snapshots.
    pub(crate) data_dir: PathBuf,
    /// How operator logs are written.
    pub(crate) log_format: LogFormat,
    /// The exchange's FIX CompID: the SenderCompID of everything it sends.
    pub(crate) comp_id: String,
}

impl Default for ServerSection {
    fn default() -> Self {
        ServerSection {
            listen: SocketAddr::from(([127, 0, 0, 1], 9878)),
            data_dir: PathBuf::from("./data"),
            log_format: LogFormat::Auto,
            comp_id: "BIRZHA".to_owned(),
        }
    }
}

/// How operator logs are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum LogFormat {
    /// Pretty on a terminal, JSON lines otherwise.
    #[default]
    Auto,
    /// One JSON object per line.
    Json,
    /// Human-readable lines.
    Pretty,
}

impl LogFormat {
    /// Returns the name used in the config and on the command line.
    pub(crate) fn name(self) -> &'static str {
        match self {
            LogFormat::Auto => "auto",
            LogFormat::Json => "json",
            LogFormat::Pretty => "pretty",
        }
    }
}

/// `[engine]`: matching threads, durability and queue limits.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct EngineSection {
    /// Matching threads; each owns the instruments of some currencies.
    pub(crate) shards: usize,
    /// Whether journal commits wait for the disk.
    pub(crate) durability: DurabilitySetting,
    /// A snapshot is written after this many inputs.
    pub(crate) snapshot_every_inputs: u64,
    /// Capacity of each shard's input queue.
    pub(crate) input_queue_capacity: usize,
    /// Inputs applied between two journal commits at most.
    pub(crate) batch_inputs_max: usize,
    /// The size at which a journal segment file is closed and the next one started.
    pub(crate) journal_segment_bytes: u64,
    /// A trade further than this many percent from the last trade starts a volatility
    /// auction; `"0"` turns volatility interruptions off.
    pub(crate) volatility_percent: ExactDecimal,
    /// How long a volatility auction's call lasts, before its random end.
    pub(crate) volatility_auction_seconds: u64,
    /// How long the call after an operator's resume lasts.
    pub(crate) resume_call_seconds: u64,
}

impl Default for EngineSection {
    fn default() -> Self {
        EngineSection {
            shards: 2,
            durability: DurabilitySetting::Fsync,
            snapshot_every_inputs: 1_000_000,
            input_queue_capacity: 65_536,
            batch_inputs_max: 4_096,
            journal_segment_bytes: birzha_engine::JOURNAL_SEGMENT_BYTES_DEFAULT,
            volatility_percent: ExactDecimal(rust_decimal::Decimal::from(3)),
            volatility_auction_seconds: 120,
            resume_call_seconds: 120,
        }
    }
}

/// `engine.durability`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum DurabilitySetting {
    /// Every commit waits for `fdatasync`.
    #[default]
    Fsync,
    /// Commits only write: for benchmarks.
    None,
}

impl From<DurabilitySetting> for Durability {
    fn from(setting: DurabilitySetting) -> Durability {
        match setting {
            DurabilitySetting::Fsync => Durability::Fsync,
            DurabilitySetting::None => Durability::None,
        }
    }
}

/// `[fix]`: session limits of the FIX gateway.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct FixSection {
    /// The shortest HeartBtInt a client may ask for, in seconds.
    pub(crate) heartbeat_seconds_min: u32,
    /// The longest HeartBtInt a client may ask for, in seconds.
    pub(crate) heartbeat_seconds_max: u32,
    /// The largest inbound message, in bytes.
    pub(crate) message_size_max: usize,
    /// The most concurrent sessions.
    pub(crate) sessions_max: usize,
    /// Messages queued to one session before it counts as a slow reader and is disconnected.
    pub(crate) outbound_queue_capacity: usize,
    /// Messages each trader's session store keeps, in memory and in its file, for resends;
    /// older ones are gap-filled.
    pub(crate) resend_messages_max: usize,
    /// Delay before answering a failed logon, in milliseconds: slows password guessing.
    pub(crate) logon_failure_delay_ms: u64,
    /// How long a new connection has to send its Logon, in milliseconds; an idle connection
    /// is closed after it, and until then holds one of `sessions_max` places.
    pub(crate) logon_timeout_ms: u64,
    /// Per-session rate limits.
    pub(crate) throttle: ThrottleSection,
}

impl Default for FixSection {
    fn default() -> Self {
        FixSection {
            heartbeat_seconds_min: 5,
            heartbeat_seconds_max: 120,
            message_size_max: 8_192,
            sessions_max: 1_024,
            outbound_queue_capacity: 4_096,
            resend_messages_max: 1_000_000,
            logon_failure_delay_ms: 1_000,
            logon_timeout_ms: 10_000,
            throttle: ThrottleSection::default(),
        }
    }
}

/// `[fix.throttle]`: a token bucket per session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct ThrottleSection {
    /// New orders and modifies per second.
    pub(crate) orders_per_second: u32,
    /// Cancels (single and mass) per second.
    pub(crate) cancels_per_second: u32,
}

impl Default for ThrottleSection {
    fn default() -> Self {
        ThrottleSection { orders_per_second: 500, cancels_per_second: 1_000 }
    }
}

/// `[admin]`: the operators' port. Without this section the server opens no admin port.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AdminSection {
    /// The admin listen address; loopback only.
    pub(crate) listen: SocketAddr,
    /// The token `birzha admin` must present.
    pub(crate) token: String,
}

/// One `[[instruments]]` entry.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InstrumentEntry {
    /// The unique symbol, e.g. `BUT82-FCA-USD`.
    pub(crate) symbol: String,
    /// The commodity and delivery basis, for people.
    pub(crate) description: String,
    /// The unit a price is quoted per: `t`, `m3`, `kg`.
    pub(crate) unit: String,
    /// Units per lot.
    pub(crate) lot_size: ExactDecimal,
    /// The price increment.
    pub(crate) tick: ExactDecimal,
    /// The ISO 4217 code of prices and deposits.
    pub(crate) currency: String,
    /// The previous close: the band's centre until the first trade.
    pub(crate) reference_price: ExactDecimal,
    /// Half the band's width, in percent of the reference price.
    pub(crate) band_percent: ExactDecimal,
    /// An absolute lowest price.
    #[serde(default)]
    pub(crate) price_floor: Option<ExactDecimal>,
    /// An absolute highest price.
    #[serde(default)]
    pub(crate) price_cap: Option<ExactDecimal>,
    /// The largest order, in lots.
    #[serde(default = "default_max_order_lots")]
    pub(crate) max_order_lots: u32,
    /// The most orders resting in the book at once; storage is allocated up front.
    #[serde(default = "default_orders_max")]
    pub(crate) orders_max: u32,
    /// Share of an order's notional reserved from the firm's deposit.
    #[serde(default = "default_deposit_ratio")]
    pub(crate) deposit_ratio: ExactDecimal,
}

fn default_max_order_lots() -> u32 {
    1_000
}

fn default_orders_max() -> u32 {
    65_536
}

fn default_deposit_ratio() -> ExactDecimal {
    ExactDecimal(rust_decimal::Decimal::new(5, 2))
}

/// One `[[firms]]` entry.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FirmEntry {
    /// The firm's unique code, e.g. `FIRM-A`.
    pub(crate) code: String,
    /// Its name, for operators.
    pub(crate) name: String,
    /// The initial exchange deposit per currency code.
    #[serde(default)]
    pub(crate) deposits: BTreeMap<String, ExactDecimal>,
    /// Whether the firm starts suspended (cancels only).
    #[serde(default)]
    pub(crate) suspended: bool,
}

/// One `[[traders]]` entry.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TraderEntry {
    /// The trader's unique code, also its FIX SenderCompID.
    pub(crate) code: String,
    /// The code of the trader's firm.
    pub(crate) firm: String,
    /// The argon2 PHC hash of the trader's password (`birzha passwd` makes one).
    pub(crate) password_hash: String,
    /// Self-trade prevention for orders that name no mode.
    #[serde(default)]
    pub(crate) self_match: SelfMatchSetting,
    /// What is cancelled when the trader's session drops.
    #[serde(default)]
    pub(crate) cancel_on_disconnect: CancelOnDisconnectSetting,
}

/// `traders[].self_match`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum SelfMatchSetting {
    /// Cancel the resting order.
    #[default]
    CancelResting,
    /// Cancel the incoming order's remainder.
    CancelIncoming,
    /// Cancel both.
    CancelBoth,
    /// Reduce both by the smaller remainder, without a trade.
    Decrement,
}

impl From<SelfMatchSetting> for SelfMatchMode {
    fn from(setting: SelfMatchSetting) -> SelfMatchMode {
        match setting {
            SelfMatchSetting::CancelResting => SelfMatchMode::CancelResting,
            SelfMatchSetting::CancelIncoming => SelfMatchMode::CancelIncoming,
            SelfMatchSetting::CancelBoth => SelfMatchMode::CancelBoth,
            SelfMatchSetting::Decrement => SelfMatchMode::Decrement,
        }
    }
}

/// `traders[].cancel_on_disconnect`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum CancelOnDisconnectSetting {
    /// Cancel Day orders.
    #[default]
    Day,
    /// Cancel every order.
    All,
    /// Cancel nothing.
    None,
}

impl From<CancelOnDisconnectSetting> for CancelOnDisconnect {
    fn from(setting: CancelOnDisconnectSetting) -> CancelOnDisconnect {
        match setting {
            CancelOnDisconnectSetting::Day => CancelOnDisconnect::Day,
            CancelOnDisconnectSetting::All => CancelOnDisconnect::All,
            CancelOnDisconnectSetting::None => CancelOnDisconnect::None,
        }
    }
}
