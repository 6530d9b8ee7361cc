//! The initiator's session layer as a pure state machine: sequence numbers, admin messages and
//! gap recovery. No I/O and no clock: the owner passes frames in, the time as an input, and
//! writes out whatever the session appended to its output buffer.
//!
//! # Outbound
//! Every message gets the header 8, 9, 35, 34, 49, 52, 56 (ascending tags after 35, as the
//! exchange writes them) and the next outbound MsgSeqNum. The client keeps no store of what it
//! sent, so a ResendRequest from the exchange is answered with one SequenceReset-GapFill
//! (43=Y, 122, 123=Y, 36 = the next number) over the whole range: a stale order is never
//! re-sent, which FIX allows and a trader wants.
//!
//! # Inbound
//! - Logout (5) and ResendRequest (2) are acted on whatever their MsgSeqNum; SequenceReset in
//!   reset mode (123 absent or N) sets the expected number; a TestRequest (1) is answered with a
//!   Heartbeat echoing 112 at once.
//! - Otherwise a message numbered as expected is processed, and then any queued messages that
//!   follow it. One numbered higher starts gap recovery: the message is queued (at most
//!   `queue_max`), and one ResendRequest (7 = expected, 16 = 0) is sent for the gap; the
//!   exchange resends the missing messages with PossDupFlag, or gap-fills admin messages.
//! - One numbered lower is ignored if it has PossDupFlag (it was seen already) and is a
//!   [`ClientError::SequenceTooLow`] otherwise.
//! - When the client does not know what to expect (first logon without saved numbers), the
//!   exchange's Logon sets the expected number.

use std::collections::BTreeMap;

use birzha_fix::{
    BEGIN_STRING, Body, Fields, MessageView, MessageWriter, UtcTimestamp, WriteFields, parse,
};
use tracing::{debug, warn};

use crate::{ClientError, Event, Request};

/// What the owner must do after an inbound frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Flow {
    /// Keep going.
    Continue,
    /// The exchange sent a Logout (with its Text): the session is over.
    LoggedOut(Option<String>),
}

/// The Logon's settings.
#[derive(Debug, Clone)]
pub(crate) struct Logon<'a> {
    /// HeartBtInt (108), seconds.
    pub(crate) heartbeat_secs: u32,
    /// Password (554).
    pub(crate) password: Option<&'a str>,
    /// ResetSeqNumFlag (141) = Y: both sides start again from 1.
    pub(crate) reset: bool,
}

/// One initiator session. See the module documentation.
#[derive(Debug)]
pub(crate) struct Session {
    /// SenderCompID (49) of what we send: the trader.
    sender_comp_id: String,
    /// TargetCompID (56) of what we send: the exchange.
    target_comp_id: String,
    /// MsgSeqNum of the next message we send.
    sender_seq_next: u64,
    /// MsgSeqNum expected of the next message received; `None` until the exchange's Logon
    /// sets it, when the client starts without saved numbers.
    target_seq_next: Option<u64>,
    /// Messages received above the expected number, by MsgSeqNum, while a gap is filled.
    queue: BTreeMap<u64, Vec<u8>>,
    /// The most messages `queue` holds.
    queue_max: usize,
    /// The highest MsgSeqNum seen when our outstanding ResendRequest was sent: no second
    /// request is sent until the gap up to it is filled.
    resend_until: Option<u64>,
    /// Whether the exchange's Logon has arrived.
    logged_on: bool,
    /// Field offsets of the frame being processed; allocated once.
    fields: Fields,
    /// A reused body buffer.
    body: Body,
}

impl Session {
    pub(crate) fn new(
        sender_comp_id: &str,
        target_comp_id: &str,
        sender_seq_next: u64,
        target_seq_next: Option<u64>,
        queue_max: usize,
    ) -> Session {
        assert!(sender_seq_next >= 1, "Invariant: MsgSeqNums start at 1");
        Session {
            sender_comp_id: sender_comp_id.to_owned(),
            target_comp_id: target_comp_id.to_owned(),
            sender_seq_next,
            target_seq_next,
            queue: BTreeMap::new(),
            queue_max,
            resend_until: None,
            logged_on: false,
            fields: Fields::default(),
            body: Body::new(),
        }
    }

    /// The next outbound MsgSeqNum.
    pub(crate) fn sender_seq_next(&self) -> u64 {
        self.sender_seq_next
    }

    /// The next inbound MsgSeqNum expected, if known.
    pub(crate) fn target_seq_next(&self) -> Option<u64> {
        self.target_seq_next
    }

