//! The admin port: operators halt and resume instruments, move phases, credit and debit
//! deposits, suspend firms, mass cancel and read stats over a loopback-only TCP port.
//!
//! [`run`] serves the port (the server); [`request`] is its client (`birzha admin`);
//! [`AdminRequest`] is one request, parsed by the server and printed by the client.
//!
//! # Protocol
//!
//! Plain text lines over TCP, one request and one reply at a time, any number per connection:
//!
//! ```text
//! request = TOKEN SP COMMAND *(SP ARGUMENT) LF     ; at most LINE_LENGTH_MAX bytes
//! reply   = ("ok" / "error") [SP TEXT] LF          ; at most REPLY_LENGTH_MAX bytes
//! ```
//!
//! Words are separated by ASCII whitespace; commands are case-insensitive. The commands:
//!
//! | Request | Engine input |
//! |---|---|
//! | `halt SYMBOL` | `Admin::Halt` |
//! | `resume SYMBOL` | `Admin::Resume` |
//! | `phase SYMBOL PHASE` | `Admin::SetPhase` (`PreOpen`, `Continuous`, … any case) |
//! | `deposit FIRM CURRENCY AMOUNT` | `Admin::Deposit` (decimal amount, negative debits) |
//! | `suspend FIRM` / `reinstate FIRM` | `Admin::SuspendFirm` / `Admin::ReinstateFirm` |
//! | `cancel-all [SYMBOL]` | `Admin::MassCancel` |
//! | `stats` | none: answered by the port (journal positions, queues, sessions) |
//!
//! An `ok` reply to an engine command means the input is in its shard's queue: the shard
//! journals it before it acts, and the outcome (a phase change, the deposit after the change,
//! the cancelled orders) appears in the operator log and, for traders, as FIX messages.
//!
//! # Security
//!
//! The port listens on loopback only ([`run`] asserts it; the config refuses anything else).
//! Every request carries the token, compared in constant time. A wrong token is answered
//! `error unauthorized` after [`AdminConfig::refusal_delay`], logged with the peer address
//! (never the token or the line), and the connection is closed.
//!
//! # Limits
//!
//! [`AdminConfig`] bounds everything: connections at once (more are answered `error busy` and
//! closed), the request line's length (a longer line closes the connection), the idle time
//! between requests, the time to write a reply and the time to wait for room in a full engine
//! queue.
//!
//! # Logging
//!
//! Every command is logged at `info` with its canonical text and the operator's peer address
//! before it is queued; refusals are logged at `warn`.

mod client;
mod request;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use birzha_engine::{EngineHandle, Route, SubmitError};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::{sleep, timeout};
use tracing::{Instrument, debug, info, info_span, warn};

use crate::{GatewayError, Sessions};

pub use client::{AdminReply, ClientError, request};
pub use request::amount_micros;
pub use request::{AMOUNT_SCALE_MAX, AMOUNT_UNITS_MAX, AdminRequest, COMMANDS, RequestError};

/// The longest request line, newline included, in bytes.
pub const LINE_LENGTH_MAX: usize = 1024;

/// The longest reply line, newline included, in bytes.
pub const REPLY_LENGTH_MAX: usize = 16 * 1024;

/// The most trader codes `stats` lists by name; the rest are counted.
const STATS_TRADERS_MAX: usize = 64;

/// How long the accept loop pauses after a failed accept (out of file descriptors, …).
const ACCEPT_RETRY_DELAY: Duration = Duration::from_millis(500);

const _: () = assert!(LINE_LENGTH_MAX <= REPLY_LENGTH_MAX);
const _: () = assert!(STATS_TRADERS_MAX * 33 + 512 < REPLY_LENGTH_MAX);

