//! The data dictionary: which messages exist, which fields each may carry, their types and
//! enumerations, and validation of a parsed message against all that.
//!
//! A [`Dictionary`] comes from one of two sources:
//! - [`Dictionary::profile`]: Birzha's own FIX 4.4 profile (`fix44.profile` beside this file),
//!   the dictionary the gateway validates inbound messages with;
//! - [`Dictionary::from_quickfix_xml`] (feature `xml`): a QuickFIX data-dictionary XML such as the
//!   stock `FIX44.xml`, so tests can check that every message the gateway sends is valid to a
//!   counterparty that validates with the stock dictionary.
//!
//! # Validation order
//! [`Dictionary::validate`] reports the first problem it finds, checking in this order, which is
//! the order QuickFIX checks in (so the acceptance scripts see the same Reject):
//! 1. header, body and trailer are in that order (SessionRejectReason 14);
//! 2. the MsgType is one the dictionary defines (else 11, or "unsupported" for a valid FIX
//!    MsgType this dictionary has no definition for, which the session answers with a
//!    BusinessMessageReject);
//! 3. required header, body and trailer fields are present (1), in definition order;
//! 4. each field in wire order: the tag exists (0; or 2 for a FIX tag outside this dictionary),
//!    appears once (13), has a value (4), is well formatted for its type (6), is one of its
//!    enumerated values (5), is defined for the message type (2), and a repeating group has as
//!    many entries as its NumInGroup says (16).
//!
//! # Formats
//! Integers are an optional `-` and digits. Float types (FLOAT, QTY, PRICE, PRICEOFFSET, AMT,
//! PERCENTAGE) are plain decimals: an optional `-`, digits, an optional `.` and digits; no `+`,
//! no exponent. CHAR is one byte, BOOLEAN is `Y` or `N`, UTCTIMESTAMP is
//! `YYYYMMDD-HH:MM:SS[.fraction]`, UTCTIMEONLY `HH:MM:SS[.fraction]`, UTCDATEONLY and
//! LOCALMKTDATE `YYYYMMDD`, MONTHYEAR `YYYYMM`, `YYYYMMDD` or `YYYYMMwN`. MULTIPLEVALUESTRING
//! values are space-separated enumerated values.
//!
//! # Limits
//! At most [`FIELDS_MAX`] fields per dictionary and tag numbers up to [`TAG_MAX`].

mod profile;
mod validate;
#[cfg(feature = "xml")]
mod xml;

pub use validate::{SessionRejectReason, ValidationError};

/// The most fields one dictionary may define (the stock FIX 4.4 dictionary has 912).
pub const FIELDS_MAX: usize = 2048;
/// The largest tag number a dictionary may define.
pub const TAG_MAX: u32 = 9999;

/// A FIX data type, as far as validation needs to tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldType {
    /// INT, LENGTH, SEQNUM, NUMINGROUP, DAYOFMONTH, TAGNUM.
    Int,
    /// FLOAT, QTY, PRICE, PRICEOFFSET, AMT, PERCENTAGE.
    Float,
    /// CHAR: one byte.
    Char,
    /// BOOLEAN: `Y` or `N`.
    Boolean,
    /// UTCTIMESTAMP.
    UtcTimestamp,
    /// UTCTIMEONLY.
    UtcTimeOnly,
    /// UTCDATEONLY, LOCALMKTDATE.
    Date,
    /// MONTHYEAR.
    MonthYear,
    /// MULTIPLEVALUESTRING: space-separated values.
    MultipleValueString,
    /// STRING, CURRENCY, EXCHANGE, COUNTRY, DATA and anything else: any non-empty bytes.
    String,
}

impl FieldType {
    /// Maps a FIX type name (as in QuickFIX XML) to the type validation uses.
    #[must_use]
    pub fn from_name(name: &str) -> Self {
        match name {
            "INT" | "LENGTH" | "SEQNUM" | "NUMINGROUP" | "DAYOFMONTH" | "TAGNUM" => Self::Int,
            "FLOAT" | "QTY" | "PRICE" | "PRICEOFFSET" | "AMT" | "PERCENTAGE" => Self::Float,
            "CHAR" => Self::Char,
            "BOOLEAN" => Self::Boolean,
            "UTCTIMESTAMP" => Self::UtcTimestamp,
            "UTCTIMEONLY" => Self::UtcTimeOnly,
            "UTCDATEONLY" | "UTCDATE" | "LOCALMKTDATE" => Self::Date,
            "MONTHYEAR" => Self::MonthYear,
            "MULTIPLEVALUESTRING" | "MULTIPLECHARVALUE" | "MULTIPLESTRINGVALUE" => {
                Self::MultipleValueString
            }
            _ => Self::String,
        }
    }
}