    /// Whether the exchange has answered our Logon.
    pub(crate) fn logged_on(&self) -> bool {
        self.logged_on
    }

    /// Whether messages are held behind a sequence gap.
    #[cfg(test)]
    pub(crate) fn recovering(&self) -> bool {
        !self.queue.is_empty()
    }

    /// Appends one message with a standard header and the next MsgSeqNum.
    fn write(&mut self, out: &mut Vec<u8>, msg_type: &[u8], now: UtcTimestamp, body: &[u8]) {
        let mut writer = MessageWriter::begin(out, BEGIN_STRING, msg_type);
        writer.uint(34, self.sender_seq_next).str(49, self.sender_comp_id.as_bytes());
        writer.timestamp(52, now).str(56, self.target_comp_id.as_bytes()).raw(body);
        writer.finish();
        self.sender_seq_next += 1;
    }

    /// Appends the Logon (A).
    pub(crate) fn logon(&mut self, logon: &Logon<'_>, now: UtcTimestamp, out: &mut Vec<u8>) {
        if logon.reset {
            self.sender_seq_next = 1;
            self.target_seq_next = Some(1);
            self.queue.clear();
        }
        let mut body = std::mem::take(&mut self.body);
        body.clear();
        body.uint(98, 0).uint(108, u64::from(logon.heartbeat_secs));
        if logon.reset {
            body.char(141, b'Y');
        }
        if let Some(password) = logon.password {
            body.str(554, password.as_bytes());
        }
        self.write(out, b"A", now, body.as_bytes());
        self.body = body;
    }

    /// Appends an application request.
    ///
    /// # Errors
    /// Returns the request's error if a value is invalid; nothing is appended then.
    pub(crate) fn send(
        &mut self,
        request: &Request,
        now: UtcTimestamp,
        out: &mut Vec<u8>,
    ) -> Result<(), ClientError> {
        let mut body = std::mem::take(&mut self.body);
        body.clear();
        let result = request.encode(&mut body, now);
        if result.is_ok() {
            self.write(out, request.msg_type(), now, body.as_bytes());
        }
        self.body = body;
        Ok(result?)
    }

    /// Appends an admin message: Heartbeat (0, with TestReqID if answering), TestRequest (1)
    /// or Logout (5, with a Text).
    pub(crate) fn admin(
        &mut self,
        msg_type: &[u8],
        field: Option<(u32, &[u8])>,
        now: UtcTimestamp,
        out: &mut Vec<u8>,
    ) {
        let mut body = std::mem::take(&mut self.body);
        body.clear();
        if let Some((tag, value)) = field {
            let value: Vec<u8> = value.iter().copied().filter(|&byte| byte != 1).collect();
            body.str(tag, &value);
        }
        self.write(out, msg_type, now, body.as_bytes());
        self.body = body;
    }

    /// Processes one verified inbound frame; events for the application go to `events`.
    ///
    /// # Errors
    /// Returns [`ClientError::SequenceTooLow`] or [`ClientError::GapTooLarge`].
    pub(crate) fn on_frame(
        &mut self,
        frame: &[u8],
        now: UtcTimestamp,
        out: &mut Vec<u8>,
        events: &mut Vec<Event>,
    ) -> Result<Flow, ClientError> {
        let mut fields = std::mem::take(&mut self.fields);
        let result = match parse(frame, &mut fields) {
            Ok(view) => self.on_message(&view, now, out, events),
            Err(error) => {
                warn!(%error, "unparseable message from the exchange: dropped");
                Ok(Flow::Continue)
            }
        };
        self.fields = fields;
        let flow = result?;
        if flow == Flow::Continue {
            self.drain_queue(events);
        }
        Ok(flow)
    }