/// Settings of the admin port.
#[derive(Clone)]
pub struct AdminConfig {
    /// What every request must start with; compared in constant time, never logged.
    pub token: String,
    /// The most connections served at once.
    pub connections_max: usize,
    /// How long a connection may wait between requests before it is closed.
    pub idle_timeout: Duration,
    /// How long writing one reply may take before the connection is closed.
    pub write_timeout: Duration,
    /// How long a command waits for room in a full engine queue before `error busy`.
    pub submit_timeout: Duration,
    /// How long a request with a wrong token waits for its reply, to slow down guessing.
    pub refusal_delay: Duration,
}

impl std::fmt::Debug for AdminConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminConfig")
            .field("token", &"<redacted>")
            .field("connections_max", &self.connections_max)
            .field("idle_timeout", &self.idle_timeout)
            .field("write_timeout", &self.write_timeout)
            .field("submit_timeout", &self.submit_timeout)
            .field("refusal_delay", &self.refusal_delay)
            .finish()
    }
}

impl AdminConfig {
    /// Birzha's defaults for a port whose token is `token`: 8 connections, 60 s idle, 5 s to
    /// write a reply, 1 s to queue a command, 1 s delay after a wrong token.
    #[must_use]
    pub fn new(token: impl Into<String>) -> AdminConfig {
        AdminConfig {
            token: token.into(),
            connections_max: 8,
            idle_timeout: Duration::from_secs(60),
            write_timeout: Duration::from_secs(5),
            submit_timeout: Duration::from_secs(1),
            refusal_delay: Duration::from_secs(1),
        }
    }
}

/// What every connection task shares.
struct Context {
    /// The settings.
    config: AdminConfig,
    /// Where commands go; also the registry and the journal positions for `stats`.
    engine: EngineHandle,
    /// The FIX sessions, for `stats`.
    sessions: Sessions,
    /// One permit per connection being served; bounds them to `connections_max`.
    connections: Arc<Semaphore>,
    /// When the port opened, for `stats`.
    started: Instant,
}

/// One reply, and whether the connection ends after it.
struct Reply {
    /// The whole line, newline included.
    line: String,
    /// Close the connection after sending it.
    close: bool,
}

impl Reply {
    fn ok(text: &str) -> Reply {
        Reply { line: reply_line("ok", text), close: false }
    }

    fn error(text: &str) -> Reply {
        Reply { line: reply_line("error", text), close: false }
    }
}

/// Serves the admin port on `listener` until `shutdown` completes; then stops accepting and
/// ends every admin connection.
///
/// # Errors
/// Returns [`GatewayError::Io`] if the listener's address cannot be read.
///
/// # Panics
/// Panics if `listener` is not bound to a loopback address: the config must refuse any other.
pub async fn run(
    listener: TcpListener,
    config: AdminConfig,
    engine: EngineHandle,
    sessions: Sessions,
    shutdown: impl Future,
) -> Result<(), GatewayError> {
    let address = listener.local_addr()?;
    assert!(address.ip().is_loopback(), "Invariant: the admin port listens on loopback only");
    assert!(config.connections_max >= 1, "Invariant: at least one admin connection");
    info!(%address, "accepting admin connections");
    let context = Arc::new(Context {
        connections: Arc::new(Semaphore::new(config.connections_max)),
        config,
        engine,
        sessions,
        started: Instant::now(),
    });
    let mut tasks = JoinSet::new();
    let mut next_connection_id: u64 = 0;
    tokio::pin!(shutdown);
    loop {
        while tasks.try_join_next().is_some() {}
        let (socket, peer) = tokio::select! {
            biased;
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    warn!(%error, "admin accept failed");
                    sleep(ACCEPT_RETRY_DELAY).await;
                    continue;
                }
            },
        };
        let Ok(permit) = Arc::clone(&context.connections).try_acquire_owned() else {
            warn!(%peer, "admin connection refused: too many connections");
            // Best effort and without waiting: a busy port must not queue work for refusals.
            let _ = socket
                .try_write(reply_line("error", "busy: too many admin connections").as_bytes());
            continue;
        };
        next_connection_id += 1;
        let span = info_span!("admin", id = next_connection_id, %peer);
        let context = Arc::clone(&context);
        tasks.spawn(
            async move {
                serve(&context, socket, peer).await;
                drop(permit);
            }
            .instrument(span),
        );
    }
    tasks.shutdown().await;
    info!("admin port closed");
    Ok(())
}

