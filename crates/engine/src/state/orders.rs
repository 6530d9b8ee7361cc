//! Traders' requests: new orders, cancels, replaces, mass cancels, status requests and
//! cancel-on-disconnect.

use birzha_book::{
    Cancel, CancelReason, FirmId, Lots, MassCancel, NewOrder, OrderId, OrderType, Reject, Replace,
    Side, Ticks, TimeInForce, TraderId,
};
use rust_decimal::Decimal;

use super::cl_ord_ids::{ClOrdIds, Key};
use super::finished::Ended;
use super::{CL_ORD_IDS_MAX, OrderRecord, Requester, ShardState};
use crate::calendar;
use crate::config::{CancelOnDisconnect, InstrumentId};
use crate::input::{
    CancelInput, MassCancelInput, NewOrderInput, OrderKind, OrderRef, ReplaceInput, StatusInput,
    Tif,
};
use crate::output::{
    CancelRejected, CancelRequestKind, ExecType, Execution, MassCancelDone, OrdStatus, Output,
    OutputEvent, Reason, RejectReason,
};
use crate::text::ClOrdId;

impl ShardState {
    pub(super) fn new_order(&mut self, input: &NewOrderInput, out: &mut Vec<Output>) {
        let order_id = self.new_order_id();
        match self.admit(input, order_id) {
            Ok((order, limit, reserved, key)) => {
                let firm = order.owner.firm;
                let record = OrderRecord {
                    trader: input.trader,
                    firm,
                    instrument: input.instrument,
                    cl_ord_id: input.cl_ord_id,
                    side: input.side,
                    kind: input.kind,
                    tif: input.tif,
                    price: Ticks::default(),
                    quantity: order.quantity,
                    cum: Lots(0),
                    notional_ticks: 0,
                    reserved,
                    account: input.account,
                };
                self.orders.insert(order_id, record);
                self.cl_ord_ids.insert_key(key, order_id);
                let currency = self.currency_of[input.instrument.0 as usize];
                let reserved_ok = self.deposits.reserve(firm.0, currency, reserved);
                assert!(reserved_ok, "Invariant: admit checked the free deposit");
                self.requester = Some(Requester {
                    trader: input.trader,
                    order_id,
                    cl_ord_id: input.cl_ord_id,
                    orig_cl_ord_id: None,
                });
                self.with_book(input.instrument, out, |book, now, events| {
                    book.submit_checked(&order, limit, now, events);
                });
            }
            Err(reason) => {
                if reason != RejectReason::DuplicateClOrdId
                    && self.cl_ord_ids.len() < CL_ORD_IDS_MAX
                {
                    self.cl_ord_ids.mark_used(input.trader, &input.cl_ord_id);
                }
                self.reject_new(input, reason, out);
            }
        }
    }

    /// Runs the checks in the market model's order and returns the book order, its limit
    /// price (a market order's protection price) and its deposit reservation.
    fn admit(
        &self,
        input: &NewOrderInput,
        order_id: OrderId,
    ) -> Result<(NewOrder, Ticks, i128, Key), RejectReason> {
        let firm = self.registry.firm_of(input.trader);
        if self.suspended[firm.0 as usize] {
            return Err(RejectReason::FirmSuspended);
        }
        let book = self.book(input.instrument).ok_or(RejectReason::UnknownInstrument)?;
        let phase = self.phases[input.instrument.0 as usize];
        if !phase.accepts_orders() {
            return Err(RejectReason::Phase(phase));
        }
        let key = self.check_cl_ord_id(input.trader, input.cl_ord_id)?;
        let instrument = book.instrument();
        let order_type = match (input.kind, input.price) {
            (OrderKind::Limit, Some(price)) => {
                OrderType::Limit { price: instrument.price_to_ticks(price).map_err(book_reject)? }
            }
            (OrderKind::Limit, None) => return Err(RejectReason::PriceRequired),
            (OrderKind::Market, _) => OrderType::Market,
        };
        let quantity = instrument.quantity_to_lots(input.quantity).map_err(book_reject)?;
        let display = input.display.map(|d| display_lots(instrument, d)).transpose()?;
        let time_in_force = self.time_in_force(input.tif)?;
        let trader_config = &self.registry.config.traders[input.trader.0 as usize];
        let order = NewOrder {
            order_id,
            owner: birzha_book::Owner { firm, trader: input.trader },
            side: input.side,
            order_type,
            quantity,
            time_in_force,
            display,
            post_only: input.post_only,
            self_match: input.self_match.unwrap_or(trader_config.self_match),
        };
        let limit = book.check_new(&order, self.now).map_err(book_reject)?;
        let reserved = self.reservation(input.instrument, limit, quantity.0);
        let currency = self.currency_of[input.instrument.0 as usize];
        let free = self.deposits.account(firm.0, currency).free;
        if reserved > free {
            return Err(RejectReason::InsufficientDeposit {
                required_micros: reserved,
                free_micros: free,
            });
        }
        Ok((order, limit, reserved, key))
    }

