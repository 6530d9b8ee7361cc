//! End-to-end tests of the exchange over 127.0.0.1: the real engine (journal on a temporary
//! disk), the exchange application and the FIX acceptor, driven by FIX clients that log on with
//! passwords. Every message the clients receive is validated against the stock FIX44.xml.
//!
//! Covered: logon and refused logons, acknowledgements and fills on both sides, replace,
//! cancel, rejects with reasons, another firm's order, market data (snapshot, incremental
//! refreshes, trades, an unknown symbol), resend of missed fills after a reconnect,
//! cancel-on-disconnect, mass cancel, order status, the security list, and the throttle.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use argon2::PasswordHasher;
use birzha_book::{InstrumentSpec, SelfMatchMode};
use birzha_engine::journal::Durability;
use birzha_engine::{
    Admin, CancelOnDisconnect, Engine, EngineConfig, FirmConfig, Input, InstrumentConfig,
    InstrumentId, Phase, PhaseConfig, Registry, TraderConfig,
};
use birzha_fix::session::{FileStoreConfig, RESEND_SEQS_PER_CALL};
use birzha_fix::{Dictionary, Fields, parse};
use birzha_gateway::exchange::{Exchange, ExchangeOptions, Login, Watermarks};
use birzha_gateway::{GatewayConfig, Sessions, StoreConfig};
use rust_decimal::Decimal;
use tempfile::TempDir;

use crate::util::{Client, Server, field, fix44_dir, frame, utc_now};

fn instrument(symbol: &str, currency: &str, tick: &str, reference: &str) -> InstrumentConfig {
    InstrumentConfig {
        spec: InstrumentSpec {
            symbol: symbol.into(),
            description: format!("{symbol} for tests"),
            unit: "t".into(),
            currency: currency.into(),
            lot_size: Decimal::from(5),
            tick: tick.parse().expect("decimal"),
            reference_price: reference.parse().expect("decimal"),
            band_percent: Decimal::from(10),
            price_floor: None,
            price_cap: None,
            max_order_lots: 1000,
            orders_max: 1024,
        },
        deposit_ratio: "0.05".parse().expect("decimal"),
    }
}

fn engine_config(phases: PhaseConfig) -> EngineConfig {
    let firm = |code: &str| FirmConfig {
        code: code.into(),
        name: code.into(),
        deposits: [("USD", "1000000000000"), ("BYN", "1000000000000")]
            .iter()
            .map(|(c, a)| (c.to_string(), a.parse().expect("decimal")))
            .collect::<BTreeMap<_, _>>(),
        suspended: false,
    };
    let trader = |code: &str, firm: &str| TraderConfig {
        code: code.into(),
        firm: firm.into(),
        self_match: SelfMatchMode::CancelResting,
        cancel_on_disconnect: CancelOnDisconnect::Day,
    };
    EngineConfig {
        instruments: vec![
            instrument("BUT82-FCA-USD", "USD", "1", "6800"),
            instrument("MILK-RAW-BYN", "BYN", "0.01", "0.95"),
        ],
        firms: vec![firm("FIRM-A"), firm("FIRM-B")],
        traders: vec![
            trader("TRADER1", "FIRM-A"),
            trader("TRADER2", "FIRM-A"),
            trader("TRADER3", "FIRM-B"),
        ],
        shards: 2,
        durability: Durability::None,
        snapshot_every_inputs: 100_000,
        input_queue_capacity: 1024,
        batch_inputs_max: 256,
        journal_segment_bytes: birzha_engine::JOURNAL_SEGMENT_BYTES_DEFAULT,
        phases,
    }
}

/// An argon2 hash of "demo" with small parameters, so tests stay fast.
fn demo_hash() -> String {
    let params = argon2::Params::new(64, 1, 1, None).expect("params");
    let argon2 = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    argon2.hash_password(b"demo").expect("hash").to_string()
}

/// A running exchange on a temporary data directory.
pub(crate) struct Running {
    /// The acceptor.
    pub(crate) server: Server,
    engine: Option<Engine>,
    dispatcher: Option<std::thread::JoinHandle<()>>,
    dir: TempDir,
}

pub(crate) async fn start(orders_per_second: u32) -> Running {
    start_with(orders_per_second, PhaseConfig::default(), 1 << 24).await
}

/// An exchange whose traders' store files are compacted past `store_bytes_max`.
async fn start_with(orders_per_second: u32, phases: PhaseConfig, store_bytes_max: u64) -> Running {
    start_in(tempfile::tempdir().expect("temp dir"), orders_per_second, phases, store_bytes_max)
        .await
}

/// As [`start_with`], on the data directory `dir` (a restart when it was used before).
async fn start_in(
    dir: TempDir,
    orders_per_second: u32,
    phases: PhaseConfig,
    store_bytes_max: u64,
) -> Running {
    let registry: Arc<Registry> = Arc::new(engine_config(phases).validate().expect("valid config"));
    let watermarks = Watermarks::open(&dir.path().join("gateway/watermarks"), 2).expect("marks");
    let (outputs, received) = crossbeam::channel::bounded(1024);
    let (engine, _) =
        Engine::start(Arc::clone(&registry), dir.path(), outputs, watermarks.values())
            .expect("engine");
    let mut config = GatewayConfig::new("BIRZHA");
    config.store = StoreConfig::File(FileStoreConfig {
        directory: dir.path().join("fix"),
        durability: birzha_fix::session::Durability::None,
        messages_max: 100_000,
        file_bytes_max: store_bytes_max,
        write_behind: true,
    });
    config.auth_backoff_base = Duration::from_millis(1);
    let sessions = Sessions::new(&config);
    let hash = demo_hash();
    let logins = ["TRADER1", "TRADER2", "TRADER3"]
        .iter()
        .map(|code| Login { trader: code.to_string(), password_hash: hash.clone() })
        .collect();
    let options = ExchangeOptions {
        logins,
        orders_per_second,
        cancels_per_second: 1000,
        submit_timeout: Duration::from_millis(250),
        commands_max: 1024,
    };
    let running =
        Exchange::start(registry, engine.handle(), sessions.clone(), received, watermarks, options)
            .expect("exchange");
    let server = Server::start(config, running.exchange, sessions).await;
    Running { server, engine: Some(engine), dispatcher: Some(running.dispatcher), dir }
}

impl Running {
    /// Submits an engine input, as the operator's commands are.
    fn submit(&self, input: Input) {
        self.engine.as_ref().expect("running").submit(input).expect("submitted");
    }

