//! Turning the book's events into outputs, and keeping the order records and the deposits in
//! step with them.

use birzha_book::{
    Event, Expired, Fill, Lots, OrderId, OrderState, Reduced, Rejected, Replaced, Request, Side,
    Timestamp, TraderId,
};

use super::orders::working_status;
use super::{OrderRecord, ShardState};
use crate::config::InstrumentId;
use crate::deposit::share;
use crate::input::{OrderKind, Tif};
use crate::output::{
    CancelRejected, CancelRequestKind, ExecId, ExecType, Execution, LastFill, Level, OrdStatus,
    Output, OutputEvent, Reason, RejectReason, Trade,
};
use crate::text::ClOrdId;

impl ShardState {
    /// Reports one book event of `instrument`.
    pub(super) fn report(
        &mut self,
        instrument: InstrumentId,
        event: &Event,
        out: &mut Vec<Output>,
    ) {
        match event {
            Event::Accepted(state) => self.report_accepted(state, out),
            Event::Rejected(rejected) => self.report_rejected(instrument, rejected, out),
            Event::Fill(fill) => self.report_fill(instrument, fill, out),
            Event::Cancelled(cancelled) => {
                let reason = Some(Reason::Cancel(cancelled.reason));
                self.report_end(
                    &cancelled.order,
                    ExecType::Cancelled,
                    OrdStatus::Cancelled,
                    reason,
                    out,
                );
            }
            Event::Expired(Expired { order, .. }) => {
                self.report_end(order, ExecType::Expired, OrdStatus::Expired, None, out);
            }
            Event::Replaced(replaced) => self.report_replaced(replaced, out),
            Event::Reduced(reduced) => self.report_reduced(reduced, out),
            Event::Interrupted(_) => self.interrupted(instrument, out),
            Event::Level(level) => {
                let level = Level {
                    instrument,
                    side: level.side,
                    price: level.price,
                    lots: level.lots,
                    orders: level.orders,
                };
                self.push(OutputEvent::Level(level), out);
            }
        }
    }

    fn report_accepted(&mut self, state: &OrderState, out: &mut Vec<Output>) {
        let record = self.orders.get_mut(&state.order_id).expect("accepted orders have records");
        record.price = state.price;
        let record = *record;
        let execution = Execution {
            exec_type: ExecType::New,
            status: OrdStatus::New,
            leaves: state.leaves,
            ..self.execution_base(&record, Some(state.order_id))
        };
        self.deliver(state.order_id, &record, execution, out);
    }

    fn report_fill(&mut self, instrument: InstrumentId, fill: &Fill, out: &mut Vec<Output>) {
        let currency = self.currency_of[instrument.0 as usize];
        let mut firms = [birzha_book::FirmId(0); 2];
        for (party, maker) in [(fill.maker, true), (fill.taker, false)] {
            let record = self.orders.get_mut(&party.order_id).expect("filled orders have records");
            let consumed = share(record.reserved, fill.lots.0, party.leaves.0 + fill.lots.0);
            record.reserved -= consumed;
            record.cum = party.filled;
            record.notional_ticks += i128::from(fill.price.0) * i128::from(fill.lots.0);
            let record = *record;
            self.deposits.consume(record.firm.0, currency, consumed);
            firms[usize::from(record.side == Side::Sell)] = record.firm;
            let done = party.leaves.0 == 0;
            let trade_id = (u64::from(instrument.0) << 40) | fill.trade_id.0;
            let execution = Execution {
                exec_type: ExecType::Trade,
                status: if done { OrdStatus::Filled } else { OrdStatus::PartiallyFilled },
                leaves: party.leaves,
                last: Some(LastFill {
                    price: fill.price,
                    lots: fill.lots,
                    maker,
                    trade_id,
                    auction: fill.auction,
                }),
                ..self.execution_base(&record, Some(party.order_id))
            };
            self.deliver(party.order_id, &record, execution, out);
            if done {
                self.finish(party.order_id, currency, OrdStatus::Filled);
            }
        }
        let trade = Trade {
            instrument,
            trade_id: (u64::from(instrument.0) << 40) | fill.trade_id.0,
            price: fill.price,
            lots: fill.lots,
            aggressor: fill.taker_side,
            auction: fill.auction,
            buyer: firms[0],
            seller: firms[1],
            time: self.now,
        };
        self.push(OutputEvent::Trade(trade), out);
    }

    /// Reports the end of an order (cancelled or expired) and releases its reservation.
    fn report_end(
        &mut self,
        state: &OrderState,
        exec_type: ExecType,
        status: OrdStatus,
        reason: Option<Reason>,
        out: &mut Vec<Output>,
    ) {
        let record = self.orders[&state.order_id];
        let execution = Execution {
            exec_type,
            status,
            quantity: state.quantity,
            leaves: Lots(0),
            reason,
            ..self.execution_base(&record, Some(state.order_id))
        };
        self.deliver(state.order_id, &record, execution, out);
        let currency = self.currency_of[record.instrument.0 as usize];
        self.finish(state.order_id, currency, status);
    }

    fn report_replaced(&mut self, replaced: &Replaced, out: &mut Vec<Output>) {
        let state = replaced.order;
        let record = self.orders.get_mut(&state.order_id).expect("replaced orders have records");
        record.price = state.price;
        record.quantity = state.quantity;
        let record = *record;
        let done = state.leaves.0 == 0;
        let execution = Execution {
            exec_type: ExecType::Replaced,
            status: if done { OrdStatus::Filled } else { working_status(record.cum) },
            leaves: state.leaves,
            ..self.execution_base(&record, Some(state.order_id))
        };
        self.deliver(state.order_id, &record, execution, out);
        if done {
            let currency = self.currency_of[record.instrument.0 as usize];
            self.finish(state.order_id, currency, OrdStatus::Filled);
        }
    }

