//! The per-connection task: the Logon phase, then the session loop.
//!
//! One task owns one [`Connection`] and, once logged on, one [`Session`]. It waits on (in this
//! fixed order, `biased`): the shutdown signal, a slow-reader kick, the socket, the session's
//! outbound queue and the session's next timer. Each event is handled under the session
//! store's lock (never across an `.await`), producing bytes into one reused buffer that is then
//! written in a single batch. A read event takes every complete frame already in the read
//! buffer (up to [`FRAMES_PER_EVENT_MAX`] frames, [`OUT_BATCH_BYTES`] of answers, or until the
//! clock's millisecond turns), so a client that pipelines orders costs one store flush and one
//! socket write per batch rather than per order, and the store lock (which the dispatcher
//! needs to send to this trader) is never held for long.

use std::net::SocketAddr;
use std::sync::Arc;

use birzha_fix::session::{
    Application, LogLimit, Refusal, Session, Status, check_logon, write_refusal,
};
use birzha_fix::{Dictionary, Fields, UtcTimestamp, parse};
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc};

use tokio::time::{sleep, sleep_until};
use tracing::{debug, error, info, warn};

use crate::backoff::AuthBackoff;
use crate::clock::Clock;
use crate::connection::{Connection, Read};
use crate::registry::{Claim, Queued, Sessions};
use crate::shutdown::Shutdown;
use crate::{GatewayConfig, GatewayError};

/// Outbound messages taken from the queue per event, so one busy session cannot starve its own
/// socket reads.
const OUTBOUND_BATCH_MAX: usize = 256;

/// The longest an ending session's last write (a Logout) may take.
const LAST_WRITE_MAX: Duration = Duration::from_secs(1);

/// The Logout's text for a session the exchange throttled for too long.
const THROTTLE_ABUSE: &str = "Sustained throttle abuse: over the message rate for too long";

/// Inbound frames already read that one event handles before the store is flushed and the
/// answers are written: a client that pipelines orders gets one write per batch, not per order.
const FRAMES_PER_EVENT_MAX: usize = 32;

/// The outbound bytes past which an event stops taking more inbound frames.
const OUT_BATCH_BYTES: usize = 64 * 1024;

/// What every connection task shares.
#[derive(Debug)]
pub(crate) struct Context<A> {
    pub(crate) config: GatewayConfig,
    pub(crate) session_config: Arc<birzha_fix::session::SessionConfig>,
    pub(crate) dictionary: Arc<Dictionary>,
    pub(crate) application: Arc<A>,
    pub(crate) sessions: Sessions,
    pub(crate) backoff: AuthBackoff,
    pub(crate) clock: Clock,
    /// One permit per Logon being answered; bounds them to `logons_concurrent_max`.
    pub(crate) logons: Semaphore,
    /// Connections that end before a Logon, logged at most [`PRE_LOGON_LINES_PER_SECOND`]
    /// a second over all of them: a flood of connections must not flood the log.
    pub(crate) pre_logon: std::sync::Mutex<PreLogonLog>,
}

impl<A> Context<A> {
    /// Whether to log a connection that ended before its Logon; if so, how many such were
    /// left out since the last line.
    fn admit_pre_logon(&self) -> Option<u64> {
        let now = self.clock.now();
        let mut log = self.pre_logon.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        log.admit(now.0)
    }
}

/// The most lines a second about connections that end before their Logon.
pub(crate) const PRE_LOGON_LINES_PER_SECOND: u32 = 20;

/// Counts the lines about connections that ended before their Logon, per second of the clock.
#[derive(Debug, Default)]
pub(crate) struct PreLogonLog {
    second: i64,
    lines: u32,
    left_out: u64,
}

impl PreLogonLog {
    /// Whether to log one more at `now_ms`; if so, how many were left out before it.
    fn admit(&mut self, now_ms: i64) -> Option<u64> {
        let second = now_ms.div_euclid(1000);
        if second != self.second {
            (self.second, self.lines) = (second, 0);
        }
        if self.lines >= PRE_LOGON_LINES_PER_SECOND {
            self.left_out += 1;
            return None;
        }
        self.lines += 1;
        Some(std::mem::take(&mut self.left_out))
    }
}

