//! Gateway settings.

use std::time::Duration;

use birzha_fix::session::{FileStoreConfig, SessionConfig};

/// Where session stores live.
#[derive(Debug, Clone)]
pub enum StoreConfig {
    /// In memory: sequence numbers restart at 1 when the process restarts.
    Memory {
        /// The most outbound messages kept per counterparty for resends.
        messages_max: usize,
    },
    /// One append-only file per counterparty CompID.
    File(FileStoreConfig),
}

/// Settings of the acceptor. Every resource it uses is bounded by one of these.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Session-layer settings (our CompID, heartbeat bounds, tolerances).
    pub session: SessionConfig,
    /// Session stores.
    pub store: StoreConfig,
    /// The most connections served at once, logged on or not; a connection accepted beyond it
    /// is closed at once and the refusal logged (at most one line a second).
    pub sessions_max: usize,
    /// The largest message accepted, in bytes; a peer that exceeds it is disconnected.
    pub message_size_max: usize,
    /// The capacity of each session's outbound queue; a session whose queue fills is a slow
    /// reader and is disconnected (its messages stay in its store for resend).
    pub outbound_queue_max: usize,
    /// The longest one batch of outbound bytes may take to be written; a peer that reads
    /// slower is disconnected as a slow reader. It catches a peer that stops reading while
    /// nothing goes through its outbound queue (a large resend, heartbeats).
    pub write_timeout: Duration,
    /// How long a new connection has to send its Logon; an idle or trickling connection holds
    /// one of `sessions_max` places at most this long.
    pub logon_timeout: Duration,
    /// The first delay imposed on an address after a refused Logon; it doubles with every
    /// further refusal.
    pub auth_backoff_base: Duration,
    /// The longest such delay.
    pub auth_backoff_max: Duration,
    /// The most Logons answered at once, each on a thread of tokio's blocking pool: it
    /// bounds the CPU and memory that authentication (argon2) takes from logged-on sessions.
    pub logons_concurrent_max: usize,
    /// How long shutdown waits for sessions to finish their Logout exchange.
    pub shutdown_grace: Duration,
}

impl GatewayConfig {
    /// Birzha defaults for an acceptor whose CompID is `local_comp_id`, with in-memory stores.
    pub fn new(local_comp_id: impl Into<String>) -> Self {
        Self {
            session: SessionConfig::new(local_comp_id),
            store: StoreConfig::Memory { messages_max: 100_000 },
            sessions_max: 1024,
            message_size_max: 16 * 1024,
            outbound_queue_max: 4096,
            logon_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(30),
            auth_backoff_base: Duration::from_millis(100),
            auth_backoff_max: Duration::from_secs(10),
            logons_concurrent_max: 2,
            shutdown_grace: Duration::from_secs(5),
        }
    }
}