    /// Checks that `cl_ord_id` is unused today and there is room for it; returns its key.
    fn check_cl_ord_id(&self, trader: TraderId, cl_ord_id: ClOrdId) -> Result<Key, RejectReason> {
        let key = ClOrdIds::key(trader, &cl_ord_id);
        if self.cl_ord_ids.get_key(&key).is_some() {
            return Err(RejectReason::DuplicateClOrdId);
        }
        if self.cl_ord_ids.len() >= CL_ORD_IDS_MAX {
            return Err(RejectReason::ClOrdIdsFull);
        }
        Ok(key)
    }

    fn time_in_force(&self, tif: Tif) -> Result<TimeInForce, RejectReason> {
        Ok(match tif {
            Tif::Day => TimeInForce::Day,
            Tif::GoodTillCancel => TimeInForce::GoodTillCancel,
            Tif::ImmediateOrCancel => TimeInForce::ImmediateOrCancel,
            Tif::FillOrKill => TimeInForce::FillOrKill,
            Tif::GoodTillDate(date) => match calendar::minsk_end_of(date) {
                Some(end) if date >= self.trading_day => TimeInForce::GoodTillDate(end),
                _ => return Err(RejectReason::ExpireDateInvalid { date }),
            },
        })
    }

    fn reject_new(&mut self, input: &NewOrderInput, reason: RejectReason, out: &mut Vec<Output>) {
        let execution = Execution {
            trader: input.trader,
            instrument: input.instrument,
            order_id: None,
            cl_ord_id: input.cl_ord_id,
            orig_cl_ord_id: None,
            exec_id: self.exec_id(),
            exec_type: ExecType::Rejected,
            status: OrdStatus::Rejected,
            side: input.side,
            kind: input.kind,
            price: None,
            tif: input.tif,
            quantity: Lots(u32::try_from(input.quantity.trunc().mantissa()).unwrap_or(0)),
            cum: Lots(0),
            leaves: Lots(0),
            notional_ticks: 0,
            last: None,
            reason: Some(Reason::Reject(reason)),
            account: input.account,
            time: self.now,
        };
        self.push(OutputEvent::Execution(execution), out);
    }

    /// The order `order` names, working or finished (and still kept), if it is one of
    /// `trader`'s firm's; else why not: `TooLate` for an order this shard finished and no
    /// longer keeps, `UnknownOrder` otherwise (another firm's orders included).
    fn find(
        &self,
        trader: TraderId,
        order: &OrderRef,
    ) -> Result<(OrderId, Found<'_>), RejectReason> {
        let firm = self.registry.firm_of(trader);
        let order_id = match order.order_id {
            Some(order_id) => order_id,
            None => match self.cl_ord_ids.get(trader, &order.cl_ord_id) {
                Some(order_id) if order_id.0 != 0 => order_id,
                _ => return Err(RejectReason::UnknownOrder),
            },
        };
        let found = match self.orders.get(&order_id) {
            Some(record) => Some(Found::Working(record)),
            None => self.finished.get(order_id).map(Found::Finished),
        };
        match found {
            Some(found) if found.firm() == firm => Ok((order_id, found)),
            Some(_) => Err(RejectReason::UnknownOrder),
            None if self.issued(order_id) => Err(RejectReason::TooLate),
            None => Err(RejectReason::UnknownOrder),
        }
    }

