//! Shared helpers: running the `birzha` binary as a server or a tool, reading its JSON log
//! lines, and a minimal blocking FIX client for the demo traders.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// How long any wait (a log line, a FIX message, an exit) lasts before the test fails.
pub(crate) const WAIT: Duration = Duration::from_secs(20);

/// The admin token of the embedded default config.
pub(crate) const DEMO_TOKEN: &str = "birzha-demo-admin-token";

/// The instrument the tests trade (shard 0 of the default config).
pub(crate) const BUTTER: &str = "BUT82-FCA-USD";

/// Returns a command running the `birzha` binary under test.
pub(crate) fn birzha() -> Command {
    Command::new(env!("CARGO_BIN_EXE_birzha"))
}

/// Runs `birzha ARGS` to completion and returns its output.
pub(crate) fn run(args: &[&str]) -> Output {
    birzha().args(args).output().expect("the birzha binary runs")
}

/// Returns standard output and standard error of `output` as text, for assertions.
pub(crate) fn texts(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The log lines a server printed, shared with the thread that reads them.
#[derive(Default)]
struct Log {
    /// Every JSON line so far.
    lines: Mutex<Vec<Value>>,
    /// Signalled after every line and when standard output closes.
    changed: Condvar,
}

/// A running `birzha serve` on ephemeral ports: the embedded default config with
/// `--listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 --data-dir DIR --log-format json`.
pub(crate) struct Server {
    child: Child,
    log: Arc<Log>,
    reader: Option<JoinHandle<()>>,
    /// The FIX port, from the "accepting FIX connections" line.
    pub(crate) fix: SocketAddr,
    /// The admin port, from the "accepting admin connections" line.
    pub(crate) admin: SocketAddr,
}

impl Server {
    /// Starts the server on `data_dir` and waits until both ports accept.
    pub(crate) fn start(data_dir: &Path) -> Server {
        Server::start_with(data_dir, None)
    }

    /// Starts the server on `data_dir` with the config text `config` (written to
    /// `data_dir/birzha.toml`) instead of the embedded default, and waits until both ports
    /// accept.
    pub(crate) fn start_with(data_dir: &Path, config: Option<&str>) -> Server {
        let mut command = birzha();
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
            .args(["--log-format", "json", "--data-dir"])
            .arg(data_dir);
        if let Some(config) = config {
            let path = data_dir.join("birzha.toml");
            std::fs::write(&path, config).expect("write the config");
            command.arg("--config").arg(path);
        }
        let mut child = command
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("birzha serve starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let log = Arc::new(Log::default());
        let reader = {
            let log = Arc::clone(&log);
            std::thread::spawn(move || read_log(stdout, &log))
        };
        let mut server = Server {
            child,
            log,
            reader: Some(reader),
            fix: SocketAddr::from(([127, 0, 0, 1], 0)),
            admin: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        server.fix = address_of(&server.wait_for("accepting FIX connections", |_| true));
        server.admin = address_of(&server.wait_for("accepting admin connections", |_| true));
        server
    }

    /// Returns the first log line with `message` for which `wanted` holds, waiting for it.
    pub(crate) fn wait_for(&self, message: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + WAIT;
        let mut lines = self.log.lines.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            let found = lines.iter().find(|line| line["message"] == message && wanted(line));
            if let Some(line) = found {
                return line.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "no log line {message:?} within {WAIT:?}; log:\n{lines:#?}");
            lines = self
                .log
                .changed
                .wait_timeout(lines, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Returns every log line once `done` holds for them (the log is read on a thread of its
    /// own, a little behind the server), or after [`WAIT`].
    pub(crate) fn lines_once(&self, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + WAIT;
        let mut lines = self.log.lines.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if done(&lines) || left.is_zero() {
                return lines.clone();
            }
            lines = self
                .log
                .changed
                .wait_timeout(lines, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Returns the server's resident set size (VmRSS), in KiB.
    pub(crate) fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc/PID/status");
        let line = status.lines().find(|line| line.starts_with("VmRSS:")).expect("VmRSS");
        line.split_whitespace().nth(1).and_then(|kib| kib.parse().ok()).expect("a number")
    }

    /// Returns every log line so far.
    pub(crate) fn lines(&self) -> Vec<Value> {
        self.log.lines.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Runs `birzha admin --address PORT ARGS` (the token from the embedded default config).
    pub(crate) fn admin(&self, args: &[&str]) -> Output {
        let address = self.admin.to_string();
        let mut all = vec!["admin", "--address", &address];
        all.extend_from_slice(args);
        run(&all)
    }

    /// Sends SIGTERM and waits for the server to exit; returns its status and every log line.
    pub(crate) fn terminate(mut self) -> (ExitStatus, Vec<Value>) {
        let pid = self.child.id().to_string();
        let signalled = Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
        assert!(signalled.success(), "SIGTERM delivered");
        let status = wait_exit(&mut self.child);
        if let Some(reader) = self.reader.take() {
            reader.join().expect("log reader");
        }
        (status, self.lines())
    }

    /// Kills the server with SIGKILL, a crash with no shutdown at all, and returns every log
    /// line it printed (a line the kill cut short is left out).
    pub(crate) fn kill(mut self) -> Vec<Value> {
        self.child.kill().expect("SIGKILL delivered");
        wait_exit(&mut self.child);
        if let Some(reader) = self.reader.take() {
            reader.join().expect("log reader");
        }
        self.lines()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.reader.is_some() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Waits up to [`WAIT`] for `child` to exit.
pub(crate) fn wait_exit(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server did not exit within {WAIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Reads JSON log lines until standard output closes; non-JSON lines fail the test. A last line
/// without its newline is one a SIGKILL cut short: it is dropped.
fn read_log(stdout: impl Read, log: &Log) {
    let mut reader = BufReader::new(stdout);
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(read) if read > 0 && line.ends_with('\n') => {}
            _ => break,
        }
        let value: Value = serde_json::from_str(line.trim_end())
            .unwrap_or_else(|error| panic!("a log line is not JSON ({error}): {line}"));
        log.lines.lock().unwrap_or_else(PoisonError::into_inner).push(value);
        log.changed.notify_all();
    }
    log.changed.notify_all();
}

/// Returns the address of an "accepting … connections" line (`127.0.0.1:1234` or
/// `Some(127.0.0.1:1234)`).
fn address_of(line: &Value) -> SocketAddr {
    let text = line["address"].as_str().expect("an address field");
    let text = text.strip_prefix("Some(").and_then(|t| t.strip_suffix(')')).unwrap_or(text);
    text.parse().unwrap_or_else(|error| panic!("address {text:?}: {error}"))
}

/// Returns the journal segment files of `shard` in `data_dir`.
pub(crate) fn segments(data_dir: &Path, shard: usize) -> Vec<PathBuf> {
    let dir = data_dir.join(format!("shard-{shard}")).join("journal");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("a journal directory")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "bjl"))
        .collect();
    files.sort();
    files
}

/// The current time as a FIX UTCTimestamp.
pub(crate) fn utc_now() -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970");
    let millis = i64::try_from(now.as_millis()).expect("in range");
    String::from_utf8_lossy(&birzha_fix::UtcTimestamp(millis).format()).into_owned()
}

/// Frames `fields` (`|` stands for SOH) with BeginString, BodyLength and CheckSum.
pub(crate) fn frame(fields: &str) -> Vec<u8> {
    let body = format!("{}\x01", fields.replace('|', "\x01"));
    let mut message = format!("8=FIX.4.4\x019={}\x01{body}", body.len()).into_bytes();
    let sum = birzha_fix::checksum(&message);
    message.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
    message
}

/// Returns the value of `tag` in a FIX frame.
pub(crate) fn field(frame: &[u8], tag: u32) -> Option<String> {
    let prefix = format!("{tag}=");
    frame.split(|&byte| byte == 1).find_map(|field| {
        field.strip_prefix(prefix.as_bytes()).map(|value| String::from_utf8_lossy(value).into())
    })
}

/// A demo trader's FIX session: blocking, numbered, answering test requests.
pub(crate) struct Trader {
    stream: TcpStream,
    buffer: Vec<u8>,
    code: &'static str,
    /// The MsgSeqNum of the next message sent.
    pub(crate) seq: u64,
}

impl Trader {
    /// Connects and logs on with the demo password; resets sequence numbers, so a trader that
    /// logged on before (another run on the same data directory) starts again at 1.
    pub(crate) fn logon(address: SocketAddr, code: &'static str) -> Trader {
        Trader::logon_at(address, code, None)
    }

    /// Logs on again, continuing the session whose next outgoing sequence number is `seq` (as
    /// [`Trader::logout`] returned it), so the server can resend what it stored meanwhile.
    pub(crate) fn resume(address: SocketAddr, code: &'static str, seq: u64) -> Trader {
        Trader::logon_at(address, code, Some(seq))
    }

    fn logon_at(address: SocketAddr, code: &'static str, seq: Option<u64>) -> Trader {
        let stream = TcpStream::connect(address).expect("connect to the FIX port");
        stream.set_read_timeout(Some(Duration::from_millis(200))).expect("timeout");
        let mut trader = Trader { stream, buffer: Vec::new(), code, seq: seq.unwrap_or(1) };
        let reset = if seq.is_none() { "|141=Y" } else { "" };
        trader.send("A", &format!("98=0|108=30{reset}|554=demo"));
        let logon = trader.expect("Logon", |m| field(m, 35).as_deref() == Some("A"));
        assert_eq!(field(&logon, 49).as_deref(), Some("BIRZHA"));
        trader
    }

    /// Sends an application or session message of `msg_type` with `body`.
    pub(crate) fn send(&mut self, msg_type: &str, body: &str) {
        let header =
            format!("35={msg_type}|49={}|56=BIRZHA|34={}|52={}", self.code, self.seq, utc_now());
        self.seq += 1;
        let text = if body.is_empty() { header } else { format!("{header}|{body}") };
        let message = frame(&text);
        self.stream.write_all(&message).expect("send to the FIX port");
    }

    /// Sends a limit order: `side` 1 buy, 2 sell; `extra` more fields (`|59=1` for GTC).
    pub(crate) fn order(&mut self, cl_ord_id: &str, side: u8, lots: u32, price: u32, extra: &str) {
        let body = format!(
            "11={cl_ord_id}|55={BUTTER}|54={side}|60={}|38={lots}|40=2|44={price}{extra}",
            utc_now()
        );
        self.send("D", &body);
    }

    /// Returns the next ExecutionReport for `cl_ord_id` with ExecType `exec_type`.
    pub(crate) fn report(&mut self, cl_ord_id: &str, exec_type: &str) -> Vec<u8> {
        let what = format!("ExecutionReport 11={cl_ord_id} 150={exec_type}");
        self.expect(&what, |m| {
            field(m, 35).as_deref() == Some("8")
                && field(m, 11).as_deref() == Some(cl_ord_id)
                && field(m, 150).as_deref() == Some(exec_type)
        })
    }

    /// Reads messages until one satisfies `wanted`, answering TestRequests on the way.
    pub(crate) fn expect(&mut self, what: &str, wanted: impl Fn(&[u8]) -> bool) -> Vec<u8> {
        let deadline = Instant::now() + WAIT;
        loop {
            assert!(Instant::now() < deadline, "{}: no {what} within {WAIT:?}", self.code);
            let Some(message) = self.receive() else { continue };
            if field(&message, 35).as_deref() == Some("1") {
                let id = field(&message, 112).unwrap_or_default();
                self.send("0", &format!("112={id}"));
            }
            if wanted(&message) {
                return message;
            }
        }
    }

    /// Returns the next whole message, or `None` if none arrived within the read timeout.
    fn receive(&mut self) -> Option<Vec<u8>> {
        loop {
            match birzha_fix::check(&self.buffer, 1 << 20) {
                Ok(Some(length)) => return Some(self.buffer.drain(..length).collect()),
                Ok(None) => {}
                Err(error) => panic!("{}: the server sent a garbled frame: {error}", self.code),
            }
            let mut chunk = [0_u8; 4096];
            match self.stream.read(&mut chunk) {
                Ok(0) => panic!("{}: the server closed the connection", self.code),
                Ok(read) => self.buffer.extend_from_slice(&chunk[..read]),
                Err(error)
                    if matches!(
                        error.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return None;
                }
                Err(error) => panic!("{}: read failed: {error}", self.code),
            }
        }
    }

    /// Logs out, waits for the server's Logout and returns the next outgoing sequence number.
    pub(crate) fn logout(mut self) -> u64 {
        self.send("5", "");
        self.expect("Logout", |m| field(m, 35).as_deref() == Some("5"));
        self.seq
    }
}
