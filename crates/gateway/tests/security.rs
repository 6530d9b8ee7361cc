//! A trader can never see, change or cancel another firm's orders (issue 7).
//!
//! Method: with the real engine and FIX over 127.0.0.1, TRADER1 (FIRM-A) rests an order; then
//! TRADER3 (FIRM-B), which knows its OrderID and ClOrdID, tries every order-handling message
//! on it: OrderCancelRequest (F) by OrderID and by OrigClOrdID, OrderCancelReplaceRequest (G)
//! both ways, OrderStatusRequest (H) both ways, OrderMassCancelRequest (q) for one instrument
//! and for all, and a NewOrderSingle reusing the ClOrdID. Every answer must be "unknown order"
//! (OrderCancelReject 102=1; an ExecutionReport 150=I 39=8 for H; a mass cancel of nothing),
//! never a figure of the order; the order must be untouched afterwards; and TRADER1 must hear
//! of none of it. Within one firm the rule of docs/market.md holds: a colleague may cancel by
//! OrderID (and the owner is told), but the owner's ClOrdIDs are the owner's own.

use crate::exchange::{BUTTER, Trader, start};
use crate::util::{field, utc_now};

/// Rests a FIRM-A sell of 5 lots at 7000 for TRADER1 as `cl_ord_id`; returns its OrderID.
async fn rest(owner: &mut Trader, cl_ord_id: &str) -> String {
    owner.order(cl_ord_id, BUTTER, 2, 5, "7000", "|59=1").await;
    field(&owner.report(cl_ord_id, "0").await, 37).expect("OrderID")
}

/// Sends `msg_type` with `body` and returns the OrderCancelReject it gets.
async fn cancel_reject(trader: &mut Trader, msg_type: &str, body: &str) -> Vec<u8> {
    trader.send(msg_type, body).await;
    trader.of_type("9").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_firms_order_is_unknown_to_every_request() {
    let running = start(500).await;
    let mut owner = Trader::logon(running.server.address, "TRADER1", 1).await;
    let mut other = Trader::logon(running.server.address, "TRADER3", 1).await;
    let order_id = rest(&mut owner, "V1").await;
    let now = utc_now(0);
    let requests = [
        ("F", 1, format!("11=X1|41=V1|55={BUTTER}|54=2|60={now}")),
        ("F", 1, format!("11=X2|41=V1|37={order_id}|55={BUTTER}|54=2|60={now}")),
        ("G", 2, format!("11=X3|41=V1|55={BUTTER}|54=2|60={now}|38=1|40=2|44=7100")),
        ("G", 2, format!("11=X4|41=V1|37={order_id}|55={BUTTER}|54=2|60={now}|38=1|40=2|44=1")),
    ];
    for (msg_type, kind, body) in &requests {
        let refused = cancel_reject(&mut other, msg_type, body).await;
        let shown = String::from_utf8_lossy(&refused).replace('\x01', "|");
        assert_eq!(field(&refused, 102).as_deref(), Some("1"), "unknown order: {shown}");
        assert_eq!(field(&refused, 434), Some(kind.to_string()), "{shown}");
        assert_eq!(field(&refused, 37).as_deref(), Some("NONE"), "{shown}");
    }
    for (cl_ord_id, named) in [("X5", format!("37={order_id}")), ("V1", String::new())] {
        let tags = if named.is_empty() { String::new() } else { format!("|{named}") };
        other.send("H", &format!("11={cl_ord_id}{tags}|55={BUTTER}|54=2")).await;
        let status = other.report(cl_ord_id, "I").await;
        assert_eq!(field(&status, 39).as_deref(), Some("8"), "unknown order");
        assert!(field(&status, 58).is_some_and(|text| text.contains("UNKNOWN_ORDER")));
    }
    for scope in [format!("530=1|55={BUTTER}"), "530=7".to_owned()] {
        other.send("q", &format!("11=M-{}|{scope}|60={}", scope.len(), utc_now(0))).await;
        let report = other.of_type("r").await;
        assert_eq!(field(&report, 533).as_deref(), Some("0"), "nothing of FIRM-A cancelled");
    }
    other.order("V1", BUTTER, 1, 1, "6200", "").await;
    let own = other.report("V1", "0").await;
    assert_ne!(field(&own, 37), Some(order_id.clone()), "another firm's ClOrdID is its own");

    untouched(&mut owner, &order_id).await;
    for frame in &other.received {
        let about_it = field(frame, 37).as_ref() == Some(&order_id);
        assert!(!about_it || field(frame, 39).as_deref() == Some("8"), "leaked: {frame:?}");
        assert_ne!(field(frame, 44).as_deref(), Some("7000"), "the price leaked");
    }
    owner.validate();
    other.validate();
    running.stop().await;
}

/// Checks that the order rests as placed and that its owner heard of nothing but the ack.
async fn untouched(owner: &mut Trader, order_id: &str) {
    owner.send("H", &format!("11=V1|55={BUTTER}|54=2")).await;
    let status = owner.report("V1", "I").await;
    assert_eq!(field(&status, 37).as_deref(), Some(order_id));
    assert_eq!(
        (field(&status, 39).as_deref(), field(&status, 151).as_deref()),
        (Some("0"), Some("5"))
    );
    assert_eq!(field(&status, 44).as_deref(), Some("7000"));
    let reports = owner.received.iter().filter(|f| field(f, 35).as_deref() == Some("8"));
    let kinds: Vec<String> = reports.filter_map(|f| field(f, 150)).collect();
    assert_eq!(kinds, ["0", "I"], "the owner was told of nothing else");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn colleagues_cancel_by_order_id_but_not_by_the_owners_cl_ord_id() {
    let running = start(500).await;
    let mut owner = Trader::logon(running.server.address, "TRADER1", 1).await;
    let mut colleague = Trader::logon(running.server.address, "TRADER2", 1).await;
    let order_id = rest(&mut owner, "C1").await;
    let by_cl_ord_id = format!("11=K1|41=C1|55={BUTTER}|54=2|60={}", utc_now(0));
    let refused = cancel_reject(&mut colleague, "F", &by_cl_ord_id).await;
    assert_eq!(field(&refused, 102).as_deref(), Some("1"), "ClOrdIDs are per trader");
    colleague.send("H", &format!("11=K2|37={order_id}|55={BUTTER}|54=2")).await;
    // Regression (issue 7): the answer went to the owner, and the colleague who asked got none.
    let status = colleague.report("C1", "I").await;
    assert_eq!(field(&status, 151).as_deref(), Some("5"), "a colleague sees the order");
    let by_order_id = format!("11=K3|41=C1|37={order_id}|55={BUTTER}|54=2|60={}", utc_now(0));
    colleague.send("F", &by_order_id).await;
    let cancelled = colleague.report("K3", "4").await;
    assert_eq!(field(&cancelled, 37).as_deref(), Some(order_id.as_str()));
    let told = owner.expect(|m| field(m, 150).as_deref() == Some("4"), "the owner's cancel").await;
    assert_eq!(field(&told, 37).as_deref(), Some(order_id.as_str()));
    let statuses = owner.received.iter().filter(|m| field(m, 150).as_deref() == Some("I"));
    assert_eq!(statuses.count(), 0, "the colleague's status request is not the owner's business");
    owner.validate();
    colleague.validate();
    running.stop().await;
}
