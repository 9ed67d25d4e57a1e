//! Everything that can be wrong with a payload, each with a stable machine code (`reason`), the
//! field at fault and its position, and a precise message naming both. A decoder reports the
//! first fault it meets: structure first (a broken structure makes every later check
//! meaningless), then the CRC, then the templates, the mandatory fields, and the values in the
//! order of their ids.

use super::tlv::{FieldId, FieldPath, TlvFault};

/// What is wrong with one field's value. The message completes a sentence naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueProblem {
    #[error("must be 01")]
    PayloadFormat,
    #[error("must be 11 (static) or 12 (dynamic)")]
    Initiation,
    #[error("must be 344 (HKD) or 156 (CNY)")]
    Currency,
    #[error("{0}")]
    Amount(AmountProblem),
    #[error("must be a participant code of 3 digits, e.g. 004")]
    ParticipantCode,
    #[error("must be an FPS ID of 7 or 9 digits")]
    FpsId,
    #[error("must be a Hong Kong mobile number written +852-XXXXXXXX (8 digits)")]
    Mobile,
    #[error("must be an email address: {0}")]
    Email(&'static str),
    #[error("must be 4 digits (0000 when there is none)")]
    MerchantCategoryCode,
    #[error("must be HK")]
    Country,
    #[error(
        "must be 1 to {max_chars} characters of printable ASCII (EMVCo's common character set)"
    )]
    CommonText { max_chars: usize },
    #[error("must be 1 to {max_chars} characters, none of them a control character")]
    AnyText { max_chars: usize },
    #[error("must be a language code of 2 letters (ISO 639-1), e.g. ZH")]
    Language,
}

impl ValueProblem {
    /// The stable machine name of the problem.
    pub const fn code(&self) -> &'static str {
        match self {
            ValueProblem::PayloadFormat => "invalid_payload_format",
            ValueProblem::Initiation => "invalid_initiation",
            ValueProblem::Currency => "invalid_currency",
            ValueProblem::Amount(_) => "invalid_amount",
            ValueProblem::ParticipantCode => "invalid_participant_code",
            ValueProblem::FpsId => "invalid_fps_id",
            ValueProblem::Mobile => "invalid_mobile",
            ValueProblem::Email(_) => "invalid_email",
            ValueProblem::MerchantCategoryCode => "invalid_merchant_category_code",
            ValueProblem::Country => "invalid_country",
            ValueProblem::CommonText { .. } | ValueProblem::AnyText { .. } => "invalid_text",
            ValueProblem::Language => "invalid_language",
        }
    }
}

/// What is wrong with an amount (field 54).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AmountProblem {
    #[error("must be a decimal number: digits, then optionally '.' and 1 or 2 digits, e.g. 12.30")]
    NotDecimal,
    #[error("has more than 2 decimal places; HKD and CNY amounts have at most 2")]
    TooManyDecimals,
    #[error("must be greater than zero")]
    Zero,
    #[error("must be at most 13 characters")]
    TooLong,
}

/// Why a payload is not a valid Hong Kong common QR code for FPS.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    #[error("the payload is not UTF-8 text: the bytes go wrong at byte {byte_offset}")]
    NotUtf8 { byte_offset: usize },
    #[error("the payload is empty")]
    Empty,
    #[error("the payload is {chars} characters long; EMVCo allows at most 512")]
    TooLong { chars: usize },
    /// The run of fields is broken at the top level.
    #[error("{}", .0.describe(None))]
    Malformed(TlvFault),
    /// A template's value is not a run of sub-fields.
    #[error("field {template} (a template) at position {template_position} is malformed: {}", fault.describe(Some(*template)))]
    TemplateMalformed {
        template: FieldId,
        template_position: usize,
        fault: TlvFault,
    },
    #[error("the payload must start with field 00 (payload format indicator), but starts with field {found}")]
    FormatIndicatorNotFirst { found: FieldId },
    #[error("{} appears twice: at position {first_position} and at position {position}", field.describe())]
    DuplicateField {
        field: FieldPath,
        first_position: usize,
        position: usize,
    },
    #[error("mandatory {} is missing", field.describe())]
    MissingField { field: FieldPath },
    #[error("field 26 (FPS merchant account information) at position {position} does not carry the FPS identifier: {}", match found {
        None => "it has no sub-field 00 (globally unique identifier); expected 'hk.com.hkicl'".to_owned(),
        Some(found) => format!("its sub-field 00 (globally unique identifier) is '{found}', expected 'hk.com.hkicl'"),
    })]
    MissingFpsIdentifier {
        /// Field 26's position.
        position: usize,
        found: Option<String>,
    },
    #[error("field 63 (CRC) at position {position} must be the last field, but field {next} follows it at position {next_position}")]
    CrcNotLast {
        position: usize,
        next: FieldId,
        next_position: usize,
    },
    #[error("field 63 (CRC) at position {position} is '{found}'; it must be 4 hexadecimal digits")]
    CrcMalformed { position: usize, found: String },
    #[error("wrong CRC: field 63 at position {position} says {found}, but the payload's CRC-16/CCITT-FALSE is {expected}")]
    CrcMismatch {
        position: usize,
        expected: String,
        found: String,
    },
    #[error("{} at position {position} is '{found}': it {problem}", field.describe())]
    InvalidValue {
        field: FieldPath,
        position: usize,
        found: String,
        problem: ValueProblem,
    },
    #[error("field 26 (FPS merchant account information) at position {position} names no payee: it needs one of sub-fields 02 (FPS ID), 03 (mobile number) or 04 (email address)")]
    ProxyMissing { position: usize },
    #[error("field 26 (FPS merchant account information) at position {position} names more than one payee (sub-fields {}); exactly one of 02 (FPS ID), 03 (mobile number) or 04 (email address) is allowed", join_ids(found))]
    ProxyAmbiguous {
        position: usize,
        found: Vec<FieldId>,
    },
    #[error("field 01 (point of initiation method) at position {position} says the code is dynamic (12), which needs field 54 (transaction amount), and there is none")]
    DynamicWithoutAmount { position: usize },
}

