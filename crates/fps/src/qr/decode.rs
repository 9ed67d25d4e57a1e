//! Payload → typed code. The checks run in a fixed order, and the first failure is the answer:
//! the top-level structure, field 00 first, duplicate fields, the CRC (present, last, well
//! formed, right), the templates' structure, the mandatory fields, then each value in the
//! order of its id, and last the rules between fields.

use bauhinia_core::Currency;

use super::crc;
use super::error::{QrError, ValueProblem};
use super::model::{
    parse_currency, AdditionalData, AlternateLanguage, Amount, EmailAddress, Field, FpsAccount,
    FpsId, FpsQr, Initiation, LanguageCode, MerchantCategoryCode, MobileNumber, ParticipantCode,
    Proxy, Text,
};
use super::tlv::{self, FieldId, FieldPath, RawField};

/// The longest payload EMVCo allows, in characters.
pub const PAYLOAD_CHARS_MAX: usize = 512;

/// The FPS globally unique identifier, sub-field 26.00.
pub const FPS_IDENTIFIER: &str = "hk.com.hkicl";

/// A decoded payload: the typed code, and every field as it stands (with positions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub qr: FpsQr,
    pub fields: Vec<RawField>,
    /// Field 63 as written.
    pub crc: String,
}

/// Decodes raw bytes (as a scanner returns them): they must be UTF-8.
pub fn decode_bytes(bytes: &[u8]) -> Result<Decoded, QrError> {
    let text = std::str::from_utf8(bytes).map_err(|e| QrError::NotUtf8 {
        byte_offset: e.valid_up_to(),
    })?;
    decode(text)
}

/// Decodes a payload.
pub fn decode(payload: &str) -> Result<Decoded, QrError> {
    if payload.is_empty() {
        return Err(QrError::Empty);
    }
    let chars: Vec<char> = payload.chars().collect();
    if chars.len() > PAYLOAD_CHARS_MAX {
        return Err(QrError::TooLong { chars: chars.len() });
    }
    let mut fields = tlv::split(&chars, 0).map_err(QrError::Malformed)?;
    match fields.first() {
        Some(first) if first.id == FieldId::PAYLOAD_FORMAT => {}
        Some(first) => return Err(QrError::FormatIndicatorNotFirst { found: first.id }),
        None => return Err(QrError::Empty),
    }
    no_duplicates(&fields, None)?;
    let crc = check_crc(payload, &fields)?;
    split_templates(&mut fields)?;
    let qr = typed(&fields)?;
    Ok(Decoded { qr, fields, crc })
}

fn no_duplicates(fields: &[RawField], template: Option<FieldId>) -> Result<(), QrError> {
    for (i, field) in fields.iter().enumerate() {
        let earlier = fields.get(..i).unwrap_or_default();
        if let Some(first) = earlier.iter().find(|f| f.id == field.id) {
            return Err(QrError::DuplicateField {
                field: FieldPath {
                    template,
                    id: field.id,
                },
                first_position: first.position,
                position: field.position,
            });
        }
    }
    Ok(())
}

/// Field 63 is there, last, 4 hex digits, and the CRC of everything before its value.
fn check_crc(payload: &str, fields: &[RawField]) -> Result<String, QrError> {
    let index = fields
        .iter()
        .position(|f| f.id == FieldId::CRC)
        .ok_or(QrError::MissingField {
            field: FieldPath::top(FieldId::CRC),
        })?;
    let (Some(field), next) = (fields.get(index), fields.get(index + 1)) else {
        return Err(QrError::MissingField {
            field: FieldPath::top(FieldId::CRC),
        });
    };
    if let Some(next) = next {
        return Err(QrError::CrcNotLast {
            position: field.position,
            next: next.id,
            next_position: next.position,
        });
    }
    let found = &field.value;
    if found.len() != 4 || !found.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(QrError::CrcMalformed {
            position: field.position,
            found: found.clone(),
        });
    }
    // The field is last and its value 4 ASCII characters: the checked bytes are all the others.
    let checked = payload
        .as_bytes()
        .get(..payload.len() - 4)
        .unwrap_or_default();
    let expected = crc::checksum_hex(checked);
    // Lower-case hex digits are read too (some writers use them); Bauhinia writes upper case.
    if !expected.eq_ignore_ascii_case(found) {
        return Err(QrError::CrcMismatch {
            position: field.position,
            expected,
            found: found.clone(),
        });
    }
    Ok(found.clone())
}

