//! `birzha load`: a FIX load generator built on `birzha-client`.
//!
//! Each session (one trader) runs a sender task and a receiver task. The sender sends a seeded
//! stream of requests (passive adds, cancels of its oldest resting order, IOC orders across the
//! book: `--mix`) on the instruments of `--symbols`, priced inside their bands
//! ([`plan::Pricing`]).
//!
//! # Open loop, and no coordinated omission
//! With `--rate R` the k-th request of a session is due at `start + k × sessions / R`, whatever
//! the replies; a thread of its own releases each request at its due time ([`metronome`]); a
//! sender that falls behind sends at once to catch up, and latency is measured from the due
//! time, not the actual send time, so a stalled exchange shows as latency rather than as
//! requests that were silently never sent. A second histogram measures from the actual send,
//! which tells the sender's own lateness apart.
//! With `--flat-out` each session keeps `--window` requests in flight and latency is measured
//! from the actual send.
//!
//! # The end of a run
//! After `--duration` the senders stop; in-flight requests get up to two seconds to be
//! answered (the rest are counted as unanswered); each session then mass-cancels its firm's
//! orders, so the book is left as found, and logs out. Sessions log on with
//! ResetSeqNumFlag (141=Y): the exchange forgets what it kept for these traders.

mod args;
mod cpu;
mod metronome;
mod plan;
mod report;
mod users;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use birzha_client::{
    CancelOrder, Client, ClientConfig, ClientError, Event, Events, ExecType, MassCancel, NewOrder,
    OrderRef, Request, RequestSender, Side, TimeInForce,
};
use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::Semaphore;
use tokio::time::Instant;

pub(crate) use args::LoadArgs;
use args::Mix;
use metronome::{Metronome, Schedule};
use plan::{Kind, Pricing, Random};
pub(crate) use report::Report;

use crate::config::Config;
use crate::trade::TradeError;

/// Logons in flight at once. The exchange verifies passwords with argon2 a few at a time;
/// a thousand Logons sent at once would wait longer than a Logon may take.
const LOGONS_IN_FLIGHT_MAX: usize = 16;

/// How long in-flight requests may take to be answered after the senders stop.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

/// Runs `birzha load`.
///
/// # Errors
/// Returns an error for a bad argument or config, a refused Logon, or a failed session.
pub(crate) fn run(args: &LoadArgs) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    if let Some(count) = args.print_config {
        let text = users::config_with_load_traders(count);
        // A config the server would refuse is not printed (100 000 traders are over the
        // 65 536 a config may have).
        Config::from_toml(&text, "the printed config")
            .with_context(|| format!("--print-config {count} makes a config the server refuses"))?;
        stdout.write_all(text.as_bytes())?;
        return Ok(());
    }
    let plan = Plan::of(args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = runtime.block_on(generate(&plan))?;
    let text = if args.json {
        format!("{}\n", serde_json::to_string_pretty(&report)?)
    } else {
        report.text()
    };
    stdout.write_all(text.as_bytes()).context("cannot write the report")
}

/// Sending speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pace {
    /// Open loop at this many requests per second over all sessions; `true`: in bursts on
    /// tokio's 1 ms timer (`--bursts`).
    Rate(u32, bool),
    /// Closed loop with this many requests in flight per session.
    FlatOut(usize),
}

/// A load run, resolved from the arguments.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) server: std::net::SocketAddr,
    pub(crate) comp_id: String,
    pub(crate) users: Vec<String>,
    pub(crate) password: String,
    pub(crate) pace: Pace,
    pub(crate) duration: Duration,
    pub(crate) mix: Mix,
    pub(crate) instruments: Vec<Pricing>,
    pub(crate) seed: u64,
    pub(crate) progress: bool,
}

impl Plan {
    /// Resolves users and instruments.
    ///
    /// # Errors
    /// Returns an error for an unknown symbol, a bad config, too few users or a zero rate.
    pub(crate) fn of(args: &LoadArgs) -> anyhow::Result<Plan> {
        let config = match &args.config {
            Some(path) => Config::load(path)?,
            None => Config::embedded()?,
        };
        let mut instruments = Vec::new();
        for symbol in &args.symbols {
            let entry = config.instruments.iter().find(|entry| &entry.symbol == symbol);
            let entry =
                entry.with_context(|| format!("--symbols: {symbol} is not in the config"))?;
            instruments.push(Pricing::of(entry));
        }
        if args.rate == 0 && !args.flat_out {
            bail!("--rate must be at least 1");
        }
        Ok(Plan {
            server: args.server,
            comp_id: args.comp_id.clone(),
            users: users_of(args)?,
            password: args.password.clone(),
            pace: if args.flat_out {
                Pace::FlatOut(args.window.max(1))
            } else {
                Pace::Rate(args.rate, args.bursts)
            },
            duration: Duration::from_secs(args.duration.max(1)),
            mix: args.mix,
            instruments,
            seed: args.seed,
            progress: !args.quiet,
        })
    }
}

