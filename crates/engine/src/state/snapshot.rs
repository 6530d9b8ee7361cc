//! Snapshot encoding of a shard's state: everything [`ShardState::apply`] depends on, in a
//! canonical byte form (books in priority order, ClOrdIDs in the order they were used), so
//! that equal states have equal snapshots and a [`ShardState::state_hash`] identifies a state.
//! (Snapshots written by earlier builds hold the ClOrdIDs sorted: they restore the same, and
//! the order only decides the bytes of later snapshots.)

use std::sync::Arc;

use birzha_book::{
    FirmId, Lots, Mode, OrderId, OrderView, Owner, SelfMatchMode, Side, Ticks, TimeInForce,
    Timestamp, TradeId, TraderId,
};

use super::cl_ord_ids::ClOrdIds;
use super::finished::Ended;
use super::{OperatorHold, OrderRecord, ShardState};
use crate::codec::{DecodeError, Decoder, Encoder};
use crate::config::{InstrumentId, Registry};
use crate::deposit::Account;
use crate::input::{self, OrderKind, Tif};
use crate::output::OrdStatus;
use crate::phase::Phase;
use crate::text::{Account as AccountText, ClOrdId};

/// The snapshot payload's format version. Version 4 added the phase deadline and, per book,
/// the last indicative uncross and whether an operator closed it; version 5 the records of
/// the finished orders kept for status answers; version 6 an instrument an operator opened
/// after the close (the byte that said whether an operator closed it may then be 2). Versions
/// 3 to 5 still restore (without what they lack).
const VERSION: u16 = 6;

/// Why a snapshot payload could not be restored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RestoreError {
    /// The payload is malformed.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The payload does not fit the config (another shard, other instruments or firms).
    #[error("snapshot does not match the config: {what}")]
    Mismatch {
        /// What differs.
        what: &'static str,
    },
    /// A book's reference price gives no valid band.
    #[error("snapshot reference price {reference} ticks gives no valid band")]
    Band {
        /// The reference price.
        reference: Ticks,
    },
    /// A trader's ClOrdID is in the snapshot twice.
    #[error("snapshot holds a ClOrdID of trader {trader} twice")]
    DuplicateClOrdId {
        /// The trader's id.
        trader: u32,
    },
    /// A restored order breaks a book rule.
    #[error("snapshot order {order_id} cannot be restored: {reject}")]
    Order {
        /// The order.
        order_id: u64,
        /// The book's objection.
        reject: birzha_book::Reject,
    },
}

impl ShardState {
    /// Encodes the state into `out`.
    pub fn encode_snapshot(&self, out: &mut Vec<u8>) {
        let mut encoder = Encoder::new(out);
        encoder.u16(VERSION).u16(self.shard).u64(self.seq_last).u64(self.now.0);
        encoder.u32(self.trading_day).u64(self.order_counter).u64(self.phase_deadline.0);
        encoder.u32(self.suspended.len() as u32);
        for suspended in &self.suspended {
            encoder.bool(*suspended);
        }
        let accounts = self.deposits.accounts();
        encoder.u32(accounts.len() as u32);
        for account in accounts {
            encoder.i128(account.free).i128(account.reserved).i128(account.consumed);
        }
        encoder.u32(self.books.len() as u32);
        for (index, book) in self.books.iter().enumerate() {
            let Some(book) = book else {
                encoder.bool(false);
                continue;
            };
            encoder.bool(true).u8(self.phases[index] as u8).u64(book.trade_id_last().0);
            encoder.bool(book.mode() == Mode::Call).i64(book.reference().0);
            encoder.option(self.call_end[index], |e, end| {
                e.u64(end.0);
            });
            encoder.option(book.last_trade_price(), |e, price| {
                e.i64(price.0);
            });
            encoder.option(self.indicative[index], |e, auction| {
                e.i64(auction.price.0).u64(auction.volume).i64(auction.surplus);
            });
            encoder.u8(self.operator_hold[index] as u8);
            encoder.u32(book.len() as u32);
            for order in book.orders(Side::Buy).chain(book.orders(Side::Sell)) {
                encode_order(&mut encoder, &order, &self.orders[&order.order_id]);
            }
        }
        let cl_ord_ids = self.cl_ord_ids.entries();
        encoder.u32(cl_ord_ids.len() as u32);
        for (key, order_id) in cl_ord_ids {
            let (trader, digest) = ClOrdIds::parts(key);
            encoder.u32(trader).i128(digest as i128).u64(order_id.0);
        }
        encoder.u32(self.finished.len() as u32);
        for ended in self.finished.oldest_first() {
            encode_ended(&mut encoder, ended);
        }
    }

