//! Engine outputs as FIX 4.4 messages: ExecutionReport (8), OrderCancelReject (9) and
//! OrderMassCancelReport (r), with exactly the tags and enumerations of the profile
//! (docs/fix.md), and the reject texts that name the rule and its numbers in prices.

use birzha_book::{Instrument, Reject, Side, Ticks, Timestamp};
use birzha_engine::{
    CancelRejected, CancelRequestKind, ExecType, Execution, OrdStatus, OrderKind, Reason, Registry,
    RejectReason, Tif,
};
use birzha_fix::{Body, UtcTimestamp, WriteFields};
use rust_decimal::Decimal;

/// Writes a decimal field in plain notation. A value whose digits do not fit 64 bits (an
/// average price of a large instrument, with 8 decimal places) loses decimal places, never
/// magnitude (it used to be written as 92233720368.54775807). The integer part always fits:
/// prices are 64-bit tick counts times the tick, quantities 32-bit lot counts.
pub(crate) fn put_decimal(body: &mut Body, tag: u32, value: Decimal) {
    let mut value = value.normalize();
    while i64::try_from(value.mantissa()).is_err() && value.scale() > 0 {
        value = value.round_dp(value.scale() - 1);
    }
    let mantissa = i64::try_from(value.mantissa()).unwrap_or(i64::MAX);
    body.decimal(tag, mantissa, value.scale());
}

/// Writes a price given in ticks of `instrument`.
pub(crate) fn put_price(body: &mut Body, tag: u32, instrument: &Instrument, price: Ticks) {
    put_decimal(body, tag, instrument.ticks_to_price(price));
}

pub(crate) fn utc(time: Timestamp) -> UtcTimestamp {
    UtcTimestamp((time.0 / 1_000_000) as i64)
}

pub(crate) fn side_code(side: Side) -> u8 {
    match side {
        Side::Buy => b'1',
        Side::Sell => b'2',
    }
}

fn exec_type_code(exec_type: ExecType) -> u8 {
    match exec_type {
        ExecType::New => b'0',
        ExecType::Trade => b'F',
        ExecType::Cancelled => b'4',
        ExecType::Replaced => b'5',
        ExecType::Rejected => b'8',
        ExecType::Expired => b'C',
        ExecType::Restated => b'D',
        ExecType::OrderStatus => b'I',
    }
}

pub(crate) fn status_code(status: OrdStatus) -> u8 {
    match status {
        OrdStatus::New => b'0',
        OrdStatus::PartiallyFilled => b'1',
        OrdStatus::Filled => b'2',
        OrdStatus::Cancelled => b'4',
        OrdStatus::Rejected => b'8',
        OrdStatus::Expired => b'C',
    }
}

/// OrdRejReason (103) of a reject.
pub(crate) fn ord_rej_reason(reason: &RejectReason) -> u64 {
    match reason {
        RejectReason::UnknownInstrument => 1,
        RejectReason::Phase(_) => 2,
        RejectReason::InsufficientDeposit { .. }
        | RejectReason::Book(Reject::QuantityAboveMax { .. } | Reject::BookFull { .. }) => 3,
        RejectReason::UnknownOrder => 5,
        RejectReason::DuplicateClOrdId => 6,
        RejectReason::Book(Reject::Unsupported { .. }) => 11,
        RejectReason::Book(Reject::QuantityNotWholeLots { .. } | Reject::DisplayInvalid { .. }) => {
            13
        }
        _ => 99,
    }
}

/// CxlRejReason (102) of a cancel or replace reject.
fn cxl_rej_reason(reason: &RejectReason) -> u64 {
    match reason {
        RejectReason::TooLate => 0,
        RejectReason::UnknownOrder => 1,
        RejectReason::DuplicateClOrdId => 6,
        _ => 99,
    }
}

