//! The zero-copy message view: the second decode phase.
//!
//! [`parse`] splits a frame that [`check`](crate::check) accepted into `tag=value` fields. It
//! copies nothing: a [`MessageView`] is the frame's bytes plus a list of [`FieldRef`] offsets,
//! written into a caller-owned [`Fields`] buffer that is reused from message to message, so that
//! parsing allocates nothing in steady state.
//!
//! # Field order
//! Fields keep the order they had on the wire, including repeated tags, so repeating groups can
//! be walked with [`MessageView::fields`] and the data dictionary can judge ordering.
//!
//! # Tags
//! A tag is an optional `-` followed by 1 to 9 digits. Tags that are zero or negative are kept
//! with [`FieldRef::tag`] 0 (so that the session layer can answer them with a Reject naming the
//! tag as written, see [`MessageView::raw_tag`]); anything else is a [`ParseError`].
//!
//! # Data fields
//! The value of a `DATA` field may contain SOH bytes; its length comes from the field before it
//! (for example SecureDataLen (90) before SecureData (91)). [`parse`] knows the FIX 4.4 pairs.

use crate::SOH;

/// One field of a parsed message: its tag and where its value lies in the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldRef {
    /// The tag number; 0 for a tag written as zero or a negative number.
    pub tag: u32,
    /// Offset of the tag's first byte in the frame.
    pub start: u32,
    /// Offset of the value's first byte (just past `=`).
    pub value_start: u32,
    /// Offset just past the value's last byte (the SOH that ends it).
    pub value_end: u32,
}

const _: () = assert!(size_of::<FieldRef>() == 16);

/// A reusable buffer of [`FieldRef`]s with a fixed capacity, allocated (and zeroed) once: make
/// one per connection or loop, not one per message.
pub struct Fields {
    /// `fields_max` slots; a parse fills a prefix and its view borrows that prefix.
    refs: Box<[FieldRef]>,
}

impl Fields {
    /// Creates a buffer for messages of at most `fields_max` fields.
    ///
    /// # Panics
    /// Panics if `fields_max` is below 4 (no message could be parsed).
    #[must_use]
    pub fn with_capacity(fields_max: usize) -> Self {
        assert!(fields_max >= 4, "Invariant: a message has at least 8, 9, 35 and 10");
        let empty = FieldRef { tag: 0, start: 0, value_start: 0, value_end: 0 };
        Self { refs: vec![empty; fields_max].into_boxed_slice() }
    }

    /// The most fields a message parsed into this buffer may have.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.refs.len()
    }
}

impl std::fmt::Debug for Fields {
    /// The capacity only: the slots hold whatever the last parse left.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Fields").field("fields_max", &self.refs.len()).finish()
    }
}

impl Default for Fields {
    fn default() -> Self {
        Self::with_capacity(FIELDS_MAX_DEFAULT)
    }
}

/// The default limit on fields per message.
pub const FIELDS_MAX_DEFAULT: usize = 1024;

/// Why a framed message could not be split into fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// A tag is not `-`? followed by 1 to 9 digits, or has no `=`.
    #[error("malformed tag at byte {offset}")]
    MalformedTag {
        /// Offset of the field in the frame.
        offset: usize,
    },
    /// A value runs past the end of the frame (no SOH), or a data field's length is wrong.
    #[error("unterminated value at byte {offset}")]
    UnterminatedValue {
        /// Offset of the field in the frame.
        offset: usize,
    },
    /// The message has more fields than the buffer allows.
    #[error("more than {limit} fields")]
    TooManyFields {
        /// The limit.
        limit: usize,
    },
}

/// FIX 4.4 length fields and the data fields whose length they give.
const DATA_FIELDS: [(u32, u32); 16] = [
    (90, 91),
    (93, 89),
    (95, 96),
    (212, 213),
    (348, 349),
    (350, 351),
    (352, 353),
    (354, 355),
    (356, 357),
    (358, 359),
    (360, 361),
    (362, 363),
    (364, 365),
    (445, 446),
    (618, 619),
    (621, 622),
];

