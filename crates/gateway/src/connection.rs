//! The only code that touches a connection's bytes: reads frames into a reused buffer, splits
//! them into fields, and writes batches of outbound bytes.
//!
//! Reading uses the two decode phases of `birzha-fix`: [`check`] finds a complete frame at the
//! front of the buffer without allocating; the partial tail stays in the `BytesMut` until more
//! bytes arrive. Garbled frames are reported (the caller logs and drops them), and the buffer is
//! advanced past them.

use birzha_fix::{Fields, FrameError, FrameErrorKind, MessageView, ParseError, check, parse};
use bytes::{Buf, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::GatewayError;

/// What one read produced.
#[derive(Debug)]
pub(crate) enum Read {
    /// A verified frame of this many bytes is at the front of the buffer; look at it with
    /// [`Connection::view`], then [`Connection::consume`] it.
    Frame(usize),
    /// Garbled bytes were discarded.
    Garbled(FrameError),
    /// The peer closed the connection.
    Closed,
}

/// A TCP connection speaking FIX.
#[derive(Debug)]
pub(crate) struct Connection {
    /// The socket.
    stream: TcpStream,
    /// Bytes read but not yet consumed; its capacity is reused.
    buffer: BytesMut,
    /// Field offsets of the frame being looked at; allocated once.
    fields: Fields,
    /// The largest frame accepted.
    message_size_max: usize,
}

impl Connection {
    pub(crate) fn new(stream: TcpStream, message_size_max: usize, fields_max: usize) -> Self {
        Self {
            stream,
            buffer: BytesMut::with_capacity(message_size_max.min(64 * 1024)),
            fields: Fields::with_capacity(fields_max),
            message_size_max,
        }
    }

    /// Reads until a frame is complete, garbled bytes have been dropped, or the peer closed.
    /// Cancel-safe: bytes read so far stay in the buffer.
    ///
    /// # Errors
    /// Returns [`GatewayError::Io`] on socket errors and [`GatewayError::MessageTooLarge`] when
    /// the peer exceeds the size limit.
    pub(crate) async fn read(&mut self) -> Result<Read, GatewayError> {
        loop {
            if let Some(read) = self.buffered()? {
                return Ok(read);
            }
            if self.stream.read_buf(&mut self.buffer).await? == 0 {
                return Ok(Read::Closed);
            }
        }
    }

    /// What the bytes already read hold at the front, without reading: a complete frame,
    /// dropped garbled bytes, or `None` when more bytes are needed.
    ///
    /// # Errors
    /// Returns [`GatewayError::MessageTooLarge`] when the peer exceeds the size limit.
    pub(crate) fn buffered(&mut self) -> Result<Option<Read>, GatewayError> {
        match check(&self.buffer, self.message_size_max) {
            Ok(Some(length)) => Ok(Some(Read::Frame(length))),
            Ok(None) => Ok(None),
            Err(FrameError { kind: FrameErrorKind::TooLarge { limit }, .. }) => {
                Err(GatewayError::MessageTooLarge { limit })
            }
            Err(error) => {
                self.buffer.advance(error.discard.min(self.buffer.len()));
                Ok(Some(Read::Garbled(error)))
            }
        }
    }

    /// Parses the frame of `length` bytes at the front of the buffer.
    ///
    /// # Errors
    /// Returns a [`ParseError`] for a frame whose fields are malformed.
    pub(crate) fn view(&mut self, length: usize) -> Result<MessageView<'_>, ParseError> {
        parse(&self.buffer[..length], &mut self.fields)
    }

    /// The bytes of the frame of `length` bytes at the front of the buffer.
    pub(crate) fn frame(&self, length: usize) -> &[u8] {
        &self.buffer[..length]
    }

    /// Drops the frame of `length` bytes at the front of the buffer.
    pub(crate) fn consume(&mut self, length: usize) {
        self.buffer.advance(length);
    }

    /// Writes `bytes` (a batch of whole frames) to the socket.
    ///
    /// # Errors
    /// Returns the socket error.
    pub(crate) async fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.stream.write_all(bytes).await
    }

    /// Flushes and shuts down the sending side.
    pub(crate) async fn close(&mut self) {
        let _ = self.stream.shutdown().await;
    }
}