/// One connection's task state.
#[derive(Debug)]
pub(crate) struct Handler<A> {
    /// The socket and its buffers.
    pub(crate) connection: Connection,
    /// The peer's address, for logs and the authentication backoff.
    pub(crate) peer: SocketAddr,
    /// Shared settings, application and registry.
    pub(crate) context: Arc<Context<A>>,
    /// Receives the server's shutdown signal.
    pub(crate) shutdown: Shutdown,
    /// Held while the task runs; the server waits for every clone to drop at shutdown.
    pub(crate) _shutdown_complete: mpsc::Sender<()>,
    /// The shutdown signal came during a write: the next event answers it (a Logout).
    pub(crate) shutdown_unanswered: bool,
    /// When the session must be over: the shutdown's grace from the moment this task saw it.
    /// Every write and the wait for the peer's Logout end by then.
    pub(crate) shutdown_deadline: Option<tokio::time::Instant>,
    /// Outbound bytes of the current event; capacity reused.
    pub(crate) out: Vec<u8>,
    /// The lines of frames dropped (garbled or malformed): at most one a second.
    pub(crate) dropped: LogLimit,
}

/// A logged-on session and its hold on the registry slot.
struct Established {
    session: Session,
    claim: Claim,
    comp_id: String,
    /// The status the Logon left the session in.
    status: Status,
}

/// What woke the session loop.
enum Event {
    Shutdown,
    /// The shutdown's grace is over: the session ends, answered or not.
    ShutdownOver,
    SlowReader,
    Read(Read),
    /// The peer sent a frame over `message_size_max` bytes (its BodyLength said so).
    TooLarge(usize),
    Outbound(Queued),
    Timer,
}

