//! What a trader sends: typed requests, each encoded as the body of one FIX 4.4 message of the
//! Birzha profile (`shared/fix-profile.md`).
//!
//! | Request | MsgType | Tags written |
//! |---|---|---|
//! | [`NewOrder`] | D | 11, [1], [18=6], [111], 55, 54, 60, 38, 40, [44], 59, [432], [2964] |
//! | [`CancelOrder`] | F | 11, 41, [37], 55, 54, 60 |
//! | [`ReplaceOrder`] | G | 11, 41, [37], [111], 55, 54, 60, 38, 40=2, 44, [59], [432] |
//! | [`MassCancel`] | q | 11, 530, [55], [54], 60 |
//! | [`OrderStatus`] | H | 11, [37], 55, 54 |
//! | [`MarketDataRequest`] | V | 262, 263, 264, 265=1, 267, {269}, 146, {55} |
//! | [`SecurityListRequest`] | x | 320, 559=4 |
//!
//! # Validation
//! Every value a user controls is checked before anything is written ([`Request::validate`]):
//! text fields are 1 to [`TEXT_LEN_MAX`] printable ASCII characters (so no SOH can reach the
//! encoder), decimals fit a 64-bit mantissa, quantities are at least one lot. The exchange judges
//! everything else (symbol, price band, tick, lot limits) and answers with a reject event.

use birzha_fix::{Body, UtcTimestamp, WriteFields};
use rust_decimal::Decimal;

use crate::RequestError;

/// The longest text value (ClOrdID, Symbol, MDReqID) the exchange accepts.
pub const TEXT_LEN_MAX: usize = 64;
/// The longest Account (1) the exchange accepts.
pub const ACCOUNT_LEN_MAX: usize = 32;

/// Side (54).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// 1: buy.
    Buy,
    /// 2: sell.
    Sell,
}

impl Side {
    /// The FIX code.
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            Side::Buy => b'1',
            Side::Sell => b'2',
        }
    }

    /// The side of a FIX code.
    #[must_use]
    pub fn from_code(code: u8) -> Option<Side> {
        match code {
            b'1' => Some(Side::Buy),
            b'2' => Some(Side::Sell),
            _ => None,
        }
    }

    /// `buy` or `sell`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Side::Buy => "buy",
            Side::Sell => "sell",
        }
    }
}

/// TimeInForce (59), with ExpireDate (432) for good-till-date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeInForce {
    /// 0: until the end of the trading day (the default).
    #[default]
    Day,
    /// 1: until cancelled.
    GoodTillCancel,
    /// 3: fill what can be filled at once, cancel the rest.
    ImmediateOrCancel,
    /// 4: fill in full at once or not at all.
    FillOrKill,
    /// 6: until the end of the given day, `YYYYMMDD` as a number (e.g. 20261231).
    GoodTillDate(u32),
}

impl TimeInForce {
    /// The FIX code.
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            TimeInForce::Day => b'0',
            TimeInForce::GoodTillCancel => b'1',
            TimeInForce::ImmediateOrCancel => b'3',
            TimeInForce::FillOrKill => b'4',
            TimeInForce::GoodTillDate(_) => b'6',
        }
    }

    fn encode(self, body: &mut Body) {
        body.char(59, self.code());
        if let TimeInForce::GoodTillDate(date) = self {
            body.uint(432, u64::from(date));
        }
    }
}

/// SelfMatchPreventionMode (2964): what happens when the order would trade with its own
/// firm's resting order. Without it the trader's configured mode applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelfMatchMode {
    /// 1: cancel the incoming order.
    CancelIncoming,
    /// 2: cancel the resting order.
    CancelResting,
    /// 3: cancel both.
    CancelBoth,
    /// 4: reduce both by the smaller quantity.
    Decrement,
}

