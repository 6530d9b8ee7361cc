//! Framing: find one complete FIX message in a byte buffer and verify it, allocating nothing.
//!
//! [`check`] is the first of the two decode phases. It looks at the start of a buffer and
//! answers one of three things:
//! - `Ok(Some(len))`: the first `len` bytes are one whole message whose first three fields are
//!   `8=`, `9=`, `35=` in that order, whose BodyLength (9) counts exactly the bytes from after the
//!   `9=` field up to and including the SOH before `10=`, and whose CheckSum (10) is three digits
//!   equal to the byte sum of everything before `10=` modulo 256;
//! - `Ok(None)`: the bytes so far are a plausible prefix; read more;
//! - `Err(FrameError)`: the bytes are garbled; the error says how many bytes to discard.
//!
//! # Resynchronisation
//! Like QuickFIX, the end of a frame is found by searching for `<SOH>10=` from the position the
//! BodyLength points at, so a message whose BodyLength is too short is discarded whole, and one
//! whose BodyLength is too long swallows the message after it (both are then discarded, which is
//! what the QuickFIX acceptance script `2m_BodyLengthValueNotCorrect` expects). Bytes before the
//! next `8=FIX` are discarded as garbage.
//!
//! # Limits
//! A frame longer than `message_size_max` bytes is [`FrameErrorKind::TooLarge`]: the caller
//! should drop the connection, because the peer cannot be trusted to resynchronise.

use memchr::memmem;

use crate::SOH;

/// Why a buffer does not start with a valid frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrameErrorKind {
    /// Bytes before the next `8=FIX` were not part of any message.
    Garbage,
    /// The second field is not a well-formed `9=<digits>`.
    BodyLengthMissing,
    /// BodyLength disagrees with where `10=` actually starts.
    BodyLengthMismatch {
        /// The value of tag 9.
        declared: usize,
        /// The number of bytes between the `9=` field and `10=`.
        actual: usize,
    },
    /// The third field is not `35=`.
    MsgTypeNotThird,
    /// The CheckSum field is not three digits or does not match the bytes.
    ChecksumMismatch {
        /// The value computed over the message.
        computed: u8,
    },
    /// The frame (or the bytes buffered while looking for its end) exceeds the size limit.
    TooLarge {
        /// The configured maximum.
        limit: usize,
    },
}

/// A framing failure: what went wrong, and how many bytes at the start of the buffer to discard
/// before trying again (never zero unless the error is [`FrameErrorKind::TooLarge`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("garbled FIX frame ({kind:?}), discarding {discard} bytes")]
pub struct FrameError {
    /// What was wrong.
    pub kind: FrameErrorKind,
    /// Bytes to drop from the front of the buffer.
    pub discard: usize,
}

const BEGIN: &[u8] = b"8=FIX";
/// The longest BeginString value accepted (`FIXT.1.1` is 8 bytes).
const BEGIN_STRING_LEN_MAX: usize = 16;
/// BodyLength has at most this many digits (the size limit is far below 10^7).
const BODY_LENGTH_DIGITS_MAX: usize = 7;

