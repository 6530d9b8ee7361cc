//! The outputs of the engine: execution reports for traders, public market data, and events
//! for operators. Every output carries the sequence number of the input that caused it, so a
//! consumer knows what is durable; the sequencer releases outputs only once their input is.

use birzha_book::{CancelReason, FirmId, Lots, OrderId, Reject, Side, Ticks, Timestamp, TraderId};

use crate::config::InstrumentId;
use crate::input::{OrderKind, Tif};
use crate::phase::Phase;
use crate::text::{Account, ClOrdId, InlineText};

/// One output, tagged with the input that caused it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Output {
    /// The sequence number of the input.
    pub seq: u64,
    /// What happened.
    pub event: OutputEvent,
}

/// What an output reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputEvent {
    /// An execution report for one trader (FIX ExecutionReport).
    Execution(Execution),
    /// A cancel or replace was refused (FIX OrderCancelReject).
    CancelRejected(CancelRejected),
    /// A trader's mass cancel finished on this shard (FIX OrderMassCancelReport).
    MassCancelDone(MassCancelDone),
    /// A public trade.
    Trade(Trade),
    /// A public book level change.
    Level(Level),
    /// An instrument changed phase.
    Phase(PhaseChange),
    /// During a call: what the uncross would do now (after every change of the book).
    Indicative(Indicative),
    /// A call ended with an uncross.
    Uncross(Uncross),
    /// An operator changed a firm's deposit.
    Deposit(DepositChange),
    /// An operator suspended or reinstated a firm.
    FirmStatus {
        /// The firm.
        firm: FirmId,
        /// Whether it is now suspended.
        suspended: bool,
    },
    /// An operator's halt was refused: an instrument is halted from an open phase only
    /// (PreOpen, Continuous, VolatilityAuction, ClosingCall).
    HaltRefused {
        /// The instrument.
        instrument: InstrumentId,
        /// Its phase, which is not an open one.
        phase: Phase,
    },
    /// An operator's resume was refused: only a halted instrument is resumed.
    ResumeRefused {
        /// The instrument.
        instrument: InstrumentId,
        /// Its phase, which is not Halted.
        phase: Phase,
    },
}

/// Identifies one execution report: unique for ever (the shard, the input's sequence number and
/// the report's position among that input's reports).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExecId {
    /// The shard.
    pub shard: u16,
    /// The input's sequence number.
    pub seq: u64,
    /// The report's position among the input's outputs.
    pub index: u32,
}

/// What an execution report reports (FIX ExecType).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecType {
    /// The order was accepted (`0`).
    New,
    /// A fill (`F`).
    Trade,
    /// The order was cancelled (`4`).
    Cancelled,
    /// The order was replaced (`5`).
    Replaced,
    /// The order was rejected (`8`).
    Rejected,
    /// The order expired (`C`).
    Expired,
    /// The exchange changed the order: a self-trade-prevention decrement (`D`).
    Restated,
    /// The answer to a status request (`I`).
    OrderStatus,
}

/// An order's status (FIX OrdStatus).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrdStatus {
    /// Working, nothing filled (`0`).
    New,
    /// Working, partly filled (`1`).
    PartiallyFilled,
    /// Filled in full (`2`).
    Filled,
    /// Cancelled (`4`).
    Cancelled,
    /// Rejected (`8`).
    Rejected,
    /// Expired (`C`).
    Expired,
}

/// The fill an execution report carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LastFill {
    /// The trade price.
    pub price: Ticks,
    /// Lots traded.
    pub lots: Lots,
    /// Whether this side was the resting order (added liquidity).
    pub maker: bool,
    /// The trade's id, shared by both sides: the instrument and the book's counter.
    pub trade_id: u64,
    /// An auction trade (no maker or taker).
    pub auction: bool,
}

/// Why an order or request was refused. Book reasons come from the matching core; the others
/// are the engine's own checks, in the market model's validation order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectReason {
    /// The firm is suspended.
    FirmSuspended,
    /// The instrument is not traded on this shard (a routing bug or a stale client).
    UnknownInstrument,
    /// The instrument's phase does not allow the request.
    Phase(Phase),
    /// The ClOrdID was already used by this trader today.
    DuplicateClOrdId,
    /// A limit order without a price. (A price on a market order is ignored: its protection
    /// price applies.)
    PriceRequired,
    /// A good-till-date order whose date is not a valid date in the future.
    ExpireDateInvalid {
        /// The date sent, `YYYYMMDD`.
        date: u32,
    },
    /// The cancel, replace or status request names no order of the firm.
    UnknownOrder,
    /// The order is already finished.
    TooLate,
    /// A cancel or replace named the order with the other side (a replace may not change it).
    SideMismatch {
        /// The order's side.
        side: Side,
    },
    /// The firm's free deposit does not cover the order's reservation.
    InsufficientDeposit {
        /// The reservation needed, in millionths of the currency.
        required_micros: i128,
        /// The free deposit, in millionths.
        free_micros: i128,
    },
    /// The ClOrdID table of the trading day is full.
    ClOrdIdsFull,
    /// A matching-core rule.
    Book(Reject),
}

impl RejectReason {
    /// Returns a stable upper-case code for logs and clients.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            RejectReason::FirmSuspended => "FIRM_SUSPENDED",
            RejectReason::UnknownInstrument => "UNKNOWN_INSTRUMENT",
            RejectReason::Phase(_) => "PHASE",
            RejectReason::DuplicateClOrdId => "DUPLICATE_CLORDID",
            RejectReason::PriceRequired => "PRICE_REQUIRED",
            RejectReason::ExpireDateInvalid { .. } => "EXPIRE_DATE_INVALID",
            RejectReason::UnknownOrder => "UNKNOWN_ORDER",
            RejectReason::TooLate => "TOO_LATE",
            RejectReason::SideMismatch { .. } => "SIDE_MISMATCH",
            RejectReason::InsufficientDeposit { .. } => "INSUFFICIENT_DEPOSIT",
            RejectReason::ClOrdIdsFull => "CLORDIDS_FULL",
            RejectReason::Book(reject) => reject.code(),
        }
    }
}

