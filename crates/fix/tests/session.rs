//! The session layer as a pure state machine: no sockets, no clock. Each test feeds a
//! [`Session`] frames and instants, then reads the frames it wrote, with a recording
//! application and a memory store, so timing and sequencing rules are checked exactly.

use std::cell::RefCell;
use std::sync::Arc;

use birzha_fix::session::{
    Application, Delivery, LogonRequest, MemoryStore, Outgoing, RESEND_SEQS_PER_CALL, Refusal,
    Session, SessionConfig, SessionId, SessionStore, Status, check_logon,
};
use birzha_fix::{Dictionary, Fields, MessageView, UtcTimestamp, check, parse};

/// Records deliveries and the end of the session; knows one trader, `TW`.
#[derive(Default)]
struct Recorder {
    delivered: RefCell<Vec<u64>>,
    ended: RefCell<Option<bool>>,
}

impl Application for Recorder {
    fn authenticate(&self, logon: &LogonRequest<'_>) -> Result<(), Refusal> {
        if logon.sender_comp_id == "TW" && logon.password == Some("secret") {
            Ok(())
        } else {
            Err(Refusal::new("bad credentials"))
        }
    }

    fn on_message(&self, _: &SessionId, message: &MessageView<'_>) -> Delivery {
        self.delivered.borrow_mut().push(message.msg_seq_num().unwrap_or(0));
        Delivery::Accepted
    }

    fn on_logout(&self, _: &SessionId, voluntary: bool) {
        *self.ended.borrow_mut() = Some(voluntary);
    }
}

const T0: i64 = 1_700_000_000_000;

fn stamp(ms: i64) -> String {
    String::from_utf8(UtcTimestamp(ms).format().to_vec()).unwrap()
}

/// A frame from TW to ISLD sent at `at`; `|` stands for SOH.
fn inbound(msg_type: &str, seq: u64, at: i64, extra: &str) -> Vec<u8> {
    let mut body = format!("35={msg_type}|34={seq}|49=TW|52={}|56=ISLD|", stamp(at));
    body.push_str(extra);
    if !body.ends_with('|') {
        body.push('|');
    }
    let body = body.replace('|', "\x01");
    let mut frame = format!("8=FIX.4.4\x019={}\x01{body}", body.len()).into_bytes();
    let sum = birzha_fix::checksum(&frame);
    frame.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
    frame
}

/// Splits written bytes into (MsgType, MsgSeqNum, whole frame) triples.
fn written(out: &mut Vec<u8>) -> Vec<(String, u64, String)> {
    let mut frames = Vec::new();
    let mut rest = &out[..];
    while let Ok(Some(length)) = check(rest, 1 << 16) {
        let mut fields = Fields::with_capacity(64);
        let view = parse(&rest[..length], &mut fields).unwrap();
        let text = String::from_utf8_lossy(&rest[..length]).replace('\x01', "|");
        frames.push((
            String::from_utf8_lossy(view.msg_type()).into(),
            view.msg_seq_num().unwrap(),
            text,
        ));
        rest = &rest[length..];
    }
    assert!(rest.is_empty(), "every written byte belongs to a whole frame");
    out.clear();
    frames
}

struct Harness {
    session: Session,
    store: MemoryStore,
    application: Recorder,
    out: Vec<u8>,
}

impl Harness {
    fn logon(extra: &str) -> Self {
        let (harness, status) = Self::start(MemoryStore::new(100), 1, extra);
        assert_eq!(status, Status::Active);
        harness
    }

    /// Logs TW on with MsgSeqNum `seq` over `store`; returns the session's status.
    fn start(mut store: MemoryStore, seq: u64, extra: &str) -> (Self, Status) {
        let config = Arc::new(SessionConfig::new("ISLD"));
        let dictionary = Arc::new(Dictionary::profile());
        let application = Recorder::default();
        let mut out = Vec::new();
        let frame = inbound("A", seq, T0, &format!("98=0|108=10|554=secret|{extra}"));
        let mut fields = Fields::with_capacity(64);
        let view = parse(&frame, &mut fields).unwrap();
        let request =
            check_logon(&config, &dictionary, &application, UtcTimestamp(T0), &view).unwrap();
        let (session, status) = Session::establish(
            config,
            dictionary,
            &application,
            UtcTimestamp(T0),
            &view,
            &request,
            &mut store,
            &mut out,
        )
        .unwrap();
        (Self { session, store, application, out }, status)
    }

