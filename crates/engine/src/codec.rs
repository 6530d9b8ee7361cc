//! A small binary codec for journal payloads and snapshots: little-endian integers, decimals
//! as their 16-byte serialisation, length-prefixed text. Decoding never panics: short or
//! malformed input is a [`DecodeError`] naming the field and offset.

use rust_decimal::Decimal;

/// Why bytes could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot decode {field} at byte {offset}: {problem}")]
pub struct DecodeError {
    /// The field being read.
    pub field: &'static str,
    /// Where in the payload.
    pub offset: usize,
    /// What was wrong.
    pub problem: &'static str,
}

/// Appends encoded values to a buffer.
#[derive(Debug)]
pub(crate) struct Encoder<'a> {
    out: &'a mut Vec<u8>,
}

impl<'a> Encoder<'a> {
    pub(crate) fn new(out: &'a mut Vec<u8>) -> Encoder<'a> {
        Encoder { out }
    }

    pub(crate) fn u8(&mut self, value: u8) -> &mut Self {
        self.out.push(value);
        self
    }

    pub(crate) fn bool(&mut self, value: bool) -> &mut Self {
        self.u8(u8::from(value))
    }

    pub(crate) fn u16(&mut self, value: u16) -> &mut Self {
        self.out.extend_from_slice(&value.to_le_bytes());
        self
    }

    pub(crate) fn u32(&mut self, value: u32) -> &mut Self {
        self.out.extend_from_slice(&value.to_le_bytes());
        self
    }

    pub(crate) fn u64(&mut self, value: u64) -> &mut Self {
        self.out.extend_from_slice(&value.to_le_bytes());
        self
    }

    pub(crate) fn i64(&mut self, value: i64) -> &mut Self {
        self.out.extend_from_slice(&value.to_le_bytes());
        self
    }

    pub(crate) fn i128(&mut self, value: i128) -> &mut Self {
        self.out.extend_from_slice(&value.to_le_bytes());
        self
    }

    pub(crate) fn decimal(&mut self, value: Decimal) -> &mut Self {
        self.out.extend_from_slice(&value.serialize());
        self
    }

    /// Text of at most 255 bytes; longer text is a bug in the caller (inputs are validated).
    pub(crate) fn text(&mut self, value: &str) -> &mut Self {
        self.bytes(value.as_bytes())
    }

    /// Bytes of text known to be valid (at most 255 of them).
    pub(crate) fn bytes(&mut self, value: &[u8]) -> &mut Self {
        let length = u8::try_from(value.len()).expect("Invariant: encoded text is ≤ 255 bytes");
        self.u8(length);
        self.out.extend_from_slice(value);
        self
    }

    pub(crate) fn option<T>(
        &mut self,
        value: Option<T>,
        put: impl FnOnce(&mut Self, T),
    ) -> &mut Self {
        match value {
            None => self.u8(0),
            Some(value) => {
                self.u8(1);
                put(self, value);
                self
            }
        }
    }
}

/// Reads encoded values from a byte slice.
#[derive(Debug)]
pub(crate) struct Decoder<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> Decoder<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Decoder<'a> {
        Decoder { bytes, offset: 0 }
    }

    pub(crate) fn error(&self, field: &'static str, problem: &'static str) -> DecodeError {
        DecodeError { field, offset: self.offset, problem }
    }

    fn take<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], DecodeError> {
        let end = self.offset + N;
        let slice = self.bytes.get(self.offset..end).ok_or(self.error(field, "too short"))?;
        self.offset = end;
        let mut array = [0; N];
        array.copy_from_slice(slice);
        Ok(array)
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take::<1>(field)?[0])
    }

    pub(crate) fn bool(&mut self, field: &'static str) -> Result<bool, DecodeError> {
        match self.u8(field)? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(self.error(field, "not a boolean")),
        }
    }

    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(self.take(field)?))
    }

    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.take(field)?))
    }

    pub(crate) fn u64(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.take(field)?))
    }

    pub(crate) fn i64(&mut self, field: &'static str) -> Result<i64, DecodeError> {
        Ok(i64::from_le_bytes(self.take(field)?))
    }

    pub(crate) fn i128(&mut self, field: &'static str) -> Result<i128, DecodeError> {
        Ok(i128::from_le_bytes(self.take(field)?))
    }

    pub(crate) fn decimal(&mut self, field: &'static str) -> Result<Decimal, DecodeError> {
        let bytes = self.take::<16>(field)?;
        // The flags word's unused bits must be zero and the scale at most 28: anything else is
        // not a serialised decimal.
        let flags = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        if flags & 0x7f00_ffff != 0 || (flags >> 16) & 0xff > 28 {
            return Err(self.error(field, "not a decimal"));
        }
        Ok(Decimal::deserialize(bytes))
    }

    /// A length-prefixed byte string (what [`Encoder::bytes`] and [`Encoder::text`] write);
    /// the caller checks its contents.
    pub(crate) fn bytes(&mut self, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let length = usize::from(self.u8(field)?);
        let end = self.offset + length;
        let slice = self.bytes.get(self.offset..end).ok_or(self.error(field, "too short"))?;
        self.offset = end;
        Ok(slice)
    }

    pub(crate) fn option<T>(
        &mut self,
        field: &'static str,
        get: impl FnOnce(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<Option<T>, DecodeError> {
        if self.bool(field)? { get(self).map(Some) } else { Ok(None) }
    }

    /// Fails unless every byte was read.
    pub(crate) fn finish(&self, field: &'static str) -> Result<(), DecodeError> {
        if self.offset == self.bytes.len() {
            Ok(())
        } else {
            Err(self.error(field, "trailing bytes"))
        }
    }
}
