//! The listener: accepts connections and runs one [`Handler`] task per connection.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use birzha_fix::Dictionary;
use birzha_fix::session::{Application, LogLimit};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, broadcast, mpsc};
use tokio::time::{Instant, sleep};
use tracing::{Instrument, debug, error, info, info_span, warn};

/// How much longer than `shutdown_grace` the server waits for its sessions to end: each counts
/// its grace from the moment its task saw the signal.
const SHUTDOWN_MARGIN: Duration = Duration::from_millis(250);

use crate::backoff::AuthBackoff;
use crate::clock::Clock;
use crate::connection::Connection;
use crate::handler::{Context, Handler};
use crate::shutdown::Shutdown;
use crate::{GatewayConfig, GatewayError, Sessions};

/// Accepting fails this many times in a row (with doubling waits from 1 s) before giving up.
const ACCEPT_ATTEMPTS_MAX: u32 = 7;

/// The shortest time between two log lines about connections refused over `sessions_max`.
const REFUSAL_LOG_INTERVAL: Duration = Duration::from_secs(1);

/// The accept loop's state.
#[derive(Debug)]
struct Listener<A> {
    /// The bound socket.
    listener: TcpListener,
    /// One permit per connection being served; bounds connections (logged on or not) to
    /// `sessions_max`. A connection accepted while none is free is closed at once, so a flood
    /// never queues in the listen backlog ahead of well-behaved traders.
    limit_connections: Arc<Semaphore>,
    /// Dropped to tell every connection task to shut down.
    notify_shutdown: broadcast::Sender<()>,
    /// Cloned into every task; the server waits until all clones are dropped.
    shutdown_complete: mpsc::Sender<()>,
    /// What every task shares.
    context: Arc<Context<A>>,
    /// Numbers connections for logs.
    next_connection_id: u64,
    /// Connections refused because `sessions_max` were open, for rate-limited log lines.
    refusals: Refusals,
}

/// Refused connections, logged at most once per [`REFUSAL_LOG_INTERVAL`] so that a flood of
/// connections cannot flood the operator log too.
#[derive(Debug, Default)]
struct Refusals {
    /// When the last refusal line was logged.
    logged_at: Option<Instant>,
    /// Refusals since that line, not logged yet.
    unlogged: u64,
}

impl Refusals {
    /// Counts the refusal of `peer` and logs it unless a refusal line was logged less than
    /// [`REFUSAL_LOG_INTERVAL`] ago; the next line carries the count of those not logged.
    fn refuse(&mut self, peer: SocketAddr, sessions_max: usize) {
        self.unlogged += 1;
        let now = Instant::now();
        let due = self.logged_at.is_none_or(|at| now.duration_since(at) >= REFUSAL_LOG_INTERVAL);
        if due {
            warn!(
                %peer,
                sessions_max,
                refused = self.unlogged,
                "connection refused: sessions_max connections are open"
            );
            self.logged_at = Some(now);
            self.unlogged = 0;
        }
    }
}

