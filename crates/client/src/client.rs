//! The tokio side: a session task that owns the connection, and the handles a trader holds.
//!
//! [`Client::connect`] opens the TCP connection, spawns the session task, and returns once the
//! exchange has answered the Logon. The task alone reads and writes the socket: it `select!`s
//! (biased, in this order) over the next inbound frame, the next request from the
//! [`RequestSender`]s, and the heartbeat timer. Decoded events go to [`Events`], a bounded
//! channel: if nobody reads it the task waits, stops reading the socket, and the exchange will
//! in time disconnect the slow reader, so read events while sending (the load generator reads
//! them on a separate task). Dropping [`Events`] discards events instead.
//!
//! # Ending
//! [`Client::logout`] sends a Logout and waits (at most [`ClientConfig::logout_timeout`]) for
//! the exchange's; a clean Logout keeps the trader's Day orders, where a dropped connection
//! triggers the exchange's cancel-on-disconnect. Dropping every sender (the [`Client`] and all
//! [`RequestSender`]s) also logs out. A Logout from the exchange is answered, delivered as
//! [`Event::Logout`], and ends the task; [`Client::wait`] then returns its reason.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use birzha_fix::UtcTimestamp;
use tokio::net::{TcpStream, ToSocketAddrs};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until};
use tracing::{debug, warn};

use crate::connection::{Connection, Read};
use crate::session::{Flow, Logon, Session};
use crate::{ClientError, Event, Request};

/// How a client logs on and behaves.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// SenderCompID (49): the trader's code.
    pub sender_comp_id: String,
    /// TargetCompID (56): the exchange's CompID, `BIRZHA` by default.
    pub target_comp_id: String,
    /// Password (554).
    pub password: Option<String>,
    /// HeartBtInt (108), seconds; the exchange accepts 5 to 120 by default.
    pub heartbeat_secs: u32,
    /// MsgSeqNum of our first message. The exchange keeps a trader's numbers across
    /// reconnects and refuses a Logon numbered below what it expects, so a client that
    /// reconnects passes the [`SequenceNumbers`] it had at the end of its last session.
    pub sender_seq_next: u64,
    /// MsgSeqNum expected of the exchange's first message; a higher one makes the client ask
    /// for the gap (messages missed while away), `None` accepts whatever the exchange sends.
    pub target_seq_next: Option<u64>,
    /// Sends ResetSeqNumFlag (141) = Y: both sides start again at 1, and the exchange forgets
    /// the messages it kept for resend.
    pub reset_seq_nums: bool,
    /// How long to wait for the exchange's answer to the Logon.
    pub logon_timeout: Duration,
    /// How long to wait for the exchange's answer to our Logout.
    pub logout_timeout: Duration,
    /// The largest message accepted from the exchange, bytes.
    pub message_size_max: usize,
    /// Capacity of the requests channel (senders wait when it is full).
    pub requests_max: usize,
    /// Capacity of the events channel (the session task waits when it is full).
    pub events_max: usize,
    /// The most messages held behind a sequence gap while the exchange resends.
    pub gap_queue_max: usize,
}

impl ClientConfig {
    /// The defaults for `trader` logging on to `BIRZHA` with `password`: heartbeat 30 s,
    /// numbers from 1 (expected inbound number taken from the exchange), no reset.
    pub fn new(trader: impl Into<String>, password: impl Into<String>) -> ClientConfig {
        ClientConfig {
            sender_comp_id: trader.into(),
            target_comp_id: "BIRZHA".into(),
            password: Some(password.into()),
            heartbeat_secs: 30,
            sender_seq_next: 1,
            target_seq_next: None,
            reset_seq_nums: false,
            logon_timeout: Duration::from_secs(10),
            logout_timeout: Duration::from_secs(5),
            message_size_max: 1 << 20,
            requests_max: 4096,
            events_max: 65_536,
            gap_queue_max: 1 << 20,
        }
    }
}

