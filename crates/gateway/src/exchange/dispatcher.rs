//! The dispatcher: the one thread that turns engine outputs into FIX messages for traders and
//! market-data subscribers, writes the operator log of trades, rejects and phase changes, keeps
//! the delivery watermarks, and logs a stats line every ten seconds.
//!
//! Every message it sends goes through [`Sessions::send_stored`]: numbered and stored in the
//! trader's store before the watermark moves past its input, so a crash loses nothing the
//! engine made durable. It never blocks on a trader: a slow reader is disconnected by the
//! registry and gets the rest through its ResendRequest.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use birzha_book::{CancelReason, OrderId, Side, TraderId};
use birzha_engine::{
    BatchKind, ClOrdId, ExecType, Execution, MassCancelDone, Output, OutputBatch, OutputEvent,
    Reason, Registry, Trade,
};
use birzha_fix::session::Outgoing;
use birzha_fix::{Body, WriteFields};
use crossbeam::channel::{Receiver, RecvTimeoutError, select};
use hdrhistogram::Histogram;
use tracing::{error, info, warn};

use super::inbound::MarketDataRequest;
use super::market_data::{MarketData, Message, SUBSCRIPTIONS_PER_SESSION_MAX, Subscription};
use super::report::{cancel_reject, execution_report, reject_text, utc};
use super::watermark::{Checkpoints, Watermarks};
use crate::{SendBuffers, Sessions};

/// How often the stats line is logged.
pub const STATS_INTERVAL: Duration = Duration::from_secs(10);