impl<A: Application + Send + Sync + 'static> Handler<A> {
    /// Runs the connection to its end.
    ///
    /// # Errors
    /// Returns a [`GatewayError`] when the socket or store fails; the connection is closed.
    pub(crate) async fn run(mut self) -> Result<(), GatewayError> {
        let Some(mut established) = self.logon().await? else {
            self.connection.close().await;
            return Ok(());
        };
        tracing::Span::current().record("comp_id", established.comp_id.as_str());
        if matches!(established.status, Status::Active) {
            info!("logged on");
        }
        let result = self.serve(&mut established).await;
        let voluntary = matches!(result, Ok(Status::Disconnect { voluntary: true, .. }));
        match &result {
            Ok(Status::Disconnect { reason, .. }) => info!(voluntary, reason, "session ended"),
            Ok(Status::Active) => {}
            Err(error) => warn!(%error, "session failed"),
        }
        let Established { mut session, claim, comp_id, .. } = established;
        session.end(&*self.context.application, voluntary);
        let left_out = self.dropped.left_out();
        if left_out > 0 {
            warn!(left_out, "dropped messages left out of the log at the end");
        }
        let stored = self.context.sessions.release(&comp_id, claim);
        if stored > 0 {
            info!(stored, "unsent messages kept in the store for resend");
        }
        self.connection.close().await;
        result.map(|_| ())
    }

    fn now(&self) -> UtcTimestamp {
        self.context.clock.now()
    }

    /// Waits for the first message and answers it; `None` when the connection is refused.
    async fn logon(&mut self) -> Result<Option<Established>, GatewayError> {
        let read = tokio::select! {
            biased;
            () = self.shutdown.recv() => return Ok(None),
            () = sleep(self.context.config.logon_timeout) => {
                if let Some(left_out) = self.context.admit_pre_logon() {
                    info!(left_out, "no Logon in time");
                }
                return Ok(None);
            }
            read = self.connection.read() => match read {
                Ok(read) => read,
                // Before a Logon an oversized frame or a socket error is logged within the
                // pre-Logon limit: a flood of such connections must not flood the log.
                Err(error) => {
                    if let Some(left_out) = self.context.admit_pre_logon() {
                        warn!(%error, left_out, "connection ended with an error");
                    }
                    return Ok(None);
                }
            },
        };
        let length = match read {
            Read::Frame(length) => length,
            Read::Garbled(error) => {
                if let Some(left_out) = self.context.admit_pre_logon() {
                    warn!(%error, left_out, "garbled first message: disconnecting");
                }
                return Ok(None);
            }
            Read::Closed => {
                if let Some(left_out) = self.context.admit_pre_logon() {
                    info!(left_out, "closed by the peer before a Logon");
                }
                return Ok(None);
            }
        };
        // Held until the Logon is answered: the address's next Logon waits longer meanwhile.
        let context = Arc::clone(&self.context);
        let attempt = context.backoff.begin(self.peer.ip());
        if !attempt.delay.is_zero() {
            debug!(delay = ?attempt.delay, "delaying a Logon after earlier refusals");
            tokio::select! {
                biased;
                () = self.shutdown.recv() => return Ok(None),
                () = sleep(attempt.delay) => {}
            }
        }
        let established = self.answer_logon_blocking(length).await?;
        drop(attempt);
        self.connection.consume(length);
        self.flush_plain().await?;
        Ok(established)
    }

    /// Answers the Logon at the front of the buffer on tokio's blocking pool, at most
    /// `logons_concurrent_max` at a time. The application's authentication is slow on purpose
    /// (argon2: tens of milliseconds and 19 MiB each); on the async workers a storm of Logons
    /// (every trader reconnecting after a restart) would stall every logged-on session.
    async fn answer_logon_blocking(
        &mut self,
        length: usize,
    ) -> Result<Option<Established>, GatewayError> {
        let frame = self.connection.frame(length).to_vec();
        let context = Arc::clone(&self.context);
        let _permit =
            context.logons.acquire().await.expect("Invariant: the semaphore is never closed");
        let (peer, now, span) = (self.peer, self.now(), tracing::Span::current());
        let mut out = std::mem::take(&mut self.out);
        let blocking = Arc::clone(&context);
        let (established, out) = tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let established = answer_logon(&blocking, peer, now, &frame, &mut out);
            (established, out)
        })
        .await
        .map_err(|_| GatewayError::LogonPanicked)?;
        self.out = out;
        established
    }

    async fn flush_plain(&mut self) -> Result<(), GatewayError> {
        self.connection.write_all(&self.out).await?;
        self.out.clear();
        Ok(())
    }

    /// The session loop. Returns how the session ended.
    async fn serve(&mut self, established: &mut Established) -> Result<Status, GatewayError> {
        let mut status = established.status;
        if !self.out.is_empty() {
            self.flush_plain().await?;
        }
        while status == Status::Active {
            let event = self.next_event(established).await?;
            status = self.handle(established, event)?;
            status = self.write_out(established, status).await?;
            self.out.clear();
            status = self.resend_rest(established, status).await?;
        }
        Ok(status)
    }

    /// Writes the rest of a resend piece by piece, each under the store's lock only while it is
    /// built, before anything else is read or sent (a shutdown's Logout excepted).
    async fn resend_rest(
        &mut self,
        established: &mut Established,
        mut status: Status,
    ) -> Result<Status, GatewayError> {
        while status == Status::Active
            && established.session.resending()
            && !self.shutdown_unanswered
        {
            let now = self.now();
            {
                let store_ref = established.claim.store_ref();
                let mut store = store_ref.lock();
                established.session.resend_more(now, &mut **store, &mut self.out);
            }
            status = self.write_out(established, status).await?;
            self.out.clear();
        }
        Ok(status)
    }

    /// Writes the event's bytes and returns the session's status after it. A kick ends a slow
    /// reader (one asking for a Logout is left to the next event). A shutdown that begins
    /// meanwhile lets the write take at most the shutdown's grace and is answered (a Logout)
    /// by the next event; a peer that reads nothing by then is closed. An ending session's last
    /// bytes (a Logout) get at most a second, whatever kicks it.
    async fn write_out(
        &mut self,
        established: &Established,
        status: Status,
    ) -> Result<Status, GatewayError> {
        let kick = Arc::clone(&established.claim.kick);
        let mut watch_kick = status == Status::Active;
        let mut watch_shutdown = !self.shutdown.is_shutdown();
        let limit = self.write_time_limit(status, !watch_shutdown);
        let deadline = sleep(limit);
        tokio::pin!(deadline);
        let write = self.connection.write_all(&self.out);
        tokio::pin!(write);
        loop {
            tokio::select! {
                biased;
                () = kick.notified(), if watch_kick => {
                    if !established.claim.log_out.load(Ordering::Acquire) {
                        return Ok(slow_reader());
                    }
                    watch_kick = false;
                }
                written = &mut write => {
                    written?;
                    return Ok(status);
                }
                () = self.shutdown.recv(), if watch_shutdown => {
                    watch_shutdown = false;
                    self.shutdown_unanswered = true;
                    let grace = self.context.config.shutdown_grace;
                    let end = *self
                        .shutdown_deadline
                        .get_or_insert_with(|| tokio::time::Instant::now() + grace);
                    if end < deadline.deadline() {
                        deadline.as_mut().reset(end);
                    }
                }
                () = &mut deadline => return Ok(stalled_reader(limit)),
            }
        }
    }

    /// How long a write may take: `write_timeout`, at most a second for an ending session's
    /// last bytes, and no later than the shutdown's deadline once it began.
    fn write_time_limit(&self, status: Status, shutting_down: bool) -> Duration {
        let config = &self.context.config;
        let mut limit = config.write_timeout;
        if status != Status::Active {
            limit = limit.min(LAST_WRITE_MAX);
        }
        if shutting_down {
            let left = self.shutdown_deadline.map_or(config.shutdown_grace, |end| {
                end.saturating_duration_since(tokio::time::Instant::now())
            });
            limit = limit.min(left);
        }
        limit
    }

    async fn next_event(&mut self, established: &mut Established) -> Result<Event, GatewayError> {
        let deadline = established.session.deadline().map(|ms| self.context.clock.instant_at(ms));
        let timer = async move {
            match deadline {
                Some(deadline) => sleep_until(deadline).await,
                None => std::future::pending().await,
            }
        };
        if std::mem::take(&mut self.shutdown_unanswered) {
            return Ok(Event::Shutdown);
        }
        if established.claim.log_out.load(Ordering::Acquire) {
            return Ok(Event::SlowReader);
        }
        let shutting_down = self.shutdown.is_shutdown();
        // After our Logout the queue waits (see `drain_queue`).
        let sending = !established.session.logout_sent();
        let shutdown_over = async {
            match self.shutdown_deadline {
                Some(end) => sleep_until(end).await,
                None => std::future::pending().await,
            }
        };
        Ok(tokio::select! {
            biased;
            () = self.shutdown.recv(), if !shutting_down => Event::Shutdown,
            () = shutdown_over => Event::ShutdownOver,
            () = established.claim.kick.notified() => Event::SlowReader,
            read = self.connection.read() => match read {
                Err(GatewayError::MessageTooLarge { limit }) => Event::TooLarge(limit),
                read => Event::Read(read?),
            },
            Some(message) = established.claim.queue.recv(), if sending => Event::Outbound(message),
            () = timer => Event::Timer,
        })
    }

    /// Handles one event under the store lock; outbound bytes go to `self.out`, and their
    /// store records to the store's file (flushed) before the caller writes them.
    fn handle(
        &mut self,
        established: &mut Established,
        event: Event,
    ) -> Result<Status, GatewayError> {
        let now = self.now();
        let Established { session, claim, .. } = established;
        let store_ref = claim.store_ref();
        let mut store = store_ref.lock();
        let store = &mut **store;
        let status = match event {
            Event::Shutdown => {
                let grace = self.context.config.shutdown_grace;
                self.shutdown_deadline.get_or_insert_with(|| tokio::time::Instant::now() + grace);
                drain_queue(session, &mut claim.queue, now, store, &mut self.out)?;
                info!("shutdown: logging out");
                session.logout(now, Some("Exchange shutting down"), store, &mut self.out)?;
                Status::Active
            }
            Event::ShutdownOver => {
                warn!("disconnecting: no Logout answer within the shutdown's grace");
                Status::Disconnect { voluntary: false, reason: "shutting down: grace over" }
            }
            // A kick asking for a Logout is answered below.
            Event::SlowReader if claim.log_out.load(Ordering::Acquire) => Status::Active,
            Event::SlowReader => slow_reader(),
            Event::Outbound(queued) => {
                write_queued(session, &queued, now, store, &mut self.out)?;
                drain_queue(session, &mut claim.queue, now, store, &mut self.out)?;
                Status::Active
            }
            Event::Timer => {
                drain_queue(session, &mut claim.queue, now, store, &mut self.out)?;
                session.on_timer(now, store, &mut self.out)?
            }
            Event::Read(Read::Closed) => {
                Status::Disconnect { voluntary: false, reason: "connection closed by peer" }
            }
            // Nothing after such a frame can be trusted to be framed: a Logout says why, and
            // the session ends without waiting for the answer.
            Event::TooLarge(limit) => {
                let text = format!("message larger than {limit} bytes");
                session.logout(now, Some(&text), store, &mut self.out)?;
                Status::Disconnect { voluntary: false, reason: "message larger than the limit" }
            }
            Event::Read(Read::Garbled(error)) => {
                log_dropped(&mut self.dropped, now, "garbled", &error);
                Status::Active
            }
            Event::Read(Read::Frame(length)) => {
                self.answer_frames(session, &mut claim.queue, store, length)?
            }
        };
        // The exchange logs out a session it throttled for too long (it kicked it too), after
        // the reply to its last message, which is in the queue by then.
        let status = if claim.log_out.swap(false, Ordering::AcqRel) {
            warn!("logging out: sustained throttle abuse");
            drain_queue(session, &mut claim.queue, now, store, &mut self.out)?;
            session.logout(now, Some(THROTTLE_ABUSE), store, &mut self.out)?;
            Status::Disconnect { voluntary: false, reason: "sustained throttle abuse" }
        } else {
            status
        };
        // What goes on the wire next must be in the store's file first (write-behind stores).
        store.flush()?;
        Ok(status)
    }

    /// Answers the frame of `length` bytes at the front of the read buffer and those already
    /// read behind it, so that one flush of the store and one socket write cover them all.
    fn answer_frames(
        &mut self,
        session: &mut Session,
        queue: &mut mpsc::Receiver<Queued>,
        store: &mut dyn birzha_fix::session::SessionStore,
        length: usize,
    ) -> Result<Status, GatewayError> {
        let application = &*self.context.application;
        let mut next = Some(Read::Frame(length));
        let mut status = Status::Active;
        for round in 1..=FRAMES_PER_EVENT_MAX {
            // Each frame at its own time; the batch ends when the clock's millisecond
            // turns, so a frame that waited (a full engine queue) ends it.
            let now = self.context.clock.now();
            match next.take() {
                Some(Read::Frame(length)) => {
                    drain_queue(session, queue, now, store, &mut self.out)?;
                    status = match self.connection.view(length) {
                        Ok(view) => {
                            session.on_message(now, &view, application, store, &mut self.out)?
                        }
                        Err(error) => {
                            log_dropped(&mut self.dropped, now, "malformed", &error);
                            Status::Active
                        }
                    };
                    self.connection.consume(length);
                    if session.resending() {
                        // The rest of the resend first (`resend_rest`); then the queue and the
                        // frames read behind this one.
                        break;
                    }
                    drain_queue(session, queue, now, store, &mut self.out)?;
                }
                Some(Read::Garbled(error)) => {
                    log_dropped(&mut self.dropped, now, "garbled", &error);
                }
                Some(Read::Closed) | None => break,
            }
            if status != Status::Active
                || self.out.len() >= OUT_BATCH_BYTES
                || round == FRAMES_PER_EVENT_MAX
                || self.context.clock.now() != now
            {
                break;
            }
            // A frame over the size limit is left for the next read to report.
            next = self.connection.buffered().ok().flatten();
        }
        Ok(status)
    }
}