/// The session's sequence numbers: what a client must pass to its next Logon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SequenceNumbers {
    /// MsgSeqNum of the next message we send.
    pub sender_next: u64,
    /// MsgSeqNum expected of the exchange's next message; `None` if none was received.
    pub target_next: Option<u64>,
}

/// How a session ended without error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndReason {
    /// We logged out and the exchange answered (or closed the connection).
    LoggedOut,
    /// We logged out and the exchange did not answer in time.
    LogoutUnanswered,
    /// The exchange logged us out, with this Text (58).
    LoggedOutByExchange(Option<String>),
}

/// The end of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionEnd {
    /// How it ended.
    pub reason: EndReason,
    /// The numbers to log on with next time.
    pub numbers: SequenceNumbers,
}

/// Sequence numbers the task publishes for the handles: 0 stands for "unknown".
#[derive(Debug, Default)]
struct SharedNumbers {
    sender_next: AtomicU64,
    target_next: AtomicU64,
}

impl SharedNumbers {
    fn publish(&self, session: &Session) {
        self.sender_next.store(session.sender_seq_next(), Ordering::Relaxed);
        self.target_next.store(session.target_seq_next().unwrap_or(0), Ordering::Relaxed);
    }

    fn get(&self) -> SequenceNumbers {
        let target = self.target_next.load(Ordering::Relaxed);
        SequenceNumbers {
            sender_next: self.sender_next.load(Ordering::Relaxed),
            target_next: (target > 0).then_some(target),
        }
    }
}

/// What a handle asks the session task to do.
#[derive(Debug)]
enum Command {
    /// Send a validated request.
    Send(Request),
    /// Send a Logout and end the session.
    Logout,
}

/// Sends requests into a session; cheap to clone, usable from any task.
#[derive(Debug, Clone)]
pub struct RequestSender {
    /// The session task holds the receiving half; it ends the session (with a Logout) when
    /// every sender is gone.
    commands: mpsc::Sender<Command>,
}

impl RequestSender {
    /// Validates `request` and queues it for sending; waits while the queue is full.
    ///
    /// # Errors
    /// Returns [`ClientError::Request`] for an invalid value (nothing is sent) and
    /// [`ClientError::SessionEnded`] if the session is over.
    pub async fn send(&self, request: impl Into<Request>) -> Result<(), ClientError> {
        let request = request.into();
        request.validate()?;
        self.commands.send(Command::Send(request)).await.map_err(|_| ClientError::SessionEnded)
    }
}

/// The receiving end of a session's events. `None` once the session has ended.
#[derive(Debug)]
pub struct Events {
    /// The session task holds the sending half.
    receiver: mpsc::Receiver<Event>,
}

impl Events {
    /// The next event; `None` after the session has ended and every event was read.
    pub async fn recv(&mut self) -> Option<Event> {
        self.receiver.recv().await
    }
}

/// A logged-on FIX session with the exchange. See the module documentation.
#[derive(Debug)]
pub struct Client {
    /// Sends requests and the Logout to the session task.
    sender: RequestSender,
    /// The session task; its result says how the session ended.
    task: JoinHandle<Result<SessionEnd, ClientError>>,
    /// The task's current sequence numbers.
    numbers: Arc<SharedNumbers>,
}

impl Client {
    /// Connects to `address`, logs on, and returns once the exchange has answered the Logon.
    ///
    /// # Errors
    /// Returns [`ClientError::Io`] if the connection fails, [`ClientError::LogonRefused`] with
    /// the exchange's reason, or [`ClientError::LogonTimeout`].
    pub async fn connect(
        address: impl ToSocketAddrs,
        config: ClientConfig,
    ) -> Result<(Client, Events), ClientError> {
        let stream = TcpStream::connect(address)
            .await
            .map_err(ClientError::io("connecting to the exchange"))?;
        let (commands, commands_received) = mpsc::channel(config.requests_max.max(1));
        let (events_sent, receiver) = mpsc::channel(config.events_max.max(1));
        let (logged_on, logon_answered) = oneshot::channel();
        let numbers = Arc::new(SharedNumbers::default());
        let task = Task::new(stream, &config, commands_received, events_sent, Arc::clone(&numbers));
        let task = tokio::spawn(task.run(config, logged_on));
        if logon_answered.await.is_err() {
            return Err(match task.await {
                Ok(Err(error)) => error,
                Ok(Ok(end)) => ClientError::LogonRefused { text: format!("{:?}", end.reason) },
                Err(_) => ClientError::SessionEnded,
            });
        }
        let client = Client { sender: RequestSender { commands }, task, numbers };
        Ok((client, Events { receiver }))
    }

