//! Arbitrary message sequences through the session layer: the shared driver of the
//! `fix_session` fuzz target (`fuzz/fuzz_targets/fix_session.rs`, which includes this file with
//! `#[path]`) and of the proptest below.
//!
//! Goal: whatever a counterparty sends, in whatever order and at whatever time, the session never
//! panics, and what it does stays within the rules of the module documentation:
//! - every byte it writes belongs to a whole frame that `check` accepts and that validates
//!   against the profile dictionary, addressed from our CompID;
//! - outbound MsgSeqNums are consecutive (1 after a reset), the store's next sender number
//!   follows them, and resent messages and gap fills cover exactly the numbers asked for;
//! - the application receives validated messages only, each MsgSeqNum once and in increasing
//!   order (until sequence numbers are reset), and the next expected inbound number never goes
//!   back except on a reset;
//! - nothing happens on a timer before [`Session::deadline`].
//!
//! Method: a [`Case`] is built from unstructured bytes with `arbitrary`. Each step receives a
//! message (mostly well formed, with its header fields, MsgSeqNum and SendingTime chosen relative
//! to what the session expects, so that gaps, duplicates and resets are common), lets time pass,
//! sends an application message, starts a logout, or drops the connection. A message that
//! arrives with no session is the first message of a new connection and goes through
//! [`check_logon`]. The store persists across connections, as the gateway's does.

use std::cell::RefCell;
use std::sync::{Arc, OnceLock};

use arbitrary::{Arbitrary, Unstructured};
use birzha_fix::session::{
    Application, Delivery, LogonRequest, MemoryStore, Outgoing, Refusal, Session, SessionConfig,
    SessionId, SessionStore, Status, check_logon, encode_application, write_refusal,
};
use birzha_fix::{Dictionary, Fields, MessageView, SOH, UtcTimestamp, check, parse};

/// The most steps one case runs.
pub(crate) const STEPS_MAX: usize = 96;
/// Our CompID.
const LOCAL: &str = "ISLD";
/// The counterparty's CompID.
const REMOTE: &str = "TW";
/// The start of time in a case: 2023-11-14T22:13:20Z.
const T0: i64 = 1_700_000_000_000;

/// One generated case.
#[derive(Debug)]
pub(crate) struct Case {
    reset_on_logon: bool,
    /// `1 + queue % 4`: the inbound queue bound.
    queue: u8,
    /// `1 + store % 6`: the outbound messages kept for resends.
    store: u8,
    steps: Vec<Step>,
}

impl<'a> Arbitrary<'a> for Case {
    /// Takes steps until the bytes run out.
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Case> {
        let (reset_on_logon, queue, store) = (u.arbitrary()?, u.arbitrary()?, u.arbitrary()?);
        let mut steps = Vec::new();
        while !u.is_empty() && steps.len() < STEPS_MAX {
            steps.push(u.arbitrary()?);
        }
        Ok(Case { reset_on_logon, queue, store, steps })
    }
}

#[derive(Debug)]
enum Step {
    /// A well-formed Logon (on a new connection, if one is up).
    Connect { seq: Seq, reset: bool },
    /// A message from the counterparty (a Logon attempt if there is no session).
    Receive(Inbound),
    /// Time passes; the timer runs.
    Wait(Wait),
    /// We send an application message (stored for a disconnected counterparty).
    Send { poss_resend: bool },
    /// We start a logout.
    Logout,
    /// The connection drops.
    Drop,
}

