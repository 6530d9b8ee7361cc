//! Inbound messages of an established session (the rules are in the module above).

use super::logon::within_tolerance;
use super::{Application, Delivery, Session, SessionError, SessionStore, Status};
use crate::{BEGIN_STRING, Fields, MessageView, SessionRejectReason, UtcTimestamp};
use crate::{ValidationError, WriteFields, parse};

/// The outcome of the checks every sequenced message goes through.
enum Verified {
    /// The message is in sequence (or exempt): act on it.
    Proceed,
    /// The checks handled it (queued, ignored, rejected): stop with this status.
    Done(Status),
}

/// Output-side context of one call, to keep signatures short.
struct Io<'a> {
    now: UtcTimestamp,
    application: &'a dyn Application,
    store: &'a mut dyn SessionStore,
    out: &'a mut Vec<u8>,
}

impl Session {
    /// Processes one parsed inbound message, then any queued messages it makes processable.
    ///
    /// # Errors
    /// Returns a [`SessionError`] if the store fails.
    pub fn on_message(
        &mut self,
        now: UtcTimestamp,
        view: &MessageView<'_>,
        application: &dyn Application,
        store: &mut dyn SessionStore,
        out: &mut Vec<u8>,
    ) -> Result<Status, SessionError> {
        let mut io = Io { now, application, store, out };
        let status = self.process(view, &mut io)?;
        if status != Status::Active {
            return Ok(status);
        }
        self.process_queue(&mut io)
    }

    /// Processes queued messages while the next expected one is queued.
    fn process_queue(&mut self, io: &mut Io<'_>) -> Result<Status, SessionError> {
        // Built when a queued frame is due, not for every inbound message.
        let mut fields: Option<Fields> = None;
        loop {
            let expected = io.store.next_target_seq();
            while self.queue.first_key_value().is_some_and(|(&seq, _)| seq < expected) {
                self.queue.pop_first();
            }
            let Some(frame) = self.queue.remove(&expected) else { return Ok(Status::Active) };
            let fields =
                fields.get_or_insert_with(|| Fields::with_capacity(self.config.fields_max));
            let Ok(view) = parse(&frame, fields) else { continue };
            if matches!(view.msg_type(), b"A" | b"2") {
                // Acted on when it arrived; only its sequence number remains to be consumed.
                io.store.set_next_target_seq(expected + 1)?;
                continue;
            }
            let status = self.process(&view, io)?;
            if status != Status::Active {
                return Ok(status);
            }
        }
    }

    fn process(&mut self, view: &MessageView<'_>, io: &mut Io<'_>) -> Result<Status, SessionError> {
        let msg_type = view.msg_type();
        if view.begin_string() != BEGIN_STRING {
            if msg_type == b"5" {
                return self.on_logout(view, io);
            }
            // The session then ends as "no Logout in reply": the log says why it began.
            let begin_string = crate::printable(view.begin_string());
            tracing::warn!(%begin_string, "logging out: incorrect BeginString");
            self.send_logout(io.now, Some("Incorrect BeginString"), io.store, io.out)?;
            let expected = io.store.next_target_seq();
            io.store.set_next_target_seq(expected + 1)?;
            return Ok(Status::Active);
        }
        let supported = match self.dictionary.validate(view) {
            Ok(_) => true,
            Err(ValidationError::UnsupportedMsgType) => false,
            Err(ValidationError::Reject { reason, ref_tag }) => {
                self.send_reject(io.now, view, reason, ref_tag, io.store, io.out)?;
                return Ok(Status::Active);
            }
        };
        match msg_type {
            b"A" => self.on_logon_again(view, io),
            b"0" => self.on_sequenced(view, io, |_, _, _| Ok(())),
            b"3" => self.on_sequenced(view, io, |session, view, io| {
                if let Some(left_out) = session.rejects_received.admit(io.now.0) {
                    log_reject_received(view, left_out);
                }
                Ok(())
            }),
            b"1" => self.on_sequenced(view, io, |session, view, io| {
                let id = view.get(112).unwrap_or_default();
                session.send_admin(io.now, io.store, io.out, b"0", &[], |writer| {
                    writer.str(112, id);
                })
            }),
            b"2" => self.on_resend_request(view, io),
            b"4" => self.on_sequence_reset(view, io),
            b"5" => self.on_logout(view, io),
            _ => self.on_application(view, io, supported),
        }
    }

