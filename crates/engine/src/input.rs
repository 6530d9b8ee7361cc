//! The inputs of the engine: everything that can change its state, as one enum.
//!
//! Producers (gateway sessions, the timer, operators) send [`Input`]s; the sequencer stamps each
//! with a sequence number and a timestamp, journals it, and applies it. Prices and quantities
//! arrive as the decimals the client sent, so that tick and lot rules are checked — and
//! rejected with a reason — inside the deterministic core.

use birzha_book::{FirmId, OrderId, SelfMatchMode, Side, TraderId};
use rust_decimal::Decimal;

use crate::codec::{DecodeError, Decoder, Encoder};
use crate::config::InstrumentId;
use crate::phase::Phase;
use crate::text::{Account, ClOrdId, InlineText};

/// An order's type as the client sent it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum OrderKind {
    /// A limit order.
    Limit = 0,
    /// A market order.
    Market = 1,
}

/// Time in force as the client sent it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tif {
    /// Until the end of the trading day.
    Day,
    /// Until cancelled (at most 365 days).
    GoodTillCancel,
    /// Until the end of the given date (Minsk time), `YYYYMMDD`.
    GoodTillDate(u32),
    /// Immediate or cancel.
    ImmediateOrCancel,
    /// Fill or kill.
    FillOrKill,
}

/// A new order (FIX NewOrderSingle).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewOrderInput {
    /// The trader entering it.
    pub trader: TraderId,
    /// The client's id for it.
    pub cl_ord_id: ClOrdId,
    /// The instrument.
    pub instrument: InstrumentId,
    /// Buy or sell.
    pub side: Side,
    /// Limit or market.
    pub kind: OrderKind,
    /// The limit price (required for limit orders).
    pub price: Option<Decimal>,
    /// Quantity in lots.
    pub quantity: Decimal,
    /// Time in force.
    pub tif: Tif,
    /// Iceberg display quantity in lots.
    pub display: Option<Decimal>,
    /// Post-only.
    pub post_only: bool,
    /// Self-trade prevention mode, overriding the trader's default.
    pub self_match: Option<SelfMatchMode>,
    /// The client's account reference.
    pub account: Option<Account>,
}

/// Which order a cancel, replace or status request names: the engine's id if given, else the
/// client's id of the order's latest version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderRef {
    /// The engine's order id (FIX OrderID), if the client sent it.
    pub order_id: Option<OrderId>,
    /// The client's id of the order (FIX OrigClOrdID).
    pub cl_ord_id: ClOrdId,
}

/// A cancel request (FIX OrderCancelRequest).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CancelInput {
    /// The trader asking.
    pub trader: TraderId,
    /// The client's id for this request.
    pub cl_ord_id: ClOrdId,
    /// The order to cancel.
    pub order: OrderRef,
    /// The instrument (routes the request to its shard).
    pub instrument: InstrumentId,
    /// The side the client believes the order has.
    pub side: Side,
}

/// A cancel/replace request (FIX OrderCancelReplaceRequest).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplaceInput {
    /// The trader asking.
    pub trader: TraderId,
    /// The client's id for the new version of the order.
    pub cl_ord_id: ClOrdId,
    /// The order to change.
    pub order: OrderRef,
    /// The instrument.
    pub instrument: InstrumentId,
    /// The order's side.
    pub side: Side,
    /// The new limit price.
    pub price: Option<Decimal>,
    /// The new total quantity.
    pub quantity: Decimal,
    /// The new display quantity.
    pub display: Option<Decimal>,
}

/// A trader's mass cancel of its firm's orders (FIX OrderMassCancelRequest).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MassCancelInput {
    /// The trader asking.
    pub trader: TraderId,
    /// The client's id for the request.
    pub cl_ord_id: ClOrdId,
    /// Only this instrument; `None` for every instrument of the shard.
    pub instrument: Option<InstrumentId>,
    /// Only this side.
    pub side: Option<Side>,
}

/// A request for an order's status (FIX OrderStatusRequest).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusInput {
    /// The trader asking.
    pub trader: TraderId,
    /// The order.
    pub order: OrderRef,
    /// The instrument.
    pub instrument: InstrumentId,
    /// The side.
    pub side: Side,
}

