//! What each command does. `main` parses the command line and calls one of these; errors
//! travel up as `anyhow::Error` and `main` turns them into exit codes.

use std::fmt::Write as _;
use std::io::{self, BufRead, IsTerminal, Write};

use anyhow::{Context, bail};
use birzha_engine::Registry;

use crate::cli::{ConfigCommand, ServeArgs};
use crate::config::{self, Config, DEFAULT_ORIGIN, GatewayConfig};

/// A command that is declared on the command line but not implemented yet.
#[derive(Debug, thiserror::Error)]
#[error("`birzha {command}` is not yet available in this build")]
pub(crate) struct NotYetAvailable {
    /// The command's name.
    pub(crate) command: &'static str,
}

/// `birzha serve`: loads and validates the config, applies the flags, and reports what it would
/// serve. The engine and the gateway are wired in later.
///
/// # Errors
/// Returns the config's error (a [`config::ConfigError`]) or a failure to write the report.
pub(crate) fn serve(args: &ServeArgs) -> anyhow::Result<()> {
    let (mut config, origin) = match &args.config {
        Some(path) => (Config::load(path)?, path.display().to_string()),
        None => (Config::embedded()?, DEFAULT_ORIGIN.to_owned()),
    };
    if let Some(listen) = args.listen {
        config.server.listen = listen;
    }
    if let Some(data_dir) = &args.data_dir {
        config.server.data_dir.clone_from(data_dir);
    }
    if let Some(log_format) = args.log_format {
        config.server.log_format = log_format.into();
    }
    let registry = config.validate()?;
    warn_demo_credentials(&config);
    let mut report = format!("birzha {} would serve {origin}:\n", env!("CARGO_PKG_VERSION"));
    report.push_str(&summary(&config, &registry));
    report.push_str("(the engine and the FIX gateway are not wired into `serve` yet)\n");
    write_stdout(&report)
}

/// `birzha config default` and `birzha config check FILE`.
///
/// # Errors
/// Returns the checked file's [`config::ConfigError`] or a failure to write to stdout.
pub(crate) fn config(command: &ConfigCommand) -> anyhow::Result<()> {
    match command {
        ConfigCommand::Default => write_stdout(config::DEFAULT_TOML),
        ConfigCommand::Check { file } => {
            let config = Config::load(file)?;
            let registry = config.validate()?;
            let mut report = format!("{}: valid\n", file.display());
            report.push_str(&summary(&config, &registry));
            let demo = config.demo_traders();
            if !demo.is_empty() {
                let _ = writeln!(report, "warning: demo password for {}", demo.join(", "));
            }
            if config.has_demo_admin_token() {
                report.push_str("warning: the admin token is the demo token\n");
            }
            write_stdout(&report)
        }
    }
}

/// `birzha passwd`: reads one line from standard input and prints its argon2 hash.
///
/// # Errors
/// Returns an error when standard input is empty or unreadable, the password is empty, or
/// hashing fails.
pub(crate) fn passwd() -> anyhow::Result<()> {
    let stdin = io::stdin();
    if stdin.is_terminal() {
        eprint!("Password (shown as you type; pipe it in to hide it): ");
    }
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line).context("cannot read standard input")?;
    if read == 0 {
        bail!("no password on standard input (try: printf '%s' 'secret' | birzha passwd)");
    }
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    if password.is_empty() {
        bail!("the password is empty");
    }
    let hash = config::hash_password(password).map_err(anyhow::Error::msg)?;
    write_stdout(&format!("{hash}\n"))
}

/// The commands declared for later.
///
/// # Errors
/// Always returns [`NotYetAvailable`].
pub(crate) fn not_yet_available(command: &'static str) -> anyhow::Result<()> {
    Err(NotYetAvailable { command }.into())
}

/// Returns a few lines describing a validated config: addresses, schedule, shards, people.
fn summary(config: &Config, registry: &Registry) -> String {
    let mut text = gateway_summary(&config.gateway_config());
    let server = &config.server;
    let _ = writeln!(text, "  data dir: {}", server.data_dir.display());
    let _ = writeln!(text, "  log format: {}", server.log_format.name());
    match &config.schedule {
        Some(day) => {
            let _ = writeln!(
                text,
                "  schedule (Minsk time): pre-open {}, open {} (+ up to {} s), close {}, \
                 closing call to {}, post-close to {}",
                day.pre_open,
                day.open,
                day.random_end_seconds_max,
                day.close,
                day.closing_call_end,
                day.post_close_end,
            );
        }
        None => text.push_str("  schedule: always open\n"),
    }
    let shards = config.engine.shards;
    let _ = writeln!(text, "  {} instruments on {shards} shards:", config.instruments.len());
    for shard in 0..shards {
        let currencies: Vec<&str> = registry
            .currencies
            .iter()
            .filter(|(_, owner)| **owner == shard)
            .map(|(currency, _)| currency.as_str())
            .collect();
        let symbols: Vec<&str> = config
            .instruments
            .iter()
            .filter(|entry| registry.shard_of_currency(&entry.currency) == Some(shard))
            .map(|entry| entry.symbol.as_str())
            .collect();
        let _ = writeln!(
            text,
            "    shard {shard} ({}; {} instruments): {}",
            currencies.join(", "),
            symbols.len(),
            symbols.join(", ")
        );
    }
    text
}

/// Returns the lines about what clients see: the FIX and admin ports and who may log on.
fn gateway_summary(gateway: &GatewayConfig) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "  FIX: {} as {}; up to {} sessions, heartbeat {}-{} s, messages up to {} bytes",
        gateway.listen,
        gateway.comp_id,
        gateway.sessions_max,
        gateway.heartbeat_seconds.0,
        gateway.heartbeat_seconds.1,
        gateway.message_size_max,
    );
    let _ = writeln!(
        text,
        "  throttle per session: {} orders/s, {} cancels/s; outbound queue {}; \
         failed logons answered after {} ms",
        gateway.orders_per_second,
        gateway.cancels_per_second,
        gateway.outbound_queue_capacity,
        gateway.logon_failure_delay.as_millis(),
    );
    match &gateway.admin {
        Some(admin) => _ = writeln!(text, "  admin: {}", admin.listen),
        None => text.push_str("  admin: none\n"),
    }
    let traders: Vec<String> =
        gateway.traders.iter().map(|trader| format!("{} ({})", trader.code, trader.firm)).collect();
    let _ = writeln!(text, "  traders: {}", traders.join(", "));
    text
}

/// Warns on standard error when demo credentials are in use.
fn warn_demo_credentials(config: &Config) {
    let demo = config.demo_traders();
    if !demo.is_empty() {
        eprintln!(
            "WARNING: DEMO ACCOUNTS ACTIVE: {} log on with the password `{}`. Never run a real \
             market on this config; make hashes with `birzha passwd`.",
            demo.join(", "),
            config::DEMO_PASSWORD,
        );
    }
    if config.has_demo_admin_token() {
        eprintln!("WARNING: the admin token is the published demo token; set admin.token.");
    }
}

/// Writes `text` to standard output.
fn write_stdout(text: &str) -> anyhow::Result<()> {
    let mut stdout = io::stdout().lock();
    stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()).context("cannot write output")
}
