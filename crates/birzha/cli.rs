//! The command line, declared with clap's derive API: `birzha <command> [options]`.
//!
//! `serve`, `config default`, `config check`, `passwd`, `trade` and `load` work today. `admin`
//! and `journal` are declared so the interface is stable and `--help` lists them, but they
//! accept any arguments and report that they are not yet available.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::LogFormat;

/// Birzha: a FIX 4.4 trade-matching engine for a commodity exchange.
#[derive(Debug, Parser)]
#[command(name = "birzha", version, propagate_version = true)]
pub(crate) struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the exchange server (default: the embedded demo config).
    Serve(ServeArgs),
    /// Print the default config, or check a config file.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Read a password from standard input and print its argon2 hash for `password_hash`.
    Passwd,
    /// Trade over FIX as one trader: one command, or interactive without one.
    Trade(crate::trade::TradeArgs),
    /// Generate FIX load and report throughput and latency.
    Load(crate::load::LoadArgs),
    /// Operate a running server over its admin port (not yet available).
    Admin(Placeholder),
    /// Inspect or verify journal and snapshot files (not yet available).
    Journal(Placeholder),
}

impl Command {
    /// Returns the command's name as typed.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Command::Serve(_) => "serve",
            Command::Config(_) => "config",
            Command::Passwd => "passwd",
            Command::Trade(_) => "trade",
            Command::Load(_) => "load",
            Command::Admin(_) => "admin",
            Command::Journal(_) => "journal",
        }
    }
}

/// `birzha serve`: flags override the config's `[server]` keys.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// The config file; without it the embedded default config is used.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// The FIX listen address [config: server.listen, default 127.0.0.1:9878].
    #[arg(long, value_name = "ADDR")]
    pub(crate) listen: Option<SocketAddr>,
    /// The directory of journals and snapshots [config: server.data_dir, default ./data].
    #[arg(long, value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    /// How logs are written [config: server.log_format; default: pretty on a terminal,
    /// JSON lines otherwise].
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub(crate) log_format: Option<LogFormatArg>,
}

/// The log formats one may force on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogFormatArg {
    /// One JSON object per line.
    Json,
    /// Human-readable lines.
    Pretty,
}

impl From<LogFormatArg> for LogFormat {
    fn from(format: LogFormatArg) -> LogFormat {
        match format {
            LogFormatArg::Json => LogFormat::Json,
            LogFormatArg::Pretty => LogFormat::Pretty,
        }
    }
}

/// `birzha config …`.
#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Print the embedded default config (a starting point for your own).
    Default,
    /// Validate a config file and summarise it: instruments per shard, firms, traders.
    Check {
        /// The config file.
        file: PathBuf,
    },
}

/// The arguments of a command that is declared but not yet available: anything is accepted.
#[derive(Debug, Args)]
pub(crate) struct Placeholder {
    /// Arguments for the future command.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    pub(crate) args: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("birzha").chain(args.iter().copied()))
    }

    #[test]
    fn the_declaration_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_takes_its_four_flags() {
        let cli = parse(&[
            "serve",
            "--config",
            "config/buce-day.toml",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            "/tmp/birzha",
            "--log-format",
            "json",
        ])
        .expect("valid");
        let Command::Serve(args) = cli.command else { panic!("not serve: {cli:?}") };
        assert_eq!(args.config, Some(PathBuf::from("config/buce-day.toml")));
        assert_eq!(args.listen, Some(SocketAddr::from(([127, 0, 0, 1], 0))));
        assert_eq!(args.data_dir, Some(PathBuf::from("/tmp/birzha")));
        assert_eq!(args.log_format, Some(LogFormatArg::Json));
        let Command::Serve(bare) = parse(&["serve"]).expect("valid").command else {
            panic!("not serve")
        };
        assert!(bare.config.is_none() && bare.listen.is_none() && bare.log_format.is_none());
    }

    #[test]
    fn bad_flags_are_usage_errors() {
        for args in [
            &["serve", "--log-format", "auto"][..],
            &["serve", "--listen", "localhost"],
            &["serve", "--bogus"],
            &["config", "check"],
            &["config"],
            &[],
        ] {
            assert!(parse(args).is_err(), "{args:?} must be refused");
        }
    }

    #[test]
    fn config_subcommands_parse() {
        let cli = parse(&["config", "check", "my.toml"]).expect("valid");
        assert!(matches!(
            cli.command,
            Command::Config(ConfigCommand::Check { file }) if file.as_os_str() == "my.toml"
        ));
        let cli = parse(&["config", "default"]).expect("valid");
        assert!(matches!(cli.command, Command::Config(ConfigCommand::Default)));
        assert!(matches!(parse(&["passwd"]).expect("valid").command, Command::Passwd));
    }

    #[test]
    fn placeholders_accept_any_arguments() {
        for name in ["admin", "journal"] {
            assert_eq!(parse(&[name, "-x"]).expect("valid").command.name(), name);
        }
    }

    #[test]
    fn trade_takes_the_trader_and_a_command() {
        let cli = parse(&[
            "trade",
            "--user",
            "TRADER1",
            "--password",
            "demo",
            "buy",
            "BUT82-FCA-USD",
            "3",
            "@",
            "6800",
            "--tif",
            "ioc",
        ])
        .expect("valid");
        let Command::Trade(args) = &cli.command else { panic!("not trade") };
        assert_eq!(args.user, "TRADER1");
        assert_eq!(args.server.to_string(), "127.0.0.1:9878");
        assert!(matches!(args.command, Some(crate::trade::TradeCommand::Buy(_))));
        let Command::Trade(args) = parse(&["trade", "-u", "T", "-p", "x"]).expect("valid").command
        else {
            panic!("not trade")
        };
        assert!(args.command.is_none(), "no command: interactive");
        assert!(parse(&["trade", "buy", "X", "1", "2"]).is_err(), "--user is required");
    }
}
