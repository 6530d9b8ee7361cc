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

mod admin;
mod cli;
mod commands;
mod config;
mod journal;
mod logging;
mod serve;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command, JournalCommand};
use crate::config::ConfigError;

/// Exit code for an unreadable or invalid config.
const EXIT_CONFIG: u8 = 3;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(exit_code_of(&error))
        }
    }
}

/// Returns the exit code for a command's error: [`EXIT_CONFIG`] if a config error caused it.
fn exit_code_of(error: &anyhow::Error) -> u8 {
    if error.chain().any(|cause| cause.is::<ConfigError>()) { EXIT_CONFIG } else { 1 }
}

/// Runs one command.
fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) => commands::serve(&args),
        Command::Config(config) => commands::config(&config),
        Command::Passwd => commands::passwd(),
        Command::Admin(args) => admin::admin(&args),
        Command::Journal(JournalCommand::Inspect { dir, shard, from, config }) => {
            journal::inspect(&dir, shard, from, config.as_deref())
        }
        Command::Journal(JournalCommand::Verify { dir }) => journal::verify(&dir),
        Command::Trade(_) | Command::Load(_) => commands::not_yet_available(command.name()),
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
        let other = run(Command::Load(cli::Placeholder { args: Vec::new() }));
        assert_eq!(other.map_err(|error| exit_code_of(&error)), Err(1));
    }
}
