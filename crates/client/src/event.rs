//! What the exchange sends a trader, decoded into typed events.
//!
//! [`Event::decode`] turns one application message into an [`Event`]: ExecutionReport (8),
//! OrderCancelReject (9), OrderMassCancelReport (r), MarketDataSnapshotFullRefresh (W),
//! MarketDataIncrementalRefresh (X), MarketDataRequestReject (Y), TradingSessionStatus (h),
//! SecurityList (y), BusinessMessageReject (j) and session Reject (3). Any other MsgType becomes
//! [`Event::Other`], so a newer exchange never breaks an older client.
//!
//! Prices are [`Decimal`]s exactly as written on the wire; quantities are whole lots. Text
//! fields are decoded as lossy UTF-8 (the exchange sends ASCII).

use birzha_fix::{MessageView, UtcTimestamp};
use rust_decimal::Decimal;

use crate::{DecodeError, Side, TimeInForce};

/// ExecType (150).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecType {
    /// 0: accepted.
    New,
    /// F: a fill.
    Trade,
    /// 4: cancelled (by request, IOC/FOK remainder, self-match prevention, disconnect…).
    Cancelled,
    /// 5: replaced.
    Replaced,
    /// 8: rejected.
    Rejected,
    /// C: expired (Day at the close, GTD).
    Expired,
    /// D: restated (e.g. reduced by self-match prevention).
    Restated,
    /// I: the answer to an OrderStatusRequest.
    OrderStatus,
}

impl ExecType {
    fn from_code(code: u8) -> Option<ExecType> {
        Some(match code {
            b'0' => ExecType::New,
            b'F' => ExecType::Trade,
            b'4' => ExecType::Cancelled,
            b'5' => ExecType::Replaced,
            b'8' => ExecType::Rejected,
            b'C' => ExecType::Expired,
            b'D' => ExecType::Restated,
            b'I' => ExecType::OrderStatus,
            _ => return None,
        })
    }
}

/// OrdStatus (39).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrdStatus {
    /// 0: working, nothing filled.
    New,
    /// 1: working, partly filled.
    PartiallyFilled,
    /// 2: filled in full.
    Filled,
    /// 4: cancelled.
    Cancelled,
    /// 8: rejected.
    Rejected,
    /// C: expired.
    Expired,
}

impl OrdStatus {
    fn from_code(code: u8) -> Option<OrdStatus> {
        Some(match code {
            b'0' => OrdStatus::New,
            b'1' => OrdStatus::PartiallyFilled,
            b'2' => OrdStatus::Filled,
            b'4' => OrdStatus::Cancelled,
            b'8' => OrdStatus::Rejected,
            b'C' => OrdStatus::Expired,
            _ => return None,
        })
    }

    /// Whether an order in this status is still working (can trade, be cancelled).
    #[must_use]
    pub fn is_working(self) -> bool {
        matches!(self, OrdStatus::New | OrdStatus::PartiallyFilled)
    }

    /// A lower-case name for people: `new`, `partially filled`, `filled`, …
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            OrdStatus::New => "new",
            OrdStatus::PartiallyFilled => "partially filled",
            OrdStatus::Filled => "filled",
            OrdStatus::Cancelled => "cancelled",
            OrdStatus::Rejected => "rejected",
            OrdStatus::Expired => "expired",
        }
    }
}

/// One fill of an order: LastQty (32), LastPx (31), LastLiquidityInd (851), TradeID (527).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fill {
    /// Lots filled.
    pub lots: u64,
    /// The trade's price.
    pub price: Decimal,
    /// Whether this order was resting (maker, 851=1) rather than incoming (taker, 851=2).
    pub maker: bool,
    /// The trade id both sides share.
    pub trade_id: Option<String>,
}