    fn on_message(
        &mut self,
        view: &MessageView<'_>,
        now: UtcTimestamp,
        out: &mut Vec<u8>,
        events: &mut Vec<Event>,
    ) -> Result<Flow, ClientError> {
        let seq = view.msg_seq_num().unwrap_or(0);
        match view.msg_type() {
            b"5" => {
                // In sequence, its number is taken: the numbers a session ends with are those
                // the next Logon starts from.
                if self.target_seq_next == Some(seq) {
                    self.target_seq_next = Some(seq + 1);
                }
                let text = view.get(58).map(|text| String::from_utf8_lossy(text).into_owned());
                events.push(Event::Logout(text.clone()));
                return Ok(Flow::LoggedOut(text));
            }
            b"2" => self.gap_fill(view.get_u64(7).unwrap_or(1), now, out),
            b"1" => self.admin(b"0", view.get(112).map(|id| (112, id)), now, out),
            b"4" if view.get(123) != Some(b"Y") => {
                let new = view.get_u64(36).unwrap_or(seq);
                debug!(new, "SequenceReset-Reset from the exchange");
                self.target_seq_next = Some(new);
                self.queue.retain(|&queued, _| queued >= new);
                return Ok(Flow::Continue);
            }
            b"A" => {
                self.logged_on = true;
                self.target_seq_next.get_or_insert(seq);
            }
            _ => {}
        }
        let expected = *self.target_seq_next.get_or_insert(seq);
        if seq > expected {
            return self.on_gap(view, expected, seq, now, out);
        }
        if seq < expected {
            if view.poss_dup() {
                return Ok(Flow::Continue);
            }
            return Err(ClientError::SequenceTooLow { expected, received: seq });
        }
        self.process(view, events);
        Ok(Flow::Continue)
    }

    /// Queues a message above the expected number and asks for the gap once.
    fn on_gap(
        &mut self,
        view: &MessageView<'_>,
        expected: u64,
        seq: u64,
        now: UtcTimestamp,
        out: &mut Vec<u8>,
    ) -> Result<Flow, ClientError> {
        if self.queue.len() >= self.queue_max {
            return Err(ClientError::GapTooLarge { limit: self.queue_max });
        }
        self.queue.insert(seq, view.bytes().to_vec());
        if self.resend_until.is_none_or(|until| until < expected) {
            debug!(expected, received = seq, "sequence gap: asking for a resend");
            let mut body = std::mem::take(&mut self.body);
            body.clear();
            body.uint(7, expected).uint(16, 0);
            self.write(out, b"2", now, body.as_bytes());
            self.body = body;
            self.resend_until = Some(seq);
        }
        Ok(Flow::Continue)
    }

    /// Processes a message with the expected MsgSeqNum and advances the number.
    fn process(&mut self, view: &MessageView<'_>, events: &mut Vec<Event>) {
        let expected = self.target_seq_next.unwrap_or(1);
        assert_eq!(view.msg_seq_num(), Some(expected), "Invariant: processed in sequence");
        self.target_seq_next = Some(expected + 1);
        match view.msg_type() {
            b"0" | b"1" | b"2" | b"5" | b"A" => {}
            b"4" => {
                // Gap-fill mode: the numbers up to NewSeqNo carried admin messages only.
                let new = view.get_u64(36).unwrap_or(expected + 1).max(expected + 1);
                self.target_seq_next = Some(new);
            }
            _ => match Event::decode(view) {
                Ok(event) => events.push(event),
                Err(error) => warn!(%error, "undecodable message from the exchange: dropped"),
            },
        }
    }

    /// Processes queued messages that have become next in sequence.
    fn drain_queue(&mut self, events: &mut Vec<Event>) {
        while let Some(entry) = self.queue.first_entry() {
            let expected = self.target_seq_next.unwrap_or(1);
            if *entry.key() > expected {
                break;
            }
            // Below `expected`: a gap fill covered it. At `expected`: it was acted on when it
            // arrived (TestRequest, ResendRequest, Logon), and is now only sequenced.
            let (seq, frame) = entry.remove_entry();
            if seq < expected {
                continue;
            }
            let mut fields = std::mem::take(&mut self.fields);
            if let Ok(view) = parse(&frame, &mut fields) {
                self.process(&view, events);
            }
            self.fields = fields;
        }
        if self.queue.is_empty() {
            self.resend_until = None;
        }
    }

    /// Answers a ResendRequest from `begin` with one SequenceReset-GapFill to our next number.
    fn gap_fill(&mut self, begin: u64, now: UtcTimestamp, out: &mut Vec<u8>) {
        let begin = begin.clamp(1, self.sender_seq_next);
        let mut writer = MessageWriter::begin(out, BEGIN_STRING, b"4");
        writer.uint(34, begin).char(43, b'Y').str(49, self.sender_comp_id.as_bytes());
        writer.timestamp(52, now).str(56, self.target_comp_id.as_bytes()).timestamp(122, now);
        writer.char(123, b'Y').uint(36, self.sender_seq_next);
        writer.finish();
        debug!(begin, new = self.sender_seq_next, "answered a ResendRequest with a gap fill");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NewOrder, Side};
    use birzha_fix::check;

