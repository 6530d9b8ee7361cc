//! Trader messages as engine inputs: NewOrderSingle (D), OrderCancelRequest (F),
//! OrderCancelReplaceRequest (G), OrderMassCancelRequest (q) and OrderStatusRequest (H); and
//! the requests the gateway answers itself: MarketDataRequest (V) and SecurityListRequest (x).
//!
//! The session layer has already validated every message against the data dictionary (types,
//! enumerations, required fields). What is checked here is what the dictionary cannot know:
//! the symbol, the values the exchange supports, the ClOrdID's length. A refusal becomes a
//! business reject the gateway sends itself (an ExecutionReport with OrdStatus rejected, or an
//! OrderCancelReject), with the reason in Text (58).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use birzha_book::{OrderId, SelfMatchMode, Side, TraderId};
use birzha_engine::{
    Account, CancelInput, ClOrdId, Input, MassCancelInput, NewOrderInput, OrderKind, OrderRef,
    Registry, ReplaceInput, StatusInput, Tif,
};
use birzha_fix::{Body, MessageView, UtcTimestamp, WriteFields, printable};
use rust_decimal::Decimal;
use tracing::info;

/// What a trader's message asks for.
#[derive(Debug)]
pub(crate) enum Request {
    /// An input for the engine.
    Engine(Input),
    /// A market-data request for the dispatcher.
    MarketData(MarketDataRequest),
    /// A reply the gateway sends at once: MsgType and body.
    Reply(&'static [u8], Body),
    /// Refused in-band: the session answers with a BusinessMessageReject (j).
    Refused {
        /// BusinessRejectReason (380).
        reason: u32,
        /// Text (58).
        text: String,
    },
}

/// BusinessRejectReason (380) 0: other.
const BUSINESS_REJECT_OTHER: u32 = 0;
/// BusinessRejectReason (380) 3: unsupported message type.
const BUSINESS_REJECT_UNSUPPORTED: u32 = 3;
/// BusinessRejectReason (380) 4, "Application not available": the exchange cannot take the
/// request now.
pub(crate) const BUSINESS_REJECT_UNAVAILABLE: u32 = 4;

/// A parsed MarketDataRequest (V).
#[derive(Debug)]
pub(crate) struct MarketDataRequest {
    /// MDReqID (262).
    pub(crate) request_id: String,
    /// SubscriptionRequestType (263): snapshot, subscribe, or unsubscribe.
    pub(crate) kind: u8,
    /// MarketDepth (264); 0 = full book.
    pub(crate) depth: usize,
    /// Bids wanted (269 = 0).
    pub(crate) bids: bool,
    /// Offers wanted (269 = 1).
    pub(crate) offers: bool,
    /// Trades wanted.
    pub(crate) trades: bool,
    /// The instruments, by symbol as sent.
    pub(crate) symbols: Vec<String>,
}

/// The ExecIDs (17) of the gateway's own rejects, drawn only when a reject is written, not for
/// every message (their TransactTime (60) is read then too).
#[derive(Debug)]
pub(crate) struct LocalIds {
    /// Prefix of every ExecID: `G` and the start time, so ids differ across restarts.
    prefix: String,
    /// ExecIDs issued so far.
    issued: AtomicU64,
}

impl LocalIds {
    /// Ids prefixed with `G` and the current time.
    pub(crate) fn new() -> Self {
        Self { prefix: format!("G{}", now_utc().0), issued: AtomicU64::new(0) }
    }

    /// The next ExecID.
    fn exec_id(&self) -> String {
        let n = self.issued.fetch_add(1, Ordering::Relaxed) + 1;
        format!("{}-{n}", self.prefix)
    }
}

#[allow(clippy::disallowed_methods, reason = "gateway replies carry the wall-clock time")]
fn now_utc() -> UtcTimestamp {
    let millis = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    UtcTimestamp(millis as i64)
}

fn text<'a>(view: &MessageView<'a>, tag: u32) -> Option<&'a str> {
    view.get(tag).and_then(|value| std::str::from_utf8(value).ok())
}

