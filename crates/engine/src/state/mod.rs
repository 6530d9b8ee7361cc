//! The deterministic state machine of one shard: its books, the deposits of its currencies, the
//! firms' status, the working orders' records and the trading day's ClOrdIDs.
//!
//! [`ShardState::apply`] is a pure function of the state, the input, its sequence number and
//! its timestamp: no clock, no randomness, no hash-map iteration (snapshots list the ClOrdID
//! table in the order its entries were made). Replaying the journal into a fresh state yields
//! the same state and the same outputs.
//!
//! # Validation order (market model §3)
//! Firm status → instrument and phase → ClOrdID unique → tick, lot and size → band and the
//! book's other rules → deposit → self-trade prevention and matching.

mod admin;
mod cl_ord_ids;
mod finished;
mod orders;
mod phases;
mod records;
mod reports;
mod snapshot;

use std::sync::Arc;

use birzha_book::{Book, Event, FirmId, Lots, OrderId, Side, Ticks, Timestamp, TraderId};

use crate::calendar;
use crate::config::{InstrumentId, Registry};
use crate::deposit::Deposits;
use crate::input::{Input, OrderKind, Tif};
use crate::output::{ExecId, Output, OutputEvent};
use crate::phase::Phase;
use crate::text::{Account, ClOrdId};

use cl_ord_ids::ClOrdIds;
use finished::Finished;
use records::OrderRecords;

pub use snapshot::RestoreError;

/// Millionths in a unit of a currency: the engine counts money in millionths.
const MICROS: rust_decimal::Decimal = rust_decimal::Decimal::from_parts(1_000_000, 0, 0, false, 0);

/// The most ClOrdIDs one shard remembers per trading day.
pub const CL_ORD_IDS_MAX: usize = 1 << 24;

/// Finished orders (filled, cancelled, expired, rejected by the book) whose records a shard
/// keeps: their status answers (H) and too-late cancel rejects say how they ended. Older ones
/// are "unknown" to a status request. (A day of a commodity exchange's orders, many times
/// over; more costs the hot path cache space, see `state/finished.rs`.)
pub const FINISHED_KEPT: usize = 1 << 14;

/// What the engine keeps about an order beyond what the book keeps: while it works, and (a
/// compact copy, in `Finished`) for the last [`FINISHED_KEPT`] finished ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OrderRecord {
    pub(crate) trader: TraderId,
    pub(crate) firm: FirmId,
    pub(crate) instrument: InstrumentId,
    /// The ClOrdID of the order's latest version.
    pub(crate) cl_ord_id: ClOrdId,
    pub(crate) side: Side,
    pub(crate) kind: OrderKind,
    pub(crate) tif: Tif,
    pub(crate) price: Ticks,
    pub(crate) quantity: Lots,
    pub(crate) cum: Lots,
    pub(crate) notional_ticks: i128,
    /// Deposit still reserved by the order, in millionths.
    pub(crate) reserved: i128,
    pub(crate) account: Option<Account>,
}

/// Who asked for what the current input does: events about `order_id` are reported to the
/// requester with its ClOrdIDs; events about other orders go to their owners.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Requester {
    pub(crate) trader: TraderId,
    pub(crate) order_id: OrderId,
    pub(crate) cl_ord_id: ClOrdId,
    pub(crate) orig_cl_ord_id: Option<ClOrdId>,
}

/// The state of one shard.
#[derive(Debug)]
pub struct ShardState {
    /// The validated config.
    registry: Arc<Registry>,
    /// This shard's number.
    shard: u16,
    /// Books of this shard's instruments, by instrument id (`None`: another shard's).
    books: Vec<Option<Book>>,
    /// Each instrument's phase.
    phases: Vec<Phase>,
    /// When each instrument's current call ends (`None`: not in a timed call).
    call_end: Vec<Option<Timestamp>>,
    /// The indicative uncross last published for each instrument in a call.
    indicative: Vec<Option<birzha_book::Auction>>,
    /// What an operator's phase command holds each instrument in, until the day roll.
    operator_hold: Vec<OperatorHold>,
    /// No phase transition is due before this time.
    phase_deadline: Timestamp,
    /// Each instrument's currency, as an index into the registry's sorted currencies.
    currency_of: Vec<usize>,
    /// Each instrument's `tick × lot_size`, in millionths of its currency.
    tick_lot_micros: Vec<i128>,
    /// Deposits of every firm in every currency (only this shard's currencies move).
    deposits: Deposits,
    /// Whether each firm is suspended.
    suspended: Vec<bool>,
    /// Working orders by id.
    orders: OrderRecords,
    /// The last [`FINISHED_KEPT`] finished orders' records.
    finished: Finished,
    /// Every ClOrdID each trader used today, with the order it named or created.
    cl_ord_ids: ClOrdIds,
    /// The next order id's counter (the shard is in the id's top bits).
    order_counter: u64,
    /// The trading day (Minsk date, `YYYYMMDD`) of the last input.
    trading_day: u32,
    /// When `trading_day` ends: the next input at or after it starts a new day.
    day_end: Timestamp,
    /// The last input applied.
    seq_last: u64,
    /// The last input's time.
    now: Timestamp,
    /// Outputs produced so far for the current input: numbers its execution ids.
    exec_index: u32,
    /// The current input's requester, if it is a trader's request.
    requester: Option<Requester>,
    /// Whether outputs are built: false only inside [`ShardState::apply_quietly`].
    reporting: bool,
    /// Scratch buffer for the book's events; reused, so applying does not allocate.
    events: Vec<Event>,
}

