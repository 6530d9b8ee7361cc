//! The exchange application: what runs above the FIX session layer in the Birzha server.
//!
//! ```text
//!  trader ──FIX──▶ session ──▶ Exchange::on_message ──Input──▶ engine shard (sequencer,
//!                                   │  (throttle, parse,            journal, books)
//!                                   │   local rejects)                    │ OutputBatch
//!                                   ▼                                     ▼
//!                              Command channel ─────────────▶ dispatcher thread
//!                                                            (FIX reports, market data,
//!                                                             operator log, watermarks)
//!                                                                         │ send_stored
//!  trader ◀──FIX── session ◀── per-trader store and queue ◀───────────────┘
//! ```
//!
//! [`Exchange`] authenticates traders against argon2 password hashes, throttles each session,
//! turns order messages into engine inputs (waiting a bounded time when a shard's queue is full)
//! and cancels a trader's orders per its cancel-on-disconnect mode when its session drops. The
//! dispatcher (started by [`Exchange::start`]) is the only sender of messages to traders.

mod dispatcher;
mod inbound;
mod market_data;
mod report;
mod throttle;
mod watermark;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use argon2::PasswordVerifier;
use argon2::password_hash::phc::PasswordHash;
use birzha_book::TraderId;
use birzha_engine::{EngineHandle, Input, OutputBatch, Registry, SubmitError};
use birzha_fix::MessageView;
use birzha_fix::session::{Application, Delivery, LogonRequest, Refusal, SessionId};
use crossbeam::channel::{self, Receiver, Sender, TrySendError};
use tracing::{info, warn};

pub use dispatcher::STATS_INTERVAL;
pub use watermark::Watermarks;

use dispatcher::Command;
use inbound::{LocalIds, Request};
use throttle::{Cost, Throttle, Verdict};

use crate::Sessions;

/// A trader's logon credentials.
#[derive(Clone, Debug)]
pub struct Login {
    /// The trader's code: its SenderCompID.
    pub trader: String,
    /// The argon2 hash of its password (PHC string).
    pub password_hash: String,
}

/// How the exchange application behaves.
#[derive(Clone, Debug)]
pub struct ExchangeOptions {
    /// Every trader allowed to log on.
    pub logins: Vec<Login>,
    /// New orders and modifies per second per session.
    pub orders_per_second: u32,
    /// Cancels per second per session.
    pub cancels_per_second: u32,
    /// How long a session waits for room in a full shard queue before refusing with BUSY.
    pub submit_timeout: Duration,
    /// Capacity of the queue of gateway replies and market-data requests.
    pub commands_max: usize,
}

/// The exchange application. See the module documentation.
#[derive(Debug)]
pub struct Exchange {
    registry: Arc<Registry>,
    /// To disconnect a session that abuses the throttle.
    sessions: Sessions,
    engine: EngineHandle,
    /// Trader code → (id, password hash).
    logins: BTreeMap<String, (TraderId, String)>,
    commands: Sender<Command>,
    throttles: Mutex<BTreeMap<String, Throttle>>,
    /// Traders whose session completed its Logon: only their sessions' ends can trigger
    /// cancel-on-disconnect (a refused Logon, e.g. with a stale MsgSeqNum, does not).
    logged_on: Mutex<std::collections::BTreeSet<String>>,
    /// Set when the acceptor shuts down: sessions ended by a shutdown keep their orders (a
    /// restart is not a disconnect, market.md), even those that do not answer its Logout.
    stopping: AtomicBool,
    options: ExchangeOptions,
    /// Origin of the throttles' clock.
    started: Instant,
    /// ExecIDs of the gateway's own rejects.
    local_ids: LocalIds,
}

/// A running exchange application: the application for [`crate::run`] and its dispatcher.
#[derive(Debug)]
pub struct Running {
    /// The application.
    pub exchange: Arc<Exchange>,
    /// The dispatcher thread: it ends after the engine has shut down.
    pub dispatcher: JoinHandle<()>,
}

/// The dispatcher, started on the engine's outputs before the engine itself: the engine's
/// recovery sends the reports it replays for delivery before it returns, and they may be more
/// than the output channel holds. [`Dispatching::with_engine`] then makes the application.
#[derive(Debug)]
pub struct Dispatching {
    commands: Sender<Command>,
    thread: JoinHandle<()>,
}

impl Dispatching {
    /// Starts the dispatcher on `outputs` (the receiving end of the channel the engine will
    /// be started with), delivering from the `watermarks` on.
    ///
    /// # Errors
    /// Returns the I/O error if the dispatcher thread cannot start.
    pub fn start(
        registry: &Arc<Registry>,
        sessions: &Sessions,
        outputs: Receiver<OutputBatch>,
        watermarks: Watermarks,
        commands_max: usize,
    ) -> std::io::Result<Dispatching> {
        let (commands, commands_received) = channel::bounded(commands_max.max(16));
        let thread = dispatcher::spawn(
            Arc::clone(registry),
            sessions.clone(),
            outputs,
            commands_received,
            watermarks,
        )?;
        Ok(Dispatching { commands, thread })
    }