/// A decimal field: `None` when absent, refused when present but not an exact decimal (a
/// value with more digits than a decimal holds was rounded, onto another price or a whole
/// lot, and an unreadable one was taken for an absent one: a replace kept its old price).
fn decimal(view: &MessageView<'_>, tag: u32) -> Result<Option<Decimal>, String> {
    let Some(value) = view.get(tag) else { return Ok(None) };
    let exact = std::str::from_utf8(value).ok().and_then(|v| Decimal::from_str_exact(v).ok());
    exact.map(Some).ok_or_else(|| {
        let (code, name) = match tag {
            44 => ("INCORRECT_PRICE", "Price"),
            111 => ("INCORRECT_QUANTITY", "MaxFloor"),
            _ => ("INCORRECT_QUANTITY", "OrderQty"),
        };
        let value = String::from_utf8_lossy(value);
        format!("{code}: {name} ({tag}) {value} is not an exact decimal")
    })
}

/// OrdRejReason (103) of a gateway's own refusal, from the code its text starts with.
fn ord_rej_reason_of(text: &str) -> u64 {
    match text.split(':').next() {
        Some("UNKNOWN_SYMBOL") => 1,
        Some("UNAVAILABLE" | "STOPPED") => 2,
        Some("UNSUPPORTED") => 11,
        Some("INCORRECT_QUANTITY") => 13,
        _ => 99,
    }
}

fn char_of(view: &MessageView<'_>, tag: u32) -> Option<u8> {
    view.get(tag).and_then(|value| (value.len() == 1).then(|| value[0]))
}

/// Parses one application message of `trader`.
pub(crate) fn parse(
    view: &MessageView<'_>,
    trader: TraderId,
    registry: &Registry,
    ids: &LocalIds,
) -> Request {
    let parsed = match view.msg_type() {
        b"D" => new_order(view, trader, registry).map(Input::NewOrder),
        b"F" => cancel(view, trader, registry).map(Input::Cancel),
        b"G" => replace(view, trader, registry).map(Input::Replace),
        b"q" => mass_cancel(view, trader, registry),
        b"H" => status(view, trader, registry).map(Input::OrderStatus),
        b"V" => return market_data(view),
        b"x" => {
            let request_id = text(view, 320).unwrap_or("ALL");
            // SecurityListRequestType (559) 0: the one instrument named by Symbol (55).
            let symbol = if view.get(559) == Some(b"0") { text(view, 55) } else { None };
            let list = super::market_data::security_list(request_id, symbol, registry);
            return Request::Reply(b"y", list);
        }
        _ => {
            let text = "UNSUPPORTED: the exchange does not handle this message type";
            log_refused(view, 11, text);
            return Request::Refused { reason: BUSINESS_REJECT_UNSUPPORTED, text: text.into() };
        }
    };
    match parsed {
        Ok(input) => Request::Engine(input),
        Err(reason) => {
            log_refused(view, 11, &reason);
            refusal(view, &reason, ids)
        }
    }
}

/// Logs a request the gateway refuses on its content, before the engine sees it, with the
/// request's id (`id_tag`: ClOrdID, MDReqID) and the reason the trader is sent.
fn log_refused(view: &MessageView<'_>, id_tag: u32, reason: &str) {
    info!(
        msg_type = %printable(view.msg_type()),
        id = %printable(view.get(id_tag).unwrap_or_default()),
        reason = %printable(reason.as_bytes()),
        "request refused by the gateway"
    );
}

/// The local reject of a message the gateway refuses: for D an ExecutionReport, for F and G
/// an OrderCancelReject, for q an OrderMassCancelReport.
pub(crate) fn refusal(view: &MessageView<'_>, reason: &str, ids: &LocalIds) -> Request {
    let mut body = Body::new();
    let now = now_utc();
    let cl_ord_id = view.get(11).unwrap_or(b"NONE");
    match view.msg_type() {
        b"F" | b"G" => {
            body.str(37, view.get(37).unwrap_or(b"NONE")).str(11, cl_ord_id);
            body.str(41, view.get(41).unwrap_or(b"NONE")).char(39, b'8');
            body.timestamp(60, now);
            body.char(434, if view.msg_type() == b"F" { b'1' } else { b'2' });
            body.uint(102, 99).str(58, reason.as_bytes());
            Request::Reply(b"9", body)
        }
        b"q" => {
            body.str(11, cl_ord_id).str(37, b"NONE");
            body.char(530, view.get(530).and_then(|v| v.first().copied()).unwrap_or(b'7'));
            body.char(531, b'0').timestamp(60, now).str(58, reason.as_bytes());
            Request::Reply(b"r", body)
        }
        // Insufficient bandwidth: the request's rate, or the exchange's load.
        b"V" => {
            let request_id = text(view, 262).unwrap_or("");
            Request::Reply(b"Y", super::market_data::request_reject(request_id, b'2', reason))
        }
        // A status request refused for the moment (THROTTLED, BUSY…) says nothing of the
        // order: a BusinessMessageReject, like any request the exchange cannot take now.
        b"H" if transient(reason) => business_reject(reason),
        b"D" | b"H" => {
            body.str(37, b"NONE").str(11, cl_ord_id).str(17, ids.exec_id().as_bytes());
            if view.msg_type() == b"H" {
                // A status answer, as the engine's for an unknown order: an order Rejected
                // (150=8) would tell the client its working order was rejected.
                body.char(150, b'I').char(39, b'8');
            } else {
                body.char(150, b'8').char(39, b'8').uint(103, ord_rej_reason_of(reason));
            }
            if let Some(symbol) = view.get(55) {
                body.str(55, symbol);
            }
            body.char(54, view.get(54).and_then(|v| v.first().copied()).unwrap_or(b'1'));
            body.str(38, view.get(38).unwrap_or(b"0"));
            body.uint(151, 0).uint(14, 0).decimal(6, 0, 0).timestamp(60, now);
            body.str(58, reason.as_bytes());
            Request::Reply(b"8", body)
        }
        _ => business_reject(reason),
    }
}

