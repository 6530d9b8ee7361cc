//! The parser of the profile line format (documented at the top of `fix44.profile`).

use super::{
    Dictionary, DictionaryError, FieldDef, FieldType, GroupDef, Member, MessageDef, Section,
};

/// Which section the lines being read belong to.
enum Target {
    None,
    Header,
    Trailer,
    Message(usize),
}

pub(super) fn parse(text: &str) -> Result<Dictionary, DictionaryError> {
    let mut dictionary = Dictionary::empty();
    let mut target = Target::None;
    for (number, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        parse_line(&mut dictionary, &mut target, &words)
            .map_err(|reason| DictionaryError::Profile { line: number + 1, reason })?;
    }
    Ok(dictionary.finish())
}

fn parse_line(
    dictionary: &mut Dictionary,
    target: &mut Target,
    words: &[&str],
) -> Result<(), String> {
    match words {
        ["known-tags", ranges @ ..] => {
            for range in ranges {
                let (low, high) = range.split_once('-').unwrap_or((range, range));
                dictionary.known_tags.push((number(low)?, number(high)?));
            }
        }
        [kind @ ("field" | "extension"), tag, name, type_name, values @ ..] => {
            let tag = number(tag)?;
            dictionary.add_field(FieldDef {
                tag,
                name: (*name).into(),
                type_name: (*type_name).into(),
                kind: FieldType::from_name(type_name),
                values: values.iter().map(|value| value.as_bytes().into()).collect(),
            })?;
            if *kind == "extension" {
                dictionary.extensions.push(tag);
            }
        }
        ["header"] => *target = Target::Header,
        ["trailer"] => *target = Target::Trailer,
        ["message", msg_type, name, category @ ("admin" | "app")] => {
            dictionary.messages.push(MessageDef {
                msg_type: msg_type.as_bytes().into(),
                name: (*name).into(),
                admin: *category == "admin",
                body: Section::default(),
            });
            *target = Target::Message(dictionary.messages.len() - 1);
        }
        [presence @ ("req" | "opt"), tags @ ..] => {
            for tag in tags {
                let member =
                    Member { tag: number(tag)?, required: *presence == "req", group: None };
                add_member(dictionary, target, member)?;
            }
        }
        ["group", count_tag, presence @ ("req" | "opt"), members @ ..] if !members.is_empty() => {
            let group = parse_group(dictionary, number(count_tag)?, members)?;
            let member = Member { tag: group.count_tag, required: *presence == "req", group: None };
            dictionary.groups.push(group);
            let index =
                u16::try_from(dictionary.groups.len() - 1).map_err(|_| "too many groups")?;
            add_member(dictionary, target, Member { group: Some(index), ..member })?;
        }
        _ => return Err(format!("unrecognised line: {}", words.join(" "))),
    }
    Ok(())
}

fn parse_group(
    dictionary: &Dictionary,
    count_tag: u32,
    members: &[&str],
) -> Result<GroupDef, String> {
    let mut entry = Section::default();
    for (position, tag) in members.iter().enumerate() {
        // The delimiter is required in every entry; the other members are optional.
        let member = Member { tag: number(tag)?, required: position == 0, group: None };
        dictionary.add_member(&mut entry, member)?;
    }
    let delimiter = entry.members[0].tag;
    Ok(GroupDef { count_tag, delimiter, entry })
}

fn add_member(dictionary: &mut Dictionary, target: &Target, member: Member) -> Result<(), String> {
    let mut section = match target {
        Target::None => return Err("a member outside any section".into()),
        Target::Header => std::mem::take(&mut dictionary.header),
        Target::Trailer => std::mem::take(&mut dictionary.trailer),
        Target::Message(index) => std::mem::take(&mut dictionary.messages[*index].body),
    };
    let result = dictionary.add_member(&mut section, member);
    match target {
        Target::None => {}
        Target::Header => dictionary.header = section,
        Target::Trailer => dictionary.trailer = section,
        Target::Message(index) => dictionary.messages[*index].body = section,
    }
    result
}

fn number(text: &str) -> Result<u32, String> {
    text.parse().map_err(|_| format!("not a tag number: {text}"))
}