    /// Finds the working order a cancel or replace names, among the requesting trader's firm's
    /// orders, and checks that the request names its side (a replace never changes it).
    ///
    /// Another firm's order, working or finished and kept, is `UnknownOrder`; the firm's own
    /// finished order is `TooLate`. One finished longer ago (its record is no longer kept, and
    /// so its firm unknown) is `TooLate` whoever asks: that tells another firm only that the
    /// OrderID was issued and has ended, which sequential OrderIDs reveal anyway.
    fn resolve(
        &self,
        trader: TraderId,
        order: &OrderRef,
        side: Side,
    ) -> Result<OrderId, RejectReason> {
        match self.find(trader, order) {
            Ok((_, Found::Working(record))) if record.side != side => {
                Err(RejectReason::SideMismatch { side: record.side })
            }
            Ok((order_id, Found::Working(_))) => Ok(order_id),
            Ok((_, Found::Finished(_))) => Err(RejectReason::TooLate),
            Err(reason) => Err(reason),
        }
    }

    /// Whether this shard ever issued `order_id` (it may be finished now).
    fn issued(&self, order_id: OrderId) -> bool {
        order_id.0 >> 48 == u64::from(self.shard)
            && (1..=self.order_counter).contains(&(order_id.0 & ((1 << 48) - 1)))
    }

    pub(super) fn cancel(&mut self, input: &CancelInput, out: &mut Vec<Output>) {
        let resolved = self
            .check_request(input.trader, input.cl_ord_id, input.instrument, false)
            .and_then(|()| self.resolve(input.trader, &input.order, input.side));
        let order_id = match resolved {
            Ok(order_id) => order_id,
            Err(reason) => {
                let kind = CancelRequestKind::Cancel;
                let request = (input.trader, input.cl_ord_id, input.order, input.instrument);
                return self.cancel_reject(request, kind, reason, out);
            }
        };
        self.cl_ord_ids.insert(input.trader, &input.cl_ord_id, order_id);
        self.requester = Some(Requester {
            trader: input.trader,
            order_id,
            cl_ord_id: input.cl_ord_id,
            orig_cl_ord_id: Some(self.orders[&order_id].cl_ord_id),
        });
        let requester = self.registry.firm_of(input.trader);
        self.with_book(input.instrument, out, |book, _, events| {
            book.cancel(&Cancel { order_id, requester }, events);
        });
    }

    /// The checks every cancel or replace passes first: firm, instrument, phase, ClOrdID.
    fn check_request(
        &self,
        trader: TraderId,
        cl_ord_id: ClOrdId,
        instrument: InstrumentId,
        modifies: bool,
    ) -> Result<(), RejectReason> {
        let firm = self.registry.firm_of(trader);
        if modifies && self.suspended[firm.0 as usize] {
            return Err(RejectReason::FirmSuspended);
        }
        if self.book(instrument).is_none() {
            return Err(RejectReason::UnknownInstrument);
        }
        let phase = self.phases[instrument.0 as usize];
        let allowed = if modifies { phase.accepts_orders() } else { phase.accepts_cancels() };
        if !allowed {
            return Err(RejectReason::Phase(phase));
        }
        self.check_cl_ord_id(trader, cl_ord_id).map(|_| ())
    }

    pub(super) fn replace(&mut self, input: &ReplaceInput, out: &mut Vec<Output>) {
        let admitted = self
            .check_request(input.trader, input.cl_ord_id, input.instrument, true)
            .and_then(|()| self.resolve(input.trader, &input.order, input.side))
            .and_then(|order_id| self.admit_replace(input, order_id).map(|r| (order_id, r)));
        let (order_id, (request, reserved)) = match admitted {
            Ok(admitted) => admitted,
            Err(reason) => {
                let request = (input.trader, input.cl_ord_id, input.order, input.instrument);
                return self.cancel_reject(request, CancelRequestKind::Replace, reason, out);
            }
        };
        let record = self.orders.get_mut(&order_id).expect("resolved orders have records");
        let orig_cl_ord_id = record.cl_ord_id;
        let (firm, delta) = (record.firm, reserved - record.reserved);
        record.cl_ord_id = input.cl_ord_id;
        record.reserved = reserved;
        let currency = self.currency_of[input.instrument.0 as usize];
        if delta >= 0 {
            let reserved_ok = self.deposits.reserve(firm.0, currency, delta);
            assert!(reserved_ok, "Invariant: admit_replace checked the free deposit");
        } else {
            self.deposits.release(firm.0, currency, -delta);
        }
        self.cl_ord_ids.insert(input.trader, &input.cl_ord_id, order_id);
        let requester = Requester {
            trader: input.trader,
            order_id,
            cl_ord_id: input.cl_ord_id,
            orig_cl_ord_id: Some(orig_cl_ord_id),
        };
        self.requester = Some(requester);
        self.with_book(input.instrument, out, |book, _, events| book.replace(&request, events));
    }

