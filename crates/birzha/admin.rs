//! The admin port in the binary: `birzha admin` (the client) and the port's start and stop in
//! `birzha serve`. The protocol and the server are `birzha_gateway::admin`.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, bail};
use birzha_engine::EngineHandle;
use birzha_gateway::Sessions;
use birzha_gateway::admin::{self, AdminConfig, AdminRequest};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tracing::warn;

use crate::cli::AdminArgs;
use crate::config::{Config, DEFAULT_ORIGIN};

/// The environment variable `birzha admin` reads the token from when `--token` is absent.
const TOKEN_VARIABLE: &str = "BIRZHA_ADMIN_TOKEN";

/// How long `birzha admin` waits to connect, send and receive.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

/// `birzha admin …`: sends one command to the admin port and prints the reply.
///
/// # Errors
/// Returns an error if the command is malformed, the config has no `[admin]` section (and no
/// address or token was given), the port cannot be reached, or the server answers `error`.
pub(crate) fn admin(args: &AdminArgs) -> anyhow::Result<()> {
    let request = AdminRequest::parse(&args.command.words())?;
    let (address, token) = address_and_token(args)?;
    let reply = admin::request(address, &token, &request, CLIENT_TIMEOUT)?;
    if !reply.ok {
        bail!("the server refused `{request}`: {}", reply.text);
    }
    let mut stdout = std::io::stdout().lock();
    let text = if reply.text.is_empty() { "ok" } else { reply.text.as_str() };
    writeln!(stdout, "{text}").context("cannot write output")
}

/// Returns the port's address and token: the flags, the environment, then the config.
fn address_and_token(args: &AdminArgs) -> anyhow::Result<(SocketAddr, String)> {
    let token = args.token.clone().or_else(|| std::env::var(TOKEN_VARIABLE).ok());
    if let (Some(address), Some(token)) = (args.address, &token) {
        return Ok((address, token.clone()));
    }
    let (config, origin) = match &args.config {
        Some(path) => (Config::load(path)?, path.display().to_string()),
        None => (Config::embedded()?, DEFAULT_ORIGIN.to_owned()),
    };
    let Some(section) = config.admin else {
        bail!("{origin} has no [admin] section: give --address and --token");
    };
    Ok((args.address.unwrap_or(section.listen), token.unwrap_or(section.token)))
}

/// The running admin port of `birzha serve`.
#[derive(Debug)]
pub(crate) struct AdminPort {
    /// Dropped or sent to stop the port.
    stop: oneshot::Sender<()>,
    /// The port's task.
    task: JoinHandle<()>,
}

/// Binds the admin port of `config`, if it has one, and starts serving it.
///
/// # Errors
/// Returns an error if the address is not loopback (config validation already refuses it) or
/// cannot be bound.
pub(crate) async fn start(
    config: &Config,
    engine: EngineHandle,
    sessions: Sessions,
) -> anyhow::Result<Option<AdminPort>> {
    let Some(section) = &config.admin else { return Ok(None) };
    let listen = section.listen;
    if !listen.ip().is_loopback() {
        bail!("the admin port must listen on a loopback address, not {listen}");
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on the admin port {listen}"))?;
    let settings = AdminConfig::new(section.token.clone());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        if let Err(error) = admin::run(listener, settings, engine, sessions, shutdown).await {
            warn!(%error, "the admin port failed");
        }
    });
    Ok(Some(AdminPort { stop, task }))
}

impl AdminPort {
    /// Stops accepting, ends the admin connections and waits for the port's task.
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::AdminCommand;

    fn args(config: Option<&str>, address: Option<&str>, token: Option<&str>) -> AdminArgs {
        AdminArgs {
            config: config.map(Into::into),
            address: address.map(|address| address.parse().expect("address")),
            token: token.map(Into::into),
            command: AdminCommand::Stats,
        }
    }

    #[test]
    fn the_address_and_token_come_from_flags_then_the_config() {
        let (address, token) =
            address_and_token(&args(None, Some("127.0.0.1:7000"), Some("t0ken-for-tests-only")))
                .expect("flags");
        assert_eq!((address.port(), token.as_str()), (7000, "t0ken-for-tests-only"));
        let from_file = args(Some("config/buce-day.toml"), Some("127.0.0.1:7001"), None);
        let (address, token) = address_and_token(&from_file).expect("the file's [admin]");
        assert_eq!(address.port(), 7001);
        assert!(!token.is_empty());
        let error = address_and_token(&args(Some("/nonexistent.toml"), None, None))
            .expect_err("no such file");
        assert!(error.to_string().contains("/nonexistent.toml"), "{error}");
    }
}
