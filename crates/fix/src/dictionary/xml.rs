//! The loader of QuickFIX data-dictionary XML (feature `xml`). Components are flattened into
//! the sections that use them; a field is required only if it and every component around it are
//! required, as QuickFIX reads them.

use std::collections::BTreeMap;

use roxmltree::{Document, Node};

use super::{
    Dictionary, DictionaryError, FieldDef, FieldType, GroupDef, Member, MessageDef, Section,
};

/// Components nest; real dictionaries nest a handful deep. Deeper means a cycle.
const NESTING_MAX: usize = 16;

struct Loader<'a, 'input> {
    dictionary: Dictionary,
    tags_by_name: BTreeMap<&'a str, u32>,
    components: BTreeMap<&'a str, Node<'a, 'input>>,
}

pub(super) fn parse(text: &str) -> Result<Dictionary, DictionaryError> {
    let document = Document::parse(text).map_err(|error| xml_error(error.to_string()))?;
    let root = document.root_element();
    let mut loader = Loader {
        dictionary: Dictionary::empty(),
        tags_by_name: BTreeMap::new(),
        components: BTreeMap::new(),
    };
    loader.load_fields(child(root, "fields")?)?;
    if let Ok(components) = child(root, "components") {
        for component in components.children().filter(|node| node.has_tag_name("component")) {
            loader.components.insert(attribute(component, "name")?, component);
        }
    }
    let header = loader.section(child(root, "header")?, true, 0)?;
    let trailer = loader.section(child(root, "trailer")?, true, 0)?;
    loader.dictionary.header = header;
    loader.dictionary.trailer = trailer;
    for message in child(root, "messages")?.children().filter(|node| node.has_tag_name("message")) {
        let body = loader.section(message, true, 0)?;
        loader.dictionary.messages.push(MessageDef {
            msg_type: attribute(message, "msgtype")?.as_bytes().into(),
            name: attribute(message, "name")?.into(),
            admin: attribute(message, "msgcat")? == "admin",
            body,
        });
    }
    Ok(loader.dictionary.finish())
}

impl<'a, 'input> Loader<'a, 'input> {
    fn load_fields(&mut self, fields: Node<'a, 'input>) -> Result<(), DictionaryError> {
        for field in fields.children().filter(|node| node.has_tag_name("field")) {
            let name = attribute(field, "name")?;
            let tag: u32 = attribute(field, "number")?
                .parse()
                .map_err(|_| xml_error(format!("field {name} has a bad number")))?;
            let type_name = attribute(field, "type")?;
            let values = field
                .children()
                .filter(|node| node.has_tag_name("value"))
                .map(|value| attribute(value, "enum").map(|text| text.as_bytes().into()))
                .collect::<Result<Vec<Box<[u8]>>, _>>()?;
            let definition = FieldDef {
                tag,
                name: name.into(),
                type_name: type_name.into(),
                kind: FieldType::from_name(type_name),
                values,
            };
            self.dictionary.add_field(definition).map_err(xml_error)?;
            self.dictionary.known_tags.push((tag, tag));
            self.tags_by_name.insert(name, tag);
        }
        Ok(())
    }

    /// Builds the section of `node`'s children, flattening components.
    fn section(
        &mut self,
        node: Node<'a, 'input>,
        required: bool,
        depth: usize,
    ) -> Result<Section, DictionaryError> {
        let mut section = Section::default();
        self.add_children(&mut section, node, required, depth)?;
        Ok(section)
    }

    fn add_children(
        &mut self,
        section: &mut Section,
        node: Node<'a, 'input>,
        required: bool,
        depth: usize,
    ) -> Result<(), DictionaryError> {
        if depth > NESTING_MAX {
            return Err(xml_error("components nest too deep (a cycle?)".into()));
        }
        for child in node.children().filter(Node::is_element) {
            let name = attribute(child, "name")?;
            let member_required = required && child.attribute("required") == Some("Y");
            match child.tag_name().name() {
                "field" => {
                    let member =
                        Member { tag: self.tag(name)?, required: member_required, group: None };
                    self.dictionary.add_member(section, member).map_err(xml_error)?;
                }
                "component" => {
                    let component = *self
                        .components
                        .get(name)
                        .ok_or_else(|| xml_error(format!("undefined component {name}")))?;
                    self.add_children(section, component, member_required, depth + 1)?;
                }
                "group" => {
                    let group = self.group(child, depth)?;
                    let member = Member { tag: group, required: member_required, group: None };
                    let index = u16::try_from(self.dictionary.groups.len() - 1)
                        .map_err(|_| xml_error("too many groups".into()))?;
                    let member = Member { group: Some(index), ..member };
                    self.dictionary.add_member(section, member).map_err(xml_error)?;
                }
                other => return Err(xml_error(format!("unexpected element {other}"))),
            }
        }
        Ok(())
    }

    /// Adds the group defined by `node`; returns its NumInGroup tag.
    fn group(&mut self, node: Node<'a, 'input>, depth: usize) -> Result<u32, DictionaryError> {
        let count_tag = self.tag(attribute(node, "name")?)?;
        let entry = self.section(node, true, depth + 1)?;
        let delimiter = entry
            .members
            .first()
            .map(|member| member.tag)
            .ok_or_else(|| xml_error(format!("group {count_tag} is empty")))?;
        self.dictionary.groups.push(GroupDef { count_tag, delimiter, entry });
        Ok(count_tag)
    }

    fn tag(&self, name: &str) -> Result<u32, DictionaryError> {
        self.tags_by_name
            .get(name)
            .copied()
            .ok_or_else(|| xml_error(format!("undefined field {name}")))
    }
}

fn child<'a, 'input>(
    node: Node<'a, 'input>,
    name: &str,
) -> Result<Node<'a, 'input>, DictionaryError> {
    node.children()
        .find(|child| child.has_tag_name(name))
        .ok_or_else(|| xml_error(format!("missing <{name}>")))
}

fn attribute<'a>(node: Node<'a, '_>, name: &str) -> Result<&'a str, DictionaryError> {
    node.attribute(name)
        .ok_or_else(|| xml_error(format!("<{}> without {name}", node.tag_name().name())))
}

fn xml_error(reason: String) -> DictionaryError {
    DictionaryError::Xml { reason }
}
