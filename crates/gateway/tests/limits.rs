//! The connection layer's limits under pressure: parallel Logons from one refused address,
//! Logons and blocked writes when a shutdown begins, sustained throttle abuse. Each test is a
//! regression test of a bug a review of the layer found (docs/reliability.md).

use std::time::{Duration, Instant};

use birzha_fix::{Body, WriteFields};
use birzha_gateway::{GatewayConfig, OutboundMessage, Sessions};

use crate::gateway::{TRADER, start};
use crate::util::{Client, field, frame, utc_now};

fn config() -> GatewayConfig {
    let mut config = GatewayConfig::new("BIRZHA");
    config.session.logout_timeout_ms = 500;
    config
}

fn message(sender: &str, msg_type: &str, seq: u64, fields: &str) -> Vec<u8> {
    let header = format!("35={msg_type}|34={seq}|49={sender}|52={}|56=BIRZHA", utc_now(0));
    frame(&if fields.is_empty() { header } else { format!("{header}|{fields}") })
}

fn show(frame: &[u8]) -> String {
    String::from_utf8_lossy(frame).replace('\x01', "|")
}

fn big_report(n: usize) -> OutboundMessage {
    let mut body = Body::new();
    body.str(37, format!("O-{n}").as_bytes()).str(11, b"C-1").str(17, b"E-1").char(150, b'0');
    body.char(39, b'0').str(55, b"BUTTER").char(54, b'1').uint(38, 10).char(40, b'2');
    body.decimal(44, 68_005, 1).uint(151, 10).uint(14, 0).uint(6, 0);
    body.timestamp(60, birzha_fix::UtcTimestamp(1_700_000_000_000));
    body.str(58, "r".repeat(4_000).as_bytes());
    OutboundMessage::new(&b"8"[..], body.as_bytes().to_vec())
}

/// One refused Logon from `client`, answered: how long the answer took.
async fn refused_logon(mut client: Client) -> Duration {
    let started = Instant::now();
    client.send(&message("INTRUDER", "A", 1, "98=0|108=30")).await;
    let logout = client.receive_within(30).await.unwrap().expect("a Logout");
    assert_eq!(field(&logout, 35).as_deref(), Some("5"), "{}", show(&logout));
    started.elapsed()
}

/// Regression: the per-address Logon delay is read when a Logon arrives and raised only when its
/// refusal is written, so Logons sent in parallel from one address all wait the same (first)
/// delay: an attacker with one address gets `sessions_max` password guesses per delay instead
/// of one guess per doubling delay (operations.md `logon_failure_delay_ms`: "to slow password
/// guessing; it doubles with each further failure from the same address"; reliability.md:
/// "each answer waits twice as long as the previous").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_refused_logons_from_one_address_each_wait_longer() {
    let mut config = config();
    config.auth_backoff_base = Duration::from_millis(1_000);
    config.auth_backoff_max = Duration::from_secs(10);
    let (server, _) = start(config).await;
    // The first refusal: from now on this address is delayed.
    refused_logon(Client::connect(server.address).await).await;
    // Eight guesses at once.
    let mut clients = Vec::new();
    for _ in 0..8 {
        clients.push(Client::connect(server.address).await);
    }
    let started = Instant::now();
    let guesses: Vec<_> = clients.into_iter().map(|c| tokio::spawn(refused_logon(c))).collect();
    for guess in guesses {
        guess.await.unwrap();
    }
    let all_answered = started.elapsed();
    // Serially these refusals would wait 1 + 2 + 4 + 8 + 10 + 10 + 10 + 10 s; even the second
    // must wait twice the first delay.
    assert!(
        all_answered >= Duration::from_millis(1_900),
        "8 refused guesses from one address were all answered within {all_answered:?}: the \
         delay does not double for Logons sent in parallel"
    );
    server.stop().await;
}

