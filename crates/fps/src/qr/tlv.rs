//! The EMVCo TLV layer: a payload is a run of fields, each a 2-digit id, a 2-digit length and
//! that many characters of value; a template's value is itself such a run. This module only
//! splits and joins; it knows no field's meaning.
//!
//! Lengths and positions count characters (Unicode scalar values), not bytes, as EMVCo counts
//! them and as the JavaScript implementations do (for text in the Basic Multilingual Plane,
//! where a character is one UTF-16 unit). Positions are 0-based offsets in the whole payload.

use std::fmt;

/// A field id, `00` to `99`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FieldId(u8);

impl FieldId {
    /// `None` above 99.
    pub const fn new(number: u8) -> Option<FieldId> {
        if number <= 99 {
            Some(FieldId(number))
        } else {
            None
        }
    }

    /// For the constants below: callers pass literals of at most 99.
    const fn known(number: u8) -> FieldId {
        FieldId(number % 100)
    }

    pub const fn number(self) -> u8 {
        self.0
    }

    /// Two ASCII digits, e.g. `"05"`.
    pub fn parse(text: &str) -> Option<FieldId> {
        match text.as_bytes() {
            [tens @ b'0'..=b'9', units @ b'0'..=b'9'] => {
                Some(FieldId((tens - b'0') * 10 + (units - b'0')))
            }
            _ => None,
        }
    }

    pub const PAYLOAD_FORMAT: FieldId = FieldId::known(0);
    pub const INITIATION: FieldId = FieldId::known(1);
    pub const FPS_ACCOUNT: FieldId = FieldId::known(26);
    pub const MERCHANT_CATEGORY: FieldId = FieldId::known(52);
    pub const CURRENCY: FieldId = FieldId::known(53);
    pub const AMOUNT: FieldId = FieldId::known(54);
    pub const COUNTRY: FieldId = FieldId::known(58);
    pub const MERCHANT_NAME: FieldId = FieldId::known(59);
    pub const MERCHANT_CITY: FieldId = FieldId::known(60);
    pub const ADDITIONAL_DATA: FieldId = FieldId::known(62);
    pub const CRC: FieldId = FieldId::known(63);
    pub const LANGUAGE_TEMPLATE: FieldId = FieldId::known(64);

    /// Sub-fields of field 26 (FPS) — and `00` of any merchant account template.
    pub const GLOBALLY_UNIQUE_ID: FieldId = FieldId::known(0);
    pub const PARTICIPANT: FieldId = FieldId::known(1);
    pub const FPS_ID: FieldId = FieldId::known(2);
    pub const MOBILE: FieldId = FieldId::known(3);
    pub const EMAIL: FieldId = FieldId::known(4);

    /// Sub-field of field 62.
    pub const REFERENCE_LABEL: FieldId = FieldId::known(5);

    /// Sub-fields of field 64.
    pub const LANGUAGE: FieldId = FieldId::known(0);
    pub const ALTERNATE_NAME: FieldId = FieldId::known(1);
    pub const ALTERNATE_CITY: FieldId = FieldId::known(2);

    /// Whether EMVCo defines this top-level field as a template (its value is TLV again):
    /// merchant account information 26–51, additional data 62, the language template 64 and
    /// the unreserved templates 80–99. (02–25 are primitive card-network account ids.)
    pub const fn is_template(self) -> bool {
        matches!(self.0, 26..=51 | 62 | 64 | 80..=99)
    }
}

impl fmt::Display for FieldId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}", self.0)
    }
}

/// Where a field sits: at the top level, or as a sub-field of a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FieldPath {
    pub template: Option<FieldId>,
    pub id: FieldId,
}

impl FieldPath {
    pub const fn top(id: FieldId) -> FieldPath {
        FieldPath { template: None, id }
    }

    pub const fn sub(template: FieldId, id: FieldId) -> FieldPath {
        FieldPath {
            template: Some(template),
            id,
        }
    }