    /// The delivery watermarks on disk, per shard.
    fn watermarks(&self) -> Vec<u64> {
        let path = self.dir.path().join("gateway/watermarks");
        Watermarks::open(&path, 2).expect("watermarks").values().to_vec()
    }

    pub(crate) async fn stop(self) {
        self.stop_keeping_data().await;
    }

    /// Stops the acceptor, then the engine, then the dispatcher, as the server does, and
    /// returns the data directory (a restart can use it).
    async fn stop_keeping_data(self) -> TempDir {
        let Running { server, engine, dispatcher, dir } = self;
        let (engine, dispatcher) = (engine.expect("running"), dispatcher.expect("running"));
        server.stop().await;
        tokio::task::spawn_blocking(move || {
            engine.shutdown().expect("engine stops");
            dispatcher.join().expect("dispatcher stops");
        })
        .await
        .expect("shutdown");
        dir
    }
}

/// A trader's FIX client: numbers what it sends, keeps what it receives.
pub(crate) struct Trader {
    client: Client,
    code: &'static str,
    /// The next MsgSeqNum to send (a test may skip or go back to make gaps).
    pub(crate) seq: u64,
    /// Every frame received, for the dictionary check.
    pub(crate) received: Vec<Vec<u8>>,
}

impl Trader {
    pub(crate) async fn logon(address: SocketAddr, code: &'static str, seq: u64) -> Trader {
        let mut trader =
            Trader { client: Client::connect(address).await, code, seq, received: Vec::new() };
        trader.send("A", "98=0|108=30|554=demo").await;
        let logon = trader.expect(|m| field(m, 35).as_deref() == Some("A"), "Logon").await;
        assert_eq!(field(&logon, 35).as_deref(), Some("A"));
        trader
    }

    pub(crate) async fn send(&mut self, msg_type: &str, body: &str) {
        let header =
            format!("35={msg_type}|49={}|56=BIRZHA|34={}|52={}", self.code, self.seq, utc_now(0));
        self.seq += 1;
        let text = if body.is_empty() { header } else { format!("{header}|{body}") };
        self.client.send(&frame(&text)).await;
    }

    pub(crate) async fn order(
        &mut self,
        cl_ord_id: &str,
        symbol: &str,
        side: u8,
        lots: u32,
        price: &str,
        extra: &str,
    ) {
        let body = format!(
            "11={cl_ord_id}|55={symbol}|54={side}|60={}|38={lots}|40=2|44={price}{extra}",
            utc_now(0)
        );
        self.send("D", &body).await;
    }

    /// The last frames received, for a failure's message.
    fn last(&self) -> String {
        let from = self.received.len().saturating_sub(8);
        let frames = self.received[from..].iter();
        let lines: Vec<String> =
            frames.map(|m| String::from_utf8_lossy(m).replace('\x01', "|")).collect();
        format!("; {} frames received, the last:\n{}", self.received.len(), lines.join("\n"))
    }

    /// Reads until a frame satisfies `wanted`, answering test requests on the way.
    pub(crate) async fn expect(&mut self, wanted: impl Fn(&[u8]) -> bool, what: &str) -> Vec<u8> {
        loop {
            let frame = match self.client.receive_within(5).await {
                Ok(Some(frame)) => frame,
                Ok(None) => {
                    panic!(
                        "{}: connection closed while waiting for {what}{}",
                        self.code,
                        self.last()
                    )
                }
                Err(error) => {
                    panic!("{}: {error} while waiting for {what}{}", self.code, self.last())
                }
            };
            self.received.push(frame.clone());
            if field(&frame, 35).as_deref() == Some("1") {
                let id = field(&frame, 112).unwrap_or_default();
                self.send("0", &format!("112={id}")).await;
            }
            if wanted(&frame) {
                return frame;
            }
        }
    }

    /// The next ExecutionReport for `cl_ord_id` with ExecType `exec_type`.
    pub(crate) async fn report(&mut self, cl_ord_id: &str, exec_type: &str) -> Vec<u8> {
        let what = format!("ExecutionReport 11={cl_ord_id} 150={exec_type}");
        self.expect(
            |m| {
                field(m, 35).as_deref() == Some("8")
                    && field(m, 11).as_deref() == Some(cl_ord_id)
                    && field(m, 150).as_deref() == Some(exec_type)
            },
            &what,
        )
        .await
    }

    pub(crate) async fn of_type(&mut self, msg_type: &str) -> Vec<u8> {
        self.expect(|m| field(m, 35).as_deref() == Some(msg_type), msg_type).await
    }

    /// Checks every received frame against the stock FIX44.xml and the profile.
    pub(crate) fn validate(&self) {
        let stock = birzha_fix::stock::stock_dictionary(&fix44_dir()).expect("stock dictionary");
        let mut fields = Fields::with_capacity(512);
        for frame in &self.received {
            let view = parse(frame, &mut fields).expect("parses");
            let shown = String::from_utf8_lossy(frame).replace('\x01', "|");
            if let Err(error) = stock.validate(&view) {
                panic!("invalid under FIX44.xml: {error}: {shown}");
            }
            if let Err(error) = Dictionary::profile().validate(&view) {
                panic!("invalid under the profile: {error}: {shown}");
            }
        }
    }
}