/// Whether a refusal is the exchange's state of the moment, not the request's content.
fn transient(reason: &str) -> bool {
    matches!(reason.split(':').next(), Some("THROTTLED" | "BUSY" | "UNAVAILABLE" | "STOPPED"))
}

/// A BusinessMessageReject: 380=4 (application not available) when the exchange is busy or its
/// journal faulted, 0 (other) otherwise.
fn business_reject(reason: &str) -> Request {
    let unavailable = matches!(reason.split(':').next(), Some("BUSY" | "UNAVAILABLE"));
    let code = if unavailable { BUSINESS_REJECT_UNAVAILABLE } else { BUSINESS_REJECT_OTHER };
    Request::Refused { reason: code, text: reason.to_owned() }
}

fn cl_ord_id(view: &MessageView<'_>, tag: u32) -> Result<ClOrdId, String> {
    let value = view.get(tag).ok_or_else(|| format!("INVALID_CLORDID: tag {tag} is required"))?;
    // From the bytes: text that is not UTF-8 is refused as not printable, not as missing.
    ClOrdId::from_bytes(value).map_err(|error| format!("INVALID_CLORDID: ClOrdID ({tag}) {error}"))
}

fn instrument(
    view: &MessageView<'_>,
    registry: &Registry,
) -> Result<birzha_engine::InstrumentId, String> {
    let symbol = text(view, 55).ok_or("UNKNOWN_SYMBOL: Symbol (55) is required")?;
    registry
        .instrument(symbol)
        .ok_or_else(|| format!("UNKNOWN_SYMBOL: {symbol} is not traded here"))
}

fn side(view: &MessageView<'_>) -> Result<Side, String> {
    match char_of(view, 54) {
        Some(b'1') => Ok(Side::Buy),
        Some(b'2') => Ok(Side::Sell),
        _ => Err("UNSUPPORTED: Side (54) must be 1 (buy) or 2 (sell)".into()),
    }
}

fn order_kind(view: &MessageView<'_>) -> Result<OrderKind, String> {
    match char_of(view, 40) {
        Some(b'1') => Ok(OrderKind::Market),
        Some(b'2') => Ok(OrderKind::Limit),
        _ => Err("UNSUPPORTED: OrdType (40) must be 1 (market) or 2 (limit)".into()),
    }
}

fn tif(view: &MessageView<'_>) -> Result<Tif, String> {
    Ok(match char_of(view, 59) {
        None | Some(b'0') => Tif::Day,
        Some(b'1') => Tif::GoodTillCancel,
        Some(b'3') => Tif::ImmediateOrCancel,
        Some(b'4') => Tif::FillOrKill,
        Some(b'6') => {
            let date = text(view, 432).and_then(|d| d.parse().ok());
            let needed = "EXPIRE_DATE_INVALID: GTD needs ExpireDate (432) as YYYYMMDD";
            Tif::GoodTillDate(date.ok_or(needed)?)
        }
        Some(_) => return Err("UNSUPPORTED: TimeInForce (59) must be 0, 1, 3, 4 or 6".into()),
    })
}