/// ExecutionReport (8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionReport {
    /// OrderID (37); `None` when the exchange sent `NONE` (a reject before an id was given).
    pub order_id: Option<String>,
    /// ClOrdID (11).
    pub cl_ord_id: String,
    /// OrigClOrdID (41) on replaces and cancels.
    pub orig_cl_ord_id: Option<String>,
    /// ExecID (17).
    pub exec_id: String,
    /// ExecType (150).
    pub exec_type: ExecType,
    /// OrdStatus (39).
    pub status: OrdStatus,
    /// OrdRejReason (103) of a reject.
    pub reject_reason: Option<u32>,
    /// Account (1).
    pub account: Option<String>,
    /// Symbol (55).
    pub symbol: String,
    /// Side (54).
    pub side: Side,
    /// OrderQty (38), lots.
    pub quantity: u64,
    /// Price (44) of a limit order.
    pub price: Option<Decimal>,
    /// TimeInForce (59) with ExpireDate (432).
    pub time_in_force: Option<TimeInForce>,
    /// The fill, on ExecType F.
    pub fill: Option<Fill>,
    /// LeavesQty (151), lots.
    pub leaves: u64,
    /// CumQty (14), lots.
    pub cum: u64,
    /// AvgPx (6).
    pub average_price: Decimal,
    /// TransactTime (60).
    pub transact_time: Option<UtcTimestamp>,
    /// Text (58): the reason of a reject or cancel.
    pub text: Option<String>,
    /// PossDupFlag (43): the report was resent after a gap (it may have been seen before).
    pub poss_dup: bool,
}

/// CxlRejResponseTo (434).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelRejectTo {
    /// 1: a cancel request.
    Cancel,
    /// 2: a replace request.
    Replace,
}

/// OrderCancelReject (9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelReject {
    /// OrderID (37); `None` for `NONE` (unknown order).
    pub order_id: Option<String>,
    /// ClOrdID (11) of the refused request.
    pub cl_ord_id: String,
    /// OrigClOrdID (41) it named.
    pub orig_cl_ord_id: String,
    /// CxlRejResponseTo (434).
    pub response_to: CancelRejectTo,
    /// CxlRejReason (102): 0 too late, 1 unknown order, 6 duplicate ClOrdID, 99 other.
    pub reason: Option<u32>,
    /// Text (58).
    pub text: Option<String>,
}

/// OrderMassCancelReport (r).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MassCancelReport {
    /// ClOrdID (11) of the request.
    pub cl_ord_id: String,
    /// MassCancelResponse (531): `0` is a refusal, `1`/`7` the scope cancelled.
    pub response: u8,
    /// TotalAffectedOrders (533).
    pub affected: u64,
    /// Symbol (55) for an instrument's mass cancel.
    pub symbol: Option<String>,
    /// Text (58) of a refusal.
    pub text: Option<String>,
}

/// MDEntryType (269).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryType {
    /// 0.
    Bid,
    /// 1.
    Offer,
    /// 2.
    Trade,
    /// Q: the indicative auction clearing price during a call.
    AuctionPrice,
}

impl EntryType {
    fn from_code(code: u8) -> Option<EntryType> {
        Some(match code {
            b'0' => EntryType::Bid,
            b'1' => EntryType::Offer,
            b'2' => EntryType::Trade,
            b'Q' => EntryType::AuctionPrice,
            _ => return None,
        })
    }
}

/// MDUpdateAction (279).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateAction {
    /// 0: a new level (or a trade).
    New,
    /// 1: a level's size changed.
    Change,
    /// 2: a level is gone.
    Delete,
}

/// One entry of a snapshot or an incremental refresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketDataEntry {
    /// MDUpdateAction (279); `New` in snapshots.
    pub action: UpdateAction,
    /// MDEntryType (269).
    pub entry_type: EntryType,
    /// Symbol (55): of the entry in X, of the message in W.
    pub symbol: String,
    /// MDEntryPx (270).
    pub price: Decimal,
    /// MDEntrySize (271), lots (aggregate of the level for book entries).
    pub size: u64,
}