impl SelfMatchMode {
    fn code(self) -> u64 {
        match self {
            SelfMatchMode::CancelIncoming => 1,
            SelfMatchMode::CancelResting => 2,
            SelfMatchMode::CancelBoth => 3,
            SelfMatchMode::Decrement => 4,
        }
    }
}

/// NewOrderSingle (D): a limit order (with a price) or a market order (without).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    /// ClOrdID (11): unique per trader per trading day.
    pub cl_ord_id: String,
    /// Symbol (55).
    pub symbol: String,
    /// Side (54).
    pub side: Side,
    /// OrderQty (38), in lots.
    pub quantity: u64,
    /// Price (44) of a limit order; `None` makes a market order (OrdType 1).
    pub price: Option<Decimal>,
    /// TimeInForce (59).
    pub time_in_force: TimeInForce,
    /// MaxFloor (111): the lots an iceberg order shows.
    pub display: Option<u64>,
    /// ExecInst (18) = 6: rest only, never take liquidity.
    pub post_only: bool,
    /// SelfMatchPreventionMode (2964).
    pub self_match: Option<SelfMatchMode>,
    /// Account (1), echoed on reports.
    pub account: Option<String>,
}

impl NewOrder {
    /// A Day limit order.
    pub fn limit(
        cl_ord_id: impl Into<String>,
        symbol: impl Into<String>,
        side: Side,
        quantity: u64,
        price: Decimal,
    ) -> NewOrder {
        NewOrder {
            cl_ord_id: cl_ord_id.into(),
            symbol: symbol.into(),
            side,
            quantity,
            price: Some(price),
            time_in_force: TimeInForce::Day,
            display: None,
            post_only: false,
            self_match: None,
            account: None,
        }
    }

    /// An immediate-or-cancel market order.
    pub fn market(
        cl_ord_id: impl Into<String>,
        symbol: impl Into<String>,
        side: Side,
        quantity: u64,
    ) -> NewOrder {
        NewOrder {
            price: None,
            time_in_force: TimeInForce::ImmediateOrCancel,
            ..NewOrder::limit(cl_ord_id, symbol, side, quantity, Decimal::ZERO)
        }
    }

    /// Sets TimeInForce.
    #[must_use]
    pub fn time_in_force(mut self, time_in_force: TimeInForce) -> NewOrder {
        self.time_in_force = time_in_force;
        self
    }

    /// Makes an iceberg order showing `lots`.
    #[must_use]
    pub fn display(mut self, lots: u64) -> NewOrder {
        self.display = Some(lots);
        self
    }

    /// Makes the order post-only.
    #[must_use]
    pub fn post_only(mut self) -> NewOrder {
        self.post_only = true;
        self
    }

    /// Sets the self-match prevention mode.
    #[must_use]
    pub fn self_match(mut self, mode: SelfMatchMode) -> NewOrder {
        self.self_match = Some(mode);
        self
    }

    /// Sets the Account.
    #[must_use]
    pub fn account(mut self, account: impl Into<String>) -> NewOrder {
        self.account = Some(account.into());
        self
    }

    fn validate(&self) -> Result<(), RequestError> {
        text("ClOrdID", 11, &self.cl_ord_id, TEXT_LEN_MAX)?;
        text("Symbol", 55, &self.symbol, TEXT_LEN_MAX)?;
        if let Some(account) = &self.account {
            text("Account", 1, account, ACCOUNT_LEN_MAX)?;
        }
        lots("OrderQty", 38, self.quantity)?;
        if let Some(display) = self.display {
            lots("MaxFloor", 111, display)?;
        }
        if let Some(price) = self.price {
            decimal_parts("Price", 44, price)?;
        }
        Ok(())
    }

