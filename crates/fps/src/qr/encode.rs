//! Typed code → payload. Typed fields are written in ascending id order (00 first, 63 last, as
//! EMVCo requires), sub-fields likewise; fields kept verbatim from a decoded payload keep their
//! order among themselves, each after the typed fields of lower id. So a decoded payload whose
//! fields were in ascending order — as writers put them — encodes back to the same characters,
//! and a decoded code always encodes to a payload that decodes back to it.

use super::crc;
use super::decode::{FPS_IDENTIFIER, PAYLOAD_CHARS_MAX, TYPED_FIELDS};
use super::error::EncodeError;
use super::model::{
    currency_numeric, AdditionalData, AlternateLanguage, Field, FpsAccount, FpsQr, Initiation,
};
use super::tlv::{self, FieldId, FieldPath, VALUE_CHARS_MAX};

/// Writes the payload, CRC included.
pub fn encode(qr: &FpsQr) -> Result<String, EncodeError> {
    if qr.initiation == Some(Initiation::Dynamic) && qr.amount.is_none() {
        return Err(EncodeError::DynamicWithoutAmount);
    }
    let mut fields: Vec<(FieldId, String)> = vec![
        (FieldId::PAYLOAD_FORMAT, "01".to_owned()),
        (FieldId::FPS_ACCOUNT, fps_account(&qr.account)?),
        (
            FieldId::MERCHANT_CATEGORY,
            qr.merchant_category_code.as_str().to_owned(),
        ),
        (FieldId::CURRENCY, currency_numeric(qr.currency).to_owned()),
        (FieldId::COUNTRY, "HK".to_owned()),
        (FieldId::MERCHANT_NAME, qr.merchant_name.as_str().to_owned()),
        (FieldId::MERCHANT_CITY, qr.merchant_city.as_str().to_owned()),
    ];
    if let Some(initiation) = qr.initiation {
        fields.push((FieldId::INITIATION, initiation.code().to_owned()));
    }
    if let Some(amount) = &qr.amount {
        fields.push((FieldId::AMOUNT, amount.as_str().to_owned()));
    }
    if let Some(data) = &qr.additional_data {
        if let Some(value) = additional_data(data)? {
            fields.push((FieldId::ADDITIONAL_DATA, value));
        }
    }
    if let Some(alternate) = &qr.alternate_language {
        fields.push((FieldId::LANGUAGE_TEMPLATE, alternate_language(alternate)?));
    }
    check_kept(&qr.other, None, &TYPED_FIELDS)?;
    let mut payload = join(fields, &qr.other, None)?;
    payload.push_str("6304");
    let crc = crc::checksum_hex(payload.as_bytes());
    payload.push_str(&crc);
    let chars = payload.chars().count();
    if chars > PAYLOAD_CHARS_MAX {
        return Err(EncodeError::PayloadTooLong { chars });
    }
    Ok(payload)
}

fn fps_account(account: &FpsAccount) -> Result<String, EncodeError> {
    let mut subs = vec![
        (FieldId::GLOBALLY_UNIQUE_ID, FPS_IDENTIFIER.to_owned()),
        (account.proxy.field_id(), account.proxy.as_str().to_owned()),
    ];
    if let Some(participant) = &account.participant {
        subs.push((FieldId::PARTICIPANT, participant.as_str().to_owned()));
    }
    let template = Some(FieldId::FPS_ACCOUNT);
    let typed = [
        FieldId::GLOBALLY_UNIQUE_ID,
        FieldId::PARTICIPANT,
        FieldId::FPS_ID,
        FieldId::MOBILE,
        FieldId::EMAIL,
    ];
    check_kept(&account.other, template, &typed)?;
    template_value(FieldId::FPS_ACCOUNT, join(subs, &account.other, template)?)
}

