//! A small exchange for engine tests: three instruments in three currencies over two shards,
//! three firms and four traders, and builders for inputs.

use std::collections::BTreeMap;
use std::sync::Arc;

use birzha_book::{InstrumentSpec, SelfMatchMode, Side, Timestamp, TraderId};
use birzha_engine::journal::Durability;
use birzha_engine::*;
use rust_decimal::Decimal;

pub(crate) const BUTTER: InstrumentId = InstrumentId(0);
pub(crate) const MILK: InstrumentId = InstrumentId(1);
pub(crate) const CHEESE: InstrumentId = InstrumentId(2);

pub(crate) fn dec(text: &str) -> Decimal {
    text.parse().expect("test decimal")
}

pub(crate) fn instrument(
    symbol: &str,
    currency: &str,
    lot: &str,
    tick: &str,
    reference: &str,
) -> InstrumentConfig {
    InstrumentConfig {
        spec: InstrumentSpec {
            symbol: symbol.into(),
            description: format!("{symbol} test instrument"),
            unit: "t".into(),
            currency: currency.into(),
            lot_size: dec(lot),
            tick: dec(tick),
            reference_price: dec(reference),
            band_percent: dec("10"),
            price_floor: None,
            price_cap: None,
            max_order_lots: 1000,
            orders_max: 4096,
        },
        deposit_ratio: dec("0.05"),
    }
}

pub(crate) fn firm(code: &str, deposit: &str) -> FirmConfig {
    let deposits: BTreeMap<String, Decimal> =
        ["USD", "BYN", "RUB"].iter().map(|c| (c.to_string(), dec(deposit))).collect();
    FirmConfig { code: code.into(), name: format!("{code} Ltd"), deposits, suspended: false }
}

pub(crate) fn trader(code: &str, firm: &str) -> TraderConfig {
    TraderConfig {
        code: code.into(),
        firm: firm.into(),
        self_match: SelfMatchMode::CancelResting,
        cancel_on_disconnect: CancelOnDisconnect::Day,
    }
}

/// The test exchange. Firm C has a small deposit (1 000 000 in each currency).
pub(crate) fn config() -> EngineConfig {
    EngineConfig {
        instruments: vec![
            instrument("BUT82-FCA-USD", "USD", "5", "1", "6800"),
            instrument("MILK-RAW-BYN", "BYN", "20000", "0.01", "0.95"),
            instrument("CHEESE-FCA-RUB", "RUB", "5", "10", "450000"),
        ],
        firms: vec![
            firm("FIRM-A", "1000000000000"),
            firm("FIRM-B", "1000000000000"),
            firm("FIRM-C", "1000000"),
        ],
        traders: vec![
            trader("TRADER1", "FIRM-A"),
            trader("TRADER2", "FIRM-A"),
            trader("TRADER3", "FIRM-B"),
            trader("TRADER4", "FIRM-C"),
        ],
        shards: 2,
        durability: Durability::None,
        snapshot_every_inputs: 1_000_000,
        input_queue_capacity: 4096,
        batch_inputs_max: 256,
        journal_segment_bytes: birzha_engine::JOURNAL_SEGMENT_BYTES_DEFAULT,
        phases: PhaseConfig::default(),
    }
}

pub(crate) fn registry() -> Arc<Registry> {
    Arc::new(config().validate().expect("test config is valid"))
}

pub(crate) const T1: TraderId = TraderId(0);
pub(crate) const T2: TraderId = TraderId(1);
pub(crate) const T3: TraderId = TraderId(2);
pub(crate) const T4: TraderId = TraderId(3);

pub(crate) fn id(text: &str) -> ClOrdId {
    ClOrdId::new(text).expect("test ClOrdID")
}

/// A Day limit order.
pub(crate) fn limit(
    trader: TraderId,
    cl_ord_id: &str,
    instrument: InstrumentId,
    side: Side,
    price: &str,
    lots: u32,
) -> Input {
    Input::NewOrder(NewOrderInput {
        trader,
        cl_ord_id: id(cl_ord_id),
        instrument,
        side,
        kind: OrderKind::Limit,
        price: Some(dec(price)),
        quantity: Decimal::from(lots),
        tif: Tif::Day,
        display: None,
        post_only: false,
        self_match: None,
        account: None,
    })
}

pub(crate) fn cancel(
    trader: TraderId,
    cl_ord_id: &str,
    (orig, side): (&str, Side),
    instrument: InstrumentId,
) -> Input {
    Input::Cancel(CancelInput {
        trader,
        cl_ord_id: id(cl_ord_id),
        order: OrderRef { order_id: None, cl_ord_id: id(orig) },
        instrument,
        side,
    })
}

/// A noon in Minsk on 2026-11-28, plus `seconds`.
pub(crate) fn at(seconds: u64) -> Timestamp {
    let noon = minsk_end_of(20261127).expect("valid date").0 + 12 * 3_600 * 1_000_000_000;
    Timestamp(noon + seconds * 1_000_000_000)
}

/// A shard state driven by hand: applies inputs with consecutive sequence numbers.
pub(crate) struct Driver {
    pub(crate) state: ShardState,
    pub(crate) seq: u64,
}

impl Driver {
    pub(crate) fn new(shard: u16) -> Driver {
        Driver { state: ShardState::new(registry(), shard), seq: 0 }
    }

    pub(crate) fn apply_at(&mut self, time: Timestamp, input: Input) -> Vec<OutputEvent> {
        self.seq += 1;
        let mut out = Vec::new();
        self.state.apply(self.seq, time, &input, &mut out);
        assert!(out.iter().all(|output| output.seq == self.seq), "outputs carry their input's seq");
        out.into_iter().map(|output| output.event).collect()
    }

    /// Applies `input` as a replay of an input already delivered does: no outputs.
    pub(crate) fn apply_quietly_at(&mut self, time: Timestamp, input: Input) {
        self.seq += 1;
        self.state.apply_quietly(self.seq, time, &input);
    }

    pub(crate) fn apply(&mut self, input: Input) -> Vec<OutputEvent> {
        self.apply_at(at(self.seq), input)
    }
}

/// The execution reports among `events`, as (trader, ClOrdID, exec type, status).
pub(crate) fn executions(events: &[OutputEvent]) -> Vec<(TraderId, String, ExecType, OrdStatus)> {
    events
        .iter()
        .filter_map(|event| match event {
            OutputEvent::Execution(e) => {
                Some((e.trader, e.cl_ord_id.to_string(), e.exec_type, e.status))
            }
            _ => None,
        })
        .collect()
}

/// The reject reason of the first rejected execution among `events`.
pub(crate) fn reject_reason(events: &[OutputEvent]) -> Option<RejectReason> {
    events.iter().find_map(|event| match event {
        OutputEvent::Execution(Execution { reason: Some(Reason::Reject(reason)), .. }) => {
            Some(*reason)
        }
        OutputEvent::CancelRejected(rejected) => Some(rejected.reason),
        _ => None,
    })
}
