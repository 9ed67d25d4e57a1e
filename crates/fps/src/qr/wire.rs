//! The JSON shapes of the QR API and of `bauhinia fps qr … --format json`, separate from the
//! typed model and converted explicitly. Amounts travel as decimal strings (never JSON numbers,
//! which clients parse as floats) and as integer minor units.

use bauhinia_core::{Currency, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::decode::Decoded;
use super::model::{
    AlternateLanguage, Amount, EmailAddress, FpsId, FpsQr, Initiation, LanguageCode,
    MerchantCategoryCode, MobileNumber, ParticipantCode, Proxy, Text,
};
use super::tlv::RawField;

/// A payload to decode or draw.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayloadRequest {
    /// The payload text, as a QR scanner reads it.
    #[schema(
        example = "00020101021226360012hk.com.hkicl01030040209123456789520400005303344540512.305802HK5902NA6002HK62090505INV016304AD06"
    )]
    pub payload: String,
}

/// Static (`11`, one code for many payments) or dynamic (`12`, one payment; needs an amount).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InitiationWire {
    Static,
    Dynamic,
}

impl From<Initiation> for InitiationWire {
    fn from(initiation: Initiation) -> Self {
        match initiation {
            Initiation::Static => InitiationWire::Static,
            Initiation::Dynamic => InitiationWire::Dynamic,
        }
    }
}

impl From<InitiationWire> for Initiation {
    fn from(initiation: InitiationWire) -> Self {
        match initiation {
            InitiationWire::Static => Initiation::Static,
            InitiationWire::Dynamic => Initiation::Dynamic,
        }
    }
}

/// The currencies FPS settles: field 53 `344` (HKD) or `156` (CNY).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum CurrencyWire {
    #[serde(rename = "HKD")]
    Hkd,
    #[serde(rename = "CNY")]
    Cny,
}

impl From<Currency> for CurrencyWire {
    fn from(currency: Currency) -> Self {
        match currency {
            Currency::Hkd => CurrencyWire::Hkd,
            Currency::Cny => CurrencyWire::Cny,
        }
    }
}

impl From<CurrencyWire> for Currency {
    fn from(currency: CurrencyWire) -> Self {
        match currency {
            CurrencyWire::Hkd => Currency::Hkd,
            CurrencyWire::Cny => Currency::Cny,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProxyKind {
    FpsId,
    Mobile,
    Email,
}

/// Who is paid: one FPS proxy (sub-field 26.02, 26.03 or 26.04).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProxyWire {
    #[serde(rename = "type")]
    pub kind: ProxyKind,
    /// As written in the payload: an FPS ID, `+852-XXXXXXXX`, or an email address.
    pub value: String,
}

impl From<&Proxy> for ProxyWire {
    fn from(proxy: &Proxy) -> Self {
        let kind = match proxy {
            Proxy::FpsId(_) => ProxyKind::FpsId,
            Proxy::Mobile(_) => ProxyKind::Mobile,
            Proxy::Email(_) => ProxyKind::Email,
        };
        ProxyWire {
            kind,
            value: proxy.as_str().to_owned(),
        }
    }
}

/// Field 64: the merchant's name (and city) in another language.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlternateLanguageWire {
    /// ISO 639-1, two letters, e.g. `ZH`.
    #[schema(example = "ZH")]
    pub language: String,
    /// 1 to 25 characters, any script.
    #[schema(example = "幸運茶餐廳")]
    pub merchant_name: String,
    /// 1 to 15 characters, any script.
    #[serde(default)]
    #[schema(example = "香港")]
    pub merchant_city: Option<String>,
}

impl From<&AlternateLanguage> for AlternateLanguageWire {
    fn from(alternate: &AlternateLanguage) -> Self {
        AlternateLanguageWire {
            language: alternate.language.as_str().to_owned(),
            merchant_name: alternate.merchant_name.as_str().to_owned(),
            merchant_city: alternate
                .merchant_city
                .as_ref()
                .map(|c| c.as_str().to_owned()),
        }
    }
}

/// A sub-field of a template, as it stands in the payload.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RawSubFieldWire {
    /// Two digits.
    pub id: String,
    /// 0-based character offset of the sub-field's id in the whole payload.
    pub position: usize,
    /// The value's length in characters.
    pub length: usize,
    pub value: String,
}

/// A field as it stands in the payload, with its sub-fields when it is a template.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RawFieldWire {
    /// Two digits.
    pub id: String,
    /// 0-based character offset of the field's id in the payload.
    pub position: usize,
    /// The value's length in characters.
    pub length: usize,
    pub value: String,
    /// For templates (26–51, 62, 64, 80–99): the value split into sub-fields; else empty.
    pub sub_fields: Vec<RawSubFieldWire>,
}