    fn encode(&self, body: &mut Body, now: UtcTimestamp) -> Result<(), RequestError> {
        body.str(11, self.cl_ord_id.as_bytes());
        if let Some(account) = &self.account {
            body.str(1, account.as_bytes());
        }
        if self.post_only {
            body.char(18, b'6');
        }
        if let Some(display) = self.display {
            body.uint(111, display);
        }
        body.str(55, self.symbol.as_bytes()).char(54, self.side.code()).timestamp(60, now);
        body.uint(38, self.quantity);
        match self.price {
            Some(price) => put_decimal(body.char(40, b'2'), "Price", 44, price)?,
            None => {
                body.char(40, b'1');
            }
        }
        self.time_in_force.encode(body);
        if let Some(mode) = self.self_match {
            body.uint(2964, mode.code());
        }
        Ok(())
    }
}

/// Which order a cancel, replace or status request names: by the ClOrdID it was given (or
/// last replaced with), or by the exchange's OrderID (37), which takes precedence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderRef {
    /// OrigClOrdID (41).
    ClOrdId(String),
    /// OrderID (37); OrigClOrdID is sent as `NONE`.
    OrderId(String),
}

impl OrderRef {
    fn validate(&self, orig_tag: u32) -> Result<(), RequestError> {
        match self {
            OrderRef::ClOrdId(id) => text("OrigClOrdID", orig_tag, id, TEXT_LEN_MAX),
            OrderRef::OrderId(id) => text("OrderID", 37, id, TEXT_LEN_MAX),
        }
    }

    /// Writes 41 (or 11 for a status request) and 37.
    fn encode(&self, body: &mut Body, orig_tag: u32) {
        match self {
            OrderRef::ClOrdId(id) => {
                body.str(orig_tag, id.as_bytes());
            }
            OrderRef::OrderId(id) => {
                if orig_tag == 41 {
                    body.str(41, b"NONE");
                }
                body.str(37, id.as_bytes());
            }
        }
    }
}

/// OrderCancelRequest (F).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelOrder {
    /// ClOrdID (11) of this request.
    pub cl_ord_id: String,
    /// The order to cancel.
    pub order: OrderRef,
    /// Symbol (55) of the order.
    pub symbol: String,
    /// Side (54) of the order.
    pub side: Side,
}

impl CancelOrder {
    fn validate(&self) -> Result<(), RequestError> {
        text("ClOrdID", 11, &self.cl_ord_id, TEXT_LEN_MAX)?;
        self.order.validate(41)?;
        text("Symbol", 55, &self.symbol, TEXT_LEN_MAX)
    }

    fn encode(&self, body: &mut Body, now: UtcTimestamp) {
        body.str(11, self.cl_ord_id.as_bytes());
        self.order.encode(body, 41);
        body.str(55, self.symbol.as_bytes()).char(54, self.side.code()).timestamp(60, now);
    }
}

/// OrderCancelReplaceRequest (G): a limit order's new total quantity and price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplaceOrder {
    /// ClOrdID (11): the order's new ClOrdID.
    pub cl_ord_id: String,
    /// The order to modify.
    pub order: OrderRef,
    /// Symbol (55) of the order.
    pub symbol: String,
    /// Side (54) of the order.
    pub side: Side,
    /// OrderQty (38): the new total quantity in lots, filled lots included.
    pub quantity: u64,
    /// Price (44): the new price.
    pub price: Decimal,
    /// MaxFloor (111): the new display quantity of an iceberg.
    pub display: Option<u64>,
}

impl ReplaceOrder {
    fn validate(&self) -> Result<(), RequestError> {
        text("ClOrdID", 11, &self.cl_ord_id, TEXT_LEN_MAX)?;
        self.order.validate(41)?;
        text("Symbol", 55, &self.symbol, TEXT_LEN_MAX)?;
        lots("OrderQty", 38, self.quantity)?;
        if let Some(display) = self.display {
            lots("MaxFloor", 111, display)?;
        }
        decimal_parts("Price", 44, self.price).map(drop)
    }

