//! Crash consistency under load (issue 7).
//!
//! Goal: whatever moment the server dies at, what it acknowledged survives, nothing it did not
//! acknowledge appears, and traders get every report they missed through FIX resends. Method:
//! the real `birzha serve` on the embedded default config (`durability = "fsync"`) and one data
//! directory; three demo traders of three firms, each on its own thread and FIX session, send a
//! seeded random stream of limit orders on BUT82-FCA-USD (Day and GTC, about half of them
//! crossing, never crossing the trader's own orders) and cancels, without waiting for answers,
//! so that requests are in flight at every moment. After a random 0.15 to 1.2 s the server is
//! killed with SIGKILL, `birzha journal verify` must pass on what it left, and it is started
//! again on the same directory, ten times per run. After about a third of the restarts the
//! traders trade on at once and the next kill comes within 20 to 300 ms, while they are still
//! catching up; such a restart is checked together with the next.
//!
//! After each restart the traders log on again without resetting sequence numbers, answer the
//! server's ResendRequest with a gap fill up to their Logon (their requests in flight at the
//! kill are lost or were journaled; either is allowed), and ask with their own ResendRequest
//! for everything they missed. Once every session is in sync (a TestRequest answered, no gap
//! left), the test checks, and fails with the seed otherwise:
//!
//! - no session rule was broken: no MsgSeqNum below the expected one unless PossDup, no
//!   ExecID twice unless flagged PossDup or PossResend, no Reject or Logout, no report for a
//!   ClOrdID the trader never sent, every New echoing the order as sent;
//! - a reference replay of the acknowledged orders and cancels, in the engine's order (the
//!   sequence number in each ExecID), through a naive price-time book (`reference`) makes
//!   exactly the fills the traders received, with the same lots, prices and leaves: no
//!   acknowledged fill is lost and none is invented, and queue priority survived recovery;
//! - the recovered book, as a market-data snapshot, equals the reference book level by level,
//!   and the number of resting orders the server reported on recovery equals the reference's:
//!   every acknowledged order and cancel is in the recovered state, and no order that was
//!   never acknowledged;
//! - every trade the killed server logged (logged only after the journal was durable) reached
//!   the traders.
//!
//! Rerun a failure with `BIRZHA_CRASH_SEED=<seed> cargo test --test tests crash`. The timing of
//! threads and kills is not reproducible, only the streams and the run lengths.

mod client;
mod reference;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use self::client::{Client, Closed, Order};
use crate::util::{BUTTER, Server, WAIT, run, texts};

/// The traders: one per firm, so that no order can meet one of its own firm.
const TRADERS: [&str; 3] = ["TRADER1", "TRADER3", "TRADER4"];
/// Kills (and restarts) per run.
const KILLS: u32 = 10;
/// The shortest and longest trading between two kills, in milliseconds.
const TRADING_MS: (u64, u64) = (150, 1_200);
/// The same after a restart that is not checked: the next kill comes while the traders catch
/// up (their resends, the reports of replayed inputs) and trade at once.
const QUICK_TRADING_MS: (u64, u64) = (20, 300);
/// The pace of each trader's requests: about 250 per second, under the 500 of the throttle.
const REQUEST_INTERVAL: Duration = Duration::from_millis(4);
/// Buy prices are drawn from this range and sell prices from the next, so they overlap.
const BUY_PRICES: (u64, u64) = (6_790, 6_806);
const SELL_PRICES: (u64, u64) = (6_794, 6_810);

