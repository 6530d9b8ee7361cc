//! How the gateway takes traders' requests (D, F, G, q, H, V, x): what the profile accepts,
//! refuses and answers. The first tests are regressions from a review (2026-11-29).

use crate::exchange::{BUTTER, Trader, start};
use crate::outbound::rest;
use crate::util::{field, utc_now};

fn shown(frame: &[u8]) -> String {
    String::from_utf8_lossy(frame).replace('\x01', "|")
}

/// Regression: a GTD order whose ExpireDate (432) lay past 2554 overflowed the expiry's
/// timestamp: the shard panicked (a debug build; a release build got a wrong expiry) and every
/// later order on it was answered STOPPED. It is rejected EXPIRE_DATE_INVALID.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_far_future_expire_date_is_answered_and_the_shard_trades_on() {
    let running = start(500).await;
    let mut trader = Trader::logon(running.server.address, "TRADER1", 1).await;
    trader.order("GTD1", BUTTER, 1, 1, "6800", "|59=6|432=30000101").await;
    let answer = trader
        .expect(
            |m| field(m, 35).as_deref() == Some("8") && field(m, 11).as_deref() == Some("GTD1"),
            "GTD1's report",
        )
        .await;
    assert_eq!(field(&answer, 39).as_deref(), Some("8"), "{}", shown(&answer));
    let text = field(&answer, 58).unwrap_or_default();
    assert!(text.starts_with("EXPIRE_DATE_INVALID"), "{text}");
    rest(&mut trader, "AFTER", (1, 1, "6800"), "").await;
    running.stop().await;
}

/// Regression: the Side (54) of a cancel or replace was never compared with the order's: a G
/// "to the other side" was acknowledged with the side unchanged, and an F with the other side
/// cancelled the order. Both are refused (OrderCancelReject), and the order works on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_or_replace_with_the_other_side_is_refused() {
    let running = start(500).await;
    let mut trader = Trader::logon(running.server.address, "TRADER1", 1).await;
    rest(&mut trader, "O1", (1, 5, "6790"), "").await;
    let replace = ("G", "O2", "|38=5|40=2|44=6795");
    for (msg_type, cl_ord_id, extra) in [replace, ("F", "C1", "")] {
        let body = format!("11={cl_ord_id}|41=O1|55={BUTTER}|54=2|60={}{extra}", utc_now(0));
        trader.send(msg_type, &body).await;
        let answered = |m: &[u8]| field(m, 11).as_deref() == Some(cl_ord_id);
        let answer = trader.expect(answered, "the answer").await;
        assert_eq!(field(&answer, 35).as_deref(), Some("9"), "refused: {}", shown(&answer));
        let text = field(&answer, 58).unwrap_or_default();
        assert_eq!(text, "SIDE_MISMATCH: the order is a buy; its side (54) cannot change");
        assert_eq!(field(&answer, 39).as_deref(), Some("0"), "O1 still works");
    }
    running.stop().await;
}

/// Regression: an OrderStatusRequest the gateway refuses (here: unknown symbol) was answered as
/// an order Rejected (150=8), for a ClOrdID naming a working order, which a client would then
/// take for rejected. It is answered as a status (150=I 39=8), as the engine answers an
/// unknown order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_status_request_is_a_status_answer_not_an_order_reject() {
    let running = start(500).await;
    let mut trader = Trader::logon(running.server.address, "TRADER1", 1).await;
    rest(&mut trader, "O1", (1, 5, "6790"), "").await;
    trader.send("H", "11=O1|55=NO-SUCH|54=1").await;
    let answer = trader
        .expect(
            |m| {
                field(m, 35).as_deref() == Some("8")
                    && field(m, 11).as_deref() == Some("O1")
                    && field(m, 150).as_deref() != Some("0")
            },
            "the status answer",
        )
        .await;
    assert_eq!(field(&answer, 150).as_deref(), Some("I"), "{}", shown(&answer));
    running.stop().await;
}

/// Sends a TestRequest and returns every frame received until its Heartbeat.
async fn sync(trader: &mut Trader, id: &str) -> Vec<Vec<u8>> {
    let from = trader.received.len();
    trader.send("1", &format!("112={id}")).await;
    let id = id.to_owned();
    trader
        .expect(
            move |m| {
                field(m, 35).as_deref() == Some("0")
                    && field(m, 112).as_deref() == Some(id.as_str())
            },
            "heartbeat",
        )
        .await;
    trader.received[from..].to_vec()
}