fn self_match(view: &MessageView<'_>) -> Result<Option<SelfMatchMode>, String> {
    Ok(match view.get(2964) {
        None => None,
        Some(b"1") => Some(SelfMatchMode::CancelIncoming),
        Some(b"2") => Some(SelfMatchMode::CancelResting),
        Some(b"3") => Some(SelfMatchMode::CancelBoth),
        Some(b"4") => Some(SelfMatchMode::Decrement),
        Some(_) => return Err("UNSUPPORTED: SelfMatchPreventionMode (2964) must be 1 to 4".into()),
    })
}

fn new_order(
    view: &MessageView<'_>,
    trader: TraderId,
    registry: &Registry,
) -> Result<NewOrderInput, String> {
    let post_only =
        text(view, 18).is_some_and(|values| values.split(' ').any(|value| value == "6"));
    let account = match text(view, 1) {
        Some(account) => Some(
            Account::new(account)
                .map_err(|error| format!("INVALID_ACCOUNT: Account (1) {error}"))?,
        ),
        None => None,
    };
    Ok(NewOrderInput {
        trader,
        cl_ord_id: cl_ord_id(view, 11)?,
        instrument: instrument(view, registry)?,
        side: side(view)?,
        kind: order_kind(view)?,
        price: decimal(view, 44)?,
        quantity: decimal(view, 38)?.ok_or("INCORRECT_QUANTITY: OrderQty (38) is required")?,
        tif: tif(view)?,
        display: decimal(view, 111)?,
        post_only,
        self_match: self_match(view)?,
        account,
    })
}

fn order_ref(view: &MessageView<'_>) -> Result<OrderRef, String> {
    Ok(OrderRef { order_id: view.get_u64(37).map(OrderId), cl_ord_id: cl_ord_id(view, 41)? })
}

fn cancel(
    view: &MessageView<'_>,
    trader: TraderId,
    registry: &Registry,
) -> Result<CancelInput, String> {
    Ok(CancelInput {
        trader,
        cl_ord_id: cl_ord_id(view, 11)?,
        order: order_ref(view)?,
        instrument: instrument(view, registry)?,
        side: side(view)?,
    })
}

fn replace(
    view: &MessageView<'_>,
    trader: TraderId,
    registry: &Registry,
) -> Result<ReplaceInput, String> {
    if order_kind(view)? != OrderKind::Limit {
        return Err("UNSUPPORTED: only limit orders can be replaced".into());
    }
    Ok(ReplaceInput {
        trader,
        cl_ord_id: cl_ord_id(view, 11)?,
        order: order_ref(view)?,
        instrument: instrument(view, registry)?,
        side: side(view)?,
        price: decimal(view, 44)?,
        quantity: decimal(view, 38)?.ok_or("INCORRECT_QUANTITY: OrderQty (38) is required")?,
        display: decimal(view, 111)?,
    })
}

fn mass_cancel(
    view: &MessageView<'_>,
    trader: TraderId,
    registry: &Registry,
) -> Result<Input, String> {
    let instrument = match char_of(view, 530) {
        Some(b'1') => Some(instrument(view, registry)?),
        Some(b'7') => None,
        _ => return Err("UNSUPPORTED: MassCancelRequestType (530) must be 1 or 7".into()),
    };
    let side = match view.get(54) {
        Some(_) => Some(side(view)?),
        None => None,
    };
    let cl_ord_id = cl_ord_id(view, 11)?;
    Ok(Input::MassCancel(MassCancelInput { trader, cl_ord_id, instrument, side }))
}

fn status(
    view: &MessageView<'_>,
    trader: TraderId,
    registry: &Registry,
) -> Result<StatusInput, String> {
    let order =
        OrderRef { order_id: view.get_u64(37).map(OrderId), cl_ord_id: cl_ord_id(view, 11)? };
    Ok(StatusInput { trader, order, instrument: instrument(view, registry)?, side: side(view)? })
}