/// One field definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDef {
    /// The tag number.
    pub tag: u32,
    /// The FIX name, such as `ClOrdID`.
    pub name: Box<str>,
    /// The FIX type name as written in the source, such as `PRICE`.
    pub type_name: Box<str>,
    /// The type validation uses.
    pub kind: FieldType,
    /// The enumerated values, sorted; empty if the field is not an enumeration.
    pub values: Vec<Box<[u8]>>,
}

/// A field or repeating group of a section, with whether it is required.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    /// The field's tag (for a group, its NumInGroup tag).
    pub tag: u32,
    /// Whether the section must contain it.
    pub required: bool,
    /// For a repeating group, its index in [`Dictionary::groups`].
    pub group: Option<u16>,
}

/// The members of a header, trailer, message or group entry.
#[derive(Debug, Clone, Default)]
pub struct Section {
    /// Members in definition order.
    pub members: Vec<Member>,
    /// Dense field indexes of the members, for O(1) membership tests.
    contains: BitSet,
    /// Dense field indexes of the required members (a subset of `contains`).
    required: BitSet,
    /// Dense field indexes of the members that are NumInGroup fields (a subset of `contains`).
    groups: BitSet,
}

impl Section {
    fn push(&mut self, member: Member, index: usize) {
        self.members.push(member);
        self.contains.insert(index);
        if member.required {
            self.required.insert(index);
        }
        if member.group.is_some() {
            self.groups.insert(index);
        }
    }

    /// The group whose NumInGroup tag is `tag` (of dense index `index`), if this section has
    /// one; most fields are not, and are answered without a search.
    fn group(&self, tag: u32, index: usize) -> Option<u16> {
        if !self.groups.contains(index) {
            return None;
        }
        self.members.iter().find(|member| member.tag == tag).and_then(|member| member.group)
    }
}

/// A repeating group: its NumInGroup tag, the delimiter that starts every entry, and the entry's
/// members.
#[derive(Debug, Clone)]
pub struct GroupDef {
    /// The NumInGroup tag.
    pub count_tag: u32,
    /// The first field of every entry.
    pub delimiter: u32,
    /// The members of one entry.
    pub entry: Section,
}

/// A message definition.
#[derive(Debug, Clone)]
pub struct MessageDef {
    /// MsgType (35).
    pub msg_type: Box<[u8]>,
    /// The FIX name, such as `NewOrderSingle`.
    pub name: Box<str>,
    /// Whether this is a session-level (admin) message.
    pub admin: bool,
    /// The body.
    pub body: Section,
}

/// A data dictionary. See the module documentation.
#[derive(Debug, Clone)]
pub struct Dictionary {
    /// Field definitions; a field's position here is its dense index.
    fields: Vec<FieldDef>,
    /// Tag number → dense index + 1 (0: not defined).
    index_by_tag: Vec<u16>,
    /// Tag numbers of the FIX version this dictionary describes, including ones it does not
    /// define itself (sorted, inclusive ranges).
    known_tags: Vec<(u32, u32)>,
    /// Tags defined as extensions of the FIX version.
    extensions: Vec<u32>,
    /// The standard header.
    header: Section,
    /// The standard trailer.
    trailer: Section,
    /// Messages, sorted by MsgType.
    messages: Vec<MessageDef>,
    /// By dense index, the field's one-byte ASCII enumerated values as a bit set (bit `b` for
    /// value `[b]`): such values, nearly all of FIX's, are checked without a search.
    one_byte_values: Vec<u128>,
    /// Repeating groups, referred to by [`Member::group`].
    groups: Vec<GroupDef>,
}

/// Why a dictionary source could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DictionaryError {
    /// A line of the profile format is malformed.
    #[error("profile line {line}: {reason}")]
    Profile {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// The XML is malformed or refers to something undefined.
    #[error("dictionary XML: {reason}")]
    Xml {
        /// What is wrong.
        reason: String,
    },
}

impl Dictionary {
    fn empty() -> Self {
        Self {
            fields: Vec::new(),
            index_by_tag: Vec::new(),
            known_tags: Vec::new(),
            extensions: Vec::new(),
            header: Section::default(),
            trailer: Section::default(),
            messages: Vec::new(),
            groups: Vec::new(),
            one_byte_values: Vec::new(),
        }
    }

