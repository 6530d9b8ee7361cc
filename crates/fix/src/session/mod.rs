//! The FIX 4.4 session layer (acceptor side) as a pure state machine: no I/O, no clock reads.
//!
//! The owner of a connection feeds a [`Session`] parsed inbound messages
//! ([`Session::on_message`]) and the passing of time ([`Session::on_timer`] at
//! [`Session::deadline`]), and asks it to send application messages ([`Session::send`]). The
//! session writes every outbound frame onto the end of a caller-owned `Vec<u8>` and keeps
//! sequence numbers and outbound application messages in a [`SessionStore`] passed to each call.
//! It talks upward to an [`Application`]: authentication at logon, delivery of each validated
//! application message exactly once, and notice of the end of the session.
//!
//! # Logon
//! [`check_logon`] vets a connection's first message (it must be a Logon, FIX.4.4, to our
//! CompID, within the SendingTime tolerance, EncryptMethod 0, HeartBtInt within bounds, Username
//! equal to SenderCompID) and asks the application to authenticate it. A refusal is answered by
//! [`write_refusal`]: a Logout with the reason in Text (58), MsgSeqNum 1, not stored, so a
//! stranger cannot disturb a trader's sequence numbers. [`Session::establish`] then answers the
//! Logon. ResetSeqNumFlag (141) = Y, or [`SessionConfig::reset_on_logon`], resets both sequence
//! numbers to 1 first.
//!
//! # Sequence numbers
//! An inbound MsgSeqNum above the expected one queues the message (at most
//! [`SessionConfig::inbound_queue_max`]) and sends one ResendRequest for everything from the
//! expected number on (EndSeqNo 0); queued messages are processed once the gap is filled. One
//! below the expected number is a Logout and disconnect, unless PossDupFlag is Y: then it is
//! ignored (never delivered twice), after checking that OrigSendingTime (122) is present (else
//! a Reject) and not later than SendingTime (else a Reject and Logout). Logout and
//! ResendRequest are acted on whatever their MsgSeqNum; SequenceReset in reset mode sets the
//! expected number without checking its own; in gap-fill mode it is sequenced like any message.
//!
//! # Resends
//! A ResendRequest is answered from the store: each kept application message is resent with
//! PossDupFlag (43) Y, OrigSendingTime (122) its original SendingTime and a fresh SendingTime;
//! every run of admin messages (or messages no longer kept) becomes one SequenceReset-GapFill.
//! The answer goes out in pieces of [`RESEND_SEQS_PER_CALL`] numbers: the request writes the
//! first, and the owner calls [`Session::resend_more`] for the next ones while
//! [`Session::resending`], writing each to the wire before it asks for the next, so that
//! neither memory nor the store's lock is held for a whole day of messages.
//!
//! # Heartbeats
//! After HeartBtInt of outbound silence a Heartbeat; after 1.2 × HeartBtInt of inbound silence a
//! TestRequest (TestReqID `TEST`), with no further Heartbeats until something arrives; after
//! 2.4 × HeartBtInt of inbound silence, disconnect. A TestRequest is answered at once with its
//! TestReqID.
//!
//! # Rejects
//! A message the dictionary refuses gets a session Reject (35=3) with RefSeqNum (45; 0 if the
//! message had no MsgSeqNum), Text (58), RefTagID (371), RefMsgType (372) and
//! SessionRejectReason (373), routing fields reversed
//! (OnBehalfOf ↔ DeliverTo); it consumes its sequence number if it had the expected one. A
//! MsgType the dictionary or application does not support gets a BusinessMessageReject (35=j)
//! with BusinessRejectReason (380) 3. Wrong SenderCompID/TargetCompID (373=9) or a SendingTime
//! more than [`SessionConfig::sending_time_tolerance_ms`] away (373=10) get a Reject and a
//! Logout. A wrong BeginString gets a Logout. A Logout we send waits
//! [`SessionConfig::logout_timeout_ms`] for the counterparty's before disconnecting.
//!
//! # Header order
//! After 8, 9 and 35, header fields are written in ascending tag order (34, 43, 49, 52, 56, 97,
//! routing, 122), as QuickFIX writes them.

