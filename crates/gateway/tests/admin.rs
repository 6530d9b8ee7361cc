//! The admin port against a real engine (journal in a temporary directory), without the FIX
//! side: commands become engine inputs and their outputs come back on the engine's output
//! channel, which the tests read directly. Raw sockets check the protocol's guarantees: a wrong
//! token is refused and the connection closed, over-long lines, surplus connections and idle
//! connections are cut, and shutdown ends the port.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use birzha_book::{InstrumentSpec, SelfMatchMode};
use birzha_engine::journal::Durability;
use birzha_engine::{
    BatchKind, CancelOnDisconnect, Engine, EngineConfig, FirmConfig, InstrumentConfig, OutputBatch,
    OutputEvent, Phase, Registry, TraderConfig,
};
use birzha_gateway::admin::{self, AdminConfig, AdminReply, AdminRequest};
use birzha_gateway::{GatewayConfig, Sessions};
use crossbeam::channel::Receiver;
use rust_decimal::Decimal;
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const TOKEN: &str = "admin-test-token-0123456789";

fn engine_config() -> EngineConfig {
    let spec = InstrumentSpec {
        symbol: "BUT82-FCA-USD".into(),
        description: "butter".into(),
        unit: "t".into(),
        currency: "USD".into(),
        lot_size: Decimal::from(5),
        tick: Decimal::ONE,
        reference_price: Decimal::from(6800),
        band_percent: Decimal::from(10),
        price_floor: None,
        price_cap: None,
        max_order_lots: 1000,
        orders_max: 1024,
    };
    let firm = FirmConfig {
        code: "FIRM-A".into(),
        name: "Firm A".into(),
        deposits: BTreeMap::from([("USD".to_owned(), Decimal::from(1_000_000))]),
        suspended: false,
    };
    EngineConfig {
        instruments: vec![InstrumentConfig { spec, deposit_ratio: "0.05".parse().expect("ok") }],
        firms: vec![firm],
        traders: vec![TraderConfig {
            code: "TRADER1".into(),
            firm: "FIRM-A".into(),
            self_match: SelfMatchMode::CancelResting,
            cancel_on_disconnect: CancelOnDisconnect::Day,
        }],
        shards: 1,
        durability: Durability::None,
        snapshot_every_inputs: 100_000,
        input_queue_capacity: 64,
        batch_inputs_max: 16,
        journal_segment_bytes: birzha_engine::JOURNAL_SEGMENT_BYTES_DEFAULT,
        phases: birzha_engine::PhaseConfig::default(),
    }
}

/// A running engine with its admin port.
struct Port {
    address: SocketAddr,
    outputs: Receiver<OutputBatch>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    engine: Option<Engine>,
    _dir: TempDir,
}

async fn start(connections_max: usize) -> Port {
    let dir = tempfile::tempdir().expect("temp dir");
    let registry: Arc<Registry> = Arc::new(engine_config().validate().expect("valid config"));
    let (sender, outputs) = crossbeam::channel::bounded(1024);
    let (engine, _) =
        Engine::start(registry, dir.path(), sender, &[u64::MAX]).expect("engine starts");
    let sessions = Sessions::new(&GatewayConfig::new("BIRZHA"));
    let mut config = AdminConfig::new(TOKEN);
    config.connections_max = connections_max;
    config.idle_timeout = Duration::from_millis(300);
    config.refusal_delay = Duration::from_millis(10);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let (stop, stopped) = oneshot::channel::<()>();
    let handle = engine.handle();
    let task = tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        admin::run(listener, config, handle, sessions, shutdown).await.expect("admin port");
    });
    Port { address, outputs, stop: Some(stop), task, engine: Some(engine), _dir: dir }
}

impl Port {
    /// Sends one request with the blocking client, as `birzha admin` does.
    async fn request(&self, request: AdminRequest) -> AdminReply {
        let address = self.address;
        tokio::task::spawn_blocking(move || {
            admin::request(address, TOKEN, &request, Duration::from_secs(5)).expect("a reply")
        })
        .await
        .expect("client thread")
    }

    /// Returns the next engine output event that is not a book image, waiting up to 5 s.
    fn next_event(&self) -> OutputEvent {
        loop {
            let batch =
                self.outputs.recv_timeout(Duration::from_secs(5)).expect("an engine output");
            if let Some(output) = batch.outputs.first()
                && batch.kind == BatchKind::Live
            {
                return output.event;
            }
        }
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(5), &mut self.task)
            .await
            .expect("the port stops on shutdown")
            .expect("the port's task");
        let engine = self.engine.take().expect("running");
        tokio::task::spawn_blocking(move || engine.shutdown().expect("engine stops"))
            .await
            .expect("engine thread");
    }
}

/// Returns the value of the `key=value` word of a stats reply.
fn word<'a>(stats: &'a str, key: &str) -> &'a str {
    let word = stats.split(' ').find(|word| word.starts_with(key));
    word.map_or("", |word| &word[key.len()..])
}

/// Writes `line` on a raw connection and returns what comes back until the server closes (or
/// 5 s pass), as lines.
async fn exchange_raw(stream: &mut TcpStream, line: &[u8]) -> Vec<String> {
    stream.write_all(line).await.expect("write");
    read_until_closed(stream).await
}

