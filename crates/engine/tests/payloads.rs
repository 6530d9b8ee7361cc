//! Arbitrary journal and snapshot payloads: the shared driver of the `engine_payload` fuzz
//! target (`fuzz/fuzz_targets/engine_payload.rs`, which includes this file and `fixture.rs` with
//! `#[path]`) and of the proptests below.
//!
//! Goal: decoding what the disk holds never panics, and what decodes is canonical:
//! - [`Input::decode`] of any kind and bytes either fails or gives an input of that kind whose
//!   encoding is exactly those bytes;
//! - [`ShardState::restore`] of any payload either fails or gives a state whose snapshot
//!   restores again to the same snapshot; a genuine snapshot restores to its own bytes.
//!
//! Method: raw bytes for `Input::decode`. For `restore`, raw bytes reach little beyond the
//! version check, so the driver first builds a genuine state (a shard of the test exchange fed
//! a few orders, cancels and ticks from the case), encodes its snapshot, then damages it at
//! chosen places (byte flips, a cut, an insertion) before restoring.

use std::sync::{Arc, OnceLock};

use arbitrary::{Arbitrary, Unstructured};
use birzha_book::{Side, Timestamp};
use birzha_engine::{
    CancelInput, ClOrdId, Input, InstrumentId, OrderRef, Registry, ShardState, Tif,
};
use rust_decimal::Decimal;

use crate::fixture;

/// The most operations applied to the state before its snapshot is taken.
const OPERATIONS_MAX: usize = 48;

/// One generated case.
#[derive(Debug)]
pub(crate) struct Case {
    /// A journal record to decode: its kind (mostly a known one) and payload.
    kind: u16,
    input: Vec<u8>,
    /// Which shard's state to build.
    shard: bool,
    operations: Vec<Operation>,
    damage: Vec<Damage>,
}