    /// What people call the field, where EMVCo or the FPS specification names it.
    pub fn name(self) -> Option<&'static str> {
        let name = match (self.template.map(FieldId::number), self.id.number()) {
            (None, 0) => "payload format indicator",
            (None, 1) => "point of initiation method",
            (None, 26) => "FPS merchant account information",
            (None, 52) => "merchant category code",
            (None, 53) => "transaction currency",
            (None, 54) => "transaction amount",
            (None, 55) => "tip or convenience indicator",
            (None, 58) => "country code",
            (None, 59) => "merchant name",
            (None, 60) => "merchant city",
            (None, 61) => "postal code",
            (None, 62) => "additional data",
            (None, 63) => "CRC",
            (None, 64) => "merchant information in another language",
            (Some(26), 0) => "globally unique identifier",
            (Some(26), 1) => "participant code",
            (Some(26), 2) => "FPS ID",
            (Some(26), 3) => "mobile number",
            (Some(26), 4) => "email address",
            (Some(62), 1) => "bill number",
            (Some(62), 5) => "reference label",
            (Some(64), 0) => "language preference",
            (Some(64), 1) => "merchant name in another language",
            (Some(64), 2) => "merchant city in another language",
            _ => return None,
        };
        Some(name)
    }

    /// The field for a person: `field 59 (merchant name)`, `sub-field 02 (FPS ID) of field 26`.
    pub fn describe(self) -> String {
        let named = match self.name() {
            Some(name) => format!("{} ({name})", self.id),
            None => self.id.to_string(),
        };
        match self.template {
            None => format!("field {named}"),
            Some(template) => format!("sub-field {named} of field {template}"),
        }
    }
}

/// `59` or `26.02`: the machine form, used in JSON.
impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.template {
            None => write!(f, "{}", self.id),
            Some(template) => write!(f, "{template}.{}", self.id),
        }
    }
}

/// One field as it stands in the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawField {
    pub id: FieldId,
    /// 0-based character offset of the field's id in the whole payload.
    pub position: usize,
    /// The value, verbatim.
    pub value: String,
    /// For a template (see [`FieldId::is_template`]) at the top level, its sub-fields; else
    /// empty. Sub-fields are not split further.
    pub sub_fields: Vec<RawField>,
}

impl RawField {
    /// The first sub-field with this id.
    pub fn sub(&self, id: FieldId) -> Option<&RawField> {
        self.sub_fields.iter().find(|f| f.id == id)
    }

    /// 0-based character offset of the first character of the value.
    pub fn value_position(&self) -> usize {
        self.position + HEADER_CHARS
    }
}

/// Id and length: 2 + 2 characters.
pub const HEADER_CHARS: usize = 4;

/// The largest length two digits can say.
pub const VALUE_CHARS_MAX: usize = 99;

/// What is wrong with a run of fields, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlvFault {
    /// The two characters where an id should be are not two digits.
    IdNotDigits { position: usize, found: String },
    /// The two characters after the id are not two digits.
    LengthNotDigits {
        id: FieldId,
        position: usize,
        found: String,
    },
    /// Fewer than 4 characters (id and length) remain where a field should start.
    TruncatedHeader { position: usize, remaining: usize },
    /// The length says more characters than remain.
    TruncatedValue {
        id: FieldId,
        position: usize,
        declared: usize,
        remaining: usize,
    },
    /// The length is `00`: EMVCo values are 1 to 99 characters.
    EmptyValue { id: FieldId, position: usize },
}

