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

mod cli;
mod commands;
mod config;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::config::ConfigError;

/// Exit code for an unreadable or invalid config.
const EXIT_CONFIG: u8 = 3;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            if error.chain().any(|cause| cause.is::<ConfigError>()) {
                ExitCode::from(EXIT_CONFIG)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// Runs one command.
fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) => commands::serve(&args),
        Command::Config(config) => commands::config(&config),
        Command::Passwd => commands::passwd(),
        Command::Trade(_) | Command::Load(_) | Command::Admin(_) | Command::Journal(_) => {
            commands::not_yet_available(command.name())
        }
    }
}