    /// The application over the started engine.
    #[must_use]
    pub fn with_engine(
        self,
        registry: Arc<Registry>,
        engine: EngineHandle,
        sessions: Sessions,
        options: ExchangeOptions,
    ) -> Running {
        let Dispatching { commands, thread: dispatcher } = self;
        let logins = options
            .logins
            .iter()
            .filter_map(|login| {
                let trader = registry.trader(&login.trader)?;
                Some((login.trader.clone(), (trader, login.password_hash.clone())))
            })
            .collect();
        let exchange = Exchange {
            sessions: sessions.clone(),
            registry,
            engine,
            logins,
            commands,
            throttles: Mutex::new(BTreeMap::new()),
            logged_on: Mutex::new(std::collections::BTreeSet::new()),
            stopping: AtomicBool::new(false),
            options,
            started: Instant::now(),
            local_ids: LocalIds::new(),
        };
        Running { exchange: Arc::new(exchange), dispatcher }
    }
}

impl Exchange {
    /// Starts the dispatcher on the engine's `outputs` and returns the application, for an
    /// engine already started (its replay at start-up must fit the output channel; a server
    /// starts the dispatcher first, with [`Dispatching`]).
    ///
    /// # Errors
    /// Returns the I/O error if the dispatcher thread cannot start.
    pub fn start(
        registry: Arc<Registry>,
        engine: EngineHandle,
        sessions: Sessions,
        outputs: Receiver<OutputBatch>,
        watermarks: Watermarks,
        options: ExchangeOptions,
    ) -> std::io::Result<Running> {
        let commands_max = options.commands_max;
        let dispatching =
            Dispatching::start(&registry, &sessions, outputs, watermarks, commands_max)?;
        Ok(dispatching.with_engine(registry, engine, sessions, options))
    }

    fn trader(&self, session: &SessionId) -> Option<TraderId> {
        self.logins.get(&session.remote).map(|(trader, _)| *trader)
    }

    /// Logs `comp_id`'s session out on the first verdict of sustained abuse, through the
    /// dispatcher, so that the Logout follows whatever was queued for the trader before.
    fn log_out_abuse(&self, comp_id: &str, verdict: Verdict) {
        if verdict == (Verdict::Abuse { first: true }) {
            warn!(trader = comp_id, "sustained throttle abuse: logging the session out");
            let command = Command::LogOut { comp_id: comp_id.to_owned() };
            if self.commands.try_send(command).is_err() {
                self.sessions.log_out(comp_id);
            }
        }
    }

    fn throttle(&self, comp_id: &str, cost: Cost) -> Verdict {
        let now = self.started.elapsed();
        let mut throttles = self.throttles.lock().unwrap_or_else(PoisonError::into_inner);
        let options = &self.options;
        if let Some(throttle) = throttles.get_mut(comp_id) {
            return throttle.check(cost, now);
        }
        let throttle = Throttle::new(options.orders_per_second, options.cancels_per_second, now);
        throttles.entry(comp_id.to_owned()).or_insert(throttle).check(cost, now)
    }

    /// Hands a reply to the dispatcher, which stores and sends it. Never waits for room: the
    /// caller holds the trader's store lock, which the dispatcher needs to store any of the
    /// trader's messages, so waiting could deadlock them (a trader flooding requests answered
    /// this way filled the channel and stopped every trader's reports). With the channel full
    /// the request is refused in-band: the session sends a BusinessMessageReject itself.
    fn reply(&self, comp_id: &str, request: Request) -> Delivery {
        let command = match request {
            Request::Reply(msg_type, body) => {
                Command::Reply { comp_id: comp_id.to_owned(), msg_type, body }
            }
            Request::MarketData(request) => {
                Command::MarketData { comp_id: comp_id.to_owned(), request }
            }
            Request::Refused { reason, text } => return Delivery::Rejected { reason, text },
            Request::Engine(_) => return Delivery::Accepted,
        };
        match self.commands.try_send(command) {
            Ok(()) => Delivery::Accepted,
            Err(TrySendError::Full(_)) => {
                warn!(comp_id, "BUSY: the dispatcher's queue is full: request refused");
                let text = "BUSY: the exchange cannot answer this request now; send it again";
                Delivery::Rejected {
                    reason: inbound::BUSINESS_REJECT_UNAVAILABLE,
                    text: text.into(),
                }
            }
            Err(TrySendError::Disconnected(_)) => {
                warn!(comp_id, "the dispatcher has stopped: reply dropped");
                Delivery::Accepted
            }
        }
    }
}