pub(crate) const BUTTER: &str = "BUT82-FCA-USD";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_fill_on_both_sides_with_one_trade_id() {
    let running = start(500).await;
    let address = running.server.address;
    let mut seller = Trader::logon(address, "TRADER1", 1).await;
    let mut buyer = Trader::logon(address, "TRADER3", 1).await;
    seller.order("S1", BUTTER, 2, 3, "6800", "|59=1").await;
    let ack = seller.report("S1", "0").await;
    assert_eq!(field(&ack, 39).as_deref(), Some("0"));
    let order_id = field(&ack, 37).expect("OrderID");
    buyer.order("B1", BUTTER, 1, 5, "6810", "").await;
    let buyer_ack = buyer.report("B1", "0").await;
    assert_eq!(field(&buyer_ack, 151).as_deref(), Some("5"));
    let taker = buyer.report("B1", "F").await;
    let maker = seller.report("S1", "F").await;
    assert_eq!(field(&maker, 37), Some(order_id));
    for (report, liquidity, status, leaves) in [(&maker, "1", "2", "0"), (&taker, "2", "1", "2")] {
        assert_eq!(field(report, 31).as_deref(), Some("6800"), "at the resting price");
        assert_eq!(field(report, 32).as_deref(), Some("3"));
        assert_eq!(field(report, 851).as_deref(), Some(liquidity));
        assert_eq!(field(report, 39).as_deref(), Some(status));
        assert_eq!(field(report, 151).as_deref(), Some(leaves));
        assert_eq!(field(report, 14).as_deref(), Some("3"));
        assert_eq!(field(report, 6).as_deref(), Some("6800"));
    }
    assert_eq!(field(&maker, 527), field(&taker, 527), "one trade id");
    seller.validate();
    buyer.validate();
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replace_cancel_rejects_and_another_firms_order() {
    let running = start(500).await;
    let address = running.server.address;
    let mut trader = Trader::logon(address, "TRADER1", 1).await;
    let mut other = Trader::logon(address, "TRADER3", 1).await;
    trader.order("O1", BUTTER, 1, 5, "6790", "").await;
    let order_id = field(&trader.report("O1", "0").await, 37).expect("OrderID");
    let replace = format!("11=O2|41=O1|55={BUTTER}|54=1|60={}|38=4|40=2|44=6795", utc_now(0));
    trader.send("G", &replace).await;
    let replaced = trader.report("O2", "5").await;
    assert_eq!(field(&replaced, 41).as_deref(), Some("O1"));
    assert_eq!(
        (field(&replaced, 38).as_deref(), field(&replaced, 44).as_deref()),
        (Some("4"), Some("6795"))
    );
    // Another firm knows the OrderID but may not touch the order.
    let steal = format!("11=X1|41=O2|37={order_id}|55={BUTTER}|54=1|60={}", utc_now(0));
    other.send("F", &steal).await;
    let refused = other.of_type("9").await;
    assert_eq!(
        (field(&refused, 102).as_deref(), field(&refused, 434).as_deref()),
        (Some("1"), Some("1"))
    );
    let cancel = format!("11=O3|41=O2|55={BUTTER}|54=1|60={}", utc_now(0));
    trader.send("F", &cancel).await;
    let cancelled = trader.report("O3", "4").await;
    assert_eq!(
        (field(&cancelled, 39).as_deref(), field(&cancelled, 151).as_deref()),
        (Some("4"), Some("0"))
    );
    trader.send("F", &format!("11=O4|41=O2|55={BUTTER}|54=1|60={}", utc_now(0))).await;
    let late = trader.of_type("9").await;
    assert_eq!(field(&late, 102).as_deref(), Some("0"), "too late to cancel");
    trader.order("R1", BUTTER, 1, 1, "6000", "").await;
    let rejected = trader.report("R1", "8").await;
    assert_eq!(
        field(&rejected, 58).as_deref(),
        Some("PRICE_OUTSIDE_BAND: price 6000 outside band [6120, 7480]")
    );
    trader.order("R2", "NO-SUCH", 1, 1, "1", "").await;
    let unknown = trader.report("R2", "8").await;
    assert!(field(&unknown, 58).is_some_and(|text| text.contains("UNKNOWN_SYMBOL")));
    trader.order("R3", BUTTER, 1, 1, "6800", "").await;
    trader.report("R3", "0").await;
    trader.order("R3", BUTTER, 1, 1, "6800", "").await;
    let duplicate = trader.report("R3", "8").await;
    assert_eq!(field(&duplicate, 103).as_deref(), Some("6"));
    trader.send("H", &format!("11=R3|55={BUTTER}|54=1")).await;
    let status = trader.report("R3", "I").await;
    assert_eq!(field(&status, 39).as_deref(), Some("0"));
    trader.send("q", &format!("11=M1|530=7|60={}", utc_now(0))).await;
    let mass = trader.of_type("r").await;
    assert_eq!(field(&mass, 533).as_deref(), Some("1"), "the one working order");
    trader.send("x", "320=SL1|559=4").await;
    let list = trader.of_type("y").await;
    assert_eq!(field(&list, 146).as_deref(), Some("2"));
    trader.validate();
    other.validate();
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn market_data_snapshot_then_incremental_refreshes() {
    let running = start(500).await;
    let address = running.server.address;
    let mut trader = Trader::logon(address, "TRADER1", 1).await;
    let mut watcher = Trader::logon(address, "TRADER3", 1).await;
    trader.order("S1", BUTTER, 2, 4, "6805", "").await;
    trader.report("S1", "0").await;
    let request = format!("262=MD1|263=1|264=0|265=1|267=3|269=0|269=1|269=2|146=1|55={BUTTER}");
    watcher.send("V", &request).await;
    let snapshot = watcher.of_type("W").await;
    assert_eq!(field(&snapshot, 268).as_deref(), Some("1"));
    assert_eq!(
        (field(&snapshot, 269).as_deref(), field(&snapshot, 270).as_deref()),
        (Some("1"), Some("6805"))
    );
    watcher.order("B1", BUTTER, 1, 1, "6805", "").await;
    let mut updates = Vec::new();
    while updates.len() < 2 {
        let update = watcher.of_type("X").await;
        updates.push((
            field(&update, 269).unwrap_or_default(),
            field(&update, 271).unwrap_or_default(),
        ));
    }
    assert!(updates.contains(&("2".into(), "1".into())), "the trade: {updates:?}");
    assert!(updates.contains(&("1".into(), "3".into())), "the offer level shrank: {updates:?}");
    watcher.send("V", "262=MD2|263=0|264=0|267=1|269=0|146=1|55=NO-SUCH").await;
    let reject = watcher.of_type("Y").await;
    assert_eq!(field(&reject, 281).as_deref(), Some("0"));
    trader.validate();
    watcher.validate();
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missed_fills_come_back_through_resend_and_day_orders_are_cancelled_on_disconnect() {
    let running = start(500).await;
    let address = running.server.address;
    let mut seller = Trader::logon(address, "TRADER1", 1).await;
    seller.order("GTC1", BUTTER, 2, 2, "6800", "|59=1").await;
    seller.report("GTC1", "0").await;
    seller.order("DAY1", BUTTER, 2, 2, "6900", "").await;
    seller.report("DAY1", "0").await;
    let next_seq = seller.seq;
    drop(seller); // the connection drops without a Logout: cancel-on-disconnect (Day orders)
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut buyer = Trader::logon(address, "TRADER3", 1).await;
    buyer.order("B1", BUTTER, 1, 5, "6900", "|59=3").await;
    let fill = buyer.report("B1", "F").await;
    assert_eq!(field(&fill, 32).as_deref(), Some("2"), "only the GTC order was left");
    // The seller comes back: its logon shows a gap, its resend request brings the fill.
    let mut seller = Trader::logon(address, "TRADER1", next_seq).await;
    seller.send("2", "7=1|16=0").await;
    let resent_fill = seller.report("GTC1", "F").await;
    assert_eq!(field(&resent_fill, 43).as_deref(), Some("Y"), "resent with PossDupFlag");
    let cancelled = seller
        .received
        .iter()
        .find(|m| field(m, 11).as_deref() == Some("DAY1") && field(m, 150).as_deref() == Some("4"))
        .expect("the Day order's cancel was resent too");
    assert!(field(cancelled, 58).is_some_and(|text| text.contains("disconnect")));
    seller.validate();
    buyer.validate();
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_logons_are_refused_and_the_throttle_rejects_floods() {
    let running = start(5).await;
    let address = running.server.address;
    let mut intruder = Client::connect(address).await;
    let logon = format!("35=A|49=TRADER1|56=BIRZHA|34=1|52={}|98=0|108=30|554=wrong", utc_now(0));
    intruder.send(&frame(&logon)).await;
    let refusal = intruder.receive_within(5).await.expect("answer").expect("logout");
    assert_eq!(field(&refusal, 35).as_deref(), Some("5"));
    assert_eq!(field(&refusal, 58).as_deref(), Some("wrong password"));
    let mut trader = Trader::logon(address, "TRADER2", 1).await;
    for n in 0..20 {
        trader.order(&format!("F{n}"), BUTTER, 1, 1, "6700", "").await;
    }
    let mut throttled = 0;
    let mut accepted = 0;
    while throttled + accepted < 20 {
        let report = trader.of_type("8").await;
        if field(&report, 58).is_some_and(|text| text.starts_with("THROTTLED")) {
            throttled += 1;
        } else if field(&report, 150).as_deref() == Some("0") {
            accepted += 1;
        }
    }
    assert!(accepted >= 5 && throttled >= 10, "accepted {accepted}, throttled {throttled}");
    trader.validate();
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_volatility_interruption_is_a_status_change_then_an_auction_fill() {
    let phases = PhaseConfig {
        volatility_auction_seconds: 1,
        random_end_seconds_max: 0,
        ..PhaseConfig::default()
    };
    let running = start_with(500, phases, 1 << 24).await;
    let address = running.server.address;
    let mut watcher = Trader::logon(address, "TRADER2", 1).await;
    watcher
        .send("V", &format!("262=MD|263=1|264=0|265=1|267=2|269=0|269=1|146=1|55={BUTTER}"))
        .await;
    watcher.of_type("W").await;
    let mut seller = Trader::logon(address, "TRADER1", 1).await;
    let mut buyer = Trader::logon(address, "TRADER3", 1).await;
    seller.order("S1", BUTTER, 2, 1, "6800", "").await;
    seller.order("S2", BUTTER, 2, 5, "7100", "").await;
    seller.report("S2", "0").await;
    buyer.order("B1", BUTTER, 1, 3, "7200", "").await;
    let first = buyer.report("B1", "F").await;
    assert_eq!(field(&first, 31).as_deref(), Some("6800"), "the fill before the jump stands");
    let halted = watcher.of_type("h").await;
    assert_eq!(field(&halted, 336).as_deref(), Some(BUTTER));
    assert_eq!(
        (field(&halted, 340).as_deref(), field(&halted, 58).as_deref()),
        (Some("4"), Some("VolatilityAuction"))
    );
    let auction_fill = buyer.report("B1", "F").await;
    assert_eq!(field(&auction_fill, 31).as_deref(), Some("7100"), "the uncross price");
    assert_eq!(field(&auction_fill, 32).as_deref(), Some("2"));
    assert_eq!(field(&auction_fill, 851), None, "an auction fill has no maker or taker");
    let reopened = watcher.of_type("h").await;
    assert_eq!(field(&reopened, 340).as_deref(), Some("2"), "back to continuous trading");
    watcher.validate();
    buyer.validate();
    seller.validate();
    running.stop().await;
}

/// Makes TRADER1's store unable to compact (its temporary file's name is taken), then sends
/// orders W2..=W41 until the file passes 4 KiB and their reports cannot be stored, and waits a
/// checkpoint. Returns the blocking directory (remove it and the disk is fixed).
async fn fill_a_store_that_cannot_compact(running: &Running, trader: &mut Trader) -> PathBuf {
    let blocker = running.dir.path().join("fix/TRADER1.session.tmp");
    std::fs::create_dir(&blocker).expect("block compaction");
    for n in 2..=41 {
        trader.order(&format!("W{n}"), BUTTER, 1, 1, "6800", "").await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    blocker
}

/// Regression (review of stop 12): the dispatcher advanced the delivery watermarks past a report
/// it had failed to store, so that a restart would never deliver that report again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_that_cannot_be_stored_holds_the_delivery_watermarks() {
    let running = start_with(1000, PhaseConfig::default(), 4096).await;
    let mut trader = Trader::logon(running.server.address, "TRADER1", 1).await;
    trader.order("W1", BUTTER, 1, 1, "6800", "").await;
    trader.report("W1", "0").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let stored = running.watermarks();
    assert!(stored.iter().any(|&mark| mark > 0), "a checkpoint moved them: {stored:?}");
    fill_a_store_that_cannot_compact(&running, &mut trader).await;
    let held = running.watermarks();
    assert!(held >= stored, "{held:?} {stored:?}");
    let mut other = Trader::logon(running.server.address, "TRADER2", 1).await;
    other.order("X1", BUTTER, 2, 1, "6900", "").await;
    other.report("X1", "0").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(running.watermarks(), held, "no checkpoint moves them past the lost report");
    running.stop().await;
}

/// Regression (a review's): a trader pipelining requests the dispatcher answers (here
/// SecurityListRequests) filled the bounded command channel while its session held its store
/// lock; the session then waited for room, and the dispatcher, storing one of that trader's
/// replies, waited for the lock: every trader's reports stopped. Now a full channel refuses
/// the request in-band (BusinessMessageReject 380=4). Runs on its own runtime and thread, so
/// that a deadlock fails the test instead of hanging it.
#[test]
fn a_flood_of_requests_answered_by_the_dispatcher_does_not_stop_the_exchange() {
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let running = start(500).await;
            let address = running.server.address;
            let flooder = Trader::logon(address, "TRADER1", 1).await;
            let mut seq = flooder.seq;
            // A fast reader: its replies are read (and dropped) while it writes.
            let (mut reader, mut writer) = flooder.client.into_stream().into_split();
            tokio::spawn(async move {
                let mut sink = vec![0u8; 1 << 16];
                while reader.read(&mut sink).await.is_ok_and(|n| n > 0) {}
            });
            let mut batch = Vec::new();
            for n in 0..6000 {
                let text =
                    format!("35=x|49=TRADER1|56=BIRZHA|34={seq}|52={}|320=R{n}|559=4", utc_now(0));
                seq += 1;
                batch.extend_from_slice(&frame(&text));
            }
            writer.write_all(&batch).await.expect("flood written");
            tokio::time::sleep(Duration::from_millis(2000)).await;
            // Another firm's trader, unrelated to the flood, is still served.
            let mut other = Trader::logon(address, "TRADER3", 1).await;
            other.order("OK1", BUTTER, 1, 1, "6700", "").await;
            other.report("OK1", "0").await;
            drop(writer);
            running.stop().await;
        });
        let _ = done.send(());
    });
    assert!(
        finished.recv_timeout(Duration::from_secs(60)).is_ok(),
        "deadlock: another trader's order was not acknowledged within 60 s of a request flood"
    );
}

/// Regressions (a review's): a price or quantity with more digits than a decimal holds was
/// rounded (6799.99…9 became 6800, on the tick; 0.99…9 lots became 1 lot), an unreadable
/// price on a replace was taken for an absent one (the replace kept the old price), and the
/// gateway's own rejects all said OrdRejReason 99. Now such values are refused with
/// `INCORRECT_PRICE` / `INCORRECT_QUANTITY`, and the gateway's rejects carry the profile's
/// reasons (1 unknown symbol, 11 unsupported, 13 incorrect quantity).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inexact_decimals_are_refused_and_gateway_rejects_carry_the_profiles_reasons() {
    let running = start(500).await;
    let mut trader = Trader::logon(running.server.address, "TRADER1", 1).await;
    let nines = "9".repeat(30);
    let refused = |report: &[u8]| {
        (field(report, 150), field(report, 103), field(report, 58).map(|t| t[..16].to_string()))
    };
    trader.order("P1", BUTTER, 1, 1, &format!("6799.{nines}"), "").await;
    let report = trader.report("P1", "8").await;
    let expected = (Some("8".into()), Some("99".into()), Some("INCORRECT_PRICE:".into()));
    assert_eq!(refused(&report), expected);
    let body = format!("11=Q1|55={BUTTER}|54=1|60={}|38=0.{nines}|40=2|44=6800", utc_now(0));
    trader.send("D", &body).await;
    let report = trader.report("Q1", "8").await;
    let expected = (Some("8".into()), Some("13".into()), Some("INCORRECT_QUANTI".into()));
    assert_eq!(refused(&report), expected);
    trader.order("U1", "NO-SUCH", 1, 1, "1", "").await;
    assert_eq!(field(&trader.report("U1", "8").await, 103).as_deref(), Some("1"));
    trader.order("U2", BUTTER, 1, 1, "6800", "|59=2").await;
    assert_eq!(field(&trader.report("U2", "8").await, 103).as_deref(), Some("11"));
    // A replace whose price cannot be read is refused, not applied at the old price.
    trader.order("O1", BUTTER, 1, 5, "6790", "").await;
    trader.report("O1", "0").await;
    let huge = "100000000000000000000000000000";
    let replace = format!("11=O2|41=O1|55={BUTTER}|54=1|60={}|38=4|40=2|44={huge}", utc_now(0));
    trader.send("G", &replace).await;
    let answer = trader.of_type("9").await;
    assert_eq!(field(&answer, 11).as_deref(), Some("O2"));
    assert!(field(&answer, 58).is_some_and(|text| text.starts_with("INCORRECT_PRICE")));
    running.stop().await;
}

