//! What each command does. `main` parses the command line and calls one of these; errors
//! travel up as `anyhow::Error` and `main` turns them into exit codes.

use std::fmt::Write as _;
use std::io::{self, BufRead, IsTerminal, Write};
use std::path::Path;

use anyhow::{Context, bail};
use birzha_engine::Registry;

use crate::cli::{ConfigCommand, ServeArgs};
use crate::config::{self, Config, DEFAULT_ORIGIN, GatewayConfig};

/// `birzha serve`: loads and validates the config, applies the flags, and runs the server
/// until SIGINT or SIGTERM.
///
/// # Errors
/// Returns the config's error (a [`config::ConfigError`]) or the server's.
pub(crate) fn serve(args: &ServeArgs) -> anyhow::Result<()> {
    let served = ServedConfig::load(args)?;
    crate::serve::run(served)
}

/// The config `serve` runs on: the file or the embedded default, with the flags applied.
#[derive(Debug)]
pub(crate) struct ServedConfig {
    /// The validated config, flags applied.
    pub(crate) config: Config,
    /// The engine's registry of it.
    pub(crate) registry: Registry,
    /// The file name, or [`DEFAULT_ORIGIN`].
    pub(crate) origin: String,
}

impl ServedConfig {
    /// Loads the config `--config` names (else the embedded default), applies `--listen`,
    /// `--data-dir`, `--log-format` and `--admin-listen`, and validates the result.
    ///
    /// # Errors
    /// Returns the [`config::ConfigError`] of an unreadable or invalid config.
    pub(crate) fn load(args: &ServeArgs) -> Result<ServedConfig, config::ConfigError> {
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
        if let Some(listen) = args.admin_listen {
            let Some(admin) = config.admin.as_mut() else {
                return Err(config::ConfigError::invalid(
                    "--admin-listen",
                    listen,
                    "a config with an [admin] section (it holds the token)",
                ));
            };
            admin.listen = listen;
        }
        let registry = config.validate()?;
        Ok(ServedConfig { config, registry, origin })
    }
}

/// `birzha config default` and `birzha config check FILE`.
///
/// # Errors
/// Returns the checked file's [`config::ConfigError`] or a failure to write to stdout.
pub(crate) fn config(command: &ConfigCommand) -> anyhow::Result<()> {
    match command {
        ConfigCommand::Default => write_stdout(config::DEFAULT_TOML),
        ConfigCommand::Check { file } => write_stdout(&check_report(file)?),
    }
}

/// Returns the report of `birzha config check`: the summary and any demo credentials.
fn check_report(file: &Path) -> Result<String, config::ConfigError> {
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
    Ok(report)
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
    let hash = config::hash_password(password_of_line(&line)?).map_err(anyhow::Error::msg)?;
    write_stdout(&format!("{hash}\n"))
}

/// Returns the password on `line`, without its line ending.
fn password_of_line(line: &str) -> anyhow::Result<&str> {
    let password = line.strip_suffix('\n').unwrap_or(line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    if password.is_empty() {
        bail!("the password is empty");
    }
    Ok(password)
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
         resends keep {} messages per trader; \
         Logons after a refused one delayed {} ms (doubling, up to 10 s)",
        gateway.orders_per_second,
        gateway.cancels_per_second,
        gateway.outbound_queue_capacity,
        gateway.resend_messages_max,
        gateway.logon_failure_delay.max(std::time::Duration::from_millis(1)).as_millis(),
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

/// Writes `text` to standard output.
fn write_stdout(text: &str) -> anyhow::Result<()> {
    let mut stdout = io::stdout().lock();
    stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()).context("cannot write output")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::LogFormatArg;
    use crate::config::LogFormat;

    fn serve_args() -> ServeArgs {
        ServeArgs {
            config: None,
            listen: None,
            data_dir: None,
            log_format: None,
            admin_listen: None,
        }
    }

    #[test]
    fn serve_flags_override_the_config() {
        let served = ServedConfig::load(&serve_args()).expect("the default config loads");
        assert_eq!(served.origin, DEFAULT_ORIGIN);
        assert_eq!(served.config.server.listen.to_string(), "127.0.0.1:9878");
        assert_eq!(served.config.server.log_format, LogFormat::Auto);
        let args = ServeArgs {
            config: Some("config/buce-day.toml".into()),
            listen: Some(([127, 0, 0, 1], 0).into()),
            data_dir: Some("/tmp/birzha-data".into()),
            log_format: Some(LogFormatArg::Pretty),
            admin_listen: Some(([127, 0, 0, 2], 0).into()),
        };
        let served = ServedConfig::load(&args).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(served.origin, "config/buce-day.toml");
        assert!(served.config.schedule.is_some());
        assert_eq!(served.config.server.listen.to_string(), "127.0.0.1:0");
        assert_eq!(served.config.server.data_dir, Path::new("/tmp/birzha-data"));
        assert_eq!(served.config.server.log_format, LogFormat::Pretty);
        let admin = served.config.admin.as_ref().expect("the day config opens an admin port");
        assert_eq!(admin.listen.to_string(), "127.0.0.2:0");
        assert_eq!(served.registry.instruments.len(), 14);
    }

    #[test]
    fn the_admin_listen_flag_must_stay_on_loopback() {
        let args = ServeArgs { admin_listen: Some(([0, 0, 0, 0], 9879).into()), ..serve_args() };
        let error = ServedConfig::load(&args).expect_err("not loopback");
        assert!(error.to_string().starts_with("admin.listen = \"0.0.0.0:9879\" is not allowed"));
    }

    #[test]
    fn a_missing_config_file_fails_serve() {
        let args = ServeArgs { config: Some("/nonexistent.toml".into()), ..serve_args() };
        let error = ServedConfig::load(&args).expect_err("missing");
        assert_eq!(error.to_string(), "cannot read config file /nonexistent.toml");
    }

    #[test]
    fn the_check_report_shows_shards_people_and_demo_warnings() {
        let report = check_report(Path::new("config/buce-day.toml")).expect("valid");
        let lines: Vec<&str> = report.lines().collect();
        assert_eq!(lines[0], "config/buce-day.toml: valid");
        assert!(lines.contains(&"  admin: 127.0.0.1:9879"), "{report}");
        assert!(
            report.contains("  schedule (Minsk time): pre-open 10:45, open 11:00 (+ up to 30 s)")
        );
        assert!(
            report.contains("    shard 1 (CNY, RUB; 4 instruments): BUT82-FCA-CNY,"),
            "{report}"
        );
        assert!(report.contains("    shard 0 (BYN, EUR, USD; 10 instruments): BUT82-FCA-USD,"));
        assert!(report.contains("  traders: TRADER1 (FIRM-A), TRADER2 (FIRM-A), TRADER3 (FIRM-B)"));
        assert!(report.contains("warning: demo password for TRADER1, TRADER2, TRADER3, TRADER4\n"));
        assert!(report.ends_with("warning: the admin token is the demo token\n"));
    }

    #[test]
    fn passwd_takes_the_line_without_its_ending() {
        assert_eq!(password_of_line("s3cret\n").expect("valid"), "s3cret");
        assert_eq!(password_of_line("s3cret\r\n").expect("valid"), "s3cret");
        assert_eq!(password_of_line("with space").expect("valid"), "with space");
        assert!(password_of_line("\n").is_err());
        assert!(password_of_line("").is_err());
    }
}