async fn read_until_closed(stream: &mut TcpStream) -> Vec<String> {
    let mut lines = Vec::new();
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        let read = tokio::time::timeout(Duration::from_secs(5), reader.read_line(&mut line))
            .await
            .expect("the server closes the connection");
        match read {
            Ok(0) | Err(_) => return lines,
            Ok(_) => lines.push(line),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_become_engine_inputs() {
    let port = start(4).await;
    let halt = port.request(AdminRequest::Halt { symbol: "BUT82-FCA-USD".into() }).await;
    assert_eq!(
        halt,
        AdminReply { ok: true, text: "halt BUT82-FCA-USD: queued for shard 0".into() }
    );
    let OutputEvent::Phase(change) = port.next_event() else { panic!("a phase change") };
    assert_eq!((change.from, change.to), (Phase::Continuous, Phase::Halted));
    let deposit = AdminRequest::Deposit {
        firm: "FIRM-A".into(),
        currency: "USD".into(),
        amount: "-1000.5".parse().expect("decimal"),
    };
    assert!(port.request(deposit).await.ok);
    let OutputEvent::Deposit(change) = port.next_event() else { panic!("a deposit change") };
    assert_eq!((change.amount_micros, change.applied), (-1_000_500_000, true));
    assert_eq!(change.free_micros, 998_999_500_000);
    // Regression (a review of 2026-11-29): a refused debit reported an amount of 0, and the
    // operator's log lost what was asked.
    let too_much = AdminRequest::Deposit {
        firm: "FIRM-A".into(),
        currency: "USD".into(),
        amount: "-999999999999".parse().expect("decimal"),
    };
    assert!(port.request(too_much).await.ok, "queued");
    let OutputEvent::Deposit(change) = port.next_event() else { panic!("a deposit change") };
    assert_eq!((change.amount_micros, change.applied), (-999_999_999_999_000_000, false));
    assert_eq!(change.free_micros, 998_999_500_000, "unchanged");
    let stats = port.request(AdminRequest::Stats).await;
    assert!(stats.ok, "{stats:?}");
    // The journal holds the two commands, and perhaps the engine's own ticks.
    let journal_seq = word(&stats.text, "journal_seq=").parse::<u64>().expect("one shard");
    assert!(journal_seq >= 2, "{}", stats.text);
    assert_eq!(word(&stats.text, "queued="), "0");
    assert_eq!(word(&stats.text, "logged_on="), "-");
    // This request's connection, and perhaps the last one's, which the server may not have
    // released yet: each request opens its own.
    let connections = word(&stats.text, "admin_connections=");
    assert!(connections == "1" || connections == "2", "{}", stats.text);
    assert_eq!(word(&stats.text, "journal_faulted="), "0");
    let unknown = port.request(AdminRequest::Suspend { firm: "FIRM-Z".into() }).await;
    assert_eq!(unknown, AdminReply { ok: false, text: "unknown firm `FIRM-Z`".into() });
    let currency = AdminRequest::Deposit {
        firm: "FIRM-A".into(),
        currency: "EUR".into(),
        amount: Decimal::ONE,
    };
    let refused = port.request(currency).await;
    assert_eq!(refused.text, "unknown currency `EUR`: no instrument trades in it");
    port.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_is_refused_and_the_connection_closed() {
    let port = start(4).await;
    let mut stream = TcpStream::connect(port.address).await.expect("connect");
    let lines =
        exchange_raw(&mut stream, b"admin-test-token-012345678X halt BUT82-FCA-USD\n").await;
    assert_eq!(lines, ["error unauthorized: wrong token\n"]);
    let mut stream = TcpStream::connect(port.address).await.expect("connect");
    let lines = exchange_raw(&mut stream, b"\n").await;
    assert_eq!(lines, ["error unauthorized: wrong token\n"], "an empty line has no token");
    let reached = port.outputs.recv_timeout(Duration::from_millis(200));
    assert!(
        reached.iter().all(|batch| batch.kind != BatchKind::Live || batch.outputs.is_empty()),
        "nothing reached the engine: {reached:?}"
    );
    port.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_lines_surplus_and_idle_connections_are_cut() {
    let port = start(1).await;
    let mut long = format!("{TOKEN} halt ").into_bytes();
    long.resize(admin::LINE_LENGTH_MAX + 10, b'X');
    long.push(b'\n');
    let mut stream = TcpStream::connect(port.address).await.expect("connect");
    let lines = exchange_raw(&mut stream, &long).await;
    assert_eq!(lines, ["error request longer than 1024 bytes\n"]);

    let mut holder = TcpStream::connect(port.address).await.expect("connect");
    holder.write_all(format!("{TOKEN} stats\n").as_bytes()).await.expect("write");
    let mut first = String::new();
    BufReader::new(&mut holder).read_line(&mut first).await.expect("stats reply");
    assert!(first.starts_with("ok uptime_s="), "{first}");
    let mut surplus = TcpStream::connect(port.address).await.expect("connect");
    assert_eq!(read_until_closed(&mut surplus).await, ["error busy: too many admin connections\n"]);
    // The holder says nothing more: the idle timeout (300 ms here) closes it.
    assert_eq!(read_until_closed(&mut holder).await, Vec::<String>::new());
    port.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_requests_share_a_connection_and_bad_ones_are_explained() {
    let port = start(2).await;
    let mut stream = TcpStream::connect(port.address).await.expect("connect");
    let requests = format!(
        "{TOKEN} phase BUT82-FCA-USD lunch\n{TOKEN} HALT\n{TOKEN} cancel-all NO-SUCH\n\
         {TOKEN} cancel-all\n"
    );
    stream.write_all(requests.as_bytes()).await.expect("write");
    stream.shutdown().await.expect("half close");
    let lines = read_until_closed(&mut stream).await;
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert!(lines[0].starts_with("error unknown phase `lunch`; expected one of: Closed, "));
    assert_eq!(lines[1], "error `halt` takes 1 argument, got 0 argument(s)\n");
    assert_eq!(lines[2], "error unknown symbol `NO-SUCH`\n");
    assert_eq!(lines[3], "ok cancel-all: queued for every shard\n");
    port.stop().await;
}