/// Regression (a review's): an indicative uncross that vanished in a call (nothing would trade
/// any more) stayed on subscribers' screens, and snapshots never showed one. Now it is
/// withdrawn (279=2), a snapshot in a call carries it, and the end of the call withdraws it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_indicative_uncross_is_shown_in_snapshots_and_withdrawn_when_it_vanishes() {
    let running = start(500).await;
    let (mut watcher, subscribe, [_seller, mut buyer], shown) =
        indicative_in_pre_open(&running).await;
    assert_eq!((field(&shown, 279), field(&shown, 270)), (Some("0".into()), Some("6800".into())));
    // A snapshot shows it.
    watcher.send("V", &subscribe.replace("262=MD|263=1", "262=MD2|263=0")).await;
    let snapshot = watcher.of_type("W").await;
    let text = String::from_utf8_lossy(&snapshot).replace('\x01', "|");
    assert!(text.contains("|269=4|270=6800|271=2|"), "{text}");
    // The bid goes: nothing would trade, and the indicative is withdrawn.
    buyer.send("F", &format!("11=B2|41=B1|55={BUTTER}|54=1|60={}", utc_now(0))).await;
    buyer.report("B2", "4").await;
    let is_indicative =
        |m: &[u8]| field(m, 35).as_deref() == Some("X") && field(m, 269).as_deref() == Some("4");
    let withdrawn = watcher.expect(is_indicative, "the indicative's withdrawal").await;
    assert_eq!(
        (field(&withdrawn, 279), field(&withdrawn, 270)),
        (Some("2".into()), Some("6800".into()))
    );
    watcher.validate();
    running.stop().await;
}