/// What an operator's phase command holds an instrument in, against the schedule, until
/// the day roll.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum OperatorHold {
    /// Nothing: the schedule moves it.
    #[default]
    None = 0,
    /// Closed by an operator: it stays closed (the schedule's pre-open does not open it).
    Closed = 1,
    /// Opened by an operator after the day's close: the schedule does not close it again (the
    /// day roll does).
    OpenedAfterClose = 2,
}

impl ShardState {
    /// Returns the empty state of `shard`, with the config's initial deposits and firm status.
    ///
    /// # Panics
    /// Panics if `shard` is not below the registry's shard count.
    #[must_use]
    pub fn new(registry: Arc<Registry>, shard: u16) -> ShardState {
        assert!(usize::from(shard) < registry.config.shards, "shard {shard} out of range");
        let currencies: Vec<&String> = registry.currencies.keys().collect();
        let mut books = Vec::new();
        let mut orders_max = 1u32;
        let mut currency_of = Vec::new();
        let mut tick_lot_micros = Vec::new();
        for (index, instrument) in registry.instruments.iter().enumerate() {
            let id = InstrumentId(index as u32);
            let mine = registry.shard_of(id) == usize::from(shard);
            if mine {
                orders_max = orders_max.saturating_add(instrument.spec().orders_max);
            }
            books.push(mine.then(|| {
                let mut book = Book::new(instrument.clone());
                book.set_volatility_limit(registry.config.phases.volatility_limit_bp);
                book
            }));
            let spec = instrument.spec();
            currency_of.push(currencies.iter().position(|c| **c == spec.currency).unwrap_or(0));
            // In range: the config's validation checked the product.
            let micros = spec.tick.checked_mul(spec.lot_size).and_then(|v| v.checked_mul(MICROS));
            let micros = micros.and_then(|v| i128::try_from(v.ceil()).ok()).unwrap_or(i128::MAX);
            tick_lot_micros.push(micros.max(1));
        }
        let firms = &registry.config.firms;
        let mut deposits = Deposits::new(firms.len(), currencies.len());
        for (firm, config) in firms.iter().enumerate() {
            for (currency, amount) in &config.deposits {
                if let Some(index) = currencies.iter().position(|c| *c == currency) {
                    // Exact and in range: the config's validation checked the amount.
                    let micros = amount.checked_mul(MICROS).and_then(|v| i128::try_from(v).ok());
                    deposits.credit(firm as u32, index, micros.unwrap_or(0));
                }
            }
        }
        let suspended = firms.iter().map(|firm| firm.suspended).collect();
        let first_phase = match registry.config.phases.schedule {
            Some(_) => Phase::Closed,
            None => Phase::Continuous,
        };
        ShardState {
            phases: vec![first_phase; books.len()],
            call_end: vec![None; books.len()],
            indicative: vec![None; books.len()],
            operator_hold: vec![OperatorHold::None; books.len()],
            phase_deadline: Timestamp(0),
            books,
            currency_of,
            tick_lot_micros,
            deposits,
            suspended,
            orders: OrderRecords::new(orders_max),
            finished: Finished::new(),
            cl_ord_ids: ClOrdIds::new(),
            order_counter: 0,
            trading_day: 0,
            day_end: Timestamp(0),
            seq_last: 0,
            now: Timestamp(0),
            exec_index: 0,
            requester: None,
            reporting: true,
            events: Vec::with_capacity(1024),
            registry,
            shard,
        }
    }

    /// Returns this shard's number.
    #[must_use]
    pub fn shard(&self) -> u16 {
        self.shard
    }

    /// Returns the sequence number of the last input applied (0 before the first).
    #[must_use]
    pub fn seq_last(&self) -> u64 {
        self.seq_last
    }