/// Answers the requests of one connection until it closes, idles out or is refused.
async fn serve(context: &Context, socket: TcpStream, peer: SocketAddr) {
    let (reader, mut writer) = socket.into_split();
    let mut reader = BufReader::new(reader);
    let mut line = Vec::with_capacity(LINE_LENGTH_MAX);
    loop {
        line.clear();
        let limit = LINE_LENGTH_MAX as u64;
        let read = timeout(
            context.config.idle_timeout,
            (&mut reader).take(limit).read_until(b'\n', &mut line),
        )
        .await;
        let reply = match read {
            Err(_elapsed) => {
                debug!("idle admin connection closed");
                return;
            }
            Ok(Err(error)) => {
                debug!(%error, "admin connection read failed");
                return;
            }
            Ok(Ok(0)) => return,
            Ok(Ok(_)) if !line.ends_with(b"\n") && line.len() >= LINE_LENGTH_MAX => {
                warn!(%peer, "admin request refused: line too long");
                let text = format!("request longer than {LINE_LENGTH_MAX} bytes");
                Reply { close: true, ..Reply::error(&text) }
            }
            Ok(Ok(_)) => context.answer(&line, peer).await,
        };
        let written =
            timeout(context.config.write_timeout, writer.write_all(reply.line.as_bytes()));
        if !matches!(written.await, Ok(Ok(()))) {
            debug!("admin reply could not be written");
            return;
        }
        if reply.close {
            return;
        }
    }
}

impl Context {
    /// Authenticates one request line and carries it out.
    async fn answer(&self, line: &[u8], peer: SocketAddr) -> Reply {
        let text = String::from_utf8_lossy(line);
        let mut words = text.split_ascii_whitespace();
        let token = words.next().unwrap_or_default();
        if !token_matches(token.as_bytes(), self.config.token.as_bytes()) {
            warn!(%peer, "admin request refused: wrong token");
            sleep(self.config.refusal_delay).await;
            return Reply { close: true, ..Reply::error("unauthorized: wrong token") };
        }
        let words: Vec<&str> = words.collect();
        let request = match AdminRequest::parse(&words) {
            Ok(request) => request,
            Err(error) => {
                warn!(%peer, %error, "admin request refused");
                return Reply::error(&error.to_string());
            }
        };
        if request == AdminRequest::Stats {
            info!(%peer, command = "stats", "admin command");
            return Reply::ok(&self.stats());
        }
        self.submit(&request, peer).await
    }

    /// Sends an engine command to its shard(s), waiting a bounded time for queue room.
    async fn submit(&self, request: &AdminRequest, peer: SocketAddr) -> Reply {
        let input = match request.into_input(self.engine.registry()) {
            Ok(input) => input,
            Err(error) => {
                warn!(%peer, command = %request, %error, "admin request refused");
                return Reply::error(&error.to_string());
            }
        };
        info!(%peer, command = %request, "admin command");
        let route = match self.engine.route(&input) {
            Route::One(shard) => format!("shard {shard}"),
            Route::All => "every shard".to_owned(),
        };
        let engine = self.engine.clone();
        let submit_timeout = self.config.submit_timeout;
        // A full queue blocks for up to `submit_timeout`: off the async workers.
        let submitted =
            tokio::task::spawn_blocking(move || engine.submit_timeout(input, submit_timeout)).await;
        match submitted {
            Ok(Ok(())) => Reply::ok(&format!("{request}: queued for {route}")),
            Ok(Err(SubmitError::Busy)) => {
                warn!(%peer, command = %request, "admin command not queued: the engine is busy");
                Reply::error(&format!(
                    "busy: the queue of {route} stayed full for {submit_timeout:?}; for a \
                     command to every shard, some shards may have taken it: check the log"
                ))
            }
            Ok(Err(SubmitError::Unavailable)) => {
                warn!(%peer, command = %request, "admin command not queued: journal fault");
                Reply::error(&format!("unavailable: the journal of {route} cannot be written"))
            }
            Ok(Err(SubmitError::Stopped)) | Err(_) => {
                warn!(%peer, command = %request, "admin command not queued: the engine stopped");
                Reply::error("stopped: the engine has stopped")
            }
        }
    }

