//! The encoder: writes `tag=value` fields into a reused byte buffer and seals a message with its
//! BodyLength (9) and CheckSum (10).
//!
//! [`MessageWriter`] appends one message to the end of a `Vec<u8>` (typically a connection's
//! write buffer), so that many messages can be batched into one write. [`Body`] holds the body
//! fields of a message built elsewhere (for example by the exchange application on another
//! thread) and is appended whole with [`WriteFields::raw`].
//!
//! # Performance
//! Nothing here allocates once the buffer has grown to its working size: integers are formatted
//! with `itoa`, timestamps with [`UtcTimestamp::format`], and BodyLength is back-filled by moving
//! the body (one `memmove` of the body, shorter than a cache miss for typical messages).

use std::ops::Range;

use crate::message::find_soh;
use crate::{SOH, UtcTimestamp, frame::checksum};

/// Field-writing methods shared by [`MessageWriter`] and [`Body`].
pub trait WriteFields {
    /// The buffer the fields are appended to.
    fn buffer(&mut self) -> &mut Vec<u8>;

    /// Appends `tag=value<SOH>`.
    ///
    /// # Panics
    /// Panics if `value` contains an SOH (a bug: callers validate user text first).
    #[inline(always)]
    fn str(&mut self, tag: u32, value: &[u8]) -> &mut Self {
        assert!(!contains_soh(value), "Invariant: no SOH inside a value");
        let buffer = self.buffer();
        buffer.reserve(value.len() + 12);
        put_tag(buffer, tag);
        buffer.extend_from_slice(value);
        buffer.push(SOH);
        self
    }

    /// Appends an unsigned integer field.
    #[inline(always)]
    fn uint(&mut self, tag: u32, value: u64) -> &mut Self {
        put_tag(self.buffer(), tag);
        let mut digits = itoa::Buffer::new();
        let buffer = self.buffer();
        buffer.extend_from_slice(digits.format(value).as_bytes());
        buffer.push(SOH);
        self
    }

    /// Appends a signed integer field.
    #[inline]
    fn int(&mut self, tag: u32, value: i64) -> &mut Self {
        put_tag(self.buffer(), tag);
        let mut digits = itoa::Buffer::new();
        let buffer = self.buffer();
        buffer.extend_from_slice(digits.format(value).as_bytes());
        buffer.push(SOH);
        self
    }

    /// Appends a one-character field.
    #[inline]
    fn char(&mut self, tag: u32, value: u8) -> &mut Self {
        self.str(tag, &[value])
    }

    /// Appends a `YYYYMMDD-HH:MM:SS.sss` field.
    #[inline]
    fn timestamp(&mut self, tag: u32, value: UtcTimestamp) -> &mut Self {
        self.str(tag, &value.format())
    }

    /// Appends a plain decimal `mantissa × 10^-scale` (`6800`, `0.95`, `-290.5`): no `+`, no
    /// exponent, trailing zeros of the fraction kept as given by `scale`.
    ///
    /// # Panics
    /// Panics if `scale` exceeds 18.
    #[inline(always)]
    fn decimal(&mut self, tag: u32, mantissa: i64, scale: u32) -> &mut Self {
        assert!(scale <= 18, "Invariant: decimal scale at most 18");
        put_tag(self.buffer(), tag);
        let buffer = self.buffer();
        if mantissa < 0 {
            buffer.push(b'-');
        }
        let mut digits = itoa::Buffer::new();
        let text = digits.format(mantissa.unsigned_abs()).as_bytes();
        let scale = scale as usize;
        if scale == 0 {
            buffer.extend_from_slice(text);
        } else if text.len() > scale {
            buffer.extend_from_slice(&text[..text.len() - scale]);
            buffer.push(b'.');
            buffer.extend_from_slice(&text[text.len() - scale..]);
        } else {
            buffer.extend_from_slice(b"0.");
            buffer.extend(std::iter::repeat_n(b'0', scale - text.len()));
            buffer.extend_from_slice(text);
        }
        buffer.push(SOH);
        self
    }

    /// Appends fields already encoded as `tag=value<SOH>…`.
    ///
    /// # Panics
    /// Panics if `fields` is not empty and does not end with SOH.
    #[inline]
    fn raw(&mut self, fields: &[u8]) -> &mut Self {
        assert!(fields.is_empty() || fields.ends_with(&[SOH]), "Invariant: raw fields end in SOH");
        self.buffer().extend_from_slice(fields);
        self
    }
}

/// Whether `value` holds an SOH byte (values are short: the parser's inline word scan costs
/// less than a call to `memchr`).
#[inline(always)]
fn contains_soh(value: &[u8]) -> bool {
    find_soh(value, 0).is_some()
}

#[inline(always)]
fn put_tag(buffer: &mut Vec<u8>, tag: u32) {
    // Tags below 10 000 (all FIX tags): the digits and `=` are written as one fixed 8-byte
    // store, then the unused tail is cut off (cheaper than a variable-length copy).
    if tag < 10_000 {
        let width = match tag {
            0..10 => 1,
            10..100 => 2,
            100..1000 => 3,
            _ => 4,
        };
        let mut text = [b'='; 8];
        let mut rest = tag;
        for slot in text[..width].iter_mut().rev() {
            *slot = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        let end = buffer.len() + width + 1;
        buffer.extend_from_slice(&text);
        buffer.truncate(end);
        return;
    }
    let mut digits = itoa::Buffer::new();
    buffer.extend_from_slice(digits.format(tag).as_bytes());
    buffer.push(b'=');
}

/// Room reserved for BodyLength's digits: three, the width of nearly every message's length
/// (100 to 999 bytes), so that `finish` seldom has to move the body.
const BODY_LENGTH_DIGITS_GUESS: usize = 3;

/// BodyLength has at most this many digits: messages are far smaller than 10^7 bytes.
const BODY_LENGTH_DIGITS_MAX: usize = 7;

/// Writes one message onto the end of a buffer. Create with [`MessageWriter::begin`], add header
/// and body fields in order, seal with [`MessageWriter::finish`].
#[derive(Debug)]
pub struct MessageWriter<'a> {
    /// The buffer the message is appended to; earlier contents are left alone.
    out: &'a mut Vec<u8>,
    /// Where this message starts in `out`.
    start: usize,
    /// Where BodyLength's digits go (just past `9=`).
    length_at: usize,
}