/// An operator command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admin {
    /// Halt an instrument: cancels only.
    Halt(InstrumentId),
    /// Resume a halted instrument.
    Resume(InstrumentId),
    /// Move an instrument to a phase.
    SetPhase(InstrumentId, Phase),
    /// Credit (or, negative, debit) a firm's deposit in a currency, in millionths.
    Deposit {
        /// The firm.
        firm: FirmId,
        /// The ISO currency code.
        currency: InlineText<3>,
        /// The amount in millionths of the currency unit.
        amount_micros: i128,
    },
    /// Suspend a firm: it may only cancel.
    SuspendFirm(FirmId),
    /// Reinstate a suspended firm.
    ReinstateFirm(FirmId),
    /// Cancel every order of an instrument, or of the whole shard.
    MassCancel(Option<InstrumentId>),
}

/// One input to the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// A new order.
    NewOrder(NewOrderInput),
    /// A cancel.
    Cancel(CancelInput),
    /// A cancel/replace.
    Replace(ReplaceInput),
    /// A trader's mass cancel.
    MassCancel(MassCancelInput),
    /// An order status request.
    OrderStatus(StatusInput),
    /// A trader's session ended without a logout: cancel-on-disconnect.
    Disconnect {
        /// The trader.
        trader: TraderId,
    },
    /// Time passes: expiries and scheduled phase changes are due. Time enters only this way
    /// (and as the timestamp of every input).
    Tick,
    /// An operator command.
    Admin(Admin),
}

impl Input {
    /// The largest journal payload of any input, in bytes (a replace with every option and
    /// 64-byte ClOrdIDs is about 200): what the sequencer sizes a journal batch by.
    pub const ENCODED_MAX: usize = 256;

    /// The instrument whose book the input is about, if it is a trader's request about one.
    #[must_use]
    pub fn instrument(&self) -> Option<InstrumentId> {
        match self {
            Input::NewOrder(order) => Some(order.instrument),
            Input::Cancel(cancel) => Some(cancel.instrument),
            Input::Replace(replace) => Some(replace.instrument),
            Input::OrderStatus(status) => Some(status.instrument),
            Input::MassCancel(mass) => mass.instrument,
            Input::Disconnect { .. } | Input::Tick | Input::Admin(_) => None,
        }
    }

    /// Returns the journal record kind of this input.
    #[must_use]
    pub fn kind(&self) -> u16 {
        match self {
            Input::NewOrder(_) => 1,
            Input::Cancel(_) => 2,
            Input::Replace(_) => 3,
            Input::MassCancel(_) => 4,
            Input::OrderStatus(_) => 5,
            Input::Disconnect { .. } => 6,
            Input::Tick => 7,
            Input::Admin(_) => 8,
        }
    }

    /// Appends the input's journal payload to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut encoder = Encoder::new(out);
        match self {
            Input::NewOrder(order) => encode_new_order(&mut encoder, order),
            Input::Cancel(cancel) => {
                encoder.u32(cancel.trader.0).bytes(cancel.cl_ord_id.as_bytes());
                encode_order_ref(&mut encoder, &cancel.order);
                encoder.u32(cancel.instrument.0).u8(cancel.side as u8);
            }
            Input::Replace(replace) => encode_replace(&mut encoder, replace),
            Input::MassCancel(mass) => {
                encoder.u32(mass.trader.0).bytes(mass.cl_ord_id.as_bytes());
                encoder.option(mass.instrument, |e, id| {
                    e.u32(id.0);
                });
                encoder.option(mass.side, |e, side| {
                    e.u8(side as u8);
                });
            }
            Input::OrderStatus(status) => {
                encoder.u32(status.trader.0);
                encode_order_ref(&mut encoder, &status.order);
                encoder.u32(status.instrument.0).u8(status.side as u8);
            }
            Input::Disconnect { trader } => {
                encoder.u32(trader.0);
            }
            Input::Tick => {}
            Input::Admin(admin) => encode_admin(&mut encoder, admin),
        }
    }

    /// Decodes a journal record of `kind` with `payload`.
    ///
    /// # Errors
    /// Returns a [`DecodeError`] naming the field when the payload is short, malformed, or of
    /// an unknown kind.
    pub fn decode(kind: u16, payload: &[u8]) -> Result<Input, DecodeError> {
        let mut decoder = Decoder::new(payload);
        let input = match kind {
            1 => Input::NewOrder(decode_new_order(&mut decoder)?),
            2 => Input::Cancel(CancelInput {
                trader: TraderId(decoder.u32("trader")?),
                cl_ord_id: cl_ord_id(&mut decoder)?,
                order: decode_order_ref(&mut decoder)?,
                instrument: InstrumentId(decoder.u32("instrument")?),
                side: side(&mut decoder)?,
            }),
            3 => Input::Replace(decode_replace(&mut decoder)?),
            4 => Input::MassCancel(MassCancelInput {
                trader: TraderId(decoder.u32("trader")?),
                cl_ord_id: cl_ord_id(&mut decoder)?,
                instrument: decoder
                    .option("instrument", |d| d.u32("instrument").map(InstrumentId))?,
                side: decoder.option("side", side)?,
            }),
            5 => Input::OrderStatus(StatusInput {
                trader: TraderId(decoder.u32("trader")?),
                order: decode_order_ref(&mut decoder)?,
                instrument: InstrumentId(decoder.u32("instrument")?),
                side: side(&mut decoder)?,
            }),
            6 => Input::Disconnect { trader: TraderId(decoder.u32("trader")?) },
            7 => Input::Tick,
            8 => Input::Admin(decode_admin(&mut decoder)?),
            _ => return Err(decoder.error("kind", "unknown input kind")),
        };
        decoder.finish("input")?;
        Ok(input)
    }
}

