//! RFC 9457 `application/problem+json` responses. A [`Problem`] carries one stable
//! [`ErrorCode`], a client-safe detail, and, for validation failures, the fields at fault.
//! Internal causes are logged by whoever builds the problem and never put in it.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::ErrorCode;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One field that failed validation: where it is and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// JSON Pointer (RFC 6901) to the offending value, e.g. `/employees` or `/sectors/2`.
    pub pointer: String,
    /// What is wrong, in plain English.
    pub detail: String,
}

impl FieldError {
    pub fn new(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            detail: detail.into(),
        }
    }

    /// The field name without the leading slash (`/employees` → `employees`).
    pub fn field(&self) -> &str {
        self.pointer.trim_start_matches('/')
    }
}

/// An RFC 9457 problem: a stable [`ErrorCode`] (which fixes the type, title and status), a
/// client-safe detail, and for validation failures the fields at fault. Kept small (it travels
/// in every `Result` of a handler); the document sent is [`ProblemDocument`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub code: ErrorCode,
    pub detail: Option<String>,
    pub errors: Vec<FieldError>,
    pub reason: Option<&'static str>,
}

/// The problem as sent: `application/problem+json`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Problem)]
pub struct ProblemDocument {
    /// A URI reference identifying the problem type: Bauhinia's error-code reference.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Short, human-readable summary of the problem type.
    pub title: &'static str,
    /// The HTTP status code.
    pub status: u16,
    /// Human-readable explanation specific to this occurrence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The stable machine-readable code, e.g. `funding.profile_invalid`.
    pub code: &'static str,
    /// The fields at fault, for validation problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// A stable machine-readable refinement of `code` (e.g. why the ledger refused a transfer:
    /// `exceeds_debit_cap`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
}

impl Problem {
    pub fn new(code: ErrorCode) -> Self {
        Self {
            code,
            detail: None,
            errors: Vec::new(),
            reason: None,
        }
    }

    pub fn reason(mut self, reason: &'static str) -> Self {
        self.reason = Some(reason);
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    pub fn status(&self) -> u16 {
        self.code.status().as_u16()
    }

    /// A 500 for an unexpected failure. The cause is logged here, never sent.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(ErrorCode::Internal)
    }

    pub fn document(self) -> ProblemDocument {
        ProblemDocument {
            type_uri: format!("/docs/errors#{}", self.code.code()),
            title: self.code.title(),
            status: self.status(),
            detail: self.detail,
            code: self.code.code(),
            errors: self.errors,
            reason: self.reason,
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.code.status();
        let mut response = (status, axum::Json(self.document())).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        response
    }
}

impl From<ErrorCode> for Problem {
    fn from(code: ErrorCode) -> Self {
        Problem::new(code)
    }
}