    /// Returns the registry.
    #[must_use]
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// Returns the book of `instrument` if this shard owns it.
    #[must_use]
    pub fn book(&self, instrument: InstrumentId) -> Option<&Book> {
        self.books.get(instrument.0 as usize)?.as_ref()
    }

    /// Returns the phase of `instrument`.
    #[must_use]
    pub fn phase(&self, instrument: InstrumentId) -> Phase {
        self.phases[instrument.0 as usize]
    }

    /// Returns whether the shard's trading day is over: each of its instruments is Closed (or
    /// Halted, which an operator may hold over the close). The sequencer snapshots when this
    /// becomes true.
    #[must_use]
    pub fn day_over(&self) -> bool {
        let mut owned = self.books.iter().zip(&self.phases).filter(|(book, _)| book.is_some());
        owned.all(|(_, phase)| matches!(phase, Phase::Closed | Phase::Halted))
    }

    /// Returns a firm's deposit in a currency.
    #[must_use]
    pub fn deposit(&self, firm: FirmId, currency: &str) -> Option<crate::deposit::Account> {
        let index = self.registry.currencies.keys().position(|c| c == currency)?;
        Some(self.deposits.account(firm.0, index))
    }

    /// Returns every level of every book of the shard as market-data outputs (at the last
    /// sequence number): the picture a market-data consumer starts from.
    #[must_use]
    pub fn book_image(&self) -> Vec<Output> {
        let mut outputs = Vec::new();
        for (index, book) in self.books.iter().enumerate() {
            let Some(book) = book else { continue };
            for side in [Side::Buy, Side::Sell] {
                for level in book.levels(side) {
                    let level = crate::output::Level {
                        instrument: InstrumentId(index as u32),
                        side,
                        price: level.price,
                        lots: level.lots,
                        orders: level.orders,
                    };
                    outputs.push(Output { seq: self.seq_last, event: OutputEvent::Level(level) });
                }
            }
        }
        outputs
    }

    /// Returns the number of working orders.
    #[must_use]
    pub fn orders_working(&self) -> usize {
        self.orders.len()
    }

    /// Returns the earliest time at which a [`Input::Tick`] can change anything: the end of
    /// the trading day or the next GTC/GTD expiry. The sequencer drops earlier ticks.
    #[must_use]
    pub fn deadline(&self) -> Timestamp {
        let day_end = calendar::minsk_end_of(self.trading_day).unwrap_or(Timestamp(0));
        let expiry =
            self.books.iter().flatten().map(Book::expiry_next).fold(day_end, Timestamp::min);
        expiry.min(self.phase_deadline)
    }

    /// Applies one input stamped with `seq` and `now`, appending its outputs to `out`.
    ///
    /// # Panics
    /// Panics if `seq` does not follow the last applied input (a sequencer bug), or on a
    /// broken state invariant.
    pub fn apply(&mut self, seq: u64, now: Timestamp, input: &Input, out: &mut Vec<Output>) {
        assert_eq!(seq, self.seq_last + 1, "Invariant: inputs are applied in sequence");
        self.seq_last = seq;
        self.now = self.now.max(now);
        self.exec_index = 0;
        self.requester = None;
        self.roll_day(out);
        if self.now >= self.phase_deadline {
            self.advance_phases(out);
        }
        // Orders whose expiry has passed go before anything can act on them: an input about one
        // book checks that book; any other (ticks, operators' commands, disconnects, mass
        // cancels of every instrument, all rare) checks every book.
        match input.instrument() {
            Some(instrument) => self.expire_due(instrument, false, out),
            None => self.expire_all(false, out),
        }
        match input {
            Input::NewOrder(order) => self.new_order(order, out),
            Input::Cancel(cancel) => self.cancel(cancel, out),
            Input::Replace(replace) => self.replace(replace, out),
            Input::MassCancel(mass) => self.trader_mass_cancel(mass, out),
            Input::OrderStatus(status) => self.order_status(status, out),
            Input::Disconnect { trader } => self.disconnect(*trader, out),
            Input::Tick => {}
            Input::Admin(admin) => self.admin(admin, out),
        }
    }

    /// Applies one input exactly as [`ShardState::apply`] does but builds none of its
    /// outputs: for replaying inputs whose outputs were delivered before a restart. The state
    /// afterwards is the same (the outputs are made from the state, never the other way).
    ///
    /// # Panics
    /// As [`ShardState::apply`].
    pub fn apply_quietly(&mut self, seq: u64, now: Timestamp, input: &Input) {
        let mut none = Vec::new();
        self.reporting = false;
        self.apply(seq, now, input, &mut none);
        self.reporting = true;
        debug_assert!(none.is_empty(), "Invariant: a quiet apply pushes no output");
    }