/// Frames the first message in `buffer`. See the module documentation.
///
/// # Errors
/// Returns a [`FrameError`] when the buffer starts with garbage, a malformed header, a wrong
/// BodyLength or CheckSum, or more than `message_size_max` bytes without a complete frame.
#[inline]
pub fn check(buffer: &[u8], message_size_max: usize) -> Result<Option<usize>, FrameError> {
    if buffer.len() < BEGIN.len() {
        return if BEGIN.starts_with(buffer) { Ok(None) } else { Err(garbage(buffer)) };
    }
    if !buffer.starts_with(BEGIN) {
        return Err(garbage(buffer));
    }
    let Some(begin_end) = find_soh(buffer, 2, BEGIN_STRING_LEN_MAX) else {
        return incomplete_or(buffer, 2 + BEGIN_STRING_LEN_MAX, FrameErrorKind::Garbage);
    };
    let length_start = begin_end + 1;
    let Some((declared, body_start)) = body_length(buffer, length_start, message_size_max)? else {
        return Ok(None);
    };
    if body_start + declared > message_size_max {
        return Err(FrameError {
            kind: FrameErrorKind::TooLarge { limit: message_size_max },
            discard: 0,
        });
    }
    let too_large =
        FrameError { kind: FrameErrorKind::TooLarge { limit: message_size_max }, discard: 0 };
    let Some((trailer, end)) = find_trailer(buffer, body_start, declared) else {
        if buffer.len() > message_size_max {
            return Err(too_large);
        }
        return Ok(None);
    };
    // The trailer's own bytes count too: a frame that ends past the limit is refused however
    // its bytes arrive (in pieces, the buffer outgrows the limit before the trailer completes).
    if end > message_size_max {
        return Err(too_large);
    }
    verify(buffer, body_start, declared, trailer, end)?;
    Ok(Some(end))
}

/// Checks the frame found between `body_start` and `end`: BodyLength, MsgType position, CheckSum.
#[inline]
fn verify(
    buffer: &[u8],
    body_start: usize,
    declared: usize,
    trailer: usize,
    end: usize,
) -> Result<(), FrameError> {
    let actual = trailer - body_start;
    if actual != declared {
        let kind = FrameErrorKind::BodyLengthMismatch { declared, actual };
        return Err(FrameError { kind, discard: end });
    }
    if !buffer[body_start..].starts_with(b"35=") {
        return Err(FrameError { kind: FrameErrorKind::MsgTypeNotThird, discard: end });
    }
    let computed = checksum(&buffer[..trailer]);
    let value = &buffer[trailer + 3..end - 1];
    let matches = value.len() == 3
        && value.iter().all(u8::is_ascii_digit)
        && u32::from(value[0] - b'0') * 100
            + u32::from(value[1] - b'0') * 10
            + u32::from(value[2] - b'0')
            == u32::from(computed);
    if !matches {
        return Err(FrameError {
            kind: FrameErrorKind::ChecksumMismatch { computed },
            discard: end,
        });
    }
    Ok(())
}

/// The FIX checksum: the sum of all bytes modulo 256.
#[must_use]
#[inline]
pub fn checksum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |sum, &byte| sum.wrapping_add(byte))
}

/// Parses `9=<digits><SOH>` at `start`. Returns the declared length and where the body starts,
/// `Ok(None)` if more bytes are needed. More digits than any length a frame may have is
/// [`FrameErrorKind::TooLarge`], as a smaller length over the limit is (it was a BodyLength
/// "missing", so the frame was dropped and the session went on).
#[inline]
fn body_length(
    buffer: &[u8],
    start: usize,
    message_size_max: usize,
) -> Result<Option<(usize, usize)>, FrameError> {
    let missing =
        || FrameError { kind: FrameErrorKind::BodyLengthMissing, discard: resync(buffer) };
    let rest = &buffer[start..];
    if rest.len() < 2 {
        return if b"9=".starts_with(rest) { Ok(None) } else { Err(missing()) };
    }
    if !rest.starts_with(b"9=") {
        return Err(missing());
    }
    let mut declared = 0usize;
    for (index, &byte) in rest[2..].iter().enumerate() {
        if byte == SOH {
            return if index == 0 {
                Err(missing())
            } else {
                Ok(Some((declared, start + 3 + index)))
            };
        }
        if !byte.is_ascii_digit() {
            return Err(missing());
        }
        if index >= BODY_LENGTH_DIGITS_MAX {
            let kind = FrameErrorKind::TooLarge { limit: message_size_max };
            return Err(FrameError { kind, discard: 0 });
        }
        declared = declared * 10 + usize::from(byte - b'0');
    }
    Ok(None)
}

