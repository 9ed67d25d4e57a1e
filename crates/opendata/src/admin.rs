//! The operator's API for publishers' tokens, under `/api/v1/admin/opendata/tokens` (the
//! administrator token): issue one (its secret is in this answer only), list them (never a
//! secret: none is stored), revoke one. Every change is audited with the actor `admin`.

use std::sync::Arc;

use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use axum::Json;
use bauhinia_core::admin::{Admin, AdminToken};
use bauhinia_core::extract::ApiJson;
use bauhinia_core::{ErrorCode, Problem};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::OpendataError;
use crate::publish::TokenRequest;
use crate::token::TokenRecord;
use crate::OpenData;

const TAG: &str = "opendata-admin";
/// Who the audit records name for these changes.
const ACTOR: &str = "admin";

#[derive(Debug, Clone)]
pub struct AdminState {
    pub opendata: Arc<OpenData>,
    pub token: Arc<AdminToken>,
}

impl FromRef<AdminState> for Arc<AdminToken> {
    fn from_ref(state: &AdminState) -> Arc<AdminToken> {
        Arc::clone(&state.token)
    }
}

pub fn router(state: AdminState) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(opendata_admin_create_token, opendata_admin_tokens))
        .routes(routes!(opendata_admin_revoke_token))
        .with_state(state)
}

/// A token, without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenDoc {
    pub id: String,
    pub name: String,
    pub user: String,
    pub sysadmin: bool,
    /// Organisation ids.
    pub organizations: Vec<String>,
    pub created_at_s: i64,
    pub last_used_at_s: Option<i64>,
    pub expires_at_s: Option<i64>,
    pub revoked_at_s: Option<i64>,
}

/// A token just issued: the secret is shown here once and never again.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedDoc {
    /// Send it as `Authorization: <token>` (as ckanapi does) or `X-CKAN-API-Key`.
    pub token: String,
    #[serde(flatten)]
    pub record: TokenDoc,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    pub tokens: Vec<TokenDoc>,
}

fn doc(t: TokenRecord) -> TokenDoc {
    TokenDoc {
        id: t.id,
        name: t.name,
        user: t.publisher,
        sysadmin: t.sysadmin,
        organizations: t.organizations,
        created_at_s: t.created_s,
        last_used_at_s: t.last_used_s,
        expires_at_s: t.expires_s,
        revoked_at_s: t.revoked_s,
    }
}

fn problem(e: OpendataError) -> Problem {
    match e {
        OpendataError::Invalid(faults) => {
            Problem::new(ErrorCode::OpendataTokenInvalid).errors(faults)
        }
        OpendataError::NotFound(_) => Problem::new(ErrorCode::OpendataTokenNotFound),
        other => Problem::internal(&other),
    }
}

/// Issues an API token to a publisher (a sysadmin, or an editor of organisations). The secret
/// is in this answer only; the server keeps its SHA-256. Audited.
#[utoipa::path(post, path = "/api/v1/admin/opendata/tokens", tag = TAG,
    request_body = TokenRequest,
    security(("admin_token" = [])),
    responses((status = 201, body = IssuedDoc),
        (status = 400, description = "Not JSON (`request.malformed_json`).", body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 401, description = "No administrator token (`admin.unauthorized`).", body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 415, description = "Not sent as JSON (`request.unsupported_media_type`).", body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid (`opendata.token_invalid`): `errors` names each.", body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn opendata_admin_create_token(
    State(state): State<AdminState>,
    _admin: Admin,
    ApiJson(asked): ApiJson<TokenRequest>,
) -> Result<(StatusCode, Json<IssuedDoc>), Problem> {
    let now_s = crate::http_write::now_s();
    let (token, record) = state
        .opendata
        .issue_token(&asked, ACTOR, now_s)
        .await
        .map_err(problem)?;
    Ok((
        StatusCode::CREATED,
        Json(IssuedDoc {
            token,
            record: doc(record),
        }),
    ))
}

/// Every publisher token, newest first, without secrets.
#[utoipa::path(get, path = "/api/v1/admin/opendata/tokens", tag = TAG,
    security(("admin_token" = [])),
    responses((status = 200, body = TokenList),
        (status = 401, description = "No administrator token (`admin.unauthorized`).", body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn opendata_admin_tokens(
    State(state): State<AdminState>,
    _admin: Admin,
) -> Result<Json<TokenList>, Problem> {
    let tokens = state
        .opendata
        .store()
        .tokens()
        .await
        .map_err(|e| problem(e.into()))?;
    Ok(Json(TokenList {
        tokens: tokens.into_iter().map(doc).collect(),
    }))
}

/// Revokes a token: from now on it opens nothing. Revoking twice keeps the first time. Audited.
#[utoipa::path(delete, path = "/api/v1/admin/opendata/tokens/{token}", tag = TAG,
    params(("token" = String, Path, description = "The token's id (not its secret).")),
    security(("admin_token" = [])),
    responses((status = 204, description = "Revoked."),
        (status = 401, description = "No administrator token (`admin.unauthorized`).", body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such token (`opendata.token_not_found`).", body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn opendata_admin_revoke_token(
    State(state): State<AdminState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    let now_s = crate::http_write::now_s();
    state
        .opendata
        .store()
        .revoke_token(&id, ACTOR, now_s)
        .await
        .map_err(problem)?;
    Ok(StatusCode::NO_CONTENT)
}
