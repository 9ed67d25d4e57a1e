//! The XML layer under the typed messages: reading bytes into a small element tree (quick-xml,
//! bounded in size and depth, no DTD, predefined entities only), checking an element's children
//! against the ordered sequence its XSD type declares, and writing elements back.
//!
//! Nothing here knows a message: the message files declare their sequences and call in.

use std::fmt::Write as _;

use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

use super::error::Iso20022Error;

/// Largest document accepted, in bytes. FPS messages are small; a bulk file of a few thousand
/// transactions stays well under this.
pub const INPUT_BYTES_MAX: usize = 4 * 1024 * 1024;
/// Deepest element nesting accepted (the deepest FPS message path has 9 levels).
pub const DEPTH_MAX: usize = 24;
/// Attributes accepted on one element, namespace declarations included.
const ATTRIBUTES_PER_ELEMENT_MAX: usize = 16;

const XSI_NAMESPACE: &[u8] = b"http://www.w3.org/2001/XMLSchema-instance";

/// One element: its local name, its text (for leaves), its attributes and children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Node {
    pub name: String,
    /// `Some` only when the element is not in the document's namespace: what it is in
    /// (`""` for no namespace).
    pub foreign_namespace: Option<String>,
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Node>,
    pub text: String,
}

/// A parsed document: the root element and its namespace.
#[derive(Debug)]
pub(crate) struct Document {
    pub namespace: String,
    pub root: Node,
}

type Result<T> = std::result::Result<T, Iso20022Error>;

/// Reads `input` into a tree. Refuses anything not well-formed, a DTD, encodings other than
/// UTF-8, more than [`INPUT_BYTES_MAX`] bytes and more than [`DEPTH_MAX`] levels.
pub(crate) fn read_document(input: &[u8]) -> Result<Document> {
    if input.len() > INPUT_BYTES_MAX {
        return Err(Iso20022Error::TooLarge {
            size: input.len(),
            max: INPUT_BYTES_MAX,
        });
    }
    let (bom, body) = match input.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (3, rest),
        None => (0, input),
    };
    let text = std::str::from_utf8(body).map_err(|e| {
        not_well_formed(
            input,
            bom + e.valid_up_to(),
            "the document is not valid UTF-8",
        )
    })?;
    TreeBuilder::new(input, bom).run(text)
}

struct TreeBuilder<'i> {
    input: &'i [u8],
    offset: usize,
    stack: Vec<Node>,
    root: Option<Node>,
    namespace: Option<String>,
}

impl<'i> TreeBuilder<'i> {
    fn new(input: &'i [u8], offset: usize) -> Self {
        Self {
            input,
            offset,
            stack: Vec::new(),
            root: None,
            namespace: None,
        }
    }

    fn run(mut self, text: &str) -> Result<Document> {
        let mut reader = NsReader::from_str(text);
        loop {
            let position = self.position(reader.buffer_position());
            let (resolved, event) = match reader.read_resolved_event() {
                Ok(ok) => ok,
                Err(e) => {
                    let at = self.position(reader.error_position());
                    return Err(not_well_formed(self.input, at, &e.to_string()));
                }
            };
            let (resolved, event) = (resolved_namespace(resolved), event);
            match event {
                Event::Decl(decl) => check_declaration(&decl)?,
                Event::DocType(_) => {
                    let (line, column) = line_and_column(self.input, position);
                    return Err(Iso20022Error::DtdRefused { line, column });
                }
                Event::PI(_) | Event::Comment(_) => {}
                Event::Start(start) => self.open(&reader, &start, resolved, position)?,
                Event::Empty(start) => {
                    self.open(&reader, &start, resolved, position)?;
                    self.close(position)?;
                }
                Event::End(_) => self.close(position)?,
                Event::Text(t) => {
                    let text = self.decoded(t.xml10_content(), position)?;
                    self.text(&text, position)?;
                }
                Event::CData(t) => {
                    let text = self.decoded(t.decode(), position)?;
                    self.text(&text, position)?;
                }
                Event::GeneralRef(r) => {
                    let text = self.reference(&r, position)?;
                    self.text(&text, position)?;
                }
                Event::Eof => return self.finish(),
            }
        }
    }

    fn position(&self, in_text: u64) -> usize {
        usize::try_from(in_text)
            .unwrap_or(usize::MAX)
            .saturating_add(self.offset)
    }

