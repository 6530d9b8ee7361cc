//! Short client-chosen strings (ClOrdID, Account) stored inline, so inputs and outputs that
//! carry them are `Copy` and never allocate.

use core::fmt;

/// Printable ASCII text of at most `N` bytes, stored inline.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InlineText<const N: usize> {
    bytes: [u8; N],
    len: u8,
}

/// A client order id (FIX ClOrdID), unique per trader per trading day.
pub type ClOrdId = InlineText<64>;

/// A client account reference (FIX Account), echoed on reports.
pub type Account = InlineText<32>;

/// Why a string cannot be inline text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// The string is empty.
    #[error("is empty")]
    Empty,
    /// The string is longer than allowed.
    #[error("has {len} characters, more than the {max} allowed")]
    TooLong {
        /// Its length.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// The string holds a character outside printable ASCII.
    #[error("holds a character outside printable ASCII")]
    NotPrintable,
}

impl<const N: usize> InlineText<N> {
    const _FITS: () = assert!(N <= 255);

    /// Returns `text` as inline text.
    ///
    /// # Errors
    /// Returns a [`TextError`] when `text` is empty, longer than `N` bytes, or not printable
    /// ASCII (`!` to `~`).
    pub fn new(text: &str) -> Result<Self, TextError> {
        Self::from_bytes(text.as_bytes())
    }

    /// Returns `raw` as inline text: the check of [`new`](Self::new) on bytes, for decoders
    /// (printable ASCII is valid UTF-8, so no separate UTF-8 check is needed).
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn from_bytes(raw: &[u8]) -> Result<Self, TextError> {
        if raw.is_empty() {
            return Err(TextError::Empty);
        }
        if raw.len() > N {
            return Err(TextError::TooLong { len: raw.len(), max: N });
        }
        if !raw.iter().all(|byte| (0x21..=0x7e).contains(byte)) {
            return Err(TextError::NotPrintable);
        }
        let mut bytes = [0; N];
        bytes[..raw.len()].copy_from_slice(raw);
        Ok(InlineText { bytes, len: raw.len() as u8 })
    }

    /// Returns the text's bytes (printable ASCII).
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// Returns the text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Only printable ASCII is ever stored, so this cannot fail.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }
}

impl<const N: usize> fmt::Debug for InlineText<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<const N: usize> fmt::Display for InlineText<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_printable_ascii_up_to_the_limit() {
        assert_eq!(ClOrdId::new("ORD-1").map(|id| id.to_string()), Ok("ORD-1".into()));
        assert_eq!(ClOrdId::new(""), Err(TextError::Empty));
        assert_eq!(ClOrdId::new("a b"), Err(TextError::NotPrintable));
        assert_eq!(ClOrdId::new("é"), Err(TextError::NotPrintable));
        let long = "x".repeat(65);
        assert_eq!(ClOrdId::new(&long), Err(TextError::TooLong { len: 65, max: 64 }));
        assert!(ClOrdId::new(&long[..64]).is_ok());
    }

    #[test]
    fn bytes_are_checked_as_text_is() {
        assert_eq!(ClOrdId::from_bytes(b"ORD-1"), ClOrdId::new("ORD-1"));
        // Not UTF-8 at all: refused by the printable check alone.
        assert_eq!(ClOrdId::from_bytes(&[0x4f, 0xff]), Err(TextError::NotPrintable));
        assert_eq!(ClOrdId::from_bytes(&[0x4f, 0x7f]), Err(TextError::NotPrintable));
    }
}