fn market_data(view: &MessageView<'_>) -> Request {
    let request_id = text(view, 262).unwrap_or("").to_owned();
    let reject = |reason, message: &str| {
        log_refused(view, 262, message);
        Request::Reply(b"Y", super::market_data::request_reject(&request_id, reason, message))
    };
    if view.get(265).is_some_and(|value| value != b"1") {
        return reject(b'6', "only incremental refresh (265=1) is supported");
    }
    let mut request = MarketDataRequest {
        request_id: request_id.clone(),
        kind: char_of(view, 263).unwrap_or(b'0'),
        depth: view.get_u64(264).unwrap_or(0) as usize,
        bids: false,
        offers: false,
        trades: false,
        symbols: Vec::new(),
    };
    for field in view.fields() {
        let value = view.value(field);
        match (field.tag, value) {
            (269, b"0") => request.bids = true,
            (269, b"1") => request.offers = true,
            (269, b"2") => request.trades = true,
            (269, _) => return reject(b'8', "MDEntryType (269) must be 0, 1 or 2"),
            (55, symbol) => request.symbols.push(String::from_utf8_lossy(symbol).into_owned()),
            _ => {}
        }
    }
    Request::MarketData(request)
}

#[cfg(test)]
mod tests {
    use birzha_fix::{Fields, parse};

    use super::*;

    fn refused(fields: &str, ids: &LocalIds) -> (Vec<u8>, String) {
        let text = format!("8=FIX.4.4\x019=0\x01{fields}\x0110=000\x01");
        let mut buffer = Fields::with_capacity(64);
        let view = parse(text.as_bytes(), &mut buffer).expect("parses");
        match refusal(&view, "BUSY: try again", ids) {
            Request::Reply(msg_type, body) => {
                (msg_type.to_vec(), String::from_utf8_lossy(body.as_bytes()).replace('\x01', "|"))
            }
            _ => panic!("a refusal is a reply"),
        }
    }

    #[test]
    fn local_rejects_draw_an_exec_id_only_for_an_execution_report_and_carry_the_time() {
        let ids = LocalIds::new();
        let prefix = ids.prefix.clone();
        let order = "35=D|11=A|55=BUT82|54=1|38=5".replace('|', "\x01");
        let (msg_type, first) = refused(&order, &ids);
        assert_eq!(msg_type, b"8");
        assert!(first.contains(&format!("|17={prefix}-1|")), "{first}");
        assert!(first.contains("|60=20") && first.contains("|58=BUSY: try again|"), "{first}");
        let cancel = "35=F|11=B|41=A|55=BUT82|54=1".replace('|', "\x01");
        let (msg_type, reject) = refused(&cancel, &ids);
        assert_eq!(msg_type, b"9");
        assert!(!reject.contains("|17=") && reject.contains("|60=20"), "{reject}");
        let (_, second) = refused(&order, &ids);
        assert!(second.contains(&format!("|17={prefix}-2|")), "the next id: {second}");
    }

    /// Regression (a review of the fixes): a status request refused for the moment (BUSY,
    /// THROTTLED) was answered with a status saying 39=8, of a possibly working order; it gets
    /// a BusinessMessageReject. One naming an unknown symbol still gets a status answer.
    #[test]
    fn a_status_request_refused_for_the_moment_is_a_business_reject() {
        let ids = LocalIds::new();
        let text = "8=FIX.4.4|9=0|35=H|11=A|55=BUT82|54=1|10=000|".replace('|', "\x01");
        let mut buffer = Fields::with_capacity(64);
        let view = parse(text.as_bytes(), &mut buffer).expect("parses");
        for (reason, code) in [("BUSY: try again", 4), ("THROTTLED: slow down", 0)] {
            match refusal(&view, reason, &ids) {
                Request::Refused { reason: got, text } => {
                    assert_eq!((got, text.as_str()), (code, reason))
                }
                _ => panic!("{reason}: a business reject"),
            }
        }
        let unknown = refusal(&view, "UNKNOWN_SYMBOL: BUT82 is not traded here", &ids);
        assert!(matches!(unknown, Request::Reply(b"8", _)), "a status answer");
    }

    /// Regression (a review of 2026-11-29): a ClOrdID that is not UTF-8 was refused as
    /// "tag 11 is required".
    #[test]
    fn a_cl_ord_id_outside_ascii_is_refused_as_such() {
        let text = b"8=FIX.4.4\x019=0\x0135=D\x0111=\xe8\xae\xa2\xff\x0110=000\x01";
        let mut buffer = Fields::with_capacity(64);
        let view = parse(text, &mut buffer).expect("parses");
        let error = cl_ord_id(&view, 11).expect_err("refused");
        assert_eq!(
            error,
            "INVALID_CLORDID: ClOrdID (11) holds a character outside printable ASCII"
        );
        let error = cl_ord_id(&view, 41).expect_err("refused");
        assert_eq!(error, "INVALID_CLORDID: tag 41 is required");
    }
}
