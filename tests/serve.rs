//! Start-up and shutdown of `birzha serve`, and readable config errors.

use crate::util::{Server, birzha, run, texts};

#[test]
fn the_default_config_starts_logs_a_summary_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path());
    let started = server.wait_for("birzha started", |_| true);
    assert_eq!(started["level"], "INFO");
    assert_eq!(started["config"], "embedded default config");
    assert_eq!(started["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(started["traders"], 4);
    let shards = started["instruments_per_shard"].as_str().expect("instruments per shard");
    assert!(shards.starts_with("[[\"BUT82-FCA-USD\""), "{shards}");
    for shard in [0, 1] {
        let recovered = server.wait_for("shard recovered", |line| line["shard"] == shard);
        assert_eq!(
            (recovered["seq_last"].as_u64(), recovered["replayed"].as_u64()),
            (Some(0), Some(0))
        );
    }
    // Logged before the ports open, which `Server::start` waited for.
    let demo = server.lines().into_iter().find(|line| {
        line["message"].as_str().is_some_and(|message| message.starts_with("DEMO ACCOUNTS ACTIVE"))
    });
    let demo = demo.expect("a demo warning");
    assert_eq!(demo["level"], "WARN");
    assert_eq!(demo["traders"], r#"["TRADER1", "TRADER2", "TRADER3", "TRADER4"]"#);
    let (status, lines) = server.terminate();
    assert!(status.success(), "a clean exit on SIGTERM: {status}");
    let messages: Vec<&str> = lines.iter().filter_map(|line| line["message"].as_str()).collect();
    for expected in ["SIGTERM: shutting down", "snapshot written", "birzha stopped"] {
        assert!(messages.contains(&expected), "{expected:?} not in {messages:#?}");
    }
    assert_eq!(messages.last(), Some(&"birzha stopped"));
}

#[test]
fn config_errors_name_the_key_and_exit_with_code_3() {
    let dir = tempfile::tempdir().expect("temp dir");
    let default = run(&["config", "default"]);
    assert!(default.status.success());
    let default = texts(&default).0;
    let cases = [
        ("durability = \"fsync\"", "durability = \"fast\"", "key `engine.durability`"),
        (
            "listen = \"127.0.0.1:9879\"",
            "listen = \"0.0.0.0:9879\"",
            "admin.listen = \"0.0.0.0:9879\" is not allowed: expected a loopback address",
        ),
        ("band_percent = 10", "band_percent = 0.1", "instruments[0].band_percent"),
        // Values a review found accepted and then fatal or silently changed: a deposit whose
        // millionths overflow (serve panicked), call lengths whose deadlines overflow (a
        // shard panicked at the resume), volatility limits below 0 or above 100 % (off).
        (
            "USD = 1_000_000_000_000",
            "USD = \"100000000000000000000000\"",
            "firms[0].deposits.USD = 100000000000000000000000 is not allowed",
        ),
        ("USD = 1_000_000_000_000", "USD = \"0.0000001\"", "firms[0].deposits.USD"),
        (
            "resume_call_seconds = 120",
            "resume_call_seconds = 100_000_000_000",
            "engine.resume_call_seconds = 100000000000 is not allowed: expected 1 to 86400",
        ),
        ("resume_call_seconds = 120", "resume_call_seconds = 0", "engine.resume_call_seconds"),
        (
            "volatility_auction_seconds = 120",
            "volatility_auction_seconds = 100_000_000_000",
            "engine.volatility_auction_seconds",
        ),
        ("volatility_percent = \"3\"", "volatility_percent = \"-5\"", "engine.volatility_percent"),
        ("volatility_percent = \"3\"", "volatility_percent = \"250\"", "engine.volatility_percent"),
        (
            "volatility_percent = \"3\"",
            "volatility_percent = \"0.001\"",
            "engine.volatility_percent",
        ),
        (
            "volatility_percent = \"3\"",
            "volatility_percent = \"79228162514264337593543950335\"",
            "engine.volatility_percent",
        ),
    ];
    for (from, to, expected) in cases {
        assert!(default.contains(from), "the default config has {from}");
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, default.replacen(from, to, 1)).expect("write the config");
        let mut serve = birzha();
        serve.current_dir(dir.path()).arg("serve").arg("--config").arg(&path);
        let output = serve.output().expect("runs");
        let (_, stderr) = texts(&output);
        assert_eq!(output.status.code(), Some(3), "{to}: {stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
        assert!(stderr.contains(expected), "{to}: expected {expected:?} in {stderr}");
        assert!(!dir.path().join("data").exists(), "nothing started in ./data");
    }
    let missing = run(&["serve", "--config", "/nonexistent/birzha.toml"]);
    assert_eq!(missing.status.code(), Some(3));
    assert!(texts(&missing).1.contains("cannot read config file /nonexistent/birzha.toml"));
    let flag = run(&["serve", "--admin-listen", "10.0.0.1:9879", "--data-dir", "/nonexistent"]);
    assert_eq!(flag.status.code(), Some(3));
    assert!(texts(&flag).1.contains("admin.listen = \"10.0.0.1:9879\" is not allowed"));
}

/// `birzha passwd` prints an argon2id hash of the line on standard input and never the
/// password itself; a config with that hash lets the trader log on with that password only.
#[test]
fn passwd_prints_an_argon2_hash_and_never_the_password() {
    use std::io::Write as _;
    use std::process::Stdio;
    let mut child = birzha()
        .arg("passwd")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("birzha passwd runs");
    child.stdin.take().expect("stdin").write_all(b"Tr4der-S3cret\n").expect("write");
    let output = child.wait_with_output().expect("birzha passwd ends");
    let (stdout, stderr) = texts(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.starts_with("$argon2id$v=19$"), "{stdout}");
    assert!(!stdout.contains("Tr4der-S3cret") && !stderr.contains("Tr4der-S3cret"));
}

/// Regression (a review of 2026-11-29): `load --print-config` printed configs the server
/// refuses (100 004 traders, over the 65 536 a config may have).
#[test]
fn load_prints_only_a_config_the_server_takes() {
    let refused = run(&["load", "--print-config", "70000"]);
    let (stdout, stderr) = texts(&refused);
    assert_eq!(refused.status.code(), Some(3), "{stderr}");
    assert!(stdout.is_empty(), "nothing printed");
    assert!(stderr.contains("expected 1 to 65536 entries"), "{stderr}");
    let printed = run(&["load", "--print-config", "2"]);
    assert!(printed.status.success());
    assert!(texts(&printed).0.contains("code = \"LOAD0002\""));
}