/// Runs the FIX acceptor on `listener` until `shutdown` completes, then shuts down gracefully:
/// stops accepting, sends every session a Logout, waits for their Logouts (at most
/// `config.shutdown_grace`), and closes.
///
/// `sessions` is the registry the application pushes messages through; create it with
/// [`Sessions::new`] from the same `config` and give the application a clone.
///
/// # Errors
/// Returns [`GatewayError::Accept`] if accepting connections keeps failing.
pub async fn run<A>(
    listener: TcpListener,
    config: GatewayConfig,
    application: Arc<A>,
    sessions: Sessions,
    shutdown: impl Future,
) -> Result<(), GatewayError>
where
    A: Application + Send + Sync + 'static,
{
    let (notify_shutdown, _) = broadcast::channel(1);
    let (shutdown_complete, mut shutdown_complete_rx) = mpsc::channel::<()>(1);
    let grace = config.shutdown_grace;
    let context = Arc::new(Context {
        session_config: Arc::new(config.session.clone()),
        dictionary: Arc::new(Dictionary::profile()),
        backoff: AuthBackoff::new(config.auth_backoff_base, config.auth_backoff_max),
        clock: Clock::new(),
        logons: Semaphore::new(config.logons_concurrent_max.max(1)),
        pre_logon: std::sync::Mutex::new(crate::handler::PreLogonLog::default()),
        application,
        sessions,
        config,
    });
    let mut server = Listener {
        listener,
        limit_connections: Arc::new(Semaphore::new(context.config.sessions_max)),
        notify_shutdown,
        shutdown_complete,
        context,
        next_connection_id: 0,
        refusals: Refusals::default(),
    };
    let result = tokio::select! {
        result = server.run() => result,
        _ = shutdown => {
            info!("shutting down");
            Ok(())
        }
    };
    server.context.application.on_shutdown();
    let Listener { listener, notify_shutdown, shutdown_complete, .. } = server;
    drop(listener);
    drop(notify_shutdown);
    drop(shutdown_complete);
    // The sessions count their grace from the moment each saw the signal, a little later.
    if tokio::time::timeout(grace + SHUTDOWN_MARGIN, shutdown_complete_rx.recv()).await.is_err() {
        warn!(?grace, "sessions still open after the shutdown grace period");
    }
    result
}

impl<A: Application + Send + Sync + 'static> Listener<A> {
    async fn run(&mut self) -> Result<(), GatewayError> {
        info!(address = ?self.listener.local_addr().ok(), "accepting FIX connections");
        loop {
            let (socket, peer) = self.accept().await?;
            let Ok(permit) = Arc::clone(&self.limit_connections).try_acquire_owned() else {
                self.refusals.refuse(peer, self.context.config.sessions_max);
                drop(socket);
                continue;
            };
            if let Err(error) = socket.set_nodelay(true) {
                warn!(%error, %peer, "could not set TCP_NODELAY");
            }
            self.next_connection_id += 1;
            let context = &self.context;
            let handler = Handler {
                connection: Connection::new(
                    socket,
                    context.config.message_size_max,
                    context.session_config.fields_max,
                ),
                peer,
                context: Arc::clone(context),
                shutdown: Shutdown::new(self.notify_shutdown.subscribe()),
                _shutdown_complete: self.shutdown_complete.clone(),
                shutdown_unanswered: false,
                shutdown_deadline: None,
                out: Vec::with_capacity(context.config.message_size_max),
                dropped: LogLimit::default(),
            };
            let span = info_span!(
                "connection",
                id = self.next_connection_id,
                %peer,
                comp_id = tracing::field::Empty,
            );
            tokio::spawn(
                async move {
                    // Debug only: a flood of connections must not flood the log; a session
                    // is logged from its Logon on, connections ending before it at most
                    // PRE_LOGON_LINES_PER_SECOND lines a second.
                    debug!("connected");
                    if let Err(error) = handler.run().await {
                        warn!(%error, "connection ended with an error");
                    }
                    drop(permit);
                }
                .instrument(span),
            );
        }
    }

    /// Accepts one connection, retrying errors with exponential backoff.
    async fn accept(&mut self) -> Result<(TcpStream, SocketAddr), GatewayError> {
        let mut backoff = Duration::from_secs(1);
        let mut attempts = 0;
        loop {
            match self.listener.accept().await {
                Ok(accepted) => return Ok(accepted),
                Err(cause) => {
                    attempts += 1;
                    if attempts >= ACCEPT_ATTEMPTS_MAX {
                        error!(%cause, "accept keeps failing: giving up");
                        return Err(GatewayError::Accept(cause));
                    }
                    warn!(%cause, ?backoff, "accept failed: retrying");
                }
            }
            sleep(backoff).await;
            backoff *= 2;
        }
    }
}