    /// Heartbeat, TestRequest, Reject: verify, act, consume the sequence number.
    fn on_sequenced(
        &mut self,
        view: &MessageView<'_>,
        io: &mut Io<'_>,
        act: impl FnOnce(&mut Self, &MessageView<'_>, &mut Io<'_>) -> Result<(), SessionError>,
    ) -> Result<Status, SessionError> {
        if let Verified::Done(status) = self.verify(view, io, true, true)? {
            return Ok(status);
        }
        act(self, view, io)?;
        let expected = io.store.next_target_seq();
        io.store.set_next_target_seq(expected + 1)?;
        Ok(Status::Active)
    }

    fn on_application(
        &mut self,
        view: &MessageView<'_>,
        io: &mut Io<'_>,
        supported: bool,
    ) -> Result<Status, SessionError> {
        if let Verified::Done(status) = self.verify(view, io, true, true)? {
            return Ok(status);
        }
        let delivery = if supported {
            io.application.on_message(&self.id, view)
        } else {
            Delivery::Unsupported
        };
        let (reason, text) = match delivery {
            Delivery::Accepted => (None, String::new()),
            Delivery::Unsupported => {
                if let Some(left_out) = self.rejects_sent.admit(io.now.0) {
                    let msg_type = crate::printable(view.msg_type());
                    let seq = view.msg_seq_num();
                    tracing::warn!(%msg_type, ref_seq_num = seq, left_out, "unsupported message type refused");
                }
                (Some(3), "Unsupported Message Type".to_owned())
            }
            Delivery::Rejected { reason, text } => (Some(reason), text),
        };
        if let Some(reason) = reason {
            let seq = view.msg_seq_num();
            let msg_type = view.msg_type();
            // BusinessRejectRefID (379): the refused request's own id (ClOrdID, MDReqID or
            // SecurityReqID), so that a client can match the reject to it.
            let ref_id = [11, 262, 320].into_iter().find_map(|tag| view.get(tag));
            let text: Vec<u8> = text.bytes().filter(|&byte| byte != crate::SOH).collect();
            // An application message (FIX44.xml): kept for a ResendRequest, not gap-filled.
            self.send_own(io.now, io.store, io.out, (b"j", &[], true), |writer| {
                if let Some(seq) = seq {
                    writer.uint(45, seq);
                }
                if !text.is_empty() {
                    writer.str(58, &text);
                }
                writer.str(372, msg_type);
                if let Some(ref_id) = ref_id {
                    writer.str(379, ref_id);
                }
                writer.uint(380, u64::from(reason));
            })?;
        }
        let expected = io.store.next_target_seq();
        io.store.set_next_target_seq(expected + 1)?;
        Ok(Status::Active)
    }

    /// A Logon on an established session: with ResetSeqNumFlag it resets both directions and
    /// starts over with the HeartBtInt it asks for, after the checks of every message.
    fn on_logon_again(
        &mut self,
        view: &MessageView<'_>,
        io: &mut Io<'_>,
    ) -> Result<Status, SessionError> {
        if view.get(141) != Some(b"Y") {
            self.send_logout(io.now, Some("Unexpected Logon"), io.store, io.out)?;
            return Ok(Status::Disconnect { voluntary: false, reason: "second Logon" });
        }
        if let Verified::Done(status) = self.verify(view, io, false, false)? {
            return Ok(status);
        }
        let heartbeat = view.get_u64(108).unwrap_or(u64::MAX);
        let (low, high) = (self.config.heartbeat_secs_min, self.config.heartbeat_secs_max);
        if heartbeat < u64::from(low) || heartbeat > u64::from(high) {
            let text = format!("HeartBtInt must be between {low} and {high}");
            self.send_logout(io.now, Some(&text), io.store, io.out)?;
            return Ok(Status::Disconnect { voluntary: false, reason: "reset Logon's HeartBtInt" });
        }
        // A resend in progress answered numbers the reset takes back.
        self.resending = None;
        io.store.reset()?;
        self.queue.clear();
        self.resend_range = None;
        self.heartbeat_ms = heartbeat as i64 * 1000;
        self.send_admin(io.now, io.store, io.out, b"A", &[], |writer| {
            writer.uint(98, 0).uint(108, heartbeat).char(141, b'Y');
        })?;
        io.store.set_next_target_seq(2)?;
        Ok(Status::Active)
    }