    fn receive(&mut self, frame: &[u8], at: i64) -> Status {
        let mut fields = Fields::with_capacity(64);
        let view = parse(frame, &mut fields).unwrap();
        let Self { session, store, application, out } = self;
        session.on_message(UtcTimestamp(at), &view, application, store, out).unwrap()
    }

    fn tick(&mut self, at: i64) -> Status {
        self.session.on_timer(UtcTimestamp(at), &mut self.store, &mut self.out).unwrap()
    }
}

#[test]
fn logon_is_answered_and_bad_credentials_refused() {
    let mut harness = Harness::logon("");
    let frames = written(&mut harness.out);
    assert_eq!(frames.len(), 1);
    assert!(frames[0].2.contains("|35=A|34=1|49=ISLD|"), "{}", frames[0].2);
    assert!(frames[0].2.contains("|98=0|108=10|"), "{}", frames[0].2);

    let config = SessionConfig::new("ISLD");
    let frame = inbound("A", 1, T0, "98=0|108=10|554=wrong");
    let mut fields = Fields::with_capacity(64);
    let view = parse(&frame, &mut fields).unwrap();
    let refusal =
        check_logon(&config, &Dictionary::profile(), &Recorder::default(), UtcTimestamp(T0), &view);
    assert_eq!(refusal.unwrap_err().text, "bad credentials");
    let late = UtcTimestamp(T0 + 121_000);
    let refusal = check_logon(&config, &Dictionary::profile(), &Recorder::default(), late, &view);
    assert_eq!(refusal.unwrap_err().text, "SendingTime accuracy problem");
}

#[test]
fn heartbeat_test_request_and_timeout_follow_heartbeat_interval() {
    let mut harness = Harness::logon("");
    written(&mut harness.out);
    assert_eq!(harness.session.deadline(), Some(T0 + 10_000));
    assert_eq!(harness.tick(T0 + 9_999), Status::Active);
    assert!(written(&mut harness.out).is_empty());
    harness.tick(T0 + 10_000);
    assert_eq!(written(&mut harness.out)[0].0, "0");
    assert_eq!(harness.session.deadline(), Some(T0 + 12_000));
    harness.tick(T0 + 12_000);
    let frames = written(&mut harness.out);
    assert_eq!((frames[0].0.as_str(), frames[0].1), ("1", 3));
    assert!(frames[0].2.contains("|112=TEST|"));
    assert_eq!(
        harness.tick(T0 + 23_000),
        Status::Active,
        "no Heartbeat while a TestRequest is out"
    );
    assert!(written(&mut harness.out).is_empty());
    let status = harness.tick(T0 + 24_000);
    assert_eq!(status, Status::Disconnect { voluntary: false, reason: "heartbeat timeout" });
}

#[test]
fn gaps_are_requested_filled_and_possdups_never_delivered_twice() {
    let mut harness = Harness::logon("");
    written(&mut harness.out);
    let order = "11=A|54=1|60=20231114-22:13:20|40=1";
    harness.receive(&inbound("D", 2, T0, order), T0);
    harness.receive(&inbound("D", 5, T0, order), T0);
    let frames = written(&mut harness.out);
    assert_eq!(frames.len(), 1);
    assert!(
        frames[0].2.contains("|35=2|") && frames[0].2.contains("|7=3|16=0|"),
        "{}",
        frames[0].2
    );
    harness.receive(&inbound("D", 3, T0, order), T0);
    let duplicate = format!("43=Y|122={}|{order}", stamp(T0));
    harness.receive(&inbound("D", 3, T0, &duplicate), T0);
    harness.receive(&inbound("D", 4, T0, order), T0);
    assert_eq!(*harness.application.delivered.borrow(), [2, 3, 4, 5]);
    assert_eq!(harness.store.next_target_seq(), 6);
    assert!(written(&mut harness.out).is_empty());
}