    fn open(
        &mut self,
        reader: &NsReader<&[u8]>,
        start: &BytesStart<'_>,
        namespace: std::result::Result<String, String>,
        position: usize,
    ) -> Result<()> {
        if self.root.is_some() {
            return Err(not_well_formed(
                self.input,
                position,
                "content after the root element",
            ));
        }
        let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
        if self.stack.len() >= DEPTH_MAX {
            let mut path = self.stack_path();
            path.push('/');
            path.push_str(&name);
            return Err(Iso20022Error::TooDeep {
                path,
                max: DEPTH_MAX,
            });
        }
        let found = namespace.map_err(|prefix| {
            let message = format!("undeclared namespace prefix {prefix:?}");
            not_well_formed(self.input, position, &message)
        })?;
        let foreign_namespace = match &self.namespace {
            None => {
                self.namespace = Some(found);
                None
            }
            Some(document) if *document == found => None,
            Some(_) => Some(found),
        };
        let attributes = self.attributes(reader, start, position)?;
        self.stack.push(Node {
            name,
            foreign_namespace,
            attributes,
            children: Vec::new(),
            text: String::new(),
        });
        Ok(())
    }

    /// The element's attributes other than namespace declarations and, on the root only,
    /// `xsi:schemaLocation`. A prefixed attribute keeps its prefix in its name, so the typed
    /// layer refuses it by that name.
    fn attributes(
        &self,
        reader: &NsReader<&[u8]>,
        start: &BytesStart<'_>,
        position: usize,
    ) -> Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        for (count, attribute) in start.attributes().enumerate() {
            let attribute: Attribute<'_> =
                attribute.map_err(|e| not_well_formed(self.input, position, &e.to_string()))?;
            let key = attribute.key;
            let qualified = String::from_utf8_lossy(key.as_ref()).into_owned();
            if count >= ATTRIBUTES_PER_ELEMENT_MAX {
                return Err(Iso20022Error::UnexpectedAttribute {
                    path: self.stack_path_with(start),
                    name: qualified,
                });
            }
            if key.as_namespace_binding().is_some() {
                continue;
            }
            let (resolved, local) = reader.resolve_attribute(key);
            if let ResolveResult::Bound(ns) = resolved {
                let schema_location = ns.as_ref() == XSI_NAMESPACE
                    && local.as_ref() == b"schemaLocation"
                    && self.stack.is_empty();
                if schema_location {
                    continue;
                }
            }
            let value = attribute
                .unescape_value()
                .map_err(|e| not_well_formed(self.input, position, &e.to_string()))?;
            out.push((qualified, value.into_owned()));
        }
        Ok(out)
    }

    fn close(&mut self, position: usize) -> Result<()> {
        let Some(node) = self.stack.pop() else {
            return Err(not_well_formed(
                self.input,
                position,
                "an end tag without a start tag",
            ));
        };
        match self.stack.last_mut() {
            Some(parent) => parent.children.push(node),
            None => self.root = Some(node),
        }
        Ok(())
    }

    fn text(&mut self, text: &str, position: usize) -> Result<()> {
        match self.stack.last_mut() {
            Some(node) => {
                node.text.push_str(text);
                Ok(())
            }
            None if text.chars().all(is_xml_space) => Ok(()),
            None => Err(not_well_formed(
                self.input,
                position,
                "text outside the root element",
            )),
        }
    }

    fn reference(
        &self,
        reference: &quick_xml::events::BytesRef<'_>,
        position: usize,
    ) -> Result<String> {
        if reference.is_char_ref() {
            return match reference.resolve_char_ref() {
                Ok(Some(c)) => Ok(c.to_string()),
                Ok(None) | Err(_) => Err(not_well_formed(
                    self.input,
                    position,
                    "an invalid character reference",
                )),
            };
        }
        let name = String::from_utf8_lossy(reference.as_ref()).into_owned();
        match quick_xml::escape::resolve_predefined_entity(&name) {
            Some(text) => Ok(text.to_owned()),
            None => Err(not_well_formed(
                self.input,
                position,
                &format!("undeclared entity &{name};"),
            )),
        }
    }

    fn decoded<E: std::fmt::Display>(
        &self,
        text: std::result::Result<std::borrow::Cow<'_, str>, E>,
        position: usize,
    ) -> Result<String> {
        text.map(std::borrow::Cow::into_owned)
            .map_err(|e| not_well_formed(self.input, position, &e.to_string()))
    }

    fn finish(self) -> Result<Document> {
        if let Some(open) = self.stack.last() {
            let message = format!("the document ends inside <{}>", open.name);
            return Err(not_well_formed(self.input, self.input.len(), &message));
        }
        match (self.root, self.namespace) {
            (Some(root), Some(namespace)) => Ok(Document { namespace, root }),
            _ => Err(not_well_formed(
                self.input,
                self.input.len(),
                "no root element",
            )),
        }
    }

    fn stack_path(&self) -> String {
        let mut path = String::new();
        for node in &self.stack {
            path.push('/');
            path.push_str(&node.name);
        }
        path
    }

    fn stack_path_with(&self, start: &BytesStart<'_>) -> String {
        let mut path = self.stack_path();
        path.push('/');
        path.push_str(&String::from_utf8_lossy(start.local_name().as_ref()));
        path
    }
}