/// A market-data message: snapshot (W) or incremental refresh (X).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketData {
    /// MDReqID (262) of the subscription.
    pub request_id: String,
    /// Symbol (55) of a snapshot (each entry of an incremental refresh names its own).
    pub symbol: Option<String>,
    /// The entries in wire order.
    pub entries: Vec<MarketDataEntry>,
}

/// One instrument of a SecurityList (y).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Security {
    /// Symbol (55).
    pub symbol: String,
    /// SecurityDesc (107): commodity, basis, unit, lot and tick.
    pub description: Option<String>,
    /// Currency (15).
    pub currency: Option<String>,
    /// RoundLot (231): units per lot.
    pub lot_size: Option<Decimal>,
}

/// SecurityList (y).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityList {
    /// SecurityReqID (320) of the request.
    pub request_id: String,
    /// The instruments.
    pub securities: Vec<Security>,
}

/// A reject of a message at the session or business level: Reject (3) or
/// BusinessMessageReject (j), or MarketDataRequestReject (Y).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageReject {
    /// RefSeqNum (45) of the refused message, if given.
    pub ref_seq_num: Option<u64>,
    /// RefMsgType (372), if given.
    pub ref_msg_type: Option<String>,
    /// RefTagID (371), if given.
    pub ref_tag: Option<u32>,
    /// SessionRejectReason (373), BusinessRejectReason (380) or MDReqRejReason (281).
    pub reason: Option<String>,
    /// MDReqID (262) of a MarketDataRequestReject.
    pub request_id: Option<String>,
    /// Text (58).
    pub text: Option<String>,
}

/// TradingSessionStatus (h): an instrument's phase changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionStatus {
    /// TradingSessionID (336): the symbol.
    pub symbol: String,
    /// TradSesStatus (340): 1 halted, 2 open, 3 closed, 4 pre-open, 5 pre-close.
    pub status: u32,
    /// Text (58): the phase's name.
    pub text: Option<String>,
}

/// Anything the exchange tells the trader.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// 8.
    Execution(ExecutionReport),
    /// 9.
    CancelReject(CancelReject),
    /// r.
    MassCancel(MassCancelReport),
    /// W.
    Snapshot(MarketData),
    /// X.
    Incremental(MarketData),
    /// Y.
    MarketDataReject(MessageReject),
    /// h.
    SessionStatus(SessionStatus),
    /// y.
    SecurityList(SecurityList),
    /// j.
    BusinessReject(MessageReject),
    /// 3.
    SessionReject(MessageReject),
    /// The exchange is logging the session out; Text (58) is its reason. The last event.
    Logout(Option<String>),
    /// An application message of a type this client does not decode.
    Other {
        /// Its MsgType.
        msg_type: String,
    },
}

/// Field access that names the message and the field in its errors.
struct Reader<'a, 'v> {
    view: &'v MessageView<'a>,
    msg_type: &'v str,
}

impl<'a> Reader<'a, '_> {
    fn missing(&self, field: &'static str, tag: u32) -> DecodeError {
        DecodeError::Missing { msg_type: self.msg_type.into(), field, tag }
    }

    fn invalid(&self, field: &'static str, tag: u32, value: &[u8]) -> DecodeError {
        let value = String::from_utf8_lossy(value).into_owned();
        DecodeError::Invalid { msg_type: self.msg_type.into(), field, tag, value }
    }

    fn text(&self, tag: u32) -> Option<String> {
        self.view.get(tag).map(|value| String::from_utf8_lossy(value).into_owned())
    }

    fn required(&self, field: &'static str, tag: u32) -> Result<String, DecodeError> {
        self.text(tag).ok_or_else(|| self.missing(field, tag))
    }

    fn code<T>(
        &self,
        field: &'static str,
        tag: u32,
        from: impl Fn(u8) -> Option<T>,
    ) -> Result<T, DecodeError> {
        let value = self.view.get(tag).ok_or_else(|| self.missing(field, tag))?;
        match value {
            [code] => from(*code).ok_or_else(|| self.invalid(field, tag, value)),
            _ => Err(self.invalid(field, tag, value)),
        }
    }

    fn uint(&self, field: &'static str, tag: u32) -> Result<Option<u64>, DecodeError> {
        match self.view.get(tag) {
            None => Ok(None),
            Some(value) => match std::str::from_utf8(value).ok().and_then(|v| v.parse().ok()) {
                Some(number) => Ok(Some(number)),
                None => Err(self.invalid(field, tag, value)),
            },
        }
    }

    fn required_uint(&self, field: &'static str, tag: u32) -> Result<u64, DecodeError> {
        self.uint(field, tag)?.ok_or_else(|| self.missing(field, tag))
    }

    fn decimal(&self, field: &'static str, tag: u32) -> Result<Option<Decimal>, DecodeError> {
        match self.view.get(tag) {
            None => Ok(None),
            Some(value) => {
                parse_decimal(value).map(Some).ok_or_else(|| self.invalid(field, tag, value))
            }
        }
    }

    /// OrderID: `NONE` means none.
    fn order_id(&self) -> Option<String> {
        self.text(37).filter(|id| id != "NONE")
    }
}

