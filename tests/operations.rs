//! What operators do to a running exchange's data directory, through the binary
//! (regressions of a review):
//!
//! - a second server on the data directory of a running one is refused (it ran, and the two
//!   wrote the same journals);
//! - a config whose `engine.shards` changed is refused, naming it (acknowledged orders of the
//!   currencies that moved shard were silently gone), and one with an instrument appended
//!   starts (it was refused);
//! - a graceful restart keeps the Day orders of every session logged on, even one that does
//!   not answer the shutdown's Logout (it was ended as a disconnect and lost them).

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::util::{Server, Trader, birzha, field, run, texts, utc_now};

/// Starts `birzha serve` on `data_dir` with `config` (ephemeral ports) and returns
/// `Ok(())` if it logs `birzha started` within 20 s, or `Err(stderr)` if it exits first.
/// The server is killed either way.
fn starts(data_dir: &Path, config: &str) -> Result<(), String> {
    let path = data_dir.join("review.toml");
    std::fs::write(&path, config).expect("write the config");
    let log = data_dir.join("review.log");
    let mut child = birzha()
        .args(["serve", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
        .args(["--log-format", "json", "--data-dir"])
        .arg(data_dir)
        .arg("--config")
        .arg(&path)
        .stdout(std::fs::File::create(&log).expect("log file"))
        .stderr(Stdio::piped())
        .spawn()
        .expect("birzha serve starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let output = child.wait_with_output().expect("output");
            return Err(format!("exited with {status}: {}", texts(&output).1));
        }
        if std::fs::read_to_string(&log).unwrap_or_default().contains("\"birzha started\"") {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(());
        }
        assert!(Instant::now() < deadline, "neither started nor exited");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The embedded default config with one replacement.
fn default_with(from: &str, to: &str) -> String {
    let default = texts(&run(&["config", "default"])).0;
    assert!(default.contains(from), "the default config has {from}");
    default.replacen(from, to, 1)
}

/// A second server started on the data directory of a running one (other ports: an
/// operator's slip, a start script run twice) ran too, acknowledged orders with the same
/// order ids and wrote the same journal files: the journal was then damaged and no server
/// would start on it. The data directory's lock refuses the second at once.
#[test]
fn a_second_server_on_the_same_data_directory_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let first = Server::start(dir.path());
    let mut trader = Trader::logon(first.fix, "TRADER1");
    trader.order("A1", 2, 3, 6800, "|59=1");
    trader.report("A1", "0");
    let config = texts(&run(&["config", "default"])).0;
    let refused = starts(dir.path(), &config).expect_err("a second server is refused");
    assert!(refused.contains("is in use by another server"), "{refused}");
    // The log says why too, for operators who read only the log.
    let log = std::fs::read_to_string(dir.path().join("review.log")).expect("log");
    let stopped = log
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|line| line["message"] == "birzha stopped on an error")
        .unwrap_or_else(|| panic!("no line saying why in the log:\n{log}"));
    let error = stopped["error"].as_str().unwrap_or_default();
    assert!(error.contains("is in use by another server"), "{stopped}");
    trader.order("A2", 2, 1, 6850, "|59=1");
    trader.report("A2", "0");
    trader.logout();
    assert!(first.terminate().0.success());
    let verify = run(&["journal", "verify", dir.path().to_str().expect("utf-8")]);
    assert!(verify.status.success(), "{:?}", texts(&verify));
}

/// `engine.shards` changed on a data directory whose server crashed before its first
/// snapshot: the server started and silently dropped the acknowledged orders of the
/// currencies that moved to another shard (with a snapshot it refused, without naming the
/// cause). The data directory's layout now refuses the start, naming `engine.shards`.
#[test]
fn changing_engine_shards_after_a_crash_never_drops_an_acknowledged_order() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path());
    let mut trader = Trader::logon(server.fix, "TRADER3");
    // BUT82-FCA-CNY: CNY is on shard 1 of the default two shards.
    trader.send(
        "D",
        &format!("11=CNY1|55=BUT82-FCA-CNY|54=2|60={}|38=2|40=2|44=48000|59=1", utc_now()),
    );
    let ack = trader.report("CNY1", "0");
    assert_eq!(field(&ack, 39).as_deref(), Some("0"));
    let _ = server.kill();
    let config = default_with("shards = 2", "shards = 1");
    match starts(dir.path(), &config) {
        Err(refused) => {
            assert!(refused.contains("shards"), "refused, but without naming the cause: {refused}");
        }
        Ok(()) => {
            let log = std::fs::read_to_string(dir.path().join("review.log")).expect("log");
            let working: u64 = log
                .lines()
                .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
                .filter(|line| line["message"] == "shard recovered")
                .filter_map(|line| line["orders_working"].as_u64())
                .sum();
            assert_eq!(
                working, 1,
                "the server started with engine.shards = 1 and the acknowledged GTC order CNY1 \
                 is gone"
            );
        }
    }
}

/// docs/operations.md: "The order of entries fixes the engine's instrument ids, so append new
/// instruments rather than reordering." After a clean stop, a config with one instrument
/// appended was refused ("snapshot does not match the config: number of instruments"): the
/// documented way to add an instrument did not work.
#[test]
fn appending_an_instrument_as_documented_lets_the_server_start_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path());
    let mut trader = Trader::logon(server.fix, "TRADER1");
    trader.order("G1", 2, 3, 6800, "|59=1");
    trader.report("G1", "0");
    trader.logout();
    assert!(server.terminate().0.success());
    let appended = "[[instruments]]\nsymbol = \"BUT72-FCA-USD\"\n\
                    description = \"Butter 72.5% fat, FCA Belarus\"\nunit = \"t\"\nlot_size = 5\n\
                    tick = \"1\"\ncurrency = \"USD\"\nreference_price = \"6000\"\n\
                    band_percent = 10\n\n[[firms]]";
    let config = default_with("[[firms]]", appended);
    if let Err(refused) = starts(dir.path(), &config) {
        panic!("an instrument appended as docs/operations.md advises: {refused}");
    }
}

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