/// The data field whose length `tag` gives, if `tag` is a length field.
#[inline]
fn data_tag_of(tag: u32) -> Option<u32> {
    if !(90..=621).contains(&tag) {
        return None;
    }
    DATA_FIELDS.iter().find(|(length_tag, _)| *length_tag == tag).map(|(_, data_tag)| *data_tag)
}

/// Splits `frame` into fields, writing them into `fields`.
///
/// # Errors
/// Returns a [`ParseError`] for a malformed tag, an unterminated value or too many fields.
#[inline]
pub fn parse<'a>(frame: &'a [u8], fields: &'a mut Fields) -> Result<MessageView<'a>, ParseError> {
    let refs = &mut fields.refs[..];
    let mut count = 0;
    let mut position = 0;
    let mut data_length: Option<(u32, usize)> = None;
    while position < frame.len() {
        let Some(slot) = refs.get_mut(count) else {
            return Err(ParseError::TooManyFields { limit: refs.len() });
        };
        let (tag, value_start) = parse_tag(frame, position)?;
        let value_end = match data_length.take() {
            Some((data_tag, length)) if data_tag == tag => {
                let end = value_start + length;
                (frame.get(end) == Some(&SOH)).then_some(end)
            }
            _ => find_soh(frame, value_start),
        };
        let Some(value_end) = value_end else {
            return Err(ParseError::UnterminatedValue { offset: position });
        };
        if let Some(data_tag) = data_tag_of(tag) {
            let length = parse_unsigned(&frame[value_start..value_end]);
            data_length = length.map(|length| (data_tag, length as usize));
        }
        *slot = FieldRef {
            tag,
            start: position as u32,
            value_start: value_start as u32,
            value_end: value_end as u32,
        };
        count += 1;
        position = value_end + 1;
    }
    Ok(MessageView { bytes: frame, fields: &refs[..count] })
}

/// The offset of the first SOH at or after `from`, eight bytes at a time: values are short, so
/// an inline word scan beats a call to a vectorised search.
#[inline(always)]
pub(crate) fn find_soh(frame: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut position = from;
    while let Some(chunk) = frame.get(position..position + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        // A byte of `x` is zero exactly where the word has an SOH; the lowest flagged byte is
        // the first SOH (higher flags may be false positives, lower ones never are).
        let x = u64::from_le_bytes(word) ^ ONES;
        let found = x.wrapping_sub(ONES) & !x & HIGHS;
        if found != 0 {
            return Some(position + (found.trailing_zeros() / 8) as usize);
        }
        position += 8;
    }
    frame.get(position..)?.iter().position(|&byte| byte == SOH).map(|index| position + index)
}

/// Parses the tag at `position`; returns it and the offset of its value.
#[inline(always)]
fn parse_tag(frame: &[u8], position: usize) -> Result<(u32, usize), ParseError> {
    match parse_tag_short(frame, position) {
        Some(parsed) => Ok(parsed),
        None => parse_tag_bytes(frame, position),
    }
}

/// The common case, unrolled: 1 to 4 digits and `=` (every tag of FIX 4.4 and of user range
/// 5000-9999). A branch per byte costs less than word arithmetic for such short tags, and a
/// message type's sequence of tag lengths is one the branch predictor learns.
#[inline(always)]
fn parse_tag_short(frame: &[u8], position: usize) -> Option<(u32, usize)> {
    let bytes: &[u8; 5] = frame.get(position..position + 5)?.try_into().ok()?;
    let mut tag = digit(bytes[0])?;
    for (index, &byte) in bytes[1..].iter().enumerate() {
        if byte == b'=' {
            return Some((tag, position + index + 2));
        }
        tag = tag * 10 + digit(byte)?;
    }
    None
}

/// The value of an ASCII digit.
#[inline(always)]
fn digit(byte: u8) -> Option<u32> {
    let value = byte.wrapping_sub(b'0');
    (value < 10).then_some(u32::from(value))
}