/// Logs a frame dropped for `error` (`what`: garbled or malformed), at most a line a second:
/// a peer sending thousands must not flood the log.
fn log_dropped(
    limit: &mut LogLimit,
    now: UtcTimestamp,
    what: &'static str,
    error: &dyn std::fmt::Display,
) {
    if let Some(left_out) = limit.admit(now.0) {
        warn!(%error, what, left_out, "dropped a message");
    }
}

/// Vets the Logon `frame` from `peer` and establishes the session or refuses it; the answer
/// goes to `out`. Blocking: it runs the application's authentication.
fn answer_logon<A: Application + Send + Sync + 'static>(
    context: &Context<A>,
    peer: SocketAddr,
    now: UtcTimestamp,
    frame: &[u8],
    out: &mut Vec<u8>,
) -> Result<Option<Established>, GatewayError> {
    let mut fields = Fields::with_capacity(context.session_config.fields_max);
    let view = match parse(frame, &mut fields) {
        Ok(view) => view,
        Err(error) => {
            if let Some(left_out) = context.admit_pre_logon() {
                warn!(%error, left_out, "malformed first message: disconnecting");
            }
            return Ok(None);
        }
    };
    let application = &*context.application;
    let config = &context.session_config;
    let refusal = match check_logon(config, &context.dictionary, application, now, &view) {
        Err(refusal) => refusal,
        Ok(request) => {
            let comp_id = request.sender_comp_id.to_owned();
            let claimed = match context.sessions.claim(&comp_id) {
                Ok(claimed) => claimed,
                Err(error) => {
                    // Not the trader's fault: no backoff, and the operator is told what to fix.
                    error!(comp_id, %error, "Logon refused: the session store cannot be opened");
                    let refusal = Refusal::new("Session store unavailable: contact the exchange");
                    write_refusal(config, now, Some(&view), &refusal, out);
                    return Ok(None);
                }
            };
            if let Some(mut claim) = claimed {
                let store_ref = claim.store_ref();
                let mut store = store_ref.lock();
                claim.settle_before_logon(&context.sessions, &comp_id, &mut **store);
                let established = Session::establish(
                    Arc::clone(config),
                    Arc::clone(&context.dictionary),
                    application,
                    now,
                    &view,
                    &request,
                    &mut **store,
                    out,
                )
                .map_err(GatewayError::from)
                .and_then(|(mut session, status)| match store.flush() {
                    Ok(()) => Ok((session, status)),
                    Err(error) => {
                        // The application saw the Logon: it must see the session end.
                        session.end(application, false);
                        Err(error.into())
                    }
                });
                drop(store);
                let (session, status) = match established {
                    Ok(established) => established,
                    Err(error) => {
                        // Nothing was sent: the CompID must not stay claimed.
                        context.sessions.release(&comp_id, claim);
                        return Err(error);
                    }
                };
                context.backoff.accepted(peer.ip());
                if let Status::Disconnect { reason, .. } = status {
                    warn!(comp_id, reason, "Logon refused by the session layer");
                }
                return Ok(Some(Established { session, claim, comp_id, status }));
            }
            Refusal::new("Already logged on")
        }
    };
    let sender_comp_id = birzha_fix::printable(view.get(49).unwrap_or_default());
    warn!(%sender_comp_id, reason = %refusal.text, "Logon refused");
    context.backoff.refused(peer.ip());
    write_refusal(config, now, Some(&view), &refusal, out);
    Ok(None)
}

