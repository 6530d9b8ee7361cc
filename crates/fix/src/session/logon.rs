//! The first message of a connection: vetting a Logon, refusing it, or establishing a session.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{Application, LogonRequest, Refusal, Session, SessionConfig, SessionError, SessionId};
use super::{LogLimit, SessionStore, Status};
use crate::{BEGIN_STRING, Dictionary, MessageView, MessageWriter, UtcTimestamp, ValidationError};
use crate::{WriteFields, message::parse_unsigned};

/// Vets a connection's first message and asks the application to authenticate it. Returns the
/// Logon's request on success.
///
/// # Errors
/// Returns a [`Refusal`] (to be sent with [`write_refusal`]) when the message is not a valid
/// Logon for this acceptor or the application refuses it.
pub fn check_logon<'a>(
    config: &SessionConfig,
    dictionary: &Dictionary,
    application: &dyn Application,
    now: UtcTimestamp,
    view: &MessageView<'a>,
) -> Result<LogonRequest<'a>, Refusal> {
    if view.begin_string() != BEGIN_STRING {
        return Err(Refusal::new("Incorrect BeginString"));
    }
    if view.msg_type() != b"A" {
        return Err(Refusal::new("First message must be a Logon"));
    }
    match dictionary.validate(view) {
        Ok(_) => {}
        Err(ValidationError::Reject { reason, ref_tag }) => {
            let tag = ref_tag.map(|tag| format!(" ({tag})")).unwrap_or_default();
            return Err(Refusal::new(format!("Invalid Logon: {}{tag}", reason.text())));
        }
        Err(ValidationError::UnsupportedMsgType) => return Err(Refusal::new("Logon unsupported")),
    }
    if view.get(56) != Some(config.local_comp_id.as_bytes()) {
        return Err(Refusal::new("Unknown TargetCompID"));
    }
    if !within_tolerance(config, now, view) {
        return Err(Refusal::new("SendingTime accuracy problem"));
    }
    let request = logon_request(config, view)?;
    application.authenticate(&request)?;
    Ok(request)
}

/// Reads the Logon's fields once the dictionary has validated it.
fn logon_request<'a>(
    config: &SessionConfig,
    view: &MessageView<'a>,
) -> Result<LogonRequest<'a>, Refusal> {
    let text = |tag| view.get(tag).and_then(|value| std::str::from_utf8(value).ok());
    let sender_comp_id = text(49).ok_or_else(|| Refusal::new("SenderCompID is not text"))?;
    if view.get(98) != Some(b"0") {
        return Err(Refusal::new("EncryptMethod must be 0"));
    }
    let heartbeat = view.get_u64(108).unwrap_or(u64::MAX);
    let (low, high) = (config.heartbeat_secs_min, config.heartbeat_secs_max);
    if heartbeat < u64::from(low) || heartbeat > u64::from(high) {
        return Err(Refusal::new(format!("HeartBtInt must be between {low} and {high}")));
    }
    let username = text(553);
    if username.is_some_and(|username| username != sender_comp_id) {
        return Err(Refusal::new("Username must equal SenderCompID"));
    }
    Ok(LogonRequest {
        sender_comp_id,
        username,
        password: text(554),
        heartbeat_secs: heartbeat as u32,
        reset_seq_num: view.get(141) == Some(b"Y"),
    })
}

/// Whether SendingTime is within the tolerance of `now`.
pub(super) fn within_tolerance(
    config: &SessionConfig,
    now: UtcTimestamp,
    view: &MessageView<'_>,
) -> bool {
    view.get(52)
        .and_then(UtcTimestamp::parse)
        .is_some_and(|sent| (now.0 - sent.0).abs() <= config.sending_time_tolerance_ms)
}

/// Writes the Logout that refuses a connection: MsgSeqNum 1, Text the reason, addressed to the
/// SenderCompID of `view` if it has a printable one. It is not stored.
pub fn write_refusal(
    config: &SessionConfig,
    now: UtcTimestamp,
    view: Option<&MessageView<'_>>,
    refusal: &Refusal,
    out: &mut Vec<u8>,
) {
    let remote = view
        .and_then(|view| view.get(49))
        .filter(|value| !value.is_empty() && value.iter().all(|byte| byte.is_ascii_graphic()))
        .unwrap_or(b"UNKNOWN");
    let text: Vec<u8> = refusal.text.bytes().filter(|&byte| byte != crate::SOH).collect();
    let mut writer = MessageWriter::begin(out, BEGIN_STRING, b"5");
    writer.uint(34, 1).str(49, config.local_comp_id.as_bytes()).timestamp(52, now);
    writer.str(56, remote).str(58, &text);
    writer.finish();
}

impl Session {
    /// Answers a vetted Logon and starts the session. `store` belongs to the counterparty.
    ///
    /// # Errors
    /// Returns a [`SessionError`] if the store fails.
    #[allow(
        clippy::too_many_arguments,
        reason = "the pure session takes all its context as inputs"
    )]
    pub fn establish(
        config: Arc<SessionConfig>,
        dictionary: Arc<Dictionary>,
        application: &dyn Application,
        now: UtcTimestamp,
        logon: &MessageView<'_>,
        request: &LogonRequest<'_>,
        store: &mut dyn SessionStore,
        out: &mut Vec<u8>,
    ) -> Result<(Self, Status), SessionError> {
        if request.reset_seq_num || config.reset_on_logon {
            store.reset()?;
        }
        let id = SessionId {
            local: config.local_comp_id.clone(),
            remote: request.sender_comp_id.to_owned(),
        };
        let mut session = Self {
            heartbeat_ms: i64::from(request.heartbeat_secs) * 1000,
            config,
            dictionary,
            id,
            last_sent_ms: now.0,
            last_received_ms: now.0,
            test_request_pending: false,
            logout_sent_ms: None,
            resend_range: None,
            queue: BTreeMap::new(),
            resending: None,
            ended: false,
            rejects_sent: LogLimit::default(),
            rejects_received: LogLimit::default(),
            gaps: LogLimit::default(),
            resends_asked: LogLimit::default(),
            resets: LogLimit::default(),
        };
        let seq = logon.get(34).and_then(parse_unsigned).unwrap_or(0);
        let expected = store.next_target_seq();
        if seq < expected {
            // Refused before it is answered: the counterparty is never told it is logged on.
            let text = format!("MsgSeqNum too low, expecting {expected} but received {seq}");
            session.send_logout(now, Some(&text), store, out)?;
            // Nor is the application: it hears of no logout either (`end`).
            session.ended = true;
            let status = Status::Disconnect { voluntary: false, reason: "Logon MsgSeqNum too low" };
            return Ok((session, status));
        }
        let heartbeat = u64::from(request.heartbeat_secs);
        let reset = request.reset_seq_num;
        session.send_admin(now, store, out, b"A", &[], |writer| {
            writer.uint(98, 0).uint(108, heartbeat);
            if reset {
                writer.char(141, b'Y');
            }
        })?;
        if seq > expected {
            // Too high: answered, then the gap is asked for; the Logon waits in the queue.
            session.queue.insert(seq, logon.bytes().into());
            session.send_resend_request(now, expected, seq, store, out)?;
        } else {
            store.set_next_target_seq(expected + 1)?;
        }
        application.on_logon(&session.id);
        Ok((session, Status::Active))
    }
}
