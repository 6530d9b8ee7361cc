//! What operators do to a running exchange's data directory, through the binary
//! (regressions of a review):
//!
//! - a graceful restart keeps the Day orders of every session logged on, even one that does
//!   not answer the shutdown's Logout (it was ended as a disconnect and lost them).

use crate::util::{Server, Trader};

/// docs/market.md: "A server crash or restart is not such an end [of a session]: the sessions
/// logged on at that moment keep their orders". On SIGTERM the server sends Logout; a session
/// that does not answer within about two seconds (a busy or lagging client) was ended as an
/// involuntary disconnect and its Day orders were cancelled by cancel-on-disconnect.
#[test]
fn a_graceful_restart_keeps_the_day_orders_of_every_logged_on_session() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path());
    let mut trader = Trader::logon(server.fix, "TRADER1");
    trader.order("DAY1", 2, 3, 6800, "");
    trader.report("DAY1", "0");
    // The trader stays logged on and does not answer the exchange's Logout.
    let (status, lines) = server.terminate();
    assert!(status.success());
    drop(trader);
    let cancelled = lines.iter().any(|line| line["message"] == "cancel on disconnect queued");
    let server = Server::start(dir.path());
    let recovered = server.wait_for("shard recovered", |line| line["shard"] == 0);
    assert_eq!(
        recovered["orders_working"], 1,
        "the Day order of a session logged on at the restart is gone (cancel on disconnect \
         queued during shutdown: {cancelled})"
    );
}
