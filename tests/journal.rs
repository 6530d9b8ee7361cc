//! `birzha journal verify` on a clean data directory, and after damage in the middle of a
//! journal: it must fail and name the file and offset, as the server's start-up does.

use crate::util::{Server, Trader, birzha, run, segments, texts, wait_exit};

#[test]
fn verify_passes_when_clean_and_names_the_file_and_offset_of_a_flipped_byte() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().display().to_string();
    let server = Server::start(dir.path());
    let mut trader = Trader::logon(server.fix, "TRADER2");
    // Enough records in shard 0 that the middle of its journal is not its last record.
    for n in 0..8 {
        trader.order(&format!("V{n}"), 1, 1, 6700 + n, "");
        trader.report(&format!("V{n}"), "0");
    }
    trader.logout();
    let (status, _) = server.terminate();
    assert!(status.success());

    let clean = run(&["journal", "verify", &data]);
    let (stdout, stderr) = texts(&clean);
    assert!(clean.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("shard 0: 1 snapshot(s), newest valid snapshot seq "), "{stdout}");
    assert!(stdout.contains(": OK: 2 shard(s), "), "{stdout}");

    let segment = segments(dir.path(), 0).pop().expect("a segment of shard 0");
    let mut bytes = std::fs::read(&segment).expect("read the segment");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x5a;
    std::fs::write(&segment, &bytes).expect("damage the segment");

    let damaged = run(&["journal", "verify", &data]);
    let (stdout, stderr) = texts(&damaged);
    assert_eq!(damaged.status.code(), Some(1), "{stdout}{stderr}");
    let problem = stdout.lines().find(|line| line.starts_with("error: shard 0: ")).expect(&stdout);
    assert!(problem.contains(&segment.display().to_string()), "names the file: {problem}");
    assert!(problem.contains(" at offset "), "names the offset: {problem}");
    assert!(stdout.contains(": FAILED: 2 shard(s), "), "{stdout}");
    assert!(stderr.contains("1 problem(s) found"), "{stderr}");

    // Start-up refuses the same damage rather than replaying past it.
    let mut serve = birzha();
    serve.args(["serve", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"]);
    let mut child = serve
        .args(["--log-format", "json", "--data-dir", &data])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("serve runs");
    let status = wait_exit(&mut child);
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr)
        .expect("stderr");
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("corrupt journal record in "), "{stderr}");
}

#[test]
fn the_tools_refuse_a_directory_that_is_not_a_data_directory() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().display().to_string();
    for tool in ["inspect", "verify"] {
        let output = run(&["journal", tool, &data]);
        assert_eq!(output.status.code(), Some(1));
        assert!(texts(&output).1.contains("holds no shard-N directory"), "{tool}");
    }
    let missing = run(&["journal", "verify", "/nonexistent/birzha-data"]);
    assert!(texts(&missing).1.contains("cannot read the data directory /nonexistent/birzha-data"));
}