    const NOW: UtcTimestamp = UtcTimestamp(1_780_000_000_000);

    /// An exchange message: `|`-separated fields after the header.
    fn from_exchange(msg_type: &str, seq: u64, rest: &str) -> Vec<u8> {
        let mut out = Vec::new();
        let mut writer = MessageWriter::begin(&mut out, BEGIN_STRING, msg_type.as_bytes());
        writer.uint(34, seq).str(49, b"BIRZHA").timestamp(52, NOW).str(56, b"TRADER1");
        let body = rest.replace('|', "\x01");
        if !body.is_empty() {
            writer.raw(format!("{body}\x01").as_bytes());
        }
        writer.finish();
        out
    }

    /// The messages in `out` as `|`-separated text, one per entry.
    fn sent(out: &[u8]) -> Vec<String> {
        let mut messages = Vec::new();
        let mut rest = out;
        while let Ok(Some(length)) = check(rest, 1 << 16) {
            messages.push(String::from_utf8_lossy(&rest[..length]).replace('\x01', "|"));
            rest = &rest[length..];
        }
        assert!(rest.is_empty(), "whole frames only");
        messages
    }

    fn report(seq: u64, cl_ord_id: &str, poss_dup: bool) -> Vec<u8> {
        let dup = if poss_dup { "43=Y|122=20260101-00:00:00|" } else { "" };
        let body =
            format!("{dup}37=1|11={cl_ord_id}|17=E|150=0|39=0|55=S|54=1|38=1|151=1|14=0|6=0");
        from_exchange("8", seq, &body)
    }

    fn feed(session: &mut Session, frame: &[u8], out: &mut Vec<u8>) -> Vec<Event> {
        let mut events = Vec::new();
        session.on_frame(frame, NOW, out, &mut events).expect("in sequence");
        events
    }

    #[test]
    fn logon_and_requests_are_numbered_with_the_profile_header() {
        let mut session = Session::new("TRADER1", "BIRZHA", 7, None, 16);
        let mut out = Vec::new();
        let logon = Logon { heartbeat_secs: 30, password: Some("demo"), reset: false };
        session.logon(&logon, NOW, &mut out);
        let order = NewOrder::limit("C1", "S", Side::Buy, 1, 6800.into());
        session.send(&order.into(), NOW, &mut out).expect("valid");
        let messages = sent(&out);
        assert!(messages[0].contains("|35=A|34=7|49=TRADER1|52=20260528-"), "{}", messages[0]);
        assert!(messages[0].contains("|56=BIRZHA|98=0|108=30|554=demo|10="), "{}", messages[0]);
        assert!(messages[1].contains("|35=D|34=8|49=TRADER1|"), "{}", messages[1]);
        assert_eq!(session.sender_seq_next(), 9);
        let bad = NewOrder::limit("", "S", Side::Buy, 1, 6800.into());
        assert!(session.send(&bad.into(), NOW, &mut out).is_err());
        assert_eq!((sent(&out).len(), session.sender_seq_next()), (2, 9), "nothing sent");
    }

    #[test]
    fn reset_starts_both_sides_at_one() {
        let mut session = Session::new("TRADER1", "BIRZHA", 40, Some(90), 16);
        let mut out = Vec::new();
        session.logon(&Logon { heartbeat_secs: 5, password: None, reset: true }, NOW, &mut out);
        assert!(sent(&out)[0].contains("|34=1|") && sent(&out)[0].contains("|141=Y|"));
        assert_eq!((session.sender_seq_next(), session.target_seq_next()), (2, Some(1)));
    }

    #[test]
    fn an_unknown_expected_number_is_taken_from_the_logon() {
        let mut session = Session::new("TRADER1", "BIRZHA", 1, None, 16);
        let mut out = Vec::new();
        feed(&mut session, &from_exchange("A", 41, "98=0|108=30"), &mut out);
        assert!(session.logged_on());
        assert_eq!(session.target_seq_next(), Some(42));
        let events = feed(&mut session, &report(42, "C1", false), &mut out);
        assert!(matches!(&events[..], [Event::Execution(_)]));
        assert!(out.is_empty(), "no resend needed");
    }