/// Regression: a Logon that is being delayed (earlier refusals from its address) when the shutdown
/// begins is still answered and establishes a session once the delay ends, after the server
/// has stopped accepting and after `run` has returned (the delay's sleep does not watch the
/// shutdown signal). The issue: "Graceful shutdown: stop accepting, Logout every session,
/// wait for their Logout briefly, close"; fix.md: "Shutdown: stop accepting, ...".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logon_delayed_when_the_shutdown_begins_is_not_accepted() {
    let mut config = config();
    config.auth_backoff_base = Duration::from_secs(2);
    config.auth_backoff_max = Duration::from_secs(2);
    config.shutdown_grace = Duration::from_millis(300);
    let (server, sessions) = start(config).await;
    refused_logon(Client::connect(server.address).await).await;
    let mut client = Client::connect(server.address).await;
    client.send(&message(TRADER, "A", 1, "98=0|108=30")).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.stop().await;
    // The server has stopped; what does the waiting trader get?
    let mut logged_on_after_stop = false;
    let mut received = Vec::new();
    while let Ok(Some(frame)) = client.receive_within(5).await {
        received.push(show(&frame));
        if field(&frame, 35).as_deref() == Some("A") {
            logged_on_after_stop = true;
            client.send(&message(TRADER, "5", 2, "")).await;
        }
    }
    assert!(
        !logged_on_after_stop,
        "a Logon was accepted after the server stopped (run returned): {received:?}; \
         logged on now: {}",
        sessions.is_logged_on(TRADER)
    );
}

/// A gateway on `config` whose session of [`TRADER`] is writing a resend of 4 000 large
/// reports to a client with a 4 KiB receive buffer that reads nothing yet.
async fn writing_a_resend(config: GatewayConfig) -> (crate::util::Server, Sessions, Client) {
    let (server, sessions) = start(config).await;
    for n in 0..4_000 {
        sessions.send(TRADER, big_report(n)).unwrap();
    }
    let mut client = Client::connect_with_receive_buffer(server.address, 4_096).await;
    client.send(&message(TRADER, "A", 1, "98=0|108=30")).await;
    client.send(&message(TRADER, "2", 2, "7=1|16=0")).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(sessions.is_logged_on(TRADER), "the session is writing its resend");
    (server, sessions, client)
}

/// Regression: the shutdown signal is not watched while a batch is being written, so a session
/// whose peer reads slowly (or not at all, up to `write_timeout`, 30 s) at shutdown is
/// neither logged out nor closed: `run` returns after `shutdown_grace` with that session
/// still logged on and its connection open, and it goes on being served afterwards. The
/// issue: "Graceful shutdown: stop accepting, Logout every session, wait for their Logout
/// briefly, close"; lib.rs/fix.md: "wait for the Logouts (at most shutdown_grace), close".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_writing_a_resend_at_shutdown_is_closed_when_run_returns() {
    let mut config = config();
    config.shutdown_grace = Duration::from_millis(500);
    let (server, sessions, client) = writing_a_resend(config).await;
    let started = Instant::now();
    server.stop().await;
    let stop_took = started.elapsed();
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert!(
        !sessions.is_logged_on(TRADER),
        "run returned after {stop_took:?} but the session is still logged on (its task \
         still runs, its connection is open) a second later"
    );
    drop(client);
}

/// Regression (a deviation from the market model): a session over its throttle rate for 10 s running is cut off without a
/// Logout, so its trader's engine sees a bare TCP drop (which it treats as a network failure
/// and reconnects at once) and never learns why. market-model.md §6: "sustained abuse logs
/// the session out"; the issue: refusals get "Logout with reason, disconnect". (docs/market.md
/// says "disconnected", which is what the code does: `Sessions::disconnect` kicks the session
/// like a slow reader.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sustained_throttle_abuse_is_logged_out_with_a_reason() {
    let running = crate::exchange::start(2).await;
    let (closed, received, n) = abuse(&running, Duration::from_secs(16)).await;
    assert!(closed, "the abusing session was never cut off ({n} orders at 20/s, rate 2/s)");
    let logout = received.iter().find(|frame| field(frame, 35).as_deref() == Some("5"));
    assert!(
        logout.is_some(),
        "cut off for sustained throttle abuse without a Logout (no reason given); last frames: {:?}",
        received.iter().rev().take(2).map(|f| show(f)).collect::<Vec<_>>()
    );
    // Regression (review of the stop that logged abuse once): the trader's engine reconnects
    // at once and floods on; the run of throttled seconds goes on, and the new session was
    // never logged out, since only the run's first verdict of abuse logged a session out.
    let (closed, received, n) = abuse(&running, Duration::from_secs(5)).await;
    assert!(closed, "the reconnected abuser was never cut off ({n} orders)");
    assert!(received.iter().any(|frame| field(frame, 35).as_deref() == Some("5")), "a Logout");
    running.stop().await;
}