/// Why an execution report's order was changed or ended, when the exchange did it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// The request or order was rejected.
    Reject(RejectReason),
    /// The order was cancelled.
    Cancel(CancelReason),
    /// Self-trade prevention reduced the order.
    SelfMatchDecrement,
}

/// An execution report for one trader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Execution {
    /// The trader it is for.
    pub trader: TraderId,
    /// The instrument.
    pub instrument: InstrumentId,
    /// The engine's order id; `None` for an order rejected before it got one.
    pub order_id: Option<OrderId>,
    /// The client's id of the request (or of the order, for unsolicited reports).
    pub cl_ord_id: ClOrdId,
    /// For cancels and replaces: the client's id of the version they replaced.
    pub orig_cl_ord_id: Option<ClOrdId>,
    /// The report's unique id.
    pub exec_id: ExecId,
    /// What happened.
    pub exec_type: ExecType,
    /// The order's status after it.
    pub status: OrdStatus,
    /// Buy or sell.
    pub side: Side,
    /// Limit or market.
    pub kind: OrderKind,
    /// The limit (or, for market orders, protection) price.
    pub price: Option<Ticks>,
    /// Time in force.
    pub tif: Tif,
    /// Total quantity.
    pub quantity: Lots,
    /// Lots filled so far.
    pub cum: Lots,
    /// Lots still working (0 when finished).
    pub leaves: Lots,
    /// Sum of `price × lots` over the fills, for the average price.
    pub notional_ticks: i128,
    /// The fill this report carries.
    pub last: Option<LastFill>,
    /// Why, when the exchange acted or refused.
    pub reason: Option<Reason>,
    /// The client's account reference.
    pub account: Option<Account>,
    /// When (the input's timestamp).
    pub time: Timestamp,
}

/// What a cancel reject answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CancelRequestKind {
    /// An order cancel request.
    Cancel,
    /// A cancel/replace request.
    Replace,
}

/// A refused cancel or replace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CancelRejected {
    /// The trader that asked.
    pub trader: TraderId,
    /// The instrument.
    pub instrument: InstrumentId,
    /// The order, if known.
    pub order_id: Option<OrderId>,
    /// The request's ClOrdID.
    pub cl_ord_id: ClOrdId,
    /// The ClOrdID the request named.
    pub orig_cl_ord_id: ClOrdId,
    /// The order's status now (`Rejected` if unknown).
    pub status: OrdStatus,
    /// Cancel or replace.
    pub kind: CancelRequestKind,
    /// Why.
    pub reason: RejectReason,
    /// When.
    pub time: Timestamp,
}

/// A trader's mass cancel, done on one shard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MassCancelDone {
    /// The trader that asked.
    pub trader: TraderId,
    /// The request's ClOrdID.
    pub cl_ord_id: ClOrdId,
    /// The instrument asked for, if one.
    pub instrument: Option<InstrumentId>,
    /// The side asked for, if one.
    pub side: Option<Side>,
    /// Orders cancelled.
    pub cancelled: u32,
    /// When.
    pub time: Timestamp,
}

/// A public trade, with the firms for operators (clients see it anonymous).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trade {
    /// The instrument.
    pub instrument: InstrumentId,
    /// The trade id (as in [`LastFill::trade_id`]).
    pub trade_id: u64,
    /// Price.
    pub price: Ticks,
    /// Lots.
    pub lots: Lots,
    /// The aggressor's side (buy for auction trades, which have none).
    pub aggressor: Side,
    /// An auction trade.
    pub auction: bool,
    /// The buying firm.
    pub buyer: FirmId,
    /// The selling firm.
    pub seller: FirmId,
    /// When.
    pub time: Timestamp,
}

/// The indicative uncross of an instrument in a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Indicative {
    /// The instrument.
    pub instrument: InstrumentId,
    /// The price, volume and surplus; `None` when nothing would trade.
    pub auction: Option<birzha_book::Auction>,
}

/// An uncross: the end of a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Uncross {
    /// The instrument.
    pub instrument: InstrumentId,
    /// The phase whose call ended.
    pub phase: Phase,
    /// What traded; `None` if nothing did.
    pub auction: Option<birzha_book::Auction>,
    /// Orders that traded.
    pub orders_filled: u32,
}

/// A public book level after a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Level {
    /// The instrument.
    pub instrument: InstrumentId,
    /// The side.
    pub side: Side,
    /// The price.
    pub price: Ticks,
    /// Visible lots (0: the level is gone).
    pub lots: u64,
    /// Orders at the level.
    pub orders: u32,
}

/// An instrument's phase change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhaseChange {
    /// The instrument.
    pub instrument: InstrumentId,
    /// The phase before.
    pub from: Phase,
    /// The phase now.
    pub to: Phase,
    /// When.
    pub time: Timestamp,
}

/// A firm's deposit in one currency after an operator's credit or debit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DepositChange {
    /// The firm.
    pub firm: FirmId,
    /// The currency.
    pub currency: InlineText<3>,
    /// The amount to credit (negative: debit), in millionths, as the operator asked.
    pub amount_micros: i128,
    /// Whether it was applied (a debit beyond the free deposit is refused).
    pub applied: bool,
    /// Free deposit after it, in millionths.
    pub free_micros: i128,
    /// Reserved deposit, in millionths.
    pub reserved_micros: i128,
}
