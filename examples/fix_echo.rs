//! A bare tokio FIX "echo" server: the floor the gateway is measured against (issue 4).
//!
//! It does the per-message work every FIX server must do and nothing else: frame with
//! `birzha_fix::check`, parse with `birzha_fix::parse`, and answer with an encoded message of
//! the gateway's shape, through a buffered TCP stream on tokio's multi-threaded runtime. A
//! Logon is answered with a Logon, a TestRequest with a Heartbeat, a Logout with a Logout (then
//! the connection closes); a NewOrderSingle (`D`) with an ExecutionReport New and an
//! OrderCancelRequest (`F`) with an ExecutionReport Cancelled. There is no session layer (no
//! store, no sequence checks), no authentication, no engine and no journal, so `birzha load`
//! against it measures the TCP, runtime and codec cost alone; the gateway's rate as a fraction
//! of this one is a figure that holds on any machine (docs/performance.md).
//!
//! Run: `cargo run --release --example fix_echo -- 127.0.0.1:19880`, then
//! `birzha load --server 127.0.0.1:19880 --sessions 16 --flat-out --duration 10`.

use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use birzha_fix::{Fields, MessageView, MessageWriter, UtcTimestamp, WriteFields, check, parse};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The largest message accepted, as the gateway's default.
const MESSAGE_SIZE_MAX: usize = 8_192;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let address: SocketAddr = match std::env::args().nth(1) {
        Some(text) => text.parse().map_err(std::io::Error::other)?,
        None => SocketAddr::from(([127, 0, 0, 1], 19_880)),
    };
    let listener = TcpListener::bind(address).await?;
    eprintln!("fix_echo: listening on {}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        tokio::spawn(async move {
            if let Err(error) = serve(stream).await {
                eprintln!("fix_echo: connection ended: {error}");
            }
        });
    }
}

/// One connection's outbound state.
struct Echo {
    /// The next outbound MsgSeqNum.
    seq: u64,
    /// The next order and execution number.
    id: u64,
    /// Encoded replies waiting to be written.
    out: Vec<u8>,
}

async fn serve(mut stream: TcpStream) -> std::io::Result<()> {
    let mut buffer = Vec::with_capacity(64 * 1024);
    let mut fields = Fields::with_capacity(256);
    let mut echo = Echo { seq: 1, id: 1, out: Vec::with_capacity(64 * 1024) };
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Ok(());
        }
        buffer.extend_from_slice(&chunk[..read]);
        let mut start = 0;
        let mut open = true;
        while open {
            match check(&buffer[start..], MESSAGE_SIZE_MAX) {
                Ok(Some(length)) => {
                    let frame = &buffer[start..start + length];
                    if let Ok(view) = parse(frame, &mut fields) {
                        open = echo.answer(&view);
                    }
                    start += length;
                }
                Ok(None) => break,
                Err(error) if error.discard > 0 => start += error.discard,
                Err(error) => return Err(std::io::Error::other(error)),
            }
        }
        buffer.drain(..start);
        stream.write_all(&echo.out).await?;
        echo.out.clear();
        if !open {
            return Ok(());
        }
    }
}

impl Echo {
    /// Encodes the answer to `view`; returns `false` after a Logout.
    fn answer(&mut self, view: &MessageView<'_>) -> bool {
        let peer = view.get(49).unwrap_or(b"?");
        let now = now();
        let msg_type = view.msg_type();
        let reply: &[u8] = match msg_type {
            b"A" | b"5" => msg_type,
            b"1" => b"0",
            b"D" | b"F" => b"8",
            _ => return true,
        };
        let mut writer = MessageWriter::begin(&mut self.out, b"FIX.4.4", reply);
        writer.uint(34, self.seq).str(49, b"BIRZHA").timestamp(52, now).str(56, peer);
        self.seq += 1;
        match msg_type {
            b"A" => {
                writer.uint(98, 0).uint(108, view.get_u64(108).unwrap_or(30));
            }
            b"1" => {
                writer.str(112, view.get(112).unwrap_or(b""));
            }
            b"D" | b"F" => {
                let (exec_type, leaves) = if msg_type == b"D" {
                    (b'0', view.get_u64(38).unwrap_or(0))
                } else {
                    (b'4', 0)
                };
                writer.uint(37, self.id).str(11, view.get(11).unwrap_or(b"")).uint(17, self.id);
                writer
                    .char(150, exec_type)
                    .char(39, exec_type)
                    .str(55, view.get(55).unwrap_or(b""));
                writer
                    .str(54, view.get(54).unwrap_or(b"1"))
                    .uint(38, view.get_u64(38).unwrap_or(0));
                writer.uint(151, leaves).uint(14, 0).uint(6, 0).timestamp(60, now);
                self.id += 1;
            }
            _ => {}
        }
        writer.finish();
        msg_type != b"5"
    }
}

fn now() -> UtcTimestamp {
    let millis = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    UtcTimestamp(i64::try_from(millis).unwrap_or(i64::MAX))
}