fn encode_new_order(encoder: &mut Encoder<'_>, order: &NewOrderInput) {
    encoder.u32(order.trader.0).bytes(order.cl_ord_id.as_bytes());
    encoder.u32(order.instrument.0).u8(order.side as u8).u8(order.kind as u8);
    encoder.option(order.price, |e, price| {
        e.decimal(price);
    });
    encoder.decimal(order.quantity);
    encode_tif(encoder, order.tif);
    encoder.option(order.display, |e, display| {
        e.decimal(display);
    });
    encoder.bool(order.post_only);
    encoder.option(order.self_match, |e, mode| {
        e.u8(mode as u8);
    });
    encoder.option(order.account, |e, account| {
        e.text(account.as_str());
    });
}

fn decode_new_order(decoder: &mut Decoder<'_>) -> Result<NewOrderInput, DecodeError> {
    Ok(NewOrderInput {
        trader: TraderId(decoder.u32("trader")?),
        cl_ord_id: cl_ord_id(decoder)?,
        instrument: InstrumentId(decoder.u32("instrument")?),
        side: side(decoder)?,
        kind: kind(decoder)?,
        price: decoder.option("price", |d| d.decimal("price"))?,
        quantity: decoder.decimal("quantity")?,
        tif: tif(decoder)?,
        display: decoder.option("display", |d| d.decimal("display"))?,
        post_only: decoder.bool("post_only")?,
        self_match: decoder.option("self_match", self_match)?,
        account: decoder.option("account", |d| {
            let text = d.bytes("account")?;
            Account::from_bytes(text).map_err(|_| d.error("account", "invalid account"))
        })?,
    })
}

fn encode_replace(encoder: &mut Encoder<'_>, replace: &ReplaceInput) {
    encoder.u32(replace.trader.0).bytes(replace.cl_ord_id.as_bytes());
    encode_order_ref(encoder, &replace.order);
    encoder.u32(replace.instrument.0).u8(replace.side as u8);
    encoder.option(replace.price, |e, price| {
        e.decimal(price);
    });
    encoder.decimal(replace.quantity);
    encoder.option(replace.display, |e, display| {
        e.decimal(display);
    });
}

fn decode_replace(decoder: &mut Decoder<'_>) -> Result<ReplaceInput, DecodeError> {
    Ok(ReplaceInput {
        trader: TraderId(decoder.u32("trader")?),
        cl_ord_id: cl_ord_id(decoder)?,
        order: decode_order_ref(decoder)?,
        instrument: InstrumentId(decoder.u32("instrument")?),
        side: side(decoder)?,
        price: decoder.option("price", |d| d.decimal("price"))?,
        quantity: decoder.decimal("quantity")?,
        display: decoder.option("display", |d| d.decimal("display"))?,
    })
}

fn encode_order_ref(encoder: &mut Encoder<'_>, order: &OrderRef) {
    encoder.option(order.order_id, |e, id| {
        e.u64(id.0);
    });
    encoder.bytes(order.cl_ord_id.as_bytes());
}

fn decode_order_ref(decoder: &mut Decoder<'_>) -> Result<OrderRef, DecodeError> {
    Ok(OrderRef {
        order_id: decoder.option("order_id", |d| d.u64("order_id").map(OrderId))?,
        cl_ord_id: cl_ord_id(decoder)?,
    })
}

