//! Restarts of the real server that once went wrong (a review's regressions).
//!
//! - More than 4096 inputs to deliver again at start-up (a lost watermark file, a crash under
//!   load): the engine's recovery sent them into the output channel before the dispatcher that
//!   drains it had started, and the server never opened its port.

use std::time::{Duration, Instant};

use crate::util::{Server, Trader, run, texts};

/// The embedded default config with each `from` replaced by its `to`.
fn config_with(replacements: &[(&str, &str)]) -> String {
    let mut config = texts(&run(&["config", "default"])).0;
    for (from, to) in replacements {
        assert!(config.contains(from), "the default config has {from:?}");
        config = config.replace(from, to);
    }
    config
}

#[test]
fn a_restart_with_more_reports_to_deliver_than_the_output_channel_holds_opens_its_port() {
    let config = config_with(&[("orders_per_second = 500", "orders_per_second = 100_000")]);
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start_with(dir.path(), Some(&config));
    let mut trader = Trader::logon(server.fix, "TRADER1");
    for chunk in 0..42 {
        for index in 0..100 {
            trader.order(&format!("O{chunk}-{index}"), 2, 1, 7000, "");
        }
        trader.report(&format!("O{chunk}-99"), "0");
    }
    server.kill();
    // A lost watermark file: every report the journal holds is delivered again.
    std::fs::remove_file(dir.path().join("gateway/watermarks")).expect("remove the watermarks");
    let started = Instant::now();
    let server = Server::start_with(dir.path(), Some(&config));
    assert!(started.elapsed() < Duration::from_secs(20));
    let recovered = server.wait_for("shard recovered", |line| line["shard"] == 0);
    assert!(recovered["replayed"].as_u64().is_some_and(|n| n >= 4_200), "{recovered}");
}
