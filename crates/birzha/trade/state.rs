//! Sequence numbers kept between runs of `birzha trade`.
//!
//! The exchange keeps each trader's MsgSeqNums across reconnects and refuses a Logon numbered
//! below what it expects (a refusal, not a disconnect: the trader's orders stay). So
//! `birzha trade` saves the numbers at the end of every session in
//! `<state dir>/<server>/<TRADER>.seq`, one line `SENDER_NEXT TARGET_NEXT`, and logs on with
//! them the next time. Without a file it resets the session's numbers (141=Y).

use std::fs;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use birzha_client::SequenceNumbers;

/// The default state directory: `$XDG_STATE_HOME/birzha`, else `~/.local/state/birzha`, else
/// `.birzha` in the current directory.
pub(crate) fn default_dir() -> PathBuf {
    if let Some(state) = std::env::var_os("XDG_STATE_HOME").filter(|dir| !dir.is_empty()) {
        return PathBuf::from(state).join("birzha");
    }
    match std::env::var_os("HOME").filter(|dir| !dir.is_empty()) {
        Some(home) => PathBuf::from(home).join(".local/state/birzha"),
        None => PathBuf::from(".birzha"),
    }
}

/// The file of `trader`'s numbers with the exchange at `server`.
pub(crate) fn path(dir: &Path, server: SocketAddr, trader: &str) -> PathBuf {
    let server = server.to_string().replace([':', '[', ']'], "_");
    let trader: String = trader
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect();
    dir.join(server).join(format!("{trader}.seq"))
}

/// Reads saved numbers; `Ok(None)` when there is no file.
///
/// # Errors
/// Returns an I/O error, or `InvalidData` for a file that is not two numbers.
pub(crate) fn load(path: &Path) -> io::Result<Option<SequenceNumbers>> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error),
    };
    let numbers: Vec<u64> = text.split_whitespace().filter_map(|word| word.parse().ok()).collect();
    match numbers[..] {
        [sender_next, target_next] if sender_next >= 1 => Ok(Some(SequenceNumbers {
            sender_next,
            target_next: (target_next >= 1).then_some(target_next),
        })),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} is not `SENDER_NEXT TARGET_NEXT`", path.display()),
        )),
    }
}

/// Saves the numbers (written to a temporary file and renamed, so a crash leaves the old or
/// the new numbers, never half a file).
///
/// # Errors
/// Returns the I/O error.
pub(crate) fn save(path: &Path, numbers: SequenceNumbers) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let temporary = path.with_extension("seq.tmp");
    let text = format!("{} {}\n", numbers.sender_next, numbers.target_next.unwrap_or(0));
    fs::write(&temporary, text)?;
    fs::rename(&temporary, path)
}

/// The number a "MsgSeqNum too low, expecting N but received M" refusal asks for.
pub(crate) fn expected_by_refusal(text: &str) -> Option<u64> {
    let rest = text.split("expecting ").nth(1)?;
    rest.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip_through_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = path(dir.path(), "127.0.0.1:9878".parse().expect("addr"), "TRADER1");
        assert!(path.ends_with("127.0.0.1_9878/TRADER1.seq"), "{}", path.display());
        assert_eq!(load(&path).expect("no file is fine"), None);
        let numbers = SequenceNumbers { sender_next: 12, target_next: Some(40) };
        save(&path, numbers).expect("saved");
        assert_eq!(load(&path).expect("read"), Some(numbers));
        save(&path, SequenceNumbers { sender_next: 2, target_next: None }).expect("saved");
        assert_eq!(load(&path).expect("read").and_then(|n| n.target_next), None);
        fs::write(&path, "garbage").expect("written");
        assert_eq!(load(&path).expect_err("bad").kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn the_refusal_names_the_expected_number() {
        let text = "MsgSeqNum too low, expecting 17 but received 1";
        assert_eq!(expected_by_refusal(text), Some(17));
        assert_eq!(expected_by_refusal("wrong password"), None);
    }
}