    /// A sender for other tasks.
    #[must_use]
    pub fn sender(&self) -> RequestSender {
        self.sender.clone()
    }

    /// Validates `request` and queues it for sending.
    ///
    /// # Errors
    /// As [`RequestSender::send`].
    pub async fn send(&self, request: impl Into<Request>) -> Result<(), ClientError> {
        self.sender.send(request).await
    }

    /// The current sequence numbers.
    #[must_use]
    pub fn sequence_numbers(&self) -> SequenceNumbers {
        self.numbers.get()
    }

    /// Sends a Logout, waits for the exchange's answer and the end of the session.
    ///
    /// # Errors
    /// Returns the error that ended the session, if it failed.
    pub async fn logout(self) -> Result<SessionEnd, ClientError> {
        let _ = self.sender.commands.send(Command::Logout).await;
        self.wait().await
    }

    /// Waits for the session to end (a Logout from the exchange, or a failure).
    ///
    /// # Errors
    /// Returns the error that ended the session, if it failed.
    pub async fn wait(self) -> Result<SessionEnd, ClientError> {
        self.task.await.map_err(|_| ClientError::SessionEnded)?
    }
}

/// The session task's state.
struct Task {
    connection: Connection,
    session: Session,
    /// Requests from the handles.
    commands: mpsc::Receiver<Command>,
    /// Events to the trader.
    events: mpsc::Sender<Event>,
    /// Where the handles read the sequence numbers.
    numbers: Arc<SharedNumbers>,
    /// Bytes to write: whole frames.
    out: Vec<u8>,
    /// Events decoded but not yet delivered.
    pending: Vec<Event>,
    /// HeartBtInt.
    heartbeat: Duration,
    last_sent: Instant,
    last_received: Instant,
    /// Whether our TestRequest awaits an answer.
    test_request_pending: bool,
    /// When our Logout, once sent, stops waiting for the exchange's.
    logout_deadline: Option<Instant>,
    logout_timeout: Duration,
    /// Set when the session is over.
    ended: Option<EndReason>,
}

/// Requests taken from the channel per write, so a flood is written in batches.
const BATCH_REQUESTS_MAX: usize = 256;

/// How long a session ending on the exchange's messages waits for the answer to its Logout.
const LOGOUT_ANSWER_WAIT: Duration = Duration::from_millis(500);