#[test]
fn crash_consistency_under_load() {
    let seed = std::env::var("BIRZHA_CRASH_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(seed_fresh);
    eprintln!("crash consistency seed: {seed} (rerun with BIRZHA_CRASH_SEED={seed})");
    let started = Instant::now();
    let mut rng = Rng::new(seed);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut clients: Vec<Client> = TRADERS.into_iter().map(Client::new).collect();
    let mut trades_logged = BTreeSet::new();
    let mut server = Server::start(dir.path());
    for client in &mut clients {
        client.logon(server.fix);
    }
    let mut quick = false;
    for kill in 1..=KILLS {
        let (low, high) = if quick { QUICK_TRADING_MS } else { TRADING_MS };
        let trading = Duration::from_millis(rng.range(low, high));
        let lines = trade_and_kill(&mut clients, server, &mut rng, trading);
        trades_logged.extend(lines.iter().filter(|line| line["message"] == "trade").map(trade_id));
        journal_verify(dir.path(), seed);
        quick = kill < KILLS && rng.range(0, 2) == 0;
        let context = format!("seed {seed}, kill {kill} after {trading:?}");
        server = restart(&mut clients, dir.path(), !quick, &trades_logged, &context);
    }
    for client in &mut clients {
        client.logout();
    }
    let (status, _) = server.terminate();
    assert!(status.success(), "seed {seed}: {status}");
    let reports: usize = clients.iter().map(|client| client.reports.len()).sum();
    let orders: usize = clients.iter().map(|client| client.orders.len()).sum();
    eprintln!(
        "crash consistency: {KILLS} kills, {orders} orders sent, {reports} reports, {} trades \
         logged, {:?}",
        trades_logged.len(),
        started.elapsed()
    );
}

/// Starts the server again on `dir` and logs the traders on; with `check`, brings them in
/// sync and checks the recovered state (see [`settle`]).
fn restart(
    clients: &mut [Client],
    dir: &std::path::Path,
    check: bool,
    trades_logged: &BTreeSet<String>,
    context: &str,
) -> Server {
    let in_flight: usize = clients.iter().map(Client::unanswered).sum();
    let server = Server::start(dir);
    let recovered = server.wait_for("shard recovered", |line| line["shard"] == 0);
    let orders_working = recovered["orders_working"].as_u64().expect("orders_working");
    for client in clients.iter_mut() {
        client.logon(server.fix);
    }
    if !check {
        eprintln!("{context}: {in_flight} orders in flight; trading on unchecked, to kill soon");
        return server;
    }
    settle(clients, orders_working, trades_logged, context);
    let lost: usize = clients.iter_mut().map(Client::forget_unanswered).sum();
    eprintln!(
        "{context}: {in_flight} orders in flight ({lost} lost), replayed {}, torn tail {}, \
         {orders_working} resting",
        recovered["replayed"], recovered["torn_tail"],
    );
    server
}

/// Lets every trader trade on its own thread for `trading`, kills the server with SIGKILL while
/// they do, stops them, and returns the killed server's log.
fn trade_and_kill(
    clients: &mut [Client],
    server: Server,
    rng: &mut Rng,
    trading: Duration,
) -> Vec<Value> {
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        for client in clients.iter_mut() {
            let (stop, seed, bias) = (&stop, rng.next(), rng.range(0, 2));
            scope.spawn(move || trade(client, seed, bias, stop));
        }
        std::thread::sleep(trading);
        let lines = server.kill();
        stop.store(true, Ordering::Relaxed);
        lines
    })
}

/// One trader's stream: a request every [`REQUEST_INTERVAL`], reading reports in between,
/// until `stop` or until the connection dies. `bias` 0 buys, 1 sells four times in five; 2
/// either as often. (A trader quoting both sides evenly would rarely trade: its own orders
/// would stand in the way of its crossing ones.)
fn trade(client: &mut Client, seed: u64, bias: u64, stop: &AtomicBool) {
    let mut rng = Rng::new(seed);
    let mut next = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let wait = next.saturating_duration_since(Instant::now());
        if client.pump(wait).is_err() || request(client, &mut rng, bias).is_err() {
            return;
        }
        next = Instant::now().max(next) + REQUEST_INTERVAL;
    }
}

/// Sends one random request: a cancel of a working order (two times in five), else a limit
/// order of 1 to 8 lots, Day or GTC, priced so that it never crosses the trader's own.
fn request(client: &mut Client, rng: &mut Rng, bias: u64) -> Result<(), Closed> {
    let cancellable: Vec<String> = client
        .working
        .keys()
        .filter(|cl_ord_id| !client.cancelling.contains(*cl_ord_id))
        .cloned()
        .collect();
    if !cancellable.is_empty() && rng.range(0, 4) < 2 {
        let index = rng.range(0, cancellable.len() as u64 - 1) as usize;
        return client.cancel(&cancellable[index]);
    }
    let buy = match bias {
        0 => rng.range(0, 4) > 0,
        1 => rng.range(0, 4) == 0,
        _ => rng.range(0, 1) == 0,
    };
    let side = if buy { 1 } else { 2 };
    let (low, high) = if side == 1 { BUY_PRICES } else { SELL_PRICES };
    let price = price_not_crossing_own(client, side, rng.range(low, high) as i64);
    let order = Order { side, price, lots: rng.range(1, 8) };
    client.order(order, rng.range(0, 1) == 0)
}

