//! The one error type of the ISO 20022 module. Each variant is a stable kind (`kind()`), and
//! every variant that concerns an element names it by path, e.g.
//! `/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[1]/IntrBkSttlmAmt` (an index only on elements that
//! may repeat, counted from 1).

/// Why a document was refused. Values quoted from the input are cut to
/// [`QUOTED_VALUE_CHARS_MAX`] characters, so an error is small whatever the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Iso20022Error {
    #[error("the document has {size} bytes; at most {max} are accepted")]
    TooLarge { size: usize, max: usize },
    #[error("elements nest deeper than {max} levels at {path}")]
    TooDeep { path: String, max: usize },
    #[error("not well-formed XML at line {line}, column {column}: {message}")]
    NotWellFormed {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("a document type declaration (DTD) is refused (line {line}, column {column})")]
    DtdRefused { line: usize, column: usize },
    #[error("the encoding {found:?} is refused: ISO 20022 messages are UTF-8")]
    UnsupportedEncoding { found: String },
    #[error("{path} is in namespace {found:?}; expected {expected}")]
    WrongNamespace {
        path: String,
        expected: String,
        found: String,
    },
    #[error("unexpected element <{found}> in {path}; expected {expected}")]
    UnexpectedElement {
        path: String,
        found: String,
        expected: String,
    },
    #[error("missing required element {path}")]
    MissingElement { path: String },
    #[error("{path} appears more often than allowed")]
    DuplicateElement { path: String },
    #[error("text is not allowed directly inside {path}")]
    UnexpectedText { path: String },
    #[error("attribute {name:?} is not allowed on {path}")]
    UnexpectedAttribute { path: String, name: String },
    #[error("missing required attribute {path}/@{name}")]
    MissingAttribute { path: String, name: String },
    #[error("invalid value {value:?} at {path}: {reason}")]
    InvalidValue {
        path: String,
        value: String,
        reason: String,
    },
}

/// How many characters of an offending value an error quotes.
pub const QUOTED_VALUE_CHARS_MAX: usize = 64;

impl Iso20022Error {
    /// A stable machine-readable name for the kind of error.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "too_large",
            Self::TooDeep { .. } => "too_deep",
            Self::NotWellFormed { .. } => "not_well_formed",
            Self::DtdRefused { .. } => "dtd_refused",
            Self::UnsupportedEncoding { .. } => "unsupported_encoding",
            Self::WrongNamespace { .. } => "wrong_namespace",
            Self::UnexpectedElement { .. } => "unexpected_element",
            Self::MissingElement { .. } => "missing_element",
            Self::DuplicateElement { .. } => "duplicate_element",
            Self::UnexpectedText { .. } => "unexpected_text",
            Self::UnexpectedAttribute { .. } => "unexpected_attribute",
            Self::MissingAttribute { .. } => "missing_attribute",
            Self::InvalidValue { .. } => "invalid_value",
        }
    }

    pub(crate) fn invalid(path: &str, value: &str, reason: impl Into<String>) -> Self {
        Self::InvalidValue {
            path: path.to_owned(),
            value: quoted(value),
            reason: reason.into(),
        }
    }
}

/// The first [`QUOTED_VALUE_CHARS_MAX`] characters of `value`, with `…` when cut.
pub(crate) fn quoted(value: &str) -> String {
    let mut chars = value.chars();
    let mut out: String = chars.by_ref().take(QUOTED_VALUE_CHARS_MAX).collect();
    if chars.next().is_some() {
        out.push('…');
    }
    out
}
