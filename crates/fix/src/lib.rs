//! FIX 4.4 for Birzha: a zero-copy tag-value codec, a data dictionary, and (in later modules) the
//! session layer.
//!
//! # Decoding in two phases
//! [`check`] finds one complete message at the front of a byte buffer and verifies its framing
//! (8/9/35 order, BodyLength, CheckSum) without allocating; "need more bytes" is `Ok(None)`.
//! [`parse`] then splits that frame into a [`MessageView`]: the frame's bytes plus field offsets
//! written into a reusable [`Fields`] buffer. [`Dictionary::validate`] checks the view against
//! the data dictionary and names the SessionRejectReason of the first problem.
//!
//! # Encoding
//! [`MessageWriter`] appends a message to a reused `Vec<u8>`, back-filling BodyLength and
//! CheckSum; [`Body`] holds encoded body fields built elsewhere.
//!
//! # Example
//! ```
//! use birzha_fix::{Fields, MessageWriter, UtcTimestamp, WriteFields, check, parse};
//!
//! let mut out = Vec::new();
//! let mut writer = MessageWriter::begin(&mut out, b"FIX.4.4", b"0");
//! writer.uint(34, 1).str(49, b"BIRZHA").timestamp(52, UtcTimestamp(0)).str(56, b"TRADER1");
//! let range = writer.finish();
//!
//! let length = check(&out, 4096).unwrap().unwrap();
//! assert_eq!(length, range.len());
//! let mut fields = Fields::with_capacity(64);
//! let view = parse(&out[..length], &mut fields).unwrap();
//! assert_eq!(view.msg_type(), b"0");
//! assert_eq!(view.msg_seq_num(), Some(1));
//! ```
#![deny(missing_docs)]

mod dictionary;
mod encode;
mod frame;
mod message;
pub mod session;
#[cfg(feature = "xml")]
pub mod stock;
mod time;

pub use dictionary::{
    Dictionary, DictionaryError, FIELDS_MAX, FieldDef, FieldType, GroupDef, Member, MessageDef,
    Section, SessionRejectReason, TAG_MAX, ValidationError,
};
pub use encode::{Body, MessageWriter, WriteFields};
pub use frame::{FrameError, FrameErrorKind, check, checksum};
pub use message::{
    FIELDS_MAX_DEFAULT, FieldRef, Fields, MessageView, PRINTABLE_MAX, ParseError, parse, printable,
};
pub use time::{TIMESTAMP_LEN, UtcTimestamp};

/// The field separator, SOH (0x01).
pub const SOH: u8 = 0x01;
/// The BeginString (8) of every message of this profile.
pub const BEGIN_STRING: &[u8] = b"FIX.4.4";

/// Helpers of the crate's unit tests.
#[cfg(test)]
mod testing {
    /// A seeded xorshift generator: each call returns a number below its argument.
    pub(crate) fn xorshift(seed: u64) -> impl FnMut(u64) -> u64 {
        let mut state = seed;
        move |below| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % below
        }
    }
}
