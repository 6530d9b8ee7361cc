//! Test support: a real exchange in-process on 127.0.0.1:0 (engine on a temporary directory
//! without fsync, the exchange application, the FIX acceptor), built from a [`Config`] the way
//! `birzha serve` builds it, so the tools are tested against what they will meet.

use std::sync::Arc;
use std::time::Duration;

use birzha_engine::Engine;
use birzha_gateway::exchange::{Exchange, ExchangeOptions, Login, Watermarks};
use birzha_gateway::{GatewayConfig, Sessions};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::Config;

/// A running exchange.
pub(crate) struct TestExchange {
    /// Where it listens.
    pub(crate) address: std::net::SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
    engine: Option<Engine>,
    dispatcher: Option<std::thread::JoinHandle<()>>,
    _dir: TempDir,
}

impl TestExchange {
    /// Starts an exchange on the config `toml` (durability and volatility interruptions
    /// forced off: load tests send prices across the band).
    pub(crate) async fn start(toml: &str) -> TestExchange {
        let toml = toml
            .replace("durability = \"fsync\"", "durability = \"none\"")
            .replace("volatility_percent = \"3\"", "volatility_percent = \"0\"");
        let config = Config::from_toml(&toml, "test config").expect("a valid config");
        let registry = Arc::new(config.validate().expect("a valid config"));
        let dir = tempfile::tempdir().expect("temp dir");
        let shards = registry.config.shards;
        let watermarks =
            Watermarks::open(&dir.path().join("gateway/watermarks"), shards).expect("marks");
        let (outputs, received) = crossbeam::channel::bounded(4096);
        let (engine, _) =
            Engine::start(Arc::clone(&registry), dir.path(), outputs, watermarks.values())
                .expect("engine");
        let gateway = config.gateway_config();
        let mut settings = GatewayConfig::new(gateway.comp_id.clone());
        settings.auth_backoff_base = Duration::from_millis(1);
        let sessions = Sessions::new(&settings);
        let options = ExchangeOptions {
            logins: gateway
                .traders
                .iter()
                .map(|t| Login { trader: t.code.clone(), password_hash: t.password_hash.clone() })
                .collect(),
            orders_per_second: gateway.orders_per_second,
            cancels_per_second: gateway.cancels_per_second,
            submit_timeout: Duration::from_millis(250),
            commands_max: 65_536,
        };
        let running = Exchange::start(
            registry,
            engine.handle(),
            sessions.clone(),
            received,
            watermarks,
            options,
        )
        .expect("exchange");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let (stop, stopped) = oneshot::channel::<()>();
        let exchange = running.exchange;
        let server = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            let _ = birzha_gateway::run(listener, settings, exchange, sessions, shutdown).await;
        });
        TestExchange {
            address,
            stop: Some(stop),
            server: Some(server),
            engine: Some(engine),
            dispatcher: Some(running.dispatcher),
            _dir: dir,
        }
    }

    /// Stops the acceptor, the engine and the dispatcher.
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
}

impl Drop for TestExchange {
    fn drop(&mut self) {
        if let Some(server) = &self.server {
            server.abort();
        }
    }
}
