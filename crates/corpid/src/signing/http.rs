//! Company signing over HTTP. Public (anyone; the binary's per-address limit applies):
//! `POST /api/corpid/v1/signing/verify` and `GET /api/corpid/v1/signing/status/{serial}` (a
//! compact JWS signed by the issuing CA). Services (authenticated exactly as at the token
//! endpoint, in a form body, as identity's signing requests): `POST
//! /oauth2/corpid/signing/requests` (`brn`, `type`, `document_name`, `document_hash`), `POST
//! /oauth2/corpid/signing/requests/{id}` (status, and the signature once approved), `POST
//! …/{id}/cancel`. Handlers are thin: extract, call [`CompanySigning`], shape.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use bauhinia_core::extract::ApiJson;
use bauhinia_core::{ErrorCode, FieldError, Problem, ProblemDocument};
use bauhinia_identity::domain::signing::DocumentHash;
use bauhinia_identity::oidc::request::param;
use bauhinia_identity::oidc::Provider;
use bauhinia_identity::signing::requests_http::authenticated_form;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::format::SignerKind;
use super::service::{CompanyRequest, CompanySigning};
use super::verify::{CompanyVerification, Issue};
use crate::error::CorpIdError;

pub const TAG: &str = "corpid-signing";
/// The media type of a compact JWS (RFC 7515 §9.2.1).
pub const JOSE: &str = "application/jose";

pub type PublicState = Arc<CompanySigning>;

fn now() -> i64 {
    bauhinia_core::background::now_ms() / 1_000
}

/// The public routes, with their OpenAPI paths.
pub fn public_router(service: PublicState) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(verify))
        .routes(routes!(status))
        .with_state(service)
}

/// A company signature to verify.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// The signature: the JWS JSON general serialization as Bauhinia returned it.
    #[schema(max_length = 32768)]
    pub signature: String,
    /// Optional: the SHA-256 of the document you hold (hexadecimal or base64).
    #[serde(default)]
    pub document_hash: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyResponse {
    /// Every check passed.
    pub valid: bool,
    /// `personal`, `corporate` or `integrated`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub business: serde_json::Value,
    /// Who approved, in which role, through which agent, when.
    pub approvals: serde_json::Value,
    pub document: serde_json::Value,
    /// Unix seconds.
    pub signed_at: i64,
    pub request_id: String,
    /// Each signature: its signer, certificate and checks.
    pub signatures: Vec<serde_json::Value>,
    /// Each failed check (`code` and where).
    pub errors: Vec<serde_json::Value>,
}

fn verify_response(report: CompanyVerification) -> VerifyResponse {
    VerifyResponse {
        valid: report.valid,
        kind: report.kind.as_str(),
        business: serde_json::to_value(&report.business).unwrap_or_default(),
        approvals: serde_json::to_value(&report.approvals).unwrap_or_default(),
        document: serde_json::json!({
            "name": report.document_name, "hash_alg": "sha256", "hash": report.document_hash,
        }),
        signed_at: report.signed_at,
        request_id: report.request_id,
        signatures: report
            .signatures
            .iter()
            .map(|s| {
                serde_json::json!({
                    "signer": match s.signer { SignerKind::Person => "person", SignerKind::Company => "company" },
                    "subject": s.subject,
                    "certificate_serial": s.certificate_serial,
                    "signature_valid": s.signature_valid,
                    "chain_valid": s.chain_valid,
                    "cert_valid_at_signing_time": s.valid_at_signing_time,
                    "revoked": s.revoked_at.is_some(),
                    "revoked_at": s.revoked_at,
                    "revocation_reason": s.revocation_reason,
                })
            })
            .collect(),
        errors: report.errors.iter().map(issue_json).collect(),
    }
}

fn issue_json(issue: &Issue) -> serde_json::Value {
    serde_json::to_value(issue).unwrap_or_else(|_| serde_json::json!({ "code": issue.code() }))
}

