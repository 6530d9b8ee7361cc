//! Validation of a parsed message against a [`Dictionary`] (order documented in the module
//! above). Allocation-free: the sets of seen fields are fixed-size bitsets on the stack.

use super::{BitSet, Dictionary, FieldDef, FieldType, MessageDef, Section, is_enumerated};
use crate::message::{FieldRef, MessageView};
use crate::time::{UtcTimestamp, parse_date, parse_time_only};

/// SessionRejectReason (373) values this crate produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
#[non_exhaustive]
pub enum SessionRejectReason {
    /// 0: the tag is not a FIX tag.
    InvalidTagNumber = 0,
    /// 1: a required tag is missing.
    RequiredTagMissing = 1,
    /// 2: the tag is not defined for this message type.
    TagNotDefinedForMessageType = 2,
    /// 4: the tag has an empty value.
    TagSpecifiedWithoutValue = 4,
    /// 5: the value is not one of the field's enumerated values, or out of range.
    ValueIsIncorrect = 5,
    /// 6: the value is not formatted as the field's type requires.
    IncorrectDataFormat = 6,
    /// 9: SenderCompID or TargetCompID is not this session's.
    CompIdProblem = 9,
    /// 10: SendingTime (or OrigSendingTime) is implausible.
    SendingTimeAccuracyProblem = 10,
    /// 11: MsgType is not a FIX message type.
    InvalidMsgType = 11,
    /// 13: a tag appears more than once.
    TagAppearsMoreThanOnce = 13,
    /// 14: a header field after the body, or a body field after the trailer.
    TagSpecifiedOutOfRequiredOrder = 14,
    /// 16: a repeating group has a different number of entries than its NumInGroup says.
    IncorrectNumInGroupCount = 16,
}

impl SessionRejectReason {
    /// The value of tag 373.
    #[must_use]
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The Text (58) QuickFIX sends with this reason; counterparties' tooling knows these.
    #[must_use]
    pub fn text(self) -> &'static str {
        match self {
            Self::InvalidTagNumber => "Invalid tag number",
            Self::RequiredTagMissing => "Required tag missing",
            Self::TagNotDefinedForMessageType => "Tag not defined for this message type",
            Self::TagSpecifiedWithoutValue => "Tag specified without a value",
            Self::ValueIsIncorrect => "Value is incorrect (out of range) for this tag",
            Self::IncorrectDataFormat => "Incorrect data format for value",
            Self::CompIdProblem => "CompID problem",
            Self::SendingTimeAccuracyProblem => "SendingTime accuracy problem",
            Self::InvalidMsgType => "Invalid MsgType",
            Self::TagAppearsMoreThanOnce => "Tag appears more than once",
            Self::TagSpecifiedOutOfRequiredOrder => "Tag specified out of required order",
            Self::IncorrectNumInGroupCount => "Incorrect NumInGroup count for repeating group",
        }
    }
}

/// Why a message is not valid under a dictionary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValidationError {
    /// The message breaks a rule a session-level Reject (35=3) reports.
    #[error("{} (373={}), tag {ref_tag:?}", reason.text(), reason.code())]
    Reject {
        /// SessionRejectReason (373).
        reason: SessionRejectReason,
        /// RefTagID (371), as written on the wire (it may be 0 or negative).
        ref_tag: Option<i64>,
    },
    /// The MsgType is a valid FIX message type that this dictionary does not define; a
    /// BusinessMessageReject with reason 3 answers it.
    #[error("unsupported MsgType")]
    UnsupportedMsgType,
}

fn reject(reason: SessionRejectReason, tag: u32) -> ValidationError {
    ValidationError::Reject { reason, ref_tag: Some(i64::from(tag)) }
}

/// Where a field sits in the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    Header,
    Body,
    Trailer,
}