    /// A ResendRequest is acted on whatever its MsgSeqNum, as QuickFIX does (its acceptance
    /// script 8 sends one numbered too low without PossDup and expects the resend): two
    /// engines each waiting for the other's resend would otherwise deadlock. Then a number too
    /// high asks for the gap it reveals (unless a resend covering it is outstanding).
    fn on_resend_request(
        &mut self,
        view: &MessageView<'_>,
        io: &mut Io<'_>,
    ) -> Result<Status, SessionError> {
        if let Verified::Done(status) = self.verify(view, io, false, false)? {
            return Ok(status);
        }
        let begin = view.get_u64(7).unwrap_or(0);
        let end = view.get_u64(16).unwrap_or(0);
        if let Some(left_out) = self.resends_asked.admit(io.now.0) {
            let next = io.store.next_sender_seq();
            tracing::info!(begin, end, next, left_out, "resend requested by the counterparty");
        }
        self.resend(io.now, begin, end, io.store, io.out)?;
        let seq = view.msg_seq_num().unwrap_or(0);
        let expected = io.store.next_target_seq();
        if seq == expected {
            io.store.set_next_target_seq(expected + 1)?;
        } else if seq > expected {
            self.too_high(view, seq, expected, io)?;
        }
        Ok(Status::Active)
    }

    fn on_sequence_reset(
        &mut self,
        view: &MessageView<'_>,
        io: &mut Io<'_>,
    ) -> Result<Status, SessionError> {
        let gap_fill = view.get(123) == Some(b"Y");
        if let Verified::Done(status) = self.verify(view, io, gap_fill, gap_fill)? {
            return Ok(status);
        }
        let new_seq = view.get_u64(36).unwrap_or(0);
        let expected = io.store.next_target_seq();
        if !gap_fill && let Some(left_out) = self.resets.admit(io.now.0) {
            tracing::info!(expected, new_seq, left_out, "sequence reset by the counterparty");
        }
        if new_seq > expected {
            io.store.set_next_target_seq(new_seq)?;
        } else if new_seq < expected {
            let reason = SessionRejectReason::ValueIsIncorrect;
            self.send_reject(io.now, view, reason, None, io.store, io.out)?;
        }
        Ok(Status::Active)
    }

    fn on_logout(
        &mut self,
        view: &MessageView<'_>,
        io: &mut Io<'_>,
    ) -> Result<Status, SessionError> {
        if let Verified::Done(status) = self.verify(view, io, false, false)? {
            return Ok(status);
        }
        if let Some(text) = view.get(58) {
            tracing::info!(text = %crate::printable(text), "logout text from the counterparty");
        }
        if self.logout_sent_ms.is_none() {
            self.send_logout(io.now, None, io.store, io.out)?;
        }
        let expected = io.store.next_target_seq();
        if view.msg_seq_num() == Some(expected) {
            io.store.set_next_target_seq(expected + 1)?;
        }
        Ok(Status::Disconnect { voluntary: true, reason: "Logout" })
    }

    /// The checks of every message: SendingTime, CompIDs, then (if asked) the sequence number.
    fn verify(
        &mut self,
        view: &MessageView<'_>,
        io: &mut Io<'_>,
        check_high: bool,
        check_low: bool,
    ) -> Result<Verified, SessionError> {
        if !within_tolerance(&self.config, io.now, view) {
            let reason = SessionRejectReason::SendingTimeAccuracyProblem;
            return self.reject_and_logout(view, io, reason);
        }
        let comp_ids_match = view.get(49) == Some(self.id.remote.as_bytes())
            && view.get(56) == Some(self.id.local.as_bytes());
        if !comp_ids_match {
            return self.reject_and_logout(view, io, SessionRejectReason::CompIdProblem);
        }
        self.last_received_ms = io.now.0;
        self.test_request_pending = false;
        let seq = view.msg_seq_num().unwrap_or(0);
        let expected = io.store.next_target_seq();
        if check_high && seq > expected {
            self.too_high(view, seq, expected, io)?;
            return Ok(Verified::Done(Status::Active));
        }
        if check_low && seq < expected {
            return self.too_low(view, seq, expected, io);
        }
        Ok(Verified::Proceed)
    }