#[test]
fn resend_replays_application_messages_and_gap_fills_the_rest() {
    let mut harness = Harness::logon("");
    let Harness { session, store, out, .. } = &mut harness;
    let report = report();
    assert_eq!(session.send(UtcTimestamp(T0), &report, store, out).unwrap(), 2);
    session.on_timer(UtcTimestamp(T0 + 10_000), store, out).unwrap();
    assert_eq!(session.send(UtcTimestamp(T0), &report, store, out).unwrap(), 4);
    written(out);
    harness.receive(&inbound("2", 2, T0 + 10_000, "7=1|16=0"), T0 + 10_000);
    let frames = written(&mut harness.out);
    let summary: Vec<(&str, u64)> =
        frames.iter().map(|(kind, seq, _)| (kind.as_str(), *seq)).collect();
    assert_eq!(summary, [("4", 1), ("8", 2), ("4", 3), ("8", 4)]);
    assert!(
        frames[0].2.contains("|43=Y|") && frames[0].2.contains("|36=2|123=Y|"),
        "{}",
        frames[0].2
    );
    assert!(frames[1].2.contains("|43=Y|") && frames[1].2.contains("|122="), "{}", frames[1].2);
    assert!(frames[1].2.contains("|37=O|17=E|"), "{}", frames[1].2);
}

/// A resend of a long range goes out in pieces of `RESEND_SEQS_PER_CALL` numbers, the first at
/// the request and the others on each `resend_more` (the gateway writes each to the wire before
/// it asks for the next, holding the store's lock only meanwhile); a run of numbers not kept
/// that spans pieces is still one gap fill, and the pieces cover every number once, in order.
#[test]
fn a_long_resend_goes_out_in_pieces_that_cover_every_number_once() {
    let (mut harness, _) = Harness::start(MemoryStore::new(5_000), 1, "");
    let Harness { session, store, out, .. } = &mut harness;
    let report = report();
    for seq in 2..=3_000 {
        if (1_501..2_600).contains(&seq) {
            store.save(seq, None).unwrap(); // an admin message: not kept
        } else {
            assert_eq!(session.send(UtcTimestamp(T0), &report, store, out).unwrap(), seq);
        }
    }
    written(out);
    harness.receive(&inbound("2", 2, T0, "7=1|16=0"), T0);
    let mut pieces = vec![written(&mut harness.out)];
    while harness.session.resending() {
        let Harness { session, store, out, .. } = &mut harness;
        session.resend_more(UtcTimestamp(T0), store, out);
        pieces.push(written(out));
    }
    assert_eq!(pieces.len() as u64, 3_000u64.div_ceil(RESEND_SEQS_PER_CALL));
    let mut next = 1;
    let mut gap_fills = Vec::new();
    for (kind, seq, text) in pieces.concat() {
        assert_eq!(seq, next, "{text}");
        next = seq + 1;
        if kind == "4" {
            let new_seq = text.split("|36=").nth(1).and_then(|rest| rest.split('|').next());
            next = new_seq.unwrap().parse().unwrap();
            gap_fills.push((seq, next));
        }
    }
    assert_eq!(next, 3_001);
    assert_eq!(gap_fills, [(1, 2), (1_501, 2_600)]);
}

#[test]
fn invalid_messages_are_rejected_and_logout_is_voluntary() {
    let mut harness = Harness::logon("");
    written(&mut harness.out);
    harness.receive(&inbound("D", 2, T0, "11=A|54=Z|60=20231114-22:13:20|40=1"), T0);
    let frames = written(&mut harness.out);
    assert!(frames[0].2.contains("|35=3|"), "{}", frames[0].2);
    assert!(
        frames[0].2.contains(
            "|45=2|58=Value is incorrect (out of range) for this tag|371=54|372=D|373=5|"
        )
    );
    assert_eq!(harness.store.next_target_seq(), 3, "the rejected message consumed its number");
    assert_eq!(
        harness.receive(&inbound("5", 3, T0, ""), T0),
        Status::Disconnect { voluntary: true, reason: "Logout" }
    );
    assert_eq!(written(&mut harness.out)[0].0, "5");
    harness.session.end(&harness.application, true);
    assert_eq!(*harness.application.ended.borrow(), Some(true));
}

/// Regression (a review of 2026-11-29): a tag of more than nine digits made the frame
/// malformed, so the message was dropped without a Reject; its number was never used up, the
/// next message opened a gap, and the peer's resend of the same bytes was dropped again:
/// the session stalled for good. Now it is an invalid tag, as a negative one is.
#[test]
fn a_tag_of_ten_digits_is_rejected_and_uses_up_its_number() {
    let mut harness = Harness::logon("");
    written(&mut harness.out);
    let extra = "11=A|54=1|60=20231114-22:13:20|40=1|38=1|99999999999=x";
    harness.receive(&inbound("D", 2, T0, extra), T0);
    let frames = written(&mut harness.out);
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert!(frames[0].2.contains("|35=3|") && frames[0].2.contains("|373=0|"), "{}", frames[0].2);
    assert_eq!(harness.store.next_target_seq(), 3, "the rejected message consumed its number");
    harness.receive(&inbound("0", 3, T0, ""), T0);
    assert!(written(&mut harness.out).is_empty(), "no ResendRequest: no gap");
}