impl Dictionary {
    /// Validates a parsed message; returns its definition.
    ///
    /// # Errors
    /// Returns the first [`ValidationError`] found, in the order the module documents.
    pub fn validate(&self, view: &MessageView<'_>) -> Result<&MessageDef, ValidationError> {
        self.check_order(view)?;
        let msg_type = view.msg_type();
        let Some(message) = self.message(msg_type) else {
            if self.is_known_msg_type(msg_type) {
                return Err(ValidationError::UnsupportedMsgType);
            }
            let reason = SessionRejectReason::InvalidMsgType;
            return Err(ValidationError::Reject { reason, ref_tag: None });
        };
        let mut present = BitSet::default();
        for field in view.fields() {
            if let Some(index) = self.index(field.tag) {
                present.insert(index);
            }
        }
        for section in [&self.header, &message.body, &self.trailer] {
            self.check_required(section, &present)?;
        }
        let mut seen = BitSet::default();
        let fields = view.fields();
        let mut position = 0;
        while position < fields.len() {
            let section = match self.part(fields[position].tag) {
                Part::Header => &self.header,
                Part::Body => &message.body,
                Part::Trailer => &self.trailer,
            };
            position = self.check_field(view, position, section, &mut seen)?;
        }
        Ok(message)
    }

    fn part(&self, tag: u32) -> Part {
        match self.index(tag) {
            Some(index) if self.header.contains.contains(index) => Part::Header,
            Some(index) if self.trailer.contains.contains(index) => Part::Trailer,
            _ => Part::Body,
        }
    }

    /// Header fields first, then body fields, then trailer fields.
    fn check_order(&self, view: &MessageView<'_>) -> Result<(), ValidationError> {
        let mut current = Part::Header;
        for field in view.fields() {
            let part = self.part(field.tag);
            if part < current {
                return Err(reject(SessionRejectReason::TagSpecifiedOutOfRequiredOrder, field.tag));
            }
            current = part;
        }
        Ok(())
    }

    fn check_required(&self, section: &Section, present: &BitSet) -> Result<(), ValidationError> {
        if present.contains_all(&section.required) {
            return Ok(());
        }
        // Name the first missing one in definition order.
        for member in section.members.iter().filter(|member| member.required) {
            let found = self.index(member.tag).is_some_and(|index| present.contains(index));
            if !found {
                return Err(reject(SessionRejectReason::RequiredTagMissing, member.tag));
            }
        }
        Ok(())
    }

    /// Checks the field at `position` (and, for a group, its entries); returns the position of
    /// the next field to check.
    fn check_field(
        &self,
        view: &MessageView<'_>,
        position: usize,
        section: &Section,
        seen: &mut BitSet,
    ) -> Result<usize, ValidationError> {
        let field = &view.fields()[position];
        let index = self.check_tag(view, field)?;
        if seen.contains(index) {
            return Err(reject(SessionRejectReason::TagAppearsMoreThanOnce, field.tag));
        }
        seen.insert(index);
        let value = view.value(field);
        check_value(&self.fields[index], self.one_byte_values[index], value)?;
        if !section.contains.contains(index) {
            return Err(reject(SessionRejectReason::TagNotDefinedForMessageType, field.tag));
        }
        match section.group(field.tag, index) {
            Some(group) => self.check_group(view, position, group, value),
            None => Ok(position + 1),
        }
    }

    /// The dense index of a defined tag, or the Reject for an undefined one.
    fn check_tag(
        &self,
        view: &MessageView<'_>,
        field: &FieldRef,
    ) -> Result<usize, ValidationError> {
        if let Some(index) = self.index(field.tag) {
            return Ok(index);
        }
        if field.tag != 0 && self.is_known_tag(field.tag) {
            return Err(reject(SessionRejectReason::TagNotDefinedForMessageType, field.tag));
        }
        let raw = std::str::from_utf8(view.raw_tag(field)).ok().and_then(|text| text.parse().ok());
        let reason = SessionRejectReason::InvalidTagNumber;
        Err(ValidationError::Reject { reason, ref_tag: raw.or(Some(i64::from(field.tag))) })
    }

