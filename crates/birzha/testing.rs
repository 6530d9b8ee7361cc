//! Test support: a real exchange in-process on 127.0.0.1:0 (engine on a temporary directory
//! without fsync, the exchange application, the FIX acceptor), built from a [`Config`] the way
//! `birzha serve` builds it, so the tools are tested against what they will meet.

use std::sync::Arc;
use std::time::Duration;

use birzha_engine::Engine;
use birzha_gateway::exchange::{Exchange, ExchangeOptions, Login, Watermarks};
use birzha_gateway::{GatewayConfig, Sessions};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::Config;

/// A running exchange.
pub(crate) struct TestExchange {
    /// Where it listens.
    pub(crate) address: std::net::SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
    engine: Option<Engine>,
    dispatcher: Option<std::thread::JoinHandle<()>>,
    _dir: TempDir,
}

impl TestExchange {
    /// Starts an exchange on the config `toml` (durability and volatility interruptions
    /// forced off: load tests send prices across the band).
    pub(crate) async fn start(toml: &str) -> TestExchange {
        let toml = toml
            .replace("durability = \"fsync\"", "durability = \"none\"")
            .replace("volatility_percent = \"3\"", "volatility_percent = \"0\"");
        let config = Config::from_toml(&toml, "test config").expect("a valid config");
        let registry = Arc::new(config.validate().expect("a valid config"));
        let dir = tempfile::tempdir().expect("temp dir");
        let shards = registry.config.shards;
        let watermarks =
            Watermarks::open(&dir.path().join("gateway/watermarks"), shards).expect("marks");
        let (outputs, received) = crossbeam::channel::bounded(4096);
        let (engine, _) =
            Engine::start(Arc::clone(&registry), dir.path(), outputs, watermarks.values())
                .expect("engine");
        let gateway = config.gateway_config();
        let mut settings = GatewayConfig::new(gateway.comp_id.clone());
        settings.auth_backoff_base = Duration::from_millis(1);
        let sessions = Sessions::new(&settings);
        let options = ExchangeOptions {
            logins: gateway
                .traders
                .iter()
                .map(|t| Login { trader: t.code.clone(), password_hash: t.password_hash.clone() })
                .collect(),
            orders_per_second: gateway.orders_per_second,
            cancels_per_second: gateway.cancels_per_second,
            submit_timeout: Duration::from_millis(250),
            commands_max: 65_536,
        };
        let running = Exchange::start(
            registry,
            engine.handle(),
            sessions.clone(),
            received,
            watermarks,
            options,
        )
        .expect("exchange");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let (stop, stopped) = oneshot::channel::<()>();
        let exchange = running.exchange;
        let server = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            let _ = birzha_gateway::run(listener, settings, exchange, sessions, shutdown).await;
        });
        TestExchange {
            address,
            stop: Some(stop),
            server: Some(server),
            engine: Some(engine),
            dispatcher: Some(running.dispatcher),
            _dir: dir,
        }
    }

    /// Stops the acceptor, the engine and the dispatcher.
    pub(crate) async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        let engine = self.engine.take().expect("running");
        let dispatcher = self.dispatcher.take().expect("running");
        tokio::task::spawn_blocking(move || {
            engine.shutdown().expect("engine stops");
            dispatcher.join().expect("dispatcher stops");
        })
        .await
        .expect("shutdown");
    }
}

impl Drop for TestExchange {
    fn drop(&mut self) {
        if let Some(server) = &self.server {
            server.abort();
        }
    }
}

/// A scripted FIX acceptor (no engine). It answers the Logon (with 141=Y when
/// asked) and a Logout, and hands every application message to a script that says what to
/// answer, after what delay. Messages are numbered when written, so there are no gaps.
pub(crate) mod fake {
    use std::collections::HashMap;
    use std::sync::Arc;
    use std::time::Duration;

    use birzha_fix::{
        BEGIN_STRING, Fields, MessageWriter, UtcTimestamp, WriteFields, check, parse,
    };
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::sync::mpsc;

    /// An application message from the client.
    #[derive(Debug, Clone)]
    pub(crate) struct Inbound {
        pub(crate) msg_type: String,
        pub(crate) seq: u64,
        pub(crate) fields: HashMap<u32, String>,
    }

    impl Inbound {
        pub(crate) fn get(&self, tag: u32) -> &str {
            self.fields.get(&tag).map_or("", String::as_str)
        }
    }

    /// What to do.
    #[derive(Debug, Clone)]
    pub(crate) enum Action {
        /// Send `msg_type` with `|`-separated body fields after `delay`.
        Send { delay: Duration, msg_type: String, body: String },
        /// Close the connection after `delay`.
        Close { delay: Duration },
    }

    pub(crate) fn send(delay_ms: u64, msg_type: &str, body: String) -> Action {
        Action::Send { delay: Duration::from_millis(delay_ms), msg_type: msg_type.into(), body }
    }