    /// Returns a 64-bit FNV-1a hash of the snapshot encoding: equal states, equal hashes.
    #[must_use]
    pub fn state_hash(&self) -> u64 {
        let mut bytes = Vec::new();
        self.encode_snapshot(&mut bytes);
        bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
            (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    }

    /// Rebuilds a shard's state from a snapshot payload.
    ///
    /// # Errors
    /// Returns a [`RestoreError`] if the payload is malformed, belongs to another shard or
    /// config, or holds an order the book refuses.
    pub fn restore(registry: Arc<Registry>, payload: &[u8]) -> Result<ShardState, RestoreError> {
        let mut decoder = Decoder::new(payload);
        let version = decoder.u16("version")?;
        if !(3..=VERSION).contains(&version) {
            return Err(RestoreError::Mismatch { what: "format version" });
        }
        let shard = decoder.u16("shard")?;
        if usize::from(shard) >= registry.config.shards {
            return Err(RestoreError::Mismatch { what: "shard number" });
        }
        let mut state = ShardState::new(registry, shard);
        state.seq_last = decoder.u64("seq_last")?;
        state.now = Timestamp(decoder.u64("now")?);
        state.trading_day = decoder.u32("trading_day")?;
        state.day_end = crate::calendar::minsk_end_of(state.trading_day).unwrap_or(Timestamp(0));
        state.order_counter = decoder.u64("order_counter")?;
        if version >= 4 {
            state.phase_deadline = Timestamp(decoder.u64("phase_deadline")?);
        }
        state.restore_firms(&mut decoder)?;
        state.restore_books(&mut decoder, version)?;
        let count = decoder.u32("cl_ord_ids")?;
        for _ in 0..count {
            let trader = decoder.u32("trader")?;
            let digest = decoder.i128("cl_ord_id")? as u128;
            // Snapshots before keys were cut to 96 bits hold whole digests: `key_of` cuts them.
            let key = ClOrdIds::key_of(trader, digest);
            if !state.cl_ord_ids.restore(key, OrderId(decoder.u64("order_id")?)) {
                return Err(RestoreError::DuplicateClOrdId { trader });
            }
        }
        if version >= 5 {
            state.restore_finished(&mut decoder)?;
        }
        decoder.finish("snapshot")?;
        Ok(state)
    }

    /// Restores the records of finished orders kept for status answers, oldest first.
    fn restore_finished(&mut self, decoder: &mut Decoder<'_>) -> Result<(), RestoreError> {
        let count = decoder.u32("finished")? as usize;
        if count > super::FINISHED_KEPT {
            return Err(decoder.error("finished", "more finished orders than kept").into());
        }
        for _ in 0..count {
            let ended = decode_ended(decoder)?;
            let known = self.registry.instruments.len() > ended.instrument.0 as usize
                && self.registry.config.firms.len() > ended.firm.0 as usize
                && self.registry.config.traders.len() > ended.trader.0 as usize;
            let id = ended.order_id;
            if !known || self.orders.get(&id).is_some() || self.finished.contains(id) {
                return Err(decoder.error("finished", "unknown or repeated order").into());
            }
            self.finished.push_ended(ended);
        }
        Ok(())
    }

    /// Restores the firms' status and deposits. Firms appended to the config since the
    /// snapshot keep their configured status and initial deposits.
    fn restore_firms(&mut self, decoder: &mut Decoder<'_>) -> Result<(), RestoreError> {
        let firms = decoder.u32("firms")? as usize;
        if firms > self.suspended.len() {
            return Err(RestoreError::Mismatch { what: "number of firms (firms were removed)" });
        }
        for suspended in &mut self.suspended[..firms] {
            *suspended = decoder.bool("suspended")?;
        }
        let count = decoder.u32("accounts")? as usize;
        let currencies = self.registry.currencies.len();
        if Some(count) != firms.checked_mul(currencies) {
            return Err(RestoreError::Mismatch { what: "number of deposit accounts" });
        }
        let mut accounts = Vec::with_capacity(count);
        for _ in 0..count {
            accounts.push(Account {
                free: decoder.i128("free")?,
                reserved: decoder.i128("reserved")?,
                consumed: decoder.i128("consumed")?,
            });
        }
        self.deposits.restore(&accounts);
        Ok(())
    }

    fn restore_books(
        &mut self,
        decoder: &mut Decoder<'_>,
        version: u16,
    ) -> Result<(), RestoreError> {
        // Instruments appended to the config since the snapshot start empty, in their first
        // phase, and step to the schedule's at the next input, as in a fresh state.
        let instruments = decoder.u32("instruments")? as usize;
        if instruments > self.books.len() {
            return Err(RestoreError::Mismatch {
                what: "number of instruments (instruments were removed)",
            });
        }
        if instruments < self.books.len() {
            self.phase_deadline = Timestamp(0);
        }
        for index in 0..instruments {
            let present = decoder.bool("book")?;
            if present != self.books[index].is_some() {
                return Err(RestoreError::Mismatch { what: "instruments of the shard" });
            }
            if !present {
                continue;
            }
            let phase = Phase::from_code(decoder.u8("phase")?);
            self.phases[index] = phase.ok_or(decoder.error("phase", "unknown phase"))?;
            let trade_id = TradeId(decoder.u64("trade_id_last")?);
            let call = decoder.bool("mode")?;
            let reference = Ticks(decoder.i64("reference")?);
            self.call_end[index] =
                decoder.option("call_end", |d| d.u64("call_end").map(Timestamp))?;
            let last_price = decoder.option("last_trade_price", |d| d.i64("price").map(Ticks))?;
            if version >= 4 {
                self.indicative[index] = decoder.option("indicative", decode_auction)?;
                self.operator_hold[index] = match decoder.u8("operator_hold")? {
                    0 => OperatorHold::None,
                    1 => OperatorHold::Closed,
                    // Written from version 6 on.
                    2 if version >= 6 => OperatorHold::OpenedAfterClose,
                    _ => return Err(decoder.error("operator_hold", "not 0, 1 or 2").into()),
                };
            }
            let count = decoder.u32("orders")?;
            let book = self.books[index].as_mut().expect("checked present");
            book.restore_trades(trade_id, last_price);
            if reference != book.reference() {
                book.rebase(reference, &mut Vec::new())
                    .map_err(|_| RestoreError::Band { reference })?;
            }
            if call {
                book.start_call();
            }
            for _ in 0..count {
                let (view, record) = decode_order(decoder, InstrumentId(index as u32))?;
                book.restore(&view)
                    .map_err(|reject| RestoreError::Order { order_id: view.order_id.0, reject })?;
                self.orders.insert(view.order_id, record);
            }
        }
        Ok(())
    }
}

fn decode_auction(decoder: &mut Decoder<'_>) -> Result<birzha_book::Auction, DecodeError> {
    Ok(birzha_book::Auction {
        price: Ticks(decoder.i64("indicative_price")?),
        volume: decoder.u64("indicative_volume")?,
        surplus: decoder.i64("indicative_surplus")?,
    })
}

fn encode_order(encoder: &mut Encoder<'_>, order: &OrderView, record: &OrderRecord) {
    encoder.u64(order.order_id.0).u32(order.owner.firm.0).u32(order.owner.trader.0);
    encoder.u8(order.side as u8).i64(order.price.0).u32(order.quantity.0);
    encoder.u32(order.leaves.0).u32(order.visible.0).u32(order.display.map_or(0, |d| d.0));
    let expiry = order.expiry.map_or(u64::MAX, |expiry| expiry.0);
    encoder.u64(expiry).bool(order.post_only).u8(order.self_match as u8).bool(order.market);
    encoder.text(record.cl_ord_id.as_str()).u8(record.kind as u8);
    match record.tif {
        Tif::Day => encoder.u8(0),
        Tif::GoodTillCancel => encoder.u8(1),
        Tif::GoodTillDate(date) => encoder.u8(2).u32(date),
        Tif::ImmediateOrCancel | Tif::FillOrKill => unreachable!("immediate orders never rest"),
    };
    encoder.u32(record.cum.0).i128(record.notional_ticks).i128(record.reserved);
    encoder.option(record.account, |e, account| {
        e.text(account.as_str());
    });
}

/// What is kept of a finished order.
fn encode_ended(encoder: &mut Encoder<'_>, ended: &Ended) {
    encoder.u64(ended.order_id.0).u32(ended.instrument.0).u8(status_code(ended.status));
    encoder.u32(ended.firm.0).u32(ended.trader.0).u8(ended.side as u8);
    encoder.u8(ended.kind as u8);
    input::encode_tif(encoder, ended.tif);
    encoder.i64(ended.price.0).u32(ended.quantity.0).u32(ended.cum.0);
    encoder.i128(ended.notional_ticks);
}

fn decode_ended(decoder: &mut Decoder<'_>) -> Result<Ended, RestoreError> {
    let order_id = OrderId(decoder.u64("order_id")?);
    let instrument = InstrumentId(decoder.u32("instrument")?);
    let status = status_of(decoder.u8("status")?).ok_or(decoder.error("status", "unknown"))?;
    let firm = FirmId(decoder.u32("firm")?);
    let trader = TraderId(decoder.u32("trader")?);
    let (side, kind, tif) = (input::side(decoder)?, input::kind(decoder)?, input::tif(decoder)?);
    // Fields are read in the order written (a struct expression evaluates in source order).
    Ok(Ended {
        order_id,
        instrument,
        trader,
        firm,
        tif,
        status,
        side,
        kind,
        price: Ticks(decoder.i64("price")?),
        quantity: Lots(decoder.u32("quantity")?),
        cum: Lots(decoder.u32("cum")?),
        notional_ticks: decoder.i128("notional")?,
    })
}

/// A finished order's status in snapshots.
fn status_code(status: OrdStatus) -> u8 {
    match status {
        OrdStatus::New => 0,
        OrdStatus::PartiallyFilled => 1,
        OrdStatus::Filled => 2,
        OrdStatus::Cancelled => 3,
        OrdStatus::Rejected => 4,
        OrdStatus::Expired => 5,
    }
}

fn status_of(code: u8) -> Option<OrdStatus> {
    [
        OrdStatus::New,
        OrdStatus::PartiallyFilled,
        OrdStatus::Filled,
        OrdStatus::Cancelled,
        OrdStatus::Rejected,
        OrdStatus::Expired,
    ]
    .get(usize::from(code))
    .copied()
}

fn decode_order(
    decoder: &mut Decoder<'_>,
    instrument: InstrumentId,
) -> Result<(OrderView, OrderRecord), RestoreError> {
    let order_id = OrderId(decoder.u64("order_id")?);
    let owner =
        Owner { firm: FirmId(decoder.u32("firm")?), trader: TraderId(decoder.u32("trader")?) };
    let side = if decoder.bool("side")? { Side::Sell } else { Side::Buy };
    let price = Ticks(decoder.i64("price")?);
    let quantity = Lots(decoder.u32("quantity")?);
    let leaves = Lots(decoder.u32("leaves")?);
    let visible = Lots(decoder.u32("visible")?);
    let display = Some(decoder.u32("display")?).filter(|d| *d > 0).map(Lots);
    let expiry = Timestamp(decoder.u64("expiry")?);
    let post_only = decoder.bool("post_only")?;
    let self_match = match decoder.u8("self_match")? {
        0 => SelfMatchMode::CancelResting,
        1 => SelfMatchMode::CancelIncoming,
        2 => SelfMatchMode::CancelBoth,
        3 => SelfMatchMode::Decrement,
        _ => return Err(decoder.error("self_match", "unknown mode").into()),
    };
    let market_order = decoder.bool("market")?;
    let cl_ord_id = cl_ord_id(decoder)?;
    let kind = if decoder.bool("kind")? { OrderKind::Market } else { OrderKind::Limit };
    let (tif, time_in_force) = match decoder.u8("tif")? {
        0 => (Tif::Day, TimeInForce::Day),
        1 => (Tif::GoodTillCancel, TimeInForce::GoodTillCancel),
        2 => (Tif::GoodTillDate(decoder.u32("date")?), TimeInForce::GoodTillDate(expiry)),
        _ => return Err(decoder.error("tif", "not a resting time in force").into()),
    };
    let record = OrderRecord {
        trader: owner.trader,
        firm: owner.firm,
        instrument,
        cl_ord_id,
        side,
        kind,
        tif,
        price,
        quantity,
        cum: Lots(decoder.u32("cum")?),
        notional_ticks: decoder.i128("notional")?,
        reserved: decoder.i128("reserved")?,
        account: decoder.option("account", |d| {
            let text = d.bytes("account")?;
            AccountText::from_bytes(text).map_err(|_| d.error("account", "invalid account"))
        })?,
    };
    let view = OrderView {
        order_id,
        owner,
        side,
        price,
        quantity,
        leaves,
        visible,
        display,
        time_in_force,
        expiry: (expiry.0 != u64::MAX).then_some(expiry),
        post_only,
        self_match,
        market: market_order,
    };
    Ok((view, record))
}

fn cl_ord_id(decoder: &mut Decoder<'_>) -> Result<ClOrdId, DecodeError> {
    let text = decoder.bytes("cl_ord_id")?;
    ClOrdId::from_bytes(text).map_err(|_| decoder.error("cl_ord_id", "invalid ClOrdID"))
}