    /// Walks the entries of the group whose NumInGroup field is at `position`.
    fn check_group(
        &self,
        view: &MessageView<'_>,
        position: usize,
        group: u16,
        count: &[u8],
    ) -> Result<usize, ValidationError> {
        let group = self.group(group);
        let declared = crate::message::parse_unsigned(count).unwrap_or(u64::MAX);
        let fields = view.fields();
        let mut next = position + 1;
        let mut entries = 0u64;
        let mut entry_seen = BitSet::default();
        while let Some(field) = fields.get(next) {
            let Some(index) = self.index(field.tag) else { break };
            if !group.entry.contains.contains(index)
                || (entries == 0 && field.tag != group.delimiter)
            {
                break;
            }
            if field.tag == group.delimiter {
                if entries > 0 {
                    self.check_required(&group.entry, &entry_seen)?;
                }
                entries += 1;
                entry_seen = BitSet::default();
            }
            next = self.check_field(view, next, &group.entry, &mut entry_seen)?;
        }
        if entries > 0 {
            self.check_required(&group.entry, &entry_seen)?;
        }
        if entries != declared {
            return Err(reject(SessionRejectReason::IncorrectNumInGroupCount, group.count_tag));
        }
        Ok(next)
    }
}

/// Checks a value's presence, format and enumeration.
fn check_value(field: &FieldDef, one_byte: u128, value: &[u8]) -> Result<(), ValidationError> {
    if value.is_empty() {
        return Err(reject(SessionRejectReason::TagSpecifiedWithoutValue, field.tag));
    }
    if !is_well_formed(field.kind, value) {
        return Err(reject(SessionRejectReason::IncorrectDataFormat, field.tag));
    }
    if field.values.is_empty() {
        return Ok(());
    }
    let valid = if field.kind == FieldType::MultipleValueString {
        value.split(|&byte| byte == b' ').all(|part| is_enumerated(field, one_byte, part))
    } else {
        is_enumerated(field, one_byte, value)
    };
    if valid { Ok(()) } else { Err(reject(SessionRejectReason::ValueIsIncorrect, field.tag)) }
}

/// The most digits an integer field may have (what `parse_unsigned` reads).
const INT_DIGITS_MAX: usize = 18;

/// Whether `value` has the syntax of `kind` (see the module documentation).
fn is_well_formed(kind: FieldType, value: &[u8]) -> bool {
    match kind {
        FieldType::Int => {
            // At most 18 digits: what every reader of integers here takes (a MsgSeqNum of 20
            // digits read as "none" once made a session log out for a number too low).
            let digits = value.strip_prefix(b"-").unwrap_or(value);
            (1..=INT_DIGITS_MAX).contains(&digits.len()) && digits.iter().all(u8::is_ascii_digit)
        }
        FieldType::Float => is_plain_decimal(value),
        FieldType::Char => value.len() == 1,
        FieldType::Boolean => value == b"Y" || value == b"N",
        FieldType::UtcTimestamp => UtcTimestamp::parse(value).is_some(),
        FieldType::UtcTimeOnly => parse_time_only(value).is_some(),
        FieldType::Date => parse_date(value).is_some(),
        FieldType::MonthYear => is_month_year(value),
        FieldType::MultipleValueString | FieldType::String => true,
    }
}

/// `-`? digits (`.` digits?)?, or `-`? `.` digits: at least one digit, no `+`, no exponent.
pub(crate) fn is_plain_decimal(value: &[u8]) -> bool {
    let unsigned = value.strip_prefix(b"-").unwrap_or(value);
    let (whole, fraction) = match unsigned.iter().position(|&byte| byte == b'.') {
        Some(dot) => (&unsigned[..dot], &unsigned[dot + 1..]),
        None => (unsigned, &[][..]),
    };
    (!whole.is_empty() || !fraction.is_empty())
        && whole.iter().all(u8::is_ascii_digit)
        && fraction.iter().all(u8::is_ascii_digit)
}