#[test]
fn reset_seq_num_flag_restarts_both_directions() {
    let mut harness = Harness::logon("");
    harness.receive(&inbound("0", 2, T0, ""), T0);
    written(&mut harness.out);
    harness.receive(&inbound("A", 1, T0, "98=0|108=10|141=Y"), T0);
    let frames = written(&mut harness.out);
    assert_eq!((frames[0].0.as_str(), frames[0].1), ("A", 1));
    assert!(frames[0].2.contains("|141=Y|"));
    assert_eq!((harness.store.next_sender_seq(), harness.store.next_target_seq()), (2, 2));
}

/// Regression (issue 7, fuzzing): a message without MsgSeqNum was answered with a Reject that
/// lacked RefSeqNum (45), a required field, so the Reject itself was invalid FIX. Found by
/// `sequences::prop_arbitrary_message_sequences_keep_the_session_rules`.
#[test]
fn reject_of_a_message_without_msg_seq_num_is_valid() {
    let mut harness = Harness::logon("");
    written(&mut harness.out);
    let body = format!("35=5|49=TW|52={}|56=ISLD|", stamp(T0)).replace('|', "\x01");
    let mut frame = format!("8=FIX.4.4\x019={}\x01{body}", body.len()).into_bytes();
    let sum = birzha_fix::checksum(&frame);
    frame.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
    assert_eq!(harness.receive(&frame, T0), Status::Active);
    let frames = written(&mut harness.out);
    assert!(frames[0].2.contains("|35=3|") && frames[0].2.contains("|45=0|"), "{}", frames[0].2);
    let reject = frames[0].2.replace('|', "\x01");
    let mut fields = Fields::with_capacity(64);
    let view = parse(reject.as_bytes(), &mut fields).unwrap();
    assert!(Dictionary::profile().validate(&view).is_ok(), "{}", frames[0].2);
}

/// Regression (a review of 2026-11-29): a MsgSeqNum of more than 18 digits was read as 0
/// and the session logged out with "MsgSeqNum too low, expecting 2 but received 0", a false
/// reason. It is a value of the wrong format: a Reject naming tag 34, and the session goes on.
#[test]
fn a_msg_seq_num_too_long_to_read_is_rejected_as_badly_formatted() {
    let mut harness = Harness::logon("");
    written(&mut harness.out);
    for seq in ["18446744073709551615", "1234567890123456789012"] {
        let body = format!("35=0|34={seq}|49=TW|52={}|56=ISLD|", stamp(T0)).replace('|', "\x01");
        let mut frame = format!("8=FIX.4.4\x019={}\x01{body}", body.len()).into_bytes();
        let sum = birzha_fix::checksum(&frame);
        frame.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
        assert_eq!(harness.receive(&frame, T0), Status::Active, "{seq}");
        let frames = written(&mut harness.out);
        assert_eq!(frames.len(), 1, "{frames:?}");
        let reject = &frames[0].2;
        assert!(reject.contains("|35=3|") && reject.contains("|371=34|"), "{reject}");
        assert!(reject.contains("|373=6|"), "{reject}");
    }
    harness.receive(&inbound("0", 2, T0, ""), T0);
    assert!(written(&mut harness.out).is_empty(), "still expecting 2");
}

// Regressions found by a review of the session layer (2026-11-29).

/// The (MsgType, MsgSeqNum) of written frames.
fn kinds(frames: &[(String, u64, String)]) -> Vec<(String, u64)> {
    frames.iter().map(|(kind, seq, _)| (kind.clone(), *seq)).collect()
}

/// The first written frame of `msg_type`.
fn find<'a>(frames: &'a [(String, u64, String)], msg_type: &str) -> Option<&'a str> {
    frames.iter().find(|(kind, _, _)| kind == msg_type).map(|(_, _, text)| text.as_str())
}

