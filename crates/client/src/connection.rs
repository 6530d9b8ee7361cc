//! The only code that touches the socket's bytes: frames in a reused buffer, batches out.

use birzha_fix::{FrameError, FrameErrorKind, check};
use bytes::{Buf, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::ClientError;

/// What one read produced.
#[derive(Debug)]
pub(crate) enum Read {
    /// A verified frame of this many bytes is at the front of the buffer: see
    /// [`Connection::frame`], then [`Connection::consume`].
    Frame(usize),
    /// Garbled bytes were discarded.
    Garbled(FrameError),
    /// The exchange closed the connection.
    Closed,
}

/// A TCP connection to the exchange.
#[derive(Debug)]
pub(crate) struct Connection {
    /// The socket.
    stream: TcpStream,
    /// Bytes read and not yet consumed; its capacity is reused.
    buffer: BytesMut,
    /// The largest frame accepted.
    message_size_max: usize,
}

impl Connection {
    pub(crate) fn new(stream: TcpStream, message_size_max: usize) -> Connection {
        // Orders are small and latency matters more than packet count.
        let _ = stream.set_nodelay(true);
        Connection { stream, buffer: BytesMut::with_capacity(64 * 1024), message_size_max }
    }

    /// Reads until a frame is complete, garbled bytes were dropped, or the exchange closed.
    /// Cancel-safe: bytes read so far stay in the buffer.
    ///
    /// # Errors
    /// Returns [`ClientError::Io`] on socket errors and [`ClientError::MessageTooLarge`] when a
    /// frame exceeds the limit.
    pub(crate) async fn read(&mut self) -> Result<Read, ClientError> {
        loop {
            if let Some(read) = self.buffered()? {
                return Ok(read);
            }
            let read = self.stream.read_buf(&mut self.buffer).await;
            if read.map_err(ClientError::io("reading from the exchange"))? == 0 {
                return Ok(Read::Closed);
            }
        }
    }

    /// A frame (or garbled bytes) already in the buffer, without reading the socket.
    ///
    /// # Errors
    /// Returns [`ClientError::MessageTooLarge`] when a frame exceeds the limit.
    pub(crate) fn buffered(&mut self) -> Result<Option<Read>, ClientError> {
        match check(&self.buffer, self.message_size_max) {
            Ok(Some(length)) => Ok(Some(Read::Frame(length))),
            Ok(None) => Ok(None),
            Err(FrameError { kind: FrameErrorKind::TooLarge { limit }, .. }) => {
                Err(ClientError::MessageTooLarge { limit })
            }
            Err(error) => {
                self.buffer.advance(error.discard.min(self.buffer.len()));
                Ok(Some(Read::Garbled(error)))
            }
        }
    }

    /// The frame of `length` bytes at the front of the buffer.
    pub(crate) fn frame(&self, length: usize) -> &[u8] {
        &self.buffer[..length]
    }

    /// Drops the frame of `length` bytes at the front of the buffer.
    pub(crate) fn consume(&mut self, length: usize) {
        self.buffer.advance(length);
    }

    /// Writes a batch of whole frames.
    ///
    /// # Errors
    /// Returns [`ClientError::Io`] if the socket fails.
    pub(crate) async fn write_all(&mut self, bytes: &[u8]) -> Result<(), ClientError> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.stream.write_all(bytes).await.map_err(ClientError::io("writing to the exchange"))
    }

    /// Shuts down the sending side.
    pub(crate) async fn close(&mut self) {
        let _ = self.stream.shutdown().await;
    }
}