/// The traders to log on as: see `--users` and `--sessions`.
fn users_of(args: &LoadArgs) -> anyhow::Result<Vec<String>> {
    let users: Vec<String> = match (args.users.is_empty(), args.sessions) {
        (true, None) => (1..=4).map(|index| format!("TRADER{index}")).collect(),
        (true, Some(count)) => (1..=count).map(users::load_trader).collect(),
        (false, None) => args.users.clone(),
        (false, Some(count)) if count <= args.users.len() => args.users[..count].to_vec(),
        (false, Some(count)) => {
            bail!("--sessions {count} needs as many --users (the exchange refuses a second Logon)")
        }
    };
    if users.is_empty() {
        bail!("no sessions");
    }
    Ok(users)
}

/// Counters every task updates, for the progress bar and the report.
#[derive(Debug, Default)]
struct Counters {
    sent_orders: AtomicU64,
    sent_cancels: AtomicU64,
    acks: AtomicU64,
    rejects: AtomicU64,
    fills: AtomicU64,
    filled_lots: AtomicU64,
    cancels: AtomicU64,
    cancel_rejects: AtomicU64,
}

impl Counters {
    fn add(counter: &AtomicU64, count: u64) {
        counter.fetch_add(count, Ordering::Relaxed);
    }

    fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// What one session's sender and receiver share.
#[derive(Debug, Default)]
struct Shared {
    /// Requests awaiting their first answer: ClOrdID → (time latency counts from, time the
    /// request was handed to the client, kind).
    in_flight: Mutex<HashMap<String, (Instant, Instant, Kind)>>,
    /// Passive orders acknowledged, oldest first: ClOrdID, side, instrument index.
    resting: Mutex<VecDeque<(String, Side, usize)>>,
    /// When the last awaited answer came.
    last_answer: Mutex<Option<Instant>>,
    /// The exchange's reason, if it logged the session out.
    logged_out: Mutex<Option<String>>,
}

impl Shared {
    /// The error of a session that ended mid-run, with the exchange's reason if it gave one.
    fn ended(&self, user: &str, what: &str) -> anyhow::Error {
        match lock(&self.logged_out).as_deref() {
            Some(reason) => {
                anyhow::anyhow!("session {user} {what}: logged out by the exchange: {reason}")
            }
            None => anyhow::anyhow!("session {user} {what}"),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What a receiver measured.
struct Measured {
    latency: Histogram<u64>,
    /// From the actual send: without the sender's own lateness.
    from_send: Histogram<u64>,
    rejects: BTreeMap<String, u64>,
    cancel_rejects: BTreeMap<String, u64>,
}

/// A logged-on session and its tasks' shared state.
struct Session {
    index: usize,
    client: Client,
    shared: Arc<Shared>,
    /// With `--flat-out`: a permit per request in flight; the receiver returns them.
    window: Option<Arc<Semaphore>>,
    receiver: tokio::task::JoinHandle<Measured>,
}

/// Runs the load and returns its report.
///
/// # Errors
/// Returns [`TradeError::LogonRefused`] if a trader cannot log on, or a session's error.
pub(crate) async fn generate(plan: &Plan) -> anyhow::Result<Report> {
    let counters = Arc::new(Counters::default());
    let permits = match plan.pace {
        Pace::FlatOut(window) => Some(window),
        Pace::Rate(..) => None,
    };
    let sessions = connect_all(plan, &counters, permits).await?;
    let progress = progress_bar(plan);
    let cpu_before = cpu::CpuTimes::read();
    let started = Instant::now();
    let ticker = tokio::spawn(tick(progress.clone(), Arc::clone(&counters), plan.duration));
    let schedule = match plan.pace {
        Pace::Rate(rate, _) => {
            Some(Schedule::new(started.into_std(), plan.duration, rate, plan.users.len()))
        }
        Pace::FlatOut(_) => None,
    };
    let releases: Vec<_> = plan.users.iter().map(|_| Arc::new(Semaphore::new(0))).collect();
    // Stops when dropped: at the end of the run, or early on a sender's error.
    let metronome = schedule
        .filter(|_| !matches!(plan.pace, Pace::Rate(_, true)))
        .map(|schedule| Metronome::start(schedule, releases.clone()));
    let run_id = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis();
    let mut senders = Vec::new();
    for session in &sessions {
        let sender = SenderTask {
            plan: plan.clone(),
            index: session.index,
            requests: session.client.sender(),
            shared: Arc::clone(&session.shared),
            counters: Arc::clone(&counters),
            prefix: format!("L{}-", run_id % 100_000_000),
            window: session.window.clone(),
            pace: schedule.map(|schedule| {
                let release = metronome.as_ref().map(|_| Arc::clone(&releases[session.index]));
                (schedule, release)
            }),
        };
        senders.push(tokio::spawn(sender.run(started)));
    }
    for sender in senders {
        sender.await.context("a sender task failed")??;
    }
    let seconds = started.elapsed().as_secs_f64();
    let cpu = cpu::CpuTimes::read().zip(cpu_before).and_then(|(now, then)| now.since(then));
    ticker.abort();
    progress.finish_and_clear();
    drain(&sessions).await;
    finish(plan, sessions, &counters, (started, seconds), cpu).await
}

/// Logs every session on (concurrently) and starts its receiver.
async fn connect_all(
    plan: &Plan,
    counters: &Arc<Counters>,
    window: Option<usize>,
) -> anyhow::Result<Vec<Session>> {
    let symbols: Arc<[String]> = plan.instruments.iter().map(|i| i.symbol.clone()).collect();
    let mut logons = Vec::new();
    let in_flight = Arc::new(Semaphore::new(LOGONS_IN_FLIGHT_MAX));
    for user in &plan.users {
        let mut config = ClientConfig::new(user, &plan.password);
        config.target_comp_id.clone_from(&plan.comp_id);
        config.reset_seq_nums = true;
        let (server, in_flight) = (plan.server, Arc::clone(&in_flight));
        logons.push(tokio::spawn(async move {
            let _permit = in_flight.acquire_owned().await;
            Client::connect(server, config).await
        }));
    }
    let mut sessions = Vec::new();
    for (index, (logon, user)) in logons.into_iter().zip(&plan.users).enumerate() {
        let (client, events) = match logon.await.context("a logon task failed")? {
            Ok(connected) => connected,
            Err(ClientError::LogonRefused { text }) => {
                return Err(TradeError::LogonRefused { text: format!("{user}: {text}") }.into());
            }
            Err(error) => {
                return Err(anyhow::Error::new(error)
                    .context(format!("cannot log on to {} as {user}", plan.server)));
            }
        };
        let shared = Arc::new(Shared::default());
        let window = window.map(|permits| Arc::new(Semaphore::new(permits)));
        let receiver = Receiver {
            events,
            shared: Arc::clone(&shared),
            counters: Arc::clone(counters),
            window: window.clone(),
            symbols: Arc::clone(&symbols),
        };
        let receiver = tokio::spawn(receiver.run());
        sessions.push(Session { index, client, shared, window, receiver });
    }
    Ok(sessions)
}

/// One session's sender.
struct SenderTask {
    plan: Plan,
    index: usize,
    requests: RequestSender,
    shared: Arc<Shared>,
    counters: Arc<Counters>,
    /// ClOrdIDs are this prefix and a number: unique per trader per day across runs.
    prefix: String,
    window: Option<Arc<Semaphore>>,
    /// With `--rate`: when each request is due, and this session's releases (none with
    /// `--bursts`: the sender sleeps on tokio's timer).
    pace: Option<(Schedule, Option<Arc<Semaphore>>)>,
}

impl SenderTask {
    /// Sends until the duration has passed.
    async fn run(self, started: Instant) -> anyhow::Result<()> {
        let end = started + self.plan.duration;
        let mut random = Random::new(self.plan.seed ^ (self.index as u64).wrapping_mul(0x9E37));
        for number in 0u64.. {
            let due = match &self.pace {
                Some((schedule, release)) => {
                    let Some(due) = schedule.due(self.index, number).map(Instant::from_std) else {
                        break;
                    };
                    if let Some(release) = release {
                        // The metronome releases it at its due time (at once if this sender
                        // is behind); the run's end bounds the wait should it have stopped.
                        match tokio::time::timeout_at(end, release.acquire()).await {
                            Ok(Ok(permit)) => permit.forget(),
                            Ok(Err(_)) | Err(_) => break,
                        }
                    } else {
                        tokio::time::sleep_until(due).await;
                    }
                    due
                }
                None => {
                    if Instant::now() >= end || !self.window_slot(end).await? {
                        break;
                    }
                    // Flat out, latency counts from the send, not from the wait for a slot.
                    Instant::now()
                }
            };
            let request = self.request(&mut random, number);
            let (cl_ord_id, kind) = request.1.clone();
            lock(&self.shared.in_flight).insert(cl_ord_id, (due, Instant::now(), kind));
            if self.requests.send(request.0).await.is_err() {
                return Err(self.shared.ended(&self.plan.users[self.index], "ended while sending"));
            }
            let counter = if kind == Kind::Cancel {
                &self.counters.sent_cancels
            } else {
                &self.counters.sent_orders
            };
            Counters::add(counter, 1);
        }
        Ok(())
    }

    /// Flat out: waits for a free slot of the window. `false` when the run ended first.
    async fn window_slot(&self, end: Instant) -> anyhow::Result<bool> {
        let Some(window) = &self.window else { return Ok(true) };
        // The receiver closes the window when the session ends; the run's end bounds the wait
        // when answers stop coming.
        match tokio::time::timeout_at(end, window.acquire()).await {
            Ok(Ok(permit)) => {
                permit.forget();
                Ok(true)
            }
            Ok(Err(_)) => Err(self.shared.ended(&self.plan.users[self.index], "ended")),
            Err(_) => Ok(false),
        }
    }

    /// The next request, its ClOrdID and kind.
    fn request(&self, random: &mut Random, number: u64) -> (Request, (String, Kind)) {
        let cl_ord_id = format!("{}{number}", self.prefix);
        let mut kind = random.kind(self.plan.mix);
        let resting =
            if kind == Kind::Cancel { lock(&self.shared.resting).pop_front() } else { None };
        if kind == Kind::Cancel && resting.is_none() {
            kind = Kind::Add;
        }
        let side = random.side();
        let pick = random.next();
        let instrument =
            &self.plan.instruments[(pick % self.plan.instruments.len() as u64) as usize];
        let lots = 1 + random.next() % 5;
        let request: Request = match (kind, resting) {
            (Kind::Cancel, Some((order, side, index))) => CancelOrder {
                cl_ord_id: cl_ord_id.clone(),
                order: OrderRef::ClOrdId(order),
                symbol: self.plan.instruments[index].symbol.clone(),
                side,
            }
            .into(),
            (Kind::Aggressive, _) => NewOrder::limit(
                &cl_ord_id,
                &instrument.symbol,
                side,
                lots,
                instrument.aggressive(side),
            )
            .time_in_force(TimeInForce::ImmediateOrCancel)
            .into(),
            _ => NewOrder::limit(
                &cl_ord_id,
                &instrument.symbol,
                side,
                lots,
                instrument.passive(side, pick >> 8),
            )
            .into(),
        };
        (request, (cl_ord_id, kind))
    }
}

/// One session's receiver: matches answers to requests, measures, counts.
struct Receiver {
    events: Events,
    shared: Arc<Shared>,
    counters: Arc<Counters>,
    window: Option<Arc<Semaphore>>,
    /// The symbols of `--symbols`, by the index the sender's instruments have.
    symbols: Arc<[String]>,
}

impl Receiver {
    async fn run(mut self) -> Measured {
        let histogram = || {
            Histogram::new_with_bounds(1, 60_000_000, 3).unwrap_or_else(|_| {
                Histogram::new(3).unwrap_or_else(|_| unreachable!("3 significant digits are valid"))
            })
        };
        let mut measured = Measured {
            latency: histogram(),
            from_send: histogram(),
            rejects: BTreeMap::new(),
            cancel_rejects: BTreeMap::new(),
        };
        while let Some(event) = self.events.recv().await {
            let now = Instant::now();
            match &event {
                Event::Execution(report) => self.execution(report, now, &mut measured),
                Event::CancelReject(reject)
                    if self.answered(&reject.cl_ord_id, now, &mut measured).is_some() =>
                {
                    let code = report::reason_code(reject.text.as_deref());
                    *measured.cancel_rejects.entry(code).or_default() += 1;
                    Counters::add(&self.counters.cancel_rejects, 1);
                }
                Event::Logout(reason) => {
                    let reason = reason.clone().unwrap_or_else(|| "no reason given".into());
                    *lock(&self.shared.logged_out) = Some(reason);
                }
                _ => {}
            }
        }
        if let Some(window) = &self.window {
            window.close();
        }
        measured
    }

    /// Records the first answer to `cl_ord_id`; returns its kind if it was awaited.
    fn answered(&self, cl_ord_id: &str, now: Instant, measured: &mut Measured) -> Option<Kind> {
        let (due, sent, kind) = lock(&self.shared.in_flight).remove(cl_ord_id)?;
        *lock(&self.shared.last_answer) = Some(now);
        for (histogram, from) in [(&mut measured.latency, due), (&mut measured.from_send, sent)] {
            let micros = now.saturating_duration_since(from).as_micros();
            // Beyond the histogram's range (about a minute) it counts at its top, not never.
            histogram.saturating_record(u64::try_from(micros).unwrap_or(u64::MAX).max(1));
        }
        if let Some(window) = &self.window {
            window.add_permits(1);
        }
        Some(kind)
    }

    fn execution(
        &self,
        report: &birzha_client::ExecutionReport,
        now: Instant,
        measured: &mut Measured,
    ) {
        if let Some(fill) = &report.fill {
            Counters::add(&self.counters.fills, 1);
            Counters::add(&self.counters.filled_lots, fill.lots);
        }
        let first =
            matches!(report.exec_type, ExecType::New | ExecType::Rejected | ExecType::Cancelled);
        if !first {
            return;
        }
        let Some(kind) = self.answered(&report.cl_ord_id, now, measured) else { return };
        match (report.exec_type, kind) {
            (ExecType::Rejected, _) => {
                let code = report::reason_code(report.text.as_deref());
                *measured.rejects.entry(code).or_default() += 1;
                Counters::add(&self.counters.rejects, 1);
            }
            (ExecType::Cancelled, Kind::Cancel) => Counters::add(&self.counters.cancels, 1),
            (ExecType::New, Kind::Add) => {
                Counters::add(&self.counters.acks, 1);
                // The order's own instrument: a cancel names it, and one sent with another
                // instrument's symbol is refused as an unknown order.
                let index = self.symbols.iter().position(|symbol| *symbol == report.symbol);
                let order = (report.cl_ord_id.clone(), report.side, index.unwrap_or(0));
                lock(&self.shared.resting).push_back(order);
            }
            _ => Counters::add(&self.counters.acks, 1),
        }
    }
}

/// Waits (at most [`DRAIN_TIMEOUT`]) for in-flight requests to be answered.
async fn drain(sessions: &[Session]) {
    let deadline = Instant::now() + DRAIN_TIMEOUT;
    while Instant::now() < deadline {
        if sessions.iter().all(|session| lock(&session.shared.in_flight).is_empty()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Mass-cancels, logs out, and gathers the report.
async fn finish(
    plan: &Plan,
    sessions: Vec<Session>,
    counters: &Counters,
    (started, seconds): (Instant, f64),
    cpu: Option<cpu::CpuShare>,
) -> anyhow::Result<Report> {
    // What is still in flight now stays unanswered: a later answer is not counted.
    let unanswered: usize =
        sessions.iter().map(|s| std::mem::take(&mut *lock(&s.shared.in_flight)).len()).sum();
    // Answers per second count over the time the answers took, not just the sending.
    let last_answer = sessions.iter().filter_map(|s| *lock(&s.shared.last_answer)).max();
    let answer_seconds =
        last_answer.map_or(seconds, |last| last.duration_since(started).as_secs_f64().max(seconds));
    for session in &sessions {
        let cl_ord_id = format!("END-{}-{}", session.index, plan.seed);
        let _ = session.client.send(MassCancel { cl_ord_id, symbol: None, side: None }).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut latency = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let mut from_send = latency.clone();
    let (mut rejects, mut cancel_rejects) = (BTreeMap::new(), BTreeMap::new());
    for session in sessions {
        let _ = session.client.logout().await;
        let measured = session.receiver.await.context("a receiver task failed")?;
        latency.add(&measured.latency)?;
        from_send.add(&measured.from_send)?;
        merge(&mut rejects, measured.rejects);
        merge(&mut cancel_rejects, measured.cancel_rejects);
    }
    let answered = Counters::get(&counters.acks)
        + Counters::get(&counters.rejects)
        + Counters::get(&counters.cancels)
        + Counters::get(&counters.cancel_rejects);
    let sent = Counters::get(&counters.sent_orders) + Counters::get(&counters.sent_cancels);
    Ok(Report {
        sessions: plan.users.len(),
        mode: match plan.pace {
            Pace::Rate(..) => "open-loop".into(),
            Pace::FlatOut(window) => format!("flat-out (window {window})"),
        },
        target_rate: match plan.pace {
            Pace::Rate(rate, _) => Some(rate),
            Pace::FlatOut(_) => None,
        },
        seconds: (seconds * 100.0).round() / 100.0,
        sent_orders: Counters::get(&counters.sent_orders),
        sent_cancels: Counters::get(&counters.sent_cancels),
        acks: Counters::get(&counters.acks),
        rejects,
        fills: Counters::get(&counters.fills),
        filled_lots: Counters::get(&counters.filled_lots),
        cancels: Counters::get(&counters.cancels),
        cancel_rejects,
        unanswered: unanswered as u64,
        sent_per_second: (sent as f64 / seconds).round(),
        answered_per_second: (answered as f64 / answer_seconds).round(),
        latency_us: report::Latency::of(&latency),
        from_send_us: report::Latency::of(&from_send),
        cpu,
    })
}

fn merge(into: &mut BTreeMap<String, u64>, from: BTreeMap<String, u64>) {
    for (reason, count) in from {
        *into.entry(reason).or_default() += count;
    }
}

/// A progress bar over the duration on standard error (hidden with `--quiet`).
fn progress_bar(plan: &Plan) -> ProgressBar {
    if !plan.progress {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(
        Some(plan.duration.as_millis() as u64),
        ProgressDrawTarget::stderr(),
    );
    let template = "{spinner} [{bar:30}] {elapsed}/{duration} {msg}";
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Updates the progress bar five times a second.
async fn tick(bar: ProgressBar, counters: Arc<Counters>, duration: Duration) {
    let started = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let elapsed = started.elapsed().min(duration);
        bar.set_position(elapsed.as_millis() as u64);
        bar.set_message(format!(
            "sent {}  acks {}  fills {}  rejects {}",
            Counters::get(&counters.sent_orders) + Counters::get(&counters.sent_cancels),
            Counters::get(&counters.acks),
            Counters::get(&counters.fills),
            Counters::get(&counters.rejects),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestExchange;

    fn plan(address: std::net::SocketAddr, users: &[&str], pace: Pace) -> Plan {
        let config = Config::embedded().expect("valid");
        let butter =
            config.instruments.iter().find(|e| e.symbol == "BUT82-FCA-USD").expect("listed");
        Plan {
            server: address,
            comp_id: "BIRZHA".into(),
            users: users.iter().map(|user| (*user).to_owned()).collect(),
            password: "demo".into(),
            pace,
            duration: Duration::from_secs(2),
            mix: Mix { add: 60, cancel: 30, aggressive: 10 },
            instruments: vec![Pricing::of(butter)],
            seed: 3,
            progress: false,
        }
    }

    /// A run that does not end within a minute is a failure, not a hung test.
    async fn bounded<T>(run: impl std::future::Future<Output = T>) -> T {
        tokio::time::timeout(Duration::from_secs(60), run).await.expect("the run ends within 60 s")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_short_open_loop_run_reports_acks_fills_and_latency() {
        let exchange = TestExchange::start(crate::config::DEFAULT_TOML).await;
        let plan =
            plan(exchange.address, &["TRADER1", "TRADER3", "TRADER4"], Pace::Rate(300, false));
        let report = bounded(generate(&plan)).await.expect("the run completes");
        assert_eq!(report.sessions, 3);
        let sent = report.sent_orders + report.sent_cancels;
        assert!((500..=650).contains(&sent), "about 600 requests in 2 s: {report:?}");
        assert!(report.acks > 200, "{report:?}");
        assert!(report.fills > 0, "aggressive orders trade with passive ones: {report:?}");
        assert!(report.cancels > 0, "{report:?}");
        assert_eq!(report.unanswered, 0, "{report:?}");
        assert_eq!(report.rejected(), 0, "{report:?}");
        let latency = &report.latency_us;
        assert_eq!(
            latency.count,
            report.acks + report.cancels + report.cancel_rejects.values().sum::<u64>()
        );
        assert!(latency.p50 > 0 && latency.p50 <= latency.p99 && latency.p99 <= latency.max);
        assert!(report.text().contains("latency µs p50"));
        assert_eq!(report.cpu.is_some(), std::path::Path::new("/proc/stat").exists());
        if let Some(cpu) = report.cpu {
            // Each share is rounded to a tenth on its own.
            assert!(cpu.busy_percent > 0.0 && cpu.busy_percent + cpu.steal_percent <= 100.1);
        }
        exchange.stop().await;
    }

    /// Regression (issue 7): every acknowledged order was filed under the first instrument,
    /// so with several `--symbols` most cancels named the wrong symbol and were refused as
    /// unknown orders (found in the 1,000-session run).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cancels_name_the_order_s_own_instrument() {
        let exchange = TestExchange::start(crate::config::DEFAULT_TOML).await;
        let mut run = plan(exchange.address, &["TRADER1", "TRADER3"], Pace::Rate(200, true));
        let config = Config::embedded().expect("valid");
        let smp = config.instruments.iter().find(|e| e.symbol == "SMP-FCA-USD").expect("listed");
        run.instruments.push(Pricing::of(smp));
        run.mix = Mix { add: 60, cancel: 40, aggressive: 0 };
        let report = bounded(generate(&run)).await.expect("the run completes");
        assert!(report.cancels > 20, "{report:?}");
        assert_eq!(report.cancel_rejects.get("UNKNOWN_ORDER"), None, "{report:?}");
        exchange.stop().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn flat_out_keeps_a_window_and_a_refused_logon_is_reported() {
        let exchange = TestExchange::start(crate::config::DEFAULT_TOML).await;
        let mut flat = plan(exchange.address, &["TRADER2"], Pace::FlatOut(8));
        flat.duration = Duration::from_secs(1);
        let report = bounded(generate(&flat)).await.expect("the run completes");
        assert!(report.acks > 0 && report.mode.starts_with("flat-out"), "{report:?}");
        let mut wrong = plan(exchange.address, &["TRADER1"], Pace::Rate(10, false));
        wrong.password = "wrong".into();
        let error = bounded(generate(&wrong)).await.expect_err("refused");
        assert!(matches!(
            error.downcast_ref::<TradeError>(),
            Some(TradeError::LogonRefused { .. })
        ));
        exchange.stop().await;
    }

    #[test]
    fn users_come_from_the_flags() {
        let parse = |extra: &[&str]| {
            let cli = <crate::cli::Cli as clap::Parser>::try_parse_from(
                ["birzha", "load"].iter().chain(extra.iter()).copied(),
            )
            .expect("valid");
            let crate::cli::Command::Load(args) = cli.command else { panic!("not load") };
            users_of(&args)
        };
        assert_eq!(parse(&[]).expect("default").len(), 4);
        assert_eq!(parse(&["--sessions", "2"]).expect("load users"), ["LOAD0001", "LOAD0002"]);
        assert_eq!(parse(&["--users", "A,B,C", "--sessions", "2"]).expect("first two"), ["A", "B"]);
        assert!(parse(&["--users", "A", "--sessions", "2"]).is_err());
    }

    // Regressions found by a review of the tools (2026-11-29).

    use crate::testing::fake;

    /// A one-second plan of TRADER1 sending new orders only.
    fn adds_only(address: std::net::SocketAddr, pace: Pace) -> Plan {
        let mut run = plan(address, &["TRADER1"], pace);
        run.duration = Duration::from_secs(1);
        run.mix = Mix { add: 100, cancel: 0, aggressive: 0 };
        run
    }

    /// The exchange's answer to a mass cancel.
    fn mass_cancel_done(inbound: &fake::Inbound) -> fake::Action {
        fake::send(0, "r", format!("11={}|37=NONE|530=7|531=7|533=0", inbound.get(11)))
    }

    /// `unanswered` is counted when the drain gives up, but answers that arrive after that
    /// (while the final mass cancel is sent, the 200 ms wait and the logout) are still counted
    /// as acks and recorded in the histogram: the same request is both unanswered and
    /// answered, and `unanswered + n` exceeds the requests sent.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_request_is_not_both_unanswered_and_answered() {
        let held = Arc::new(Mutex::new(Vec::<fake::Inbound>::new()));
        let script: fake::Script = Arc::new(move |inbound: &fake::Inbound| {
            match inbound.msg_type.as_str() {
                // A slow exchange: orders are acknowledged only once the mass cancel comes.
                "D" => {
                    lock(&held).push(inbound.clone());
                    vec![]
                }
                "q" => {
                    let mut actions: Vec<fake::Action> = lock(&held)
                        .drain(..)
                        .map(|order| fake::send(0, "8", fake::report(&order, '0', '0', "")))
                        .collect();
                    actions.push(mass_cancel_done(inbound));
                    actions
                }
                _ => vec![],
            }
        });
        let address = fake::start(script).await;
        let report =
            bounded(generate(&adds_only(address, Pace::Rate(20, false)))).await.expect("run");
        let sent = report.sent_orders + report.sent_cancels;
        assert!(sent >= 15, "{report:?}");
        assert!(
            report.unanswered + report.latency_us.count <= sent,
            "{} unanswered + {} answered > {sent} sent: {report:?}",
            report.unanswered,
            report.latency_us.count
        );
    }

    /// `answered_per_second` divides every answer, including those that came in the 2 s drain
    /// after the last send, by the sending time alone. Here the exchange answers each order
    /// 1.5 s after it was sent: nothing was answered while the senders ran (1 s), all 20
    /// answers came between 1.5 s and 2.5 s, yet the report says 20 answered/s, the rate
    /// of sending. An exchange that falls behind looks as fast as the offered load.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_answer_rate_counts_the_time_the_answers_took() {
        let script: fake::Script =
            Arc::new(|inbound: &fake::Inbound| match inbound.msg_type.as_str() {
                "D" => vec![fake::send(1500, "8", fake::report(inbound, '0', '0', ""))],
                "q" => vec![mass_cancel_done(inbound)],
                _ => vec![],
            });
        let address = fake::start(script).await;
        let report =
            bounded(generate(&adds_only(address, Pace::Rate(20, false)))).await.expect("run");
        assert_eq!(report.unanswered, 0, "{report:?}");
        let answered = report.acks as f64;
        // The answers took at least 2.4 s from the start to arrive.
        assert!(
            report.answered_per_second <= (answered / 2.4).ceil(),
            "answered {answered} in ≥ 2.4 s, reported {}/s over {} s: {report:?}",
            report.answered_per_second,
            report.seconds
        );
    }

    /// A latency above the histogram's bound (60 s, rounded up to about 67 s) is dropped (`let _ = histogram.record(..)`):
    /// the request counts as answered but vanishes from the percentiles, `max` and `n`. With
    /// `--rate` the latency counts from the due time, so a long stall of the exchange (the case
    /// the open loop is there to show) disappears from the report instead of showing as
    /// latency.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_latency_over_sixty_seconds_is_not_dropped() {
        let script: fake::Script = Arc::new(|_: &fake::Inbound| vec![]);
        let address = fake::start(script).await;
        let mut config = ClientConfig::new("TRADER1", "demo");
        config.reset_seq_nums = true;
        let (client, events) = Client::connect(address, config).await.expect("logon");
        let shared = Arc::new(Shared::default());
        let receiver = Receiver {
            events,
            shared: Arc::clone(&shared),
            counters: Arc::new(Counters::default()),
            window: None,
            symbols: Arc::from(vec!["BUT82-FCA-USD".to_string()]),
        };
        let histogram = || Histogram::new_with_bounds(1, 60_000_000, 3).expect("bounds");
        let mut measured = Measured {
            latency: histogram(),
            from_send: histogram(),
            rejects: BTreeMap::new(),
            cancel_rejects: BTreeMap::new(),
        };
        let now = Instant::now();
        let due = now - Duration::from_secs(120);
        lock(&shared.in_flight).insert("L1".into(), (due, due, Kind::Add));
        assert_eq!(receiver.answered("L1", now, &mut measured), Some(Kind::Add));
        assert_eq!(lock(&shared.in_flight).len(), 0, "no longer unanswered");
        assert_eq!(measured.latency.len(), 1, "answered after 120 s but not in the histogram");
        drop(receiver);
        let _ = client.logout().await;
    }

    /// The exchange logs a session out mid-run (e.g. "sustained throttle abuse", which a
    /// flat-out run against the default 500 orders/s throttle triggers after 10 s): the run
    /// fails with "session TRADER1 ended" and no report; the exchange's reason, which the
    /// client delivers as `Event::Logout`, is thrown away by the receiver.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_logout_mid_run_says_why() {
        let count = Arc::new(AtomicU64::new(0));
        let script: fake::Script =
            Arc::new(move |inbound: &fake::Inbound| match inbound.msg_type.as_str() {
                "D" if count.fetch_add(1, Ordering::Relaxed) == 5 => vec![
                    fake::send(0, "5", "58=THROTTLED: sustained abuse of the message rate".into()),
                    fake::Action::Close { delay: Duration::ZERO },
                ],
                "D" => vec![fake::send(0, "8", fake::report(inbound, '0', '0', ""))],
                "q" => vec![mass_cancel_done(inbound)],
                _ => vec![],
            });
        let address = fake::start(script).await;
        let mut run = plan(address, &["TRADER1"], Pace::FlatOut(2));
        run.mix = Mix { add: 100, cancel: 0, aggressive: 0 };
        match bounded(generate(&run)).await {
            Ok(report) => assert!(report.acks >= 5, "{report:?}"),
            Err(error) => {
                let text = format!("{error:#}");
                assert!(text.contains("THROTTLED"), "the exchange's reason is lost: {text}");
            }
        }
    }
}