impl From<&RawField> for RawFieldWire {
    fn from(field: &RawField) -> Self {
        RawFieldWire {
            id: field.id.to_string(),
            position: field.position,
            length: field.value.chars().count(),
            value: field.value.clone(),
            sub_fields: field
                .sub_fields
                .iter()
                .map(|sub| RawSubFieldWire {
                    id: sub.id.to_string(),
                    position: sub.position,
                    length: sub.value.chars().count(),
                    value: sub.value.clone(),
                })
                .collect(),
        }
    }
}

/// A decoded Hong Kong common QR code for FPS: the typed fields, then every field as it stands.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DecodedQr {
    /// Field 01; `null` when the payload has none (EMVCo makes it optional).
    pub initiation: Option<InitiationWire>,
    /// Sub-field 26.01: the payee's FPS participant, 3 digits.
    #[schema(example = "004")]
    pub participant: Option<String>,
    pub proxy: ProxyWire,
    /// Field 52; `0000` when there is none.
    #[schema(example = "0000")]
    pub merchant_category_code: String,
    pub currency: CurrencyWire,
    /// Field 54 as written, e.g. `12.30`; `null` when the payer enters the amount.
    #[schema(example = "12.30")]
    pub amount: Option<String>,
    /// The amount in minor units (cents or fen).
    #[schema(example = 1230)]
    pub amount_minor: Option<i64>,
    /// Field 58: always `HK`.
    pub country: String,
    /// Field 59; `NA` when the code names no merchant.
    pub merchant_name: String,
    /// Field 60.
    pub merchant_city: String,
    /// Sub-field 62.05.
    pub reference_label: Option<String>,
    pub alternate_language: Option<AlternateLanguageWire>,
    /// Field 63, as written (checked).
    #[schema(example = "566D")]
    pub crc: String,
    /// Every field, in payload order.
    pub fields: Vec<RawFieldWire>,
}

impl From<&Decoded> for DecodedQr {
    fn from(decoded: &Decoded) -> Self {
        let qr = &decoded.qr;
        DecodedQr {
            initiation: qr.initiation.map(InitiationWire::from),
            participant: qr
                .account
                .participant
                .as_ref()
                .map(|p| p.as_str().to_owned()),
            proxy: ProxyWire::from(&qr.account.proxy),
            merchant_category_code: qr.merchant_category_code.as_str().to_owned(),
            currency: qr.currency.into(),
            amount: qr.amount.as_ref().map(|a| a.as_str().to_owned()),
            amount_minor: qr.amount.as_ref().map(Amount::minor),
            country: "HK".to_owned(),
            merchant_name: qr.merchant_name.as_str().to_owned(),
            merchant_city: qr.merchant_city.as_str().to_owned(),
            reference_label: qr.reference_label().map(|r| r.as_str().to_owned()),
            alternate_language: qr
                .alternate_language
                .as_ref()
                .map(AlternateLanguageWire::from),
            crc: decoded.crc.clone(),
            fields: decoded.fields.iter().map(RawFieldWire::from).collect(),
        }
    }
}

/// A code to write. Exactly one of `fps_id`, `mobile` and `email` names the payee.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EncodeRequest {
    /// The payee's FPS participant, 3 digits (sub-field 26.01).
    #[serde(default)]
    #[schema(pattern = "^[0-9]{3}$", example = "004")]
    pub participant: Option<String>,
    /// An FPS ID, 7 or 9 digits.
    #[serde(default)]
    #[schema(pattern = "^([0-9]{7}|[0-9]{9})$", example = "123456789")]
    pub fps_id: Option<String>,
    /// A Hong Kong mobile number: `+852-91234567`, `91234567`, `+852 9123 4567`…
    #[serde(default)]
    pub mobile: Option<String>,
    /// An email address.
    #[serde(default)]
    pub email: Option<String>,
    /// A decimal string with at most 2 decimal places, e.g. `12.30`; written with 2.
    #[serde(default)]
    #[schema(pattern = "^[0-9]+(\\.[0-9]{1,2})?$", example = "12.30")]
    pub amount: Option<String>,
    /// Default `HKD`.
    #[serde(default)]
    pub currency: Option<CurrencyWire>,
    /// Default: `dynamic` with an amount, else `static`.
    #[serde(default)]
    pub initiation: Option<InitiationWire>,
    /// 4 digits; default `0000`.
    #[serde(default)]
    #[schema(pattern = "^[0-9]{4}$")]
    pub merchant_category_code: Option<String>,
    /// Up to 25 characters of printable ASCII; default `NA`.
    #[serde(default)]
    pub merchant_name: Option<String>,
    /// Up to 15 characters of printable ASCII; default `HK`.
    #[serde(default)]
    pub merchant_city: Option<String>,
    /// Up to 25 characters of printable ASCII (sub-field 62.05).
    #[serde(default)]
    #[schema(example = "INV01")]
    pub reference_label: Option<String>,
    /// The merchant's name in another script (field 64).
    #[serde(default)]
    pub alternate_language: Option<AlternateLanguageWire>,
}

/// Collects every field's failure, each with its JSON Pointer.
#[derive(Default)]
struct Errors(Vec<FieldError>);