impl<'a> Arbitrary<'a> for Step {
    /// Mostly messages; time, sends, logouts, drops and reconnections now and then.
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Step> {
        Ok(match u.arbitrary::<u8>()? {
            0..=179 => Step::Receive(u.arbitrary()?),
            180..=209 => Step::Wait(u.arbitrary()?),
            210..=229 => Step::Send { poss_resend: u.arbitrary()? },
            230..=237 => Step::Logout,
            238..=245 => Step::Drop,
            _ => Step::Connect { seq: u.arbitrary()?, reset: u.arbitrary()? },
        })
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Wait {
    Millis(u16),
    Seconds(u8),
    /// Exactly to the session's deadline.
    Deadline,
    /// One millisecond before it.
    BeforeDeadline,
}

#[derive(Arbitrary, Debug)]
struct Inbound {
    msg_type: MsgType,
    seq: Seq,
    /// PossDupFlag when below 32.
    poss_dup: u8,
    /// OrigSendingTime, seconds relative to SendingTime.
    orig_sending_time: Option<i8>,
    /// Mostly nothing: a header as it should be.
    fault: Option<Fault>,
    body: Body,
}

/// One thing wrong with a header.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Fault {
    BeginString,
    Sender(CompId),
    Target(CompId),
    SendingTime(Clock),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum MsgType {
    Heartbeat,
    TestRequest,
    ResendRequest,
    Reject,
    SequenceReset,
    Logout,
    Logon,
    NewOrderSingle,
    OrderCancelRequest,
    /// Valid FIX, not in the profile: a BusinessMessageReject.
    MarketDataSnapshot,
    /// Not FIX at all.
    Invalid,
}

impl MsgType {
    fn code(self) -> &'static [u8] {
        match self {
            MsgType::Heartbeat => b"0",
            MsgType::TestRequest => b"1",
            MsgType::ResendRequest => b"2",
            MsgType::Reject => b"3",
            MsgType::SequenceReset => b"4",
            MsgType::Logout => b"5",
            MsgType::Logon => b"A",
            MsgType::NewOrderSingle => b"D",
            MsgType::OrderCancelRequest => b"F",
            MsgType::MarketDataSnapshot => b"BZ",
            MsgType::Invalid => b"ZZ",
        }
    }
}

/// A MsgSeqNum relative to the one the session expects.
#[derive(Debug, Clone, Copy)]
enum Seq {
    Expected,
    Ahead(u8),
    Behind(u8),
    Absolute(u32),
    Missing,
}

impl<'a> Arbitrary<'a> for Seq {
    /// Mostly the expected number.
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Seq> {
        Ok(match u.arbitrary::<u8>()? {
            0..=159 => Seq::Expected,
            160..=199 => Seq::Ahead(u.arbitrary()?),
            200..=239 => Seq::Behind(u.arbitrary()?),
            240..=249 => Seq::Absolute(u.arbitrary()?),
            _ => Seq::Missing,
        })
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Clock {
    /// Seconds from now (the tolerance is 120).
    Offset(i8),
    /// Far beyond the tolerance.
    Far(bool),
    Missing,
    Malformed,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum CompId {
    Wrong,
    Missing,
}

/// The body fields after the header.
#[derive(Arbitrary, Debug)]
enum Body {
    /// What this MsgType needs to be valid.
    Valid(Tweak),
    /// Arbitrary fields from a pool of tags and values.
    Fields(Vec<(Tag, Value)>),
}

/// A change to a valid body: seldom nothing, often one sequence-related value.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Tweak {
    None,
    /// BeginSeqNo/EndSeqNo (ResendRequest) or NewSeqNo (SequenceReset), relative to ours.
    Range(i8, i8),
    GapFill(bool),
    ResetSeqNum,
    WrongPassword,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Tag {
    Pool(u8),
    Any(u16),
}

const TAGS: [u32; 28] = [
    7, 16, 36, 123, 112, 141, 98, 108, 553, 554, 45, 371, 372, 373, 58, 11, 54, 60, 40, 38, 55, 41,
    115, 128, 43, 122, 97, 95,
];

#[derive(Arbitrary, Debug, Clone)]
enum Value {
    /// A number near our sequence numbers.
    Number(i8),
    Big(u64),
    Yes,
    No,
    Timestamp(i8),
    Empty,
    Text(Vec<u8>),
}

/// Knows one trader, `TW`; refuses the password `wrong`; records what it is given.
struct Recorder {
    dictionary: Arc<Dictionary>,
    delivered: RefCell<Vec<u64>>,
    logons: RefCell<u32>,
    ended: RefCell<u32>,
}

impl Application for Recorder {
    fn authenticate(&self, logon: &LogonRequest<'_>) -> Result<(), Refusal> {
        assert!(logon.heartbeat_secs >= 1, "the session layer checked HeartBtInt");
        if logon.sender_comp_id != REMOTE {
            return Err(Refusal::new("unknown trader"));
        }
        if logon.password == Some("wrong") {
            return Err(Refusal::new("bad credentials"));
        }
        Ok(())
    }

    fn on_logon(&self, session: &SessionId) {
        assert_eq!(session.local, LOCAL);
        *self.logons.borrow_mut() += 1;
    }

    fn on_message(&self, session: &SessionId, message: &MessageView<'_>) -> Delivery {
        assert!(self.dictionary.validate(message).is_ok(), "only valid messages are delivered");
        assert_eq!(message.get(49), Some(session.remote.as_bytes()), "from the counterparty");
        let seq = message.msg_seq_num().expect("a delivered message has a MsgSeqNum");
        self.delivered.borrow_mut().push(seq);
        match message.msg_type() {
            b"F" => Delivery::Rejected { reason: 0, text: "no\x01such order".into() },
            _ => Delivery::Accepted,
        }
    }

    fn on_logout(&self, _: &SessionId, _: bool) {
        *self.ended.borrow_mut() += 1;
    }
}

struct Harness {
    config: Arc<SessionConfig>,
    dictionary: Arc<Dictionary>,
    application: Recorder,
    store: MemoryStore,
    session: Option<Session>,
    now: i64,
    out: Vec<u8>,
    /// The last MsgSeqNum delivered since the last reset.
    delivered_last: u64,
    /// A Logon was refused in this step: its Logout is numbered 1 and not stored.
    refused: bool,
    /// How many sessions were established.
    established: u32,
}

/// Runs one case; panics on the first broken rule.
pub(crate) fn run(case: &Case) {
    let mut config = SessionConfig::new(LOCAL);
    config.reset_on_logon = case.reset_on_logon;
    config.inbound_queue_max = 1 + usize::from(case.queue % 4);
    let mut harness = Harness {
        config: Arc::new(config),
        dictionary: profile(),
        application: Recorder {
            dictionary: profile(),
            delivered: RefCell::default(),
            logons: RefCell::default(),
            ended: RefCell::default(),
        },
        store: MemoryStore::new(1 + usize::from(case.store % 6)),
        session: None,
        now: T0,
        out: Vec::new(),
        delivered_last: 0,
        refused: false,
        established: 0,
    };
    harness.step(&Step::Connect { seq: Seq::Expected, reset: false });
    for step in &case.steps {
        harness.step(step);
    }
    if let Some(mut session) = harness.session.take() {
        session.end(&harness.application, false);
    }
    // A session refused at its Logon (MsgSeqNum too low) is answered with a Logout and never
    // logged on: the application hears neither of it (it logged a logout of a trader that
    // had not logged on, and applied cancel-on-disconnect).
    let (logons, ended) =
        (*harness.application.logons.borrow(), *harness.application.ended.borrow());
    assert_eq!(ended, logons, "every logged-on session is ended exactly once, and only those");
    assert!(logons <= harness.established, "{logons} logons of {} sessions", harness.established);
}

impl Harness {
    fn step(&mut self, step: &Step) {
        // A message on a new connection: a Logon attempt as it is, anything else after a
        // well-formed Logon (so that most messages meet an established session).
        if let Step::Receive(inbound) = step
            && self.session.is_none()
            && !matches!(inbound.msg_type, MsgType::Logon)
        {
            self.step(&Step::Connect { seq: Seq::Expected, reset: false });
        }
        let sender_before = self.store.next_sender_seq();
        let target_before = self.store.next_target_seq();
        let delivered_before = self.application.delivered.borrow().len();
        self.refused = false;
        self.now += 1;
        match step {
            Step::Connect { seq, reset } => {
                self.drop_connection(false);
                let tweak = if *reset { Tweak::ResetSeqNum } else { Tweak::None };
                let logon = Inbound {
                    msg_type: MsgType::Logon,
                    seq: *seq,
                    poss_dup: u8::MAX,
                    orig_sending_time: None,
                    fault: None,
                    body: Body::Valid(tweak),
                };
                self.receive(&logon);
            }
            Step::Receive(inbound) => self.receive(inbound),
            Step::Wait(wait) => self.wait(*wait),
            Step::Send { poss_resend } => self.send(*poss_resend),
            Step::Logout => {
                if let Some(session) = &mut self.session {
                    let store = &mut self.store;
                    session
                        .logout(UtcTimestamp(self.now), Some("bye"), store, &mut self.out)
                        .unwrap();
                }
            }
            Step::Drop => self.drop_connection(false),
        }
        let reset = self.check_output(sender_before, self.refused);
        self.check_deliveries(delivered_before, reset);
        if !reset {
            let target = self.store.next_target_seq();
            assert!(target >= target_before, "next inbound {target} < {target_before}, no reset");
        }
    }

    fn receive(&mut self, inbound: &Inbound) {
        let frame = self.frame(inbound);
        let mut fields = Fields::with_capacity(self.config.fields_max);
        let view = parse(&frame, &mut fields).expect("the harness writes parseable frames");
        let now = UtcTimestamp(self.now);
        let Some(session) = &mut self.session else {
            let config = &self.config;
            match check_logon(config, &self.dictionary, &self.application, now, &view) {
                Ok(request) => {
                    let (session, status) = Session::establish(
                        Arc::clone(config),
                        Arc::clone(&self.dictionary),
                        &self.application,
                        now,
                        &view,
                        &request,
                        &mut self.store,
                        &mut self.out,
                    )
                    .unwrap();
                    assert_eq!(session.id().remote, REMOTE);
                    self.session = Some(session);
                    self.established += 1;
                    self.status(status);
                }
                Err(refusal) => {
                    write_refusal(config, now, Some(&view), &refusal, &mut self.out);
                    self.refused = true;
                }
            }
            return;
        };
        let status = session
            .on_message(now, &view, &self.application, &mut self.store, &mut self.out)
            .unwrap();
        self.status(status);
    }

    fn status(&mut self, status: Status) {
        if let Status::Disconnect { voluntary, .. } = status {
            self.drop_connection(voluntary);
        }
    }

    fn drop_connection(&mut self, voluntary: bool) {
        if let Some(mut session) = self.session.take() {
            session.end(&self.application, voluntary);
        }
    }

    fn wait(&mut self, wait: Wait) {
        let deadline = self.session.as_ref().and_then(Session::deadline);
        self.now = match (wait, deadline) {
            (Wait::Millis(millis), _) => self.now + i64::from(millis),
            (Wait::Seconds(seconds), _) => self.now + i64::from(seconds) * 1000,
            (Wait::Deadline, Some(deadline)) => deadline.max(self.now),
            (Wait::BeforeDeadline, Some(deadline)) => (deadline - 1).max(self.now),
            (Wait::Deadline | Wait::BeforeDeadline, None) => self.now,
        };
        let Some(session) = &mut self.session else { return };
        let written = self.out.len();
        let status = session.on_timer(UtcTimestamp(self.now), &mut self.store, &mut self.out);
        let status = status.unwrap();
        if deadline.is_none_or(|deadline| self.now < deadline) {
            assert_eq!(status, Status::Active, "nothing happens before the deadline");
            assert_eq!(self.out.len(), written, "nothing is sent before the deadline");
        }
        self.status(status);
    }

    fn send(&mut self, poss_resend: bool) {
        let body = b"37=O1\x0111=C1\x0117=E1\x01150=0\x0139=0\x0154=1\x01151=5\x0114=0\x016=0\x01";
        let message = Outgoing { msg_type: b"8", body, poss_resend };
        let now = UtcTimestamp(self.now);
        match &mut self.session {
            Some(session) => {
                session.send(now, &message, &mut self.store, &mut self.out).unwrap();
            }
            None => {
                let id = SessionId { local: LOCAL.into(), remote: REMOTE.into() };
                encode_application(&id, now, &message, &mut self.store, &mut self.out).unwrap();
            }
        }
    }

    /// Builds the frame of `inbound` at the current time and sequence numbers.
    fn frame(&self, inbound: &Inbound) -> Vec<u8> {
        let expected = self.store.next_target_seq();
        let mut fields: Vec<(u32, Vec<u8>)> = vec![(35, inbound.msg_type.code().to_vec())];
        let seq = match inbound.seq {
            Seq::Expected => Some(expected),
            Seq::Ahead(ahead) => Some(expected + 1 + u64::from(ahead % 8)),
            Seq::Behind(behind) => Some(expected.saturating_sub(1 + u64::from(behind % 8))),
            Seq::Absolute(seq) => Some(u64::from(seq)),
            Seq::Missing => None,
        };
        if let Some(seq) = seq {
            fields.push((34, seq.to_string().into_bytes()));
        }
        if inbound.poss_dup < 32 {
            fields.push((43, b"Y".to_vec()));
        }
        let comp_id = |fault: Option<Fault>, right: &str| match fault {
            Some(Fault::Sender(CompId::Wrong) | Fault::Target(CompId::Wrong)) => {
                Some(b"OTHER".to_vec())
            }
            Some(Fault::Sender(CompId::Missing) | Fault::Target(CompId::Missing)) => None,
            _ => Some(right.as_bytes().to_vec()),
        };
        let sender_fault = inbound.fault.filter(|fault| matches!(fault, Fault::Sender(_)));
        let target_fault = inbound.fault.filter(|fault| matches!(fault, Fault::Target(_)));
        if let Some(sender) = comp_id(sender_fault, REMOTE) {
            fields.push((49, sender));
        }
        let clock = match inbound.fault {
            Some(Fault::SendingTime(clock)) => Some(clock),
            _ => None,
        };
        let sent = match clock {
            None => Some(self.now),
            Some(Clock::Offset(seconds)) => Some(self.now + i64::from(seconds) * 1000),
            Some(Clock::Far(later)) => Some(self.now + if later { 1 } else { -1 } * 3_600_000),
            Some(Clock::Missing | Clock::Malformed) => None,
        };
        match (sent, clock) {
            (Some(sent), _) => fields.push((52, stamp(sent))),
            (None, Some(Clock::Malformed)) => fields.push((52, b"20231314-25:61:61".to_vec())),
            (None, _) => {}
        }
        if let Some(target) = comp_id(target_fault, LOCAL) {
            fields.push((56, target));
        }
        if let Some(offset) = inbound.orig_sending_time {
            let at = sent.unwrap_or(self.now) + i64::from(offset) * 1000;
            fields.push((122, stamp(at)));
        }
        match &inbound.body {
            Body::Valid(tweak) => fields.extend(self.body_valid(inbound.msg_type, *tweak)),
            Body::Fields(pool) => fields.extend(pool.iter().take(16).map(|(tag, value)| {
                let tag = match tag {
                    Tag::Pool(index) => TAGS[usize::from(*index) % TAGS.len()],
                    Tag::Any(tag) => u32::from(*tag),
                };
                (tag, self.value(value))
            })),
        }
        let wrong = matches!(inbound.fault, Some(Fault::BeginString));
        let begin: &[u8] = if wrong { b"FIX.4.2" } else { b"FIX.4.4" };
        let mut body = Vec::new();
        for (tag, value) in fields {
            body.extend_from_slice(format!("{tag}=").as_bytes());
            body.extend(value.into_iter().filter(|&byte| byte != SOH));
            body.push(SOH);
        }
        crate::frames::frame_of(begin, &body)
    }

    fn body_valid(&self, msg_type: MsgType, tweak: Tweak) -> Vec<(u32, Vec<u8>)> {
        let number = |value: u64| value.to_string().into_bytes();
        let (sender_next, target_next) =
            (self.store.next_sender_seq(), self.store.next_target_seq());
        let relative = |base: u64, offset: i8| base.saturating_add_signed(i64::from(offset));
        let mut fields = match msg_type {
            MsgType::TestRequest => vec![(112, b"PING".to_vec())],
            MsgType::ResendRequest => match tweak {
                Tweak::Range(begin, end) => vec![
                    (7, number(relative(sender_next, begin))),
                    (16, number(if end == 0 { 0 } else { relative(sender_next, end) })),
                ],
                _ => vec![(7, number(1)), (16, number(0))],
            },
            MsgType::Reject => vec![(45, number(sender_next.saturating_sub(1)))],
            MsgType::SequenceReset => match tweak {
                Tweak::Range(new, _) => vec![(36, number(relative(target_next, new)))],
                _ => vec![(36, number(target_next + 2))],
            },
            MsgType::Logon => vec![(98, b"0".to_vec()), (108, b"30".to_vec())],
            MsgType::NewOrderSingle => vec![
                (11, b"ORDER1".to_vec()),
                (54, b"1".to_vec()),
                (60, stamp(self.now)),
                (40, b"1".to_vec()),
            ],
            MsgType::OrderCancelRequest => vec![
                (41, b"ORDER1".to_vec()),
                (11, b"CANCEL1".to_vec()),
                (54, b"1".to_vec()),
                (60, stamp(self.now)),
            ],
            _ => Vec::new(),
        };
        match (msg_type, tweak) {
            (MsgType::SequenceReset, Tweak::GapFill(gap_fill)) => {
                fields.insert(0, (123, if gap_fill { b"Y" } else { b"N" }.to_vec()));
            }
            (MsgType::Logon, Tweak::ResetSeqNum) => fields.push((141, b"Y".to_vec())),
            (MsgType::Logon, Tweak::WrongPassword) => fields.push((554, b"wrong".to_vec())),
            _ => {}
        }
        fields
    }

    fn value(&self, value: &Value) -> Vec<u8> {
        match value {
            Value::Number(offset) => {
                let base = self.store.next_sender_seq().max(self.store.next_target_seq());
                base.saturating_add_signed(i64::from(*offset)).to_string().into_bytes()
            }
            Value::Big(number) => number.to_string().into_bytes(),
            Value::Yes => b"Y".to_vec(),
            Value::No => b"N".to_vec(),
            Value::Timestamp(offset) => stamp(self.now + i64::from(*offset) * 1000),
            Value::Empty => Vec::new(),
            Value::Text(text) => text.iter().copied().take(24).collect(),
        }
    }

    /// Checks every frame written in this step; returns whether sequence numbers were reset.
    fn check_output(&mut self, sender_before: u64, refused: bool) -> bool {
        let out = std::mem::take(&mut self.out);
        let mut rest = &out[..];
        let mut next = sender_before;
        let mut reset = false;
        let mut resend_next: Option<u64> = None;
        while !rest.is_empty() {
            let length = match check(rest, 1 << 20) {
                Ok(Some(length)) => length,
                other => panic!("written bytes are whole frames: {other:?}"),
            };
            let (frame, tail) = rest.split_at(length);
            rest = tail;
            let mut fields = Fields::with_capacity(self.config.fields_max);
            let view = parse(frame, &mut fields).expect("written frames parse");
            let text = String::from_utf8_lossy(frame).replace(SOH as char, "|");
            if let Err(error) = self.dictionary.validate(&view) {
                panic!("written frame is invalid ({error:?}): {text}");
            }
            assert_eq!(view.get(49), Some(LOCAL.as_bytes()), "{text}");
            let seq = view.msg_seq_num().expect("written frames are numbered");
            if refused {
                assert_eq!((view.msg_type(), seq), (&b"5"[..], 1), "a refusal: {text}");
                continue;
            }
            if view.poss_dup() {
                // A resend: numbers already used, in order, without holes.
                assert!(seq < next, "resent {seq} was never sent (next {next}): {text}");
                assert!(resend_next.is_none_or(|expected| seq == expected), "resend hole: {text}");
                resend_next = Some(match view.msg_type() {
                    b"4" => view.get_u64(36).expect("a gap fill has NewSeqNo"),
                    _ => seq + 1,
                });
                assert!(resend_next.is_some_and(|after| after > seq && after <= next), "{text}");
                continue;
            }
            resend_next = None;
            // A reset Logon is answered with a Logon numbered 1, or refused (MsgSeqNum too low)
            // with a Logout numbered 1.
            if matches!(view.msg_type(), b"A" | b"5") && seq == 1 {
                reset = true;
                next = 1;
            }
            assert_eq!(seq, next, "outbound MsgSeqNums are consecutive: {text}");
            next += 1;
        }
        if !refused {
            assert_eq!(self.store.next_sender_seq(), next, "the store follows what was sent");
        }
        reset
    }

    fn check_deliveries(&mut self, delivered_before: usize, reset: bool) {
        let delivered = self.application.delivered.borrow();
        for &seq in &delivered[delivered_before..] {
            assert!(seq > self.delivered_last, "delivered {seq} after {}", self.delivered_last);
            self.delivered_last = seq;
        }
        if reset {
            self.delivered_last = 0;
        }
    }
}

/// The profile dictionary, parsed once per process (parsing it costs more than a whole case).
fn profile() -> Arc<Dictionary> {
    static PROFILE: OnceLock<Arc<Dictionary>> = OnceLock::new();
    Arc::clone(PROFILE.get_or_init(|| Arc::new(Dictionary::profile())))
}

fn stamp(ms: i64) -> Vec<u8> {
    UtcTimestamp(ms).format().to_vec()
}

/// The stable-toolchain equivalent of the `fix_session` fuzz target.
#[cfg(test)]
mod property_tests {
    use arbitrary::{Arbitrary, Unstructured};
    use proptest::prelude::*;

    use super::{Case, run};

    /// `default` cases, or `PROPTEST_CASES` for a longer run.
    fn cases(default: u32) -> u32 {
        std::env::var("PROPTEST_CASES").ok().and_then(|cases| cases.parse().ok()).unwrap_or(default)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(cases(512)))]

        #[test]
        fn prop_arbitrary_message_sequences_keep_the_session_rules(
            bytes in proptest::collection::vec(any::<u8>(), 0..2048),
        ) {
            let case = Case::arbitrary(&mut Unstructured::new(&bytes)).expect("any bytes");
            run(&case);
        }
    }
}