/// 263=2 ends the subscription: no more X for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsubscribe_ends_the_refreshes() {
    let running = start(500).await;
    let mut watcher = Trader::logon(running.server.address, "TRADER3", 1).await;
    let mut trader = Trader::logon(running.server.address, "TRADER1", 1).await;
    watcher
        .send("V", &format!("262=MD1|263=1|264=0|265=1|267=2|269=0|269=1|146=1|55={BUTTER}"))
        .await;
    watcher.of_type("W").await;
    watcher
        .send("V", &format!("262=MD1|263=2|264=0|265=1|267=2|269=0|269=1|146=1|55={BUTTER}"))
        .await;
    sync(&mut watcher, "A").await;
    rest(&mut trader, "O1", (1, 5, "6790"), "").await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let after = sync(&mut watcher, "B").await;
    assert!(
        !after.iter().any(|m| field(m, 35).as_deref() == Some("X")),
        "{:?}",
        after.iter().map(|m| shown(m)).collect::<Vec<_>>()
    );
    running.stop().await;
}

/// q 530=1 with 54=2 cancels only that side of that instrument.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mass_cancel_with_a_side_cancels_only_that_side() {
    let running = start(500).await;
    let mut trader = Trader::logon(running.server.address, "TRADER1", 1).await;
    rest(&mut trader, "B1", (1, 5, "6790"), "").await;
    rest(&mut trader, "S1", (2, 5, "6890"), "").await;
    trader.order("M1", "MILK-RAW-BYN", 2, 5, "0.95", "").await;
    trader.report("M1", "0").await;
    trader.send("q", &format!("11=Q1|530=1|55={BUTTER}|54=2|60={}", utc_now(0))).await;
    let report = trader.of_type("r").await;
    assert_eq!(field(&report, 533).as_deref(), Some("1"), "{}", shown(&report));
    trader.send("H", &format!("11=B1|55={BUTTER}|54=1")).await;
    assert_eq!(field(&trader.report("B1", "I").await, 39).as_deref(), Some("0"));
    trader.send("H", "11=M1|55=MILK-RAW-BYN|54=2").await;
    assert_eq!(field(&trader.report("M1", "I").await, 39).as_deref(), Some("0"));
    running.stop().await;
}

/// An iceberg replaced to a total below its display, without 111, shows no more than the total.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_iceberg_reduced_below_its_display_shows_its_total() {
    let running = start(500).await;
    let mut trader = Trader::logon(running.server.address, "TRADER1", 1).await;
    rest(&mut trader, "I1", (1, 10, "6790"), "|111=5").await;
    let replace = format!("11=I2|41=I1|55={BUTTER}|54=1|60={}|38=3|40=2|44=6790", utc_now(0));
    trader.send("G", &replace).await;
    let answer = trader.expect(|m| field(m, 11).as_deref() == Some("I2"), "I2").await;
    let mut watcher = Trader::logon(running.server.address, "TRADER3", 1).await;
    watcher.send("V", &format!("262=S|263=0|264=0|267=1|269=0|146=1|55={BUTTER}")).await;
    let snapshot = watcher.of_type("W").await;
    assert_eq!(
        field(&snapshot, 271).as_deref(),
        Some("3"),
        "{} / {}",
        shown(&answer),
        shown(&snapshot)
    );
    running.stop().await;
}

/// Regression: a NewOrderSingle without OrderQty got 103=99 and a text without a reason code.
/// It gets 103=13 (incorrect quantity) and a text with its code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_without_quantity_is_rejected_as_incorrect_quantity() {
    let running = start(500).await;
    let mut trader = Trader::logon(running.server.address, "TRADER1", 1).await;
    trader.send("D", &format!("11=N1|55={BUTTER}|54=1|60={}|40=2|44=6790", utc_now(0))).await;
    let answer = trader.report("N1", "8").await;
    assert_eq!(field(&answer, 103).as_deref(), Some("13"), "{}", shown(&answer));
    running.stop().await;
}

/// Regression: a SecurityListRequest for one symbol (559=0, 55) got the whole list. It gets
/// that symbol's entry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_security_list_request_for_one_symbol() {
    let running = start(500).await;
    let mut trader = Trader::logon(running.server.address, "TRADER1", 1).await;
    trader.send("x", &format!("320=L1|559=0|55={BUTTER}")).await;
    let answer = trader.of_type("y").await;
    let entries = (field(&answer, 560), field(&answer, 146), field(&answer, 55));
    assert_eq!(
        entries,
        (Some("0".into()), Some("1".into()), Some(BUTTER.into())),
        "{}",
        shown(&answer)
    );
    trader.send("x", "320=L2|559=0|55=NO-SUCH").await;
    let answer = trader.of_type("y").await;
    let entries = (field(&answer, 560), field(&answer, 146));
    assert_eq!(entries, (Some("2".into()), Some("0".into())), "none found: {}", shown(&answer));
    running.stop().await;
}