mod application;
mod file_store;
mod inbound;
mod logon;
mod store;
mod window;

use std::collections::BTreeMap;
use std::sync::Arc;

pub use application::{Application, Delivery, LogonRequest, Refusal, SessionId};
pub use file_store::{DeferredSync, Durability, FileStore, FileStoreConfig, WRITE_BEHIND_MAX};
pub use logon::{check_logon, write_refusal};
pub use store::{MemoryStore, SessionStore, StoreError};

use crate::{
    BEGIN_STRING, Dictionary, Fields, MessageWriter, SessionRejectReason, UtcTimestamp,
    WriteFields, parse,
};

/// Settings shared by every session of an acceptor.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Our CompID: TargetCompID of what we accept, SenderCompID of what we send.
    pub local_comp_id: String,
    /// The smallest HeartBtInt (seconds) a Logon may ask for.
    pub heartbeat_secs_min: u32,
    /// The largest HeartBtInt (seconds) a Logon may ask for.
    pub heartbeat_secs_max: u32,
    /// How far SendingTime may be from our clock, in milliseconds.
    pub sending_time_tolerance_ms: i64,
    /// How long to wait for the counterparty's Logout after ours, in milliseconds.
    pub logout_timeout_ms: i64,
    /// Reset both sequence numbers on every Logon (QuickFIX's `ResetOnLogon`); off in the
    /// Birzha profile, where sequence numbers persist across reconnects.
    pub reset_on_logon: bool,
    /// The most out-of-sequence inbound messages held while a gap is being filled.
    pub inbound_queue_max: usize,
    /// The most fields one message may have.
    pub fields_max: usize,
}

impl SessionConfig {
    /// The Birzha defaults for an acceptor whose CompID is `local_comp_id`.
    pub fn new(local_comp_id: impl Into<String>) -> Self {
        Self {
            local_comp_id: local_comp_id.into(),
            heartbeat_secs_min: 1,
            heartbeat_secs_max: 300,
            sending_time_tolerance_ms: 120_000,
            logout_timeout_ms: 2_000,
            reset_on_logon: false,
            inbound_queue_max: 1024,
            fields_max: crate::FIELDS_MAX_DEFAULT,
        }
    }
}

/// What the owner of a session must do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Keep the connection.
    Active,
    /// Write what was produced, then close the connection.
    Disconnect {
        /// Whether the session ended with a Logout exchange.
        voluntary: bool,
        /// Why, for the log.
        reason: &'static str,
    },
}

/// Why a session operation failed; the connection must be dropped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The header fields of one outbound message beyond 8, 9 and 35.
struct Header<'a> {
    /// MsgSeqNum (34).
    seq: u64,
    /// OrigSendingTime (122); present means PossDupFlag (43) = Y.
    orig_sending_time: Option<&'a [u8]>,
    /// PossResend (97) = Y.
    poss_resend: bool,
    /// Reversed routing fields, in ascending tag order.
    routing: &'a [(u32, &'a [u8])],
}

