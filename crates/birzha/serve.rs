//! `birzha serve`: the exchange server. Recovers the engine from the data directory, starts
//! the exchange application, the FIX acceptor and the admin port, and on SIGINT or SIGTERM
//! shuts down in order: stop accepting and log every session out, close the admin port, stop
//! the engine (which writes a final snapshot), and let the dispatcher deliver the last reports.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use birzha_engine::{Engine, RecoveryReport, Registry};
use birzha_fix::session::{Durability as StoreDurability, FileStoreConfig};
use birzha_gateway::exchange::{Dispatching, ExchangeOptions, Login, Watermarks};
use birzha_gateway::{Sessions, StoreConfig};
use tracing::{info, warn};

use crate::commands::ServedConfig;
use crate::config::{self, Config};

/// Capacity of the engine → dispatcher channel, in batches.
const OUTPUT_BATCHES_MAX: usize = 4096;

/// Runs the server until a shutdown signal.
///
/// # Errors
/// Returns an error if the data directory, the engine's recovery, the listen address or the
/// log subscriber fails.
pub(crate) fn run(served: ServedConfig) -> anyhow::Result<()> {
    let _log = crate::logging::init(served.config.server.log_format)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("gateway")
        .build()
        .context("cannot start the async runtime")?;
    let served = runtime.block_on(serve(served));
    if let Err(error) = &served {
        // Also on standard error (main); here so that a log collector sees why it stopped.
        tracing::error!(error = format!("{error:#}"), "birzha stopped on an error");
    }
    served
}

async fn serve(served: ServedConfig) -> anyhow::Result<()> {
    let ServedConfig { config, registry, origin } = served;
    warn_demo(&config);
    let registry = Arc::new(registry);
    let data_dir = config.server.data_dir.clone();
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
    let _lock = lock_data_dir(&data_dir)?;
    let shards = registry.config.shards;
    let watermarks = Watermarks::open(&data_dir.join("gateway").join("watermarks"), shards)
        .context("cannot open the delivery watermarks")?;
    let (outputs, outputs_received) = crossbeam::channel::bounded(OUTPUT_BATCHES_MAX);
    if registry.config.durability == birzha_engine::journal::Durability::None {
        warn!(
            "durability = none: acknowledged orders can be lost on a power failure (benchmarks only)"
        );
    }
    // The dispatcher runs before the engine starts: the engine's recovery sends what it
    // replays for delivery before it returns, which may be more than the channel holds.
    let resend_after = watermarks.values().to_vec();
    let gateway = gateway_config(&config);
    let sessions = Sessions::new(&gateway);
    let options = exchange_options(&config);
    let dispatching = Dispatching::start(
        &registry,
        &sessions,
        outputs_received,
        watermarks,
        options.commands_max,
    )
    .context("cannot start the dispatcher")?;
    let (engine, reports) = Engine::start(Arc::clone(&registry), &data_dir, outputs, &resend_after)
        .context("the engine could not recover")?;
    log_recovery(&reports);
    let running =
        dispatching.with_engine(Arc::clone(&registry), engine.handle(), sessions.clone(), options);
    let listen = config.server.listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let admin = crate::admin::start(&config, engine.handle(), sessions.clone()).await?;
    log_start(&config, &registry, &origin);
    birzha_gateway::run(
        listener,
        gateway,
        Arc::clone(&running.exchange),
        sessions,
        shutdown_signal(),
    )
    .await
    .context("the FIX gateway failed")?;
    if let Some(admin) = admin {
        admin.stop().await;
    }
    info!("gateway stopped; stopping the engine");
    drop(running.exchange);
    let stats = tokio::task::spawn_blocking(move || engine.shutdown())
        .await
        .context("the engine's shutdown panicked")?
        .context("the engine failed while shutting down")?;
    let _ = tokio::task::spawn_blocking(move || running.dispatcher.join()).await;
    for (shard, stats) in stats.iter().enumerate() {
        info!(shard, inputs = stats.inputs, seq_durable = stats.seq_durable, "shard stopped");
    }
    info!("birzha stopped");
    Ok(())
}

