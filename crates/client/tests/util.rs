//! Shared helpers: a real exchange in-process (engine on a temporary directory, the exchange
//! application, the FIX acceptor on 127.0.0.1:0), and waiting for events.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use argon2::PasswordHasher;
use birzha_book::{InstrumentSpec, SelfMatchMode};
use birzha_client::{Client, ClientConfig, Event, Events};
use birzha_engine::journal::Durability;
use birzha_engine::{
    CancelOnDisconnect, Engine, EngineConfig, FirmConfig, InstrumentConfig, Registry, TraderConfig,
};
use birzha_gateway::exchange::{Exchange, ExchangeOptions, Login, Watermarks};
use birzha_gateway::{GatewayConfig, Sessions};
use rust_decimal::Decimal;
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub(crate) const BUTTER: &str = "BUT82-FCA-USD";
pub(crate) const MILK: &str = "MILK-RAW-BYN";

fn instrument(symbol: &str, currency: &str, tick: &str, reference: &str) -> InstrumentConfig {
    InstrumentConfig {
        spec: InstrumentSpec {
            symbol: symbol.into(),
            description: format!("{symbol} for tests"),
            unit: "t".into(),
            currency: currency.into(),
            lot_size: Decimal::from(5),
            tick: tick.parse().expect("decimal"),
            reference_price: reference.parse().expect("decimal"),
            band_percent: Decimal::from(10),
            price_floor: None,
            price_cap: None,
            max_order_lots: 1000,
            orders_max: 1024,
        },
        deposit_ratio: "0.05".parse().expect("decimal"),
    }
}

/// Two instruments; FIRM-A with TRADER1 and TRADER2, FIRM-B with TRADER3.
fn engine_config() -> EngineConfig {
    let firm = |code: &str| FirmConfig {
        code: code.into(),
        name: code.into(),
        deposits: [("USD", "1000000000000"), ("BYN", "1000000000000")]
            .iter()
            .map(|(c, a)| (c.to_string(), a.parse().expect("decimal")))
            .collect::<BTreeMap<_, _>>(),
        suspended: false,
    };
    let trader = |code: &str, firm: &str| TraderConfig {
        code: code.into(),
        firm: firm.into(),
        self_match: SelfMatchMode::CancelResting,
        cancel_on_disconnect: CancelOnDisconnect::Day,
    };
    EngineConfig {
        instruments: vec![
            instrument(BUTTER, "USD", "1", "6800"),
            instrument(MILK, "BYN", "0.01", "0.95"),
        ],
        firms: vec![firm("FIRM-A"), firm("FIRM-B")],
        traders: vec![
            trader("TRADER1", "FIRM-A"),
            trader("TRADER2", "FIRM-A"),
            trader("TRADER3", "FIRM-B"),
        ],
        shards: 2,
        durability: Durability::None,
        snapshot_every_inputs: 100_000,
        input_queue_capacity: 1024,
        batch_inputs_max: 256,
        journal_segment_bytes: birzha_engine::JOURNAL_SEGMENT_BYTES_DEFAULT,
        phases: birzha_engine::PhaseConfig::default(),
    }
}

/// An argon2 hash of "demo" with small parameters, so tests stay fast.
fn demo_hash() -> String {
    let params = argon2::Params::new(64, 1, 1, None).expect("params");
    let argon2 = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    argon2.hash_password(b"demo").expect("hash").to_string()
}

/// A running exchange on a temporary data directory.
pub(crate) struct Running {
    pub(crate) address: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
    engine: Option<Engine>,
    dispatcher: Option<std::thread::JoinHandle<()>>,
    _dir: TempDir,
}

/// Starts the exchange with in-memory session stores.
pub(crate) async fn start() -> Running {
    let dir = tempfile::tempdir().expect("temp dir");
    let registry: Arc<Registry> = Arc::new(engine_config().validate().expect("valid config"));
    let watermarks = Watermarks::open(&dir.path().join("gateway/watermarks"), 2).expect("marks");
    let (outputs, received) = crossbeam::channel::bounded(1024);
    let (engine, _) =
        Engine::start(Arc::clone(&registry), dir.path(), outputs, watermarks.values())
            .expect("engine");
    let mut config = GatewayConfig::new("BIRZHA");
    config.auth_backoff_base = Duration::from_millis(1);
    let sessions = Sessions::new(&config);
    let hash = demo_hash();
    let logins = ["TRADER1", "TRADER2", "TRADER3"]
        .iter()
        .map(|code| Login { trader: code.to_string(), password_hash: hash.clone() })
        .collect();
    let options = ExchangeOptions {
        logins,
        orders_per_second: 1000,
        cancels_per_second: 1000,
        submit_timeout: Duration::from_millis(250),
        commands_max: 1024,
    };
    let running =
        Exchange::start(registry, engine.handle(), sessions.clone(), received, watermarks, options)
            .expect("exchange");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let (stop, stopped) = oneshot::channel::<()>();
    let exchange = running.exchange;
    let server = tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        birzha_gateway::run(listener, config, exchange, sessions, shutdown)
            .await
            .expect("acceptor");
    });
    Running {
        address,
        stop: Some(stop),
        server: Some(server),
        engine: Some(engine),
        dispatcher: Some(running.dispatcher),
        _dir: dir,
    }
}

impl Running {
    /// Stops the acceptor, then the engine and the dispatcher.
    pub(crate) async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        let engine = self.engine.take().expect("running");
        let dispatcher = self.dispatcher.take().expect("running");
        tokio::task::spawn_blocking(move || {
            engine.shutdown().expect("engine stops");
            dispatcher.join().expect("dispatcher stops");
        })
        .await
        .expect("shutdown");
    }

    /// Logs `trader` on with password `demo` and default settings.
    pub(crate) async fn trader(&self, trader: &str) -> (Client, Events) {
        Client::connect(self.address, ClientConfig::new(trader, "demo")).await.expect("logon")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(server) = &self.server {
            server.abort();
        }
    }
}

/// Reads events until one satisfies `wanted`; panics after 5 s or at the end of the session.
pub(crate) async fn expect<T>(
    events: &mut Events,
    what: &str,
    wanted: impl Fn(&Event) -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .unwrap_or_else(|_| panic!("no {what} within 5 s"))
            .unwrap_or_else(|| panic!("the session ended while waiting for {what}"));
        if let Event::SessionReject(reject) | Event::BusinessReject(reject) = &event {
            panic!("the exchange refused a message while waiting for {what}: {reject:?}");
        }
        if let Some(found) = wanted(&event) {
            return found;
        }
    }
}