/// Regression (a review's): once a trader's store could not be written the watermarks were
/// held, as documented, so that "a restart delivers again every report after the last
/// watermark on disk"; but the clean shutdown's final snapshot, newer than the watermark, was
/// where recovery started, and those reports were never delivered. Recovery now starts at or
/// before the watermark.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_not_stored_before_a_clean_restart_are_delivered_after_it() {
    let running = start_with(1000, PhaseConfig::default(), 4096).await;
    let mut trader = Trader::logon(running.server.address, "TRADER1", 1).await;
    trader.order("W1", BUTTER, 1, 1, "6800", "").await;
    trader.report("W1", "0").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let blocker = fill_a_store_that_cannot_compact(&running, &mut trader).await;
    let held = running.watermarks();
    let next_seq = trader.seq;
    drop(trader);
    let dir = running.stop_keeping_data().await;
    std::fs::remove_dir(&blocker).expect("the disk is fixed");
    let running = start_in(dir, 1000, PhaseConfig::default(), 1 << 24).await;
    let mut trader = Trader::logon(running.server.address, "TRADER1", next_seq).await;
    // The first exchange's session may have failed on the store before it read every order
    // (then the exchange asks for the rest, which this client does not keep): a reset to the
    // client's next number settles that either way.
    let after_reset = trader.seq + 1;
    trader.send("4", &format!("123=N|36={after_reset}")).await;
    trader.send("2", "7=1|16=0").await;
    trader.send("1", "112=SYNC").await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    trader.send("1", "112=SYNC2").await;
    let synced = |m: &[u8]| {
        field(m, 35).as_deref() == Some("0") && field(m, 112).as_deref() == Some("SYNC2")
    };
    trader.expect(synced, "SYNC2").await;
    // The orders the exchange took: those it answers a status request for (working, or
    // finished and still remembered), and those its cancel-on-disconnect ended. W1 and a run
    // after it: all 41 unless the session failed on the store first.
    let mut known = Vec::new();
    for n in 1..=41 {
        trader.send("H", &format!("11=W{n}|55={BUTTER}|54=1")).await;
        let id = format!("W{n}");
        let answer = trader
            .expect(
                |m| field(m, 150).as_deref() == Some("I") && field(m, 11).as_deref() == Some(&*id),
                "a status answer",
            )
            .await;
        known.push(field(&answer, 39).as_deref() != Some("8"));
    }
    let reported = |cl_ord_id: &str, exec_type: &str| {
        trader.received.iter().any(|m| {
            field(m, 35).as_deref() == Some("8")
                && field(m, 11).as_deref() == Some(cl_ord_id)
                && field(m, 150).as_deref() == Some(exec_type)
        })
    };
    let taken: Vec<String> = (1..=41)
        .map(|n| format!("W{n}"))
        .zip(&known)
        .take_while(|(w, known)| **known || reported(w, "4"))
        .map(|(w, _)| w)
        .collect();
    assert!(taken.len() > 2, "the orders were taken: {taken:?}");
    let untaken =
        (taken.len() + 1..=41).filter(|&n| known[n - 1] || reported(&format!("W{n}"), "4"));
    assert_eq!(untaken.count(), 0, "the orders taken form a run from W1: {taken:?}");
    // Each must have its acknowledgement, most of which were never stored before the restart.
    let missing: Vec<&String> = taken.iter().filter(|w| !reported(w, "0")).collect();
    assert!(missing.is_empty(), "never acknowledged (watermarks held at {held:?}): {missing:?}");
    running.stop().await;
}