    fn report_reduced(&mut self, reduced: &Reduced, out: &mut Vec<Output>) {
        let state = reduced.order;
        let record = self.orders.get_mut(&state.order_id).expect("reduced orders have records");
        let released =
            share(record.reserved, reduced.reduced.0, state.leaves.0 + reduced.reduced.0);
        record.reserved -= released;
        record.quantity = state.quantity;
        let record = *record;
        let currency = self.currency_of[record.instrument.0 as usize];
        self.deposits.release(record.firm.0, currency, released);
        let execution = Execution {
            exec_type: ExecType::Restated,
            status: working_status(record.cum),
            leaves: state.leaves,
            reason: Some(Reason::SelfMatchDecrement),
            ..self.execution_base(&record, Some(state.order_id))
        };
        self.deliver(state.order_id, &record, execution, out);
    }

    /// A book reject after the engine's checks passed: reported like the engine's own.
    fn report_rejected(
        &mut self,
        instrument: InstrumentId,
        rejected: &Rejected,
        out: &mut Vec<Output>,
    ) {
        let Some(requester) = self.requester else { return };
        let reason = RejectReason::Book(rejected.reject);
        if rejected.request == Request::New {
            let record = self.orders[&rejected.order_id];
            let execution = Execution {
                exec_type: ExecType::Rejected,
                status: OrdStatus::Rejected,
                reason: Some(Reason::Reject(reason)),
                ..self.execution_base(&record, None)
            };
            self.deliver(rejected.order_id, &record, execution, out);
            let currency = self.currency_of[instrument.0 as usize];
            self.finish(rejected.order_id, currency, OrdStatus::Rejected);
            return;
        }
        let kind = match rejected.request {
            Request::Replace => CancelRequestKind::Replace,
            _ => CancelRequestKind::Cancel,
        };
        let rejected = CancelRejected {
            trader: requester.trader,
            instrument,
            order_id: Some(rejected.order_id),
            cl_ord_id: requester.cl_ord_id,
            orig_cl_ord_id: requester.orig_cl_ord_id.unwrap_or(requester.cl_ord_id),
            status: OrdStatus::Rejected,
            kind,
            reason,
            time: self.now,
        };
        self.push(OutputEvent::CancelRejected(rejected), out);
    }

    /// Ends an order with `status`: releases what it still had reserved and moves its record
    /// to the finished ones kept for status answers.
    fn finish(&mut self, order_id: OrderId, currency: usize, status: OrdStatus) {
        let record = self.orders.remove(&order_id).expect("finished orders had records");
        self.deposits.release(record.firm.0, currency, record.reserved);
        self.finished.push(order_id, record, status);
    }

    /// An execution report about `record`, for its owner, with its current quantities.
    pub(super) fn execution_base(
        &self,
        record: &OrderRecord,
        order_id: Option<OrderId>,
    ) -> Execution {
        Execution {
            trader: record.trader,
            instrument: record.instrument,
            order_id,
            cl_ord_id: record.cl_ord_id,
            side: record.side,
            kind: record.kind,
            price: Some(record.price),
            tif: record.tif,
            quantity: record.quantity,
            cum: record.cum,
            leaves: Lots(record.quantity.0.saturating_sub(record.cum.0)),
            notional_ticks: record.notional_ticks,
            account: record.account,
            ..self.execution_blank()
        }
    }

    /// An execution report with every field empty; callers fill what they know.
    pub(super) fn execution_blank(&self) -> Execution {
        Execution {
            trader: TraderId(0),
            instrument: InstrumentId(0),
            order_id: None,
            cl_ord_id: ClOrdId::new("NONE").expect("a valid literal"),
            orig_cl_ord_id: None,
            exec_id: ExecId { shard: self.shard, seq: self.seq_last, index: 0 },
            exec_type: ExecType::New,
            status: OrdStatus::New,
            side: Side::Buy,
            kind: OrderKind::Limit,
            price: None,
            tif: Tif::Day,
            quantity: Lots(0),
            cum: Lots(0),
            leaves: Lots(0),
            notional_ticks: 0,
            last: None,
            reason: None,
            account: None,
            time: Timestamp(self.now.0),
        }
    }

    /// Sends `execution` about `order_id`: to the requester, with its ClOrdIDs, if the current
    /// request is about this order (and also to the owner if another trader of the firm
    /// asked); otherwise to the owner.
    fn deliver(
        &mut self,
        order_id: OrderId,
        record: &OrderRecord,
        execution: Execution,
        out: &mut Vec<Output>,
    ) {
        if !self.reporting {
            return;
        }
        let mut owner = execution;
        match self.requester {
            Some(requester) if requester.order_id == order_id => {
                let acknowledges = matches!(
                    execution.exec_type,
                    ExecType::Replaced | ExecType::Cancelled | ExecType::Rejected
                );
                let for_requester = Execution {
                    trader: requester.trader,
                    cl_ord_id: requester.cl_ord_id,
                    orig_cl_ord_id: if acknowledges { requester.orig_cl_ord_id } else { None },
                    exec_id: self.exec_id(),
                    ..execution
                };
                self.push(OutputEvent::Execution(for_requester), out);
                if requester.trader == record.trader {
                    return;
                }
            }
            _ => {}
        }
        owner.exec_id = self.exec_id();
        self.push(OutputEvent::Execution(owner), out);
    }
}