/// A write that did not finish in time: the peer stopped reading while only the session layer
/// was writing to it (heartbeats, rejects, a resend), so no queue overflowed to say so.
fn stalled_reader(write_timeout: std::time::Duration) -> Status {
    warn!(?write_timeout, "disconnecting: a write did not finish in time (slow reader)");
    Status::Disconnect { voluntary: false, reason: "slow reader: a write did not finish in time" }
}

fn slow_reader() -> Status {
    warn!("disconnecting: outbound queue overflowed (slow reader) or the exchange asked");
    Status::Disconnect { voluntary: false, reason: "slow reader or disconnected by the exchange" }
}

/// Sends what the application has queued. Messages already numbered ([`Queued::Stored`])
/// are all written before the session numbers anything else, so the wire keeps sequence
/// order; otherwise up to [`OUTBOUND_BATCH_MAX`] messages go per event. Nothing while a resend
/// is in progress (what is queued is numbered after its range) or after our Logout (it would
/// follow it): stored messages wait in the store for the trader's next ResendRequest, the
/// others are stored when the session ends.
fn drain_queue(
    session: &mut Session,
    queue: &mut mpsc::Receiver<Queued>,
    now: UtcTimestamp,
    store: &mut dyn birzha_fix::session::SessionStore,
    out: &mut Vec<u8>,
) -> Result<(), GatewayError> {
    if session.resending() || session.logout_sent() {
        return Ok(());
    }
    let mut numbered_here = 0;
    while let Ok(queued) = queue.try_recv() {
        let numbers = matches!(queued, Queued::Message(_));
        write_queued(session, &queued, now, store, out)?;
        numbered_here += usize::from(numbers);
        if numbered_here >= OUTBOUND_BATCH_MAX {
            break;
        }
    }
    Ok(())
}

/// Writes one queued message: numbering and storing it first unless that is done.
fn write_queued(
    session: &mut Session,
    queued: &Queued,
    now: UtcTimestamp,
    store: &mut dyn birzha_fix::session::SessionStore,
    out: &mut Vec<u8>,
) -> Result<(), GatewayError> {
    match queued {
        Queued::Message(message) => {
            session.send(now, &message.outgoing(), store, out)?;
        }
        Queued::Stored(bytes) => out.extend_from_slice(bytes),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pre_logon_lines_are_limited_per_second_and_the_next_counts_the_rest() {
        let mut log = PreLogonLog::default();
        let admitted = (0..100).filter_map(|_| log.admit(5_000)).count();
        assert_eq!(admitted, PRE_LOGON_LINES_PER_SECOND as usize);
        assert_eq!(log.admit(5_999), None, "the same second");
        assert_eq!(log.admit(6_000), Some(81), "the next second's first line counts the rest");
        assert_eq!(log.admit(6_001), Some(0));
    }
}
