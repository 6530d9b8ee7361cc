//! The `birzha` command: the exchange server and its tools.
//!
//! Thin by design: parse the command line ([`cli`]), run one command ([`commands`]), and turn
//! its error into a message on standard error and an exit code:
//!
//! | Code | Meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | failure while running (I/O, a command not yet available, …) |
//! | 2 | bad command line (clap's usage error) |
//! | 3 | the config is unreadable or invalid |
//! | 4 | `trade`/`load`: the exchange refused the Logon |
//! | 5 | `trade`: the exchange rejected the request |

mod admin;
mod cli;
mod commands;
mod config;
mod journal;
mod load;
mod logging;
mod serve;
#[cfg(test)]
mod testing;
mod trade;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command, JournalCommand};
use crate::config::ConfigError;
use crate::trade::TradeError;

/// Exit code for an unreadable or invalid config.
const EXIT_CONFIG: u8 = 3;
/// Exit code for a Logon the exchange refused.
const EXIT_LOGON_REFUSED: u8 = 4;
/// Exit code for a request the exchange rejected.
const EXIT_REJECTED: u8 = 5;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", error_text(&error));
            ExitCode::from(exit_code_of(&error))
        }
    }
}

/// The error and its causes, `: `-separated, each cause left out if the text so far already
/// says it (many errors name their cause in their own message, and `{:#}` repeated it).
fn error_text(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain().map(ToString::to_string) {
        if text.contains(&cause) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&cause);
    }
    text
}

/// Returns the exit code for a command's error (see the table above).
fn exit_code_of(error: &anyhow::Error) -> u8 {
    for cause in error.chain() {
        if cause.is::<ConfigError>() {
            return EXIT_CONFIG;
        }
        match cause.downcast_ref::<TradeError>() {
            Some(TradeError::LogonRefused { .. }) => return EXIT_LOGON_REFUSED,
            Some(TradeError::Rejected { .. }) => return EXIT_REJECTED,
            None => {}
        }
    }
    1
}

/// Runs one command.
fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) => commands::serve(&args),
        Command::Config(config) => commands::config(&config),
        Command::Passwd => commands::passwd(),
        Command::Trade(args) => trade::run(args),
        Command::Load(args) => load::run(&args),
        Command::Admin(args) => admin::admin(&args),
        Command::Journal(JournalCommand::Inspect { dir, shard, from, config }) => {
            journal::inspect(&dir, shard, from, config.as_deref())
        }
        Command::Journal(JournalCommand::Verify { dir }) => journal::verify(&dir),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn config_errors_exit_with_their_own_code() {
        let config = ConfigError::invalid("engine.shards", 0, "1 to 64");
        assert_eq!(exit_code_of(&anyhow::Error::new(config)), EXIT_CONFIG);
        let wrapped: anyhow::Result<()> =
            Err(ConfigError::invalid("engine.shards", 0, "1 to 64")).context("starting");
        assert_eq!(wrapped.map_err(|error| exit_code_of(&error)), Err(EXIT_CONFIG));
        let other = anyhow::anyhow!("an I/O failure");
        assert_eq!(exit_code_of(&other), 1);
        let refused = anyhow::Error::new(TradeError::LogonRefused { text: "no".into() });
        assert_eq!(exit_code_of(&refused.context("trading")), EXIT_LOGON_REFUSED);
        let rejected = anyhow::Error::new(TradeError::Rejected { text: "band".into() });
        assert_eq!(exit_code_of(&rejected), EXIT_REJECTED);
    }

    /// Regression (a review's): causes an error already names in its message were printed
    /// again (`…: number of instruments: snapshot does not match the config: number of
    /// instruments`).
    #[test]
    fn a_cause_the_message_already_names_is_printed_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("snapshot s1: {source}")]
        struct Named {
            source: std::io::Error,
        }
        let cause = std::io::Error::other("number of instruments");
        let error = anyhow::Error::new(Named { source: cause }).context("could not recover");
        assert_eq!(error_text(&error), "could not recover: snapshot s1: number of instruments");
        let plain = anyhow::anyhow!("refused").context("connecting");
        assert_eq!(error_text(&plain), "connecting: refused");
    }
}