/// The text of a reject: the rule and the numbers involved, prices in the instrument's units.
pub(crate) fn reject_text(reason: &RejectReason, instrument: &Instrument) -> String {
    let price = |ticks: Ticks| instrument.ticks_to_price(ticks);
    let currency = &instrument.spec().currency;
    let amount = |micros: i128| Decimal::from_i128_with_scale(micros, 6).normalize();
    match reason {
        RejectReason::FirmSuspended => "FIRM_SUSPENDED: the firm is suspended".into(),
        RejectReason::UnknownInstrument => "UNKNOWN_INSTRUMENT: not traded here".into(),
        RejectReason::Phase(phase) => {
            format!("PHASE: {} is in phase {phase}, which does not allow this", instrument.symbol())
        }
        RejectReason::DuplicateClOrdId => {
            "DUPLICATE_CLORDID: ClOrdID already used today by this trader".into()
        }
        RejectReason::PriceRequired => "PRICE_REQUIRED: a limit order needs a Price (44)".into(),
        RejectReason::ExpireDateInvalid { date } => {
            format!("EXPIRE_DATE_INVALID: expire date {date} is not a valid date from today on")
        }
        RejectReason::UnknownOrder => "UNKNOWN_ORDER: no such order of your firm".into(),
        RejectReason::TooLate => "TOO_LATE: the order is already finished".into(),
        RejectReason::SideMismatch { side } => {
            let side = if *side == Side::Buy { "buy" } else { "sell" };
            format!("SIDE_MISMATCH: the order is a {side}; its side (54) cannot change")
        }
        RejectReason::InsufficientDeposit { required_micros, free_micros } => format!(
            "INSUFFICIENT_DEPOSIT: reservation {} {currency} exceeds free deposit {} {currency}",
            amount(*required_micros),
            amount(*free_micros),
        ),
        RejectReason::ClOrdIdsFull => "CLORDIDS_FULL: no more ClOrdIDs today".into(),
        RejectReason::Book(reject) => book_reject_text(reject, &price),
    }
}

fn book_reject_text(reject: &Reject, price: &dyn Fn(Ticks) -> Decimal) -> String {
    let code = reject.code();
    match reject {
        Reject::PriceOutsideBand { price: sent, low, high } => {
            format!(
                "{code}: price {} outside band [{}, {}]",
                price(*sent),
                price(*low),
                price(*high)
            )
        }
        Reject::PostOnlyWouldCross { price: sent, opposite } => {
            format!(
                "{code}: post-only order at {} would trade with {}",
                price(*sent),
                price(*opposite)
            )
        }
        other => format!("{code}: {other}"),
    }
}

/// A reason's text for the report's Text (58), if it has one.
fn reason_text(reason: &Reason, instrument: &Instrument) -> String {
    match reason {
        Reason::Reject(reject) => reject_text(reject, instrument),
        Reason::Cancel(cancel) => cancel.text().into(),
        Reason::SelfMatchDecrement => "self-trade prevention: order reduced".into(),
    }
}

/// Encodes an ExecutionReport (8) body.
pub(crate) fn execution_report(execution: &Execution, registry: &Registry, body: &mut Body) {
    let instrument = &registry.instruments[execution.instrument.0 as usize];
    let order_id = execution.order_id.map(|id| id.0);
    put_order_id(body, order_id);
    body.str(11, execution.cl_ord_id.as_bytes());
    if let Some(orig) = execution.orig_cl_ord_id {
        body.str(41, orig.as_bytes());
    }
    let exec_id = execution.exec_id;
    let mut text = itoa::Buffer::new();
    let mut exec_text = String::with_capacity(32);
    exec_text.push_str(text.format(exec_id.shard));
    exec_text.push('-');
    exec_text.push_str(text.format(exec_id.seq));
    exec_text.push('-');
    exec_text.push_str(text.format(exec_id.index));
    body.str(17, exec_text.as_bytes());
    body.char(150, exec_type_code(execution.exec_type));
    body.char(39, status_code(execution.status));
    if let Some(Reason::Reject(reason)) = &execution.reason
        && execution.exec_type == ExecType::Rejected
    {
        body.uint(103, ord_rej_reason(reason));
    }
    if let Some(account) = execution.account {
        body.str(1, account.as_bytes());
    }
    body.str(55, instrument.symbol().as_bytes());
    body.char(54, side_code(execution.side));
    body.uint(38, u64::from(execution.quantity.0));
    put_order_terms(body, execution, instrument);
    if let Some(last) = execution.last {
        body.uint(32, u64::from(last.lots.0));
        put_price(body, 31, instrument, last.price);
        if !last.auction {
            body.uint(851, if last.maker { 1 } else { 2 });
        }
        body.uint(527, last.trade_id);
    }
    body.uint(151, u64::from(execution.leaves.0));
    body.uint(14, u64::from(execution.cum.0));
    put_average_price(body, execution, instrument);
    body.timestamp(60, utc(execution.time));
    if let Some(reason) = &execution.reason {
        body.str(58, reason_text(reason, instrument).as_bytes());
    }
}