/// One FIX session with one counterparty. See the module documentation.
#[derive(Debug)]
pub struct Session {
    /// Shared settings.
    config: Arc<SessionConfig>,
    /// The dictionary inbound messages are validated with.
    dictionary: Arc<Dictionary>,
    /// Our CompID and the counterparty's.
    id: SessionId,
    /// HeartBtInt in milliseconds; 0 disables heartbeats.
    heartbeat_ms: i64,
    /// When we last sent anything (ms since the epoch).
    last_sent_ms: i64,
    /// When we last received a valid message.
    last_received_ms: i64,
    /// A TestRequest is outstanding.
    test_request_pending: bool,
    /// When we sent a Logout, if we did.
    logout_sent_ms: Option<i64>,
    /// The inbound range we last asked to be resent (begin, last seq known missing): the
    /// request is outstanding while the next expected number is within it.
    resend_range: Option<(u64, u64)>,
    /// Out-of-sequence inbound messages (whole frames) by MsgSeqNum.
    queue: BTreeMap<u64, Box<[u8]>>,
    /// The part of a ResendRequest's range not written yet (see [`Session::resend_more`]).
    resending: Option<Resending>,
    /// The application has been told the session ended.
    ended: bool,
    /// Log lines of the Rejects this session sends, and of those it receives.
    rejects_sent: LogLimit,
    rejects_received: LogLimit,
    /// Log lines of sequence events: our ResendRequests (gaps), the counterparty's, and its
    /// resets.
    gaps: LogLimit,
    resends_asked: LogLimit,
    resets: LogLimit,
}

/// A resend in progress.
#[derive(Debug, Clone, Copy)]
struct Resending {
    /// The first number neither resent nor gap-filled yet.
    expected: u64,
    /// The first number not looked up in the store yet (`expected <= scanned`: the numbers
    /// between are a run of missing ones, gap-filled when the run ends).
    scanned: u64,
    /// The range's last number.
    end: u64,
}

/// At most one log line a second for a kind of event of one session; the next line counts
/// those left out meanwhile (a peer sending thousands of bad messages must not flood the log).
/// The owner logs what is still left out when the session ends ([`LogLimit::left_out`]).
#[derive(Debug, Default)]
pub struct LogLimit {
    /// The earliest time of the next line, in milliseconds.
    next_ms: i64,
    /// Events not logged since the last line.
    left_out: u64,
}

impl LogLimit {
    /// Whether to log the event at `now_ms`; if so, how many were left out before it.
    pub fn admit(&mut self, now_ms: i64) -> Option<u64> {
        if now_ms < self.next_ms {
            self.left_out += 1;
            return None;
        }
        self.next_ms = now_ms.saturating_add(1000);
        Some(std::mem::take(&mut self.left_out))
    }

    /// Lets the next event be logged whatever the rate (the one that ends a session).
    pub fn admit_next(&mut self) {
        self.next_ms = i64::MIN;
    }

    /// The events left out since the last line; the count starts again.
    pub fn left_out(&mut self) -> u64 {
        std::mem::take(&mut self.left_out)
    }
}

/// The sequence numbers one [`Session::resend_more`] call looks up: a resend of a million
/// kept messages goes out in pieces, each under the store's lock for a moment only.
pub const RESEND_SEQS_PER_CALL: u64 = 1024;

impl Session {
    /// The session's CompIDs.
    #[must_use]
    pub fn id(&self) -> &SessionId {
        &self.id
    }

    /// HeartBtInt in seconds.
    #[must_use]
    pub fn heartbeat_secs(&self) -> i64 {
        self.heartbeat_ms / 1000
    }

    /// Sends an application message: `body` is its encoded body fields. Returns its MsgSeqNum.
    ///
    /// # Errors
    /// Returns a [`SessionError`] if the store fails (the message is then not sent).
    pub fn send(
        &mut self,
        now: UtcTimestamp,
        message: &Outgoing<'_>,
        store: &mut dyn SessionStore,
        out: &mut Vec<u8>,
    ) -> Result<u64, SessionError> {
        self.resend_finish(now, store, out);
        let seq = encode_application(&self.id, now, message, store, out)?;
        self.last_sent_ms = now.0;
        Ok(seq)
    }

    /// Whether we sent a Logout: nothing but the counterparty's answer is awaited, and the
    /// owner should send no application message after it (it would follow the Logout).
    #[must_use]
    pub fn logout_sent(&self) -> bool {
        self.logout_sent_ms.is_some()
    }