/// Parses a plain decimal (`6800`, `0.95`, `-1.5`).
fn parse_decimal(value: &[u8]) -> Option<Decimal> {
    std::str::from_utf8(value).ok().and_then(|text| text.parse().ok())
}

impl Event {
    /// Decodes one application message.
    ///
    /// # Errors
    /// Returns a [`DecodeError`] when a field the message type requires is missing or malformed.
    pub fn decode(view: &MessageView<'_>) -> Result<Event, DecodeError> {
        let msg_type = String::from_utf8_lossy(view.msg_type()).into_owned();
        let reader = Reader { view, msg_type: &msg_type };
        Ok(match view.msg_type() {
            b"8" => Event::Execution(execution_report(&reader)?),
            b"9" => Event::CancelReject(cancel_reject(&reader)?),
            b"r" => Event::MassCancel(mass_cancel_report(&reader)?),
            b"W" => Event::Snapshot(market_data(&reader, false)?),
            b"X" => Event::Incremental(market_data(&reader, true)?),
            b"Y" => Event::MarketDataReject(message_reject(&reader, 281)?),
            b"h" => Event::SessionStatus(SessionStatus {
                symbol: reader.required("TradingSessionID", 336)?,
                status: reader.required_uint("TradSesStatus", 340)? as u32,
                text: reader.text(58),
            }),
            b"y" => Event::SecurityList(SecurityList {
                request_id: reader.text(320).unwrap_or_default(),
                securities: security_list(&reader)?,
            }),
            b"j" => Event::BusinessReject(message_reject(&reader, 380)?),
            b"3" => Event::SessionReject(message_reject(&reader, 373)?),
            _ => Event::Other { msg_type },
        })
    }
}

fn execution_report(reader: &Reader<'_, '_>) -> Result<ExecutionReport, DecodeError> {
    let fill = match reader.uint("LastQty", 32)? {
        Some(lots) if lots > 0 => Some(Fill {
            lots,
            price: reader.decimal("LastPx", 31)?.ok_or_else(|| reader.missing("LastPx", 31))?,
            maker: reader.view.get(851) == Some(b"1"),
            trade_id: reader.text(527),
        }),
        _ => None,
    };
    Ok(ExecutionReport {
        order_id: reader.order_id(),
        cl_ord_id: reader.required("ClOrdID", 11)?,
        orig_cl_ord_id: reader.text(41),
        exec_id: reader.required("ExecID", 17)?,
        exec_type: reader.code("ExecType", 150, ExecType::from_code)?,
        status: reader.code("OrdStatus", 39, OrdStatus::from_code)?,
        reject_reason: reader.uint("OrdRejReason", 103)?.map(|reason| reason as u32),
        account: reader.text(1),
        symbol: reader.text(55).unwrap_or_default(),
        side: reader.code("Side", 54, Side::from_code)?,
        quantity: reader.uint("OrderQty", 38)?.unwrap_or(0),
        price: reader.decimal("Price", 44)?,
        time_in_force: time_in_force(reader)?,
        fill,
        leaves: reader.required_uint("LeavesQty", 151)?,
        cum: reader.required_uint("CumQty", 14)?,
        average_price: reader.decimal("AvgPx", 6)?.unwrap_or_default(),
        transact_time: reader.view.get(60).and_then(UtcTimestamp::parse),
        text: reader.text(58),
        poss_dup: reader.view.poss_dup(),
    })
}

