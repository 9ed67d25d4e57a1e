//! The public signing routes under `/api/signing/v1`: verification of a signature, and the CA
//! certificates a verifier trusts. Anyone may call them (no personal data is returned that the
//! signature does not already carry). The service-facing routes (request, status) and the
//! resident's approval arrive with client authentication and the app.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use bauhinia_core::extract::ApiJson;
use bauhinia_core::{ErrorCode, FieldError, Problem, ProblemDocument};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::service::SigningService;
use super::verify::VerificationReport;
use crate::domain::signing::DocumentHash;

pub type SigningState = Arc<SigningService>;

pub const TAG: &str = "signing";

/// The media type of a PEM certificate chain (RFC 8555 §9.1).
pub const PEM_CHAIN: &str = "application/pem-certificate-chain";

/// The routes of signing, with their OpenAPI paths.
pub fn router(service: SigningState) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(verify))
        .routes(routes!(ca_pem))
        .with_state(service)
}

/// A signature to verify.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// The signature: a compact JWS as Bauhinia returned it.
    #[schema(
        max_length = 16384,
        pattern = r"^\s*[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\s*$"
    )]
    pub signature: String,
    /// Optional: the SHA-256 of the document you hold (64 hexadecimal digits or base64); the
    /// signature is then valid only if it signs exactly this hash.
    #[serde(default)]
    #[schema(pattern = r"^\s*[A-Za-z0-9+/_=-]{43,64}\s*$")]
    pub document_hash: Option<String>,
}

/// What was verified and how it went.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyResponse {
    /// Every check passed: the signature matches, the chain leads to this installation's root,
    /// every certificate was valid when it was signed, the key was not revoked by then, and the
    /// signature is the one an approved request produced.
    pub valid: bool,
    pub signature_valid: bool,
    pub chain_valid: bool,
    pub cert_valid_at_signing_time: bool,
    pub signer: Signer,
    pub document: SignedDocument,
    /// When the resident approved (RFC 3339, UTC).
    pub signed_at: String,
    pub request_id: String,
    /// Anonymous signing: the opaque value bound to the signer's HKID and the service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hkid_hash: Option<String>,
    /// Each failed check; empty when valid.
    pub errors: Vec<Issue>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Signer {
    /// The certificate's subject, RFC 4514.
    pub subject: String,
    /// The certificate's common name: the resident's English name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The opaque signer id (the subject's serialNumber attribute).
    pub id: String,
    /// The certificate's serial number, upper-case hexadecimal.
    pub certificate_serial: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignedDocument {
    pub name: String,
    /// Always `sha256`.
    pub hash_alg: String,
    /// 64 lower-case hexadecimal digits.
    pub hash: String,
}

/// One failed check.
#[derive(Debug, Serialize, ToSchema)]
pub struct Issue {
    /// `signature_mismatch`, `chain_untrusted`, `signer_mismatch`,
    /// `certificate_not_valid_at_signing_time`,
    /// `signed_in_future`, `certificate_revoked`, `certificate_unknown`, `not_on_record` or
    /// `document_hash_mismatch`.
    pub code: String,
    pub detail: String,
}

impl VerifyResponse {
    fn from_report(report: VerificationReport) -> VerifyResponse {
        VerifyResponse {
            valid: report.valid,
            signature_valid: report.signature_valid,
            chain_valid: report.chain_valid,
            cert_valid_at_signing_time: report.cert_valid_at_signing_time,
            signer: Signer {
                subject: report.signer_subject,
                name: report.signer_name,
                id: report.payload.signer,
                certificate_serial: report.certificate_serial,
            },
            document: SignedDocument {
                name: report.payload.document_name,
                hash_alg: report.payload.hash_alg,
                hash: report.payload.document_hash,
            },
            signed_at: report
                .signed_at
                .format(&Rfc3339)
                .unwrap_or_else(|_| report.signed_at.unix_timestamp().to_string()),
            request_id: report.payload.request_id,
            hkid_hash: report.payload.hkid_hash,
            errors: report
                .errors
                .iter()
                .map(|issue| Issue {
                    code: issue.code().to_owned(),
                    detail: issue.detail(),
                })
                .collect(),
        }
    }
}

/// Verifies a Bauhinia document signature: the ES256 signature, the certificate chain to this
/// installation's root CA, each certificate's validity at the time of signing, revocation, and
/// that an approved signing request produced it. A well-formed signature that fails a check is
/// answered 200 with `valid: false` and the failed checks; text that is not a Bauhinia signature
/// at all is a 422 problem.
#[utoipa::path(post, path = "/api/signing/v1/verify", tag = TAG,
    request_body = VerifyRequest,
    responses(
        (status = 200, description = "The verification report", body = VerifyResponse),
        (status = 400, description = "Malformed JSON", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "Not a Bauhinia signature (`signing.signature_malformed`), or a bad field", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn verify(
    State(service): State<SigningState>,
    ApiJson(request): ApiJson<VerifyRequest>,
) -> Result<Json<VerifyResponse>, Problem> {
    let hash = request
        .document_hash
        .as_deref()
        .map(DocumentHash::parse_text)
        .transpose()
        .map_err(|e| {
            Problem::new(ErrorCode::InvalidField)
                .detail(format!("/{}: {}", e.field, e.message))
                .errors(vec![FieldError::new(format!("/{}", e.field), e.message)])
        })?;
    let report = service
        .verify_document(&request.signature, hash.as_ref())
        .await?;
    Ok(Json(VerifyResponse::from_report(report)))
}

/// The certificates to trust for Bauhinia signatures, PEM: the issuing CA, then the root CA
/// (the trust anchor).
#[utoipa::path(get, path = "/api/signing/v1/ca.pem", tag = TAG,
    responses((status = 200, description = "PEM certificate chain", body = String, content_type = "application/pem-certificate-chain")))]
async fn ca_pem(State(service): State<SigningState>) -> Result<Response, Problem> {
    let chain = service.ca_chain_pem().await?;
    Ok((
        [
            (header::CONTENT_TYPE, PEM_CHAIN),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"bauhinia-signing-ca.pem\"",
            ),
        ],
        chain,
    )
        .into_response())
}