/// The data directory's lock file: held (an exclusive advisory lock) while the server runs,
/// so that a second server on the same directory stops at once instead of writing the same
/// journals. The operating system releases it when the process ends, however it ends.
const LOCK_FILE: &str = "LOCK";

/// Takes the data directory's lock, or fails naming the directory if another process holds
/// it.
fn lock_data_dir(data_dir: &std::path::Path) -> anyhow::Result<std::fs::File> {
    let path = data_dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open the lock file {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "the data directory {} is in use by another server (its lock file {} is held)",
            data_dir.display(),
            path.display()
        ),
        Err(std::fs::TryLockError::Error(error)) => {
            Err(error).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => info!("SIGINT: shutting down"),
                    _ = terminate.recv() => info!("SIGTERM: shutting down"),
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

fn gateway_config(config: &Config) -> birzha_gateway::GatewayConfig {
    let gateway = config.gateway_config();
    let mut settings = birzha_gateway::GatewayConfig::new(gateway.comp_id.clone());
    settings.session.heartbeat_secs_min = gateway.heartbeat_seconds.0;
    settings.session.heartbeat_secs_max = gateway.heartbeat_seconds.1;
    settings.sessions_max = gateway.sessions_max;
    settings.message_size_max = gateway.message_size_max;
    settings.outbound_queue_max = gateway.outbound_queue_capacity;
    settings.auth_backoff_base = gateway.logon_failure_delay.max(Duration::from_millis(1));
    settings.logon_timeout = gateway.logon_timeout;
    settings.store = StoreConfig::File(FileStoreConfig {
        directory: config.server.data_dir.join("fix"),
        durability: StoreDurability::None,
        messages_max: gateway.resend_messages_max,
        file_bytes_max: 1 << 30,
        write_behind: true,
    });
    settings
}

fn exchange_options(config: &Config) -> ExchangeOptions {
    let gateway = config.gateway_config();
    ExchangeOptions {
        logins: gateway
            .traders
            .iter()
            .map(|trader| Login {
                trader: trader.code.clone(),
                password_hash: trader.password_hash.clone(),
            })
            .collect(),
        orders_per_second: gateway.orders_per_second,
        cancels_per_second: gateway.cancels_per_second,
        submit_timeout: Duration::from_millis(250),
        commands_max: 65_536,
    }
}

fn warn_demo(config: &Config) {
    let demo = config.demo_traders();
    if !demo.is_empty() {
        warn!(
            traders = ?demo,
            "DEMO ACCOUNTS ACTIVE: these traders log on with the published password `{}`; \
             never run this config with real money",
            config::DEMO_PASSWORD
        );
    }
    if config.has_demo_admin_token() {
        warn!("the admin token is the published demo token: set admin.token");
    }
}

fn log_recovery(reports: &[RecoveryReport]) {
    for report in reports {
        info!(
            shard = report.shard,
            snapshot = ?report.snapshot,
            snapshots_skipped = report.snapshots_skipped,
            replayed = report.replayed,
            torn_tail = ?report.torn_tail,
            seq_last = report.seq_last,
            orders_working = report.orders_working,
            millis = report.duration.as_millis() as u64,
            "shard recovered"
        );
    }
}

fn log_start(config: &Config, registry: &Registry, origin: &str) {
    let mut shards = vec![Vec::new(); registry.config.shards];
    for (index, instrument) in registry.instruments.iter().enumerate() {
        let shard = registry.shard_of(birzha_engine::InstrumentId(index as u32));
        shards[shard].push(instrument.symbol().to_owned());
    }
    info!(
        version = env!("CARGO_PKG_VERSION"),
        config = origin,
        listen = %config.server.listen,
        data_dir = %config.server.data_dir.display(),
        durability = ?registry.config.durability,
        instruments_per_shard = ?shards,
        traders = registry.config.traders.len(),
        "birzha started"
    );
}
