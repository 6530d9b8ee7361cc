//! The engine benchmarks' config and input streams (shared by `benches/engine.rs` and
//! `benches/engine_latency.rs`).
//!
//! Workloads, on one instrument from four firms, every ClOrdID fresh (so the day's ClOrdID
//! table grows to a million entries):
//!
//! - *growing* (the names without a suffix): about 60% passive limit orders, 35% cancels by
//!   ClOrdID of one of the last hundred inputs, 5% aggressive IOC orders. Most passive orders
//!   are never cancelled, so the book grows to about 250 000 resting orders: a stress case,
//!   where nearly every input touches memory no cache holds.
//! - *steady* (`…/steady`): the mix of the gateway's load test, 45% passive orders, 45%
//!   cancels of a random order the stream still believes resting, 10% aggressive IOC orders,
//!   with the odds tilted to hold the book near 10 000 resting orders (as the book crate's
//!   mix benchmark): a venue's book in a normal session.

use std::collections::BTreeMap;

use birzha_book::{InstrumentSpec, SelfMatchMode, Side, TraderId};
use birzha_engine::journal::Durability;
use birzha_engine::*;
use rust_decimal::Decimal;

/// The journal segment size of the benchmarks' engines: 1 GiB.
pub(crate) const SEGMENT_BYTES: u64 = 1 << 30;

/// One instrument (`BUT82-FCA-USD`), four firms with one trader each, one shard.
pub(crate) fn config(durability: Durability, orders_max: u32) -> EngineConfig {
    let instrument = InstrumentConfig {
        spec: InstrumentSpec {
            symbol: "BUT82-FCA-USD".into(),
            description: String::new(),
            unit: "t".into(),
            currency: "USD".into(),
            lot_size: Decimal::from(5),
            tick: Decimal::ONE,
            reference_price: Decimal::from(6800),
            band_percent: Decimal::from(10),
            price_floor: None,
            price_cap: None,
            max_order_lots: 1000,
            orders_max,
        },
        deposit_ratio: Decimal::new(5, 2),
    };
    let firm = |code: &str| FirmConfig {
        code: code.into(),
        name: code.into(),
        deposits: BTreeMap::from([("USD".to_string(), Decimal::from(1_000_000_000_000_000i64))]),
        suspended: false,
    };
    let trader = |code: &str, firm: &str| TraderConfig {
        code: code.into(),
        firm: firm.into(),
        self_match: SelfMatchMode::CancelResting,
        cancel_on_disconnect: CancelOnDisconnect::Day,
    };
    EngineConfig {
        instruments: vec![instrument],
        firms: vec![firm("A"), firm("B"), firm("C"), firm("D")],
        traders: vec![trader("T1", "A"), trader("T2", "B"), trader("T3", "C"), trader("T4", "D")],
        shards: 1,
        durability,
        snapshot_every_inputs: u64::MAX / 2,
        input_queue_capacity: 1 << 16,
        batch_inputs_max: 4096,
        // One segment for a whole run: the snapshot written at shutdown would let retention
        // remove full segments, and the replay benchmark needs the whole journal.
        journal_segment_bytes: SEGMENT_BYTES,
        phases: PhaseConfig { volatility_limit_bp: None, ..PhaseConfig::default() },
    }
}

/// A xorshift64 generator: the streams are the same on every run.
fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}

/// The stream of the module documentation; `passive_only` leaves out cancels and aggression.
pub(crate) fn stream(count: u64, passive_only: bool) -> Vec<Input> {
    let mut next = xorshift(0x1234_5678_9abc_def0u64);
    let id = |text: String| ClOrdId::new(&text).expect("short ASCII");
    // The side of input `i` (a cancel names its order's side).
    let mut sides = Vec::with_capacity(count as usize);
    (0..count)
        .map(|i| {
            let r = next();
            let side = if r & 16 == 0 { Side::Buy } else { Side::Sell };
            sides.push(side);
            let roll = if passive_only { 50 } else { (r >> 20) % 100 };
            if roll < 35 && i > 100 {
                let earlier = i - 1 - (r >> 30) % 100;
                let order = OrderRef { order_id: None, cl_ord_id: id(format!("C{earlier}")) };
                let trader = TraderId((earlier % 4) as u32);
                let cancel = CancelInput {
                    trader,
                    cl_ord_id: id(format!("X{i}")),
                    order,
                    instrument: InstrumentId(0),
                    side: sides[earlier as usize],
                };
                return Input::Cancel(cancel);
            }
            new_order(i, side, roll >= 95, r)
        })
        .collect()
}

/// The steady workload of the module documentation.
pub(crate) fn stream_steady(count: u64) -> Vec<Input> {
    const RESTING: usize = 10_000;
    let mut next = xorshift(0x0bad_cafe_f00d_1234u64);
    let id = |text: String| ClOrdId::new(&text).expect("short ASCII");
    // Passive orders not cancelled yet (some have traded: their cancels are TOO_LATE).
    let mut resting: Vec<(u64, Side)> = Vec::with_capacity(2 * RESTING);
    (0..count)
        .map(|i| {
            let r = next();
            let roll = (r >> 20) % 100;
            let add_odds = if resting.len() < RESTING { 55 } else { 45 };
            if roll >= add_odds && roll < 90 && !resting.is_empty() {
                let (earlier, side) = resting.swap_remove((r >> 30) as usize % resting.len());
                let order = OrderRef { order_id: None, cl_ord_id: id(format!("C{earlier}")) };
                let trader = TraderId((earlier % 4) as u32);
                let instrument = InstrumentId(0);
                let cl_ord_id = id(format!("X{i}"));
                return Input::Cancel(CancelInput { trader, cl_ord_id, order, instrument, side });
            }
            let aggressive = roll >= 90;
            let side = if r & 16 == 0 { Side::Buy } else { Side::Sell };
            if !aggressive {
                resting.push((i, side));
            }
            new_order(i, side, aggressive, r)
        })
        .collect()
}

/// A limit order `C{i}` of trader `i mod 4`: passive within 200 ticks of 6800, or an IOC that
/// reaches up to 60 ticks through the touch.
fn new_order(i: u64, side: Side, aggressive: bool, r: u64) -> Input {
    let offset = 1 + ((r >> 8) % 200) as i64 - if aggressive { 60 } else { 0 };
    let price = if side == Side::Buy { 6800 - offset } else { 6800 + offset };
    Input::NewOrder(NewOrderInput {
        trader: TraderId((i % 4) as u32),
        cl_ord_id: ClOrdId::new(&format!("C{i}")).expect("short ASCII"),
        instrument: InstrumentId(0),
        side,
        kind: OrderKind::Limit,
        price: Some(Decimal::from(price)),
        quantity: Decimal::from(1 + (r >> 40) % 10),
        tif: if aggressive { Tif::ImmediateOrCancel } else { Tif::Day },
        display: None,
        post_only: false,
        self_match: None,
        account: None,
    })
}
