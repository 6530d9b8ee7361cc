//! The command line, declared with clap's derive API: `birzha <command> [options]`.
//!
//! `serve`, `config default`, `config check`, `passwd`, `trade`, `load`, `admin` and `journal`.

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
    /// Operate a running server over its admin port.
    Admin(AdminArgs),
    /// Print or check the journal and snapshot files of a data directory.
    #[command(subcommand)]
    Journal(JournalCommand),
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
    /// The admin port's address, loopback only [config: admin.listen, default
    /// 127.0.0.1:9879]; the config must have an [admin] section.
    #[arg(long, value_name = "ADDR")]
    pub(crate) admin_listen: Option<SocketAddr>,
}

/// `birzha admin`: the address and token come from the config unless given.
#[derive(Debug, Args)]
pub(crate) struct AdminArgs {
    /// The config whose [admin] section names the port and token; without it, the embedded
    /// default config.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// The admin port's address [config: admin.listen].
    #[arg(long, value_name = "ADDR")]
    pub(crate) address: Option<SocketAddr>,
    /// The admin token [env: BIRZHA_ADMIN_TOKEN; config: admin.token]. Prefer the variable:
    /// a command line is visible to other users of the machine.
    #[arg(long, value_name = "TOKEN")]
    pub(crate) token: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: AdminCommand,
}

/// The admin commands; each becomes one engine input (except `stats`).
#[derive(Debug, Subcommand)]
pub(crate) enum AdminCommand {
    /// Halt an instrument: only cancels are accepted until `resume`.
    Halt {
        /// The instrument's symbol.
        symbol: String,
    },
    /// Resume a halted instrument.
    Resume {
        /// The instrument's symbol.
        symbol: String,
    },
    /// Move an instrument to a phase: Closed, PreOpen, Continuous, VolatilityAuction,
    /// ClosingCall, PostClose or Halted.
    Phase {
        /// The instrument's symbol.
        symbol: String,
        /// The phase.
        phase: String,
    },
    /// Credit a firm's deposit; a negative amount debits it.
    Deposit {
        /// The firm's code.
        firm: String,
        /// The currency's ISO code.
        currency: String,
        /// The amount in currency units, e.g. 250000 or -1000.50 (at most 6 decimals).
        #[arg(allow_negative_numbers = true)]
        amount: String,
    },
    /// Suspend a firm: its traders may only cancel.
    Suspend {
        /// The firm's code.
        firm: String,
    },
    /// Reinstate a suspended firm.
    Reinstate {
        /// The firm's code.
        firm: String,
    },
    /// Cancel every order of an instrument, or of every instrument.
    CancelAll {
        /// The instrument's symbol; without it, every instrument.
        symbol: Option<String>,
    },
    /// Show the server's journal positions, queues and sessions.
    Stats,
}

impl AdminCommand {
    /// Returns the command as the words of a request line (after the token).
    pub(crate) fn words(&self) -> Vec<&str> {
        match self {
            AdminCommand::Halt { symbol } => vec!["halt", symbol],
            AdminCommand::Resume { symbol } => vec!["resume", symbol],
            AdminCommand::Phase { symbol, phase } => vec!["phase", symbol, phase],
            AdminCommand::Deposit { firm, currency, amount } => {
                vec!["deposit", firm, currency, amount]
            }
            AdminCommand::Suspend { firm } => vec!["suspend", firm],
            AdminCommand::Reinstate { firm } => vec!["reinstate", firm],
            AdminCommand::CancelAll { symbol: Some(symbol) } => vec!["cancel-all", symbol],
            AdminCommand::CancelAll { symbol: None } => vec!["cancel-all"],
            AdminCommand::Stats => vec!["stats"],
        }
    }
}

/// `birzha journal …`: read-only tools over a data directory (`shard-N/journal`,
/// `shard-N/snapshots`).
#[derive(Debug, Subcommand)]
pub(crate) enum JournalCommand {
    /// Print the snapshots and every journal record: sequence number, time, kind, input.
    Inspect {
        /// The data directory (server.data_dir).
        dir: PathBuf,
        /// Only this shard.
        #[arg(long, value_name = "N")]
        shard: Option<usize>,
        /// Only records from this sequence number on.
        #[arg(long, value_name = "SEQ")]
        from: Option<u64>,
        /// The server's config: records then also name their instrument, trader and firm
        /// (the journal holds only their ids, positions in the config's lists).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Check every snapshot and journal record; exit 1 if anything is damaged.
    Verify {
        /// The data directory (server.data_dir).
        dir: PathBuf,
    },
}

/// The log formats one may force on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogFormatArg {
    /// Pretty on a terminal, JSON lines otherwise (overrides a config's json or pretty).
    Auto,
    /// One JSON object per line.
    Json,
    /// Human-readable lines.
    Pretty,
}

impl From<LogFormatArg> for LogFormat {
    fn from(format: LogFormatArg) -> LogFormat {
        match format {
            LogFormatArg::Auto => LogFormat::Auto,
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
        // Regression (a review of 2026-11-29): `auto`, which operations.md offers, was refused.
        let Command::Serve(auto) =
            parse(&["serve", "--log-format", "auto"]).expect("valid").command
        else {
            panic!("not serve")
        };
        assert_eq!(auto.log_format, Some(LogFormatArg::Auto));
    }

    #[test]
    fn bad_flags_are_usage_errors() {
        for args in [
            &["serve", "--log-format", "xml"][..],
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
    fn admin_commands_parse_into_request_words() {
        let cli =
            parse(&["admin", "--address", "127.0.0.1:9879", "deposit", "FIRM-A", "USD", "-5"])
                .expect("valid");
        let Command::Admin(args) = cli.command else { panic!("not admin") };
        assert_eq!(args.address, Some(SocketAddr::from(([127, 0, 0, 1], 9879))));
        assert_eq!(args.command.words(), ["deposit", "FIRM-A", "USD", "-5"]);
        let cli = parse(&["admin", "cancel-all"]).expect("valid");
        let Command::Admin(args) = cli.command else { panic!("not admin") };
        assert_eq!(args.command.words(), ["cancel-all"]);
        assert!(parse(&["admin"]).is_err(), "a command is required");
        assert!(parse(&["admin", "halt"]).is_err(), "halt needs a symbol");
        assert!(parse(&["admin", "reboot"]).is_err());
    }

    #[test]
    fn journal_commands_take_a_directory() {
        let cli =
            parse(&["journal", "inspect", "data", "--shard", "1", "--from", "5"]).expect("valid");
        assert!(matches!(
            cli.command,
            Command::Journal(JournalCommand::Inspect { shard: Some(1), from: Some(5), .. })
        ));
        assert!(parse(&["journal", "verify"]).is_err(), "verify needs a directory");
        assert!(parse(&["journal", "verify", "data"]).is_ok());
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
