//! A FIX client that keeps its session across server crashes: it numbers what it sends, checks
//! the numbers of what it receives, asks for what it missed with a ResendRequest, answers the
//! server's ResendRequest with a gap fill, and records every ExecutionReport once (by ExecID).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::util::{BUTTER, WAIT, field, frame, utc_now};

/// An order as the client sent it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Order {
    /// 1 buy, 2 sell.
    pub(crate) side: u8,
    pub(crate) price: i64,
    pub(crate) lots: u64,
}

/// One ExecutionReport, the first time its ExecID arrived.
#[derive(Clone, Debug)]
pub(crate) struct Report {
    pub(crate) exec_id: String,
    pub(crate) order_id: String,
    pub(crate) cl_ord_id: String,
    /// ExecType (150).
    pub(crate) exec_type: u8,
    /// OrdStatus (39).
    pub(crate) status: u8,
    pub(crate) side: u8,
    pub(crate) price: i64,
    pub(crate) lots: u64,
    pub(crate) last_lots: u64,
    pub(crate) last_price: i64,
    pub(crate) leaves: u64,
    /// TrdMatchID (527) of a fill.
    pub(crate) trade_id: Option<String>,
}

/// The connection is gone (the server was killed).
#[derive(Debug)]
pub(crate) struct Closed;

/// A demo trader's FIX session that outlives connections. See the module documentation.
pub(crate) struct Client {
    pub(crate) code: &'static str,
    stream: Option<TcpStream>,
    buffer: Vec<u8>,
    /// MsgSeqNum of the next message we send.
    seq_next: u64,
    /// MsgSeqNum we expect next from the server.
    expected: u64,
    /// The highest MsgSeqNum received.
    seen_max: u64,
    /// The MsgSeqNum of our Logon on this connection: what we sent before it was to a server
    /// that has died, what we send after it the server queues until our gap fill.
    logon_seq: u64,
    /// Whether we asked to log out, so that the server's Logout is expected.
    logging_out: bool,
    /// Whether the server answered our Logon on this connection.
    logged_on: bool,
    /// While our ResendRequest is outstanding: the highest number seen when we sent it.
    resend_through: Option<u64>,
    /// ClOrdIDs used so far; the next is `<code>-<counter>`.
    counter: u64,
    /// Every order sent, by ClOrdID.
    pub(crate) orders: BTreeMap<String, Order>,
    /// Every cancel request sent: its ClOrdID and the ClOrdID of the order it cancels.
    pub(crate) cancels: BTreeMap<String, String>,
    /// Orders that may still rest, as far as this client knows: sent and not known finished.
    pub(crate) working: BTreeMap<String, Order>,
    /// Orders with a cancel request sent and not answered.
    pub(crate) cancelling: BTreeSet<String>,
    /// ClOrdIDs of the orders the server acknowledged (ExecType New), by OrderID.
    pub(crate) acknowledged: BTreeMap<String, String>,
    /// Every ExecutionReport, once each, in order of arrival.
    pub(crate) reports: Vec<Report>,
    exec_ids: BTreeSet<String>,
    /// TestReqIDs the server has answered.
    heartbeats: BTreeSet<String>,
    /// Market-data snapshots (W) by MDReqID.
    pub(crate) snapshots: BTreeMap<String, Vec<u8>>,
    /// Whatever broke the rules: a number too low, a duplicate ExecID, an unknown ClOrdID.
    pub(crate) faults: Vec<String>,
}

impl Client {
    /// A client that has not logged on yet.
    pub(crate) fn new(code: &'static str) -> Client {
        Client {
            code,
            stream: None,
            buffer: Vec::new(),
            seq_next: 1,
            expected: 1,
            seen_max: 0,
            logged_on: false,
            logon_seq: 1,
            logging_out: false,
            resend_through: None,
            counter: 0,
            orders: BTreeMap::new(),
            cancels: BTreeMap::new(),
            working: BTreeMap::new(),
            cancelling: BTreeSet::new(),
            acknowledged: BTreeMap::new(),
            reports: Vec::new(),
            exec_ids: BTreeSet::new(),
            heartbeats: BTreeSet::new(),
            snapshots: BTreeMap::new(),
            faults: Vec::new(),
        }
    }