/// Finds `<SOH>10=…<SOH>` at or after the SOH that BodyLength says ends the body. Returns the
/// index of `1` in `10=` and the index just past the final SOH.
#[inline]
fn find_trailer(buffer: &[u8], body_start: usize, declared: usize) -> Option<(usize, usize)> {
    // Fast path: the trailer is where BodyLength says, and is `10=` and three digits.
    let at = body_start + declared;
    if declared > 0
        && buffer.len() >= at + 7
        && buffer[at - 1] == SOH
        && buffer[at..at + 3] == *b"10="
        && buffer[at + 6] == SOH
    {
        return Some((at, at + 7));
    }
    let from = (body_start + declared).saturating_sub(1).max(body_start.saturating_sub(1));
    if buffer.len() < from {
        return None;
    }
    let found = memmem::find(&buffer[from..], b"\x0110=")?;
    let trailer = from + found + 1;
    let soh = memchr::memchr(SOH, &buffer[trailer + 3..])?;
    Some((trailer, trailer + 3 + soh + 1))
}

#[inline]
fn find_soh(buffer: &[u8], from: usize, within: usize) -> Option<usize> {
    let limit = buffer.len().min(from + within + 1);
    crate::message::find_soh(&buffer[..limit], from)
}

fn incomplete_or(
    buffer: &[u8],
    limit: usize,
    kind: FrameErrorKind,
) -> Result<Option<usize>, FrameError> {
    if buffer.len() > limit { Err(FrameError { kind, discard: resync(buffer) }) } else { Ok(None) }
}

fn garbage(buffer: &[u8]) -> FrameError {
    FrameError { kind: FrameErrorKind::Garbage, discard: resync(buffer) }
}