/// The data directory of a stopped exchange where TRADER1's store keeps W1..W3's
/// acknowledgements, and that store's file.
async fn a_store_of_three_reports() -> (TempDir, PathBuf) {
    let running = start_with(1000, PhaseConfig::default(), 1 << 20).await;
    let mut trader = Trader::logon(running.server.address, "TRADER1", 1).await;
    for n in 1..=3 {
        trader.order(&format!("W{n}"), BUTTER, 1, 1, "6800", "").await;
        trader.report(&format!("W{n}"), "0").await;
    }
    drop(trader);
    let dir = running.stop_keeping_data().await;
    let path = dir.path().join("fix/TRADER1.session");
    (dir, path)
}

/// Regression (a review's): a session store damaged before its last record was taken for a
/// torn tail and cut at the damage: the later reports were lost and the trader's next reports
/// numbered as old ones. Now its Logon is refused with a Logout that says why (the operator's
/// log names the file and offset), the file is left for the operator, and others trade on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_session_store_refuses_only_its_trader_and_says_why() {
    let (dir, path) = a_store_of_three_reports().await;
    let mut bytes = std::fs::read(&path).expect("the store");
    let first = bytes.windows(5).position(|w| w == b"11=W1").expect("W1's report kept");
    bytes[first + 3] = b'X';
    std::fs::write(&path, &bytes).expect("damaged");
    let running = start_in(dir, 1000, PhaseConfig::default(), 1 << 20).await;
    let mut refused = Client::connect(running.server.address).await;
    let logon = format!("35=A|49=TRADER1|56=BIRZHA|34=5|52={}|98=0|108=30|554=demo", utc_now(0));
    refused.send(&frame(&logon)).await;
    let logout = refused.receive_within(5).await.expect("an answer").expect("a Logout");
    assert_eq!(field(&logout, 35).as_deref(), Some("5"));
    let text = field(&logout, 58).unwrap_or_default();
    assert!(text.contains("Session store unavailable"), "{text}");
    let path = running.dir.path().join("fix/TRADER1.session");
    assert_eq!(std::fs::read(&path).ok(), Some(bytes));
    let mut other = Trader::logon(running.server.address, "TRADER3", 1).await;
    other.order("O1", BUTTER, 2, 1, "6800", "").await;
    other.report("O1", "0").await;
    // The operator moves the file aside: the trader starts afresh, without a restart.
    std::fs::rename(&path, path.with_extension("damaged")).expect("moved aside");
    let mut trader = Trader::logon(running.server.address, "TRADER1", 1).await;
    trader.order("W4", BUTTER, 1, 1, "6800", "").await;
    trader.report("W4", "0").await;
    running.stop().await;
}

/// Regression (a review's): a full-depth MarketDataSnapshotFullRefresh of a book with 400 bid
/// levels has more than 1024 fields (`SessionConfig::fields_max`). It was sent and stored, but
/// a ResendRequest for it got neither the snapshot nor a gap fill (a debug build's session task
/// panicked and the connection dropped; a release build left a hole the trader asked for
/// forever).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_depth_snapshot_of_a_deep_book_is_resent() {
    let running = start(1000).await;
    let address = running.server.address;
    let mut trader = Trader::logon(address, "TRADER1", 1).await;
    for level in 0..400u32 {
        let price = (6130 + level).to_string();
        trader.order(&format!("L{level}"), BUTTER, 1, 1, &price, "").await;
    }
    trader.report("L399", "0").await;
    let mut watcher = Trader::logon(address, "TRADER3", 1).await;
    watcher.send("V", &format!("262=DEEP|263=0|264=0|267=1|269=0|146=1|55={BUTTER}")).await;
    let snapshot = watcher.of_type("W").await;
    assert_eq!(field(&snapshot, 268).as_deref(), Some("400"));
    let seq = field(&snapshot, 34).expect("MsgSeqNum");
    watcher.send("2", &format!("7={seq}|16={seq}")).await;
    let resent = watcher
        .expect(
            |m| {
                field(m, 34).as_deref() == Some(seq.as_str())
                    && field(m, 43).as_deref() == Some("Y")
            },
            "the snapshot resent",
        )
        .await;
    assert_eq!(field(&resent, 35).as_deref(), Some("W"), "the snapshot, not a gap fill");
    running.stop().await;
}