fn cost(msg_type: &[u8]) -> Cost {
    match msg_type {
        b"D" | b"G" => Cost::Order,
        _ => Cost::Cancel,
    }
}

impl Application for Exchange {
    fn authenticate(&self, logon: &LogonRequest<'_>) -> Result<(), Refusal> {
        let Some((_, hash)) = self.logins.get(logon.sender_comp_id) else {
            return Err(Refusal::new("unknown trader"));
        };
        let Some(password) = logon.password else {
            return Err(Refusal::new("Password (554) is required"));
        };
        let verified = PasswordHash::new(hash).is_ok_and(|hash| {
            argon2::Argon2::default().verify_password(password.as_bytes(), &hash).is_ok()
        });
        if verified { Ok(()) } else { Err(Refusal::new("wrong password")) }
    }

    fn on_logon(&self, session: &SessionId) {
        info!(trader = %session.remote, "trader logged on");
        // A new session that keeps on abusing is logged out again, even if its flood runs on
        // from the last session's (the rate and its record of seconds carry over).
        let mut throttles = self.throttles.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(throttle) = throttles.get_mut(session.remote.as_str()) {
            throttle.session_started();
        }
        drop(throttles);
        self.logged_on
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(session.remote.clone());
    }

    fn on_message(&self, session: &SessionId, message: &MessageView<'_>) -> Delivery {
        let Some(trader) = self.trader(session) else { return Delivery::Unsupported };
        let comp_id = session.remote.as_str();
        let verdict = self.throttle(comp_id, cost(message.msg_type()));
        if message.msg_type() == b"j" {
            // A trader's reject of one of our messages: logged (within the session's rate, so
            // that a flood of them cannot flood the log), never answered (answering rejects
            // with rejects could go on for ever between two engines).
            if verdict == Verdict::Pass {
                let text = birzha_fix::printable(message.get(58).unwrap_or_default());
                let seq = message.get_u64(45);
                warn!(trader = comp_id, ref_seq_num = seq, %text, "business message reject from a trader");
            }
            self.log_out_abuse(comp_id, verdict);
            return Delivery::Accepted;
        }
        if verdict != Verdict::Pass {
            if verdict == (Verdict::Refuse { first: true }) {
                warn!(trader = comp_id, "THROTTLED: the session is over its message rate");
            }
            let reason = "THROTTLED: over the session's message rate; slow down";
            let delivery = self.reply(comp_id, inbound::refusal(message, reason, &self.local_ids));
            // After the reply above: the Logout goes through the dispatcher, behind it.
            self.log_out_abuse(comp_id, verdict);
            return delivery;
        }
        match inbound::parse(message, trader, &self.registry, &self.local_ids) {
            Request::Engine(input) => self.submit(comp_id, message, input),
            request => self.reply(comp_id, request),
        }
    }

    fn on_shutdown(&self) {
        self.stopping.store(true, Ordering::Release);
    }

    fn on_logout(&self, session: &SessionId, voluntary: bool) {
        // Read first: a session that ended before the shutdown began is a disconnect, even
        // if the shutdown begins while this waits for the dispatcher below.
        let stopping = self.stopping.load(Ordering::Acquire);
        info!(trader = %session.remote, voluntary, "trader logged out");
        // Bounded: a caller may hold the trader's store lock, which the dispatcher may need.
        let ended = Command::SessionEnded { comp_id: session.remote.clone() };
        if self.commands.send_timeout(ended, Duration::from_secs(1)).is_err() {
            warn!(trader = %session.remote, "dispatcher busy: market data subscriptions kept");
        }
        let was_on =
            self.logged_on.lock().unwrap_or_else(PoisonError::into_inner).remove(&session.remote);
        let Some(trader) = self.trader(session).filter(|_| was_on && !voluntary) else {
            return;
        };
        if stopping {
            info!(trader = %session.remote, "cancel on disconnect skipped: shutting down");
        } else if let Err(error) =
            self.engine.submit_timeout(Input::Disconnect { trader }, Duration::from_secs(5))
        {
            warn!(trader = %session.remote, %error, "cannot queue cancel-on-disconnect");
        } else {
            info!(trader = %session.remote, "cancel on disconnect queued");
        }
    }
}

impl Exchange {
    fn submit(&self, comp_id: &str, message: &MessageView<'_>, input: Input) -> Delivery {
        let refusal = match self.engine.submit_timeout(input, self.options.submit_timeout) {
            Ok(()) => return Delivery::Accepted,
            Err(SubmitError::Busy) => "BUSY: the exchange is busy; try again",
            Err(SubmitError::Unavailable) => {
                "UNAVAILABLE: the exchange cannot record orders now (journal fault); not accepted"
            }
            Err(SubmitError::Stopped) => "STOPPED: the exchange is shutting down",
        };
        warn!(trader = comp_id, refusal, "input refused");
        self.reply(comp_id, inbound::refusal(message, refusal, &self.local_ids))
    }
}