    fn encode(&self, body: &mut Body, now: UtcTimestamp) -> Result<(), RequestError> {
        body.str(11, self.cl_ord_id.as_bytes());
        self.order.encode(body, 41);
        if let Some(display) = self.display {
            body.uint(111, display);
        }
        body.str(55, self.symbol.as_bytes()).char(54, self.side.code()).timestamp(60, now);
        body.uint(38, self.quantity).char(40, b'2');
        put_decimal(body, "Price", 44, self.price)
    }
}

/// OrderMassCancelRequest (q): cancels the working orders of the trader's firm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MassCancel {
    /// ClOrdID (11) of this request.
    pub cl_ord_id: String,
    /// One instrument (530=1), or all (530=7) when `None`.
    pub symbol: Option<String>,
    /// Only this side, if given.
    pub side: Option<Side>,
}

impl MassCancel {
    fn validate(&self) -> Result<(), RequestError> {
        text("ClOrdID", 11, &self.cl_ord_id, TEXT_LEN_MAX)?;
        match &self.symbol {
            Some(symbol) => text("Symbol", 55, symbol, TEXT_LEN_MAX),
            None => Ok(()),
        }
    }

    fn encode(&self, body: &mut Body, now: UtcTimestamp) {
        body.str(11, self.cl_ord_id.as_bytes());
        match &self.symbol {
            Some(symbol) => body.char(530, b'1').str(55, symbol.as_bytes()),
            None => body.char(530, b'7'),
        };
        if let Some(side) = self.side {
            body.char(54, side.code());
        }
        body.timestamp(60, now);
    }
}

/// OrderStatusRequest (H): the exchange answers with an ExecutionReport, ExecType I.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderStatus {
    /// The order: its current ClOrdID (sent as 11) or its OrderID (37).
    pub order: OrderRef,
    /// Symbol (55) of the order.
    pub symbol: String,
    /// Side (54) of the order.
    pub side: Side,
}

impl OrderStatus {
    fn validate(&self) -> Result<(), RequestError> {
        self.order.validate(11)?;
        text("Symbol", 55, &self.symbol, TEXT_LEN_MAX)
    }

    fn encode(&self, body: &mut Body) {
        if let OrderRef::OrderId(_) = self.order {
            // ClOrdID (11) is required by the exchange even when the OrderID names the order.
            body.str(11, b"NONE");
        }
        self.order.encode(body, 11);
        body.str(55, self.symbol.as_bytes()).char(54, self.side.code());
    }
}

/// SubscriptionRequestType (263).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subscription {
    /// 0: one snapshot (W).
    Snapshot,
    /// 1: a snapshot, then incremental refreshes (X) until unsubscribed or logged out.
    Subscribe,
    /// 2: end the subscription with this MDReqID.
    Unsubscribe,
}

/// MarketDataRequest (V).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketDataRequest {
    /// MDReqID (262): echoed on every W, X and Y of the subscription.
    pub request_id: String,
    /// SubscriptionRequestType (263).
    pub subscription: Subscription,
    /// MarketDepth (264): levels per side in the snapshot; 0 = the full book.
    pub depth: u32,
    /// Book levels (269 = 0 bid, 1 offer).
    pub book: bool,
    /// Trades (269 = 2).
    pub trades: bool,
    /// The instruments (146 / 55).
    pub symbols: Vec<String>,
}

impl MarketDataRequest {
    /// A subscription to the full book and the trades of `symbol`.
    pub fn subscribe(request_id: impl Into<String>, symbol: impl Into<String>) -> Self {
        MarketDataRequest {
            request_id: request_id.into(),
            subscription: Subscription::Subscribe,
            depth: 0,
            book: true,
            trades: true,
            symbols: vec![symbol.into()],
        }
    }

    /// One snapshot of the full book and the last trade of `symbol`.
    pub fn snapshot(request_id: impl Into<String>, symbol: impl Into<String>) -> Self {
        MarketDataRequest {
            subscription: Subscription::Snapshot,
            ..MarketDataRequest::subscribe(request_id, symbol)
        }
    }