impl TlvFault {
    /// The stable machine name of the fault.
    pub const fn code(&self) -> &'static str {
        match self {
            TlvFault::IdNotDigits { .. } => "id_not_digits",
            TlvFault::LengthNotDigits { .. } => "length_not_digits",
            TlvFault::TruncatedHeader { .. } => "truncated_header",
            TlvFault::TruncatedValue { .. } => "truncated_value",
            TlvFault::EmptyValue { .. } => "empty_value",
        }
    }

    /// 0-based character offset of the fault in the whole payload.
    pub const fn position(&self) -> usize {
        match self {
            TlvFault::IdNotDigits { position, .. }
            | TlvFault::LengthNotDigits { position, .. }
            | TlvFault::TruncatedHeader { position, .. }
            | TlvFault::TruncatedValue { position, .. }
            | TlvFault::EmptyValue { position, .. } => *position,
        }
    }

    /// The field at fault, where its id could be read.
    pub const fn id(&self) -> Option<FieldId> {
        match self {
            TlvFault::IdNotDigits { .. } | TlvFault::TruncatedHeader { .. } => None,
            TlvFault::LengthNotDigits { id, .. }
            | TlvFault::TruncatedValue { id, .. }
            | TlvFault::EmptyValue { id, .. } => Some(*id),
        }
    }

    /// The fault for a person. `inside` names the template the run is in (`None`: the payload).
    pub fn describe(&self, inside: Option<FieldId>) -> String {
        let (field, run) = match inside {
            None => ("field".to_owned(), "the payload".to_owned()),
            Some(template) => ("sub-field".to_owned(), format!("field {template}'s value")),
        };
        match self {
            TlvFault::IdNotDigits { position, found } => {
                format!("the {field} id at position {position} is '{found}', not two digits")
            }
            TlvFault::LengthNotDigits {
                id,
                position,
                found,
            } => {
                format!("{field} {id} at position {position} has length '{found}', not two digits")
            }
            TlvFault::TruncatedHeader {
                position,
                remaining,
            } => format!(
                "{run} ends at position {position} with {remaining} character{s} where a {field} \
                 id and length (4 characters) should be",
                s = plural(*remaining)
            ),
            TlvFault::TruncatedValue {
                id,
                position,
                declared,
                remaining,
            } => format!(
                "{field} {id} at position {position} declares {declared} character{s} of value \
                 but {run} has only {remaining} left",
                s = plural(*declared)
            ),
            TlvFault::EmptyValue { id, position } => format!(
                "{field} {id} at position {position} has length 00; a value is 1 to 99 characters"
            ),
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Splits `chars` (which start at character offset `base` of the payload) into fields.
/// Sub-fields are not split.
pub fn split(chars: &[char], base: usize) -> Result<Vec<RawField>, TlvFault> {
    let mut fields = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        let position = base + at;
        let remaining = chars.len() - at;
        let (Some(id_chars), Some(length_chars)) =
            (chars.get(at..at + 2), chars.get(at + 2..at + 4))
        else {
            return Err(TlvFault::TruncatedHeader {
                position,
                remaining,
            });
        };
        let id_text: String = id_chars.iter().collect();
        let id = FieldId::parse(&id_text).ok_or(TlvFault::IdNotDigits {
            position,
            found: id_text,
        })?;
        let length_text: String = length_chars.iter().collect();
        let length = FieldId::parse(&length_text)
            .map(|n| usize::from(n.number()))
            .ok_or(TlvFault::LengthNotDigits {
                id,
                position,
                found: length_text,
            })?;
        if length == 0 {
            return Err(TlvFault::EmptyValue { id, position });
        }
        let start = at + HEADER_CHARS;
        let value = chars
            .get(start..start + length)
            .ok_or(TlvFault::TruncatedValue {
                id,
                position,
                declared: length,
                remaining: chars.len() - start,
            })?;
        fields.push(RawField {
            id,
            position,
            value: value.iter().collect(),
            sub_fields: Vec::new(),
        });
        at = start + length;
    }
    Ok(fields)
}

/// Appends one field. The caller has checked that `value` is 1 to 99 characters.
pub fn push_field(out: &mut String, id: FieldId, value: &str) {
    let chars = value.chars().count();
    out.push_str(&format!("{id}{chars:02}"));
    out.push_str(value);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    #[test]
    fn splits_fields_with_positions() {
        let fields = split(&chars("000201010211"), 0).unwrap();
        assert_eq!(fields.len(), 2);
        assert_eq!(fields[0].id, FieldId::PAYLOAD_FORMAT);
        assert_eq!(fields[0].value, "01");
        assert_eq!(fields[1].position, 6);
        assert_eq!(fields[1].value, "11");
    }

    #[test]
    fn counts_characters_not_bytes() {
        let fields = split(&chars("5904香港茶餐6002HK"), 10).unwrap();
        assert_eq!(fields[0].value, "香港茶餐");
        assert_eq!(fields[1].position, 18);
    }

    #[test]
    fn faults() {
        assert_eq!(
            split(&chars("0002"), 0),
            Err(TlvFault::TruncatedValue {
                id: FieldId::PAYLOAD_FORMAT,
                position: 0,
                declared: 2,
                remaining: 0
            })
        );
        assert_eq!(
            split(&chars("00020101"), 0),
            Err(TlvFault::TruncatedHeader {
                position: 6,
                remaining: 2
            })
        );
        assert_eq!(
            split(&chars("0a0201"), 3),
            Err(TlvFault::IdNotDigits {
                position: 3,
                found: "0a".to_owned()
            })
        );
        assert_eq!(
            split(&chars("00x201"), 0),
            Err(TlvFault::LengthNotDigits {
                id: FieldId::PAYLOAD_FORMAT,
                position: 0,
                found: "x2".to_owned()
            })
        );
        assert_eq!(
            split(&chars("0000"), 0),
            Err(TlvFault::EmptyValue {
                id: FieldId::PAYLOAD_FORMAT,
                position: 0
            })
        );
    }

    #[test]
    fn paths_read_well() {
        let p = FieldPath::sub(FieldId::FPS_ACCOUNT, FieldId::FPS_ID);
        assert_eq!(p.to_string(), "26.02");
        assert_eq!(p.describe(), "sub-field 02 (FPS ID) of field 26");
        assert_eq!(
            FieldPath::top(FieldId::MERCHANT_NAME).describe(),
            "field 59 (merchant name)"
        );
        assert_eq!(FieldPath::top(FieldId::known(81)).describe(), "field 81");
    }
}