/// What sessions ask of the dispatcher.
#[derive(Debug)]
pub(crate) enum Command {
    /// Send a reply the gateway made itself.
    Reply { comp_id: String, msg_type: &'static [u8], body: Body },
    /// A market-data request.
    MarketData { comp_id: String, request: MarketDataRequest },
    /// A session ended: drop its subscriptions.
    SessionEnded { comp_id: String },
    /// Log a session out (sustained throttle abuse), after the replies queued before.
    LogOut { comp_id: String },
}

/// An all-instrument mass cancel that some shards have answered.
#[derive(Debug)]
struct PendingMassCancel {
    /// The first part received (the request's ids, side and time).
    first: MassCancelDone,
    /// Whether that part was replayed at start-up.
    replayed: bool,
    /// Orders cancelled so far.
    cancelled: u32,
    /// Shards yet to answer.
    left: usize,
    /// The (shard, sequence number) of each part received.
    parts: Vec<(usize, u64)>,
}

/// The dispatcher's state. See the module documentation.
struct Dispatcher {
    registry: Arc<Registry>,
    sessions: Sessions,
    market: MarketData,
    /// Delivery watermarks, written by their own thread.
    checkpoints: Checkpoints,
    /// All-instrument mass cancels waiting for the other shards: the count so far, the shards
    /// left, and the sequence number of each shard's part received. While one waits, no
    /// watermark passes a part received (see [`watermark`]).
    mass: BTreeMap<(TraderId, ClOrdId), PendingMassCancel>,
    /// Shards whose start-up book image has not arrived yet: when the last does, every
    /// shard has replayed its journal.
    images_pending: usize,
    /// Scratch for market-data messages.
    messages: Vec<Message>,
    body: Body,
    /// Reused to encode and queue every message sent.
    buffers: SendBuffers,
    stats: Stats,
    /// Set once a report for a trader could not be stored: from then on no delivery watermark
    /// moves, so that after a restart the engine delivers again everything from the last
    /// watermark on (a report nobody stored must not fall behind a watermark on disk).
    watermarks_held: bool,
    /// Orders the exchange ended in the batch being read (not traders' own cancels, fills or
    /// IOC remainders: an operator's cancel-all, a cancel-on-disconnect, expiry, self-trade
    /// prevention, a re-based band), counted by input, trader and reason, and logged as one
    /// line each when the batch ends (an input's outputs are all in one batch).
    endings: BTreeMap<(u64, TraderId, &'static str), u32>,
    /// The last fill report of each side (buy, sell): its trade id, owner and order. A trade
    /// comes right after its two sides' reports, and its log line names them.
    fills: [(u64, TraderId, Option<OrderId>); 2],
}

/// Counters of one stats interval.
struct Stats {
    started: Instant,
    trades: u64,
    executions: u64,
    /// Per shard, the durable sequence number at the start of the interval and now.
    seq_start: Vec<u64>,
    seq_now: Vec<u64>,
    /// Sequenced → stored for the trader, microseconds.
    latency: Histogram<u64>,
}

/// Starts the dispatcher thread. It ends when the engine's output channel closes (after the
/// engine has shut down) and returns the total number of messages it sent.
///
/// # Errors
/// Returns the I/O error if the thread cannot be started.
pub(crate) fn spawn(
    registry: Arc<Registry>,
    sessions: Sessions,
    outputs: Receiver<OutputBatch>,
    commands: Receiver<Command>,
    watermarks: Watermarks,
) -> std::io::Result<JoinHandle<()>> {
    let shards = registry.config.shards;
    let latency = Histogram::new_with_bounds(1, 60_000_000, 3).map_err(std::io::Error::other)?;
    let seq: Vec<u64> =
        watermarks.values().iter().map(|v| if *v == u64::MAX { 0 } else { *v }).collect();
    let mut dispatcher = Dispatcher {
        market: MarketData::new(registry.instruments.len()),
        checkpoints: Checkpoints::spawn(watermarks, sessions.clone())?,
        registry,
        sessions,
        mass: BTreeMap::new(),
        images_pending: shards,
        messages: Vec::new(),
        body: Body::new(),
        buffers: SendBuffers::default(),
        watermarks_held: false,
        endings: BTreeMap::new(),
        fills: [(u64::MAX, TraderId(0), None); 2],
        stats: Stats {
            started: Instant::now(),
            trades: 0,
            executions: 0,
            seq_start: seq.clone(),
            seq_now: seq,
            latency,
        },
    };
    debug_assert_eq!(dispatcher.stats.seq_now.len(), shards);
    std::thread::Builder::new().name("dispatcher".into()).spawn(move || {
        dispatcher.run(&outputs, &commands);
        dispatcher.checkpoints.finish();
    })
}

impl Dispatcher {
    fn run(&mut self, outputs: &Receiver<OutputBatch>, commands: &Receiver<Command>) {
        let mut commands_open = true;
        loop {
            if self.stats.started.elapsed() >= STATS_INTERVAL {
                self.log_stats();
            }
            if commands_open {
                select! {
                    recv(outputs) -> batch => match batch {
                        Ok(batch) => self.batch(batch),
                        Err(_) => break,
                    },
                    recv(commands) -> command => match command {
                        Ok(command) => self.command(command),
                        Err(_) => commands_open = false,
                    },
                    default(Duration::from_secs(1)) => {}
                }
            } else {
                match outputs.recv_timeout(Duration::from_secs(1)) {
                    Ok(batch) => self.batch(batch),
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
        }
        self.log_stats();
    }

    fn batch(&mut self, batch: OutputBatch) {
        let replayed = batch.kind == BatchKind::Replayed;
        for output in &batch.outputs {
            if batch.kind == BatchKind::Image {
                if let OutputEvent::Level(level) = &output.event {
                    self.market.level(level, &self.registry, &mut Vec::new());
                }
                continue;
            }
            self.output(output, replayed, batch.shard);
        }
        self.log_endings(batch.shard);
        if batch.kind == BatchKind::Image && self.images_pending > 0 {
            self.images_pending -= 1;
            if self.images_pending == 0 {
                self.mass_cancels_settle();
            }
        }
        self.flush_market_data();
        if !self.watermarks_held {
            let watermark = watermark(&self.mass, batch.shard, batch.seq_durable);
            self.checkpoints.advance(batch.shard, watermark);
        }
        self.stats.seq_now[batch.shard] = batch.seq_durable;
    }

    /// Stores and sends an ExecutionReport, logs it if it says something an operator reads,
    /// and keeps a fill's parties for the trade's line.
    fn execution(&mut self, execution: &Execution, seq: u64, replayed: bool) {
        self.body.clear();
        execution_report(execution, &self.registry, &mut self.body);
        self.log_execution(execution, seq);
        if let Some(last) = &execution.last {
            let side = usize::from(execution.side == Side::Sell);
            self.fills[side] = (last.trade_id, execution.trader, execution.order_id);
        }
        self.stats.executions += 1;
        if !replayed {
            self.record_latency(execution.time.0);
        }
        self.send(execution.trader, b"8", replayed);
    }

    fn output(&mut self, output: &Output, replayed: bool, shard: usize) {
        let registry = Arc::clone(&self.registry);
        match &output.event {
            OutputEvent::Execution(execution) => self.execution(execution, output.seq, replayed),
            OutputEvent::CancelRejected(rejected) => {
                self.body.clear();
                cancel_reject(rejected, &registry, &mut self.body);
                let instrument = &registry.instruments[rejected.instrument.0 as usize];
                info!(
                    trader = %self.trader_code(rejected.trader),
                    cl_ord_id = %rejected.cl_ord_id,
                    symbol = instrument.symbol(),
                    reason = rejected.reason.code(),
                    text = %reject_text(&rejected.reason, instrument),
                    "cancel or replace rejected"
                );
                self.send(rejected.trader, b"9", replayed);
            }
            OutputEvent::MassCancelDone(done) => {
                self.mass_cancel_done(done, replayed, (shard, output.seq));
            }
            OutputEvent::Trade(trade) => {
                self.log_trade(trade);
                self.stats.trades += 1;
                self.market.trade(trade, &registry, &mut self.messages);
            }
            OutputEvent::Level(level) => self.market.level(level, &registry, &mut self.messages),
            OutputEvent::Phase(change) => {
                let symbol = registry.instruments[change.instrument.0 as usize].symbol();
                info!(symbol, from = %change.from, to = %change.to, "phase change");
                self.market.phase(change, &registry, &mut self.messages);
            }
            OutputEvent::Indicative(indicative) => {
                self.market.indicative(indicative, &registry, &mut self.messages);
            }
            OutputEvent::Uncross(uncross) => log_uncross(uncross, &registry),
            OutputEvent::Deposit(change) => info!(
                firm = %registry.config.firms[change.firm.0 as usize].code,
                currency = %change.currency,
                amount_micros = change.amount_micros,
                free_micros = change.free_micros,
                reserved_micros = change.reserved_micros,
                applied = change.applied,
                "deposit changed by an operator"
            ),
            OutputEvent::FirmStatus { firm, suspended } => info!(
                firm = %registry.config.firms[firm.0 as usize].code,
                suspended,
                "firm status changed by an operator"
            ),
            OutputEvent::ResumeRefused { instrument, phase } => warn!(
                symbol = registry.instruments[instrument.0 as usize].symbol(),
                %phase,
                "resume refused: only a halted instrument is resumed"
            ),
            OutputEvent::HaltRefused { instrument, phase } => warn!(
                symbol = registry.instruments[instrument.0 as usize].symbol(),
                %phase,
                "halt refused: an instrument is halted from an open phase only"
            ),
        }
    }

    /// Sends `self.body` to `trader`.
    fn send(&mut self, trader: TraderId, msg_type: &'static [u8], poss_resend: bool) {
        let code = &self.registry.config.traders[trader.0 as usize].code;
        let outgoing = Outgoing { msg_type, body: self.body.as_bytes(), poss_resend };
        if let Err(error) = self.sessions.send_stored(code, &outgoing, &mut self.buffers) {
            error!(trader = %code, %error, "cannot store a message for a trader");
            if !self.watermarks_held {
                self.watermarks_held = true;
                error!(
                    "delivery watermarks held until restart: after it the engine delivers \
                     again every report from the last one on disk"
                );
            }
        }
    }

    fn flush_market_data(&mut self) {
        for (comp_id, msg_type, body) in self.messages.drain(..) {
            let outgoing = Outgoing { msg_type, body: body.as_bytes(), poss_resend: false };
            if let Err(error) = self.sessions.send_stored(&comp_id, &outgoing, &mut self.buffers) {
                warn!(%comp_id, %error, "cannot store market data for a subscriber");
            }
        }
    }

    fn trader_code(&self, trader: TraderId) -> &str {
        &self.registry.config.traders[trader.0 as usize].code
    }

    /// Sends OrderMassCancelReport (r), once every shard involved has reported.
    fn mass_cancel_done(&mut self, done: &MassCancelDone, replayed: bool, part: (usize, u64)) {
        let mut cancelled = done.cancelled;
        if done.instrument.is_none() {
            let key = (done.trader, done.cl_ord_id);
            let shards = self.registry.config.shards;
            let pending = self.mass.entry(key).or_insert_with(|| PendingMassCancel {
                first: *done,
                replayed,
                cancelled: 0,
                left: shards,
                parts: Vec::new(),
            });
            pending.cancelled += done.cancelled;
            pending.left = pending.left.saturating_sub(1);
            pending.parts.push(part);
            if pending.left > 0 {
                return;
            }
            cancelled = pending.cancelled;
            self.mass.remove(&key);
            self.mass_cancel_report(done, cancelled, replayed);
            self.advance_watermarks();
            return;
        }
        self.mass_cancel_report(done, cancelled, replayed);
    }

    /// Moves every shard's watermark up to its last batch, as far as the mass cancels still
    /// waiting allow: once one is reported, the shards its parts held move on without waiting
    /// for a batch of their own (an idle shard may not have one for hours, and a restart would
    /// replay its part and report the mass cancel again, counting that part alone).
    fn advance_watermarks(&self) {
        if self.watermarks_held {
            return;
        }
        for (shard, seq_durable) in self.stats.seq_now.iter().enumerate() {
            self.checkpoints.advance(shard, watermark(&self.mass, shard, *seq_durable));
        }
    }

    /// Once every shard has replayed its journal at start-up (their book images are in), a
    /// mass cancel still waiting for a shard's part never gets it (that shard never took the
    /// request): it is reported with what the others cancelled, so that its hold on their
    /// watermarks ends.
    fn mass_cancels_settle(&mut self) {
        for (_, pending) in std::mem::take(&mut self.mass) {
            let trader = self.trader_code(pending.first.trader).to_owned();
            warn!(
                trader,
                cl_ord_id = %pending.first.cl_ord_id,
                shards_missing = pending.left,
                "mass cancel reported without the shards that never took it"
            );
            self.mass_cancel_report(&pending.first, pending.cancelled, pending.replayed);
        }
        self.advance_watermarks();
    }

    /// Sends OrderMassCancelReport (r) for `done`, with `cancelled` orders in all.
    fn mass_cancel_report(&mut self, done: &MassCancelDone, cancelled: u32, replayed: bool) {
        self.body.clear();
        self.body.str(11, done.cl_ord_id.as_bytes()).str(37, b"NONE");
        let (request, response) =
            if done.instrument.is_some() { (b'1', b'1') } else { (b'7', b'7') };
        self.body.char(530, request).char(531, response).uint(533, u64::from(cancelled));
        if let Some(instrument) = done.instrument {
            let symbol = self.registry.instruments[instrument.0 as usize].symbol().to_owned();
            self.body.str(55, symbol.as_bytes());
        }
        if let Some(side) = done.side {
            self.body.char(54, super::report::side_code(side));
        }
        self.body.timestamp(60, utc(done.time));
        info!(trader = %self.trader_code(done.trader), cancelled, "mass cancel by a trader");
        self.send(done.trader, b"r", replayed);
    }

    fn command(&mut self, command: Command) {
        match command {
            Command::Reply { comp_id, msg_type, body } => {
                let outgoing = Outgoing { msg_type, body: body.as_bytes(), poss_resend: false };
                if let Err(error) =
                    self.sessions.send_stored(&comp_id, &outgoing, &mut self.buffers)
                {
                    error!(%comp_id, %error, "cannot store a reply");
                }
            }
            Command::MarketData { comp_id, request } => self.market_data(comp_id, request),
            Command::SessionEnded { comp_id } => self.market.unsubscribe(&comp_id, None),
            Command::LogOut { comp_id } => {
                self.sessions.log_out(&comp_id);
            }
        }
    }

    fn market_data(&mut self, comp_id: String, request: MarketDataRequest) {
        use super::market_data::request_reject;
        let registry = Arc::clone(&self.registry);
        let reject = |reason, text: &str| {
            (comp_id.clone(), &b"Y"[..], request_reject(&request.request_id, reason, text))
        };
        if request.kind == b'2' {
            self.market.unsubscribe(&comp_id, Some(&request.request_id));
            return;
        }
        let known: Vec<_> = request.symbols.iter().map(|s| registry.instrument(s)).collect();
        if let Some(position) = known.iter().position(Option::is_none) {
            let text = format!("unknown symbol {}", request.symbols[position]);
            self.messages.push(reject(b'0', &text));
        } else if request.symbols.is_empty() || !(request.bids || request.offers || request.trades)
        {
            self.messages.push(reject(b'8', "name at least one Symbol (55) and MDEntryType (269)"));
        } else if request.kind == b'1'
            && self.market.subscriptions_of(&comp_id) + known.len() > SUBSCRIPTIONS_PER_SESSION_MAX
        {
            self.messages.push(reject(b'2', "too many subscriptions for this session"));
        } else {
            for instrument in known.into_iter().flatten() {
                let subscription = Subscription {
                    comp_id: comp_id.clone(),
                    request_id: request.request_id.clone(),
                    bids: request.bids,
                    offers: request.offers,
                    trades: request.trades,
                    depth: request.depth,
                };
                let keep = request.kind == b'1';
                self.market.subscribe(
                    instrument,
                    subscription,
                    keep,
                    &registry,
                    &mut self.messages,
                );
            }
        }
        self.flush_market_data();
    }

    fn log_execution(&mut self, execution: &Execution, seq: u64) {
        let Some(Reason::Reject(reason)) = &execution.reason else {
            if let Some(Reason::Cancel(cancel)) = &execution.reason
                && execution.exec_type == ExecType::Cancelled
            {
                tracing::debug!(
                    trader = %self.trader_code(execution.trader),
                    cl_ord_id = %execution.cl_ord_id,
                    reason = cancel.text(),
                    "order cancelled"
                );
                if !matches!(
                    cancel,
                    CancelReason::Request
                        | CancelReason::ImmediateOrCancel
                        | CancelReason::MassCancel
                ) {
                    self.count_ending(seq, execution.trader, cancel.text());
                }
            } else if execution.exec_type == ExecType::Expired {
                self.count_ending(seq, execution.trader, "expired");
            }
            return;
        };
        let instrument = &self.registry.instruments[execution.instrument.0 as usize];
        info!(
            trader = %self.trader_code(execution.trader),
            cl_ord_id = %execution.cl_ord_id,
            symbol = instrument.symbol(),
            reason = reason.code(),
            text = %reject_text(reason, instrument),
            "order rejected"
        );
    }

    /// Counts an order the exchange ended (see [`Dispatcher::endings`]).
    fn count_ending(&mut self, seq: u64, trader: TraderId, reason: &'static str) {
        *self.endings.entry((seq, trader, reason)).or_default() += 1;
    }

    /// Logs the endings counted in a batch of `shard`, a line per input, trader and reason.
    fn log_endings(&mut self, shard: usize) {
        for ((seq, trader, reason), orders) in std::mem::take(&mut self.endings) {
            let trader = self.trader_code(trader);
            info!(shard, seq, trader, reason, orders, "orders ended by the exchange");
        }
    }

    fn log_trade(&self, trade: &Trade) {
        let registry = &self.registry;
        let instrument = &registry.instruments[trade.instrument.0 as usize];
        // The owners and orders of the two sides, from their fill reports just before.
        let party = |side: usize| match self.fills[side] {
            (trade_id, trader, order_id) if trade_id == trade.trade_id => {
                (self.trader_code(trader), order_id.map_or(0, |id| id.0))
            }
            _ => ("-", 0),
        };
        let ((buy_trader, buy_order), (sell_trader, sell_order)) = (party(0), party(1));
        info!(
            symbol = instrument.symbol(),
            price = %instrument.ticks_to_price(trade.price),
            lots = trade.lots.0,
            buyer = %registry.config.firms[trade.buyer.0 as usize].code,
            seller = %registry.config.firms[trade.seller.0 as usize].code,
            buy_trader,
            buy_order,
            sell_trader,
            sell_order,
            trade_id = trade.trade_id,
            aggressor = match (trade.auction, trade.aggressor) {
                (true, _) => "auction",
                (false, Side::Buy) => "buy",
                (false, Side::Sell) => "sell",
            },
            "trade"
        );
    }

    #[allow(clippy::disallowed_methods, reason = "latency is measured against the wall clock")]
    fn record_latency(&mut self, sequenced_ns: u64) {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
        let micros = now.saturating_sub(sequenced_ns) / 1_000;
        let _ = self.stats.latency.record(micros.max(1));
    }

    fn log_stats(&mut self) {
        let stats = &mut self.stats;
        let seconds = stats.started.elapsed().as_secs_f64().max(0.001);
        let inputs: u64 =
            stats.seq_now.iter().zip(&stats.seq_start).map(|(now, start)| now - start).sum();
        let latency = &stats.latency;
        // Rates to a tenth, and the counts: 4 trades in 10 s is 0.4/s, not 0.
        let rate = |count: u64| (count as f64 / seconds * 10.0).round() / 10.0;
        info!(
            inputs = inputs,
            inputs_per_s = rate(inputs),
            trades = stats.trades,
            trades_per_s = rate(stats.trades),
            executions = stats.executions,
            ack_p50_us = latency.value_at_quantile(0.5),
            ack_p99_us = latency.value_at_quantile(0.99),
            ack_p999_us = latency.value_at_quantile(0.999),
            journal = ?stats.seq_now,
            "stats"
        );
        stats.started = Instant::now();
        stats.trades = 0;
        stats.executions = 0;
        stats.seq_start.clone_from(&stats.seq_now);
        stats.latency.reset();
    }
}

/// The watermark `shard` may advance to: `seq_durable`, or just before its part of a mass
/// cancel still waiting for other shards, so that a restart replays every part of it (else
/// the shards that had answered would not, and its report would never be sent).
fn watermark(
    mass: &BTreeMap<(TraderId, ClOrdId), PendingMassCancel>,
    shard: usize,
    seq_durable: u64,
) -> u64 {
    let parts = mass.values().flat_map(|pending| &pending.parts);
    let waiting = parts.filter(|(from, _)| *from == shard).map(|(_, seq)| seq - 1);
    waiting.fold(seq_durable, u64::min)
}

fn log_uncross(uncross: &birzha_engine::Uncross, registry: &Registry) {
    let instrument = &registry.instruments[uncross.instrument.0 as usize];
    let symbol = instrument.symbol();
    match uncross.auction {
        Some(auction) => info!(
            symbol,
            phase = %uncross.phase,
            price = %instrument.ticks_to_price(auction.price),
            volume = auction.volume,
            surplus = auction.surplus,
            orders_filled = uncross.orders_filled,
            "uncross"
        ),
        None => info!(symbol, phase = %uncross.phase, "uncross: nothing to trade"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (a review's): shard 1's part of an all-instrument mass cancel was covered by
    /// a checkpoint while shard 0's was not yet dispatched; after a crash only shard 0 replayed
    /// its part and the report waited for ever for shard 1's.
    #[test]
    fn no_watermark_passes_a_part_of_a_mass_cancel_still_waiting() {
        let key = (TraderId(0), ClOrdId::new("MC1").expect("text"));
        let first = MassCancelDone {
            trader: TraderId(0),
            cl_ord_id: key.1,
            instrument: None,
            side: None,
            cancelled: 3,
            time: birzha_book::Timestamp(0),
        };
        let pending = PendingMassCancel {
            first,
            replayed: false,
            cancelled: 3,
            left: 1,
            parts: vec![(1, 40)],
        };
        let mass = BTreeMap::from([(key, pending)]);
        assert_eq!(watermark(&mass, 1, 55), 39, "held before shard 1's part");
        assert_eq!(watermark(&mass, 0, 55), 55, "shard 0 has sent no part yet");
        assert_eq!(watermark(&BTreeMap::new(), 1, 55), 55, "nothing waiting");
    }
}