/// The general case: an optional `-`, digits, `=`. A negative tag or one of more than nine
/// digits is tag 0: a well-framed field no dictionary defines, which the session refuses with
/// a Reject (invalid tag number) that uses up the message's number, where a malformed tag
/// would drop the message and stall the session on a gap the peer resends the same way.
#[inline(never)]
fn parse_tag_bytes(frame: &[u8], position: usize) -> Result<(u32, usize), ParseError> {
    let malformed = ParseError::MalformedTag { offset: position };
    let rest = &frame[position..];
    let negative = rest.first() == Some(&b'-');
    let digits = &rest[usize::from(negative)..];
    let mut tag: u32 = 0;
    for (count, &byte) in digits.iter().enumerate() {
        if byte == b'=' {
            if count == 0 {
                return Err(malformed);
            }
            let value_start = position + usize::from(negative) + count + 1;
            return Ok((if negative || count > 9 { 0 } else { tag }, value_start));
        }
        if !byte.is_ascii_digit() {
            return Err(malformed);
        }
        if count < 9 {
            tag = tag * 10 + u32::from(byte - b'0');
        }
    }
    Err(malformed)
}

/// Parses an unsigned decimal of at most 9 digits.
#[inline]
pub(crate) fn parse_unsigned(text: &[u8]) -> Option<u64> {
    if text.is_empty() || text.len() > 18 {
        return None;
    }
    text.iter().try_fold(0u64, |value, &byte| {
        byte.is_ascii_digit().then(|| value * 10 + u64::from(byte - b'0'))
    })
}

/// A parsed message: the frame's bytes and its fields in wire order. Cheap to copy.
#[derive(Debug, Clone, Copy)]
pub struct MessageView<'a> {
    /// The whole frame, from `8=` to the SOH after the checksum.
    bytes: &'a [u8],
    /// Every field, in wire order.
    fields: &'a [FieldRef],
}

impl<'a> MessageView<'a> {
    /// The frame's bytes.
    #[must_use]
    #[inline]
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Every field, in wire order.
    #[must_use]
    #[inline]
    pub fn fields(&self) -> &'a [FieldRef] {
        self.fields
    }

    /// The value of a field.
    #[must_use]
    #[inline]
    pub fn value(&self, field: &FieldRef) -> &'a [u8] {
        &self.bytes[field.value_start as usize..field.value_end as usize]
    }

    /// The tag of a field as written on the wire (for tags stored as 0).
    #[must_use]
    pub fn raw_tag(&self, field: &FieldRef) -> &'a [u8] {
        &self.bytes[field.start as usize..field.value_start as usize - 1]
    }

    /// The value of the first field with this tag.
    #[must_use]
    #[inline]
    pub fn get(&self, tag: u32) -> Option<&'a [u8]> {
        self.fields.iter().find(|field| field.tag == tag).map(|field| self.value(field))
    }

    /// The first field with this tag, parsed as an unsigned integer.
    #[must_use]
    #[inline]
    pub fn get_u64(&self, tag: u32) -> Option<u64> {
        self.get(tag).and_then(parse_unsigned)
    }

    /// BeginString (8).
    #[must_use]
    pub fn begin_string(&self) -> &'a [u8] {
        self.fields.first().map_or(&[], |field| self.value(field))
    }

    /// MsgType (35): the third field, as `check` guarantees.
    #[must_use]
    #[inline]
    pub fn msg_type(&self) -> &'a [u8] {
        self.fields.get(2).filter(|field| field.tag == 35).map_or(&[], |field| self.value(field))
    }

    /// MsgSeqNum (34), if present and a valid unsigned number.
    #[must_use]
    #[inline]
    pub fn msg_seq_num(&self) -> Option<u64> {
        self.get_u64(34)
    }

    /// Whether PossDupFlag (43) is `Y`.
    #[must_use]
    pub fn poss_dup(&self) -> bool {
        self.get(43) == Some(b"Y")
    }
}