/// The namespace an element is in (`""` for none), or the undeclared prefix it uses.
fn resolved_namespace(resolved: ResolveResult<'_>) -> std::result::Result<String, String> {
    match resolved {
        ResolveResult::Unbound => Ok(String::new()),
        ResolveResult::Bound(ns) => Ok(String::from_utf8_lossy(ns.as_ref()).into_owned()),
        ResolveResult::Unknown(prefix) => Err(String::from_utf8_lossy(&prefix).into_owned()),
    }
}

fn check_declaration(decl: &quick_xml::events::BytesDecl<'_>) -> Result<()> {
    if let Some(Ok(encoding)) = decl.encoding() {
        let encoding = String::from_utf8_lossy(&encoding).into_owned();
        if !encoding.eq_ignore_ascii_case("UTF-8") {
            return Err(Iso20022Error::UnsupportedEncoding { found: encoding });
        }
    }
    Ok(())
}

fn not_well_formed(input: &[u8], position: usize, message: &str) -> Iso20022Error {
    let (line, column) = line_and_column(input, position);
    Iso20022Error::NotWellFormed {
        line,
        column,
        message: super::error::quoted(message),
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_and_column(input: &[u8], position: usize) -> (usize, usize) {
    let before = input.get(..position.min(input.len())).unwrap_or(input);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let tail = before.get(line_start..).unwrap_or_default();
    let column = String::from_utf8_lossy(tail).chars().count() + 1;
    (line, column)
}

pub(crate) fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

// ---------------------------------------------------------------------------------------------
// Sequences: the children an XSD complex type allows, in order.

/// One element of an XSD sequence: its name and how often it may occur.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    pub name: &'static str,
    pub min: u8,
    pub repeats: bool,
}

/// Exactly once.
pub(crate) const fn one(name: &'static str) -> Field {
    Field {
        name,
        min: 1,
        repeats: false,
    }
}
/// At most once.
pub(crate) const fn opt(name: &'static str) -> Field {
    Field {
        name,
        min: 0,
        repeats: false,
    }
}
/// Any number of times.
pub(crate) const fn many(name: &'static str) -> Field {
    Field {
        name,
        min: 0,
        repeats: true,
    }
}
/// At least once.
pub(crate) const fn some(name: &'static str) -> Field {
    Field {
        name,
        min: 1,
        repeats: true,
    }
}

/// A value that is one XML element.
pub(crate) trait Xml: Sized {
    fn read(node: &Node, path: &str) -> Result<Self>;
    fn write(&self, w: &mut Writer, name: &str);
}

/// The children of an element, checked against its sequence.
#[derive(Debug)]
pub(crate) struct Seq<'a> {
    node: &'a Node,
    path: String,
    fields: &'a [Field],
}

/// Checks that `node` is a complex element (no attributes, no text) whose children follow
/// `fields` in order, each within its bounds and in the document's namespace.
pub(crate) fn seq<'a>(node: &'a Node, path: &str, fields: &'a [Field]) -> Result<Seq<'a>> {
    complex(node, path)?;
    let mut counts = vec![0_u32; fields.len()];
    let mut at = 0_usize;
    for (i, child) in node.children.iter().enumerate() {
        let rest = node.children.get(i + 1..).unwrap_or_default();
        let ahead = fields.get(at..).unwrap_or_default();
        match ahead.iter().position(|f| f.name == child.name) {
            Some(step) => {
                for skipped in at..at + step {
                    check_min(fields, &counts, skipped, path, child, rest)?;
                }
                at += step;
                let count = counts.get_mut(at).map_or(0, |c| {
                    *c += 1;
                    *c
                });
                let repeats = fields.get(at).is_some_and(|f| f.repeats);
                if count > 1 && !repeats {
                    return Err(Iso20022Error::DuplicateElement {
                        path: format!("{path}/{}", child.name),
                    });
                }
            }
            None => return Err(misplaced(fields, &counts, at, path, child)),
        }
    }
    for index in at..fields.len() {
        if let Some(f) = fields.get(index) {
            let count = counts.get(index).copied().unwrap_or(0);
            if count < u32::from(f.min) {
                return Err(Iso20022Error::MissingElement {
                    path: format!("{path}/{}", f.name),
                });
            }
        }
    }
    let path = path.to_owned();
    Ok(Seq { node, path, fields })
}