    /// An ExecutionReport for a NewOrderSingle.
    pub(crate) fn report(order: &Inbound, exec_type: char, status: char, extra: &str) -> String {
        let leaves = if matches!(status, '0' | '1') { order.get(38) } else { "0" };
        format!(
            "37=1{}|11={}|17=E{}|150={exec_type}|39={status}|55={}|54={}|38={}|151={leaves}|14=0|6=0{extra}",
            order.seq,
            order.get(11),
            order.seq,
            order.get(55),
            order.get(54),
            order.get(38),
        )
    }

    pub(crate) type Script = Arc<dyn Fn(&Inbound) -> Vec<Action> + Send + Sync>;

    /// Starts the acceptor; returns its address.
    pub(crate) async fn start(script: Script) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, Arc::clone(&script)));
            }
        });
        address
    }

    fn now() -> UtcTimestamp {
        let elapsed =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        UtcTimestamp(elapsed.as_millis() as i64)
    }

    /// What the writer task is given: a message (type and body), or `None` to close.
    type Outgoing = mpsc::UnboundedSender<Option<(String, String)>>;

    async fn serve(stream: tokio::net::TcpStream, script: Script) {
        let (mut reader, writer) = stream.into_split();
        let (out, outgoing) = mpsc::unbounded_channel::<Option<(String, String)>>();
        let trader = Arc::new(std::sync::Mutex::new(String::new()));
        tokio::spawn(write_all(writer, outgoing, Arc::clone(&trader)));
        let mut buffer = Vec::new();
        let mut fields = Fields::default();
        let mut chunk = [0u8; 65536];
        loop {
            while let Ok(Some(length)) = check(&buffer, 1 << 20) {
                let frame: Vec<u8> = buffer.drain(..length).collect();
                let Ok(view) = parse(&frame, &mut fields) else { continue };
                let mut map = HashMap::new();
                for field in view.fields() {
                    map.insert(field.tag, String::from_utf8_lossy(view.value(field)).into_owned());
                }
                let msg_type = String::from_utf8_lossy(view.msg_type()).into_owned();
                let seq = view.msg_seq_num().unwrap_or(0);
                answer(&Inbound { msg_type, seq, fields: map }, &script, &out, &trader).await;
            }
            match reader.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Numbers and writes what it is given, in order, until told to close.
    async fn write_all(
        mut writer: tokio::net::tcp::OwnedWriteHalf,
        mut outgoing: mpsc::UnboundedReceiver<Option<(String, String)>>,
        trader: Arc<std::sync::Mutex<String>>,
    ) {
        let mut seq = 1u64;
        while let Some(Some((msg_type, body))) = outgoing.recv().await {
            let mut bytes = Vec::new();
            let target = trader.lock().expect("lock").clone();
            let mut w = MessageWriter::begin(&mut bytes, BEGIN_STRING, msg_type.as_bytes());
            w.uint(34, seq).str(49, b"BIRZHA").timestamp(52, now()).str(56, target.as_bytes());
            let body = body.replace('|', "\x01");
            if !body.is_empty() {
                w.raw(format!("{body}\x01").as_bytes());
            }
            w.finish();
            seq += 1;
            if writer.write_all(&bytes).await.is_err() {
                break;
            }
        }
        let _ = writer.shutdown().await;
    }

    /// Answers one message: the Logon and Logout itself, application messages by the script.
    async fn answer(
        inbound: &Inbound,
        script: &Script,
        out: &Outgoing,
        trader: &std::sync::Mutex<String>,
    ) {
        match inbound.msg_type.as_str() {
            "A" => {
                *trader.lock().expect("lock") = inbound.get(49).to_owned();
                let reset = if inbound.get(141) == "Y" { "|141=Y" } else { "" };
                let body = format!("98=0|108={}{reset}", inbound.get(108));
                let _ = out.send(Some(("A".into(), body)));
            }
            "5" => {
                let _ = out.send(Some(("5".into(), String::new())));
                let _ = out.send(None);
            }
            "0" | "1" | "2" | "4" => {}
            _ => {
                let actions = script(inbound);
                let immediate = actions.iter().all(|action| match action {
                    Action::Send { delay, .. } | Action::Close { delay } => delay.is_zero(),
                });
                let out = out.clone();
                let run = async move {
                    for action in actions {
                        let (delay, message) = match action {
                            Action::Send { delay, msg_type, body } => {
                                (delay, Some((msg_type, body)))
                            }
                            Action::Close { delay } => (delay, None),
                        };
                        if !delay.is_zero() {
                            tokio::time::sleep(delay).await;
                        }
                        let _ = out.send(message);
                    }
                };
                // Undelayed answers are sent at once, in the order of the requests.
                if immediate {
                    run.await;
                } else {
                    tokio::spawn(run);
                }
            }
        }
    }
}
