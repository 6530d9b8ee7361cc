//! The admin port's client: one request, one reply, over a blocking socket (what
//! `birzha admin` runs; no async runtime needed).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use super::{AdminRequest, LINE_LENGTH_MAX, REPLY_LENGTH_MAX};

/// The server's answer to one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminReply {
    /// Whether the server said `ok`.
    pub ok: bool,
    /// The text after `ok` or `error`.
    pub text: String,
}

impl AdminReply {
    /// Parses a reply line (its newline removed).
    ///
    /// # Errors
    /// Returns the line itself if it starts with neither `ok` nor `error`.
    pub fn parse(line: &str) -> Result<AdminReply, String> {
        let (status, text) = line.split_once(' ').unwrap_or((line, ""));
        match status {
            "ok" => Ok(AdminReply { ok: true, text: text.to_owned() }),
            "error" => Ok(AdminReply { ok: false, text: text.to_owned() }),
            _ => Err(line.to_owned()),
        }
    }
}

/// Why a request got no reply.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The token is empty or holds whitespace or control characters: it cannot be sent.
    #[error("the admin token must be printable ASCII without spaces")]
    Token,
    /// The request would exceed the server's line limit.
    #[error("the request is longer than {LINE_LENGTH_MAX} bytes")]
    TooLong,
    /// The connection failed.
    #[error("cannot connect to the admin port {address}")]
    Connect {
        /// The address tried.
        address: SocketAddr,
        /// Why; the error's source.
        source: io::Error,
    },
    /// Sending or receiving failed (a timeout included).
    #[error("no reply from the admin port {address}")]
    Io {
        /// The server.
        address: SocketAddr,
        /// Why; the error's source.
        source: io::Error,
    },
    /// The server closed the connection without a reply.
    #[error("admin port {address} closed the connection without a reply")]
    Closed {
        /// The server.
        address: SocketAddr,
    },
    /// The reply is not a protocol line.
    #[error("admin port {address} sent something that is not a reply: {line:?}")]
    Malformed {
        /// The server.
        address: SocketAddr,
        /// What it sent, cut at [`REPLY_LENGTH_MAX`] bytes.
        line: String,
    },
}

/// Sends `request` with `token` to the admin port at `address` and returns its reply. Every
/// step (connect, write, read) gives up after `timeout`.
///
/// # Errors
/// Returns a [`ClientError`] if the token cannot be sent, the server cannot be reached or
/// answers with something that is not a reply line.
pub fn request(
    address: SocketAddr,
    token: &str,
    request: &AdminRequest,
    timeout: Duration,
) -> Result<AdminReply, ClientError> {
    if token.is_empty() || !token.bytes().all(|byte| (0x21..=0x7e).contains(&byte)) {
        return Err(ClientError::Token);
    }
    let line = format!("{token} {request}\n");
    if line.len() > LINE_LENGTH_MAX {
        return Err(ClientError::TooLong);
    }
    let stream = TcpStream::connect_timeout(&address, timeout)
        .map_err(|source| ClientError::Connect { address, source })?;
    let io = |source| ClientError::Io { address, source };
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    stream.set_write_timeout(Some(timeout)).map_err(io)?;
    (&stream).write_all(line.as_bytes()).map_err(io)?;
    let mut reply = Vec::new();
    BufReader::new(&stream)
        .take(REPLY_LENGTH_MAX as u64)
        .read_until(b'\n', &mut reply)
        .map_err(io)?;
    if reply.is_empty() {
        return Err(ClientError::Closed { address });
    }
    let text = String::from_utf8_lossy(&reply);
    let malformed = || ClientError::Malformed { address, line: text.clone().into_owned() };
    let Some(line) = text.strip_suffix('\n') else { return Err(malformed()) };
    AdminReply::parse(line).map_err(|_| malformed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_parse() {
        assert_eq!(AdminReply::parse("ok"), Ok(AdminReply { ok: true, text: String::new() }));
        assert_eq!(
            AdminReply::parse("error unknown symbol `X`"),
            Ok(AdminReply { ok: false, text: "unknown symbol `X`".into() })
        );
        assert!(AdminReply::parse("HTTP/1.1 200 OK").is_err());
        assert!(AdminReply::parse("okay").is_err());
    }

    #[test]
    fn unsendable_tokens_are_refused_before_connecting() {
        // Port 9 on loopback is not contacted: the token is checked first.
        let address = SocketAddr::from(([127, 0, 0, 1], 9));
        for token in ["", "two words", "tab\there", "line\n"] {
            let error = request(address, token, &AdminRequest::Stats, Duration::from_millis(1));
            assert!(matches!(error, Err(ClientError::Token)), "{token:?}");
        }
    }
}