/// The required field at `index` was passed over before `child`: it is missing, or — when it
/// comes later — out of order.
fn check_min(
    fields: &[Field],
    counts: &[u32],
    index: usize,
    path: &str,
    child: &Node,
    rest: &[Node],
) -> Result<()> {
    let Some(field) = fields.get(index) else {
        return Ok(());
    };
    if counts.get(index).copied().unwrap_or(0) >= u32::from(field.min) {
        return Ok(());
    }
    if rest.iter().any(|n| n.name == field.name) {
        return Err(Iso20022Error::UnexpectedElement {
            path: path.to_owned(),
            found: child.name.clone(),
            expected: field.name.to_owned(),
        });
    }
    Err(Iso20022Error::MissingElement {
        path: format!("{path}/{}", field.name),
    })
}

/// `child` matches no field from `at` on: a repeat of an earlier one-off field, an element out
/// of order, or one the sequence does not have.
fn misplaced(
    fields: &[Field],
    counts: &[u32],
    at: usize,
    path: &str,
    child: &Node,
) -> Iso20022Error {
    let earlier = fields
        .iter()
        .zip(counts)
        .take(at)
        .find(|(f, _)| f.name == child.name);
    if let Some((f, &count)) = earlier {
        if count >= 1 && !f.repeats {
            return Iso20022Error::DuplicateElement {
                path: format!("{path}/{}", child.name),
            };
        }
    }
    Iso20022Error::UnexpectedElement {
        path: path.to_owned(),
        found: child.name.clone(),
        expected: allowed_here(fields, counts, at, path),
    }
}

/// The names that could come next, for error messages: `"A, B or C"`.
fn allowed_here(fields: &[Field], counts: &[u32], at: usize, path: &str) -> String {
    let mut names = Vec::new();
    for (index, f) in fields.iter().enumerate().skip(at) {
        let count = counts.get(index).copied().unwrap_or(0);
        if count == 0 || f.repeats {
            names.push(f.name);
        }
        if count < u32::from(f.min) {
            break;
        }
    }
    match names.split_last() {
        None => format!("the end of {}", last_segment(path)),
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

fn last_segment(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

impl<'a> Seq<'a> {
    fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    fn child_path(&self, name: &str, index: usize) -> String {
        if self.field(name).is_some_and(|f| f.repeats) {
            format!("{}/{name}[{}]", self.path, index + 1)
        } else {
            format!("{}/{name}", self.path)
        }
    }

    /// The path of this element's child `name` (for errors about a value).
    pub fn path_of(&self, name: &str) -> String {
        self.child_path(name, 0)
    }

    /// The required child `name` itself, with its path (for elements read by hand).
    pub fn child(&self, name: &str) -> Result<(&'a Node, String)> {
        match self.node.children.iter().find(|n| n.name == name) {
            Some(node) => Ok((node, self.child_path(name, 0))),
            None => Err(Iso20022Error::MissingElement {
                path: self.child_path(name, 0),
            }),
        }
    }

    /// The optional child `name` itself, with its path.
    pub fn opt_child(&self, name: &str) -> Option<(&'a Node, String)> {
        let node = self.node.children.iter().find(|n| n.name == name)?;
        Some((node, self.child_path(name, 0)))
    }

    pub fn req<T: Xml>(&self, name: &str) -> Result<T> {
        match self.opt(name)? {
            Some(value) => Ok(value),
            None => Err(Iso20022Error::MissingElement {
                path: self.child_path(name, 0),
            }),
        }
    }

    pub fn opt<T: Xml>(&self, name: &str) -> Result<Option<T>> {
        match self.node.children.iter().find(|n| n.name == name) {
            Some(node) => T::read(node, &self.child_path(name, 0)).map(Some),
            None => Ok(None),
        }
    }

    pub fn all<T: Xml>(&self, name: &str) -> Result<Vec<T>> {
        let nodes = self.node.children.iter().filter(|n| n.name == name);
        nodes
            .enumerate()
            .map(|(i, node)| T::read(node, &self.child_path(name, i)))
            .collect()
    }

    /// Children named `name` (for counting, e.g. against `NbOfTxs`).
    pub fn count(&self, name: &str) -> usize {
        self.node.children.iter().filter(|n| n.name == name).count()
    }
}

/// An XSD choice: exactly one child, named one of `options`. Returns its name and the child.
pub(crate) fn choice<'a>(
    node: &'a Node,
    path: &str,
    options: &[&'static str],
) -> Result<(&'static str, &'a Node, String)> {
    complex(node, path)?;
    let mut children = node.children.iter();
    let Some(child) = children.next() else {
        return Err(Iso20022Error::MissingElement {
            path: format!("{path}/({})", options.join("|")),
        });
    };
    let Some(name) = options.iter().find(|o| **o == child.name) else {
        return Err(Iso20022Error::UnexpectedElement {
            path: path.to_owned(),
            found: child.name.clone(),
            expected: options.join(" or "),
        });
    };
    if let Some(extra) = children.next() {
        return Err(Iso20022Error::UnexpectedElement {
            path: path.to_owned(),
            found: extra.name.clone(),
            expected: format!("the end of {}", last_segment(path)),
        });
    }
    Ok((name, child, format!("{path}/{name}")))
}

/// A complex element: no attributes, only whitespace as text, children in the namespace.
fn complex(node: &Node, path: &str) -> Result<()> {
    no_attributes(node, path)?;
    if !node.text.chars().all(is_xml_space) {
        return Err(Iso20022Error::UnexpectedText {
            path: path.to_owned(),
        });
    }
    for child in &node.children {
        if let Some(found) = &child.foreign_namespace {
            return Err(Iso20022Error::WrongNamespace {
                path: format!("{path}/{}", child.name),
                expected: "the document's namespace".to_owned(),
                found: found.clone(),
            });
        }
    }
    Ok(())
}

fn no_attributes(node: &Node, path: &str) -> Result<()> {
    match node.attributes.first() {
        Some((name, _)) => Err(Iso20022Error::UnexpectedAttribute {
            path: path.to_owned(),
            name: name.clone(),
        }),
        None => Ok(()),
    }
}

/// The text of a simple element with no attributes.
pub(crate) fn leaf_text<'a>(node: &'a Node, path: &str) -> Result<&'a str> {
    no_attributes(node, path)?;
    simple_content(node, path)
}

/// The text of a simple element that may carry attributes (checked by the caller).
pub(crate) fn simple_content<'a>(node: &'a Node, path: &str) -> Result<&'a str> {
    match node.children.first() {
        Some(child) => Err(Iso20022Error::UnexpectedElement {
            path: path.to_owned(),
            found: child.name.clone(),
            expected: "text only".to_owned(),
        }),
        None => Ok(&node.text),
    }
}