/// `None` when there is nothing to write.
fn additional_data(data: &AdditionalData) -> Result<Option<String>, EncodeError> {
    let template = Some(FieldId::ADDITIONAL_DATA);
    let mut subs = Vec::new();
    if let Some(label) = &data.reference_label {
        subs.push((FieldId::REFERENCE_LABEL, label.as_str().to_owned()));
    }
    check_kept(&data.other, template, &[FieldId::REFERENCE_LABEL])?;
    if subs.is_empty() && data.other.is_empty() {
        return Ok(None);
    }
    template_value(FieldId::ADDITIONAL_DATA, join(subs, &data.other, template)?).map(Some)
}

fn alternate_language(alternate: &AlternateLanguage) -> Result<String, EncodeError> {
    let template = Some(FieldId::LANGUAGE_TEMPLATE);
    let mut subs = vec![
        (FieldId::LANGUAGE, alternate.language.as_str().to_owned()),
        (
            FieldId::ALTERNATE_NAME,
            alternate.merchant_name.as_str().to_owned(),
        ),
    ];
    if let Some(city) = &alternate.merchant_city {
        subs.push((FieldId::ALTERNATE_CITY, city.as_str().to_owned()));
    }
    let typed = [
        FieldId::LANGUAGE,
        FieldId::ALTERNATE_NAME,
        FieldId::ALTERNATE_CITY,
    ];
    check_kept(&alternate.other, template, &typed)?;
    template_value(
        FieldId::LANGUAGE_TEMPLATE,
        join(subs, &alternate.other, template)?,
    )
}

fn template_value(id: FieldId, value: String) -> Result<String, EncodeError> {
    let chars = value.chars().count();
    if chars > VALUE_CHARS_MAX {
        return Err(EncodeError::FieldTooLong {
            field: FieldPath::top(id),
            chars,
        });
    }
    Ok(value)
}

/// Checks fields kept verbatim, refusing what would not decode back to them.
fn check_kept(
    kept: &[Field],
    template: Option<FieldId>,
    typed: &[FieldId],
) -> Result<(), EncodeError> {
    for (i, field) in kept.iter().enumerate() {
        let path = FieldPath {
            template,
            id: field.id,
        };
        if typed.contains(&field.id) {
            return Err(EncodeError::ExtraFieldNotAllowed { field: path });
        }
        if kept
            .get(..i)
            .unwrap_or_default()
            .iter()
            .any(|f| f.id == field.id)
        {
            return Err(EncodeError::DuplicateField { field: path });
        }
        if template.is_none() && field.id.is_template() {
            let chars: Vec<char> = field.value.chars().collect();
            let subs =
                tlv::split(&chars, 0).map_err(|fault| EncodeError::ExtraTemplateMalformed {
                    field: path,
                    detail: fault.describe(Some(field.id)),
                })?;
            if let Some(duplicate) = subs.iter().enumerate().find(|(j, s)| {
                subs.get(..*j)
                    .unwrap_or_default()
                    .iter()
                    .any(|t| t.id == s.id)
            }) {
                return Err(EncodeError::ExtraTemplateMalformed {
                    field: path,
                    detail: format!("sub-field {} appears twice", duplicate.1.id),
                });
            }
        }
    }
    Ok(())
}

/// Writes the typed fields in ascending id order and the kept ones in their own order, each
/// kept field after every typed field of lower id; checks each length.
fn join(
    mut typed: Vec<(FieldId, String)>,
    kept: &[Field],
    template: Option<FieldId>,
) -> Result<String, EncodeError> {
    typed.sort_by_key(|(id, _)| *id);
    let mut typed = typed.into_iter().peekable();
    let mut ordered = Vec::with_capacity(typed.len() + kept.len());
    for field in kept {
        while let Some(next) = typed.next_if(|(id, _)| *id < field.id) {
            ordered.push(next);
        }
        ordered.push((field.id, field.value.clone()));
    }
    ordered.extend(typed);
    let mut out = String::new();
    for (id, value) in &ordered {
        let field = FieldPath { template, id: *id };
        let chars = value.chars().count();
        if chars == 0 {
            return Err(EncodeError::EmptyField { field });
        }
        if chars > VALUE_CHARS_MAX {
            return Err(EncodeError::FieldTooLong { field, chars });
        }
        tlv::push_field(&mut out, *id, value);
    }
    Ok(out)
}