fn put_order_id(body: &mut Body, order_id: Option<u64>) {
    match order_id {
        Some(id) => body.uint(37, id),
        None => body.str(37, b"NONE"),
    };
}

/// OrdType (40), Price (44), TimeInForce (59) and ExpireDate (432).
fn put_order_terms(body: &mut Body, execution: &Execution, instrument: &Instrument) {
    match execution.kind {
        OrderKind::Market => {
            body.char(40, b'1');
        }
        OrderKind::Limit => {
            body.char(40, b'2');
            if let Some(price) = execution.price {
                put_price(body, 44, instrument, price);
            }
        }
    }
    match execution.tif {
        Tif::Day => body.char(59, b'0'),
        Tif::GoodTillCancel => body.char(59, b'1'),
        Tif::ImmediateOrCancel => body.char(59, b'3'),
        Tif::FillOrKill => body.char(59, b'4'),
        Tif::GoodTillDate(date) => body.char(59, b'6').uint(432, u64::from(date)),
    };
}

/// AvgPx (6): the fills' notional over their lots, in prices; 0 before any fill.
fn put_average_price(body: &mut Body, execution: &Execution, instrument: &Instrument) {
    if execution.cum.0 == 0 {
        body.decimal(6, 0, 0);
        return;
    }
    let ticks =
        Decimal::from_i128_with_scale(execution.notional_ticks, 0) / Decimal::from(execution.cum.0);
    let average = (ticks * instrument.spec().tick).round_dp(8);
    put_decimal(body, 6, average);
}

/// Encodes an OrderCancelReject (9) body.
pub(crate) fn cancel_reject(rejected: &CancelRejected, registry: &Registry, body: &mut Body) {
    let instrument = &registry.instruments[rejected.instrument.0 as usize];
    put_order_id(body, rejected.order_id.map(|id| id.0));
    body.str(11, rejected.cl_ord_id.as_bytes());
    body.str(41, rejected.orig_cl_ord_id.as_bytes());
    body.char(39, status_code(rejected.status));
    body.timestamp(60, utc(rejected.time));
    let response_to = match rejected.kind {
        CancelRequestKind::Cancel => b'1',
        CancelRequestKind::Replace => b'2',
    };
    body.char(434, response_to);
    body.uint(102, cxl_rej_reason(&rejected.reason));
    body.str(58, reject_text(&rejected.reason, instrument).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(value: &str) -> String {
        let mut body = Body::new();
        put_decimal(&mut body, 6, value.parse().expect("decimal"));
        String::from_utf8_lossy(body.as_bytes()).into_owned()
    }

    #[test]
    fn decimals_beyond_64_bits_lose_places_not_magnitude() {
        assert_eq!(written("6800.50"), "6=6800.5\x01");
        assert_eq!(written("100000000000.33333333"), "6=100000000000.3333333\x01");
        assert_eq!(written("-9223372036854775807"), "6=-9223372036854775807\x01");
    }
}