fn utc_now() -> UtcTimestamp {
    let elapsed = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    UtcTimestamp(i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
}

impl Task {
    fn new(
        stream: TcpStream,
        config: &ClientConfig,
        commands: mpsc::Receiver<Command>,
        events: mpsc::Sender<Event>,
        numbers: Arc<SharedNumbers>,
    ) -> Task {
        let session = Session::new(
            &config.sender_comp_id,
            &config.target_comp_id,
            config.sender_seq_next.max(1),
            config.target_seq_next,
            config.gap_queue_max,
        );
        let now = Instant::now();
        Task {
            connection: Connection::new(stream, config.message_size_max),
            session,
            commands,
            events,
            numbers,
            out: Vec::with_capacity(64 * 1024),
            pending: Vec::new(),
            heartbeat: Duration::from_secs(u64::from(config.heartbeat_secs.max(1))),
            last_sent: now,
            last_received: now,
            test_request_pending: false,
            logout_deadline: None,
            logout_timeout: config.logout_timeout,
            ended: None,
        }
    }

    async fn run(
        mut self,
        config: ClientConfig,
        logged_on: oneshot::Sender<()>,
    ) -> Result<SessionEnd, ClientError> {
        let result = self.logon(&config).await;
        self.numbers.publish(&self.session);
        if let Err(error) = result {
            self.log_out_on(&error).await;
            return Err(error);
        }
        let _ = logged_on.send(());
        let result = self.serve().await;
        self.numbers.publish(&self.session);
        if let Err(error) = &result {
            self.log_out_on(error).await;
        }
        let _ = self.connection.write_all(&self.out).await;
        self.connection.close().await;
        let reason = result?;
        Ok(SessionEnd { reason, numbers: self.numbers.get() })
    }

    /// Ends the session with a Logout saying why, when it ends on the exchange's messages
    /// (numbers too low, a gap too large, a message too large) rather than on the connection:
    /// closed without one, the exchange would take it for a lost connection and cancel the
    /// trader's Day orders (cancel-on-disconnect). Not waited for: the connection closes next.
    async fn log_out_on(&mut self, error: &ClientError) {
        let ours = matches!(
            error,
            ClientError::SequenceTooLow { .. }
                | ClientError::GapTooLarge { .. }
                | ClientError::MessageTooLarge { .. }
        );
        if ours {
            let text = error.to_string();
            self.session.admin(b"5", Some((58, text.as_bytes())), utc_now(), &mut self.out);
            let _ = self.connection.write_all(&self.out).await;
            self.out.clear();
            // The exchange's Logout in answer: read briefly, so that ours is taken before the
            // socket closes (the exchange ends the session on our Logout, not on the close).
            let _ = tokio::time::timeout(LOGOUT_ANSWER_WAIT, self.connection.read()).await;
        }
    }

    /// Sends the Logon and reads until the exchange answers it.
    async fn logon(&mut self, config: &ClientConfig) -> Result<(), ClientError> {
        let logon = Logon {
            heartbeat_secs: config.heartbeat_secs,
            password: config.password.as_deref(),
            reset: config.reset_seq_nums,
        };
        self.session.logon(&logon, utc_now(), &mut self.out);
        self.flush().await?;
        let seconds = config.logon_timeout.as_secs();
        let deadline = Instant::now() + config.logon_timeout;
        while !self.session.logged_on() {
            let read = tokio::time::timeout_at(deadline, self.connection.read())
                .await
                .map_err(|_| ClientError::LogonTimeout { seconds })??;
            if let Some(EndReason::LoggedOutByExchange(text)) = self.on_read(read)? {
                let text = text.unwrap_or_else(|| "no reason given".into());
                return Err(ClientError::LogonRefused { text });
            }
            self.flush().await?;
        }
        // A Logout sent right behind the Logon answer (MsgSeqNum too low) refuses the Logon.
        while let Some(read) = self.connection.buffered()? {
            if let Some(EndReason::LoggedOutByExchange(text)) = self.on_read(read)? {
                let text = text.unwrap_or_else(|| "no reason given".into());
                return Err(ClientError::LogonRefused { text });
            }
        }
        Ok(())
    }

    /// The session loop; returns how the session ended.
    async fn serve(&mut self) -> Result<EndReason, ClientError> {
        loop {
            self.flush().await?;
            self.deliver().await;
            if let Some(reason) = self.ended.take() {
                return Ok(reason);
            }
            let deadline = self.deadline();
            let logging_out = self.logout_deadline.is_some();
            tokio::select! {
                biased;
                read = self.connection.read() => {
                    let read = read?;
                    if let Some(reason) = self.on_read(read)? {
                        self.ended = Some(reason);
                    }
                }
                command = self.commands.recv(), if !logging_out => self.on_command(command),
                () = sleep_until(deadline) => self.on_timer()?,
            }
        }
    }

    /// Handles one read; returns the end of the session if it ended.
    fn on_read(&mut self, read: Read) -> Result<Option<EndReason>, ClientError> {
        let length = match read {
            Read::Frame(length) => length,
            Read::Garbled(error) => {
                warn!(%error, "garbled bytes from the exchange: dropped");
                return Ok(None);
            }
            Read::Closed if self.logout_deadline.is_some() => {
                return Ok(Some(EndReason::LoggedOut));
            }
            Read::Closed => return Err(ClientError::ConnectionClosed),
        };
        self.last_received = Instant::now();
        self.test_request_pending = false;
        let frame = self.connection.frame(length);
        let flow = self.session.on_frame(frame, utc_now(), &mut self.out, &mut self.pending);
        self.connection.consume(length);
        self.numbers.publish(&self.session);
        match flow? {
            Flow::Continue => Ok(None),
            Flow::LoggedOut(_) if self.logout_deadline.is_some() => Ok(Some(EndReason::LoggedOut)),
            Flow::LoggedOut(text) => {
                // Answer the exchange's Logout, as FIX requires, before closing.
                self.session.admin(b"5", None, utc_now(), &mut self.out);
                Ok(Some(EndReason::LoggedOutByExchange(text)))
            }
        }
    }

    /// Encodes a command and any others already queued, up to a batch.
    fn on_command(&mut self, command: Option<Command>) {
        let mut next = command;
        for _ in 0..BATCH_REQUESTS_MAX {
            match next {
                Some(Command::Send(request)) => {
                    if let Err(error) = self.session.send(&request, utc_now(), &mut self.out) {
                        warn!(%error, "request not sent");
                    }
                }
                Some(Command::Logout) | None => {
                    debug!("logging out");
                    self.session.admin(b"5", None, utc_now(), &mut self.out);
                    self.logout_deadline = Some(Instant::now() + self.logout_timeout);
                    return;
                }
            }
            next = match self.commands.try_recv() {
                Ok(command) => Some(command),
                Err(_) => return,
            };
        }
    }

    /// The next time the timer must fire.
    fn deadline(&self) -> Instant {
        let silence = if self.test_request_pending {
            self.last_received + self.heartbeat.mul_f64(2.4)
        } else {
            self.last_received + self.heartbeat.mul_f64(1.2)
        };
        let deadline = silence.min(self.last_sent + self.heartbeat);
        self.logout_deadline.map_or(deadline, |logout| logout.min(deadline))
    }

    fn on_timer(&mut self) -> Result<(), ClientError> {
        let now = Instant::now();
        if self.logout_deadline.is_some_and(|deadline| now >= deadline) {
            self.ended = Some(EndReason::LogoutUnanswered);
            return Ok(());
        }
        let silent = now.saturating_duration_since(self.last_received);
        if silent >= self.heartbeat.mul_f64(2.4) {
            return Err(ClientError::Silent { seconds: silent.as_secs() });
        }
        if silent >= self.heartbeat.mul_f64(1.2) && !self.test_request_pending {
            self.session.admin(b"1", Some((112, b"TEST")), utc_now(), &mut self.out);
            self.test_request_pending = true;
        } else if now >= self.last_sent + self.heartbeat {
            self.session.admin(b"0", None, utc_now(), &mut self.out);
        }
        Ok(())
    }

    /// Writes what the session produced.
    async fn flush(&mut self) -> Result<(), ClientError> {
        if self.out.is_empty() {
            return Ok(());
        }
        self.connection.write_all(&self.out).await?;
        self.out.clear();
        self.last_sent = Instant::now();
        self.numbers.publish(&self.session);
        Ok(())
    }

    /// Hands decoded events to the trader, waiting while the channel is full.
    async fn deliver(&mut self) {
        for event in self.pending.drain(..) {
            if self.events.send(event).await.is_err() {
                // Nobody listens: the events are dropped, the session goes on.
            }
        }
    }
}