    /// Starts a Logout (for example at shutdown) and waits for the counterparty's.
    ///
    /// # Errors
    /// Returns a [`SessionError`] if the store fails.
    pub fn logout(
        &mut self,
        now: UtcTimestamp,
        text: Option<&str>,
        store: &mut dyn SessionStore,
        out: &mut Vec<u8>,
    ) -> Result<(), SessionError> {
        if self.logout_sent_ms.is_none() {
            self.send_logout(now, text, store, out)?;
        }
        Ok(())
    }

    /// When [`Session::on_timer`] next has something to do (ms since the epoch).
    #[must_use]
    pub fn deadline(&self) -> Option<i64> {
        let logout = self.logout_sent_ms.map(|sent| sent + self.config.logout_timeout_ms);
        if self.heartbeat_ms == 0 {
            return logout;
        }
        let silence_limit = if self.test_request_pending { 24 } else { 12 };
        let mut deadline = self.last_received_ms + self.heartbeat_ms * silence_limit / 10;
        if !self.test_request_pending {
            deadline = deadline.min(self.last_sent_ms + self.heartbeat_ms);
        }
        Some(logout.map_or(deadline, |logout| logout.min(deadline)))
    }

    /// Lets time pass: sends Heartbeats and TestRequests, and ends dead sessions.
    ///
    /// # Errors
    /// Returns a [`SessionError`] if the store fails.
    pub fn on_timer(
        &mut self,
        now: UtcTimestamp,
        store: &mut dyn SessionStore,
        out: &mut Vec<u8>,
    ) -> Result<Status, SessionError> {
        if let Some(sent) = self.logout_sent_ms
            && now.0 - sent >= self.config.logout_timeout_ms
        {
            return Ok(Status::Disconnect { voluntary: false, reason: "no Logout in reply" });
        }
        if self.heartbeat_ms == 0 {
            return Ok(Status::Active);
        }
        let silence = now.0 - self.last_received_ms;
        if silence >= self.heartbeat_ms * 24 / 10 {
            return Ok(Status::Disconnect { voluntary: false, reason: "heartbeat timeout" });
        }
        if self.test_request_pending {
            return Ok(Status::Active);
        }
        if silence >= self.heartbeat_ms * 12 / 10 {
            self.send_admin(now, store, out, b"1", &[], |writer| {
                writer.str(112, b"TEST");
            })?;
            self.test_request_pending = true;
        } else if now.0 - self.last_sent_ms >= self.heartbeat_ms {
            self.send_admin(now, store, out, b"0", &[], |_| {})?;
        }
        Ok(Status::Active)
    }

    /// The connection is gone: tells the application once, and logs the Rejects left out of
    /// the log by its rate limit since its last line.
    pub fn end(&mut self, application: &dyn Application, voluntary: bool) {
        let (sent, received) = (self.rejects_sent.left_out(), self.rejects_received.left_out());
        if sent + received > 0 {
            tracing::warn!(sent, received, "session rejects left out of the log at the end");
        }
        let (gaps, resends, resets) =
            (self.gaps.left_out(), self.resends_asked.left_out(), self.resets.left_out());
        if gaps + resends + resets > 0 {
            tracing::info!(gaps, resends, resets, "sequence events left out of the log at the end");
        }
        if !self.ended {
            self.ended = true;
            application.on_logout(&self.id, voluntary);
        }
    }

    fn write_header(&self, writer: &mut MessageWriter<'_>, now: UtcTimestamp, header: &Header<'_>) {
        writer.uint(34, header.seq);
        if header.orig_sending_time.is_some() {
            writer.char(43, b'Y');
        }
        writer.str(49, self.id.local.as_bytes());
        writer.timestamp(52, now);
        writer.str(56, self.id.remote.as_bytes());
        if header.poss_resend {
            writer.char(97, b'Y');
        }
        for (tag, value) in header.routing {
            writer.str(*tag, value);
        }
        if let Some(orig_sending_time) = header.orig_sending_time {
            writer.str(122, orig_sending_time);
        }
    }