    fn reject_and_logout(
        &mut self,
        view: &MessageView<'_>,
        io: &mut Io<'_>,
        reason: SessionRejectReason,
    ) -> Result<Verified, SessionError> {
        // The Reject that ends the session is always logged: it says why.
        self.rejects_sent.admit_next();
        self.send_reject(io.now, view, reason, None, io.store, io.out)?;
        self.send_logout(io.now, None, io.store, io.out)?;
        Ok(Verified::Done(Status::Active))
    }

    /// Queues a message from beyond a gap and asks for the gap once.
    fn too_high(
        &mut self,
        view: &MessageView<'_>,
        seq: u64,
        expected: u64,
        io: &mut Io<'_>,
    ) -> Result<(), SessionError> {
        if self.queue.len() < self.config.inbound_queue_max {
            self.queue.insert(seq, view.bytes().into());
        }
        // A resend still outstanding (its range not yet passed) covers this gap too.
        if self.resend_range.is_some_and(|(begin, end)| seq >= begin && expected <= end) {
            return Ok(());
        }
        self.send_resend_request(io.now, expected, seq, io.store, io.out)
    }

    /// A message below the expected number: a PossDup is checked and ignored, anything else
    /// ends the session.
    fn too_low(
        &mut self,
        view: &MessageView<'_>,
        seq: u64,
        expected: u64,
        io: &mut Io<'_>,
    ) -> Result<Verified, SessionError> {
        if !view.poss_dup() {
            let text = format!("MsgSeqNum too low, expecting {expected} but received {seq}");
            self.send_logout(io.now, Some(&text), io.store, io.out)?;
            let reason = "MsgSeqNum too low without PossDupFlag";
            return Ok(Verified::Done(Status::Disconnect { voluntary: false, reason }));
        }
        if view.msg_type() != b"4" {
            let original = view.get(122).and_then(UtcTimestamp::parse);
            let sent = view.get(52).and_then(UtcTimestamp::parse);
            match (original, sent) {
                (None, _) => {
                    let reason = SessionRejectReason::RequiredTagMissing;
                    self.send_reject(io.now, view, reason, Some(122), io.store, io.out)?;
                }
                (Some(original), Some(sent)) if original > sent => {
                    let reason = SessionRejectReason::SendingTimeAccuracyProblem;
                    return self.reject_and_logout(view, io, reason);
                }
                _ => {}
            }
        }
        Ok(Verified::Done(Status::Active))
    }

    /// Sends a ResendRequest from `expected` to infinity, remembering the gap up to `seq` - 1.
    pub(super) fn send_resend_request(
        &mut self,
        now: UtcTimestamp,
        expected: u64,
        seq: u64,
        store: &mut dyn SessionStore,
        out: &mut Vec<u8>,
    ) -> Result<(), SessionError> {
        self.send_admin(now, store, out, b"2", &[], |writer| {
            writer.uint(7, expected).uint(16, 0);
        })?;
        if let Some(left_out) = self.gaps.admit(now.0) {
            tracing::info!(expected, received = seq, left_out, "sequence gap: resend requested");
        }
        self.resend_range = Some((expected, seq - 1));
        Ok(())
    }
}

/// Logs a counterparty's session Reject (35=3) of one of our messages: the counterparty's
/// engine refused it (its application never saw it), which an operator needs to know.
fn log_reject_received(view: &MessageView<'_>, left_out: u64) {
    tracing::warn!(
        ref_seq_num = view.get_u64(45),
        ref_msg_type = %crate::printable(view.get(372).unwrap_or_default()),
        ref_tag = view.get_u64(371),
        reason = view.get_u64(373),
        text = %crate::printable(view.get(58).unwrap_or_default()),
        left_out,
        "session reject received: the counterparty refused one of our messages"
    );
}