/// The most bytes of a peer's text [`printable`] keeps.
pub const PRINTABLE_MAX: usize = 200;

/// `bytes` a peer sent, made safe for a log line: printable ASCII as it is, anything else
/// (a newline that would forge a line of the text log, a control byte) escaped as `\xNN`;
/// cut after [`PRINTABLE_MAX`] bytes, the cut said (`…(N bytes)`).
#[must_use]
pub fn printable(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut text = String::with_capacity(bytes.len().min(PRINTABLE_MAX));
    for &byte in &bytes[..bytes.len().min(PRINTABLE_MAX)] {
        if (0x20..0x7f).contains(&byte) && byte != b'\\' {
            text.push(char::from(byte));
        } else {
            let _ = write!(text, "\\x{byte:02x}");
        }
    }
    if bytes.len() > PRINTABLE_MAX {
        let _ = write!(text, "…({} bytes)", bytes.len());
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_what_could_forge_a_log_line() {
        assert_eq!(printable(b"TRADER1"), "TRADER1");
        assert_eq!(
            printable(b"EVIL\n2026 INFO x\\y\x01\xff"),
            "EVIL\\x0a2026 INFO x\\x5cy\\x01\\xff"
        );
        let long = printable(&[b'a'; 1000]);
        assert_eq!(long, format!("{}…(1000 bytes)", "a".repeat(PRINTABLE_MAX)));
    }

    #[test]
    fn parses_fields_in_order_with_repeats_and_data() {
        let frame = concat!(
            "8=FIX.4.4\x019=5\x0135=0\x01-1=x\x0195=3\x0196=a\x01b\x01",
            "336=A\x01336=B\x0110=000\x01"
        )
        .as_bytes();
        let mut fields = Fields::with_capacity(16);
        let view = parse(frame, &mut fields).unwrap();
        let tags: Vec<u32> = view.fields().iter().map(|field| field.tag).collect();
        assert_eq!(tags, [8, 9, 35, 0, 95, 96, 336, 336, 10]);
        assert_eq!(view.raw_tag(&view.fields()[3]), b"-1");
        assert_eq!(view.value(&view.fields()[5]), b"a\x01b");
        assert_eq!(view.msg_type(), b"0");
        assert_eq!(view.get(336), Some(&b"A"[..]));
    }

    #[test]
    fn word_separator_search_agrees_with_a_byte_search() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for length in 0..40 {
            for _ in 0..50 {
                let frame: Vec<u8> = (0..length)
                    .map(|_| {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        [SOH, 0, 0x80, 0x81, 0xff, b'a', b'1', 0x02][(state % 8) as usize]
                    })
                    .collect();
                for from in 0..=length {
                    let expected =
                        frame[from..].iter().position(|&b| b == SOH).map(|index| from + index);
                    assert_eq!(find_soh(&frame, from), expected, "{frame:?} from {from}");
                }
            }
        }
    }

    #[test]
    fn short_tag_parser_agrees_with_the_byte_parser() {
        for tag in (0..100_000u32).chain([999_999, 123_456_789]) {
            for text in [format!("{tag}=value\x01"), format!("{tag}=")] {
                let short = parse_tag_short(text.as_bytes(), 0);
                let bytes = parse_tag_bytes(text.as_bytes(), 0).ok();
                if tag < 10_000 && text.len() >= 5 {
                    assert_eq!(short, bytes, "{text:?}");
                } else {
                    assert_eq!(
                        short, None,
                        "{text:?}: longer than four digits or too near the end"
                    );
                }
                assert_eq!(parse_tag(text.as_bytes(), 0).ok(), bytes, "{text:?}");
            }
        }
        for text in ["=x\x01ab", "1a=x\x01a", "-1=x\x01a", "12345=x", "00035=D\x01"] {
            assert_eq!(parse_tag_short(text.as_bytes(), 0), None, "{text}");
        }
    }

    /// The reference the parser is checked against: a byte at a time, no words, no masks.
    fn parse_naive(frame: &[u8], fields_max: usize) -> Result<Vec<FieldRef>, ParseError> {
        let mut refs = Vec::new();
        let mut position = 0;
        let mut data_length: Option<(u32, usize)> = None;
        while position < frame.len() {
            if refs.len() == fields_max {
                return Err(ParseError::TooManyFields { limit: fields_max });
            }
            let malformed = ParseError::MalformedTag { offset: position };
            let unterminated = ParseError::UnterminatedValue { offset: position };
            let equals = frame[position..].iter().position(|&b| b == b'=').ok_or(malformed)?;
            let text =
                std::str::from_utf8(&frame[position..position + equals]).map_err(|_| malformed)?;
            let digits = text.strip_prefix('-').unwrap_or(text);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(malformed);
            }
            let tag = if text.starts_with('-') || digits.len() > 9 {
                0
            } else {
                digits.parse().map_err(|_| malformed)?
            };
            let value_start = position + equals + 1;
            let value_end = match data_length.take() {
                Some((data_tag, length)) if data_tag == tag => {
                    (frame.get(value_start + length) == Some(&SOH)).then_some(value_start + length)
                }
                _ => frame[value_start..].iter().position(|&b| b == SOH).map(|at| value_start + at),
            }
            .ok_or(unterminated)?;
            if let Some(data_tag) = data_tag_of(tag) {
                let length = parse_unsigned(&frame[value_start..value_end]);
                data_length = length.map(|length| (data_tag, length as usize));
            }
            let (start, value_start, value_end) =
                (position as u32, value_start as u32, value_end as u32);
            refs.push(FieldRef { tag, start, value_start, value_end });
            position = value_end as usize + 1;
        }
        Ok(refs)
    }

    #[test]
    fn parser_agrees_with_a_byte_at_a_time_reference_on_random_frames() {
        let seed = 0x005e_edf1_e1d5_u64;
        let mut next = crate::testing::xorshift(seed);
        let pieces: [&[u8]; 14] = [
            b"35=D\x01",
            b"11=ORD-1\x01",
            b"58=a=b=c\x01",
            b"95=3\x0196=a\x01=\x01",
            b"95=9\x0196=x\x01",
            b"-1=neg\x01",
            b"123456789=nine\x01",
            b"1234567890=ten\x01",
            b"=empty\x01",
            b"4a=bad\x01",
            b"44=6800.50\x01",
            b"\x01",
            b"=",
            b"10=000\x01",
        ];
        let mut fields = Fields::with_capacity(64);
        for case in 0..20_000 {
            let mut frame = Vec::new();
            for _ in 0..next(40) {
                let piece = pieces[next(pieces.len() as u64) as usize];
                frame.extend_from_slice(&piece[..piece.len() - (next(30) == 0) as usize]);
                for _ in 0..next(4) {
                    frame.push(b"0123456789=\x01ab"[next(14) as usize]);
                }
            }
            let expected = parse_naive(&frame, 64);
            let actual = parse(&frame, &mut fields).map(|view| view.fields().to_vec());
            assert_eq!(
                actual,
                expected,
                "seed {seed:#x}, case {case}, frame {:?}",
                String::from_utf8_lossy(&frame)
            );
        }
    }

    #[test]
    fn rejects_malformed_tags_and_too_many_fields() {
        let mut fields = Fields::with_capacity(4);
        assert_eq!(
            parse(b"8=FIX.4.4\x0149garbled=TW\x01", &mut fields).unwrap_err(),
            ParseError::MalformedTag { offset: 10 }
        );
        assert_eq!(
            parse(b"1=a\x012=b\x013=c\x014=d\x015=e\x01", &mut fields).unwrap_err(),
            ParseError::TooManyFields { limit: 4 }
        );
        assert!(matches!(parse(b"1=a", &mut fields), Err(ParseError::UnterminatedValue { .. })));
    }
}