    #[test]
    fn a_gap_is_recovered_through_one_resend_request() {
        let mut session = Session::new("TRADER1", "BIRZHA", 3, Some(5), 16);
        let mut out = Vec::new();
        assert!(feed(&mut session, &from_exchange("A", 8, "98=0|108=30"), &mut out).is_empty());
        assert!(session.logged_on() && session.recovering());
        assert!(feed(&mut session, &report(9, "LIVE", false), &mut out).is_empty());
        let requests = sent(&out);
        assert_eq!(requests.len(), 1, "one request for the gap: {requests:?}");
        assert!(requests[0].contains("|35=2|34=3|") && requests[0].contains("|7=5|16=0|"));
        // The exchange resends 5 and 7 and gap-fills 6 (an admin message).
        assert_eq!(feed(&mut session, &report(5, "OLD1", true), &mut out).len(), 1);
        let fill = from_exchange("4", 6, "43=Y|122=20260101-00:00:00|123=Y|36=7");
        assert!(feed(&mut session, &fill, &mut out).is_empty());
        let events = feed(&mut session, &report(7, "OLD2", true), &mut out);
        // 7 lets the queued Logon (8) and report (9) through.
        let ids: Vec<&str> = events
            .iter()
            .filter_map(|e| if let Event::Execution(r) = e { Some(&*r.cl_ord_id) } else { None })
            .collect();
        assert_eq!(ids, ["OLD2", "LIVE"]);
        assert_eq!(session.target_seq_next(), Some(10));
        assert!(!session.recovering());
        // A duplicate with PossDupFlag is ignored; without it the session fails.
        assert!(feed(&mut session, &report(9, "LIVE", true), &mut out).is_empty());
        let mut events = Vec::new();
        let error = session.on_frame(&report(9, "LIVE", false), NOW, &mut out, &mut events);
        assert!(matches!(error, Err(ClientError::SequenceTooLow { expected: 10, received: 9 })));
    }

    #[test]
    fn admin_messages_are_answered() {
        let mut session = Session::new("TRADER1", "BIRZHA", 10, Some(1), 16);
        let mut out = Vec::new();
        feed(&mut session, &from_exchange("1", 1, "112=PING"), &mut out);
        feed(&mut session, &from_exchange("2", 2, "7=4|16=0"), &mut out);
        let answers = sent(&out);
        assert!(answers[0].contains("|35=0|34=10|") && answers[0].contains("|112=PING|"));
        assert!(answers[1].contains("|35=4|34=4|43=Y|"), "{}", answers[1]);
        assert!(answers[1].contains("|123=Y|36=11|"), "{}", answers[1]);
        assert_eq!(session.sender_seq_next(), 11, "a gap fill takes no new number");
        let reset = from_exchange("4", 99, "36=50");
        feed(&mut session, &reset, &mut out);
        assert_eq!(session.target_seq_next(), Some(50));
        let mut events = Vec::new();
        let flow = session.on_frame(&from_exchange("5", 1, "58=bye"), NOW, &mut out, &mut events);
        assert_eq!(flow.expect("ok"), Flow::LoggedOut(Some("bye".into())));
        assert_eq!(events, [Event::Logout(Some("bye".into()))]);
    }

    #[test]
    fn the_gap_queue_is_bounded() {
        let mut session = Session::new("TRADER1", "BIRZHA", 1, Some(1), 2);
        let mut out = Vec::new();
        let mut events = Vec::new();
        for seq in [3, 4] {
            session.on_frame(&report(seq, "X", false), NOW, &mut out, &mut events).expect("queued");
        }
        let error = session.on_frame(&report(5, "X", false), NOW, &mut out, &mut events);
        assert!(matches!(error, Err(ClientError::GapTooLarge { limit: 2 })));
    }

    /// Regression: the exchange's Logout is a numbered message like any other; once it is
    /// received in sequence, the next number expected of the exchange is one higher. The
    /// session acts on it before sequencing and never advances, so `SessionEnd::numbers`
    /// (what `birzha trade` saves, "log on with these next time") is one short, and the next
    /// Logon sees a gap and sends a needless ResendRequest.
    #[test]
    fn the_exchanges_logout_takes_its_number() {
        let mut session = Session::new("TRADER1", "BIRZHA", 1, Some(1), 16);
        let mut out = Vec::new();
        feed(&mut session, &from_exchange("A", 1, "98=0|108=30"), &mut out);
        assert_eq!(session.target_seq_next(), Some(2));
        let mut events = Vec::new();
        let flow = session.on_frame(&from_exchange("5", 2, "58=bye"), NOW, &mut out, &mut events);
        assert_eq!(flow.expect("ok"), Flow::LoggedOut(Some("bye".into())));
        assert_eq!(session.target_seq_next(), Some(3), "the Logout (2) was received");
    }
}