    fn validate(&self) -> Result<(), RequestError> {
        text("MDReqID", 262, &self.request_id, TEXT_LEN_MAX)?;
        if self.symbols.is_empty() || !(self.book || self.trades) {
            return Err(RequestError::EmptyMarketDataRequest);
        }
        self.symbols.iter().try_for_each(|symbol| text("Symbol", 55, symbol, TEXT_LEN_MAX))
    }

    fn encode(&self, body: &mut Body) {
        let kind = match self.subscription {
            Subscription::Snapshot => b'0',
            Subscription::Subscribe => b'1',
            Subscription::Unsubscribe => b'2',
        };
        body.str(262, self.request_id.as_bytes()).char(263, kind);
        body.uint(264, u64::from(self.depth)).char(265, b'1');
        let types = [(self.book, b'0'), (self.book, b'1'), (self.trades, b'2')];
        body.uint(267, types.iter().filter(|(wanted, _)| *wanted).count() as u64);
        for (_, code) in types.iter().filter(|(wanted, _)| *wanted) {
            body.char(269, *code);
        }
        body.uint(146, self.symbols.len() as u64);
        for symbol in &self.symbols {
            body.str(55, symbol.as_bytes());
        }
    }
}

/// SecurityListRequest (x) for every instrument (559 = 4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityListRequest {
    /// SecurityReqID (320).
    pub request_id: String,
}

/// Any request the client sends.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Request {
    /// D.
    NewOrder(NewOrder),
    /// F.
    Cancel(CancelOrder),
    /// G.
    Replace(ReplaceOrder),
    /// q.
    MassCancel(MassCancel),
    /// H.
    Status(OrderStatus),
    /// V.
    MarketData(MarketDataRequest),
    /// x.
    SecurityList(SecurityListRequest),
}

impl Request {
    /// The MsgType (35) of the request.
    #[must_use]
    pub fn msg_type(&self) -> &'static [u8] {
        match self {
            Request::NewOrder(_) => b"D",
            Request::Cancel(_) => b"F",
            Request::Replace(_) => b"G",
            Request::MassCancel(_) => b"q",
            Request::Status(_) => b"H",
            Request::MarketData(_) => b"V",
            Request::SecurityList(_) => b"x",
        }
    }

    /// Checks every value the user gave (see the module documentation).
    ///
    /// # Errors
    /// Returns the [`RequestError`] of the first invalid value.
    pub fn validate(&self) -> Result<(), RequestError> {
        match self {
            Request::NewOrder(order) => order.validate(),
            Request::Cancel(cancel) => cancel.validate(),
            Request::Replace(replace) => replace.validate(),
            Request::MassCancel(mass) => mass.validate(),
            Request::Status(status) => status.validate(),
            Request::MarketData(request) => request.validate(),
            Request::SecurityList(request) => {
                text("SecurityReqID", 320, &request.request_id, TEXT_LEN_MAX)
            }
        }
    }

    /// Validates the request and appends its body fields to `body`, with TransactTime (60)
    /// `now` where the message has one.
    ///
    /// # Errors
    /// Returns the [`RequestError`] of the first invalid value; `body` is then left as it was.
    pub fn encode(&self, body: &mut Body, now: UtcTimestamp) -> Result<(), RequestError> {
        self.validate()?;
        match self {
            Request::NewOrder(order) => order.encode(body, now)?,
            Request::Cancel(cancel) => cancel.encode(body, now),
            Request::Replace(replace) => replace.encode(body, now)?,
            Request::MassCancel(mass) => mass.encode(body, now),
            Request::Status(status) => status.encode(body),
            Request::MarketData(request) => request.encode(body),
            Request::SecurityList(request) => {
                body.str(320, request.request_id.as_bytes()).uint(559, 4);
            }
        }
        Ok(())
    }
}