    /// Birzha's FIX 4.4 profile dictionary (parsed from text compiled into the crate).
    ///
    /// # Panics
    /// Panics if the compiled-in profile is malformed (a bug caught by the unit tests).
    #[must_use]
    pub fn profile() -> Self {
        match Self::from_profile(include_str!("fix44.profile")) {
            Ok(dictionary) => dictionary,
            Err(error) => panic!("Invariant: the built-in profile parses: {error}"),
        }
    }

    /// Parses a dictionary in the profile line format (see `fix44.profile`).
    ///
    /// # Errors
    /// Returns [`DictionaryError::Profile`] naming the first malformed line.
    pub fn from_profile(text: &str) -> Result<Self, DictionaryError> {
        profile::parse(text)
    }

    /// Loads a QuickFIX data-dictionary XML document (such as the stock `FIX44.xml`).
    ///
    /// # Errors
    /// Returns [`DictionaryError::Xml`] if the XML is malformed or refers to undefined names.
    #[cfg(feature = "xml")]
    pub fn from_quickfix_xml(text: &str) -> Result<Self, DictionaryError> {
        xml::parse(text)
    }

    /// Every field definition.
    #[must_use]
    pub fn fields(&self) -> &[FieldDef] {
        &self.fields
    }

    /// The definition of a tag.
    #[must_use]
    pub fn field(&self, tag: u32) -> Option<&FieldDef> {
        self.index(tag).map(|index| &self.fields[index])
    }

    /// Every message definition, sorted by MsgType.
    #[must_use]
    pub fn messages(&self) -> &[MessageDef] {
        &self.messages
    }

    /// The definition of a MsgType.
    #[must_use]
    pub fn message(&self, msg_type: &[u8]) -> Option<&MessageDef> {
        self.messages
            .binary_search_by(|message| message.msg_type.as_ref().cmp(msg_type))
            .ok()
            .map(|index| &self.messages[index])
    }

    /// The standard header.
    #[must_use]
    pub fn header(&self) -> &Section {
        &self.header
    }

    /// The standard trailer.
    #[must_use]
    pub fn trailer(&self) -> &Section {
        &self.trailer
    }

    /// The repeating group with this index (see [`Member::group`]).
    #[must_use]
    pub fn group(&self, index: u16) -> &GroupDef {
        &self.groups[usize::from(index)]
    }

    /// Tags defined as extensions of FIX 4.4 (such as 2964 SelfMatchPreventionMode).
    #[must_use]
    pub fn extensions(&self) -> &[u32] {
        &self.extensions
    }

    /// Whether `tag` belongs to the standard header.
    #[must_use]
    pub fn is_header_tag(&self, tag: u32) -> bool {
        self.index(tag).is_some_and(|index| self.header.contains.contains(index))
    }

    /// Whether `msg_type` is one of MsgType's (35) enumerated values.
    #[must_use]
    pub fn is_known_msg_type(&self, msg_type: &[u8]) -> bool {
        self.field(35).is_some_and(|field| has_value(field, msg_type))
    }

    /// Whether FIX 4.4 defines this tag (whether or not this dictionary does).
    #[must_use]
    pub fn is_known_tag(&self, tag: u32) -> bool {
        self.index(tag).is_some()
            || self.known_tags.iter().any(|&(low, high)| (low..=high).contains(&tag))
    }

    fn index(&self, tag: u32) -> Option<usize> {
        match self.index_by_tag.get(tag as usize) {
            Some(&slot) if slot > 0 => Some(usize::from(slot) - 1),
            _ => None,
        }
    }

    /// Adds a field definition; returns its dense index.
    fn add_field(&mut self, field: FieldDef) -> Result<usize, String> {
        if field.tag == 0 || field.tag > TAG_MAX {
            return Err(format!("tag {} outside 1..={TAG_MAX}", field.tag));
        }
        if self.fields.len() == FIELDS_MAX {
            return Err(format!("more than {FIELDS_MAX} fields"));
        }
        if self.index(field.tag).is_some() {
            return Err(format!("tag {} defined twice", field.tag));
        }
        let tag = field.tag as usize;
        if self.index_by_tag.len() <= tag {
            self.index_by_tag.resize(tag + 1, 0);
        }
        self.fields.push(field);
        self.index_by_tag[tag] = self.fields.len() as u16;
        Ok(self.fields.len() - 1)
    }

    /// Adds a member to a section, checking that the field exists.
    fn add_member(&self, section: &mut Section, member: Member) -> Result<(), String> {
        let index = self.index(member.tag).ok_or(format!("tag {} is not defined", member.tag))?;
        section.push(member, index);
        Ok(())
    }

