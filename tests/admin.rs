//! `birzha admin` against a running server: commands act, are logged with the operator's
//! address, and are journaled.

use std::path::Path;

use crate::util::{BUTTER, DEMO_TOKEN, Server, Trader, field, run, texts};

#[test]
fn admin_commands_act_are_logged_and_are_journaled() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path());
    let mut trader = Trader::logon(server.fix, "TRADER1");

    let halt = server.admin(&["halt", BUTTER]);
    let (stdout, stderr) = texts(&halt);
    assert!(halt.status.success(), "{stderr}");
    assert_eq!(stdout, format!("halt {BUTTER}: queued for shard 0\n"));
    server.wait_for("phase change", |line| line["symbol"] == BUTTER && line["to"] == "Halted");
    trader.order("H1", 1, 1, 6800, "");
    let rejected = trader.report("H1", "8");
    let text = field(&rejected, 58).expect("a reject reason");
    assert!(text.starts_with("PHASE: BUT82-FCA-USD is in phase Halted"), "{text}");
    let logged = server.wait_for("order rejected", |line| line["cl_ord_id"] == "H1");
    assert_eq!(logged["reason"], "PHASE");

    assert!(server.admin(&["resume", BUTTER]).status.success());
    trader.order("H2", 1, 1, 6800, "");
    trader.report("H2", "0");
    // Regression (a review of 2026-11-29): a resume of an instrument that is not halted, and
    // a message type outside the profile, were refused without a log line.
    assert!(server.admin(&["resume", BUTTER]).status.success(), "queued");
    let refused = server.wait_for("resume refused: only a halted instrument is resumed", |_| true);
    assert_eq!(
        (refused["symbol"].as_str(), refused["phase"].as_str()),
        (Some(BUTTER), Some("PreOpen"))
    );
    trader.send(
        "AE",
        "571=T1|487=0|55=BUT82-FCA-USD|32=1|31=6800|75=20261129|60=20261129-10:00:00.000",
    );
    trader.expect("BusinessMessageReject", |m| field(m, 35).as_deref() == Some("j"));
    let unsupported = server.wait_for("unsupported message type refused", |_| true);
    assert_eq!(
        (unsupported["msg_type"].as_str(), unsupported["level"].as_str()),
        (Some("AE"), Some("WARN"))
    );

    let deposit = server.admin(&["deposit", "FIRM-A", "USD", "-1000.25"]);
    assert!(deposit.status.success(), "{}", texts(&deposit).1);
    let changed = server.wait_for("deposit changed by an operator", |_| true);
    assert_eq!(
        (changed["firm"].as_str(), changed["currency"].as_str()),
        (Some("FIRM-A"), Some("USD"))
    );
    assert_eq!(changed["amount_micros"].to_string().trim_matches('"'), "-1000250000");
    let command =
        server.wait_for("admin command", |line| line["command"] == "deposit FIRM-A USD -1000.25");
    assert!(command["peer"].as_str().is_some_and(|peer| peer.starts_with("127.0.0.1:")));

    let stats = server.admin(&["stats"]);
    let (stdout, _) = texts(&stats);
    assert!(stats.status.success());
    assert!(stdout.starts_with("uptime_s="), "{stdout}");
    assert!(stdout.contains(" shards=2 ") && stdout.contains(" sessions=1 logged_on=TRADER1 "));

    let address = server.admin.to_string();
    let intruder =
        run(&["admin", "--address", &address, "--token", "not-the-token-at-all", "stats"]);
    assert_eq!(intruder.status.code(), Some(1));
    assert!(texts(&intruder).1.contains("unauthorized: wrong token"));
    let refused = server.wait_for("admin request refused: wrong token", |_| true);
    assert_eq!(refused["level"], "WARN");
    assert!(refused["peer"].is_string());
    let unknown = server.admin(&["suspend", "FIRM-Z"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(texts(&unknown).1.contains("unknown firm `FIRM-Z`"));
    cancel_all_is_logged_per_trader(&server, &mut trader);

    trader.logout();
    let (status, lines) = server.terminate();
    assert!(status.success());
    let log = lines.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n");
    assert!(!log.contains(DEMO_TOKEN), "the token is never logged");
    assert!(!log.contains("not-the-token-at-all"), "nor a wrong one");
    the_journal_holds_the_commands(dir.path());
}

/// A cancel-all of bids of two traders, interleaved in price order as the cancel walks the
/// book: the operator's log has one line per trader with the count.
fn cancel_all_is_logged_per_trader(server: &Server, trader: &mut Trader) {
    let mut other = Trader::logon(server.fix, "TRADER3");
    trader.order("H3", 1, 1, 6780, "");
    trader.report("H3", "0");
    for (cl_ord_id, price) in [("T1", 6790), ("T2", 6770)] {
        other.order(cl_ord_id, 1, 1, price, "");
        other.report(cl_ord_id, "0");
    }
    let address = server.admin.to_string();
    let flagged =
        run(&["admin", "--address", &address, "--token", DEMO_TOKEN, "cancel-all", BUTTER]);
    assert!(flagged.status.success(), "{}", texts(&flagged).1);
    trader.report("H2", "4");
    trader.report("H3", "4");
    other.report("T2", "4");
    // The operator sees what the cancel-all did: one line per trader with the count.
    let lines = server.lines_once(|lines| {
        lines.iter().filter(|line| line["message"] == "orders ended by the exchange").count() >= 2
    });
    let ended: Vec<(String, u64)> = lines
        .iter()
        .filter(|line| line["message"] == "orders ended by the exchange")
        .inspect(|line| assert_eq!(line["reason"], "cancelled by the exchange", "{line}"))
        .map(|line| (line["trader"].to_string(), line["orders"].as_u64().unwrap_or(0)))
        .collect();
    assert_eq!(ended, [("\"TRADER1\"".into(), 2), ("\"TRADER3\"".into(), 2)]);
    other.logout();
}

/// Checks with `birzha journal inspect` that the halt, resumes, deposit and cancel-all of
/// `admin_commands_act_are_logged_and_are_journaled` are in shard 0's journal.
fn the_journal_holds_the_commands(dir: &Path) {
    let inspect = run(&["journal", "inspect", &dir.display().to_string(), "--shard", "0"]);
    let (stdout, stderr) = texts(&inspect);
    assert!(inspect.status.success(), "{stderr}");
    let admin: Vec<&str> = stdout.lines().filter(|line| line.contains(" kind=admin ")).collect();
    assert_eq!(admin.len(), 5, "halt, resume twice, deposit, cancel-all:\n{stdout}");
    assert!(admin[0].ends_with("Admin(Halt(InstrumentId(0)))"), "{}", admin[0]);
    assert!(admin[1].ends_with("Admin(Resume(InstrumentId(0)))"), "{}", admin[1]);
    assert!(admin[2].ends_with("Admin(Resume(InstrumentId(0)))"), "{}", admin[2]);
    assert!(
        admin[3].contains(
            "Admin(Deposit { firm: FirmId(0), currency: \"USD\", amount_micros: -1000250000 })"
        ),
        "{}",
        admin[3]
    );
    assert!(admin[4].ends_with("Admin(MassCancel(Some(InstrumentId(0))))"), "{}", admin[4]);

    // With the server's config, records name what their ids stand for.
    let config = dir.join("birzha.toml");
    std::fs::write(&config, texts(&run(&["config", "default"])).0).expect("write the config");
    let data = dir.display().to_string();
    let config = config.display().to_string();
    let named = run(&["journal", "inspect", &data, "--shard", "0", "--config", &config]);
    let (stdout, stderr) = texts(&named);
    assert!(named.status.success(), "{stderr}");
    assert!(stdout.contains("Admin(Halt(InstrumentId(0))) [BUT82-FCA-USD]\n"), "{stdout}");
    assert!(stdout.contains("amount_micros: -1000250000 }) [FIRM-A]\n"), "{stdout}");
    assert!(stdout.contains("kind=new-order "), "{stdout}");
    assert!(stdout.contains(") [BUT82-FCA-USD TRADER1 FIRM-A]\n"), "{stdout}");
}