/// XML Schema's `whiteSpace="collapse"` for values that are not free text (codes, numbers,
/// dates): surrounding whitespace is not part of the value.
pub(crate) fn collapsed(text: &str) -> &str {
    text.trim_matches(is_xml_space)
}

// ---------------------------------------------------------------------------------------------
// Writing.

/// Writes indented XML. Infallible: text is escaped with quick-xml's escaper.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    out: String,
    depth: usize,
}

impl Writer {
    pub fn document(namespace: &str, message: &str, body: impl FnOnce(&mut Writer)) -> String {
        let mut w = Writer::default();
        w.out
            .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            w.out,
            "<Document xmlns=\"{}\">",
            quick_xml::escape::escape(namespace)
        );
        w.depth = 1;
        w.group(message, body);
        w.out.push_str("</Document>\n");
        w.out
    }

    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    /// A complex element whose children `body` writes.
    pub fn group(&mut self, name: &str, body: impl FnOnce(&mut Writer)) {
        self.indent();
        let _ = writeln!(self.out, "<{name}>");
        self.depth += 1;
        body(self);
        self.depth -= 1;
        self.indent();
        let _ = writeln!(self.out, "</{name}>");
    }

    pub fn text(&mut self, name: &str, text: &str) {
        self.indent();
        let _ = writeln!(
            self.out,
            "<{name}>{}</{name}>",
            quick_xml::escape::escape(text)
        );
    }

    pub fn text_with_attribute(&mut self, name: &str, attribute: (&str, &str), text: &str) {
        self.indent();
        let (key, value) = attribute;
        let value = quick_xml::escape::escape(value);
        let text = quick_xml::escape::escape(text);
        let _ = writeln!(self.out, "<{name} {key}=\"{value}\">{text}</{name}>");
    }

    pub fn el<T: Xml>(&mut self, name: &str, value: &T) {
        value.write(self, name);
    }

    pub fn opt<T: Xml>(&mut self, name: &str, value: &Option<T>) {
        if let Some(value) = value {
            value.write(self, name);
        }
    }

    pub fn all<T: Xml>(&mut self, name: &str, values: &[T]) {
        for value in values {
            value.write(self, name);
        }
    }
}