/// A ResendRequest that reveals a gap is answered, and then the gap is asked for (it was only
/// queued: a Logout next would have left the gap unrequested).
#[test]
fn a_resend_request_too_high_is_answered_and_asks_for_the_gap() {
    let mut harness = Harness::logon("");
    written(&mut harness.out);
    harness.receive(&inbound("2", 5, T0, "7=1|16=0"), T0);
    let frames = written(&mut harness.out);
    assert_eq!(kinds(&frames), [("4".to_owned(), 1), ("2".to_owned(), 2)], "{frames:?}");
    assert!(find(&frames, "2").is_some_and(|text| text.contains("|7=2|16=0|")), "{frames:?}");
    assert_eq!(harness.store.next_target_seq(), 2, "the gap is not skipped");
}

/// A Logon with ResetSeqNumFlag mid-session starts over with the HeartBtInt it asks for
/// (the old interval was echoed and used: a peer heartbeating every 30 s was sent a
/// TestRequest after 12 s and cut off after 24 s).
#[test]
fn a_reset_logon_mid_session_takes_its_heartbeat_interval() {
    let mut harness = Harness::logon("");
    written(&mut harness.out);
    harness.receive(&inbound("A", 1, T0, "98=0|108=30|141=Y"), T0);
    let frames = written(&mut harness.out);
    let reply = find(&frames, "A").expect("a Logon answer");
    assert!(reply.contains("|108=30|141=Y|"), "HeartBtInt not echoed: {reply}");
    assert_eq!(harness.tick(T0 + 25_000), Status::Active);
    let frames = written(&mut harness.out);
    assert!(find(&frames, "1").is_none(), "a TestRequest within 30 s: {:?}", kinds(&frames));
    // Its bounds are those of a first Logon.
    harness.receive(&inbound("A", 1, T0, "98=0|108=0|141=Y"), T0 + 25_000);
    let frames = written(&mut harness.out);
    let logout = find(&frames, "5").expect("a Logout");
    assert!(logout.contains("58=HeartBtInt must be between"), "{logout}");
}

/// A reset Logon addressed to another CompID is rejected like any message (it reset the
/// trader's sequence numbers and was answered).
#[test]
fn a_reset_logon_mid_session_to_another_comp_id_is_rejected() {
    let mut harness = Harness::logon("");
    harness.receive(&inbound("0", 2, T0, ""), T0);
    written(&mut harness.out);
    let frame = String::from_utf8(inbound("A", 1, T0, "98=0|108=10|141=Y")).unwrap_or_default();
    let body = &frame[frame.find("35=").unwrap_or(0)..frame.find("10=").unwrap_or(0)];
    let body = body.replace("56=ISLD", "56=ELSE");
    let mut frame = format!("8=FIX.4.4\x019={}\x01{body}", body.len()).into_bytes();
    let sum = birzha_fix::checksum(&frame);
    frame.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
    harness.receive(&frame, T0);
    let frames = written(&mut harness.out);
    assert!(find(&frames, "3").is_some_and(|text| text.contains("|373=9|")), "{frames:?}");
    assert!(find(&frames, "A").is_none(), "answered: {frames:?}");
    assert_eq!(harness.store.next_target_seq(), 3, "sequence numbers were reset");
}

/// A Logon whose MsgSeqNum is too low gets the Logout alone: it was first answered with a
/// Logon, telling the trader's engine it was logged on.
#[test]
fn a_logon_too_low_is_refused_without_being_answered() {
    let mut store = MemoryStore::new(100);
    store.set_next_target_seq(5).unwrap_or_default();
    let (mut harness, status) = Harness::start(store, 3, "");
    assert!(matches!(status, Status::Disconnect { voluntary: false, .. }), "{status:?}");
    let frames = written(&mut harness.out);
    assert_eq!(kinds(&frames), [("5".to_owned(), 1)], "{frames:?}");
    assert!(harness.application.delivered.borrow().is_empty());
}

/// Once a too-high Logon's gap is filled (by a gap fill, then the queued Logon), the next gap
/// is asked for (the filled resend stayed "outstanding" and every later gap went unrequested).
#[test]
fn a_gap_after_a_filled_logon_gap_is_asked_for() {
    let mut store = MemoryStore::new(100);
    store.set_next_target_seq(2).unwrap_or_default();
    let (mut harness, status) = Harness::start(store, 5, "");
    assert_eq!(status, Status::Active);
    let frames = written(&mut harness.out);
    assert!(find(&frames, "2").is_some_and(|text| text.contains("|7=2|16=0|")), "{frames:?}");
    let gap_fill = format!("43=Y|122={}|36=5|123=Y", stamp(T0));
    harness.receive(&inbound("4", 2, T0, &gap_fill), T0);
    assert_eq!(harness.store.next_target_seq(), 6);
    written(&mut harness.out);
    harness.receive(&inbound("0", 8, T0 + 1_000, ""), T0 + 1_000);
    let frames = written(&mut harness.out);
    assert!(find(&frames, "2").is_some_and(|text| text.contains("|7=6|16=0|")), "{frames:?}");
}