/// A ResendRequest for more than `RESEND_SEQS_PER_CALL` messages (a market data subscriber's
/// day) is answered in pieces, written one after the other: the subscriber gets every number
/// once, in order, resent or gap-filled, and its live messages only after the resend.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resend_longer_than_a_piece_covers_every_number_once_in_order() {
    let running = start(100_000).await;
    let address = running.server.address;
    let mut watcher = Trader::logon(address, "TRADER3", 1).await;
    watcher.send("V", &format!("262=BOOK|263=1|264=0|267=1|269=0|146=1|55={BUTTER}")).await;
    watcher.of_type("W").await;
    let mut trader = Trader::logon(address, "TRADER1", 1).await;
    for n in 0..700u32 {
        trader.order(&format!("L{n}"), BUTTER, 1, 1, &(6130 + n).to_string(), "").await;
        if n % 100 == 99 {
            trader.report(&format!("L{n}"), "0").await;
        }
    }
    for n in 0..700u32 {
        let cancel = format!("11=C{n}|41=L{n}|55={BUTTER}|54=1|60={}", utc_now(0));
        trader.send("F", &cancel).await;
    }
    trader.report("C699", "4").await;
    let last = |m: &[u8]| {
        field(m, 35).as_deref() == Some("X")
            && field(m, 279).as_deref() == Some("2")
            && field(m, 270).as_deref() == Some("6829")
    };
    let last = watcher.expect(last, "the last level's removal").await;
    let end: u64 = field(&last, 34).and_then(|seq| seq.parse().ok()).expect("MsgSeqNum");
    assert!(end > RESEND_SEQS_PER_CALL, "{end} messages: more than one piece");
    watcher.received.clear();
    watcher.send("2", "7=1|16=0").await;
    watcher.send("1", "112=AFTER").await;
    let after = |m: &[u8]| {
        field(m, 35).as_deref() == Some("0") && field(m, 112).as_deref() == Some("AFTER")
    };
    watcher.expect(after, "the heartbeat after the resend").await;
    let mut next = 1;
    for frame in &watcher.received[..watcher.received.len() - 1] {
        let seq: u64 = field(frame, 34).and_then(|seq| seq.parse().ok()).expect("MsgSeqNum");
        assert_eq!(seq, next, "{}", String::from_utf8_lossy(frame).replace('\x01', "|"));
        next = match field(frame, 35).as_deref() {
            Some("4") => field(frame, 36).and_then(|seq| seq.parse().ok()).expect("NewSeqNo"),
            _ => seq + 1,
        };
    }
    assert_eq!(next, end + 1, "the resend ends at the last message sent");
    running.stop().await;
}

/// A PreOpen call on BUTTER with an indicative uncross at 6800 shown to TRADER2's book
/// subscription: returns the watcher, its subscription request, and the two traders whose
/// crossing orders make the indicative (kept logged on: cancel on disconnect), and the
/// indicative's message.
async fn indicative_in_pre_open(running: &Running) -> (Trader, String, [Trader; 2], Vec<u8>) {
    let address = running.server.address;
    running.submit(Input::Admin(Admin::SetPhase(InstrumentId(0), Phase::PreOpen)));
    let mut watcher = Trader::logon(address, "TRADER2", 1).await;
    let subscribe = format!("262=MD|263=1|264=0|265=1|267=2|269=0|269=1|146=1|55={BUTTER}");
    watcher.send("V", &subscribe).await;
    watcher.of_type("W").await;
    let mut seller = Trader::logon(address, "TRADER1", 1).await;
    let mut buyer = Trader::logon(address, "TRADER3", 1).await;
    seller.order("S1", BUTTER, 2, 2, "6800", "").await;
    seller.report("S1", "0").await;
    buyer.order("B1", BUTTER, 1, 2, "6800", "").await;
    buyer.report("B1", "0").await;
    let is_indicative =
        |m: &[u8]| field(m, 35).as_deref() == Some("X") && field(m, 269).as_deref() == Some("4");
    let shown = watcher.expect(is_indicative, "the indicative uncross").await;
    (watcher, subscribe, [seller, buyer], shown)
}

/// The watcher's snapshot of BUTTER after a session status with TradingSessionStatus `status`.
async fn snapshot_after_status(watcher: &mut Trader, subscribe: &str, status: &str) -> String {
    let is_status =
        |m: &[u8]| field(m, 35).as_deref() == Some("h") && field(m, 340).as_deref() == Some(status);
    watcher.expect(is_status, "the session status").await;
    watcher.send("V", &subscribe.replace("262=MD|263=1", "262=MD2|263=0")).await;
    let snapshot = watcher.of_type("W").await;
    String::from_utf8_lossy(&snapshot).replace('\x01', "|")
}

/// Regressions (a review's): the engine published an indicative uncross only when it changed,
/// so the resume call after a halt (which withdrew it) showed none, and a closing call the
/// operator started kept the opening call's 269=4 entry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_shows_its_indicative_uncross_with_its_own_entry_type() {
    let running = start(500).await;
    let (mut watcher, subscribe, _traders, _) = indicative_in_pre_open(&running).await;
    running.submit(Input::Admin(Admin::Halt(InstrumentId(0))));
    running.submit(Input::Admin(Admin::Resume(InstrumentId(0))));
    // The halt's status (340=1) comes first; the resume call's (340=4) after it.
    let text = snapshot_after_status(&mut watcher, &subscribe, "4").await;
    assert!(text.contains("|269=4|270=6800|271=2|"), "the resume call's indicative: {text}");
    running.submit(Input::Admin(Admin::SetPhase(InstrumentId(0), Phase::ClosingCall)));
    let text = snapshot_after_status(&mut watcher, &subscribe, "5").await;
    assert!(text.contains("|269=5|270=6800|271=2|"), "the closing call's indicative: {text}");
    assert!(!text.contains("|269=4|"), "no opening-price entry in the closing call: {text}");
    watcher.validate();
    running.stop().await;
}

