//! The service side of signing: a service (authenticated exactly as at the token endpoint,
//! `private_key_jwt` or `client_secret_basic`, in a form body) asks a resident to sign a
//! document hash, follows the request, and collects the signature. The resident approves in
//! the app (`/app/sign/{id}`).
//!
//! - `POST /oauth2/signing/requests`: `document_name`, `document_hash` (hex or base64 SHA-256),
//!   and either `sub` (the resident's pairwise subject at this service, from an earlier login)
//!   or `hkid` (anonymous signing: only the holder of that HKID can approve).
//! - `POST /oauth2/signing/requests/{id}`: the request's status, and the signature once approved.
//! - `POST /oauth2/signing/requests/{id}/cancel`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use bauhinia_core::{ErrorCode, FieldError, Problem};

use crate::domain::signing::DocumentHash;
use crate::domain::Hkid;
use crate::oidc::request::{param, parse_params};
use crate::oidc::{OAuthError, Provider};
use crate::signing::{SigningRequest, SigningService, SigningTarget};

/// Where the resident approves a request in the app.
pub const APP_SIGN_PATH: &str = "/app/sign";

#[derive(Debug, Clone)]
pub struct SigningRequestsState {
    pub provider: Arc<Provider>,
    pub signing: Arc<SigningService>,
}

pub fn router(state: SigningRequestsState) -> Router {
    Router::new()
        .route("/oauth2/signing/requests", post(create))
        .route("/oauth2/signing/requests/{id}", post(status))
        .route("/oauth2/signing/requests/{id}/cancel", post(cancel))
        .with_state(state)
}

fn view(provider: &Provider, request: &SigningRequest) -> serde_json::Value {
    let mut answer = serde_json::json!({
        "request_id": request.id,
        "status": request.status.as_str(),
        "document_name": request.document_name.as_str(),
        "document_hash": request.document_hash.to_hex(),
        "anonymous": request.anonymous,
        "expires_at": request.expires_at.unix_timestamp(),
        "approve_url": provider.url(&format!("{APP_SIGN_PATH}/{}", request.id)),
    });
    if let (Some(object), Some(signature)) = (answer.as_object_mut(), &request.signature) {
        object.insert("signature".into(), signature.clone().into());
    }
    answer
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Parses the form and authenticates the service, as the token endpoint does: the client id
/// and the form. Also the gate of other crates' service-facing signing routes (CorpID's).
pub async fn authenticated_form(
    provider: &Provider,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(String, std::collections::BTreeMap<String, Vec<String>>), Response> {
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form_type {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        )
        .into_response());
    }
    let params = parse_params(body);
    let client = provider
        .authenticate_service(headers, &params)
        .await
        .map_err(IntoResponse::into_response)?;
    Ok((client.client_id, params))
}

async fn service(
    state: &SigningRequestsState,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(String, std::collections::BTreeMap<String, Vec<String>>), Response> {
    authenticated_form(&state.provider, headers, body).await
}

async fn create(
    State(state): State<SigningRequestsState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (client_id, params) = match service(&state, &headers, &body).await {
        Ok(ok) => ok,
        Err(response) => return response,
    };
    let invalid = |pointer: &str, detail: &str| {
        Problem::new(ErrorCode::SigningRequestInvalid)
            .errors(vec![FieldError::new(pointer, detail)])
            .into_response()
    };
    let one = |name: &str| param(&params, name).ok().flatten();
    let Some(name) = one("document_name") else {
        return invalid("/document_name", "required");
    };
    let Some(hash) = one("document_hash") else {
        return invalid(
            "/document_hash",
            "required: the document's SHA-256, hex or base64",
        );
    };
    let hash = match DocumentHash::parse_text(hash) {
        Ok(hash) => hash,
        Err(e) => return invalid("/document_hash", &e.message),
    };
    let target =
        match (one("sub"), one("hkid")) {
            (Some(sub), None) => match state.provider.resident_for_subject(&client_id, sub).await {
                Ok(Some(resident_id)) => SigningTarget::Resident(resident_id),
                Ok(None) => {
                    return invalid(
                        "/sub",
                        "no resident has logged in to this service with this subject",
                    )
                }
                Err(e) => return e.into_response(),
            },
            (None, Some(hkid)) => match Hkid::parse(hkid) {
                Ok(hkid) => state.signing.anonymous_target(&hkid),
                Err(e) => return invalid("/hkid", &e.to_string()),
            },
            _ => return invalid(
                "/sub",
                "give exactly one of sub (a resident of this service) or hkid (anonymous signing)",
            ),
        };
    match state
        .signing
        .create_request(&client_id, target, name, hash.as_bytes())
        .await
    {
        Ok(request) => {
            no_store((StatusCode::CREATED, Json(view(&state.provider, &request))).into_response())
        }
        Err(e) => Problem::from(e).into_response(),
    }
}

async fn status(
    State(state): State<SigningRequestsState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (client_id, _) = match service(&state, &headers, &body).await {
        Ok(ok) => ok,
        Err(response) => return response,
    };
    match state.signing.get(&id, &client_id).await {
        Ok(request) => no_store(Json(view(&state.provider, &request)).into_response()),
        Err(e) => Problem::from(e).into_response(),
    }
}

async fn cancel(
    State(state): State<SigningRequestsState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (client_id, _) = match service(&state, &headers, &body).await {
        Ok(ok) => ok,
        Err(response) => return response,
    };
    match state.signing.cancel(&id, &client_id).await {
        Ok(request) => no_store(Json(view(&state.provider, &request)).into_response()),
        Err(e) => Problem::from(e).into_response(),
    }
}