/// Logs TRADER1 on (again, as soon as its last session is gone) and sends orders at 20/s
/// (its rate is 2/s) for at most `within`; returns whether the exchange closed the session,
/// the frames received, and the orders sent.
async fn abuse(running: &crate::exchange::Running, within: Duration) -> (bool, Vec<Vec<u8>>, u32) {
    let mut seq = 1;
    let mut send = |msg_type: &str, body: &str| {
        let bytes = message("TRADER1", msg_type, seq, body);
        seq += 1;
        bytes
    };
    let mut client = Client::connect(running.server.address).await;
    client.send(&send("A", "98=0|108=30|141=Y|554=demo")).await;
    let logon = client.receive_within(5).await.unwrap().expect("Logon reply");
    assert_eq!(field(&logon, 35).as_deref(), Some("A"), "{}", show(&logon));
    let deadline = Instant::now() + within;
    let mut received = Vec::new();
    let mut closed = false;
    let mut n = 0;
    while Instant::now() < deadline && !closed {
        n += 1;
        let body = format!(
            "11=AB{n}|55={}|54=1|60={}|38=1|40=2|44=6700",
            crate::exchange::BUTTER,
            utc_now(0)
        );
        client.send(&send("D", &body)).await;
        let until = Instant::now() + Duration::from_millis(50);
        while let Some(left) = until.checked_duration_since(Instant::now()) {
            match tokio::time::timeout(left, client.receive()).await {
                Ok(Some(frame)) => received.push(frame),
                Ok(None) => {
                    closed = true;
                    break;
                }
                Err(_) => break,
            }
        }
    }
    (closed, received, n)
}

/// Regression (a review of the fix above): the THROTTLED reject of the order that tipped the
/// session into sustained abuse goes through the dispatcher, while the Logout was written at
/// once by the session task, so the Logout went first and the reject was never sent in this
/// session. Each order here is sent once the one before is answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abuse_logout_follows_the_reject_of_the_last_order() {
    let running = crate::exchange::start(2).await;
    let mut client = Client::connect(running.server.address).await;
    let mut seq = 1;
    client.send(&message("TRADER1", "A", seq, "98=0|108=30|554=demo")).await;
    seq += 1;
    let logon = client.receive_within(5).await.unwrap().expect("Logon reply");
    assert_eq!(field(&logon, 35).as_deref(), Some("A"), "{}", show(&logon));
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut received: Vec<Vec<u8>> = Vec::new();
    let mut closed = false;
    'orders: for n in 0.. {
        assert!(Instant::now() < deadline, "never logged out");
        let slot = Instant::now() + Duration::from_millis(50);
        let last_sent = format!("AB{n}");
        let body = format!(
            "11={last_sent}|55={}|54=1|60={}|38=1|40=2|44=6700",
            crate::exchange::BUTTER,
            utc_now(0)
        );
        client.send(&message("TRADER1", "D", seq, &body)).await;
        seq += 1;
        // Wait for this order's answer (or the end of the session).
        loop {
            match tokio::time::timeout(Duration::from_secs(2), client.receive()).await {
                Ok(Some(frame)) => {
                    let done = field(&frame, 11).as_deref() == Some(last_sent.as_str());
                    let logout = field(&frame, 35).as_deref() == Some("5");
                    received.push(frame);
                    if done {
                        break;
                    }
                    if logout {
                        // Whatever follows the Logout, until the close.
                        while let Ok(Some(frame)) =
                            tokio::time::timeout(Duration::from_secs(2), client.receive()).await
                        {
                            received.push(frame);
                        }
                        closed = true;
                        break 'orders;
                    }
                }
                Ok(None) => {
                    closed = true;
                    break 'orders;
                }
                Err(_) => panic!("order {last_sent} unanswered and the session still open"),
            }
        }
        if let Some(left) = slot.checked_duration_since(Instant::now()) {
            tokio::time::sleep(left).await;
        }
    }
    assert!(closed);
    let logout_at = received
        .iter()
        .position(|f| field(f, 35).as_deref() == Some("5"))
        .expect("a Logout for sustained abuse");
    let tail: Vec<String> = received.iter().rev().take(3).map(|f| show(f)).collect();
    // The order that tipped the session into abuse is answered (THROTTLED) just before the
    // Logout; an order sent after that answer may go unread.
    let before = logout_at.checked_sub(1).map(|at| &received[at]);
    let throttled = before.and_then(|f| field(f, 58)).is_some_and(|t| t.starts_with("THROTTLED"));
    assert!(throttled, "the Logout does not follow a THROTTLED reject; last frames: {tail:?}");
    assert_eq!(logout_at + 1, received.len(), "frames after the Logout: {tail:?}");
    running.stop().await;
}