macro_rules! request_from {
    ($($variant:ident($type:ty)),* $(,)?) => {
        $(impl From<$type> for Request {
            fn from(request: $type) -> Request {
                Request::$variant(request)
            }
        })*
    };
}

request_from!(
    NewOrder(NewOrder),
    Cancel(CancelOrder),
    Replace(ReplaceOrder),
    MassCancel(MassCancel),
    Status(OrderStatus),
    MarketData(MarketDataRequest),
    SecurityList(SecurityListRequest),
);

/// Checks a text field: 1 to `max` characters from `!` to `~`.
fn text(field: &'static str, tag: u32, value: &str, max: usize) -> Result<(), RequestError> {
    let printable = value.bytes().all(|byte| (0x21..=0x7e).contains(&byte));
    if value.is_empty() || value.len() > max || !printable {
        let value = value.escape_debug().to_string();
        return Err(RequestError::InvalidText { field, tag, value, max });
    }
    Ok(())
}

fn lots(field: &'static str, tag: u32, quantity: u64) -> Result<(), RequestError> {
    if quantity == 0 { Err(RequestError::ZeroQuantity { field, tag }) } else { Ok(()) }
}

/// A decimal as a plain-notation mantissa and scale, trailing zeros dropped.
fn decimal_parts(
    field: &'static str,
    tag: u32,
    value: Decimal,
) -> Result<(i64, u32), RequestError> {
    let value = value.normalize();
    let mantissa = i64::try_from(value.mantissa()).map_err(|_| RequestError::DecimalTooLarge {
        field,
        tag,
        value: value.to_string(),
    })?;
    Ok((mantissa, value.scale()))
}