impl<'a> Arbitrary<'a> for Case {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Case> {
        let kind = u.arbitrary::<u16>()? % 10;
        let length = usize::from(u.arbitrary::<u8>()?);
        let input = u.bytes(length.min(u.len()))?.to_vec();
        let shard = u.arbitrary()?;
        let count = usize::from(u.arbitrary::<u8>()?) % (OPERATIONS_MAX + 1);
        let operations = (0..count).map(|_| u.arbitrary()).collect::<Result<_, _>>()?;
        let damage = (0..usize::from(u.arbitrary::<u8>()?) % 4)
            .map(|_| u.arbitrary())
            .collect::<Result<_, _>>()?;
        Ok(Case { kind, input, shard, operations, damage })
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Operation {
    Limit { trader: u8, instrument: u8, sell: bool, ticks: i8, lots: u8, tif: u8 },
    Cancel { trader: u8, instrument: u8, order: u8 },
    Tick { seconds: u16 },
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Damage {
    /// Xor a byte (the position taken modulo the length).
    Flip {
        at: u16,
        mask: u8,
    },
    Cut {
        at: u16,
    },
    Insert {
        at: u16,
        byte: u8,
    },
}

/// Runs one case.
pub(crate) fn run(case: &Case) {
    decode_input(case.kind, &case.input);
    let (genuine, inputs) = snapshot_of(u16::from(case.shard), &case.operations);
    let restored = ShardState::restore(registry(), &genuine).expect("a genuine snapshot");
    assert_eq!(snapshot(&restored), genuine, "a genuine snapshot restores to itself");
    restore_canonical(&damaged(genuine, &case.damage));
    if let Some(input) = inputs.get(usize::from(case.kind) % inputs.len().max(1)) {
        let mut bytes = Vec::new();
        input.encode(&mut bytes);
        decode_input(input.kind(), &damaged(bytes, &case.damage));
    }
}

/// `bytes` with the damage done.
fn damaged(mut bytes: Vec<u8>, damage: &[Damage]) -> Vec<u8> {
    let at = |at: u16, length: usize| usize::from(at) % length.max(1);
    for damage in damage {
        match *damage {
            Damage::Flip { at: position, mask } if !bytes.is_empty() => {
                let index = at(position, bytes.len());
                bytes[index] ^= mask;
            }
            Damage::Flip { .. } => {}
            Damage::Cut { at: position } => bytes.truncate(at(position, bytes.len() + 1)),
            Damage::Insert { at: position, byte } => {
                bytes.insert(at(position, bytes.len() + 1), byte)
            }
        }
    }
    bytes
}

/// Decodes a journal record; what decodes must encode back to the same bytes.
pub(crate) fn decode_input(kind: u16, payload: &[u8]) {
    let Ok(input) = Input::decode(kind, payload) else { return };
    assert_eq!(input.kind(), kind, "decoded {input:?}");
    let mut encoded = Vec::new();
    input.encode(&mut encoded);
    assert_eq!(encoded, payload, "decoding is canonical: {input:?}");
    assert!(encoded.len() <= Input::ENCODED_MAX, "{} bytes: {input:?}", encoded.len());
}

/// The largest input of each kind (every option present, the longest texts, the widest
/// decimals) encodes within [`Input::ENCODED_MAX`], which the journal's batches are sized by.
#[test]
fn the_largest_inputs_encode_within_the_bound() {
    use birzha_book::{OrderId, SelfMatchMode, TraderId};
    use birzha_engine::{
        Account, Admin, CancelInput, InstrumentId, MassCancelInput, NewOrderInput, OrderKind,
        OrderRef, ReplaceInput, StatusInput, Tif,
    };
    let text = "X".repeat(64);
    let cl_ord_id = ClOrdId::new(&text).expect("64 bytes");
    let order = OrderRef { order_id: Some(OrderId(u64::MAX)), cl_ord_id };
    let (trader, instrument, wide) = (TraderId(u32::MAX), InstrumentId(u32::MAX), Decimal::MAX);
    let inputs = [
        Input::NewOrder(NewOrderInput {
            trader,
            cl_ord_id,
            instrument,
            side: Side::Sell,
            kind: OrderKind::Limit,
            price: Some(wide),
            quantity: wide,
            tif: Tif::GoodTillDate(u32::MAX),
            display: Some(wide),
            post_only: true,
            self_match: Some(SelfMatchMode::Decrement),
            account: Some(Account::new(&text[..32]).expect("32 bytes")),
        }),
        Input::Cancel(CancelInput { trader, cl_ord_id, order, instrument, side: Side::Sell }),
        Input::Replace(ReplaceInput {
            trader,
            cl_ord_id,
            order,
            instrument,
            side: Side::Sell,
            price: Some(wide),
            quantity: wide,
            display: Some(wide),
        }),
        Input::MassCancel(MassCancelInput {
            trader,
            cl_ord_id,
            instrument: Some(instrument),
            side: Some(Side::Sell),
        }),
        Input::OrderStatus(StatusInput { trader, order, instrument, side: Side::Sell }),
        Input::Disconnect { trader },
        Input::Tick,
        Input::Admin(Admin::Deposit {
            firm: birzha_book::FirmId(u32::MAX),
            currency: birzha_engine::InlineText::new("CNY").expect("code"),
            amount_micros: i128::MIN,
        }),
        Input::Admin(Admin::MassCancel(Some(instrument))),
    ];
    for input in inputs {
        let mut encoded = Vec::new();
        input.encode(&mut encoded);
        decode_input(input.kind(), &encoded);
    }
}

/// Restores a payload; a restored state's snapshot must restore to the same snapshot.
pub(crate) fn restore_canonical(payload: &[u8]) {
    let Ok(state) = ShardState::restore(registry(), payload) else { return };
    let first = snapshot(&state);
    let again = ShardState::restore(registry(), &first).expect("a restored state's snapshot");
    assert_eq!(snapshot(&again), first, "restore and snapshot agree");
    assert_eq!(again.state_hash(), state.state_hash());
}

/// The test exchange's registry with small books (a state allocates its books up front, and
/// a case builds three states), built once per process.
fn registry() -> Arc<Registry> {
    static REGISTRY: OnceLock<Arc<Registry>> = OnceLock::new();
    let registry = REGISTRY.get_or_init(|| {
        let mut config = fixture::config();
        for instrument in &mut config.instruments {
            instrument.spec.orders_max = 64;
        }
        Arc::new(config.validate().expect("the test exchange is valid"))
    });
    Arc::clone(registry)
}

fn snapshot(state: &ShardState) -> Vec<u8> {
    let mut bytes = Vec::new();
    state.encode_snapshot(&mut bytes);
    bytes
}

/// The snapshot of shard `shard` after `operations`, and the inputs applied (each of which
/// must decode from its own encoding).
fn snapshot_of(shard: u16, operations: &[Operation]) -> (Vec<u8>, Vec<Input>) {
    let mut state = ShardState::new(registry(), shard);
    let mut now = fixture::at(0);
    let mut out = Vec::new();
    let mut inputs = Vec::with_capacity(operations.len());
    for (index, operation) in operations.iter().enumerate() {
        let input = match *operation {
            Operation::Limit { trader, instrument, sell, ticks, lots, tif } => {
                limit(index, trader, instrument, sell, ticks, lots, tif)
            }
            Operation::Cancel { trader, instrument, order } => Input::Cancel(CancelInput {
                trader: birzha_book::TraderId(u32::from(trader % 4)),
                cl_ord_id: cl_ord_id(&format!("C{index}")),
                order: OrderRef { order_id: None, cl_ord_id: cl_ord_id(&format!("O{order}")) },
                instrument: InstrumentId(u32::from(instrument % 3)),
                side: Side::Buy,
            }),
            Operation::Tick { seconds } => {
                now = Timestamp(now.0 + u64::from(seconds) * 60_000_000_000);
                Input::Tick
            }
        };
        now = Timestamp(now.0 + 1_000);
        let mut bytes = Vec::new();
        input.encode(&mut bytes);
        assert_eq!(Input::decode(input.kind(), &bytes).ok(), Some(input), "input round trip");
        state.apply(index as u64 + 1, now, &input, &mut out);
        out.clear();
        inputs.push(input);
    }
    (snapshot(&state), inputs)
}

fn limit(
    index: usize,
    trader: u8,
    instrument: u8,
    sell: bool,
    ticks: i8,
    lots: u8,
    tif: u8,
) -> Input {
    let instrument = instrument % 3;
    let (reference, tick, lot) = match instrument {
        0 => ("6800", "1", 5),
        1 => ("0.95", "0.01", 20_000),
        _ => ("450000", "10", 5),
    };
    let price = fixture::dec(reference) + fixture::dec(tick) * Decimal::from(ticks % 20);
    let Input::NewOrder(mut order) = fixture::limit(
        birzha_book::TraderId(u32::from(trader % 4)),
        &format!("O{}", index % 256),
        InstrumentId(u32::from(instrument)),
        if sell { Side::Sell } else { Side::Buy },
        &price.to_string(),
        0,
    ) else {
        unreachable!("fixture::limit builds a new order")
    };
    order.quantity = Decimal::from(u32::from(lots % 8 + 1) * lot);
    order.tif = match tif % 3 {
        0 => Tif::Day,
        1 => Tif::GoodTillCancel,
        _ => Tif::GoodTillDate(20_261_231),
    };
    Input::NewOrder(order)
}

fn cl_ord_id(text: &str) -> ClOrdId {
    ClOrdId::new(text).expect("a short ClOrdID")
}

/// The stable-toolchain equivalents of the `engine_payload` fuzz target.
#[cfg(test)]
mod property_tests {
    use arbitrary::{Arbitrary, Unstructured};
    use proptest::prelude::*;

    use super::{Case, decode_input, restore_canonical, run};

    /// `default` cases, or `PROPTEST_CASES` for a longer run.
    fn cases(default: u32) -> u32 {
        std::env::var("PROPTEST_CASES").ok().and_then(|cases| cases.parse().ok()).unwrap_or(default)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(cases(256)))]

        #[test]
        fn prop_arbitrary_payloads_decode_canonically(
            bytes in proptest::collection::vec(any::<u8>(), 0..1024),
        ) {
            let case = Case::arbitrary(&mut Unstructured::new(&bytes)).expect("any bytes");
            run(&case);
        }

        #[test]
        fn prop_arbitrary_bytes_as_inputs_and_snapshots(
            kind in 0u16..10,
            bytes in proptest::collection::vec(any::<u8>(), 0..256),
        ) {
            decode_input(kind, &bytes);
            restore_canonical(&bytes);
        }
    }
}