fn is_month_year(value: &[u8]) -> bool {
    if value.len() < 6 || !value[..6].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let month = (value[4] - b'0') * 10 + (value[5] - b'0');
    if !(1..=12).contains(&month) {
        return false;
    }
    match &value[6..] {
        [] => true,
        [b'w', week] => (b'1'..=b'5').contains(week),
        [day_tens, day_units] => {
            day_tens.is_ascii_digit() && day_units.is_ascii_digit() && {
                let day = (day_tens - b'0') * 10 + (day_units - b'0');
                (1..=31).contains(&day)
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{Fields, parse};

    fn validate(text: &str) -> Result<(), ValidationError> {
        let frame = format!("8=FIX.4.4|9=0|{text}|10=000|").replace('|', "\x01");
        let mut fields = Fields::with_capacity(64);
        let view = parse(frame.as_bytes(), &mut fields).unwrap();
        Dictionary::profile().validate(&view).map(|_| ())
    }

    const HEADER: &str = "34=2|49=TW|52=20240101-00:00:00|56=ISLD";

    fn rejected(reason: SessionRejectReason, tag: i64) -> Result<(), ValidationError> {
        Err(ValidationError::Reject { reason, ref_tag: Some(tag) })
    }

    #[test]
    fn accepts_valid_messages() {
        assert_eq!(validate(&format!("35=0|{HEADER}")), Ok(()));
        let order = "11=a|21=1|40=2|44=6800.5|54=1|38=10|55=BUTTER|60=20240101-00:00:00|2964=1";
        assert_eq!(validate(&format!("35=D|{HEADER}|{order}")), Ok(()));
        let groups = "11=a|54=1|40=1|60=20240101-00:00:00|386=2|336=A|625=x|336=B";
        assert_eq!(validate(&format!("35=D|{HEADER}|{groups}")), Ok(()));
    }

    #[test]
    fn reports_each_kind_of_problem() {
        use SessionRejectReason::*;
        assert_eq!(validate(&format!("35=0|{HEADER}|999=x")), rejected(InvalidTagNumber, 999));
        assert_eq!(validate(&format!("35=0|{HEADER}|-1=x")), rejected(InvalidTagNumber, -1));
        assert_eq!(
            validate(&format!("35=0|{HEADER}|55=x")),
            rejected(TagNotDefinedForMessageType, 55)
        );
        assert_eq!(
            validate(&format!("35=0|{HEADER}|100=x")),
            rejected(TagNotDefinedForMessageType, 100)
        );
        assert_eq!(
            validate("35=0|34=2|49=TW|52=20240101-00:00:00"),
            rejected(RequiredTagMissing, 56)
        );
        assert_eq!(
            validate(&format!("35=0|{HEADER}|112=")),
            rejected(TagSpecifiedWithoutValue, 112)
        );
        let order = "11=a|54=1|60=20240101-00:00:00";
        assert_eq!(
            validate(&format!("35=D|{HEADER}|{order}|40=w")),
            rejected(ValueIsIncorrect, 40)
        );
        assert_eq!(
            validate(&format!("35=D|{HEADER}|{order}|40=1|38=+1")),
            rejected(IncorrectDataFormat, 38)
        );
        assert_eq!(
            validate(&format!("35=D|{HEADER}|{order}|40=1|40=2")),
            rejected(TagAppearsMoreThanOnce, 40)
        );
        assert_eq!(
            validate(&format!("35=D|{order}|40=1|{HEADER}")),
            rejected(TagSpecifiedOutOfRequiredOrder, 34)
        );
        let groups = "386=3|336=A|336=B";
        assert_eq!(
            validate(&format!("35=D|{HEADER}|{order}|40=1|{groups}")),
            rejected(IncorrectNumInGroupCount, 386)
        );
        assert_eq!(
            validate(&format!("35=*|{HEADER}")),
            Err(ValidationError::Reject { reason: InvalidMsgType, ref_tag: None })
        );
        assert_eq!(validate(&format!("35=R|{HEADER}")), Err(ValidationError::UnsupportedMsgType));
    }

    #[test]
    fn decimals_are_plain() {
        for good in ["0", "6800", "0.95", "-290.5", ".5", "5."] {
            assert!(is_plain_decimal(good.as_bytes()), "{good}");
        }
        for bad in ["", "-", ".", "+1", "1e5", "1.2.3", " 1"] {
            assert!(!is_plain_decimal(bad.as_bytes()), "{bad}");
        }
    }
}
