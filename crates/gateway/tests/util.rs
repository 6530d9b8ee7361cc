//! Shared helpers: starting an acceptor, a minimal FIX client, the stock test data.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use birzha_fix::session::Application;
use birzha_gateway::{GatewayConfig, Sessions, run};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The directory of the QuickFIX acceptance data; panics with a clear message when missing.
pub(crate) fn fix44_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    birzha_fix::stock::fix44_dir(&root).unwrap_or_else(|message| panic!("{message}"))
}

/// A running acceptor.
pub(crate) struct Server {
    pub(crate) address: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Server {
    pub(crate) async fn start<A>(
        config: GatewayConfig,
        application: Arc<A>,
        sessions: Sessions,
    ) -> Self
    where
        A: Application + Send + Sync + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            run(listener, config, application, sessions, async {
                let _ = stopped.await;
            })
            .await
            .expect("acceptor");
        });
        Self { address, stop: Some(stop), task }
    }

    /// Shuts the acceptor down and waits for it.
    pub(crate) async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Adds BodyLength and CheckSum to `fields` (`|` stands for SOH), after `8=FIX.4.4`.
pub(crate) fn frame(fields: &str) -> Vec<u8> {
    let mut body = fields.replace('|', "\x01");
    if !body.ends_with('\x01') {
        body.push('\x01');
    }
    let mut message = format!("8=FIX.4.4\x019={}\x01{}", body.len(), body).into_bytes();
    let sum = birzha_fix::checksum(&message);
    message.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
    message
}

/// The current UTC time as `YYYYMMDD-HH:MM:SS`, shifted by `offset_secs`.
pub(crate) fn utc_now(offset_secs: i64) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    let stamp = birzha_fix::UtcTimestamp(now.as_millis() as i64 + offset_secs * 1000).format();
    String::from_utf8_lossy(&stamp[..17]).into_owned()
}

/// A test client: writes raw bytes, reads whole frames.
pub(crate) struct Client {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl Client {
    /// The socket, for tests that read and write at once (bytes already buffered are lost).
    pub(crate) fn into_stream(self) -> TcpStream {
        self.stream
    }

    pub(crate) async fn connect(address: SocketAddr) -> Self {
        Self { stream: TcpStream::connect(address).await.expect("connect"), buffer: Vec::new() }
    }

    /// Connects with a receive buffer of about `bytes`, so that a client which stops reading
    /// stalls the server's writes soon.
    pub(crate) async fn connect_with_receive_buffer(address: SocketAddr, bytes: u32) -> Self {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.set_recv_buffer_size(bytes).expect("SO_RCVBUF");
        Self { stream: socket.connect(address).await.expect("connect"), buffer: Vec::new() }
    }

    pub(crate) async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("write");
    }

    /// The next frame, or `None` when the server closed the connection.
    pub(crate) async fn receive(&mut self) -> Option<Vec<u8>> {
        loop {
            match birzha_fix::check(&self.buffer, 1 << 20) {
                Ok(Some(length)) => return Some(self.buffer.drain(..length).collect()),
                Ok(None) => {}
                Err(error) => panic!("server sent a garbled frame: {error}"),
            }
            let mut chunk = [0u8; 4096];
            match self.stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return None,
                Ok(read) => self.buffer.extend_from_slice(&chunk[..read]),
            }
        }
    }

    /// The next frame within `seconds`; `Err` on timeout.
    pub(crate) async fn receive_within(&mut self, seconds: u64) -> Result<Option<Vec<u8>>, String> {
        tokio::time::timeout(std::time::Duration::from_secs(seconds), self.receive())
            .await
            .map_err(|_| format!("nothing received within {seconds} s"))
    }
}

/// The value of `tag` in a frame.
pub(crate) fn field(frame: &[u8], tag: u32) -> Option<String> {
    let prefix = format!("{tag}=");
    frame.split(|&byte| byte == 1).find_map(|field| {
        field
            .strip_prefix(prefix.as_bytes())
            .map(|value| String::from_utf8_lossy(value).into_owned())
    })
}
