//! The reference: a naive price-time book that replays the orders and cancels the clients saw
//! acknowledged, in the engine's order, and says which fills and which book must follow.
//!
//! The engine's order comes from the ExecIDs (`shard-seq-index`): the New of an order and the
//! fills it makes as it arrives carry the sequence number of its input, a cancel that of the
//! cancel request. The clients' view is complete once they are in sync, so the replay must give
//! exactly the fills they received and the book the server recovered.

use std::collections::BTreeMap;

use super::client::{Client, Order, Report};

/// One fill of one order, as reported or as the reference expects it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Fill {
    /// The sequence number of the input that traded.
    pub(crate) seq: u64,
    pub(crate) order_id: String,
    pub(crate) lots: u64,
    pub(crate) price: i64,
    /// What is left of the order after the fill.
    pub(crate) leaves: u64,
}

/// Lots per price on each side.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Depth {
    pub(crate) bids: BTreeMap<i64, u64>,
    pub(crate) asks: BTreeMap<i64, u64>,
}

/// What the replay of the clients' acknowledgements gives.
#[derive(Debug, Default)]
pub(crate) struct Replay {
    /// The fills the reference book makes, sorted.
    pub(crate) fills_expected: Vec<Fill>,
    /// The fills the clients received, sorted.
    pub(crate) fills_reported: Vec<Fill>,
    /// The reference book's depth.
    pub(crate) depth: Depth,
    /// Orders resting in the reference book.
    pub(crate) orders_working: u64,
    /// Reports that do not fit any book.
    pub(crate) faults: Vec<String>,
}

/// An input the engine sequenced, as the acknowledgements show it.
enum Input {
    New { order_id: String, order: Order },
    Cancel { order_id: String },
}

/// An order resting in the reference book.
struct Resting {
    seq: u64,
    order_id: String,
    order: Order,
    leaves: u64,
}

/// Replays every client's acknowledged orders and cancels. See the module documentation.
pub(crate) fn replay(clients: &[Client]) -> Replay {
    let mut replay = Replay::default();
    let mut inputs: BTreeMap<u64, Input> = BTreeMap::new();
    for client in clients {
        for report in &client.reports {
            replay_collect(client, report, &mut inputs, &mut replay);
        }
    }
    let mut book: Vec<Resting> = Vec::new();
    for (seq, input) in inputs {
        match input {
            Input::New { order_id, order } => {
                let leaves = match_order(seq, &order_id, order, &mut book, &mut replay);
                if leaves > 0 {
                    book.push(Resting { seq, order_id, order, leaves });
                }
            }
            Input::Cancel { order_id } => match book.iter().position(|r| r.order_id == order_id) {
                Some(index) => drop(book.remove(index)),
                None => replay.faults.push(format!("seq {seq}: cancel of {order_id}, not resting")),
            },
        }
    }
    for resting in &book {
        let side =
            if resting.order.side == 1 { &mut replay.depth.bids } else { &mut replay.depth.asks };
        *side.entry(resting.order.price).or_default() += resting.leaves;
    }
    replay.orders_working = book.len() as u64;
    replay.fills_expected.sort();
    replay.fills_reported.sort();
    replay
}

/// Adds what `report` says to the inputs (a New, a cancel) or to the reported fills.
fn replay_collect(
    client: &Client,
    report: &Report,
    inputs: &mut BTreeMap<u64, Input>,
    replay: &mut Replay,
) {
    let Some(seq) = sequence_number(&report.exec_id) else {
        // The gateway's own rejects (ExecID `G…`) never reach the engine.
        if report.exec_type != b'8' {
            replay.faults.push(format!("{}: gateway ExecID on {report:?}", client.code));
        }
        return;
    };
    let order_id = report.order_id.clone();
    let input = match report.exec_type {
        b'0' => {
            let Some(&order) = client.orders.get(&report.cl_ord_id) else {
                replay.faults.push(format!("{}: New of an unsent order {report:?}", client.code));
                return;
            };
            let echoed = Order { side: report.side, price: report.price, lots: report.lots };
            if echoed != order {
                replay
                    .faults
                    .push(format!("{}: sent {order:?}, acknowledged {report:?}", client.code));
            }
            Input::New { order_id, order }
        }
        b'4' => Input::Cancel { order_id },
        b'F' => {
            let (lots, price, leaves) = (report.last_lots, report.last_price, report.leaves);
            replay.fills_reported.push(Fill { seq, order_id, lots, price, leaves });
            return;
        }
        b'8' => return,
        _ => {
            replay.faults.push(format!("{}: unexpected report {report:?}", client.code));
            return;
        }
    };
    if inputs.insert(seq, input).is_some() {
        replay.faults.push(format!("seq {seq}: two inputs (self-trade prevention?): {report:?}"));
    }
}

/// Matches an incoming order against `book` in price-time priority, records the fills of both
/// sides and returns the lots left.
fn match_order(
    seq: u64,
    order_id: &str,
    order: Order,
    book: &mut Vec<Resting>,
    replay: &mut Replay,
) -> u64 {
    let mut leaves = order.lots;
    while leaves > 0 {
        let crosses = |resting: &&Resting| {
            resting.order.side != order.side
                && if order.side == 1 {
                    resting.order.price <= order.price
                } else {
                    resting.order.price >= order.price
                }
        };
        let best = book.iter().enumerate().filter(|(_, r)| crosses(r)).min_by_key(|(_, r)| {
            let price = if order.side == 1 { r.order.price } else { -r.order.price };
            (price, r.seq)
        });
        let Some((index, _)) = best else { break };
        let maker = &mut book[index];
        let lots = leaves.min(maker.leaves);
        let price = maker.order.price;
        leaves -= lots;
        maker.leaves -= lots;
        let maker_fill =
            Fill { seq, order_id: maker.order_id.clone(), lots, price, leaves: maker.leaves };
        replay.fills_expected.push(maker_fill);
        replay.fills_expected.push(Fill {
            seq,
            order_id: order_id.to_owned(),
            lots,
            price,
            leaves,
        });
        if book[index].leaves == 0 {
            book.remove(index);
        }
    }
    leaves
}

/// The sequence number in an engine ExecID `shard-seq-index`; `None` for the gateway's own.
fn sequence_number(exec_id: &str) -> Option<u64> {
    let mut parts = exec_id.split('-');
    let (shard, seq) = (parts.next()?, parts.next()?);
    shard.parse::<u64>().ok()?;
    seq.parse().ok()
}

/// Returns the depth in a market-data snapshot (W): MDEntryType 0 bids, 1 offers.
pub(crate) fn depth_of(snapshot: &[u8]) -> Depth {
    let mut depth = Depth::default();
    let mut entry: (Option<u8>, i64) = (None, 0);
    for field in snapshot.split(|&byte| byte == 1) {
        let text = String::from_utf8_lossy(field);
        let Some((tag, value)) = text.split_once('=') else { continue };
        match tag {
            "269" => entry = (value.bytes().next(), 0),
            "270" => entry.1 = value.parse().expect("a whole price (tick 1)"),
            "271" => {
                let lots: u64 = value.parse().expect("whole lots");
                match entry.0 {
                    Some(b'0') => depth.bids.insert(entry.1, lots),
                    Some(b'1') => depth.asks.insert(entry.1, lots),
                    _ => None,
                };
            }
            _ => {}
        }
    }
    depth
}