fn encode_admin(encoder: &mut Encoder<'_>, admin: &Admin) {
    match *admin {
        Admin::Halt(id) => encoder.u8(0).u32(id.0),
        Admin::Resume(id) => encoder.u8(1).u32(id.0),
        Admin::SetPhase(id, phase) => encoder.u8(2).u32(id.0).u8(phase as u8),
        Admin::Deposit { firm, currency, amount_micros } => {
            encoder.u8(3).u32(firm.0).text(currency.as_str()).i128(amount_micros)
        }
        Admin::SuspendFirm(firm) => encoder.u8(4).u32(firm.0),
        Admin::ReinstateFirm(firm) => encoder.u8(5).u32(firm.0),
        Admin::MassCancel(instrument) => encoder.u8(6).option(instrument, |e, id| {
            e.u32(id.0);
        }),
    };
}

fn decode_admin(decoder: &mut Decoder<'_>) -> Result<Admin, DecodeError> {
    let instrument = |d: &mut Decoder<'_>| d.u32("instrument").map(InstrumentId);
    Ok(match decoder.u8("admin")? {
        0 => Admin::Halt(instrument(decoder)?),
        1 => Admin::Resume(instrument(decoder)?),
        2 => {
            let id = instrument(decoder)?;
            let code = decoder.u8("phase")?;
            Admin::SetPhase(id, Phase::from_code(code).ok_or(decoder.error("phase", "unknown"))?)
        }
        3 => Admin::Deposit {
            firm: FirmId(decoder.u32("firm")?),
            currency: {
                let text = decoder.bytes("currency")?;
                InlineText::from_bytes(text).map_err(|_| decoder.error("currency", "invalid"))?
            },
            amount_micros: decoder.i128("amount")?,
        },
        4 => Admin::SuspendFirm(FirmId(decoder.u32("firm")?)),
        5 => Admin::ReinstateFirm(FirmId(decoder.u32("firm")?)),
        6 => Admin::MassCancel(decoder.option("instrument", instrument)?),
        _ => return Err(decoder.error("admin", "unknown admin command")),
    })
}

fn cl_ord_id(decoder: &mut Decoder<'_>) -> Result<ClOrdId, DecodeError> {
    let text = decoder.bytes("cl_ord_id")?;
    ClOrdId::from_bytes(text).map_err(|_| decoder.error("cl_ord_id", "invalid ClOrdID"))
}

/// A time in force: a code (`0` Day, `1` GTC, `2` GTD and its date, `3` IOC, `4` FOK).
pub(crate) fn encode_tif(encoder: &mut Encoder<'_>, tif: Tif) {
    match tif {
        Tif::Day => encoder.u8(0),
        Tif::GoodTillCancel => encoder.u8(1),
        Tif::GoodTillDate(date) => encoder.u8(2).u32(date),
        Tif::ImmediateOrCancel => encoder.u8(3),
        Tif::FillOrKill => encoder.u8(4),
    };
}

pub(crate) fn tif(decoder: &mut Decoder<'_>) -> Result<Tif, DecodeError> {
    Ok(match decoder.u8("tif")? {
        0 => Tif::Day,
        1 => Tif::GoodTillCancel,
        2 => Tif::GoodTillDate(decoder.u32("expire_date")?),
        3 => Tif::ImmediateOrCancel,
        4 => Tif::FillOrKill,
        _ => return Err(decoder.error("tif", "unknown time in force")),
    })
}

pub(crate) fn kind(decoder: &mut Decoder<'_>) -> Result<OrderKind, DecodeError> {
    match decoder.u8("kind")? {
        0 => Ok(OrderKind::Limit),
        1 => Ok(OrderKind::Market),
        _ => Err(decoder.error("kind", "unknown order kind")),
    }
}

pub(crate) fn side(decoder: &mut Decoder<'_>) -> Result<Side, DecodeError> {
    match decoder.u8("side")? {
        0 => Ok(Side::Buy),
        1 => Ok(Side::Sell),
        _ => Err(decoder.error("side", "unknown side")),
    }
}

fn self_match(decoder: &mut Decoder<'_>) -> Result<SelfMatchMode, DecodeError> {
    match decoder.u8("self_match")? {
        0 => Ok(SelfMatchMode::CancelResting),
        1 => Ok(SelfMatchMode::CancelIncoming),
        2 => Ok(SelfMatchMode::CancelBoth),
        3 => Ok(SelfMatchMode::Decrement),
        _ => Err(decoder.error("self_match", "unknown mode")),
    }
}