/// How many bytes to drop so that the buffer starts at the next `8=FIX` after its first byte,
/// keeping a tail that could be the prefix of one.
///
/// Any `8=FIX` will do, as in QuickFIX, not only one that follows an SOH: the start of a buffer
/// is not marked by an SOH either, so requiring one made framing depend on where TCP cut the
/// stream (garbage and the message after it arriving together lost the message; arriving apart,
/// kept it). A false start inside a garbled message fails the BodyLength check and is discarded
/// in turn.
fn resync(buffer: &[u8]) -> usize {
    match memmem::find(&buffer[1.min(buffer.len())..], BEGIN) {
        Some(index) => index + 1,
        None => {
            let keep = (1..BEGIN.len())
                .rev()
                .find(|&keep| {
                    keep <= buffer.len() && BEGIN.starts_with(&buffer[buffer.len() - keep..])
                })
                .unwrap_or(0);
            (buffer.len() - keep).max(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_is_the_byte_sum_modulo_256() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for length in [0, 1, 7, 8, 9, 63, 200, 1023, 1024, 1025, 5000, 70_000] {
            let bytes: Vec<u8> = (0..length)
                .map(|index| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    if index % 3 == 0 { 0xff } else { state as u8 }
                })
                .collect();
            let expected = bytes.iter().map(|&byte| u64::from(byte)).sum::<u64>() % 256;
            assert_eq!(u64::from(checksum(&bytes)), expected, "{length} bytes");
        }
    }

    fn frame(body: &str) -> Vec<u8> {
        let body = body.replace('|', "\x01");
        let mut out = format!("8=FIX.4.4\x019={}\x01{}", body.len(), body).into_bytes();
        let sum = checksum(&out);
        out.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
        out
    }

    #[test]
    fn frames_a_valid_message_and_waits_for_partial_ones() {
        let message = frame("35=0|34=2|49=TW|52=20240101-00:00:00|56=ISLD|");
        assert_eq!(check(&message, 4096), Ok(Some(message.len())));
        for cut in 0..message.len() {
            assert_eq!(check(&message[..cut], 4096), Ok(None), "prefix of {cut} bytes");
        }
        let mut two = message.clone();
        two.extend_from_slice(&message);
        assert_eq!(check(&two, 4096), Ok(Some(message.len())));
    }

    #[test]
    fn rejects_bad_checksum_and_body_length() {
        let mut message = frame("35=0|34=2|");
        let len = message.len();
        message[len - 2] = if message[len - 2] == b'9' { b'0' } else { b'9' };
        let error = check(&message, 4096).unwrap_err();
        assert!(matches!(error.kind, FrameErrorKind::ChecksumMismatch { .. }));
        assert_eq!(error.discard, len);

        let bad = b"8=FIX.4.4\x019=5\x0135=0\x0134=2\x0110=000\x01";
        let error = check(bad, 4096).unwrap_err();
        assert_eq!(error.kind, FrameErrorKind::BodyLengthMismatch { declared: 5, actual: 10 });
        assert_eq!(error.discard, bad.len());
    }

    #[test]
    fn skips_garbage_to_the_next_message() {
        let message = frame("35=0|34=2|");
        let mut input = b"35=0\x01".to_vec();
        input.extend_from_slice(&message);
        let error = check(&input, 4096).unwrap_err();
        assert_eq!(error, FrameError { kind: FrameErrorKind::Garbage, discard: 5 });
        assert_eq!(check(&input[5..], 4096), Ok(Some(message.len())));
        assert_eq!(check(b"xyz", 4096).unwrap_err().discard, 3);
    }

    /// Regression (issue 7, fuzzing): a frame right after garbage that does not end in SOH was
    /// lost when both arrived in one read and kept when they arrived apart, because resync only
    /// looked for `8=FIX` after an SOH. Found by `frames::prop_framing_does_not_depend_on_chunking`.
    #[test]
    fn garbage_without_soh_before_a_frame_does_not_hide_it() {
        let message = frame("35=D|");
        let mut input = b"00000000000".to_vec();
        input.extend_from_slice(&message);
        let error = check(&input, 4096).unwrap_err();
        assert_eq!(error, FrameError { kind: FrameErrorKind::Garbage, discard: 11 });
        assert_eq!(check(&input[11..], 4096), Ok(Some(message.len())));
        let error = check(b"junk8=F", 4096).unwrap_err();
        assert_eq!(error.discard, 4, "keeps the tail that may start a frame");
    }

    /// Regression (issue 7, fuzzing): a frame up to 7 bytes longer than the limit (its trailer)
    /// was accepted when it arrived whole, but refused as too large when it arrived in pieces,
    /// because only the body was checked against the limit. Found by
    /// `frames::prop_framing_does_not_depend_on_chunking`.
    #[test]
    fn the_trailer_counts_towards_the_size_limit() {
        let message = frame("35=0|34=2|");
        assert_eq!(check(&message, message.len()), Ok(Some(message.len())));
        for limit in message.len() - 7..message.len() {
            let error = check(&message, limit).unwrap_err();
            assert_eq!(error.kind, FrameErrorKind::TooLarge { limit }, "limit {limit}");
            let piece = &message[..limit + 1];
            assert_eq!(check(piece, limit).unwrap_err().kind, FrameErrorKind::TooLarge { limit });
        }
    }

    /// Regression (a review of 2026-11-29): a BodyLength of eight digits or more was taken
    /// for a missing one (the frame dropped, the session going on), where one of six digits
    /// over the limit ended the session: both are too large now.
    #[test]
    fn a_body_length_of_too_many_digits_is_too_large() {
        for declared in ["999999", "99999999", "999999999999"] {
            let text = format!("8=FIX.4.4\x019={declared}\x0135=0\x01");
            let error = check(text.as_bytes(), 8192).unwrap_err();
            assert_eq!(error.kind, FrameErrorKind::TooLarge { limit: 8192 }, "9={declared}");
        }
    }

    #[test]
    fn requires_msg_type_third_and_bounds_size() {
        let message = frame("34=2|35=0|");
        assert_eq!(check(&message, 4096).unwrap_err().kind, FrameErrorKind::MsgTypeNotThird);
        let big = frame(&format!("35=0|58={}|", "x".repeat(200)));
        assert!(matches!(
            check(&big, 100).unwrap_err().kind,
            FrameErrorKind::TooLarge { limit: 100 }
        ));
    }
}