fn split_templates(fields: &mut [RawField]) -> Result<(), QrError> {
    for field in fields.iter_mut().filter(|f| f.id.is_template()) {
        let chars: Vec<char> = field.value.chars().collect();
        let subs = tlv::split(&chars, field.value_position()).map_err(|fault| {
            QrError::TemplateMalformed {
                template: field.id,
                template_position: field.position,
                fault,
            }
        })?;
        no_duplicates(&subs, Some(field.id))?;
        field.sub_fields = subs;
    }
    Ok(())
}

const MANDATORY: [FieldId; 6] = [
    FieldId::FPS_ACCOUNT,
    FieldId::MERCHANT_CATEGORY,
    FieldId::CURRENCY,
    FieldId::COUNTRY,
    FieldId::MERCHANT_NAME,
    FieldId::MERCHANT_CITY,
];

/// The field ids the typed model holds; every other top-level field is kept verbatim.
pub(crate) const TYPED_FIELDS: [FieldId; 12] = [
    FieldId::PAYLOAD_FORMAT,
    FieldId::INITIATION,
    FieldId::FPS_ACCOUNT,
    FieldId::MERCHANT_CATEGORY,
    FieldId::CURRENCY,
    FieldId::AMOUNT,
    FieldId::COUNTRY,
    FieldId::MERCHANT_NAME,
    FieldId::MERCHANT_CITY,
    FieldId::ADDITIONAL_DATA,
    FieldId::CRC,
    FieldId::LANGUAGE_TEMPLATE,
];

fn find(fields: &[RawField], id: FieldId) -> Option<&RawField> {
    fields.iter().find(|f| f.id == id)
}

fn required(fields: &[RawField], id: FieldId) -> Result<&RawField, QrError> {
    find(fields, id).ok_or(QrError::MissingField {
        field: FieldPath::top(id),
    })
}

/// Parses one field's value, naming the field and its position on failure.
fn value<T>(
    field: &RawField,
    template: Option<FieldId>,
    parse: impl FnOnce(&str) -> Result<T, ValueProblem>,
) -> Result<T, QrError> {
    parse(&field.value).map_err(|problem| QrError::InvalidValue {
        field: FieldPath {
            template,
            id: field.id,
        },
        position: field.position,
        found: field.value.clone(),
        problem,
    })
}

fn kept(fields: &[RawField], typed: &[FieldId]) -> Vec<Field> {
    fields
        .iter()
        .filter(|f| !typed.contains(&f.id))
        .map(|f| Field {
            id: f.id,
            value: f.value.clone(),
        })
        .collect()
}

fn typed(fields: &[RawField]) -> Result<FpsQr, QrError> {
    for id in MANDATORY {
        required(fields, id)?;
    }
    let format = required(fields, FieldId::PAYLOAD_FORMAT)?;
    value(format, None, |v| {
        (v == "01").then_some(()).ok_or(ValueProblem::PayloadFormat)
    })?;
    let initiation_field = find(fields, FieldId::INITIATION);
    let initiation = initiation_field
        .map(|f| value(f, None, Initiation::parse))
        .transpose()?;
    let account = fps_account(required(fields, FieldId::FPS_ACCOUNT)?)?;
    let merchant_category_code = value(
        required(fields, FieldId::MERCHANT_CATEGORY)?,
        None,
        MerchantCategoryCode::parse,
    )?;
    let currency: Currency = value(required(fields, FieldId::CURRENCY)?, None, parse_currency)?;
    let amount = find(fields, FieldId::AMOUNT)
        .map(|f| value(f, None, Amount::parse))
        .transpose()?;
    value(required(fields, FieldId::COUNTRY)?, None, |v| {
        (v == "HK").then_some(()).ok_or(ValueProblem::Country)
    })?;
    let merchant_name = value(
        required(fields, FieldId::MERCHANT_NAME)?,
        None,
        Text::parse_any,
    )?;
    let merchant_city = value(
        required(fields, FieldId::MERCHANT_CITY)?,
        None,
        Text::parse_any,
    )?;
    let additional_data = find(fields, FieldId::ADDITIONAL_DATA)
        .map(additional_data)
        .transpose()?;
    let alternate_language = find(fields, FieldId::LANGUAGE_TEMPLATE)
        .map(alternate_language)
        .transpose()?;
    if let (Some(field), Some(Initiation::Dynamic), None) = (initiation_field, initiation, &amount)
    {
        return Err(QrError::DynamicWithoutAmount {
            position: field.position,
        });
    }
    Ok(FpsQr {
        initiation,
        account,
        merchant_category_code,
        currency,
        amount,
        merchant_name,
        merchant_city,
        additional_data,
        alternate_language,
        other: kept(fields, &TYPED_FIELDS),
    })
}