fn join_ids(ids: &[FieldId]) -> String {
    let ids: Vec<String> = ids.iter().map(FieldId::to_string).collect();
    ids.join(", ")
}

impl QrError {
    /// The stable machine name of the error (the `reason` member of the problem document).
    pub const fn code(&self) -> &'static str {
        match self {
            QrError::NotUtf8 { .. } => "not_utf8",
            QrError::Empty => "empty",
            QrError::TooLong { .. } => "too_long",
            QrError::Malformed(fault) => fault.code(),
            QrError::TemplateMalformed { .. } => "template_malformed",
            QrError::FormatIndicatorNotFirst { .. } => "format_indicator_not_first",
            QrError::DuplicateField { .. } => "duplicate_field",
            QrError::MissingField { .. } => "missing_field",
            QrError::MissingFpsIdentifier { .. } => "missing_fps_identifier",
            QrError::CrcNotLast { .. } => "crc_not_last",
            QrError::CrcMalformed { .. } => "crc_malformed",
            QrError::CrcMismatch { .. } => "crc_mismatch",
            QrError::InvalidValue { problem, .. } => problem.code(),
            QrError::ProxyMissing { .. } => "proxy_missing",
            QrError::ProxyAmbiguous { .. } => "proxy_ambiguous",
            QrError::DynamicWithoutAmount { .. } => "dynamic_without_amount",
        }
    }

    /// The field at fault (`59`, `26.02`), where there is one.
    pub fn field(&self) -> Option<FieldPath> {
        let top = |id| Some(FieldPath::top(id));
        match self {
            QrError::NotUtf8 { .. } | QrError::Empty | QrError::TooLong { .. } => None,
            QrError::Malformed(fault) => fault.id().map(FieldPath::top),
            QrError::TemplateMalformed {
                template, fault, ..
            } => Some(match fault.id() {
                Some(id) => FieldPath::sub(*template, id),
                None => FieldPath::top(*template),
            }),
            QrError::FormatIndicatorNotFirst { found } => top(*found),
            QrError::DuplicateField { field, .. }
            | QrError::MissingField { field }
            | QrError::InvalidValue { field, .. } => Some(*field),
            QrError::MissingFpsIdentifier { .. } => Some(FieldPath::sub(
                FieldId::FPS_ACCOUNT,
                FieldId::GLOBALLY_UNIQUE_ID,
            )),
            QrError::CrcNotLast { .. }
            | QrError::CrcMalformed { .. }
            | QrError::CrcMismatch { .. } => top(FieldId::CRC),
            QrError::ProxyMissing { .. } | QrError::ProxyAmbiguous { .. } => {
                top(FieldId::FPS_ACCOUNT)
            }
            QrError::DynamicWithoutAmount { .. } => top(FieldId::INITIATION),
        }
    }

    /// 0-based character offset in the payload where the fault is (for `NotUtf8`, a byte
    /// offset), where there is one.
    pub fn position(&self) -> Option<usize> {
        match self {
            QrError::NotUtf8 { byte_offset } => Some(*byte_offset),
            QrError::Empty | QrError::TooLong { .. } | QrError::MissingField { .. } => None,
            QrError::Malformed(fault) | QrError::TemplateMalformed { fault, .. } => {
                Some(fault.position())
            }
            QrError::FormatIndicatorNotFirst { .. } => Some(0),
            QrError::DuplicateField { position, .. }
            | QrError::MissingFpsIdentifier { position, .. }
            | QrError::CrcNotLast { position, .. }
            | QrError::CrcMalformed { position, .. }
            | QrError::CrcMismatch { position, .. }
            | QrError::InvalidValue { position, .. }
            | QrError::ProxyMissing { position }
            | QrError::ProxyAmbiguous { position, .. }
            | QrError::DynamicWithoutAmount { position } => Some(*position),
        }
    }
}

/// Why a typed code cannot be written as a payload. Values are valid by construction; what
/// remains is what only shows once they are put together, and fields kept verbatim from a
/// decoded payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("{} would be {chars} characters long; a field holds at most 99", field.describe())]
    FieldTooLong { field: FieldPath, chars: usize },
    #[error("the payload would be {chars} characters long; EMVCo allows at most 512")]
    PayloadTooLong { chars: usize },
    #[error("{} is written from its typed value and cannot also be kept as an extra field", field.describe())]
    ExtraFieldNotAllowed { field: FieldPath },
    #[error("{} appears twice among the extra fields", field.describe())]
    DuplicateField { field: FieldPath },
    #[error("{} is empty; a value is 1 to 99 characters", field.describe())]
    EmptyField { field: FieldPath },
    #[error("{} is a template, but its value is malformed: {detail}", field.describe())]
    ExtraTemplateMalformed { field: FieldPath, detail: String },
    #[error("the code is dynamic (12) but has no amount; a dynamic code needs one")]
    DynamicWithoutAmount,
}