/// As QuickFIX's 20_SimultaneousResendRequest: a ResendRequest numbered too high while our own
/// ResendRequest for the same gap is outstanding is answered, and no second ResendRequest is
/// sent (a first version of the fix above asked again: the range was cleared by any message
/// numbered past it, checked or not).
#[test]
fn a_resend_request_too_high_during_our_resend_does_not_ask_again() {
    let mut harness = Harness::logon("");
    written(&mut harness.out);
    harness.receive(&inbound("0", 5, T0, ""), T0);
    let frames = written(&mut harness.out);
    assert_eq!(kinds(&frames), [("2".to_owned(), 2)], "{frames:?}");
    harness.receive(&inbound("2", 6, T0, "7=1|16=0"), T0);
    let frames = written(&mut harness.out);
    assert!(find(&frames, "4").is_some(), "answered: {frames:?}");
    assert!(find(&frames, "2").is_none(), "a second ResendRequest for the same gap: {frames:?}");
}

/// As QuickFIX's 8_OnlyAdminMessages: a ResendRequest numbered below the expected number
/// without PossDup (QuickFIX verifies a ResendRequest with no sequence checks) is answered with
/// a gap fill, and the session goes on.
#[test]
fn a_resend_request_repeated_with_an_old_number_is_answered_as_quickfix_does() {
    let mut harness = Harness::logon("");
    for seq in 2..=4 {
        harness.receive(&inbound("1", seq, T0, "112=HELLO"), T0);
    }
    harness.receive(&inbound("2", 5, T0, "7=1|16=4"), T0);
    harness.receive(&inbound("1", 6, T0, "112=HELLO"), T0);
    written(&mut harness.out);
    let status = harness.receive(&inbound("2", 5, T0, "7=1|16=0"), T0);
    let frames = written(&mut harness.out);
    assert_eq!(status, Status::Active, "{frames:?}");
    assert!(find(&frames, "4").is_some_and(|t| t.contains("|36=6|123=Y|")), "{frames:?}");
}

/// A PossDup ResendRequest below the expected number is answered too: the requester may still
/// be waiting for the messages it asks for.
#[test]
fn a_poss_dup_resend_request_too_low_is_still_answered() {
    let mut harness = Harness::logon("");
    harness.receive(&inbound("0", 2, T0, ""), T0);
    harness.receive(&inbound("0", 3, T0, ""), T0);
    written(&mut harness.out);
    let extra = format!("43=Y|122={}|7=1|16=0", stamp(T0));
    let status = harness.receive(&inbound("2", 2, T0, &extra), T0);
    let frames = written(&mut harness.out);
    assert_eq!(status, Status::Active);
    assert!(find(&frames, "4").is_some(), "not answered: {frames:?}");
}

/// Regression (a review's): a kept application message with more fields than
/// `SessionConfig::fields_max` (1024 by default), such as a full-depth
/// MarketDataSnapshotFullRefresh of a book with 400 levels, was neither resent nor gap-filled:
/// the resend parsed it with a `fields_max` buffer and skipped it, a hole in the resend (a
/// debug build panicked on the invariant).
#[test]
fn a_kept_message_with_more_fields_than_fields_max_is_resent() {
    let mut harness = Harness::logon("");
    let Harness { session, store, out, .. } = &mut harness;
    let mut body = String::from("262=BOOK|55=BUT82-FCA-USD|268=400|");
    for level in 0..400 {
        body.push_str(&format!("269=0|270={}|271=1|", 6120 + level));
    }
    let body = body.replace('|', "\x01");
    let snapshot = Outgoing { msg_type: b"W", body: body.as_bytes(), poss_resend: false };
    assert_eq!(session.send(UtcTimestamp(T0), &snapshot, store, out).unwrap(), 2);
    out.clear();
    harness.receive(&inbound("2", 2, T0, "7=1|16=0"), T0);
    // (MsgType, MsgSeqNum) of every frame written, read without a field limit.
    let mut summary = Vec::new();
    let mut rest = &harness.out[..];
    while let Ok(Some(length)) = check(rest, 1 << 20) {
        let text = String::from_utf8_lossy(&rest[..length]).replace('\x01', "|");
        let value = |tag: &str| {
            let start = text.find(&format!("|{tag}=")).unwrap() + tag.len() + 2;
            text[start..].split('|').next().unwrap().to_owned()
        };
        summary.push((value("35"), value("34")));
        rest = &rest[length..];
    }
    let expected = [("4".to_owned(), "1".to_owned()), ("W".to_owned(), "2".to_owned())];
    assert_eq!(summary, expected, "the snapshot (2) must be resent, or at least gap-filled");
}