fn time_in_force(reader: &Reader<'_, '_>) -> Result<Option<TimeInForce>, DecodeError> {
    let Some(value) = reader.view.get(59) else { return Ok(None) };
    Ok(Some(match value {
        b"0" => TimeInForce::Day,
        b"1" => TimeInForce::GoodTillCancel,
        b"3" => TimeInForce::ImmediateOrCancel,
        b"4" => TimeInForce::FillOrKill,
        b"6" => {
            let date = reader.required_uint("ExpireDate", 432)?;
            let date = u32::try_from(date)
                .map_err(|_| reader.invalid("ExpireDate", 432, date.to_string().as_bytes()))?;
            TimeInForce::GoodTillDate(date)
        }
        _ => return Err(reader.invalid("TimeInForce", 59, value)),
    }))
}

fn cancel_reject(reader: &Reader<'_, '_>) -> Result<CancelReject, DecodeError> {
    let response_to = match reader.view.get(434) {
        Some(b"2") => CancelRejectTo::Replace,
        _ => CancelRejectTo::Cancel,
    };
    Ok(CancelReject {
        order_id: reader.order_id(),
        cl_ord_id: reader.required("ClOrdID", 11)?,
        orig_cl_ord_id: reader.text(41).unwrap_or_default(),
        response_to,
        reason: reader.uint("CxlRejReason", 102)?.map(|reason| reason as u32),
        text: reader.text(58),
    })
}

fn mass_cancel_report(reader: &Reader<'_, '_>) -> Result<MassCancelReport, DecodeError> {
    let response = match reader.view.get(531) {
        Some([code]) => *code,
        Some(value) => return Err(reader.invalid("MassCancelResponse", 531, value)),
        None => return Err(reader.missing("MassCancelResponse", 531)),
    };
    Ok(MassCancelReport {
        cl_ord_id: reader.required("ClOrdID", 11)?,
        response,
        affected: reader.uint("TotalAffectedOrders", 533)?.unwrap_or(0),
        symbol: reader.text(55),
        text: reader.text(58),
    })
}

/// Walks the NoMDEntries group: in X each entry starts with 279, in W with 269.
fn market_data(reader: &Reader<'_, '_>, incremental: bool) -> Result<MarketData, DecodeError> {
    let view = reader.view;
    let message_symbol = reader.text(55).unwrap_or_default();
    let mut entries: Vec<MarketDataEntry> = Vec::new();
    let delimiter = if incremental { 279 } else { 269 };
    for field in view.fields() {
        let value = view.value(field);
        if field.tag == delimiter {
            entries.push(MarketDataEntry {
                action: UpdateAction::New,
                entry_type: EntryType::Bid,
                symbol: message_symbol.clone(),
                price: Decimal::ZERO,
                size: 0,
            });
        }
        let Some(entry) = entries.last_mut() else { continue };
        market_data_field(reader, entry, field.tag, value)?;
    }
    let symbol = if incremental { None } else { reader.text(55) };
    Ok(MarketData { request_id: reader.required("MDReqID", 262)?, symbol, entries })
}