    fn finish(mut self) -> Self {
        self.messages.sort_by(|left, right| left.msg_type.cmp(&right.msg_type));
        for field in &mut self.fields {
            field.values.sort();
        }
        self.one_byte_values = self.fields.iter().map(one_byte_values).collect();
        self.known_tags.sort_unstable();
        self
    }
}

/// The bit set of a field's one-byte ASCII enumerated values.
fn one_byte_values(field: &FieldDef) -> u128 {
    field.values.iter().fold(0, |set, value| match **value {
        [byte] if byte < 128 => set | 1 << byte,
        _ => set,
    })
}

/// Whether `value` is one of a field's enumerated values, given the bit set of its one-byte
/// ASCII values (`values` is sorted).
fn is_enumerated(field: &FieldDef, one_byte: u128, value: &[u8]) -> bool {
    match *value {
        [byte] if byte < 128 => one_byte >> byte & 1 == 1,
        _ => has_value(field, value),
    }
}

/// Whether `value` is one of a field's enumerated values (`values` is sorted).
fn has_value(field: &FieldDef, value: &[u8]) -> bool {
    field.values.binary_search_by(|candidate| compare_short(candidate, value)).is_ok()
}

/// Lexicographic order of two byte strings, compared inline: enumerated values are a byte or
/// a few, for which a call to `memcmp` per probe costs more than the comparison.
#[inline]
fn compare_short(left: &[u8], right: &[u8]) -> std::cmp::Ordering {
    for (a, b) in left.iter().zip(right) {
        if a != b {
            return a.cmp(b);
        }
    }
    left.len().cmp(&right.len())
}

/// A fixed-size set of dense field indexes. Lives on the stack; no allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BitSet([u64; FIELDS_MAX / 64]);

impl Default for BitSet {
    fn default() -> Self {
        Self([0; FIELDS_MAX / 64])
    }
}

impl BitSet {
    fn insert(&mut self, index: usize) {
        self.0[index / 64] |= 1 << (index % 64);
    }

    fn contains(&self, index: usize) -> bool {
        self.0[index / 64] & (1 << (index % 64)) != 0
    }

    /// Whether every index of `other` is in `self`.
    fn contains_all(&self, other: &BitSet) -> bool {
        self.0.iter().zip(&other.0).all(|(mine, theirs)| theirs & !mine == 0)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn short_comparison_is_the_lexicographic_order() {
        let words: [&[u8]; 9] = [b"", b"0", b"1", b"10", b"2", b"A", b"AB", b"B", b"\xff"];
        for left in words {
            for right in words {
                assert_eq!(
                    super::compare_short(left, right),
                    left.cmp(right),
                    "{left:?} {right:?}"
                );
            }
        }
    }

    use super::*;

    #[test]
    fn the_one_byte_fast_path_agrees_with_the_search() {
        let dictionary = Dictionary::profile();
        let enumerated = dictionary.fields.iter().enumerate().filter(|(_, f)| !f.values.is_empty());
        for (index, field) in enumerated {
            let one_byte = dictionary.one_byte_values[index];
            let mut candidates: Vec<Vec<u8>> = (0..=255u8).map(|byte| vec![byte]).collect();
            candidates.extend(field.values.iter().map(|value| value.to_vec()));
            candidates.extend([b"".to_vec(), b"ZZZ".to_vec()]);
            for value in &candidates {
                assert_eq!(
                    is_enumerated(field, one_byte, value),
                    has_value(field, value),
                    "tag {} value {value:?}",
                    field.tag
                );
            }
        }
    }

    #[test]
    fn profile_parses_and_defines_the_profile_messages() {
        let dictionary = Dictionary::profile();
        for msg_type in ["0", "1", "2", "3", "4", "5", "A", "D", "F", "G", "q", "H", "V", "x"] {
            assert!(dictionary.message(msg_type.as_bytes()).is_some(), "inbound {msg_type}");
        }
        for msg_type in ["8", "9", "r", "W", "X", "Y", "h", "y", "j"] {
            assert!(dictionary.message(msg_type.as_bytes()).is_some(), "outbound {msg_type}");
        }
        assert!(dictionary.is_known_msg_type(b"R"));
        assert!(!dictionary.is_known_msg_type(b"*"));
        assert!(dictionary.is_known_tag(100));
        assert!(!dictionary.is_known_tag(999));
        assert!(dictionary.is_known_tag(2964));
        assert_eq!(dictionary.extensions(), [2964]);
        assert_eq!(dictionary.field(40).map(|field| field.kind), Some(FieldType::Char));
    }
}