    /// Connects and logs on: the first time with ResetSeqNumFlag, afterwards continuing the
    /// sequence numbers, so that the server resends what this client missed.
    pub(crate) fn logon(&mut self, address: SocketAddr) {
        let stream = TcpStream::connect(address).expect("connect to the FIX port");
        self.stream = Some(stream);
        self.buffer.clear();
        self.resend_through = None;
        self.logged_on = false;
        self.logon_seq = self.seq_next;
        let reset = if self.seq_next == 1 { "|141=Y" } else { "" };
        self.send("A", &format!("98=0|108=30{reset}|554=demo")).expect("send the Logon");
        let deadline = Instant::now() + WAIT;
        while !self.logged_on {
            assert!(Instant::now() < deadline, "{}: no Logon within {WAIT:?}", self.code);
            self.pump(Duration::from_millis(50)).expect("the Logon is answered");
        }
    }

    /// Waits until the server has answered a TestRequest and no gap is left: everything the
    /// server had sent before it answered has been received, resent or gap-filled.
    pub(crate) fn sync(&mut self) {
        self.counter += 1;
        let id = format!("SYNC-{}", self.counter);
        self.send("1", &format!("112={id}")).expect("send a TestRequest");
        let deadline = Instant::now() + WAIT;
        while !self.heartbeats.contains(&id) || self.expected <= self.seen_max {
            assert!(Instant::now() < deadline, "{}: not in sync within {WAIT:?}", self.code);
            self.pump(Duration::from_millis(20)).expect("the session stays up");
        }
    }

    /// Requests a snapshot of the whole book of [`BUTTER`] and returns it once in sync.
    pub(crate) fn depth(&mut self) -> Vec<u8> {
        self.counter += 1;
        let id = format!("MD-{}", self.counter);
        let body = format!("262={id}|263=0|264=0|267=2|269=0|269=1|146=1|55={BUTTER}");
        self.send("V", &body).expect("send a MarketDataRequest");
        let deadline = Instant::now() + WAIT;
        loop {
            self.sync();
            if let Some(snapshot) = self.snapshots.remove(&id) {
                return snapshot;
            }
            assert!(Instant::now() < deadline, "{}: no snapshot within {WAIT:?}", self.code);
        }
    }

    /// Sends a limit order and remembers it as working.
    pub(crate) fn order(&mut self, order: Order, good_till_cancel: bool) -> Result<(), Closed> {
        self.counter += 1;
        let cl_ord_id = format!("{}-{}", self.code, self.counter);
        let tif = if good_till_cancel { "|59=1" } else { "" };
        let body = format!(
            "11={cl_ord_id}|55={BUTTER}|54={}|60={}|38={}|40=2|44={}{tif}",
            order.side,
            utc_now(),
            order.lots,
            order.price
        );
        self.orders.insert(cl_ord_id.clone(), order);
        self.working.insert(cl_ord_id, order);
        self.send("D", &body)
    }

    /// Sends a cancel of the order `original`.
    pub(crate) fn cancel(&mut self, original: &str) -> Result<(), Closed> {
        self.counter += 1;
        let cl_ord_id = format!("{}-{}", self.code, self.counter);
        let side = self.orders[original].side;
        let body = format!("11={cl_ord_id}|41={original}|55={BUTTER}|54={side}|60={}", utc_now());
        self.cancels.insert(cl_ord_id, original.to_owned());
        self.cancelling.insert(original.to_owned());
        self.send("F", &body)
    }

    /// Logs out and waits for the server's Logout.
    pub(crate) fn logout(&mut self) {
        self.logging_out = true;
        self.send("5", "").expect("send a Logout");
        let deadline = Instant::now() + WAIT;
        while self.stream.is_some() {
            assert!(Instant::now() < deadline, "{}: no Logout within {WAIT:?}", self.code);
            let _ = self.pump(Duration::from_millis(50));
        }
    }

    /// The orders sent and not answered yet.
    pub(crate) fn unanswered(&self) -> usize {
        let answered: BTreeSet<&String> = self.acknowledged.values().collect();
        self.working.keys().filter(|cl_ord_id| !answered.contains(cl_ord_id)).count()
    }