fn put_decimal(
    body: &mut Body,
    field: &'static str,
    tag: u32,
    value: Decimal,
) -> Result<(), RequestError> {
    let (mantissa, scale) = decimal_parts(field, tag, value)?;
    body.decimal(tag, mantissa, scale);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(request: impl Into<Request>) -> String {
        let mut body = Body::new();
        request.into().encode(&mut body, UtcTimestamp(0)).expect("valid");
        String::from_utf8_lossy(body.as_bytes()).replace('\x01', "|")
    }

    const T0: &str = "60=19700101-00:00:00.000";

    #[test]
    fn a_limit_order_carries_every_option() {
        let order = NewOrder::limit("C1", "BUT82-FCA-USD", Side::Buy, 3, "6800".parse().unwrap())
            .time_in_force(TimeInForce::GoodTillDate(20261231))
            .display(1)
            .post_only()
            .self_match(SelfMatchMode::Decrement)
            .account("ACC");
        assert_eq!(
            encoded(order),
            format!(
                "11=C1|1=ACC|18=6|111=1|55=BUT82-FCA-USD|54=1|{T0}|38=3|40=2|44=6800|59=6|\
                 432=20261231|2964=4|"
            )
        );
    }

    #[test]
    fn a_market_order_has_no_price_and_is_ioc() {
        let order = NewOrder::market("M1", "MILK-RAW-BYN", Side::Sell, 2);
        assert_eq!(encoded(order), format!("11=M1|55=MILK-RAW-BYN|54=2|{T0}|38=2|40=1|59=3|"));
    }

    #[test]
    fn prices_are_plain_decimals() {
        let price = "0.9500".parse().unwrap();
        let order = NewOrder::limit("C2", "MILK-RAW-BYN", Side::Buy, 1, price)
            .time_in_force(TimeInForce::FillOrKill);
        assert!(encoded(order).contains("|44=0.95|59=4|"));
    }

    #[test]
    fn cancel_replace_status_and_mass_cancel() {
        let by_id = OrderRef::ClOrdId("C1".into());
        let cancel = CancelOrder {
            cl_ord_id: "X1".into(),
            order: by_id.clone(),
            symbol: "S".into(),
            side: Side::Sell,
        };
        assert_eq!(encoded(cancel), format!("11=X1|41=C1|55=S|54=2|{T0}|"));
        let by_order_id = OrderRef::OrderId("42".into());
        let cancel =
            CancelOrder { cl_ord_id: "X2".into(), order: by_order_id.clone(), ..cancel_of() };
        assert_eq!(encoded(cancel), format!("11=X2|41=NONE|37=42|55=S|54=1|{T0}|"));
        let replace = ReplaceOrder {
            cl_ord_id: "C2".into(),
            order: by_id.clone(),
            symbol: "S".into(),
            side: Side::Buy,
            quantity: 4,
            price: "6795".parse().unwrap(),
            display: None,
        };
        assert_eq!(encoded(replace), format!("11=C2|41=C1|55=S|54=1|{T0}|38=4|40=2|44=6795|"));
        let status = OrderStatus { order: by_id, symbol: "S".into(), side: Side::Buy };
        assert_eq!(encoded(status), "11=C1|55=S|54=1|");
        let status = OrderStatus { order: by_order_id, symbol: "S".into(), side: Side::Buy };
        assert_eq!(encoded(status), "11=NONE|37=42|55=S|54=1|");
        let mass = MassCancel { cl_ord_id: "M".into(), symbol: None, side: None };
        assert_eq!(encoded(mass), format!("11=M|530=7|{T0}|"));
        let mass = MassCancel { cl_ord_id: "M".into(), symbol: Some("S".into()), side: None };
        assert_eq!(encoded(mass), format!("11=M|530=1|55=S|{T0}|"));
    }

    fn cancel_of() -> CancelOrder {
        CancelOrder {
            cl_ord_id: String::new(),
            order: OrderRef::ClOrdId(String::new()),
            symbol: "S".into(),
            side: Side::Buy,
        }
    }

    #[test]
    fn market_data_and_security_list() {
        assert_eq!(
            encoded(MarketDataRequest::subscribe("MD1", "S")),
            "262=MD1|263=1|264=0|265=1|267=3|269=0|269=1|269=2|146=1|55=S|"
        );
        let trades_only =
            MarketDataRequest { book: false, ..MarketDataRequest::snapshot("M", "S") };
        assert_eq!(encoded(trades_only), "262=M|263=0|264=0|265=1|267=1|269=2|146=1|55=S|");
        assert_eq!(encoded(SecurityListRequest { request_id: "L".into() }), "320=L|559=4|");
    }

    #[test]
    fn user_values_are_checked_before_encoding() {
        let price = Decimal::ONE;
        let bad = [
            Request::from(NewOrder::limit("", "S", Side::Buy, 1, price)),
            NewOrder::limit("a\x01b", "S", Side::Buy, 1, price).into(),
            NewOrder::limit("C", "has space", Side::Buy, 1, price).into(),
            NewOrder::limit("C", "S".repeat(65), Side::Buy, 1, price).into(),
            NewOrder::limit("C", "S", Side::Buy, 0, price).into(),
            NewOrder::limit("C", "S", Side::Buy, 1, price).display(0).into(),
            NewOrder::limit("C", "S", Side::Buy, 1, price).account("A".repeat(33)).into(),
            NewOrder::limit("C", "S", Side::Buy, 1, Decimal::MAX).into(),
            MarketDataRequest { symbols: Vec::new(), ..MarketDataRequest::subscribe("M", "S") }
                .into(),
        ];
        for request in bad {
            let mut body = Body::new();
            assert!(request.encode(&mut body, UtcTimestamp(0)).is_err(), "{request:?}");
            assert!(body.as_bytes().is_empty(), "nothing written for {request:?}");
        }
        let error = Request::from(NewOrder::limit("a\x01b", "S", Side::Buy, 1, price))
            .validate()
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "ClOrdID (11) `a\\u{1}b` must be 1 to 64 printable ASCII characters"
        );
    }
}