impl Errors {
    fn check<T, E: std::fmt::Display>(&mut self, pointer: &str, result: Result<T, E>) -> Option<T> {
        result
            .map_err(|e| self.0.push(FieldError::new(pointer, e.to_string())))
            .ok()
    }

    fn optional<T, E: std::fmt::Display>(
        &mut self,
        pointer: &str,
        text: Option<&str>,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        text.and_then(|text| self.check(pointer, parse(text)))
    }
}

impl EncodeRequest {
    /// The typed code, or every field at fault (JSON Pointers into the request).
    pub fn into_qr(self) -> Result<FpsQr, Vec<FieldError>> {
        let mut errors = Errors::default();
        let proxy = self.proxy(&mut errors);
        let participant = errors.optional(
            "/participant",
            self.participant.as_deref(),
            ParticipantCode::parse,
        );
        let amount = errors.optional("/amount", self.amount.as_deref(), |a| {
            Amount::parse(a).map(|a| a.canonical())
        });
        let category = errors.optional(
            "/merchant_category_code",
            self.merchant_category_code.as_deref(),
            MerchantCategoryCode::parse,
        );
        let name = errors.optional(
            "/merchant_name",
            self.merchant_name.as_deref(),
            Text::parse_common,
        );
        let city = errors.optional(
            "/merchant_city",
            self.merchant_city.as_deref(),
            Text::parse_common,
        );
        let reference = errors.optional(
            "/reference_label",
            self.reference_label.as_deref(),
            Text::parse_common,
        );
        let alternate = self
            .alternate_language
            .as_ref()
            .and_then(|a| alternate_language(a, &mut errors));
        let initiation = match (self.initiation.map(Initiation::from), &self.amount) {
            (Some(Initiation::Dynamic), None) => {
                errors.0.push(FieldError::new(
                    "/initiation",
                    "a dynamic code needs an amount",
                ));
                None
            }
            (Some(initiation), _) => Some(initiation),
            (None, Some(_)) => Some(Initiation::Dynamic),
            (None, None) => Some(Initiation::Static),
        };
        let (Some(proxy), true) = (proxy, errors.0.is_empty()) else {
            return Err(errors.0);
        };
        let mut qr = FpsQr::new(proxy);
        qr.initiation = initiation;
        qr.account.participant = participant;
        qr.amount = amount;
        qr.currency = self.currency.map_or(Currency::Hkd, Currency::from);
        if let Some(category) = category {
            qr.merchant_category_code = category;
        }
        if let Some(name) = name {
            qr.merchant_name = name;
        }
        if let Some(city) = city {
            qr.merchant_city = city;
        }
        qr.set_reference_label(reference);
        qr.alternate_language = alternate;
        Ok(qr)
    }

    fn proxy(&self, errors: &mut Errors) -> Option<Proxy> {
        let given: Vec<(&str, &str)> = [
            ("/fps_id", self.fps_id.as_deref()),
            ("/mobile", self.mobile.as_deref()),
            ("/email", self.email.as_deref()),
        ]
        .into_iter()
        .filter_map(|(pointer, value)| value.map(|v| (pointer, v)))
        .collect();
        match given.as_slice() {
            [] => {
                errors.0.push(FieldError::new(
                    "/",
                    "name the payee with exactly one of fps_id, mobile or email",
                ));
                None
            }
            [("/fps_id", id)] => errors.check("/fps_id", FpsId::parse(id)).map(Proxy::FpsId),
            [("/mobile", mobile)] => errors
                .check("/mobile", MobileNumber::parse_loose(mobile))
                .map(Proxy::Mobile),
            [(_, email)] => errors
                .check("/email", EmailAddress::parse(email))
                .map(Proxy::Email),
            [_, (pointer, _), ..] => {
                errors.0.push(FieldError::new(
                    *pointer,
                    "give only one of fps_id, mobile or email: a code names one payee",
                ));
                None
            }
        }
    }
}

fn alternate_language(
    wire: &AlternateLanguageWire,
    errors: &mut Errors,
) -> Option<AlternateLanguage> {
    let language = errors.check(
        "/alternate_language/language",
        LanguageCode::parse(&wire.language),
    );
    let name = errors.check(
        "/alternate_language/merchant_name",
        Text::parse_any(&wire.merchant_name),
    );
    let city = errors.optional(
        "/alternate_language/merchant_city",
        wire.merchant_city.as_deref(),
        Text::parse_any,
    );
    let valid_city = wire.merchant_city.is_none() || city.is_some();
    match (language, name, valid_city) {
        (Some(language), Some(merchant_name), true) => Some(AlternateLanguage {
            language,
            merchant_name,
            merchant_city: city,
            other: Vec::new(),
        }),
        _ => None,
    }
}

/// A written code.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EncodedQr {
    /// The payload, CRC included: the text to put in a QR code.
    #[schema(
        example = "00020101021226360012hk.com.hkicl01030040209123456789520400005303344540512.305802HK5902NA6002HK62090505INV016304AD06"
    )]
    pub payload: String,
}