fn market_data_field(
    reader: &Reader<'_, '_>,
    entry: &mut MarketDataEntry,
    tag: u32,
    value: &[u8],
) -> Result<(), DecodeError> {
    match tag {
        279 => {
            entry.action = match value {
                b"0" => UpdateAction::New,
                b"1" => UpdateAction::Change,
                b"2" => UpdateAction::Delete,
                _ => return Err(reader.invalid("MDUpdateAction", 279, value)),
            }
        }
        269 => {
            let code = if let [code] = value { Some(*code) } else { None };
            entry.entry_type = code
                .and_then(EntryType::from_code)
                .ok_or_else(|| reader.invalid("MDEntryType", 269, value))?;
        }
        55 => entry.symbol = String::from_utf8_lossy(value).into_owned(),
        270 => {
            entry.price =
                parse_decimal(value).ok_or_else(|| reader.invalid("MDEntryPx", 270, value))?;
        }
        271 => {
            entry.size = std::str::from_utf8(value)
                .ok()
                .and_then(|size| size.parse().ok())
                .ok_or_else(|| reader.invalid("MDEntrySize", 271, value))?;
        }
        _ => {}
    }
    Ok(())
}

fn security_list(reader: &Reader<'_, '_>) -> Result<Vec<Security>, DecodeError> {
    let view = reader.view;
    let mut securities: Vec<Security> = Vec::new();
    for field in view.fields() {
        let value = view.value(field);
        let text = || String::from_utf8_lossy(value).into_owned();
        if field.tag == 55 {
            securities.push(Security {
                symbol: text(),
                description: None,
                currency: None,
                lot_size: None,
            });
            continue;
        }
        let Some(security) = securities.last_mut() else { continue };
        match field.tag {
            107 => security.description = Some(text()),
            15 => security.currency = Some(text()),
            231 => {
                let lot =
                    parse_decimal(value).ok_or_else(|| reader.invalid("RoundLot", 231, value))?;
                security.lot_size = Some(lot);
            }
            _ => {}
        }
    }
    Ok(securities)
}