    /// Converts and checks a replace, and returns the book request and the order's new
    /// reservation.
    fn admit_replace(
        &self,
        input: &ReplaceInput,
        order_id: OrderId,
    ) -> Result<(Replace, i128), RejectReason> {
        let book = self.book(input.instrument).ok_or(RejectReason::UnknownInstrument)?;
        let instrument = book.instrument();
        let current = book.order(order_id).ok_or(RejectReason::UnknownOrder)?;
        let price = match input.price {
            Some(price) => instrument.price_to_ticks(price).map_err(book_reject)?,
            None => current.price,
        };
        let request = Replace {
            order_id,
            requester: self.registry.firm_of(input.trader),
            price,
            quantity: instrument.quantity_to_lots(input.quantity).map_err(book_reject)?,
            display: input.display.map(|d| display_lots(instrument, d)).transpose()?,
        };
        book.check_replace(&request).map_err(book_reject)?;
        let leaves = request.quantity.0.saturating_sub(current.filled().0);
        let reserved = self.reservation(input.instrument, price, leaves);
        let record = &self.orders[&order_id];
        let currency = self.currency_of[input.instrument.0 as usize];
        let free = self.deposits.account(record.firm.0, currency).free;
        if reserved - record.reserved > free {
            let required_micros = reserved - record.reserved;
            return Err(RejectReason::InsufficientDeposit { required_micros, free_micros: free });
        }
        Ok((request, reserved))
    }

    fn cancel_reject(
        &mut self,
        (trader, cl_ord_id, order, instrument): (TraderId, ClOrdId, OrderRef, InstrumentId),
        kind: CancelRequestKind,
        reason: RejectReason,
        out: &mut Vec<Output>,
    ) {
        // The order's current status (FIX 4.4: 8 only for an order not known).
        let found = self.find(trader, &order).ok().filter(|(_, f)| f.instrument() == instrument);
        let order_id = found.map(|(order_id, _)| order_id);
        let status = found.map_or(OrdStatus::Rejected, |(_, found)| found.status());
        let rejected = CancelRejected {
            trader,
            instrument,
            order_id,
            cl_ord_id,
            orig_cl_ord_id: order.cl_ord_id,
            status,
            kind,
            reason,
            time: self.now,
        };
        self.push(OutputEvent::CancelRejected(rejected), out);
    }

    pub(super) fn trader_mass_cancel(&mut self, input: &MassCancelInput, out: &mut Vec<Output>) {
        let firm = self.registry.firm_of(input.trader);
        let filter = MassCancel { firm: Some(firm), side: input.side, ..MassCancel::default() };
        // Like a single cancel, only where the phase takes cancels (not while Closed).
        let mut cancelled = 0;
        for index in 0..self.books.len() {
            let id = InstrumentId(index as u32);
            if input.instrument.is_none_or(|wanted| wanted == id)
                && self.phases[index].accepts_cancels()
            {
                cancelled += self.mass_cancel(Some(id), &filter, CancelReason::MassCancel, out);
            }
        }
        let done = MassCancelDone {
            trader: input.trader,
            cl_ord_id: input.cl_ord_id,
            instrument: input.instrument,
            side: input.side,
            cancelled,
            time: self.now,
        };
        self.push(OutputEvent::MassCancelDone(done), out);
    }

    pub(super) fn disconnect(&mut self, trader: TraderId, out: &mut Vec<Output>) {
        let mode = self.registry.config.traders[trader.0 as usize].cancel_on_disconnect;
        let day_only = match mode {
            CancelOnDisconnect::None => return,
            CancelOnDisconnect::Day => true,
            CancelOnDisconnect::All => false,
        };
        let filter = MassCancel { trader: Some(trader), day_only, ..MassCancel::default() };
        self.mass_cancel(None, &filter, CancelReason::Disconnect, out);
    }

