//! Demo traders trade over FIX, and a restart recovers what rests in the book.

use crate::util::{BUTTER, Server, Trader, field};

#[test]
fn demo_traders_of_two_firms_trade_and_the_log_has_the_trade() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path());
    let mut seller = Trader::logon(server.fix, "TRADER1");
    let mut buyer = Trader::logon(server.fix, "TRADER3");
    seller.order("S1", 2, 3, 6800, "");
    let ack = seller.report("S1", "0");
    assert_eq!(field(&ack, 39).as_deref(), Some("0"), "new");
    buyer.order("B1", 1, 3, 6800, "");
    let taker = buyer.report("B1", "F");
    let maker = seller.report("S1", "F");
    for report in [&taker, &maker] {
        assert_eq!(field(report, 31).as_deref(), Some("6800"), "LastPx");
        assert_eq!(field(report, 32).as_deref(), Some("3"), "LastQty");
        assert_eq!(field(report, 39).as_deref(), Some("2"), "filled");
    }
    assert_eq!(field(&taker, 527), field(&maker, 527), "one trade id on both sides");
    let trade = server.wait_for("trade", |line| line["symbol"] == BUTTER);
    assert_eq!(trade["price"], "6800");
    assert_eq!(trade["lots"], 3);
    assert_eq!(
        (trade["buyer"].as_str(), trade["seller"].as_str()),
        (Some("FIRM-B"), Some("FIRM-A"))
    );
    assert_eq!(trade["trade_id"].to_string(), field(&taker, 527).expect("TrdMatchID"));
    // The line names both sides' traders and orders (a review found only firms).
    assert_eq!(
        (trade["buy_trader"].as_str(), trade["sell_trader"].as_str()),
        (Some("TRADER3"), Some("TRADER1"))
    );
    assert_eq!(trade["buy_order"].to_string(), field(&taker, 37).expect("OrderID"));
    assert_eq!(trade["sell_order"].to_string(), field(&maker, 37).expect("OrderID"));
    assert_eq!(trade["aggressor"], "buy");
    server.wait_for("trader logged on", |line| line["trader"] == "TRADER3");
    seller.logout();
    buyer.logout();
    let (status, lines) = server.terminate();
    assert!(status.success(), "{status}");
    // The last stats line (the dispatcher's, at its stop) counts the trade (a review found
    // only rates rounded to whole trades a second: a trade every few seconds showed as 0).
    let stats = lines.iter().rev().find(|line| line["message"] == "stats").expect("stats");
    let trades = stats["trades"].as_u64().unwrap_or(0);
    let rate = stats["trades_per_s"].as_f64().unwrap_or(0.0);
    assert!(trades == 1 && rate > 0.0, "{stats}");
}

#[test]
fn a_restart_recovers_a_resting_order_which_then_fills() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path());
    let mut seller = Trader::logon(server.fix, "TRADER1");
    // Good till cancel, so neither the logout nor the end of the day cancels it.
    seller.order("REST1", 2, 4, 6810, "|59=1");
    let order_id = field(&seller.report("REST1", "0"), 37).expect("OrderID");
    let seller_seq = seller.logout();
    let (status, _) = server.terminate();
    assert!(status.success(), "{status}");

    let server = Server::start(dir.path());
    let recovered = server.wait_for("shard recovered", |line| line["shard"] == 0);
    assert_eq!(recovered["orders_working"], 1, "{recovered}");
    assert!(recovered["seq_last"].as_u64() >= Some(1), "{recovered}");
    let mut buyer = Trader::logon(server.fix, "TRADER3");
    buyer.order("LIFT1", 1, 4, 6810, "");
    let fill = buyer.report("LIFT1", "F");
    assert_eq!(field(&fill, 31).as_deref(), Some("6810"), "at the resting order's price");
    assert_eq!(field(&fill, 32).as_deref(), Some("4"));
    let trade = server.wait_for("trade", |line| line["symbol"] == BUTTER);
    assert_eq!(
        (trade["buyer"].as_str(), trade["seller"].as_str()),
        (Some("FIRM-B"), Some("FIRM-A"))
    );
    // The seller continues its session and asks for what it missed: the fill of the order it
    // placed before the restart.
    let mut seller = Trader::resume(server.fix, "TRADER1", seller_seq);
    seller.send("2", "7=1|16=0");
    let maker = seller.expect("the fill of REST1", |m| {
        field(m, 35).as_deref() == Some("8")
            && field(m, 37).as_ref() == Some(&order_id)
            && field(m, 150).as_deref() == Some("F")
    });
    assert_eq!(field(&maker, 39).as_deref(), Some("2"), "filled");
    buyer.logout();
    seller.logout();
    let (status, _) = server.terminate();
    assert!(status.success(), "{status}");
}