/// An ExecutionReport (New) as the tests send it.
fn report() -> Outgoing<'static> {
    let body = b"37=O\x0117=E\x01150=0\x0139=0\x0154=1\x01151=1\x0114=0\x016=0\x01";
    Outgoing { msg_type: b"8", body, poss_resend: false }
}

/// A session on a store of 5 000 messages that sent `count` execution reports after its Logon
/// (numbered 2 on), its output read.
fn with_reports(count: u64) -> Harness {
    let (mut harness, _) = Harness::start(MemoryStore::new(5_000), 1, "");
    written(&mut harness.out);
    send_reports(&mut harness, count);
    harness
}

/// `count` execution reports sent on the harness's session (numbered from the store's next).
fn send_reports(harness: &mut Harness, count: u64) {
    let report = report();
    let Harness { session, store, out, .. } = harness;
    for _ in 0..count {
        session.send(UtcTimestamp(T0), &report, store, out).unwrap();
    }
    written(out);
}

/// Every frame of a resend in progress, piece by piece, as the gateway writes them.
fn rest_of_resend(harness: &mut Harness) -> Vec<(String, u64, String)> {
    let mut frames = Vec::new();
    for _ in 0..100 {
        if !harness.session.resending() {
            break;
        }
        let Harness { session, store, out, .. } = harness;
        session.resend_more(UtcTimestamp(T0), store, out);
        frames.extend(written(out));
    }
    frames
}

/// Regression (a review's): a Logon with ResetSeqNumFlag while a long resend was in progress
/// reset both sequence numbers, but the rest of the old resend still went out afterwards: gap
/// fills numbered in the old range with a NewSeqNo past the old end, though the reset session
/// was at MsgSeqNum 2 (the counterparty then took our next messages for "too low").
#[test]
fn a_reset_logon_during_a_long_resend_ends_the_resend() {
    let mut harness = with_reports(2_999); // 2..=3000
    harness.receive(&inbound("2", 2, T0, "7=1|16=0"), T0);
    let first = written(&mut harness.out);
    assert_eq!(first.len() as u64, RESEND_SEQS_PER_CALL, "the first piece: 1..=1024");
    assert!(harness.session.resending());
    harness.receive(&inbound("A", 1, T0, "98=0|108=10|141=Y"), T0);
    let frames = written(&mut harness.out);
    assert_eq!(kinds(&frames), [("A".to_owned(), 1)], "{frames:?}");
    assert_eq!(harness.store.next_sender_seq(), 2);
    let after_reset = rest_of_resend(&mut harness);
    assert!(
        after_reset.is_empty(),
        "after the reset Logon (next MsgSeqNum 2) the old resend went on: {:?}",
        after_reset.iter().map(|(_, _, text)| text.as_str()).collect::<Vec<_>>()
    );
}

/// Regression (a review's): a ResendRequest numbered too high was answered with the first piece
/// of the resend, then the session's own ResendRequest for the gap, numbered after the range,
/// went out ahead of the rest of the resend. Anything the session numbers now first writes the
/// rest of the resend.
#[test]
fn nothing_is_numbered_between_the_pieces_of_a_resend() {
    let mut harness = with_reports(2_999); // 2..=3000
    harness.receive(&inbound("2", 5, T0, "7=1|16=0"), T0);
    let mut frames = written(&mut harness.out);
    frames.extend(rest_of_resend(&mut harness));
    let position = frames.iter().position(|(kind, _, _)| kind == "2").expect("a ResendRequest");
    assert_eq!(frames[position].1, 3_001);
    assert_eq!(
        position,
        frames.len() - 1,
        "our ResendRequest (3001) went out after {} of the resent frames (last one before it: \
         seq {}), ahead of 1025..=3000",
        position,
        frames[position - 1].1
    );
}