    /// Cancels the orders `filter` selects in one instrument or all of the shard's; returns
    /// how many.
    pub(super) fn mass_cancel(
        &mut self,
        instrument: Option<InstrumentId>,
        filter: &MassCancel,
        reason: CancelReason,
        out: &mut Vec<Output>,
    ) -> u32 {
        let mut cancelled = 0;
        for index in 0..self.books.len() {
            let id = InstrumentId(index as u32);
            if self.books[index].is_none() || instrument.is_some_and(|wanted| wanted != id) {
                continue;
            }
            self.with_book(id, out, |book, _, events| {
                cancelled += book.mass_cancel(filter, reason, events);
            });
        }
        cancelled
    }

    /// Answers a status request to the trader who asked (the owner or a colleague of its
    /// firm: `resolve` admits no other), never to anyone else.
    pub(super) fn order_status(&mut self, input: &StatusInput, out: &mut Vec<Output>) {
        let found = self.find(input.trader, &input.order).ok();
        let found = found.filter(|(_, found)| found.instrument() == input.instrument);
        let view = |order_id| self.book(input.instrument)?.order(order_id);
        let execution = match found {
            Some((order_id, Found::Finished(ended))) => Execution {
                trader: input.trader,
                exec_type: ExecType::OrderStatus,
                status: ended.status,
                leaves: Lots(0),
                ..self.execution_base(&ended.record(input.order.cl_ord_id), Some(order_id))
            },
            Some((order_id, Found::Working(record))) if let Some(view) = view(order_id) => {
                Execution {
                    trader: input.trader,
                    order_id: Some(order_id),
                    cl_ord_id: record.cl_ord_id,
                    exec_type: ExecType::OrderStatus,
                    status: working_status(record.cum),
                    price: Some(view.price),
                    quantity: view.quantity,
                    cum: record.cum,
                    leaves: view.leaves,
                    notional_ticks: record.notional_ticks,
                    ..self.execution_base(record, None)
                }
            }
            _ => Execution {
                order_id: input.order.order_id,
                trader: input.trader,
                instrument: input.instrument,
                cl_ord_id: input.order.cl_ord_id,
                side: input.side,
                exec_type: ExecType::OrderStatus,
                status: OrdStatus::Rejected,
                reason: Some(Reason::Reject(RejectReason::UnknownOrder)),
                ..self.execution_blank()
            },
        };
        let execution = Execution { exec_id: self.exec_id(), ..execution };
        self.push(OutputEvent::Execution(execution), out);
    }
}

/// An order a request names: working, or finished and still kept.
#[derive(Clone, Copy, Debug)]
enum Found<'a> {
    Working(&'a OrderRecord),
    Finished(&'a Ended),
}

impl Found<'_> {
    fn firm(self) -> FirmId {
        match self {
            Found::Working(record) => record.firm,
            Found::Finished(ended) => ended.firm,
        }
    }

    fn instrument(self) -> InstrumentId {
        match self {
            Found::Working(record) => record.instrument,
            Found::Finished(ended) => ended.instrument,
        }
    }

    /// Its status now.
    fn status(self) -> OrdStatus {
        match self {
            Found::Working(record) => working_status(record.cum),
            Found::Finished(ended) => ended.status,
        }
    }
}

/// The status of a working order that has filled `cum` lots.
pub(super) fn working_status(cum: Lots) -> OrdStatus {
    if cum.0 == 0 { OrdStatus::New } else { OrdStatus::PartiallyFilled }
}

fn book_reject(reject: Reject) -> RejectReason {
    RejectReason::Book(reject)
}

fn lots(instrument: &birzha_book::Instrument, quantity: Decimal) -> Result<Lots, RejectReason> {
    instrument.quantity_to_lots(quantity).map_err(book_reject)
}

/// An iceberg's display quantity in lots; zero is left for the book to refuse as an invalid
/// display (`DISPLAY_INVALID`), not as a quantity of zero lots the order does not have.
fn display_lots(
    instrument: &birzha_book::Instrument,
    display: Decimal,
) -> Result<Lots, RejectReason> {
    if display.is_zero() { Ok(Lots(0)) } else { lots(instrument, display) }
}