    /// Returns the `stats` reply: uptime, journal positions, queues, FIX sessions, admin
    /// connections, as `key=value` words.
    fn stats(&self) -> String {
        let registry = self.engine.registry();
        let logged_on: Vec<&str> = registry
            .config
            .traders
            .iter()
            .map(|trader| trader.code.as_str())
            .filter(|code| self.sessions.is_logged_on(code))
            .collect();
        let mut names = logged_on.iter().take(STATS_TRADERS_MAX).copied().collect::<Vec<_>>();
        let more = logged_on.len().saturating_sub(STATS_TRADERS_MAX);
        let more = format!("+{more}");
        if logged_on.len() > STATS_TRADERS_MAX {
            names.push(&more);
        }
        let join = |values: Vec<String>| values.join(",");
        let connections = self.config.connections_max
            - self.connections.available_permits().min(self.config.connections_max);
        format!(
            "uptime_s={} shards={} journal_seq={} queued={} journal_faulted={} sessions={} \
             logged_on={} admin_connections={connections}",
            self.started.elapsed().as_secs(),
            self.engine.shards(),
            join(self.engine.seq_durable().iter().map(u64::to_string).collect()),
            join(self.engine.queued().iter().map(usize::to_string).collect()),
            join(
                self.engine
                    .faulted()
                    .iter()
                    .map(|faulted| u8::from(*faulted).to_string())
                    .collect()
            ),
            logged_on.len(),
            if names.is_empty() { "-".to_owned() } else { names.join(",") },
        )
    }
}

/// Returns `status`, a space and `text` as one line, with any line break in `text` replaced so
/// a reply is always exactly one line.
fn reply_line(status: &str, text: &str) -> String {
    let mut line = String::with_capacity(status.len() + text.len() + 2);
    line.push_str(status);
    if !text.is_empty() {
        line.push(' ');
        line.extend(text.chars().map(|c| if c == '\n' || c == '\r' { ' ' } else { c }));
    }
    if line.len() >= REPLY_LENGTH_MAX {
        let mut end = REPLY_LENGTH_MAX - 1;
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        line.truncate(end);
    }
    line.push('\n');
    line
}

/// Compares a presented token with the expected one in time that depends only on the expected
/// token's length, so the comparison does not reveal how many leading bytes matched.
fn token_matches(presented: &[u8], expected: &[u8]) -> bool {
    let mut difference = presented.len() ^ expected.len();
    for (index, byte) in expected.iter().enumerate() {
        let other = presented.get(index).copied().unwrap_or(!byte);
        difference |= usize::from(byte ^ other);
    }
    std::hint::black_box(difference) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_match_only_when_equal() {
        let expected = b"birzha-demo-admin-token";
        assert!(token_matches(expected, expected));
        assert!(!token_matches(b"birzha-demo-admin-tokem", expected));
        assert!(!token_matches(b"birzha-demo-admin-toke", expected));
        assert!(!token_matches(b"birzha-demo-admin-token!", expected));
        assert!(!token_matches(b"", expected));
        assert!(!token_matches(b"", b"x"));
    }

    #[test]
    fn replies_are_one_bounded_line() {
        assert_eq!(reply_line("ok", ""), "ok\n");
        assert_eq!(reply_line("error", "two\nlines\r"), "error two lines \n");
        let long = "é".repeat(REPLY_LENGTH_MAX);
        let line = reply_line("ok", &long);
        assert!(line.len() <= REPLY_LENGTH_MAX && line.ends_with('\n'));
    }
}