    /// At the first input of a new Minsk day: Day orders expire and ClOrdIDs may be reused.
    fn roll_day(&mut self, out: &mut Vec<Output>) {
        if self.now < self.day_end {
            return;
        }
        let today = calendar::minsk_date(self.now);
        self.day_end = calendar::minsk_end_of(today).unwrap_or(Timestamp(u64::MAX));
        if today <= self.trading_day {
            return;
        }
        let first_day = self.trading_day == 0;
        self.trading_day = today;
        self.cl_ord_ids.clear();
        self.operator_hold.fill(OperatorHold::None);
        if first_day {
            return;
        }
        if self.registry.config.phases.schedule.is_some() {
            self.close_stale_sessions(out);
        }
        // Day orders and past GTD orders of every instrument, whatever its phase (with a
        // schedule most went at yesterday's PostClose and Closed).
        self.expire_all(true, out);
        // Today's band, from the previous close, for every instrument: always open there is no
        // pre-open, and with a schedule an instrument an operator opens before the pre-open,
        // or keeps closed through it, never enters one.
        self.rebase_bands(out);
    }

    /// Expires the orders of `instrument` whose expiry has passed (all its Day orders too at
    /// the `end_of_day`), before an input about the book is checked or matched: a GTC order's
    /// year ends at any time of day, and ticks come only so often.
    fn expire_due(&mut self, instrument: InstrumentId, end_of_day: bool, out: &mut Vec<Output>) {
        let book = self.books.get(instrument.0 as usize).and_then(Option::as_ref);
        if book.is_some_and(|book| end_of_day || book.expiry_next() <= self.now) {
            self.expire_book(instrument, end_of_day, out);
        }
    }

    fn expire_all(&mut self, end_of_day: bool, out: &mut Vec<Output>) {
        for index in 0..self.books.len() {
            self.expire_due(InstrumentId(index as u32), end_of_day, out);
        }
    }

    /// Runs `operation` on the book of `instrument`, reports what it did, and, if the book is
    /// in a call, publishes its indicative uncross. Returns what the operation returned, or
    /// `None` if the shard does not own the instrument.
    fn with_book<R>(
        &mut self,
        instrument: InstrumentId,
        out: &mut Vec<Output>,
        operation: impl FnOnce(&mut Book, Timestamp, &mut Vec<Event>) -> R,
    ) -> Option<R> {
        let mut events = std::mem::take(&mut self.events);
        events.clear();
        let now = self.now;
        let result = self.books[instrument.0 as usize]
            .as_mut()
            .map(|book| operation(book, now, &mut events));
        for event in &events {
            self.report(instrument, event, out);
        }
        let changed = !events.is_empty();
        self.events = events;
        if changed {
            self.publish_indicative(instrument, out);
        }
        result
    }

    /// Appends an output of the current input (unless applying quietly).
    fn push(&mut self, event: OutputEvent, out: &mut Vec<Output>) {
        if self.reporting {
            out.push(Output { seq: self.seq_last, event });
        }
    }

    fn exec_id(&mut self) -> ExecId {
        self.exec_index += 1;
        ExecId { shard: self.shard, seq: self.seq_last, index: self.exec_index }
    }

    fn new_order_id(&mut self) -> OrderId {
        self.order_counter += 1;
        OrderId((u64::from(self.shard) << 48) | self.order_counter)
    }

    /// `ceil(price × lots × tick_lot × ratio)`: the deposit an order reserves, in millionths.
    /// Saturates (so the order is refused) instead of overflowing.
    fn reservation(&self, instrument: InstrumentId, price: Ticks, lots: u32) -> i128 {
        let index = instrument.0 as usize;
        let ratio = self.registry.deposit_ratio_ppm[index];
        // Most reservations fit 64 bits, where dividing by a constant is a multiplication.
        let narrow = u64::try_from(price.0).ok().and_then(|price| {
            let tick_lot = u64::try_from(self.tick_lot_micros[index]).ok()?;
            price.checked_mul(u64::from(lots))?.checked_mul(tick_lot)?.checked_mul(ratio)
        });
        if let Some(value) = narrow.filter(|value| *value < u64::MAX - 1_000_000) {
            return i128::from(value.div_ceil(1_000_000));
        }
        i128::from(price.0)
            .checked_mul(i128::from(lots))
            .and_then(|value| value.checked_mul(self.tick_lot_micros[index]))
            .and_then(|value| value.checked_mul(i128::from(ratio)))
            .map_or(i128::MAX, |value| (value + 999_999) / 1_000_000)
    }
}
