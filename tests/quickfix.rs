//! A third-party FIX engine trades through the gateway: QuickFIX (the C++ engine, through its
//! Python binding, with its stock FIX44.xml and default validation) runs the scenario of
//! `tests/quickfix/trader.py` as two traders of two firms. QuickFIX hands its application only
//! messages that pass its validation and answers any other with a Reject, so the scenario's
//! answers arriving, and no Reject in either direction, is the check that a standard client
//! trades here on the first try.
//!
//! The Python environment comes from `BIRZHA_QUICKFIX_PYTHON`, or is made once by
//! `scripts/quickfix-venv.sh` under the target directory (QuickFIX builds from source in a few
//! minutes; `.ci/run` makes it before the tests).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::util::{Server, texts};

/// The python of an environment that imports quickfix.
fn quickfix_python() -> PathBuf {
    if let Some(python) = std::env::var_os("BIRZHA_QUICKFIX_PYTHON") {
        let python = PathBuf::from(python);
        assert!(python.is_file(), "BIRZHA_QUICKFIX_PYTHON={} is no python", python.display());
        return python;
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let venv = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("quickfix-venv");
    let made = Command::new("bash")
        .arg(format!("{root}/scripts/quickfix-venv.sh"))
        .arg(&venv)
        .output()
        .expect("bash runs");
    let (stdout, stderr) = texts(&made);
    assert!(made.status.success(), "scripts/quickfix-venv.sh failed:\n{stderr}");
    PathBuf::from(stdout.trim())
}

#[test]
fn quickfix_traders_trade_and_accept_every_message() {
    let python = quickfix_python();
    let dir = tempfile::tempdir().expect("temp dir");
    let (data, work) = (dir.path().join("data"), dir.path().join("quickfix"));
    std::fs::create_dir_all(&work).expect("work dir");
    let server = Server::start(&data);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/quickfix/trader.py");
    let run = Command::new(python)
        .arg(script)
        .arg(server.fix.ip().to_string())
        .arg(server.fix.port().to_string())
        .arg(&work)
        .arg(env!("CARGO_BIN_EXE_birzha"))
        .arg(server.admin.to_string())
        .output()
        .expect("python runs");
    let (stdout, stderr) = texts(&run);
    assert!(run.status.success(), "the QuickFIX traders failed:\n{stderr}\n{stdout}");

    let received: Vec<Value> =
        stdout.lines().filter_map(|line| serde_json::from_str(line).ok()).collect();
    let mut by_type = BTreeMap::<(String, String), usize>::new();
    for line in &received {
        if let (Some(trader), Some(msg_type)) = (line["trader"].as_str(), line["type"].as_str()) {
            *by_type.entry((trader.to_owned(), msg_type.to_owned())).or_default() += 1;
        }
    }
    let count = |trader: &str, msg_type: &str| {
        by_type.get(&(trader.to_owned(), msg_type.to_owned())).copied().unwrap_or(0)
    };
    // What each trader's QuickFIX accepted, message for message: the scenario's execution
    // reports (an IOC's acknowledgement, fill and cancel, a status answer, GTD, iceberg,
    // post-only and market orders, auction fills, the resent fill...), the cancel reject, the
    // mass cancel report, the security list, the snapshot, the five phase changes, and
    // incremental updates (the indicative uncross among them).
    for (trader, msg_type, expected) in [
        ("TRADER1", "8", 19),
        ("TRADER1", "y", 1),
        ("TRADER3", "8", 18),
        ("TRADER3", "9", 1),
        ("TRADER3", "r", 1),
        ("TRADER3", "W", 1),
        ("TRADER3", "h", 5),
    ] {
        assert_eq!(
            count(trader, msg_type),
            expected,
            "{trader} 35={msg_type}: {by_type:?}\n{stdout}"
        );
    }
    assert!(count("TRADER3", "X") >= 2, "incremental updates: {by_type:?}\n{stdout}");
    assert_eq!(received.last().map(|line| line["done"].clone()), Some(Value::Bool(true)));

    let (status, log) = server.terminate();
    assert!(status.success(), "{status}");
    let logons = log.iter().filter(|line| line["message"] == "trader logged on").count();
    assert_eq!(logons, 3, "two traders, one of them twice");
    let resent_fill = received.iter().any(|line| {
        line["trader"] == "TRADER1"
            && line["type"] == "8"
            && line["150"] == "F"
            && line["43"] == "Y"
    });
    assert!(resent_fill, "TRADER1's fill while logged out came as a resend:\n{stdout}");
}