/// Verifies a company signature: each ES256 signature, each chain to this installation's root,
/// validity at the time of signing, revocation, the names in the certificates, the request on
/// record and each delegation's history. A well-formed signature that fails is 200 with
/// `valid: false`; text that is not a company signature is a 422 problem.
#[utoipa::path(post, path = "/api/corpid/v1/signing/verify", operation_id = "corpid_signing_verify", tag = TAG,
    request_body = VerifyRequest,
    responses(
        (status = 200, description = "The verification report", body = VerifyResponse),
        (status = 422, description = "Not a company signature (`corpid.signature_malformed`), or a bad field", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn verify(
    State(service): State<PublicState>,
    ApiJson(request): ApiJson<VerifyRequest>,
) -> Result<Json<VerifyResponse>, Problem> {
    let hash = request
        .document_hash
        .as_deref()
        .map(DocumentHash::parse_text)
        .transpose()
        .map_err(|e| {
            Problem::new(ErrorCode::InvalidField)
                .errors(vec![FieldError::new(format!("/{}", e.field), e.message)])
        })?;
    let report = service
        .verify(&request.signature, hash.as_ref(), now())
        .await?;
    Ok(Json(verify_response(report)))
}

/// The revocation status of a certificate this installation issued, by serial: a compact JWS
/// (`application/jose`) signed by the issuing CA, whose certificate is in its `x5c`.
#[utoipa::path(get, path = "/api/corpid/v1/signing/status/{serial}", operation_id = "corpid_signing_status", tag = TAG,
    params(("serial" = String, Path, description = "The certificate's serial, hexadecimal")),
    responses(
        (status = 200, description = "The signed status", body = String, content_type = "application/jose"),
        (status = 422, description = "Not a serial", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn status(
    State(service): State<PublicState>,
    Path(serial): Path<String>,
) -> Result<Response, Problem> {
    let jws = service.certificate_status(&serial, now()).await?;
    Ok((
        [
            (header::CONTENT_TYPE, JOSE),
            (header::CACHE_CONTROL, "no-store"),
        ],
        jws,
    )
        .into_response())
}

#[derive(Debug, Clone)]
pub struct RequestsState {
    pub provider: Arc<Provider>,
    pub signing: Arc<CompanySigning>,
}

/// The services' routes (OAuth-authenticated, outside the OpenAPI document as identity's are).
pub fn requests_router(state: RequestsState) -> Router {
    Router::new()
        .route("/oauth2/corpid/signing/requests", post(create))
        .route("/oauth2/corpid/signing/requests/{id}", post(request_status))
        .route("/oauth2/corpid/signing/requests/{id}/cancel", post(cancel))
        .with_state(state)
}

fn view(request: &CompanyRequest) -> Response {
    let mut answer = serde_json::json!({
        "request_id": request.id,
        "status": request.status.as_str(),
        "type": request.kind.as_str(),
        "brn": request.business.brn,
        "document_name": request.document_name,
        "document_hash": request.document_hash.to_hex(),
        "approvals": request.approved_by.len(),
        "approvals_required": request.approvals_required,
        "expires_at": request.expires_at_s,
    });
    if let (Some(object), Some(signature)) = (answer.as_object_mut(), &request.signature) {
        object.insert("signature".into(), signature.clone().into());
    }
    let mut response = Json(answer).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

type Form = std::collections::BTreeMap<String, Vec<String>>;

async fn service(
    state: &RequestsState,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(String, Form), Response> {
    authenticated_form(&state.provider, headers, body).await
}

fn answer(result: Result<CompanyRequest, CorpIdError>, status: StatusCode) -> Response {
    match result {
        Ok(request) => (status, view(&request)).into_response(),
        Err(e) => Problem::from(e).into_response(),
    }
}

async fn create(State(state): State<RequestsState>, headers: HeaderMap, body: Bytes) -> Response {
    let (client_id, params) = match service(&state, &headers, &body).await {
        Ok(ok) => ok,
        Err(response) => return response,
    };
    let one = |name: &str| param(&params, name).ok().flatten().unwrap_or("");
    let hash = match DocumentHash::parse_text(one("document_hash")) {
        Ok(hash) => hash,
        Err(e) => {
            return Problem::from(CorpIdError::SigningInvalid(vec![
                crate::domain::FieldFault::new("/document_hash", e.message),
            ]))
            .into_response()
        }
    };
    let result = state
        .signing
        .create_request(
            &client_id,
            one("brn"),
            one("type"),
            one("document_name"),
            hash.as_bytes(),
            now(),
        )
        .await;
    answer(result, StatusCode::CREATED)
}

async fn request_status(
    State(state): State<RequestsState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match service(&state, &headers, &body).await {
        Ok((client_id, _)) => answer(
            state.signing.get(&id, &client_id, now()).await,
            StatusCode::OK,
        ),
        Err(response) => response,
    }
}

async fn cancel(
    State(state): State<RequestsState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match service(&state, &headers, &body).await {
        Ok((client_id, _)) => answer(
            state.signing.cancel(&id, &client_id, now()).await,
            StatusCode::OK,
        ),
        Err(response) => response,
    }
}