/// An all-instrument mass cancel that only one shard journaled (the process died before the
/// other took it) is reported, after the restart's replay, with what that shard cancelled, and
/// holds no watermark back (a review's regression of the hold that keeps a restart replaying
/// every part: it held this shard's watermark below the part for ever).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mass_cancel_part_that_never_completes_is_reported_after_the_replay() {
    use birzha_engine::journal::{JournalOptions, JournalWriter};
    use birzha_engine::{ClOrdId, MassCancelInput};
    let running = start(1000).await;
    let engine = running.engine.as_ref().expect("running").handle();
    let shard = engine.registry().shard_of(InstrumentId(0));
    let dir = running.stop_keeping_data().await;
    // Only this shard journaled the trader's mass cancel of every instrument.
    let options = JournalOptions {
        shard_id: shard as u32,
        durability: Durability::None,
        segment_size_max: birzha_engine::JOURNAL_SEGMENT_BYTES_DEFAULT,
        ..JournalOptions::default()
    };
    let journal = dir.path().join(format!("shard-{shard}/journal"));
    let mut writer = JournalWriter::open(&journal, options).expect("journal");
    let mass_seq = writer.seq_next().unwrap_or(1);
    let cl_ord_id = ClOrdId::new("MC1").expect("id");
    let trader = birzha_book::TraderId(0);
    let mass = MassCancelInput { trader, cl_ord_id, instrument: None, side: None };
    let input = Input::MassCancel(mass);
    let mut payload = Vec::new();
    input.encode(&mut payload);
    let time = 1_795_000_000_000_000_000 + mass_seq;
    writer.append(mass_seq, time, input.kind(), &payload).expect("append");
    writer.commit().expect("commit");
    drop(writer);
    // The snapshots would start the replay after it.
    let _ = std::fs::remove_dir_all(dir.path().join(format!("shard-{shard}/snapshots")));
    let running = start_in(dir, 1000, PhaseConfig::default(), 1 << 24).await;
    for _ in 0..3 {
        running.submit(Input::Admin(Admin::Halt(InstrumentId(0))));
        running.submit(Input::Admin(Admin::Resume(InstrumentId(0))));
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let durable = running.engine.as_ref().expect("running").handle().seq_durable()[shard];
    let watermark = running.watermarks()[shard];
    assert!(watermark >= durable, "watermark {watermark}, durable {durable}, part at {mass_seq}");
    running.stop().await;
}

/// Regression (a review of 2026-11-29): a shard's part of a mass cancel of every instrument
/// held the shard's delivery watermark just below it until the shard's next batch, also after
/// the mass cancel was reported; a shard idle after its part (no order, no tick) stayed held,
/// and a crash then replayed the part and sent the trader a second OrderMassCancelReport
/// counting only that shard's orders.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reported_mass_cancel_frees_the_watermark_of_a_shard_idle_since() {
    let running = start(1000).await;
    let mut trader = Trader::logon(running.server.address, "TRADER1", 1).await;
    trader.order("B1", BUTTER, 1, 1, "6790", "").await;
    trader.report("B1", "0").await;
    trader.order("M1", "MILK-RAW-BYN", 1, 1, "0.94", "").await;
    trader.report("M1", "0").await;
    trader.send("q", &format!("11=ALL|530=7|60={}", utc_now(0))).await;
    let mass = trader.of_type("r").await;
    assert_eq!(field(&mass, 533).as_deref(), Some("2"), "an order of each shard");
    // Nothing after it: both watermarks reach their shard's last input (checkpoints are
    // taken every second).
    let durable = running.engine.as_ref().expect("running").handle().seq_durable();
    let mut watermarks = running.watermarks();
    for _ in 0..50 {
        if watermarks == durable {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        watermarks = running.watermarks();
    }
    assert_eq!(watermarks, durable);
    trader.validate();
    running.stop().await;
}

/// Regression (a review's): a store damaged in place without its time of change moving (a
/// media or file-system error: nothing wrote through the file), restored from a backup that
/// keeps the file's times (`cp -p`, `rsync -a`, `tar x`), had the damaged file's size and time
/// of change, and the server kept refusing the intact file until a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_restored_from_a_backup_keeping_its_times_is_taken_without_a_restart() {
    let (dir, path) = a_store_of_three_reports().await;
    let backup = dir.path().join("TRADER1.session.backup");
    let good = std::fs::read(&path).expect("the store");
    let modified = std::fs::metadata(&path).and_then(|m| m.modified()).expect("mtime");
    // The nightly backup, keeping the file's times (as cp -p or rsync -a do).
    std::fs::copy(&path, &backup).expect("backup");
    let set_time = |file: &std::path::Path| {
        let handle = std::fs::OpenOptions::new().write(true).open(file).expect("open");
        handle.set_modified(modified).expect("set mtime");
    };
    set_time(&backup);
    // The disk damages a byte inside W1's report; nothing wrote through the file.
    let mut bytes = good.clone();
    let first = bytes.windows(5).position(|w| w == b"11=W1").expect("W1's report kept");
    bytes[first + 3] = b'X';
    std::fs::write(&path, &bytes).expect("damaged");
    set_time(&path);
    let running = start_in(dir, 1000, PhaseConfig::default(), 1 << 20).await;
    let logon = || format!("35=A|49=TRADER1|56=BIRZHA|34=5|52={}|98=0|108=30|554=demo", utc_now(0));
    let mut refused = Client::connect(running.server.address).await;
    refused.send(&frame(&logon())).await;
    let logout = refused.receive_within(5).await.expect("an answer").expect("a Logout");
    assert_eq!(field(&logout, 35).as_deref(), Some("5"));
    // The operator restores the file from the backup, keeping its times.
    let path = running.dir.path().join("fix/TRADER1.session");
    let backup = running.dir.path().join("TRADER1.session.backup");
    std::fs::copy(&backup, &path).expect("restored");
    set_time(&path);
    assert_eq!(std::fs::read(&path).expect("restored"), good, "the intact file is back");
    let mut client = Client::connect(running.server.address).await;
    client.send(&frame(&logon())).await;
    let answer = client.receive_within(5).await.expect("an answer").expect("a frame");
    assert_eq!(
        field(&answer, 35).as_deref(),
        Some("A"),
        "the restored, intact store is still refused: {}",
        String::from_utf8_lossy(&answer).replace('\x01', "|")
    );
    running.stop().await;
}
