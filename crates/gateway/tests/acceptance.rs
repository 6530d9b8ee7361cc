//! The QuickFIX FIX 4.4 server acceptance scripts, played against the real acceptor.
//!
//! Each `.def` script in `shared/fix44-acceptance` runs against its own acceptor (CompID `ISLD`,
//! the echo application letting `TW44` log on without a password, QuickFIX's test setting
//! `ResetOnLogon`), all scripts concurrently, so the suite takes as long as the slowest script
//! (the heartbeat scripts wait real seconds). The runner follows QuickFIX's Ruby runner:
//! - `<TIME>` / `<TIME±N>` become the UTC time (shifted by N seconds) as `YYYYMMDD-HH:MM:SS`;
//! - a line starting with `8=` whose BodyLength or CheckSum is absent gets them computed (lines
//!   that do not start with `8=` are sent as written);
//! - an expected message matches a received one field by field, in order: values literally,
//!   except fields with a pattern in `fields.fmt`, whose received value must match it;
//! - `I2,`/`E2,`/`i2,`/`e2,` address a second connection.
//!
//! One deviation, documented in docs/fix.md: at `eDISCONNECT` the acceptor may send Logout
//! messages before closing (the Birzha profile answers every refused Logon with a Logout that
//! gives the reason), where QuickFIX's runner expects no data at all. Any other message fails.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use birzha_gateway::{EchoApplication, GatewayConfig, Sessions};
use regex::Regex;

use crate::util::{Client, Server, fix44_dir, utc_now};

/// How long an expected message may take (the heartbeat scripts wait up to 7.2 s).
const EXPECT_SECS: u64 = 20;
/// How long the acceptor may take to close a connection at `eDISCONNECT`.
const DISCONNECT_SECS: u64 = 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quickfix_fix44_server_scripts_all_pass() {
    let dir = fix44_dir();
    let patterns = Arc::new(load_patterns(&dir.join("fields.fmt")));
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read the acceptance directory")
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|extension| extension == "def"))
        .collect();
    scripts.sort();
    assert!(scripts.len() >= 50, "expected the 59 FIX 4.4 scripts, found {}", scripts.len());
    let tasks: Vec<_> = scripts
        .iter()
        .map(|path| {
            let (path, patterns) = (path.clone(), Arc::clone(&patterns));
            tokio::spawn(async move { run_script(&path, &patterns).await })
        })
        .collect();
    let mut failures = Vec::new();
    for (path, task) in scripts.iter().zip(tasks) {
        let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
        match task.await {
            Ok(Ok(())) => {}
            Ok(Err(reason)) => failures.push(format!("{name}: {reason}")),
            Err(error) => failures.push(format!("{name}: panicked: {error}")),
        }
    }
    eprintln!("{} of {} scripts passed", scripts.len() - failures.len(), scripts.len());
    assert!(failures.is_empty(), "failed scripts:\n{}", failures.join("\n"));
}

/// The `fields.fmt` patterns: tag → regular expression (unanchored, as Ruby's `===`).
fn load_patterns(path: &Path) -> BTreeMap<String, Regex> {
    let text = std::fs::read_to_string(path).expect("read fields.fmt");
    text.lines()
        .filter_map(|line| line.split_once('='))
        .map(|(tag, pattern)| (tag.to_owned(), Regex::new(pattern).expect("pattern")))
        .collect()
}

/// One script action.
enum Action {
    Connect(u8),
    Disconnect(u8),
    ExpectDisconnect(u8),
    Send(u8, String),
    Expect(u8, String),
}

fn parse_line(line: &str) -> Result<Option<Action>, String> {
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let kind = line.as_bytes()[0];
    let rest = &line[1..];
    let (connection, body) = match rest.as_bytes() {
        [digit @ b'0'..=b'9', b',', ..] => (digit - b'0', &rest[2..]),
        _ => (1, rest),
    };
    Ok(Some(match (kind, body) {
        (b'i', "CONNECT") => Action::Connect(connection),
        (b'i', "DISCONNECT") => Action::Disconnect(connection),
        (b'e', "DISCONNECT") => Action::ExpectDisconnect(connection),
        (b'e', "CONNECT") => return Ok(None),
        (b'I', _) => Action::Send(connection, body.to_owned()),
        (b'E', _) => Action::Expect(connection, body.to_owned()),
        _ => return Err(format!("syntax error: {line}")),
    }))
}

async fn run_script(path: &Path, patterns: &BTreeMap<String, Regex>) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|error| error.to_string())?;
    let mut config = GatewayConfig::new("ISLD");
    config.session.reset_on_logon = true;
    config.auth_backoff_base = std::time::Duration::from_millis(10);
    let sessions = Sessions::new(&config);
    let application = Arc::new(EchoApplication::new(sessions.clone(), ["TW44"]));
    let server = Server::start(config, application, sessions).await;
    let mut clients: BTreeMap<u8, Client> = BTreeMap::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim_end_matches(['\r', '\n']);
        let Some(action) = parse_line(line)? else { continue };
        run_action(action, &mut clients, server.address, patterns)
            .await
            .map_err(|reason| format!("line {}: {reason}", number + 1))?;
    }
    drop(clients);
    server.stop().await;
    Ok(())
}