fn message_reject(reader: &Reader<'_, '_>, reason_tag: u32) -> Result<MessageReject, DecodeError> {
    Ok(MessageReject {
        ref_seq_num: reader.uint("RefSeqNum", 45)?,
        ref_msg_type: reader.text(372),
        ref_tag: reader.uint("RefTagID", 371)?.map(|tag| tag as u32),
        reason: reader.text(reason_tag),
        request_id: reader.text(262),
        text: reader.text(58),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use birzha_fix::{Fields, parse};

    /// A frame from `|`-separated fields (BodyLength and CheckSum are not checked by `parse`).
    fn decode(fields: &str) -> Result<Event, DecodeError> {
        let text = format!("8=FIX.4.4|9=0|{fields}|10=000|").replace('|', "\x01");
        let mut buffer = Fields::with_capacity(256);
        let view = parse(text.as_bytes(), &mut buffer).expect("parses");
        Event::decode(&view)
    }

    #[test]
    fn a_fill_decodes_with_its_trade() {
        let event = decode(
            "35=8|37=281474976710657|11=B1|17=0-5-1|150=F|39=1|55=BUT82-FCA-USD|54=1|38=5|40=2|\
             44=6810|59=0|32=3|31=6800|851=2|527=77|151=2|14=3|6=6800|60=20260101-10:00:00.000",
        );
        let Ok(Event::Execution(report)) = event else { panic!("{event:?}") };
        assert_eq!(report.order_id.as_deref(), Some("281474976710657"));
        assert_eq!(
            (report.exec_type, report.status),
            (ExecType::Trade, OrdStatus::PartiallyFilled)
        );
        assert_eq!(report.side, Side::Buy);
        assert_eq!(report.price, Some(Decimal::from(6810)));
        assert_eq!(report.time_in_force, Some(TimeInForce::Day));
        let fill = report.fill.expect("a fill");
        assert_eq!((fill.lots, fill.price, fill.maker), (3, Decimal::from(6800), false));
        assert_eq!(fill.trade_id.as_deref(), Some("77"));
        assert_eq!((report.leaves, report.cum), (2, 3));
        assert!(report.transact_time.is_some() && !report.poss_dup);
    }

    #[test]
    fn a_reject_keeps_its_reason_and_text() {
        let event = decode(
            "35=8|43=Y|37=NONE|11=R1|17=L-1|150=8|39=8|103=99|55=S|54=2|38=1|151=0|14=0|6=0|\
             58=PRICE_OUTSIDE_BAND: price 6000 outside band [6120, 7480]",
        );
        let Ok(Event::Execution(report)) = event else { panic!("{event:?}") };
        assert_eq!(report.order_id, None);
        assert_eq!(report.reject_reason, Some(99));
        assert!(report.text.is_some_and(|text| text.starts_with("PRICE_OUTSIDE_BAND")));
        assert!(report.poss_dup);
    }

    #[test]
    fn market_data_groups_split_into_entries() {
        let event = decode(
            "35=W|262=MD1|55=S|268=3|269=0|270=6790|271=2|269=1|270=6805|271=4|269=2|270=6800|\
             271=1",
        );
        let Ok(Event::Snapshot(snapshot)) = event else { panic!("{event:?}") };
        assert_eq!(snapshot.entries.len(), 3);
        assert_eq!(snapshot.entries[1].entry_type, EntryType::Offer);
        assert_eq!((snapshot.entries[1].price, snapshot.entries[1].size), (6805.into(), 4));
        assert_eq!(snapshot.entries[2].symbol, "S");
        let event = decode(
            "35=X|262=MD1|268=2|279=2|269=0|55=S|270=0.95|271=0|279=0|269=2|55=S|270=0.96|271=7",
        );
        let Ok(Event::Incremental(update)) = event else { panic!("{event:?}") };
        assert_eq!(update.entries[0].action, UpdateAction::Delete);
        assert_eq!(update.entries[0].price, "0.95".parse().unwrap());
        assert_eq!((update.entries[1].entry_type, update.entries[1].size), (EntryType::Trade, 7));
    }

    #[test]
    fn other_messages_decode() {
        let event = decode("35=9|37=NONE|11=X1|41=O2|39=8|434=1|102=1|58=UNKNOWN_ORDER: no such");
        let Ok(Event::CancelReject(reject)) = event else { panic!("{event:?}") };
        assert_eq!((reject.response_to, reject.reason), (CancelRejectTo::Cancel, Some(1)));
        let event = decode("35=r|11=M1|37=NONE|530=7|531=7|533=4|60=20260101-10:00:00");
        assert!(matches!(event, Ok(Event::MassCancel(MassCancelReport { affected: 4, .. }))));
        let event = decode("35=y|320=L|322=L|560=0|146=2|55=A|107=a|15=USD|231=5|561=1|55=B|561=1");
        let Ok(Event::SecurityList(list)) = event else { panic!("{event:?}") };
        assert_eq!(list.request_id, "L");
        let list = list.securities;
        assert_eq!(list.len(), 2);
        assert_eq!((list[0].currency.as_deref(), list[0].lot_size), (Some("USD"), Some(5.into())));
        let event = decode("35=h|336=S|340=1|58=halted");
        assert!(matches!(event, Ok(Event::SessionStatus(SessionStatus { status: 1, .. }))));
        let event = decode("35=Y|262=MD2|281=0|58=unknown symbol");
        let Ok(Event::MarketDataReject(reject)) = event else { panic!("{event:?}") };
        assert_eq!(
            (reject.reason.as_deref(), reject.request_id.as_deref()),
            (Some("0"), Some("MD2"))
        );
        assert_eq!(decode("35=AE"), Ok(Event::Other { msg_type: "AE".into() }));
    }

    #[test]
    fn malformed_fields_are_named() {
        let error = decode("35=8|37=1|11=C|17=E|150=Z|39=0|54=1|151=0|14=0").unwrap_err();
        assert_eq!(error.to_string(), "8 message with bad ExecType (150) `Z`");
        let error = decode("35=8|37=1|11=C|17=E|150=0|39=0|54=1|14=0").unwrap_err();
        assert_eq!(error.to_string(), "8 message without LeavesQty (151)");
        let error = decode("35=W|262=M|55=S|268=1|269=0|270=abc|271=1").unwrap_err();
        assert!(matches!(error, DecodeError::Invalid { tag: 270, .. }));
    }
}