/// Regression (a review of the fix above): a peer reading as fast as it can while a resend is
/// being written when the shutdown begins was cut off mid-frame with no Logout (a pending
/// write was taken for a peer not reading). The write now gets the shutdown's grace, and the
/// Logout follows it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reading_peer_mid_resend_at_shutdown_gets_the_shutdown_logout() {
    let mut config = birzha_gateway::GatewayConfig::new("BIRZHA");
    config.session.logout_timeout_ms = 500;
    let (server, sessions) = crate::gateway::start(config).await;
    for n in 0..4_000 {
        sessions.send(crate::gateway::TRADER, big_report(n)).unwrap();
    }
    let mut client = Client::connect(server.address).await;
    client.send(&message(crate::gateway::TRADER, "A", 1, "98=0|108=30")).await;
    let logon = client.receive_within(5).await.unwrap().expect("Logon reply");
    assert_eq!(field(&logon, 35).as_deref(), Some("A"), "{}", show(&logon));
    client.send(&message(crate::gateway::TRADER, "2", 2, "7=1|16=0")).await;
    // Read everything, as fast as possible, until the server closes.
    let reader = tokio::spawn(async move {
        let mut frames = 0usize;
        let mut logout = None;
        while let Ok(Some(frame)) = client.receive_within(10).await {
            frames += 1;
            if field(&frame, 35).as_deref() == Some("5") {
                logout = Some(show(&frame));
            }
        }
        (frames, logout)
    });
    tokio::time::sleep(Duration::from_millis(30)).await;
    let started = Instant::now();
    server.stop().await;
    let stop_took = started.elapsed();
    let (frames, logout) = reader.await.unwrap();
    assert!(
        logout.is_some(),
        "a peer reading its resend at full speed was cut off at shutdown without the \
         shutdown Logout after {frames} frames (stop took {stop_took:?}, grace 5 s)"
    );
}

/// Regression (a review of the fix above): a write that finished late in the shutdown's grace
/// was followed by the shutdown Logout with a grace of its own, then the wait for its answer,
/// past the end of the grace: `run` returned with the session still logged on. The grace is
/// now one deadline for the rest of the write, the Logout and the wait for its answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_finishing_late_in_the_grace_does_not_outlive_run() {
    let mut config = config();
    config.shutdown_grace = Duration::from_millis(2_000);
    let (server, sessions, mut client) = writing_a_resend(config).await;
    let started = Instant::now();
    let stop = tokio::spawn(async move {
        server.stop().await;
        Instant::now()
    });
    // The peer reads nothing for 0.9 of the grace, then everything at full speed; it never
    // answers the Logout.
    tokio::time::sleep(Duration::from_millis(1_800)).await;
    let reader = tokio::spawn(async move {
        let mut logout = None;
        let mut frames = 0;
        while let Some(frame) = client.receive().await {
            frames += 1;
            if field(&frame, 35).as_deref() == Some("5") {
                logout = Some(started.elapsed());
            }
        }
        (logout, frames, started.elapsed())
    });
    let returned = stop.await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let logged_on = sessions.is_logged_on(TRADER);
    let (logout, frames, closed) = reader.await.unwrap();
    assert!(
        !logged_on,
        "run returned {:?} after the shutdown began with the session still logged on (its \
         Logout read at {logout:?}, connection closed at {closed:?}, {frames} frames)",
        returned - started,
    );
}