    /// Forgets the requests the server never answered (in flight at a crash and lost), once
    /// the session is in sync again: they will never be answered. Returns how many orders.
    pub(crate) fn forget_unanswered(&mut self) -> usize {
        let answered: BTreeSet<&String> = self.acknowledged.values().collect();
        let before = self.working.len();
        self.working.retain(|cl_ord_id, _| answered.contains(cl_ord_id));
        self.cancelling.clear();
        before - self.working.len()
    }

    /// Reads and handles messages until `timeout` passes; fails if the connection is gone.
    pub(crate) fn pump(&mut self, timeout: Duration) -> Result<(), Closed> {
        let deadline = Instant::now() + timeout;
        loop {
            while let Some(length) = self.frame_length() {
                let message: Vec<u8> = self.buffer.drain(..length).collect();
                self.receive(&message)?;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(());
            }
            self.read(left)?;
        }
    }

    fn frame_length(&self) -> Option<usize> {
        match birzha_fix::check(&self.buffer, 1 << 20) {
            Ok(length) => length,
            Err(error) => panic!("{}: the server sent a garbled frame: {error}", self.code),
        }
    }

    fn read(&mut self, timeout: Duration) -> Result<(), Closed> {
        let stream = self.stream.as_mut().ok_or(Closed)?;
        stream.set_read_timeout(Some(timeout.max(Duration::from_millis(1)))).map_err(|_| Closed)?;
        let mut chunk = [0_u8; 16 * 1024];
        match stream.read(&mut chunk) {
            Ok(0) => Err(self.close()),
            Ok(read) => {
                self.buffer.extend_from_slice(&chunk[..read]);
                Ok(())
            }
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                Ok(())
            }
            Err(_) => Err(self.close()),
        }
    }

    fn close(&mut self) -> Closed {
        self.stream = None;
        Closed
    }

    /// Sends a message numbered `seq_next`.
    fn send(&mut self, msg_type: &str, body: &str) -> Result<(), Closed> {
        let seq = self.seq_next;
        self.seq_next += 1;
        let header = format!("35={msg_type}|49={}|56=BIRZHA|34={seq}|52={}", self.code, utc_now());
        if body.is_empty() { self.write(&header) } else { self.write(&format!("{header}|{body}")) }
    }

    fn write(&mut self, text: &str) -> Result<(), Closed> {
        let message = frame(text);
        let stream = self.stream.as_mut().ok_or(Closed)?;
        match stream.write_all(&message) {
            Ok(()) => Ok(()),
            Err(_) => Err(self.close()),
        }
    }

    /// Handles one message: session rules first, then its content if it is the next in order.
    fn receive(&mut self, message: &[u8]) -> Result<(), Closed> {
        let msg_type = field(message, 35).unwrap_or_default();
        let seq: u64 = field(message, 34).and_then(|seq| seq.parse().ok()).unwrap_or(0);
        let poss_dup = field(message, 43).as_deref() == Some("Y");
        self.seen_max = self.seen_max.max(seq);
        // Acted on whatever their number, as the server does.
        match msg_type.as_str() {
            "2" => self.gap_fill(message)?,
            "1" => self.send("0", &format!("112={}", field(message, 112).unwrap_or_default()))?,
            "0" => {
                self.heartbeats.insert(field(message, 112).unwrap_or_default());
            }
            "A" => self.logged_on = true,
            "5" => {
                // A killed server sends nothing; a Logout means the session broke a rule.
                if !self.logging_out {
                    let text = field(message, 58).unwrap_or_default();
                    self.faults.push(format!("{}: Logout: {text}", self.code));
                }
                return Err(self.close());
            }
            "4" if field(message, 123).as_deref() != Some("Y") => {
                self.expected = field(message, 36).and_then(|n| n.parse().ok()).unwrap_or(0);
                return Ok(());
            }
            _ => {}
        }
        if seq < self.expected {
            if !poss_dup {
                self.faults.push(format!("{}: MsgSeqNum {seq} below {}", self.code, self.expected));
            }
            return Ok(());
        }
        if seq > self.expected {
            return self.ask_resend();
        }
        self.expected += 1;
        self.application(message, &msg_type);
        if msg_type == "4" {
            self.expected = field(message, 36).and_then(|n| n.parse().ok()).unwrap_or(0);
        }
        if self.expected <= self.seen_max { self.ask_resend() } else { Ok(()) }
    }

    /// Sends a ResendRequest for everything from the expected number, unless one is
    /// outstanding (its answer has not yet passed the number that made us send it).
    fn ask_resend(&mut self) -> Result<(), Closed> {
        if self.resend_through.is_some_and(|through| self.expected <= through) {
            return Ok(());
        }
        self.resend_through = Some(self.seen_max);
        self.send("2", &format!("7={}|16=0", self.expected))
    }

    /// Answers the server's ResendRequest with one SequenceReset-GapFill up to our Logon:
    /// requests sent before a crash and never answered are not sent again (they were in
    /// flight, and are lost), while what we sent after the Logon is queued by the server and
    /// processed once the gap is filled.
    fn gap_fill(&mut self, message: &[u8]) -> Result<(), Closed> {
        let begin: u64 = field(message, 7).and_then(|seq| seq.parse().ok()).unwrap_or(0);
        if begin == 0 || begin >= self.logon_seq {
            return Ok(());
        }
        let text = format!(
            "35=4|49={}|56=BIRZHA|34={begin}|43=Y|52={now}|122={now}|123=Y|36={}",
            self.code,
            self.logon_seq,
            now = utc_now()
        );
        self.write(&text)
    }

    fn application(&mut self, message: &[u8], msg_type: &str) {
        match msg_type {
            "8" => self.execution_report(message),
            "9" => {
                self.cancelling.remove(&field(message, 41).unwrap_or_default());
            }
            "W" => {
                self.snapshots.insert(field(message, 262).unwrap_or_default(), message.to_vec());
            }
            "3" | "j" => self.faults.push(format!(
                "{}: rejected: {}",
                self.code,
                String::from_utf8_lossy(message).replace('\x01', "|")
            )),
            _ => {}
        }
    }

    fn execution_report(&mut self, message: &[u8]) {
        let report = parse_report(message);
        let resent = field(message, 43).as_deref() == Some("Y")
            || field(message, 97).as_deref() == Some("Y");
        if !self.exec_ids.insert(report.exec_id.clone()) {
            if !resent {
                self.faults.push(format!("{}: ExecID {} twice as new", self.code, report.exec_id));
            }
            return;
        }
        let sent = self.orders.contains_key(&report.cl_ord_id)
            || self.cancels.contains_key(&report.cl_ord_id);
        if !sent {
            self.faults.push(format!("{}: report for unsent {}", self.code, report.cl_ord_id));
        }
        self.track(&report);
        self.reports.push(report);
    }

    /// Keeps `acknowledged`, `working` and `cancelling` up to date with `report`.
    fn track(&mut self, report: &Report) {
        if report.exec_type == b'0' {
            self.acknowledged.insert(report.order_id.clone(), report.cl_ord_id.clone());
        }
        let order = match self.acknowledged.get(&report.order_id) {
            Some(cl_ord_id) => cl_ord_id.clone(),
            None => report.cl_ord_id.clone(),
        };
        if matches!(report.status, b'2' | b'4' | b'8' | b'C') {
            self.working.remove(&order);
            self.cancelling.remove(&order);
        }
    }
}

/// Parses the fields of an ExecutionReport the harness uses.
fn parse_report(message: &[u8]) -> Report {
    let text = |tag| field(message, tag).unwrap_or_default();
    let number = |tag| field(message, tag).and_then(|value| value.parse().ok()).unwrap_or(0);
    let byte = |tag| text(tag).bytes().next().unwrap_or(b'?');
    Report {
        exec_id: text(17),
        order_id: text(37),
        cl_ord_id: text(11),
        exec_type: byte(150),
        status: byte(39),
        side: byte(54) - b'0',
        price: field(message, 44).and_then(|value| value.parse().ok()).unwrap_or(0),
        lots: number(38),
        last_lots: number(32),
        last_price: field(message, 31).and_then(|value| value.parse().ok()).unwrap_or(0),
        leaves: number(151),
        trade_id: field(message, 527),
    }
}