/// Moves `price` away from the trader's own orders on the other side (in flight ones too), so
/// that self-trade prevention, which the reference does not model, never acts.
fn price_not_crossing_own(client: &Client, side: u8, price: i64) -> i64 {
    let own = client.working.values().filter(|order| order.side != side).map(|order| order.price);
    if side == 1 {
        own.min().map_or(price, |ask| price.min(ask - 1))
    } else {
        own.max().map_or(price, |bid| price.max(bid + 1))
    }
}

/// Brings every session in sync and checks the recovered state against the reference replay
/// (see the module documentation). Reports of replayed inputs may reach the traders' stores
/// a moment after they logged on, so a mismatch is retried until [`WAIT`] has passed.
fn settle(
    clients: &mut [Client],
    orders_working: u64,
    trades_logged: &BTreeSet<String>,
    context: &str,
) {
    let deadline = Instant::now() + WAIT;
    loop {
        for client in clients.iter_mut() {
            client.sync();
        }
        let depth = reference::depth_of(&clients[0].depth());
        let replay = reference::replay(clients);
        let consistent = replay.faults.is_empty()
            && replay.fills_expected == replay.fills_reported
            && replay.depth == depth
            && replay.orders_working == orders_working;
        if consistent || Instant::now() > deadline {
            let faults: Vec<&String> = clients.iter().flat_map(|client| &client.faults).collect();
            assert!(faults.is_empty(), "{context}: session faults: {faults:#?}");
            assert!(replay.faults.is_empty(), "{context}: {:#?}", replay.faults);
            fills_compare(&replay, context);
            assert_eq!(depth, replay.depth, "{context}: recovered book vs reference");
            assert_eq!(orders_working, replay.orders_working, "{context}: resting orders");
            trades_compare(clients, trades_logged, context);
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Fails with the first fill that differs between the reference and the reports.
fn fills_compare(replay: &reference::Replay, context: &str) {
    let (expected, reported) = (&replay.fills_expected, &replay.fills_reported);
    let first = expected.iter().zip(reported).position(|(expected, reported)| expected != reported);
    let index = first.unwrap_or(expected.len().min(reported.len()));
    assert!(
        expected == reported,
        "{context}: fills differ at {index} ({} expected, {} reported): expected {:?}, \
         reported {:?}",
        expected.len(),
        reported.len(),
        expected.get(index),
        reported.get(index)
    );
}

/// Fails if a trade the server logged never reached the traders.
fn trades_compare(clients: &[Client], trades_logged: &BTreeSet<String>, context: &str) {
    let reported: BTreeSet<&String> = clients
        .iter()
        .flat_map(|client| &client.reports)
        .filter_map(|report| report.trade_id.as_ref())
        .collect();
    let missing: Vec<&String> = trades_logged.iter().filter(|id| !reported.contains(id)).collect();
    assert!(missing.is_empty(), "{context}: trades logged but never reported: {missing:?}");
}

/// The trade id of a `trade` log line, as FIX writes it (TrdMatchID).
fn trade_id(line: &Value) -> String {
    assert_eq!(line["symbol"], BUTTER, "only {BUTTER} trades");
    match &line["trade_id"] {
        Value::String(id) => id.clone(),
        id => id.to_string(),
    }
}

/// Runs `birzha journal verify` on what the killed server left: a torn tail is allowed (it
/// is a note), damage is not.
fn journal_verify(dir: &std::path::Path, seed: u64) {
    let path = dir.to_str().expect("a UTF-8 temp dir");
    let output = run(&["journal", "verify", path]);
    let (stdout, stderr) = texts(&output);
    assert!(output.status.success(), "seed {seed}: verify failed:\n{stdout}\n{stderr}");
}

/// A fresh seed from the clock.
fn seed_fresh() -> u64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970");
    now.as_nanos() as u64
}

/// SplitMix64: small, seeded, good enough to draw test streams.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `low..=high`.
    fn range(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }
}