fn fps_account(field: &RawField) -> Result<FpsAccount, QrError> {
    let template = Some(FieldId::FPS_ACCOUNT);
    match field.sub(FieldId::GLOBALLY_UNIQUE_ID) {
        Some(guid) if guid.value == FPS_IDENTIFIER => {}
        other => {
            return Err(QrError::MissingFpsIdentifier {
                position: field.position,
                found: other.map(|f| f.value.clone()),
            })
        }
    }
    let participant = field
        .sub(FieldId::PARTICIPANT)
        .map(|f| value(f, template, ParticipantCode::parse))
        .transpose()?;
    let mut proxies = Vec::new();
    for sub in &field.sub_fields {
        let proxy = match sub.id {
            FieldId::FPS_ID => Proxy::FpsId(value(sub, template, FpsId::parse)?),
            FieldId::MOBILE => Proxy::Mobile(value(sub, template, MobileNumber::parse)?),
            FieldId::EMAIL => Proxy::Email(value(sub, template, EmailAddress::parse)?),
            _ => continue,
        };
        proxies.push(proxy);
    }
    let proxy = match proxies.len() {
        0 => {
            return Err(QrError::ProxyMissing {
                position: field.position,
            })
        }
        1 => proxies.pop(),
        _ => None,
    };
    let Some(proxy) = proxy else {
        return Err(QrError::ProxyAmbiguous {
            position: field.position,
            found: proxies.iter().map(Proxy::field_id).collect(),
        });
    };
    Ok(FpsAccount {
        participant,
        proxy,
        other: kept(
            &field.sub_fields,
            &[
                FieldId::GLOBALLY_UNIQUE_ID,
                FieldId::PARTICIPANT,
                FieldId::FPS_ID,
                FieldId::MOBILE,
                FieldId::EMAIL,
            ],
        ),
    })
}

fn additional_data(field: &RawField) -> Result<AdditionalData, QrError> {
    let reference_label = field
        .sub(FieldId::REFERENCE_LABEL)
        .map(|f| value(f, Some(FieldId::ADDITIONAL_DATA), Text::parse_any))
        .transpose()?;
    Ok(AdditionalData {
        reference_label,
        other: kept(&field.sub_fields, &[FieldId::REFERENCE_LABEL]),
    })
}

fn alternate_language(field: &RawField) -> Result<AlternateLanguage, QrError> {
    let template = Some(FieldId::LANGUAGE_TEMPLATE);
    let sub = |id| {
        field.sub(id).ok_or(QrError::MissingField {
            field: FieldPath::sub(FieldId::LANGUAGE_TEMPLATE, id),
        })
    };
    let language = value(sub(FieldId::LANGUAGE)?, template, LanguageCode::parse)?;
    let merchant_name = value(sub(FieldId::ALTERNATE_NAME)?, template, Text::parse_any)?;
    let merchant_city = field
        .sub(FieldId::ALTERNATE_CITY)
        .map(|f| value(f, template, Text::parse_any))
        .transpose()?;
    Ok(AlternateLanguage {
        language,
        merchant_name,
        merchant_city,
        other: kept(
            &field.sub_fields,
            &[
                FieldId::LANGUAGE,
                FieldId::ALTERNATE_NAME,
                FieldId::ALTERNATE_CITY,
            ],
        ),
    })
}