    /// Sends a session-level message with the next MsgSeqNum; `body` writes its body fields.
    fn send_admin(
        &mut self,
        now: UtcTimestamp,
        store: &mut dyn SessionStore,
        out: &mut Vec<u8>,
        msg_type: &[u8],
        routing: Routing<'_>,
        body: impl FnOnce(&mut MessageWriter<'_>),
    ) -> Result<(), SessionError> {
        self.send_own(now, store, out, (msg_type, routing, false), body)
    }

    /// Sends a message the session layer writes itself; `kept` stores the frame for a
    /// ResendRequest (an application message such as a BusinessMessageReject), otherwise its
    /// number is gap-filled (an admin message).
    fn send_own(
        &mut self,
        now: UtcTimestamp,
        store: &mut dyn SessionStore,
        out: &mut Vec<u8>,
        (msg_type, routing, kept): (&[u8], Routing<'_>, bool),
        body: impl FnOnce(&mut MessageWriter<'_>),
    ) -> Result<(), SessionError> {
        self.resend_finish(now, store, out);
        let seq = store.next_sender_seq();
        let start = out.len();
        let mut writer = MessageWriter::begin(out, BEGIN_STRING, msg_type);
        let header = Header { seq, orig_sending_time: None, poss_resend: false, routing };
        self.write_header(&mut writer, now, &header);
        body(&mut writer);
        let range = writer.finish();
        let saved = store.save(seq, kept.then(|| &out[range]));
        if let Err(error) = saved {
            out.truncate(start);
            return Err(error.into());
        }
        self.last_sent_ms = now.0;
        Ok(())
    }

    fn send_logout(
        &mut self,
        now: UtcTimestamp,
        text: Option<&str>,
        store: &mut dyn SessionStore,
        out: &mut Vec<u8>,
    ) -> Result<(), SessionError> {
        // A Logout ends a resend in progress: the counterparty asks again next time.
        self.resending = None;
        self.send_admin(now, store, out, b"5", &[], |writer| {
            if let Some(text) = text {
                writer.str(58, text.as_bytes());
            }
        })?;
        self.logout_sent_ms = Some(now.0);
        Ok(())
    }

    /// Sends a session Reject for `view`, and consumes its MsgSeqNum if it was the expected one
    /// (except for Logon and SequenceReset, which manage sequence numbers themselves).
    fn send_reject(
        &mut self,
        now: UtcTimestamp,
        view: &crate::MessageView<'_>,
        reason: SessionRejectReason,
        ref_tag: Option<i64>,
        store: &mut dyn SessionStore,
        out: &mut Vec<u8>,
    ) -> Result<(), SessionError> {
        let (routing, count) = reverse_routing(view);
        let seq = view.msg_seq_num();
        let msg_type = view.msg_type();
        self.send_admin(now, store, out, b"3", &routing[..count], |writer| {
            // RefSeqNum is required in a Reject: 0 when the message had no MsgSeqNum (as
            // QuickFIX writes it).
            writer.uint(45, seq.unwrap_or(0));
            writer.str(58, reason.text().as_bytes());
            if let Some(tag) = ref_tag {
                writer.int(371, tag);
            }
            if !msg_type.is_empty() {
                writer.str(372, msg_type);
            }
            writer.uint(373, u64::from(reason.code()));
        })?;
        if let Some(left_out) = self.rejects_sent.admit(now.0) {
            tracing::warn!(
                ref_seq_num = seq,
                msg_type = %crate::printable(msg_type),
                ref_tag,
                reason = reason.code(),
                text = reason.text(),
                left_out,
                "session reject sent"
            );
        }
        let expected = store.next_target_seq();
        if msg_type != b"A" && msg_type != b"4" && seq == Some(expected) {
            store.set_next_target_seq(expected + 1)?;
        }
        Ok(())
    }

    /// Answers a ResendRequest for `begin..=end` (0: everything sent so far): writes its first
    /// piece and leaves the rest to [`resend_more`](Self::resend_more). A new request replaces
    /// the rest of an earlier one.
    fn resend(
        &mut self,
        now: UtcTimestamp,
        begin: u64,
        end: u64,
        store: &mut dyn SessionStore,
        out: &mut Vec<u8>,
    ) -> Result<(), SessionError> {
        let next = store.next_sender_seq();
        let end = if end == 0 || end >= next { next - 1 } else { end };
        self.resending = None;
        if begin == 0 || begin > end {
            return Ok(());
        }
        self.resending = Some(Resending { expected: begin, scanned: begin, end });
        self.resend_more(now, store, out);
        Ok(())
    }

    /// Whether a resend has more to write: the owner calls [`resend_more`](Self::resend_more)
    /// until it has not, writing out each piece, and should send nothing else meanwhile:
    /// anything the session numbers first writes the rest of the resend, in one go, so that it
    /// goes out after the range (a Logout ends the resend instead), and messages numbered
    /// outside the session (queued ones the owner stored) must wait for the end.
    #[must_use]
    pub fn resending(&self) -> bool {
        self.resending.is_some()
    }

    /// Writes what is left of a resend at once: something is about to be numbered after it.
    fn resend_finish(
        &mut self,
        now: UtcTimestamp,
        store: &mut dyn SessionStore,
        out: &mut Vec<u8>,
    ) {
        while self.resending.is_some() {
            self.resend_more(now, store, out);
        }
    }

    /// Writes the next piece of a resend: the kept messages among the next
    /// [`RESEND_SEQS_PER_CALL`] numbers, each with PossDupFlag (43) Y, OrigSendingTime (122)
    /// its original SendingTime and a fresh SendingTime, and a SequenceReset-GapFill for each
    /// run of numbers not kept (admin messages, or dropped from the store's window), written
    /// when the run ends. Does nothing if no resend is in progress.
    pub fn resend_more(
        &mut self,
        now: UtcTimestamp,
        store: &mut dyn SessionStore,
        out: &mut Vec<u8>,
    ) {
        let Some(mut resending) = self.resending.take() else { return };
        let last = resending.end.min(resending.scanned + (RESEND_SEQS_PER_CALL - 1));
        let mut fields = Fields::with_capacity(self.config.fields_max);
        let mut expected = resending.expected;
        store.messages(resending.scanned, last, &mut |seq, frame| {
            if seq > expected {
                self.write_gap_fill(now, expected, seq, out);
            }
            // A kept message may have more fields than an inbound one may (a full-depth market
            // data snapshot of a deep book); a field takes at least four bytes (`t=v<SOH>`).
            if fields.capacity() < frame.len() / 4 + 1 {
                fields = Fields::with_capacity(frame.len() / 4 + 1);
            }
            if !self.write_resent(now, frame, &mut fields, out) {
                // Never a hole in a resend: what cannot be resent is gap-filled.
                self.write_gap_fill(now, seq, seq + 1, out);
            }
            expected = seq + 1;
        });
        self.last_sent_ms = now.0;
        if last < resending.end {
            resending.expected = expected;
            resending.scanned = last + 1;
            self.resending = Some(resending);
        } else if expected <= last {
            self.write_gap_fill(now, expected, last + 1, out);
        }
    }

    /// A SequenceReset-GapFill numbered `seq` that moves the counterparty to `new_seq`.
    fn write_gap_fill(&self, now: UtcTimestamp, seq: u64, new_seq: u64, out: &mut Vec<u8>) {
        let stamp = now.format();
        let mut writer = MessageWriter::begin(out, BEGIN_STRING, b"4");
        let header =
            Header { seq, orig_sending_time: Some(&stamp), poss_resend: false, routing: &[] };
        self.write_header(&mut writer, now, &header);
        writer.uint(36, new_seq).char(123, b'Y');
        writer.finish();
    }

    /// Re-sends a stored frame with PossDupFlag, OrigSendingTime and a fresh SendingTime.
    /// Returns `false`, having written nothing, if the frame does not parse with `fields`.
    fn write_resent(
        &self,
        now: UtcTimestamp,
        frame: &[u8],
        fields: &mut Fields,
        out: &mut Vec<u8>,
    ) -> bool {
        let Ok(view) = parse(frame, fields) else {
            debug_assert!(false, "Invariant: stored frames parse");
            return false;
        };
        let (Some(seq), Some(original)) = (view.msg_seq_num(), view.get(52)) else {
            debug_assert!(false, "Invariant: stored frames have 34 and 52");
            return false;
        };
        let refs = view.fields();
        let body_start = refs[3..]
            .iter()
            .find(|field| !self.dictionary.is_header_tag(field.tag))
            .map_or(frame.len(), |field| field.start as usize);
        let body_end = refs.last().map_or(frame.len(), |field| field.start as usize);
        let mut writer = MessageWriter::begin(out, BEGIN_STRING, view.msg_type());
        let poss_resend = view.get(97) == Some(b"Y");
        let header = Header { seq, orig_sending_time: Some(original), poss_resend, routing: &[] };
        self.write_header(&mut writer, now, &header);
        writer.raw(&frame[body_start.min(body_end)..body_end]);
        writer.finish();
        true
    }
}

/// Routing fields of a header (OnBehalfOf*, DeliverTo*), in tag order.
type Routing<'a> = &'a [(u32, &'a [u8])];

/// An application message to send: MsgType and encoded body fields.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    /// MsgType (35).
    pub msg_type: &'a [u8],
    /// Body fields, encoded `tag=value<SOH>…` (see [`Body`](crate::Body)).
    pub body: &'a [u8],
    /// PossResend (97) = Y: the application is sending again something it may have sent.
    pub poss_resend: bool,
}

/// Numbers, stamps and stores an application message for `session`, appending the frame to
/// `out`. This is [`Session::send`] without a live session: a gateway uses it to store messages
/// for a counterparty that is not connected, so that its ResendRequest recovers them.
///
/// # Errors
/// Returns a [`StoreError`] if the store fails; `out` is then left as it was.
pub fn encode_application(
    session: &SessionId,
    now: UtcTimestamp,
    message: &Outgoing<'_>,
    store: &mut dyn SessionStore,
    out: &mut Vec<u8>,
) -> Result<u64, StoreError> {
    let seq = store.next_sender_seq();
    let start = out.len();
    let mut writer = MessageWriter::begin(out, BEGIN_STRING, message.msg_type);
    writer.uint(34, seq).str(49, session.local.as_bytes()).timestamp(52, now);
    writer.str(56, session.remote.as_bytes());
    if message.poss_resend {
        writer.char(97, b'Y');
    }
    writer.raw(message.body);
    let range = writer.finish();
    if let Err(error) = store.save(seq, Some(&out[range])) {
        out.truncate(start);
        return Err(error);
    }
    Ok(seq)
}

/// The routing fields of a reply to `view`: OnBehalfOf* become DeliverTo* and vice versa;
/// empty ones are dropped. Returns them in ascending tag order and their count.
fn reverse_routing<'a>(view: &crate::MessageView<'a>) -> ([(u32, &'a [u8]); 6], usize) {
    const PAIRS: [(u32, u32); 6] =
        [(115, 128), (116, 129), (144, 145), (128, 115), (129, 116), (145, 144)];
    let mut routing: [(u32, &[u8]); 6] = [(0, &[]); 6];
    let mut count = 0;
    for (from, to) in PAIRS {
        if let Some(value) = view.get(from).filter(|value| !value.is_empty()) {
            routing[count] = (to, value);
            count += 1;
        }
    }
    routing[..count].sort_by_key(|(tag, _)| *tag);
    (routing, count)
}