async fn run_action(
    action: Action,
    clients: &mut BTreeMap<u8, Client>,
    address: std::net::SocketAddr,
    patterns: &BTreeMap<String, Regex>,
) -> Result<(), String> {
    match action {
        Action::Connect(connection) => {
            clients.insert(connection, Client::connect(address).await);
        }
        Action::Disconnect(connection) => {
            clients.remove(&connection);
        }
        Action::Send(connection, body) => {
            let client = clients.get_mut(&connection).ok_or("send on a closed connection")?;
            client.send(&fixify(&timify(&body))).await;
        }
        Action::Expect(connection, body) => {
            let client = clients.get_mut(&connection).ok_or("expect on a closed connection")?;
            let expected = fixify(&timify(&body));
            let received = client
                .receive_within(EXPECT_SECS)
                .await?
                .ok_or_else(|| format!("disconnected, expected {}", show(&expected)))?;
            compare(&expected, &received, patterns).map_err(|reason| {
                format!("{reason}\n  expected {}\n  received {}", show(&expected), show(&received))
            })?;
        }
        Action::ExpectDisconnect(connection) => {
            let client = clients.get_mut(&connection).ok_or("no such connection")?;
            loop {
                match client.receive_within(DISCONNECT_SECS).await? {
                    None => break,
                    Some(message) if crate::util::field(&message, 35).as_deref() == Some("5") => {}
                    Some(message) => {
                        return Err(format!("expected disconnection, got {}", show(&message)));
                    }
                }
            }
            clients.remove(&connection);
        }
    }
    Ok(())
}

/// Replaces `<TIME>` and `<TIME+N>` / `<TIME-N>`.
fn timify(line: &str) -> String {
    let mut text = line.replace("<TIME>", &utc_now(0));
    while let Some(start) = text.find("<TIME") {
        let Some(length) = text[start..].find('>') else { break };
        let offset: i64 = text[start + 5..start + length].parse().unwrap_or(0);
        text.replace_range(start..=start + length, &utc_now(offset));
    }
    text
}

/// Inserts BodyLength and CheckSum where absent, exactly as QuickFIX's runner does.
fn fixify(message: &str) -> Vec<u8> {
    let has_length = message.contains("\x019=");
    if !message.starts_with("8=") {
        return message.as_bytes().to_vec();
    }
    let Some(head_end) = message.find('\x01') else { return message.as_bytes().to_vec() };
    let head = &message[..=head_end];
    let mut rest = message[head_end + 1..].to_owned();
    let mut checksum = None;
    if rest.ends_with('\x01')
        && let Some(position) = rest.find("\x0110=")
    {
        checksum = Some(rest[position..].to_owned());
        rest.truncate(position);
    }
    let length = if has_length { String::new() } else { format!("9={}\x01", rest.len()) };
    let checksum = checksum.unwrap_or_else(|| {
        let text = format!("{head}{length}{rest}");
        format!("10={:03}\x01", birzha_fix::checksum(text.as_bytes()))
    });
    format!("{head}{length}{rest}{checksum}").into_bytes()
}

/// Compares as QuickFIX's `Comparator`: same number of fields, same tags in order, values equal
/// or (for `fields.fmt` tags) the received value matching the pattern.
fn compare(
    expected: &[u8],
    received: &[u8],
    patterns: &BTreeMap<String, Regex>,
) -> Result<(), String> {
    let split = |bytes: &[u8]| -> Vec<String> {
        let text = String::from_utf8_lossy(bytes).into_owned();
        text.split('\x01').filter(|field| !field.is_empty()).map(str::to_owned).collect()
    };
    let (expected, received) = (split(expected), split(received));
    if expected.len() != received.len() {
        return Err("number of fields does not match".into());
    }
    for (left, right) in expected.iter().zip(&received) {
        let (left_tag, left_value) = left.split_once('=').unwrap_or((left, ""));
        let (right_tag, right_value) = right.split_once('=').unwrap_or((right, ""));
        if left_tag != right_tag {
            return Err(format!("expected field {left_tag} but found field {right_tag}"));
        }
        match patterns.get(left_tag) {
            Some(pattern) if !pattern.is_match(right_value) => {
                return Err(format!("field {left_tag} does not match its pattern"));
            }
            Some(_) => {}
            None if left_value != right_value => {
                return Err(format!(
                    "field {left_tag} should be {left_value} but was {right_value}"
                ));
            }
            None => {}
        }
    }
    Ok(())
}

fn show(message: &[u8]) -> String {
    String::from_utf8_lossy(message).replace('\x01', "|")
}

/// The runner is not vacuous: a script with one wrong expected value fails, and the same
/// script with the right value passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runner_detects_a_wrong_expectation() {
    let dir = fix44_dir();
    let patterns = load_patterns(&dir.join("fields.fmt"));
    let script = |heartbeat: u32| {
        format!(
            "iCONNECT\n\
             I8=FIX.4.4\x0135=A\x0134=1\x0149=TW44\x0152=<TIME>\x0156=ISLD\x0198=0\x01\
             108=30\x01\n\
             E8=FIX.4.4\x019=63\x0135=A\x0134=1\x0149=ISLD\x01\
             52=00000000-00:00:00.000\x0156=TW44\x0198=0\x01108={heartbeat}\x0110=0\x01\n\
             iDISCONNECT\n"
        )
    };
    let scratch = tempfile::tempdir().expect("temporary directory");
    let path = scratch.path().join("script.def");
    std::fs::write(&path, script(31)).expect("write script");
    let failure = run_script(&path, &patterns).await.expect_err("a wrong value must fail");
    assert!(failure.contains("field 108 should be 31 but was 30"), "{failure}");
    std::fs::write(&path, script(30)).expect("write script");
    run_script(&path, &patterns).await.expect("the right value passes");
}