impl<'a> MessageWriter<'a> {
    /// Starts a message: writes `8=<begin_string>`, reserves BodyLength and writes `35=<msg_type>`.
    #[inline]
    pub fn begin(out: &'a mut Vec<u8>, begin_string: &[u8], msg_type: &[u8]) -> Self {
        let start = out.len();
        out.extend_from_slice(b"8=");
        out.extend_from_slice(begin_string);
        out.extend_from_slice(b"\x019=");
        let length_at = out.len();
        out.extend_from_slice(&[b'0'; BODY_LENGTH_DIGITS_GUESS]);
        out.push(SOH);
        let mut writer = Self { out, start, length_at };
        writer.str(35, msg_type);
        writer
    }

    /// Writes BodyLength and CheckSum, returning where the finished message lies in the buffer.
    ///
    /// # Panics
    /// Panics if the body is longer than 9,999,999 bytes (a bug: bodies are bounded by config).
    #[inline]
    pub fn finish(self) -> Range<usize> {
        let body_start = self.length_at + BODY_LENGTH_DIGITS_GUESS + 1;
        let body_length = self.out.len() - body_start;
        let mut digits = itoa::Buffer::new();
        let text = digits.format(body_length).as_bytes();
        assert!(text.len() <= BODY_LENGTH_DIGITS_MAX, "Invariant: body shorter than 10^7 bytes");
        if text.len() != BODY_LENGTH_DIGITS_GUESS {
            // Shorter or longer than guessed: move the body (and its SOH) to fit the digits.
            let body_end = self.out.len();
            let new_start = self.length_at + text.len() + 1;
            if new_start > body_start {
                self.out.resize(body_end + (new_start - body_start), 0);
            }
            self.out.copy_within(body_start - 1..body_end, new_start - 1);
            self.out.truncate(new_start + body_length);
        }
        self.out[self.length_at..self.length_at + text.len()].copy_from_slice(text);
        let sum = checksum(&self.out[self.start..]);
        self.out.extend_from_slice(&[b'1', b'0', b'=', b'0' + sum / 100]);
        self.out.extend_from_slice(&[b'0' + sum / 10 % 10, b'0' + sum % 10, SOH]);
        self.start..self.out.len()
    }
}

impl WriteFields for MessageWriter<'_> {
    #[inline]
    fn buffer(&mut self) -> &mut Vec<u8> {
        self.out
    }
}

/// The body fields of a message, encoded, to be wrapped in a header later. Reusable: `clear` it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Body {
    /// `tag=value<SOH>` fields in order.
    bytes: Vec<u8>,
}

impl Body {
    /// An empty body.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The encoded fields.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Empties the body, keeping its capacity.
    pub fn clear(&mut self) {
        self.bytes.clear();
    }
}

impl WriteFields for Body {
    #[inline]
    fn buffer(&mut self) -> &mut Vec<u8> {
        &mut self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check;

    #[test]
    fn encodes_a_checkable_message() {
        let mut out = b"previous".to_vec();
        let mut writer = MessageWriter::begin(&mut out, b"FIX.4.4", b"0");
        writer.uint(34, 2).str(49, b"ISLD").timestamp(52, UtcTimestamp(0)).str(56, b"TW");
        let range = writer.finish();
        assert_eq!(range.start, 8);
        let message = &out[range.clone()];
        let expected = concat!(
            "8=FIX.4.4\x019=49\x0135=0\x0134=2\x0149=ISLD\x01",
            "52=19700101-00:00:00.000\x0156=TW\x01"
        )
        .as_bytes();
        assert_eq!(&message[..expected.len()], expected);
        assert_eq!(check(message, 4096), Ok(Some(message.len())));
    }

    #[test]
    fn body_length_has_as_many_digits_as_it_needs() {
        for filler in [0, 5, 60, 100, 950, 1000, 12_000] {
            let mut out = b"x".to_vec();
            let mut writer = MessageWriter::begin(&mut out, b"FIX.4.4", b"0");
            writer.str(58, &vec![b'a'; filler]);
            let range = writer.finish();
            let message = &out[range];
            let body_length = filler + "35=0\x0158=\x01".len();
            let head = format!("8=FIX.4.4\x019={body_length}\x0135=0\x0158=");
            assert!(message.starts_with(head.as_bytes()), "{filler}");
            assert_eq!(check(message, 1 << 20), Ok(Some(message.len())), "{filler}");
        }
    }

    #[test]
    fn writes_tags_of_every_width() {
        let mut body = Body::new();
        body.uint(8, 1).uint(35, 2).uint(447, 3).uint(5001, 4).uint(10_000, 5).uint(123_456, 6);
        assert_eq!(body.as_bytes(), b"8=1\x0135=2\x01447=3\x015001=4\x0110000=5\x01123456=6\x01");
    }

    #[test]
    fn writes_plain_decimals() {
        let mut body = Body::new();
        body.decimal(44, 6800, 0).decimal(44, 95, 2).decimal(44, -2905, 1).decimal(44, 5, 3);
        assert_eq!(body.as_bytes(), b"44=6800\x0144=0.95\x0144=-290.5\x0144=0.005\x01");
    }
}
