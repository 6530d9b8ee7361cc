//! The profile dictionary against the stock FIX44.xml. The profile is a subset written in the
//! project's own format; here every one of its claims is checked against the stock dictionary
//! so that a message valid under the profile is valid to a stock QuickFIX counterparty, and a
//! message the stock dictionary requires a field in cannot be sent without it.

use birzha_fix::{Dictionary, Section, TAG_MAX};

use crate::util::stock;

#[test]
fn fields_agree_on_name_type_and_enumeration() {
    let (profile, stock) = (Dictionary::profile(), stock());
    for field in profile.fields() {
        if profile.extensions().contains(&field.tag) {
            assert!(stock.field(field.tag).is_none(), "extension {} is a FIX 4.4 tag", field.tag);
            continue;
        }
        let theirs =
            stock.field(field.tag).unwrap_or_else(|| panic!("tag {} not in stock", field.tag));
        assert_eq!(field.name, theirs.name, "name of tag {}", field.tag);
        assert_eq!(field.type_name, theirs.type_name, "type of tag {}", field.tag);
        for value in &field.values {
            assert!(theirs.values.contains(value), "tag {} value {:?}", field.tag, value);
        }
        assert_eq!(field.values.is_empty(), theirs.values.is_empty(), "enum-ness of {}", field.tag);
    }
}

#[test]
fn known_tags_are_exactly_the_stock_tags() {
    let (profile, stock) = (Dictionary::profile(), stock());
    for tag in 1..=TAG_MAX {
        let expected = stock.field(tag).is_some() || profile.extensions().contains(&tag);
        assert_eq!(profile.is_known_tag(tag), expected, "tag {tag}");
    }
}

#[test]
fn messages_agree_on_members_and_required_flags() {
    let (profile, stock) = (Dictionary::profile(), stock());
    compare(&profile, &stock, "header", profile.header(), stock.header());
    compare(&profile, &stock, "trailer", profile.trailer(), stock.trailer());
    for message in profile.messages() {
        let theirs = stock.message(&message.msg_type).expect("message in stock");
        assert_eq!(message.name, theirs.name);
        assert_eq!(message.admin, theirs.admin, "category of {}", message.name);
        compare(&profile, &stock, &message.name, &message.body, &theirs.body);
    }
}

/// Checks one section of the profile against the stock section of the same name.
fn compare(profile: &Dictionary, stock: &Dictionary, name: &str, ours: &Section, theirs: &Section) {
    for member in &ours.members {
        if profile.extensions().contains(&member.tag) {
            continue;
        }
        let found = theirs.members.iter().find(|candidate| candidate.tag == member.tag);
        let found = found.unwrap_or_else(|| panic!("{name}: tag {} not in stock", member.tag));
        assert_eq!(member.required, found.required, "{name}: required flag of {}", member.tag);
        match (member.group, found.group) {
            (None, None) => {}
            (Some(group), Some(stock_group)) => {
                let (group, stock_group) = (profile.group(group), stock.group(stock_group));
                assert_eq!(group.delimiter, stock_group.delimiter, "{name}: group {}", member.tag);
                for entry_member in &group.entry.members {
                    let in_stock = stock_group
                        .entry
                        .members
                        .iter()
                        .any(|candidate| candidate.tag == entry_member.tag);
                    assert!(in_stock, "{name}: group {} member {}", member.tag, entry_member.tag);
                }
            }
            _ => panic!("{name}: tag {} is a group in one dictionary only", member.tag),
        }
    }
    for member in theirs.members.iter().filter(|member| member.required) {
        let present = ours.members.iter().any(|candidate| candidate.tag == member.tag);
        assert!(present, "{name}: stock-required tag {} missing from the profile", member.tag);
    }
}
